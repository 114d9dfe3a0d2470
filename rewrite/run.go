package rewrite

import (
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"mvdan.cc/sh/v3/syntax"
)

// runPlan collects what one RUN gets.
type runPlan struct {
	mounts  []string
	prelude []string
	// emitted are the secret variables ensure handled: the first few in
	// emittedFew (the plan is on run's stack), the rest in emittedMore.
	emittedFew  [8]*secretVar
	nEmitted    int
	emittedMore map[*secretVar]bool
	// envMounts are variables that existing secret mounts already set.
	envMounts map[string]bool
	targets   map[string]bool
	canPre    bool
	failed    bool
	// added describes the mounts in mounts, for the requirements (by
	// value: one array holds a RUN's few).
	added []instructions.Mount
	// skip are secret variables this RUN does not need: private keys that
	// were only written to key files.
	skip   map[*secretVar]bool
	hasSSH bool
	// leftOff are credential files this RUN does not get: it only
	// changes owners and modes over them (chown -R node /app). writable
	// are context files whose bind mount it may change: a copy BuildKit
	// drops when the RUN ends.
	leftOff, writable map[*fileSecret]bool
}

// setTarget and setEnvMount record a mount of the RUN (the maps of a
// plan are made on their first entry: most RUNs need few of them).
func (p *runPlan) setTarget(t string) {
	if p.targets == nil {
		p.targets = map[string]bool{}
	}
	p.targets[t] = true
}

// addMount records a mount flag of the RUN and the mount it adds (added
// has room for a RUN's few from its first entry on).
func (p *runPlan) addMount(flag string, m instructions.Mount) {
	p.addFlag(flag)
	if p.added == nil {
		p.added = make([]instructions.Mount, 0, 2)
	}
	p.added = append(p.added, m)
}

// addFlag records a mount flag of the RUN.
func (p *runPlan) addFlag(flag string) {
	if p.mounts == nil {
		p.mounts = make([]string, 0, 4)
	}
	p.mounts = append(p.mounts, flag)
}

// markEmitted records that ensure handled v, and reports whether it had.
func (p *runPlan) markEmitted(v *secretVar) bool {
	if slices.Contains(p.emittedFew[:p.nEmitted], v) || p.emittedMore[v] {
		return true
	}
	if p.nEmitted < len(p.emittedFew) {
		p.emittedFew[p.nEmitted] = v
		p.nEmitted++
		return false
	}
	if p.emittedMore == nil {
		p.emittedMore = map[*secretVar]bool{}
	}
	p.emittedMore[v] = true
	return false
}

func (p *runPlan) setEnvMount(name string) {
	if p.envMounts == nil {
		p.envMounts = map[string]bool{}
	}
	p.envMounts[name] = true
}

// run rewrites one RUN: secret mounts for every secret variable in scope
// and every credential file alive, the deletions of those files taken out
// of the command, env files read by the command moved to mounts.
func (a *analyzer) run(st *stageState, n *parser.Node, c *instructions.RunCommand) {
	line := n.StartLine
	defer a.flowsDone(st, line)
	if len(c.CmdLine) == 0 || len(c.CmdLine) == 1 && strings.TrimSpace(c.CmdLine[0]) == "" && len(c.Files) == 0 {
		return // runs nothing
	}
	p := &runPlan{}
	for _, m := range mountsOf(c) {
		a.reqs.add(m, line)
		if m.Type == instructions.MountTypeSSH {
			p.hasSSH = true
		}
		if m.Type == instructions.MountTypeBind && m.From == "" && m.Target != "" && isSecretFile(m.Source, a.cfg) {
			// A credential file mounted from the context (a rewrite's
			// Config.ContextFiles, or the Dockerfile's own): the commands
			// read it there.
			p.setTarget(absPath(m.Target, shellEnv{workdir: st.workdir}))
			continue
		}
		if m.Type != instructions.MountTypeSecret {
			continue
		}
		if m.Env != nil {
			name := *m.Env
			if name == "" {
				name = m.CacheID
			}
			p.setEnvMount(name)
		}
		t := m.Target
		if t == "" && m.Env == nil {
			t = "/run/secrets/" + m.CacheID
		}
		if t != "" {
			p.setTarget(absPath(t, shellEnv{workdir: st.workdir}))
		}
	}
	posix := isPOSIXShell(st.shell)
	heredoc := len(c.Files) > 0
	// A heredoc that feeds a command (cat <<EOT > ~/.npmrc) is part of the
	// shell script, which BuildKit puts back together: the script is
	// analyzed whole and rewritten on its first line. Only a RUN whose
	// command is the heredoc itself (RUN <<EOF) runs a script hushbuild
	// does not rewrite.
	fedHeredoc := heredoc && c.PrependShell && len(c.CmdLine) == 1 && parser.MustParseHeredoc(c.CmdLine[0]) == nil
	p.canPre = c.PrependShell && posix && (!heredoc || fedHeredoc)

	l, err := a.src.join(n.StartLine)
	if err != nil || l.text != n.Original {
		if len(st.secrets) > 0 || len(st.files) > 0 {
			a.add(RuleCannotRewrite, n.StartLine, n.EndLine, false,
				"simplify the line continuations of this RUN",
				"the RUN's source text could not be mapped back to its lines")
		}
		return
	}
	// An exec-form RUN of a shell script is read and rewritten as the
	// shell form is, inside its JSON array (execform.go).
	ex := execScriptOf(c, l)
	if ex != nil {
		p.canPre = true
	}
	// So is a RUN whose command is a heredoc (RUN <<EOF), inside the
	// document (heredoc.go).
	var hd *heredocScript
	if heredoc && !fedHeredoc {
		hd = a.src.heredocScriptOf(c, l, posix)
		if hd != nil {
			p.canPre = true
		}
	}

	// Shell analysis: deletions of credential files and env files read.
	var spans []span
	var cmdStart int
	whole := false
	ended := map[*fileSecret]bool{}
	var comments []span
	var cuts []span // parts of the command to delete besides removals
	interesting := len(st.secrets) > 0 || len(st.files) > 0 || len(st.broad) > 0 || len(st.keys) > 0 ||
		len(st.gen) > 0 || len(st.git) > 0 || len(p.envMounts) > 0 || len(p.targets) > 0 || len(st.copied) > 0 || len(st.patterns) > 0 || st.copiedFrom
	if (c.PrependShell && posix && len(c.CmdLine) == 1 || ex != nil) && interesting {
		var args string
		var ok bool
		shell := st.shell
		switch {
		case ex != nil:
			args, ok, shell = ex.script(), true, []string{ex.prog}
		case hd != nil:
			args, ok = hd.data, true
		default:
			args = c.CmdLine[0]
			cmdStart, ok = commandStart(l, args)
		}
		env := st.shellEnv()
		var targets []string
		for _, f := range st.files {
			targets = append(targets, f.target)
		}
		for _, k := range st.keys {
			targets = append(targets, k.path)
		}
		for t := range p.targets {
			targets = append(targets, t)
		}
		script, scriptOK := args, ok
		if fedHeredoc {
			var b strings.Builder
			b.WriteString(args)
			for _, hf := range c.Files {
				b.WriteString("\n" + hf.Data + hf.Name)
			}
			script = b.String()
		}
		// A RUN that carries hushbuild's own save/replay/restore prelude
		// was rewritten already: its flows are handled.
		marked := carriesOwnPrelude(script)
		f, err := parseShell(script)
		if err == nil && n.Next != nil && script == n.Next.Value {
			// scanLiterals' question on this text, answered on this parse.
			if a.passwordFlags == nil {
				a.passwordFlags = map[string]string{}
			}
			a.passwordFlags[script] = passwordFlagIn(f)
		}
		if err == nil && scriptOK {
			// Where each command runs: cd moves the relative paths.
			env = env.withDirs(f, script, shell)
			// PIP_CONFIG_FILE=/etc/x.conf pip install: a file copied
			// there earlier is a credential file's copy.
			for _, ds := range env.dirs.states {
				for k, v := range ds.env {
					a.sawToolEnv(k, v)
				}
			}
			a.toolEnvAssigns(f, script)
			// Secrets written into files, git config, clones, key files.
			names := secretNames(st, p)
			mounted := mountedPaths(st, p)
			secretPaths := mounted
			if marked {
				names = map[string]bool{}
				secretPaths = nil
			}
			ti := taintScript(f, names, env, secretPaths)
			names = ti.names
			for _, why := range opaqueWrites(f, script, env, names, mounted) {
				a.add(RuleCannotRewrite, n.StartLine, n.EndLine, false,
					"write the credential where hushbuild can follow it (a plain redirection or a tool's config command), or migrate this RUN by hand",
					"this RUN runs a command hushbuild cannot follow: %s", why)
				p.failed = true
			}
			var flowRemovals []*removal
			keyStmts := map[*syntax.Stmt]bool{}
			writes, mayLog := findWritesLog(f, script, env, names)
			a.setCopies(st, n, setCopies(f, script, env, mounted), writes, script, env, p)
			a.replayable(st, c, ti, script, writes)
			a.fileWrites(st, n, writes, env)
			a.genCopies(st, n, f, script, env, writes, p)
			for _, fl := range filterFlows(writes) {
				if fl.problem != "" {
					a.flowProblem(n.StartLine, n.EndLine, fl)
					p.failed = true
					continue
				}
				switch fl.kind {
				case flowSSHKey:
					flowRemovals = append(flowRemovals, &removal{stmt: fl.stmt})
					keyStmts[fl.stmt] = true
					for _, name := range fl.vars {
						v := st.lookupSecret(name)
						if v != nil {
							v.sshKey = true
							if !a.sshKeyVars[name] {
								if a.sshKeyVars == nil {
									a.sshKeyVars = map[string]bool{}
								}
								a.sshKeyVars[name] = true
								a.newPromotions = true
							}
						}
						k := &sshKey{path: fl.file, v: v, line: line}
						st.keys = append(st.keys, k)
						a.keys = append(a.keys, k)
						targets = append(targets, fl.file)
					}
				case flowGitConfig:
					flowRemovals = append(flowRemovals, &removal{stmt: fl.stmt})
					g := &gitSetting{key: fl.key, value: fl.value, line: line}
					for _, name := range fl.vars {
						g.vars = append(g.vars, st.lookupSecret(name))
					}
					st.git = append(st.git, g)
					a.git = append(a.git, g)
				case flowClone:
					cuts = append(cuts, fl.cut)
					g := &gitSetting{key: fl.key, value: fl.value, line: line}
					for _, name := range fl.vars {
						g.vars = append(g.vars, st.lookupSecret(name))
					}
					st.git = append(st.git, g)
					a.clones = append(a.clones, cloneNote{line: line, row: fl.clone})
				}
			}
			for _, v := range st.secrets {
				if v.sshKey && !usedOutside(f, v.name, keyStmts) {
					if p.skip == nil {
						p.skip = map[*secretVar]bool{}
					}
					p.skip[v] = true
				}
			}
			facts := analyzeShell(f, env, targets)
			if marked {
				facts.transfers = withoutOwnPrelude(script, facts.transfers)
			}
			// cp/mv/install of a mounted credential file: the copy would be
			// a real file in the layer. The command goes, and the file is
			// mounted at the destination too (from this RUN on).
			copied := map[string]bool{}
			if len(facts.transfers) > 0 {
				for _, tr := range facts.transfers {
					if tr.dest != "" && tr.problem == "" {
						targets = append(targets, tr.dest)
					}
				}
				facts = analyzeShell(f, env, targets)
				if marked {
					facts.transfers = withoutOwnPrelude(script, facts.transfers)
				}
				for _, tr := range facts.transfers {
					if tr.problem == "" && !safeMountValue(tr.dest) {
						tr.problem = "its destination cannot be written into a --mount flag"
					}
					if tr.problem != "" {
						a.add(RuleCannotRewrite, n.StartLine, n.EndLine, false,
							"copy the credential file to its final path with COPY, or use it where it is",
							"this RUN runs %s on the credential file %s, which is a secret mount now, and %s", tr.cmd, tr.src, tr.problem)
						p.failed = true
						continue
					}
					var from *fileSecret
					for _, fs := range st.files {
						if fs.target == tr.src && fs.ended == 0 {
							from = fs
						}
					}
					if from == nil {
						a.add(RuleCannotRewrite, n.StartLine, n.EndLine, false,
							"read the secret where it is mounted instead of copying it",
							"this RUN runs %s on the secret mounted at %s: the copy would stay in the layer", tr.cmd, tr.src)
						p.failed = true
						continue
					}
					nf := &fileSecret{id: from.id, target: tr.dest, line: line, uid: from.uid, gid: from.gid, mode: from.mode, rule: from.rule, movedFrom: from.target, copied: true}
					if tr.mode != nil {
						nf.mode = tr.mode
					}
					// A file of the build context with no owner or mode
					// to carry is mounted from there at the copy's path
					// too: nothing to pass.
					nf.context = from.context && nf.uid == nil && nf.mode == nil
					st.files = append(st.files, nf)
					a.files = append(a.files, nf)
					copied[nf.target] = true
					flowRemovals = append(flowRemovals, &removal{stmt: tr.stmt})
					if tr.cmd == "mv" {
						ended[from] = true
					}
				}
			}
			// A command of this RUN that then changes the copy (sed -i,
			// >>) cannot change a read-only mount: the copy is a copy of
			// the mount, made at the start of the RUN and removed at its
			// end, as for a change in a later RUN.
			if len(copied) > 0 && !p.failed {
				var changes []*flow
				for _, w := range writes {
					if w.kind == flowFile && copied[w.file] {
						changes = append(changes, w)
					}
				}
				a.fileWrites(st, n, changes, env)
			}
			// In order of the files: the findings of one line keep the
			// order they are made in.
			for _, t := range sortedKeys(facts.parentRemoved) {
				parent := facts.parentRemoved[t]
				a.add(RuleCannotRewrite, n.StartLine, n.EndLine, false,
					"delete the credential file by its own path ("+t+") instead of its directory",
					"RUN deletes %s, which holds the credential file %s; that file is a read-only secret mount now and the deletion would fail", parent, t)
				p.failed = true
			}
			// chown -R node /app over a mounted credential file: on a
			// read-only mount the change would fail.
			for _, t := range sortedKeys(facts.parentChanged) {
				for _, fs := range st.files {
					if fs.target != t || fs.ended != 0 {
						continue
					}
					switch {
					case onlyMetadata(f):
						if p.leftOff == nil {
							p.leftOff = map[*fileSecret]bool{}
						}
						p.leftOff[fs] = true
					case fs.context:
						if p.writable == nil {
							p.writable = map[*fileSecret]bool{}
						}
						p.writable[fs] = true
					default:
						a.add(RuleCannotRewrite, n.StartLine, n.EndLine, false,
							"change the owner or mode in a RUN of its own (RUN chown -R node "+facts.parentChanged[t]+"), or name the paths to change",
							"RUN changes the owner or mode of %s, which holds the credential file %s; that file is a read-only secret mount now and the change would fail", facts.parentChanged[t], t)
						p.failed = true
					}
				}
			}
			removals := append(facts.removals, flowRemovals...)
			if (len(removals) > 0 || len(cuts) > 0) && !p.failed {
				sp, all, err := removalSpans(f, script, removals, cuts...)
				for _, s := range sp {
					if err == nil && s.end > len(args) {
						err = fmt.Errorf("it would change the heredoc's text")
					}
				}
				if err == nil && all && fedHeredoc {
					err = fmt.Errorf("the command that reads the heredoc would go")
				}
				if err != nil {
					a.add(RuleCannotRewrite, n.StartLine, n.EndLine, false,
						"delete or change the credential file in a RUN of its own, or with a plain command joined by && or ;",
						"a command on a credential file cannot be taken out of this RUN: %v", err)
					p.failed = true
				} else {
					spans, whole = sp, all
				}
			}
			for _, fs := range st.files {
				if facts.removed[fs.target] {
					ended[fs] = true
				}
				for _, r := range facts.changed[fs.target] {
					applyOwnership(fs, r, st.user)
				}
			}
			for _, k := range st.keys {
				if facts.removed[k.path] && k.line != line {
					k.ended = line
				}
			}
			if len(st.gen) > 0 {
				var genPaths []string
				for _, g := range st.gen {
					genPaths = append(genPaths, g.path)
				}
				gf := analyzeShell(f, env, genPaths)
				for _, g := range st.gen {
					if gf.removed[g.path] {
						g.endsHere = true
					}
				}
			}
			if len(st.gen) > 0 && usesExecOrTrap(f) {
				a.add(RuleCannotRewrite, n.StartLine, n.EndLine, false,
					"drop exec and trap from this RUN, or migrate it by hand",
					"this RUN uses exec or trap, which would keep hushbuild from removing the file a secret was written into when the RUN ends")
				p.failed = true
			}
			if strings.IndexByte(script, '#') >= 0 { // else no comment
				comments = commentRanges(f)
			}
			logNames := map[string]bool{}
			for _, v := range st.secrets {
				logNames[v.name] = true
			}
			for name := range p.envMounts {
				logNames[name] = true
			}
			// X="$(base64 /run/secrets/sa.json)" holds a secret too.
			for name := range captureNames(f, captures(f, env, mountedPaths(st, p))) {
				logNames[name] = true
			}
			secretFiles := map[string]bool{}
			for t := range p.targets {
				secretFiles[t] = true
			}
			for _, fs := range st.files {
				secretFiles[fs.target] = true
			}
			// Files that commands wrote a secret into (cat ~/.npmrc).
			for _, g := range st.gen {
				if g.ended == 0 || g.ended == line {
					secretFiles[g.path] = true
					for _, o := range g.also {
						secretFiles[o] = true
					}
				}
			}
			prints := printsSecret(f, logNames, secretFiles, env)
			// echo "$TOKEN" > /dev/stderr, | tee /dev/stdout: no file, the log.
			if mayLog {
				prints = append(prints, logWrites(findWrites(f, script, env, taint(f, logNames)))...)
			}
			sort.Strings(prints)
			prints = uniqueStrings(prints)
			if len(prints) > 0 {
				a.add(RuleSecretInLog, n.StartLine, n.EndLine, false,
					"remove the command that prints it; CI keeps build logs",
					"this RUN prints a secret into the build log: %s", strings.Join(prints, "; "))
			}
			if !marked {
				a.envFilesRead(st, n, facts.reads, p)
			}
			a.sourcedCopies(st, n, facts.sourced, facts.sourcedUnknown)
		} else if !heredoc && (len(st.secrets) > 0 || len(st.files) > 0 || len(st.gen) > 0 || len(st.git) > 0 || len(st.keys) > 0) {
			// The command cannot be read, and hushbuild gives it secrets:
			// whatever it does with them is unknown, so it must not pass
			// as rewritten. (A command with only its own mounts is the
			// user's migration, left alone.)
			a.add(RuleCannotRewrite, n.StartLine, n.EndLine, false,
				"simplify the command so that a POSIX shell parser reads it, or migrate it by hand",
				"hushbuild cannot parse this RUN's command, so it cannot tell where the secrets it gets end up")
			p.failed = true
		}
	}
	if heredoc && !fedHeredoc && hd == nil && interesting {
		a.opaqueScripts(st, n, c, p)
	}
	// The exec form only: a shell form's command line is one string.
	if sc, ok := execShellCall(c, ex, interesting); ok {
		script := c.CmdLine[sc.script]
		if sc.split {
			script = splitLine(script)
		}
		a.checkScript(st, n, script, p)
		// What it sources, as the shell form's (timeout 60 sh -c '. x').
		if script, ok := a.execSourced(st, n, c.CmdLine); ok {
			if f, err := parseShell(script); err == nil {
				facts := analyzeShell(f, st.shellEnv(), nil)
				a.sourcedCopies(st, n, facts.sourced, facts.sourcedUnknown)
			}
		}
	}
	if ex != nil && interesting {
		a.checkArgs(st, n, ex, p)
	}
	if whole {
		// The RUN only deleted credential files: with the files on
		// mounts, there is nothing left to do.
		for f := range ended {
			f.ended = line
		}
		a.touch(line)
		a.src.commentOut(n.StartLine, n.EndLine, "hushbuild: this RUN only handled credential files or settings; the RUNs that need them get them now")
		a.dropEnded(st)
		return
	}

	for _, v := range st.secrets {
		keyOnly := v.sshKey || a.sshKeyVars[v.name]
		if !p.skip[v] && (!keyOnly || usesVar(c.CmdLine, v.name)) {
			a.ensure(st, n, v, p)
		}
	}
	a.flowPreludes(st, n, p)
	for _, f := range st.files {
		if f.ended != 0 || p.targets[f.target] || p.leftOff[f] {
			continue
		}
		if f.context {
			// From the build context, read-only: nothing to pass.
			m := "--mount=type=bind,source=" + mountValue(f.id) + ",target=" + mountValue(f.mountPath())
			if f.dir || p.writable[f] {
				// A directory's commands chmod its keys (ssh wants 0600):
				// writable, on a copy BuildKit drops when the RUN ends.
				m += ",rw"
			}
			if !slices.Contains(p.mounts, m) {
				p.addFlag(m)
			}
			f.uses = append(f.uses, line)
			continue
		}
		m := "--mount=type=secret,id=" + mountValue(f.id) + ",target=" + mountValue(f.mountPath()) + ",required=true"
		if f.uid != nil {
			m += ",uid=" + strconv.Itoa(*f.uid) + ",gid=" + strconv.Itoa(*f.gid)
		}
		if f.mode != nil {
			m += fmt.Sprintf(",mode=0%o", *f.mode)
		} else if f.uid == nil && !isRootUser(st.user) {
			m += ",mode=0444"
		}
		if slices.Contains(p.mounts, m) {
			// Two copies of one secret, each made from its mount at
			// /run/secrets/ID (copyMode): one mount serves both.
			f.uses = append(f.uses, line)
			continue
		}
		// The requirement names the context file, wherever it is mounted.
		p.addMount(m, instructions.Mount{Type: instructions.MountTypeSecret, CacheID: f.id, Target: f.target, Required: true})
		f.uses = append(f.uses, line)
	}
	for f := range ended {
		f.ended = line
	}
	a.dropEnded(st)
	if interesting {
		a.traced(st, n, c, ex, hd, p, spans)
	}

	if len(p.mounts) == 0 && len(p.prelude) == 0 && len(spans) == 0 {
		return
	}
	// Mounts after the keyword and a prelude before the command are safe
	// by construction (checked values, no line breaks); deletions and
	// insertions inside the command are checked by verifyEdits.
	if len(spans) > 0 {
		a.touch(line)
	}
	for i := range p.added {
		a.reqs.add(&p.added[i], line)
	}
	if len(p.mounts) > 0 {
		ke := keywordEnd(l)
		a.src.insert(l.srcOffset(ke-1)+1, " "+strings.Join(p.mounts, " "))
	}
	if ex != nil {
		a.execEdits(n, l, ex, p, spans)
		return
	}
	if hd != nil {
		a.heredocEdits(n, hd, p, spans)
		return
	}
	if len(p.prelude) > 0 {
		a.src.insert(l.srcOffset(cmdStart), strings.Join(p.prelude, " ")+" ")
	}
	if len(spans) > 0 {
		for _, s := range spans {
			a.src.deleteText(l, cmdStart+s.start, cmdStart+s.end)
			if s.text != "" {
				a.src.insert(l.srcOffset(cmdStart+s.start), s.text)
			}
		}
		a.fixTrailing(l, cmdStart, spans, comments)
	}
}

// sortedKeys is slices.Sorted(maps.Keys(m)), without the iterator's
// allocations for an empty map (most RUNs have none).
func sortedKeys(m map[string]string) []string {
	if len(m) == 0 {
		return nil
	}
	return slices.Sorted(maps.Keys(m))
}

func isRootUser(u string) bool {
	if i := strings.IndexByte(u, ':'); i >= 0 {
		u = u[:i]
	}
	return u == "" || u == "root" || u == "0"
}

func (a *analyzer) dropEnded(st *stageState) {
	out := st.files[:0]
	for _, f := range st.files {
		if f.ended == 0 {
			out = append(out, f)
		}
	}
	st.files = out
}

func (a *analyzer) scopeNamesPlus(st *stageState) map[string]bool {
	m := a.scopeNames(st)
	for _, v := range a.vars {
		m[v.name] = true
	}
	return m
}

// envFilesRead moves env files that a command reads, and that came into
// the stage with a broad COPY of the context, onto secret mounts.
func (a *analyzer) envFilesRead(st *stageState, n *parser.Node, reads []string, p *runPlan) {
	for _, r := range reads {
		if !isEnvFile(r) || p.targets[r] {
			continue
		}
		covered := false
		for _, f := range st.files {
			if f.target == r {
				covered = true
			}
		}
		if covered {
			continue
		}
		for _, b := range st.broad {
			prefix := strings.TrimSuffix(b.destAbs, "/") + "/"
			if b.destAbs == "." || b.destAbs == "" {
				prefix = ""
			}
			if !strings.HasPrefix(r, prefix) || path.IsAbs(r) != path.IsAbs(b.destAbs) {
				continue
			}
			rel := strings.TrimPrefix(r, prefix)
			key := fmt.Sprintf("%d:%s", b.node.StartLine, rel)
			if !a.broadEnv[key] {
				if a.broadEnv == nil {
					a.broadEnv = map[string]bool{}
				}
				a.broadEnv[key] = true
				a.newPromotions = true
			}
			break
		}
	}
}

// commentRanges lists the shell comments of a command: text that does not
// keep an instruction going.
func commentRanges(f *syntax.File) []span {
	var out []span
	walk(f, func(n syntax.Node) bool {
		if c, ok := n.(*syntax.Comment); ok {
			out = append(out, span{start: int(c.Pos().Offset()), end: int(c.End().Offset())})
		}
		return true
	})
	for _, c := range f.Last {
		out = append(out, span{start: int(c.Pos().Offset()), end: int(c.End().Offset())})
	}
	return out
}

// isShellName reports whether name is a POSIX shell variable name.
func isShellName(name string) bool {
	if name == "" {
		return false
	}
	for i, c := range name {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// secretNames are the variables holding secrets that a RUN sees: those in
// scope and those its own secret mounts set.
func secretNames(st *stageState, p *runPlan) map[string]bool {
	names := map[string]bool{}
	for _, v := range st.secrets {
		names[v.name] = true
	}
	for name := range p.envMounts {
		names[name] = true
	}
	return names
}

// ownBackup and ownGitPrelude are the forms of hushbuild's own prelude
// (flowPreludes): the EXIT trap that puts back what /tmp/.hushbuild-N
// saved, and the count of git settings followed by its first key. A
// script's own GIT_CONFIG_COUNT= (export GIT_CONFIG_COUNT=1
// GIT_CONFIG_KEY_0=safe.directory ...) is no mark: its writes are
// followed as any other.
var (
	ownBackup     = regexp.MustCompile(`trap 'if \[ -e ` + regexp.QuoteMeta(hushbuildBackup) + `[0-9]+(\.[0-9]+)? \]; then mv -f `)
	ownGitPrelude = regexp.MustCompile(`(^|[;&|\s])GIT_CONFIG_COUNT=[0-9]+; GIT_CONFIG_KEY_0=\S.*; export GIT_CONFIG_COUNT GIT_CONFIG_KEY_0 GIT_CONFIG_VALUE_0[ ;]`)
)

// carriesOwnPrelude reports whether a RUN's script carries hushbuild's
// own save/replay/restore or git prelude: it was rewritten already.
func carriesOwnPrelude(script string) bool {
	return ownBackup.MatchString(script) || ownGitPrelude.MatchString(script)
}

// withoutOwnPrelude drops the copies of hushbuild's own prelude from the
// transfers of a RUN that carries it (a rewritten Dockerfile analysed
// again): the save of a changed credential file's earlier content to
// /tmp/.hushbuild-N, and its copy from the secret mount, which the EXIT
// trap of the same prelude removes (else rm -f FILE), so no copy stays
// in the layer.
func withoutOwnPrelude(script string, trs []*transfer) []*transfer {
	out := trs[:0]
	for _, tr := range trs {
		if strings.HasPrefix(tr.dest, hushbuildBackup) && tr.cmd == "cp" {
			continue
		}
		if strings.HasPrefix(tr.src, "/run/secrets/") && tr.dest != "" && tr.cmd == "cp" &&
			strings.Contains(script, "trap '") && strings.Contains(script, "else rm -f "+tr.dest+"; fi") {
			continue
		}
		out = append(out, tr)
	}
	return out
}

// execShellCall is shellCallOf of the command line of an exec-form RUN
// that gets secrets (interesting) and whose script the shell form does
// not take (ex), asked only of those.
func execShellCall(c *instructions.RunCommand, ex *execScript, interesting bool) (shellCall, bool) {
	if ex != nil || c.PrependShell || !interesting {
		return shellCall{}, false
	}
	return shellCallOf(c.CmdLine)
}

// toolEnvAssigns records the values a script gives to the variables of
// toolEnvNames for one command (PIP_CONFIG_FILE=/etc/x.conf pip install):
// sawToolEnv.
func (a *analyzer) toolEnvAssigns(f *syntax.File, script string) {
	if !namesToolEnv(script) {
		return
	}
	walk(f, func(n syntax.Node) bool {
		if as, ok := n.(*syntax.Assign); ok && as.Name != nil && as.Value != nil && !as.Append {
			if v, glob, ok := wordPath(as.Value, shellEnv{}); ok && !glob {
				a.sawToolEnv(as.Name.Value, v)
			}
		}
		return true
	})
}

// namesToolEnv reports whether script holds NAME= for a NAME of
// toolEnvNames: whether some '=' of it follows such a name. It is the
// search for each NAME+"=" in script, made from the '=' of the script
// (most have few or none) rather than from each name.
func namesToolEnv(script string) bool {
	for i := strings.IndexByte(script, '='); i >= 0; {
		before := script[:i]
		for _, n := range toolEnvNames {
			if strings.HasSuffix(before, n) {
				return true
			}
		}
		j := strings.IndexByte(script[i+1:], '=')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}
