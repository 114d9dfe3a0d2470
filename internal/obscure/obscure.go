// Package obscure reveals the passwords that tools keep obscured rather
// than encrypted: a reversible transformation under a key built into the
// tool, so that anyone who reads the file can undo it, and the value is in
// none of the encodings a search for it knows.
//
// rclone obscures the password options of its configuration file (pass,
// password, password2, key_file_pass, ...), of `rclone config dump`'s JSON
// and of the RCLONE_CONFIG_<REMOTE>_PASS variables: AES-256-CTR under a
// key of rclone's source, the random IV first, in URL-safe base64 without
// padding (fs/config/obscure).
package obscure

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
)

// rcloneKey is rclone's obscuring key (fs/config/obscure).
var rcloneKey = []byte{
	0x9c, 0x93, 0x5b, 0x48, 0x73, 0x0a, 0x55, 0x4d,
	0x6b, 0xfd, 0x7c, 0x63, 0xc8, 0x86, 0xa9, 0x2b,
	0xd3, 0x90, 0x19, 0x8e, 0xb8, 0x12, 0x8a, 0xfb,
	0xf4, 0xde, 0x16, 0x2b, 0x8b, 0x95, 0xf6, 0x38,
}

var rcloneBlock, _ = aes.NewCipher(rcloneKey) // a 32-byte key never fails

// Bounds on the runs of URL-safe base64 that are revealed: the IV and at
// least minValue bytes of value, at most maxRun characters (a password, a
// key file's passphrase).
const (
	minValue = 6
	minRun   = (8*(aes.BlockSize+minValue) + 5) / 6
	maxRun   = 4096
)

func urlB64(c byte) bool { return urlB64Table[c] }

// urlB64Table is urlB64 as a table: one read a byte of the text searched.
var urlB64Table = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		t[c] = b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '-' || b == '_'
	}
	return t
}()

// Revealed appends to out what each run of URL-safe base64 characters of
// data (minRun to maxRun of them) reveals to as an rclone-obscured value,
// each after a '\n', and returns it: the text to search for the values
// that data may hold obscured. Runs that are not obscured values reveal
// to noise, which holds no value.
//
// Only text that names a password option is read: rclone's are pass,
// password, password2, key_file_pass, mailbox_password (its variables
// RCLONE_CONFIG_<REMOTE>_PASS ...) and seafile's library_key.
func Revealed(out, data []byte) []byte {
	if !bytes.Contains(data, []byte("pass")) && !bytes.Contains(data, []byte("PASS")) && !bytes.Contains(data, []byte("library_key")) {
		return out
	}
	for i := 0; i < len(data); {
		if !urlB64(data[i]) {
			i++
			continue
		}
		j := i
		for j < len(data) && urlB64(data[j]) {
			j++
		}
		if n := j - i; n >= minRun && n <= maxRun && n%4 != 1 {
			if b, err := base64.RawURLEncoding.DecodeString(string(data[i:j])); err == nil {
				k := len(out) + 1
				out = append(out, '\n')
				out = append(out, b[aes.BlockSize:]...)
				cipher.NewCTR(rcloneBlock, b[:aes.BlockSize]).XORKeyStream(out[k:], out[k:])
			}
		}
		i = j
	}
	return out
}

// Rclone obscures v as rclone does, with the IV iv (rclone draws it at
// random): for tests, and for the test image's rclone stand-in.
func Rclone(iv []byte, v string) string {
	out := append(append([]byte(nil), iv[:aes.BlockSize]...), v...)
	cipher.NewCTR(rcloneBlock, out[:aes.BlockSize]).XORKeyStream(out[aes.BlockSize:], out[aes.BlockSize:])
	return base64.RawURLEncoding.EncodeToString(out)
}
