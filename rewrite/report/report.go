// Package report renders what the rewrite engine found: findings as text
// lines, JSON or SARIF 2.1.0, the BuildKit errors of files that did not
// parse, and unified diffs of a rewrite.
//
// Messages and fixes come from the engine, which never puts a secret value
// in them; the renderers add nothing but file names, lines, rule names and
// documentation links.
package report

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hushbuild/hushbuild/rewrite"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/solver/errdefs"
)

// File is the report of one Dockerfile.
type File struct {
	// Name is the file as the user named it; "-" is standard input.
	Name string
	// Result is the engine's result; nil when Err is set.
	Result *rewrite.Result
	// Err is a read or parse error that kept the file from being checked.
	Err error
}

// StdinName is how reports show standard input ("-" on the command line).
const StdinName = "<stdin>"

// DisplayName is the name of a file in text reports.
func DisplayName(name string) string {
	if name == "-" {
		return StdinName
	}
	return name
}

// ErrorLine returns the first Dockerfile line err points at, from the
// locations BuildKit's parser attaches (parser.LocationError) or from
// errdefs source ranges, or 0 when err carries none.
func ErrorLine(err error) int {
	var le *parser.LocationError
	if errors.As(err, &le) {
		for _, loc := range le.Locations {
			for _, r := range loc {
				if r.Start.Line > 0 {
					return r.Start.Line
				}
			}
		}
	}
	for _, s := range errdefs.Sources(err) {
		for _, r := range s.Ranges {
			if r.Start.Line > 0 {
				return int(r.Start.Line)
			}
		}
	}
	return 0
}

// FormatError renders an error about file name as "name:line: message",
// or "name: message" when the error has no line.
func FormatError(name string, err error) string {
	msg := oneLine(err.Error())
	if line := ErrorLine(err); line > 0 {
		return fmt.Sprintf("%s:%d: %s", DisplayName(name), line, msg)
	}
	return fmt.Sprintf("%s: %s", DisplayName(name), msg)
}

// docsURL is the documentation page of a rule, or "" for a rule this
// version does not know.
func docsURL(rule string) string {
	if r, ok := rewrite.LookupRule(rule); ok {
		return r.DocsURL()
	}
	return ""
}

// oneLine keeps a message on one line so that every report line starts
// with its file and line.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.Fields(strings.NewReplacer("\r", " ", "\n", " ").Replace(s)), " ")
}
