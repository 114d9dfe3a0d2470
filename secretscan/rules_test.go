package secretscan

import (
	"encoding/base64"
	"math/rand/v2"
	"strings"
	"testing"
)

const (
	upperDigit = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	alnum      = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b64std     = alnum + "+/"
	b64url     = alnum + "-_"
)

// rnd returns n random bytes from set: the token bodies of the samples
// are made per run, so no credential-shaped literal sits in the source.
func rnd(set string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = set[rand.IntN(len(set))]
	}
	return string(b)
}

func b64(s string) string    { return base64.StdEncoding.EncodeToString([]byte(s)) }
func b64raw(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

type sample struct {
	rule string
	name string // file name, "" for none
	text string
	want bool
	why  string
}

func samples() []sample {
	pemBody := rnd(b64std, 64) + "\n" + rnd(b64std, 64) + "\n"
	jwt := b64raw(`{"alg":"HS256","typ":"JWT"}`) + "." + b64raw(`{"sub":"1234567890","name":"x"}`) + "." + rnd(b64url, 43)
	return []sample{
		{"private-key", "", "-----BEGIN RSA PRIVATE KEY-----\n" + pemBody + "-----END RSA PRIVATE KEY-----\n", true, "PEM RSA key"},
		{"private-key", "", "-----BEGIN OPENSSH PRIVATE KEY-----\n" + pemBody + "-----END OPENSSH PRIVATE KEY-----", true, "OpenSSH key"},
		{"private-key", "", `{"private_key": "-----BEGIN PRIVATE KEY-----\n` + rnd(b64std, 64) + `\n-----END PRIVATE KEY-----\n"}`, true, "PKCS#8 key in JSON"},
		{"private-key", "", "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0123\n\n" + pemBody + "-----END RSA PRIVATE KEY-----", true, "encrypted PEM key"},
		{"private-key", "", "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n" + pemBody + "-----END PGP PRIVATE KEY BLOCK-----", true, "PGP key"},
		{"private-key", "", `if strings.HasPrefix(s, "-----BEGIN RSA PRIVATE KEY-----") { return true }`, false, "header in code"},
		{"private-key", "", "-----BEGIN PUBLIC KEY-----\n" + pemBody + "-----END PUBLIC KEY-----", false, "public key"},
		{"private-key", "", "-----BEGIN RSA PRIVATE KEY-----\n-----END RSA PRIVATE KEY-----", false, "empty block"},

		{"url-userinfo", "", "pip install --index-url https://deploy:" + rnd(alnum, 20) + "@pypi.internal.corp/simple foo", true, "pip index URL"},
		{"url-userinfo", "", "REDIS_URL=redis://:" + rnd(alnum, 16) + "@cache:6379/0", true, "password without user"},
		{"url-userinfo", "", "git clone https://oauth2:" + rnd(alnum, 20) + "@gitlab.corp/group/repo.git", true, "git clone with token"},
		{"url-userinfo", "", "https://user@host.corp/path", false, "user without password"},
		{"url-userinfo", "", "git@github.com:org/repo.git", false, "scp-like git URL"},
		{"url-userinfo", "", "https://${USER}:${TOKEN}@host.corp/", false, "variables"},
		{"url-userinfo", "", "https://$PYPI_USER:$PYPI_PASS@host.corp/", false, "plain variables"},
		{"url-userinfo", "", "https://user:<password>@host.corp/", false, "bracketed hint"},
		{"url-userinfo", "", `git config --global url."https://$GITHUB_TOKEN:x-oauth-basic@github.com/".insteadOf x`, false, "token as user, fixed password"},
		{"url-userinfo", "", "https://user:***@host.corp/", false, "masked"},
		{"url-userinfo", "", "http://user:" + rnd(alnum, 12) + "@www.example.com/", false, "documentation host"},
		{"url-userinfo", "", "https://host.corp:8443/path?a=b@c", false, "port, @ in query"},
		{"url-userinfo", "", "fmt.Sprintf(\"%s://%s:%s@%s\", scheme, user, pass, host)", false, "format string"},

		{"aws-access-key-id", "", "aws_access_key_id = AKIA" + rnd(upperDigit, 16), true, "key id"},
		{"aws-access-key-id", "", "AKIAIOSFODNN7EXAMPLE", false, "documentation example"},
		{"aws-access-key-id", "", "XAKIA" + rnd(upperDigit, 16), false, "inside a word"},
		{"aws-access-key-id", "", "AKIA" + rnd(upperDigit, 10), false, "too short"},

		{"aws-secret-access-key", "", "aws_secret_access_key = " + rnd(b64std, 40), true, "credentials file"},
		{"aws-secret-access-key", "", `"SecretAccessKey": "` + rnd(b64std, 40) + `"`, true, "JSON"},
		{"aws-secret-access-key", "", "aws_secret_access_key = ${AWS_SECRET_ACCESS_KEY}", false, "variable"},
		{"aws-secret-access-key", "", "aws_secret_access_key = " + rnd(b64std, 20), false, "wrong length"},

		{"github-token", "", "GITHUB_TOKEN=ghp_" + rnd(alnum, 36), true, "classic token"},
		{"github-token", "", "github_pat_" + rnd(alnum+"_", 82), true, "fine-grained token"},
		{"github-token", "", "ghp_" + rnd(alnum, 20), false, "too short"},
		{"github-token", "", "ghp_" + rnd(alnum, 40), false, "too long"},

		{"gitlab-token", "", "glpat-" + rnd(alnum+"-_", 20), true, "personal access token"},
		{"gitlab-token", "", "glpat-xxxxxx", false, "too short"},

		{"slack-token", "", "xoxb-" + rnd("0123456789", 12) + "-" + rnd("0123456789", 12) + "-" + rnd(alnum, 24), true, "bot token"},
		{"slack-token", "", "xoxb-your-token-here", false, "placeholder"},

		{"slack-webhook", "", "https://hooks.slack.com/services/T" + rnd(upperDigit, 8) + "/B" + rnd(upperDigit, 8) + "/" + rnd(alnum, 24), true, "webhook"},
		{"slack-webhook", "", "https://hooks.slack.com/services/T000/B000/XXXX", false, "truncated"},

		{"npm-token", "", "NPM_TOKEN=npm_" + rnd(alnum, 36), true, "access token"},
		{"npm-token", "", "npm_config_cache=/tmp/npm", false, "npm env variable"},

		{"pypi-token", "", "password = pypi-AgEIcHlwaS5vcmc" + rnd(b64url, 80), true, "PyPI token"},
		{"pypi-token", "", "pypi-AgEIcHlwaS5vcmcXXX", false, "truncated"},

		{"google-api-key", "", "key=AIza" + rnd(b64url, 35), true, "API key"},
		{"google-api-key", "", "AIzaSyShort", false, "too short"},

		{"huggingface-token", "", "HF_TOKEN=hf_" + rnd(alnum, 32) + "aB", true, "access token"},
		{"huggingface-token", "", "hf_transfer_enabled_for_large_files_x", false, "a snake_case word"},
		{"huggingface-token", "", "hf_" + rnd(alnum, 40), false, "too long"},

		{"openai-api-key", "", "OPENAI_API_KEY=sk-proj-" + rnd(alnum+"-_", 120), true, "project key"},
		{"openai-api-key", "", "OPENAI_API_KEY=sk-proj-xxxx", false, "too short"},

		{"anthropic-api-key", "", "ANTHROPIC_API_KEY=sk-ant-api03-" + rnd(alnum+"-_", 93) + "AA", true, "API key"},
		{"anthropic-api-key", "", "sk-ant-api03-...", false, "placeholder"},

		{"stripe-secret-key", "", "STRIPE_KEY=sk_live_" + rnd(alnum, 24), true, "live key"},
		{"stripe-secret-key", "", "STRIPE_KEY=sk_test_" + rnd(alnum, 24), false, "test key"},

		{"jwt", "", "Authorization: Bearer " + jwt, true, "bearer token"},
		{"jwt", "", "eyJmb28iOiJiYXIifQ", false, "base64 JSON alone"},
		{"jwt", "", b64raw(`{"typ":"JWT","foo":1}`) + "." + b64raw(`{"sub":"x"}`) + "." + rnd(b64url, 43), false, "header without alg"},

		{"npmrc-auth-token", "", "//registry.npmjs.org/:_authToken=" + rnd(alnum, 36), true, "auth token line"},
		{"npmrc-auth-token", ".npmrc", "_auth=" + b64("user:"+rnd(alnum, 12)), true, "_auth in .npmrc"},
		{"npmrc-auth-token", "", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}", false, "variable"},
		{"npmrc-auth-token", "", `eval "echo //registry.npmjs.org/:_authToken=\$NPM_TOKEN > ~/.npmrc"`, false, "reference escaped for eval"},
		{"npmrc-auth-token", "", `sh -c "echo //r/:_authToken=\\\$NPM_TOKEN"`, false, "reference escaped twice"},
		{"npmrc-auth-token", "", `awk 'BEGIN { print "//r/:_authToken=" ENVIRON["NPM_TOKEN"] }'`, false, "awk string closed after ="},
		{"npmrc-auth-token", "", `awk 'BEGIN { print "//r/:_authToken="ENVIRON["NPM_TOKEN"] }'`, false, "awk ENVIRON expression"},
		{"npmrc-auth-token", "", `awk -v npm_token_value="$T" 'BEGIN { print "//r/:_authToken=" npm_token_value }'`, false, "awk variable after the closed string"},
		{"npmrc-auth-token", "", `echo "//r/:_authToken=` + rnd(alnum, 36) + `" > .npmrc`, true, "quoted literal"},
		{"npmrc-auth-token", "", `echo "//r/:_authToken="` + rnd(alnum, 36) + ` > .npmrc`, true, "literal after a closed quote"},
		{"npmrc-auth-token", "", "self._password = password_from_user_input", false, "_password outside .npmrc"},

		{"netrc-password", "", "machine github.com login bot password " + rnd(alnum, 20) + "\n", true, "netrc line anywhere"},
		{"netrc-password", ".netrc", "machine github.com\n  login bot\n  password " + rnd(alnum, 20) + "\n", true, "multi-line .netrc"},
		{"netrc-password", "", "Please enter your password here.\n", false, "prose"},
		{"netrc-password", "", "machine x login y password $NETRC_PASSWORD\n", false, "variable"},

		{"git-credentials", ".git-credentials", "https://bot:" + rnd(alnum, 20) + "@github.com\n", true, "stored credential"},
		{"git-credentials", "README", "https://bot:" + rnd(alnum, 20) + "@github.com\n", false, "other file"},

		{"docker-config-auth", "config.json", `{"auths":{"registry.corp":{"auth":"` + b64("user:"+rnd(alnum, 16)) + `"}}}`, true, "auth entry"},
		{"docker-config-auth", "config.json", `{"auths":{"registry.corp":{"identitytoken":"` + rnd(alnum, 32) + `"}}}`, true, "identity token"},
		{"docker-config-auth", "config.json", `{"auths":{"registry.corp":{"auth":""}}}`, false, "empty auth"},
		{"docker-config-auth", "config.json", `{"auths":{"registry.corp":{"auth":"` + b64("user:") + `"}}}`, false, "no password"},

		{"pypirc-password", ".pypirc", "[pypi]\nusername = __token__\npassword = " + rnd(alnum, 20) + "\n", true, "pypirc"},
		{"pypirc-password", ".pypirc", "[pypi]\npassword = <your token>\n", false, "placeholder"},
		{"pypirc-password", "setup.cfg", "[pypi]\npassword = " + rnd(alnum, 20) + "\n", false, "other file"},
	}
}

func ruleMatches(s *Scanner, name, text, rule string, piece int) int {
	n := 0
	fn := func(m Match) {
		if m.Rule == rule {
			n++
		}
	}
	if piece <= 0 {
		s.Scan(name, []byte(text), fn)
		return n
	}
	st := s.Stream(name, fn)
	for i := 0; i < len(text); i += piece {
		st.Write([]byte(text[i:min(i+piece, len(text))]))
	}
	st.Close()
	return n
}

func TestRuleSamples(t *testing.T) {
	s := std()
	for _, sm := range samples() {
		t.Run(sm.rule+"/"+sm.why, func(t *testing.T) {
			// Alone, amid other text, and streamed in small pieces.
			padded := strings.Repeat("lorem ipsum ", 50) + "\n" + sm.text + "\n" + strings.Repeat("dolor sit ", 50)
			for _, tc := range []struct {
				text  string
				piece int
			}{{sm.text, 0}, {padded, 0}, {padded, 1}, {padded, 7}, {padded, 100}} {
				got := ruleMatches(s, sm.name, tc.text, sm.rule, tc.piece) > 0
				if got != sm.want {
					// The sample is random per run: say what it is, not
					// what it holds.
					t.Errorf("rule %s on %q sample (file %q, piece %d, len %d): match=%v, want %v",
						sm.rule, sm.why, sm.name, tc.piece, len(tc.text), got, sm.want)
				}
			}
		})
	}
}

func TestEveryRuleHasSamples(t *testing.T) {
	pos, neg := map[string]int{}, map[string]int{}
	for _, sm := range samples() {
		if _, ok := LookupRule(sm.rule); !ok {
			t.Errorf("sample for unknown rule %q", sm.rule)
		}
		if sm.want {
			pos[sm.rule]++
		} else {
			neg[sm.rule]++
		}
	}
	for _, r := range Rules() {
		if pos[r.ID] == 0 || neg[r.ID] == 0 {
			t.Errorf("rule %s needs a positive and a negative sample (has %d, %d)", r.ID, pos[r.ID], neg[r.ID])
		}
		if r.Description == "" || len(r.Keywords) == 0 {
			t.Errorf("rule %s lacks a description or keywords", r.ID)
		}
	}
}

func TestNoFalsePositivesOnChecksums(t *testing.T) {
	text := `
ENV GPG_KEY A035C8C19219BA821ECEA86B64E628F8D684696D
ENV PYTHON_SHA256 8fb5f9fbc7609fa822cb31549884575db7fd9657cbffb89510b5d7975963a83a
RUN echo "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  file" | sha256sum -c -
ARG NODE_VERSION=20.11.1
sha512-3XyfVZ0j+7Lw9MlSsWJf1v8rkOoNi5TfxYJTwYX0NHYbi0Nt2WQH5szaeO0SX0wUj4Cu+MxCqqXYHUSXzLDP2w==
https://github.com/org/repo/archive/refs/tags/v1.2.3.tar.gz
`
	Scan([]byte(text), func(m Match) {
		t.Errorf("unexpected %s match at offset %d", m.Rule, m.Offset)
	})
}

func TestIsPlaceholder(t *testing.T) {
	for _, v := range []string{"$X", "${X}", "$(cat f)", "<password>", "***", "xxxxxx", "changeme", "{{ .Token }}", "%s", "YOUR_TOKEN", ""} {
		if !IsPlaceholder([]byte(v)) {
			t.Errorf("IsPlaceholder(%q) = false", v)
		}
	}
	for _, v := range []string{"hunter2x", "s3cr3t-P4ss", "a$b"} {
		if IsPlaceholder([]byte(v)) {
			t.Errorf("IsPlaceholder(%q) = true", v)
		}
	}
}
