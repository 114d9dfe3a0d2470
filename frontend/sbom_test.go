package frontend

import (
	"context"
	"slices"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	"google.golang.org/protobuf/proto"

	"github.com/hushbuild/hushbuild/frontend/proof"
)

// TestSBOMInputsKeyedApart: a build whose steps get no secret but whose
// context holds credential files is solved keyed apart (prove.go solve);
// the SBOM scanner's inputs (build.go: pr.state) are keyed apart the same
// way, or the scanner would build the stock ops again, keyed as a stock
// build of the legacy Dockerfile's are, and BuildKit exports the
// attestation's refs with the cache (mode=max, their chains with them).
func TestSBOMInputsKeyedApart(t *testing.T) {
	ctx := context.Background()
	tool := llb.Image("docker.io/hushbuild/frontend:test")
	tdef, err := tool.Marshal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := &prover{
		df:             &dockerfile{},
		tool:           &tool,
		toolDef:        tdef.ToPB(),
		contextSources: []proof.Source{{ID: ".env (build context)"}},
	}
	build := llb.Image("busybox").File(llb.Copy(llb.Local("context"), "dist", "/app/dist"))
	final := llb.Image("alpine").File(llb.Copy(build, "/app/dist", "/dist"))

	st, err := p.state(ctx, final)
	if err != nil {
		t.Fatal(err)
	}
	def, err := st.Marshal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var toolDigest string
	{
		var op pb.Op
		for _, dt := range tdef.Def {
			if err := proto.Unmarshal(dt, &op); err == nil && op.GetSource() != nil {
				toolDigest = string(digest.FromBytes(dt))
			}
		}
	}
	// Control: what solve solves (KeyApart) has the input on the copies.
	fdef, err := final.Marshal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	apart, _, err := proof.KeyApart(fdef.ToPB(), func() (*pb.Definition, error) { return tdef.ToPB(), nil }, p.options())
	if err != nil {
		t.Fatal(err)
	}
	withTool := 0
	for _, dt := range apart.Def {
		var op pb.Op
		if err := proto.Unmarshal(dt, &op); err == nil && slices.ContainsFunc(op.Inputs, func(in *pb.Input) bool { return in.Digest == toolDigest }) {
			withTool++
		}
	}
	if withTool != 2 {
		t.Fatalf("control: KeyApart gives %d ops the frontend image input, want 2: the test proves nothing", withTool)
	}
	for _, dt := range def.Def {
		var op pb.Op
		if err := proto.Unmarshal(dt, &op); err != nil {
			t.Fatal(err)
		}
		if f := op.GetFile(); f != nil && f.Actions[0].SecondaryInput >= 0 {
			if !slices.ContainsFunc(op.Inputs, func(in *pb.Input) bool { return in.Digest == toolDigest }) {
				t.Errorf("a copy the SBOM scanner builds lacks the frontend image input that solve's KeyApart gives the same copy: it is keyed as the stock build's is")
			}
		}
	}
}
