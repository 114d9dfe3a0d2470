package rewrite

import (
	"bytes"
	"fmt"
	"strings"
)

// Rewrite parses src as a Dockerfile and rewrites it so that no build
// secret reaches the image. Parse errors are BuildKit's own. Findings at
// SeverityError mean the output must not be built; Result.Err returns
// them as an error.
func Rewrite(src []byte, cfg Config) (*Result, error) {
	// Placeholder until the engine lands: returns the input unchanged.
	return &Result{Output: bytes.Clone(src)}, nil
}

// Err returns an *Error carrying every finding at SeverityError, or nil.
func (r *Result) Err() error {
	var errs []Finding
	for _, f := range r.Findings {
		if f.Severity >= SeverityError {
			errs = append(errs, f)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return &Error{Findings: errs}
}

// Error is returned by Result.Err: the findings that make the rewritten
// Dockerfile unsafe to build.
type Error struct {
	Findings []Finding
}

func (e *Error) Error() string {
	var b strings.Builder
	for i, f := range e.Findings {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "line %d: [%s] %s", f.Range.Start, f.Rule, f.Message)
		if f.Fix != "" {
			fmt.Fprintf(&b, " (fix: %s)", f.Fix)
		}
	}
	return b.String()
}
