package rewrite

// Commands that take files one by one from a set that no word names: a
// for loop's variable, find's {}, xargs's arguments, a while-read loop's
// variable. When the set may hold a credential file that is a mount now
// (or a directory holding one), a copy of each of its files copies the
// credential into the layer, and a change of each fails on the read-only
// mount: neither can be rewritten as the copy of a named file is
// (transferOf), so both stop. Pure functions of the syntax tree, tested
// in sets_test.go.

import (
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"mvdan.cc/sh/v3/syntax"
)

// fileSet is what a set of paths may hold of the mounted files.
type fileSet struct {
	file string // a mounted path the set may hold
	dir  string // a directory holding a mounted path that the set may hold
	from string // what makes the set, as written
	// all are the mounted paths the set may hold, when find made it.
	all []string
}

func (s fileSet) empty() bool { return s.file == "" && s.dir == "" }

// union keeps the first file and directory found.
func (s fileSet) union(o fileSet) fileSet {
	if s.file == "" && o.file != "" {
		s.file = o.file
	}
	if s.dir == "" && o.dir != "" {
		s.dir = o.dir
	}
	return s
}

// setUse is a command on the files of a set that may hold a mount.
type setUse struct {
	kind useKind
	why  string
	stmt *syntax.Stmt
	// files, for a change find -exec makes of files (not a directory):
	// the mounted files it may change, each of which can be a copy of
	// its mount for the RUN instead (copyMode), the find replayed.
	files []string
}

// useKind is what a command does with a mounted file it is given.
type useKind int

const (
	// useCopy copies it into another file (cp, tar, cat > FILE).
	useCopy useKind = iota
	// useChange changes it in place (chmod, sed -i), which fails on a
	// read-only mount.
	useChange
	// usePrint prints it into the build log (cat "$f").
	usePrint
)

// setCopies finds the commands of f that copy or change, one by one, the
// files of a set that may hold one of mounted (or a directory holding
// one). It also reads the scripts of nested shells (sh -c), where a named
// copy (cp /app/.npmrc /root/) is not rewritten either.
func setCopies(f *syntax.File, src string, env shellEnv, mounted []string) []setUse {
	if len(mounted) == 0 {
		return nil
	}
	dotglob := strings.Contains(src, "dotglob") || strings.Contains(src, "GLOBIGNORE")
	sc := &setScan{src: src, env: env, mounted: mounted, dotglob: dotglob}
	sc.scan(f)
	sort.SliceStable(sc.out, func(i, j int) bool { return sc.out[i].why < sc.out[j].why })
	var out []setUse
	for i, u := range sc.out {
		if i == 0 || u.why != sc.out[i-1].why || u.kind != sc.out[i-1].kind {
			out = append(out, u)
		}
	}
	return out
}

type setScan struct {
	src     string
	env     shellEnv
	mounted []string
	dotglob bool
	// named: the script is a nested shell's, whose named copies are not
	// rewritten: a word naming a mount is a set of its own.
	named bool
	out   []setUse
	// quiet are the statements whose output goes into a command
	// substitution or a pipe, not the build log.
	quiet map[*syntax.Stmt]bool
}

func (sc *setScan) scan(f *syntax.File) {
	sc.quiet = map[*syntax.Stmt]bool{}
	markAll := func(n syntax.Node) {
		walk(n, func(m syntax.Node) bool {
			if s, ok := m.(*syntax.Stmt); ok {
				sc.quiet[s] = true
			}
			return true
		})
	}
	walk(f, func(n syntax.Node) bool {
		switch x := n.(type) {
		case *syntax.CmdSubst:
			markAll(x)
		case *syntax.BinaryCmd:
			if x.Op == syntax.Pipe || x.Op == syntax.PipeAll {
				markAll(x.X)
			}
		}
		return true
	})
	walk(f, func(n syntax.Node) bool {
		s, ok := n.(*syntax.Stmt)
		if !ok {
			return true
		}
		env := sc.env.at(s)
		switch x := s.Cmd.(type) {
		case *syntax.ForClause:
			it, ok := x.Loop.(*syntax.WordIter)
			if !ok || it.Name == nil {
				break
			}
			set := fileSet{}
			for _, w := range it.Items {
				set = set.union(sc.wordSet(w, env))
			}
			if !set.empty() {
				set.from = "for " + it.Name.Value + " in " + sc.text(it.Items[0].Pos(), it.Items[len(it.Items)-1].End())
				sc.body(x.Do, varUse(it.Name.Value), set)
			}
		case *syntax.WhileClause:
			// while read -r f; do ...; done < <(find docker -type f)
			if names := loopReadVars(x.Cond); len(names) > 0 {
				for _, r := range s.Redirs {
					if r.Op != syntax.RdrIn || r.Word == nil || len(r.Word.Parts) != 1 {
						continue
					}
					if ps, ok := r.Word.Parts[0].(*syntax.ProcSubst); ok {
						if set := sc.producedSet(ps.Stmts, env); !set.empty() {
							set.from = "while read " + strings.Join(names, " ") + " < " + sc.text(ps.Pos(), ps.End())
							sc.body(x.Do, varUse(names...), set)
						}
					}
				}
			}
		case *syntax.BinaryCmd:
			if x.Op != syntax.Pipe && x.Op != syntax.PipeAll {
				break
			}
			stages := pipeStages(x)
			for i := 1; i < len(stages); i++ {
				st := stages[i]
				var set fileSet
				producer := func() fileSet {
					set := sc.pipeSet(stages[:i], env)
					set.from = sc.text(stages[0].Pos(), stages[i-1].End()) + " | "
					return set
				}
				if c, ok := st.Cmd.(*syntax.CallExpr); ok && len(c.Args) > 0 {
					name := path.Base(c.Args[0].Lit())
					if name == "xargs" {
						cmd, repl, ok := xargsCommand(c.Args[1:])
						if ok && len(cmd) > 0 {
							if set = producer(); !set.empty() {
								set.from += "xargs"
								isItem := func(w *syntax.Word) bool { return repl != "" && strings.Contains(wordText(w), repl) }
								sc.use(cmd, st, sc.env.at(st), isItem, repl == "", set)
							}
						}
					} else if readsFileList(c) {
						// find . | cpio -pdm DIR, | tar -cf X -T -: the
						// names on standard input are the files to copy.
						if set = producer(); !set.empty() {
							sc.out = append(sc.out, setUse{kind: useCopy, stmt: st,
								why: name + " copies the files that `" + strings.TrimSuffix(set.from, " | ") + "` prints" + set.holds() + ", into a file or directory that would stay in the layer"})
						}
					}
					continue
				}
				if c, ok := st.Cmd.(*syntax.WhileClause); ok {
					names := loopReadVars(c.Cond)
					if len(names) == 0 {
						continue
					}
					if set = producer(); set.empty() {
						continue
					}
					set.from += "while read " + strings.Join(names, " ")
					sc.body(c.Do, varUse(names...), set)
				}
			}
		case *syntax.CallExpr:
			if len(x.Args) == 0 {
				break
			}
			name := path.Base(x.Args[0].Lit())
			if name == "find" {
				set, execs := sc.findSet(x.Args[1:], env)
				if set.empty() {
					break
				}
				set.from = sc.text(x.Args[0].Pos(), x.Args[len(x.Args)-1].End())
				for _, ex := range execs {
					n := len(sc.out)
					sc.use(ex, s, env, func(w *syntax.Word) bool { return strings.Contains(wordText(w), "{}") }, false, set)
					// find -exec sed -i … {}: a change of the files
					// themselves can be made on copies of their mounts.
					if len(ex) > 0 && contentOrModeChangers[path.Base(ex[0].Lit())] && set.dir == "" && !recursive(litsOf(ex[1:])) {
						for i := n; i < len(sc.out); i++ {
							if sc.out[i].kind == useChange {
								sc.out[i].files = set.all
							}
						}
					}
				}
				for _, w := range x.Args[1:] {
					if w.Lit() == "-delete" && set.file != "" {
						sc.out = append(sc.out, setUse{kind: useChange, stmt: s,
							why: "find -delete deletes the files of `" + set.from + "`" + set.holds() + ", which is read-only"})
					}
				}
			}
			sc.stdinCopy(s, x, name, env)
			sc.unresolved(s, x, name, env)
			sc.gitAdd(s, x, name, env)
			sc.inlineScript(s, x, name)
			if printers[name] && !sc.named && !sc.quiet[s] && stdoutSink(s, env) == sinkLog {
				// cat .np*: a pattern that matches a mount prints it
				// (a named one is printsSecret's).
				for _, w := range x.Args[1:] {
					if p, glob, ok := wordPath(w, env); ok && glob {
						if set := sc.wordSet(w, env); set.file != "" {
							sc.out = append(sc.out, setUse{kind: usePrint, stmt: s,
								why: name + " prints the files of `" + p + "`" + set.holds()})
						}
					}
				}
			}
			for _, w := range x.Args[1:] {
				// cp $(find . -name '*rc') DIR: the paths a command
				// substitution prints. (A nested shell's named copies
				// too: only the RUN's own script's are rewritten.)
				if _, _, ok := wordPath(w, env); ok && !sc.named {
					continue
				}
				if set := sc.wordSet(w, env); !set.empty() {
					set.from = sc.text(w.Pos(), w.End())
					sc.use(x.Args, s, env, func(v *syntax.Word) bool { return v == w }, false, set)
				}
			}
			if ns, err := nestedOf(x, s, sc.src); ns != nil && err == nil && ns.file != nil {
				inner := &setScan{src: ns.text, env: env, mounted: sc.mounted, dotglob: sc.dotglob, named: true}
				inner.scan(ns.file)
				for _, u := range inner.out {
					u.why = ns.shell + " runs: " + u.why
					sc.out = append(sc.out, u)
				}
			}
		}
		return true
	})
}

// text is the script's text between two positions.
func (sc *setScan) text(from, to syntax.Pos) string {
	a, b := int(from.Offset()), int(to.Offset())
	if a < 0 || b > len(sc.src) || a > b {
		return "..."
	}
	return sc.src[a:b]
}

// body checks the commands of a loop's body on its variable.
func (sc *setScan) body(stmts []*syntax.Stmt, isItem func(*syntax.Word) bool, set fileSet) {
	for _, s := range stmts {
		walk(s, func(n syntax.Node) bool {
			st, ok := n.(*syntax.Stmt)
			if !ok {
				return true
			}
			if c, ok := st.Cmd.(*syntax.CallExpr); ok && len(c.Args) > 0 {
				sc.use(c.Args, st, sc.env.at(st), isItem, false, set)
			}
			return true
		})
	}
}

// varUse reports the words that expand one of the variables.
func varUse(names ...string) func(*syntax.Word) bool {
	return func(w *syntax.Word) bool {
		found := false
		walk(w, func(n syntax.Node) bool {
			if p, ok := n.(*syntax.ParamExp); ok && p.Param != nil {
				for _, name := range names {
					if p.Param.Value == name {
						found = true
					}
				}
			}
			return !found
		})
		return found
	}
}

// wordText is a word's literal text, quotes removed, expansions left out.
func wordText(w *syntax.Word) string {
	var b strings.Builder
	for _, part := range w.Parts {
		switch x := part.(type) {
		case *syntax.Lit:
			b.WriteString(strings.ReplaceAll(x.Value, `\`, ""))
		case *syntax.SglQuoted:
			b.WriteString(x.Value)
		case *syntax.DblQuoted:
			for _, dp := range x.Parts {
				if l, ok := dp.(*syntax.Lit); ok {
					b.WriteString(l.Value)
				}
			}
		}
	}
	return b.String()
}

// loopReadVars are the variables a while loop's condition reads lines into
// (while read -r f, while IFS= read -r f).
func loopReadVars(cond []*syntax.Stmt) []string {
	if len(cond) == 0 {
		return nil
	}
	c, ok := cond[len(cond)-1].Cmd.(*syntax.CallExpr)
	if !ok || len(c.Args) < 2 || c.Args[0].Lit() != "read" {
		return nil
	}
	var names []string
	for i := 1; i < len(c.Args); i++ {
		lit := c.Args[i].Lit()
		switch {
		case lit == "-d" || lit == "-n" || lit == "-N" || lit == "-p" || lit == "-t" || lit == "-u" || lit == "-a" || lit == "-i":
			i++
		case strings.HasPrefix(lit, "-"):
		case isShellName(lit):
			names = append(names, lit)
		}
	}
	return names
}

// pipeStages are the commands of a pipeline, in order.
func pipeStages(b *syntax.BinaryCmd) []*syntax.Stmt {
	var out []*syntax.Stmt
	for _, s := range []*syntax.Stmt{b.X, b.Y} {
		if x, ok := s.Cmd.(*syntax.BinaryCmd); ok && (x.Op == syntax.Pipe || x.Op == syntax.PipeAll) && len(s.Redirs) == 0 {
			out = append(out, pipeStages(x)...)
		} else {
			out = append(out, s)
		}
	}
	return out
}

// filters pass on a subset of the lines they read (or all of them): the
// set is the one of the command before them.
var filters = map[string]bool{
	"grep": true, "egrep": true, "fgrep": true, "sort": true, "uniq": true, "head": true, "tail": true,
	"tr": true, "sed": true, "awk": true, "cut": true, "tee": true, "cat": true,
}

// pipeSet is the set of paths the last of stages prints: that of the
// command before its filters.
func (sc *setScan) pipeSet(stages []*syntax.Stmt, env shellEnv) fileSet {
	for i := len(stages) - 1; i >= 0; i-- {
		c, ok := stages[i].Cmd.(*syntax.CallExpr)
		if ok && len(c.Args) > 0 && filters[path.Base(c.Args[0].Lit())] && (i > 0 || len(c.Args) == 1) {
			if path.Base(c.Args[0].Lit()) == "cat" && len(c.Args) > 1 {
				return fileSet{} // cat LIST: the list is not known
			}
			continue
		}
		return sc.producedSet([]*syntax.Stmt{stages[i]}, sc.env.at(stages[i]))
	}
	return fileSet{}
}

// producedSet is the set of paths the last statement of stmts prints (a
// command substitution's, a process substitution's): find's, ls's,
// echo's and printf's paths.
func (sc *setScan) producedSet(stmts []*syntax.Stmt, env shellEnv) fileSet {
	if len(stmts) == 0 {
		return fileSet{}
	}
	s := stmts[len(stmts)-1]
	switch x := s.Cmd.(type) {
	case *syntax.BinaryCmd:
		if x.Op == syntax.Pipe || x.Op == syntax.PipeAll {
			return sc.pipeSet(pipeStages(x), env)
		}
	case *syntax.CallExpr:
		if len(x.Args) == 0 {
			return fileSet{}
		}
		env := sc.env.at(s)
		switch path.Base(x.Args[0].Lit()) {
		case "find":
			set, _ := sc.findSet(x.Args[1:], env)
			return set
		case "ls", "echo", "printf":
			set := fileSet{}
			operands := 0
			for _, w := range x.Args[1:] {
				if strings.HasPrefix(w.Lit(), "-") {
					continue
				}
				operands++
				ws := sc.wordSet(w, env)
				if ws.dir != "" && x.Args[0].Lit() == "ls" {
					// ls DIR prints the names in DIR.
					ws.file = sc.fileUnder(ws.dir)
				}
				set = set.union(ws)
			}
			if operands == 0 && x.Args[0].Lit() == "ls" {
				if d := sc.holding(absPath(".", env)); d != "" {
					set = fileSet{file: sc.fileUnder(d), dir: d}
				}
			}
			return set
		}
	}
	return fileSet{}
}

// fileUnder is a mounted path under the directory d.
func (sc *setScan) fileUnder(d string) string {
	for _, m := range sc.mounted {
		if strings.HasPrefix(m, strings.TrimSuffix(d, "/")+"/") {
			return m
		}
	}
	return ""
}

// holding is d when it holds a mounted path, else "".
func (sc *setScan) holding(d string) string {
	if sc.fileUnder(d) != "" {
		return d
	}
	return ""
}

// wordSet is what a word may expand to of the mounted files: a path, a
// pattern, or a command substitution that prints paths.
func (sc *setScan) wordSet(w *syntax.Word, env shellEnv) fileSet {
	p, glob, ok := wordPath(w, env)
	if !ok {
		set := fileSet{}
		for _, part := range w.Parts {
			if cs, ok := part.(*syntax.CmdSubst); ok {
				set = set.union(sc.producedSet(cs.Stmts, env))
			}
			if dq, ok := part.(*syntax.DblQuoted); ok {
				for _, dp := range dq.Parts {
					if cs, ok := dp.(*syntax.CmdSubst); ok {
						set = set.union(sc.producedSet(cs.Stmts, env))
					}
				}
			}
		}
		return set
	}
	abs := absPath(p, env)
	if glob {
		set := fileSet{}
		for _, m := range sc.mounted {
			if set.file == "" && sc.globMatch(abs, m) {
				set.file = m
			}
			for d := path.Dir(m); d != "/" && d != "." && set.dir == ""; d = path.Dir(d) {
				if sc.globMatch(strings.TrimSuffix(abs, "/"), d) {
					set.dir = d
				}
			}
		}
		return set
	}
	for _, m := range sc.mounted {
		if m == abs {
			return fileSet{file: m}
		}
	}
	return fileSet{dir: sc.holding(abs)}
}

// globMatch matches a shell pattern against a path, component by
// component; a * or ? does not match a leading dot (unless the script
// sets dotglob or GLOBIGNORE).
func (sc *setScan) globMatch(pattern, name string) bool {
	pc, nc := strings.Split(pattern, "/"), strings.Split(name, "/")
	if len(pc) != len(nc) {
		return false
	}
	for i := range pc {
		if !sc.dotglob && strings.HasPrefix(nc[i], ".") && !strings.HasPrefix(pc[i], ".") && pc[i] != nc[i] {
			return false
		}
		if ok, err := path.Match(pc[i], nc[i]); err != nil || !ok {
			return false
		}
	}
	return true
}

// findSet reads find's arguments: the set of paths it finds among the
// mounted ones (by its starting points, -name, -path and -type), and the
// commands of its -exec, -execdir, -ok and -okdir actions.
func (sc *setScan) findSet(args []*syntax.Word, env shellEnv) (fileSet, [][]*syntax.Word) {
	i := 0
	for i < len(args) {
		lit := args[i].Lit()
		if lit == "-H" || lit == "-L" || lit == "-P" || strings.HasPrefix(lit, "-O") {
			i++
			continue
		}
		if lit == "-D" {
			i += 2
			continue
		}
		break
	}
	type root struct{ abs, shown string }
	var roots []root
	for ; i < len(args); i++ {
		lit := wordText(args[i])
		if strings.HasPrefix(lit, "-") || lit == "(" || lit == "!" || lit == ")" {
			break
		}
		p, _, ok := wordPath(args[i], env)
		if !ok {
			continue // not known: as any other unresolved path
		}
		roots = append(roots, root{abs: absPath(p, env), shown: p})
	}
	if len(roots) == 0 && (i == 0 || i == len(args) || strings.HasPrefix(wordText(args[i]), "-") || wordText(args[i]) == "(" || wordText(args[i]) == "!") {
		roots = append(roots, root{abs: absPath(".", env), shown: "."})
	}
	var names, paths []*regexp.Regexp
	unknown := false
	types := ""
	var execs [][]*syntax.Word
	for ; i < len(args); i++ {
		lit := wordText(args[i])
		next := func() string {
			if i+1 < len(args) {
				i++
				return wordText(args[i])
			}
			return ""
		}
		switch lit {
		case "!", "-not":
			unknown = true
		case "-name", "-iname":
			if re := fnmatchRegexp(next(), lit == "-iname"); re != nil {
				names = append(names, re)
			} else {
				unknown = true
			}
		case "-path", "-ipath", "-wholename", "-iwholename":
			if re := fnmatchRegexp(next(), strings.HasPrefix(lit, "-i")); re != nil {
				paths = append(paths, re)
			} else {
				unknown = true
			}
		case "-regex", "-iregex", "-lname", "-ilname":
			next()
			unknown = true
		case "-type", "-xtype":
			types += strings.ReplaceAll(next(), ",", "")
		case "-exec", "-execdir", "-ok", "-okdir":
			var cmd []*syntax.Word
			for i++; i < len(args); i++ {
				t := wordText(args[i])
				if t == ";" || t == "+" && len(cmd) > 0 && strings.Contains(wordText(cmd[len(cmd)-1]), "{}") {
					break
				}
				cmd = append(cmd, args[i])
			}
			if len(cmd) > 0 {
				execs = append(execs, cmd)
			}
		}
	}
	admits := func(p string) bool {
		if unknown {
			return true
		}
		ok := len(names) == 0 && len(paths) == 0
		for _, re := range names {
			ok = ok || re.MatchString(path.Base(p))
		}
		for _, re := range paths {
			ok = ok || re.MatchString(p)
		}
		return ok
	}
	set := fileSet{}
	for _, r := range roots {
		shown := func(p string) string {
			if p == r.abs {
				return r.shown
			}
			return strings.TrimSuffix(r.shown, "/") + "/" + strings.TrimPrefix(p, strings.TrimSuffix(r.abs, "/")+"/")
		}
		for _, m := range sc.mounted {
			if m != r.abs && !strings.HasPrefix(m, strings.TrimSuffix(r.abs, "/")+"/") {
				continue
			}
			if (types == "" || strings.ContainsAny(types, "fl")) && admits(shown(m)) {
				if set.file == "" {
					set.file = m
				}
				set.all = append(set.all, m)
			}
			for d := path.Dir(m); set.dir == "" && (d == r.abs || strings.HasPrefix(d, strings.TrimSuffix(r.abs, "/")+"/")); d = path.Dir(d) {
				if (types == "" || strings.Contains(types, "d")) && admits(shown(d)) {
					set.dir = d
				}
				if d == r.abs || d == "/" {
					break
				}
			}
		}
	}
	return set, execs
}

// fnmatchRegexp is find's pattern (fnmatch without FNM_PATHNAME: * also
// matches /) as a regular expression, or nil.
func fnmatchRegexp(p string, fold bool) *regexp.Regexp {
	if p == "" {
		return nil
	}
	var b strings.Builder
	if fold {
		b.WriteString("(?i)")
	}
	b.WriteString("^")
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		case '[':
			j := strings.IndexByte(p[i+1:], ']')
			if j < 0 {
				return nil
			}
			class := p[i+1 : i+1+j]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
			i += j + 1
		case '\\':
			if i+1 < len(p) {
				i++
				b.WriteString(regexp.QuoteMeta(p[i : i+1]))
			}
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil
	}
	return re
}

// xargsCommand is the command xargs runs and its replacement string (-I,
// -i), after xargs's options; ok is false when xargs reads its items from
// a file (-a), not its standard input.
func xargsCommand(args []*syntax.Word) (cmd []*syntax.Word, repl string, ok bool) {
	for i := 0; i < len(args); i++ {
		lit := wordText(args[i])
		switch {
		case lit == "--":
			return args[i+1:], repl, true
		case lit == "-a" || strings.HasPrefix(lit, "--arg-file"):
			return nil, "", false
		case lit == "-I":
			if i+1 < len(args) {
				i++
				repl = wordText(args[i])
			}
		case strings.HasPrefix(lit, "-I"):
			repl = lit[2:]
		case lit == "-i" || lit == "--replace":
			repl = "{}"
		case strings.HasPrefix(lit, "-i"):
			repl = lit[2:]
		case strings.HasPrefix(lit, "--replace="):
			repl = strings.TrimPrefix(lit, "--replace=")
		case lit == "-n" || lit == "-s" || lit == "-P" || lit == "-L" || lit == "-d" || lit == "-E":
			i++
		case strings.HasPrefix(lit, "-"):
		default:
			return args[i:], repl, true
		}
	}
	return nil, repl, true
}

// nameOnly commands print or test a path's name, not its content.
var nameOnly = map[string]bool{
	"echo": true, "printf": true, "basename": true, "dirname": true, "realpath": true, "readlink": true,
	"test": true, "[": true, "ls": true, "stat": true, "wc": true, "file": true, "du": true,
	"md5sum": true, "sha1sum": true, "sha256sum": true, "sha512sum": true, "mkdir": true, "ln": true,
}

// shells run a script on the files they are given.
var shells = map[string]bool{"sh": true, "bash": true, "dash": true, "ash": true, "zsh": true, "ksh": true}

// printers print the content of the files they are given.
var printers = map[string]bool{
	"cat": true, "head": true, "tail": true, "nl": true, "tac": true, "od": true, "xxd": true, "hexdump": true,
	"base64": true, "strings": true, "sed": true, "awk": true, "grep": true, "egrep": true, "fgrep": true,
	"jq": true, "yq": true, "more": true, "less": true, "cut": true, "sort": true, "uniq": true, "diff": true,
}

// contentOrModeChangers change a file's content or mode in place, which a
// copy of the mount for the RUN takes (not rm, mv: the file would come
// back in the later RUNs).
var contentOrModeChangers = map[string]bool{
	"sed": true, "perl": true, "chmod": true, "chown": true, "chgrp": true, "touch": true,
	"dos2unix": true, "unix2dos": true,
}

func litsOf(ws []*syntax.Word) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = wordText(w)
	}
	return out
}

// changers change a file in place, which fails on a read-only mount.
var changers = map[string]bool{
	"chmod": true, "chown": true, "chgrp": true, "rm": true, "touch": true, "truncate": true,
	"dos2unix": true, "unix2dos": true, "shred": true, "mv": true,
}

// use checks a command (words, its program first) that stmt runs on the
// items of set: those of its words isItem reports, or words appended
// after them (xargs without -I).
func (sc *setScan) use(words []*syntax.Word, s *syntax.Stmt, env shellEnv, isItem func(*syntax.Word) bool, appended bool, set fileSet) {
	if len(words) == 0 {
		return
	}
	// A user switch or a wrapper (sudo cp, timeout 60 cp) runs the
	// command after it.
	for len(words) > 1 {
		switch path.Base(words[0].Lit()) {
		case "sudo", "gosu", "su-exec", "nice", "nohup", "timeout", "env", "command", "exec", "busybox", "stdbuf", "ionice":
			words = words[1:]
			for len(words) > 1 && (strings.HasPrefix(words[0].Lit(), "-") || strings.Contains(words[0].Lit(), "=") || isDuration(words[0].Lit())) {
				words = words[1:]
			}
			continue
		}
		break
	}
	name := path.Base(words[0].Lit())
	args := words[1:]
	lits := make([]string, len(args))
	for i, a := range args {
		lits[i] = wordText(a)
	}
	var items []int
	for i, a := range args {
		if isItem(a) {
			items = append(items, i)
		}
	}
	if len(items) == 0 && !appended {
		return
	}
	what := "the files of `" + set.from + "`"
	holds := set.holds
	add := func(kind useKind, why string) {
		sc.out = append(sc.out, setUse{kind: kind, why: why, stmt: s})
	}
	rec := recursive(lits)
	switch {
	case copiers[name]:
		// The destination is the last operand, unless -t names it.
		dest := -1
		if !appended && !hasTargetDir(lits) {
			for i := len(args) - 1; i >= 0; i-- {
				if !strings.HasPrefix(lits[i], "-") {
					dest = i
					break
				}
			}
		}
		source := appended
		for _, i := range items {
			if i != dest {
				source = true
			}
		}
		if !source {
			return
		}
		if set.file != "" {
			add(useCopy, name+" copies "+what+holds()+", into a file that would stay in the layer")
		} else if rec && name == "cp" {
			add(useCopy, name+" -r copies "+what+holds()+", into a directory that would stay in the layer")
		}
	case archivers[name]:
		if set.file != "" {
			add(useCopy, name+" copies "+what+holds()+", into a file that would stay in the layer")
		} else if rec || recursesByDefault(name, lits) {
			add(useCopy, name+" copies "+what+holds()+", into a file or directory that would stay in the layer")
		}
	case changers[name] || (name == "sed" || name == "perl") && inPlace(lits):
		if set.file != "" {
			add(useChange, name+" changes "+what+holds()+", which is read-only")
		} else if rec || name == "mv" {
			add(useChange, name+" changes "+what+holds()+", which holds a read-only mount")
		}
	case shells[name]:
		// sh -c 'cp "$1" /opt' _ {}: a script on each file, not read.
		add(useCopy, name+" runs a script that hushbuild does not follow on "+what+holds())
	case nameOnly[name]:
	case stdoutSink(s, env) == sinkFile && set.file != "":
		add(useCopy, name+" reads "+what+holds()+", into a file that would stay in the layer")
	case printers[name] && stdoutSink(s, env) == sinkLog && set.file != "" && !sc.quiet[s]:
		add(usePrint, name+" prints "+what+holds())
	}
}

func hasTargetDir(lits []string) bool {
	for _, l := range lits {
		if l == "-t" || strings.HasPrefix(l, "--target-directory") {
			return true
		}
	}
	return false
}

// inPlace reports sed -i, perl -i (-pi).
func inPlace(lits []string) bool {
	for _, l := range lits {
		if l == "--in-place" || strings.HasPrefix(l, "--in-place=") ||
			strings.HasPrefix(l, "-") && !strings.HasPrefix(l, "--") && strings.Contains(l, "i") {
			return true
		}
	}
	return false
}

func isDuration(s string) bool {
	if s == "" {
		return false
	}
	s = strings.TrimRight(s, "smhd")
	for _, c := range s {
		if (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	return s != ""
}

// setCopies reports the uses of sets that hold a mount: a copy, then a
// change, each one finding for the RUN.
func (a *analyzer) setCopies(st *stageState, n *parser.Node, uses []setUse, writes []*flow, script string, env shellEnv, p *runPlan) {
	// A write of a secret the engine follows is removed at the end of
	// the RUN (envsubst < .npmrc > ~/.npmrc): no copy stays.
	handled := map[*syntax.Stmt]bool{}
	for _, fl := range filterFlows(writes) {
		if fl.problem == "" {
			handled[fl.stmt] = true
		}
	}
	var copies, changes, prints []string
	for _, u := range uses {
		if handled[u.stmt] {
			continue
		}
		if u.kind == useChange && a.changeOnCopies(st, n, u, script, env) {
			continue
		}
		switch u.kind {
		case useChange:
			changes = append(changes, u.why)
		case usePrint:
			prints = append(prints, u.why)
		default:
			copies = append(copies, u.why)
		}
	}
	if len(prints) > 0 {
		a.add(RuleSecretInLog, n.StartLine, n.EndLine, false,
			"remove the command that prints it, or leave the credential file out of its files; CI keeps build logs",
			"this RUN may print a credential file that is a mount now into the build log: %s", strings.Join(prints, "; "))
	}
	if len(copies) > 0 {
		a.add(RuleCannotRewrite, n.StartLine, n.EndLine, false,
			"copy the credential file by its own literal path (cp SOURCE DEST, which hushbuild turns into a mount at DEST), and leave it out of the files a loop, find, xargs or cpio copies (a pattern, -name or list that does not match it)",
			"this RUN may copy a credential file that is a mount now into a file of the layer, by a command hushbuild cannot rewrite as a copy of that file: %s", strings.Join(copies, "; "))
		p.failed = true
	}
	if len(changes) > 0 {
		a.add(RuleCannotRewrite, n.StartLine, n.EndLine, false,
			"leave the credential file out of the files the loop, find or xargs changes (a pattern, -name or list that does not match it), or change it by its own path",
			"this RUN changes files one by one from a set that may hold a credential file, which is a read-only mount now, so the build would fail: %s", strings.Join(changes, "; "))
		p.failed = true
	}
}

// holds says what of the mounted files the set may hold, for a message.
func (s fileSet) holds() string {
	if s.file != "" {
		return ", which may be the credential file mounted at " + s.file
	}
	return ", which may be " + s.dir + ", a directory holding a credential file that is a mount now"
}

// readsFileList reports an archiver or copier that takes the names of
// the files to copy on its standard input: cpio -o/-p, tar -T -, rsync
// --files-from=-, zip -@.
func readsFileList(c *syntax.CallExpr) bool {
	name := path.Base(c.Args[0].Lit())
	args := make([]string, 0, len(c.Args)-1)
	for _, a := range c.Args[1:] {
		args = append(args, wordText(a))
	}
	stdin := func(v string) bool { return v == "-" || v == "/dev/stdin" }
	for i, a := range args {
		next := ""
		if i+1 < len(args) {
			next = args[i+1]
		}
		switch name {
		case "cpio":
			if a == "--create" || a == "--pass-through" ||
				strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.ContainsAny(a, "op") {
				return true
			}
		case "tar", "bsdtar":
			if (a == "-T" || a == "--files-from") && stdin(next) || a == "--files-from=-" || a == "--files-from=/dev/stdin" || a == "-T-" {
				return true
			}
		case "rsync":
			if a == "--files-from=-" || a == "--files-from" && stdin(next) {
				return true
			}
		case "zip":
			if a == "-@" || a == "--names-stdin" {
				return true
			}
		}
	}
	return false
}

// isMounted is the mounted path p, or "".
func (sc *setScan) isMounted(p string) string {
	for _, m := range sc.mounted {
		if m == p {
			return m
		}
	}
	return ""
}

// stdinCopy: cat < .npmrc > FILE, a mounted file on a command's standard
// input and its output into a file. (A secret the engine follows there is
// a write it removes at the end of the RUN: run drops those.)
func (sc *setScan) stdinCopy(s *syntax.Stmt, c *syntax.CallExpr, name string, env shellEnv) {
	if nameOnly[name] || stdoutSink(s, env) != sinkFile {
		return
	}
	for _, r := range s.Redirs {
		if (r.Op != syntax.RdrIn && r.Op != syntax.RdrInOut) || r.Word == nil {
			continue
		}
		if p, glob, ok := wordPath(r.Word, env); ok && !glob {
			if m := sc.isMounted(absPath(p, env)); m != "" {
				sc.out = append(sc.out, setUse{kind: useCopy, stmt: s,
					why: name + " reads the credential file mounted at " + m + " on its standard input into a file that would stay in the layer"})
			}
		}
	}
}

// unresolved: cp $APP_HOME/.npmrc /root/, a copy of a path the engine
// cannot resolve (a variable, a command substitution) that ends as a
// mounted path does: it may be that file, which the copy would put in the
// layer, unrewritten.
func (sc *setScan) unresolved(s *syntax.Stmt, c *syntax.CallExpr, name string, env shellEnv) {
	toFile := stdoutSink(s, env) == sinkFile
	if !copiers[name] && !archivers[name] && !(printers[name] && toFile) {
		return
	}
	args := c.Args[1:]
	lits := make([]string, len(args))
	for i, a := range args {
		lits[i] = wordText(a)
	}
	dest := -1
	if copiers[name] && !hasTargetDir(lits) {
		for i := len(args) - 1; i >= 0; i-- {
			if !strings.HasPrefix(lits[i], "-") {
				dest = i
				break
			}
		}
	}
	for i, w := range args {
		if i == dest || strings.HasPrefix(lits[i], "-") {
			continue
		}
		if _, _, ok := wordPath(w, env); ok {
			continue
		}
		tail := trailingLit(w)
		if len(tail) < 2 || tail[0] != '/' {
			continue
		}
		for _, m := range sc.mounted {
			if strings.HasSuffix(m, tail) {
				sc.out = append(sc.out, setUse{kind: useCopy, stmt: s,
					why: name + " copies " + sc.text(w.Pos(), w.End()) + ", a path hushbuild cannot resolve that may be the credential file mounted at " + m + ", into a file that would stay in the layer"})
				break
			}
		}
	}
}

// trailingLit is the literal text after a word's last expansion
// (${D}/.npmrc: /.npmrc).
func trailingLit(w *syntax.Word) string {
	var parts []syntax.WordPart
	for _, p := range w.Parts {
		if dq, ok := p.(*syntax.DblQuoted); ok {
			parts = append(parts, dq.Parts...)
		} else {
			parts = append(parts, p)
		}
	}
	tail := ""
	for i := len(parts) - 1; i >= 0; i-- {
		switch x := parts[i].(type) {
		case *syntax.Lit:
			tail = strings.ReplaceAll(x.Value, `\`, "") + tail
		case *syntax.SglQuoted:
			tail = x.Value + tail
		default:
			return tail
		}
	}
	return tail
}

// gitAdd: git add . (or -A, a directory, a pattern) takes the mounted
// file into the repository's objects, which stay in the layer.
func (sc *setScan) gitAdd(s *syntax.Stmt, c *syntax.CallExpr, name string, env shellEnv) {
	if name != "git" {
		return
	}
	args := c.Args[1:]
	for len(args) > 1 {
		switch l := args[0].Lit(); {
		case l == "-C" || l == "-c" || l == "--git-dir" || l == "--work-tree":
			args = args[2:]
			continue
		case strings.HasPrefix(l, "-"):
			args = args[1:]
			continue
		}
		break
	}
	if len(args) == 0 || args[0].Lit() != "add" {
		return
	}
	set := fileSet{}
	operands, all := 0, false
	for _, w := range args[1:] {
		l := wordText(w)
		switch {
		case l == "-A" || l == "--all" || l == "-f" || l == "--force":
			all = all || l == "-A" || l == "--all"
		case strings.HasPrefix(l, "-"):
		default:
			operands++
			set = set.union(sc.wordSet(w, env))
		}
	}
	if operands == 0 && all {
		// The whole work tree, from wherever it starts.
		for _, m := range sc.mounted {
			if !strings.HasPrefix(m, "/run/secrets/") {
				set.file = m
				break
			}
		}
	}
	if set.empty() {
		return
	}
	set.from = sc.text(c.Pos(), c.End())
	sc.out = append(sc.out, setUse{kind: useCopy, stmt: s,
		why: "git add takes the files of `" + set.from + "`" + set.holds() + ", into the repository's objects, which would stay in the layer"})
}

// interpreters run an inline script given with -c or -e.
var interpreters = map[string]bool{
	"python": true, "python3": true, "python2": true, "node": true, "nodejs": true, "perl": true, "ruby": true, "php": true,
}

// inlineScript: python -c "shutil.copy('.npmrc', ...)", an inline script
// of another language that names a mounted file: what it does with it is
// not followed.
func (sc *setScan) inlineScript(s *syntax.Stmt, c *syntax.CallExpr, name string) {
	if !interpreters[strings.TrimRight(name, "0123456789.")] && !interpreters[name] {
		return
	}
	for i := 1; i+1 < len(c.Args); i++ {
		l := c.Args[i].Lit()
		if !(l == "-c" || l == "-e" || l == "-r" || l == "--eval" || strings.HasPrefix(l, "-") && !strings.HasPrefix(l, "--") && strings.ContainsAny(l[len(l)-1:], "ce")) {
			continue
		}
		code := wordText(c.Args[i+1])
		for _, m := range sc.mounted {
			if b := path.Base(m); len(b) > 3 && strings.Contains(code, b) {
				sc.out = append(sc.out, setUse{kind: useCopy, stmt: s,
					why: name + " runs an inline script that names the credential file mounted at " + m + ", which hushbuild cannot follow"})
				return
			}
		}
	}
}

// changeOnCopies makes a find -exec that changes mounted files in place
// (sed -i, chmod) change copies of them: each file is a copy of its mount
// from the start of this RUN to its end, and the find runs again after
// the copy in the later RUNs that get the file (copyMode, as for a change
// by the file's own path). It reports false when a file is not a
// credential file of the stage (a secret mount of the RUN's own).
func (a *analyzer) changeOnCopies(st *stageState, n *parser.Node, u setUse, script string, env shellEnv) bool {
	if len(u.files) == 0 || u.stmt == nil {
		return false
	}
	for _, m := range u.files {
		found := false
		for _, fs := range st.files {
			if fs.target == m && fs.ended == 0 {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	var changes []*flow
	for _, m := range u.files {
		changes = append(changes, &flow{kind: flowFile, stmt: u.stmt, file: m, text: stmtText(script, u.stmt)})
	}
	a.fileWrites(st, n, changes, env)
	return true
}
