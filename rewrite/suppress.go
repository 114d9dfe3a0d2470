package rewrite

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/hushbuild/hushbuild/secretscan"
)

// Suppression says that a `# hushbuild:ignore=` comment of the Dockerfile
// covers a finding. A suppressed finding is still reported, with the
// comment's line and reason, but it does not make the Dockerfile unsafe
// (Result.Err) nor fail a check.
type Suppression struct {
	// Line is the line of the comment; 0 when the finding is not
	// suppressed.
	Line int `json:"line"`
	// Reason is the comment's justification, on one line.
	Reason string `json:"reason"`
}

// Suppressed reports whether a comment of the Dockerfile covers f.
func (f Finding) Suppressed() bool { return f.Suppression.Line > 0 }

// IgnorePrefix starts a suppression comment: `# hushbuild:ignore=Rule[,Rule] reason`.
const IgnorePrefix = "hushbuild:ignore="

// Unsuppressible reports why a rule's findings cannot be suppressed by a
// comment of the Dockerfile, or "" when they can:
//   - SecretBuildArg is about what the caller passes, not about the
//     Dockerfile: the Dockerfile cannot waive it;
//   - SecretInBuildOutput is the proof's verdict on the real build output:
//     nothing written before the build can overrule it;
//   - CannotRewrite means the engine left the instruction as it was, with
//     the secret where it would leak;
//   - InvalidSuppression is about the comments themselves.
func Unsuppressible(rule string) string {
	switch rule {
	case RuleSecretBuildArg.Name:
		return "it is about the build-args the caller passes, which the Dockerfile cannot waive"
	case RuleSecretInBuildOutput.Name:
		return "it is the build's own check of its output with the real secret values, which nothing in the Dockerfile can overrule"
	case RuleCannotRewrite.Name:
		return "the instruction was left as it was, and would leak the secret: change the instruction"
	case RuleInvalidSuppression.Name:
		return "it reports suppression comments themselves"
	}
	return ""
}

// ignoreComment is one `# hushbuild:ignore=` comment.
type ignoreComment struct {
	line int
	// node is the start line of the instruction it covers; 0 for none.
	node   int
	rules  []string
	reason string
	// bad is set when the comment cannot be applied; the comment then
	// suppresses nothing. problem says why it cannot be read.
	bad     bool
	problem string
	// endOfLine is a suppression written after an instruction on its
	// line, which a Dockerfile does not read as a comment.
	endOfLine bool
	// used records which of rules suppressed a finding.
	used map[string]bool
}

// pragmaRe matches any comment that asks hushbuild to ignore something
// (`# hushbuild:ignore`, `# hushbuild-ignore`, `# hushbuild: ignored`):
// each one must be a valid suppression, so that a misspelt one is an
// error, not a comment that silently does nothing. The notes the rewrite
// leaves (`# hushbuild: ARG X is a secret mount now`) are not.
var pragmaRe = regexp.MustCompile(`(?i)^#\s*hushbuild\s*[:_-]?\s*ignor`)

// ignoreRe reads a suppression: the rule list, then the reason.
var ignoreRe = regexp.MustCompile(`(?i)^#\s*hushbuild:ignore=(\S*)(?:\s+(.*?))?\s*$`)

// maxReason bounds the reason carried into reports.
const maxReason = 500

// suppress applies the `# hushbuild:ignore=` comments of the Dockerfile to
// the findings, and returns the findings about comments that cannot be
// applied (InvalidSuppression). It never changes the rewrite: a
// suppression only changes the verdict on a finding.
//
// A comment covers the instruction whose lines it stands among (a comment
// line between the continuation lines of a RUN) or the instruction right
// under the block of comment lines it belongs to. Lines of a heredoc are
// the heredoc's content, never comments.
func suppress(src *source, nodes []*parser.Node, findings []Finding, strict bool) []Finding {
	comments := findIgnoreComments(src, nodes)
	if len(comments) == 0 {
		return findings
	}
	var extra []Finding
	bad := func(c *ignoreComment, sev Severity, fix, msg string, args ...any) {
		c.bad = c.bad || sev >= SeverityError
		extra = append(extra, Finding{
			Rule: RuleInvalidSuppression.Name, Severity: sev, Range: Range{Start: c.line, End: c.line},
			Message: fmt.Sprintf(msg, args...), Fix: fix,
		})
	}
	byNode := map[int][]*ignoreComment{}
	for _, c := range comments {
		if c.endOfLine {
			bad(c, SeverityWarning, "put the comment on a line of its own, right above the instruction or among its continuation lines",
				"line %d holds hushbuild:ignore after an instruction, where it is part of the instruction, not a comment: it suppresses nothing", c.line)
			c.bad = true
			continue
		}
		if c.bad {
			bad(c, SeverityError, "write it as # hushbuild:ignore=Rule[,Rule] reason, with the names of docs/rules",
				"the hushbuild comment on line %d cannot be read: %s", c.line, c.problem)
			continue
		}
		for i, name := range c.rules {
			r, ok := lookupRuleFold(name)
			if !ok {
				bad(c, SeverityError, "name rules of docs/rules (known: "+ruleList()+")",
					"the hushbuild:ignore comment on line %d names an unknown rule (the %s in its list)", c.line, ordinal(i+1))
				continue
			}
			c.rules[i] = r.Name
			if why := Unsuppressible(r.Name); why != "" {
				bad(c, SeverityError, "remove "+r.Name+" from the comment",
					"the hushbuild:ignore comment on line %d names %s, which cannot be suppressed: %s", c.line, r.Name, why)
				continue
			}
			if strict && r.Severity >= SeverityError {
				bad(c, SeverityError, "remove the comment; the caller (CI) decides what an error may let through",
					"the build runs in strict mode, and the hushbuild:ignore comment on line %d suppresses %s, whose findings stop a build", c.line, r.Name)
			}
		}
		if c.reason == "" {
			bad(c, SeverityError, "say why after the rule names, on the same line: # hushbuild:ignore=Rule the reason",
				"the hushbuild:ignore comment on line %d gives no reason", c.line)
		} else if holdsCredential(c.reason) {
			bad(c, SeverityError, "say why without quoting the value",
				"the reason of the hushbuild:ignore comment on line %d looks like it holds a credential", c.line)
			c.reason = ""
		}
		if c.node == 0 {
			bad(c, SeverityWarning, "put the comment on the line right above the instruction, or among its continuation lines",
				"the hushbuild:ignore comment on line %d covers no instruction (a blank line or the end of the file follows it)", c.line)
			continue
		}
		if !c.bad {
			byNode[c.node] = append(byNode[c.node], c)
		}
	}
	starts := make([]int, len(nodes))
	for i, n := range nodes {
		starts[i] = n.StartLine
	}
	out := make([]Finding, len(findings))
	copy(out, findings)
	for i := range out {
		f := &out[i]
		if f.Range.Start <= 0 || Unsuppressible(f.Rule) != "" {
			continue
		}
		n := nodeAt(nodes, starts, f.Range.Start)
		if n == nil {
			continue
		}
		for _, c := range byNode[n.StartLine] {
			if !containsString(c.rules, f.Rule) {
				continue
			}
			if strict && f.Severity >= SeverityError {
				// Refused above by rule; a finding raised to an error
				// is refused here.
				continue
			}
			f.Suppression = Suppression{Line: c.line, Reason: c.reason}
			c.used[f.Rule] = true
			break
		}
	}
	for _, c := range comments {
		if c.bad || c.node == 0 {
			continue
		}
		for _, r := range c.rules {
			if !c.used[r] {
				bad(c, SeverityWarning, "remove "+r+" from the comment",
					"the hushbuild:ignore comment on line %d suppresses %s, but the instruction it covers (line %d) has no such finding", c.line, r, c.node)
			}
		}
	}
	return append(out, extra...)
}

// findIgnoreComments lists the hushbuild comments of the Dockerfile, each
// with the instruction it covers.
func findIgnoreComments(src *source, nodes []*parser.Node) []*ignoreComment {
	// inside maps a line within an instruction to its start; heredoc
	// lines map to -1 (content, not comments).
	// By line number, to one past the last line: 0 and false for the
	// lines of no instruction.
	inside := make([]int, src.numLines()+2)
	for _, n := range nodes {
		for l := max(n.StartLine+1, 0); l <= n.EndLine && l < len(inside); l++ {
			if len(n.Heredocs) > 0 {
				inside[l] = -1
			} else {
				inside[l] = n.StartLine
			}
		}
	}
	starts := make([]bool, len(inside))
	for _, n := range nodes {
		if n.StartLine >= 0 && n.StartLine < len(starts) {
			starts[n.StartLine] = true
		}
	}
	var out []*ignoreComment
	for l := 1; l <= src.numLines(); l++ {
		content := src.lineContent(l)
		if !isCommentLine(content) {
			// The end of an instruction's line is the instruction's
			// (a shell comment for RUN): never a suppression, and said.
			if (starts[l] || inside[l] > 0) && containsLower(content, "hushbuild:ignore") {
				out = append(out, &ignoreComment{line: l, endOfLine: true, used: map[string]bool{}})
			}
			continue
		}
		if inside[l] < 0 || starts[l] {
			continue
		}
		text := strings.TrimSpace(string(content))
		if l == 1 {
			text = strings.TrimPrefix(text, "\xef\xbb\xbf")
		}
		if !pragmaRe.MatchString(text) {
			continue
		}
		c := &ignoreComment{line: l, used: map[string]bool{}}
		out = append(out, c)
		m := ignoreRe.FindStringSubmatch(text)
		switch {
		case m == nil:
			// Never quote the comment: it may hold anything.
			c.bad, c.problem = true, "it is not of the form hushbuild:ignore=Rule"
		case m[1] == "":
			c.bad, c.problem = true, "it names no rule"
		default:
			for _, r := range strings.Split(m[1], ",") {
				if r == "" {
					c.bad, c.problem = true, "its rule list has an empty name"
					break
				}
				c.rules = append(c.rules, r)
			}
			c.reason = oneLineReason(m[2])
		}
		if c.bad {
			continue
		}
		if s := inside[l]; s > 0 {
			c.node = s
			continue
		}
		// The block of comment lines the comment is part of, and the
		// instruction right under it.
		n := l + 1
		for n <= src.numLines() && inside[n] == 0 && !starts[n] && isCommentLine(src.lineContent(n)) {
			n++
		}
		if starts[n] {
			c.node = n
		}
	}
	return out
}

// containsLower reports whether bytes.ToLower(b) contains word, lower-case
// ASCII, without lowering an ASCII b (every instruction's line).
func containsLower(b []byte, word string) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return bytes.Contains(bytes.ToLower(b), []byte(word))
		}
	}
	for i := 0; i+len(word) <= len(b); i++ {
		j := 0
		for ; j < len(word); j++ {
			c := b[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != word[j] {
				break
			}
		}
		if j == len(word) {
			return true
		}
	}
	return false
}

func oneLineReason(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxReason {
		cut := maxReason
		for cut > 0 && s[cut]&0xc0 == 0x80 {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// holdsCredential reports whether text holds what the engine's
// credential patterns match.
func holdsCredential(text string) bool {
	found := false
	secretscan.Scan([]byte(text), func(secretscan.Match) { found = true })
	return found
}

// nodeAt is the instruction whose lines hold line.
func nodeAt(nodes []*parser.Node, starts []int, line int) *parser.Node {
	i := sort.SearchInts(starts, line+1) - 1
	if i < 0 {
		return nil
	}
	n := nodes[i]
	if line > n.EndLine {
		return nil
	}
	return n
}

func lookupRuleFold(name string) (Rule, bool) {
	for _, r := range Rules {
		if strings.EqualFold(r.Name, name) {
			return r, true
		}
	}
	return Rule{}, false
}

func ruleList() string {
	names := make([]string, len(Rules))
	for i, r := range Rules {
		names[i] = r.Name
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func ordinal(n int) string {
	switch n {
	case 1:
		return "first name"
	case 2:
		return "second name"
	case 3:
		return "third name"
	}
	return fmt.Sprintf("name number %d", n)
}
