package nest

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"io"
)

// A PyInstaller executable (pyinstaller --onefile) is its bootloader, a
// program, with a CArchive appended: the entries the program unpacks at
// run time (the script, compiled; each --add-data file; the PYZ archive
// of the modules), each zlib-compressed, then its table of contents and a
// cookie. Its files hold a value only once decompressed, and nothing at
// the file's start says so.

// PyInstallerSuffix names, in findings, what a PyInstaller archive holds:
// PATH (PyInstaller):NAME (zlib).
const PyInstallerSuffix = " (PyInstaller)"

// meiMagic starts the cookie of a CArchive.
var meiMagic = []byte("MEI\014\013\012\013\016")

// meiCookieLen is the length of the cookie of PyInstaller 4 and later:
// the magic, the archive's length, its table's offset and length, the
// Python version and the name of the Python library.
const meiCookieLen = 8 + 4 + 4 + 4 + 4 + 64

// MEITail is how much of a file's end CArchive looks for the cookie in
// (a signature may follow it).
const MEITail = 4096

// CArchiveEntry is an entry of a PyInstaller archive: its name, where its
// data is in the file, and whether that is zlib-compressed.
type CArchiveEntry struct {
	Name           string
	Offset, Length int64
	Compressed     bool
	// PYZ marks the archive of the modules, whose entries are
	// zlib-compressed one after another (see PYZReader).
	PYZ bool
}

// CArchive returns the entries of the PyInstaller archive that ends r
// (size bytes; tail, its last bytes, up to MEITail), or nil when it ends
// as no such archive. At most maxEntries entries are read.
func CArchive(r io.ReaderAt, size int64, tail []byte) []CArchiveEntry {
	const maxEntries, maxTOC = 1 << 16, 16 << 20
	i := bytes.LastIndex(tail, meiMagic)
	if i < 0 || len(tail)-i < meiCookieLen {
		return nil
	}
	cookie := tail[i : i+meiCookieLen]
	end := size - int64(len(tail)) + int64(i) + meiCookieLen // where the archive ends
	pkgLen := int64(binary.BigEndian.Uint32(cookie[8:]))
	tocOff := int64(binary.BigEndian.Uint32(cookie[12:]))
	tocLen := int64(binary.BigEndian.Uint32(cookie[16:]))
	start := end - pkgLen
	if start < 0 || tocOff+tocLen > pkgLen || tocLen > maxTOC {
		return nil
	}
	toc := make([]byte, tocLen)
	if _, err := r.ReadAt(toc, start+tocOff); err != nil {
		return nil
	}
	var out []CArchiveEntry
	for k := 0; k+18 <= len(toc) && len(out) < maxEntries; {
		n := int(binary.BigEndian.Uint32(toc[k:]))
		if n < 18 || k+n > len(toc) {
			break
		}
		off := int64(binary.BigEndian.Uint32(toc[k+4:]))
		clen := int64(binary.BigEndian.Uint32(toc[k+8:]))
		flag, typ := toc[k+16], toc[k+17]
		name := string(bytes.TrimRight(toc[k+18:k+n], "\x00"))
		k += n
		if off+clen > tocOff {
			continue // not in the archive's data
		}
		out = append(out, CArchiveEntry{Name: name, Offset: start + off, Length: clen, Compressed: flag == 1, PYZ: typ == 'z'})
	}
	return out
}

// pyzMagic starts a PYZ archive.
var pyzMagic = []byte("PYZ\x00")

// PYZReader reads the modules of a PYZ archive r (an entry of a
// CArchive): each a zlib stream of a compiled module, one after another
// from its header to its table of contents, decompressed one after
// another. A PYZ whose data cannot be read yields what it could.
type PYZReader struct {
	r   *bytes.Reader
	cur io.ReadCloser
	end int64
}

// NewPYZReader reads the PYZ archive data, or returns nil when data is no
// PYZ archive.
func NewPYZReader(data []byte) *PYZReader {
	if len(data) < 14 || !bytes.HasPrefix(data, pyzMagic) {
		return nil
	}
	end := int64(binary.BigEndian.Uint32(data[8:]))
	if end < 14 || end > int64(len(data)) {
		end = int64(len(data))
	}
	// The header (the magic, Python's bytecode magic, the table's offset)
	// is padded to a length that depends on PyInstaller's version: the
	// first module starts at the first zlib header after it.
	first := -1
	for k := 12; k+1 < min(len(data), 32); k++ {
		if data[k]&0x0f == 8 && (int(data[k])<<8|int(data[k+1]))%31 == 0 {
			first = k
			break
		}
	}
	if first < 0 {
		return nil
	}
	r := bytes.NewReader(data)
	if _, err := r.Seek(int64(first), io.SeekStart); err != nil {
		return nil
	}
	return &PYZReader{r: r, end: end}
}

// Read yields the modules decompressed, one after another.
func (p *PYZReader) Read(b []byte) (int, error) {
	for {
		if p.cur == nil {
			if p.r.Size()-int64(p.r.Len()) >= p.end {
				return 0, io.EOF
			}
			zr, err := zlib.NewReader(p.r)
			if err != nil {
				return 0, io.EOF
			}
			p.cur = zr
		}
		n, err := p.cur.Read(b)
		if err == io.EOF {
			p.cur.Close()
			p.cur = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		if err != nil {
			return n, io.EOF // corrupt: what could be read
		}
		return n, nil
	}
}
