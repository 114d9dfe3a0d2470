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
	"github.com/hushfile/hushfile/secretscan"
)

// A layer is read by two goroutines: one decompresses the blob and walks
// its tar stream, packing entry headers and file contents into blocks;
// the other scans the blocks. A few blocks circulate between them, so a
// layer costs a few megabytes of memory whatever its size, and the scan
// of one block overlaps the decompression of the next.
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
}

var pathSeed = maphash.MakeSeed()

func pathHash(p string) uint64 { return maphash.String(pathSeed, p) }

// readLayer decompresses and walks a layer, sending blocks to out. It
// closes out when done; a failure is carried by the last block.
func readLayer(ctx context.Context, r io.Reader, free <-chan *block, out chan<- *block) {
	defer close(out)
	var blk *block
	get := func() bool {
		select {
		case blk = <-free:
			blk.buf = blk.buf[:0]
			blk.segs = blk.segs[:0]
			blk.err = nil
			return true
		case <-ctx.Done():
			return false
		}
	}
	send := func() { out <- blk; blk = nil }
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
		first := true
		for first || size > 0 {
			if len(blk.buf) == cap(blk.buf) || len(blk.segs) == maxSegments {
				send()
				if !get() {
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

func describe(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w (the layer is truncated)", err)
	}
	return err
}

// scanLayer scans one layer blob.
func (m *matcher) scanLayer(ctx context.Context, r io.Reader, c *collector) (*layerResult, error) {
	res := &layerResult{files: map[uint64]bool{}, whiteouts: map[string]bool{}, opaque: map[string]bool{}}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	free := make(chan *block, blocksInUse)
	for i := 0; i < blocksInUse; i++ {
		free <- &block{buf: make([]byte, 0, blockSize)}
	}
	blocks := make(chan *block)
	done := make(chan struct{})
	go func() {
		readLayer(ctx, r, free, blocks)
		close(done)
	}()
	defer func() {
		cancel()
		for range blocks {
		}
		<-done
	}()

	sm := m.small()
	var cur struct {
		path, real string
		hdr        *tar.Header
	}
	st := m.sc.Stream("", nil)
	onMatch := func(x secretscan.Match) {
		m.ids(x, func(id matchID) {
			c.add(rawHit{id: id, path: cur.path, real: cur.real, in: InContent, history: -1, offset: x.Offset})
		})
	}
	for blk := range blocks {
		for _, seg := range blk.segs {
			if seg.hdr != nil {
				cur.hdr = seg.hdr
				cur.real = "/" + strings.TrimPrefix(path.Clean("/"+seg.hdr.Name), "/")
				cur.path, _ = sm.redact(cur.real)
				m.scanHeader(sm, seg.hdr, cur.path, cur.real, c)
				res.record(seg.hdr, cur.real)
				st.Reset(path.Base(cur.real), onMatch)
			}
			if len(seg.data) > 0 {
				st.Write(seg.data)
				res.bytes += int64(len(seg.data))
			}
			if seg.last {
				st.Close()
			}
		}
		if blk.err != nil {
			return res, blk.err
		}
		free <- blk
	}
	return res, ctx.Err()
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
