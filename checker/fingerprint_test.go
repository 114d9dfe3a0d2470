package checker

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFingerprint: a secret's fingerprint depends on its value and id and
// on the builder's key, which is kept across runs; a secret not given has
// FingerprintAbsent; no fingerprint holds the value.
func TestFingerprint(t *testing.T) {
	secrets, keyDir := t.TempDir(), t.TempDir()
	value := "hfc_" + strings.Repeat("5e", 20)
	write := func(i, v string) {
		if err := os.WriteFile(filepath.Join(secrets, i), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	run := func() map[string]string {
		t.Helper()
		out := filepath.Join(t.TempDir(), "fp.json")
		var stderr strings.Builder
		if code := fingerprint([]string{"--secrets", secrets, "--id", "A", "--id", "B", "--id", "C", "--key", keyDir, "--out", out, "--build", "n1"}, &stderr); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		dt, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(dt), value) {
			t.Fatal("the fingerprints hold the value")
		}
		var fps map[string]string
		if err := json.Unmarshal(dt, &fps); err != nil {
			t.Fatal(err)
		}
		return fps
	}
	write("0", value)
	write("1", value)
	first := run()
	if first["C"] != FingerprintAbsent {
		t.Errorf("secret not given: %q", first["C"])
	}
	if first["A"] == first["B"] || len(first["A"]) != 64 {
		t.Errorf("two ids with one value: %q, %q", first["A"], first["B"])
	}
	if again := run(); again["A"] != first["A"] {
		t.Error("the same value and key give another fingerprint")
	}
	write("0", value+"x")
	if other := run(); other["A"] == first["A"] || other["B"] != first["B"] {
		t.Error("a new value does not change its fingerprint only")
	}
	if err := os.Remove(filepath.Join(keyDir, FingerprintKeyFile)); err != nil {
		t.Fatal(err)
	}
	write("0", value)
	if fresh := run(); fresh["A"] == first["A"] {
		t.Error("a new key gives the same fingerprint")
	}
}
