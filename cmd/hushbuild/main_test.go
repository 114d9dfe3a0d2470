package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	goldenfile "github.com/hushbuild/hushbuild/internal/golden"

	"github.com/hushbuild/hushbuild/internal/sarif"
	"github.com/hushbuild/hushbuild/rewrite"
)

// runCLI runs hushbuild with args and stdin and returns the exit code and
// both outputs.
func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, stdio{in: strings.NewReader(stdin), out: &out, err: &errb})
	return code, out.String(), errb.String()
}

// withFakeEngine swaps the engine for the scripted fakeEngine.
func withFakeEngine(t *testing.T) {
	t.Helper()
	saved := rewriteDockerfile
	rewriteDockerfile = fakeEngine
	t.Cleanup(func() { rewriteDockerfile = saved })
}

// TestCommands runs each command through run() against the scripted
// engine and compares exit code, stdout and stderr with a golden file.
func TestCommands(t *testing.T) {
	withFakeEngine(t)
	secretArgStdin, err := os.ReadFile("testdata/secret-arg.Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		stdin string
		code  int
	}{
		{"help", []string{"help"}, "", 0},
		{"help-command", []string{"help", "secrets"}, "", 0},
		{"no-args", nil, "", 2},
		{"unknown-command", []string{"lint"}, "", 2},
		{"help-unknown-command", []string{"help", "lint"}, "", 2},

		{"check-text", []string{"check", "testdata/secret-arg.Dockerfile", "testdata/clean.Dockerfile", "testdata/hardcoded.Dockerfile"}, "", 1},
		{"check-clean", []string{"check", "testdata/clean.Dockerfile"}, "", 0},
		{"check-fail-on-error-warnings-only", []string{"check", "--fail-on", "error", "testdata/secret-arg.Dockerfile"}, "", 0},
		{"check-fail-on-error", []string{"check", "--fail-on=error", "testdata/hardcoded.Dockerfile"}, "", 1},
		{"check-fail-on-none", []string{"check", "-fail-on", "none", "testdata/hardcoded.Dockerfile"}, "", 0},
		{"check-fail-on-info", []string{"check", "-fail-on", "info", "testdata/clean.Dockerfile"}, "", 0},
		{"check-json", []string{"check", "--format", "json", "testdata/secret-arg.Dockerfile", "testdata/clean.Dockerfile", "testdata/bad.Dockerfile"}, "", 2},
		{"check-sarif", []string{"check", "--format", "sarif", "testdata/secret-arg.Dockerfile", "testdata/hardcoded.Dockerfile"}, "", 1},
		{"check-flags-after-file", []string{"check", "testdata/secret-arg.Dockerfile", "--format", "json", "--fail-on", "none"}, "", 0},
		{"check-stdin", []string{"check", "-"}, string(secretArgStdin), 1},
		{"check-parse-error", []string{"check", "testdata/bad.Dockerfile", "testdata/secret-arg.Dockerfile"}, "", 2},
		{"check-missing-file", []string{"check", "testdata/missing.Dockerfile"}, "", 2},
		{"check-no-file", []string{"check"}, "", 2},
		{"check-bad-format", []string{"check", "--format", "xml", "testdata/clean.Dockerfile"}, "", 2},
		{"check-bad-fail-on", []string{"check", "--fail-on", "fatal", "testdata/clean.Dockerfile"}, "", 2},
		{"check-bad-flag", []string{"check", "--nope", "testdata/clean.Dockerfile"}, "", 2},
		{"check-bad-config", []string{"check", "--config", "optional=maybe", "testdata/clean.Dockerfile"}, "", 2},
		{"check-unknown-rule", []string{"check", "--disable", "SecretArg,NoSuchRule", "testdata/clean.Dockerfile"}, "", 2},
		{"check-stdin-twice", []string{"check", "-", "-"}, "", 2},
		{"check-engine-panic", []string{"check", "testdata/panic.Dockerfile"}, "", 2},
		{"check-help", []string{"check", "-h"}, "", 0},
		{"check-dash-dash", []string{"check", "--", "testdata/clean.Dockerfile"}, "", 0},

		{"rewrite", []string{"rewrite", "testdata/secret-arg.Dockerfile"}, "", 0},
		{"rewrite-quiet", []string{"rewrite", "-q", "testdata/secret-arg.Dockerfile"}, "", 0},
		{"rewrite-clean", []string{"rewrite", "testdata/clean.Dockerfile"}, "", 0},
		{"rewrite-stdin", []string{"rewrite", "-q", "-"}, string(secretArgStdin), 0},
		{"rewrite-diff", []string{"rewrite", "--diff", "testdata/secret-arg.Dockerfile", "testdata/clean.Dockerfile"}, "", 0},
		{"rewrite-fail-closed", []string{"rewrite", "testdata/hardcoded.Dockerfile"}, "", 1},
		{"rewrite-diff-fail-closed", []string{"rewrite", "--diff", "testdata/hardcoded.Dockerfile"}, "", 1},
		{"rewrite-parse-error", []string{"rewrite", "testdata/bad.Dockerfile"}, "", 2},
		{"rewrite-two-files", []string{"rewrite", "testdata/clean.Dockerfile", "testdata/secret-arg.Dockerfile"}, "", 2},
		{"rewrite-write-stdin", []string{"rewrite", "-w", "-"}, "", 2},
		{"rewrite-no-file", []string{"rewrite"}, "", 2},
		{"rewrite-help", []string{"rewrite", "--help"}, "", 0},

		{"secrets", []string{"secrets", "testdata/secret-arg.Dockerfile"}, "", 0},
		{"secrets-clean", []string{"secrets", "testdata/clean.Dockerfile"}, "", 0},
		{"secrets-fail-closed", []string{"secrets", "testdata/hardcoded.Dockerfile"}, "", 1},
		{"secrets-parse-error", []string{"secrets", "testdata/bad.Dockerfile"}, "", 2},
		{"secrets-two-files", []string{"secrets", "testdata/clean.Dockerfile", "testdata/secret-arg.Dockerfile"}, "", 2},
		{"secrets-help", []string{"secrets", "-h"}, "", 0},
		{"secrets-format-flags", []string{"secrets", "--format", "flags", "testdata/secret-arg.Dockerfile"}, "", 0},
		{"secrets-format-text", []string{"secrets", "--format", "text", "testdata/secret-arg.Dockerfile"}, "", 0},
		{"secrets-format-compose", []string{"secrets", "--format", "compose", "testdata/secret-arg.Dockerfile"}, "", 0},
		{"secrets-format-bake", []string{"secrets", "--format=bake", "testdata/secret-arg.Dockerfile"}, "", 0},
		{"secrets-format-gha", []string{"secrets", "--format", "gha", "testdata/secret-arg.Dockerfile"}, "", 0},
		{"secrets-format-json", []string{"secrets", "--format", "json", "testdata/secret-arg.Dockerfile"}, "", 0},
		{"secrets-format-compose-clean", []string{"secrets", "--format", "compose", "testdata/clean.Dockerfile"}, "", 0},
		{"secrets-format-json-clean", []string{"secrets", "--format", "json", "testdata/clean.Dockerfile"}, "", 0},
		{"secrets-format-bad", []string{"secrets", "--format", "yaml", "testdata/secret-arg.Dockerfile"}, "", 2},
		{"secrets-format-fail-closed", []string{"secrets", "--format", "bake", "testdata/hardcoded.Dockerfile"}, "", 1},

		{"migrate", []string{"migrate", "testdata/migrate"}, "", 1},
		{"migrate-rewrite", []string{"migrate", "--rewrite", "testdata/migrate"}, "", 1},
		{"migrate-clean", []string{"migrate", "testdata/migrate-clean"}, "", 0},
		{"migrate-parse-error", []string{"migrate", "testdata/migrate-bad"}, "", 2},
		{"migrate-missing-dir", []string{"migrate", "testdata/no-such-dir"}, "", 2},
		{"migrate-two-dirs", []string{"migrate", "testdata/migrate", "testdata/migrate-clean"}, "", 2},
		{"migrate-help", []string{"migrate", "-h"}, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.stdin, tt.args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			got := fmt.Sprintf("$ hushbuild %s\nexit: %d\n-- stdout --\n%s-- stderr --\n%s", strings.Join(tt.args, " "), code, stdout, stderr)
			golden(t, filepath.Join("testdata", "golden", tt.name+".txt"), []byte(got))
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	goldenfile.Check(t, path, got)
}

func TestVersion(t *testing.T) {
	code, stdout, _ := runCLI(t, "", "version")
	if code != 0 || !regexp.MustCompile(`^hushbuild \S+.* go1\.\d+`).MatchString(stdout) {
		t.Errorf("version: exit %d, output %q", code, stdout)
	}
}

// TestEveryCommandHasHelp checks -h on every registered command, including
// ones registered by other files.
func TestEveryCommandHasHelp(t *testing.T) {
	for name, c := range commands {
		if c.summary == "" {
			t.Errorf("command %s has no summary", name)
		}
		code, stdout, stderr := runCLI(t, "", name, "-h")
		if code != 0 || !strings.Contains(stdout, "usage: hushbuild "+name) || stderr != "" {
			t.Errorf("%s -h: exit %d, stdout %q, stderr %q", name, code, stdout, stderr)
		}
	}
}

// TestConfigFlags checks that the common flags reach the engine.
func TestConfigFlags(t *testing.T) {
	withFakeEngine(t)
	tests := []struct {
		args []string
		want rewrite.Config
	}{
		{nil, rewrite.Config{}},
		{[]string{"--secret-names", "SENTRY_DSN, INTERNAL_URL", "--secret-names=X"},
			rewrite.Config{Secrets: []string{"SENTRY_DSN", "INTERNAL_URL", "X"}}},
		{[]string{"--not-secret-names", "GPG_KEY", "--secret-files", "*.token,conf/creds.ini"},
			rewrite.Config{NotSecrets: []string{"GPG_KEY"}, SecretFiles: []string{"*.token", "conf/creds.ini"}}},
		{[]string{"--optional", "--allow-runtime-secret-files", "--target", "build", "--disable", "secretenv"},
			rewrite.Config{Optional: true, AllowRuntimeSecretFiles: true, Target: "build", Disable: []string{"secretenv"}}},
		{[]string{"--secret-names", "A", "--config", "secrets=B;optional=true;target=final"},
			rewrite.Config{Secrets: []string{"A", "B"}, Optional: true, Target: "final"}},
		{[]string{"--optional", "--config", "optional=false"}, rewrite.Config{}},
	}
	for _, cmd := range []string{"check", "rewrite", "secrets"} {
		for _, tt := range tests {
			lastConfig = rewrite.Config{Secrets: []string{"stale"}}
			args := append([]string{cmd}, tt.args...)
			args = append(args, "testdata/clean.Dockerfile")
			if code, _, stderr := runCLI(t, "", args...); code != 0 {
				t.Fatalf("%v: exit %d: %s", args, code, stderr)
			}
			if !reflect.DeepEqual(normalize(lastConfig), normalize(tt.want)) {
				t.Errorf("%v: engine got %+v, want %+v", args, lastConfig, tt.want)
			}
		}
	}
}

func normalize(c rewrite.Config) rewrite.Config {
	for _, l := range []*[]string{&c.Secrets, &c.NotSecrets, &c.SecretFiles, &c.Disable} {
		if len(*l) == 0 {
			*l = nil
		}
	}
	// The build context is listed by default (context_test.go tests it).
	c.ContextFiles, c.ContextListed = nil, false
	return c
}

// TestCheckSARIFValid validates the SARIF of every test Dockerfile against
// the spec and GitHub code scanning's requirements.
func TestCheckSARIFValid(t *testing.T) {
	withFakeEngine(t)
	files, _ := filepath.Glob("testdata/*.Dockerfile")
	for _, f := range files {
		_, stdout, _ := runCLI(t, "", "check", "--format", "sarif", f)
		if err := sarif.ValidateGitHub([]byte(stdout)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		if !strings.Contains(stdout, `"uri": "testdata/`) && !strings.Contains(stdout, `"results": []`) {
			t.Errorf("%s: artifact URIs are not relative to the working directory", f)
		}
	}
}

func TestBuildFlags(t *testing.T) {
	reqs := []rewrite.Requirement{
		{Kind: rewrite.SecretFile, ID: ".netrc", Src: ".netrc", Flag: "--secret id=.netrc,src=.netrc"},
		{Kind: rewrite.SecretEnv, ID: "A", Env: "A", Flag: "--secret id=A,env=A"},
		{Kind: rewrite.SecretEnv, ID: "A", Env: "A", Flag: "--secret id=A,env=A"}, // same flag twice
		{Kind: rewrite.SecretEnv, ID: "B"},                                        // no flag: derived
		{Kind: rewrite.SecretFile, ID: "npmrc", Src: "conf/.npmrc"},
		{Kind: rewrite.SSH, ID: "default", Flag: "--ssh default"},
		{Kind: rewrite.SSH},
	}
	want := []string{"--secret id=.netrc,src=.netrc", "--secret id=A,env=A", "--secret id=B,env=B", "--secret id=npmrc,src=conf/.npmrc", "--ssh default"}
	if got := buildFlags(reqs); !reflect.DeepEqual(got, want) {
		t.Errorf("buildFlags = %q, want %q", got, want)
	}
}

func TestParseFlagsInterspersed(t *testing.T) {
	tests := []struct {
		args []string
		pos  []string
		v    bool
	}{
		{[]string{"a", "-v", "b"}, []string{"a", "b"}, true},
		{[]string{"-v", "a"}, []string{"a"}, true},
		{[]string{"a", "--", "-v"}, []string{"a", "-v"}, false},
		{[]string{"-", "-v"}, []string{"-"}, true},
		{nil, nil, false},
	}
	for _, tt := range tests {
		fs := newFlagSet("x", "", "")
		v := fs.Bool("v", false, "")
		pos, code, done := parseFlags(fs, tt.args, stdio{out: &bytes.Buffer{}, err: &bytes.Buffer{}})
		if done || code != 0 || !reflect.DeepEqual(pos, tt.pos) || *v != tt.v {
			t.Errorf("parseFlags(%q) = %q, %d, %v (v=%v); want %q, v=%v", tt.args, pos, code, done, *v, tt.pos, tt.v)
		}
	}
}
