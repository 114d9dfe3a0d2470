package keyfile

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
)

func canaryHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func TestTokenHolds(t *testing.T) {
	gh := "ghp_" + canaryHex(t, 18)
	npm := "npm_" + canaryHex(t, 18)
	gl := "glpat-" + canaryHex(t, 10)
	for _, tc := range []struct {
		name string
		data string
		want bool
	}{
		{"a GitHub token", gh, true},
		{"a GitHub token and a line break", gh + "\n", true},
		{"a GitHub token between blank lines, CRLF", "\r\n" + gh + "\r\n", true},
		{"an npm token", npm, true},
		{"a GitLab token", gl, true},
		{"a Slack webhook URL", "https://hooks.slack.com/services/T" + strings.ToUpper(canaryHex(t, 4)) + "/B" + strings.ToUpper(canaryHex(t, 4)) + "/" + canaryHex(t, 12), true},
		{"a token among words", "token: " + gh + "\n", false},
		{"a token in code", "const t = \"" + gh + "\"\n", false},
		{"two tokens", gh + "\n" + npm + "\n", false},
		{"a token after a variable name", "GITHUB_TOKEN=" + gh, false},
		{"a token's prefix alone", "ghp_", false},
		{"a word", "hello", false},
		{"empty", "", false},
		{"too long", gh + string(bytes.Repeat([]byte("a"), maxTokenFile)), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := TokenHolds([]byte(tc.data)); got != tc.want {
				t.Errorf("TokenHolds = %v, want %v", got, tc.want)
			}
			// The walk of a build context finds the same.
			k, err := ReaderKindBuffer(bytes.NewReader([]byte(tc.data)), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := k == Token; got != tc.want {
				t.Errorf("ReaderKindBuffer = %v, want Token: %v", k, tc.want)
			}
		})
	}
}
