package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hushbuild/hushbuild/internal/sarif/sariftest"
	"github.com/hushbuild/hushbuild/verify"
	vt "github.com/hushbuild/hushbuild/verify/verifytest"
)

// verifyImage writes a layout whose second layer holds leak in /app/.env.
func verifyImage(t *testing.T, leak string) string {
	t.Helper()
	return vt.NewLayout(t).Write(vt.Image{Platform: vt.Amd64, Layers: []vt.Layer{
		{Files: []vt.File{{Name: "bin/sh", Body: "#!"}}},
		{Files: []vt.File{{Name: "app/.env", Body: "API_TOKEN=" + leak + "\n"}}},
	}}).Dir
}

func TestVerifyCommand(t *testing.T) {
	c := vt.Canary(t)
	leaky, clean := verifyImage(t, c), verifyImage(t, "nothing")
	dir := t.TempDir()
	envFile := filepath.Join(dir, ".env")
	os.WriteFile(envFile, []byte("export API_TOKEN=\""+c+"\"\nDEBUG=1\n"), 0o600)
	valueFile := filepath.Join(dir, "values")
	os.WriteFile(valueFile, []byte("\n"+c+"\n"), 0o600)
	t.Setenv("HF_TEST_TOKEN", c)
	broken := vt.NewLayout(t)
	os.WriteFile(filepath.Join(broken.Dir, "index.json"), []byte("{"), 0o644)

	tests := []struct {
		name string
		args []string
		code int
		out  string // in stdout
		err  string // in stderr
	}{
		{"env secret found", []string{"verify", "--secret", "id=HF_TEST_TOKEN", leaky}, 1, "FOUND secret HF_TEST_TOKEN [raw] at linux/amd64 layer 1", ""},
		{"env secret, flag after image", []string{"verify", leaky, "--secret", "id=X,env=HF_TEST_TOKEN"}, 1, "FOUND secret X [raw]", ""},
		{"file secret fields", []string{"verify", "--patterns=false", "--secret", "id=dotenv,src=" + envFile, leaky}, 1, "FOUND secret dotenv field API_TOKEN [raw] at linux/amd64 layer 1 sha256:", ""},
		{"value file", []string{"verify", "-value-file", valueFile, leaky}, 1, "FOUND secret " + valueFile + ":2", ""},
		{"clean", []string{"verify", "--secret", "id=HF_TEST_TOKEN", clean}, 0, "clean: nothing found", ""},
		{"patterns only", []string{"verify", clean}, 0, "clean", ""},
		{"json", []string{"verify", "-format", "json", "--secret", "id=HF_TEST_TOKEN", leaky}, 1, `"secret": "HF_TEST_TOKEN"`, ""},
		{"corrupt image", []string{"verify", "--secret", "id=HF_TEST_TOKEN", broken.Dir}, 2, "", "bad JSON"},
		{"no image", []string{"verify"}, 2, "", "want exactly one IMAGE"},
		{"bad format", []string{"verify", "-format", "xml", leaky}, 2, "", "want text, json or sarif"},
		{"unknown rule", []string{"verify", "-rules", "nope", leaky}, 2, "", "unknown rule"},
		{"unset variable", []string{"verify", "--secret", "id=X,env=HF_TEST_UNSET", leaky}, 2, "", "is not set"},
		{"nothing to look for", []string{"verify", "-patterns=false", leaky}, 2, "", "nothing to look for"},
		{"list rules", []string{"verify", "-list-rules"}, 0, "github-token", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", tc.args...)
			if strings.Contains(out+errOut, c) {
				t.Fatalf("the output holds the secret value")
			}
			if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errOut, tc.err) {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, errOut)
			}
			checkNotCleanUnlessZero(t, code, out)
		})
	}
}

// checkNotCleanUnlessZero: stdout says "clean" only with exit status 0.
func checkNotCleanUnlessZero(t *testing.T, code int, out string) {
	t.Helper()
	if code != 0 && strings.Contains(out, "clean") {
		t.Errorf("exit %d, but stdout says clean:\n%s", code, out)
	}
}

// TestVerifyFailsClosed: a scan that read nothing, or could not read
// everything, exits 2 and never says clean; --platform filters every
// input format; "-" reads an archive from stdin; a missing path is a
// missing file, not a registry reference.
func TestVerifyFailsClosed(t *testing.T) {
	c := vt.Canary(t)
	t.Setenv("HF_TEST_TOKEN", c)
	leakyImg := vt.Image{Platform: vt.Amd64, Layers: []vt.Layer{
		{Files: []vt.File{{Name: "bin/sh", Body: "#!"}}},
		{Files: []vt.File{{Name: "app/.env", Body: "API_TOKEN=" + c + "\n"}}},
	}}
	cleanImg := vt.Image{Platform: vt.Amd64, Layers: []vt.Layer{{Files: []vt.File{{Name: "bin/sh", Body: "#!"}, {Name: "etc/os-release", Body: "ID=test"}}}}}
	layout := vt.NewLayout(t).Write(leakyImg).Dir
	save := vt.DockerSave(t, leakyImg)
	cleanSave := vt.DockerSave(t, cleanImg)
	cleanArchive := vt.NewLayout(t).Write(cleanImg).Archive(vt.Gzip)
	noFiles := vt.NewLayout(t).Write(vt.Image{Platform: vt.Amd64, Layers: []vt.Layer{{}}}).Dir
	noLayers := vt.NewLayout(t).Write(vt.Image{Platform: vt.Amd64}).Dir
	truncated := filepath.Join(t.TempDir(), "truncated.tar")
	data, _ := os.ReadFile(vt.NewLayout(t).Write(cleanImg).Archive(vt.Uncompressed))
	os.WriteFile(truncated, data[:len(data)/2], 0o644)
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	secret := []string{"--secret", "id=HF_TEST_TOKEN"}
	args := func(a ...string) []string { return append(append([]string{"verify"}, secret...), a...) }

	tests := []struct {
		name     string
		args     []string
		stdin    string
		code     int
		out, err string // in stdout, stderr
	}{
		// Nothing read.
		{name: "platform absent from a layout", args: args("--platform", "linux/s390x", layout), code: 2, out: "INCOMPLETE", err: "no image for platform linux/s390x"},
		{name: "platform absent from a docker save", args: args("--platform", "linux/s390x", save), code: 2, err: "no image for platform linux/s390x"},
		{name: "platform absent, json", args: args("-format", "json", "--platform", "linux/s390x", save), code: 2, out: `"error": "no image for platform linux/s390x`},
		{name: "platform absent, sarif", args: args("-format", "sarif", "--platform", "linux/s390x", save), code: 2, out: `"executionSuccessful": false`},
		{name: "image without a file", args: args(noFiles), code: 2, err: "no file in its 1 layer"},
		{name: "image without a layer", args: args(noLayers), code: 2, err: "no layer to read"},
		// Not fully read.
		{name: "truncated archive", args: args(truncated), code: 2, out: "INCOMPLETE", err: "truncated.tar"},
		{name: "missing archive", args: args("nope.tar"), code: 2, err: "nope.tar: no such file or directory"},
		{name: "missing path", args: args("out/image"), code: 2, err: "out/image: no such file or directory"},
		{name: "missing absolute path", args: args(filepath.Join(t.TempDir(), "image")), code: 2, err: "no such file or directory"},
		// --platform filters docker save archives.
		{name: "platform of a docker save", args: args("--platform", "linux/amd64", save), code: 1, out: "FOUND secret HF_TEST_TOKEN [raw] at linux/amd64 layer 1"},
		// Clean says what it read.
		{name: "clean says what it read", args: args(cleanSave), code: 0, out: "clean: nothing found in " + cleanSave + " (scanned 1 manifest, 2 blobs, 1 layer, 2 files, "},
		{name: "clean names the platform", args: args("--platform", "linux/amd64", cleanSave), code: 0, out: "; platform linux/amd64)"},
		// Standard input.
		{name: "stdin docker save", args: args("-"), stdin: read(save), code: 1, out: "FOUND secret HF_TEST_TOKEN [raw]"},
		{name: "stdin oci archive", args: args("-"), stdin: read(cleanArchive), code: 0, out: "clean: nothing found in stdin (scanned 1 manifest"},
		{name: "stdin platform", args: args("--platform", "linux/arm64", "-"), stdin: read(save), code: 2, err: "no image for platform linux/arm64 in stdin (it has linux/amd64)"},
		{name: "stdin truncated", args: args("-"), stdin: read(truncated), code: 2, out: "INCOMPLETE", err: "stdin"},
		{name: "stdin empty", args: args("-"), code: 2, err: "stdin: empty archive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.stdin, tc.args...)
			if strings.Contains(out+errOut, c) {
				t.Fatalf("the output holds the secret value")
			}
			if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errOut, tc.err) {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, errOut)
			}
			checkNotCleanUnlessZero(t, code, out)
		})
	}
}

func TestVerifyOutputFormats(t *testing.T) {
	c := vt.Canary(t)
	image := verifyImage(t, c)
	t.Setenv("HF_TEST_TOKEN", c)
	out := filepath.Join(t.TempDir(), "report.sarif")
	if code, _, errOut := runCLI(t, "", "verify", "-format", "sarif", "-o", out, "--secret", "id=HF_TEST_TOKEN", image); code != 1 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := sariftest.ValidateGitHub(data); err != nil {
		t.Errorf("SARIF: %v", err)
	}
	if err := sariftest.CheckRuleNames(data); err != nil {
		t.Errorf("SARIF rules: %v", err)
	}
	_, js, _ := runCLI(t, "", "verify", "-format", "json", "--secret", "id=HF_TEST_TOKEN", image)
	var r verify.Report
	if err := json.Unmarshal([]byte(js), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Hits) == 0 || r.Hits[0].Path != "/app/.env" || *r.Hits[0].Layer != 1 {
		t.Errorf("JSON report: %+v", r.Hits)
	}
}

// TestTestScriptWithoutShared runs hack/test.sh (the README's test
// command) in a copy of the repository's layout with stub go and gofmt:
// without ../shared it runs everything and says the corpus tests skip;
// with CI set it fails, since CI always has ../shared. (It lives here for
// want of a Go package under hack/ for the script.)
func TestTestScriptWithoutShared(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatalf("bash is needed to run hack/test.sh: %v", err)
	}
	script, err := os.ReadFile(filepath.Join("..", "..", "hack", "test.sh"))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	repo, stubs := filepath.Join(root, "repo"), filepath.Join(root, "stubs")
	for _, d := range []string{filepath.Join(repo, "hack"), stubs} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, text string, mode os.FileMode) {
		if err := os.WriteFile(p, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(repo, "hack", "test.sh"), string(script), 0o755)
	write(filepath.Join(stubs, "go"), "#!/bin/sh\necho \"stub go $*\"\n", 0o755)
	write(filepath.Join(stubs, "gofmt"), "#!/bin/sh\n", 0o755)
	runScript := func(ci string) (int, string) {
		cmd := exec.Command(bash, filepath.Join(repo, "hack", "test.sh"), "-short")
		env := []string{"PATH=" + stubs + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + root}
		if ci != "" {
			env = append(env, "CI="+ci)
		}
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, string(out)
	}

	code, out := runScript("")
	if code != 0 || !strings.Contains(out, "../shared is absent") || !strings.Contains(out, "stub go test -count=1 -timeout 75m -short ./...") {
		t.Errorf("without ../shared: exit %d, want 0, the tests run and a note that ../shared is absent:\n%s", code, out)
	}
	code, out = runScript("true")
	if code == 0 || !strings.Contains(out, "../shared is absent") || strings.Contains(out, "stub go test") {
		t.Errorf("without ../shared, CI set: exit %d, want a failure before the tests:\n%s", code, out)
	}
	if err := os.MkdirAll(filepath.Join(root, "shared", "corpus"), 0o755); err != nil {
		t.Fatal(err)
	}
	code, out = runScript("true")
	if code != 0 || strings.Contains(out, "absent") || !strings.Contains(out, "stub go test") {
		t.Errorf("with ../shared, CI set: exit %d:\n%s", code, out)
	}
}

// TestVerifyDockerDaemon reads an image of the Docker daemon through its
// API socket. There is no Docker daemon in the lab: vt.FakeDaemon is a
// protocol stand-in serving a `docker save` archive built here.
func TestVerifyDockerDaemon(t *testing.T) {
	c := vt.Canary(t)
	archive := vt.DockerSave(t, vt.Image{Platform: vt.Amd64, Layers: []vt.Layer{
		{Files: []vt.File{{Name: "app/.env", Body: "API_TOKEN=" + c + "\n"}}},
	}})
	host, _ := vt.FakeDaemon(t, map[string]vt.DaemonImage{"app:dev": {Archive: archive}})
	t.Setenv("DOCKER_HOST", host)
	t.Setenv("HF_TEST_TOKEN", c)
	tests := []struct {
		args []string
		code int
		out  string // in stdout
		err  string // in stderr
	}{
		{[]string{"verify", "--secret", "id=HF_TEST_TOKEN", "docker-daemon:app:dev"}, 1, "FOUND secret HF_TEST_TOKEN", ""},
		{[]string{"verify", "--source", "docker", "--secret", "id=HF_TEST_TOKEN", "app:dev"}, 1, "from the Docker daemon at " + host, ""},
		{[]string{"verify", "--secret", "id=HF_TEST_TOKEN", "app:dev"}, 1, "FOUND secret HF_TEST_TOKEN", ""},
		{[]string{"verify", "docker-daemon:gone:1"}, 2, "", "no such image"},
		{[]string{"verify", "--source", "podman", "app:dev"}, 2, "", `--source "podman": want auto, docker or registry`},
	}
	for _, tt := range tests {
		code, stdout, stderr := runCLI(t, "", tt.args...)
		if code != tt.code || !strings.Contains(stdout, tt.out) || !strings.Contains(stderr, tt.err) {
			t.Errorf("%q: exit %d (want %d)\nstdout %q (want %q in it)\nstderr %q (want %q in it)", tt.args, code, tt.code, stdout, tt.out, stderr, tt.err)
		}
		if strings.Contains(stdout+stderr, c) {
			t.Errorf("%q: the output holds the secret", tt.args)
		}
	}
}
