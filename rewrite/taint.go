package rewrite

import (
	"errors"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// Taint: which words of a script carry a secret without naming it with a
// literal $NAME. A secret reaches a word through
//
//   - a variable assigned from one (T="$TOKEN", export T=..., local T=...),
//   - a command substitution that reads a secret file: $(cat
//     /run/secrets/npm), $(< /run/secrets/npm), $(base64 ~/.netrc) of a
//     file on a secret mount, and anything under /run/secrets,
//   - the read builtin fed from a secret file, a heredoc, a here-string
//     or a pipe that carries one (read -r T < /run/secrets/npm),
//   - a for loop over words that carry one (for t in "$TOKEN"),
//   - the arguments of a function called with one (w "$TOKEN" makes $1,
//     $@ and $* of w's body carry it).
//
// The names map that the flow analysis uses holds the tainted variables
// and, as keys starting with "/", "~", "$" or a path, the spellings of the
// secret files (pathKeys); positional parameters are keyed by the body of
// the function they are tainted in (posKey).

// taintInfo is what the taint pass learns about a script.
type taintInfo struct {
	names map[string]bool
	// defs are the statements that set each derived variable.
	defs map[string][]*syntax.Stmt
	// opaque says why a derived variable cannot be set again at the start
	// of a later RUN (a loop variable, a function argument, read in a
	// loop, a command substitution that runs more than a read).
	opaque map[string]string
}

// pathKeys appends to out the spellings of a secret file's path in a
// script.
func pathKeys(out []string, p string, env shellEnv) []string {
	out = append(out, p)
	if env.home != "" && strings.HasPrefix(p, env.home+"/") {
		rel := strings.TrimPrefix(p, env.home+"/")
		out = append(out, "~/"+rel, "$HOME/"+rel)
	}
	if env.workdir != "" && strings.HasPrefix(p, strings.TrimSuffix(env.workdir, "/")+"/") {
		rel := strings.TrimPrefix(p, strings.TrimSuffix(env.workdir, "/")+"/")
		out = append(out, rel, "./"+rel)
	}
	return out
}

// pathKeyOf spells a word the way pathKeys does, when it is made only of
// literals, quotes and $HOME.
func pathKeyOf(w *syntax.Word) (string, bool) {
	var b strings.Builder
	for _, part := range w.Parts {
		switch x := part.(type) {
		case *syntax.Lit:
			b.WriteString(strings.ReplaceAll(x.Value, `\`, ""))
		case *syntax.SglQuoted:
			b.WriteString(x.Value)
		case *syntax.DblQuoted:
			for _, dp := range x.Parts {
				switch y := dp.(type) {
				case *syntax.Lit:
					b.WriteString(y.Value)
				case *syntax.ParamExp:
					if !isPlainHome(y) {
						return "", false
					}
					b.WriteString("$HOME")
				default:
					return "", false
				}
			}
		case *syntax.ParamExp:
			if !isPlainHome(x) {
				return "", false
			}
			b.WriteString("$HOME")
		default:
			return "", false
		}
	}
	return b.String(), true
}

// secretPathWord reports the spelling of a word that names a secret file:
// one of the keys in names, or a path under /run/secrets.
func secretPathWord(w *syntax.Word, names map[string]bool) (string, bool) {
	if w == nil {
		return "", false
	}
	k, ok := pathKeyOf(w)
	if !ok || k == "" {
		return "", false
	}
	if names[k] && isPathKey(k) {
		return k, true
	}
	if c := path.Clean(k); strings.HasPrefix(c, "/run/secrets/") {
		return c, true
	}
	return "", false
}

// isPathKey tells the path keys of a names map from variable names.
func isPathKey(k string) bool {
	return k != "" && !isShellName(k) && !isPositional(k) && !strings.HasPrefix(k, posPrefix)
}

func isPositional(name string) bool {
	if name == "@" || name == "*" {
		return true
	}
	// Most names start with a letter, which Atoi refuses (allocating
	// its error).
	if name == "" || name[0] != '+' && name[0] != '-' && (name[0] < '0' || name[0] > '9') {
		return false
	}
	_, err := strconv.Atoi(name)
	return err == nil && name != "0"
}

// posPrefix marks the keys of a names map that taint the positional
// parameters inside one function body: posPrefix + "start:end" offsets.
const posPrefix = "\x00pos:"

func posKey(n syntax.Node) string {
	return posPrefix + strconv.Itoa(int(n.Pos().Offset())) + ":" + strconv.Itoa(int(n.End().Offset()))
}

// positionalTainted reports whether a positional parameter at offset off
// lies in a function body that a call with a secret argument runs.
func positionalTainted(names map[string]bool, off uint) bool {
	for k := range names {
		if !strings.HasPrefix(k, posPrefix) {
			continue
		}
		a, b, _ := strings.Cut(strings.TrimPrefix(k, posPrefix), ":")
		s, _ := strconv.Atoi(a)
		e, _ := strconv.Atoi(b)
		if int(off) >= s && int(off) < e {
			return true
		}
	}
	return false
}

// substReads lists the secret files that the commands of a node read:
// their arguments and input redirections.
func substReads(n syntax.Node, names map[string]bool) []string {
	var out []string
	walk(n, func(x syntax.Node) bool {
		switch y := x.(type) {
		case *syntax.CallExpr:
			for _, a := range y.Args {
				if k, ok := secretPathWord(a, names); ok {
					out = append(out, k)
				}
			}
		case *syntax.Redirect:
			if y.Op == syntax.RdrIn || y.Op == syntax.RdrInOut {
				if k, ok := secretPathWord(y.Word, names); ok {
					out = append(out, k)
				}
			}
		}
		return true
	})
	return out
}

// readBuiltins read a line (or lines) of their input into variables.
var readBuiltins = map[string]bool{"read": true, "mapfile": true, "readarray": true}

// readVars are the variables a read, mapfile or readarray call sets.
func readVars(c *syntax.CallExpr) []string {
	name := c.Args[0].Lit()
	var out []string
	valueFlags := "dinNptu"
	if name != "read" {
		valueFlags = "dnOstuC"
	}
	skip := false
	for _, a := range c.Args[1:] {
		lit := a.Lit()
		switch {
		case skip:
			skip = false
		case strings.HasPrefix(lit, "-") && len(lit) > 1:
			if lit == "-a" && name == "read" {
				continue // the next word is the array: a variable all the same
			}
			last := lit[len(lit)-1:]
			if strings.Contains(valueFlags, last) {
				skip = true
			}
		case isShellName(lit):
			out = append(out, lit)
		}
	}
	if len(out) == 0 {
		if name == "read" {
			out = append(out, "REPLY")
		} else {
			out = append(out, "MAPFILE")
		}
	}
	return out
}

// stmtFeedsSecret reports whether a statement's input carries a secret:
// an input redirection from a secret file, a heredoc or here-string that
// expands one.
func stmtFeedsSecret(s *syntax.Stmt, names map[string]bool) bool {
	for _, r := range s.Redirs {
		switch {
		case r.Op == syntax.RdrIn || r.Op == syntax.RdrInOut:
			if _, ok := secretPathWord(r.Word, names); ok {
				return true
			}
			if len(wordVars(r.Word, names)) > 0 {
				return true
			}
		case r.Hdoc != nil && len(wordVars(r.Hdoc, names)) > 0:
			return true
		case r.Op == syntax.WordHdoc && len(wordVars(r.Word, names)) > 0:
			return true
		}
	}
	return false
}

// replaySafeCommands only read: a substitution made of them can run again
// at the start of a later RUN.
var replaySafeCommands = map[string]bool{
	"cat": true, "head": true, "tail": true, "tr": true, "base64": true, "cut": true, "jq": true,
	"printf": true, "echo": true, "grep": true, "awk": true, "sed": true, "xargs": false,
}

// replaySafe reports why a defining statement cannot run again, or "".
func replaySafe(n syntax.Node) string {
	why := ""
	walk(n, func(x syntax.Node) bool {
		if why != "" {
			return false
		}
		switch y := x.(type) {
		case *syntax.CmdSubst:
			for _, s := range y.Stmts {
				walk(s, func(z syntax.Node) bool {
					if c, ok := z.(*syntax.CallExpr); ok && len(c.Args) > 0 {
						name := path.Base(c.Args[0].Lit())
						if !replaySafeCommands[name] {
							why = "a command substitution that runs " + strconv.Quote(name)
						}
						for _, a := range c.Args[1:] {
							if l := a.Lit(); name == "sed" && strings.HasPrefix(l, "-") && strings.Contains(l, "i") {
								why = "a command substitution that runs sed -i"
							}
						}
					}
					if r, ok := z.(*syntax.Redirect); ok && writesOut(r) {
						why = "a command substitution that writes a file"
					}
					return why == ""
				})
			}
		case *syntax.ProcSubst:
			why = "a process substitution"
		}
		return why == ""
	})
	return why
}

// taintScript finds the variables of a script that hold a secret, from
// the secret variables in names and the secret files in paths.
func taintScript(f *syntax.File, names map[string]bool, env shellEnv, paths []string) *taintInfo {
	// defs and opaque are made on their first entry: most scripts set no
	// variable from a secret.
	t := &taintInfo{names: make(map[string]bool, len(names))}
	for n := range names {
		t.names[n] = true
	}
	var keys []string
	for _, p := range paths {
		keys = pathKeys(keys, p, env)
	}
	for _, k := range keys {
		t.names[k] = true
	}
	if len(t.names) == 0 {
		// No secret in sight (a RUN hushbuild rewrote already).
		return t
	}
	// The names the script starts with: names and the paths' keys.
	root := func(name string) bool { return names[name] || slices.Contains(keys, name) }
	var funcs map[string]*syntax.FuncDecl
	walk(f, func(n syntax.Node) bool {
		if fd, ok := n.(*syntax.FuncDecl); ok && fd.Name != nil {
			if funcs == nil {
				funcs = map[string]*syntax.FuncDecl{}
			}
			funcs[fd.Name.Value] = fd
		}
		return true
	})
	carries := func(n syntax.Node) bool { return n != nil && len(wordVars(n, t.names)) > 0 }
	type def struct {
		s    *syntax.Stmt
		name string
	}
	var seenDef map[def]bool
	addDef := func(name string, s *syntax.Stmt, opaque string) bool {
		if root(name) {
			return false
		}
		changed := !t.names[name]
		t.names[name] = true
		if s != nil && !seenDef[def{s, name}] {
			if seenDef == nil {
				seenDef = map[def]bool{}
			}
			if t.defs == nil {
				t.defs = map[string][]*syntax.Stmt{}
			}
			seenDef[def{s, name}] = true
			t.defs[name] = append(t.defs[name], s)
			changed = true
		}
		if opaque != "" && t.opaque[name] == "" {
			if t.opaque == nil {
				t.opaque = map[string]string{}
			}
			t.opaque[name] = opaque
			changed = true
		}
		return changed
	}
	for changed := true; changed; {
		changed = false
		stack := make([]syntax.Node, 0, 16) // on the stack while the tree is shallow
		visit := func(n syntax.Node) {
			// The statement that holds n, and whether that statement is a
			// plain step of the script (not in a loop, function, pipe,
			// subshell or condition), so that it can run again.
			stmt := func() (*syntax.Stmt, string) {
				var s *syntax.Stmt
				i := len(stack) - 1
				for ; i >= 0; i-- {
					if x, ok := stack[i].(*syntax.Stmt); ok {
						s = x
						break
					}
				}
				for j := i - 1; j >= 0; j-- {
					switch x := stack[j].(type) {
					case *syntax.Stmt, *syntax.File:
					case *syntax.BinaryCmd:
						if x.Op == syntax.Pipe || x.Op == syntax.PipeAll {
							return s, "a variable set in a pipeline"
						}
					case *syntax.ForClause, *syntax.WhileClause:
						return s, "a variable set in a loop"
					case *syntax.FuncDecl:
						return s, "a variable set in a function"
					case *syntax.CmdSubst, *syntax.ProcSubst, *syntax.Subshell:
						return s, "a variable set in a subshell"
					default:
						return s, "a variable set inside a compound command"
					}
				}
				return s, ""
			}
			switch x := n.(type) {
			case *syntax.Assign:
				if x.Name == nil {
					return
				}
				var val syntax.Node
				if x.Value != nil {
					val = x.Value
				} else if x.Array != nil {
					val = x.Array
				}
				if val == nil || !carries(val) && len(substReads(val, t.names)) == 0 {
					return
				}
				s, why := stmt()
				if why == "" {
					if c, ok := s.Cmd.(*syntax.CallExpr); ok && len(c.Args) > 0 {
						why = "a variable set for one command"
					}
					if w := replaySafe(val); w != "" && why == "" {
						why = w
					}
				}
				if addDef(x.Name.Value, s, why) {
					changed = true
				}
			case *syntax.ForClause:
				wi, ok := x.Loop.(*syntax.WordIter)
				if !ok || wi.Name == nil {
					return
				}
				for _, it := range wi.Items {
					if carries(it) || len(substReads(it, t.names)) > 0 {
						if addDef(wi.Name.Value, nil, "a loop variable") {
							changed = true
						}
						break
					}
				}
			case *syntax.CallExpr:
				if len(x.Args) == 0 {
					return
				}
				name := x.Args[0].Lit()
				if readBuiltins[name] {
					fed := false
					for i := len(stack) - 1; i >= 0 && !fed; i-- {
						switch y := stack[i].(type) {
						case *syntax.Stmt:
							fed = stmtFeedsSecret(y, t.names)
						case *syntax.BinaryCmd:
							if (y.Op == syntax.Pipe || y.Op == syntax.PipeAll) && (carries(y.X) || len(substReads(y.X, t.names)) > 0) {
								fed = true
							}
						}
					}
					if fed {
						s, why := stmt()
						for _, v := range readVars(x) {
							if addDef(v, s, why) {
								changed = true
							}
						}
					}
				}
				if fd := funcs[name]; fd != nil {
					for _, a := range x.Args[1:] {
						if carries(a) || len(substReads(a, t.names)) > 0 {
							k := posKey(fd.Body)
							if !t.names[k] {
								t.names[k] = true
								changed = true
							}
							break
						}
					}
				}
			}
		}
		walk(f, func(n syntax.Node) bool {
			if n == nil {
				stack = stack[:len(stack)-1]
				return true
			}
			visit(n)
			stack = append(stack, n)
			return true
		})
	}
	return t
}

// derived are the variables of a flow that the script itself set.
func (t *taintInfo) derived(vars []string) []string {
	var out []string
	for _, v := range vars {
		if _, ok := t.defs[v]; ok || t.opaque[v] != "" || isPositional(v) {
			out = append(out, v)
		}
	}
	return out
}

// replayDefs gives the statements, in order, that set the derived
// variables of a flow (and those their values use), or why they cannot
// run again at the start of a later RUN.
func (t *taintInfo) replayDefs(src string, vars []string) ([]string, string) {
	seen := map[string]bool{}
	stmts := map[*syntax.Stmt]bool{}
	var why string
	var visit func(v string)
	visit = func(v string) {
		if seen[v] || why != "" {
			return
		}
		seen[v] = true
		if isPositional(v) {
			why = "a function argument"
			return
		}
		if t.opaque[v] != "" {
			why = t.opaque[v] + " (" + v + ")"
			return
		}
		for _, s := range t.defs[v] {
			if s == nil {
				why = "a variable hushbuild cannot set again (" + v + ")"
				return
			}
			stmts[s] = true
			for _, d := range t.derived(wordVars(s, t.names)) {
				visit(d)
			}
		}
	}
	for _, v := range t.derived(vars) {
		visit(v)
	}
	if why != "" {
		return nil, why
	}
	list := make([]*syntax.Stmt, 0, len(stmts))
	for s := range stmts {
		list = append(list, s)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Pos().Offset() < list[j].Pos().Offset() })
	var out []string
	for _, s := range list {
		out = append(out, stmtText(src, s))
	}
	return out, ""
}

// pipeVars are the secrets the commands of a pipeline's left side put
// into it: the variables they expand and the secret files they read
// (cat /run/secrets/npm | tee ~/.npmrc).
func pipeVars(n syntax.Node, names map[string]bool) []string {
	if len(names) == 0 {
		return nil
	}
	return uniqueStrings(sortedCopy(append(wordVars(n, names), substReads(n, names)...)))
}

func sortedCopy(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	return out
}

// shellNames are the programs that run a POSIX-like shell script.
var shellNames = map[string]bool{"sh": true, "bash": true, "dash": true, "ash": true, "zsh": true, "ksh": true, "mksh": true}

// shellScriptIndex decides whether argv runs a shell on a script given
// with -c, and returns the index of the script: sh -c, bash -lc, sh -ec,
// sh -xec, bash -o pipefail -c, bash --login -c, env VAR=x sh -c,
// /bin/sh -c, timeout 60 sh -c, sudo -u app bash -c (shellCallOf). It is
// the one answer to "is this a shell running a script" for the exec form
// of RUN, nested shells in a command and SHELL.
func shellScriptIndex(argv []string) (int, bool) {
	sc, ok := shellCallOf(argv)
	return sc.script, ok
}

// shellCall is a command that runs a shell script: the shell itself
// (sh -c SCRIPT), or a program that starts it (env, timeout, sudo ...);
// or, when direct, a program that other programs start (timeout 60 npm
// ci, gosu node npm ci).
type shellCall struct {
	script int // the index of the script's word (direct: of the program)
	shell  int // the index of the program that reads it (su's, env's for -S)
	// assigns are the indices of env's (and sudo's) NAME=VALUE words
	// before the shell: variables the script sees.
	assigns []int
	// changes says what the words before the shell change of where and
	// as whom the script runs, that hushbuild does not follow (another
	// user, HOME, directory or root); "" when nothing.
	changes string
	// split: the script's word is a command line env -S splits, not a
	// shell script.
	split bool
	// direct: argv[script:] is a program and its arguments, started by
	// the programs before it, not a shell script.
	direct bool
	// sw is the switch to another user that the script or program runs
	// under (su, sudo, gosu ...: switch.go), which hushbuild follows.
	sw *switchUse
}

// moves reports whether the programs before the script change where or
// as whom it runs: files it names relative to its directory or HOME are
// other files.
func (sc shellCall) moves() bool { return sc.changes != "" || sc.sw != nil }

// neutralWrappers run the command after their options in the same
// directory, as the same user, with the same environment.
var neutralWrappers = map[string]bool{
	"timeout": true, "nice": true, "nohup": true, "stdbuf": true, "setsid": true, "ionice": true, "taskset": true,
	"time": true, "command": true, "exec": true, "busybox": true, "xargs": true, "chrt": true, "builtin": true,
}

// envMoves are the variables that, set for a nested shell, change where
// its files go or what it runs first: HOME, CDPATH, the startup files
// (ENV, BASH_ENV) and the variables that move a tool's files.
func envMoves(name string) bool {
	switch name {
	case "HOME", "CDPATH", "ENV", "BASH_ENV", "SHELLOPTS", "BASHOPTS", "XDG_CONFIG_HOME":
		return true
	}
	return isToolEnvName(name)
}

// shellCallOf reads argv as a command that runs a shell script given
// with -c, directly or through other programs (wrappedCallOf); a program
// that is no shell script is not one.
func shellCallOf(argv []string) (shellCall, bool) {
	sc, ok := wrappedCallOf(argv)
	return sc, ok && !sc.direct
}

// wrappedCallOf reads argv as a command that runs a shell script given
// with -c, or a program, through other programs: env and its assignments
// and options (the assignments' variables reach the script; -i, -u of a
// variable of envMoves, -C and an assignment of one change its
// environment), neutralWrappers with options and plain values between
// (timeout 60, nice -n 5, xargs -I {}), env -S LINE, the programs of
// switchProgs (su -c SCRIPT, sudo -u app sh -c, gosu node npm ci), and
// any other program before a shell (chroot /x sh -c, fakeroot sh -c),
// which changes where or as whom it runs. A program after the others
// that is none of them is the command itself (direct); argv that starts
// with one is no wrapped command.
func wrappedCallOf(argv []string) (shellCall, bool) {
	var sc shellCall
	change := func(why string) {
		if sc.changes == "" {
			sc.changes = why
		}
	}
	i := 0
	for i < len(argv) {
		name := path.Base(argv[i])
		switch {
		case shellNames[name]:
			j, letters := shellOptions(argv, i+1)
			if !strings.ContainsRune(letters, 'c') || j >= len(argv) {
				if i > 0 {
					// sudo -u app sh <<EOF, timeout 60 sh x.sh: a
					// shell that reads no -c script.
					sc.direct, sc.shell, sc.script = true, i, i
					return sc, true
				}
				return sc, false
			}
			sc.shell, sc.script = i, j
			return sc, true
		case name == "env":
			i++
		opts:
			for i < len(argv) {
				a := argv[i]
				switch {
				case a == "--":
					i++
					break opts
				case a == "-u" || a == "--unset":
					if i+1 < len(argv) && envMoves(argv[i+1]) {
						change("env -u " + argv[i+1])
					}
					i += 2
				case strings.HasPrefix(a, "--unset="):
					if envMoves(strings.TrimPrefix(a, "--unset=")) {
						change("env " + a)
					}
					i++
				case a == "-C" || a == "--chdir" || strings.HasPrefix(a, "--chdir="):
					change("env " + a + " moves it to another directory")
					i++
					if !strings.Contains(a, "=") {
						i++
					}
				case a == "-S" || a == "--split-string" || strings.HasPrefix(a, "--split-string=") || strings.HasPrefix(a, "-S"):
					change("env " + strings.SplitN(a, "=", 2)[0] + " splits it into a command line")
					sc.split, sc.shell = true, i
					if a == "-S" || a == "--split-string" {
						sc.script = i + 1
					} else {
						sc.script = i // the line follows the option in the word
					}
					return sc, sc.script < len(argv)
				case a == "-" || a == "-i" || a == "--ignore-environment" || strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.ContainsAny(a[1:], "iCSu"):
					change("env " + a + " changes its environment")
					i++
				case strings.HasPrefix(a, "-"):
					i++
				case strings.Contains(a, "=") && isShellName(a[:strings.Index(a, "=")]):
					if envMoves(a[:strings.Index(a, "=")]) {
						change("env sets " + a[:strings.Index(a, "=")] + " for it")
					}
					sc.assigns = append(sc.assigns, i)
					i++
				default:
					break opts
				}
			}
		case switchProgOf(name) != nil:
			p := switchProgOf(name)
			if p.Refuse != "" || sc.sw != nil {
				if p.Refuse != "" {
					change(name + " " + p.Refuse)
				} else {
					change(name + " runs it as another user inside " + sc.sw.name + ", which hushbuild does not follow")
				}
				sc.sw = nil
				return otherProgram(argv, i, sc)
			}
			u, ok := p.readSwitch(argv, i)
			if !ok {
				return sc, false // su USER: no command of its own
			}
			if u.refuse != "" {
				change(u.refuse)
			} else if u.user != "" {
				sc.sw = u
			}
			sc.assigns = append(sc.assigns, u.assigns...)
			switch {
			case u.script:
				// su USER -c SCRIPT: the user's shell runs it.
				sc.shell, sc.script = i, u.cmd
				return sc, true
			case u.stdin:
				// su USER <<EOF: the user's shell reads it there.
				sc.direct, sc.shell, sc.script = true, i, i
				return sc, true
			}
			i = u.cmd
		case neutralWrappers[name]:
			i++
			for i < len(argv) && !shellNames[path.Base(argv[i])] && !neutralWrappers[path.Base(argv[i])] &&
				path.Base(argv[i]) != "env" && switchProgOf(path.Base(argv[i])) == nil {
				if a := argv[i]; !strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "+") && strings.Trim(strings.ToLower(a), "0123456789.,:-+smhdx{}%") != "" {
					break // not an option or a plain value: a program of its own
				}
				i++
			}
		default:
			if i == 0 {
				change(name + otherChanges)
				return otherProgram(argv, i, sc)
			}
			// A program the others start: a shell in its arguments
			// runs a script all the same (timeout 60 fakeroot sh -c),
			// where or as whom it cannot tell; otherwise it is the
			// command (timeout 60 npm ci).
			if other, ok := otherProgram(argv, i, sc); ok {
				if other.changes == "" {
					other.changes = name + otherChanges
				}
				return other, true
			}
			sc.direct, sc.shell, sc.script = true, i, i
			return sc, true
		}
	}
	return sc, false
}

// otherChanges is what a program hushbuild does not know may change of
// the shell it starts.
const otherChanges = " may run it as another user, with another HOME, in another directory or root"

// otherProgram is shellCallOf past argv[i], a program hushbuild does not
// know: a shell in its arguments runs a script all the same (sudo -u app
// sh -c, chroot /x sh -c), where or as whom it cannot tell.
func otherProgram(argv []string, i int, sc shellCall) (shellCall, bool) {
	for k := i + 1; k < len(argv); k++ {
		if !shellNames[path.Base(argv[k])] {
			continue
		}
		j, letters := shellOptions(argv, k+1)
		if strings.ContainsRune(letters, 'c') && j < len(argv) {
			sc.shell, sc.script = k, j
			return sc, true
		}
	}
	return sc, false
}

// splitLine is the command line of env -S's word, its option taken off
// when the word holds it (-S'LINE', --split-string=LINE).
func splitLine(text string) string {
	for _, p := range []string{"--split-string=", "-S"} {
		if strings.HasPrefix(text, p) {
			return text[len(p):]
		}
	}
	return text
}

// shellOptions reads a shell's options from argv[j] on (-e, -xc, -o
// pipefail, --login, --rcfile FILE, a final -- or -): it returns the index
// of the first word after them and the letters of the short options.
func shellOptions(argv []string, j int) (int, string) {
	var letters strings.Builder
	for j < len(argv) {
		a := argv[j]
		if a == "--" || a == "-" {
			j++
			break
		}
		if len(a) < 2 || a[0] != '-' && a[0] != '+' {
			break
		}
		if strings.HasPrefix(a, "--") {
			if a == "--rcfile" || a == "--init-file" {
				j++
			}
			j++
			continue
		}
		takes := 0
		for _, ch := range a[1:] {
			letters.WriteRune(ch)
			if ch == 'o' || ch == 'O' {
				takes++
			}
		}
		j += 1 + takes
	}
	return j, letters.String()
}

// callShellScript is shellCallOf for a command of a script: the word
// that holds the script, and the words after it ($0, $1, ...).
func callShellScript(c *syntax.CallExpr) (*syntax.Word, []*syntax.Word, shellCall, bool) {
	sc, ok := callOf(c, "")
	if !ok || sc.direct {
		return nil, nil, sc, false
	}
	if sc.split {
		return c.Args[sc.script], nil, sc, true
	}
	return c.Args[sc.script], c.Args[sc.script+1:], sc, true
}

// callOf is wrappedCallOf for a command of a script. With the script's
// source, the words of a user switch get their texts (switchUse).
func callOf(c *syntax.CallExpr, src string) (shellCall, bool) {
	if len(c.Args) < 2 || !mayStart(c) {
		return shellCall{}, false
	}
	return callOfArgv(c, src)
}

// mayStart reports whether a command may run a script or start another
// program (callOf, stdinScript, eval): it is eval, a shell, env, a user
// switch or a neutral wrapper, or a shell comes later among its words
// (otherProgram), as wrappedCallOf reads them. Most commands are none,
// and callOf builds their words for nothing.
func mayStart(c *syntax.CallExpr) bool {
	text := func(w *syntax.Word) string {
		t := w.Lit()
		if t == "" {
			t, _ = literalWord(w)
		}
		return t
	}
	switch n := path.Base(text(c.Args[0])); {
	case n == "eval" || n == "env" || shellNames[n] || neutralWrappers[n] || switchProgOf(n) != nil:
		return true
	}
	for _, a := range c.Args[1:] {
		if shellNames[path.Base(text(a))] {
			return true
		}
	}
	return false
}

// callOfArgv is callOf past mayStart.
func callOfArgv(c *syntax.CallExpr, src string) (shellCall, bool) {
	argv := make([]string, len(c.Args))
	for i, a := range c.Args {
		argv[i] = a.Lit()
		if argv[i] == "" {
			// su "-c" ..., sudo -u 'app': quotes the program does not see.
			argv[i], _ = literalWord(a)
		}
		if argv[i] == "" {
			argv[i] = "\x00" // not a plain word: never a flag or a shell
			if name := assignName(a); name != "" {
				argv[i] = name + "=\x00" // env NAME=$VALUE
			}
		}
	}
	sc, ok := wrappedCallOf(argv)
	if ok && sc.sw != nil && src != "" {
		sc.sw.texts(c.Args, sc, src)
	}
	return sc, ok
}

// texts sets the texts of the switch's words in args: the replay of a
// command of its script (or of its program) and the probe that asks it
// what HOME a script gets.
func (u *switchUse) texts(args []*syntax.Word, sc shellCall, src string) {
	last := args[len(args)-1]
	from := int(args[u.first].Pos().Offset())
	at := args[sc.script]
	u.stdinHead = src[from:int(last.End().Offset())] + " -c "
	if sc.direct {
		u.replayHead = src[from:int(at.Pos().Offset())]
		u.probeHead, u.probeTail = u.replayHead+"sh -c ", ""
		return
	}
	u.replayHead = src[from:int(at.Pos().Offset())]
	u.replayTail = src[int(at.End().Offset()):int(last.End().Offset())]
	u.probeHead = u.replayHead
	// The probe keeps the words after the script that su reads (the
	// user, options), not its $0, $1 nor a shell's.
	var tail strings.Builder
	if u.script {
		for k := sc.script + 1; k < len(args); k++ {
			if !slices.Contains(u.args, k) {
				tail.WriteString(" " + nodeText(src, args[k]))
			}
		}
	}
	u.probeTail = tail.String()
}

// scriptText is the script a word gives a nested shell or eval, as the
// outer shell passes it: single quotes and plain words as they are, double
// quotes with the variables still unexpanded, and the outer shell's
// escapes taken out (sh -c "echo \$T > f" runs echo $T > f). It is exact
// unless a $'...' holds escapes the text keeps.
func scriptText(src string, words []*syntax.Word) (string, bool) {
	var parts []string
	exact := true
	for _, w := range words {
		var b strings.Builder
		for _, p := range w.Parts {
			switch x := p.(type) {
			case *syntax.SglQuoted:
				if x.Dollar {
					exact = false
				}
				b.WriteString(x.Value)
			case *syntax.Lit:
				v := x.Value
				if strings.Contains(v, `\`) {
					v = unescaped(v, "")
				}
				b.WriteString(v)
			case *syntax.DblQuoted:
				t := nodeText(src, x)
				t = strings.TrimPrefix(strings.TrimPrefix(t, "$"), `"`)
				t = strings.TrimSuffix(t, `"`)
				if strings.Contains(t, `\`) {
					t = unescaped(t, "$`\"\\")
				}
				b.WriteString(t)
			default:
				b.WriteString(nodeText(src, x))
			}
		}
		parts = append(parts, b.String())
	}
	return strings.Join(parts, " "), exact
}

// unescaped is text with the outer shell's backslashes taken out: before
// any character when special is "" (an unquoted word), before one of
// special otherwise (inside double quotes: $ ` " \\); a backslash before a
// newline goes with it.
func unescaped(text, special string) string {
	var b strings.Builder
	for i := 0; i < len(text); i++ {
		if text[i] != '\\' || i+1 == len(text) {
			b.WriteByte(text[i])
			continue
		}
		switch next := text[i+1]; {
		case next == '\n':
			i++
		case special == "" || strings.IndexByte(special, next) >= 0:
			b.WriteByte(next)
			i++
		default:
			b.WriteByte('\\')
		}
	}
	return b.String()
}

// nestedScript is the script that a command runs in a shell of its own
// (sh -c, bash -lc ...) or in the same shell (eval), parsed; or the
// program that other programs start (timeout 60 npm ci, gosu node npm
// ci), read as a script of one command.
type nestedScript struct {
	file  *syntax.File
	text  string
	eval  bool   // eval: the same shell, its variables
	shell string // the nested shell's program, for messages
	args  []*syntax.Word
	exact bool
	// assigns are the NAME=VALUE words env gives the nested shell.
	assigns []*syntax.Word
	// changes says what the command changes of where or as whom the
	// nested script runs, that hushbuild does not follow (shellCall).
	changes string
	// direct: text is the source of a program and its arguments that
	// the programs before it start (shellCall.direct).
	direct bool
	// sw is the user switch the script runs under, followed.
	sw *switchUse
	// quoting is how the outer shell passed the script: how a command
	// of it is quoted again to run under sw.
	quoting quoting
}

// quoting is how a script reached its shell through the outer one.
type quoting int

const (
	// quotedNone: a script hushbuild cannot quote again as it was
	// (escapes, a mix of quotes).
	quotedNone quoting = iota
	// quotedAsIs: the outer shell expanded nothing of it (single
	// quotes, a quoted heredoc): single quotes again.
	quotedAsIs
	// quotedExpanded: the outer shell expanded its variables (double
	// quotes without escapes, a heredoc without quotes): double quotes
	// again, when the command has no " nor \.
	quotedExpanded
)

// quotingOf is how the outer shell passes the words of a script.
func quotingOf(words []*syntax.Word) quoting {
	if len(words) != 1 {
		return quotedNone
	}
	q := quotedAsIs
	for _, p := range words[0].Parts {
		switch x := p.(type) {
		case *syntax.SglQuoted:
			if x.Dollar {
				return quotedNone
			}
		case *syntax.Lit:
			if strings.ContainsAny(x.Value, "\\$`\"'") {
				return quotedNone
			}
		case *syntax.DblQuoted:
			if len(words[0].Parts) != 1 || x.Dollar {
				return quotedNone
			}
			for _, dp := range x.Parts {
				if l, ok := dp.(*syntax.Lit); ok && strings.Contains(l.Value, `\`) {
					return quotedNone // which $ the outer shell expanded is lost
				}
			}
			q = quotedExpanded
		default:
			return quotedNone
		}
	}
	return q
}

// requote is a command of the script quoted as the script was, for the
// shell the switch starts, or "" when it cannot be. In double quotes, a
// " (which a heredoc's body may hold) is escaped; the text has no \.
func (ns *nestedScript) requote(text string) string {
	switch ns.quoting {
	case quotedAsIs:
		return shellQuote(text)
	case quotedExpanded:
		if !strings.Contains(text, `\`) {
			return `"` + strings.ReplaceAll(text, `"`, `\"`) + `"`
		}
	}
	return ""
}

// innerNames are the secret variables a nested script sees: those of the
// outer script (names), and those env's assignments set from them.
func (ns *nestedScript) innerNames(names map[string]bool) map[string]bool {
	out := map[string]bool{}
	for n := range names {
		if !strings.HasPrefix(n, posPrefix) {
			out[n] = true
		}
	}
	for _, w := range ns.assigns {
		if name := assignName(w); name != "" && (len(wordVars(w, names)) > 0 || len(substReads(w, names)) > 0) {
			out[name] = true
		}
	}
	return out
}

// assignName is the NAME of a NAME=VALUE word, or "".
func assignName(w *syntax.Word) string {
	if len(w.Parts) == 0 {
		return ""
	}
	l, ok := w.Parts[0].(*syntax.Lit)
	if !ok {
		return ""
	}
	name, _, found := strings.Cut(l.Value, "=")
	if !found || !isShellName(name) {
		return ""
	}
	return name
}

func nestedOf(c *syntax.CallExpr, s *syntax.Stmt, src string) (*nestedScript, error) {
	if len(c.Args) == 0 || !mayStart(c) {
		return nil, nil
	}
	ns := &nestedScript{}
	if c.Args[0].Lit() == "eval" && len(c.Args) > 1 {
		ns.eval, ns.shell = true, "eval"
		ns.text, ns.exact = scriptText(src, c.Args[1:])
	} else if call, ok := callOf(c, src); ok {
		ns.shell = path.Base(c.Args[call.shell].Lit())
		switch {
		case call.split:
			ns.shell = "env -S"
		case call.shell > 0:
			ns.shell += " (started by " + path.Base(c.Args[0].Lit()) + ")"
		}
		switch {
		case call.direct && stdinScript(ns, c, call.script, s, src):
			// sudo -u app sh <<EOF: the shell reads its script there.
			if call.script > 0 {
				ns.shell += " (started by " + path.Base(c.Args[0].Lit()) + ")"
			}
			if call.sw != nil {
				call.sw.replayHead, call.sw.replayTail = call.sw.stdinHead, ""
				call.sw.probeHead, call.sw.probeTail = call.sw.stdinHead, ""
				if len(ns.args) > 0 {
					ns.quoting = quotedNone // sh -s -- ARGS: -c would not take them
				}
			}
		case call.direct:
			ns.direct, ns.exact = true, true
			ns.text = src[int(c.Args[call.script].Pos().Offset()):int(c.Args[len(c.Args)-1].End().Offset())]
		default:
			w := c.Args[call.script]
			ns.args = c.Args[call.script+1:]
			ns.text, ns.exact = scriptText(src, []*syntax.Word{w})
			ns.quoting = quotingOf([]*syntax.Word{w})
			if call.split {
				ns.text = splitLine(ns.text)
				ns.args = nil
			}
		}
		ns.changes, ns.sw = call.changes, call.sw
		for _, k := range call.assigns {
			ns.assigns = append(ns.assigns, c.Args[k])
		}
	} else if !stdinScript(ns, c, 0, s, src) {
		return nil, nil
	}
	// su app -c "echo > $HOME/x": the RUN's shell expands $HOME before
	// the switch gives the script another one.
	if ns.sw != nil && !ns.direct && ns.quoting != quotedAsIs && ns.changes == "" &&
		(strings.Contains(ns.text, "$HOME") || strings.Contains(ns.text, "${HOME")) {
		ns.changes = "its script names $HOME where the RUN's shell expands it, with the RUN's HOME, not the one " + ns.sw.name + " gives"
	}
	// HOME=/tmp sh -c '...': the assignment is the nested shell's.
	for _, as := range c.Assigns {
		if as.Name != nil && envMoves(as.Name.Value) && ns.changes == "" {
			ns.changes = as.Name.Value + "= before it sets its " + as.Name.Value
		}
	}
	// A carriage return (a heredoc of a CRLF Dockerfile): the shell reads
	// it as part of a word (> .npmrc\r writes another file), the parser
	// as a blank.
	if strings.ContainsRune(ns.text, '\r') {
		return ns, errCarriageReturn
	}
	f, err := parseShell(ns.text)
	if err != nil {
		return ns, err
	}
	ns.file = f
	return ns, nil
}

var errCarriageReturn = errors.New("the script holds a carriage return")

// stdinScript fills ns with the script a shell reads on its standard
// input from a heredoc or a here-string (sh <<'EOF' ... EOF, bash -e
// <<EOF, sh -s -- ARGS <<EOF, bash <<< "..."): the shell runs it as it
// would run sh -c's. c.Args[k] is the shell (sudo -u app sh <<EOF), or su
// reading its script there (su app <<EOF). It reports whether c is such
// a shell.
func stdinScript(ns *nestedScript, c *syntax.CallExpr, k int, s *syntax.Stmt, src string) bool {
	if s == nil {
		return false
	}
	j := len(c.Args)
	if name := path.Base(c.Args[k].Lit()); shellNames[name] {
		argv := make([]string, len(c.Args))
		for i, a := range c.Args {
			argv[i] = a.Lit()
		}
		var letters string
		j, letters = shellOptions(argv, k+1)
		if strings.ContainsRune(letters, 'c') {
			return false
		}
		stdin := strings.ContainsRune(letters, 's')
		if j < len(c.Args) && !stdin {
			return false // sh FILE: the script is a file
		}
	} else if p := switchProgOf(name); p == nil || !p.Script {
		return false
	}
	for _, r := range s.Redirs {
		if r.N != nil && r.N.Value != "0" {
			continue
		}
		switch {
		case r.Op == syntax.WordHdoc && r.Word != nil:
			ns.text, ns.exact = scriptText(src, []*syntax.Word{r.Word})
			ns.quoting = quotingOf([]*syntax.Word{r.Word})
		case (r.Op == syntax.Hdoc || r.Op == syntax.DashHdoc) && r.Hdoc != nil:
			ns.text = nodeText(src, r.Hdoc)
			// An unquoted delimiter: the outer shell expands the body
			// first, as it does a script in double quotes.
			quoted := false
			if r.Word != nil {
				for _, p := range r.Word.Parts {
					if _, lit := p.(*syntax.Lit); !lit {
						quoted = true
					}
				}
				quoted = quoted || strings.Contains(r.Word.Lit(), `\`)
			}
			ns.exact = quoted || !strings.Contains(ns.text, `\`)
			switch {
			case quoted:
				ns.quoting = quotedAsIs
			case !strings.Contains(ns.text, `\`):
				ns.quoting = quotedExpanded
			}
		default:
			continue
		}
		ns.shell = path.Base(c.Args[k].Lit()) + " (its script on standard input)"
		ns.args = c.Args[j:]
		return true
	}
	return false
}

// nestedWrites are the writes of a nested script, as writes of the
// command that runs it: a file written in sh -c '...' or eval "..." is
// saved and restored by the outer RUN all the same, and replayed from the
// nested write's own text (under a user switch, through the same
// program: switchUse). A program other programs start (timeout 60 npm
// config set, gosu node npm config set) is replayed whole: root is the
// statement whose text that is (the pipeline it ends, or s).
// Without a secret in sight they are not followed (ws).
func nestedWrites(s *syntax.Stmt, c *syntax.CallExpr, src string, env shellEnv, names map[string]bool, root *syntax.Stmt, stdin []string, ws *writeScan) []*flow {
	ns, err := nestedOf(c, s, src)
	if ns == nil || err != nil || len(names) == 0 && ws.drop() {
		return nil
	}
	inner := ns.innerNames(names)
	for _, a := range ns.args {
		if len(wordVars(a, names)) > 0 || len(substReads(a, names)) > 0 {
			inner[posPrefix+"0:"+strconv.Itoa(len(ns.text)+1)] = true
		}
	}
	// The nested script starts where its command runs (or where the
	// switch to another user starts it), and its own cd moves only
	// itself (eval's moves the outer shell too: trackDirs knows nothing
	// after it).
	outer := env.at(s)
	start := outer
	switch {
	case ns.sw != nil && ns.direct:
		start = outer.underProgram(ns.sw)
	case ns.sw != nil:
		start = outer.under(ns.sw)
	}
	var prog []string
	if !ns.eval {
		prog = []string{strings.Fields(ns.shell)[0]}
	}
	env = start.withDirs(ns.file, ns.text, prog)
	ti := taintScript(ns.file, inner, env, nil)
	if !ns.direct {
		stdin = nil // a script's own commands read what it feeds them
	}
	var out []*flow
	for _, fl := range scanWrites(ns.file, ns.text, env, ti.names, stdin, ws) {
		innerStmt := fl.stmt
		fl.stmt = s
		wd := env.at(innerStmt).workdir
		switch {
		case fl.kind == flowLog:
		case ns.changes != "":
			fl.problem = "it runs inside " + ns.shell + ", and " + ns.changes + ": hushbuild cannot tell where its files go"
		case fl.kind != flowFile:
			fl.problem = "it runs inside " + ns.shell + ", which hushbuild does not rewrite"
		case !ns.exact:
			fl.problem = "it runs inside " + ns.shell + " with a script whose escapes hushbuild cannot read"
		case ns.sw != nil && fl.as != "":
			fl.problem = "it runs as another user inside " + ns.sw.what() + ", which hushbuild does not follow"
		case ns.direct:
			fl.text = stmtText(src, root)
			if v := envAssigned(ns, fl.vars); v != "" {
				fl.noReplay = "a variable " + strings.Fields(ns.shell)[0] + " gets from the programs that start it (" + v + ")"
			}
		default:
			fl.text, fl.inner = stmtText(ns.text, innerStmt), true
			if v := envAssigned(ns, fl.vars); v != "" {
				fl.noReplay = "a variable env sets for " + ns.shell + " (" + v + ")"
			} else if defs, why := ti.replayDefs(ns.text, fl.vars); why != "" {
				fl.noReplay = why + " inside " + ns.shell
			} else if len(defs) > 0 {
				fl.text = strings.Join(defs, "; ") + "; " + fl.text
			}
			if wd != start.workdir {
				// The replay runs where the outer command ran (where
				// the switch starts it).
				if wd == "" {
					fl.noReplay = firstNonEmpty(fl.noReplay, "a cd inside "+ns.shell+" to a directory hushbuild cannot tell")
				} else {
					fl.text = "cd " + shellQuote(wd) + " && { " + fl.text + "; }"
				}
			}
			if ns.sw != nil {
				// Through the same program, as the same user.
				if q := ns.requote(fl.text); q != "" {
					fl.text = ns.sw.replayHead + q + ns.sw.replayTail
				} else {
					fl.noReplay = firstNonEmpty(fl.noReplay, "a script "+ns.sw.name+" runs that hushbuild cannot quote again as it was")
				}
			}
		}
		if ns.sw != nil && fl.kind != flowLog && fl.problem == "" {
			ns.sw.apply(fl, outer, start)
		}
		out = append(out, fl)
	}
	return out
}

// envAssigned is the first of vars that env's assignments set for a
// nested shell, or "": a later RUN's replay of the write has no such
// variable.
func envAssigned(ns *nestedScript, vars []string) string {
	for _, w := range ns.assigns {
		if name := assignName(w); name != "" && slices.Contains(vars, name) {
			return name
		}
	}
	return ""
}

func hasHeredoc(n syntax.Node) bool {
	found := false
	walk(n, func(x syntax.Node) bool {
		if r, ok := x.(*syntax.Redirect); ok && r.Hdoc != nil {
			found = true
		}
		return !found
	})
	return found
}
