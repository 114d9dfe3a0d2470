package nest

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"slices"
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

// TestStreamFinder: the next compressed stream at or past an offset is
// found, across the 1 MiB blocks the finder reads, by a new finder and by
// one asked in turn; one after another, the streams found are those a
// search of the whole data finds, magic numbers cut by a block's end
// included.
func TestStreamFinder(t *testing.T) {
	gz := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}
	zst := []byte("\x28\xb5\x2f\xfd\x04\x00")
	data := make([]byte, 3<<20)
	copy(data[100:], gz)
	copy(data[1<<20-3:], gz)
	copy(data[2<<20+5:], zst)
	tests := []struct {
		from, at int64
		kind     string
	}{
		{0, 100, "gzip"},
		{101, 1<<20 - 3, "gzip"},
		{1<<20 - 2, 2<<20 + 5, "zstd"},
		{2<<20 + 6, -1, ""},
	}
	shared := NewStreamFinder(bytes.NewReader(data), int64(len(data)))
	for _, tt := range tests {
		for name, f := range map[string]*StreamFinder{"new": NewStreamFinder(bytes.NewReader(data), int64(len(data))), "shared": shared} {
			if at, kind := f.Next(tt.from); at != tt.at || kind != tt.kind {
				t.Errorf("%s finder, from %d: %d %q, want %d %q", name, tt.from, at, kind, tt.at, tt.kind)
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 20; round++ {
		data := make([]byte, 1<<20+rng.IntN(3<<20))
		for k := 0; k < 40; k++ {
			at := rng.IntN(len(data))
			if k%4 == 0 { // at or around a block's end
				at = min(len(data)-1, max(0, (1+rng.IntN(3))<<20-8+rng.IntN(16)))
			}
			copy(data[at:], [][]byte{gz, zst}[k%2])
		}
		var want, got []int64
		for from := 0; from < len(data); {
			i, _ := PayloadAt(data[from:])
			if i < 0 {
				break
			}
			want = append(want, int64(from+i))
			from += i + 1
		}
		f := NewStreamFinder(bytes.NewReader(data), int64(len(data)))
		for from := int64(0); ; {
			at, _ := f.Next(from)
			if at < 0 {
				break
			}
			got = append(got, at)
			from = at + 1
		}
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: the finder found %d streams at %v, a whole search %d at %v", round, len(got), got, len(want), want)
		}
	}
}

// pe32 is a PE file of n bytes whose one section's raw data is
// [secOff, secOff+secLen).
func pe32(n, secOff, secLen int) []byte {
	b := make([]byte, n)
	copy(b, "MZ")
	binary.LittleEndian.PutUint32(b[0x3c:], 0x80)
	copy(b[0x80:], "PE\x00\x00")
	binary.LittleEndian.PutUint16(b[0x80+6:], 1)    // NumberOfSections
	binary.LittleEndian.PutUint16(b[0x80+20:], 224) // SizeOfOptionalHeader
	sec := b[0x80+24+224:]
	copy(sec, ".rsrc\x00\x00\x00")
	binary.LittleEndian.PutUint32(sec[16:], uint32(secLen))
	binary.LittleEndian.PutUint32(sec[20:], uint32(secOff))
	return b
}

// macho64 is a little-endian 64-bit Mach-O file of n bytes whose one
// segment's file image is [segOff, segOff+segLen).
func macho64(n, segOff, segLen int) []byte {
	b := make([]byte, n)
	copy(b, "\xcf\xfa\xed\xfe")
	binary.LittleEndian.PutUint32(b[16:], 1)  // ncmds
	binary.LittleEndian.PutUint32(b[20:], 72) // sizeofcmds
	cmd := b[32:]
	binary.LittleEndian.PutUint32(cmd[0:], 0x19) // LC_SEGMENT_64
	binary.LittleEndian.PutUint32(cmd[4:], 72)
	binary.LittleEndian.PutUint64(cmd[40:], uint64(segOff))
	binary.LittleEndian.PutUint64(cmd[48:], uint64(segLen))
	return b
}

// TestPayloadStart: an executable's payload (ELF, PE, Mach-O) starts
// past its own content, an RPM package's past its lead; other files have
// none.
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
		{"a PE executable with a payload", pe32(5000, 1024, 2048), 3072, AppendedSuffix},
		{"a PE executable without one", pe32(3072, 1024, 2048), -1, ""},
		{"a PE section past the end", pe32(2000, 1024, 2048), -1, ""},
		{"a Mach-O executable with a payload", macho64(5000, 0, 4096), 4096, AppendedSuffix},
		{"a Mach-O segment past the end", macho64(4000, 0, 4096), -1, ""},
		{"a Java class file", append([]byte("\xca\xfe\xba\xbe"), make([]byte, 100)...), -1, ""},
	}
	for _, tt := range tests {
		from, what := PayloadStart(bytes.NewReader(tt.data), tt.data[:min(len(tt.data), 512)], int64(len(tt.data)))
		if from != tt.from || what != tt.what {
			t.Errorf("%s: %d %q, want %d %q", tt.name, from, what, tt.from, tt.what)
		}
	}
}

// FuzzPayloadStart: PayloadStart never panics, and where it says a
// payload starts is within the file.
func FuzzPayloadStart(f *testing.F) {
	f.Add(elf64(5000, 0, 4000, 200, 2))
	f.Add(elf64(300, 0, 100, 128, 2))
	f.Add([]byte("\x7fELF\x01\x02\x01\x00" + string(make([]byte, 60))))
	f.Add(pe32(5000, 1024, 2048))
	f.Add(macho64(5000, 0, 4096))
	f.Add(append([]byte("\xed\xab\xee\xdb"), make([]byte, 100)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		from, _ := PayloadStart(bytes.NewReader(data), data[:min(len(data), 512)], int64(len(data)))
		if from != -1 && (from <= 0 || from >= int64(len(data))) {
			t.Fatalf("PayloadStart = %d for %d bytes", from, len(data))
		}
		if end := ELFEnd(bytes.NewReader(data), int64(len(data))); end != -1 && (end < 52 || end > int64(len(data))) {
			t.Fatalf("ELFEnd = %d for %d bytes", end, len(data))
		}
	})
}
