package frontend

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerui"
	digest "github.com/opencontainers/go-digest"
)

// stubResolver answers image config lookups without a registry.
type stubResolver struct{}

func (stubResolver) ResolveImageConfig(ctx context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	return ref, digest.FromString(ref), []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers"},"config":{"Env":["PATH=/usr/local/go/bin:/usr/bin:/bin"]}}`), nil
}

// TestImageDockerfile checks the root Dockerfile, which builds the frontend
// image: it passes BuildKit's checks, converts, and its final image carries
// the labels BuildKit and buildx need and the capabilities Build supports.
func TestImageDockerfile(t *testing.T) {
	dt, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st := llb.Local("dockerfile")
	sm := llb.NewSourceMap(&st, "Dockerfile", "Dockerfile", dt)
	if sm.Definition, err = st.Marshal(ctx); err != nil {
		t.Fatal(err)
	}

	lr, err := dockerfile2llb.DockerfileLint(ctx, dt, dockerfile2llb.ConvertOpt{SourceMap: sm, MetaResolver: stubResolver{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range lr.Warnings {
		t.Errorf("check %s: %s", w.RuleName, w.Detail)
	}
	if lr.Error != nil {
		t.Errorf("check error: %s", lr.Error.Message)
	}

	res, err := dockerfile2llb.Dockerfile2LLB(ctx, dt, dockerfile2llb.ConvertOpt{
		Config:       dockerui.Config{BuildArgs: map[string]string{"VERSION": "1.2.3", "REVISION": "abc"}},
		SourceMap:    sm,
		MetaResolver: stubResolver{},
	})
	if err != nil {
		t.Fatal(err)
	}
	labels := res.Image.Config.Labels
	if labels["moby.buildkit.frontend.network.none"] != "true" {
		t.Errorf("network.none label = %q", labels["moby.buildkit.frontend.network.none"])
	}
	caps := map[string]bool{}
	for _, c := range strings.Split(labels["moby.buildkit.frontend.caps"], ",") {
		caps[c] = true
	}
	for c := range enabledCaps {
		if !caps[c] {
			t.Errorf("caps label lacks %s", c)
		}
		delete(caps, c)
	}
	for c := range caps {
		t.Errorf("caps label has %s, which Build does not support", c)
	}
	if labels["org.opencontainers.image.version"] != "1.2.3" || labels["org.opencontainers.image.revision"] != "abc" {
		t.Errorf("version labels = %q, %q", labels["org.opencontainers.image.version"], labels["org.opencontainers.image.revision"])
	}
	if got := res.Image.Config.Entrypoint; len(got) != 1 || got[0] != "/bin/hushbuild-frontend" {
		t.Errorf("entrypoint = %q", got)
	}
}
