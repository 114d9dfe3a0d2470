package e2e

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hushfile/hushfile/rewrite"
)

// TestContextCredentialFiles: a credential file that sits in the build
// context, which the Dockerfile never names, and that `COPY . .` would put
// in a layer. Built through hushfile with the legacy build command
// unchanged: the tool still reads it, and no canary is in the image, its
// build cache, its provenance or the build output. The stock build of the
// same context is the positive control (it leaks).
func TestContextCredentialFiles(t *testing.T) {
	l := needLab(t)
	cases := []struct {
		name, file, content, dockerfile, tool string
		wantFail                              string // a rule the hushfile build must stop on
	}{
		{"npmrc read by npm", ".npmrc", "//registry.npmjs.org/:_authToken=CANARY\n",
			"FROM alpine\nWORKDIR /app\nCOPY . .\nRUN npm ci\n", "npm", ""},
		{"netrc read by pip", ".netrc", "machine pypi.example.com login deploy password CANARY\n",
			"FROM alpine\nWORKDIR /app\nCOPY . .\nENV NETRC=/app/.netrc\nRUN pip install --index-url https://pypi.example.com/simple app\n", "pip", ""},
		{"git-credentials in a subdirectory", "config/.git-credentials", "https://ci:CANARY@git.example.com\n",
			"FROM alpine\nCOPY config/ /etc/app/\nRUN git config --global credential.helper 'store --file /etc/app/.git-credentials' && git clone https://git.example.com/acme/lib.git /tmp/lib\n", "git", ""},
		{"a RUN copies the mounted file into the layer", ".npmrc", "//registry.npmjs.org/:_authToken=CANARY\n",
			"FROM alpine\nWORKDIR /app\nCOPY . .\nRUN sh -c 'cat /app/.npmrc > /root/.npmrc' && npm ci\n", "", rewrite.RuleSecretInBuildOutput.Name},
		{"an env file left for run time", ".env", "API_KEY=CANARY\n",
			"FROM alpine\nWORKDIR /app\nCOPY . .\nCMD [\"sh\", \"-c\", \"cat .env\"]\n", "", rewrite.RuleSecretFileInImage.Name},
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
				out := filepath.Join(t.TempDir(), "image.tar")
				return l.buildx(t, buildSpec{dir: dir, flags: flags, output: out, provenance: true, cacheTo: cacheDir(out)}), out
			}
			if tc.wantFail == "" {
				stock, stockOut := build(l.stock)
				if stock.err != nil {
					t.Fatalf("the stock build failed: %v\n%s", stock.err, secrets.redact(stock.out))
				}
				if rep := scan(t, stockOut, secrets.verifySecrets()); rep.Clean() {
					t.Errorf("positive control: the stock image does not hold the file's secret")
				}
			}
			hush, hushOut := build(l.frontend)
			if found := secrets.foundIn(hush.out); len(found) > 0 {
				t.Errorf("the hushfile build output shows %s", strings.Join(found, ", "))
			}
			if tc.wantFail != "" {
				if hush.err == nil {
					t.Fatalf("the hushfile build succeeded:\n%s", secrets.redact(hush.out))
				}
				if !bytes.Contains(hush.out, []byte(tc.wantFail)) {
					t.Errorf("the error does not name %s:\n%s", tc.wantFail, secrets.redact(hush.out))
				}
				return
			}
			if hush.err != nil {
				t.Fatalf("the hushfile build failed: %v\n%s", hush.err, secrets.redact(hush.out))
			}
			if rep := scan(t, hushOut, secrets.verifySecrets()); !rep.Clean() {
				t.Errorf("the hushfile image holds the secret:%s", hitLines(rep))
			}
			if rep := scan(t, cacheDir(hushOut), secrets.verifySecrets()); !rep.Clean() {
				t.Errorf("the hushfile build cache holds the secret:%s", hitLines(rep))
			}
			if saw := secrets.toolsThatSaw(hush.out)[value.id]; !containsString(saw, tc.tool) {
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
