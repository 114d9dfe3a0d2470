package sexphex

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

func TestDecoded(t *testing.T) {
	secret := bytes.Repeat([]byte{0x0a, 0x1c, 0xff, 0x42}, 24) // 96 bytes
	h := strings.ToUpper(hex.EncodeToString(secret))
	// As gpg-agent's extended key format writes a key: the S-expression
	// cut over lines that go on after a space.
	folded := "Created: 20261201T060642\nKey: (private-key (rsa (n #00A3E487644C31D2C7B38C79D6CAA52B39\n 1CC5#)(e #010001#)(d\n  #" + h[:50] + "\n " + h[50:120] + "\n " + h[120:] + "#)))\n"
	tests := []struct {
		name, data string
		want       bool
	}{
		{"folded key file", folded, true},
		{"one line", "(private-key (ecc (curve Ed25519)(q #40" + h + "#)))", true},
		{"no key file", strings.Replace(folded, "private-key", "public-key", 1), false},
		{"too short", "(private-key (e #0A1CFF42#))", false},
		{"unclosed", "(private-key (d #" + h, false},
		{"comments", "# private-key notes\n# " + h + "\n", false},
	}
	for _, tt := range tests {
		got := Decoded(nil, []byte(tt.data))
		if bytes.Contains(got, secret) != tt.want {
			t.Errorf("%s: found %v, want %v", tt.name, !tt.want, tt.want)
		}
	}
}

func TestDecodedKeepsOut(t *testing.T) {
	out := Decoded([]byte("before"), []byte("(private-key (d #0A1C#) x #zz#)"))
	if string(out) != "before" {
		t.Errorf("Decoded appended %q", out[len("before"):])
	}
}
