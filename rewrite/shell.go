package rewrite

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"

	"mvdan.cc/sh/v3/syntax"
)

// Shell analysis of RUN commands, with mvdan.cc/sh: which files a command
// deletes and which env files it reads, and the edits that take a
// deletion out without touching any other word.

// shellParsers reuses mvdan.cc/sh parsers, which Parse resets: a new one
// per RUN was a sixth of the cost of parsing the RUN's script.
var shellParsers = sync.Pool{New: func() any {
	return syntax.NewParser(syntax.Variant(syntax.LangBash), syntax.KeepComments(true))
}}

func parseShell(src string) (*syntax.File, error) {
	p := shellParsers.Get().(*syntax.Parser)
	defer shellParsers.Put(p)
	return p.Parse(strings.NewReader(src), "")
}

// shellEnv is what a path in a command resolves against.
type shellEnv struct {
	workdir string // absolute, or "" when unknown
	// why says why workdir is unknown, when a command of the script made
	// it so (cd "$DIR").
	why  string
	home string // "" when unknown
	// homeAssumed: home is the conventional /home/USER of a named user,
	// not known from the image or the Dockerfile.
	homeAssumed bool
	// homeWhy says why home is unknown, when the script made it so.
	homeWhy string
	// dirViaHome: workdir was reached from HOME (cd ~/x).
	dirViaHome bool
	// dirs are the directories of the statements of the script being
	// read (trackDirs); at gives the environment of one statement.
	dirs *dirFlow
	// toolEnv are the stage's values of the variables that move a tool's
	// configuration file (COMPOSER_HOME, NPM_CONFIG_USERCONFIG,
	// PIP_CONFIG_FILE: toolEnvNames).
	toolEnv map[string]string
	// imageUnknown: the base image's environment was not resolved (the
	// CLI), so it may set any of the variables toolEnv lacks.
	imageUnknown bool
	// scriptEnv are those of them the script itself exported before the
	// statement (in toolEnv too): a replay sets them again.
	scriptEnv map[string]string
	// user is the user the commands run as: the stage's USER ("" for
	// the base image's, "?" when unknown), or the user a switch (su,
	// sudo ...) runs a nested script as.
	user string
	// progHome, when progHomeSet, is the HOME of a program that a user
	// switch starts (gosu node npm config set): the program keeps its
	// files there, while its words were expanded by the RUN's shell,
	// with home (underProgram).
	progHome    string
	progHomeSet bool
	// startup are the stage's values of the variables that name a file
	// every shell of the command sources as it starts (BASH_ENV, and ENV
	// for sh -i); startupUnknown: one of them is set to a value the
	// engine cannot tell.
	startup        []string
	startupUnknown bool
}

// programHome is the HOME the command's program sees.
func (e shellEnv) programHome() string {
	if e.progHomeSet {
		return e.progHome
	}
	return e.home
}

// rootness says whether the commands run as root, and whether that is
// known: a base image not resolved, or a USER hushbuild cannot expand,
// may run as anyone.
func (e shellEnv) rootness() (root, known bool) {
	u, _, _ := strings.Cut(e.user, ":")
	switch {
	case u == "?", u == "" && e.imageUnknown:
		return false, false
	case isRootUser(u):
		return true, true
	}
	return false, true
}

// under is the environment a user switch (switch.go) gives a command
// started where e is: HOME the user's (the caller's when the program
// keeps it), the environment new (no tool variable known, any may be
// set) when the program resets it, and the user's home directory as
// working directory for a login.
func (e shellEnv) under(u *switchUse) shellEnv {
	n := e
	n.dirs, n.user = nil, u.user
	if u.env != envKeep {
		// Assumed: a path found through it is checked through the
		// program (switchUse.apply).
		n.home, n.homeAssumed, n.homeWhy = u.home(), true, ""
	}
	if u.env == envReset {
		n.toolEnv, n.scriptEnv, n.imageUnknown = map[string]string{}, nil, true
	}
	if u.login {
		n.workdir, n.why, n.dirViaHome = n.home, "", true
		if n.home == "" {
			n.why = "it runs in the home directory of " + u.user + ", which is unknown"
		}
	}
	return n
}

// underProgram is under for a program the switch starts, not a script:
// the RUN's shell expanded its words (~, $HOME are the RUN's), and the
// program keeps its own files under the HOME the switch gives it.
func (e shellEnv) underProgram(u *switchUse) shellEnv {
	n := e.under(u)
	n.progHome, n.progHomeSet = n.home, true
	n.home, n.homeAssumed, n.homeWhy, n.dirViaHome = e.home, e.homeAssumed, e.homeWhy, false
	return n
}

// startupVars are the variables naming a file a shell sources as it
// starts: bash reads $BASH_ENV before a script or `bash -c`, and a POSIX
// shell reads $ENV when it is interactive (sh -i, bash -i in posix mode).
var startupVars = map[string]bool{"BASH_ENV": true, "ENV": true}

// startupFileOptions are bash's options naming the file an interactive
// shell sources instead of ~/.bashrc.
var startupFileOptions = map[string]bool{"--rcfile": true, "--init-file": true}

// wordPath resolves a shell word to a path when it is made only of
// literals, quotes and $HOME. glob reports unquoted glob characters.
func wordPath(w *syntax.Word, env shellEnv) (p string, glob bool, ok bool) {
	// Most words are one literal: no builder.
	if len(w.Parts) == 1 {
		switch x := w.Parts[0].(type) {
		case *syntax.Lit:
			if v := x.Value; !strings.HasPrefix(v, "~") && strings.IndexByte(v, '\\') < 0 {
				return v, strings.ContainsAny(v, "*?[") || hasBraces(v), true
			}
		case *syntax.SglQuoted:
			return x.Value, false, true
		}
	}
	var b strings.Builder
	for i, part := range w.Parts {
		switch x := part.(type) {
		case *syntax.Lit:
			v := x.Value
			if i == 0 && strings.HasPrefix(v, "~") {
				// ~ alone or ~/...: HOME. ~USER, ~+ and ~- are another
				// directory (the user's home from /etc/passwd, $PWD,
				// $OLDPWD; not every shell expands the last two), and ~
				// before a quote stays a literal ~: none is followed.
				if env.home == "" || !(v == "~" && len(w.Parts) == 1 || strings.HasPrefix(v, "~/")) {
					return "", false, false
				}
				v = env.home + v[1:]
			}
			if strings.ContainsAny(v, "*?[") {
				glob = true
			}
			// bash's brace expansion ({.npmrc,package.json}) names
			// several files: a pattern (shellMatch).
			if hasBraces(v) {
				glob = true
			}
			v = strings.ReplaceAll(v, `\`, "")
			b.WriteString(v)
		case *syntax.SglQuoted:
			b.WriteString(x.Value)
		case *syntax.DblQuoted:
			for _, dp := range x.Parts {
				switch y := dp.(type) {
				case *syntax.Lit:
					b.WriteString(y.Value)
				case *syntax.ParamExp:
					if !isPlainHome(y) || env.home == "" {
						return "", false, false
					}
					b.WriteString(env.home)
				default:
					return "", false, false
				}
			}
		case *syntax.ParamExp:
			if !isPlainHome(x) || env.home == "" {
				return "", false, false
			}
			b.WriteString(env.home)
		default:
			return "", false, false
		}
	}
	return b.String(), glob, true
}

// hasBraces reports whether an unquoted literal holds a brace expansion
// of bash ({a,b}, {1..3}). Every shell but bash keeps the braces as
// they are; shellMatch reads the path as the names bash makes of it.
func hasBraces(v string) bool {
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\':
			i++
		case '{':
			if end := strings.IndexByte(v[i:], '}'); end > 0 {
				if inner := v[i+1 : i+end]; strings.Contains(inner, ",") || strings.Contains(inner, "..") {
					return true
				}
			}
		}
	}
	return false
}

// expandBraces is the patterns bash makes of one with brace expansions:
// {a,b} gives one pattern for each word, a range ({1..3}) or more than
// 64 patterns a * in their place.
func expandBraces(pat string) []string {
	i := strings.IndexByte(pat, '{')
	if i < 0 {
		return []string{pat}
	}
	end := strings.IndexByte(pat[i:], '}')
	if end < 0 {
		return []string{pat}
	}
	inner, rest := pat[i+1:i+end], pat[i+end+1:]
	var words []string
	switch {
	case strings.Contains(inner, ","):
		words = strings.Split(inner, ",")
	case strings.Contains(inner, ".."):
		words = []string{"*"}
	default:
		// Not an expansion: the braces stay.
		var out []string
		for _, r := range expandBraces(rest) {
			out = append(out, pat[:i+end+1]+r)
		}
		return out
	}
	var out []string
	for _, w := range words {
		for _, r := range expandBraces(rest) {
			out = append(out, pat[:i]+w+r)
			if len(out) > 64 {
				return []string{pat[:i] + "*" + strings.Map(func(c rune) rune {
					if c == '{' || c == '}' || c == ',' {
						return '*'
					}
					return c
				}, rest)}
			}
		}
	}
	return out
}

func isPlainHome(p *syntax.ParamExp) bool {
	return p.Param != nil && p.Param.Value == "HOME" && p.Exp == nil && p.Repl == nil &&
		p.Index == nil && p.Slice == nil && !p.Length && !p.Excl && !p.Width
}

// absPath resolves p against env's workdir. Relative paths under an
// unknown workdir stay relative, cleaned.
func absPath(p string, env shellEnv) string {
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	if env.workdir != "" {
		return path.Join(env.workdir, p)
	}
	return path.Clean(p)
}

// fileCommands are the commands that fail on a read-only secret mount and
// are taken out of a command for the files that became mounts: rm deletes
// the file (the mount ends with the RUN anyway), chmod/chown set what the
// mount's mode, uid and gid carry instead.
var fileCommands = map[string]bool{"rm": true, "chmod": true, "chown": true, "chgrp": true}

func isSymbolicMode(s string) bool {
	return strings.Trim(s, "ugoa+-=rwxXst,") == ""
}

// readCommands read the files they name: an env file named by one of them
// is read by the RUN.
var readCommands = map[string]bool{
	"source": true, ".": true, "cat": true, "grep": true, "egrep": true, "fgrep": true, "sed": true,
	"awk": true, "head": true, "tail": true, "sort": true, "cut": true, "xargs": true, "cp": true,
	"envsubst": true, "dotenv": true, "env-cmd": true, "tr": true, "while": true,
}

// removal is one rm/chmod/chown of a secret file.
type removal struct {
	cmd       string
	operand   string // chmod's mode or chown's owner
	stmt      *syntax.Stmt
	call      *syntax.CallExpr
	argIdx    []int // indices in call.Args of the words that name secret files
	pathsLeft int   // path arguments that stay
}

// shellFacts is what the analysis learns about one command.
type shellFacts struct {
	file     *syntax.File
	removals []*removal
	// removed maps a secret target to true when the command deletes it.
	removed map[string]bool
	// changed maps a secret target to the chmod/chown commands on it.
	changed map[string][]*removal
	// parentRemoved lists targets under a directory the command deletes
	// recursively: the deletion cannot be taken out word by word.
	parentRemoved map[string]string
	// parentChanged lists targets under a directory whose owner or mode
	// the command changes recursively (chown -R node /app): on a
	// read-only mount the change would fail.
	parentChanged map[string]string
	// reads lists every path argument of every command, resolved.
	reads []string
	// sourced lists the files that `.` and `source` read, resolved.
	sourced []string
	// sourcedUnknown: a `.` or `source` reads a path that is not resolved
	// (. $DIR/env.sh), here or in a shell the script starts (sh -c '. x').
	sourcedUnknown bool
	// transfers are cp/mv/install commands whose source is a secret file.
	transfers []*transfer
}

// transferCommands copy or move files.
var transferCommands = map[string]bool{"cp": true, "mv": true, "install": true}

// transfer is a cp, mv or install of a credential file that lives on a
// secret mount: its destination would be a real file in the layer.
type transfer struct {
	stmt    *syntax.Stmt
	cmd     string
	src     string // the secret target it reads
	dest    string // the resolved destination file
	mode    *int   // install -m
	problem string
}

// transferOf reads a cp/mv/install command; it returns nil when no source
// is a secret target.
func transferOf(c *syntax.CallExpr, name string, env shellEnv, targets []string) *transfer {
	isTarget := map[string]bool{}
	for _, t := range targets {
		isTarget[t] = true
	}
	var operands []string
	var targetDir string
	t := &transfer{cmd: name}
	endOfFlags := false
	unresolved := false
	for i := 1; i < len(c.Args); i++ {
		lit := c.Args[i].Lit()
		if !endOfFlags && strings.HasPrefix(lit, "-") && lit != "-" {
			switch {
			case lit == "--":
				endOfFlags = true
			case lit == "-t" || lit == "--target-directory":
				if i+1 < len(c.Args) {
					i++
					if p, _, ok := wordPath(c.Args[i], env); ok {
						targetDir = absPath(p, env)
					} else {
						unresolved = true
					}
				}
			case strings.HasPrefix(lit, "--target-directory="):
				targetDir = absPath(strings.TrimPrefix(lit, "--target-directory="), env)
			case name == "install" && (lit == "-m" || lit == "-o" || lit == "-g" || lit == "--mode" || lit == "--owner" || lit == "--group"):
				if i+1 < len(c.Args) {
					i++
					if lit == "-m" || lit == "--mode" {
						if m, err := strconv.ParseUint(c.Args[i].Lit(), 8, 32); err == nil {
							mi := int(m)
							t.mode = &mi
						}
					}
				}
			}
			continue
		}
		p, glob, ok := wordPath(c.Args[i], env)
		if !ok || glob {
			operands = append(operands, "")
			continue
		}
		operands = append(operands, absPath(p, env))
	}
	sources := operands
	dest := targetDir
	if targetDir == "" {
		if len(operands) < 2 {
			return nil
		}
		sources, dest = operands[:len(operands)-1], operands[len(operands)-1]
	}
	secretSources, others := 0, 0
	for _, s := range sources {
		if isTarget[s] {
			secretSources++
			t.src = s
		} else {
			others++
		}
	}
	if secretSources == 0 {
		return nil
	}
	if dest != "" && pathSink(dest) != sinkFile {
		// cp FILE /dev/stderr prints it (printsSecret), /dev/null takes
		// it: no copy in the layer.
		return nil
	}
	switch {
	case others > 0 || secretSources > 1:
		t.problem = "it copies the credential file together with other files"
	case unresolved || dest == "":
		t.problem = "its destination is not a plain path"
	case targetDir != "" || strings.HasSuffix(c.Args[len(c.Args)-1].Lit(), "/") || isKnownDir(dest) || secretDirNames[path.Base(dest)] && path.Base(dest) != path.Base(t.src):
		t.dest = path.Join(dest, path.Base(t.src))
	default:
		t.dest = dest
	}
	return t
}

// exportCommands set variables from their arguments: a command
// substitution among them that reads a file sources it.
var exportCommands = map[string]bool{"export": true, "eval": true, "env": true, "declare": true, "typeset": true, "readonly": true}

// exportsVariable reports whether stmts export, declare or eval a word
// that is not a literal: a loop over a file's lines that sets what each
// line assigns (export "$kv", eval "$line", declare -x "$kv").
func exportsVariable(stmts []*syntax.Stmt) bool {
	found := false
	for _, st := range stmts {
		syntax.Walk(st, func(n syntax.Node) bool {
			switch x := n.(type) {
			case *syntax.DeclClause:
				for _, as := range x.Args {
					if as.Naked && as.Value != nil && as.Value.Lit() == "" {
						found = true
					}
				}
			case *syntax.CallExpr:
				if len(x.Args) > 1 && exportCommands[x.Args[0].Lit()] && x.Args[0].Lit() != "env" {
					for _, a := range x.Args[1:] {
						if a.Lit() == "" {
							found = true
						}
					}
				}
			}
			return !found
		})
	}
	return found
}

// substitutedReads are the files that the command substitutions of args
// read: the file arguments of cat, grep, sed and the like (less grep's
// pattern and sed's and awk's script), and their input redirections.
func substitutedReads(args []*syntax.Word, env shellEnv) []string {
	var out []string
	for _, a := range args {
		syntax.Walk(a, func(n syntax.Node) bool {
			cs, ok := n.(*syntax.CmdSubst)
			if !ok {
				return true
			}
			syntax.Walk(cs, func(n syntax.Node) bool {
				switch y := n.(type) {
				case *syntax.Stmt:
					for _, r := range y.Redirs {
						if r.Op == syntax.RdrIn && r.Word != nil {
							if p, _, ok := wordPath(r.Word, env); ok {
								out = append(out, p)
							}
						}
					}
				case *syntax.CallExpr:
					if len(y.Args) == 0 {
						return true
					}
					cmd := y.Args[0].Lit()
					if !readCommands[cmd] || cmd == "cp" || cmd == "." || cmd == "source" {
						return true
					}
					skip := 0
					if cmd == "grep" || cmd == "egrep" || cmd == "fgrep" || cmd == "sed" || cmd == "awk" {
						skip = 1
					}
					for _, w := range y.Args[1:] {
						p, _, ok := wordPath(w, env)
						if !ok {
							continue
						}
						if strings.HasPrefix(p, "-") {
							if p == "-e" || p == "-f" || p == "--expression" || p == "--regexp" {
								skip = 0
							}
							continue
						}
						if skip > 0 {
							skip--
							continue
						}
						out = append(out, p)
					}
				}
				return true
			})
			return false
		})
	}
	return out
}

// analyzeShell finds the deletions of targets (absolute or workdir-relative
// paths) and the paths the command names.
func analyzeShell(f *syntax.File, env shellEnv, targets []string) *shellFacts {
	// Its maps are made on their first entry: most scripts touch none
	// of the targets.
	facts := &shellFacts{file: f}
	parentRemoved := func(t, abs string) {
		if facts.parentRemoved == nil {
			facts.parentRemoved = map[string]string{}
		}
		facts.parentRemoved[t] = abs
	}
	// ENV BASH_ENV=ci/vars.sh: the shell that runs the command sources
	// it first.
	for _, p := range env.startup {
		facts.sourced = append(facts.sourced, absPath(p, env))
	}
	facts.sourcedUnknown = env.startupUnknown
	// BASH_ENV=ci/vars.sh bash -c CMD, export ENV=./.profile: the shells
	// started with that environment source the file.
	startupAssign := func(name string, value *syntax.Word, env shellEnv) {
		if !startupVars[name] {
			return
		}
		if value == nil {
			facts.sourcedUnknown = true
			return
		}
		if p, _, ok := wordPath(value, env); ok && p != "" {
			facts.sourced = append(facts.sourced, absPath(p, env))
		} else if !ok {
			facts.sourcedUnknown = true
		}
	}
	var last *syntax.Stmt // the last statement the walk entered
	walk(f, func(n syntax.Node) bool {
		switch x := n.(type) {
		case *syntax.Stmt:
			last = x
			env := env.at(x)
			for _, r := range x.Redirs {
				if r.Op == syntax.RdrIn && r.Word != nil {
					if p, _, ok := wordPath(r.Word, env); ok {
						facts.reads = append(facts.reads, absPath(p, env))
						// while read -r kv; do export "$kv"; done < vars:
						// the loop sets the file's variables as . would.
						if w, ok := x.Cmd.(*syntax.WhileClause); ok && exportsVariable(w.Do) {
							facts.sourced = append(facts.sourced, absPath(p, env))
						}
					}
				}
			}
			// for kv in $(cat vars); do export "$kv"; done
			if fc, ok := x.Cmd.(*syntax.ForClause); ok && exportsVariable(fc.Do) {
				if it, ok := fc.Loop.(*syntax.WordIter); ok {
					for _, p := range substitutedReads(it.Items, env) {
						facts.sourced = append(facts.sourced, absPath(p, env))
					}
				}
			}
		case *syntax.DeclClause:
			// export $(cat vars | xargs): bash parses export, declare,
			// readonly and typeset as declarations.
			var words []*syntax.Word
			env := env
			if last != nil {
				env = env.at(last)
			}
			for _, as := range x.Args {
				if as.Naked && as.Value != nil {
					words = append(words, as.Value)
				}
				if !as.Naked && as.Name != nil {
					startupAssign(as.Name.Value, as.Value, env)
				}
			}
			for _, p := range substitutedReads(words, env) {
				facts.sourced = append(facts.sourced, absPath(p, env))
			}
		case *syntax.CallExpr:
			env := env
			if last != nil {
				env = env.at(last)
			}
			for _, as := range x.Assigns {
				if as.Name != nil {
					startupAssign(as.Name.Value, as.Value, env)
				}
			}
			if len(x.Args) == 0 {
				return true
			}
			// /bin/cp and /bin/rm are cp and rm.
			name := x.Args[0].Lit()
			if name != "" {
				name = path.Base(name)
			}
			// env BASH_ENV=ci/vars.sh bash -c CMD
			if path.Base(name) == "env" {
				for _, a := range x.Args[1:] {
					lit := ""
					if len(a.Parts) > 0 {
						if l, ok := a.Parts[0].(*syntax.Lit); ok {
							lit = l.Value
						}
					}
					if k, _, ok := strings.Cut(lit, "="); !ok || !startupVars[k] {
						continue
					}
					if w, _, ok := wordPath(a, env); !ok {
						facts.sourcedUnknown = true
					} else if _, v, _ := strings.Cut(w, "="); v != "" {
						facts.sourced = append(facts.sourced, absPath(v, env))
					}
				}
			}
			// bash --rcfile ci/vars.sh -i, --init-file
			if b := path.Base(name); b == "bash" || b == "sh" {
				for i := 1; i < len(x.Args); i++ {
					w, _, ok := wordPath(x.Args[i], env)
					if !ok {
						continue
					}
					if k, v, ok := strings.Cut(w, "="); ok && startupFileOptions[k] && v != "" {
						facts.sourced = append(facts.sourced, absPath(v, env))
						continue
					}
					if startupFileOptions[w] && i+1 < len(x.Args) {
						if p, _, ok := wordPath(x.Args[i+1], env); ok {
							facts.sourced = append(facts.sourced, absPath(p, env))
						} else {
							facts.sourcedUnknown = true
						}
					}
				}
			}
			if (name == "." || name == "source") && len(x.Args) > 1 {
				if p, _, ok := wordPath(x.Args[1], env); ok {
					facts.sourced = append(facts.sourced, absPath(p, env))
				} else {
					facts.sourcedUnknown = true
				}
			}
			if w, _, call, ok := callShellScript(x); ok {
				// sh -c '. ci/env.sh && make': what the nested shell
				// sources, in the same directory (another one, or
				// another HOME, when call.changes says so).
				if text, lit := literalWord(w); !lit || call.moves() {
					facts.sourcedUnknown = true
				} else if inner, err := parseShell(text); err != nil {
					facts.sourcedUnknown = true
				} else {
					nf := analyzeShell(inner, env, nil)
					facts.sourced = append(facts.sourced, nf.sourced...)
					facts.sourcedUnknown = facts.sourcedUnknown || nf.sourcedUnknown
				}
			}
			if exportCommands[name] {
				// export $(cat vars | xargs), eval "$(cat vars)": the file
				// read in the substitution sets variables as . would.
				for _, p := range substitutedReads(x.Args[1:], env) {
					facts.sourced = append(facts.sourced, absPath(p, env))
				}
			}
			if readCommands[name] {
				for _, a := range x.Args[1:] {
					if p, _, ok := wordPath(a, env); ok && !strings.HasPrefix(p, "-") {
						facts.reads = append(facts.reads, absPath(p, env))
					}
				}
			}
			if transferCommands[name] && last != nil {
				if t := transferOf(x, name, env, targets); t != nil {
					t.stmt = last
					facts.transfers = append(facts.transfers, t)
				}
				return true
			}
			if !fileCommands[name] || last == nil {
				return true
			}
			stmt := last
			recursive := false
			endOfFlags := false
			r := &removal{stmt: stmt, call: x, cmd: name}
			operand := name != "rm" // chmod/chown take a mode or owner first
			for i, a := range x.Args[1:] {
				lit := a.Lit()
				if !endOfFlags && strings.HasPrefix(lit, "-") && lit != "-" && !(name == "chmod" && operand && isSymbolicMode(lit)) {
					if lit == "--" {
						endOfFlags = true
					} else if lit == "--recursive" || (!strings.HasPrefix(lit, "--") && strings.ContainsAny(lit, "rR")) {
						recursive = true
					}
					continue
				}
				if operand {
					operand = false
					r.operand = lit
					continue
				}
				p, glob, ok := wordPath(a, env)
				matched := false
				if ok {
					abs := absPath(p, env)
					for _, t := range targets {
						switch {
						case glob:
							if m := shellMatch(abs, t); m && name == "rm" {
								parentRemoved(t, abs)
							} else if name != "rm" && (m || recursive && globCoversParent(abs, t)) {
								if facts.parentChanged == nil {
									facts.parentChanged = map[string]string{}
								}
								facts.parentChanged[t] = abs
							}
						case abs == t:
							matched = true
							if name == "rm" {
								if facts.removed == nil {
									facts.removed = map[string]bool{}
								}
								facts.removed[t] = true
							} else {
								if facts.changed == nil {
									facts.changed = map[string][]*removal{}
								}
								facts.changed[t] = append(facts.changed[t], r)
							}
						case recursive && strings.HasPrefix(t, strings.TrimSuffix(abs, "/")+"/"):
							if name != "rm" {
								if facts.parentChanged == nil {
									facts.parentChanged = map[string]string{}
								}
								facts.parentChanged[t] = abs
								break
							}
							parentRemoved(t, abs)
						}
					}
				}
				if matched {
					r.argIdx = append(r.argIdx, i+1)
				} else {
					r.pathsLeft++
				}
			}
			if len(r.argIdx) > 0 {
				facts.removals = append(facts.removals, r)
			}
		}
		return true
	})
	return facts
}

// span is a byte range [start,end) of the command text, replaced by text.
type span struct {
	start, end int
	text       string
}

// removalSpans computes the ranges of the command text to delete so that
// the given removals disappear and the rest of the command keeps its words.
// whole is true when nothing of the command would remain.
func removalSpans(f *syntax.File, src string, rs []*removal, cuts ...span) (spans []span, whole bool, err error) {
	spans = append(spans, cuts...)
	parents := map[*syntax.Stmt]syntax.Node{}
	stack := make([]syntax.Node, 0, 16)
	walk(f, func(n syntax.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		if s, ok := n.(*syntax.Stmt); ok && len(stack) > 0 {
			parents[s] = stack[len(stack)-1]
		}
		stack = append(stack, n)
		return true
	})
	dropped := map[*syntax.Stmt]bool{}
	for _, r := range rs {
		if r.pathsLeft > 0 {
			// Delete only the words naming secret files.
			for _, i := range r.argIdx {
				w := r.call.Args[i]
				start, end := int(w.Pos().Offset()), int(w.End().Offset())
				if i+1 < len(r.call.Args) {
					end = int(r.call.Args[i+1].Pos().Offset())
				} else {
					start = int(r.call.Args[i-1].End().Offset())
				}
				spans = append(spans, span{start: start, end: end})
			}
			continue
		}
		dropped[r.stmt] = true
	}
	// Delete whole statements, climbing through && / || chains.
	for s := range dropped {
		sp, all, err := stmtSpan(s, parents, dropped)
		if err != nil {
			return nil, false, err
		}
		if all {
			whole = true
			continue
		}
		spans = append(spans, sp...)
	}
	if whole {
		return nil, true, nil
	}
	spans = mergeSpans(spans)
	// The result must still parse.
	if _, err := parseShell(applySpans(src, spans)); err != nil {
		return nil, false, fmt.Errorf("command no longer parses after removing the deletion: %v", err)
	}
	return spans, false, nil
}

// stmtSpan returns the range that removes statement s from its parent.
func stmtSpan(s *syntax.Stmt, parents map[*syntax.Stmt]syntax.Node, dropped map[*syntax.Stmt]bool) ([]span, bool, error) {
	switch p := parents[s].(type) {
	case *syntax.BinaryCmd:
		if p.Op != syntax.AndStmt && p.Op != syntax.OrStmt {
			return nil, false, fmt.Errorf("a deletion inside a pipe cannot be taken out")
		}
		other := p.Y
		if s == p.Y {
			other = p.X
		}
		if dropped[other] {
			// Both sides go: drop the statement that holds the chain.
			parent := findStmtOf(p, parents)
			if parent == nil {
				return nil, false, fmt.Errorf("cannot locate the command holding the deletion")
			}
			dropped[parent] = true
			return stmtSpan(parent, parents, dropped)
		}
		if s == p.X {
			return []span{{start: int(p.X.Pos().Offset()), end: int(p.Y.Pos().Offset())}}, false, nil
		}
		return []span{{start: int(p.X.End().Offset()), end: int(p.Y.End().Offset())}}, false, nil
	case *syntax.File:
		return listSpan(s, p.Stmts, true)
	case *syntax.Block:
		return listSpan(s, p.Stmts, false)
	case *syntax.Subshell:
		return listSpan(s, p.Stmts, false)
	case *syntax.IfClause:
		if containsStmt(p.Cond, s) {
			return listSpan(s, p.Cond, false)
		}
		return listSpan(s, p.Then, false)
	case *syntax.WhileClause:
		if containsStmt(p.Cond, s) {
			return listSpan(s, p.Cond, false)
		}
		return listSpan(s, p.Do, false)
	case *syntax.ForClause:
		return listSpan(s, p.Do, false)
	case *syntax.CaseItem:
		return listSpan(s, p.Stmts, false)
	default:
		return nil, false, fmt.Errorf("a deletion inside %T cannot be taken out", p)
	}
}

func containsStmt(list []*syntax.Stmt, s *syntax.Stmt) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func findStmtOf(n syntax.Node, parents map[*syntax.Stmt]syntax.Node) *syntax.Stmt {
	for s := range parents {
		if s.Cmd == n {
			return s
		}
	}
	return nil
}

// listSpan removes s from a statement list. When s is alone, the whole
// command goes (top) or the list cannot lose it (inside a block).
func listSpan(s *syntax.Stmt, list []*syntax.Stmt, top bool) ([]span, bool, error) {
	idx := -1
	for i, x := range list {
		if x == s {
			idx = i
		}
	}
	switch {
	case idx < 0:
		return nil, false, fmt.Errorf("cannot locate the deletion in its command list")
	case len(list) == 1 && top:
		return nil, true, nil
	case len(list) == 1:
		// Alone in a block: the block needs a command, so it becomes ':'.
		end := int(s.End().Offset())
		if s.Semicolon.IsValid() {
			end = int(s.Semicolon.Offset())
		}
		return []span{{int(s.Pos().Offset()), end, ":"}}, false, nil
	case idx+1 < len(list):
		return []span{{start: int(s.Pos().Offset()), end: int(list[idx+1].Pos().Offset())}}, false, nil
	default:
		prev := list[idx-1]
		start := int(prev.End().Offset())
		if prev.Semicolon.IsValid() {
			start = int(prev.Semicolon.Offset())
		}
		return []span{{start: start, end: int(s.End().Offset())}}, false, nil
	}
}

func mergeSpans(spans []span) []span {
	if len(spans) < 2 {
		return spans
	}
	sort.SliceStable(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	out := []span{spans[0]}
	for _, s := range spans[1:] {
		last := &out[len(out)-1]
		if s.start <= last.end && s.text == "" && last.text == "" {
			if s.end > last.end {
				last.end = s.end
			}
			continue
		}
		out = append(out, s)
	}
	return out
}

func applySpans(src string, spans []span) string {
	var b strings.Builder
	pos := 0
	for _, s := range spans {
		b.WriteString(src[pos:s.start])
		b.WriteString(s.text)
		pos = s.end
	}
	b.WriteString(src[pos:])
	return b.String()
}

// shellQuote quotes s for a POSIX shell when it is not a plain word.
func shellQuote(s string) string {
	plain := s != ""
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_-./:@,+%=", c)) {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// isPOSIXShell reports whether a SHELL instruction's program runs POSIX
// shell text, so that hushbuild may edit and prefix commands.
func isPOSIXShell(shell []string) bool {
	if len(shell) == 0 {
		return true
	}
	posix := func(p string) bool {
		switch path.Base(p) {
		case "sh", "bash", "ash", "dash", "zsh", "ksh", "mksh", "busybox":
			return true
		}
		return false
	}
	if posix(shell[0]) {
		return true
	}
	// A wrapper that runs a shell: SHELL ["conda", "run", "-n", "env",
	// "/bin/bash", "-c"].
	last := shell[len(shell)-1]
	if len(shell) >= 2 && strings.HasPrefix(last, "-") && strings.HasSuffix(last, "c") && posix(shell[len(shell)-2]) {
		return true
	}
	return false
}

// literalWord is the text of a word without expansions (sh -c's script
// in single quotes, or in double quotes without $ or `), and whether it
// is one.
func literalWord(w *syntax.Word) (string, bool) {
	// The text is built only from a second piece on: a word of one
	// piece (most) is that piece's value, without a copy.
	var b strings.Builder
	var first string
	pieces := 0
	write := func(s string) {
		switch pieces {
		case 0:
			first = s
		case 1:
			b.WriteString(first)
			fallthrough
		default:
			b.WriteString(s)
		}
		pieces++
	}
	for _, part := range w.Parts {
		switch x := part.(type) {
		case *syntax.Lit:
			write(x.Value)
		case *syntax.SglQuoted:
			if x.Dollar {
				return "", false
			}
			write(x.Value)
		case *syntax.DblQuoted:
			for _, dp := range x.Parts {
				l, ok := dp.(*syntax.Lit)
				if !ok {
					return "", false
				}
				write(l.Value)
			}
		default:
			return "", false
		}
	}
	if pieces <= 1 {
		return first, true
	}
	return b.String(), true
}

// shellMatch reports whether the shell's pattern pat matches name, as
// path.Match does with the shell's negated class [!...] read as [^...]
// (path.Match reads [!.] as the class of '!' and '.'), and bash's brace
// expansions as the patterns they make (expandBraces). path.Match also
// lets * and ? match a leading dot, which the shell does not: it finds
// more files than the shell, never fewer.
func shellMatch(pat, name string) bool {
	for _, p := range expandBraces(pat) {
		if m, _ := path.Match(strings.ReplaceAll(p, "[!", "[^"), name); m {
			return true
		}
	}
	return false
}

// globCoversParent reports whether the pattern pat matches a directory
// that holds the path t.
func globCoversParent(pat, t string) bool {
	for d := path.Dir(t); d != "/" && d != "."; d = path.Dir(d) {
		if shellMatch(pat, d) {
			return true
		}
	}
	return false
}

// metadataCommands change or make paths without reading any file's
// content.
var metadataCommands = map[string]bool{"chown": true, "chmod": true, "chgrp": true, "mkdir": true, "ln": true, "true": true, ":": true}

// onlyMetadata reports whether a script runs metadata commands alone,
// with no redirection, substitution or function: it reads no file.
func onlyMetadata(f *syntax.File) bool {
	ok := true
	walk(f, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.CallExpr:
			if len(n.Args) == 0 || n.Args[0].Lit() == "" || !metadataCommands[path.Base(n.Args[0].Lit())] {
				ok = false
			}
		case *syntax.Redirect, *syntax.CmdSubst, *syntax.ProcSubst, *syntax.FuncDecl,
			*syntax.ArithmCmd, *syntax.TestClause, *syntax.DeclClause, *syntax.LetClause,
			*syntax.TimeClause, *syntax.CoprocClause, *syntax.ForClause, *syntax.WhileClause,
			*syntax.CaseClause, *syntax.IfClause:
			ok = false
		}
		return ok
	})
	return ok
}
