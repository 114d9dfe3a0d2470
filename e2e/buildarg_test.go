package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSecretBuildArgRefused (f): a secret passed with --build-arg to a
// hushbuild build stops it before anything runs, with the --secret flag to
// use instead, and the value is nowhere in the output. The stock frontend
// builds the same command (that is the leak of TestExamples' legacy builds).
func TestSecretBuildArgRefused(t *testing.T) {
	l := needLab(t)
	tests := []struct {
		name    string
		example string
		arg     string // the secret build-arg
		call    string // --call, "" for a build
		want    []string
	}{
		{
			name: "declared ARG", example: "015-seed004-build-arg-defaults", arg: "PYPI_PASS",
			want: []string{"build-arg PYPI_PASS is a secret (line 6: ARG PYPI_PASS)", "--secret id=PYPI_PASS,env=PYPI_PASS"},
		},
		{
			name: "undeclared secret name", example: "012-seed004-demo-clean", arg: "GITHUB_TOKEN",
			want: []string{"build-arg GITHUB_TOKEN is a secret", "--secret id=GITHUB_TOKEN,env=GITHUB_TOKEN"},
		},
		{
			name: "outline request", example: "015-seed004-build-arg-defaults", arg: "PYPI_PASS", call: "outline",
			want: []string{"--secret id=PYPI_PASS,env=PYPI_PASS"},
		},
		{
			name: "check request", example: "108-env-from-arg", arg: "GITHUB_TOKEN", call: "check",
			want: []string{"--secret id=GITHUB_TOKEN,env=GITHUB_TOKEN"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			secrets := newSecretSet()
			canary := secrets.canary(t, tt.arg)
			original, err := os.ReadFile(filepath.Join(l.examplesDir(), tt.example, "Dockerfile"))
			if err != nil {
				t.Fatal(err)
			}
			dir := copyContext(t, filepath.Join(l.examplesDir(), tt.example))
			writeFile(t, dir, "Dockerfile", withSyntax(l.frontend, original))
			flags := append(l.baseImageFlags(t, original), "--build-arg", tt.arg+"="+canary.value)
			if tt.call != "" {
				flags = append(flags, "--call="+tt.call)
			}
			res := l.buildx(t, buildSpec{dir: dir, flags: flags})
			text := secrets.redact(res.out)
			if res.err == nil {
				t.Fatalf("the build with a secret build-arg succeeded:\n%s", text)
			}
			if found := secrets.foundIn(res.out); len(found) > 0 {
				t.Errorf("the output shows the build-arg's value")
			}
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("the error lacks %q:\n%s", w, text)
				}
			}
			if bytes.Contains(res.out, []byte("hushbuild-probe")) {
				t.Errorf("a command ran before the build stopped:\n%s", text)
			}
			t.Logf("refused: %s", firstErrorLine(text))
		})
	}
}
