// Package verifytest builds synthetic images for tests: OCI image
// layouts, OCI archives and legacy docker-save archives, with gzip, zstd or
// uncompressed layers, multi-platform indexes and BuildKit-style
// attestation manifests.
package verifytest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Canary returns a random secret value, new for each call.
func Canary(t testing.TB) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "hfcanary" + hex.EncodeToString(b)
}

// Compression is a layer's (or an archive's) compression.
type Compression int

const (
	Gzip Compression = iota
	Zstd
	Uncompressed
)

// File is one tar entry.
type File struct {
	Name string
	Body string
	Type byte   // tar.TypeReg when 0
	Link string // for links
	// Xattrs are extended attributes, written as PAX records
	// SCHILY.xattr.NAME (as BuildKit and Docker write them).
	Xattrs map[string]string
}

// Layer is a layer made of Files, or a Raw blob.
type Layer struct {
	Files       []File
	Compression Compression
	Raw         []byte // the blob as is, instead of Files
	MediaType   string // instead of the one for Compression
}

// Attestation is an in-toto statement attached as BuildKit does.
type Attestation struct {
	PredicateType string
	Statement     string
}

// Image is one platform's image.
type Image struct {
	Platform    ocispec.Platform
	Layers      []Layer
	Config      ocispec.Image
	Annotations map[string]string
	Attestation *Attestation
}

// layout is an image layout being written.
// Layout is an OCI image layout being written in Dir.
type Layout struct {
	t   testing.TB
	Dir string
}

// NewLayout starts an empty layout in a temporary directory.
func NewLayout(t testing.TB) *Layout {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return &Layout{t: t, Dir: dir}
}

// Blob writes a blob and returns its descriptor.
func (l *Layout) Blob(mt string, data []byte) ocispec.Descriptor {
	l.t.Helper()
	d := digest.FromBytes(data)
	if err := os.WriteFile(filepath.Join(l.Dir, "blobs", "sha256", d.Encoded()), data, 0o644); err != nil {
		l.t.Fatal(err)
	}
	return ocispec.Descriptor{MediaType: mt, Digest: d, Size: int64(len(data))}
}

// JSON writes v as a JSON blob.
func (l *Layout) JSON(mt string, v any) ocispec.Descriptor {
	l.t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		l.t.Fatal(err)
	}
	return l.Blob(mt, data)
}

// BlobPath is the file of a blob.
func (l *Layout) BlobPath(d ocispec.Descriptor) string {
	return filepath.Join(l.Dir, "blobs", "sha256", d.Digest.Encoded())
}

// Tar makes an uncompressed tar stream.
func Tar(t testing.TB, files []File) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, f := range files {
		typ := f.Type
		if typ == 0 {
			typ = tar.TypeReg
		}
		hdr := &tar.Header{Name: f.Name, Typeflag: typ, Mode: 0o644, Linkname: f.Link, ModTime: time.Unix(1700000000, 0)}
		if typ == tar.TypeReg {
			hdr.Size = int64(len(f.Body))
		}
		if typ == tar.TypeDir {
			hdr.Mode = 0o755
		}
		for k, v := range f.Xattrs {
			if hdr.PAXRecords == nil {
				hdr.PAXRecords = map[string]string{}
				hdr.Format = tar.FormatPAX
			}
			hdr.PAXRecords["SCHILY.xattr."+k] = v
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			if _, err := tw.Write([]byte(f.Body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Compress compresses data with c.
func Compress(t testing.TB, c Compression, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	switch c {
	case Gzip:
		w := gzip.NewWriter(&b)
		w.Write(data)
		w.Close()
	case Zstd:
		w, err := zstd.NewWriter(&b)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
		w.Close()
	default:
		return data
	}
	return b.Bytes()
}

// LayerMediaType is the OCI layer media type for c.
func LayerMediaType(c Compression) string {
	switch c {
	case Gzip:
		return ocispec.MediaTypeImageLayerGzip
	case Zstd:
		return ocispec.MediaTypeImageLayerZstd
	}
	return ocispec.MediaTypeImageLayer
}

// Image writes one image's blobs and returns its manifest descriptor and,
// when it has one, its attestation manifest descriptor.
func (l *Layout) Image(img Image) (ocispec.Descriptor, *ocispec.Descriptor) {
	l.t.Helper()
	cfg := img.Config
	cfg.Platform = img.Platform
	if cfg.OS == "" {
		cfg.OS = "linux"
	}
	cfg.RootFS.Type = "layers"
	man := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest, Annotations: img.Annotations}
	for _, tl := range img.Layers {
		raw := tl.Raw
		if raw == nil {
			ut := Tar(l.t, tl.Files)
			cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, digest.FromBytes(ut))
			raw = Compress(l.t, tl.Compression, ut)
		}
		mt := tl.MediaType
		if mt == "" {
			mt = LayerMediaType(tl.Compression)
		}
		man.Layers = append(man.Layers, l.Blob(mt, raw))
	}
	man.Config = l.JSON(ocispec.MediaTypeImageConfig, cfg)
	md := l.JSON(ocispec.MediaTypeImageManifest, man)
	p := img.Platform
	md.Platform = &p
	if img.Attestation == nil {
		return md, nil
	}
	st := l.Blob("application/vnd.in-toto+json", []byte(img.Attestation.Statement))
	st.Annotations = map[string]string{"in-toto.io/predicate-type": img.Attestation.PredicateType}
	am := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    l.JSON(ocispec.MediaTypeImageConfig, map[string]any{}),
		Layers:    []ocispec.Descriptor{st},
	}
	ad := l.JSON(ocispec.MediaTypeImageManifest, am)
	ad.Platform = &ocispec.Platform{OS: "unknown", Architecture: "unknown"}
	ad.Annotations = map[string]string{
		"vnd.docker.reference.type":   "attestation-manifest",
		"vnd.docker.reference.digest": md.Digest.String(),
	}
	return md, &ad
}

// Write writes the images as BuildKit's OCI exporter does: index.json
// points at one image index listing the images and their attestations.
func (l *Layout) Write(imgs ...Image) *Layout {
	l.t.Helper()
	idx := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex}
	var atts []ocispec.Descriptor
	for _, img := range imgs {
		md, ad := l.Image(img)
		idx.Manifests = append(idx.Manifests, md)
		if ad != nil {
			atts = append(atts, *ad)
		}
	}
	idx.Manifests = append(idx.Manifests, atts...)
	id := l.JSON(ocispec.MediaTypeImageIndex, idx)
	id.Annotations = map[string]string{ocispec.AnnotationRefName: "latest"}
	top := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{id}}
	data, err := json.Marshal(top)
	if err != nil {
		l.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(l.Dir, "index.json"), data, 0o644); err != nil {
		l.t.Fatal(err)
	}
	return l
}

// Archive writes the layout as a tar file (an OCI archive), compressed
// with c.
func (l *Layout) Archive(c Compression) string {
	l.t.Helper()
	var files []File
	err := filepath.Walk(l.Dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(l.Dir, p)
		files = append(files, File{Name: filepath.ToSlash(rel), Body: string(data)})
		return nil
	})
	if err != nil {
		l.t.Fatal(err)
	}
	out := filepath.Join(l.t.TempDir(), "image.tar")
	if err := os.WriteFile(out, Compress(l.t, c, Tar(l.t, files)), 0o644); err != nil {
		l.t.Fatal(err)
	}
	return out
}

// DockerSave writes one image as a legacy `docker save` archive:
// manifest.json, <hex>.json config and <id>/layer.tar layers.
func DockerSave(t testing.TB, img Image) string {
	t.Helper()
	cfg := img.Config
	cfg.Platform = img.Platform
	cfg.RootFS.Type = "layers"
	var files []File
	var layerPaths []string
	for i, tl := range img.Layers {
		ut := Tar(t, tl.Files)
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, digest.FromBytes(ut))
		p := strings.Repeat(string(rune('a'+i)), 64) + "/layer.tar"
		files = append(files, File{Name: p, Body: string(ut)})
		layerPaths = append(layerPaths, p)
	}
	cj, _ := json.Marshal(cfg)
	cname := digest.FromBytes(cj).Encoded() + ".json"
	files = append(files, File{Name: cname, Body: string(cj)})
	mj, _ := json.Marshal([]map[string]any{{"Config": cname, "RepoTags": []string{"test:latest"}, "Layers": layerPaths}})
	files = append(files, File{Name: "manifest.json", Body: string(mj)})
	out := filepath.Join(t.TempDir(), "save.tar")
	if err := os.WriteFile(out, Tar(t, files), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// Platforms for tests.
var (
	Amd64 = ocispec.Platform{OS: "linux", Architecture: "amd64"}
	Arm64 = ocispec.Platform{OS: "linux", Architecture: "arm64"}
)
