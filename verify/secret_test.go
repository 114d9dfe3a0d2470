package verify

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/crypto/ssh"

	vt "github.com/hushbuild/hushbuild/verify/verifytest"
)

func TestParseSecretSpec(t *testing.T) {
	tests := []struct {
		in   string
		want SecretSpec
		err  string
	}{
		{"id=A", SecretSpec{ID: "A"}, ""},
		{"id=A,env=B", SecretSpec{ID: "A", Env: "B"}, ""},
		{"id=A,src=/x/f", SecretSpec{ID: "A", Src: "/x/f"}, ""},
		{"id=A,source=f", SecretSpec{ID: "A", Src: "f"}, ""},
		{"type=env,id=A", SecretSpec{ID: "A", Env: "A"}, ""},
		{"type=env,id=A,src=B", SecretSpec{ID: "A", Env: "B"}, ""},
		{"type=file,id=A", SecretSpec{ID: "A", Src: "A"}, ""},
		{"src=/run/f.txt", SecretSpec{ID: "f.txt", Src: "/run/f.txt"}, ""},
		{"env=B", SecretSpec{ID: "B", Env: "B"}, ""},
		{"", SecretSpec{}, "not key=value"},
		{"id=A,foo=1", SecretSpec{}, "unknown key"},
		{"id=A,env=B,src=C", SecretSpec{}, "exclusive"},
		{"type=ssh,id=A", SecretSpec{}, "type must be"},
	}
	for _, tc := range tests {
		got, err := ParseSecretSpec(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: got %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestSecretSpecLoad(t *testing.T) {
	dir := t.TempDir()
	c1, c2 := vt.Canary(t), vt.Canary(t)
	file := filepath.Join(dir, "tok")
	os.WriteFile(file, []byte(c2+"\n"), 0o600)
	env := map[string]string{"A": c1, "EMPTY": ""}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	values := func(ss []Secret) string {
		var b []string
		for _, s := range ss {
			b = append(b, s.ID+"="+s.Value)
		}
		return strings.Join(b, " ")
	}
	for _, tc := range []struct {
		spec SecretSpec
		want string
		err  string
	}{
		{SecretSpec{ID: "A"}, "A=" + c1, ""},
		{SecretSpec{ID: "X", Env: "A"}, "X=" + c1, ""},
		{SecretSpec{ID: "T", Src: file}, "T=" + c2, ""},
		{SecretSpec{ID: file}, file + "=" + c2, ""}, // no variable: the file
		{SecretSpec{ID: "X", Env: "NOPE"}, "", "is not set"},
		{SecretSpec{ID: "NOPE"}, "", "no environment variable or file"},
		{SecretSpec{ID: "EMPTY"}, "", ""},
	} {
		got, notes, err := tc.spec.Load(lookup)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%+v: error %v, want %q", tc.spec, err, tc.err)
			}
			continue
		}
		if err != nil || values(got) != tc.want {
			t.Errorf("%+v: got %d values (error %v), not the expected ones", tc.spec, len(got), err)
		}
		if tc.want == "" && len(notes) != 1 {
			t.Errorf("%+v: want a note for the empty value, got %q", tc.spec, notes)
		}
	}
}

func TestFileSecrets(t *testing.T) {
	c := func() string { return vt.Canary(t) }
	tok, pass, npm, url, auth, login := c(), c(), c(), c(), c(), "ghp"+c()
	tests := []struct {
		name, body string
		fields     map[string]string // field -> value
		notes      []string          // fields noted as not searched
	}{
		{".env", "# comment\nexport API_TOKEN=\"" + tok + "\"\nDB_PASSWORD='" + pass + "'\nDEBUG=true\nAPP_ENV=production\nPORT=8080\nSHORT_KEY=abc\nDATABASE_URL=postgres://app:" + url + "@db:5432/app\n",
			map[string]string{"API_TOKEN": tok, "DB_PASSWORD": pass, "url password": url},
			[]string{"DEBUG", "APP_ENV", "PORT", "SHORT_KEY"}},
		{".netrc", "machine github.com\n  login " + login + "\n  password " + pass + "\nmachine x login bob password " + tok + "\n",
			map[string]string{"netrc login": login, "netrc password": pass}, nil},
		{".npmrc", "//registry.npmjs.org/:_authToken=" + npm + "\nregistry=https://registry.npmjs.org/\n",
			map[string]string{"//registry.npmjs.org/:_authToken": npm}, []string{"registry"}},
		{".pypirc", "[pypi]\nusername = __token__\npassword = " + pass + "\n",
			map[string]string{"password": pass}, nil},
		{".git-credentials", "https://bot:" + tok + "@github.com\n",
			map[string]string{"url password": tok}, nil},
		{"config.json", `{"auths":{"r.corp":{"auth":"` + base64.StdEncoding.EncodeToString([]byte("u:"+auth)) + `"}},"credsStore":"desktop"}`,
			map[string]string{"auths.r.corp.auth password": auth}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, notes := FileSecrets("F", tc.name, []byte(tc.body))
			if got[0].Field != "" || got[0].Value != strings.TrimSpace(tc.body) {
				t.Errorf("the whole file is not the first value")
			}
			byField := map[string][]string{}
			for _, s := range got[1:] {
				byField[s.Field] = append(byField[s.Field], s.Value)
			}
			for f, v := range tc.fields {
				found := false
				for _, g := range byField[f] {
					found = found || g == v
				}
				if !found {
					t.Errorf("field %q: value not extracted (fields: %q)", f, keys(byField))
				}
			}
			for _, n := range tc.notes {
				found := false
				for _, note := range notes {
					found = found || strings.Contains(note, "field "+n+":")
				}
				if !found {
					t.Errorf("no note for field %s in %q", n, notes)
				}
				if _, ok := byField[n]; ok {
					t.Errorf("field %s is searched", n)
				}
			}
			for _, note := range notes {
				for _, v := range tc.fields {
					if strings.Contains(note, v) {
						t.Errorf("a note holds the value of a field")
					}
				}
			}
		})
	}
}

func keys(m map[string][]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestNeedles: each encoded form of a value is found inside a longer
// encoded text, whatever the value's alignment in it.
func TestNeedles(t *testing.T) {
	v := vt.Canary(t) + "?&/+=\"<>é"
	ns := Needles(v)
	find := func(text string) string {
		for _, n := range ns {
			if strings.Contains(text, string(n.Value)) {
				return n.Encoding
			}
		}
		return ""
	}
	for pre := 0; pre < 3; pre++ {
		for post := 0; post < 3; post++ {
			plain := strings.Repeat("a", pre) + v + strings.Repeat("b", post)
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
				if got := find(enc.EncodeToString([]byte(plain))); got != EncBase64 {
					t.Errorf("base64 with %d bytes before, %d after: found as %q", pre, post, got)
				}
			}
		}
	}
	for _, n := range ns {
		if len(n.Value) < MinValueLen {
			t.Errorf("a %s needle is shorter than %d", n.Encoding, MinValueLen)
		}
	}
}

// TestLongValue: a long value (a key file) is found by its middle part,
// in the image and in JSON, and keeps the matcher small.
func TestLongValue(t *testing.T) {
	var b strings.Builder
	b.WriteString("-----BEGIN OPENSSH PRIVATE KEY-----\n")
	for i := 0; i < 40; i++ {
		b.WriteString(vt.Canary(t) + vt.Canary(t) + "\n")
	}
	b.WriteString("-----END OPENSSH PRIVATE KEY-----\n")
	key := b.String()
	m, err := newMatcher([]Secret{{ID: "KEY", Value: key}}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := newCollector()
	if err := m.scanJSON([]byte(`{"k":`+strconv.Quote(key)+`}`), c, rawHit{history: -1}); err != nil || len(c.list()) != 1 {
		t.Fatalf("JSON: error %v, %d hits", err, len(c.list()))
	}
	// Another key of the same kind does not match.
	other := strings.Replace(key, key[len(key)/2-80:len(key)/2+80], strings.Repeat("A", 160), 1)
	c = newCollector()
	m.scanRaw(strings.NewReader(other), "", c, rawHit{history: -1})
	if len(c.list()) != 0 {
		t.Fatalf("a different key matched")
	}
}

// hasNeedle reports the encoding of the first needle of ns inside text,
// or "".
func hasNeedle(ns []Needle, text string) string {
	for _, n := range ns {
		if strings.Contains(text, string(n.Value)) {
			return n.Encoding
		}
	}
	return ""
}

// TestNeedlesHex: a value is found inside a longer hex text, in lower and
// upper case.
func TestNeedlesHex(t *testing.T) {
	v := vt.Canary(t) + "/+é"
	ns := Needles(v)
	for _, pre := range []string{"", "a", "ab"} {
		h := hex.EncodeToString([]byte(pre + v + "z"))
		for _, text := range []string{h, strings.ToUpper(h)} {
			if got := hasNeedle(ns, "0x"+text+"\n"); got != EncHex {
				t.Errorf("hex with %d bytes before: found as %q", len(pre), got)
			}
		}
	}
}

// TestNeedlesUTF16: a value is found in UTF-16, little- and big-endian,
// inside a longer text, past ASCII too; a value that is not UTF-8 has no
// UTF-16 form.
func TestNeedlesUTF16(t *testing.T) {
	v := vt.Canary(t) + "é€𝄞"
	ns := Needles(v)
	for _, big := range []bool{false, true} {
		var b []byte
		for _, u := range utf16.Encode([]rune("key=" + v + ";")) {
			if big {
				b = append(b, byte(u>>8), byte(u))
			} else {
				b = append(b, byte(u), byte(u>>8))
			}
		}
		if got := hasNeedle(ns, "\xff\xfe"+string(b)); got != EncUTF16 {
			t.Errorf("UTF-16 (big-endian %v): found as %q", big, got)
		}
	}
	for _, n := range Needles(vt.Canary(t) + "\xff") {
		if n.Encoding == EncUTF16 {
			t.Errorf("a value that is not UTF-8 has a UTF-16 needle")
		}
	}
}

// shellValues are values with the characters shell quoting changes; each
// is put around a canary.
var shellValues = []struct{ name, pre, post string }{
	{"plain", "", ""},
	{"specials", "", ` a'b"c$d` + "`e\\f!g&h(i)j*k,l;m<n>o?p[q]r^s{t|u}v"},
	{"leading hash", "#", ""},
	{"leading tilde", "~", "x:~y=~z"},
	{"non-ASCII", "é ", " ü"},
	{"tab inside", "", "\tx"},
	{"newline inside", "", "\nkey"},
	{"control bytes", "", "\x01\x7f\x1b"},
	{"invalid UTF-8", "", "\xff\xfe x"},
	{"single quotes", "'", "'s"},
}

// TestNeedlesShell: a value is found in what bash's printf %q writes for
// it, alone and inside a longer text, in the C and a UTF-8 locale; and in
// single- and double-quoted shell words.
func TestNeedlesShell(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatalf("bash is needed to compare printf %%q output: %v", err)
	}
	for _, tt := range shellValues {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.pre + vt.Canary(t) + tt.post
			ns := Needles(v)
			sq := "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
			pyq := "'" + strings.ReplaceAll(v, "'", `'"'"'`) + "'"
			dq := `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", `\$`, "`", "\\`").Replace(v) + `"`
			for name, text := range map[string]string{"single quotes": sq, "shlex.quote": pyq, "double quotes": dq} {
				if hasNeedle(ns, "x="+text+";") == "" {
					t.Errorf("not found in %s", name)
				}
			}
			for _, locale := range []string{"C", "C.UTF-8"} {
				for _, ctx := range []string{`"$V"`, `"a b${V}c d"`, `"$(printf '\t')${V}x"`, `"é${V}"`} {
					cmd := exec.Command(bash, "-c", `printf '%q\n' `+ctx)
					cmd.Env = []string{"V=" + v, "LC_ALL=" + locale}
					out, err := cmd.Output()
					if err != nil {
						t.Fatalf("bash: %v", err)
					}
					if hasNeedle(ns, string(out)) == "" {
						t.Errorf("LC_ALL=%s printf %%q %s: not found", locale, ctx)
					}
				}
			}
		})
	}
}

func TestShellForms(t *testing.T) {
	tests := []struct{ in, want string }{
		{"#a b~c:~d=~e", `\#a\ b~c:\~d=\~e`},
		{"~xyz", `\~xyz`},
		{"x{y}", `x\{y\}`},
		{"a=b+c/d%e@f", "a=b+c/d%e@f"},
	}
	for _, tt := range tests {
		if got := backslashQuote(tt.in, true); got != tt.want {
			t.Errorf("backslashQuote(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	ansi := []struct {
		in   string
		utf8 bool
		want string
	}{
		{"tab\tx", true, `tab\tx`},
		{"é x", false, `\303\251 x`},
		{"é x", true, "é x"},
		{"a\x01b\x7f'\\", true, `a\001b\177\'\\`},
		{"\x1b[0m", true, `\E[0m`},
	}
	for _, tt := range ansi {
		if got := ansiCQuote(tt.in, tt.utf8); got != tt.want {
			t.Errorf("ansiCQuote(%q, %v) = %q, want %q", tt.in, tt.utf8, got, tt.want)
		}
	}
}

// values returns the values of ss by field.
func byField(ss []Secret) map[string][]string {
	m := map[string][]string{}
	for _, s := range ss {
		m[s.Field] = append(m[s.Field], s.Value)
	}
	return m
}

// TestFileSecretValues: a search that fails a build looks only for what is
// secret in a secret file: its whole content, values under names that say
// secret, and values whose place says secret; not configuration.
func TestFileSecretValues(t *testing.T) {
	c := func() string { return vt.Canary(t) }
	tok, pw, pw2, npm, acct, login := c(), c(), c(), c(), c(), "ghp"+c()
	auth := c()
	caPEM, keyPEM, _ := testBundle(t)
	ca64 := base64.StdEncoding.EncodeToString([]byte(caPEM))
	key64 := base64.StdEncoding.EncodeToString([]byte(keyPEM))
	keyBody := pemBody(keyPEM)
	tests := []struct {
		name, body string
		search     map[string]string // field -> a value searched
		not        []string          // values never searched, never in notes
		notes      []string          // in the notes
	}{
		{name: "kubeconfig", body: "apiVersion: v1\nkind: Config\ncurrent-context: prod\nclusters:\n- cluster:\n    certificate-authority-data: " + ca64 + "\n    server: https://k8s.corp.example:6443\n  name: prod\nusers:\n- name: prod\n  user:\n    client-key-data: " + key64 + "\n    token: " + tok + "\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: aws-iam-authenticator\n",
			search: map[string]string{"token": tok, "client-key-data": key64, "client-key-data (PRIVATE KEY) body": keyBody},
			not:    []string{"Config", "client.authentication.k8s.io/v1beta1", "aws-iam-authenticator", "https://k8s.corp.example:6443", ca64},
			notes:  []string{"field certificate-authority-data: a certificate or public key, which is public: not searched", "names that do not say secret not searched: current-context"}},
		{name: ".pypirc", body: "[distutils]\nindex-servers = pypi\n\n[pypi]\nusername = __token__\npassword = " + pw + "\n",
			search: map[string]string{"password": pw},
			not:    []string{"__token__", "pypi"}},
		{name: ".env", body: "DB_NAME=myapp_production\nAWS_REGION=eu-west-1\nAWS_ACCOUNT_ID=123456789012\nSESSION_COOKIE_NAME=myapp_session\nTOKEN_URL=https://auth.corp.example/oauth/token\nSSL_KEY_FILE=/etc/ssl/private/app.key\nAPI_VERSION=2024-01-01\nexport API_TOKEN=\"" + tok + "\"\nDB_PASSWORD='" + pw + "'\nPOSTGRES_PASSWORD=postgres\nSMTP_PASSWORD=${SMTP_PASSWORD}\nDATABASE_URL=postgres://app:" + pw2 + "@db:5432/app\n",
			search: map[string]string{"API_TOKEN": tok, "DB_PASSWORD": pw, "url password": pw2},
			not:    []string{"myapp_production", "eu-west-1", "123456789012", "myapp_session", "https://auth.corp.example/oauth/token", "/etc/ssl/private/app.key", "2024-01-01", "postgres", "${SMTP_PASSWORD}"},
			notes:  []string{"DB_NAME, AWS_REGION", "field POSTGRES_PASSWORD: value looks like plain configuration"}},
		{name: ".npmrc", body: "//registry.npmjs.org/:_authToken=" + npm + "\nregistry=https://registry.npmjs.org/\n@corp:registry=https://npm.corp.example/\n",
			search: map[string]string{"//registry.npmjs.org/:_authToken": npm},
			not:    []string{"https://registry.npmjs.org/", "https://npm.corp.example/"}},
		{name: ".netrc", body: "machine github.com\n  login " + login + "\n  password " + pw + "\nmachine x login bob account " + acct + "\n",
			search: map[string]string{"netrc login": login, "netrc password": pw, "netrc account": acct},
			not:    []string{"bob", "github.com"}},
		{name: "config.json", body: `{"auths":{"r.corp":{"auth":"` + base64.StdEncoding.EncodeToString([]byte("ci-bot:"+auth)) + `"}},"credsStore":"desktop","HttpHeaders":{"User-Agent":"Docker-Client/24.0.0"}}`,
			search: map[string]string{"auths.r.corp.auth password": auth},
			not:    []string{"desktop", "ci-bot", "Docker-Client/24.0.0"}},
		{name: "settings.xml", body: `<?xml version="1.0"?><settings><servers><server><id>corp-releases</id><username>deployer-ci</username><password>` + pw + `</password><privateKey>${user.home}/.ssh/id_rsa</privateKey><passphrase>` + pw2 + `</passphrase></server></servers><mirrors><mirror><url>https://repo.corp.example/maven2</url></mirror></mirrors></settings>`,
			search: map[string]string{"password": pw, "passphrase": pw2},
			not:    []string{"corp-releases", "deployer-ci", "${user.home}/.ssh/id_rsa", "https://repo.corp.example/maven2"}},
		{name: "NuGet.Config", body: "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<configuration>\n  <packageSources>\n    <add key=\"corp\" value=\"https://nuget.corp.example/v3/index.json\" />\n  </packageSources>\n  <packageSourceCredentials>\n    <corp>\n      <add key=\"Username\" value=\"build-agent\" />\n      <add key=\"ClearTextPassword\" value=\"" + pw + "\" />\n    </corp>\n  </packageSourceCredentials>\n</configuration>\n",
			search: map[string]string{"ClearTextPassword": pw},
			not:    []string{"build-agent", "https://nuget.corp.example/v3/index.json"}},
		{name: ".pgpass", body: "# comment\ndb.corp.example:5432:app:app_user:" + pw + "\n*:*:*:replicator:" + strings.Replace(pw2, "a", `\:`, 1) + "\n",
			search: map[string]string{"pgpass password": pw},
			not:    []string{"db.corp.example", "app_user", "replicator"}},
		{name: "openvpn auth", body: "ci@corp.example\n" + pw + "\n",
			search: map[string]string{"line 2": pw},
			not:    []string{"ci@corp.example"}},
		{name: "two-factor file", body: "deploy\n" + tok + "\n" + pw + "\n",
			search: map[string]string{"line 2": tok, "line 3": pw},
			not:    []string{"deploy"}},
		{name: "service account", body: testServiceAccount(keyPEM, "0123456789abcdef0123456789abcdef01234567"),
			search: map[string]string{"private_key": strings.TrimSpace(keyPEM), "private_key (PRIVATE KEY) body": keyBody},
			not:    []string{"service_account", "0123456789abcdef0123456789abcdef01234567", "https://oauth2.googleapis.com/token", "sa@proj.iam.gserviceaccount.com", "123456789012345678901"}},
		{name: "cert+key bundle", body: caPEM + "Bag Attributes\n    localKeyID: 01 00 00 00 \n" + keyPEM,
			search: map[string]string{"PRIVATE KEY": strings.TrimSpace(keyPEM), "PRIVATE KEY body": keyBody},
			not:    []string{strings.TrimSpace(caPEM), "01 00 00 00"},
			notes:  []string{"secret F: holds certificates or public keys, which are public: not searched as a whole"}},
		{name: "private key", body: keyPEM,
			search: map[string]string{"": strings.TrimSpace(keyPEM), "PRIVATE KEY body": keyBody}},
		{name: "certificate", body: caPEM,
			not:   []string{strings.TrimSpace(caPEM)},
			notes: []string{"holds certificates or public keys"}},
		{name: "indented key in YAML", body: "tls:\n  key: |\n    " + strings.ReplaceAll(strings.TrimSpace(keyPEM), "\n", "\n    ") + "\n  crt: " + ca64 + "\n",
			search: map[string]string{"PRIVATE KEY": strings.TrimSpace(keyPEM), "PRIVATE KEY body": keyBody},
			not:    []string{ca64}},
		{name: "escaped key in .env", body: "APP_NAME=shop\nSIGNING_KEY=\"" + strings.ReplaceAll(strings.TrimSpace(keyPEM), "\n", `\n`) + "\"\n",
			search: map[string]string{"SIGNING_KEY (PRIVATE KEY)": strings.TrimSpace(keyPEM), "SIGNING_KEY (PRIVATE KEY) body": keyBody},
			not:    []string{"shop"}},
		{name: "CRLF", body: "API_KEY=" + tok + "\r\nREGION=eu-west-1\r\n",
			search: map[string]string{"API_KEY": tok},
			not:    []string{"eu-west-1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, notes := FileSecretValues("F", tc.name, []byte(tc.body))
			fields := byField(got)
			for f, v := range tc.search {
				found := false
				for _, g := range fields[f] {
					found = found || strings.TrimSpace(g) == strings.TrimSpace(v)
				}
				if !found {
					t.Errorf("field %q: value not searched (fields: %q)", f, keys(fields))
				}
			}
			for _, s := range got {
				for i, v := range tc.not {
					if s.Field != "" && strings.Contains(s.Value, v) || strings.TrimSpace(s.Value) == strings.TrimSpace(v) {
						t.Errorf("field %q holds not-secret value %d", s.Field, i)
					}
				}
			}
			all := strings.Join(notes, "\n")
			for _, n := range tc.notes {
				if !strings.Contains(all, n) {
					t.Errorf("no note %q in:\n%s", n, all)
				}
			}
			for i, v := range append(append([]string{tok, pw, pw2, npm, acct, login, auth, keyBody}, tc.not...), strings.Split(tc.body, "\n")...) {
				if len(strings.TrimSpace(v)) >= 8 && strings.Contains(all, strings.TrimSpace(v)) {
					t.Errorf("a note holds value or line %d", i)
				}
			}
		})
	}
}

// TestFileSecretsNewFormats: FileSecrets (hushbuild verify) reads the same
// formats: XML, .pgpass, plain lines, private keys.
func TestFileSecretsNewFormats(t *testing.T) {
	pw, pw2 := vt.Canary(t), vt.Canary(t)
	_, keyPEM, _ := testBundle(t)
	for _, tc := range []struct {
		name, body, field, value string
	}{
		{"settings.xml", "<settings><servers><server><password>" + pw + "</password></server></servers></settings>", "password", pw},
		{"NuGet.Config", `<configuration><packageSourceCredentials><f><add key="ClearTextPassword" value="` + pw + `"/></f></packageSourceCredentials></configuration>`, "ClearTextPassword", pw},
		{".pgpass", "h:5432:db:u:" + strings.Replace(pw, "a", `\:`, 1), "pgpass password", strings.Replace(pw, "a", ":", 1)},
		{"auth.txt", "bob\n" + pw + "\n", "line 2", pw},
		{"key.pem", keyPEM + pw2, "PRIVATE KEY body", pemBody(keyPEM)},
	} {
		got, _ := FileSecrets("F", tc.name, []byte(tc.body))
		found := false
		for _, g := range byField(got)[tc.field] {
			found = found || g == tc.value
		}
		if !found {
			t.Errorf("%s: field %q not extracted (fields %q)", tc.name, tc.field, keys(byField(got)))
		}
	}
}

// TestValueLinesNotFields: a line that holds '=' but is not KEY=VALUE (a
// password, base64) is no field: its parts are never reported as a field
// name, in notes or findings.
func TestValueLinesNotFields(t *testing.T) {
	c := vt.Canary(t)
	raw := make([]byte, 301)
	rand.Read(raw)
	b64 := base64.StdEncoding.EncodeToString(raw)
	var wrapped strings.Builder
	for i := 0; i < len(b64); i += 64 {
		wrapped.WriteString(b64[i:min(i+64, len(b64))] + "\n")
	}
	for name, body := range map[string]string{
		"password with =":           "Xk9fQ2=" + c,
		"two lines":                 "qz\nqz=" + c + "\n", // reads as KEY=VALUE: notes must not name it
		"base64, wrapped":           wrapped.String(),
		"base64 ending with a line": wrapped.String() + "Zm9v\n",
	} {
		for _, strict := range []bool{false, true} {
			got, notes := FileSecrets("F", "f", []byte(body))
			if strict {
				got, notes = FileSecretValues("F", "f", []byte(body))
			}
			for _, s := range got {
				if s.Field != "" && !strings.HasPrefix(s.Field, "line ") && name != "two lines" {
					t.Errorf("%s: a field named by a part of the value", name)
				}
			}
			for _, n := range notes {
				for _, part := range []string{"Xk9fQ2", "qz", b64[:10], b64[len(b64)-10:]} {
					if strings.Contains(n, part) {
						t.Errorf("%s: a note holds a part of the value: %q", name, n)
					}
				}
			}
		}
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct {
		k                      string
		conventional, shown    bool
		secret, strictlySecret bool
	}{
		{"DB_PASSWORD", true, true, true, true},
		{"apiKey", true, false, true, true},
		{"//registry.npmjs.org/:_authToken", true, true, true, true},
		{"@corp:registry", true, true, false, false},
		{"apiVersion", true, false, true, false},
		{"AWS_ACCOUNT_ID", true, true, true, false},
		{"private_key_id", true, true, true, false},
		{"token_uri", true, true, true, false},
		{"tokenUri", true, false, true, false},
		{"SSL_KEY_FILE", true, true, true, false},
		{"client-certificate-data", true, true, true, false},
		{"client-key-data", true, true, true, true},
		{"s3Bucket", true, false, false, false},
		{"Xk9fQ2", false, false, false, false},
		{"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7", false, false, false, false},
		{"a b", false, false, false, false},
		{"debug", true, false, false, false},
		{"İstanbul_tokenId", false, false, true, false}, // lower case is longer
		{"İstanbul_token", false, false, true, true},
	} {
		if got := conventionalName(tc.k); got != tc.conventional {
			t.Errorf("conventionalName(%q) = %v", tc.k, got)
		}
		if got := shownName(tc.k); got != tc.shown {
			t.Errorf("shownName(%q) = %v", tc.k, got)
		}
		if got := secretName(tc.k); got != tc.secret {
			t.Errorf("secretName(%q) = %v", tc.k, got)
		}
		if got := strictSecretName(tc.k); got != tc.strictlySecret {
			t.Errorf("strictSecretName(%q) = %v", tc.k, got)
		}
	}
	for v, want := range map[string]bool{"a@b.example": true, "ci@corp.example": true, "p@ss:w0rd@x": false, "user@host": false, "a b@c.de": false} {
		if emailValue(v) != want {
			t.Errorf("emailValue(%q) != %v", v, want)
		}
	}
	for v, want := range map[string]bool{"${X}": true, "${user.home}/.ssh/id": true, "$HOME/x": true, "$TOKEN": true, "{{ .Values.x }}": true, "%APPDATA%": true, "<your-token>": true, "$3cr3t!": false, "p$ss": false} {
		if placeholderValue(v) != want {
			t.Errorf("placeholderValue(%q) != %v", v, want)
		}
	}
}

var (
	bundleOnce          sync.Once
	bundleCA, bundleKey string
	bundlePublic        []string
	bundleErr           error
	keysOnce            sync.Once
	keysCache           []testKey
	testKeysErr         error
)

// testBundle returns a certificate and its RSA key (PKCS #8), in PEM, and
// the public forms of the key.
func testBundle(t testing.TB) (caPEM, keyPEM string, public []string) {
	t.Helper()
	bundleOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			bundleErr = err
			return
		}
		tk, err := newTestKey("RSA PKCS #8", k, func() (*pem.Block, error) {
			der, err := x509.MarshalPKCS8PrivateKey(k)
			return &pem.Block{Type: "PRIVATE KEY", Bytes: der}, err
		})
		bundleErr = err
		bundleCA, bundleKey, bundlePublic = tk.cert, tk.private, tk.public
	})
	if bundleErr != nil {
		t.Fatal(bundleErr)
	}
	return bundleCA, bundleKey, bundlePublic
}

func pemBody(p string) string {
	b, _ := pem.Decode([]byte(p))
	return base64.StdEncoding.EncodeToString(b.Bytes)
}

func testServiceAccount(keyPEM, keyID string) string {
	js, _ := json.MarshalIndent(map[string]string{
		"type": "service_account", "project_id": "proj", "private_key_id": keyID, "private_key": keyPEM,
		"client_email": "sa@proj.iam.gserviceaccount.com", "client_id": "123456789012345678901",
		"auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": "https://oauth2.googleapis.com/token",
		"auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
		"client_x509_cert_url":        "https://www.googleapis.com/robot/v1/metadata/x509/sa%40proj.iam.gserviceaccount.com",
		"universe_domain":             "googleapis.com",
	}, "", "  ")
	return string(js) + "\n"
}

// testKey is a private key in PEM, with its certificate and the public
// forms of its key (certificate, PKIX and PKCS #1 public keys, an OpenSSH
// authorized_keys line, in PEM and DER).
type testKey struct {
	name, private, cert string
	public              []string
}

func newTestKey(name string, k any, block func() (*pem.Block, error)) (testKey, error) {
	b, err := block()
	if err != nil {
		return testKey{}, err
	}
	pub := publicOf(k)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "client"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	certDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, k)
	if err != nil {
		return testKey{}, err
	}
	tk := testKey{name: name, private: string(pem.EncodeToMemory(b))}
	tk.cert = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER}))
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return testKey{}, err
	}
	tk.public = append(tk.public, tk.cert, string(certDER), string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki})), string(spki))
	if r, ok := pub.(*rsa.PublicKey); ok {
		p1 := x509.MarshalPKCS1PublicKey(r)
		tk.public = append(tk.public, string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: p1})), string(p1))
	}
	if sp, err := ssh.NewPublicKey(pub); err == nil {
		tk.public = append(tk.public, string(ssh.MarshalAuthorizedKey(sp)), string(sp.Marshal()))
	}
	return tk, nil
}

func publicOf(k any) any {
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return &k.PublicKey
	case *ecdsa.PrivateKey:
		return &k.PublicKey
	case ed25519.PrivateKey:
		return k.Public()
	}
	return nil
}

// testKeys returns private keys of every kind.
func testKeys(t testing.TB) []testKey {
	t.Helper()
	keysOnce.Do(func() {
		rk, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			testKeysErr = err
			return
		}
		ek, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		ek256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		_, edk, _ := ed25519.GenerateKey(rand.Reader)
		der := func(typ string, f func() ([]byte, error)) func() (*pem.Block, error) {
			return func() (*pem.Block, error) {
				d, err := f()
				return &pem.Block{Type: typ, Bytes: d}, err
			}
		}
		for _, k := range []struct {
			name  string
			key   any
			block func() (*pem.Block, error)
		}{
			{"RSA PKCS #1", rk, der("RSA PRIVATE KEY", func() ([]byte, error) { return x509.MarshalPKCS1PrivateKey(rk), nil })},
			{"RSA PKCS #8", rk, der("PRIVATE KEY", func() ([]byte, error) { return x509.MarshalPKCS8PrivateKey(rk) })},
			{"EC P-384 SEC 1", ek, der("EC PRIVATE KEY", func() ([]byte, error) { return x509.MarshalECPrivateKey(ek) })},
			{"EC P-256 PKCS #8", ek256, der("PRIVATE KEY", func() ([]byte, error) { return x509.MarshalPKCS8PrivateKey(ek256) })},
			{"Ed25519 PKCS #8", edk, der("PRIVATE KEY", func() ([]byte, error) { return x509.MarshalPKCS8PrivateKey(edk) })},
			{"OpenSSH RSA", rk, func() (*pem.Block, error) { return ssh.MarshalPrivateKey(rk, "") }},
			{"OpenSSH Ed25519", edk, func() (*pem.Block, error) { return ssh.MarshalPrivateKey(edk, "") }},
			{"OpenSSH RSA, encrypted", rk, func() (*pem.Block, error) { return ssh.MarshalPrivateKeyWithPassphrase(rk, "", []byte("pass")) }},
		} {
			tk, err := newTestKey(k.name, k.key, k.block)
			if err != nil {
				testKeysErr = fmt.Errorf("%s: %w", k.name, err)
				return
			}
			keysCache = append(keysCache, tk)
		}
	})
	if testKeysErr != nil {
		t.Fatal(testKeysErr)
	}
	return keysCache
}

// joinLines removes line ends, as a search of wrapped text sees it.
func joinLines(s string) string { return strings.NewReplacer("\n", "", "\r", "").Replace(s) }

// TestPrivateKeysNotPublic: a private key, alone or in a bundle with its
// certificate, is searched so that what was cut out of it is found (the
// key block, its body on one line), and so that no public form of it is:
// its certificate, its public key (PKIX, PKCS #1, OpenSSH), whether
// written with line ends or not, in PEM or DER, share no searched needle.
func TestPrivateKeysNotPublic(t *testing.T) {
	for _, k := range testKeys(t) {
		t.Run(k.name, func(t *testing.T) {
			for _, file := range []string{k.private, k.cert + k.private, k.private + k.cert} {
				values, _ := FileSecretValues("K", "k.pem", []byte(file))
				var ns []Needle
				for _, v := range values {
					ns = append(ns, WindowNeedles(v)...)
				}
				if len(ns) == 0 {
					t.Fatal("no needles")
				}
				for i, pub := range k.public {
					for _, text := range []string{pub, joinLines(pub), base64.StdEncoding.EncodeToString([]byte(pub))} {
						if enc := hasNeedle(ns, text); enc != "" {
							t.Errorf("public form %d holds a needle (%s)", i, enc)
						}
					}
				}
				block := strings.TrimSpace(k.private)
				want := map[string]string{"the key block": block, "its body": pemBody(k.private), "its body, wrapped at 76": wrap(pemBody(k.private), 76)}
				// Every part of 191 bytes at most half of which is public
				// material (an RSA modulus, an EC point).
				pub := publicSpans(block)
				for at := 0; at+191 <= len(block) && len(block) > MaxNeedleLen; at += 37 {
					if overlap(span{at, at + 191}, pub) <= 191/2 {
						want[fmt.Sprintf("its part at %d", at)] = block[at : at+191]
					}
				}
				for name, text := range want {
					if name == "its body, wrapped at 76" {
						text = joinLines(text)
					}
					if hasNeedle(ns, text) == "" {
						t.Errorf("%s: not found", name)
					}
				}
			}
		})
	}
}

func wrap(s string, n int) string {
	var b strings.Builder
	for i := 0; i < len(s); i += n {
		b.WriteString(s[i:min(i+n, len(s))] + "\n")
	}
	return b.String()
}

// TestWindowNeedles: any part of 191 bytes or more of a long value is
// found, in every encoding; the windows are bounded; short values keep
// their needles.
func TestWindowNeedles(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(7, 8))
	rnd := func(n int, alphabet string) string {
		r := []rune(alphabet)
		var b strings.Builder
		for b.Len() < n {
			b.WriteRune(r[rng.IntN(len(r))])
		}
		return b.String()
	}
	bin := make([]byte, 3000)
	for i := range bin {
		bin[i] = byte(rng.IntN(256))
	}
	values := map[string]string{
		"base64":  rnd(3000, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"),
		"special": rnd(2500, "abcdef012345 /+&?='\"$\\`!#~é€😀\n\t"),
		"binary":  string(bin),
	}
	for name, v := range values {
		t.Run(name, func(t *testing.T) {
			ns := WindowNeedles(Secret{ID: "X", Field: "f", Value: v})
			for i := 0; i < 200; i++ {
				n := 191 + rng.IntN(150)
				from := rng.IntN(len(v) - n)
				piece := v[from : from+n]
				pre := strings.Repeat("p", rng.IntN(3))
				js, _ := json.Marshal(piece)
				forms := map[string]string{
					EncRaw:    piece,
					EncBase64: base64.StdEncoding.EncodeToString([]byte(pre + piece)),
					"url64":   base64.RawURLEncoding.EncodeToString([]byte(pre + piece)),
					EncHex:    hex.EncodeToString([]byte(piece)),
					"HEX":     strings.ToUpper(hex.EncodeToString([]byte(piece))),
					EncURL:    url.QueryEscape(piece),
					"path":    url.PathEscape(piece),
					EncJSON:   string(js),
					EncShell:  strings.ReplaceAll(piece, "'", `'\''`),
				}
				if !utf8.ValidString(piece) {
					// JSON cannot carry bytes that are not UTF-8: a writer
					// puts U+FFFD in their place, and where the piece cuts
					// a character decides how many; that form is lost.
					delete(forms, EncJSON)
				}
				for enc, text := range forms {
					if hasNeedle(ns, text) == "" {
						t.Fatalf("a %d-byte part at %d, %s: not found", n, from, enc)
					}
				}
			}
		})
	}
	// Bounded: a long value has at most maxWindows windows.
	long := strings.Repeat(values["base64"], 400) // 1.2 MB
	if n, max := len(WindowNeedles(Secret{ID: "X", Field: "f", Value: long})), len(Needles(values["base64"]))*maxWindows; n > max {
		t.Errorf("%d needles for a 1.2 MB value, more than %d", n, max)
	}
	if ws := searchWindows(long, false); len(ws) != maxWindows || ws[0].from != 0 || ws[len(ws)-1].to != len(long) {
		t.Errorf("%d windows, from %d to %d: want %d spread over the value", len(ws), ws[0].from, ws[len(ws)-1].to, maxWindows)
	}
	// Up to MaxNeedleLen: the value's needles.
	short := vt.Canary(t) + "?&/é"
	if a, b := fmt.Sprint(WindowNeedles(Secret{Value: short + "\n"})), fmt.Sprint(Needles(short)); a != b {
		t.Errorf("a short value's needles differ from Needles'")
	}
}

// TestWholeFileWindows: the whole content of a file with fields is searched
// around its secret values only, not by its configuration, which other
// files share; a file whose secret values are escaped in it (a service
// account's JSON) is searched across them, so that a part of the file in
// base64 is found.
func TestWholeFileWindows(t *testing.T) {
	tok := vt.Canary(t)
	config := "APP_ENV=production\nLOG_LEVEL=info\nAWS_REGION=eu-west-1\nDB_HOST=db.internal.example\nDB_PORT=5432\nDB_NAME=myapp_production\nCACHE_URL=redis://cache:6379/0\nFEATURE_FLAGS=new-checkout,fast-search\n"
	env := config + "API_TOKEN=" + tok + "\n" + config
	example := config + "API_TOKEN=changeme\n" + config
	ns := WindowNeedles(Secret{ID: "E", Value: env})
	if hasNeedle(ns, env) == "" || hasNeedle(ns, base64.StdEncoding.EncodeToString([]byte(env))) == "" {
		t.Error("the file, or its base64, is not found")
	}
	if enc := hasNeedle(ns, example); enc != "" {
		t.Errorf("a file with the same configuration is found (%s)", enc)
	}

	_, keyPEM, _ := testBundle(t)
	sa := testServiceAccount(keyPEM, "0123456789abcdef0123456789abcdef01234567")
	other := testServiceAccount("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n", "fedcba9876543210fedcba9876543210fedcba98")
	values, _ := FileSecretValues("SA", "sa.json", []byte(sa))
	var all []Needle
	for _, v := range values {
		all = append(all, WindowNeedles(v)...)
	}
	if enc := hasNeedle(all, other); enc != "" {
		t.Errorf("another service account's file is found (%s)", enc)
	}
	i := strings.Index(sa, "MII")
	for name, text := range map[string]string{
		"the file in base64":            base64.StdEncoding.EncodeToString([]byte(sa)),
		"the file in base64, joined":    joinLines(wrap(base64.StdEncoding.EncodeToString([]byte(sa)), 76)),
		"a part of the file, in base64": base64.StdEncoding.EncodeToString([]byte(sa[i+300 : i+700])),
	} {
		if hasNeedle(all, text) == "" {
			t.Errorf("%s: not found", name)
		}
	}
}

// TestPublicMaterial: windows of binary or base64 values leave out the
// certificates inside them (a Java keystore), and the public parts of
// OpenPGP secret keys.
func TestPublicMaterial(t *testing.T) {
	caPEM, _, _ := testBundle(t)
	b, _ := pem.Decode([]byte(caPEM))
	junk := make([]byte, 700)
	rand.Read(junk)
	store := string(junk[:300]) + string(b.Bytes) + string(junk[300:])
	for name, v := range map[string]string{"binary": store, "base64": base64.StdEncoding.EncodeToString([]byte(store))} {
		ns := WindowNeedles(Secret{ID: "KS", Value: v})
		if len(ns) == 0 {
			t.Fatalf("%s: no needles", name)
		}
		for _, text := range []string{string(b.Bytes), caPEM, joinLines(caPEM)} {
			if enc := hasNeedle(ns, text); enc != "" {
				t.Errorf("%s: the certificate holds a needle (%s)", name, enc)
			}
		}
		if hasNeedle(ns, v[:len(v)/4]) == "" {
			t.Errorf("%s: a part of the value is not found", name)
		}
	}

	// OpenPGP: a v4 RSA secret key packet (public part, then secret
	// part), a user id, a signature.
	mpi := func(n int) []byte {
		b := make([]byte, 2+n)
		b[0], b[1] = byte(8*n>>8), byte(8*n)
		rand.Read(b[2:])
		b[2] |= 0x80
		return b
	}
	pub := append([]byte{4, 1, 2, 3, 4, 1}, append(mpi(256), mpi(3)...)...)
	sec := append([]byte{0}, append(mpi(256), mpi(128)...)...)
	body := append(append([]byte{}, pub...), sec...)
	key := append([]byte{0x95, byte(len(body) >> 8), byte(len(body))}, body...)
	uid := append([]byte{0xb4, 20}, []byte("Build <ci@corp.test>")...)
	sig := append([]byte{0x89, 1, 0}, make([]byte, 256)...)
	packets := append(append(append([]byte{}, key...), uid...), sig...)
	runs := merge(pgpPublicRuns(packets))
	want := []span{{0, 3 + len(pub)}, {len(key), len(packets)}}
	if fmt.Sprint(runs) != fmt.Sprint(want) {
		t.Errorf("OpenPGP public parts %v, want %v", runs, want)
	}
}

// TestFileValuesRandom: any file content, however malformed (cut PEM
// blocks, broken JSON or XML, binary), yields searchable needles only
// (never shorter than MinValueLen), a bounded number of them, and never
// panics.
func TestFileValuesRandom(t *testing.T) {
	_, keyPEM, _ := testBundle(t)
	caPEM, _, _ := testBundle(t)
	bin := make([]byte, 600)
	rand.Read(bin)
	frags := []string{
		keyPEM, caPEM, keyPEM[:len(keyPEM)/2], caPEM[len(caPEM)/3:], "-----BEGIN X-----\n", "-----END X-----\n",
		"API_TOKEN=" + vt.Canary(t) + "\n", "a=b\n", "x: \"y\"\n", "export K='v'\n", "  - item\n", "[section]\n", "# c\n",
		`{"password": "` + vt.Canary(t) + `", "n": [1, {"auth": "dTpw"}]}`, `{"broken": `, "<a><password>p4ssw0rd-x</password><b key=\"Token\" value=\"" + vt.Canary(t) + "\"/>", "</a>",
		"machine h login l password p4ss-word\n", "h:5432:d:u:p\\:w\n", "https://u:" + vt.Canary(t) + "@h/\n",
		base64.StdEncoding.EncodeToString(bin[:200]) + "\n", string(bin), "\r\n", "\n", "é€😀", "\x00",
	}
	rng := mrand.New(mrand.NewPCG(11, 12))
	for i := 0; i < 400; i++ {
		var b strings.Builder
		for n := rng.IntN(6); n >= 0; n-- {
			b.WriteString(frags[rng.IntN(len(frags))])
		}
		data := b.String()
		for _, strict := range []bool{false, true} {
			var values []Secret
			if strict {
				values, _ = FileSecretValues("R", "r", []byte(data))
			} else {
				values, _ = FileSecrets("R", "r", []byte(data))
			}
			for _, v := range values {
				ns := WindowNeedles(v)
				if len(ns) > maxWindows*40 {
					t.Fatalf("input %d: %d needles for a value", i, len(ns))
				}
				for _, n := range ns {
					if len(n.Value) < MinValueLen {
						t.Fatalf("input %d: a %s needle of %d bytes", i, n.Encoding, len(n.Value))
					}
				}
			}
		}
	}
}

// TestFileSecretValuesSettings: the password of a connection string in an
// appsettings.json or a .env, and a PHP define's, are searched; the plain
// settings next to them are not.
func TestFileSecretValuesSettings(t *testing.T) {
	v := "hfcanary0123456789abcdef0123456789ab"
	for _, tc := range []struct{ name, data, field string }{
		{"appsettings.Production.json", "{\n  \"ConnectionStrings\": {\n    \"Default\": \"Server=db;Database=app;User Id=sa;Password=" + v + ";\"\n  }\n}\n", "ConnectionStrings.Default Password"},
		{".env", "ConnectionStrings__Default=Server=db;Database=app;Uid=sa;Pwd=" + v + ";\n", "ConnectionStrings__Default Pwd"},
		{"wp-config.php", "<?php\ndefine( 'DB_NAME', 'wordpress' );\ndefine( 'DB_PASSWORD', '" + v + "' );\n", "DB_PASSWORD"},
	} {
		got, _ := FileSecretValuesNamed(tc.name, tc.name, []byte(tc.data), nil)
		found := false
		for _, s := range got {
			if s.Field == tc.field && s.Value == v {
				found = true
			}
			if s.Field != "" && (s.Value == "db" || s.Value == "wordpress" || s.Value == "app") {
				t.Errorf("%s: plain setting %s searched", tc.name, s.Field)
			}
		}
		if !found {
			t.Errorf("%s: field %q not searched", tc.name, tc.field)
		}
	}
}

// TestQuotedValueBeforeComment: a value quoted and followed by a comment
// (a hand-kept .env, YAML, TOML) is searched as the shell or the parser
// reads it, without its quotes; a comment after a tab ends a value too.
func TestQuotedValueBeforeComment(t *testing.T) {
	for _, tc := range []struct{ name, line string }{
		{"double quotes", `API_TOKEN="%s"  # rotated quarterly, see RUNBOOK.md`},
		{"single quotes", `export NPM_TOKEN='%s' # CI token (read-only)`},
		{"YAML", `password: "%s" # TODO: move to the vault`},
		{"tab before the comment", "API_TOKEN=%s\t# prod"},
		{"hash inside the value", "API_TOKEN=%s#x # prod"},
	} {
		v := vt.Canary(t)
		want := v
		if tc.name == "hash inside the value" {
			want = v + "#x"
		}
		got, _ := FileSecretValues("dotenv", ".env", []byte("NODE_ENV=production\n"+fmt.Sprintf(tc.line, v)+"\n"))
		found := false
		for _, s := range got {
			found = found || s.Field != "" && s.Value == want
		}
		if !found {
			t.Errorf("%s: the value as the shell reads it is not searched", tc.name)
		}
	}
}

// TestNeedlesEncodeURIComponent: a password as JavaScript's
// encodeURIComponent (and jq 1.6's @uri) escapes it: ! ' ( ) * kept,
// @ and / escaped.
func TestNeedlesEncodeURIComponent(t *testing.T) {
	v := "Zq7!" + vt.Canary(t) + "@x*(/)"
	want := "Zq7!" + strings.ReplaceAll(strings.ReplaceAll(v[4:], "@", "%40"), "/", "%2F")
	for _, n := range Needles(v) {
		if string(n.Value) == want && n.Encoding == EncURL {
			return
		}
	}
	t.Errorf("no URL needle is the value as encodeURIComponent escapes it")
}

// TestNeedlesURLWriters: a value is found as each URL or form escaper
// writes it, with its escapes' hexadecimal in upper and in lower case,
// inside a longer text. Each writer's form is spelt out here by the
// replacements it makes in the value.
func TestNeedlesURLWriters(t *testing.T) {
	c := vt.Canary(t)
	v := c[:10] + "~ *!'()" + c[10:20] + "/+=@&é" + c[20:]
	// Every writer escapes these the same.
	common := []string{"'", "%27", "=", "%3D", "@", "%40", "&", "%26", "é", "%C3%A9"}
	tests := []struct {
		name string
		repl []string
	}{
		{"Go url.QueryEscape, Python quote_plus, Ruby CGI.escape", []string{" ", "+", "*", "%2A", "!", "%21", "(", "%28", ")", "%29", "/", "%2F", "+", "%2B"}},
		{"RFC 3986, PHP rawurlencode, .NET Uri.EscapeDataString", []string{" ", "%20", "*", "%2A", "!", "%21", "(", "%28", ")", "%29", "/", "%2F", "+", "%2B"}},
		{"Python urllib.parse.quote", []string{" ", "%20", "*", "%2A", "!", "%21", "(", "%28", ")", "%29", "+", "%2B"}},
		{"JavaScript encodeURIComponent", []string{"'", "'", " ", "%20", "/", "%2F", "+", "%2B"}},
		{"PHP urlencode", []string{"~", "%7E", " ", "+", "*", "%2A", "!", "%21", "(", "%28", ")", "%29", "/", "%2F", "+", "%2B"}},
		{"Java URLEncoder.encode, Ruby URI.encode_www_form_component", []string{"~", "%7E", " ", "+", "!", "%21", "(", "%28", ")", "%29", "/", "%2F", "+", "%2B"}},
		{"Ruby URI.encode_uri_component", []string{"~", "%7E", " ", "%20", "!", "%21", "(", "%28", ")", "%29", "/", "%2F", "+", "%2B"}},
		{".NET WebUtility.UrlEncode, HttpUtility.UrlEncode", []string{"~", "%7E", " ", "+", "/", "%2F", "+", "%2B"}},
	}
	ns := Needles(v)
	for _, tt := range tests {
		form := strings.NewReplacer(append(tt.repl, common...)...).Replace(v)
		for _, text := range []string{form, lowerHexEscapes(form)} {
			if got := hasNeedle(ns, "https://ci:"+text+"@host/?x=1"); got != EncURL {
				t.Errorf("%s (%s): found as %q", tt.name, map[bool]string{true: "upper-case hex", false: "lower-case hex"}[text == form], got)
			}
		}
	}
	for _, n := range Needles(c) {
		if n.Encoding == EncURL {
			t.Errorf("a value of letters and digits has a URL needle")
		}
	}
}

// TestNeedlesJSONWriters: a value is found as each JSON writer escapes it,
// inside a longer JSON text. Each writer's form is spelt out here by the
// replacements it makes in the value.
func TestNeedlesJSONWriters(t *testing.T) {
	c := vt.Canary(t)
	v := c[:10] + "+<>&'\"=/\\" + c[10:20] + "é€𝄞\u2028\n" + c[20:]
	tests := []struct {
		name string
		repl []string
	}{
		{"JavaScript JSON.stringify", []string{`"`, `\"`, `\`, `\\`, "\n", `\n`}},
		{"Go encoding/json", []string{`"`, `\"`, `\`, `\\`, "\n", `\n`, "<", `\u003c`, ">", `\u003e`, "&", `\u0026`, "\u2028", `\u2028`}},
		{"Python json.dumps", []string{`"`, `\"`, `\`, `\\`, "\n", `\n`, "é", `\u00e9`, "€", `\u20ac`, "𝄞", `\ud834\udd1e`, "\u2028", `\u2028`}},
		{"PHP json_encode", []string{`"`, `\"`, `\`, `\\`, "\n", `\n`, "/", `\/`, "é", `\u00e9`, "€", `\u20ac`, "𝄞", `\ud834\udd1e`, "\u2028", `\u2028`}},
		{".NET System.Text.Json", []string{`"`, `\u0022`, `\`, `\\`, "\n", `\n`, "+", `\u002B`, "<", `\u003C`, ">", `\u003E`, "&", `\u0026`, "'", `\u0027`, "é", `\u00E9`, "€", `\u20AC`, "𝄞", `\uD834\uDD1E`, "\u2028", `\u2028`}},
		{".NET System.Text.Json, UnicodeRanges.All", []string{`"`, `\u0022`, `\`, `\\`, "\n", `\n`, "+", `\u002B`, "<", `\u003C`, ">", `\u003E`, "&", `\u0026`, "'", `\u0027`, "𝄞", `\uD834\uDD1E`, "\u2028", `\u2028`}},
		{"Gson", []string{`"`, `\"`, `\`, `\\`, "\n", `\n`, "<", `\u003c`, ">", `\u003e`, "&", `\u0026`, "'", `\u0027`, "=", `\u003d`, "\u2028", `\u2028`}},
	}
	ns := Needles(v)
	for _, tt := range tests {
		form := strings.NewReplacer(tt.repl...).Replace(v)
		if got := hasNeedle(ns, `{"password": "`+form+`", "user": "app"}`); got != EncJSON {
			t.Errorf("%s: found as %q", tt.name, got)
		}
	}
	for _, n := range Needles(c) {
		if n.Encoding == EncJSON {
			t.Errorf("a value of letters and digits has a JSON needle")
		}
	}
}

// TestBase64Field: a field holding a file as base64 (a .env's GCP_SA_KEY
// holding a service account's JSON) is searched decoded too, and so is
// the private key inside what it decodes to.
func TestBase64Field(t *testing.T) {
	_, keyPEM, _ := testBundle(t)
	sa := testServiceAccount(keyPEM, "0123456789abcdef0123456789abcdef01234567")
	body := "NEXT_PUBLIC_SITE=https://acme.example\nGCP_SA_KEY=" + base64.StdEncoding.EncodeToString([]byte(sa)) + "\n"
	got, _ := FileSecretValues("dotenv", ".env", []byte(body))
	var whole, key bool
	for _, s := range got {
		whole = whole || s.Value == strings.TrimSpace(sa)
		key = key || s.Value == pemBody(keyPEM)
	}
	if !whole || !key {
		t.Errorf("decoded: the whole searched %v, the key's body %v", whole, key)
	}
	// A token made of base64 characters decodes to no text: only itself.
	tok := vt.Canary(t)
	got, _ = FileSecretValues("dotenv", ".env", []byte("API_TOKEN="+tok+"\n"))
	for _, s := range got {
		if strings.Contains(s.Field, DecodedField) {
			t.Errorf("a token is searched decoded: field %s", s.Field)
		}
	}
}
