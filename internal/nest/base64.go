package nest

import "encoding/base64"

// MinBase64Run is the shortest run of base64 that Base64Runs decodes:
// 12 bytes, enough to hold the base64 of a value MinValueLen (8) long.
const MinBase64Run = 16

// The classes of base64 bytes, as bits: letters, digits, the standard
// alphabet's + and /, the URL alphabet's - and _.
const (
	b64Letter = 1 << iota
	b64Digit
	b64Std
	b64URL
)

var b64Class = func() (t [256]uint8) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
		t[c] = b64Letter
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = b64Digit
	}
	t['+'], t['/'] = b64Std, b64Std
	t['-'], t['_'] = b64URL, b64URL
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
	return base64Runs(buf, text, false, each)
}

// Base64RunsOfNote is Base64Runs for the runs whose decoded bytes start
// as what a search of them can find something in: compressed data or an
// archive (Kind), a tar archive, a keystore (KeystoreKind), or text (12 bytes of printable ASCII:
// base64 inside base64, a JSON document). Other runs, the base64 of
// random or binary data (all but about 1 in 6,000 of random runs), are
// not decoded whole: the value base64'd once in them is found in the
// text as it is.
func Base64RunsOfNote(buf, text []byte, each func(dec []byte)) []byte {
	return base64Runs(buf, text, true, each)
}

// ofNote reports whether run, base64 in enc, decodes to bytes that
// start as Base64RunsOfNote says.
func ofNote(run []byte, enc *base64.Encoding) bool {
	var head [12]byte
	if n, err := enc.Decode(head[:], run[:16]); err != nil || n != 12 {
		return false
	}
	if Kind(head[:]) != "" || keystoreHead(head[:]) {
		return true
	}
	text := true
	for _, c := range head {
		if (c < 0x20 || c > 0x7e) && c != '\t' && c != '\n' && c != '\r' {
			text = false
			break
		}
	}
	if text {
		return true
	}
	// A tar archive's magic number, at 257: the base64 from 340 decodes
	// the bytes from 255.
	if len(run) >= 352 {
		if n, err := enc.Decode(head[:], run[340:352]); err == nil && n == 9 && string(head[2:7]) == "ustar" {
			return true
		}
	}
	return false
}

// b64Bit is 1 for a base64 byte, 0 for others, to test 8 bytes without
// branches.
var b64Bit = func() (t [256]uint8) {
	for c, k := range b64Class {
		if k != 0 {
			t[c] = 1
		}
	}
	return t
}()

func base64Runs(buf, text []byte, noted bool, each func(dec []byte)) []byte {
	// A run of MinBase64Run (16) bytes or more holds 8 bytes at a
	// multiple of 8: only the runs through such words are looked at
	// (words of text are shorter).
	for w := 0; w+8 <= len(text); w += 8 {
		b := text[w : w+8]
		if b64Bit[b[0]]&b64Bit[b[1]]&b64Bit[b[2]]&b64Bit[b[3]]&b64Bit[b[4]]&b64Bit[b[5]]&b64Bit[b[6]]&b64Bit[b[7]] == 0 {
			continue
		}
		i := w
		for i > 0 && b64Class[text[i-1]] != 0 {
			i--
		}
		j, class := i, uint8(0)
		for j < len(text) {
			c := b64Class[text[j]]
			if c == 0 {
				break
			}
			class |= c
			j++
		}
		// On to the word after the run's end (the word that holds it
		// holds a byte that is not base64).
		w = j &^ 7
		run := text[i:j]
		// Words and identifiers (snake_case, CamelCase) are runs of the
		// alphabet too: a run with no digit, '+' or '/' is one of those
		// (base64 of 12 bytes or more has one but in about 4 runs in 100
		// of 16 characters, 1 in 1000 of 40).
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
		if noted && !ofNote(run, enc) {
			continue
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
