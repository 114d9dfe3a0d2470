package verify

import (
	"bytes"
	"crypto"
	"crypto/dsa" // deprecated, but DSA keys still exist: their public numbers are public
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/crypto/ssh"

	"github.com/hushbuild/hushbuild/internal/nest"
	"github.com/hushbuild/hushbuild/secretscan"
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
	f, err := spec.read(lookupEnv)
	if err != nil {
		return nil, nil, err
	}
	s, n := fileValues(f, false, nil, nil)
	return s, n, nil
}

// LoadSecretSpecs is Load for each of the secrets of one build, together:
// a secret that is a keystore none of the conventional passwords opens is
// opened with the values of the others (see BuildSecretValues).
func LoadSecretSpecs(specs []SecretSpec, lookupEnv func(string) (string, bool)) (secrets []Secret, notes []string, err error) {
	var files []SecretFile
	for _, spec := range specs {
		f, err := spec.read(lookupEnv)
		if err != nil {
			return nil, nil, err
		}
		files = append(files, f)
	}
	values, fileNotes := BuildSecretValues(files, false, nil)
	for i := range files {
		secrets = append(secrets, values[i]...)
		notes = append(notes, fileNotes[i]...)
	}
	return secrets, notes, nil
}

// read reads the secret's value (see Load).
func (spec SecretSpec) read(lookupEnv func(string) (string, bool)) (SecretFile, error) {
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
			return SecretFile{}, fmt.Errorf("secret %s: environment variable %s is not set", spec.ID, env)
		}
		return SecretFile{ID: spec.ID, Data: []byte(v), Value: true}, nil
	}
	data, err := os.ReadFile(src)
	if err != nil {
		if spec.Src == "" && os.IsNotExist(err) {
			return SecretFile{}, fmt.Errorf("secret %s: no environment variable or file named %s", spec.ID, spec.ID)
		}
		return SecretFile{}, fmt.Errorf("secret %s: %w", spec.ID, err)
	}
	return SecretFile{ID: spec.ID, Name: filepath.Base(src), Data: data}, nil
}

// FileSecrets returns the values to search for a secret file called name
// with content data: the whole content (trimmed), and each credential-like
// value inside it:
//   - each KEY=VALUE (or KEY: VALUE, KEY = VALUE) line's value, with
//     `export` and quotes stripped (.env, .npmrc, .pypirc, YAML);
//   - .netrc `password`, `account` and token-like `login` values;
//   - the password of each URL with userinfo (.git-credentials, DSNs);
//   - in JSON, string values under secret-like keys, and the password in
//     Docker config.json `auth` entries;
//   - in XML (Maven settings.xml, NuGet.Config), the text of each element
//     that holds no other, each `<add key="K" value="V"/>` as field K, and
//     attributes with secret-like names;
//   - the password of each .pgpass line (host:port:database:user:password);
//   - in a small file of plain lines (at most 5, without KEY=VALUE
//     structure, such as an OpenVPN `user\npassword` file), each line that
//     does not look like plain configuration;
//   - each private key PEM block (any `-----BEGIN ... PRIVATE KEY-----`),
//     as written and as its base64 body on one line; also inside a value
//     (JSON `private_key`), or base64-encoded in one (a kubeconfig's
//     `client-key-data`);
//   - of a keystore (PKCS #12, JKS, Elasticsearch: see
//     keystoreCandidates) that a conventional password opens, each
//     private key, as a PEM block's values, and each secret value.
//
// Certificates and public keys are public: a file holding PEM blocks of
// them is not searched as a whole (its private keys and credentials are),
// and a field holding one is not searched.
//
// A value shorter than MinValueLen, or one under a name that does not say
// secret and that looks like plain configuration (a word, a number, a
// path), is not searched; a note says so. Notes never hold values.
func FileSecrets(id, name string, data []byte) ([]Secret, []string) {
	return fileValues(SecretFile{ID: id, Name: name, Data: data}, false, nil, nil)
}

// FileSecretValues is FileSecrets for a search whose findings fail a build
// (package checker): ordinary files that share a secret file's
// configuration (a kubeconfig's `kind: Config`, a .pypirc's `username =
// __token__`, a .env's `AWS_REGION=eu-west-1`) must not be findings. It
// returns the whole content and, of the values inside it, only those whose
// place or name says secret: fields whose key names a credential (see
// strictSecretName: password, token, key, secret, auth..., but not
// apiVersion, AWS_ACCOUNT_ID or TOKEN_URL), JSON values under such keys, .netrc passwords and accounts, URL passwords, Docker
// config.json passwords, .pgpass passwords, the lines of a small plain
// file and private key blocks. Even there, a value that looks like plain
// configuration or a word (a number, a path, a URL without a password, a
// host name, an e-mail address, a `${...}` placeholder) is not searched:
// it is found where the secret is not.
//
// A field whose value is in a known token format (a GitHub, GitLab,
// Slack, npm, PyPI, Stripe or Google key, an AWS access key id, a signed
// JWT, a private key: see formatRules) is searched whatever its name.
// A secret that is one base64 value decoding to text or DER is searched
// decoded too (field DecodedField), and so are the secrets inside what it
// decodes to. The lines of a private key's body are searched one by one
// as well (see bodyLines).
//
// Values left out are noted (fields under other names together, by name
// when it is an ordinary identifier); notes never hold values.
func FileSecretValues(id, name string, data []byte) ([]Secret, []string) {
	return fileValues(SecretFile{ID: id, Name: name, Data: data}, true, nil, nil)
}

// FileSecretValuesNamed is FileSecretValues where the fields whose key
// secretKey accepts are secret too, whatever their value looks like but
// a number, a boolean or a word (a webhook URL carries its secret in the
// path). The frontend passes the rewrite engine's name rules, so that the
// check and the engine agree on which names are secrets.
func FileSecretValuesNamed(id, name string, data []byte, secretKey func(string) bool) ([]Secret, []string) {
	return fileValues(SecretFile{ID: id, Name: name, Data: data}, true, secretKey, nil)
}

// SecretFile is one secret file of a build: its id, its file's name and
// its content.
type SecretFile struct {
	ID, Name string
	Data     []byte
	// Value says Data is one value (an environment variable's), searched
	// as it is rather than as a file's content.
	Value bool
}

// BuildSecretValues is FileSecretValuesNamed (strict) or FileSecrets for
// each of the secret files of one build, by file: a secret that is a
// keystore none of the conventional passwords opens is opened with the
// values of the build's other secrets (see keystoreCandidates).
func BuildSecretValues(files []SecretFile, strict bool, secretKey func(string) bool) (values [][]Secret, notes [][]string) {
	values, notes = make([][]Secret, len(files)), make([][]string, len(files))
	var locked []int
	for i, f := range files {
		z := &analyzer{}
		values[i], notes[i] = z.values(f, strict, secretKey)
		if z.locked {
			locked = append(locked, i)
		}
	}
	for _, i := range locked {
		if pws := passwordSecrets(files, values, i); len(pws) > 0 {
			values[i], notes[i] = (&analyzer{passwords: pws}).values(files[i], strict, secretKey)
		}
	}
	return values, notes
}

// fileValues is what FileSecrets (strict: FileSecretValuesNamed) finds in
// the secret file f, a keystore being tried with passwords too.
func fileValues(f SecretFile, strict bool, secretKey func(string) bool, passwords []Secret) ([]Secret, []string) {
	return (&analyzer{passwords: passwords}).values(f, strict, secretKey)
}

// values analyzes the secret file f and keeps the values to search.
func (z *analyzer) values(f SecretFile, strict bool, secretKey func(string) bool) ([]Secret, []string) {
	if f.Value {
		return filterValues(f.ID, []candidate{{Secret: Secret{ID: f.ID, Value: string(f.Data)}}}, strict, nil)
	}
	out, notes := filterValues(f.ID, z.analyze(f.ID, f.Name, string(f.Data)).cands, strict, secretKey)
	return out, append(notes, z.notes...)
}

// Bounds of the values of a build's other secrets tried as a keystore
// secret's password: one-line values of at most maxPasswordLen bytes, at
// most maxPasswordSecrets of them (each try costs the keystore's key
// derivation, which nest bounds too).
const (
	maxPasswordLen     = 128
	maxPasswordSecrets = 16
)

// passwordSecrets returns the values, among those of the secret files
// but files[skip], that may be a keystore's password: each whole value
// of one line (a password file, `echo changeit > pw`: trimmed), then the
// fields whose name says password (a .env's KEYSTORE_PASSWORD), of at
// most maxPasswordLen bytes, at most maxPasswordSecrets of them.
func passwordSecrets(files []SecretFile, values [][]Secret, skip int) []Secret {
	var out []Secret
	seen := map[string]bool{}
	add := func(s Secret) {
		v := s.Value
		if len(out) < maxPasswordSecrets && v != "" && len(v) <= maxPasswordLen && !strings.ContainsAny(v, "\r\n") && utf8.ValidString(v) && !seen[v] {
			seen[v] = true
			out = append(out, s)
		}
	}
	for i, f := range files {
		if i != skip {
			add(Secret{ID: f.ID, Value: strings.TrimSpace(string(f.Data))})
		}
	}
	for i := range files {
		for _, s := range values[i] {
			if i != skip && s.Field != "" && strings.Contains(strings.ToLower(s.Field), "pass") {
				add(s)
			}
		}
	}
	return out
}

// candidate is a value found in a secret, before filtering.
type candidate struct {
	Secret
	name   string // the name its field has in the file (its key)
	place  bool   // its place says secret (a .netrc password, a private key...)
	public bool   // public material (certificates, public keys): never searched
}

// field is a value inside a secret file.
type field struct {
	key, value string
	// name is the key it has in the file, when key is a longer label (a
	// JSON path); "" means key.
	name string
	// place: where it is says secret, whatever its name (a .netrc
	// password, a URL password).
	place bool
}

// analysis is what a secret file holds.
type analysis struct {
	cands  []candidate
	blocks []pemBlock // the PEM blocks of the text
	// structured: the text has fields (KEY=VALUE lines, JSON, XML...),
	// rather than being one value.
	structured bool
}

// analyzer analyzes secret files: the values of other secrets it tries as
// a keystore's password, and what it notes.
type analyzer struct {
	// passwords are the values of the build's other secrets tried as the
	// password of a keystore after the conventional ones.
	passwords []Secret
	// noKeystores leaves keystores unopened (secretPlaces: only the
	// places of text fields matter there).
	noKeystores bool
	// notes say what was not searched.
	notes []string
	// locked says a keystore none of the passwords opened was found.
	locked bool
}

func analyze(id, name, text string) analysis { return (&analyzer{}).analyze(id, name, text) }

func (z *analyzer) analyze(id, name, text string) analysis {
	a := analysis{blocks: pemBlocks(text)}
	whole := candidate{Secret: Secret{ID: id, Value: strings.TrimSpace(text)}}
	for _, b := range a.blocks {
		whole.public = whole.public || b.public()
	}
	a.cands = append(a.cands, whole)
	a.cands = append(a.cands, pemCandidates(id, "", a.blocks)...)
	if kind := nest.KeystoreKind([]byte(text[:min(len(text), 64)])); kind != "" && !z.noKeystores {
		// A keystore: the keys and secrets in it are secrets too, which a
		// build that re-packs it (keytool -importkeystore, openssl pkcs12
		// -nodes) writes in other forms.
		a.cands = append(a.cands, z.keystoreCandidates(id, kind, []byte(text))...)
		return a
	}
	if dec, ok := decodedBase64(text); ok {
		// A file kept as base64 (a CI variable holding a service
		// account, a keystore): the build decodes it, so what it decodes
		// to is searched too, and so are the secrets inside that.
		for i, c := range z.analyze(id, name, dec).cands {
			if i == 0 {
				// The whole: searched as a secret file's content is.
				c.Field, c.place = DecodedField, true
			} else {
				c.Field = DecodedField + " " + c.Field
			}
			a.cands = append(a.cands, c)
		}
	}
	fields, structured := extractFields(blankBlocks(text, a.blocks), len(a.blocks) == 0)
	if dependencyList(name) {
		fields = urlFields(text)
	}
	a.structured = structured
	for _, f := range fields {
		a.cands = append(a.cands, z.fieldCandidates(id, f)...)
	}
	return a
}

// keystoreCandidates returns what the keystore data of kind (see
// nest.KeystoreKind), a secret's value, holds, opened with the
// conventional passwords (nest.KeystorePasswords) and then with z's: each
// private key as the values of a PEM private key secret (see
// pemCandidates: the block, its body, its lines, its private part, which
// its DER holds), and each secret value (a secret bag's, an Elasticsearch
// setting's). Their fields name the keystore and its password, never a
// value: "(PKCS #12, password changeit) (PRIVATE KEY) line 3",
// "(JKS, password of secret keystore_password) (PRIVATE KEY)".
//
// A keystore none of the passwords opens (or that cannot be read) is
// searched as its bytes only, with a note saying so, and sets z.locked.
func (z *analyzer) keystoreCandidates(id, kind string, data []byte) []candidate {
	if len(data) > nest.MaxKeystore {
		z.notes = append(z.notes, fmt.Sprintf("secret %s: a %s keystore of more than %d bytes: the keys in it are not searched, only its bytes", id, kind, nest.MaxKeystore))
		return nil
	}
	pws := append([]string(nil), nest.KeystorePasswords...)
	for _, p := range z.passwords {
		pws = append(pws, p.Value)
	}
	c, err := nest.ReadKeystore(kind, data, pws)
	var label string
	switch {
	case c.Password < 0:
		label = "(" + kind + ")"
	case c.Password < len(nest.KeystorePasswords):
		label = nest.KeystoreSuffix(kind, pws[c.Password])[1:]
	default:
		label = "(" + kind + ", password of " + z.passwords[c.Password-len(nest.KeystorePasswords)].label() + ")"
	}
	if len(c.Keys)+len(c.Secrets) == 0 {
		z.locked = true
		why := "that none of the conventional passwords opens"
		if len(z.passwords) > 0 {
			why = "that none of the conventional passwords, nor the value of another secret of the build, opens"
		}
		if err != nil {
			why = "that cannot be opened (" + err.Error() + ")"
		}
		z.notes = append(z.notes, fmt.Sprintf("secret %s: a %s keystore %s: the keys in it are not searched, only its bytes", id, kind, why))
		return nil
	}
	var text strings.Builder
	for _, k := range c.Keys {
		text.Write(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: k}))
	}
	out := pemCandidates(id, label, pemBlocks(text.String()))
	for i, v := range c.Secrets {
		out = append(out, candidate{Secret: Secret{ID: id, Field: label + " secret " + strconv.Itoa(i+1), Value: string(v)}, place: true})
	}
	if c.Unopened > 0 {
		z.notes = append(z.notes, fmt.Sprintf("secret %s: %d encrypted part(s) of a %s keystore that its password does not open: not searched", id, c.Unopened, kind))
	}
	return out
}

// DecodedField is the field of the value a secret decodes to when it is
// base64 (see decodedBase64); the fields of what it decodes to are
// reported under it ("(base64-decoded) private_key").
const DecodedField = "(base64-decoded)"

// decodedBase64 returns what text decodes to when it is one base64 value
// (standard or URL alphabet, padded or not, wrapped or not) of 16
// characters or more that decodes to text (valid UTF-8, 95% of it
// printable) or to DER (a PKCS #12 keystore, a DER key): a value that
// holds a file. Random tokens made of base64 characters decode to
// neither.
func decodedBase64(text string) (string, bool) {
	_, dec, ok := base64Text(text, 16)
	if !ok || len(dec) < MinValueLen {
		return "", false
	}
	if len(dec) >= 64 && dec[0] == 0x30 && (dec[1] == 0x80 || dec[1] >= 0x81 && dec[1] <= 0x84) {
		return string(dec), true // DER
	}
	if !utf8.Valid(dec) {
		return "", false
	}
	n, bad := 0, 0
	for _, r := range string(dec) {
		n++
		if !(r == '\n' || r == '\r' || r == '\t' || printableRune(r, 1) && r != utf8.RuneError) {
			bad++
		}
	}
	if bad*20 > n {
		return "", false
	}
	return string(dec), true
}

// fieldCandidates returns the values of field f: its value, unless that is
// a certificate or public key, and the private keys in it (PEM text, or
// base64 of PEM text).
func (z *analyzer) fieldCandidates(id string, f field) []candidate {
	name := f.name
	if name == "" {
		name = f.key
	}
	c := candidate{Secret: Secret{ID: id, Field: f.key, Value: f.value}, name: name, place: f.place}
	var parts []candidate
	for _, p := range connectionStringFields(f.value) {
		parts = append(parts, candidate{Secret: Secret{ID: id, Field: f.key + " " + p.key, Value: p.value}, name: p.key})
	}
	text := f.value
	if strings.Contains(text, "-----BEGIN ") {
		if !strings.Contains(text, "\n") {
			// A .env value with escaped line ends.
			text = strings.ReplaceAll(text, `\n`, "\n")
		}
	} else if dec, ok := base64PEM(text); ok {
		text = dec
	} else if dec, ok := decodedBase64(text); ok {
		// A file kept base64 in one field (a .env's GCP_SA_KEY holding a
		// service account): the build decodes it, so what it decodes to is
		// searched too, under the field's name, and the secrets inside it.
		out := append([]candidate{c}, parts...)
		for i, d := range z.analyze(id, name, dec).cands {
			if i == 0 {
				d.Field, d.name, d.place = f.key+" "+DecodedField, name, f.place
			} else {
				d.Field = f.key + " " + DecodedField + " " + d.Field
			}
			out = append(out, d)
		}
		return out
	} else {
		return append([]candidate{c}, parts...)
	}
	blocks := pemBlocks(text)
	for _, b := range blocks {
		c.public = c.public || b.public()
	}
	return append(append([]candidate{c}, parts...), pemCandidates(id, f.key, blocks)...)
}

// connectionStringFields are the KEY=VALUE parts of a connection string
// (ADO.NET's and ODBC's: Server=db;User Id=sa;Password=...), a value of a
// configuration file (appsettings.json's ConnectionStrings).
func connectionStringFields(v string) []field {
	if !strings.Contains(v, ";") || !strings.Contains(v, "=") {
		return nil
	}
	var out []field
	for _, part := range strings.Split(v, ";") {
		k, val, ok := strings.Cut(part, "=")
		k, val = strings.TrimSpace(k), strings.TrimSpace(val)
		if !ok || k == "" || val == "" || strings.ContainsAny(k, " \t\"'") && !strings.EqualFold(strings.ReplaceAll(k, " ", ""), "userpassword") {
			continue
		}
		out = append(out, field{key: k, value: strings.Trim(val, `"'`)})
	}
	if len(out) < 2 {
		return nil
	}
	return out
}

// phpDefine is a PHP constant's definition with a string value
// (wp-config.php's define( 'DB_PASSWORD', '...' );).
var phpDefine = regexp.MustCompile(`^define\s*\(\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]\s*,\s*(?:'([^']*)'|"([^"]*)")\s*\)`)

// base64PEM decodes v if it is the base64 of PEM text.
func base64PEM(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if !strings.HasPrefix(v, "LS0tLS1CRUdJTi") { // "-----BEGIN"
		return "", false
	}
	dec, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		if dec, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(v, "=")); err != nil {
			return "", false
		}
	}
	return string(dec), true
}

// pemCandidates returns the values of the private key blocks: each block,
// and its base64 body on one line (a key pasted into a variable, or found
// where line ends are removed). prefix names the field they are in.
func pemCandidates(id, prefix string, blocks []pemBlock) []candidate {
	var out []candidate
	total, n := 0, 0
	for _, b := range blocks {
		if b.private() {
			total++
		}
	}
	for _, b := range blocks {
		if !b.private() {
			continue
		}
		n++
		label := b.typ
		if total > 1 {
			label += " " + strconv.Itoa(n)
		}
		if prefix != "" {
			label = prefix + " (" + label + ")"
		}
		out = append(out, candidate{Secret: Secret{ID: id, Field: label, Value: b.armoured}, place: true})
		if b.body != "" {
			out = append(out, candidate{Secret: Secret{ID: id, Field: label + " body", Value: b.body}, place: true})
		}
		for _, l := range bodyLines(b) {
			out = append(out, candidate{Secret: Secret{ID: id, Field: label + " line " + strconv.Itoa(l.n), Value: l.text}, place: true})
		}
		if c, ok := otherContainer(b); ok {
			for _, l := range bodyLines(c) {
				out = append(out, candidate{Secret: Secret{ID: id, Field: label + " as " + c.typ + " line " + strconv.Itoa(l.n), Value: l.text}, place: true})
			}
		}
		if d := privatePart(b); d != "" {
			out = append(out, candidate{Secret: Secret{ID: id, Field: label + " private part", Value: d}, place: true})
		}
	}
	return out
}

// pkcs8Key is a PKCS #8 PrivateKeyInfo (RFC 5208) without attributes.
type pkcs8Key struct {
	Version    int
	Algorithm  pkix.AlgorithmIdentifier
	PrivateKey []byte
}

var oidRSAEncryption = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}

// otherContainer returns the unencrypted RSA private key block b in the
// other container OpenSSL converts it to: a PKCS #1 key ("RSA PRIVATE
// KEY", as ssh-keygen -m PEM and older openssl genrsa write it) as PKCS #8
// ("PRIVATE KEY", what OpenSSL 3's rsa and pkey commands print), and a
// PKCS #8 RSA key as PKCS #1 (openssl rsa -traditional). The same DER
// inside, so other base64 lines: a key printed so in a step's output is
// masked by them, as its own lines mask it.
func otherContainer(b pemBlock) (pemBlock, bool) {
	if b.encrypted || (b.typ != "RSA PRIVATE KEY" && b.typ != "PRIVATE KEY") {
		return pemBlock{}, false
	}
	der, err := base64.StdEncoding.DecodeString(b.body)
	if err != nil {
		return pemBlock{}, false
	}
	var out *pem.Block
	if b.typ == "RSA PRIVATE KEY" {
		if _, err := x509.ParsePKCS1PrivateKey(der); err != nil {
			return pemBlock{}, false
		}
		p8, err := asn1.Marshal(pkcs8Key{Algorithm: pkix.AlgorithmIdentifier{Algorithm: oidRSAEncryption, Parameters: asn1.NullRawValue}, PrivateKey: der})
		if err != nil {
			return pemBlock{}, false
		}
		out = &pem.Block{Type: "PRIVATE KEY", Bytes: p8}
	} else {
		var k pkcs8Key
		if rest, err := asn1.Unmarshal(der, &k); err != nil || len(rest) != 0 || !k.Algorithm.Algorithm.Equal(oidRSAEncryption) {
			return pemBlock{}, false
		}
		if _, err := x509.ParsePKCS1PrivateKey(k.PrivateKey); err != nil {
			return pemBlock{}, false
		}
		out = &pem.Block{Type: "RSA PRIVATE KEY", Bytes: k.PrivateKey}
	}
	blocks := pemBlocks(string(pem.EncodeToMemory(out)))
	if len(blocks) != 1 {
		return pemBlock{}, false
	}
	return blocks[0], true
}

// privatePartLen is how much of a private key's secret number is searched.
const privatePartLen = 96

// privatePart returns the middle privatePartLen bytes of the secret number
// of the unencrypted private key block b (RSA's private exponent, an
// ECDSA or DSA key's private scalar, an Ed25519 key's seed), or "" for a
// key it cannot read. Every unencrypted form of the key holds them, in
// its binary (DER, a PKCS #12 without a password) or in base64 at one of
// the three alignments Needles searches: the key converted to another
// format (PKCS #1 to PKCS #8, OpenSSH to PEM, PEM to DER, a JWK) is found
// by them when its text is not.
func privatePart(b pemBlock) string {
	if b.encrypted || !b.private() {
		return ""
	}
	var d []byte
	if strings.HasPrefix(b.typ, "PGP ") {
		// An OpenPGP secret key: gpg --import hands it to gpg-agent,
		// which keeps its numbers in a file of its own
		// (private-keys-v1.d), as binary or as hex (package sexphex).
		data, err := base64.StdEncoding.DecodeString(b.body)
		if err != nil {
			return ""
		}
		d = pgpSecretNumber(data)
		return middlePart(d)
	}
	key, err := ssh.ParseRawPrivateKey([]byte(b.armoured + "\n"))
	if err != nil {
		return ""
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		d = k.D.Bytes()
	case *ecdsa.PrivateKey:
		d = k.D.FillBytes(make([]byte, (k.Curve.Params().BitSize+7)/8))
	case *ed25519.PrivateKey:
		d = k.Seed()
	case ed25519.PrivateKey:
		d = k.Seed()
	case *dsa.PrivateKey:
		d = k.X.Bytes()
	}
	return middlePart(d)
}

// middlePart is the middle privatePartLen bytes of a key's secret number
// d, or "" when d is too short to stand for the key.
func middlePart(d []byte) string {
	if len(d) < 16 {
		return ""
	}
	if len(d) > privatePartLen {
		from := (len(d) - privatePartLen) / 2
		d = d[from : from+privatePartLen]
	}
	return string(d)
}

// pgpSecretNumber returns the first secret number of the first
// unencrypted secret key packet of the OpenPGP data b (RFC 9580; version
// 4 or 6): RSA's private exponent, the secret of an EdDSA, ECDSA, ECDH,
// DSA or Elgamal key, the secret of an X25519 or Ed25519 key. It returns
// nil for a key whose secret is encrypted, or data it cannot read.
func pgpSecretNumber(b []byte) []byte {
	var d []byte
	pgpPackets(b, func(tag, _ int, p []byte) bool {
		if tag != 5 && tag != 7 {
			return true
		}
		k := pgpPublicLen(p)
		if k == 0 || k >= len(p) || p[k] != 0 || p[0] != 4 && p[0] != 6 {
			return true // unknown, or encrypted (a non-zero S2K usage)
		}
		k++
		switch p[5] {
		case 25, 27: // X25519, Ed25519
			if k+32 <= len(p) {
				d = p[k : k+32]
			}
		case 26: // X448
			if k+56 <= len(p) {
				d = p[k : k+56]
			}
		case 28: // Ed448
			if k+57 <= len(p) {
				d = p[k : k+57]
			}
		default: // an MPI
			if k+2 <= len(p) {
				bits := int(p[k])<<8 | int(p[k+1])
				if n := (bits + 7) / 8; k+2+n <= len(p) {
					d = p[k+2 : k+2+n]
				}
			}
		}
		return d == nil
	})
	return d
}

// minBodyLine is the shortest line of a private key's body searched on its
// own.
const minBodyLine = 40

// bodyLine is a line of a PEM block's body: its text and its number in
// the block (the BEGIN line is 0).
type bodyLine struct {
	text string
	n    int
}

// bodyLines returns the lines of the private key block b's body that are
// searched on their own (a key indented in a YAML block scalar, re-wrapped
// or quoted line by line holds its lines but not its body on one line):
// those of minBodyLine characters or more that hold minPrivate bytes or
// more of something else than the key's public material (see
// publicSpans), so that a certificate or public key, which repeats the
// modulus, never matches one.
func bodyLines(b pemBlock) []bodyLine {
	pub := publicSpans(b.armoured)
	var out []bodyLine
	off := 0
	for n, line := range strings.Split(b.armoured, "\n") {
		sp := span{off, off + len(line)}
		off += len(line) + 1
		if n == 0 || len(line) < minBodyLine || strings.HasPrefix(line, "-----") || strings.Contains(line, ":") || line[0] == '=' {
			continue
		}
		if len(line)-overlap(sp, pub) < minPrivate {
			continue
		}
		out = append(out, bodyLine{line, n})
	}
	return out
}

// filterValues keeps the candidates to search; strict is FileSecretValues'
// choice, else FileSecrets'.
func filterValues(id string, in []candidate, strict bool, named func(string) bool) ([]Secret, []string) {
	var out []Secret
	var notes, unnamed []string
	hidden := 0
	seen := map[string]bool{}
	for _, c := range in {
		s := c.Secret
		s.Field = safeField(s.Field)
		// Whether its key or place says secret: then FileSecrets searches
		// even a plain-looking value.
		secretKey := c.place || secretName(c.name)
		if strict {
			secretKey = c.place || strictSecretName(c.name)
		}
		byName := named != nil && c.name != "" && named(c.name)
		// A value in a known token format is secret whatever its field's
		// name (STRIPE_SK, DEPLOY=ghp_...).
		if !secretKey && !byName && s.Field != "" && tokenValue(s.Value) {
			byName = true
		}
		if byName {
			secretKey = true
		}
		switch {
		case c.public && s.Field == "":
			notes = append(notes, s.label()+": holds certificates or public keys, which are public: not searched as a whole (the private keys and credentials in it are)")
			continue
		case c.public:
			notes = append(notes, s.label()+": a certificate or public key, which is public: not searched")
			continue
		case seen[strings.TrimSpace(s.Value)]:
			continue
		case strict && s.Field != "" && !secretKey:
			if shownName(s.Field) && len(unnamed) < 10 {
				unnamed = append(unnamed, s.Field)
			} else {
				hidden++
			}
			continue
		case len(strings.TrimSpace(s.Value)) < MinValueLen:
			if s.Field == "" || len(s.Value) > 0 {
				notes = append(notes, s.shortNote())
			}
			continue
		case byName && s.Field != "" && wordValue(s.Value),
			!byName && s.Field != "" && (strict || !secretKey) && plainValue(s.Value),
			!byName && s.Field != "" && strict && (emailValue(s.Value) || placeholderValue(s.Value)):
			notes = append(notes, s.label()+": value looks like plain configuration, not searched (pass it with its own --secret to search it)")
			continue
		}
		seen[strings.TrimSpace(s.Value)] = true
		out = append(out, s)
	}
	if n := len(unnamed) + hidden; n > 0 {
		list := ""
		switch {
		case len(unnamed) > 0 && hidden > 0:
			list = fmt.Sprintf(": %s and %d more", strings.Join(unnamed, ", "), hidden)
		case len(unnamed) > 0:
			list = ": " + strings.Join(unnamed, ", ")
		}
		notes = append(notes, fmt.Sprintf("secret %s: %d value(s) under names that do not say secret not searched%s (pass a value with its own --secret to search it)", id, n, list))
	}
	// A key may hold a value of the file itself (a token as a JSON key):
	// fields and notes are reported, values never.
	for _, v := range out {
		t := strings.TrimSpace(v.Value)
		if len(t) < MinValueLen {
			continue
		}
		for i := range out {
			out[i].Field = strings.ReplaceAll(out[i].Field, t, fieldMask)
		}
		for i := range notes {
			notes[i] = strings.ReplaceAll(notes[i], t, fieldMask)
		}
	}
	return out, notes
}

// fieldMask stands, in a reported field, for what may be a secret.
const fieldMask = "****"

// urlUserinfo is the user information of a URL (user, user:password).
var urlUserinfo = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://)[^/?#\s@]+@`)

// safeField returns the key of a field as it may be reported: the user
// information of a URL in it (a JSON or YAML key that is a registry URL
// with its credentials: auths."https://ci:TOKEN@host") and every token in
// a known format (see formatRules) replaced by fieldMask.
func safeField(f string) string {
	if f == "" {
		return f
	}
	f = urlUserinfo.ReplaceAllString(f, "${1}"+fieldMask+"@")
	var spans [][2]int
	formatScanner().Scan("", []byte(f), func(m secretscan.Match) {
		spans = append(spans, [2]int{int(m.Offset), int(m.Offset) + m.Len})
	})
	if len(spans) == 0 {
		return f
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i][0] < spans[j][0] })
	var b strings.Builder
	at := 0
	for _, sp := range spans {
		if sp[1] <= at {
			continue // inside the last one
		}
		if sp[0] >= at {
			b.WriteString(f[at:sp[0]])
			b.WriteString(fieldMask)
		}
		at = sp[1]
	}
	b.WriteString(f[at:])
	return b.String()
}

// formatRules are the secretscan rules whose match says secret by the
// value's format alone: a provider's token prefix and shape, a private key
// block, a signed JWT.
var formatRules = []string{"private-key", "aws-access-key-id", "github-token", "gitlab-token", "slack-token", "slack-webhook", "npm-token", "pypi-token", "google-api-key", "stripe-secret-key", "huggingface-token", "openai-api-key", "anthropic-api-key", "jwt"}

var formatScanner = sync.OnceValue(func() *secretscan.Scanner {
	sc, err := secretscan.NewScanner(secretscan.Options{Rules: formatRules})
	if err != nil {
		panic("verify: compiling the token format rules: " + err.Error())
	}
	return sc
})

// tokenValue reports whether v holds a token in a known format (see
// formatRules).
func tokenValue(v string) bool {
	found := false
	formatScanner().Scan("", []byte(v), func(secretscan.Match) { found = true })
	return found
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

// strictSecretName reports whether a key names a credential, for
// FileSecretValues: secretName's words but those that name plain settings
// too (api: apiVersion, API_URL; login, account, session, cookie:
// LOGIN_URL, AWS_ACCOUNT_ID, SESSION_COOKIE_NAME; cert: certificates are
// public), and not when its last word says the value is about a credential
// rather than one (TOKEN_URL, KEY_FILE, SECRET_NAME, private_key_id,
// tokenUri).
func strictSecretName(k string) bool {
	l := strings.ToLower(k)
	found := false
	for _, w := range []string{"pass", "pwd", "secret", "token", "key", "auth", "cred", "private", "dsn", "salt", "signature"} {
		found = found || strings.Contains(l, w)
	}
	if !found {
		return false
	}
	for _, q := range []string{"url", "uri", "host", "hostname", "port", "path", "file", "dir", "name", "id", "type", "version", "endpoint", "region", "domain", "timeout", "ttl", "expiry", "expires", "length", "size", "mode", "enabled", "provider", "method", "algorithm", "format", "scope", "issuer", "audience"} {
		if !strings.HasSuffix(l, q) {
			continue
		}
		i := len(l) - len(q)
		if i == 0 {
			continue
		}
		// The last word: after a separator, or camelCase (in k, whose
		// lower case may be longer).
		j := len(k) - len(q)
		camel := j > 0 && strings.EqualFold(k[j:], q) && k[j] >= 'A' && k[j] <= 'Z' && k[j-1] >= 'a' && k[j-1] <= 'z'
		if strings.IndexByte("_-. ", l[i-1]) >= 0 || camel {
			return false
		}
	}
	return true
}

// plainValue reports values that look like configuration rather than
// credentials: numbers, booleans, single lower-case words, paths, URLs
// without userinfo, host names.
// wordValue reports a number, a boolean or a single lower-case word.
func wordValue(v string) bool {
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		return true
	}
	if _, err := strconv.ParseBool(v); err == nil {
		return true
	}
	return strings.Trim(v, "abcdefghijklmnopqrstuvwxyz") == ""
}

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

// emailValue reports an e-mail address (a user name, not a credential).
func emailValue(v string) bool {
	user, domain, ok := strings.Cut(v, "@")
	if !ok || user == "" || strings.ContainsAny(v, " \t\"'<>:/") || strings.Contains(domain, "@") {
		return false
	}
	i := strings.LastIndexByte(domain, '.')
	if i <= 0 || len(domain)-i-1 < 2 {
		return false
	}
	for _, c := range domain[i+1:] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// placeholderValue reports a value that refers to another (`${VAR}`,
// `$VAR`, `$(cmd)`, `{{ tmpl }}`, `%VAR%`, `<your-token>`), possibly
// followed by a path (Maven's `${user.home}/.ssh/id_rsa`).
func placeholderValue(v string) bool {
	switch {
	case strings.HasPrefix(v, "${"), strings.HasPrefix(v, "$("), strings.HasPrefix(v, "{{"):
		return true
	case len(v) > 2 && v[0] == '%' && v[len(v)-1] == '%',
		len(v) > 2 && v[0] == '<' && v[len(v)-1] == '>':
		return true
	case len(v) > 1 && v[0] == '$':
		for i := 1; i < len(v); i++ {
			c := v[i]
			if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 1 && c >= '0' && c <= '9') {
				return c == '/' && i > 1
			}
		}
		return true
	}
	return false
}

// conventionalName reports whether k reads as the name of a setting: an
// identifier (snake_case, CONSTANT_CASE, kebab-case, dotted, camelCase
// made of words) or an .npmrc registry key (`//host/:_authToken`,
// `@scope:registry`). A line of a secret file whose "key" is not one is
// not KEY=VALUE: it is a value that holds '=' (a password, base64), and
// its parts must not be reported as field names.
func conventionalName(k string) bool {
	if strings.HasPrefix(k, "//") || strings.HasPrefix(k, "@") {
		return len(k) <= 256 && !strings.ContainsAny(k, " \t\"'")
	}
	if k == "" || len(k) > 64 || !(k[0] == '_' || k[0] >= 'A' && k[0] <= 'Z' || k[0] >= 'a' && k[0] <= 'z') {
		return false
	}
	var lower, upper bool
	for i := 0; i < len(k); i++ {
		switch c := k[i]; {
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= '0' && c <= '9', c == '_', c == '.', c == '-':
		default:
			return false
		}
	}
	if !lower || !upper {
		return true
	}
	// Mixed case: camelCase words, of which at most one is a single
	// letter (s3Bucket, getX), unlike a random string's.
	singles, run := 0, 0
	kind := func(c byte) int {
		switch {
		case c >= 'a' && c <= 'z':
			return 1
		case c >= 'A' && c <= 'Z':
			return 2
		case c >= '0' && c <= '9':
			return 3
		}
		return 0
	}
	for i := 0; i < len(k); i++ {
		c := kind(k[i])
		if i > 0 {
			p := kind(k[i-1])
			if c == 0 || p == 0 || p == 1 && c == 2 || (p == 3) != (c == 3) {
				if run == 1 && p != 3 && p != 0 {
					singles++
				}
				run = 0
			}
		}
		if c != 0 {
			run++
		}
	}
	if run == 1 && kind(k[len(k)-1]) != 3 {
		singles++
	}
	return singles <= 1
}

// shownName reports whether a field name may be listed in a note: one that
// reads as a setting's name whatever the file (CONSTANT_CASE, snake_case,
// dotted, kebab-case, an .npmrc key), not a short word that could be a
// part of a value.
func shownName(k string) bool {
	if strings.HasPrefix(k, "//") || strings.HasPrefix(k, "@") {
		return conventionalName(k)
	}
	return conventionalName(k) && strings.ContainsAny(k, "_.-") && strings.Trim(k, "_.-") != ""
}

// extractFields returns the fields of a secret file's text, and whether it
// has a structure (fields, JSON, XML) rather than being one value.
// plainLines allows the lines of a small plain file as values (not in the
// rest of a PEM file: openssl's "Bag Attributes").
func extractFields(data string, plainLines bool) ([]field, bool) {
	if !utf8.ValidString(data) || strings.IndexByte(data, 0) >= 0 {
		return nil, false // binary: one value
	}
	var out []field
	trimmed := strings.TrimSpace(data)
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		var v any
		if json.Unmarshal([]byte(trimmed), &v) == nil {
			jsonFields("", v, &out)
			return out, true
		}
	}
	if strings.HasPrefix(trimmed, "<") {
		if f, ok := xmlFields(trimmed); ok {
			return f, true
		}
	}
	var lines []string // the lines that may hold a value
	for _, line := range strings.Split(data, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' || line[0] == '[' {
			continue
		}
		lines = append(lines, line)
	}
	if f, ok := pgpassFields(lines); ok {
		return f, true
	}
	netrc := isNetrc(data)
	for _, line := range lines {
		for _, p := range urlPasswords(line) {
			out = append(out, field{key: "url password", value: p, place: true})
		}
		if netrc {
			out = append(out, netrcFields(line)...)
			continue
		}
		if strings.HasPrefix(line, "localKeyID:") {
			continue // openssl's bag attributes: a hash of the public key
		}
		if m := phpDefine.FindStringSubmatch(line); m != nil {
			out = append(out, field{key: m[1], value: m[2] + m[3]})
			continue
		}
		if k, v, ok := keyValue(line); ok {
			if len(lines) == 1 && !secretName(k) && !strings.ContainsAny(k, "_/@") {
				// One line `word=...`: more likely a value holding '='.
				continue
			}
			out = append(out, field{key: k, value: v})
		}
	}
	if len(out) > 0 || netrc {
		return out, true
	}
	if len(lines) <= 5 && plainLines {
		// A small file of plain lines: `user\npassword`.
		for i, line := range lines {
			if len(line) >= MinValueLen && !plainValue(line) && !emailValue(line) {
				out = append(out, field{key: "line " + strconv.Itoa(i+1), value: line, place: true})
			}
		}
		return out, len(lines) > 1
	}
	return nil, false
}

// xmlFields reads XML settings files: Maven's settings.xml (`<password>`,
// `<privateKey>`, `<passphrase>`), NuGet.Config (`<add key="ClearTextPassword"
// value="..."/>`). Each element that holds text and no element is a field
// named by the element, each `<add key="K" value="V"/>` the field K, and
// each attribute with a secret-like name a field too. ok reports that the
// text is XML.
func xmlFields(data string) (out []field, ok bool) {
	type elem struct {
		name  string
		text  strings.Builder
		child bool
	}
	dec := xml.NewDecoder(strings.NewReader(data))
	var stack []*elem
	for {
		tok, err := dec.Token()
		if err != nil {
			return out, ok
		}
		switch t := tok.(type) {
		case xml.StartElement:
			ok = true
			if len(stack) > 0 {
				stack[len(stack)-1].child = true
			}
			stack = append(stack, &elem{name: t.Name.Local})
			var key, value string
			for _, a := range t.Attr {
				switch {
				case strings.EqualFold(a.Name.Local, "key"):
					key = a.Value
				case strings.EqualFold(a.Name.Local, "value"):
					value = a.Value
				case secretName(a.Name.Local) && a.Value != "":
					out = append(out, field{key: t.Name.Local + " " + a.Name.Local, value: a.Value, name: a.Name.Local})
				}
			}
			if key != "" && value != "" && conventionalName(key) {
				out = append(out, field{key: key, value: value})
			}
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			}
		case xml.EndElement:
			if len(stack) == 0 {
				return out, ok
			}
			e := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if v := strings.TrimSpace(e.text.String()); v != "" && !e.child {
				out = append(out, field{key: e.name, value: v})
			}
		}
	}
}

// pgpassFields reads a .pgpass file: every line
// host:port:database:username:password, with ':' and '\' escaped by '\'
// (the password is the rest of the line). ok reports that every line is
// one.
func pgpassFields(lines []string) (out []field, ok bool) {
	for _, line := range lines {
		var parts []string
		var b strings.Builder
		for i := 0; i < len(line); i++ {
			c := line[i]
			switch {
			case c == '\\' && i+1 < len(line):
				i++
				b.WriteByte(line[i])
			case c == ':' && len(parts) < 4:
				parts = append(parts, b.String())
				b.Reset()
			default:
				b.WriteByte(c)
			}
		}
		parts = append(parts, b.String())
		if len(parts) != 5 || parts[1] != "*" && strings.Trim(parts[1], "0123456789") != "" || parts[1] == "" {
			return nil, false
		}
		out = append(out, field{key: "pgpass password", value: parts[4], place: true})
	}
	return out, len(out) > 0
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
			out = append(out, field{key: "netrc " + f[i], value: f[i+1], place: true})
			i++
		case "login":
			// A login is searched when it looks like a token, not a
			// user name that every home directory would match.
			if len(f[i+1]) >= 16 {
				out = append(out, field{key: "netrc login", value: f[i+1], place: true})
			}
			i++
		}
	}
	return out
}

// keyValue reads `[export ]KEY=VALUE`, `KEY = VALUE` and `KEY: VALUE`,
// where KEY reads as a name (see conventionalName).
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
	if !conventionalName(k) || strings.Trim(v, "=") == "" {
		// Not a name, or base64 padding (`...AB==`).
		return "", "", false
	}
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		v = v[1 : len(v)-1]
	} else if q, ok := quotedBeforeComment(v); ok {
		v = q
	} else if j := commentStart(v); j >= 0 {
		v = strings.TrimSpace(v[:j])
	}
	return k, v, v != ""
}

// commentStart is where a comment after a value starts (a # after a space
// or a tab), or -1.
func commentStart(v string) int {
	for i := 1; i < len(v); i++ {
		if v[i] == '#' && (v[i-1] == ' ' || v[i-1] == '\t') {
			return i - 1
		}
	}
	return -1
}

// quotedBeforeComment reads a value quoted and followed by a comment
// (`"VALUE"  # rotated monthly`), as a shell sourcing an env file or a
// YAML or TOML parser reads it: what the quotes hold.
func quotedBeforeComment(v string) (string, bool) {
	if len(v) < 2 || v[0] != '"' && v[0] != '\'' {
		return "", false
	}
	end := strings.IndexByte(v[1:], v[0])
	if end < 0 {
		return "", false
	}
	rest := v[end+2:]
	if rest == "" || rest[0] != ' ' && rest[0] != '\t' || !strings.HasPrefix(strings.TrimSpace(rest), "#") {
		return "", false
	}
	return v[1 : end+1], true
}

// dependencyList reports a package manager's list of dependencies, by
// the name of its file (a path, or a secret id that starts with one): a
// pip requirements or constraints file, a Gemfile, a Pipfile. Its lines
// name packages and versions (keyring==24.3.0, secretstorage>=3.3), not
// settings; only the URLs of its indexes and sources may hold a
// credential (--extra-index-url https://ci:PASSWORD@host/simple, source
// "https://user:pass@gems.example.com").
func dependencyList(name string) bool {
	if i := strings.Index(name, " ("); i >= 0 {
		name = name[:i] // "PATH (build context)"
	}
	base := path.Base(name)
	switch {
	case base == "Gemfile" || base == "gems.rb" || base == "Pipfile":
		return true
	case !strings.HasSuffix(base, ".txt"):
		return false
	}
	return strings.HasPrefix(base, "requirements") || strings.HasPrefix(base, "constraints") || path.Base(path.Dir(name)) == "requirements"
}

// urlFields returns the credentials of the URLs in text: each URL's
// password, where its place says secret, and each user name without a
// password, which is searched only when it is in a known token format
// (https://ghp_...@github.com/acme/lib.git).
func urlFields(text string) []field {
	var out []field
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		for _, p := range urlPasswords(line) {
			out = append(out, field{key: "url password", value: p, place: true})
		}
		for _, u := range urlUsers(line) {
			out = append(out, field{key: "url user", value: u})
		}
	}
	return out
}

// urlUserinfos returns the userinfo of each URL with one in s.
func urlUserinfos(s string) []*url.Userinfo {
	var out []*url.Userinfo
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '"' || r == '\'' || r == '=' || r == ',' }) {
		if !strings.Contains(w, "://") {
			continue
		}
		u, err := url.Parse(w[strings.Index(w, "://")-schemeLen(w):])
		if err != nil || u.User == nil {
			continue
		}
		out = append(out, u.User)
	}
	return out
}

// urlUsers returns the user names of URLs with userinfo and no password
// in s.
func urlUsers(s string) []string {
	var out []string
	for _, u := range urlUserinfos(s) {
		if _, ok := u.Password(); !ok && u.Username() != "" {
			out = append(out, u.Username())
		}
	}
	return out
}

// urlPasswords returns the passwords of URLs with userinfo in s.
func urlPasswords(s string) []string {
	var out []string
	for _, u := range urlUserinfos(s) {
		if p, ok := u.Password(); ok && p != "" {
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
				if secretName(k) || tokenValue(s) || connectionStringFields(s) != nil {
					*out = append(*out, field{key: p, value: s, name: k})
				}
				if k == "auth" {
					// Docker config.json: base64 of user:password.
					if dec, err := base64.StdEncoding.DecodeString(s); err == nil {
						if _, pw, ok := strings.Cut(string(dec), ":"); ok {
							*out = append(*out, field{key: p + " password", value: pw, place: true})
						}
					}
				}
				for _, pw := range urlPasswords(s) {
					*out = append(*out, field{key: p + " url password", value: pw, place: true})
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
	// EncXML is the value as XML and HTML writers escape it, where that
	// differs from the value (see xmlForms): a password in a NuGet.Config,
	// a Maven settings.xml, an HTML page.
	EncXML = "xml"
	// EncQuoted is the value with its quotes doubled, where it holds one:
	// a ' inside an SQL string or a YAML single-quoted scalar, a " inside
	// a CSV field.
	EncQuoted = "quoted"
	// EncObscured is the value kept obscured as rclone keeps its
	// configuration's passwords (AES-CTR under a key of rclone's source,
	// so anyone can reveal it): found by revealing a small file's runs
	// of URL-safe base64, not by a needle.
	EncObscured = "rclone-obscured"
	// EncByteArray is the value spelt out as a list of hexadecimal byte
	// literals (`xxd -i`'s C array, cut over lines): found by reading a
	// small file's lists, not by a needle.
	EncByteArray = "byte-array"
	// EncSexp is the value spelt out as the hexadecimal strings of an
	// S-expression (`#0A1C...#`, cut over lines): gpg-agent's private key
	// files, which hold an imported OpenPGP key's secret numbers so.
	// Found by reading a small file's strings, not by a needle.
	EncSexp = "s-expression"
	// EncProperties is the value as java.util.Properties.store writes it,
	// where that differs from the value (see propertiesForms): = : # !
	// and \ behind a backslash, as Gradle's WriteProperties task, Spring
	// Boot's build-info and Maven plugins write a .properties file.
	EncProperties = "java-properties"
	// EncUTF16 is the value in UTF-16, little- and big-endian, without a
	// byte order mark: a .NET assembly's string literals, Windows tools'
	// text, Java's and JavaScript engines' strings in memory images.
	EncUTF16 = "utf-16"
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
// URL-encoded forms (see urlForms; hexadecimal escapes in upper and lower
// case), its JSON-escaped forms (Go's, with and without HTML escaping and
// / as \/, and those of jsonStyles: Python's, PHP's, .NET's, Gson's),
// its hexadecimal (lower and upper case) and shell-quoted forms (see
// EncShell) and, when it holds & < > " or ', its XML-escaped forms (see
// EncXML) and its form with quotes doubled (see EncQuoted), its
// .properties forms (see EncProperties) and its UTF-16 forms (see
// EncUTF16). Each form is listed once, under the first
// encoding that yields it; forms shorter than MinValueLen are left out.
//
// Surrounding white space is not searched: a value read from a file or a
// variable often ends with a newline that the image's copy lacks. A value
// longer than MaxNeedleLen is searched by its middle MaxNeedleLen bytes.
func Needles(v string) []Needle {
	return needles(middle(strings.TrimSpace(v), MaxNeedleLen))
}

// Encodings returns the forms of v that Needles knows, of the whole of v
// however long it is (Needles cuts a long value to its middle), for a
// masker that cuts them into pieces.
func Encodings(v string) []Needle {
	return needles(strings.TrimSpace(v))
}

// needles returns the forms of v, all of it.
func needles(v string) []Needle {
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
	for _, u := range urlForms(v) {
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
	for _, j := range jsonForms(v) {
		add([]byte(j), EncJSON)
	}
	h := hex.EncodeToString([]byte(v))
	add([]byte(h), EncHex)
	add([]byte(strings.ToUpper(h)), EncHex)
	for _, q := range shellForms(v) {
		add([]byte(q), EncShell)
	}
	for _, x := range xmlForms(v) {
		add([]byte(x), EncXML)
	}
	for _, q := range []string{"'", `"`} {
		if strings.Contains(v, q) {
			add([]byte(strings.ReplaceAll(v, q, q+q)), EncQuoted)
		}
	}
	for _, p := range propertiesForms(v) {
		add([]byte(p), EncProperties)
	}
	if utf8.ValidString(v) {
		units := utf16.Encode([]rune(v))
		le := make([]byte, 0, 2*len(units))
		be := make([]byte, 0, 2*len(units))
		for _, u := range units {
			le = append(le, byte(u), byte(u>>8))
			be = append(be, byte(u>>8), byte(u))
		}
		add(le, EncUTF16)
		add(be, EncUTF16)
	}
	return out
}

// urlForms returns v as URL and form escapers write it, upper-case hex
// (the caller adds the lower-case forms):
//   - Go's url.QueryEscape (- . _ ~ kept, a space as +; also Python's
//     quote_plus and Ruby's CGI.escape) and url.PathEscape;
//   - Python's urllib.parse.quote, which leaves / alone (a password in
//     a database URL);
//   - RFC 3986's unreserved-only escaping (git's credential store,
//     curl's --data-urlencode, PHP's rawurlencode, .NET's
//     Uri.EscapeDataString: a space as %20);
//   - JavaScript's encodeURIComponent (jq 1.6's @uri too), which leaves
//     ! ' ( ) * alone;
//   - PHP's urlencode: - . _ kept, ~ escaped, a space as +;
//   - the form encoding of Java's URLEncoder.encode, Ruby's
//     URI.encode_www_form_component and the WHATWG URLSearchParams
//     (letters, digits and * - . _ kept, ~ escaped, a space as +), and
//     Ruby's URI.encode_uri_component, the same with a space as %20;
//   - .NET's WebUtility.UrlEncode and HttpUtility.UrlEncode (lower-case
//     hex): - . _ ! * ( ) kept, ~ escaped, a space as +.
//
// Most are v itself, or one another, for a v of letters and digits: the
// caller lists each form once.
func urlForms(v string) []string {
	return []string{
		url.QueryEscape(v),
		url.PathEscape(v),
		percentEscape(v, "/"),
		percentEscape(v, ""),
		percentEscape(v, "!'()*"),
		escapeBytes(v, "-._", true),
		escapeBytes(v, "*-._", true),
		escapeBytes(v, "*-._", false),
		escapeBytes(v, "-._!*()", true),
	}
}

// percentEscape escapes every byte of v as %XX but ASCII letters and
// digits, - . _ ~ and the bytes of safe.
func percentEscape(v, safe string) string {
	return escapeBytes(v, "-._~"+safe, false)
}

// escapeBytes escapes every byte of v as %XX but ASCII letters and digits
// and the bytes of keep; plus writes a space as +.
func escapeBytes(v, keep string, plus bool) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c < utf8.RuneSelf && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(keep, c) >= 0):
			b.WriteByte(c)
		case c == ' ' && plus:
			b.WriteByte('+')
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// jsonStyle is how a JSON writer escapes a string, beyond " \ and the
// control characters, which all escape.
type jsonStyle struct {
	// escape are the ASCII characters written as \u00XX.
	escape string
	// nonASCII: every character past ASCII is written as \uXXXX (a
	// surrogate pair past U+FFFF); else only those past U+FFFF are,
	// when astral, and U+2028 and U+2029, when lineSeps.
	nonASCII, astral, lineSeps bool
	// upper: the escapes' hexadecimal is upper case.
	upper bool
	// slash: / is written \/.
	slash bool
}

// jsonStyles are the JSON writers whose forms Go's encoder does not write
// (see jsonForms).
var jsonStyles = []jsonStyle{
	// JavaScript's JSON.stringify, Python's json.dumps with
	// ensure_ascii=False, Json.NET: only " \ and the control characters
	// escaped (Go's encoder escapes U+2028 and U+2029 too).
	{},
	// Python's json.dumps (ensure_ascii, its default).
	{nonASCII: true},
	// PHP's json_encode: \/ too.
	{nonASCII: true, slash: true},
	// .NET's System.Text.Json with its default encoder: " as \u0022,
	// HTML-sensitive characters and + escaped, upper-case hex; and
	// with an encoder that allows every range
	// (JavaScriptEncoder.Create(UnicodeRanges.All), the usual way to
	// keep text readable), which still escapes the characters past
	// U+FFFF and the line and paragraph separators.
	{escape: "\"&'+<>`\x7f", nonASCII: true, upper: true},
	{escape: "\"&'+<>`\x7f", astral: true, lineSeps: true, upper: true},
	// Gson's default (HTML-safe): < > & = ' escaped, lower-case hex: a
	// base64 value's padding as \u003d.
	{escape: "<>&='", lineSeps: true},
}

// jsonForms returns the inside of the JSON strings that the writers of
// jsonStyles make of v. Forms equal to v or to Go's are left to the
// caller to drop.
func jsonForms(v string) []string {
	out := make([]string, 0, len(jsonStyles))
	for _, st := range jsonStyles {
		out = append(out, st.write(v))
	}
	return out
}

// write returns the inside of the JSON string that st makes of v;
// invalid UTF-8 is written as U+FFFD, as Go's encoder does.
func (st jsonStyle) write(v string) string {
	hexf := `\u%04x`
	if st.upper {
		hexf = `\u%04X`
	}
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(v, "\uFFFD") {
		switch {
		case r == '"' && strings.IndexByte(st.escape, '"') < 0:
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '/' && st.slash:
			b.WriteString(`\/`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20, r < utf8.RuneSelf && strings.ContainsRune(st.escape, r):
			fmt.Fprintf(&b, hexf, r)
		case r >= utf8.RuneSelf && (st.nonASCII || st.astral && r > 0xffff || st.lineSeps && (r == '\u2028' || r == '\u2029')):
			if r > 0xffff {
				hi, lo := utf16.EncodeRune(r)
				fmt.Fprintf(&b, hexf+hexf, hi, lo)
			} else {
				fmt.Fprintf(&b, hexf, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// xmlForms returns what XML and HTML writers make of v when it holds one
// of & < > " ': the five named entities (&apos; included), only & < >
// escaped (text content, sed scripts), Go's encoding/xml (&#34; &#39;,
// and &#x9; &#xA; &#xD; for tabs and line ends), .NET's and Python's
// attribute writers (&quot; with ' left as it is), and the decimal and
// hexadecimal character references (&#38; &#x26;) some writers use for
// every one of them. None when v has none of those characters.
func xmlForms(v string) []string {
	if !strings.ContainsAny(v, "&<>\"'") {
		return nil
	}
	var goXML strings.Builder
	_ = xml.EscapeText(&goXML, []byte(v)) // a strings.Builder never fails
	return []string{
		xmlEscaper.Replace(v),
		strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(v),
		strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(v),
		goXML.String(),
		strings.NewReplacer("&", "&#38;", "<", "&#60;", ">", "&#62;", `"`, "&#34;", "'", "&#39;").Replace(v),
		strings.NewReplacer("&", "&#x26;", "<", "&#x3C;", ">", "&#x3E;", `"`, "&#x22;", "'", "&#x27;").Replace(v),
		strings.NewReplacer("&", "&#x26;", "<", "&#x3c;", ">", "&#x3e;", `"`, "&#x22;", "'", "&#x27;").Replace(v),
	}
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

// propertiesForms returns v as java.util.Properties.store writes a value
// (saveConvert in java/util/Properties.java), where that differs from v:
// \ = : # ! behind a backslash, tab, newline, carriage return and form
// feed as \t \n \r \f, and every other character outside printable
// ASCII as store(OutputStream) writes it (\uXXXX, upper-case hex, a
// UTF-16 code unit each, as Gradle's WriteProperties writes its ISO
// 8859-1 files too) and as store(Writer) does (kept). A value of
// printable ASCII without those characters is itself. (Properties.store
// writes a leading space as "\ ": values are searched without their
// surrounding white space.)
func propertiesForms(v string) []string {
	if !strings.ContainsAny(v, "\\=:#!\t\n\r\f") && printableASCII(v) {
		return nil
	}
	write := func(escapeUnicode bool) string {
		var b strings.Builder
		for _, r := range strings.ToValidUTF8(v, "\uFFFD") {
			switch {
			case r == '\t':
				b.WriteString(`\t`)
			case r == '\n':
				b.WriteString(`\n`)
			case r == '\r':
				b.WriteString(`\r`)
			case r == '\f':
				b.WriteString(`\f`)
			case strings.ContainsRune("\\=:#!", r):
				b.WriteByte('\\')
				b.WriteRune(r)
			case (r < 0x20 || r > 0x7e) && escapeUnicode:
				for _, u := range utf16.Encode([]rune{r}) {
					fmt.Fprintf(&b, "\\u%04X", u)
				}
			default:
				b.WriteRune(r)
			}
		}
		return b.String()
	}
	return []string{write(true), write(false)}
}

// printableASCII reports whether v holds only printable ASCII.
func printableASCII(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] >= 0x7f {
			return false
		}
	}
	return true
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
	sp := middleSpan(s, n)
	return s[sp.from:sp.to]
}

func middleSpan(s string, n int) span {
	if len(s) <= n {
		return span{0, len(s)}
	}
	from := (len(s) - n) / 2
	for from > 0 && !utf8.RuneStart(s[from]) {
		from--
	}
	to := from + n
	for to < len(s) && !utf8.RuneStart(s[to]) {
		to++
	}
	return span{from, to}
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

// Windows: a value longer than MaxNeedleLen is searched by WindowNeedles
// in windows of windowLen bytes, one every windowLen bytes, their ends
// moved by up to 3 bytes to UTF-8 character boundaries: every part of the
// value of 2*windowLen+5 (191) bytes or more holds a whole window.
const (
	windowLen = 93
	// maxWindows bounds the windows of one value; those of a longer value
	// are spread evenly over it.
	maxWindows = 64
	// minPrivate is how many bytes of a window must be something else
	// than public material for the window to be searched.
	minPrivate = 24
	// maxAnalyzed bounds the values searched for public material; a
	// longer one is taken as secret throughout.
	maxAnalyzed = 4 << 20
)

// WindowNeedles returns the byte strings that stand for s in a search that
// must find a part of a long value too (a private key cut out of a
// bundle, a piece of a key file in base64), for package checker: for a
// value of up to MaxNeedleLen bytes, the value's forms (see Needles); for
// a longer one, the forms of windows of it, every windowLen bytes, so that
// any part of it of 191 bytes or more is found, in every encoding. At most maxWindows windows are searched, spread evenly over
// the value.
//
// A window is left out when it would stand for public material, which is
// found in files that do not hold the secret:
//   - certificates and public keys (PEM blocks, DER in binary or base64
//     values), and the parts of private keys that public keys repeat (an
//     RSA modulus, an EC point, an OpenPGP key's public key material, user
//     ids and signatures): a window must hold minPrivate bytes of
//     something else;
//   - in the whole content of a file with fields (s.Field == "" or DecodedField; a .env,
//     JSON, YAML), everything but its secret values (FileSecretValues):
//     the windows are those across the secret values where the file
//     escapes them (JSON or XML escapes, an indented PEM block), or else
//     the one around the longest; a file where none is found is searched
//     by its middle, as Needles does.
//
// A value made only of public material has no needles.
func WindowNeedles(s Secret) []Needle {
	v := strings.TrimSpace(s.Value)
	if len(v) <= MaxNeedleLen {
		return needles(v)
	}
	var out []Needle
	seen := map[string]bool{}
	for _, w := range searchWindows(v, s.Field == "" || s.Field == DecodedField) {
		for _, n := range needles(v[w.from:w.to]) {
			if !seen[string(n.Value)] {
				seen[string(n.Value)] = true
				out = append(out, n)
			}
		}
	}
	return out
}

// span is the part [from, to) of a text.
type span struct{ from, to int }

// searchWindows returns the windows to search v by (see WindowNeedles);
// whole says v is a secret file's whole content.
func searchWindows(v string, whole bool) []span {
	var req []span
	if whole {
		if structured, escaped, longest := secretPlaces(v); structured {
			switch {
			case len(escaped) > 0:
				req = escaped
			case longest.to > longest.from:
				return []span{window(v, (longest.from+longest.to-windowLen)/2, windowLen)}
			default:
				return []span{middleSpan(v, MaxNeedleLen)}
			}
		}
	}
	pub := publicSpans(v)
	var cands []span
	for from := 0; ; from += windowLen {
		cands = append(cands, window(v, from, windowLen))
		if from+windowLen >= len(v) {
			break
		}
	}
	// Next to public material, windows that hold just enough else: a part
	// of the value across its edge is found too.
	for _, p := range pub {
		cands = append(cands, window(v, p.from-minPrivate, windowLen), window(v, p.to+minPrivate-windowLen, windowLen))
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].from < cands[j].from })
	var out []span
	for _, w := range cands {
		if w.to-w.from-overlap(w, pub) >= minPrivate && (req == nil || crosses(w, req)) && (len(out) == 0 || out[len(out)-1] != w) {
			out = append(out, w)
		}
	}
	if len(out) > maxWindows {
		spread := make([]span, maxWindows)
		for i := range spread {
			spread[i] = out[i*(len(out)-1)/(maxWindows-1)]
		}
		out = spread
	}
	return out
}

// window returns the n bytes of v from from (moved into v), with its ends
// moved to UTF-8 character boundaries, so that the escaped forms of the
// window are parts of the whole's.
func window(v string, from, n int) span {
	from = max(0, min(from, len(v)-n))
	for k := 0; k < utf8.UTFMax-1 && from > 0 && !utf8.RuneStart(v[from]); k++ {
		from--
	}
	to := min(from+n, len(v))
	for k := 0; k < utf8.UTFMax-1 && to < len(v) && !utf8.RuneStart(v[to]); k++ {
		to++
	}
	return span{from, to}
}

// overlap returns how many bytes of w the spans ss (merged) cover.
func overlap(w span, ss []span) int {
	n := 0
	for _, s := range ss {
		if s.to > w.from && s.from < w.to {
			n += min(s.to, w.to) - max(s.from, w.from)
		}
	}
	return n
}

// crosses reports whether w covers minPrivate bytes of one of ss, or all of
// a shorter one.
func crosses(w span, ss []span) bool {
	for _, s := range ss {
		if overlap(w, []span{s}) >= min(minPrivate, s.to-s.from) {
			return true
		}
	}
	return false
}

// merge sorts ss and merges the spans that overlap or touch.
func merge(ss []span) []span {
	sort.Slice(ss, func(i, j int) bool { return ss[i].from < ss[j].from })
	var out []span
	for _, s := range ss {
		if s.to <= s.from {
			continue
		}
		if n := len(out); n > 0 && s.from <= out[n-1].to {
			out[n-1].to = max(out[n-1].to, s.to)
			continue
		}
		out = append(out, s)
	}
	return out
}

// indexAll returns the places of each of subs (of 16 bytes or more) in s.
func indexAll(s string, subs ...string) []span {
	var out []span
	for _, sub := range subs {
		if len(sub) < 16 {
			continue
		}
		for off := 0; ; {
			i := strings.Index(s[off:], sub)
			if i < 0 {
				break
			}
			out = append(out, span{off + i, off + i + len(sub)})
			off += i + 1
		}
	}
	return out
}

// secretPlaces finds, in the whole text of a secret file, the places of
// its secret values (those FileSecretValues returns): structured says the
// text has fields; escaped are the places of the values the text holds in
// another form than their own (JSON or XML escapes, an indented PEM
// block); longest is the longest place of a value that the text holds as
// it is.
func secretPlaces(text string) (structured bool, escaped []span, longest span) {
	a := (&analyzer{noKeystores: true}).analyze("", "", text)
	if !a.structured {
		return false, nil, span{}
	}
	values, _ := filterValues("", a.cands, true, nil)
	for _, s := range values {
		if s.Field == "" {
			continue
		}
		for _, sp := range indexAllShort(text, s.Value) {
			if sp.to-sp.from > longest.to-longest.from {
				longest = sp
			}
		}
		for _, form := range escapedForms(s.Value) {
			if form != s.Value {
				escaped = append(escaped, indexAllShort(text, form)...)
			}
		}
	}
	for _, b := range a.blocks {
		if b.private() && text[b.start:b.end] != b.armoured {
			escaped = append(escaped, span{b.start, b.end})
		}
	}
	return true, merge(escaped), longest
}

// indexAllShort is indexAll for values of any length.
func indexAllShort(s, sub string) []span {
	var out []span
	for off := 0; sub != ""; {
		i := strings.Index(s[off:], sub)
		if i < 0 {
			break
		}
		out = append(out, span{off + i, off + i + len(sub)})
		off += i + 1
	}
	return out
}

var xmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")

// escapedForms returns v as JSON and XML texts write it.
func escapedForms(v string) []string {
	var out []string
	for _, html := range []bool{false, true} {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(html)
		_ = enc.Encode(v) // a string always encodes
		j := strings.TrimSuffix(b.String(), "\n")
		j = j[1 : len(j)-1]
		out = append(out, j, strings.ReplaceAll(j, "/", `\/`))
	}
	return append(out, xmlEscaper.Replace(v))
}

// pemBlock is a PEM block (RFC 7468, or OpenPGP's armour) in a text.
type pemBlock struct {
	typ        string // CERTIFICATE, RSA PRIVATE KEY...
	start, end int    // its place in the text, BEGIN line to END line
	armoured   string // the block, each line trimmed
	body       string // its base64, without line ends, headers or checksum
	pos        []int  // the place in the text of each byte of body
	encrypted  bool   // its body is ciphertext
}

// private reports private key blocks: any `... PRIVATE KEY`, including
// RSA, EC, OPENSSH, ENCRYPTED and OpenPGP's `PGP PRIVATE KEY BLOCK`.
func (b pemBlock) private() bool { return strings.Contains(b.typ, "PRIVATE KEY") }

// public reports blocks that carry nothing secret: certificates,
// certificate requests, public keys, parameters, signatures.
func (b pemBlock) public() bool {
	if b.private() {
		return false
	}
	for _, w := range []string{"CERTIFICATE", "PUBLIC KEY", "PARAMETERS", "CRL", "PKCS7", "CMS", "SIGNATURE"} {
		if strings.Contains(b.typ, w) {
			return true
		}
	}
	return false
}

// pemBlocks returns the PEM blocks of text, in order. Lines may be
// indented (YAML) and end with "\r\n"; a BEGIN or END line may have text
// before its marker (`KEY="-----BEGIN ...`).
func pemBlocks(text string) []pemBlock {
	if !strings.Contains(text, "-----BEGIN ") {
		return nil
	}
	var out []pemBlock
	var cur *pemBlock
	var lines []string
	var body []byte
	headers := false
	for off := 0; off < len(text); {
		end := strings.IndexByte(text[off:], '\n')
		if end < 0 {
			end = len(text)
		} else {
			end += off
		}
		line := text[off:end]
		start := off
		off = end + 1
		if cur != nil {
			mark := "-----END " + cur.typ + "-----"
			if i := strings.Index(line, mark); i >= 0 {
				lines = append(lines, mark)
				cur.end = start + i + len(mark)
				cur.armoured = strings.Join(lines, "\n")
				cur.body = string(body)
				out = append(out, *cur)
				cur = nil
				continue
			}
		}
		if i := strings.Index(line, "-----BEGIN "); i >= 0 {
			if j := strings.Index(line[i+11:], "-----"); j > 0 {
				typ := line[i+11 : i+11+j]
				cur = &pemBlock{typ: typ, start: start + i, encrypted: strings.Contains(typ, "ENCRYPTED")}
				lines = []string{"-----BEGIN " + typ + "-----"}
				body = nil
				headers = true
				continue
			}
		}
		if cur == nil {
			continue
		}
		t := strings.TrimSpace(line)
		lead := start + strings.Index(line, t)
		lines = append(lines, t)
		switch {
		case headers && strings.Contains(t, ":"):
			// Proc-Type: 4,ENCRYPTED; DEK-Info; OpenPGP's Version.
			cur.encrypted = cur.encrypted || strings.Contains(t, "ENCRYPTED")
		case t == "":
			headers = false
		case t[0] == '=':
			headers = false // OpenPGP's checksum
		default:
			headers = false
			for k := 0; k < len(t); k++ {
				if c := t[k]; c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=' {
					body = append(body, c)
					cur.pos = append(cur.pos, lead+k)
				}
			}
		}
	}
	return out
}

// blankBlocks returns text without the blocks.
func blankBlocks(text string, blocks []pemBlock) string {
	if len(blocks) == 0 {
		return text
	}
	var b strings.Builder
	prev := 0
	for _, bl := range blocks {
		b.WriteString(text[prev:bl.start])
		prev = bl.end
	}
	b.WriteString(text[prev:])
	return b.String()
}

// publicSpans returns the parts of v that are public material: PEM blocks
// of certificates and public keys, and the public parts of private key
// blocks; in base64 text or binary data, DER certificates and public keys,
// the public parts of a private key, of an OpenPGP secret key.
func publicSpans(v string) []span {
	if len(v) > maxAnalyzed {
		return nil
	}
	if blocks := pemBlocks(v); len(blocks) > 0 {
		var out []span
		for _, b := range blocks {
			switch {
			case b.public():
				out = append(out, span{b.start, b.end})
			case b.private() && !b.encrypted:
				if der, err := base64.StdEncoding.DecodeString(b.body); err == nil {
					out = append(out, mapRuns(binaryPublicRuns(der), b.pos)...)
				}
			}
		}
		return merge(out)
	}
	if pos, data, ok := base64Text(v, 64); ok {
		runs := binaryPublicRuns(data)
		if strings.Contains(string(data), "-----BEGIN ") {
			runs = merge(append(runs, publicSpans(string(data))...))
		}
		return merge(mapRuns(runs, pos))
	}
	return binaryPublicRuns([]byte(v))
}

// mapRuns maps runs of decoded bytes to the base64 text they came from,
// whose k-th character is at pos[k]: a character is in a run if all the
// bits it encodes are.
func mapRuns(runs []span, pos []int) []span {
	var out []span
	for _, r := range runs {
		from := (8*r.from + 5) / 6
		to := min(8*r.to/6, len(pos))
		if from < to {
			out = append(out, span{pos[from], pos[to-1] + 1})
		}
	}
	return out
}

// base64Text decodes v if it is base64 text of minChars characters or
// more (standard or URL alphabet, padded or not, wrapped or not); pos
// holds the place in v of each character decoded.
func base64Text(v string, minChars int) (pos []int, data []byte, ok bool) {
	chars := make([]byte, 0, len(v))
	var std, urlSafe bool
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			continue
		case c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '=':
		case c == '+' || c == '/':
			std = true
		case c == '-' || c == '_':
			urlSafe = true
		default:
			return nil, nil, false
		}
		chars = append(chars, v[i])
		pos = append(pos, i)
	}
	s := strings.TrimRight(string(chars), "=")
	if std && urlSafe || len(s) < minChars || strings.Contains(s, "=") {
		return nil, nil, false
	}
	enc := base64.RawStdEncoding
	if urlSafe {
		enc = base64.RawURLEncoding
	}
	data, err := enc.DecodeString(s)
	if err != nil {
		return nil, nil, false
	}
	return pos[:len(s)], data, true
}

// binaryPublicRuns returns the public parts of binary data (see
// publicSpans).
func binaryPublicRuns(b []byte) []span {
	var out []span
	if len(b) > 0 && (b[0]&0xc0 == 0x80 && b[0]>>2&0x0f == 5 || b[0] == 0xc5) {
		out = append(out, pgpPublicRuns(b)...) // an OpenPGP secret key
	}
	s := string(b)
	out = append(out, indexAll(s, keyPublicBytes(b)...)...)
	tries := 0
	for i := 0; i+2 < len(b) && tries < 10000; i++ {
		if b[i] != 0x30 {
			continue
		}
		n, hdr := derLength(b[i:])
		if n < 32 || i+hdr+n > len(b) || b[i+hdr] != 0x30 {
			continue
		}
		tries++
		der := b[i : i+hdr+n]
		var pub any
		if c, err := x509.ParseCertificate(der); err == nil {
			pub = c.PublicKey
		} else if p, err := x509.ParsePKIXPublicKey(der); err == nil {
			pub = p
		} else {
			continue
		}
		out = append(out, span{i, i + len(der)})
		out = append(out, indexAll(s, publicKeyBytes(pub)...)...)
		i += len(der) - 1
	}
	return merge(out)
}

// derLength reads the length of the DER element b starts with: its
// content's length and its header's.
func derLength(b []byte) (n, hdr int) {
	if len(b) < 2 {
		return -1, 0
	}
	switch l := b[1]; {
	case l < 0x80:
		return int(l), 2
	case l == 0x81 && len(b) > 2:
		return int(b[2]), 3
	case l == 0x82 && len(b) > 3:
		return int(b[2])<<8 | int(b[3]), 4
	case l == 0x83 && len(b) > 4:
		return int(b[2])<<16 | int(b[3])<<8 | int(b[4]), 5
	}
	return -1, 0
}

// keyPublicBytes returns the public key material that der, a private key
// (PKCS #8, PKCS #1, SEC 1, OpenSSH), holds: what its public key repeats.
func keyPublicBytes(der []byte) []string {
	var pub crypto.PublicKey
	var out []string
	switch {
	case bytes.HasPrefix(der, []byte("openssh-key-v1\x00")):
		k, err := ssh.ParseRawPrivateKey(pem.EncodeToMemory(&pem.Block{Type: "OPENSSH PRIVATE KEY", Bytes: der}))
		var missing *ssh.PassphraseMissingError
		switch {
		case err == nil:
			pub = privateKeyPublic(k)
			if sp, err := ssh.NewPublicKey(pub); err == nil {
				out = append(out, string(sp.Marshal()))
			}
		case errors.As(err, &missing) && missing.PublicKey != nil:
			// Encrypted: its public key is not.
			out = append(out, string(missing.PublicKey.Marshal()))
			if cp, ok := missing.PublicKey.(ssh.CryptoPublicKey); ok {
				pub = cp.CryptoPublicKey()
			}
		}
	case len(der) > 0 && der[0] == 0x30:
		if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
			pub = privateKeyPublic(k)
		} else if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
			pub = k.Public()
		} else if k, err := x509.ParseECPrivateKey(der); err == nil {
			pub = k.Public()
		}
	}
	return append(out, publicKeyBytes(pub)...)
}

func privateKeyPublic(k any) crypto.PublicKey {
	switch k := k.(type) {
	case *dsa.PrivateKey:
		return &k.PublicKey
	case interface{ Public() crypto.PublicKey }:
		return k.Public()
	}
	return nil
}

// publicKeyBytes returns the material of a public key that encodings of
// it hold as they are: an RSA modulus, an EC point, an Ed25519 key, DSA's
// numbers.
func publicKeyBytes(pub crypto.PublicKey) []string {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		return []string{string(p.N.Bytes())}
	case *ecdsa.PublicKey:
		if e, err := p.ECDH(); err == nil {
			return []string{string(e.Bytes())}
		}
	case ed25519.PublicKey:
		return []string{string(p)}
	case *ecdh.PublicKey:
		return []string{string(p.Bytes())}
	case *dsa.PublicKey:
		return []string{string(p.P.Bytes()), string(p.Q.Bytes()), string(p.G.Bytes()), string(p.Y.Bytes())}
	}
	return nil
}

// pgpPublicRuns returns the public parts of an OpenPGP secret key (RFC
// 9580): every packet, but for the secret parts of the secret key and
// subkey packets. A public key export holds the same public key material,
// user ids and signatures.
func pgpPublicRuns(b []byte) []span {
	var out []span
	i := 0
	pgpPackets(b, func(tag, hdr int, p []byte) bool {
		if tag == 5 || tag == 7 {
			out = append(out, span{i, i + hdr + pgpPublicLen(p)})
		} else {
			out = append(out, span{i, i + hdr + len(p)})
		}
		i += hdr + len(p)
		return true
	})
	return out
}

// pgpPackets calls f with the tag, the header's length and the body of
// each packet of the OpenPGP data b in turn (a body cut short at the end
// of b), until f returns false or a packet cannot be read.
func pgpPackets(b []byte, f func(tag, hdr int, body []byte) bool) {
	for i := 0; i < len(b); {
		t := b[i]
		if t&0x80 == 0 || i+1 >= len(b) {
			return
		}
		var tag, hdr, n int
		if t&0x40 != 0 {
			tag = int(t & 0x3f)
			switch l := int(b[i+1]); {
			case l < 192:
				n, hdr = l, 2
			case l < 224 && i+2 < len(b):
				n, hdr = (l-192)<<8+int(b[i+2])+192, 3
			case l == 255 && i+5 < len(b):
				n, hdr = int(binary.BigEndian.Uint32(b[i+2:])), 6
			default:
				return // partial lengths are not in keys
			}
		} else {
			tag = int(t >> 2 & 0x0f)
			switch {
			case t&3 == 0:
				n, hdr = int(b[i+1]), 2
			case t&3 == 1 && i+2 < len(b):
				n, hdr = int(binary.BigEndian.Uint16(b[i+1:])), 3
			case t&3 == 2 && i+4 < len(b):
				n, hdr = int(binary.BigEndian.Uint32(b[i+1:])), 5
			default:
				return
			}
		}
		if n < 0 || i+hdr+n > len(b) {
			n = len(b) - i - hdr
		}
		if !f(tag, hdr, b[i+hdr:i+hdr+n]) {
			return
		}
		i += hdr + n
	}
}

// pgpPublicLen returns the length of the public key part of a secret key
// packet's body, 0 if unknown.
func pgpPublicLen(p []byte) int {
	if len(p) < 6 {
		return 0
	}
	if p[0] == 5 || p[0] == 6 {
		// version, time, algorithm, the key material's length.
		if len(p) < 10 {
			return 0
		}
		n := int(binary.BigEndian.Uint32(p[6:]))
		if 10+n > len(p) {
			return 0
		}
		return 10 + n
	}
	if p[0] != 4 {
		return 0
	}
	k := 6 // version, time, algorithm
	mpi := func() bool {
		if k+2 > len(p) {
			return false
		}
		bits := int(p[k])<<8 | int(p[k+1])
		k += 2 + (bits+7)/8
		return k <= len(p)
	}
	short := func() bool { // an OID, or ECDH's KDF parameters
		if k >= len(p) {
			return false
		}
		k += 1 + int(p[k])
		return k <= len(p)
	}
	fixed := func(n int) bool {
		k += n
		return k <= len(p)
	}
	var ok bool
	switch p[5] {
	case 1, 2, 3: // RSA: n, e
		ok = mpi() && mpi()
	case 16, 20: // Elgamal: p, g, y
		ok = mpi() && mpi() && mpi()
	case 17: // DSA: p, q, g, y
		ok = mpi() && mpi() && mpi() && mpi()
	case 19, 22: // ECDSA, EdDSA: curve, point
		ok = short() && mpi()
	case 18: // ECDH: curve, point, KDF parameters
		ok = short() && mpi() && short()
	case 25, 27: // X25519, Ed25519
		ok = fixed(32)
	case 26: // X448
		ok = fixed(56)
	case 28: // Ed448
		ok = fixed(57)
	}
	if !ok {
		return 0
	}
	return k
}
