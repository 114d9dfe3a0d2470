package report

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/hushbuild/hushbuild/internal/textdiff"
	"github.com/hushbuild/hushbuild/rewrite"
)

// MarkdownFile is one Dockerfile of a Markdown report: its report and,
// for the diff of the rewrite, the bytes the engine read.
type MarkdownFile struct {
	File
	// Original is the Dockerfile as read; nil leaves the diff out.
	Original []byte
	// Written says that the rewrite was written back to the file (rewrite
	// -w), which the report mentions under the diff.
	Written bool
}

// MarkdownOptions tunes the Markdown report.
type MarkdownOptions struct {
	// Title is the heading of the report.
	Title string
	// NoDiff leaves the diffs of the rewrites out.
	NoDiff bool
}

// Markdown writes a report for a CI job summary ($GITHUB_STEP_SUMMARY) or
// a pull-request comment: a heading, a one-line summary, one table of every
// finding (file, line, rule linked to its documentation, severity, message,
// fix), the files that could not be checked, and, folded under each file
// the rewrite changes, the diff of the rewrite. It is GitHub-flavoured
// Markdown; nothing of the Dockerfiles is written but the diff, whose
// lines the engine guarantees hold no secret value the original did not
// (a rewrite only removes or moves values into secret mounts).
func Markdown(w io.Writer, files []MarkdownFile, opt MarkdownOptions) error {
	bw := bufio.NewWriter(w)
	title := opt.Title
	if title == "" {
		title = ToolName
	}
	fmt.Fprintf(bw, "### %s\n\n", mdText(title))

	var counts [3]int // info, warning, error
	checked, failed, changed, refused := 0, 0, 0, 0
	for _, f := range files {
		if f.Err != nil || f.Result == nil {
			failed++
			continue
		}
		checked++
		for _, fd := range f.Result.Findings {
			counts[severityIndex(fd.Severity)]++
		}
		switch {
		case f.Result.Err() != nil:
			refused++
		case f.Result.Changed:
			changed++
		}
	}
	parts := []string{
		plural(checked, "file", "files") + " checked",
		plural(counts[2], "error", "errors"),
		plural(counts[1], "warning", "warnings"),
		plural(counts[0], "note", "notes"),
	}
	if failed > 0 {
		parts = append(parts, "**"+plural(failed, "file", "files")+" not checked**")
	}
	if changed > 0 {
		parts = append(parts, plural(changed, "file", "files")+" changed by the rewrite")
	}
	if refused > 0 {
		parts = append(parts, "**"+plural(refused, "file", "files")+" the rewrite refuses**")
	}
	fmt.Fprintf(bw, "%s\n\n", strings.Join(parts, " · "))

	if counts[0]+counts[1]+counts[2] > 0 {
		bw.WriteString("| File | Line | Rule | Severity | Finding | Fix |\n")
		bw.WriteString("| --- | ---: | --- | --- | --- | --- |\n")
		for _, f := range files {
			if f.Err != nil || f.Result == nil {
				continue
			}
			for _, fd := range f.Result.Findings {
				line := ""
				if fd.Range.Start > 0 {
					line = fmt.Sprint(fd.Range.Start)
				}
				rule := mdCell(fd.Rule)
				if u := docsURL(fd.Rule); u != "" {
					rule = "[" + rule + "](" + u + ")"
				}
				fix := ""
				if fd.Fix != "" {
					label := "you must"
					if fd.Fixed {
						label = "fixed"
					}
					fix = "*" + label + ":* " + mdCell(fd.Fix)
				}
				fmt.Fprintf(bw, "| %s | %s | %s | %s | %s | %s |\n",
					mdCode(DisplayName(f.Name)), line, rule, severityLabel(fd.Severity), mdCell(fd.Message), fix)
			}
		}
		bw.WriteString("\n")
	} else if checked > 0 {
		bw.WriteString("No finding.\n\n")
	}

	if failed > 0 {
		bw.WriteString("#### Not checked\n\n")
		for _, f := range files {
			if f.Err != nil {
				fmt.Fprintf(bw, "- %s\n", mdCell(FormatError(f.Name, f.Err)))
			}
		}
		bw.WriteString("\n")
	}

	for _, f := range files {
		if f.Err != nil || f.Result == nil {
			continue
		}
		name := DisplayName(f.Name)
		if f.Result.Err() != nil {
			fmt.Fprintf(bw, "%s is **not rewritten**: the Dockerfile would still leak a secret or could not be rewritten safely (see the errors above).\n\n", mdCode(name))
			continue
		}
		if opt.NoDiff || f.Original == nil || !f.Result.Changed && bytes.Equal(f.Original, f.Result.Output) {
			continue
		}
		var diff bytes.Buffer
		if err := textdiff.Unified(&diff, "a/"+name, "b/"+name, f.Original, f.Result.Output); err != nil {
			return fmt.Errorf("writing Markdown report: %w", err)
		}
		added, removed := diffStat(diff.Bytes())
		verb := "The rewrite of"
		if f.Written {
			verb = "Rewrote"
		}
		fmt.Fprintf(bw, "<details><summary>%s <code>%s</code> (+%d −%d)</summary>\n\n", verb, htmlEscape(name), added, removed)
		fence := codeFence(diff.String())
		fmt.Fprintf(bw, "%sdiff\n%s%s\n\n</details>\n\n", fence, diff.String(), fence)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing Markdown report: %w", err)
	}
	return nil
}

func severityIndex(s rewrite.Severity) int {
	switch s {
	case rewrite.SeverityInfo:
		return 0
	case rewrite.SeverityWarning:
		return 1
	}
	return 2
}

func severityLabel(s rewrite.Severity) string {
	switch s {
	case rewrite.SeverityInfo:
		return "note"
	case rewrite.SeverityWarning:
		return "warning"
	}
	return "**error**"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// mdCell makes s safe in a table cell: one line, pipes escaped, HTML and
// Markdown emphasis characters inert.
func mdCell(s string) string {
	s = oneLine(s)
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '|', '\\', '*', '_', '`', '[', ']', '#', '~':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mdText is a line of plain text with Markdown and HTML made inert.
func mdText(s string) string { return mdCell(s) }

// mdCode is s as an inline code span that also survives a table cell.
func mdCode(s string) string {
	s = oneLine(s)
	if strings.ContainsAny(s, "`|") {
		return "<code>" + strings.ReplaceAll(htmlEscape(s), "|", "&#124;") + "</code>"
	}
	return "`" + s + "`"
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(oneLine(s))
}

// codeFence is a fence of backticks longer than any run of backticks in
// s, at least three.
func codeFence(s string) string {
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

// diffStat counts the added and removed lines of a unified diff.
func diffStat(diff []byte) (added, removed int) {
	for _, l := range bytes.Split(diff, []byte("\n")) {
		switch {
		case bytes.HasPrefix(l, []byte("+++")), bytes.HasPrefix(l, []byte("---")):
		case bytes.HasPrefix(l, []byte("+")):
			added++
		case bytes.HasPrefix(l, []byte("-")):
			removed++
		}
	}
	return added, removed
}
