// Package fieldfile decides whether a configuration file that may hold a
// credential field (Maven's settings.xml, NuGet.Config, token.json; see
// rewrite.IsFieldConfigFile) holds one: then it is a credential file as a
// whole, handled as an .npmrc is; a file whose fields are plain settings,
// or placeholders the tool fills from the environment (settings.xml's
// ${env.X}, NuGet.Config's %X%), is an ordinary file.
//
// The decision is the build-time check's (package checker): a field it
// would search, under the engine's secret names, is a credential. Only
// the decision comes back, never a value.
package fieldfile

import (
	"strings"

	"github.com/hushbuild/hushbuild/rewrite"
	"github.com/hushbuild/hushbuild/verify"
)

// MaxSize is the largest file read: a configuration file larger than
// that is left to the build-time check, which searches its fields.
const MaxSize = 1 << 20

// Holds reports whether data, the content of the configuration file name,
// holds a credential field.
func Holds(name string, data []byte) bool {
	if len(data) > MaxSize {
		return false
	}
	values, _ := verify.FileSecretValuesNamed(name, name, data, secretName)
	for _, v := range values {
		if v.Field != "" && !placeholder(v.Value) {
			return true
		}
	}
	return false
}

// secretName is the engine's name rule on a field's last key, as the
// build-time check applies it.
func secretName(field string) bool {
	if i := strings.LastIndexAny(field, ".]"); i >= 0 {
		field = field[i+1:]
	}
	return field != "" && rewrite.IsSecretName(field, rewrite.Config{})
}

// placeholder reports a value that is only references to the environment
// the tool expands: ${env.X} or ${X} (Maven), %X% (NuGet), $X, and dbt's
// {{ env_var('X') }} (one with a default is not: the default is written
// in the file).
func placeholder(v string) bool {
	v = strings.TrimSpace(v)
	if v == "" {
		return true
	}
	for v != "" {
		switch {
		case strings.HasPrefix(v, "{{"):
			end := strings.Index(v, "}}")
			if end < 0 || !envVarCall(v[2:end]) {
				return false
			}
			v = strings.TrimSpace(v[end+2:])
		case strings.HasPrefix(v, "${"):
			end := strings.IndexByte(v, '}')
			if end < 0 || !isName(strings.TrimPrefix(v[2:end], "env.")) {
				return false
			}
			v = v[end+1:]
		case strings.HasPrefix(v, "%"):
			end := strings.IndexByte(v[1:], '%')
			if end < 0 || !isName(v[1:end+1]) {
				return false
			}
			v = v[end+2:]
		case strings.HasPrefix(v, "$"):
			n := 1
			for n < len(v) && isNameByte(v[n]) {
				n++
			}
			if n == 1 {
				return false
			}
			v = v[n:]
		default:
			return false
		}
	}
	return true
}

// envVarCall reports dbt's Jinja call env_var('NAME') (or with double
// quotes), without a default.
func envVarCall(s string) bool {
	s = strings.TrimSpace(s)
	arg, ok := strings.CutPrefix(s, "env_var(")
	if !ok || !strings.HasSuffix(arg, ")") {
		return false
	}
	arg = strings.TrimSpace(strings.TrimSuffix(arg, ")"))
	if len(arg) < 3 || (arg[0] != '\'' && arg[0] != '"') || arg[len(arg)-1] != arg[0] {
		return false
	}
	return isName(arg[1 : len(arg)-1])
}

func isName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isNameByte(s[i]) && s[i] != '.' && s[i] != '-' {
			return false
		}
	}
	return true
}

func isNameByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
