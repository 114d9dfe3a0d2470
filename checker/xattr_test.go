package checker

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"golang.org/x/sys/unix"
)

// setXattr sets the extended attribute name of path to value; it skips the
// test when the file system refuses user attributes.
func setXattr(t *testing.T, path, name, value string) {
	t.Helper()
	if err := unix.Lsetxattr(path, name, []byte(value), 0); err != nil {
		if errors.Is(err, unix.ENOTSUP) {
			t.Skipf("the file system of %s refuses user extended attributes (ENOTSUP): cannot test them", filepath.Dir(path))
		}
		t.Fatal(err)
	}
}

// TestScanTreeXattrs: a value in the name or the value of an extended
// attribute of a file or a directory is found (curl --xattr keeps a
// download's URL, query token and all, in user.xdg.origin.url); the path
// names the attribute, redacted, never the value.
func TestScanTreeXattrs(t *testing.T) {
	tests := []treeCase{
		{name: "curl --xattr: the URL of a download", build: func(t *testing.T, dir, v string) {
			write(t, dir, "opt/agent.tar.gz", "not really a tarball")
			setXattr(t, filepath.Join(dir, "opt/agent.tar.gz"), "user.xdg.origin.url", "https://dl.example.com/agent.tar.gz?token="+url.QueryEscape(v))
			setXattr(t, filepath.Join(dir, "opt/agent.tar.gz"), "user.mime_type", "application/gzip")
		}, want: []Finding{{Path: "/opt/agent.tar.gz (extended attribute user.xdg.origin.url)", Where: "xattr", Encoding: "raw"}}},
		{name: "setfattr on a directory", build: func(t *testing.T, dir, v string) {
			write(t, dir, "srv/app/readme", "hello")
			setXattr(t, filepath.Join(dir, "srv/app"), "user.token", v)
		}, want: []Finding{{Path: "/srv/app (extended attribute user.token)", Where: "xattr", Encoding: "raw"}}},
		{name: "the root", build: func(t *testing.T, dir, v string) {
			setXattr(t, dir, "user.deploy", "key="+v)
		}, want: []Finding{{Path: "/ (extended attribute user.deploy)", Where: "xattr", Encoding: "raw"}}},
		{name: "the attribute's name", build: func(t *testing.T, dir, v string) {
			write(t, dir, "f", "x")
			setXattr(t, filepath.Join(dir, "f"), "user.t-"+v, "1")
		}, want: []Finding{{Path: "/f (extended attribute user.t-<redacted>)", Where: "xattr", Encoding: "raw"}}},
		{name: "a file with two links", build: func(t *testing.T, dir, v string) {
			write(t, dir, "a", "x")
			check(t, os.Link(filepath.Join(dir, "a"), filepath.Join(dir, "b")))
			setXattr(t, filepath.Join(dir, "a"), "user.k", v)
		}, want: []Finding{
			{Path: "/a (extended attribute user.k)", Where: "xattr", Encoding: "raw"},
			{Path: "/b (extended attribute user.k)", Where: "xattr", Encoding: "raw"},
		}},
		{name: "in content and in an attribute", build: func(t *testing.T, dir, v string) {
			write(t, dir, "f", v)
			setXattr(t, filepath.Join(dir, "f"), "user.k", v)
		}, want: []Finding{
			{Path: "/f", Where: "content", Encoding: "raw"},
			{Path: "/f (extended attribute user.k)", Where: "xattr", Encoding: "raw"},
		}},
		{name: "an attribute value longer than the first buffer", build: func(t *testing.T, dir, v string) {
			write(t, dir, "f", "x")
			pad := make([]byte, 3000)
			for i := range pad {
				pad[i] = 'p'
			}
			setXattr(t, filepath.Join(dir, "f"), "user.big", string(pad)+v)
		}, want: []Finding{{Path: "/f (extended attribute user.big)", Where: "xattr", Encoding: "raw"}}},
		{name: "clean attributes", build: func(t *testing.T, dir, v string) {
			write(t, dir, "f", "x")
			setXattr(t, filepath.Join(dir, "f"), "user.xdg.origin.url", "https://dl.example.com/f")
		}},
	}
	runTreeCases(t, tests)
}

// TestScanTreeXattrsRemove: Remove removes the attribute that holds a
// value, not the entry; the next scan finds nothing.
func TestScanTreeXattrsRemove(t *testing.T) {
	v := canary(t) + canary(t)[4:]
	dir := t.TempDir()
	write(t, dir, "cache/pkg.whl", "wheel")
	p := filepath.Join(dir, "cache/pkg.whl")
	setXattr(t, p, "user.xdg.origin.url", "https://ci:"+v+"@pypi.example.com/pkg.whl")
	setXattr(t, p, "user.mime_type", "application/zip")
	setXattr(t, dir, "user.k", v)
	s := mustSecrets(t, map[string]string{"TOKEN": v})
	r := mustScan(t, dir, s, ScanOptions{Remove: true}, v)
	want := []string{"/ (extended attribute user.k)", "/cache/pkg.whl (extended attribute user.xdg.origin.url)"}
	if !reflect.DeepEqual(r.Removed, want) {
		t.Errorf("removed %q, want %q", r.Removed, want)
	}
	if _, err := os.Stat(p); err != nil {
		t.Errorf("the file is gone: %v", err)
	}
	if _, err := unix.Lgetxattr(p, "user.mime_type", make([]byte, 64)); err != nil {
		t.Errorf("a clean attribute is gone: %v", err)
	}
	if r := mustScan(t, dir, s, ScanOptions{}, v); len(r.Findings) != 0 {
		t.Errorf("after the removal:%s", describe(r.Findings))
	}
}
