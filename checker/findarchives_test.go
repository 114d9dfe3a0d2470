package checker

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func tarBytes(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, data := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(data))
	}
	tw.Close()
	return buf.Bytes()
}

// TestArchivesWithCredentials: the archives that ADD would unpack are
// opened, and those holding a credential file by name or a private key
// are reported, whatever their own names.
func TestArchivesWithCredentials(t *testing.T) {
	root := t.TempDir()
	gz := func(data []byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(data)
		zw.Close()
		return buf.Bytes()
	}
	zst := func(data []byte) []byte {
		enc, _ := zstd.NewWriter(nil)
		defer enc.Close()
		return enc.EncodeAll(data, nil)
	}
	key := "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACDp0cB2Jq1f7rXq8bXq8bXq8bXq8bXq8bXq8bXq8bXq8bXq8bXq8bXq8bX\n-----END OPENSSH PRIVATE KEY-----\n"
	files := map[string][]byte{
		"home.tar":           tarBytes(t, map[string]string{"./.npmrc": "//registry.npmjs.org/:_authToken=x\n"}),
		"dist/ssh.tgz":       gz(tarBytes(t, map[string]string{"deploy": key})),
		"vendor/aws.tar.zst": zst(tarBytes(t, map[string]string{"root/.aws/credentials": "[default]\n"})),
		"rootfs.tar.gz": gz(tarBytes(t, map[string]string{"etc/hostname": "box\n", "bin/sh": "ELF",
			"etc/ssl/certs/ACCVRAIZ1.pem":      "-----BEGIN CERTIFICATE-----\nMIIH0zCCBbugAwIBAgIIXsO3pkN/pOAwDQYJKoZIhvcNAQEFBQAwQjESMBAGA1UEAwwJ\n-----END CERTIFICATE-----\n",
			"etc/apt/trusted.gpg.d/debian.key": "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBF\n-----END PGP PUBLIC KEY BLOCK-----\n",
			"usr/lib/node_modules/npm/.npmrc":  "package-lock=false\n"})),
		"notes.gz": gz([]byte("just text\n")),
		"app.js":   []byte("console.log(1)\n"),
	}
	for name, data := range files {
		p := filepath.Join(root, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := archivesWithCredentials(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"dist/ssh.tgz", "home.tar", "vendor/aws.tar.zst"}
	if !slices.Equal(got, want) {
		t.Errorf("archivesWithCredentials = %q, want %q", got, want)
	}
}
