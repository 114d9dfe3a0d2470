package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
)

// ociImage is the image (not the attestations) of a single-platform OCI
// archive written by `--output type=oci`.
type ociImage struct {
	manifestDigest string
	config         []byte // the image config, as stored
	configDigest   string
	diffIDs        []string
	// files is the merged filesystem of every layer, whiteouts applied.
	files map[string]fileInfo
}

// fileInfo is what the filesystem comparison looks at: no timestamps.
type fileInfo struct {
	typ  byte // tar type flag
	size int64
	mode int64
	uid  int
	gid  int
	link string
}

func (f fileInfo) String() string {
	kind := map[byte]string{tar.TypeReg: "file", tar.TypeDir: "dir", tar.TypeSymlink: "symlink", tar.TypeLink: "hardlink"}[f.typ]
	if kind == "" {
		kind = fmt.Sprintf("type %q", f.typ)
	}
	s := fmt.Sprintf("%s %o %d:%d", kind, f.mode, f.uid, f.gid)
	if f.typ == tar.TypeReg {
		s += fmt.Sprintf(" %d bytes", f.size)
	}
	if f.link != "" {
		s += " -> " + f.link
	}
	return s
}

type ociDescriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations"`
	Platform    *struct {
		OS           string `json:"os"`
		Architecture string `json:"architecture"`
	} `json:"platform"`
}

type ociIndex struct {
	MediaType string          `json:"mediaType"`
	Manifests []ociDescriptor `json:"manifests"`
}

type ociManifest struct {
	MediaType string          `json:"mediaType"`
	Config    ociDescriptor   `json:"config"`
	Layers    []ociDescriptor `json:"layers"`
}

// readOCIImage reads the image of an OCI archive (the test images are a few
// megabytes: the archive is read into memory).
func readOCIImage(archive string) (*ociImage, error) {
	blobs, err := readArchive(archive)
	if err != nil {
		return nil, err
	}
	index, ok := blobs["index.json"]
	if !ok {
		return nil, errors.New("no index.json")
	}
	var images []ociDescriptor
	var walk func(data []byte, depth int) error
	walk = func(data []byte, depth int) error {
		if depth > 4 {
			return errors.New("indexes nested too deep")
		}
		var idx ociIndex
		if err := json.Unmarshal(data, &idx); err != nil {
			return fmt.Errorf("index: %w", err)
		}
		for _, d := range idx.Manifests {
			switch {
			case d.Annotations["vnd.docker.reference.type"] == "attestation-manifest":
			case strings.Contains(d.MediaType, "index") || strings.Contains(d.MediaType, "manifest.list"):
				sub, err := blob(blobs, d.Digest)
				if err != nil {
					return err
				}
				if err := walk(sub, depth+1); err != nil {
					return err
				}
			default:
				images = append(images, d)
			}
		}
		return nil
	}
	if err := walk(index, 0); err != nil {
		return nil, err
	}
	if len(images) != 1 {
		return nil, fmt.Errorf("want one image manifest, found %d", len(images))
	}
	img := &ociImage{manifestDigest: images[0].Digest, files: map[string]fileInfo{}}
	data, err := blob(blobs, images[0].Digest)
	if err != nil {
		return nil, err
	}
	var m ociManifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if img.config, err = blob(blobs, m.Config.Digest); err != nil {
		return nil, err
	}
	img.configDigest = m.Config.Digest
	var cfg struct {
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	if err := json.Unmarshal(img.config, &cfg); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	img.diffIDs = cfg.RootFS.DiffIDs
	for i, l := range m.Layers {
		data, err := blob(blobs, l.Digest)
		if err != nil {
			return nil, err
		}
		if err := applyLayer(img.files, data, l.MediaType); err != nil {
			return nil, fmt.Errorf("layer %d (%s): %w", i, l.Digest, err)
		}
	}
	return img, nil
}

func readArchive(name string) (map[string][]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	blobs := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return blobs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(tr, 1<<30))
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", name, hdr.Name, err)
		}
		blobs[strings.TrimPrefix(hdr.Name, "./")] = data
	}
}

func blob(blobs map[string][]byte, digest string) ([]byte, error) {
	alg, hex, ok := strings.Cut(digest, ":")
	if !ok {
		return nil, fmt.Errorf("bad digest %q", digest)
	}
	data, ok := blobs["blobs/"+alg+"/"+hex]
	if !ok {
		return nil, fmt.Errorf("blob %s is not in the archive", digest)
	}
	return data, nil
}

// applyLayer applies one layer to files: whiteouts delete what lower
// layers added, an opaque marker empties its directory of them.
func applyLayer(files map[string]fileInfo, data []byte, mediaType string) error {
	var r io.Reader = bytes.NewReader(data)
	switch {
	case strings.HasSuffix(mediaType, "gzip"):
		zr, err := gzip.NewReader(r)
		if err != nil {
			return err
		}
		r = zr
	case strings.HasSuffix(mediaType, ".tar"):
	default:
		return fmt.Errorf("layer media type %s not supported by the test", mediaType)
	}
	added := map[string]bool{}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		p := cleanPath(hdr.Name)
		dir, base := path.Split(p)
		dir = strings.TrimSuffix(dir, "/")
		switch {
		case base == ".wh..wh..opq":
			for q := range files {
				if under(q, dir) && !added[q] {
					delete(files, q)
				}
			}
		case strings.HasPrefix(base, ".wh."):
			gone := path.Join(dir, strings.TrimPrefix(base, ".wh."))
			for q := range files {
				if q == gone || under(q, gone) {
					delete(files, q)
				}
			}
		default:
			if old, ok := files[p]; ok && old.typ == tar.TypeDir && hdr.Typeflag != tar.TypeDir {
				for q := range files {
					if under(q, p) {
						delete(files, q)
					}
				}
			}
			files[p] = fileInfo{typ: hdr.Typeflag, size: hdr.Size, mode: hdr.Mode & 0o7777, uid: hdr.Uid, gid: hdr.Gid, link: hdr.Linkname}
			added[p] = true
		}
	}
}

func cleanPath(p string) string {
	p = path.Clean("/" + p)
	return strings.TrimPrefix(p, "/")
}

// under reports whether p is strictly inside dir ("" is the root).
func under(p, dir string) bool {
	if dir == "" {
		return p != ""
	}
	return strings.HasPrefix(p, dir+"/")
}

// fsDiff is one difference between two merged filesystems.
type fsDiff struct {
	path           string
	legacy, hushed *fileInfo
}

func (d fsDiff) String() string {
	switch {
	case d.hushed == nil:
		return fmt.Sprintf("/%s: only in the legacy image (%s)", d.path, d.legacy)
	case d.legacy == nil:
		return fmt.Sprintf("/%s: only in the hushbuild image (%s)", d.path, d.hushed)
	}
	return fmt.Sprintf("/%s: legacy %s, hushbuild %s", d.path, d.legacy, d.hushed)
}

// diffFiles lists the paths whose type, size, mode, owner or link target
// differ, sorted.
func diffFiles(legacy, hushed map[string]fileInfo) []fsDiff {
	var out []fsDiff
	for p, a := range legacy {
		if b, ok := hushed[p]; !ok {
			out = append(out, fsDiff{path: p, legacy: &a})
		} else if a != b {
			out = append(out, fsDiff{path: p, legacy: &a, hushed: &b})
		}
	}
	for p, b := range hushed {
		if _, ok := legacy[p]; !ok {
			out = append(out, fsDiff{path: p, hushed: &b})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out
}
