package report

import (
	"bufio"
	"fmt"
	"io"

	"github.com/hushbuild/hushbuild/rewrite"
)

// Text writes one line per finding, grep- and editor-friendly:
//
//	Dockerfile:4: [SecretArg] warning: ARG NPM_TOKEN ... (fixed: ...)
//	Dockerfile:9: [HardcodedSecret] error: ENV DATABASE_PASSWORD ... (fix: ...)
//
// that is "file:line: [Rule] severity: message", then the fix in
// parentheses: "fixed:" when the rewrite applied it, "fix:" when the user
// must. A finding a `# hushbuild:ignore=` comment suppresses says so after
// its severity: "error (suppressed on line 8: reason):". A finding without a line (about the build's inputs rather than a
// Dockerfile line) has just "file:". Files with an error are skipped: callers print those on stderr
// with FormatError.
func Text(w io.Writer, files []File) error {
	bw := bufio.NewWriter(w)
	for _, f := range files {
		if f.Err != nil || f.Result == nil {
			continue
		}
		for _, fd := range f.Result.Findings {
			bw.WriteString(FindingLine(f.Name, fd))
			bw.WriteByte('\n')
		}
	}
	return bw.Flush()
}

// FindingLine is the text form of one finding of file name, without a
// trailing newline.
func FindingLine(name string, f rewrite.Finding) string {
	pos := DisplayName(name)
	if f.Range.Start > 0 {
		pos += fmt.Sprintf(":%d", f.Range.Start)
	}
	sev := f.Severity.String()
	if f.Suppressed() {
		// Not "error:": `grep error:` finds what fails a check.
		sev += fmt.Sprintf(" (suppressed on line %d: %s)", f.Suppression.Line, oneLine(f.Suppression.Reason))
	}
	s := fmt.Sprintf("%s: [%s] %s: %s", pos, f.Rule, sev, oneLine(f.Message))
	if f.Fix != "" {
		label := "fix"
		if f.Fixed {
			label = "fixed"
		}
		s += fmt.Sprintf(" (%s: %s)", label, oneLine(f.Fix))
	}
	return s
}

// Summary counts the findings of files: by severity, those a comment of
// the Dockerfile suppressed apart (they are not counted by severity).
type Summary struct {
	Files      int `json:"files"`
	Errors     int `json:"errors"`
	Warnings   int `json:"warnings"`
	Notes      int `json:"notes"`
	Suppressed int `json:"suppressed"`
	// Unreadable counts the files that could not be read or parsed.
	Unreadable int `json:"unreadable"`
}

// Summarize counts the findings of files.
func Summarize(files []File) Summary {
	var s Summary
	for _, f := range files {
		s.Files++
		if f.Err != nil || f.Result == nil {
			if f.Err != nil {
				s.Unreadable++
			}
			continue
		}
		for _, fd := range f.Result.Findings {
			switch {
			case fd.Suppressed():
				s.Suppressed++
			case fd.Severity >= rewrite.SeverityError:
				s.Errors++
			case fd.Severity == rewrite.SeverityWarning:
				s.Warnings++
			default:
				s.Notes++
			}
		}
	}
	return s
}

// String is the summary as one line, e.g.
// "2 files: 1 error, 3 warnings, 0 notes, 1 suppressed".
func (s Summary) String() string {
	out := fmt.Sprintf("%s: %s, %s, %s, %d suppressed",
		count(s.Files, "file"), count(s.Errors, "error"), count(s.Warnings, "warning"), count(s.Notes, "note"), s.Suppressed)
	if s.Unreadable > 0 {
		out += fmt.Sprintf(", %d not read", s.Unreadable)
	}
	return out
}

func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
