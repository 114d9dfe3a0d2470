package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	goldenfile "github.com/hushbuild/hushbuild/internal/golden"

	"github.com/hushbuild/hushbuild/internal/sarif/sariftest"
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
		{"check-dir", []string{"check", "testdata/tree"}, "", 1},
		{"check-dir-no-dockerfile", []string{"check", "testdata/nodockerfile"}, "", 2},
		{"check-ignore-file-skipped", []string{"check", "testdata/tree/Dockerfile", "testdata/tree/Dockerfile.dockerignore"}, "", 1},
		{"check-markdown", []string{"check", "--format", "markdown", "testdata/secret-arg.Dockerfile", "testdata/clean.Dockerfile", "testdata/hardcoded.Dockerfile", "testdata/bad.Dockerfile"}, "", 2},
		{"check-markdown-clean", []string{"check", "--format=markdown", "testdata/clean.Dockerfile"}, "", 0},
		{"check-legacy-single-dash", []string{"check", "-format", "json", "-fail-on=none", "testdata/secret-arg.Dockerfile"}, "", 0},

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
		{"rewrite-markdown", []string{"rewrite", "--format", "markdown", "testdata/secret-arg.Dockerfile", "testdata/hardcoded.Dockerfile", "testdata/clean.Dockerfile"}, "", 1},
		{"rewrite-markdown-and-diff", []string{"rewrite", "--format", "markdown", "--diff", "testdata/secret-arg.Dockerfile"}, "", 2},
		{"rewrite-dir-diff", []string{"rewrite", "-q", "--diff", "testdata/tree"}, "", 0},
		{"rewrite-dir-needs-w", []string{"rewrite", "testdata/tree"}, "", 2},

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

// TestEveryCommandHasHelp checks --help, -h and `help NAME` on every
// registered command, including ones registered by other files.
func TestEveryCommandHasHelp(t *testing.T) {
	root := newRoot(stdio{})
	for _, c := range root.Commands() {
		name := c.Name()
		if c.Short == "" || c.Long == "" {
			t.Errorf("command %s has no summary or help text", name)
		}
		for _, args := range [][]string{{name, "--help"}, {name, "-h"}, {"help", name}} {
			code, stdout, stderr := runCLI(t, "", args...)
			if code != 0 || !strings.HasPrefix(stdout, "usage: hushbuild "+name) || stderr != "" {
				t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
			}
			if c.HasAvailableLocalFlags() && !regexp.MustCompile(`(?m)^ +(-\w, )?--[a-z]`).MatchString(stdout) {
				t.Errorf("%q: the help prints no --flag:\n%s", args, stdout)
			}
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
		if err := sariftest.ValidateGitHub([]byte(stdout)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		if err := sariftest.CheckRuleNames([]byte(stdout)); err != nil {
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

// TestNormalizeArgs checks that the single-dash long flags of earlier
// versions are still read, and nothing else is touched.
func TestNormalizeArgs(t *testing.T) {
	tests := []struct{ in, want []string }{
		{[]string{"check", "-format", "json", "f"}, []string{"check", "--format", "json", "f"}},
		{[]string{"check", "-fail-on=none", "f"}, []string{"check", "--fail-on=none", "f"}},
		{[]string{"check", "--config", "-format", "f"}, []string{"check", "--config", "-format", "f"}},
		{[]string{"check", "-o", "-format", "f"}, []string{"check", "-o", "-format", "f"}},
		{[]string{"check", "--", "-format"}, []string{"check", "--", "-format"}},
		{[]string{"check", "-", "-format", "json"}, []string{"check", "-", "--format", "json"}},
		{[]string{"rewrite", "-wq", "-diff", "f"}, []string{"rewrite", "-wq", "--diff", "f"}},
		{[]string{"rewrite", "--w", "f"}, []string{"rewrite", "--write", "f"}},
		{[]string{"verify", "-patterns=false", "-secret", "id=-format", "i"}, []string{"verify", "--patterns=false", "--secret", "id=-format", "i"}},
		{[]string{"-version"}, []string{"--version"}},
		{[]string{"-help"}, []string{"--help"}},
		{[]string{"check", "-help"}, []string{"check", "--help"}},
		{[]string{"nope", "-format"}, []string{"nope", "-format"}},
	}
	for _, tt := range tests {
		got := normalizeArgs(newRoot(stdio{}), tt.in)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("normalizeArgs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestFlagConventions checks the conventions of docker's command line:
// combined short flags, unknown flags and extra arguments as usage errors,
// flags after arguments.
func TestFlagConventions(t *testing.T) {
	withFakeEngine(t)
	tests := []struct {
		name string
		args []string
		code int
		err  string // in stderr; "" for none
	}{
		{"combined short flags", []string{"rewrite", "-wq", "--diff", "testdata/clean.Dockerfile"}, 0, ""},
		{"unknown short flag", []string{"rewrite", "-wz", "testdata/clean.Dockerfile"}, 2, "unknown shorthand flag: 'z' in -z"},
		{"unknown long flag", []string{"check", "--nope", "testdata/clean.Dockerfile"}, 2, "unknown flag: --nope"},
		{"flag without value", []string{"check", "testdata/clean.Dockerfile", "--format"}, 2, "flag needs an argument: --format"},
		{"bad bool", []string{"verify", "--patterns=maybe", "x"}, 2, "invalid argument \"maybe\""},
		{"version extra", []string{"version", "now"}, 2, "unexpected argument \"now\""},
		{"help extra", []string{"help", "check", "more"}, 2, "unexpected argument \"more\""},
		{"secrets extra", []string{"secrets", "testdata/clean.Dockerfile", "more"}, 2, "want exactly one Dockerfile, got 2"},
		{"verify extra", []string{"verify", "a", "b"}, 2, "want exactly one IMAGE, got 2"},
		{"unknown command", []string{"chek"}, 2, "did you mean check?"},
		{"version flag", []string{"--version"}, 0, ""},
		{"completion extra", []string{"completion", "bash", "more"}, 2, ""},
		{"completion without a shell", []string{"completion"}, 2, "no shell given"},
		{"completion of an unknown shell", []string{"completion", "tcsh"}, 2, `unknown shell "tcsh"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, "", tt.args...)
			if code != tt.code || tt.err != "" && !strings.Contains(stderr, tt.err) || tt.code == 0 && stderr != "" {
				t.Errorf("%q: exit %d, want %d; stderr %q, want %q in it", tt.args, code, tt.code, stderr, tt.err)
			}
			if tt.code == exitUsage && !strings.Contains(stderr, "--help' for usage") && !strings.Contains(stderr, "hushbuild help") {
				t.Errorf("%q: a usage error without a pointer to the help: %q", tt.args, stderr)
			}
		})
	}
}

// TestCompletion checks that every shell gets a script and that flag
// values and commands complete.
func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		code, stdout, stderr := runCLI(t, "", "completion", shell)
		if code != 0 || !strings.Contains(stdout, "hushbuild") || len(stdout) < 1000 || stderr != "" {
			t.Errorf("completion %s: exit %d, %d bytes, stderr %q", shell, code, len(stdout), stderr)
		}
	}
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", ""}, []string{"check", "rewrite", "secrets", "verify", "completion", "help", "version"}},
		{[]string{"__complete", "check", "--format", ""}, []string{"text", "json", "sarif", "markdown"}},
		{[]string{"__complete", "check", "--fo"}, []string{"--format"}},
		{[]string{"__complete", "verify", "--rules", "github"}, []string{"github-token"}},
		{[]string{"__complete", "check", "testdata/cl"}, []string{"testdata/clean.Dockerfile"}},
	}
	for _, tt := range tests {
		code, stdout, _ := runCLI(t, "", tt.args...)
		if code != 0 {
			t.Errorf("%q: exit %d", tt.args, code)
		}
		var got []string
		for _, l := range strings.Split(stdout, "\n") {
			if l != "" && !strings.HasPrefix(l, ":") && !strings.HasPrefix(l, "Completion ended") {
				got = append(got, strings.SplitN(l, "\t", 2)[0])
			}
		}
		for _, w := range tt.want {
			if !slices.Contains(got, w) {
				t.Errorf("%q: completions %q lack %q", tt.args, got, w)
			}
		}
	}
}

// TestOutputFile checks that -o writes to the file exactly what stdout
// would get, and nothing to stdout.
func TestOutputFile(t *testing.T) {
	withFakeEngine(t)
	tests := [][]string{
		{"check", "--format", "sarif", "testdata/secret-arg.Dockerfile"},
		{"check", "--format", "markdown", "testdata/tree"},
		{"check", "testdata/hardcoded.Dockerfile"},
		{"rewrite", "-q", "testdata/secret-arg.Dockerfile"},
		{"rewrite", "-q", "--diff", "testdata/tree"},
		{"rewrite", "-q", "--format", "markdown", "testdata/tree"},
	}
	for _, args := range tests {
		wantCode, want, wantErr := runCLI(t, "", args...)
		file := filepath.Join(t.TempDir(), "report")
		code, stdout, stderr := runCLI(t, "", append(args, "-o", file)...)
		got, err := os.ReadFile(file)
		if err != nil {
			t.Errorf("%q -o: %v", args, err)
			continue
		}
		if code != wantCode || stdout != "" || stderr != wantErr || string(got) != want {
			t.Errorf("%q -o: exit %d (want %d), stdout %q, stderr %q; the file differs from stdout: %v", args, code, wantCode, stdout, stderr, string(got) != want)
		}
	}
	// A refused rewrite writes no file.
	file := filepath.Join(t.TempDir(), "out")
	if code, _, _ := runCLI(t, "", "rewrite", "-o", file, "testdata/hardcoded.Dockerfile"); code != 1 {
		t.Errorf("refused rewrite -o: exit %d, want 1", code)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("refused rewrite -o: the file exists (%v)", err)
	}
}

// TestIsDockerfileName pins which names a directory argument takes.
func TestIsDockerfileName(t *testing.T) {
	for name, want := range map[string]bool{
		"Dockerfile": true, "dockerfile": true, "Dockerfile.dev": true, "api.Dockerfile": true,
		"Dockerfile.hushbuild": true, "DOCKERFILE.prod": true,
		"Dockerfile.dockerignore": false, "api.Dockerfile.dockerignore": false, ".dockerignore": false,
		"Dockerfiles": false, "README.md": false, "MyDockerfile": false, "Containerfile": false,
	} {
		if got := isDockerfileName(name); got != want {
			t.Errorf("isDockerfileName(%q) = %v, want %v", name, got, want)
		}
	}
}

// countingReader counts what is read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestRefusesHugeDockerfile pins the refusal of a Dockerfile past
// rewrite.MaxDockerfileSize (a 50 MB one once took minutes and GBs): a
// file is refused on its size without being read, standard input after
// one byte past the limit; the message names the limit, exit status 2,
// and the other files are still checked.
func TestRefusesHugeDockerfile(t *testing.T) {
	withFakeEngine(t)
	dir := t.TempDir()
	huge := filepath.Join(dir, "Dockerfile")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("FROM alpine\nARG NPM_TOKEN\n")
	f.Truncate(50 << 20) // sparse: nothing is written past the header
	f.Close()
	want := fmt.Sprintf("%s: the Dockerfile is %d bytes, more than the %d (512 KiB) hushbuild reads", huge, 50<<20, rewrite.MaxDockerfileSize)
	for _, cmd := range [][]string{{"check"}, {"rewrite", "--diff"}, {"secrets"}} {
		args := append(append([]string{}, cmd...), huge)
		if cmd[0] == "check" {
			args = append(args, "testdata/secret-arg.Dockerfile")
		}
		code, stdout, stderr := runCLI(t, "", args...)
		if code != exitUsage || !strings.Contains(stderr, want) {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and %q", args, code, stderr, want)
		}
		if cmd[0] == "check" && !strings.Contains(stdout, "secret-arg.Dockerfile:3") {
			t.Errorf("check: the other file was not reported: %q", stdout)
		}
	}
	// Standard input: read up to the limit and one byte, no more.
	in := &countingReader{r: io.LimitReader(zeroReader{}, 50<<20)}
	var out, errb bytes.Buffer
	code := run([]string{"check", "-"}, stdio{in: in, out: &out, err: &errb})
	if code != exitUsage || !strings.Contains(errb.String(), "<stdin>: the Dockerfile is over 524288 bytes") {
		t.Errorf("stdin: exit %d, stderr %q", code, errb.String())
	}
	if in.n > rewrite.MaxDockerfileSize+1 {
		t.Errorf("stdin: read %d bytes, want at most %d", in.n, rewrite.MaxDockerfileSize+1)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// FuzzNormalizeArgs checks that the reading of earlier single-dash long
// flags never panics, keeps the number of arguments, only ever adds one
// dash, leaves everything after "--" alone, and is idempotent.
func FuzzNormalizeArgs(f *testing.F) {
	for _, s := range []string{"check -format json f", "rewrite -wq -diff -- -format", "verify -o -format -secret id=x i", "-version", "help -h", "check --config -fail-on f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Fields(line)
		root := newRoot(stdio{})
		got := normalizeArgs(root, args)
		if len(got) != len(args) {
			t.Fatalf("normalizeArgs(%q) = %q: length changed", args, got)
		}
		dashdash := false
		for i := range args {
			if got[i] != args[i] && (dashdash || got[i] != "-"+args[i] && !strings.HasPrefix(args[i], "--")) {
				t.Fatalf("normalizeArgs(%q) = %q: argument %d changed beyond a dash", args, got, i)
			}
			if args[i] == "--" {
				dashdash = true
			}
		}
		if again := normalizeArgs(newRoot(stdio{}), got); !slices.Equal(again, got) {
			t.Fatalf("normalizeArgs is not idempotent: %q, then %q", got, again)
		}
	})
}
