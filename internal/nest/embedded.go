package nest

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"errors"
	"io"
	"strconv"
	"strings"
)

// Archives that do not start where their file does, or that are not
// opened by their first bytes as Kind's are: an ar archive (a .deb: its
// members data.tar.xz and control.tar.gz), a zip archive after a launcher
// (python -m zipapp -p, a Spring Boot executable jar, a self-extracting
// zip), a compressed payload after a script (makeself's installers) and
// a git packfile (its objects are zlib streams one after another).

// IsAr reports whether head starts an ar archive (a .deb, a static
// library).
func IsAr(head []byte) bool { return bytes.HasPrefix(head, []byte("!<arch>\n")) }

// ArMember is a member of an ar archive.
type ArMember struct {
	Name string
	Size int64
}

// ArReader reads the members of an ar archive (the common format of
// GNU and BSD ar: a BSD long name "#1/N" is read as the member's first N
// bytes).
type ArReader struct {
	r      *bufio.Reader
	left   int64 // of the current member
	pad    bool
	opened bool
}

// NewArReader reads the ar archive r.
func NewArReader(r io.Reader) *ArReader { return &ArReader{r: bufio.NewReader(r)} }

// Next skips to the next member; io.EOF at the end.
func (a *ArReader) Next() (*ArMember, error) {
	if !a.opened {
		a.opened = true
		var magic [8]byte
		if _, err := io.ReadFull(a.r, magic[:]); err != nil || !IsAr(magic[:]) {
			return nil, errors.New("not an ar archive")
		}
	}
	skip := a.left
	if a.pad {
		skip++
	}
	if _, err := a.r.Discard(int(skip)); err != nil {
		return nil, io.ErrUnexpectedEOF
	}
	a.left, a.pad = 0, false
	var hdr [60]byte
	n, err := io.ReadFull(a.r, hdr[:])
	if n == 0 && (err == io.EOF || err == io.ErrUnexpectedEOF) {
		return nil, io.EOF
	}
	if err != nil || string(hdr[58:60]) != "`\n" {
		return nil, errors.New("a broken ar member header")
	}
	size, err := strconv.ParseInt(strings.TrimSpace(string(hdr[48:58])), 10, 64)
	if err != nil || size < 0 {
		return nil, errors.New("a broken ar member size")
	}
	name := strings.TrimRight(strings.TrimSpace(string(hdr[:16])), "/")
	if rest, ok := strings.CutPrefix(name, "#1/"); ok {
		if k, err := strconv.Atoi(rest); err == nil && k > 0 && int64(k) <= size && k <= 4096 {
			long := make([]byte, k)
			if _, err := io.ReadFull(a.r, long); err != nil {
				return nil, io.ErrUnexpectedEOF
			}
			name = strings.TrimRight(string(long), "\x00")
			size -= int64(k)
			a.pad = (size+int64(k))%2 == 1
			a.left = size
			return &ArMember{name, size}, nil
		}
	}
	a.left, a.pad = size, size%2 == 1
	return &ArMember{name, size}, nil
}

// Read reads the current member's content.
func (a *ArReader) Read(p []byte) (int, error) {
	if a.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > a.left {
		p = p[:a.left]
	}
	n, err := a.r.Read(p)
	a.left -= int64(n)
	if err == io.EOF && a.left > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// ZipTail is how far before its end a file's zip end-of-central-directory
// record is looked for (ZipAtEnd): the record (22 bytes) and a comment of
// up to 1 KiB. Zip comments are rare; archives with a longer one are
// found by their first bytes only.
const ZipTail = 22 + 1024

// ZipAtEnd reports whether tail, the last bytes of a file (at most
// ZipTail), holds a zip end-of-central-directory record whose comment
// runs to the file's end: the file ends as a zip archive, wherever the
// archive starts.
func ZipAtEnd(tail []byte) bool {
	for i := len(tail) - 22; i >= 0; i-- {
		if tail[i] == 'P' && string(tail[i:i+4]) == "PK\x05\x06" {
			comment := int(tail[i+20]) | int(tail[i+21])<<8
			if i+22+comment == len(tail) {
				return true
			}
		}
	}
	return false
}

// IsScript reports whether head starts a script (#!): a self-extracting
// installer or archive starts as one.
func IsScript(head []byte) bool { return bytes.HasPrefix(head, []byte("#!")) }

// PayloadAt returns where in data the first gzip, xz, bzip2 or zstd
// stream starts, and its kind, or -1: in a script's bytes past its first
// line, the payload a self-extracting installer appends to it.
func PayloadAt(data []byte) (int, string) {
	best, kind := -1, ""
	for _, m := range []struct {
		magic string
		kind  string
	}{{"\x1f\x8b\x08", "gzip"}, {"\xfd7zXZ\x00", "xz"}, {"\x28\xb5\x2f\xfd", "zstd"}, {"BZh", "bzip2"}} {
		end := len(data)
		if best >= 0 {
			end = best
		}
		for from := 0; from < end; {
			i := bytes.Index(data[from:end], []byte(m.magic))
			if i < 0 {
				break
			}
			i += from
			if Kind(data[i:min(len(data), i+8)]) == m.kind {
				best, kind = i, m.kind
				break
			}
			from = i + 1
		}
	}
	return best, kind
}

// IsPack reports whether head starts a git packfile (version 2 or 3).
func IsPack(head []byte) bool {
	return len(head) >= 12 && string(head[:4]) == "PACK" && string(head[4:7]) == "\x00\x00\x00" && (head[7] == 2 || head[7] == 3)
}

// PackReader reads the objects of a git packfile one after another,
// each decompressed: a blob's content, a tree's or commit's, a delta's
// instructions (the bytes a delta inserts are in them as they are; what
// it copies from its base is in the base). Read fails with the error of
// an object that cannot be read.
type PackReader struct {
	r     *bufio.Reader
	count uint32
	seen  uint32
	z     io.ReadCloser
	err   error
}

// NewPackReader reads the packfile r.
func NewPackReader(r io.Reader) (*PackReader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var hdr [12]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil || !IsPack(hdr[:]) {
		return nil, errors.New("not a git packfile")
	}
	count := uint32(hdr[8])<<24 | uint32(hdr[9])<<16 | uint32(hdr[10])<<8 | uint32(hdr[11])
	return &PackReader{r: br, count: count}, nil
}

// next opens the next object's zlib stream.
func (p *PackReader) next() error {
	c, err := p.r.ReadByte()
	if err != nil {
		return io.ErrUnexpectedEOF
	}
	typ := c >> 4 & 7
	for n := 0; c&0x80 != 0; n++ {
		if c, err = p.r.ReadByte(); err != nil || n > 10 {
			return errors.New("a broken object header")
		}
	}
	switch typ {
	case 6: // OFS_DELTA: the base's offset
		for n := 0; ; n++ {
			if c, err = p.r.ReadByte(); err != nil || n > 10 {
				return errors.New("a broken delta header")
			}
			if c&0x80 == 0 {
				break
			}
		}
	case 7: // REF_DELTA: the base's name
		if _, err := p.r.Discard(20); err != nil {
			return io.ErrUnexpectedEOF
		}
	case 0, 5:
		return errors.New("an object of an unknown type")
	}
	if p.z == nil {
		p.z, err = zlib.NewReader(p.r)
	} else {
		err = p.z.(zlib.Resetter).Reset(p.r, nil)
	}
	return err
}

func (p *PackReader) Read(b []byte) (int, error) {
	for {
		if p.err != nil {
			return 0, p.err
		}
		if p.z != nil && p.seen > 0 {
			n, err := p.z.Read(b)
			if err == nil || n > 0 {
				return n, nil
			}
			if err != io.EOF {
				p.err = err
				return 0, err
			}
		}
		if p.seen == p.count {
			p.err = io.EOF
			return 0, io.EOF
		}
		if err := p.next(); err != nil {
			p.err = err
			return 0, err
		}
		p.seen++
	}
}

// How the build-time check and the verifier name what they find in the
// embedded forms: PATH (git pack), PATH (after the script) (gzip),
// PATH (base64), PATH (base64) (gzip); an ar member is PATH:MEMBER and a
// zip after a launcher's file PATH:NAME, as any archive's.
const (
	PackSuffix    = " (git pack)"
	PayloadSuffix = " (after the script)"
	Base64Suffix  = " (base64)"
)

// Binary reports content that is not text, nor a tar of files (which
// holds text files): a NUL in its first 1 KiB. Base64 runs are decoded
// in text only.
func Binary(data []byte) bool {
	if bytes.IndexByte(data[:min(len(data), 1024)], 0) < 0 {
		return false
	}
	return !IsTar(data)
}

// ScriptPayload returns where the first compressed stream past the first
// line of data, a script's whole content, starts and its kind, or -1.
func ScriptPayload(data []byte) (int64, string) {
	if nl := bytes.IndexByte(data, '\n'); nl >= 0 {
		if i, kind := PayloadAt(data[nl+1:]); i >= 0 {
			return int64(nl + 1 + i), kind
		}
	}
	return -1, ""
}

// ScriptPayloadAt is ScriptPayload for a script read from r (size
// bytes), searched 1 MiB at a time.
func ScriptPayloadAt(r io.ReaderAt, size int64) (int64, string) {
	const chunk, overlap = 1 << 20, 8
	buf := make([]byte, min(size, chunk+overlap))
	for off := int64(0); off < size; off += chunk {
		k, _ := r.ReadAt(buf, off)
		if k <= 0 {
			break
		}
		b, skip := buf[:k], 0
		if off == 0 {
			// The script's first line is no payload.
			if skip = bytes.IndexByte(b, '\n') + 1; skip == 0 {
				continue
			}
		}
		if i, kind := PayloadAt(b[skip:]); i >= 0 {
			return off + int64(skip+i), kind
		}
	}
	return -1, ""
}

// SkipToPayload reads a script from br, which must hold at least 64 KiB
// of buffer, up to the first compressed stream or zip archive (a local
// file header, "PK\x03\x04") past its first line, and returns its kind
// ("zip" for an archive), or "" at the end of the script. keep, when not
// nil, is given every byte skipped, so that a zip archive whose offsets
// count from the file's start can be read with what precedes it.
// It is for a script read as a stream, whose end (where a zip archive's
// directory is) is not known yet.
func SkipToPayload(br *bufio.Reader, keep func([]byte)) (string, error) {
	const overlap = 8
	skip := func(k int) error {
		b, _ := br.Peek(k)
		if keep != nil {
			keep(b)
		}
		_, err := br.Discard(k)
		return err
	}
	first := true
	for {
		b, err := br.Peek(br.Size())
		if len(b) == 0 {
			if err == io.EOF {
				err = nil
			}
			return "", err
		}
		from := 0
		if first {
			// The script's first line is no payload.
			nl := bytes.IndexByte(b, '\n')
			if nl < 0 && err == nil {
				if err := skip(len(b)); err != nil {
					return "", err
				}
				continue
			}
			first, from = nl < 0, nl+1
			if nl < 0 {
				from = len(b)
			}
		}
		at, kind := PayloadAt(b[from:])
		end := len(b[from:])
		if at >= 0 {
			end = at
		}
		if z := bytes.Index(b[from:from+min(len(b)-from, end+3)], []byte("PK\x03\x04")); z >= 0 && (at < 0 || z < at) {
			at, kind = z, "zip"
		}
		if at >= 0 {
			return kind, skip(from + at)
		}
		if err != nil {
			// The end: what is left is no payload.
			return "", skip(len(b))
		}
		if err := skip(max(from, len(b)-overlap)); err != nil {
			return "", err
		}
	}
}
