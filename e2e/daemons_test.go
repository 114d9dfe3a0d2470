package e2e

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/semver"

	"github.com/hushbuild/hushbuild/e2e/labenv"
	"github.com/hushbuild/hushbuild/frontend"
	"github.com/hushbuild/hushbuild/rewrite"
)

// daemonExamples are the examples the daemon matrix builds on every
// BuildKit daemon of the lab, each checked as TestExamples checks it.
var daemonExamples = []string{
	"015-seed004-build-arg-defaults", // secret build-args: RUN --mount=type=secret,env=
	"118-secret-file-kept-builder",   // a copied .npmrc: a secret file mount
	"017-seed004-source-env-legacy",  // a sourced .env
	"217-ssh-key-arg-git-clone",      // an SSH key: RUN --mount=type=ssh
}

// daemonProofCase is the case the matrix builds to see the build-time
// check fail closed (SecretInBuildOutput) on every daemon, and its
// control build.
const daemonProofCase = "script writes the token"

var (
	daemonsOnce sync.Once
	daemonsEnv  labenv.Env
	daemonsErr  error
)

// startDaemons starts the lab's older buildkitd versions (hack/lab.sh
// daemons: built once, then only started) and returns the lab's env.
func (l *labSetup) startDaemons(t *testing.T) labenv.Env {
	t.Helper()
	daemonsOnce.Do(func() {
		// The first run compiles each daemon.
		ctx, cancel := context.WithTimeout(context.Background(), 45*time.Minute)
		defer cancel()
		start := time.Now()
		daemonsEnv, daemonsErr = labenv.StartDaemons(ctx)
		t.Logf("hack/lab.sh daemons: %s", time.Since(start).Round(100*time.Millisecond))
	})
	if daemonsErr != nil {
		t.Fatalf("the lab's older daemons: %v", daemonsErr)
	}
	if len(daemonsEnv.Daemons) == 0 || daemonsEnv.Buildkit == "" {
		t.Fatalf("hack/lab.sh daemons started no daemon (HUSHBUILD_LAB_DAEMONS %q, lab's own %q)", daemonsEnv.Daemons, daemonsEnv.Buildkit)
	}
	return daemonsEnv
}

// onDaemon is the lab with its builds sent to the buildkitd of version v.
func (l *labSetup) onDaemon(t *testing.T, env labenv.Env, v string) *labSetup {
	t.Helper()
	denv, err := env.Daemon(v)
	if err != nil {
		t.Fatal(err)
	}
	d := *l
	d.env = denv
	if semver.Compare(v, "v0.12.0") < 0 {
		// verify reads an OCI image manifest; before v0.12 BuildKit
		// exports the cache only as a manifest list of its own.
		d.cacheUnscanned = "BuildKit " + v + " exports no image manifest for a cache (image-manifest=true came in v0.12)"
	}
	return &d
}

// TestDaemons is the daemon matrix: the lab's own buildkitd and the older
// ones hack/lab.sh daemons runs beside it. On each daemon hushbuild
// supports, daemonExamples build and pass the checks of TestExamples (the
// credential reached the step, verify finds nothing in the image, its
// cache or the output), and daemonProofCase fails closed naming
// SecretInBuildOutput (its control builds). On a daemon older than
// frontend.MinBuildKit the build stops at once, naming the version
// hushbuild needs. No daemon's log gets a secret in a hushbuild line.
func TestDaemons(t *testing.T) {
	l := needLab(t)
	env := l.startDaemons(t)
	examples := map[string]example{}
	for _, ex := range loadExamples(t, l.examplesDir()) {
		examples[ex.name] = ex
	}
	var proof *proofCase
	for i := range proofCases {
		if proofCases[i].name == daemonProofCase {
			proof = &proofCases[i]
		}
	}
	if proof == nil {
		t.Fatalf("no proof case %q", daemonProofCase)
	}
	for _, v := range append([]string{env.Buildkit}, env.Daemons...) {
		t.Run("buildkit-"+v, func(t *testing.T) {
			t.Parallel()
			d := l.onDaemon(t, env, v)
			logPath := env.DaemonLog(v)
			from := fileSize(logPath)
			t.Cleanup(func() {
				if !checkLog(logPath, from) {
					t.Errorf("the log of buildkitd %s holds a secret in a hushbuild line", v)
				}
			})
			if semver.Compare(v, frontend.MinBuildKit) < 0 {
				d.testBelowMinimum(t, examples[daemonExamples[0]])
				return
			}
			for _, name := range daemonExamples {
				ex, ok := examples[name]
				if !ok || ex.offline != "yes" {
					t.Fatalf("example %s is not in the index as buildable offline", name)
				}
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					d.testExample(t, ex)
				})
			}
			t.Run("fails closed", func(t *testing.T) {
				t.Parallel()
				for _, leak := range []bool{true, false} {
					d.runProofCase(t, *proof, leak)
				}
			})
		})
	}
}

// testBelowMinimum builds ex through hushbuild on a daemon older than
// frontend.MinBuildKit: the build stops, naming the version it needs and
// what the daemon lacks, and shows no secret.
func (l *labSetup) testBelowMinimum(t *testing.T, ex example) {
	original, err := os.ReadFile(filepath.Join(ex.dir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	b := &exampleBuild{ex: ex, original: original, hushed: withSyntax(l.frontend, original), secrets: newSecretSet()}
	b.base = copyContext(t, ex.dir)
	b.secrets.fillCredentialFiles(t, b.base)
	if b.res, err = rewrite.Rewrite(bytes.Clone(b.hushed), rewrite.Config{}); err != nil {
		t.Fatalf("the engine cannot read the Dockerfile: %v", err)
	}
	if text, _, ok := rewrite.FindDirective(b.hushed); ok {
		if b.cfg, err = rewrite.ParseConfig(rewrite.Config{}, text); err != nil {
			t.Fatal(err)
		}
	}
	b.legacyFlags = l.baseImageFlags(t, original)
	b.hushFlags = append([]string(nil), b.legacyFlags...)
	b.hushInputs(t, b.legacyInputs(t))
	// No attestation and no cache export: an old daemon would refuse
	// those before the frontend runs.
	dir := copyContext(t, b.base)
	writeFile(t, dir, "Dockerfile", b.hushed)
	out := filepath.Join(t.TempDir(), "hushbuild.tar")
	hush := l.buildx(t, buildSpec{dir: dir, flags: b.hushFlags, env: b.hushEnv, output: out})
	checkFailedClosed(t, b.secrets, hush, out,
		"hushbuild needs BuildKit "+frontend.MinBuildKit+" or newer", "this BuildKit daemon lacks")
	t.Logf("stopped: %s", b.secrets.redact(hush.out[bytes.LastIndex(hush.out, []byte("\nERROR"))+1:]))
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}
