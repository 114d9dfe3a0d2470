package verify

import (
	"archive/zip"
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"math/rand/v2"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"

	"github.com/ulikunitz/xz"

	"github.com/hushbuild/hushbuild/internal/nest/nesttest"
	vt "github.com/hushbuild/hushbuild/verify/verifytest"
)

func gz(t testing.TB, b []byte) []byte        { return vt.Compress(t, vt.Gzip, b) }
func zst(t testing.TB, b []byte) []byte       { return vt.Compress(t, vt.Zstd, b) }
func tarOf(t testing.TB, f ...vt.File) []byte { return vt.Tar(t, f) }

func zlibbed(t testing.TB, b []byte) []byte {
	var out bytes.Buffer
	w := zlib.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func xzed(t testing.TB, b []byte) []byte {
	var out bytes.Buffer
	w, err := xz.NewWriter(&out)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// bzipped compresses with bzip2(1): Go's library reads bzip2 only.
func bzipped(t testing.TB, b []byte) []byte {
	cmd := exec.Command("bzip2", "-c")
	cmd.Stdin = bytes.NewReader(b)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the bzip2 tests need bzip2(1): %v", err)
	}
	return out
}

// zipOf makes a zip archive of name, body pairs (deflated, so that the
// bodies are not in it as they are).
func zipOf(t testing.TB, kv ...string) []byte { return zipWith(t, zip.Deflate, kv...) }

// zipWith makes a zip archive of name, body pairs compressed by method.
func zipWith(t testing.TB, method uint16, kv ...string) []byte {
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for i := 0; i < len(kv); i += 2 {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: kv[i], Method: method})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(kv[i+1]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestNestedArchives(t *testing.T) {
	c := vt.Canary(t)
	npmrc := "//registry.npmjs.org/:_authToken=" + c + "\n"
	// Text around the value, so that a truncated stream still holds it.
	long := npmrc + strings.Repeat("filler line of a log, nothing secret\n", 20000)
	tests := []struct {
		name   string
		layers [][]vt.File
		want   []string // paths of the content hits of the secret
		names  []string // paths of the name hits of the secret
		note   string   // in a note
		err    string   // in the error
	}{
		{name: "gzip", layers: [][]vt.File{{{Name: "etc/npmrc.gz", Body: string(gz(t, []byte(npmrc)))}}},
			want: []string{"/etc/npmrc.gz (gzip)"}},
		{name: "zstd", layers: [][]vt.File{{{Name: "etc/npmrc.zst", Body: string(zst(t, []byte(npmrc)))}}},
			want: []string{"/etc/npmrc.zst", "/etc/npmrc.zst (zstd)"}}, // literals stay as they are
		{name: "bzip2", layers: [][]vt.File{{{Name: "etc/npmrc.bz2", Body: string(bzipped(t, []byte(npmrc)))}}},
			want: []string{"/etc/npmrc.bz2 (bzip2)"}},
		{name: "xz", layers: [][]vt.File{{{Name: "etc/npmrc.xz", Body: string(xzed(t, []byte(npmrc)))}}},
			want: []string{"/etc/npmrc.xz", "/etc/npmrc.xz (xz)"}},
		{name: "zlib", layers: [][]vt.File{{{Name: "var/cache/blob", Body: string(zlibbed(t, []byte(npmrc)))}}},
			want: []string{"/var/cache/blob (zlib)"}},
		{name: "tar.gz", layers: [][]vt.File{{{Name: "dist/src.tgz", Body: string(gz(t, tarOf(t, vt.File{Name: "app/readme", Body: "hello"}, vt.File{Name: "app/.npmrc", Body: npmrc})))}}},
			want: []string{"/dist/src.tgz (gzip):app/.npmrc"}},
		{name: "zip", layers: [][]vt.File{{{Name: "app/lib.jar", Body: string(zipOf(t, "META-INF/", "", "META-INF/creds.properties", "token="+c+"\n"))}}},
			want: []string{"/app/lib.jar:META-INF/creds.properties"}},
		{name: "tar.gz in tar.gz", layers: [][]vt.File{{{Name: "o.tgz", Body: string(gz(t, tarOf(t, vt.File{Name: "in/inner.tar.gz", Body: string(gz(t, tarOf(t, vt.File{Name: "app/.npmrc", Body: npmrc})))})))}}},
			want: []string{"/o.tgz (gzip):in/inner.tar.gz (gzip):app/.npmrc"}},
		{name: "zip in tar.xz", layers: [][]vt.File{{{Name: "o.tar.xz", Body: string(xzed(t, tarOf(t, vt.File{Name: "lib/a.whl", Body: string(zipOf(t, "a/cfg.py", "KEY = '"+c+"'\n"))})))}}},
			want: []string{"/o.tar.xz (xz):lib/a.whl:a/cfg.py"}},
		{name: "gzip member of a plain tar", layers: [][]vt.File{{{Name: "backup.tar", Body: string(tarOf(t, vt.File{Name: "home/.npmrc.gz", Body: string(gz(t, []byte(npmrc)))}))}}},
			want: []string{"/backup.tar:home/.npmrc.gz (gzip)"}},
		{name: "a member named with the value", layers: [][]vt.File{{{Name: "x.tgz", Body: string(gz(t, tarOf(t, vt.File{Name: "keys/" + c, Body: "x"})))}}},
			names: []string{"/x.tgz (gzip):keys/<redacted>"}},
		{name: "deleted in a later layer", layers: [][]vt.File{{{Name: "dist/src.tgz", Body: string(gz(t, tarOf(t, vt.File{Name: "app/.npmrc", Body: npmrc})))}}, {{Name: "dist/.wh.src.tgz"}}},
			want: []string{"/dist/src.tgz (gzip):app/.npmrc"}},
		{name: "large tar.gz, streamed", layers: [][]vt.File{{{Name: "dist/big.tgz", Body: string(gz(t, tarOf(t, vt.File{Name: "noise", Body: noise(3 << 20)}, vt.File{Name: "app/.npmrc", Body: npmrc})))}}},
			want: []string{"/dist/big.tgz (gzip):app/.npmrc"}},
		{name: "large zip, streamed", layers: [][]vt.File{{{Name: "app.jar", Body: string(zipOf(t, "noise", noise(3<<20), "cfg/app.properties", "token="+c))}}},
			want: []string{"/app.jar:cfg/app.properties"}},
		{name: "large corrupt gzip, streamed", layers: [][]vt.File{{{Name: "big.gz", Body: string(truncated(gz(t, []byte(npmrc+noise(3<<20)))))}}},
			want: []string{"/big.gz", "/big.gz (gzip)"}, note: "/big.gz: gzip data that cannot be decompressed after"}, // stored blocks: raw in the file too
		{name: "corrupt gzip", layers: [][]vt.File{{{Name: "log.gz", Body: string(truncated(gz(t, []byte(long))))}}},
			want: []string{"/log.gz (gzip)"}, note: "/log.gz: gzip data that cannot be decompressed after"},
		{name: "corrupt zip", layers: [][]vt.File{{{Name: "a.zip", Body: "PK\x03\x04 not really a zip " + c}}},
			want: []string{"/a.zip"}, note: "/a.zip: starts as a zip archive but cannot be read as one"},
		{name: "nested too deep", layers: [][]vt.File{{{Name: "deep.gz", Body: string(gz(t, gz(t, gz(t, gz(t, gz(t, []byte(npmrc)))))))}}},
			note: "/deep.gz (gzip) (gzip) (gzip) (gzip): gzip data nested more than 4 archives deep"},
		{name: "brotli, known by its name", layers: [][]vt.File{{{Name: "srv/www/app.js.br", Body: string(nesttest.Brotli([]byte(npmrc)))}}},
			want: []string{"/srv/www/app.js.br (brotli)"}},
		{name: "brotli, large, streamed", layers: [][]vt.File{{{Name: "srv/www/vendor.js.BR", Body: string(nesttest.Brotli([]byte(noise(3<<20) + npmrc)))}}},
			want: []string{"/srv/www/vendor.js.BR", "/srv/www/vendor.js.BR (brotli)"}}, // noise: stored, the value as it is
		{name: "brotli member of a tar.gz", layers: [][]vt.File{{{Name: "dist.tgz", Body: string(gz(t, tarOf(t, vt.File{Name: "www/app.js.br", Body: string(nesttest.Brotli([]byte(npmrc)))})))}}},
			want: []string{"/dist.tgz (gzip):www/app.js.br (brotli)"}},
		{name: "called .br, not brotli", layers: [][]vt.File{{{Name: "po/messages.br", Body: "msgid \"hello\"\nmsgstr \"olá\"\n"}}}},
		{name: "not compressed", layers: [][]vt.File{{{Name: "etc/npmrc", Body: npmrc}, {Name: "HK", Body: "HK" + npmrc}}},
			want: []string{"/HK", "/etc/npmrc"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var layers []vt.Layer
			for _, fs := range tc.layers {
				layers = append(layers, vt.Layer{Files: fs})
			}
			l := vt.NewLayout(t).Write(vt.Image{Layers: layers})
			r, err := run(t, Options{Image: l.Dir, Secrets: []Secret{{ID: "NPM_TOKEN", Value: c}}})
			if tc.err == "" && err != nil {
				t.Fatalf("Scan: %v", err)
			}
			if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("Scan error %v, want one with %q", err, tc.err)
			}
			var got, names []string
			for _, h := range find(r, secretHit("NPM_TOKEN")) {
				switch h.In {
				case InContent:
					got = append(got, h.Path)
				case InName:
					names = append(names, h.Path)
				}
				if h.Layer != nil && *h.Layer == 0 && len(tc.layers) > 1 && !strings.Contains(strings.Join(h.Notes, ";"), "deleted in layer 1") {
					t.Errorf("hit at %s: notes %q, want it deleted in layer 1", h.Path, h.Notes)
				}
			}
			sort.Strings(got)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("content hits at %q, want %q\n%s", got, tc.want, dump(r))
			}
			if strings.Join(names, "\n") != strings.Join(tc.names, "\n") {
				t.Errorf("name hits at %q, want %q", names, tc.names)
			}
			notes := strings.Join(r.Notes, "\n")
			if tc.note != "" && !strings.Contains(notes, tc.note) {
				t.Errorf("notes %q, want one with %q", notes, tc.note)
			}
			if tc.note == "" && strings.Contains(notes, "searched as raw bytes") {
				t.Errorf("unexpected notes %q", notes)
			}
		})
	}
}

// truncated cuts a compressed stream in the middle.
func truncated(b []byte) []byte { return b[:len(b)/2] }

// TestNestedBomb: content that decompresses beyond the limits fails the
// scan, whatever the archive format, without reading it all.
func TestNestedBomb(t *testing.T) {
	old := maxDecompressed
	maxDecompressed = 4 << 20
	defer func() { maxDecompressed = old }()
	zeros := make([]byte, 16<<20)
	tests := []struct {
		name string
		body []byte
	}{
		{"gzip", gz(t, zeros)},
		{"zstd", zst(t, zeros)},
		{"tar.gz", gz(t, tarOf(t, vt.File{Name: "a", Body: string(zeros)}))},
		{"zip", zipOf(t, "a", string(zeros))},
		{"gzip in gzip", gz(t, gz(t, zeros))},
		{"tar.gz, streamed", gz(t, tarOf(t, vt.File{Name: "noise", Body: noise(3 << 20)}, vt.File{Name: "a", Body: string(zeros)}))},
		{"many small files in a zip", zipOf(t, "a", string(zeros[:3<<20]), "b", string(zeros[:3<<20]))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := vt.Canary(t)
			l := vt.NewLayout(t).Write(vt.Image{Layers: []vt.Layer{{Files: []vt.File{{Name: "bomb", Body: string(tc.body)}}}}})
			_, err := run(t, Options{Image: l.Dir, Secrets: []Secret{{ID: "S", Value: c}}})
			if err == nil || !strings.Contains(err.Error(), "/bomb: decompresses to more than") {
				t.Fatalf("Scan error %v, want the bomb named", err)
			}
		})
	}
}

// TestNestedLargeZip: a zip archive too large to be read into memory is
// opened from a temporary file, which is removed.
func TestNestedLargeZip(t *testing.T) {
	old := maxZipInMemory
	maxZipInMemory = 1 << 10
	defer func() { maxZipInMemory = old }()
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	c := vt.Canary(t)
	body := zipOf(t, "a.txt", strings.Repeat("padding ", 1000), "b/cred", "x="+c)
	l := vt.NewLayout(t).Write(vt.Image{Layers: []vt.Layer{{Files: []vt.File{{Name: "big.zip", Body: string(body)}}}}})
	r := mustRun(t, Options{Image: l.Dir, Secrets: []Secret{{ID: "S", Value: c}}})
	hits := find(r, secretHit("S"))
	if len(hits) != 1 || hits[0].Path != "/big.zip:b/cred" {
		t.Fatalf("hits %s", dump(r))
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// FuzzNested opens arbitrary bytes as a layer file's content: whatever
// they hold, the nester ends (no panic, no hang) within the limits, and
// two runs agree.
func FuzzNested(f *testing.F) {
	old := maxDecompressed
	maxDecompressed = 1 << 20
	defer func() { maxDecompressed = old }()
	npmrc := []byte("//r/:_authToken=hunter22hunter22\n")
	f.Add(gz(f, tarOf(f, vt.File{Name: "app/.npmrc", Body: string(npmrc)})))
	f.Add(zst(f, npmrc))
	f.Add(xzed(f, npmrc))
	f.Add(bzipped(f, npmrc))
	f.Add(zlibbed(f, npmrc))
	f.Add(zipOf(f, "a/.npmrc", string(npmrc), "b.gz", string(gz(f, npmrc))))
	f.Add(tarOf(f, vt.File{Name: "x.tgz", Body: string(gz(f, tarOf(f, vt.File{Name: "y", Body: string(npmrc)})))}))
	f.Add(truncated(gz(f, npmrc)))
	f.Add(nesttest.Ar("debian-binary", "2.0\n", "data.tar.gz", string(gz(f, tarOf(f, vt.File{Name: "./.npmrc", Body: string(npmrc)})))))
	f.Add(nesttest.Pack("x"+string(npmrc), "base blob\n", string(npmrc)))
	f.Add(append([]byte("#!/bin/sh\nexit 0\n"), xzed(f, npmrc)...))
	f.Add(append([]byte("#!/usr/bin/env python3\n"), zipOf(f, "a/.npmrc", string(npmrc))...))
	f.Add([]byte("k: " + base64.StdEncoding.EncodeToString(gz(f, npmrc)) + "\n"))
	m, err := newMatcher([]Secret{{ID: "S", Value: "hunter22hunter22"}}, true, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var hits [2]int
		var errs [2]error
		for i := range hits {
			c := newCollector()
			o := m.openNested("/f", "/f", int64(len(data)))
			for p := data; len(p) > 0; p = p[min(len(p), 7):] {
				o.write(p[:min(len(p), 7)])
			}
			_, errs[i] = o.finish(c, false)
			hits[i] = len(c.list())
		}
		if hits[0] != hits[1] || (errs[0] == nil) != (errs[1] == nil) {
			t.Fatalf("run 1: %d hits, error %v; run 2: %d hits, error %v", hits[0], errs[0], hits[1], errs[1])
		}
		// Whole in memory (as a file within a read block), it ends too
		// and finds what the stream found, or more (a zip at its end,
		// base64 runs).
		c := newCollector()
		if _, err := m.newNester().nestBytes(c, "/f", "/f", data); err == nil && errs[0] == nil && len(c.list()) < hits[0] {
			t.Fatalf("whole: %d hits, streamed: %d", len(c.list()), hits[0])
		}
	})
}

// noise is n incompressible bytes (the same each run), so that an
// archive holding it spans several of the layer's read blocks.
func noise(n int) string {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return string(b)
}
