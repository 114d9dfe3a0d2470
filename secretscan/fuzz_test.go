package secretscan

import (
	"testing"
)

// FuzzStream checks on arbitrary input that the rules never panic and
// that a stream fed in pieces finds exactly what one Scan finds.
func FuzzStream(f *testing.F) {
	for _, sm := range samples() {
		f.Add(sm.text, sm.name, 7)
	}
	f.Add("machine x login y password z", ".netrc", 1)
	lits := [][]byte{[]byte("hunter22"), []byte("AKIA")}
	s, err := NewScanner(Options{Literals: lits})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text, name string, piece int) {
		if piece <= 0 || piece > 1<<16 {
			piece = 1 + piece&0xff
		}
		data := []byte(text)
		want := collect(s, name, data, nil)
		got := collect(s, name, data, []int{piece})
		if len(got) != len(want) {
			t.Fatalf("stream found %d matches, scan %d", len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("match %d: stream %+v, scan %+v", i, got[i], want[i])
			}
			if got[i].Offset < 0 || got[i].Offset+int64(got[i].Len) > int64(len(data)) {
				t.Fatalf("match %+v out of the input (%d bytes)", got[i], len(data))
			}
		}
	})
}
