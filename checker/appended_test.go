package checker

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hushbuild/hushbuild/internal/nest"
	"github.com/klauspost/compress/zstd"
)

// elfWithPayload is a 64-bit ELF executable whose one segment covers its
// first n bytes, followed by payload: what pkg, Nuitka and warp write.
// peExe is a PE executable (a Windows .exe) of n bytes, its one
// section's raw data from byte 1024 to its end.
func peExe(n int) []byte {
	b := make([]byte, n)
	copy(b, "MZ")
	binary.LittleEndian.PutUint32(b[0x3c:], 0x80)
	copy(b[0x80:], "PE\x00\x00")
	binary.LittleEndian.PutUint16(b[0x80+6:], 1)
	binary.LittleEndian.PutUint16(b[0x80+20:], 224)
	sec := b[0x80+24+224:]
	binary.LittleEndian.PutUint32(sec[16:], uint32(n-1024))
	binary.LittleEndian.PutUint32(sec[20:], 1024)
	return b
}

func elfWithPayload(n int, payload []byte) []byte {
	b := make([]byte, n)
	copy(b, "\x7fELF\x02\x01\x01\x00")
	binary.LittleEndian.PutUint16(b[16:], 2)  // ET_EXEC
	binary.LittleEndian.PutUint16(b[18:], 62) // x86-64
	binary.LittleEndian.PutUint64(b[32:], 64) // e_phoff
	binary.LittleEndian.PutUint16(b[52:], 64) // e_ehsize
	binary.LittleEndian.PutUint16(b[54:], 56) // e_phentsize
	binary.LittleEndian.PutUint16(b[56:], 1)  // e_phnum
	ph := b[64:]
	binary.LittleEndian.PutUint32(ph[0:], 1)          // PT_LOAD
	binary.LittleEndian.PutUint64(ph[32:], uint64(n)) // p_filesz
	return append(b, payload...)
}

// TestScanTreeAppended: a value in a file that a packer compressed into
// the payload it appends to an executable (pkg --compress GZip: a gzip
// stream per file; Nuitka --onefile: one zstd stream) or into an RPM
// package's payload is found; the same streams inside the executable's
// own content are not opened.
func TestScanTreeAppended(t *testing.T) {
	v := execCanary(t)
	s := mustSecrets(t, map[string]string{"DB_PASSWORD": v})
	config := []byte(`{"region": "eu-west-1", "db": {"password": "` + v + `"}}`)
	var pkg []byte
	pkg = append(pkg, gzipped(t, []byte("const cfg = require('./config/production.json');\n"))...)
	pkg = append(pkg, `{"stat": "uncompressed"}`...)
	pkg = append(pkg, gzipped(t, []byte(`{"region": "eu-west-1"}`))...)
	at := 8000 + len(pkg)
	pkg = append(pkg, gzipped(t, config)...)
	pkg = append(pkg, "(function(process, require) { /* prelude */ })"...)
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	nuitka := append([]byte("KAY"), enc.EncodeAll(append([]byte("settings.json\x00\x40\x00\x00\x00\x00\x00\x00\x00"), config...), nil)...)
	nuitka = append(nuitka, "\x40\x1f\x00\x00\x00\x00\x00\x00"...)
	// An RPM package: its lead, its signature and header (index entries
	// and data, where a stream's magic number may stand by chance), then
	// its payload, a gzip-compressed cpio archive.
	rpm := append([]byte("\xed\xab\xee\xdb\x03\x00\x00\x00"), make([]byte, 88)...)
	rpm = append(rpm, "\x8e\xad\xe8\x01\x00\x00\x00\x00\x1f\x8b\x08\x00 header data"...)
	rpmAt := len(rpm)
	rpm = append(rpm, gzipped(t, append([]byte("070701000000010000816400000000000000000000000100000000000000430000000000000000000000000000001b00000000./etc/acme/settings.json\x00\x00"), config...))...)
	inside := elfWithPayload(8000, nil)
	copy(inside[4000:], gzipped(t, config))
	for _, tt := range []struct {
		name string
		exe  []byte
		want string
	}{
		{"pkg --compress GZip", elfWithPayload(8000, pkg), fmt.Sprintf("/usr/local/bin/acme (appended to the executable) at byte %d (gzip)", at)},
		{"Nuitka --onefile", elfWithPayload(8000, nuitka), "/usr/local/bin/acme (appended to the executable) at byte 8003 (zstd)"},
		{"pkg -t node18-win-x64", append(peExe(8000), pkg...), fmt.Sprintf("/usr/local/bin/acme (appended to the executable) at byte %d (gzip)", at)},
		{"an RPM package's payload", rpm, fmt.Sprintf("/usr/local/bin/acme (RPM payload) at byte %d (gzip)", rpmAt)},
		{"clean", elfWithPayload(8000, gzipped(t, []byte(`{"region": "eu-west-1"}`))), ""},
		{"a stream inside the executable's own content", inside, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeBytes(t, dir, "usr/local/bin/acme", tt.exe)
			r := mustScan(t, dir, s, ScanOptions{})
			var got []string
			for _, f := range r.Findings {
				got = append(got, f.Path)
			}
			if tt.want == "" && len(got) > 0 || tt.want != "" && !slices.Contains(got, tt.want) {
				t.Errorf("findings at %q, want one at %q (notes: %s)", got, tt.want, strings.Join(r.Notes, "; "))
			}
		})
	}
}

// TestScanTreeAppendedTooMany: past nest.MaxAppendedStreams streams (lowered
// here to 1,000), what
// the others hold cannot be proven: the scan fails, naming the file.
func TestScanTreeAppendedTooMany(t *testing.T) {
	defer func(n int) { nest.MaxAppendedStreams = n }(nest.MaxAppendedStreams)
	nest.MaxAppendedStreams = 1000
	s := mustSecrets(t, map[string]string{"DB_PASSWORD": execCanary(t)})
	one := gzipped(t, []byte(`{"region": "eu-west-1"}`))
	dir := t.TempDir()
	writeBytes(t, dir, "usr/local/bin/acme", elfWithPayload(8000, bytes.Repeat(one, nest.MaxAppendedStreams+1)))
	_, err := scan(t, dir, s, ScanOptions{})
	if err == nil || !strings.Contains(err.Error(), "/usr/local/bin/acme") || !strings.Contains(err.Error(), "compressed streams appended") {
		t.Fatalf("ScanTree: %v; want an error naming the file and the streams past the bound", err)
	}
}
