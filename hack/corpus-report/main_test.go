package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpusDir and reportFile are the shared corpus and the committed report,
// from this package's directory.
var (
	corpusDir  = filepath.Join("..", "..", "..", "shared", "corpus")
	reportFile = filepath.Join("..", "..", "examples", "CORPUS.md")
)

// needShared skips the test when ../shared is not beside the repository
// (a plain clone), saying so; with CI set it fails instead: CI always has
// ../shared.
func needShared(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Dir(corpusDir)); os.IsNotExist(err) {
		if os.Getenv("CI") != "" {
			t.Fatalf("../shared is absent (%s): CI must have it beside the repository", filepath.Dir(corpusDir))
		}
		t.Skipf("../shared is absent (%s): skipping the test over its corpus of real Dockerfiles", filepath.Dir(corpusDir))
	}
}

// TestCorpusReportUpToDate checks that examples/CORPUS.md is what the
// engine does with the corpus today, so that a change of the engine that
// changes its results on real Dockerfiles shows up in review.
func TestCorpusReportUpToDate(t *testing.T) {
	needShared(t)
	if _, err := os.Stat(corpusDir); err != nil {
		t.Fatalf("the corpus of real Dockerfiles must be at %s: %v", corpusDir, err)
	}
	got, err := Report(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(reportFile)
	if err != nil {
		t.Fatalf("examples/CORPUS.md: %v: run hack/corpus-report.sh", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("examples/CORPUS.md is out of date: run hack/corpus-report.sh\n%s", lineDiff(string(want), string(got)))
	}
}

// TestReportDeterministic checks that two runs give the same bytes.
func TestReportDeterministic(t *testing.T) {
	needShared(t)
	a, err := Report(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Report(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("two runs over the same corpus differ")
	}
}

// TestReportCounts runs the report over a small corpus made here and checks
// each column.
func TestReportCounts(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"a/clean.Dockerfile":    "FROM alpine\nRUN echo hi\n",
		"a/arg.Dockerfile":      "FROM alpine\nARG NPM_TOKEN\nRUN npm ci\n",
		"a/broken.Dockerfile":   "FROM alpine\nNOSUCH x\n",
		"a/LICENSE":             "not a Dockerfile\n",
		"a/COMMIT":              "0123\n",
		"a/README.md":           "# notes\n",
		"a/INDEX.tsv":           "file\tpatterns\n",
		"b/expanded.Dockerfile": "FROM alpine\nARG API_TOKEN\nLABEL t=$API_TOKEN\n",
		"b/two-args.Dockerfile": "FROM alpine\nARG DB_PASSWORD\nARG API_KEY\nRUN ./setup.sh\n",
		"b/only-log.Dockerfile": "FROM alpine\nRUN --mount=type=secret,id=T,env=T echo $T\n",
	}
	for name, text := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	doc, err := Report(dir)
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	for _, want := range []string{
		"| folder | files | with findings | fully rewritten | … with `omit-runtime-secret-files` | manual fix | parser rejects | `SecretArg` | `SecretExpandedAtParse` | `SecretInLog` |\n",
		"| a | 3 | 1 | 1 | 1 | 0 | 1 | 1 | 0 | 0 |\n",
		"| b | 3 | 3 | 1 | 1 | 1 | 0 | 3 | 1 | 1 |\n",
		"| **total** | 6 | 4 | 2 | 2 | 1 | 1 | 4 | 1 | 1 |\n",
		"- expanded.Dockerfile (SecretExpandedAtParse)\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q; got:\n%s", want, text)
		}
	}
}

// lineDiff lists the lines of want and got that differ, for the failure
// message (the report holds counts and file names, never a secret).
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	n := max(len(w), len(g))
	shown := 0
	for i := 0; i < n && shown < 20; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("line " + itoa(i+1) + ":\n  committed: " + wl + "\n  now:       " + gl + "\n")
			shown++
		}
	}
	return b.String()
}
