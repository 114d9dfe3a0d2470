package rewrite

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// maxPasses bounds the analysis restarts that promotions cause (an ARG
// found to feed a secret ENV, an env file found to come from a broad COPY).
// A walk that still promotes in the last pass has not converged: what it
// learnt late was missed by the instructions before, and the rewrite
// stops with an error. A variable so that a test can lower it.
var maxPasses = 4

// Rewrite parses src as a Dockerfile and rewrites it so that no build
// secret reaches the image. Parse errors are BuildKit's own. Findings at
// SeverityError mean the output must not be built; Result.Err returns
// them as an error.
func Rewrite(src []byte, cfg Config) (*Result, error) {
	return withBaseTriggers(src, cfg, func(src []byte) (*Result, error) {
		return rewrite(src, cfg, MaxInstructions)
	})
}

// rewrite is Rewrite refusing more than maxInstructions instructions:
// BenchmarkRewrite measures the engine past MaxInstructions, where a cost
// that grows faster than the input shows.
func rewrite(src []byte, cfg Config, maxInstructions int) (res *Result, err error) {
	// A bug must stop the build with an error, not crash the frontend.
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("internal error: %v", r)
		}
	}()
	parsed, err := checkLimits(src, maxInstructions)
	if err != nil {
		return nil, err
	}
	// The limits' parse is the rewrite's: parsing twice cost about 0.7x
	// BuildKit's parse (BenchmarkRewrite).
	var ast *parser.Result
	var stages []instructions.Stage
	var meta []instructions.ArgCommand
	if parsed != nil {
		ast, stages, meta, err = parseInstructions(parsed, src)
	} else {
		ast, stages, meta, err = parse(src) // BuildKit's parse error
	}
	if err != nil {
		return nil, err
	}
	if len(stages) == 0 {
		// Nothing to build: BuildKit refuses it with its own error.
		return &Result{Output: bytes.Clone(src)}, nil
	}
	for _, pat := range cfg.NotSecrets {
		if err := CheckNotSecret(pat); err != nil {
			// Whoever set it, it would switch the name rules off.
			return &Result{Output: bytes.Clone(src), Findings: []Finding{{
				Rule: RuleCannotRewrite.Name, Severity: RuleCannotRewrite.Severity,
				Message: "the configuration is refused: " + err.Error(),
				Fix:     "list the names that are not secrets, one by one or by a narrow pattern (NEXT_PUBLIC_*)",
			}}}, nil
		}
	}
	// The source's lines, made once: the directive is looked for in them,
	// and each pass records its own edits.
	lines := newSource(src, ast.EscapeToken)
	if text, line, ok := findDirective(lines); ok {
		d, err := ParseConfig(Config{}, text)
		if err != nil {
			// A directive hushbuild cannot read stops the build: its
			// settings may be what keeps a secret out.
			return &Result{Output: bytes.Clone(src), Findings: []Finding{{
				Rule: RuleCannotRewrite.Name, Severity: RuleCannotRewrite.Severity, Range: Range{Start: line, End: line},
				Message: "the # hushbuild= directive cannot be read: " + err.Error(),
				Fix:     "write it as # hushbuild=key=value;key=value (see the README)",
			}}}, nil
		}
		if r := d.Relaxations(); cfg.Strict && len(r) > 0 {
			return &Result{Output: bytes.Clone(src), Findings: []Finding{{
				Rule: RuleCannotRewrite.Name, Severity: RuleCannotRewrite.Severity, Range: Range{Start: line, End: line},
				Message: "the build runs in strict mode, and the # hushbuild= directive relaxes protection: " + strings.Join(r, ", "),
				Fix:     "remove those settings from the Dockerfile; the caller (CI) may set them",
			}}}, nil
		}
		cfg = MergeConfig(d, cfg)
	}
	// The instructions by start line (the last one of a line, if several
	// start there): in a slice, and a map for lines below 0, which
	// BuildKit, counting from 1, gives none.
	last := 0
	for _, n := range ast.AST.Children {
		last = max(last, n.StartLine)
	}
	byLine := make([]*parser.Node, last+1)
	var below map[int]*parser.Node
	for _, n := range ast.AST.Children {
		if n.StartLine >= 0 {
			byLine[n.StartLine] = n
		} else {
			if below == nil {
				below = map[int]*parser.Node{}
			}
			below[n.StartLine] = n
		}
	}
	nodeAt := func(l int) *parser.Node {
		if l >= 0 && l < len(byLine) {
			return byLine[l]
		}
		return below[l]
	}
	// promoted, broadEnv, sshKeyVars and knownSecret are made on their
	// first entry; they go from pass to pass.
	a := &analyzer{secretNames: map[string]bool{}}
	// What does not change from pass to pass is made once: the source's
	// lines (above) and the stages that reach the image.
	reachable := computeReach(stages, cfg.Target)
	// One lexer for every pass (the analysis reuses it word after word),
	// from a pool: it carries a buffer of 1.4 kB. It goes back only when
	// the rewrite ends normally.
	lex := getLex(ast.EscapeToken)
	done := false
	defer func() {
		if done {
			putLex(ast.EscapeToken, lex)
		}
	}()
	for pass := 0; ; pass++ {
		*a = analyzer{
			cfg:         cfg,
			src:         &source{data: lines.data, lineOff: lines.lineOff, escape: lines.escape},
			lex:         lex,
			byLine:      byLine,
			stages:      stages,
			meta:        meta,
			promoted:    a.promoted,
			toolEnvSeen: a.toolEnvSeen,
			broadEnv:    a.broadEnv,
			sshKeyVars:  a.sshKeyVars,
			knownSecret: a.knownSecret,
			secretNames: a.secretNames,
			reachable:   reachable,
		}
		a.walk()
		if !a.newPromotions || pass+1 >= maxPasses {
			break
		}
	}
	a.summarize()
	if a.newPromotions {
		// Not converged: the last walk learnt of a secret after
		// instructions that use it had been rewritten without it.
		a.findings = append(a.findings, Finding{
			Rule: RuleCannotRewrite.Name, Severity: RuleCannotRewrite.Severity,
			Message: fmt.Sprintf("hushbuild's analysis did not settle in %d passes: values that feed secrets are passed from variable to variable, or credential files from copy to copy, in a chain longer than it follows", maxPasses),
			Fix:     "shorten the chain: declare the secret (ARG/ENV with a secret name, or --secret) where it is used, or migrate it by hand to RUN --mount=type=secret",
		})
	}

	out, err := a.src.apply()
	if err != nil {
		return nil, err
	}
	res = &Result{Output: out, Changed: !bytes.Equal(out, src), Findings: a.findings}
	line, err := verifyEdits(out, a.touchedLines, nodeAt, ast.EscapeToken)
	if err == nil {
		line, err = verifyExecForms(out, a.execForms)
	}
	if err == nil {
		line, err = verifyHeredocRuns(out, a.heredocRuns)
	}
	if err != nil {
		// The rewrite of an instruction came out wrong: never hand it on.
		// The input stays as it is, with an error that stops the build.
		res.Output, res.Changed = bytes.Clone(src), false
		res.Findings = append(res.Findings, Finding{
			Rule: RuleCannotRewrite.Name, Severity: RuleCannotRewrite.Severity, Range: Range{Start: line, End: line},
			Message: fmt.Sprintf("hushbuild could not rewrite this instruction safely (%v)", err),
			Fix:     "simplify the instruction (plain words, no escape characters at the end of the command) or migrate it by hand to RUN --mount=type=secret",
		})
	}
	if res.Changed {
		if out, f, ok := raiseSyntaxPin(res.Output); ok {
			res.Output = out
			if !cfg.disabled(f.Rule) {
				res.Findings = append(res.Findings, f)
			}
		}
	}
	instrs := slices.Clone(ast.AST.Children)
	res.Findings = suppress(a.src, instrs, res.Findings, cfg.Strict)
	res.Requirements = a.reqs.list()
	res.SecretArgs = a.secretArgs()
	if len(a.sourced) > 0 {
		res.Sourced = slices.Sorted(slices.Values(a.sourced))
	}
	if len(a.fieldCopies) > 0 {
		res.FieldCopies = a.fieldCopies
	}
	if len(a.namedCopies) > 0 {
		res.NamedCopies = slices.Sorted(slices.Values(a.namedCopies))
	}
	sortFindings(res.Findings)
	done = true
	return res, nil
}

// lexers reuses BuildKit's word lexers, one pool for each escape
// character a Dockerfile may set.
var lexers = map[rune]*sync.Pool{
	'\\': {New: func() any { return shell.NewLex('\\') }},
	'`':  {New: func() any { return shell.NewLex('`') }},
}

// getLex returns a lexer for escape; putLex gives it back.
func getLex(escape rune) *shell.Lex {
	if pool := lexers[escape]; pool != nil {
		return pool.Get().(*shell.Lex)
	}
	return shell.NewLex(escape)
}

func putLex(escape rune, lex *shell.Lex) {
	if pool := lexers[escape]; pool != nil {
		pool.Put(lex)
	}
}

// parse runs BuildKit's parser and instruction parser, as the stock
// frontend does.
func parse(src []byte) (*parser.Result, []instructions.Stage, []instructions.ArgCommand, error) {
	ast, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return nil, nil, nil, redactParseError(err, src)
	}
	return parseInstructions(ast, src)
}

// parseInstructions is parse's second half, on BuildKit's parse of src.
func parseInstructions(ast *parser.Result, src []byte) (*parser.Result, []instructions.Stage, []instructions.ArgCommand, error) {
	// A linter is required: instructions.Parse dereferences it for some
	// inputs (a `# check=` comment among them).
	lint := linter.New(&linter.Config{})
	stages, meta, err := instructions.Parse(ast.AST, lint)
	if err != nil {
		return nil, nil, nil, redactParseError(err, src)
	}
	return ast, stages, meta, nil
}

// redactParseError keeps the values of the Dockerfile out of a parse
// error's message: BuildKit's quote the word they stumble on (`invalid
// duration "…"`), and that word can be a credential, of any shape (a
// passphrase of lower-case letters as well as a token). Every word of the
// instruction the error points at (of the whole source when it points
// nowhere) that the message holds is replaced, unless it is Dockerfile
// vocabulary (instruction, flag and option names) or a word of BuildKit's
// messages; the error keeps its cause and its place in the Dockerfile.
func redactParseError(err error, src []byte) error {
	msg := err.Error()
	out := msg
	candidates := redactionCandidates(errorText(err, src))
	// And, from the whole source, the words that look like values (a
	// digit, letters of both cases, a symbol): a location that points
	// elsewhere does not let one through.
	for _, w := range strings.FieldsFunc(string(src), func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune("=\"',", r)
	}) {
		if len(w) >= 6 && valueLike(w) && !parseVocabulary[strings.ToLower(strings.TrimLeft(w, "-"))] {
			candidates = append(candidates, w)
		}
	}
	sort.SliceStable(candidates, func(i, j int) bool { return len(candidates[i]) > len(candidates[j]) })
	for _, w := range candidates {
		if strings.Contains(out, w) {
			out = strings.ReplaceAll(out, w, "<redacted>")
		}
		// The message may quote the word with escapes (%q).
		if q := strconv.Quote(w); q[1:len(q)-1] != w && strings.Contains(out, q[1:len(q)-1]) {
			out = strings.ReplaceAll(out, q[1:len(q)-1], "<redacted>")
		}
	}
	if out == msg {
		return err
	}
	return &redactedError{msg: out, err: err}
}

// valueLike reports whether a word looks like a value rather than a
// keyword: a digit, letters of both cases, or a symbol besides - and _.
func valueLike(w string) bool {
	var digit, lower, upper, other bool
	for _, r := range w {
		switch {
		case r >= '0' && r <= '9':
			digit = true
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z':
			upper = true
		case r == '-' || r == '_':
		default:
			other = true
		}
	}
	return digit || other || lower && upper
}

// errorText is the text of the lines err points at, or all of src.
func errorText(err error, src []byte) string {
	var le *parser.LocationError
	if !errors.As(err, &le) || len(le.Locations) == 0 {
		return string(src)
	}
	s := newSource(src, '\\')
	var b strings.Builder
	for _, loc := range le.Locations {
		for _, r := range loc {
			if r.Start.Line < 1 || r.End.Line < r.Start.Line {
				return string(src)
			}
			for l := r.Start.Line; l <= r.End.Line && l <= s.numLines(); l++ {
				b.Write(s.lineContent(l))
				b.WriteByte('\n')
			}
		}
	}
	return b.String()
}

// redactionCandidates are the words of text that a message must not quote,
// longest first: whole blank-separated words, and their parts between
// punctuation, of at least 4 bytes.
func redactionCandidates(text string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(w string) {
		w = strings.TrimLeft(w, "-")
		if len(w) < 4 || seen[w] || parseVocabulary[strings.ToLower(w)] {
			return
		}
		seen[w] = true
		out = append(out, w)
	}
	for _, word := range strings.FieldsFunc(text, unicode.IsSpace) {
		add(word)
		for _, part := range strings.FieldsFunc(word, func(r rune) bool {
			return strings.ContainsRune("=\"',:;[](){}@/\\<>$`|&*?!#%+", r)
		}) {
			add(part)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// parseVocabulary are words a parse error may say as they are: instruction,
// flag and mount option names, and the words of BuildKit's messages.
var parseVocabulary = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`
		from run cmd label maintainer expose env add copy entrypoint volume user workdir arg onbuild
		stopsignal healthcheck shell none
		platform chown chmod link mount network security interval timeout start-period start-interval
		retries checksum keep-git-dir parents exclude unpack
		type target source dst destination readonly readwrite sharing required size mode env
		bind cache tmpfs secret host default sandbox insecure shared private locked true false scratch
		escape syntax check json
		dockerfile parse error line lines requires argument arguments invalid unknown instruction flag
		flags must form value values name names time duration exactly either least three with without
		empty blank supported allowed missing expected option options`) {
		m[w] = true
	}
	return m
}()

// redactedError is an error whose message leaves out values of the input.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

var directiveRe = regexp.MustCompile(`(?i)^#\s*hushbuild\s*=\s*(.*?)\s*$`)

// FindDirective returns the text and line of the `# hushbuild=...` comment
// among the comments before the first instruction.
func FindDirective(src []byte) (string, int, bool) {
	return findDirective(newSource(src, '\\'))
}

// findDirective is FindDirective on the source's lines (their escape
// character does not matter).
func findDirective(s *source) (string, int, bool) {
	for n := 1; n <= s.numLines(); n++ {
		c := bytes.TrimSpace(s.lineContent(n))
		if n == 1 {
			c = bytes.TrimPrefix(c, []byte("\xef\xbb\xbf"))
		}
		if len(c) == 0 {
			continue
		}
		if c[0] != '#' {
			return "", 0, false
		}
		if m := directiveRe.FindSubmatch(c); m != nil {
			return string(m[1]), n, true
		}
	}
	return "", 0, false
}

// RewroteLiteral reports whether the rewrite took a literal credential out
// of the Dockerfile (rewrite-hardcoded): the original text, wherever the
// build context holds it, still has it (Config.ContextSelf).
func (r *Result) RewroteLiteral() bool {
	if r == nil {
		return false
	}
	for _, f := range r.Findings {
		if f.Rule == RuleHardcodedSecret.Name && f.Fixed {
			return true
		}
	}
	return false
}

// Err returns an *Error carrying every finding at SeverityError, or nil.
func (r *Result) Err() error {
	var errs []Finding
	for _, f := range r.Findings {
		if f.Severity >= SeverityError && !f.Suppressed() {
			errs = append(errs, f)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return &Error{Findings: errs}
}

// Error is returned by Result.Err: the findings that make the rewritten
// Dockerfile unsafe to build.
type Error struct {
	Findings []Finding
}

func (e *Error) Error() string {
	var b strings.Builder
	for i, f := range e.Findings {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "line %d: [%s] %s", f.Range.Start, f.Rule, f.Message)
		if f.Fix != "" {
			fmt.Fprintf(&b, " (fix: %s)", f.Fix)
		}
	}
	return b.String()
}

// verifyEdits re-parses every rewritten instruction on its own lines:
// each must parse as BuildKit parses it, end where it ended, and not run
// on into the next instruction. A rewrite that fails this is a bug, and a
// bug must not reach a build. The rewritten instructions are parsed
// together in one small document, so the check stays cheap on large files;
// when that fails, each is parsed alone to name the line.
func verifyEdits(out []byte, touched map[int]bool, nodes func(int) *parser.Node, escape rune) (int, error) {
	if len(touched) == 0 {
		return 0, nil
	}
	s := newSource(out, escape)
	var starts []int
	for start := range touched {
		if nodes(start) != nil {
			starts = append(starts, start)
		}
	}
	sort.Ints(starts)
	var all bytes.Buffer
	want := 0
	var regions [][]byte
	var regionStarts []int
	for _, start := range starts {
		n := nodes(start)
		var region bytes.Buffer
		last := 0
		for l := n.StartLine; l <= n.EndLine; l++ {
			content := s.lineContent(l)
			region.Write(content)
			region.WriteByte('\n')
			if !isBlank(content) && !isCommentLine(content) {
				last = l
			}
		}
		if last == 0 {
			continue // commented out
		}
		if _, cont := s.continuation(s.lineContent(last)); cont && len(n.Heredocs) == 0 && n.EndLine < s.numLines() {
			return start, fmt.Errorf("the rewritten instruction runs on into the next one")
		}
		want++
		regions = append(regions, region.Bytes())
		regionStarts = append(regionStarts, start)
		all.Write(region.Bytes())
	}
	if want == 0 {
		return 0, nil
	}
	if err := parseSnippet(all.Bytes(), escape, want); err == nil {
		return 0, nil
	}
	for i, r := range regions {
		if err := parseSnippet(r, escape, 1); err != nil {
			return regionStarts[i], err
		}
	}
	return starts[0], fmt.Errorf("the rewritten instructions do not parse together")
}

// verifyRuns checks that the instruction on each line of want parses, in
// out, to a RUN that ok accepts with that line's value; else it returns the
// first line that does not, and errWrong. The errors name no word of the
// text: it may hold a value.
func verifyRuns[T any](out []byte, want map[int]T, ok func(*instructions.RunCommand, T) bool, errWrong error) (int, error) {
	if len(want) == 0 {
		return 0, nil
	}
	lines := slices.Sorted(maps.Keys(want))
	res, err := parser.Parse(bytes.NewReader(out))
	if err != nil {
		return lines[0], errWrong
	}
	got := map[int]*parser.Node{}
	for _, n := range res.AST.Children {
		got[n.StartLine] = n
	}
	for _, line := range lines {
		n := got[line]
		if n == nil || !strings.EqualFold(n.Value, "run") {
			return line, errWrong
		}
		cmd, err := instructions.ParseInstruction(n)
		if err != nil {
			return line, errWrong
		}
		if run, isRun := cmd.(*instructions.RunCommand); !isRun || !ok(run, want[line]) {
			return line, errWrong
		}
	}
	return 0, nil
}

// parseSnippet parses instructions after a FROM line and checks their count.
func parseSnippet(body []byte, escape rune, want int) error {
	var doc bytes.Buffer
	if escape != '\\' {
		doc.WriteString("# escape=" + string(escape) + "\n")
	}
	doc.WriteString("FROM scratch\n")
	doc.Write(body)
	ast, err := parser.Parse(bytes.NewReader(doc.Bytes()))
	if err != nil {
		return fmt.Errorf("the rewritten instruction does not parse: %w", err)
	}
	if got := len(ast.AST.Children) - 1; got != want {
		return fmt.Errorf("the rewritten instructions parse as %d instructions, not %d", got, want)
	}
	if _, _, err := instructions.Parse(ast.AST, linter.New(&linter.Config{})); err != nil {
		return fmt.Errorf("the rewritten instruction is not valid: %w", err)
	}
	return nil
}
