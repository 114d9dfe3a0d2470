package labservers

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	dir := t.TempDir()
	rec := NewRecorder(filepath.Join(dir, "seen.jsonl"))
	h := Handler(DefaultConfig(filepath.Join(dir, "git")), rec)
	tarball := "/@acme/private-lib/-/" + NPMTarballName("@acme/private-lib", NPMVersion)
	tests := []struct {
		name, host, path string
		user, pass       string // basic auth when either is set
		bearer           string
		wantStatus       int
		wantBody         string
		wantHashes       []string // of the record the request leaves
	}{
		{name: "npm without token", host: "registry.npmjs.org", path: "/@acme%2fprivate-lib", wantStatus: 401},
		{name: "npm basic is no token", host: "registry.npmjs.org", path: "/@acme%2fprivate-lib", user: "u", pass: "pw-basic", wantStatus: 401},
		{name: "npm packument", host: "registry.npmjs.org", path: "/@acme%2fprivate-lib", bearer: "tok-1", wantStatus: 200,
			wantBody: `"tarball":"https://registry.npmjs.org` + tarball + `"`, wantHashes: []string{Hash("tok-1")}},
		{name: "npm tarball", host: "registry.npmjs.org", path: tarball, bearer: "tok-2", wantStatus: 200, wantHashes: []string{Hash("tok-2")}},
		{name: "npm other version", host: "registry.npmjs.org", path: "/@acme/private-lib/-/private-lib-9.9.9.tgz", bearer: "tok-2", wantStatus: 404, wantHashes: []string{Hash("tok-2")}},
		{name: "pypi without credential", host: "pypi.example.com", path: "/simple/privatestuff/", wantStatus: 401},
		{name: "pypi page", host: "pypi.example.com:443", path: "/simple/Private_Stuff/", user: "ci-bot", pass: "pw-1", wantStatus: 200,
			wantBody: `href="/files/private_stuff-1.4.2-py3-none-any.whl#sha256=`, wantHashes: []string{Hash("ci-bot"), Hash("pw-1")}},
		{name: "pypi any prefix", host: "my.pypi.com", path: "/pypi/requests/", user: "m", pass: "pw-2", wantStatus: 200,
			wantBody: "requests-2.32.3-py3-none-any.whl", wantHashes: []string{Hash("m"), Hash("pw-2")}},
		{name: "pypi wheel", host: "pypi.example.com", path: "/files/privatestuff-1.4.2-py3-none-any.whl", user: "u", pass: "pw-3", wantStatus: 200, wantHashes: []string{Hash("u"), Hash("pw-3")}},
		{name: "wheel by URL", host: "artifactory.example.com", path: "/artifactory/team/package-1.1-py3-none-any.whl", user: "user", pass: "pw-4", wantStatus: 200, wantHashes: []string{Hash("user"), Hash("pw-4")}},
		{name: "wheel name without a version", host: "pypi.example.com", path: "/files/privatestuff.whl", user: "u", pass: "pw-5", wantStatus: 404, wantHashes: []string{Hash("u"), Hash("pw-5")}},
		{name: "pypi token as user", host: "pypi.example.com", path: "/simple/x/", user: "tok-3", wantStatus: 200, wantHashes: []string{Hash("tok-3")}},
		{name: "public index has nothing", host: "pypi.org", path: "/simple/privatestuff/", wantStatus: 404},
		{name: "git without credential", host: "github.com", path: "/acme/private-config.git/info/refs", wantStatus: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := ReadRecords(filepath.Join(dir, "seen.jsonl"))
			req := httptest.NewRequest(http.MethodGet, "https://"+tt.host+tt.path, nil)
			req.Host = tt.host
			if tt.user != "" || tt.pass != "" {
				req.SetBasicAuth(tt.user, tt.pass)
			}
			if tt.bearer != "" {
				req.Header.Set("Authorization", "Bearer "+tt.bearer)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d", w.Code, tt.wantStatus)
			}
			if !strings.Contains(w.Body.String(), tt.wantBody) {
				t.Errorf("body lacks %q:\n%s", tt.wantBody, w.Body)
			}
			after, err := ReadRecords(filepath.Join(dir, "seen.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			added := after[len(before):]
			if tt.wantHashes == nil && tt.wantStatus != 401 {
				if len(added) != 0 {
					t.Errorf("recorded %d request(s) that carried nothing", len(added))
				}
				return
			}
			if len(added) != 1 {
				t.Fatalf("recorded %d request(s), want 1", len(added))
			}
			got := added[0].Hashes()
			if strings.Join(got, ",") != strings.Join(tt.wantHashes, ",") {
				t.Errorf("hashes %v, want %v", got, tt.wantHashes)
			}
			for _, secret := range []string{tt.pass, tt.bearer} {
				if secret != "" && bytes.Contains(mustRead(t, filepath.Join(dir, "seen.jsonl")), []byte(secret)) {
					t.Errorf("the records hold a credential's value")
				}
			}
		})
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWheel(t *testing.T) {
	w := Wheel("privatestuff", "1.4.2")
	if !bytes.Equal(w, Wheel("privatestuff", "1.4.2")) {
		t.Fatal("two wheels of one version differ")
	}
	zr, err := zip.NewReader(bytes.NewReader(w), int64(len(w)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	record := string(files["privatestuff-1.4.2.dist-info/RECORD"])
	for name, data := range files {
		if strings.HasSuffix(name, "/RECORD") {
			continue
		}
		sum := sha256.Sum256(data)
		want := name + ",sha256=" + base64.RawURLEncoding.EncodeToString(sum[:]) + ","
		if !strings.Contains(record, want) {
			t.Errorf("RECORD lacks %q", want)
		}
	}
	if !strings.Contains(string(files["privatestuff-1.4.2.dist-info/METADATA"]), "Version: 1.4.2") {
		t.Error("METADATA names another version")
	}
}

func TestNPMTarball(t *testing.T) {
	tgz := NPMTarball("@acme/private-lib", "2.1.0")
	if NPMIntegrity("@acme/private-lib", "2.1.0") != NPMIntegrity("@acme/private-lib", "2.1.0") || !bytes.Equal(tgz, NPMTarball("@acme/private-lib", "2.1.0")) {
		t.Fatal("the tarball is not the same bytes on every call")
	}
	gz, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
	}
	if strings.Join(names, ",") != "package/package.json,package/index.js" {
		t.Errorf("tarball holds %v", names)
	}
	if got := NPMTarballURL("registry.npmjs.org", "@acme/private-lib", "2.1.0"); got != "https://registry.npmjs.org/@acme/private-lib/-/private-lib-2.1.0.tgz" {
		t.Errorf("tarball URL %s", got)
	}
}

func TestReadRecords(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, data string
		want       int
		wantErr    bool
	}{
		{"missing file", "", 0, false},
		{"two records", `{"service":"npm","status":200}` + "\n" + `{"service":"ssh","key_sha256":"ab"}` + "\n", 2, false},
		{"a line being written", `{"service":"npm"}` + "\n" + `{"serv`, 1, false},
		{"blank lines", "\n\n" + `{"service":"git"}` + "\n\n", 1, false},
		{"garbage", "not json\n", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))
			if tt.data != "" {
				if err := os.WriteFile(p, []byte(tt.data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			recs, err := ReadRecords(p)
			if (err != nil) != tt.wantErr || len(recs) != tt.want {
				t.Errorf("ReadRecords = %d records, %v; want %d, error %v", len(recs), err, tt.want, tt.wantErr)
			}
		})
	}
}

func FuzzReadRecords(f *testing.F) {
	f.Add([]byte(`{"service":"npm","token_sha256":"00"}` + "\n"))
	f.Add([]byte("{}\n{"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "seen.jsonl")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		recs, err := ReadRecords(p)
		if err == nil && len(recs) > bytes.Count(data, []byte("\n")) {
			t.Errorf("%d records from %d lines", len(recs), bytes.Count(data, []byte("\n")))
		}
	})
}

func FuzzHostOnly(f *testing.F) {
	for _, s := range []string{"github.com", "GitHub.com:443", "[::1]:443", "[::1]", "a:b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		got := hostOnly(h)
		if strings.ToLower(got) != got || len(got) > len(h) {
			t.Errorf("hostOnly(%q) = %q", h, got)
		}
	})
}
