package rewrite

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// source is the Dockerfile text split into physical lines, with the edits
// the rewrite makes to it. BuildKit has no Dockerfile printer, so the
// rewrite edits byte ranges of the original text and leaves every other
// byte alone.
type source struct {
	data    []byte
	lineOff []int // lineOff[i] is the offset of line i+1; lineOff[len] == len(data)
	escape  byte
	edits   []edit
}

// edit replaces data[start:end] with text.
type edit struct {
	start, end int
	text       string
}

func newSource(data []byte, escape rune) *source {
	s := &source{data: data, escape: byte(escape)}
	s.lineOff = make([]int, 0, bytes.Count(data, []byte{'\n'})+2)
	s.lineOff = append(s.lineOff, 0)
	for i := bytes.IndexByte(data, '\n'); i >= 0 && i+1 < len(data); {
		s.lineOff = append(s.lineOff, i+1)
		j := bytes.IndexByte(data[i+1:], '\n')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	s.lineOff = append(s.lineOff, len(data))
	return s
}

func (s *source) numLines() int { return len(s.lineOff) - 1 }

// line returns physical line n (1-based) with its line ending.
func (s *source) line(n int) []byte {
	if n < 1 || n > s.numLines() {
		return nil
	}
	return s.data[s.lineOff[n-1]:s.lineOff[n]]
}

// lineContent returns line n without its line ending.
func (s *source) lineContent(n int) []byte {
	return bytes.TrimRight(s.line(n), "\r\n")
}

// holds reports whether an instruction's lines, or its heredocs, hold the
// byte c; true when its lines are not the source's.
func (s *source) holds(n *parser.Node, c byte) bool {
	if n.StartLine < 1 || n.EndLine < n.StartLine || n.EndLine > s.numLines() {
		return true
	}
	if bytes.IndexByte(s.data[s.lineOff[n.StartLine-1]:s.lineOff[n.EndLine]], c) >= 0 {
		return true
	}
	for _, h := range n.Heredocs {
		if strings.IndexByte(h.Content, c) >= 0 {
			return true
		}
	}
	return false
}

// logical is one instruction's logical line as BuildKit's parser joins it:
// continuation escapes, comment lines and empty lines removed. segs map
// the bytes of text back to their offsets in the source: each is a run of
// bytes of one physical line.
type logical struct {
	text      string
	segs      []segment
	seg1      [1]segment // segs' array for a line without continuations
	firstLine int
	lastLine  int // last physical line of the logical line, before any heredoc body
}

// segment is a run of text that starts at offset at of the text and src of
// the source (the next segment's at ends it).
type segment struct{ at, src int }

// off is the source offset of byte i of the text (i < len(text)).
func (l *logical) off(i int) int {
	k := len(l.segs) - 1
	for k > 0 && l.segs[k].at > i {
		k--
	}
	return l.segs[k].src + i - l.segs[k].at
}

// srcOffset maps a text offset to a source offset; len(text) maps to just
// after the last byte.
func (l *logical) srcOffset(i int) int {
	if i < len(l.text) {
		return l.off(i)
	}
	if len(l.text) == 0 {
		return 0
	}
	return l.off(len(l.text)-1) + 1
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// continuation reports whether the line content ends in a line
// continuation, and where the escape character stands. It follows
// BuildKit's lineContinuationRegex: the escape, then only blanks, and the
// escape not itself escaped.
func (s *source) continuation(content []byte) (int, bool) {
	i := len(content) - 1
	for i >= 0 && (content[i] == ' ' || content[i] == '\t') {
		i--
	}
	if i < 0 || content[i] != s.escape {
		return 0, false
	}
	if i > 0 && content[i-1] == s.escape {
		return 0, false
	}
	return i, true
}

func isCommentLine(content []byte) bool {
	t := bytes.TrimLeft(content, " \t\r\n\v\f")
	return len(t) > 0 && t[0] == '#'
}

func isBlank(content []byte) bool {
	return len(bytes.TrimLeft(content, " \t\r\n\v\f")) == 0
}

// join rebuilds the logical line of the instruction starting at line start.
func (s *source) join(start int) (*logical, error) {
	l := &logical{firstLine: start}
	l.segs = l.seg1[:0]
	n := start
	content := s.lineContent(n)
	base := s.lineOff[n-1]
	lead := 0
	if n == 1 && bytes.HasPrefix(content, []byte("\xef\xbb\xbf")) {
		lead = 3
	}
	for lead < len(content) && isSpace(content[lead]) {
		lead++
	}
	// The text is made once, from the source, when it is one run (most
	// instructions); buf joins several.
	var buf []byte
	size := 0
	appendRange := func(lineBase int, c []byte, from, to int) {
		if to > from {
			l.segs = append(l.segs, segment{at: size, src: lineBase + from})
		}
		if len(l.segs) > 1 && buf == nil {
			first := l.segs[0]
			buf = append(make([]byte, 0, 2*size+to-from), s.data[first.src:first.src+size]...)
		}
		if buf != nil {
			buf = append(buf, c[from:to]...)
		}
		size += to - from
	}
	esc, cont := s.continuation(content)
	if cont {
		appendRange(base, content, lead, esc)
	} else {
		appendRange(base, content, lead, len(content))
	}
	l.lastLine = n
	for cont {
		n++
		if n > s.numLines() {
			break
		}
		l.lastLine = n
		content = s.lineContent(n)
		base = s.lineOff[n-1]
		if isCommentLine(content) || isBlank(content) {
			continue
		}
		esc, cont = s.continuation(content)
		if cont {
			appendRange(base, content, 0, esc)
		} else {
			appendRange(base, content, 0, len(content))
		}
	}
	switch {
	case buf != nil:
		l.text = string(buf)
	case len(l.segs) == 1:
		l.text = string(s.data[l.segs[0].src : l.segs[0].src+size])
	}
	return l, nil
}

// replace records an edit of source bytes [start,end).
func (s *source) replace(start, end int, text string) {
	s.edits = append(s.edits, edit{start: start, end: end, text: text})
}

// insert records an insertion at offset off.
func (s *source) insert(off int, text string) {
	s.replace(off, off, text)
}

// deleteText deletes logical text [a,b) of l from the source, keeping the
// bytes the logical line does not contain (continuation escapes, line
// breaks, comment lines), so that every line stays where it is.
func (s *source) deleteText(l *logical, a, b int) {
	i := a
	for i < b {
		j := i + 1
		for j < b && l.off(j) == l.off(j-1)+1 {
			j++
		}
		s.replace(l.off(i), l.off(j-1)+1, "")
		i = j
	}
}

// commentOut replaces physical lines [from,to] with comment lines; the first
// gets note (which must hold no secret value), the others a bare '#'.
func (s *source) commentOut(from, to int, note string) {
	for n := from; n <= to; n++ {
		content := s.lineContent(n)
		start := s.lineOff[n-1]
		text := "#"
		if n == from && note != "" {
			text = "# " + note
		}
		s.replace(start, start+len(content), text)
	}
}

// apply returns the source with all edits applied. Overlapping edits are a
// bug in the caller and are reported as an error.
func (s *source) apply() ([]byte, error) {
	edits := append([]edit(nil), s.edits...)
	sort.SliceStable(edits, func(i, j int) bool {
		if edits[i].start != edits[j].start {
			return edits[i].start < edits[j].start
		}
		return edits[i].end < edits[j].end
	})
	var out bytes.Buffer
	pos := 0
	for _, e := range edits {
		if e.start < pos {
			return nil, fmt.Errorf("internal error: overlapping edits at offset %d", e.start)
		}
		out.Write(s.data[pos:e.start])
		out.WriteString(e.text)
		pos = e.end
	}
	out.Write(s.data[pos:])
	return out.Bytes(), nil
}

// lineOf returns the 1-based line of a source offset.
func (s *source) lineOf(off int) int {
	i := sort.Search(len(s.lineOff), func(i int) bool { return s.lineOff[i] > off })
	return i
}

// commandStart returns the offset in l.text where an instruction's
// arguments begin, given the arguments as the parser saw them (trimmed).
func commandStart(l *logical, args string) (int, bool) {
	end := len(strings.TrimRight(l.text, " \t\r\n\v\f"))
	start := end - len(args)
	if start < 0 || l.text[start:end] != args {
		return 0, false
	}
	return start, true
}

// keywordEnd returns the offset in l.text just after the instruction
// keyword.
func keywordEnd(l *logical) int {
	i := 0
	for i < len(l.text) && isSpace(l.text[i]) {
		i++
	}
	for i < len(l.text) && !isSpace(l.text[i]) {
		i++
	}
	return i
}

// replaceInstruction rewrites an instruction as keyword + kept words on
// its first line and comments out its other lines; with nothing kept the
// whole instruction becomes a comment.
func (a *analyzer) replaceInstruction(n *parser.Node, kept []string, note string, extraFlags ...string) {
	a.touch(n.StartLine)
	if len(kept) == 0 {
		a.src.commentOut(n.StartLine, n.EndLine, note)
		return
	}
	if strings.HasPrefix(kept[0], "-") {
		a.add(RuleCannotRewrite, n.StartLine, n.EndLine, false,
			"write the instruction's arguments so that none starts with '-'",
			"the rewritten %s would start with %q, which BuildKit reads as a flag", strings.ToUpper(n.Value), kept[0])
		a.src.commentOut(n.StartLine, n.EndLine, note)
		return
	}
	first := a.src.lineContent(n.StartLine)
	indent := first[:len(first)-len(trimLeft(first))]
	kw := trimLeft(first)
	if i := indexSpace(kw); i >= 0 {
		kw = kw[:i]
	}
	text := string(indent) + string(kw)
	for _, f := range append(append([]string(nil), n.Flags...), extraFlags...) {
		text += " " + f
	}
	text += " " + strings.Join(kept, " ")
	start := a.src.lineOff[n.StartLine-1]
	a.src.replace(start, start+len(first), text)
	if n.EndLine > n.StartLine {
		a.src.commentOut(n.StartLine+1, n.EndLine, "")
	}
}

func trimLeft(b []byte) []byte {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	return b[i:]
}

func indexSpace(b []byte) int {
	for i, c := range b {
		if isSpace(c) {
			return i
		}
	}
	return -1
}

// fixTrailing ends the instruction on its last line that keeps any text:
// when the deletions emptied the last physical lines, the continuation
// escapes before them are removed, so the next instruction is not joined.
func (a *analyzer) fixTrailing(l *logical, cmdStart int, spans, comments []span) {
	deleted := func(i int) bool {
		for _, s := range append(spans, comments...) {
			if i >= cmdStart+s.start && i < cmdStart+s.end {
				return true
			}
		}
		return false
	}
	lastKept := -1
	for i := len(l.text) - 1; i >= 0; i-- {
		if !deleted(i) && !isSpace(l.text[i]) {
			lastKept = i
			break
		}
	}
	if lastKept < 0 {
		return
	}
	keptLine := a.src.lineOf(l.off(lastKept))
	for ln := keptLine; ln < l.lastLine; ln++ {
		content := a.src.lineContent(ln)
		if isCommentLine(content) && ln != keptLine {
			continue
		}
		if esc, ok := a.src.continuation(content); ok {
			start := a.src.lineOff[ln-1]
			a.src.replace(start+esc, start+len(content), "")
		}
	}
}
