package rewrite

import (
	"bytes"
	"encoding/json"
	"path"
	"slices"
	"strings"
	"unicode"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"mvdan.cc/sh/v3/syntax"
)

// Exec-form RUNs of a shell script: RUN ["bash", "-euo", "pipefail",
// "-c", "SCRIPT", "ARG0", "ARG1"]. The engine reads SCRIPT as it reads a
// shell-form command, and writes its rewrite back into the same JSON
// array: the mounts go after the keyword, the prelude (secret defaults,
// the save and restore of files a secret is written into, replays) at the
// start of SCRIPT, the deletions inside it. The program, its options and
// the arguments after the script stay as they are, so the RUN runs the
// same shell as before, whatever SHELL says (exec form ignores SHELL),
// and its history entry is the one the stock frontend writes for the
// rewritten RUN.

// execRefusal starts the CannotRewrite message of a RUN whose heredoc or
// exec-form script handles a secret and that the engine does not rewrite
// (checkScript).
const execRefusal = "hushbuild does not rewrite heredoc or exec-form scripts"

// execShells are the programs whose -c script the engine rewrites in the
// exec form: they read the POSIX prelude as sh does, and the shell parser
// reads their scripts (bash's dialect, a superset of sh's). zsh, ksh and
// mksh parse differently; an exec form of them stays refused when its
// script handles a secret.
var execShells = map[string]bool{"sh": true, "bash": true, "dash": true, "ash": true}

// execScript is an exec-form RUN of a shell script that the engine
// rewrites in place.
type execScript struct {
	argv   []string
	index  int    // of the script in argv
	prog   string // the shell, as argv[0] names it
	xtrace bool   // -x or -o xtrace: the shell prints each command expanded
	// start and end delimit the script's JSON string (quotes included)
	// in the RUN's logical line.
	start, end int
}

// script is the shell script the RUN runs.
func (e *execScript) script() string { return e.argv[e.index] }

// args are the words after the script: $0, $1, ...
func (e *execScript) args() []string { return e.argv[e.index+1:] }

// execScriptOf reads c as an exec-form RUN of a shell script that the
// engine can rewrite in place: the program is one of execShells (by name
// or path), its options are ones that change nothing of what the engine
// follows (-e, -u, -x, -o pipefail, -l, --norc, ...), then -c, the script,
// and any arguments; the array is the whole of the RUN's command in l.
// It returns nil for any other RUN.
func execScriptOf(c *instructions.RunCommand, l *logical) *execScript {
	argv := c.CmdLine
	if c.PrependShell || len(c.Files) > 0 || len(argv) < 3 || l == nil {
		return nil
	}
	prog := argv[0]
	if !execShells[path.Base(prog)] || strings.Contains(prog, "/") && !path.IsAbs(prog) {
		return nil
	}
	e := &execScript{argv: argv, prog: prog}
	hasC := false
	j := 1
	for j < len(argv) {
		a := argv[j]
		if a == "--" {
			j++
			break
		}
		if a == "-" {
			// bash ends its options there, sh may read it otherwise.
			return nil
		}
		if len(a) < 2 || a[0] != '-' && a[0] != '+' {
			break
		}
		if strings.HasPrefix(a, "--") {
			switch a {
			case "--login", "--noprofile", "--norc", "--posix", "--verbose", "--noediting":
				j++
				continue
			}
			return nil
		}
		takes := 0
		for _, ch := range a[1:] {
			switch {
			case ch == 'c' && a[0] == '-':
				hasC = true
			case ch == 'x' && a[0] == '-':
				e.xtrace = true
			case ch == 'o' || ch == 'O':
				takes++
			case strings.ContainsRune("aefhmuvxBCEHPTli", ch):
			default:
				// -r (restricted: no cd, no redirections), -n (reads
				// only), -s, -p, -k, -c after +, ...
				return nil
			}
		}
		for k := 1; k <= takes; k++ {
			if j+k >= len(argv) {
				return nil
			}
			if a[0] == '-' && argv[j+k] == "xtrace" {
				e.xtrace = true
			}
		}
		j += 1 + takes
	}
	if !hasC || j >= len(argv) {
		return nil
	}
	e.index = j
	start, end, ok := jsonElement(l.text, keywordEnd(l), argv, j)
	if !ok {
		return nil
	}
	e.start, e.end = start, end
	return e
}

// jsonElement finds, in text from offset from on, the JSON array that is
// the rest of text and decodes to argv, and returns the range of its
// element i, a JSON string, quotes included.
func jsonElement(text string, from int, argv []string, i int) (int, int, bool) {
	end := len(strings.TrimRightFunc(text, unicode.IsSpace))
	for at := strings.IndexByte(text[from:], '['); at >= 0; {
		at += from
		var got []string
		if json.Unmarshal([]byte(text[at:end]), &got) == nil && slices.Equal(got, argv) {
			return elementRange(text[at:end], at, argv, i)
		}
		from = at + 1
		at = strings.IndexByte(text[from:], '[')
	}
	return 0, 0, false
}

// elementRange is jsonElement's range of element i of the array arr,
// which starts at offset base of the text.
func elementRange(arr string, base int, argv []string, i int) (int, int, bool) {
	dec := json.NewDecoder(strings.NewReader(arr))
	if t, err := dec.Token(); err != nil || t != json.Delim('[') {
		return 0, 0, false
	}
	for k := 0; k <= i; k++ {
		prev := int(dec.InputOffset())
		t, err := dec.Token()
		if err != nil {
			return 0, 0, false
		}
		if k < i {
			continue
		}
		s, ok := t.(string)
		end := int(dec.InputOffset())
		start := prev
		for start < end && arr[start] != '"' {
			if !strings.ContainsRune(" \t\r\n,", rune(arr[start])) {
				return 0, 0, false
			}
			start++
		}
		var check string
		if !ok || s != argv[i] || start >= end || json.Unmarshal([]byte(arr[start:end]), &check) != nil || check != s {
			return 0, 0, false
		}
		return base + start, base + end, true
	}
	return 0, 0, false
}

// jsonString encodes s as a JSON string as BuildKit decodes it, without
// escaping <, > and & (json.Marshal's HTML escapes decode the same, but
// read badly).
func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// usesPositional reports whether a script expands its arguments ($0, $1,
// "$@", $*, ${10}): words of the exec form after the script then reach it.
func usesPositional(f *syntax.File) bool {
	found := false
	walk(f, func(n syntax.Node) bool {
		if p, ok := n.(*syntax.ParamExp); ok && p.Param != nil {
			v := p.Param.Value
			if v == "@" || v == "*" || v != "" && strings.Trim(v, "0123456789") == "" {
				found = true
			}
		}
		return !found
	})
	return found
}

// verifyExecForms checks that each exec-form RUN the rewrite edited
// (want: by its first line, the argv it must run) parses, in out, as that
// exact exec form: a prelude or a deletion that changed the JSON array in
// any other way must not be built.
func verifyExecForms(out []byte, want map[int][]string) (int, error) {
	return verifyRuns(out, want, func(run *instructions.RunCommand, argv []string) bool {
		return !run.PrependShell && len(run.Files) == 0 && slices.Equal(run.CmdLine, argv)
	}, errExecForm)
}

var errExecForm = execFormError{}

type execFormError struct{}

func (execFormError) Error() string {
	return "the rewritten exec-form RUN does not run the rewritten script"
}

// execEdits writes the rewrite of an exec-form RUN's script back into
// its JSON array: the prelude before the script, the deletions inside
// it; the other elements of the array keep their text.
func (a *analyzer) execEdits(n *parser.Node, l *logical, ex *execScript, p *runPlan, spans []span) {
	if len(p.prelude) == 0 && len(spans) == 0 {
		return
	}
	script := execFinal(ex.script(), p.prelude, spans)
	argv := slices.Clone(ex.argv)
	argv[ex.index] = script
	a.src.deleteText(l, ex.start, ex.end)
	a.src.insert(l.srcOffset(ex.start), jsonString(script))
	a.touch(n.StartLine)
	if a.execForms == nil {
		a.execForms = map[int][]string{}
	}
	a.execForms[n.StartLine] = argv
}

// execFinal is a script with the prelude before it and the spans applied.
func execFinal(script string, prelude []string, spans []span) string {
	script = applySpans(script, spans)
	if len(prelude) > 0 {
		script = strings.Join(prelude, " ") + " " + script
	}
	return script
}

// shellTraces reports whether a shell's argv (a SHELL instruction's, or
// an exec form's up to the script) turns on xtrace: -x, -ex, -o xtrace.
func shellTraces(argv []string) bool {
	for j := 1; j < len(argv); j++ {
		a := argv[j]
		if len(a) < 2 || a[0] != '-' && a[0] != '+' || a == "--" {
			return false
		}
		if strings.HasPrefix(a, "--") {
			continue
		}
		for _, ch := range a[1:] {
			switch {
			case ch == 'x' && a[0] == '-':
				return true
			case ch == 'o' || ch == 'O':
				j++
				if j < len(argv) && a[0] == '-' && argv[j] == "xtrace" {
					return true
				}
			}
		}
	}
	return false
}

// traced reports the secrets that a RUN whose shell runs with xtrace (an
// exec form's -x, SHELL ["/bin/sh", "-xc"]) prints into the build log:
// the shell prints every command of the script, prelude included, with
// its variables expanded.
func (a *analyzer) traced(st *stageState, n *parser.Node, c *instructions.RunCommand, ex *execScript, hd *heredocScript, p *runPlan, spans []span) {
	var script string
	switch {
	case ex != nil && ex.xtrace:
		script = execFinal(ex.script(), p.prelude, spans)
	case hd != nil && shellTraces(st.shell):
		script = execFinal(hd.data, p.prelude, spans)
	case ex == nil && c.PrependShell && len(c.CmdLine) == 1 && shellTraces(st.shell):
		script = execFinal(c.CmdLine[0], p.prelude, spans)
	default:
		return
	}
	f, err := parseShell(script)
	if err != nil {
		return
	}
	if vars := wordVars(f, taint(f, secretNames(st, p))); len(vars) > 0 {
		a.add(RuleSecretInLog, n.StartLine, n.EndLine, false,
			"drop -x from the shell's options (or turn it off with set +x before the commands that use the secret); CI keeps build logs",
			"this RUN's shell runs with -x, which prints each command with %s expanded into the build log", strings.Join(vars, ", "))
	}
}
