package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/hushbuild/hushbuild/internal/buildcontext"
	"github.com/hushbuild/hushbuild/rewrite"
)

// TestSameImageAsStock (e): a Dockerfile with nothing to rewrite, built
// through hushbuild, gives the image the stock frontend gives: the same
// layer diff IDs and the same config, byte for byte, with
// SOURCE_DATE_EPOCH=0 for both so that timestamps are fixed.
//
// Each case is built twice per frontend: with the frontend chosen by
// `--build-arg BUILDKIT_SYNTAX` (the context, Dockerfile included, is then
// byte-identical for both frontends) and, when the image does not copy the
// Dockerfile itself, with the `# syntax=` line users add.
func TestSameImageAsStock(t *testing.T) {
	l := needLab(t)
	examples := loadExamples(t, l.examplesDir())
	examples = append(examples, example{name: "e2e-clean-multistage", dir: filepath.Join("testdata", "clean-multistage"), offline: "yes"},
		// Certificates and public keys under names no credential file
		// has, copied with the context: the search for private keys
		// finds none, and the image is the stock one.
		example{name: "e2e-clean-public-keys", dir: filepath.Join("testdata", "clean-public-keys"), offline: "yes"})
	n := 0
	for _, ex := range examples {
		if ex.offline != "yes" {
			continue
		}
		original, err := os.ReadFile(filepath.Join(ex.dir, "Dockerfile"))
		if err != nil {
			t.Fatal(err)
		}
		// Nothing to rewrite as the frontend sees it: with the context's
		// credential files (a context may hold one the text never names).
		listing, err := buildcontext.Scan(ex.dir, filepath.Join(ex.dir, "Dockerfile"), rewrite.Config{})
		if err != nil {
			t.Fatalf("%s: listing the context: %v", ex.name, err)
		}
		cfg := rewrite.Config{ContextFiles: listing.Files, ContextListed: true, ContextKeys: listing.ByContent(), ContextToolFiles: listing.Tools}
		res, err := rewrite.Rewrite(bytes.Clone(original), cfg)
		// And as the frontend reads them once the rewrite says which: the
		// files a RUN sources, and those copied to a configuration or a
		// credential file's name.
		if err == nil && res.Err() == nil {
			if more := listing.ReadFor(res.Sourced, res.FieldCopies, res.NamedCopies); len(more) > 0 {
				cfg.ContextKeys = append(cfg.ContextKeys, more...)
				res, err = rewrite.Rewrite(bytes.Clone(original), cfg)
			}
		}
		if err != nil || res.Err() != nil || res.Changed || len(res.Requirements) > 0 || len(ex.legacy) > 0 && !onlyNeutralArgs(ex) {
			continue
		}
		n++
		variants := []string{"BUILDKIT_SYNTAX"}
		if !copiesWholeContext(original) {
			variants = append(variants, "syntax-line")
		}
		for _, variant := range variants {
			t.Run(ex.name+"/"+variant, func(t *testing.T) {
				t.Parallel()
				l.testSameImage(t, ex, original, variant)
			})
		}
	}
	if n < 4 {
		t.Errorf("only %d examples have nothing to rewrite; expected at least 4 (010, 011, 012, 120, the clean multi-stage one)", n)
	}
}

// onlyNeutralArgs reports whether the legacy command passes only build-args
// that are no secret (120's public key and key id).
func onlyNeutralArgs(ex example) bool {
	for _, f := range ex.legacy {
		name, _, _ := strings.Cut(f.value, "=")
		if f.name != "--build-arg" || rewrite.IsSecretName(name, rewrite.Config{}) {
			return false
		}
	}
	return true
}

// copiesWholeContext reports whether a COPY or ADD takes "." from the
// context, which puts the Dockerfile itself in the image.
func copiesWholeContext(dockerfile []byte) bool {
	res, err := parser.Parse(bytes.NewReader(dockerfile))
	if err != nil {
		return true
	}
	stages, _, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return true
	}
	for _, st := range stages {
		for _, cmd := range st.Commands {
			var srcs []string
			switch c := cmd.(type) {
			case *instructions.CopyCommand:
				if c.From != "" {
					continue
				}
				srcs = c.SourcePaths
			case *instructions.AddCommand:
				srcs = c.SourcePaths
			}
			for _, s := range srcs {
				if s == "." || s == "./" || s == "/" {
					return true
				}
			}
		}
	}
	return false
}

func (l *labSetup) testSameImage(t *testing.T, ex example, original []byte, variant string) {
	base := copyContext(t, ex.dir)
	flags := append(l.baseImageFlags(t, original), "--build-arg", "SOURCE_DATE_EPOCH=0")
	for _, f := range ex.legacy {
		name, _, _ := strings.Cut(f.value, "=")
		flags = append(flags, "--build-arg", name+"=e2e-"+strings.ToLower(name))
	}
	out := t.TempDir()
	build := func(frontend, name string) *ociImage {
		dir := copyContext(t, base)
		f := slices.Clone(flags)
		if variant == "BUILDKIT_SYNTAX" {
			writeFile(t, dir, "Dockerfile", original)
			f = append(f, "--build-arg", "BUILDKIT_SYNTAX="+frontend)
		} else {
			writeFile(t, dir, "Dockerfile", withSyntax(frontend, original))
		}
		archive := filepath.Join(out, name+".tar")
		res := l.buildx(t, buildSpec{dir: dir, flags: f, output: archive, outputAttrs: []string{"rewrite-timestamp=true"}})
		if res.err != nil {
			t.Fatalf("the %s build failed: %v\n%s", name, res.err, res.out)
		}
		img, err := readOCIImage(archive)
		if err != nil {
			t.Fatalf("reading the %s image: %v", name, err)
		}
		return img
	}
	stock := build(l.stock, "stock")
	hushed := build(l.frontend, "hushbuild")

	if !checkSameLayersAndConfig(t, stock, hushed) {
		return
	}
	if stock.manifestDigest == hushed.manifestDigest {
		t.Logf("same image: manifest %s, %d layers", stock.manifestDigest, len(stock.diffIDs))
	} else {
		t.Logf("same layers and config (%d layers, config %s); the manifests differ: %s, %s",
			len(stock.diffIDs), stock.configDigest, stock.manifestDigest, hushed.manifestDigest)
	}
}

// configDiff names the top-level config fields (and history entries) that
// differ.
func configDiff(t *testing.T, a, b []byte) string {
	var ma, mb map[string]any
	if err := json.Unmarshal(a, &ma); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &mb); err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for k := range ma {
		keys[k] = true
	}
	for k := range mb {
		keys[k] = true
	}
	var names []string
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	var out strings.Builder
	for _, k := range names {
		if !reflect.DeepEqual(ma[k], mb[k]) {
			ja, _ := json.Marshal(ma[k])
			jb, _ := json.Marshal(mb[k])
			fmt.Fprintf(&out, "\n\t%s: stock %s\n\t%s  hushbuild %s", k, ja, strings.Repeat(" ", len(k)), jb)
		}
	}
	return out.String()
}

// checkSameLayersAndConfig fails t where the hushbuild image's layers or
// config differ from the stock image's, showing the files and fields
// that differ; it reports whether both are the same.
func checkSameLayersAndConfig(t *testing.T, stock, hushed *ociImage) bool {
	t.Helper()
	same := true
	if !slices.Equal(stock.diffIDs, hushed.diffIDs) {
		same = false
		t.Errorf("layer diff IDs differ:\n\tstock     %v\n\thushbuild %v", stock.diffIDs, hushed.diffIDs)
		for _, d := range diffFiles(stock.files, hushed.files) {
			t.Logf("\t%s", strings.NewReplacer("legacy", "stock").Replace(d.String()))
		}
	}
	if stock.configDigest != hushed.configDigest {
		same = false
		t.Errorf("the image configs differ (%s, %s):%s", stock.configDigest, hushed.configDigest, configDiff(t, stock.config, hushed.config))
	}
	return same
}
