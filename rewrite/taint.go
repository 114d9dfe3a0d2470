package rewrite

import (
	"path"
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

// pathKeys are the spellings of a secret file's path in a script.
func pathKeys(p string, env shellEnv) []string {
	out := []string{p}
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
	for _, p := range paths {
		for _, k := range pathKeys(p, env) {
			t.names[k] = true
		}
	}
	if len(t.names) == 0 {
		// No secret in sight (a RUN hushbuild rewrote already).
		return t
	}
	root := make(map[string]bool, len(t.names))
	for n := range t.names {
		root[n] = true
	}
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
		if root[name] {
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
// /bin/sh -c. It is the one answer to "is this a shell running a script"
// for the exec form of RUN, nested shells in a command and SHELL.
func shellScriptIndex(argv []string) (int, bool) {
	i := 0
	if i < len(argv) && path.Base(argv[i]) == "env" {
		i++
		for i < len(argv) {
			a := argv[i]
			switch {
			case a == "-u" || a == "--unset" || a == "-C" || a == "--chdir":
				i += 2
			case a == "--":
				i++
			case strings.HasPrefix(a, "-") || strings.Contains(a, "=") && isShellName(a[:strings.Index(a, "=")]):
				i++
			default:
				goto shell
			}
		}
		return 0, false
	}
shell:
	if i >= len(argv) || !shellNames[path.Base(argv[i])] {
		return 0, false
	}
	j, letters := shellOptions(argv, i+1)
	hasC := strings.ContainsRune(letters, 'c')
	if !hasC || j >= len(argv) {
		return 0, false
	}
	return j, true
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

// callShellScript is shellScriptIndex for a command of a script: the word
// that holds the script, and the words after it ($0, $1, ...).
func callShellScript(c *syntax.CallExpr) (*syntax.Word, []*syntax.Word, bool) {
	if len(c.Args) < 2 {
		return nil, nil, false
	}
	argv := make([]string, len(c.Args))
	for i, a := range c.Args {
		argv[i] = a.Lit()
		if argv[i] == "" {
			argv[i] = "\x00" // not a plain word: never a flag or a shell
		}
	}
	i, ok := shellScriptIndex(argv)
	if !ok {
		return nil, nil, false
	}
	return c.Args[i], c.Args[i+1:], true
}

// scriptText is the script a word gives a nested shell or eval, as the
// outer shell passes it: exact for single quotes and plain words; for
// double quotes, the text with the variables still unexpanded, exact
// unless it holds escapes.
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
				if strings.Contains(x.Value, `\`) {
					exact = false
				}
				b.WriteString(x.Value)
			case *syntax.DblQuoted:
				t := nodeText(src, x)
				t = strings.TrimPrefix(strings.TrimPrefix(t, "$"), `"`)
				t = strings.TrimSuffix(t, `"`)
				if strings.Contains(t, `\`) {
					exact = false
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

// nestedScript is the script that a command runs in a shell of its own
// (sh -c, bash -lc ...) or in the same shell (eval), parsed.
type nestedScript struct {
	file  *syntax.File
	text  string
	eval  bool   // eval: the same shell, its variables
	shell string // the nested shell's program, for messages
	args  []*syntax.Word
	exact bool
}

func nestedOf(c *syntax.CallExpr, s *syntax.Stmt, src string) (*nestedScript, error) {
	if len(c.Args) == 0 {
		return nil, nil
	}
	ns := &nestedScript{}
	if c.Args[0].Lit() == "eval" && len(c.Args) > 1 {
		ns.eval, ns.shell = true, "eval"
		ns.text, ns.exact = scriptText(src, c.Args[1:])
	} else if w, rest, ok := callShellScript(c); ok {
		ns.shell = path.Base(c.Args[0].Lit())
		ns.args = rest
		ns.text, ns.exact = scriptText(src, []*syntax.Word{w})
	} else if !stdinScript(ns, c, s, src) {
		return nil, nil
	}
	f, err := parseShell(ns.text)
	if err != nil {
		return ns, err
	}
	ns.file = f
	return ns, nil
}

// stdinScript fills ns with the script a shell reads on its standard
// input from a heredoc or a here-string (sh <<'EOF' ... EOF, bash -e
// <<EOF, sh -s -- ARGS <<EOF, bash <<< "..."): the shell runs it as it
// would run sh -c's. It reports whether c is such a shell.
func stdinScript(ns *nestedScript, c *syntax.CallExpr, s *syntax.Stmt, src string) bool {
	if s == nil || !shellNames[path.Base(c.Args[0].Lit())] {
		return false
	}
	argv := make([]string, len(c.Args))
	for i, a := range c.Args {
		argv[i] = a.Lit()
	}
	j, letters := shellOptions(argv, 1)
	if strings.ContainsRune(letters, 'c') {
		return false
	}
	stdin := strings.ContainsRune(letters, 's')
	if j < len(c.Args) && !stdin {
		return false // sh FILE: the script is a file
	}
	for _, r := range s.Redirs {
		if r.N != nil && r.N.Value != "0" {
			continue
		}
		switch {
		case r.Op == syntax.WordHdoc && r.Word != nil:
			ns.text, ns.exact = scriptText(src, []*syntax.Word{r.Word})
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
		default:
			continue
		}
		ns.shell = path.Base(c.Args[0].Lit()) + " (its script on standard input)"
		ns.args = c.Args[j:]
		return true
	}
	return false
}

// nestedWrites are the writes of a nested script, as writes of the
// command that runs it: a file written in sh -c '...' or eval "..." is
// saved and restored by the outer RUN all the same, and replayed from the
// nested write's own text.
func nestedWrites(s *syntax.Stmt, c *syntax.CallExpr, src string, env shellEnv, names map[string]bool) []*flow {
	ns, err := nestedOf(c, s, src)
	if ns == nil || err != nil || len(names) == 0 {
		return nil
	}
	inner := map[string]bool{}
	for n := range names {
		if !strings.HasPrefix(n, posPrefix) {
			inner[n] = true
		}
	}
	for _, a := range ns.args {
		if len(wordVars(a, names)) > 0 || len(substReads(a, names)) > 0 {
			inner[posPrefix+"0:"+strconv.Itoa(len(ns.text)+1)] = true
		}
	}
	// The nested script starts where its command runs, and its own cd
	// moves only itself (eval's moves the outer shell too: trackDirs
	// knows nothing after it).
	outer := env.at(s)
	var prog []string
	if !ns.eval {
		prog = []string{path.Base(c.Args[0].Lit())}
	}
	env = outer.withDirs(ns.file, ns.text, prog)
	ti := taintScript(ns.file, inner, env, nil)
	var out []*flow
	for _, fl := range findWrites(ns.file, ns.text, env, ti.names) {
		innerStmt := fl.stmt
		fl.stmt = s
		wd := env.at(innerStmt).workdir
		switch {
		case fl.kind == flowLog:
		case fl.kind != flowFile:
			fl.problem = "it runs inside " + ns.shell + ", which hushbuild does not rewrite"
		case !ns.exact:
			fl.problem = "it runs inside " + ns.shell + " with a script in double quotes that holds escapes"
		default:
			fl.text = stmtText(ns.text, innerStmt)
			if defs, why := ti.replayDefs(ns.text, fl.vars); why != "" {
				fl.noReplay = why + " inside " + ns.shell
			} else if len(defs) > 0 {
				fl.text = strings.Join(defs, "; ") + "; " + fl.text
			}
			if wd != outer.workdir {
				// The replay runs where the outer command ran.
				if wd == "" {
					fl.noReplay = firstNonEmpty(fl.noReplay, "a cd inside "+ns.shell+" to a directory hushbuild cannot tell")
				} else {
					fl.text = "cd " + shellQuote(wd) + " && { " + fl.text + "; }"
				}
			}
		}
		out = append(out, fl)
	}
	return out
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
