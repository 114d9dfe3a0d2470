package rewrite

import (
	"strings"
	"testing"
)

// TestHeredocRemovals: a deletion taken out of a RUN <<EOF document keeps
// the document's lines, and a line break escaped by a backslash stays
// escaped, so the rest of the command runs as it did (rm -f FILE \ on one
// line, the next path on the next); a rewrite that would run another
// script is refused (sameScript).
func TestHeredocRemovals(t *testing.T) {
	const head = "FROM alpine\nWORKDIR /app\nCOPY .npmrc .\nRUN <<EOF\n"
	for _, tt := range []struct {
		name, doc string
		want      string // the rewritten document
	}{
		{name: "own line", doc: "npm ci\nrm -f .npmrc\nls\n", want: "npm ci\n\nls\n"},
		{name: "inside if", doc: "npm ci\nif true; then\n  rm -f .npmrc\nfi\n", want: "npm ci\nif true; then\n  :\nfi\n"},
		{name: "continued deletion", doc: "npm ci\nrm -f \\\n  .npmrc\nls\n", want: "npm ci\n \\\n\nls\n"},
		{name: "continued with another path", doc: "npm ci\nrm -f .npmrc \\\n  /tmp/other\nls\n", want: "npm ci\nrm -f  \\\n/tmp/other\nls\n"},
		{name: "other path first", doc: "npm ci\nrm -f /tmp/other \\\n  .npmrc && echo done\n", want: "npm ci\nrm -f /tmp/other \\\n && echo done\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := head + tt.doc + "EOF\n"
			res, err := Rewrite([]byte(src), Config{})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range res.Findings {
				if f.Rule == RuleCannotRewrite.Name {
					t.Fatalf("refused: %s", f.Message)
				}
			}
			out := string(res.Output)
			i := strings.Index(out, "<<EOF\n")
			j := strings.LastIndex(out, "EOF\n")
			if i < 0 || j < i {
				t.Fatalf("no document in:\n%s", out)
			}
			if got := out[i+len("<<EOF\n") : j]; got != tt.want {
				t.Errorf("document = %q, want %q", got, tt.want)
			}
			// It runs what the shell form's rewrite would.
			if !sameScript(out[i+len("<<EOF\n"):j], strings.ReplaceAll(tt.want, "\\\n", "")) {
				t.Errorf("the document does not run the expected script")
			}
		})
	}
}

func TestSameScript(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"rm -f /tmp/x\nls\n", "rm -f \\\n  /tmp/x\nls\n", true},
		{"npm ci; if true; then :; fi", "npm ci\nif true; then\n  :\nfi\n", true},
		{"rm -f /tmp/x\n", "rm -f\n/tmp/x\n", false},
		{"a && b\n", "a\nb\n", false},
		{"echo 'a\nb'\n", "echo 'a b'\n", false},
		{"x=1 echo $x\n", "x=1\necho $x\n", false},
	} {
		if got := sameScript(tt.a, tt.b); got != tt.want {
			t.Errorf("sameScript(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
