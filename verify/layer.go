package verify

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/containerd/containerd/v2/pkg/archive/compression"
	"github.com/hushbuild/hushbuild/internal/hexarray"
	"github.com/hushbuild/hushbuild/internal/nest"
	"github.com/hushbuild/hushbuild/internal/obscure"
	"github.com/hushbuild/hushbuild/internal/sexphex"
	"github.com/hushbuild/hushbuild/secretscan"
)

// A layer is read in blocks: the reader decompresses the blob and walks
// its tar stream, packing entry headers and file contents into blocks,
// and the scanner scans them. When other layers keep every core busy both
// run in one goroutine; otherwise (the last layers of an image, or an
// image of one layer) in two, with a few blocks circulating between them
// so that the scan of one block overlaps the decompression of the next.
// Either way a layer costs a few megabytes of memory whatever its size.
const (
	blockSize   = 1 << 20
	blocksInUse = 3
	maxSegments = 4096 // entries per block, for layers of many tiny files
)

type block struct {
	buf  []byte
	segs []segment
	err  error // the walk failed; the last block carries it
}

// segment is one entry's header and/or a piece of its content.
type segment struct {
	hdr  *tar.Header // set on an entry's first segment
	data []byte      // a piece of buf
	last bool        // the entry ends here
}

// layerResult is what a layer holds: findings, and what it deletes or
// replaces of lower layers.
type layerResult struct {
	files     map[uint64]bool // hashes of the paths of non-directories
	whiteouts map[string]bool // paths deleted by .wh. entries
	opaque    map[string]bool // directories made opaque
	entries   int
	bytes     int64
	notes     []string // what in nested archives could not be searched
}

var pathSeed = maphash.MakeSeed()

func pathHash(p string) uint64 { return maphash.String(pathSeed, p) }

// readLayer decompresses and walks a layer, filling blocks taken from
// next and handing each full one to emit (which owns it until it comes
// back from next). A failure is carried by the last block emitted. It
// stops early when next or emit returns false.
func readLayer(r io.Reader, next func() (*block, bool), emit func(*block) bool) {
	var blk *block
	get := func() bool {
		var ok bool
		if blk, ok = next(); ok {
			blk.buf = blk.buf[:0]
			blk.segs = blk.segs[:0]
			blk.err = nil
		}
		return ok
	}
	send := func() bool { b := blk; blk = nil; return emit(b) }
	fail := func(err error) {
		if blk == nil && !get() {
			return
		}
		blk.err = err
		send()
	}
	if !get() {
		return
	}
	dr, err := compression.DecompressStream(r)
	if err != nil {
		fail(fmt.Errorf("decompressing: %w", err))
		return
	}
	defer dr.Close()
	tr := tar.NewReader(dr)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fail(fmt.Errorf("reading the tar stream: %w", describe(err)))
			return
		}
		size := int64(0)
		if hdr.Typeflag == tar.TypeReg || hdr.Typeflag == tar.TypeRegA || hdr.Typeflag == tar.TypeGNUSparse {
			size = hdr.Size
		}
		if size <= blockSize && len(blk.buf)+int(size) > cap(blk.buf) {
			// A file that fits in a block is kept whole in one, to be
			// searched and opened as a whole (see scanLayer).
			if !send() || !get() {
				return
			}
		}
		first := true
		for first || size > 0 {
			if len(blk.buf) == cap(blk.buf) || len(blk.segs) == maxSegments {
				if !send() || !get() {
					return
				}
			}
			n := int(min(size, int64(cap(blk.buf)-len(blk.buf))))
			start := len(blk.buf)
			blk.buf = blk.buf[:start+n]
			if _, err := io.ReadFull(tr, blk.buf[start:]); err != nil {
				fail(fmt.Errorf("reading %s: %w", hdr.Name, describe(err)))
				return
			}
			size -= int64(n)
			seg := segment{data: blk.buf[start : start+n : start+n], last: size == 0}
			if first {
				seg.hdr = hdr
				first = false
			}
			blk.segs = append(blk.segs, seg)
		}
	}
	// Read the stream to its end: the decompressor checks its trailer
	// (a truncated gzip stream fails here) and the reader below checks
	// the blob's digest.
	if _, err := io.Copy(io.Discard, dr); err != nil {
		fail(fmt.Errorf("reading: %w", describe(err)))
		return
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		fail(err)
		return
	}
	if len(blk.segs) > 0 {
		send()
	}
}

// pipeline runs readLayer in its own goroutine and calls process for
// each block in the caller's, with a few blocks in flight, so that
// decompression and scanning overlap. It stops at the first error of
// either side.
func pipeline(ctx context.Context, r io.Reader, process func(*block) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	free := make(chan *block, blocksInUse)
	for i := 0; i < blocksInUse; i++ {
		free <- &block{buf: make([]byte, 0, blockSize)}
	}
	blocks := make(chan *block)
	go func() {
		defer close(blocks)
		readLayer(r,
			func() (*block, bool) {
				select {
				case b := <-free:
					return b, true
				case <-ctx.Done():
					return nil, false
				}
			},
			func(b *block) bool {
				select {
				case blocks <- b:
					return true
				case <-ctx.Done():
					return false
				}
			})
	}()
	defer func() {
		cancel()
		for range blocks {
		}
	}()
	for blk := range blocks {
		if err := process(blk); err != nil {
			return err
		}
		if blk.err != nil {
			return blk.err
		}
		free <- blk
	}
	return ctx.Err()
}

// inline runs readLayer and process in the caller's goroutine with one
// block: the better choice when other layers keep the other cores busy.
func inline(ctx context.Context, r io.Reader, process func(*block) error) error {
	blk := &block{buf: make([]byte, 0, blockSize)}
	var err error
	readLayer(r,
		func() (*block, bool) { return blk, err == nil && ctx.Err() == nil },
		func(b *block) bool {
			if err = process(b); err == nil {
				err = b.err
			}
			return err == nil
		})
	if err == nil {
		err = ctx.Err()
	}
	return err
}

func describe(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w (the layer is truncated)", err)
	}
	return err
}

// scanLayer scans one layer blob; with overlap, decompression and
// scanning run in two goroutines.
func (m *matcher) scanLayer(ctx context.Context, r io.Reader, c *collector, overlap bool) (*layerResult, error) {
	res := &layerResult{files: map[uint64]bool{}, whiteouts: map[string]bool{}, opaque: map[string]bool{}}
	sm := m.small()
	var cur struct {
		path, real string
		size       int64
	}
	st := m.sc.Stream("", nil)
	onMatch := func(x secretscan.Match) {
		m.ids(x, func(id matchID) {
			c.add(rawHit{id: id, path: cur.path, real: cur.real, in: InContent, history: -1, offset: x.Offset})
		})
	}
	// What a small file stands for besides its bytes (values kept
	// obscured, package obscure; lists of byte literals, package
	// hexarray), searched with revSt.
	var revealed []byte
	var revSt *secretscan.Stream
	onRevealed := func(enc string) func(secretscan.Match) {
		return func(x secretscan.Match) {
			m.ids(x, func(id matchID) {
				if id.secret >= 0 {
					id.encoding = enc
				}
				c.add(rawHit{id: id, path: cur.path, real: cur.real, in: InContent, history: -1})
			})
		}
	}
	// A file's first bytes, to decide whether to open it (see
	// nested.go), and the opening when it is opened.
	var head []byte
	var open *opening
	var nst *nester  // for the files opened in this goroutine
	var whole []byte // the file, when it is whole in the block
	var tail []byte  // a streamed file's last bytes (nest.ZipTail)
	deciding := false
	endFile := func(abort bool) error {
		if open == nil {
			return nil
		}
		notes, err := open.finish(c, abort)
		open = nil
		res.notes = append(res.notes, notes...)
		return err
	}
	process := func(blk *block) error {
		for _, seg := range blk.segs {
			if seg.hdr != nil {
				cur.real = "/" + strings.TrimPrefix(path.Clean("/"+seg.hdr.Name), "/")
				cur.path, _ = sm.redact(cur.real)
				cur.size = seg.hdr.Size
				m.scanHeader(sm, seg.hdr, cur.path, cur.real, c)
				res.record(seg.hdr, cur.real)
				st.Reset(path.Base(cur.real), onMatch)
				head = head[:0]
				deciding = len(seg.data) > 0
			}
			if len(seg.data) > 0 {
				st.Write(seg.data)
				res.bytes += int64(len(seg.data))
				data := seg.data
				if seg.hdr != nil && seg.last {
					// The whole file is here: opened in this goroutine
					// once its scan is closed.
					deciding = false
					whole = data
					for _, d := range wholeFileDecodings {
						if revealed = d.decode(revealed[:0], data); len(revealed) > 0 {
							if revSt == nil {
								revSt = m.sc.Stream("", nil)
							}
							revSt.ScanAll("", revealed, onRevealed(d.enc))
						}
					}
				} else {
					// A file streamed: its last bytes, to tell whether
					// it ends as a zip archive.
					tail = append(tail, data[max(0, len(data)-nest.ZipTail):]...)
					if len(tail) > nest.ZipTail {
						tail = append(tail[:0], tail[len(tail)-nest.ZipTail:]...)
					}
				}
				if deciding {
					k := min(len(data), nestHead-len(head))
					head = append(head, data[:k]...)
					data = data[k:]
					if len(head) == nestHead || seg.last {
						deciding = false
						if nestable(head, path.Base(cur.real)) || embeddable(head) {
							open = m.openNested(cur.path, cur.real, cur.size)
							open.write(head)
						}
					}
				}
				if open != nil {
					open.write(data)
				}
			}
			if seg.last {
				st.Close()
				if whole != nil {
					if nst == nil {
						nst = m.newNester()
					}
					notes, err := nst.nestBytes(c, cur.path, cur.real, whole)
					res.notes = append(res.notes, notes...)
					whole = nil
					if err != nil {
						return err
					}
				} else if open == nil && nest.ZipAtEnd(tail) {
					res.notes = append(res.notes, cur.path+": ends as a zip archive that does not start the file, which is too large to be opened whole (over 1 MiB): searched as raw bytes only")
				}
				tail = tail[:0]
				if err := endFile(false); err != nil {
					return err
				}
			}
		}
		return nil
	}
	var err error
	if overlap {
		err = pipeline(ctx, r, process)
	} else {
		err = inline(ctx, r, process)
	}
	if ferr := endFile(true); err == nil {
		err = ferr
	}
	if err != nil {
		// The error names the entry that failed, whose name may hold a
		// secret: it is printed and put in the report.
		if msg, redacted := sm.redact(err.Error()); redacted {
			err = errors.New(msg)
		}
	}
	return res, err
}

// scanHeader scans an entry's name, link target and PAX records.
func (m *matcher) scanHeader(sm *small, hdr *tar.Header, p, real string, c *collector) {
	add := func(in string) func(matchID, int64, int) {
		return func(id matchID, off int64, _ int) {
			c.add(rawHit{id: id, path: p, real: real, in: in, history: -1, offset: off})
		}
	}
	sm.scan("", []byte(hdr.Name), add(InName))
	if hdr.Linkname != "" {
		sm.scan("", []byte(hdr.Linkname), add(InLinkname))
	}
	if len(hdr.PAXRecords) > 0 {
		keys := make([]string, 0, len(hdr.PAXRecords))
		for k := range hdr.PAXRecords {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if k == "path" || k == "linkpath" {
				continue // already scanned as the name and link target
			}
			sm.scan("", []byte(k+"="+hdr.PAXRecords[k]), add(InHeader))
		}
	}
}

// record notes what an entry does to lower layers.
func (res *layerResult) record(hdr *tar.Header, p string) {
	res.entries++
	dir, base := path.Split(p)
	dir = path.Clean(dir)
	switch {
	case base == ".wh..wh..opq":
		res.opaque[dir] = true
	case strings.HasPrefix(base, ".wh."):
		res.whiteouts[path.Join(dir, strings.TrimPrefix(base, ".wh."))] = true
	case hdr.Typeflag != tar.TypeDir:
		res.files[pathHash(p)] = true
	}
}

// hides tells whether this layer hides p of a lower layer, and how.
func (res *layerResult) hides(p string) (string, bool) {
	for a := p; ; a = path.Dir(a) {
		if res.whiteouts[a] {
			return "deleted", true
		}
		if a != p && res.opaque[a] {
			return "deleted (a parent directory is made opaque)", true
		}
		if res.files[pathHash(a)] {
			return "replaced", true
		}
		if a == "/" {
			return "", false
		}
	}
}

// wholeFileDecodings are what a whole file may spell a value out as, and
// the encoding a finding names: passwords rclone keeps obscured, the
// byte arrays `xxd -i` writes, and the hex strings of gpg-agent's key
// files.
var wholeFileDecodings = []struct {
	decode func(dst, src []byte) []byte
	enc    string
}{
	{obscure.Revealed, EncObscured},
	{hexarray.Decoded, EncByteArray},
	{sexphex.Decoded, EncSexp},
}
