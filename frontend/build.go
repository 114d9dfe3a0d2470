// Package frontend is hushbuild's BuildKit gateway frontend: BuildKit's own
// Dockerfile builder, fed the Dockerfile as rewritten by the engine.
//
// Build follows github.com/moby/buildkit/frontend/dockerfile/builder.Build
// (v0.34.2) step for step, with three differences:
//   - the Dockerfile read by dockerui is rewritten before anything else
//     sees it, and only the rewritten text (and a source map holding it) is
//     handed to BuildKit, for builds and for every subrequest;
//   - it never forwards to another frontend (`# syntax=`, BUILDKIT_SYNTAX):
//     it is the syntax target, and forwarding would build the original;
//   - it stops builds that pass a secret as a build-arg, and builds the
//     engine found unsafe, before any conversion, and it reports the
//     engine's findings as warnings and `--call=check` results.
package frontend

import (
	"context"
	"maps"
	"slices"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	bkfrontend "github.com/moby/buildkit/frontend"
	"github.com/moby/buildkit/frontend/attestations/sbom"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/frontend/subrequests/convertllb"
	"github.com/moby/buildkit/frontend/subrequests/lint"
	"github.com/moby/buildkit/frontend/subrequests/outline"
	"github.com/moby/buildkit/frontend/subrequests/targets"
	"github.com/moby/buildkit/solver/result"
	"github.com/moby/buildkit/util/bkmaps"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/pkg/errors"
	"github.com/sirupsen/logrus"

	"github.com/hushbuild/hushbuild/frontend/proof"
	"github.com/hushbuild/hushbuild/rewrite"
)

// keySyntaxArg is the build-arg BuildKit's builder forwards on. hushbuild
// ignores it.
const keySyntaxArg = buildArgPrefix + "BUILDKIT_SYNTAX"

// Build is the frontend's entry point, for grpcclient.RunFromEnvironment.
func Build(ctx context.Context, c client.Client) (*client.Result, error) {
	return build(ctx, c, rewrite.Rewrite)
}

func build(ctx context.Context, c client.Client, rw rewriteFunc) (res *client.Result, err error) {
	rw = remembered(rw)
	// Every error leaves with a source. When a Dockerfile names this
	// frontend in its `# syntax=` line, BuildKit's own frontend forwards
	// to it and attaches the original Dockerfile to any error that comes
	// back without a source: buildx would print its first lines, and the
	// build history would keep all of it.
	filename := dockerui.DefaultDockerfileName
	if v := c.BuildOpts().Opts[keyFilename]; v != "" {
		filename = v
	}
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, internalError("the frontend", r)
		}
		err = withEmptySource(err, filename)
	}()

	// An older daemon stops here, naming the BuildKit version hushbuild
	// needs, before anything is read or solved.
	if err := checkDaemon(c.BuildOpts()); err != nil {
		logrus.Warn("hushbuild: stopped: the BuildKit daemon is too old")
		return nil, err
	}

	c = newResolveCache(c)
	bc, err := dockerui.NewClient(c)
	if err != nil {
		return nil, err
	}
	opts := bc.BuildOpts().Opts
	// BuildKit's builder forwards to another frontend when the client asks
	// for a capability it lacks; hushbuild never forwards.
	if err := validateCaps(opts["frontend.caps"]); err != nil {
		return nil, err
	}
	if _, ok := opts[keySyntaxArg]; ok {
		logrus.Info("hushbuild: ignoring BUILDKIT_SYNTAX: this frontend builds the Dockerfile itself")
	}

	cfg, err := configFromOpts(opts)
	if err != nil {
		return nil, err
	}
	// HUSHBUILD configures hushbuild, not the Dockerfile.
	delete(bc.BuildArgs, configArgName)

	// The build's checks run the frontend's own image; the listing of
	// the context searches it with that image too.
	pr := &prover{c: c, bc: bc}

	// The credential files a broad COPY of the context would bring in,
	// listed once the Dockerfile (and with it its .dockerignore) is read.
	var listed *listing
	var baseRefs map[string]string
	var bases map[string]rewrite.ImageDefaults
	df, err := readDockerfile(ctx, bc, cfg, rw, func(cfg *rewrite.Config, merged rewrite.Config, text []byte) (err error) {
		// The repository's .hushbuild.yaml, on the Dockerfile's side
		// of the caller's settings.
		repo, err := readRepoConfig(ctx, c, bc)
		if err != nil {
			return err
		}
		if repo != nil {
			where := "the build context's " + rewrite.RepoConfigName
			if *cfg, err = rewrite.MergeRepoConfig(*repo, *cfg, where); err != nil {
				return err
			}
			if merged, err = rewrite.MergeRepoConfig(*repo, merged, where); err != nil {
				return err
			}
		}
		bases, baseRefs = baseImages(ctx, c, bc, text)
		cfg.BaseImages = bases
		merged.BaseImages = cfg.BaseImages
		var self []byte
		if holdsRewrittenLiteral(rw, text, merged) {
			self = text
		}
		if listed, err = contextFiles(ctx, c, bc, merged, text, self, pr.toolState); listed != nil {
			cfg.ContextFiles, cfg.ContextListed, cfg.ContextSelf, cfg.ContextKeys = listed.files, true, listed.self, append(slices.Clone(listed.keys), listed.fieldKeys...)
			cfg.ContextToolFiles = listed.tools
		}
		if err != nil || listed == nil {
			return err
		}
		// A file of the context that a RUN sources and that assigns
		// secret-named variables is an env file whatever its name: the
		// rewrite says which files RUNs source, and those are read.
		if res, rerr := runRewrite(rw, text, *cfg); rerr == nil && res != nil && (len(res.Sourced) > 0 || len(res.FieldCopies) > 0 || len(res.NamedCopies) > 0) {
			if err := listed.addSourcedEnvFiles(ctx, c, bc, res.Sourced, res.FieldCopies, res.NamedCopies); err != nil {
				return err
			}
			cfg.ContextFiles = listed.files
			cfg.ContextKeys = append(cfg.ContextKeys, listed.sourced...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	logrus.Infof("hushbuild: %s: %s", df.sourceMap.Filename, df.summary())

	// Errors that point into the Dockerfile carry the rewritten text, so
	// that clients print the lines under them.
	defer func() {
		err = df.withSources(err)
	}()

	if err := checkBuildArgs(bc.BuildArgs, df); err != nil {
		logrus.Warn("hushbuild: stopped: a secret was passed as a build-arg")
		return nil, err
	}

	warn := df.warner(c)
	if listed != nil && listed.keysUnsearched {
		warn(ctx, "hushbuild: the build context was not searched for private keys: the frontend does not know its own image (the gateway's source option); a COPY of the context is kept from copying only the credential files it knows by name", client.WarnOpts{})
	}
	if listed == nil {
		warn(ctx, "hushbuild: the build context could not be listed (it has more directories than hushbuild walks in a git repository or an archive): a COPY of the context is not kept from copying its credential files; keep credential files out of it, or build from a local directory", client.WarnOpts{})
	}
	named, unlisted, namedFiles, err := namedContextSources(ctx, c, bc, opts, df.classifier, pr.toolState)
	if err != nil {
		return nil, err
	}
	for _, name := range unlisted {
		warn(ctx, "hushbuild: the named build context "+name+" could not be listed for credential files: a COPY --from it is not kept from copying them; keep credential files out of it", client.WarnOpts{})
	}
	// An unsafe Dockerfile is only ever converted by the check, which
	// shows its results to the client: it gets the source without text.
	sourceMap := df.sourceMap
	if df.unsafe != nil {
		sourceMap = df.shown
	}
	// The base images' triggers run as the rewrite changed them.
	resolver, err := withRewrittenTriggers(c, df.onbuild, baseRefs, bases)
	if err != nil {
		return nil, err
	}
	convertOpt := dockerfile2llb.ConvertOpt{
		Config:       bc.Config,
		Client:       bc,
		SourceMap:    sourceMap,
		MetaResolver: resolver,
		Warn: func(rulename, description, url, msg string, location []parser.Range) {
			startLine := 0
			if len(location) > 0 {
				startLine = location[0].Start.Line
			}
			msg = linter.LintFormatShort(rulename, msg, startLine)
			warn(ctx, msg, warnOpts(location, [][]byte{[]byte(description)}, url))
		},
	}

	if res, ok, err := bc.HandleSubrequest(ctx, dockerui.RequestHandler{
		Outline: func(ctx context.Context) (*outline.Outline, error) {
			if err := df.unsafeError(); err != nil {
				return nil, err
			}
			return dockerfile2llb.Dockerfile2Outline(ctx, df.data, convertOpt)
		},
		ListTargets: func(ctx context.Context) (*targets.List, error) {
			if err := df.unsafeError(); err != nil {
				return nil, err
			}
			return dockerfile2llb.ListTargets(ctx, df.data)
		},
		Lint: func(ctx context.Context) (*lint.LintResults, error) {
			// The check reports an unsafe Dockerfile instead of failing.
			results, err := dockerfile2llb.DockerfileLint(ctx, df.data, convertOpt)
			if err != nil {
				return nil, err
			}
			df.addToLint(results)
			return results, nil
		},
		ConvertLLB: func(ctx context.Context) (*convertllb.Result, error) {
			if err := df.unsafeError(); err != nil {
				return nil, err
			}
			return dockerfile2llb.DockerfileConvertLLB(ctx, df.data, convertOpt)
		},
	}); err != nil {
		return nil, err
	} else if ok {
		return res, nil
	}

	df.reportFindings(ctx, warn)
	if err := df.unsafeError(); err != nil {
		logrus.Warn("hushbuild: stopped: the Dockerfile cannot be built without leaking a secret")
		return nil, err
	}

	var scanner sbom.Scanner
	if bc.SBOM != nil {
		scannerPlatform := bc.BuildPlatforms[0]
		scanner, err = sbom.CreateSBOMScanner(ctx, c, bc.SBOM.Generator, scannerPlatform, sourceresolver.Opt{
			ImageOpt: &sourceresolver.ResolveImageOpt{
				ResolveMode: opts["image-resolve-mode"],
				Platform:    &scannerPlatform,
			},
		}, bc.SBOM.Parameters)
		if err != nil {
			return nil, err
		}
	}

	scanTargets := bkmaps.SyncMap[string, *dockerfile2llb.Result]{}
	pr.df = df
	pr.warn = func(msg string) {
		warn(ctx, msg, client.WarnOpts{})
	}
	// The context's credential files are searched for in every build,
	// unless the caller lets them stay in the image. Those found by their
	// content (a private key under any name) are held by the whole
	// context, the others by the listing's transfer.
	if !df.classifier.AllowRuntimeSecretFiles {
		if listed != nil {
			named := slices.DeleteFunc(slices.Clone(df.contextFiles), func(f string) bool {
				return slices.Contains(listed.keys, f) || slices.Contains(listed.sourced, f)
			})
			pr.contextSources = append(proof.ContextSources(named, listed.state), proof.ContextFieldSources(listed.fields, listed.state)...)
			pr.contextSources = append(pr.contextSources, proof.ContextSources(listed.keys, listed.keyState)...)
			pr.contextSources = append(pr.contextSources, proof.ContextSources(listed.sourced, listed.sourcedState)...)
		}
		pr.contextSources = append(pr.contextSources, named...)
		pr.namedFiles = namedFiles
	}
	if listed != nil {
		pr.contextOps = listed.ops
	}

	rb, err := bc.Build(ctx, func(ctx context.Context, platform *ocispecs.Platform, idx int) (*dockerui.BuildResult, error) {
		opt := convertOpt
		opt.BuildArgs = maps.Clone(opt.BuildArgs)
		opt.TargetPlatform = platform
		if idx != 0 {
			opt.Warn = nil
		}

		dfRes, err := dockerfile2llb.Dockerfile2LLB(ctx, df.data, opt)
		if err != nil {
			return nil, err
		}

		def, err := dfRes.State.Marshal(ctx)
		if err != nil {
			return nil, errors.Wrapf(err, "failed to marshal LLB definition")
		}

		// The proof: the steps that get secrets are instrumented, and the
		// result is checked before it is returned for export.
		r, err := pr.solve(ctx, def.ToPB(), dfRes.Image, bc.CacheImports)
		if err != nil {
			return nil, err
		}

		ref, err := r.SingleRef()
		if err != nil {
			return nil, err
		}

		var p ocispecs.Platform
		if platform != nil {
			p = *platform
		} else {
			p = platforms.DefaultSpec()
		}
		id := platforms.FormatAll(platforms.Normalize(p))
		scanTargets.Store(id, dfRes)
		return &dockerui.BuildResult{
			Reference: ref,
			Image:     dfRes.Image,
			BaseImage: dfRes.BaseImage,
			Epoch:     dfRes.Epoch,
		}, nil
	})
	if err != nil {
		return nil, err
	}

	if scanner != nil {
		if err := rb.EachPlatform(ctx, func(ctx context.Context, id string, p ocispecs.Platform) error {
			target, ok := scanTargets.Load(id)
			if !ok {
				return errors.Errorf("no scan targets for %s", id)
			}

			var opts []llb.ConstraintsOpt
			if target.IsIgnoreCache {
				opts = append(opts, llb.IgnoreCache)
			}
			// The scanner builds its inputs again: the same instrumented
			// steps as the result, never the original ones.
			core, err := pr.state(ctx, target.SBOM.Core)
			if err != nil {
				return err
			}
			extras := make(map[string]llb.State, len(target.SBOM.Extras))
			for k, st := range target.SBOM.Extras {
				if extras[k], err = pr.state(ctx, st); err != nil {
					return err
				}
			}
			att, err := scanner(ctx, id, core, extras, opts...)
			if err != nil {
				return err
			}

			attSolve, err := result.ConvertAttestation(&att, func(st *llb.State) (client.Reference, error) {
				def, err := st.Marshal(ctx)
				if err != nil {
					return nil, err
				}
				r, err := c.Solve(ctx, bkfrontend.SolveRequest{
					Definition: def.ToPB(),
				})
				if err != nil {
					return nil, err
				}
				return r.Ref, nil
			})
			if err != nil {
				return err
			}
			rb.AddAttestation(id, *attSolve)
			return nil
		}); err != nil {
			return nil, err
		}
	}

	return rb.Finalize()
}
