package secretscan

import (
	"bytes"
	"encoding/base64"
	"net/url"
	"path"
	"strings"
)

// Rule is one credential pattern. Rules are data: an ID that reports name,
// a description, the literal keywords that wake the rule up, and the file
// names it knows about. Each rule checks the text around a keyword with
// code of its own, so a rule costs nothing where its keywords do not
// occur.
type Rule struct {
	// ID is the stable name used in matches, reports and SARIF.
	ID string
	// Description says what the rule finds, in one line.
	Description string
	// Keywords are the literal strings the rule starts from.
	Keywords []string
	// Files are base-name patterns (path.Match syntax) of the credential
	// files the rule knows. With FilesOnly the rule only runs in files so
	// named; otherwise a name only makes the rule less strict.
	Files     []string
	FilesOnly bool

	back, ahead int // bytes of context the check reads around a keyword
	check       func(w window) (start, end int, ok bool)
}

// window is the text around one keyword occurrence handed to a rule's
// check: data[kw0:kw1] is the keyword. atStart and atEnd tell whether the
// data begins at the start of the input and ends at its end (otherwise it
// was cut to the rule's context). named tells whether the input's file name
// matches the rule's Files.
type window struct {
	data           []byte
	kw0, kw1       int
	atStart, atEnd bool
	named          bool
}

func (r *Rule) appliesTo(name string) (applies, named bool) {
	if name != "" {
		base := path.Base(name)
		for _, pat := range r.Files {
			if ok, _ := path.Match(pat, base); ok {
				return true, true
			}
		}
	}
	return !r.FilesOnly, false
}

var builtin = []*Rule{
	{
		ID:          "private-key",
		Description: "A PEM private key block (RSA, EC, DSA, OpenSSH, PKCS#8, PGP) with key material.",
		Keywords:    []string{"PRIVATE KEY"},
		back:        40, ahead: 400,
		check: checkPrivateKey,
	},
	{
		ID:          "url-userinfo",
		Description: "A URL with a password in its userinfo (scheme://user:password@host).",
		Keywords:    []string{"://"},
		back:        40, ahead: 300,
		check: func(w window) (int, int, bool) { return checkURLUserinfo(&w, true) },
	},
	{
		ID:          "aws-access-key-id",
		Description: "An AWS access key ID (AKIA…, ASIA…).",
		Keywords:    []string{"AKIA", "ASIA", "ABIA", "ACCA"},
		back:        1, ahead: 20,
		check: func(w window) (int, int, bool) {
			s, e, ok := tokenAfter(&w, isUpperDigit, 16, 16, isAlnum)
			if ok && bytes.HasSuffix(w.data[s:e], []byte("EXAMPLE")) {
				return 0, 0, false
			}
			return s, e, ok
		},
	},
	{
		ID:          "aws-secret-access-key",
		Description: "An AWS secret access key assigned to an aws_secret_access_key setting.",
		Keywords:    []string{"secret_access_key", "SECRET_ACCESS_KEY", "SecretAccessKey"},
		back:        1, ahead: 100,
		check: func(w window) (int, int, bool) {
			return assignedValue(&w, func(v []byte) bool {
				return len(v) == 40 && all(v, isBase64Std)
			})
		},
	},
	{
		ID:          "github-token",
		Description: "A GitHub token (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_).",
		Keywords:    []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"},
		back:        1, ahead: 100,
		check: func(w window) (int, int, bool) {
			if bytes.Equal(w.data[w.kw0:w.kw1], []byte("github_pat_")) {
				return tokenAfter(&w, isWord, 70, 100, isWord)
			}
			return tokenAfter(&w, isAlnum, 36, 36, isWord)
		},
	},
	{
		ID:          "gitlab-token",
		Description: "A GitLab token (glpat-, glptt-, gldt-, glrt-, glsoat-).",
		Keywords:    []string{"glpat-", "glptt-", "gldt-", "glrt-", "glsoat-"},
		back:        1, ahead: 100,
		check: func(w window) (int, int, bool) {
			return tokenAfter(&w, isTokenChar, 20, 90, isTokenChar)
		},
	},
	{
		ID:          "slack-token",
		Description: "A Slack API token (xoxb-, xoxp-, xoxa-, xoxr-, xoxs-, xoxe-).",
		Keywords:    []string{"xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxe-"},
		back:        1, ahead: 200,
		check: func(w window) (int, int, bool) {
			s, e, ok := tokenAfter(&w, isAlnumDash, 10, 160, isAlnumDash)
			if !ok || !bytes.ContainsAny(w.data[w.kw1:e], "0123456789") {
				return 0, 0, false
			}
			return s, e, true
		},
	},
	{
		ID:          "slack-webhook",
		Description: "A Slack incoming webhook URL.",
		Keywords:    []string{"hooks.slack.com/services/"},
		back:        0, ahead: 120,
		check: checkSlackWebhook,
	},
	{
		ID:          "npm-token",
		Description: "An npm access token (npm_…).",
		Keywords:    []string{"npm_"},
		back:        1, ahead: 40,
		check: func(w window) (int, int, bool) {
			return tokenAfter(&w, isAlnum, 36, 36, isWord)
		},
	},
	{
		ID:          "pypi-token",
		Description: "A PyPI or TestPyPI API token (pypi-AgE…).",
		Keywords:    []string{"pypi-AgEIcHlwaS5vcmc", "pypi-AgENdGVzdC5weXBpLm9yZw"},
		back:        1, ahead: 300,
		check: func(w window) (int, int, bool) {
			return tokenAfter(&w, isTokenChar, 50, 280, isTokenChar)
		},
	},
	{
		ID:          "google-api-key",
		Description: "A Google API key (AIza…).",
		Keywords:    []string{"AIza"},
		back:        1, ahead: 40,
		check: func(w window) (int, int, bool) {
			return tokenAfter(&w, isTokenChar, 35, 35, isTokenChar)
		},
	},
	{
		ID:          "stripe-secret-key",
		Description: "A Stripe live secret or restricted key (sk_live_, rk_live_).",
		Keywords:    []string{"sk_live_", "rk_live_"},
		back:        1, ahead: 120,
		check: func(w window) (int, int, bool) {
			return tokenAfter(&w, isAlnum, 20, 110, isWord)
		},
	},
	{
		ID:          "huggingface-token",
		Description: "A Hugging Face access token (hf_…).",
		Keywords:    []string{"hf_"},
		back:        1, ahead: 40,
		check: func(w window) (int, int, bool) {
			s, e, ok := tokenAfter(&w, isAlnum, 34, 34, isWord)
			if !ok || !hasUpperLower(w.data[w.kw1:e]) {
				return 0, 0, false
			}
			return s, e, true
		},
	},
	{
		ID:          "openai-api-key",
		Description: "An OpenAI API key (sk-proj-…, sk-svcacct-…, sk-admin-…).",
		Keywords:    []string{"sk-proj-", "sk-svcacct-", "sk-admin-"},
		back:        1, ahead: 220,
		check: func(w window) (int, int, bool) {
			return tokenAfter(&w, isKeyChar, 40, 200, isKeyChar)
		},
	},
	{
		ID:          "anthropic-api-key",
		Description: "An Anthropic API key (sk-ant-api03-…, sk-ant-admin01-…).",
		Keywords:    []string{"sk-ant-api", "sk-ant-admin"},
		back:        1, ahead: 140,
		check: func(w window) (int, int, bool) {
			return tokenAfter(&w, isKeyChar, 80, 120, isKeyChar)
		},
	},
	{
		ID:          "jwt",
		Description: "A signed JSON Web Token (header.payload.signature with a JSON header naming its alg).",
		Keywords:    []string{"eyJ"},
		back:        1, ahead: 4096,
		check: checkJWT,
	},
	{
		ID:          "npmrc-auth-token",
		Description: "An npm registry credential in .npmrc form (_authToken=, and _auth= or _password= in a file named .npmrc).",
		Keywords:    []string{"_authToken", "_auth", "_password"},
		Files:       []string{".npmrc", "npmrc"},
		back:        1, ahead: 300,
		check: checkNpmrc,
	},
	{
		ID:          "netrc-password",
		Description: "A password in .netrc form (machine HOST login USER password SECRET).",
		Keywords:    []string{"password"},
		Files:       []string{".netrc", "_netrc"},
		back:        300, ahead: 300,
		check: checkNetrc,
	},
	{
		ID:          "git-credentials",
		Description: "A stored credential in a git credential-store file (.git-credentials).",
		Keywords:    []string{"://"},
		Files:       []string{".git-credentials", "git-credentials"},
		FilesOnly:   true,
		back:        40, ahead: 300,
		check: func(w window) (int, int, bool) { return checkURLUserinfo(&w, false) },
	},
	{
		ID:          "docker-config-auth",
		Description: "A registry credential in a Docker config.json (auths with a user:password auth, or an identitytoken).",
		Keywords:    []string{`"auth"`, `"identitytoken"`},
		back:        0, ahead: 2000,
		check: checkDockerAuth,
	},
	{
		ID:          "pypirc-password",
		Description: "A password in a .pypirc file.",
		Keywords:    []string{"password"},
		Files:       []string{".pypirc"},
		FilesOnly:   true,
		back:        200, ahead: 300,
		check: checkPypirc,
	},
}

// Rules returns the built-in rules, in documentation order.
func Rules() []Rule {
	out := make([]Rule, len(builtin))
	for i, r := range builtin {
		out[i] = *r
	}
	return out
}

// LookupRule finds a built-in rule by ID.
func LookupRule(id string) (Rule, bool) {
	for _, r := range builtin {
		if r.ID == id {
			return *r, true
		}
	}
	return Rule{}, false
}

// Character classes.

func isUpperDigit(c byte) bool { return c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' }
func isAlnum(c byte) bool      { return isUpperDigit(c) || c >= 'a' && c <= 'z' }
func isWord(c byte) bool       { return isAlnum(c) || c == '_' }
func isAlnumDash(c byte) bool  { return isAlnum(c) || c == '-' }
func isTokenChar(c byte) bool  { return isAlnum(c) || c == '-' || c == '_' || c == '.' }
func isKeyChar(c byte) bool    { return isAlnum(c) || c == '-' || c == '_' }

func isBase64URL(c byte) bool { return isAlnum(c) || c == '-' || c == '_' }
func isBase64Std(c byte) bool { return isAlnum(c) || c == '+' || c == '/' }

// hasUpperLower reports letters of both cases in b: a random token has
// them, a word or a CONSTANT_NAME does not.
func hasUpperLower(b []byte) bool {
	return bytes.IndexFunc(b, func(r rune) bool { return r >= 'A' && r <= 'Z' }) >= 0 &&
		bytes.IndexFunc(b, func(r rune) bool { return r >= 'a' && r <= 'z' }) >= 0
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func all(b []byte, f func(byte) bool) bool {
	for _, c := range b {
		if !f(c) {
			return false
		}
	}
	return true
}

// tokenAfter matches a token made of the keyword followed by between min
// and max bytes of class body, with no byte of class edge right before
// the keyword or right after the token.
func tokenAfter(w *window, body func(byte) bool, min, max int, edge func(byte) bool) (int, int, bool) {
	d := w.data
	if w.kw0 > 0 && edge(d[w.kw0-1]) {
		return 0, 0, false
	}
	if w.kw0 == 0 && !w.atStart {
		return 0, 0, false // cannot see the byte before: the caller gives it
	}
	e := w.kw1
	for e < len(d) && e-w.kw1 < max && body(d[e]) {
		e++
	}
	if e-w.kw1 < min {
		return 0, 0, false
	}
	if e < len(d) && edge(d[e]) {
		return 0, 0, false
	}
	if e == len(d) && !w.atEnd && e-w.kw1 < max {
		// The token may go on past the context: a longer token is not one
		// of this rule's, unless the rule allows up to max.
		return 0, 0, false
	}
	return w.kw0, e, true
}

// Placeholders.

var placeholderWords = [][]byte{
	[]byte("password"), []byte("passwd"), []byte("pass"), []byte("secret"), []byte("token"),
	[]byte("changeme"), []byte("redacted"), []byte("example"), []byte("null"), []byte("none"),
	[]byte("x-oauth-basic"), // GitHub's fixed password when the token is the user name
}

// IsPlaceholder reports whether a credential value is an obvious stand-in
// rather than a credential: a variable reference ($VAR, ${VAR}, $(cmd),
// %s, {{ .X }}), a <bracketed> hint, a run of one masking character
// (***, xxxx, ...), or a word such as "password" or "changeme".
func IsPlaceholder(v []byte) bool {
	v = bytes.Trim(v, "\"' \t")
	if len(v) == 0 {
		return true
	}
	// A reference escaped for a shell that expands it later (eval "...
	// \$TOKEN", sh -c "... \\\$TOKEN").
	if t := bytes.TrimLeft(v, "\\"); len(t) < len(v) && len(t) > 0 && t[0] == '$' {
		return true
	}
	switch {
	case v[0] == '$' || v[0] == '%' || v[0] == '<' || v[0] == '{' || v[0] == '[':
		return true
	case bytes.Contains(v, []byte("${")) || bytes.Contains(v, []byte("$(")) || bytes.Contains(v, []byte("{{")):
		return true
	}
	if len(v) >= 2 && all(v, func(c byte) bool { return c == v[0] }) && bytes.IndexByte([]byte("*xX.#-_0?"), v[0]) >= 0 {
		return true
	}
	if bytes.Count(v, []byte("*")) >= 3 {
		return true
	}
	for _, w := range placeholderWords {
		if bytes.EqualFold(v, w) {
			return true
		}
	}
	lv := bytes.ToLower(v)
	return bytes.HasPrefix(lv, []byte("your")) || bytes.HasPrefix(lv, []byte("my_")) || bytes.HasPrefix(lv, []byte("my-"))
}

// Rule checks.

func checkPrivateKey(w window) (int, int, bool) {
	d := w.data
	begin := bytes.LastIndex(d[:w.kw0], []byte("-----BEGIN "))
	if begin < 0 || !all(d[begin+len("-----BEGIN "):w.kw0], func(c byte) bool { return isUpperDigit(c) || c == ' ' }) {
		return 0, 0, false
	}
	e := w.kw1
	if bytes.HasPrefix(d[e:], []byte(" BLOCK")) {
		e += len(" BLOCK")
	}
	if !bytes.HasPrefix(d[e:], []byte("-----")) {
		return 0, 0, false
	}
	e += 5
	// Key material: a run of base64 within the next lines (headers such
	// as Proc-Type may come first). Escaped newlines ("\n" in JSON) count
	// as separators.
	limit := min(len(d), e+300)
	run := 0
	for i := e; i < limit; i++ {
		c := d[i]
		if isBase64Std(c) || c == '=' {
			run++
			if run >= 40 {
				return begin, i + 1, true
			}
			continue
		}
		if c == '-' && bytes.HasPrefix(d[i:], []byte("-----END")) {
			return 0, 0, false
		}
		run = 0
	}
	return 0, 0, false
}

func isSchemeChar(c byte) bool {
	return isAlnum(c) || c == '+' || c == '.' || c == '-'
}

// exampleHost reports hosts reserved for documentation (RFC 2606).
func exampleHost(h []byte) bool {
	h = bytes.ToLower(h)
	for _, s := range [][]byte{[]byte("example.com"), []byte("example.org"), []byte("example.net")} {
		if bytes.Equal(h, s) || bytes.HasSuffix(h, append([]byte("."), s...)) {
			return true
		}
	}
	for _, s := range [][]byte{[]byte(".example"), []byte(".test"), []byte(".invalid")} {
		if bytes.HasSuffix(h, s) {
			return true
		}
	}
	return false
}

// userinfoStop holds the bytes that end a URL's authority before any '@'.
var userinfoStop = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = c <= ' ' || c >= 0x7f || strings.IndexByte("/?#\"'<>\\`", byte(c)) >= 0
	}
	return t
}()

func checkURLUserinfo(w *window, strict bool) (int, int, bool) {
	d := w.data
	s := w.kw0
	for s > 0 && isSchemeChar(d[s-1]) {
		s--
	}
	if w.kw0-s < 2 || !(d[s]|0x20 >= 'a' && d[s]|0x20 <= 'z') || (s == 0 && !w.atStart) {
		return 0, 0, false
	}
	at := -1
	colon := -1
	for i := w.kw1; i < len(d); i++ {
		c := d[i]
		if c == '@' {
			at = i
			break
		}
		if c == ':' && colon < 0 {
			colon = i
		}
		if userinfoStop[c] {
			return 0, 0, false
		}
	}
	if at < 0 || colon < 0 || colon+1 >= at {
		return 0, 0, false
	}
	pass := d[colon+1 : at]
	if dec, err := url.PathUnescape(string(pass)); err == nil {
		pass = []byte(dec)
	}
	if IsPlaceholder(pass) {
		return 0, 0, false
	}
	// A host must follow.
	h := at + 1
	for h < len(d) && (isAlnum(d[h]) || d[h] == '.' || d[h] == '-' || d[h] == '_' || d[h] == '[' || d[h] == ']') {
		h++
	}
	if h == at+1 {
		return 0, 0, false
	}
	if strict && exampleHost(d[at+1:h]) {
		return 0, 0, false
	}
	return s, at, true
}

func checkSlackWebhook(w window) (int, int, bool) {
	d := w.data
	i := w.kw1
	part := func(first byte, min int, class func(byte) bool) bool {
		if first != 0 {
			if i >= len(d) || d[i] != first {
				return false
			}
		}
		j := i
		for j < len(d) && class(d[j]) {
			j++
		}
		if j-i < min {
			return false
		}
		i = j
		return true
	}
	if !part('T', 7, isUpperDigit) || i >= len(d) || d[i] != '/' {
		return 0, 0, false
	}
	i++
	if !part('B', 7, isUpperDigit) || i >= len(d) || d[i] != '/' {
		return 0, 0, false
	}
	i++
	if !part(0, 16, isAlnum) {
		return 0, 0, false
	}
	return w.kw0, i, true
}

func checkJWT(w window) (int, int, bool) {
	d := w.data
	if w.kw0 > 0 && (isBase64URL(d[w.kw0-1]) || d[w.kw0-1] == '.') {
		return 0, 0, false
	}
	seg := func(i int) int {
		for i < len(d) && isBase64URL(d[i]) {
			i++
		}
		return i
	}
	h := seg(w.kw0)
	if h-w.kw0 < 10 || h >= len(d) || d[h] != '.' {
		return 0, 0, false
	}
	header, err := base64.RawURLEncoding.DecodeString(string(d[w.kw0:h]))
	if err != nil || !bytes.Contains(header, []byte(`"alg"`)) {
		return 0, 0, false
	}
	if !bytes.HasPrefix(d[h+1:], []byte("eyJ")) {
		return 0, 0, false
	}
	p := seg(h + 1)
	if p == len(d) && !w.atEnd {
		return w.kw0, p, true // a long payload: the header and its start suffice
	}
	if p-(h+1) < 10 || p >= len(d) || d[p] != '.' {
		return 0, 0, false
	}
	s := seg(p + 1)
	if s-(p+1) < 16 {
		return 0, 0, false
	}
	return w.kw0, s, true
}

// assignedValue reads `KEYWORD ["']? [:=] ["']? VALUE` and checks VALUE.
func assignedValue(w *window, ok func(v []byte) bool) (int, int, bool) {
	d := w.data
	if w.kw0 > 0 && isAlnum(d[w.kw0-1]) {
		return 0, 0, false
	}
	i := w.kw1
	skip := func(f func(byte) bool) {
		for i < len(d) && f(d[i]) {
			i++
		}
	}
	quote := func(c byte) bool { return c == '"' || c == '\'' }
	blank := func(c byte) bool { return c == ' ' || c == '\t' }
	if i < len(d) && quote(d[i]) {
		i++
	}
	skip(blank)
	if i >= len(d) || (d[i] != '=' && d[i] != ':') {
		return 0, 0, false
	}
	i++
	skip(blank)
	if i < len(d) && quote(d[i]) {
		i++
	}
	v := i
	skip(func(c byte) bool { return !isSpace(c) && !quote(c) && c != ',' && c != ';' && c != '}' })
	if v == i || IsPlaceholder(d[v:i]) || !ok(d[v:i]) {
		return 0, 0, false
	}
	return w.kw0, i, true
}

func checkNpmrc(w window) (int, int, bool) {
	d := w.data
	kw := d[w.kw0:w.kw1]
	if !bytes.Equal(kw, []byte("_authToken")) {
		// _auth and _password: only in .npmrc files, and _auth must not be
		// the start of _authToken.
		if !w.named || (w.kw1 < len(d) && isWord(d[w.kw1])) {
			return 0, 0, false
		}
	}
	// npmrc keys stand at a line start or after a registry scope ":".
	if w.kw0 > 0 {
		c := d[w.kw0-1]
		if c != ':' && c != '\n' && c != ' ' && c != '\t' {
			return 0, 0, false
		}
	}
	i := w.kw1
	for i < len(d) && (d[i] == ' ' || d[i] == '\t') {
		i++
	}
	if i >= len(d) || d[i] != '=' {
		return 0, 0, false
	}
	i++
	for i < len(d) && (d[i] == ' ' || d[i] == '\t') {
		i++
	}
	if i < len(d) && (d[i] == '"' || d[i] == '\'') {
		i++
		// A quote closed right after the "=" ends a string of a program
		// (awk's print "...:_authToken=" tok): the value is not here.
		if i >= len(d) || isSpace(d[i]) || d[i] == '"' || d[i] == '\'' {
			return 0, 0, false
		}
	}
	v := i
	for i < len(d) && !isSpace(d[i]) && d[i] != '"' && d[i] != '\'' {
		i++
	}
	// An expression of a program (awk's ENVIRON["NPM_TOKEN"], a shell
	// array) is not a token: tokens hold no brackets or parentheses.
	if bytes.ContainsAny(d[v:i], "[]()") {
		return 0, 0, false
	}
	if i-v < 8 || IsPlaceholder(d[v:i]) {
		return 0, 0, false
	}
	return w.kw0, i, true
}

// netrcToken reports whether d[i:j] stands alone between blanks.
func netrcToken(w *window, i, j int) bool {
	d := w.data
	if i > 0 && !isSpace(d[i-1]) {
		return false
	}
	if i == 0 && !w.atStart {
		return false
	}
	return j < len(d) && isSpace(d[j])
}

func checkNetrc(w window) (int, int, bool) {
	d := w.data
	if !netrcToken(&w, w.kw0, w.kw1) {
		return 0, 0, false
	}
	if !w.named {
		// Elsewhere, only a netrc line: "machine HOST ... password".
		m := bytes.LastIndex(d[:w.kw0], []byte("machine"))
		if m < 0 || !netrcToken(&w, m, m+len("machine")) || !bytes.Contains(d[m:w.kw0], []byte("login")) {
			return 0, 0, false
		}
	}
	i := w.kw1
	for i < len(d) && isSpace(d[i]) {
		i++
	}
	v := i
	for i < len(d) && !isSpace(d[i]) {
		i++
	}
	if v == i || (i == len(d) && !w.atEnd) || IsPlaceholder(d[v:i]) {
		return 0, 0, false
	}
	return w.kw0, i, true
}

func checkPypirc(w window) (int, int, bool) {
	d := w.data
	// The key stands at a line start.
	i := w.kw0
	for i > 0 && (d[i-1] == ' ' || d[i-1] == '\t') {
		i--
	}
	if i > 0 && d[i-1] != '\n' {
		return 0, 0, false
	}
	j := w.kw1
	for j < len(d) && (d[j] == ' ' || d[j] == '\t') {
		j++
	}
	if j >= len(d) || (d[j] != '=' && d[j] != ':') {
		return 0, 0, false
	}
	j++
	for j < len(d) && (d[j] == ' ' || d[j] == '\t') {
		j++
	}
	v := j
	for j < len(d) && d[j] != '\n' && d[j] != '\r' {
		j++
	}
	val := bytes.TrimSpace(d[v:j])
	if len(val) == 0 || IsPlaceholder(val) {
		return 0, 0, false
	}
	return w.kw0, j, true
}

func checkDockerAuth(w window) (int, int, bool) {
	d := w.data
	i := w.kw1
	for i < len(d) && isSpace(d[i]) {
		i++
	}
	if i >= len(d) || d[i] != ':' {
		return 0, 0, false
	}
	i++
	for i < len(d) && isSpace(d[i]) {
		i++
	}
	if i >= len(d) || d[i] != '"' {
		return 0, 0, false
	}
	i++
	v := i
	for i < len(d) && d[i] != '"' && d[i] != '\\' {
		i++
	}
	if i >= len(d) || d[i] != '"' {
		return 0, 0, false
	}
	val := d[v:i]
	if bytes.Equal(d[w.kw0:w.kw1], []byte(`"identitytoken"`)) {
		if len(val) < 8 || IsPlaceholder(val) {
			return 0, 0, false
		}
		return w.kw0, i + 1, true
	}
	dec, err := base64.StdEncoding.DecodeString(string(val))
	if err != nil {
		return 0, 0, false
	}
	_, pass, ok := bytes.Cut(dec, []byte(":"))
	if !ok || len(pass) == 0 || IsPlaceholder(pass) {
		return 0, 0, false
	}
	return w.kw0, i + 1, true
}
