package frontend

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"

	"github.com/hushbuild/hushbuild/frontend/proof"
	"github.com/hushbuild/hushbuild/rewrite"
)

// proveDockerfile has one step that gets a secret (line 3, from the
// rewrite of the ARG) and one that does not.
const proveDockerfile = "FROM scratch AS a\nARG NPM_TOKEN\nRUN npm ci\nFROM a\nRUN echo done\n"

func wrappedSteps(defs []*pb.Definition) (wrapped, plain int) {
	for _, d := range defs {
		for _, dt := range d.Def {
			var op pb.Op
			if op.UnmarshalVT(dt) != nil || op.GetExec() == nil {
				continue
			}
			if strings.HasPrefix(op.GetExec().Meta.Args[0], proof.ToolDir+"/") {
				wrapped++
			} else {
				plain++
			}
		}
	}
	return wrapped, plain
}

// TestProofInstrumentsAndChecks: the build that BuildKit gets runs the
// secret step under the wrapper, and the later one too (it masks the
// output of a step made from one with secrets), and the checks are
// solved after it (the result is held meanwhile: they see its very steps).
func TestProofInstrumentsAndChecks(t *testing.T) {
	c := newFakeClient(nil)
	c.files["local://dockerfile"] = map[string][]byte{"Dockerfile": []byte(proveDockerfile)}
	if _, err := Build(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	checks, result := -1, -1
	for i, d := range c.solved {
		if len(checkReports(d)) > 0 && checks < 0 {
			checks = i
		} else if d.Source != nil && len(d.Source.Infos) > 0 && len(checkReports(d)) == 0 {
			result = i
		}
	}
	if checks < 0 || result < 0 || checks < result {
		t.Fatalf("the checks (solve %d) were not solved after the result (solve %d), which they must share", checks, result)
	}
	builds := buildDefinitions(c)
	if len(builds) != 1 {
		t.Fatalf("%d conversions solved", len(builds))
	}
	if w, p := wrappedSteps(builds); w != 2 || p != 0 {
		t.Errorf("wrapped steps %d, plain %d; want 2 and 0", w, p)
	}
}

// TestProofCleanDockerfileIsNotChecked: no secret mount, no check, no
// wrapper: the definition is the stock conversion's.
func TestProofCleanDockerfileIsNotChecked(t *testing.T) {
	c := newFakeClient(nil)
	c.files["local://dockerfile"] = map[string][]byte{"Dockerfile": []byte("FROM scratch\nRUN echo done\n")}
	if _, err := Build(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	for _, d := range c.solved {
		if len(checkReports(d)) > 0 {
			t.Fatal("a clean Dockerfile was checked")
		}
	}
	if w, _ := wrappedSteps(c.solved); w != 0 {
		t.Errorf("%d wrapped steps in a clean build", w)
	}
}

// TestProofLeakStopsTheBuild: a check that found a secret stops the
// build before the result is solved, with an error that names the rule,
// the line, the path, the secret id and the encoding.
func TestProofLeakStopsTheBuild(t *testing.T) {
	for _, tc := range []struct {
		name, report string
		want         []string
	}{
		{"layer", `{"findings":[{"path":"/0/root/.npmrc","where":"content","secret":"NPM_TOKEN","encoding":"base64"}]}`,
			[]string{"line 3:", "/root/.npmrc", "secret NPM_TOKEN", "base64-encoded", "layer this step makes", "fix:"}},
		{"file name", `{"findings":[{"path":"/0/tmp/<redacted>","where":"name","secret":"NPM_TOKEN","encoding":"raw"}]}`,
			[]string{"line 3:", "the name of /tmp/<redacted>"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newFakeClient(nil)
			c.files["local://dockerfile"] = map[string][]byte{"Dockerfile": []byte(proveDockerfile)}
			c.reports = map[string]string{"report.json": tc.report}
			res, err := Build(context.Background(), c)
			if err == nil || res != nil {
				t.Fatalf("the build returned a result (err %v)", err)
			}
			want := append([]string{rewrite.RuleSecretInBuildOutput.Name, rewrite.RuleSecretInBuildOutput.DocsURL()}, tc.want...)
			for _, w := range want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error lacks %q:\n%v", w, err)
				}
			}
		})
	}
	t.Run("frontend files", func(t *testing.T) {
		c := newFakeClient(nil)
		c.files["local://dockerfile"] = map[string][]byte{"Dockerfile": []byte(proveDockerfile)}
		c.reports = map[string]string{"report.json": `{"findings":[{"path":"/2/options.json","where":"content","secret":"NPM_TOKEN","encoding":"raw"}]}`}
		_, err := Build(context.Background(), c)
		if err == nil || !strings.Contains(err.Error(), "build options") {
			t.Fatalf("err = %v, want the build options named", err)
		}
	})
}

// TestProofNeedsItsImage: without the gateway's source option, a build
// with secrets cannot be checked and stops; one without secrets builds.
func TestProofNeedsItsImage(t *testing.T) {
	c := newFakeClient(map[string]string{keySource: ""})
	c.files["local://dockerfile"] = map[string][]byte{"Dockerfile": []byte(proveDockerfile)}
	if _, err := Build(context.Background(), c); err == nil || !strings.Contains(err.Error(), "does not know its own image") {
		t.Fatalf("err = %v", err)
	}
	c = newFakeClient(map[string]string{keySource: ""})
	c.files["local://dockerfile"] = map[string][]byte{"Dockerfile": []byte("FROM scratch\nRUN echo done\n")}
	if _, err := Build(context.Background(), c); err != nil {
		t.Fatal(err)
	}
}

// TestStrictCaller: with strict=true from the caller (the HUSHBUILD
// build-arg), a Dockerfile whose directive declares a secret name not
// secret cannot let that build-arg through.
func TestStrictCaller(t *testing.T) {
	df := "# hushbuild=not-secrets=NPM_TOKEN\nFROM scratch\nARG NPM_TOKEN\nRUN npm ci\n"
	for _, strict := range []bool{false, true} {
		opts := map[string]string{"build-arg:NPM_TOKEN": "value-" + newCanary(t)}
		if strict {
			opts[keyConfigArg] = "strict=true"
		}
		c := newFakeClient(opts)
		c.files["local://dockerfile"] = map[string][]byte{"Dockerfile": []byte(df)}
		_, err := Build(context.Background(), c)
		if strict && (err == nil || !strings.Contains(err.Error(), "strict mode")) {
			t.Errorf("strict: err = %v, want the strict-mode refusal", err)
		}
		if !strict && err != nil {
			t.Errorf("not strict: %v", err)
		}
	}
}

// TestProofFingerprintsTheSecrets: before the build, one exec of the
// frontend image with a nonce of its own (never shared, never from the
// cache) fingerprints the build's secrets;
// the steps that get them and the check carry the fingerprints (their
// cache keys then depend on the values: BuildKit never runs one of them
// once for two builds with other values).
func TestProofFingerprintsTheSecrets(t *testing.T) {
	nonces := map[string]bool{}
	for range 2 {
		c := newFakeClient(nil)
		c.files["local://dockerfile"] = map[string][]byte{"Dockerfile": []byte(proveDockerfile)}
		if _, err := Build(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		fingerprinted, built := -1, -1
		for i, d := range c.solved {
			if ids, ok := fingerprintIDs(d); ok {
				fingerprinted = i
				if !slices.Equal(ids, []string{"NPM_TOKEN"}) {
					t.Errorf("fingerprinted %q, want NPM_TOKEN", ids)
				}
				for _, dt := range d.Def {
					var op pb.Op
					if op.UnmarshalVT(dt) != nil || op.GetExec() == nil {
						continue
					}
					if m := d.Metadata[string(digest.FromBytes(dt))]; m != nil && m.IgnoreCache {
						t.Error("the fingerprint exec ignores the cache: BuildKit would give it a new cache mount, and a new key")
					}
					if op.GetExec().Network != pb.NetMode_NONE {
						t.Error("the fingerprint exec has network")
					}
					args := op.GetExec().Meta.Args
					if i := slices.Index(args, "--build"); i >= 0 && i+1 < len(args) {
						nonces[args[i+1]] = true
					}
				}
			}
			if built < 0 && d.Source != nil && len(d.Source.Infos) > 0 && len(checkReports(d)) == 0 {
				built = i
			}
		}
		if fingerprinted < 0 || built < 0 || fingerprinted > built {
			t.Fatalf("the fingerprints (solve %d) were not made before the build (solve %d)", fingerprinted, built)
		}
		want := fmt.Sprintf("%064x", len("NPM_TOKEN"))
		for _, d := range buildDefinitions(c) {
			for _, dt := range d.Def {
				var op pb.Op
				if op.UnmarshalVT(dt) != nil || op.GetExec() == nil {
					continue
				}
				if args := op.GetExec().Meta.Args; strings.HasPrefix(args[0], proof.ToolDir+"/") && !slices.Contains(args, want) {
					t.Errorf("a wrapped step lacks the fingerprint: %q", args)
				}
			}
		}
		var checked bool
		for _, d := range c.solved {
			if len(checkReports(d)) == 0 {
				continue
			}
			for _, dt := range d.Def {
				var op pb.Op
				if op.UnmarshalVT(dt) == nil && op.GetExec() != nil && slices.Contains(op.GetExec().Meta.Env, "HUSHBUILD_FINGERPRINTS=NPM_TOKEN="+want) {
					checked = true
				}
			}
		}
		if !checked {
			t.Error("the check lacks the fingerprints")
		}
	}
	if len(nonces) != 2 {
		t.Errorf("two builds' fingerprint execs have nonces %v, want two", nonces)
	}
}
