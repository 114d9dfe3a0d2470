package rewrite

// What a RUN does with the secrets its script writes: the analyzer side
// of the shell-flow facts that flows.go, taint.go, dirs.go and tools.go
// find in the syntax tree.

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// flowFinding names a flow's problem as a CannotRewrite error.
func (a *analyzer) flowProblem(line, end int, fl *flow) {
	if fl.kind == flowClone {
		what, keeps := "git clone", "in the cloned repository's .git/config"
		if fl.clone != nil {
			what, keeps = fl.clone.What, fl.clone.Keeps
		}
		a.add(RuleCannotRewrite, line, end, false,
			"write the clone URL in the "+what+" command as https://USER:${SECRET}@HOST/PATH, or clone with a credential helper",
			"%s would keep the secret %s %s, and %s", what, strings.Join(fl.vars, ", "), keeps, fl.problem)
		return
	}
	fix := fl.fix
	if fix == "" {
		fix = "write the file inside one RUN and delete it there, or pass the credential to the tool through its environment"
	}
	a.add(RuleCannotRewrite, line, end, false, fix,
		"a command writes the secret %s into a file that would stay in the layer, and %s", strings.Join(fl.vars, ", "), fl.problem)
}

// flowPreludes gives a RUN what the flows of earlier RUNs (and its own)
// need: the ssh mount for private keys, git settings in the environment,
// and the generated secret files saved, replayed and restored.
func (a *analyzer) flowPreludes(st *stageState, n *parser.Node, p *runPlan) {
	line := n.StartLine
	for _, k := range st.keys {
		if k.ended != 0 && k.ended != line {
			continue
		}
		if !p.hasSSH {
			p.hasSSH = true
			p.addMount("--mount=type=ssh", instructions.Mount{Type: instructions.MountTypeSSH})
		}
		k.uses = append(k.uses, line)
	}
	if len(st.git) == 0 && len(st.gen) == 0 {
		return
	}
	if !p.canPre {
		a.add(RuleCannotRewrite, n.StartLine, n.EndLine, false,
			"use the shell form of RUN, or RUN [\"sh\", \"-c\", \"...\"]",
			"an earlier RUN wrote a secret into a file or into git's configuration; hushbuild gives it to later commands at the start of each RUN, which needs a shell script: the shell form of RUN, or an exec form of sh or bash -c")
		return
	}
	var pre []string
	if len(st.git) > 0 {
		var names []string
		pre = append(pre, fmt.Sprintf("GIT_CONFIG_COUNT=%d;", len(st.git)))
		names = append(names, "GIT_CONFIG_COUNT")
		for i, g := range st.git {
			for _, v := range g.vars {
				if v != nil {
					a.ensure(st, n, v, p)
				}
			}
			pre = append(pre, fmt.Sprintf("GIT_CONFIG_KEY_%d=%s; GIT_CONFIG_VALUE_%d=%s;", i, g.key, i, g.value))
			names = append(names, fmt.Sprintf("GIT_CONFIG_KEY_%d", i), fmt.Sprintf("GIT_CONFIG_VALUE_%d", i))
			g.uses = append(g.uses, line)
		}
		pre = append(pre, "export "+strings.Join(names, " ")+";")
	}
	var restore []string
	var replays []string
	saved := map[string]bool{}
	home := st.shellEnv().home
	for _, g := range st.gen {
		// A replay under another HOME (a child stage as another user)
		// sets the HOME it was written with: only one under the same
		// assumed HOME relies on $HOME.
		if g.ended == 0 && g.assumedHome != "" && g.assumedHome == home {
			pre = append(pre, homeGuard(g.assumedHome, st.user))
			break
		}
	}
	var unset []string
	for _, g := range st.gen {
		if g.ended == 0 {
			for _, v := range g.assumedUnset {
				if !contains(unset, v) {
					unset = append(unset, v)
					pre = append(pre, unsetGuard(v))
				}
			}
		}
	}
	// The checks of the writes of user switches (su, gosu ...): this
	// RUN's own, and those of the replays, which run the program again.
	env := st.shellEnv()
	var guards []string
	for _, g := range st.gen {
		if g.ended != 0 {
			continue
		}
		for i, r := range append(append([]replay(nil), g.writes...), g.pending...) {
			if r.as == "" {
				continue
			}
			if i < len(g.writes) {
				// A replay runs the program again: in a RUN of the
				// user that ran it, or of root.
				root, known := env.rootness()
				name, _, _ := strings.Cut(st.user, ":")
				by, _, _ := strings.Cut(r.by, ":")
				if known && !root && name != by {
					a.add(RuleCannotRewrite, n.StartLine, n.EndLine, false,
						"write the file in this RUN, or set USER root before it",
						"an earlier RUN wrote a secret into %s as %s, which this RUN must do again; as the user %s it cannot do it as that RUN did, nor be sure to remove it", g.path, r.as, name)
					p.failed = true
					continue
				}
				if !known {
					r.guards = append([]string{rootGuard}, r.guards...)
				}
			}
			for _, gd := range r.guards {
				if !contains(guards, gd) {
					guards = append(guards, gd)
				}
			}
		}
	}
	pre = append(pre, guards...)
	for _, g := range st.gen {
		if g.ended != 0 {
			continue
		}
		if !safeMountValue(g.path) {
			a.add(RuleCannotRewrite, n.StartLine, n.EndLine, false,
				"write the secret into a file whose path has no quotes, blanks or special characters",
				"the file %s that a command writes a secret into cannot be handled safely", g.path)
			continue
		}
		for _, v := range g.vars {
			if v != nil {
				a.ensure(st, n, v, p)
			}
		}
		for i, fp := range append([]string{g.path}, g.also...) {
			if saved[fp] {
				continue // a copy's source, saved with the source
			}
			saved[fp] = true
			b := fmt.Sprintf("%s%d", hushbuildBackup, g.slot)
			if i > 0 {
				b = fmt.Sprintf("%s%d.%d", hushbuildBackup, g.slot, i)
			}
			pre = append(pre, fmt.Sprintf("if [ -e %s ]; then cp -p %s %s; fi;", fp, fp, b))
			restore = append(restore, fmt.Sprintf("if [ -e %s ]; then mv -f %s %s; else rm -f %s; fi", b, b, fp, fp))
		}
		if g.noReplay != "" && g.noReplayLine != line && !g.noReplayTold {
			g.noReplayTold = true
			a.add(RuleCannotRewrite, n.StartLine, n.EndLine, false,
				"write the secret into "+g.path+" with the secret variable itself (not through "+g.noReplay+"), or delete the file in the RUN that writes it",
				"the RUN on line %d writes a secret into %s through %s; hushbuild cannot write it again at the start of this RUN, and the file must not stay in the layer", g.noReplayLine, g.path, g.noReplay)
			p.failed = true
		}
		for _, m := range g.mounts {
			a.replayMount(n, m, p)
		}
		for _, w := range g.writes {
			replays = append(replays, w.render(home)+";")
		}
		g.uses = append(g.uses, line)
	}
	if len(restore) > 0 {
		pre = append(pre, "trap '"+strings.Join(restore, "; ")+"' EXIT;")
	}
	pre = append(pre, replays...)
	p.prelude = append(p.prelude, pre...)
}

// flowsDone ends a RUN for the flows: its own writes become replays for
// later RUNs, and files it deleted end their lifetime.
func (a *analyzer) flowsDone(st *stageState, line int) {
	// A copy whose source ends (mv, rm) replays the source's writes
	// itself from now on.
	for _, g := range st.gen {
		if g.copyOf != nil && g.copyOf.endsHere && !g.endsHere && !g.ownWrites {
			src := g.copyOf
			g.writes = append(append(append([]replay(nil), src.writes...), src.pending...), g.writes...)
			g.ownWrites = true
		}
	}
	out := st.gen[:0]
	for _, g := range st.gen {
		g.writes = append(g.writes, g.pending...)
		g.pending = nil
		if g.endsHere {
			g.ended = line
			continue
		}
		out = append(out, g)
	}
	st.gen = out
	keys := st.keys[:0]
	for _, k := range st.keys {
		if k.ended == 0 {
			keys = append(keys, k)
		}
	}
	st.keys = keys
}

// fileWrites handles the commands of a RUN that write files: a file that
// gets a secret becomes a generated secret file (its writes replayed in
// later RUNs), every write to a file that already is one is replayed too,
// and a write to a credential file that lives on a secret mount turns the
// mount into a copy: the secret is mounted at /run/secrets/ID and copied
// to the file's path at the start of each RUN that needs it, so commands
// can change it, and the EXIT trap removes it again.
func (a *analyzer) fileWrites(st *stageState, n *parser.Node, writes []*flow, env shellEnv) {
	line := n.StartLine
	secretWritten := map[string]bool{}
	for _, fl := range filterFlows(writes) {
		if fl.kind == flowFile {
			secretWritten[fl.file] = true
		}
	}
	for _, w := range writes {
		if w.kind != flowFile || w.file == "" || w.problem != "" && !path.IsAbs(w.file) {
			// run reports the problem of a write that carries a secret.
			continue
		}
		g := st.genFile(w.file)
		if g == nil {
			for _, fs := range st.files {
				if fs.target == w.file && fs.ended == 0 {
					g = a.copyMode(st, fs, line)
				}
			}
		}
		if g == nil && secretWritten[w.file] {
			if w.problem != "" {
				a.flowProblem(n.StartLine, n.EndLine, w)
				continue
			}
			a.slots++
			g = &genFile{path: w.file, line: line, slot: a.slots}
			st.gen = append(st.gen, g)
			a.gen = append(a.gen, g)
		}
		if g == nil {
			continue
		}
		r := replayOf(w.text, env.at(w.stmt))
		r.as, r.by, r.guards = w.as, env.user, w.guards
		g.pending = append(g.pending, r)
		if w.note != "" && !contains(g.notes, w.note) {
			g.notes = append(g.notes, w.note)
		}
		if w.noReplay != "" && g.noReplay == "" {
			g.noReplay, g.noReplayLine = w.noReplay, line
		}
		for _, m := range w.mounts {
			g.mounts = append(g.mounts, m)
		}
		if w.assumedHome != "" {
			g.assumedHome = w.assumedHome
		}
		g.assumeUnset(w.assumedUnset)
		for _, o := range w.also {
			if !contains(g.also, o) {
				g.also = append(g.also, o)
			}
		}
		for _, name := range w.vars {
			if v := st.lookupSecret(name); v != nil {
				g.vars = append(g.vars, v)
			}
		}
	}
}

// copyMode turns a credential file on a secret mount into a copy of the
// secret, made at the start of each RUN from this one on.
func (a *analyzer) copyMode(st *stageState, fs *fileSecret, line int) *genFile {
	fs.copyFrom = line
	a.slots++
	mode := "0644"
	if fs.mode != nil {
		mode = fmt.Sprintf("0%o", *fs.mode)
	}
	cp := fmt.Sprintf("mkdir -p %s && cp %s %s && chmod %s %s", path.Dir(fs.target), fs.mountPath(), fs.target, mode, fs.target)
	if fs.uid != nil {
		cp += fmt.Sprintf(" && chown %d:%d %s", *fs.uid, *fs.gid, fs.target)
	}
	g := &genFile{path: fs.target, line: line, slot: a.slots, writes: []replay{{text: cp}}, fromFile: fs}
	st.gen = append(st.gen, g)
	a.gen = append(a.gen, g)
	return g
}

// checkScript fails closed on a script hushbuild does not rewrite (a
// heredoc, or the script of an exec-form shell it does not rewrite in
// place) that writes a secret.
func (a *analyzer) checkScript(st *stageState, n *parser.Node, script string, p *runPlan) {
	why, prints, ok := a.secretHandling(st, script, p)
	if !ok {
		a.add(RuleCannotRewrite, n.StartLine, n.EndLine, false,
			"simplify the script so that a POSIX shell parser reads it, or migrate it by hand",
			"hushbuild cannot parse this RUN's script, so it cannot tell where the secrets it gets end up")
		p.failed = true
		return
	}
	if len(prints) > 0 {
		a.add(RuleSecretInLog, n.StartLine, n.EndLine, false,
			"remove the command that prints it; CI keeps build logs",
			"this RUN prints a secret into the build log: %s", strings.Join(prints, "; "))
	}
	if len(why) > 0 {
		a.add(RuleCannotRewrite, n.StartLine, n.EndLine, false,
			"write the command in the shell form of RUN, as RUN <<EOF with no shebang and no tab chomping (<<-), or as an exec-form RUN [\"sh\", \"-c\", SCRIPT], where hushbuild rewrites it",
			execRefusal+", and this one handles a secret: %s", strings.Join(why, "; "))
		p.failed = true
	}
}

// secretHandling is what a script that hushbuild does not rewrite does
// with the secrets its RUN sees: the reasons it must not pass (it writes
// a secret into a file, runs what hushbuild cannot follow, copies a
// secret mount) and the commands that print a secret. ok is false when
// the RUN sees secrets and the script cannot be parsed.
func (a *analyzer) secretHandling(st *stageState, script string, p *runPlan) (why, prints []string, ok bool) {
	names := secretNames(st, p)
	mounted := mountedPaths(st, p)
	env := st.shellEnv()
	f, err := parseShell(script)
	if err != nil {
		return nil, nil, len(names) == 0 && len(mounted) == 0
	}
	names = taint(f, names)
	env = env.withDirs(f, script, st.shell)
	writes := findWrites(f, script, env, names)
	if len(filterFlows(writes)) > 0 {
		why = append(why, "it writes a secret into a file")
	}
	prints = uniqueStrings(logWrites(writes))
	why = append(why, opaqueWrites(f, script, env, names, mounted)...)
	for _, u := range setCopies(f, script, env, mounted) {
		if u.kind == usePrint {
			prints = append(prints, u.why)
		} else {
			why = append(why, u.why)
		}
	}
	facts := analyzeShell(f, env, mounted)
	if len(facts.transfers) > 0 || len(facts.removals) > 0 {
		why = append(why, "it copies, moves or changes a file that is a secret mount")
	}
	return why, prints, true
}

// maxExecArgs bounds the arguments after an exec-form script that
// checkArgs reads (as commands from each one on, after a shift).
const maxExecArgs = 32

// checkArgs fails closed on an exec-form shell script rewritten in place
// whose arguments may run as commands: a script that expands them ("$@",
// eval "$1", sh -c "$1", . "$1") runs words the engine did not read as
// its script. Each argument, and the arguments as one command, must not
// handle a secret.
func (a *analyzer) checkArgs(st *stageState, n *parser.Node, ex *execScript, p *runPlan) {
	args := ex.args()
	f, err := parseShell(ex.script())
	if len(args) == 0 || err != nil || !usesPositional(f) {
		return
	}
	var why, prints []string
	if len(args) > maxExecArgs {
		why = append(why, fmt.Sprintf("it has more than %d arguments", maxExecArgs))
		args = nil
	}
	texts := append([]string(nil), args...)
	for i := range args {
		var q []string
		for _, w := range args[i:] {
			q = append(q, shellQuote(w))
		}
		texts = append(texts, strings.Join(q, " "))
	}
	for _, t := range texts {
		w, pr, ok := a.secretHandling(st, t, p)
		if !ok {
			w = []string{"an argument cannot be read as a shell command"}
		}
		why = append(why, w...)
		prints = append(prints, pr...)
	}
	if len(prints) > 0 {
		a.add(RuleSecretInLog, n.StartLine, n.EndLine, false,
			"remove the command that prints it; CI keeps build logs",
			"this RUN prints a secret into the build log: %s", strings.Join(uniqueStrings(prints), "; "))
	}
	if len(why) > 0 {
		sort.Strings(why)
		a.add(RuleCannotRewrite, n.StartLine, n.EndLine, false,
			"write the commands into the script itself, where hushbuild reads them, or migrate this RUN by hand",
			"the script of this exec-form RUN expands its arguments, which may run as commands (\"$@\", eval \"$1\", sh -c \"$1\"), and they handle a secret: %s", strings.Join(uniqueStrings(why), "; "))
		p.failed = true
	}
}

// opaqueScripts checks the heredoc scripts of a RUN.
func (a *analyzer) opaqueScripts(st *stageState, n *parser.Node, c *instructions.RunCommand, p *runPlan) {
	for _, hf := range c.Files {
		a.checkScript(st, n, hf.Data, p)
		// What it sources (RUN <<EOF / . ci/setup.sh / EOF), as the
		// shell form's.
		if f, err := parseShell(hf.Data); err == nil {
			facts := analyzeShell(f, st.shellEnv(), nil)
			a.sourcedCopies(st, n, facts.sourced, facts.sourcedUnknown)
		}
	}
}

// replayable prepares a RUN's writes for their replays in later RUNs: a
// write that uses a variable the RUN set is replayed after the statements
// that set it, or marked as one that cannot be replayed; a write that
// reads the RUN's own secret mounts brings them along.
func (a *analyzer) replayable(st *stageState, c *instructions.RunCommand, ti *taintInfo, src string, writes []*flow) {
	own := ownSecretMounts(c)
	for _, w := range writes {
		if w.kind != flowFile || len(w.vars) == 0 {
			continue
		}
		foreign := false
		for _, v := range w.vars {
			if st.lookupSecret(v) == nil {
				foreign = true
			}
		}
		if foreign {
			w.mounts = own
		}
		if w.noReplay != "" {
			continue
		}
		if replayHeredoc(w) {
			// The replay goes on the first line of a later RUN, where a
			// heredoc's lines cannot follow.
			w.noReplay = "a heredoc"
			continue
		}
		defs, why := ti.replayDefs(src, w.vars)
		if why != "" {
			w.noReplay = why
			continue
		}
		if len(defs) > 0 {
			w.text = strings.Join(defs, "; ") + "; " + w.text
		}
	}
}

// replayHeredoc reports whether the replay of a write needs a heredoc: its
// statement's, or one in its text (a command of a nested script, whose
// statement is the command that runs the script: sudo -u app sh <<EOF).
func replayHeredoc(w *flow) bool {
	if !w.inner {
		return hasHeredoc(w.stmt)
	}
	f, err := parseShell(w.text)
	return err != nil || hasHeredoc(f)
}
