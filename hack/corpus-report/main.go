// Command corpus-report runs the rewrite engine, with the default
// configuration, over every Dockerfile of the shared corpus of real
// Dockerfiles and writes a Markdown table of what it found: per folder,
// the files with findings, the findings by rule, the files fully rewritten,
// the files that need a manual fix and the files BuildKit's parser rejects.
//
// Run it from the repository root with hack/corpus-report.sh, which writes
// examples/CORPUS.md. The test of this package fails when that file is out
// of date.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hushbuild/hushbuild/rewrite"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

func main() {
	corpus := flag.String("corpus", filepath.Join("..", "shared", "corpus"), "the corpus directory: one folder of Dockerfiles per source")
	out := flag.String("o", "", "write the report to this file instead of stdout")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "corpus-report: unexpected arguments %q\n", flag.Args())
		os.Exit(2)
	}
	doc, err := Report(*corpus)
	if err != nil {
		fmt.Fprintln(os.Stderr, "corpus-report:", err)
		os.Exit(1)
	}
	if *out == "" {
		_, err = os.Stdout.Write(doc)
	} else {
		err = os.WriteFile(*out, doc, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "corpus-report:", err)
		os.Exit(1)
	}
}

// folderStats is what the engine did with one folder of the corpus.
type folderStats struct {
	name           string
	files          int
	withFindings   int
	fullyRewritten int // changed, and no finding at error severity
	// fullyOmit is fullyRewritten with omit-runtime-secret-files=true.
	fullyOmit int
	// literal and literalOmit count the files whose only errors are
	// HardcodedSecret (a credential written in the Dockerfile, which needs
	// a human), with the default configuration and with the opt-in.
	literal, literalOmit int
	manualFix            int // at least one finding at error severity
	parserRejects        int // BuildKit's parser or instruction parser rejects the file
	engineErrors         int // the engine failed on a file BuildKit accepts
	byRule               map[string]int
	manualFiles          []string // files needing a manual fix, with their error rules
	engineFiles          []string
}

func (s *folderStats) add(o *folderStats) {
	s.files += o.files
	s.withFindings += o.withFindings
	s.fullyRewritten += o.fullyRewritten
	s.fullyOmit += o.fullyOmit
	s.literal += o.literal
	s.literalOmit += o.literalOmit
	s.manualFix += o.manualFix
	s.parserRejects += o.parserRejects
	s.engineErrors += o.engineErrors
	for r, n := range o.byRule {
		s.byRule[r] += n
	}
}

// skipFile reports the files of a corpus folder that are not Dockerfiles.
func skipFile(name string) bool {
	return name == "LICENSE" || name == "COMMIT" || strings.HasSuffix(name, ".md") || strings.HasSuffix(name, ".tsv")
}

// Report runs the engine over every folder of the corpus and returns the
// Markdown document. The same corpus and engine give the same bytes.
func Report(corpus string) ([]byte, error) {
	entries, err := os.ReadDir(corpus)
	if err != nil {
		return nil, fmt.Errorf("reading the corpus: %w", err)
	}
	var folders []*folderStats
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		st, err := scanFolder(filepath.Join(corpus, e.Name()))
		if err != nil {
			return nil, err
		}
		st.name = e.Name()
		folders = append(folders, st)
	}
	if len(folders) == 0 {
		return nil, fmt.Errorf("the corpus %s has no folders", corpus)
	}
	sort.Slice(folders, func(i, j int) bool { return folders[i].name < folders[j].name })
	var b bytes.Buffer
	render(&b, folders)
	return b.Bytes(), nil
}

func scanFolder(dir string) (*folderStats, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", dir, err)
	}
	st := &folderStats{byRule: map[string]int{}}
	for _, e := range entries {
		if e.IsDir() || skipFile(e.Name()) {
			continue
		}
		src, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		st.files++
		if omit, err := runEngine(src, rewrite.Config{OmitRuntimeSecretFiles: true}); err == nil && omit.Err() == nil && omit.Changed {
			st.fullyOmit++
		} else if err == nil && literalOnly(omit) {
			st.literalOmit++
		}
		res, err := runEngine(src, rewrite.Config{})
		if err != nil {
			if parseError(src) != nil {
				st.parserRejects++
			} else {
				st.engineErrors++
				st.engineFiles = append(st.engineFiles, e.Name())
			}
			continue
		}
		if len(res.Findings) > 0 {
			st.withFindings++
		}
		errRules := map[string]bool{}
		for _, f := range res.Findings {
			st.byRule[f.Rule]++
			if f.Severity >= rewrite.SeverityError {
				errRules[f.Rule] = true
			}
		}
		switch {
		case len(errRules) > 0:
			if literalOnly(res) {
				st.literal++
			}
			st.manualFix++
			st.manualFiles = append(st.manualFiles, e.Name()+" ("+strings.Join(sortedKeys(errRules), ", ")+")")
		case res.Changed:
			st.fullyRewritten++
		}
	}
	sort.Strings(st.manualFiles)
	sort.Strings(st.engineFiles)
	return st, nil
}

// literalOnly reports a result whose errors are all HardcodedSecret.
func literalOnly(res *rewrite.Result) bool {
	n := 0
	for _, f := range res.Findings {
		if f.Severity >= rewrite.SeverityError {
			if f.Rule != rewrite.RuleHardcodedSecret.Name {
				return false
			}
			n++
		}
	}
	return n > 0
}

// runEngine calls the engine and turns a panic into an error, so that one
// bad file shows up in the report instead of ending it.
func runEngine(src []byte, cfg rewrite.Config) (res *rewrite.Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("engine panic: %v", r)
		}
	}()
	return rewrite.Rewrite(src, cfg)
}

// parseError runs BuildKit's parser and instruction parser as the stock
// frontend does.
func parseError(src []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("parser panic: %v", r)
		}
	}()
	ast, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return err
	}
	_, _, err = instructions.Parse(ast.AST, linter.New(&linter.Config{}))
	return err
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ruleColumns lists the rules that occur anywhere, in the engine's
// documentation order, then any rule the engine does not list, by name.
func ruleColumns(total *folderStats) []string {
	var cols []string
	known := map[string]bool{}
	for _, r := range rewrite.Rules {
		known[r.Name] = true
		if total.byRule[r.Name] > 0 {
			cols = append(cols, r.Name)
		}
	}
	var extra []string
	for r := range total.byRule {
		if !known[r] {
			extra = append(extra, r)
		}
	}
	sort.Strings(extra)
	return append(cols, extra...)
}

func render(w io.Writer, folders []*folderStats) {
	total := &folderStats{name: "**total**", byRule: map[string]int{}}
	for _, f := range folders {
		total.add(f)
	}
	cols := ruleColumns(total)
	showEngine := total.engineErrors > 0

	fmt.Fprintf(w, "# The engine over the real corpus\n\n")
	fmt.Fprintf(w, "What `rewrite.Rewrite` with the default configuration does with every Dockerfile of\n")
	fmt.Fprintf(w, "`../shared/corpus/` (real Dockerfiles from public repositories, one folder per source; see its\n")
	fmt.Fprintf(w, "README). Generated; do not edit.\n\n")
	fmt.Fprintf(w, "Regenerate with `hack/corpus-report.sh` after any change to the engine; `go test ./hack/corpus-report`\n")
	fmt.Fprintf(w, "fails while this file is out of date.\n\n")

	head := []string{"folder", "files", "with findings", "fully rewritten", "… with `omit-runtime-secret-files`", "manual fix", "parser rejects"}
	if showEngine {
		head = append(head, "engine errors")
	}
	for _, c := range cols {
		head = append(head, "`"+c+"`")
	}
	fmt.Fprintf(w, "| %s |\n", strings.Join(head, " | "))
	aligns := []string{"---"}
	for range head[1:] {
		aligns = append(aligns, "---:")
	}
	fmt.Fprintf(w, "| %s |\n", strings.Join(aligns, " | "))
	row := func(s *folderStats) {
		cells := []string{s.name, itoa(s.files), itoa(s.withFindings), itoa(s.fullyRewritten), itoa(s.fullyOmit), itoa(s.manualFix), itoa(s.parserRejects)}
		if showEngine {
			cells = append(cells, itoa(s.engineErrors))
		}
		for _, c := range cols {
			cells = append(cells, itoa(s.byRule[c]))
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
	for _, f := range folders {
		row(f)
	}
	row(total)

	fmt.Fprintf(w, "\n- **files**: every file of the folder but LICENSE, COMMIT, `*.md` and `*.tsv`.\n")
	fmt.Fprintf(w, "- **with findings**: files with at least one finding, of any severity.\n")
	fmt.Fprintf(w, "- **fully rewritten**: files the engine changed with no finding at severity error: the output\n")
	fmt.Fprintf(w, "  builds without leaking what the engine knows of.\n")
	fmt.Fprintf(w, "- **… with `omit-runtime-secret-files`**: the same with that opt-in, which leaves credential\n")
	fmt.Fprintf(w, "  files the image would keep for run time out of it (on mounts for the build; the container\n")
	fmt.Fprintf(w, "  gets them at run time).\n")
	fmt.Fprintf(w, "- **manual fix**: files with a finding at severity error (hard-coded credentials, secrets\n")
	fmt.Fprintf(w, "  expanded at parse time, rewrites the engine refuses): `hushbuild rewrite` refuses them.\n")
	fmt.Fprintf(w, "- **parser rejects**: files BuildKit's own parser rejects; the engine returns its error.\n")
	if showEngine {
		fmt.Fprintf(w, "- **engine errors**: files BuildKit accepts but the engine fails on: bugs.\n")
	}
	fmt.Fprintf(w, "- one column per rule that occurs: the number of findings of that rule (a file can have several).\n")
	fmt.Fprintf(w, "  Files with findings that are neither rewritten nor errors have only findings that need no\n")
	fmt.Fprintf(w, "  change to the text (`SecretInLog`, `OnbuildSecret`, placeholder `HardcodedSecret` warnings).\n")

	for _, f := range folders {
		if f.name != "secret-patterns" {
			continue
		}
		fmt.Fprintf(w, "\n## Goals\n\n")
		fmt.Fprintf(w, "Of the %d real leaking Dockerfiles of `secret-patterns`, the goals are at least 70 fully\n", f.files)
		fmt.Fprintf(w, "rewritten with the default configuration and at least 90 with `omit-runtime-secret-files`. A\n")
		fmt.Fprintf(w, "credential written in the Dockerfile's text (`HardcodedSecret` errors) is in its history and\n")
		fmt.Fprintf(w, "provenance: no rewrite can take it back, a human must rotate it, so it stays a finding. Those\n")
		fmt.Fprintf(w, "files count as the expected outcome, neither rewritten nor missed:\n\n")
		fmt.Fprintf(w, "| configuration | fully rewritten | only literal credentials (need a human) | met | goal |\n")
		fmt.Fprintf(w, "| --- | ---: | ---: | ---: | ---: |\n")
		fmt.Fprintf(w, "| default | %d | %d | %d | 70 |\n", f.fullyRewritten, f.literal, f.fullyRewritten+f.literal)
		fmt.Fprintf(w, "| `omit-runtime-secret-files` | %d | %d | %d | 90 |\n", f.fullyOmit, f.literalOmit, f.fullyOmit+f.literalOmit)
	}

	fmt.Fprintf(w, "\n## Files that need a manual fix\n\n")
	fmt.Fprintf(w, "With the rules of their error findings.\n")
	for _, f := range folders {
		if len(f.manualFiles) == 0 && len(f.engineFiles) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n### %s\n\n", f.name)
		for _, m := range f.manualFiles {
			fmt.Fprintf(w, "- %s\n", m)
		}
		for _, m := range f.engineFiles {
			fmt.Fprintf(w, "- %s (engine error)\n", m)
		}
	}
}

func itoa(n int) string { return fmt.Sprint(n) }
