// Package proof makes a build prove that no secret value leaves it. It works
// on the LLB that BuildKit's Dockerfile conversion produced, after the
// rewrite: every exec that mounts a secret (the rewrite's mounts, the
// user's own, those of ONBUILD triggers) is instrumented, and checks are
// added that run inside the build, with the real secret values, in execs of
// the frontend's own image (package checker holds the code they run):
//
//   - the step's command runs under the checker as a wrapper that masks
//     every secret value in its output and, when the command has exited,
//     scans the step's cache mounts (which are locked for the step's
//     duration, so that no concurrent step reads them meanwhile);
//   - what the step changed (llb.Diff of its input and its output) is
//     scanned for every secret value in every encoding package verify
//     knows;
//   - what the frontend itself hands to BuildKit (the image config, the
//     LLB definition that provenance records, the frontend options) is
//     scanned too.
//
// The frontend never sees a value: checks report secret ids, paths and
// encodings.
package proof

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	"google.golang.org/protobuf/proto"

	"github.com/hushbuild/hushbuild/rewrite"
)

// Paths inside execs. The wrapper and its own copies of the step's secrets
// are mounted under /dev, a tmpfs that runc makes for every container: the
// mount points are made there, never in the step's root filesystem, so the
// layer the step produces is the one it would produce without them.
const (
	// ToolDir is where the frontend image is mounted in a step.
	ToolDir = "/dev/.hushbuild"
	// StepSecretDir holds the wrapper's copies of a step's secrets: the
	// step's secret ids[i] is file StepSecretDir/<i>.
	StepSecretDir = "/dev/.hushbuild-secrets"
	// Binary is the frontend binary's path inside the frontend image.
	Binary = "/bin/hushbuild-frontend"
)

// Step is one exec that mounts secrets, as instrumented.
type Step struct {
	// Digest is the instrumented op's digest in Plan.Def.
	Digest digest.Digest
	// Outputs are the exec's outputs that persist (the root filesystem and
	// any other writable mount with an output): each is checked against
	// its input.
	Outputs []Output
	// Sources are where the step's secret values come from: its secret
	// mounts (files and env) and the credential files of the build
	// context it bind-mounts. Secrets are their ids, in the same order.
	Sources []Source
	Secrets []string
	// Caches are the destinations of the step's cache mounts.
	Caches []string
	// Name is the step's progress name ("[stage 2/3] RUN …"), or "".
	Name string
	// Locations are the step's places in its sources.
	Locations []*pb.Location
	// Copy marks a file op (COPY, ADD), not an exec; Context one that
	// makes the build context itself (an archive unpacked).
	Copy    bool
	Context bool
	// MaskOnly marks an exec that gets no secret of its own but runs on
	// what a step that gets one made (a later RUN of its stage, a stage
	// built FROM it or copying from it): it runs under the wrapper so
	// that its output is masked for those secrets (it may print a file
	// that holds one, before the check stops the build). Its outputs are
	// checked as every wrapped step's are: the wrapper's mount of the
	// secrets is in its file system too.
	MaskOnly bool
}

// Output is one persisted output of a step.
type Output struct {
	// Dest is the mount's destination ("/" for the root filesystem).
	Dest string
	// Index is the op's output index.
	Index int64
	// Input is the mount's input (nil: the mount starts empty), and
	// Selector the directory of it that is mounted ("" for all of it).
	Input    *pb.Input
	Selector string
}

// Plan is an instrumented definition and what to check in it.
type Plan struct {
	// Def is the definition to solve in place of the original.
	Def *pb.Definition
	// Steps are the instrumented execs, in the definition's order.
	Steps []Step
	// Sources are those of every step, and Secrets their ids, sorted.
	Sources []Source
	Secrets []string
	// Copies are the file ops (COPY, ADD) that bring files in: a context
	// file, a download or another stage's file may hold a secret value
	// too. Their outputs are checked with every secret of the plan.
	Copies []Step
	// Ops holds every op of Def by digest.
	Ops map[digest.Digest]*pb.Op
	// Fingerprints are Options.Fingerprints, for the check.
	Fingerprints map[string]string
}

// Instrument rewrites def so that every exec with secrets runs under the
// wrapper, with the frontend image mounted at ToolDir: tool gives its own
// definition (whose head is the image), asked for only when a step needs
// it. A definition with no secret mounts comes back unchanged (same bytes)
// with no steps.
func Instrument(def *pb.Definition, tool func() (*pb.Definition, error), opts ...Options) (*Plan, error) {
	if def == nil || len(def.Def) == 0 {
		return &Plan{Def: def, Ops: map[digest.Digest]*pb.Op{}}, nil
	}
	g, err := parse(def)
	if err != nil {
		return nil, err
	}
	g.setOptions(opts)
	if !g.hasSources() {
		return &Plan{Def: def, Ops: g.ops}, nil
	}
	w, err := newDefWriter(def, tool)
	if err != nil {
		return nil, err
	}
	toolHead, newDef, add := w.toolHead, w.def, w.add
	out := &Plan{Ops: w.ops}

	renamed := map[digest.Digest]digest.Digest{}
	secretSet := map[string]Source{}
	// upstream holds, by op (original digest), the sources of the steps it
	// is made from, directly or not: an exec made from one runs masked.
	upstream := map[digest.Digest][]Source{}
	// A COPY or ADD, or a RUN that reads the build context through a bind
	// mount, may bring in a file that holds a value of any of the build's
	// secrets (the check fails on it): the execs made from it run masked
	// for all of them.
	var buildSecrets []Source
	for _, d := range g.order {
		if ex := g.ops[d].GetExec(); ex != nil && d != g.terminal {
			for _, id := range execSecrets(ex) {
				buildSecrets = mergeSources(buildSecrets, []Source{{ID: id, Secret: id}})
			}
		}
	}
	for _, d := range g.order {
		if d == g.terminal {
			continue
		}
		var up []Source
		for _, in := range g.ops[d].Inputs {
			up = mergeSources(up, upstream[digest.Digest(in.Digest)])
		}
		if f := g.ops[d].GetFile(); f != nil && bringsFiles(f) {
			up = mergeSources(up, buildSecrets)
		} else if ex := g.ops[d].GetExec(); ex != nil && g.readsLocal(g.ops[d], ex) {
			up = mergeSources(up, buildSecrets)
		}
		op := proto.Clone(g.ops[d]).(*pb.Op)
		changed := false
		for _, in := range op.Inputs {
			if nd, ok := renamed[digest.Digest(in.Digest)]; ok {
				in.Digest = string(nd)
				changed = true
			}
		}
		var step *Step
		ownSecret := false
		if ex := op.GetExec(); ex != nil {
			own := g.execSources(op, ex)
			ownSecret = slices.ContainsFunc(own, func(s Source) bool { return s.Secret != "" })
			switch {
			case len(own) > 0:
				// Its own secrets, and those of the steps before it,
				// which it may print.
				sources := mergeSources(own, up)
				step = instrumentExec(op, ex, toolHead, sources, true, g.opts.Fingerprints)
				changed = true
				for _, src := range sources {
					secretSet[src.key()] = src
				}
				up = sources
			case len(up) > 0:
				step = instrumentExec(op, ex, toolHead, up, false, g.opts.Fingerprints)
				step.MaskOnly = true
				changed = true
			}
		}
		if step == nil && contentKeyed(op) {
			// BuildKit keys this op by the content of what it reads: the
			// same COPY in a stock build of the legacy Dockerfile, running
			// at the same time, would get the same key, BuildKit would
			// merge the two, and a cache export of this build would carry
			// the legacy build's layers (its secrets with them). The
			// frontend image as one more input, used by nothing, keeps
			// the keys apart.
			addUnusedInput(op, toolHead)
			changed = true
		}
		upstream[d] = up
		nd, dt := d, g.raw[d]
		if changed {
			if dt, err = marshal(op); err != nil {
				return nil, err
			}
			nd = digest.FromBytes(dt)
			renamed[d] = nd
		}
		var locs *pb.Locations
		if def.Source != nil {
			locs = def.Source.Locations[string(d)]
		}
		meta := g.meta[d]
		if step != nil && ownSecret {
			// Never from the cache: BuildKit's cache keys do not hold
			// secret values, so a cached result may have been made with
			// another value than this build's, which the check cannot
			// search for. (A file bind-mounted from the context is in the
			// cache key: its content decides whether the step is reused.)
			if meta != nil {
				meta = proto.Clone(meta).(*pb.OpMetadata)
			} else {
				meta = &pb.OpMetadata{}
			}
			meta.IgnoreCache = true
			if meta.Caps == nil {
				meta.Caps = map[string]bool{}
			}
			meta.Caps[string(pb.CapMetaIgnoreCache)] = true
		}
		add(nd, dt, op, meta, locs)
		if c := g.copyOf(op, d, nd, locs); c != nil {
			out.Copies = append(out.Copies, *c)
		}
		// A step that reads the build context through a bind mount
		// copies what it likes of it: a file that holds one of the
		// build's secret values under a name no credential file has
		// (config/settings.ini). Its outputs are checked as a COPY's
		// are; it is not wrapped (it gets no secret).
		if ex := op.GetExec(); ex != nil && (step == nil || step.MaskOnly) && g.readsLocal(op, ex) {
			r := &Step{Digest: nd, Outputs: execOutputs(op, ex), Copy: true}
			g.describe(r, d, locs)
			out.Copies = append(out.Copies, *r)
		}
		if step != nil {
			step.Digest = nd
			g.describe(step, d, locs)
			out.Steps = append(out.Steps, *step)
		}
	}
	// The terminal: the same inputs, renamed.
	term := proto.Clone(g.ops[g.terminal]).(*pb.Op)
	for _, in := range term.Inputs {
		if nd, ok := renamed[digest.Digest(in.Digest)]; ok {
			in.Digest = string(nd)
		}
	}
	dt, err := marshal(term)
	if err != nil {
		return nil, err
	}
	td := digest.FromBytes(dt)
	if _, ok := out.Ops[td]; ok {
		// A terminal identical to an op: cannot happen (it has no op
		// body), but never drop it.
		return nil, fmt.Errorf("hushbuild: the definition's terminal repeats an op")
	}
	out.Ops[td] = term
	newDef.Def = append(newDef.Def, dt)
	if m := g.meta[g.terminal]; m != nil {
		newDef.Metadata[string(td)] = m
	}
	for _, k := range slices.Sorted(maps.Keys(secretSet)) {
		out.Sources = append(out.Sources, secretSet[k])
		out.Secrets = append(out.Secrets, secretSet[k].ID)
	}
	out.Def = newDef
	out.Fingerprints = g.opts.Fingerprints
	return out, nil
}

// bringsFiles reports whether a file op copies or makes files (rather
// than only making directories, links or removing).
func bringsFiles(f *pb.FileOp) bool {
	for _, a := range f.Actions {
		if a.GetCopy() != nil || a.GetMkfile() != nil {
			return true
		}
	}
	return false
}

// fileOutputs are a file op's outputs, each with the input its actions
// start from (nil: scratch).
func fileOutputs(op *pb.Op, f *pb.FileOp) []Output {
	var outs []Output
	for _, a := range f.Actions {
		if a.Output < 0 {
			continue
		}
		o := Output{Dest: "/", Index: a.Output}
		// Follow the chain of actions back to a real input.
		in, seen := a.Input, 0
		for in >= int64(len(op.Inputs)) && seen <= len(f.Actions) {
			i := in - int64(len(op.Inputs))
			if i < 0 || int(i) >= len(f.Actions) {
				in = -1
				break
			}
			in = f.Actions[i].Input
			seen++
		}
		if in >= 0 && in < int64(len(op.Inputs)) {
			o.Input = proto.Clone(op.Inputs[in]).(*pb.Input)
		}
		outs = append(outs, o)
	}
	return outs
}

// Source is where a secret value comes from.
type Source struct {
	// FieldsOnly: the file is searched for its secret fields only,
	// never as a whole (see ContextFieldSources).
	FieldsOnly bool
	// ID names it in reports: the secret's id, or "PATH (build
	// context)".
	ID string
	// Secret is the id of a build secret (--secret), or "".
	Secret string
	// Input and Selector are, for a credential file of the build context
	// that a step bind-mounts, the context and the file's path in it.
	Input    *pb.Input
	Selector string
	// State and Selector are, for a credential file of the build context
	// that no step mounts, a state holding it and its path there.
	State *llb.State
}

func (s Source) key() string {
	if s.Secret != "" {
		return "secret\x00" + s.Secret
	}
	if s.Input == nil {
		return "state\x00" + s.Selector
	}
	return "context\x00" + s.Input.Digest + "\x00" + strconv.FormatInt(s.Input.Index, 10) + "\x00" + s.Selector
}

// Plain is the plan of a definition none of whose steps gets a secret:
// nothing is instrumented, and its COPY and ADD steps are listed, for a
// check with sources the caller adds (the credential files of the build
// context).
func Plain(def *pb.Definition, opts ...Options) (*Plan, error) {
	g, err := parse(def)
	if err != nil {
		return nil, err
	}
	g.setOptions(opts)
	out := &Plan{Def: def, Ops: g.ops, Fingerprints: g.opts.Fingerprints}
	for _, d := range g.order {
		var locs *pb.Locations
		if def.Source != nil {
			locs = def.Source.Locations[string(d)]
		}
		if c := g.copyOf(g.ops[d], d, d, locs); c != nil {
			out.Copies = append(out.Copies, *c)
		}
	}
	return out, nil
}

// copyOf is the step of op (d in the original definition, nd in the
// plan's) when it is a file op that brings files in, or nil.
func (g *graph) copyOf(op *pb.Op, d, nd digest.Digest, locs *pb.Locations) *Step {
	f := op.GetFile()
	if f == nil || !bringsFiles(f) {
		return nil
	}
	c := &Step{Digest: nd, Outputs: fileOutputs(op, f), Copy: true, Context: g.opts.ContextOps[string(d)]}
	g.describe(c, d, locs)
	return c
}

// describe gives s the progress name and the source places of op d.
func (g *graph) describe(s *Step, d digest.Digest, locs *pb.Locations) {
	if m := g.meta[d]; m != nil {
		s.Name = m.Description["llb.customname"]
	}
	if locs != nil {
		s.Locations = locs.Locations
	}
}

// ContextSources are the credential files of the build context, held by
// st at their paths, as sources.
func ContextSources(files []string, st *llb.State) []Source {
	if st == nil {
		return nil
	}
	var out []Source
	for _, f := range files {
		out = append(out, Source{ID: f + " (build context)", State: st, Selector: "/" + f})
	}
	return out
}

// ContextFieldSources are configuration files of the build context that
// may hold a credential field (rewrite.IsFieldConfigFile), held by st at
// their paths, as sources searched only for those fields.
func ContextFieldSources(files []string, st *llb.State) []Source {
	out := ContextSources(files, st)
	for i := range out {
		out[i].FieldsOnly = true
	}
	return out
}

// AddSources adds sources that no step mounts to the plan's, for every
// check (the credential files of the build context: a COPY that brings
// one in, however it is written, an ONBUILD trigger's included, fails).
func (p *Plan) AddSources(extra []Source) {
	seen := map[string]bool{}
	for _, s := range p.Sources {
		seen[s.ID] = true
	}
	for _, s := range extra {
		if !seen[s.ID] {
			seen[s.ID] = true
			p.Sources = append(p.Sources, s)
			p.Secrets = append(p.Secrets, s.ID)
		}
	}
}

// execSecrets returns the secret ids an exec mounts (files and env),
// sorted and unique, or nil.
func execSecrets(ex *pb.ExecOp) []string {
	var ids []string
	for _, m := range ex.Mounts {
		if m.MountType == pb.MountType_SECRET && m.SecretOpt != nil {
			ids = append(ids, m.SecretOpt.ID)
		}
	}
	for _, s := range ex.Secretenv {
		ids = append(ids, s.ID)
	}
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// execSources returns an exec's sources of secret values: its secrets,
// and the credential files (rewrite.IsCredentialFile) it bind-mounts from
// a local source (the build context).
func (g *graph) execSources(op *pb.Op, ex *pb.ExecOp) []Source {
	var out []Source
	for _, id := range execSecrets(ex) {
		out = append(out, Source{ID: id, Secret: id})
	}
	seen := map[string]bool{}
	for _, m := range ex.Mounts {
		if m.MountType != pb.MountType_BIND || m.Dest == "/" || m.Input < 0 || int(m.Input) >= len(op.Inputs) {
			continue
		}
		in := op.Inputs[m.Input]
		src := g.ops[digest.Digest(in.Digest)]
		if src == nil || src.GetSource() == nil || !strings.HasPrefix(src.GetSource().Identifier, "local://") {
			continue
		}
		sel := strings.TrimPrefix(path.Clean("/"+m.Selector), "/")
		var files []string
		known, label := g.opts.ContextFiles, " (build context)"
		if id := src.GetSource().Identifier; id != mainContext {
			known, label = g.opts.NamedContextFiles[id], " (build context "+strings.TrimPrefix(id, "local://")+")"
		}
		switch {
		case sel != "" && g.opts.IsCredential(sel):
			files = []string{sel}
		default:
			// A directory of the context (or all of it): the credential
			// files under it come with it.
			for _, f := range known {
				if sel == "" || strings.HasPrefix(f, sel+"/") {
					files = append(files, f)
				}
			}
		}
		for _, f := range files {
			s := Source{ID: f + label, Input: proto.Clone(in).(*pb.Input), Selector: "/" + f}
			if !seen[s.key()] {
				seen[s.key()] = true
				out = append(out, s)
			}
		}
	}
	return out
}

// execOutputs are the persisted outputs of an exec (its root filesystem
// and writable bind mounts), each with the input it starts from.
func execOutputs(op *pb.Op, ex *pb.ExecOp) []Output {
	var outs []Output
	for _, m := range ex.Mounts {
		if m.Output >= 0 && m.MountType == pb.MountType_BIND && !m.Readonly {
			o := Output{Dest: m.Dest, Index: m.Output}
			if m.Input >= 0 && int(m.Input) < len(op.Inputs) {
				o.Input = proto.Clone(op.Inputs[m.Input]).(*pb.Input)
				o.Selector = m.Selector
			}
			outs = append(outs, o)
		}
	}
	slices.SortFunc(outs, func(a, b Output) int { return int(a.Index - b.Index) })
	return outs
}

// readsLocal reports whether ex bind-mounts a local source (the build
// context, a named local context), whatever part of it.
func (g *graph) readsLocal(op *pb.Op, ex *pb.ExecOp) bool {
	for _, m := range ex.Mounts {
		if m.MountType != pb.MountType_BIND || m.Input < 0 || int(m.Input) >= len(op.Inputs) {
			continue
		}
		src := g.ops[digest.Digest(op.Inputs[m.Input].Digest)]
		if src != nil && src.GetSource() != nil && strings.HasPrefix(src.GetSource().Identifier, "local://") {
			return true
		}
	}
	return false
}

// mergeSources is a with the sources of b it lacks, in order.
func mergeSources(a, b []Source) []Source {
	if len(b) == 0 {
		return a
	}
	out := slices.Clip(a)
	for _, s := range b {
		if !slices.ContainsFunc(out, func(o Source) bool { return o.key() == s.key() }) {
			out = append(out, s)
		}
	}
	return out
}

// instrumentExec wraps ex's command and adds the wrapper's mounts, in op
// (whose Inputs get the tool image, and the build context when a source
// is a file of it that op does not mount). With caches, the step's cache
// mounts are locked and scanned by the wrapper.
func instrumentExec(op *pb.Op, ex *pb.ExecOp, tool *pb.Input, sources []Source, caches bool, fingerprints map[string]string) *Step {
	step := &Step{Sources: sources, Outputs: execOutputs(op, ex)}
	for _, s := range sources {
		step.Secrets = append(step.Secrets, s.ID)
	}
	for _, m := range ex.Mounts {
		if caches && m.MountType == pb.MountType_CACHE {
			step.Caches = append(step.Caches, m.Dest)
			if m.CacheOpt == nil {
				m.CacheOpt = &pb.CacheOpt{}
			}
			// While the step runs, no other step may use the cache: it
			// could read a secret before the wrapper's scan removes it.
			m.CacheOpt.Sharing = pb.CacheSharingOpt_LOCKED
		}
	}

	toolIndex := int64(len(op.Inputs))
	op.Inputs = append(op.Inputs, proto.Clone(tool).(*pb.Input))
	ex.Mounts = append(ex.Mounts, &pb.Mount{
		Input:     toolIndex,
		Dest:      ToolDir,
		Output:    int64(pb.SkipOutput),
		Readonly:  true,
		MountType: pb.MountType_BIND,
	})
	args := []string{path.Join(ToolDir, Binary), "exec", "--secrets", StepSecretDir}
	for i, src := range step.Sources {
		dest := path.Join(StepSecretDir, strconv.Itoa(i))
		if src.Secret == "" {
			// The same file of the context, a second time.
			idx := slices.IndexFunc(op.Inputs, func(in *pb.Input) bool {
				return in.Digest == src.Input.Digest && in.Index == src.Input.Index
			})
			if idx < 0 {
				// A step before this one mounted it.
				idx = len(op.Inputs)
				op.Inputs = append(op.Inputs, proto.Clone(src.Input).(*pb.Input))
			}
			ex.Mounts = append(ex.Mounts, &pb.Mount{
				Input: int64(idx), Selector: src.Selector, Dest: dest,
				Output: int64(pb.SkipOutput), Readonly: true, MountType: pb.MountType_BIND,
			})
		} else {
			ex.Mounts = append(ex.Mounts, &pb.Mount{
				Input:     int64(pb.Empty),
				Dest:      dest,
				Output:    int64(pb.SkipOutput),
				MountType: pb.MountType_SECRET,
				// Readable by the step's user whoever it is: the wrapper
				// runs as that user. It is the step's own secret.
				SecretOpt: &pb.SecretOpt{ID: src.Secret, Mode: 0o444, Optional: true},
			})
		}
		args = append(args, "--id", src.ID)
	}
	for _, c := range step.Caches {
		args = append(args, "--cache", c)
	}
	for _, src := range step.Sources {
		if fp := fingerprints[src.Secret]; src.Secret != "" && fp != "" {
			args = append(args, "--fingerprint", fp)
		}
	}
	args = append(args, "--")
	ex.Meta.Args = append(args, ex.Meta.Args...)
	return step
}

// graph is a parsed definition.
type graph struct {
	opts     Options
	order    []digest.Digest // as in Def: every op after its inputs
	ops      map[digest.Digest]*pb.Op
	raw      map[digest.Digest][]byte
	meta     map[digest.Digest]*pb.OpMetadata
	terminal digest.Digest
}

func parse(def *pb.Definition) (*graph, error) {
	if def == nil || len(def.Def) == 0 {
		return nil, fmt.Errorf("empty definition")
	}
	g := &graph{ops: map[digest.Digest]*pb.Op{}, raw: map[digest.Digest][]byte{}, meta: map[digest.Digest]*pb.OpMetadata{}}
	for _, dt := range def.Def {
		var op pb.Op
		if err := proto.Unmarshal(dt, &op); err != nil {
			return nil, fmt.Errorf("hushbuild: reading the build graph: %w", err)
		}
		d := digest.FromBytes(dt)
		if _, ok := g.ops[d]; ok {
			continue
		}
		g.ops[d] = &op
		g.raw[d] = dt
		g.order = append(g.order, d)
		if m := def.Metadata[string(d)]; m != nil {
			g.meta[d] = m
		}
	}
	g.terminal = digest.FromBytes(def.Def[len(def.Def)-1])
	// Every input must come before its user, and exist: the instrumented
	// definition is written in this order.
	seen := map[digest.Digest]bool{}
	for _, d := range g.order {
		for _, in := range g.ops[d].Inputs {
			if !seen[digest.Digest(in.Digest)] {
				return nil, fmt.Errorf("hushbuild: the build graph is not in dependency order (op %s)", d)
			}
		}
		seen[d] = true
	}
	return g, nil
}

// Options say what of the build context is a secret.
type Options struct {
	// IsCredential decides whether a path of the build context names a
	// credential file (default: rewrite.IsCredentialFile with the
	// built-in patterns).
	IsCredential func(string) bool
	// ContextFiles are the credential files of the main build context
	// (local://context): a step that bind-mounts a directory of it that
	// holds one gets that file as a source.
	ContextFiles []string
	// NamedContextFiles are the credential files of the named local
	// build contexts (--build-context NAME=DIR), by their source's
	// identifier (local://NAME): a step that bind-mounts a directory of
	// one that holds one (RUN --mount=from=NAME) gets that file as a
	// source, as for the main context.
	NamedContextFiles map[string][]string
	// ContextOps are the ops that make the build context itself (an
	// archive unpacked, for one): their file ops are checked like any
	// copy, and reported as the context.
	ContextOps map[string]bool
	// Fingerprints are the build's secrets' fingerprints, by secret id
	// (checker.Fingerprint): each wrapped step carries those of its
	// secrets in its command, and the check all of them, so that their
	// cache keys depend on the values and BuildKit never runs one of them
	// once for two builds with other values.
	Fingerprints map[string]string
}

// SecretIDs are the ids of the build secrets that execs of def mount,
// sorted.
func SecretIDs(def *pb.Definition) ([]string, error) {
	g, err := parse(def)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, op := range g.ops {
		if ex := op.GetExec(); ex != nil {
			ids = append(ids, execSecrets(ex)...)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// mainContext is the identifier of the main build context's source.
const mainContext = "local://context"

func (g *graph) setOptions(opts []Options) {
	for _, o := range opts {
		g.opts = o
	}
	if g.opts.IsCredential == nil {
		g.opts.IsCredential = func(p string) bool { return rewrite.IsCredentialFile(p, rewrite.Config{}) }
	}
}

func (g *graph) hasSources() bool {
	for _, op := range g.ops {
		if ex := op.GetExec(); ex != nil && len(g.execSources(op, ex)) > 0 {
			return true
		}
	}
	return false
}

// head is the input the terminal points at.
func (g *graph) head() (*pb.Input, error) {
	t := g.ops[g.terminal]
	if t.Op != nil || len(t.Inputs) != 1 {
		return nil, fmt.Errorf("no terminal op")
	}
	return t.Inputs[0], nil
}

func marshal(op *pb.Op) ([]byte, error) {
	dt, err := proto.MarshalOptions{Deterministic: true}.Marshal(op)
	if err != nil {
		return nil, fmt.Errorf("hushbuild: writing the build graph: %w", err)
	}
	return dt, nil
}
