package report

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/hushbuild/hushbuild/rewrite"
)

// TestMarkdownEscapes checks that what comes from Dockerfiles and the
// engine cannot break the table or inject HTML or Markdown.
func TestMarkdownEscapes(t *testing.T) {
	fd := rewrite.Finding{
		Rule: "SecretArg", Severity: rewrite.SeverityError, Range: rewrite.Range{Start: 2, End: 2},
		Message: "ARG A|B <script>alert(1)</script> **bold** [link](x)\nsecond line",
		Fix:     "use `--mount` | pipe",
	}
	orig := []byte("FROM a\nRUN echo ```\n")
	out := []byte("FROM a\nRUN --mount=type=secret,id=A echo ```\n")
	files := []MarkdownFile{
		{File: File{Name: "odd|name`.Dockerfile", Result: &rewrite.Result{Findings: []rewrite.Finding{fd}}}},
		{File: File{Name: "ok.Dockerfile", Result: &rewrite.Result{Output: out, Changed: true}}, Original: orig},
		{File: File{Name: "bad<b>.Dockerfile", Err: errors.New("line 3: unknown instruction")}},
	}
	var buf bytes.Buffer
	if err := Markdown(&buf, files, MarkdownOptions{Title: "t"}); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	for _, bad := range []string{"<script>", "**bold**", "[link](x)", "A|B", "bad<b>", "\nsecond line"} {
		if strings.Contains(md, bad) {
			t.Errorf("the report holds %q unescaped:\n%s", bad, md)
		}
	}
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "| `") || strings.HasPrefix(line, "| <code>") {
			if n := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|"); n != 7 {
				t.Errorf("a table row has %d cell separators, want 7: %s", n, line)
			}
		}
	}
	// The diff holds ``` and is fenced with more backticks.
	if !strings.Contains(md, "````diff\n") || !strings.Contains(md, "+RUN --mount=type=secret,id=A echo ```\n````\n") {
		t.Errorf("the diff fence is not longer than the backticks it holds:\n%s", md)
	}
	if !strings.Contains(md, "(+1 −1)") {
		t.Errorf("no diff stat:\n%s", md)
	}
}

func TestCodeFence(t *testing.T) {
	for in, want := range map[string]string{"": "```", "a`b": "```", "``` x": "````", "`````": "``````"} {
		if got := codeFence(in); got != want {
			t.Errorf("codeFence(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzMarkdownCell(f *testing.F) {
	for _, s := range []string{"a|b", "<x>", "`", "\\|", "line\nbreak", "**x**"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := mdCell(s)
		if strings.ContainsAny(c, "\n\r<>") {
			t.Fatalf("mdCell(%q) = %q holds a line break or a tag character", s, c)
		}
		// Every | is escaped: preceded by an odd number of backslashes.
		for i := 0; i < len(c); i++ {
			if c[i] != '|' {
				continue
			}
			n := 0
			for j := i - 1; j >= 0 && c[j] == '\\'; j-- {
				n++
			}
			if n%2 == 0 {
				t.Fatalf("mdCell(%q) = %q has an unescaped |", s, c)
			}
		}
	})
}
