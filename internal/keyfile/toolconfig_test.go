package keyfile

import (
	"strings"
	"testing"
)

func TestToolConfigHolds(t *testing.T) {
	const v = "hfc_0123456789abcdef0123"
	for text, want := range map[string]bool{
		"@acme:registry=https://npm.pkg.github.com/\n//npm.pkg.github.com/:_authToken=" + v + "\n":            true,
		"registry=https://registry.npmjs.org/\n_auth=" + v + "\nalways-auth=true\n":                           true,
		"# ci\n//registry.npmjs.org/:_password=\"" + v + "\"\n":                                               true,
		"machine github.com\nlogin ci\npassword " + v + "\n":                                                  true,
		"machine a.example.com login ci password " + v + " machine b.example.com login x password y1234567\n": true,
		"default login anonymous password " + v + "\n":                                                        true,
		"# CI's credentials\nmachine github.com\nlogin ci\npassword " + v + "\n":                              true,
		"https://ci:" + v + "@github.com\nhttps://x:" + v + "@gitlab.example.com\n":                           true,
		`{"auths": {"registry.example.com": {"auth": "` + v + `"}}}`:                                          true,
		// templates, other text, no credential
		"//npm.pkg.github.com/:_authToken=${NPM_TOKEN}\n":                                            false,
		"//npm.pkg.github.com/:_authToken=\n":                                                        false,
		"//registry.npmjs.org/:_authToken=@NPM_TOKEN@\n@acme:registry=https://registry.npmjs.org/\n": false,
		"//registry.npmjs.org/:_authToken=__NPM_TOKEN__\n":                                           false,
		"//registry.npmjs.org/:_authToken=NPM_TOKEN\n":                                               false,
		"//registry.npmjs.org/:_authToken=#{NpmToken}#\n":                                            false,
		"machine github.com login ci password your-token-here\n":                                     false,
		"machine github.com login ci password P@ssw0rd#2024\n":                                       true,
		"registry=https://registry.npmjs.org/\nsave-exact=true\n":                                    false,
		"To publish, add this line to .npmrc:\n//registry.npmjs.org/:_authToken=" + v + "\n":         false,
		"machine github.com login ci password $GITHUB_TOKEN\n":                                       false,
		"Put machine github.com login ci password " + v + " in ~/.netrc\n":                           false,
		"https://github.com/acme/app\n":                                                              false,
		"https://ci:" + v + "@github.com\nsome other line\n":                                         false,
		`{"auths": {"registry.example.com": {}}, "credsStore": "desktop"}`:                           false,
		"APP_AUTH=" + v + "\n":                                                                       false,
	} {
		if got := ToolConfigHolds([]byte(text)); got != want {
			t.Errorf("ToolConfigHolds(%q) = %v, want %v", strings.ReplaceAll(text, v, "<canary>"), got, want)
		}
	}
	if ToolConfigHolds([]byte(strings.Repeat("machine h login u password "+v+"\n", 3000))) {
		t.Error("a file larger than maxToolConfig is read as a tool's configuration")
	}
}

func TestReaderHoldsToolConfig(t *testing.T) {
	ok, err := ReaderHolds(strings.NewReader("machine github.com login ci password hfc_0123456789abcdef\n"))
	if err != nil || !ok {
		t.Errorf("ReaderHolds of a .netrc's content = %v, %v; want true", ok, err)
	}
}
