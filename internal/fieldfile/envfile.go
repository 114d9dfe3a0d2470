package fieldfile

import (
	"bufio"
	"bytes"
	"regexp"
	"strings"

	"mvdan.cc/sh/v3/syntax"

	"github.com/hushbuild/hushbuild/rewrite"
)

// assignment is a shell line that sets a variable: NAME=VALUE, export
// NAME=VALUE, declare -x NAME=VALUE, readonly NAME=VALUE.
var assignment = regexp.MustCompile(`^\s*(?:(?:export|declare\s+-x|readonly|local)\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$`)

// AssignsSecret reports whether data, a shell file a RUN sources, assigns
// a secret-named variable (rewrite.IsSecretName) a value of its own: then
// it is an env file whatever its name. A value that is only expansions
// ($X, ${X:-}, $(cat /run/secrets/x)) or empty brings no secret of the
// file's own. Only the decision comes back, never a name's value.
func AssignsSecret(data []byte) bool {
	if len(data) > MaxSize {
		return false
	}
	if parsedAssignsSecret(data) {
		return true
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), MaxSize)
	for sc.Scan() {
		m := assignment.FindStringSubmatch(sc.Text())
		if m == nil || !rewrite.IsSecretName(m[1], rewrite.Config{}) {
			continue
		}
		v := strings.TrimSpace(m[2])
		if i := strings.Index(v, " #"); i >= 0 {
			v = v[:i]
		}
		v = strings.Trim(v, `"'`)
		if v != "" && !strings.HasPrefix(v, "$") {
			return true
		}
	}
	return false
}

// parsedAssignsSecret reads data as a shell script: every assignment of a
// line counts (export A=1 NPM_TOKEN=...), and a literal default in an
// expansion (NPM_TOKEN=${NPM_TOKEN:-...}) is a value of the file's own.
func parsedAssignsSecret(data []byte) bool {
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(bytes.NewReader(data), "")
	if err != nil {
		return false
	}
	found := false
	check := func(as *syntax.Assign) {
		if as == nil || as.Naked || as.Name == nil || as.Value == nil {
			return
		}
		if rewrite.IsSecretName(as.Name.Value, rewrite.Config{}) && literalIn(as.Value) {
			found = true
		}
	}
	syntax.Walk(f, func(n syntax.Node) bool {
		switch x := n.(type) {
		case *syntax.CallExpr:
			for _, as := range x.Assigns {
				check(as)
			}
		case *syntax.DeclClause:
			for _, as := range x.Args {
				check(as)
			}
		}
		return !found
	})
	return found
}

// literalIn reports whether w holds literal text of its own, or a literal
// default of an expansion.
func literalIn(w *syntax.Word) bool {
	if w == nil {
		return false
	}
	var parts func([]syntax.WordPart) bool
	parts = func(ps []syntax.WordPart) bool {
		for _, p := range ps {
			switch x := p.(type) {
			case *syntax.Lit:
				if strings.TrimSpace(x.Value) != "" {
					return true
				}
			case *syntax.SglQuoted:
				if strings.TrimSpace(x.Value) != "" {
					return true
				}
			case *syntax.DblQuoted:
				if parts(x.Parts) {
					return true
				}
			case *syntax.ParamExp:
				if x.Exp != nil && x.Exp.Word != nil && parts(x.Exp.Word.Parts) {
					return true
				}
			}
		}
		return false
	}
	return parts(w.Parts)
}
