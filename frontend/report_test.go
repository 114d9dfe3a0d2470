package frontend

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/frontend/subrequests/lint"

	"github.com/hushbuild/hushbuild/rewrite"
)

// testDF is a prepared Dockerfile with the given findings and
// requirements.
func testDF(t *testing.T, findings []rewrite.Finding, reqs []rewrite.Requirement) *dockerfile {
	t.Helper()
	dt := []byte("FROM scratch\nARG PYPI_PASS\nRUN --mount=type=secret,id=PYPI_PASS,env=PYPI_PASS pip install x\n")
	rw := func([]byte, rewrite.Config) (*rewrite.Result, error) {
		return &rewrite.Result{Output: dt, Findings: findings, Requirements: reqs}, nil
	}
	df, err := prepare(context.Background(), loadedSourceMap(t, llb.Local("dockerfile"), "Dockerfile", dt), rewrite.Config{}, rw)
	if err != nil {
		t.Fatal(err)
	}
	return df
}

func TestCheckBuildArgs(t *testing.T) {
	reqs := []rewrite.Requirement{
		{Kind: rewrite.SecretEnv, ID: "pypi", Env: "PYPI_PASS", Flag: "--secret id=pypi,env=PYPI_PASS", Required: true},
		{Kind: rewrite.SecretFile, ID: "netrc", Src: ".netrc", Flag: "--secret id=netrc,src=.netrc"},
		{Kind: rewrite.SSH, ID: "default", Flag: "--ssh default"},
	}
	cases := []struct {
		name string
		args map[string]string
		want string
	}{
		{"none", map[string]string{}, ""},
		{"plain args", map[string]string{"VERSION": "1", "HTTP_PROXY": "http://proxy:3128", "default": "x"}, ""},
		{"by env name", map[string]string{"PYPI_PASS": "v"}, "build-arg PYPI_PASS is a secret (line 2: ARG PYPI_PASS): pass it with --secret id=pypi,env=PYPI_PASS instead of --build-arg"},
		{"by id", map[string]string{"pypi": "v"}, "build-arg pypi is a secret: pass it with --secret id=pypi,env=PYPI_PASS instead of --build-arg"},
		{"by classifier", map[string]string{"GITHUB_TOKEN": "v"}, "build-arg GITHUB_TOKEN is a secret: pass it with --secret id=GITHUB_TOKEN,env=GITHUB_TOKEN instead of --build-arg"},
		{"several, sorted", map[string]string{"PYPI_PASS": "v", "AWS_SECRET_ACCESS_KEY": "w", "VERSION": "1"}, "build-arg AWS_SECRET_ACCESS_KEY is a secret: pass it with --secret id=AWS_SECRET_ACCESS_KEY,env=AWS_SECRET_ACCESS_KEY instead of --build-arg\n" +
			"build-arg PYPI_PASS is a secret (line 2: ARG PYPI_PASS): pass it with --secret id=pypi,env=PYPI_PASS instead of --build-arg"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			df := testDF(t, nil, reqs)
			err := checkBuildArgs(tc.args, df)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err == nil || err.Error() != tc.want {
				t.Fatalf("err = %v\nwant  %s", err, tc.want)
			}
			for name, v := range tc.args {
				if strings.Contains(err.Error(), "="+v+" ") || strings.HasSuffix(err.Error(), v) {
					t.Errorf("the error holds the value of %s", name)
				}
			}
			var le *parser.LocationError
			if strings.Contains(tc.want, "(line 2") {
				if !errors.As(err, &le) || len(le.Locations) != 1 || le.Locations[0][0].Start.Line != 2 {
					t.Errorf("locations: %v", le)
				}
			}
		})
	}
}

func TestCheckBuildArgsDerived(t *testing.T) {
	df := testDF(t, nil, nil)
	df.secretArgs = []string{"INDEX", "PYPI_PASS"}
	df.argLines["INDEX"] = []int{3}
	err := checkBuildArgs(map[string]string{"INDEX": "https://u:canary-value@host/simple", "VERSION": "1"}, df)
	if err == nil {
		t.Fatal("a build-arg the rewrite removed as built from secrets was accepted")
	}
	want := "build-arg INDEX is built from secrets (line 3: ARG INDEX): drop it and pass the secrets it is built from with --secret"
	if err.Error() != want {
		t.Errorf("err = %v\nwant  %s", err, want)
	}
	if strings.Contains(err.Error(), "canary-value") {
		t.Error("the error holds the value")
	}
}

func TestCheckBuildArgsNotSecrets(t *testing.T) {
	df := testDF(t, nil, nil)
	df.classifier = rewrite.Config{NotSecrets: []string{"GITHUB_TOKEN"}}
	if err := checkBuildArgs(map[string]string{"GITHUB_TOKEN": "x"}, df); err != nil {
		t.Errorf("not-secrets ignored: %v", err)
	}
}

func TestFindingDetail(t *testing.T) {
	for _, tc := range []struct {
		f    rewrite.Finding
		want string
	}{
		{rewrite.Finding{Message: "m"}, "m"},
		{rewrite.Finding{Message: "m", Fix: "f", Fixed: true}, "m (fixed: f)"},
		{rewrite.Finding{Message: "m", Fix: "f"}, "m (fix: f)"},
	} {
		if got := findingDetail(tc.f); got != tc.want {
			t.Errorf("findingDetail = %q, want %q", got, tc.want)
		}
	}
}

var reportFindings = []rewrite.Finding{
	{Rule: "SecretArg", Severity: rewrite.SeverityWarning, Range: rewrite.Range{Start: 2, End: 2}, Message: "ARG PYPI_PASS holds a secret", Fix: "secret mount on line 3", Fixed: true},
	{Rule: "SourcedEnvFile", Severity: rewrite.SeverityInfo, Range: rewrite.Range{Start: 3, End: 3}, Message: "info only"},
	{Rule: "HardcodedSecret", Severity: rewrite.SeverityError, Range: rewrite.Range{Start: 3, End: 4}, Message: "a credential is written in the Dockerfile", Fix: "use a build secret"},
	{Rule: "FutureRule", Severity: rewrite.SeverityWarning, Message: "no line"},
}

func TestReportFindings(t *testing.T) {
	df := testDF(t, reportFindings, nil)
	type warning struct {
		msg  string
		opts client.WarnOpts
	}
	var got []warning
	df.reportFindings(context.Background(), func(ctx context.Context, msg string, opts client.WarnOpts) {
		got = append(got, warning{msg, opts})
	})
	if len(got) != 2 {
		t.Fatalf("%d warnings, want 2 (no info, errors go to the error)", len(got))
	}
	w := got[0]
	if w.msg != "SecretArg: ARG PYPI_PASS holds a secret (fixed: secret mount on line 3) (line 2)" {
		t.Errorf("msg = %q", w.msg)
	}
	if w.opts.URL != rewrite.RuleSecretArg.DocsURL() || len(w.opts.Detail) != 1 || string(w.opts.Detail[0]) != rewrite.RuleSecretArg.Description || w.opts.Level != 1 {
		t.Errorf("opts = %+v", w.opts)
	}
	if len(w.opts.Range) != 1 || w.opts.Range[0].Start.Line != 2 || w.opts.Range[0].End.Line != 2 {
		t.Errorf("range = %v", w.opts.Range)
	}
	if got[1].msg != "FutureRule: no line" || got[1].opts.Range != nil || !strings.HasSuffix(got[1].opts.URL, "/future-rule.md") {
		t.Errorf("finding without a line: %q %+v", got[1].msg, got[1].opts)
	}

	// the warner always points into the rewritten text, and shows no text
	// of an unsafe Dockerfile
	for _, df := range []*dockerfile{testDF(t, reportFindings[:2], nil), df} {
		c := newFakeClient(nil)
		df.warner(c)(context.Background(), "m", client.WarnOpts{})
		want := string(df.data)
		if df.unsafe != nil {
			want = ""
		}
		if len(c.warnings) != 1 || string(c.warnings[0].opts.SourceInfo.Data) != want || c.warnings[0].vertex != df.vertex || c.warnings[0].opts.Level != 1 {
			t.Errorf("warner: %+v", c.warnings)
		}
	}
}

func TestAddToLint(t *testing.T) {
	df := testDF(t, reportFindings, nil)
	// a stock result with a warning of its own, from the same source (the
	// check converts an unsafe Dockerfile with the source without text)
	results := &lint.LintResults{}
	idx := results.AddSource(df.shown)
	results.AddWarning("UndefinedVar", "desc", "https://docs.docker.com/go/dockerfile/rule/undefined-var/", "Usage of undefined variable '$X'", idx, lineRange(3, 3))

	df.addToLint(results)
	if len(results.Sources) != 1 || len(results.Sources[0].Data) != 0 {
		t.Errorf("%d sources, want one, without the text of an unsafe Dockerfile", len(results.Sources))
	}
	var rules []string
	for _, w := range results.Warnings {
		rules = append(rules, w.RuleName)
	}
	if strings.Join(rules, ",") != "UndefinedVar,SecretArg,HardcodedSecret,FutureRule" {
		t.Errorf("warnings = %v", rules)
	}
	w := results.Warnings[2]
	if results.Warnings[0].Detail != "Usage of undefined variable '$X' (line 3)" {
		t.Errorf("stock warning detail = %q, want its line", results.Warnings[0].Detail)
	}
	if w.Detail != "a credential is written in the Dockerfile (fix: use a build secret) (line 3)" || w.URL != rewrite.RuleHardcodedSecret.DocsURL() ||
		w.Location.SourceIndex != int32(idx) || w.Location.Ranges[0].Start.Line != 3 || w.Location.Ranges[0].End.Line != 4 {
		t.Errorf("warning = %+v", w)
	}
	if results.Error == nil || !strings.Contains(results.Error.Message, "line 3: [HardcodedSecret]") || results.Error.Location.Ranges[0].Start.Line != 3 {
		t.Errorf("error = %+v", results.Error)
	}
	res, err := results.ToResult(nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Metadata["result.statuscode"]) != "1" {
		t.Errorf("status = %s", res.Metadata["result.statuscode"])
	}
	if !strings.Contains(string(res.Metadata["result.txt"]), "WARNING: SecretArg - "+rewrite.RuleSecretArg.DocsURL()) {
		t.Errorf("result.txt:\n%s", res.Metadata["result.txt"])
	}
}

func TestUnsafeError(t *testing.T) {
	if err := testDF(t, reportFindings[:2], nil).unsafeError(); err != nil {
		t.Fatalf("no error finding, err = %v", err)
	}
	df := testDF(t, reportFindings, nil)
	err := df.withSources(df.unsafeError())
	want := "hushbuild: this Dockerfile cannot be built without leaking a secret:\nline 3: [HardcodedSecret] a credential is written in the Dockerfile (fix: use a build secret)"
	if err.Error() != want {
		t.Errorf("err = %q", err)
	}
	var re *rewrite.Error
	if !errors.As(err, &re) || len(re.Findings) != 1 {
		t.Errorf("does not wrap *rewrite.Error")
	}
}

func TestSummaryHasNoText(t *testing.T) {
	canary := newCanary(t)
	f := append([]rewrite.Finding(nil), reportFindings...)
	f[0].Message = canary
	df := testDF(t, f, []rewrite.Requirement{{Kind: rewrite.SecretEnv, ID: "A"}, {Kind: rewrite.SSH, ID: "default"}})
	s := df.summary()
	assertNoCanary(t, "the log summary", []byte(s), canary)
	if s != "findings=4 [FutureRule=1 HardcodedSecret=1 SecretArg=1 SourcedEnvFile=1] suppressed=0 secrets=1 ssh=1 unsafe=true" {
		t.Errorf("summary = %q", s)
	}
}
