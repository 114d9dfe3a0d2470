package nest

import (
	"bytes"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hushbuild/hushbuild/internal/canary"
	"github.com/hushbuild/hushbuild/internal/nest/nesttest"
)

// jks is a Java KeyStore of the test's key under password.
func jks(t testing.TB, password string) nesttest.Keystore {
	t.Helper()
	testKeyOnce.Do(func() { testKey, testCert, testKeyErr = nesttest.NewKey() })
	if testKeyErr != nil {
		t.Fatal(testKeyErr)
	}
	ks, err := nesttest.JKS(testKey, testCert, password)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func TestOpenJKS(t *testing.T) {
	for _, pw := range KeystorePasswords {
		t.Run(pw, func(t *testing.T) {
			ks := jks(t, pw)
			if KeystoreKind(ks.P12) != JKSKind {
				t.Fatalf("KeystoreKind: %q for a JKS keystore", KeystoreKind(ks.P12))
			}
			checkOpened(t, ks, pw, JKSKind)
		})
	}
	t.Run("another password", func(t *testing.T) {
		ks := jks(t, "Xq7-not-a-default")
		parts, unopened, err := OpenJKS(ks.P12)
		if err != nil || len(parts) != 0 || unopened != 1 {
			t.Fatalf("OpenJKS: %d parts, %d unopened, %v; want nothing opened, no error", len(parts), unopened, err)
		}
	})
	t.Run("broken", func(t *testing.T) {
		good := jks(t, "changeit").P12
		for n := 0; n < len(good)-20; n += 1 + n/3 {
			if _, _, err := OpenJKS(good[:n]); err == nil {
				t.Errorf("cut to %d of %d bytes: no error", n, len(good))
			}
		}
		for i := 0; i < len(good); i += 13 {
			b := bytes.Clone(good)
			b[i] ^= 0x5a
			OpenJKS(b) // no panic
		}
	})
}

// TestOpenKeystoreKeytool: keystores that the JDK's keytool writes, JKS
// and PKCS #12 (PBES2, AES-256, HMAC-SHA-256 since Java 17), are opened
// (where keytool is installed).
func TestOpenKeystoreKeytool(t *testing.T) {
	keytool, err := exec.LookPath("keytool")
	if err != nil || testing.Short() {
		t.Skip("needs keytool (a JDK), and not -short")
	}
	for _, tc := range []struct{ storetype, kind, pw string }{
		{"JKS", JKSKind, "changeit"}, {"JKS", JKSKind, "password"}, {"PKCS12", PKCS12Kind, "changeit"}, {"PKCS12", PKCS12Kind, "secret"},
	} {
		t.Run(tc.storetype+"/"+tc.pw, func(t *testing.T) {
			ks := keystore(t, "legacy-des", tc.pw)
			dir := t.TempDir()
			src, dst := filepath.Join(dir, "in.p12"), filepath.Join(dir, "out.keystore")
			if err := os.WriteFile(src, ks.P12, 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(keytool, "-importkeystore", "-noprompt", "-srckeystore", src, "-srcstoretype", "PKCS12", "-srcstorepass", tc.pw,
				"-destkeystore", dst, "-deststoretype", tc.storetype, "-deststorepass", tc.pw)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("keytool: %v\n%s", err, out)
			}
			data, err := os.ReadFile(dst)
			if err != nil {
				t.Fatal(err)
			}
			ks.P12 = data
			if KeystoreKind(data) != tc.kind {
				t.Fatalf("KeystoreKind: %q for keytool's %s keystore", KeystoreKind(data), tc.storetype)
			}
			checkOpened(t, ks, tc.pw, tc.kind)
		})
	}
}

// checkOpened checks that the keystore ks.P12 of kind opens with password
// only, and that what it opens holds the key.
func checkOpened(t *testing.T, ks nesttest.Keystore, password, kind string) {
	t.Helper()
	parts, unopened, err := OpenKeystore(kind, ks.P12)
	if err != nil || unopened != 0 {
		t.Fatalf("OpenKeystore: %d parts, %d unopened, %v", len(parts), unopened, err)
	}
	if len(parts) != 1 || parts[0].Password != password {
		t.Fatalf("OpenKeystore: %d parts, want one opened with the password %q", len(parts), password)
	}
	if bytes.Contains(ks.P12, ks.PKCS1) {
		t.Fatal("the keystore holds the key in the clear: the test proves nothing")
	}
	for _, w := range []struct {
		name string
		der  []byte
	}{{"the PKCS #8 key", ks.PKCS8}, {"the PKCS #1 key", ks.PKCS1}} {
		if !bytes.Contains(parts[0].Data, w.der) {
			t.Errorf("the decrypted contents do not hold %s", w.name)
		}
	}
}

// TestOpenPKCS12OpenSSL: keystores that openssl pkcs12 -export writes,
// OpenSSL 3's (PBES2, AES-256) and -legacy (3DES, 40-bit RC2), with an
// empty password and with changeit, are opened (where openssl is
// installed).
func TestOpenPKCS12OpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil || testing.Short() {
		t.Skip("needs openssl, and not -short")
	}
	for _, tc := range []struct {
		legacy bool
		pw     string
	}{{false, ""}, {false, "changeit"}, {true, ""}, {true, "changeit"}} {
		t.Run(fmt.Sprintf("legacy=%v/%s", tc.legacy, tc.pw), func(t *testing.T) {
			ks := keystore(t, "modern", "")
			dir := t.TempDir()
			key, cert, out := filepath.Join(dir, "tls.key"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "keystore.p12")
			if err := os.WriteFile(key, ks.PEM, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ks.Cert}), 0o600); err != nil {
				t.Fatal(err)
			}
			args := []string{"pkcs12", "-export", "-in", cert, "-inkey", key, "-out", out, "-passout", "pass:" + tc.pw, "-name", "app"}
			if tc.legacy {
				args = append(args, "-legacy")
			}
			if b, err := exec.Command(openssl, args...).CombinedOutput(); err != nil {
				t.Skipf("openssl %s: %v\n%s", strings.Join(args[:2], " "), err, b)
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			ks.P12 = data
			checkOpened(t, ks, tc.pw, PKCS12Kind)
			parts, _, _ := OpenPKCS12(data)
			if len(parts) == 1 && !bytes.Contains(parts[0].Data, ks.Cert) {
				t.Error("the decrypted contents do not hold the certificate")
			}
		})
	}
}

// TestOpenPKCS12SecretBag: a secret that keytool -importpass stores in a
// PKCS #12 keystore (a secret bag holding an encrypted key) is found in
// what the keystore's password opens (where keytool is installed).
func TestOpenPKCS12SecretBag(t *testing.T) {
	keytool, err := exec.LookPath("keytool")
	if err != nil || testing.Short() {
		t.Skip("needs keytool (a JDK), and not -short")
	}
	v := canary.Random(t, canary.Lower+canary.Digits, 32)
	ks := filepath.Join(t.TempDir(), "secrets.p12")
	cmd := exec.Command(keytool, "-importpass", "-alias", "db", "-keystore", ks, "-storetype", "PKCS12", "-storepass", "changeit")
	cmd.Stdin = strings.NewReader(v + "\n" + v + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("keytool -importpass: %v\n%s", err, out)
	}
	data, err := os.ReadFile(ks)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte(v)) {
		t.Fatal("the keystore holds the secret in the clear: the test proves nothing")
	}
	parts, unopened, err := OpenKeystore(KeystoreKind(data), data)
	if err != nil || unopened != 0 || len(parts) != 1 || parts[0].Password != "changeit" {
		t.Fatalf("OpenKeystore: %d parts, %d unopened, %v; want one opened with changeit", len(parts), unopened, err)
	}
	if !bytes.Contains(parts[0].Data, []byte(v)) {
		t.Error("the decrypted contents do not hold the secret")
	}
	c, err := ReadKeystore(PKCS12Kind, data, KeystorePasswords)
	if err != nil || len(c.Secrets) != 1 || string(c.Secrets[0]) != v || len(c.Keys) != 0 {
		t.Errorf("ReadKeystore: %d secrets (the value: %v), %d keys, %v; want the secret alone", len(c.Secrets), len(c.Secrets) == 1 && string(c.Secrets[0]) == v, len(c.Keys), err)
	}
}
