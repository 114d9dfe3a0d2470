package verify

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Secret is a known value to search for: a secret the build used.
type Secret struct {
	// ID is the build's secret id (`--secret id=ID`), reported with each
	// hit.
	ID string
	// Value is what to search for. It is never reported.
	Value string
	// Field is the key, inside a secret file, this value came from ("" for
	// the whole secret). It is reported with each hit.
	Field string
}

// label names s in notes: "secret ID[ field FIELD]", never the value.
func (s Secret) label() string {
	if s.Field != "" {
		return "secret " + s.ID + " field " + s.Field
	}
	return "secret " + s.ID
}

func (s Secret) shortNote() string {
	return fmt.Sprintf("%s: value shorter than %d bytes, not searched", s.label(), MinValueLen)
}

// MinValueLen is the shortest value searched: shorter ones would match by
// chance all over an image. They are skipped with a note.
const MinValueLen = 6

// SecretSpec is one `--secret` flag, in buildx's syntax:
// `id=ID[,type=env|file][,env=VAR][,src=FILE]`. With only an id, the
// value is the environment variable ID, or else the file ID.
type SecretSpec struct {
	ID  string
	Env string
	Src string
}

// ParseSecretSpec reads a `--secret` flag value.
func ParseSecretSpec(s string) (SecretSpec, error) {
	var spec SecretSpec
	typ := ""
	for _, field := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(field), "=")
		if !ok {
			return spec, fmt.Errorf("--secret %q: %q is not key=value", s, field)
		}
		switch strings.ToLower(k) {
		case "id":
			spec.ID = v
		case "type":
			if v != "env" && v != "file" {
				return spec, fmt.Errorf("--secret %q: type must be env or file", s)
			}
			typ = v
		case "env":
			spec.Env = v
		case "src", "source":
			spec.Src = v
		default:
			return spec, fmt.Errorf("--secret %q: unknown key %q (known: id, type, env, src)", s, k)
		}
	}
	if spec.ID == "" {
		// buildx takes the id from the source's base name.
		switch {
		case spec.Src != "":
			spec.ID = filepath.Base(spec.Src)
		case spec.Env != "":
			spec.ID = spec.Env
		default:
			return spec, fmt.Errorf("--secret %q: no id", s)
		}
	}
	if spec.Env != "" && spec.Src != "" {
		return spec, fmt.Errorf("--secret %q: env and src are exclusive", s)
	}
	switch typ {
	case "env":
		if spec.Src != "" {
			// buildx reads src as the variable name for type=env.
			spec.Env, spec.Src = spec.Src, ""
		}
		if spec.Env == "" {
			spec.Env = spec.ID
		}
	case "file":
		if spec.Env != "" {
			return spec, fmt.Errorf("--secret %q: type=file with env", s)
		}
		if spec.Src == "" {
			spec.Src = spec.ID
		}
	}
	return spec, nil
}

// Load reads the secret's value: from the environment (lookupEnv, usually
// os.LookupEnv) or from its file. A file yields its whole content and each
// credential-like value inside it (see FileSecrets).
func (spec SecretSpec) Load(lookupEnv func(string) (string, bool)) (secrets []Secret, notes []string, err error) {
	env, src := spec.Env, spec.Src
	if env == "" && src == "" {
		if _, ok := lookupEnv(spec.ID); ok {
			env = spec.ID
		} else {
			src = spec.ID
		}
	}
	if env != "" {
		v, ok := lookupEnv(env)
		if !ok {
			return nil, nil, fmt.Errorf("secret %s: environment variable %s is not set", spec.ID, env)
		}
		s, n := filterValues([]candidate{{Secret: Secret{ID: spec.ID, Value: v}}})
		return s, n, nil
	}
	data, err := os.ReadFile(src)
	if err != nil {
		if spec.Src == "" && os.IsNotExist(err) {
			return nil, nil, fmt.Errorf("secret %s: no environment variable or file named %s", spec.ID, spec.ID)
		}
		return nil, nil, fmt.Errorf("secret %s: %w", spec.ID, err)
	}
	s, n := FileSecrets(spec.ID, filepath.Base(src), data)
	return s, n, nil
}

// FileSecrets returns the values to search for a secret file called name
// with content data: the whole content (trimmed), and each credential-like
// value inside it:
//   - each KEY=VALUE (or KEY: VALUE, KEY = VALUE) line's value, with
//     `export` and quotes stripped (.env, .npmrc, .pypirc, YAML);
//   - .netrc `password`, `account` and token-like `login` values;
//   - the password of each URL with userinfo (.git-credentials, DSNs);
//   - in JSON, string values under secret-like keys, and the password in
//     Docker config.json `auth` entries.
//
// A value shorter than MinValueLen, or one under a name that does not say
// secret and that looks like plain configuration (a word, a number, a
// path), is not searched; a note says so. Notes never hold values.
func FileSecrets(id, name string, data []byte) ([]Secret, []string) {
	out := []candidate{{Secret: Secret{ID: id, Value: string(bytes.TrimSpace(data))}}}
	for _, f := range extractFields(data) {
		out = append(out, candidate{Secret{ID: id, Field: f.key, Value: f.value}, f.secretKey || secretName(f.key)})
	}
	return filterValues(out)
}

// candidate is a value found in a secret, before filtering.
type candidate struct {
	Secret
	secretKey bool // its key says secret: search even a plain-looking value
}

type field struct {
	key, value string
	secretKey  bool
}

func filterValues(in []candidate) ([]Secret, []string) {
	var out []Secret
	var notes []string
	seen := map[string]bool{}
	for _, c := range in {
		s := c.Secret
		switch {
		case seen[s.Value]:
			continue
		case len(strings.TrimSpace(s.Value)) < MinValueLen:
			if s.Field == "" || len(s.Value) > 0 {
				notes = append(notes, s.shortNote())
			}
			continue
		case s.Field != "" && !c.secretKey && plainValue(s.Value):
			notes = append(notes, s.label()+": value looks like plain configuration, not searched (pass it with its own --secret to search it)")
			continue
		}
		seen[s.Value] = true
		out = append(out, s)
	}
	return out, notes
}

// secretName reports whether a key names a credential.
func secretName(k string) bool {
	k = strings.ToLower(k)
	for _, w := range []string{"pass", "pwd", "secret", "token", "key", "auth", "cred", "private", "dsn", "session", "cookie", "signature", "salt", "api", "login", "account", "cert"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// plainValue reports values that look like configuration rather than
// credentials: numbers, booleans, single lower-case words, paths, URLs
// without userinfo, host names.
func plainValue(v string) bool {
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		return true
	}
	if _, err := strconv.ParseBool(v); err == nil {
		return true
	}
	if strings.HasPrefix(v, "/") || strings.HasPrefix(v, "./") || strings.HasPrefix(v, "~/") {
		return true
	}
	if u, err := url.Parse(v); err == nil && u.Scheme != "" && u.Host != "" && u.User == nil {
		return true
	}
	var lower, upper, digit, other int
	for _, c := range v {
		switch {
		case c >= 'a' && c <= 'z':
			lower++
		case c >= 'A' && c <= 'Z':
			upper++
		case c >= '0' && c <= '9':
			digit++
		default:
			other++
		}
	}
	if digit == 0 && upper == 0 && other == 0 {
		return true // a lower-case word
	}
	if digit == 0 && lower == 0 && strings.Trim(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == "" {
		return true // a CONSTANT_NAME
	}
	// host names and dotted versions: letters, digits, dots, dashes,
	// colons, no upper case.
	if upper == 0 && strings.Trim(v, "abcdefghijklmnopqrstuvwxyz0123456789.-:") == "" && strings.ContainsAny(v, ".:") {
		return true
	}
	return false
}

func extractFields(data []byte) []field {
	var out []field
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		var v any
		if json.Unmarshal(trimmed, &v) == nil {
			jsonFields("", v, &out)
			return out
		}
	}
	lines := strings.Split(string(data), "\n")
	netrc := isNetrc(string(data))
	for _, line := range lines {
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if line == "" || line[0] == '#' || line[0] == ';' || line[0] == '[' {
			continue
		}
		for _, p := range urlPasswords(line) {
			out = append(out, field{key: "url password", value: p, secretKey: true})
		}
		if netrc {
			out = append(out, netrcFields(line)...)
			continue
		}
		if k, v, ok := keyValue(line); ok {
			out = append(out, field{key: k, value: v})
		}
	}
	return out
}

func isNetrc(s string) bool {
	f := strings.Fields(s)
	return len(f) > 2 && (f[0] == "machine" || f[0] == "default")
}

func netrcFields(line string) []field {
	var out []field
	f := strings.Fields(line)
	for i := 0; i+1 < len(f); i++ {
		switch f[i] {
		case "password", "account":
			out = append(out, field{key: "netrc " + f[i], value: f[i+1], secretKey: true})
			i++
		case "login":
			// A login is searched when it looks like a token, not a
			// user name that every home directory would match.
			if len(f[i+1]) >= 16 {
				out = append(out, field{key: "netrc login", value: f[i+1], secretKey: true})
			}
			i++
		}
	}
	return out
}

// keyValue reads `[export ]KEY=VALUE`, `KEY = VALUE` and `KEY: VALUE`.
func keyValue(line string) (string, string, bool) {
	line = strings.TrimPrefix(line, "export ")
	i, sep := strings.IndexByte(line, '='), 1
	if c := strings.Index(line, ": "); c > 0 && (i < 0 || c < i) {
		i, sep = c, 2
	}
	if i <= 0 {
		return "", "", false
	}
	k := strings.TrimSpace(line[:i])
	v := strings.TrimSpace(line[i+sep:])
	if strings.ContainsAny(k, " \t\"'") && !strings.HasPrefix(k, "//") {
		return "", "", false
	}
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		v = v[1 : len(v)-1]
	} else if j := strings.Index(v, " #"); j >= 0 {
		v = strings.TrimSpace(v[:j])
	}
	return k, v, v != ""
}

// urlPasswords returns the passwords of URLs with userinfo in s.
func urlPasswords(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '"' || r == '\'' || r == '=' || r == ',' }) {
		if !strings.Contains(w, "://") {
			continue
		}
		u, err := url.Parse(w[strings.Index(w, "://")-schemeLen(w):])
		if err != nil || u.User == nil {
			continue
		}
		if p, ok := u.User.Password(); ok && p != "" {
			out = append(out, p)
		}
	}
	return out
}

func schemeLen(w string) int {
	i := strings.Index(w, "://")
	n := 0
	for i-n-1 >= 0 {
		c := w[i-n-1]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '.' || c == '-' {
			n++
			continue
		}
		break
	}
	return n
}

func jsonFields(path string, v any, out *[]field) {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if s, ok := v[k].(string); ok {
				if secretName(k) {
					*out = append(*out, field{key: p, value: s, secretKey: true})
				}
				if k == "auth" {
					// Docker config.json: base64 of user:password.
					if dec, err := base64.StdEncoding.DecodeString(s); err == nil {
						if _, pw, ok := strings.Cut(string(dec), ":"); ok {
							*out = append(*out, field{key: p + " password", value: pw, secretKey: true})
						}
					}
				}
				for _, pw := range urlPasswords(s) {
					*out = append(*out, field{key: p + " url password", value: pw, secretKey: true})
				}
				continue
			}
			jsonFields(p, v[k], out)
		}
	case []any:
		for i, e := range v {
			jsonFields(fmt.Sprintf("%s[%d]", path, i), e, out)
		}
	}
}

// Needle encodings.
const (
	EncRaw    = "raw"
	EncBase64 = "base64"
	EncURL    = "url"
	EncJSON   = "json"
	// EncHex is the value's bytes in lower- or upper-case hexadecimal.
	EncHex = "hex"
	// EncShell is the value as shell quoting writes it, where that differs
	// from the value: bash's printf %q (backslashes, or $'...' for
	// values with control characters), and the inside of single quotes
	// and of double quotes (see shellForms).
	EncShell = "shell"
)

// Needle is one byte string that stands for a secret value: the value in
// one encoding.
type Needle struct {
	Value    []byte
	Encoding string
}

// MaxNeedleLen bounds the part of a value that is searched: a longer
// value (a key file, a whole .env) is searched by its middle MaxNeedleLen
// bytes, which are as unique as the whole and keep the matcher small
// (its size grows with the total length of what it searches for). The
// middle rather than the start: files of one kind share their first
// lines (every OpenSSH key starts the same).
const MaxNeedleLen = 128

// Needles returns the byte strings that stand for v in an image or a
// file: v itself, its base64 forms (standard and URL alphabets, each at
// the three alignments v can have inside a longer base64 text), its
// URL-encoded, JSON-escaped, hexadecimal (lower and upper case) and
// shell-quoted forms (see EncShell). Each form is listed once, under the
// first encoding that yields it; forms shorter than MinValueLen are left
// out.
//
// Surrounding white space is not searched: a value read from a file or a
// variable often ends with a newline that the image's copy lacks. A value
// longer than MaxNeedleLen is searched by its middle MaxNeedleLen bytes.
func Needles(v string) []Needle {
	v = middle(strings.TrimSpace(v), MaxNeedleLen)
	var out []Needle
	seen := map[string]bool{}
	add := func(b []byte, enc string) {
		if len(b) < MinValueLen || seen[string(b)] {
			return
		}
		seen[string(b)] = true
		out = append(out, Needle{b, enc})
	}
	add([]byte(v), EncRaw)
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		for k := 0; k < 3; k++ {
			src := append(make([]byte, k), v...)
			e := enc.EncodeToString(src)
			from := (8*k + 5) / 6
			to := 8 * (k + len(v)) / 6
			if to > from {
				add([]byte(e[from:to]), EncBase64)
			}
		}
	}
	for _, u := range []string{url.QueryEscape(v), url.PathEscape(v)} {
		add([]byte(u), EncURL)
		add([]byte(lowerHexEscapes(u)), EncURL)
	}
	for _, html := range []bool{true, false} {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(html)
		_ = enc.Encode(v) // a string always encodes
		j := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
		j = j[1 : len(j)-1]
		add(bytes.Clone(j), EncJSON)
		add(bytes.ReplaceAll(j, []byte("/"), []byte(`\/`)), EncJSON)
	}
	h := hex.EncodeToString([]byte(v))
	add([]byte(h), EncHex)
	add([]byte(strings.ToUpper(h)), EncHex)
	for _, q := range shellForms(v) {
		add([]byte(q), EncShell)
	}
	return out
}

// shellForms returns what shells and shell-quoting tools write for v
// (without the surrounding quotes, so that the forms are also parts of
// a longer quoted text that holds v):
//   - bash's printf %q backslash quoting: a backslash before each
//     special character, as a part of a longer word and as a
//     whole word (a leading # or ~ is escaped too); bash writes it when
//     v has no character that is not printable in a UTF-8 locale;
//   - the inside of bash's $'...' quoting, which printf %q writes when
//     the text has a control character (or, in the C locale, a non-ASCII
//     one): as a UTF-8 locale and as the C locale write it;
//   - the inside of single quotes, where each single quote ends the
//     quoted part, is written backslash-escaped (sh, most tools) or
//     double-quoted (Python's shlex.quote), and a new quoted part starts;
//   - the inside of double quotes: \ " $ ` escaped.
//
// Forms equal to v are left to the caller to drop.
func shellForms(v string) []string {
	var out []string
	if printable(v) {
		out = append(out, backslashQuote(v, false), backslashQuote(v, true))
	}
	out = append(out, ansiCQuote(v, true), ansiCQuote(v, false))
	out = append(out,
		strings.ReplaceAll(v, "'", `'\''`),
		strings.ReplaceAll(v, "'", `'"'"'`),
		strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", `\$`, "`", "\\`").Replace(v),
	)
	return out
}

// bashSpecial are the bytes bash's printf %q escapes with a backslash
// (lib/sh/shquote.c).
const bashSpecial = "\t\n !\"$&'()*,;<>?[\\]^`{|}"

// backslashQuote writes v as bash's printf %q does when v holds only
// printable characters; word says v is the whole word (a leading # or ~
// is escaped then).
func backslashQuote(v string, word bool) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case strings.IndexByte(bashSpecial, c) >= 0,
			word && i == 0 && (c == '#' || c == '~'),
			c == '~' && i > 0 && (v[i-1] == ':' || v[i-1] == '='):
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}

// printable reports whether every character of v is printable in a
// UTF-8 locale, as bash sees it.
func printable(v string) bool {
	for i := 0; i < len(v); {
		r, n := utf8.DecodeRuneInString(v[i:])
		if !printableRune(r, n) {
			return false
		}
		i += n
	}
	return true
}

// printableRune reports whether r, n bytes of UTF-8, is printable: a
// printable ASCII character, or a valid printable or space rune beyond
// ASCII.
func printableRune(r rune, n int) bool {
	switch {
	case r < utf8.RuneSelf:
		return r >= 0x20 && r < 0x7f
	case r == utf8.RuneError && n <= 1:
		return false
	}
	return unicode.IsPrint(r) || unicode.IsSpace(r)
}

// ansiCQuote writes the inside of bash's $'...' quoting of v
// (ansic_quote in lib/sh/strtrans.c), in a UTF-8 locale or in the C
// locale.
func ansiCQuote(v string, utf8Locale bool) string {
	var b strings.Builder
	for i := 0; i < len(v); {
		c := v[i]
		if esc, ok := ansiCEscapes[c]; ok {
			b.WriteByte('\\')
			b.WriteByte(esc)
			i++
			continue
		}
		if c >= 0x20 && c < 0x7f {
			b.WriteByte(c)
			i++
			continue
		}
		if c >= utf8.RuneSelf && utf8Locale {
			r, n := utf8.DecodeRuneInString(v[i:])
			if printableRune(r, n) {
				b.WriteString(v[i : i+n])
				i += n
				continue
			}
		}
		fmt.Fprintf(&b, "\\%03o", c)
		i++
	}
	return b.String()
}

var ansiCEscapes = map[byte]byte{
	0x1b: 'E', '\a': 'a', '\v': 'v', '\b': 'b', '\f': 'f', '\n': 'n', '\r': 'r', '\t': 't', '\\': '\\', '\'': '\'',
}

// middle returns the middle n bytes of s (cut at UTF-8 character
// boundaries, so that its escaped forms are parts of the whole's).
func middle(s string, n int) string {
	if len(s) <= n {
		return s
	}
	from := (len(s) - n) / 2
	for from > 0 && !utf8.RuneStart(s[from]) {
		from--
	}
	to := from + n
	for to < len(s) && !utf8.RuneStart(s[to]) {
		to++
	}
	return s[from:to]
}

func lowerHexEscapes(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			for j := i + 1; j <= i+2; j++ {
				if b[j] >= 'A' && b[j] <= 'F' {
					b[j] += 'a' - 'A'
				}
			}
			i += 2
		}
	}
	return string(b)
}
