package rewrite

import (
	"strings"
	"testing"
)

// TestSwitchUses: how the rows of switchProgs read a command: as whom it
// runs, in what environment, where the command is, and what the engine
// refuses to follow.
func TestSwitchUses(t *testing.T) {
	for _, tt := range []struct {
		argv   string
		user   string
		env    envMode
		login  bool
		cmd    int    // the index of the script (script) or program
		script bool   // the command is a -c script of the switch itself
		refuse string // part of why it is not followed
	}{
		{argv: "su node -c S", user: "node", env: envSetHome, cmd: 3, script: true},
		{argv: "su -c S node", user: "node", env: envSetHome, cmd: 2, script: true},
		{argv: "su - node -c S", user: "node", env: envReset, login: true, cmd: 4, script: true},
		{argv: "su -l node -c S", user: "node", env: envReset, login: true, cmd: 4, script: true},
		{argv: "su -lc S node", user: "node", env: envReset, login: true, cmd: 2, script: true},
		{argv: "su -m node -c S", user: "node", env: envKeep, cmd: 4, script: true},
		{argv: "su -s /bin/sh app -c S arg0 arg1", user: "app", env: envSetHome, cmd: 5, script: true},
		{argv: "su --command=S node", user: "node", env: envSetHome, refuse: "with the script in the same word"},
		{argv: "su -c S", user: "root", env: envSetHome, cmd: 2, script: true},
		{argv: "su node -- -c S a0", user: "node", env: envSetHome, cmd: 4, script: true},
		{argv: "su node -- -ec S", user: "node", env: envSetHome, cmd: 4, script: true},
		{argv: "su node x.sh", refuse: "-"},
		{argv: "su -x node -c S", user: "node", env: envSetHome, cmd: 4, script: true, refuse: "su -x, an option hushbuild does not know"},
		{argv: "runuser -u app -- sh -c S", user: "app", env: envSetHome, cmd: 4},
		{argv: "runuser -u app npm ci", user: "app", env: envSetHome, cmd: 3},
		{argv: "runuser -l app -c S", user: "app", env: envReset, login: true, cmd: 4, script: true},
		{argv: "sudo npm ci", user: "root", env: envReset, cmd: 1},
		{argv: "sudo -u app sh -c S", user: "app", env: envReset, cmd: 3},
		{argv: "sudo -E -H -u app npm ci", user: "app", env: envSetHome, cmd: 5},
		{argv: "sudo -EHu app npm ci", user: "app", env: envSetHome, cmd: 3},
		{argv: "sudo -E -u app npm ci", user: "app", env: envKeep, cmd: 4},
		{argv: "sudo --user=app --set-home -- npm ci", user: "app", env: envReset, cmd: 4},
		{argv: "sudo -u app FOO=1 npm ci", user: "app", env: envReset, cmd: 4},
		{argv: "sudo -u app HOME=/x npm ci", user: "app", env: envReset, cmd: 4, refuse: "sudo sets HOME for it"},
		{argv: "sudo --preserve-env=PATH,NPM_CONFIG_USERCONFIG -u app npm ci", user: "app", env: envReset, cmd: 4, refuse: "keeps NPM_CONFIG_USERCONFIG"},
		{argv: "sudo -i -u app npm ci", user: "app", env: envReset, cmd: 4, refuse: "sudo -i runs it through the user's login shell"},
		{argv: "sudo -s npm ci", user: "root", env: envReset, cmd: 2, refuse: "sudo -s runs it through a shell of its own"},
		{argv: "sudo -b npm ci", user: "root", env: envReset, cmd: 2, refuse: "background"},
		{argv: "sudo -D /x npm ci", user: "root", env: envReset, cmd: 3, refuse: "sudo -D runs it in another directory"},
		{argv: "sudo -u #1000 npm ci", user: "1000", env: envReset, cmd: 3, refuse: "the uid 1000"},
		{argv: "sudo -u #0 npm ci", user: "root", env: envReset, cmd: 3},
		{argv: "gosu node npm ci", user: "node", env: envSetHome, cmd: 2},
		{argv: "gosu node:node sh -c S", user: "node", env: envSetHome, cmd: 2},
		{argv: "gosu 1000:1000 npm ci", user: "1000", env: envSetHome, cmd: 2, refuse: "the uid 1000"},
		{argv: "gosu root npm ci", user: "root", env: envSetHome, cmd: 2},
		{argv: "su-exec node:node sh -c S", user: "node", env: envSetHome, cmd: 2},
		{argv: "setpriv --reuid=app --regid=app --init-groups sh -c S", user: "app", env: envKeep, cmd: 4},
		{argv: "setpriv --reuid app --reset-env npm ci", user: "app", env: envReset, cmd: 4},
		{argv: "setpriv --nnp npm ci", user: "", env: envKeep, cmd: 2},
		{argv: "setpriv --reset-env npm ci", user: "", env: envReset, cmd: 2, refuse: "the user running it"},
		{argv: "doas -u app npm ci", user: "app", env: envReset, cmd: 3},
		{argv: "doas -s", refuse: "-"},
	} {
		argv := strings.Fields(tt.argv)
		p := switchProgOf(argv[0])
		if p == nil {
			t.Fatalf("%s: no row", argv[0])
		}
		u, ok := p.readSwitch(argv, 0)
		if tt.cmd == 0 && tt.refuse == "-" {
			if ok {
				t.Errorf("%q: a command at %d, want none", tt.argv, u.cmd)
			}
			continue
		}
		if !ok {
			t.Errorf("%q: no command", tt.argv)
			continue
		}
		if tt.refuse == "" && u.refuse != "" || !strings.Contains(u.refuse, tt.refuse) {
			t.Errorf("%q: refuse %q, want %q", tt.argv, u.refuse, tt.refuse)
		}
		if tt.refuse != "" && tt.cmd == 0 {
			continue
		}
		if u.user != tt.user || u.env != tt.env || u.login != tt.login || u.cmd != tt.cmd || u.script != tt.script {
			t.Errorf("%q: user %q env %d login %v cmd %d script %v, want %q %d %v %d %v", tt.argv, u.user, u.env, u.login, u.cmd, u.script,
				tt.user, tt.env, tt.login, tt.cmd, tt.script)
		}
	}
}

// TestWrappedCalls: the command a program starts after other programs is
// read as a command of its own (direct), and one after a switch to
// another user carries it.
func TestWrappedCalls(t *testing.T) {
	for _, tt := range []struct {
		argv    string
		ok      bool
		direct  bool
		at      int    // the script's or the program's index
		user    string // the switch's user, "" for none
		changes bool
	}{
		{argv: "npm ci"},
		{argv: "timeout 60 npm config set k v", ok: true, direct: true, at: 2},
		{argv: "nice -n 5 xargs npm ci", ok: true, direct: true, at: 4},
		{argv: "env A=1 npm ci", ok: true, direct: true, at: 2},
		{argv: "env NPM_CONFIG_USERCONFIG=/x npm config set k v", ok: true, direct: true, at: 2, changes: true},
		{argv: "gosu node npm ci", ok: true, direct: true, at: 2, user: "node"},
		{argv: "timeout 60 gosu node sh -c S", ok: true, at: 6, user: "node"},
		{argv: "sudo -u app tee /x", ok: true, direct: true, at: 3, user: "app"},
		{argv: "sudo -u app sh", ok: true, direct: true, at: 3, user: "app"},
		{argv: "su app", ok: true, direct: true, at: 0, user: "app"},
		{argv: "su app x.sh"},
		{argv: "sudo -u app gosu x sh -c S", ok: true, at: 7, changes: true},
		{argv: "chroot /x npm ci"},
		{argv: "setpriv --nnp npm ci", ok: true, direct: true, at: 2},
		{argv: "timeout 60 fakeroot npm ci", ok: true, direct: true, at: 2},
	} {
		sc, ok := wrappedCallOf(strings.Fields(tt.argv))
		if ok != tt.ok {
			t.Errorf("%q: ok %v, want %v", tt.argv, ok, tt.ok)
			continue
		}
		if !ok {
			continue
		}
		user := ""
		if sc.sw != nil {
			user = sc.sw.user
		}
		if sc.direct != tt.direct || sc.script != tt.at || user != tt.user || (sc.changes != "") != tt.changes {
			t.Errorf("%q: direct %v at %d user %q changes %q, want %v %d %q %v", tt.argv, sc.direct, sc.script, user, sc.changes, tt.direct, tt.at, tt.user, tt.changes)
		}
	}
}

// TestUserSwitchFlows: a secret written by a command another user runs
// (su, sudo, gosu, su-exec, runuser, setpriv, doas) is saved and
// restored where that user writes it, with the checks of what the rewrite
// assumed (the RUN runs as root, the program's HOME), and replayed in
// later RUNs through the same program; where the engine cannot tell
// where it writes, the RUN is refused.
func TestUserSwitchFlows(t *testing.T) {
	const arg = "FROM node:20\nARG TOKEN\n"
	const later = "\nRUN npm run build"
	const tok = `echo "//r/:_authToken=$TOKEN" > ~/.npmrc`
	home := func(probe, home string) string {
		return `[ "$(` + probe + `'printf %s "$HOME"'` + `)" = ` + home + ` ]`
	}
	for _, tt := range []struct {
		name, src string
		file      string   // the file of a SecretWrittenToFile, "" for none
		has       []string // parts of the rewritten Dockerfile
		not       []string // parts it must not have
		refused   string   // part of a CannotRewrite message, "" for none
		line      int      // the CannotRewrite's line
	}{
		{name: "su -c", src: arg + "RUN su node -c '" + tok + " && npm ci'", file: "/home/node/.npmrc",
			has: []string{rootGuard, home("su node -c ", "/home/node"), "if [ -e /home/node/.npmrc ]"}},
		{name: "su -c, later RUN", src: arg + "RUN su node -c '" + tok + "'" + later, file: "/home/node/.npmrc",
			has: []string{`( su node -c 'echo "//r/:_authToken=$TOKEN" > ~/.npmrc' ); npm run build`}},
		{name: "su -c in double quotes, later RUN", src: arg + `RUN su node -c "echo //r/:_authToken=$TOKEN > ~/.npmrc"` + later, file: "/home/node/.npmrc",
			has: []string{`( su node -c "echo //r/:_authToken=$TOKEN > ~/.npmrc" ); npm run build`}},
		{name: "su -c in double quotes with \\$", src: arg + `RUN su node -c "echo //r/:_authToken=\$TOKEN > ~/.npmrc && npm ci"`, file: "/home/node/.npmrc"},
		{name: "su -c in double quotes with \\$, later RUN", src: arg + `RUN su node -c "echo //r/:_authToken=\$TOKEN > ~/.npmrc"` + later,
			refused: "su runs that hushbuild cannot quote again", line: 4},
		{name: "su - writes its home directory", src: arg + "RUN su - node -c 'echo \"//r/:_authToken=$TOKEN\" > .npmrc'" + later, file: "/home/node/.npmrc",
			has: []string{home("su - node -c ", "/home/node"), `( su - node -c 'echo "//r/:_authToken=$TOKEN" > .npmrc' )`}},
		{name: "su -, a cd inside", src: arg + "RUN su - node -c 'cd app && echo \"//r/:_authToken=$TOKEN\" > .npmrc'" + later, file: "/home/node/app/.npmrc",
			has: []string{`( su - node -c 'cd /home/node/app && { echo "//r/:_authToken=$TOKEN" > .npmrc; }' )`}},
		{name: "su -c SCRIPT USER", src: arg + "RUN su -c '" + tok + "' node", file: "/home/node/.npmrc",
			has: []string{`[ "$(su -c 'printf %s "$HOME"' node)" = /home/node ]`}},
		{name: "su -s SHELL", src: arg + "RUN su -s /bin/sh app -c '" + tok + "'", file: "/home/app/.npmrc", has: []string{home("su -s /bin/sh app -c ", "/home/app")}},
		{name: "su -- -c", src: arg + "RUN su node -- -c '" + tok + "'", file: "/home/node/.npmrc"},
		{name: "su \"-c\" quoted", src: arg + "RUN su \"-c\" '" + tok + "' 'node'", file: "/home/node/.npmrc"},
		{name: "su -m keeps HOME", src: arg + "RUN su -m node -c '" + tok + "'", file: "/root/.npmrc", has: []string{home("su -m node -c ", "/root")}},
		{name: "su, a write by absolute path", src: arg + "RUN su node -c 'echo \"//r/:_authToken=$TOKEN\" > /app/.npmrc'", file: "/app/.npmrc",
			has: []string{rootGuard}, not: []string{`printf %s "$HOME"`}},
		{name: "su USER <<EOF", src: arg + "RUN su node <<'EOS'\n" + tok + "\nEOS" + "\nRUN su node <<EOS\n" + tok + "\nEOS", file: "/home/node/.npmrc",
			has: []string{home("su node -c ", "/home/node"), `( su node -c 'echo "//r/:_authToken=$TOKEN" > ~/.npmrc' ); su node <<EOS`}},
		{name: "sudo -u sh -c", src: arg + "RUN sudo -u app sh -c '" + tok + "'", file: "/home/app/.npmrc", has: []string{home("sudo -u app sh -c ", "/home/app")}},
		{name: "sudo -u sh <<EOF", src: arg + "RUN sudo -u app sh <<EOS\n" + tok + "\nEOS" + later, file: "/home/app/.npmrc",
			has: []string{home("sudo -u app sh -c ", "/home/app"), `( sudo -u app sh -c "echo \"//r/:_authToken=$TOKEN\" > ~/.npmrc" ); npm run build`}},
		{name: "sudo -u sh <<'EOF'", src: arg + "RUN sudo -u app sh <<'EOS'\n" + tok + "\nEOS" + later, file: "/home/app/.npmrc",
			has: []string{`( sudo -u app sh -c 'echo "//r/:_authToken=$TOKEN" > ~/.npmrc' ); npm run build`}},
		{name: "~USER is the user's home, not a directory", src: arg + "WORKDIR /srv\nRUN echo \"//r/:_authToken=$TOKEN\" > ~node/.npmrc", refused: "not a plain path", line: 4},
		{name: "~USER inside su", src: arg + "WORKDIR /srv\nRUN su node -c 'echo \"//r/:_authToken=$TOKEN\" > ~node/.npmrc'", refused: "not a plain path", line: 4},
		{name: "~ before a quote is a literal ~", src: arg + "WORKDIR /srv\nRUN echo \"//r/:_authToken=$TOKEN\" > ~\"/.npmrc\"", refused: "not a plain path", line: 4},
		{name: "~+ is not HOME", src: arg + "WORKDIR /srv\nRUN echo \"//r/:_authToken=$TOKEN\" > ~+/.npmrc", refused: "not a plain path", line: 4},
		{name: "su -c in double quotes naming $HOME", src: arg + `RUN su node -c "echo //r/:_authToken=$TOKEN > $HOME/.npmrc"`, refused: "names $HOME where the RUN's shell expands it", line: 3},
		{name: "gosu npm config set --userconfig ~/...", src: arg + "RUN gosu node npm config set --userconfig ~/.npmrc //r/:_authToken $TOKEN", file: "/root/.npmrc",
			has: []string{`[ "$HOME" = /root ]`}, not: []string{`printf %s "$HOME"`}},
		{name: "su - writes beside its home directory", src: arg + "RUN su - node -c 'echo \"//r/:_authToken=$TOKEN\" > ../x/.npmrc'", file: "/home/x/.npmrc",
			has: []string{home("su - node -c ", "/home/node")}},
		{name: "gosu, a cd from ~", src: arg + "RUN gosu node sh -c 'cd ~/.. && echo \"//r/:_authToken=$TOKEN\" > x/.npmrc'", file: "/home/x/.npmrc",
			has: []string{home("gosu node sh -c ", "/home/node")}, not: []string{`[ "$HOME" = /home/node ]`}},
		{name: "sudo -E -H -u npm config set", src: arg + "RUN sudo -E -H -u app npm config set //r/:_authToken $TOKEN && npm ci" + later, file: "/home/app/.npmrc",
			has: []string{home("sudo -E -H -u app sh -c ", "/home/app"), "( sudo -E -H -u app npm config set //r/:_authToken $TOKEN ); npm run build"}},
		{name: "sudo -u npm config set: its own environment", src: arg + "RUN sudo -u app npm config set //r/:_authToken $TOKEN", file: "/home/app/.npmrc",
			has: []string{`[ -z "$(sudo -u app sh -c 'printf %s "${NPM_CONFIG_USERCONFIG+NPM_CONFIG_USERCONFIG }${npm_config_userconfig+npm_config_userconfig }"')" ]`},
			not: []string{`[ -z "${NPM_CONFIG_USERCONFIG+x}" ]`}},
		{name: "sudo -E keeps HOME", src: arg + "RUN sudo -E -u app sh -c '" + tok + "'", file: "/root/.npmrc", has: []string{home("sudo -E -u app sh -c ", "/root")}},
		{name: "echo | sudo tee", src: arg + `RUN echo "//r/:_authToken=$TOKEN" | sudo tee /root/.npmrc >/dev/null && npm ci` + later, file: "/root/.npmrc",
			has: []string{`( echo "//r/:_authToken=$TOKEN" | sudo tee /root/.npmrc >/dev/null ); npm run build`}},
		{name: "echo | sudo -u tee ~", src: arg + `RUN echo "//r/:_authToken=$TOKEN" | sudo -u app tee ~/.npmrc`, file: "/root/.npmrc"},
		{name: "sudo -i", src: arg + "RUN sudo -i -u app sh -c '" + tok + "'", refused: "sudo -i runs it through the user's login shell", line: 3},
		{name: "sudo -D", src: arg + "RUN sudo -D /x -u app sh -c '" + tok + "'", refused: "sudo -D runs it in another directory", line: 3},
		{name: "sudo, an unknown option", src: arg + "RUN sudo -Q -u app sh -c '" + tok + "'", refused: "sudo -Q, an option hushbuild does not know", line: 3},
		{name: "gosu sh -c", src: arg + "RUN gosu node sh -c '" + tok + "'", file: "/home/node/.npmrc", has: []string{home("gosu node sh -c ", "/home/node")}},
		{name: "gosu npm config set, later RUN", src: arg + "RUN gosu node npm config set //r/:_authToken $TOKEN" + later, file: "/home/node/.npmrc",
			has: []string{home("gosu node sh -c ", "/home/node"), "( gosu node npm config set //r/:_authToken $TOKEN ); npm run build", `[ -z "${NPM_CONFIG_USERCONFIG+x}" ]`}},
		{name: "gosu bash -lc", src: arg + "RUN gosu node bash -lc '" + tok + "'" + later, file: "/home/node/.npmrc",
			has: []string{home("gosu node bash -lc ", "/home/node"), `( gosu node bash -lc 'echo "//r/:_authToken=$TOKEN" > ~/.npmrc' )`}},
		{name: "gosu uid", src: arg + "RUN gosu 1000 sh -c '" + tok + "'", refused: "gosu runs it as the uid 1000", line: 3},
		{name: "gosu $USER", src: arg + "ARG APP_USER=node\nRUN gosu $APP_USER sh -c '" + tok + "'", refused: "a user named by a variable", line: 4},
		{name: "su-exec user:group", src: arg + "RUN su-exec node:node sh -c '" + tok + "'", file: "/home/node/.npmrc", has: []string{home("su-exec node:node sh -c ", "/home/node")}},
		{name: "runuser -u --", src: arg + "RUN runuser -u app -- sh -c '" + tok + "'", file: "/home/app/.npmrc", has: []string{home("runuser -u app -- sh -c ", "/home/app")}},
		{name: "setpriv keeps HOME", src: arg + "RUN setpriv --reuid=app --regid=app --init-groups sh -c '" + tok + "'", file: "/root/.npmrc",
			has: []string{home("setpriv --reuid=app --regid=app --init-groups sh -c ", "/root")}},
		{name: "setpriv --reset-env", src: arg + "RUN setpriv --reuid=app --reset-env sh -c '" + tok + "'", file: "/home/app/.npmrc"},
		{name: "doas -u", src: arg + "RUN doas -u app sh -c '" + tok + "'", file: "/home/app/.npmrc", has: []string{home("doas -u app sh -c ", "/home/app")}},
		{name: "chroot", src: arg + "RUN chroot /srv sh -c '" + tok + "'", refused: "chroot runs it in another root directory", line: 3},
		{name: "two switches", src: arg + "RUN sudo -u app gosu node sh -c '" + tok + "'", refused: "gosu runs it as another user inside sudo", line: 3},
		{name: "a switch inside a switch's script", src: arg + "RUN su app -c \"gosu node sh -c '" + tok + "'\"", refused: "inside su (as app)", line: 3},
		{name: "a RUN of another user", src: arg + "USER app\nRUN gosu node sh -c '" + tok + "'", refused: "in a RUN of the user app", line: 4},
		{name: "a RUN of the same user", src: arg + "USER app\nRUN sudo -u app sh -c '" + tok + "'", file: "/home/app/.npmrc", not: []string{rootGuard}},
		{name: "a RUN of root, known", src: arg + "USER root\nRUN gosu node sh -c '" + tok + "'", file: "/home/node/.npmrc", not: []string{rootGuard}},
		{name: "a later RUN of another user", src: arg + "RUN gosu node sh -c '" + tok + "'\nUSER node" + later, refused: "as the user node it cannot do it as that RUN did", line: 5},
		{name: "timeout npm config set, later RUN", src: arg + "RUN timeout 60 npm config set //r/:_authToken $TOKEN" + later, file: "/root/.npmrc",
			has: []string{"( timeout 60 npm config set //r/:_authToken $TOKEN ); npm run build"}, not: []string{rootGuard}},
		{name: "env tool variable before npm", src: arg + "RUN env NPM_CONFIG_USERCONFIG=/app/.npmrc npm config set //r/:_authToken $TOKEN", refused: "env sets NPM_CONFIG_USERCONFIG", line: 3},
		{name: "sudo git clone", src: arg + "RUN sudo git clone https://x:${TOKEN}@github.com/o/r.git /src", refused: "inside git (started by sudo), which hushbuild does not rewrite", line: 3},
		{name: "sh -c copies the file", src: arg + `RUN sh -c 'echo "//r/:_authToken=$TOKEN" > /root/.npmrc && cp /root/.npmrc /app/.npmrc'`,
			refused: "copies the file /root/.npmrc that holds a secret inside sh", line: 3},
		{name: "su -c copies the file", src: arg + `RUN echo "//r/:_authToken=$TOKEN" > /root/.npmrc` + "\nRUN su node -c 'cat /root/.npmrc > /home/node/.npmrc'",
			refused: "copies the file /root/.npmrc that holds a secret inside su", line: 4},
		{name: "sudo cp of the file", src: arg + `RUN echo "//r/:_authToken=$TOKEN" > /root/.npmrc && sudo cp /root/.npmrc /app/`,
			refused: "inside cp (started by sudo)", line: 3},
		{name: "a script in a script copies the file", src: arg + `RUN echo "//r/:_authToken=$TOKEN" > /root/.npmrc && sh -c "su node -c 'cp /root/.npmrc /x/.npmrc'"`,
			refused: "inside su", line: 3},
		{name: "echo | gosu docker login --password-stdin", src: arg + `RUN echo "$TOKEN" | gosu node docker login -u ci --password-stdin registry.example.com`,
			file: "/home/node/.docker/config.json", has: []string{home("gosu node sh -c ", "/home/node")}},
		{name: "echo | xargs npm config set", src: arg + `RUN echo "$TOKEN" | xargs npm config set //r/:_authToken` + later, file: "/root/.npmrc",
			has: []string{`( echo "$TOKEN" | xargs npm config set //r/:_authToken ); npm run build`}},
		{name: "sudo docker login < secret file", src: "FROM node:20\nRUN --mount=type=secret,id=pw sudo docker login -u ci --password-stdin registry.example.com < /run/secrets/pw",
			file: "/root/.docker/config.json"},
		{name: "sudo without a secret", src: arg + "RUN sudo -u app npm ci", not: []string{hushbuildBackup}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Rewrite([]byte(tt.src+"\n"), Config{})
			if err != nil {
				t.Fatal(err)
			}
			files, refused, lines := flowFindings(res)
			switch {
			case tt.file == "" && len(files) > 0 && tt.refused == "":
				t.Errorf("unexpected SecretWrittenToFile: %q", files)
			case tt.file != "" && !strings.Contains(strings.Join(files, "\n"), "into "+tt.file):
				t.Errorf("SecretWrittenToFile = %q, want one for %s", files, tt.file)
			}
			checkRefused(t, refused, lines, tt.refused, tt.line)
			if tt.refused != "" {
				return
			}
			for _, h := range tt.has {
				if !strings.Contains(string(res.Output), h) {
					t.Errorf("rewrite lacks %q:\n%s", h, res.Output)
				}
			}
			for _, h := range tt.not {
				if strings.Contains(string(res.Output), h) {
					t.Errorf("rewrite has %q:\n%s", h, res.Output)
				}
			}
		})
	}
}
