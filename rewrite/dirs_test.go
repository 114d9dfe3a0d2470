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

// TestPathRewrites: where a RUN's writes land after cd, and copies of a
// file that holds a secret: each file that holds a secret at the end of a
// RUN must be one the rewrite removes (a SecretWrittenToFile naming it),
// and what cannot be told is refused.
func TestPathRewrites(t *testing.T) {
	const head = "FROM node:20\nARG NPM_TOKEN\nWORKDIR /app\n"
	const w = `echo "//r/:_authToken=${NPM_TOKEN}" > `
	for _, tt := range []struct {
		name, src string
		files     []string // the files of the SecretWrittenToFile findings
		refused   string   // part of a CannotRewrite message
	}{
		{name: "cd then write", src: "RUN cd web && " + w + ".npmrc && npm ci", files: []string{"/app/web/.npmrc"}},
		{name: "subshell cd", src: "RUN (cd web && " + w + ".npmrc) && " + w + ".npmrc", files: []string{"/app/web/.npmrc", "/app/.npmrc"}},
		{name: "cd home", src: "RUN cd ~ && " + w + ".npmrc", files: []string{"/root/.npmrc"}},
		{name: "cd HOME", src: `RUN cd "$HOME" && ` + w + ".npmrc", files: []string{"/root/.npmrc"}},
		{name: "cd minus", src: "RUN cd /tmp && cd - && " + w + ".npmrc", files: []string{"/app/.npmrc"}},
		{name: "removed after cd", src: "RUN cd web && " + w + ".npmrc\nRUN cd web && rm .npmrc\nRUN npm ci", files: []string{"/app/web/.npmrc"}},
		{name: "bash pushd", src: "SHELL [\"/bin/bash\", \"-c\"]\nRUN pushd web && " + w + ".npmrc && popd && " + w + ".npmrc", files: []string{"/app/web/.npmrc", "/app/.npmrc"}},
		{name: "cd variable", src: "ARG DIR=web\nRUN cd \"$DIR\" && " + w + ".npmrc", refused: `cd "$DIR" goes to a directory that is not a literal path`},
		{name: "cd substitution", src: "RUN cd $(ls -d */ | head -1) && " + w + ".npmrc", refused: "not a literal path"},
		{name: "sh pushd", src: "RUN pushd web && " + w + ".npmrc", refused: "pushd is not a command of every /bin/sh"},
		{name: "maybe cd", src: "RUN [ -d web ] && cd web; " + w + ".npmrc", refused: "different directories"},
		{name: "cd variable absolute write", src: "ARG DIR=web\nRUN cd \"$DIR\" && " + w + "/root/.npmrc", files: []string{"/root/.npmrc"}},

		{name: "cp into directory", src: "RUN " + w + ".npmrc && cp .npmrc web/ && npm ci", files: []string{"/app/.npmrc", "/app/web/.npmrc"}},
		{name: "cp later RUN", src: "RUN " + w + ".npmrc\nRUN cp .npmrc /srv/ && npm ci", files: []string{"/app/.npmrc", "/srv/.npmrc"}},
		{name: "cp into cd directory", src: "RUN mkdir web && " + w + ".npmrc && cp .npmrc web", files: []string{"/app/.npmrc", "/app/web/.npmrc"}},
		{name: "tee and mv", src: `RUN echo "//r/:_authToken=${NPM_TOKEN}" | tee /tmp/npmrc >/dev/null && mv /tmp/npmrc ~/.npmrc` + "\nRUN npm ci", files: []string{"/tmp/npmrc", "/root/.npmrc"}},
		{name: "install", src: "RUN " + w + "/tmp/npmrc && install -m600 /tmp/npmrc ~/.npmrc && rm /tmp/npmrc", files: []string{"/tmp/npmrc", "/root/.npmrc"}},
		{name: "cat into", src: "RUN " + w + ".npmrc && cat .npmrc > web/.npmrc", files: []string{"/app/.npmrc", "/app/web/.npmrc"}},
		{name: "cp after cd", src: "RUN " + w + ".npmrc && cd web && cp ../.npmrc .", files: []string{"/app/.npmrc", "/app/web/.npmrc"}},
		{name: "cp to dev null", src: "RUN " + w + ".npmrc && cp .npmrc /dev/null", files: []string{"/app/.npmrc"}},
		{name: "cp ambiguous", src: "RUN " + w + ".npmrc && cp .npmrc web", refused: "which may be a directory or the copy's name"},
		{name: "cp to variable", src: "ARG D=web\nRUN " + w + ".npmrc && cp .npmrc \"$D\"", refused: "not a plain path"},
		{name: "cp after variable cd", src: "ARG D=web\nRUN " + w + "/tmp/npmrc && cd \"$D\" && cp /tmp/npmrc .npmrc", refused: "its destination is relative to a directory hushbuild cannot tell"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Rewrite([]byte(head+tt.src+"\n"), Config{})
			if err != nil {
				t.Fatal(err)
			}
			var files, refused []string
			for _, f := range res.Findings {
				switch f.Rule {
				case RuleSecretWrittenToFile.Name:
					files = append(files, f.Message)
				case RuleCannotRewrite.Name:
					refused = append(refused, f.Message)
				}
			}
			if tt.refused != "" {
				if len(refused) == 0 || !strings.Contains(strings.Join(refused, "\n"), tt.refused) {
					t.Errorf("CannotRewrite = %q, want one with %q", refused, tt.refused)
				}
				return
			}
			if len(refused) > 0 {
				t.Errorf("unexpected CannotRewrite: %q", refused)
			}
			if len(files) != len(tt.files) {
				t.Errorf("SecretWrittenToFile = %q, want one for each of %q", files, tt.files)
			}
			for _, want := range tt.files {
				found := false
				for _, m := range files {
					if strings.Contains(m, " "+want+", which stayed") {
						found = true
					}
				}
				if !found {
					t.Errorf("no SecretWrittenToFile for %s in %q", want, files)
				}
				if !strings.Contains(string(res.Output), "rm -f "+want+";") && !strings.Contains(string(res.Output), "rm -f "+want+"'") {
					t.Errorf("the rewrite does not remove %s:\n%s", want, res.Output)
				}
			}
		})
	}
}

// TestUserHome: ~ for a user other than root. HOME from ENV or the base
// image's environment is used as is; a named user's home is otherwise
// assumed to be /home/USER, said in the finding and checked by the
// rewritten RUNs ($HOME must be it); a uid has no home to assume.
func TestUserHome(t *testing.T) {
	const write = `RUN echo "//r/:_authToken=${NPM_TOKEN}" > ~/.npmrc && npm ci` + "\n"
	for _, tt := range []struct {
		name, src string
		images    map[string]ImageDefaults
		file      string // the file of the SecretWrittenToFile
		assumed   bool   // the finding says what it assumed, and the RUN checks $HOME
		refused   string
	}{
		{name: "named user", src: "FROM node:20\nARG NPM_TOKEN\nUSER node\n" + write, file: "/home/node/.npmrc", assumed: true},
		{name: "user and group", src: "FROM node:20\nARG NPM_TOKEN\nUSER node:node\n" + write, file: "/home/node/.npmrc", assumed: true},
		{name: "ENV HOME", src: "FROM node:20\nARG NPM_TOKEN\nUSER node\nENV HOME=/srv/home\n" + write, file: "/srv/home/.npmrc"},
		{name: "image HOME", src: "FROM node:20\nARG NPM_TOKEN\nUSER node\n" + write, images: map[string]ImageDefaults{"node:20": {Env: []string{"HOME=/opt/node"}}}, file: "/opt/node/.npmrc"},
		{name: "image user", src: "FROM node:20\nARG NPM_TOKEN\n" + write, images: map[string]ImageDefaults{"node:20": {User: "circleci"}}, file: "/home/circleci/.npmrc", assumed: true},
		{name: "root", src: "FROM node:20\nARG NPM_TOKEN\nUSER root\n" + write, file: "/root/.npmrc"},
		{name: "uid", src: "FROM node:20\nARG NPM_TOKEN\nUSER 1000\n" + write, refused: "the home directory of the user is unknown"},
		{name: "tool config", src: "FROM node:20\nARG NPM_TOKEN\nUSER node\nRUN npm config set //r/:_authToken=${NPM_TOKEN} && npm ci\n", file: "/home/node/.npmrc", assumed: true},
		{name: "child stage", src: "FROM node:20 AS deps\nUSER node\nFROM deps\nARG NPM_TOKEN\n" + write, file: "/home/node/.npmrc", assumed: true},
		{name: "child stage by ARG", src: "ARG FROM_STAGE=deps\nFROM node:20 AS deps\nUSER node\nWORKDIR /home/node/app\nFROM ${FROM_STAGE}\nARG NPM_TOKEN\nRUN echo \"//r/:_authToken=${NPM_TOKEN}\" > .npmrc\n", file: "/home/node/app/.npmrc"},
		{name: "HOME set in the script", src: "FROM node:20\nARG NPM_TOKEN\nUSER node\nRUN export HOME=/tmp/h && echo \"//r/:_authToken=${NPM_TOKEN}\" > ~/.npmrc\n", file: "/tmp/h/.npmrc"},
		{name: "HOME from a variable", src: "FROM node:20\nARG NPM_TOKEN\nARG H\nRUN export HOME=\"$H\" && npm config set //r/:_authToken=${NPM_TOKEN}\n", refused: "the script sets HOME to"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Rewrite([]byte(tt.src), Config{BaseImages: tt.images})
			if err != nil {
				t.Fatal(err)
			}
			var files, refused []string
			for _, f := range res.Findings {
				switch f.Rule {
				case RuleSecretWrittenToFile.Name:
					files = append(files, f.Message)
				case RuleCannotRewrite.Name:
					refused = append(refused, f.Message)
				}
			}
			if tt.refused != "" {
				if !strings.Contains(strings.Join(refused, "\n"), tt.refused) {
					t.Errorf("CannotRewrite = %q, want one with %q", refused, tt.refused)
				}
				return
			}
			if len(refused) > 0 || len(files) != 1 || !strings.Contains(files[0], " "+tt.file+",") {
				t.Fatalf("findings: refused %q, files %q; want one SecretWrittenToFile for %s", refused, files, tt.file)
			}
			guard := strings.Contains(string(res.Output), `[ "$HOME" = `)
			said := strings.Contains(files[0], "was assumed to be")
			if guard != tt.assumed || said != tt.assumed {
				t.Errorf("assumed home: guard %v, said %v, want %v:\n%s\n%s", guard, said, tt.assumed, files[0], res.Output)
			}
		})
	}
}
