package main

import (
	"crypto/rand"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// googleKey is a random value in the form of a Google API key.
func googleKey(t *testing.T) string {
	t.Helper()
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := []byte("AIza")
	for len(b) < 39 {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(chars))))
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, chars[n.Int64()])
	}
	return string(b)
}

// TestSuppressionsAndStrictMode runs the real engine: a suppressed error
// passes check, rewrite and secrets, and is reported as suppressed; strict
// mode, from the flag or from HUSHBUILD_STRICT, refuses it and the
// directive's relaxations; a not-secrets flag that matches every name is a
// usage error.
func TestSuppressionsAndStrictMode(t *testing.T) {
	key := googleKey(t)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	suppressed := write("suppressed.Dockerfile", "FROM alpine\n# hushbuild:ignore=HardcodedSecret the public key the distribution ships\nENV GOOGLE_API_KEY="+key+"\nARG NPM_TOKEN\nRUN npm ci\n")
	relaxed := write("relaxed.Dockerfile", "# hushbuild=not-secrets=NPM_TOKEN\nFROM alpine\nARG NPM_TOKEN\nRUN npm ci\n")
	tests := []struct {
		name string
		env  string
		args []string
		code int
		// want are strings of stdout+stderr.
		want []string
	}{
		{"check", "", []string{"check", "--no-context", suppressed}, 1,
			[]string{":3: [HardcodedSecret] error (suppressed on line 2: the public key the distribution ships):", "1 warning, 0 notes, 1 suppressed"}},
		{"check fails on errors only", "", []string{"check", "--fail-on", "error", "--no-context", suppressed}, 0, nil},
		{"check json", "", []string{"check", "--format", "json", "--fail-on", "error", "--no-context", suppressed}, 0,
			[]string{`"suppression": {`, `"line": 2`, `"suppressed": 1`}},
		{"check sarif", "", []string{"check", "--format", "sarif", "--fail-on", "error", "--no-context", suppressed}, 0,
			[]string{`"kind": "inSource"`, `"justification": "the public key the distribution ships"`}},
		{"rewrite", "", []string{"rewrite", "-q", "--no-context", suppressed}, 0, []string{"--mount=type=secret,id=NPM_TOKEN"}},
		{"secrets", "", []string{"secrets", "--no-context", suppressed}, 0, []string{"--secret id=NPM_TOKEN,env=NPM_TOKEN"}},
		{"strict flag", "", []string{"check", "--strict", "--fail-on", "error", "--no-context", suppressed}, 1,
			[]string{"[InvalidSuppression] error: the build runs in strict mode, and the hushbuild:ignore comment on line 2 suppresses HardcodedSecret", ":3: [HardcodedSecret] error: "}},
		{"strict env", "true", []string{"rewrite", "--no-context", suppressed}, 1, []string{"strict mode"}},
		{"strict env, directive", "1", []string{"check", "--fail-on", "error", "--no-context", relaxed}, 1, []string{"strict mode, and the # hushbuild= directive relaxes protection: not-secrets"}},
		{"not strict, directive", "", []string{"check", "--fail-on", "error", "--no-context", relaxed}, 0, nil},
		{"strict env false", "false", []string{"check", "--fail-on", "error", "--no-context", relaxed}, 0, nil},
		{"strict env not a boolean", "maybe", []string{"check", "--no-context", relaxed}, 2, []string{"HUSHBUILD_STRICT is not a boolean"}},
		{"not-secrets every name", "", []string{"check", "--not-secret-names", "*", "--no-context", relaxed}, 2, []string{"would match every secret name"}},
		{"not-secrets a regular expression", "", []string{"check", "--not-secret-names", ".*", "--no-context", relaxed}, 2, []string{"would match every secret name"}},
		{"not-secrets in --config", "", []string{"check", "--config", "not-secrets=*_*", "--no-context", relaxed}, 2, []string{"would match every secret name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(strictEnv, tt.env)
			code, stdout, stderr := runCLI(t, "", tt.args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout+stderr, w) {
					t.Errorf("the output lacks %q\nstdout:\n%s\nstderr:\n%s", w, stdout, stderr)
				}
			}
			if strings.Contains(stdout+stderr, key) && !strings.HasPrefix(tt.name, "rewrite") {
				t.Error("the output holds the credential")
			}
		})
	}
}
