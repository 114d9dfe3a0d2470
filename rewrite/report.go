package rewrite

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// summarize adds one finding per secret variable and credential file that
// the rewrite moved onto mounts.
func (a *analyzer) summarize() {
	for _, v := range a.vars {
		a.summarizeVar(v)
	}
	for _, k := range a.keys {
		what := "a private key"
		if k.v != nil {
			what = "the private key " + k.v.name
		}
		a.add(RuleSSHKeyFile, k.line, k.line, true, "build with --ssh default (an ssh agent or --ssh default=PATH-TO-KEY)",
			"%s was written to %s, where it stayed in the layer: the write is removed and the RUN on %s get the ssh agent with --mount=type=ssh", what, k.path, linesText(k.uses))
	}
	for _, g := range a.git {
		a.add(RuleSecretWrittenToFile, g.line, g.line, true, "",
			"git config --global with a secret wrote it into ~/.gitconfig: the setting is given to git through GIT_CONFIG_* variables on %s instead", linesText(g.uses))
	}
	for _, g := range a.gen {
		msg := fmt.Sprintf("a command writes a secret into %s, which stayed in the layer: the file is now removed when the RUN ends (its earlier content put back)", g.path)
		if g.copyOf != nil && g.line == g.copyOf.line {
			msg = fmt.Sprintf("a command copies %s, which holds a secret, to %s, which stayed in the layer: the copy is now removed when the RUN ends (its earlier content put back)", g.copyOf.path, g.path)
		} else if g.copyOf != nil {
			msg = fmt.Sprintf("a command copies %s, which holds a secret since line %d, to %s, which stayed in the layer: the copy is now removed when the RUN ends (its earlier content put back)", g.copyOf.path, g.copyOf.line, g.path)
		}
		if g.fromFile != nil {
			msg = fmt.Sprintf("a command changes the credential file %s, which a read-only secret mount cannot take: the secret is mounted at %s and copied there at the start of each RUN that needs it, and removed when the RUN ends", g.path, g.fromFile.mountPath())
		}
		if len(uniqueInts(g.uses)) > 1 {
			msg += ", and rewritten at the start of the RUN on " + linesText(g.uses[1:])
		}
		if g.assumedHome != "" {
			msg += "; the home directory of the user was assumed to be " + g.assumedHome + " (neither ENV HOME nor the base image's environment sets it), and these RUNs stop if $HOME is another"
		}
		for _, note := range g.notes {
			msg += "; " + note
		}
		if len(g.assumedUnset) > 0 {
			msg += "; " + strings.Join(g.assumedUnset, ", ") + " (which would move the file) was assumed unset, since the base image's environment was not read, and these RUNs stop if it is set"
		}
		a.add(RuleSecretWrittenToFile, g.line, g.line, true, "", "%s", msg)
	}
	for _, c := range a.clones {
		a.add(RuleSecretWrittenToFile, c.line, c.line, true, "",
			"%s of a URL with a secret kept the URL, secret included, %s: the URL loses its credentials, which reach git as an insteadOf rule in GIT_CONFIG_* variables", c.row.What, c.row.Keeps)
	}
	for _, e := range a.excluded {
		a.add(RuleSecretFile, e.line, e.line, true, "",
			"this copy of the context would bring the credential file %s into the layer again: it excludes it now", e.rel)
	}
	seen := map[*fileSecret]bool{}
	for _, f := range a.files {
		if seen[f] {
			continue
		}
		seen[f] = true
		a.summarizeFile(f)
	}
}

func linesText(lines []int) string {
	lines = uniqueInts(lines)
	s := make([]string, len(lines))
	for i, l := range lines {
		s[i] = strconv.Itoa(l)
	}
	if len(s) == 1 {
		return "line " + s[0]
	}
	return "lines " + strings.Join(s, ", ")
}

// uniqueInts is in sorted, without repeats (nil when in is empty).
func uniqueInts(in []int) []int {
	if len(in) == 0 {
		return nil
	}
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}

func (a *analyzer) summarizeVar(v *secretVar) {
	what := "ARG"
	if v.kind == fromEnv {
		what = "ENV"
	}
	var uses string
	if len(v.uses) > 0 {
		uses = "; the RUN on " + linesText(v.uses) + " reads it from a secret mount"
	} else {
		uses = "; no RUN in its scope needed it"
	}
	var msg, fix string
	switch {
	case v.expr != "":
		var deps []string
		for _, d := range v.deps {
			deps = append(deps, d.name)
		}
		msg = fmt.Sprintf("%s %s is built from the secret %s: removed, and rebuilt inside each RUN from secret mounts%s", what, v.name, strings.Join(deps, ", "), uses)
	case v.kind == fromEnv:
		msg = "ENV " + v.name + " carries the secret " + v.id + ": removed from the image config, so containers no longer get it at run time" + uses
		fix = "build with --secret id=" + v.id + ",env=" + v.id
	case len(v.uses) == 0 && a.sshKeyVars[v.name]:
		msg = fmt.Sprintf("ARG %s is a private key: removed, so it no longer lands in the image history or provenance; the commands that used it get the ssh agent instead", v.name)
		fix = "build with --ssh default instead of --build-arg " + v.name
	default:
		msg = "ARG " + v.name + " is a secret: removed, so it no longer lands in the image history or provenance" + uses
		fix = "build with --secret id=" + v.id + ",env=" + v.id + " instead of --build-arg " + v.name
		if v.def != nil && *v.def != "" {
			msg += "; its default still applies when no secret is supplied"
		}
	}
	a.add(v.rule, v.line, v.line, true, fix, "%s", msg)
}

func (a *analyzer) summarizeFile(f *fileSecret) {
	var msg string
	if isEnvFile(f.id) {
		f.rule = RuleSourcedEnvFile
	}
	if f.rule.Name == RuleSourcedEnvFile.Name && !f.copied {
		msg = fmt.Sprintf("the env file %s that commands read came in with this copy of the context: excluded from it, and mounted as a secret at %s", f.id, f.target)
	} else {
		msg = fmt.Sprintf("the credential file %s is no longer copied into a layer: it is a secret mount at %s", f.id, f.target)
		if f.rule.Name == RuleSourcedEnvFile.Name {
			msg = fmt.Sprintf("the env file %s is no longer copied into a layer: it is a secret mount at %s, where the commands read it", f.id, f.target)
		}
	}
	if f.movedFrom != "" {
		msg = fmt.Sprintf("the credential file %s is copied from %s to %s by a command, which would leave it in the layer: the command is taken out and the file is a secret mount at %s", f.id, f.movedFrom, f.target, f.target)
	}
	fix := "build with --secret id=" + f.id + ",src=" + f.id
	switch {
	case f.context && f.copied:
		msg = fmt.Sprintf("the credential file %s is no longer copied into a layer: it is mounted read-only from the build context at %s", f.id, f.target)
		if f.movedFrom != "" {
			msg = fmt.Sprintf("the credential file %s is copied from %s to %s by a command, which would leave it in the layer: the command is taken out and the file is mounted read-only from the build context at %s", f.id, f.movedFrom, f.target, f.target)
		}
		fix = "nothing to pass: it is mounted from the build context; to keep it out of the context, add it to .dockerignore and build with --secret id=" + f.id + ",src=" + f.id
		if f.dir {
			msg = fmt.Sprintf("the credential directory %s is no longer copied into a layer: it is mounted from the build context at %s", f.id, f.target)
			fix = "nothing to pass: it is mounted from the build context (a secret mount cannot hold a directory; copy the files the build needs one COPY each to make them secrets instead)"
		}
	case f.context && slices.Contains(a.cfg.ContextSelf, f.id):
		msg = fmt.Sprintf("%s in the build context is this Dockerfile, whose literal credential the rewrite takes out of the build (rewrite-hardcoded): this copy of the context would put it back in a layer, so it excludes it (the RUNs after it still see it, mounted read-only at %s)", f.id, f.target)
		fix = "rotate the credential, take it out of the Dockerfile, and give it with --secret"
	case f.context:
		msg = fmt.Sprintf("the build context holds the credential file %s, which this copy of the context would put in a layer: excluded from it, and mounted read-only from the context at %s", f.id, f.target)
		fix = "nothing to pass: it is mounted from the build context; add it to .dockerignore if the build does not need it"
	}
	if f.owner != "" {
		if f.context {
			msg += "; its --chown names a user, which a mount cannot carry: it keeps the mode the file has in the context"
		} else {
			msg += "; its --chown names a user, which a mount cannot carry: every user of the RUN can read it (mode 0444)"
		}
	}
	if len(f.uses) > 0 {
		msg += " for the RUN on " + linesText(f.uses)
	}
	if f.ended != 0 {
		msg += fmt.Sprintf("; its deletion on line %d was taken out", f.ended)
	}
	a.add(f.rule, f.line, f.line, true, fix, "%s", msg)
}

// reqSet collects the secret and ssh mounts of the rewritten Dockerfile:
// those the input already had and those the rewrite adds.
type reqSet struct {
	byKey map[string]*Requirement
	keys  []string
}

func (rs *reqSet) add(m *instructions.Mount, line int) {
	// r stays on the stack: list sets the flags, and only a new key
	// takes a copy.
	var r Requirement
	switch m.Type {
	case instructions.MountTypeSecret:
		r.ID = m.CacheID
		if r.ID == "" {
			r.ID = m.Target
		}
		switch {
		case m.Env != nil:
			r.Kind, r.Env = SecretEnv, r.ID
		case m.Target != "" && !isDefaultSecretPath(m.Target, r.ID):
			r.Kind, r.Src = SecretFile, r.ID
		default:
			r.Kind = SecretFile
		}
	case instructions.MountTypeSSH:
		r.Kind, r.ID = SSH, m.CacheID
		if r.ID == "" {
			r.ID = "default"
		}
	default:
		return
	}
	if rs.byKey == nil {
		rs.byKey = map[string]*Requirement{}
	}
	// One flag per secret id: a build gets each id once. An env mount
	// says where the value comes from better than a plain one.
	key := r.ID
	if r.Kind == SSH {
		key = "ssh\x00" + r.ID
	}
	have, ok := rs.byKey[key]
	if ok && kindRank(r.Kind) > kindRank(have.Kind) {
		r.Required = have.Required || m.Required
		r.Lines = append(have.Lines, line)
		*have = r
		return
	}
	if !ok {
		r.Required = m.Required
		r.Lines = []int{line}
		nr := r
		rs.byKey[key] = &nr
		rs.keys = append(rs.keys, key)
		return
	}
	have.Required = have.Required || m.Required
	if have.Lines[len(have.Lines)-1] != line {
		have.Lines = append(have.Lines, line)
	}
}

func (rs *reqSet) list() []Requirement {
	out := make([]Requirement, 0, len(rs.keys))
	for _, k := range rs.keys {
		r := *rs.byKey[k]
		r.Lines = uniqueInts(r.Lines)
		r.Flag = r.flag()
		out = append(out, r)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].ID != out[j].ID {
			return out[i].ID < out[j].ID
		}
		return out[i].Kind < out[j].Kind
	})
	return out
}

// flag is the build flag that supplies a requirement.
func (r *Requirement) flag() string {
	switch {
	case r.Kind == SSH:
		return "--ssh " + r.ID
	case r.Kind == SecretEnv:
		return "--secret id=" + r.ID + ",env=" + r.ID
	case r.Src != "":
		return "--secret id=" + r.ID + ",src=" + r.ID
	}
	return "--secret id=" + r.ID
}

// isDefaultSecretPath reports whether target is /run/secrets/ID.
func isDefaultSecretPath(target, id string) bool {
	rest, ok := strings.CutPrefix(target, "/run/secrets/")
	return ok && rest == id
}

func kindRank(k SecretKind) int {
	switch k {
	case SecretEnv:
		return 2
	case SecretFile:
		return 1
	}
	return 0
}

// secretArgs lists the ARG names the rewrite removed, global ones included.
func (a *analyzer) secretArgs() []string {
	seen := map[string]bool{}
	for _, v := range a.vars {
		if v.kind == fromArg {
			seen[v.name] = true
		}
	}
	for name := range a.metaSecrets {
		seen[name] = true
	}
	out := make([]string, 0, len(seen))
	for name := range seen {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}
