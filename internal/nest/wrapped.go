package nest

import (
	"encoding/binary"
	"math/bits"
)

// Runs of encoded text wrapped across lines (base64 at 76 columns, PEM
// at 64, xxd -p at 60), joined so that what they encode can be searched
// or decoded as one run.

// Encoded marks the bytes of base64 (either alphabet), hexadecimal and
// URL-escaped text.
var Encoded = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-%") {
		t[c] = true
	}
	return t
}()

// MinWrapped is how long a line's encoded text must be for JoinWrapped to take
// the line as wrapped: base64 wraps at 76 columns, PEM at 64, xxd -p at
// 60; prose and code have shorter words. Such a text holds 4 aligned
// 8-byte words, one of them at a multiple of wrapStride: only those words
// are looked at.
const (
	MinWrapped = 40
	wrapStride = 32
)

// JoinWrapped appends to out the runs of encoded text of data that go on
// across line ends, each with its line ends removed, and
// each after a '\n' but the first.
//
// A line end ("\n", or "\r\n" from its '\r') starts a run when the
// MinWrapped bytes before it and the two after it are encoded, and a run
// goes on across each line end after it with two encoded bytes after it.
// The MinWrapped bytes before a line end that starts a run hold an
// 8-byte word of encoded bytes at a multiple of wrapStride: only the words
// there are looked at, and the line end after one only if it has no byte
// below '%' (most words of text are shorter).
func JoinWrapped(out, data []byte) []byte {
	lineEnd := func(q int) int { // the '\n' of a line end at q, or -1
		switch {
		case q >= len(data):
		case data[q] == '\n':
			return q
		case data[q] == '\r' && q+1 < len(data) && data[q+1] == '\n':
			return q + 1
		}
		return -1
	}
	for w := 0; w+8 <= len(data); w += wrapStride {
		const ones, highs = 0x0101010101010101, 0x8080808080808080
		if x := binary.LittleEndian.Uint64(data[w:]); (x-ones*'%')&^x&highs != 0 || punctuation(x) {
			// A byte below '%', the least encoded byte (a space, a line
			// end): not in an encoded run.
			continue
		}
		// The only line end that may start a run through this word is
		// the first byte below '%' after it (line ends are below it);
		// the run must cover the MinWrapped bytes before it.
		q := belowPercent(data, w+8)
		p := lineEnd(q)
		if p < 0 || q < MinWrapped || !Encoded[data[q-1]] || !allEncoded(data[q-MinWrapped:q]) {
			w = q &^ (wrapStride - 1) // on to the word after q
			continue
		}
		from := encodedFrom(data, q-MinWrapped)
		// A run starts at from: go on across its line ends.
		if p+2 < len(data) && Encoded[data[p+1]] && Encoded[data[p+2]] {
			if len(out) > 0 {
				out = append(out, '\n')
			}
			out = append(out, data[from:q]...)
			for p >= 0 && p+2 < len(data) && Encoded[data[p+1]] && Encoded[data[p+2]] {
				q = encodedTo(data, p+1)
				out = append(out, data[p+1:q]...)
				p = lineEnd(q)
			}
		}
		w = q &^ (wrapStride - 1)
	}
	return out
}

// encoded8 reports whether the 8 bytes b starts with are all encoded,
// without branches.
func encoded8(b []byte) bool {
	b = b[:8]
	return encodedBit[b[0]]&encodedBit[b[1]]&encodedBit[b[2]]&encodedBit[b[3]]&encodedBit[b[4]]&encodedBit[b[5]]&encodedBit[b[6]]&encodedBit[b[7]] != 0
}

// belowPercent returns the place of the first byte of data from i that
// is less than '%' (a space, a line end, a control byte), or len(data).
func belowPercent(data []byte, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(data); i += 8 {
		x := binary.LittleEndian.Uint64(data[i:])
		if m := (x - ones*'%') &^ x & highs; m != 0 {
			// The lowest flagged byte is the first one below '%'.
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for i < len(data) && data[i] >= '%' {
		i++
	}
	return i
}

// punctuation reports whether one of the 8 bytes of x (all at least '%')
// is punctuation that code and prose have and encoded text has not: one
// of & ' ( ) * , . : ; <.
func punctuation(x uint64) bool {
	const ones, highs, low7 = 0x0101010101010101, 0x8080808080808080, 0x7f7f7f7f7f7f7f7f
	// between(m, n): a byte b with m < b < n (for bytes below 0x80).
	between := func(m, n uint64) uint64 {
		y := x & low7
		return (ones*(127+n) - y) & ^x & (y + ones*(127-m)) & highs
	}
	return between('%', '+')|between('+', '-')|between('-', '/')|between('9', '=') != 0
}

// allencoded reports whether every byte of b is encoded.
func allEncoded(b []byte) bool {
	for ; len(b) >= 8; b = b[8:] {
		if !encoded8(b) {
			return false
		}
	}
	for _, c := range b {
		if !Encoded[c] {
			return false
		}
	}
	return true
}

// encodedTo returns the end of the encoded bytes of data from i.
func encodedTo(data []byte, i int) int {
	for i+8 <= len(data) && encoded8(data[i:]) {
		i += 8
	}
	for i < len(data) && Encoded[data[i]] {
		i++
	}
	return i
}

// encodedFrom returns the start of the encoded bytes of data up to i.
func encodedFrom(data []byte, i int) int {
	for i >= 8 && encoded8(data[i-8:]) {
		i -= 8
	}
	for i > 0 && Encoded[data[i-1]] {
		i--
	}
	return i
}

// encodedBit is encoded as 0 or 1, to test 8 bytes without branches.
var encodedBit = func() (t [256]uint8) {
	for c, e := range Encoded {
		if e {
			t[c] = 1
		}
	}
	return t
}()
