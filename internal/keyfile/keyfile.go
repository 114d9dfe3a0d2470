// Package keyfile finds private keys by content: the files of a build
// context that hold one are credential files whatever their name
// (deploy/github_deploy, certs/signing, a JSON or .env file with a key in
// a string).
//
// A file holds a private key when it has
//   - a PEM private key block: a `-----BEGIN ... PRIVATE KEY-----` line
//     (RSA, EC, DSA, OPENSSH, ENCRYPTED, PKCS #8, OpenPGP's `PGP PRIVATE
//     KEY BLOCK`, ssh.com's `---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----`)
//     followed by a base64 body of at least MinBody characters, written
//     plainly or inside a string literal (JSON's "\n" escapes, a quoted
//     line per body line, a Go raw string);
//   - or a PuTTY key: a `PuTTY-User-Key-File-N:` header and a
//     `Private-Lines:` section.
//
// A marker without a body is no key: code that parses or writes keys
// (`strings.HasPrefix(s, "-----BEGIN RSA PRIVATE KEY-----")`), placeholders
// (`-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----`) and
// public keys and certificates (`BEGIN PUBLIC KEY`, `BEGIN CERTIFICATE`,
// ssh-ed25519 AAAA... lines) are not found.
package keyfile

import (
	"bytes"
	"encoding/base64"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// MinBody is the shortest base64 body of a private key block that counts:
// the smallest real keys (an Ed25519 PKCS #8 key) have 64 characters.
const MinBody = 60

// window is how much text after a marker is read to find its body: a
// 16384-bit RSA key's body is about 12 KB of base64, with line breaks.
const window = 16 << 10

var (
	privateKey = []byte("PRIVATE KEY")
	puttyHead  = []byte("PuTTY-User-Key-File-")
	puttyPriv  = []byte("Private-Lines:")
)

// Holds reports whether data holds a private key.
func Holds(data []byte) bool {
	for off := 0; ; {
		i := bytes.Index(data[off:], privateKey)
		if i < 0 {
			break
		}
		i += off
		if end, ok := beginMarker(data, i); ok && hasBody(data[end:min(len(data), end+window)]) {
			return true
		}
		off = i + len(privateKey)
	}
	if base64Holds(data) {
		return true
	}
	if i := bytes.Index(data, puttyHead); i >= 0 && (i == 0 || data[i-1] == '\n' || data[i-1] == '"' || data[i-1] == '\'') {
		if bytes.Contains(data[i:min(len(data), i+window)], puttyPriv) {
			return true
		}
	}
	return false
}

// beginMarker reports whether the "PRIVATE KEY" at i is in a BEGIN marker
// line (`-----BEGIN X PRIVATE KEY-----`, `---- BEGIN SSH2 ENCRYPTED
// PRIVATE KEY ----`), and where the marker ends.
func beginMarker(data []byte, i int) (int, bool) {
	// Back to "BEGIN ", over upper-case words only.
	j := i
	for j > 0 && (isUpper(data[j-1]) || isDigit(data[j-1]) || data[j-1] == ' ') {
		j--
	}
	for j < i && data[j] == ' ' {
		j++
	}
	if !bytes.HasPrefix(data[j:], []byte("BEGIN ")) {
		return 0, false
	}
	k := j - 1
	if k >= 0 && data[k] == ' ' {
		k-- // ssh.com's "---- BEGIN"
	}
	dashes := 0
	for ; k >= 0 && data[k] == '-'; k-- {
		dashes++
	}
	if dashes < 4 {
		return 0, false
	}
	// Forward over " BLOCK" (OpenPGP) and the closing dashes.
	k = i + len(privateKey)
	for k < len(data) && (isUpper(data[k]) || data[k] == ' ') {
		k++
	}
	n := 0
	for k < len(data) && data[k] == '-' {
		k++
		n++
	}
	if n < 4 {
		return 0, false
	}
	return k, true
}

// hasBody reports whether text, what follows a BEGIN marker, starts with
// a private key's body: lines of base64 (after optional `Name: value`
// headers, and the blank line that ends them) adding up to MinBody
// characters before the END marker or the first line that is not base64.
// A line is cut at real line breaks and at the escapes a string literal
// writes them as (\n, \r), and trimmed of the quotes, commas, '+' and
// blanks that join a literal's lines.
func hasBody(text []byte) bool {
	body := 0
	headers := true
	for len(text) > 0 {
		line := text
		cut := len(text)
		for k := 0; k < len(text); k++ {
			if text[k] == '\n' || text[k] == '\r' {
				cut = k
				line = text[:k]
				break
			}
			if text[k] == '\\' && k+1 < len(text) && (text[k+1] == 'n' || text[k+1] == 'r') {
				cut = k + 1
				line = text[:k]
				break
			}
		}
		text = text[min(len(text), cut+1):]
		if e := bytes.Index(line, []byte("-----END")); e >= 0 {
			return body+base64Run(trimJoin(line[:e])) >= MinBody && isBase64(trimJoin(line[:e]))
		}
		if e := bytes.Index(line, []byte("---- END")); e >= 0 {
			return body+base64Run(trimJoin(line[:e])) >= MinBody && isBase64(trimJoin(line[:e]))
		}
		l := trimJoin(line)
		if len(l) == 0 {
			continue
		}
		if headers && bytes.IndexByte(l, ':') > 0 {
			// Proc-Type: 4,ENCRYPTED / DEK-Info: / Comment: "..."; a
			// header's continuation ends with a backslash.
			continue
		}
		if !isBase64(l) {
			break
		}
		headers = false
		body += len(l)
		if body >= MinBody {
			return true
		}
	}
	return body >= MinBody
}

// trimJoin trims what joins the lines of a string literal: blanks, quotes,
// commas, '+', and a trailing backslash (a line continuation).
func trimJoin(l []byte) []byte {
	return bytes.Trim(l, " \t\"'`,+\\")
}

func isBase64(l []byte) bool {
	for _, c := range l {
		if !(isUpper(c) || c >= 'a' && c <= 'z' || isDigit(c) || c == '+' || c == '/' || c == '=') {
			return false
		}
	}
	return true
}

func base64Run(l []byte) int {
	if !isBase64(l) {
		return 0
	}
	return len(l)
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// chunk is how much of a file is read at a time; a key that starts near
// the end of one chunk is found in the next, which starts window bytes
// earlier.
const chunk = 1 << 20

// ReaderHolds reports whether r's content holds a private key, reading it
// a chunk at a time.
func ReaderHolds(r io.Reader) (bool, error) {
	return readerHolds(r, make([]byte, chunk+window))
}

// Kind is what makes a file a credential file by its content.
type Kind uint8

const (
	// NoCredential: the file holds neither a private key nor a build
	// tool's credential configuration.
	NoCredential Kind = iota
	// PrivateKey: the file holds a private key (Holds).
	PrivateKey
	// ToolConfig: the file is, as a whole, a build tool's credential
	// configuration (ToolConfigHolds): an .npmrc, a .netrc, a
	// .git-credentials or a Docker config.json under another name.
	ToolConfig
	// Token: the file is, as a whole, one token of a known format
	// (TokenHolds): a GitHub, GitLab, npm, PyPI, Slack or Stripe token.
	Token
)

// readerHolds is ReaderHolds with buf (chunk+window bytes) to read into.
func readerHolds(r io.Reader, buf []byte) (bool, error) {
	k, err := readerKind(r, buf)
	return k != NoCredential, err
}

// ReaderKindBuffer is ReaderHoldsBuffer saying what the content holds.
func ReaderKindBuffer(r io.Reader, buf []byte) (Kind, error) {
	if len(buf) < BufferSize {
		buf = make([]byte, BufferSize)
	}
	return readerKind(r, buf[:BufferSize])
}

// readerKind reads r a chunk at a time into buf (chunk+window bytes) and
// says what makes it a credential file, if anything.
func readerKind(r io.Reader, buf []byte) (Kind, error) {
	keep := 0
	for {
		n, err := io.ReadFull(r, buf[keep:])
		data := buf[:keep+n]
		if (n > 0 || keep > 0) && Holds(data) {
			return PrivateKey, nil
		}
		// A small file read whole in one chunk: a build tool's credential
		// configuration under any name is a credential file too.
		if keep == 0 && (err == io.EOF || err == io.ErrUnexpectedEOF) && ToolConfigHolds(data) {
			return ToolConfig, nil
		}
		// So is a file that is one token and nothing else.
		if keep == 0 && (err == io.EOF || err == io.ErrUnexpectedEOF) && TokenHolds(data) {
			return Token, nil
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return NoCredential, nil
		}
		if err != nil {
			return NoCredential, err
		}
		// The next chunk starts with the last window bytes of this one.
		keep = copy(buf, data[len(data)-window:])
	}
}

// BufferSize is the size of the buffer ReaderHoldsBuffer reads into.
const BufferSize = chunk + window

// ReaderHoldsBuffer is ReaderHolds reading into buf (BufferSize bytes), so
// that a walk of many files allocates it once.
func ReaderHoldsBuffer(r io.Reader, buf []byte) (bool, error) {
	if len(buf) < BufferSize {
		buf = make([]byte, BufferSize)
	}
	return readerHolds(r, buf[:BufferSize])
}

// FileHolds reports whether the file at name holds a private key.
func FileHolds(name string) (bool, error) {
	return fileHolds(name, make([]byte, chunk+window))
}

func fileHolds(name string, buf []byte) (bool, error) {
	k, err := fileKind(name, buf)
	return k != NoCredential, err
}

func fileKind(name string, buf []byte) (Kind, error) {
	f, err := os.Open(name)
	if err != nil {
		return NoCredential, err
	}
	defer f.Close()
	return readerKind(f, buf)
}

// Walk returns the regular files under root that hold a private key, as
// sorted slash-separated paths relative to root. Symbolic links are not
// followed (a build context sends them as links).
func Walk(root string) ([]string, error) {
	files, _, err := WalkKinds(root)
	return files, err
}

// WalkKinds is Walk, and returns also which of the files are a build
// tool's credential configuration (ToolConfig) rather than a key.
func WalkKinds(root string) (files, tools []string, err error) {
	var out []string
	buf := make([]byte, chunk+window)
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		k, err := fileKind(p, buf)
		if err != nil {
			return err
		}
		if k != NoCredential {
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			out = append(out, filepath.ToSlash(rel))
			if k == ToolConfig {
				tools = append(tools, filepath.ToSlash(rel))
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	sort.Strings(out)
	sort.Strings(tools)
	return out, tools, nil
}

// base64Marks are "-----BEGIN" in base64, once for each of its three
// alignments in an encoded stream, with the marker's bytes that come
// before the aligned part: a key file kept base64-encoded (base64 id_rsa >
// key.b64, a Kubernetes Secret's data, an env var's value) holds one.
var base64Marks = func() (out []struct{ enc, lead []byte }) {
	const mark = "-----BEGIN"
	for j := 0; j < 3; j++ {
		rest := mark[j:]
		enc := base64.StdEncoding.EncodeToString([]byte(rest[:len(rest)/3*3]))
		out = append(out, struct{ enc, lead []byte }{[]byte(enc), []byte(mark[:j])})
	}
	return out
}()

// base64Holds reports whether data holds a private key encoded in base64,
// on one line or wrapped over several.
func base64Holds(data []byte) bool {
	for _, m := range base64Marks {
		for off := 0; ; {
			i := bytes.Index(data[off:], m.enc)
			if i < 0 {
				break
			}
			i += off
			off = i + len(m.enc)
			// The encoded text from there, line breaks (and JSON's \n
			// escapes) left out, up to the first other character.
			var enc []byte
		scan:
			for k := i; k < len(data) && len(enc) < 2*window; k++ {
				c := data[k]
				switch {
				case c == '\n' || c == '\r' || c == ' ' || c == '\t':
					continue
				case c == '\\' && k+1 < len(data) && data[k+1] == 'n':
					k++
					continue
				case isBase64Char(c):
					enc = append(enc, c)
					continue
				}
				break scan
			}
			enc = bytes.TrimRight(enc, "=")
			enc = enc[:len(enc)/4*4]
			dec := make([]byte, base64.RawStdEncoding.DecodedLen(len(enc)))
			n, err := base64.RawStdEncoding.Decode(dec, enc)
			if err != nil && n == 0 {
				continue
			}
			if Holds(append(append([]byte(nil), m.lead...), dec[:n]...)) {
				return true
			}
		}
	}
	return false
}

func isBase64Char(c byte) bool {
	return isUpper(c) || c >= 'a' && c <= 'z' || isDigit(c) || c == '+' || c == '/' || c == '='
}
