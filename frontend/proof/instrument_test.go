package proof

import (
	"bytes"
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	"google.golang.org/protobuf/proto"
)

func marshalState(t *testing.T, st llb.State) *pb.Definition {
	t.Helper()
	def, err := st.Marshal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return def.ToPB()
}

func toolDef(t *testing.T) func() (*pb.Definition, error) {
	def := marshalState(t, llb.Image("127.0.0.1:5000/hushbuild/frontend@sha256:"+strings.Repeat("a", 64)))
	return func() (*pb.Definition, error) { return def, nil }
}

func execs(t *testing.T, def *pb.Definition) map[digest.Digest]*pb.Op {
	t.Helper()
	out := map[digest.Digest]*pb.Op{}
	for _, dt := range def.Def {
		var op pb.Op
		if err := proto.Unmarshal(dt, &op); err != nil {
			t.Fatal(err)
		}
		if op.GetExec() != nil {
			out[digest.FromBytes(dt)] = &op
		}
	}
	return out
}

func TestInstrumentLeavesCleanDefinitionsAlone(t *testing.T) {
	base := llb.Image("busybox")
	st := base.Run(llb.Shlex("sh -c 'echo hi > /x'"), llb.AddMount("/cache", llb.Scratch(), llb.AsPersistentCacheDir("c", llb.CacheMountShared))).Root()
	def := marshalState(t, st)
	plan, err := Instrument(def, func() (*pb.Definition, error) {
		t.Fatal("the frontend image was asked for a definition without secret mounts")
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Steps) != 0 {
		t.Fatalf("steps: %d, want 0", len(plan.Steps))
	}
	if !slices.EqualFunc(plan.Def.Def, def.Def, bytes.Equal) {
		t.Fatal("a definition without secrets was changed")
	}
}

func TestInstrumentWrapsSecretSteps(t *testing.T) {
	base := llb.Image("busybox")
	s1 := base.Run(
		llb.Args([]string{"/bin/sh", "-c", "npm ci"}),
		llb.AddSecret("/run/secrets/npm", llb.SecretID("NPM_TOKEN")),
		llb.AddSecret("", llb.SecretID("PYPI PASS/../x"), llb.SecretAsEnv(true), llb.SecretAsEnvName("PYPI_PASS")),
		llb.AddMount("/root/.npm", llb.Scratch(), llb.AsPersistentCacheDir("npm", llb.CacheMountShared)),
	).Root()
	// A later step without secrets, built on the first: it is renamed
	// (its input changed) and wrapped for its output only (it may print
	// what the first wrote), its cache mount left as it was.
	s2 := s1.Run(llb.Args([]string{"/bin/sh", "-c", "ls"}), llb.AddMount("/root/.cache", llb.Scratch(), llb.AsPersistentCacheDir("c", llb.CacheMountShared))).Root()
	def := marshalState(t, s2)
	plan, err := Instrument(def, toolDef(t))
	if err != nil {
		t.Fatal(err)
	}
	again, err := Instrument(def, toolDef(t))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(plan.Def.Def, again.Def.Def, bytes.Equal) {
		t.Fatal("instrumenting is not deterministic")
	}
	if len(plan.Steps) != 2 || plan.Steps[0].MaskOnly || !plan.Steps[1].MaskOnly {
		t.Fatalf("steps: %+v, want the secret step and the later one, masked only", plan.Steps)
	}
	step := plan.Steps[0]
	if want := []string{"NPM_TOKEN", "PYPI PASS/../x"}; !slices.Equal(step.Secrets, want) {
		t.Errorf("secrets: %q, want %q", step.Secrets, want)
	}
	if !slices.Equal(step.Caches, []string{"/root/.npm"}) {
		t.Errorf("caches: %q", step.Caches)
	}
	if len(step.Outputs) != 1 || step.Outputs[0].Dest != "/" || step.Outputs[0].Input == nil {
		t.Fatalf("outputs: %+v", step.Outputs)
	}

	ops := execs(t, plan.Def)
	wrapped := ops[step.Digest]
	if wrapped == nil {
		t.Fatal("the step's digest is not in the definition")
	}
	if m := plan.Def.Metadata[string(step.Digest)]; m == nil || !m.IgnoreCache {
		t.Error("a step with secrets may come from the cache (made with other values)")
	}
	ex := wrapped.GetExec()
	wantArgs := []string{"/dev/.hushbuild/bin/hushbuild-frontend", "exec", "--secrets", "/dev/.hushbuild-secrets",
		"--id", "NPM_TOKEN", "--id", "PYPI PASS/../x", "--cache", "/root/.npm", "--", "/bin/sh", "-c", "npm ci"}
	if !slices.Equal(ex.Meta.Args, wantArgs) {
		t.Errorf("args:\n got %q\nwant %q", ex.Meta.Args, wantArgs)
	}
	var tool, secrets int
	for _, m := range ex.Mounts {
		switch {
		case m.Dest == ToolDir:
			tool++
			if !m.Readonly || m.Output != int64(pb.SkipOutput) {
				t.Errorf("tool mount: %+v", m)
			}
		case strings.HasPrefix(m.Dest, StepSecretDir+"/"):
			secrets++
			if !m.SecretOpt.Optional || m.SecretOpt.Mode != 0o444 {
				t.Errorf("wrapper secret mount: %+v", m)
			}
		case m.MountType == pb.MountType_CACHE:
			if m.CacheOpt.Sharing != pb.CacheSharingOpt_LOCKED {
				t.Errorf("cache mount of a secret step is %v, want LOCKED", m.CacheOpt.Sharing)
			}
		}
	}
	if tool != 1 || secrets != 2 {
		t.Errorf("tool mounts %d, secret copies %d; want 1 and 2", tool, secrets)
	}
	// The env secret is unchanged; the user's own mounts too.
	if len(ex.Secretenv) != 1 || ex.Secretenv[0].Name != "PYPI_PASS" {
		t.Errorf("secretenv: %+v", ex.Secretenv)
	}
	// The second step points at the wrapped one, and masks its secrets
	// without scanning its cache, which it does not lock, nor ignoring
	// the cache.
	later := ops[plan.Steps[1].Digest]
	if later == nil || later.Inputs[0].Digest != string(step.Digest) {
		t.Fatal("the later step does not build on the instrumented one")
	}
	wantArgs = []string{"/dev/.hushbuild/bin/hushbuild-frontend", "exec", "--secrets", "/dev/.hushbuild-secrets",
		"--id", "NPM_TOKEN", "--id", "PYPI PASS/../x", "--", "/bin/sh", "-c", "ls"}
	if got := later.GetExec().Meta.Args; !slices.Equal(got, wantArgs) {
		t.Errorf("later step's args:\n got %q\nwant %q", got, wantArgs)
	}
	for _, m := range later.GetExec().Mounts {
		if m.MountType == pb.MountType_CACHE && m.CacheOpt.Sharing != pb.CacheSharingOpt_SHARED {
			t.Errorf("the later step's cache mount is %v, want SHARED as it was", m.CacheOpt.Sharing)
		}
	}
	if m := plan.Def.Metadata[string(plan.Steps[1].Digest)]; m != nil && m.IgnoreCache {
		t.Error("the later step, without secrets of its own, never comes from the cache")
	}
	// The result loads as LLB, and checks can be made of it.
	if _, err := llb.NewDefinitionOp(plan.Def); err != nil {
		t.Fatal(err)
	}
	st, check, ok, err := plan.Checks(llb.Image("tool"), map[string][]byte{FileImageConfig: []byte("{}")})
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	// The secret step's layer, the later step's (masked; the wrapper's
	// mount of the secrets is in it too), the frontend's files.
	if len(check.Targets) != 3 || check.Targets[0].Step == nil || check.Targets[1].Step == nil || !check.Targets[1].Step.MaskOnly || check.Targets[2].Step != nil {
		t.Fatalf("targets: %+v", check.Targets)
	}
	cdef := marshalState(t, st)
	var diffs, checkExecs int
	for _, dt := range cdef.Def {
		var op pb.Op
		if err := proto.Unmarshal(dt, &op); err != nil {
			t.Fatal(err)
		}
		if op.GetDiff() != nil {
			diffs++
		}
		if ex := op.GetExec(); ex != nil && len(ex.Meta.Args) > 1 && ex.Meta.Args[1] == "check-tree" {
			checkExecs++
			if ex.Network != pb.NetMode_NONE {
				t.Error("the check exec has network")
			}
			if m := cdef.Metadata[string(digest.FromBytes(dt))]; m == nil || !m.IgnoreCache {
				t.Error("the check exec may come from the cache")
			}
		}
	}
	if diffs != 2 || checkExecs != 1 {
		t.Errorf("diff ops %d, check execs %d; want 2 (the two steps' layers) and 1", diffs, checkExecs)
	}
}

func TestInstrumentFindsCopies(t *testing.T) {
	base := llb.Image("busybox")
	ctx := llb.Local("context")
	copied := base.File(llb.Copy(ctx, "config.yml", "/app/config.yml"))
	st := copied.Run(llb.Args([]string{"/bin/sh", "-c", "true"}), llb.AddSecret("/run/secrets/t", llb.SecretID("t"))).Root()
	plan, err := Instrument(marshalState(t, st), toolDef(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Copies) != 1 {
		t.Fatalf("copies: %d, want 1", len(plan.Copies))
	}
	c := plan.Copies[0]
	if !c.Copy || len(c.Outputs) != 1 || c.Outputs[0].Input == nil {
		t.Fatalf("copy: %+v", c)
	}
	baseDef := marshalState(t, base)
	var op pb.Op
	if err := proto.Unmarshal(baseDef.Def[len(baseDef.Def)-1], &op); err != nil {
		t.Fatal(err)
	}
	if c.Outputs[0].Input.Digest != op.Inputs[0].Digest {
		t.Errorf("the copy's diff does not start from the base image")
	}
	_, check, ok, err := plan.Checks(llb.Image("tool"), nil)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	// The secret step's diff first, then the copy's.
	if len(check.Targets) != 2 {
		t.Fatalf("targets: %+v", check.Targets)
	}
	if target, p := check.Place("/1/app/config.yml"); target.Step != &plan.Copies[0] || p != "/app/config.yml" {
		t.Errorf("Place = %v, %q", target.Step, p)
	}
	if target, _ := check.Place("/7/x"); target.Step != nil {
		t.Error("Place of an unknown index found a step")
	}
}

// TestInstrumentContextBinds: a step that bind-mounts the build context,
// all of it or a directory, gets the listed credential files under it as
// sources; a file the caller declares a credential file (secret-files)
// counts when mounted by name; other local sources bring nothing.
func TestInstrumentContextBinds(t *testing.T) {
	base := llb.Image("busybox")
	ctx := llb.Local("context")
	other := llb.Local("extra")
	opts := Options{
		IsCredential: func(p string) bool { return p == "creds.ini" || p == ".npmrc" || p == "web/.npmrc" },
		ContextFiles: []string{".npmrc", "web/.npmrc"},
	}
	tests := []struct {
		name  string
		mount llb.RunOption
		want  []string
	}{
		{"whole context", llb.AddMount("/src", ctx, llb.Readonly), []string{".npmrc (build context)", "web/.npmrc (build context)"}},
		{"a directory", llb.AddMount("/src", ctx, llb.SourcePath("/web"), llb.Readonly), []string{"web/.npmrc (build context)"}},
		{"a declared file", llb.AddMount("/etc/creds.ini", ctx, llb.SourcePath("/creds.ini"), llb.Readonly), []string{"creds.ini (build context)"}},
		{"another directory", llb.AddMount("/src", ctx, llb.SourcePath("/docs"), llb.Readonly), nil},
		{"a named context", llb.AddMount("/src", other, llb.Readonly), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := base.Run(llb.Args([]string{"/bin/sh", "-c", "true"}), tt.mount).Root()
			def := marshalState(t, st)
			plan, err := Instrument(def, toolDef(t), opts)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range plan.Steps {
				got = append(got, s.Secrets...)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("sources %q, want %q", got, tt.want)
			}
		})
	}
}

// TestInstrumentCacheOfContextBinds: a step that only bind-mounts a
// credential file of the context may come from the cache (the file's
// content is in its cache key); one with a build secret may not.
func TestInstrumentCacheOfContextBinds(t *testing.T) {
	base := llb.Image("busybox")
	ctx := llb.Local("context")
	opts := Options{ContextFiles: []string{".npmrc"}}
	for _, withSecret := range []bool{false, true} {
		runOpts := []llb.RunOption{llb.Args([]string{"/bin/sh", "-c", "npm ci"}), llb.AddMount("/app/.npmrc", ctx, llb.SourcePath("/.npmrc"), llb.Readonly)}
		if withSecret {
			runOpts = append(runOpts, llb.AddSecret("/run/secrets/t", llb.SecretID("t")))
		}
		plan, err := Instrument(marshalState(t, base.Run(runOpts...).Root()), toolDef(t), opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(plan.Steps) != 1 {
			t.Fatalf("steps: %d", len(plan.Steps))
		}
		m := plan.Def.Metadata[string(plan.Steps[0].Digest)]
		if ignored := m != nil && m.IgnoreCache; ignored != withSecret {
			t.Errorf("with a secret %v: IgnoreCache %v", withSecret, ignored)
		}
	}
}

// TestInstrumentMasksLaterStages: a RUN with no secret of its own, in a
// stage that copies from a stage with secrets, runs under the wrapper
// masking the secrets of that stage (it may print what they wrote), and
// one that bind-mounts a credential file of the context gives that file
// to the steps made from it too; a step made from neither runs as it is.
func TestInstrumentMasksLaterStages(t *testing.T) {
	ctx := llb.Local("context")
	builder := llb.Image("busybox").Run(llb.Args([]string{"/bin/sh", "-c", "sh render.sh"}), llb.AddSecret("", llb.SecretID("DB_PASSWORD"), llb.SecretAsEnv(true), llb.SecretAsEnvName("DB_PASSWORD"))).Root()
	npm := llb.Image("node").Run(llb.Args([]string{"/bin/sh", "-c", "npm ci"}), llb.AddMount("/root/.npmrc", ctx, llb.SourcePath(".npmrc"), llb.Readonly)).Root()
	final := llb.Image("alpine").File(llb.Copy(builder, "/app/config.yml", "/app/config.yml")).
		File(llb.Copy(npm, "/app/node_modules", "/app/node_modules")).
		Run(llb.Args([]string{"/bin/sh", "-c", "cat /app/config.yml"})).Root()
	other := llb.Image("alpine").Run(llb.Args([]string{"/bin/sh", "-c", "echo unrelated"})).Root()
	st := llb.Merge([]llb.State{final, other})
	opts := Options{IsCredential: func(p string) bool { return p == ".npmrc" }, ContextFiles: []string{".npmrc"}}
	plan, err := Instrument(marshalState(t, st), toolDef(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	var masked []Step
	for _, s := range plan.Steps {
		if s.MaskOnly {
			masked = append(masked, s)
		}
	}
	if len(plan.Steps) != 3 || len(masked) != 1 {
		t.Fatalf("steps: %+v, want the two with secrets and the cat, masked only", plan.Steps)
	}
	if want := []string{"DB_PASSWORD", ".npmrc (build context)"}; !slices.Equal(masked[0].Secrets, want) {
		t.Errorf("the later stage's RUN masks %q, want %q", masked[0].Secrets, want)
	}
	ops := execs(t, plan.Def)
	cat := ops[masked[0].Digest].GetExec()
	var secretCopies, contextCopies int
	for _, m := range cat.Mounts {
		if strings.HasPrefix(m.Dest, StepSecretDir+"/") {
			switch m.MountType {
			case pb.MountType_SECRET:
				secretCopies++
			case pb.MountType_BIND:
				if in := ops[masked[0].Digest].Inputs[m.Input]; in == nil || m.Selector != "/.npmrc" {
					t.Errorf("the context file's copy: %+v", m)
				}
				contextCopies++
			}
		}
	}
	if secretCopies != 1 || contextCopies != 1 {
		t.Errorf("secret copies %d, context file copies %d; want 1 and 1", secretCopies, contextCopies)
	}
	for _, op := range ops {
		if args := op.GetExec().Meta.Args; slices.Contains(args, "echo unrelated") && args[0] != "/bin/sh" {
			t.Errorf("a step made from no step with secrets is wrapped: %q", args)
		}
	}
	// The masked step's outputs are checked: the wrapper's mount of the
	// secrets is in its file system too.
	_, check, ok, err := plan.Checks(llb.Image("tool"), nil)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	maskedChecked := false
	for _, tg := range check.Targets {
		if tg.Step != nil && tg.Step.MaskOnly {
			maskedChecked = true
		}
	}
	if !maskedChecked {
		t.Error("the masked step's output is not checked")
	}
	if _, err := llb.NewDefinitionOp(plan.Def); err != nil {
		t.Fatal(err)
	}
}

// TestInstrumentMasksAfterCopies: a RUN made from a COPY of the build
// context (which may hold a file with a secret's value under any name),
// or a RUN that reads the context through a bind mount, runs masked for
// every secret of the build, even in a stage without secrets and before
// the step that gets them.
func TestInstrumentMasksAfterCopies(t *testing.T) {
	ctx := llb.Local("context")
	app := llb.Image("python").File(llb.Copy(ctx, "/", "/app/"))
	printed := app.Run(llb.Args([]string{"/bin/sh", "-c", "cat /app/config/settings.ini"})).Root()
	withSecret := printed.Run(llb.Args([]string{"/bin/sh", "-c", "pip install ."}), llb.AddSecret("", llb.SecretID("API_TOKEN"), llb.SecretAsEnv(true), llb.SecretAsEnvName("API_TOKEN"))).Root()
	reads := llb.Image("alpine").Run(llb.Args([]string{"/bin/sh", "-c", "cat /src/config/settings.ini"}), llb.AddMount("/src", ctx, llb.Readonly)).Root()
	plan, err := Instrument(marshalState(t, llb.Merge([]llb.State{withSecret, reads})), toolDef(t))
	if err != nil {
		t.Fatal(err)
	}
	masked := map[string][]string{}
	for _, s := range plan.Steps {
		if s.MaskOnly {
			args := execs(t, plan.Def)[s.Digest].GetExec().Meta.Args
			masked[args[len(args)-1]] = s.Secrets
		}
	}
	for _, cmd := range []string{"cat /app/config/settings.ini", "cat /src/config/settings.ini"} {
		if !slices.Equal(masked[cmd], []string{"API_TOKEN"}) {
			t.Errorf("%q masks %q, want API_TOKEN", cmd, masked[cmd])
		}
	}
}

// TestInstrumentKeysContentCopiesApart: a file op or exec that BuildKit
// keys by the content of an input (COPY --from of a stage built with
// secrets, RUN --mount=from=…) gets the frontend image as one more input,
// used by nothing, so that a stock build of the legacy Dockerfile never
// shares its key; the file op's references to its earlier actions and to
// the inputs it looks owners up in still point at the same things.
func TestInstrumentKeysContentCopiesApart(t *testing.T) {
	base := llb.Image("busybox")
	build := base.Run(llb.Args([]string{"/bin/sh", "-c", "npm run build"}),
		llb.AddSecret("/run/secrets/npm", llb.SecretID("NPM_TOKEN"))).Root()
	other := llb.Image("alpine")
	// Three actions: the second and third build on the first's output
	// (indexes past the inputs), the copy's owner is looked up by name in
	// the base (input 0), and the mkfile's in the first action's output.
	final := base.File(
		llb.Copy(build, "/app/dist", "/app/dist", &llb.CopyInfo{CreateDestPath: true}, llb.WithUser("node:node")).
			Mkdir("/app/logs", 0o755, llb.WithParents(true)).
			Mkfile("/app/VERSION", 0o644, []byte("1"), llb.WithUser("node")),
	)
	final = final.Run(llb.Args([]string{"/bin/sh", "-c", "true"}),
		llb.AddMount("/mnt", other, llb.Readonly)).Root()
	def := marshalState(t, final)
	orig, err := parse(def)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := Instrument(def, toolDef(t))
	if err != nil {
		t.Fatal(err)
	}
	tool, err := parse(must(t, toolDef(t)))
	if err != nil {
		t.Fatal(err)
	}
	toolHead, _ := tool.head()
	var files, execsSeen int
	for _, d := range orig.order {
		op := orig.ops[d]
		var got *pb.Op
		for _, o := range plan.Ops {
			if sameKind(o, op) {
				got = o
			}
		}
		switch {
		case op.GetFile() != nil:
			files++
			if got == nil {
				t.Fatal("the file op is missing from the plan")
			}
			if n := len(got.Inputs); n != len(op.Inputs)+1 || got.Inputs[0].Digest != toolHead.Digest {
				t.Fatalf("file op inputs: %d (first %s), want %d with the frontend image first", n, got.Inputs[0].Digest, len(op.Inputs)+1)
			}
			if want, have := resolveFileRefs(op, 0), resolveFileRefs(got, 1); !slices.Equal(want, have) {
				t.Errorf("the file op's references moved:\n have %v\n want %v", have, want)
			}
		case op.GetExec() != nil && slices.ContainsFunc(op.GetExec().Mounts, func(m *pb.Mount) bool { return m.Dest == "/mnt" }):
			execsSeen++
		}
	}
	if files != 1 || execsSeen != 1 {
		t.Fatalf("file ops %d, execs with a mount %d; want 1 and 1", files, execsSeen)
	}
	// The exec with a read-only mount from another image: keyed apart
	// too (it is wrapped for masking, the frontend image mounted).
	for _, o := range plan.Ops {
		if ex := o.GetExec(); ex != nil && slices.ContainsFunc(ex.Mounts, func(m *pb.Mount) bool { return m.Dest == "/mnt" }) {
			if !slices.ContainsFunc(o.Inputs, func(in *pb.Input) bool { return in.Digest == toolHead.Digest }) {
				t.Error("the exec with a read-only mount does not have the frontend image among its inputs")
			}
		}
	}
}

func must(t *testing.T, f func() (*pb.Definition, error)) *pb.Definition {
	t.Helper()
	def, err := f()
	if err != nil {
		t.Fatal(err)
	}
	return def
}

func sameKind(a, b *pb.Op) bool {
	if fa, fb := a.GetFile(), b.GetFile(); fa != nil && fb != nil {
		return len(fa.Actions) == len(fb.Actions)
	}
	return false
}

// resolveFileRefs names what each index of a file op's actions refers to:
// an input or an earlier action, by its position, the first skip inputs
// (added ones) not counted.
func resolveFileRefs(op *pb.Op, skip int64) []string {
	n := int64(len(op.Inputs))
	name := func(i int64) string {
		switch {
		case i < 0:
			return "none"
		case i < skip:
			return "added input"
		case i < n:
			return "input " + strconv.FormatInt(i-skip, 10)
		default:
			return "action " + strconv.FormatInt(i-n, 10)
		}
	}
	var out []string
	for _, a := range op.GetFile().Actions {
		out = append(out, name(a.Input), name(a.SecondaryInput))
		for _, r := range ownerInputs(a) {
			out = append(out, "owner "+name(*r))
		}
	}
	return out
}
