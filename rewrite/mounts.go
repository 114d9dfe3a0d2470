package rewrite

// RUN --mount handling: the secret mounts a RUN gets for the secret
// variables and credential files in scope, and the mounts it has itself.

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// mountValue quotes a --mount field value when it holds a comma or quote.
func mountValue(s string) string {
	if strings.ContainsAny(s, `,"= `) {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

// ensure adds the mount (and, for defaults and derived values, the shell
// prelude) that gives one secret variable to the RUN.
func (a *analyzer) ensure(st *stageState, n *parser.Node, v *secretVar, p *runPlan) {
	if p.markEmitted(v) {
		return
	}
	if p.envMounts[v.name] {
		return
	}
	line := n.StartLine
	if v.expr != "" {
		if !isShellName(v.name) {
			a.add(RuleCannotRewrite, n.StartLine, n.EndLine, false,
				"rename "+v.name+" to a name made of letters, digits and underscores",
				"%s is built from secrets, and hushbuild rebuilds it in the shell, where %s is not a valid variable name", v.name, v.name)
			return
		}
		for _, d := range v.deps {
			a.ensure(st, n, d, p)
		}
		if !p.canPre {
			a.add(RuleCannotRewrite, n.StartLine, n.EndLine, false,
				"use the shell form of RUN or RUN [\"sh\", \"-c\", \"...\"] (or read the parts of "+v.name+" in the command itself)",
				"%s is built from secrets on line %d; hushbuild rebuilds it at the start of the command, which needs a shell script: the shell form of RUN, or an exec form of sh or bash -c", v.name, v.line)
			return
		}
		// Non-secret variables the value uses must be visible here; the
		// secrets it uses come on their mounts.
		isDep := map[string]bool{}
		for _, d := range v.deps {
			isDep[d.name] = true
		}
		for _, r := range a.refs(v.expr, a.scopeNamesPlus(st)) {
			if st.lookupSecret(r) == nil && !st.declared[r] && r != v.name && !isDep[r] {
				a.add(RuleCannotRewrite, n.StartLine, n.EndLine, false,
					"declare ARG "+r+" in this stage",
					"%s (line %d) uses %s, which this RUN does not see", v.name, v.line, r)
				return
			}
		}
		p.prelude = append(p.prelude, v.name+"="+v.expr+"; export "+v.name+";")
		v.uses = append(v.uses, line)
		return
	}
	if !safeMountValue(v.id) || !safeMountValue(v.name) {
		a.add(RuleCannotRewrite, n.StartLine, n.EndLine, false,
			"rename "+v.name+" to a name made of letters, digits and underscores",
			"the secret %s cannot be written into a --mount flag safely", v.name)
		return
	}
	required := v.required
	if v.def != nil && *v.def != "" {
		if p.canPre && isShellName(v.name) {
			p.prelude = append(p.prelude, v.name+"=${"+v.name+"-"+shellQuote(*v.def)+"}; export "+v.name+";")
		} else {
			required = true
		}
	}
	req := ""
	if required {
		req = ",required=true"
	}
	env := v.name
	p.addMount("--mount=type=secret,id="+mountValue(v.id)+",env="+v.name+req,
		instructions.Mount{Type: instructions.MountTypeSecret, CacheID: v.id, Env: &env, Required: required})
	v.uses = append(v.uses, line)
}

// applyOwnership carries a chmod/chown of a mounted file into the mount's
// mode, uid and gid.
func applyOwnership(f *fileSecret, r *removal, user string) {
	switch r.cmd {
	case "chmod":
		if m, err := strconv.ParseUint(r.operand, 8, 32); err == nil {
			mi := int(m)
			f.mode = &mi
		}
	case "chown", "chgrp":
		owner := r.operand
		u, g, _ := strings.Cut(owner, ":")
		if r.cmd == "chgrp" {
			u, g = "", owner
		}
		if ui, err := strconv.Atoi(u); err == nil {
			f.uid = &ui
			if f.gid == nil {
				f.gid = &ui
			}
		}
		if gi, err := strconv.Atoi(g); err == nil {
			f.gid = &gi
			if f.uid == nil {
				zero := 0
				f.uid = &zero
			}
		}
		if f.uid == nil && f.mode == nil {
			m := 0o444
			f.mode = &m
		}
	}
}

// mountedPaths are the credential files a RUN has on secret mounts: those
// hushbuild mounts and those the RUN mounts itself.
func mountedPaths(st *stageState, p *runPlan) []string {
	var out []string
	for _, fs := range st.files {
		out = append(out, fs.target)
	}
	for t := range p.targets {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// safeMountValue reports whether a path can stand in a --mount flag as
// written: BuildKit reads flags with quote removal and then as CSV.
func safeMountValue(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_.@+~:%/-", c)) {
			return false
		}
	}
	return true
}

// ownSecretMounts are a RUN's own secret mounts.
func ownSecretMounts(c *instructions.RunCommand) []*instructions.Mount {
	var out []*instructions.Mount
	for _, m := range mountsOf(c) {
		if m.Type == instructions.MountTypeSecret {
			out = append(out, m)
		}
	}
	return out
}

// replayMount gives a later RUN a secret mount that an earlier RUN's
// write read, unless it has it already.
func (a *analyzer) replayMount(n *parser.Node, m *instructions.Mount, p *runPlan) {
	id := m.CacheID
	flag := "--mount=type=secret,id=" + mountValue(id)
	switch {
	case m.Env != nil:
		name := *m.Env
		if name == "" {
			name = id
		}
		if p.envMounts[name] {
			return
		}
		p.setEnvMount(name)
		flag += ",env=" + mountValue(name)
	default:
		t := m.Target
		if t == "" {
			t = "/run/secrets/" + id
		}
		if p.targets[t] {
			return
		}
		p.setTarget(t)
		flag += ",target=" + mountValue(t)
	}
	if !safeMountValue(id) {
		a.add(RuleCannotRewrite, n.StartLine, n.EndLine, false,
			"name the secret with letters, digits, dots, dashes and underscores",
			"an earlier RUN writes the secret %q into a file that this RUN writes again, and its mount cannot be repeated here safely", id)
		p.failed = true
		return
	}
	if m.Required {
		flag += ",required=true"
	}
	if m.UID != nil {
		flag += fmt.Sprintf(",uid=%d", *m.UID)
	}
	if m.GID != nil {
		flag += fmt.Sprintf(",gid=%d", *m.GID)
	}
	if m.Mode != nil {
		flag += fmt.Sprintf(",mode=0%o", *m.Mode)
	}
	p.addMount(flag, *m)
}

// mountsOf parses a RUN's --mount flags. BuildKit defers parsing them to
// the expansion step; an identity expander parses them with their values
// as written.
func mountsOf(run *instructions.RunCommand) []*instructions.Mount {
	if err := run.Expand(func(w string) (string, error) { return w, nil }); err != nil {
		return nil
	}
	return instructions.GetMounts(run)
}
