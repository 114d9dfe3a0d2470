package nest

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"io"
	"strings"
	"testing"

	"github.com/hushbuild/hushbuild/internal/nest/nesttest"
)

func TestKind(t *testing.T) {
	var gz, zl bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte("hello hello hello"))
	w.Close()
	z := zlib.NewWriter(&zl)
	z.Write([]byte("hello hello hello"))
	z.Close()
	tarHead := make([]byte, 512)
	copy(tarHead[257:], "ustar\x0000")
	tests := []struct {
		name string
		head []byte
		kind string
		tar  bool
	}{
		{"gzip", gz.Bytes(), "gzip", false},
		{"zlib", zl.Bytes(), "zlib", false},
		{"zstd", []byte("\x28\xb5\x2f\xfd\x00\x00"), "zstd", false},
		{"zip", []byte("PK\x03\x04\x14\x00"), "zip", false},
		{"bzip2", []byte("BZh91AY"), "bzip2", false},
		{"bzip2 bad level", []byte("BZh0"), "", false},
		{"xz", []byte("\xfd7zXZ\x00\x00"), "xz", false},
		{"tar", tarHead, "", true},
		{"text", []byte("hello world"), "", false},
		{"short", []byte{0x1f}, "", false},
		{"empty", nil, "", false},
	}
	for _, tc := range tests {
		if got := Kind(tc.head); got != tc.kind {
			t.Errorf("%s: Kind = %q, want %q", tc.name, got, tc.kind)
		}
		if got := IsTar(tc.head); got != tc.tar {
			t.Errorf("%s: IsTar = %v, want %v", tc.name, got, tc.tar)
		}
	}
}

// TestKindByName: brotli, which has no magic number, is known by the
// extension .br, in any case; no other name says a format.
func TestKindByName(t *testing.T) {
	for name, want := range map[string]string{
		"app.js.br": "brotli", "/srv/www/STYLE.CSS.BR": "brotli", ":dist/a.br": "brotli",
		".br": "", "app.js": "", "app.brotli": "", "br": "", "x.gz": "", "": "",
	} {
		if got := KindByName(name); got != want {
			t.Errorf("KindByName(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestDecompress(t *testing.T) {
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte("hello"))
	w.Close()
	for kind, data := range map[string][]byte{"gzip": gz.Bytes(), "brotli": nesttest.Brotli([]byte("hello"))} {
		r, release, err := Decompress(kind, bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		b, err := io.ReadAll(r)
		release()
		if err != nil || string(b) != "hello" {
			t.Fatalf("%s: got %q, %v", kind, b, err)
		}
	}
	if _, _, err := Decompress("gzip", strings.NewReader("not gzip")); err == nil {
		t.Error("no error for data that is not gzip")
	}
	if _, _, err := Decompress("zip", strings.NewReader("")); err == nil {
		t.Error("no error for zip (not a stream format)")
	}
}

func TestLimit(t *testing.T) {
	for _, tc := range []struct{ size, most, want int64 }{
		{1, MaxDecompressed, RatioFloor},
		{1 << 20, MaxDecompressed, 200 << 20},
		{1 << 30, MaxDecompressed, MaxDecompressed},
		{1 << 20, 1 << 10, 1 << 10},
	} {
		if got := Limit(tc.size, tc.most); got != tc.want {
			t.Errorf("Limit(%d, %d) = %d, want %d", tc.size, tc.most, got, tc.want)
		}
	}
}
