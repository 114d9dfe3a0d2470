package rewrite

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// runAt is the RUN instruction that starts on line of a Dockerfile.
func runAt(t *testing.T, src []byte, line int) *instructions.RunCommand {
	t.Helper()
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		t.Fatalf("the output does not parse: %v\n%s", err, src)
	}
	for _, n := range res.AST.Children {
		if n.StartLine != line {
			continue
		}
		cmd, err := instructions.ParseInstruction(n)
		if err != nil {
			t.Fatalf("line %d does not parse: %v", line, err)
		}
		run, ok := cmd.(*instructions.RunCommand)
		if !ok {
			t.Fatalf("line %d is no RUN", line)
		}
		return run
	}
	t.Fatalf("no instruction starts on line %d:\n%s", line, src)
	return nil
}

// TestExecFormRewrite: an exec-form RUN of a shell script that writes a
// secret into a file stays in the exec form, with the same program,
// options and arguments, and its script gets the save and restore of the
// file (the prelude) before the script's own text, whatever SHELL says.
func TestExecFormRewrite(t *testing.T) {
	const arg = "FROM node:20\nARG NPM_TOKEN\n"
	const write = `echo //registry.npmjs.org/:_authToken=${NPM_TOKEN} > /root/.npmrc && npm ci`
	for _, tt := range []struct {
		name, src string
		line      int    // of the RUN
		script    string // the script as the RUN runs it, before the rewrite
	}{
		{name: "sh -c", src: arg + `RUN ["sh", "-c", "` + write + `"]`, line: 3, script: write},
		{name: "/bin/sh -ec", src: arg + `RUN ["/bin/sh", "-ec", "` + write + `"]`, line: 3, script: write},
		{name: "bash -c", src: arg + `RUN ["bash","-c","` + write + `"]`, line: 3, script: write},
		{name: "/bin/bash -lc", src: arg + `RUN ["/bin/bash", "-lc", "` + write + `"]`, line: 3, script: write},
		{name: "bash -euo pipefail -c", src: arg + `RUN ["bash", "-euo", "pipefail", "-c", "` + write + `"]`, line: 3, script: write},
		{name: "bash --login -o pipefail -c --", src: arg + `RUN ["bash", "--login", "-o", "pipefail", "-c", "--", "` + write + `"]`, line: 3, script: write},
		{name: "/usr/bin/dash -xc", src: arg + `RUN ["/usr/bin/dash", "-c", "` + write + `"]`, line: 3, script: write},
		{name: "with a mount flag", src: arg + `RUN --mount=type=cache,target=/root/.npm ["sh", "-c", "` + write + `"]`, line: 3, script: write},
		{name: "arguments after the script", src: arg + `RUN ["sh", "-c", "` + write + ` $1", "sh", "--omit=dev"]`, line: 3, script: write + " $1"},
		{name: "SHELL set", src: "FROM node:20\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nARG NPM_TOKEN\n" + `RUN ["sh", "-c", "` + write + `"]`, line: 4, script: write},
		{name: "two lines in the script", src: arg + `RUN ["sh", "-c", "cd /\n` + write + `"]`, line: 3, script: "cd /\n" + write},
		{name: "a here-string (bash)", src: arg + `RUN ["bash", "-c", "cat <<< //r/:_authToken=$NPM_TOKEN > /root/.npmrc && npm ci"]`, line: 3, script: "cat <<< //r/:_authToken=$NPM_TOKEN > /root/.npmrc && npm ci"},
		{name: "JSON escapes", src: arg + `RUN ["sh", "-c", "echo \u0022//r/:_authToken=$NPM_TOKEN\" \u003e /root/.npmrc \u0026\u0026 npm ci"]`, line: 3, script: `echo "//r/:_authToken=$NPM_TOKEN" > /root/.npmrc && npm ci`},
		{name: "continuation lines and a comment", src: arg + "RUN [ \"bash\", \\\n  # the script\n  \"-c\", \\\n  \"" + write + "\", \\\n  \"bash\" ]\nRUN echo next", line: 3, script: write},
		{name: "lower-case keyword", src: arg + `run ["sh", "-c", "` + write + `"]`, line: 3, script: write},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := []byte(tt.src + "\n")
			before := runAt(t, src, tt.line)
			res, err := Rewrite(src, Config{})
			if err != nil {
				t.Fatal(err)
			}
			if err := res.Err(); err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !strings.Contains(findingsText(res), "a command writes a secret into /root/.npmrc") {
				t.Errorf("findings lack the write into /root/.npmrc:\n%s", findingsText(res))
			}
			if n := bytes.Count(res.Output, []byte("\n")); n != bytes.Count(src, []byte("\n")) {
				t.Errorf("the output has %d lines, the input %d", n, bytes.Count(src, []byte("\n")))
			}
			after := runAt(t, res.Output, tt.line)
			if after.PrependShell {
				t.Fatalf("the RUN is in the shell form now:\n%s", res.Output)
			}
			i, ok := shellScriptIndex(before.CmdLine)
			if !ok || before.CmdLine[i] != tt.script || len(after.CmdLine) != len(before.CmdLine) {
				t.Fatalf("argv %q, rewritten %q", before.CmdLine, after.CmdLine)
			}
			for k := range before.CmdLine {
				if k != i && after.CmdLine[k] != before.CmdLine[k] {
					t.Errorf("word %d changed: %q, was %q", k, after.CmdLine[k], before.CmdLine[k])
				}
			}
			got := after.CmdLine[i]
			if !strings.HasSuffix(got, " "+tt.script) || !strings.Contains(got, "cp -p /root/.npmrc "+hushbuildBackup) || !strings.Contains(got, "trap '") {
				t.Errorf("rewritten script:\n%s\nwant the save and restore of /root/.npmrc before the script", got)
			}
			if !slices.ContainsFunc(mountsOf(after), func(m *instructions.Mount) bool {
				return m.Type == instructions.MountTypeSecret && m.CacheID == "NPM_TOKEN" && m.Env != nil && *m.Env == "NPM_TOKEN"
			}) {
				t.Errorf("no env secret mount of NPM_TOKEN:\n%s", res.Output)
			}
		})
	}
}

// TestExecFormDeletion: the deletion of a copied credential file is taken
// out of an exec-form script, inside its JSON string.
func TestExecFormDeletion(t *testing.T) {
	src := []byte("FROM python:3.12.2-slim\nCOPY .netrc /root/.netrc\nRUN [\"bash\", \"-c\", \"pip install -r requirements.txt && rm -f /root/.netrc\"]\n")
	res, err := Rewrite(src, Config{})
	if err != nil || res.Err() != nil {
		t.Fatalf("%v %v", err, res.Err())
	}
	after := runAt(t, res.Output, 3)
	if want := []string{"bash", "-c", "pip install -r requirements.txt"}; !slices.Equal(after.CmdLine, want) {
		t.Errorf("argv %q, want %q", after.CmdLine, want)
	}
	if !strings.Contains(string(res.Output), "--mount=type=secret,id=.netrc,target=/root/.netrc") {
		t.Errorf("no mount of .netrc:\n%s", res.Output)
	}
}

// TestExecFormReplay: a later exec-form RUN of a shell script gets the
// replay of a file an earlier RUN wrote a secret into; a later exec form
// of another program cannot, and is refused.
func TestExecFormReplay(t *testing.T) {
	const head = "FROM node:20\nARG NPM_TOKEN\nRUN echo //registry.npmjs.org/:_authToken=${NPM_TOKEN} > /root/.npmrc\n"
	res, err := Rewrite([]byte(head+`RUN ["bash", "-eo", "pipefail", "-c", "npm ci | tee /tmp/log"]`+"\n"), Config{})
	if err != nil || res.Err() != nil {
		t.Fatalf("%v %v", err, res.Err())
	}
	after := runAt(t, res.Output, 4)
	if s := after.CmdLine[4]; !strings.Contains(s, "echo //registry.npmjs.org/:_authToken=${NPM_TOKEN} > /root/.npmrc") || !strings.HasSuffix(s, "; npm ci | tee /tmp/log") {
		t.Errorf("the later script lacks the replay: %q", s)
	}
	res, err = Rewrite([]byte(head+`RUN ["npm", "ci"]`+"\n"), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Err() == nil {
		t.Errorf("RUN [\"npm\", \"ci\"] after the write passed:\n%s", res.Output)
	}
}

// TestExecFormRefused: exec forms the engine does not rewrite in place
// stay refused when their script writes a secret: another shell, a
// program before the shell, options that change how the script reads.
func TestExecFormRefused(t *testing.T) {
	const arg = "FROM node:20\nARG NPM_TOKEN\n"
	const write = `echo //registry.npmjs.org/:_authToken=${NPM_TOKEN} > /root/.npmrc`
	for _, tt := range []struct{ name, run string }{
		{"zsh", `RUN ["zsh", "-c", "` + write + `"]`},
		{"ksh", `RUN ["/bin/ksh", "-c", "` + write + `"]`},
		{"env before the shell", `RUN ["env", "HOME=/tmp", "sh", "-c", "` + write + `"]`},
		{"/usr/bin/env bash", `RUN ["/usr/bin/env", "bash", "-c", "` + write + `"]`},
		{"restricted shell", `RUN ["bash", "-r", "-c", "` + write + `"]`},
		{"lone dash", `RUN ["sh", "-c", "-", "` + write + `"]`},
		{"relative program path", `RUN ["./sh", "-c", "` + write + `"]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Rewrite([]byte(arg+tt.run+"\n"), Config{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Err() == nil {
				t.Errorf("not refused:\n%s", res.Output)
			}
			if strings.Contains(string(res.Output), hushbuildBackup) {
				t.Errorf("rewritten although refused:\n%s", res.Output)
			}
		})
	}
}

// TestExecFormArgs: words after an exec-form script are the script's $0,
// $1, ...: a script that runs them ("$@", eval "$1", sh -c "$1") runs
// commands the engine must read too.
func TestExecFormArgs(t *testing.T) {
	const arg = "FROM node:20\nARG NPM_TOKEN\n"
	for _, tt := range []struct {
		name, run string
		refused   bool
	}{
		{name: "eval of $1 writes the secret", run: `RUN ["sh", "-c", "eval \"$1\"", "sh", "echo //r/:_authToken=$NPM_TOKEN > /root/.npmrc"]`, refused: true},
		{name: "sh -c of $1", run: `RUN ["bash", "-c", "sh -c \"$1\" && npm ci", "bash", "echo $NPM_TOKEN > /etc/token"]`, refused: true},
		{name: "\"$@\" runs a shell", run: `RUN ["sh", "-c", "\"$@\"", "sh", "sh", "-c", "echo $NPM_TOKEN > /etc/token"]`, refused: true},
		{name: "shift then \"$@\"", run: `RUN ["sh", "-c", "shift; \"$@\"", "sh", "x", "sh", "-c", "echo $NPM_TOKEN > /etc/token"]`, refused: true},
		{name: "$0 evaluated", run: `RUN ["sh", "-c", "eval \"$0\"", "echo $NPM_TOKEN > /etc/token"]`, refused: true},
		{name: "an argument that is no shell text", run: `RUN ["sh", "-c", "eval \"$1\"", "sh", "echo 'unterminated"]`, refused: true},
		{name: "arguments as data", run: `RUN ["sh", "-c", "npm ci $1 $2", "sh", "--omit=dev", "--no-audit"]`},
		{name: "arguments not used", run: `RUN ["sh", "-c", "npm ci", "sh", "echo $NPM_TOKEN > /etc/token"]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Rewrite([]byte(arg+tt.run+"\n"), Config{})
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Err() != nil; got != tt.refused {
				t.Errorf("refused %v, want %v:\n%s\n%s", got, tt.refused, findingsText(res), res.Output)
			}
		})
	}
}

// TestExecFormXtrace: a shell that runs with -x prints each command with
// its variables expanded: a RUN whose commands expand a secret (its own,
// or the prelude's) prints it into the build log.
func TestExecFormXtrace(t *testing.T) {
	for _, tt := range []struct {
		name, src string
		prints    bool
	}{
		{name: "bash -xc", src: "ARG NPM_TOKEN\nRUN [\"bash\", \"-xc\", \"npm ci --token=$NPM_TOKEN\"]", prints: true},
		{name: "sh -e -o xtrace -c", src: "ARG NPM_TOKEN\nRUN [\"sh\", \"-e\", \"-o\", \"xtrace\", \"-c\", \"npm ci --token=$NPM_TOKEN\"]", prints: true},
		{name: "default in the prelude", src: "ARG NPM_TOKEN=abc123\nRUN [\"sh\", \"-xc\", \"npm ci\"]", prints: true},
		{name: "SHELL with -x", src: "SHELL [\"/bin/sh\", \"-xc\"]\nARG NPM_TOKEN\nRUN npm ci --token=$NPM_TOKEN", prints: true},
		{name: "no secret expanded", src: "ARG NPM_TOKEN\nRUN [\"sh\", \"-xc\", \"npm ci\"]"},
		{name: "+x", src: "ARG NPM_TOKEN\nRUN [\"sh\", \"+x\", \"-c\", \"npm ci --token=$NPM_TOKEN\"]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Rewrite([]byte("FROM node:20\n"+tt.src+"\n"), Config{})
			if err != nil {
				t.Fatal(err)
			}
			got := false
			for _, f := range res.Findings {
				got = got || f.Rule == RuleSecretInLog.Name && strings.Contains(f.Message, "runs with -x")
			}
			if got != tt.prints {
				t.Errorf("SecretInLog for -x: %v, want %v:\n%s", got, tt.prints, findingsText(res))
			}
		})
	}
}

// TestJSONElement: the range of one element of the exec form's array in
// the logical line, past flags that hold a bracket.
func TestJSONElement(t *testing.T) {
	for _, tt := range []struct {
		text string
		argv []string
		i    int
		want string
	}{
		{text: `RUN ["sh", "-c", "x"]`, argv: []string{"sh", "-c", "x"}, i: 2, want: `"x"`},
		{text: `RUN --mount=type=bind,target=/a[1] [ "sh","-c" , "a \"b\" [c]", "d" ]  `, argv: []string{"sh", "-c", `a "b" [c]`, "d"}, i: 2, want: `"a \"b\" [c]"`},
		{text: `RUN ["sh", "-c", "\u0024X"]`, argv: []string{"sh", "-c", "$X"}, i: 2, want: `"\u0024X"`},
		{text: `RUN ["sh", "-c", "x"]`, argv: []string{"sh", "-c", "y"}, i: 2},
	} {
		start, end, ok := jsonElement(tt.text, 3, tt.argv, tt.i)
		switch {
		case tt.want == "" && ok:
			t.Errorf("%s: found %q", tt.text, tt.text[start:end])
		case tt.want != "" && (!ok || tt.text[start:end] != tt.want):
			t.Errorf("%s: got %v %q, want %q", tt.text, ok, tt.text[start:end], tt.want)
		}
	}
}

// TestVerifyExecForms: an exec-form RUN whose rewrite does not run the
// expected argv is caught.
func TestVerifyExecForms(t *testing.T) {
	out := []byte("FROM alpine\nRUN [\"sh\", \"-c\", \"a; b\"]\nRUN sh -c 'a; b'\n")
	if _, err := verifyExecForms(out, map[int][]string{2: {"sh", "-c", "a; b"}}); err != nil {
		t.Errorf("the exec form was refused: %v", err)
	}
	for _, want := range []map[int][]string{
		{2: {"sh", "-c", "a;  b"}},
		{3: {"sh", "-c", "a; b"}},
		{4: {"sh", "-c", "a; b"}},
	} {
		if _, err := verifyExecForms(out, want); err == nil {
			t.Errorf("%v passed", want)
		}
	}
}

func findingsText(res *Result) string {
	var b strings.Builder
	for _, f := range res.Findings {
		b.WriteString(f.Rule + ": " + f.Message + "\n")
	}
	return b.String()
}
