package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/hushbuild/hushbuild/migrate"
)

// migrateDockerfile is the Dockerfile the migration tests build: npm (the
// test base's stand-in) reports the NPM_TOKEN it sees; VERSION is a plain
// build-arg that must stay one. Each test's RUN differs (client): BuildKit
// runs identical steps of concurrent builds once, with the secrets of
// whichever build's session it asks, and npm would report the other test's
// token.
func migrateDockerfile(l *labSetup, client string) string {
	return "FROM " + l.testbase + "\nARG NPM_TOKEN\nARG VERSION=1\nRUN npm install && echo \"version=$VERSION client=" + client + "\"\n"
}

// migrateDir writes files into a new directory and migrates it with -w's
// library call, the hushbuild frontend of the lab in the # syntax= line.
func migrateDir(t *testing.T, l *labSetup, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		writeFile(t, dir, name, []byte(data))
	}
	res, err := migrate.Dir(dir, migrate.Options{Frontend: l.frontend})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) > 0 || len(res.Notes) > 0 {
		t.Fatalf("migrate: errors %v, notes %v", res.Errors, res.Notes)
	}
	for _, f := range res.Files {
		if err := os.WriteFile(f.Path, f.New, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// checkMigratedBuild asserts that a build of a migrated file succeeded,
// that npm saw NPM_TOKEN, that VERSION stayed a build-arg, that the output
// shows no secret and that verify finds none in image.
func checkMigratedBuild(t *testing.T, secrets *secretSet, res buildResult, image string) {
	t.Helper()
	text := secrets.redact(res.out)
	if res.err != nil {
		t.Fatalf("the build failed: %v\n%s", res.err, text)
	}
	checkOutputClean(t, secrets, "the build output", res.out)
	if saw := secrets.toolsThatSaw(res.out); !containsString(saw["NPM_TOKEN"], "npm") {
		t.Errorf("npm did not see NPM_TOKEN (tools that saw secrets: %v):\n%s", saw, text)
	}
	if !strings.Contains(text, "version=2") {
		t.Errorf("the plain build-arg VERSION did not reach the build:\n%s", text)
	}
	if !strings.Contains(text, "--mount=type=secret,id=NPM_TOKEN") {
		t.Errorf("the hushbuild frontend did not run the build:\n%s", text)
	}
	rep := scan(t, image, secrets.verifySecrets())
	if !rep.Clean() {
		t.Errorf("verify finds a secret in the image:%s", hitLines(rep))
	}
}

// TestMigrateBake migrates a bake file that passes NPM_TOKEN as an arg and
// builds it with `docker buildx bake` on the lab's builder.
func TestMigrateBake(t *testing.T) {
	l := needLab(t)
	t.Parallel()
	secrets := newSecretSet()
	canary := secrets.canary(t, "NPM_TOKEN")
	legacyBake := `variable "NPM_TOKEN" {}

target "app" {
  context = "."
  args = {
    NPM_TOKEN = "${NPM_TOKEN}" # to be migrated
    VERSION   = "2"
  }
}
`
	// Before: the Dockerfile names the frontend, the bake file still passes
	// the build-arg. The frontend stops the build, naming the flag.
	legacy := t.TempDir()
	writeFile(t, legacy, "Dockerfile", withSyntax(l.frontend, []byte(migrateDockerfile(l, "bake-legacy"))))
	writeFile(t, legacy, "docker-bake.hcl", []byte(legacyBake))
	before := l.run(t, buildSpec{dir: legacy, env: []string{"NPM_TOKEN=" + canary.value}}, "docker", []string{
		"buildx", "bake", "--progress=plain", "-f", "docker-bake.hcl", "--set", "app.no-cache=true", "--set", "app.output=type=cacheonly", "app",
	})
	checkFailedClosed(t, secrets, before, "", "--secret id=NPM_TOKEN,env=NPM_TOKEN")
	if bytes.Contains(before.out, []byte("hushbuild-probe")) {
		t.Errorf("a command ran before the build stopped:\n%s", secrets.redact(before.out))
	}

	dir := migrateDir(t, l, map[string]string{
		"Dockerfile":      migrateDockerfile(l, "bake"),
		"docker-bake.hcl": legacyBake,
	})
	bake, err := os.ReadFile(filepath.Join(dir, "docker-bake.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(bake), `secret = ["id=NPM_TOKEN,env=NPM_TOKEN"]`) || strings.Contains(string(bake), "NPM_TOKEN = ") {
		t.Fatalf("the bake file is not migrated:\n%s", bake)
	}
	archive := filepath.Join(t.TempDir(), "image.tar")
	res := l.run(t, buildSpec{dir: dir, env: []string{"NPM_TOKEN=" + canary.value}}, "docker", []string{
		"buildx", "bake", "--progress=plain", "-f", "docker-bake.hcl", "--allow=fs.write=" + filepath.Dir(archive),
		"--set", "app.no-cache=true", "--set", "app.output=type=oci,dest=" + archive, "app",
	})
	checkMigratedBuild(t, secrets, res, archive)
}

// TestMigrateCompose migrates a compose file that passes NPM_TOKEN as a
// build arg and builds it with `docker compose build`. Compose hands the
// build to buildx bake, on the lab's builder; without a docker daemon the
// image is pushed to the lab registry (--push) instead of loaded.
func TestMigrateCompose(t *testing.T) {
	l := needLab(t)
	t.Parallel()
	secrets := newSecretSet()
	canary := secrets.canary(t, "NPM_TOKEN")
	tag := make([]byte, 6)
	if _, err := rand.Read(tag); err != nil {
		t.Fatal(err)
	}
	image := l.env.Registry + "/hushbuild/e2e-migrate-compose:" + hex.EncodeToString(tag)
	dir := migrateDir(t, l, map[string]string{
		"Dockerfile": migrateDockerfile(l, "compose"),
		"compose.yaml": `services:
  app:
    image: ` + image + `
    build:
      context: .
      args:
        NPM_TOKEN: ${NPM_TOKEN} # to be migrated
        VERSION: "2"
`,
	})
	compose, err := os.ReadFile(filepath.Join(dir, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(compose), "secrets:\n        - NPM_TOKEN\n") || !strings.Contains(string(compose), "  NPM_TOKEN:\n    environment: NPM_TOKEN\n") {
		t.Fatalf("the compose file is not migrated:\n%s", compose)
	}
	res := l.run(t, buildSpec{dir: dir, env: []string{"NPM_TOKEN=" + canary.value}}, "docker", []string{
		"compose", "--progress=plain", "build", "--no-cache", "--push",
	})
	checkMigratedBuild(t, secrets, res, image)
}

// TestMigrateScripts migrates a shell script, a Makefile and a GitLab CI
// job that pass NPM_TOKEN with --build-arg, then runs each against the
// lab's builder: the script with sh, the Makefile with make, and the CI
// job's script: lines with sh -e, as a GitLab runner's shell would (no
// GitLab here).
func TestMigrateScripts(t *testing.T) {
	l := needLab(t)
	build := `docker buildx build --progress=plain --no-cache --build-arg NPM_TOKEN=%s --build-arg VERSION=2 --output "type=oci,dest=%s" .`
	tests := []struct {
		name string
		file string
		text string
		cmd  func(dir string) (string, []string)
	}{
		{
			name: "shell", file: "build.sh",
			text: "#!/bin/sh\nset -eu\n" + fmt.Sprintf(build, `"$NPM_TOKEN"`, "$OUT") + "\n",
			cmd:  func(string) (string, []string) { return "sh", []string{"build.sh"} },
		},
		{
			name: "make", file: "Makefile",
			text: "image:\n\t" + fmt.Sprintf(build, "$(NPM_TOKEN)", "$(OUT)") + "\n",
			cmd:  func(string) (string, []string) { return "make", []string{"image"} },
		},
		{
			name: "gitlab", file: ".gitlab-ci.yml",
			text: "build:\n  script:\n    - " + fmt.Sprintf(build, "$NPM_TOKEN", "$OUT") + "\n",
			cmd: func(dir string) (string, []string) {
				data, err := os.ReadFile(filepath.Join(dir, ".gitlab-ci.yml"))
				if err != nil {
					t.Fatal(err)
				}
				var ci struct {
					Build struct {
						Script []string `yaml:"script"`
					} `yaml:"build"`
				}
				if err := yaml.Unmarshal(data, &ci); err != nil || len(ci.Build.Script) == 0 {
					t.Fatalf("the migrated .gitlab-ci.yml does not parse: %v\n%s", err, data)
				}
				return "sh", []string{"-ec", strings.Join(ci.Build.Script, "\n")}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			secrets := newSecretSet()
			canary := secrets.canary(t, "NPM_TOKEN")
			dir := migrateDir(t, l, map[string]string{
				"Dockerfile": migrateDockerfile(l, tt.name),
				tt.file:      tt.text,
			})
			data, err := os.ReadFile(filepath.Join(dir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(data), "--secret id=NPM_TOKEN,env=NPM_TOKEN --build-arg VERSION=2") {
				t.Fatalf("%s is not migrated:\n%s", tt.file, data)
			}
			archive := filepath.Join(t.TempDir(), "image.tar")
			name, args := tt.cmd(dir)
			res := l.run(t, buildSpec{dir: dir, env: []string{"NPM_TOKEN=" + canary.value, "OUT=" + archive}}, name, args)
			checkMigratedBuild(t, secrets, res, archive)
		})
	}
}
