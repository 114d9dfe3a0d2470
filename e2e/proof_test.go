package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hushbuild/hushbuild/rewrite"
)

// proofCase is a Dockerfile that the static engine accepts but whose build
// would still put a secret somewhere the image, its cache or its
// provenance keeps: the build-time check must stop it. Every case is built
// twice: with the secret (the build fails with SecretInBuildOutput, the
// step's line, the path, the secret id and the encoding, and no output
// shows the value) and, as the positive control, with a public value in
// the secret's place (it builds).
type proofCase struct {
	name string
	// dockerfile is the Dockerfile; SECRET stands for what the step
	// writes: an expression giving the secret, or, in the control, a
	// public value.
	dockerfile string
	// secret and public replace SECRET.
	secret, public string
	// files are context files; SECRET is replaced in them too.
	files map[string]string
	// id is the secret's id; its value is a fresh canary, or special
	// (a value with characters that URL encoding changes).
	id      string
	special bool
	// build-args passed with the secret's value (a secret reaching the
	// provenance under a name that is not secret).
	buildArgValue string
	// want are the parts the error must name (beyond id, rule and
	// line): the path and the encoding.
	path, encoding string
	// line is the 1-based line of the step in dockerfile (before the
	// `# syntax=` line is added); 0 when the error names no line.
	line int
}

// inScript is cmd written into a script that the RUN then runs, with the
// script removed: a program the engine does not read, so that what cmd
// does with a secret is left to the build-time check. cmd holds no single
// quote.
func inScript(cmd string) string {
	return "printf '%s\\n' '" + cmd + "' > /tmp/w.sh && sh /tmp/w.sh && rm /tmp/w.sh"
}

var proofCases = []proofCase{
	{
		name:       "script writes the token",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\nCOPY auth.sh /usr/local/bin/auth.sh\nRUN sh /usr/local/bin/auth.sh && npm ci\n",
		files:      map[string]string{"auth.sh": "#!/bin/sh\necho \"//registry.example.com/:_authToken=SECRET\" > \"$HOME/.npmrc\"\n"},
		secret:     "${NPM_TOKEN}", public: "public-value",
		id: "NPM_TOKEN", path: "/root/.npmrc", encoding: "raw", line: 4,
	},
	{
		name:       "awk reads the environment",
		dockerfile: "FROM alpine\nARG API_TOKEN\nRUN awk 'BEGIN { print ENVIRON[\"SECRET\"] }' > /etc/app-token\n",
		secret:     "API_TOKEN", public: "HOME",
		id: "API_TOKEN", path: "/etc/app-token", encoding: "raw", line: 3,
	},
	{
		// The engine follows a secret read in the RUN's own text; a script
		// the RUN writes and runs is a program it does not read.
		name:       "half-migrated RUN runs a script that reads its own mount",
		dockerfile: "FROM alpine\nWORKDIR /app\nRUN --mount=type=secret,id=gh_token " + inScript("echo \"//npm.pkg.github.com/:_authToken=SECRET\" > .npmrc") + "\n",
		secret:     "$(cat /run/secrets/gh_token)", public: "${HOME}",
		id: "gh_token", path: "/app/.npmrc", encoding: "raw", line: 3,
	},
	{
		name:       "a script the RUN writes cds into a subdirectory",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\nWORKDIR /app\nRUN mkdir -p web && " + inScript("cd web && echo \"//registry.example.com/:_authToken=SECRET\" > .npmrc") + " && npm ci\n",
		secret:     "$NPM_TOKEN", public: "${HOME}",
		id: "NPM_TOKEN", path: "/app/web/.npmrc", encoding: "raw", line: 4,
	},
	{
		name:       "only base64 of it",
		dockerfile: "FROM alpine\nARG API_TOKEN\nRUN awk 'BEGIN { printf \"%s\", ENVIRON[\"SECRET\"] }' | base64 > /etc/token.b64\n",
		secret:     "API_TOKEN", public: "HOME",
		id: "API_TOKEN", path: "/etc/token.b64", encoding: "base64", line: 3,
	},
	{
		name:       "only URL-encoded",
		dockerfile: "FROM alpine\nARG DB_PASSWORD\nRUN awk 'BEGIN { printf \"password=%s\", ENVIRON[\"SECRET\"] }' | sed -e 's,/,%2F,g' -e 's,+,%2B,g' -e 's,@,%40,g' > /etc/db.conf\n",
		secret:     "DB_PASSWORD", public: "HOME",
		id: "DB_PASSWORD", special: true, path: "/etc/db.conf", encoding: "url", line: 3,
	},
	{
		name:       "a context file holding the value is copied",
		dockerfile: "FROM alpine\nARG API_TOKEN\nCOPY config.yml /app/config.yml\nRUN curl -H \"Authorization: Bearer $API_TOKEN\" https://api.example.com/\n",
		files:      map[string]string{"config.yml": "api:\n  url: https://api.example.com/\n  token: SECRET\n"},
		secret:     "<value>", public: "see-the-vault",
		id: "API_TOKEN", path: "/app/config.yml", encoding: "raw", line: 3,
	},
	{
		name:       "a secret passed again as a build-arg of another name",
		dockerfile: "FROM alpine\nARG API_TOKEN\nARG BUILD_NOTE\nLABEL note=$BUILD_NOTE\nRUN SECRET\n",
		secret:     "curl -H \"Authorization: Bearer $API_TOKEN\" https://api.example.com/", public: "true",
		id: "API_TOKEN", buildArgValue: "BUILD_NOTE", path: "", encoding: "raw",
	},
}

// TestProofCatchesLeaks: each case of proofCases fails closed with the
// error of SecretInBuildOutput, and builds with a public value.
func TestProofCatchesLeaks(t *testing.T) {
	l := needLab(t)
	for _, tc := range proofCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, leak := range []bool{true, false} {
				l.runProofCase(t, tc, leak)
			}
		})
	}
}

func (l *labSetup) runProofCase(t *testing.T, tc proofCase, leak bool) {
	t.Helper()
	secrets := newSecretSet()
	value := secrets.canary(t, tc.id)
	if tc.special {
		// Characters that URL encoding changes: the raw value is never
		// written, only its encoded form.
		value.value = value.value[:12] + "/+@" + value.value[12:]
		value.needles = []string{value.value}
		runSecrets.add(t.Name(), value.value)
	}
	fill := tc.public
	if leak {
		fill = tc.secret
		if fill == "<value>" {
			fill = value.value
		}
	}
	body := strings.ReplaceAll(tc.dockerfile, "SECRET", fill)
	dockerfile := withSyntax(l.frontend, []byte(body))
	res, err := rewrite.Rewrite(bytes.Clone(dockerfile), rewrite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Err() != nil {
		t.Fatalf("the engine refuses the case (it must reach the build-time check): %v", res.Err())
	}
	dir := t.TempDir()
	writeFile(t, dir, "Dockerfile", dockerfile)
	for name, content := range tc.files {
		writeFile(t, dir, name, []byte(strings.ReplaceAll(content, "SECRET", fill)))
	}
	flags := append(l.baseImageFlags(t, []byte(body)), "--secret", "id="+tc.id+",env=HF_SECRET_VALUE")
	if tc.buildArgValue != "" && leak {
		flags = append(flags, "--build-arg", tc.buildArgValue+"="+value.value)
	}
	out := filepath.Join(t.TempDir(), "image.tar")
	build := l.buildx(t, buildSpec{dir: dir, flags: flags, env: []string{"HF_SECRET_VALUE=" + value.value}, output: out, provenance: true})
	if !leak {
		checkOutputClean(t, secrets, "the control's output", build.out)
		if build.err != nil {
			t.Fatalf("control (public value): the build failed: %v\n%s", build.err, secrets.redact(build.out))
		}
		if rep := scan(t, out, secrets.verifySecrets()); !rep.Clean() {
			t.Errorf("control: the image holds the secret:%s", hitLines(rep))
		}
		return
	}
	wants := []string{rewrite.RuleSecretInBuildOutput.Name, "secret " + tc.id, tc.encoding + "-encoded"}
	if tc.path != "" {
		wants = append(wants, tc.path)
	}
	if tc.line > 0 {
		wants = append(wants, fmt.Sprintf("line %d:", tc.line+1))
	}
	checkFailedClosed(t, secrets, build, out, wants...)
}

// TestProofMasksLogs: a step that prints its secret (set -x, a SHELL with
// -x, env, cat of a generated credential file) builds, its output shows
// **** where the value was, and the tool still received the value.
func TestProofMasksLogs(t *testing.T) {
	l := needLab(t)
	cases := []struct{ name, dockerfile, id, tool string }{
		{"set -x", "FROM alpine\nARG API_TOKEN\nRUN set -x && curl -H \"Authorization: Bearer $API_TOKEN\" https://api.example.com/\n", "API_TOKEN", "curl"},
		{"SHELL with -x", "FROM alpine\nSHELL [\"/bin/sh\", \"-eux\", \"-c\"]\nARG API_TOKEN\nRUN curl -H \"Authorization: Bearer $API_TOKEN\" https://api.example.com/\n", "API_TOKEN", "curl"},
		{"env", "FROM alpine\nARG NPM_TOKEN\nRUN env | grep TOKEN; npm ci\n", "NPM_TOKEN", "npm"},
		{"cat of a generated file", "FROM alpine\nARG NPM_TOKEN\nRUN echo \"//registry.npmjs.org/:_authToken=${NPM_TOKEN}\" > /root/.npmrc && cat /root/.npmrc && npm ci && rm /root/.npmrc\n", "NPM_TOKEN", "npm"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			secrets := newSecretSet()
			value := secrets.canary(t, tc.id)
			dockerfile := withSyntax(l.frontend, []byte(tc.dockerfile))
			dir := t.TempDir()
			writeFile(t, dir, "Dockerfile", dockerfile)
			flags := append(l.baseImageFlags(t, []byte(tc.dockerfile)), "--secret", "id="+tc.id+",env=HF_SECRET_VALUE")
			out := filepath.Join(t.TempDir(), "image.tar")
			build := l.buildx(t, buildSpec{dir: dir, flags: flags, env: []string{"HF_SECRET_VALUE=" + value.value}, output: out, provenance: true})
			if build.err != nil {
				t.Fatalf("the build failed: %v\n%s", build.err, secrets.redact(build.out))
			}
			checkOutputClean(t, secrets, "the build output", build.out)
			if !bytes.Contains(build.out, []byte("****")) {
				t.Errorf("the output shows no mask: the command printed nothing?\n%s", secrets.redact(build.out))
			}
			if saw := secrets.toolsThatSaw(build.out)[tc.id]; len(saw) == 0 {
				t.Errorf("no tool received %s:\n%s", tc.id, secrets.redact(build.out))
			}
			if rep := scan(t, out, secrets.verifySecrets()); !rep.Clean() {
				t.Errorf("the image holds the secret:%s", hitLines(rep))
			}
		})
	}
}

// TestProofCacheMount: a step writes its secret into a cache mount (in a
// way the rewrite cannot see), which a later step would copy into the
// image: the writing step fails, and the file is gone from the cache, so
// that no later build (even through the stock frontend, which checks
// nothing) finds it there, while the step's other files stay.
func TestProofCacheMount(t *testing.T) {
	l := needLab(t)
	secrets := newSecretSet()
	value := secrets.canary(t, "API_TOKEN")
	cacheID := "hushbuild-test-" + randomSuffix(t)
	body := fmt.Sprintf("FROM alpine\nARG API_TOKEN\nRUN --mount=type=cache,id=%s,target=/cache awk 'BEGIN { print ENVIRON[\"API_TOKEN\"] }' > /cache/token && echo public-%s > /cache/public\nRUN --mount=type=cache,id=%s,target=/cache cp -r /cache /copied\n", cacheID, cacheID, cacheID)
	dir := t.TempDir()
	writeFile(t, dir, "Dockerfile", withSyntax(l.frontend, []byte(body)))
	flags := append(l.baseImageFlags(t, []byte(body)), "--secret", "id=API_TOKEN,env=HF_SECRET_VALUE")
	build := l.buildx(t, buildSpec{dir: dir, flags: flags, env: []string{"HF_SECRET_VALUE=" + value.value}, useCache: true})
	checkFailedClosed(t, secrets, build, "", "cache mount /cache", "/token", "API_TOKEN", "line 4")
	// The stock frontend copies what the cache holds now.
	// The cache id is not part of BuildKit's cache key: the command names
	// it too, so that this step is not taken from an earlier run's cache.
	after := fmt.Sprintf("FROM alpine\nRUN --mount=type=cache,id=%s,target=/cache echo reading %s && cp -r /cache /copied && cat /copied/*\n", cacheID, cacheID)
	dir2 := t.TempDir()
	writeFile(t, dir2, "Dockerfile", withSyntax(l.stock, []byte(after)))
	out := filepath.Join(t.TempDir(), "image.tar")
	stock := l.buildx(t, buildSpec{dir: dir2, flags: l.baseImageFlags(t, []byte(after)), output: out, useCache: true})
	if stock.err != nil {
		t.Fatalf("the stock build of the cache's content failed: %v\n%s", stock.err, secrets.redact(stock.out))
	}
	if rep := scan(t, out, secrets.verifySecrets()); !rep.Clean() {
		t.Errorf("the cache still holds the secret after the failed build:%s", hitLines(rep))
	}
	if !bytes.Contains(stock.out, []byte("public-"+cacheID)) {
		t.Errorf("the cache lost the step's other files:\n%s", secrets.redact(stock.out))
	}
}

// TestProofOnbuildFromBaseImage: a base image (built here, pushed to the
// lab registry) has an ONBUILD trigger that runs a program of the image
// with a secret mount, and the program writes the secret into the layer;
// a Dockerfile built FROM it through hushbuild fails closed. The rewrite
// reads the trigger but not the program: only the build-time check sees
// what it does.
func TestProofOnbuildFromBaseImage(t *testing.T) {
	l := needLab(t)
	secrets := newSecretSet()
	value := secrets.canary(t, "onbuild_token")
	baseRef := l.pushBase(t, "onbuild", "FROM alpine\nRUN printf '#!/bin/sh\\ncp /run/secrets/onbuild_token /etc/inherited-token\\n' > /usr/local/bin/setup-token && chmod +x /usr/local/bin/setup-token\nONBUILD RUN --mount=type=secret,id=onbuild_token setup-token\n", secrets)
	child := "FROM " + baseRef + "\nRUN echo built\n"
	dir2 := t.TempDir()
	writeFile(t, dir2, "Dockerfile", withSyntax(l.frontend, []byte(child)))
	build := l.buildx(t, buildSpec{dir: dir2, flags: []string{"--secret", "id=onbuild_token,env=HF_SECRET_VALUE"}, env: []string{"HF_SECRET_VALUE=" + value.value}})
	checkFailedClosed(t, secrets, build, "", rewrite.RuleSecretInBuildOutput.Name, "/etc/inherited-token", "secret onbuild_token")
}

// TestProofOddSecrets: a secret id that a path could not hold, and a
// binary secret file (NUL bytes, no trailing newline): the step that
// copies the file into its layer fails closed naming the id, and the same
// build without that copy builds.
func TestProofOddSecrets(t *testing.T) {
	l := needLab(t)
	secrets := newSecretSet()
	value := secrets.canary(t, "team/api.key")
	bin := make([]byte, 256)
	if _, err := rand.Read(bin); err != nil {
		t.Fatal(err)
	}
	bin[10], bin[100] = 0, 0
	copy(bin[64:], value.value)
	for _, leak := range []bool{true, false} {
		// The copy is in a script of the context, which the rewrite
		// cannot read: only the build-time check can stop it.
		body := "FROM alpine\nCOPY copy.sh /copy.sh\nRUN --mount=type=secret,id=team/api.key,target=/run/k sh -c 'wc -c < /run/k'\n"
		if leak {
			body = "FROM alpine\nCOPY copy.sh /copy.sh\nRUN --mount=type=secret,id=team/api.key,target=/run/k sh /copy.sh\n"
		}
		dir := t.TempDir()
		writeFile(t, dir, "Dockerfile", withSyntax(l.frontend, []byte(body)))
		writeFile(t, dir, "copy.sh", []byte("cp /run/k /etc/k.bin\n"))
		keyFile := writeFile(t, t.TempDir(), "key.bin", bin)
		flags := append(l.baseImageFlags(t, []byte(body)), "--secret", "id=team/api.key,src="+keyFile)
		build := l.buildx(t, buildSpec{dir: dir, flags: flags})
		if leak {
			checkFailedClosed(t, secrets, build, "", rewrite.RuleSecretInBuildOutput.Name, "secret team/api.key", "/etc/k.bin")
			continue
		}
		checkOutputClean(t, secrets, "the build output", build.out)
		if build.err != nil {
			t.Fatalf("the build without the copy failed: %v\n%s", build.err, secrets.redact(build.out))
		}
	}
}

// TestProofReviewedPaths holds paths found by review, each on the lab:
//   - a failed check must fail again when the same Dockerfile is built
//     with the build cache and another value of the secret (the step is
//     never taken from the cache, which holds the first value);
//   - a step writing the value to the wrapper's own output
//     (/proc/1/fd/1) does not reach the log unmasked;
//   - a cache mount written by a secret step keeps its files for a later
//     step of the same build, with and without --no-cache.
func TestProofReviewedPaths(t *testing.T) {
	l := needLab(t)
	t.Run("another value after a failed check", func(t *testing.T) {
		t.Parallel()
		secrets := newSecretSet()
		first := secrets.canary(t, "NPM_TOKEN")
		second := newCanary(t)
		secrets.all = append(secrets.all, &secretValue{id: "NPM_TOKEN (second)", value: second, needles: []string{second}})
		marker := newCanary(t)[4:16]
		body := "FROM alpine\nCOPY auth.sh /auth.sh\nRUN --mount=type=secret,id=NPM_TOKEN,env=NPM_TOKEN sh /auth.sh " + marker + "\n"
		dir := t.TempDir()
		writeFile(t, dir, "Dockerfile", withSyntax(l.frontend, []byte(body)))
		writeFile(t, dir, "auth.sh", []byte("printf '//npm.example.com/:_authToken=%s\\n' \"$NPM_TOKEN\" > /root/.npmrc\n"))
		flags := append(l.baseImageFlags(t, []byte(body)), "--secret", "id=NPM_TOKEN,env=HF_SECRET_VALUE")
		for i, v := range []string{first.value, second} {
			out := filepath.Join(t.TempDir(), "image.tar")
			build := l.buildx(t, buildSpec{dir: dir, flags: flags, env: []string{"HF_SECRET_VALUE=" + v}, output: out, useCache: true})
			t.Logf("build %d", i+1)
			checkFailedClosed(t, secrets, build, out, rewrite.RuleSecretInBuildOutput.Name)
		}
	})
	t.Run("write to the wrapper's output", func(t *testing.T) {
		t.Parallel()
		secrets := newSecretSet()
		value := secrets.canary(t, "API_TOKEN")
		body := "FROM alpine\nARG API_TOKEN\nRUN awk 'BEGIN { print ENVIRON[\"API_TOKEN\"] }' > /proc/1/fd/1 2>/dev/null; awk 'BEGIN { print ENVIRON[\"API_TOKEN\"] }' > /proc/1/fd/2 2>/dev/null; echo done\n"
		dir := t.TempDir()
		writeFile(t, dir, "Dockerfile", withSyntax(l.frontend, []byte(body)))
		flags := append(l.baseImageFlags(t, []byte(body)), "--secret", "id=API_TOKEN,env=HF_SECRET_VALUE")
		build := l.buildx(t, buildSpec{dir: dir, flags: flags, env: []string{"HF_SECRET_VALUE=" + value.value}})
		checkOutputClean(t, secrets, "the build output", build.out)
		if build.err != nil {
			t.Fatalf("the build failed: %v\n%s", build.err, secrets.redact(build.out))
		}
	})
	for _, noCache := range []bool{false, true} {
		t.Run(fmt.Sprintf("cache mount read later (no-cache %v)", noCache), func(t *testing.T) {
			t.Parallel()
			secrets := newSecretSet()
			value := secrets.canary(t, "API_TOKEN")
			id := "hushbuild-test-" + randomSuffix(t)
			body := fmt.Sprintf("FROM alpine\nRUN --mount=type=secret,id=API_TOKEN,env=API_TOKEN --mount=type=cache,id=%s,target=/root/.npm mkdir -p /root/.npm/_cacache && echo %s > /root/.npm/_cacache/hello.txt\nRUN --mount=type=cache,id=%s,target=/root/.npm cat /root/.npm/_cacache/hello.txt\n", id, id, id)
			dir := t.TempDir()
			writeFile(t, dir, "Dockerfile", withSyntax(l.frontend, []byte(body)))
			flags := append(l.baseImageFlags(t, []byte(body)), "--secret", "id=API_TOKEN,env=HF_SECRET_VALUE")
			build := l.buildx(t, buildSpec{dir: dir, flags: flags, env: []string{"HF_SECRET_VALUE=" + value.value}, useCache: !noCache})
			if build.err != nil {
				t.Fatalf("the build failed: %v\n%s", build.err, secrets.redact(build.out))
			}
		})
	}
}

// TestProofNestedShells: writes the engine may or may not follow (a nested
// shell with combined flags, a shell function's argument, a loop
// variable): whichever way, no build leaves the value in its image or
// output; a build that succeeds has a clean image, one that fails names
// SecretInBuildOutput.
func TestProofNestedShells(t *testing.T) {
	l := needLab(t)
	for name, run := range map[string]string{
		"sh -ec":   `RUN sh -ec 'echo "token=$API_TOKEN" > /etc/app.conf'`,
		"bash -lc": `RUN sh -lc 'printf "token=%s\n" "$API_TOKEN" > /etc/app.conf'`,
		"function": `RUN write() { echo "token=$1" > /etc/app.conf; }; write "$API_TOKEN"`,
		"for loop": `RUN for t in "$API_TOKEN"; do echo "token=$t" > /etc/app.conf; done`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			secrets := newSecretSet()
			value := secrets.canary(t, "API_TOKEN")
			body := "FROM alpine\nARG API_TOKEN\n" + run + "\n"
			dir := t.TempDir()
			writeFile(t, dir, "Dockerfile", withSyntax(l.frontend, []byte(body)))
			flags := append(l.baseImageFlags(t, []byte(body)), "--secret", "id=API_TOKEN,env=HF_SECRET_VALUE")
			out := filepath.Join(t.TempDir(), "image.tar")
			build := l.buildx(t, buildSpec{dir: dir, flags: flags, env: []string{"HF_SECRET_VALUE=" + value.value}, output: out, provenance: true})
			checkOutputClean(t, secrets, "the build output", build.out)
			if build.err != nil {
				if !strings.Contains(string(build.out), rewrite.RuleSecretInBuildOutput.Name) && !strings.Contains(string(build.out), rewrite.RuleCannotRewrite.Name) {
					t.Errorf("the build failed without naming the rule:\n%s", secrets.redact(build.out))
				}
				t.Logf("failed closed")
				return
			}
			if rep := scan(t, out, secrets.verifySecrets()); !rep.Clean() {
				t.Errorf("the build succeeded and its image holds the secret:%s", hitLines(rep))
			}
			t.Logf("built, clean")
		})
	}
}

// randomSuffix is 16 random hex digits, for names a test must not share
// with earlier runs (cache ids, image tags).
func randomSuffix(t *testing.T) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// pushBase builds dockerfile through the stock frontend and pushes it to
// the lab registry under a fresh tag of repo; it returns the reference.
func (l *labSetup) pushBase(t *testing.T, repo, dockerfile string, secrets *secretSet) string {
	t.Helper()
	ref := l.env.Registry + "/hushbuild-test/" + repo + ":" + randomSuffix(t)
	dir := t.TempDir()
	writeFile(t, dir, "Dockerfile", withSyntax(l.stock, []byte(dockerfile)))
	push := l.buildx(t, buildSpec{dir: dir, flags: append(l.baseImageFlags(t, []byte(dockerfile)), "--output", "type=image,name="+ref+",push=true,registry.insecure=true")})
	if push.err != nil {
		t.Fatalf("building the base image: %v\n%s", push.err, secrets.redact(push.out))
	}
	return ref
}

// checkOutputClean fails t where a build's output (what) shows a secret
// of secrets; it names the secrets, never their values.
func checkOutputClean(t *testing.T, secrets *secretSet, what string, out []byte) {
	t.Helper()
	if found := secrets.foundIn(out); len(found) > 0 {
		t.Errorf("%s shows %s", what, strings.Join(found, ", "))
	}
}

// checkFailedClosed asserts that build stopped, its output showing no
// secret and naming each of wants. archive, when not "", is the image the
// build was to write: a build that succeeded says whether it leaks.
func checkFailedClosed(t *testing.T, secrets *secretSet, build buildResult, archive string, wants ...string) {
	t.Helper()
	checkOutputClean(t, secrets, "the build output", build.out)
	if build.err == nil {
		if archive != "" {
			rep := scan(t, archive, secrets.verifySecrets())
			t.Fatalf("the build succeeded (image clean: %v):%s\n%s", rep.Clean(), hitLines(rep), secrets.redact(build.out))
		}
		t.Fatalf("the build succeeded:\n%s", secrets.redact(build.out))
	}
	for _, w := range wants {
		if !strings.Contains(string(build.out), w) {
			t.Errorf("the output lacks %q:\n%s", w, secrets.redact(build.out))
		}
	}
}
