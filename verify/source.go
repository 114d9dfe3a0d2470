package verify

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/containerd/containerd/v2/core/remotes"
	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/containerd/containerd/v2/pkg/archive/compression"
	"github.com/distribution/reference"
	dockerconfig "github.com/docker/cli/cli/config"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// A source holds the blobs of an image: an OCI layout directory, an OCI or
// `docker save` archive, or a registry.
type source interface {
	// root returns where the walk starts.
	root(ctx context.Context) (*root, error)
	// open returns a blob's content, checked against the descriptor's
	// size and digest as it is read: the reader fails at its end when
	// either differs.
	open(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error)
	close() error
}

// root is the start of a walk: the bytes of an OCI layout's index.json,
// a registry's top descriptor, or the images of a legacy `docker save`
// manifest.json.
type root struct {
	name   string // "index.json", or "manifest.json" for legacy archives
	index  []byte
	desc   *ocispec.Descriptor
	legacy []legacyImage
}

// legacyImage is one entry of a legacy `docker save` manifest.json.
type legacyImage struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// pathAnnotation marks descriptors made up for the files of a legacy
// archive: they are opened by path and not checked against a digest.
const pathAnnotation = "dev.hushbuild.verify.path"

// openSource picks the source for image: "docker-daemon:NAME" (or any
// name with Options.Source SourceDocker) the Docker daemon's image, "-" an
// archive on standard input, an existing directory an OCI layout, an
// existing file an archive, a missing path that looks like a path (see
// looksLikePath) an error, and anything else a reference: the Docker
// daemon's image of that name when the daemon runs and has one (unless
// Options.Source is SourceRegistry), else the registry's.
func openSource(ctx context.Context, image string, opts Options) (source, error) {
	switch opts.Source {
	case SourceAuto, SourceRegistry:
	case SourceDocker:
		if !strings.HasPrefix(image, DaemonPrefix) {
			image = DaemonPrefix + image
		}
	default:
		return nil, fmt.Errorf("source %q: want %q, %q or %q", opts.Source, "auto", SourceDocker, SourceRegistry)
	}
	if name, ok := strings.CutPrefix(image, DaemonPrefix); ok {
		if name == "" || name == "-" {
			return nil, fmt.Errorf("%s: no image name", image)
		}
		d, err := newDaemon(dockerHost())
		if err != nil {
			return nil, err
		}
		src, note, err := openDaemon(ctx, d, name)
		if err != nil {
			return nil, err
		}
		return notedSource{src, note}, nil
	}
	if opts.Source == SourceRegistry {
		return openRegistry(ctx, image, opts)
	}
	if image == "-" {
		in := opts.Stdin
		if in == nil {
			in = os.Stdin
		}
		return openArchiveStream("stdin", in)
	}
	fi, err := os.Stat(image)
	switch {
	case err == nil && fi.IsDir():
		return openLayout(image)
	case err == nil:
		return openArchive(image)
	case !errors.Is(err, os.ErrNotExist):
		// A symlink loop, a permission problem...
		return nil, fmt.Errorf("%s: %w", image, err)
	}
	if _, lerr := os.Lstat(image); lerr == nil {
		return nil, fmt.Errorf("%s: dangling symlink: %w", image, err)
	}
	if isPath, hub := looksLikePath(image); isPath {
		if hub {
			return nil, fmt.Errorf("%s: no such file or directory (name a registry image with its registry, e.g. docker.io/%s)", image, image)
		}
		return nil, fmt.Errorf("%s: no such file or directory", image)
	}
	if d, err := newDaemon(dockerHost()); err == nil && d.available() {
		src, note, err := openDaemon(ctx, d, image)
		switch {
		case err == nil:
			return notedSource{src, note}, nil
		case !errors.Is(err, errNoSuchImage):
			// Fail closed: the image meant may be the daemon's.
			return nil, fmt.Errorf("%w (--source registry reads the registry's image)", err)
		}
	}
	return openRegistry(ctx, image, opts)
}

// notedSource is a source whose report says where it was read from.
type notedSource struct {
	source
	text string
}

func (n notedSource) note() string { return n.text }

// archiveExts are the endings of archive file names.
var archiveExts = []string{".tar", ".tar.gz", ".tgz", ".tar.zst", ".tar.zstd", ".oci"}

// looksLikePath tells, for a name that does not exist, a local path from a
// registry reference: a path starts with "/" or ".", holds a backslash,
// ends in an archive extension (.tar, .tar.gz, .tgz, .tar.zst, .oci), or
// holds a "/" with no registry host before it (a host has a dot or a
// colon, or is localhost). So "out/image" is a missing directory, not the
// Docker Hub image docker.io/out/image, whose scan would prove nothing
// about the image meant; "127.0.0.1:5000/app", "ghcr.io/org/app" and
// "alpine" are references. hub is set when only the last rule applies:
// the name may have meant a Docker Hub image.
func looksLikePath(image string) (isPath, hub bool) {
	lower := strings.ToLower(image)
	for _, ext := range archiveExts {
		if strings.HasSuffix(lower, ext) {
			return true, false
		}
	}
	if strings.HasPrefix(image, "/") || strings.HasPrefix(image, ".") || strings.ContainsRune(image, '\\') || (filepath.Separator != '/' && strings.ContainsRune(image, filepath.Separator)) {
		return true, false
	}
	first, _, ok := strings.Cut(image, "/")
	if ok && !strings.ContainsAny(first, ".:") && first != "localhost" {
		return true, true
	}
	return false, false
}

// checkedReader checks a blob's size and digest as it is read.
type checkedReader struct {
	r        io.Reader
	c        io.Closer
	desc     ocispec.Descriptor
	verifier digest.Verifier // nil: no digest to check
	n        int64
}

func newChecked(rc io.ReadCloser, desc ocispec.Descriptor) (io.ReadCloser, error) {
	cr := &checkedReader{r: rc, c: rc, desc: desc}
	if _, ok := desc.Annotations[pathAnnotation]; !ok {
		if err := desc.Digest.Validate(); err != nil {
			rc.Close()
			return nil, fmt.Errorf("blob %q: %w", desc.Digest, err)
		}
		cr.verifier = desc.Digest.Verifier()
	}
	return cr, nil
}

func (c *checkedReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.verifier != nil {
		c.verifier.Write(p[:n])
	}
	if c.desc.Size > 0 && c.n > c.desc.Size {
		return n, fmt.Errorf("blob %s: larger than its descriptor's size %d", c.desc.Digest, c.desc.Size)
	}
	if err == io.EOF {
		if c.verifier != nil && c.n != c.desc.Size {
			return n, fmt.Errorf("blob %s: %d bytes, its descriptor says %d (truncated or corrupt)", c.desc.Digest, c.n, c.desc.Size)
		}
		if c.verifier != nil && !c.verifier.Verified() {
			return n, fmt.Errorf("blob %s: content does not match its digest (corrupt)", c.desc.Digest)
		}
	}
	return n, err
}

func (c *checkedReader) Close() error { return c.c.Close() }

// Layout directories.

type layoutSource struct{ dir string }

func openLayout(dir string) (source, error) {
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err != nil {
		return nil, fmt.Errorf("%s: not an OCI image layout: %w", dir, err)
	}
	return &layoutSource{dir: dir}, nil
}

func (l *layoutSource) root(context.Context) (*root, error) {
	data, err := readAllLimit(openFile(filepath.Join(l.dir, "index.json")), maxManifestSize)
	if err != nil {
		return nil, fmt.Errorf("%s: index.json: %w", l.dir, err)
	}
	return &root{name: "index.json", index: data}, nil
}

func openFile(name string) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return os.Open(name) }
}

func (l *layoutSource) open(_ context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	if err := desc.Digest.Validate(); err != nil {
		return nil, fmt.Errorf("blob %q: %w", desc.Digest, err)
	}
	p := filepath.Join(l.dir, "blobs", desc.Digest.Algorithm().String(), desc.Digest.Encoded())
	f, err := os.Open(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("blob %s is missing from the layout", desc.Digest)
		}
		return nil, fmt.Errorf("blob %s: %w", desc.Digest, err)
	}
	if fi, err := f.Stat(); err == nil && !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("blob %s: not a regular file", desc.Digest)
	}
	return newChecked(f, desc)
}

func (l *layoutSource) close() error { return nil }

// Archives: a tar file is indexed once (its headers only: the reader seeks
// over the contents) and blobs are read in place. A compressed archive is
// first decompressed to a temporary file.

type archiveSource struct {
	name    string
	f       *os.File
	tmp     string // temporary decompressed copy to remove
	entries map[string]archiveEntry
}

type archiveEntry struct {
	off, size int64
	link      string // symlink or hard link target (archive path)
}

func openArchive(name string) (source, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	a := &archiveSource{name: name, f: f}
	if err := a.decompressIfNeeded(); err != nil {
		a.close()
		return nil, err
	}
	if err := a.index(); err != nil {
		a.close()
		return nil, err
	}
	return a, nil
}

// openArchiveStream reads an archive, possibly compressed, from a stream
// (standard input): it is spooled to a temporary file first, since an
// archive's files are read in whatever order its index says.
func openArchiveStream(name string, r io.Reader) (source, error) {
	a := &archiveSource{name: name}
	if err := a.spool(r); err != nil {
		a.close()
		return nil, err
	}
	if err := a.index(); err != nil {
		a.close()
		return nil, err
	}
	return a, nil
}

func (a *archiveSource) decompressIfNeeded() error {
	var head [10]byte
	n, _ := io.ReadFull(a.f, head[:])
	if _, err := a.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if compression.DetectCompression(head[:n]) == compression.Uncompressed {
		return nil
	}
	return a.spool(a.f)
}

// spool decompresses r (when it is compressed) into a temporary file,
// which becomes the archive.
func (a *archiveSource) spool(r io.Reader) error {
	dr, err := compression.DecompressStream(r)
	if err != nil {
		return fmt.Errorf("%s: %w", a.name, err)
	}
	defer dr.Close()
	tmp, err := os.CreateTemp("", "hushbuild-verify-*.tar")
	if err != nil {
		return err
	}
	a.tmp = tmp.Name()
	if _, err := io.Copy(tmp, dr); err != nil {
		tmp.Close()
		what := "decompressing"
		if dr.GetCompression() == compression.Uncompressed {
			what = "reading"
		}
		return fmt.Errorf("%s: %s: %w", a.name, what, err)
	}
	if a.f != nil {
		a.f.Close()
	}
	a.f = tmp
	_, err = tmp.Seek(0, io.SeekStart)
	return err
}

func cleanArchivePath(p string) string {
	return strings.TrimPrefix(path.Clean("/"+p), "/")
}

func (a *archiveSource) index() error {
	a.entries = map[string]archiveEntry{}
	tr := tar.NewReader(a.f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: not a valid tar archive: %w", a.name, err)
		}
		name := cleanArchivePath(hdr.Name)
		switch hdr.Typeflag {
		case tar.TypeReg, tar.TypeRegA:
			off, err := a.f.Seek(0, io.SeekCurrent)
			if err != nil {
				return err
			}
			a.entries[name] = archiveEntry{off: off, size: hdr.Size}
		case tar.TypeSymlink:
			target := hdr.Linkname
			if !path.IsAbs(target) {
				target = path.Join(path.Dir(name), target)
			}
			a.entries[name] = archiveEntry{link: cleanArchivePath(target)}
		case tar.TypeLink:
			a.entries[name] = archiveEntry{link: cleanArchivePath(hdr.Linkname)}
		}
	}
	if len(a.entries) == 0 {
		return fmt.Errorf("%s: empty archive", a.name)
	}
	return nil
}

// lookup finds a file of the archive, following links.
func (a *archiveSource) lookup(name string) (archiveEntry, error) {
	name = cleanArchivePath(name)
	for hops := 0; hops < 40; hops++ {
		e, ok := a.entries[name]
		if !ok {
			return e, fmt.Errorf("%s: %s: %w", a.name, name, os.ErrNotExist)
		}
		if e.link == "" {
			return e, nil
		}
		name = e.link
	}
	return archiveEntry{}, fmt.Errorf("%s: %s: symlink loop in the archive", a.name, name)
}

func (a *archiveSource) readFile(name string) ([]byte, error) {
	e, err := a.lookup(name)
	if err != nil {
		return nil, err
	}
	if e.size > maxManifestSize {
		return nil, fmt.Errorf("%s: %s: too large (%d bytes)", a.name, name, e.size)
	}
	buf := make([]byte, e.size)
	if _, err := a.f.ReadAt(buf, e.off); err != nil {
		return nil, fmt.Errorf("%s: %s: %w", a.name, name, err)
	}
	return buf, nil
}

func (a *archiveSource) root(context.Context) (*root, error) {
	if _, err := a.lookup("index.json"); err == nil {
		data, err := a.readFile("index.json")
		if err != nil {
			return nil, err
		}
		return &root{name: "index.json", index: data}, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	data, err := a.readFile("manifest.json")
	if err != nil {
		return nil, fmt.Errorf("%s: neither an OCI archive (no index.json) nor a docker save archive (no manifest.json)", a.name)
	}
	var imgs []legacyImage
	if err := json.Unmarshal(data, &imgs); err != nil {
		return nil, fmt.Errorf("%s: manifest.json: %w", a.name, err)
	}
	if len(imgs) == 0 {
		return nil, fmt.Errorf("%s: manifest.json lists no image", a.name)
	}
	return &root{name: "manifest.json", legacy: imgs}, nil
}

func (a *archiveSource) open(_ context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	name, byPath := desc.Annotations[pathAnnotation]
	if !byPath {
		if err := desc.Digest.Validate(); err != nil {
			return nil, fmt.Errorf("blob %q: %w", desc.Digest, err)
		}
		name = "blobs/" + desc.Digest.Algorithm().String() + "/" + desc.Digest.Encoded()
	}
	e, err := a.lookup(name)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			if byPath {
				return nil, fmt.Errorf("%s: %s is missing from the archive", a.name, name)
			}
			return nil, fmt.Errorf("blob %s is missing from the archive", desc.Digest)
		}
		return nil, err
	}
	rc := io.NopCloser(io.NewSectionReader(a.f, e.off, e.size))
	if byPath {
		return rc, nil
	}
	return newChecked(rc, desc)
}

// size returns the size of a file of the archive (for legacy layers).
func (a *archiveSource) size(name string) int64 {
	e, err := a.lookup(name)
	if err != nil {
		return 0
	}
	return e.size
}

func (a *archiveSource) close() error {
	var err error
	if a.f != nil {
		err = a.f.Close()
	}
	if a.tmp != "" {
		os.Remove(a.tmp)
	}
	return err
}

// Registries.

type registrySource struct {
	ref      string
	resolver remotes.Resolver
	fetcher  remotes.Fetcher
	desc     ocispec.Descriptor
}

func openRegistry(ctx context.Context, image string, opts Options) (source, error) {
	named, err := reference.ParseDockerRef(image)
	if err != nil {
		return nil, fmt.Errorf("%s: neither a file, a directory nor an image reference: %w", image, err)
	}
	ref := named.String()
	plain := docker.MatchLocalhost
	if opts.PlainHTTP {
		plain = docker.MatchAllHosts
	}
	client := &http.Client{Transport: docker.DefaultHTTPTransport(nil)}
	authorizer := docker.NewDockerAuthorizer(docker.WithAuthClient(client), docker.WithAuthCreds(dockerCreds))
	resolver := docker.NewResolver(docker.ResolverOptions{
		Hosts: docker.ConfigureDefaultRegistries(
			docker.WithPlainHTTP(plain),
			docker.WithClient(client),
			docker.WithAuthorizer(authorizer),
		),
	})
	name, desc, err := resolver.Resolve(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", image, err)
	}
	fetcher, err := resolver.Fetcher(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", image, err)
	}
	return &registrySource{ref: name, resolver: resolver, fetcher: fetcher, desc: desc}, nil
}

// dockerCreds reads the Docker CLI's credentials for a registry host.
func dockerCreds(host string) (string, string, error) {
	cfg := dockerconfig.LoadDefaultConfigFile(io.Discard)
	if host == "registry-1.docker.io" {
		host = "https://index.docker.io/v1/"
	}
	ac, err := cfg.GetAuthConfig(host)
	if err != nil {
		return "", "", nil
	}
	if ac.IdentityToken != "" {
		return "", ac.IdentityToken, nil
	}
	return ac.Username, ac.Password, nil
}

func (r *registrySource) root(context.Context) (*root, error) {
	d := r.desc
	return &root{name: r.ref, desc: &d}, nil
}

func (r *registrySource) open(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	rc, err := r.fetcher.Fetch(ctx, desc)
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", desc.Digest, err)
	}
	return newChecked(rc, desc)
}

func (r *registrySource) close() error { return nil }

// readAllLimit reads a whole small document.
func readAllLimit(open func() (io.ReadCloser, error), limit int64) ([]byte, error) {
	rc, err := open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return data, nil
}
