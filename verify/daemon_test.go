package verify

import (
	"context"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	vt "github.com/hushbuild/hushbuild/verify/verifytest"
)

// TestDockerDaemon reads images from the Docker daemon through its API
// socket. The lab has no Docker daemon: vt.FakeDaemon serves the API's
// two endpoints on a unix socket with archives in `docker save`'s formats,
// built here (a protocol stand-in, see its doc).
func TestDockerDaemon(t *testing.T) {
	c := vt.Canary(t)
	img := amd64Leaky(c)
	legacy := vt.DockerSave(t, img)
	oci := vt.NewLayout(t).Write(img).Archive(vt.Uncompressed)
	clean := vt.DockerSave(t, amd64Leaky("nothing-to-see"))
	data, _ := os.ReadFile(legacy)
	host, requests := vt.FakeDaemon(t, map[string]vt.DaemonImage{
		"app:dev":             {Archive: legacy},
		"ghcr.io/org/app:1.0": {Archive: oci},
		"clean:1":             {Archive: clean},
		"cut:1":               {Archive: legacy, Truncate: len(data) / 2},
		"broken:1":            {Archive: legacy, SaveStatus: http.StatusInternalServerError},
	})
	t.Setenv("DOCKER_HOST", host)
	secret := []Secret{{ID: "S", Value: c}}

	tests := []struct {
		name     string
		opts     Options
		hits     int
		clean    bool
		err      string   // in the error; "" for none
		requests []string // the API requests, in order
	}{
		{"prefix, legacy archive", Options{Image: "docker-daemon:app:dev", Secrets: secret}, 1, false, "",
			[]string{"GET /images/app:dev/json", "GET /images/get?names=app%3Adev"}},
		{"prefix, OCI archive of Docker 25+", Options{Image: "docker-daemon:ghcr.io/org/app:1.0", Secrets: secret}, 1, false, "",
			[]string{"GET /images/ghcr.io/org/app:1.0/json", "GET /images/get?names=ghcr.io%2Forg%2Fapp%3A1.0"}},
		{"--source docker", Options{Image: "app:dev", Source: SourceDocker, Secrets: secret}, 1, false, "", nil},
		{"auto: a name the daemon has", Options{Image: "app:dev", Secrets: secret}, 1, false, "", nil},
		{"clean image", Options{Image: "docker-daemon:clean:1", Secrets: secret}, 0, true, "", nil},
		{"platform filter", Options{Image: "docker-daemon:app:dev", Secrets: secret, Platforms: []string{"linux/arm64"}}, 0, false, "linux/arm64", nil},
		{"no such image", Options{Image: "docker-daemon:nope:1", Secrets: secret}, 0, false, "no such image", []string{"GET /images/nope:1/json"}},
		{"truncated export", Options{Image: "docker-daemon:cut:1", Secrets: secret}, 0, false, "docker daemon image cut:1", nil},
		{"failed export", Options{Image: "docker-daemon:broken:1", Secrets: secret}, 0, false, "500 Internal Server Error: export failed", nil},
		{"not a name", Options{Image: "docker-daemon:a b", Secrets: secret}, 0, false, "is not an image name", nil},
		{"no name", Options{Image: "docker-daemon:", Secrets: secret}, 0, false, "no image name", nil},
		{"auto: the daemon lacks it, the registry is asked", Options{Image: "127.0.0.1:1/none:1", Secrets: secret}, 0, false, "127.0.0.1:1",
			[]string{"GET /images/127.0.0.1:1/none:1/json"}},
		{"--source registry skips the daemon", Options{Image: "127.0.0.1:1/app:dev", Source: SourceRegistry, Secrets: secret}, 0, false, "127.0.0.1:1", []string{}},
		{"bad source", Options{Image: "app:dev", Source: "podman", Secrets: secret}, 0, false, `source "podman"`, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(requests())
			r, err := Scan(context.Background(), tt.opts)
			got := requests()[before:]
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				if r.Clean() {
					t.Error("a failed read says clean")
				}
				if strings.Contains(err.Error(), c) {
					t.Error("the error holds the secret")
				}
			} else {
				if err != nil {
					t.Fatalf("Scan: %v", err)
				}
				if len(r.Hits) != tt.hits || r.Clean() != tt.clean {
					t.Fatalf("%d hits, clean %v; want %d, %v:\n%s", len(r.Hits), r.Clean(), tt.hits, tt.clean, dump(r))
				}
				if !slices.ContainsFunc(r.Notes, func(n string) bool {
					return strings.Contains(n, "from the Docker daemon at "+host+" (image sha256:")
				}) {
					t.Errorf("no note says the image came from the daemon: %q", r.Notes)
				}
			}
			if tt.requests != nil && !slices.Equal(got, tt.requests) && !(len(got) == 0 && len(tt.requests) == 0) {
				t.Errorf("requests %q, want %q", got, tt.requests)
			}
		})
	}
}

// TestDockerDaemonHost checks DOCKER_HOST handling: no socket means no
// daemon in auto mode; TLS is refused; other schemes are errors.
func TestDockerDaemonHost(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
	if d, err := newDaemon(dockerHost()); err != nil || d.available() {
		t.Errorf("a missing socket: %v, available %v", err, d != nil && d.available())
	}
	_, err := Scan(context.Background(), Options{Image: "docker-daemon:app", Patterns: true})
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/docker.sock") {
		t.Errorf("docker-daemon: without a daemon: %v", err)
	}
	t.Setenv("DOCKER_HOST", "tcp://127.0.0.1:2376")
	t.Setenv("DOCKER_TLS_VERIFY", "1")
	if _, err := newDaemon(dockerHost()); err == nil || !strings.Contains(err.Error(), "TLS") {
		t.Errorf("TLS: %v", err)
	}
	if _, err := newDaemon("ssh://host"); err == nil {
		t.Error("ssh:// accepted")
	}
}
