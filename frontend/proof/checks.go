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
	// Batch, when not nil, are the steps a check scans at once: each
	// under /<index>, the first element of its findings' paths.
	Batch []*Step
}

// Place returns the step and the path in its output that a finding of c
// is about.
func (c Check) Place(p string) (*Step, string) {
	if c.Batch == nil {
		return c.Step, p
	}
	first, rest, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	i, err := strconv.Atoi(first)
	if err != nil || i < 0 || i >= len(c.Batch) {
		return nil, p
	}
	return c.Batch[i], "/" + rest
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
			diff := llb.Diff(lower, upper)
			reports = append(reports, checkRun(tool, s.Secrets, &diff, name, label))
			checks = append(checks, Check{Report: name, Step: s, Dest: o.Dest})
		}
	}
	if len(p.Secrets) > 0 && len(p.Copies) > 0 {
		// Every COPY and ADD in one exec: each output's diff under
		// /<index>.
		var mounts []llb.RunOption
		var batch []*Step
		for i := range p.Copies {
			c := &p.Copies[i]
			for _, o := range c.Outputs {
				upper, err := p.state(&pb.Input{Digest: string(c.Digest), Index: o.Index})
				if err != nil {
					return llb.State{}, nil, err
				}
				lower := llb.Scratch()
				if o.Input != nil {
					if lower, err = p.state(o.Input); err != nil {
						return llb.State{}, nil, err
					}
				}
				mounts = append(mounts, llb.AddMount(path.Join(checkInputDir, strconv.Itoa(len(batch))), llb.Diff(lower, upper), llb.Readonly))
				batch = append(batch, c)
			}
		}
		name := "copies.json"
		reports = append(reports, checkRun(tool, p.Secrets, nil, name, "check what COPY and ADD brought in", mounts...))
		checks = append(checks, Check{Report: name, Batch: batch, Dest: "/"})
	}
	if len(p.Secrets) > 0 && len(extra) > 0 {
		in := llb.Scratch()
		for _, name := range slices.Sorted(maps.Keys(extra)) {
			in = in.File(llb.Mkfile("/"+name, 0o644, extra[name]), llb.WithCustomName("[hushbuild] what the frontend hands to BuildKit"))
		}
		name := "frontend.json"
		reports = append(reports, checkRun(tool, p.Secrets, &in, name, "check the image config and build definition"))
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

// checkRun scans with the secrets ids mounted and returns the output
// holding the report.
// checkRun scans checkInputDir: in mounted there, or the mounts of more
// under it (mount points inside a read-only mount cannot be made).
func checkRun(tool llb.State, ids []string, in *llb.State, report, label string, more ...llb.RunOption) llb.State {
	args := []string{Binary, "check-tree", "--secrets", checkSecretDir}
	var opts []llb.RunOption
	if in != nil {
		opts = append(opts, llb.AddMount(checkInputDir, *in, llb.Readonly))
	}
	opts = append(opts, more...)
	opts = append(opts,
		llb.Network(pb.NetMode_NONE),
		llb.IgnoreCache,
		llb.WithCustomName("[hushbuild] "+label),
	)
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
