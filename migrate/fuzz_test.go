package migrate

import (
	"regexp"
	"strings"
	"testing"

	"github.com/hushbuild/hushbuild/rewrite"
)

// secretFlag is the only text the shell rewriter writes.
var secretFlag = regexp.MustCompile(`^--secret id=[A-Za-z_][A-Za-z0-9_]*,env=[A-Za-z_][A-Za-z0-9_]*$`)

// FuzzRewriteShell checks the shell-line rewriter on any text and dialect:
// no panic, edits in range, in order and apart, only --secret flags of
// names and variables written, and a second pass changes nothing.
func FuzzRewriteShell(f *testing.F) {
	for _, s := range []string{
		"docker build --build-arg NPM_TOKEN=$NPM_TOKEN .",
		"docker buildx build --build-arg=API_KEY=\"${KEY}\" -f a/Dockerfile .",
		"$(DOCKER) build --build-arg NPM_TOKEN=$(NPM_TOKEN) \\\n\t--build-arg X=1 app",
		"sudo docker image build --build-arg 'GH_TOKEN=abc' .",
		"docker build --build-arg UPSTREAM=${{ secrets.X }} .",
		"if x; then docker build --build-arg DB_PASSWORD=\"$(cat f)\" .; fi",
		"buildx build --build-arg NPM_TOKEN .",
	} {
		for d := dialectSh; d <= dialectWorkflow; d++ {
			f.Add(s, uint8(d))
		}
	}
	sec := NewSecrets(rewrite.Config{})
	f.Fuzz(func(t *testing.T, text string, d uint8) {
		dl := dialect(d % 3)
		r := rewriteShell(text, dl, ".", sec)
		pos := 0
		for _, e := range r.edits {
			if e.start < pos || e.end < e.start || e.end > len(text) {
				t.Fatalf("edit [%d,%d) out of order or range (text of %d bytes)", e.start, e.end, len(text))
			}
			if !strings.HasPrefix(text[e.start:], "--build-arg") {
				t.Fatalf("edit at %d does not start at a --build-arg", e.start)
			}
			if !secretFlag.MatchString(e.text) {
				t.Fatalf("edit writes %q", e.text)
			}
			pos = e.end
		}
		out, err := apply([]byte(text), r.edits)
		if err != nil {
			t.Fatal(err)
		}
		again := rewriteShell(string(out), dl, ".", sec)
		if len(r.edits) > 0 && len(again.edits) > 0 {
			t.Fatalf("a second pass edits again at %d", again.edits[0].start)
		}
	})
}
