package verify

import (
	"encoding/base64"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	vt "github.com/hushfile/hushfile/verify/verifytest"
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
		t.Logf("no bash: printf %%q output not compared")
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
			if bash == "" {
				return
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
