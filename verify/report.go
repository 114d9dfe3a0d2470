package verify

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Blob kinds, as reported in Hit.Kind.
const (
	KindIndex       = "index"
	KindManifest    = "manifest"
	KindConfig      = "config"
	KindLayer       = "layer"
	KindAttestation = "attestation"
	KindBlob        = "blob"
)

// Places in a layer entry, as reported in Hit.In.
const (
	InContent  = "content"
	InName     = "name"
	InLinkname = "linkname"
	InHeader   = "header" // PAX records and extended attributes
)

// Report is what Scan found. It never holds a secret value.
type Report struct {
	// Image is the scanned input as given.
	Image string `json:"image"`
	// Hits are sorted by platform, blob kind, layer, path and field.
	Hits []Hit `json:"hits"`
	// Notes say what was not searched, and why (short values, oversized
	// documents...).
	Notes []string `json:"notes,omitempty"`
	// Error says why the scan is incomplete: the image could not be fully
	// read, or nothing was read (no image for the requested platforms, no
	// layer, no file). A report with an Error proves nothing, whatever
	// its Hits.
	Error string `json:"error,omitempty"`
	Stats Stats  `json:"stats"`
}

// Clean reports whether the scan read the whole image, read something,
// and found nothing: the only report that proves an image clean.
func (r *Report) Clean() bool { return len(r.Hits) == 0 && r.Error == "" }

// Stats count what was scanned.
type Stats struct {
	// Platforms are the platforms of the images scanned, sorted.
	Platforms []string `json:"platforms,omitempty"`
	Manifests int      `json:"manifests"`
	Blobs     int      `json:"blobs"`
	Layers    int      `json:"layers"`
	Files     int      `json:"files"`
	// Bytes is the uncompressed size of the layer contents and documents
	// scanned.
	Bytes int64 `json:"bytes"`
}

// Hit is one finding: what matched and where, never the matched bytes.
type Hit struct {
	// Rule is the pattern rule that matched (see secretscan.Rules), or ""
	// when a known secret matched.
	Rule string `json:"rule,omitempty"`
	// SecretID and SecretField name the known secret that matched.
	SecretID    string `json:"secret,omitempty"`
	SecretField string `json:"secretField,omitempty"`
	// Encoding is the form the secret was found in: raw, base64, url or
	// json.
	Encoding string `json:"encoding,omitempty"`

	// Platform is the image's platform (os/arch[/variant]), "" for the
	// top index.
	Platform string `json:"platform,omitempty"`
	// Manifest is the digest of the image (or attestation) manifest.
	Manifest string `json:"manifest,omitempty"`
	// Kind is what the blob is: index, manifest, config, layer,
	// attestation or blob.
	Kind string `json:"kind"`
	// Blob is the blob's digest, or a file name (index.json,
	// manifest.json, or a legacy archive's path).
	Blob string `json:"blob"`
	// Layer is the layer's index in its manifest (from 0).
	Layer *int `json:"layer,omitempty"`
	// Path is the file in the layer ("/etc/x"). Parts of it that match
	// are replaced by <redacted>.
	Path string `json:"path,omitempty"`
	// In says where in the layer entry: content, name, linkname or
	// header.
	In string `json:"in,omitempty"`
	// Field is the JSON path inside a document (config, manifest,
	// attestation), e.g. history[3].created_by.
	Field string `json:"field,omitempty"`
	// History is the index of the config's history entry.
	History *int `json:"history,omitempty"`
	// Attestation is the in-toto predicate type of an attestation layer.
	Attestation string `json:"attestation,omitempty"`
	// Offset is where the first occurrence starts, in the file's content
	// or, for a blob scanned as bytes, in the blob. -1 for JSON fields.
	Offset int64 `json:"offset"`
	// Count is how many occurrences were found there.
	Count int `json:"count"`
	// Notes add context, e.g. "deleted in layer 3".
	Notes []string `json:"notes,omitempty"`

	secret int // index in the scan's secrets, -1 for a rule
}

// What returns "secret ID[ field F]" or "rule R".
func (h Hit) What() string {
	if h.Rule != "" {
		return "rule " + h.Rule
	}
	return Secret{ID: h.SecretID, Field: h.SecretField}.label()
}

// Where returns the location in one line.
func (h Hit) Where() string {
	var parts []string
	if h.Platform != "" {
		parts = append(parts, h.Platform)
	}
	switch {
	case h.Layer != nil && h.Kind == KindLayer:
		parts = append(parts, "layer "+strconv.Itoa(*h.Layer)+" "+short(h.Blob))
	case h.Layer != nil:
		parts = append(parts, h.Kind+" layer "+strconv.Itoa(*h.Layer)+" "+short(h.Blob))
	default:
		parts = append(parts, h.Kind+" "+short(h.Blob))
	}
	if h.Attestation != "" {
		parts = append(parts, "("+h.Attestation+")")
	}
	if h.Path != "" {
		p := h.Path
		if h.In != "" && h.In != InContent {
			p += " (" + h.In + ")"
		}
		parts = append(parts, p)
	}
	if h.Field != "" {
		parts = append(parts, h.Field)
	}
	return strings.Join(parts, " ")
}

func short(d string) string {
	if alg, hex, ok := strings.Cut(d, ":"); ok && len(hex) > 12 && !strings.Contains(hex, "/") {
		return alg + ":" + hex[:12]
	}
	return d
}

var kindOrder = map[string]int{KindIndex: 0, KindManifest: 1, KindConfig: 2, KindLayer: 3, KindAttestation: 4, KindBlob: 5}

func layerOf(h Hit) int {
	if h.Layer == nil {
		return -1
	}
	return *h.Layer
}

func historyOf(h Hit) int {
	if h.History == nil {
		return -1
	}
	return *h.History
}

// natural compares strings with runs of digits compared as numbers, so
// that field[2] comes before field[10].
func natural(a, b string) int {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if c := cmp.Or(cmp.Compare(len(na), len(nb)), cmp.Compare(na, nb)); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return cmp.Compare(a[0], b[0])
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

func digitRun(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

func sortHits(hits []Hit) {
	slices.SortStableFunc(hits, func(a, b Hit) int {
		return cmp.Or(
			cmp.Compare(a.Platform, b.Platform),
			cmp.Compare(kindOrder[a.Kind], kindOrder[b.Kind]),
			cmp.Compare(a.Manifest, b.Manifest),
			cmp.Compare(layerOf(a), layerOf(b)),
			cmp.Compare(a.Blob, b.Blob),
			cmp.Compare(a.Path, b.Path),
			cmp.Compare(a.In, b.In),
			cmp.Compare(historyOf(a), historyOf(b)),
			natural(a.Field, b.Field),
			cmp.Compare(a.Rule, b.Rule),
			cmp.Compare(a.SecretID, b.SecretID),
			cmp.Compare(a.SecretField, b.SecretField),
			cmp.Compare(a.Encoding, b.Encoding),
		)
	})
}
