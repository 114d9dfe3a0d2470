package checker

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hushbuild/hushbuild/internal/nest"
	"github.com/hushbuild/hushbuild/internal/nest/nesttest"
)

var (
	p12KeyOnce sync.Once
	p12Key     *rsa.PrivateKey
	p12Cert    *x509.Certificate
	p12KeyErr  error
)

// keystore is a keystore of one fresh key (per test binary) under
// password, written by enc.
func keystore(t testing.TB, enc, password string) nesttest.Keystore {
	t.Helper()
	p12KeyOnce.Do(func() { p12Key, p12Cert, p12KeyErr = nesttest.NewKey() })
	if p12KeyErr != nil {
		t.Fatal(p12KeyErr)
	}
	ks, err := nesttest.PKCS12(p12Key, p12Cert, enc, password)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// jksOf is a Java KeyStore of the same key under password.
func jksOf(t testing.TB, password string) nesttest.Keystore {
	t.Helper()
	keystore(t, "modern", "")
	ks, err := nesttest.JKS(p12Key, p12Cert, password)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// TestScanTreeKeystores: a TLS key (a secret file) packed into a PKCS #12
// keystore or a JKS under a conventional password is found in the keystore's
// decrypted contents, whatever the encoding, in a file of its own or in
// an archive; under another password the keystore is searched as bytes
// only, without a note.
func TestScanTreeKeystores(t *testing.T) {
	type tcase struct {
		name  string
		ks    nesttest.Keystore
		build func(t *testing.T, dir string, p12 []byte)
		want  string // the path of the content findings
		notes []string
	}
	plain := func(t *testing.T, dir string, p12 []byte) { writeBytes(t, dir, "app/keystore.p12", p12) }
	var tests []tcase
	for _, enc := range nesttest.PKCS12Encoders {
		for _, pw := range nest.KeystorePasswords {
			tests = append(tests, tcase{name: enc + "/" + pw, ks: keystore(t, enc, pw), build: plain, want: "/app/keystore.p12" + nest.KeystoreSuffix(nest.PKCS12Kind, pw)})
		}
		tests = append(tests, tcase{name: enc + "/another password", ks: keystore(t, enc, "Xq7-not-a-default"), build: plain})
	}
	for _, pw := range []string{"changeit", ""} {
		tests = append(tests, tcase{name: "JKS/" + pw, ks: jksOf(t, pw), build: func(t *testing.T, dir string, p12 []byte) { writeBytes(t, dir, "app/keystore.jks", p12) },
			want: "/app/keystore.jks" + nest.KeystoreSuffix(nest.JKSKind, pw)})
	}
	tests = append(tests,
		tcase{name: "JKS/another password", ks: jksOf(t, "Xq7-not-a-default"), build: func(t *testing.T, dir string, p12 []byte) { writeBytes(t, dir, "app/keystore.jks", p12) }},
		tcase{name: "JKS in a jar", ks: jksOf(t, "changeit"),
			build: func(t *testing.T, dir string, p12 []byte) {
				writeBytes(t, dir, "app.jar", zipped(t, zipEntry{name: "BOOT-INF/classes/keystore.jks", data: string(p12)}))
			},
			want: "/app.jar:BOOT-INF/classes/keystore.jks" + nest.KeystoreSuffix(nest.JKSKind, "changeit")},
		tcase{name: "over 256 KiB (a trust store's size)", ks: keystore(t, "modern", "changeit"),
			build: func(t *testing.T, dir string, p12 []byte) {
				// Trailing bytes after the PFX are left by no tool, but
				// make a file read in pieces.
				writeBytes(t, dir, "app/keystore.p12", append(p12, make([]byte, 300<<10)...))
			},
			want: "/app/keystore.p12" + nest.KeystoreSuffix(nest.PKCS12Kind, "changeit")},
		tcase{name: "in a jar", ks: keystore(t, "legacy-des", "password"),
			build: func(t *testing.T, dir string, p12 []byte) {
				writeBytes(t, dir, "app/app.jar", zipped(t, zipEntry{name: "BOOT-INF/classes/application.properties", data: "server.ssl.key-store=classpath:keystore.p12\n"}, zipEntry{name: "BOOT-INF/classes/keystore.p12", data: string(p12)}))
			},
			want: "/app/app.jar:BOOT-INF/classes/keystore.p12" + nest.KeystoreSuffix(nest.PKCS12Kind, "password")},
		tcase{name: "in a tar.gz", ks: keystore(t, "legacy-rc2", ""),
			build: func(t *testing.T, dir string, p12 []byte) {
				writeBytes(t, dir, "certs.tgz", tarGz(t, "tls/server.pfx", string(p12)))
			},
			want: "/certs.tgz (gzip):tls/server.pfx" + nest.KeystoreSuffix(nest.PKCS12Kind, "")},
		tcase{name: "in a plain tar", ks: keystore(t, "modern", "secret"),
			build: func(t *testing.T, dir string, p12 []byte) {
				writeBytes(t, dir, "bundle.tar", tarOf(t, "tls/keystore.p12", string(p12)))
			},
			want: "/bundle.tar:tls/keystore.p12" + nest.KeystoreSuffix(nest.PKCS12Kind, "secret")},
		tcase{name: "in base64 (a Kubernetes Secret)", ks: keystore(t, "modern", "changeit"),
			build: func(t *testing.T, dir string, p12 []byte) {
				write(t, dir, "deploy/tls.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: tls\ndata:\n  keystore.p12: "+base64.StdEncoding.EncodeToString(p12)+"\n")
			},
			want: "/deploy/tls.yaml (base64)" + nest.KeystoreSuffix(nest.PKCS12Kind, "changeit")},
		tcase{name: "truncated", ks: keystore(t, "modern", "changeit"),
			build: func(t *testing.T, dir string, p12 []byte) { writeBytes(t, dir, "keystore.p12", p12[:len(p12)/2]) },
			notes: []string{"/keystore.p12: a PKCS #12 keystore that cannot be opened"}},
	)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			tt.build(t, dir, tt.ks.P12)
			pem := string(tt.ks.PEM)
			r := mustScan(t, dir, mustSecrets(t, map[string]string{"tls_key": pem}), ScanOptions{}, pem)
			var got []string
			for _, f := range r.Findings {
				if f.Secret != "tls_key" || f.Where != WhereContent {
					t.Errorf("a finding of %s in the %s of %s", f.Secret, f.Where, f.Path)
				}
				if len(got) == 0 || got[len(got)-1] != f.Path {
					got = append(got, f.Path)
				}
			}
			if want := tt.want; strings.Join(got, "\n") != want {
				t.Errorf("findings at %q, want at %q:%s", got, want, describe(r.Findings))
			}
			notes := strings.Join(r.Notes, "\n")
			for _, n := range tt.notes {
				if !strings.Contains(notes, n) {
					t.Errorf("no note %q in:\n%s", n, notes)
				}
			}
			// (The key's own notes, on its fields, are not the scan's.)
			if len(tt.notes) == 0 && (strings.Contains(notes, "raw bytes") || strings.Contains(notes, "PKCS #12")) {
				t.Errorf("notes: %q", r.Notes)
			}
		})
	}
}

// TestScanTreeKeystoreSecret: a secret that is itself a keystore is
// searched for the keys and secrets inside it, however the build re-packs
// them: a JKS or a new PKCS #12 under a conventional password, the key
// extracted to a PEM file (openssl pkcs12 -nodes). A keystore secret none
// of the conventional passwords opens is opened with another secret of
// the build as its password, or else searched as bytes only, with a note.
// An Elasticsearch keystore in a layer is opened with the empty password
// and its settings searched.
func TestScanTreeKeystoreSecret(t *testing.T) {
	const unknown = "Xq7-not-a-default"
	ks := keystore(t, "modern", "changeit")
	pkcs1PEM := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: ks.PKCS1}))
	// What openssl pkcs12 -nodes writes: bag attributes, then the key.
	nodes := "Bag Attributes\n    friendlyName: app\n    localKeyID: 01 02 03 04\nKey Attributes: <No Attributes>\n" + string(ks.PEM)
	pass := canary(t)
	esKS, err := nesttest.ESKeystore(5, "", "keystore.seed", "abcdefghijklmnopqrst", "bootstrap.password", pass)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		secrets map[string]string
		files   map[string]string
		want    string // the path of the content findings; "": none
		field   string // a field of theirs
		notes   []string
	}{
		{name: "re-packed as JKS", secrets: map[string]string{"keystore": string(ks.P12)},
			files: map[string]string{"app/keystore.jks": string(jksOf(t, "changeit").P12)},
			want:  "/app/keystore.jks" + nest.KeystoreSuffix(nest.JKSKind, "changeit"), field: "(PKCS #12, password changeit) (PRIVATE KEY) private part"},
		{name: "re-packed as PKCS #12 under the empty password", secrets: map[string]string{"keystore": string(ks.P12)},
			files: map[string]string{"app/server.pfx": string(keystore(t, "legacy-rc2", "").P12)},
			want:  "/app/server.pfx" + nest.KeystoreSuffix(nest.PKCS12Kind, "")},
		{name: "key extracted by openssl pkcs12 -nodes", secrets: map[string]string{"keystore": string(ks.P12)},
			files: map[string]string{"app/key.pem": nodes}, want: "/app/key.pem", field: "(PKCS #12, password changeit) (PRIVATE KEY)"},
		{name: "key extracted as PKCS #1", secrets: map[string]string{"keystore": string(ks.P12)},
			files: map[string]string{"app/key.pem": pkcs1PEM}, want: "/app/key.pem"},
		{name: "JKS secret, key extracted", secrets: map[string]string{"keystore": string(jksOf(t, "").P12)},
			files: map[string]string{"app/key.pem": nodes}, want: "/app/key.pem", field: "(JKS, empty password) (PRIVATE KEY)"},
		{name: "base64 keystore secret, key extracted", secrets: map[string]string{"keystore": base64.StdEncoding.EncodeToString(ks.P12)},
			files: map[string]string{"app/key.pem": nodes}, want: "/app/key.pem", field: "(base64-decoded) (PKCS #12, password changeit) (PRIVATE KEY)"},
		{name: "under another secret as its password", secrets: map[string]string{"keystore": string(keystore(t, "modern", unknown).P12), "keystore_password": unknown + "\n"},
			files: map[string]string{"app/key.pem": nodes}, want: "/app/key.pem", field: "(PKCS #12, password of secret keystore_password) (PRIVATE KEY)"},
		{name: "JKS under another secret as its password", secrets: map[string]string{"keystore": string(jksOf(t, unknown).P12), "app.env": "DB_HOST=db\nKEYSTORE_PASSWORD=" + unknown + "\n"},
			files: map[string]string{"app/key.pem": nodes}, want: "/app/key.pem", field: "(JKS, password of secret app.env field KEYSTORE_PASSWORD) (PRIVATE KEY)"},
		{name: "under an unknown password", secrets: map[string]string{"keystore": string(keystore(t, "modern", unknown).P12), "keystore_password": "not-the-password"},
			files: map[string]string{"app/key.pem": nodes},
			notes: []string{"secret keystore: a PKCS #12 keystore that none of the conventional passwords, nor the value of another secret of the build, opens: the keys in it are not searched, only its bytes"}},
		{name: "under an unknown password, alone", secrets: map[string]string{"keystore": string(jksOf(t, unknown).P12)},
			files: map[string]string{"app/key.pem": nodes},
			notes: []string{"secret keystore: a JKS keystore that none of the conventional passwords opens: the keys in it are not searched, only its bytes"}},
		{name: "truncated keystore secret", secrets: map[string]string{"keystore": string(ks.P12[:len(ks.P12)/2])},
			files: map[string]string{"app/key.pem": nodes},
			notes: []string{"secret keystore: a PKCS #12 keystore that cannot be opened"}},
		{name: "garbage after a keystore's head", secrets: map[string]string{"keystore": string(ks.P12[:24]) + strings.Repeat("\x00garbage", 40)},
			files: map[string]string{"app/key.pem": nodes},
			notes: []string{"secret keystore: a PKCS #12 keystore that cannot be opened"}},
		{name: "Elasticsearch keystore", secrets: map[string]string{"bootstrap_password": pass},
			files: map[string]string{"usr/share/elasticsearch/config/elasticsearch.keystore": string(esKS)},
			want:  "/usr/share/elasticsearch/config/elasticsearch.keystore" + nest.KeystoreSuffix(nest.ESKind, "")},
		{name: "Elasticsearch keystore secret, re-packed", secrets: map[string]string{"es_keystore": string(esKS)},
			files: map[string]string{"etc/es.env": "ELASTIC_PASSWORD=" + pass + "\n"}, want: "/etc/es.env", field: "(Elasticsearch, empty password) secret 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			write(t, dir, "etc/hostname", "box\n")
			for name, data := range tt.files {
				write(t, dir, name, data)
			}
			var values []string
			for _, v := range tt.secrets {
				values = append(values, v)
			}
			values = append(values, string(ks.PEM), unknown, pass)
			r := mustScan(t, dir, mustSecrets(t, tt.secrets), ScanOptions{}, values...)
			var got []string
			fields := map[string]bool{}
			for _, f := range r.Findings {
				if f.Where != WhereContent {
					t.Errorf("a finding in the %s of %s", f.Where, f.Path)
				}
				fields[f.Field] = true
				if len(got) == 0 || got[len(got)-1] != f.Path {
					got = append(got, f.Path)
				}
			}
			if strings.Join(got, "\n") != tt.want {
				t.Errorf("findings at %q, want at %q:%s", got, tt.want, describe(r.Findings))
			}
			if tt.field != "" && !fields[tt.field] {
				t.Errorf("no finding of field %q:%s", tt.field, describe(r.Findings))
			}
			notes := strings.Join(r.Notes, "\n")
			for _, n := range tt.notes {
				if !strings.Contains(notes, n) {
					t.Errorf("no note %q in:\n%s", n, notes)
				}
			}
			if len(tt.notes) == 0 && (strings.Contains(notes, "keystore that") || strings.Contains(notes, "raw bytes")) {
				t.Errorf("notes: %q", r.Notes)
			}
		})
	}
}

// TestScanTreeKeystoreSecretTools: a keystore secret that the real tools
// re-pack is found (where keytool and openssl are installed): keytool
// -importkeystore to a JKS under changeit, openssl pkcs12 -nodes to a PEM
// file, openssl pkcs12 -export to a new keystore under the empty password.
func TestScanTreeKeystoreSecretTools(t *testing.T) {
	keytool, err1 := exec.LookPath("keytool")
	openssl, err2 := exec.LookPath("openssl")
	if err1 != nil || err2 != nil || testing.Short() {
		t.Skip("needs keytool and openssl, and not -short")
	}
	ks := keystore(t, "modern", "changeit")
	tmp := t.TempDir()
	src := filepath.Join(tmp, "keystore.p12")
	writeBytes(t, tmp, "keystore.p12", ks.P12)
	run := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", filepath.Base(name), args[0], err, out)
		}
	}
	tests := []struct {
		name string
		make func(dir string) string // makes the file and returns its path
		want string
	}{
		{"keytool -importkeystore to JKS", func(dir string) string {
			p := filepath.Join(dir, "app", "keystore.jks")
			os.MkdirAll(filepath.Dir(p), 0o755)
			run(keytool, "-importkeystore", "-srckeystore", src, "-srcstoretype", "PKCS12", "-srcstorepass", "changeit",
				"-destkeystore", p, "-deststoretype", "JKS", "-deststorepass", "changeit", "-noprompt")
			return p
		}, "/app/keystore.jks" + nest.KeystoreSuffix(nest.JKSKind, "changeit")},
		{"openssl pkcs12 -nodes", func(dir string) string {
			p := filepath.Join(dir, "app", "server.pem")
			os.MkdirAll(filepath.Dir(p), 0o755)
			run(openssl, "pkcs12", "-in", src, "-passin", "pass:changeit", "-nodes", "-out", p)
			return p
		}, "/app/server.pem"},
		{"openssl pkcs12 -export under the empty password", func(dir string) string {
			pemFile := filepath.Join(tmp, "all.pem")
			run(openssl, "pkcs12", "-in", src, "-passin", "pass:changeit", "-nodes", "-out", pemFile)
			p := filepath.Join(dir, "app", "server.pfx")
			os.MkdirAll(filepath.Dir(p), 0o755)
			run(openssl, "pkcs12", "-export", "-in", pemFile, "-out", p, "-passout", "pass:")
			return p
		}, "/app/server.pfx" + nest.KeystoreSuffix(nest.PKCS12Kind, "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := tt.make(dir)
			if data, err := os.ReadFile(p); err != nil || strings.Contains(string(data), string(ks.P12)) {
				t.Fatalf("the re-packed file: %v, or it holds the secret's bytes: the test proves nothing", err)
			}
			r := mustScan(t, dir, mustSecrets(t, map[string]string{"keystore": string(ks.P12)}), ScanOptions{}, string(ks.PEM))
			var got []string
			for _, f := range r.Findings {
				if f.Where == WhereContent && (len(got) == 0 || got[len(got)-1] != f.Path) {
					got = append(got, f.Path)
				}
			}
			if strings.Join(got, "\n") != tt.want {
				t.Errorf("findings at %q, want at %q:%s", got, tt.want, describe(r.Findings))
			}
		})
	}
}

// TestScanTreeKeystoreCiphers: keystores the real tools write with their
// other ciphers are opened (where openssl and keytool are installed): a TLS
// key packed by openssl pkcs12 -export -legacy under RC4 and PBES1 DES, a
// key imported into a JCEKS keystore by keytool, and a password stored in
// one by keytool -importpass, all under changeit.
func TestScanTreeKeystoreCiphers(t *testing.T) {
	keytool, err1 := exec.LookPath("keytool")
	openssl, err2 := exec.LookPath("openssl")
	if err1 != nil || err2 != nil || testing.Short() {
		if os.Getenv("CI") != "" && !testing.Short() {
			t.Fatalf("keytool or openssl is missing (CI's machines have both): %v %v", err1, err2)
		}
		t.Skip("needs keytool and openssl, and not -short")
	}
	ks := keystore(t, "modern", "")
	tmp := t.TempDir()
	keyFile, certFile := filepath.Join(tmp, "key.pem"), filepath.Join(tmp, "cert.pem")
	writeBytes(t, tmp, "key.pem", ks.PEM)
	writeBytes(t, tmp, "cert.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ks.Cert}))
	run := func(stdin, name string, args ...string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Stdin = strings.NewReader(stdin)
		if _, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v", filepath.Base(name), args[0], err)
		}
	}
	password := execCanary(t)
	p12 := func(dir, pbe string) string {
		p := filepath.Join(dir, "app", "keystore.p12")
		os.MkdirAll(filepath.Dir(p), 0o755)
		run("", openssl, "pkcs12", "-export", "-legacy", "-inkey", keyFile, "-in", certFile, "-name", "app",
			"-keypbe", pbe, "-certpbe", pbe, "-passout", "pass:changeit", "-out", p)
		return p
	}
	tests := []struct {
		name   string
		secret map[string]string
		make   func(dir string) string
		want   string
	}{
		{"openssl pkcs12 -export -keypbe PBE-SHA1-RC4-128", map[string]string{"tls_key": string(ks.PEM)},
			func(dir string) string { return p12(dir, "PBE-SHA1-RC4-128") },
			"/app/keystore.p12" + nest.KeystoreSuffix(nest.PKCS12Kind, "changeit")},
		{"openssl pkcs12 -export -keypbe PBE-MD5-DES", map[string]string{"tls_key": string(ks.PEM)},
			func(dir string) string { return p12(dir, "PBE-MD5-DES") },
			"/app/keystore.p12" + nest.KeystoreSuffix(nest.PKCS12Kind, "changeit")},
		{"keytool -importkeystore to JCEKS", map[string]string{"tls_key": string(ks.PEM)}, func(dir string) string {
			src := p12(t.TempDir(), "AES-256-CBC")
			p := filepath.Join(dir, "app", "keystore.jceks")
			os.MkdirAll(filepath.Dir(p), 0o755)
			run("", keytool, "-importkeystore", "-srckeystore", src, "-srcstoretype", "PKCS12", "-srcstorepass", "changeit",
				"-destkeystore", p, "-deststoretype", "JCEKS", "-deststorepass", "changeit", "-noprompt")
			return p
		}, "/app/keystore.jceks" + nest.KeystoreSuffix(nest.JCEKSKind, "changeit")},
		{"keytool -importpass of the database password to JCEKS", map[string]string{"DB_PASSWORD": password}, func(dir string) string {
			p := filepath.Join(dir, "app", "secrets.jceks")
			os.MkdirAll(filepath.Dir(p), 0o755)
			run(password+"\n"+password+"\n", keytool, "-importpass", "-storetype", "JCEKS", "-keystore", p,
				"-storepass", "changeit", "-keypass", "changeit", "-alias", "db")
			return p
		}, "/app/secrets.jceks" + nest.KeystoreSuffix(nest.JCEKSKind, "changeit")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := tt.make(dir)
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			var values []string
			for _, v := range tt.secret {
				values = append(values, v)
				if strings.Contains(string(data), v) || strings.Contains(string(data), string(ks.PKCS8)) {
					t.Fatal("the keystore holds the secret in the clear: the test proves nothing")
				}
			}
			r := mustScan(t, dir, mustSecrets(t, tt.secret), ScanOptions{}, values...)
			var got []string
			for _, f := range r.Findings {
				if f.Where == WhereContent && (len(got) == 0 || got[len(got)-1] != f.Path) {
					got = append(got, f.Path)
				}
			}
			if strings.Join(got, "\n") != tt.want {
				t.Errorf("findings at %q, want at %q:%s", got, tt.want, describe(r.Findings))
			}
		})
	}
}
