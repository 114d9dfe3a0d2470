package proof

import (
	"bytes"
	"slices"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
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
