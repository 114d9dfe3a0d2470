package proof

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/hushbuild/hushbuild/checker"
)

// Leak is one place where the check found a secret value. It never holds
// the value.
type Leak struct {
	Target Target
	// Path is the path inside the target.
	Path    string
	Finding checker.Finding
}

// LeakError stops a build whose checks found secret values. Its message
// names the step, the path, the secret id and the encoding, and the fix.
type LeakError struct {
	Leaks []Leak
	// Rule and URL name the rule the error reports.
	Rule, URL string
}

func (e *LeakError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "hushbuild: %s: the build checked its own output and found a build secret where the image, its cache or its provenance would keep it; nothing was exported:", e.Rule)
	var lines []string
	for _, l := range e.Leaks {
		lines = append(lines, "\n  "+l.describe())
	}
	slices.Sort(lines)
	for _, l := range slices.Compact(lines) {
		b.WriteString(l)
	}
	b.WriteString("\nfix: " + e.fix())
	if e.URL != "" {
		b.WriteString("\nsee " + e.URL)
	}
	return b.String()
}

func (e *LeakError) fix() string {
	layer, copied, frontend, context := false, false, false, false
	for _, l := range e.Leaks {
		switch step := l.Target.Step; {
		case step == nil:
			frontend = true
		case step.Context:
			context = true
		case step.Copy:
			copied = true
		default:
			layer = true
		}
	}
	var fixes []string
	if context {
		fixes = append(fixes, "the build context holds a file with a secret value, and BuildKit unpacks it into a layer of its own: keep credential files out of the archive, or build from a local directory")
	}
	if copied {
		fixes = append(fixes, "a COPY or ADD brought in a file that holds a secret value: keep it out of the build context (.dockerignore) or out of the COPY, and give it to the RUNs that need it with --mount=type=secret")
	}
	if layer {
		fixes = append(fixes, "a step wrote a secret into a file its layer keeps: let the tool read the secret from its mount (RUN --mount=type=secret,id=ID,env=NAME or ,target=PATH) instead of writing it to a file, or remove the file in the same RUN that writes it")
	}
	if frontend {
		fixes = append(fixes, "a secret value reaches the image config, the build definition or the build options: pass it only with --secret and use it only inside RUN --mount=type=secret")
	}
	return strings.Join(fixes, "; ")
}

func (l Leak) describe() string {
	f := l.Finding
	what := "secret " + f.Secret
	if f.Field != "" {
		what += " (field " + f.Field + ")"
	}
	enc := f.Encoding
	if enc == "" {
		enc = "raw"
	}
	s, p := l.Target.Step, l.Path
	where := p
	switch f.Where {
	case "name":
		where = "the name of " + p
	case "link":
		where = "the link target of " + p
	}
	if s == nil {
		return fmt.Sprintf("%s, %s-encoded, is in %s, which the frontend hands to BuildKit", what, enc, describeFrontendFile(p))
	}
	step := shorten(s.Name, 72)
	if s.Context {
		step = "the build context, as BuildKit unpacks it (that layer goes to an exported build cache)"
	}
	if step == "" {
		step = "a step"
	}
	if line := s.Line(); line > 0 {
		step = fmt.Sprintf("line %d: %s", line, step)
	}
	layer := "the layer this step makes"
	if l.Target.Dest != "/" && l.Target.Dest != "" {
		layer = "the output of its mount " + l.Target.Dest
	}
	return fmt.Sprintf("%s: %s, %s-encoded, is in %s in %s", step, what, enc, where, layer)
}

func describeFrontendFile(p string) string {
	switch strings.TrimPrefix(p, "/") {
	case FileImageConfig:
		return "the image config"
	case FileDefinition:
		return "the build definition (provenance records it)"
	case FileOptions:
		return "the build options (build-args, labels; provenance records them)"
	}
	return p
}

// The files of the frontend check.
const (
	FileImageConfig = "image-config.json"
	FileDefinition  = "definition.json"
	FileOptions     = "options.json"
)

// Line is the first line of the step in its first source, or 0.
func (s *Step) Line() int {
	for _, l := range s.Locations {
		for _, r := range l.Ranges {
			if r != nil && r.Start != nil && r.Start.Line > 0 {
				return int(r.Start.Line)
			}
		}
	}
	return 0
}

// shorten cuts s to about n bytes (at a rune boundary) with an ellipsis.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
