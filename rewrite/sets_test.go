package rewrite

import (
	"strings"
	"testing"
)

// TestSetCopies: a loop, find, xargs or while-read whose files may hold a
// mounted credential file (or its directory) and that copies or changes
// them is reported; one whose files cannot hold it is not.
func TestSetCopies(t *testing.T) {
	mounted := []string{"/app/.npmrc", "/app/docker/npmrc"}
	env := shellEnv{workdir: "/app", home: "/root"}
	tests := []struct {
		script string
		want   string // a part of the reason, "" for none
		change bool
	}{
		{`for f in docker/*; do cp "$f" /opt/; done`, "cp copies the files of `for f in docker/*`", false},
		{`for f in /app/docker/*; do cp $f /opt/; done`, "/app/docker/npmrc", false},
		{`for f in .np*; do cp "$f" /root/; done`, "/app/.npmrc", false},
		{`for f in docker/nginx.conf docker/npmrc; do install -m 600 "$f" /etc/; done`, "install copies", false},
		{`for d in docker; do cp -r "$d" /opt/; done`, "cp -r copies", false},
		{`for f in $(find docker -type f); do cat "$f" > /opt/$(basename "$f"); done`, "cat reads", false},
		{`for f in $(ls docker); do cp docker/$f /opt/; done`, "cp copies", false},
		{`find docker -type f | while read -r f; do cp "$f" /opt/; done`, "while read f", false},
		{`while IFS= read -r f; do cp "$f" /opt/; done < <(find docker -type f)`, "cp copies", false},
		{`find docker -type f -exec cp {} /opt/ \;`, "cp copies", false},
		{`find . -name '*rc' -exec cp -t /root/ {} +`, "/app/.npmrc", false},
		{`find . -path './docker/*' -exec cp {} /opt/ \;`, "/app/docker/npmrc", false},
		{`find . -type f ! -name '*.go' -exec cp {} /opt/ \;`, "cp copies", false},
		{`find docker -type f -exec sh -c 'cp "$1" /opt' _ {} \;`, "sh runs a script", false},
		{`find . -name '*.sh' -exec sh {} \;`, "", false},
		{`ls docker/* | xargs cp -t /opt/`, "xargs", false},
		{`find docker -type f | xargs -I{} cp {} /opt/`, "cp copies", false},
		{`find . -name '.npmrc' -print0 | xargs -0 tar czf /opt/rc.tgz`, "tar copies", false},
		{`ls -A | grep rc | xargs -I{} cp {} /opt/`, "cp copies", false},
		{`sh -c 'cp /app/.npmrc /root/'`, "sh runs: cp copies", false},
		{`sh -c 'for f in docker/*; do cp "$f" /opt; done'`, "sh runs: cp copies", false},
		{`find /app -type f -exec chmod 644 {} \;`, "chmod changes", true},
		{`find /app -name .npmrc -exec sed -i 's/x/y/' {} +`, "sed changes", true},
		{`for f in docker/*; do rm "$f"; done`, "rm changes", true},
		{`for f in docker/*; do cat "$f"; done`, "cat prints", false},
		{`find . | cpio -pdm /opt/`, "cpio copies the files that `find .` prints", false},
		{`find docker -type f | tar -cf /opt/x.tar -T -`, "tar copies", false},
		{`cat < .npmrc > /root/.npmrc`, "on its standard input", false},
		{`cp $APP_HOME/.npmrc /root/`, "cannot resolve", false},
		{`cp "$(pwd)/docker/npmrc" /root/.npmrc`, "/app/docker/npmrc", false},
		{`cp $(find . -name '*rc') /root/`, "cp copies the files of `$(find . -name '*rc')`", false},
		{`tar czf /opt/x.tgz $(ls -A)`, "tar copies", false},
		{`git init && git add -A && git commit -qm init`, "git add", false},
		{`git add . && git commit -qm init`, "git add", false},
		{`python3 -c "import shutil; shutil.copy('.npmrc', '/root/.npmrc')"`, "inline script", false},
		{`node -e "require('fs').copyFileSync('docker/npmrc', '/opt/npmrc')"`, "inline script", false},
		{`find . -name '.*rc' -delete`, "find -delete", true},
		{`find /app -type f -exec cp {} /srv/ \;`, "cp copies", false},
		{`find /app -name '.*rc' -exec cat {} + > /srv/all`, "cat reads", false},
		{`find /app | cpio -pdm /srv`, "cpio copies", false},
		{`ls -A /app | cpio -o > /srv/x.cpio`, "cpio copies", false},
		{`find /app -maxdepth 1 -type f | xargs -I{} cp {} /srv/`, "cp copies", false},
		{`find /app -type f | tar -czf /srv/x.tgz -T -`, "tar copies", false},
		{`cat .np* && npm ci`, "cat prints the files of `.np*`", false},
		// Sets that cannot hold it.
		{`find /opt -type f -exec cp {} /srv/ \;`, "", false},
		{`find /app -name '*.log' | xargs rm -f`, "", false},
		{`find /opt | cpio -pdm /srv`, "", false},
		{`find /app | wc -l && cpio -idm < /opt/x.cpio`, "", false},
		{`cat *.json`, "", false},
		{`cat .np* | grep -c registry`, "", false},
		{`for f in docker/*; do export "$(basename "$f")=$(cat "$f")"; done`, "", false},
		{`for f in docker/*; do cat "$f" | grep -q registry && echo found; done`, "", false},
		{`find . -name '*.pyc' -delete`, "", false},
		{`git add src/ && git commit -qm src`, "", false},
		{`python3 -c "print('hello')"`, "", false},
		{`cp $(find src -name '*.js') /opt/`, "", false},
		{`cp $APP_HOME/package.json /opt/`, "", false},
		{`cp /root/x "$DEST/.npmrc"`, "", false},
		{`find src | cpio -pdm /opt/`, "", false},
		{`wc -l < .npmrc > /opt/lines`, "", false},
		{`for f in src/*.js; do cp "$f" /opt/; done`, "", false},
		{`for f in *; do cp "$f" /opt/; done`, "", false},
		{`for f in *.json; do cat "$f" > "/opt/$f"; done`, "", false},
		{`for f in docker/*; do echo "$f" >> /opt/list; done`, "", false},
		{`for f in docker/*; do cp /etc/hosts /opt/; done`, "", false},
		{`for f in docker/*; do cp /etc/hosts "$f.bak"; done`, "", false},
		{`find . -name '*.go' -exec cp {} /opt/ \;`, "", false},
		{`find src -type f | xargs -I{} cp {} /opt/`, "", false},
		{`find docker -type d -exec mkdir -p /opt/{} \;`, "", false},
		{`find . -name '*.pyc' -exec rm {} +`, "", false},
		{`cat files.txt | xargs cp -t /opt/`, "", false},
		{`ls docker/* | xargs echo`, "", false},
		{`cp -r dist /usr/share/nginx/html`, "", false},
		{`for f in docker/*; do sha256sum "$f"; done`, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.script, func(t *testing.T) {
			f, err := parseShell(tc.script)
			if err != nil {
				t.Fatal(err)
			}
			uses := setCopies(f, tc.script, env, mounted)
			if tc.want == "" {
				if len(uses) > 0 {
					t.Fatalf("reported %q, want nothing", uses[0].why)
				}
				return
			}
			if len(uses) == 0 {
				t.Fatalf("nothing reported, want %q", tc.want)
			}
			found := false
			for _, u := range uses {
				if strings.Contains(u.why, tc.want) && (u.kind == useChange) == tc.change {
					found = true
				}
			}
			if !found || strings.HasPrefix(tc.want, "cat prints") && uses[0].kind != usePrint {
				t.Fatalf("reported %+v, want %q (change %v)", uses, tc.want, tc.change)
			}
		})
	}
}
