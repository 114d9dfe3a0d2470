package labenv

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func TestParse(t *testing.T) {
	good := `export HUSHBUILD_LAB_DIR='/lab'
export HUSHBUILD_LAB_BIN='/lab/bin'
export PATH="$HUSHBUILD_LAB_BIN:$PATH"
export BUILDKIT_HOST='unix:///lab/buildkitd.sock'
export HUSHBUILD_REGISTRY='127.0.0.1:5000'
export HUSHBUILD_TESTBASE_IMAGE='127.0.0.1:5000/hushbuild/testbase:latest'
`
	tests := []struct {
		name    string
		content string
		wantErr string
	}{
		{name: "good", content: good},
		{name: "unquoted", content: good + "export X=y\n", wantErr: "not single-quoted"},
		{name: "no equals", content: good + "export X\n", wantErr: "not NAME=VALUE"},
		{name: "missing registry", content: strings.ReplaceAll(good, "HUSHBUILD_REGISTRY", "OTHER"), wantErr: "HUSHBUILD_REGISTRY is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "env")
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			e, err := parse(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parse: got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if e.Registry != "127.0.0.1:5000" || e.BinDir != "/lab/bin" || e.BuildkitHost != "unix:///lab/buildkitd.sock" ||
				e.TestbaseImage != "127.0.0.1:5000/hushbuild/testbase:latest" {
				t.Errorf("parse: got %+v", e)
			}
			if _, ok := e.Vars["PATH"]; ok {
				t.Error("PATH must not be taken as a value")
			}
			env := e.Environ()
			if last := env[len(env)-1]; !strings.HasPrefix(last, "PATH=/lab/bin:") {
				t.Errorf("Environ: PATH is %q, want the lab's bin first", last)
			}
		})
	}
}

// TestLabBuild proves the whole chain: docker buildx with the remote driver,
// buildkitd, the stock Dockerfile frontend pulled from the lab registry as a
// gateway frontend, runc running the test base image's pip stand-in with a
// secret mount.
func TestLabBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: brings up the BuildKit lab")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	env, err := Up(ctx)
	if err != nil {
		t.Fatalf("lab up: %v", err)
	}

	canary := newCanary(t)
	dir := t.TempDir()
	dockerfile := fmt.Sprintf(`# syntax=%s
FROM %s
RUN --mount=type=secret,id=HUSHBUILD_CANARY,env=HUSHBUILD_CANARY HUSHBUILD_PROBE_REQUIRE=1 pip install --extra-index-url "https://u:${HUSHBUILD_CANARY}@pypi.example/simple" pkg
RUN --mount=type=ssh HUSHBUILD_PROBE_REQUIRE=1 git clone git@git.example:o/r.git
`, env.StockFrontendImage, env.TestbaseImage)
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	keyFile, fingerprint := newSSHKey(t)
	archive := filepath.Join(t.TempDir(), "image.tar")
	cmd := exec.CommandContext(ctx, "docker", "buildx", "build", "--progress=plain", "--no-cache",
		"--secret", "id=HUSHBUILD_CANARY,env=HUSHBUILD_CANARY", "--ssh", "default="+keyFile,
		"--output", "type=oci,dest="+archive, dir)
	cmd.Env = append(env.Environ(), "HUSHBUILD_CANARY="+canary)
	out, err := cmd.CombinedOutput()
	log := strings.ReplaceAll(string(out), canary, "<CANARY>")
	if err != nil {
		t.Fatalf("docker buildx build: %v\n%s", err, log)
	}
	if strings.Contains(string(out), canary) {
		t.Errorf("the canary appears in the build output")
	}
	if !strings.Contains(log, env.StockFrontendImage) {
		t.Errorf("the build output does not mention the frontend image %s:\n%s", env.StockFrontendImage, log)
	}
	sum := sha256.Sum256([]byte(canary))
	if want := "hushbuild-probe pip arg sha256=" + hex.EncodeToString(sum[:]); !strings.Contains(log, want) {
		t.Errorf("the build output lacks %q:\n%s", want, log)
	}
	if want := "hushbuild-probe ssh agent sha256=" + fingerprint; !strings.Contains(log, want) {
		t.Errorf("the build output lacks %q (the ssh mount's key):\n%s", want, log)
	}
	if where, err := findInOCIArchive(archive, canary); err != nil {
		t.Errorf("reading the image archive: %v", err)
	} else if where != "" {
		t.Errorf("the canary appears in the image archive, in %s", where)
	}
}

func newCanary(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "hushbuild-canary-" + hex.EncodeToString(b)
}

// newSSHKey writes a new private key for --ssh and returns its path and the
// sha256 of its public key blob (the SHA256 fingerprint, in hex).
func newSSHKey(t *testing.T) (string, string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "hushbuild lab test")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(signer.PublicKey().Marshal())
	return path, hex.EncodeToString(sum[:])
}

// findInOCIArchive names the first entry of an OCI archive, or of a gzip
// blob in it, that contains needle; "" when none does.
func findInOCIArchive(path, needle string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	entries := 0
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", err
		}
		entries++
		data, err := io.ReadAll(tr)
		if err != nil {
			return "", err
		}
		if bytes.Contains(data, []byte(needle)) {
			return hdr.Name, nil
		}
		if zr, err := gzip.NewReader(bytes.NewReader(data)); err == nil {
			plain, err := io.ReadAll(zr)
			if err != nil {
				return "", fmt.Errorf("%s: %w", hdr.Name, err)
			}
			if bytes.Contains(plain, []byte(needle)) {
				return hdr.Name + " (uncompressed)", nil
			}
		}
	}
	if entries == 0 {
		return "", errors.New("empty archive")
	}
	return "", nil
}

func TestDaemon(t *testing.T) {
	path := filepath.Join(t.TempDir(), "env")
	content := `export HUSHBUILD_LAB_DIR='/lab'
export HUSHBUILD_LAB_BIN='/lab/bin'
export BUILDKIT_HOST='unix:///lab/buildkitd.sock'
export BUILDX_BUILDER='hushbuild-lab'
export HUSHBUILD_REGISTRY='127.0.0.1:5000'
export HUSHBUILD_LAB_BUILDKIT='v0.34.2'
export HUSHBUILD_LAB_DAEMONS='v0.12.5 v0.20.2'
`
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := parse(path)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		version, host, builder, log, wantErr string
	}{
		{version: "v0.34.2", host: "unix:///lab/buildkitd.sock", builder: "hushbuild-lab", log: "/lab/logs/buildkitd.log"},
		{version: "v0.12.5", host: "unix:///lab/daemons/v0.12.5/buildkitd.sock", builder: "hushbuild-lab-v0.12.5", log: "/lab/logs/buildkitd-v0.12.5.log"},
		{version: "v0.20.2", host: "unix:///lab/daemons/v0.20.2/buildkitd.sock", builder: "hushbuild-lab-v0.20.2", log: "/lab/logs/buildkitd-v0.20.2.log"},
		{version: "v0.17.0", wantErr: "no buildkitd v0.17.0 runs in the lab"},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			d, err := e.Daemon(tt.version)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Daemon: got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.BuildkitHost != tt.host || d.Vars["BUILDKIT_HOST"] != tt.host || d.BuildxBuilder != tt.builder || d.Vars["BUILDX_BUILDER"] != tt.builder {
				t.Errorf("Daemon: host %q (var %q), builder %q (var %q)", d.BuildkitHost, d.Vars["BUILDKIT_HOST"], d.BuildxBuilder, d.Vars["BUILDX_BUILDER"])
			}
			if got := e.DaemonLog(tt.version); got != tt.log {
				t.Errorf("DaemonLog = %q, want %q", got, tt.log)
			}
		})
	}
	if e.BuildkitHost != "unix:///lab/buildkitd.sock" || e.Vars["BUILDX_BUILDER"] != "hushbuild-lab" {
		t.Error("Daemon changed the lab's own environment")
	}
}
