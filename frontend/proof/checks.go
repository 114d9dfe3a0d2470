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

// Paths inside the check exec, whose root is the frontend image.
const (
	checkSecretDir = "/secrets"
	checkInputDir  = "/in"
	checkOutDir    = "/out"
	// ReportFile is the check's report in the state Checks returns.
	ReportFile = "report.json"
)

// Check is the scan the build runs: what it scans, each target under
// /<index> of its input, the first element of its findings' paths.
type Check struct {
	Targets []Target
}

// Target is one thing the check scans.
type Target struct {
	// Step is the step whose output is scanned (an instrumented exec, or
	// a COPY/ADD), or nil for the files the frontend hands to BuildKit.
	Step *Step
	// Dest is the scanned output's mount destination ("/" for the root
	// filesystem).
	Dest string
}

// Place returns the target a finding's path is about, and the path inside
// it.
func (c Check) Place(p string) (Target, string) {
	first, rest, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	i, err := strconv.Atoi(first)
	if err != nil || i < 0 || i >= len(c.Targets) {
		return Target{}, p
	}
	return c.Targets[i], "/" + rest
}

// Checks returns the state holding the check's report (ReportFile), and
// the check; ok is false when there is nothing to check. One exec of tool
// (the frontend image), with every source of the plan, scans at once:
//   - what each instrumented step changed (the diff of its input and its
//     output);
//   - what each COPY and ADD brought in (the same diff);
//   - extra, the files the frontend hands to BuildKit (the image config,
//     the definition, the options).
//
// Each target is scanned with every source, a superset of its own. The
// check never comes from the cache: secret values are not part of
// BuildKit's cache keys, so a cached report could be about other values.
func (p *Plan) Checks(tool llb.State, extra map[string][]byte) (llb.State, *Check, bool, error) {
	if len(p.Sources) == 0 {
		return llb.Scratch(), nil, false, nil
	}
	check := &Check{}
	var mounts []llb.RunOption
	add := func(st llb.State, t Target) {
		dest := path.Join(checkInputDir, strconv.Itoa(len(check.Targets)))
		mounts = append(mounts, llb.AddMount(dest, st, llb.Readonly))
		check.Targets = append(check.Targets, t)
	}
	for _, steps := range [][]Step{p.Steps, p.Copies} {
		for i := range steps {
			s := &steps[i]
			for _, o := range s.Outputs {
				upper, err := p.state(&pb.Input{Digest: string(s.Digest), Index: o.Index})
				if err != nil {
					return llb.State{}, nil, false, err
				}
				lower := llb.Scratch()
				if o.Input != nil && o.Selector == "" {
					if lower, err = p.state(o.Input); err != nil {
						return llb.State{}, nil, false, err
					}
				}
				add(llb.Diff(lower, upper), Target{Step: s, Dest: o.Dest})
			}
		}
	}
	if len(extra) > 0 {
		in := llb.Scratch()
		for _, name := range slices.Sorted(maps.Keys(extra)) {
			in = in.File(llb.Mkfile("/"+name, 0o644, extra[name]), llb.WithCustomName("[hushbuild] what the frontend hands to BuildKit"))
		}
		add(in, Target{})
	}

	args := []string{Binary, "check-tree", "--secrets", checkSecretDir}
	opts := append(mounts,
		llb.Network(pb.NetMode_NONE),
		llb.IgnoreCache,
		llb.WithCustomName(fmt.Sprintf("[hushbuild] check %d steps and the image config for the build's secrets", len(check.Targets))),
	)
	for i, src := range p.Sources {
		args = append(args, "--id", src.ID)
		if src.FieldsOnly {
			args = append(args, "--fields-only", src.ID)
		}
		dest := path.Join(checkSecretDir, strconv.Itoa(i))
		if src.Secret != "" {
			opts = append(opts, llb.AddSecret(dest, llb.SecretID(src.Secret), llb.SecretOptional))
			continue
		}
		var st llb.State
		if src.State != nil {
			st = *src.State
		} else {
			var err error
			if st, err = p.state(src.Input); err != nil {
				return llb.State{}, nil, false, err
			}
		}
		opts = append(opts, llb.AddMount(dest, st, llb.SourcePath(src.Selector), llb.Readonly))
	}
	args = append(args, "--out", path.Join(checkOutDir, ReportFile), checkInputDir)
	opts = append(opts, llb.Args(args))
	// The values' fingerprints: two builds with other values never share
	// the check (BuildKit would run it once for both).
	var fps []string
	for _, src := range p.Sources {
		if fp := p.Fingerprints[src.Secret]; src.Secret != "" && fp != "" {
			fps = append(fps, src.Secret+"="+fp)
		}
	}
	if len(fps) > 0 {
		opts = append(opts, llb.AddEnv("HUSHBUILD_FINGERPRINTS", strings.Join(fps, " ")))
	}
	run := tool.Run(opts...)
	return run.AddMount(checkOutDir, llb.Scratch()), check, true, nil
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
		return llb.State{}, fmt.Errorf("hushbuild: a step of the build graph: %w", err)
	}
	return llb.NewState(op), nil
}
