package keyfile

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// keys are fresh private keys in the forms tools write them.
func keys(t *testing.T) map[string]string {
	t.Helper()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, _ := x509.MarshalECPrivateKey(ecKey)
	edPKCS8, _ := x509.MarshalPKCS8PrivateKey(edKey)
	openssh, err := ssh.MarshalPrivateKey(edKey, "deploy@ci")
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}))
	pkcs8 := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: edPKCS8}))
	sa, _ := json.Marshal(map[string]string{"type": "service_account", "private_key": pkcs8, "client_email": "a@b.iam.gserviceaccount.com"})
	goLiteral := "package x\n\nconst key = \"" + strings.ReplaceAll(strings.TrimSpace(pkcs1), "\n", `\n`) + "\"\n"
	var concat strings.Builder
	concat.WriteString("var key = \"\" +\n")
	for _, l := range strings.Split(strings.TrimSpace(pkcs1), "\n") {
		concat.WriteString("\t\"" + l + "\\n\" +\n")
	}
	concat.WriteString("\t\"\"\n")
	body := strings.Join(strings.Split(strings.TrimSpace(pkcs1), "\n")[1:], "")
	body = strings.TrimSuffix(body, "-----END RSA PRIVATE KEY-----")
	return map[string]string{
		"PKCS #1 RSA":                 pkcs1,
		"SEC 1 EC":                    string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER})),
		"PKCS #8 Ed25519":             pkcs8,
		"encrypted PEM with headers":  string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,0123456789ABCDEF0123456789ABCDEF"}, Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)})),
		"OpenSSH":                     string(pem.EncodeToMemory(openssh)),
		"CRLF line ends":              strings.ReplaceAll(pkcs8, "\n", "\r\n"),
		"after other text":            "# deploy key for github.com/acme/lib\n\n" + pkcs8,
		"service account JSON":        string(sa),
		"Go string with \\n escapes":  goLiteral,
		"concatenated string literal": concat.String(),
		"env file, one line":          "APP=1\nJWT_KEY=\"-----BEGIN RSA PRIVATE KEY-----" + body + "-----END RSA PRIVATE KEY-----\"\n",
		"YAML block scalar":           "tls:\n  key: |\n    " + strings.ReplaceAll(strings.TrimSpace(pkcs8), "\n", "\n    ") + "\n",
		"PuTTY":                       "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: deploy\nPublic-Lines: 2\nAAAAC3NzaC1lZDI1NTE5AAAAIDrT\nx\nPrivate-Lines: 1\nAAAAIGb7\nPrivate-MAC: 00\n",
		"OpenPGP secret key":          "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlFgEZ" + strings.Repeat("abcdEFGH0123", 8) + "\n=abcd\n-----END PGP PRIVATE KEY BLOCK-----\n",
		"ssh.com SSH2":                "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nComment: \"rsa-key\"\nP2/56wAAA" + strings.Repeat("abcdEFGH0123", 8) + "\n---- END SSH2 ENCRYPTED PRIVATE KEY ----\n",
	}
}

// public are files that hold no private key: certificates, public keys,
// code that handles keys, placeholders.
func public(t *testing.T) map[string]string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	sshPub, _ := ssh.NewPublicKey(&key.PublicKey)
	return map[string]string{
		"certificate":              string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		"public key":               string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})),
		"authorized_keys line":     string(ssh.MarshalAuthorizedKey(sshPub)),
		"Go code testing a prefix": "if strings.HasPrefix(s, \"-----BEGIN RSA PRIVATE KEY-----\") {\n\treturn errors.New(\"PKCS #1 keys are not supported, convert with openssl pkcs8\")\n}\n",
		"code writing the markers": "const (\n\theader = \"-----BEGIN PRIVATE KEY-----\\n\"\n\tfooter = \"-----END PRIVATE KEY-----\\n\"\n)\n",
		"placeholder with dots":    "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n",
		"placeholder with a word":  "PRIVATE_KEY=\"-----BEGIN PRIVATE KEY-----\\nYOUR_KEY_HERE\\n-----END PRIVATE KEY-----\"\n",
		"docs about a key":         "Paste your key (it starts with -----BEGIN OPENSSH PRIVATE KEY-----) into the secret.\n",
		"the words alone":          "the PRIVATE KEY of the BEGIN block\n",
		"PuTTY header in a doc":    "Files start with PuTTY-User-Key-File-3 and hold the public part.\n",
		"marker without dashes":    "BEGIN RSA PRIVATE KEY\n" + strings.Repeat("QUJD", 40) + "\n",
		"empty":                    "",
	}
}

func TestHolds(t *testing.T) {
	for name, v := range keys(t) {
		if !Holds([]byte(v)) {
			t.Errorf("%s: a private key is not found", name)
		}
		if ok, err := ReaderHolds(strings.NewReader(v)); err != nil || !ok {
			t.Errorf("%s: ReaderHolds = %v, %v; want true", name, ok, err)
		}
	}
	for name, v := range public(t) {
		if Holds([]byte(v)) {
			t.Errorf("%s: found a private key where there is none", name)
		}
		if ok, err := ReaderHolds(strings.NewReader(v)); err != nil || ok {
			t.Errorf("%s: ReaderHolds = %v, %v; want false", name, ok, err)
		}
	}
}

// TestReaderHoldsAcrossChunks puts a key at every place around the end of
// the first chunk: the one after it must find it.
func TestReaderHoldsAcrossChunks(t *testing.T) {
	key := keys(t)["PKCS #1 RSA"]
	for _, at := range []int{0, chunk - window - 1, chunk - len(key), chunk - 40, chunk - 1, chunk, chunk + 1, 3*chunk - 10} {
		data := append(bytes.Repeat([]byte("x"), at), key...)
		data = append(data, bytes.Repeat([]byte("y\n"), 1000)...)
		if ok, err := ReaderHolds(bytes.NewReader(data)); err != nil || !ok {
			t.Errorf("key at %d: ReaderHolds = %v, %v; want true", at, ok, err)
		}
	}
	if ok, err := ReaderHolds(bytes.NewReader(bytes.Repeat([]byte("-----BEGIN CERTIFICATE-----\n"), 2*chunk/28))); err != nil || ok {
		t.Errorf("certificates only: ReaderHolds = %v, %v; want false", ok, err)
	}
}

// TestWalk lists the files that hold a key, by their paths relative to the
// root, and follows no symbolic link.
func TestWalk(t *testing.T) {
	dir := t.TempDir()
	k := keys(t)
	p := public(t)
	files := map[string]string{
		"deploy/github_deploy": k["OpenSSH"],
		"config/sa.json":       k["service account JSON"],
		"certs/ca":             p["certificate"],
		"docs/keys.md":         p["docs about a key"],
		"main.go":              "package main\n",
		"docker/npmrc":         "//registry.npmjs.org/:_authToken=npm_Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z\n",
	}
	for name, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(dir, "deploy", "github_deploy"), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	got, err := Walk(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"config/sa.json", "deploy/github_deploy", "docker/npmrc"}; !slices.Equal(got, want) {
		t.Errorf("Walk = %v, want %v", got, want)
	}
	// WalkKinds says which are a build tool's configuration, not a key.
	all, tools, err := WalkKinds(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(all, got) || !slices.Equal(tools, []string{"docker/npmrc"}) {
		t.Errorf("WalkKinds = %v, %v; want %v, [docker/npmrc]", all, tools, got)
	}
}

func TestHoldsBase64(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	wrap := func(s string, n int) string {
		var b strings.Builder
		for len(s) > n {
			b.WriteString(s[:n] + "\n")
			s = s[n:]
		}
		return b.String() + s + "\n"
	}
	one := base64.StdEncoding.EncodeToString(pemKey)
	for name, tc := range map[string]struct {
		data string
		want bool
	}{
		"one line":            {one + "\n", true},
		"wrapped at 76":       {wrap(one, 76), true},
		"in a YAML field":     {"data:\n  id_rsa: " + one + "\n", true},
		"after other bytes":   {base64.StdEncoding.EncodeToString(append([]byte("x"), pemKey...)), true},
		"after two bytes":     {base64.StdEncoding.EncodeToString(append([]byte("xy"), pemKey...)), true},
		"a certificate":       {base64.StdEncoding.EncodeToString([]byte("-----BEGIN CERTIFICATE-----\n" + strings.Repeat("A", 128) + "\n-----END CERTIFICATE-----\n")), false},
		"a marker and no key": {base64.StdEncoding.EncodeToString([]byte("-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n")), false},
	} {
		if got := Holds([]byte(tc.data)); got != tc.want {
			t.Errorf("%s: Holds = %v, want %v", name, got, tc.want)
		}
	}
}
