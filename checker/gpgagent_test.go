package checker

import (
	"bytes"
	"crypto/rsa"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/openpgp"
	"golang.org/x/crypto/openpgp/armor"
)

// testPGPKey returns a new OpenPGP key without a passphrase, as CI keeps
// a signing key: its RSA key and its armoured export
// (gpg --armor --export-secret-keys).
func testPGPKey(t testing.TB) (*rsa.PrivateKey, string, string) {
	t.Helper()
	e, err := openpgp.NewEntity("CI Signer", "", "ci@acme.io", nil)
	if err != nil {
		t.Fatal(err)
	}
	var sec, pub bytes.Buffer
	w, err := armor.Encode(&sec, openpgp.PrivateKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SerializePrivate(w, nil); err != nil {
		t.Fatal(err)
	}
	w.Close()
	w, err = armor.Encode(&pub, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Serialize(w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return e.PrivateKey.PrivateKey.(*rsa.PrivateKey), sec.String(), pub.String()
}

// agentKeyFile is what gpg-agent (GnuPG 2.2.22 and later) writes to
// private-keys-v1.d when `gpg --import` gives it k without a passphrase:
// the extended key format, the S-expression's hex strings in upper case,
// its long lines cut and continued after a space.
func agentKeyFile(k *rsa.PrivateKey) string {
	h := func(b []byte) string { return "#" + strings.ToUpper(hex.EncodeToString(b)) + "#" }
	sexp := fmt.Sprintf("(private-key (rsa (n %s)(e %s)(d %s)(p %s)(q %s)))", h(k.N.Bytes()), h([]byte{1, 0, 1}), h(k.D.Bytes()), h(k.Primes[0].Bytes()), h(k.Primes[1].Bytes()))
	var b strings.Builder
	b.WriteString("Created: 20261201T060642\nKey: ")
	for i := 0; i < len(sexp); i += 70 {
		if i > 0 {
			b.WriteString("\n ")
		}
		b.WriteString(sexp[i:min(i+70, len(sexp))])
	}
	b.WriteString("\n")
	return b.String()
}

// TestScanTreeGPGAgentKey: an OpenPGP key passed as a secret and imported
// with gpg is found in gpg-agent's key file, in its binary form and in a
// new export; its public key is not.
func TestScanTreeGPGAgentKey(t *testing.T) {
	k, secret, public := testPGPKey(t)
	s := mustSecrets(t, map[string]string{"gpg_key": secret})
	canonical := fmt.Sprintf("(11:private-key(3:rsa(1:n%d:%s)(1:d%d:%s)))", len(k.N.Bytes()), k.N.Bytes(), len(k.D.Bytes()), k.D.Bytes())
	for _, tt := range []struct {
		name, file, body string
		want             []Finding
	}{
		{"extended key format", "root/.gnupg/private-keys-v1.d/8E70BF7EC32E50B227FFB4B6A54C08D2B91E8CC8.key", agentKeyFile(k),
			[]Finding{{Path: "/root/.gnupg/private-keys-v1.d/8E70BF7EC32E50B227FFB4B6A54C08D2B91E8CC8.key (s-expression)", Where: "content", Encoding: "s-expression"}}},
		{"canonical S-expression", "root/.gnupg/private-keys-v1.d/8E70BF7EC32E50B227FFB4B6A54C08D2B91E8CC8.key", canonical,
			[]Finding{{Path: "/root/.gnupg/private-keys-v1.d/8E70BF7EC32E50B227FFB4B6A54C08D2B91E8CC8.key", Where: "content", Encoding: "raw"}}},
		{"the public key", "etc/apt/keyrings/acme.asc", public, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, tt.file, tt.body)
			r := mustScan(t, dir, s, ScanOptions{})
			var got []Finding
			for _, f := range r.Findings {
				f.Secret, f.Field = "", ""
				got = append(got, f)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("findings:%s\nwant %v", describe(r.Findings), tt.want)
			}
		})
	}
}
