package e2e

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hushbuild/hushbuild/internal/canary"
	"github.com/hushbuild/hushbuild/rewrite"
)

// googleKeyCanary is a random value in the form of a Google API key (the
// public key a distribution ships is the false positive suppressions are
// for). It is registered with the run's canaries.
func googleKeyCanary(t *testing.T, secrets *secretSet) string {
	t.Helper()
	b := canary.GoogleKey(t)
	v := secrets.canary(t, "GOOGLE_API_KEY")
	v.value = b
	v.needles = []string{v.value}
	v.hashes = []string{sha256Hex(v.value)}
	runSecrets.add(t.Name(), v.value)
	return v.value
}

// TestSuppressionThroughTheFrontend: through a real BuildKit, a
// suppressed HardcodedSecret builds (without the comment it stops), and a
// comment that suppresses every finding of a step with a secret does not
// weaken the build-time check: a leak still fails closed.
func TestSuppressionThroughTheFrontend(t *testing.T) {
	l := needLab(t)
	t.Run("suppressed error builds", func(t *testing.T) {
		t.Parallel()
		secrets := newSecretSet()
		key := googleKeyCanary(t, secrets)
		for _, suppressed := range []bool{false, true} {
			body := "FROM alpine\n"
			if suppressed {
				body += "# hushbuild:ignore=HardcodedSecret the public key the distribution ships\n"
			}
			body += "ENV GOOGLE_API_KEY=" + key + "\nRUN true\n"
			dockerfile := withSyntax(l.frontend, []byte(body))
			dir := t.TempDir()
			writeFile(t, dir, "Dockerfile", dockerfile)
			build := l.buildx(t, buildSpec{dir: dir, flags: l.baseImageFlags(t, []byte(body))})
			if suppressed {
				if build.err != nil {
					t.Fatalf("the suppressed Dockerfile does not build: %v\n%s", build.err, secrets.redact(build.out))
				}
				if !bytes.Contains(build.out, []byte("suppressed error by the comment on line 3")) {
					t.Errorf("the build does not warn about the suppressed error:\n%s", secrets.redact(build.out))
				}
				continue
			}
			checkOutputClean(t, secrets, "the refusal", build.out)
			if build.err == nil || !bytes.Contains(build.out, []byte(rewrite.RuleHardcodedSecret.Name)) {
				t.Fatalf("without the comment: err %v\n%s", build.err, secrets.redact(build.out))
			}
		}
	})
	t.Run("the proof still runs", func(t *testing.T) {
		t.Parallel()
		secrets := newSecretSet()
		value := secrets.canary(t, "API_TOKEN")
		body := "FROM alpine\n# hushbuild:ignore=SecretArg not a secret, we say\nARG API_TOKEN\n# hushbuild:ignore=SecretInLog,SecretWrittenToFile reviewed\nRUN awk 'BEGIN { print ENVIRON[\"API_TOKEN\"] }' > /etc/app-token\n"
		dockerfile := withSyntax(l.frontend, []byte(body))
		res, err := rewrite.Rewrite(bytes.Clone(dockerfile), rewrite.Config{})
		if err != nil || res.Err() != nil {
			t.Fatalf("the engine refuses the case (it must reach the build-time check): %v %v", err, res.Err())
		}
		dir := t.TempDir()
		writeFile(t, dir, "Dockerfile", dockerfile)
		flags := append(l.baseImageFlags(t, []byte(body)), "--secret", "id=API_TOKEN,env=HF_SECRET_VALUE")
		out := filepath.Join(t.TempDir(), "image.tar")
		build := l.buildx(t, buildSpec{dir: dir, flags: flags, env: []string{"HF_SECRET_VALUE=" + value.value}, output: out})
		checkFailedClosed(t, secrets, build, out, rewrite.RuleSecretInBuildOutput.Name, "secret API_TOKEN", "/etc/app-token")
	})
	t.Run(".hushbuild.yaml names a secret", func(t *testing.T) {
		t.Parallel()
		secrets := newSecretSet()
		value := secrets.canary(t, "INTERNAL_FEED")
		body := "FROM alpine\nARG INTERNAL_FEED\nRUN echo \"feed: ${#INTERNAL_FEED} characters\"\n"
		dockerfile := withSyntax(l.frontend, []byte(body))
		dir := t.TempDir()
		writeFile(t, dir, "Dockerfile", dockerfile)
		writeFile(t, dir, ".hushbuild.yaml", []byte("secrets: [INTERNAL_FEED]\n"))
		// A .dockerignore that leaves it out of the build does not hide it.
		writeFile(t, dir, ".dockerignore", []byte(".hushbuild.yaml\n"))
		flags := append(l.baseImageFlags(t, []byte(body)), "--build-arg", "INTERNAL_FEED="+value.value)
		build := l.buildx(t, buildSpec{dir: dir, flags: flags})
		checkOutputClean(t, secrets, "the refusal", build.out)
		if build.err == nil || !strings.Contains(string(build.out), "build-arg INTERNAL_FEED is a secret") {
			t.Fatalf("the secret build-arg was not refused: %v\n%s", build.err, secrets.redact(build.out))
		}
	})
}
