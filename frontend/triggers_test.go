package frontend

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/moby/buildkit/client/llb/sourceresolver"
	digest "github.com/opencontainers/go-digest"

	"github.com/hushbuild/hushbuild/rewrite"
)

type configResolver map[string][]byte

func (r configResolver) ResolveImageConfig(ctx context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	return ref, digest.FromBytes(r[ref]), r[ref], nil
}

// TestTriggerResolver: the builder gets the rewritten triggers of an image
// whose triggers are those the rewrite read, and every other config as it
// is.
func TestTriggerResolver(t *testing.T) {
	cfg := func(onbuild ...string) []byte {
		dt, _ := json.Marshal(map[string]any{"architecture": "amd64", "os": "linux", "config": map[string]any{"User": "node", "Env": []string{"A=1"}, "OnBuild": onbuild}, "rootfs": map[string]any{"type": "layers"}})
		return dt
	}
	inner := configResolver{
		"docker.io/library/node:onbuild": cfg("COPY . /app", "RUN npm ci"),
		"docker.io/library/other:1":      cfg("COPY . /app"),
		"docker.io/library/node:other":   cfg("COPY . /srv"),
	}
	refs := map[string]string{"node:onbuild": "docker.io/library/node:onbuild", "node:other": "docker.io/library/node:other", "drop": "docker.io/library/other:1"}
	images := map[string]rewrite.ImageDefaults{"node:onbuild": {OnBuild: []string{"COPY . /app", "RUN npm ci"}}, "node:other": {OnBuild: []string{"COPY . /app"}}, "drop": {OnBuild: []string{"COPY . /app"}}}
	onbuild := map[string][]string{
		"node:onbuild": {"COPY --exclude=.npmrc . /app", "RUN --mount=type=bind,source=.npmrc,target=/app/.npmrc npm ci"},
		// read with other triggers than the builder resolves now
		"node:other": {"COPY --exclude=.npmrc . /app"},
		"drop":       {},
	}
	r, err := withRewrittenTriggers(inner, onbuild, refs, images)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		ref  string
		want []string
	}{
		{"docker.io/library/node:onbuild", onbuild["node:onbuild"]},
		{"docker.io/library/node:other", []string{"COPY . /srv"}},
		{"docker.io/library/other:1", []string{}},
	} {
		_, _, dt, err := r.ResolveImageConfig(context.Background(), tt.ref, sourceresolver.Opt{})
		if err != nil {
			t.Fatal(err)
		}
		var img struct {
			Config struct {
				User    string
				Env     []string
				OnBuild []string
			} `json:"config"`
			OS string `json:"os"`
		}
		if err := json.Unmarshal(dt, &img); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(img.Config.OnBuild, tt.want) || img.Config.OnBuild == nil {
			t.Errorf("%s: OnBuild %q, want %q", tt.ref, img.Config.OnBuild, tt.want)
		}
		if img.Config.User != "node" || !slices.Equal(img.Config.Env, []string{"A=1"}) || img.OS != "linux" {
			t.Errorf("%s: the config's other fields changed: %s", tt.ref, dt)
		}
	}

	// Two names of one image with different rewrites.
	refs["node:onbuild-again"] = "docker.io/library/node:onbuild"
	images["node:onbuild-again"] = images["node:onbuild"]
	onbuild["node:onbuild-again"] = []string{"COPY . /app", "RUN npm ci"}
	if _, err := withRewrittenTriggers(inner, onbuild, refs, images); err == nil {
		t.Error("two rewrites of one image's triggers were accepted")
	}
}
