package rewrite

// What the engine cannot follow in a script that sees secrets: pure
// functions of the syntax tree, tested in opaque_test.go.

import (
	"path"
	"slices"
	"sort"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// dumpedVars are the secrets a command prints without naming them with $:
// env, printenv NAME, envsubst, export -p, set.
func dumpedVars(cmd syntax.Command, names map[string]bool) []string {
	if d, ok := cmd.(*syntax.DeclClause); ok && len(names) > 0 && dumpsAll(declWords(d)) {
		var out []string
		for n := range names {
			out = append(out, n)
		}
		sort.Strings(out)
		return out
	}
	c, ok := cmd.(*syntax.CallExpr)
	if !ok || len(c.Args) == 0 || len(names) == 0 {
		return nil
	}
	all := func() []string {
		var out []string
		for n := range names {
			out = append(out, n)
		}
		sort.Strings(out)
		return out
	}
	switch path.Base(c.Args[0].Lit()) {
	case "env", "envsubst", "set", "export", "declare", "typeset":
		return all()
	case "printenv":
		if len(c.Args) == 1 {
			return all()
		}
		var out []string
		for _, a := range c.Args[1:] {
			if names[a.Lit()] {
				out = append(out, a.Lit())
			}
		}
		return out
	}
	return nil
}

// taint adds to names the shell variables a script assigns from them
// (T="$NPM_TOKEN"), until nothing changes.
func taint(f *syntax.File, names map[string]bool) map[string]bool {
	return taintScript(f, names, shellEnv{}, nil).names
}

// opaqueWrites finds what the engine cannot follow in a script that sees
// secrets: nested shells that write them, git remotes with them, reads of
// a mounted credential file into another file or an archive. Each is a
// reason to stop rather than pass.
func opaqueWrites(f *syntax.File, src string, env shellEnv, names map[string]bool, mounted []string) []string {
	var out []string
	isMounted := func(p string) bool {
		for _, m := range mounted {
			if p == m {
				return true
			}
		}
		return false
	}
	parentOfMounted := func(p string) bool {
		for _, m := range mounted {
			if strings.HasPrefix(m, strings.TrimSuffix(p, "/")+"/") {
				return true
			}
		}
		return false
	}
	caps := captures(f, env, mounted)
	var captured map[*syntax.Stmt]bool // made for the first capture
	for _, c := range caps {
		if captured == nil {
			captured = map[*syntax.Stmt]bool{}
		}
		captured[c.stmt] = true
	}
	derived := captureNames(f, caps)
	shellNames := names
	if len(derived) > 0 {
		shellNames = map[string]bool{}
		for n := range names {
			shellNames[n] = true
		}
		for n := range derived {
			shellNames[n] = true
		}
	}
	walk(f, func(n syntax.Node) bool {
		s, ok := n.(*syntax.Stmt)
		if !ok {
			return true
		}
		env := env.at(s)
		c, ok := s.Cmd.(*syntax.CallExpr)
		if !ok || len(c.Args) == 0 {
			return true
		}
		name := path.Base(c.Args[0].Lit())
		var argsBuf [8]string // on the stack for most commands
		args := argsBuf[:0]
		for _, a := range c.Args[1:] {
			args = append(args, a.Lit())
		}
		// Output into the build log or a device is no file (printsSecret
		// reports the log).
		redirected := stdoutSink(s, env) == sinkFile
		// A shell in the shell (sh -c, bash -lc, eval): findWrites follows
		// its writes; what it cannot read, or cannot follow in it, stops.
		if ns, err := nestedOf(c, s, src); ns != nil && len(shellNames) > 0 {
			if err != nil {
				out = append(out, ns.shell+" runs a script that hushbuild cannot parse, in a RUN that sees secrets")
			} else {
				out = append(out, opaqueWrites(ns.file, ns.text, env, taint(ns.file, ns.innerNames(shellNames)), mounted)...)
			}
		}
		// git remote add/set-url with credentials in the URL.
		if name == "git" && len(args) >= 2 && args[0] == "remote" && (args[1] == "add" || args[1] == "set-url") && len(wordVars(c, names)) > 0 {
			out = append(out, "git remote "+args[1]+" keeps the credentials of its URL in .git/config")
		}
		// Reads of a mounted credential file into another file or archive.
		for i, a := range c.Args[1:] {
			if len(mounted) == 0 {
				break // nothing mounted, nothing to read
			}
			lit := args[i]
			p, glob, ok := wordPath(a, env)
			if strings.HasPrefix(lit, "if=") {
				p, glob, ok = strings.TrimPrefix(lit, "if="), false, true
			}
			// tar --directory=/app -czf x.tgz . archives /app.
			if archivers[name] && strings.HasPrefix(lit, "--directory=") {
				p, glob, ok = strings.TrimPrefix(lit, "--directory="), false, true
			}
			if !ok {
				continue
			}
			p = absPath(p, env)
			if glob {
				// A pattern the shell expands: the files it matches
				// (cp docker/* /root/, cat conf/*rc > all, tar -cf
				// x.tar d*) are read as if named.
				if m := globMounted(p, mounted); m != "" && (redirected || archiver(name, args) || copiers[name]) {
					out = append(out, name+" copies the secret mounted at "+m+", which "+p+" matches, into a file that would stay in the layer")
				} else if d := globParentOfMounted(p, mounted); d != "" && (name == "cp" || name == "rsync" || archiver(name, args)) && (recursive(args) || recursesByDefault(name, args)) {
					out = append(out, name+" copies "+d+", which "+p+" matches and which holds a secret mount, into a file or directory that would stay in the layer")
				}
				continue
			}
			switch {
			case isMounted(p) && (redirected || archiver(name, args) && !captured[s] && !ddToDevice(name, args, env)):
				out = append(out, name+" copies the secret mounted at "+p+" into a file that would stay in the layer")
			case parentOfMounted(p) && (name == "cp" || name == "rsync" || archiver(name, args)) && (recursive(args) || recursesByDefault(name, args)):
				out = append(out, name+" copies "+p+", which holds a secret mount, into a file or directory that would stay in the layer")
			}
		}
		return true
	})
	// A variable that took a mounted secret must not reach a file either:
	// a later RUN could not replay the write, the variable is gone there.
	if len(caps) > 0 {
		written := map[string]bool{}
		for _, fl := range filterFlows(findWrites(f, src, env, derived)) {
			for _, v := range fl.vars {
				written[v] = true
			}
		}
		for _, c := range caps {
			for v := range taint(f, map[string]bool{c.name: true}) {
				if written[v] {
					out = append(out, c.cmd+" copies the secret mounted at "+c.path+" into the variable "+c.name+", and a command writes it into a file that would stay in the layer")
					break
				}
			}
		}
	}
	sort.Strings(out)
	return uniqueStrings(out)
}

// capture is a shell variable that takes a mounted secret file, encoded,
// through a command substitution: X="$(base64 -w0 /run/secrets/sa.json)".
type capture struct {
	stmt      *syntax.Stmt // the command in the substitution
	name      string       // the variable
	cmd, path string       // the command and the mounted file it reads
}

// captures finds the commands whose whole output a shell variable takes
// and that read a mounted secret file with base64: base64 (without -o)
// writes only to its standard output, which the substitution takes, so it
// writes no file. The value then lives in the variable; opaqueWrites
// follows it from there. Other encoders and archivers write files by
// themselves (tar -f, gzip FILE, xxd IN OUT, openssl -out, gpg) and stay
// refused, and so does a pipeline, whose later commands are not checked.
func captures(f *syntax.File, env shellEnv, mounted []string) []capture {
	if len(mounted) == 0 {
		return nil // nothing mounted, nothing to read
	}
	isMounted := map[string]bool{}
	for _, m := range mounted {
		isMounted[m] = true
	}
	var out []capture
	walk(f, func(n syntax.Node) bool {
		as, ok := n.(*syntax.Assign)
		if !ok || as.Name == nil || as.Value == nil || as.Array != nil || as.Index != nil {
			return true
		}
		parts := as.Value.Parts
		if len(parts) == 1 {
			if dq, ok := parts[0].(*syntax.DblQuoted); ok {
				parts = dq.Parts
			}
		}
		if len(parts) != 1 {
			return true
		}
		cs, ok := parts[0].(*syntax.CmdSubst)
		if !ok || len(cs.Stmts) != 1 {
			return true
		}
		s := cs.Stmts[0]
		c, ok := s.Cmd.(*syntax.CallExpr)
		if !ok || len(c.Args) < 2 || len(s.Redirs) > 0 || s.Background || s.Coprocess || path.Base(c.Args[0].Lit()) != "base64" {
			return true
		}
		var read string
		env := env.at(s)
		for _, a := range c.Args[1:] {
			lit := a.Lit()
			if strings.HasPrefix(lit, "-o") || strings.HasPrefix(lit, "--o") {
				return true // BSD base64 -o FILE
			}
			if p, glob, ok := wordPath(a, env); ok && !glob && isMounted[absPath(p, env)] {
				read = absPath(p, env)
			}
		}
		if read != "" {
			out = append(out, capture{stmt: s, name: as.Name.Value, cmd: "base64", path: read})
		}
		return true
	})
	return out
}

// captureNames are the variables that take a mounted secret, and those
// assigned from them.
func captureNames(f *syntax.File, caps []capture) map[string]bool {
	if len(caps) == 0 {
		// taint of no name is none: skip its map and walk.
		return nil
	}
	names := map[string]bool{}
	for _, c := range caps {
		names[c.name] = true
	}
	return taint(f, names)
}

// archivers copy or encode a file into another.
var archivers = map[string]bool{
	"tar": true, "zip": true, "rsync": true, "dd": true, "base64": true, "xxd": true, "gzip": true,
	"bzip2": true, "xz": true, "zstd": true, "openssl": true, "gpg": true, "7z": true, "scp": true,
}

// archiver reports whether the command name with arguments args copies
// or encodes a file into another: one of archivers, or keytool
// -importkeystore, which writes the keys of a keystore (a secret mount)
// into another, encrypted under the destination's password (changeit, as
// often as not): a form that no check searches, and that anyone who reads
// the Dockerfile can open.
func archiver(name string, args []string) bool {
	if name == "keytool" {
		return slices.Contains(args, "-importkeystore")
	}
	return archivers[name]
}

// ddToDevice reports whether dd writes to a device (of=/dev/stderr,
// of=/dev/null) rather than into a file.
func ddToDevice(name string, args []string, env shellEnv) bool {
	if name != "dd" {
		return false
	}
	for _, a := range args {
		if strings.HasPrefix(a, "of=") {
			return pathSink(absPath(strings.TrimPrefix(a, "of="), env)) != sinkFile
		}
	}
	return false
}

// recursesByDefault reports whether an archiver creating an archive
// takes a directory's files without a recursive option: tar -c, -r, -u
// (unless --no-recursion) and 7z a, u.
func recursesByDefault(name string, args []string) bool {
	if len(args) == 0 {
		return false
	}
	switch name {
	case "tar", "bsdtar":
		if slices.Contains(args, "--no-recursion") {
			return false
		}
		for _, a := range args {
			switch a {
			case "--create", "--append", "--update":
				return true
			}
		}
		// The mode is in the first word (tar czf, tar -czf) or in a
		// word of short options of its own (tar -z -c -f).
		first := strings.TrimPrefix(args[0], "-")
		if !strings.HasPrefix(args[0], "--") && strings.ContainsAny(first, "cru") {
			return true
		}
		for _, a := range args[1:] {
			if strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.ContainsAny(a[1:], "cru") {
				return true
			}
		}
	case "7z", "7za", "7zr":
		return args[0] == "a" || args[0] == "u"
	}
	return false
}

// copiers copy a file they are given into another (whose path the
// engine follows only for a literal source: transferOf).
var copiers = map[string]bool{"cp": true, "install": true}

// globMounted is a mounted path the pattern p matches, or "".
func globMounted(p string, mounted []string) string {
	for _, m := range mounted {
		if shellMatch(p, m) {
			return m
		}
	}
	return ""
}

// globParentOfMounted is a directory holding a mounted path that the
// pattern p matches, or "".
func globParentOfMounted(p string, mounted []string) string {
	for _, m := range mounted {
		for d := path.Dir(m); d != "/" && d != "."; d = path.Dir(d) {
			if shellMatch(strings.TrimSuffix(p, "/"), d) {
				return d
			}
		}
	}
	return ""
}

func recursive(args []string) bool {
	for _, a := range args {
		if a == "-r" || a == "-R" || a == "-a" || a == "--recursive" || a == "--archive" ||
			strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.ContainsAny(a, "rRa") {
			return true
		}
	}
	return false
}

// usesExecOrTrap reports whether a script runs exec with a command or sets
// a trap: both would keep the EXIT trap that restores generated files from
// running. So does either run by command or builtin (command exec node
// app), or by eval, whose words are read for them (eval "exec $@").
func usesExecOrTrap(f *syntax.File) bool {
	found := false
	walk(f, func(n syntax.Node) bool {
		c, ok := n.(*syntax.CallExpr)
		if !ok || len(c.Args) == 0 {
			return true
		}
		args := c.Args
		name := commandName(args[0])
		for (name == "command" || name == "builtin") && len(args) > 1 {
			args = args[1:]
			for len(args) > 1 && strings.HasPrefix(commandName(args[0]), "-") {
				args = args[1:] // command -p
			}
			name = commandName(args[0])
		}
		switch name {
		case "trap":
			found = true
		case "exec":
			if len(args) > 1 {
				found = true
			}
		case "eval":
			found = evalExecOrTrap(args[1:])
		}
		return !found
	})
	return found
}

// commandName is a command word as the shell runs it, quotes and
// backslashes removed ("exec", \exec), or "" when it expands something.
func commandName(w *syntax.Word) string {
	l, ok := literalWord(w)
	if !ok {
		return ""
	}
	return strings.ReplaceAll(l, "\\", "")
}

// evalExecOrTrap reports whether eval's words may run exec or trap: their
// literal text, parsed as the script eval runs, or any of their literal
// pieces naming one where they expand something (eval "exec $CMD").
func evalExecOrTrap(args []*syntax.Word) bool {
	var script []string
	literal := true
	for _, w := range args {
		l, ok := literalWord(w)
		if !ok {
			literal = false
			break
		}
		script = append(script, l)
	}
	if literal {
		f, err := parseShell(strings.Join(script, " "))
		return err != nil || usesExecOrTrap(f)
	}
	found := false
	for _, w := range args {
		syntax.Walk(w, func(n syntax.Node) bool {
			if l, ok := n.(*syntax.Lit); ok {
				for _, word := range strings.FieldsFunc(l.Value, func(r rune) bool {
					return !(r >= 'a' && r <= 'z' || r == '\\')
				}) {
					if w := strings.ReplaceAll(word, "\\", ""); w == "exec" || w == "trap" {
						found = true
					}
				}
			}
			return !found
		})
	}
	return found
}
