package nest

import (
	"encoding/binary"
	"io"
)

// Executables with a payload appended: packers that make one executable
// of a program and its files append them to a prebuilt binary, each
// compressed: vercel/pkg (the node binary, then each file gzip-compressed
// with --compress GZip; for Linux, Windows and macOS targets alike),
// Nuitka's --onefile (its bootstrap, then one zstd stream), warp (its
// runner, then a .tar.gz). An executable's own content ends where its
// headers, segments and sections end; what follows is the payload,
// searched for compressed streams. (PyInstaller's archive is
// read by its table of contents instead: see CArchive.) An RPM package
// is opened so too: its payload, a compressed cpio archive, follows its
// headers.

// AppendedSuffix names, in findings, a compressed stream appended to an
// executable: PATH (appended to the executable) at byte N (gzip);
// RPMSuffix the payload of an RPM package: PATH (RPM payload) at byte N
// (xz).
const (
	AppendedSuffix = " (appended to the executable)"
	RPMSuffix      = " (RPM payload)"
)

// rpmLead is the size of an RPM package's lead, which starts with the
// magic number \xed\xab\xee\xdb; its signature and header follow, then
// its payload: a cpio archive, gzip-, xz- or zstd-compressed.
const rpmLead = 96

// IsRPM reports whether head starts an RPM package.
func IsRPM(head []byte) bool { return len(head) >= 4 && string(head[:4]) == "\xed\xab\xee\xdb" }

// PayloadStart returns where to look for the compressed streams that the
// file r (size bytes, starting with head) carries past its own content,
// and the suffix that names them: past an executable's content (ELF: see
// ELFEnd; PE; thin Mach-O), past an RPM package's lead (its headers hold
// no stream, its payload is one). -1 for other files, or nothing past
// their content.
func PayloadStart(r io.ReaderAt, head []byte, size int64) (int64, string) {
	switch {
	case IsELF(head):
		if end := ELFEnd(r, size); end >= 0 && end < size {
			return end, AppendedSuffix
		}
	case IsRPM(head) && size > rpmLead:
		return rpmLead, RPMSuffix
	case len(head) >= 2 && string(head[:2]) == "MZ":
		if end := peEnd(r, size); end >= 0 && end < size {
			return end, AppendedSuffix
		}
	case machoKind(head) != 0:
		if end := machoEnd(r, head, size); end >= 0 && end < size {
			return end, AppendedSuffix
		}
	}
	return -1, ""
}

// peEnd returns where the content of the PE executable r (size bytes:
// a Windows .exe, such as pkg -t node18-win-x64 makes) ends: past its
// section table and the raw data of each section. What follows (pkg's
// payload; an Authenticode signature) was appended. -1 when r is no PE
// file it can read.
func peEnd(r io.ReaderAt, size int64) int64 {
	var dos [64]byte
	if n, _ := r.ReadAt(dos[:], 0); n < 64 {
		return -1
	}
	off := int64(binary.LittleEndian.Uint32(dos[0x3c:]))
	var coff [24]byte
	if off <= 0 || off > size-24 {
		return -1
	}
	if n, _ := r.ReadAt(coff[:], off); n < 24 || string(coff[:4]) != "PE\x00\x00" {
		return -1
	}
	nsec := int64(binary.LittleEndian.Uint16(coff[6:]))
	table := off + 24 + int64(binary.LittleEndian.Uint16(coff[20:]))
	if table+40*nsec > size {
		return -1
	}
	end := table + 40*nsec
	secs := make([]byte, 40*nsec)
	if n, _ := r.ReadAt(secs, table); int64(n) != 40*nsec {
		return -1
	}
	for i := int64(0); i < nsec; i++ {
		s := secs[40*i:]
		raw, ptr := int64(binary.LittleEndian.Uint32(s[16:])), int64(binary.LittleEndian.Uint32(s[20:]))
		if raw == 0 {
			continue
		}
		if ptr > size || raw > size-ptr {
			return -1
		}
		end = max(end, ptr+raw)
	}
	return end
}

// machoKind returns 32 or 64 for a thin Mach-O file of either byte order
// (a macOS executable), or 0: universal files (cafebabe) are no thin
// file, and Java class files start so too.
func machoKind(head []byte) int {
	if len(head) < 4 {
		return 0
	}
	switch string(head[:4]) {
	case "\xfe\xed\xfa\xce", "\xce\xfa\xed\xfe":
		return 32
	case "\xfe\xed\xfa\xcf", "\xcf\xfa\xed\xfe":
		return 64
	}
	return 0
}

// machoEnd returns where the content of the thin Mach-O file r (size
// bytes, starting with head) ends: past its load commands and the file
// image of each segment (__LINKEDIT, the last, holds its code
// signature). -1 when r is no Mach-O file it can read.
func machoEnd(r io.ReaderAt, head []byte, size int64) int64 {
	bits := machoKind(head)
	var bo binary.ByteOrder = binary.BigEndian
	if head[0] == 0xce || head[0] == 0xcf {
		bo = binary.LittleEndian
	}
	hdr := int64(28)
	if bits == 64 {
		hdr = 32
	}
	var h [32]byte
	if n, _ := r.ReadAt(h[:hdr], 0); int64(n) < hdr {
		return -1
	}
	ncmds, sizeofcmds := int64(bo.Uint32(h[16:])), int64(bo.Uint32(h[20:]))
	if sizeofcmds > size-hdr || sizeofcmds > 1<<24 || ncmds > sizeofcmds/8 {
		return -1
	}
	cmds := make([]byte, sizeofcmds)
	if n, _ := r.ReadAt(cmds, hdr); int64(n) != sizeofcmds {
		return -1
	}
	end := hdr + sizeofcmds
	for i, p := int64(0), int64(0); i < ncmds; i++ {
		if p+8 > sizeofcmds {
			return -1
		}
		cmd, sz := bo.Uint32(cmds[p:]), int64(bo.Uint32(cmds[p+4:]))
		if sz < 8 || sz > sizeofcmds-p {
			return -1
		}
		var off, filesz int64
		switch {
		case cmd == 0x19 && sz >= 56: // LC_SEGMENT_64
			off, filesz = int64(bo.Uint64(cmds[p+40:])), int64(bo.Uint64(cmds[p+48:]))
		case cmd == 0x1 && sz >= 40: // LC_SEGMENT
			off, filesz = int64(bo.Uint32(cmds[p+32:])), int64(bo.Uint32(cmds[p+36:]))
		}
		if filesz != 0 {
			if off < 0 || filesz < 0 || off > size || filesz > size-off {
				return -1
			}
			end = max(end, off+filesz)
		}
		p += sz
	}
	return end
}

// MaxAppendedStreams bounds the compressed streams looked for in one
// executable's payload (pkg writes one per file it packs: a large
// node_modules is tens of thousands); past it the check fails closed.
var MaxAppendedStreams = 1 << 17

// IsELF reports whether head starts an ELF file.
func IsELF(head []byte) bool { return len(head) >= 4 && string(head[:4]) == "\x7fELF" }

// ELFEnd returns where the content of the ELF file r (size bytes) ends:
// the furthest end of its ELF header, its program and section header
// tables, its segments' file images and its sections (but those that
// take no room in the file, SHT_NOBITS). What lies past it was appended.
// It returns -1 for a file that is no ELF file it can read, or whose
// headers point past its end.
func ELFEnd(r io.ReaderAt, size int64) int64 {
	var h [64]byte
	n, _ := r.ReadAt(h[:], 0)
	if n < 52 || !IsELF(h[:]) {
		return -1
	}
	var bo binary.ByteOrder
	switch h[5] {
	case 1:
		bo = binary.LittleEndian
	case 2:
		bo = binary.BigEndian
	default:
		return -1
	}
	wide := h[4] == 2
	if h[4] != 1 && !wide || wide && n < 64 {
		return -1
	}
	var phoff, shoff, ehsize uint64
	var phent, phnum, shent, shnum uint64
	if wide {
		phoff, shoff = bo.Uint64(h[32:]), bo.Uint64(h[40:])
		ehsize = 64
		phent, phnum, shent, shnum = uint64(bo.Uint16(h[54:])), uint64(bo.Uint16(h[56:])), uint64(bo.Uint16(h[58:])), uint64(bo.Uint16(h[60:]))
	} else {
		phoff, shoff = uint64(bo.Uint32(h[28:])), uint64(bo.Uint32(h[32:]))
		ehsize = 52
		phent, phnum, shent, shnum = uint64(bo.Uint16(h[42:])), uint64(bo.Uint16(h[44:])), uint64(bo.Uint16(h[46:])), uint64(bo.Uint16(h[48:]))
	}
	minPh, minSh := uint64(32), uint64(40)
	if wide {
		minPh, minSh = 56, 64
	}
	end := ehsize
	// extend takes [off, off+k) into the file's content, or says that it
	// lies past the file's end.
	extend := func(off, k uint64) bool {
		if off > uint64(size) || k > uint64(size)-off {
			return false
		}
		end = max(end, off+k)
		return true
	}
	// table reads the header table at off of num entries of ent bytes.
	table := func(off, num, ent, least uint64) ([]byte, bool) {
		if num == 0 {
			return nil, true
		}
		if ent < least || !extend(off, num*ent) {
			return nil, false
		}
		b := make([]byte, num*ent)
		if k, _ := r.ReadAt(b, int64(off)); uint64(k) != num*ent {
			return nil, false
		}
		return b, true
	}
	ph, ok := table(phoff, phnum, phent, minPh)
	if !ok {
		return -1
	}
	for i := uint64(0); i < phnum; i++ {
		e := ph[i*phent:]
		var off, filesz uint64
		if wide {
			off, filesz = bo.Uint64(e[8:]), bo.Uint64(e[32:])
		} else {
			off, filesz = uint64(bo.Uint32(e[4:])), uint64(bo.Uint32(e[16:]))
		}
		if filesz > 0 && !extend(off, filesz) {
			return -1
		}
	}
	sh, ok := table(shoff, shnum, shent, minSh)
	if !ok {
		return -1
	}
	const shtNobits = 8
	for i := uint64(0); i < shnum; i++ {
		e := sh[i*shent:]
		if bo.Uint32(e[4:]) == shtNobits {
			continue
		}
		var off, sz uint64
		if wide {
			off, sz = bo.Uint64(e[24:]), bo.Uint64(e[32:])
		} else {
			off, sz = uint64(bo.Uint32(e[16:])), uint64(bo.Uint32(e[20:]))
		}
		if sz > 0 && !extend(off, sz) {
			return -1
		}
	}
	return int64(end)
}

// StreamFinder finds the gzip, xz, zstd and bzip2 streams of r (size
// bytes) one after another, reading r 1 MiB at a time and each part once
// however many streams it holds (pkg appends one per file).
type StreamFinder struct {
	r    io.ReaderAt
	size int64
	buf  []byte
	base int64 // the offset buf[:n] was read from
	n    int
}

// NewStreamFinder returns a StreamFinder over r, of size bytes.
func NewStreamFinder(r io.ReaderAt, size int64) *StreamFinder {
	return &StreamFinder{r: r, size: size}
}

// Next returns where, at from or past it, the next stream starts, and its
// kind, or -1.
func (s *StreamFinder) Next(from int64) (int64, string) {
	const chunk, overlap = 1 << 20, 8
	if s.buf == nil {
		s.buf = make([]byte, min(max(s.size-from, 0), chunk+overlap))
	}
	for from >= 0 && from < s.size {
		end := s.base + int64(s.n)
		// Read again when from is out of what was read, or so close to
		// its end that a magic number there may be cut.
		if s.n == 0 || from < s.base || from >= end || (from >= end-overlap && end < s.size) {
			k, _ := s.r.ReadAt(s.buf, from)
			if k <= 0 {
				return -1, ""
			}
			s.base, s.n = from, k
			end = from + int64(k)
		}
		if i, kind := PayloadAt(s.buf[from-s.base : s.n]); i >= 0 {
			return from + int64(i), kind
		}
		if end >= s.size {
			return -1, ""
		}
		from = end - overlap
	}
	return -1, ""
}
