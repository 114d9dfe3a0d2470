package e2e

import (
	"path/filepath"
	"testing"
)

// TestSyntaxLineIsNoEnforcement shows what docs/integration.md says to
// platform teams: the `# syntax=` line is the Dockerfile's choice, and a
// caller's --build-arg BUILDKIT_SYNTAX makes BuildKit run another frontend
// (hushbuild never runs, the secret build-arg lands in the image). The
// frontend named by the build invocation itself (buildctl --frontend
// gateway.v0 --opt source=IMAGE, as a CI template can pin it) runs whatever
// the build-args say, and stops the same build.
func TestSyntaxLineIsNoEnforcement(t *testing.T) {
	l := needLab(t)
	secrets := newSecretSet()
	token := secrets.canary(t, "NPM_TOKEN")
	body := "FROM alpine\nARG NPM_TOKEN\nRUN echo built\n"
	dir := t.TempDir()
	writeFile(t, dir, "Dockerfile", withSyntax(l.frontend, []byte(body)))

	t.Run("BUILDKIT_SYNTAX overrides the syntax line", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "image.tar")
		flags := append(l.baseImageFlags(t, []byte(body)), "--build-arg", "NPM_TOKEN="+token.value, "--build-arg", "BUILDKIT_SYNTAX="+l.stock)
		res := l.buildx(t, buildSpec{dir: dir, flags: flags, output: out, provenance: true})
		if res.err != nil {
			t.Fatalf("the build failed: %v\n%s", res.err, secrets.redact(res.out))
		}
		if rep := scan(t, out, secrets.verifySecrets()); rep.Clean() {
			t.Errorf("the image does not hold the build-arg: did hushbuild run after all?\n%s", secrets.redact(res.out))
		}
	})

	t.Run("the frontend named by the invocation", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "image.tar")
		flags := []string{"--frontend", "gateway.v0", "--opt", "source=" + l.frontend,
			"--local", "context=" + dir, "--local", "dockerfile=" + dir,
			"--opt", "context:alpine=docker-image://" + l.testbase,
			"--opt", "build-arg:NPM_TOKEN=" + token.value, "--opt", "build-arg:BUILDKIT_SYNTAX=" + l.stock}
		res := l.buildctl(t, buildSpec{dir: dir, flags: flags, output: out, provenance: true})
		checkFailedClosed(t, secrets, res, out, "build-arg NPM_TOKEN is a secret")
	})
}
