package nest

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"
)

// elf64 is a 64-bit little-endian ELF file of n bytes whose one segment
// covers [segOff, segOff+segLen) and whose section header table (of
// shnum entries, the last of segLen bytes at segOff, the others
// SHT_NOBITS) is at shoff.
func elf64(n, segOff, segLen, shoff, shnum int) []byte {
	b := make([]byte, n)
	copy(b, "\x7fELF\x02\x01\x01\x00")
	binary.LittleEndian.PutUint64(b[32:], 64)
	binary.LittleEndian.PutUint64(b[40:], uint64(shoff))
	binary.LittleEndian.PutUint16(b[54:], 56)
	binary.LittleEndian.PutUint16(b[56:], 1)
	binary.LittleEndian.PutUint16(b[58:], 64)
	binary.LittleEndian.PutUint16(b[60:], uint16(shnum))
	binary.LittleEndian.PutUint32(b[64:], 1)
	binary.LittleEndian.PutUint64(b[64+8:], uint64(segOff))
	binary.LittleEndian.PutUint64(b[64+32:], uint64(segLen))
	for i := 0; i < shnum && shoff+64*(i+1) <= n; i++ {
		e := b[shoff+64*i:]
		if i < shnum-1 {
			// SHT_NOBITS: its size takes no room in the file.
			binary.LittleEndian.PutUint32(e[4:], 8)
			binary.LittleEndian.PutUint64(e[32:], 1<<40)
			continue
		}
		binary.LittleEndian.PutUint32(e[4:], 1) // SHT_PROGBITS
		binary.LittleEndian.PutUint64(e[24:], uint64(segOff))
		binary.LittleEndian.PutUint64(e[32:], uint64(segLen))
	}
	return b
}

// TestELFEnd: an ELF file's content ends past its furthest table,
// segment or section; what follows was appended. Files that are no ELF
// file, or whose headers point past their end, have none.
func TestELFEnd(t *testing.T) {
	self, err := os.ReadFile("/proc/self/exe")
	if err != nil {
		t.Skip("no /proc/self/exe:", err)
	}
	tests := []struct {
		name string
		data []byte
		want int64
	}{
		{"this test's executable", self, int64(len(self))},
		{"this test's executable with a payload", append(bytes.Clone(self), "KAY\x28\xb5\x2f\xfd payload"...), int64(len(self))},
		{"a segment last", elf64(5000, 0, 4000, 200, 2), 4000},
		{"the section header table last", elf64(5000, 0, 1000, 3000, 4), 3000 + 4*64},
		{"a segment past the end", elf64(3000, 0, 4000, 200, 1), -1},
		{"a section header table past the end", elf64(3000, 0, 1000, 2990, 2), -1},
		{"no ELF file", []byte("#!/bin/sh\necho hi\n"), -1},
		{"a truncated header", []byte("\x7fELF\x02\x01\x01"), -1},
		{"an unknown class", append([]byte("\x7fELF\x03\x01\x01\x00"), make([]byte, 100)...), -1},
	}
	for _, tt := range tests {
		if got := ELFEnd(bytes.NewReader(tt.data), int64(len(tt.data))); got != tt.want {
			t.Errorf("%s: ELFEnd = %d, want %d", tt.name, got, tt.want)
		}
	}
}

// TestNextStream: the next compressed stream at or past an offset is
// found, across the 1 MiB blocks NextStream reads.
func TestNextStream(t *testing.T) {
	gz := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}
	data := make([]byte, 3<<20)
	copy(data[100:], gz)
	copy(data[1<<20-3:], gz)
	copy(data[2<<20+5:], "\x28\xb5\x2f\xfd\x04\x00")
	tests := []struct {
		from, at int64
		kind     string
	}{
		{0, 100, "gzip"},
		{101, 1<<20 - 3, "gzip"},
		{1<<20 - 2, 2<<20 + 5, "zstd"},
		{2<<20 + 6, -1, ""},
	}
	for _, tt := range tests {
		at, kind := NextStream(bytes.NewReader(data), tt.from, int64(len(data)))
		if at != tt.at || kind != tt.kind {
			t.Errorf("from %d: %d %q, want %d %q", tt.from, at, kind, tt.at, tt.kind)
		}
	}
}

// FuzzELFEnd: ELFEnd never panics, and what it returns is -1 or within
// the file.
func FuzzELFEnd(f *testing.F) {
	f.Add(elf64(5000, 0, 4000, 200, 2))
	f.Add(elf64(300, 0, 100, 128, 2))
	f.Add([]byte("\x7fELF\x01\x02\x01\x00" + string(make([]byte, 60))))
	f.Fuzz(func(t *testing.T, data []byte) {
		end := ELFEnd(bytes.NewReader(data), int64(len(data)))
		if end != -1 && (end < 52 || end > int64(len(data))) {
			t.Fatalf("ELFEnd = %d for %d bytes", end, len(data))
		}
	})
}

// TestPayloadStart: an ELF executable's payload starts past its own
// content, an RPM package's past its lead; other files have none.
func TestPayloadStart(t *testing.T) {
	exe := elf64(5000, 0, 4000, 200, 2)
	rpm := append([]byte("\xed\xab\xee\xdb\x03\x00\x00\x01"), make([]byte, 200)...)
	tests := []struct {
		name string
		data []byte
		from int64
		what string
	}{
		{"an executable with a payload", exe, 4000, AppendedSuffix},
		{"an executable without one", exe[:4000], -1, ""},
		{"an RPM package", rpm, 96, RPMSuffix},
		{"an RPM lead alone", rpm[:96], -1, ""},
		{"a script", []byte("#!/bin/sh\n\x1f\x8b\x08"), -1, ""},
	}
	for _, tt := range tests {
		from, what := PayloadStart(bytes.NewReader(tt.data), tt.data[:min(len(tt.data), 512)], int64(len(tt.data)))
		if from != tt.from || what != tt.what {
			t.Errorf("%s: %d %q, want %d %q", tt.name, from, what, tt.from, tt.what)
		}
	}
}
