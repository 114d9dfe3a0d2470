// Package mask replaces known byte strings in a stream as it passes: a
// build step's output goes through it so that no secret value reaches the
// build log.
//
// Every occurrence of any pattern in the whole stream is replaced, however
// the stream is cut into writes; occurrences that overlap or touch are
// replaced together, by one copy of the replacement. In other words, the
// output is what masking the whole stream at once would give: mark every
// byte that lies inside some occurrence of some pattern, and replace each
// maximal run of marked bytes by the replacement.
//
// Bytes are held back only as long as they could still turn out to be
// part of an occurrence: after each write, what is held is the longest
// suffix of the stream so far that is a proper prefix of some pattern (so
// at most the longest pattern's length minus one bytes); everything before
// it is written through at once, a complete occurrence replaced.
package mask

import (
	"errors"
	"fmt"
	"io"
)

// Writer masks what is written to it and writes the result to the
// underlying writer. It is not safe for concurrent use.
type Writer struct {
	w    io.Writer
	a    *automaton // nil: no patterns, pass-through
	repl []byte

	state int32
	pos   int64 // bytes written to the Writer so far (stream position)
	out   int64 // bytes of the stream decided (written or replaced)
	// hold is the stream's bytes [out, pos) between writes.
	hold []byte
	// spans are the covered parts of [out, pos), merged (overlapping or
	// touching occurrences are one span), in order; spans[head:] are live.
	spans []span
	head  int
	// inSpan: the last decided byte (out-1) was covered, and its
	// replacement written.
	inSpan bool

	err    error
	closed bool
}

type span struct{ start, end int64 }

// maxSpans bounds the spans collected within one write before the
// decided part is written out (keeps memory bounded on huge writes full
// of occurrences).
const maxSpans = 256

var errClosed = errors.New("mask: write after close")

// Limits on the patterns of one Set: the automaton has up to one state
// per pattern byte, each with a row of transitions (4 bytes for each
// distinct byte value the patterns use, plus one).
const (
	MaxPatternBytes = 1 << 20
	maxTableBytes   = 256 << 20
)

// Set is a compiled set of patterns. It is immutable: any number of
// Writers, in any goroutines, can share it.
type Set struct {
	a *automaton // nil: no patterns
}

// Compile compiles patterns for Writers. Empty patterns are ignored. It
// fails if the patterns total more than MaxPatternBytes bytes, or their
// automaton would be too large.
func Compile(patterns [][]byte) (*Set, error) {
	total := 0
	for _, p := range patterns {
		total += len(p)
	}
	if total > MaxPatternBytes {
		return nil, fmt.Errorf("mask: the patterns total %d bytes, more than %d", total, MaxPatternBytes)
	}
	a, err := compile(patterns)
	if err != nil {
		return nil, err
	}
	return &Set{a: a}, nil
}

// New returns a Writer that writes to w what is written to it, with every
// occurrence of every pattern replaced by replacement. Empty patterns are
// ignored; with none left, the Writer passes everything through. New
// panics if Compile(patterns) fails.
func New(w io.Writer, patterns [][]byte, replacement []byte) *Writer {
	s, err := Compile(patterns)
	if err != nil {
		panic(err)
	}
	return s.Writer(w, replacement)
}

// Writer returns a Writer that writes to w what is written to it, with
// every occurrence of one of s's patterns replaced by replacement (which
// is copied).
func (s *Set) Writer(w io.Writer, replacement []byte) *Writer {
	mw := &Writer{w: w, a: s.a, repl: append([]byte(nil), replacement...)}
	if mw.a != nil {
		mw.hold = make([]byte, 0, mw.a.maxLen)
	}
	return mw
}

// Held returns how many bytes the Writer holds back: the length of the
// longest suffix of the stream so far that is a proper prefix of a
// pattern.
func (w *Writer) Held() int { return len(w.hold) }

// Write masks p into the stream. It returns len(p) unless writing to the
// underlying writer failed; after such an error every later call fails
// with it.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.closed {
		return 0, errClosed
	}
	if w.a == nil {
		n, err := w.w.Write(p)
		if err == nil && n < len(p) {
			err = io.ErrShortWrite
		}
		w.err = err
		return n, err
	}
	base := w.pos // stream position of p[0]
	a := w.a
	st := w.state
	for i, b := range p {
		st = a.delta[st*a.nclass+int32(a.class[b])]
		if l := a.longest[st]; l > 0 {
			end := base + int64(i) + 1
			w.addSpan(end-int64(l), end)
			if len(w.spans)-w.head > maxSpans {
				w.pos = end
				if err := w.emit(end-int64(a.hold[st]), p, base); err != nil {
					return 0, err
				}
			}
		}
	}
	w.state = st
	w.pos = base + int64(len(p))
	if err := w.emit(w.pos-int64(a.hold[st]), p, base); err != nil {
		return 0, err
	}
	w.keep(p, base)
	return len(p), nil
}

// Close writes out what is held (masked: a held part that is itself
// covered is replaced). It does not close the underlying writer.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err != nil || w.a == nil {
		return w.err
	}
	if err := w.emit(w.pos, nil, w.pos); err != nil {
		return err
	}
	w.hold = w.hold[:0]
	return nil
}

// addSpan records that [start, end) is covered. Occurrences arrive in
// order of their ends, so only the last spans can overlap or touch it.
func (w *Writer) addSpan(start, end int64) {
	for len(w.spans) > w.head {
		last := w.spans[len(w.spans)-1]
		if last.end < start {
			break
		}
		start = min(start, last.start)
		end = max(end, last.end)
		w.spans = w.spans[:len(w.spans)-1]
	}
	w.spans = append(w.spans, span{start, end})
}

// emit decides the stream's bytes [out, limit) and writes them: covered
// runs as the replacement, others as they are. The bytes come from hold
// (positions [base-len(hold), base)) and p (positions [base, ...)).
func (w *Writer) emit(limit int64, p []byte, base int64) error {
	for w.out < limit {
		if w.head < len(w.spans) && w.spans[w.head].start <= w.out {
			s := w.spans[w.head]
			if !w.inSpan {
				if err := w.write(w.repl); err != nil {
					return err
				}
				w.inSpan = true
			}
			if s.end <= limit {
				w.out = s.end
				w.head++
				if w.head == len(w.spans) {
					w.spans, w.head = w.spans[:0], 0
				}
			} else {
				w.out = limit
			}
			continue
		}
		e := limit
		if w.head < len(w.spans) {
			e = min(e, w.spans[w.head].start)
		}
		if err := w.writeRange(w.out, e, p, base); err != nil {
			return err
		}
		w.inSpan = false
		w.out = e
	}
	return nil
}

// writeRange writes the stream's bytes [from, to) from hold and p.
func (w *Writer) writeRange(from, to int64, p []byte, base int64) error {
	holdBase := base - int64(len(w.hold))
	if from < base {
		if err := w.write(w.hold[from-holdBase : min(to, base)-holdBase]); err != nil {
			return err
		}
		from = base
	}
	if to > from {
		return w.write(p[from-base : to-base])
	}
	return nil
}

// keep makes hold the stream's undecided bytes [out, pos) at the end of a
// write of p at base.
func (w *Writer) keep(p []byte, base int64) {
	holdBase := base - int64(len(w.hold))
	if w.out >= base {
		w.hold = append(w.hold[:0], p[w.out-base:]...)
		return
	}
	n := copy(w.hold, w.hold[w.out-holdBase:])
	w.hold = append(w.hold[:n], p...)
}

func (w *Writer) write(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	n, err := w.w.Write(b)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = err
	}
	return err
}

// automaton is an Aho–Corasick automaton compiled to a DFA over byte
// classes. A state's depth (its depth in the trie) is the length of the
// longest suffix of the input so far that is a prefix of some pattern;
// its hold is the length of the longest such suffix that is a proper
// prefix (one that more input could extend into an occurrence); its
// longest is the length of the longest pattern that ends there (0 if
// none).
type automaton struct {
	class   [256]byte
	nclass  int32
	delta   []int32 // state*nclass+class -> next state
	hold    []int32 // by state number
	longest []int32 // by state number
	maxLen  int
}

func compile(patterns [][]byte) (*automaton, error) {
	a := &automaton{}
	var used [256]bool
	have := false
	for _, p := range patterns {
		if len(p) == 0 {
			continue
		}
		have = true
		a.maxLen = max(a.maxLen, len(p))
		for _, b := range p {
			used[b] = true
		}
	}
	if !have {
		return nil, nil
	}
	// Every byte used by a pattern gets a class of its own; all others
	// share class 0.
	n := 0
	for _, u := range used {
		if u {
			n++
		}
	}
	if n == 256 {
		for b := range a.class {
			a.class[b] = byte(b)
		}
	} else {
		c := 1
		for b, u := range used {
			if u {
				a.class[b] = byte(c)
				c++
			}
		}
		n++
	}
	a.nclass = int32(n)
	states := 1
	for _, p := range patterns {
		states += len(p)
	}
	if int64(states)*int64(n)*4 > maxTableBytes {
		return nil, fmt.Errorf("mask: the patterns' automaton would take more than %d MiB", maxTableBytes>>20)
	}

	// Trie: next is by state*n+class, -1 when absent.
	next := make([]int32, n, states*n)
	for i := range next {
		next[i] = -1
	}
	depth := []int32{0}
	longest := []int32{0}
	for _, p := range patterns {
		if len(p) == 0 {
			continue
		}
		s := int32(0)
		for _, b := range p {
			c := int32(a.class[b])
			if next[s*int32(n)+c] < 0 {
				t := int32(len(depth))
				next[s*int32(n)+c] = t
				depth = append(depth, depth[s]+1)
				longest = append(longest, 0)
				for range n {
					next = append(next, -1)
				}
			}
			s = next[s*int32(n)+c]
		}
		longest[s] = int32(len(p))
	}

	// A state with a child is a proper prefix of a pattern; a leaf is a
	// whole pattern that nothing extends, and holds what its failure
	// state holds.
	hold := make([]int32, len(depth))
	for s := range depth {
		for c := 0; c < n; c++ {
			if next[s*n+c] >= 0 {
				hold[s] = depth[s]
				break
			}
		}
	}
	leaf := func(s int32) bool { return hold[s] == 0 && s != 0 }

	// Failure links, breadth first, turning the trie into a DFA. A
	// state's longest is its own pattern's length if it ends one, else
	// its failure state's (which is shorter, so a state ending a pattern
	// keeps its own). Failure states are shallower, so each is done
	// before the states that fail to it.
	fail := make([]int32, len(depth))
	queue := make([]int32, 0, len(depth))
	for c := 0; c < n; c++ {
		if t := next[c]; t > 0 {
			queue = append(queue, t)
		} else {
			next[c] = 0
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		f := fail[s]
		if longest[s] == 0 {
			longest[s] = longest[f]
		}
		if leaf(s) {
			hold[s] = hold[f]
		}
		for c := 0; c < n; c++ {
			i := s*int32(n) + int32(c)
			if t := next[i]; t >= 0 {
				fail[t] = next[f*int32(n)+int32(c)]
				queue = append(queue, t)
			} else {
				next[i] = next[f*int32(n)+int32(c)]
			}
		}
	}
	a.delta, a.hold, a.longest = next, hold, longest
	return a, nil
}
