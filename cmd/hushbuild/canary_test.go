package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hushbuild/hushbuild/internal/canary"
)

// cliCanaries are random values of the shapes credentials take (see the
// engine's canaryShapes): a token, mixed case, lower-case letters only,
// upper-case letters only, symbols.
func cliCanaries(t *testing.T) map[string]string {
	return canary.Shapes(t)
}

// TestCLINeverEchoesAValue feeds random credentials through every error
// path of the CLI that reads text a credential can be in: Dockerfiles
// that do not parse or that the engine refuses (bad directives, bad
// suppressions), the engine settings (--config, --disable,
// --not-secret-names, --secret-names, HUSHBUILD_STRICT), in every output
// format. Neither stdout nor stderr holds one.
func TestCLINeverEchoesAValue(t *testing.T) {
	dir := t.TempDir()
	dockerfiles := []string{
		"FROM alpine\nHEALTHCHECK --interval=V CMD true\n",
		"FROM alpine\nEXPOSE V\n",
		"FROM alpine\nV\n",
		"FROM alpine\nENV A=1\n    TOKEN=V\n",
		"FROM alpine\nRUN --mount=type=V true\n",
		"# hushbuild=V\nFROM alpine\n",
		"# hushbuild=optional=V\nFROM alpine\n",
		"# hushbuild=V=1\nFROM alpine\n",
		"FROM alpine\n# hushbuild:ignore=V a reason\nRUN true\n",
		"FROM alpine\n# hushbuild:V\nRUN true\n",
		"FROM alpine\n# hushbuild:ignore=SecretArg,V\nARG NPM_TOKEN\nRUN npm ci\n",
		"FROM alpine\n# hushbuild:ignore=CannotRewrite V\nCOPY .ssh/ /root/.ssh/\n",
		"FROM alpine\nENV GITHUB_TOKEN=V\n",
		"FROM alpine\nARG NPM_TOKEN=V\nRUN npm ci\n",
		"FROM alpine\nRUN curl https://user:V@example.com/x\n",
	}
	plain := filepath.Join(dir, "plain.Dockerfile")
	if err := os.WriteFile(plain, []byte("FROM alpine\nARG NPM_TOKEN\nRUN npm ci\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for shape, value := range cliCanaries(t) {
		var runs [][]string
		var envs []string
		for i, tmpl := range dockerfiles {
			p := filepath.Join(dir, strings.ReplaceAll(shape, " ", "-")+"-"+string(rune('a'+i))+".Dockerfile")
			if err := os.WriteFile(p, []byte(strings.ReplaceAll(tmpl, "V", value)), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, format := range []string{"text", "json", "sarif"} {
				runs = append(runs, []string{"check", "--no-context", "--format", format, p})
			}
			runs = append(runs, []string{"rewrite", "--no-context", "--diff", p}, []string{"secrets", "--no-context", p})
		}
		for _, flags := range [][]string{
			{"--config", value},
			{"--config", "optional=" + value},
			{"--config", value + "=1"},
			{"--config", "secrets=A;" + value},
			{"--disable", value},
			{"--disable", "SecretArg," + value},
			{"--not-secret-names", value + "*"},
			{"--secret-names", value},
		} {
			for _, cmd := range []string{"check", "rewrite", "secrets"} {
				runs = append(runs, append(append([]string{cmd, "--no-context"}, flags...), plain))
			}
		}
		for _, cmd := range []string{"check", "rewrite", "secrets"} {
			runs = append(runs, []string{cmd, "--no-context", plain})
			envs = append(envs, value)
		}
		for i, args := range runs {
			env := ""
			if j := i - (len(runs) - len(envs)); j >= 0 {
				env = envs[j]
			}
			t.Setenv(strictEnv, env)
			_, stdout, stderr := runCLI(t, "", args...)
			for _, out := range []struct{ name, text string }{{"stdout", stdout}, {"stderr", stderr}} {
				if strings.Contains(out.text, value) && !echoAllowed(args, out.name) {
					t.Errorf("%s value: %s of hushbuild %s holds it", shape, out.name, strings.Join(redactArgs(args, value), " "))
				}
			}
		}
	}
}

// echoAllowed: the rewritten Dockerfile (rewrite's stdout) is the
// Dockerfile's own text; a credential it still holds is an error finding
// of its own, and rewrite then prints nothing.
func echoAllowed(args []string, stream string) bool {
	return stream == "stdout" && args[0] == "rewrite"
}

func redactArgs(args []string, value string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = strings.ReplaceAll(a, value, "<value>")
	}
	return out
}
