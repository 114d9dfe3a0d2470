package checker

import (
	"archive/tar"
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"

	"github.com/hushbuild/hushbuild/internal/hexarray"
	"github.com/hushbuild/hushbuild/internal/nest"
	"github.com/hushbuild/hushbuild/internal/obscure"
	"github.com/hushbuild/hushbuild/internal/sexphex"
	"github.com/hushbuild/hushbuild/secretscan"
)

// Where a finding is in an entry.
const (
	WhereContent = "content"
	WhereName    = "name"
	WhereLink    = "link"
)

// ChangedSinceSlack widens ScanOptions.ChangedSince: entries changed up to
// this long before it are scanned too. File systems stamp times from a
// coarse clock that can lag the time a caller reads by a clock tick, and
// a clock step backwards during a build must not hide what the build
// wrote. Scanning a little more is always safe.
const ChangedSinceSlack = time.Second

// ScanOptions configure ScanTree.
type ScanOptions struct {
	// ChangedSince, when set, skips the regular files, symlinks and other
	// non-directory entries whose status change time (ctime) and
	// modification time are both before it (less ChangedSinceSlack):
	// neither their names nor their contents are searched. A user can set
	// a file's mtime, never its ctime. Directories are always walked; an
	// old directory's own name is not searched.
	ChangedSince time.Time
	// Remove deletes, after the scan, every entry whose content, name or
	// link target holds a secret value (a directory with all it holds),
	// and every hard link to such a file, and every extended attribute
	// whose name or value holds one (the entry stays). For cache mounts,
	// which outlive the build.
	Remove bool
	// MaxFiles, when positive, is the most entries the walk may meet, and
	// MaxBytes the most content bytes it may read. A tree beyond either is
	// an error, never a partial scan.
	MaxFiles int64
	MaxBytes int64
	// Workers is how many files are read at once; 0 means GOMAXPROCS.
	Workers int

	// readOnly reads the contents without searching them (benchmarks:
	// the limit for this job).
	readOnly bool
}

// readBufSize is how much of a file is read at once.
const readBufSize = 256 << 10

// maxJoined is the largest content (a file, or a file decompressed) that
// is searched a second time with its line ends ('\n', '\r') removed, for
// values written wrapped (base64 wraps at 76 columns, PEM at 64).
const maxJoined = 256 << 10

// Limits on the decompressed content of one file (see ScanTree): at most
// maxDecompressed bytes, and past ratioFloor bytes at most maxRatio times
// the file's size. Past either the scan fails: the rest cannot be searched.
var maxDecompressed int64 = nest.MaxDecompressed // a variable for the tests

const (
	maxRatio   = nest.MaxRatio
	ratioFloor = nest.RatioFloor
)

// ScanTree searches the tree at root (a directory, or a symlink to one)
// for the values of s, in every encoding verify.Needles knows: in the name
// of every entry (Where "name"; a value spread over nested directory
// names is found in the innermost one), in the target of every symlink
// ("link"), in the content of every regular file ("content"), and in
// the names and values of the extended attributes of every entry
// ("xattr", at "PATH (extended attribute NAME)": curl --xattr and wget
// --xattr keep a download's URL in user.xdg.origin.url).
// Symlinks inside the tree are never followed, and fifos, sockets and
// devices are never opened. A sparse file is read
// by its data regions only. A file with several hard links is read once
// and its findings are reported at each of its paths.
//
// Five more views of a file's content are searched:
//   - compressed content, decompressed: a file that starts as gzip,
//     bzip2, xz, zlib or zstd data is searched decompressed too (a
//     .tar.gz's tar, as raw bytes: the files in it), reported at
//     "PATH (gzip)"; each file of a zip archive (stored, deflated, bzip2
//     or zstd) at "PATH:NAME"; each member of a plain tar archive that is
//     compressed or an archive itself at "PATH:MEMBER (gzip)". Archives inside are opened too: a member
//     of a tar (or a file of a zip) that is compressed, a zip or a tar
//     itself, at "PATH (gzip):MEMBER (gzip)", up to maxNest (4)
//     compressed or archived levels; past them an archive is searched as
//     raw bytes only, with a note (a zip inside an archive is opened up
//     to 64 MiB, the same). A file decompresses to at most 2 GiB, and
//     past 64 MiB to at most 200 times its size, all its levels together
//     (zip bombs): beyond, the scan fails. Data that is corrupt,
//     encrypted or compressed in an unknown way is searched as far as it
//     can be, with a note;
//   - a content of at most 256 KiB (a file's, or a file's decompressed) is
//     searched again with its line ends removed, for values written
//     wrapped (base64 wraps at 76 columns);
//   - a keystore (PKCS #12: a .p12, a .pfx; or Java's older JKS), known by
//     its content, also as a member of an archive, is decrypted with each
//     conventional password (nest.KeystorePasswords: none, changeit,
//     changeme, password, secret) and its decrypted contents searched
//     (the private keys as PKCS #8 DER, a PKCS #12 file's certificates),
//     reported at "PATH (PKCS #12, password changeit)", "PATH (JKS,
//     password changeit)". A keystore no such password opens cannot be
//     proven either way: it is searched as bytes only, without a note. An
//     Elasticsearch keystore (elasticsearch.keystore) is opened the same
//     way, its settings' values searched at "PATH (Elasticsearch, empty
//     password)". (A secret that is itself a keystore is searched for
//     the keys and secrets inside it: see verify.BuildSecretValues.);
//   - a file of at most 256 KiB of text is searched for values kept
//     obscured as rclone keeps its configuration's passwords (AES-CTR
//     under a key anyone has), revealed, reported at "PATH
//     (rclone-obscured)", and for values spelt out as lists of byte
//     literals (the C array of `xxd -i`), read, at "PATH (byte-array)".
//
// Paths in findings start with "/" (root itself); any part of a path that
// holds a value reads "<redacted>", in findings, notes and errors alike.
//
// Whatever cannot be searched fails the scan: an unreadable file or
// directory, a limit exceeded, an entry that changes under the scan.
// With Remove, the report is returned with the error if the removal
// fails.
func ScanTree(root string, s *Secrets, opt ScanOptions) (*Report, error) {
	r := &Report{Findings: []Finding{}, Notes: s.Notes()}
	if s.Empty() && !opt.readOnly {
		r.Notes = append(r.Notes, "no secret value to search for: the tree was not read")
		return r, nil
	}
	st, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("checker: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("checker: %s is not a directory", root)
	}

	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	w := &walker{
		s:      s,
		opt:    opt,
		jobs:   make(chan *job, 4*workers),
		inodes: map[devIno]*job{},
	}
	if !s.Empty() && !opt.readOnly {
		w.names = newMatcher(s)
		w.x = newXattrScan(s)
	}
	if !opt.ChangedSince.IsZero() {
		w.cut = opt.ChangedSince.Add(-ChangedSinceSlack)
	}
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.work()
		}()
	}
	walkErr := w.walk(root)
	close(w.jobs)
	wg.Wait()
	if walkErr != nil {
		return nil, walkErr
	}
	for _, j := range w.all {
		if j.err != nil {
			return nil, j.err
		}
	}

	hits := w.hits
	for _, j := range w.all {
		r.Files++
		r.Bytes += j.bytes
		add := func(lits []int, suffix string) {
			s.findings(lits, func(secret, field, encoding string) {
				switch suffix {
				case obscuredSuffix:
					encoding = obscuredKind
				case arraySuffix:
					encoding = arrayKind
				case sexpSuffix:
					encoding = sexpKind
				}
				hits = append(hits, hit{Finding{Path: j.red + suffix, Where: WhereContent, Secret: secret, Field: field, Encoding: encoding}, j.real, false, j.red, ""})
				for _, a := range j.aliases {
					hits = append(hits, hit{Finding{Path: a.red + suffix, Where: WhereContent, Secret: secret, Field: field, Encoding: encoding}, a.real, false, a.red, ""})
				}
			})
		}
		add(j.lits, "")
		for _, p := range j.parts {
			add(p.lits, p.suffix)
		}
		for _, xh := range j.xattrs {
			s.findings(xh.lits, func(secret, field, encoding string) {
				for _, a := range append([]alias{{j.real, j.red}}, j.aliases...) {
					hits = append(hits, hit{Finding{Path: a.red + xattrSuffix(xh.name), Where: WhereXattr, Secret: secret, Field: field, Encoding: encoding}, a.real, false, a.red, xh.attr})
				}
			})
		}
		r.Notes = append(r.Notes, j.notes...)
	}
	r.Skipped = w.skipped
	if w.special > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d special file(s) (devices, fifos, sockets): names searched, never opened", w.special))
	}
	r.Findings = sortFindings(hits)
	if opt.Remove {
		if err := remove(hits, r); err != nil {
			return r, err
		}
	}
	return r, nil
}

// hit is a finding and the real path of its entry (for Remove; never
// reported).
type hit struct {
	Finding
	real string
	dir  bool
	// file is the entry's redacted path when Path names a part of it (a
	// file in an archive); "" when it is Path.
	file string
	// attr is the name of the extended attribute that holds the value,
	// for a finding Where WhereXattr: Remove removes the attribute.
	attr string
}

func sortFindings(hits []hit) []Finding {
	out := make([]Finding, 0, len(hits))
	for _, h := range hits {
		out = append(out, h.Finding)
	}
	sort.Slice(out, func(i, j int) bool { return findingLess(out[i], out[j]) })
	// Drop duplicates (a value seen twice in one place).
	k := 0
	for i := range out {
		if k > 0 && out[k-1] == out[i] {
			continue
		}
		out[k] = out[i]
		k++
	}
	return out[:k]
}

func findingLess(a, b Finding) bool {
	if a.Path != b.Path {
		return a.Path < b.Path
	}
	if a.Where != b.Where {
		return a.Where < b.Where
	}
	if a.Secret != b.Secret {
		return a.Secret < b.Secret
	}
	if a.Field != b.Field {
		return a.Field < b.Field
	}
	return a.Encoding < b.Encoding
}

// remove deletes the entries of hits, deepest first.
func remove(hits []hit, r *Report) error {
	type entry struct {
		real, red string
		dir       bool
	}
	byReal := map[string]entry{}
	var errs []error
	for _, h := range hits {
		if h.attr != "" {
			// The value is in an extended attribute: the attribute
			// goes, the entry stays (the root of the tree too).
			err := unix.Lremovexattr(h.real, h.attr)
			if err != nil && !errors.Is(err, unix.ENODATA) && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, pathError("removing", h.Path, err))
				continue
			}
			r.Removed = append(r.Removed, h.Path)
			continue
		}
		red := h.Path
		if h.file != "" {
			red = h.file
		}
		byReal[h.real] = entry{h.real, red, h.dir}
	}
	list := make([]entry, 0, len(byReal))
	for _, e := range byReal {
		list = append(list, e)
	}
	// Children before their parents.
	sort.Slice(list, func(i, j int) bool { return list[i].real > list[j].real })
	for _, e := range list {
		var err error
		if e.dir {
			err = os.RemoveAll(e.real)
		} else {
			err = os.Remove(e.real)
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, pathError("removing", e.red, err))
			continue
		}
		r.Removed = append(r.Removed, e.red)
	}
	sort.Strings(r.Removed)
	r.Removed = slices.Compact(r.Removed)
	return errors.Join(errs...)
}

// pathError reports err at the redacted path red, dropping the real path
// that an *fs.PathError carries.
func pathError(op, red string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("checker: %s %s: %w", op, red, err)
}

type devIno struct{ dev, ino uint64 }

// job is one regular file to read, and what reading it found.
type job struct {
	real, red string
	id        devIno
	size      int64
	sparse    bool
	aliases   []alias // its other hard links

	lits   []int
	parts  []part     // what its decompressed content holds
	xattrs []xattrHit // its extended attributes that hold a value
	notes  []string   // what of it could not be searched
	bytes  int64
	err    error
}

// part is what a view of a file's content other than its bytes holds: the
// file decompressed (suffix " (gzip)"), a file of a zip archive (":NAME").
type part struct {
	suffix string
	lits   []int
}

type alias struct{ real, red string }

// walker walks the tree in one goroutine: it searches names and link
// targets itself and hands regular files to the workers.
type walker struct {
	s    *Secrets
	opt  ScanOptions
	cut  time.Time
	jobs chan *job
	all  []*job

	names *matcher
	// x reads the extended attributes of the entries that are not
	// regular files (the workers read those of the files they open).
	x *xattrScan

	inodes  map[devIno]*job
	hits    []hit
	entries int64
	special int64
	skipped int64

	readBytes atomic.Int64
	failed    atomic.Bool
}

// match returns the matches in b.
func (w *walker) match(b []byte) []secretscan.Match { return w.names.match(b) }

func (w *walker) walk(root string) error {
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("checker: opening %s: %w", root, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return fmt.Errorf("checker: %s: %w", root, err)
	}
	if w.cut.IsZero() || !stamp(st.Ctim).Before(w.cut) || !stamp(st.Mtim).Before(w.cut) {
		if err := w.entryXattrs(root, "", true); err != nil {
			unix.Close(fd)
			return err
		}
	}
	return w.dir(fd, root, "", "", devIno{uint64(st.Dev), st.Ino})
}

// entryXattrs searches the extended attributes of the entry at real (a
// directory, a symlink or a special file; red is its path redacted).
func (w *walker) entryXattrs(real, red string, dir bool) error {
	if w.x == nil {
		return nil
	}
	hits, err := w.x.pathXattrs(real)
	if err != nil {
		return pathError("reading the extended attributes of", orRoot(red), err)
	}
	for _, xh := range hits {
		w.s.findings(xh.lits, func(secret, field, encoding string) {
			w.hits = append(w.hits, hit{Finding{Path: orRoot(red) + xattrSuffix(xh.name), Where: WhereXattr, Secret: secret, Field: field, Encoding: encoding}, real, dir, orRoot(red), xh.attr})
		})
	}
	return nil
}

// dir walks the open directory fd, at real path real and tree path rel
// ("" for the root; red is rel redacted), and closes fd.
func (w *walker) dir(fd int, real, rel, red string, id devIno) error {
	f := os.NewFile(uintptr(fd), real)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || (devIno{uint64(st.Dev), st.Ino}) != id {
		f.Close()
		if err == nil {
			err = errors.New("changed during the scan")
		}
		return pathError("reading directory", orRoot(red), err)
	}
	names, err := f.Readdirnames(-1)
	if err != nil {
		f.Close()
		return pathError("reading directory", orRoot(red), err)
	}
	sort.Strings(names)
	type sub struct {
		real, rel, red string
		id             devIno
	}
	var subs []sub
	for _, name := range names {
		if w.failed.Load() {
			break
		}
		if w.entries++; w.opt.MaxFiles > 0 && w.entries > w.opt.MaxFiles {
			f.Close()
			return fmt.Errorf("checker: the tree has more than %d entries (the limit): not scanned", w.opt.MaxFiles)
		}
		erel := rel + "/" + name
		ereal := real + "/" + name
		var st unix.Stat_t
		if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			f.Close()
			return pathError("reading", w.redact(erel), err)
		}
		typ := st.Mode & unix.S_IFMT
		old := !w.cut.IsZero() && stamp(st.Ctim).Before(w.cut) && stamp(st.Mtim).Before(w.cut)
		if old && typ != unix.S_IFDIR {
			w.skipped++
			continue
		}
		// The name: the whole path is searched, for a value spread over
		// nested names; matches ending in this entry's name are its own.
		ms := w.match([]byte(erel))
		ered := redactSpans(erel, ms)
		if !old {
			for _, m := range ms {
				// Past the parent's path: in this name, or a value
				// that ends with the slash before it.
				if m.Offset+int64(m.Len) > int64(len(rel)) {
					w.add(m.Literal, ered, ereal, WhereName, typ == unix.S_IFDIR)
				}
			}
		}
		if !old && typ != unix.S_IFREG {
			if err := w.entryXattrs(ereal, ered, typ == unix.S_IFDIR); err != nil {
				f.Close()
				return err
			}
		}
		switch typ {
		case unix.S_IFDIR:
			subs = append(subs, sub{ereal, erel, ered, devIno{uint64(st.Dev), st.Ino}})
		case unix.S_IFLNK:
			target, err := readlinkat(fd, name)
			if err != nil {
				f.Close()
				return pathError("reading link", ered, err)
			}
			for _, m := range w.match(target) {
				w.add(m.Literal, ered, ereal, WhereLink, false)
			}
		case unix.S_IFREG:
			id := devIno{uint64(st.Dev), st.Ino}
			if st.Nlink > 1 {
				if j, ok := w.inodes[id]; ok {
					// Only the walker reads and writes aliases until the
					// workers are done.
					j.aliases = append(j.aliases, alias{ereal, ered})
					continue
				}
			}
			j := &job{real: ereal, red: ered, id: id, size: st.Size, sparse: st.Blocks*512 < st.Size}
			if st.Nlink > 1 {
				w.inodes[id] = j
			}
			w.all = append(w.all, j)
			w.jobs <- j
		default:
			w.special++
		}
	}
	f.Close()
	for _, d := range subs {
		if w.failed.Load() {
			return nil // a worker's error is reported
		}
		fd, err := unix.Open(d.real, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return pathError("opening directory", d.red, err)
		}
		if err := w.dir(fd, d.real, d.rel, d.red, d.id); err != nil {
			return err
		}
	}
	return nil
}

func orRoot(red string) string {
	if red == "" {
		return "/"
	}
	return red
}

func (w *walker) add(lit int, red, real, where string, dir bool) {
	w.s.findings([]int{lit}, func(secret, field, encoding string) {
		w.hits = append(w.hits, hit{Finding{Path: red, Where: where, Secret: secret, Field: field, Encoding: encoding}, real, dir, "", ""})
	})
}

// redact returns path with every part that holds a value replaced.
func (w *walker) redact(path string) string { return redactSpans(path, w.match([]byte(path))) }

// redactSpans replaces the parts of s that ms matched with <redacted>.
func redactSpans(s string, ms []secretscan.Match) string {
	if len(ms) == 0 {
		return s
	}
	spans := make([][2]int, 0, len(ms))
	for _, m := range ms {
		spans = append(spans, [2]int{int(m.Offset), int(m.Offset) + m.Len})
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i][0] < spans[j][0] })
	var b strings.Builder
	pos := 0
	for _, sp := range spans {
		if sp[0] < pos {
			pos = max(pos, sp[1]) // overlaps the last one
			continue
		}
		b.WriteString(s[pos:sp[0]])
		b.WriteString("<redacted>")
		pos = sp[1]
	}
	b.WriteString(s[pos:])
	return b.String()
}

// stamp converts a Timespec, whose fields are int32 on 32-bit platforms
// (linux/arm), to a time.
func stamp(ts unix.Timespec) time.Time { return time.Unix(ts.Unix()) }

func readlinkat(dirfd int, name string) ([]byte, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dirfd, name, buf)
		if err != nil {
			return nil, err
		}
		if n < size {
			return buf[:n], nil
		}
	}
}

// work reads the files of w.jobs.
func (w *walker) work() {
	var c *contentScan
	var x *xattrScan
	if !w.s.Empty() && !w.opt.readOnly {
		c = newContentScan(w.s)
		x = newXattrScan(w.s)
	}
	buf := make([]byte, readBufSize)
	for j := range w.jobs {
		if w.failed.Load() {
			continue
		}
		if err := w.read(j, c, x, buf); err != nil {
			j.err = err
			w.failed.Store(true)
		}
	}
}

// openFile opens the files to read (tests replace it).
var openFile = os.OpenFile

// read reads j's file through c, and its extended attributes through x
// (or its content into buf only, when c is nil).
func (w *walker) read(j *job, c *contentScan, x *xattrScan, buf []byte) error {
	f, err := openFile(j.real, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return pathError("opening", j.red, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return pathError("reading", j.red, err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || !fi.Mode().IsRegular() || (devIno{uint64(st.Dev), st.Ino}) != j.id {
		return pathError("reading", j.red, errors.New("changed during the scan"))
	}
	if max := w.opt.MaxBytes; max > 0 && !j.sparse && w.readBytes.Load()+j.size > max {
		return fmt.Errorf("checker: the tree has more than %d bytes of content (the limit): not scanned", max)
	}
	if x != nil {
		if j.xattrs, err = x.fileXattrs(f); err != nil {
			return pathError("reading the extended attributes of", j.red, err)
		}
	}
	in := fileInput{f: f, c: c, buf: buf}
	if c != nil {
		c.reset()
	}
	whole := false // the file is in c.whole[:in.n]
	switch {
	case c != nil && !j.sparse && j.size <= maxJoined:
		whole, err = in.whole()
	case j.sparse:
		err = in.sparse(j.size)
	default:
		err = in.all(0)
	}
	if err != nil {
		return pathError("reading", j.red, err)
	}
	j.bytes = in.n
	if c != nil {
		var head [6]byte
		var headN int
		if whole {
			data := c.whole[:in.n]
			j.lits = c.scanWhole(data)
			if !binaryData(data) {
				j.lits = union(j.lits, c.decodedOf(&c.join, data, joinWrapped))
				if lits := c.decodedOf(&c.reveal, data, obscure.Revealed); len(lits) > 0 {
					j.parts = append(j.parts, part{obscuredSuffix, lits})
				}
				if lits := c.decodedOf(&c.arrays, data, hexarray.Decoded); len(lits) > 0 {
					j.parts = append(j.parts, part{arraySuffix, lits})
				}
				if lits := c.decodedOf(&c.sexp, data, sexphex.Decoded); len(lits) > 0 {
					j.parts = append(j.parts, part{sexpSuffix, lits})
				}
				if err := w.base64View(j, c, data, max(j.size, in.n)); err != nil {
					return err
				}
			}
			headN = copy(head[:], data)
		} else {
			j.lits = append([]int(nil), c.close()...)
			head, headN = c.head, c.headN
		}
		var data []byte
		if whole {
			data = c.whole[:in.n]
		}
		kind := compression(head[:headN])
		if kind == "" {
			kind = nest.KindByName(j.real)
		}
		if kind != "" {
			if err := w.decompress(j, f, c, kind, max(j.size, in.n)); err != nil {
				return err
			}
		} else if err := w.plainTar(j, f, c, max(j.size, in.n)); err != nil {
			return err
		} else if err := w.embedded(j, f, c, data, max(j.size, in.n)); err != nil {
			return err
		}
		if err := w.pyinstaller(j, f, c, data, max(j.size, in.n)); err != nil {
			return err
		}
	}
	if max := w.opt.MaxBytes; max > 0 && w.readBytes.Add(in.n) > max {
		return fmt.Errorf("checker: the tree has more than %d bytes of content (the limit): not scanned", max)
	}
	return nil
}

// fileInput feeds a file to a contentScan.
type fileInput struct {
	f   *os.File
	c   *contentScan // nil: read only
	buf []byte
	n   int64 // bytes read
}

// whole reads a small file at once into in.c.whole, to be searched there
// (not copied to the scan's buffer), and reports that it did; a file
// longer than maxJoined (it grew since it was walked) is fed to the scan
// as all does instead.
func (in *fileInput) whole() (bool, error) {
	c := in.c
	if c.whole == nil {
		c.whole = make([]byte, maxJoined+1)
	}
	n, err := io.ReadFull(io.NewSectionReader(in.f, 0, maxJoined+1), c.whole)
	in.n = int64(n)
	switch err {
	case io.EOF, io.ErrUnexpectedEOF:
		return true, nil
	case nil:
		c.write(c.whole[:n])
		return false, in.all(int64(n))
	}
	return false, err
}

// space returns where to read the next bytes to.
func (in *fileInput) space() []byte {
	if in.c == nil {
		return in.buf
	}
	return in.c.space()[:readBufSize]
}

func (in *fileInput) got(k int) {
	in.n += int64(k)
	if in.c != nil {
		in.c.wrote(k)
	}
}

// all reads from off to the end of the file.
func (in *fileInput) all(off int64) error {
	for {
		k, err := in.f.ReadAt(in.space(), off)
		if k > 0 {
			in.got(k)
			off += int64(k)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// region reads [from, to), or up to the end of the file if it is shorter.
func (in *fileInput) region(from, to int64) error {
	for from < to {
		sp := in.space()
		sp = sp[:min(int64(len(sp)), to-from)]
		k, err := in.f.ReadAt(sp, from)
		if k > 0 {
			in.got(k)
			from += int64(k)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// sparse reads the data regions of a file of size bytes; its holes read
// as zeros, which no value is made of.
func (in *fileInput) sparse(size int64) error {
	off := int64(0)
	for off < size {
		data, err := in.f.Seek(off, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			break // only a hole from off to the end
		}
		if err != nil {
			// The file system cannot tell: read everything.
			in.zerosTo(off, off)
			return in.all(off)
		}
		hole, err := in.f.Seek(data, unix.SEEK_HOLE)
		if err != nil {
			in.zerosTo(off, data)
			return in.all(data)
		}
		in.zerosTo(off, data)
		if err := in.region(data, hole); err != nil {
			return err
		}
		off = hole
	}
	in.zerosTo(off, size)
	// Whatever the file has beyond the size it had when walked.
	return in.all(max(off, size))
}

// zerosTo feeds the hole [from, to).
func (in *fileInput) zerosTo(from, to int64) {
	if in.c != nil && to > from {
		in.c.zeros(to - from)
	}
}

// contentScan finds the values of one Secrets in a stream of bytes: the
// gram filter picks the windows to scan, and a secretscan stream scans
// them. It keeps its own buffer, which the input is read into directly.
type contentScan struct {
	s  *Secrets
	f  *gramFilter
	st *secretscan.Stream

	// buf[lo:n] holds the input from stream offset base on. Reads go to
	// buf[n:], which starts on a cache line: the kernel copies into an
	// unaligned buffer several times slower.
	buf  []byte
	lo   int
	n    int
	base int64
	next int64 // the next multiple of f.stride to check

	winLo, winHi int64 // window to scan (stream offsets), if winHi > winLo

	seen  []bool // by literal
	found []int

	// head holds the input's first bytes (to recognise compressed data).
	head  [6]byte
	headN int
	// keepOn: keep holds all of the input so far; it stops (and keep is
	// emptied) past maxJoined bytes.
	keepOn bool
	keep   []byte
	join   []byte // joined's buffer
	reveal []byte // the obscured values' buffer (decodedOf)
	arrays []byte // the byte arrays' buffer (decodedOf)
	sexp   []byte // the S-expressions' hex strings' buffer (decodedOf)
	b64    []byte // base64 runs decoded (base64View)
	b64run []byte // one run decoded
	whole  []byte // a small file, read whole (see fileInput.whole)

	// inner scans an archive found inside this one's input (see
	// walker.nested); made when first needed.
	inner *contentScan
}

// innerScan returns the scan for the archives inside c's input.
func (c *contentScan) innerScan() *contentScan {
	if c.inner == nil {
		c.inner = newContentScan(c.s)
	}
	return c.inner
}

// lineSize is the alignment of the reads.
const lineSize = 64

func newContentScan(s *Secrets) *contentScan {
	f := s.filter
	// The buffer keeps less than f.back+f.maxLen bytes from one read to
	// the next, after up to lineSize bytes of padding.
	c := &contentScan{s: s, f: f, buf: make([]byte, readBufSize+f.maxLen+f.back+lineSize), seen: make([]bool, len(s.lits))}
	c.st = s.sc.Stream("", c.addMatch)
	return c
}

func (c *contentScan) addMatch(m secretscan.Match) {
	if !c.seen[m.Literal] {
		c.seen[m.Literal] = true
		c.found = append(c.found, m.Literal)
	}
}

// reset starts a new input.
func (c *contentScan) reset() {
	for _, l := range c.found {
		c.seen[l] = false
	}
	c.found = c.found[:0]
	c.lo = c.pad(0)
	c.n, c.base, c.next = c.lo, 0, 0
	c.winLo, c.winHi = 0, 0
	c.headN = 0
	c.keepOn = false
	c.keep = c.keep[:0]
}

// pad returns where to put k bytes in buf so that they end on a line.
func (c *contentScan) pad(k int) int {
	a := int(uintptr(unsafe.Pointer(unsafe.SliceData(c.buf))) % lineSize)
	return (lineSize - (a+k)%lineSize) % lineSize
}

// space returns where to put the next bytes of the input: at least
// readBufSize bytes.
func (c *contentScan) space() []byte { return c.buf[c.n:] }

// wrote takes the k bytes put at the start of space().
func (c *contentScan) wrote(k int) {
	p := c.buf[c.n : c.n+k]
	if c.headN < len(c.head) {
		c.headN += copy(c.head[c.headN:], p)
	}
	if c.keepOn {
		if len(c.keep)+k <= maxJoined {
			c.keep = append(c.keep, p...)
		} else {
			c.keepOn = false
			c.keep = c.keep[:0]
		}
		if c.keepOn && len(c.keep) >= 1024 && len(c.keep)-k < 1024 && binaryData(c.keep) {
			c.keepOn = false // not text: not kept, not joined
		}
	}
	c.n += k
	c.process(false)
}

// The wrapped runs of encoded text (see joinedOf) are found by package
// nest (shared with the image verifier).
const minWrapped = nest.MinWrapped

var encoded = nest.Encoded

func joinWrapped(out, data []byte) []byte { return nest.JoinWrapped(out, data) }

// binaryData reports content that is not text, nor a tar of files (which
// may be text): it has a NUL byte in its first KiB. Wrapped values are
// written in text.
func binaryData(data []byte) bool { return nest.Binary(data) }

// joined is joinedOf the input just closed, if it was kept (see keepOn).
func (c *contentScan) joined() []int {
	if !c.keepOn {
		return nil
	}
	return c.joinedOf(c.keep)
}

// joinedOf searches data, a whole input, again where it may be wrapped, if
// it is text, and returns the literals found: the runs of base64, hex or
// URL-escaped text that go on across line ends (a '\n' or "\r\n" after
// minWrapped such bytes, before two) are searched with those line ends
// removed (a run of base64 wrapped at 76 columns is searched as one
// line), each run after a line end of its own. Elsewhere, removing line
// ends would only join what is not written as one. It resets c.
func (c *contentScan) joinedOf(data []byte) []int {
	if binaryData(data) {
		return nil
	}
	return c.decodedOf(&c.join, data, joinWrapped)
}

// obscuredKind names, in findings, a value found obscured: each run of
// URL-safe base64 of a text input revealed as rclone reveals its
// configuration's passwords (package obscure).
const (
	obscuredKind   = "rclone-obscured"
	obscuredSuffix = " (" + obscuredKind + ")"
)

// arrayKind names, in findings, a value found spelt out as a list of
// hexadecimal byte literals in a text input: the C array `xxd -i` writes
// (package hexarray).
const (
	arrayKind   = "byte-array"
	arraySuffix = " (" + arrayKind + ")"
)

// sexpKind names, in findings, a value found spelt out as the hex strings
// of an S-expression, cut over lines: gpg-agent's private key files
// (package sexphex).
const (
	sexpKind   = "s-expression"
	sexpSuffix = " (" + sexpKind + ")"
)

// decodedOf searches data, a whole text input, again as decode spells it
// out (joinWrapped, obscure.Revealed, hexarray.Decoded, sexphex.Decoded), into *buf, which
// it keeps for the next input. It resets c.
func (c *contentScan) decodedOf(buf *[]byte, data []byte, decode func(dst, src []byte) []byte) []int {
	*buf = decode((*buf)[:0], data)
	if len(*buf) == 0 {
		return nil
	}
	return c.scanWhole(*buf)
}

// scanWhole returns the literals in data, a whole input, searched where
// it is (as reset, write, close do after copying it to c's buffer). It
// resets c.
func (c *contentScan) scanWhole(data []byte) []int {
	c.reset()
	buf := c.buf
	c.buf, c.lo, c.n = data, 0, len(data)
	c.process(true)
	c.buf = buf
	found := append([]int(nil), c.found...)
	c.reset()
	return found
}

// union adds to a the literals of b it does not hold.
func union(a, b []int) []int {
next:
	for _, x := range b {
		for _, y := range a {
			if x == y {
				continue next
			}
		}
		a = append(a, x)
	}
	return a
}

// compression names the compressed format that data starting with head
// is in, or "" (see nest.Kind).
func compression(head []byte) string { return nest.Kind(head) }

// errTooBig is a decompressed content beyond the limits.
var errTooBig = errors.New("too big")

// decompress searches the decompressed content of j's file f, which is
// size bytes of kind data (see compression), through c: what it finds
// goes to j.parts, what cannot be read to j.notes. Only a content beyond
// the limits is an error.
func (w *walker) decompress(j *job, f *os.File, c *contentScan, kind string, size int64) error {
	limit := min(maxDecompressed, max(ratioFloor, maxRatio*size))
	src := io.NewSectionReader(f, 0, size)
	tooBig := func(suffix string) error {
		return fmt.Errorf("checker: %s%s: decompresses to more than %d bytes, the limit for a file of %d bytes (2 GiB, and past 64 MiB %d times its size): not scanned", j.red, suffix, limit, size, maxRatio)
	}
	if kind == "zip" {
		return w.unzip(j, src, size, c, limit, tooBig)
	}
	suffix := " (" + kind + ")"
	br := bufio.NewReaderSize(src, 64<<10)
	var used int64
	return w.decompressed(j, c, br, kind, suffix, 1, &used, limit, tooBig)
}

// plainTar opens the members of j's file f (size bytes) that are
// compressed or archives themselves, when f is a tar archive: its raw
// bytes were searched, which holds its plain members' contents, not what
// a .tgz or a .gz member holds once decompressed (`tar cf bundle.tar
// home.tgz`). The tar is a level as a decompressed content is (see
// maxNest), and its members count against the same limits.
func (w *walker) plainTar(j *job, f *os.File, c *contentScan, size int64) error {
	var head [512]byte
	if n, _ := f.ReadAt(head[:], 0); !isTar(head[:n]) {
		return nil
	}
	limit := min(maxDecompressed, max(ratioFloor, maxRatio*size))
	tooBig := func(suffix string) error {
		return fmt.Errorf("checker: %s%s: decompresses to more than %d bytes, the limit for a file of %d bytes (2 GiB, and past 64 MiB %d times its size): not scanned", j.red, suffix, limit, size, maxRatio)
	}
	var used int64
	tr := tar.NewReader(bufio.NewReaderSize(io.NewSectionReader(f, 0, size), 64<<10))
	mr := bufio.NewReaderSize(tr, 4096) // one for all members
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			j.notes = append(j.notes, fmt.Sprintf("%s: a tar archive that cannot be read to its end (%v): the rest was searched as raw bytes only", j.red, err))
			return nil
		}
		if hdr.Typeflag != tar.TypeReg || hdr.Size == 0 {
			continue
		}
		mr.Reset(tr)
		if err := w.member(j, c, mr, hdr.Name, &used, limit, tooBig); err != nil {
			return err
		}
	}
}

// member opens a member of an archive whose raw bytes were searched with
// the archive's (a plain tar's, an ar's), read from mr, when it is
// compressed, an archive or a keystore itself: its content is searched at
// "ARCHIVE:NAME". Other members are left: their bytes were searched. Only a
// content beyond the limits, or a failed search, is an error; a member
// that cannot be read to its end is a note.
func (w *walker) member(j *job, c *contentScan, mr *bufio.Reader, name string, used *int64, limit int64, tooBig func(string) error) error {
	mh, _ := mr.Peek(512)
	d := 1
	switch {
	case compression(mh) != "", nest.KindByName(name) != "", nest.KeystoreKind(mh) != "":
	case isTar(mh):
		d++
	default:
		return nil
	}
	suffix := ":" + redactSpans(name, w.s.matchAll([]byte(name)))
	_, ierr := w.nested(j, c.innerScan(), mr, suffix, d, used, limit, tooBig)
	if errors.Is(ierr, errTooBig) {
		return tooBig(suffix)
	}
	if failed(ierr) {
		return ierr
	}
	if ierr != nil {
		j.notes = append(j.notes, fmt.Sprintf("%s%s: cannot be read to its end (%v): the rest was searched as raw bytes only", j.red, suffix, ierr))
	}
	return nil
}

// maxNest bounds how deep archives inside archives are opened: a file's
// decompressed content is level 1; an archive inside it is opened up to
// level maxNest. Past it, an archive is searched as raw bytes only, with
// a note: archives nested deeper are not made by build steps, and failing
// there would fail legitimate builds on what cannot be proved.
const maxNest = nest.MaxNest

// maxInnerZip bounds the size of a zip archive inside another archive
// (read into memory to be opened); a larger one is searched as raw bytes
// only, with a note.
const maxInnerZip = nest.MaxInnerZip

// isTar reports whether head starts a POSIX or GNU tar archive.
func isTar(head []byte) bool { return nest.IsTar(head) }

// decompressed searches what br holds, kind data (see compression), once
// decompressed, at depth (see maxNest), reporting it at j.red+suffix.
// used counts the bytes decompressed from j's file so far, which may not
// pass limit (tooBig makes the error).
func (w *walker) decompressed(j *job, c *contentScan, br *bufio.Reader, kind, suffix string, depth int, used *int64, limit int64, tooBig func(string) error) error {
	r, release, err := nest.Decompress(kind, br)
	defer release()
	var n int64
	if err == nil {
		// The top level (depth 1) is a file's own compression: the
		// file was searched as it is.
		n, err = w.nested(j, c, r, suffix, depth, used, limit, tooBig)
	}
	if errors.Is(err, errTooBig) {
		return tooBig(suffix)
	}
	if failed(err) {
		return err
	}
	if errors.Is(err, zstd.ErrWindowSizeExceeded) {
		// A valid stream the check will not open: what it holds is
		// unknown, so the build cannot be proved clean.
		return fmt.Errorf("checker: %s%s: a zstd stream whose window is larger than the %d MiB the check decompresses (zstd --long=28 or more): not scanned; compress it with a window of %d MiB at most (zstd --long, --long=27 or less)", j.red, suffix, nest.MaxZstdWindow>>20, nest.MaxZstdWindow>>20)
	}
	if err != nil && !((kind == "zlib" || kind == "bzip2" || kind == "brotli") && n == 0) {
		// (A file that starts as zlib or bzip2 data by chance, or is
		// called .br and is no brotli, does not decompress at all: not a
		// note.)
		j.notes = append(j.notes, fmt.Sprintf("%s%s: %s data that cannot be decompressed after %d bytes (%v): the rest was searched as raw bytes only", j.red, strings.TrimSuffix(suffix, " ("+kind+")"), kind, n, err))
	}
	return nil
}

// nested searches what r yields (a decompressed content, or a member of
// an archive, at depth) as one input through c, reported at
// j.red+suffix, and opens what it is: a tar archive's members that are
// compressed or archives themselves, a compressed content's
// decompressed content, a zip archive's files, each through c's inner
// scan, up to maxNest levels. It returns how many bytes r yielded and
// r's error (errTooBig past the limit).
func (w *walker) nested(j *job, c *contentScan, r io.Reader, suffix string, depth int, used *int64, limit int64, tooBig func(string) error) (int64, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(512)
	kind := compression(head)
	if kind == "" {
		// A member of an archive: suffix ends with its name.
		kind = nest.KindByName(suffix)
	}
	switch {
	case kind != "" && depth >= maxNest:
		j.notes = append(j.notes, fmt.Sprintf("%s%s: %s data nested more than %d archives deep: searched as raw bytes only", j.red, suffix, kind, maxNest))
	case kind == "zip":
		return w.innerZip(j, c, br, suffix, depth, used, limit, tooBig)
	case kind != "":
		// Searched as it is (what cannot be decompressed is searched
		// still), and decompressed through the inner scan.
		c.reset()
		feed := &scanFeed{r: br, c: c, used: used, limit: limit}
		err := w.decompressed(j, c.innerScan(), bufio.NewReaderSize(feed, 64<<10), kind, suffix+" ("+kind+")", depth+1, used, limit, tooBig)
		if err != nil {
			return feed.n, &scanFailure{err}
		}
		if _, err := io.Copy(io.Discard, feed); err != nil {
			return feed.n, err
		}
		if lits := c.close(); len(lits) > 0 {
			j.parts = append(j.parts, part{suffix, append([]int(nil), lits...)})
		}
		return feed.n, nil
	case isTar(head):
		return w.tarMembers(j, c, br, suffix, depth, used, limit, tooBig)
	case nest.KeystoreKind(head) != "" && depth < maxNest:
		// Searched as it is, and decrypted (see keystore).
		data, err := io.ReadAll(io.LimitReader(br, nest.MaxKeystore+1))
		lits, n, serr := w.stream(c, io.MultiReader(bytes.NewReader(data), br), used, limit)
		if len(lits) > 0 {
			j.parts = append(j.parts, part{suffix, lits})
		}
		if err == nil && serr == nil && len(data) > nest.MaxKeystore {
			j.notes = append(j.notes, fmt.Sprintf("%s%s: a %s keystore of more than %d bytes: searched as raw bytes only", j.red, suffix, nest.KeystoreKind(head), nest.MaxKeystore))
		} else if err == nil && serr == nil {
			if err := w.keystore(j, c.innerScan(), nest.KeystoreKind(head), data, suffix, used, limit); err != nil {
				return n, &scanFailure{err}
			}
		}
		if err == nil {
			err = serr
		}
		return n, err
	}
	lits, n, err := w.stream(c, br, used, limit)
	if len(lits) > 0 {
		j.parts = append(j.parts, part{suffix, lits})
	}
	return n, err
}

// scanFailure is an error that fails the scan (a limit passed inside a
// nested archive), as opposed to data that cannot be read (a note).
type scanFailure struct{ err error }

func (f *scanFailure) Error() string { return f.err.Error() }
func (f *scanFailure) Unwrap() error { return f.err }

// failed reports a scanFailure.
func failed(err error) bool {
	var f *scanFailure
	return errors.As(err, &f)
}

// scanFeed feeds what is read through it to a contentScan, counting it
// against the limit. It reads ahead in blocks of readBufSize, so that the
// scan gets large writes whatever the reader asks for (a tar reader
// skips a member in blocks of 8 KiB).
type scanFeed struct {
	r        io.Reader
	c        *contentScan
	buf      []byte
	pos, end int
	n        int64
	used     *int64
	limit    int64
	err      error // r's error, or errTooBig once past the limit
}

func (f *scanFeed) Read(p []byte) (int, error) {
	if f.pos == f.end {
		if f.err != nil {
			return 0, f.err
		}
		if f.buf == nil {
			f.buf = make([]byte, readBufSize)
		}
		k, err := f.r.Read(f.buf)
		f.pos, f.end = 0, k
		if k > 0 {
			f.n += int64(k)
			if *f.used += int64(k); *f.used > f.limit {
				f.err, f.end = errTooBig, 0
				return 0, errTooBig
			}
			f.c.write(f.buf[:k])
		}
		f.err = err
		if k == 0 {
			if err == nil {
				return 0, nil
			}
			return 0, err
		}
	}
	k := copy(p, f.buf[f.pos:f.end])
	f.pos += k
	return k, nil
}

// tarMembers searches a tar archive as one input through c (its members'
// contents are in it as they are), and opens each member that is
// compressed or an archive through c's inner scan (see nested).
func (w *walker) tarMembers(j *job, c *contentScan, br *bufio.Reader, suffix string, depth int, used *int64, limit int64, tooBig func(string) error) (int64, error) {
	c.reset()
	c.keepOn = true
	feed := &scanFeed{r: br, c: c, used: used, limit: limit}
	tr := tar.NewReader(feed)
	var err error
	mr := bufio.NewReaderSize(tr, 4096) // one for all members
	for {
		var hdr *tar.Header
		hdr, err = tr.Next()
		if err != nil {
			break
		}
		if hdr.Typeflag != tar.TypeReg || hdr.Size == 0 {
			continue
		}
		mr.Reset(tr)
		mh, _ := mr.Peek(512)
		// Its bytes are in c's input already; one that is compressed is
		// opened (nested counts the level), a tar in a tar is one level
		// deeper.
		d := depth
		switch {
		case compression(mh) != "", nest.KindByName(hdr.Name) != "", nest.KeystoreKind(mh) != "":
		case isTar(mh) && depth < maxNest:
			d++
		default:
			continue // tr.Next reads the rest through feed
		}
		name := redactSpans(hdr.Name, w.s.matchAll([]byte(hdr.Name)))
		_, ierr := w.nested(j, c.innerScan(), mr, suffix+":"+name, d, used, limit, tooBig)
		if errors.Is(ierr, errTooBig) || failed(ierr) {
			return feed.n, ierr
		}
		if ierr != nil {
			j.notes = append(j.notes, fmt.Sprintf("%s%s:%s: cannot be read to its end (%v): the rest was searched as raw bytes only", j.red, suffix, name, ierr))
		}
		if _, err = io.Copy(io.Discard, mr); err != nil {
			break
		}
	}
	if errors.Is(err, errTooBig) {
		return feed.n, err
	}
	if err == io.EOF {
		err = nil
	}
	// What follows the archive (or what a broken one holds) is searched
	// too.
	if _, cerr := io.Copy(io.Discard, feed); cerr != nil {
		if errors.Is(cerr, errTooBig) {
			return feed.n, cerr
		}
		if err == nil {
			err = cerr
		}
	}
	lits := append([]int(nil), c.close()...)
	lits = union(lits, c.joined())
	if len(lits) > 0 {
		j.parts = append(j.parts, part{suffix, lits})
	}
	return feed.n, err
}

// innerZip opens a zip archive found inside another: read into memory
// (up to maxInnerZip bytes), its files searched through c.
func (w *walker) innerZip(j *job, c *contentScan, br *bufio.Reader, suffix string, depth int, used *int64, limit int64, tooBig func(string) error) (int64, error) {
	data, err := io.ReadAll(io.LimitReader(br, maxInnerZip+1))
	n := int64(len(data))
	if err == nil && n > maxInnerZip {
		j.notes = append(j.notes, fmt.Sprintf("%s%s: a zip archive of more than %d bytes inside an archive: searched as raw bytes only", j.red, suffix, maxInnerZip))
		return n, nil
	}
	if err != nil {
		return n, err
	}
	if *used += n; *used > limit {
		return n, errTooBig
	}
	// Searched as it is (its stored files, or all of it when it cannot
	// be read as a zip archive), and its files through the inner scan.
	c.reset()
	c.write(data)
	if lits := c.close(); len(lits) > 0 {
		j.parts = append(j.parts, part{suffix, append([]int(nil), lits...)})
	}
	if zerr := w.unzipAt(j, bytes.NewReader(data), n, c.innerScan(), suffix, depth+1, used, limit, tooBig); zerr != nil {
		return n, &scanFailure{zerr}
	}
	return n, nil
}

// unzip searches each file of the zip archive src (size bytes).
func (w *walker) unzip(j *job, src io.ReaderAt, size int64, c *contentScan, limit int64, tooBig func(string) error) error {
	var used int64
	return w.unzipAt(j, src, size, c, "", 1, &used, limit, tooBig)
}

// unzipAt searches each file of the zip archive src (size bytes), found at
// j.red+suffix, its files at depth (see nested).
func (w *walker) unzipAt(j *job, src io.ReaderAt, size int64, c *contentScan, prefix string, depth int, used *int64, limit int64, tooBig func(string) error) error {
	zr, err := nest.OpenZip(src, size)
	if err != nil {
		j.notes = append(j.notes, fmt.Sprintf("%s%s: starts as a zip archive but cannot be read as one (%v): searched as raw bytes only", j.red, prefix, err))
		return nil
	}
	for _, zf := range zr.File {
		if strings.HasSuffix(zf.Name, "/") && zf.UncompressedSize64 == 0 {
			continue // a directory
		}
		suffix := prefix + ":" + redactSpans(zf.Name, w.s.matchAll([]byte(zf.Name)))
		if zf.Flags&1 != 0 {
			j.notes = append(j.notes, fmt.Sprintf("%s%s: encrypted, searched as raw bytes only", j.red, suffix))
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			j.notes = append(j.notes, fmt.Sprintf("%s%s: cannot be decompressed (%v): searched as raw bytes only", j.red, suffix, err))
			continue
		}
		n, err := w.nested(j, c, rc, suffix, depth, used, limit, tooBig)
		rc.Close()
		if errors.Is(err, errTooBig) {
			return tooBig(suffix)
		}
		if failed(err) {
			return err
		}
		if err != nil {
			j.notes = append(j.notes, fmt.Sprintf("%s%s: cannot be decompressed after %d bytes (%v): the rest was searched as raw bytes only", j.red, suffix, n, err))
		}
	}
	return nil
}

// stream searches what r yields as one input, and again without its line
// ends when it is small; used counts the bytes decompressed from the file
// so far, which may not pass limit. It returns the literals found, how
// many bytes r yielded, and r's error.
func (w *walker) stream(c *contentScan, r io.Reader, used *int64, limit int64) ([]int, int64, error) {
	c.reset()
	c.keepOn = true
	var n int64
	var err error
	for {
		k, rerr := r.Read(c.space()[:readBufSize])
		if k > 0 {
			n += int64(k)
			if *used += int64(k); *used > limit {
				return nil, n, errTooBig
			}
			c.wrote(k)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			err = rerr
			break
		}
	}
	lits := append([]int(nil), c.close()...)
	return union(lits, c.joined()), n, err
}

// write feeds p.
func (c *contentScan) write(p []byte) {
	for len(p) > 0 {
		k := copy(c.space(), p)
		p = p[k:]
		c.wrote(k)
	}
}

// zeros feeds k zero bytes; a run as long as the longest literal finds
// the same matches as any longer one, so no more is fed.
func (c *contentScan) zeros(k int64) {
	k = min(k, int64(c.f.maxLen))
	for k > 0 {
		sp := c.space()
		m := min(int(k), len(sp))
		clear(sp[:m])
		c.wrote(m)
		k -= int64(m)
	}
}

// close ends the input and returns the literals found in it, valid until
// the next reset.
func (c *contentScan) close() []int {
	c.process(true)
	return c.found
}

// process checks the grams at the multiples of the stride whose windows
// are all in the buffer (at the end of the input: every whole gram), and
// keeps what later checks need.
func (c *contentScan) process(eof bool) {
	f := c.f
	data := c.buf[c.lo:c.n] // data[0] is at stream offset c.base
	end := c.base + int64(len(data))
	limit := end - int64(f.maxLen)
	if eof {
		limit = end - gramLen
	}
	if c.next <= limit {
		i, lim := int(c.next-c.base), int(limit-c.base)
		for i = f.next(data, i, lim); i <= lim; i = f.next(data, i+f.stride, lim) {
			c.candidate(c.base+int64(i), end)
		}
		c.next = c.base + int64(i)
	}
	c.flush()
	if eof {
		return
	}
	// Keep from where the next window may start, realigned.
	keep := max(c.next-int64(f.back), c.base)
	rest := data[keep-c.base:]
	lo := c.pad(len(rest))
	c.n = lo + copy(c.buf[lo:], rest)
	c.lo, c.base = lo, keep
}

// candidate adds the window of the gram at x, the stream's end being at
// end: where a literal that the gram may belong to can lie.
func (c *contentScan) candidate(x, end int64) {
	lo := max(x-int64(c.f.back), c.base)
	hi := min(x+int64(c.f.maxLen), end)
	if c.winHi > c.winLo && lo <= c.winHi {
		c.winHi = max(c.winHi, hi)
		return
	}
	c.flush()
	c.winLo, c.winHi = lo, hi
}

// flush scans the pending window.
func (c *contentScan) flush() {
	if c.winHi <= c.winLo {
		return
	}
	from := c.lo + int(c.winLo-c.base)
	c.st.Reset("", c.addMatch)
	c.st.Write(c.buf[from : from+int(c.winHi-c.winLo)])
	c.st.Close()
	c.winLo, c.winHi = 0, 0
}

// WriteFile writes r as JSON to path, atomically.
func (r *Report) WriteFile(path string) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // "<redacted>" stays readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return err
	}
	data := b.Bytes()
	tmp, err := os.CreateTemp(filepath.Dir(path), ".report-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}

// ReadReport reads a report written by WriteFile.
func ReadReport(data []byte) (*Report, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var r Report
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("checker: reading a report: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("checker: reading a report: data after the report")
	}
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	return &r, nil
}
