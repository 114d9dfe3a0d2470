package rewrite

import (
	"bytes"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
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
	// One stream, buffer and callback for every instruction; rules are
	// the current instruction's, made on the first one found.
	ss := secretscan.NewStream()
	var buf []byte
	var rules map[string]bool
	found := func(r string) {
		if rules == nil {
			rules = map[string]bool{}
		}
		rules[r] = true
	}
	onMatch := func(m secretscan.Match) {
		// URL userinfo is judged by literalUserinfo, which knows
		// Dockerfile and shell variables.
		if m.Rule != "" && m.Rule != "url-userinfo" {
			found(m.Rule)
		}
	}
	scan := func(text string) {
		buf = append(buf[:0], text...)
		ss.ScanAll("", buf, onMatch)
	}
	for l, n := range a.byLine {
		if n == nil || reported[l] {
			continue
		}
		rules = nil
		scan(n.Original)
		if literalUserinfo(n.Original) {
			found("url-userinfo")
		}
		if words := jsonWords(n); len(words) > 0 {
			// An exec form's JSON strings as BuildKit decodes them: a
			// \u escape keeps a token out of the text, not out of the
			// history or the config.
			decoded := strings.Join(words, " ")
			scan(decoded)
			if literalUserinfo(decoded) {
				found("url-userinfo")
			}
		}
		if strings.EqualFold(n.Value, "run") && n.Next != nil && !n.Attributes["json"] {
			r, ok := a.passwordFlags[n.Next.Value]
			if !ok {
				r = literalPasswordFlag(n.Next.Value)
			}
			if r != "" {
				found(r)
			}
		} else {
			// The commands the image keeps (CMD, ENTRYPOINT, HEALTHCHECK:
			// its config and history), an exec-form RUN (its history),
			// and the instruction an ONBUILD holds (the config's OnBuild
			// list): a password given literally on one of them.
			for _, text := range commandTexts(n) {
				if r := literalPasswordFlag(text); r != "" {
					found(r)
				}
			}
		}
		if inner := onbuildInstruction(n); inner != nil && strings.EqualFold(inner.Value, "env") {
			// ONBUILD ENV NPM_TOKEN=literal: the trigger is in the
			// image's config, the value with it.
			for k := inner.Next; k != nil && k.Next != nil; k = k.Next.Next.Next {
				key, val := k.Value, unquote(k.Next.Value)
				if a.isSecret(key) && !strings.Contains(val, "$") && literalSecret(key, val) {
					found("secret-assignment")
				}
				if k.Next.Next == nil {
					break
				}
			}
		}
		for _, h := range n.Heredocs {
			scan(h.Content)
			// A heredoc is a file COPY writes, or a script RUN runs.
			if strings.EqualFold(n.Value, "run") {
				if r := literalPasswordFlag(h.Content); r != "" {
					found(r)
				}
			} else if r := literalInText(h.Content); r != "" {
				found(r)
			}
		}
		inst := n
		if inner := onbuildInstruction(n); inner != nil {
			inst = inner
		}
		switch lowerKeyword(inst.Value) {
		case "env", "label":
			// KEY VALUE = triples.
			for k := inst.Next; k != nil && k.Next != nil; k = k.Next.Next.Next {
				key, val := k.Value, unquote(k.Next.Value)
				if strings.EqualFold(inst.Value, "label") && literalSettingValue(key, val) {
					found("secret-label")
				}
				if r := literalInText(val); r != "" {
					found(r)
				}
				if k.Next.Next == nil {
					break
				}
			}
		case "add":
			// ADD of a URL: BuildKit records the URL, query string
			// included, in the provenance (its materials) and the image
			// history (?access_token=..., ?apikey=...).
			for k := inst.Next; k != nil; k = k.Next {
				if strings.Contains(k.Value, "://") {
					if r := literalInText(k.Value); r != "" {
						found(r)
					}
				}
			}
		case "arg":
			for k := inst.Next; k != nil; k = k.Next {
				if _, val, ok := strings.Cut(k.Value, "="); ok {
					if r := literalInText(unquote(val)); r != "" {
						found(r)
					}
				}
			}
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

// onbuildInstruction is the instruction an ONBUILD holds, or nil.
func onbuildInstruction(n *parser.Node) *parser.Node {
	if !strings.EqualFold(n.Value, "onbuild") || n.Next == nil || len(n.Next.Children) == 0 {
		return nil
	}
	return n.Next.Children[0]
}

// commandTexts are the command lines of a CMD, ENTRYPOINT, HEALTHCHECK
// CMD or exec-form RUN (or of such an instruction an ONBUILD holds), as
// shell text: a shell form as written, an exec form's arguments quoted
// (an argument with a $ stays an expansion: an exec form expands nothing,
// but such a word is a reference, not a value), and the script of an
// exec form's `sh -c SCRIPT`. A shell-form RUN is not among them (its
// check is passwordFlags').
func commandTexts(n *parser.Node) []string {
	if inner := onbuildInstruction(n); inner != nil {
		if strings.EqualFold(inner.Value, "run") && !inner.Attributes["json"] && inner.Next != nil {
			return []string{inner.Next.Value}
		}
		n = inner
	}
	cmd := n.Next
	switch lowerKeyword(n.Value) {
	case "cmd", "entrypoint":
	case "run":
		if !n.Attributes["json"] {
			return nil
		}
	case "healthcheck":
		if cmd == nil || !strings.EqualFold(cmd.Value, "cmd") {
			return nil
		}
		cmd = cmd.Next
	default:
		return nil
	}
	if cmd == nil {
		return nil
	}
	if !n.Attributes["json"] {
		return []string{cmd.Value}
	}
	var words []string
	for w := cmd; w != nil; w = w.Next {
		words = append(words, w.Value)
	}
	quoted := make([]string, len(words))
	for i, w := range words {
		if strings.Contains(w, "$") {
			quoted[i] = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "`", "\\`").Replace(w) + `"`
		} else {
			quoted[i] = shellQuote(w)
		}
	}
	texts := []string{strings.Join(quoted, " ")}
	switch path.Base(words[0]) {
	case "sh", "bash", "ash", "dash", "zsh", "ksh", "mksh":
		for i := 1; i+1 < len(words); i++ {
			if w := words[i]; strings.HasPrefix(w, "-") && !strings.HasPrefix(w, "--") && strings.Contains(w, "c") {
				texts = append(texts, words[i+1])
				break
			}
		}
	}
	return texts
}

// jsonWords are the decoded strings of an instruction's JSON arrays (RUN,
// CMD, ENTRYPOINT, SHELL, HEALTHCHECK CMD, and those of the instruction
// an ONBUILD holds).
func jsonWords(n *parser.Node) []string {
	var out []string
	if n.Attributes["json"] {
		for w := n.Next; w != nil; w = w.Next {
			out = append(out, w.Value)
		}
	}
	for w := n.Next; w != nil; w = w.Next {
		for _, c := range w.Children {
			out = append(out, jsonWords(c)...)
		}
	}
	return out
}

// scanComments reports a credential of a known format, or a URL with a
// literal password, in a comment line: BuildKit records the Dockerfile's
// whole text, comments included, in the build's provenance.
func (a *analyzer) scanComments(reported map[int]bool) {
	var ss *secretscan.Stream // made for the first comment
	for l := 1; l <= a.src.numLines(); l++ {
		c := bytes.TrimSpace(a.src.lineContent(l))
		if len(c) == 0 || c[0] != '#' || reported[l] {
			continue
		}
		text := string(c)
		rules := map[string]bool{}
		if ss == nil {
			ss = secretscan.NewStream()
		}
		ss.ScanAll("", c, func(m secretscan.Match) {
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

// literalSecret reports a literal value given to a secret-named setting
// (a flag, a variable, a tool's setting) that looks like a real credential
// rather than a placeholder: checkLiteralDefault's judgement.
func literalSecret(name, v string) bool {
	return looksLikeCredential(name, v) || len(v) >= 8 && hasMixedClasses(v) && !looksLikePlaceholder(name, v) && !looksLikePath(v)
}

// secretSettingKey reports a tool setting's key that holds a credential:
// npm's //host/:_authToken, _password and _auth, yarn's npmAuthToken,
// composer's http-basic.HOST, github-oauth.HOST, gitlab-token.HOST and
// bearer.HOST, aws's aws_secret_access_key.
func secretSettingKey(k string) bool {
	k = strings.ToLower(k)
	switch k {
	case "_auth", "_password", "_authtoken":
		return true
	}
	for _, suffix := range []string{"_authtoken", ":_password", ":_auth", "npmauthtoken", "aws_secret_access_key", "aws_session_token"} {
		if strings.HasSuffix(k, suffix) {
			return true
		}
	}
	for _, prefix := range []string{"http-basic.", "github-oauth.", "gitlab-token.", "gitlab-oauth.", "bearer.", "bitbucket-oauth.", "pypi-token."} {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// literalPasswordFlag finds a password given literally on a command line:
// mysql -psecret, sshpass -p secret, curl -u user:secret, unrar -psecret,
// wget --password=secret. It returns a rule id, or "".
func literalPasswordFlag(cmd string) string {
	if !strings.ContainsAny(cmd, "=| \t\n\r\v\f") {
		// passwordFlagIn looks at assignments, pipes and commands with
		// arguments; a text with no =, | or blank parses to none of
		// them (one word, or single words joined by ; & ( ) { }). Most
		// exec-form CMDs and ENTRYPOINTs are such a word.
		return ""
	}
	f, err := parseShell(cmd)
	if err != nil {
		return ""
	}
	return passwordFlagIn(f)
}

// passwordFlagIn is literalPasswordFlag on the parse of the command.
func passwordFlagIn(f *syntax.File) string {
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
	walk(f, func(n syntax.Node) bool {
		if found != "" {
			return true
		}
		// export API_KEY=literal, API_TOKEN=literal ./deploy.sh
		if as, ok := n.(*syntax.Assign); ok && as.Name != nil && as.Value != nil && !as.Append {
			if v, ok := literal(as.Value); ok && IsSecretName(as.Name.Value, Config{}) && literalSecret(as.Name.Value, v) {
				found = "secret-assignment"
			}
			return true
		}
		// echo TOKEN | docker login --password-stdin, echo user:PASS |
		// chpasswd
		if b, ok := n.(*syntax.BinaryCmd); ok && b.Op == syntax.Pipe {
			if literalPiped(b, literal) {
				found = "password-stdin"
			}
			return true
		}
		c, ok := n.(*syntax.CallExpr)
		if !ok || len(c.Args) < 2 {
			return true
		}
		// Each argument's literal value, read once for the checks below.
		var valsBuf [16]string
		var oksBuf [16]bool
		vals, oks := valsBuf[:0], oksBuf[:0]
		for _, a := range c.Args {
			v, ok := literal(a)
			vals, oks = append(vals, v), append(oks, ok)
		}
		arg := func(i int) (string, bool) { return vals[i], oks[i] }
		// Any command: a secret-named setting given literally
		// (-Dnexus.password=..., --api-key=..., "password=..." echoed into
		// a file, a query string's token=, a signed URL's sig=), a
		// secret-named flag followed by a credential (--password ...,
		// --auth-token ...), a token as a URL's user name.
		for i := range c.Args[1:] {
			v, ok := arg(i + 1)
			if !ok {
				continue
			}
			if r := literalInText(v); r != "" {
				found = r
				return true
			}
			if strings.HasPrefix(v, "--") && !strings.Contains(v, "=") && i+2 < len(c.Args) {
				if next, ok := arg(i + 2); ok && secretFlag(v) && literalSecret(v, next) && !hostLike(next) && !strings.Contains(next, "://") {
					found = "password-flag"
					return true
				}
			}
		}
		name := path.Base(c.Args[0].Lit())
		var words []string
		for i := range c.Args[1:] {
			if v, ok := arg(i + 1); ok {
				words = append(words, v)
			} else {
				words = append(words, "$")
			}
		}
		switch name {
		case "docker", "podman", "buildah", "nerdctl", "skopeo", "helm", "oras", "crane", "regctl":
			// docker login -p PASS, --password PASS, --password=PASS
			if slices.Contains(words, "login") {
				for i, w := range words {
					if (w == "-p" || w == "--password") && i+1 < len(words) && words[i+1] != "$" {
						found = "password-flag"
					} else if v, ok := strings.CutPrefix(w, "--password="); ok && v != "" {
						found = "password-flag"
					}
				}
			}
		case "bundle":
			// bundle config [set] [--global] gems.example.com USER:PASS
			if slices.Contains(words, "config") && len(words) >= 3 {
				key, val := words[len(words)-2], words[len(words)-1]
				if _, pass, ok := strings.Cut(val, ":"); ok && (strings.Contains(key, ".") || strings.Contains(key, "__")) && literalSecret("password", pass) {
					found = "secret-setting"
				}
			}
		case "npm", "yarn", "pnpm", "composer", "aws", "poetry":
			// npm config set //host/:_authToken TOKEN (or KEY=TOKEN),
			// composer config -g http-basic.HOST USER PASS, aws configure
			// set aws_secret_access_key KEY.
			for i, w := range words {
				key, val, eq := strings.Cut(w, "=")
				if !secretSettingKey(key) {
					continue
				}
				switch {
				case eq && val != "" && !strings.Contains(val, "$"):
					found = "secret-setting"
				case !eq && i+1 < len(words) && words[i+1] != "$" && !strings.HasPrefix(words[i+1], "-"):
					v := words[i+1]
					if strings.HasPrefix(strings.ToLower(key), "http-basic.") {
						// USER PASS: the password is the second.
						if i+2 >= len(words) || words[i+2] == "$" {
							continue
						}
						v = words[i+2]
					}
					if literalSecret(key, v) {
						found = "secret-setting"
					}
				}
			}
		case "echo", "printf":
			// echo "machine HOST login USER password PASS" > ~/.netrc
			for _, w := range words {
				f := strings.Fields(w)
				for i := 0; i+1 < len(f); i++ {
					if f[0] == "machine" && f[i] == "password" && literalSecret("password", f[i+1]) {
						found = "netrc-password"
					}
				}
			}
		}
		if found != "" {
			return true
		}
		for i := 1; i < len(c.Args); i++ {
			v, ok := arg(i)
			if !ok {
				continue
			}
			next := func() (string, bool) {
				if i+1 < len(c.Args) {
					return arg(i + 1)
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
				if v == "-H" || v == "--header" {
					// -H "Authorization: Bearer TOKEN"
					if h, ok := next(); ok {
						hk, hv, _ := strings.Cut(h, ":")
						hv = strings.TrimSpace(hv)
						if strings.EqualFold(strings.TrimSpace(hk), "authorization") {
							if _, cred, ok := strings.Cut(hv, " "); ok {
								hv = strings.TrimSpace(cred)
							}
						} else if !IsSecretName(strings.ReplaceAll(strings.TrimSpace(hk), "-", "_"), Config{}) {
							hv = ""
						}
						if hv != "" && literalSecret(hk, hv) {
							found = "auth-header"
						}
					}
				} else if v == "--oauth2-bearer" {
					if t, ok := next(); ok && literalSecret("token", t) {
						found = "auth-header"
					}
				} else if v == "-u" || v == "--user" {
					if u, ok := next(); ok && strings.Contains(u, ":") && !strings.HasSuffix(u, ":") {
						found = "password-flag"
					}
				} else if strings.HasPrefix(v, "--user=") && strings.Contains(v[len("--user="):], ":") {
					found = "password-flag"
				}
			case "twine", "az", "conan", "dotnet", "mongo", "mongosh", "mongodump", "mongorestore", "redis-cli", "htpasswd":
				// twine -p, az login -p, conan remote login -p, dotnet
				// nuget add source -p, mongo -p, redis-cli -a,
				// htpasswd -b FILE USER PASS
				flag := "-p"
				if name == "redis-cli" {
					flag = "-a"
				}
				if name == "htpasswd" {
					if strings.HasPrefix(v, "-") && strings.Contains(v, "b") && !strings.HasPrefix(v, "--") {
						var rest []string
						for k := i + 1; k < len(c.Args); k++ {
							w, ok := arg(k)
							if !ok {
								rest = nil
								break
							}
							if !strings.HasPrefix(w, "-") {
								rest = append(rest, w)
							}
						}
						if len(rest) >= 3 && literalSecret("password", rest[len(rest)-1]) {
							found = "password-flag"
						}
					}
					continue
				}
				if v == flag {
					if p, ok := next(); ok && literalSecret("password", p) {
						found = "password-flag"
					}
				}
			case "wget":
				for _, pre := range []string{"--password=", "--http-password=", "--ftp-password="} {
					if strings.HasPrefix(v, pre) && len(v) > len(pre) {
						found = "password-flag"
					}
				}
				if v == "--password" || v == "--http-password" || v == "--ftp-password" {
					if _, ok := next(); ok {
						found = "password-flag"
					}
				}
			}
		}
		return true
	})
	return found
}

// unquote is a Dockerfile value without the quotes around it.
func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}

// literalSettingValue reports a literal value, for a setting of that
// key, that is a credential written in the Dockerfile: the key names a
// credential (IsSecretSettingKey) and the value is no variable, setting,
// placeholder, path, host name or URL.
func literalSettingValue(key, val string) bool {
	val = strings.TrimSpace(val)
	if strings.ContainsAny(val, "$`") || !IsSecretSettingKey(key) || isSettingValue(val) || hostLike(val) {
		return false
	}
	if strings.Contains(val, "://") {
		return false // a URL; one with a password is literalUserinfo's
	}
	return literalSecret(key, val)
}

// literalInText returns a rule id when text, written literally in the
// Dockerfile, holds a credential inside it: a secret-named setting with a
// literal value (SettingIn: options, properties, JSON, YAML, XML, query
// strings), or a token as a URL's user name (https://TOKEN@github.com/...).
func literalInText(text string) string {
	if SettingIn(text, literalSettingValue) != "" {
		return "secret-setting"
	}
	if URLUserToken(text) {
		return "url-token"
	}
	return ""
}

// secretFlag reports a long option whose value is a credential:
// --password, --token, --auth-token, --api-key, --client-secret..., not
// one that names a file, a source or stdin (--password-stdin,
// --token-file) nor a public key (--recv-keys).
func secretFlag(flag string) bool {
	name := strings.ReplaceAll(strings.TrimLeft(flag, "-"), "-", "_")
	// Both conditions are asked, the cheaper first: the last token, then
	// the name's classification.
	toks := splitName(name)
	if len(toks) == 0 {
		return false
	}
	last := false
	switch toks[len(toks)-1] {
	case "password", "passwd", "pass", "pwd", "passphrase", "token", "secret", "apikey", "authtoken",
		"accesstoken", "apitoken", "credential", "credentials", "creds":
		last = true
	case "key":
		last = len(toks) > 1 && (toks[len(toks)-2] == "api" || toks[len(toks)-2] == "secret" || toks[len(toks)-2] == "access" || toks[len(toks)-2] == "license")
	}
	return last && IsSecretName(name, Config{})
}

// IsSecretFlag reports a long option whose value is a credential (see
// secretFlag): --password, --api-key, not --password-stdin or
// --token-file.
func IsSecretFlag(flag string) bool { return secretFlag(flag) }

// hostLike reports a host name, a dotted version or a host:port: lower
// case letters, digits, '.', '-' and ':', with a '.' or a ':'.
func hostLike(v string) bool {
	return strings.Trim(v, "abcdefghijklmnopqrstuvwxyz0123456789.-:") == "" && strings.ContainsAny(v, ".:")
}

// literalPiped reports a credential written literally and piped into a
// command that reads one on its standard input: echo TOKEN | docker login
// --password-stdin (and helm, oras...), gh auth login --with-token,
// passwd --stdin, and echo USER:PASS | chpasswd.
func literalPiped(b *syntax.BinaryCmd, literal func(*syntax.Word) (string, bool)) bool {
	left, ok := b.X.Cmd.(*syntax.CallExpr)
	if !ok || len(left.Args) < 2 {
		return false
	}
	if name := path.Base(left.Args[0].Lit()); name != "echo" && name != "printf" {
		return false
	}
	right, ok := b.Y.Cmd.(*syntax.CallExpr)
	if !ok || len(right.Args) == 0 {
		return false
	}
	reader := path.Base(right.Args[0].Lit())
	stdin := reader == "chpasswd"
	for _, a := range right.Args[1:] {
		switch a.Lit() {
		case "--password-stdin", "--with-token", "--token-stdin", "--stdin":
			stdin = true
		}
	}
	if !stdin {
		return false
	}
	for _, a := range left.Args[1:] {
		v, ok := literal(a)
		if !ok || strings.HasPrefix(v, "-") || strings.HasPrefix(v, "%") {
			continue
		}
		if reader == "chpasswd" {
			_, v, _ = strings.Cut(v, ":")
		}
		if literalSecret("password", strings.TrimSpace(v)) {
			return true
		}
	}
	return false
}
