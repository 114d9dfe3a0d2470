package verify

import (
	"archive/tar"
	"bytes"
	"fmt"
	"path/filepath"
	"regexp"
	"testing"

	goldenfile "github.com/hushbuild/hushbuild/internal/golden"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hushbuild/hushbuild/internal/sarif/sariftest"
	vt "github.com/hushbuild/hushbuild/verify/verifytest"
)

// goldenImage leaks c in most of the places an image has, on one of its
// two platforms.
func goldenImage(t *testing.T, c string) string {
	base := vt.Layer{Compression: vt.Uncompressed, Files: []vt.File{{Name: "bin/", Type: tar.TypeDir}, {Name: "bin/sh", Body: "#!/bin/busybox"}}}
	stmt := fmt.Sprintf(`{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v0.2","predicate":{"invocation":{"parameters":{"args":{"build-arg:PYPI_PASS":%q}}}}}`, c)
	leaky := vt.Image{
		Platform: vt.Arm64,
		Config: ocispec.Image{
			Config: ocispec.ImageConfig{Env: []string{"PATH=/bin"}, Labels: map[string]string{"pass": c}},
			History: []ocispec.History{
				{CreatedBy: "COPY busybox /bin/"},
				{CreatedBy: "ARG PYPI_PASS=" + c, EmptyLayer: true},
				{CreatedBy: "RUN |1 PYPI_PASS=" + c + " /bin/sh -c pip install x"},
			},
		},
		Layers: []vt.Layer{
			base,
			{Compression: vt.Uncompressed, Files: []vt.File{
				{Name: "root/.netrc", Body: "machine pypi.corp login ci password " + c + "\n"},
				{Name: "app/settings.py", Body: "INDEX = 'https://ci:" + c + "@pypi.corp/simple'\n"},
				{Name: "cache/" + c, Body: ""},
			}},
			{Compression: vt.Uncompressed, Files: []vt.File{{Name: "root/.wh..netrc"}}},
		},
		Attestation: &vt.Attestation{PredicateType: "https://slsa.dev/provenance/v0.2", Statement: stmt},
	}
	clean := vt.Image{Platform: vt.Amd64, Layers: []vt.Layer{base}}
	return vt.NewLayout(t).Write(clean, leaky).Dir
}

var (
	longDigest = regexp.MustCompile(`sha256:[0-9a-f]{64}`)
	hexRun     = regexp.MustCompile(`[0-9a-f]{12}`)
)

// normalize replaces what changes from run to run (digests, which depend
// on the random canary, and the image's path) with stable names.
func normalize(out []byte, image string) []byte {
	names := map[string]string{}
	name := func(hex12 string) string {
		if n, ok := names[hex12]; ok {
			return n
		}
		n := fmt.Sprintf("<digest%d>", len(names)+1)
		names[hex12] = n
		return n
	}
	out = longDigest.ReplaceAllFunc(out, func(d []byte) []byte {
		return []byte("sha256:" + name(string(d[7:19])))
	})
	out = regexp.MustCompile(`sha256:[0-9a-f]{12}`).ReplaceAllFunc(out, func(d []byte) []byte {
		return []byte("sha256:" + name(string(d[7:])))
	})
	out = regexp.MustCompile(`blobs/sha256/[0-9a-f]{64}`).ReplaceAllFunc(out, func(d []byte) []byte {
		return []byte("blobs/sha256/" + name(string(d[13:25])))
	})
	out = bytes.ReplaceAll(out, []byte(image), []byte("IMAGE"))
	return hexRun.ReplaceAllFunc(out, func(h []byte) []byte {
		if n, ok := names[string(h)]; ok {
			return []byte(n)
		}
		return h
	})
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got)
}

func TestGolden(t *testing.T) {
	c := vt.Canary(t)
	image := goldenImage(t, c)
	r := mustRun(t, Options{Image: image, Secrets: []Secret{{ID: "PYPI_PASS", Value: c}, {ID: "TINY", Value: "abc"}}, Patterns: true})
	var text, js, sf bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteSARIF(&sf, "test"); err != nil {
		t.Fatal(err)
	}
	if err := sariftest.ValidateGitHub(sf.Bytes()); err != nil {
		t.Errorf("SARIF: %v", err)
	}
	// Rule names distinct from ids, and help on every rule.
	if err := sariftest.CheckRuleNames(sf.Bytes()); err != nil {
		t.Errorf("SARIF rules: %v", err)
	}
	golden(t, "report.txt", normalize(text.Bytes(), image))
	golden(t, "report.json", normalize(js.Bytes(), image))
	golden(t, "report.sarif", normalize(sf.Bytes(), image))
}
