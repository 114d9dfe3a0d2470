package nest

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"sync"
	"testing"

	"github.com/hushbuild/hushbuild/internal/nest/nesttest"
)

var (
	testKeyOnce sync.Once
	testKey     *rsa.PrivateKey
	testCert    *x509.Certificate
	testKeyErr  error
)

// keystore is a keystore of the test's key under password, written by
// enc (one of nesttest.PKCS12Encoders).
func keystore(t testing.TB, enc, password string) nesttest.Keystore {
	t.Helper()
	testKeyOnce.Do(func() { testKey, testCert, testKeyErr = nesttest.NewKey() })
	if testKeyErr != nil {
		t.Fatal(testKeyErr)
	}
	ks, err := nesttest.PKCS12(testKey, testCert, enc, password)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func TestOpenPKCS12(t *testing.T) {
	for _, enc := range nesttest.PKCS12Encoders {
		for _, pw := range KeystorePasswords {
			t.Run(enc+"/"+pw, func(t *testing.T) {
				ks := keystore(t, enc, pw)
				if !IsPKCS12(ks.P12) {
					t.Fatal("IsPKCS12: false for a keystore")
				}
				if bytes.Contains(ks.P12, ks.PKCS1) || bytes.Contains(ks.P12, ks.Cert) {
					t.Fatal("the keystore holds the key or certificate in the clear: the test proves nothing")
				}
				parts, unopened, err := OpenPKCS12(ks.P12)
				if err != nil || unopened != 0 {
					t.Fatalf("OpenPKCS12: %d parts, %d unopened, %v", len(parts), unopened, err)
				}
				if len(parts) != 1 || parts[0].Password != pw {
					t.Fatalf("OpenPKCS12: %d parts, want one opened with the password %q", len(parts), pw)
				}
				for _, w := range []struct {
					name string
					der  []byte
				}{{"the PKCS #8 key", ks.PKCS8}, {"the PKCS #1 key", ks.PKCS1}, {"the certificate", ks.Cert}} {
					if !bytes.Contains(parts[0].Data, w.der) {
						t.Errorf("the decrypted contents do not hold %s", w.name)
					}
				}
			})
		}
	}
}

// TestOpenPKCS12Unknown: a keystore under a password of its own is not
// opened, and is no error; broken ones are errors, never a panic.
func TestOpenPKCS12Unknown(t *testing.T) {
	for _, enc := range nesttest.PKCS12Encoders {
		t.Run(enc, func(t *testing.T) {
			ks := keystore(t, enc, "Xq7-not-a-default")
			parts, unopened, err := OpenPKCS12(ks.P12)
			if err != nil || len(parts) != 0 || unopened == 0 {
				t.Fatalf("OpenPKCS12: %d parts, %d unopened, %v; want nothing opened, no error", len(parts), unopened, err)
			}
			good := keystore(t, enc, "changeit").P12
			for n := 0; n < len(good); n += 1 + n/3 {
				if _, _, err := OpenPKCS12(good[:n]); err == nil && n < len(good)-20 {
					// (A cut in the MAC may still leave the contents whole.)
					t.Errorf("cut to %d of %d bytes: no error", n, len(good))
				}
			}
			for i := 0; i < len(good); i += 89 {
				b := bytes.Clone(good)
				b[i] ^= 0x5a
				OpenPKCS12(b) // no panic
			}
		})
	}
	for _, b := range [][]byte{nil, {0x30}, {0x30, 0x80}, []byte("hello world"), bytes.Repeat([]byte{0x30, 0x82}, 100)} {
		if _, _, err := OpenPKCS12(b); err == nil {
			t.Errorf("OpenPKCS12(%x): no error", b)
		}
	}
}

func TestIsPKCS12(t *testing.T) {
	ks := keystore(t, "modern", "")
	for _, tc := range []struct {
		name string
		data []byte
		want bool
	}{
		{"keystore", ks.P12, true},
		{"keystore head", ks.P12[:24], true},
		{"BER indefinite length", append([]byte{0x30, 0x80, 0x02, 0x01, 0x03, 0x30, 0x80}, ks.P12[bytes.Index(ks.P12, []byte{0x06, 0x09, 0x2a}):]...), true},
		{"certificate", ks.Cert, false},
		{"PKCS #8 key", ks.PKCS8, false},
		{"PKCS #1 key", ks.PKCS1, false},
		{"version 2", append([]byte{0x30, 0x10, 0x02, 0x01, 0x02}, ks.P12[5:]...), false},
		{"text", []byte("hello world, hello"), false},
		{"short", []byte{0x30}, false},
	} {
		if got := IsPKCS12(tc.data); got != tc.want {
			t.Errorf("%s: IsPKCS12 = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestRC2 checks the decryption against RFC 2268's test vectors.
func TestRC2(t *testing.T) {
	for _, v := range []struct {
		key, plain, cipher string
		bits               int
	}{
		{"0000000000000000", "0000000000000000", "ebb773f993278eff", 63},
		{"ffffffffffffffff", "ffffffffffffffff", "278b27e42e2f0d49", 64},
		{"3000000000000000", "1000000000000001", "30649edf9be7d2c2", 64},
		{"88", "0000000000000000", "61a8a244adacccf0", 64},
		{"88bca90e90875a", "0000000000000000", "6ccf4308974c267f", 64},
		{"88bca90e90875a7f0f79c384627bafb2", "0000000000000000", "1a807d272bbe5db1", 64},
		{"88bca90e90875a7f0f79c384627bafb2", "0000000000000000", "2269552ab0f85ca6", 128},
		{"88bca90e90875a7f0f79c384627bafb216f80a6f85920584c42fceb0be255daf1e", "0000000000000000", "5b78d3a43dfff1f1", 129},
	} {
		key, _ := hex.DecodeString(v.key)
		ct, _ := hex.DecodeString(v.cipher)
		c, err := newRC2(key, v.bits)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]byte, 8)
		c.Decrypt(got, ct)
		if hex.EncodeToString(got) != v.plain {
			t.Errorf("key %s, %d bits: decrypts %s to %x, want %s", v.key, v.bits, v.cipher, got, v.plain)
		}
	}
}

func FuzzOpenKeystore(f *testing.F) {
	// A small key: quicker to make, and the seeds need no more. (With
	// a time-based -fuzztime, Go's progress line may keep a stale exec
	// count; a count-based one, -fuzztime 1000000x, shows the real rate.)
	key, cert, err := nesttest.NewKeySize(1024)
	if err != nil {
		f.Fatal(err)
	}
	for _, pw := range []string{"changeit", "other"} {
		for _, enc := range nesttest.PKCS12Encoders {
			ks, err := nesttest.PKCS12(key, cert, enc, pw)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(ks.P12)
		}
		ks, err := nesttest.JKS(key, cert, pw)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(ks.P12)
	}
	// What the real tools write, where they are installed: PBES1 and RC4
	// keystores, a JCEKS keystore with a key and a sealed password.
	for _, seed := range toolSeeds(f) {
		f.Add(seed)
	}
	// Mutated iteration counts would make each run take up to the
	// bound's time.
	defer func(w, j int) { maxPKCS12Work, maxJCEKSWork = w, j }(maxPKCS12Work, maxJCEKSWork)
	maxPKCS12Work, maxJCEKSWork = 1<<12, 1<<12
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, open := range []func([]byte) ([]KeystorePart, int, error){OpenPKCS12, OpenJKS} {
			parts, _, _ := open(data)
			for _, p := range parts {
				if len(p.Data) == 0 {
					t.Errorf("an empty part for password %q", p.Password)
				}
			}
		}
		KeystoreKind(data)
		for _, kind := range []string{PKCS12Kind, JKSKind} {
			c, _ := ReadKeystore(kind, data, []string{"", "changeit", "another"})
			for _, k := range c.Keys {
				if len(k) == 0 {
					t.Error("an empty key")
				}
			}
		}
	})
}
