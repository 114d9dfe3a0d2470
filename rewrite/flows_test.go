package rewrite

import (
	"reflect"
	"testing"
)

// TestFindWrites: the writes of a script that carry a secret into a file,
// git's configuration or a clone are found from the syntax tree alone;
// writes without a secret are kept only for a file that also gets one.
func TestFindWrites(t *testing.T) {
	type got struct {
		kind flowKind
		file string
		vars []string
	}
	for _, tt := range []struct {
		name, script string
		want         []got
	}{
		{name: "redirect", script: `echo "//r/:_authToken=${NPM_TOKEN}" > ~/.npmrc`,
			want: []got{{flowFile, "/root/.npmrc", []string{"NPM_TOKEN"}}}},
		{name: "relative to the workdir", script: `printf '%s' "$NPM_TOKEN" >> .token`,
			want: []got{{flowFile, "/app/.token", []string{"NPM_TOKEN"}}}},
		{name: "no secret", script: `echo registry=x > ~/.npmrc`},
		{name: "whole file replayed", script: `echo a=b > /etc/x.conf && echo "t=$NPM_TOKEN" >> /etc/x.conf`,
			want: []got{{flowFile, "/etc/x.conf", nil}, {flowFile, "/etc/x.conf", []string{"NPM_TOKEN"}}}},
		{name: "to the log", script: `echo "$NPM_TOKEN" > /dev/stderr`}, // logWrites reports it
		{name: "to nothing", script: `echo "$NPM_TOKEN" > /dev/null`},
		{name: "other variable", script: `echo "$HOME" > /tmp/home`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := parseShell(tt.script)
			if err != nil {
				t.Fatal(err)
			}
			env := shellEnv{workdir: "/app", home: "/root"}
			var gotFlows []got
			for _, fl := range filterFlows(findWrites(f, tt.script, env, map[string]bool{"NPM_TOKEN": true})) {
				g := got{kind: fl.kind, vars: fl.vars}
				if fl.kind != flowLog {
					g.file = fl.file
				}
				if len(g.vars) == 0 {
					g.vars = nil
				}
				gotFlows = append(gotFlows, g)
			}
			if !reflect.DeepEqual(gotFlows, tt.want) {
				t.Errorf("flows = %+v, want %+v", gotFlows, tt.want)
			}
		})
	}
}

func TestStmtName(t *testing.T) {
	for script, want := range map[string]string{
		"echo x":               "echo",
		"cat a | tee /tmp/x":   "tee",
		"/usr/bin/printf '%s'": "printf",
	} {
		f, err := parseShell(script)
		if err != nil {
			t.Fatal(err)
		}
		if got := stmtName(f.Stmts[0]); got != want {
			t.Errorf("stmtName(%q) = %q, want %q", script, got, want)
		}
	}
}

func TestLogWrites(t *testing.T) {
	for script, want := range map[string]int{
		`echo "$NPM_TOKEN" > /dev/stderr`: 1,
		`echo "$NPM_TOKEN" > /tmp/t`:      0,
		`echo "$NPM_TOKEN" > /dev/null`:   0,
	} {
		f, err := parseShell(script)
		if err != nil {
			t.Fatal(err)
		}
		got := logWrites(findWrites(f, script, shellEnv{workdir: "/app", home: "/root"}, map[string]bool{"NPM_TOKEN": true}))
		if len(got) != want {
			t.Errorf("logWrites(%q) = %q, want %d", script, got, want)
		}
	}
}

// TestMayWriteLog: mayWriteLog, which spares a RUN the search for writes
// into the build log, is true for every script that findWrites finds
// writing a secret into the log (through a redirection, tee, dd, a nested
// shell, a login whose configuration file is the log, a directory that
// is /dev), and false for scripts that write only files; findWritesLog
// says what it says, with or without secret names.
func TestMayWriteLog(t *testing.T) {
	names := map[string]bool{"NPM_TOKEN": true}
	env := shellEnv{workdir: "/app", home: "/root"}
	for _, tt := range []struct {
		script string
		want   bool
	}{
		{`echo "$NPM_TOKEN" > /dev/stderr`, true},
		{`echo "$NPM_TOKEN" | tee -a /dev/stdout > /dev/null`, true},
		{`printf %s "$NPM_TOKEN" | dd of=/dev/stdout`, true},
		{`T="$NPM_TOKEN"; echo "$T" >> /proc/self/fd/2`, true},
		{`sh -c 'echo "$NPM_TOKEN" > /dev/stderr'`, true},
		{`bash -lc "eval 'echo \$NPM_TOKEN > /dev/tty'"`, true},
		{`cd /dev && echo "$NPM_TOKEN" > stderr`, true},
		{`echo "$NPM_TOKEN" | NPM_CONFIG_USERCONFIG=/dev/stderr npm login`, true},
		{`echo hello > /dev/stderr`, true}, // no secret: logWrites says nothing
		{`echo "$NPM_TOKEN" | sudo tee /dev/stderr > /dev/null`, true},
		{`gosu node sh -c 'echo "$NPM_TOKEN" > /dev/stderr'`, true},
		{`timeout 60 sh -c 'echo "$NPM_TOKEN" >> /proc/self/fd/2'`, true},
		{`sudo -u node npm config set //r.example/:_authToken "$NPM_TOKEN"`, false},
		{`echo x | NPM_CONFIG_USERCONFIG=/dev/stderr npm login`, true},
		{`git config --global url.x.insteadOf "$NPM_TOKEN" && echo hi`, false},

		{`npm ci && echo "$NPM_TOKEN" > /tmp/token`, false},
		{`echo "$NPM_TOKEN" > /dev/null`, false},
		{`echo "$NPM_TOKEN" | npm login`, false},
		{`sh -c 'echo "$NPM_TOKEN" > ~/.npmrc'`, false},
		{`make -C /app/src VERSION=$VERSION`, false},
	} {
		f, err := parseShell(tt.script)
		if err != nil {
			t.Fatal(err)
		}
		wenv := env.withDirs(f, tt.script, nil)
		got := mayWriteLog(f, tt.script, wenv)
		if got != tt.want {
			t.Errorf("mayWriteLog(%q) = %v, want %v", tt.script, got, tt.want)
		}
		if logs := logWrites(findWrites(f, tt.script, wenv, taint(f, names))); len(logs) > 0 && !got {
			t.Errorf("mayWriteLog(%q) = false, and findWrites finds %q", tt.script, logs)
		}
		for _, ns := range []map[string]bool{names, nil, {"OTHER": true}} {
			if _, may := findWritesLog(f, tt.script, wenv, ns); may != got {
				t.Errorf("findWritesLog(%q, %v) says %v, mayWriteLog %v", tt.script, ns, may, got)
			}
		}
	}
}
