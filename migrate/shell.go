package migrate

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// dialect says how a shell text is embedded, for the variables its values
// name.
type dialect int

const (
	// dialectSh is a shell script or a CI script line: $VAR and ${VAR}.
	dialectSh dialect = iota
	// dialectMake is a Makefile recipe: $(VAR) and ${VAR} are make
	// variables (exported from the environment), $$VAR the shell's.
	dialectMake
	// dialectWorkflow is a GitHub Actions run: line: ${{ ... }} is an
	// expression of the workflow, substituted before the shell runs.
	dialectWorkflow
)

// textMap places a text made of pieces of a file back in the file: line k
// of the text starts at textStarts[k] and at fileStarts[k] in the file.
type textMap struct {
	textStarts []int
	fileStarts []int
}

func (m *textMap) file(off int) int {
	if m == nil {
		return off
	}
	k := sort.SearchInts(m.textStarts, off+1) - 1
	if k < 0 {
		k = 0
	}
	return m.fileStarts[k] + off - m.textStarts[k]
}

// stepEnv is a variable a workflow step's env: must set for a rewritten
// flag: name from the expression expr. off places the flag.
type stepEnv struct {
	name, expr string
	off        int
}

// expressionValue returns the workflow expression that a --build-arg
// value (NAME=${{ ... }}, quoted or not) is made of, whole.
func expressionValue(raw string) (string, bool) {
	inner, q := unquote(raw)
	_, val, ok := strings.Cut(inner, "=")
	if !ok {
		return "", false
	}
	if q == 0 {
		val, q = unquote(val)
	}
	if q == '\'' || !exprOnly.MatchString(val) || strings.Count(val, "${{") != 1 {
		return "", false
	}
	return val, true
}

// shellResult is what rewriteShell found, in offsets of its text.
type shellResult struct {
	edits   []edit
	stepEnv []stepEnv
	notes   []shellNote
	// handled are the offsets of the --build-arg flags dealt with.
	handled []int
}

type shellNote struct {
	off int
	msg string
}

// expression matches a GitHub Actions expression.
var expression = regexp.MustCompile(`\$\{\{.*?\}\}`)

// rewriteShell rewrites the secret --build-arg flags of the docker build
// commands in text into --secret flags. cwd is the slash-separated
// directory under the walked root that the commands run in (for -f and the
// build context). A text that does not parse gets no edits; its flags are
// left to the caller's final scan.
func rewriteShell(text string, d dialect, cwd string, sec *secrets) shellResult {
	var res shellResult
	parsed := text
	var masked [][]int
	if d == dialectWorkflow {
		masked = expression.FindAllStringIndex(text, -1)
		b := []byte(text)
		for _, r := range masked {
			for i := r[0]; i < r[1]; i++ {
				if b[i] != '\n' {
					b[i] = 'X'
				}
			}
		}
		parsed = string(b)
	}
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(parsed), "")
	if err != nil {
		return res
	}
	isMasked := func(start, end int) bool {
		for _, r := range masked {
			if r[0] < end && start < r[1] {
				return true
			}
		}
		return false
	}
	syntax.Walk(f, func(n syntax.Node) bool {
		call, ok := n.(*syntax.CallExpr)
		if !ok || len(call.Args) < 2 {
			return true
		}
		raw := func(w *syntax.Word) string { return text[w.Pos().Offset():w.End().Offset()] }
		i := buildStart(call.Args, raw)
		if i < 0 {
			return true
		}
		args := call.Args[i:]
		dockerfile := buildDockerfile(args, raw, cwd)
		for k := 0; k < len(args); k++ {
			w := args[k]
			var start, end int
			var value string
			var vstart int
			switch {
			case raw(w) == "--build-arg" && k+1 < len(args):
				start, end = int(w.Pos().Offset()), int(args[k+1].End().Offset())
				value, vstart = raw(args[k+1]), int(args[k+1].Pos().Offset())
				k++
			case strings.HasPrefix(raw(w), "--build-arg="):
				start, end = int(w.Pos().Offset()), int(w.End().Offset())
				value, vstart = raw(w)[len("--build-arg="):], start+len("--build-arg=")
			case (raw(w) == "--label" || raw(w) == "--annotation") && k+1 < len(args):
				if msg := metadataLeak(raw(w), raw(args[k+1]), dockerfile, sec); msg != "" {
					res.notes = append(res.notes, shellNote{int(w.Pos().Offset()), msg})
				}
				k++
				continue
			case strings.HasPrefix(raw(w), "--label=") || strings.HasPrefix(raw(w), "--annotation="):
				flag, value, _ := strings.Cut(raw(w), "=")
				if msg := metadataLeak(flag, value, dockerfile, sec); msg != "" {
					res.notes = append(res.notes, shellNote{int(w.Pos().Offset()), msg})
				}
				continue
			default:
				continue
			}
			v := parseBuildArg(value, d)
			if v.name != "" && !sec.isSecret(v.name, dockerfile) {
				if msg := derivedLeak(v.name, value, dockerfile, sec); msg != "" {
					res.notes = append(res.notes, shellNote{start, msg})
				}
				continue
			}
			if v.name == "" {
				continue
			}
			res.handled = append(res.handled, start)
			if isMasked(vstart, end) {
				v.kind = valExpression
			}
			flag := "--secret id=" + v.name + ",env=" + v.env
			switch v.kind {
			case valEnv, valEmpty:
				res.edits = append(res.edits, edit{start, end, flag})
			case valLiteral:
				res.edits = append(res.edits, edit{start, end, "--secret id=" + v.name + ",env=" + v.name})
				res.notes = append(res.notes, shellNote{start, fmt.Sprintf("--build-arg %s had its value written in this file, a leak (it is in the repository's history too): it now reads the secret from the environment variable %s; set it there and rotate the value", v.name, v.name)})
			case valExpression:
				if expr, ok := expressionValue(text[vstart:end]); ok && d == dialectWorkflow {
					// The step's env: gets the expression, the flag reads it.
					res.edits = append(res.edits, edit{start, end, "--secret id=" + v.name + ",env=" + v.name})
					res.stepEnv = append(res.stepEnv, stepEnv{v.name, expr, start})
					continue
				}
				res.notes = append(res.notes, shellNote{start, fmt.Sprintf("--build-arg %s takes a workflow expression: not rewritten; put the expression in the step's env: as %s and pass --secret id=%s,env=%s", v.name, v.name, v.name, v.name)})
			default:
				res.notes = append(res.notes, shellNote{start, fmt.Sprintf("--build-arg %s takes a computed value: not rewritten; export the value as %s and pass --secret id=%s,env=%s", v.name, v.name, v.name, v.name)})
			}
		}
		return true
	})
	return res
}

// buildStart returns the index of the first argument after `docker build`
// (or `docker buildx build`, `docker image build`, `buildx build`), or -1
// when call is not a build. The docker command may be a variable
// ($(DOCKER), $DOCKER).
func buildStart(args []*syntax.Word, raw func(*syntax.Word) string) int {
	i := 0
	if args[0].Lit() == "sudo" {
		i++
	}
	if i >= len(args) {
		return -1
	}
	first := strings.ToLower(raw(args[i]))
	base := first[strings.LastIndexByte(first, '/')+1:]
	if base == "buildx" || base == "docker-buildx" {
		if i+1 < len(args) && isBuildVerb(args[i+1].Lit()) {
			return i + 2
		}
		return -1
	}
	if base != "docker" && !strings.Contains(first, "docker") {
		return -1
	}
	i++
	for i < len(args) && strings.HasPrefix(args[i].Lit(), "-") {
		switch args[i].Lit() {
		case "-H", "--host", "-c", "--context", "--config", "-l", "--log-level":
			i += 2
		default:
			i++
		}
	}
	if i >= len(args) {
		return -1
	}
	switch args[i].Lit() {
	case "build":
		return i + 1
	case "buildx", "image", "builder":
		if i+1 < len(args) && isBuildVerb(args[i+1].Lit()) {
			return i + 2
		}
	}
	return -1
}

func isBuildVerb(s string) bool { return s == "build" || s == "b" }

// valueFlags are the build flags that take their value as the next word.
var valueFlags = map[string]bool{
	"-t": true, "--tag": true, "--build-arg": true, "--secret": true, "--target": true,
	"--platform": true, "-o": true, "--output": true, "--cache-from": true, "--cache-to": true,
	"--label": true, "--network": true, "--progress": true, "--ssh": true, "--build-context": true,
	"--iidfile": true, "--metadata-file": true, "--attest": true, "--builder": true, "--allow": true,
	"--add-host": true, "--shm-size": true, "--ulimit": true, "--annotation": true, "--call": true,
	"-f": true, "--file": true, "--sbom": true, "--provenance": true, "--cgroup-parent": true,
	"--isolation": true, "-m": true, "--memory": true, "--memory-swap": true, "--cpu-shares": true,
	"--cpuset-cpus": true, "--cpuset-mems": true, "--security-opt": true, "--cache-from-ref": true,
}

// buildDockerfile returns the Dockerfile a build's arguments name (-f, or
// the context's Dockerfile), slash-separated under the root, or "" when
// they name it with a variable.
func buildDockerfile(args []*syntax.Word, raw func(*syntax.Word) string, cwd string) string {
	var file, ctx string
	known := true
	for k := 0; k < len(args); k++ {
		lit := args[k].Lit()
		switch {
		case lit == "-f" || lit == "--file":
			if k+1 < len(args) {
				file = args[k+1].Lit()
				known = known && file != ""
			}
			k++
		case strings.HasPrefix(lit, "--file="):
			file = strings.TrimPrefix(lit, "--file=")
		case strings.HasPrefix(lit, "-f") && len(lit) > 2 && !strings.HasPrefix(lit, "--"):
			file = lit[2:]
		case valueFlags[lit]:
			k++
		case strings.HasPrefix(raw(args[k]), "-"):
		default:
			ctx = lit
			known = known && lit != ""
		}
	}
	if !known || file == "-" || ctx == "-" {
		return ""
	}
	if ctx == "" {
		ctx = "."
	}
	if file != "" {
		// -f is relative to the working directory, not the context.
		return dockerfileAt(cwd, ".", file)
	}
	return dockerfileAt(cwd, ctx, "")
}

type valueKind int

const (
	valEnv        valueKind = iota // from an environment variable
	valEmpty                       // NAME= : empty
	valLiteral                     // a value written in the file
	valComputed                    // a command substitution or more
	valExpression                  // a workflow expression
)

// buildArg is a --build-arg value taken apart.
type buildArg struct {
	name string
	env  string
	kind valueKind
}

var (
	identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	shellVar   = regexp.MustCompile(`^\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)\})$`)
	makeVar    = regexp.MustCompile(`^\$(?:\(([A-Za-z_][A-Za-z0-9_]*)\)|\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)|\$\{([A-Za-z_][A-Za-z0-9_]*)\})$`)
)

// unquote strips one pair of enclosing quotes from s when they enclose all
// of it, and returns the quote.
func unquote(s string) (string, byte) {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] && !strings.ContainsRune(s[1:len(s)-1], rune(s[0])) {
		return s[1 : len(s)-1], s[0]
	}
	return s, 0
}

// parseBuildArg takes the source text of a --build-arg value apart: NAME,
// NAME=$VAR, "NAME=$VAR", NAME="$VAR", NAME=literal.
func parseBuildArg(raw string, d dialect) buildArg {
	inner, q := unquote(raw)
	name, val, hasEq := strings.Cut(inner, "=")
	if !identifier.MatchString(name) {
		return buildArg{}
	}
	if q == 0 {
		val, q = unquote(val)
	}
	if !hasEq {
		return buildArg{name: name, env: name, kind: valEnv}
	}
	if q != '\'' {
		re := shellVar
		if d == dialectMake {
			re = makeVar
		}
		if m := re.FindStringSubmatch(val); m != nil {
			for _, g := range m[1:] {
				if g != "" {
					return buildArg{name: name, env: g, kind: valEnv}
				}
			}
		}
		if strings.ContainsAny(val, "$`\\") {
			return buildArg{name: name, kind: valComputed}
		}
	}
	if val == "" {
		return buildArg{name: name, env: name, kind: valEmpty}
	}
	return buildArg{name: name, env: name, kind: valLiteral}
}

// runShell rewrites text, a piece of the job's file placed by m, with the
// build commands running in cwd.
func (j *job) runShell(text string, m *textMap, d dialect, cwd string, stepEnvOK bool) []stepEnv {
	r := rewriteShell(text, d, cwd, j.sec)
	if !stepEnvOK && len(r.stepEnv) > 0 {
		// No env: to put the expressions in: those flags stay, named.
		drop := map[int]bool{}
		for _, e := range r.stepEnv {
			drop[e.off] = true
			r.notes = append(r.notes, shellNote{e.off, fmt.Sprintf("--build-arg %s takes a workflow expression: not rewritten (the step's env: is not a block mapping hushbuild can add to); set %s: %s in the step's env: and pass --secret id=%s,env=%s", e.name, e.name, e.expr, e.name, e.name)})
		}
		var keep []edit
		for _, e := range r.edits {
			if !drop[e.start] {
				keep = append(keep, e)
			}
		}
		r.edits, r.stepEnv = keep, nil
	}
	for i := range r.stepEnv {
		r.stepEnv[i].off = m.file(r.stepEnv[i].off)
	}
	for _, e := range r.edits {
		j.edit(m.file(e.start), m.file(e.end), e.text)
	}
	for _, n := range r.notes {
		j.note(m.file(n.off), "%s", n.msg)
	}
	for _, h := range r.handled {
		j.handled[m.file(h)] = true
	}
	return r.stepEnv
}

// migrateShellFile rewrites a shell script; its commands run in its own
// directory.
func migrateShellFile(src []byte, rel string, sec *secrets) ([]edit, []Note) {
	j := newJob(src, rel, sec)
	j.runShell(string(src), nil, dialectSh, pathDir(rel), false)
	j.leftovers()
	return j.edits, j.notes
}

// migrateMakefile rewrites the recipes of a Makefile (tab-indented lines,
// with their backslash continuations); they run in its directory.
func migrateMakefile(src []byte, rel string, sec *secrets) ([]edit, []Note) {
	j := newJob(src, rel, sec)
	n := j.idx.lines()
	for l := 1; l <= n; l++ {
		line := j.idx.text(l)
		if !strings.HasPrefix(line, "\t") {
			continue
		}
		var text strings.Builder
		m := &textMap{}
		for {
			s := j.idx.start(l)
			t := j.idx.text(l)
			skip := 0
			if strings.HasPrefix(t, "\t") {
				skip = 1
			}
			// Recipe prefixes: @ (silent), - (ignore errors), + (always).
			if text.Len() == 0 {
				for skip < len(t) && strings.ContainsRune("@-+ \t", rune(t[skip])) {
					skip++
				}
			}
			m.textStarts = append(m.textStarts, text.Len())
			m.fileStarts = append(m.fileStarts, s+skip)
			text.WriteString(t[skip:])
			if !strings.HasSuffix(t, "\\") || l >= n {
				break
			}
			text.WriteString("\n")
			l++
		}
		j.runShell(text.String(), m, dialectMake, pathDir(rel), false)
	}
	j.leftovers()
	return j.edits, j.notes
}

// referenced matches the variables a flag's value names: $VAR, ${VAR},
// $(VAR) (make).
var referenced = regexp.MustCompile(`\$[({]?([A-Za-z_][A-Za-z0-9_]*)`)

// workflowSecret matches a GitHub Actions expression that reads a
// repository secret: ${{ secrets.NAME }}.
var workflowSecret = regexp.MustCompile(`\$\{\{\s*secrets\.([A-Za-z_][A-Za-z0-9_-]*)`)

// derivedLeak returns a note for a build-arg whose name is no secret but
// whose value takes one (REPO_URL=https://$GH_TOKEN@github.com/...,
// CURL_OPTS="--user ci:${{ secrets.PKG }}"): the value, credential
// included, lands in the provenance and the image history. It cannot be
// rewritten as the secret itself (the Dockerfile builds with the whole
// value); the hushbuild frontend refuses the build where it recognises the
// credential in the value.
func derivedLeak(name, raw, dockerfile string, sec *secrets) string {
	secret := ""
	if m := workflowSecret.FindStringSubmatch(raw); m != nil {
		secret = "${{ secrets." + m[1] + " }}"
	} else {
		for _, m := range referenced.FindAllStringSubmatch(raw, -1) {
			if m[1] != name && sec.isSecret(m[1], dockerfile) {
				secret = "$" + m[1]
				break
			}
		}
	}
	if secret == "" {
		return ""
	}
	return fmt.Sprintf("--build-arg %s takes %s, a secret: the whole value would stay in the provenance and the image history; pass the secret with --secret id=...,env=... and build the value inside RUN --mount=type=secret", name, secret)
}

// metadataLeak returns a note for a --label or --annotation whose value
// names a variable that holds a credential: GitLab's CI_REPOSITORY_URL
// (https://gitlab-ci-token:TOKEN@host/...), or a secret name. A label
// lands in the image config (the hushbuild frontend refuses the build);
// an annotation in the manifest, which no frontend sees.
func metadataLeak(flag, value, dockerfile string, sec *secrets) string {
	for _, m := range referenced.FindAllStringSubmatch(value, -1) {
		name := m[1]
		where := "the image config (the hushbuild frontend refuses the build)"
		if flag == "--annotation" {
			where = "the image manifest, which no frontend sees"
		}
		switch {
		case name == "CI_REPOSITORY_URL":
			return fmt.Sprintf("%s takes $CI_REPOSITORY_URL, which GitLab sets to a URL with the job token as its password: the token would stay in %s; use $CI_PROJECT_URL", flag, where)
		case sec.isSecret(name, dockerfile):
			return fmt.Sprintf("%s takes $%s, a secret: its value would stay in %s; drop it from the %s", flag, name, where, strings.TrimPrefix(flag, "--"))
		}
	}
	return ""
}
