package e2e

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestOnbuildFromBaseImage: a base image (built here, pushed to the lab
// registry) whose ONBUILD triggers copy the build context, use a secret
// ARG or copy a credential file run in the stage built FROM it. The
// frontend reads the triggers through its resolver, rewrites them with
// the Dockerfile, and the builder runs the rewritten ones: the build
// succeeds, npm gets the token, and neither the image nor the build
// cache holds it. The same Dockerfile built by the stock frontend leaks
// it (the positive control).
func TestOnbuildFromBaseImage(t *testing.T) {
	l := needLab(t)
	for _, tc := range []struct {
		name string
		base string
		// files are the context's files; {{VALUE}} is the token.
		files map[string]string
		// arg passes the token as a build-arg to the stock build and as
		// a secret to hushbuild's.
		arg string
		npm bool // npm reads the token
	}{{
		name:  "COPY . and npm ci",
		base:  "FROM alpine\nWORKDIR /app\nONBUILD COPY . /app/\nONBUILD RUN npm ci\n",
		files: map[string]string{".npmrc": "//registry.npmjs.org/:_authToken={{VALUE}}\n", "package.json": "{}\n"},
		npm:   true,
	}, {
		name:  "a copied .npmrc nothing needs",
		base:  "FROM alpine\nONBUILD COPY .npmrc /app/.npmrc\n",
		files: map[string]string{".npmrc": "//registry.npmjs.org/:_authToken={{VALUE}}\n"},
	}, {
		name: "a secret ARG written to ~/.npmrc",
		base: "FROM alpine\nWORKDIR /app\nRUN echo '{}' > package.json\nONBUILD ARG NPM_TOKEN\nONBUILD RUN echo \"//registry.npmjs.org/:_authToken=${NPM_TOKEN}\" > /root/.npmrc && npm ci\n",
		arg:  "NPM_TOKEN",
		npm:  true,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			secrets := newSecretSet()
			id := ".npmrc"
			if tc.arg != "" {
				id = tc.arg
			}
			value := secrets.canary(t, id)
			baseRef := l.pushBase(t, "onbuild-"+strings.ReplaceAll(strings.ToLower(strings.Fields(tc.name)[0]), ".", "dot"), tc.base, secrets)
			child := []byte("FROM " + baseRef + "\nRUN echo built\n")
			for _, stock := range []bool{true, false} {
				dir := t.TempDir()
				frontend := l.frontend
				if stock {
					frontend = l.stock
				}
				writeFile(t, dir, "Dockerfile", withSyntax(frontend, child))
				for name, content := range tc.files {
					writeFile(t, dir, name, []byte(strings.ReplaceAll(content, "{{VALUE}}", value.value)))
				}
				spec := buildSpec{dir: dir, output: filepath.Join(t.TempDir(), "image.tar"), provenance: true}
				if tc.arg != "" {
					spec.env = []string{"HF_SECRET_VALUE=" + value.value}
					if stock {
						spec.flags = []string{"--build-arg", tc.arg}
						spec.env = []string{tc.arg + "=" + value.value}
					} else {
						spec.flags = []string{"--secret", "id=" + tc.arg + ",env=HF_SECRET_VALUE"}
					}
				}
				if !stock {
					spec.cacheTo = cacheDir(spec.output)
				}
				build := l.buildx(t, spec)
				if build.err != nil {
					t.Fatalf("the build (stock: %v) failed: %v\n%s", stock, build.err, secrets.redact(build.out))
				}
				rep := scan(t, spec.output, secrets.verifySecrets())
				if stock {
					if rep.Clean() {
						t.Errorf("positive control: the stock image does not hold the token")
					}
					continue
				}
				checkOutputClean(t, secrets, "the hushbuild build output", build.out)
				if !rep.Clean() {
					t.Errorf("the hushbuild image holds the token:%s", hitLines(rep))
				}
				if rep := scan(t, spec.cacheTo, secrets.verifySecrets()); !rep.Clean() {
					t.Errorf("the hushbuild build cache holds the token:%s", hitLines(rep))
				}
				if saw := secrets.toolsThatSaw(build.out)[value.id]; tc.npm && !containsString(saw, "npm") {
					t.Errorf("npm did not get the token (%v):\n%s", saw, secrets.redact(build.out))
				}
				if !strings.Contains(string(build.out), "ONBUILD trigger") {
					t.Errorf("the build output does not report the rewritten trigger:\n%s", secrets.redact(build.out))
				}
			}
		})
	}
}
