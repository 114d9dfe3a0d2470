package checker

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/hushbuild/hushbuild/internal/keyfile"
	"github.com/hushbuild/hushbuild/rewrite"
)

// maxMemberKeySearch is the size up to which a member of an archive is
// searched for a private key: a key file is small.
const maxMemberKeySearch = 1 << 20

// archivesWithCredentials returns the regular files under root that a
// Dockerfile's ADD would unpack into the image (a tar archive, plain or
// compressed with gzip, bzip2, xz or zstd: BuildKit tells them by their
// content, whatever their name) and that hold a credential file by its
// name (rewrite.IsCredentialFile: an .npmrc, a .ssh/id_rsa) or a private
// key, as sorted slash-separated paths relative to root. Such an archive
// is a credential file of the context: ADD would put what it holds in a
// layer. A file that does not read as an archive is none (ADD copies it
// as it is).
func archivesWithCredentials(root string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		if !archiveHoldsCredentials(f) {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	return out, err
}

// archiveHoldsCredentials reports whether r is a tar archive (see
// archivesWithCredentials) with a credential file or a private key in it.
func archiveHoldsCredentials(r io.Reader) bool {
	br := bufio.NewReaderSize(r, 1024)
	head, _ := br.Peek(512)
	var in io.Reader = br
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return false
		}
		in = zr
	case bytes.HasPrefix(head, []byte("BZh")):
		in = bzip2.NewReader(br)
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}):
		xr, err := xz.NewReader(br)
		if err != nil {
			return false
		}
		in = xr
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br)
		if err != nil {
			return false
		}
		defer zr.Close()
		in = zr
	case len(head) < 262 || string(head[257:262]) != "ustar":
		return false
	}
	tr := tar.NewReader(in)
	for {
		hdr, err := tr.Next()
		if err != nil {
			return false // the end, or no tar: ADD copies it as it is
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		name := path.Clean("/" + hdr.Name)[1:]
		if name != "" && rewrite.IsCredentialFile(name, rewrite.Config{}) {
			return true
		}
		if hdr.Size <= maxMemberKeySearch {
			if ok, err := keyfile.ReaderHolds(io.LimitReader(tr, maxMemberKeySearch)); err == nil && ok {
				return true
			}
		}
	}
}
