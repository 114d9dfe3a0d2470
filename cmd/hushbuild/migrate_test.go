package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hushbuild/hushbuild/migrate"
	"github.com/hushbuild/hushbuild/rewrite"
)

// TestMigrateWrite migrates a copy of testdata/migrate with -w: the files
// change as the diff of `hushbuild migrate` said, keep their modes, and a
// second run finds nothing to do.
func TestMigrateWrite(t *testing.T) {
	dir := t.TempDir()
	for _, rel := range []string{"compose.yaml", "build.sh", "app/Dockerfile"} {
		data, err := os.ReadFile(filepath.Join("testdata/migrate", rel))
		if err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(rel, ".sh") {
			mode = 0o755
		}
		os.MkdirAll(filepath.Join(dir, filepath.Dir(rel)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, rel), data, mode); err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, stderr := runCLI(t, "", "migrate", dir)
	if code != exitFindings || !strings.Contains(stdout, "+        - NPM_TOKEN") {
		t.Fatalf("migrate: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = runCLI(t, "", "migrate", "-w", dir)
	if code != exitOK || stdout != "" || strings.Count(stderr, "migrated ") != 3 {
		t.Fatalf("migrate -w: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	sh, err := os.ReadFile(filepath.Join(dir, "build.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "--build-arg VERSION=1.0 --secret id=NPM_TOKEN,env=NPM_TOKEN app"; !strings.Contains(string(sh), want) {
		t.Errorf("build.sh lacks %q:\n%s", want, sh)
	}
	if fi, err := os.Stat(filepath.Join(dir, "build.sh")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("build.sh lost its mode: %v %v", fi.Mode(), err)
	}
	code, stdout, stderr = runCLI(t, "", "migrate", dir)
	if code != exitOK || stdout != "" || stderr != "" {
		t.Errorf("second migrate: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

// TestSecretsFormatsSSH checks the ssh lines of each format, which the
// scripted engine has no Dockerfile for.
func TestSecretsFormatsSSH(t *testing.T) {
	reqs := []rewrite.Requirement{
		{Kind: rewrite.SecretEnv, ID: "A", Env: "B", Required: true, Lines: []int{3}},
		{Kind: rewrite.SSH, ID: "default", Lines: []int{4, 5}},
	}
	tests := []struct {
		format string
		want   []string
	}{
		{"flags", []string{"--secret id=A,env=B\n", "--ssh default\n"}},
		{"text", []string{"A\tenvironment variable B, required, line 3\n", "default\tssh agent socket, optional, line 4,5\n"}},
		{"compose", []string{"secrets:\n  - A\nssh:\n  - default\n", "  A:\n    environment: B\n"}},
		{"bake", []string{"secret = [\"id=A,env=B\"]\nssh = [\"default\"]\n"}},
		{"gha", []string{"secret-envs: |\n  A=B\n", "ssh: |\n  default\n"}},
		{"json", []string{`"kind": "ssh"`, `"env": "B"`}},
	}
	for _, tt := range tests {
		var b strings.Builder
		if err := secretsFormats[tt.format](&b, reqs); err != nil {
			t.Fatal(err)
		}
		for _, w := range tt.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s: output lacks %q:\n%s", tt.format, w, b.String())
			}
		}
	}
}

// TestSecretsFormatMatchesMigrate checks that `secrets --format bake` and
// `--format gha` print the lines that `migrate` writes for the same
// Dockerfile's build-arg.
func TestSecretsFormatMatchesMigrate(t *testing.T) {
	dockerfile := []byte("FROM alpine\nARG NPM_TOKEN\nRUN npm ci\n")
	res, err := rewrite.Rewrite(dockerfile, rewrite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		format, rel, text string
	}{
		{"bake", "docker-bake.hcl", "target \"a\" {\n  args = {\n    NPM_TOKEN = \"${NPM_TOKEN}\"\n  }\n}\n"},
		{"gha", ".github/workflows/a.yml", "jobs:\n  a:\n    steps:\n      - uses: docker/build-push-action@v6\n        with:\n          build-args: |\n            NPM_TOKEN=${{ env.NPM_TOKEN }}\n"},
	}
	for _, tt := range tests {
		var printed strings.Builder
		if err := secretsFormats[tt.format](&printed, res.Requirements); err != nil {
			t.Fatal(err)
		}
		kind, _ := migrate.Classify(tt.rel)
		out, notes, err := migrate.Source(kind, tt.rel, []byte(tt.text), migrate.NewSecrets(rewrite.Config{}))
		if err != nil || len(notes) > 0 {
			t.Fatalf("%s: %v %v", tt.format, err, notes)
		}
		for _, line := range strings.Split(strings.TrimSpace(printed.String()), "\n") {
			if strings.HasPrefix(line, "#") {
				continue
			}
			if !strings.Contains(string(out), strings.TrimSpace(line)) {
				t.Errorf("%s: secrets prints %q, migrate writes:\n%s", tt.format, line, out)
			}
		}
	}
}
