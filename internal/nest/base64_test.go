package nest

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"testing"
)

// naiveRuns is Base64Runs's definition, byte by byte.
func naiveRuns(text []byte) [][]byte {
	var out [][]byte
	for i := 0; i < len(text); {
		if b64Class[text[i]] == 0 {
			i++
			continue
		}
		j, class := i, uint8(0)
		for j < len(text) && b64Class[text[j]] != 0 {
			class |= b64Class[text[j]]
			j++
		}
		run := text[i:j]
		i = j
		url, std := class&b64URL != 0, class&b64Std != 0
		if len(run) < MinBase64Run || url && std || class&(b64Digit|b64Std) == 0 {
			continue
		}
		enc := base64.RawStdEncoding
		if url {
			enc = base64.RawURLEncoding
		}
		if len(run)%4 == 1 {
			run = run[:len(run)-1]
		}
		if dec, err := enc.DecodeString(string(run)); err == nil && len(dec) > 0 {
			out = append(out, []byte(dec))
		}
	}
	return out
}

// TestBase64Runs: the word-by-word walk decodes what the byte-by-byte
// definition does, on text of words, base64 runs of every length and
// alignment, both alphabets and padding.
func TestBase64Runs(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	pieces := []string{" ", "\n", "=", "==", ":", "word", "snake_case_name", "kebab-case", "x9", "+/", "-_"}
	for n := 0; n < 2000; n++ {
		var text []byte
		for len(text) < r.IntN(600)+1 {
			if r.IntN(3) == 0 {
				raw := make([]byte, r.IntN(40))
				for i := range raw {
					raw[i] = byte(r.Uint32())
				}
				enc := base64.StdEncoding
				if r.IntN(2) == 0 {
					enc = base64.URLEncoding
				}
				text = append(text, enc.EncodeToString(raw)...)
			} else {
				text = append(text, pieces[r.IntN(len(pieces))]...)
			}
		}
		want := naiveRuns(text)
		var got [][]byte
		Base64Runs(nil, text, func(dec []byte) { got = append(got, bytes.Clone(dec)) })
		if len(got) != len(want) {
			t.Fatalf("%q: %d runs decoded, want %d", text, len(got), len(want))
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("%q: run %d decodes to %x, want %x", text, i, got[i], want[i])
			}
		}
	}
}

// TestBase64RunsOfNote: runs that decode to compressed data, a tar
// archive or text are decoded; runs of random bytes are not.
func TestBase64RunsOfNote(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString
	tarHead := make([]byte, 512)
	copy(tarHead, "app/.env")
	copy(tarHead[257:], "ustar\x0000")
	random := make([]byte, 300)
	r := rand.New(rand.NewPCG(1, 1))
	for i := range random {
		random[i] = byte(r.Uint32() | 0x80) // never text
	}
	for _, tc := range []struct {
		name string
		raw  []byte
		want bool
	}{
		{"gzip", append([]byte("\x1f\x8b\x08\x00\x00\x00\x00\x00"), random[:20]...), true},
		{"xz", append([]byte("\xfd7zXZ\x00\x00\x04"), random[:20]...), true},
		{"tar", tarHead, true},
		{"text", []byte(`{"auths":{"registry.example.com":{"auth":"Y2k6cGFzcw=="}}}`), true},
		{"PKCS #12", keystore(t, "modern", "changeit").P12, true},
		{"JKS", jks(t, "changeit").P12, true},
		{"random", random, false},
	} {
		got := false
		Base64RunsOfNote(nil, []byte("k: "+b64(tc.raw)+"\n"), func([]byte) { got = true })
		if got != tc.want {
			t.Errorf("%s: decoded %v, want %v", tc.name, got, tc.want)
		}
	}
}
