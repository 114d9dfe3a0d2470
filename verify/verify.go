// Package verify proves that a built image carries no secret: it reads
// every place an image keeps data — the index and every manifest of every
// platform, image configs (env, labels, entrypoint, cmd, history),
// every layer's file names, link targets, headers and contents (files that
// a later layer deletes included: a whiteout hides data, it does not
// remove it), attestation manifests and their in-toto statements
// (provenance, SBOM), and annotations — and searches them for the exact
// secrets the build used (in raw, base64, URL-encoded and JSON-escaped
// forms) and for credential patterns (see package secretscan).
//
// The image is an OCI image layout directory, an OCI or `docker save`
// archive (or "-": such an archive on standard input), or a registry
// reference (plain HTTP for loopback registries).
// Layers are streamed: each blob is read once, decompressed (gzip, zstd or
// none) and walked as a tar stream with a few megabytes of memory whatever
// its size. Compressed files and archives inside layers (a .tar.gz, a
// .jar) are opened too, 4 levels deep, within zip-bomb limits (see
// nested.go).
//
// A report says where each hit is and what matched, never the matched
// value. A scan that read nothing (no image for a requested platform, an
// image without a layer or without a file) is an error, not a clean
// report: only a complete scan that read something proves an image clean.
//
// # Benchmark
//
// BenchmarkScan measures the scan's throughput in MB/s of uncompressed
// layer data on a generated image, next to BenchmarkDecompressWalk, which
// only decompresses and walks the same layers (the limit for this job):
//
//	go test ./verify -run '^$' -bench 'Scan$|DecompressWalk' -benchtime 3x -verify.benchsize 1024
//
// -verify.benchsize sets the image's uncompressed size in MB (default 64),
// -verify.benchcomp its compression (gzip, zstd or none).
package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/log"
	"github.com/containerd/platforms"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sirupsen/logrus"
)

// Options say what to scan and what to look for.
type Options struct {
	// Image is an OCI layout directory, an OCI or docker-save archive
	// (possibly compressed), "-" for such an archive read from Stdin, or
	// a registry reference. A path that does not exist but looks like one
	// (see looksLikePath) is a missing file, never a reference.
	Image string
	// Stdin is read when Image is "-"; nil means os.Stdin. It is spooled
	// to a temporary file (an archive is not read in order).
	Stdin io.Reader
	// Secrets are the known values to search for.
	Secrets []Secret
	// Patterns turns the pattern rules on.
	Patterns bool
	// Rules restricts the pattern rules to these IDs; nil means all.
	Rules []string
	// Platforms restricts the scan to the images of these platforms
	// (os/arch[/variant]); nil means all. An image's platform is its
	// descriptor's in an index, else its config's (docker save archives,
	// single manifests). Attestations follow the image they describe. A
	// platform that matches no image is an error.
	Platforms []string
	// Source says where a name that is not a path is read from:
	// SourceAuto (the Docker daemon when it has the image, else the
	// registry), SourceDocker or SourceRegistry. An Image written
	// "docker-daemon:NAME" is always the daemon's.
	Source string
	// PlainHTTP talks plain HTTP to every registry, not only to loopback
	// ones.
	PlainHTTP bool
	// Concurrency is the number of blobs scanned at once; 0 means
	// GOMAXPROCS.
	Concurrency int
}

const (
	// maxManifestSize bounds the documents read whole to be parsed:
	// indexes, manifests, configs.
	maxManifestSize = 32 << 20
	// maxJSONWalk bounds the JSON blobs (attestations) walked field by
	// field; larger ones are scanned as a byte stream.
	maxJSONWalk = 16 << 20
	// maxDepth bounds index nesting.
	maxDepth = 8
)

// Scan scans an image. It returns the report even on error, with what was
// found before and besides the failure; an error means the image could not
// be fully scanned, or that nothing was read (no image for a requested
// platform, an image without a layer or a file): the report then carries
// the error, and is not Clean whatever its hits.
func Scan(ctx context.Context, opts Options) (report *Report, err error) {
	report = &Report{Image: opts.Image, Hits: []Hit{}}
	defer func() {
		if err != nil {
			report.Error = err.Error()
		}
	}()
	m, err := newMatcher(opts.Secrets, opts.Patterns, opts.Rules)
	if err != nil {
		return report, err
	}
	for _, s := range opts.Secrets {
		if len(strings.TrimSpace(s.Value)) < MinValueLen {
			report.Notes = append(report.Notes, s.shortNote())
		}
	}
	s := &scan{opts: opts, m: m, report: report, tasks: map[taskKey]*task{}, seen: map[string]bool{}}
	for _, p := range opts.Platforms {
		pp, err := platforms.Parse(p)
		if err != nil {
			return report, fmt.Errorf("platform %q: %w", p, err)
		}
		s.want = append(s.want, &wantPlatform{name: p, m: platforms.NewMatcher(pp)})
	}
	ctx = log.WithLogger(ctx, quietLogger)
	src, err := openSource(ctx, opts.Image, opts)
	if err != nil {
		return report, err
	}
	if n, ok := src.(interface{ note() string }); ok {
		report.Notes = append(report.Notes, n.note())
	}
	defer src.close()
	s.src = src
	err = s.run(ctx)
	sortHits(report.Hits)
	return report, err
}

// quietLogger keeps containerd's informational logs (each failed registry
// request) off the output: failures come back as errors.
var quietLogger = func() *log.Entry {
	l := logrus.New()
	l.SetOutput(os.Stderr)
	l.SetLevel(logrus.WarnLevel)
	return logrus.NewEntry(l)
}()

// scan is the state of one Scan.
type scan struct {
	opts   Options
	src    source
	m      *matcher
	report *Report
	// want are the requested platforms (none: all); seen the platforms
	// of the images met, scanned or not, for the error when one of want
	// matches none.
	want []*wantPlatform
	seen map[string]bool

	workers       int
	layersWaiting atomic.Int64

	mu      sync.Mutex
	errs    []error
	entries []*entry
	tasks   map[taskKey]*task
	order   []*task
}

// wantPlatform is one requested platform.
type wantPlatform struct {
	name  string // as given
	m     platforms.Matcher
	found bool
}

// entry is one image (or attestation) manifest.
type entry struct {
	platform      string
	manifest      string // digest
	name          string // for messages: the digest, or a legacy image's tag
	config        *task
	layers        []*task
	attestationOf string // the described manifest's digest
}

type taskKey struct {
	digest digest.Digest
	kind   string
}

// task is one blob to scan, shared by every manifest that lists it.
type task struct {
	desc  ocispec.Descriptor
	kind  string
	hits  []rawHit
	layer *layerResult
	// platform is read from an image config.
	platform string
	// data is a config already read to learn its platform.
	data  []byte
	notes []string
	err   error
}

func (s *scan) fail(err error) {
	s.mu.Lock()
	s.errs = append(s.errs, err)
	s.mu.Unlock()
}

func (s *scan) run(ctx context.Context) error {
	r, err := s.src.root(ctx)
	if err != nil {
		return err
	}
	// Find every blob.
	switch {
	case r.index != nil:
		s.walkIndex(ctx, r.index, r.name, "", 0)
	case r.desc != nil:
		s.walkDesc(ctx, *r.desc, "", "", 0)
	default:
		s.walkLegacy(ctx, r)
	}
	// Scan them.
	s.scanTasks(ctx)
	// Place the findings.
	s.assemble()
	// Fail a scan that read nothing.
	s.checkRead()
	return errors.Join(s.errs...)
}

// keep says whether the image of platform p is scanned (always, without
// requested platforms), and marks the requested platforms it matches.
func (s *scan) keep(p ocispec.Platform) bool {
	if name := platformString(&p); name != "" {
		s.seen[name] = true
	}
	if len(s.want) == 0 {
		return true
	}
	kept := false
	for _, w := range s.want {
		if w.m.Match(p) {
			w.found, kept = true, true
		}
	}
	return kept
}

// configPlatform reads an image config to learn its platform, for images
// whose descriptor does not say it. The platform is nil when the config
// names none (not an image config).
func (s *scan) configPlatform(ctx context.Context, desc ocispec.Descriptor) (*ocispec.Platform, []byte, error) {
	if desc.Digest == "" {
		return nil, nil, nil
	}
	data, err := s.readDoc(ctx, desc)
	if err != nil {
		return nil, nil, fmt.Errorf("config %s: %w", blobName(desc), err)
	}
	var img ocispec.Image
	if json.Unmarshal(data, &img) != nil || img.OS == "" {
		return nil, data, nil
	}
	p := img.Platform
	return &p, data, nil
}

// checkRead fails a scan that read nothing: a requested platform that
// matched no image, no image manifest, an image without a layer or whose
// layers hold no file. A scan that failed already is not checked further
// (what it could not read explains what it did not find).
func (s *scan) checkRead() {
	for _, w := range s.want {
		if !w.found {
			s.errs = append(s.errs, fmt.Errorf("no image for platform %s in %s (%s): nothing was scanned for it", w.name, s.imageName(), s.seenList()))
		}
	}
	seen := map[string]bool{}
	images := 0
	var errs []error
	for _, e := range s.entries {
		if e.attestationOf != "" {
			continue
		}
		images++
		if e.platform != "" && !seen[e.platform] {
			seen[e.platform] = true
			s.report.Stats.Platforms = append(s.report.Stats.Platforms, e.platform)
		}
		layers, files := 0, 0
		for _, t := range e.layers {
			if t.kind == KindLayer {
				layers++
				if t.layer != nil {
					files += t.layer.entries
				}
			}
		}
		switch {
		case layers == 0:
			errs = append(errs, fmt.Errorf("%s: no layer to read: the image has no file system layer", e.label()))
		case files == 0:
			errs = append(errs, fmt.Errorf("%s: no file in its %s: nothing was read", e.label(), plural(layers, "layer")))
		}
	}
	sort.Strings(s.report.Stats.Platforms)
	if len(s.errs) > 0 {
		return
	}
	if images == 0 {
		errs = append(errs, fmt.Errorf("%s: no image manifest found: nothing was scanned", s.imageName()))
	}
	s.errs = append(s.errs, errs...)
}

func (s *scan) imageName() string {
	if s.opts.Image == "-" {
		return "stdin"
	}
	return s.opts.Image
}

// seenList says which platforms the image has.
func (s *scan) seenList() string {
	if len(s.seen) == 0 {
		return "no image in it names its platform"
	}
	var ps []string
	for p := range s.seen {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return "it has " + strings.Join(ps, ", ")
}

// label names an image in messages: "linux/amd64 image sha256:0123456789ab".
func (e *entry) label() string {
	l := "image " + short(e.name)
	if e.platform != "" {
		l = e.platform + " " + l
	}
	return l
}

func platformString(p *ocispec.Platform) string {
	if p == nil || p.OS == "" || p.OS == "unknown" {
		return ""
	}
	return platforms.Format(*p)
}

// fetchDoc reads a small document (index, manifest, config) whole and
// counts it as scanned.
func (s *scan) fetchDoc(ctx context.Context, desc ocispec.Descriptor) ([]byte, error) {
	data, err := s.readDoc(ctx, desc)
	if err != nil {
		return nil, err
	}
	s.countDoc(data)
	return data, nil
}

// readDoc reads a small document whole, without counting it: the walk
// reads manifests and configs before it knows whether their image is
// scanned.
func (s *scan) readDoc(ctx context.Context, desc ocispec.Descriptor) ([]byte, error) {
	if desc.Size > maxManifestSize {
		return nil, fmt.Errorf("blob %s: %d bytes is too large for a %s", desc.Digest, desc.Size, desc.MediaType)
	}
	return readAllLimit(func() (io.ReadCloser, error) { return s.src.open(ctx, desc) }, maxManifestSize)
}

func (s *scan) countDoc(data []byte) {
	s.mu.Lock()
	s.report.Stats.Blobs++
	s.report.Stats.Bytes += int64(len(data))
	s.mu.Unlock()
}

// scanDoc scans an index or manifest document and places its hits.
func (s *scan) scanDoc(data []byte, where Hit) {
	c := newCollector()
	s.m.scanJSON(data, c, rawHit{history: -1})
	for _, h := range c.list() {
		s.report.Hits = append(s.report.Hits, place(where, h))
	}
}

// place makes a Hit from a raw one at a location.
func place(where Hit, h rawHit) Hit {
	out := where
	out.Layer = cloneInt(where.Layer)
	out.Path, out.In, out.Field = h.path, h.in, h.field
	if h.history >= 0 {
		hi := h.history
		out.History = &hi
	}
	out.Offset, out.Count = h.offset, h.count
	out.Rule = h.id.rule
	out.Encoding = h.id.encoding
	out.secret = h.id.secret
	return out
}

func cloneInt(p *int) *int {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// walkIndex walks an index; it returns whether it kept anything for the
// requested platforms.
func (s *scan) walkIndex(ctx context.Context, data []byte, name, platform string, depth int) bool {
	s.scanDoc(data, Hit{Kind: KindIndex, Blob: name, Platform: platform, Offset: -1})
	var idx ocispec.Index
	if err := json.Unmarshal(data, &idx); err != nil {
		s.fail(fmt.Errorf("index %s: bad JSON: %w", name, err))
		return true
	}
	if depth > maxDepth {
		s.fail(fmt.Errorf("index %s: nested more than %d deep", name, maxDepth))
		return true
	}
	// Images first, so that attestations can follow the platform filter
	// and name the platform of the image they describe.
	included := map[digest.Digest]bool{}
	var attestations []ocispec.Descriptor
	for _, d := range idx.Manifests {
		if d.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
			attestations = append(attestations, d)
			continue
		}
		p := platform
		if d.Platform != nil {
			if !s.keep(*d.Platform) {
				continue
			}
			if dp := platformString(d.Platform); dp != "" {
				p = dp
			}
		}
		if s.walkDesc(ctx, d, p, "", depth+1) {
			included[d.Digest] = true
		}
	}
	for _, d := range attestations {
		subject := digest.Digest(d.Annotations["vnd.docker.reference.digest"])
		if len(s.want) > 0 && !included[subject] {
			continue
		}
		s.walkDesc(ctx, d, "", subject.String(), depth+1)
	}
	return len(included) > 0 || len(s.want) == 0
}

// walkDesc walks what a descriptor points at; it returns whether it kept
// it for the requested platforms (true when it cannot tell: the failure
// is reported).
func (s *scan) walkDesc(ctx context.Context, d ocispec.Descriptor, platform, attestationOf string, depth int) bool {
	mt := d.MediaType
	if !images.IsIndexType(mt) && !images.IsManifestType(mt) && mt != "" {
		// An artifact or unknown blob listed in an index.
		s.addTask(d, KindBlob)
		return true
	}
	data, err := s.readDoc(ctx, d)
	if err != nil {
		s.fail(fmt.Errorf("%s %s: %w", kindOfMediaType(mt), d.Digest, err))
		return true
	}
	if mt == "" {
		mt = sniffMediaType(data)
	}
	if images.IsIndexType(mt) {
		s.countDoc(data)
		return s.walkIndex(ctx, data, d.Digest.String(), platform, depth)
	}
	return s.walkManifest(ctx, d, data, platform, attestationOf)
}

func kindOfMediaType(mt string) string {
	if images.IsIndexType(mt) {
		return "index"
	}
	return "manifest"
}

// sniffMediaType tells an index from a manifest whose descriptor has no
// media type.
func sniffMediaType(data []byte) string {
	var probe struct {
		MediaType string          `json:"mediaType"`
		Manifests json.RawMessage `json:"manifests"`
	}
	_ = json.Unmarshal(data, &probe)
	if probe.MediaType != "" {
		return probe.MediaType
	}
	if probe.Manifests != nil {
		return ocispec.MediaTypeImageIndex
	}
	return ocispec.MediaTypeImageManifest
}

// walkManifest walks a manifest; it returns whether it kept it for the
// requested platforms.
func (s *scan) walkManifest(ctx context.Context, d ocispec.Descriptor, data []byte, platform, attestationOf string) bool {
	kind := KindLayer
	if attestationOf != "" {
		kind = KindAttestation
	}
	where := Hit{Kind: KindManifest, Blob: d.Digest.String(), Manifest: d.Digest.String(), Platform: platform, Offset: -1}
	var man ocispec.Manifest
	if err := json.Unmarshal(data, &man); err != nil {
		s.countDoc(data)
		s.scanDoc(data, where)
		s.fail(fmt.Errorf("manifest %s: bad JSON: %w", d.Digest, err))
		return true
	}
	var config []byte
	if len(s.want) > 0 && attestationOf == "" && platform == "" {
		// No descriptor said the platform: the config does.
		p, cfg, err := s.configPlatform(ctx, man.Config)
		if err != nil {
			s.fail(fmt.Errorf("manifest %s: %w", d.Digest, err))
			return true
		}
		if p == nil || !s.keep(*p) {
			return false
		}
		platform, config = platformString(p), cfg
		where.Platform = platform
	}
	s.countDoc(data)
	s.scanDoc(data, where)
	e := &entry{platform: platform, manifest: d.Digest.String(), name: d.Digest.String(), attestationOf: attestationOf}
	if man.Config.Digest != "" {
		e.config = s.addConfig(man.Config, config)
	}
	for _, l := range man.Layers {
		k := kind
		if kind == KindLayer && !isTarLayer(l.MediaType) {
			k = KindBlob
		}
		e.layers = append(e.layers, s.addTask(l, k))
	}
	s.entries = append(s.entries, e)
	s.report.Stats.Manifests++
	return true
}

func isTarLayer(mt string) bool {
	return images.IsLayerType(mt) && mt != images.MediaTypeErofsLayer && !strings.HasSuffix(mt, "+encrypted")
}

func (s *scan) addTask(d ocispec.Descriptor, kind string) *task {
	k := taskKey{d.Digest, kind}
	if t, ok := s.tasks[k]; ok {
		return t
	}
	t := &task{desc: d, kind: kind}
	s.tasks[k] = t
	s.order = append(s.order, t)
	return t
}

// addConfig adds a config's task, with its content when the walk has read
// it already.
func (s *scan) addConfig(d ocispec.Descriptor, data []byte) *task {
	t := s.addTask(d, KindConfig)
	if t.data == nil {
		t.data = data
	}
	return t
}

// byPath makes the descriptor of a file of a legacy archive.
func (s *scan) byPath(p, mt string) ocispec.Descriptor {
	d := ocispec.Descriptor{MediaType: mt, Annotations: map[string]string{pathAnnotation: p}}
	if a, ok := s.src.(*archiveSource); ok {
		d.Size = a.size(p)
	}
	// Legacy archives name configs by their digest.
	hex := strings.TrimSuffix(strings.TrimPrefix(p, "blobs/sha256/"), ".json")
	if digest.Algorithm("sha256").Validate(hex) == nil {
		d.Digest = digest.NewDigestFromEncoded(digest.SHA256, hex)
	} else {
		d.Digest = digest.Digest(p)
	}
	return d
}

// walkLegacy makes entries for a legacy docker-save archive; with
// requested platforms, each image's config says its platform.
func (s *scan) walkLegacy(ctx context.Context, r *root) {
	for _, img := range r.legacy {
		cfg := s.byPath(img.Config, images.MediaTypeDockerSchema2Config)
		name := img.Config
		if len(img.RepoTags) > 0 {
			name = img.RepoTags[0]
		}
		e := &entry{manifest: "manifest.json", name: name}
		var data []byte
		if len(s.want) > 0 {
			p, d, err := s.configPlatform(ctx, cfg)
			if err != nil {
				s.fail(fmt.Errorf("manifest.json: image %s: %w", name, err))
				continue
			}
			if p == nil || !s.keep(*p) {
				continue
			}
			e.platform, data = platformString(p), d
		}
		e.config = s.addConfig(cfg, data)
		for _, l := range img.Layers {
			e.layers = append(e.layers, s.addTask(s.byPath(l, images.MediaTypeDockerSchema2Layer), KindLayer))
		}
		s.entries = append(s.entries, e)
		s.report.Stats.Manifests++
	}
}

// scanTasks scans every blob, the largest first.
func (s *scan) scanTasks(ctx context.Context) {
	tasks := append([]*task(nil), s.order...)
	sort.SliceStable(tasks, func(i, j int) bool { return tasks[i].desc.Size > tasks[j].desc.Size })
	n := s.opts.Concurrency
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	s.workers = n
	for _, t := range tasks {
		if t.kind == KindLayer {
			s.layersWaiting.Add(1)
		}
	}
	queue := make(chan *task)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range queue {
				s.scanTask(ctx, t)
			}
		}()
	}
	for _, t := range tasks {
		queue <- t
	}
	close(queue)
	wg.Wait()
	for _, t := range s.order {
		if t.err != nil {
			s.errs = append(s.errs, t.err)
		}
	}
}

func (s *scan) scanTask(ctx context.Context, t *task) {
	c := newCollector()
	defer func() { t.hits = c.list() }()
	name := t.kind + " " + string(t.desc.Digest)
	if p, ok := t.desc.Annotations[pathAnnotation]; ok {
		name = t.kind + " " + p
	}
	if images.IsNonDistributable(t.desc.MediaType) {
		// Foreign layers usually live elsewhere: scan them when present.
		rc, err := s.src.open(ctx, t.desc)
		if err != nil {
			t.notes = append(t.notes, "non-distributable layer not in the image, not scanned")
			return
		}
		rc.Close()
	}
	switch {
	case t.kind == KindConfig:
		data := t.data
		if data != nil {
			s.countDoc(data)
		} else {
			var err error
			if data, err = s.fetchDoc(ctx, t.desc); err != nil {
				t.err = fmt.Errorf("%s: %w", name, err)
				return
			}
		}
		if err := s.m.scanJSON(data, c, rawHit{history: -1}); err != nil {
			t.err = fmt.Errorf("%s: bad JSON: %w", name, err)
			return
		}
		var img ocispec.Image
		if json.Unmarshal(data, &img) == nil && img.OS != "" {
			t.platform = platforms.Format(img.Platform)
		}
	case t.kind == KindLayer:
		rc, err := s.src.open(ctx, t.desc)
		if err != nil {
			t.err = fmt.Errorf("%s: %w", name, err)
			return
		}
		defer rc.Close()
		// Overlap decompression and scanning when no other layer waits
		// to keep the other cores busy.
		overlap := s.layersWaiting.Add(-1) < int64(s.workers)-1
		res, err := s.m.scanLayer(ctx, rc, c, overlap)
		t.layer = res
		t.notes = append(t.notes, res.notes...)
		s.mu.Lock()
		s.report.Stats.Blobs++
		s.report.Stats.Layers++
		s.report.Stats.Files += res.entries
		s.report.Stats.Bytes += res.bytes
		s.mu.Unlock()
		if err != nil {
			t.err = fmt.Errorf("%s: %w", name, err)
		}
	default: // attestations and other blobs
		rc, err := s.src.open(ctx, t.desc)
		if err != nil {
			t.err = fmt.Errorf("%s: %w", name, err)
			return
		}
		defer rc.Close()
		var n int64
		if strings.Contains(t.desc.MediaType, "json") && t.desc.Size <= maxJSONWalk {
			var data []byte
			data, err = io.ReadAll(io.LimitReader(rc, maxJSONWalk+1))
			n = int64(len(data))
			if err == nil {
				s.m.scanJSON(data, c, rawHit{history: -1, offset: 0})
			}
		} else {
			if strings.HasSuffix(t.desc.MediaType, "+encrypted") {
				t.notes = append(t.notes, "encrypted layer: only its bytes are scanned")
			}
			n, err = s.m.scanRaw(rc, "", c, rawHit{history: -1})
		}
		s.mu.Lock()
		s.report.Stats.Blobs++
		s.report.Stats.Bytes += n
		s.mu.Unlock()
		if err != nil {
			t.err = fmt.Errorf("%s: %w", name, err)
		}
	}
}

// assemble places every blob's findings in every image that lists it.
func (s *scan) assemble() {
	platformOf := map[string]string{}
	for _, e := range s.entries {
		if e.platform == "" && e.config != nil {
			e.platform = e.config.platform
		}
		platformOf[e.manifest] = e.platform
	}
	for _, e := range s.entries {
		platform := e.platform
		if e.attestationOf != "" {
			platform = platformOf[e.attestationOf]
		}
		if e.config != nil {
			where := Hit{Kind: KindConfig, Platform: platform, Manifest: e.manifest, Blob: blobName(e.config.desc)}
			for _, h := range e.config.hits {
				s.report.Hits = append(s.report.Hits, place(where, h))
			}
		}
		for i, t := range e.layers {
			li := i
			where := Hit{Kind: t.kind, Platform: platform, Manifest: e.manifest, Blob: blobName(t.desc), Layer: &li}
			if e.attestationOf != "" {
				where.Attestation = t.desc.Annotations["in-toto.io/predicate-type"]
			}
			for _, h := range t.hits {
				out := place(where, h)
				if t.kind == KindLayer {
					out.Notes = hiddenBy(e.layers[i+1:], i+1, h.real)
				}
				s.report.Hits = append(s.report.Hits, out)
			}
			for _, n := range t.notes {
				s.report.Notes = append(s.report.Notes, fmt.Sprintf("%s layer %d %s: %s", platform, i, short(blobName(t.desc)), n))
			}
		}
	}
	for i := range s.report.Hits {
		h := &s.report.Hits[i]
		if h.Rule == "" && h.secret >= 0 {
			h.SecretID = s.m.secrets[h.secret].ID
			h.SecretField = s.m.secrets[h.secret].Field
		}
	}
}

func blobName(d ocispec.Descriptor) string {
	if p, ok := d.Annotations[pathAnnotation]; ok {
		return p
	}
	return d.Digest.String()
}

// hiddenBy says which later layer (the first at index first) deletes or
// replaces p.
func hiddenBy(later []*task, first int, p string) []string {
	if p == "" {
		return nil
	}
	for j, t := range later {
		if t.layer == nil {
			continue
		}
		if how, ok := t.layer.hides(p); ok {
			return []string{fmt.Sprintf("%s in layer %d: still in this layer's blob", how, first+j)}
		}
	}
	return nil
}
