package rewrite

import (
	"path"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// The working directory and HOME of each command of a script.
//
// A RUN starts in its WORKDIR, but its script may move: `cd web && echo
// ... > .npmrc` writes /app/web/.npmrc. trackDirs follows the shell's
// directory through the statements in the order the shell runs them:
// cd, pushd and popd with literal targets (and ~, $HOME, `cd`, `cd -`)
// move it; a subshell, a pipeline's commands, a command substitution and
// a background command move only their own copy. Where the directory
// cannot be told (a cd to a variable or a substitution, branches that end
// in different directories, a loop that moves, a function that moves),
// it is unknown from there on, with the reason: a relative path written
// there is refused, not guessed.
//
// The same goes for HOME: an assignment to HOME in the script changes
// what ~ and $HOME are (and where the tools keep their configuration).

// dirState is the directory (and HOME) at one point of a script.
type dirState struct {
	dir  string // absolute; "" when unknown
	why  string // why dir is unknown
	old  string // OLDPWD, for cd -; "" when unknown or unset
	home string // "" when unknown
	// homeWhy is why home is unknown, when the script made it so.
	homeWhy string
	stack   []string // pushd's directory stack (without the current one)
	stackOK bool     // stack is known
	// viaHome: dir was reached from HOME (cd, cd ~/x, cd "$HOME").
	viaHome bool
	// env are the variables of toolEnvNames the script set: the value
	// of an export of a literal absolute path, "" when the value, or
	// whether the tools see it, is unknown. Never changed in place.
	env map[string]string
}

// withEnv is s with the tool variable name set to v.
func (s dirState) withEnv(name, v string) dirState {
	n := s.copy()
	n.env = map[string]string{}
	for k, x := range s.env {
		n.env[k] = x
	}
	n.env[name] = v
	return n
}

func (s dirState) with(dir, why string) dirState {
	n := s
	n.stack = append([]string(nil), s.stack...)
	if s.dir != "" {
		n.old = s.dir
	} else {
		n.old = ""
	}
	n.dir, n.why, n.viaHome = dir, why, false
	return n
}

func (s dirState) copy() dirState {
	s.stack = append([]string(nil), s.stack...)
	return s
}

// merge is the state after one of two paths: what both agree on.
func merge(a, b dirState) dirState {
	out := a.copy()
	if a.dir != b.dir {
		out.dir = ""
		out.why = firstNonEmpty(a.why, b.why, "the commands before it end in different directories depending on which of them run")
	}
	if a.old != b.old {
		out.old = ""
	}
	if a.home != b.home {
		out.home = ""
		out.homeWhy = firstNonEmpty(a.homeWhy, b.homeWhy, "the commands before it set HOME differently depending on which of them run")
	}
	for k, v := range b.env {
		if w, ok := a.env[k]; !ok || w != v {
			out = out.withEnv(k, "")
		}
	}
	for k := range a.env {
		if _, ok := b.env[k]; !ok {
			out = out.withEnv(k, "")
		}
	}
	if !a.stackOK || !b.stackOK || strings.Join(a.stack, "\x00") != strings.Join(b.stack, "\x00") {
		out.stackOK = false
		out.stack = nil
	}
	return out
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// dirFlow is the directory and HOME of every statement of one script.
type dirFlow struct {
	// at is the index in states of each statement's state: most
	// statements share one, and the map of whole states cost a third
	// of following the directories.
	at     map[*syntax.Stmt]int32
	states []dirState
	first  [2]dirState // states' first array: most scripts have one or two
	// dirs are the directories the script changes into or creates: they
	// exist when the commands after them run.
	dirs map[string]bool
	home string // HOME where the script starts
}

// set records the state a statement runs in.
func (fl *dirFlow) set(s *syntax.Stmt, st dirState) {
	if n := len(fl.states); n == 0 || !sameDirState(fl.states[n-1], st) {
		fl.states = append(fl.states, st)
	}
	fl.at[s] = int32(len(fl.states) - 1)
}

// get is the state a statement runs in.
func (fl *dirFlow) get(s *syntax.Stmt) (dirState, bool) {
	i, ok := fl.at[s]
	if !ok {
		return dirState{}, false
	}
	return fl.states[i], true
}

// sameDirState reports two states equal in every field; a stack or an
// environment is compared only when empty (a state that has one is kept
// on its own).
func sameDirState(a, b dirState) bool {
	return a.dir == b.dir && a.why == b.why && a.old == b.old && a.home == b.home && a.homeWhy == b.homeWhy &&
		a.stackOK == b.stackOK && a.viaHome == b.viaHome &&
		len(a.stack) == 0 && len(b.stack) == 0 && a.stack == nil == (b.stack == nil) &&
		a.env == nil && b.env == nil
}

// dirTracker walks a script.
type dirTracker struct {
	src   string
	bash  bool
	flow  *dirFlow
	funcs map[string]bool // functions whose body moves the directory or sets HOME
}

// trackDirs follows the directory of a script that starts in env.workdir
// (and HOME env.home). bash says whether the shell has pushd and popd.
func trackDirs(f *syntax.File, src string, env shellEnv, bash bool) *dirFlow {
	// dirs and funcs are made on their first entry (addDir, and a
	// function that moves).
	t := &dirTracker{src: src, bash: bash, flow: &dirFlow{at: map[*syntax.Stmt]int32{}, home: env.home}}
	t.flow.states = t.flow.first[:0]
	start := dirState{dir: env.workdir, why: env.why, home: env.home, stackOK: true}
	if start.dir == "" && start.why == "" {
		start.why = "the working directory of the RUN is unknown"
	}
	t.stmts(f.Stmts, start)
	// Statements the walk did not reach (inside arithmetic, parameter
	// expansions, ...) run where their closest enclosing statement runs.
	// On the stack while the tree is shallow (walk's visitor does not
	// escape).
	stack := make([]dirState, 0, 8)
	nodes := make([]syntax.Node, 0, 16)
	walk(f, func(n syntax.Node) bool {
		if n == nil {
			top := nodes[len(nodes)-1]
			nodes = nodes[:len(nodes)-1]
			if _, ok := top.(*syntax.Stmt); ok {
				stack = stack[:len(stack)-1]
			}
			return true
		}
		nodes = append(nodes, n)
		if s, ok := n.(*syntax.Stmt); ok {
			st, seen := t.flow.get(s)
			if !seen {
				if len(stack) > 0 {
					st = stack[len(stack)-1]
				} else {
					st = start
				}
				t.flow.set(s, st)
			}
			stack = append(stack, st)
		}
		return true
	})
	return t.flow
}

func (t *dirTracker) stmts(list []*syntax.Stmt, st dirState) dirState {
	for _, s := range list {
		st = t.stmt(s, st)
	}
	return st
}

// stmt records where s runs and returns the state after it.
func (t *dirTracker) stmt(s *syntax.Stmt, st dirState) dirState {
	return t.result(s, st).after
}

// outcome is the state after a statement: ok when it succeeded (where the
// command after && runs), after in any case (where the command after ; or
// a newline runs). The commands of a script are taken to succeed, as
// their author meant, except the ones that test something (test, [,
// [[ ]], a negation, or a statement made of them), which mayFail:
// `[ -d web ] && cd web; echo > f` may write f in either directory.
type outcome struct {
	ok, after dirState
	mayFail   bool
}

func (t *dirTracker) result(s *syntax.Stmt, st dirState) outcome {
	t.flow.set(s, st)
	if s.Background || s.Coprocess {
		t.inner(s.Cmd, st.copy())
		return outcome{ok: st, after: st}
	}
	if b, ok := s.Cmd.(*syntax.BinaryCmd); ok && (b.Op == syntax.AndStmt || b.Op == syntax.OrStmt) {
		t.cmd(s, nil, st) // the statement's own redirections
		x := t.result(b.X, st)
		if b.Op == syntax.AndStmt {
			y := t.result(b.Y, x.ok)
			out := outcome{ok: y.ok, after: y.after, mayFail: x.mayFail || y.mayFail}
			if x.mayFail {
				out.after = merge(x.after, y.after)
			}
			return out
		}
		// X || Y: Y runs when X failed. A simple command that failed
		// changed nothing (a failed cd does not move); a longer one may
		// have failed half-way.
		start := st
		if _, simple := b.X.Cmd.(*syntax.CallExpr); !simple {
			start = merge(st, x.after)
		}
		y := t.result(b.Y, start)
		if terminates(b.Y) {
			return outcome{ok: x.ok, after: x.after}
		}
		return outcome{ok: merge(x.ok, y.ok), after: merge(x.after, y.after), mayFail: y.mayFail}
	}
	after := t.cmd(s, s.Cmd, st)
	return outcome{ok: after, after: after, mayFail: s.Negated || isCondition(s.Cmd)}
}

// isCondition reports whether a command is a test, which fails as often
// as it succeeds.
func isCondition(c syntax.Command) bool {
	switch x := c.(type) {
	case *syntax.TestClause:
		return true
	case *syntax.CallExpr:
		if len(x.Args) == 0 {
			return false
		}
		switch x.Args[0].Lit() {
		case "test", "[", "false", "which", "type", "command", "grep", "id", "getent", "ls", "stat":
			return true
		}
	}
	return false
}

// terminates reports whether a statement ends the shell (exit) or the
// function (return), so that nothing after it runs on its path.
func terminates(s *syntax.Stmt) bool {
	switch x := s.Cmd.(type) {
	case *syntax.CallExpr:
		if len(x.Args) > 0 {
			switch x.Args[0].Lit() {
			case "exit", "return":
				return true
			}
		}
	case *syntax.Block:
		return len(x.Stmts) > 0 && terminates(x.Stmts[len(x.Stmts)-1])
	case *syntax.Subshell:
		return false
	}
	return false
}

// inner walks a command that runs in a copy of the shell.
func (t *dirTracker) inner(c syntax.Command, st dirState) {
	if c == nil {
		return
	}
	t.cmd(nil, c, st)
}

// substs walks the command substitutions in the words of a node: each
// runs in a subshell that starts where the command runs.
func (t *dirTracker) substs(n syntax.Node, st dirState) {
	if n == nil {
		return
	}
	walk(n, func(x syntax.Node) bool {
		switch y := x.(type) {
		case *syntax.CmdSubst:
			t.stmts(y.Stmts, st.copy())
			return false
		case *syntax.ProcSubst:
			t.stmts(y.Stmts, st.copy())
			return false
		}
		return true
	})
}

func (t *dirTracker) cmd(s *syntax.Stmt, c syntax.Command, st dirState) dirState {
	if s != nil {
		for _, r := range s.Redirs {
			t.substs(r.Word, st)
			if r.Hdoc != nil {
				t.substs(r.Hdoc, st)
			}
		}
	}
	switch x := c.(type) {
	case nil:
		return st
	case *syntax.CallExpr:
		for _, as := range x.Assigns {
			t.substs(as, st)
		}
		for _, w := range x.Args {
			t.substs(w, st)
		}
		return t.call(x, st)
	case *syntax.BinaryCmd:
		switch x.Op {
		case syntax.Pipe, syntax.PipeAll:
			// Every command of a pipeline runs in a subshell.
			t.stmt(x.X, st.copy())
			t.stmt(x.Y, st.copy())
			return st
		default: // && and ||: result handles them
			return st
		}
	case *syntax.Subshell:
		t.stmts(x.Stmts, st.copy())
		return st
	case *syntax.Block:
		return t.stmts(x.Stmts, st)
	case *syntax.IfClause:
		if len(x.Cond) == 0 {
			return t.stmts(x.Then, st) // else
		}
		cond := t.stmts(x.Cond, st)
		then := t.stmts(x.Then, cond)
		if x.Else == nil {
			return merge(then, cond)
		}
		return merge(then, t.cmd(nil, x.Else, cond))
	case *syntax.WhileClause:
		return t.loop(st, func(in dirState) dirState {
			c := t.stmts(x.Cond, in)
			return t.stmts(x.Do, c)
		})
	case *syntax.ForClause:
		t.substs(x.Loop, st)
		return t.loop(st, func(in dirState) dirState { return t.stmts(x.Do, in) })
	case *syntax.CaseClause:
		t.substs(x.Word, st)
		out := st
		for _, it := range x.Items {
			out = merge(out, t.stmts(it.Stmts, st))
		}
		return out
	case *syntax.FuncDecl:
		// The body runs where the function is called, which may be
		// anywhere: its relative paths are unknown.
		body := st.copy()
		body.dir, body.why = "", "it is in the function "+x.Name.Value+", which may be called from any directory"
		body.old = ""
		t.stmt(x.Body, body)
		if movesDir(x.Body, t.funcs) {
			if t.funcs == nil {
				t.funcs = map[string]bool{}
			}
			t.funcs[x.Name.Value] = true
		}
		return st
	case *syntax.DeclClause:
		for _, as := range x.Args {
			t.substs(as, st)
		}
		if x.Variant.Value == "export" || x.Variant.Value == "declare" || x.Variant.Value == "typeset" || x.Variant.Value == "readonly" {
			for _, as := range x.Args {
				st = t.assign(as, st)
				st = t.assignTool(as, st, x.Variant.Value == "export")
			}
		}
		if x.Variant.Value == "local" {
			for _, as := range x.Args {
				if as.Name != nil && as.Name.Value == "HOME" {
					st.home, st.homeWhy = "", "local HOME changes it"
				}
				st = t.assignTool(as, st, false)
			}
		}
		return st
	case *syntax.TimeClause:
		if x.Stmt != nil {
			return t.stmt(x.Stmt, st)
		}
		return st
	default:
		// Arithmetic, [[ ]], let: no directory change; their
		// substitutions run in subshells.
		t.substs(c, st)
		return st
	}
}

// loop walks a loop's body: when one pass ends where it started, that is
// where every pass runs; otherwise nothing in it (or after it) is known.
func (t *dirTracker) loop(st dirState, body func(dirState) dirState) dirState {
	after := body(st)
	if after.dir == st.dir && after.home == st.home && after.old == st.old {
		return after
	}
	unknown := st.copy()
	unknown.dir, unknown.why, unknown.old = "", "a loop before it changes directory", ""
	if after.home != st.home {
		unknown.home, unknown.homeWhy = "", "a loop before it sets HOME"
	}
	unknown.stackOK, unknown.stack = false, nil
	return body(unknown)
}

// assign applies a shell variable assignment to the state: only HOME
// matters.
func (t *dirTracker) assign(as *syntax.Assign, st dirState) dirState {
	if as == nil || as.Name == nil || as.Name.Value != "HOME" {
		return st
	}
	st = st.copy()
	if as.Value == nil {
		st.home, st.homeWhy = "", "the script sets HOME to nothing"
		return st
	}
	if p, glob, ok := wordPath(as.Value, shellEnv{home: st.home}); ok && !glob && path.IsAbs(p) {
		st.home, st.homeWhy = path.Clean(p), ""
		return st
	}
	st.home, st.homeWhy = "", "the script sets HOME to "+nodeText(t.src, as.Value)+", which is not a literal path"
	return st
}

// assignTool applies an assignment to a variable that moves a tool's
// files (toolEnvNames): an export of a literal absolute path is followed;
// any other (a value not literal, an assignment that may or may not be
// exported) makes the variable unknown, and the tool writes that depend
// on it are refused.
func (t *dirTracker) assignTool(as *syntax.Assign, st dirState, export bool) dirState {
	if as == nil || as.Name == nil || !isToolEnvName(as.Name.Value) {
		return st
	}
	if export && as.Value != nil && !as.Naked {
		if p, glob, ok := wordPath(as.Value, shellEnv{home: st.home}); ok && !glob && path.IsAbs(p) {
			return st.withEnv(as.Name.Value, path.Clean(p))
		}
	}
	return st.withEnv(as.Name.Value, "")
}

// isToolEnvName reports whether name is one of toolEnvNames.
func isToolEnvName(name string) bool {
	return toolEnvNameSet[name]
}

// toolEnvNameSet is toolEnvNames as a set.
var toolEnvNameSet = func() map[string]bool {
	m := make(map[string]bool, len(toolEnvNames))
	for _, n := range toolEnvNames {
		m[n] = true
	}
	return m
}()

// call applies cd, pushd, popd and HOME= to the state.
func (t *dirTracker) call(c *syntax.CallExpr, st dirState) dirState {
	if len(c.Args) == 0 {
		for _, as := range c.Assigns {
			st = t.assign(as, st)
			st = t.assignTool(as, st, false)
		}
		return st
	}
	name := c.Args[0].Lit()
	args := c.Args[1:]
	// builtin cd, command cd
	for (name == "builtin" || name == "command") && len(args) > 0 {
		name, args = args[0].Lit(), args[1:]
	}
	if t.funcs[name] {
		n := st.copy()
		n.dir, n.why, n.old = "", "the function "+name+" changes directory", ""
		n.home, n.homeWhy = "", "the function "+name+" may set HOME"
		n.stackOK, n.stack = false, nil
		return n
	}
	switch name {
	case "unset":
		for _, a := range args {
			if isToolEnvName(a.Lit()) {
				st = st.withEnv(a.Lit(), "")
			}
		}
	case "eval":
		// eval runs its script in this shell: a cd in it moves it.
		text, _ := scriptText(t.src, args)
		if f, err := parseShell(text); err != nil || movesDir(f, t.funcs) {
			n := st.with("", "eval runs a script that may change directory or HOME")
			n.home, n.homeWhy = "", "eval runs a script that may set HOME"
			n.stackOK, n.stack = false, nil
			return n
		}
	case "cd", "chdir":
		return t.cd(args, st, "cd")
	case "pushd":
		if !t.bash {
			return st.with("", "pushd is not a command of every /bin/sh (dash and busybox have none), so where it leaves the shell is unknown; use cd, or SHELL [\"/bin/bash\", \"-c\"]")
		}
		var rest []*syntax.Word
		for _, a := range args {
			if l := a.Lit(); l == "-n" {
				return st // -n: only the stack changes
			}
			rest = append(rest, a)
		}
		if len(rest) == 0 || strings.HasPrefix(rest[0].Lit(), "+") || strings.HasPrefix(rest[0].Lit(), "-") {
			n := st.with("", "pushd without a directory rotates the directory stack, which hushbuild does not follow")
			n.stackOK, n.stack = false, nil
			return n
		}
		before := st.dir
		n := t.cd(rest[:1], st, "pushd")
		if st.stackOK && before != "" {
			n.stack = append([]string{before}, n.stack...)
		} else {
			n.stackOK, n.stack = false, nil
		}
		return n
	case "popd":
		if !t.bash {
			return st.with("", "popd is not a command of every /bin/sh (dash and busybox have none), so where it leaves the shell is unknown; use cd, or SHELL [\"/bin/bash\", \"-c\"]")
		}
		if len(args) > 0 || !st.stackOK || len(st.stack) == 0 {
			n := st.with("", "popd goes back to a directory hushbuild could not follow")
			n.stackOK, n.stack = false, nil
			return n
		}
		n := st.with(st.stack[0], "")
		n.stack = n.stack[1:]
		return n
	case "mkdir":
		for _, a := range args {
			if p, glob, ok := wordPath(a, shellEnv{workdir: st.dir, home: st.home}); ok && !glob && !strings.HasPrefix(p, "-") {
				if p = absPath(p, shellEnv{workdir: st.dir}); path.IsAbs(p) {
					t.addDir(p)
				}
			}
		}
	}
	return st
}

// cd applies cd ARGS (or pushd DIR).
func (t *dirTracker) cd(args []*syntax.Word, st dirState, cmd string) dirState {
	// Options: -L, -P, -e, -@.
	for len(args) > 0 {
		l := args[0].Lit()
		if l == "--" {
			args = args[1:]
			break
		}
		if len(l) > 1 && strings.HasPrefix(l, "-") && strings.Trim(l[1:], "LPe@") == "" {
			args = args[1:]
			continue
		}
		break
	}
	if len(args) == 0 {
		if st.home == "" {
			return st.with("", firstNonEmpty(st.homeWhy, "cd without a directory goes to HOME, which is unknown here"))
		}
		n := t.moved(st, st.home)
		n.viaHome = true
		return n
	}
	if len(args) > 1 {
		return st.with("", cmd+" with more than one argument")
	}
	w := args[0]
	if w.Lit() == "-" && cmd == "cd" {
		if st.old == "" {
			return st.with("", "cd - goes back to a directory hushbuild could not follow")
		}
		return t.moved(st, st.old)
	}
	p, glob, ok := wordPath(w, shellEnv{home: st.home})
	if !ok || glob {
		return st.with("", cmd+" "+nodeText(t.src, w)+" goes to a directory that is not a literal path")
	}
	viaHome := usesHome(w)
	if !path.IsAbs(p) {
		if st.dir == "" {
			return st.with("", firstNonEmpty(st.why, "the working directory is unknown"))
		}
		p = path.Join(st.dir, p)
		viaHome = st.viaHome
	}
	n := t.moved(st, path.Clean(p))
	n.viaHome = viaHome
	return n
}

// addDir records a directory the script changes into or creates.
func (t *dirTracker) addDir(dir string) {
	if t.flow.dirs == nil {
		t.flow.dirs = map[string]bool{}
	}
	t.flow.dirs[dir] = true
}

func (t *dirTracker) moved(st dirState, dir string) dirState {
	t.addDir(dir)
	return st.with(dir, "")
}

// at is the environment a statement of the script runs in.
func (e shellEnv) at(s *syntax.Stmt) shellEnv {
	if e.dirs == nil || s == nil {
		return e
	}
	st, ok := e.dirs.get(s)
	if !ok {
		return e
	}
	out := e
	out.workdir, out.why, out.dirViaHome = st.dir, st.why, st.viaHome
	out.home, out.homeWhy = st.home, st.homeWhy
	out.homeAssumed = e.homeAssumed && st.home == e.dirs.home
	if len(st.env) > 0 {
		out.toolEnv = map[string]string{}
		for k, v := range e.toolEnv {
			out.toolEnv[k] = v
		}
		for k, v := range st.env {
			out.toolEnv[k] = v
		}
		out.scriptEnv = st.env
	}
	return out
}

// withDirs is env with the directories of f's statements.
func (e shellEnv) withDirs(f *syntax.File, src string, shell []string) shellEnv {
	bash := len(shell) > 0 && path.Base(shell[0]) == "bash"
	e.dirs = trackDirs(f, src, e, bash)
	return e
}

// isDir reports whether the script (or the Dockerfile) makes p a
// directory before it is used.
func (e shellEnv) isDir(p string) bool {
	if p == e.home || e.dirs != nil && e.dirs.dirs[p] || isKnownDir(p) {
		return true
	}
	return false
}

// unknownDir is the problem (and its fix) of a relative path written
// where the directory is unknown.
func unknownDir(env shellEnv) (problem, fix string) {
	if env.why == "" {
		return "the file it writes is relative to an unknown directory", "set WORKDIR, or write the file by its absolute path"
	}
	return "the file it writes is relative to a directory hushbuild cannot tell: " + env.why,
		"cd to a literal directory (cd /app/web), or write the file by its absolute path"
}

// unknownHome is the problem (and its fix) of a file under an unknown
// HOME.
func unknownHome(env shellEnv) (problem, fix string) {
	if env.homeWhy != "" {
		return "the home directory it writes under is unknown: " + env.homeWhy, "write the file by its absolute path, or set HOME to a literal path"
	}
	return "the home directory of the user is unknown", "set ENV HOME=/home/USER (the user's home) before this RUN, or write the file by its absolute path"
}

// usesHome reports whether a word starts with ~ or names $HOME.
func usesHome(w *syntax.Word) bool {
	if w == nil || len(w.Parts) == 0 {
		return false
	}
	if l, ok := w.Parts[0].(*syntax.Lit); ok && (l.Value == "~" || strings.HasPrefix(l.Value, "~/")) {
		return true
	}
	found := false
	walk(w, func(n syntax.Node) bool {
		if p, ok := n.(*syntax.ParamExp); ok && isPlainHome(p) {
			found = true
		}
		return !found
	})
	return found
}

// movesDir reports whether a command may change the shell's directory or
// HOME: it runs cd, pushd, popd or one of funcs, or assigns HOME.
func movesDir(n syntax.Node, funcs map[string]bool) bool {
	found := false
	walk(n, func(x syntax.Node) bool {
		switch y := x.(type) {
		case *syntax.CallExpr:
			for _, a := range y.Args {
				switch a.Lit() {
				case "cd", "chdir", "pushd", "popd":
					found = true
				}
				if funcs[a.Lit()] {
					found = true
				}
			}
		case *syntax.Assign:
			if y.Name != nil && y.Name.Value == "HOME" {
				found = true
			}
		}
		return !found
	})
	return found
}
