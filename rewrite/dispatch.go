package rewrite

// Per-instruction dispatch: FROM, WORKDIR, USER, SHELL and ONBUILD here;
// ARG and ENV in argenv.go, COPY and ADD in copy.go, RUN in run.go with
// its mounts in mounts.go.

import (
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// checkFrom fails closed on secrets expanded into FROM.
func (a *analyzer) checkFrom(s *instructions.Stage) {
	names := map[string]bool{}
	for k := range a.metaSecrets {
		names[k] = true
	}
	for _, w := range []string{s.BaseName, s.Platform} {
		for _, r := range a.refs(w, names) {
			line := 0
			if len(s.Location) > 0 {
				line = s.Location[0].Start.Line
			}
			a.add(RuleSecretExpanded, line, line, false,
				"do not put a secret in an image reference; pass registry credentials to the builder (docker login) instead",
				"FROM uses the secret ARG %s: BuildKit expands it into the image reference, where no mount can carry it", r)
		}
	}
}

// command dispatches one instruction.
func (a *analyzer) command(st *stageState, cmd instructions.Command) {
	n := a.node(cmd)
	if n == nil {
		return
	}
	switch c := cmd.(type) {
	case *instructions.ArgCommand:
		a.arg(st, n, c)
	case *instructions.EnvCommand:
		a.env(st, n, c)
	case *instructions.RunCommand:
		a.checkExpansion(st, n, c)
		a.run(st, n, c)
	case *instructions.CopyCommand:
		a.checkExpansion(st, n, c)
		a.copyCmd(st, n, c.ExcludePatterns, c.From, c.SourcesAndDest, c.Chown, c.Chmod, c.Parents, false)
	case *instructions.AddCommand:
		a.checkExpansion(st, n, c)
		a.copyCmd(st, n, c.ExcludePatterns, "", c.SourcesAndDest, c.Chown, c.Chmod, false, true)
	case *instructions.WorkdirCommand:
		a.checkExpansion(st, n, c)
		a.workdir(st, c.Path)
	case *instructions.UserCommand:
		a.checkExpansion(st, n, c)
		if v, ok := a.eval(c.User, st.vars); ok {
			st.user = v
		} else {
			st.user = "?"
		}
	case *instructions.ShellCommand:
		st.shell = append([]string(nil), c.Shell...)
	case *instructions.OnbuildCommand:
		a.onbuild(st, n)
	case *instructions.CmdCommand:
		a.checkExpansion(st, n, cmd)
		a.runtimeSourced(st, n, c.ShellDependantCmdLine)
	case *instructions.EntrypointCommand:
		a.checkExpansion(st, n, cmd)
		a.runtimeSourced(st, n, c.ShellDependantCmdLine)
	default:
		a.checkExpansion(st, n, cmd)
	}
}

// checkExpansion fails closed when BuildKit would expand a secret variable
// into the image or the build graph while parsing.
func (a *analyzer) checkExpansion(st *stageState, n *parser.Node, cmd instructions.Command) {
	ex, ok := cmd.(instructions.SupportsSingleWordExpansion)
	if !ok || !a.src.holds(n, '$') {
		// Every word it expands (heredocs included) is text of its
		// lines: without a $, none references a variable.
		return
	}
	var names map[string]bool
	var seen map[string]bool // made on the first secret found
	_ = ex.Expand(func(word string) (string, error) {
		if !strings.Contains(word, "$") {
			return word, nil
		}
		if names == nil {
			names = a.scopeNames(st)
		}
		for _, r := range a.refs(word, names) {
			if st.lookupSecret(r) != nil && !seen[r] {
				if seen == nil {
					seen = map[string]bool{}
				}
				seen[r] = true
				a.add(RuleSecretExpanded, n.StartLine, n.EndLine, false,
					"use the secret only inside RUN commands, where it arrives on a secret mount",
					"%s uses the secret %s: BuildKit expands it while parsing and records the value in the image or the build graph",
					strings.ToUpper(n.Value), r)
			}
		}
		return word, nil
	})
	// Heredoc files of COPY/ADD are expanded too (COPY <<EOF).
	if raw, ok := cmd.(instructions.SupportsSingleWordExpansionRaw); ok {
		_ = raw.ExpandRaw(func(word string) (string, error) {
			for _, r := range a.refs(word, a.scopeNames(st)) {
				if st.lookupSecret(r) != nil && !seen[r] {
					if seen == nil {
						seen = map[string]bool{}
					}
					seen[r] = true
					a.add(RuleSecretExpanded, n.StartLine, n.EndLine, false,
						"write the file in a RUN with the secret on a mount, or mount the whole file as a secret",
						"%s writes a file from a heredoc that expands the secret %s: the value would be in the layer", strings.ToUpper(n.Value), r)
				}
			}
			return word, nil
		})
	}
	if c, ok := cmd.(*instructions.CopyCommand); ok && strings.Contains(c.From, "$") {
		for _, r := range a.refs(c.From, a.scopeNames(st)) {
			if st.lookupSecret(r) != nil {
				a.add(RuleSecretExpanded, n.StartLine, n.EndLine, false,
					"use the secret only inside RUN commands", "COPY --from uses the secret %s", r)
			}
		}
	}
}

func (a *analyzer) workdir(st *stageState, p string) {
	v, ok := a.eval(p, st.vars)
	switch {
	case !ok:
		st.workdir = ""
	case path.IsAbs(v):
		st.workdir = path.Clean(v)
	case st.workdir != "":
		st.workdir = path.Join(st.workdir, v)
	default:
		st.workdir = ""
	}
	st.vars["\x00wdset"] = "1"
}

// onbuild reports ONBUILD instructions that carry a secret into the
// images built FROM this one: they run there, where this build's secret
// mounts do not exist and its build-args are whatever the child passes.
func (a *analyzer) onbuild(st *stageState, n *parser.Node) {
	if n.Next == nil || len(n.Next.Children) == 0 {
		return
	}
	inner := n.Next.Children[0]
	var why []string
	for _, m := range onbuildVarRe.FindAllStringSubmatch(inner.Original, -1) {
		if a.isSecret(m[1]) {
			why = append(why, "uses the secret "+m[1])
		}
	}
	switch lowerKeyword(inner.Value) {
	case "arg":
		for w := inner.Next; w != nil; w = w.Next {
			key, _, _ := strings.Cut(w.Value, "=")
			if a.isSecret(key) {
				why = append(why, "declares the secret "+key)
			}
		}
	case "env":
		// The parser gives an ENV as triples: name, value, and the
		// separator ("=", or "" for the legacy form). A value is never
		// read as a name: a password that says pass would be named in
		// the finding.
		for w := inner.Next; w != nil; {
			if a.isSecret(w.Value) {
				why = append(why, "declares the secret "+w.Value)
			}
			for range 3 {
				if w = w.Next; w == nil {
					break
				}
			}
		}
	case "copy", "add":
		for w := inner.Next; w != nil && w.Next != nil; w = w.Next {
			if isSecretFile(w.Value, a.cfg) {
				why = append(why, "copies the credential file "+w.Value)
			}
		}
	}
	if len(why) == 0 {
		return
	}
	sort.Strings(why)
	// A later stage of this Dockerfile built FROM this one runs the
	// trigger in this very build, where the engine does not rewrite it:
	// fail closed.
	if later := a.stagesFrom(st); len(later) > 0 {
		a.add(RuleCannotRewrite, n.StartLine, n.EndLine, false,
			"write the instruction into the stages built FROM this one instead of ONBUILD, where hushbuild rewrites it",
			"ONBUILD %s %s, and %s of this Dockerfile is built FROM this stage: the trigger runs in this build, where it would leak", strings.ToUpper(inner.Value), strings.Join(uniqueStrings(why), ", "), strings.Join(later, ", "))
	}
	a.add(RuleOnbuildSecret, n.StartLine, n.EndLine, false,
		"move the instruction into the Dockerfiles that build FROM this image, where hushbuild can rewrite it, or give it a secret mount there",
		"ONBUILD %s %s: it runs in every image built FROM this one, where the value would leak the same way", strings.ToUpper(inner.Value), strings.Join(uniqueStrings(why), ", "))
}

// stagesFrom names the later stages of the Dockerfile whose FROM is st:
// st's ONBUILD triggers run in each of them.
func (a *analyzer) stagesFrom(st *stageState) []string {
	var out []string
	parents := map[string]bool{strconv.Itoa(st.index): true}
	if st.name != "" {
		parents[strings.ToLower(st.name)] = true
	}
	for j := st.index + 1; j < len(a.stages); j++ {
		s := a.stages[j]
		if !parents[strings.ToLower(s.BaseName)] {
			continue
		}
		name := s.Name
		if name == "" {
			name = strconv.Itoa(j)
		}
		out = append(out, "stage "+name)
	}
	return out
}

// runtimeSourced reports the files of the build context that a CMD or
// ENTRYPOINT sources (CMD . ./ci/vars.sh && node app.js), as a RUN's
// (sourcedCopies): the container reads the variables they set from the
// image.
func (a *analyzer) runtimeSourced(st *stageState, n *parser.Node, cl instructions.ShellDependantCmdLine) {
	script := strings.Join(cl.CmdLine, " ")
	if !cl.PrependShell {
		var ok bool
		if script, ok = a.execSourced(st, n, cl.CmdLine); !ok {
			return
		}
	}
	f, err := parseShell(script)
	if err != nil {
		return
	}
	facts := analyzeShell(f, st.shellEnv(), nil)
	a.sourcedCopies(st, n, facts.sourced, facts.sourcedUnknown)
}

// execSourced is the script of an exec form that runs a shell script
// (shellCallOf: sh -c, bash -euo pipefail -c, timeout 60 sh -c), for what
// it sources. A program before the shell that moves it (sudo, env -C)
// makes what it sources unknown, which sourcedCopies reports here.
func (a *analyzer) execSourced(st *stageState, n *parser.Node, argv []string) (string, bool) {
	sc, ok := shellCallOf(argv)
	if !ok {
		return "", false
	}
	if sc.moves() {
		a.sourcedCopies(st, n, nil, true)
		return "", false
	}
	if sc.split {
		return splitLine(argv[sc.script]), true
	}
	return argv[sc.script], true
}
