package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hushfile/hushfile/internal/sarif"
	"github.com/hushfile/hushfile/verify"
	vt "github.com/hushfile/hushfile/verify/verifytest"
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
	if err := sarif.ValidateGitHub(data); err != nil {
		t.Errorf("SARIF: %v", err)
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
