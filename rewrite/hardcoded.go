package rewrite

import (
	"path"
	"sort"
	"strings"

	"mvdan.cc/sh/v3/syntax"

	"github.com/hushbuild/hushbuild/secretscan"
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
				// URL userinfo is judged by literalUserinfo, which knows
				// Dockerfile and shell variables.
				if m.Rule != "" && m.Rule != "url-userinfo" {
					rules[m.Rule] = true
				}
			})
		}
		scan(n.Original)
		if literalUserinfo(n.Original) {
			rules["url-userinfo"] = true
		}
		if strings.EqualFold(n.Value, "run") && n.Next != nil && !n.Attributes["json"] {
			if r := literalPasswordFlag(n.Next.Value); r != "" {
				rules[r] = true
			}
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
		a.add(RuleHardcodedSecret, n.StartLine, n.EndLine, false,
			"remove the credential from the Dockerfile, pass it with --secret to a RUN --mount=type=secret, and rotate it",
			"%s holds a credential written in the Dockerfile (%s): it is in the image history and the build's provenance, and no rewrite can un-leak it",
			strings.ToUpper(n.Value), strings.Join(ids, ", "))
	}
	a.scanComments(reported)
}

// scanComments reports a credential of a known format, or a URL with a
// literal password, in a comment line: BuildKit records the Dockerfile's
// whole text, comments included, in the build's provenance.
func (a *analyzer) scanComments(reported map[int]bool) {
	for l := 1; l <= a.src.numLines(); l++ {
		text := strings.TrimSpace(string(a.src.lineContent(l)))
		if !strings.HasPrefix(text, "#") || reported[l] {
			continue
		}
		rules := map[string]bool{}
		secretscan.Scan([]byte(text), func(m secretscan.Match) {
			if m.Rule != "" && m.Rule != "url-userinfo" {
				rules[m.Rule] = true
			}
		})
		if literalUserinfo(text) {
			rules["url-userinfo"] = true
		}
		if len(rules) == 0 {
			continue
		}
		ids := make([]string, 0, len(rules))
		for r := range rules {
			ids = append(ids, r)
		}
		sort.Strings(ids)
		a.add(RuleHardcodedSecret, l, l, false,
			"delete the credential from the comment and rotate it",
			"a comment holds a credential (%s): BuildKit records the Dockerfile's text, comments included, in the build's provenance", strings.Join(ids, ", "))
	}
}

// literalUserinfo reports a URL whose password is written literally: in a
// Dockerfile even "user:password@" is a credential someone will replace
// in place, which is the leak. A password made of variables is not.
//
// It finds what the regular expression
// [A-Za-z][A-Za-z0-9+.-]*://([^\s/:@'"]+):([^\s/@'"]+)@ would, from each
// "://" (the expression ran over every RUN at a tenth of a typical
// rewrite's cost; TestLiteralUserinfoMatchesRegexp holds the two equal).
func literalUserinfo(text string) bool {
	if !strings.Contains(text, "://") || !strings.Contains(text, "@") {
		return false
	}
	for i := 0; ; {
		j := strings.Index(text[i:], "://")
		if j < 0 {
			return false
		}
		j += i
		i = j + 3
		// The scheme: a letter, then letters, digits, + . -
		k, letter := j, false
		for k > 0 && isSchemeByte(text[k-1]) {
			k--
			c := text[k] | 0x20
			letter = letter || 'a' <= c && c <= 'z'
		}
		if !letter {
			continue
		}
		// user:password@, neither part empty; the user has no ':'.
		rest := text[i:]
		u := strings.IndexFunc(rest, func(r rune) bool { return userinfoStop(r) || r == ':' })
		if u <= 0 || rest[u] != ':' {
			continue
		}
		pass := rest[u+1:]
		q := strings.IndexFunc(pass, userinfoStop)
		if q <= 0 || pass[q] != '@' {
			continue
		}
		if !strings.ContainsAny(rest[:u], "$`") && !strings.ContainsAny(pass[:q], "$`") {
			return true
		}
	}
}

func isSchemeByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '.' || c == '-'
}

// userinfoStop is what ends a user or a password: \s / @ ' " (and ':'
// for the user).
func userinfoStop(r rune) bool {
	switch r {
	case '\t', '\n', '\f', '\r', ' ', '/', '@', '\'', '"':
		return true
	}
	return false
}

// passwordFlagHints are cheap tests for commands that may take a
// password on their command line.
var passwordFlagHints = []string{"mysql", "mariadb", "sshpass", "curl", "wget", "rar", "7z", "zip"}

// literalPasswordFlag finds a password given literally on a command line:
// mysql -psecret, sshpass -p secret, curl -u user:secret, unrar -psecret,
// wget --password=secret. It returns a rule id, or "".
func literalPasswordFlag(cmd string) string {
	hinted := false
	for _, h := range passwordFlagHints {
		if strings.Contains(cmd, h) {
			hinted = true
		}
	}
	if !hinted {
		return ""
	}
	f, err := parseShell(cmd)
	if err != nil {
		return ""
	}
	found := ""
	literal := func(w *syntax.Word) (string, bool) {
		// Only words made of literal text: a $VAR is no hard-coded value.
		for _, p := range w.Parts {
			switch p.(type) {
			case *syntax.Lit, *syntax.SglQuoted:
			case *syntax.DblQuoted:
				for _, dp := range p.(*syntax.DblQuoted).Parts {
					if _, ok := dp.(*syntax.Lit); !ok {
						return "", false
					}
				}
			default:
				return "", false
			}
		}
		v, _, ok := wordPath(w, shellEnv{})
		return v, ok
	}
	syntax.Walk(f, func(n syntax.Node) bool {
		c, ok := n.(*syntax.CallExpr)
		if !ok || len(c.Args) < 2 || found != "" {
			return true
		}
		name := path.Base(c.Args[0].Lit())
		for i := 1; i < len(c.Args); i++ {
			v, ok := literal(c.Args[i])
			if !ok {
				continue
			}
			next := func() (string, bool) {
				if i+1 < len(c.Args) {
					return literal(c.Args[i+1])
				}
				return "", false
			}
			switch name {
			case "mysql", "mysqldump", "mysqladmin", "mariadb", "mariadb-dump", "mysqlimport":
				if strings.HasPrefix(v, "-p") && len(v) > 2 || strings.HasPrefix(v, "--password=") && len(v) > len("--password=") {
					found = "password-flag"
				}
			case "sshpass":
				if v == "-p" {
					if _, ok := next(); ok {
						found = "password-flag"
					}
				} else if strings.HasPrefix(v, "-p") && len(v) > 2 {
					found = "password-flag"
				}
			case "unrar", "rar", "7z", "7za", "unzip", "zip":
				if (strings.HasPrefix(v, "-p") || strings.HasPrefix(v, "-P")) && len(v) > 2 {
					found = "password-flag"
				} else if v == "-P" {
					if _, ok := next(); ok {
						found = "password-flag"
					}
				}
			case "curl":
				if v == "-u" || v == "--user" {
					if u, ok := next(); ok && strings.Contains(u, ":") && !strings.HasSuffix(u, ":") {
						found = "password-flag"
					}
				} else if strings.HasPrefix(v, "--user=") && strings.Contains(v[len("--user="):], ":") {
					found = "password-flag"
				}
			case "wget":
				for _, pre := range []string{"--password=", "--http-password=", "--ftp-password="} {
					if strings.HasPrefix(v, pre) && len(v) > len(pre) {
						found = "password-flag"
					}
				}
			}
		}
		return true
	})
	return found
}
