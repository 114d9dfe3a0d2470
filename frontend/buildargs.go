package frontend

import (
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/hushbuild/hushbuild/rewrite"
	"github.com/hushbuild/hushbuild/secretscan"
	"github.com/hushbuild/hushbuild/verify"
)

// checkBuildArgs fails when a build-arg carries a secret: one the rewrite
// turned into a secret mount, one whose name the engine's classifier
// calls a secret, or one whose value holds a credential (credentialIn).
// The error says which flag to use instead and never holds a value.
func checkBuildArgs(buildArgs map[string]string, df *dockerfile) error {
	flags := map[string]string{}
	for _, r := range df.requirements {
		if r.Kind != rewrite.SecretEnv {
			continue
		}
		for _, name := range []string{r.ID, r.Env} {
			if name != "" {
				if _, ok := flags[name]; !ok {
					flags[name] = r.Flag
				}
			}
		}
	}

	removed := map[string]bool{}
	for _, name := range df.secretArgs {
		removed[name] = true
	}
	var names []string
	kinds := map[string]string{}
	for name, v := range buildArgs {
		if _, ok := flags[name]; ok || removed[name] || rewrite.IsSecretName(name, df.classifier) || listedURLName(name, df.classifier) {
			names = append(names, name)
		} else if kind := credentialIn(name, v); kind != "" {
			kinds[name] = kind
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	slices.Sort(names)

	var msgs []string
	var locs [][]parser.Range
	for _, name := range names {
		if kind := kinds[name]; kind != "" {
			use := "use it"
			if kind == kindURLPassword {
				use = "build the URL"
			}
			if lines := df.argLines[name]; len(lines) > 0 {
				locs = append(locs, lineRange(lines[0], lines[0]))
			}
			msgs = append(msgs, fmt.Sprintf("build-arg %s carries a credential (%s) in its value: it would be recorded in the provenance and the image history; pass the credential with --secret id=...,env=... and %s inside RUN --mount=type=secret", name, kind, use))
			continue
		}
		flag := flags[name]
		if flag == "" && removed[name] && !rewrite.IsSecretName(name, df.classifier) {
			// A value the Dockerfile builds from secrets: the rewrite
			// builds it inside the RUNs from the secrets' mounts.
			where := "a value built from secrets"
			if lines := df.argLines[name]; len(lines) > 0 {
				where = fmt.Sprintf("built from secrets (line %d: ARG %s)", lines[0], name)
				locs = append(locs, lineRange(lines[0], lines[0]))
			}
			msgs = append(msgs, fmt.Sprintf("build-arg %s is %s: drop it and pass the secrets it is built from with --secret", name, where))
			continue
		}
		if flag == "" {
			flag = fmt.Sprintf("--secret id=%s,env=%s", name, name)
		}
		where := "a secret"
		if lines := df.argLines[name]; len(lines) > 0 {
			where = fmt.Sprintf("a secret (line %d: ARG %s)", lines[0], name)
			locs = append(locs, lineRange(lines[0], lines[0]))
		}
		msgs = append(msgs, fmt.Sprintf("build-arg %s is %s: pass it with %s instead of --build-arg", name, where, flag))
	}
	var err error = &secretBuildArgError{names: names, msg: strings.Join(msgs, "\n")}
	for _, l := range locs {
		err = parser.WithLocation(err, l)
	}
	return err
}

// checkOptions fails when the build context, the Dockerfile's context or a
// named build context (--build-context NAME=URL) is a URL holding a
// credential: BuildKit prints it in the build log and records it in the
// provenance. buildx sends git contexts as frontend inputs, with their URL
// in input:context and input:context:NAME. It runs before the Dockerfile is read, which may fetch the
// context. The error names the option, never its value.
func checkOptions(opts map[string]string) error {
	var keys []string
	for k, v := range opts {
		// Every option but the build-args (checkBuildArgs judges those,
		// knowing the Dockerfile): labels, contexts, inputs.
		if !strings.HasPrefix(k, buildArgPrefix) {
			if credentialIn("", v) != "" {
				keys = append(keys, k)
			}
		}
	}
	if len(keys) == 0 {
		return nil
	}
	slices.Sort(keys)
	var msgs []string
	for _, k := range keys {
		msgs = append(msgs, fmt.Sprintf("option %s carries a credential (%s) in its value: it would be recorded in the build log and the provenance; remove it from the URL (for a git repository, pass the token with --secret id=GIT_AUTH_TOKEN)", k, credentialIn("", opts[k])))
	}
	return &secretBuildArgError{names: keys, msg: strings.Join(msgs, "\n")}
}

// plainURLArgs are the build-args whose name is a secret only for the URL
// its value usually holds (PIP_INDEX_URL) and whose value holds no
// credential. They are ordinary build-args: the engine is told they are
// not secrets, so that it keeps their ARG for the value to reach it rather
// than read them from a secret mount (and fall back on the ARG's default).
func plainURLArgs(opts map[string]string, cfg rewrite.Config) []string {
	var names []string
	for k, v := range opts {
		if name, ok := strings.CutPrefix(k, buildArgPrefix); ok && rewrite.IsURLSecretName(name, cfg) && credentialIn(name, v) == "" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// listedURLName reports a name secret for its URL (rewrite.IsURLSecretName)
// that cfg lists in secrets=: a secret whatever its value, also when
// plainURLArgs, which cannot see the Dockerfile's directive, made it an
// ordinary build-arg.
func listedURLName(name string, cfg rewrite.Config) bool {
	return rewrite.IsURLSecretName(name, rewrite.Config{}) && !rewrite.IsURLSecretName(name, rewrite.Config{Secrets: cfg.Secrets})
}

const (
	kindURLPassword = "URL password"
	kindURLToken    = "a token as a URL's user name"
)

// credentialIn says which credential v holds, or "": a URL with a password
// (urlPassword), or a token format one of secretscan's rules knows, a
// token standing as a URL's user name among them. A proxy build-arg may
// leave out the scheme (user:pass@proxy:3128).
func credentialIn(name, v string) string {
	if isProxyArg(name) && !strings.Contains(v, "://") {
		v = "http://" + v
	}
	if urlPassword(v) {
		return kindURLPassword
	}
	kind := ""
	secretscan.Scan([]byte(v), func(m secretscan.Match) {
		// URL userinfo is judged by urlPassword, stricter and aware of
		// image digests (docker-image://alpine:3@sha256:...).
		if kind == "" && m.Rule != "" && m.Rule != "url-userinfo" {
			kind = m.Rule
		}
	})
	switch {
	case kind != "":
		return kind
	case rewrite.URLUserToken(v):
		return kindURLToken
	}
	if key := secretSettingIn(v); key != "" {
		return "the secret-named setting " + key
	}
	if kind := authCredentialIn(v); kind != "" {
		return kind
	}
	if dec := base64Text(v); dec != "" {
		if kind := credentialIn(name, dec); kind != "" {
			return kind + ", base64-encoded"
		}
	}
	return ""
}

// urlPassword reports whether a URL anywhere in v has a password in its
// userinfo, other than the empty one and GitHub's fixed x-oauth-basic.
func urlPassword(v string) bool {
	return rewrite.AnyURLUserinfo(v, func(user, pass string, hasPass bool, host string) bool {
		alg, _, digest := strings.Cut(host, ":")
		digest = digest && (alg == "sha256" || alg == "sha384" || alg == "sha512")
		return hasPass && pass != "" && !strings.EqualFold(pass, "x-oauth-basic") && !digest
	})
}

// secretSettingIn returns the key of a setting inside v (see
// rewrite.SettingIn: options, connection and query strings, properties,
// JSON, YAML, XML) whose key names a credential and whose value is not a
// variable, or "".
func secretSettingIn(v string) string {
	return rewrite.SettingIn(v, func(key, val string) bool {
		if strings.HasPrefix(val, "$") || !rewrite.IsSecretSettingKey(key) {
			return false
		}
		name := key
		if i := strings.LastIndexAny(name, ".:"); i >= 0 {
			name = name[i+1:]
		}
		if strings.EqualFold(name, "pwd") && strings.HasPrefix(val, "/") {
			return false // the working directory
		}
		return len(val) >= verify.MinValueLen
	})
}

// authScheme is an HTTP Authorization credential anywhere in a text: its
// scheme and what follows it (Bearer TOKEN, Basic BASE64, GitHub's token
// TOKEN), as curl -H and wget --header take it in an options string.
var authScheme = regexp.MustCompile(`(?i)(?:^|[^A-Za-z0-9_-])(bearer|basic|token)[ \t]+([A-Za-z0-9._~+/=-]{16,})`)

// headerFlag is a request header given to curl or wget in an options
// string (-H "X-Api-Key: VALUE", --header=...): its name and value.
var headerFlag = regexp.MustCompile(`(?:^|\s)(?:-H|--header)(?:=|\s+)["']?([A-Za-z0-9_-]{1,80}):[ \t]*([^"'\s]+)`)

// authCredentialIn says which credential of a command line v holds, or
// "": an HTTP Authorization credential (a Bearer token, a Basic
// user:password), a secret-named header with a literal value, or a
// secret-named long option followed by a literal value. A value that is
// a variable ($TOKEN) is none.
func authCredentialIn(v string) string {
	for _, m := range authScheme.FindAllStringSubmatch(v, -1) {
		cred := m[2]
		if strings.EqualFold(m[1], "basic") {
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding} {
				if dec, err := enc.DecodeString(cred); err == nil {
					if _, pass, ok := strings.Cut(string(dec), ":"); ok && pass != "" && utf8.Valid(dec) {
						return "an HTTP Basic credential"
					}
				}
			}
			continue
		}
		if credentialWord(cred) {
			return "an HTTP " + strings.ToLower(m[1]) + " credential"
		}
	}
	for _, m := range headerFlag.FindAllStringSubmatch(v, -1) {
		if !strings.EqualFold(m[1], "authorization") && rewrite.IsSecretSettingKey(m[1]) && credentialWord(m[2]) {
			return "the secret-named header " + m[1]
		}
	}
	words := strings.Fields(v)
	for i := 0; i+1 < len(words); i++ {
		flag, val := strings.Trim(words[i], `"'`), strings.Trim(words[i+1], `"'`)
		if strings.HasPrefix(flag, "--") && rewrite.IsSecretFlag(flag) && !strings.HasPrefix(val, "-") && credentialWord(val) {
			return "the secret-named option " + flag
		}
	}
	// curl's and wget's USER:PASSWORD (-u ci:TOKEN, --user=ci:TOKEN,
	// --proxy-user): an HTTP Basic credential, sent as such.
	for i, w := range words {
		w = strings.Trim(w, `"'`)
		userpass := ""
		switch {
		case w == "-u" || w == "--user" || w == "--proxy-user" || w == "-U":
			if i+1 < len(words) {
				userpass = strings.Trim(words[i+1], `"'`)
			}
		case strings.HasPrefix(w, "--user=") || strings.HasPrefix(w, "--proxy-user="):
			_, userpass, _ = strings.Cut(w, "=")
		case strings.HasPrefix(w, "-u") && len(w) > 2 && !strings.HasPrefix(w, "--"):
			userpass = w[2:]
		}
		if _, pass, ok := strings.Cut(userpass, ":"); ok && credentialWord(pass) {
			return "an HTTP Basic credential (user:password)"
		}
	}
	return ""
}

// credentialWord reports a word that can be a credential given literally:
// at least verify.MinValueLen bytes, not a variable, a path or a file
// name, with letters and digits.
func credentialWord(w string) bool {
	if len(w) < verify.MinValueLen || strings.ContainsAny(w, "$`") || strings.HasPrefix(w, "/") || strings.HasPrefix(w, "./") || strings.HasPrefix(w, "~") {
		return false
	}
	letters := strings.IndexFunc(w, unicode.IsLetter) >= 0
	digits := strings.IndexFunc(w, unicode.IsDigit) >= 0
	return letters && digits
}

// base64Text is v decoded when all of it is base64 (wrapped or not) of
// text (a kubeconfig, a service account's JSON, a key kept as base64 by
// CI), or "".
func base64Text(v string) string {
	s := strings.Join(strings.Fields(v), "")
	if len(s) < 16 {
		return ""
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		dec, err := enc.DecodeString(s)
		if err != nil || !utf8.Valid(dec) {
			continue
		}
		printable := 0
		for _, r := range string(dec) {
			if unicode.IsPrint(r) || unicode.IsSpace(r) {
				printable++
			}
		}
		if printable == utf8.RuneCount(dec) {
			return string(dec)
		}
	}
	return ""
}

// isProxyArg reports BuildKit's predefined proxy build-args, which need no
// ARG and are recorded in the provenance.
func isProxyArg(name string) bool {
	for _, p := range []string{"HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "ALL_PROXY", "NO_PROXY"} {
		if strings.EqualFold(name, p) {
			return true
		}
	}
	return false
}

// secretBuildArgError is the error of checkBuildArgs.
type secretBuildArgError struct {
	names []string
	msg   string
}

func (e *secretBuildArgError) Error() string { return e.msg }

// IsSecretBuildArg reports whether err stopped a build because a secret
// was passed as a build-arg or in a build context's URL.
func IsSecretBuildArg(err error) bool {
	var e *secretBuildArgError
	return errors.As(err, &e)
}

func lineRange(start, end int) []parser.Range {
	if end < start {
		end = start
	}
	return []parser.Range{{Start: parser.Position{Line: start}, End: parser.Position{Line: end}}}
}
