package checker

import (
	"errors"
	"os"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// WhereXattr says a finding is in an extended attribute of an entry (its
// name or its value); the finding's path names the attribute:
// "PATH (extended attribute NAME)".
const WhereXattr = "xattr"

// xattrSuffix is what a finding's path adds to the entry's for the
// attribute name (redacted).
func xattrSuffix(name string) string { return " (extended attribute " + name + ")" }

// Linux bounds an attribute's value and an entry's list of names at 64
// KiB each (XATTR_SIZE_MAX, XATTR_LIST_MAX).
const maxXattr = 64 << 10

// xattrHit is a value found in an extended attribute of an entry.
type xattrHit struct {
	attr string // the attribute's name (never reported)
	name string // the attribute's name, redacted
	lits []int
}

// xattrScan reads and searches the extended attributes of entries: one
// per goroutine.
type xattrScan struct {
	*matcher
	list []byte
	val  []byte
}

func newXattrScan(s *Secrets) *xattrScan {
	return &xattrScan{matcher: newMatcher(s), list: make([]byte, 256), val: make([]byte, 256)}
}

// scan lists the extended attributes of an entry with list and reads
// each with get (both as listxattr(2) and getxattr(2): the size needed
// when the buffer is empty), and returns those whose name or value
// holds a value. A file system without extended attributes has none; an
// attribute removed between the two calls is skipped.
func (x *xattrScan) scan(list func([]byte) (int, error), get func(string, []byte) (int, error)) ([]xattrHit, error) {
	n, err := readXattr(&x.list, list)
	if err != nil {
		if errors.Is(err, unix.ENOTSUP) {
			return nil, nil
		}
		return nil, err
	}
	if n == 0 {
		return nil, nil
	}
	var names []string
	for _, name := range strings.Split(string(x.list[:n]), "\x00") {
		if name != "" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var hits []xattrHit
	for _, name := range names {
		nms := x.match([]byte(name))
		var lits []int
		for _, m := range nms {
			lits = append(lits, m.Literal)
		}
		red := redactSpans(name, nms)
		k, err := readXattr(&x.val, func(b []byte) (int, error) { return get(name, b) })
		if errors.Is(err, unix.ENODATA) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, m := range x.match(x.val[:k]) {
			lits = append(lits, m.Literal)
		}
		if len(lits) > 0 {
			hits = append(hits, xattrHit{name, red, lits})
		}
	}
	return hits, nil
}

// readXattr calls read (listxattr(2) or getxattr(2)) into *buf, growing it
// when it is too small, up to maxXattr.
func readXattr(buf *[]byte, read func([]byte) (int, error)) (int, error) {
	for {
		n, err := read(*buf)
		if err == nil {
			return n, nil
		}
		if !errors.Is(err, unix.ERANGE) || len(*buf) >= maxXattr {
			return 0, err
		}
		size, err := read(nil)
		if err != nil {
			return 0, err
		}
		*buf = make([]byte, min(max(size, 2*len(*buf)), maxXattr))
	}
}

// fileXattrs returns the extended attributes of the open file f that hold
// a value.
func (x *xattrScan) fileXattrs(f *os.File) ([]xattrHit, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	var hits []xattrHit
	var serr error
	err = rc.Control(func(fd uintptr) {
		hits, serr = x.scan(
			func(b []byte) (int, error) { return unix.Flistxattr(int(fd), b) },
			func(name string, b []byte) (int, error) { return unix.Fgetxattr(int(fd), name, b) })
	})
	if err != nil {
		return nil, err
	}
	return hits, serr
}

// pathXattrs returns the extended attributes of the entry at path (a
// symlink's own) that hold a value.
func (x *xattrScan) pathXattrs(path string) ([]xattrHit, error) {
	return x.scan(
		func(b []byte) (int, error) { return unix.Llistxattr(path, b) },
		func(name string, b []byte) (int, error) { return unix.Lgetxattr(path, name, b) })
}
