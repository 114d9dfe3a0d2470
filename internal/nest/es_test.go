package nest

import (
	"bytes"
	"testing"

	"github.com/hushbuild/hushbuild/internal/canary"
	"github.com/hushbuild/hushbuild/internal/nest/nesttest"
)

// esKeystore is an Elasticsearch keystore of version under password
// holding settings.
func esKeystore(t testing.TB, version int, password string, settings ...string) []byte {
	t.Helper()
	ks, err := nesttest.ESKeystore(version, password, settings...)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// TestOpenESKeystore: an Elasticsearch keystore of each format version
// that can be read, under the empty password (elasticsearch-keystore's
// default) or a conventional one, gives its settings' values; under
// another password it is not opened, without an error.
func TestOpenESKeystore(t *testing.T) {
	v := canary.Random(t, canary.Lower+canary.Digits, 24)
	tests := []struct {
		name     string
		version  int
		password string
		opened   bool
	}{
		{"version 3 (ES 6.3)", 3, "", true},
		{"version 4 (ES 7)", 4, "", true},
		{"version 5 (ES 8.0)", 5, "", true},
		{"version 6 (ES 8.14)", 6, "", true},
		{"changeit", 5, "changeit", true},
		{"another password", 5, "Xq7-not-a-default", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ks := esKeystore(t, tc.version, tc.password, "keystore.seed", "Zm9vYmFyYmF6cXV4cXV1eA", "bootstrap.password", v)
			if KeystoreKind(ks) != ESKind {
				t.Fatalf("KeystoreKind: %q", KeystoreKind(ks))
			}
			if bytes.Contains(ks, []byte(v)) {
				t.Fatal("the keystore holds the value in the clear: the test proves nothing")
			}
			parts, unopened, err := OpenKeystore(ESKind, ks)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.opened {
				if len(parts) != 0 || unopened != 1 {
					t.Fatalf("%d parts, %d unopened; want none opened", len(parts), unopened)
				}
				return
			}
			if len(parts) != 1 || unopened != 0 || parts[0].Password != tc.password {
				t.Fatalf("%d parts, %d unopened; want one opened with %q", len(parts), unopened, tc.password)
			}
			if !bytes.Contains(parts[0].Data, []byte(v)) {
				t.Error("the decrypted settings do not hold the value")
			}
			c, err := ReadKeystore(ESKind, ks, KeystorePasswords)
			if err != nil || len(c.Secrets) != 2 || string(c.Secrets[1]) != v || KeystorePasswords[c.Password] != tc.password {
				t.Errorf("ReadKeystore: %d secrets, password %d, %v", len(c.Secrets), c.Password, err)
			}
		})
	}
	t.Run("broken", func(t *testing.T) {
		good := esKeystore(t, 5, "", "bootstrap.password", v)
		for n := 0; n < len(good)-16; n += 1 + n/4 {
			if parts, _, err := OpenESKeystore(good[:n]); err == nil || len(parts) != 0 {
				t.Errorf("cut to %d of %d bytes: %d parts, %v; want an error", n, len(good), len(parts), err)
			}
		}
		for i := 0; i < len(good); i += 7 {
			b := bytes.Clone(good)
			b[i] ^= 0x5a
			OpenESKeystore(b) // no panic
		}
	})
	t.Run("work bound", func(t *testing.T) {
		defer func(w int) { maxESWork = w }(maxESWork)
		maxESWork = 5000
		if _, _, err := OpenESKeystore(esKeystore(t, 5, "", "bootstrap.password", v)); err == nil {
			t.Error("no error past the work bound")
		}
	})
}

// TestReadKeystore: the entries of a keystore, one by one, under the
// passwords given: its private keys of PKCS #12 and JKS, and a secret
// bag's value; a keystore none of them opens has none.
func TestReadKeystore(t *testing.T) {
	pws := []string{"", "changeit", "s3cret-from-another-secret"}
	for _, enc := range nesttest.PKCS12Encoders {
		for i, pw := range pws {
			t.Run(enc+"/"+pw, func(t *testing.T) {
				ks := keystore(t, enc, pw)
				c, err := ReadKeystore(PKCS12Kind, ks.P12, pws)
				if err != nil || c.Password != i || len(c.Keys) != 1 || !bytes.Equal(c.Keys[0], ks.PKCS8) || c.Unopened != 0 {
					t.Fatalf("password %d, %d keys, %d unopened, %v; want the key, opened with password %d", c.Password, len(c.Keys), c.Unopened, err, i)
				}
			})
		}
	}
	t.Run("JKS", func(t *testing.T) {
		ks := jks(t, pws[2])
		c, err := ReadKeystore(JKSKind, ks.P12, pws)
		if err != nil || c.Password != 2 || len(c.Keys) != 1 || !bytes.Equal(c.Keys[0], ks.PKCS8) {
			t.Fatalf("password %d, %d keys, %v", c.Password, len(c.Keys), err)
		}
	})
	t.Run("another password", func(t *testing.T) {
		for _, data := range [][]byte{keystore(t, "modern", "Xq7-not-a-default").P12, jks(t, "Xq7-not-a-default").P12} {
			c, err := ReadKeystore(KeystoreKind(data), data, pws)
			if err != nil || c.Password != -1 || len(c.Keys)+len(c.Secrets) != 0 || c.Unopened == 0 {
				t.Errorf("%s: password %d, %d keys, %d secrets, %d unopened, %v; want nothing opened", KeystoreKind(data), c.Password, len(c.Keys), len(c.Secrets), c.Unopened, err)
			}
		}
	})
	t.Run("no passwords", func(t *testing.T) {
		for _, data := range [][]byte{keystore(t, "modern", "").P12, jks(t, "").P12, esKeystore(t, 4, "", "a", "b")} {
			if c, err := ReadKeystore(KeystoreKind(data), data, nil); err != nil || c.Password != -1 || len(c.Keys)+len(c.Secrets) != 0 {
				t.Errorf("%s: password %d, %d keys, %d secrets, %v; want nothing opened", KeystoreKind(data), c.Password, len(c.Keys), len(c.Secrets), err)
			}
		}
	})
	t.Run("garbage", func(t *testing.T) {
		for _, kind := range []string{PKCS12Kind, JKSKind, ESKind, "other"} {
			if _, err := ReadKeystore(kind, []byte("not a keystore at all"), pws); err == nil {
				t.Errorf("%s: no error", kind)
			}
		}
	})
}

func FuzzOpenESKeystore(f *testing.F) {
	for _, version := range []int{3, 4, 5} {
		for _, pw := range []string{"", "changeit"} {
			ks, err := nesttest.ESKeystore(version, pw, "keystore.seed", "abcdefghijklmnopqrst", "bootstrap.password", "a-password")
			if err != nil {
				f.Fatal(err)
			}
			f.Add(ks)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		parts, unopened, err := OpenESKeystore(data)
		if len(parts) > 1 || len(parts) == 1 && unopened != 0 {
			t.Errorf("%d parts, %d unopened", len(parts), unopened)
		}
		if !IsESKeystore(data) && (len(parts) != 0 || err == nil) {
			t.Errorf("not a keystore: %d parts, %v", len(parts), err)
		}
		ReadKeystore(ESKind, data, []string{"", "changeit", "other"})
	})
}
