package rewrite

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// copiedFile is a file of the build context a COPY brought in by name.
type copiedFile struct {
	src  string
	line int
}

// analyzer walks a parsed Dockerfile and records edits and findings.
type analyzer struct {
	cfg Config
	// sourced are the files of the build context copied by name that a
	// RUN sources (sourcedCopies): Result.Sourced.
	sourced []string
	// fieldCopies are Result.FieldCopies.
	fieldCopies map[string]string
	// namedCopies are Result.NamedCopies.
	namedCopies []string
	src         *source
	lex         *shell.Lex
	// byLine are the instructions by start line, nil where none starts:
	// in line order, and found without a map.
	byLine   []*parser.Node
	stages   []instructions.Stage
	meta     []instructions.ArgCommand
	states   []*stageState
	findings []Finding
	// promoted are non-secret-named ARGs that feed a secret-named ENV.
	promoted map[string]bool
	// toolEnvSeen are the values (absolute paths) that an ENV or a RUN's
	// script gives anywhere to a variable that moves a tool's credential
	// file (toolEnvNames: PIP_CONFIG_FILE, CARGO_HOME, ...): a COPY to the
	// file such a value names is a credential file's copy even when the
	// variable is set after it (COPY ci/pip-settings /etc/pip-settings.conf
	// then ENV PIP_CONFIG_FILE=/etc/pip-settings.conf). Kept from pass to
	// pass, as promoted is.
	toolEnvSeen map[string]map[string]bool
	// plainCopies are the files single-file COPYs of this pass made that
	// were no credential files: a later value of toolEnvSeen that names
	// one of them asks for another pass.
	plainCopies []string
	// newPromotions is set when the walk promoted a name it had already
	// passed, so the walk must run again.
	newPromotions bool
	vars          []*secretVar
	files         []*fileSecret
	metaSecrets   map[string]*string // secret global ARGs and their defaults
	metaVars      map[string]string
	touchedLines  map[int]bool // made on the first entry (touch)
	// execForms are the exec-form RUNs whose script was rewritten in
	// place, by first line: the argv each must run (verifyExecForms).
	execForms map[int][]string
	// heredocRuns are the RUN <<EOF whose document was rewritten in
	// place, by first line: the script each must run (verifyHeredocRuns).
	heredocRuns map[int]string
	// broadEnv holds "line:path" for env files that commands read and that
	// a broad COPY on that line brought from the context.
	broadEnv  map[string]bool
	reachable []stageReach
	reqs      reqSet
	keys      []*sshKey
	git       []*gitSetting
	gen       []*genFile
	clones    []cloneNote
	slots     int
	// sshKeyVars are secret variables found to hold private keys that
	// commands only write to key files; they survive restarts.
	sshKeyVars map[string]bool
	// knownSecret are the context paths of credential files the
	// Dockerfile copies by name: a broad COPY of the context excludes them.
	knownSecret map[string]bool
	excluded    []excludedFile
	broadSeen   []string // source directories of the broad copies walked so far
	// secretNames are the answers of IsSecretName under cfg, by name.
	secretNames map[string]bool
	// passwordFlags are the answers of literalPasswordFlag for the
	// scripts that run() parsed, which scanLiterals would parse again.
	passwordFlags map[string]string
}

// excludedFile is a credential file a broad COPY no longer brings in.
type excludedFile struct {
	line int
	rel  string
}

// add records a finding of rule, at the rule's severity: call sites give
// the facts (where, whether the rewrite fixed it, what to do), the rules
// table the severity, so that disable and --fail-on see what the
// documentation says.
func (a *analyzer) add(rule Rule, start, end int, fixed bool, fix, msg string, args ...any) {
	a.addFinding(rule, rule.severity(false), start, end, fixed, fix, msg, args...)
}

// addSettled records a finding that the configuration or the rewrite
// settled (rewrite-hardcoded took the literal out, allow- or
// omit-runtime-secret-files decided on the file) or that is only likely
// (a placeholder): at the rule's Settled severity.
func (a *analyzer) addSettled(rule Rule, start, end int, fixed bool, fix, msg string, args ...any) {
	a.addFinding(rule, rule.severity(true), start, end, fixed, fix, msg, args...)
}

func (a *analyzer) addFinding(rule Rule, sev Severity, start, end int, fixed bool, fix, msg string, args ...any) {
	if a.cfg.disabled(rule.Name) {
		return
	}
	var message string
	if s, ok := onlyString(msg, args); ok {
		message = s // fmt.Sprintf("%s", s) is s
	} else {
		message = fmt.Sprintf(msg, args...)
	}
	a.findings = append(a.findings, Finding{
		Rule:     rule.Name,
		Severity: sev,
		Range:    Range{Start: start, End: end},
		Message:  message,
		Fix:      fix,
		Fixed:    fixed,
	})
}

// touch records that the rewrite changed the instruction starting on
// line (verifyEdits).
func (a *analyzer) touch(line int) {
	if a.touchedLines == nil {
		a.touchedLines = map[int]bool{}
	}
	a.touchedLines[line] = true
}

// onlyString returns the one string argument of the format "%s".
func onlyString(format string, args []any) (string, bool) {
	if format != "%s" || len(args) != 1 {
		return "", false
	}
	s, ok := args[0].(string)
	return s, ok
}

func (a *analyzer) isSecret(name string) bool {
	if a.promoted[name] && !matchAnyName(a.cfg.NotSecrets, name) {
		return true
	}
	// IsSecretName depends on the name and the configuration alone:
	// asked once per name (stages declare the same ones again).
	secret, ok := a.secretNames[name]
	if !ok {
		secret = IsSecretName(name, a.cfg)
		if a.secretNames != nil {
			a.secretNames[name] = secret
		}
	}
	return secret
}

// refs returns the variables a Dockerfile word references, among names.
func (a *analyzer) refs(word string, names map[string]bool) []string {
	if !strings.Contains(word, "$") || !lexable(word) {
		// BuildKit's lexer prints to stderr on invalid UTF-8; such a
		// word names no variable the engine could follow.
		return nil
	}
	env := envGetter{}
	for n := range names {
		env[n] = "x"
	}
	res, err := a.lex.ProcessWordWithMatches(word, env)
	if err != nil {
		return nil
	}
	var out []string
	for n := range res.Matched {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// eval expands a Dockerfile word with the known values; ok is false when it
// references a name without a known value.
func (a *analyzer) eval(word string, vars map[string]string) (string, bool) {
	if !lexable(word) {
		return "", false
	}
	if plainWord(word, a.src.escape) {
		return word, true
	}
	if inner, ok := quotedPlainWord(word, a.src.escape); ok {
		return inner, true
	}
	res, err := a.lex.ProcessWordWithMatches(word, envGetter(vars))
	if err != nil || len(res.Unmatched) > 0 {
		return "", false
	}
	return res.Result, true
}

// evalLoose expands a Dockerfile word as BuildKit does, unknown names
// to nothing.
func (a *analyzer) evalLoose(word string, vars map[string]string) (string, bool) {
	if !lexable(word) {
		return "", false
	}
	if plainWord(word, a.src.escape) {
		return word, true
	}
	if inner, ok := quotedPlainWord(word, a.src.escape); ok {
		return inner, true
	}
	res, err := a.lex.ProcessWordWithMatches(word, envGetter(vars))
	if err != nil {
		return "", false
	}
	return res.Result, true
}

// names in scope for reference detection: every variable and secret.
func (a *analyzer) scopeNames(st *stageState) map[string]bool {
	m := map[string]bool{}
	for k := range st.vars {
		m[k] = true
	}
	for k := range st.declared {
		m[k] = true
	}
	for _, v := range st.secrets {
		m[v.name] = true
	}
	return m
}

func (a *analyzer) secretRefs(st *stageState, word string) []*secretVar {
	if !strings.Contains(word, "$") {
		return nil
	}
	var out []*secretVar
	for _, n := range a.refs(word, a.scopeNames(st)) {
		if v := st.lookupSecret(n); v != nil {
			out = append(out, v)
		}
	}
	return out
}

// walk runs the analysis over every stage.
func (a *analyzer) walk() {
	defer a.scanLiterals()
	a.walkMeta()
	byName := map[string]int{}
	for i := range a.stages {
		s := &a.stages[i]
		var st *stageState
		base := strings.ToLower(s.BaseName)
		if strings.Contains(base, "$") {
			// FROM ${BASE} with a global ARG BASE=builder: the stage
			// (by the ARG's default; a build-arg may pick another).
			if v, ok := a.eval(s.BaseName, a.metaVars); ok {
				base = strings.ToLower(v)
			}
		}
		if j, ok := byName[base]; ok {
			st = a.inherit(a.states[j])
		} else {
			st = &stageState{vars: map[string]string{}, declared: map[string]bool{}}
			st.fromImage(a.cfg.BaseImages, s.BaseName)
		}
		st.index = i
		st.name = s.Name
		st.reaches = a.reachable[i]
		a.states = append(a.states, st)
		a.checkFrom(s)
		for _, cmd := range s.Commands {
			a.command(st, cmd)
		}
		a.endStage(st)
		if s.Name != "" {
			byName[strings.ToLower(s.Name)] = i
		}
	}
}

func (a *analyzer) inherit(parent *stageState) *stageState {
	st := parent.clone()
	for k := range parent.declared {
		if parent.lookupSecret(k) == nil {
			if _, isEnv := parent.vars["\x00env:"+k]; isEnv {
				st.declared[k] = true
				st.vars[k] = parent.vars[k]
				st.vars["\x00env:"+k] = ""
			}
		}
	}
	for _, v := range parent.secrets {
		if v.kind == fromEnv {
			st.secrets = append(st.secrets, v)
		}
	}
	for _, f := range parent.files {
		if f.ended == 0 {
			st.files = append(st.files, f)
		}
	}
	st.keys = append(st.keys, parent.keys...)
	st.git = append(st.git, parent.git...)
	st.gen = append(st.gen, parent.gen...)
	// The files the parent copied from the build context are in the
	// child's filesystem too: an env file or a script a child's RUN
	// sources came with them.
	st.broad = append(st.broad, parent.broad...)
	st.patterns = append(st.patterns, parent.patterns...)
	st.copiedFrom = parent.copiedFrom
	if len(parent.copied) > 0 {
		st.copied = maps.Clone(parent.copied)
	}
	return st
}

func (a *analyzer) node(cmd interface{ Location() []parser.Range }) *parser.Node {
	loc := cmd.Location()
	if len(loc) == 0 {
		return nil
	}
	if l := loc[0].Start.Line; l >= 0 && l < len(a.byLine) {
		return a.byLine[l]
	}
	return nil
}

// walkMeta handles the global ARGs before the first FROM.
func (a *analyzer) walkMeta() {
	a.metaSecrets = map[string]*string{}
	a.metaVars = map[string]string{}
	for i := range a.meta {
		arg := &a.meta[i]
		n := a.node(arg)
		if n == nil {
			continue
		}
		var removed []string
		for _, kv := range arg.Args {
			if a.isSecret(kv.Key) {
				a.metaSecrets[kv.Key] = kv.Value
				removed = append(removed, kv.Key)
				continue
			}
			if kv.Value != nil {
				if v, ok := a.eval(*kv.Value, a.metaVars); ok {
					a.metaVars[kv.Key] = v
				}
			} else {
				a.metaVars[kv.Key] = ""
			}
		}
		if len(removed) > 0 {
			a.rewriteArgs(n, arg, removed)
			for _, k := range removed {
				if v := a.metaSecrets[k]; v != nil {
					a.checkLiteralDefault(n, k, *v)
				}
			}
			a.add(RuleSecretArg, n.StartLine, n.EndLine, true,
				"stages that redeclare it get a secret mount",
				"global ARG %s is a secret: removed from the build args", strings.Join(removed, ", "))
		}
	}
}

// isKnownDir lists destinations that are directories in every image.
func isKnownDir(p string) bool {
	switch p {
	case "/", "/root", "/tmp", "/etc", "/home", "/usr/local/bin", "/opt", "/app", "/src", "/srv", "/var/tmp":
		return true
	}
	return false
}

// endStage reports credential files still on mounts at the end of a stage
// whose files reach the image.
func (a *analyzer) endStage(st *stageState) {
	for _, f := range st.files {
		if f.ended != 0 || !st.reaches.covers(f.target) {
			continue
		}
		// A build tool's credential file that a broad copy of the context
		// would have brought in is left out of the image: nothing reads
		// it at run time.
		if f.context && !f.copied && (matchPathPatterns(toolConfigPatterns, f.id) || slices.Contains(a.cfg.ContextToolFiles, f.id)) {
			continue
		}
		// Nor does anything read the Dockerfile's own text, which holds a
		// literal credential the rewrite took out of the build.
		if f.context && !f.copied && slices.Contains(a.cfg.ContextSelf, f.id) {
			continue
		}
		if !a.inheritedOnlyHere(st, f) {
			continue
		}
		runtime := fmt.Sprintf("give it to the container at run time instead (docker run --mount type=bind,src=%s,dst=%s,readonly; compose: a secrets: entry with target %s; Kubernetes: a secret volume mounted at %s)", f.id, f.target, f.target, f.target)
		// A build tool's credential file that the build's own commands
		// read (a RUN after the copy), that nothing the container runs
		// names, and that no other stage takes from this one, is the
		// build's, not the app's: it stays on the mounts of those RUNs and
		// out of the image, as it would be with a broad copy. That is a
		// tool's credential file by name (.npmrc, an ssh identity), or a
		// tool's configuration where the tool reads it (the tools table's
		// BuildOnly: ~/.gradle/gradle.properties, ~/.m2/settings.xml).
		// allow-runtime-secret-files keeps it in the image.
		if f.copied && !f.dir && !a.cfg.AllowRuntimeSecretFiles && len(f.uses) > 0 &&
			(f.toolLoc || isBuildToolCredential(f.target) || matchPathPatterns(buildOnlyPatterns, f.target)) &&
			st.reaches.all && !a.runtimeNames(f) && !a.readFromStage(st, f.target) {
			a.addSettled(RuleSecretFileInImage, f.line, f.line, true, "if the container runs the tool itself, "+runtime,
				"%s would stay to the end of a stage that reaches the image: a build tool's credential file that the RUN on %s had on a mount and that no CMD, ENTRYPOINT or HEALTHCHECK names, so it stays on mounts for the build and is left out of the image", f.id, linesText(f.uses))
			continue
		}
		if a.cfg.OmitRuntimeSecretFiles {
			a.addSettled(RuleSecretFileInImage, f.line, f.line, true, runtime,
				"%s would stay to the end of a stage that reaches the image: it stays on mounts for the build and is left out of the image (omit-runtime-secret-files)", f.id)
			continue
		}
		a.add(RuleSecretFileInImage, f.line, f.line, false,
			"delete the file in the build (RUN rm "+f.target+") so that it lives only on mounts, or set omit-runtime-secret-files=true to leave it out of the image and "+runtime+"; allow-runtime-secret-files=true keeps it in the image",
			"%s stays to the end of a stage that reaches the image: a runtime secret baked into the image", f.id)
	}
}

// sshIdentityPatterns are the private keys ssh (and git over ssh) reads
// from ~/.ssh by default.
var sshIdentityPatterns = []string{".ssh/id_rsa", ".ssh/id_dsa", ".ssh/id_ecdsa", ".ssh/id_ed25519", ".ssh/id_ecdsa_sk", ".ssh/id_ed25519_sk"}

// isBuildToolCredential reports whether a destination is where a build
// tool reads its credential: a package manager's or git's configuration
// (toolConfigPatterns) or ssh's default identity.
func isBuildToolCredential(target string) bool {
	return matchPathPatterns(toolConfigPatterns, target) || matchPathPatterns(sshIdentityPatterns, target)
}

// readFromStage reports whether another stage takes a path at or above
// target from stage st (COPY --from, RUN --mount from=): the file must be
// in st's filesystem, not only on its mounts.
func (a *analyzer) readFromStage(st *stageState, target string) bool {
	names := []string{strconv.Itoa(st.index)}
	if st.name != "" {
		names = append(names, strings.ToLower(st.name))
	}
	for _, s := range a.stages {
		for _, cmd := range s.Commands {
			switch c := cmd.(type) {
			case *instructions.CopyCommand:
				if !slices.Contains(names, strings.ToLower(c.From)) {
					continue
				}
				if (stageReach{paths: cleanAbs(c.SourcePaths)}).covers(target) {
					return true
				}
			case *instructions.RunCommand:
				for _, m := range mountsOf(c) {
					if slices.Contains(names, strings.ToLower(m.From)) {
						return true
					}
				}
			}
		}
	}
	return false
}

func cleanAbs(ps []string) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, path.Clean("/"+p))
	}
	return out
}

// runtimeNames reports whether a CMD, ENTRYPOINT or HEALTHCHECK of the
// Dockerfile names a credential file by its name or path: the container
// reads it at run time.
func (a *analyzer) runtimeNames(f *fileSecret) bool {
	names := []string{path.Base(f.target), path.Base(f.id)}
	for _, n := range a.byLine {
		if n == nil {
			continue
		}
		switch lowerKeyword(n.Value) {
		case "cmd", "entrypoint", "healthcheck":
		default:
			continue
		}
		for _, name := range names {
			if strings.Contains(n.Original, name) {
				return true
			}
		}
	}
	return false
}

// inheritedOnlyHere avoids reporting one file once per stage: it is
// reported in the last reaching stage that holds it.
func (a *analyzer) inheritedOnlyHere(st *stageState, f *fileSecret) bool {
	for j := st.index + 1; j < len(a.stages); j++ {
		if strings.EqualFold(a.stages[j].BaseName, st.name) && st.name != "" && a.reachable[j].any() {
			return false
		}
	}
	return true
}

// lexable reports whether BuildKit's lexer can read word without printing
// errors to stderr (it uses text/scanner, which does on invalid UTF-8 and
// NUL): such a word names no variable the engine could follow.
func lexable(word string) bool {
	return utf8.ValidString(word) && !strings.ContainsRune(word, 0)
}

// plainWord reports a lexable word that BuildKit's lexer gives back as it
// is: no variable, quote, escape or heredoc marker, and no byte order mark
// (its scanner drops one at the start). Most words are plain, and the
// lexer's cost was a twentieth of a typical rewrite.
func plainWord(word string, escape byte) bool {
	for i := 0; i < len(word); i++ {
		switch c := word[i]; c {
		case '$', '\'', '"', '<', escape:
			return false
		}
	}
	return !strings.Contains(word, "\uFEFF")
}

// quotedPlainWord is a lexable word that is a plain word in double quotes
// ("myapp.py", a COPY source): the lexer gives back what is inside.
func quotedPlainWord(word string, escape byte) (string, bool) {
	if len(word) < 2 || word[0] != '"' || word[len(word)-1] != '"' {
		return "", false
	}
	inner := word[1 : len(word)-1]
	return inner, plainWord(inner, escape)
}

// seenToolFile reports whether dest is where a tool reads a credential
// file under a value that the Dockerfile gives, anywhere, to a variable of
// toolEnvNames (toolEnvSeen).
func (a *analyzer) seenToolFile(dest string) bool {
	for name, values := range a.toolEnvSeen {
		for v := range values {
			if toolEnvFile(dest, map[string]string{name: v}) {
				return true
			}
		}
	}
	return false
}

// sawToolEnv records that the Dockerfile gives value to name, one of
// toolEnvNames; when it is new and names the destination of a plain copy
// made earlier in this pass, the walk goes again (the copy is a
// credential file's).
func (a *analyzer) sawToolEnv(name, value string) {
	if !path.IsAbs(value) || !isToolEnvName(name) {
		return
	}
	if a.toolEnvSeen[name][value] {
		return
	}
	if a.toolEnvSeen == nil {
		a.toolEnvSeen = map[string]map[string]bool{}
	}
	if a.toolEnvSeen[name] == nil {
		a.toolEnvSeen[name] = map[string]bool{}
	}
	a.toolEnvSeen[name][value] = true
	for _, d := range a.plainCopies {
		if toolEnvFile(d, map[string]string{name: value}) {
			a.newPromotions = true
		}
	}
}
