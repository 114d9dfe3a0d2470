package checker

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hushbuild/hushbuild/verify"
)

// canary returns a random value that appears nowhere by chance.
func canary(t testing.TB) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "hfck" + hex.EncodeToString(b)
}

// assertNoValue fails if any of texts holds any of values, in any form
// searched. It says where, never what.
func assertNoValue(t testing.TB, values []string, texts map[string]string) {
	t.Helper()
	for vi, v := range values {
		forms := []verify.Needle{{Value: []byte(strings.TrimSpace(v)), Encoding: "whole"}}
		forms = append(forms, verify.Needles(v)...)
		for name, text := range texts {
			for _, n := range forms {
				if len(n.Value) >= verify.MinValueLen && strings.Contains(text, string(n.Value)) {
					t.Errorf("%s holds value %d in %s form", name, vi, n.Encoding)
				}
			}
		}
	}
}

func writeSecret(t *testing.T, dir string, i int, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, strconv.Itoa(i)), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestLoadSecrets(t *testing.T) {
	dir := t.TempDir()
	tok, pw := canary(t), canary(t)
	writeSecret(t, dir, 0, tok+"\n")
	// 1 (OPTIONAL) is missing.
	writeSecret(t, dir, 2, "//registry.npmjs.org/:_authToken="+pw+"\nregistry=https://registry.npmjs.org/\n")
	writeSecret(t, dir, 3, "abc")
	s, err := LoadSecrets(dir, []string{"TOKEN", "OPTIONAL", "NPMRC", "SHORT"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Empty() {
		t.Fatal("no value loaded")
	}
	notes := strings.Join(s.Notes(), "\n")
	for _, want := range []string{"secret OPTIONAL: not given", "secret SHORT: value shorter than 6 bytes"} {
		if !strings.Contains(notes, want) {
			t.Errorf("no note %q in the notes:\n%s", want, notes)
		}
	}
	var got []string
	for _, v := range s.values {
		got = append(got, v.ID+"/"+v.Field)
	}
	want := []string{"TOKEN/", "NPMRC/", "NPMRC///registry.npmjs.org/:_authToken"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("values: got %v, want %v", got, want)
	}
	assertNoValue(t, []string{tok, pw}, map[string]string{"the notes": notes})
}

// TestLoadSecretsUnreadable: a secret file that exists but cannot be read
// fails, naming the secret and not its value.
func TestLoadSecretsUnreadable(t *testing.T) {
	dir := t.TempDir()
	tok := canary(t)
	writeSecret(t, dir, 0, tok)
	if err := os.Mkdir(filepath.Join(dir, "1"), 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := LoadSecrets(dir, []string{"TOKEN", "BROKEN"})
	if err == nil || !strings.Contains(err.Error(), "secret BROKEN") {
		t.Fatalf("got error %v, want one naming secret BROKEN", err)
	}
	assertNoValue(t, []string{tok}, map[string]string{"the error": err.Error()})
}

func TestLoadSecretsNone(t *testing.T) {
	s, err := LoadSecrets(t.TempDir(), []string{"A"})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Empty() {
		t.Error("not empty")
	}
	r, err := ScanTree(t.TempDir(), s, ScanOptions{})
	if err != nil || len(r.Findings) != 0 || len(r.Notes) == 0 {
		t.Errorf("ScanTree with no secrets: %v, %+v", err, r)
	}
}

// TestLoadSecretsStrict: a secret file is searched for its whole content
// and its secret values only: files that share its configuration are not
// findings, files that hold its secrets are.
func TestLoadSecretsStrict(t *testing.T) {
	tok, pw, pw2 := canary(t), canary(t), canary(t)
	secrets := map[string]string{
		"KUBECONFIG": "apiVersion: v1\nkind: Config\ncurrent-context: prod\nusers:\n- name: prod\n  user:\n    token: " + tok + "\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: aws-iam-authenticator\n",
		"PYPIRC":     "[pypi]\nusername = __token__\npassword = " + pw + "\n",
		"ENV":        "DB_NAME=myapp_production\nAWS_REGION=eu-west-1\nAWS_ACCOUNT_ID=123456789012\nTOKEN_URL=https://auth.corp.example/oauth/token\nPOSTGRES_PASSWORD=postgres\nDB_PASSWORD=" + pw2 + "\n",
	}
	tests := []struct {
		name, file, body string
		want             []Finding // Path "" means /file
	}{
		{name: "a kubeconfig without credentials", file: "k8s/kubeconfig", body: "apiVersion: v1\nkind: Config\ncurrent-context: prod\n"},
		{name: "a manifest", file: "k8s/deploy.yaml", body: "apiVersion: client.authentication.k8s.io/v1beta1\nkind: ExecCredential\ncommand: aws-iam-authenticator\n"},
		{name: "a .pypirc template", file: "root/.pypirc", body: "[pypi]\nusername = __token__\npassword = <your token>\n"},
		{name: "settings", file: "app/settings.py", body: "DB_NAME = 'myapp_production'\nREGION = 'eu-west-1'\nACCOUNT = '123456789012'\nTOKEN_URL = 'https://auth.corp.example/oauth/token'\nENGINE = 'postgres'\n"},
		{name: "the kubeconfig's token", file: "root/.kube/token", body: tok,
			want: []Finding{{Where: "content", Secret: "KUBECONFIG", Field: "token", Encoding: "raw"}}},
		{name: "the pypirc's password", file: "app/upload.sh", body: "twine upload -p '" + pw + "'\n",
			want: []Finding{{Where: "content", Secret: "PYPIRC", Field: "password", Encoding: "raw"}}},
		{name: "the env's password", file: "app/.env", body: "DB_NAME=myapp_production\nDB_PASSWORD=" + pw2 + "\n",
			want: []Finding{{Where: "content", Secret: "ENV", Field: "DB_PASSWORD", Encoding: "raw"}}},
	}
	s := mustSecrets(t, secrets)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, tt.file, tt.body)
			r := mustScan(t, dir, s, ScanOptions{}, tok, pw, pw2)
			want := []Finding{}
			for _, f := range tt.want {
				f.Path = "/" + tt.file
				want = append(want, f)
			}
			if describe(r.Findings) != describe(want) {
				t.Errorf("findings:%s\nwant:%s", describe(r.Findings), describe(want))
			}
		})
	}
}

// TestLoadSecretsNotesHoldNoValue: whatever the secret files hold, the
// notes name secrets and fields, never a value or a line of a file.
func TestLoadSecretsNotesHoldNoValue(t *testing.T) {
	dir := t.TempDir()
	c := func() string { return canary(t) }
	a, b, d, e, f, g := c(), c(), c(), c(), c(), c()
	files := []string{
		"DB_NAME=" + a + "_db\nDB_PASSWORD=abc\nSHORT_TOKEN=x\nREGION=" + b + "\n",
		"Xk9fQ2=" + d,
		"qz\nqz=" + e + "\n",
		"<settings><server><username>" + f + "</username><password>pw</password></server></settings>",
		"*:*:*:user:" + g + "\n",
		"",
		"ab",
	}
	var ids []string
	for i, body := range files {
		writeSecret(t, dir, i, body)
		ids = append(ids, fmt.Sprintf("S%d", i))
	}
	s, err := LoadSecrets(dir, ids)
	if err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(s.Notes(), "\n")
	if len(s.Notes()) < 4 {
		t.Errorf("few notes: %q", s.Notes())
	}
	texts := map[string]string{"the notes": notes}
	assertNoValue(t, []string{a, b, d, e, f, g, a + "_db"}, texts)
	for _, part := range []string{"Xk9fQ2", "qz"} {
		if strings.Contains(notes, part) {
			t.Errorf("the notes hold a part of a value: %q", part)
		}
	}
}

// TestSecretNamedFields: a field of a secret file whose key the rewrite
// engine calls a secret name is searched, whatever verify's stricter
// reading says; plain configuration under another name is not.
func TestSecretNamedFields(t *testing.T) {
	hook := "https://hooks.slack.com/services/T0AB12CD/B0EF34GH/" + strings.Repeat("k7", 12)
	env := "SLACK_WEBHOOK_URL=" + hook + "\nDB_NAME=myapp_production\nBUNDLE_GITHUB__COM=x-access-token:" + strings.Repeat("q9", 10) + "\n"
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "0"), []byte(env), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := LoadSecrets(dir, []string{".env"})
	if err != nil {
		t.Fatal(err)
	}
	has := map[string]bool{}
	for _, v := range s.values {
		has[v.Value] = true
	}
	if !has[hook] {
		t.Error("SLACK_WEBHOOK_URL's value is not searched")
	}
	if !has["x-access-token:"+strings.Repeat("q9", 10)] {
		t.Error("BUNDLE_GITHUB__COM's value is not searched")
	}
	if has["myapp_production"] {
		t.Error("DB_NAME's plain value is searched")
	}
}

// TestLoadSecretsFieldsOnly: a configuration file that may hold a
// credential field is searched for that field only: copied whole, with no
// password in it, it is no finding; its password, wherever it lands, is.
func TestLoadSecretsFieldsOnly(t *testing.T) {
	pw := canary(t)
	plain := `<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="acme" value="https://pkgs.corp.example/acme/index.json" />
  </packageSources>
</configuration>
`
	withPassword := strings.Replace(plain, "</configuration>", "  <packageSourceCredentials>\n    <acme>\n      <add key=\"Username\" value=\"ci\" />\n      <add key=\"ClearTextPassword\" value=\""+pw+"\" />\n    </acme>\n  </packageSourceCredentials>\n</configuration>", 1)
	dir := t.TempDir()
	write(t, dir, "0", plain)
	write(t, dir, "1", withPassword)
	s, err := LoadSecretsFields(dir, []string{"plain.config", "feed.config"}, map[string]bool{"plain.config": true, "feed.config": true})
	if err != nil {
		t.Fatal(err)
	}
	tree := t.TempDir()
	write(t, tree, "app/nuget.config", plain)
	if r := mustScan(t, tree, s, ScanOptions{}, pw); len(r.Findings) != 0 {
		t.Errorf("a config without a password copied whole: findings%s", describe(r.Findings))
	}
	write(t, tree, "app/restore.log", "using password "+pw+"\n")
	if r := mustScan(t, tree, s, ScanOptions{}, pw); len(r.Findings) == 0 {
		t.Error("the config's password in the tree: no finding")
	}
}

// TestLoadSecretsFieldsPlaceholders: a configuration file's field that
// only refers to the environment (NuGet's %NAME%, Maven's ${env.NAME}) is
// no secret to search for; a value that merely starts with a dollar sign,
// or mixes a reference with literal text, still is.
func TestLoadSecretsFieldsPlaceholders(t *testing.T) {
	pw := canary(t)
	for _, tt := range []struct {
		name, value string
		searched    bool
	}{
		{"nuget %NAME%", "%NUGET_PASSWORD%", false},
		{"two references", "%FEED_USER%%FEED_KEY%", false},
		{"maven ${env.NAME}", "${env.MAVEN_REPO_PASSWORD}", false},
		{"maven ${NAME}", "${repo.password}", false},
		{"a password starting with $", "$" + pw, true},
		{"reference and literal", "%PREFIX%" + pw, true},
		{"unterminated", "%" + pw, true},
		{"a literal password", pw, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := "<configuration>\n  <packageSourceCredentials>\n    <acme>\n      <add key=\"ClearTextPassword\" value=\"" + tt.value + "\" />\n    </acme>\n  </packageSourceCredentials>\n</configuration>\n"
			dir := t.TempDir()
			write(t, dir, "0", cfg)
			s, err := LoadSecretsFields(dir, []string{"nuget.config"}, map[string]bool{"nuget.config": true})
			if err != nil {
				t.Fatal(err)
			}
			tree := t.TempDir()
			write(t, tree, "src/nuget.config", cfg)
			r := mustScan(t, tree, s, ScanOptions{}, pw)
			if found := len(r.Findings) > 0; found != tt.searched {
				t.Errorf("the copied config: findings%s; want them: %v", describe(r.Findings), tt.searched)
			}
		})
	}
}
