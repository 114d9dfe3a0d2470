package verify

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	vt "github.com/hushbuild/hushbuild/verify/verifytest"
)

// searched returns the needles of what FileSecretValues searches in a
// secret file called name holding body.
func searched(name, body string) []Needle {
	values, _ := FileSecretValues("S", name, []byte(body))
	var ns []Needle
	for _, v := range values {
		ns = append(ns, WindowNeedles(v)...)
	}
	return ns
}

// TestXMLForms: a value holding & < > " ' is found as XML writers escape
// it; a value without them has no XML form.
func TestXMLForms(t *testing.T) {
	c := vt.Canary(t)
	v := c[:10] + "&" + c[10:20] + "<" + c[20:30] + `"` + c[30:] + "'>"
	var goXML strings.Builder
	if err := xml.EscapeText(&goXML, []byte(v)); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, text string }{
		{"named entities", strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;").Replace(v)},
		{"& < > only (sed)", strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(v)},
		{"attribute (&quot;, ' kept)", strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(v)},
		{"encoding/xml", goXML.String()},
		{"decimal references", strings.NewReplacer("&", "&#38;", "<", "&#60;", ">", "&#62;", `"`, "&#34;", "'", "&#39;").Replace(v)},
		{"hex references", strings.NewReplacer("&", "&#x26;", "<", "&#x3C;", ">", "&#x3E;", `"`, "&#x22;", "'", "&#x27;").Replace(v)},
	}
	ns := Needles(v)
	for _, tt := range tests {
		doc := `<add key="ClearTextPassword" value="` + tt.text + `" />`
		if got := hasNeedle(ns, doc); got != EncXML {
			t.Errorf("%s: found as %q, want %q", tt.name, got, EncXML)
		}
	}
	for _, n := range Needles(c) {
		if n.Encoding == EncXML {
			t.Errorf("a value without & < > \" ' has an XML needle")
		}
	}
}

// TestTokenFormatFields: a field of a secret file whose value is in a
// known token format is searched whatever its name; plain configuration
// under such names is not.
func TestTokenFormatFields(t *testing.T) {
	stripe := "sk_live_" + vt.Canary(t)[:24]
	gh := "ghp_" + strings.Repeat("aB3d", 9)
	akia := "AKIA" + "Q3EGRIBSNWTFXPRZ"
	glpat := "glpat-" + vt.Canary(t)[:20]
	tests := []struct {
		name, body string
		search     []string
		not        []string
	}{
		{".env Stripe key", "APP_ENV=production\nSTRIPE_SK=" + stripe + "\n", []string{stripe}, []string{"production"}},
		{".env GitHub token", "DEPLOY=" + gh + "\nREGION=eu-west-1\n", []string{gh}, []string{"eu-west-1"}},
		{"YAML AWS key id", "aws:\n  id: " + akia + "\n  region: us-east-1\n", []string{akia}, []string{"us-east-1"}},
		{"JSON GitLab token", `{"ci":{"gl":"` + glpat + `","host":"gitlab.corp.example"}}`, []string{glpat}, []string{"gitlab.corp.example"}},
	}
	for _, tt := range tests {
		ns := searched("f", tt.body)
		for _, s := range tt.search {
			if hasNeedle(ns, "x "+s+" y") == "" {
				t.Errorf("%s: the token is not searched", tt.name)
			}
		}
		for _, s := range tt.not {
			if hasNeedle(ns, "x "+s+" y") != "" {
				t.Errorf("%s: %q is searched", tt.name, s)
			}
		}
	}
}

// TestDecodedBase64: a secret kept as base64 is searched decoded too, in
// any of base64's forms; tokens that only look like base64 are not
// decoded.
func TestDecodedBase64(t *testing.T) {
	id := vt.Canary(t)
	_, keyPEM, _ := testBundle(t)
	sa := testServiceAccount(keyPEM, id)
	small := `{"type":"service_account","private_key_id":"` + id + `"}`
	tests := []struct {
		name, value string
		found       []string // texts in which a needle must be found
		decoded     bool
	}{
		{"standard, one line", base64.StdEncoding.EncodeToString([]byte(small)), []string{small}, true},
		{"URL alphabet, unpadded", base64.RawURLEncoding.EncodeToString([]byte(small)), []string{small}, true},
		{"wrapped at 76", wrap(base64.StdEncoding.EncodeToString([]byte(sa)), 76), []string{sa, keyPEM}, true},
		{"hex token", vt.Canary(t) + vt.Canary(t), nil, false},
		{"alphanumeric token", "Zx9" + strings.Repeat("Qw8Er7Ty", 5), nil, false},
	}
	for _, tt := range tests {
		values, _ := FileSecretValues("S", "S", []byte(tt.value))
		var ns []Needle
		decoded := false
		for _, v := range values {
			ns = append(ns, WindowNeedles(v)...)
			decoded = decoded || strings.HasPrefix(v.Field, DecodedField)
		}
		if decoded != tt.decoded {
			t.Errorf("%s: decoded %v, want %v", tt.name, decoded, tt.decoded)
		}
		for i, text := range tt.found {
			if hasNeedle(ns, "\n"+text+"\n") == "" {
				t.Errorf("%s: decoded text %d not found", tt.name, i)
			}
		}
	}
	// A certificate kept as base64 is public.
	caPEM, _, _ := testBundle(t)
	values, _ := FileSecretValues("S", "S", []byte(base64.StdEncoding.EncodeToString([]byte(caPEM))))
	for _, v := range values {
		if strings.HasPrefix(v.Field, DecodedField) {
			t.Errorf("the decoded certificate is searched (field %s)", v.Field)
		}
	}
}

// TestPEMBodyLines: a private key whose lines are indented (a YAML block
// scalar) is found by its lines.
func TestPEMBodyLines(t *testing.T) {
	_, keyPEM, _ := testBundle(t)
	ns := searched("tls.key", keyPEM)
	var yaml strings.Builder
	yaml.WriteString("server:\n  tls_key: |\n")
	for _, line := range strings.Split(strings.TrimSpace(keyPEM), "\n") {
		yaml.WriteString("    " + line + "\n")
	}
	if hasNeedle(ns, yaml.String()) == "" {
		t.Error("the indented key is not found")
	}
	// One line alone is enough.
	lines := strings.Split(keyPEM, "\n")
	found := 0
	for _, l := range lines[1 : len(lines)-2] {
		if hasNeedle(ns, "  "+l+"  ") != "" {
			found++
		}
	}
	if found < (len(lines)-3)/2 {
		t.Errorf("only %d of %d body lines are found alone", found, len(lines)-3)
	}
}

// FuzzDecodedBase64: decodedBase64 never panics, decodes only base64 text,
// and what it returns is text or DER.
func FuzzDecodedBase64(f *testing.F) {
	f.Add("eyJ0eXBlIjoic2VydmljZV9hY2NvdW50In0=")
	f.Add("MIIBCgKCAQEA")
	f.Add("0123456789abcdef0123")
	f.Add("a-b_c+d/e")
	f.Fuzz(func(t *testing.T, s string) {
		dec, ok := decodedBase64(s)
		if !ok {
			return
		}
		if len(dec) < MinValueLen {
			t.Fatalf("decoded %d bytes, fewer than %d", len(dec), MinValueLen)
		}
		if len(strings.Join(strings.Fields(s), "")) < 16 {
			t.Fatal("decoded a text of fewer than 16 base64 characters")
		}
	})
}

// TestWriterForms: a value is found as other writers escape it: Python's
// json.dumps (every character past ASCII as \\u, a surrogate pair past
// U+FFFF), and SQL, YAML and CSV quoting (the quote doubled); a value
// without those characters has no such form.
func TestWriterForms(t *testing.T) {
	c := vt.Canary(t)
	v := c[:10] + "\u00e9" + c[10:20] + "'" + c[20:30] + "\U0001F511" + c[30:31] + `"` + c[31:]
	tests := []struct{ name, text, enc string }{
		{"json.dumps", `{"password": "` + c[:10] + `\u00e9` + c[10:20] + "'" + c[20:30] + `\ud83d\udd11` + c[30:31] + `\"` + c[31:] + `"}`, EncJSON},
		{"SQL string", "ALTER USER app PASSWORD '" + strings.ReplaceAll(v, "'", "''") + "';", EncQuoted},
		{"CSV field", `app,"` + strings.ReplaceAll(v, `"`, `""`) + `"`, EncQuoted},
	}
	ns := Needles(v)
	for _, tt := range tests {
		if got := hasNeedle(ns, tt.text); got != tt.enc {
			t.Errorf("%s: found as %q, want %q", tt.name, got, tt.enc)
		}
	}
	for _, n := range Needles(c) {
		if n.Encoding == EncQuoted || n.Encoding == EncJSON {
			t.Errorf("an ASCII value without quotes has a %s needle", n.Encoding)
		}
	}
}

// TestPrivatePart: a private key secret is found in another format than
// its own (its DER, PKCS #1 turned PKCS #8) by its secret number; its
// public key is not a match.
func TestPrivatePart(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	pkcs8DER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8 := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8DER}))
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pub := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}))
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edDER, err := x509.MarshalPKCS8PrivateKey(edKey)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(edKey, "")
	if err != nil {
		t.Fatal(err)
	}
	openssh := string(pem.EncodeToMemory(block))
	tests := []struct {
		name, secret, text string
		found              bool
	}{
		{"PKCS #1 as DER", pkcs1, string(x509.MarshalPKCS1PrivateKey(key)), true},
		{"PKCS #1 as PKCS #8", pkcs1, pkcs8, true},
		{"PKCS #8 as PKCS #1", pkcs8, pkcs1, true},
		{"OpenSSH ed25519 as PKCS #8 DER", openssh, string(edDER), true},
		{"the public key", pkcs1, pub + string(pubDER), false},
	}
	for _, tt := range tests {
		// A PEM text's line ends removed, as the build's check joins
		// wrapped lines.
		text := tt.text
		if strings.HasPrefix(text, "-----BEGIN ") {
			text = strings.ReplaceAll(text, "\n", "")
		}
		if got := hasNeedle(searched("key.pem", tt.secret), text) != ""; got != tt.found {
			t.Errorf("%s: found %v, want %v", tt.name, got, tt.found)
		}
	}
}

// TestPropertiesForms: a value is found as java.util.Properties.store
// writes it (= : # ! \ behind a backslash, characters past ASCII as
// \uXXXX or kept); a value of printable ASCII without those characters
// has no such form.
func TestPropertiesForms(t *testing.T) {
	c := vt.Canary(t)
	tests := []struct{ name, value, text string }{
		{"base64 padding", c + "==", "jwt.secret=" + c + `\=\=`},
		{"colon and bang", c[:20] + ":" + c[20:] + "!", "db.password=" + c[:20] + `\:` + c[20:] + `\!`},
		{"hash and backslash", c[:10] + `#\` + c[10:], "key=" + c[:10] + `\#\\` + c[10:]},
		{"tab, newline and colon", c[:10] + "\t" + c[10:20] + "\n:" + c[20:], "k=" + c[:10] + `\t` + c[10:20] + `\n\:` + c[20:]},
		{"store(OutputStream): \\u escapes", c[:10] + "=\u00e9" + c[10:] + "\U0001F511", "k=" + c[:10] + `\=\u00E9` + c[10:] + `\uD83D\uDD11`},
		{"store(Writer): kept", c[:10] + "=\u00e9" + c[10:], "k=" + c[:10] + `\=` + "\u00e9" + c[10:]},
	}
	for _, tt := range tests {
		if got := hasNeedle(Needles(tt.value), "#Generated\n"+tt.text+"\n"); got != EncProperties {
			t.Errorf("%s: found as %q, want %q", tt.name, got, EncProperties)
		}
	}
	for _, n := range Needles(c + "-._~+/") {
		if n.Encoding == EncProperties {
			t.Errorf("a value of printable ASCII without = : # ! \\ has a %s needle", n.Encoding)
		}
	}
}

// TestOtherContainer: an RSA key's PKCS #1 block is given as the PKCS #8
// block OpenSSL writes for it, and back; other blocks have no other
// container.
func TestOtherContainer(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	p1 := x509.MarshalPKCS1PrivateKey(key)
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ed8, err := x509.MarshalPKCS8PrivateKey(edKey)
	if err != nil {
		t.Fatal(err)
	}
	block := func(typ string, der []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
	}
	tests := []struct {
		name, in string
		want     string // "" when there is none
	}{
		{"PKCS #1 as PKCS #8", block("RSA PRIVATE KEY", p1), block("PRIVATE KEY", p8)},
		{"PKCS #8 as PKCS #1", block("PRIVATE KEY", p8), block("RSA PRIVATE KEY", p1)},
		{"an Ed25519 PKCS #8 key", block("PRIVATE KEY", ed8), ""},
		{"a PKCS #1 header on other DER", block("RSA PRIVATE KEY", ed8), ""},
		{"a PKCS #8 header on PKCS #1 DER", block("PRIVATE KEY", p1), ""},
		{"an encrypted key", string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00112233445566778899AABBCCDDEEFF"}, Bytes: p1})), ""},
	}
	for _, tt := range tests {
		bs := pemBlocks(tt.in)
		if len(bs) != 1 {
			t.Fatalf("%s: %d blocks", tt.name, len(bs))
		}
		got, ok := otherContainer(bs[0])
		switch {
		case tt.want == "" && ok:
			t.Errorf("%s: given as a %s block", tt.name, got.typ)
		case tt.want != "" && !ok:
			t.Errorf("%s: none", tt.name)
		case tt.want != "" && got.armoured != strings.TrimSpace(tt.want):
			t.Errorf("%s: not the block OpenSSL writes", tt.name)
		}
	}
}

// FuzzOtherContainer: otherContainer never panics, and the other
// container's other container is the block itself.
func FuzzOtherContainer(f *testing.F) {
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(x509.MarshalPKCS1PrivateKey(key), true)
	if p8, err := x509.MarshalPKCS8PrivateKey(key); err == nil {
		f.Add(p8, false)
	}
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x00}, false)
	f.Fuzz(func(t *testing.T, der []byte, pkcs1 bool) {
		typ := "PRIVATE KEY"
		if pkcs1 {
			typ = "RSA PRIVATE KEY"
		}
		bs := pemBlocks(string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})))
		if len(bs) != 1 {
			return
		}
		c, ok := otherContainer(bs[0])
		if !ok {
			return
		}
		back, ok := otherContainer(c)
		if !ok || back.body != bs[0].body {
			t.Fatalf("%s: the other container's other container is not the block", typ)
		}
	})
}
