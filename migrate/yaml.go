package migrate

import (
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// parseYAML parses src into its document nodes.
func parseYAML(src []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(strings.NewReader(string(src)))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if err != nil {
			if err.Error() == "EOF" {
				return docs, nil
			}
			return nil, err
		}
		docs = append(docs, &n)
	}
}

// root returns the mapping at the top of a document, or nil.
func root(doc *yaml.Node) *yaml.Node {
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 && doc.Content[0].Kind == yaml.MappingNode {
		return doc.Content[0]
	}
	return nil
}

// lookup returns the key and value nodes of key in mapping m.
func lookup(m *yaml.Node, key string) (k, v *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

// entrySpan returns the byte range of the block mapping entry whose key is
// k (or the block sequence item whose dash is at column col of line line):
// from the start of its line to the end of its last line.
func (j *job) entrySpan(line, col int) (int, int) {
	end := j.idx.blockEnd(line, col-1)
	return j.idx.start(line), j.idx.start(end + 1)
}

// lineIndentString returns the leading whitespace of line l.
func (j *job) lineIndentString(l int) string {
	t := j.idx.text(l)
	return t[:len(t)-len(trimLeftSpace(t))]
}

// eol makes sure an insertion at the end of the file starts on a new line.
func (j *job) atEnd(off int) string {
	if off != len(j.src) || len(j.src) == 0 || j.src[len(j.src)-1] == '\n' {
		return ""
	}
	// A deletion of whole lines up to the end leaves a newline last.
	for _, e := range j.edits {
		if e.end == len(j.src) && e.text == "" && (e.start == 0 || j.src[e.start-1] == '\n') {
			return ""
		}
	}
	return "\n"
}

// composeVar matches the compose interpolation of one variable, with an
// optional default or error message.
var composeVar = regexp.MustCompile(`^\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\})$`)

// composeArg is one secret build-arg of a compose service.
type composeArg struct {
	name, env string
}

// composeValue takes a compose build-arg value apart: the variable it
// reads, and whether it is written in the file (a leak).
func composeValue(name string, v *yaml.Node) (env string, literal bool) {
	if v == nil || v.Tag == "!!null" {
		return name, false
	}
	if m := composeVar.FindStringSubmatch(v.Value); m != nil {
		env = m[1] + m[2]
		return env, (m[3] == "-" || m[3] == ":-") && m[4] != ""
	}
	return name, v.Value != ""
}

// migrateCompose moves the secret build.args of every service of a
// compose file to build.secrets, and declares each secret at the top level
// from the environment.
func migrateCompose(src []byte, rel string, sec *secrets) ([]edit, []Note, error) {
	docs, err := parseYAML(src)
	if err != nil {
		return nil, nil, err
	}
	j := newJob(src, rel, sec)
	for _, doc := range docs {
		top := root(doc)
		_, services := lookup(top, "services")
		if services == nil || services.Kind != yaml.MappingNode {
			continue
		}
		var declared []composeArg
		seen := map[*yaml.Node]bool{}
		for i := 0; i+1 < len(services.Content); i += 2 {
			declared = append(declared, j.composeService(services.Content[i].Value, services.Content[i+1], seen)...)
		}
		j.declareComposeSecrets(top, declared)
		j.otherComposeArgs(doc, seen)
	}
	j.leftovers()
	return j.edits, j.notes, nil
}

// otherComposeArgs names the secret build-args of the args: mappings no
// service's build holds itself (an extension field's anchor, a merge key):
// fail closed, they are not edited silently.
func (j *job) otherComposeArgs(n *yaml.Node, seen map[*yaml.Node]bool) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			j.otherComposeArgs(c, seen)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value == "args" && !seen[v] {
				seen[v] = true
				for _, it := range v.Content {
					name, _, _ := strings.Cut(it.Value, "=")
					if identifier.MatchString(name) && j.sec.isSecret(name, "") && (v.Kind == yaml.SequenceNode || it.Line > 0 && isKey(v, it)) {
						j.note(j.idx.offset(it.Line, it.Column), "build-arg %s is in an args: that is not a service's own build (an anchor or extension field): move it to build.secrets by hand", name)
					}
				}
				continue
			}
			j.otherComposeArgs(v, seen)
		}
	}
}

// isKey reports whether it is a key of mapping m.
func isKey(m *yaml.Node, it *yaml.Node) bool {
	if m.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i < len(m.Content); i += 2 {
		if m.Content[i] == it {
			return true
		}
	}
	return false
}

func (j *job) composeService(name string, svc *yaml.Node, seen map[*yaml.Node]bool) []composeArg {
	_, build := lookup(svc, "build")
	if build == nil || build.Kind != yaml.MappingNode {
		return nil
	}
	ak, args := lookup(build, "args")
	if args == nil {
		return nil
	}
	seen[args] = true
	ctx, file := ".", ""
	if _, c := lookup(build, "context"); c != nil {
		ctx = c.Value
	}
	if _, f := lookup(build, "dockerfile"); f != nil {
		file = f.Value
	}
	dockerfile := dockerfileAt(pathDir(j.rel), ctx, file)
	if args.Style&yaml.FlowStyle != 0 {
		for _, it := range args.Content {
			n, _, _ := strings.Cut(it.Value, "=")
			if args.Kind == yaml.MappingNode || identifier.MatchString(n) {
				if j.sec.isSecret(n, dockerfile) {
					j.note(j.idx.offset(it.Line, it.Column), "service %s: build-arg %s is in a flow-style args: move it to build.secrets by hand", name, n)
				}
			}
		}
		return nil
	}
	type item struct {
		line, col int // where its entry starts
	}
	var found []composeArg
	var remove []item
	total := 0
	switch args.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(args.Content); i += 2 {
			k, v := args.Content[i], args.Content[i+1]
			total++
			if !j.sec.isSecret(k.Value, dockerfile) {
				continue
			}
			env, literal := composeValue(k.Value, v)
			if literal {
				j.note(j.idx.offset(k.Line, k.Column), "service %s: build-arg %s had its value written in this file, a leak (it is in the repository's history too): the secret now comes from the environment variable %s; set it there and rotate the value", name, k.Value, env)
			}
			found = append(found, composeArg{k.Value, env})
			remove = append(remove, item{k.Line, k.Column})
		}
	case yaml.SequenceNode:
		for _, it := range args.Content {
			total++
			n, val, hasEq := strings.Cut(it.Value, "=")
			if !identifier.MatchString(n) || !j.sec.isSecret(n, dockerfile) {
				continue
			}
			env, literal := n, false
			if hasEq {
				env, literal = composeValue(n, &yaml.Node{Value: val})
			}
			if literal {
				j.note(j.idx.offset(it.Line, it.Column), "service %s: build-arg %s had its value written in this file, a leak (it is in the repository's history too): the secret now comes from the environment variable %s; set it there and rotate the value", name, n, env)
			}
			found = append(found, composeArg{n, env})
			// The item's dash stands two columns before its value.
			remove = append(remove, item{it.Line, it.Column - 2})
		}
	}
	if len(found) == 0 {
		return nil
	}
	// Where the secrets go: in place of args when nothing is left of it,
	// after it otherwise.
	var at int
	if len(found) == total {
		s, e := j.entrySpan(ak.Line, ak.Column)
		j.edit(s, e, "")
		at = e
	} else {
		for _, r := range remove {
			s, e := j.entrySpan(r.line, r.col)
			j.edit(s, e, "")
		}
		_, at = j.entrySpan(ak.Line, ak.Column)
	}
	sk, secretsNode := lookup(build, "secrets")
	var have []string
	if secretsNode != nil {
		for _, it := range secretsNode.Content {
			if it.Kind == yaml.ScalarNode {
				have = append(have, it.Value)
			} else if _, s := lookup(it, "source"); s != nil {
				have = append(have, s.Value)
			}
		}
	}
	var add []string
	for _, f := range found {
		if !contains(have, f.name) && !contains(add, f.name) {
			add = append(add, f.name)
		}
	}
	if len(add) == 0 {
		return found
	}
	keyIndent := strings.Repeat(" ", ak.Column-1)
	switch {
	case secretsNode == nil:
		var b strings.Builder
		b.WriteString(j.atEnd(at) + keyIndent + "secrets:\n")
		for _, a := range add {
			b.WriteString(keyIndent + "  - " + a + "\n")
		}
		j.edit(at, at, b.String())
	case secretsNode.Kind == yaml.SequenceNode && secretsNode.Style&yaml.FlowStyle == 0 && len(secretsNode.Content) > 0:
		first := secretsNode.Content[0]
		_, end := j.entrySpan(sk.Line, sk.Column)
		var b strings.Builder
		b.WriteString(j.atEnd(end))
		for _, a := range add {
			b.WriteString(strings.Repeat(" ", first.Column-3) + "- " + a + "\n")
		}
		j.edit(end, end, b.String())
	default:
		j.note(j.idx.offset(sk.Line, sk.Column), "service %s: add %s to build.secrets by hand (its secrets: is not a block list)", name, strings.Join(add, ", "))
	}
	return found
}

// declareComposeSecrets adds a top-level secret, read from the
// environment, for each secret build-arg moved.
func (j *job) declareComposeSecrets(top *yaml.Node, args []composeArg) {
	if len(args) == 0 {
		return
	}
	sk, secretsNode := lookup(top, "secrets")
	var add []composeArg
	for _, a := range args {
		if _, v := lookup(secretsNode, a.name); v != nil {
			continue
		}
		dup := false
		for _, b := range add {
			if b.name == a.name {
				dup = true
				if b.env != a.env {
					j.note(j.idx.offset(top.Line, top.Column), "secret %s is read from %s and from %s by different services: it is declared from %s; check the others", a.name, b.env, a.env, b.env)
				}
			}
		}
		if !dup {
			add = append(add, a)
		}
	}
	if len(add) == 0 {
		return
	}
	write := func(b *strings.Builder, indent string) {
		for _, a := range add {
			fmt.Fprintf(b, "%s%s:\n%s  environment: %s\n", indent, a.name, indent, a.env)
		}
	}
	var b strings.Builder
	switch {
	case secretsNode == nil:
		at := len(j.src)
		b.WriteString(j.atEnd(at) + "\nsecrets:\n")
		write(&b, "  ")
		j.edit(at, at, b.String())
	case secretsNode.Kind == yaml.MappingNode && secretsNode.Style&yaml.FlowStyle == 0 && len(secretsNode.Content) > 0:
		_, end := j.entrySpan(sk.Line, sk.Column)
		b.WriteString(j.atEnd(end))
		write(&b, strings.Repeat(" ", secretsNode.Content[0].Column-1))
		j.edit(end, end, b.String())
	default:
		names := make([]string, len(add))
		for i, a := range add {
			names[i] = a.name
		}
		j.note(j.idx.offset(sk.Line, sk.Column), "declare the secrets %s at the top level by hand (secrets: is not a block mapping)", strings.Join(names, ", "))
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// scriptKeys are the keys whose values are shell script lines (GitLab CI,
// GitHub Actions, and the like).
var scriptKeys = map[string]bool{"script": true, "before_script": true, "after_script": true, "run": true, "commands": true}

// migrateYAML rewrites the script lines of a YAML file, and in a GitHub
// Actions workflow the build-args of docker/build-push-action steps.
func migrateYAML(src []byte, rel string, workflow bool, sec *secrets) ([]edit, []Note, error) {
	docs, err := parseYAML(src)
	if err != nil {
		return nil, nil, err
	}
	j := newJob(src, rel, sec)
	d := dialectSh
	if workflow {
		d = dialectWorkflow
	}
	// Workflow and CI scripts run at the top of the repository.
	cwd := "."
	for _, doc := range docs {
		j.walkScripts(doc, d, cwd)
		if workflow {
			j.workflow(root(doc))
		}
	}
	j.leftovers()
	return j.edits, j.notes, nil
}

func (j *job) walkScripts(n *yaml.Node, d dialect, cwd string) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			j.walkScripts(c, d, cwd)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if scriptKeys[k.Value] {
				ok := false
				if d == dialectWorkflow && k.Value == "run" {
					_, env := lookup(n, "env")
					ok = env == nil || env.Kind == yaml.MappingNode && env.Style&yaml.FlowStyle == 0 && len(env.Content) > 0
				}
				if envs := j.scriptValue(v, d, cwd, ok); len(envs) > 0 {
					j.addStepEnv(n, k, envs)
				}
				continue
			}
			j.walkScripts(v, d, cwd)
		}
	}
}

func (j *job) scriptValue(v *yaml.Node, d dialect, cwd string, stepEnvOK bool) []stepEnv {
	var envs []stepEnv
	switch v.Kind {
	case yaml.SequenceNode:
		for _, c := range v.Content {
			envs = append(envs, j.scriptValue(c, d, cwd, stepEnvOK)...)
		}
	case yaml.ScalarNode:
		if text, m, ok := j.scalarText(v); ok {
			envs = j.runShell(text, m, d, cwd, stepEnvOK)
		}
	}
	return envs
}

// addStepEnv sets the variables of envs in the env: of step, the workflow
// step whose run: key is runKey: appended to its env: block, or a new
// env: after run:.
func (j *job) addStepEnv(step, runKey *yaml.Node, envs []stepEnv) {
	ek, env := lookup(step, "env")
	var add []stepEnv
	for _, e := range envs {
		dup := false
		for _, a := range add {
			dup = dup || a.name == e.name && a.expr == e.expr
		}
		if _, v := lookup(env, e.name); v != nil {
			if strings.TrimSpace(v.Value) != e.expr {
				j.note(e.off, "the step's env: already sets %s to something else: the --secret flag reads that; check it is the secret", e.name)
			}
			dup = true
		}
		if !dup {
			add = append(add, e)
		}
	}
	if len(add) == 0 {
		return
	}
	var b strings.Builder
	switch {
	case env == nil:
		_, at := j.entrySpan(runKey.Line, runKey.Column)
		ind := strings.Repeat(" ", runKey.Column-1)
		b.WriteString(j.atEnd(at) + ind + "env:\n")
		for _, e := range add {
			fmt.Fprintf(&b, "%s  %s: %s\n", ind, e.name, e.expr)
		}
		j.edit(at, at, b.String())
	case env.Kind == yaml.MappingNode && env.Style&yaml.FlowStyle == 0 && len(env.Content) > 0:
		_, at := j.entrySpan(ek.Line, ek.Column)
		ind := strings.Repeat(" ", env.Content[0].Column-1)
		b.WriteString(j.atEnd(at))
		for _, e := range add {
			fmt.Fprintf(&b, "%s%s: %s\n", ind, e.name, e.expr)
		}
		j.edit(at, at, b.String())
	default:
		for _, e := range add {
			j.note(e.off, "set %s: %s in the step's env: by hand (its env: is not a block mapping)", e.name, e.expr)
		}
	}
}

// scalarText returns a scalar's value with its place in the file, when
// the value is the file's text as is: a literal block (|) or a one-line
// scalar without escapes. Other scalars are left to the final scan.
func (j *job) scalarText(v *yaml.Node) (string, *textMap, bool) {
	if v.Style&yaml.LiteralStyle != 0 {
		return j.literalBlock(v)
	}
	if v.Style&yaml.FoldedStyle != 0 {
		return "", nil, false
	}
	off := j.idx.offset(v.Line, v.Column)
	if v.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		off++
	}
	if off+len(v.Value) > len(j.src) || string(j.src[off:off+len(v.Value)]) != v.Value {
		return "", nil, false
	}
	return v.Value, &textMap{textStarts: []int{0}, fileStarts: []int{off}}, true
}

// literalBlock returns the content of a literal block scalar, line by
// line as it stands in the file.
func (j *job) literalBlock(v *yaml.Node) (string, *textMap, bool) {
	n := j.idx.lines()
	ind := -1
	m := &textMap{}
	var text strings.Builder
	for l := v.Line + 1; l <= n; l++ {
		t := j.idx.text(l)
		if strings.TrimSpace(t) == "" {
			m.textStarts = append(m.textStarts, text.Len())
			m.fileStarts = append(m.fileStarts, j.idx.start(l)+len(t))
			text.WriteString("\n")
			continue
		}
		in := len(t) - len(strings.TrimLeft(t, " "))
		if ind < 0 {
			ind = in
		}
		if in < ind {
			break
		}
		m.textStarts = append(m.textStarts, text.Len())
		m.fileStarts = append(m.fileStarts, j.idx.start(l)+ind)
		text.WriteString(t[ind:] + "\n")
	}
	if ind < 0 {
		return "", nil, false
	}
	return text.String(), m, true
}

// actionInput is one NAME=VALUE line of a build-push-action list input.
type actionInput struct {
	line  int // the file line it is on
	name  string
	value string
}

// workflow moves the secret build-args of docker/build-push-action steps
// to its secrets (workflow expressions) or secret-envs inputs.
func (j *job) workflow(top *yaml.Node) {
	_, jobs := lookup(top, "jobs")
	if jobs == nil || jobs.Kind != yaml.MappingNode {
		return
	}
	for i := 1; i < len(jobs.Content); i += 2 {
		_, steps := lookup(jobs.Content[i], "steps")
		if steps == nil {
			continue
		}
		for _, step := range steps.Content {
			_, uses := lookup(step, "uses")
			if uses == nil || !strings.HasPrefix(uses.Value, "docker/build-push-action@") {
				continue
			}
			_, with := lookup(step, "with")
			j.buildPushAction(with)
		}
	}
}

// exprOnly matches a value that is one workflow expression.
var exprOnly = regexp.MustCompile(`^\$\{\{\s*([^}]*?)\s*\}\}$`)

// envExpr matches an expression that reads the environment.
var envExpr = regexp.MustCompile(`^env\.([A-Za-z_][A-Za-z0-9_]*)$`)

func (j *job) buildPushAction(with *yaml.Node) {
	ak, args := lookup(with, "build-args")
	if args == nil || args.Kind != yaml.ScalarNode {
		return
	}
	dockerfile := ""
	ctx, file := ".", ""
	_, c := lookup(with, "context")
	if c != nil {
		ctx = c.Value
	}
	if _, f := lookup(with, "file"); f != nil {
		file = f.Value
		dockerfile = dockerfileAt(".", ".", file)
	} else if c != nil {
		dockerfile = dockerfileAt(".", ctx, "")
	}
	var inputs []actionInput
	if args.Style&yaml.LiteralStyle != 0 {
		text, m, ok := j.literalBlock(args)
		if !ok {
			return
		}
		for k, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
			if strings.TrimSpace(l) == "" {
				continue
			}
			n, v, _ := strings.Cut(strings.TrimSpace(l), "=")
			inputs = append(inputs, actionInput{j.idx.lineOf(m.fileStarts[k]), n, v})
		}
	} else if args.Style&yaml.FoldedStyle == 0 && !strings.ContainsAny(args.Value, "\n,") {
		n, v, _ := strings.Cut(strings.TrimSpace(args.Value), "=")
		inputs = append(inputs, actionInput{args.Line, n, v})
	} else {
		for _, l := range strings.FieldsFunc(args.Value, func(r rune) bool { return r == '\n' || r == ',' }) {
			n, _, _ := strings.Cut(strings.TrimSpace(l), "=")
			if identifier.MatchString(n) && j.sec.isSecret(n, dockerfile) {
				j.note(j.idx.offset(ak.Line, ak.Column), "build-args passes the secret %s in a form hushbuild does not edit: move it to secrets: or secret-envs: by hand", n)
			}
		}
		return
	}
	var secretLines, envLines []string
	var remove []int
	for _, in := range inputs {
		if !identifier.MatchString(in.name) || !j.sec.isSecret(in.name, dockerfile) {
			continue
		}
		remove = append(remove, in.line)
		if m := exprOnly.FindStringSubmatch(in.value); m != nil {
			if e := envExpr.FindStringSubmatch(m[1]); e != nil {
				envLines = append(envLines, in.name+"="+e[1])
			} else {
				secretLines = append(secretLines, in.name+"="+in.value)
			}
			continue
		}
		if in.value != "" {
			j.note(j.idx.start(in.line), "build-args %s had its value written in this file, a leak (it is in the repository's history too): it now reads the step's environment variable %s; set it in env: from a repository secret and rotate the value", in.name, in.name)
		}
		envLines = append(envLines, in.name+"="+in.name)
	}
	if len(remove) == 0 {
		return
	}
	var at int
	if len(remove) == len(inputs) {
		s, e := j.entrySpan(ak.Line, ak.Column)
		j.edit(s, e, "")
		at = e
	} else {
		for _, l := range remove {
			j.edit(j.idx.start(l), j.idx.start(l+1), "")
		}
		_, at = j.entrySpan(ak.Line, ak.Column)
	}
	keyIndent := strings.Repeat(" ", ak.Column-1)
	j.addActionList(with, "secrets", secretLines, at, keyIndent)
	j.addActionList(with, "secret-envs", envLines, at, keyIndent)
}

// addActionList adds lines to the list input key of a build-push-action
// step: to its literal block when it has one, as a new input at offset at
// otherwise.
func (j *job) addActionList(with *yaml.Node, key string, lines []string, at int, keyIndent string) {
	if len(lines) == 0 {
		return
	}
	k, v := lookup(with, key)
	var b strings.Builder
	if v == nil {
		b.WriteString(j.atEnd(at) + keyIndent + key + ": |\n")
		for _, l := range lines {
			b.WriteString(keyIndent + "  " + l + "\n")
		}
		j.edit(at, at, b.String())
		return
	}
	if v.Style&yaml.LiteralStyle == 0 {
		j.note(j.idx.offset(k.Line, k.Column), "add %s to %s: by hand (it is not a literal block)", strings.Join(lines, ", "), key)
		return
	}
	_, m, ok := j.literalBlock(v)
	if !ok {
		j.note(j.idx.offset(k.Line, k.Column), "add %s to %s: by hand (it is empty)", strings.Join(lines, ", "), key)
		return
	}
	_, end := j.entrySpan(k.Line, k.Column)
	ind := m.fileStarts[0] - j.idx.start(j.idx.lineOf(m.fileStarts[0]))
	b.WriteString(j.atEnd(end))
	for _, l := range lines {
		b.WriteString(strings.Repeat(" ", ind) + l + "\n")
	}
	j.edit(end, end, b.String())
}
