package checker

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hushfile/hushfile/secretscan"
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
