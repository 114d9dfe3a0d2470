package secretscan

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"testing"
)

func collect(s *Scanner, name string, data []byte, pieces []int) []Match {
	var got []Match
	fn := func(m Match) { got = append(got, m) }
	if pieces == nil {
		s.Scan(name, data, fn)
	} else {
		st := s.Stream(name, fn)
		for i, k := 0, 0; i < len(data); k++ {
			n := min(pieces[k%len(pieces)], len(data)-i)
			st.Write(data[i : i+n])
			i += n
		}
		st.Close()
	}
	sort.Slice(got, func(a, b int) bool {
		if got[a].Offset != got[b].Offset {
			return got[a].Offset < got[b].Offset
		}
		return fmt.Sprint(got[a]) < fmt.Sprint(got[b])
	})
	return got
}

// TestStreamEqualsScan feeds random texts full of samples and literals in
// random pieces and expects the same matches as one Scan.
func TestStreamEqualsScan(t *testing.T) {
	lits := [][]byte{[]byte(rnd(alnum, 12)), []byte(rnd(alnum, 30)), []byte("AKIA")}
	s, err := NewScanner(Options{Literals: lits})
	if err != nil {
		t.Fatal(err)
	}
	sm := samples()
	for round := 0; round < 100; round++ {
		var b bytes.Buffer
		for b.Len() < 20000+rand.IntN(20000) {
			switch rand.IntN(4) {
			case 0:
				b.WriteString(sm[rand.IntN(len(sm))].text)
			case 1:
				b.Write(lits[rand.IntN(len(lits))])
			default:
				b.WriteString(rnd(alnum+" \n:/@=", rand.IntN(300)))
			}
		}
		data := b.Bytes()
		want := collect(s, ".netrc", data, nil)
		pieces := []int{1 + rand.IntN(10), 1 + rand.IntN(5000), 1 + rand.IntN(70000)}
		got := collect(s, ".netrc", data, pieces)
		if len(got) != len(want) {
			t.Fatalf("round %d: stream found %d matches, scan %d", round, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("round %d: match %d: stream %+v, scan %+v", round, i, got[i], want[i])
			}
		}
	}
}

// TestScanAllReused: one Stream scanning inputs one after the other with
// ScanAll finds in each what Scan finds in it alone, whatever came
// before (an input cut in the middle of a sample, a name that enables
// other rules).
func TestScanAllReused(t *testing.T) {
	sm := samples()
	st := NewStream()
	found := 0
	for round := 0; round < 300; round++ {
		var b bytes.Buffer
		for n := rand.IntN(4); n >= 0; n-- {
			if rand.IntN(2) == 0 {
				x := sm[rand.IntN(len(sm))].text
				b.WriteString(x[:rand.IntN(len(x)+1)])
			} else {
				b.WriteString(rnd(alnum+" \n:/@=", rand.IntN(100)))
			}
		}
		data := b.Bytes()
		name := []string{"", ".netrc", ".npmrc", "id_rsa"}[rand.IntN(4)]
		want := collect(std(), name, data, nil)
		var got []Match
		st.ScanAll(name, data, func(m Match) { got = append(got, m) })
		sort.Slice(got, func(a, b int) bool {
			if got[a].Offset != got[b].Offset {
				return got[a].Offset < got[b].Offset
			}
			return fmt.Sprint(got[a]) < fmt.Sprint(got[b])
		})
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("round %d: ScanAll found %d matches, Scan %d", round, len(got), len(want))
		}
		found += len(got)
	}
	if found == 0 {
		t.Fatal("no match in any round: the test tests nothing")
	}
}

func TestLiteralOffsets(t *testing.T) {
	secret := rnd(alnum, 20)
	s, err := NewScanner(Options{Rules: []string{}, Literals: [][]byte{[]byte(secret)}})
	if err != nil {
		t.Fatal(err)
	}
	data := []byte(strings.Repeat("x", 5000) + secret + strings.Repeat("y", 100000) + secret)
	got := collect(s, "", data, []int{4096})
	if len(got) != 2 || got[0].Offset != 5000 || got[1].Offset != int64(5000+20+100000) || got[0].Literal != 0 || got[0].Len != 20 {
		t.Fatalf("got %+v", got)
	}
}

func TestUnknownRule(t *testing.T) {
	if _, err := NewScanner(Options{Rules: []string{"no-such-rule"}}); err == nil {
		t.Fatal("want an error")
	}
}

func benchData(b *testing.B) []byte {
	var buf bytes.Buffer
	for _, f := range []string{"/proc/self/exe", "/usr/share/common-licenses/GPL-3", "/etc/services"} {
		d, err := os.ReadFile(f)
		if err == nil {
			buf.Write(d)
		}
	}
	if buf.Len() == 0 {
		b.Skip("no data")
	}
	return buf.Bytes()
}

func BenchmarkScan(b *testing.B) {
	data := benchData(b)
	var lits [][]byte
	for i := 0; i < 20; i++ {
		lits = append(lits, []byte(rnd(alnum, 24)))
	}
	s, err := NewScanner(Options{Literals: lits})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		st := s.Stream("", func(Match) { n++ })
		for off := 0; off < len(data); off += 1 << 20 {
			st.Write(data[off:min(off+1<<20, len(data))])
		}
		st.Close()
	}
}
