package frontend

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"

	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hushbuild/hushbuild/rewrite"
)

// maxBaseImages bounds the base images resolved for one Dockerfile.
const maxBaseImages = 32

// baseImages resolves the config of each image the Dockerfile's stages
// start FROM, as BuildKit's builder resolves it (build-args over ARG
// defaults, the target platform), so that the rewrite knows each stage's
// user, HOME and working directory instead of assuming root. An image that
// cannot be resolved is left out (the build reports it when it pulls the
// image); stages FROM other stages, named contexts and scratch are not
// images. Only the config's user, environment, working directory and
// ONBUILD triggers are kept. refs gives each resolved image's reference
// as BuildKit's builder resolves it, by the base name as written.
func baseImages(ctx context.Context, c client.Client, bc *dockerui.Client, text []byte) (images map[string]rewrite.ImageDefaults, refs map[string]string) {
	ast, err := parser.Parse(bytes.NewReader(text))
	if err != nil {
		return nil, nil
	}
	stages, metaArgs, err := instructions.Parse(ast.AST, nil)
	if err != nil {
		return nil, nil
	}
	platform := platforms.DefaultSpec()
	if len(bc.TargetPlatforms) > 0 {
		platform = bc.TargetPlatforms[0]
	}
	env := map[string]string{
		"TARGETPLATFORM": platforms.Format(platform), "TARGETOS": platform.OS, "TARGETARCH": platform.Architecture, "TARGETVARIANT": platform.Variant,
	}
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			if v, ok := bc.BuildArgs[kv.Key]; ok {
				env[kv.Key] = v
			} else if kv.Value != nil {
				env[kv.Key] = *kv.Value
			}
		}
	}
	vars := make([]string, 0, len(env))
	for k, v := range env {
		vars = append(vars, k+"="+v)
	}
	lex := shell.NewLex(ast.EscapeToken)
	out := map[string]rewrite.ImageDefaults{}
	refs = map[string]string{}
	stageNames := map[string]bool{}
	for _, s := range stages {
		base := s.BaseName
		if _, seen := out[base]; seen || stageNames[strings.ToLower(base)] || len(out) >= maxBaseImages {
			stageNames[strings.ToLower(s.Name)] = true
			continue
		}
		stageNames[strings.ToLower(s.Name)] = true
		name, _, err := lex.ProcessWord(base, shell.EnvsFromSlice(vars))
		if err != nil || name == "" || strings.EqualFold(name, "scratch") || stageNames[strings.ToLower(name)] {
			continue
		}
		if nc, err := bc.NamedContext(name, dockerui.ContextOpt{}); err != nil || nc != nil {
			continue
		}
		ref, err := reference.ParseNormalizedNamed(name)
		if err != nil {
			continue
		}
		p := platform
		resolved := reference.TagNameOnly(ref).String()
		_, _, dt, err := c.ResolveImageConfig(ctx, resolved, sourceresolver.Opt{
			ImageOpt: &sourceresolver.ResolveImageOpt{Platform: &p},
		})
		if err != nil {
			continue
		}
		var img struct {
			Config struct {
				ocispecs.ImageConfig
				OnBuild []string `json:"OnBuild"`
			} `json:"config"`
		}
		if err := json.Unmarshal(dt, &img); err != nil {
			continue
		}
		out[base] = rewrite.ImageDefaults{User: img.Config.User, Env: img.Config.Env, WorkingDir: img.Config.WorkingDir, OnBuild: img.Config.OnBuild}
		refs[base] = resolved
	}
	return out, refs
}
