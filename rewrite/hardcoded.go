package rewrite

import (
	"regexp"
	"sort"
	"strings"

	"github.com/hushfile/hushfile/secretscan"
)

// scanLiterals reports credentials written literally anywhere in the
// Dockerfile: URL userinfo with a password, private key blocks, well-known
// token formats. They are in the Dockerfile, its image history and the
// build's provenance; no rewrite can take them back.
func (a *analyzer) scanLiterals() {
	reported := map[int]bool{}
	for _, f := range a.findings {
		if f.Rule == RuleHardcodedSecret.Name {
			reported[f.Range.Start] = true
		}
	}
	lines := make([]int, 0, len(a.nodes))
	for l := range a.nodes {
		lines = append(lines, l)
	}
	sort.Ints(lines)
	for _, l := range lines {
		n := a.nodes[l]
		if reported[l] {
			continue
		}
		rules := map[string]bool{}
		scan := func(text string) {
			secretscan.Scan([]byte(text), func(m secretscan.Match) {
				if m.Rule != "" {
					rules[m.Rule] = true
				}
			})
		}
		scan(n.Original)
		if literalUserinfo(n.Original) {
			rules["url-userinfo"] = true
		}
		for _, h := range n.Heredocs {
			scan(h.Content)
		}
		if len(rules) == 0 {
			continue
		}
		var ids []string
		for r := range rules {
			ids = append(ids, r)
		}
		sort.Strings(ids)
		a.add(RuleHardcodedSecret, SeverityError, n.StartLine, n.EndLine, false,
			"remove the credential from the Dockerfile, pass it with --secret to a RUN --mount=type=secret, and rotate it",
			"%s holds a credential written in the Dockerfile (%s): it is in the image history and the build's provenance, and no rewrite can un-leak it",
			strings.ToUpper(n.Value), strings.Join(ids, ", "))
	}
}

// userinfoRe finds scheme://user:password@ in Dockerfile text.
var userinfoRe = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://([^\s/:@'"]+):([^\s/@'"]+)@`)

// literalUserinfo reports a URL whose password is written literally: in a
// Dockerfile even "user:password@" is a credential someone will replace
// in place, which is the leak. A password made of variables is not.
func literalUserinfo(text string) bool {
	for _, m := range userinfoRe.FindAllStringSubmatch(text, -1) {
		if !strings.ContainsAny(m[2], "$`") && !strings.ContainsAny(m[1], "$`") {
			return true
		}
	}
	return false
}
