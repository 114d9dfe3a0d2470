package verify

import (
	"bytes"
	"crypto/rsa"
	"encoding/hex"
	"strings"
	"testing"

	"golang.org/x/crypto/openpgp"
	"golang.org/x/crypto/openpgp/armor"

	vt "github.com/hushbuild/hushbuild/verify/verifytest"
)

// TestPGPPrivatePart: an OpenPGP secret key without a passphrase is
// searched by its secret number too, which every unencrypted form of the
// key holds.
func TestPGPPrivatePart(t *testing.T) {
	e, err := openpgp.NewEntity("CI Signer", "", "ci@acme.io", nil)
	if err != nil {
		t.Fatal(err)
	}
	var armoured bytes.Buffer
	w, _ := armor.Encode(&armoured, openpgp.PrivateKeyType, nil)
	if err := e.SerializePrivate(w, nil); err != nil {
		t.Fatal(err)
	}
	w.Close()
	d := e.PrivateKey.PrivateKey.(*rsa.PrivateKey).D.Bytes()
	var part string
	secrets, _ := FileSecretValues("gpg_key", "gpg_key", armoured.Bytes())
	for _, s := range secrets {
		if strings.HasSuffix(s.Field, "private part") {
			part = s.Value
		}
	}
	if len(part) != privatePartLen || !bytes.Contains(d, []byte(part)) {
		t.Errorf("the private part is %d bytes, in the private exponent: %v; want %d bytes of it", len(part), bytes.Contains(d, []byte(part)), privatePartLen)
	}
}

// TestGPGAgentKeyFile: gpg --import of a secret key without a passphrase
// leaves its numbers in gpg-agent's key file, as hex cut over lines.
func TestGPGAgentKeyFile(t *testing.T) {
	e, err := openpgp.NewEntity("CI Signer", "", "ci@acme.io", nil)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	w, _ := armor.Encode(&b, openpgp.PrivateKeyType, nil)
	if err := e.SerializePrivate(w, nil); err != nil {
		t.Fatal(err)
	}
	w.Close()
	k := e.PrivateKey.PrivateKey.(*rsa.PrivateKey)
	h := func(b []byte) string { return "#" + strings.ToUpper(hex.EncodeToString(b)) + "#" }
	sexp := "(private-key (rsa (n " + h(k.N.Bytes()) + ")(e #010001#)(d " + h(k.D.Bytes()) + ")))"
	var f strings.Builder
	f.WriteString("Created: 20261201T060642\nKey: ")
	for i := 0; i < len(sexp); i += 70 {
		if i > 0 {
			f.WriteString("\n ")
		}
		f.WriteString(sexp[i:min(i+70, len(sexp))])
	}
	name := "root/.gnupg/private-keys-v1.d/8E70BF7EC32E50B227FFB4B6A54C08D2B91E8CC8.key"
	l := vt.NewLayout(t).Write(vt.Image{Platform: vt.Amd64, Layers: []vt.Layer{{Files: []vt.File{{Name: name, Body: f.String() + "\n"}}}}})
	// As --secret id=gpg_key,src=FILE gives it: a file's secrets.
	secrets, _ := FileSecrets("gpg_key", "gpg_key", b.Bytes())
	r := mustRun(t, Options{Image: l.Dir, Secrets: secrets})
	if len(r.Hits) != 1 || r.Hits[0].Path != "/"+name || r.Hits[0].Encoding != EncSexp {
		t.Errorf("want one hit, gpg_key as an S-expression in the agent's key file, got:\n%s", dump(r))
	}
}
