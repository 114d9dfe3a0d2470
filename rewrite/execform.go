package rewrite

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// execRefusal starts the CannotRewrite message of a RUN whose heredoc or
// exec-form script handles a secret (checkScript); withExecFormInShellForm
// finds the RUNs it refused by it.
const execRefusal = "hushbuild does not rewrite heredoc or exec-form scripts"

// withExecFormInShellForm rewrites the exec-form RUNs that the engine
// refused only for their form, RUN ["sh", "-c", "SCRIPT"], in the shell
// form, RUN SCRIPT: with the default SHELL, BuildKit runs exactly
// /bin/sh -c SCRIPT for it (the options -e, -u, -x become a leading
// `set -eux;`). The converted text is rewritten again; its result, with
// a finding on each converted line, is returned when it no longer refuses
// them, else first is.
func withExecFormInShellForm(src []byte, first *Result, cfg Config, maxInstructions int) *Result {
	var lines []int
	for _, f := range first.Findings {
		if f.Rule == RuleCannotRewrite.Name && strings.HasPrefix(f.Message, execRefusal) {
			lines = append(lines, f.Range.Start)
		}
	}
	if len(lines) == 0 {
		return first
	}
	conv, done := execFormToShell(src, lines)
	if len(done) == 0 {
		return first
	}
	res, err := rewrite(conv, cfg, maxInstructions)
	if err != nil || res == nil {
		return first
	}
	for _, f := range res.Findings {
		if f.Rule == RuleCannotRewrite.Name && strings.HasPrefix(f.Message, execRefusal) && slices.Contains(done, f.Range.Start) {
			return first
		}
	}
	for _, l := range done {
		res.Findings = append(res.Findings, Finding{
			Rule: RuleSecretWrittenToFile.Name, Severity: SeverityWarning, Range: Range{Start: l, End: l}, Fixed: true,
			Message: "this exec-form RUN of a shell script (RUN [\"sh\", \"-c\", ...]) is written in the shell form, which runs the same /bin/sh -c, so that what its script does with the secret can be rewritten",
		})
	}
	slices.SortStableFunc(res.Findings, func(a, b Finding) int { return a.Range.Start - b.Range.Start })
	res.Changed = !bytes.Equal(res.Output, src)
	return res
}

// execFormToShell writes the single-line RUN instructions at lines that
// run a POSIX sh script in the exec form in the shell form, where that
// runs the same command: the Dockerfile sets no SHELL, the program is sh
// or /bin/sh with only the options c, e, u and x, the script is the one
// argument after them, on one line, and reads the same in the shell form.
// It returns the text and the lines it converted.
func execFormToShell(src []byte, lines []int) ([]byte, []int) {
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return src, nil
	}
	for _, n := range res.AST.Children {
		if strings.EqualFold(n.Value, "shell") {
			return src, nil
		}
	}
	text := strings.SplitAfter(string(src), "\n")
	var done []int
	for _, n := range res.AST.Children {
		if !strings.EqualFold(n.Value, "run") || n.StartLine != n.EndLine || !slices.Contains(lines, n.StartLine) || n.StartLine > len(text) {
			continue
		}
		cmd, err := instructions.ParseInstruction(n)
		if err != nil {
			continue
		}
		run, ok := cmd.(*instructions.RunCommand)
		if !ok || run.PrependShell || len(run.Files) > 0 || len(run.CmdLine) != 3 {
			continue
		}
		prog, opts, script := run.CmdLine[0], run.CmdLine[1], run.CmdLine[2]
		if prog != "sh" && prog != "/bin/sh" || len(opts) < 2 || opts[0] != '-' || strings.Trim(opts[1:], "ceux") != "" || !strings.Contains(opts, "c") {
			continue
		}
		trimmed := strings.TrimSpace(script)
		// In the shell form, "<<" would start a heredoc of the
		// Dockerfile, a leading "[" an exec form, and a trailing escape
		// a continuation.
		if trimmed == "" || strings.ContainsAny(script, "\r\n") || strings.HasPrefix(trimmed, "[") || strings.Contains(script, "<<") ||
			strings.HasSuffix(trimmed, "\\") || strings.HasSuffix(trimmed, "`") {
			continue
		}
		line := text[n.StartLine-1]
		eol := line[len(strings.TrimRight(line, "\r\n")):]
		body := strings.TrimRight(line, "\r\n")
		at := strings.Index(body, "[")
		if at < 0 {
			continue
		}
		var argv []string
		if json.Unmarshal([]byte(body[at:]), &argv) != nil || !slices.Equal(argv, run.CmdLine) {
			continue
		}
		if set := strings.Trim(opts[1:], "c"); set != "" {
			script = fmt.Sprintf("set -%s; %s", set, script)
		}
		text[n.StartLine-1] = body[:at] + script + eol
		done = append(done, n.StartLine)
	}
	if len(done) == 0 {
		return src, nil
	}
	return []byte(strings.Join(text, "")), done
}
