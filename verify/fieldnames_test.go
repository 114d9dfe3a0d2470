package verify

import (
	"strings"
	"testing"

	"github.com/hushbuild/hushbuild/internal/canary"
)

// TestFieldsHideValues: a secret file's fields and notes are reported (in
// build logs, in findings), so a key that holds a credential (a registry
// URL with its password as a JSON key, a token as a key) must not show it.
func TestFieldsHideValues(t *testing.T) {
	pass := canary.Random(t, canary.Lower+canary.Upper+canary.Digits, 24)
	token := "ghp_" + canary.Random(t, canary.Lower+canary.Upper+canary.Digits, 36)
	other := canary.Random(t, canary.Lower+canary.Upper+canary.Digits, 24)
	cases := []struct {
		name, file, content string
		hidden              []string
	}{
		{
			// The short password makes a note that names its field.
			name:    "URL with a password as a JSON key",
			file:    "config.json",
			content: `{"auths":{"https://ci:` + pass + `@registry.example.com":{"username":"ci","password":"x","auth":"` + other + `"}}}`,
			hidden:  []string{pass},
		},
		{
			name:    "token as a URL's user name in a JSON key",
			file:    "config.json",
			content: `{"registries":{"https://` + pass + `@npm.example.com/":{"token":"` + other + `","password":"x"}}}`,
			hidden:  []string{pass},
		},
		{
			name:    "token in a known format as a JSON key",
			file:    "tokens.json",
			content: `{"tokens":{"` + token + `":{"scopes":"repo","secret":"x"}}}`,
			hidden:  []string{token},
		},
		{
			name:    "another field's value as a JSON key",
			file:    "creds.json",
			content: `{"api_token":"` + other + `","by_token":{"` + other + `":{"owner":"ci","password":"x"}}}`,
			hidden:  []string{other},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for fn, f := range map[string]func(string, string, []byte) ([]Secret, []string){
				"FileSecrets":      FileSecrets,
				"FileSecretValues": FileSecretValues,
			} {
				secrets, notes := f("cfg", tc.file, []byte(tc.content))
				shown := append([]string(nil), notes...)
				for _, s := range secrets {
					shown = append(shown, s.label())
				}
				if len(shown) == 0 {
					t.Fatalf("%s: no field or note to check", fn)
				}
				for _, text := range shown {
					for i, h := range tc.hidden {
						if strings.Contains(text, h) {
							t.Errorf("%s: a field or note shows hidden value %d (%d bytes)", fn, i, len(h))
						}
					}
				}
			}
		})
	}
}

func TestSafeField(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"password", "password"},
		{"auths.https://index.docker.io/v1/.auth", "auths.https://index.docker.io/v1/.auth"},
		{"auths.https://ci:abcdef123456@reg.io.auth", "auths.https://****@reg.io.auth"},
		{"r.https://user@host/x.token", "r.https://****@host/x.token"},
		{"url password", "url password"},
	} {
		if got := safeField(tc.in); got != tc.want {
			t.Errorf("safeField(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
