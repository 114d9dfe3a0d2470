package release

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"text/template"

	"go.yaml.in/yaml/v3"
)

// root is the repository root (this package is hack/release).
var root = func() string {
	r, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		panic(err)
	}
	return r
}()

var toolsDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hushbuild-release-tools-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	toolsDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var (
	toolsMu    sync.Mutex
	toolsBuilt = map[string]*toolBuild{}
)

type toolBuild struct {
	once sync.Once
	path string
	err  error
}

// tool builds pkg (an import path, or "." for the module's own command)
// from the tools module hack/tools/<module> (its own go.mod
// and go.sum, so the main module does not depend on it) once per test
// run, and returns the binary. Go's build cache makes later runs cheap.
func tool(t *testing.T, module, pkg string) string {
	t.Helper()
	toolsMu.Lock()
	b, ok := toolsBuilt[module+" "+pkg]
	if !ok {
		b = &toolBuild{}
		toolsBuilt[module+" "+pkg] = b
	}
	toolsMu.Unlock()
	b.once.Do(func() {
		b.path = filepath.Join(toolsDir, module)
		if pkg != "." {
			b.path += "-" + filepath.Base(pkg)
		}
		cmd := exec.Command("go", "build", "-trimpath", "-o", b.path, pkg)
		cmd.Dir = filepath.Join(root, "hack", "tools", module)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=-mod=readonly -buildvcs=false")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("building %s in hack/tools/%s: %v\n%s", pkg, module, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// actionlint runs actionlint on files from dir. shellcheck and pyflakes
// are off, so the result does not depend on what else the machine has.
func actionlint(t *testing.T, dir string, files ...string) (string, error) {
	t.Helper()
	bin := tool(t, "actionlint", "github.com/rhysd/actionlint/cmd/actionlint")
	cmd := exec.Command(bin, append([]string{"-no-color", "-shellcheck=", "-pyflakes="}, files...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func workflows(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, ".github", "workflows", "*.y*ml"))
	if err != nil {
		t.Fatal(err)
	}
	var rel []string
	for _, f := range files {
		r, err := filepath.Rel(root, f)
		if err != nil {
			t.Fatal(err)
		}
		rel = append(rel, r)
	}
	return rel
}

// TestWorkflowsLint: every workflow passes actionlint (syntax, expressions
// and their types, the inputs and outputs of well-known actions and their
// versions, runner labels, untrusted input in scripts, permissions).
func TestWorkflowsLint(t *testing.T) {
	files := workflows(t)
	for _, want := range []string{".github/workflows/ci.yml", ".github/workflows/release.yml"} {
		if !slices.Contains(files, filepath.FromSlash(want)) {
			t.Errorf("%s is missing (found %s)", want, strings.Join(files, ", "))
		}
	}
	if out, err := actionlint(t, root, files...); err != nil {
		t.Errorf("actionlint %s: %v\n%s", strings.Join(files, " "), err, out)
	}
}

// TestActionlintCatches shows that the lint is not a formality: each of
// these mistakes in a workflow fails it, with the message expected.
func TestActionlintCatches(t *testing.T) {
	const head = "name: t\non: push\njobs:\n  j:\n    runs-on: ubuntu-24.04\n    steps:\n"
	for _, tc := range []struct {
		name, steps, want string
	}{
		{"misspelt input of a known action", "      - uses: actions/checkout@v6\n        with:\n          pathh: x\n", `input "pathh" is not defined`},
		{"output of a step that does not exist", "      - run: echo \"${{ steps.meta.outputs.version }}\"\n", `property "meta" is not defined`},
		{"untrusted input in a script", "      - run: echo \"${{ github.event.head_commit.message }}\"\n", `potentially untrusted`},
		{"action too old for the runners", "      - uses: actions/checkout@v2\n", `too old to run on GitHub Actions`},
		{"unknown runner label", "", `label "ubuntu-2404" is unknown`},
		{"bad YAML", "      - run: [\n", `could not parse as YAML`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			wf := head + tc.steps
			if tc.steps == "" {
				wf = strings.Replace(head, "ubuntu-24.04", "ubuntu-2404", 1) + "      - run: true\n"
			}
			if err := os.MkdirAll(filepath.Join(dir, ".github", "workflows"), 0o755); err != nil {
				t.Fatal(err)
			}
			name := filepath.Join(".github", "workflows", "t.yml")
			if err := os.WriteFile(filepath.Join(dir, name), []byte(wf), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := actionlint(t, dir, name)
			if err == nil {
				t.Fatalf("actionlint passed a workflow with a %s:\n%s", tc.name, wf)
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("actionlint: want %q in its output, got:\n%s", tc.want, out)
			}
		})
	}
}

// goreleaserConfig is the part of .goreleaser.yaml these tests read.
type goreleaserConfig struct {
	Version int `yaml:"version"`
	Builds  []struct {
		ID      string   `yaml:"id"`
		Main    string   `yaml:"main"`
		Binary  string   `yaml:"binary"`
		Env     []string `yaml:"env"`
		Flags   []string `yaml:"flags"`
		Ldflags []string `yaml:"ldflags"`
		Goos    []string `yaml:"goos"`
		Goarch  []string `yaml:"goarch"`
	} `yaml:"builds"`
	Archives []struct {
		IDs             []string `yaml:"ids"`
		Formats         []string `yaml:"formats"`
		FormatOverrides []struct {
			Goos    string   `yaml:"goos"`
			Formats []string `yaml:"formats"`
		} `yaml:"format_overrides"`
	} `yaml:"archives"`
	Checksum struct {
		NameTemplate string `yaml:"name_template"`
		Algorithm    string `yaml:"algorithm"`
	} `yaml:"checksum"`
}

func loadGoreleaser(t *testing.T) goreleaserConfig {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c goreleaserConfig
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	if len(c.Builds) != 1 {
		t.Fatalf(".goreleaser.yaml: %d builds, want the one of cmd/hushbuild", len(c.Builds))
	}
	return c
}

// TestGoreleaserMatrix: the release ships what the README promises: the
// hushbuild binary for linux, darwin and windows on amd64 and arm64, in
// tar.gz archives (zip on windows), with checksums.
func TestGoreleaserMatrix(t *testing.T) {
	c := loadGoreleaser(t)
	b := c.Builds[0]
	for _, check := range []struct {
		what      string
		got, want any
	}{
		{"version", c.Version, 2},
		{"builds[0].main", b.Main, "./cmd/hushbuild"},
		{"builds[0].binary", b.Binary, "hushbuild"},
		{"builds[0].goos", sorted(b.Goos), []string{"darwin", "linux", "windows"}},
		{"builds[0].goarch", sorted(b.Goarch), []string{"amd64", "arm64"}},
		{"builds[0].env has CGO_ENABLED=0", slices.Contains(b.Env, "CGO_ENABLED=0"), true},
		{"archives", len(c.Archives), 1},
		{"checksum.algorithm", c.Checksum.Algorithm, "sha256"},
		{"checksum.name_template set", c.Checksum.NameTemplate != "", true},
	} {
		if fmt.Sprint(check.got) != fmt.Sprint(check.want) {
			t.Errorf(".goreleaser.yaml: %s is %v, want %v", check.what, check.got, check.want)
		}
	}
	if len(c.Archives) == 1 {
		a := c.Archives[0]
		if fmt.Sprint(a.Formats) != "[tar.gz]" {
			t.Errorf(".goreleaser.yaml: archives[0].formats is %v, want [tar.gz]", a.Formats)
		}
		if !slices.Contains(a.IDs, b.ID) {
			t.Errorf(".goreleaser.yaml: archives[0].ids %v do not name the build %q", a.IDs, b.ID)
		}
		windowsZip := false
		for _, o := range a.FormatOverrides {
			windowsZip = windowsZip || o.Goos == "windows" && fmt.Sprint(o.Formats) == "[zip]"
		}
		if !windowsZip {
			t.Errorf(".goreleaser.yaml: no format override to zip for windows")
		}
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// releaseTemplate is what the tests put for GoReleaser's template fields.
type releaseTemplate struct {
	Version, FullCommit, CommitTimestamp string
}

// ldflags renders the build's ldflags with tmpl, as GoReleaser would. A
// field the test does not know fails: add it to releaseTemplate.
func ldflags(t *testing.T, c goreleaserConfig, tmpl releaseTemplate) string {
	t.Helper()
	var parts []string
	for _, l := range c.Builds[0].Ldflags {
		tp, err := template.New("ldflags").Option("missingkey=error").Parse(l)
		if err != nil {
			t.Fatalf(".goreleaser.yaml: ldflags %q: %v", l, err)
		}
		var b bytes.Buffer
		if err := tp.Execute(&b, tmpl); err != nil {
			t.Fatalf(".goreleaser.yaml: ldflags %q: %v (a template field the test does not fill: add it to releaseTemplate)", l, err)
		}
		parts = append(parts, b.String())
	}
	return strings.Join(parts, " ")
}

var xflag = regexp.MustCompile(`-X[ =]([^ =]+)=(\S*)`)

// stringVars are the package-level variables of the Go files of dir
// (tests excluded) that -X can set: strings without an initialiser other
// than a constant string.
func stringVars(t *testing.T, dir string) map[string]bool {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]bool{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, s := range g.Specs {
				vs := s.(*ast.ValueSpec)
				for i, n := range vs.Names {
					isString := false
					if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "string" {
						isString = true
					}
					if vs.Type == nil && i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							isString = true
						}
					}
					if isString {
						vars[n.Name] = true
					}
				}
			}
		}
	}
	return vars
}

// TestGoreleaserLdflags: each -X of the release ldflags names a string
// variable cmd/hushbuild declares (the linker ignores a -X whose variable
// is gone, so a rename would silently drop the version), and a binary
// linked with them prints that version and commit in `hushbuild version`.
func TestGoreleaserLdflags(t *testing.T) {
	c := loadGoreleaser(t)
	tmpl := releaseTemplate{Version: "0.0.0-test." + randomHex(t, 4), FullCommit: randomHex(t, 20), CommitTimestamp: "1700000000"}
	flags := ldflags(t, c, tmpl)
	main := filepath.Join(root, filepath.FromSlash(strings.TrimPrefix(c.Builds[0].Main, "./")))
	vars := stringVars(t, main)
	set := map[string]string{}
	for _, m := range xflag.FindAllStringSubmatch(flags, -1) {
		pkg, name, _ := strings.Cut(m[1], ".")
		if pkg != "main" || !vars[name] {
			t.Errorf(".goreleaser.yaml: ldflags set %s, which is not a string variable of package main in %s: renamed?", m[1], c.Builds[0].Main)
		}
		set[m[1]] = m[2]
	}
	for _, want := range []string{"main.Version", "main.Revision"} {
		if _, ok := set[want]; !ok {
			t.Errorf(".goreleaser.yaml: ldflags do not set %s (hushbuild version prints it)", want)
		}
	}
	if t.Failed() {
		return
	}

	// Without the release's flags (-trimpath): -X does not depend on them,
	// and this build then shares the build cache of the other tests.
	bin := filepath.Join(t.TempDir(), "hushbuild")
	args := []string{"build", "-o", bin, "-ldflags", flags, c.Builds[0].Main}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(append(os.Environ(), c.Builds[0].Env...), "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("hushbuild version: %v\n%s", err, out)
	}
	want := fmt.Sprintf("hushbuild v%s commit %s ", tmpl.Version, tmpl.FullCommit[:12])
	if !strings.HasPrefix(string(out), want) {
		t.Errorf("hushbuild version printed %q, want it to start with %q", out, want)
	}
}

// TestGoreleaserTargets builds cmd/hushbuild for every GOOS/GOARCH of the
// release matrix, with the release's env, flags and ldflags, as GoReleaser
// would: a file that does not compile on windows or darwin shows here, not
// on the tag.
func TestGoreleaserTargets(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles cmd/hushbuild for the six release targets; skipped with -short")
	}
	c := loadGoreleaser(t)
	b := c.Builds[0]
	flags := ldflags(t, c, releaseTemplate{Version: "0.0.0-test", FullCommit: strings.Repeat("0", 40), CommitTimestamp: "1700000000"})
	for _, goos := range b.Goos {
		for _, goarch := range b.Goarch {
			t.Run(goos+"-"+goarch, func(t *testing.T) {
				args := append([]string{"build", "-o", os.DevNull}, b.Flags...)
				args = append(args, "-ldflags", flags, b.Main)
				cmd := exec.Command("go", args...)
				cmd.Dir = root
				cmd.Env = append(append(os.Environ(), b.Env...), "GOOS="+goos, "GOARCH="+goarch, "GOFLAGS=-buildvcs=false")
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Errorf("GOOS=%s GOARCH=%s go %s: %v\n%s", goos, goarch, strings.Join(args, " "), err, out)
				}
			})
		}
	}
}

// goreleaserCheck runs hack/tools/goreleaser (GoReleaser's own
// configuration code: the strict load, and its deprecations) on files.
func goreleaserCheck(t *testing.T, files ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(tool(t, "goreleaser", "."), files...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestGoreleaserCheck: GoReleaser's configuration code accepts
// .goreleaser.yaml, and rejects each of these mistakes.
func TestGoreleaserCheck(t *testing.T) {
	if out, err := goreleaserCheck(t, filepath.Join(root, ".goreleaser.yaml")); err != nil {
		t.Errorf(".goreleaser.yaml: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		name, config, want string
	}{
		{"misspelt key", "version: 2\nbuilds:\n  - binaryy: hushbuild\n", "field binaryy not found"},
		{"wrong type", "version: 2\nbuilds: 3\n", "cannot unmarshal"},
		{"deprecated key", "version: 2\narchives:\n  - format: zip\n", "line 3: archives[0].format is deprecated"},
		{"deprecated key in a list of a list", "version: 2\narchives:\n  - format_overrides:\n      - goos: windows\n        format: zip\n", "format_overrides[0].format is deprecated"},
		{"version 1", "version: 1\nproject_name: x\n", "version is 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := filepath.Join(t.TempDir(), ".goreleaser.yaml")
			if err := os.WriteFile(name, []byte(tc.config), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := goreleaserCheck(t, name)
			if err == nil {
				t.Fatalf("accepted a configuration with a %s:\n%s", tc.name, tc.config)
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("want %q in the output, got:\n%s", tc.want, out)
			}
		})
	}
}

// TestGoreleaserVersion: the GoReleaser that release.yml runs is the
// version whose configuration code checks .goreleaser.yaml here.
func TestGoreleaserVersion(t *testing.T) {
	mod, err := os.ReadFile(filepath.Join(root, "hack", "tools", "goreleaser", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*github\.com/goreleaser/goreleaser/v2 (v\S+)`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("hack/tools/goreleaser/go.mod does not require github.com/goreleaser/goreleaser/v2")
	}
	checked := string(m[1])
	data, err := os.ReadFile(filepath.Join(root, ".github", "workflows", "release.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs map[string]struct {
			Steps []struct {
				Uses string            `yaml:"uses"`
				With map[string]string `yaml:"with"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatalf("release.yml: %v", err)
	}
	found := 0
	for name, job := range wf.Jobs {
		for _, s := range job.Steps {
			if !strings.HasPrefix(s.Uses, "goreleaser/goreleaser-action@") {
				continue
			}
			found++
			if got := s.With["version"]; got != checked {
				t.Errorf("release.yml, job %s: GoReleaser %q, but .goreleaser.yaml is checked with %s (hack/tools/goreleaser/go.mod)", name, got, checked)
			}
			if got := s.With["distribution"]; got != "goreleaser" {
				t.Errorf("release.yml, job %s: distribution %q, want goreleaser (the OSS one, whose configuration is checked)", name, got)
			}
		}
	}
	if found != 1 {
		t.Errorf("release.yml: %d goreleaser/goreleaser-action steps, want 1", found)
	}
}
