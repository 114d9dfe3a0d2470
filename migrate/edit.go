package migrate

import (
	"bytes"
	"fmt"
	"sort"
)

// edit replaces src[start:end] with text.
type edit struct {
	start, end int
	text       string
}

// apply makes edits on a copy of src. Edits must not overlap; an insertion
// (start == end) at the end of a replacement goes after it.
func apply(src []byte, edits []edit) ([]byte, error) {
	if len(edits) == 0 {
		return src, nil
	}
	sorted := append([]edit(nil), edits...)
	sort.SliceStable(sorted, func(i, j int) bool {
		if sorted[i].start != sorted[j].start {
			return sorted[i].start < sorted[j].start
		}
		return sorted[i].end < sorted[j].end
	})
	var out bytes.Buffer
	pos := 0
	for _, e := range sorted {
		if e.start < pos || e.end < e.start || e.end > len(src) {
			return nil, fmt.Errorf("internal error: overlapping or out-of-range edit at byte %d", e.start)
		}
		out.Write(src[pos:e.start])
		out.WriteString(e.text)
		pos = e.end
	}
	out.Write(src[pos:])
	return out.Bytes(), nil
}

// lineIndex maps 1-based line numbers to byte offsets.
type lineIndex struct {
	src    []byte
	starts []int
}

func newLineIndex(src []byte) *lineIndex {
	starts := []int{0}
	for i, c := range src {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return &lineIndex{src: src, starts: starts}
}

// lines is the number of lines (a last line without a newline counts).
func (x *lineIndex) lines() int {
	n := len(x.starts)
	if x.starts[n-1] == len(x.src) {
		return n - 1
	}
	return n
}

// start returns the offset of line l (1-based); past the end, len(src).
func (x *lineIndex) start(l int) int {
	if l-1 < len(x.starts) && l >= 1 {
		return x.starts[l-1]
	}
	return len(x.src)
}

// text returns line l without its newline.
func (x *lineIndex) text(l int) string {
	s, e := x.start(l), x.start(l+1)
	return string(bytes.TrimRight(x.src[s:e], "\r\n"))
}

// lineOf returns the 1-based line of offset off.
func (x *lineIndex) lineOf(off int) int {
	return sort.Search(len(x.starts), func(i int) bool { return x.starts[i] > off })
}

// offset returns the byte offset of the 1-based line and column (a column
// counts runes, as the YAML parser does).
func (x *lineIndex) offset(line, col int) int {
	s := x.start(line)
	e := x.start(line + 1)
	n := 1
	for i := range string(x.src[s:e]) {
		if n == col {
			return s + i
		}
		n++
	}
	return e
}

// indent returns the number of leading spaces and tabs of line l.
func (x *lineIndex) indent(l int) int {
	t := x.text(l)
	return len(t) - len(trimLeftSpace(t))
}

func trimLeftSpace(s string) string {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return s[i:]
}

// blank reports whether line l is empty or only a comment.
func (x *lineIndex) blank(l int) bool {
	t := trimLeftSpace(x.text(l))
	return t == "" || t[0] == '#'
}

// blockEnd returns the last line of the indented block that starts at
// line l with indentation ind: the lines after it that are blank, comments
// or indented deeper. Trailing blank and comment lines are not part of it.
func (x *lineIndex) blockEnd(l, ind int) int {
	last := l
	for i := l + 1; i <= x.lines(); i++ {
		if x.blank(i) {
			continue
		}
		if x.indent(i) <= ind {
			break
		}
		last = i
	}
	return last
}
