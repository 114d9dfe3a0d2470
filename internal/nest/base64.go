package nest

import "encoding/base64"

// MinBase64Run is the shortest run of base64 that Base64Runs decodes:
// 12 bytes, enough to hold the base64 of a value MinValueLen (8) long.
const MinBase64Run = 16

var b64Table = func() (t [256]uint8) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") {
		t[c] = 1
	}
	t['+'], t['/'] = 2, 2
	t['-'], t['_'] = 3, 3
	return t
}()

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
		j, url, std, digit := i, false, false, false
		for j < len(text) {
			switch b64Table[text[j]] {
			case 0:
				goto end
			case 2:
				std = true
			case 3:
				url = true
			}
			digit = digit || text[j] <= '9'
			j++
		}
	end:
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
