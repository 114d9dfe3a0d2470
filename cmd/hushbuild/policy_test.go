package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hushbuild/hushbuild/internal/canary"
)

// googleKey is a random value in the form of a Google API key.
func googleKey(t *testing.T) string { return canary.GoogleKey(t) }

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
	allWarnings := write("warnings.Dockerfile", "FROM alpine\n# hushbuild:ignore=SecretArg not a real token in this image\nARG NPM_TOKEN\n# hushbuild:ignore=SecretInLog printed on purpose\nRUN echo $NPM_TOKEN\n")
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
		{"every warning suppressed", "", []string{"check", "--no-context", allWarnings}, 0, []string{"0 warnings, 0 notes, 2 suppressed"}},
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

// TestRepoConfig: the CLI finds .hushbuild.yaml next to the Dockerfile, in
// a directory above it up to the git root (not above it), or in the build
// context; --repo-config names one or turns the search off; a strict
// caller refuses what in it relaxes protection; its errors name lines.
func TestRepoConfig(t *testing.T) {
	root := t.TempDir()
	repo := filepath.Join(root, "repo")
	mk := func(p, body string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// INTERNAL_URL is a secret only by the configuration.
	df := "FROM alpine\nARG INTERNAL_URL\nRUN curl $INTERNAL_URL\n"
	mk(filepath.Join(repo, ".git", "HEAD"), "ref: refs/heads/main\n")
	mk(filepath.Join(repo, "svc", "app", "Dockerfile"), df)
	mk(filepath.Join(repo, "svc", ".hushbuild.yaml"), "secrets: [INTERNAL_URL]\n")
	mk(filepath.Join(repo, "other", "Dockerfile"), df)
	mk(filepath.Join(root, ".hushbuild.yaml"), "secrets: [INTERNAL_URL]\n") // above the git root
	mk(filepath.Join(repo, "ctx", ".hushbuild.yaml"), "secrets: [INTERNAL_URL]\n")
	mk(filepath.Join(repo, "relaxed", ".hushbuild.yaml"), "not-secrets: [NPM_TOKEN]\n")
	mk(filepath.Join(repo, "relaxed", "Dockerfile"), "FROM alpine\nARG NPM_TOKEN\nRUN npm ci\n")
	value := googleKey(t)
	mk(filepath.Join(repo, "bad", ".hushbuild.yaml"), "secrets: [A]\noptional: "+value+"\n")
	mk(filepath.Join(repo, "bad", "Dockerfile"), df)
	mk(filepath.Join(repo, "dir", ".hushbuild.yaml", "x"), "")
	mk(filepath.Join(repo, "dir", "Dockerfile"), df)

	tests := []struct {
		name   string
		args   []string
		code   int
		secret bool // INTERNAL_URL is rewritten
		want   string
	}{
		{"a directory above, up to the git root", []string{"secrets", "--no-context", filepath.Join(repo, "svc", "app", "Dockerfile")}, 0, true, ""},
		{"not above the git root", []string{"secrets", "--no-context", filepath.Join(repo, "other", "Dockerfile")}, 0, false, ""},
		{"the build context", []string{"secrets", "--context", filepath.Join(repo, "ctx"), filepath.Join(repo, "other", "Dockerfile")}, 0, true, ""},
		{"named", []string{"secrets", "--no-context", "--repo-config", filepath.Join(repo, "ctx", ".hushbuild.yaml"), filepath.Join(repo, "other", "Dockerfile")}, 0, true, ""},
		{"none", []string{"secrets", "--no-context", "--repo-config", "", filepath.Join(repo, "svc", "app", "Dockerfile")}, 0, false, ""},
		{"relaxing, not strict", []string{"secrets", "--no-context", filepath.Join(repo, "relaxed", "Dockerfile")}, 0, false, ""},
		{"relaxing, strict", []string{"secrets", "--strict", "--no-context", filepath.Join(repo, "relaxed", "Dockerfile")}, 2, false, "strict mode: the repository's configuration relaxes protection (not-secrets)"},
		{"a bad file", []string{"check", "--no-context", filepath.Join(repo, "bad", "Dockerfile")}, 2, false, ".hushbuild.yaml: line 2: a value of the wrong type"},
		{"a directory by that name", []string{"check", "--no-context", filepath.Join(repo, "dir", "Dockerfile")}, 2, false, ".hushbuild.yaml: not a regular file"},
		{"a missing named file", []string{"check", "--no-context", "--repo-config", filepath.Join(repo, "nope.yaml"), filepath.Join(repo, "other", "Dockerfile")}, 2, false, "nope.yaml: no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(strictEnv, "")
			code, stdout, stderr := runCLI(t, "", tt.args...)
			if code != tt.code {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			if got := strings.Contains(stdout, "id=INTERNAL_URL"); code == 0 && got != tt.secret {
				t.Errorf("INTERNAL_URL a secret: %v, want %v\n%s", got, tt.secret, stdout)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, stderr)
			}
			if strings.Contains(stdout+stderr, value) {
				t.Error("the output holds the value")
			}
		})
	}
}

// TestRepoConfigOutsideContextNote: check says when the file it follows
// is not at the root of the build context, which the frontend reads.
func TestRepoConfigOutsideContextNote(t *testing.T) {
	repo := t.TempDir()
	if err := os.MkdirAll(filepath.Join(repo, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(repo, "svc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, ".hushbuild.yaml"), []byte("secrets: [INTERNAL_URL]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	df := filepath.Join(repo, "svc", "Dockerfile")
	if err := os.WriteFile(df, []byte("FROM alpine\nRUN true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(strictEnv, "")
	_, _, stderr := runCLI(t, "", "check", df)
	if !strings.Contains(stderr, "which is not at the root of its build context") {
		t.Errorf("no note with the default context (the Dockerfile's directory):\n%s", stderr)
	}
	_, _, stderr = runCLI(t, "", "check", "--context", repo, df)
	if strings.Contains(stderr, "note:") {
		t.Errorf("a note with the repository as the context:\n%s", stderr)
	}
}
