// Package hexarray reads the bytes a source file spells out as a list of
// hexadecimal literals: `xxd -i` writes a file (a key, a licence, a token)
// as a C array, `0x68, 0x66, 0x63, ...` twelve to a line, for a program to
// embed, and other generators write the same in C, C++, Rust, Go or Java.
// No encoding of a value is such a list (it is cut over lines), so a
// search for the value reads what the lists stand for.
package hexarray

import "bytes"

// MinRun is the fewest literals a list must have to be read: fewer make
// no value worth searching.
const MinRun = 6

// Digit is the value of the hexadecimal digit c, either case.
func Digit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// literal reads a byte literal at data[i:] (0x, 0X, then one or two hex
// digits not followed by a third): its value and the place after it.
func literal(data []byte, i int) (byte, int, bool) {
	if i+2 >= len(data) || data[i] != '0' || data[i+1]|0x20 != 'x' {
		return 0, i, false
	}
	if i > 0 && (data[i-1] == '_' || data[i-1] >= '0' && data[i-1] <= '9' || data[i-1]|0x20 >= 'a' && data[i-1]|0x20 <= 'z') {
		return 0, i, false // inside a word
	}
	var v byte
	j := i + 2
	for ; j < len(data) && j < i+4; j++ {
		d, ok := Digit(data[j])
		if !ok {
			break
		}
		v = v<<4 | d
	}
	if j == i+2 {
		return 0, i, false
	}
	if j < len(data) {
		if _, ok := Digit(data[j]); ok {
			return 0, i, false // a wider literal
		}
	}
	return v, j, true
}

// separator skips what goes between two literals of a list: a comma with
// white space around it (line ends and indentation included), and a
// cast or suffix some generators add is not read. It returns the place of
// the next literal, or -1.
func separator(data []byte, i int) int {
	comma := false
	for ; i < len(data); i++ {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
		case ',':
			if comma {
				return -1
			}
			comma = true
		default:
			if comma {
				return i
			}
			return -1
		}
	}
	return -1
}

// Decoded appends to out the bytes of each list of at least MinRun byte
// literals in data, each after a '\n', and returns it.
func Decoded(out, data []byte) []byte {
	for i := 0; ; {
		k := bytes.IndexByte(data[i:], '0')
		if k < 0 {
			return out
		}
		i += k
		v, j, ok := literal(data, i)
		if !ok {
			i++
			continue
		}
		start := len(out)
		out = append(out, '\n', v)
		for {
			n := separator(data, j)
			if n < 0 {
				break
			}
			v, m, ok := literal(data, n)
			if !ok {
				break
			}
			out = append(out, v)
			j = m
		}
		if len(out)-start-1 < MinRun {
			out = out[:start]
		}
		i = j
	}
}
