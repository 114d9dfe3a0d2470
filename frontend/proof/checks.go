package proof

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	"google.golang.org/protobuf/proto"
)

// Paths inside a check exec, whose root is the frontend image.
const (
	checkSecretDir = "/secrets"
	checkInputDir  = "/in"
	checkOutDir    = "/out"
)

// Check is one scan the build runs: what it scans, and the report it
// writes.
type Check struct {
	// Report is the report's file name in the checks' merged output.
	Report string
	// Step is the step whose output is scanned, or nil for the check of
	// what the frontend hands to BuildKit.
	Step *Step
	// Dest is the scanned output's mount destination ("/" for the root
	// filesystem).
	Dest string
}

// Checks returns the state holding every check's report (each Check's
// Report file), and the checks. tool is the frontend image; extra are
// files the frontend hands to BuildKit (the image config, the definition,
// the options), scanned with every secret of the plan. Checks never come
// from the cache: the secret values are not part of BuildKit's cache keys,
// so a cached report could be about other values.
func (p *Plan) Checks(tool llb.State, extra map[string][]byte) (llb.State, []Check, error) {
	var reports []llb.State
	var checks []Check
	for i := range p.Steps {
		s := &p.Steps[i]
		for _, o := range s.Outputs {
			upper, err := p.state(&pb.Input{Digest: string(s.Digest), Index: o.Index})
			if err != nil {
				return llb.State{}, nil, err
			}
			lower := llb.Scratch()
			if o.Input != nil && o.Selector == "" {
				if lower, err = p.state(o.Input); err != nil {
					return llb.State{}, nil, err
				}
			}
			name := "step-" + strconv.Itoa(len(checks)) + ".json"
			label := "check " + o.Dest
			if s.Name != "" {
				label = "check " + s.Name
			}
			reports = append(reports, checkRun(tool, s.Secrets, llb.Diff(lower, upper), name, label))
			checks = append(checks, Check{Report: name, Step: s, Dest: o.Dest})
		}
	}
	if len(p.Secrets) > 0 && len(extra) > 0 {
		in := llb.Scratch()
		for _, name := range slices.Sorted(maps.Keys(extra)) {
			in = in.File(llb.Mkfile("/"+name, 0o644, extra[name]), llb.WithCustomName("[hushbuild] what the frontend hands to BuildKit"))
		}
		name := "frontend.json"
		reports = append(reports, checkRun(tool, p.Secrets, in, name, "check the image config and build definition"))
		checks = append(checks, Check{Report: name})
	}
	switch len(reports) {
	case 0:
		return llb.Scratch(), nil, nil
	case 1:
		return reports[0], checks, nil
	}
	return llb.Merge(reports, llb.WithCustomName("[hushbuild] collect the checks' reports")), checks, nil
}

// checkRun scans in with the secrets ids mounted and returns the output
// holding the report.
func checkRun(tool llb.State, ids []string, in llb.State, report, label string) llb.State {
	args := []string{Binary, "check-tree", "--secrets", checkSecretDir}
	opts := []llb.RunOption{
		llb.AddMount(checkInputDir, in, llb.Readonly),
		llb.Network(pb.NetMode_NONE),
		llb.IgnoreCache,
		llb.WithCustomName("[hushbuild] " + label),
	}
	for i, id := range ids {
		args = append(args, "--id", id)
		opts = append(opts, llb.AddSecret(path.Join(checkSecretDir, strconv.Itoa(i)), llb.SecretID(id), llb.SecretOptional))
	}
	args = append(args, "--out", path.Join(checkOutDir, report), checkInputDir)
	opts = append(opts, llb.Args(args))
	run := tool.Run(opts...)
	return run.AddMount(checkOutDir, llb.Scratch())
}

// state is the state of one output of the plan's definition.
func (p *Plan) state(in *pb.Input) (llb.State, error) {
	def := &pb.Definition{
		Def:      append([][]byte{}, p.Def.Def[:len(p.Def.Def)-1]...),
		Metadata: p.Def.Metadata,
		Source:   p.Def.Source,
	}
	term, err := marshal(&pb.Op{Inputs: []*pb.Input{proto.Clone(in).(*pb.Input)}})
	if err != nil {
		return llb.State{}, err
	}
	def.Def = append(def.Def, term)
	op, err := llb.NewDefinitionOp(def)
	if err != nil {
		return llb.State{}, fmt.Errorf("hushfile: a step of the build graph: %w", err)
	}
	return llb.NewState(op), nil
}
