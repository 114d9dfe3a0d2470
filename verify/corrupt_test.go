package verify

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	vt "github.com/hushbuild/hushbuild/verify/verifytest"
)

// writeIndex makes index.json list descs directly.
func writeIndex(t *testing.T, l *vt.Layout, descs ...ocispec.Descriptor) {
	t.Helper()
	data, _ := json.Marshal(ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: descs})
	if err := os.WriteFile(filepath.Join(l.Dir, "index.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// manifestWith writes a manifest with the given config and layers.
func manifestWith(l *vt.Layout, config ocispec.Descriptor, layers ...ocispec.Descriptor) ocispec.Descriptor {
	return l.JSON(ocispec.MediaTypeImageManifest, ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest, Config: config, Layers: layers,
	})
}

func TestCorruptInputs(t *testing.T) {
	files := []vt.File{{Name: "a", Body: strings.Repeat("some text ", 5000)}}
	tests := []struct {
		name  string
		image func(t *testing.T) string
		want  string // in the error
	}{
		{"truncated gzip layer", func(t *testing.T) string {
			l := vt.NewLayout(t)
			gz := vt.Compress(t, vt.Gzip, vt.Tar(t, files))
			layer := l.Blob(ocispec.MediaTypeImageLayerGzip, gz[:len(gz)/2])
			writeIndex(t, l, manifestWith(l, l.JSON(ocispec.MediaTypeImageConfig, ocispec.Image{}), layer))
			return l.Dir
		}, "truncated"},
		{"truncated zstd layer", func(t *testing.T) string {
			l := vt.NewLayout(t)
			z := vt.Compress(t, vt.Zstd, vt.Tar(t, files))
			layer := l.Blob(ocispec.MediaTypeImageLayerZstd, z[:len(z)/2])
			writeIndex(t, l, manifestWith(l, l.JSON(ocispec.MediaTypeImageConfig, ocispec.Image{}), layer))
			return l.Dir
		}, "layer sha256:"},
		{"layer not a tar", func(t *testing.T) string {
			l := vt.NewLayout(t)
			layer := l.Blob(ocispec.MediaTypeImageLayerGzip, vt.Compress(t, vt.Gzip, []byte(strings.Repeat("not a tar\n", 200))))
			writeIndex(t, l, manifestWith(l, l.JSON(ocispec.MediaTypeImageConfig, ocispec.Image{}), layer))
			return l.Dir
		}, "tar"},
		{"missing layer blob", func(t *testing.T) string {
			l := vt.NewLayout(t)
			layer := l.Blob(ocispec.MediaTypeImageLayer, vt.Tar(t, files))
			writeIndex(t, l, manifestWith(l, l.JSON(ocispec.MediaTypeImageConfig, ocispec.Image{}), layer))
			os.Remove(l.BlobPath(layer))
			return l.Dir
		}, "is missing from the layout"},
		{"missing manifest blob", func(t *testing.T) string {
			l := vt.NewLayout(t)
			m := manifestWith(l, l.JSON(ocispec.MediaTypeImageConfig, ocispec.Image{}))
			writeIndex(t, l, m)
			os.Remove(l.BlobPath(m))
			return l.Dir
		}, "is missing from the layout"},
		{"bad manifest JSON", func(t *testing.T) string {
			l := vt.NewLayout(t)
			writeIndex(t, l, l.Blob(ocispec.MediaTypeImageManifest, []byte(`{"layers": [`)))
			return l.Dir
		}, "bad JSON"},
		{"bad config JSON", func(t *testing.T) string {
			l := vt.NewLayout(t)
			writeIndex(t, l, manifestWith(l, l.Blob(ocispec.MediaTypeImageConfig, []byte(`{"config": }`))))
			return l.Dir
		}, "bad JSON"},
		{"bad index.json", func(t *testing.T) string {
			l := vt.NewLayout(t)
			os.WriteFile(filepath.Join(l.Dir, "index.json"), []byte("[}"), 0o644)
			return l.Dir
		}, "bad JSON"},
		{"blob does not match its digest", func(t *testing.T) string {
			l := vt.NewLayout(t)
			layer := l.Blob(ocispec.MediaTypeImageLayer, vt.Tar(t, files))
			writeIndex(t, l, manifestWith(l, l.JSON(ocispec.MediaTypeImageConfig, ocispec.Image{}), layer))
			data, _ := os.ReadFile(l.BlobPath(layer))
			data[600] ^= 1
			os.WriteFile(l.BlobPath(layer), data, 0o644)
			return l.Dir
		}, "does not match its digest"},
		{"invalid digest", func(t *testing.T) string {
			l := vt.NewLayout(t)
			writeIndex(t, l, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: "sha256:../../../etc/passwd", Size: 10})
			return l.Dir
		}, "invalid"},
		{"symlink loop", func(t *testing.T) string {
			dir := t.TempDir()
			a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
			os.Symlink(b, a)
			os.Symlink(a, b)
			return a
		}, "too many levels of symbolic links"},
		{"not an archive", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "junk.tar")
			os.WriteFile(p, []byte(strings.Repeat("\x01junk", 300)), 0o644)
			return p
		}, "not a valid tar archive"},
		{"empty file", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "empty.tar")
			os.WriteFile(p, nil, 0o644)
			return p
		}, "empty archive"},
		{"truncated archive", func(t *testing.T) string {
			l := vt.NewLayout(t).Write(vt.Image{Platform: vt.Amd64, Layers: []vt.Layer{{Files: files, Compression: vt.Uncompressed}}})
			p := l.Archive(vt.Uncompressed)
			data, _ := os.ReadFile(p)
			os.WriteFile(p, data[:len(data)/2], 0o644)
			return p
		}, "image.tar"},
		{"truncated gzipped archive", func(t *testing.T) string {
			l := vt.NewLayout(t).Write(vt.Image{Platform: vt.Amd64, Layers: []vt.Layer{{Files: files}}})
			p := l.Archive(vt.Gzip)
			data, _ := os.ReadFile(p)
			os.WriteFile(p, data[:len(data)-20], 0o644)
			return p
		}, "decompressing"},
		{"symlink loop in an archive", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "loop.tar")
			os.WriteFile(p, vt.Tar(t, []vt.File{
				{Name: "index.json", Type: '2', Link: "x.json"},
				{Name: "x.json", Type: '2', Link: "index.json"},
			}), 0o644)
			return p
		}, "symlink loop"},
		{"archive without an image", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "other.tar")
			os.WriteFile(p, vt.Tar(t, []vt.File{{Name: "README", Body: "hi"}}), 0o644)
			return p
		}, "neither an OCI archive"},
		{"no such path", func(t *testing.T) string {
			return filepath.Join(t.TempDir(), "nope")
		}, "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := run(t, Options{Image: tc.image(t), Secrets: []Secret{{ID: "S", Value: vt.Canary(t)}}, Patterns: true})
			if err == nil {
				t.Fatalf("want an error")
			}
			t.Logf("error: %v", err)
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

// TestErrorKeepsFindings: a failure in one blob does not hide what the
// others hold.
func TestErrorKeepsFindings(t *testing.T) {
	c := vt.Canary(t)
	l := vt.NewLayout(t)
	good := l.Blob(ocispec.MediaTypeImageLayer, vt.Tar(t, []vt.File{{Name: "x", Body: c}}))
	gz := vt.Compress(t, vt.Gzip, vt.Tar(t, []vt.File{{Name: "y", Body: strings.Repeat("y", 10000)}}))
	bad := l.Blob(ocispec.MediaTypeImageLayerGzip, gz[:len(gz)-10])
	writeIndex(t, l, manifestWith(l, l.JSON(ocispec.MediaTypeImageConfig, ocispec.Image{}), good, bad))
	r, err := run(t, Options{Image: l.Dir, Secrets: []Secret{{ID: "S", Value: c}}})
	if err == nil || len(r.Hits) != 1 {
		t.Fatalf("want an error and one hit, got %v and:\n%s", err, dump(r))
	}
}
