package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"
)

// DaemonPrefix names an image of the local Docker daemon's store, as
// skopeo and podman write it: docker-daemon:app:dev.
const DaemonPrefix = "docker-daemon:"

// Sources of an image (Options.Source).
const (
	// SourceAuto reads a path as a file or layout; a name that is not a
	// path from the Docker daemon when it is running and has an image of
	// that name, else from its registry (as trivy and syft do).
	SourceAuto = ""
	// SourceDocker reads the image from the Docker daemon only.
	SourceDocker = "docker"
	// SourceRegistry reads a name from its registry only.
	SourceRegistry = "registry"
)

// DefaultDockerHost is where the Docker daemon listens when DOCKER_HOST
// is not set.
const DefaultDockerHost = "unix:///var/run/docker.sock"

// daemon talks to the Docker Engine API over its socket, with plain
// net/http: GET /images/{name}/json to find the image, GET
// /images/get?names={name} for its `docker save` archive. Unversioned API
// paths: the daemon answers them with its own API version.
type daemon struct {
	host   string // as DOCKER_HOST writes it
	client *http.Client
	base   string // URL prefix of the API
}

// dockerHost is the daemon's address: DOCKER_HOST, else the default
// socket.
func dockerHost() string {
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return h
	}
	return DefaultDockerHost
}

// newDaemon returns a client of the daemon at host: unix:///path, or
// tcp://host:port without TLS (a daemon that wants TLS is refused: its
// certificates are the Docker CLI's business).
func newDaemon(host string) (*daemon, error) {
	u, err := url.Parse(host)
	if err != nil {
		return nil, fmt.Errorf("docker daemon %q: %w", host, err)
	}
	d := &daemon{host: host}
	tr := &http.Transport{ResponseHeaderTimeout: 60 * time.Second}
	switch u.Scheme {
	case "unix":
		sock := u.Path
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var dl net.Dialer
			return dl.DialContext(ctx, "unix", sock)
		}
		d.base = "http://docker"
	case "tcp", "http":
		if os.Getenv("DOCKER_TLS_VERIFY") != "" {
			return nil, fmt.Errorf("docker daemon %s: TLS (DOCKER_TLS_VERIFY) is not supported: use `docker save NAME | hushbuild verify -`", host)
		}
		d.base = "http://" + u.Host
	default:
		return nil, fmt.Errorf("docker daemon %q: want unix:///path or tcp://host:port", host)
	}
	d.client = &http.Client{Transport: tr}
	return d, nil
}

// available reports whether the daemon's socket exists: auto mode asks
// the daemon only then, so that a machine without Docker goes straight
// to the registry.
func (d *daemon) available() bool {
	u, err := url.Parse(d.host)
	if err != nil {
		return false
	}
	if u.Scheme != "unix" {
		return true
	}
	st, err := os.Stat(u.Path)
	return err == nil && st.Mode()&os.ModeSocket != 0
}

// imageName is what an image name, ID or reference may hold.
var imageName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/:@+-]*$`)

// errNoSuchImage is the daemon's 404 for an image name.
var errNoSuchImage = errors.New("no such image")

// inspect returns the image's ID, errNoSuchImage when the daemon has no
// image of that name.
func (d *daemon) inspect(ctx context.Context, name string) (string, error) {
	if !imageName.MatchString(name) {
		return "", fmt.Errorf("docker daemon: %q is not an image name, ID or reference", name)
	}
	// The name goes in the path as it is, as the Docker CLI sends it
	// ("/images/ghcr.io/org/app:1/json"); the daemon's router takes the
	// rest of the path up to "/json".
	resp, err := d.get(ctx, "/images/"+name+"/json")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var img struct {
		ID string `json:"Id"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&img); err != nil {
		return "", fmt.Errorf("docker daemon %s: inspecting %s: %w", d.host, name, err)
	}
	return img.ID, nil
}

// save streams the `docker save` archive of the image.
func (d *daemon) save(ctx context.Context, name string) (io.ReadCloser, error) {
	resp, err := d.get(ctx, "/images/get?names="+url.QueryEscape(name))
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// get does a GET and turns a status other than 200 into an error with
// the daemon's message.
func (d *daemon) get(ctx context.Context, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.base+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("docker daemon %s: %w", d.host, err)
	}
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	defer resp.Body.Close()
	var msg struct{ Message string }
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if json.Unmarshal(body, &msg) != nil || msg.Message == "" {
		msg.Message = strings.TrimSpace(string(body))
	}
	if resp.StatusCode == http.StatusNotFound {
		return nil, fmt.Errorf("%w (docker daemon %s: %s)", errNoSuchImage, d.host, msg.Message)
	}
	return nil, fmt.Errorf("docker daemon %s: %s: %s", d.host, resp.Status, msg.Message)
}

// openDaemon reads the image name from the daemon at host: its `docker
// save` archive is spooled to a temporary file like standard input. The
// note says where it was read from, and which image that was.
func openDaemon(ctx context.Context, d *daemon, name string) (source, string, error) {
	id, err := d.inspect(ctx, name)
	if err != nil {
		return nil, "", err
	}
	body, err := d.save(ctx, name)
	if err != nil {
		return nil, "", err
	}
	defer body.Close()
	src, err := openArchiveStream("docker daemon image "+name, body)
	if err != nil {
		return nil, "", err
	}
	return src, fmt.Sprintf("read %s from the Docker daemon at %s (image %s)", name, d.host, id), nil
}
