package ahocorasick

import (
	"bytes"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"testing"
)

type hit struct{ pattern, end int }

// naive finds every occurrence of every pattern by brute force.
func naive(patterns [][]byte, data []byte) []hit {
	var hits []hit
	for i, p := range patterns {
		if len(p) == 0 {
			continue
		}
		for off := 0; ; {
			j := bytes.Index(data[off:], p)
			if j < 0 {
				break
			}
			hits = append(hits, hit{i, off + j + len(p)})
			off += j + 1
		}
	}
	sortHits(hits)
	return hits
}

func sortHits(h []hit) {
	sort.Slice(h, func(a, b int) bool {
		if h[a].end != h[b].end {
			return h[a].end < h[b].end
		}
		return h[a].pattern < h[b].pattern
	})
}

func run(t *testing.T, m *Matcher, data []byte, piece int) []hit {
	t.Helper()
	var hits []hit
	var s State
	for off := 0; off < len(data); off += piece {
		end := min(off+piece, len(data))
		base := off
		s = m.Run(s, data[off:end], func(p, e int) { hits = append(hits, hit{p, base + e}) })
	}
	sortHits(hits)
	return hits
}

func TestMatcher(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		data     string
	}{
		{"classic", []string{"he", "she", "his", "hers"}, "ushers and his sheep"},
		{"overlap", []string{"aa", "aaa", "a"}, "aaaaa"},
		{"nested", []string{"abcd", "bc", "c", "bcd"}, "xabcdabcd"},
		{"empty pattern", []string{"", "x"}, "xx"},
		{"no match", []string{"zzz"}, "abcabc"},
		{"duplicates", []string{"ab", "ab"}, "abab"},
		{"binary", []string{"\x00\xff", "\xff\x00"}, "\x00\xff\x00\xff"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ps [][]byte
			for _, p := range tc.patterns {
				ps = append(ps, []byte(p))
			}
			m, err := New(ps)
			if err != nil {
				t.Fatal(err)
			}
			want := naive(ps, []byte(tc.data))
			for _, piece := range []int{1, 2, 3, 1000} {
				got := run(t, m, []byte(tc.data), piece)
				if !equal(got, want) {
					t.Errorf("piece %d: got %v, want %v", piece, got, want)
				}
			}
		})
	}
}

func TestMatcherRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 200; round++ {
		alpha := 2 + r.IntN(6)
		if round%10 == 0 {
			alpha = 256
		}
		var ps [][]byte
		for i := 0; i < 1+r.IntN(20); i++ {
			p := make([]byte, 1+r.IntN(6))
			for j := range p {
				p[j] = byte(r.IntN(alpha))
			}
			ps = append(ps, p)
		}
		data := make([]byte, r.IntN(2000)+r.IntN(2)*r.IntN(40000))
		for j := range data {
			data[j] = byte(r.IntN(alpha))
		}
		m, err := New(ps)
		if err != nil {
			t.Fatal(err)
		}
		want := naive(ps, data)
		got := run(t, m, data, 1+r.IntN(64))
		if !equal(got, want) {
			t.Fatalf("round %d: %d hits, want %d", round, len(got), len(want))
		}
	}
}

func TestAllBytesUsed(t *testing.T) {
	var all []byte
	for b := 0; b < 256; b++ {
		all = append(all, byte(b))
	}
	ps := [][]byte{all, {7, 8}}
	m, err := New(ps)
	if err != nil {
		t.Fatal(err)
	}
	data := append(append([]byte{1, 2}, all...), all...)
	if got, want := run(t, m, data, 17), naive(ps, data); !equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func equal(a, b []hit) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func BenchmarkRun(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	var ps [][]byte
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/=-_%"
	for i := 0; i < 200; i++ {
		p := make([]byte, 8+r.IntN(40))
		for j := range p {
			p[j] = letters[r.IntN(len(letters))]
		}
		ps = append(ps, p)
	}
	m, err := New(ps)
	if err != nil {
		b.Fatal(err)
	}
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = letters[r.IntN(len(letters))]
	}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		m.Run(0, data, func(int, int) { n++ })
	}
	b.ReportMetric(float64(m.States()), "states")
}

func BenchmarkRunRealData(b *testing.B) {
	data, err := os.ReadFile("/usr/bin/go")
	if err != nil {
		data, _ = os.ReadFile("/proc/self/exe")
	}
	r := rand.New(rand.NewPCG(3, 4))
	var ps [][]byte
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/=-_%"
	for i := 0; i < 200; i++ {
		p := make([]byte, 8+r.IntN(40))
		for j := range p {
			p[j] = letters[r.IntN(len(letters))]
		}
		ps = append(ps, p)
	}
	m, _ := New(ps)
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		m.Run(0, data, func(int, int) {})
	}
}

func BenchmarkRunSmall(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	var ps [][]byte
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/=-_%"
	for i := 0; i < 200; i++ {
		p := make([]byte, 8+r.IntN(40))
		for j := range p {
			p[j] = letters[r.IntN(len(letters))]
		}
		ps = append(ps, p)
	}
	m, _ := New(ps)
	data, err := os.ReadFile("/proc/self/exe")
	if err != nil {
		b.Skip(err)
	}
	for _, size := range []int{512, 2048, 8192, 32768} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for i := 0; i < b.N; i++ {
				for off := 0; off+size <= len(data); off += size {
					m.Run(0, data[off:off+size], func(int, int) {})
				}
			}
		})
	}
}
