package frontend

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	digest "github.com/opencontainers/go-digest"

	"github.com/hushbuild/hushbuild/rewrite"
)

// triggerResolver resolves image configs for BuildKit's builder with the
// ONBUILD triggers the rewrite changed (rewrite.Result.OnBuild) in place
// of the image's own: the builder runs a base image's triggers in the
// stage built FROM it, and reads them from the config it resolves.
//
// A config is changed only when its triggers are exactly those the
// rewrite read (the same image, platform and resolve mode as the
// frontend's own resolution, baseImages): any other config is handed on
// as it is, its triggers run unchanged, and the build-time check judges
// what they leave.
type triggerResolver struct {
	llb.ImageMetaResolver
	// triggers are the original and rewritten triggers by the image
	// reference the builder resolves.
	triggers map[string]rewrittenTriggers
}

type rewrittenTriggers struct {
	orig, rewritten []string
}

// withRewrittenTriggers wraps r when the rewrite changed any base image's
// triggers. onbuild is rewrite.Result.OnBuild, by the FROM's base name as
// written; refs gives each such name's image reference, and images the base images as read (their
// triggers).
//
// Two base names of one image whose triggers the rewrite changed
// differently are an error: the builder resolves the image once.
func withRewrittenTriggers(r llb.ImageMetaResolver, onbuild map[string][]string, refs map[string]string, images map[string]rewrite.ImageDefaults) (llb.ImageMetaResolver, error) {
	if len(onbuild) == 0 {
		return r, nil
	}
	tr := &triggerResolver{ImageMetaResolver: r, triggers: map[string]rewrittenTriggers{}}
	for _, base := range slices.Sorted(maps.Keys(onbuild)) {
		ref, ok := refs[base]
		if !ok {
			continue
		}
		t := rewrittenTriggers{orig: images[base].OnBuild, rewritten: onbuild[base]}
		if prev, ok := tr.triggers[ref]; ok && (!slices.Equal(prev.orig, t.orig) || !slices.Equal(prev.rewritten, t.rewritten)) {
			return nil, fmt.Errorf("hushbuild: the Dockerfile names the image %s in two ways, and the ONBUILD triggers it runs need a different rewrite in each stage: name it one way, or write the triggers' instructions into the Dockerfile", ref)
		}
		tr.triggers[ref] = t
	}
	return tr, nil
}

func (r *triggerResolver) ResolveImageConfig(ctx context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	name, dgst, dt, err := r.ImageMetaResolver.ResolveImageConfig(ctx, ref, opt)
	if err != nil {
		return name, dgst, dt, err
	}
	t, ok := r.triggers[ref]
	if !ok {
		return name, dgst, dt, nil
	}
	if out, ok := replaceTriggers(dt, t); ok {
		dt = out
	}
	return name, dgst, dt, nil
}

// replaceTriggers returns the image config dt with t's rewritten
// triggers when its own are t's original ones. Every other field is kept
// as it is.
func replaceTriggers(dt []byte, t rewrittenTriggers) ([]byte, bool) {
	var img map[string]json.RawMessage
	if err := json.Unmarshal(dt, &img); err != nil {
		return nil, false
	}
	var cfg map[string]json.RawMessage
	if err := json.Unmarshal(img["config"], &cfg); err != nil || cfg == nil {
		return nil, false
	}
	var onbuild []string
	if err := json.Unmarshal(cfg["OnBuild"], &onbuild); err != nil || !slices.Equal(onbuild, t.orig) {
		return nil, false
	}
	rewritten := t.rewritten
	if rewritten == nil {
		rewritten = []string{}
	}
	var err error
	if cfg["OnBuild"], err = json.Marshal(rewritten); err != nil {
		return nil, false
	}
	if img["config"], err = json.Marshal(cfg); err != nil {
		return nil, false
	}
	out, err := json.Marshal(img)
	if err != nil {
		return nil, false
	}
	return out, true
}
