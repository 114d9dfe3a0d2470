package verifytest

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
)

// DaemonImage is an image of a FakeDaemon: the `docker save` archive it
// streams (a file written by DockerSave or Layout.Archive), and how.
type DaemonImage struct {
	Archive string
	// Truncate cuts the stream after that many bytes (0: whole).
	Truncate int
	// SaveStatus answers /images/get with this status instead (0: 200).
	SaveStatus int
}

// FakeDaemon serves the two endpoints of the Docker Engine API that
// `hushbuild verify` uses (GET /images/{name}/json and GET
// /images/get?names={name}) on a unix socket, for the images given by
// name. It is a protocol stand-in for tests on machines without a Docker
// daemon: the archives are built by the test in the formats `docker save`
// writes (legacy manifest.json, or OCI layout plus manifest.json from
// Docker 25 on), and the answers follow the API: JSON with "Id", 404 with
// {"message": "No such image: NAME"}. It returns the DOCKER_HOST of the
// socket and the requests seen so far.
func FakeDaemon(t testing.TB, images map[string]DaemonImage) (host string, requests func() []string) {
	t.Helper()
	// A short directory: unix socket paths are limited to about 100 bytes.
	dir, err := os.MkdirTemp("", "hbd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []string
	notFound := func(w http.ResponseWriter, name string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(map[string]string{"message": "No such image: " + name})
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /images/get", func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("names")
		img, ok := images[name]
		if !ok {
			notFound(w, name)
			return
		}
		if img.SaveStatus != 0 {
			w.WriteHeader(img.SaveStatus)
			json.NewEncoder(w).Encode(map[string]string{"message": "export failed"})
			return
		}
		f, err := os.Open(img.Archive)
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		defer f.Close()
		w.Header().Set("Content-Type", "application/x-tar")
		var src io.Reader = f
		if img.Truncate > 0 {
			src = io.LimitReader(f, int64(img.Truncate))
		}
		io.Copy(w, src)
	})
	mux.HandleFunc("GET /images/", func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/images/"), "/json")
		img, known := images[name]
		if !ok || !known {
			notFound(w, name)
			return
		}
		data, _ := os.ReadFile(img.Archive)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"Id": digest.FromBytes(data).String(), "RepoTags": []string{name}})
	})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.RequestURI())
		mu.Unlock()
		mux.ServeHTTP(w, r)
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return "unix://" + sock, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}
