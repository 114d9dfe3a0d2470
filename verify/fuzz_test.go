package verify

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hushbuild/hushbuild/internal/nest/nesttest"
	vt "github.com/hushbuild/hushbuild/verify/verifytest"
)

// FuzzOpenArchive scans arbitrary bytes as an image archive: whatever
// they hold, Scan returns (an error or a report) and never panics or
// hangs.
func FuzzOpenArchive(f *testing.F) {
	img := vt.Image{Platform: vt.Amd64, Layers: []vt.Layer{
		{Compression: vt.Uncompressed, Files: []vt.File{{Name: "etc/a", Body: "machine x login y password hunter22"}, {Name: "etc/l", Type: '2', Link: "a"}}},
		{Compression: vt.Gzip, Files: []vt.File{{Name: "etc/.wh.a"}}},
	}}
	l := vt.NewLayout(f).Write(img)
	for _, p := range []string{l.Archive(vt.Uncompressed), l.Archive(vt.Gzip), vt.DockerSave(f, img)} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte{})
	f.Add(vt.Tar(f, []vt.File{{Name: "index.json", Body: `{"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000","size":2}]}`}}))
	f.Add(vt.Tar(f, []vt.File{{Name: "manifest.json", Body: `[{"Config":"c.json","Layers":["l.tar","l.tar"]}]`}, {Name: "c.json", Body: "{}"}, {Name: "l.tar", Type: '2', Link: "l.tar"}}))
	secrets := []Secret{{ID: "S", Value: "hunter22"}}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "image.tar")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		r, _ := Scan(context.Background(), Options{Image: p, Secrets: secrets, Patterns: true})
		if r == nil {
			t.Fatal("no report")
		}
	})
}

// FuzzLayer scans arbitrary bytes as a layer blob, each way a layer is
// read (in one goroutine and in two).
func FuzzLayer(f *testing.F) {
	files := []vt.File{{Name: "a/b", Body: "password hunter22"}, {Name: "a/.wh..wh..opq"}, {Name: "c", Type: '1', Link: "a/b"}}
	raw := vt.Tar(f, files)
	f.Add(raw)
	f.Add(vt.Compress(f, vt.Gzip, raw))
	f.Add(vt.Compress(f, vt.Zstd, raw))
	f.Add(vt.Compress(f, vt.Gzip, raw)[:40])
	m, err := newMatcher([]Secret{{ID: "S", Value: "hunter22"}}, true, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var hits [2]int
		var errs [2]error
		for i, overlap := range []bool{false, true} {
			c := newCollector()
			_, errs[i] = m.scanLayer(context.Background(), bytes.NewReader(data), c, overlap)
			hits[i] = len(c.list())
		}
		if hits[0] != hits[1] || (errs[0] == nil) != (errs[1] == nil) {
			t.Fatalf("one goroutine: %d hits, error %v; two: %d hits, error %v", hits[0], errs[0], hits[1], errs[1])
		}
	})
}

// FuzzKeystoreSecret: a secret that looks like a keystore, whatever
// follows its head, is read without a panic, and no field names a value.
func FuzzKeystoreSecret(f *testing.F) {
	key, cert, err := nesttest.NewKeySize(1024)
	if err != nil {
		f.Fatal(err)
	}
	for _, pw := range []string{"changeit", "pw-of-other"} {
		ks, err := nesttest.PKCS12(key, cert, "legacy-des", pw)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(ks.P12)
		if ks, err = nesttest.JKS(key, cert, pw); err != nil {
			f.Fatal(err)
		}
		f.Add(ks.P12)
	}
	es, err := nesttest.ESKeystore(4, "", "bootstrap.password", "an-es-password")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(es)
	f.Fuzz(func(t *testing.T, data []byte) {
		files := []SecretFile{{ID: "keystore", Name: "keystore.p12", Data: data}, {ID: "keystore_password", Data: []byte("pw-of-other\n")}}
		values, notes := BuildSecretValues(files, true, nil)
		for _, vs := range values {
			for _, v := range vs {
				if strings.Contains(v.Field, "pw-of-other") {
					t.Errorf("field %q names the password", v.Field)
				}
			}
		}
		for _, ns := range notes {
			for _, n := range ns {
				if strings.Contains(n, "pw-of-other") {
					t.Errorf("note %q names the password", n)
				}
			}
		}
	})
}
