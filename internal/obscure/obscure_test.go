package obscure

import (
	"bytes"
	"crypto/aes"
	"crypto/rand"
	"testing"
)

// rcloneObscure is rclone's obscure.Obscure: a random IV.
func rcloneObscure(t *testing.T, v string) string {
	iv := make([]byte, aes.BlockSize)
	if _, err := rand.Read(iv); err != nil {
		t.Fatal(err)
	}
	return Rclone(iv, v)
}

func TestRevealed(t *testing.T) {
	const v = "hfc_0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		name string
		text func(o string) string
		want bool
	}{
		{"rclone.conf", func(o string) string {
			return "[backup]\ntype = sftp\nhost = backup.example.com\nuser = ci\npass = " + o + "\n"
		}, true},
		{"config dump JSON", func(o string) string { return `{"backup":{"pass":"` + o + `","type":"sftp"}}` }, true},
		{"env file", func(o string) string { return "RCLONE_CONFIG_BACKUP_PASS=" + o + "\n" }, true},
		{"CRLF, last line", func(o string) string { return "[b]\r\npassword = " + o }, true},
		{"the value raw is no obscured value", func(string) string { return "pass = " + v + "\n" }, false},
		{"a hash", func(string) string {
			return "sha256 = 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n"
		}, false},
	}
	for _, tt := range tests {
		got := Revealed(nil, []byte(tt.text(rcloneObscure(t, v))))
		if bytes.Contains(got, []byte(v)) != tt.want {
			t.Errorf("%s: revealed holds the value: %v, want %v", tt.name, !tt.want, tt.want)
		}
	}
	if got := Revealed([]byte("x"), []byte("short ab_cd-ef")); string(got) != "x" {
		t.Errorf("short runs: got %d bytes, want none appended", len(got)-1)
	}
}
