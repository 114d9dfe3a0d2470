// Package labservers are the servers the real-tools lab runs on loopback for
// builds to fetch from with a credential: an npm registry (bearer token), a
// PEP 503 simple index (basic auth, the URL's or .netrc's) and git over
// HTTP (basic auth, `git http-backend` as a CGI program). One TLS listener
// answers for every host name the lab maps to it (github.com,
// registry.npmjs.org, pypi.example.com, ...), choosing the service by the
// Host header.
//
// Each server refuses a request without a credential and records, for
// every request that carried one, the sha256 of each part (user, password,
// token) in a JSON lines file: never a value. Tests compare those hashes
// with the hashes of the canaries they passed to the build.
package labservers

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cgi"
	"os"
	"path"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Record is one request that carried a credential, or one refused for
// lack of one. Hashes are sha256, hex, of the exact bytes received.
type Record struct {
	Time     time.Time `json:"time"`
	Service  string    `json:"service"` // "npm", "pypi", "git", "ssh"
	Host     string    `json:"host"`
	Path     string    `json:"path"`
	Status   int       `json:"status"`
	User     string    `json:"user_sha256,omitempty"`
	Password string    `json:"password_sha256,omitempty"`
	Token    string    `json:"token_sha256,omitempty"`
	Key      string    `json:"key_sha256,omitempty"` // ssh: the public key blob, base64 as in authorized_keys
}

// Hashes are the credential hashes the record holds.
func (r Record) Hashes() []string {
	var out []string
	for _, h := range []string{r.User, r.Password, r.Token, r.Key} {
		if h != "" {
			out = append(out, h)
		}
	}
	return out
}

// Hash is how records hash a credential.
func Hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Recorder appends records to a file, one JSON object a line.
type Recorder struct {
	mu   sync.Mutex
	path string
}

// NewRecorder appends to the file at path.
func NewRecorder(path string) *Recorder { return &Recorder{path: path} }

// Add appends one record.
func (r *Recorder) Add(rec Record) error {
	rec.Time = rec.Time.UTC()
	if rec.Time.IsZero() {
		rec.Time = time.Now().UTC()
	}
	line, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(append(line, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// ReadRecords reads a records file; a missing file has none. A line that
// is not a record is an error naming its number.
func ReadRecords(path string) ([]Record, error) {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	// A line still being written (no newline yet) is not read.
	if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
		data = data[:i+1]
	} else {
		data = nil
	}
	var out []Record
	for n, line := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var rec Record
		if err := json.Unmarshal(line, &rec); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n+1, err)
		}
		out = append(out, rec)
	}
	return out, nil
}

// Config is what the handler serves.
type Config struct {
	// GitRoot holds the bare repositories (owner/name.git) git serves.
	GitRoot string
	// GitHTTPBackend is the path of git-http-backend.
	GitHTTPBackend string
	// NPMHosts, GitHosts and PublicIndexHosts choose the service by
	// host name; any other host is a private PEP 503 index.
	NPMHosts, GitHosts, PublicIndexHosts []string
}

// DefaultConfig answers for the hosts the examples name.
func DefaultConfig(gitRoot string) Config {
	return Config{
		GitRoot:          gitRoot,
		GitHTTPBackend:   "/usr/lib/git-core/git-http-backend",
		NPMHosts:         []string{"registry.npmjs.org"},
		GitHosts:         []string{"github.com", "gitlab.com", "bitbucket.org"},
		PublicIndexHosts: []string{"pypi.org", "files.pythonhosted.org"},
	}
}

// Handler serves every service, by host.
func Handler(cfg Config, rec *Recorder) http.Handler {
	git := &cgi.Handler{
		Path: cfg.GitHTTPBackend,
		Env:  []string{"GIT_PROJECT_ROOT=" + cfg.GitRoot, "GIT_HTTP_EXPORT_ALL=1"},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := hostOnly(r.Host)
		switch {
		case contains(cfg.NPMHosts, host):
			serveNPM(w, r, rec, host)
		case contains(cfg.GitHosts, host):
			if !basicAuth(w, r, rec, "git", host) {
				return
			}
			git.ServeHTTP(w, r)
		case contains(cfg.PublicIndexHosts, host):
			// The public index has none of the private packages, and
			// needs no credential.
			http.NotFound(w, r)
		default:
			servePyPI(w, r, rec, host)
		}
	})
}

func hostOnly(h string) string {
	if i := strings.LastIndex(h, ":"); i >= 0 && !strings.Contains(h[i:], "]") {
		h = h[:i]
	}
	return strings.ToLower(h)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// basicAuth records the request's basic credentials, or refuses it with a
// challenge. It reports whether the request may go on.
func basicAuth(w http.ResponseWriter, r *http.Request, rec *Recorder, service, host string) bool {
	user, pass, ok := r.BasicAuth()
	if !ok || (user == "" && pass == "") {
		w.Header().Set("WWW-Authenticate", `Basic realm="hushbuild lab"`)
		http.Error(w, "credential required", http.StatusUnauthorized)
		_ = rec.Add(Record{Service: service, Host: host, Path: r.URL.Path, Status: http.StatusUnauthorized})
		return false
	}
	r2 := Record{Service: service, Host: host, Path: r.URL.Path, Status: http.StatusOK, User: Hash(user)}
	if pass != "" {
		r2.Password = Hash(pass)
	}
	_ = rec.Add(r2)
	return true
}

// ---- npm -------------------------------------------------------------------

// NPMVersion is the one version the registry has of every package.
const NPMVersion = "2.1.0"

var npmName = regexp.MustCompile(`^(@[a-z0-9][a-z0-9._-]*/)?[a-z0-9][a-z0-9._-]*$`)

func serveNPM(w http.ResponseWriter, r *http.Request, rec *Recorder, host string) {
	auth := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="hushbuild lab"`)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":"authentication token required"}`)
		_ = rec.Add(Record{Service: "npm", Host: host, Path: r.URL.Path, Status: http.StatusUnauthorized})
		return
	}
	_ = rec.Add(Record{Service: "npm", Host: host, Path: r.URL.Path, Status: http.StatusOK, Token: Hash(token)})
	p := r.URL.Path
	if raw := r.URL.RawPath; raw != "" {
		p = raw
	}
	p = strings.ReplaceAll(strings.TrimPrefix(p, "/"), "%2f", "/")
	p = strings.ReplaceAll(p, "%2F", "/")
	if name, file, ok := strings.Cut(p, "/-/"); ok && npmName.MatchString(name) {
		if file != NPMTarballName(name, NPMVersion) {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(NPMTarball(name, NPMVersion))
		return
	}
	if !npmName.MatchString(p) {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(npmPackument(host, p))
}

// NPMTarballName is the file name of a package's tarball.
func NPMTarballName(name, version string) string {
	_, base, ok := strings.Cut(name, "/")
	if !ok {
		base = name
	}
	return base + "-" + version + ".tgz"
}

// NPMTarballURL is the tarball's URL on host, as a lock file resolves it.
func NPMTarballURL(host, name, version string) string {
	return "https://" + host + "/" + name + "/-/" + NPMTarballName(name, version)
}

// NPMIntegrity is the lock file's integrity of the tarball.
func NPMIntegrity(name, version string) string {
	sum := sha512.Sum512(NPMTarball(name, version))
	return "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
}

func npmPackument(host, name string) map[string]any {
	tgz := NPMTarball(name, NPMVersion)
	sha := sha1.Sum(tgz)
	return map[string]any{
		"name":      name,
		"dist-tags": map[string]string{"latest": NPMVersion},
		"versions": map[string]any{NPMVersion: map[string]any{
			"name":    name,
			"version": NPMVersion,
			"main":    "index.js",
			"dist": map[string]string{
				"tarball":   NPMTarballURL(host, name, NPMVersion),
				"integrity": NPMIntegrity(name, NPMVersion),
				"shasum":    hex.EncodeToString(sha[:]),
			},
		}},
	}
}

// NPMTarball is the package's tarball: package/package.json and
// package/index.js, the same bytes on every call.
func NPMTarball(name, version string) []byte {
	pkg, _ := json.MarshalIndent(map[string]string{"name": name, "version": version, "main": "index.js"}, "", "  ")
	files := []struct {
		name string
		data []byte
	}{
		{"package/package.json", append(pkg, '\n')},
		{"package/index.js", []byte("module.exports = " + fmt.Sprintf("%q", name+"@"+version) + ";\n")},
	}
	var buf bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	tw := tar.NewWriter(gz)
	mtime := time.Date(1985, 10, 26, 8, 15, 0, 0, time.UTC)
	for _, f := range files {
		tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), ModTime: mtime, Typeflag: tar.TypeReg, Format: tar.FormatUSTAR})
		tw.Write(f.data)
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

// ---- PEP 503 -----------------------------------------------------------------

// PyPIVersions are the versions the private index has, by normalized
// project name; any other project has DefaultPyPIVersion.
var PyPIVersions = map[string]string{"requests": "2.32.3"}

// DefaultPyPIVersion is the version of a project PyPIVersions does not name.
const DefaultPyPIVersion = "1.4.2"

var nonAlnum = regexp.MustCompile(`[-_.]+`)

// normalize is PEP 503's name normalization.
func normalize(name string) string { return strings.ToLower(nonAlnum.ReplaceAllString(name, "-")) }

func pypiVersion(project string) string {
	if v, ok := PyPIVersions[project]; ok {
		return v
	}
	return DefaultPyPIVersion
}

// servePyPI answers, under any path prefix: PREFIX/PROJECT/ (the project's
// page) and PREFIX/DIST-VERSION-py3-none-any.whl (a wheel, as the pages
// link it under /files/, or as a Dockerfile names it in a URL).
func servePyPI(w http.ResponseWriter, r *http.Request, rec *Recorder, host string) {
	if !basicAuth(w, r, rec, "pypi", host) {
		return
	}
	p := strings.TrimSuffix(r.URL.Path, "/")
	if strings.HasSuffix(p, ".whl") {
		file := path.Base(p)
		dist, rest, ok := strings.Cut(file, "-")
		version, _, _ := strings.Cut(rest, "-")
		if !ok || file != wheelName(dist, version) {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(Wheel(dist, version))
		return
	}
	project := normalize(path.Base(p))
	if project == "" || project == "." || project == "/" {
		http.NotFound(w, r)
		return
	}
	version := pypiVersion(project)
	dist := strings.ReplaceAll(project, "-", "_")
	whl := Wheel(dist, version)
	sum := sha256.Sum256(whl)
	w.Header().Set("Content-Type", "text/html")
	fmt.Fprintf(w, "<!DOCTYPE html>\n<html><body>\n<a href=\"/files/%s#sha256=%x\">%s</a>\n</body></html>\n",
		wheelName(dist, version), sum, wheelName(dist, version))
}

func wheelName(dist, version string) string { return dist + "-" + version + "-py3-none-any.whl" }

// Wheel is a pure-Python wheel of an empty module named dist, the same
// bytes on every call.
func Wheel(dist, version string) []byte {
	info := dist + "-" + version + ".dist-info/"
	files := []struct{ name, data string }{
		{dist + "/__init__.py", "VERSION = " + fmt.Sprintf("%q", version) + "\n"},
		{info + "METADATA", "Metadata-Version: 2.1\nName: " + dist + "\nVersion: " + version + "\nSummary: a package of the hushbuild lab's private index\n"},
		{info + "WHEEL", "Wheel-Version: 1.0\nGenerator: hushbuild-lab\nRoot-Is-Purelib: true\nTag: py3-none-any\n"},
		{info + "top_level.txt", dist + "\n"},
	}
	var record strings.Builder
	for _, f := range files {
		sum := sha256.Sum256([]byte(f.data))
		fmt.Fprintf(&record, "%s,sha256=%s,%d\n", f.name, base64.RawURLEncoding.EncodeToString(sum[:]), len(f.data))
	}
	fmt.Fprintf(&record, "%sRECORD,,\n", info)
	files = append(files, struct{ name, data string }{info + "RECORD", record.String()})
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	mtime := time.Date(1985, 10, 26, 8, 15, 0, 0, time.UTC)
	for _, f := range files {
		fw, _ := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: mtime})
		io.WriteString(fw, f.data)
	}
	zw.Close()
	return buf.Bytes()
}
