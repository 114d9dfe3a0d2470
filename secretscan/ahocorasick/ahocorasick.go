// Package ahocorasick is a multi-pattern exact byte matcher: an
// Aho–Corasick automaton compiled to a full DFA over byte classes, so that
// scanning costs one table lookup per input byte whatever the number of
// patterns. It reports every occurrence of every pattern, overlapping ones
// included, and it can be fed a stream in pieces: the automaton state
// carries across calls, so an occurrence split between two pieces is found.
package ahocorasick

import "fmt"

// maxStates bounds the automaton so that premultiplied indexes fit in 32
// bits.
const maxStates = 1 << 22

// Matcher is an immutable compiled automaton, safe for concurrent use.
type Matcher struct {
	class  [256]byte
	nclass uint32
	delta  []uint32 // state*nclass+class -> next state*nclass
	// firstOut is the first premultiplied state that ends a pattern.
	firstOut uint32
	maxLen   int
	outputs  [][]int32 // by state number: the patterns ending there
	lens     []int
}

// State is the position of a stream in the automaton. The zero State is
// the start.
type State uint32

// New compiles patterns. Empty patterns never match. Pattern i is reported
// as i.
func New(patterns [][]byte) (*Matcher, error) {
	m := &Matcher{lens: make([]int, len(patterns))}

	// Byte classes: every byte used by some pattern gets a class of its
	// own, all other bytes share class 0 (they always lead back to the
	// start's transitions).
	var used [256]bool
	for i, p := range patterns {
		m.lens[i] = len(p)
		for _, b := range p {
			used[b] = true
		}
	}
	n := 1
	if allUsed(used) {
		n = 256
		for b := 0; b < 256; b++ {
			m.class[b] = byte(b)
		}
	} else {
		for b := 0; b < 256; b++ {
			if used[b] {
				m.class[b] = byte(n)
				n++
			}
		}
	}
	m.nclass = uint32(n)
	nc := int(n)

	// Trie.
	type node struct {
		next []int32 // by class, -1 when absent
		fail int32
		out  []int32
	}
	newNode := func() node {
		nx := make([]int32, nc)
		for i := range nx {
			nx[i] = -1
		}
		return node{next: nx}
	}
	nodes := []node{newNode()}
	for i, p := range patterns {
		if len(p) == 0 {
			continue
		}
		s := int32(0)
		for _, b := range p {
			c := m.class[b]
			if nodes[s].next[c] < 0 {
				if len(nodes) >= maxStates {
					return nil, fmt.Errorf("ahocorasick: more than %d states", maxStates)
				}
				nodes[s].next[c] = int32(len(nodes))
				nodes = append(nodes, newNode())
			}
			s = nodes[s].next[c]
		}
		nodes[s].out = append(nodes[s].out, int32(i))
	}

	// Failure links and the full DFA, breadth first.
	queue := make([]int32, 0, len(nodes))
	for c := 0; c < nc; c++ {
		if t := nodes[0].next[c]; t >= 0 {
			nodes[t].fail = 0
			queue = append(queue, t)
		} else {
			nodes[0].next[c] = 0
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		f := nodes[s].fail
		// Outputs of the failure state end here too.
		if len(nodes[f].out) > 0 {
			nodes[s].out = append(nodes[s].out, nodes[f].out...)
		}
		for c := 0; c < nc; c++ {
			t := nodes[s].next[c]
			if t >= 0 {
				nodes[t].fail = nodes[f].next[c]
				queue = append(queue, t)
			} else {
				nodes[s].next[c] = nodes[f].next[c]
			}
		}
	}

	// Renumber states so that those ending a pattern come last: then
	// "does this state report?" is a comparison with a threshold, off the
	// critical path of the table walk. The start state stays 0.
	order := make([]int32, 0, len(nodes)) // new -> old
	for s := range nodes {
		if len(nodes[s].out) == 0 {
			order = append(order, int32(s))
		}
	}
	m.firstOut = uint32(len(order)) * uint32(nc)
	for s := range nodes {
		if len(nodes[s].out) > 0 {
			order = append(order, int32(s))
		}
	}
	renum := make([]uint32, len(nodes)) // old -> new
	for n, old := range order {
		renum[old] = uint32(n)
	}
	m.delta = make([]uint32, len(nodes)*nc)
	m.outputs = make([][]int32, len(nodes))
	for n, old := range order {
		m.outputs[n] = nodes[old].out
		for c := 0; c < nc; c++ {
			m.delta[n*nc+c] = renum[nodes[old].next[c]] * uint32(nc)
		}
	}
	for _, p := range patterns {
		m.maxLen = max(m.maxLen, len(p))
	}
	return m, nil
}

func allUsed(used [256]bool) bool {
	for _, u := range used {
		if !u {
			return false
		}
	}
	return true
}

// PatternLen returns the length of pattern i.
func (m *Matcher) PatternLen(i int) int { return m.lens[i] }

// States returns the number of automaton states (for tests and sizing).
func (m *Matcher) States() int { return len(m.outputs) }

// Run feeds data to the automaton from state s and calls fn for every
// pattern occurrence that ends inside data, with end the index in data
// just past the occurrence's last byte (the occurrence may start in an
// earlier piece of the stream). It returns the state to continue from.
//
// Occurrences are not reported in order of position.
func (m *Matcher) Run(s State, data []byte, fn func(pattern int, end int)) State {
	// The walk is bound by the latency of one dependent table load per
	// byte. Long inputs are cut in lanes walked side by side, so that the
	// loads of different lanes overlap. A lane starts at the start state
	// maxLen-1 bytes before its own part, which puts it in the right state
	// when its part begins (a state only depends on that many bytes), and
	// reports only the occurrences that end inside its part.
	const lanes = 4
	over := m.maxLen - 1
	// Lanes pay off once their warm-up (over bytes each) is under a
	// quarter of the work.
	if over < 0 || len(data) < lanes*max(4*over, 256) {
		return State(m.run(uint32(s)*m.nclass, data, 0, fn) / m.nclass)
	}
	part := len(data) / lanes
	var st [lanes]uint32
	var pos [lanes]int // next byte of each lane
	var stop [lanes]int
	var from [lanes]int // occurrences ending before this are another lane's
	st[0] = uint32(s) * m.nclass
	for l := 0; l < lanes; l++ {
		pos[l] = l*part - over
		from[l] = l * part
		stop[l] = (l + 1) * part
	}
	pos[0] = 0
	stop[lanes-1] = len(data)
	d := m.delta
	cls := &m.class
	fo := m.firstOut
	// Walk all lanes the same number of bytes; the last lane, longer by
	// the remainder, finishes alone.
	n := part // bytes each lane walks in the joint loop (lane 0 walks part)
	for l := 1; l < lanes; l++ {
		n = min(n, stop[l]-pos[l])
	}
	a0, a1, a2, a3 := data[pos[0]:pos[0]+n], data[pos[1]:pos[1]+n], data[pos[2]:pos[2]+n], data[pos[3]:pos[3]+n]
	a1, a2, a3 = a1[:len(a0)], a2[:len(a0)], a3[:len(a0)] // drops bounds checks below
	s0, s1, s2, s3 := st[0], st[1], st[2], st[3]
	for i := range a0 {
		s0 = d[s0+uint32(cls[a0[i]])]
		s1 = d[s1+uint32(cls[a1[i]])]
		s2 = d[s2+uint32(cls[a2[i]])]
		s3 = d[s3+uint32(cls[a3[i]])]
		if s0 >= fo || s1 >= fo || s2 >= fo || s3 >= fo {
			st[0], st[1], st[2], st[3] = s0, s1, s2, s3
			for l := 0; l < lanes; l++ {
				if st[l] >= fo && pos[l]+i+1 > from[l] {
					for _, p := range m.outputs[st[l]/m.nclass] {
						fn(int(p), pos[l]+i+1)
					}
				}
			}
		}
	}
	st[0], st[1], st[2], st[3] = s0, s1, s2, s3
	var last uint32
	for l := 0; l < lanes; l++ {
		p := pos[l] + n
		last = m.run(st[l], data[p:stop[l]], p, fn)
	}
	return State(last / m.nclass)
}

// run walks data from premultiplied state st, reporting ends offset by
// base, and returns the premultiplied state it ends in.
func (m *Matcher) run(st uint32, data []byte, base int, fn func(pattern int, end int)) uint32 {
	d := m.delta
	cls := &m.class
	fo := m.firstOut
	for i, b := range data {
		st = d[st+uint32(cls[b])]
		if st >= fo {
			for _, p := range m.outputs[st/m.nclass] {
				fn(int(p), base+i+1)
			}
		}
	}
	return st
}
