package rewrite

import (
	"regexp"
	"strings"
)

// credentialSettingKeys are settings whose last part does not say secret
// though their value is a credential: SonarQube's token, passed as
// sonar.login before sonar.token replaced it, and the signature of a
// signed URL (Azure's SAS sig=, S3's and GCS's X-Amz-Signature and
// X-Goog-Signature, CloudFront's Signature), which grants access on its
// own.
var credentialSettingKeys = map[string]bool{"sonar.login": true, "sig": true, "signature": true,
	"x-amz-signature": true, "x-goog-signature": true}

// settingSeparators split an options string, a connection string
// (Server=db;Password=...), a query string and JSON into their settings.
const settingSeparators = ";,&?{}[]()"

// jsonSetting is a "key": "value" pair of JSON (a feed's credentials in
// VSS_NUGET_EXTERNAL_FEED_ENDPOINTS, a docker config.json's auth),
// yamlSetting a key: value line of YAML (a kubeconfig's token),
// xmlElement an element of XML holding only text (a Maven settings.xml's
// <password>), and xmlAddValue NuGet's <add key="ClearTextPassword"
// value="..."/>.
var (
	jsonSetting = regexp.MustCompile(`"([^"\\]{1,80})"\s*:\s*"((?:[^"\\]|\\.)*)"`)
	yamlSetting = regexp.MustCompile(`(?m)^[ \t-]*([A-Za-z0-9_.-]{1,80}):[ \t]+['"]?([^\s'"#]+)`)
	xmlElement  = regexp.MustCompile(`<([A-Za-z_][A-Za-z0-9_.:-]{0,79})(?:\s[^<>]*)?>([^<>]+)</([A-Za-z_][A-Za-z0-9_.:-]{0,79})\s*>`)
	xmlAddValue = regexp.MustCompile(`<add\s+key\s*=\s*"([^"]{1,80})"\s+value\s*=\s*"([^"]*)"`)
	xmlTag      = regexp.MustCompile(`<[^<>]*>`)
)

// IsSecretSettingKey reports whether the key of a setting names a
// credential: the engine's name rule on the part after its last '.' or
// ':' (org.gradle.project.nexusPassword, //host/:_authToken), or one of
// the keys whose value is a credential whatever their name says
// (sonar.login, a signed URL's sig).
func IsSecretSettingKey(key string) bool {
	key = strings.TrimSpace(key)
	if credentialSettingKeys[strings.ToLower(key)] {
		return true
	}
	name := key
	if i := strings.LastIndexAny(name, ".:"); i >= 0 {
		name = name[i+1:]
	}
	name = strings.ReplaceAll(name, "-", "_")
	return name != "" && IsSecretName(name, Config{})
}

// SettingIn returns the key of the first setting inside v for which
// secret(key, value) is true, or "": a KEY=VALUE of an options string
// (GRADLE_OPTS="-Dorg.gradle.project.nexusPassword=..." and MAVEN_OPTS,
// JAVA_TOOL_OPTIONS, --password=...), of a connection string
// (Server=db;User Id=sa;Password=...), of a query string or of a
// properties file, a "key": "value" of JSON, a key: value of YAML, an
// element of XML (<password>...</password>) and NuGet's <add key=
// value=/>. Keys and values are given trimmed, values without their
// quotes; secret decides whether the key names a credential
// (IsSecretSettingKey) and whether the value is one.
func SettingIn(v string, secret func(key, val string) bool) string {
	// Every form has a '=' (KEY=VALUE, <add key= value=/>), a ':' (JSON,
	// YAML) or a '<' (XML): most words of a command have none.
	if !strings.ContainsAny(v, "=:<") {
		return ""
	}
	try := func(key, val string) bool {
		key, val = strings.TrimSpace(key), strings.Trim(strings.TrimSpace(val), `"'`)
		return key != "" && val != "" && secret(key, val)
	}
	for _, re := range []*regexp.Regexp{xmlAddValue, xmlElement} {
		for _, m := range re.FindAllStringSubmatch(v, -1) {
			if (re == xmlAddValue || m[1] == m[3]) && try(m[1], m[2]) {
				return m[1]
			}
		}
	}
	text := v
	if strings.HasPrefix(strings.TrimSpace(v), "<") {
		// XML: its attributes (<add key="Username" value="ci"/>) are
		// no settings of their own; its text is read below.
		text = xmlTag.ReplaceAllString(v, "\n")
	}
	for _, tok := range strings.Fields(text) {
		tok = strings.Trim(tok, `"'`)
		if strings.HasPrefix(tok, "-D") || strings.HasPrefix(tok, "-P") {
			tok = tok[2:]
		}
		tok = strings.TrimLeft(tok, "-")
		if key, val, ok := strings.Cut(tok, "="); ok && try(key, val) {
			return key
		}
	}
	for _, part := range strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || strings.ContainsRune(settingSeparators, r) }) {
		if key, val, ok := strings.Cut(part, "="); ok && try(key, val) {
			return strings.TrimSpace(key)
		}
	}
	for _, re := range []*regexp.Regexp{jsonSetting, yamlSetting} {
		for _, m := range re.FindAllStringSubmatch(text, -1) {
			if try(m[1], m[2]) {
				return m[1]
			}
		}
	}
	return ""
}

// URLUserToken reports whether a URL anywhere in v has, as its user name
// with no password (or GitHub's fixed x-oauth-basic), what looks like a
// token rather than a name: GitHub, GitLab and Azure DevOps take a token
// there (https://TOKEN@host/..., https://TOKEN:x-oauth-basic@github.com/...).
// A token here is at least 20 characters of letters, digits, '_' and '-',
// with both letters and digits.
func URLUserToken(v string) bool {
	return AnyURLUserinfo(v, func(user, pass string, _ bool, _ string) bool {
		return (pass == "" || strings.EqualFold(pass, "x-oauth-basic")) && tokenLike(user)
	})
}

// AnyURLUserinfo calls f with the userinfo (user, password, whether there
// is a ':') and what follows the '@' of the authority of every URL in v
// that has one, until f returns true.
func AnyURLUserinfo(v string, f func(user, pass string, hasPass bool, host string) bool) bool {
	for i := strings.Index(v, "://"); i >= 0; {
		rest := v[i+3:]
		auth := rest[:authorityEnd(rest)]
		if at := strings.LastIndexByte(auth, '@'); at >= 0 {
			user, pass, ok := strings.Cut(auth[:at], ":")
			if f(user, pass, ok, auth[at+1:]) {
				return true
			}
		}
		j := strings.Index(rest, "://")
		if j < 0 {
			break
		}
		i += 3 + j
	}
	return false
}

func tokenLike(s string) bool {
	if len(s) < 20 {
		return false
	}
	letters, digits := false, false
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			letters = true
		case c >= '0' && c <= '9':
			digits = true
		case c == '_' || c == '-':
		default:
			return false
		}
	}
	return letters && digits
}

// authorityEnd is where a URL's authority ends in s, the text after "://".
func authorityEnd(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f || strings.IndexByte("/?#\"'<>\\`", c) >= 0 {
			return i
		}
	}
	return len(s)
}
