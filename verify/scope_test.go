package verify

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	vt "github.com/hushbuild/hushbuild/verify/verifytest"
)

// texts returns the report in every output form.
func texts(t *testing.T, r *Report) (text, js, sarif string) {
	t.Helper()
	var a, b, c bytes.Buffer
	if err := r.WriteText(&a); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteSARIF(&c, "test"); err != nil {
		t.Fatal(err)
	}
	return a.String(), b.String(), c.String()
}

// amd64Leaky is an amd64 image whose second layer holds c.
func amd64Leaky(c string) vt.Image {
	return vt.Image{Platform: vt.Amd64, Layers: []vt.Layer{
		{Files: []vt.File{{Name: "bin/sh", Body: "#!"}}},
		{Files: []vt.File{{Name: "app/.env", Body: "TOKEN=" + c + "\n"}}},
	}}
}

// bareManifestLayout writes img with index.json listing its manifest
// directly, without a platform in the descriptor (as skopeo and some
// exporters do): only the config says the platform.
func bareManifestLayout(t *testing.T, img vt.Image) *vt.Layout {
	t.Helper()
	l := vt.NewLayout(t)
	md, _ := l.Image(img)
	md.Platform = nil
	writeIndex(t, l, md)
	return l
}

// TestNothingReadIsAnError: a scan that read no image, no layer or no file
// (for the requested platforms) fails, says what it did not find, and no
// output form calls the image clean.
func TestNothingReadIsAnError(t *testing.T) {
	c := vt.Canary(t)
	img := amd64Leaky(c)
	tests := []struct {
		name      string
		image     func(t *testing.T) string
		platforms []string
		want      []string // in the error
	}{
		{"platform absent from a layout", func(t *testing.T) string { return vt.NewLayout(t).Write(img).Dir },
			[]string{"linux/s390x"}, []string{"no image for platform linux/s390x", "linux/amd64"}},
		{"platform absent from an OCI archive", func(t *testing.T) string { return vt.NewLayout(t).Write(img).Archive(vt.Gzip) },
			[]string{"linux/s390x"}, []string{"no image for platform linux/s390x", "linux/amd64"}},
		{"platform absent from a docker save archive", func(t *testing.T) string { return vt.DockerSave(t, img) },
			[]string{"linux/s390x"}, []string{"no image for platform linux/s390x", "linux/amd64"}},
		{"platform absent, descriptor without platform", func(t *testing.T) string { return bareManifestLayout(t, img).Dir },
			[]string{"linux/arm64"}, []string{"no image for platform linux/arm64", "linux/amd64"}},
		{"one of two platforms absent", func(t *testing.T) string { return vt.NewLayout(t).Write(img).Dir },
			[]string{"linux/amd64", "linux/s390x"}, []string{"no image for platform linux/s390x"}},
		{"no manifest at all", func(t *testing.T) string {
			l := vt.NewLayout(t)
			writeIndex(t, l)
			return l.Dir
		}, nil, []string{"no image manifest"}},
		{"only an attestation", func(t *testing.T) string {
			l := vt.NewLayout(t)
			md, ad := l.Image(vt.Image{Platform: vt.Amd64, Layers: img.Layers, Attestation: &vt.Attestation{PredicateType: "x", Statement: "{}"}})
			_ = md
			writeIndex(t, l, *ad)
			return l.Dir
		}, nil, []string{"no image manifest"}},
		{"image without a layer", func(t *testing.T) string {
			return vt.NewLayout(t).Write(vt.Image{Platform: vt.Amd64}).Dir
		}, nil, []string{"linux/amd64", "no layer"}},
		{"layers without a file", func(t *testing.T) string {
			return vt.NewLayout(t).Write(vt.Image{Platform: vt.Amd64, Layers: []vt.Layer{{}, {Compression: vt.Uncompressed}}}).Dir
		}, nil, []string{"linux/amd64", "no file"}},
		{"one platform of two without a file", func(t *testing.T) string {
			return vt.NewLayout(t).Write(img, vt.Image{Platform: vt.Arm64, Layers: []vt.Layer{{}}}).Dir
		}, nil, []string{"linux/arm64", "no file"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := run(t, Options{Image: tc.image(t), Secrets: []Secret{{ID: "S", Value: vt.Canary(t)}}, Patterns: true, Platforms: tc.platforms})
			if err == nil {
				t.Fatalf("want an error, got none:\n%s", dump(r))
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if r.Clean() {
				t.Errorf("Clean() is true for a scan that failed")
			}
			text, js, sf := texts(t, r)
			if strings.Contains(text, "clean") {
				t.Errorf("the text report says clean:\n%s", text)
			}
			if !strings.Contains(text, "INCOMPLETE") {
				t.Errorf("the text report does not say INCOMPLETE:\n%s", text)
			}
			var doc struct{ Error string }
			if json.Unmarshal([]byte(js), &doc) != nil || doc.Error == "" {
				t.Errorf("the JSON report has no error:\n%s", js)
			}
			if !strings.Contains(sf, `"executionSuccessful": false`) {
				t.Errorf("the SARIF log says the execution succeeded")
			}
		})
	}
}

// TestFailedScanIsNotClean: a scan that fails part-way (a truncated
// layer, a missing blob) says so in every output form, not "clean".
func TestFailedScanIsNotClean(t *testing.T) {
	files := []vt.File{{Name: "a", Body: strings.Repeat("some text ", 5000)}}
	tests := []struct {
		name  string
		image func(t *testing.T) string
	}{
		{"truncated layer", func(t *testing.T) string {
			l := vt.NewLayout(t)
			gz := vt.Compress(t, vt.Gzip, vt.Tar(t, files))
			layer := l.Blob(ocispec.MediaTypeImageLayerGzip, gz[:len(gz)/2])
			writeIndex(t, l, manifestWith(l, l.JSON(ocispec.MediaTypeImageConfig, ocispec.Image{}), layer))
			return l.Dir
		}},
		{"missing layer blob", func(t *testing.T) string {
			l := vt.NewLayout(t)
			layer := l.Blob(ocispec.MediaTypeImageLayer, vt.Tar(t, files))
			writeIndex(t, l, manifestWith(l, l.JSON(ocispec.MediaTypeImageConfig, ocispec.Image{}), layer))
			os.Remove(l.BlobPath(layer))
			return l.Dir
		}},
		{"no such file", func(t *testing.T) string { return filepath.Join(t.TempDir(), "image.tar") }},
		{"truncated archive", func(t *testing.T) string {
			p := vt.NewLayout(t).Write(vt.Image{Platform: vt.Amd64, Layers: []vt.Layer{{Files: files, Compression: vt.Uncompressed}}}).Archive(vt.Uncompressed)
			data, _ := os.ReadFile(p)
			os.WriteFile(p, data[:len(data)/2], 0o644)
			return p
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := run(t, Options{Image: tc.image(t), Patterns: true})
			if err == nil {
				t.Fatal("want an error")
			}
			if r.Clean() || r.Error == "" {
				t.Errorf("report: Clean() %v, Error %q", r.Clean(), r.Error)
			}
			text, _, sf := texts(t, r)
			if strings.Contains(text, "clean") || !strings.Contains(text, "INCOMPLETE") {
				t.Errorf("text report:\n%s", text)
			}
			if !strings.Contains(sf, `"executionSuccessful": false`) {
				t.Errorf("the SARIF log says the execution succeeded")
			}
		})
	}
}

// TestCleanSaysWhatItRead: "clean" comes with what was read.
func TestCleanSaysWhatItRead(t *testing.T) {
	l := vt.NewLayout(t).Write(amd64Leaky("nothing"), vt.Image{Platform: vt.Arm64, Layers: []vt.Layer{{Files: []vt.File{{Name: "x", Body: "y"}}}}})
	r := mustRun(t, Options{Image: l.Dir, Secrets: []Secret{{ID: "S", Value: vt.Canary(t)}}})
	if !r.Clean() || r.Error != "" {
		t.Fatalf("want clean, got:\n%s", dump(r))
	}
	if got := strings.Join(r.Stats.Platforms, ","); got != "linux/amd64,linux/arm64" {
		t.Errorf("Stats.Platforms %q", got)
	}
	text, _, _ := texts(t, r)
	for _, w := range []string{"clean: nothing found in " + l.Dir, "2 manifests", "3 layers", "3 files", "; platforms linux/amd64, linux/arm64)"} {
		if !strings.Contains(text, w) {
			t.Errorf("the summary does not say %q:\n%s", w, text)
		}
	}
	r = mustRun(t, Options{Image: l.Dir, Secrets: []Secret{{ID: "S", Value: vt.Canary(t)}}, Platforms: []string{"linux/arm64"}})
	if text, _, _ := texts(t, r); !strings.Contains(text, "1 manifest, ") || !strings.Contains(text, "1 layer, ") || !strings.Contains(text, "1 file, ") || !strings.Contains(text, "; platform linux/arm64)") {
		t.Errorf("linux/arm64 only:\n%s", text)
	}
}

// TestPlatformFiltersEveryFormat: --platform picks the image by its
// platform whatever the input: an index, a manifest without a platform in
// its descriptor, a docker save archive, a registry's single manifest.
func TestPlatformFiltersEveryFormat(t *testing.T) {
	c := vt.Canary(t)
	img := amd64Leaky(c)
	tests := []struct {
		name  string
		image func(t *testing.T) string
	}{
		{"layout", func(t *testing.T) string { return vt.NewLayout(t).Write(img).Dir }},
		{"layout, descriptor without platform", func(t *testing.T) string { return bareManifestLayout(t, img).Dir }},
		{"oci archive", func(t *testing.T) string { return vt.NewLayout(t).Write(img).Archive(vt.Uncompressed) }},
		{"docker save", func(t *testing.T) string { return vt.DockerSave(t, img) }},
		{"registry manifest", func(t *testing.T) string { return serveLayout(t, bareManifestLayout(t, img).Dir) + "/app:latest" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			image := tc.image(t)
			secrets := []Secret{{ID: "S", Value: c}}
			r := mustRun(t, Options{Image: image, Secrets: secrets, Platforms: []string{"linux/amd64"}})
			if len(r.Hits) != 1 || r.Hits[0].Platform != "linux/amd64" || r.Hits[0].Path != "/app/.env" {
				t.Errorf("linux/amd64: want the hit, got:\n%s", dump(r))
			}
			r, err := run(t, Options{Image: image, Secrets: secrets, Platforms: []string{"linux/arm64"}})
			if err == nil || !strings.Contains(err.Error(), "no image for platform linux/arm64") {
				t.Errorf("linux/arm64: want an error, got %v", err)
			}
			if len(r.Hits) != 0 || r.Stats.Layers != 0 {
				t.Errorf("linux/arm64: the amd64 image was scanned:\n%s", dump(r))
			}
		})
	}
}

// TestPathLikeIsAFile: an input that does not exist but looks like a path
// is a missing file, never a registry reference.
func TestPathLikeIsAFile(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, image := range []string{
		"image.tar", "image.TAR", "out.tar.gz", "out.tgz", "out.tar.zst", "image.oci",
		"./image", "../image", "/nonexistent/image", "out/image", "build/out/app:latest", `out\image`, "..x/y",
	} {
		t.Run(image, func(t *testing.T) {
			r, err := run(t, Options{Image: image, Patterns: true})
			if err == nil || !strings.HasPrefix(err.Error(), image+": no such file or directory") {
				t.Fatalf("want no such file, got %v", err)
			}
			if r.Clean() {
				t.Error("Clean() after an error")
			}
		})
	}
	// References with a registry host are still references.
	for _, image := range []string{"127.0.0.1:1/app:latest", "localhost:1/team/app"} {
		_, err := run(t, Options{Image: image, Patterns: true})
		if err == nil || strings.Contains(err.Error(), "no such file") {
			t.Errorf("%s: want a registry error, got %v", image, err)
		}
	}
}

// TestErrorNeverHoldsASecret: a layer that fails inside a file named after
// a secret reports the failure with the name redacted (the error is on
// stderr and in the report).
func TestErrorNeverHoldsASecret(t *testing.T) {
	c := vt.Canary(t)
	raw := vt.Tar(t, []vt.File{{Name: "x", Body: "y"}, {Name: "tokens/" + c, Body: strings.Repeat("z", 20000)}})
	for name, comp := range map[string]vt.Compression{"uncompressed": vt.Uncompressed, "gzip": vt.Gzip} {
		t.Run(name, func(t *testing.T) {
			l := vt.NewLayout(t)
			data := vt.Compress(t, comp, raw[:len(raw)/2])
			if comp == vt.Gzip {
				data = vt.Compress(t, comp, raw)
				data = data[:len(data)-30]
			}
			layer := l.Blob(vt.LayerMediaType(comp), data)
			writeIndex(t, l, manifestWith(l, l.JSON(ocispec.MediaTypeImageConfig, ocispec.Image{}), layer))
			// run fails the test if the error holds the secret.
			r, err := run(t, Options{Image: l.Dir, Secrets: []Secret{{ID: "S", Value: c}}})
			if err == nil || r.Clean() {
				t.Fatalf("want an error, got %v", err)
			}
			t.Logf("error: %v", err)
		})
	}
}
