package nest

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/hushbuild/hushbuild/internal/canary"
)

// tool finds a program the test runs, skipping without it (failing on CI,
// whose machines have it).
func tool(t *testing.T, name string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs " + name + "; not with -short")
	}
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing (CI's machines have it): %v", name, err)
		}
		t.Skip(name + " is missing")
	}
	return p
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), args[0], err, out)
	}
}

// TestOpenPKCS12Ciphers: keystores openssl writes with each cipher it
// offers for keys and certificates (-keypbe, -certpbe) are opened: the
// PKCS #12 PBEs (RC4, 2-key 3DES, RC2), PBES1 (DES, RC2 with MD5 or SHA-1)
// and PBES2 with DES, RC2 and AES.
func TestOpenPKCS12Ciphers(t *testing.T) {
	openssl := tool(t, "openssl")
	dir := t.TempDir()
	key, cert := filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem")
	run(t, openssl, "req", "-x509", "-newkey", "rsa:1024", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=app.example.com")
	p8 := pemDER(t, key)
	for _, alg := range []string{
		"PBE-SHA1-RC4-128", "PBE-SHA1-RC4-40", "PBE-SHA1-2DES", "PBE-SHA1-RC2-128",
		"PBE-MD5-DES", "PBE-SHA1-DES", "PBE-MD5-RC2-64", "PBE-SHA1-RC2-64",
		"des-cbc", "rc2-cbc", "rc2-40-cbc", "rc2-64-cbc", "aes-192-cbc",
	} {
		for _, pw := range []string{"", "changeit"} {
			t.Run(alg+"/"+pw, func(t *testing.T) {
				p12 := filepath.Join(t.TempDir(), "ks.p12")
				run(t, openssl, "pkcs12", "-export", "-legacy", "-inkey", key, "-in", cert, "-keypbe", alg, "-certpbe", alg, "-passout", "pass:"+pw, "-out", p12)
				data, err := os.ReadFile(p12)
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Contains(data, p8) {
					t.Fatal("the keystore holds the key in the clear: the test proves nothing")
				}
				parts, unopened, err := OpenKeystore(KeystoreKind(data), data)
				if err != nil || unopened != 0 || len(parts) != 1 || parts[0].Password != pw {
					t.Fatalf("OpenKeystore: %d parts, %d unopened, %v; want one part under %q", len(parts), unopened, err, pw)
				}
				if !bytes.Contains(parts[0].Data, p8) {
					t.Error("the decrypted contents do not hold the PKCS #8 key")
				}
			})
		}
	}
}

// TestOpenJCEKSTools: a JCEKS keystore keytool writes, its private key
// imported from a PKCS #12 file and a password stored by -importpass, is
// opened: the key, and the password as a secret of its own.
func TestOpenJCEKSTools(t *testing.T) {
	openssl, keytool := tool(t, "openssl"), tool(t, "keytool")
	dir := t.TempDir()
	key, cert, p12 := filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "ks.p12")
	run(t, openssl, "req", "-x509", "-newkey", "rsa:1024", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=app.example.com")
	run(t, openssl, "pkcs12", "-export", "-inkey", key, "-in", cert, "-name", "app", "-passout", "pass:changeit", "-out", p12)
	p8 := pemDER(t, key)
	jceks := filepath.Join(dir, "app.jceks")
	run(t, keytool, "-importkeystore", "-srckeystore", p12, "-srcstoretype", "PKCS12", "-srcstorepass", "changeit",
		"-destkeystore", jceks, "-deststoretype", "JCEKS", "-deststorepass", "changeit", "-noprompt")
	secret := "db-" + canary.Random(t, canary.Lower+canary.Digits, 24)
	cmd := exec.Command(keytool, "-importpass", "-storetype", "JCEKS", "-keystore", jceks, "-storepass", "changeit", "-keypass", "changeit", "-alias", "dbpass")
	cmd.Stdin = bytes.NewBufferString(secret + "\n" + secret + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("keytool -importpass: %v\n%s", err, bytes.ReplaceAll(out, []byte(secret), []byte("<secret>")))
	}
	data, err := os.ReadFile(jceks)
	if err != nil {
		t.Fatal(err)
	}
	if KeystoreKind(data) != JCEKSKind {
		t.Fatalf("KeystoreKind: %q, want %q", KeystoreKind(data), JCEKSKind)
	}
	if bytes.Contains(data, p8) || bytes.Contains(data, []byte(secret)) {
		t.Fatal("the keystore holds the key or the password in the clear: the test proves nothing")
	}
	parts, unopened, err := OpenKeystore(JCEKSKind, data)
	if err != nil || unopened != 0 || len(parts) != 1 || parts[0].Password != "changeit" {
		t.Fatalf("OpenKeystore: %d parts, %d unopened, %v; want one part under changeit", len(parts), unopened, err)
	}
	if !bytes.Contains(parts[0].Data, p8) {
		t.Error("the decrypted contents do not hold the PKCS #8 key")
	}
	if !bytes.Contains(parts[0].Data, []byte(secret)) {
		t.Error("the decrypted contents do not hold the stored password")
	}
	c, err := ReadKeystore(JCEKSKind, data, []string{"wrong", "changeit"})
	if err != nil || c.Password != 1 || c.Unopened != 0 || len(c.Keys) != 1 || !bytes.Equal(c.Keys[0], p8) {
		t.Fatalf("ReadKeystore: password %d, %d keys, %d unopened, %v; want the key under changeit", c.Password, len(c.Keys), c.Unopened, err)
	}
	if len(c.Secrets) != 1 || string(c.Secrets[0]) != secret {
		t.Errorf("ReadKeystore: %d secrets, want the stored password alone", len(c.Secrets))
	}
	// Under a password of its own it opens nothing, and is no error.
	if parts, unopened, err := openJavaKeystoreParts(t, data, "Xq7-not-a-default"); err != nil || len(parts) != 0 || unopened != 2 {
		t.Errorf("under another password: %d parts, %d unopened, %v; want none opened, 2 unopened", len(parts), unopened, err)
	}
	// Cut anywhere, it is an error or a part, never a panic.
	for n := 0; n < len(data); n += 1 + n/5 {
		OpenKeystore(JCEKSKind, data[:n])
	}
}

func openJavaKeystoreParts(t *testing.T, data []byte, password string) ([][]byte, int, error) {
	t.Helper()
	out, _, _, unopened, err := openJavaKeystore(data, []string{password})
	var parts [][]byte
	for _, b := range out {
		if len(b) > 0 {
			parts = append(parts, b)
		}
	}
	return parts, unopened, err
}

// pemDER is the DER of the PKCS #8 key in the PEM file path.
func pemDER(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatal("no PEM block in " + path)
	}
	if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return block.Bytes
}

// toolSeeds are keystores openssl and keytool write (none without them):
// PKCS #12 under RC4 and PBES1 DES, and JCEKS with a key and a sealed
// password, all under changeit.
func toolSeeds(f *testing.F) [][]byte {
	openssl, err1 := exec.LookPath("openssl")
	keytool, err2 := exec.LookPath("keytool")
	if err1 != nil || err2 != nil {
		return nil
	}
	dir := f.TempDir()
	key, cert, p12, jceks := filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "ks.p12"), filepath.Join(dir, "ks.jceks")
	var seeds [][]byte
	cmds := [][]string{
		{openssl, "req", "-x509", "-newkey", "rsa:1024", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=app.example.com"},
		{openssl, "pkcs12", "-export", "-legacy", "-inkey", key, "-in", cert, "-keypbe", "PBE-SHA1-RC4-128", "-certpbe", "PBE-MD5-DES", "-passout", "pass:changeit", "-out", p12},
		{keytool, "-importkeystore", "-srckeystore", p12, "-srcstoretype", "PKCS12", "-srcstorepass", "changeit",
			"-destkeystore", jceks, "-deststoretype", "JCEKS", "-deststorepass", "changeit", "-noprompt"},
		{keytool, "-importpass", "-storetype", "JCEKS", "-keystore", jceks, "-storepass", "changeit", "-keypass", "changeit", "-alias", "dbpass"},
	}
	for _, c := range cmds {
		cmd := exec.Command(c[0], c[1:]...)
		cmd.Stdin = bytes.NewBufferString("seed-password\nseed-password\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			f.Fatalf("%s %s: %v\n%s", filepath.Base(c[0]), c[1], err, out)
		}
	}
	for _, p := range []string{p12, jceks} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	return seeds
}

// FuzzJavaStream: the serialization reader never panics, and keeps only
// byte arrays it read from the input.
func FuzzJavaStream(f *testing.F) {
	for _, seed := range toolSeeds(f) {
		if i := bytes.Index(seed, javaStreamMagic); i >= 0 {
			f.Add(seed[i:])
		}
	}
	f.Add(append(append([]byte(nil), javaStreamMagic...), 0x75, 0x72, 0, 2, '[', 'B', 1, 2, 3, 4, 5, 6, 7, 8, 2, 0, 0, 0x78, 0x70, 0, 0, 0, 3, 'a', 'b', 'c'))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &jksReader{b: data}
		r.sealedKey()
		if len(data) >= len(javaStreamMagic) {
			for _, a := range serializedKeyBytes(data) {
				if !bytes.Contains(data, a) {
					t.Fatal("a byte array that is not in the input")
				}
			}
		}
	})
}
