package main

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/hushbuild/hushbuild/rewrite"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// fakeEngine is a scripted stand-in for rewrite.Rewrite, so that the CLI
// tests pin the commands' behaviour independently of the engine's rules.
// It parses with BuildKit (parse errors are real), then, line by line:
//
//   - "ARG <NAME>" with NAME ending in TOKEN: a fixed SecretArg warning; the
//     line becomes an empty comment and every later RUN gets the secret
//     mount; requirement --secret id=NAME,env=NAME.
//   - "COPY .netrc <dst>": a fixed SecretFile warning; the line becomes an
//     empty comment and later RUNs mount it; requirement
//     --secret id=.netrc,src=.netrc.
//   - "ENV <NAME>=..." with NAME containing PASSWORD: a HardcodedSecret
//     error that names the variable, never the value.
//   - "COPY . .": an info finding of a rule the renderers do not know.
//   - "# hushbuild-test: panic": the engine panics.
//
// The last Config it saw is kept in lastConfig.
func fakeEngine(src []byte, cfg rewrite.Config) (*rewrite.Result, error) {
	lastConfig = cfg
	ast, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return nil, err
	}
	if _, _, err := instructions.Parse(ast.AST, linter.New(&linter.Config{})); err != nil {
		return nil, err
	}
	res := &rewrite.Result{}
	lines := strings.SplitAfter(string(src), "\n")
	var mounts []string
	reqs := map[string]*rewrite.Requirement{}
	for i, l := range lines {
		n := i + 1
		text := strings.TrimSpace(l)
		f := strings.Fields(text)
		switch {
		case text == "# hushbuild-test: panic":
			var m map[string]int
			m["boom"]++ // a runtime error: assignment to entry in nil map
		case len(f) == 2 && f[0] == "ARG" && strings.HasSuffix(f[1], "TOKEN"):
			name := f[1]
			res.Findings = append(res.Findings, rewrite.Finding{
				Rule: "SecretArg", Severity: rewrite.SeverityWarning, Range: rewrite.Range{Start: n, End: n},
				Message: fmt.Sprintf("ARG %s is a secret: its value would be recorded in the image history", name),
				Fix:     "every RUN in its scope mounts it as a secret", Fixed: true,
			})
			lines[i] = "#\n"
			mounts = append(mounts, "--mount=type=secret,id="+name+",env="+name+",required")
			reqs[name] = &rewrite.Requirement{Kind: rewrite.SecretEnv, ID: name, Env: name, Required: true,
				Flag: "--secret id=" + name + ",env=" + name}
		case len(f) == 3 && f[0] == "COPY" && f[1] == ".netrc":
			res.Findings = append(res.Findings, rewrite.Finding{
				Rule: "SecretFile", Severity: rewrite.SeverityWarning, Range: rewrite.Range{Start: n, End: n},
				Message: "COPY .netrc puts a credential file in a layer",
				Fix:     "mounted at " + f[2] + " on the RUNs that follow", Fixed: true,
			})
			lines[i] = "#\n"
			mounts = append(mounts, "--mount=type=secret,id=.netrc,target="+f[2])
			reqs[".netrc"] = &rewrite.Requirement{Kind: rewrite.SecretFile, ID: ".netrc", Src: ".netrc", Required: true,
				Flag: "--secret id=.netrc,src=.netrc"}
		case len(f) >= 2 && f[0] == "ENV" && strings.Contains(f[1], "PASSWORD"):
			name, _, _ := strings.Cut(f[1], "=")
			res.Findings = append(res.Findings, rewrite.Finding{
				Rule: "HardcodedSecret", Severity: rewrite.SeverityError, Range: rewrite.Range{Start: n, End: n},
				Message: "ENV " + name + " holds a literal credential",
				Fix:     "remove it from the Dockerfile, rotate it, and supply it at run time",
			})
		case text == "COPY . .":
			res.Findings = append(res.Findings, rewrite.Finding{
				Rule: "BroadCopy", Severity: rewrite.SeverityInfo, Range: rewrite.Range{Start: n, End: n},
				Message: "COPY . . copies the whole context",
			})
		case len(f) > 0 && f[0] == "RUN" && len(mounts) > 0:
			lines[i] = strings.Replace(l, "RUN ", "RUN "+strings.Join(mounts, " ")+" ", 1)
			for _, r := range reqs {
				r.Lines = append(r.Lines, n)
			}
		}
	}
	res.Output = []byte(strings.Join(lines, ""))
	res.Changed = !bytes.Equal(res.Output, src)
	ids := make([]string, 0, len(reqs))
	for id := range reqs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		res.Requirements = append(res.Requirements, *reqs[id])
	}
	return res, nil
}

var lastConfig rewrite.Config
