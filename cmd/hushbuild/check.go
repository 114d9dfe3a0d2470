package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/hushbuild/hushbuild/rewrite"
	"github.com/hushbuild/hushbuild/rewrite/report"
	"github.com/spf13/cobra"
)

func init() { register(newCheckCommand) }

const checkHelp = `
Reports what hushbuild finds in each FILE ("-" reads stdin) without changing
it. A DIR stands for the Dockerfiles under it, found as docker names them:
Dockerfile, *.Dockerfile and Dockerfile.* (any case), never an ignore file
(*.dockerignore), in directories whose name does not start with a dot. An
ignore file named on the command line is skipped with a note.

The text format prints one line per finding:

    file:line: [Rule] severity: message (fixed: what the rewrite does)
    file:line: [Rule] severity: message (fix: what you must do)

--format json writes one document for all files; --format sarif writes SARIF
2.1.0 for GitHub code scanning, with paths relative to the working directory;
--format markdown writes a summary, a table of the findings and the diff of
the rewrite, for a CI job summary or a pull-request comment. -o FILE writes
the report to FILE instead of stdout.

The build context (--context, by default the Dockerfile's directory) is
listed after its .dockerignore: credential files that a COPY of the context
would bring in are reported, and, once per Dockerfile, an info finding gives
the .dockerignore lines that would keep them out of the context.

Exit status: 0 when no finding is at or above --fail-on, 1 when one is, 2 on
usage, read or Dockerfile parse errors (printed as file:line: message on
stderr; the other files are still reported).`

// checkFormats are the report formats of check.
var checkFormats = []string{"text", "json", "sarif", "markdown"}

func newCheckCommand(s stdio) *cobra.Command {
	var (
		format, failOn, output string
		cf                     configFlags
		cx                     contextFlags
	)
	cmd := &cobra.Command{
		Use:               "check [flags] FILE|DIR...",
		Short:             "report secret leaks in Dockerfiles (text, JSON, SARIF or Markdown); exit 1 at or above --fail-on",
		Long:              checkHelp,
		ValidArgsFunction: completeDockerfiles,
	}
	fl := cmd.Flags()
	fl.StringVar(&format, "format", "text", "output `format`: "+orList(checkFormats))
	fl.StringVar(&failOn, "fail-on", "warning", "exit 1 when a finding is at or above this `severity`: info, warning, error or none")
	fl.StringVarP(&output, "output", "o", "", "write the report to `file` instead of stdout")
	cf.register(fl)
	cx.register(fl)
	completeValues(cmd, "format", checkFormats...)
	completeValues(cmd, "fail-on", "info", "warning", "error", "none")
	cmd.RunE = runWith(func(ctx context.Context, cmd *cobra.Command, args []string) int {
		return runCheck(ctx, cmd, args, s, checkOptions{format: format, failOn: failOn, output: output, cf: &cf, cx: &cx})
	})
	return cmd
}

type checkOptions struct {
	format, failOn, output string
	cf                     *configFlags
	cx                     *contextFlags
}

func runCheck(ctx context.Context, cmd *cobra.Command, args []string, s stdio, o checkOptions) int {
	if len(args) == 0 {
		return usageErrorf(cmd, s, "no Dockerfile given")
	}
	if err := checkFileArgs(args); err != nil {
		return usageErrorf(cmd, s, "%v", err)
	}
	if !slices.Contains(checkFormats, o.format) {
		return usageErrorf(cmd, s, "--format %q: want %s", o.format, orList(checkFormats))
	}
	threshold, never := rewrite.SeverityError, false
	if o.failOn == "none" {
		never = true
	} else if sev, ok := rewrite.ParseSeverity(o.failOn); ok {
		threshold = sev
	} else {
		return usageErrorf(cmd, s, "--fail-on %q: want info, warning, error or none", o.failOn)
	}
	cfg, files, err := dockerfileInputs(o.cf, o.cx, args, s)
	if err != nil {
		return usageErrorf(cmd, s, "%v", err)
	}

	status := exitOK
	var reports []report.File
	var inputs []input
	for _, name := range files {
		if ctx.Err() != nil {
			return exitUsage
		}
		in := load(name, cfg, o.cx, s)
		if in.Err == nil {
			if hint, ok := contextHint(in); ok {
				in.Result.Findings = insertFinding(in.Result.Findings, hint)
			}
		}
		reports = append(reports, in.File)
		inputs = append(inputs, in)
		if in.Err != nil {
			fmt.Fprintln(s.err, report.FormatError(name, in.Err))
			status = exitUsage
			continue
		}
		for _, fd := range in.Result.Findings {
			if !never && fd.Severity >= threshold && !fd.Suppressed() && status == exitOK {
				status = exitFindings
			}
		}
	}

	err = writeReport(o.output, s, func(w io.Writer) error {
		switch o.format {
		case "json":
			return report.JSON(w, reports)
		case "sarif":
			wd, _ := os.Getwd()
			return report.SARIF(w, reports, report.SARIFOptions{ToolVersion: version(), BaseDir: wd})
		case "markdown":
			return report.Markdown(w, markdownFiles(inputs), report.MarkdownOptions{Title: "hushbuild check"})
		}
		return report.Text(w, reports)
	})
	if o.format == "text" {
		printSummary(s, reports)
	}
	if err != nil {
		fmt.Fprintf(s.err, "hushbuild check: %v\n", err)
		return exitUsage
	}
	return status
}

// contextHint is the note check adds once per Dockerfile whose build
// context holds credential files that a copy of the context brings in. The
// engine's findings say what the rewrite does with each (excluded from the
// copy, bind-mounted on the RUNs after it); the note gives the ignore file
// lines that would keep them out of the build context altogether. It is an
// info finding of the SecretFile rule, at the first line that brings one
// in.
//
// Which files a copy brings in is the engine's to decide: a file counts
// when the engine, told about it alone, rewrites or reports something it
// does not without it.
func contextHint(in input) (rewrite.Finding, bool) {
	l := in.context
	if l == nil || len(l.Files) == 0 || in.Result == nil {
		return rewrite.Finding{}, false
	}
	for _, d := range in.cfg.Disable {
		if strings.EqualFold(d, rewrite.RuleSecretFile.Name) {
			return rewrite.Finding{}, false
		}
	}
	without := in.cfg
	without.ContextFiles = nil
	base, err := runEngine(in.data, without)
	if err != nil || sameResult(base, in.Result) {
		return rewrite.Finding{}, false
	}
	var lines, unwritable []string
	line := 0
	for _, f := range l.Files {
		one := without
		one.ContextFiles = []string{f}
		res, err := runEngine(in.data, one)
		if err != nil || sameResult(base, res) {
			continue
		}
		for _, fd := range addedFindings(base, res) {
			if fd.Range.Start > 0 && (line == 0 || fd.Range.Start < line) {
				line = fd.Range.Start
			}
		}
		if il, ok := ignoreLine(f); ok {
			lines = append(lines, il)
		} else {
			unwritable = append(unwritable, f)
		}
	}
	if len(lines)+len(unwritable) == 0 {
		return rewrite.Finding{}, false
	}
	ignoreFile := l.IgnoreFile
	if ignoreFile == "" {
		ignoreFile = filepath.Join(l.Dir, ".dockerignore")
	}
	all := append(append([]string(nil), lines...), unwritable...)
	fd := rewrite.Finding{
		Rule:     rewrite.RuleSecretFile.Name,
		Severity: rewrite.SeverityInfo,
		Range:    rewrite.Range{Start: line, End: line},
		Message: fmt.Sprintf("the build context %s holds %s that a copy of the context brings in: %s; the builder receives %s even when the rewrite keeps %s out of the image",
			dirLabel(l.Dir), plural(len(all), "a credential file", "credential files"), strings.Join(all, ", "), plural(len(all), "it", "them"), plural(len(all), "it", "them")),
	}
	switch {
	case len(lines) > 0:
		fd.Fix = fmt.Sprintf("if the build does not need %s, keep %s out of the build context: add %s %s to %s",
			plural(len(lines), "it", "them"), plural(len(lines), "it", "them"), plural(len(lines), "the line", "the lines"), strings.Join(lines, ", "), ignoreFile)
		if len(unwritable) > 0 {
			fd.Fix += fmt.Sprintf("; rename %s, which an ignore file cannot name", strings.Join(unwritable, ", "))
		}
	default:
		fd.Fix = fmt.Sprintf("rename %s, which an ignore file cannot name, and list %s in %s", strings.Join(unwritable, ", "), plural(len(unwritable), "it", "them"), ignoreFile)
	}
	return fd, true
}

// dirLabel shows a directory with a trailing separator ("./", "app/").
func dirLabel(dir string) string {
	if strings.HasSuffix(dir, string(filepath.Separator)) || strings.HasSuffix(dir, "/") {
		return dir
	}
	return dir + string(filepath.Separator)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// sameResult reports whether two runs of the engine rewrote and found the
// same.
func sameResult(a, b *rewrite.Result) bool {
	return bytes.Equal(a.Output, b.Output) && len(addedFindings(a, b)) == 0 && len(a.Findings) == len(b.Findings)
}

// addedFindings are the findings of b that a does not have.
func addedFindings(a, b *rewrite.Result) []rewrite.Finding {
	seen := map[rewrite.Finding]int{}
	for _, f := range a.Findings {
		seen[f]++
	}
	var out []rewrite.Finding
	for _, f := range b.Findings {
		if seen[f] > 0 {
			seen[f]--
			continue
		}
		out = append(out, f)
	}
	return out
}

// ignoreLine is the .dockerignore line that names exactly the context
// path p (slash-separated), escaping the characters patterns give a
// meaning to; ok is false when no line can (a line break, or blanks at
// either end, which the ignore file trims; on Windows, any pattern
// character, since '\' is the separator there).
func ignoreLine(p string) (string, bool) {
	if p == "" || strings.ContainsAny(p, "\r\n") || strings.TrimSpace(p) != p {
		return "", false
	}
	const special = `\*?[]`
	if runtime.GOOS == "windows" {
		if strings.ContainsAny(p, special) || strings.HasPrefix(p, "!") || strings.HasPrefix(p, "#") {
			return "", false
		}
		return p, true
	}
	var b strings.Builder
	for i, r := range p {
		if strings.ContainsRune(special, r) || i == 0 && (r == '!' || r == '#') {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String(), true
}

// insertFinding inserts f among findings sorted by line, then rule: after
// those it does not sort before, so that the engine's order is kept.
func insertFinding(findings []rewrite.Finding, f rewrite.Finding) []rewrite.Finding {
	i := 0
	for i < len(findings) {
		g := findings[i]
		if g.Range.Start > f.Range.Start || g.Range.Start == f.Range.Start && g.Rule > f.Rule {
			break
		}
		i++
	}
	return append(findings[:i:i], append([]rewrite.Finding{f}, findings[i:]...)...)
}
