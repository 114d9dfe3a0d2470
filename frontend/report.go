package frontend

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/frontend/subrequests/lint"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"

	"github.com/hushbuild/hushbuild/rewrite"
)

// warnFunc emits one BuildKit warning.
type warnFunc func(ctx context.Context, msg string, opts client.WarnOpts)

// sourceInfo is the Dockerfile as shown to clients (the rewritten text, or
// no text when it is unsafe), as a BuildKit source for warnings and errors.
func (df *dockerfile) sourceInfo() *pb.SourceInfo {
	return &pb.SourceInfo{
		Data:       df.shown.Data,
		Filename:   df.shown.Filename,
		Language:   df.shown.Language,
		Definition: df.shown.Definition.ToPB(),
	}
}

// warner returns a warnFunc that attaches warnings to the vertex that
// loaded the Dockerfile and always sets their source to the shown text
// (dockerui's own Source.Warn would fall back to the original).
func (df *dockerfile) warner(c client.Client) warnFunc {
	return func(ctx context.Context, msg string, opts client.WarnOpts) {
		if opts.Level == 0 {
			opts.Level = 1
		}
		opts.SourceInfo = df.sourceInfo()
		_ = c.Warn(ctx, df.vertex, msg, opts)
	}
}

// reported reports whether a finding is shown to the user as a warning or
// a check result. Info findings are only counted in the logs.
func reported(f rewrite.Finding) bool {
	return f.Severity >= rewrite.SeverityWarning
}

// reportFindings emits every finding below SeverityError as a warning
// under its line. Error findings are reported by unsafeError; a suppressed
// one is a warning too, so that the build's record shows what the
// Dockerfile let through and why.
func (df *dockerfile) reportFindings(ctx context.Context, warn warnFunc) {
	for _, f := range df.findings {
		if !reported(f) || f.Severity >= rewrite.SeverityError && !f.Suppressed() {
			continue
		}
		rule := findingRule(f)
		msg := linter.LintFormatShort(rule.Name, findingDetail(f), f.Range.Start)
		warn(ctx, msg, warnOpts(findingRange(f), [][]byte{[]byte(rule.Description)}, rule.DocsURL()))
	}
}

// addToLint merges the findings into the result of BuildKit's own checks
// (`--call=check`), each with its rule, description, documentation URL and
// location in the rewritten Dockerfile. When the Dockerfile is not safe to
// build, the result also carries that as its build error.
func (df *dockerfile) addToLint(results *lint.LintResults) {
	idx := results.AddSource(df.shown)
	for _, f := range df.findings {
		// A suppressed finding does not fail the check, as it does not
		// fail `hushbuild check`; builds still warn about it.
		if !reported(f) || f.Suppressed() {
			continue
		}
		rule := findingRule(f)
		results.AddWarning(rule.Name, rule.Description, rule.DocsURL(), findingDetail(f), idx, findingRange(f))
	}
	if df.unsafe != nil {
		// No text is shown, so no snippet says where a warning is.
		for i := range results.Warnings {
			w := &results.Warnings[i]
			if w.Location != nil && len(w.Location.Ranges) > 0 && w.Location.Ranges[0].Start.Line > 0 {
				w.Detail = fmt.Sprintf("%s (line %d)", w.Detail, w.Location.Ranges[0].Start.Line)
			}
		}
	}
	if df.unsafe != nil && results.Error == nil {
		be := &lint.BuildError{
			Message:  unsafeMessage(df.unsafe),
			Location: pb.Location{SourceIndex: int32(idx)},
		}
		for _, f := range df.findings {
			if f.Severity >= rewrite.SeverityError && !f.Suppressed() {
				be.Location.Ranges = toPBRanges(findingRange(f))
				break
			}
		}
		results.Error = be
	}
}

// unsafeError is the error that stops a build the engine found unsafe. It
// lists every error finding (line, rule, fix) and carries their locations,
// which Build turns into source snippets of the rewritten Dockerfile.
func (df *dockerfile) unsafeError() error {
	if df.unsafe == nil {
		return nil
	}
	err := &unsafeDockerfileError{cause: df.unsafe}
	var out error = err
	for _, f := range df.findings {
		if f.Severity >= rewrite.SeverityError && !f.Suppressed() {
			if r := findingRange(f); r != nil {
				out = parser.WithLocation(out, r)
			}
		}
	}
	return out
}

// unsafeDockerfileError wraps the engine's *rewrite.Error.
type unsafeDockerfileError struct {
	cause error
}

func (e *unsafeDockerfileError) Error() string { return unsafeMessage(e.cause) }
func (e *unsafeDockerfileError) Unwrap() error { return e.cause }

func unsafeMessage(cause error) string {
	return "hushbuild: this Dockerfile cannot be built without leaking a secret:\n" + cause.Error()
}

func findingRule(f rewrite.Finding) rewrite.Rule {
	if r, ok := rewrite.LookupRule(f.Rule); ok {
		return r
	}
	return rewrite.Rule{Name: f.Rule}
}

// findingDetail is the one-line text of a finding: what was found and the
// fix, applied or to apply. Findings never carry secret values.
func findingDetail(f rewrite.Finding) string {
	msg := f.Message
	if f.Suppressed() {
		msg = fmt.Sprintf("suppressed %s by the comment on line %d (%s): %s", f.Severity, f.Suppression.Line, f.Suppression.Reason, msg)
	}
	if f.Fix != "" {
		if f.Fixed {
			msg += " (fixed: " + f.Fix + ")"
		} else {
			msg += " (fix: " + f.Fix + ")"
		}
	}
	return msg
}

// findingRange is a finding's lines as a parser range; nil when the finding
// has no line.
func findingRange(f rewrite.Finding) []parser.Range {
	if f.Range.Start <= 0 {
		return nil
	}
	return lineRange(f.Range.Start, f.Range.End)
}

func toPBRanges(rs []parser.Range) []*pb.Range {
	out := make([]*pb.Range, 0, len(rs))
	for _, r := range rs {
		out = append(out, &pb.Range{
			Start: &pb.Position{Line: int32(r.Start.Line), Character: int32(r.Start.Character)},
			End:   &pb.Position{Line: int32(r.End.Line), Character: int32(r.End.Character)},
		})
	}
	return out
}

// warnOpts is BuildKit's builder.warnOpts.
func warnOpts(r []parser.Range, detail [][]byte, url string) client.WarnOpts {
	opts := client.WarnOpts{Level: 1, Detail: detail, URL: url}
	if r != nil {
		opts.Range = toPBRanges(r)
	}
	return opts
}

// withSources attaches the shown Dockerfile, with the ranges of every
// location err carries, so that clients print the lines under the error
// (BuildKit's builder does the same with the original text).
func (df *dockerfile) withSources(err error) error {
	var el *parser.LocationError
	if err == nil || !errors.As(err, &el) {
		return err
	}
	for _, l := range el.Locations {
		err = errdefs.WithSource(err, &errdefs.Source{Info: df.sourceInfo(), Ranges: toPBRanges(l)})
	}
	return err
}

// summary is a log line about the rewrite: counts and rule names only.
func (df *dockerfile) summary() string {
	rules := map[string]int{}
	suppressed := 0
	for _, f := range df.findings {
		rules[f.Rule]++
		if f.Suppressed() {
			suppressed++
		}
	}
	names := make([]string, 0, len(rules))
	for r, n := range rules {
		names = append(names, fmt.Sprintf("%s=%d", r, n))
	}
	sort.Strings(names)
	var secrets, ssh int
	for _, r := range df.requirements {
		if r.Kind == rewrite.SSH {
			ssh++
		} else {
			secrets++
		}
	}
	return fmt.Sprintf("findings=%d [%s] suppressed=%d secrets=%d ssh=%d unsafe=%t", len(df.findings), strings.Join(names, " "), suppressed, secrets, ssh, df.unsafe != nil)
}

// withEmptySource gives err, when it carries no source, a source that
// names the Dockerfile but holds none of its text.
func withEmptySource(err error, filename string) error {
	if err == nil || len(errdefs.Sources(err)) > 0 {
		return err
	}
	return errdefs.WithSource(err, &errdefs.Source{
		Info: &pb.SourceInfo{Filename: filename, Language: "Dockerfile"},
	})
}

// internalError reports a panic in where. Only a runtime error's text is
// kept: a panic value could hold anything, Dockerfile text included.
func internalError(where string, r any) error {
	if re, ok := r.(runtime.Error); ok {
		return fmt.Errorf("hushbuild: internal error in %s: %v", where, re)
	}
	return fmt.Errorf("hushbuild: internal error in %s", where)
}
