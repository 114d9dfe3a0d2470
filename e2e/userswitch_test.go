package e2e

import (
	"strings"
	"testing"

	"github.com/hushbuild/hushbuild/rewrite"
)

// TestUserSwitch: a root RUN writes the token into ~/.npmrc of another
// user through su, gosu, su-exec, sudo or runuser (the test image's
// stand-ins switch the uid for real and set HOME from /etc/passwd), and
// npm, as that user, reads it. The rewrite assumes the user's home is
// /home/USER and asks the program itself at the start of the RUN. For
// node, whose home is /home/node, the build through the hushbuild
// frontend and the CLI's rewrite on the stock frontend both succeed, npm
// gets the token, and no layer, cache or provenance keeps it. For app,
// whose home is /srv/app, the assumption is wrong: both builds stop at the
// check, before anything is written.
func TestUserSwitch(t *testing.T) {
	l := needLab(t)
	baseRef := l.pushBase(t, "switch-users",
		"FROM alpine\n"+
			"RUN echo 'node:x:1000:1000::/home/node:/bin/sh' >> /etc/passwd && echo 'app:x:1001:1001::/srv/app:/bin/sh' >> /etc/passwd && "+
			"echo 'node:x:1000:' >> /etc/group && echo 'app:x:1001:' >> /etc/group && "+
			"mkdir -p /home/node/app /srv/app && echo '{}' > /home/node/app/package.json && cp /home/node/app/package.json /srv/app/ && "+
			"chown -R 1000:1000 /home/node && chown -R 1001:1001 /srv/app\n", newSecretSet())
	const write = `echo "//registry.npmjs.org/:_authToken=$NPM_TOKEN" > ~/.npmrc && cd {{DIR}} && npm ci`
	for _, tt := range []struct {
		name, run string // run: the RUN's command, {{USER}} and {{DIR}} filled in
		program   string // the program the check names
	}{
		{name: "su -c", run: "su {{USER}} -c '" + write + "'", program: "su"},
		{name: "su - -c", run: `su - {{USER}} -c "echo //registry.npmjs.org/:_authToken=$NPM_TOKEN > .npmrc && cd {{DIR}} && npm ci"`, program: "su"},
		{name: "gosu sh -c", run: "gosu {{USER}} sh -c '" + write + "'", program: "gosu"},
		{name: "gosu npm config set", run: "cd {{DIR}} && gosu {{USER}} npm config set //registry.npmjs.org/:_authToken $NPM_TOKEN && gosu {{USER}} npm ci", program: "gosu"},
		{name: "su-exec USER:GROUP sh -c", run: "su-exec {{USER}}:{{USER}} sh -c '" + write + "'", program: "su-exec"},
		{name: "sudo -u sh -c", run: `sudo -u {{USER}} sh -c "echo //registry.npmjs.org/:_authToken=$NPM_TOKEN > ~/.npmrc && cd {{DIR}} && npm ci"`, program: "sudo"},
		{name: "sudo -E -H -u npm config set", run: "cd {{DIR}} && sudo -E -H -u {{USER}} npm config set //registry.npmjs.org/:_authToken $NPM_TOKEN && sudo -E -H -u {{USER}} npm ci", program: "sudo"},
		{name: "runuser -u -- sh -c", run: "runuser -u {{USER}} -- sh -c '" + write + "'", program: "runuser"},
	} {
		for _, u := range []struct {
			user, dir string
			wantFail  bool
		}{
			{user: "node", dir: "/home/node/app"},
			{user: "app", dir: "/srv/app", wantFail: true},
		} {
			t.Run(tt.name+" as "+u.user, func(t *testing.T) {
				t.Parallel()
				secrets := newSecretSet()
				token := secrets.canary(t, "NPM_TOKEN")
				runSecrets.add(t.Name(), token.value)
				run := strings.NewReplacer("{{USER}}", u.user, "{{DIR}}", u.dir).Replace(tt.run)
				dockerfile := "FROM " + baseRef + "\nARG NPM_TOKEN\nRUN " + run + "\n"
				res, err := rewrite.Rewrite([]byte(dockerfile), rewrite.Config{})
				if err != nil || res.Err() != nil {
					t.Fatalf("the CLI's rewrite: %v %v", err, res.Err())
				}
				check := `/home/` + u.user + ` ] || { echo "hushbuild: ` + tt.program + ` does not run commands as ` + u.user
				if !strings.Contains(string(res.Output), check) {
					t.Fatalf("the CLI's rewrite does not check %s's HOME through %s:\n%s", u.user, tt.program, res.Output)
				}
				checkHomeGuardedBuilds(t, l, secrets, token, dockerfile, res.Output, u.wantFail,
					"hushbuild: "+tt.program+" does not run commands as "+u.user+" with HOME=/home/"+u.user, u.user+"'s HOME not /home/"+u.user)
			})
		}
	}
}
