package verify

import (
	"bytes"
	"os"
	"strings"
	"testing"

	vt "github.com/hushbuild/hushbuild/verify/verifytest"
)

// TestStdin: "-" reads an OCI or docker save archive from standard input.
func TestStdin(t *testing.T) {
	c := vt.Canary(t)
	img := amd64Leaky(c)
	l := vt.NewLayout(t).Write(img)
	for name, p := range map[string]string{
		"oci archive":         l.Archive(vt.Uncompressed),
		"gzipped oci archive": l.Archive(vt.Gzip),
		"zstd oci archive":    l.Archive(vt.Zstd),
		"docker save":         vt.DockerSave(t, img),
	} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			r := mustRun(t, Options{Image: "-", Stdin: bytes.NewReader(data), Secrets: []Secret{{ID: "S", Value: c}}})
			if len(r.Hits) != 1 || r.Hits[0].Path != "/app/.env" {
				t.Fatalf("got:\n%s", dump(r))
			}
			if r.Image != "-" {
				t.Errorf("Image %q", r.Image)
			}
			// Truncated: an error, never clean.
			r, err = run(t, Options{Image: "-", Stdin: bytes.NewReader(data[:len(data)/3]), Secrets: []Secret{{ID: "S", Value: c}}})
			if err == nil || r.Clean() {
				t.Errorf("truncated stdin: error %v, clean %v", err, r.Clean())
			}
		})
	}
	for name, data := range map[string][]byte{"empty": nil, "not an archive": []byte(strings.Repeat("junk", 300))} {
		t.Run(name, func(t *testing.T) {
			r, err := run(t, Options{Image: "-", Stdin: bytes.NewReader(data), Patterns: true})
			if err == nil || r.Clean() || !strings.Contains(err.Error(), "stdin") {
				t.Errorf("error %v, clean %v", err, r.Clean())
			}
		})
	}
}
