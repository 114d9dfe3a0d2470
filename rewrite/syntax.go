package rewrite

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// syntaxVersion is a Dockerfile syntax version, major.minor.
type syntaxVersion struct{ major, minor int }

func (v syntaxVersion) less(w syntaxVersion) bool {
	return v.major < w.major || v.major == w.major && v.minor < w.minor
}

func (v syntaxVersion) String() string { return fmt.Sprintf("%d.%d", v.major, v.minor) }

// syntaxFeature is a Dockerfile feature the rewrite writes, with the first
// syntax version that has it (docs/reference.md of BuildKit's Dockerfile
// frontend), in the stable channel and in the labs one.
type syntaxFeature struct {
	what       string
	stable     syntaxVersion
	labs       syntaxVersion
	usedByThis func(instructions.Command) bool
}

var syntaxFeatures = []syntaxFeature{
	{
		what: "RUN --mount", stable: syntaxVersion{1, 2}, labs: syntaxVersion{1, 2},
		usedByThis: func(c instructions.Command) bool {
			r, ok := c.(*instructions.RunCommand)
			return ok && len(mountsOf(r)) > 0
		},
	},
	{
		what: "env= on secret mounts", stable: syntaxVersion{1, 10}, labs: syntaxVersion{1, 10},
		usedByThis: func(c instructions.Command) bool {
			r, ok := c.(*instructions.RunCommand)
			if !ok {
				return false
			}
			for _, m := range mountsOf(r) {
				if m.Type == instructions.MountTypeSecret && m.Env != nil {
					return true
				}
			}
			return false
		},
	},
	{
		what: "COPY --exclude", stable: syntaxVersion{1, 19}, labs: syntaxVersion{1, 7},
		usedByThis: func(c instructions.Command) bool {
			switch c := c.(type) {
			case *instructions.CopyCommand:
				return len(c.ExcludePatterns) > 0
			case *instructions.AddCommand:
				return len(c.ExcludePatterns) > 0
			}
			return false
		},
	},
}

// syntaxImageRe matches the images of BuildKit's Dockerfile frontend with
// a version tag: docker/dockerfile:1.4, docker.io/docker/dockerfile:1.4.3,
// docker/dockerfile-upstream:1.7-labs, with an optional digest.
var syntaxImageRe = regexp.MustCompile(`^((?:docker\.io/)?docker/dockerfile(?:-upstream)?):([0-9]+)(?:\.([0-9]+))?(?:\.[0-9]+)?(-labs)?(@sha256:[0-9a-f]{64})?$`)

// raiseSyntaxPin raises the `# syntax=` pin of out, the rewritten
// Dockerfile, to the lowest version that has every feature out uses, when
// the pin is older. It returns the new text and the finding that says so;
// ok is false when there is nothing to say. A pin with a digest is not
// changed (the digest names the old version): the finding says to change
// it.
func raiseSyntaxPin(out []byte) (_ []byte, _ Finding, ok bool) {
	// Most Dockerfiles have no syntax directive, and BuildKit's directive
	// parser costs a few percent of a typical rewrite.
	if !containsSyntax(out) {
		return out, Finding{}, false
	}
	value, _, loc, found := parser.ParseDirective("syntax", out)
	if !found || len(loc) == 0 {
		return out, Finding{}, false
	}
	m := syntaxImageRe.FindStringSubmatch(value)
	if m == nil || m[3] == "" {
		// Not BuildKit's frontend with a version, or a floating major
		// (docker/dockerfile:1), which has every feature of its line.
		return out, Finding{}, false
	}
	major, _ := strconv.Atoi(m[2])
	minor, _ := strconv.Atoi(m[3])
	pinned := syntaxVersion{major, minor}
	labs := m[4] != ""
	need, whats := syntaxNeeds(out, labs, pinned)
	if !pinned.less(need) {
		return out, Finding{}, false
	}
	line := loc[0].Start.Line
	newRef := m[1] + ":" + need.String() + m[4]
	f := Finding{
		Rule: RuleSyntaxPin.Name, Severity: RuleSyntaxPin.Severity, Range: Range{Start: line, End: line},
		Message: fmt.Sprintf("the rewritten Dockerfile uses %s, which the pinned %s does not have", strings.Join(whats, " and "), value),
	}
	if m[5] != "" {
		f.Fix = "pin " + newRef + " with its digest, or a later version"
		return out, f, true
	}
	s := newSource(out, '\\')
	content := s.lineContent(line)
	i := bytes.Index(content, []byte(value))
	if i < 0 {
		f.Fix = "pin " + newRef + " or a later version"
		return out, f, true
	}
	start := s.lineOff[line-1] + i
	var b bytes.Buffer
	b.Write(out[:start])
	b.WriteString(newRef)
	b.Write(out[start+len(value):])
	f.Fix, f.Fixed = "the pin is now "+newRef, true
	return b.Bytes(), f, true
}

// syntaxNeeds is the lowest syntax version that has every feature of
// syntaxFeatures that out uses, and those of them that pinned lacks.
func syntaxNeeds(out []byte, labs bool, pinned syntaxVersion) (syntaxVersion, []string) {
	var need syntaxVersion
	ast, err := parser.Parse(bytes.NewReader(out))
	if err != nil {
		return need, nil
	}
	stages, _, err := instructions.Parse(ast.AST, linter.New(&linter.Config{}))
	if err != nil {
		return need, nil
	}
	used := map[int]bool{}
	for _, st := range stages {
		for _, c := range st.Commands {
			for i, f := range syntaxFeatures {
				if !used[i] && f.usedByThis(c) {
					used[i] = true
				}
			}
		}
	}
	var whats []string
	for i, f := range syntaxFeatures {
		if !used[i] {
			continue
		}
		v := f.stable
		if labs {
			v = f.labs
		}
		if need.less(v) {
			need = v
		}
		if pinned.less(v) {
			whats = append(whats, fmt.Sprintf("%s (%s)", f.what, v))
		}
	}
	return need, whats
}

// containsSyntax reports the word syntax in any case, which a syntax
// directive has (BuildKit's directive keys are ASCII, compared in lower
// case).
func containsSyntax(b []byte) bool {
	// By its x, rarer than its s: the six bytes that end there. (No
	// other character folds to a letter of yntax, so the word is six
	// ASCII bytes.)
	for i := bytes.IndexAny(b, "xX"); i >= 0; {
		if i >= 5 && bytes.EqualFold(b[i-5:i+1], []byte("syntax")) {
			return true
		}
		j := bytes.IndexAny(b[i+1:], "xX")
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}

// lowerKeyword is strings.ToLower(s) for an instruction's keyword (a
// parser.Node's Value, in the Dockerfile's case): the keywords written in
// upper or lower case, as most are, are looked up instead of copied.
func lowerKeyword(s string) string {
	if k, ok := lowerKeywords[s]; ok {
		return k
	}
	return strings.ToLower(s)
}

// lowerKeywords maps the keywords, in upper and lower case, to
// strings.ToLower of each.
var lowerKeywords = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{"add", "arg", "cmd", "copy", "entrypoint", "env", "expose", "from", "healthcheck", "label",
		"maintainer", "onbuild", "run", "shell", "stopsignal", "user", "volume", "workdir"} {
		for _, s := range []string{k, strings.ToUpper(k)} {
			m[s] = strings.ToLower(s)
		}
	}
	return m
}()
