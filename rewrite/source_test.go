package rewrite

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// TestJoinOffsets: the logical line of every instruction maps each byte
// of its text to the offset the same byte has in the source, as a map of
// every byte would: continuations, comment and blank lines between,
// leading blanks, a byte order mark, CRLF, another escape character.
func TestJoinOffsets(t *testing.T) {
	srcs := []string{
		"FROM alpine\nRUN echo a && \\\n    echo b \\\n# comment\n\n    && echo c\n",
		"\xef\xbb\xbfFROM alpine\n  RUN   echo x\\\n\\\ny\n",
		"FROM alpine\r\nRUN echo a \\\r\n  b\r\n",
		"# escape=`\nFROM alpine\nRUN echo a `\n  b `\n  c\n",
		"FROM alpine\nRUN <<EOF\necho hi\nEOF\nCOPY <<EOT /x\nbody\nEOT\n",
		"FROM alpine\nRUN a \\\n\\\n b\n",
	}
	files, _ := filepath.Glob("../examples/*/Dockerfile")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, string(b))
	}
	checked := 0
	for _, src := range srcs {
		ast, err := parser.Parse(bytes.NewReader([]byte(src)))
		if err != nil {
			continue
		}
		s := newSource([]byte(src), ast.EscapeToken)
		for _, n := range ast.AST.Children {
			l, err := s.join(n.StartLine)
			if err != nil {
				t.Fatal(err)
			}
			want := referenceOffsets(s, n.StartLine)
			if len(l.text) != len(want) {
				t.Fatalf("%q line %d: text of %d bytes, want %d", src, n.StartLine, len(l.text), len(want))
			}
			for i := 0; i <= len(l.text); i++ {
				w := 0
				switch {
				case i < len(want):
					w = want[i]
				case len(want) > 0:
					w = want[len(want)-1] + 1
				}
				if got := l.srcOffset(i); got != w {
					t.Fatalf("%q line %d: srcOffset(%d) = %d, want %d", src, n.StartLine, i, got, w)
				}
				if i < len(l.text) && s.data[w] != l.text[i] {
					t.Fatalf("%q line %d: byte %d is %q, at its offset %q", src, n.StartLine, i, l.text[i], s.data[w])
				}
			}
			checked++
		}
	}
	if checked < 100 {
		t.Fatalf("only %d instructions checked", checked)
	}
}

// referenceOffsets is the offset of every byte of join's text, one by one.
func referenceOffsets(s *source, start int) []int {
	var off []int
	add := func(base int, from, to int) {
		for i := from; i < to; i++ {
			off = append(off, base+i)
		}
	}
	n := start
	content := s.lineContent(n)
	lead := 0
	if n == 1 && bytes.HasPrefix(content, []byte("\xef\xbb\xbf")) {
		lead = 3
	}
	for lead < len(content) && isSpace(content[lead]) {
		lead++
	}
	esc, cont := s.continuation(content)
	if cont {
		add(s.lineOff[n-1], lead, esc)
	} else {
		add(s.lineOff[n-1], lead, len(content))
	}
	for cont {
		n++
		if n > s.numLines() {
			break
		}
		content = s.lineContent(n)
		if isCommentLine(content) || isBlank(content) {
			continue
		}
		esc, cont = s.continuation(content)
		if cont {
			add(s.lineOff[n-1], 0, esc)
		} else {
			add(s.lineOff[n-1], 0, len(content))
		}
	}
	return off
}

// TestNewSourceLines: the line table of newSource, on inputs with and
// without a final newline, empty lines and CRLF.
func TestNewSourceLines(t *testing.T) {
	for _, tt := range []struct {
		src   string
		lines []string
	}{
		{"", []string{""}},
		{"a", []string{"a"}},
		{"a\n", []string{"a\n"}},
		{"a\nb", []string{"a\n", "b"}},
		{"a\n\nb\n", []string{"a\n", "\n", "b\n"}},
		{"\n", []string{"\n"}},
		{"\n\n", []string{"\n", "\n"}},
		{"a\r\nb\r\n", []string{"a\r\n", "b\r\n"}},
	} {
		s := newSource([]byte(tt.src), '\\')
		var got []string
		for n := 1; n <= s.numLines(); n++ {
			got = append(got, string(s.line(n)))
		}
		if strings.Join(got, "|") != strings.Join(tt.lines, "|") || len(got) != len(tt.lines) {
			t.Errorf("newSource(%q) lines %q, want %q", tt.src, got, tt.lines)
		}
	}
}
