package rewrite

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hushbuild/hushbuild/internal/golden"
)

// goldenFindings is the findings.json format of an example.
type goldenFindings struct {
	Error        string          `json:"error,omitempty"`
	Findings     []goldenFinding `json:"findings"`
	Requirements []Requirement   `json:"requirements"`
}

type goldenFinding struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Line     int    `json:"line"`
	EndLine  int    `json:"end_line"`
	Fixed    bool   `json:"fixed"`
	Message  string `json:"message"`
	Fix      string `json:"fix,omitempty"`
}

func exampleDirs(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join("..", "examples", "*", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no examples found under ../examples")
	}
	for i := range dirs {
		dirs[i] = filepath.Dir(dirs[i])
	}
	return dirs
}

// TestExamples compares each example's rewrite and findings with its
// golden files (regenerate with -update) and checks the engine's
// properties on it.
func TestExamples(t *testing.T) {
	for _, dir := range exampleDirs(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
			if err != nil {
				t.Fatal(err)
			}
			got := goldenFindings{Findings: []goldenFinding{}, Requirements: []Requirement{}}
			res, err := Rewrite(src, Config{})
			var out []byte
			if err != nil {
				got.Error = err.Error()
			} else {
				out = res.Output
				for _, f := range res.Findings {
					got.Findings = append(got.Findings, goldenFinding{
						Rule: f.Rule, Severity: f.Severity.String(), Line: f.Range.Start, EndLine: f.Range.End,
						Fixed: f.Fixed, Message: f.Message, Fix: f.Fix,
					})
				}
				if res.Requirements != nil {
					got.Requirements = res.Requirements
				}
				checkProperties(t, src, res)
			}
			gotJSON, _ := json.MarshalIndent(got, "", "  ")
			gotJSON = append(gotJSON, '\n')
			compareGolden(t, filepath.Join(dir, "findings.json"), gotJSON)
			if err == nil {
				compareGolden(t, filepath.Join(dir, "Dockerfile.hushbuild"), out)
			}
		})
	}
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	golden.Check(t, path, got)
}

// checkProperties asserts what must hold for every input: the output
// parses, a second rewrite changes nothing, an unchanged input comes back
// byte for byte, the same input gives the same output, and instructions
// keep their lines.
func checkProperties(t *testing.T, src []byte, res *Result) {
	t.Helper()
	if _, _, _, err := parse(res.Output); err != nil {
		t.Fatalf("output does not parse: %v", err)
	}
	if !res.Changed && !bytes.Equal(res.Output, src) {
		t.Fatalf("Changed is false but the output differs from the input")
	}
	if res.Changed && bytes.Equal(res.Output, src) {
		t.Fatalf("Changed is true but the output equals the input")
	}
	again, err := Rewrite(res.Output, Config{})
	if err != nil {
		t.Fatalf("rewriting the output fails: %v", err)
	}
	if !bytes.Equal(again.Output, res.Output) {
		t.Fatalf("not idempotent: a second rewrite changes the output:\n%s", again.Output)
	}
	for _, f := range again.Findings {
		if f.Fixed {
			t.Errorf("second rewrite still fixes something: line %d [%s]", f.Range.Start, f.Rule)
		}
	}
	// The frontend analyses a rewritten Dockerfile again (a rewrite built
	// with the # syntax= line): what the engine accepted once, its own
	// preludes and mounts included, it accepts again.
	if res.Err() == nil && again.Err() != nil {
		t.Errorf("the rewrite is accepted, its second rewrite refused: %v", again.Err())
	}
	twice, err := Rewrite(src, Config{})
	if err != nil || !bytes.Equal(twice.Output, res.Output) {
		t.Fatalf("not deterministic")
	}
	if n, m := bytes.Count(src, []byte("\n")), bytes.Count(res.Output, []byte("\n")); n != m {
		t.Fatalf("line count changed from %d to %d", n, m)
	}
	inAST, _, _, _ := parse(src)
	outAST, _, _, _ := parse(res.Output)
	starts := map[int]bool{}
	for _, n := range outAST.AST.Children {
		starts[n.StartLine] = true
	}
	for _, n := range inAST.AST.Children {
		if !starts[n.StartLine] && !commentedOut(res.Output, n.StartLine) {
			t.Errorf("instruction on line %d moved", n.StartLine)
		}
	}
}

func commentedOut(out []byte, line int) bool {
	lines := strings.Split(string(out), "\n")
	return line-1 < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[line-1]), "#")
}

// corpusFiles lists the real Dockerfiles in ../shared/corpus. Without
// ../shared beside the repository (a plain clone) the test skips, saying
// so; with CI set it fails instead: CI always has ../shared.
func corpusFiles(t testing.TB) map[string][]string {
	root := filepath.Join("..", "..", "shared", "corpus")
	if _, err := os.Stat(filepath.Dir(root)); os.IsNotExist(err) {
		if os.Getenv("CI") != "" {
			t.Fatalf("../shared is absent (%s): CI must have it beside the repository", filepath.Dir(root))
		}
		t.Skipf("../shared is absent (%s): skipping the test over its corpus of real Dockerfiles", filepath.Dir(root))
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatalf("the corpus of real Dockerfiles must be at %s: %v", root, err)
	}
	out := map[string][]string{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		files, _ := os.ReadDir(filepath.Join(root, e.Name()))
		for _, f := range files {
			name := f.Name()
			if f.IsDir() || name == "LICENSE" || name == "COMMIT" || strings.HasSuffix(name, ".md") || strings.HasSuffix(name, ".tsv") {
				continue
			}
			out[e.Name()] = append(out[e.Name()], filepath.Join(root, e.Name(), name))
		}
	}
	return out
}

// TestCorpus checks the engine's properties over every real Dockerfile
// of the corpus: no error but BuildKit's own parse errors, outputs that
// parse, idempotence, and byte-identical round trips when nothing is found.
func TestCorpus(t *testing.T) {
	byRule := map[string]int{}
	withFindings, total := 0, 0
	for folder, files := range corpusFiles(t) {
		for _, file := range files {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			total++
			name := folder + "/" + filepath.Base(file)
			res, err := Rewrite(src, Config{})
			if err != nil {
				if _, _, _, perr := parse(src); perr == nil || perr.Error() != err.Error() {
					t.Errorf("%s: engine error that BuildKit's parser does not raise: %v", name, err)
				}
				continue
			}
			t.Run(strings.ReplaceAll(name, "/", "_"), func(t *testing.T) { checkProperties(t, src, res) })
			if len(res.Findings) == 0 && !bytes.Equal(res.Output, src) {
				t.Errorf("%s: no findings but the output differs", name)
			}
			if len(res.Findings) > 0 {
				withFindings++
			}
			for _, f := range res.Findings {
				byRule[f.Rule]++
			}
		}
	}
	var rules []string
	for r := range byRule {
		rules = append(rules, r)
	}
	sort.Strings(rules)
	t.Logf("corpus: %d files, %d with findings", total, withFindings)
	for _, r := range rules {
		t.Logf("  %s: %d", r, byRule[r])
	}
}
