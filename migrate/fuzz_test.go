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

// FuzzSource migrates any text as each kind of file: no panic, an input
// that parses gives an output that parses, and migrating the output again
// changes nothing.
func FuzzSource(f *testing.F) {
	seeds := map[Kind]string{
		KindCompose:  "services:\n  a:\n    build:\n      args:\n        NPM_TOKEN: ${NPM_TOKEN}\n        - X\n",
		KindBakeHCL:  "target \"a\" {\n  args = { NPM_TOKEN = \"${NPM_TOKEN}\", V = \"1\" }\n  secret = []\n}\n",
		KindBakeJSON: "{\"target\": {\"a\": {\"args\": {\"V\": \"1\", \"NPM_TOKEN\": \"x\"}, \"secret\": []}}}",
		KindWorkflow: "jobs:\n  a:\n    steps:\n      - uses: docker/build-push-action@v6\n        with:\n          build-args: |\n            NPM_TOKEN=${{ secrets.T }}\n            V=1\n",
		KindYAML:     "a:\n  script:\n    - docker build --build-arg NPM_TOKEN=$T .\n",
		KindMakefile: "a:\n\tdocker build --build-arg NPM_TOKEN=$(T) \\\n\t  --build-arg V=1 .\n",
	}
	kinds := []Kind{KindCompose, KindBakeHCL, KindBakeJSON, KindWorkflow, KindYAML, KindMakefile, KindShell}
	for i, k := range kinds {
		if s, ok := seeds[k]; ok {
			f.Add(s, uint8(i))
		}
	}
	rel := map[Kind]string{KindCompose: "compose.yaml", KindBakeHCL: "docker-bake.hcl", KindBakeJSON: "docker-bake.json",
		KindWorkflow: ".github/workflows/a.yml", KindYAML: "a.yml", KindMakefile: "Makefile", KindShell: "a.sh"}
	sec := NewSecrets(rewrite.Config{})
	f.Fuzz(func(t *testing.T, text string, k uint8) {
		kind := kinds[int(k)%len(kinds)]
		out, _, err := Source(kind, rel[kind], []byte(text), sec)
		if err != nil {
			return
		}
		again, _, err := Source(kind, rel[kind], out, sec)
		if err != nil {
			t.Fatalf("the output of a %s migration does not parse: %v", kind, err)
		}
		if string(again) != string(out) {
			t.Fatalf("migrating a %s twice changes it again", kind)
		}
	})
}
