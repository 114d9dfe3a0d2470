package checker

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hushbuild/hushbuild/internal/mask"
)

// benchSecrets are the secrets of BenchmarkExecMask: a fine-grained GitHub
// token, a 1.2 KB access token and a .env, as LoadSecrets reads them.
func benchSecrets(b *testing.B) *execSecrets {
	b.Helper()
	r := mrand.New(mrand.NewPCG(3, 4))
	hexs := func(n int) string {
		const digits = "0123456789abcdef"
		s := make([]byte, n)
		for i := range s {
			s[i] = digits[r.IntN(16)]
		}
		return string(s)
	}
	dir := b.TempDir()
	files := []string{
		"github_pat_" + hexs(82),
		"hfc_" + hexs(1200),
		"APP_ENV=production\nDB_HOST=db.internal\nDB_PASSWORD=" + hexs(32) + "\nSTRIPE_SK=sk_live_" + hexs(24) + "\n",
	}
	var ids []string
	for i, f := range files {
		if err := os.WriteFile(filepath.Join(dir, strconv.Itoa(i)), []byte(f), 0o600); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, "s"+string(rune('0'+i)))
	}
	es, err := loadExecSecrets(dir, ids)
	if err != nil {
		b.Fatal(err)
	}
	return es
}

// BenchmarkExecMask measures the step output masker with realistic
// secrets on build-log-like text (no secret in it).
func BenchmarkExecMask(b *testing.B) {
	es := benchSecrets(b)
	r := mrand.New(mrand.NewPCG(5, 6))
	words := strings.Fields("npm WARN deprecated added packages in audited 1234 found vulnerabilities Step 3/7 RUN apk add --no-cache git curl fetch https://dl-cdn.alpinelinux.org/alpine/v3.19/main/x86_64/APKINDEX.tar.gz OK: 12 MiB in 25 packages 0a1b2c3d4e5f ERROR: warning: building wheel for numpy")
	var sb strings.Builder
	for sb.Len() < 1<<20 {
		for k := 0; k < 12; k++ {
			sb.WriteString(words[r.IntN(len(words))])
			sb.WriteByte(' ')
		}
		sb.WriteByte('\n')
	}
	data := []byte(sb.String())
	for _, pieces := range []bool{false, true} {
		name := "needles"
		if pieces {
			name = "needles+pieces"
		}
		b.Run(name, func(b *testing.B) {
			patterns, _ := maskPatterns(es.values, pieces)
			set, err := mask.Compile(patterns)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for _, p := range patterns {
				n += len(p)
			}
			w := set.Writer(io.Discard, []byte(Replacement))
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				for off := 0; off < len(data); off += 32 << 10 {
					w.Write(data[off:min(off+32<<10, len(data))])
				}
			}
			b.ReportMetric(float64(n), "pattern-bytes")
		})
	}
}

// BenchmarkMaskSet measures compiling the masks of BenchmarkExecMask's
// secrets, which each step with secrets does before its command starts.
func BenchmarkMaskSet(b *testing.B) {
	es := benchSecrets(b)
	for _, pieces := range []bool{false, true} {
		name := "needles"
		if pieces {
			name = "needles+pieces"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				patterns, _ := maskPatterns(es.values, pieces)
				if _, err := mask.Compile(patterns); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// maskOutput masks out with the patterns of values, written in chunks of
// random sizes.
func maskOutput(t *testing.T, values []execValue, out string, seed uint64) string {
	t.Helper()
	set, _, err := maskSet(values)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := set.Writer(&buf, []byte(Replacement))
	r := mrand.New(mrand.NewPCG(seed, 1))
	for len(out) > 0 {
		k := min(len(out), 1+r.IntN(40))
		w.Write([]byte(out[:k]))
		out = out[k:]
	}
	w.Close()
	return buf.String()
}

// shownPiece returns the length of the longest part of v that out shows
// raw, in base64 (each line's base64 words, and the lines of base64 alone
// joined, decoded at each offset) or in xxd's hex column; 0 when none of
// minPiece bytes or more.
func shownPiece(out, v string) int {
	const minPiece = 12
	isB64 := func(r rune) bool {
		return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("+/=-_", r)
	}
	texts := []string{out}
	var joined strings.Builder
	var dump, le, odc []byte
	for _, line := range strings.Split(out, "\n") {
		words := strings.FieldsFunc(line, func(r rune) bool { return !isB64(r) })
		texts = append(texts, words...)
		if len(words) > 0 {
			joined.WriteString(words[0])
			texts = append(texts, joined.String())
			joined.Reset()
			joined.WriteString(words[len(words)-1])
		}
		if m := hexdumpLineRE.FindStringSubmatch(line); m != nil {
			if d, err := hex.DecodeString(strings.ReplaceAll(m[1], " ", "")); err == nil {
				dump = append(dump, d...)
			}
		}
		if m := xxdLineRE.FindStringSubmatch(line); m != nil {
			if d, err := hex.DecodeString(strings.ReplaceAll(m[1], " ", "")); err == nil {
				dump = append(dump, d...)
			}
		}
		if m := hexWordLineRE.FindStringSubmatch(line); m != nil {
			for _, w := range strings.Fields(m[1]) {
				if d, err := hex.DecodeString(w); err == nil {
					le = append(le, d[1], d[0])
				}
			}
		}
		if m := odCharLineRE.FindStringSubmatch(line); m != nil {
			for f := m[1]; len(f) >= 4; f = f[4:] {
				if c := strings.TrimLeft(f[:4], " "); len(c) == 1 {
					odc = append(odc, c[0])
				} else {
					odc = append(odc, 0) // an escape or octal: no secret byte here
				}
			}
		}
	}
	var decoded []string
	for _, text := range texts {
		text = strings.TrimRight(text, "=")
		for off := 0; off < 4 && off < len(text); off++ {
			s := text[off:]
			s = s[:len(s)/4*4]
			for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
				if d, err := enc.DecodeString(s); err == nil {
					decoded = append(decoded, string(d))
				}
			}
		}
	}
	decoded = append(decoded, out, string(dump), string(le), string(odc))
	best := 0
	for _, d := range decoded {
		for i := 0; i+minPiece <= len(v); i++ {
			n := 0
			for i+n < len(v) && strings.Contains(d, v[i:i+n+1]) {
				n++
			}
			if n >= minPiece {
				best = max(best, n)
				i += n - 1
			}
		}
	}
	return best
}

// hexWordLineRE is a line of hexdump's (od -x's) default output, and
// odCharLineRE one of od -c's.
var (
	hexWordLineRE = regexp.MustCompile(`^[0-7a-f]{7}((?: [0-9a-f]{4}){1,8})`)
	odCharLineRE  = regexp.MustCompile(`^[0-7]{7}((?:.{4}){1,16})$`)
)

// hexWords is what hexdump prints for data (an even length): two-byte
// words, little-endian, eight a line.
func hexWords(data string) string {
	var b strings.Builder
	for off := 0; off < len(data); off += 16 {
		fmt.Fprintf(&b, "%07x", off)
		for i := off; i+1 < min(off+16, len(data)); i += 2 {
			fmt.Fprintf(&b, " %02x%02x", data[i+1], data[i])
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// odChars is what od -c prints for data of printable ASCII and line ends.
func odChars(data string) string {
	var b strings.Builder
	for off := 0; off < len(data); off += 16 {
		fmt.Fprintf(&b, "%07o", off)
		for _, c := range []byte(data[off:min(off+16, len(data))]) {
			if c == '\n' {
				b.WriteString("  \\n")
			} else {
				fmt.Fprintf(&b, "%4c", c)
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

var hexdumpLineRE = regexp.MustCompile(`^[0-9a-f]{8}  ((?:[0-9a-f]{2}  ?){1,16})`)

// hexdumpC is what hexdump -C prints for data.
func hexdumpC(data string) string {
	var b strings.Builder
	for off := 0; off < len(data); off += 16 {
		chunk := data[off:min(off+16, len(data))]
		fmt.Fprintf(&b, "%08x ", off)
		for i := 0; i < 16; i++ {
			if i == 8 {
				b.WriteByte(' ')
			}
			if i < len(chunk) {
				fmt.Fprintf(&b, " %02x", chunk[i])
			} else {
				b.WriteString("   ")
			}
		}
		text := []byte(chunk)
		for i, c := range text {
			if c < 0x20 || c >= 0x7f {
				text[i] = '.'
			}
		}
		fmt.Fprintf(&b, "  |%s|\n", text)
	}
	return b.String()
}

var xxdLineRE = regexp.MustCompile(`^[0-9a-f]{8}: ((?:[0-9a-f]{4} ){0,7}[0-9a-f]{2,4})`)

// xxdDump is what xxd prints for data.
func xxdDump(data string) string {
	var b strings.Builder
	for off := 0; off < len(data); off += 16 {
		chunk := data[off:min(off+16, len(data))]
		var groups []string
		for i := 0; i < len(chunk); i += 2 {
			groups = append(groups, hex.EncodeToString([]byte(chunk[i:min(i+2, len(chunk))])))
		}
		text := []byte(chunk)
		for i, c := range text {
			if c < 0x20 || c >= 0x7f {
				text[i] = '.'
			}
		}
		fmt.Fprintf(&b, "%08x: %-40s %s\n", off, strings.Join(groups, " "), text)
	}
	return b.String()
}

func wrapLines(s string, n int) string {
	var b strings.Builder
	for i := 0; i < len(s); i += n {
		b.WriteString(s[i:min(i+n, len(s))] + "\n")
	}
	return b.String()
}

// TestMaskPieces: a value the output shows in parts (base64 wrapped over
// lines, a long value's whole encodings, a hex dump) is masked part by
// part: no part of 24 bytes or more of it is left; ordinary output is
// left alone.
func TestMaskPieces(t *testing.T) {
	r := mrand.New(mrand.NewPCG(9, 10))
	hexs := func(n int) string {
		b := make([]byte, n/2)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return hex.EncodeToString(b)
	}
	pat := "github_pat_" + hexs(82)
	long := "hfc_" + hexs(1200)
	tok := "hc-" + hexs(32)
	pw := "pw" + hexs(10) // 12 bytes
	b64 := base64.StdEncoding.EncodeToString
	tests := []struct {
		name, value, out string
	}{
		{"set -x prints base64 wrapped at 76", pat, "+ AUTH='" + strings.TrimSuffix(wrapLines(b64([]byte("x-access-token:"+pat)), 76), "\n") + "'\n+ git ls-remote\n"},
		{"base64 wrapped at 64, CRLF", pat, strings.ReplaceAll(wrapLines(b64([]byte("u:"+pat)), 64), "\n", "\r\n")},
		{"a long token's Basic header", long, "> Authorization: Basic " + b64([]byte("00000000-0000-0000-0000-000000000000:"+long)) + "\n"},
		{"a long token, URL alphabet, no padding", long, "token " + base64.RawURLEncoding.EncodeToString([]byte("x"+long)) + " next\n"},
		{"a long token raw, cut over lines", long, wrapLines(long, 100)},
		{"xxd of a token file", tok, xxdDump(tok + "\n")},
		{"xxd of a token at an odd offset", tok, xxdDump("TOKEN=" + tok + "\n")},
		{"xxd of a GitHub token", pat, xxdDump("x" + pat)},
		{"hexdump -C of a token file", tok, hexdumpC(tok + "\n")},
		{"hexdump -C of a GitHub token", pat, hexdumpC("TOKEN=" + pat)},
		{"od -c of a token file", tok, odChars(tok + "\n")},
		{"od -c of a GitHub token at an odd offset", pat, odChars("TOKEN=" + pat + "\n")},
		{"hexdump of a token file", tok, hexWords(tok + "\n")},
		{"hexdump of a GitHub token at an odd offset", pat, hexWords("TOKEN=" + pat + "\n\n")},
	}
	// A value too short for pieces: its dumps are masked whole.
	short := []struct{ name, out string }{
		{"od -c of a short password file", odChars(pw + "\n")},
		{"hexdump of a short password file", hexWords(pw + "\n")},
		{"hexdump -C of a short password file", hexdumpC(pw + "\n")},
		{"xxd of a short password at an odd offset", xxdDump("P=" + pw + "\n")},
	}
	for i, tt := range short {
		values := []execValue{{id: "S", value: pw, pieces: true}}
		if before := shownPiece(tt.out, pw); before != len(pw) {
			t.Fatalf("%s: the test output shows %d of the value's %d bytes", tt.name, before, len(pw))
		}
		if n := shownPiece(maskOutput(t, values, tt.out, uint64(i)), pw); n != 0 {
			t.Errorf("%s: the masked output shows %d of the value's %d bytes in one part", tt.name, n, len(pw))
		}
	}
	for i, tt := range tests {
		values := []execValue{{id: "S", value: tt.value, pieces: true}}
		before := shownPiece(tt.out, tt.value)
		if before < 24 {
			t.Fatalf("%s: the test output shows only %d bytes of the value unmasked", tt.name, before)
		}
		got := maskOutput(t, values, tt.out, uint64(i))
		if n := shownPiece(got, tt.value); n >= 24 {
			t.Errorf("%s: the masked output shows %d of the value's %d bytes in one part", tt.name, n, len(tt.value))
		}
	}
	// Ordinary output is left as it is.
	values := []execValue{{id: "A", value: pat, pieces: true}, {id: "B", value: long, pieces: true}, {id: "C", value: tok, pieces: true}}
	plain := "npm WARN deprecated inflight@1.0.6\nadded 1234 packages in 9s\n" + xxdDump("hello, world: nothing secret in here at all\n") +
		"sha256:" + hexs(64) + "\n" + wrapLines(b64([]byte(hexs(300))), 76) + "Authorization: Basic " + b64([]byte("user:"+hexs(40))) + "\n"
	if got := maskOutput(t, values, plain, 99); got != plain {
		t.Errorf("ordinary output was masked:\n%s", got)
	}
}

// TestMaskPiecesBounded: the pieces of many values stay within
// maxPieceBytes, with a note, and a value of several lines or past
// maxPieceValue has none.
func TestMaskPiecesBounded(t *testing.T) {
	r := mrand.New(mrand.NewPCG(11, 12))
	var values []execValue
	for i := 0; i < 40; i++ {
		b := make([]byte, 240)
		for k := range b {
			b[k] = byte(r.Uint32())
		}
		values = append(values, execValue{id: "S" + strconv.Itoa(i), value: hex.EncodeToString(b), pieces: true})
	}
	patterns, notes := maskPatterns(values, true)
	withoutP, _ := maskPatterns(values, false)
	n := 0
	for _, p := range patterns {
		n += len(p)
	}
	for _, p := range withoutP {
		n -= len(p)
	}
	if n > maxPieceBytes {
		t.Errorf("pieces total %d bytes, more than %d", n, maxPieceBytes)
	}
	if len(notes) == 0 {
		t.Error("no note says which values' pieces are not masked")
	}
	for _, v := range []string{"line one of it\nline two of the value", strings.Repeat("x", maxPieceValue+1), "short"} {
		if ps := maskPieces(v); len(ps) != 0 {
			t.Errorf("a value of %d bytes has %d pieces", len(v), len(ps))
		}
	}
}

// TestMaskWriterForms: the step output masker masks a value as the URL,
// form and JSON writers of other languages escape it (the forms the
// checker finds in files: one list, verify.Needles), by the needles
// alone (a value marked for pieces would have parts of it masked anyway).
func TestMaskWriterForms(t *testing.T) {
	for i, tt := range writerForms {
		v := writerValue(t)
		form := tt.text(v)
		got := maskOutput(t, []execValue{{id: "S", value: v}}, "+ cat "+tt.file+"\n"+form+"\n", uint64(i))
		inner := strings.TrimSuffix(strings.TrimPrefix(form, tt.pre), tt.post)
		if strings.Contains(got, inner) || !strings.Contains(got, Replacement) {
			t.Errorf("%s: the form is not masked", tt.name)
		}
	}
}

// TestMaskKeyInOtherContainer: an RSA key secret printed in the other
// container OpenSSL converts it to (openssl rsa -check prints a PKCS #1
// key as PKCS #8; -traditional prints a PKCS #8 key as PKCS #1) shows no
// line of its body past the public modulus (its first 6 lines and a
// half, which are public: not masked).
func TestMaskKeyInOtherContainer(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p8der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	pkcs8 := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8der}))
	tests := []struct{ name, secret, printed string }{
		{"PKCS #1 secret printed as PKCS #8", pkcs1, pkcs8},
		{"PKCS #8 secret printed as PKCS #1", pkcs8, pkcs1},
	}
	for i, tt := range tests {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "0"), []byte(tt.secret), 0o600); err != nil {
			t.Fatal(err)
		}
		es, err := loadExecSecrets(dir, []string{"tls_key"})
		if err != nil {
			t.Fatal(err)
		}
		got := maskOutput(t, es.values, "RSA key ok\nwriting RSA key\n"+tt.printed, uint64(i))
		for n, line := range strings.Split(tt.printed, "\n") {
			if n >= 8 && len(line) == 64 && strings.Contains(got, line) {
				t.Errorf("%s: line %d of the printed key is not masked", tt.name, n)
			}
		}
	}
}
