package verify

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/hushbuild/hushbuild/internal/sarif"
	"github.com/hushbuild/hushbuild/secretscan"
)

// WriteText writes the report for people: one line per hit, the notes,
// and a summary.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, h := range r.Hits {
		what := h.What()
		if h.Encoding != "" {
			what += " [" + h.Encoding + "]"
		}
		fmt.Fprintf(&b, "FOUND %s at %s", what, h.Where())
		var extra []string
		if h.Offset >= 0 {
			extra = append(extra, fmt.Sprintf("offset %d", h.Offset))
		}
		if h.Count > 1 {
			extra = append(extra, fmt.Sprintf("%d times", h.Count))
		}
		extra = append(extra, h.Notes...)
		if len(extra) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(extra, "; "))
		}
		b.WriteString("\n")
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	for _, e := range r.errors() {
		fmt.Fprintf(&b, "error: %s\n", e)
	}
	// Only a complete scan that read something and found nothing is
	// called clean, and it says what it read.
	switch {
	case r.Error != "":
		fmt.Fprintf(&b, "INCOMPLETE: %s could not be fully scanned, so the result proves nothing (%d finding(s) in what was read; scanned %s)\n", r.name(), len(r.Hits), r.Stats.summary())
	case len(r.Hits) == 0:
		fmt.Fprintf(&b, "clean: nothing found in %s (scanned %s)\n", r.name(), r.Stats.summary())
	default:
		fmt.Fprintf(&b, "%d finding(s) in %s (scanned %s)\n", len(r.Hits), r.name(), r.Stats.summary())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// name is the scanned input for people: "stdin" for "-".
func (r *Report) name() string {
	if r.Image == "-" {
		return "stdin"
	}
	return r.Image
}

// errors returns the lines of Error.
func (r *Report) errors() []string {
	if r.Error == "" {
		return nil
	}
	return strings.Split(r.Error, "\n")
}

// summary says what was read: "2 manifests, 7 blobs, 3 layers, 3 files,
// 1.2 KiB; platforms linux/amd64, linux/arm64".
func (st Stats) summary() string {
	s := fmt.Sprintf("%s, %s, %s, %s, %s", plural(st.Manifests, "manifest"), plural(st.Blobs, "blob"), plural(st.Layers, "layer"), plural(st.Files, "file"), humanBytes(st.Bytes))
	switch len(st.Platforms) {
	case 0:
	case 1:
		s += "; platform " + st.Platforms[0]
	default:
		s += "; platforms " + strings.Join(st.Platforms, ", ")
	}
	return s
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// KnownSecretRule is the SARIF rule ID of known-value hits.
const KnownSecretRule = "known-secret"

// SARIF returns the report as a SARIF 2.1.0 log. Each hit is a result;
// its location's URI is the file path in the layer (or the blob), and its
// logical location says where in the image it is.
func (r *Report) SARIF(toolVersion string) *sarif.Log {
	rules := []sarif.ReportingDescriptor{verifyRule(KnownSecretRule,
		"A secret the build used is in the image.",
		"The exact value of a build secret (or its base64, URL-encoded or JSON-escaped form) is stored in the image: in a layer, the config, a manifest or an attestation. Anyone who can pull the image can read it.")}
	index := map[string]int{KnownSecretRule: 0}
	for _, rule := range secretscan.Rules() {
		index[rule.ID] = len(rules)
		rules = append(rules, verifyRule(rule.ID, rule.Description, ""))
	}
	results := []sarif.Result{}
	for _, h := range r.Hits {
		id := h.Rule
		if id == "" {
			id = KnownSecretRule
		}
		ri := index[id]
		msg := h.What()
		if h.Encoding != "" && h.Encoding != EncRaw {
			msg += " (" + h.Encoding + "-encoded)"
		}
		msg += " found at " + h.Where()
		if len(h.Notes) > 0 {
			msg += " (" + strings.Join(h.Notes, "; ") + ")"
		}
		props := sarif.Properties{"kind": h.Kind, "blob": h.Blob, "count": h.Count}
		for k, v := range map[string]string{"platform": h.Platform, "manifest": h.Manifest, "path": h.Path, "in": h.In, "field": h.Field, "secret": h.SecretID, "secretField": h.SecretField, "encoding": h.Encoding, "attestation": h.Attestation} {
			if v != "" {
				props[k] = v
			}
		}
		if h.Layer != nil {
			props["layer"] = *h.Layer
		}
		if h.History != nil {
			props["history"] = *h.History
		}
		uri := strings.TrimPrefix(h.Path, "/")
		if uri == "" {
			uri = blobURI(h.Blob)
		}
		// The fingerprint leaves digests out, so that a rebuild that
		// still leaks in the same place is the same alert.
		fp := sha256.Sum256([]byte(strings.Join([]string{id, h.SecretID, h.SecretField, h.Platform, h.Kind, strconv.Itoa(layerOf(h)), h.Path, h.In, h.Field, h.Attestation}, "\x00")))
		results = append(results, sarif.Result{
			RuleID:    id,
			RuleIndex: &ri,
			Level:     sarif.LevelError,
			Message:   sarif.Message{Text: msg},
			Locations: []sarif.Location{{
				PhysicalLocation: &sarif.PhysicalLocation{
					ArtifactLocation: sarif.ArtifactLocation{URI: escapeURI(uri)},
					Region:           &sarif.Region{StartLine: 1},
				},
				LogicalLocations: []sarif.LogicalLocation{{FullyQualifiedName: r.Image + " " + h.Where(), Kind: "member"}},
			}},
			PartialFingerprints: map[string]string{"hushbuildVerify/v1": hex.EncodeToString(fp[:16])},
			Properties:          props,
		})
	}
	var notes []sarif.Notification
	for _, n := range r.Notes {
		notes = append(notes, sarif.Notification{Level: sarif.LevelNote, Message: sarif.Message{Text: n}})
	}
	// A scan that failed, or read nothing, did not execute successfully:
	// its empty results prove nothing.
	for _, e := range r.errors() {
		notes = append(notes, sarif.Notification{Level: sarif.LevelError, Message: sarif.Message{Text: e}})
	}
	run := sarif.Run{
		Tool: sarif.Tool{Driver: sarif.ToolComponent{
			Name:           "hushbuild-verify",
			Version:        toolVersion,
			InformationURI: "https://github.com/hushbuild/hushbuild",
			Rules:          rules,
		}},
		Invocations: []sarif.Invocation{{ExecutionSuccessful: r.Error == "", ToolExecutionNotifications: notes}},
		Results:     results,
		Properties:  sarif.Properties{"image": r.Image},
	}
	return sarif.NewLog(run)
}

// VerifyHelpURI documents verify and what to do about a hit.
const VerifyHelpURI = "https://github.com/hushbuild/hushbuild/blob/main/docs/cli.md#hushbuild-verify"

// verifyRule is the SARIF descriptor of a rule of verify: a friendly name
// distinct from the id ("github-token" is GithubTokenInImage), and help
// that says what to do, since a secret in a pushed image is leaked
// whatever the rewrite does next.
func verifyRule(id, short, full string) sarif.ReportingDescriptor {
	if full == "" {
		full = short
	}
	const remedy = "Treat the secret as leaked: revoke and rotate it, since anyone who pulled the image can read it; delete the image and its tags from the registries it reached. " +
		"Then rebuild with the secret passed as a secret mount (`hushbuild rewrite` rewrites the Dockerfile; `hushbuild secrets` prints the build flags) and run `hushbuild verify` on the new image."
	return sarif.ReportingDescriptor{
		ID:               id,
		Name:             pascalName(id) + "InImage",
		ShortDescription: &sarif.MultiformatMessageString{Text: short},
		FullDescription:  &sarif.MultiformatMessageString{Text: full},
		Help: &sarif.MultiformatMessageString{
			Text:     full + "\n\n" + strings.ReplaceAll(remedy, "`", "") + "\n\nDocumentation: " + VerifyHelpURI,
			Markdown: full + "\n\n" + remedy + "\n\n[Documentation](" + VerifyHelpURI + ")",
		},
		HelpURI:              VerifyHelpURI,
		DefaultConfiguration: &sarif.ReportingConfiguration{Level: sarif.LevelError},
		Properties: sarif.Properties{
			"tags": []string{"security", "secrets", "container-image"},
			// GitHub's scale: 9.0 and above is critical.
			"security-severity": "9.0",
		},
	}
}

// pascalName turns a kebab-case id into PascalCase ("known-secret" is
// KnownSecret).
func pascalName(id string) string {
	var b strings.Builder
	up := true
	for _, r := range id {
		switch {
		case r == '-' || r == '_' || r == '.' || r == ' ':
			up = true
		case up:
			b.WriteString(strings.ToUpper(string(r)))
			up = false
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// WriteSARIF writes the report as a SARIF 2.1.0 log.
func (r *Report) WriteSARIF(w io.Writer, toolVersion string) error {
	return r.SARIF(toolVersion).Write(w)
}

func blobURI(blob string) string {
	if alg, hex, ok := strings.Cut(blob, ":"); ok && !strings.Contains(blob, "/") {
		return "blobs/" + alg + "/" + hex
	}
	return blob
}

// escapeURI escapes what a relative URI reference cannot hold.
func escapeURI(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c > 0x20 && c < 0x7f && !strings.ContainsRune(`"%<>\^`+"`{|}#?[] ", rune(c)) {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
