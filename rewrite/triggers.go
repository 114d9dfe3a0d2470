package rewrite

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// Base-image ONBUILD triggers.
//
// A stage built FROM an image runs the image's ONBUILD triggers before its
// first instruction, as BuildKit's builder does (dockerfile2llb's
// initOnBuildTriggers): `FROM node:onbuild` alone may run `COPY . .` and
// `RUN npm install`. When the caller knows a base image's triggers
// (Config.BaseImages, resolved by the frontend), the engine analyses them
// as the instructions they are, written right after the stage's FROM, and
// returns their rewritten forms in Result.OnBuild: the frontend hands
// those to BuildKit's builder in place of the image's own, so that the
// Dockerfile's lines stay where they are. Findings about a trigger point
// at its stage's FROM line.

// stageTriggers are the triggers inserted after one FROM.
type stageTriggers struct {
	base     string   // the FROM's base name, as written
	from     Range    // the FROM instruction's lines in the input
	at       int      // the first inserted line in the expanded text
	triggers []string // the image's triggers
	lines    int      // lines the triggers take
}

// withBaseTriggers runs rw over src with the ONBUILD triggers of the
// stages' base images written after their FROM lines, and returns the
// result for src: the Dockerfile's own lines rewritten, findings at the
// Dockerfile's lines, the triggers' rewritten forms in OnBuild. Without
// triggers it is rw(src).
func withBaseTriggers(src []byte, cfg Config, rw func([]byte) (*Result, error)) (*Result, error) {
	expanded, blocks, ok := expandTriggers(src, cfg)
	if !ok {
		return rw(src)
	}
	res, err := rw(expanded)
	if err != nil || res == nil {
		return res, err
	}
	out, onbuild, why := splitTriggers(res.Output, blocks)
	if why != "" {
		// The rewritten text cannot be split back into the Dockerfile
		// and its triggers: the triggers run as the image has them, and
		// nothing says that is safe.
		first, err := rw(src)
		if err != nil || first == nil {
			return first, err
		}
		first.Findings = append(first.Findings, Finding{
			Rule: RuleCannotRewrite.Name, Severity: RuleCannotRewrite.Severity, Range: blocks[0].from,
			Message: "the ONBUILD triggers of the base image " + blocks[0].base + " run in this stage, and hushbuild could not rewrite them: " + why,
			Fix:     "write the triggers' instructions into this Dockerfile after FROM, and build FROM an image without them",
		})
		sortFindings(first.Findings)
		return first, nil
	}
	if !bytes.HasSuffix(src, []byte("\n")) && blocks[len(blocks)-1].from.End == bytes.Count(src, []byte("\n"))+1 {
		// The last FROM ended the text without a newline; the
		// expansion added one.
		out = bytes.TrimSuffix(out, []byte("\n"))
	}
	res.Output = out
	res.Changed = !bytes.Equal(out, src)
	res.Findings = mapTriggerFindings(res.Findings, blocks)
	// Stages built FROM the same image run the same triggers: the image
	// has one list. Stages that need them rewritten differently cannot
	// share it.
	res.OnBuild = nil
	for i, b := range blocks {
		for j := range i {
			if blocks[j].base == b.base && !slices.Equal(onbuild[i], onbuild[j]) {
				res.Findings = append(res.Findings, Finding{
					Rule: RuleCannotRewrite.Name, Severity: RuleCannotRewrite.Severity, Range: b.from,
					Message: fmt.Sprintf("the ONBUILD triggers of the base image %s run in this stage and in the stage of line %d, and need different rewrites in each: BuildKit runs one list for the image", b.base, blocks[j].from.Start),
					Fix:     "write the triggers' instructions into this Dockerfile after each FROM, and build FROM an image without them",
				})
			}
		}
		if slices.Equal(onbuild[i], b.triggers) {
			continue
		}
		if res.OnBuild == nil {
			res.OnBuild = map[string][]string{}
		}
		// Not nil: a rewrite that dropped every trigger runs none.
		res.OnBuild[b.base] = append([]string{}, onbuild[i]...)
	}
	sortFindings(res.Findings)
	return res, nil
}

// expandTriggers writes the ONBUILD triggers of each stage's base image
// (cfg.BaseImages) after the stage's FROM. It reports false when no stage
// has triggers, or when they cannot be placed in this text: a Dockerfile
// with an escape directive of its own reads a trigger's backslashes
// differently than BuildKit does, and a trigger that BuildKit would refuse
// is left to BuildKit.
func expandTriggers(src []byte, cfg Config) ([]byte, []stageTriggers, bool) {
	if !anyTriggers(cfg.BaseImages) {
		return nil, nil, false
	}
	ast, err := parser.Parse(bytes.NewReader(src))
	if err != nil || ast.EscapeToken != '\\' {
		return nil, nil, false
	}
	stages, _, err := instructions.Parse(ast.AST, nil)
	if err != nil {
		return nil, nil, false
	}
	var blocks []stageTriggers
	named := map[string]bool{}
	for _, s := range stages {
		// A stage built FROM an earlier stage runs no image's triggers,
		// whatever image shares its name.
		fromStage := named[strings.ToLower(s.BaseName)]
		if s.Name != "" {
			named[strings.ToLower(s.Name)] = true
		}
		d, ok := cfg.BaseImages[s.BaseName]
		if !ok || len(d.OnBuild) == 0 || fromStage || len(s.Location) == 0 {
			continue
		}
		lines := 0
		for _, t := range d.OnBuild {
			if !singleTrigger(t) {
				return nil, nil, false
			}
			lines += strings.Count(t, "\n") + 1
		}
		blocks = append(blocks, stageTriggers{base: s.BaseName, from: Range{Start: s.Location[0].Start.Line, End: s.Location[len(s.Location)-1].End.Line}, triggers: d.OnBuild, lines: lines})
	}
	if len(blocks) == 0 {
		return nil, nil, false
	}
	text := strings.SplitAfter(string(src), "\n")
	var b strings.Builder
	inserted := 0
	next := 0
	for i := range blocks {
		end := blocks[i].from.End
		if end > len(text) {
			return nil, nil, false
		}
		for ; next < end; next++ {
			b.WriteString(text[next])
		}
		if !strings.HasSuffix(b.String(), "\n") {
			b.WriteString("\n")
		}
		blocks[i].at = end + inserted + 1
		for _, t := range blocks[i].triggers {
			b.WriteString(t)
			b.WriteString("\n")
		}
		inserted += blocks[i].lines
	}
	for ; next < len(text); next++ {
		b.WriteString(text[next])
	}
	return []byte(b.String()), blocks, true
}

func anyTriggers(images map[string]ImageDefaults) bool {
	for _, d := range images {
		if len(d.OnBuild) > 0 {
			return true
		}
	}
	return false
}

// singleTrigger reports whether BuildKit's builder runs t as a trigger:
// one instruction, which is not FROM, ONBUILD or MAINTAINER.
func singleTrigger(t string) bool {
	ast, err := parser.Parse(strings.NewReader(t))
	if err != nil || len(ast.AST.Children) != 1 {
		return false
	}
	n := ast.AST.Children[0]
	if n.StartLine != 1 || n.EndLine != strings.Count(strings.TrimRight(t, "\n"), "\n")+1 {
		return false
	}
	switch lowerKeyword(n.Value) {
	case "from", "onbuild", "maintainer":
		return false
	}
	_, err = instructions.ParseCommand(n)
	return err == nil
}

// splitTriggers takes the inserted triggers out of the rewritten expanded
// text: it returns the Dockerfile's own lines and each block's rewritten
// triggers (an instruction the rewrite turned into a comment is dropped),
// or why the text does not split.
func splitTriggers(out []byte, blocks []stageTriggers) ([]byte, [][]string, string) {
	lines := strings.SplitAfter(string(out), "\n")
	ast, err := parser.Parse(bytes.NewReader(out))
	if err != nil {
		return nil, nil, "the rewritten text does not parse"
	}
	triggers := make([][]string, len(blocks))
	var own strings.Builder
	next := 1 // the next line of out to keep, from 1
	for i, b := range blocks {
		last := b.at + b.lines - 1
		if last > len(lines) {
			return nil, nil, "the rewrite moved its lines"
		}
		for ; next < b.at; next++ {
			own.WriteString(lines[next-1])
		}
		for _, n := range ast.AST.Children {
			if n.EndLine < b.at || n.StartLine > last {
				continue
			}
			if n.StartLine < b.at || n.EndLine > last {
				return nil, nil, "an instruction of the rewrite spans a trigger and the Dockerfile"
			}
			triggers[i] = append(triggers[i], strings.TrimRight(strings.Join(lines[n.StartLine-1:n.EndLine], ""), "\n"))
		}
		for _, t := range triggers[i] {
			if !singleTrigger(t) {
				return nil, nil, "a rewritten trigger is not one instruction"
			}
		}
		next = last + 1
	}
	for ; next <= len(lines); next++ {
		own.WriteString(lines[next-1])
	}
	return []byte(own.String()), triggers, ""
}

// mapTriggerFindings moves findings from the expanded text's lines to the
// Dockerfile's: a trigger's to its stage's FROM, naming the trigger, the
// lines after inserted triggers up by their count. The lines their
// messages name move the same way.
func mapTriggerFindings(fs []Finding, blocks []stageTriggers) []Finding {
	at := func(line int) (int, *stageTriggers, int) {
		shift := 0
		for i := range blocks {
			b := &blocks[i]
			if line < b.at {
				break
			}
			if line < b.at+b.lines {
				return b.from.Start, b, triggerAt(b, line)
			}
			shift += b.lines
		}
		return line - shift, nil, 0
	}
	lineOf := func(l int) int {
		l, _, _ = at(l)
		return l
	}
	out := make([]Finding, 0, len(fs))
	for _, f := range fs {
		f.Message = remapLineRefs(f.Message, lineOf)
		f.Fix = remapLineRefs(f.Fix, lineOf)
		if f.Suppression.Line > 0 {
			f.Suppression.Line = lineOf(f.Suppression.Line)
		}
		if f.Range.Start == 0 {
			out = append(out, f)
			continue
		}
		start, b, k := at(f.Range.Start)
		if b != nil {
			kind, _, _ := strings.Cut(b.triggers[k], " ")
			f.Message = fmt.Sprintf("ONBUILD trigger %d of %d of the base image %s (%s), which runs in this stage: %s", k+1, len(b.triggers), b.base, strings.ToUpper(kind), f.Message)
			f.Range = b.from
			out = append(out, f)
			continue
		}
		end, eb, _ := at(f.Range.End)
		if eb != nil {
			end = eb.from.End
		}
		f.Range = Range{Start: start, End: max(start, end)}
		out = append(out, f)
	}
	return out
}

// triggerAt is the index of the trigger of b on the expanded text's line.
func triggerAt(b *stageTriggers, line int) int {
	l := b.at
	for k, t := range b.triggers {
		l += strings.Count(t, "\n") + 1
		if line < l {
			return k
		}
	}
	return len(b.triggers) - 1
}

// lineRefRe matches the line numbers a message names ("line 4", "lines 3, 4").
var lineRefRe = regexp.MustCompile(`\blines? [0-9]+(?:, [0-9]+)*`)

// remapLineRefs rewrites the line numbers msg names through lineOf.
func remapLineRefs(msg string, lineOf func(int) int) string {
	return lineRefRe.ReplaceAllStringFunc(msg, func(m string) string {
		_, nums, _ := strings.Cut(m, " ")
		var lines []int
		for _, n := range strings.Split(nums, ", ") {
			l, err := strconv.Atoi(n)
			if err != nil {
				return m
			}
			lines = append(lines, lineOf(l))
		}
		return linesText(lines)
	})
}

func sortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		if a.Range.Start != b.Range.Start {
			return a.Range.Start - b.Range.Start
		}
		return strings.Compare(a.Rule, b.Rule)
	})
}
