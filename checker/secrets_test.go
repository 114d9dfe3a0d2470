package checker

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hushfile/hushfile/verify"
)

// canary returns a random value that appears nowhere by chance.
func canary(t testing.TB) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "hfck" + hex.EncodeToString(b)
}

// assertNoValue fails if any of texts holds any of values, in any form
// searched. It says where, never what.
func assertNoValue(t testing.TB, values []string, texts map[string]string) {
	t.Helper()
	for vi, v := range values {
		forms := []verify.Needle{{Value: []byte(strings.TrimSpace(v)), Encoding: "whole"}}
		forms = append(forms, verify.Needles(v)...)
		for name, text := range texts {
			for _, n := range forms {
				if len(n.Value) >= verify.MinValueLen && strings.Contains(text, string(n.Value)) {
					t.Errorf("%s holds value %d in %s form", name, vi, n.Encoding)
				}
			}
		}
	}
}

func writeSecret(t *testing.T, dir string, i int, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, strconv.Itoa(i)), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestLoadSecrets(t *testing.T) {
	dir := t.TempDir()
	tok, pw := canary(t), canary(t)
	writeSecret(t, dir, 0, tok+"\n")
	// 1 (OPTIONAL) is missing.
	writeSecret(t, dir, 2, "//registry.npmjs.org/:_authToken="+pw+"\nregistry=https://registry.npmjs.org/\n")
	writeSecret(t, dir, 3, "abc")
	s, err := LoadSecrets(dir, []string{"TOKEN", "OPTIONAL", "NPMRC", "SHORT"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Empty() {
		t.Fatal("no value loaded")
	}
	notes := strings.Join(s.Notes(), "\n")
	for _, want := range []string{"secret OPTIONAL: not given", "secret SHORT: value shorter than 6 bytes"} {
		if !strings.Contains(notes, want) {
			t.Errorf("no note %q in the notes:\n%s", want, notes)
		}
	}
	var got []string
	for _, v := range s.values {
		got = append(got, v.ID+"/"+v.Field)
	}
	want := []string{"TOKEN/", "NPMRC/", "NPMRC///registry.npmjs.org/:_authToken"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("values: got %v, want %v", got, want)
	}
	assertNoValue(t, []string{tok, pw}, map[string]string{"the notes": notes})
}

// TestLoadSecretsUnreadable: a secret file that exists but cannot be read
// fails, naming the secret and not its value.
func TestLoadSecretsUnreadable(t *testing.T) {
	dir := t.TempDir()
	tok := canary(t)
	writeSecret(t, dir, 0, tok)
	if err := os.Mkdir(filepath.Join(dir, "1"), 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := LoadSecrets(dir, []string{"TOKEN", "BROKEN"})
	if err == nil || !strings.Contains(err.Error(), "secret BROKEN") {
		t.Fatalf("got error %v, want one naming secret BROKEN", err)
	}
	assertNoValue(t, []string{tok}, map[string]string{"the error": err.Error()})
}

func TestLoadSecretsNone(t *testing.T) {
	s, err := LoadSecrets(t.TempDir(), []string{"A"})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Empty() {
		t.Error("not empty")
	}
	r, err := ScanTree(t.TempDir(), s, ScanOptions{})
	if err != nil || len(r.Findings) != 0 || len(r.Notes) == 0 {
		t.Errorf("ScanTree with no secrets: %v, %+v", err, r)
	}
}
