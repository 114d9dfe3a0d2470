package e2e

import (
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/hushbuild/hushbuild/rewrite"
)

// TestCacheExportBesideLegacyBuild: a team migrating builds the legacy
// Dockerfile (the stock frontend, a credential file copied into a layer)
// and the same Dockerfile through hushbuild on one builder at the same
// time, two branches of one repository in CI. The final stage's COPY
// --from=build is keyed by BuildKit by the content it copies, the same in
// both builds, so BuildKit merged the two steps, and the hushbuild build's
// exported cache (mode=max) carried the legacy build's layers: the
// credential file and its secret. The frontend keys such steps apart (the
// frontend image as one more input): in a build whose steps get secrets
// (proof.Instrument) and in one where none does, whose copies it checks
// (proof.KeyApart). The exported cache holds no secret.
func TestCacheExportBesideLegacyBuild(t *testing.T) {
	l := needLab(t)
	for _, tc := range []struct {
		name string
		// stage is the build stage after its FROM and WORKDIR; file
		// the credential file of the context, with the secret in it.
		stage, file, content string
	}{
		{
			name:    "a RUN reads the copied .env",
			file:    ".env.production",
			content: "API_KEY=%s\n",
			stage: "COPY .env.production ./\n" +
				"RUN mkdir -p dist && set -a && . ./.env.production && set +a && test -n \"$API_KEY\" && cat nonce > /dev/null && sleep 3 && echo built > dist/index.js\n",
		},
		{
			name:    "no step gets a secret",
			file:    ".npmrc",
			content: "//registry.npmjs.org/:_authToken=%s\n",
			stage:   "COPY .npmrc ./\nCOPY nonce dist/\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testCacheExportBesideLegacyBuild(t, l, tc.file, tc.content, tc.stage)
		})
	}
}

func testCacheExportBesideLegacyBuild(t *testing.T, l *labSetup, file, content, stage string) {
	secrets := newSecretSet()
	key := secrets.canary(t, "API_KEY")
	body := "FROM " + l.testbase + " AS build\n" +
		"WORKDIR /app\n" +
		"COPY nonce ./\n" +
		stage +
		"\n" +
		"FROM " + l.testbase + "\n" +
		"WORKDIR /app\n" +
		"COPY --from=build /app/dist ./dist\n" +
		"CMD [\"ls\", \"dist\"]\n"
	res, err := rewrite.Rewrite([]byte(body), rewrite.Config{})
	if err != nil || res.Err() != nil {
		t.Fatalf("the CLI's rewrite: %v %v", err, res.Err())
	}
	ctx := t.TempDir()
	writeFile(t, ctx, file, []byte(fmt.Sprintf(content, key.value)))
	// A nonce per run keeps each step out of an earlier run's cache.
	nonce := strconv.FormatInt(time.Now().UnixNano(), 36)
	writeFile(t, ctx, "nonce", []byte(nonce))
	// BuildKit merges two builds' steps when the second is keyed while
	// the first is still running: the legacy build goes first, and its
	// last step keeps it running while the others reach their COPY.
	writeFile(t, ctx, "Dockerfile.legacy", withSyntax(l.stock, []byte(body+"RUN echo "+nonce+" && sleep 60\n")))
	writeFile(t, ctx, "Dockerfile.cli", withSyntax(l.stock, res.Output))
	writeFile(t, ctx, "Dockerfile", withSyntax(l.frontend, []byte(body)))

	build := func(name, dockerfile string, flags ...string) (chan buildResult, string) {
		out := filepath.Join(tempDir(t), name+".tar")
		done := make(chan buildResult, 1)
		go func() {
			done <- l.buildx(t, buildSpec{dir: ctx, useCache: true, flags: append([]string{"-f", dockerfile}, flags...),
				output: out, provenance: true, cacheTo: cacheDir(out)})
		}()
		return done, out
	}
	legacyDone, legacyOut := build("legacy", "Dockerfile.legacy")
	// Time for the legacy build to key its COPY (a few seconds on an idle
	// builder) before the others start: started together, one that
	// finished before the legacy build keyed its COPY shared nothing.
	time.Sleep(20 * time.Second)
	cliDone, cliOut := build("cli-on-stock", "Dockerfile.cli", "--secret", "id="+file+",src="+file)
	hushDone, hushOut := build("hushbuild", "Dockerfile")
	results := map[string]buildResult{"the legacy build": <-legacyDone, "the CLI's rewrite on the stock frontend": <-cliDone, "the hushbuild build": <-hushDone}
	for what, r := range results {
		if r.err != nil {
			t.Fatalf("%s failed: %v\n%s", what, r.err, secrets.redact(r.out))
		}
	}
	checkOutputClean(t, secrets, "the hushbuild build output", results["the hushbuild build"].out)

	// Controls: the legacy build's cache holds the .env layer, and the
	// stock frontend's build of the CLI's rewrite (no build-time check, no
	// keys apart) exported it too: the two builds did share the step.
	if rep := scanDir(t, cacheDir(legacyOut), secrets.verifySecrets()); rep == nil || rep.Clean() {
		t.Error("control: the legacy build's exported cache holds no canary")
	}
	if rep := scanDir(t, cacheDir(cliOut), secrets.verifySecrets()); rep == nil || rep.Clean() {
		t.Error("control: the stock frontend's build of the CLI's rewrite exported no legacy layer: the builds did not share the step, and the test shows nothing")
	} else {
		t.Logf("control: the stock frontend's build of the CLI's rewrite exported the legacy build's layer:%s", hitLines(rep))
	}

	if rep := scan(t, hushOut, secrets.verifySecrets()); !rep.Clean() {
		t.Errorf("the hushbuild image holds the secret:%s", hitLines(rep))
	}
	if rep := scanDir(t, cacheDir(hushOut), secrets.verifySecrets()); rep == nil {
		t.Error("the hushbuild build exported no cache")
	} else if !rep.Clean() {
		t.Errorf("the hushbuild build's exported cache holds the secret (a legacy build's layer):%s", hitLines(rep))
	}
}
