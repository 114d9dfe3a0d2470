package frontend

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	gwpb "github.com/moby/buildkit/frontend/gateway/pb"
	solvererrdefs "github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sirupsen/logrus"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/hushbuild/hushbuild/checker"
	"github.com/hushbuild/hushbuild/frontend/proof"
	"github.com/hushbuild/hushbuild/rewrite"
)

// keySource is the gateway option naming the frontend's own image.
const keySource = "source"

// prover runs the build-time proof of one build: it instruments each
// platform's definition and runs its checks before the result is returned,
// so that a failed check means no export, no push and no cache export.
type prover struct {
	c  client.Client
	bc *dockerui.Client
	df *dockerfile
	// warn reports the checks' notes.
	warn func(msg string)

	tool    *llb.State
	toolDef *pb.Definition
	// contextSources are the credential files of the build context:
	// every build that has some is checked for them. contextOps are the
	// digests of the ops that make the context itself.
	contextSources []proof.Source
	// namedFiles are the credential files of the named local contexts,
	// by their source's identifier (proof.Options.NamedContextFiles).
	namedFiles map[string][]string
	contextOps map[string]bool

	// fingerprints are the build's secrets' fingerprints, by id
	// (checker.Fingerprint), made once for every platform.
	mu           sync.Mutex
	fingerprints map[string]string
}

// tool returns the frontend's own image, for the checks' execs: the image
// BuildKit runs this frontend from (the gateway's source option), pinned
// to its digest and for the build platform (the wrapper runs natively even
// where the step is emulated).
func (p *prover) toolImage(ctx context.Context) (llb.State, *pb.Definition, error) {
	if p.tool != nil {
		return *p.tool, p.toolDef, nil
	}
	opts := p.bc.BuildOpts().Opts
	source := opts[keySource]
	if source == "" {
		return llb.State{}, nil, fmt.Errorf("hushbuild: this build mounts secrets, and the frontend cannot check it: it does not know its own image (the gateway's %q option). Run it as a gateway frontend: a `# syntax=IMAGE` line, or buildctl --frontend gateway.v0 --opt source=IMAGE", keySource)
	}
	platform := p.bc.BuildPlatforms[0]
	st, err := p.loadTool(ctx, source, platform)
	if err != nil {
		return llb.State{}, nil, fmt.Errorf("hushbuild: loading the frontend image %s for the build's checks: %w", source, err)
	}
	def, err := st.Marshal(ctx)
	if err != nil {
		return llb.State{}, nil, err
	}
	p.tool, p.toolDef = &st, def.ToPB()
	return st, p.toolDef, nil
}

// toolState is the frontend's own image (see toolImage).
func (p *prover) toolState(ctx context.Context) (llb.State, error) {
	st, _, err := p.toolImage(ctx)
	return st, err
}

func (p *prover) loadTool(ctx context.Context, source string, platform ocispecs.Platform) (llb.State, error) {
	name := "[hushbuild] the frontend image, for the build's checks"
	// As BuildKit's gateway does: a named context of that name first
	// (--build-context IMAGE=oci-layout://…).
	nc, err := p.bc.NamedContext(source, dockerui.ContextOpt{Platform: &platform})
	if err != nil {
		return llb.State{}, err
	}
	if nc != nil {
		st, _, err := nc.Load(ctx)
		if err != nil {
			return llb.State{}, err
		}
		if st != nil {
			return *st, nil
		}
	}
	named, err := reference.ParseNormalizedNamed(source)
	if err != nil {
		return llb.State{}, err
	}
	ref, dgst, _, err := p.c.ResolveImageConfig(ctx, reference.TagNameOnly(named).String(), sourceresolver.Opt{
		ImageOpt: &sourceresolver.ResolveImageOpt{Platform: &platform},
	})
	if err != nil {
		return llb.State{}, err
	}
	if dgst != "" {
		if named, err = reference.ParseNormalizedNamed(ref); err != nil {
			return llb.State{}, err
		}
		canonical, err := reference.WithDigest(reference.TrimNamed(named), dgst)
		if err != nil {
			return llb.State{}, err
		}
		ref = canonical.String()
	}
	return llb.Image(ref, llb.Platform(platform), llb.WithCustomName(name)), nil
}

// instrument returns def with its secret-bearing steps instrumented, and
// the plan; a definition without secrets comes back as it is.
func (p *prover) instrument(ctx context.Context, def *pb.Definition) (*proof.Plan, error) {
	return proof.Instrument(def, func() (*pb.Definition, error) {
		_, toolDef, err := p.toolImage(ctx)
		return toolDef, err
	}, p.options())
}

// options are what the proof needs to know of the build context.
func (p *prover) options() proof.Options {
	p.mu.Lock()
	fps := maps.Clone(p.fingerprints)
	p.mu.Unlock()
	return proof.Options{
		IsCredential:      func(path string) bool { return rewrite.IsCredentialFile(path, p.df.classifier) },
		ContextFiles:      p.df.contextFiles,
		NamedContextFiles: p.namedFiles,
		ContextOps:        p.contextOps,
		Fingerprints:      fps,
	}
}

// fingerprintFile is where the fingerprint exec writes.
const fingerprintFile = "fingerprints.json"

// fingerprint makes the fingerprints of the secrets ids that the build has
// none of yet, in one exec of the frontend image that mounts them
// (checker.Fingerprint): BuildKit runs a step once for all the builds that
// have it running at the same time, whatever secrets each was given, and
// the fingerprints in the steps keep two builds with other values apart.
// The exec carries a nonce, so that it is never shared itself nor taken
// from the cache. (It does not ignore the cache: BuildKit gives an exec
// that does a new cache mount, and the key would change with every build,
// and with it the cache keys of every step after one with secrets.)
func (p *prover) fingerprint(ctx context.Context, ids []string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var missing []string
	for _, id := range ids {
		if _, ok := p.fingerprints[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	tool, _, err := p.toolImage(ctx)
	if err != nil {
		return err
	}
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	args := []string{proof.Binary, "fingerprint", "--secrets", "/secrets", "--key", "/key", "--out", "/out/" + fingerprintFile, "--build", hex.EncodeToString(nonce)}
	opts := []llb.RunOption{
		llb.Network(pb.NetMode_NONE),
		llb.WithCustomName("[hushbuild] fingerprint the build's secrets"),
		llb.AddMount("/key", llb.Scratch(), llb.AsPersistentCacheDir("hushbuild-fingerprint-key", llb.CacheMountLocked)),
	}
	for i, id := range missing {
		args = append(args, "--id", id)
		opts = append(opts, llb.AddSecret(path.Join("/secrets", strconv.Itoa(i)), llb.SecretID(id), llb.SecretOptional))
	}
	opts = append(opts, llb.Args(args))
	def, err := tool.Run(opts...).AddMount("/out", llb.Scratch()).Marshal(ctx)
	if err != nil {
		return err
	}
	res, err := p.c.Solve(ctx, client.SolveRequest{Definition: def.ToPB(), Evaluate: true})
	if err != nil {
		return fmt.Errorf("hushbuild: fingerprinting the build's secrets: %w", err)
	}
	ref, err := res.SingleRef()
	if err != nil {
		return err
	}
	dt, err := ref.ReadFile(ctx, client.ReadRequest{Filename: "/" + fingerprintFile})
	if err != nil {
		return fmt.Errorf("hushbuild: reading the build's secrets' fingerprints: %w", err)
	}
	var fps map[string]string
	if err := json.Unmarshal(dt, &fps); err != nil {
		return fmt.Errorf("hushbuild: reading the build's secrets' fingerprints: %w", err)
	}
	if p.fingerprints == nil {
		p.fingerprints = map[string]string{}
	}
	for _, id := range missing {
		fp := fps[id]
		if fp == "" {
			return fmt.Errorf("hushbuild: the build's secrets' fingerprints lack %s", id)
		}
		p.fingerprints[id] = fp
	}
	return nil
}

// state is st instrumented (for the SBOM scanner's inputs, which must build
// the same steps as the result, not the uninstrumented ones).
func (p *prover) state(ctx context.Context, st llb.State) (llb.State, error) {
	def, err := st.Marshal(ctx)
	if err != nil {
		return llb.State{}, err
	}
	plan, err := p.instrument(ctx, def.ToPB())
	if err != nil {
		return llb.State{}, err
	}
	out := plan.Def
	if len(plan.Steps) == 0 && len(p.contextSources) > 0 {
		// As solve builds such a definition: keyed apart.
		if out, _, err = p.keyApart(ctx, out); err != nil {
			return llb.State{}, err
		}
	}
	op, err := llb.NewDefinitionOp(out)
	if err != nil {
		return llb.State{}, err
	}
	return llb.NewState(op), nil
}

// keyApart is proof.KeyApart of def with the frontend image and the
// build's options.
func (p *prover) keyApart(ctx context.Context, def *pb.Definition) (*pb.Definition, proof.Options, error) {
	return proof.KeyApart(def, func() (*pb.Definition, error) {
		_, toolDef, err := p.toolImage(ctx)
		return toolDef, err
	}, p.options())
}

// solve instruments def, solves it, and checks the result: it returns the
// result, or the error that stops the build. The result is solved first
// and held while the checks run, so that they see the very steps the
// result is made of (BuildKit shares the vertices of one build's solves
// while a result holds them): no step runs twice, and a cache mount keeps
// one base across both. Nothing is returned, so nothing is exported,
// when a check fails.
func (p *prover) solve(ctx context.Context, def *pb.Definition, image any, cacheImports []client.CacheOptionsEntry) (*client.Result, error) {
	ids, err := proof.SecretIDs(def)
	if err != nil {
		return nil, err
	}
	if len(ids) > 0 {
		if err := p.fingerprint(ctx, ids); err != nil {
			return nil, err
		}
	}
	plan, err := p.instrument(ctx, def)
	if err != nil {
		return nil, err
	}
	if len(plan.Steps) == 0 {
		if len(p.contextSources) == 0 {
			return p.c.Solve(ctx, client.SolveRequest{Definition: def, CacheImports: cacheImports})
		}
		// No step gets a secret, but the context holds credential
		// files: the copies are checked for them, and kept apart from
		// a stock build's (proof.KeyApart).
		apart, opts, err := p.keyApart(ctx, def)
		if err != nil {
			return nil, err
		}
		if plan, err = proof.Plain(apart, opts); err != nil {
			return nil, err
		}
	}
	plan.AddSources(p.contextSources)
	res, err := p.c.Solve(ctx, client.SolveRequest{Definition: plan.Def, CacheImports: cacheImports, Evaluate: true})
	if err != nil {
		return nil, explainStepError(err, plan)
	}
	if err := p.prove(ctx, plan, image); err != nil {
		return nil, err
	}
	return res, nil
}

// prove runs the checks of plan, whose result is solved.
func (p *prover) prove(ctx context.Context, plan *proof.Plan, image any) error {
	tool, _, err := p.toolImage(ctx)
	if err != nil {
		return err
	}
	extra, err := frontendFiles(plan.Def, image, p.bc.BuildOpts().Opts)
	if err != nil {
		return err
	}
	st, check, ok, err := plan.Checks(tool, extra)
	if err != nil || !ok {
		return err
	}
	cdef, err := st.Marshal(ctx)
	if err != nil {
		return err
	}
	logrus.Infof("hushbuild: checking %d build steps that get secrets, %d copies and the image config", len(plan.Steps), len(plan.Copies))
	res, err := p.c.Solve(ctx, client.SolveRequest{Definition: cdef.ToPB(), Evaluate: true})
	if err != nil {
		return explainStepError(err, plan)
	}
	ref, err := res.SingleRef()
	if err != nil {
		return err
	}
	dt, err := ref.ReadFile(ctx, client.ReadRequest{Filename: "/" + proof.ReportFile})
	if err != nil {
		return fmt.Errorf("hushbuild: reading the build check's report: %w", err)
	}
	rep, err := checker.ReadReport(dt)
	if err != nil {
		return fmt.Errorf("hushbuild: reading the build check's report: %w", err)
	}
	var leaks []proof.Leak
	for _, f := range rep.Findings {
		t, path := check.Place(f.Path)
		leaks = append(leaks, proof.Leak{Target: t, Path: path, Finding: f})
	}
	notes := map[string]bool{}
	for _, n := range rep.Notes {
		notes[n] = true
	}
	for _, n := range slices.Sorted(maps.Keys(notes)) {
		p.warn("hushbuild: build check: " + n)
	}
	if len(leaks) > 0 {
		logrus.Warnf("hushbuild: stopped: the build checks found %d places holding a secret", len(leaks))
		return leakError(leaks, p.df)
	}
	return nil
}

// leakError is the error for leaks, placed on the lines of the steps.
func leakError(leaks []proof.Leak, df *dockerfile) error {
	var err error = &proof.LeakError{Leaks: leaks, Rule: rewrite.RuleSecretInBuildOutput.Name, URL: rewrite.RuleSecretInBuildOutput.DocsURL()}
	seen := map[*proof.Step]bool{}
	for _, l := range leaks {
		if step := l.Target.Step; step != nil && !seen[step] {
			seen[step] = true
			err = withStepLocations(err, step)
		}
	}
	return err
}

// withStepLocations places err on the step's lines of the Dockerfile
// (source 0; a base image's ONBUILD has none).
func withStepLocations(err error, step *proof.Step) error {
	for _, loc := range step.Locations {
		if loc.SourceIndex != 0 {
			continue
		}
		var rs []parser.Range
		for _, r := range loc.Ranges {
			if r == nil || r.Start == nil || r.End == nil {
				continue
			}
			rs = append(rs, parser.Range{
				Start: parser.Position{Line: int(r.Start.Line), Character: int(r.Start.Character)},
				End:   parser.Position{Line: int(r.End.Line), Character: int(r.End.Character)},
			})
		}
		if len(rs) > 0 {
			err = parser.WithLocation(err, rs)
		}
	}
	return err
}

// frontendFiles are what the frontend hands to BuildKit, as files the
// final check scans: the image config, the definition (every op as JSON and
// as its bytes, its metadata and sources: provenance records them) and the
// frontend options (build-args, labels, …).
func frontendFiles(def *pb.Definition, image any, opts map[string]string) (map[string][]byte, error) {
	img, err := json.Marshal(image)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	for _, dt := range def.Def {
		var op pb.Op
		if err := proto.Unmarshal(dt, &op); err == nil {
			if j, err := protojson.Marshal(&op); err == nil {
				b.Write(j)
				b.WriteByte('\n')
			}
		}
		b.Write(dt)
		b.WriteByte('\n')
	}
	meta, err := json.Marshal(def.Metadata)
	if err != nil {
		return nil, err
	}
	b.Write(meta)
	if def.Source != nil {
		for _, info := range def.Source.Infos {
			b.WriteString("\n" + info.Filename + "\n")
			b.Write(info.Data)
		}
	}
	o, err := json.Marshal(opts)
	if err != nil {
		return nil, err
	}
	return map[string][]byte{
		proof.FileImageConfig: img,
		proof.FileDefinition:  []byte(b.String()),
		proof.FileOptions:     o,
	}, nil
}

// explainStepError says what it means when a step's wrapper stopped it:
// the wrapper's exit codes (checker.ExitLeak, checker.ExitInternal) reach
// the frontend as the step's exit code. The new error replaces BuildKit's
// (a wrapped gRPC error would reach the client with the inner message
// only) and carries the step's place in the Dockerfile.
func explainStepError(err error, plan *proof.Plan) error {
	var exit *gwpb.ExitError
	var vtx *solvererrdefs.VertexError
	if !errors.As(err, &exit) || !errors.As(err, &vtx) {
		return err
	}
	var step *proof.Step
	for i := range plan.Steps {
		if string(plan.Steps[i].Digest) == vtx.GetDigest() {
			step = &plan.Steps[i]
		}
	}
	if step == nil {
		return err
	}
	where := "a step"
	if line := step.Line(); line > 0 {
		where = fmt.Sprintf("the step on line %d", line)
	}
	rule := rewrite.RuleSecretInBuildOutput
	switch exit.ExitCode {
	case checker.ExitLeak:
		return withStepLocations(fmt.Errorf("hushbuild: %s: %s wrote a secret into a cache mount, which outlives the step and reaches later steps and builds; the file was removed from the cache (the step's log above names the mount, the path, the secret id and the encoding). fix: write credentials outside cache mounts, or remove them in the same RUN; see %s", rule.Name, where, rule.DocsURL()), step)
	case checker.ExitInternal:
		return withStepLocations(fmt.Errorf("hushbuild: %s: the build-time check could not run in %s (the step's log above says why), so the build stops", rule.Name, where), step)
	}
	return err
}
