package checker

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	crand "crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/unix"

	"github.com/hushbuild/hushbuild/internal/nest/nesttest"
	"github.com/hushbuild/hushbuild/internal/obscure"
	"github.com/hushbuild/hushbuild/secretscan"
)

// scan runs ScanTree and checks that neither the report nor the error
// holds a value of values.
func scan(t *testing.T, root string, s *Secrets, opt ScanOptions, values ...string) (*Report, error) {
	t.Helper()
	r, err := ScanTree(root, s, opt)
	texts := map[string]string{}
	if r != nil {
		js, _ := json.Marshal(r)
		texts["the report"] = string(js)
	}
	if err != nil {
		texts["the error"] = err.Error()
	}
	assertNoValue(t, values, texts)
	return r, err
}

func mustScan(t *testing.T, root string, s *Secrets, opt ScanOptions, values ...string) *Report {
	t.Helper()
	r, err := scan(t, root, s, opt, values...)
	if err != nil {
		t.Fatalf("ScanTree: %v", err)
	}
	return r
}

func mustSecrets(t testing.TB, values map[string]string) *Secrets {
	t.Helper()
	s, err := SecretsFromValues(values)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// write creates dir/name (and its parents) holding data.
func write(t testing.TB, dir, name, data string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// special puts characters that every escaping changes into a canary.
func special(c string) string { return c[:8] + `/ +&?='"$é` + c[8:] }

// describe lists findings for failure messages (paths are redacted).
func describe(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "\n  %s %s %s/%s %s", f.Path, f.Where, f.Secret, f.Field, f.Encoding)
	}
	return b.String()
}

func TestScanTree(t *testing.T) {
	type tc struct {
		name    string
		special bool // the secret is special(canary), else the canary
		// secrets are the secret files, by id, with V standing for the
		// value; nil means TOKEN=V.
		secrets map[string]string
		build   func(t *testing.T, dir, v string)
		want    []Finding // Secret "" means TOKEN
		notes   []string  // substrings of the notes
	}
	content := func(name, data string) func(*testing.T, string, string) {
		return func(t *testing.T, dir, v string) {
			write(t, dir, strings.ReplaceAll(name, "V", v), strings.ReplaceAll(data, "V", v))
		}
	}
	b64 := func(enc *base64.Encoding, k int) func(*testing.T, string, string) {
		return func(t *testing.T, dir, v string) {
			write(t, dir, "b64.txt", "data: "+enc.EncodeToString([]byte(strings.Repeat("p", 30+k)+v+"tail"))+"\n")
		}
	}
	tests := []tc{
		{name: "raw", build: content("a.txt", "x=V\n"), want: []Finding{{Path: "/a.txt", Where: "content", Encoding: "raw"}}},
		{name: "whole file", build: content("a.txt", "V"), want: []Finding{{Path: "/a.txt", Where: "content", Encoding: "raw"}}},
		{name: "clean", build: content("a.txt", "nothing here\n")},
		{name: "base64 0", build: b64(base64.StdEncoding, 0), want: []Finding{{Path: "/b64.txt", Where: "content", Encoding: "base64"}}},
		{name: "base64 1", build: b64(base64.StdEncoding, 1), want: []Finding{{Path: "/b64.txt", Where: "content", Encoding: "base64"}}},
		{name: "base64 2", build: b64(base64.StdEncoding, 2), want: []Finding{{Path: "/b64.txt", Where: "content", Encoding: "base64"}}},
		{name: "base64 url 0", special: true, build: b64(base64.RawURLEncoding, 0), want: []Finding{{Path: "/b64.txt", Where: "content", Encoding: "base64"}}},
		{name: "base64 url 1", special: true, build: b64(base64.RawURLEncoding, 1), want: []Finding{{Path: "/b64.txt", Where: "content", Encoding: "base64"}}},
		{name: "base64 url 2", special: true, build: b64(base64.RawURLEncoding, 2), want: []Finding{{Path: "/b64.txt", Where: "content", Encoding: "base64"}}},
		{name: "url", special: true, build: func(t *testing.T, dir, v string) {
			write(t, dir, "u.txt", "https://h.example/?t="+url.QueryEscape(v)+"&x=1")
		}, want: []Finding{{Path: "/u.txt", Where: "content", Encoding: "url"}}},
		{name: "json", special: true, build: func(t *testing.T, dir, v string) {
			js, _ := json.Marshal(map[string]string{"token": v})
			write(t, dir, "j.json", string(js))
		}, want: []Finding{{Path: "/j.json", Where: "content", Encoding: "json"}}},
		{name: "hex", build: func(t *testing.T, dir, v string) {
			write(t, dir, "h.txt", "0x"+strings.ToUpper(hex.EncodeToString([]byte("ab"+v+"cd"))))
		}, want: []Finding{{Path: "/h.txt", Where: "content", Encoding: "hex"}}},
		{name: "shell single quotes", special: true, build: func(t *testing.T, dir, v string) {
			write(t, dir, "env.sh", "export TOKEN='"+strings.ReplaceAll(v, "'", `'\''`)+"'\n")
		}, want: []Finding{{Path: "/env.sh", Where: "content", Encoding: "shell"}}},
		{name: "shell double quotes", special: true, build: func(t *testing.T, dir, v string) {
			write(t, dir, "env.sh", `TOKEN="`+strings.NewReplacer(`"`, `\"`, "$", `\$`).Replace(v)+"\"\n")
		}, want: []Finding{{Path: "/env.sh", Where: "content", Encoding: "shell"}}},
		{name: "shell printf %q", special: true, build: func(t *testing.T, dir, v string) {
			q := strings.Replace(v, `/ +&?='"$é`, `/\ +\&\?=\'\"\$é`, 1) // as bash writes it
			write(t, dir, "cmd.sh", "curl -H Authorization:\\ "+q+" x\n")
		}, want: []Finding{{Path: "/cmd.sh", Where: "content", Encoding: "shell"}}},
		{name: "file name", build: content("cache/tok-V.json", "{}"), want: []Finding{{Path: "/cache/tok-<redacted>.json", Where: "name", Encoding: "raw"}}},
		{name: "directory name", build: content("d-V/inner.txt", "x"), want: []Finding{{Path: "/d-<redacted>", Where: "name", Encoding: "raw"}}},
		{name: "names spread over directories", special: true, build: func(t *testing.T, dir, v string) {
			write(t, dir, v, "x") // the value holds a slash
		}, want: []Finding{{Path: "/<redacted>", Where: "name", Encoding: "raw"}}},
		{name: "nested", build: content("a/b/c/deep.bin", "\x00\x01V\x02"), want: []Finding{{Path: "/a/b/c/deep.bin", Where: "content", Encoding: "raw"}}},
		{name: "symlink target", build: func(t *testing.T, dir, v string) {
			check(t, os.Symlink("/run/secrets/"+v, filepath.Join(dir, "l")))
			check(t, os.Symlink("elsewhere", filepath.Join(dir, "clean-link")))
		}, want: []Finding{{Path: "/l", Where: "link", Encoding: "raw"}}},
		{name: "symlink not followed", build: func(t *testing.T, dir, v string) {
			outside := t.TempDir()
			write(t, outside, "f", v)
			check(t, os.Symlink(outside, filepath.Join(dir, "out")))
			check(t, os.Symlink(filepath.Join(outside, "f"), filepath.Join(dir, "outf")))
		}},
		{name: "hard links", build: func(t *testing.T, dir, v string) {
			write(t, dir, "h1", v)
			check(t, os.Link(filepath.Join(dir, "h1"), filepath.Join(dir, "h2")))
		}, want: []Finding{{Path: "/h1", Where: "content", Encoding: "raw"}, {Path: "/h2", Where: "content", Encoding: "raw"}}},
		{name: "across reads", build: func(t *testing.T, dir, v string) {
			pad := strings.Repeat("z", readBufSize-len(v)/2)
			write(t, dir, "big", pad+v+pad+v[:len(v)-1])
		}, want: []Finding{{Path: "/big", Where: "content", Encoding: "raw"}}},
		{name: "field of a secret file", secrets: map[string]string{"NPMRC": "//registry.npmjs.org/:_authToken=V\nregistry=https://registry.npmjs.org/\n"},
			build: content("app/.env", "NPM_TOKEN=V\n"),
			want:  []Finding{{Path: "/app/.env", Where: "content", Secret: "NPMRC", Field: "//registry.npmjs.org/:_authToken", Encoding: "raw"}}},
		{name: "short value", secrets: map[string]string{"SHORT": "ab1", "TOKEN": "V"},
			build: content("ab1/ab1", "ab1 ab1"),
			notes: []string{"secret SHORT: value shorter than 6 bytes"}},
		{name: "long value", secrets: map[string]string{"KEY": "-----BEGIN KEY-----\n" + strings.Repeat("V\n", 10) + "-----END KEY-----\n"},
			build: content("root/.ssh/id", "-----BEGIN KEY-----\n"+strings.Repeat("V\n", 10)+"-----END KEY-----\n"),
			want:  []Finding{{Path: "/root/.ssh/id", Where: "content", Secret: "KEY", Encoding: "raw"}}},
		{name: "two secrets, one value", secrets: map[string]string{"A": "V", "B": "V"}, build: content("f", "V"),
			want: []Finding{{Path: "/f", Where: "content", Secret: "A", Encoding: "raw"}, {Path: "/f", Where: "content", Secret: "B", Encoding: "raw"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := canary(t)
			if tt.special {
				v = special(v)
			}
			secrets := map[string]string{"TOKEN": v}
			if tt.secrets != nil {
				secrets = map[string]string{}
				for id, s := range tt.secrets {
					secrets[id] = strings.ReplaceAll(s, "V", v)
				}
			}
			dir := t.TempDir()
			tt.build(t, dir, v)
			r := mustScan(t, dir, mustSecrets(t, secrets), ScanOptions{}, v)
			want := []Finding{}
			for _, f := range tt.want {
				if f.Secret == "" {
					f.Secret = "TOKEN"
				}
				want = append(want, f)
			}
			if !reflect.DeepEqual(r.Findings, want) {
				t.Errorf("findings:%s\nwant:%s", describe(r.Findings), describe(want))
			}
			notes := strings.Join(r.Notes, "\n")
			for _, n := range tt.notes {
				if !strings.Contains(notes, n) {
					t.Errorf("no note %q in:\n%s", n, notes)
				}
			}
		})
	}
}

// TestScanTreeSparse: a sparse file is read by its data only.
func TestScanTreeSparse(t *testing.T) {
	v := canary(t)
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "sparse"))
	check(t, err)
	_, err = f.WriteAt([]byte("head"), 0)
	check(t, err)
	_, err = f.WriteAt([]byte(v), 1<<30)
	check(t, err)
	check(t, f.Close())
	// Holes at both ends, and one across the value's place.
	f, err = os.Create(filepath.Join(dir, "tail-hole"))
	check(t, err)
	check(t, f.Truncate(1<<30))
	check(t, f.Close())
	var st syscall.Stat_t
	check(t, syscall.Stat(filepath.Join(dir, "sparse"), &st))
	if st.Blocks*512 >= st.Size {
		t.Skip("the file system does not keep sparse files")
	}
	start := time.Now()
	r := mustScan(t, dir, mustSecrets(t, map[string]string{"TOKEN": v}), ScanOptions{}, v)
	want := []Finding{{Path: "/sparse", Where: "content", Secret: "TOKEN", Encoding: "raw"}}
	if !reflect.DeepEqual(r.Findings, want) {
		t.Errorf("findings:%s", describe(r.Findings))
	}
	if r.Bytes > 1<<20 || r.Files != 2 {
		t.Errorf("read %d bytes in %d files, want only the data regions of 2", r.Bytes, r.Files)
	}
	t.Logf("2 GiB of sparse files scanned in %v, %d bytes read", time.Since(start), r.Bytes)
}

// TestScanTreeSpecialFiles: a fifo is never opened (it would block); its
// name is searched.
func TestScanTreeSpecialFiles(t *testing.T) {
	v := canary(t)
	dir := t.TempDir()
	check(t, unix.Mkfifo(filepath.Join(dir, "fifo"), 0o644))
	check(t, unix.Mkfifo(filepath.Join(dir, "fifo-"+v), 0o644))
	write(t, dir, "f", v)
	done := make(chan struct{})
	var r *Report
	go func() {
		defer close(done)
		r, _ = ScanTree(dir, mustSecrets(t, map[string]string{"TOKEN": v}), ScanOptions{})
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("ScanTree blocked on a fifo")
	}
	if r == nil {
		t.Fatal("ScanTree failed")
	}
	want := []Finding{
		{Path: "/f", Where: "content", Secret: "TOKEN", Encoding: "raw"},
		{Path: "/fifo-<redacted>", Where: "name", Secret: "TOKEN", Encoding: "raw"},
	}
	if !reflect.DeepEqual(r.Findings, want) {
		t.Errorf("findings:%s", describe(r.Findings))
	}
	if !strings.Contains(strings.Join(r.Notes, "\n"), "2 special file(s)") {
		t.Errorf("no note on the fifos: %q", r.Notes)
	}
}

// exists lists the entries under dir.
func exists(t *testing.T, dir string) []string {
	var out []string
	check(t, filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			out = append(out, strings.TrimPrefix(p, dir))
		}
		return nil
	}))
	sort.Strings(out)
	return out
}

// TestScanTreeRemove: Remove deletes exactly the entries that hold a value,
// every hard link of a file that does, and the whole of a directory whose
// name does.
func TestScanTreeRemove(t *testing.T) {
	v := canary(t)
	dir := t.TempDir()
	write(t, dir, "keep.txt", "clean")
	write(t, dir, "leak.txt", "x "+v)
	write(t, dir, "sub/clean.txt", "clean")
	write(t, dir, "sub/leak.b64", base64.StdEncoding.EncodeToString([]byte("user:"+v)))
	write(t, dir, "d-"+v+"/inner/f", "clean")
	write(t, dir, "name-"+v, "")
	write(t, dir, "hl1", v)
	check(t, os.Link(filepath.Join(dir, "hl1"), filepath.Join(dir, "sub", "hl2")))
	check(t, os.Symlink("/x/"+v, filepath.Join(dir, "link")))
	check(t, os.Symlink("keep.txt", filepath.Join(dir, "clean-link")))
	r := mustScan(t, dir, mustSecrets(t, map[string]string{"TOKEN": v}), ScanOptions{Remove: true}, v)
	if got, want := exists(t, dir), []string{"/clean-link", "/keep.txt", "/sub", "/sub/clean.txt"}; !reflect.DeepEqual(got, want) {
		t.Errorf("left %q, want %q", got, want)
	}
	want := []string{"/d-<redacted>", "/hl1", "/leak.txt", "/link", "/name-<redacted>", "/sub/hl2", "/sub/leak.b64"}
	if !reflect.DeepEqual(r.Removed, want) {
		t.Errorf("removed %q, want %q", r.Removed, want)
	}
	if len(r.Findings) != 7 {
		t.Errorf("findings:%s", describe(r.Findings))
	}
	// Nothing left to find.
	if r := mustScan(t, dir, mustSecrets(t, map[string]string{"TOKEN": v}), ScanOptions{Remove: true}, v); len(r.Findings) != 0 {
		t.Errorf("second scan:%s", describe(r.Findings))
	}
}

// TestScanTreeChangedSince: entries whose ctime and mtime are both before
// the cut are skipped; a back-dated mtime does not hide a new file.
func TestScanTreeChangedSince(t *testing.T) {
	t.Parallel()
	v := canary(t)
	dir := t.TempDir()
	write(t, dir, "old.txt", v)
	write(t, dir, "old-"+v, "")
	write(t, dir, "olddir/old.txt", v)
	time.Sleep(ChangedSinceSlack + 200*time.Millisecond)
	cut := time.Now()
	write(t, dir, "new.txt", v)
	write(t, dir, "olddir/new.txt", v)
	write(t, dir, "backdated.txt", v)
	long := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	check(t, os.Chtimes(filepath.Join(dir, "backdated.txt"), long, long))
	r := mustScan(t, dir, mustSecrets(t, map[string]string{"TOKEN": v}), ScanOptions{ChangedSince: cut}, v)
	var got []string
	for _, f := range r.Findings {
		got = append(got, f.Path)
	}
	if want := []string{"/backdated.txt", "/new.txt", "/olddir/new.txt"}; !reflect.DeepEqual(got, want) {
		t.Errorf("found in %q, want %q", got, want)
	}
	if r.Skipped != 3 {
		t.Errorf("skipped %d, want 3", r.Skipped)
	}
	// Without a cut, everything.
	if r := mustScan(t, dir, mustSecrets(t, map[string]string{"TOKEN": v}), ScanOptions{}, v); len(r.Findings) != 6 {
		t.Errorf("without a cut:%s", describe(r.Findings))
	}
}

// TestScanTreeFailsClosed: what cannot be searched is an error that says
// where (redacted), never a partial report.
func TestScanTreeFailsClosed(t *testing.T) {
	v := canary(t)
	s := mustSecrets(t, map[string]string{"TOKEN": v})
	t.Run("path too long", func(t *testing.T) {
		dir := t.TempDir()
		fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
		check(t, err)
		for i := 0; i < 30; i++ {
			name := strings.Repeat("d", 200) + fmt.Sprint(i)
			if i == 3 {
				name = "x" + v
			}
			check(t, unix.Mkdirat(fd, name, 0o755))
			next, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY, 0)
			check(t, err)
			unix.Close(fd)
			fd = next
		}
		unix.Close(fd)
		_, err = scan(t, dir, s, ScanOptions{}, v)
		if err == nil || !strings.Contains(err.Error(), "/x<redacted>/") {
			t.Errorf("got error %v, want one with the redacted path", err)
		}
	})
	t.Run("unreadable file", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, "secret-"+v+"/f", "x")
		write(t, dir, "other", "x")
		check(t, os.Chmod(filepath.Join(dir, "secret-"+v, "f"), 0))
		if os.Geteuid() == 0 {
			// Root reads every file: make the open fail as it would.
			defer func(open func(string, int, os.FileMode) (*os.File, error)) { openFile = open }(openFile)
			openFile = func(name string, flag int, perm os.FileMode) (*os.File, error) {
				if strings.HasSuffix(name, "/f") {
					return nil, &os.PathError{Op: "open", Path: name, Err: syscall.EACCES}
				}
				return os.OpenFile(name, flag, perm)
			}
		}
		r, err := scan(t, dir, s, ScanOptions{}, v)
		if err == nil || r != nil || !strings.Contains(err.Error(), "/secret-<redacted>/f: permission denied") {
			t.Errorf("got error %v, want one naming the file", err)
		}
	})
	t.Run("too many files", func(t *testing.T) {
		dir := t.TempDir()
		for i := 0; i < 5; i++ {
			write(t, dir, fmt.Sprint(i), "x")
		}
		if r, err := scan(t, dir, s, ScanOptions{MaxFiles: 4}, v); err == nil || r != nil {
			t.Errorf("5 files with MaxFiles 4: no error")
		}
		if _, err := scan(t, dir, s, ScanOptions{MaxFiles: 5}, v); err != nil {
			t.Error(err)
		}
	})
	t.Run("too many bytes", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, "a", strings.Repeat("x", 100))
		if r, err := scan(t, dir, s, ScanOptions{MaxBytes: 99}, v); err == nil || r != nil {
			t.Errorf("100 bytes with MaxBytes 99: no error")
		}
	})
	t.Run("root is not a directory", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, "f", "x")
		if _, err := scan(t, filepath.Join(dir, "f"), s, ScanOptions{}, v); err == nil {
			t.Error("no error")
		}
		if _, err := scan(t, filepath.Join(dir, "missing"), s, ScanOptions{}, v); err == nil {
			t.Error("no error")
		}
	})
}

func TestReportFile(t *testing.T) {
	r := &Report{
		Findings: []Finding{{Path: "/a-<redacted>", Where: "content", Secret: "A", Field: "f", Encoding: "raw"}},
		Files:    3, Bytes: 10, Skipped: 1, Removed: []string{"/a"}, Notes: []string{"n"},
	}
	p := filepath.Join(t.TempDir(), "report.json")
	check(t, r.WriteFile(p))
	data, err := os.ReadFile(p)
	check(t, err)
	if !bytes.Contains(data, []byte("/a-<redacted>")) {
		t.Errorf("the file does not say <redacted> plainly:\n%s", data)
	}
	got, err := ReadReport(data)
	check(t, err)
	if !reflect.DeepEqual(got, r) {
		t.Errorf("read %+v, wrote %+v", got, r)
	}
	if got, err := ReadReport([]byte(`{"files":1}`)); err != nil || got.Findings == nil {
		t.Errorf("empty report: %v, %+v", err, got)
	}
	for _, bad := range []string{"", "{", `{"files":1} x`, `{"files":"x"}`} {
		if _, err := ReadReport([]byte(bad)); err == nil {
			t.Errorf("ReadReport(%q): no error", bad)
		}
	}
}

// fuzzSecrets are values with short, long and escaped needles.
func fuzzSecrets(t testing.TB) (*Secrets, []string) {
	c := canary(t)
	values := map[string]string{
		"TOKEN":   c,
		"SHORT":   c[4:10], // the shortest searched
		"SPECIAL": special(canary(t)),
		"KEY":     strings.Repeat(canary(t)+"\n", 8), // longer than MaxNeedleLen
	}
	var list []string
	for _, v := range values {
		list = append(list, v)
	}
	return mustSecrets(t, values), list
}

// streamFinds returns the literals found by c in data fed in pieces of
// size piece, with a hole of hole zeros at holeAt; and those a plain
// secretscan stream finds in the same bytes.
func streamFinds(s *Secrets, c *contentScan, data []byte, piece, holeAt, hole int) (got, want []int) {
	c.reset()
	feed := func(p []byte) {
		for len(p) > 0 {
			n := min(piece, len(p))
			c.write(p[:n])
			p = p[n:]
		}
	}
	feed(data[:holeAt])
	c.zeros(int64(hole))
	feed(data[holeAt:])
	got = append(got, c.close()...)
	sort.Ints(got)

	full := append(append(append([]byte(nil), data[:holeAt]...), make([]byte, hole)...), data[holeAt:]...)
	seen := map[int]bool{}
	s.sc.Scan("", full, func(m secretscan.Match) {
		if !seen[m.Literal] {
			seen[m.Literal] = true
			want = append(want, m.Literal)
		}
	})
	sort.Ints(want)
	return got, want
}

// TestContentScan: the filtered scan finds what a plain stream finds,
// wherever the values are and however the input is cut.
func TestContentScan(t *testing.T) {
	s, _ := fuzzSecrets(t)
	c := newContentScan(s)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 300; i++ {
		data := make([]byte, rng.IntN(3*readBufSize))
		for j := range data {
			const alphabet = "abcdefhk0123456789+/=\n\x00"
			data[j] = alphabet[rng.IntN(len(alphabet))]
		}
		for k := rng.IntN(4); k > 0; k-- {
			lit := s.lits[rng.IntN(len(s.lits))]
			if len(lit) <= len(data) {
				copy(data[rng.IntN(len(data)-len(lit)+1):], lit)
			}
		}
		pieces := []int{1, 7, 4096, readBufSize, 3 * readBufSize}
		holeAt := rng.IntN(len(data) + 1)
		got, want := streamFinds(s, c, data, pieces[rng.IntN(len(pieces))], holeAt, rng.IntN(3)*rng.IntN(1000))
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: found literals %v, a plain stream %v", i, got, want)
		}
	}
}

// FuzzContentScan: a value planted anywhere is found, and the filtered
// scan agrees with a plain stream, however the input is cut.
func FuzzContentScan(f *testing.F) {
	f.Add([]byte("hello world"), uint32(3), uint8(0), uint16(5), uint16(0), uint16(0))
	f.Add(bytes.Repeat([]byte{0}, 1000), uint32(999), uint8(7), uint16(1), uint16(4096), uint16(500))
	f.Add(bytes.Repeat([]byte("hfck"), 500), uint32(1), uint8(200), uint16(333), uint16(7), uint16(1))
	s, _ := fuzzSecrets(f)
	c := newContentScan(s)
	f.Fuzz(func(t *testing.T, data []byte, at uint32, which uint8, piece, hole, holeAt uint16) {
		lit := s.lits[int(which)%len(s.lits)]
		p := int(at) % (len(data) + 1)
		planted := append(append(append([]byte(nil), data[:p]...), lit...), data[p:]...)
		h := int(holeAt) % (len(planted) + 1)
		if h > p && h < p+len(lit) {
			h = p // not inside the value
		}
		got, want := streamFinds(s, c, planted, int(piece)%8192+1, h, int(hole)%20000)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("found literals %v, a plain stream %v", got, want)
		}
		found := false
		for _, l := range got {
			found = found || bytes.Equal(s.lits[l], lit)
		}
		if !found {
			t.Fatalf("the planted literal was not found")
		}
	})
}

// tarGz returns a .tar.gz of files (name, content pairs).
func tarGz(t testing.TB, files ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	for i := 0; i+1 < len(files); i += 2 {
		check(t, tw.WriteHeader(&tar.Header{Name: files[i], Mode: 0o644, Size: int64(len(files[i+1])), Typeflag: tar.TypeReg}))
		_, err := tw.Write([]byte(files[i+1]))
		check(t, err)
	}
	check(t, tw.Close())
	check(t, zw.Close())
	return b.Bytes()
}

// tarOf is a tar of files (name, content, ...).
func tarOf(t testing.TB, files ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for i := 0; i+1 < len(files); i += 2 {
		check(t, tw.WriteHeader(&tar.Header{Name: files[i], Mode: 0o644, Size: int64(len(files[i+1])), Typeflag: tar.TypeReg}))
		_, err := tw.Write([]byte(files[i+1]))
		check(t, err)
	}
	check(t, tw.Close())
	return b.Bytes()
}

// bzipped compresses data with bzip2(1): Go's library reads bzip2 only.
func bzipped(t testing.TB, data []byte) []byte {
	t.Helper()
	if _, err := exec.LookPath("bzip2"); err != nil {
		t.Fatalf("the bzip2 tests need bzip2(1) (Debian: apt-get install bzip2): %v", err)
	}
	cmd := exec.Command("bzip2", "-c")
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	check(t, err)
	return out
}

func xzed(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw, err := xz.NewWriter(&b)
	check(t, err)
	_, err = zw.Write(data)
	check(t, err)
	check(t, zw.Close())
	return b.Bytes()
}

func gzipped(t testing.TB, data []byte) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, err := zw.Write(data)
	check(t, err)
	check(t, zw.Close())
	return b.Bytes()
}

func zlibbed(t testing.TB, data []byte) []byte {
	var b bytes.Buffer
	zw := zlib.NewWriter(&b)
	_, err := zw.Write(data)
	check(t, err)
	check(t, zw.Close())
	return b.Bytes()
}

func zstded(t testing.TB, data []byte) []byte {
	zw, err := zstd.NewWriter(nil)
	check(t, err)
	return zw.EncodeAll(data, nil)
}

// zipped returns a zip of entries: name, content, method ("store",
// "deflate", "zstd"), encrypted ("enc" as a 4th field marks the entry
// encrypted).
type zipEntry struct {
	name, data, method string
	encrypted          bool
}

func zipped(t testing.TB, entries ...zipEntry) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	zw.RegisterCompressor(zstd.ZipMethodWinZip, zstd.ZipCompressor())
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		switch e.method {
		case "store":
			h.Method = zip.Store
		case "zstd":
			h.Method = zstd.ZipMethodWinZip
		case "unknown":
			h.Method = 99
			zw.RegisterCompressor(99, func(w io.Writer) (io.WriteCloser, error) { return nopCloser{w}, nil })
		}
		if e.encrypted {
			h.Flags |= 1
		}
		w, err := zw.CreateHeader(h)
		check(t, err)
		_, err = w.Write([]byte(e.data))
		check(t, err)
	}
	check(t, zw.Close())
	return b.Bytes()
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// writeBytes creates dir/name holding data.
func writeBytes(t testing.TB, dir, name string, data []byte) {
	t.Helper()
	write(t, dir, name, string(data))
}

// b64wrap is base64 as base64(1) writes it: 76 columns.
func b64wrap(data []byte, eol string) string {
	e := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	for i := 0; i < len(e); i += 76 {
		b.WriteString(e[i:min(i+76, len(e))] + eol)
	}
	return b.String()
}

// TestScanTreeWriterForms: a value is found in a file as the URL, form
// and JSON writers of other languages escape it (PHP, Java, Ruby, .NET,
// Python, Gson); each form is spelt out by the replacements it makes.
func TestScanTreeWriterForms(t *testing.T) {
	for _, tt := range writerForms {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := writerValue(t)
			dir := t.TempDir()
			write(t, dir, tt.file, tt.text(v))
			r := mustScan(t, dir, mustSecrets(t, map[string]string{"TOKEN": v}), ScanOptions{}, v)
			want := []Finding{{Path: "/" + tt.file, Where: "content", Secret: "TOKEN", Encoding: tt.enc}}
			if !reflect.DeepEqual(r.Findings, want) {
				t.Errorf("findings:%s\nwant:%s", describe(r.Findings), describe(want))
			}
		})
	}
}

// writerValue is a canary with the characters the writers of writerForms
// escape differently.
func writerValue(t testing.TB) string {
	c := canary(t)
	return c[:8] + "~ *!/+=&'\"é" + c[8:]
}

// writerForm is a file that a writer of another language makes, holding
// the value escaped: pre, the value with the replacements repl made, post.
type writerForm struct {
	name, file, pre, post string
	repl                  []string
	enc                   string
}

func (f writerForm) text(v string) string {
	return f.pre + strings.NewReplacer(f.repl...).Replace(v) + f.post
}

var writerForms = []writerForm{
	{"PHP urlencode", "config.php", "$dsn = 'mysql://app:", "@db/shop';\n",
		[]string{"~", "%7E", " ", "+", "*", "%2A", "!", "%21", "/", "%2F", "+", "%2B", "=", "%3D", "&", "%26", "'", "%27", `"`, "%22", "é", "%C3%A9"}, "url"},
	{"Java URLEncoder, lower-case hex", "app.properties", "db.url=jdbc:postgresql://db/shop?password=", "&ssl=true\n",
		[]string{"~", "%7e", " ", "+", "!", "%21", "/", "%2f", "+", "%2b", "=", "%3d", "&", "%26", "'", "%27", `"`, "%22", "é", "%c3%a9"}, "url"},
	{".NET WebUtility.UrlEncode", "appsettings.ini", "Callback=https://hooks.example/?token=", "\n",
		[]string{"~", "%7E", " ", "+", "/", "%2F", "+", "%2B", "=", "%3D", "&", "%26", "'", "%27", `"`, "%22", "é", "%C3%A9"}, "url"},
	{".NET System.Text.Json", "appsettings.Production.json", `{"Api":{"Key":"`, `"}}`,
		[]string{"+", `\u002B`, "&", `\u0026`, "'", `\u0027`, `"`, `\u0022`, "é", `\u00E9`}, "json"},
	{"Python json.dumps", "settings.json", `{"token": "`, `"}`,
		[]string{`"`, `\"`, "é", `\u00e9`}, "json"},
	{"Gson", "config.json", `{"apiKey":"`, `"}`,
		[]string{"&", `\u0026`, "=", `\u003d`, "'", `\u0027`, `"`, `\"`}, "json"},
}

// TestScanTreeViews: compressed content is searched decompressed (one
// level), small contents with their wrapped lines joined; findings say
// where (PATH (gzip), PATH:NAME), a value never shows in paths.
func TestScanTreeViews(t *testing.T) {
	type tc = treeCase
	npmrc := func(v string) string { return "//registry.npmjs.org/:_authToken=" + v + "\n" }
	long := func(v string) string { return "ci-deploy-bot:" + v + strings.Repeat("x", 30) + v } // > 57 bytes: base64 wraps
	tests := []tc{
		{name: "tar.gz", build: func(t *testing.T, dir, v string) {
			writeBytes(t, dir, "dist/app.tgz", tarGz(t, "app/index.js", "console.log(1)\n", "app/.npmrc", npmrc(v)))
		}, want: []Finding{{Path: "/dist/app.tgz (gzip)", Where: "content", Encoding: "raw"}}},
		{name: "gzip", build: func(t *testing.T, dir, v string) {
			writeBytes(t, dir, "log.gz", gzipped(t, []byte("token "+v+"\n")))
		}, want: []Finding{{Path: "/log.gz (gzip)", Where: "content", Encoding: "raw"}}},
		{name: "zlib", build: func(t *testing.T, dir, v string) {
			writeBytes(t, dir, "cache/entry", zlibbed(t, []byte(strings.Repeat("pad ", 100)+v)))
		}, want: []Finding{{Path: "/cache/entry (zlib)", Where: "content", Encoding: "raw"}}},
		{name: "zstd", build: func(t *testing.T, dir, v string) {
			writeBytes(t, dir, "app.tar.zst", zstded(t, []byte(strings.Repeat("pad ", 100)+v)))
		}, want: []Finding{{Path: "/app.tar.zst (zstd)", Where: "content", Encoding: "raw"}}},
		{name: "zip", build: func(t *testing.T, dir, v string) {
			writeBytes(t, dir, "x.zip", zipped(t, zipEntry{name: "a/clean.txt", data: "clean"}, zipEntry{name: "inner/path", data: "k=" + v},
				zipEntry{name: "b64/stored", data: base64.StdEncoding.EncodeToString([]byte("u:" + v)), method: "store"}, zipEntry{name: "z", data: v, method: "zstd"}))
		}, want: []Finding{
			{Path: "/x.zip", Where: "content", Encoding: "base64"}, // the stored entry, raw
			{Path: "/x.zip", Where: "content", Encoding: "raw"},    // zstd keeps a short value as it is
			{Path: "/x.zip:b64/stored", Where: "content", Encoding: "base64"},
			{Path: "/x.zip:inner/path", Where: "content", Encoding: "raw"},
			{Path: "/x.zip:z", Where: "content", Encoding: "raw"},
		}},
		{name: "zip entry named by the value", build: func(t *testing.T, dir, v string) {
			writeBytes(t, dir, "x.zip", zipped(t, zipEntry{name: "tok-" + v + ".txt", data: "clean"}))
		}, want: []Finding{{Path: "/x.zip", Where: "content", Encoding: "raw"}}},
		{name: "zip entry named by the value, holding it", build: func(t *testing.T, dir, v string) {
			writeBytes(t, dir, "x.zip", zipped(t, zipEntry{name: "tok-" + v + ".txt", data: v}))
		}, want: []Finding{{Path: "/x.zip", Where: "content", Encoding: "raw"}, {Path: "/x.zip:tok-<redacted>.txt", Where: "content", Encoding: "raw"}}},
		{name: "a zip in a tar.gz", build: func(t *testing.T, dir, v string) {
			writeBytes(t, dir, "nested.tgz", tarGz(t, "inner.zip", string(zipped(t, zipEntry{name: "f", data: strings.Repeat(v, 3)}))))
		}, want: []Finding{{Path: "/nested.tgz (gzip):inner.zip:f", Where: "content", Encoding: "raw"}}},
		{name: "wrapped in a tar.gz", build: func(t *testing.T, dir, v string) {
			writeBytes(t, dir, "cfg.tgz", tarGz(t, "auth.b64", b64wrap([]byte(long(v)), "\n")))
		}, want: []Finding{{Path: "/cfg.tgz (gzip)", Where: "content", Encoding: "base64"}}},
		{name: "base64, wrapped", build: func(t *testing.T, dir, v string) {
			write(t, dir, "auth.b64", "auth:\n"+b64wrap([]byte(long(v)), "\n"))
		}, want: []Finding{{Path: "/auth.b64", Where: "content", Encoding: "base64"}}},
		{name: "base64, wrapped, CRLF", build: func(t *testing.T, dir, v string) {
			write(t, dir, "auth.b64", b64wrap([]byte(long(v)), "\r\n"))
		}, want: []Finding{{Path: "/auth.b64", Where: "content", Encoding: "base64"}}},
		{name: "hex, wrapped", build: func(t *testing.T, dir, v string) {
			h := hex.EncodeToString([]byte(long(v)))
			var b strings.Builder
			for i := 0; i < len(h); i += 60 { // xxd -p
				b.WriteString(h[i:min(i+60, len(h))] + "\n")
			}
			write(t, dir, "dump.hex", b.String())
		}, want: []Finding{{Path: "/dump.hex", Where: "content", Encoding: "hex"}}},
		{name: "rclone.conf with the password obscured", build: func(t *testing.T, dir, v string) {
			write(t, dir, "root/.config/rclone/rclone.conf", "[backup]\ntype = sftp\nhost = backup.example.com\npass = "+obscure.Rclone(bytes.Repeat([]byte{7}, 16), v)+"\n")
		}, want: []Finding{{Path: "/root/.config/rclone/rclone.conf (rclone-obscured)", Where: "content", Encoding: "rclone-obscured"}}},
		{name: "xxd -i C array", build: func(t *testing.T, dir, v string) {
			var b strings.Builder
			b.WriteString("unsigned char license_key[] = {\n")
			for i := 0; i < len(v); i += 12 {
				var parts []string
				for _, c := range []byte(v[i:min(i+12, len(v))]) {
					parts = append(parts, fmt.Sprintf("0x%02x", c))
				}
				b.WriteString("  " + strings.Join(parts, ", ") + ",\n")
			}
			b.WriteString("};\n")
			write(t, dir, "src/include/license_key.h", b.String())
		}, want: []Finding{{Path: "/src/include/license_key.h (byte-array)", Where: "content", Encoding: "byte-array"}}},
		{name: "a bundle kept only brotli-compressed, known by its name", build: func(t *testing.T, dir, v string) {
			writeBytes(t, dir, "srv/www/app.js.br", nesttest.Brotli([]byte("const cfg={mapsKey:\""+v+"\"};"+strings.Repeat("render();", 200))))
		}, want: []Finding{{Path: "/srv/www/app.js.br (brotli)", Where: "content", Encoding: "raw"}}},
		{name: "brotli member of a tar.gz", build: func(t *testing.T, dir, v string) {
			writeBytes(t, dir, "dist.tgz", tarGz(t, "www/app.js.br", string(nesttest.Brotli([]byte(npmrc(v))))))
		}, want: []Finding{{Path: "/dist.tgz (gzip):www/app.js.br (brotli)", Where: "content", Encoding: "raw"}}},
		{name: "brotli member of a zip", build: func(t *testing.T, dir, v string) {
			writeBytes(t, dir, "site.zip", zipped(t, zipEntry{name: "www/app.js.br", data: string(nesttest.Brotli([]byte(npmrc(v))))}))
		}, want: []Finding{{Path: "/site.zip:www/app.js.br (brotli)", Where: "content", Encoding: "raw"}}},
		{name: "called .br, not brotli", build: func(t *testing.T, dir, v string) {
			write(t, dir, "po/messages.br", "msgid \"hello\"\nmsgstr \"olá\"\n")
		}},
		{name: "UTF-16 string literals in a binary (a .NET assembly's user strings)", build: func(t *testing.T, dir, v string) {
			var b []byte
			b = append(b, "MZ\x90\x00\x03\x00\x00\x00#US\x00\x00\x00"...)
			for _, c := range "LicenseKey=" + v {
				b = append(b, byte(c), 0)
			}
			b = append(b, 0, 0, 0x2a, 0x01)
			for _, c := range v {
				b = append(b, 0, byte(c))
			}
			write(t, dir, "app/Acme.dll", string(b))
		}, want: []Finding{{Path: "/app/Acme.dll", Where: "content", Encoding: "utf-16"}}},
		{name: "base64, wrapped, in a file over 1 MiB: not joined", build: func(t *testing.T, dir, v string) {
			write(t, dir, "big.txt", strings.Repeat("filler line\n", (1<<20)/12+1)+b64wrap([]byte(long(v)), "\n"))
		}},
		{name: "lines that join into the value are not wrapped text", build: func(t *testing.T, dir, v string) {
			write(t, dir, "notes.txt", "a "+v[:14]+"\n"+v[14:]+" b\n")
		}},
		{name: "corrupt gzip", build: func(t *testing.T, dir, v string) {
			g := gzipped(t, []byte(strings.Repeat("clean ", 1000)))
			g[20] ^= 0xff
			writeBytes(t, dir, "bad.gz", g)
		}, notes: []string{"/bad.gz: gzip data that cannot be decompressed"}},
		{name: "truncated gzip", build: func(t *testing.T, dir, v string) {
			g := gzipped(t, []byte(v+strings.Repeat(" and more", 10000)))
			writeBytes(t, dir, "cut.gz", g[:len(g)/2])
		}, want: []Finding{{Path: "/cut.gz (gzip)", Where: "content", Encoding: "raw"}}, notes: []string{"/cut.gz: gzip data that cannot be decompressed after"}},
		{name: "zlib-like bytes", build: func(t *testing.T, dir, v string) {
			writeBytes(t, dir, "blob", []byte("\x78\x9c\xff\xff\xff\xffnot zlib"))
		}},
		{name: "encrypted and unknown zip entries", build: func(t *testing.T, dir, v string) {
			writeBytes(t, dir, "x.zip", zipped(t, zipEntry{name: "secret.enc", data: "zz", encrypted: true}, zipEntry{name: "odd", data: "zz", method: "unknown"}))
		}, notes: []string{"/x.zip:secret.enc: encrypted", "/x.zip:odd: cannot be decompressed"}},
		{name: "not a zip", build: func(t *testing.T, dir, v string) {
			write(t, dir, "fake.zip", "PK\x03\x04 but not really")
		}, notes: []string{"/fake.zip: starts as a zip archive but cannot be read as one"}},
		{name: "tar.bz2", build: func(t *testing.T, dir, v string) {
			writeBytes(t, dir, "app/home-backup.tar.bz2", bzipped(t, tarOf(t, "./.npmrc", npmrc(v), "./.profile", "PATH=/bin\n")))
		}, want: []Finding{{Path: "/app/home-backup.tar.bz2 (bzip2)", Where: "content", Encoding: "raw"}}},
		{name: "tar.xz", build: func(t *testing.T, dir, v string) {
			writeBytes(t, dir, "home.tar.xz", xzed(t, tarOf(t, ".npmrc", npmrc(v))))
		}, want: []Finding{{Path: "/home.tar.xz (xz)", Where: "content", Encoding: "raw"}}},
		{name: "tgz in a tgz", build: func(t *testing.T, dir, v string) {
			inner := tarGz(t, "./.npmrc", npmrc(v))
			writeBytes(t, dir, "app/bundle.tgz", tarGz(t, "home.tgz", string(inner), "README", "bundle\n"))
		}, want: []Finding{{Path: "/app/bundle.tgz (gzip):home.tgz (gzip)", Where: "content", Encoding: "raw"}}},
		{name: "tgz in a plain tar", build: func(t *testing.T, dir, v string) {
			inner := tarGz(t, "./.npmrc", npmrc(v))
			writeBytes(t, dir, "app/bundle.tar", tarOf(t, "home.tgz", string(inner), "README", "bundle\n"))
		}, want: []Finding{{Path: "/app/bundle.tar:home.tgz (gzip)", Where: "content", Encoding: "raw"}}},
		{name: "gz in a plain tar", build: func(t *testing.T, dir, v string) {
			writeBytes(t, dir, "bundle.tar", tarOf(t, "README", strings.Repeat("bundle\n", 400), "npmrc.gz", string(gzipped(t, []byte(npmrc(v))))))
		}, want: []Finding{{Path: "/bundle.tar:npmrc.gz (gzip)", Where: "content", Encoding: "raw"}}},
		{name: "tar.bz2 in a tar in a plain tar", build: func(t *testing.T, dir, v string) {
			inner := tarOf(t, "home.tar.bz2", string(bzipped(t, tarOf(t, ".npmrc", npmrc(v)))))
			writeBytes(t, dir, "export.tar", tarOf(t, "layer.tar", string(inner)))
		}, want: []Finding{{Path: "/export.tar:layer.tar:home.tar.bz2 (bzip2)", Where: "content", Encoding: "raw"}}},
		{name: "clean plain tar", build: func(t *testing.T, dir, v string) {
			writeBytes(t, dir, "clean.tar", tarOf(t, "a.tgz", string(tarGz(t, "a.txt", "nothing here\n")), "b", "plain\n"))
		}},
		{name: "tar in a tar.gz in a zip", build: func(t *testing.T, dir, v string) {
			inner := tarGz(t, "layer.tar", string(tarOf(t, "etc/app.env", "TOKEN="+v+"\n")))
			writeBytes(t, dir, "export.zip", zipped(t, zipEntry{name: "image/layer.tgz", data: string(inner)}))
		}, want: []Finding{{Path: "/export.zip:image/layer.tgz (gzip)", Where: "content", Encoding: "raw"}, {Path: "/export.zip:image/layer.tgz (gzip):layer.tar", Where: "content", Encoding: "raw"}}},
		{name: "zip in a tgz", build: func(t *testing.T, dir, v string) {
			jar := zipped(t, zipEntry{name: "application.properties", data: "token=" + v + "\n"})
			writeBytes(t, dir, "dist.tgz", tarGz(t, "lib/app.jar", string(jar)))
		}, want: []Finding{{Path: "/dist.tgz (gzip):lib/app.jar:application.properties", Where: "content", Encoding: "raw"}}},
		{name: "gzip in a gzip", build: func(t *testing.T, dir, v string) {
			writeBytes(t, dir, "log.gz.gz", gzipped(t, gzipped(t, []byte("token "+v+"\n"))))
		}, want: []Finding{{Path: "/log.gz.gz (gzip) (gzip)", Where: "content", Encoding: "raw"}}},
		{name: "nested too deep", build: func(t *testing.T, dir, v string) {
			data := []byte(npmrc(v))
			for i := 0; i < maxNest+1; i++ {
				data = gzipped(t, data)
			}
			writeBytes(t, dir, "deep.gz", data)
		}, notes: []string{"gzip data nested more than 4 archives deep: searched as raw bytes only"}},
		{name: "clean nested archives", build: func(t *testing.T, dir, v string) {
			inner := tarGz(t, "a.txt", "nothing here\n")
			writeBytes(t, dir, "b.tgz", tarGz(t, "a.tgz", string(inner), "c.tar.bz2", string(bzipped(t, tarOf(t, "c", "clean\n")))))
		}},
	}
	runTreeCases(t, tests)
}

// treeCase is a tree to scan for the secret TOKEN, with the findings and
// notes the scan must give.
type treeCase struct {
	name  string
	build func(t *testing.T, dir, v string)
	want  []Finding // Secret "" means TOKEN
	notes []string  // each is in the notes; none: there are no notes
}

// runTreeCases builds each case's tree with a fresh value of TOKEN (52
// bytes) and scans it.
func runTreeCases(t *testing.T, tests []treeCase) {
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := canary(t) + canary(t)[4:] // 52 bytes
			dir := t.TempDir()
			tt.build(t, dir, v)
			r := mustScan(t, dir, mustSecrets(t, map[string]string{"TOKEN": v}), ScanOptions{}, v)
			want := []Finding{}
			for _, f := range tt.want {
				if f.Secret == "" {
					f.Secret = "TOKEN"
				}
				want = append(want, f)
			}
			if !reflect.DeepEqual(r.Findings, want) {
				t.Errorf("findings:%s\nwant:%s", describe(r.Findings), describe(want))
			}
			notes := strings.Join(r.Notes, "\n")
			for _, n := range tt.notes {
				if !strings.Contains(notes, n) {
					t.Errorf("no note %q in:\n%s", n, notes)
				}
			}
			if len(tt.notes) == 0 && len(r.Notes) > 0 {
				t.Errorf("notes: %q", r.Notes)
			}
		})
	}
}

// TestScanTreeRemoveArchive: Remove deletes an archive that holds a value.
func TestScanTreeRemoveArchive(t *testing.T) {
	v := canary(t)
	dir := t.TempDir()
	writeBytes(t, dir, "dist/app.tgz", tarGz(t, ".npmrc", "_authToken="+v))
	write(t, dir, "dist/clean.txt", "clean")
	r := mustScan(t, dir, mustSecrets(t, map[string]string{"TOKEN": v}), ScanOptions{Remove: true}, v)
	if want := []string{"/dist/app.tgz"}; !reflect.DeepEqual(r.Removed, want) {
		t.Errorf("removed %q, want %q", r.Removed, want)
	}
	if got := exists(t, dir); !reflect.DeepEqual(got, []string{"/dist", "/dist/clean.txt"}) {
		t.Errorf("left %q", got)
	}
}

// TestScanTreeDecompressLimits: past the limits the scan fails, naming the
// file; under them it does not.
func TestScanTreeDecompressLimits(t *testing.T) {
	v := canary(t)
	s := mustSecrets(t, map[string]string{"TOKEN": v})
	t.Run("ratio", func(t *testing.T) {
		dir := t.TempDir()
		writeBytes(t, dir, "bomb.gz", gzipped(t, make([]byte, ratioFloor+(1<<20)))) // ~1000 times
		_, err := scan(t, dir, s, ScanOptions{}, v)
		if err == nil || !strings.Contains(err.Error(), "/bomb.gz (gzip): decompresses to more than") {
			t.Errorf("got %v, want an error naming the file", err)
		}
	})
	t.Run("ratio, zip entries together", func(t *testing.T) {
		dir := t.TempDir()
		zeros := string(make([]byte, ratioFloor/2+(1<<20)))
		writeBytes(t, dir, "bomb.zip", zipped(t, zipEntry{name: "a", data: zeros}, zipEntry{name: "b", data: zeros}))
		_, err := scan(t, dir, s, ScanOptions{}, v)
		if err == nil || !strings.Contains(err.Error(), "/bomb.zip:b: decompresses to more than") {
			t.Errorf("got %v, want an error naming the file", err)
		}
	})
	t.Run("ratio, nested", func(t *testing.T) {
		dir := t.TempDir()
		bomb := gzipped(t, make([]byte, ratioFloor+(1<<20)))
		writeBytes(t, dir, "bundle.tgz", tarGz(t, "inner/bomb.gz", string(bomb)))
		_, err := scan(t, dir, s, ScanOptions{}, v)
		if err == nil || !strings.Contains(err.Error(), "/bundle.tgz (gzip):inner/bomb.gz (gzip): decompresses to more than") {
			t.Errorf("got %v, want an error naming the file", err)
		}
	})
	t.Run("size", func(t *testing.T) {
		defer func(old int64) { maxDecompressed = old }(maxDecompressed)
		maxDecompressed = 1 << 20
		data := make([]byte, 2<<20)
		rand.NewChaCha8([32]byte{}).Read(data)
		dir := t.TempDir()
		writeBytes(t, dir, "big-"+v+".gz", gzipped(t, data))
		_, err := scan(t, dir, s, ScanOptions{}, v)
		if err == nil || !strings.Contains(err.Error(), "/big-<redacted>.gz (gzip): decompresses to more than 1048576 bytes") {
			t.Errorf("got %v, want an error naming the file", err)
		}
		dir = t.TempDir()
		writeBytes(t, dir, "ok.gz", gzipped(t, data[:1<<19]))
		if _, err := scan(t, dir, s, ScanOptions{}, v); err != nil {
			t.Errorf("under the limit: %v", err)
		}
	})
}

// TestScanTreeKeys: a secret cert+key bundle: the private key cut out of
// it is found however it is written; its certificate and public key,
// copied out, are not.
func TestScanTreeKeys(t *testing.T) {
	k, certPEM, keyPEM := testRSAKey(t)
	bundle := certPEM + keyPEM
	s := mustSecrets(t, map[string]string{"BUNDLE": bundle})
	block, _ := pem.Decode([]byte(keyPEM))
	body := base64.StdEncoding.EncodeToString(block.Bytes)
	spki, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	sshPub, _ := ssh.NewPublicKey(&k.PublicKey)
	for _, tt := range []struct {
		name, file, body string
		found            bool
	}{
		{"the key, cut out", "client.key", keyPEM, true},
		{"the key, CRLF", "client.key", strings.ReplaceAll(keyPEM, "\n", "\r\n"), true},
		{"the key's body in a variable", ".env", "KEY=" + body + "\n", true},
		{"the key in base64", "key.b64", base64.StdEncoding.EncodeToString([]byte(keyPEM)), true},
		{"the key in base64, wrapped", "key.b64", b64wrap([]byte(keyPEM), "\n"), true},
		{"a part of the key", "part", keyPEM[300:600], true},
		{"the bundle", "bundle.pem", bundle, true},
		{"the certificate", "ca.crt", certPEM, false},
		{"the certificate in base64", "ca.b64", b64wrap([]byte(certPEM), "\n"), false},
		{"the public key", "pub.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki})), false},
		{"the public key, PKCS #1", "rsa.pub", string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&k.PublicKey)})), false},
		{"authorized_keys", "root/.ssh/authorized_keys", string(ssh.MarshalAuthorizedKey(sshPub)), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, tt.file, tt.body)
			r := mustScan(t, dir, s, ScanOptions{}, body)
			if found := len(r.Findings) > 0; found != tt.found {
				t.Errorf("findings:%s\nwant found: %v", describe(r.Findings), tt.found)
			}
		})
	}
}

var (
	rsaOnce               sync.Once
	rsaKey                *rsa.PrivateKey
	rsaCertPEM, rsaKeyPEM string
)

// testRSAKey returns an RSA key (PKCS #1), with a certificate for it.
func testRSAKey(t testing.TB) (*rsa.PrivateKey, string, string) {
	rsaOnce.Do(func() {
		k, err := rsa.GenerateKey(crand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "client"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
		der, err := x509.CreateCertificate(crand.Reader, tmpl, tmpl, &k.PublicKey, k)
		if err != nil {
			panic(err)
		}
		rsaKey = k
		rsaCertPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
		rsaKeyPEM = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
	})
	return rsaKey, rsaCertPEM, rsaKeyPEM
}

// naiveJoin is joinWrapped's definition, line end by line end.
func naiveJoin(data []byte) []byte {
	var out []byte
	runEnd := -1
	for p := 0; p < len(data); p++ {
		if data[p] != '\n' {
			continue
		}
		q := p
		if q > 0 && data[q-1] == '\r' {
			q--
		}
		left := q >= minWrapped
		for k := q - minWrapped; left && k < q; k++ {
			left = encoded[data[k]]
		}
		if !(p+2 < len(data) && encoded[data[p+1]] && encoded[data[p+2]] && (runEnd == q || left)) {
			continue
		}
		if runEnd != q {
			if len(out) > 0 {
				out = append(out, '\n')
			}
			from := q
			for from > 0 && encoded[data[from-1]] {
				from--
			}
			out = append(out, data[from:q]...)
		}
		e := p + 1
		for e < len(data) && encoded[data[e]] {
			e++
		}
		out = append(out, data[p+1:e]...)
		runEnd = e
	}
	return out
}

// TestJoinWrapped: joinWrapped, which looks at few bytes, joins what its
// definition does.
func TestJoinWrapped(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	alphabets := []string{"ab\n", "aB9+/=\n\r ", "A\n", "Zz0\r\n;", "aaaaaaaaaaaaaaaaaaaaa\n", "x \n\r", "é\x00\n",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa%&'()*+,-./9:;<=>?@Z[\\]^_`z{\x7f\x80\n"}
	for i := 0; i < 50000; i++ {
		data := make([]byte, rng.IntN(600))
		alpha := alphabets[rng.IntN(len(alphabets))]
		for j := range data {
			data[j] = alpha[rng.IntN(len(alpha))]
		}
		if n := len(data); rng.IntN(2) == 0 && n > 40 {
			// Wrapped lines of some width.
			w := 1 + rng.IntN(90)
			at := rng.IntN(n - 40)
			for j := at; j < n && j < at+400; j++ {
				if (j-at)%(w+1) == w {
					data[j] = '\n'
				} else {
					data[j] = "Ab3+/=_-%"[rng.IntN(9)]
				}
			}
		}
		if got, want := joinWrapped(nil, data), naiveJoin(data); !bytes.Equal(got, want) {
			t.Fatalf("%q:\n got %q\nwant %q", data, got, want)
		}
	}
}

// BenchmarkJoined is the cost of the second search of small text files:
// joinWrapped's walk, and the search of what it joins.
func BenchmarkJoined(b *testing.B) {
	s := mustSecrets(b, map[string]string{"A": canary(b), "B": canary(b)})
	c := newContentScan(s)
	rng := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("const let return function require import from export default if else for while the build step copies a file")
	texts := map[string][]byte{}
	var code, b64 strings.Builder
	for code.Len() < 1<<20 {
		fmt.Fprintf(&code, "%sconst %s = require('%s');\n", strings.Repeat("  ", rng.IntN(4)), words[rng.IntN(len(words))], words[rng.IntN(len(words))])
	}
	raw := make([]byte, 3<<18)
	rand.NewChaCha8([32]byte{1}).Read(raw)
	b64.WriteString(b64wrap(raw, "\n"))
	texts["code"], texts["base64"] = []byte(code.String()[:1<<20]), []byte(b64.String()[:1<<20])
	for name, data := range texts {
		for _, keep := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/joined=%v", name, keep), func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					c.scanWhole(data)
					if keep {
						c.joinedOf(data)
					}
				}
			})
		}
	}
}

// TestScanTreeServiceAccount: a service account's key file (JSON holding
// a private key) is found in base64, wrapped or not, whole or in part;
// another service account's file, which shares its layout, is not.
func TestScanTreeServiceAccount(t *testing.T) {
	_, _, keyPEM := testRSAKey(t)
	sa := func(key, id string) string {
		js, _ := json.MarshalIndent(map[string]string{
			"type": "service_account", "project_id": "proj", "private_key_id": id, "private_key": key,
			"client_email": "ci@proj.iam.gserviceaccount.com", "client_id": "123456789012345678901",
			"auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": "https://oauth2.googleapis.com/token",
			"auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
		}, "", "  ")
		return string(js)
	}
	secret := sa(keyPEM, "0123456789abcdef0123456789abcdef01234567")
	s := mustSecrets(t, map[string]string{"GCP_SA": secret})
	i := strings.Index(secret, "MII")
	for _, tt := range []struct {
		name, body string
		found      bool
	}{
		{"in base64", base64.StdEncoding.EncodeToString([]byte(secret)), true},
		{"in base64, wrapped", b64wrap([]byte(secret), "\n"), true},
		{"a part, in base64, wrapped", b64wrap([]byte(secret[i+500:i+900]), "\n"), true},
		{"another service account", sa("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n", "fedcba9876543210fedcba9876543210fedcba98"), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, "creds", tt.body)
			r := mustScan(t, dir, s, ScanOptions{})
			if found := len(r.Findings) > 0; found != tt.found {
				t.Errorf("findings:%s\nwant found: %v", describe(r.Findings), tt.found)
			}
		})
	}
}

// FuzzNestedArchive: a file of any content, as a gzip, bzip2 or tar
// member of a .tgz, is scanned without panic, and fails the scan only at
// the decompression limits; a value planted in a member of a tar inside
// it is found.
func FuzzNestedArchive(f *testing.F) {
	f.Add([]byte("plain text"), uint8(0))
	f.Add(gzipped(f, []byte("x")), uint8(1))
	f.Add(tarOf(f, "a", "b"), uint8(2))
	f.Add(bzipped(f, []byte("hello hello hello")), uint8(3))
	f.Add([]byte("BZh9garbage"), uint8(0))
	f.Add([]byte("\xfd7zXZ\x00garbage"), uint8(0))
	v := canary(f)
	s := mustSecrets(f, map[string]string{"TOKEN": v})
	f.Fuzz(func(t *testing.T, data []byte, how uint8) {
		dir := t.TempDir()
		var file []byte
		switch how % 3 {
		case 0:
			file = data
		case 1:
			file = tarGz(t, "m", string(data), "tok", "T="+v)
		case 2:
			file = gzipped(t, tarOf(t, "m", string(data), "inner.tgz", string(tarGz(t, "tok", "T="+v))))
		}
		writeBytes(t, dir, "f", file)
		r, err := ScanTree(dir, s, ScanOptions{})
		if err != nil {
			if !strings.Contains(err.Error(), "decompresses to more than") {
				t.Fatalf("scan failed: %v", err)
			}
			return
		}
		if how%3 != 0 && len(r.Findings) == 0 {
			t.Fatal("the planted value was not found")
		}
	})
}
