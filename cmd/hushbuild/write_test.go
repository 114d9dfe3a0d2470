package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func copyTestdata(t *testing.T, dir, name string, mode os.FileMode) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // umask
		t.Fatal(err)
	}
	return path
}

func TestRewriteInPlace(t *testing.T) {
	withFakeEngine(t)
	dir := t.TempDir()
	path := copyTestdata(t, dir, "secret-arg.Dockerfile", 0o640)
	_, want, _ := runCLI(t, "", "rewrite", "-q", path)

	code, stdout, stderr := runCLI(t, "", "rewrite", "-w", "-q", path)
	if code != 0 || stdout != "" || stderr != "" {
		t.Fatalf("rewrite -w: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	got, _ := os.ReadFile(path)
	if string(got) != want {
		t.Errorf("file after -w:\n%s\nwant:\n%s", got, want)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("mode after -w is %v, want 0640", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("-w left files behind: %v", entries)
	}
}

func TestRewriteInPlaceThroughSymlink(t *testing.T) {
	withFakeEngine(t)
	dir := t.TempDir()
	target := copyTestdata(t, dir, "secret-arg.Dockerfile", 0o600)
	link := filepath.Join(dir, "Dockerfile")
	if err := os.Symlink("secret-arg.Dockerfile", link); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "", "rewrite", "-w", "-q", link); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symlink was replaced: %v %v", fi.Mode(), err)
	}
	got, _ := os.ReadFile(target)
	if !strings.Contains(string(got), "--mount=type=secret,id=PYPI_TOKEN") {
		t.Errorf("the symlink's target was not rewritten:\n%s", got)
	}
}

// TestRewriteInPlaceFailsClosed: a rewrite with errors leaves the file
// untouched.
func TestRewriteInPlaceFailsClosed(t *testing.T) {
	withFakeEngine(t)
	dir := t.TempDir()
	path := copyTestdata(t, dir, "hardcoded.Dockerfile", 0o644)
	before, _ := os.ReadFile(path)
	code, stdout, stderr := runCLI(t, "", "rewrite", "-w", path)
	if code != 1 || stdout != "" || !strings.Contains(stderr, "[HardcodedSecret]") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	after, _ := os.ReadFile(path)
	if string(after) != string(before) {
		t.Errorf("-w changed a file whose rewrite has errors")
	}
}

// TestRewriteInPlaceUnchanged: nothing to rewrite, nothing written (the
// file keeps its modification time).
func TestRewriteInPlaceUnchanged(t *testing.T) {
	withFakeEngine(t)
	dir := t.TempDir()
	path := copyTestdata(t, dir, "clean.Dockerfile", 0o644)
	old := mustStat(t, path).ModTime().Add(-3600e9)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "", "rewrite", "-w", path); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !mustStat(t, path).ModTime().Equal(old) {
		t.Error("-w rewrote a file that needed no change")
	}
}

func TestRewriteInPlaceSeveralFiles(t *testing.T) {
	withFakeEngine(t)
	dir := t.TempDir()
	a := copyTestdata(t, dir, "secret-arg.Dockerfile", 0o644)
	b := copyTestdata(t, dir, "hardcoded.Dockerfile", 0o644)
	before, _ := os.ReadFile(b)
	code, _, stderr := runCLI(t, "", "rewrite", "-w", a, b)
	if code != 1 {
		t.Fatalf("exit %d, want 1: %s", code, stderr)
	}
	if got, _ := os.ReadFile(a); !strings.Contains(string(got), "--mount=type=secret") {
		t.Error("the file without errors was not rewritten")
	}
	if got, _ := os.ReadFile(b); string(got) != string(before) {
		t.Error("the file with errors was changed")
	}
}

func mustStat(t *testing.T, path string) os.FileInfo {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}
