package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hushbuild/hushbuild/internal/buildcontext"
	"github.com/hushbuild/hushbuild/rewrite"
)

// execFormExamples are the examples whose exec-form RUNs of a shell
// script the engine rewrites inside their JSON arrays, and whose RUN <<EOF
// documents it rewrites in place (333, 396).
var execFormExamples = []string{
	"333-heredoc-run-writes-secret",
	"396-heredoc-later-run-replay",
	"386-exec-form-bash-lc-npmrc",
	"387-exec-form-bash-pipefail-args",
	"389-exec-form-under-shell-instruction",
	"390-exec-form-later-run-replay",
}

// TestExecFormSameAsStock: an example whose exec-form shell scripts (or
// heredoc documents) the engine rewrites in place, built through hushbuild, gives the image the
// stock frontend gives for the rewritten Dockerfile, with the same
// secrets: the same layers and the same config, history (the exec form's
// created_by) included, with SOURCE_DATE_EPOCH=0 for both. The rewrite's
// prelude, and the build-time checks around each step, leave nothing of
// their own in the image.
func TestExecFormSameAsStock(t *testing.T) {
	l := needLab(t)
	for _, name := range execFormExamples {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(l.examplesDir(), name)
			original, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
			if err != nil {
				t.Fatal(err)
			}
			base := copyContext(t, dir)
			files, err := buildcontext.List(base, filepath.Join(base, "Dockerfile"), rewrite.Config{})
			if err != nil {
				t.Fatal(err)
			}
			res, err := rewrite.Rewrite(bytes.Clone(original), rewrite.Config{ContextFiles: files, ContextListed: true})
			if err != nil || res.Err() != nil {
				t.Fatalf("the rewrite: %v %v", err, res.Err())
			}
			if !bytes.Contains(res.Output, []byte(`", "-`)) && !bytes.Contains(res.Output, []byte(`","-`)) &&
				!bytes.Contains(res.Output, []byte("<<EOF\nif [ -e ")) && !bytes.Contains(res.Output, []byte("<<EOF\n[ \"$HOME\" = ")) {
				t.Fatalf("the rewrite has no exec form nor rewritten heredoc:\n%s", res.Output)
			}
			secrets := newSecretSet()
			flags := append(l.baseImageFlags(t, original), "--build-arg", "SOURCE_DATE_EPOCH=0")
			var env []string
			for _, r := range res.Requirements {
				if r.Kind != rewrite.SecretEnv {
					t.Fatalf("requirement %s: only env secrets here", r.Flag)
				}
				flag, value, _ := strings.Cut(r.Flag, " ")
				flags = append(flags, flag, value)
				v := secrets.canary(t, r.Env)
				runSecrets.add(t.Name(), v.value)
				env = append(env, r.Env+"="+v.value)
			}
			out := t.TempDir()
			build := func(frontend, kind string, dockerfile []byte) *ociImage {
				ctx := copyContext(t, base)
				writeFile(t, ctx, "Dockerfile", dockerfile)
				archive := filepath.Join(out, kind+".tar")
				b := l.buildx(t, buildSpec{dir: ctx, flags: append(slices.Clone(flags), "--build-arg", "BUILDKIT_SYNTAX="+frontend),
					env: env, output: archive, outputAttrs: []string{"rewrite-timestamp=true"}})
				checkOutputClean(t, secrets, "the "+kind+" build's output", b.out)
				if b.err != nil {
					t.Fatalf("the %s build failed: %v\n%s", kind, b.err, secrets.redact(b.out))
				}
				if rep := scan(t, archive, secrets.verifySecrets()); !rep.Clean() {
					t.Errorf("the %s image holds a secret:%s", kind, hitLines(rep))
				}
				img, err := readOCIImage(archive)
				if err != nil {
					t.Fatalf("reading the %s image: %v", kind, err)
				}
				return img
			}
			hushed := build(l.frontend, "hushbuild", original)
			stock := build(l.stock, "stock", res.Output)
			if checkSameLayersAndConfig(t, stock, hushed) {
				t.Logf("same layers (%d) and config %s", len(stock.diffIDs), stock.configDigest)
			}
		})
	}
}
