package rewrite

// ARG and ENV: secret-named variables become secret mounts of the RUNs
// that see them, and leave the instruction.

import (
	"fmt"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// arg handles ARG inside a stage.
func (a *analyzer) arg(st *stageState, n *parser.Node, c *instructions.ArgCommand) {
	var removed []string
	var derived []string
	for _, kv := range c.Args {
		value := kv.Value
		if value == nil {
			if d, ok := a.metaSecrets[kv.Key]; ok {
				value = d
			} else if d, ok := a.metaVars[kv.Key]; ok {
				value = &d
			}
		}
		if a.isSecret(kv.Key) && !(value != nil && isSettingValue(*value) && !matchAnyName(a.cfg.Secrets, kv.Key)) {
			v := &secretVar{name: kv.Key, id: kv.Key, kind: fromArg, line: n.StartLine, rule: RuleSecretArg}
			if value != nil && *value != "" {
				if refs := a.secretRefs(st, *value); len(refs) > 0 {
					v.id, v.expr, v.deps = "", *value, refs
				} else if ev, ok := a.evalLoose(*value, st.vars); ok && ev == "" {
					// ARG X=$X and the like: empty unless supplied.
					v.required = !a.cfg.Optional
				} else if ev, ok := a.eval(*value, st.vars); ok {
					v.def = &ev
					if a.cfg.RewriteHardcoded && looksLikeCredential(kv.Key, ev) {
						v.def, v.required = nil, true
						a.addSettled(RuleHardcodedSecret, n.StartLine, n.EndLine, true,
							"rotate the credential: it is in the Dockerfile's history; build with --secret id="+kv.Key+",env="+kv.Key,
							"the default of ARG %s looked like a real credential: removed from the Dockerfile (rewrite-hardcoded), the build must supply it", kv.Key)
					} else {
						a.checkLiteralDefault(n, kv.Key, ev)
					}
				} else {
					v.id, v.expr = "", *value
					v.deps = nil
				}
			} else if value == nil {
				v.required = !a.cfg.Optional
			}
			st.dropSecret(kv.Key)
			st.secrets = append(st.secrets, v)
			a.vars = append(a.vars, v)
			delete(st.vars, kv.Key)
			removed = append(removed, kv.Key)
			continue
		}
		if value != nil {
			if refs := a.secretRefs(st, *value); len(refs) > 0 {
				v := &secretVar{name: kv.Key, kind: fromArg, line: n.StartLine, expr: *value, deps: refs, rule: RuleSecretArg}
				st.dropSecret(kv.Key)
				st.secrets = append(st.secrets, v)
				a.vars = append(a.vars, v)
				removed = append(removed, kv.Key)
				derived = append(derived, kv.Key)
				continue
			}
		}
		st.dropSecret(kv.Key)
		st.declared[kv.Key] = true
		if value != nil {
			if ev, ok := a.eval(*value, st.vars); ok {
				st.vars[kv.Key] = ev
			}
		} else {
			st.vars[kv.Key] = ""
		}
	}
	if len(removed) > 0 {
		a.rewriteArgs(n, c, removed)
	}
	_ = derived
}

// checkLiteralDefault reports a secret's literal default that looks like a
// real credential.
func (a *analyzer) checkLiteralDefault(n *parser.Node, name, value string) {
	if looksLikeCredential(name, value) || len(value) >= 8 && hasMixedClasses(value) && !looksLikePlaceholder(name, value) && !looksLikePath(value) {
		a.add(RuleHardcodedSecret, n.StartLine, n.EndLine, false,
			"remove the default and supply the value with --secret; rotate the credential, it is in the Dockerfile's history",
			"the default of ARG %s looks like a real credential: it is written in the Dockerfile and lands in the image history when no secret is supplied", name)
	}
}

// rewriteArgs removes names from an ARG instruction, keeping the others.
func (a *analyzer) rewriteArgs(n *parser.Node, c *instructions.ArgCommand, removed []string) {
	drop := map[string]bool{}
	for _, k := range removed {
		drop[k] = true
	}
	var kept []string
	for w := n.Next; w != nil; w = w.Next {
		key := w.Value
		if i := strings.IndexByte(key, '='); i >= 0 {
			key = key[:i]
		}
		if !drop[key] {
			kept = append(kept, w.Value)
		}
	}
	note := "hushbuild: ARG " + strings.Join(removed, " ") + " is a secret mount now"
	a.replaceInstruction(n, kept, note)
}

// env handles ENV.
func (a *analyzer) env(st *stageState, n *parser.Node, c *instructions.EnvCommand) {
	var removed []string
	for _, kv := range c.Env {
		refs := a.secretRefs(st, kv.Value)
		if len(refs) > 0 {
			v := &secretVar{name: kv.Key, kind: fromEnv, line: n.StartLine, rule: RuleSecretEnv}
			if r := refs[0]; len(refs) == 1 && isPlainRef(kv.Value, r.name) && r.id != "" {
				v.id, v.required, v.def = r.id, r.required, r.def
			} else {
				v.expr, v.deps = kv.Value, refs
			}
			st.dropSecret(kv.Key)
			st.secrets = append(st.secrets, v)
			a.vars = append(a.vars, v)
			delete(st.vars, kv.Key)
			delete(st.declared, kv.Key)
			removed = append(removed, kv.Key)
			continue
		}
		if a.isSecret(kv.Key) {
			plain := strings.Trim(kv.Value, `"'`)
			inputs := a.refs(kv.Value, a.scopeNames(st))
			if strings.Contains(kv.Value, "$") && len(inputs) == 0 {
				// Only names this stage does not declare: BuildKit
				// expands them to nothing.
				plain = ""
			}
			switch {
			case plain == "" || isSettingValue(plain) && !matchAnyName(a.cfg.Secrets, kv.Key):
				// ENV X= clears an earlier value: commands after it no
				// longer see the secret.
				st.dropSecret(kv.Key)
			case len(inputs) > 0:
				var args []string
				for _, r := range inputs {
					if _, isArg := st.vars[r]; isArg && st.declared[r] {
						if _, isEnv := st.vars["\x00env:"+r]; !isEnv {
							args = append(args, r)
						}
					}
				}
				for _, r := range args {
					if !a.promoted[r] {
						if a.promoted == nil {
							a.promoted = map[string]bool{}
						}
						a.promoted[r] = true
						a.newPromotions = true
					}
				}
			case looksLikePath(plain):
			case looksLikePlaceholder(kv.Key, plain):
				a.addSettled(RuleHardcodedSecret, n.StartLine, n.EndLine, false,
					"if this is a real credential, remove it and supply it with --secret",
					"ENV %s has a literal value that looks like a placeholder; it is stored in the image config", kv.Key)
			case a.cfg.RewriteHardcoded:
				v := &secretVar{name: kv.Key, id: kv.Key, kind: fromEnv, line: n.StartLine, required: true, rule: RuleSecretEnv}
				st.dropSecret(kv.Key)
				st.secrets = append(st.secrets, v)
				a.vars = append(a.vars, v)
				delete(st.vars, kv.Key)
				delete(st.declared, kv.Key)
				removed = append(removed, kv.Key)
				a.addSettled(RuleHardcodedSecret, n.StartLine, n.EndLine, true,
					"rotate the credential: it is in the Dockerfile's history; build with --secret id="+kv.Key+",env="+kv.Key,
					"ENV %s had a literal secret value: removed from the Dockerfile and the image config (rewrite-hardcoded), the build must supply it", kv.Key)
				continue
			default:
				a.add(RuleHardcodedSecret, n.StartLine, n.EndLine, false,
					"remove the value from the Dockerfile, supply it with --secret id="+kv.Key+" on the RUN that needs it, and rotate the credential (or set rewrite-hardcoded=true)",
					"ENV %s has a literal secret value: it is in the Dockerfile and in the image config, and no rewrite can un-leak it", kv.Key)
			}
		}
		st.dropSecret(kv.Key)
		st.declared[kv.Key] = true
		if ev, ok := a.eval(kv.Value, st.vars); ok {
			st.vars[kv.Key] = ev
			a.sawToolEnv(kv.Key, ev)
		} else {
			delete(st.vars, kv.Key)
		}
		st.vars["\x00env:"+kv.Key] = ""
	}
	if len(removed) > 0 {
		var kept []string
		drop := map[string]bool{}
		for _, k := range removed {
			drop[k] = true
		}
		for w := n.Next; w != nil && w.Next != nil; {
			if !drop[w.Value] {
				kept = append(kept, envPair(w))
			}
			if w.Next.Next == nil {
				break
			}
			w = w.Next.Next.Next
		}
		note := fmt.Sprintf("hushbuild: ENV %s is a secret mount now", strings.Join(removed, " "))
		a.replaceInstruction(n, kept, note)
	}
}

// envPair gives the text of one ENV key/value node triple.
func envPair(w *parser.Node) string {
	sep := " "
	if w.Next.Next != nil && w.Next.Next.Value == "=" {
		sep = "="
	}
	return w.Value + sep + w.Next.Value
}

func isPlainRef(word, name string) bool {
	w := strings.Trim(word, `"`)
	return w == "$"+name || w == "${"+name+"}"
}
