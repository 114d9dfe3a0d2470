package proof

import (
	"fmt"
	"slices"

	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	"google.golang.org/protobuf/proto"
)

// KeyApart is def with every op that BuildKit keys by the content of an
// input (contentKeyed) given the frontend image (tool's head) as one more
// input, used by nothing, and the ops after it renamed: Instrument does
// the same to the definitions it changes; KeyApart is for one it leaves
// alone, whose build the frontend still checks (the credential files of
// its build context). Such an op of a stock build of the legacy
// Dockerfile, running at the same time, would otherwise get the same key
// when what it reads has the same content, BuildKit would merge the two,
// and a cache export of this build would carry the legacy build's layers.
// A definition with no such op comes back unchanged. Options.ContextOps
// name ops by their digests in def: KeyApart returns them renamed.
func KeyApart(def *pb.Definition, tool func() (*pb.Definition, error), opts Options) (*pb.Definition, Options, error) {
	g, err := parse(def)
	if err != nil {
		return nil, opts, err
	}
	if !slices.ContainsFunc(g.order, func(d digest.Digest) bool { return d != g.terminal && contentKeyed(g.ops[d]) }) {
		return def, opts, nil
	}
	toolDef, err := tool()
	if err != nil {
		return nil, opts, err
	}
	tg, err := parse(toolDef)
	if err != nil {
		return nil, opts, fmt.Errorf("hushbuild: the frontend image's definition: %w", err)
	}
	toolHead, err := tg.head()
	if err != nil {
		return nil, opts, fmt.Errorf("hushbuild: the frontend image's definition: %w", err)
	}
	out := &pb.Definition{Metadata: map[string]*pb.OpMetadata{}}
	if def.Source != nil {
		out.Source = &pb.Source{Infos: def.Source.Infos, Locations: map[string]*pb.Locations{}}
	}
	seen := map[digest.Digest]bool{}
	add := func(d digest.Digest, dt []byte, meta *pb.OpMetadata, locs *pb.Locations) {
		if seen[d] {
			return
		}
		seen[d] = true
		out.Def = append(out.Def, dt)
		if meta != nil {
			out.Metadata[string(d)] = meta
		}
		if locs != nil && out.Source != nil {
			out.Source.Locations[string(d)] = locs
		}
	}
	for _, d := range tg.order {
		if d != tg.terminal {
			add(d, tg.raw[d], tg.meta[d], nil)
		}
	}
	renamed := map[digest.Digest]digest.Digest{}
	for _, d := range g.order {
		op := g.ops[d]
		changed := false
		if d != g.terminal {
			for _, in := range op.Inputs {
				if _, ok := renamed[digest.Digest(in.Digest)]; ok {
					changed = true
				}
			}
			changed = changed || contentKeyed(op)
		} else {
			changed = true
		}
		nd, dt := d, g.raw[d]
		if changed {
			op = proto.Clone(op).(*pb.Op)
			for _, in := range op.Inputs {
				if nd, ok := renamed[digest.Digest(in.Digest)]; ok {
					in.Digest = string(nd)
				}
			}
			if d != g.terminal && contentKeyed(op) {
				addUnusedInput(op, toolHead)
			}
			if dt, err = marshal(op); err != nil {
				return nil, opts, err
			}
			nd = digest.FromBytes(dt)
			if nd != d {
				renamed[d] = nd
			}
		}
		var locs *pb.Locations
		if def.Source != nil {
			locs = def.Source.Locations[string(d)]
		}
		add(nd, dt, g.meta[d], locs)
	}
	if opts.ContextOps != nil {
		ctxOps := map[string]bool{}
		for d, ok := range opts.ContextOps {
			if nd, r := renamed[digest.Digest(d)]; r {
				d = string(nd)
			}
			ctxOps[d] = ok
		}
		opts.ContextOps = ctxOps
	}
	return out, opts, nil
}

// contentKeyed reports whether BuildKit's cache key of op depends on the
// content of one of its inputs rather than on that input's own key: a file
// op that copies from an input (COPY --from, COPY and ADD from the
// context), or whose owner is a name looked up in an input, and an exec
// with a read-only mount or one whose changes are dropped (RUN
// --mount=from=…). Two ops with the same body and inputs of the same
// content then share a key, whatever made those inputs.
func contentKeyed(op *pb.Op) bool {
	n := int64(len(op.Inputs))
	switch o := op.Op.(type) {
	case *pb.Op_File:
		for _, a := range o.File.Actions {
			if c := a.GetCopy(); c != nil && a.SecondaryInput >= 0 && a.SecondaryInput < n {
				return true
			}
			for _, in := range ownerInputs(a) {
				if *in >= 0 && *in < n {
					return true
				}
			}
		}
	case *pb.Op_Exec:
		for _, m := range o.Exec.Mounts {
			switch m.MountType {
			case pb.MountType_SECRET, pb.MountType_SSH, pb.MountType_TMPFS:
				continue
			}
			if m.Input >= 0 && m.Input < n && (m.Readonly || m.Output == int64(pb.SkipOutput)) {
				return true
			}
		}
	}
	return false
}

// ownerInputs are the indexes of the inputs (or earlier actions' outputs)
// in whose /etc/passwd or /etc/group a file action looks up its owner.
func ownerInputs(a *pb.FileAction) []*int64 {
	var owner *pb.ChownOpt
	switch {
	case a.GetCopy() != nil:
		owner = a.GetCopy().Owner
	case a.GetMkdir() != nil:
		owner = a.GetMkdir().Owner
	case a.GetMkfile() != nil:
		owner = a.GetMkfile().Owner
	case a.GetSymlink() != nil:
		owner = a.GetSymlink().Owner
	}
	if owner == nil {
		return nil
	}
	var out []*int64
	for _, u := range []*pb.UserOpt{owner.User, owner.Group} {
		if b := u.GetByName(); b != nil {
			out = append(out, &b.Input)
		}
	}
	return out
}

// addUnusedInput appends in to op's inputs, used by none of its actions or
// mounts. A file op's actions refer to the outputs of earlier actions by
// indexes past its inputs: those move up by one.
func addUnusedInput(op *pb.Op, in *pb.Input) {
	n := int64(len(op.Inputs))
	if f := op.GetFile(); f != nil {
		for _, a := range f.Actions {
			refs := append([]*int64{&a.Input, &a.SecondaryInput}, ownerInputs(a)...)
			for _, r := range refs {
				if *r >= n {
					*r++
				}
			}
		}
	}
	op.Inputs = append(op.Inputs, proto.Clone(in).(*pb.Input))
}
