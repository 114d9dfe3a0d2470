package checker

import (
	"encoding/binary"
	"strings"
	"testing"
)

// zstdWindow is data in one zstd frame of raw blocks whose header asks
// for a window of 1<<windowLog bytes and gives no content size: what
// zstd --long=windowLog writes to a pipe (tar -I 'zstd --long').
func zstdWindow(windowLog int, data []byte) []byte {
	b := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, byte(windowLog-10) << 3}
	for {
		n := min(len(data), 128<<10)
		last := 0
		if n == len(data) {
			last = 1
		}
		var h [4]byte
		binary.LittleEndian.PutUint32(h[:], uint32(n<<3|last)) // a raw block
		b = append(append(b, h[:3]...), data[:n]...)
		data = data[n:]
		if last == 1 {
			return b
		}
	}
}

// TestScanTreeZstdWindow: a zstd stream with the window of zstd --long
// (128 MiB) is opened; one asking for more (--long=28 and up) cannot be
// proved clean, whatever it holds, and stops the check with the fix,
// wherever it is.
func TestScanTreeZstdWindow(t *testing.T) {
	v := execCanary(t)
	s := mustSecrets(t, map[string]string{"DATABASE_PASSWORD": v})
	env := tarOf(t, "./app.py", "print(1)\n", "./.env", "DATABASE_PASSWORD="+v+"\n")
	for _, tt := range []struct {
		name, path string
		data       []byte
		found      bool   // a finding under path
		err        string // the check's error holds it
	}{
		{"zstd --long", "/artifacts/app.tar.zst", zstdWindow(27, env), true, ""},
		{"zstd --long=28", "/artifacts/app.tar.zst", zstdWindow(28, env), false, "zstd --long=28 or more"},
		{"zstd --long=31 with nothing secret", "/artifacts/app.tar.zst", zstdWindow(31, tarOf(t, "./app.py", "print(1)\n")), false, "compress it with a window of 128 MiB at most"},
		{"zstd --long=28 inside a .tar.gz", "/artifacts/bundle.tar.gz", tarGz(t, "app.tar.zst", string(zstdWindow(28, env))), false, "/artifacts/bundle.tar.gz (gzip):app.tar.zst (zstd)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeBytes(t, dir, tt.path[1:], tt.data)
			r, err := ScanTree(dir, s, ScanOptions{})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ScanTree: %v, want an error saying %q", err, tt.err)
				}
				if strings.Contains(err.Error(), v) {
					t.Fatal("the error shows the value")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, f := range r.Findings {
				found = found || strings.HasPrefix(f.Path, tt.path)
			}
			if found != tt.found {
				t.Errorf("found under %s: %v, want %v (notes: %s)", tt.path, found, tt.found, strings.Join(r.Notes, "; "))
			}
		})
	}
}
