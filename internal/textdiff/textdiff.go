// Package textdiff writes unified diffs of text: the CLI's --diff and the
// golden tests' failure messages.
package textdiff

import (
	"bytes"
	"fmt"
	"io"
)

// diffContext is the number of unchanged lines around each hunk, as in
// `diff -u`.
const diffContext = 3

// Unified writes a unified diff that turns a into b, with headers naming them
// aName and bName and three lines of context. It writes nothing when a and
// b are equal. The edit script is minimal (Myers' O(ND) algorithm in linear
// space), and a last line without a newline is marked the way diff and
// patch expect.
func Unified(w io.Writer, aName, bName string, a, b []byte) error {
	if bytes.Equal(a, b) {
		return nil
	}
	al, bl := splitLines(a), splitLines(b)
	d := &differ{a: al, b: bl, delA: make([]bool, len(al)), insB: make([]bool, len(bl))}
	d.compare(0, len(al), 0, len(bl))
	ops := d.ops()

	var buf bytes.Buffer
	fmt.Fprintf(&buf, "--- %s\n+++ %s\n", aName, bName)
	for _, h := range hunks(ops) {
		writeHunk(&buf, ops[h.lo:h.hi])
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// splitLines splits s after each newline; the last line may lack one.
func splitLines(s []byte) []string {
	var lines []string
	for len(s) > 0 {
		i := bytes.IndexByte(s, '\n')
		if i < 0 {
			lines = append(lines, string(s))
			break
		}
		lines = append(lines, string(s[:i+1]))
		s = s[i+1:]
	}
	return lines
}

type differ struct {
	a, b []string
	delA []bool // a[i] is deleted
	insB []bool // b[j] is inserted
}

// compare marks a minimal set of deletions from a[aLo:aHi] and insertions
// into b[bLo:bHi] that turn one into the other.
func (d *differ) compare(aLo, aHi, bLo, bHi int) {
	for aLo < aHi && bLo < bHi && d.a[aLo] == d.b[bLo] {
		aLo++
		bLo++
	}
	for aLo < aHi && bLo < bHi && d.a[aHi-1] == d.b[bHi-1] {
		aHi--
		bHi--
	}
	switch {
	case aLo == aHi:
		for j := bLo; j < bHi; j++ {
			d.insB[j] = true
		}
		return
	case bLo == bHi:
		for i := aLo; i < aHi; i++ {
			d.delA[i] = true
		}
		return
	}
	x, y := d.middleSnake(aLo, aHi, bLo, bHi)
	if (x == aLo && y == bLo) || (x == aHi && y == bHi) {
		// Cannot happen for an optimal split; guard against looping.
		for i := aLo; i < aHi; i++ {
			d.delA[i] = true
		}
		for j := bLo; j < bHi; j++ {
			d.insB[j] = true
		}
		return
	}
	d.compare(aLo, x, bLo, y)
	d.compare(x, aHi, y, bHi)
}

// middleSnake returns a point (x, y) that an optimal edit path from
// (aLo, bLo) to (aHi, bHi) goes through, splitting the edit distance
// between the two halves (Myers 1986, section 4b).
func (d *differ) middleSnake(aLo, aHi, bLo, bHi int) (int, int) {
	n, m := aHi-aLo, bHi-bLo
	delta := n - m
	odd := delta&1 != 0
	limit := (n + m + 1) / 2
	off := limit + 1
	vf := make([]int, 2*limit+3) // furthest x on each diagonal, forward
	vb := make([]int, 2*limit+3) // furthest x from the end, backward
	for e := 0; e <= limit; e++ {
		for k := -e; k <= e; k += 2 {
			var x int
			if k == -e || (k != e && vf[off+k-1] < vf[off+k+1]) {
				x = vf[off+k+1]
			} else {
				x = vf[off+k-1] + 1
			}
			y := x - k
			for x < n && y < m && d.a[aLo+x] == d.b[bLo+y] {
				x++
				y++
			}
			vf[off+k] = x
			if odd {
				if kb := delta - k; kb >= -(e-1) && kb <= e-1 && x+vb[off+kb] >= n {
					return aLo + x, bLo + y
				}
			}
		}
		for k := -e; k <= e; k += 2 {
			var x int
			if k == -e || (k != e && vb[off+k-1] < vb[off+k+1]) {
				x = vb[off+k+1]
			} else {
				x = vb[off+k-1] + 1
			}
			y := x - k
			for x < n && y < m && d.a[aHi-1-x] == d.b[bHi-1-y] {
				x++
				y++
			}
			vb[off+k] = x
			if !odd {
				if kf := delta - k; kf >= -e && kf <= e && x+vf[off+kf] >= n {
					return aHi - x, bHi - y
				}
			}
		}
	}
	// Unreachable: the paths meet by e = ceil((n+m)/2).
	return aLo, bLo
}

type opKind byte

const (
	opEqual  opKind = ' '
	opDelete opKind = '-'
	opInsert opKind = '+'
)

type op struct {
	kind opKind
	line string
	ai   int // index in a of the line, or of the next line of a for an insert
	bi   int // index in b, likewise
}

// ops lists the edit script: deletions before insertions in each change.
func (d *differ) ops() []op {
	var out []op
	i, j := 0, 0
	for i < len(d.a) || j < len(d.b) {
		switch {
		case i < len(d.a) && d.delA[i]:
			out = append(out, op{opDelete, d.a[i], i, j})
			i++
		case j < len(d.b) && d.insB[j]:
			out = append(out, op{opInsert, d.b[j], i, j})
			j++
		default:
			out = append(out, op{opEqual, d.a[i], i, j})
			i++
			j++
		}
	}
	return out
}

type span struct{ lo, hi int }

// hunks groups the changes of ops with their context; changes closer than
// twice the context share a hunk.
func hunks(ops []op) []span {
	var out []span
	for i := 0; i < len(ops); {
		if ops[i].kind == opEqual {
			i++
			continue
		}
		lo := max(i-diffContext, 0)
		// Extend over changes until a run of equal lines longer than
		// 2*context (or the end) follows.
		end := i
		for end < len(ops) {
			if ops[end].kind != opEqual {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == opEqual {
				run++
			}
			if run == len(ops) || run-end > 2*diffContext {
				break
			}
			end = run
		}
		hi := min(end+diffContext, len(ops))
		out = append(out, span{lo, hi})
		i = hi
	}
	return out
}

func writeHunk(buf *bytes.Buffer, ops []op) {
	aStart, bStart := ops[0].ai, ops[0].bi
	var aCount, bCount int
	for _, o := range ops {
		if o.kind != opInsert {
			aCount++
		}
		if o.kind != opDelete {
			bCount++
		}
	}
	fmt.Fprintf(buf, "@@ -%s +%s @@\n", hunkRange(aStart, aCount), hunkRange(bStart, bCount))
	for _, o := range ops {
		buf.WriteByte(byte(o.kind))
		buf.WriteString(o.line)
		if len(o.line) == 0 || o.line[len(o.line)-1] != '\n' {
			buf.WriteString("\n\\ No newline at end of file\n")
		}
	}
}

// hunkRange formats a hunk's range the way GNU diff does: "start,count",
// "start" alone for one line, and the line before for an empty range.
func hunkRange(start, count int) string {
	switch count {
	case 0:
		return fmt.Sprintf("%d,0", start)
	case 1:
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, count)
}
