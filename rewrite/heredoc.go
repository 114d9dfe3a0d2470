package rewrite

import (
	"bytes"
	"errors"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"mvdan.cc/sh/v3/syntax"
)

// Heredoc RUNs whose command is the document itself:
//
//	RUN <<EOF
//	echo "//registry.npmjs.org/:_authToken=${NPM_TOKEN}" > .npmrc
//	npm ci
//	EOF
//
// BuildKit runs the document's text as the shell form's command (the
// RUN's shell, -c, the text), so the engine reads it as it reads a
// shell-form command and rewrites it in place: the mounts go after the
// keyword, the prelude at the start of the text, the deletions inside it.
// Only a document that stands verbatim in the source is rewritten: no
// tab chomping (<<-EOF) and no shebang (#!, which BuildKit runs as a
// program of its own); any other stays refused when its script handles a
// secret (checkScript). Each rewritten document must parse back to the
// expected text, or the rewrite fails closed (verifyHeredocRuns).

// heredocScript is the document of a RUN <<EOF.
type heredocScript struct {
	data string // the script: the document's text
	off  int    // the source offset of its first byte
}

// heredocScriptOf reads c as a RUN whose command is a heredoc that the
// engine can rewrite in place, l being its logical line, posix whether
// its shell is a POSIX one. It returns nil for any other RUN.
func (s *source) heredocScriptOf(c *instructions.RunCommand, l *logical, posix bool) *heredocScript {
	if !c.PrependShell || !posix || len(c.CmdLine) != 1 || len(c.Files) != 1 || l == nil {
		return nil
	}
	h := parser.MustParseHeredoc(c.CmdLine[0])
	f := c.Files[0]
	if h == nil || h.Chomp || f.Chomp || strings.HasPrefix(f.Data, "#!") || f.Data == "" {
		return nil
	}
	// A carriage return (a Dockerfile saved with CRLF line ends): BuildKit
	// keeps it in the document and the shell reads it as part of a word
	// (> .npmrc\r writes another file), where the parser sees a blank.
	if strings.ContainsRune(f.Data, '\r') {
		return nil
	}
	// The document's lines follow the logical line, verbatim.
	if l.lastLine >= s.numLines() {
		return nil
	}
	off := s.lineOff[l.lastLine]
	if off+len(f.Data) > len(s.data) || !bytes.Equal(s.data[off:off+len(f.Data)], []byte(f.Data)) {
		return nil
	}
	// BuildKit keeps the document's last line break; the terminator
	// follows it, on a line of its own.
	if !strings.HasSuffix(f.Data, "\n") {
		return nil
	}
	return &heredocScript{data: f.Data, off: off}
}

// heredocEdits writes the rewritten script into the document.
func (a *analyzer) heredocEdits(n *parser.Node, hd *heredocScript, p *runPlan, spans []span) {
	if len(p.prelude) == 0 && len(spans) == 0 {
		return
	}
	// The document's lines stay where they are: a deletion keeps the
	// line breaks it spans (the instructions after it are verified and
	// reported by their line), and the script must still parse.
	// A line break escaped by a backslash (a continued command) stays
	// escaped: a bare one would end the command there.
	kept := make([]span, len(spans))
	for i, s := range spans {
		kept[i] = s
		var b strings.Builder
		b.WriteString(s.text)
		for j := s.start; j < s.end; j++ {
			if hd.data[j] != '\n' {
				continue
			}
			if j > 0 && hd.data[j-1] == '\\' {
				b.WriteString(" \\\n")
			} else {
				b.WriteString("\n")
			}
		}
		kept[i].text = b.String()
	}
	script := execFinal(hd.data, p.prelude, kept)
	// The script must be the one the shell form's rewrite would run (the
	// same commands, whatever the line breaks), and keep its lines.
	if !sameScript(script, execFinal(hd.data, p.prelude, spans)) || strings.Count(script, "\n") != strings.Count(hd.data, "\n") {
		a.add(RuleCannotRewrite, n.StartLine, n.EndLine, false,
			"delete or change the credential file in a RUN of its own, or with a plain command on a line of its own",
			"the heredoc's script would not read the same once rewritten")
		return
	}
	a.src.replace(hd.off, hd.off+len(hd.data), script)
	a.touch(n.StartLine)
	if a.heredocRuns == nil {
		a.heredocRuns = map[int]string{}
	}
	a.heredocRuns[n.StartLine] = script
}

// verifyHeredocRuns checks that each RUN <<EOF whose document was
// rewritten, by first line, runs the script want holds for it in out.
func verifyHeredocRuns(out []byte, want map[int]string) (int, error) {
	return verifyRuns(out, want, func(run *instructions.RunCommand, script string) bool {
		return run.PrependShell && len(run.CmdLine) == 1 && len(run.Files) == 1 &&
			parser.MustParseHeredoc(run.CmdLine[0]) != nil && !run.Files[0].Chomp && run.Files[0].Data == script
	}, errHeredocRun)
}

// sameScript reports whether two scripts parse to the same commands,
// their layout and comments aside.
func sameScript(a, b string) bool {
	fa, err := parseShell(a)
	if err != nil {
		return false
	}
	fb, err := parseShell(b)
	if err != nil {
		return false
	}
	pr := syntax.NewPrinter(syntax.SingleLine(true))
	var ba, bb bytes.Buffer
	if pr.Print(&ba, fa) != nil || pr.Print(&bb, fb) != nil {
		return false
	}
	return bytes.Equal(ba.Bytes(), bb.Bytes())
}

var errHeredocRun = errors.New("the rewritten heredoc RUN does not run the rewritten script")
