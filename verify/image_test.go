package verify

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

	"github.com/containerd/containerd/v2/core/images"
	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// This file builds synthetic images for the tests: OCI layouts, OCI
// archives and docker-save archives, with gzip, zstd or uncompressed
// layers.

// canary returns a random secret value, new for each call.
func canary(t testing.TB) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "hfcanary" + hex.EncodeToString(b)
}

type comp int

const (
	gz comp = iota
	zst
	none
)

type tfile struct {
	name string
	body string
	typ  byte   // tar.TypeReg when 0
	link string // for links
}

type tlayer struct {
	files []tfile
	comp  comp
	raw   []byte // the blob as is, instead of files
	mt    string // media type, instead of the one for comp
}

type tattest struct {
	predicateType string
	statement     string
}

type timage struct {
	platform    ocispec.Platform
	layers      []tlayer
	config      ocispec.Image
	annotations map[string]string
	attestation *tattest
}

// layout is an image layout being written.
type layout struct {
	t   testing.TB
	dir string
}

func newLayout(t testing.TB) *layout {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return &layout{t: t, dir: dir}
}

func (l *layout) blob(mt string, data []byte) ocispec.Descriptor {
	l.t.Helper()
	d := digest.FromBytes(data)
	if err := os.WriteFile(filepath.Join(l.dir, "blobs", "sha256", d.Encoded()), data, 0o644); err != nil {
		l.t.Fatal(err)
	}
	return ocispec.Descriptor{MediaType: mt, Digest: d, Size: int64(len(data))}
}

func (l *layout) json(mt string, v any) ocispec.Descriptor {
	l.t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		l.t.Fatal(err)
	}
	return l.blob(mt, data)
}

func (l *layout) blobPath(d ocispec.Descriptor) string {
	return filepath.Join(l.dir, "blobs", "sha256", d.Digest.Encoded())
}

// tarBytes makes an uncompressed tar stream.
func tarBytes(t testing.TB, files []tfile) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, f := range files {
		typ := f.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		hdr := &tar.Header{Name: f.name, Typeflag: typ, Mode: 0o644, Linkname: f.link, ModTime: time.Unix(1700000000, 0)}
		if typ == tar.TypeReg {
			hdr.Size = int64(len(f.body))
		}
		if typ == tar.TypeDir {
			hdr.Mode = 0o755
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			if _, err := tw.Write([]byte(f.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func compress(t testing.TB, c comp, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	switch c {
	case gz:
		w := gzip.NewWriter(&b)
		w.Write(data)
		w.Close()
	case zst:
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

func layerMediaType(c comp) string {
	switch c {
	case gz:
		return ocispec.MediaTypeImageLayerGzip
	case zst:
		return ocispec.MediaTypeImageLayerZstd
	}
	return ocispec.MediaTypeImageLayer
}

// image writes one image's blobs and returns its manifest descriptor and,
// when it has one, its attestation manifest descriptor.
func (l *layout) image(img timage) (ocispec.Descriptor, *ocispec.Descriptor) {
	l.t.Helper()
	cfg := img.config
	cfg.Platform = img.platform
	if cfg.OS == "" {
		cfg.OS = "linux"
	}
	cfg.RootFS.Type = "layers"
	man := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest, Annotations: img.annotations}
	for _, tl := range img.layers {
		raw := tl.raw
		if raw == nil {
			ut := tarBytes(l.t, tl.files)
			cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, digest.FromBytes(ut))
			raw = compress(l.t, tl.comp, ut)
		}
		mt := tl.mt
		if mt == "" {
			mt = layerMediaType(tl.comp)
		}
		man.Layers = append(man.Layers, l.blob(mt, raw))
	}
	man.Config = l.json(ocispec.MediaTypeImageConfig, cfg)
	md := l.json(ocispec.MediaTypeImageManifest, man)
	p := img.platform
	md.Platform = &p
	if img.attestation == nil {
		return md, nil
	}
	st := l.blob("application/vnd.in-toto+json", []byte(img.attestation.statement))
	st.Annotations = map[string]string{"in-toto.io/predicate-type": img.attestation.predicateType}
	am := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    l.json(ocispec.MediaTypeImageConfig, map[string]any{}),
		Layers:    []ocispec.Descriptor{st},
	}
	ad := l.json(ocispec.MediaTypeImageManifest, am)
	ad.Platform = &ocispec.Platform{OS: "unknown", Architecture: "unknown"}
	ad.Annotations = map[string]string{
		"vnd.docker.reference.type":   "attestation-manifest",
		"vnd.docker.reference.digest": md.Digest.String(),
	}
	return md, &ad
}

// write writes the images as BuildKit's OCI exporter does: index.json
// points at one image index listing the images and their attestations.
func (l *layout) write(imgs ...timage) *layout {
	l.t.Helper()
	idx := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex}
	var atts []ocispec.Descriptor
	for _, img := range imgs {
		md, ad := l.image(img)
		idx.Manifests = append(idx.Manifests, md)
		if ad != nil {
			atts = append(atts, *ad)
		}
	}
	idx.Manifests = append(idx.Manifests, atts...)
	id := l.json(ocispec.MediaTypeImageIndex, idx)
	id.Annotations = map[string]string{ocispec.AnnotationRefName: "latest"}
	top := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{id}}
	data, err := json.Marshal(top)
	if err != nil {
		l.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(l.dir, "index.json"), data, 0o644); err != nil {
		l.t.Fatal(err)
	}
	return l
}

// archive writes the layout as a tar file (an OCI archive), compressed
// with c.
func (l *layout) archive(c comp) string {
	l.t.Helper()
	var files []tfile
	err := filepath.Walk(l.dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(l.dir, p)
		files = append(files, tfile{name: filepath.ToSlash(rel), body: string(data)})
		return nil
	})
	if err != nil {
		l.t.Fatal(err)
	}
	out := filepath.Join(l.t.TempDir(), "image.tar")
	if err := os.WriteFile(out, compress(l.t, c, tarBytes(l.t, files)), 0o644); err != nil {
		l.t.Fatal(err)
	}
	return out
}

// dockerSave writes one image as a legacy `docker save` archive:
// manifest.json, <hex>.json config and <id>/layer.tar layers.
func dockerSave(t testing.TB, img timage) string {
	t.Helper()
	cfg := img.config
	cfg.Platform = img.platform
	cfg.RootFS.Type = "layers"
	var files []tfile
	var layerPaths []string
	for i, tl := range img.layers {
		ut := tarBytes(t, tl.files)
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, digest.FromBytes(ut))
		p := strings.Repeat(string(rune('a'+i)), 64) + "/layer.tar"
		files = append(files, tfile{name: p, body: string(ut)})
		layerPaths = append(layerPaths, p)
	}
	cj, _ := json.Marshal(cfg)
	cname := digest.FromBytes(cj).Encoded() + ".json"
	files = append(files, tfile{name: cname, body: string(cj)})
	mj, _ := json.Marshal([]legacyImage{{Config: cname, RepoTags: []string{"test:latest"}, Layers: layerPaths}})
	files = append(files, tfile{name: "manifest.json", body: string(mj)})
	out := filepath.Join(t.TempDir(), "save.tar")
	if err := os.WriteFile(out, tarBytes(t, files), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

var (
	amd64 = ocispec.Platform{OS: "linux", Architecture: "amd64"}
	arm64 = ocispec.Platform{OS: "linux", Architecture: "arm64"}
)

var _ = images.MediaTypeDockerSchema2Layer
