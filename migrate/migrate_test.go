package migrate

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hushbuild/hushbuild/internal/golden"
	"github.com/hushbuild/hushbuild/rewrite"
)

// TestGolden migrates each testdata/NAME/in tree and compares every file
// of the result with testdata/NAME/OUT (unchanged files included), and the
// notes with testdata/NAME/OUT.notes. Then it migrates the result again:
// that must change nothing (idempotence).
func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		out  string
		opts Options
	}{
		{"compose", "out", Options{}},
		{"bake-hcl", "out", Options{}},
		{"bake-json", "out", Options{}},
		{"gha", "out", Options{}},
		{"scripts", "out", Options{}},
		{"edge", "out", Options{}},
		{"rewrite", "out-syntax", Options{}},
		{"rewrite", "out-rewrite", Options{Rewrite: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+tt.out, func(t *testing.T) {
			in := filepath.Join("testdata", tt.name, "in")
			res, err := Dir(in, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Errors) > 0 {
				t.Fatalf("errors: %v", res.Errors)
			}
			if len(res.Files) == 0 {
				t.Fatal("nothing changed")
			}
			tree := readTree(t, in)
			for _, f := range res.Files {
				rel, _ := filepath.Rel(in, f.Path)
				if !bytes.Equal(tree[filepath.ToSlash(rel)], f.Old) {
					t.Errorf("%s: Old is not the file's content", rel)
				}
				tree[filepath.ToSlash(rel)] = f.New
			}
			outDir := filepath.Join("testdata", tt.name, tt.out)
			if *golden.Update {
				os.RemoveAll(outDir)
			}
			tmp := t.TempDir()
			for rel, data := range tree {
				p := filepath.Join(outDir, filepath.FromSlash(rel))
				if *golden.Update {
					os.MkdirAll(filepath.Dir(p), 0o755)
				}
				golden.Check(t, p, data)
				q := filepath.Join(tmp, filepath.FromSlash(rel))
				os.MkdirAll(filepath.Dir(q), 0o755)
				if err := os.WriteFile(q, data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if !*golden.Update {
				for rel := range readTree(t, outDir) {
					if _, ok := tree[rel]; !ok {
						t.Errorf("%s/%s: in the golden tree, not in the result", outDir, rel)
					}
				}
			}
			var notes strings.Builder
			for _, n := range res.Notes {
				fmt.Fprintln(&notes, n)
			}
			golden.Check(t, outDir+".notes", []byte(notes.String()))

			again, err := Dir(tmp, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range again.Files {
				t.Errorf("migrating twice changes %s", f.Path)
			}
			for _, e := range again.Errors {
				t.Errorf("migrating twice: %v", e)
			}
		})
	}
}

func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	tree := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		tree[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

func canary(t *testing.T) string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "cnry" + hex.EncodeToString(b)
}

// TestLiteralLeak writes a random value of a secret build-arg into each
// kind of file: the migration must take it out of the file, copy it
// nowhere, and name the leak.
func TestLiteralLeak(t *testing.T) {
	tests := []struct {
		kind Kind
		rel  string
		text string
	}{
		{KindCompose, "compose.yaml", "services:\n  a:\n    build:\n      context: .\n      args:\n        NPM_TOKEN: CANARY\n"},
		{KindCompose, "compose.yaml", "services:\n  a:\n    build:\n      args:\n        - NPM_TOKEN=CANARY\n        - A=1\n"},
		{KindBakeHCL, "docker-bake.hcl", "target \"a\" {\n  args = {\n    NPM_TOKEN = \"CANARY\"\n  }\n}\n"},
		{KindBakeJSON, "docker-bake.json", "{\"target\": {\"a\": {\"args\": {\"NPM_TOKEN\": \"CANARY\"}}}}\n"},
		{KindWorkflow, ".github/workflows/a.yml", "jobs:\n  a:\n    steps:\n      - uses: docker/build-push-action@v6\n        with:\n          build-args: |\n            NPM_TOKEN=CANARY\n"},
		{KindMakefile, "Makefile", "a:\n\tdocker build --build-arg NPM_TOKEN=CANARY .\n"},
		{KindShell, "build.sh", "docker buildx build --build-arg 'NPM_TOKEN=CANARY' .\n"},
		{KindYAML, ".gitlab-ci.yml", "a:\n  script:\n    - docker build --build-arg NPM_TOKEN=\"CANARY\" .\n"},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			c := canary(t)
			src := []byte(strings.ReplaceAll(tt.text, "CANARY", c))
			out, notes, err := Source(tt.kind, tt.rel, src, NewSecrets(rewrite.Config{}))
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(out, []byte(c)) {
				t.Errorf("the value is still in the migrated file, at byte %d", bytes.Index(out, []byte(c)))
			}
			if !bytes.Contains(out, []byte("NPM_TOKEN")) {
				t.Errorf("the secret is gone altogether:\n%s", bytes.ReplaceAll(out, []byte(c), []byte("<canary>")))
			}
			leak := false
			for _, n := range notes {
				if strings.Contains(n.String(), c) {
					t.Errorf("a note holds the value: %s", strings.ReplaceAll(n.String(), c, "<canary>"))
				}
				leak = leak || strings.Contains(n.Message, "leak")
			}
			if !leak {
				t.Errorf("no note names the leak (notes: %v)", notes)
			}
		})
	}
}

// TestManualNotes checks that what migrate does not edit is named, file
// and line, and left as it was.
func TestManualNotes(t *testing.T) {
	tests := []struct {
		kind Kind
		rel  string
		text string
		line int
		want string
	}{
		{KindCompose, "compose.yaml", "x-build: &b\n  context: .\n  args:\n    NPM_TOKEN: ${NPM_TOKEN}\nservices:\n  a:\n    build: *b\n", 4, "not a service's own build"},
		{KindCompose, "compose.yaml", "services:\n  a:\n    build:\n      args: {NPM_TOKEN: x}\n", 4, "flow-style"},
		{KindShell, "b.sh", "docker build --build-arg NPM_TOKEN=\"$(cat t)\" .\n", 1, "computed value"},
		{KindMakefile, "Makefile", "ARGS = --build-arg NPM_TOKEN=$(T)\n", 1, "cannot rewrite"},
		{KindWorkflow, ".github/workflows/a.yml", "jobs:\n  a:\n    steps:\n      - run: docker build --build-arg NPM_TOKEN=${{ secrets.T }}-x .\n", 4, "workflow expression"},
		{KindWorkflow, ".github/workflows/a.yml", "jobs:\n  a:\n    steps:\n      - run: docker build --build-arg NPM_TOKEN=${{ secrets.T }} .\n        env: {A: b}\n", 4, "not a block mapping"},
		{KindYAML, ".gitlab-ci.yml", "a:\n  script:\n    - >\n      docker build --build-arg NPM_TOKEN=$T .\n", 4, "cannot rewrite"},
		{KindBakeHCL, "docker-bake.hcl", "target \"a\" {\n  args = {\n    NPM_TOKEN = upper(T)\n  }\n}\n", 3, "computed value"},
		{KindYAML, ".gitlab-ci.yml", "build:\n  script:\n    - docker buildx build --annotation \"org.opencontainers.image.source=$CI_REPOSITORY_URL\" .\n", 3, "$CI_PROJECT_URL"},
		{KindShell, "b.sh", "docker build --label=org.opencontainers.image.source=${CI_REPOSITORY_URL} .\n", 1, "the image config"},
		{KindShell, "b.sh", "docker build --label \"deploy.token=$DEPLOY_TOKEN\" .\n", 1, "$DEPLOY_TOKEN, a secret"},
		{KindWorkflow, ".github/workflows/a.yml", "jobs:\n  a:\n    steps:\n      - run: docker build --build-arg CURL_OPTS=\"--user ci:${{ secrets.PKG }}\" .\n", 4, "${{ secrets.PKG }}, a secret"},
		{KindShell, "b.sh", "docker build --build-arg REPO_URL=https://${GH_TOKEN}@github.com/acme/lib.git .\n", 1, "--build-arg REPO_URL takes $GH_TOKEN, a secret"},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind)+"/"+tt.want, func(t *testing.T) {
			out, notes, err := Source(tt.kind, tt.rel, []byte(tt.text), NewSecrets(rewrite.Config{}))
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.text {
				t.Errorf("changed:\n%s", out)
			}
			if len(notes) != 1 || notes[0].Line != tt.line || !strings.Contains(notes[0].Message, tt.want) {
				t.Errorf("notes %v, want one on line %d saying %q", notes, tt.line, tt.want)
			}
		})
	}
}

// TestNotSecretUntouched checks that files without secret build-args come
// out byte for byte.
func TestNotSecretUntouched(t *testing.T) {
	tests := []struct {
		kind Kind
		rel  string
		text string
	}{
		{KindCompose, "compose.yaml", "services:\n  a:\n    build:\n      args:\n        VERSION: 1 # x\n"},
		{KindBakeHCL, "docker-bake.hcl", "target \"a\" {\n  args = { VERSION = \"1\" }\n}\n"},
		{KindBakeJSON, "docker-bake.json", "{\"target\": {\"a\": {\"args\": {\"VERSION\": \"1\"}}}}"},
		{KindWorkflow, ".github/workflows/a.yml", "jobs:\n  a:\n    steps:\n      - uses: docker/build-push-action@v6\n        with:\n          build-args: VERSION=1\n      - run: docker build --build-arg VERSION=${{ github.sha }} .\n"},
		{KindMakefile, "Makefile", "a:\n\tdocker build --build-arg VERSION=$(VERSION) .\n"},
		{KindShell, "build.sh", "docker build --build-arg VERSION .\n"},
		{KindYAML, ".gitlab-ci.yml", "build:\n  script:\n    - docker buildx build --annotation \"org.opencontainers.image.source=$CI_PROJECT_URL\" --label version=$VERSION .\n"},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind)+"/"+tt.rel, func(t *testing.T) {
			out, notes, err := Source(tt.kind, tt.rel, []byte(tt.text), NewSecrets(rewrite.Config{}))
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.text || len(notes) > 0 {
				t.Errorf("changed:\n%s\nnotes: %v", out, notes)
			}
		})
	}
}

// TestEngineDecides checks that a name the engine does not call secret is
// one when the Dockerfile the invocation builds says so, and only then.
func TestEngineDecides(t *testing.T) {
	sec := NewSecrets(rewrite.Config{})
	sec.byDockerfile["a/Dockerfile"] = []string{"UPSTREAM"}
	sec.byDockerfile["b/Dockerfile"] = nil
	sec.byDockerfile["c/Dockerfile"] = nil
	sec.cfgs["c/Dockerfile"] = dockerfileConfig([]byte("# hushbuild=not-secrets=LEGACY_TOKEN\nFROM a\n"), rewrite.Config{})
	tests := []struct {
		script string
		want   bool
	}{
		{"docker build --build-arg UPSTREAM=$X a\n", true},
		{"docker build --build-arg UPSTREAM=$X b\n", false},
		{"docker build --build-arg UPSTREAM=$X -f a/Dockerfile .\n", true},
		{"docker build --build-arg UPSTREAM=$X -f b/Dockerfile a\n", false},
		{"docker build --build-arg LEGACY_TOKEN=$X b\n", true},
		{"docker build --build-arg LEGACY_TOKEN=$X c\n", false},
	}
	for _, tt := range tests {
		out, _, err := Source(KindShell, "build.sh", []byte(tt.script), sec)
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Contains(string(out), "--secret id=")
		if got != tt.want {
			t.Errorf("%q: migrated %v, want %v:\n%s", tt.script, got, tt.want, out)
		}
	}
}

// TestParseErrorsHoldNoValue breaks each kind of file around a random
// value: the parse error names the place, never the file's text.
func TestParseErrorsHoldNoValue(t *testing.T) {
	tests := []struct {
		kind Kind
		rel  string
		text string
	}{
		{KindCompose, "compose.yaml", "services:\n  a: [\n    NPM_TOKEN: \"CANARY\n"},
		{KindBakeHCL, "docker-bake.hcl", "target \"a\" {\n  args = { NPM_TOKEN = \"CANARY }\n}\n"},
		{KindBakeHCL, "docker-bake.hcl", "target \"a\" {\n  args = { NPM_TOKEN = CANARY CANARY }\n}\n"},
		{KindBakeJSON, "docker-bake.json", "{\"target\": {\"a\": {\"args\": {\"NPM_TOKEN\": CANARY}}}}"},
		{KindWorkflow, ".github/workflows/a.yml", "jobs:\n  a:\n\tsteps: CANARY\n"},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			c := canary(t)
			_, _, err := Source(tt.kind, tt.rel, []byte(strings.ReplaceAll(tt.text, "CANARY", c)), NewSecrets(rewrite.Config{}))
			if err == nil {
				t.Fatal("no parse error")
			}
			if strings.Contains(err.Error(), c) || strings.Contains(err.Error(), c[:10]) {
				t.Errorf("the error shows the value: %s", strings.ReplaceAll(err.Error(), c, "<canary>"))
			}
		})
	}
}
