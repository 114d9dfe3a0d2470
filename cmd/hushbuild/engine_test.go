package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hushbuild/hushbuild/internal/sarif/sariftest"
	"github.com/hushbuild/hushbuild/rewrite"
	"github.com/hushbuild/hushbuild/rewrite/report"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// The tests in this file run the real engine. They check the commands'
// contracts (valid reports, known rules, fail-closed, parseable output,
// no secret value printed), not the exact findings, which belong to the
// engine's own golden tests.

var findingLine = regexp.MustCompile(`^[^:]+(:\d+)?: \[[A-Za-z]+\] (info|warning|error): \S`)

func TestRealEngineContracts(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.Dockerfile")
	files = append(files, examplesDockerfiles(t)...)
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, parseErr := parser.Parse(bytes.NewReader(src))

			code, stdout, stderr := runCLI(t, "", "check", "--format", "sarif", "--fail-on", "none", f)
			if code == 2 {
				if !strings.HasPrefix(stderr, f+":") {
					t.Errorf("check: an error that does not start with the file name: %q", stderr)
				}
			} else if code != 0 {
				t.Errorf("check --fail-on none: exit %d: %s", code, stderr)
			}
			if err := sariftest.ValidateGitHub([]byte(stdout)); err != nil {
				t.Errorf("check --format sarif: %v", err)
			}

			code, stdout, _ = runCLI(t, "", "check", "--format", "json", f)
			var doc report.JSONReport
			if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
				t.Fatalf("check --format json: %v", err)
			}
			findings := 0
			for _, jf := range doc.Files {
				for _, fd := range jf.Findings {
					findings++
					if _, ok := rewrite.LookupRule(fd.Rule); !ok {
						t.Errorf("finding of rule %q, which is not in rewrite.Rules (no docs page)", fd.Rule)
					}
					if fd.Range.Start < 1 || fd.Range.End < fd.Range.Start {
						t.Errorf("finding %s has range %+v", fd.Rule, fd.Range)
					}
				}
			}
			if (code == 1) != (findings > 0 && hasAtLeast(doc, rewrite.SeverityWarning)) && code != 2 {
				t.Errorf("check: exit %d with %d findings", code, findings)
			}

			_, stdout, _ = runCLI(t, "", "check", f)
			for _, l := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
				if l != "" && !findingLine.MatchString(l) {
					t.Errorf("check: text line not in file:line: [Rule] severity: message form: %q", l)
				}
			}

			code, stdout, stderr = runCLI(t, "", "rewrite", "-q", f)
			switch code {
			case 0:
				if _, err := parser.Parse(strings.NewReader(stdout)); err != nil && parseErr == nil {
					t.Errorf("rewrite output does not parse: %v", err)
				}
				if findings == 0 && stdout != string(src) {
					t.Errorf("rewrite changed a file with no finding")
				}
				if stderr != "" {
					t.Errorf("rewrite -q printed on stderr: %q", stderr)
				}
			case 1:
				if stdout != "" {
					t.Errorf("rewrite failed but printed a Dockerfile (must fail closed)")
				}
				if !strings.Contains(stderr, "] error: ") {
					t.Errorf("rewrite exit 1 without an error finding on stderr: %q", stderr)
				}
			case 2:
				if stdout != "" {
					t.Errorf("rewrite failed but printed a Dockerfile (must fail closed)")
				}
			}

			code, stdout, _ = runCLI(t, "", "secrets", f)
			if code != 0 && stdout != "" {
				t.Errorf("secrets failed (exit %d) but printed flags", code)
			}
			for _, l := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
				if l != "" && !strings.HasPrefix(l, "--secret id=") && !strings.HasPrefix(l, "--ssh ") {
					t.Errorf("secrets: %q is not a --secret or --ssh flag", l)
				}
			}
		})
	}
}

func hasAtLeast(doc report.JSONReport, sev rewrite.Severity) bool {
	for _, f := range doc.Files {
		for _, fd := range f.Findings {
			if s, ok := rewrite.ParseSeverity(fd.Severity); ok && s >= sev {
				return true
			}
		}
	}
	return false
}

// examplesDockerfiles lists the legacy Dockerfiles of the golden examples.
func examplesDockerfiles(t *testing.T) []string {
	files, _ := filepath.Glob("../../examples/*/Dockerfile")
	return files
}

// TestRealEngineParseError: a Dockerfile BuildKit rejects gives exit 2 and
// file:line: on stderr, with nothing on stdout.
func TestRealEngineParseError(t *testing.T) {
	if _, err := rewrite.Rewrite([]byte("FROM alpine\nRUN true\nFOO bar\n"), rewrite.Config{}); err == nil {
		t.Log("the engine accepts an unknown instruction (not parsing yet); the scripted engine covers this path in TestCommands")
		return
	}
	for _, cmd := range []string{"check", "rewrite", "secrets"} {
		code, stdout, stderr := runCLI(t, "", cmd, "testdata/bad.Dockerfile")
		if code != 2 || !strings.HasPrefix(stderr, "testdata/bad.Dockerfile:3: ") {
			t.Errorf("%s: exit %d, stderr %q; want 2 and testdata/bad.Dockerfile:3:", cmd, code, stderr)
		}
		if cmd != "check" && stdout != "" {
			t.Errorf("%s printed on stdout after a parse error", cmd)
		}
	}
}

// TestNoSecretValueInOutput puts a random canary in the places a secret
// value sits in a legacy Dockerfile and checks that no report prints it.
func TestNoSecretValueInOutput(t *testing.T) {
	b := make([]byte, 12)
	rand.Read(b)
	canary := "hfc" + hex.EncodeToString(b)
	src := "FROM alpine:3.20 AS build\n" +
		"ARG API_TOKEN=" + canary + "\n" +
		"ENV DATABASE_PASSWORD=\"" + canary + "\"\n" +
		"ENV AWS_SECRET_ACCESS_KEY " + canary + "\n" +
		"RUN echo building\n" +
		"LABEL token=$API_TOKEN\n"
	dir := t.TempDir()
	path := filepath.Join(dir, "Dockerfile")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	runs := [][]string{
		{"check", path},
		{"check", "--format", "json", path},
		{"check", "--format", "sarif", path},
		{"secrets", path},
		{"rewrite", path},
		{"rewrite", "--diff", path},
	}
	for _, engine := range []string{"real", "scripted"} {
		if engine == "scripted" {
			withFakeEngine(t)
		}
		for _, args := range runs {
			code, stdout, stderr := runCLI(t, "", args...)
			if strings.Contains(stderr, canary) {
				t.Errorf("%s engine: hushbuild %s printed the secret value on stderr", engine, strings.Join(args[:len(args)-1], " "))
			}
			// rewrite prints the Dockerfile itself when it succeeds; a
			// literal credential must make it fail instead, but that is
			// the engine's finding to make.
			if args[0] == "rewrite" && code == 0 {
				continue
			}
			if strings.Contains(stdout, canary) {
				t.Errorf("%s engine: hushbuild %s printed the secret value on stdout", engine, strings.Join(args[:len(args)-1], " "))
			}
		}
	}
}

// TestCorpusReports runs check over every real Dockerfile of the shared
// corpus at once and validates each report format. Without ../shared
// beside the repository (a plain clone) it skips, saying so; with CI set
// it fails instead: CI always has ../shared.
func TestCorpusReports(t *testing.T) {
	root := filepath.Join("..", "..", "..", "shared", "corpus")
	if _, err := os.Stat(filepath.Dir(root)); os.IsNotExist(err) {
		if os.Getenv("CI") != "" {
			t.Fatalf("../shared is absent (%s): CI must have it beside the repository", filepath.Dir(root))
		}
		t.Skipf("../shared is absent (%s): skipping the test over its corpus of real Dockerfiles", filepath.Dir(root))
	}
	var files []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() || name == "LICENSE" || name == "COMMIT" || strings.HasSuffix(name, ".md") || strings.HasSuffix(name, ".tsv") {
			return nil
		}
		files = append(files, p)
		return nil
	})
	if err != nil || len(files) == 0 {
		t.Fatalf("the corpus of real Dockerfiles must be at %s: %v", root, err)
	}

	code, stdout, stderr := runCLI(t, "", append([]string{"check", "--format", "sarif", "--fail-on", "none"}, files...)...)
	if code != 0 && code != 2 {
		t.Errorf("check --fail-on none: exit %d", code)
	}
	if err := sariftest.ValidateGitHub([]byte(stdout)); err != nil {
		t.Errorf("SARIF over the corpus: %v", err)
	}
	for _, l := range strings.Split(strings.TrimSuffix(stderr, "\n"), "\n") {
		if l != "" && !regexp.MustCompile(`^[^:]+:(\d+:)? `).MatchString(l) {
			t.Errorf("error line without file name: %q", l)
		}
	}

	_, stdout, _ = runCLI(t, "", append([]string{"check", "--format", "json"}, files...)...)
	var doc report.JSONReport
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("JSON over the corpus: %v", err)
	}
	if len(doc.Files) != len(files) {
		t.Errorf("JSON report has %d files, want %d", len(doc.Files), len(files))
	}

	_, stdout, _ = runCLI(t, "", append([]string{"check"}, files...)...)
	lines := 0
	for _, l := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		if l == "" {
			continue
		}
		lines++
		if !findingLine.MatchString(l) {
			t.Errorf("text line not in file:line: [Rule] severity: message form: %q", l)
		}
	}
	t.Logf("%d corpus files, %d findings", len(files), lines)
}
