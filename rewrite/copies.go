package rewrite

import (
	"path"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"mvdan.cc/sh/v3/syntax"
)

// Copies of generated secret files.
//
// A file a command wrote a secret into (a genFile) is removed when its RUN
// ends; a copy of it would not be: `cp .npmrc web/`, `mv /tmp/npmrc
// ~/.npmrc`, `install -m600 .npmrc ~/.npmrc`, `cat .npmrc > web/.npmrc`.
// The copy's destination becomes a generated secret file too: saved,
// removed when the RUN ends, and rewritten in the later RUNs by replaying
// the copy after the writes of its source. Its source's path is saved and
// restored with it, since the replay may recreate it; when the source ends
// (mv, rm), its writes move in front of the copy's own.

// genCopies finds the commands of a RUN that copy a generated secret file
// (live in the stage, or written by this RUN) to another file.
func (a *analyzer) genCopies(st *stageState, n *parser.Node, f *syntax.File, script string, env shellEnv, writes []*flow, p *runPlan) {
	mounted := map[string]bool{}
	for _, fs := range st.files {
		mounted[fs.target] = true
	}
	sources := map[string]*genFile{}
	var paths []string
	for _, g := range st.gen {
		if g.ended == 0 && g.fromFile == nil && !mounted[g.path] {
			sources[g.path] = g
			paths = append(paths, g.path)
		}
	}
	if len(sources) == 0 {
		return
	}
	refuse := func(why string) {
		a.add(RuleCannotRewrite, n.StartLine, n.EndLine, false,
			"copy the file to a destination named in full (web/.npmrc) or to a directory written with a trailing slash (web/)",
			"this RUN copies the file %s", why)
		p.failed = true
	}
	walk(f, func(x syntax.Node) bool {
		s, ok := x.(*syntax.Stmt)
		if !ok {
			return true
		}
		c, ok := s.Cmd.(*syntax.CallExpr)
		if !ok || len(c.Args) < 3 {
			return true
		}
		name := path.Base(c.Args[0].Lit())
		if !transferCommands[name] {
			return true
		}
		senv := env.at(s)
		t := transferOf(c, name, senv, paths)
		if t == nil {
			return true
		}
		if t.problem != "" {
			refuse(t.src + " that holds a secret, and " + t.problem)
			return true
		}
		if !path.IsAbs(t.dest) {
			why, _ := unknownDir(senv)
			refuse(t.src + " that holds a secret, and " + strings.Replace(why, "the file it writes", "its destination", 1))
			return true
		}
		// cp SRC DIR: DIR may be a directory (the copy is DIR/NAME) or
		// the copy's own name.
		last := c.Args[len(c.Args)-1]
		if lp, glob, ok := wordPath(last, senv); ok && !glob && !strings.HasSuffix(lp, "/") && t.dest == absPath(lp, senv) && path.Base(t.dest) != path.Base(t.src) {
			switch {
			case senv.isDir(t.dest):
				t.dest = path.Join(t.dest, path.Base(t.src))
			case !looksLikeFileName(path.Base(t.dest)):
				refuse(t.src + " that holds a secret to " + t.dest + ", which may be a directory or the copy's name")
				return true
			}
		}
		src := sources[t.src]
		g := a.copyGen(st, n, src, t.dest, replayOf(stmtText(script, s), senv))
		if g != nil && senv.homeAssumed && (usesHome(last) || senv.dirViaHome) {
			g.assumedHome = senv.home
		}
		if t.cmd == "mv" {
			src.endsHere = true
		}
		return true
	})
	// A copy inside a nested script (sh -c, su -c, sudo cp) is not
	// followed: refused.
	walk(f, func(x syntax.Node) bool {
		if s, ok := x.(*syntax.Stmt); ok {
			if c, ok := s.Cmd.(*syntax.CallExpr); ok {
				if src, shell := nestedCopy(s, c, script, env, sources, paths, 0); src != "" {
					a.add(RuleCannotRewrite, n.StartLine, n.EndLine, false,
						"copy the file in the RUN's own script, not in a script or a program that another program runs",
						"this RUN copies the file %s that holds a secret inside %s, where hushbuild does not follow the copy", src, shell)
					p.failed = true
				}
			}
		}
		return true
	})
	// cat .npmrc > web/.npmrc, sed ... .npmrc | tee out: a write whose
	// command reads a generated secret file.
	for _, w := range writes {
		if w.kind != flowFile || w.file == "" || w.problem != "" || sources[w.file] != nil || pathSink(w.file) != sinkFile {
			continue
		}
		if src := readsGen(w.stmt, env, sources); src != nil {
			if g := a.copyGen(st, n, src, w.file, replayOf(w.text, env.at(w.stmt))); g != nil {
				if w.assumedHome != "" {
					g.assumedHome = w.assumedHome
				}
				g.assumeUnset(w.assumedUnset)
			}
		}
	}
}

// copyGen makes dest a generated secret file that a command of this RUN
// copies src into.
func (a *analyzer) copyGen(st *stageState, n *parser.Node, src *genFile, dest string, r replay) *genFile {
	if dest == src.path {
		return nil
	}
	g := st.genFile(dest)
	if g == nil {
		a.slots++
		g = &genFile{path: dest, line: n.StartLine, slot: a.slots, copyOf: src}
		st.gen = append(st.gen, g)
		a.gen = append(a.gen, g)
	}
	for _, o := range append([]string{src.path}, src.also...) {
		if o != g.path && !contains(g.also, o) {
			g.also = append(g.also, o)
		}
	}
	g.vars = append(g.vars, src.vars...)
	// The source's writes are replayed for the copy once the source
	// ends: what they need, the copy needs.
	g.mounts = append(g.mounts, src.mounts...)
	if src.noReplay != "" && g.noReplay == "" {
		g.noReplay, g.noReplayLine = src.noReplay, src.noReplayLine
	}
	g.pending = append(g.pending, r)
	if src.assumedHome != "" {
		g.assumedHome = src.assumedHome
	}
	g.assumeUnset(src.assumedUnset)
	return g
}

// readsGen is the generated secret file a statement reads (as an
// argument or with <), or nil.
func readsGen(s *syntax.Stmt, env shellEnv, sources map[string]*genFile) *genFile {
	var found *genFile
	walk(s, func(x syntax.Node) bool {
		if found != nil {
			return false
		}
		switch y := x.(type) {
		case *syntax.Stmt:
			for _, r := range y.Redirs {
				if r.Op == syntax.RdrIn && r.Word != nil {
					if p, glob, ok := wordPath(r.Word, env.at(y)); ok && !glob {
						found = sources[absPath(p, env.at(y))]
					}
				}
			}
			if c, ok := y.Cmd.(*syntax.CallExpr); ok && len(c.Args) > 1 {
				for _, w := range c.Args[1:] {
					if p, glob, ok := wordPath(w, env.at(y)); ok && !glob && found == nil {
						found = sources[absPath(p, env.at(y))]
					}
				}
			}
		}
		return true
	})
	return found
}

// looksLikeFileName: a name with a dot (.npmrc, pip.conf) or ending in rc
// (npmrc) names a file, not a directory.
func looksLikeFileName(base string) bool {
	return strings.Contains(base, ".") || strings.HasSuffix(base, "rc")
}

// maxNesting bounds how deep nestedCopy follows scripts in scripts.
const maxNesting = 32

// nestedCopy finds a copy of a generated secret file (cp, mv, install, a
// command that reads it with its output into a file or a pipe) in the
// script that c runs in a shell of its own (nestedOf), or in the scripts
// that one runs: the file, and the shell's name for messages.
func nestedCopy(s *syntax.Stmt, c *syntax.CallExpr, src string, env shellEnv, sources map[string]*genFile, paths []string, depth int) (string, string) {
	ns, err := nestedOf(c, s, src)
	if ns == nil || err != nil || depth > maxNesting {
		return "", ""
	}
	outer := env.at(s)
	inner := outer
	switch {
	case ns.sw != nil && ns.direct:
		inner = outer.underProgram(ns.sw)
	case ns.sw != nil:
		inner = outer.under(ns.sw)
	}
	var prog []string
	if !ns.eval {
		prog = []string{strings.Fields(ns.shell)[0]}
	}
	inner = inner.withDirs(ns.file, ns.text, prog)
	found, shell := "", ns.shell
	walk(ns.file, func(x syntax.Node) bool {
		is, ok := x.(*syntax.Stmt)
		if !ok || found != "" {
			return found == ""
		}
		senv := inner.at(is)
		if ic, ok := is.Cmd.(*syntax.CallExpr); ok && len(ic.Args) > 0 {
			if name := path.Base(ic.Args[0].Lit()); transferCommands[name] && len(ic.Args) >= 3 {
				if t := transferOf(ic, name, senv, paths); t != nil {
					found = t.src
					return false
				}
			}
			if f, sh := nestedCopy(is, ic, ns.text, inner, sources, paths, depth+1); f != "" {
				found, shell = f, sh
				return false
			}
		}
		writes := false
		for _, r := range is.Redirs {
			writes = writes || writesOut(r)
		}
		if b, ok := is.Cmd.(*syntax.BinaryCmd); ok && (b.Op == syntax.Pipe || b.Op == syntax.PipeAll) {
			writes = true
		}
		if g := readsGen(is, inner, sources); writes && g != nil {
			found = g.path
			return false
		}
		return true
	})
	return found, shell
}
