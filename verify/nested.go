package verify

import (
	"archive/tar"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/hushbuild/hushbuild/internal/nest"
	"github.com/hushbuild/hushbuild/secretscan"
)

// A layer file whose content is compressed data or an archive (a
// .tar.gz, .jar, .xz copied into the image) is searched as it is, by the
// layer's scan, and opened by a nester, which searches what it holds:
// the decompressed content, each member of a tar and each file of a zip,
// and the archives inside those, up to nest.MaxNest levels. A hit is
// reported at "PATH (gzip):MEMBER", as the build-time check names it.
//
// The nester runs in its own goroutine, fed the file's content through a
// pipe as the layer's scan reads it, so that a file of any size is
// opened as it streams (a zip archive, which cannot be, is read into
// memory up to nest.MaxInnerZip bytes, into a temporary file beyond).

// maxDecompressed is nest.MaxDecompressed (a variable for the tests).
var maxDecompressed int64 = nest.MaxDecompressed

// maxZipInMemory is nest.MaxInnerZip (a variable for the tests): a
// larger zip archive is spooled to a temporary file to be opened.
var maxZipInMemory int64 = nest.MaxInnerZip

// nestHead is how much of a file is looked at to decide whether to open
// it (a tar archive's magic number is at 257).
const nestHead = 512

// errTooBig is a content that decompresses beyond the limits.
var errTooBig = errors.New("decompresses beyond the limits")

// nester opens one layer file.
type nester struct {
	m        *matcher
	sm       *small
	c        *collector // its own: merged into the layer's when done
	path     string     // the file's reported (redacted) path
	real     string     // the file's path, for deletion checks
	size     int64
	used     int64 // bytes decompressed so far, all levels together
	limit    int64
	streams  []*secretscan.Stream // one per level
	bufs     []*bufio.Reader      // free ones, for reuse
	notes    []string
	tmpFiles []string
	b64      []byte // a base64 run decoded (base64View)
	join     []byte // a text's wrapped runs joined (base64View)
}

// newNester makes a nester; reset readies it for a file.
func (m *matcher) newNester() *nester { return &nester{m: m, sm: m.small()} }

func (n *nester) reset(c *collector, p, real string, size int64) {
	n.c, n.path, n.real, n.size = c, p, real, size
	n.used, n.limit = 0, nest.Limit(size, maxDecompressed)
	n.notes, n.tmpFiles = nil, nil
}

// reader returns a buffered reader of r (64 KB; putReader gives it back).
func (n *nester) reader(r io.Reader) *bufio.Reader {
	if k := len(n.bufs); k > 0 {
		b := n.bufs[k-1]
		n.bufs = n.bufs[:k-1]
		b.Reset(r)
		return b
	}
	return bufio.NewReaderSize(r, 64<<10)
}

func (n *nester) putReader(b *bufio.Reader) {
	b.Reset(nil)
	n.bufs = append(n.bufs, b)
}

// nestBytes opens a file whose whole content is data (already searched
// as it is, its findings in c), in the caller's goroutine, adding its
// findings to c. It returns the notes, and an error past the limits.
func (n *nester) nestBytes(c *collector, p, real string, data []byte) ([]string, error) {
	n.reset(c, p, real, int64(len(data)))
	err := n.open(bytes.NewReader(data), path.Base(real), data)
	n.cleanup()
	return n.notes, err
}

func (n *nester) cleanup() {
	for _, f := range n.tmpFiles {
		os.Remove(f)
	}
	n.tmpFiles = nil
}

// opening is a layer file being fed to a nester.
type opening struct {
	pw   *io.PipeWriter
	done chan error
	n    *nester
	dead bool // the nester stopped reading
}

// openNested starts a nester on the file at real (reported at p), of size
// bytes, whose content starts with head; feed it the rest with write and
// end it with finish.
func (m *matcher) openNested(p, real string, size int64) *opening {
	pr, pw := io.Pipe()
	n := m.newNester()
	n.reset(newCollector(), p, real, size)
	o := &opening{pw: pw, done: make(chan error, 1), n: n}
	go func() {
		err := n.open(pr, path.Base(real), nil)
		// Whatever it did not read is not needed: the layer's scan
		// searched the file as it is.
		pr.CloseWithError(io.ErrClosedPipe)
		n.cleanup()
		o.done <- err
	}()
	return o
}

// write feeds p (which may be reused once write returns).
func (o *opening) write(p []byte) {
	if o.dead || len(p) == 0 {
		return
	}
	if _, err := o.pw.Write(p); err != nil {
		o.dead = true
	}
}

// finish ends the input, waits for the nester and gives its findings to
// c; it returns the nester's notes, and an error past the limits. With
// abort the input is cut short (the layer's scan stops).
func (o *opening) finish(c *collector, abort bool) ([]string, error) {
	if abort {
		o.pw.CloseWithError(errors.New("the layer's scan stopped"))
	} else {
		o.pw.Close()
	}
	err := <-o.done
	c.merge(o.n.c)
	return o.n.notes, err
}

// nestable tells whether a file called name starting with head is
// opened as compressed data or an archive (see also embeddable).
func nestable(head []byte, name string) bool {
	return nest.Kind(head) != "" || nest.IsTar(head) || nest.KindByName(name) != ""
}

// open opens the file's content (already searched as it is); data is
// that content when it is whole in memory (see embedded).
func (n *nester) open(r io.Reader, name string, data []byte) error {
	br := n.reader(r)
	head, _ := br.Peek(nestHead)
	var err error
	if nestable(head, name) {
		_, err = n.content(br, "", name, 0, true)
	} else {
		err = n.embedded(br, head, name, data)
	}
	n.putReader(br)
	if !errors.Is(err, errTooBig) && data != nil && !nest.Binary(data) {
		err = n.base64View(n.c, data)
	}
	if errors.Is(err, errTooBig) {
		return fmt.Errorf("%s: decompresses to more than %d bytes, the limit for a file of %d bytes (2 GiB, and past 64 MiB %d times its size): not fully scanned", n.path, n.limit, n.size, nest.MaxRatio)
	}
	return nil // what cannot be read is in the notes
}

func (n *nester) note(suffix, format string, a ...any) {
	n.notes = append(n.notes, n.path+suffix+": "+fmt.Sprintf(format, a...))
}

// stream returns the scan of the given level, reset for an input called
// name found at suffix.
func (n *nester) stream(depth int, suffix, name string) *secretscan.Stream {
	for len(n.streams) <= depth {
		n.streams = append(n.streams, n.m.sc.Stream("", nil))
	}
	st := n.streams[depth]
	p := n.path + suffix
	st.Reset(name, func(x secretscan.Match) {
		n.m.ids(x, func(id matchID) {
			n.c.add(rawHit{id: id, path: p, real: n.real, in: InContent, history: -1, offset: x.Offset})
		})
	})
	return st
}

// counted counts what r yields against the limit.
type counted struct {
	r io.Reader
	n *nester
	k int64 // bytes yielded
}

func (c *counted) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.k += int64(k)
	if c.n.used += int64(k); c.n.used > c.n.limit {
		return k, errTooBig
	}
	return k, err
}

// content searches what r yields, found at suffix in the file, called
// name (for the file-name rules), at depth levels in (0: the file
// itself), and opens it when it is compressed or an archive. scanned
// says it was searched as it is already (the file itself, or a member of
// a tar searched whole). It returns r's error (errTooBig past the
// limits).
func (n *nester) content(br *bufio.Reader, suffix, name string, depth int, scanned bool) (int64, error) {
	head, _ := br.Peek(nestHead)
	kind := nest.Kind(head)
	if kind == "" {
		kind = nest.KindByName(name)
	}
	switch {
	case kind != "" && depth >= nest.MaxNest:
		n.note(suffix, "%s data nested more than %d archives deep: searched as raw bytes only", kind, nest.MaxNest)
	case kind == "zip":
		return n.zip(br, suffix, name, depth, scanned)
	case kind != "":
		var in io.Reader = br
		var st *secretscan.Stream
		if !scanned {
			st = n.stream(depth, suffix, name)
			in = io.TeeReader(br, streamWriter{st})
		}
		src := &sourceCount{r: in}
		sb := n.reader(src)
		dr, release, err := nest.Decompress(kind, sb)
		var k int64
		inner := suffix + " (" + kind + ")"
		if err == nil {
			db := n.reader(&counted{r: dr, n: n})
			k, err = n.content(db, inner, strings.TrimSuffix(name, path.Ext(name)), depth+1, false)
			n.putReader(db)
		}
		release()
		n.putReader(sb)
		if errors.Is(err, errTooBig) {
			return src.k, err
		}
		if err != nil && !((kind == "zlib" || kind == "bzip2" || kind == "brotli") && k == 0) {
			// (Data that starts as zlib or bzip2 by chance, or a file
			// called .br that is no brotli, does not decompress at all:
			// not a note.)
			n.note(suffix, "%s data that cannot be decompressed after %d bytes (%v): the rest was searched as raw bytes only", kind, k, err)
		}
		if st == nil {
			return src.k, nil
		}
		// What follows the compressed data is searched too.
		_, err = io.Copy(io.Discard, src)
		st.Close()
		return src.k, err
	case nest.IsTar(head) && depth < nest.MaxNest:
		return n.tar(br, suffix, depth, scanned)
	case nest.KeystoreKind(head) != "" && depth < nest.MaxNest:
		return n.keystore(br, nest.KeystoreKind(head), suffix, name, depth, scanned, nil)
	}
	if scanned {
		return 0, nil
	}
	st := n.stream(depth, suffix, name)
	k, err := io.Copy(streamWriter{st}, br)
	st.Close()
	return k, err
}

// streamWriter writes to a stream.
type streamWriter struct{ st *secretscan.Stream }

func (w streamWriter) Write(p []byte) (int, error) { w.st.Write(p); return len(p), nil }

// sourceCount counts the bytes read through it.
type sourceCount struct {
	r io.Reader
	k int64
}

func (s *sourceCount) Read(p []byte) (int, error) {
	k, err := s.r.Read(p)
	s.k += int64(k)
	return k, err
}

// tar searches each member of a tar archive at suffix (each member's
// content on its own, unless the archive was searched whole), and its
// names, link targets and PAX records; members that are compressed or
// archives are opened (a tar in a tar one level deeper, as the
// decompressed content of a compressed member is).
func (n *nester) tar(r io.Reader, suffix string, depth int, scanned bool) (int64, error) {
	src := &sourceCount{r: r}
	tr := tar.NewReader(src)
	mr := n.reader(tr) // one for all members
	defer n.putReader(mr)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if errors.Is(err, errTooBig) {
				return src.k, err
			}
			n.note(suffix, "a tar archive that cannot be read after %d bytes (%v): the rest was searched as raw bytes only", src.k, err)
			if scanned {
				return src.k, nil
			}
			st := n.stream(depth, suffix, "")
			_, err = io.Copy(streamWriter{st}, src)
			st.Close()
			return src.k, err
		}
		member := strings.TrimPrefix(path.Clean("/"+hdr.Name), "/")
		red, _ := n.sm.redact(member)
		ms := suffix + ":" + red
		n.header(hdr, n.path+ms)
		if hdr.Typeflag != tar.TypeReg && hdr.Typeflag != tar.TypeRegA || hdr.Size == 0 {
			continue
		}
		mr.Reset(tr)
		d := depth
		if mh, _ := mr.Peek(nestHead); nest.IsTar(mh) {
			d++
		}
		if _, err := n.content(mr, ms, path.Base(member), d, scanned); err != nil {
			if errors.Is(err, errTooBig) {
				return src.k, err
			}
			n.note(ms, "cannot be read to its end (%v): the rest was searched as raw bytes only", err)
		}
	}
	if !scanned {
		// What follows the archive.
		st := n.stream(depth, suffix, "")
		_, err := io.Copy(streamWriter{st}, src)
		st.Close()
		return src.k, err
	}
	return src.k, nil
}

// header searches a member's name, link target and PAX records.
func (n *nester) header(hdr *tar.Header, p string) {
	n.m.scanHeader(n.sm, hdr, p, n.real, n.c)
}

// zip searches a zip archive at suffix (as it is, unless it was
// already) and each of its files, one level deeper.
func (n *nester) zip(br *bufio.Reader, suffix, name string, depth int, scanned bool) (int64, error) {
	var st *secretscan.Stream
	var in io.Reader = br
	if !scanned {
		st = n.stream(depth, suffix, name)
		in = io.TeeReader(br, streamWriter{st})
	}
	data, err := io.ReadAll(io.LimitReader(in, maxZipInMemory+1))
	k := int64(len(data))
	var src io.ReaderAt = bytes.NewReader(data)
	if err == nil && k > maxZipInMemory {
		// Larger: spooled to a temporary file.
		var f *os.File
		if f, err = os.CreateTemp("", "hushbuild-verify-zip-*"); err == nil {
			n.tmpFiles = append(n.tmpFiles, f.Name())
			defer f.Close()
			if _, err = f.Write(data); err == nil {
				var m int64
				m, err = io.Copy(f, in)
				k += m
			}
			src = f
		}
		data = nil
	}
	if st != nil {
		st.Close()
	}
	if err != nil {
		if errors.Is(err, errTooBig) {
			return k, err
		}
		n.note(suffix, "a zip archive that cannot be read (%v): searched as raw bytes only", err)
		return k, nil
	}
	zr, err := nest.OpenZip(src, k)
	if err != nil {
		n.note(suffix, "starts as a zip archive but cannot be read as one (%v): searched as raw bytes only", err)
		return k, nil
	}
	fr := n.reader(nil) // one for all files
	defer n.putReader(fr)
	for _, zf := range zr.File {
		if strings.HasSuffix(zf.Name, "/") && zf.UncompressedSize64 == 0 {
			continue // a directory
		}
		red, _ := n.sm.redact(zf.Name)
		ms := suffix + ":" + red
		n.sm.scan("", []byte(zf.Name), func(id matchID, off int64, _ int) {
			n.c.add(rawHit{id: id, path: n.path + ms, real: n.real, in: InName, history: -1, offset: off})
		})
		if zf.Flags&1 != 0 {
			n.note(ms, "encrypted, searched as raw bytes only")
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			n.note(ms, "cannot be decompressed (%v): searched as raw bytes only", err)
			continue
		}
		cr := &counted{r: rc, n: n}
		fr.Reset(cr)
		_, err = n.content(fr, ms, path.Base(zf.Name), depth+1, false)
		rc.Close()
		if errors.Is(err, errTooBig) {
			return k, err
		}
		if err != nil {
			n.note(ms, "cannot be decompressed after %d bytes (%v): the rest was searched as raw bytes only", cr.k, err)
		}
	}
	return k, nil
}
