package e2e

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// buildSpec is one `docker buildx build` (or buildctl) run.
type buildSpec struct {
	// dir is the working directory: the build context for ".", and where
	// relative --secret src= paths are read.
	dir string
	// context is the build context argument: "." unless a URL.
	context string
	// flags are the build's own flags (--build-arg, --secret, --ssh,
	// --build-context, -f, --call...).
	flags []string
	// env adds variables to the client's environment (secret values for
	// --secret env=).
	env []string
	// output is the OCI archive to write, "" for none.
	output string
	// outputAttrs are more attributes of the OCI exporter
	// ("rewrite-timestamp=true").
	outputAttrs []string
	// provenance adds a provenance attestation with mode=max.
	provenance bool
	// cacheTo exports the build cache, mode=max, to this directory (an
	// OCI layout), "" for none.
	cacheTo string
	// stdin feeds the client (for -f -).
	stdin []byte
	// useCache drops --no-cache: cache mounts keep their content between
	// builds only then (with --no-cache, BuildKit makes each cache mount's
	// base anew, and with it a new cache).
	useCache bool
}

// buildResult is what a build printed, and whether it failed.
type buildResult struct {
	out    []byte // stdout and stderr, interleaved
	stdout []byte
	err    error
	dur    time.Duration
}

// lockedBuffer is a buffer that stdout and stderr copy into at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// buildx runs `docker buildx build --progress=plain --no-cache` with the
// lab's client configuration. Every build runs its commands afresh, so the
// stand-in tools print what they saw.
func (l *labSetup) buildx(t *testing.T, spec buildSpec) buildResult {
	t.Helper()
	checkCSVPaths(t, spec)
	args := []string{"buildx", "build", "--progress=plain"}
	if !spec.useCache {
		args = append(args, "--no-cache")
	}
	if spec.provenance {
		args = append(args, "--attest", "type=provenance,mode=max")
	}
	if spec.output != "" {
		args = append(args, "--output", strings.Join(append([]string{"type=oci", "dest=" + spec.output}, spec.outputAttrs...), ","))
	}
	if spec.cacheTo != "" {
		// An image manifest (the default of BuildKit v0.22 and later; v0.12 and
		// later export one when asked) is what verify scans.
		args = append(args, "--cache-to", "type=local,mode=max,image-manifest=true,oci-mediatypes=true,dest="+spec.cacheTo)
	}
	args = append(args, spec.flags...)
	if spec.context == "" {
		spec.context = "."
	}
	args = append(args, spec.context)
	return l.run(t, spec, "docker", args)
}

// buildctl runs `buildctl build` against the lab's buildkitd: for the
// frontend options buildx does not expose (dockerfilekey, gateway.v0).
func (l *labSetup) buildctl(t *testing.T, spec buildSpec) buildResult {
	t.Helper()
	checkCSVPaths(t, spec)
	args := []string{"--addr", l.env.BuildkitHost, "build", "--progress=plain", "--no-cache"}
	if spec.provenance {
		args = append(args, "--opt", "attest:provenance=mode=max")
	}
	if spec.output != "" {
		args = append(args, "--output", "type=oci,dest="+spec.output)
	}
	args = append(args, spec.flags...)
	return l.run(t, spec, filepath.Join(l.env.BinDir, "buildctl"), args)
}

func (l *labSetup) run(t *testing.T, spec buildSpec, name string, args []string) buildResult {
	t.Helper()
	buildSlots <- struct{}{}
	defer func() { <-buildSlots }()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = spec.dir
	cmd.Env = append(l.env.Environ(), spec.env...)
	if spec.stdin != nil {
		cmd.Stdin = bytes.NewReader(spec.stdin)
	}
	var out lockedBuffer
	var stdout bytes.Buffer
	cmd.Stdout = io.MultiWriter(&stdout, &out)
	cmd.Stderr = &out
	start := time.Now()
	err := cmd.Run()
	res := buildResult{out: out.buf.Bytes(), stdout: stdout.Bytes(), err: err, dur: time.Since(start)}
	t.Logf("%s %s: %s (%s)", filepath.Base(name), strings.Join(redactArgs(args), " "), errString(err), res.dur.Round(10*time.Millisecond))
	return res
}

// redactArgs shortens what is logged of a command line: values of --label
// and the user info of URLs (a token), and values of
// --build-arg may be secrets (the legacy builds pass canaries that way).
func redactArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if i == 0 {
			continue
		}
		switch {
		case args[i-1] == "--build-arg", args[i-1] == "--label", args[i-1] == "--opt" && strings.HasPrefix(a, "build-arg:"):
			if name, _, ok := strings.Cut(a, "="); ok {
				out[i] = name + "=…"
			}
		default:
			// A URL's user info (a git context with a token).
			if scheme, rest, ok := strings.Cut(a, "://"); ok {
				if at := strings.IndexByte(rest, '@'); at >= 0 && !strings.ContainsAny(rest[:at], "/?#") {
					out[i] = scheme + "://…@" + rest[at+1:]
				}
			}
		}
	}
	return out
}

func errString(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// syntaxLine is the `# syntax=` line naming image, with the line ending the
// Dockerfile uses.
func syntaxLine(image string, dockerfile []byte) []byte {
	eol := "\n"
	if i := bytes.IndexByte(dockerfile, '\n'); i > 0 && dockerfile[i-1] == '\r' {
		eol = "\r\n"
	}
	return []byte("# syntax=" + image + eol)
}

// withSyntax is dockerfile with a `# syntax=image` line first.
func withSyntax(image string, dockerfile []byte) []byte {
	return append(syntaxLine(image, dockerfile), dockerfile...)
}

// writeFile writes data to dir/name, creating directories.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkCSVPaths stops a test whose build would be given a path with a
// comma inside a comma-separated flag value (--output, --cache-to,
// --secret src=): buildx refuses such a flag before any build, and a
// test that takes a failed build for a refusal would pass on it.
// t.TempDir is named after the test, commas included: tempDir is not.
func checkCSVPaths(t *testing.T, spec buildSpec) {
	t.Helper()
	for _, p := range []string{spec.output, spec.cacheTo} {
		if strings.Contains(p, ",") {
			t.Fatalf("the build's output path %q holds a comma, which --output and --cache-to cannot take: make it with tempDir", p)
		}
	}
	for i, f := range spec.flags {
		if f == "--secret" && i+1 < len(spec.flags) {
			if _, src, ok := strings.Cut(spec.flags[i+1], "src="); ok && strings.Contains(src, ",") {
				t.Fatalf("a --secret file's path holds a comma, which the flag cannot take: make it with tempDir")
			}
		}
	}
}

// tempDir is t.TempDir under a name without the test's: a path that
// can go into a comma-separated flag value.
func tempDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "hushbuild-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}
