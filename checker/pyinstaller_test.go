package checker

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"slices"
	"testing"
)

// pyinstallerExe is what pyinstaller --onefile writes: a bootloader
// (here a stub) and a CArchive of zlib-compressed entries, its table of
// contents and its cookie. An entry of type 'z' is a PYZ archive of
// modules, itself compressed streams one after another.
func pyinstallerExe(t *testing.T, entries map[string][]byte, modules [][]byte) []byte {
	t.Helper()
	z := func(b []byte) []byte {
		var buf bytes.Buffer
		zw := zlib.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		return buf.Bytes()
	}
	var pkg, toc bytes.Buffer
	add := func(name string, typ byte, data []byte, compressed bool) {
		flag := byte(0)
		if compressed {
			flag = 1
		}
		nm := append([]byte(name), 0)
		for (18+len(nm))%16 != 0 {
			nm = append(nm, 0)
		}
		var e [18]byte
		binary.BigEndian.PutUint32(e[0:], uint32(18+len(nm)))
		binary.BigEndian.PutUint32(e[4:], uint32(pkg.Len()))
		binary.BigEndian.PutUint32(e[8:], uint32(len(data)))
		binary.BigEndian.PutUint32(e[12:], uint32(len(data)))
		e[16], e[17] = flag, typ
		toc.Write(e[:])
		toc.Write(nm)
		pkg.Write(data)
	}
	for name, data := range entries {
		add(name, 'x', z(data), true)
	}
	if modules != nil {
		var pyz bytes.Buffer
		pyz.WriteString("PYZ\x00\xcb\x0d\x0d\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00")
		for _, m := range modules {
			pyz.Write(z(m))
		}
		b := pyz.Bytes()
		binary.BigEndian.PutUint32(b[8:], uint32(len(b)))
		add("PYZ-00.pyz", 'z', z(b), true)
	}
	tocOff := pkg.Len()
	pkg.Write(toc.Bytes())
	var cookie [88]byte
	copy(cookie[:], "MEI\014\013\012\013\016")
	binary.BigEndian.PutUint32(cookie[8:], uint32(pkg.Len()+88))
	binary.BigEndian.PutUint32(cookie[12:], uint32(tocOff))
	binary.BigEndian.PutUint32(cookie[16:], uint32(toc.Len()))
	binary.BigEndian.PutUint32(cookie[20:], 312)
	copy(cookie[24:], "libpython3.12.so.1.0")
	pkg.Write(cookie[:])
	return append(append([]byte("\x7fELF\x02\x01\x01\x00"), bytes.Repeat([]byte{0x90}, 4000)...), pkg.Bytes()...)
}

// TestScanTreePyInstaller: a value in a file or a module that
// pyinstaller --onefile packed into an executable (zlib-compressed inside
// its CArchive, or inside the PYZ archive of its modules) is found.
func TestScanTreePyInstaller(t *testing.T) {
	v := execCanary(t)
	s := mustSecrets(t, map[string]string{"API_KEY": v})
	module := []byte("\xe3\x00\x00\x00\x00\xfa\x07API_KEY\xda\x2c" + v + "\x4e\x29")
	for _, tt := range []struct {
		name, path string
		exe        []byte
		want       string
	}{
		{"an --add-data file", "/usr/local/bin/acme", pyinstallerExe(t, map[string][]byte{"settings.json": []byte(`{"region": "eu-west-1", "api_key": "` + v + `"}`)}, nil), "/usr/local/bin/acme (PyInstaller):settings.json (zlib)"},
		{"a module", "/usr/local/bin/acme", pyinstallerExe(t, map[string][]byte{"main": []byte("print(1)")}, [][]byte{[]byte("other module"), module}), "/usr/local/bin/acme (PyInstaller):PYZ-00.pyz (PYZ)"},
		{"the archive without its bootloader", "/src/build/main/main.pkg", pyinstallerExe(t, map[string][]byte{"settings.json": []byte(`{"api_key": "` + v + `"}`)}, nil)[4008:], "/src/build/main/main.pkg (PyInstaller):settings.json (zlib)"},
		{"clean", "/usr/local/bin/acme", pyinstallerExe(t, map[string][]byte{"settings.json": []byte(`{"region": "eu-west-1"}`)}, [][]byte{[]byte("other module")}), ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeBytes(t, dir, tt.path[1:], tt.exe)
			r := mustScan(t, dir, s, ScanOptions{})
			var got []string
			for _, f := range r.Findings {
				got = append(got, f.Path)
			}
			if tt.want == "" && len(got) > 0 || tt.want != "" && !slices.Contains(got, tt.want) {
				t.Errorf("findings at %q, want one at %q (notes: %s)", got, tt.want, fmt.Sprint(r.Notes))
			}
		})
	}
}
