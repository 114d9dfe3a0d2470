package mask

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

// reference masks data all at once: every byte inside an occurrence of a
// pattern is covered, and each maximal run of covered bytes becomes one
// copy of repl.
func reference(patterns [][]byte, data, repl []byte) []byte {
	covered := make([]bool, len(data))
	for _, p := range patterns {
		if len(p) == 0 {
			continue
		}
		for off := 0; ; {
			j := bytes.Index(data[off:], p)
			if j < 0 {
				break
			}
			for k := off + j; k < off+j+len(p); k++ {
				covered[k] = true
			}
			off += j + 1
		}
	}
	var out []byte
	for i, b := range data {
		switch {
		case !covered[i]:
			out = append(out, b)
		case i == 0 || !covered[i-1]:
			out = append(out, repl...)
		}
	}
	return out
}

// heldRef is the length of the longest suffix of data that is a proper
// prefix of some pattern: what could still grow into an occurrence.
func heldRef(patterns [][]byte, data []byte) int {
	best := 0
	for _, p := range patterns {
		for n := min(len(p)-1, len(data)); n > best; n-- {
			if bytes.Equal(data[len(data)-n:], p[:n]) {
				best = n
				break
			}
		}
	}
	return best
}

func bs(ss ...string) [][]byte {
	var out [][]byte
	for _, s := range ss {
		out = append(out, []byte(s))
	}
	return out
}

// feed writes chunks one by one and checks, after each, that what has
// been written out is final (a prefix of want) and that exactly the
// expected bytes are held.
func feed(t *testing.T, patterns [][]byte, chunks [][]byte, repl []byte) []byte {
	t.Helper()
	var all []byte
	for _, c := range chunks {
		all = append(all, c...)
	}
	want := reference(patterns, all, repl)
	var out bytes.Buffer
	w := New(&out, patterns, repl)
	var stream []byte
	for i, c := range chunks {
		n, err := w.Write(c)
		if err != nil || n != len(c) {
			t.Fatalf("write %d: n=%d err=%v", i, n, err)
		}
		stream = append(stream, c...)
		if !bytes.HasPrefix(want, out.Bytes()) {
			t.Fatalf("after write %d: output so far is not a prefix of the whole stream's masking", i)
		}
		if h, wh := w.Held(), heldRef(patterns, stream); h != wh {
			t.Fatalf("after write %d: holds %d bytes, want %d", i, h, wh)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Fatalf("output differs from masking the whole stream at once (len %d, want %d)", out.Len(), len(want))
	}
	return out.Bytes()
}

func TestTable(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		chunks   []string
		want     string
	}{
		{"no patterns", nil, []string{"abc", "def"}, "abcdef"},
		{"only empty patterns", []string{"", ""}, []string{"abc"}, "abc"},
		{"one write", []string{"secret"}, []string{"a secret here"}, "a *** here"},
		{"split", []string{"secret"}, []string{"a sec", "r", "et here"}, "a *** here"},
		{"byte by byte", []string{"secret"}, strings.Split("xsecretx", ""), "x***x"},
		{"at start and end", []string{"secret"}, []string{"secret", "mid", "secret"}, "***mid***"},
		{"twice", []string{"secret"}, []string{"secret secret"}, "*** ***"},
		{"adjacent merge", []string{"secret"}, []string{"secretsecret"}, "***"},
		{"adjacent across writes", []string{"secret"}, []string{"secret", "secret"}, "***"},
		{"overlap aa aaa", []string{"aa", "aaa"}, []string{"baaaaab"}, "b***b"},
		{"overlapping self", []string{"abab"}, []string{"xababab", "y"}, "x***y"},
		{"single a", []string{"aa"}, []string{"bab"}, "bab"},
		{"prefix of another", []string{"sec", "secret"}, []string{"secre"}, "***re"},
		{"prefix of another, whole", []string{"sec", "secret"}, []string{"secrets"}, "***s"},
		{"inner pattern", []string{"abcd", "c"}, []string{"xabcy"}, "xab***y"},
		{"inner pattern then outer", []string{"abcd", "c"}, []string{"xab", "cd", "y"}, "x***y"},
		{"partial never completed", []string{"secret"}, []string{"secre", "t"[:0], "x"}, "secrex"},
		{"partial at end", []string{"secret"}, []string{"xx secr"}, "xx secr"},
		{"restart inside partial", []string{"aab"}, []string{"aa", "aab"}, "aa***"},
		{"binary", []string{"\x00\xff\x00"}, []string{"\x01\x00\xff", "\x00\x02"}, "\x01***\x02"},
		{"empty writes", []string{"ab"}, []string{"", "a", "", "b", ""}, "***"},
		{"duplicates", []string{"ab", "ab"}, []string{"abcab"}, "***c***"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var chunks [][]byte
			for _, c := range tc.chunks {
				chunks = append(chunks, []byte(c))
			}
			got := feed(t, bs(tc.patterns...), chunks, []byte("***"))
			if string(got) != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestHeldAndFlushedOnClose(t *testing.T) {
	var out bytes.Buffer
	w := New(&out, bs("hunter2!"), []byte("[masked]"))
	if _, err := w.Write([]byte("password: hunt")); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "password: " {
		t.Fatalf("written through %q, want %q", got, "password: ")
	}
	if w.Held() != 4 {
		t.Fatalf("holds %d bytes, want 4", w.Held())
	}
	if _, err := w.Write([]byte("er")); err != nil {
		t.Fatal(err)
	}
	if out.String() != "password: " || w.Held() != 6 {
		t.Fatalf("after more of the prefix: written %d bytes, holding %d", out.Len(), w.Held())
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "password: hunter" {
		t.Fatalf("after Close %q", got)
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Fatal("write after Close succeeded")
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestCoveredHeldPartFlushedMasked(t *testing.T) {
	// "ab" is an occurrence and also a prefix of "abc": it is held, and
	// Close writes it replaced.
	var out bytes.Buffer
	w := New(&out, bs("ab", "abcdef"), []byte("#"))
	w.Write([]byte("xxab"))
	if out.String() != "xx" || w.Held() != 2 {
		t.Fatalf("written %q, holding %d", out.String(), w.Held())
	}
	w.Close()
	if out.String() != "xx#" {
		t.Fatalf("got %q", out.String())
	}
}

type errWriter struct{ n int }

func (e *errWriter) Write(p []byte) (int, error) {
	if e.n <= 0 {
		return 0, errors.New("broken")
	}
	e.n--
	return len(p), nil
}

func TestWriteError(t *testing.T) {
	w := New(&errWriter{n: 1}, bs("secret"), []byte("*"))
	if _, err := w.Write([]byte("a secret b")); err == nil {
		t.Fatal("error not reported")
	}
	if _, err := w.Write([]byte("more")); err == nil {
		t.Fatal("error not sticky")
	}
	if err := w.Close(); err == nil {
		t.Fatal("Close did not report the error")
	}
	p := New(&errWriter{}, nil, nil)
	if _, err := p.Write([]byte("x")); err == nil {
		t.Fatal("pass-through error not reported")
	}
}

func TestCompileLimits(t *testing.T) {
	if _, err := Compile([][]byte{make([]byte, MaxPatternBytes)}); err != nil {
		t.Fatal(err)
	}
	if _, err := Compile([][]byte{make([]byte, MaxPatternBytes), {1}}); err == nil {
		t.Fatal("too many pattern bytes accepted")
	}
	// Every byte value in use: 256 classes per state are too many for
	// a megabyte of patterns.
	var all []byte
	for i := 0; i < 256; i++ {
		all = append(all, byte(i))
	}
	if _, err := Compile([][]byte{all, make([]byte, MaxPatternBytes-256)}); err == nil {
		t.Fatal("huge automaton accepted")
	}
}

func TestSetShared(t *testing.T) {
	s, err := Compile(bs("secret"))
	if err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	wa, wb := s.Writer(&a, []byte("A")), s.Writer(&b, []byte("B"))
	wa.Write([]byte("1 sec"))
	wb.Write([]byte("2 secret"))
	wa.Write([]byte("ret"))
	wa.Close()
	wb.Close()
	if a.String() != "1 A" || b.String() != "2 B" {
		t.Fatalf("got %q and %q", a.String(), b.String())
	}
}

// countWriter counts bytes and remembers the last few.
type countWriter struct {
	n    int64
	tail []byte
}

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	c.tail = append(c.tail, p...)
	if len(c.tail) > 64 {
		c.tail = append(c.tail[:0], c.tail[len(c.tail)-64:]...)
	}
	return len(p), nil
}

func TestLongInputBoundedMemory(t *testing.T) {
	long := append(bytes.Repeat([]byte("a"), 63), 'b')
	cw := &countWriter{}
	w := New(cw, [][]byte{long, []byte("xyz")}, []byte("*"))
	chunk := bytes.Repeat([]byte("a"), 1<<16)
	for i := 0; i < 160; i++ { // 10 MiB of a prefix that never completes
		w.Write(chunk)
		if w.Held() != 63 || cap(w.hold) > len(long) {
			t.Fatalf("holds %d bytes (cap %d)", w.Held(), cap(w.hold))
		}
	}
	// Many disjoint occurrences in one huge write: spans stay bounded.
	big := bytes.Repeat([]byte("xyz."), 1<<18)
	w.Write(big)
	if len(w.spans) > maxSpans+1 {
		t.Fatalf("%d spans kept", len(w.spans))
	}
	w.Close()
	if want := int64(160<<16) + int64(1<<18)*2; cw.n != want {
		t.Fatalf("wrote %d bytes, want %d", cw.n, want)
	}
}

// TestRandom plants occurrences of random, often overlapping patterns in
// random data and cuts it at random places.
func TestRandom(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	n := 3000
	if testing.Short() {
		n = 300
	}
	for iter := 0; iter < n; iter++ {
		alpha := "ab"[:1+r.IntN(2)] + "cd"[:r.IntN(3)]
		word := func(max int) []byte {
			b := make([]byte, 1+r.IntN(max))
			for i := range b {
				b[i] = alpha[r.IntN(len(alpha))]
			}
			return b
		}
		var patterns [][]byte
		for k := r.IntN(5); k >= 0; k-- {
			switch r.IntN(4) {
			case 0: // a prefix of an earlier pattern
				if len(patterns) > 0 {
					p := patterns[r.IntN(len(patterns))]
					patterns = append(patterns, p[:r.IntN(len(p)+1)])
					continue
				}
			case 1: // a run of one byte ("aa", "aaa")
				patterns = append(patterns, bytes.Repeat([]byte{alpha[0]}, 1+r.IntN(4)))
				continue
			}
			patterns = append(patterns, word(8))
		}
		var data []byte
		for len(data) < 200 {
			if r.IntN(3) == 0 && len(patterns) > 0 {
				data = append(data, patterns[r.IntN(len(patterns))]...)
			} else {
				data = append(data, word(6)...)
				if r.IntN(2) == 0 {
					data = append(data, 'z')
				}
			}
		}
		var chunks [][]byte
		for rest := data; len(rest) > 0; {
			k := min(r.IntN(12), len(rest))
			chunks = append(chunks, rest[:k])
			rest = rest[k:]
		}
		repl := []byte("<" + string(word(3)) + ">")
		feed(t, patterns, chunks, repl)
		if t.Failed() {
			t.Logf("patterns %q data %q", patterns, data)
			return
		}
	}
}

// FuzzMask: for any patterns, data and cuts, the streamed output equals
// masking the whole input at once. Bytes are folded onto a small alphabet
// half of the time so that occurrences and overlaps are common.
func FuzzMask(f *testing.F) {
	f.Add([]byte("aa\x00aaa"), []byte("xaaaaay"), []byte{1, 2, 3}, byte(0))
	f.Add([]byte("sec\x00secret"), []byte("a secret, a sec"), []byte{5, 0, 1}, byte(1))
	f.Add([]byte("abcd\x00c\x00bc"), []byte("xabcdabcy"), []byte{2}, byte(1))
	f.Add([]byte("\x00"), []byte("abc"), []byte{}, byte(0))
	f.Fuzz(func(t *testing.T, pats, data, cuts []byte, mode byte) {
		if len(pats) > 256 || len(data) > 4096 {
			return
		}
		fold := func(b []byte) []byte {
			if mode&1 == 0 {
				return b
			}
			out := make([]byte, len(b))
			for i, c := range b {
				if c == 0 {
					out[i] = 0
				} else {
					out[i] = 'a' + c%3
				}
			}
			return out
		}
		patterns := bytes.Split(fold(pats), []byte{0})
		data = fold(data)
		var chunks [][]byte
		for i, rest := 0, data; len(rest) > 0; i++ {
			k := len(rest)
			if len(cuts) > 0 {
				k = min(int(cuts[i%len(cuts)]%16), len(rest))
			}
			chunks = append(chunks, rest[:k])
			rest = rest[k:]
			if k == 0 && i > 4*len(data)+16 {
				chunks = append(chunks, rest)
				break
			}
		}
		repl := []byte("*")
		if mode&2 != 0 {
			repl = nil
		}
		feed(t, patterns, chunks, repl)
	})
}

func BenchmarkWrite(b *testing.B) {
	var patterns [][]byte
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200; i++ {
		p := make([]byte, 40)
		for j := range p {
			p[j] = byte('!' + r.IntN(90))
		}
		patterns = append(patterns, p)
	}
	data := make([]byte, 1<<16)
	for i := range data {
		data[i] = byte('!' + r.IntN(90))
	}
	w := New(&countWriter{}, patterns, []byte("***"))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		w.Write(data)
	}
}
