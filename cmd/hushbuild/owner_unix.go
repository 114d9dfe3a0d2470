//go:build unix

package main

import (
	"os"
	"syscall"
)

// keepOwner gives f the owner of the file described by fi, when allowed
// (as root, or when they already match); failure is not an error.
func keepOwner(f *os.File, fi os.FileInfo) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		_ = f.Chown(int(st.Uid), int(st.Gid))
	}
}
