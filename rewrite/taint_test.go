package rewrite

import (
	"strings"
	"testing"

	"mvdan.cc/sh/v3/syntax"
)

// TestTaintFlows: a secret that reaches a written file or a clone URL
// without a literal $NAME in the same word is a flow of that secret: the
// file is saved, replayed and restored (rewritten), or the RUN is refused
// with CannotRewrite on the line that cannot be rewritten. Never neither.
func TestTaintFlows(t *testing.T) {
	const arg = "FROM alpine\nARG TOKEN\n"
	const npmMount = "FROM alpine\nRUN --mount=type=secret,id=npm "
	const later = "\nRUN npm run build"
	for _, tt := range []struct {
		name, src string
		file      string   // the file of a SecretWrittenToFile, "" for none
		has       []string // parts of the rewritten Dockerfile
		refused   string   // part of a CannotRewrite message, "" for none
		line      int      // the CannotRewrite's line
	}{
		{name: "cat secret file", src: npmMount + `echo "//registry.npmjs.org/:_authToken=$(cat /run/secrets/npm)" > ~/.npmrc && npm ci`, file: "/root/.npmrc"},
		{name: "cat secret file, replayed with its mount", src: npmMount + `echo "//r/:_authToken=$(cat /run/secrets/npm)" > ~/.npmrc && npm ci` + later, file: "/root/.npmrc",
			has: []string{"RUN --mount=type=secret,id=npm,target=/run/secrets/npm [ \"$HOME\" = /root ] || {", "; if [ -e /root/.npmrc ]", `( echo "//r/:_authToken=$(cat /run/secrets/npm)" > ~/.npmrc ); npm run build`}},
		{name: "redirect substitution", src: npmMount + `echo "//r/:_authToken=$(< /run/secrets/npm)" > ~/.npmrc`, file: "/root/.npmrc"},
		{name: "backquotes", src: npmMount + "echo \"//r/:_authToken=`cat /run/secrets/npm`\" > ~/.npmrc", file: "/root/.npmrc"},
		{name: "target mount", src: "FROM alpine\nRUN --mount=type=secret,id=npm,target=/tmp/tok T=$(cat /tmp/tok) && echo \"//r/:_authToken=$T\" > /root/.npmrc", file: "/root/.npmrc"},
		{name: "read from secret file", src: npmMount + `read -r T < /run/secrets/npm; echo "//r/:_authToken=$T" > ~/.npmrc` + later, file: "/root/.npmrc",
			has: []string{`( read -r T < /run/secrets/npm; echo "//r/:_authToken=$T" > ~/.npmrc ); npm run build`}},
		{name: "variable from secret file replayed", src: npmMount + `T="$(cat /run/secrets/npm)"; echo "//r/:_authToken=$T" > ~/.npmrc` + later, file: "/root/.npmrc",
			has: []string{`( T="$(cat /run/secrets/npm)"; echo "//r/:_authToken=$T" > ~/.npmrc )`}},
		{name: "pipe from secret file", src: npmMount + `cat /run/secrets/npm | sed 's/^/\/\/r\/:_authToken=/' > ~/.npmrc`, file: "/root/.npmrc"},
		{name: "variable from a secret replayed", src: arg + `RUN T="$TOKEN"; echo "machine h password $T" > /root/.netrc` + "\nRUN git fetch", file: "/root/.netrc",
			has: []string{`( T="$TOKEN"; echo "machine h password $T" > /root/.netrc ); git fetch`}},
		{name: "function argument", src: arg + `RUN w() { echo "machine h password $1" > /root/.netrc; }; w "$TOKEN"; git fetch`, file: "/root/.netrc"},
		{name: "function argument, later RUN", src: arg + `RUN w() { echo "machine h password $1" > /root/.netrc; }; w "$TOKEN"` + "\nRUN git fetch", file: "/root/.netrc",
			refused: "through a function argument", line: 4},
		{name: "function without secret", src: arg + `RUN w() { echo "machine h password $1" > /root/.netrc; }; w public`},
		{name: "loop variable", src: arg + `RUN for t in "$TOKEN"; do echo "machine h password $t" > /root/.netrc; done`, file: "/root/.netrc"},
		{name: "loop variable, later RUN", src: arg + `RUN for t in "$TOKEN"; do echo "machine h password $t" > /root/.netrc; done` + "\nRUN git fetch", file: "/root/.netrc",
			refused: "through a loop variable (t)", line: 4},
		{name: "while read", src: npmMount + `while read -r l; do echo "$l" >> /root/.npmrc; done < /run/secrets/npm` + later, file: "/root/.npmrc",
			refused: "a variable set in a loop", line: 3},
		{name: "eval", src: arg + `RUN eval "echo machine h password $TOKEN > /root/.netrc"` + "\nRUN git fetch", file: "/root/.netrc",
			has: []string{"( echo machine h password $TOKEN > /root/.netrc ); git fetch"}},
		{name: "bash -lc", src: arg + `RUN bash -lc 'echo "//r/:_authToken=$TOKEN" > ~/.npmrc && npm ci'`, file: "/root/.npmrc"},
		{name: "sh -ec", src: arg + `RUN sh -ec 'echo "//r/:_authToken=$TOKEN" > ~/.npmrc'`, file: "/root/.npmrc"},
		{name: "sh -xc", src: arg + `RUN sh -xc 'echo "//r/:_authToken=$TOKEN" > ~/.npmrc'`, file: "/root/.npmrc"},
		{name: "bash -o pipefail -c", src: arg + `RUN bash -o pipefail -c 'echo "//r/:_authToken=$TOKEN" > ~/.npmrc'`, file: "/root/.npmrc"},
		{name: "env sh -c", src: arg + `RUN env A=b /bin/sh -c 'echo "//r/:_authToken=$TOKEN" > ~/.npmrc'`, file: "/root/.npmrc"},
		{name: "nested shell positional", src: arg + `RUN sh -c 'echo "//r/:_authToken=$1" > ~/.npmrc' sh "$TOKEN"`, file: "/root/.npmrc"},
		{name: "env assignment from a secret", src: arg + `RUN env T="$TOKEN" sh -c 'echo "//r/:_authToken=$T" > /app/.npmrc' && npm ci`, file: "/app/.npmrc"},
		{name: "env assignment from a secret, later RUN", src: arg + `RUN env T=$TOKEN sh -c 'echo "//r/:_authToken=$T" > /app/.npmrc'` + "\nRUN npm ci", file: "/app/.npmrc",
			refused: "through a variable env sets for sh (started by env) (T)", line: 4},
		{name: "timeout sh -c", src: arg + `RUN timeout 60 sh -c 'echo "//r/:_authToken=$TOKEN" > /app/.npmrc' && npm ci`, file: "/app/.npmrc"},
		{name: "busybox sh -c", src: arg + `RUN busybox sh -c 'echo "//r/:_authToken=$TOKEN" > /app/.npmrc'`, file: "/app/.npmrc"},
		{name: "nice -n 5 bash -lc", src: arg + `RUN nice -n 5 bash -lc 'echo "//r/:_authToken=$TOKEN" > /app/.npmrc'`, file: "/app/.npmrc"},
		{name: "HOME= before sh -c", src: arg + `RUN HOME=/tmp sh -c 'echo "//r/:_authToken=$TOKEN" > ~/.npmrc && npm ci'`, refused: "HOME= before it sets its HOME", line: 3},
		{name: "env HOME= sh -c", src: arg + `RUN env HOME=/tmp sh -c 'echo "//r/:_authToken=$TOKEN" > ~/.npmrc'`, refused: "env sets HOME for it", line: 3},
		{name: "env -C sh -c", src: arg + `RUN env -C /tmp sh -c 'echo "//r/:_authToken=$TOKEN" > .npmrc'`, refused: "env -C moves it", line: 3},
		{name: "env tool variable", src: arg + `RUN env NPM_CONFIG_USERCONFIG=/app/.npmrc sh -c 'npm config set //r/:_authToken $TOKEN'`, refused: "env sets NPM_CONFIG_USERCONFIG", line: 3},
		{name: "sudo -u sh -c", src: arg + `RUN sudo -u app sh -c 'echo "//r/:_authToken=$TOKEN" > /app/.npmrc'`, file: "/app/.npmrc"},
		{name: "su -c", src: arg + `RUN su app -c 'echo "//r/:_authToken=$TOKEN" > /app/.npmrc'`, file: "/app/.npmrc"},
		{name: "chroot sh -c", src: arg + `RUN chroot /x sh -c 'echo "//r/:_authToken=$TOKEN" > /app/.npmrc'`, refused: "chroot runs it in another root directory", line: 3},
		{name: "env -S", src: arg + `RUN env -S "sh -c 'echo //r/:_authToken=$TOKEN > /app/.npmrc'"`, refused: "env -S splits it", line: 3},
		{name: "exec form behind timeout", src: arg + `RUN ["timeout", "60", "sh", "-c", "echo $TOKEN > /root/.netrc"]`, refused: "it writes a secret into a file", line: 3},
		{name: "exec form behind env -S", src: arg + `RUN ["env", "-S", "sh -c 'echo $TOKEN > /root/.netrc'"]`, refused: "it writes a secret into a file", line: 3},
		{name: "double quotes, escaped $", src: arg + `RUN sh -c "echo //r/:_authToken=\$TOKEN > /app/.npmrc && npm ci"` + later, file: "/app/.npmrc",
			has: []string{"( echo //r/:_authToken=$TOKEN > /app/.npmrc ); npm run build"}},
		{name: "eval, escaped \\ and $", src: arg + `RUN eval "echo \\\$TOKEN > /root/.netrc"`},
		{name: "eval, escaped $", src: arg + `RUN eval "echo \$TOKEN > /root/.netrc"`, file: "/root/.netrc"},
		{name: "nested shell key file", src: arg + `RUN bash -lc 'echo "$TOKEN" > ~/.ssh/id_rsa'`, refused: "inside bash", line: 3},
		{name: "exec form sh -ec", src: arg + `RUN ["sh","-ec","echo \"//r/:_authToken=$TOKEN\" > ~/.npmrc"]`, file: "/root/.npmrc"},
		{name: "exec form bash -ec", src: arg + `RUN ["bash","-ec","echo \"//r/:_authToken=$TOKEN\" > ~/.npmrc"]`, file: "/root/.npmrc"},
		{name: "exec form bash -lc", src: arg + `RUN ["/bin/bash","-lc","echo $TOKEN > /root/.netrc"]`, file: "/root/.netrc"},
		{name: "exec form zsh -c", src: arg + `RUN ["zsh","-c","echo $TOKEN > /root/.netrc"]`, refused: "it writes a secret into a file", line: 3},
		{name: "heredoc fed to cat", src: arg + "RUN cat <<EOT > ~/.npmrc && npm ci\n//registry.npmjs.org/:_authToken=${TOKEN}\nEOT", file: "/root/.npmrc"},
		{name: "heredoc fed to cat, later RUN", src: arg + "RUN cat <<EOT > ~/.npmrc && npm ci\n//registry.npmjs.org/:_authToken=${TOKEN}\nEOT" + later, file: "/root/.npmrc",
			refused: "through a heredoc", line: 6},
		{name: "clone URL in a variable", src: arg + `RUN URL="https://x:${TOKEN}@github.com/o/r.git"; git clone "$URL" /src`, refused: "clone", line: 3},
		{name: "clone URL in a derived ARG", src: arg + "ARG REPO=https://x:${TOKEN}@github.com/o/r.git\nRUN git clone $REPO /src", refused: "clone", line: 4},
		{name: "clone URL from a secret file", src: npmMount + `git clone "https://x:$(cat /run/secrets/npm)@github.com/o/r.git" /src`, refused: "clone", line: 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Rewrite([]byte(tt.src+"\n"), Config{})
			if err != nil {
				t.Fatal(err)
			}
			files, refused, lines := flowFindings(res)
			switch {
			case tt.file == "" && len(files) > 0:
				t.Errorf("unexpected SecretWrittenToFile: %q", files)
			case tt.file != "" && !strings.Contains(strings.Join(files, "\n"), "into "+tt.file):
				t.Errorf("SecretWrittenToFile = %q, want one for %s", files, tt.file)
			}
			checkRefused(t, refused, lines, tt.refused, tt.line)
			if tt.refused == "" && tt.file != "" && !strings.Contains(string(res.Output), hushbuildBackup) {
				t.Errorf("no save/restore prelude:\n%s", res.Output)
			}
			for _, h := range tt.has {
				if !strings.Contains(string(res.Output), h) {
					t.Errorf("rewrite lacks %q:\n%s", h, res.Output)
				}
			}
		})
	}
}

func containsInt(list []int, n int) bool {
	for _, x := range list {
		if x == n {
			return true
		}
	}
	return false
}

// TestShellScriptIndex: the one answer to "is this a shell running a
// script".
func TestShellScriptIndex(t *testing.T) {
	for _, tt := range []struct {
		argv string
		idx  int // -1: not a shell running a script
	}{
		{"sh -c S", 2}, {"/bin/sh -c S", 2}, {"bash -lc S", 2}, {"sh -ec S", 2}, {"sh -xec S", 2}, {"sh -cex S", 2},
		{"bash -o pipefail -c S", 4}, {"bash -e -o pipefail -c S", 5}, {"bash --login -c S", 3}, {"bash --norc -c S", 3},
		{"env VAR=x sh -c S", 4}, {"env -i A=1 B=2 bash -lc S", 6}, {"/usr/bin/env bash -c S", 3}, {"zsh -c S", 2}, {"ksh -c S", 2},
		{"dash -c S", 2}, {"ash -ec S", 2}, {"bash -O extglob -c S", 4}, {"sh +e -c S", 3},
		{"sh S", -1}, {"sh -e S", -1}, {"python -c S", -1}, {"sh -c", -1}, {"env sh", -1}, {"bash", -1}, {"shellcheck -c S", -1},
		{"timeout 60 sh -c S", 4}, {"nice -n 5 bash -lc S", 5}, {"busybox sh -c S", 3}, {"xargs -I {} sh -c S", 5}, {"sudo -u app sh -c S", 5},
		{"su app -c S", 3}, {"env -S S", 2}, {"exec sh -c S", 3}, {"timeout 60 python x.py", -1}, {"sudo apt-get install -y x", -1},
		{"su -c S app", 2}, {"su - app -c S", 4}, {"gosu node bash -lc S", 4}, {"sudo -EHu app -- sh -c S", 6}, {"runuser -u app -- sh -c S", 6},
		{"setpriv --reuid=app --init-groups sh -c S", 5}, {"timeout 60 npm ci", -1},
	} {
		i, ok := shellScriptIndex(strings.Fields(tt.argv))
		if !ok {
			i = -1
		}
		if i != tt.idx {
			t.Errorf("shellScriptIndex(%q) = %d, want %d", tt.argv, i, tt.idx)
		}
	}
}

// TestMayStart: every command callOf, stdinScript or eval takes for a
// script or a program started by another passes mayStart, which keeps
// the others from building their words.
func TestMayStart(t *testing.T) {
	for _, tt := range []struct {
		cmd  string
		want bool
	}{
		{"sh -c S", true}, {"/bin/sh -c S", true}, {"env VAR=x sh -c S", true}, {"env -S 'sh -c S'", true},
		{"timeout 60 sh -c S", true}, {"timeout 60 npm ci", true}, {"nice -n 5 bash -lc S", true}, {"xargs -I {} sh -c S", true},
		{"busybox sh -c S", true}, {"exec sh -c S", true}, {"command npm ci", true}, {"sudo -u app sh -c S", true},
		{"sudo -E -H npm config set k v", true}, {"su app -c S", true}, {"su - app -c S", true}, {"runuser -u app -- npm ci", true},
		{"gosu node npm ci", true}, {"su-exec node:node npm ci", true}, {"setpriv --reuid=1000 npm ci", true}, {"doas -u app npm ci", true},
		{"chroot /x sh -c S", true}, {"fakeroot sh -c S", true}, {`"sudo" -u app sh -c S`, true}, {`sudo -u 'app' "sh" -c S`, true},
		{"eval S", true}, {"sh <<EOF\nS\nEOF", true}, {"sudo -u app sh <<EOF\nS\nEOF", true},
		{"npm ci", false}, {"make -C /app VERSION=$V", false}, {"python x.py", false}, {"echo $SHELL", false},
	} {
		f, err := parseShell(tt.cmd)
		if err != nil {
			t.Fatal(err)
		}
		s := f.Stmts[0]
		c := s.Cmd.(*syntax.CallExpr)
		if got := mayStart(c); got != tt.want {
			t.Errorf("mayStart(%q) = %v, want %v", tt.cmd, got, tt.want)
		}
		_, isCall := callOfArgv(c, tt.cmd)
		stdin := stdinScript(&nestedScript{}, c, 0, s, tt.cmd)
		if (isCall || stdin || c.Args[0].Lit() == "eval") && !mayStart(c) {
			t.Errorf("%q runs a script or a program, and mayStart says no", tt.cmd)
		}
	}
}

// TestShellCallChanges: what the programs before a nested shell change of
// where and as whom it runs, which hushbuild does not follow.
func TestShellCallChanges(t *testing.T) {
	for _, tt := range []struct {
		argv    string
		changes bool
	}{
		{"sh -c S", false}, {"env A=1 sh -c S", false}, {"timeout 60 sh -c S", false}, {"nice -n 5 sh -c S", false},
		{"xargs -0 -n 1 sh -c S", false}, {"busybox sh -c S", false}, {"env -- sh -c S", false},
		{"env HOME=/x sh -c S", true}, {"env NPM_CONFIG_USERCONFIG=/x sh -c S", true}, {"env -i sh -c S", true},
		{"env -u HOME sh -c S", true}, {"env -C /x sh -c S", true}, {"env --chdir=/x sh -c S", true}, {"env -S S", true},
		{"chroot /x sh -c S", true}, {"timeout -s KILL 60 sh -c S", true}, {"sudo -i -u app sh -c S", true}, {"fakeroot sh -c S", true},
		{"timeout 60 fakeroot sh -c S", true}, {"sudo -u app sudo -u x sh -c S", true}, {"gosu $U sh -c S", true},
	} {
		sc, ok := shellCallOf(strings.Fields(tt.argv))
		if !ok {
			t.Errorf("%q: no shell script", tt.argv)
			continue
		}
		if got := sc.changes != ""; got != tt.changes {
			t.Errorf("%q: changes %q, want changes: %v", tt.argv, sc.changes, tt.changes)
		}
	}
}

// TestScriptTextEscapes: the script a nested shell gets from a word is the
// word as the outer shell passes it, backslashes taken out.
func TestScriptTextEscapes(t *testing.T) {
	for _, tt := range []struct{ word, text string }{
		{`"echo \$T > f"`, `echo $T > f`},
		{`"a \"b\" \\ \x \` + "`" + `"`, `a "b" \ \x ` + "`"},
		{"\"a\\\nb\"", "ab"},
		{`a\ b\$c`, `a b$c`},
		{`'a\$b'`, `a\$b`},
	} {
		f, err := parseShell("sh -c " + tt.word)
		if err != nil {
			t.Fatal(err)
		}
		src := "sh -c " + tt.word
		w := f.Stmts[0].Cmd.(*syntax.CallExpr).Args[2]
		got, exact := scriptText(src, []*syntax.Word{w})
		if got != tt.text {
			t.Errorf("%s: got %q, want %q", tt.word, got, tt.text)
		}
		if !exact {
			t.Errorf("%s: not exact", tt.word)
		}
	}
}

// flowFindings are res's SecretWrittenToFile messages, and its
// CannotRewrite messages and their lines.
func flowFindings(res *Result) (files, refused []string, lines []int) {
	for _, f := range res.Findings {
		switch f.Rule {
		case RuleSecretWrittenToFile.Name:
			files = append(files, f.Message)
		case RuleCannotRewrite.Name:
			refused = append(refused, f.Message)
			lines = append(lines, f.Range.Start)
		}
	}
	return files, refused, lines
}

// checkRefused fails t unless the CannotRewrite findings are as wanted:
// none when want is "", else one holding want on line.
func checkRefused(t *testing.T, refused []string, lines []int, want string, line int) {
	t.Helper()
	switch {
	case want == "" && len(refused) > 0:
		t.Errorf("refused: %q", refused)
	case want != "" && !strings.Contains(strings.Join(refused, "\n"), want):
		t.Errorf("CannotRewrite = %q, want one with %q", refused, want)
	case want != "" && !containsInt(lines, line):
		t.Errorf("CannotRewrite on lines %v, want %d", lines, line)
	}
}
