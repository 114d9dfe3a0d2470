package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/hushbuild/hushbuild/e2e/labservers"
	"github.com/hushbuild/hushbuild/rewrite"
)

// realCase is an example that names a tool, run with the real tool (the
// lab's Debian image: git, npm, pip, ssh) against the lab's servers, which
// refuse a request without a credential and record the hash of the one
// they got (hack/lab.sh, e2e/labservers).
type realCase struct {
	name string
	// service is the server that must have seen each of the example's
	// secrets, in the legacy build and in the hushbuild build: "npm",
	// "pypi", "git" or "ssh".
	service string
	// args are values for build-args of the README's command that are no
	// secrets but must name a lab server.
	args map[string]string
	// npmLock replaces package-lock.json with one that resolves
	// package.json's dependencies at the lab's registry (the examples'
	// lock files are empty, which `npm ci` refuses).
	npmLock bool
}

// realCases are the examples of the list that a real tool can run
// here. The others of requiredExamples stay with the stand-ins only:
// 111-dotenv-set-a sources NPM_TOKEN from a .env, but no .npmrc of the
// build refers to it, so real npm never sends it (only the stand-in reads
// the variable); 108, 110, 137 and 012 name no tool. 016 and the seed's
// 004 are here too: the seed's own secret-mount form and its pip URL.
var realCases = []realCase{
	{name: "004-seed000-arg-pip-url", service: "pypi"},
	{name: "016-seed004-env-file-mount", service: "pypi"},
	{name: "015-seed004-build-arg-defaults", service: "pypi", args: map[string]string{"PYPI_URL": "pypi.example.com/simple"}},
	{name: "017-seed004-source-env-legacy", service: "pypi"},
	{name: "114-rm-netrc-later-run", service: "pypi"},
	{name: "204-pip-config-set-index-url", service: "pypi"},
	{name: "201-npmrc-echo-then-npm-ci", service: "npm", npmLock: true},
	{name: "116-cmd-then-rm-f-root-netrc", service: "git"},
	{name: "202-git-clone-token-url", service: "git"},
	{name: "203-git-insteadof-token", service: "git"},
	{name: "217-ssh-key-arg-git-clone", service: "ssh"},
}

// realVolatile are the files of a real tool that differ between two
// builds of one Dockerfile whatever the credentials: npm's debug logs,
// named by the time. (npm's and pip's caches and git's clones come out the
// same, size for size.)
var realVolatile = []volatilePath{
	{"root/.npm/_logs", "npm's debug log, named by the time it ran"},
}

// TestRealTools runs the examples of realCases through the stock frontend
// (the legacy build: the positive control must leak) and through hushbuild
// (nothing may leak), with the checks of TestExamples, plus: the lab's
// server received each secret of the example, by hash, in both builds.
func TestRealTools(t *testing.T) {
	l := needLab(t)
	rl := l.realTools(t)
	byName := map[string]example{}
	for _, ex := range loadExamples(t, l.examplesDir()) {
		byName[ex.name] = ex
	}
	for _, rc := range realCases {
		ex, ok := byName[rc.name]
		if !ok || ex.offline != "yes" {
			t.Errorf("%s: not an example that builds offline (%q)", rc.name, ex.offline)
			continue
		}
		t.Run(rc.name, func(t *testing.T) {
			t.Parallel()
			r := *rl
			r.argValues = rc.args
			r.servers = &realServers{dir: rl.env.Vars["HUSHBUILD_REALTOOLS_DIR"], service: rc.service}
			if rc.npmLock {
				ex.dir = withNPMLock(t, ex.dir)
			}
			r.testExample(t, ex)
		})
	}
}

var (
	realToolsOnce sync.Once
	realToolsLab  *labSetup
	realToolsErr  error
)

// realTools is the lab with every base image mapped to the real-tools
// image and the servers' host names to their loopback address.
func (l *labSetup) realTools(t *testing.T) *labSetup {
	t.Helper()
	realToolsOnce.Do(func() {
		v := l.env.Vars
		img, addr, hosts, dir := v["HUSHBUILD_REALTOOLS_IMAGE"], v["HUSHBUILD_REALTOOLS_ADDR"], v["HUSHBUILD_REALTOOLS_HOSTS"], v["HUSHBUILD_REALTOOLS_DIR"]
		if img == "" || addr == "" || hosts == "" || dir == "" {
			realToolsErr = fmt.Errorf("the lab's env has no real-tools image or servers (hack/lab.sh up)")
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		r := *l
		if r.testbase, realToolsErr = pinDigest(ctx, img); realToolsErr != nil {
			return
		}
		for _, h := range strings.Fields(hosts) {
			r.hostFlags = append(r.hostFlags, "--add-host", h+":"+addr)
		}
		r.volatile = realVolatile
		realToolsLab = &r
	})
	if realToolsErr != nil {
		t.Fatal(realToolsErr)
	}
	return realToolsLab
}

// realServers checks the records of the lab's servers.
type realServers struct {
	dir     string
	service string
}

// recordFiles are the servers' records: labservers' and sshd's.
func (s *realServers) recordFiles() []string {
	return []string{filepath.Join(s.dir, "seen.jsonl"), filepath.Join(s.dir, "seen-ssh.jsonl")}
}

func (s *realServers) read(t *testing.T) [][]labservers.Record {
	t.Helper()
	var all [][]labservers.Record
	for _, f := range s.recordFiles() {
		recs, err := labservers.ReadRecords(f)
		if err != nil {
			t.Fatalf("reading the servers' records: %v", err)
		}
		all = append(all, recs)
	}
	return all
}

// mark authorizes the build's ssh key at the lab's sshd, and notes how
// many records the servers hold.
func (s *realServers) mark(t *testing.T, b *exampleBuild) any {
	if b.secrets.key != nil {
		s.authorize(t, b.secrets.key)
	}
	var n []int
	for _, recs := range s.read(t) {
		n = append(n, len(recs))
	}
	return n
}

// authorizedKeys serializes the tests' appends to sshd's authorized_keys.
var authorizedKeys sync.Mutex

// authorize adds the key's public half to the authorized_keys file of the
// lab's sshd, once.
func (s *realServers) authorize(t *testing.T, key *sshKey) {
	t.Helper()
	signer, err := ssh.ParsePrivateKey([]byte(key.private))
	if err != nil {
		t.Fatal(err)
	}
	line := ssh.MarshalAuthorizedKey(signer.PublicKey())
	authorizedKeys.Lock()
	defer authorizedKeys.Unlock()
	path := filepath.Join(s.dir, "authorized_keys")
	have, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if bytes.Contains(have, line) {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(line); err != nil {
		t.Fatal(err)
	}
}

// check asserts that the server of the case received every secret of the
// build (by hash: a record of the build's time whose user, password, token
// or key hashes to it), and that the build-time check ran on the hushbuild
// build (which succeeded, so it found nothing). It names the secret and
// the server, never a value.
func (s *realServers) check(t *testing.T, b *exampleBuild, kind string, mark any, out []byte) {
	t.Helper()
	// The check runs on builds that mount a secret; an ssh agent alone
	// puts no secret into the build.
	secretMounts := slices.ContainsFunc(b.res.Requirements, func(r rewrite.Requirement) bool { return r.Kind != rewrite.SSH })
	if kind == "hushbuild" && secretMounts {
		if !bytes.Contains(out, []byte("[hushbuild] check ")) {
			t.Errorf("the hushbuild build shows no step of the build-time check")
		} else {
			t.Logf("the build-time check ran on the hushbuild build and found nothing")
		}
	}
	from := mark.([]int)
	var recs []labservers.Record
	for i, all := range s.read(t) {
		recs = append(recs, all[from[i]:]...)
	}
	seen := map[string]bool{}
	refused := 0
	for _, r := range recs {
		if r.Service != s.service {
			continue
		}
		if r.Status != 200 {
			refused++
		}
		for _, h := range r.Hashes() {
			seen[h] = true
		}
	}
	var missing, got []string
	for _, v := range b.secrets.all {
		h, err := serverHash(v, b.secrets)
		if err != nil {
			t.Fatalf("(c) %s: %v", v.id, err)
		}
		if seen[h] {
			got = append(got, v.id)
		} else {
			missing = append(missing, v.id)
		}
	}
	sort.Strings(got)
	if len(missing) > 0 {
		t.Errorf("(c) the lab's %s server did not receive %s in the %s build (%d request(s) of it since the build started, %d refused for lack of a credential)",
			s.service, strings.Join(missing, ", "), kind, len(recs), refused)
		return
	}
	t.Logf("(c) the lab's %s server received %s in the %s build", s.service, strings.Join(got, ", "), kind)
}

// serverHash is the hash under which a server records the secret: the
// canary's (as a password, token or user), or for the ssh key its public
// key as sshd shows it (base64 of the blob).
func serverHash(v *secretValue, s *secretSet) (string, error) {
	if s.key != nil && v == s.key.secret {
		signer, err := ssh.ParsePrivateKey([]byte(s.key.private))
		if err != nil {
			return "", err
		}
		return labservers.Hash(base64.StdEncoding.EncodeToString(signer.PublicKey().Marshal())), nil
	}
	return labservers.Hash(v.value), nil
}

// withNPMLock copies the example's directory and writes a package-lock.json
// that resolves the dependencies of its package.json at the lab registry
// (registry.npmjs.org, as the examples name it), with the integrity of the
// tarballs the registry serves.
func withNPMLock(t *testing.T, dir string) string {
	t.Helper()
	out := copyContext(t, dir)
	// copyContext drops the README, which loadExamples has read already.
	data, err := os.ReadFile(filepath.Join(out, "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct {
		Name         string            `json:"name"`
		Version      string            `json:"version"`
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := json.Unmarshal(data, &pkg); err != nil {
		t.Fatalf("package.json: %v", err)
	}
	root := map[string]any{"name": pkg.Name, "version": pkg.Version, "dependencies": pkg.Dependencies}
	packages := map[string]any{"": root}
	names := make([]string, 0, len(pkg.Dependencies))
	for name := range pkg.Dependencies {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		packages["node_modules/"+name] = map[string]any{
			"version":   labservers.NPMVersion,
			"resolved":  labservers.NPMTarballURL("registry.npmjs.org", name, labservers.NPMVersion),
			"integrity": labservers.NPMIntegrity(name, labservers.NPMVersion),
		}
	}
	lock, err := json.MarshalIndent(map[string]any{
		"name": pkg.Name, "version": pkg.Version, "lockfileVersion": 3, "requires": true, "packages": packages,
	}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, out, "package-lock.json", append(lock, '\n'))
	return out
}

// realProofCases are places where the real tools keep a credential that a
// build mounts as a secret: the build-time check must find it there and
// stop the build (proofCase), and the build with a public value works.
// The stand-ins write where their author believed the tool writes; these
// are the real tools' own choices. The controls pass a command's output
// (the user name) where the value goes: the engine refuses a literal
// credential, and the servers take any.
var realProofCases = []proofCase{
	{
		name:       "npm config set -g writes npm's global config",
		dockerfile: "FROM node:20\nWORKDIR /app\nRUN --mount=type=secret,id=NPM_TOKEN npm config set -g //registry.npmjs.org/:_authToken=SECRET && npm view @acme/private-lib version\n",
		secret:     "$(cat /run/secrets/NPM_TOKEN)", public: "$(id -un)",
		id: "NPM_TOKEN", path: "/etc/npmrc", encoding: "raw", line: 3,
	},
	{
		name: "git's credential store keeps the token",
		// In a script the RUN writes and runs: the engine follows git
		// credential approve in the RUN's own text.
		dockerfile: "FROM alpine\nRUN --mount=type=secret,id=GITHUB_TOKEN git config --global credential.helper store && " + inScript("printf \"protocol=https\\nhost=github.com\\nusername=x-access-token\\npassword=%s\\n\\n\" \"SECRET\" | git credential approve") + " && git clone https://github.com/acme/private-config.git /opt/config\n",
		secret:     "$(cat /run/secrets/GITHUB_TOKEN)", public: "public-value",
		id: "GITHUB_TOKEN", path: "/root/.git-credentials", encoding: "raw", line: 2,
	},
	{
		name:       "a clone keeps its token URL in .git/config",
		dockerfile: "FROM alpine\nRUN --mount=type=secret,id=GITHUB_TOKEN " + inScript("git clone https://x-access-token:SECRET@github.com/acme/private-config.git /opt/config") + "\n",
		secret:     "$(cat /run/secrets/GITHUB_TOKEN)", public: "$(id -un)",
		id: "GITHUB_TOKEN", path: "/opt/config/.git/config", encoding: "raw", line: 2,
	},
	{
		name:       "pip config set writes pip.conf",
		dockerfile: "FROM python:3.9-alpine\nRUN --mount=type=secret,id=PYPI_PASSWORD " + inScript("pip config set global.index-url https://ci-bot:SECRET@pypi.example.com/simple") + " && pip install privatestuff\n",
		secret:     "$(cat /run/secrets/PYPI_PASSWORD)", public: "$(id -un)",
		id: "PYPI_PASSWORD", path: "/root/.config/pip/pip.conf", encoding: "raw", line: 2,
	},
}

// TestRealToolsProofCatchesLeaks runs realProofCases with the real tools
// against the lab's servers.
func TestRealToolsProofCatchesLeaks(t *testing.T) {
	l := needLab(t)
	rl := l.realTools(t)
	for _, tc := range realProofCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, leak := range []bool{true, false} {
				rl.runProofCase(t, tc, leak)
			}
		})
	}
}
