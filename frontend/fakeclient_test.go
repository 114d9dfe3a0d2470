package frontend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/gateway/client"
	gwpb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/apicaps"
	apicapspb "github.com/moby/buildkit/util/apicaps/pb"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	fstypes "github.com/tonistiigi/fsutil/types"

	"github.com/hushbuild/hushbuild/internal/keyfile"
)

// fakeClient is an in-memory BuildKit gateway: it serves the files of the
// sources a frontend loads (local, git, HTTP, mkfile) and records every
// definition it is asked to solve, every warning and every request to
// forward to another frontend. It runs no build step.
type fakeClient struct {
	opts map[string]string
	// files maps a source identifier (e.g. "local://dockerfile") to the
	// files it serves, by path.
	files  map[string]map[string][]byte
	inputs map[string]llb.State

	mu        sync.Mutex
	solved    []*pb.Definition
	forwarded []client.SolveRequest
	warnings  []fakeWarning
	unknown   []string // source identifiers without files
	// reports are the check reports to return, by report file name
	// (default: no findings).
	reports map[string]string
	// llbCaps and gwCaps are the daemon's capabilities (default: all of
	// the vendored BuildKit's).
	llbCaps, gwCaps []*apicapspb.APICap
}

// fakeFrontendImage is the frontend image the fake gateway names.
const fakeFrontendImage = "127.0.0.1:5000/hushbuild/frontend:test"

// checkReports lists the report files of def's check execs.
func checkReports(def *pb.Definition) []string {
	var out []string
	for _, dt := range def.Def {
		var op pb.Op
		if op.UnmarshalVT(dt) != nil {
			continue
		}
		ex := op.GetExec()
		if ex == nil || len(ex.Meta.Args) < 2 || ex.Meta.Args[1] != "check-tree" {
			continue
		}
		for i, a := range ex.Meta.Args {
			if a == "--out" && i+1 < len(ex.Meta.Args) {
				out = append(out, path.Base(ex.Meta.Args[i+1]))
			}
		}
	}
	return out
}

// fingerprintIDs are the secret ids of def's fingerprint exec, if it has
// one.
func fingerprintIDs(def *pb.Definition) ([]string, bool) {
	for _, dt := range def.Def {
		var op pb.Op
		if op.UnmarshalVT(dt) != nil {
			continue
		}
		ex := op.GetExec()
		if ex == nil || len(ex.Meta.Args) < 2 || ex.Meta.Args[1] != "fingerprint" {
			continue
		}
		var ids []string
		for i, a := range ex.Meta.Args {
			if a == "--id" && i+1 < len(ex.Meta.Args) {
				ids = append(ids, ex.Meta.Args[i+1])
			}
		}
		return ids, true
	}
	return nil, false
}

type fakeWarning struct {
	vertex digest.Digest
	msg    string
	opts   client.WarnOpts
}

func newFakeClient(opts map[string]string) *fakeClient {
	if opts == nil {
		opts = map[string]string{}
	}
	if _, ok := opts[keySource]; !ok {
		// The gateway names the frontend's image: the checks run it.
		opts[keySource] = fakeFrontendImage
	}
	return &fakeClient{opts: opts, files: map[string]map[string][]byte{}, inputs: map[string]llb.State{}}
}

func (c *fakeClient) BuildOpts() client.BuildOpts {
	return client.BuildOpts{
		Opts:      c.opts,
		SessionID: "fake-session",
		Workers:   []client.WorkerInfo{{ID: "fake", Platforms: []ocispecs.Platform{platforms.MustParse("linux/amd64")}}},
		Product:   "fake",
		LLBCaps:   pb.Caps.CapSet(orAll(c.llbCaps, &pb.Caps)),
		Caps:      gwpb.Caps.CapSet(orAll(c.gwCaps, &gwpb.Caps)),
	}
}

func orAll(caps []*apicapspb.APICap, list *apicaps.CapList) []*apicapspb.APICap {
	if caps == nil {
		return list.All()
	}
	return caps
}

func (c *fakeClient) Inputs(ctx context.Context) (map[string]llb.State, error) {
	return c.inputs, nil
}

func (c *fakeClient) Solve(ctx context.Context, req client.SolveRequest) (*client.Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if req.Frontend != "" {
		c.forwarded = append(c.forwarded, req)
		return nil, fmt.Errorf("fake: forwarded to frontend %s", req.Frontend)
	}
	if req.Definition == nil {
		return nil, errors.New("fake: solve without a definition")
	}
	c.solved = append(c.solved, req.Definition)
	files, err := c.filesOf(req.Definition)
	if err != nil {
		return nil, err
	}
	// The build-time checks: each writes its report (no findings, unless
	// the test set one).
	for _, report := range checkReports(req.Definition) {
		files[report] = []byte(`{"findings":[]}`)
		if r, ok := c.reports[report]; ok {
			files[report] = []byte(r)
		}
	}
	// The fingerprints of the build's secrets: one per id, made of it.
	if ids, ok := fingerprintIDs(req.Definition); ok {
		fps := map[string]string{}
		for _, id := range ids {
			fps[id] = fmt.Sprintf("%064x", len(id))
		}
		dt, _ := json.Marshal(fps)
		files[fingerprintFile] = dt
	}
	// The search of the build context for private keys.
	if keys, tools, ok, err := c.findKeys(req.Definition); err != nil {
		return nil, err
	} else if ok {
		files[keysFile], files[toolsFile] = keys, tools
	}
	res := client.NewResult()
	res.SetRef(&fakeRef{files: files})
	return res, nil
}

// findKeys runs def's find-keys exec, if it has one, on the files of the
// directory it searches: the list it writes.
func (c *fakeClient) findKeys(def *pb.Definition) ([]byte, []byte, bool, error) {
	for _, dt := range def.Def {
		var op pb.Op
		if op.UnmarshalVT(dt) != nil {
			continue
		}
		ex := op.GetExec()
		if ex == nil || len(ex.Meta.Args) < 3 || ex.Meta.Args[1] != "find-keys" {
			continue
		}
		root := ex.Meta.Args[len(ex.Meta.Args)-1]
		for _, m := range ex.Mounts {
			if m.Dest != root || m.Input < 0 {
				continue
			}
			term, err := (&pb.Op{Inputs: []*pb.Input{op.Inputs[m.Input]}}).MarshalVT()
			if err != nil {
				return nil, nil, false, err
			}
			sub := &pb.Definition{Def: append(slices.Clone(def.Def), term)}
			files, err := c.filesOf(sub)
			if err != nil {
				return nil, nil, false, err
			}
			keys, tools := []string{}, []string{}
			for _, name := range slices.Sorted(maps.Keys(files)) {
				switch {
				case keyfile.Holds(files[name]):
					keys = append(keys, name)
				case keyfile.ToolConfigHolds(files[name]):
					keys = append(keys, name)
					tools = append(tools, name)
				}
			}
			dt, err := json.Marshal(keys)
			if err != nil {
				return nil, nil, false, err
			}
			tt, err := json.Marshal(tools)
			return dt, tt, true, err
		}
	}
	return nil, nil, false, nil
}

// filesOf returns what the head of def contains: the files of a source,
// the files made by mkfile actions, or the source copied by a file op.
func (c *fakeClient) filesOf(def *pb.Definition) (map[string][]byte, error) {
	ops := map[digest.Digest]*pb.Op{}
	var last *pb.Op
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			return nil, err
		}
		ops[digest.FromBytes(dt)] = &op
		last = &op
	}
	if last == nil || len(last.Inputs) == 0 {
		return map[string][]byte{}, nil
	}
	var walk func(d digest.Digest) map[string][]byte
	walk = func(d digest.Digest) map[string][]byte {
		op, ok := ops[d]
		if !ok {
			return map[string][]byte{}
		}
		switch o := op.Op.(type) {
		case *pb.Op_Source:
			if files, ok := c.files[o.Source.Identifier]; ok {
				return files
			}
			c.unknown = append(c.unknown, o.Source.Identifier)
			return map[string][]byte{}
		case *pb.Op_File:
			out := map[string][]byte{}
			for _, in := range op.Inputs {
				for k, v := range walk(digest.Digest(in.Digest)) {
					out[k] = v
				}
			}
			for _, a := range o.File.Actions {
				if mk, ok := a.Action.(*pb.FileAction_Mkfile); ok {
					out[strings.TrimPrefix(path.Clean(mk.Mkfile.Path), "/")] = mk.Mkfile.Data
				}
			}
			return out
		}
		return map[string][]byte{}
	}
	return walk(digest.Digest(last.Inputs[0].Digest)), nil
}

func (c *fakeClient) ResolveImageConfig(ctx context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	return ref, digest.FromString(ref), []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers"},"config":{"Env":["PATH=/bin"]}}`), nil
}

func (c *fakeClient) ResolveSourceMetadata(ctx context.Context, op *pb.SourceOp, opt sourceresolver.Opt) (*sourceresolver.MetaResponse, error) {
	return &sourceresolver.MetaResponse{Op: op}, nil
}

func (c *fakeClient) NewContainer(ctx context.Context, req client.NewContainerRequest) (client.Container, error) {
	return nil, errors.New("fake: no containers")
}

func (c *fakeClient) Warn(ctx context.Context, dgst digest.Digest, msg string, opts client.WarnOpts) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.warnings = append(c.warnings, fakeWarning{vertex: dgst, msg: msg, opts: opts})
	return nil
}

// fakeRef is a solved result: a set of files.
type fakeRef struct {
	files map[string][]byte
}

func (r *fakeRef) lookup(p string) ([]byte, bool) {
	dt, ok := r.files[strings.TrimPrefix(path.Clean("/"+p), "/")]
	return dt, ok
}

func (r *fakeRef) ToState() (llb.State, error) { return llb.Scratch(), nil }
func (r *fakeRef) Evaluate(ctx context.Context) error {
	return nil
}

func (r *fakeRef) ReadFile(ctx context.Context, req client.ReadRequest) ([]byte, error) {
	dt, ok := r.lookup(req.Filename)
	if !ok {
		return nil, fmt.Errorf("fake: %s: no such file", req.Filename)
	}
	if req.Range != nil && req.Range.Length > 0 && req.Range.Length < len(dt) {
		dt = dt[:req.Range.Length]
	}
	return dt, nil
}

func (r *fakeRef) StatFile(ctx context.Context, req client.StatRequest) (*fstypes.Stat, error) {
	dt, ok := r.lookup(req.Path)
	if !ok {
		return nil, fmt.Errorf("fake: %s: no such file", req.Path)
	}
	return &fstypes.Stat{Path: req.Path, Size: int64(len(dt)), Mode: 0o644}, nil
}

// ReadDir lists nothing, but the files of the root that an include
// pattern names (reading .hushbuild.yaml); the walk of a build context is
// tested against a real BuildKit in e2e.
func (r *fakeRef) ReadDir(ctx context.Context, req client.ReadDirRequest) ([]*fstypes.Stat, error) {
	if req.IncludePattern == "" || path.Clean("/"+req.Path) != "/" {
		return nil, nil
	}
	var out []*fstypes.Stat
	for name, dt := range r.files {
		if ok, _ := path.Match(req.IncludePattern, name); ok {
			out = append(out, &fstypes.Stat{Path: name, Size: int64(len(dt)), Mode: 0o644})
		}
	}
	return out, nil
}
