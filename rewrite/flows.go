package rewrite

import (
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"mvdan.cc/sh/v3/syntax"
)

// Secrets that flow into files.
//
// Moving a variable onto a secret mount is not enough when a command
// writes its value into a file: the file is in the layer. The engine
// finds such writes in the shell of each RUN and makes sure that no file
// holding a secret outlives the RUN that made it, while every later
// command still finds it:
//
//   - a file written with >, >>, tee, sed -i, or a tool's login or
//     `config set` (the tools table of tools.go) is a generated secret file.
//     The RUN that writes it, and every later RUN of its lifetime (until a
//     RUN deletes it, or the end of the stage and the stages built FROM
//     it), starts by saving what the file held before (if anything) and
//     sets an EXIT trap that puts that back; the later RUNs then replay the
//     writing commands, so they find the same content. No layer ever holds
//     the secret content.
//   - `git config --global KEY VALUE` with a secret becomes git's
//     GIT_CONFIG_COUNT/GIT_CONFIG_KEY_n/GIT_CONFIG_VALUE_n environment,
//     set at the start of that RUN and every later RUN: the same setting
//     for git, in no file.
//   - `git clone` of a URL with credentials (and the other clones of the
//     tools table: pip install -e git+URL, npm install git+URL) clones the URL without them,
//     and the credentials come back as an insteadOf rule in git's
//     environment (as for git config): .git/config, the submodules' and
//     later fetches' configuration never hold them.
//   - a private key written to a key file (~/.ssh/id_*) is not written at
//     all: the RUNs after it get `--mount=type=ssh`, and the build needs
//     `--ssh default`.
//
// Nothing under /dev, /proc or /sys is a file of the layer (pathSink):
// a write there is neither saved nor replayed, and one into the RUN's
// output or terminal (/dev/stderr, /proc/1/fd/1) is SecretInLog.

// hushbuildBackup is where a RUN saves a generated file's earlier content;
// it also marks a RUN that hushbuild already rewrote.
const hushbuildBackup = "/tmp/.hushbuild-"

// genFile is a file that commands write a secret into.
type genFile struct {
	path   string
	writes []replay // replayable commands, in order
	vars   []*secretVar
	line   int // the RUN that first wrote it
	uses   []int
	ended  int
	slot   int // backup slot number, unique in the Dockerfile
	// pending are the writes of the RUN being rewritten, replayed from the
	// next RUN on; endsHere is set when that RUN deletes the file.
	pending  []replay
	endsHere bool
	// also are files the writes may land in instead of path: saved and
	// restored with it.
	also []string
	// fromFile is the credential file this one is a copy of, when a
	// command changes a mounted credential file.
	fromFile *fileSecret
	// mounts are the RUN's own secret mounts that its writes read
	// ($(cat /run/secrets/npm), a secret env): the replays need them too.
	mounts []*instructions.Mount
	// noReplay says why a write cannot run again at the start of a later
	// RUN (a loop variable, a function argument), with the RUN's line.
	noReplay     string
	noReplayLine int
	noReplayTold bool
	// copyOf is the generated secret file a command copied (or moved)
	// into this one: its writes are replayed before this one's. ownWrites
	// is set once copyOf ended and its writes became this one's.
	copyOf    *genFile
	ownWrites bool
	// assumedHome is the home directory assumed for the user (/home/USER)
	// that the file's path is under.
	assumedHome string
	// assumedUnset are variables that would move the file (COMPOSER_HOME)
	// and that the base image, not resolved, may set: the RUNs that rely
	// on the path check that they are unset.
	assumedUnset []string
	// notes say what the writes of a user switch assumed (flow.note).
	notes []string
}

// gitSetting is a git config setting carried by the environment.
type gitSetting struct {
	key, value string // shell words as written
	vars       []*secretVar
	line       int
	uses       []int
}

// sshKey is a private key that used to be written to a file.
type sshKey struct {
	path  string
	v     *secretVar
	line  int
	uses  []int
	ended int
}

// flowKind says what a write is.
type flowKind int

const (
	flowFile flowKind = iota
	flowGitConfig
	flowClone
	flowSSHKey
	// flowLog is a write to the RUN's own output or terminal
	// (/dev/stderr, /proc/1/fd/1): it prints into the build log and
	// leaves nothing in the layer.
	flowLog
)

// flow is one command that writes a secret somewhere.
type flow struct {
	kind    flowKind
	stmt    *syntax.Stmt
	file    string // absolute path for flowFile and flowSSHKey
	text    string // the command's source text, for replay
	key     string // git config key word
	value   string // git config value word
	vars    []string
	also    []string   // other files the command may write instead
	cut     span       // for flowClone: the user:password@ of the URL
	clone   *toolClone // for flowClone: the row of the tools table
	problem string     // why it cannot be rewritten, when set
	fix     string     // what to do about problem, when not the usual
	// noReplay says why the write cannot run again in a later RUN: the
	// value comes through a variable the RUN itself set in a way that
	// cannot be repeated.
	noReplay string
	mounts   []*instructions.Mount // see genFile.mounts
	// assumedHome is the assumed home directory (shellEnv.homeAssumed)
	// that file was found through (~, $HOME, a tool's home file).
	assumedHome string
	// assumedUnset: see genFile.assumedUnset.
	assumedUnset []string
	// as is the user a switch (su, gosu, sudo ...) writes the file as,
	// when one does; guards are the checks the RUNs that write it start
	// with (switchUse.apply), note says what they assume.
	as     string
	guards []string
	note   string
	// inner: text is a command of a nested script (nestedWrites), not
	// stmt's own.
	inner bool
}

// wordVars lists the variables in names that a node references.
func wordVars(n syntax.Node, names map[string]bool) []string {
	if n == nil || len(names) == 0 {
		return nil
	}
	var out []string
	var seen map[string]bool // only past a few: a scan beats a map
	add := func(v string) {
		if seen != nil {
			if !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
			return
		}
		if slices.Contains(out, v) {
			return
		}
		out = append(out, v)
		if len(out) > 8 {
			seen = make(map[string]bool, 2*len(out))
			for _, o := range out {
				seen[o] = true
			}
		}
	}
	walk(n, func(x syntax.Node) bool {
		switch y := x.(type) {
		case *syntax.ParamExp:
			if y.Param == nil {
				break
			}
			if names[y.Param.Value] || isPositional(y.Param.Value) && positionalTainted(names, y.Pos().Offset()) {
				add(y.Param.Value)
			}
		case *syntax.CmdSubst, *syntax.ProcSubst:
			// $(cat /run/secrets/npm), $(< ~/.netrc): the value of a
			// secret file (see taint.go).
			for _, k := range substReads(y, names) {
				add(k)
			}
		}
		return true
	})
	return out
}

func stmtText(src string, s *syntax.Stmt) string {
	end := int(s.End().Offset())
	if s.Semicolon.IsValid() {
		end = int(s.Semicolon.Offset())
	}
	return strings.TrimSpace(src[int(s.Pos().Offset()):end])
}

func nodeText(src string, n syntax.Node) string {
	return src[int(n.Pos().Offset()):int(n.End().Offset())]
}

// findWrites finds every command that writes a file (or git settings, or
// a clone), with the secret variables it writes.
func findWrites(f *syntax.File, src string, env shellEnv, names map[string]bool) []*flow {
	return findWritesFed(f, src, env, names, nil)
}

// findWritesFed is findWrites for a script whose statements' standard
// input carries the secrets stdin: the program other programs start at
// the end of a pipeline (echo "$T" | sudo docker login --password-stdin).
func findWritesFed(f *syntax.File, src string, env shellEnv, names map[string]bool, stdin []string) []*flow {
	return scanWrites(f, src, env, names, stdin, &writeScan{})
}

// findWritesLog is findWrites, and whether a write of the script could
// land in the build log whatever secret variables it sees (mayWriteLog),
// from the same search where it can tell: when the search dropped no
// write for want of a secret, the writes into the log are those it
// found.
func findWritesLog(f *syntax.File, src string, env shellEnv, names map[string]bool) ([]*flow, bool) {
	ws := &writeScan{}
	writes := scanWrites(f, src, env, names, nil, ws)
	for _, fl := range writes {
		if fl.kind == flowLog {
			return writes, true
		}
	}
	return writes, ws.dropped && mayWriteLog(f, src, env)
}

// writeScan is how scanWrites treats the writes it would drop for want of
// a secret (a nested script in a command that sees none, a login without
// one): probe keeps them (mayWriteLog); dropped records that one was, or
// that a secret decided the search otherwise (git config).
type writeScan struct {
	probe   bool
	dropped bool
}

// drop reports whether to drop a write for want of a secret.
func (ws *writeScan) drop() bool {
	if ws.probe {
		return false
	}
	ws.dropped = true
	return true
}

// mayWriteLog reports whether a write of the script could land in the
// build log (a flowLog of findWrites) whatever secret variables it sees:
// findWrites without names, with the checks that drop a write for want of
// a secret (a nested script in a command that sees none, a login without
// one) left out. The files that writes land in do not depend on the
// names; a script for which it is false gives findWrites no flowLog with
// any names, and most scripts write nothing into the log.
func mayWriteLog(f *syntax.File, src string, env shellEnv) bool {
	for _, fl := range scanWrites(f, src, env, nil, nil, &writeScan{probe: true}) {
		if fl.kind == flowLog {
			return true
		}
	}
	return false
}

// scanWrites is findWritesFed, mayWriteLog's with ws.probe.
func scanWrites(f *syntax.File, src string, env shellEnv, names map[string]bool, stdin []string, ws *writeScan) []*flow {
	var out []*flow
	// A command in a pipeline writes what the commands before it feed it:
	// echo "$KEY" | base64 -d > id_rsa.
	fed := map[*syntax.Stmt][]string{}
	if len(stdin) > 0 {
		for _, s := range f.Stmts {
			fed[s] = stdin
		}
	}
	pipeRoot := map[*syntax.Stmt]*syntax.Stmt{}
	walk(f, func(n syntax.Node) bool {
		if st, ok := n.(*syntax.Stmt); ok {
			if b, ok := st.Cmd.(*syntax.BinaryCmd); ok && (b.Op == syntax.Pipe || b.Op == syntax.PipeAll) {
				root := st
				if r := pipeRoot[st]; r != nil {
					root = r
				}
				pipeRoot[b.X], pipeRoot[b.Y] = root, root
			}
		}
		if b, ok := n.(*syntax.BinaryCmd); ok && (b.Op == syntax.Pipe || b.Op == syntax.PipeAll) {
			vars := pipeVars(b.X, names)
			fed[b.Y] = append(fed[b.Y], vars...)
			if inner, ok := b.Y.Cmd.(*syntax.BinaryCmd); ok && (inner.Op == syntax.Pipe || inner.Op == syntax.PipeAll) {
				fed[inner.X] = append(fed[inner.X], vars...)
			}
		}
		return true
	})
	walk(f, func(n syntax.Node) bool {
		s, ok := n.(*syntax.Stmt)
		if !ok {
			return true
		}
		env := env.at(s)
		// Redirections into a file.
		for _, r := range s.Redirs {
			if !writesOut(r) {
				continue
			}
			if r.N != nil && r.N.Value == "2" {
				continue // error output
			}
			vars := append(wordVars(s.Cmd, names), fed[s]...)
			vars = append(vars, dumpedVars(s.Cmd, names)...)
			for _, r2 := range s.Redirs {
				if r2.Hdoc != nil {
					vars = append(vars, wordVars(r2.Hdoc, names)...)
				}
				if r2.Op == syntax.WordHdoc {
					vars = append(vars, wordVars(r2.Word, names)...) // cat > FILE <<< "$T"
				}
			}
			fl := fileFlow(s, src, r.Word, env, vars)
			if root := pipeRoot[s]; root != nil {
				fl.text = stmtText(src, root)
			}
			out = append(out, fl)
		}
		switch c := s.Cmd.(type) {
		case *syntax.BinaryCmd:
			// echo $T | tee FILE, echo $T | sudo tee FILE
			if call, ok := c.Y.Cmd.(*syntax.CallExpr); ok && c.Op == syntax.Pipe && len(call.Args) > 1 {
				vars := pipeVars(c.X, names)
				args, env, started := pipeCommand(call, src, env)
				add := func(fl *flow) {
					started(fl)
					out = append(out, fl)
				}
				switch args[0].Lit() {
				case "tee":
					for _, a := range args[1:] {
						if !strings.HasPrefix(a.Lit(), "-") {
							add(fileFlow(s, src, a, env, vars))
						}
					}
				case "dd":
					// echo $T | dd of=FILE
					for _, a := range args[1:] {
						if strings.HasPrefix(a.Lit(), "of=") {
							fl := &flow{kind: flowFile, stmt: s, text: stmtText(src, s), vars: vars}
							fl.file = absPath(strings.TrimPrefix(a.Lit(), "of="), env)
							if !path.IsAbs(fl.file) {
								fl.problem, fl.fix = unknownDir(env)
							}
							add(fl)
						}
					}
				case "install", "cp":
					// echo $T | install -D /dev/stdin FILE
					if len(args) > 2 {
						last := args[len(args)-1]
						for _, a := range args[1 : len(args)-1] {
							if l := a.Lit(); l == "/dev/stdin" || l == "-" {
								add(fileFlow(s, src, last, env, vars))
							}
						}
					}
				}
			}
		case *syntax.CallExpr:
			// sh -c '...', bash -lc "...", eval "...": the nested script's
			// writes are this command's.
			root := s
			if r := pipeRoot[s]; r != nil {
				root = r
			}
			out = append(out, nestedWrites(s, c, src, env, names, root, append(fed[s], stdinReads(s, names)...), ws)...)
			for _, fl := range callFlows(s, c, src, env, names, fed[s], ws) {
				if root := pipeRoot[s]; root != nil && fl.text != "" {
					fl.text = stmtText(src, root)
				}
				out = append(out, fl)
			}
		}
		return true
	})
	for _, fl := range out {
		if root := pipeRoot[fl.stmt]; root != nil && fl.kind == flowSSHKey {
			fl.stmt = root
		}
	}
	// Devices and kernel files are no files of the layer: nothing to
	// save, replay or restore. The RUN's output and terminal are the
	// build log.
	kept := out[:0]
	for _, fl := range out {
		if (fl.kind == flowFile || fl.kind == flowSSHKey) && fl.file != "" {
			switch pathSink(fl.file) {
			case sinkNone:
				continue
			case sinkLog:
				fl.kind, fl.problem = flowLog, ""
			}
		}
		kept = append(kept, fl)
	}
	return kept
}

// pipeCommand is the command at the end of a pipeline that writes what
// it reads: call's words, or those of the program other programs start
// (echo $T | sudo tee FILE: tee's), with the environment it runs in and
// what the programs before it do to its writes (switchUse.apply, or a
// problem when hushbuild cannot tell what they do).
func pipeCommand(call *syntax.CallExpr, src string, env shellEnv) ([]*syntax.Word, shellEnv, func(*flow)) {
	sc, ok := callOf(call, src)
	if !ok || !sc.direct {
		return call.Args, env, func(*flow) {}
	}
	args := call.Args[sc.script:]
	inner := env
	if sc.sw != nil {
		inner = env.underProgram(sc.sw)
	}
	name := path.Base(args[0].Lit()) + " (started by " + path.Base(call.Args[0].Lit()) + ")"
	return args, inner, func(fl *flow) {
		switch {
		case fl.problem != "":
		case sc.changes != "":
			fl.problem = "it runs inside " + name + ", and " + sc.changes + ": hushbuild cannot tell where its files go"
		case sc.sw != nil:
			sc.sw.apply(fl, env, inner)
		}
	}
}

// stdinReads are the secret files a statement's standard input comes
// from (< /run/secrets/pw). (No names: a RUN hushbuild rewrote already.)
func stdinReads(s *syntax.Stmt, names map[string]bool) []string {
	var out []string
	for _, r := range s.Redirs {
		if len(names) > 0 && (r.Op == syntax.RdrIn || r.Op == syntax.RdrInOut) {
			if k, ok := secretPathWord(r.Word, names); ok {
				out = append(out, k)
			}
		}
	}
	return out
}

// sink is where a write lands.
type sink int

const (
	sinkFile sink = iota // a file, which the layer keeps
	sinkLog              // the build log: the RUN's standard output, error or terminal
	sinkNone             // a device or a kernel file (/dev/null, /dev/shm, /proc, /sys): no layer keeps it
)

// pathSink says where a write to the path p lands. BuildKit mounts /dev,
// /proc and /sys into a RUN: nothing written under them is in the layer,
// and a copy of them (cp -p /dev/stderr) would read the build's own
// output pipe. Of those, the RUN's output and terminal print into the
// build log. A relative path (its directory unknown) is a file.
func pathSink(p string) sink {
	if !path.IsAbs(p) {
		return sinkFile
	}
	p = path.Clean(p)
	switch p {
	case "/dev/stdout", "/dev/stderr", "/dev/tty":
		return sinkLog
	}
	if m, _ := path.Match("/dev/fd/*", p); m {
		return sinkLog
	}
	if m, _ := path.Match("/proc/*/fd/*", p); m {
		return sinkLog
	}
	for _, dir := range []string{"/dev", "/proc", "/sys"} {
		if p == dir || strings.HasPrefix(p, dir+"/") {
			return sinkNone
		}
	}
	return sinkFile
}

// writesOut reports whether a redirection sends output into the file its
// word names (>, >>, >|, &>, &>>).
func writesOut(r *syntax.Redirect) bool {
	switch r.Op {
	case syntax.RdrOut, syntax.AppOut, syntax.RdrClob, syntax.RdrAll, syntax.AppAll:
		return r.Word != nil
	}
	return false
}

// redirSink says where an output redirection writes: a word that is not a
// plain path is a file.
func redirSink(r *syntax.Redirect, env shellEnv) sink {
	p, glob, ok := wordPath(r.Word, env)
	if !ok || glob {
		return sinkFile
	}
	return pathSink(absPath(p, env))
}

// stdoutSink says where a statement's standard output goes by its own
// redirections: the build log unless one of them sends it elsewhere (the
// last one wins, as in the shell).
func stdoutSink(s *syntax.Stmt, env shellEnv) sink {
	out := sinkLog
	for _, r := range s.Redirs {
		if writesOut(r) && (r.N == nil || r.N.Value == "1") {
			out = redirSink(r, env)
		}
	}
	return out
}

// logWrites describes the writes of a secret into the build log
// (echo "$TOKEN" > /dev/stderr): findWrites gives them as flowLog.
func logWrites(writes []*flow) []string {
	var out []string
	for _, fl := range writes {
		if fl.kind != flowLog || len(fl.vars) == 0 {
			continue
		}
		vars := append([]string(nil), fl.vars...)
		sort.Strings(vars)
		out = append(out, stmtName(fl.stmt)+" writes "+strings.Join(uniqueStrings(vars), ", ")+" to "+fl.file)
	}
	return out
}

// stmtName names the command of a statement (the last of a pipeline).
func stmtName(s *syntax.Stmt) string {
	for s != nil {
		switch c := s.Cmd.(type) {
		case *syntax.BinaryCmd:
			if c.Op != syntax.Pipe && c.Op != syntax.PipeAll {
				return "a command"
			}
			s = c.Y
		case *syntax.CallExpr:
			if len(c.Args) > 0 && c.Args[0].Lit() != "" {
				return path.Base(c.Args[0].Lit())
			}
			return "a command"
		default:
			return "a command"
		}
	}
	return "a command"
}

// filterFlows keeps the writes that carry a secret into a file or git's
// configuration. A file that gets a secret is replayed whole: every write
// to it in this command, with or without a secret, in order.
func filterFlows(out []*flow) []*flow {
	secretFiles := map[string]bool{}
	for _, fl := range out {
		if (fl.kind == flowFile || fl.kind == flowSSHKey) && len(fl.vars) > 0 {
			secretFiles[fl.file] = true
		}
	}
	// A new slice: the callers keep using out (fileWrites replays every
	// write, with a secret or not).
	var kept []*flow
	for _, fl := range out {
		switch {
		case fl.kind == flowFile || fl.kind == flowSSHKey:
			if secretFiles[fl.file] && (fl.file != "" || len(fl.vars) > 0) {
				kept = append(kept, fl)
			}
		case fl.kind == flowLog:
			// The build log, no file: logWrites reports it.
		case len(fl.vars) > 0:
			kept = append(kept, fl)
		}
	}
	return kept
}

func fileFlow(s *syntax.Stmt, src string, target *syntax.Word, env shellEnv, vars []string) *flow {
	fl := &flow{kind: flowFile, stmt: s, text: stmtText(src, s), vars: vars}
	p, glob, ok := wordPath(target, env)
	if !ok && env.home == "" && usesHome(target) {
		fl.problem, fl.fix = unknownHome(env)
		return fl
	}
	if !ok || glob {
		fl.problem = "the file it writes is not a plain path"
		return fl
	}
	fl.file = absPath(p, env)
	if !path.IsAbs(fl.file) {
		fl.problem, fl.fix = unknownDir(env)
	}
	if env.homeAssumed && (usesHome(target) || !path.IsAbs(p) && env.dirViaHome) {
		fl.assumedHome = env.home
	}
	if isKeyFile(fl.file) {
		fl.kind = flowSSHKey
	}
	return fl
}

func isKeyFile(p string) bool {
	base := path.Base(p)
	return strings.Contains(p, "/.ssh/") && strings.HasPrefix(base, "id_") && !strings.HasSuffix(base, ".pub")
}

// callFlows handles commands that write a secret by themselves.
func callFlows(s *syntax.Stmt, c *syntax.CallExpr, src string, env shellEnv, names map[string]bool, fedVars []string, ws *writeScan) []*flow {
	if len(c.Args) < 2 {
		return nil
	}
	name := path.Base(c.Args[0].Lit())
	toolName, _ := cmdName(c)
	if name != "sed" && name != "git" && toolsByCmd[toolName] == nil {
		// No row of the table: nothing below applies.
		return nil
	}
	vars := append(wordVars(c, names), fedVars...)
	// docker login --password-stdin < /run/secrets/pw: the command's
	// standard input is a secret file.
	vars = append(vars, stdinReads(s, names)...)
	var args []string
	for _, a := range c.Args[1:] {
		args = append(args, a.Lit())
	}
	switch {
	case name == "sed":
		inPlace := false
		var files []*syntax.Word
		scriptGiven := false
		var positional []*syntax.Word
		skip := false
		for i, a := range c.Args[1:] {
			lit := args[i]
			switch {
			case skip:
				skip = false
			case lit == "-i" || strings.HasPrefix(lit, "-i") || lit == "--in-place" || strings.HasPrefix(lit, "--in-place="):
				inPlace = true
			case lit == "-e" || lit == "--expression" || lit == "-f" || lit == "--file":
				scriptGiven, skip = true, true
			case strings.HasPrefix(lit, "--expression=") || strings.HasPrefix(lit, "--file="):
				scriptGiven = true
			case strings.HasPrefix(lit, "-") && lit != "-":
				if strings.ContainsAny(lit[1:], "i") {
					inPlace = true
				}
				if strings.HasSuffix(lit, "e") || strings.HasSuffix(lit, "f") {
					scriptGiven, skip = true, true
				}
			default:
				positional = append(positional, a)
			}
		}
		if scriptGiven {
			files = positional
		} else if len(positional) > 0 {
			files = positional[1:]
		}
		if !inPlace {
			return nil
		}
		var out []*flow
		for _, f := range files {
			out = append(out, fileFlow(s, src, f, env, vars))
		}
		return out
	case name == "git" && len(args) >= 1 && args[0] == "config" && len(vars) > 0:
		// With a secret, the tools table is not consulted: without one
		// it would be, so this is a write decided by the secret too.
		ws.dropped = ws.dropped || !ws.probe
		fl := &flow{kind: flowGitConfig, stmt: s, text: stmtText(src, s), vars: vars}
		var words []*syntax.Word
		global := false
		for i, a := range c.Args[2:] {
			lit := args[i+1]
			switch {
			case lit == "--global" || lit == "--system":
				global = true
			case lit == "--add" || lit == "--replace-all":
			case strings.HasPrefix(lit, "-"):
				fl.problem = "git config with " + lit + " cannot be carried by the environment"
			default:
				words = append(words, a)
			}
		}
		switch {
		case !global:
			fl.problem = "it writes the repository's .git/config"
		case len(words) != 2:
			fl.problem = "git config without exactly a key and a value"
		default:
			fl.key, fl.value = nodeText(src, words[0]), nodeText(src, words[1])
		}
		return []*flow{fl}
	}
	cw := cmdWords(c)
	if fls := toolWriteFlows(s, c, cw, src, env, vars, ws); fls != nil {
		return fls
	}
	if url, row, refuse := cloneURL(cw, src, names); url != nil && len(vars) > 0 {
		if refuse {
			return []*flow{{kind: flowFile, stmt: s, text: stmtText(src, s), vars: vars, problem: row.Refuse}}
		}
		fl := cloneFlow(s, url, src, vars, row.Prefix)
		fl.clone = row
		return []*flow{fl}
	}
	if op := cloneOperand(cw, src, names); op != nil {
		// git clone "$URL" with URL built from a secret: the
		// credentials are in no text hushbuild can take out of the
		// URL, and .git/config would keep them.
		return []*flow{{kind: flowClone, stmt: s, vars: wordVars(op, names),
			problem: "the URL git clones comes from " + nodeText(src, op) + ", which holds the secret; write the URL with its user:password@ part in the git clone command itself, so hushbuild can move the credentials into git's environment"}}
	}
	return nil
}

// cloneFlow is a clone of a URL with credentials: they leave the URL, so
// that .git/config (and the submodules' configuration, or the package
// manifest) never holds them, and come back as an insteadOf rule in git's
// environment: git fetches with them, for this clone, its submodules and
// later fetches. prefix is what the tool puts before git's URL (git+).
func cloneFlow(s *syntax.Stmt, url *syntax.Word, src string, vars []string, prefix string) *flow {
	fl := &flow{kind: flowClone, stmt: s, vars: vars}
	text := nodeText(src, url)
	i := strings.Index(text, "://")
	rest := text[i+3:]
	at := strings.Index(rest, "@")
	slash := strings.Index(rest, "/")
	if at < 0 || slash >= 0 && slash < at {
		fl.problem = "the credentials in the clone URL are not in the user:password@ part"
		return fl
	}
	hostEnd := strings.IndexAny(rest[at+1:], "/\"'")
	if hostEnd < 0 {
		hostEnd = len(rest) - at - 1
	}
	scheme := strings.TrimPrefix(strings.TrimLeft(text[:i], "\"'"), prefix)
	userinfo, host := rest[:at], rest[at+1:at+1+hostEnd]
	if host == "" || scheme == "" || strings.ContainsAny(host, "$`\"' ") || strings.ContainsAny(userinfo, "\"'`") || strings.ContainsAny(scheme, "$`\"' +") {
		fl.problem = "the clone URL is not plain enough to move its credentials into an insteadOf rule"
		return fl
	}
	fl.key = `url."` + scheme + "://" + userinfo + "@" + host + `/".insteadOf`
	fl.value = scheme + "://" + host + "/"
	start := int(url.Pos().Offset()) + i + 3
	fl.cut = span{start: start, end: start + at + 1}
	return fl
}

// replay is a write to run again at the start of a later RUN: the
// command, in the directory it ran in, with the HOME it ran with.
type replay struct {
	text string
	wd   string // "" when the command needs no directory
	home string // HOME of the command; "" when unknown
	// env are the tool variables the script exported before the command
	// (shellEnv.scriptEnv): the replay exports them too.
	env map[string]string
	// as is the user a switch runs the command as (su, gosu ...), by the
	// user of the RUN that ran it, and guards the checks the RUN starts
	// with before it (flow.guards).
	as, by string
	guards []string
}

// replayOf is the replay of the command of statement s.
func replayOf(text string, env shellEnv) replay {
	return replay{text: text, wd: env.workdir, home: env.home, env: env.scriptEnv}
}

// render is the replay for a RUN whose HOME is home ("" when unknown).
// A RUN with another HOME (a later USER, a child stage built FROM this
// one as another user) would resolve ~, $HOME and the tools' home files
// of the command elsewhere than the file that is saved and removed: the
// command runs with the HOME it was written with. The user may differ
// too, and may not be allowed to write there (the file is root's in the
// legacy image): such a replay may fail, quietly, which writes nothing
// and leaves nothing to remove, instead of stopping a RUN that has
// nothing to do with the file (a SHELL with -e).
func (r replay) render(home string) string {
	var b strings.Builder
	b.WriteString("( ")
	other := r.home != "" && r.home != home
	if other {
		b.WriteString("HOME=" + shellQuote(r.home) + "; export HOME; ")
	}
	names := make([]string, 0, len(r.env))
	for k := range r.env {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		// (A tool's own write may carry the export in its text already.)
		if v := r.env[k]; v != "" && !strings.HasPrefix(r.text, "export "+k+"=") {
			b.WriteString("export " + k + "=" + shellQuote(v) + "; ")
		}
	}
	if r.wd != "" {
		b.WriteString("cd " + shellQuote(r.wd) + " && ")
	}
	b.WriteString(r.text + " )")
	if other {
		b.WriteString(" 2>/dev/null || true")
	}
	return b.String()
}

// usedOutside reports whether a script references name outside the given
// statements.
func usedOutside(f *syntax.File, name string, stmts map[*syntax.Stmt]bool) bool {
	names := map[string]bool{name: true}
	total := 0
	walk(f, func(x syntax.Node) bool {
		if p, ok := x.(*syntax.ParamExp); ok && p.Param != nil && names[p.Param.Value] {
			total++
		}
		return true
	})
	inside := 0
	for s := range stmts {
		walk(s, func(x syntax.Node) bool {
			if p, ok := x.(*syntax.ParamExp); ok && p.Param != nil && names[p.Param.Value] {
				inside++
			}
			return true
		})
	}
	return total > inside
}

// usesVar reports whether a RUN's command names a variable.
func usesVar(cmdline []string, name string) bool {
	t := strings.Join(cmdline, " ")
	return strings.Contains(t, "$"+name) || strings.Contains(t, "${"+name)
}

// assumeUnset adds variables to the ones the file's path assumed unset.
func (g *genFile) assumeUnset(vars []string) {
	for _, v := range vars {
		if !contains(g.assumedUnset, v) {
			g.assumedUnset = append(g.assumedUnset, v)
		}
	}
}

// unsetGuard stops a RUN when a variable the rewrite assumed unset (the
// base image was not resolved) is set: the tool would write its file
// elsewhere, and the rewrite would not remove it.
func unsetGuard(name string) string {
	return `[ -z "${` + name + `+x}" ] || { echo "hushbuild: ` + name + ` is set (by the base image?), and the rewrite assumed it is not: set ENV ` + name + ` to its value before this RUN" >&2; exit 1; };`
}

// homeGuard stops a RUN whose $HOME is not the home directory hushbuild
// assumed for the user: the files it saves and removes would not be the
// ones the commands write.
func homeGuard(home, user string) string {
	if user == "" {
		return `[ "$HOME" = ` + home + ` ] || { echo "hushbuild: HOME is $HOME, not ` + home + `, the home directory assumed for the base image's user (root): set ENV HOME to it, or USER, before this RUN" >&2; exit 1; };`
	}
	return `[ "$HOME" = ` + home + ` ] || { echo "hushbuild: HOME is $HOME, not ` + home + `, the home directory assumed for USER ` + user + `: set ENV HOME to it before this RUN" >&2; exit 1; };`
}
