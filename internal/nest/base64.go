package nest

import "encoding/base64"

// MinBase64Run is the shortest run of base64 that Base64Runs decodes:
// 12 bytes, enough to hold the base64 of a value MinValueLen (8) long.
const MinBase64Run = 16

// b64Table classes each byte: 0 for none of base64's alphabets, else
// b64Char with b64Std for + and /, b64URL for - and _, b64Digit for the
// digits.
var b64Table = func() (t [256]uint8) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
		t[c] = b64Char
	}
	for c := byte('0'); c <= '9'; c++ {
		t[c] = b64Char | b64Digit
	}
	t['+'], t['/'] = b64Char|b64Std, b64Char|b64Std
	t['-'], t['_'] = b64Char|b64URL, b64Char|b64URL
	return t
}()

const (
	b64Char = 1 << iota
	b64Std
	b64URL
	b64Digit
)

// Base64Runs calls each with the decoded bytes of every run of base64
// (standard or URL alphabet, with or without padding) of at least
// MinBase64Run characters in text: what a text holds once base64 is
// undone (the base64 of a gzipped file, a base64 value inside base64
// JSON). A run is decoded from its first character; a run that is not
// base64 decodes to bytes that mean nothing. buf is reused for the
// decoded bytes, valid during each only; the buffer is returned.
func Base64Runs(buf, text []byte, each func(dec []byte)) []byte {
	for i := 0; i < len(text); {
		if b64Table[text[i]] == 0 {
			i++
			continue
		}
		// The run's classes, or'ed: one table read a byte.
		j, class := i, uint8(0)
		for j < len(text) {
			c := b64Table[text[j]]
			if c == 0 {
				break
			}
			class |= c
			j++
		}
		url, std, digit := class&b64URL != 0, class&b64Std != 0, class&b64Digit != 0
		run := text[i:j]
		for j < len(text) && text[j] == '=' {
			j++
		}
		i = j
		// Words and identifiers (snake_case, CamelCase) are runs of the
		// alphabet too: a run with no digit, '+' or '/' is one of those
		// (base64 of 12 bytes or more has one but in about 4 runs in 100
		// of 16 characters, 1 in 1000 of 40).
		if len(run) < MinBase64Run || url && std || !digit && !std {
			continue
		}
		enc := base64.RawStdEncoding
		if url {
			enc = base64.RawURLEncoding
		}
		if len(run)%4 == 1 {
			run = run[:len(run)-1]
		}
		need := enc.DecodedLen(len(run))
		if cap(buf) < need {
			buf = make([]byte, need, max(need, 2*cap(buf)))
		}
		n, err := enc.Decode(buf[:need], run)
		if err == nil && n > 0 {
			each(buf[:n])
		}
	}
	return buf
}
