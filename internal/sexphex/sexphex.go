// Package sexphex reads the binary strings that an S-expression spells
// out in hexadecimal: gpg-agent keeps each private key in a file of
// private-keys-v1.d whose Key: item is an S-expression (`(d #0A1C...#)`),
// the secret numbers written as upper-case hex and cut over lines that
// go on after a space (`gpg --import` of an unprotected key writes them
// so, in the clear). No encoding of a value is such a string (it is cut
// over lines), so a search for the value reads what the strings stand
// for.
package sexphex

import (
	"bytes"

	"github.com/hushbuild/hushbuild/internal/hexarray"
)

// MinDigits is the fewest hex digits a string must have to be read: the
// secret numbers of keys are longer, shorter strings are no value worth
// searching.
const MinDigits = 32

// marker is what every private key file of gpg-agent holds (in
// `private-key`, `protected-private-key`, `shadowed-private-key`): only
// a text that holds it is read.
var marker = []byte("private-key")

// Decoded appends to out the bytes of each hexadecimal string
// (`#...#`, white space and line ends inside it skipped) of at least
// MinDigits digits of data, each after a '\n', and returns it. A data
// that does not hold "private-key" is not read.
func Decoded(out, data []byte) []byte {
	if !bytes.Contains(data, marker) {
		return out
	}
	for i := 0; i < len(data); {
		k := bytes.IndexByte(data[i:], '#')
		if k < 0 {
			return out
		}
		i += k + 1
		start := len(out)
		out = append(out, '\n')
		var hi byte
		digits := 0
		j := i
		closed := false
	scan:
		for ; j < len(data); j++ {
			c := data[j]
			switch c {
			case '#':
				closed = true
				break scan
			case ' ', '\t', '\n', '\r':
				continue
			}
			d, ok := hexarray.Digit(c)
			if !ok {
				break
			}
			if digits%2 == 0 {
				hi = d
			} else {
				out = append(out, hi<<4|d)
			}
			digits++
		}
		if !closed || digits < MinDigits || digits%2 != 0 {
			out = out[:start]
			continue // j is where the next string may start ('#' included)
		}
		i = j + 1
	}
	return out
}
