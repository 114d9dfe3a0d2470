// Package golden compares test output with golden files, and rewrites them
// when the tests run with -update.
package golden

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"github.com/hushbuild/hushbuild/internal/textdiff"
)

// Update is the -update flag of every test binary that uses golden files.
var Update = flag.Bool("update", false, "rewrite the golden files instead of comparing with them")

// Check compares got with the file at path, or writes it there with
// -update. A difference fails the test with a unified diff.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *Update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if !bytes.Equal(want, got) {
		var d bytes.Buffer
		_ = textdiff.Unified(&d, path, "got", want, got)
		t.Errorf("output differs from %s (run the test with -update after checking the diff):\n%s", path, d.String())
	}
}
