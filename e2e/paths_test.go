package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hushbuild/hushbuild/rewrite"
)

// TestAssumedUserHome: `USER node` and `~/.npmrc` on a base image whose
// config sets no HOME (as node:20's does not): hushbuild assumes
// /home/node, and the rewritten RUN checks $HOME before it relies on it.
// Built through the hushbuild frontend and, as the CLI writes it, through
// the stock frontend (no build-time check there): both succeed, npm gets
// the token, and no layer, cache or provenance keeps it. When the user's
// home is elsewhere (/srv/app for USER app), the assumption is wrong: both
// builds stop at the check instead of leaving the file in a layer.
func TestAssumedUserHome(t *testing.T) {
	l := needLab(t)
	secrets := newSecretSet()
	token := secrets.canary(t, "NPM_TOKEN")
	baseRef := l.pushBase(t, "named-users",
		"FROM alpine\n"+
			"RUN echo 'node:x:1000:1000::/home/node:/bin/sh' >> /etc/passwd && echo 'app:x:1001:1001::/srv/app:/bin/sh' >> /etc/passwd && "+
			"echo 'node:x:1000:' >> /etc/group && echo 'app:x:1001:' >> /etc/group && "+
			"mkdir -p /home/node/app /srv/app && echo '{}' > /home/node/app/package.json && cp /home/node/app/package.json /srv/app/ && "+
			"chown -R 1000:1000 /home/node && chown -R 1001:1001 /srv/app\n", secrets)
	for _, tt := range []struct {
		name, user, workdir string
		wantFail            bool
	}{
		{name: "home as assumed", user: "node", workdir: "/home/node/app"},
		{name: "home elsewhere", user: "app", workdir: "/srv/app", wantFail: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dockerfile := "FROM " + baseRef + "\nARG NPM_TOKEN\nUSER " + tt.user + "\nWORKDIR " + tt.workdir + "\n" +
				"RUN echo \"//registry.npmjs.org/:_authToken=${NPM_TOKEN}\" > ~/.npmrc && npm ci\n"
			res, err := rewrite.Rewrite([]byte(dockerfile), rewrite.Config{})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(res.Output), `[ "$HOME" = /home/`+tt.user+` ]`) {
				t.Fatalf("the CLI's rewrite does not check the assumed home:\n%s", res.Output)
			}
			checkHomeGuardedBuilds(t, l, secrets, token, dockerfile, res.Output, tt.wantFail,
				"HOME is /srv/app, not /home/app", "HOME not /home/"+tt.user)
		})
	}
}

// TestReplayAsAnotherUser: example 420, a child stage built FROM the stage
// that wrote ~/.npmrc, as another user. The CLI's rewrite, built with the
// stock frontend (no build-time check there), replays the write with the
// HOME it was written with: the file it writes is the one the RUN removes,
// so no layer, cache entry or provenance field keeps the token, and npm in
// the parent still got it. (Before, the child's replay wrote
// /home/app/.npmrc, which stayed in its layer.)
func TestReplayAsAnotherUser(t *testing.T) {
	l := needLab(t)
	dir := filepath.Join(l.examplesDir(), "420-child-stage-other-user-home")
	original, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := rewrite.Rewrite(original, rewrite.Config{})
	if err != nil || res.Err() != nil {
		t.Fatalf("the CLI's rewrite: %v %v", err, res.Err())
	}
	secrets := newSecretSet()
	token := secrets.canary(t, "NPM_TOKEN")
	ctx := copyContext(t, dir)
	writeFile(t, ctx, "Dockerfile", withSyntax(l.stock, res.Output))
	out := filepath.Join(t.TempDir(), "image.tar")
	flags := append(l.baseImageFlags(t, original), "--secret", "id=NPM_TOKEN,env=NPM_TOKEN")
	build := l.buildx(t, buildSpec{dir: ctx, flags: flags, env: []string{"NPM_TOKEN=" + token.value},
		output: out, provenance: true, cacheTo: cacheDir(out)})
	checkOutputClean(t, secrets, "the build output", build.out)
	if build.err != nil {
		t.Fatalf("the build failed: %v\n%s", build.err, secrets.redact(build.out))
	}
	if rep := scan(t, out, secrets.verifySecrets()); !rep.Clean() {
		t.Errorf("the image holds the token:%s", hitLines(rep))
	}
	if rep := scanDir(t, cacheDir(out), secrets.verifySecrets()); rep != nil && !rep.Clean() {
		t.Errorf("the build cache holds the token:%s", hitLines(rep))
	}
	if saw := secrets.toolsThatSaw(build.out)[token.id]; !containsString(saw, "npm") {
		t.Errorf("npm did not get the token (tools that saw it: %v):\n%s", saw, secrets.redact(build.out))
	}
}

// checkHomeGuardedBuilds builds dockerfile through the hushbuild frontend
// and cliOutput (the CLI's rewrite of it) on the stock frontend, with the
// token as the NPM_TOKEN secret. With wantFail, each build must stop at
// the home check (its output holding failText) and, if it does not, its
// image must at least hold no token; otherwise each must succeed, npm
// must get the token, and neither the image nor the build cache may hold
// it.
func checkHomeGuardedBuilds(t *testing.T, l *labSetup, secrets *secretSet, token *secretValue, dockerfile string, cliOutput []byte, wantFail bool, failText, failWhy string) {
	t.Helper()
	for _, b := range []struct {
		what       string
		dockerfile []byte
	}{
		{"the hushbuild frontend", withSyntax(l.frontend, []byte(dockerfile))},
		{"the CLI's rewrite on the stock frontend", withSyntax(l.stock, cliOutput)},
	} {
		dir := t.TempDir()
		writeFile(t, dir, "Dockerfile", b.dockerfile)
		out := filepath.Join(t.TempDir(), "image.tar")
		build := l.buildx(t, buildSpec{dir: dir, flags: []string{"--secret", "id=NPM_TOKEN,env=NPM_TOKEN"}, env: []string{"NPM_TOKEN=" + token.value},
			output: out, provenance: true, cacheTo: cacheDir(out)})
		checkOutputClean(t, secrets, b.what+"'s build output", build.out)
		if wantFail {
			if build.err == nil {
				t.Errorf("%s: the build succeeded with %s", b.what, failWhy)
				if rep := scan(t, out, secrets.verifySecrets()); !rep.Clean() {
					t.Errorf("%s: and the image holds the token:%s", b.what, hitLines(rep))
				}
			} else if !strings.Contains(string(build.out), failText) {
				t.Errorf("%s: the build failed, but not at the home check:\n%s", b.what, secrets.redact(build.out))
			}
			continue
		}
		if build.err != nil {
			t.Fatalf("%s: the build failed: %v\n%s", b.what, build.err, secrets.redact(build.out))
		}
		if rep := scan(t, out, secrets.verifySecrets()); !rep.Clean() {
			t.Errorf("%s: the image holds the token:%s", b.what, hitLines(rep))
		}
		if rep := scanDir(t, cacheDir(out), secrets.verifySecrets()); rep != nil && !rep.Clean() {
			t.Errorf("%s: the build cache holds the token:%s", b.what, hitLines(rep))
		}
		if saw := secrets.toolsThatSaw(build.out)[token.id]; !containsString(saw, "npm") {
			t.Errorf("%s: npm did not get the token (tools that saw it: %v):\n%s", b.what, saw, secrets.redact(build.out))
		}
	}
}
