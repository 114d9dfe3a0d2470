package verify

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	vt "github.com/hushbuild/hushbuild/verify/verifytest"
)

// serveLayout serves an OCI layout as a read-only registry on loopback:
// every repository name holds the layout's first image under any tag.
func serveLayout(t *testing.T, dir string) string {
	t.Helper()
	idx, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var index ocispec.Index
	if err := json.Unmarshal(idx, &index); err != nil {
		t.Fatal(err)
	}
	top := index.Manifests[0]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := strings.TrimPrefix(r.URL.Path, "/v2/")
		if p == "" {
			w.WriteHeader(http.StatusOK)
			return
		}
		i := strings.LastIndex(p, "/manifests/")
		kind := "manifests"
		if i < 0 {
			i = strings.LastIndex(p, "/blobs/")
			kind = "blobs"
		}
		if i < 0 {
			http.NotFound(w, r)
			return
		}
		ref := p[i+len(kind)+2:]
		dgst, mt := ref, "application/octet-stream"
		if kind == "manifests" && !strings.HasPrefix(ref, "sha256:") {
			dgst = top.Digest.String()
		}
		data, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(dgst, "sha256:")))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		if kind == "manifests" {
			var probe struct {
				MediaType string `json:"mediaType"`
			}
			json.Unmarshal(data, &probe)
			mt = probe.MediaType
		}
		w.Header().Set("Content-Type", mt)
		w.Header().Set("Docker-Content-Digest", dgst)
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		if r.Method == http.MethodHead {
			return
		}
		w.Write(data)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestRegistry(t *testing.T) {
	c := vt.Canary(t)
	l := vt.NewLayout(t).Write(
		vt.Image{Platform: vt.Amd64, Layers: []vt.Layer{{Files: []vt.File{{Name: "ok", Body: "clean"}}}}},
		vt.Image{Platform: vt.Arm64, Layers: []vt.Layer{{Files: []vt.File{{Name: "root/.env", Body: "T=" + c}}}},
			Attestation: &vt.Attestation{PredicateType: "https://slsa.dev/provenance/v0.2", Statement: `{"predicate":{"x":"` + c + `"}}`}},
	)
	host := serveLayout(t, l.Dir)
	r := mustRun(t, Options{Image: host + "/team/app:latest", Secrets: []Secret{{ID: "T", Value: c}}, Patterns: true})
	var kinds []string
	for _, h := range r.Hits {
		if h.Platform != "linux/arm64" {
			t.Errorf("hit on %s", h.Platform)
		}
		kinds = append(kinds, h.Kind)
	}
	if strings.Join(kinds, ",") != "layer,attestation" {
		t.Fatalf("want a layer and an attestation hit, got:\n%s", dump(r))
	}

	// A missing tag and an unreachable registry are errors.
	if _, err := run(t, Options{Image: "127.0.0.1:1/none:latest", Secrets: []Secret{{ID: "T", Value: c}}}); err == nil {
		t.Errorf("unreachable registry: no error")
	}
}
