package proof

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver"
	"github.com/moby/buildkit/solver/llbsolver/ops"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
)

// TestKeyApart: a definition the frontend checks without instrumenting it
// (no step gets a secret) gets the frontend image as an unused input on
// every op BuildKit keys by content, the ops after them renamed, and the
// plan made of it lists the same copies, the build context's still known
// as the context.
func TestKeyApart(t *testing.T) {
	ctxState := llb.Local("context")
	// The context as an archive unpacked: a file op of the context.
	unpacked := llb.Scratch().File(llb.Copy(llb.HTTP("https://example.com/ctx.tgz"), "ctx.tgz", "/", &llb.CopyInfo{AttemptUnpack: true}))
	build := llb.Image("busybox").File(llb.Copy(ctxState, "dist", "/app/dist"))
	final := llb.Image("alpine").
		File(llb.Copy(build, "/app/dist", "/dist")).
		File(llb.Copy(unpacked, "/", "/src"))
	def := marshalState(t, final)
	g, err := parse(def)
	if err != nil {
		t.Fatal(err)
	}
	contextOps := map[string]bool{}
	for _, d := range g.order {
		if f := g.ops[d].GetFile(); f != nil && f.Actions[0].GetCopy().GetAttemptUnpackDockerCompatibility() {
			contextOps[string(d)] = true
		}
	}
	if len(contextOps) != 1 {
		t.Fatalf("context ops: %d, want 1", len(contextOps))
	}
	before, err := Plain(def, Options{ContextOps: contextOps})
	if err != nil {
		t.Fatal(err)
	}

	apart, opts, err := KeyApart(def, toolDef(t), Options{ContextOps: contextOps})
	if err != nil {
		t.Fatal(err)
	}
	ag, err := parse(apart)
	if err != nil {
		t.Fatalf("the definition KeyApart makes: %v", err)
	}
	tool, _ := parse(must(t, toolDef(t)))
	head, _ := tool.head()
	files := 0
	for _, d := range ag.order {
		op := ag.ops[d]
		if op.GetFile() == nil {
			continue
		}
		files++
		if !slices.ContainsFunc(op.Inputs, func(in *pb.Input) bool { return in.Digest == head.Digest }) {
			t.Errorf("file op %s, keyed by content, lacks the frontend image among its inputs", d)
		}
	}
	if files != 4 {
		t.Fatalf("file ops: %d, want 4", files)
	}
	after, err := Plain(apart, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := func(p *Plan) (n int) {
		for _, c := range p.Copies {
			if c.Context {
				n++
			}
		}
		return n
	}
	if len(after.Copies) != len(before.Copies) || ctx(after) != ctx(before) || ctx(after) != 1 {
		t.Errorf("copies: %d (%d of the context) after, %d (%d) before", len(after.Copies), ctx(after), len(before.Copies), ctx(before))
	}

	// Nothing keyed by content: the same definition, byte for byte, and
	// the frontend image not asked for.
	plain := marshalState(t, llb.Image("busybox").Run(llb.Shlex("true")).Root())
	same, _, err := KeyApart(plain, func() (*pb.Definition, error) {
		t.Fatal("the frontend image was asked for a definition with nothing keyed by content")
		return nil, nil
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(same.Def, plain.Def, bytes.Equal) {
		t.Error("a definition with nothing keyed by content was changed")
	}
}

// keyVertex is just enough of a solver.Vertex for ops.NewFileOp.
type keyVertex struct{ inputs int }

func (v keyVertex) Digest() digest.Digest         { return "" }
func (v keyVertex) Sys() any                      { return nil }
func (v keyVertex) Options() solver.VertexOptions { return solver.VertexOptions{} }
func (v keyVertex) Inputs() []solver.Edge         { return make([]solver.Edge, v.inputs) }
func (v keyVertex) Name() string                  { return "keyapart" }

// TestKeyApartChangesBuildKitsKey: BuildKit's own cache map of each file
// op keyed apart has another digest than the stock op's. A digest left
// equal would let BuildKit's index match the stock op's key against ours
// on the stock op's inputs alone (solver/index.go matches a key on its own
// deps), and merge the two steps whichever was keyed first.
func TestKeyApartChangesBuildKitsKey(t *testing.T) {
	build := llb.Image("busybox").File(llb.Copy(llb.Local("context"), "dist", "/app/dist"))
	final := llb.Image("alpine").
		File(llb.Copy(build, "/app/dist", "/dist", llb.WithUser("app")).Mkdir("/logs", 0o755))
	def := marshalState(t, final)
	g, err := parse(def)
	if err != nil {
		t.Fatal(err)
	}
	apart, _, err := KeyApart(def, toolDef(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ag, err := parse(apart)
	if err != nil {
		t.Fatal(err)
	}
	cacheMap := func(op *pb.Op) digest.Digest {
		fo, err := ops.NewFileOp(keyVertex{len(op.Inputs)}, op.Op.(*pb.Op_File), nil, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		cm, _, err := fo.CacheMap(context.Background(), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		return cm.Digest
	}
	compared := 0
	for _, d := range g.order {
		stock := g.ops[d]
		if stock.GetFile() == nil || !contentKeyed(stock) {
			continue
		}
		for _, nd := range ag.order {
			ours := ag.ops[nd]
			if ours.GetFile() == nil || len(ours.Inputs) != len(stock.Inputs)+1 || len(ours.GetFile().Actions) != len(stock.GetFile().Actions) {
				continue
			}
			compared++
			if cacheMap(stock) == cacheMap(ours) {
				t.Errorf("op %s keyed apart has BuildKit's cache map digest of the stock op", d)
			}
		}
	}
	if compared < 2 {
		t.Fatalf("compared %d ops, want 2 at least: the test proves nothing", compared)
	}
}
