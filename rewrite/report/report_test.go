package report

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	goldenfile "github.com/hushbuild/hushbuild/internal/golden"

	"github.com/hushbuild/hushbuild/internal/sarif/sariftest"
	"github.com/hushbuild/hushbuild/rewrite"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"
)

// golden compares got with testdata/name, or writes it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got)
}

// sampleFiles covers every shape a report has to render: fixed and unfixed
// findings of each severity, a multi-line message, a rule this package
// does not know, a finding without a line, every kind of requirement, a
// file with no findings and a file that failed to parse.
func sampleFiles(t *testing.T) []File {
	return []File{
		{
			Name: "app/Dockerfile",
			Result: &rewrite.Result{
				Changed: true,
				Findings: []rewrite.Finding{
					{Rule: "SecretArg", Severity: rewrite.SeverityWarning, Range: rewrite.Range{Start: 4, End: 4},
						Message: "ARG PYPI_PASS is a secret: its value would be recorded in the image history and provenance.",
						Fix:     "RUN on lines 6, 8 mounts it with --mount=type=secret,id=PYPI_PASS,env=PYPI_PASS,required", Fixed: true},
					{Rule: "SecretFile", Severity: rewrite.SeverityWarning, Range: rewrite.Range{Start: 5, End: 7},
						Message: "COPY .netrc copies a credential file\ninto a layer.",
						Fix:     "mounted at /app/.netrc on line 6; rm removed from line 7", Fixed: true},
					{Rule: "HardcodedSecret", Severity: rewrite.SeverityError, Range: rewrite.Range{Start: 9, End: 9},
						Message: "ENV DATABASE_PASSWORD holds a literal credential.",
						Fix:     "remove the value from the Dockerfile and rotate it; pass it at run time"},
					{Rule: "HardcodedSecret", Severity: rewrite.SeverityError, Range: rewrite.Range{Start: 10, End: 10},
						Message:     "ENV GOOGLE_API_KEY holds a literal credential.",
						Fix:         "remove the value from the Dockerfile and rotate it; pass it at run time",
						Suppression: rewrite.Suppression{Line: 9, Reason: "the public key the distribution ships"}},
					{Rule: "FutureRule", Severity: rewrite.SeverityInfo, Range: rewrite.Range{Start: 10, End: 10},
						Message: "A rule this renderer has no description for."},
					{Rule: "SecretBuildArg", Severity: rewrite.SeverityError,
						Message: "build-arg NPM_TOKEN is a secret.", Fix: "pass it with --secret id=NPM_TOKEN,env=NPM_TOKEN"},
				},
				Requirements: []rewrite.Requirement{
					{Kind: rewrite.SecretFile, ID: ".netrc", Src: ".netrc", Required: true, Flag: "--secret id=.netrc,src=.netrc", Lines: []int{6}},
					{Kind: rewrite.SecretEnv, ID: "PYPI_PASS", Env: "PYPI_PASS", Required: true, Flag: "--secret id=PYPI_PASS,env=PYPI_PASS", Lines: []int{6, 8}},
					{Kind: rewrite.SSH, ID: "default", Flag: "--ssh default"},
				},
			},
		},
		{Name: "clean.Dockerfile", Result: &rewrite.Result{}},
		{Name: "broken.Dockerfile", Err: parseError(t, "FROM alpine\n\nFOO bar\n")},
	}
}

// parseError returns the error BuildKit's own parser gives for src.
func parseError(t *testing.T, src string) error {
	t.Helper()
	res, err := parser.Parse(strings.NewReader(src))
	if err != nil {
		return err
	}
	_, _, err = instructions.Parse(res.AST, linter.New(&linter.Config{}))
	if err == nil {
		t.Fatalf("BuildKit accepted %q", src)
	}
	return err
}

func TestText(t *testing.T) {
	var buf bytes.Buffer
	if err := Text(&buf, sampleFiles(t)); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.txt", buf.Bytes())
	for i, l := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		if !strings.HasPrefix(l, "app/Dockerfile:") {
			t.Errorf("line %d does not start with file:line: %q", i+1, l)
		}
	}
}

func TestJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := JSON(&buf, sampleFiles(t)); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.json", buf.Bytes())
	for _, key := range []string{`"suppression": {`, `"reason": "the public key the distribution ships"`, `"suppressed": 1`, `"errors": 2`, `"version": 1`, `"findings": []`, `"requirements": []`, `"lines": []`, `"severity": "error"`,
		`"docs": "https://github.com/hushbuild/hushbuild/blob/main/docs/rules/secret-arg.md"`, `"error": "broken.Dockerfile:3: `} {
		if !strings.Contains(buf.String(), key) {
			t.Errorf("JSON report lacks %s", key)
		}
	}
}

func TestSARIF(t *testing.T) {
	var buf bytes.Buffer
	if err := SARIF(&buf, sampleFiles(t), SARIFOptions{ToolVersion: "v0.0.0-test"}); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.sarif", buf.Bytes())
	if err := sariftest.ValidateGitHub(buf.Bytes()); err != nil {
		t.Fatalf("SARIF report is not valid for GitHub code scanning:\n%v", err)
	}

	log := SARIFLog(sampleFiles(t), SARIFOptions{})
	run := log.Runs[0]
	if got, want := len(run.Tool.Driver.Rules), len(rewrite.Rules)+1; got != want {
		t.Errorf("%d rules, want every engine rule plus the unknown one (%d)", got, want)
	}
	for _, r := range run.Tool.Driver.Rules[:len(rewrite.Rules)] {
		if r.ShortDescription == nil || r.HelpURI == "" || r.DefaultConfiguration == nil || r.DefaultConfiguration.Level == "" {
			t.Errorf("rule %s lacks shortDescription, helpUri or defaultConfiguration.level", r.ID)
		}
	}
	if got := len(run.Results); got != 6 {
		t.Errorf("%d results, want 6", got)
	}
	var suppressed int
	for _, r := range run.Results {
		for _, s := range r.Suppressions {
			suppressed++
			if s.Kind != "inSource" || s.Justification == "" || s.Location == nil || s.Location.PhysicalLocation.Region.StartLine != 9 {
				t.Errorf("suppression %+v: want kind inSource, the reason and line 9", s)
			}
		}
	}
	if suppressed != 1 {
		t.Errorf("%d suppressions, want 1", suppressed)
	}
	if run.Invocations[0].ExecutionSuccessful {
		t.Error("executionSuccessful is true although a file failed to parse")
	}
	if n := run.Invocations[0].ToolExecutionNotifications; len(n) != 1 || n[0].Locations[0].PhysicalLocation.Region.StartLine != 3 {
		t.Errorf("parse error notification = %+v, want one at line 3", n)
	}
}

func TestSARIFEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := SARIF(&buf, nil, SARIFOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := sariftest.ValidateGitHub(buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"results": []`) {
		t.Error("a report without findings must still have results: []")
	}
}

func TestArtifactURI(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, base, want string }{
		{"Dockerfile", "", "Dockerfile"},
		{"./app/Dockerfile", "", "app/Dockerfile"},
		{"app/Dockerfile", wd, "app/Dockerfile"},
		{filepath.Join(wd, "app", "Dockerfile"), wd, "app/Dockerfile"},
		{"my app/Dockerfile", wd, "my%20app/Dockerfile"},
		{"Dockerfile:dev", "", "./Dockerfile:dev"},
		{"/etc/Dockerfile", wd, "file:///etc/Dockerfile"},
		{"../x/Dockerfile", wd, "file://" + filepath.ToSlash(filepath.Join(filepath.Dir(wd), "x", "Dockerfile"))},
		{"-", wd, "stdin"},
	}
	for _, tt := range tests {
		if got := artifactURI(filepath.Clean(tt.name), tt.base); got != tt.want && !(tt.name == "-" && got == "stdin") {
			t.Errorf("artifactURI(%q, %q) = %q, want %q", tt.name, tt.base, got, tt.want)
		}
	}
}

func TestFormatError(t *testing.T) {
	withSource := errdefs.WithSource(errors.New("something failed"), &errdefs.Source{
		Info:   &pb.SourceInfo{Filename: "Dockerfile"},
		Ranges: []*pb.Range{{Start: &pb.Position{Line: 7}, End: &pb.Position{Line: 7}}},
	})
	tests := []struct {
		name string
		file string
		err  error
		want string
	}{
		{"buildkit parser", "Dockerfile", parseError(t, "FROM alpine\nRUN true\nFOO bar\n"), "Dockerfile:3: "},
		{"no line", "Dockerfile", errors.New("open Dockerfile: permission denied"), "Dockerfile: open Dockerfile: permission denied"},
		{"stdin", "-", errors.New("boom"), "<stdin>: boom"},
		{"errdefs source", "Dockerfile", withSource, "Dockerfile:7: something failed"},
		{"multi-line message", "f", errors.New("a\nb"), "f: a b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FormatError(tt.file, tt.err); !strings.HasPrefix(got, tt.want) {
				t.Errorf("FormatError = %q, want prefix %q", got, tt.want)
			}
		})
	}
}

func TestFindingLine(t *testing.T) {
	tests := []struct {
		f    rewrite.Finding
		want string
	}{
		{rewrite.Finding{Rule: "SecretArg", Severity: rewrite.SeverityWarning, Range: rewrite.Range{Start: 2, End: 2}, Message: "m", Fix: "f", Fixed: true},
			"Dockerfile:2: [SecretArg] warning: m (fixed: f)"},
		{rewrite.Finding{Rule: "HardcodedSecret", Severity: rewrite.SeverityError, Range: rewrite.Range{Start: 9, End: 11}, Message: "m", Fix: "f"},
			"Dockerfile:9: [HardcodedSecret] error: m (fix: f)"},
		{rewrite.Finding{Rule: "X", Severity: rewrite.SeverityInfo, Message: "m"},
			"Dockerfile: [X] info: m"},
	}
	for _, tt := range tests {
		if got := FindingLine("Dockerfile", tt.f); got != tt.want {
			t.Errorf("FindingLine = %q, want %q", got, tt.want)
		}
	}
}

func TestSummary(t *testing.T) {
	got := Summarize(sampleFiles(t))
	want := Summary{Files: 3, Errors: 2, Warnings: 2, Notes: 1, Suppressed: 1, Unreadable: 1}
	if got != want {
		t.Errorf("Summarize = %+v, want %+v", got, want)
	}
	if s := got.String(); s != "3 files: 2 errors, 2 warnings, 1 note, 1 suppressed, 1 not read" {
		t.Errorf("String() = %q", s)
	}
}

// TestSARIFRuleNames checks that every rule has a friendly name distinct
// from its id, and help, in the SARIF driver.
func TestSARIFRuleNames(t *testing.T) {
	var buf bytes.Buffer
	if err := SARIF(&buf, sampleFiles(t), SARIFOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := sariftest.CheckRuleNames(buf.Bytes()); err != nil {
		t.Error(err)
	}
	seen := map[string]string{}
	for _, r := range rewrite.Rules {
		n, ok := ruleNames[r.Name]
		if !ok {
			t.Errorf("rule %s has no friendly SARIF name in ruleNames", r.Name)
		}
		if other, dup := seen[n]; dup {
			t.Errorf("rules %s and %s share the name %s", other, r.Name, n)
		}
		seen[n] = r.Name
	}
}

// TestSARIFFingerprints checks that partialFingerprints follow a finding
// when lines move, tell findings apart, and never change for the same
// input.
func TestSARIFFingerprints(t *testing.T) {
	fd := func(rule, msg string, line int) rewrite.Finding {
		return rewrite.Finding{Rule: rule, Severity: rewrite.SeverityWarning, Range: rewrite.Range{Start: line, End: line}, Message: msg}
	}
	prints := func(name string, fds ...rewrite.Finding) []string {
		log := SARIFLog([]File{{Name: name, Result: &rewrite.Result{Findings: fds}}}, SARIFOptions{})
		var out []string
		for _, r := range log.Runs[0].Results {
			out = append(out, r.PartialFingerprints[FingerprintKey])
		}
		return out
	}
	a := fd("SecretArg", "ARG A is a secret", 3)
	b := fd("SecretArg", "ARG B is a secret", 5)
	base := prints("Dockerfile", a, b)
	if len(base) != 2 || base[0] == "" || base[0] == base[1] {
		t.Fatalf("fingerprints %q: want two distinct", base)
	}
	if again := prints("Dockerfile", a, b); !slices.Equal(again, base) {
		t.Errorf("the same input gave %q, then %q", base, again)
	}
	a.Range, b.Range = rewrite.Range{Start: 10, End: 10}, rewrite.Range{Start: 12, End: 12}
	if moved := prints("Dockerfile", a, b); !slices.Equal(moved, base) {
		t.Errorf("moving the lines changed the fingerprints: %q, then %q", base, moved)
	}
	if other := prints("app/Dockerfile", a, b); other[0] == base[0] {
		t.Error("another file gave the same fingerprint")
	}
	twice := prints("Dockerfile", a, a)
	if twice[0] != base[0] || twice[1] == twice[0] {
		t.Errorf("the same finding twice: %q; want the first as before (%s) and the second distinct", twice, base[0])
	}
}
