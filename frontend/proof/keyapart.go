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
	w, err := newDefWriter(def, tool)
	if err != nil {
		return nil, opts, err
	}
	renamed := map[digest.Digest]digest.Digest{}
	for _, d := range g.order {
		op, nd, dt := g.ops[d], d, g.raw[d]
		keyed := d != g.terminal && contentKeyed(op)
		if keyed || slices.ContainsFunc(op.Inputs, func(in *pb.Input) bool { _, ok := renamed[digest.Digest(in.Digest)]; return ok }) {
			op = proto.Clone(op).(*pb.Op)
			for _, in := range op.Inputs {
				if r, ok := renamed[digest.Digest(in.Digest)]; ok {
					in.Digest = string(r)
				}
			}
			if keyed {
				addUnusedInput(op, w.toolHead)
			}
			if dt, err = marshal(op); err != nil {
				return nil, opts, err
			}
			nd = digest.FromBytes(dt)
			renamed[d] = nd
		}
		var locs *pb.Locations
		if def.Source != nil {
			locs = def.Source.Locations[string(d)]
		}
		w.add(nd, dt, op, g.meta[d], locs)
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
	return w.def, opts, nil
}

// defWriter writes a definition in place of src, op by op: the frontend
// image's ops first (tool gives its definition), then src's, renamed where
// they changed. ops holds every op written, by digest.
type defWriter struct {
	def      *pb.Definition
	ops      map[digest.Digest]*pb.Op
	toolHead *pb.Input
}

func newDefWriter(src *pb.Definition, tool func() (*pb.Definition, error)) (*defWriter, error) {
	toolDef, err := tool()
	if err != nil {
		return nil, err
	}
	tg, err := parse(toolDef)
	if err != nil {
		return nil, fmt.Errorf("hushbuild: the frontend image's definition: %w", err)
	}
	head, err := tg.head()
	if err != nil {
		return nil, fmt.Errorf("hushbuild: the frontend image's definition: %w", err)
	}
	w := &defWriter{def: &pb.Definition{Metadata: map[string]*pb.OpMetadata{}}, ops: map[digest.Digest]*pb.Op{}, toolHead: head}
	if src.Source != nil {
		w.def.Source = &pb.Source{Infos: src.Source.Infos, Locations: map[string]*pb.Locations{}}
	}
	for _, d := range tg.order {
		if d != tg.terminal {
			w.add(d, tg.raw[d], tg.ops[d], tg.meta[d], nil)
		}
	}
	return w, nil
}

// add writes op (dt, its bytes, digest d) with its metadata and source
// locations, once.
func (w *defWriter) add(d digest.Digest, dt []byte, op *pb.Op, meta *pb.OpMetadata, locs *pb.Locations) {
	if _, ok := w.ops[d]; ok {
		return
	}
	w.ops[d] = op
	w.def.Def = append(w.def.Def, dt)
	if meta != nil {
		w.def.Metadata[string(d)] = meta
	}
	if locs != nil && w.def.Source != nil {
		w.def.Source.Locations[string(d)] = locs
	}
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

// addUnusedInput puts in first among op's inputs, used by none of its
// actions or mounts, and moves every index that refers to an input or to
// an earlier action's output up by one. First, not last: BuildKit's cache
// key of the op (CacheMap) does not count the inputs, only how the actions
// and mounts refer to them, and its index matches a key against an
// indexed one on the key's own inputs alone: an op with one input more at
// the end would still share the stock op's key whenever it was indexed
// first. Moved indexes change the key itself (a file op's action indexes
// are hashed once they are not the default ones; an exec's mounts are).
func addUnusedInput(op *pb.Op, in *pb.Input) {
	shift := func(r *int64) {
		if *r >= 0 {
			*r++
		}
	}
	switch o := op.Op.(type) {
	case *pb.Op_File:
		for _, a := range o.File.Actions {
			shift(&a.Input)
			shift(&a.SecondaryInput)
			for _, r := range ownerInputs(a) {
				shift(r)
			}
		}
	case *pb.Op_Exec:
		for _, m := range o.Exec.Mounts {
			shift(&m.Input)
		}
	}
	op.Inputs = append([]*pb.Input{proto.Clone(in).(*pb.Input)}, op.Inputs...)
}
