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
	"slices"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/hushbuild/hushbuild/internal/keyfile"
	"github.com/hushbuild/hushbuild/rewrite"
)

// archivedCredentialNames are the credential files an archive member is
// by its name alone: a tool's credential file, by its base name or its
// last two parts. The other names of credential files (*.pem, *.key,
// secrets/*) are left to the search for private keys: a root file system
// ADDed to FROM scratch holds CA certificates named *.pem and packages'
// public signing keys named *.key.
var (
	archivedCredentialNames = []string{".npmrc", ".netrc", "_netrc", ".pypirc", ".git-credentials", ".pgpass", ".my.cnf",
		".dockercfg", ".vault-token", ".s3cfg", "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"}
	archivedCredentialPaths = []string{".aws/credentials", ".docker/config.json", ".kube/config", "pip/pip.conf",
		".gem/credentials", ".cargo/credentials", ".cargo/credentials.toml", "composer/auth.json", ".composer/auth.json"}
)

// archivedCredentialFile reports whether an archive member's path names a
// credential file (see archivedCredentialNames), an env file among them,
// outside the directories where packages keep their own files.
func archivedCredentialFile(name string) bool {
	for _, dir := range []string{"node_modules/", "site-packages/", "dist-packages/", "usr/share/", "usr/lib/"} {
		if strings.HasPrefix(name, dir) || strings.Contains(name, "/"+dir) {
			return false
		}
	}
	base := path.Base(name)
	if slices.Contains(archivedCredentialNames, base) {
		return true
	}
	if strings.HasPrefix(base, ".env") && rewrite.IsCredentialFile(base, rewrite.Config{}) {
		return true
	}
	for _, p := range archivedCredentialPaths {
		if name == p || strings.HasSuffix(name, "/"+p) {
			return true
		}
	}
	return false
}

// maxMemberKeySearch is the size up to which a member of an archive is
// searched for a private key: a key file is small.
const maxMemberKeySearch = 1 << 20

// archivesWithCredentials returns the regular files under root that a
// Dockerfile's ADD would unpack into the image (a tar archive, plain or
// compressed with gzip, bzip2, xz or zstd: BuildKit tells them by their
// content, whatever their name) and that hold a credential file by its
// name (archivedCredentialFile: an .npmrc, an .aws/credentials) or a
// private key, as sorted slash-separated paths relative to root. Such an archive
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
		if name := path.Clean("/" + hdr.Name)[1:]; name != "" && archivedCredentialFile(name) {
			return true
		}
		if hdr.Size <= maxMemberKeySearch {
			if ok, err := keyfile.ReaderHolds(io.LimitReader(tr, maxMemberKeySearch)); err == nil && ok {
				return true
			}
		}
	}
}
