package e2e

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/hushbuild/hushbuild/verify"
)

// newCanary returns a fresh random value shaped like an API token. It is
// never printed.
func newCanary(t *testing.T) string {
	t.Helper()
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	c := "hfc_" + hex.EncodeToString(b)
	runSecrets.add(t.Name(), c)
	return c
}

// runSecrets are every secret value the run made, by test, for the check
// of the lab's logs at the end of the run.
var runSecrets = &secretRegistry{byValue: map[string]string{}}

type secretRegistry struct {
	mu      sync.Mutex
	byValue map[string]string // value → test name
}

func (r *secretRegistry) add(test string, values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range values {
		r.byValue[v] = test
	}
}

// find returns the tests whose secrets appear in data.
func (r *secretRegistry) find(data []byte) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var tests []string
	for v, test := range r.byValue {
		if bytes.Contains(data, []byte(v)) {
			tests = append(tests, test)
		}
	}
	sort.Strings(tests)
	return tests
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// secretValue is one secret of a test: a canary, a credential file's
// content, or an ssh key.
type secretValue struct {
	// id names the secret in reports and logs: "PYPI_PASS", ".netrc",
	// "ssh-key".
	id string
	// value is the secret itself (a canary, or the ssh private key).
	value string
	// hashes are the sha256 (hex) of the forms a stand-in tool hashes:
	// the value, a credential file's bytes, an ssh key's public blob.
	hashes []string
	// needles are the values the scans look for: the value, and for an
	// ssh key each line of its body (a partial leak is a leak).
	needles []string
}

// secretSet is every secret of one test.
type secretSet struct {
	all    []*secretValue
	byName map[string]*secretValue // build-arg or environment variable name
	byFile map[string]*secretValue // context-relative path of a credential file
	key    *sshKey
}

func newSecretSet() *secretSet {
	return &secretSet{byName: map[string]*secretValue{}, byFile: map[string]*secretValue{}}
}

// canary returns the canary of a build-arg or variable name, made on first
// use.
func (s *secretSet) canary(t *testing.T, name string) *secretValue {
	if v, ok := s.byName[name]; ok {
		return v
	}
	c := newCanary(t)
	v := &secretValue{id: name, value: c, hashes: []string{sha256Hex(c)}, needles: []string{c}}
	s.byName[name] = v
	s.all = append(s.all, v)
	return v
}

// placeholder is the string examples' credential files hold where the
// secret goes (examples/README.md).
const placeholder = "REPLACED_BY_TEST_CANARY"

// fillCredentialFiles replaces the placeholder in every file under dir
// (Dockerfiles excepted) with a canary per file.
func (s *secretSet) fillCredentialFiles(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !d.Type().IsRegular() || strings.HasPrefix(d.Name(), "Dockerfile") {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(data, []byte(placeholder)) {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		c := newCanary(t)
		data = bytes.ReplaceAll(data, []byte(placeholder), []byte(c))
		v := &secretValue{id: rel, value: c, hashes: []string{sha256Hex(c), sha256Hex(string(data))}, needles: []string{c}}
		s.byFile[rel] = v
		s.all = append(s.all, v)
		return os.WriteFile(p, data, 0o600)
	})
	if err != nil {
		t.Fatalf("filling credential files: %v", err)
	}
}

// sshKey is a private key made for one test, for `--ssh default=FILE` and
// for the legacy way of passing it as a build-arg.
type sshKey struct {
	path    string
	private string // the key file's content
	secret  *secretValue
}

// sshKeyFor returns the test's ssh key, made on first use.
func (s *secretSet) sshKeyFor(t *testing.T) *sshKey {
	t.Helper()
	if s.key != nil {
		return s.key
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "hushbuild e2e")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	text := string(pem.EncodeToMemory(block))
	path := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	trimmed := strings.TrimRight(text, "\n")
	v := &secretValue{
		id:    "ssh-key",
		value: trimmed,
		// The key file as written by `echo "$KEY" > id_rsa`, the same
		// without the newline, and the public key blob the ssh stand-in
		// hashes when it asks an agent.
		hashes:  []string{sha256Hex(text), sha256Hex(trimmed), sha256Hex(string(signer.PublicKey().Marshal()))},
		needles: []string{trimmed},
	}
	for _, line := range strings.Split(trimmed, "\n") {
		if !strings.HasPrefix(line, "-----") && len(line) >= 20 {
			v.needles = append(v.needles, line)
		}
	}
	runSecrets.add(t.Name(), v.needles...)
	s.key = &sshKey{path: path, private: text, secret: v}
	s.all = append(s.all, v)
	return s.key
}

// verifySecrets are the known values for verify.Scan.
func (s *secretSet) verifySecrets() []verify.Secret {
	var out []verify.Secret
	for _, v := range s.all {
		for i, n := range v.needles {
			field := ""
			if i > 0 {
				field = "line " + strconv.Itoa(i)
			}
			out = append(out, verify.Secret{ID: v.id, Field: field, Value: n})
		}
	}
	return out
}

// foundIn returns the ids of the secrets that appear in data.
func (s *secretSet) foundIn(data []byte) []string {
	var ids []string
	for _, v := range s.all {
		for _, n := range v.needles {
			if bytes.Contains(data, []byte(n)) {
				ids = append(ids, v.id)
				break
			}
		}
	}
	sort.Strings(ids)
	return ids
}

// redact returns data with every secret replaced by <canary:ID>, safe to
// print.
func (s *secretSet) redact(data []byte) string {
	out := string(data)
	for _, v := range s.all {
		for _, n := range v.needles {
			out = strings.ReplaceAll(out, n, "<canary:"+v.id+">")
		}
	}
	return out
}

// probeRe matches the lines the test base image's stand-in tools print
// (hack/testbase/lib.sh): "hushbuild-probe TOOL KIND sha256=HEX".
var probeRe = regexp.MustCompile(`hushbuild-probe (\S+) (\S+) sha256=([0-9a-f]{64})`)

// toolsThatSaw maps each secret that a stand-in tool reported in a build
// output to the tools ("pip", "git", "ssh", ...) that reported it.
func (s *secretSet) toolsThatSaw(out []byte) map[string][]string {
	owner := map[string]string{}
	for _, v := range s.all {
		for _, h := range v.hashes {
			owner[h] = v.id
		}
	}
	seen := map[string]map[string]bool{}
	for _, m := range probeRe.FindAllSubmatch(out, -1) {
		id, ok := owner[string(m[3])]
		if !ok {
			continue
		}
		if seen[id] == nil {
			seen[id] = map[string]bool{}
		}
		seen[id][string(m[1])] = true
	}
	res := map[string][]string{}
	for id, tools := range seen {
		for tool := range tools {
			res[id] = append(res[id], tool)
		}
		sort.Strings(res[id])
	}
	return res
}
