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
// must. A finding without a line (about the build's inputs rather than a
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
	s := fmt.Sprintf("%s: [%s] %s: %s", pos, f.Rule, f.Severity, oneLine(f.Message))
	if f.Fix != "" {
		label := "fix"
		if f.Fixed {
			label = "fixed"
		}
		s += fmt.Sprintf(" (%s: %s)", label, oneLine(f.Fix))
	}
	return s
}
