package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hushbuild/hushbuild/rewrite"
	"github.com/hushbuild/hushbuild/verify"
)

// TestHardcodedSecretFailsClosed (h): a credential written in the
// Dockerfile stops the hushbuild build, and `--call=check` reports it; both
// name the line and the rule, neither shows the value.
func TestHardcodedSecretFailsClosed(t *testing.T) {
	l := needLab(t)
	tests := []struct {
		name       string
		dockerfile func(canary string) string
		rule       string
		key        bool // the secret is the test's ssh private key, not a canary
	}{
		{"ENV literal", func(c string) string {
			return "FROM alpine\nENV DB_PASSWORD=" + c + "\nRUN echo migrate\n"
		}, "HardcodedSecret", false},
		{"ARG default", func(c string) string {
			return "FROM alpine\nARG API_TOKEN=" + c + "\nRUN curl -H \"Authorization: Bearer $API_TOKEN\" https://api.example.com/\n"
		}, "HardcodedSecret", false},
		{"URL userinfo in RUN", func(c string) string {
			return "FROM python:3.9-alpine\nRUN pip install --index-url https://deploy:" + c + "@pypi.example.com/simple app\n"
		}, "HardcodedSecret", false},
		{"private key in a heredoc", func(key string) string {
			return "FROM alpine\nCOPY <<EOF /root/.ssh/id_ed25519\n" + key + "\nEOF\nRUN git clone git@github.com:acme/lib.git\n"
		}, "HardcodedSecret", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			secrets := newSecretSet()
			value := secrets.canary(t, "hard-coded").value
			if tt.key {
				value = secrets.sshKeyFor(t).secret.value
			}
			dockerfile := withSyntax(l.frontend, []byte(tt.dockerfile(value)))
			res, err := rewrite.Rewrite(bytes.Clone(dockerfile), rewrite.Config{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Err() == nil {
				t.Fatalf("the engine does not refuse the Dockerfile")
			}
			dir := t.TempDir()
			writeFile(t, dir, "Dockerfile", dockerfile)
			flags := l.baseImageFlags(t, dockerfile)
			build := l.buildx(t, buildSpec{dir: dir, flags: flags})
			if build.err == nil {
				t.Fatalf("the build succeeded:\n%s", secrets.redact(build.out))
			}
			checkRefusalOutput(t, secrets, build.out, dockerfile, res)

			check := l.buildx(t, buildSpec{dir: dir, flags: append(flags, "--call=check,format=json")})
			if found := secrets.foundIn(check.out); len(found) > 0 {
				t.Errorf("--call=check shows the value")
			}
			var c checkJSON
			if err := json.Unmarshal(check.stdout, &c); err != nil {
				t.Fatalf("reading the check result: %v (%v)\n%s", err, check.err, secrets.redact(check.out))
			}
			if lines := c.rules()[tt.rule]; len(lines) == 0 || lines[0] != 3 {
				t.Errorf("--call=check lacks %s on line 3: %v", tt.rule, c.rules())
			}
		})
	}
}

// TestOriginalNeverBuilt (h): whatever kind of context the Dockerfile comes
// from and however the frontend is chosen, hushbuild builds the rewritten
// text and never the original. The Dockerfile's original text holds a
// marker, as a comment in a RUN that only deletes a credential file: the
// rewrite drops that RUN, so the marker appears in the build output, the
// image history and the provenance (which records the Dockerfile) only if
// the original text was built. A second marker, on a RUN both texts keep,
// proves that the build ran. The stock frontend, given the same contexts,
// shows both markers (the positive control).
func TestOriginalNeverBuilt(t *testing.T) {
	l := needLab(t)
	secrets := newSecretSet()
	marker := secrets.canary(t, "original-only marker")
	alive := "hfalive_" + newCanary(t)[4:]
	netrc := secrets.canary(t, ".netrc")
	body := fmt.Sprintf("FROM alpine\nCOPY .netrc /root/.netrc\nRUN rm -f /root/.netrc # %s\nRUN echo %s\n", marker.value, alive)
	netrcText := "machine pypi.example.com login deploy password " + netrc.value + "\n"
	withLine := func(image string) []byte { return withSyntax(image, []byte(body)) }
	baseFlags := l.baseImageFlags(t, []byte(body))

	// The context as a directory, a tarball served over HTTP, and a git
	// repository served over HTTP (git http-backend) on loopback.
	localCtx := func(dockerfile []byte) string {
		dir := t.TempDir()
		writeFile(t, dir, ".netrc", []byte(netrcText))
		if dockerfile != nil {
			writeFile(t, dir, "Dockerfile", dockerfile)
		}
		return dir
	}
	tarballs := map[string][]byte{
		"/hushbuild.tar.gz": tarball(t, map[string][]byte{"Dockerfile": withLine(l.frontend), ".netrc": []byte(netrcText)}),
		"/stock.tar.gz":     tarball(t, map[string][]byte{"Dockerfile": withLine(l.stock), ".netrc": []byte(netrcText)}),
	}
	httpSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, ok := tarballs[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/gzip")
		w.Write(data)
	}))
	t.Cleanup(httpSrv.Close)
	gitURL := gitServer(t, map[string]map[string][]byte{
		"hushbuild.git": {"Dockerfile": withLine(l.frontend), ".netrc": []byte(netrcText), "sub/Dockerfile": withLine(l.frontend), "sub/.netrc": []byte(netrcText)},
		"stock.git":     {"Dockerfile": withLine(l.stock), ".netrc": []byte(netrcText)},
	})

	type variant struct {
		name    string
		stock   bool // the positive control: the stock frontend builds the original
		buildFn func(t *testing.T, out string) buildResult
	}
	buildxIn := func(dir string, flags ...string) func(t *testing.T, out string) buildResult {
		return func(t *testing.T, out string) buildResult {
			return l.buildx(t, buildSpec{dir: dir, flags: append(append([]string{}, baseFlags...), flags...), output: out, provenance: true})
		}
	}
	buildxURL := func(url string) func(t *testing.T, out string) buildResult {
		return func(t *testing.T, out string) buildResult {
			return l.buildx(t, buildSpec{dir: t.TempDir(), context: url, flags: baseFlags, output: out, provenance: true})
		}
	}
	// buildctl with a named local for the Dockerfile (dockerfilekey) and a
	// decoy Dockerfile in the default "dockerfile" local.
	buildctlKey := func(frontendFlags []string, dockerfile []byte) func(t *testing.T, out string) buildResult {
		return func(t *testing.T, out string) buildResult {
			ctx := localCtx(nil)
			dfDir := t.TempDir()
			writeFile(t, dfDir, "Dockerfile", dockerfile)
			decoy := t.TempDir()
			writeFile(t, decoy, "Dockerfile", []byte("FROM alpine\nRUN echo decoy-"+marker.value+"\n"))
			flags := append(frontendFlags, "--local", "context="+ctx, "--local", "dockerfile="+decoy,
				"--local", "hfdf="+dfDir, "--opt", "dockerfilekey=hfdf",
				"--opt", "context:alpine=docker-image://"+l.testbase)
			return l.buildctl(t, buildSpec{dir: ctx, flags: flags, output: out, provenance: true})
		}
	}
	stdinDir := localCtx(nil)
	outside := t.TempDir()
	writeFile(t, outside, "build/Custom.Dockerfile", withLine(l.frontend))

	variants := []variant{
		{name: "stock/local", stock: true, buildFn: buildxIn(localCtx(withLine(l.stock)))},
		{name: "stock/http-tarball", stock: true, buildFn: buildxURL(httpSrv.URL + "/stock.tar.gz")},
		{name: "stock/git", stock: true, buildFn: buildxURL(gitURL + "/stock.git")},

		{name: "local/syntax-line", buildFn: buildxIn(localCtx(withLine(l.frontend)))},
		{name: "local/BUILDKIT_SYNTAX", buildFn: buildxIn(localCtx([]byte(body)), "--build-arg", "BUILDKIT_SYNTAX="+l.frontend)},
		{name: "local/BUILDKIT_SYNTAX-over-stock-syntax-line", buildFn: buildxIn(localCtx(withLine(l.stock)), "--build-arg", "BUILDKIT_SYNTAX="+l.frontend)},
		{name: "local/stdin-dockerfile", buildFn: func(t *testing.T, out string) buildResult {
			return l.buildx(t, buildSpec{dir: stdinDir, flags: append(append([]string{}, baseFlags...), "-f", "-"), stdin: withLine(l.frontend), output: out, provenance: true})
		}},
		{name: "local/dockerfile-outside-context", buildFn: buildxIn(localCtx(nil), "-f", filepath.Join(outside, "build", "Custom.Dockerfile"))},
		{name: "http-tarball", buildFn: buildxURL(httpSrv.URL + "/hushbuild.tar.gz")},
		{name: "git", buildFn: buildxURL(gitURL + "/hushbuild.git")},
		{name: "git-subdir", buildFn: buildxURL(gitURL + "/hushbuild.git#main:sub")},
		{name: "buildctl/dockerfilekey-syntax-line", buildFn: buildctlKey([]string{"--frontend", "dockerfile.v0"}, withLine(l.frontend))},
		{name: "buildctl/gateway-dockerfilekey-stock-syntax-line", buildFn: buildctlKey([]string{"--frontend", "gateway.v0", "--opt", "source=" + l.frontend}, withLine(l.stock))},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "image.tar")
			res := v.buildFn(t, out)
			text := secrets.redact(res.out)
			if res.err != nil {
				t.Fatalf("the build failed: %v\n%s", res.err, text)
			}
			if !bytes.Contains(res.out, []byte(alive)) {
				t.Fatalf("the output lacks the marker of the RUN both texts keep: the build did not run as expected\n%s", text)
			}
			if bytes.Contains(res.out, []byte("decoy-")) {
				t.Errorf("the decoy Dockerfile (the default dockerfile local) was built instead of the one dockerfilekey names")
			}
			rep := scan(t, out, []verify.Secret{{ID: marker.id, Value: marker.value}, {ID: netrc.id, Value: netrc.value}})
			markerInOutput := bytes.Contains(res.out, []byte(marker.value))
			if v.stock {
				if !markerInOutput || rep.Clean() {
					t.Errorf("positive control: the stock build of the original shows the marker in its output: %v; in its image: %s", markerInOutput, hitKinds(rep))
				}
				t.Logf("positive control: the original text was built; marker and .netrc found in %s", hitKinds(rep))
				return
			}
			if markerInOutput {
				t.Errorf("the original text was built: its marker is in the build output:\n%s", text)
			}
			if !rep.Clean() {
				t.Errorf("the original text was built: the image holds:%s", hitLines(rep))
			}
		})
	}
}

// tarball is a gzip-compressed tar archive of files.
func tarball(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, data := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// gitServer serves bare git repositories (name → files, committed on
// branch main) over smart HTTP on loopback, with `git http-backend` as a
// CGI program, and returns the base URL.
func gitServer(t *testing.T, repos map[string]map[string][]byte) string {
	t.Helper()
	git, err := exec.LookPath("git")
	if err != nil {
		t.Fatalf("git is needed to serve a git context: %v", err)
	}
	root := t.TempDir()
	run := func(dir string, args ...string) {
		cmd := exec.Command(git, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+root,
			"GIT_AUTHOR_NAME=e2e", "GIT_AUTHOR_EMAIL=e2e@example.com", "GIT_COMMITTER_NAME=e2e", "GIT_COMMITTER_EMAIL=e2e@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	for name, files := range repos {
		work := filepath.Join(root, "work", name)
		for p, data := range files {
			writeFile(t, work, p, data)
		}
		run(work, "init", "-q", "-b", "main")
		run(work, "add", "-A")
		run(work, "commit", "-q", "-m", "context")
		run(root, "clone", "-q", "--bare", work, filepath.Join(root, "srv", name))
	}
	srv := httptest.NewServer(&cgi.Handler{
		Path: git,
		Args: []string{"http-backend"},
		Env:  []string{"GIT_PROJECT_ROOT=" + filepath.Join(root, "srv"), "GIT_HTTP_EXPORT_ALL=1"},
	})
	t.Cleanup(srv.Close)
	return srv.URL
}
