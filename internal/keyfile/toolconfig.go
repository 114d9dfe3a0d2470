package keyfile

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
)

// maxToolConfig is the largest file that is read as a whole for a build
// tool's credential configuration (ToolConfigHolds).
const maxToolConfig = 64 << 10

// ToolConfigHolds reports whether data, a whole file, is a build tool's
// credential configuration with a credential written in it, whatever the
// file's name (docker/npmrc, .npmrc.ci, netrc, ci/git-credentials,
// docker-config.json): a build copies it to where the tool reads it.
// The file must be that configuration as a whole, not text that mentions
// one (a README's example), and the credential must be a literal, not a
// variable a template fills in:
//   - npm's: every line a KEY=VALUE (or a comment), one of them
//     _authToken, _auth or _password (alone or after a registry's
//     "//host/:") with a literal value;
//   - .netrc's: tokens that start with machine or default and follow its
//     grammar, with a literal password;
//   - .git-credentials': every line a URL with a literal password;
//   - Docker's config.json: a JSON object whose "auths" hold an "auth",
//     "password" or "identitytoken".
func ToolConfigHolds(data []byte) bool {
	if len(data) > maxToolConfig {
		return false
	}
	return npmrcHolds(data) || netrcHolds(data) || gitCredentialsHolds(data) || dockerConfigHolds(data)
}

// literalCredential reports a value that is a credential written
// literally: 6 characters or more of at least two of lower case, upper
// case and digits, neither a variable nor a placeholder a build fills in
// (@NPM_TOKEN@, __TOKEN__, #{Token}#, YOUR_TOKEN, changeme).
func literalCredential(v string) bool {
	v = strings.Trim(strings.TrimSpace(v), `"'`)
	if len(v) < 6 || strings.ContainsAny(v, "${}<>") {
		return false
	}
	if c := v[0]; (c == '@' || c == '%' || c == '#' || c == '_') && v[len(v)-1] == c {
		return false
	}
	if strings.Trim(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_-") == "" {
		return false // a CONSTANT_NAME
	}
	l := strings.ToLower(v)
	for _, w := range []string{"your", "changeme", "placeholder", "example", "xxxx", "replace", "dummy", "redacted"} {
		if strings.Contains(l, w) {
			return false
		}
	}
	classes := 0
	for _, set := range []string{"abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789"} {
		if strings.ContainsAny(v, set) {
			classes++
		}
	}
	return classes >= 2
}

func lines(data []byte) []string {
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(strings.TrimSuffix(l, "\r"))
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

func npmrcHolds(data []byte) bool {
	if !bytes.Contains(data, []byte("_auth")) && !bytes.Contains(data, []byte("_password")) {
		return false
	}
	found := false
	for _, l := range lines(data) {
		if l[0] == '#' || l[0] == ';' {
			continue
		}
		key, val, ok := strings.Cut(l, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" || strings.ContainsAny(key, " \t") {
			return false
		}
		if i := strings.LastIndex(key, ":"); i >= 0 && strings.HasPrefix(key, "//") {
			key = key[i+1:]
		}
		switch key {
		case "_authToken", "_auth", "_password":
			found = found || literalCredential(val)
		}
	}
	return found
}

func netrcHolds(data []byte) bool {
	// Lines that start with # are comments (curl's and Python's
	// readers skip them).
	var text strings.Builder
	for _, l := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			text.WriteString(l)
			text.WriteByte('\n')
		}
	}
	toks := strings.Fields(text.String())
	if len(toks) < 2 || toks[0] != "machine" && toks[0] != "default" {
		return false
	}
	found := false
	for i := 0; i < len(toks); i++ {
		switch toks[i] {
		case "default":
		case "machine", "login", "account", "port":
			i++
		case "password":
			if i+1 < len(toks) {
				found = found || literalCredential(toks[i+1])
			}
			i++
		case "macdef":
			return found
		default:
			return false
		}
	}
	return found
}

func gitCredentialsHolds(data []byte) bool {
	if !bytes.Contains(data, []byte("://")) {
		return false
	}
	ls := lines(data)
	if len(ls) == 0 {
		return false
	}
	for _, l := range ls {
		u, err := url.Parse(l)
		if err != nil || u.Scheme == "" || u.Host == "" || u.User == nil || strings.ContainsAny(l, " \t") {
			return false
		}
		if p, ok := u.User.Password(); !ok || !literalCredential(p) {
			return false
		}
	}
	return true
}

func dockerConfigHolds(data []byte) bool {
	if !bytes.Contains(data, []byte(`"auths"`)) {
		return false
	}
	var cfg struct {
		Auths map[string]map[string]any `json:"auths"`
	}
	if json.Unmarshal(data, &cfg) != nil {
		return false
	}
	for _, a := range cfg.Auths {
		for _, k := range []string{"auth", "password", "identitytoken"} {
			if s, ok := a[k].(string); ok && literalCredential(s) {
				return true
			}
		}
	}
	return false
}
