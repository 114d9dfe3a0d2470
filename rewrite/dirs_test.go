package rewrite

import (
	"strings"
	"testing"

	"mvdan.cc/sh/v3/syntax"
)

// TestTrackDirs: the directory each command of a script runs in, from a
// WORKDIR of /app and a HOME of /root. "mark" is the command looked at; a
// want of "" means the directory is unknown there, and why must then say
// why.
func TestTrackDirs(t *testing.T) {
	for _, tt := range []struct {
		name, script string
		bash         bool
		workdir      string // "" for /app
		want         string
		why          string // part of the reason, when want is ""
	}{
		{name: "no cd", script: "mark", want: "/app"},
		{name: "cd and", script: "cd web && mark", want: "/app/web"},
		{name: "cd semicolon", script: "cd web; mark", want: "/app/web"},
		{name: "cd newline", script: "cd web\nmark", want: "/app/web"},
		{name: "cd absolute", script: "cd /srv/x && mark", want: "/srv/x"},
		{name: "cd dotdot", script: "cd ../lib && mark", want: "/lib"},
		{name: "cd quoted", script: `cd "web site" && mark`, want: "/app/web site"},
		{name: "cd option", script: "cd -P web && mark", want: "/app/web"},
		{name: "cd dashdash", script: "cd -- web && mark", want: "/app/web"},
		{name: "builtin cd", script: "builtin cd web && mark", want: "/app/web"},
		{name: "two cds", script: "cd web && cd src && mark", want: "/app/web/src"},
		{name: "subshell", script: "(cd web && echo) && mark", want: "/app"},
		{name: "inside subshell", script: "(cd web && mark)", want: "/app/web"},
		{name: "after subshell", script: "(cd web); mark", want: "/app"},
		{name: "pipeline", script: "cd web | cat; mark", want: "/app"},
		{name: "background", script: "cd web & mark", want: "/app"},
		{name: "block", script: "{ cd web; }; mark", want: "/app/web"},
		{name: "substitution", script: "echo $(cd web && mark)", want: "/app/web"},
		{name: "after substitution", script: "x=$(cd web && pwd); mark", want: "/app"},
		{name: "cd minus", script: "cd /srv && cd - && mark", want: "/app"},
		{name: "cd minus unknown", script: "cd - && mark", why: "cd - goes back"},
		{name: "cd home", script: "cd && mark", want: "/root"},
		{name: "cd tilde", script: "cd ~/x && mark", want: "/root/x"},
		{name: "cd HOME", script: `cd "$HOME/x" && mark`, want: "/root/x"},
		{name: "cd HOME braces", script: `cd ${HOME} && mark`, want: "/root"},
		{name: "HOME exported", script: "export HOME=/h && cd && mark", want: "/h"},
		{name: "HOME assigned", script: "HOME=/h; cd ~/x; mark", want: "/h/x"},
		{name: "HOME variable", script: `HOME="$X"; cd; mark`, why: "not a literal path"},
		{name: "cd variable", script: `cd "$DIR" && mark`, why: `cd "$DIR" goes to a directory that is not a literal path`},
		{name: "cd substitution", script: "cd $(mktemp -d) && mark", why: "not a literal path"},
		{name: "cd glob", script: "cd web* && mark", why: "not a literal path"},
		{name: "cd after variable cd", script: `cd "$DIR" && cd sub && mark`, why: `cd "$DIR"`},
		{name: "cd absolute after variable cd", script: `cd "$DIR" && cd /srv && mark`, want: "/srv"},
		{name: "test and cd", script: "[ -d web ] && cd web; mark", why: "different directories"},
		{name: "test and cd chained", script: "[ -d web ] && cd web && mark", want: "/app/web"},
		{name: "cd or exit", script: "cd web || exit 1; mark", want: "/app/web"},
		{name: "cd or block exit", script: "cd web || { echo no; exit 1; }; mark", want: "/app/web"},
		{name: "cd or cd", script: "cd a || cd b; mark", why: "different directories"},
		{name: "cd or true", script: "cd a || true; mark", why: "different directories"},
		{name: "or branch", script: "cd a || mark", want: "/app"},
		{name: "if one branch", script: "if true; then cd a; fi; mark", why: "different directories"},
		{name: "if both branches", script: "if x; then cd a; else cd /app/a; fi; mark", want: "/app/a"},
		{name: "inside if", script: "if x; then cd a && mark; fi", want: "/app/a"},
		{name: "case", script: "case $x in a) cd a;; esac; mark", why: "different directories"},
		{name: "loop that moves", script: "for d in a b; do cd $d; done; mark", why: "not a literal path"},
		{name: "loop that moves literally", script: "for d in a b; do cd sub; done; mark", why: "a loop"},
		{name: "inside a loop that moves", script: "for d in a b; do mark; cd sub; done", why: "a loop"},
		{name: "loop that does not move", script: "for d in a b; do (cd $d && make); done; mark", want: "/app"},
		{name: "while", script: "while read l; do cd x; done < f; mark", why: "a loop"},
		{name: "function that moves", script: "f() { cd x; }; f; mark", why: "the function f changes directory"},
		{name: "function body", script: "f() { mark; }; f", why: "function f"},
		{name: "function that does not move", script: "f() { echo; }; f; mark", want: "/app"},
		{name: "function calling one that moves", script: "f() { cd x; }; g() { f; }; g; mark", why: "the function g changes directory"},
		{name: "pushd in sh", script: "pushd web && mark", why: "pushd is not a command of every /bin/sh"},
		{name: "pushd in bash", script: "pushd web && mark", bash: true, want: "/app/web"},
		{name: "popd in bash", script: "pushd web && pushd /srv && popd && mark", bash: true, want: "/app/web"},
		{name: "popd twice", script: "pushd web && popd && mark", bash: true, want: "/app"},
		{name: "popd empty", script: "popd; mark", bash: true, why: "popd goes back"},
		{name: "unknown workdir relative", workdir: "-", script: "cd web && mark", why: "working directory"},
		{name: "unknown workdir absolute", workdir: "-", script: "cd /srv && mark", want: "/srv"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := parseShell(tt.script)
			if err != nil {
				t.Fatal(err)
			}
			env := shellEnv{workdir: "/app", home: "/root"}
			if tt.workdir == "-" {
				env.workdir = ""
			}
			var shell []string
			if tt.bash {
				shell = []string{"/bin/bash", "-c"}
			}
			env = env.withDirs(f, tt.script, shell)
			var mark *syntax.Stmt
			syntax.Walk(f, func(n syntax.Node) bool {
				if s, ok := n.(*syntax.Stmt); ok {
					if c, ok := s.Cmd.(*syntax.CallExpr); ok && len(c.Args) > 0 && c.Args[0].Lit() == "mark" {
						mark = s
					}
				}
				return true
			})
			if mark == nil {
				t.Fatal("no mark in the script")
			}
			got := env.at(mark)
			if got.workdir != tt.want {
				t.Errorf("directory = %q (%s), want %q", got.workdir, got.why, tt.want)
			}
			if tt.want == "" && !strings.Contains(got.why, tt.why) {
				t.Errorf("why = %q, want it to say %q", got.why, tt.why)
			}
		})
	}
}
