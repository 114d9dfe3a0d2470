// Package nesttest makes, for tests, the forms package nest opens that
// the standard library cannot write: ar archives (a .deb), git packfiles
// and brotli data.
package nesttest

import (
	"bytes"
	"compress/zlib"
	"fmt"

	"github.com/andybalholm/brotli"
)

// Brotli is data brotli-compressed (at level 5, as a build's
// precompression step would).
func Brotli(data []byte) []byte {
	var b bytes.Buffer
	w := brotli.NewWriterLevel(&b, 5)
	w.Write(data) // a bytes.Buffer does not fail
	w.Close()
	return b.Bytes()
}

// Ar is an ar archive of members (name, content, ...), as dpkg-deb
// writes a .deb.
func Ar(members ...string) []byte {
	var b bytes.Buffer
	b.WriteString("!<arch>\n")
	for i := 0; i+1 < len(members); i += 2 {
		fmt.Fprintf(&b, "%-16s%-12d%-6d%-6d%-8s%-10d`\n", members[i], 0, 0, 0, "100644", len(members[i+1]))
		b.WriteString(members[i+1])
		if len(members[i+1])%2 == 1 {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// Pack is a git packfile of blobs, and of a delta object inserting
// insert (an OFS_DELTA on the first blob; its sizes are cut to a byte,
// which a reader that does not apply deltas does not mind).
func Pack(insert string, blobs ...string) []byte {
	var b bytes.Buffer
	n := len(blobs)
	if insert != "" {
		n++
	}
	b.WriteString("PACK\x00\x00\x00\x02")
	b.Write([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
	header := func(typ byte, size int) {
		c := typ<<4 | byte(size&15)
		size >>= 4
		for size > 0 {
			b.WriteByte(c | 0x80)
			c, size = byte(size&0x7f), size>>7
		}
		b.WriteByte(c)
	}
	deflate := func(data []byte) {
		zw := zlib.NewWriter(&b)
		zw.Write(data) // a bytes.Buffer does not fail
		zw.Close()
	}
	first := b.Len()
	for _, blob := range blobs {
		header(3, len(blob))
		deflate([]byte(blob))
	}
	if insert != "" {
		at := b.Len()
		// base size, result size, copy the base's first 4 bytes, insert.
		delta := []byte{byte(len(blobs[0])), byte(4 + len(insert)), 0x90, 4, byte(len(insert))}
		delta = append(delta, insert...)
		header(6, len(delta))
		b.WriteByte(byte(at - first)) // the base's offset back (< 128)
		deflate(delta)
	}
	b.Write(make([]byte, 20)) // the checksum
	return b.Bytes()
}
