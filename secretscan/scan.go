// Package secretscan finds credentials in bytes: well-known token formats,
// private keys, passwords in URLs and credential files (the pattern
// rules, see Rules), and exact known values given by the caller (the
// literals). One multi-pattern automaton holds every rule keyword and
// every literal, so the input is read once whatever the number of rules
// and values.
//
// A Match names a rule or a literal and where it is; it never carries the
// matched bytes, so that reporting a match cannot leak what it matched.
//
// Scan and ScanFile cover the common case. A Scanner built with
// NewScanner adds literals and rule selection, and its Stream finds the
// same matches in an input fed in pieces of any size.
package secretscan

import (
	"fmt"
	"sync"

	"github.com/hushbuild/hushbuild/secretscan/ahocorasick"
)

// Match is one finding.
type Match struct {
	// Rule is the ID of the pattern rule that matched, or "" for a
	// literal.
	Rule string
	// Literal is the index in Options.Literals of the literal that
	// matched, or -1 for a rule.
	Literal int
	// Offset and Len locate the match in the input.
	Offset int64
	Len    int
}

// Options configure a Scanner.
type Options struct {
	// Rules are the IDs of the pattern rules to run. Nil means every
	// built-in rule; an empty non-nil slice means none.
	Rules []string
	// Literals are exact byte strings to find. Empty ones are ignored.
	Literals [][]byte
}

// Scanner is compiled once and is safe for concurrent use.
type Scanner struct {
	ac       *ahocorasick.Matcher
	rules    []*Rule
	literals int
	// targets maps an automaton pattern to what it stands for: a literal
	// index (>= 0) or a keyword of some rules (^rule-list index).
	targets  []int
	kwRules  [][]int // rule indexes per keyword entry
	maxBack  int
	maxAhead int
	maxKW    int
}

// NewScanner compiles a scanner.
func NewScanner(opts Options) (*Scanner, error) {
	s := &Scanner{literals: len(opts.Literals)}
	if opts.Rules == nil {
		s.rules = builtin
	} else {
		for _, id := range opts.Rules {
			r := lookup(id)
			if r == nil {
				return nil, fmt.Errorf("secretscan: unknown rule %q", id)
			}
			s.rules = append(s.rules, r)
		}
	}
	var patterns [][]byte
	for i, l := range opts.Literals {
		patterns = append(patterns, l)
		s.targets = append(s.targets, i)
	}
	kwIndex := map[string]int{}
	for ri, r := range s.rules {
		s.maxBack = max(s.maxBack, r.back)
		s.maxAhead = max(s.maxAhead, r.ahead)
		for _, kw := range r.Keywords {
			s.maxKW = max(s.maxKW, len(kw))
			k, ok := kwIndex[kw]
			if !ok {
				k = len(s.kwRules)
				kwIndex[kw] = k
				s.kwRules = append(s.kwRules, nil)
				patterns = append(patterns, []byte(kw))
				s.targets = append(s.targets, ^k)
			}
			s.kwRules[k] = append(s.kwRules[k], ri)
		}
	}
	ac, err := ahocorasick.New(patterns)
	if err != nil {
		return nil, fmt.Errorf("secretscan: %w", err)
	}
	s.ac = ac
	return s, nil
}

func lookup(id string) *Rule {
	for _, r := range builtin {
		if r.ID == id {
			return r
		}
	}
	return nil
}

var (
	defaultOnce    sync.Once
	defaultScanner *Scanner
)

func std() *Scanner {
	defaultOnce.Do(func() {
		s, err := NewScanner(Options{})
		if err != nil {
			panic(err) // the built-in rules always compile
		}
		defaultScanner = s
	})
	return defaultScanner
}

// Scan runs every built-in rule over data.
func Scan(data []byte, fn func(Match)) { std().Scan("", data, fn) }

// ScanFile runs every built-in rule over data, the contents of a file
// called name (which enables the rules for credential files so named).
func ScanFile(name string, data []byte, fn func(Match)) { std().Scan(name, data, fn) }

// Scan reports the matches in data, the contents of a file called name
// ("" when the data has no name).
func (s *Scanner) Scan(name string, data []byte, fn func(Match)) {
	st := &Stream{s: s}
	st.ScanAll(name, data, fn)
}

// NewStream is a Stream of the built-in rules, for ScanAll.
func NewStream() *Stream { return std().Stream("", nil) }

// ScanAll reports the matches in data, the whole of an input called name,
// as Scanner.Scan does. It starts st anew (Reset), so that one Stream
// scans many small inputs one after the other without allocating for
// each.
func (st *Stream) ScanAll(name string, data []byte, fn func(Match)) {
	st.Reset(name, fn)
	st.scanPiece(data)
	// All of data is at hand: no tail to keep.
	for _, h := range st.pending {
		st.check(h, data, 0, true)
	}
	st.pending = st.pending[:0]
}

// Stream is one input fed in pieces. It finds every match that Scan would
// find in the concatenation of the pieces, reported with offsets in that
// concatenation. It keeps a few kilobytes of context whatever the input's
// size. A Stream is not safe for concurrent use; Reset reuses it.
type Stream struct {
	s       *Scanner
	fn      func(Match)
	state   ahocorasick.State
	off     int64 // bytes written so far
	tail    []byte
	tailOff int64 // offset of tail[0]
	spare   []byte
	pending []kwHit
	fresh   []kwHit
	scratch []byte
	active  []bool // by rule index
	named   []bool
	anyRule bool
	// rulesFor is the name active, named and anyRule are for, when set:
	// a Reset to the same name keeps them.
	rulesFor    string
	rulesForSet bool
}

type kwHit struct {
	rule     int
	off, end int64
}

// Stream starts an input called name ("" when it has none).
func (s *Scanner) Stream(name string, fn func(Match)) *Stream {
	st := &Stream{s: s}
	st.Reset(name, fn)
	return st
}

// Reset starts a new input on st.
func (st *Stream) Reset(name string, fn func(Match)) {
	s := st.s
	st.fn = fn
	st.state = 0
	st.off = 0
	st.tail = st.tail[:0]
	st.tailOff = 0
	st.pending = st.pending[:0]
	if len(st.active) == len(s.rules) && st.rulesForSet && st.rulesFor == name {
		return // the rules that apply to name, as computed last time
	}
	if len(st.active) != len(s.rules) {
		st.active = make([]bool, len(s.rules))
		st.named = make([]bool, len(s.rules))
	}
	st.anyRule = false
	for i, r := range s.rules {
		st.active[i], st.named[i] = r.appliesTo(name)
		st.anyRule = st.anyRule || st.active[i]
	}
	st.rulesFor, st.rulesForSet = name, true
}

// Write scans p. It never fails.
func (st *Stream) Write(p []byte) (int, error) {
	base := st.off
	st.scanPiece(p)
	st.keepTail(p, base)
	return len(p), nil
}

// scanPiece walks p, reports the literals in it and checks the keyword
// hits whose context is complete, leaving the others in st.pending.
func (st *Stream) scanPiece(p []byte) {
	s := st.s
	base := st.off
	st.fresh = st.fresh[:0]
	st.state = s.ac.Run(st.state, p, func(pat, end int) {
		t := s.targets[pat]
		abs := base + int64(end)
		if t >= 0 {
			n := s.ac.PatternLen(pat)
			st.fn(Match{Literal: t, Offset: abs - int64(n), Len: n})
			return
		}
		if !st.anyRule {
			return
		}
		n := int64(s.ac.PatternLen(pat))
		for _, ri := range s.kwRules[^t] {
			if st.active[ri] {
				st.fresh = append(st.fresh, kwHit{ri, abs - n, abs})
			}
		}
	})
	st.off += int64(len(p))

	// Check keyword hits whose context is complete, keep the others.
	keep := st.pending[:0]
	for _, h := range st.pending {
		if !st.check(h, p, base, false) {
			keep = append(keep, h)
		}
	}
	st.pending = keep
	for _, h := range st.fresh {
		if !st.check(h, p, base, false) {
			st.pending = append(st.pending, h)
		}
	}

}

// keepTail keeps enough of the input's end, p being the latest piece at
// offset base, for the context of later keyword hits.
func (st *Stream) keepTail(p []byte, base int64) {
	s := st.s
	need := int64(s.maxBack + s.maxAhead + s.maxKW)
	from := max(st.off-need, 0)
	for _, h := range st.pending {
		from = min(from, max(h.off-int64(s.rules[h.rule].back), 0))
	}
	if from >= base {
		st.tail = append(st.tail[:0], p[from-base:]...)
	} else {
		// Part of the old tail stays.
		t := append(st.spare[:0], st.tail[from-st.tailOff:]...)
		st.spare = st.tail
		st.tail = append(t, p...)
	}
	st.tailOff = from
}

// check runs the rule of h if its context is in hand (or eof) and reports
// whether it is done with h. p, at offset base, is the latest piece; the
// earlier bytes are in st.tail.
func (st *Stream) check(h kwHit, p []byte, base int64, eof bool) bool {
	r := st.s.rules[h.rule]
	end := h.end + int64(r.ahead)
	if end > st.off {
		if !eof {
			return false
		}
		end = st.off
	}
	start := max(h.off-int64(r.back), 0)
	var data []byte
	var dataOff int64
	switch {
	case start >= base:
		data, dataOff = p[start-base:end-base], start
	case end <= base:
		data, dataOff = st.tail[start-st.tailOff:end-st.tailOff], start
	default:
		// Stitch the old tail and the head of p.
		buf := append(st.scratch[:0], st.tail[start-st.tailOff:]...)
		buf = append(buf, p[:end-base]...)
		st.scratch = buf
		data, dataOff = buf, start
	}
	w := window{
		data:    data,
		kw0:     int(h.off - dataOff),
		kw1:     int(h.end - dataOff),
		atStart: dataOff == 0,
		atEnd:   end == st.off && eof,
		named:   st.named[h.rule],
	}
	if ms, me, ok := r.check(w); ok {
		st.fn(Match{Rule: r.ID, Literal: -1, Offset: dataOff + int64(ms), Len: me - ms})
	}
	return true
}

// Close checks the keyword hits still waiting for context: the input ends
// here.
func (st *Stream) Close() error {
	for _, h := range st.pending {
		st.check(h, nil, st.off, true)
	}
	st.pending = st.pending[:0]
	return nil
}
