package frontend

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/subrequests/lint"
	"github.com/moby/buildkit/frontend/subrequests/outline"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"
	"github.com/sirupsen/logrus"

	"github.com/hushbuild/hushbuild/rewrite"
)

// captureLogs sends the frontend's logs to a buffer for the rest of the
// test.
func captureLogs(t *testing.T) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	logrus.SetOutput(&buf)
	t.Cleanup(func() { logrus.SetOutput(os.Stderr) })
	return &buf
}

// newCanary returns a random value standing for a secret. Tests never
// print it: they say where it was found.
func newCanary(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "hfcanary" + hex.EncodeToString(b)
}

// assertNoCanary fails when data holds the canary.
func assertNoCanary(t *testing.T, where string, data []byte, canary string) {
	t.Helper()
	if bytes.Contains(data, []byte(canary)) {
		t.Errorf("the secret value is in %s", where)
	}
}

// canaryInResult returns where a subrequest's result metadata holds the
// canary. JSON results hold sources as base64, so every string of them is
// also decoded and searched.
func canaryInResult(md map[string][]byte, canary string) []string {
	var found []string
	for k, v := range md {
		if bytes.Contains(v, []byte(canary)) {
			found = append(found, k)
		}
		var doc any
		if json.Unmarshal(v, &doc) != nil {
			continue
		}
		var walk func(any)
		walk = func(x any) {
			switch x := x.(type) {
			case map[string]any:
				for _, e := range x {
					walk(e)
				}
			case []any:
				for _, e := range x {
					walk(e)
				}
			case string:
				if dt, err := base64.StdEncoding.DecodeString(x); err == nil && bytes.Contains(dt, []byte(canary)) {
					found = append(found, k+" (base64)")
				}
			}
		}
		walk(doc)
	}
	return found
}

func assertNoCanaryInResult(t *testing.T, where string, md map[string][]byte, canary string) {
	t.Helper()
	for _, k := range canaryInResult(md, canary) {
		t.Errorf("the secret value is in %s %s", where, k)
	}
}

// testDockerfile has a secret ARG default that would reach the RUN's
// environment (and so the LLB) if the original text were converted, a
// `# syntax=` line that stock BuildKit would forward on, and two stages.
func testDockerfile(canary string) []byte {
	return []byte(strings.Join([]string{
		"# syntax=docker/dockerfile:1",
		"FROM scratch AS base",
		"ARG TOKEN=" + canary,
		"COPY . /app",
		`RUN echo "$TOKEN"`,
		"FROM base AS final",
		"RUN echo done",
		"",
	}, "\n"))
}

// stubEngine stands in for rewrite.Rewrite: it turns the secret ARG of
// testDockerfile into a secret mount, keeping every instruction on its
// line, and reports it the way the engine does.
type stubEngine struct {
	canary   string
	findings []rewrite.Finding // extra findings to report

	mu      sync.Mutex
	calls   int
	sawOrig bool
	cfgs    []rewrite.Config
}

func (e *stubEngine) rewrite(src []byte, cfg rewrite.Config) (*rewrite.Result, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls++
	e.cfgs = append(e.cfgs, cfg)
	if bytes.Contains(src, []byte(e.canary)) {
		e.sawOrig = true
	}
	out := bytes.ReplaceAll(src, []byte("ARG TOKEN="+e.canary), []byte("ARG TOKEN"))
	out = bytes.ReplaceAll(out, []byte(`RUN echo "$TOKEN"`), []byte(`RUN --mount=type=secret,id=TOKEN,env=TOKEN,required=true echo "$TOKEN"`))
	res := &rewrite.Result{
		Output:  out,
		Changed: !bytes.Equal(src, out),
		Findings: append([]rewrite.Finding{{
			Rule:     rewrite.RuleSecretArg.Name,
			Severity: rewrite.SeverityWarning,
			Range:    rewrite.Range{Start: 3, End: 3},
			Message:  "ARG TOKEN holds a secret",
			Fix:      "RUN --mount=type=secret,id=TOKEN,env=TOKEN on line 5",
			Fixed:    true,
		}}, e.findings...),
		Requirements: []rewrite.Requirement{{
			Kind: rewrite.SecretEnv, ID: "TOKEN", Env: "TOKEN", Required: true,
			Flag: "--secret id=TOKEN,env=TOKEN", Lines: []int{5},
		}},
	}
	return res, nil
}

// identityEngine returns its input: the positive control, with which the
// original text is what gets converted.
func identityEngine(src []byte, cfg rewrite.Config) (*rewrite.Result, error) {
	return &rewrite.Result{Output: bytes.Clone(src)}, nil
}

// contextKinds are the ways a Dockerfile reaches a frontend. Each sets up
// a fake client serving dt.
var contextKinds = []struct {
	name  string
	setup func(c *fakeClient, dt []byte)
}{
	{"local", func(c *fakeClient, dt []byte) {
		c.files["local://dockerfile"] = map[string][]byte{"Dockerfile": dt}
	}},
	{"filename option", func(c *fakeClient, dt []byte) {
		c.opts["filename"] = "build/app.Dockerfile"
		c.files["local://dockerfile"] = map[string][]byte{"build/app.Dockerfile": dt}
	}},
	{"dockerfilekey", func(c *fakeClient, dt []byte) {
		c.opts["dockerfilekey"] = "df2"
		c.files["local://df2"] = map[string][]byte{"Dockerfile": dt}
		// dockerui ignores inputs when dockerfilekey is set
		c.inputs["dockerfile"] = llb.Local("decoy")
	}},
	{"frontend input", func(c *fakeClient, dt []byte) {
		c.inputs["dockerfile"] = llb.Local("input-dockerfile")
		c.files["local://input-dockerfile"] = map[string][]byte{"Dockerfile": dt}
	}},
	{"frontend input made with mkfile", func(c *fakeClient, dt []byte) {
		c.inputs["dockerfile"] = llb.Scratch().File(llb.Mkfile("/Dockerfile", 0o644, dt))
	}},
	{"git context", func(c *fakeClient, dt []byte) {
		c.opts["context"] = "https://github.com/example/app.git#main"
		c.files["git://github.com/example/app.git#main"] = map[string][]byte{"Dockerfile": dt}
	}},
	{"git context sent as frontend inputs", func(c *fakeClient, dt []byte) {
		// what buildx sends for a git URL with a query string
		st := llb.Git("https://github.com/example/app.git", "main")
		c.inputs["context"] = st
		c.inputs["dockerfile"] = st
		c.opts["input:context"] = "https://github.com/example/app.git?ref=main"
		c.files["git://github.com/example/app.git#main"] = map[string][]byte{"Dockerfile": dt}
	}},
	{"dockerfile from stdin or inline (buildx)", func(c *fakeClient, dt []byte) {
		c.opts["dockerfilekey"] = "dockerfile"
		c.opts["context"] = "https://github.com/example/app.git#main"
		c.files["local://dockerfile"] = map[string][]byte{"Dockerfile": dt}
		c.files["git://github.com/example/app.git#main"] = map[string][]byte{"Dockerfile": []byte("FROM scratch\n")}
	}},
	{"http context", func(c *fakeClient, dt []byte) {
		c.opts["context"] = "https://example.com/app/Dockerfile"
		c.files["https://example.com/app/Dockerfile"] = map[string][]byte{"context": dt}
	}},
	{"multi-platform, BUILDKIT_SYNTAX, named context", func(c *fakeClient, dt []byte) {
		c.opts["platform"] = "linux/amd64,linux/arm64"
		c.opts[keySyntaxArg] = "docker/dockerfile:1"
		c.opts["context:base"] = "docker-image://busybox:latest"
		c.files["local://dockerfile"] = map[string][]byte{"Dockerfile": dt}
	}},
}

// inputOps are the LLB ops of the frontend inputs the client itself
// supplies: they hold the original by construction (a Dockerfile made with
// mkfile) and are not the frontend's output.
func inputOps(t *testing.T, c *fakeClient) map[string]bool {
	out := map[string]bool{}
	for _, st := range c.inputs {
		def, err := st.Marshal(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, dt := range def.Def {
			out[string(dt)] = true
		}
	}
	return out
}

// isInput reports whether d only solves the client's own inputs.
func isInput(d *pb.Definition, ops map[string]bool) bool {
	for _, dt := range d.Def {
		if !ops[string(dt)] {
			return false
		}
	}
	return len(d.Def) > 0
}

// assertSolvesClean checks every definition the frontend solved, apart from
// the client's own inputs.
func assertSolvesClean(t *testing.T, c *fakeClient, where, canary string) {
	t.Helper()
	ops := inputOps(t, c)
	for i, d := range c.solved {
		if isInput(d, ops) {
			continue
		}
		assertNoCanary(t, fmt.Sprintf("%s: solved definition %d", where, i), marshalDef(t, d), canary)
	}
}

func marshalDef(t *testing.T, def *pb.Definition) []byte {
	t.Helper()
	dt, err := def.MarshalVT()
	if err != nil {
		t.Fatal(err)
	}
	return dt
}

// buildDefinitions are the solved definitions that carry the Dockerfile's
// source map: the conversions of the Dockerfile.
func buildDefinitions(c *fakeClient) []*pb.Definition {
	var out []*pb.Definition
	for _, d := range c.solved {
		// The build-time checks' solve reaches the build's steps too; it
		// is not a conversion.
		if len(checkReports(d)) > 0 {
			continue
		}
		if d.Source != nil && len(d.Source.Infos) > 0 {
			out = append(out, d)
		}
	}
	return out
}

// TestBuildConvertsOnlyTheRewrittenText builds testDockerfile through every
// kind of context and checks that what reaches BuildKit (solved
// definitions, their source maps, warnings, the result's metadata) comes
// from the rewritten text and never holds the secret of the original.
func TestBuildConvertsOnlyTheRewrittenText(t *testing.T) {
	for _, kind := range contextKinds {
		t.Run(kind.name, func(t *testing.T) {
			canary := newCanary(t)
			orig := testDockerfile(canary)
			engine := &stubEngine{canary: canary}
			want, _ := engine.rewrite(orig, rewrite.Config{})
			engine.calls, engine.cfgs = 0, nil

			c := newFakeClient(nil)
			kind.setup(c, orig)
			logs := captureLogs(t)
			res, err := build(context.Background(), c, engine.rewrite)
			if err != nil {
				t.Fatalf("build: %v", err)
			}
			assertNoCanary(t, "the logs", logs.Bytes(), canary)
			if !strings.Contains(logs.String(), "findings=1 [SecretArg=1]") {
				t.Errorf("no summary in the logs")
			}
			if engine.calls != 1 || !engine.sawOrig {
				t.Fatalf("engine called %d times, saw the original: %t", engine.calls, engine.sawOrig)
			}
			if len(c.forwarded) > 0 {
				t.Fatalf("the build was forwarded to %s", c.forwarded[0].Frontend)
			}
			if len(c.unknown) > 0 {
				t.Logf("sources without files: %q", c.unknown)
			}

			builds := buildDefinitions(c)
			wantBuilds := 1
			if c.opts["platform"] != "" {
				wantBuilds = 2
			}
			if len(builds) != wantBuilds {
				t.Fatalf("%d conversions solved, want %d", len(builds), wantBuilds)
			}
			assertSolvesClean(t, c, kind.name, canary)
			for _, d := range builds {
				for _, info := range d.Source.Infos {
					if !bytes.Equal(info.Data, want.Output) {
						t.Errorf("source map of %s is not the rewritten text", info.Filename)
					}
				}
			}
			assertNoCanaryInResult(t, "result metadata", res.Metadata, canary)
			checkWarnings(t, c, want.Output, canary)
		})
	}
}

// checkWarnings checks that every warning points into the rewritten text
// and that the engine's finding was reported under its line.
func checkWarnings(t *testing.T, c *fakeClient, rewritten []byte, canary string) {
	t.Helper()
	var found bool
	for _, w := range c.warnings {
		assertNoCanary(t, "warning "+w.msg, []byte(w.msg), canary)
		for _, d := range w.opts.Detail {
			assertNoCanary(t, "warning detail", d, canary)
		}
		if w.opts.SourceInfo == nil || !bytes.Equal(w.opts.SourceInfo.Data, rewritten) {
			t.Errorf("warning %q does not point into the rewritten text", w.msg)
		}
		if w.opts.SourceInfo != nil {
			assertNoCanary(t, "warning source definition", marshalDef(t, w.opts.SourceInfo.Definition), canary)
		}
		if strings.HasPrefix(w.msg, "SecretArg: ") {
			found = true
			if w.msg != "SecretArg: ARG TOKEN holds a secret (fixed: RUN --mount=type=secret,id=TOKEN,env=TOKEN on line 5) (line 3)" {
				t.Errorf("warning = %q", w.msg)
			}
			if w.opts.URL != rewrite.RuleSecretArg.DocsURL() {
				t.Errorf("warning URL = %q", w.opts.URL)
			}
			if len(w.opts.Range) != 1 || w.opts.Range[0].Start.Line != 3 || w.opts.Range[0].End.Line != 3 {
				t.Errorf("warning range = %v", w.opts.Range)
			}
			if w.vertex == "" {
				t.Errorf("warning is attached to no vertex")
			}
		}
	}
	if !found {
		t.Errorf("no SecretArg warning among %d warnings", len(c.warnings))
	}
}

// TestBuildPositiveControl converts the original text (an engine that
// changes nothing) and checks that the searches above do find the secret:
// they would catch the original reaching BuildKit.
func TestBuildPositiveControl(t *testing.T) {
	canary := newCanary(t)
	c := newFakeClient(nil)
	c.files["local://dockerfile"] = map[string][]byte{"Dockerfile": testDockerfile(canary)}
	if _, err := build(context.Background(), c, identityEngine); err != nil {
		t.Fatal(err)
	}
	builds := buildDefinitions(c)
	if len(builds) != 1 {
		t.Fatalf("%d conversions", len(builds))
	}
	dt := marshalDef(t, builds[0])
	if !bytes.Contains(dt, []byte(canary)) {
		t.Fatal("the control build does not hold the secret: the search proves nothing")
	}

	for _, req := range []string{"frontend.outline", "frontend.lint", "frontend.targets"} {
		c := newFakeClient(map[string]string{"requestid": req})
		c.files["local://dockerfile"] = map[string][]byte{"Dockerfile": testDockerfile(canary)}
		res, err := build(context.Background(), c, identityEngine)
		if err != nil {
			t.Fatal(err)
		}
		if len(canaryInResult(res.Metadata, canary)) == 0 {
			t.Errorf("the control %s result does not hold the secret: the search proves nothing", req)
		}
	}
}

// TestSubrequestsUseTheRewrittenText runs --call=outline, targets, check
// and --print (convertllb) and checks their results.
func TestSubrequestsUseTheRewrittenText(t *testing.T) {
	for _, req := range []string{"frontend.outline", "frontend.targets", "frontend.lint", "frontend.convertllb", "frontend.subrequests.describe"} {
		t.Run(req, func(t *testing.T) {
			for _, kind := range contextKinds {
				canary := newCanary(t)
				orig := testDockerfile(canary)
				engine := &stubEngine{canary: canary}
				c := newFakeClient(map[string]string{"requestid": req})
				kind.setup(c, orig)
				res, err := build(context.Background(), c, engine.rewrite)
				if err != nil {
					t.Fatalf("%s: %v", kind.name, err)
				}
				if len(c.forwarded) > 0 {
					t.Fatalf("%s: forwarded", kind.name)
				}
				assertNoCanaryInResult(t, kind.name+": result", res.Metadata, canary)
				assertSolvesClean(t, c, kind.name, canary)
				if kind.name == "local" {
					checkSubrequestResult(t, req, res.Metadata["result.json"])
				}
			}
		})
	}
}

func checkSubrequestResult(t *testing.T, req string, dt []byte) {
	t.Helper()
	switch req {
	case "frontend.outline":
		var o outline.Outline
		if err := json.Unmarshal(dt, &o); err != nil {
			t.Fatal(err)
		}
		if len(o.Secrets) != 1 || o.Secrets[0].Name != "TOKEN" || !o.Secrets[0].Required {
			t.Fatalf("outline secrets = %+v", o.Secrets)
		}
		loc := o.Secrets[0].Location
		if loc == nil || len(loc.Ranges) == 0 || loc.Ranges[0].Start.Line != 5 {
			t.Errorf("outline secret location = %v, want line 5", loc)
		}
		if len(o.Sources) != 1 || !bytes.Contains(o.Sources[0], []byte("--mount=type=secret,id=TOKEN")) {
			t.Errorf("outline source is not the rewritten text")
		}
	case "frontend.lint":
		var r lint.LintResults
		if err := json.Unmarshal(dt, &r); err != nil {
			t.Fatal(err)
		}
		var found bool
		for _, w := range r.Warnings {
			if w.RuleName != rewrite.RuleSecretArg.Name {
				continue
			}
			found = true
			if w.URL != rewrite.RuleSecretArg.DocsURL() || w.Description != rewrite.RuleSecretArg.Description {
				t.Errorf("check warning = %+v", w)
			}
			if w.Location == nil || len(w.Location.Ranges) == 0 || w.Location.Ranges[0].Start.Line != 3 {
				t.Errorf("check warning location = %v", w.Location)
			} else if src := r.Sources[w.Location.SourceIndex]; !bytes.Contains(src.Data, []byte("--mount=type=secret,id=TOKEN")) {
				t.Errorf("check warning source is not the rewritten text")
			}
		}
		if !found {
			t.Errorf("no SecretArg among %d check warnings", len(r.Warnings))
		}
		if r.Error != nil {
			t.Errorf("check error: %s", r.Error.Message)
		}
	}
}

// TestSecretBuildArgStopsTheBuild passes a secret as --build-arg, for a
// build and for each subrequest: the frontend fails before converting
// anything, names the flag to use, and the value is nowhere.
func TestSecretBuildArgStopsTheBuild(t *testing.T) {
	cases := []struct {
		name, arg, want string
		wantLine        int
	}{
		{"rewritten ARG", "TOKEN", "build-arg TOKEN is a secret (line 3: ARG TOKEN): pass it with --secret id=TOKEN,env=TOKEN instead of --build-arg", 3},
		{"secret name not in the Dockerfile", "NPM_TOKEN", "build-arg NPM_TOKEN is a secret: pass it with --secret id=NPM_TOKEN,env=NPM_TOKEN instead of --build-arg", 0},
		{"name made secret by HUSHBUILD", "INTERNAL_URL", "build-arg INTERNAL_URL is a secret: pass it with --secret id=INTERNAL_URL,env=INTERNAL_URL instead of --build-arg", 0},
	}
	for _, tc := range cases {
		for _, req := range []string{"", "frontend.outline", "frontend.targets", "frontend.lint", "frontend.convertllb"} {
			t.Run(tc.name+" "+req, func(t *testing.T) {
				canary := newCanary(t)
				value := newCanary(t)
				engine := &stubEngine{canary: canary}
				c := newFakeClient(map[string]string{
					"build-arg:" + tc.arg: value,
					keyConfigArg:          "secrets=INTERNAL_URL",
				})
				if req != "" {
					c.opts["requestid"] = req
				}
				c.files["local://dockerfile"] = map[string][]byte{"Dockerfile": testDockerfile(canary)}
				logs := captureLogs(t)
				_, err := build(context.Background(), c, engine.rewrite)
				if err == nil {
					t.Fatal("build passed")
				}
				assertNoCanary(t, "the logs", logs.Bytes(), value)
				assertNoCanary(t, "the logs", logs.Bytes(), canary)
				if !IsSecretBuildArg(err) {
					t.Errorf("not a secret build-arg error")
				}
				if err.Error() != tc.want {
					t.Errorf("error = %q\nwant    %q", err.Error(), tc.want)
				}
				assertNoCanary(t, "the error", []byte(fmt.Sprintf("%+v", err)), value)
				for _, s := range errdefs.Sources(err) {
					assertNoCanary(t, "the error's source", []byte(s.Info.String()), value)
					assertNoCanary(t, "the error's source", s.Info.Data, canary)
					if tc.wantLine != 0 && (len(s.Ranges) == 0 || s.Ranges[0].Start.Line != int32(tc.wantLine)) {
						t.Errorf("error source ranges = %v", s.Ranges)
					}
				}
				if tc.wantLine != 0 && len(errdefs.Sources(err)) == 0 {
					t.Errorf("error carries no source")
				}
				if n := len(buildDefinitions(c)); n != 0 {
					t.Errorf("%d conversions were solved", n)
				}
				for _, w := range c.warnings {
					assertNoCanary(t, "a warning", []byte(w.msg), value)
				}
			})
		}
	}
}

// TestUnsafeDockerfileIsNotBuilt makes the engine report an error finding:
// the build and every subrequest but the check fail with the findings; the
// check reports them.
func TestUnsafeDockerfileIsNotBuilt(t *testing.T) {
	bad := rewrite.Finding{
		Rule:     rewrite.RuleHardcodedSecret.Name,
		Severity: rewrite.SeverityError,
		Range:    rewrite.Range{Start: 4, End: 4},
		Message:  "COPY copies a credential written in the Dockerfile",
		Fix:      "move the credential to a build secret",
	}
	for _, req := range []string{"", "frontend.outline", "frontend.targets", "frontend.convertllb", "frontend.lint"} {
		t.Run(req, func(t *testing.T) {
			canary := newCanary(t)
			engine := &stubEngine{canary: canary, findings: []rewrite.Finding{bad}}
			c := newFakeClient(nil)
			if req != "" {
				c.opts["requestid"] = req
			}
			c.files["local://dockerfile"] = map[string][]byte{"Dockerfile": testDockerfile(canary)}
			res, err := build(context.Background(), c, engine.rewrite)
			if req == "frontend.lint" {
				if err != nil {
					t.Fatal(err)
				}
				var r lint.LintResults
				if err := json.Unmarshal(res.Metadata["result.json"], &r); err != nil {
					t.Fatal(err)
				}
				if r.Error == nil || !strings.Contains(r.Error.Message, "line 4: [HardcodedSecret]") {
					t.Fatalf("check error = %+v", r.Error)
				}
				if len(r.Error.Location.Ranges) == 0 || r.Error.Location.Ranges[0].Start.Line != 4 {
					t.Errorf("check error location = %v", &r.Error.Location)
				}
				var n int
				for _, w := range r.Warnings {
					if w.RuleName == rewrite.RuleHardcodedSecret.Name {
						n++
					}
				}
				if n != 1 {
					t.Errorf("%d HardcodedSecret check warnings", n)
				}
				return
			}
			if err == nil {
				t.Fatal("build passed")
			}
			want := "hushbuild: this Dockerfile cannot be built without leaking a secret:\nline 4: [HardcodedSecret] COPY copies a credential written in the Dockerfile (fix: move the credential to a build secret)"
			if err.Error() != want {
				t.Errorf("error = %q", err.Error())
			}
			var re *rewrite.Error
			if !errors.As(err, &re) {
				t.Errorf("error does not wrap *rewrite.Error")
			}
			srcs := errdefs.Sources(err)
			if len(srcs) != 1 || len(srcs[0].Ranges) != 1 || srcs[0].Ranges[0].Start.Line != 4 {
				t.Errorf("error sources = %v", srcs)
			}
			for _, s := range srcs {
				assertNoCanary(t, "the error's source", s.Info.Data, canary)
			}
			if n := len(buildDefinitions(c)); n != 0 {
				t.Errorf("%d conversions were solved", n)
			}
		})
	}
}

// TestConfigReachesTheEngine checks that HUSHBUILD and --target reach the
// engine, and that HUSHBUILD does not reach the Dockerfile's conversion.
func TestConfigReachesTheEngine(t *testing.T) {
	canary := newCanary(t)
	engine := &stubEngine{canary: canary}
	c := newFakeClient(map[string]string{
		keyConfigArg: "secrets=SENTRY_DSN;optional=true",
		"target":     "base",
	})
	dt := append(testDockerfile(canary), []byte("ARG HUSHBUILD\nRUN echo \"$HUSHBUILD\" >/cfg\n")...)
	c.files["local://dockerfile"] = map[string][]byte{"Dockerfile": dt}
	if _, err := build(context.Background(), c, engine.rewrite); err != nil {
		t.Fatal(err)
	}
	if len(engine.cfgs) != 1 {
		t.Fatalf("engine called %d times", len(engine.cfgs))
	}
	got := engine.cfgs[0]
	if got.Target != "base" || !got.Optional || len(got.Secrets) != 1 || got.Secrets[0] != "SENTRY_DSN" {
		t.Errorf("engine config = %q", got.String())
	}

	// the last stage uses HUSHBUILD: build it and look for the value
	c = newFakeClient(map[string]string{keyConfigArg: "secrets=SENTRY_DSN"})
	c.files["local://dockerfile"] = map[string][]byte{"Dockerfile": dt}
	if _, err := build(context.Background(), c, engine.rewrite); err != nil {
		t.Fatal(err)
	}
	for _, d := range buildDefinitions(c) {
		if bytes.Contains(marshalDef(t, d), []byte("SENTRY_DSN")) {
			t.Errorf("the HUSHBUILD build-arg reached the conversion")
		}
	}
}

// TestUnsupportedCapabilityIsNotForwarded asks for a capability BuildKit's
// builder would forward to another frontend for.
func TestUnsupportedCapabilityIsNotForwarded(t *testing.T) {
	canary := newCanary(t)
	c := newFakeClient(map[string]string{"frontend.caps": "moby.buildkit.frontend.inputs,moby.buildkit.frontend.future+forward"})
	c.files["local://dockerfile"] = map[string][]byte{"Dockerfile": testDockerfile(canary)}
	_, err := build(context.Background(), c, (&stubEngine{canary: canary}).rewrite)
	if err == nil || !strings.Contains(err.Error(), "moby.buildkit.frontend.future") {
		t.Fatalf("err = %v", err)
	}
	if len(c.forwarded) != 0 || len(c.solved) != 0 {
		t.Errorf("forwarded %d, solved %d", len(c.forwarded), len(c.solved))
	}
}

// TestUnsafeDockerfileShowsNoText has the engine keep a credential it cannot
// remove (a literal written in the Dockerfile) and report it: the build
// stops, and neither the error, the warnings nor the check result show the
// text that holds it.
func TestUnsafeDockerfileShowsNoText(t *testing.T) {
	for _, req := range []string{"", "frontend.lint", "frontend.outline"} {
		t.Run(req, func(t *testing.T) {
			canary := newCanary(t)
			literal := newCanary(t)
			engine := &stubEngine{canary: canary, findings: []rewrite.Finding{{
				Rule:     rewrite.RuleHardcodedSecret.Name,
				Severity: rewrite.SeverityError,
				Range:    rewrite.Range{Start: 8, End: 8},
				Message:  "ENV PASSWORD has a literal secret value",
				Fix:      "remove it and rotate it",
			}}}
			c := newFakeClient(nil)
			if req != "" {
				c.opts["requestid"] = req
			}
			dt := append(testDockerfile(canary), []byte("ENV PASSWORD="+literal+"\n")...)
			c.files["local://dockerfile"] = map[string][]byte{"Dockerfile": dt}
			res, err := build(context.Background(), c, engine.rewrite)
			if req == "frontend.lint" {
				if err != nil {
					t.Fatal(err)
				}
				assertNoCanaryInResult(t, "check result", res.Metadata, literal)
				if !strings.Contains(string(res.Metadata["result.txt"]), "HardcodedSecret") {
					t.Errorf("the check does not report the finding:\n%s", res.Metadata["result.txt"])
				}
			} else {
				if err == nil {
					t.Fatal("build passed")
				}
				assertNoCanary(t, "the error", []byte(fmt.Sprintf("%+v", err)), literal)
				for _, s := range errdefs.Sources(err) {
					assertNoCanary(t, "the error's source", s.Info.Data, literal)
					assertNoCanary(t, "the error's source definition", marshalDef(t, s.Info.Definition), literal)
				}
			}
			for _, w := range c.warnings {
				assertNoCanary(t, "a warning", []byte(w.msg), literal)
				if w.opts.SourceInfo != nil {
					assertNoCanary(t, "a warning's source", w.opts.SourceInfo.Data, literal)
					assertNoCanary(t, "a warning's source definition", marshalDef(t, w.opts.SourceInfo.Definition), literal)
				}
			}
			if n := len(buildDefinitions(c)); n != 0 {
				t.Errorf("%d conversions", n)
			}
		})
	}
}

// TestEveryErrorCarriesASource checks errors from every stage of a build.
// BuildKit's own frontend, which forwards `# syntax=` builds here, attaches
// the original Dockerfile to an error that carries no source, so each must
// carry one, and none may hold the original's secret.
func TestEveryErrorCarriesASource(t *testing.T) {
	canary := newCanary(t)
	cases := []struct {
		name  string
		setup func(c *fakeClient)
		rw    rewriteFunc
	}{
		{"unsupported capability", func(c *fakeClient) { c.opts["frontend.caps"] = "moby.buildkit.frontend.future" }, nil},
		{"bad HUSHBUILD", func(c *fakeClient) { c.opts[keyConfigArg] = "nonsense" }, nil},
		{"no Dockerfile", func(c *fakeClient) { delete(c.files, "local://dockerfile") }, nil},
		{"parse error", nil, func([]byte, rewrite.Config) (*rewrite.Result, error) {
			return nil, errString("dockerfile parse error on line 3: unknown instruction: ARGG")
		}},
		{"engine panic", nil, func([]byte, rewrite.Config) (*rewrite.Result, error) { panic("boom") }},
		{"undeclared secret build-arg", func(c *fakeClient) { c.opts["build-arg:NPM_TOKEN"] = "x" }, nil},
		{"conversion error", func(c *fakeClient) { c.opts["target"] = "nosuchstage" }, nil},
		{"unknown subrequest", func(c *fakeClient) { c.opts["requestid"] = "frontend.nosuch" }, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newFakeClient(nil)
			c.files["local://dockerfile"] = map[string][]byte{"Dockerfile": testDockerfile(canary)}
			if tc.setup != nil {
				tc.setup(c)
			}
			rw := tc.rw
			if rw == nil {
				rw = (&stubEngine{canary: canary}).rewrite
			}
			_, err := build(context.Background(), c, rw)
			if err == nil {
				t.Fatal("build passed")
			}
			srcs := errdefs.Sources(err)
			if len(srcs) == 0 {
				t.Fatalf("error without a source: %v", err)
			}
			for _, s := range srcs {
				assertNoCanary(t, "the error's source", s.Info.Data, canary)
				if s.Info.Definition != nil {
					assertNoCanary(t, "the error's source definition", marshalDef(t, s.Info.Definition), canary)
				}
			}
			assertNoCanary(t, "the error", []byte(fmt.Sprintf("%+v", err)), canary)
		})
	}
}
