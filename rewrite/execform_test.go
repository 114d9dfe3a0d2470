package rewrite

import (
	"strings"
	"testing"
)

// TestExecFormInShellForm: an exec-form RUN of a sh script that handles a
// secret is rewritten in the shell form, which runs the same /bin/sh -c;
// one that the shell form would run differently stays refused.
func TestExecFormInShellForm(t *testing.T) {
	const arg = "FROM node:20\nARG NPM_TOKEN\n"
	const write = `echo //registry.npmjs.org/:_authToken=${NPM_TOKEN} > /root/.npmrc && npm ci`
	for _, tt := range []struct {
		name, src string
		converted bool
		has       string // part of the rewritten line
	}{
		{name: "sh -c", src: arg + `RUN ["sh", "-c", "` + write + `"]`, converted: true, has: "; " + write},
		{name: "/bin/sh -ec", src: arg + `RUN ["/bin/sh", "-ec", "` + write + `"]`, converted: true, has: "set -e; " + write},
		{name: "with a mount flag", src: arg + `RUN --mount=type=cache,target=/root/.npm ["sh", "-c", "` + write + `"]`, converted: true, has: "--mount=type=cache,target=/root/.npm"},
		{name: "bash -c", src: arg + `RUN ["bash", "-c", "` + write + `"]`},
		{name: "SHELL set", src: "FROM node:20\nSHELL [\"/bin/bash\", \"-c\"]\nARG NPM_TOKEN\n" + `RUN ["sh", "-c", "` + write + `"]`},
		{name: "arguments after the script", src: arg + `RUN ["sh", "-c", "` + write + `", "x"]`},
		{name: "a here-string in the script", src: arg + `RUN ["sh", "-c", "cat <<< //r/:_authToken=$NPM_TOKEN > /root/.npmrc"]`},
		{name: "two lines in the script", src: arg + `RUN ["sh", "-c", "cd /\n` + write + `"]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Rewrite([]byte(tt.src+"\n"), Config{})
			if err != nil {
				t.Fatal(err)
			}
			refused, converted := false, false
			for _, f := range res.Findings {
				refused = refused || f.Rule == RuleCannotRewrite.Name && strings.HasPrefix(f.Message, execRefusal)
				converted = converted || strings.Contains(f.Message, "is written in the shell form")
			}
			if converted != tt.converted || refused == tt.converted {
				t.Fatalf("converted %v, refused %v; want converted %v", converted, refused, tt.converted)
			}
			if tt.converted {
				if res.Err() != nil {
					t.Fatalf("converted but refused: %v", res.Err())
				}
				if !strings.Contains(string(res.Output), tt.has) || strings.Contains(string(res.Output), `"-c"`) {
					t.Errorf("output:\n%s\nwant the shell form with %q", res.Output, tt.has)
				}
			}
		})
	}
}
