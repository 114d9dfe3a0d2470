package rewrite

import (
	"path"
	"sort"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// varKind says where a secret variable comes from.
type varKind int

const (
	fromArg varKind = iota
	fromEnv
)

// secretVar is a variable that RUN commands see and that holds a secret.
type secretVar struct {
	name     string // the variable the commands read
	id       string // the secret id that supplies it; "" for derived values
	kind     varKind
	line     int     // the ARG or ENV that declared it
	required bool    // no default: the build stops without the secret
	def      *string // default value, kept with a shell prelude
	expr     string  // derived: the raw Dockerfile word, evaluated in the RUN
	deps     []*secretVar
	uses     []int // RUN lines that got it
	rule     Rule
	sshKey   bool // a private key that commands wrote to a key file
}

// fileSecret is a credential file that lives on a secret mount.
type fileSecret struct {
	id     string // context path
	target string // absolute, or relative to an unknown workdir
	line   int
	uid    *int
	gid    *int
	mode   *int
	uses   []int
	ended  int // line of the RUN that deleted it, 0 while alive
	rule   Rule
	copied bool // came from a COPY (not a broad copy)
	// context marks a credential file of the build context that a broad
	// copy would have brought in (Config.ContextFiles): it reaches the
	// RUNs as a bind mount from the context, not as a secret.
	context bool
	// copyFrom is the RUN from which on commands change the file: it is
	// mounted at /run/secrets/ID and copied to target (see copyMode).
	copyFrom int
	// movedFrom is the path a cp, mv or install took the file from.
	movedFrom string
	// owner is the --chown of the COPY when it names a user, which a
	// mount cannot carry.
	owner string
	// dir marks a credential directory of the build context (.ssh).
	dir bool
	// toolLoc marks a file copied to where the stage's environment
	// moves a build tool's credential file (toolEnvFile).
	toolLoc bool
}

// mountPath is where the secret is mounted: the file's own path, or the
// default secret path once commands change the file.
func (f *fileSecret) mountPath() string {
	if f.copyFrom != 0 {
		return "/run/secrets/" + f.id
	}
	return f.target
}

// broadCopy is a COPY/ADD of a whole context directory.
type broadCopy struct {
	node     *parser.Node
	excludes []string
	srcDir   string // context directory, cleaned ("." for the root)
	destAbs  string // absolute, or relative to an unknown workdir
}

// patternCopy is a COPY of the build context's files matching a pattern
// in one directory (COPY ci/*.sh /app/) into a directory.
type patternCopy struct {
	srcDir  string // context directory of the pattern, cleaned
	glob    string // the pattern of the file names
	destAbs string // the absolute directory the files land in
}

// stageState is what the analysis knows while walking a stage.
type stageState struct {
	index   int
	name    string
	workdir string // absolute or "" when unknown (base image's)
	user    string
	// imageUnknown: the base image's defaults (user, HOME, environment)
	// were not resolved (the CLI): root's /root is assumed, and checked.
	imageUnknown bool
	shell        []string
	vars         map[string]string // Dockerfile-level values, for expansion
	declared     map[string]bool   // names visible to commands (ARG in stage, ENV)
	secrets      []*secretVar      // secret variables in scope, in order
	files        []*fileSecret     // credential files on mounts
	broad        []*broadCopy
	reaches      stageReach
	keys         []*sshKey     // private keys now on the ssh mount
	git          []*gitSetting // git settings now in the environment
	gen          []*genFile    // files commands write secrets into
	// copied are the files of the build context copied by name that are
	// no credential files, by their target: a RUN that sources one reads
	// variables from it (sourcedCopy).
	copied map[string]copiedFile
	// patterns are the copies of files by a pattern: a RUN that sources
	// a file they may have brought reads variables from it.
	patterns []patternCopy
	// copiedFrom: a COPY --from brought files of another stage or
	// context, which may be files that stage copied from the build
	// context (otherStageSources).
	copiedFrom bool
}

// fromImage starts a stage with the defaults of its base image, where
// they are known: its user, its environment (HOME above all) and its
// working directory.
func (st *stageState) fromImage(images map[string]ImageDefaults, base string) {
	d, ok := images[base]
	if !ok {
		st.imageUnknown = strings.ToLower(base) != "scratch"
		return
	}
	st.user = d.User
	st.workdir = "/"
	if path.IsAbs(d.WorkingDir) {
		st.workdir = path.Clean(d.WorkingDir)
	}
	for _, kv := range d.Env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			continue
		}
		st.vars[k] = v
		st.vars["\x00env:"+k] = ""
		st.declared[k] = true
	}
}

func (st *stageState) clone() *stageState {
	c := &stageState{
		workdir:      st.workdir,
		user:         st.user,
		imageUnknown: st.imageUnknown,
		shell:        append([]string(nil), st.shell...),
		vars:         map[string]string{},
		declared:     map[string]bool{},
	}
	return c
}

func (st *stageState) lookupSecret(name string) *secretVar {
	for i := len(st.secrets) - 1; i >= 0; i-- {
		if st.secrets[i].name == name {
			return st.secrets[i]
		}
	}
	return nil
}

func (st *stageState) dropSecret(name string) {
	out := st.secrets[:0]
	for _, v := range st.secrets {
		if v.name != name {
			out = append(out, v)
		}
	}
	st.secrets = out
}

// homeDir is the home directory of the stage's user: HOME from ENV or the
// base image's environment, /root for root, or, for a named user, the
// conventional /home/USER, assumed (the image's /etc/passwd is not read):
// the RUNs that rely on it check $HOME first (homeGuard).
func (st *stageState) homeDir() (home string, assumed bool) {
	if h := st.home(); h != "" {
		// No USER, no HOME and a base image not resolved: root is
		// assumed, and the image may run as a user of its own.
		return h, st.user == "" && st.imageUnknown && h == "/root"
	}
	u := st.user
	if i := strings.IndexByte(u, ':'); i >= 0 {
		u = u[:i]
	}
	if isUserName(u) {
		return "/home/" + u, true
	}
	return "", false
}

// isUserName reports whether u is a user name (not a uid, not a variable).
func isUserName(u string) bool {
	if u == "" || u == "root" || u[0] == '-' || u[0] >= '0' && u[0] <= '9' {
		return false
	}
	for _, c := range u {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return u != "." && u != ".."
}

// shellEnv is what the paths of the stage's RUNs resolve against.
func (st *stageState) shellEnv() shellEnv {
	home, assumed := st.homeDir()
	env := shellEnv{workdir: st.workdir, home: home, homeAssumed: assumed, toolEnv: st.toolEnv(), imageUnknown: st.imageUnknown, user: st.user}
	// ENV BASH_ENV=/app/ci/vars.sh (or an ARG of that name): every shell
	// of a RUN sources it.
	for k := range startupVars {
		if v, ok := st.vars[k]; ok && v != "" {
			env.startup = append(env.startup, v)
		} else if _, set := st.vars["\x00env:"+k]; set && !ok {
			env.startupUnknown = true
		}
	}
	sort.Strings(env.startup)
	return env
}

func (st *stageState) home() string {
	u := st.user
	if i := strings.IndexByte(u, ':'); i >= 0 {
		u = u[:i]
	}
	if u == "" || u == "root" || u == "0" {
		if _, ok := st.vars["HOME"]; !ok {
			return "/root"
		}
	}
	if h, ok := st.vars["HOME"]; ok && path.IsAbs(h) {
		return h
	}
	return ""
}

// envGetter adapts a map for BuildKit's shell lexer.
type envGetter map[string]string

func (e envGetter) Get(k string) (string, bool) { v, ok := e[k]; return v, ok }

func (e envGetter) Keys() []string {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (st *stageState) genFile(p string) *genFile {
	for _, g := range st.gen {
		if g.path == p && g.ended == 0 {
			return g
		}
	}
	return nil
}

// toolEnv are the variables of toolEnvNames a stage sets, with their
// values ("" when the value is not known); nil when it sets none, as in
// most stages.
func (st *stageState) toolEnv() map[string]string {
	var m map[string]string
	if len(st.vars) < len(toolEnvNames) {
		// The same, from the stage's variables (most stages have fewer
		// than there are names).
		for k, v := range st.vars {
			if toolEnvNameSet[k] {
				if m == nil {
					m = map[string]string{}
				}
				m[k] = v
			}
		}
		return m
	}
	for _, k := range toolEnvNames {
		if v, ok := st.vars[k]; ok {
			if m == nil {
				m = map[string]string{}
			}
			m[k] = v
		}
	}
	return m
}
