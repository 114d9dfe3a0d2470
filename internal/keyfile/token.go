package keyfile

import (
	"bytes"

	"github.com/hushbuild/hushbuild/secretscan"
)

// maxTokenFile is the largest file read as a whole for a token
// (TokenHolds): a token file holds one token, a few hundred bytes at most.
const maxTokenFile = 4 << 10

// tokenRules are the credentials that say what they are by their format
// (secretscan's rules of that kind): a file that is one of them, and
// nothing else, is a credential file whatever its name.
var tokenRules = []string{
	"github-token", "gitlab-token", "slack-token", "slack-webhook", "npm-token",
	"pypi-token", "google-api-key", "stripe-secret-key", "huggingface-token",
	"openai-api-key", "anthropic-api-key", "jwt",
}

var tokenScanner = func() *secretscan.Scanner {
	s, err := secretscan.NewScanner(secretscan.Options{Rules: tokenRules})
	if err != nil {
		panic(err)
	}
	return s
}()

// TokenHolds reports whether data, a whole file, is one token of a known
// format and nothing else but white space (a Slack webhook with its
// scheme): a build copies such a file (token, ci/gh-pat, .hf) to read it
// into a variable, then deletes it in a later layer that does not take it
// out of the image. A file that mentions a token among other text (code,
// a README) is not one.
func TokenHolds(data []byte) bool {
	t := bytes.TrimSpace(data)
	if len(t) == 0 || len(t) > maxTokenFile || bytes.ContainsAny(t, " \t\r\n") {
		return false
	}
	found := false
	tokenScanner.Scan("", t, func(m secretscan.Match) {
		start, end := int(m.Offset), int(m.Offset)+m.Len
		prefix := string(t[:start])
		if end == len(t) && (prefix == "" || prefix == "https://" || prefix == "http://") {
			found = true
		}
	})
	return found
}
