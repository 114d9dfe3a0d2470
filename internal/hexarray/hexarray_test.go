package hexarray

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// xxdI is what `xxd -i` writes for data.
func xxdI(name string, data []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "unsigned char %s[] = {\n", name)
	for i := 0; i < len(data); i += 12 {
		var parts []string
		for _, c := range data[i:min(i+12, len(data))] {
			parts = append(parts, fmt.Sprintf("0x%02x", c))
		}
		sep := ","
		if i+12 >= len(data) {
			sep = ""
		}
		b.WriteString("  " + strings.Join(parts, ", ") + sep + "\n")
	}
	fmt.Fprintf(&b, "};\nunsigned int %s_len = %d;\n", name, len(data))
	return b.String()
}

func TestDecoded(t *testing.T) {
	const v = "hfc_0123456789abcdef0123456789abcdef"
	var up, low []string
	for _, c := range []byte(v) {
		up = append(up, fmt.Sprintf("0X%02X", c))
		low = append(low, fmt.Sprintf("0x%02x", c))
	}
	tests := []struct {
		name, text string
		want       bool
	}{
		{"xxd -i", xxdI("license_key", []byte(v+"\n")), true},
		{"upper case, no spaces", "static const uint8_t K[]={" + strings.Join(up, ",") + "};", true},
		{"Rust, trailing comma, CRLF", "const KEY: [u8; 36] = [\r\n    " + strings.Join(low, ",\r\n    ") + ",\r\n];", true},
		{"16-bit literals are not bytes", "0x6866, 0x635f, 0x3031, 0x3233, 0x3435, 0x3637", false},
		{"two commas end a list", strings.Join(low[:18], ", ") + ",," + strings.Join(low[18:], ", "), false},
	}
	for _, tt := range tests {
		got := Decoded(nil, []byte(tt.text))
		if bytes.Contains(got, []byte(v)) != tt.want {
			t.Errorf("%s: decoded holds the value: %v, want %v", tt.name, !tt.want, tt.want)
		}
	}
	if got := Decoded([]byte("x"), []byte("a 0x1f, 0x20 and 0x0 ox0x12")); string(got) != "x" {
		t.Errorf("short lists: %d bytes appended, want none", len(got)-1)
	}
}
