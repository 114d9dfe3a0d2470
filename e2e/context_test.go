package e2e

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hushbuild/hushbuild/rewrite"
)

// TestContextCredentialFiles: a credential file that sits in the build
// context, which the Dockerfile never names, and that `COPY . .` would put
// in a layer. Built through hushbuild with the legacy build command
// unchanged: the tool still reads it, and no canary is in the image, its
// build cache, its provenance or the build output. The stock build of the
// same context is the positive control (it leaks).
func TestContextCredentialFiles(t *testing.T) {
	l := needLab(t)
	cases := []struct {
		name, file, content, dockerfile, tool string
		wantFail                              string // a rule the hushbuild build must stop on
		extra                                 map[string]string
		stockClean                            bool // the stock build leaks nothing either (a .dockerignore)
	}{
		{"npmrc read by npm", ".npmrc", "//registry.npmjs.org/:_authToken=CANARY\n",
			"FROM alpine\nWORKDIR /app\nCOPY . .\nRUN npm ci\n", "npm", "", nil, false},
		{"a named copy deleted after use and no build flag", ".npmrc", "//registry.npmjs.org/:_authToken=CANARY\n",
			"FROM alpine\nWORKDIR /app\nCOPY .npmrc package.json ./\nRUN npm ci && rm -f .npmrc\n", "npm", "", nil, false},
		{"netrc read by pip", ".netrc", "machine pypi.example.com login deploy password CANARY\n",
			"FROM alpine\nWORKDIR /app\nCOPY . .\nENV NETRC=/app/.netrc\nRUN pip install --index-url https://pypi.example.com/simple app\n", "pip", "", nil, false},
		{"git-credentials in a subdirectory", "config/.git-credentials", "https://ci:CANARY@git.example.com\n",
			"FROM alpine\nCOPY config/ /etc/app/\nRUN git config --global credential.helper 'store --file /etc/app/.git-credentials' && git clone https://git.example.com/acme/lib.git /tmp/lib\n", "git", "", nil, false},
		{"a RUN copies the mounted file into the layer", ".npmrc", "//registry.npmjs.org/:_authToken=CANARY\n",
			"FROM alpine\nWORKDIR /app\nCOPY . .\nRUN sh -c 'cat /app/.npmrc > /root/.npmrc' && npm ci\n", "", rewrite.RuleCannotRewrite.Name, nil, false}, // the engine sees the nested copy and refuses it before the build-time check would
		{"a RUN copies the whole bind-mounted context", ".npmrc", "//registry.npmjs.org/:_authToken=CANARY\n",
			"FROM alpine\nWORKDIR /app\nRUN --mount=type=bind,target=/src cp -a /src/. /app/\n", "", rewrite.RuleSecretInBuildOutput.Name, nil, false},
		{"a git checkout's .git/config", ".git/config", "[http \"https://github.com/\"]\n\textraheader = AUTHORIZATION: basic CANARY\n",
			"FROM alpine\nWORKDIR /app\nCOPY . .\nRUN ls -a\n", "", "", nil, false},
		{"an env file left for run time", ".env", "API_KEY=CANARY\n",
			"FROM alpine\nWORKDIR /app\nCOPY . .\nCMD [\"sh\", \"-c\", \"cat .env\"]\n", "", rewrite.RuleSecretFileInImage.Name, nil, false},
		{"Dockerfile.dockerignore lets in what .dockerignore keeps out", ".npmrc", "//registry.npmjs.org/:_authToken=CANARY\n",
			"FROM alpine\nWORKDIR /app\nCOPY . .\nRUN npm ci\n", "npm", "",
			map[string]string{".dockerignore": ".npmrc\n", "Dockerfile.dockerignore": "*.log\n"}, false},
		{"aws credentials left for run time", ".aws/credentials", "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = CANARY\n",
			"FROM alpine\nWORKDIR /app\nCOPY . .\nCMD [\"ls\"]\n", "", rewrite.RuleSecretFileInImage.Name, nil, false},
		{"aws credentials with omit-runtime-secret-files", ".aws/credentials", "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = CANARY\n",
			"# hushbuild=omit-runtime-secret-files=true\nFROM alpine\nWORKDIR /app\nCOPY . .\nRUN ls -a .aws\n", "", "", nil, false},
		{"an ssh key with omit-runtime-secret-files", "id_rsa", "-----BEGIN OPENSSH PRIVATE KEY-----\nCANARY\n-----END OPENSSH PRIVATE KEY-----\n",
			"# hushbuild=omit-runtime-secret-files=true\nFROM alpine\nWORKDIR /app\nCOPY . .\nRUN ls -a\n", "", "", nil, false},
		{"a plain .dockerignore keeps the key out", "id_rsa", "-----BEGIN OPENSSH PRIVATE KEY-----\nCANARY\n-----END OPENSSH PRIVATE KEY-----\n",
			"FROM alpine\nWORKDIR /app\nCOPY . .\nRUN ls -a\n", "", "", map[string]string{".dockerignore": "id_rsa\n"}, true},
		{"a credential directory copied and deleted", ".aws/credentials", "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = CANARY\n",
			"FROM alpine\nCOPY .aws /root/.aws\nRUN test -s /root/.aws/credentials && rm -rf /root/.aws\n", "", "", nil, false},
		{"a named copy owned by a user named in --chown", ".npmrc", "//registry.npmjs.org/:_authToken=CANARY\n",
			"FROM alpine\nRUN echo 'app:x:1000:1000::/home/app:/bin/sh' >> /etc/passwd && echo 'app:x:1000:' >> /etc/group && mkdir -p /home/app && chown 1000:1000 /home/app\nUSER app\nWORKDIR /home/app\nCOPY --chown=app:app .npmrc package.json ./\nRUN npm ci && rm -f .npmrc\n", "npm", "", nil, false},
		{"a private key copied into the trust store", "certs/corp.pem", "-----BEGIN PRIVATE KEY-----\nCANARY\n-----END PRIVATE KEY-----\n",
			"FROM alpine\nCOPY certs/corp.pem /usr/local/share/ca-certificates/\nRUN ls /usr/local/share/ca-certificates\n", "", rewrite.RuleSecretInBuildOutput.Name, nil, false},
		{"maven settings.xml with a password", "settings.xml", "<settings><servers><server><id>corp</id><username>ci</username><password>CANARY</password></server></servers></settings>\n",
			"FROM alpine\nCOPY settings.xml /usr/share/maven/conf/\nRUN grep -q '<password>' /usr/share/maven/conf/settings.xml\n", "", "", nil, false},
		// A script a RUN sources that exports a secret-named variable is
		// an env file whatever its name: the frontend reads it (the
		// rewrite says which files RUNs source), mounts it and keeps it
		// out of the layer; the tool still gets the variable.
		{"a sourced script that exports a token", "ci/build-secrets.sh", "export NPM_TOKEN=CANARY\n",
			"FROM alpine\nWORKDIR /app\nRUN echo '{}' > package.json\nCOPY ci/build-secrets.sh /tmp/\nRUN . /tmp/build-secrets.sh && npm ci && rm -f /tmp/build-secrets.sh\n", "npm", "", nil, false},
		{"a sourced script a broad copy brought in", "ci/build-secrets.sh", "export NPM_TOKEN=CANARY\n",
			"FROM alpine\nWORKDIR /app\nRUN echo '{}' > package.json\nCOPY . .\nRUN . ./ci/build-secrets.sh && npm ci && rm -f ci/build-secrets.sh\n", "npm", "", nil, false},
		{"a NuGet.Config with a password in a broad copy", "NuGet.Config", "<configuration><packageSourceCredentials><corp><add key=\"ClearTextPassword\" value=\"CANARY\" /></corp></packageSourceCredentials></configuration>\n",
			"FROM alpine\nWORKDIR /src\nCOPY . .\nRUN grep -q ClearTextPassword /src/NuGet.Config\n", "", rewrite.RuleSecretFileInImage.Name, nil, false}, // a credential file left for run time, as .env
		// A tool's credential file under a name of the repository's own,
		// known by its content: like an .npmrc, out of the copy, on a
		// mount where the RUN copies it, and out of the image.
		{"an npmrc under another name copied to ~/.npmrc", "docker/npmrc", "//registry.npmjs.org/:_authToken=CANARY\n",
			"FROM alpine\nWORKDIR /app\nCOPY . .\nRUN cp docker/npmrc ~/.npmrc && npm ci\n", "npm", "", nil, false},
		{"a netrc without its dot moved to ~/.netrc", "netrc", "machine pypi.example.com login deploy password CANARY\n",
			"FROM alpine\nWORKDIR /app\nCOPY . .\nRUN mv netrc /root/.netrc && pip install --index-url https://pypi.example.com/simple app\n", "pip", "", nil, false},
		{"a pattern copy picks it up", "config/.npmrc", "//registry.npmjs.org/:_authToken=CANARY\n",
			"FROM alpine\nWORKDIR /app\nCOPY config/.npm* ./\nRUN npm ci\n", "", rewrite.RuleCannotRewrite.Name, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			secrets := newSecretSet()
			value := secrets.canary(t, tc.file)
			content := strings.ReplaceAll(tc.content, "CANARY", value.value)
			value.hashes = append(value.hashes, sha256Hex(content))
			secrets.byFile[tc.file] = value
			flags := l.baseImageFlags(t, []byte(tc.dockerfile))

			build := func(frontend string) (buildResult, string) {
				dir := t.TempDir()
				writeFile(t, dir, "Dockerfile", withSyntax(frontend, []byte(tc.dockerfile)))
				writeFile(t, dir, tc.file, []byte(content))
				writeFile(t, dir, "package.json", []byte("{}\n"))
				for name, content := range tc.extra {
					writeFile(t, dir, name, []byte(content))
				}
				out := filepath.Join(t.TempDir(), "image.tar")
				return l.buildx(t, buildSpec{dir: dir, flags: flags, output: out, provenance: true, cacheTo: cacheDir(out)}), out
			}
			if tc.wantFail == "" {
				stock, stockOut := build(l.stock)
				if stock.err != nil {
					t.Fatalf("the stock build failed: %v\n%s", stock.err, secrets.redact(stock.out))
				}
				if rep := scan(t, stockOut, secrets.verifySecrets()); rep.Clean() != tc.stockClean {
					t.Errorf("control: the stock image holds the file's secret: %v, want %v", !rep.Clean(), !tc.stockClean)
				}
			}
			hush, hushOut := build(l.frontend)
			if tc.wantFail != "" {
				checkFailedClosed(t, secrets, hush, hushOut, tc.wantFail)
				return
			}
			checkOutputClean(t, secrets, "the hushbuild build output", hush.out)
			if hush.err != nil {
				t.Fatalf("the hushbuild build failed: %v\n%s", hush.err, secrets.redact(hush.out))
			}
			if rep := scan(t, hushOut, secrets.verifySecrets()); !rep.Clean() {
				t.Errorf("the hushbuild image holds the secret:%s", hitLines(rep))
			}
			if rep := scan(t, cacheDir(hushOut), secrets.verifySecrets()); !rep.Clean() {
				t.Errorf("the hushbuild build cache holds the secret:%s", hitLines(rep))
			}
			if saw := secrets.toolsThatSaw(hush.out)[value.id]; tc.tool != "" && !containsString(saw, tc.tool) {
				t.Errorf("%s did not get the credential (tools that saw it: %v):\n%s", tc.tool, saw, secrets.redact(hush.out))
			}
		})
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestContextOnbuildCopyKey: a base image whose ONBUILD trigger copies
// the whole context, and a private key in the context under a plain name.
// The Dockerfile itself reads nothing of the context, so a search limited
// to the paths it names would search nothing: with a trigger, the whole
// context is searched, the key is a credential file that the trigger's
// copy would put in the image, and the build fails closed.
func TestContextOnbuildCopyKey(t *testing.T) {
	l := needLab(t)
	secrets := newSecretSet()
	key := opensshKey(t)
	secrets.all = append(secrets.all, &secretValue{id: "deploy/github_deploy", value: key, needles: append([]string{key}, pemBodyLines(key)...)})
	baseRef := l.pushBase(t, "onbuild-copy-all", "FROM alpine\nONBUILD COPY . /app/\n", secrets)
	dir := t.TempDir()
	writeFile(t, dir, "Dockerfile", withSyntax(l.frontend, []byte("FROM "+baseRef+"\nRUN echo built\n")))
	writeFile(t, dir, "deploy/github_deploy", []byte(key))
	out := filepath.Join(t.TempDir(), "image.tar")
	build := l.buildx(t, buildSpec{dir: dir, output: out})
	checkFailedClosed(t, secrets, build, out, "deploy/github_deploy")
}

// TestContextRemote: a git repository and an archive served over HTTP as
// the build context, holding a .npmrc that `COPY . .` would put in the
// image (the stock frontend's image holds it: the positive control). From
// git, the frontend walks the context as the build fetches it, npm still
// reads the token, and neither the image nor the build cache holds it. An
// archive is unpacked into a layer of its own, which an exported build
// cache (mode=max) holds whatever the Dockerfile copies: that build fails
// closed.
func TestContextRemote(t *testing.T) {
	l := needLab(t)
	secrets := newSecretSet()
	value := secrets.canary(t, ".npmrc")
	npmrc := "//registry.npmjs.org/:_authToken=" + value.value + "\n"
	value.hashes = append(value.hashes, sha256Hex(npmrc))
	body := "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN npm ci\n"
	files := func(frontend string) map[string][]byte {
		return map[string][]byte{"Dockerfile": withSyntax(frontend, []byte(body)), ".npmrc": []byte(npmrc), "package.json": []byte("{}\n")}
	}
	gitURL := gitServer(t, map[string]map[string][]byte{"hushbuild.git": files(l.frontend), "stock.git": files(l.stock)})
	tarballs := map[string][]byte{"/hushbuild.tar.gz": tarball(t, files(l.frontend)), "/stock.tar.gz": tarball(t, files(l.stock))}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, ok := tarballs[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/gzip")
		w.Write(data)
	}))
	t.Cleanup(srv.Close)
	flags := l.baseImageFlags(t, []byte(body))
	for _, tc := range []struct {
		name, hush, stock string
		fails             bool
	}{
		{"git", gitURL + "/hushbuild.git", gitURL + "/stock.git", false},
		{"http archive", srv.URL + "/hushbuild.tar.gz", srv.URL + "/stock.tar.gz", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stockOut := filepath.Join(t.TempDir(), "image.tar")
			stock := l.buildx(t, buildSpec{dir: t.TempDir(), context: tc.stock, flags: flags, output: stockOut})
			if stock.err != nil {
				t.Fatalf("the stock build failed: %v\n%s", stock.err, secrets.redact(stock.out))
			}
			if rep := scan(t, stockOut, secrets.verifySecrets()); rep.Clean() {
				t.Errorf("positive control: the stock image does not hold the token")
			}
			out := filepath.Join(t.TempDir(), "image.tar")
			hush := l.buildx(t, buildSpec{dir: t.TempDir(), context: tc.hush, flags: flags, output: out, provenance: true, cacheTo: cacheDir(out)})
			if tc.fails {
				checkFailedClosed(t, secrets, hush, out, rewrite.RuleSecretInBuildOutput.Name, "the build context")
				return
			}
			checkOutputClean(t, secrets, "the hushbuild build output", hush.out)
			if hush.err != nil {
				t.Fatalf("the hushbuild build failed: %v\n%s", hush.err, secrets.redact(hush.out))
			}
			if rep := scan(t, out, secrets.verifySecrets()); !rep.Clean() {
				t.Errorf("the hushbuild image holds the token:%s", hitLines(rep))
			}
			if rep := scan(t, cacheDir(out), secrets.verifySecrets()); !rep.Clean() {
				t.Errorf("the hushbuild build cache holds the token:%s", hitLines(rep))
			}
			if saw := secrets.toolsThatSaw(hush.out)[value.id]; !containsString(saw, "npm") {
				t.Errorf("npm did not get the token (%v):\n%s", saw, secrets.redact(hush.out))
			}
		})
	}
}

// TestContextNamed: a named local build context (--build-context
// extra=DIR) holding a .netrc, copied whole with COPY --from=extra: the
// build fails closed naming the file and the context (the stock image
// holds it: the positive control).
func TestContextNamed(t *testing.T) {
	l := needLab(t)
	secrets := newSecretSet()
	value := secrets.canary(t, ".netrc")
	extra := t.TempDir()
	writeFile(t, extra, ".netrc", []byte("machine pypi.example.com login deploy password "+value.value+"\n"))
	writeFile(t, extra, "data.txt", []byte("public\n"))
	body := "FROM alpine\nCOPY --from=extra . /app/\nRUN ls -a /app\n"
	flags := append(l.baseImageFlags(t, []byte("FROM alpine\n")), "--build-context", "extra="+extra)
	for _, stock := range []bool{true, false} {
		frontend := l.frontend
		if stock {
			frontend = l.stock
		}
		dir := t.TempDir()
		writeFile(t, dir, "Dockerfile", withSyntax(frontend, []byte(body)))
		out := filepath.Join(t.TempDir(), "image.tar")
		build := l.buildx(t, buildSpec{dir: dir, flags: flags, output: out})
		if stock {
			if build.err != nil {
				t.Fatalf("the stock build failed: %v\n%s", build.err, secrets.redact(build.out))
			}
			if rep := scan(t, out, secrets.verifySecrets()); rep.Clean() {
				t.Errorf("positive control: the stock image does not hold the .netrc")
			}
			continue
		}
		checkFailedClosed(t, secrets, build, out, rewrite.RuleSecretInBuildOutput.Name, ".netrc (build context extra)")
	}
}

// TestContextDockerfileSelf: a Dockerfile that holds a literal credential,
// built with rewrite-hardcoded=true, is itself in the build context: the
// frontend builds a text without the literal, and `COPY . .` leaves the
// original file out instead of copying it back into a layer. The build
// gets a rotated value for the secret, so that the build-time check (which
// searches the given value) cannot be what keeps the literal out. The
// stock build of the same context is the positive control.
func TestContextDockerfileSelf(t *testing.T) {
	l := needLab(t)
	secrets := newSecretSet()
	literal := secrets.canary(t, "API_TOKEN")
	rotated := newCanary(t)
	dockerfile := "# hushbuild=rewrite-hardcoded=true\nFROM alpine\nENV API_TOKEN=\"" + literal.value + "\"\nWORKDIR /app\nCOPY . .\nRUN ls -a /app\n"
	flags := l.baseImageFlags(t, []byte(dockerfile))
	build := func(frontend string, extra ...string) (buildResult, string) {
		dir := t.TempDir()
		writeFile(t, dir, "Dockerfile", withSyntax(frontend, []byte(dockerfile)))
		writeFile(t, dir, "app.py", []byte("print('hello')\n"))
		out := filepath.Join(t.TempDir(), "image.tar")
		return l.buildx(t, buildSpec{dir: dir, flags: append(slices.Clone(flags), extra...), env: []string{"API_TOKEN=" + rotated},
			output: out, provenance: true, cacheTo: cacheDir(out)}), out
	}
	stock, stockOut := build(l.stock)
	if stock.err != nil {
		t.Fatalf("the stock build failed: %v\n%s", stock.err, secrets.redact(stock.out))
	}
	if rep := scan(t, stockOut, secrets.verifySecrets()); rep.Clean() {
		t.Errorf("positive control: the stock image does not hold the Dockerfile's literal")
	}
	hush, hushOut := build(l.frontend, "--secret", "id=API_TOKEN,env=API_TOKEN")
	checkOutputClean(t, secrets, "the hushbuild build output", hush.out)
	if hush.err != nil {
		t.Fatalf("the hushbuild build failed: %v\n%s", hush.err, secrets.redact(hush.out))
	}
	if !strings.Contains(string(hush.out), "is this Dockerfile") {
		t.Errorf("the build output does not say the Dockerfile was left out of the copy:\n%s", secrets.redact(hush.out))
	}
	if rep := scan(t, hushOut, secrets.verifySecrets()); !rep.Clean() {
		t.Errorf("the hushbuild image holds the Dockerfile's literal:%s", hitLines(rep))
	}
	if rep := scan(t, cacheDir(hushOut), secrets.verifySecrets()); !rep.Clean() {
		t.Errorf("the hushbuild build cache holds the Dockerfile's literal:%s", hitLines(rep))
	}
}

// TestBaseImageHome: a base image that runs as another user with its own
// HOME (as cimg, bitnami and devcontainer images do). The frontend reads
// the image's config, so `~/.npmrc` is the user's file, removed when the
// RUN ends: the build succeeds, npm gets the token, and no layer keeps
// it. (Assuming root would remove /root/.npmrc and leave the user's file
// in the layer; the build-time check would then fail the build.)
func TestBaseImageHome(t *testing.T) {
	l := needLab(t)
	secrets := newSecretSet()
	token := secrets.canary(t, "NPM_TOKEN")
	baseRef := l.pushBase(t, "non-root-home",
		"FROM alpine\nRUN mkdir -p /home/app/src && echo '{}' > /home/app/src/package.json && chown -R 1000:1000 /home/app\nUSER 1000:1000\nENV HOME=/home/app\nWORKDIR /home/app/src\n", secrets)
	dockerfile := "FROM " + baseRef + "\nARG NPM_TOKEN\nRUN echo \"//registry.npmjs.org/:_authToken=${NPM_TOKEN}\" > ~/.npmrc && npm ci\n"
	dir := t.TempDir()
	writeFile(t, dir, "Dockerfile", withSyntax(l.frontend, []byte(dockerfile)))
	out := filepath.Join(t.TempDir(), "image.tar")
	build := l.buildx(t, buildSpec{dir: dir, flags: []string{"--secret", "id=NPM_TOKEN,env=NPM_TOKEN"}, env: []string{"NPM_TOKEN=" + token.value},
		output: out, provenance: true, cacheTo: cacheDir(out)})
	checkOutputClean(t, secrets, "the build output", build.out)
	if build.err != nil {
		t.Fatalf("the build failed: %v\n%s", build.err, secrets.redact(build.out))
	}
	if rep := scan(t, out, secrets.verifySecrets()); !rep.Clean() {
		t.Errorf("the image holds the token:%s", hitLines(rep))
	}
	if saw := secrets.toolsThatSaw(build.out)[token.id]; !containsString(saw, "npm") {
		t.Errorf("npm did not get the token (tools that saw it: %v):\n%s", saw, secrets.redact(build.out))
	}
	if !strings.Contains(string(build.out), "/home/app/.npmrc") {
		t.Errorf("the build output does not name the user's ~/.npmrc:\n%s", secrets.redact(build.out))
	}
}
