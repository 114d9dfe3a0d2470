package e2e

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hushbuild/hushbuild/e2e/labenv"
)

// lab is the lab the tests build on, set up by TestMain.
type labSetup struct {
	env  labenv.Env
	root string // the repository root
	// frontend and stock are the hushbuild and stock frontend images, by
	// digest: what TestMain pushed, whatever is pushed to the tags later.
	frontend string
	stock    string
	// testbase is the image every FROM of the examples is mapped to.
	testbase string
	// hostFlags are flags every example build gets (--add-host).
	hostFlags []string
	// argValues are the values of build-args that are no secrets.
	argValues map[string]string
	// servers, when set, checks after each example build that the
	// servers the build fetched from saw its credentials.
	servers serverCheck
	// volatile are paths whose files may differ between two builds of
	// the same Dockerfile (a real tool's logs and caches), and why.
	volatile []volatilePath
	// cacheUnscanned says why the build cache the daemon exports cannot be
	// scanned ("" when it can): then builds export none.
	cacheUnscanned string
}

// serverCheck is what a suite with real servers checks around a build:
// mark before it, check after it succeeded.
type serverCheck interface {
	mark(t *testing.T, b *exampleBuild) any
	check(t *testing.T, b *exampleBuild, kind string, mark any, out []byte)
}

// volatilePath is a path (without leading slash) whose differences
// between the legacy and the hushbuild image are expected.
type volatilePath struct{ path, why string }

var (
	lab      *labSetup
	labError error
)

// maxBuilds bounds the builds that run at once (buildkitd does the work;
// a few in flight keep its two cores busy while others export or scan).
const maxBuilds = 4

var buildSlots = make(chan struct{}, maxBuilds)

func TestMain(m *testing.M) {
	flag.Parse()
	if !testing.Short() {
		// Tests spend most of their time waiting for buildkitd: run more
		// of them at once than the default (GOMAXPROCS), unless -parallel
		// was given.
		set := false
		flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
		if !set {
			_ = flag.Set("test.parallel", fmt.Sprint(maxBuilds))
		}
		start := time.Now()
		lab, labError = setUpLab()
		if labError != nil {
			fmt.Fprintf(os.Stderr, "e2e: the lab is not usable: %v\n", labError)
			os.Exit(1)
		}
		fmt.Fprintf(os.Stderr, "e2e: lab ready in %s\ne2e: hushbuild frontend %s\ne2e: stock frontend %s\n",
			time.Since(start).Round(100*time.Millisecond), lab.frontend, lab.stock)
	}
	logStart := lab.daemonLogSize()
	code := m.Run()
	if lab != nil && !lab.checkDaemonLog(logStart) {
		code = 1
	}
	os.Exit(code)
}

// daemonLog is buildkitd's log, where the frontends' logs go too.
func (l *labSetup) daemonLog() string { return filepath.Join(l.env.Dir, "logs", "buildkitd.log") }

func (l *labSetup) daemonLogSize() int64 {
	if l == nil {
		return 0
	}
	fi, err := os.Stat(l.daemonLog())
	if err != nil {
		return 0
	}
	return fi.Size()
}

// checkDaemonLog checks that the lines of buildkitd's log written during
// the run that come from hushbuild (its frontend's logs, and the errors it
// returned) hold none of the run's secrets. It says which line, never the
// value.
func (l *labSetup) checkDaemonLog(from int64) bool {
	return checkLog(l.daemonLog(), from)
}

// checkLog checks the lines of the log at path written after byte from that
// come from hushbuild: none may hold a secret of the run.
func checkLog(path string, from int64) bool {
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: not checking the log %s: %v\n", path, err)
		return true
	}
	defer f.Close()
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: not checking the log %s: %v\n", path, err)
		return true
	}
	ok := true
	lines := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if !bytes.Contains(line, []byte("hushbuild")) {
			continue
		}
		lines++
		if tests := runSecrets.find(line); len(tests) > 0 {
			fmt.Fprintf(os.Stderr, "e2e: the log %s holds a secret of %s in a hushbuild line (line %d after byte %d)\n",
				path, strings.Join(tests, ", "), n, from)
			ok = false
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: reading the log %s: %v\n", path, err)
		return false
	}
	if ok && !testing.Short() {
		fmt.Fprintf(os.Stderr, "e2e: the log %s: %d hushbuild lines written during the run, none holds a secret\n", path, lines)
	}
	return ok
}

// setUpLab starts the lab (idempotent), pushes the frontend built from this
// checkout, and pins the frontend images by digest.
func setUpLab() (*labSetup, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	if _, err := labenv.Up(ctx); err != nil {
		return nil, err
	}
	if err := labenv.PushFrontend(ctx); err != nil {
		return nil, err
	}
	env, err := labenv.Load()
	if err != nil {
		return nil, err
	}
	root, err := labenv.RepoRoot()
	if err != nil {
		return nil, err
	}
	l := &labSetup{env: env, root: root, testbase: env.TestbaseImage}
	if l.frontend, err = pinDigest(ctx, env.FrontendImage); err != nil {
		return nil, err
	}
	if l.stock, err = pinDigest(ctx, env.StockFrontendImage); err != nil {
		return nil, err
	}
	if l.testbase, err = pinDigest(ctx, env.TestbaseImage); err != nil {
		return nil, err
	}
	return l, nil
}

// pinDigest asks the lab registry for the digest of ref (HOST/REPO:TAG)
// and returns HOST/REPO:TAG@DIGEST.
func pinDigest(ctx context.Context, ref string) (string, error) {
	if ref == "" {
		return "", fmt.Errorf("no image reference in the lab's env")
	}
	host, rest, ok := strings.Cut(ref, "/")
	colon := strings.LastIndex(rest, ":")
	if !ok || colon < 0 {
		return "", fmt.Errorf("image reference %q: want HOST/REPO:TAG", ref)
	}
	repo, tag := rest[:colon], rest[colon+1:]
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, "http://"+host+"/v2/"+repo+"/manifests/"+tag, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", strings.Join([]string{
		"application/vnd.oci.image.index.v1+json",
		"application/vnd.oci.image.manifest.v1+json",
		"application/vnd.docker.distribution.manifest.list.v2+json",
		"application/vnd.docker.distribution.manifest.v2+json",
	}, ", "))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("resolving %s: %w", ref, err)
	}
	resp.Body.Close()
	dgst := resp.Header.Get("Docker-Content-Digest")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(dgst, "sha256:") {
		return "", fmt.Errorf("resolving %s: HTTP %s, digest %q", ref, resp.Status, dgst)
	}
	return ref + "@" + dgst, nil
}

// needLab skips the test under -short and returns the lab.
func needLab(t *testing.T) *labSetup {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: needs the BuildKit lab (hack/lab.sh); skipped with -short")
	}
	if lab == nil {
		t.Fatalf("the lab is not usable: %v", labError)
	}
	return lab
}

// examplesDir is examples/ at the repository root.
func (l *labSetup) examplesDir() string { return filepath.Join(l.root, "examples") }
