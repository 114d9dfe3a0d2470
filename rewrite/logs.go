package rewrite

import (
	"path"
	"regexp"
	"sort"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// printsSecret finds the commands of a RUN that print a secret into the
// build log: CI systems keep build logs, so a value printed there is
// leaked even when no layer keeps it. It returns a description of each.
func printsSecret(f *syntax.File, names map[string]bool, files map[string]bool, env shellEnv) []string {
	var out []string
	// xtrace prints the commands as they run: a leak only when a command
	// expands a secret.
	expands := len(wordVars(f, names)) > 0
	stack := make([]syntax.Node, 0, 16) // grown once for most scripts
	// pipes counts the pipes and substitutions on the stack, kept as
	// nodes are pushed and popped: a chain of thousands of && is as deep,
	// and looking down the stack at each command would be quadratic.
	pipes := 0
	isPipe := func(n syntax.Node) bool {
		switch x := n.(type) {
		case *syntax.BinaryCmd:
			return x.Op == syntax.Pipe || x.Op == syntax.PipeAll
		case *syntax.CmdSubst, *syntax.ProcSubst:
			return true
		}
		return false
	}
	// Output that goes into another command or a substitution is not
	// printed.
	piped := func() bool { return pipes > 0 }
	// sink is where the output of the innermost statement goes. Output
	// redirected to /dev/stderr, /dev/tty or /proc/1/fd/1 is printed all
	// the same: for a secret variable, findWrites sees that write and
	// logWrites reports it; for a secret file (cat FILE > /dev/stderr),
	// this does.
	sinkOf := func() sink {
		for i := len(stack) - 1; i >= 0; i-- {
			if s, ok := stack[i].(*syntax.Stmt); ok {
				return stdoutSink(s, env.at(s))
			}
		}
		return sinkLog
	}
	redirected := func() bool {
		for i := len(stack) - 1; i >= 0; i-- {
			if s, ok := stack[i].(*syntax.Stmt); ok {
				for _, r := range s.Redirs {
					if writesOut(r) && (r.N == nil || r.N.Value == "1") {
						return true
					}
				}
				return false
			}
		}
		return false
	}
	walk(f, func(n syntax.Node) bool {
		if n == nil {
			if isPipe(stack[len(stack)-1]) {
				pipes--
			}
			stack = stack[:len(stack)-1]
			return true
		}
		stack = append(stack, n)
		if isPipe(n) {
			pipes++
		}
		// export -p, declare -p: bash parses them as declarations, not
		// commands.
		if d, ok := n.(*syntax.DeclClause); ok && len(names) > 0 && !piped() && !redirected() {
			if w := declWords(d); dumpsAll(w) {
				out = append(out, strings.Join(w, " ")+" prints every variable, secrets included")
			}
		}
		if b, ok := n.(*syntax.BinaryCmd); ok && pipes == 1 && isPipe(b) && len(names) > 0 && !redirected() {
			// env | grep NPM: the filter prints the variables it keeps.
			if first, last := pipeEnds(b); dumpsAll(first) && printsInput(last) {
				out = append(out, path.Base(first[0])+" | "+path.Base(last[0])+" prints the variables it matches, secrets among them")
			}
		}
		c, ok := n.(*syntax.CallExpr)
		if !ok || len(c.Args) == 0 {
			return true
		}
		env := env
		for i := len(stack) - 1; i >= 0; i-- {
			if s, ok := stack[i].(*syntax.Stmt); ok {
				env = env.at(s)
				break
			}
		}
		name := path.Base(c.Args[0].Lit())
		switch name {
		case "printenv", "env", "export", "set", "declare":
			if len(names) == 0 || piped() || redirected() {
				return true
			}
			if len(c.Args) == 1 && name != "export" && name != "declare" {
				out = append(out, name+" prints every variable, secrets included")
			}
			if len(c.Args) == 2 && (c.Args[1].Lit() == "-p" && (name == "export" || name == "declare")) {
				out = append(out, name+" -p prints every variable, secrets included")
			}
			if name == "printenv" {
				for _, a := range c.Args[1:] {
					if names[a.Lit()] {
						out = append(out, "printenv "+a.Lit()+" prints the secret")
					}
				}
			}
			if name == "set" {
				for _, a := range c.Args[1:] {
					if l := a.Lit(); l == "-x" || strings.HasPrefix(l, "-") && !strings.HasPrefix(l, "--") && strings.Contains(l, "x") || l == "xtrace" {
						if expands {
							out = append(out, "set -x prints each command with the secret expanded")
						}
					}
				}
			}
		case "echo", "printf":
			if piped() || redirected() {
				return true
			}
			if vars := wordVars(c, names); len(vars) > 0 {
				out = append(out, name+" prints "+strings.Join(vars, ", "))
			}
		case "cat", "head", "tail", "more", "less":
			if piped() || sinkOf() != sinkLog {
				return true
			}
			for _, a := range c.Args[1:] {
				if p, _, ok := wordPath(a, env); ok && files[absPath(p, env)] {
					out = append(out, name+" prints the secret file "+absPath(p, env))
				}
			}
		case "cp", "install", "dd":
			// cp FILE /dev/stderr, dd if=FILE of=/dev/stdout.
			var srcs []string
			to := sinkFile
			for i, a := range c.Args[1:] {
				lit := a.Lit()
				switch {
				case name == "dd" && strings.HasPrefix(lit, "if="):
					srcs = append(srcs, absPath(strings.TrimPrefix(lit, "if="), env))
				case name == "dd" && strings.HasPrefix(lit, "of="):
					to = pathSink(absPath(strings.TrimPrefix(lit, "of="), env))
				case name == "dd" || strings.HasPrefix(lit, "-"):
				case i == len(c.Args)-2:
					if p, glob, ok := wordPath(a, env); ok && !glob {
						to = pathSink(absPath(p, env))
					}
				default:
					if p, _, ok := wordPath(a, env); ok {
						srcs = append(srcs, absPath(p, env))
					}
				}
			}
			if to != sinkLog {
				return true
			}
			for _, p := range srcs {
				if files[p] {
					out = append(out, name+" prints the secret file "+p)
				}
			}
		case "curl":
			// curl -v prints the request's headers: Authorization (from
			// -H, -u, --oauth2-bearer or the URL's user) among them.
			if vars := wordVars(c, names); len(vars) > 0 && curlVerbose(c) && !stderrElsewhere(stack, env) {
				out = append(out, "curl -v prints the request headers with "+strings.Join(vars, ", "))
			}
		case "sh", "bash", "ash", "dash":
			if expands && len(c.Args) > 1 && strings.HasPrefix(c.Args[1].Lit(), "-") && strings.Contains(c.Args[1].Lit(), "x") {
				out = append(out, name+" -x prints each command with the secret expanded")
			}
		}
		return true
	})
	sort.Strings(out)
	return uniqueStrings(out)
}

func uniqueStrings(in []string) []string {
	var out []string
	for i, s := range in {
		if i == 0 || s != in[i-1] {
			out = append(out, s)
		}
	}
	return out
}

var onbuildVarRe = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)`)

// pipeEnds are the first and the last command of a pipeline, as their
// words (nil for what is no simple command).
func pipeEnds(b *syntax.BinaryCmd) (first, last []string) {
	x := b.X
	for {
		if bb, ok := x.Cmd.(*syntax.BinaryCmd); ok && (bb.Op == syntax.Pipe || bb.Op == syntax.PipeAll) {
			x = bb.X
			continue
		}
		break
	}
	y := b.Y
	for {
		if bb, ok := y.Cmd.(*syntax.BinaryCmd); ok && (bb.Op == syntax.Pipe || bb.Op == syntax.PipeAll) {
			y = bb.Y
			continue
		}
		break
	}
	if len(y.Redirs) > 0 {
		return nil, nil
	}
	return stmtWords(x), stmtWords(y)
}

// stmtWords are the literal words of a simple command or a declaration
// (export -p parses as one).
func stmtWords(s *syntax.Stmt) []string {
	var out []string
	switch c := s.Cmd.(type) {
	case *syntax.CallExpr:
		for _, a := range c.Args {
			out = append(out, a.Lit())
		}
	case *syntax.DeclClause:
		out = append(out, c.Variant.Value)
		for _, a := range c.Args {
			switch {
			case a.Naked && a.Value != nil:
				out = append(out, a.Value.Lit())
			case a.Naked && a.Name != nil:
				out = append(out, a.Name.Value)
			default:
				out = append(out, "=")
			}
		}
	}
	if len(out) == 0 || out[0] == "" {
		return nil
	}
	return out
}

// declWords are the words of a declaration (export -p, declare -x NAME)
// as a command's: its variant, then its options and names.
func declWords(d *syntax.DeclClause) []string {
	w := []string{d.Variant.Value}
	for _, a := range d.Args {
		switch {
		case a.Naked && a.Name != nil:
			w = append(w, a.Name.Value)
		case a.Naked && a.Value != nil:
			w = append(w, a.Value.Lit())
		default:
			// An assignment (export X=1) prints nothing.
			return nil
		}
	}
	return w
}

// dumpsAll reports a command that prints every variable: env, printenv,
// set, export -p, declare -p (declare -x).
func dumpsAll(w []string) bool {
	if len(w) == 0 {
		return false
	}
	switch path.Base(w[0]) {
	case "env", "printenv", "set":
		return len(w) == 1
	case "export", "declare", "typeset":
		return len(w) == 1 || len(w) == 2 && (w[1] == "-p" || w[1] == "-x")
	}
	return false
}

// printsInput reports a filter that prints (some of) what it reads: grep
// without -q, -c or -l, sort, head and the like.
func printsInput(w []string) bool {
	if len(w) == 0 {
		return false
	}
	switch path.Base(w[0]) {
	case "grep", "egrep", "fgrep", "rg":
		for _, l := range w[1:] {
			switch {
			case l == "-q" || l == "--quiet" || l == "--silent" || l == "-c" || l == "--count" || l == "-l" || l == "--files-with-matches" || l == "-L":
				return false
			case strings.HasPrefix(l, "-") && !strings.HasPrefix(l, "--") && strings.ContainsAny(l, "qcl"):
				return false
			}
		}
		return true
	case "sort", "uniq", "head", "tail", "cat", "awk", "sed", "cut", "tr", "column", "less", "more", "tee", "nl":
		return true
	}
	return false
}

// curlVerbose reports curl -v, --verbose or --trace: curl prints the
// request headers.
func curlVerbose(c *syntax.CallExpr) bool {
	for _, a := range c.Args[1:] {
		l := a.Lit()
		switch {
		case l == "--verbose" || l == "--trace" || l == "--trace-ascii" || strings.HasPrefix(l, "--trace="), strings.HasPrefix(l, "--trace-ascii="):
			return true
		case l == "--":
			return false
		case strings.HasPrefix(l, "-") && !strings.HasPrefix(l, "--") && strings.Contains(l, "v"):
			return true
		}
	}
	return false
}

// stderrElsewhere reports whether the innermost statement on the stack
// sends its standard error to a file or a device other than the log
// (2>/dev/null, &>FILE).
func stderrElsewhere(stack []syntax.Node, env shellEnv) bool {
	for i := len(stack) - 1; i >= 0; i-- {
		s, ok := stack[i].(*syntax.Stmt)
		if !ok {
			continue
		}
		out := false
		for _, r := range s.Redirs {
			if r.Op == syntax.RdrAll || r.Op == syntax.AppAll || writesOut(r) && r.N != nil && r.N.Value == "2" {
				out = redirSink(r, env) != sinkLog
			}
		}
		return out
	}
	return false
}
