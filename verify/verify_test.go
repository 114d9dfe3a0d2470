package verify

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hushbuild/hushbuild/internal/obscure"
	vt "github.com/hushbuild/hushbuild/verify/verifytest"
)

// run scans with opts and checks that no output form holds a secret value
// (in any of the forms searched).
func run(t *testing.T, opts Options) (*Report, error) {
	t.Helper()
	r, err := Scan(context.Background(), opts)
	if r == nil {
		t.Fatalf("Scan returned no report (err %v)", err)
	}
	var out bytes.Buffer
	r.WriteText(&out)
	r.WriteJSON(&out)
	r.WriteSARIF(&out, "test")
	if err != nil {
		out.WriteString(err.Error())
	}
	for _, s := range opts.Secrets {
		for _, n := range Needles(s.Value) {
			if bytes.Contains(out.Bytes(), n.Value) {
				t.Fatalf("the report holds secret %s in %s form", s.ID, n.Encoding)
			}
		}
	}
	return r, err
}

func mustRun(t *testing.T, opts Options) *Report {
	t.Helper()
	r, err := run(t, opts)
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return r
}

// find returns the hits for which ok holds.
func find(r *Report, ok func(Hit) bool) []Hit {
	var out []Hit
	for _, h := range r.Hits {
		if ok(h) {
			out = append(out, h)
		}
	}
	return out
}

func dump(r *Report) string {
	var b bytes.Buffer
	r.WriteText(&b)
	return b.String()
}

func secretHit(id string) func(Hit) bool {
	return func(h Hit) bool { return h.SecretID == id }
}

func TestDeletedFile(t *testing.T) {
	c := vt.Canary(t)
	l := vt.NewLayout(t).Write(vt.Image{
		Platform: vt.Amd64,
		Layers: []vt.Layer{
			{Files: []vt.File{{Name: "app/", Type: tar.TypeDir}, {Name: "app/.env", Body: "API_TOKEN=" + c + "\n"}}},
			{Files: []vt.File{{Name: "app/.wh..env", Body: ""}}},
			{Files: []vt.File{{Name: "etc/hostname", Body: "x"}}},
		},
	})
	r := mustRun(t, Options{Image: l.Dir, Secrets: []Secret{{ID: "API_TOKEN", Value: c}}})
	hits := find(r, secretHit("API_TOKEN"))
	if len(hits) != 1 {
		t.Fatalf("want 1 hit, got:\n%s", dump(r))
	}
	h := hits[0]
	if h.Kind != KindLayer || h.Layer == nil || *h.Layer != 0 || h.Path != "/app/.env" || h.Platform != "linux/amd64" || h.Offset != int64(len("API_TOKEN=")) {
		t.Errorf("wrong place: %s", dump(r))
	}
	if len(h.Notes) != 1 || !strings.HasPrefix(h.Notes[0], "deleted in layer 1") {
		t.Errorf("want a note that layer 1 deletes the file, got %q", h.Notes)
	}
}

func TestHiddenByOpaqueAndReplaced(t *testing.T) {
	c := vt.Canary(t)
	l := vt.NewLayout(t).Write(vt.Image{
		Platform: vt.Amd64,
		Layers: []vt.Layer{
			{Files: []vt.File{{Name: "a/secret.txt", Body: c}, {Name: "b/secret.txt", Body: c}}},
			{Files: []vt.File{{Name: "a/.wh..wh..opq"}, {Name: "b/secret.txt", Body: "clean"}}},
		},
	})
	r := mustRun(t, Options{Image: l.Dir, Secrets: []Secret{{ID: "S", Value: c}}})
	notes := map[string]string{}
	for _, h := range r.Hits {
		notes[h.Path] = strings.Join(h.Notes, ";")
	}
	if !strings.HasPrefix(notes["/a/secret.txt"], "deleted (a parent directory is made opaque) in layer 1") {
		t.Errorf("/a/secret.txt: notes %q", notes["/a/secret.txt"])
	}
	if !strings.HasPrefix(notes["/b/secret.txt"], "replaced in layer 1") {
		t.Errorf("/b/secret.txt: notes %q", notes["/b/secret.txt"])
	}
}

func TestHistoryEnvLabels(t *testing.T) {
	c := vt.Canary(t)
	cfg := ocispec.Image{
		Config: ocispec.ImageConfig{
			Env:    []string{"PATH=/usr/bin", "DB_PASSWORD=" + c},
			Labels: map[string]string{"build.token": c},
			Cmd:    []string{"sh", "-c", "curl -H 'X: " + c + "' x"},
		},
		History: []ocispec.History{
			{CreatedBy: "ADD rootfs /"},
			{CreatedBy: "ARG PYPI_PASS=" + c, EmptyLayer: true},
			{CreatedBy: "RUN |1 PYPI_PASS=" + c + " /bin/sh -c pip install x"},
		},
	}
	l := vt.NewLayout(t).Write(vt.Image{Platform: vt.Amd64, Config: cfg, Layers: []vt.Layer{{Files: []vt.File{{Name: "x", Body: "y"}}}}})
	r := mustRun(t, Options{Image: l.Dir, Secrets: []Secret{{ID: "PYPI_PASS", Value: c}}})
	fields := map[string]*int{}
	for _, h := range r.Hits {
		if h.Kind != KindConfig {
			t.Errorf("unexpected hit: %s", h.Where())
		}
		fields[h.Field] = h.History
	}
	for _, f := range []string{"config.Env[1]", "config.Labels.build.token", "config.Cmd[2]", "history[1].created_by", "history[2].created_by"} {
		if _, ok := fields[f]; !ok {
			t.Errorf("no hit at %s; got:\n%s", f, dump(r))
		}
	}
	if h := fields["history[2].created_by"]; h == nil || *h != 2 {
		t.Errorf("history index: got %v, want 2", h)
	}
}

func TestAttestation(t *testing.T) {
	c := vt.Canary(t)
	stmt := fmt.Sprintf(`{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v0.2","subject":[],"predicate":{"invocation":{"parameters":{"args":{"build-arg:PYPI_PASS":%q}}}}}`, c)
	l := vt.NewLayout(t).Write(vt.Image{
		Platform:    vt.Amd64,
		Layers:      []vt.Layer{{Files: []vt.File{{Name: "x", Body: "y"}}}},
		Attestation: &vt.Attestation{PredicateType: "https://slsa.dev/provenance/v0.2", Statement: stmt},
	})
	r := mustRun(t, Options{Image: l.Dir, Secrets: []Secret{{ID: "PYPI_PASS", Value: c}}})
	hits := find(r, secretHit("PYPI_PASS"))
	if len(hits) != 1 {
		t.Fatalf("want 1 hit, got:\n%s", dump(r))
	}
	h := hits[0]
	if h.Kind != KindAttestation || h.Field != "predicate.invocation.parameters.args.build-arg:PYPI_PASS" || h.Platform != "linux/amd64" || h.Attestation != "https://slsa.dev/provenance/v0.2" {
		t.Errorf("wrong place: %+v", h)
	}
}

func TestEncodedForms(t *testing.T) {
	c := vt.Canary(t) + "/+?&\"x" // characters that every encoding changes
	var files []vt.File
	for i := 0; i < 3; i++ {
		prefix := strings.Repeat("p", i)
		files = append(files,
			vt.File{Name: fmt.Sprintf("b64std%d", i), Body: base64.StdEncoding.EncodeToString([]byte(prefix + c + "tail"))},
			vt.File{Name: fmt.Sprintf("b64url%d", i), Body: base64.URLEncoding.EncodeToString([]byte(prefix + c))},
		)
	}
	js, _ := json.Marshal(map[string]string{"v": c})
	files = append(files,
		vt.File{Name: "query", Body: "https://x/?p=" + url.QueryEscape(c)},
		vt.File{Name: "path", Body: "https://x/" + url.PathEscape(c)},
		vt.File{Name: "pyquote", Body: "postgresql://app:" + strings.NewReplacer("+", "%2B", "?", "%3F", "&", "%26", `"`, "%22").Replace(c) + "@db/app"}, // urllib.parse.quote: / stays
		vt.File{Name: "json", Body: string(js)},
	)
	l := vt.NewLayout(t).Write(vt.Image{Platform: vt.Amd64, Layers: []vt.Layer{{Files: files}}})
	r := mustRun(t, Options{Image: l.Dir, Secrets: []Secret{{ID: "S", Value: c}}})
	got := map[string]string{}
	for _, h := range r.Hits {
		got[h.Path] = h.Encoding
	}
	for _, f := range files {
		want := map[byte]string{'b': EncBase64, 'q': EncURL, 'p': EncURL, 'j': EncJSON}[f.Name[0]]
		if got["/"+f.Name] != want {
			t.Errorf("%s: found as %q, want %q", f.Name, got["/"+f.Name], want)
		}
	}
}

// TestObscuredPassword: rclone's configuration keeps a password
// obscured, which anyone can reveal: verify reveals it.
func TestObscuredPassword(t *testing.T) {
	c := vt.Canary(t)
	iv := bytes.Repeat([]byte{3}, 16)
	conf := "[backup]\ntype = sftp\nhost = backup.example.com\nuser = ci\npass = " + obscure.Rclone(iv, c) + "\n"
	l := vt.NewLayout(t).Write(vt.Image{Platform: vt.Amd64, Layers: []vt.Layer{{Files: []vt.File{
		{Name: "root/.config/rclone/rclone.conf", Body: conf},
		{Name: "srv/other.conf", Body: "pass = " + obscure.Rclone(iv, "not the secret at all") + "\n"},
	}}}})
	r := mustRun(t, Options{Image: l.Dir, Secrets: []Secret{{ID: "SFTP_PASS", Value: c}}})
	if len(r.Hits) != 1 || r.Hits[0].Path != "/root/.config/rclone/rclone.conf" || r.Hits[0].SecretID != "SFTP_PASS" || r.Hits[0].Encoding != EncObscured {
		t.Errorf("want one hit, SFTP_PASS obscured in rclone.conf, got:\n%s", dump(r))
	}
}

// TestByteArray: `xxd -i` spells a file out as a C array.
func TestByteArray(t *testing.T) {
	c := vt.Canary(t)
	var lits []string
	for _, b := range []byte(c) {
		lits = append(lits, fmt.Sprintf("0x%02x", b))
	}
	h := "unsigned char k[] = {\n  " + strings.Join(lits, ",\n  ") + "\n};\n"
	l := vt.NewLayout(t).Write(vt.Image{Platform: vt.Amd64, Layers: []vt.Layer{{Files: []vt.File{{Name: "src/k.h", Body: h}}}}})
	r := mustRun(t, Options{Image: l.Dir, Secrets: []Secret{{ID: "K", Value: c}}})
	if len(r.Hits) != 1 || r.Hits[0].Path != "/src/k.h" || r.Hits[0].Encoding != EncByteArray {
		t.Errorf("want one hit, K as a byte array in /src/k.h, got:\n%s", dump(r))
	}
}

func TestBase64ConfigFile(t *testing.T) {
	c := vt.Canary(t)
	auth := base64.StdEncoding.EncodeToString([]byte("ci-bot:" + c))
	cfg := `{"auths":{"registry.corp":{"auth":"` + auth + `"}}}`
	l := vt.NewLayout(t).Write(vt.Image{Platform: vt.Amd64, Layers: []vt.Layer{{Files: []vt.File{{Name: "root/.docker/config.json", Body: cfg}}}}})
	r := mustRun(t, Options{Image: l.Dir, Secrets: []Secret{{ID: "REG_PASS", Value: c}}, Patterns: true})
	var sawSecret, sawRule bool
	for _, h := range r.Hits {
		if h.Path != "/root/.docker/config.json" {
			t.Errorf("unexpected hit %s", h.Where())
		}
		sawSecret = sawSecret || (h.SecretID == "REG_PASS" && h.Encoding == EncBase64)
		sawRule = sawRule || h.Rule == "docker-config-auth"
	}
	if !sawSecret || !sawRule {
		t.Errorf("want the base64 secret and the docker-config-auth rule, got:\n%s", dump(r))
	}
}

func TestSymlinks(t *testing.T) {
	c := vt.Canary(t)
	l := vt.NewLayout(t).Write(vt.Image{Platform: vt.Amd64, Layers: []vt.Layer{{Files: []vt.File{
		{Name: "opt/real/", Type: tar.TypeDir},
		{Name: "opt/real/token.txt", Body: c},
		{Name: "app", Type: tar.TypeSymlink, Link: "/opt/real"},
		{Name: "etc/token", Type: tar.TypeSymlink, Link: "../opt/real/token.txt"},
		{Name: "loop/a", Type: tar.TypeSymlink, Link: "b"},
		{Name: "loop/b", Type: tar.TypeSymlink, Link: "a"},
		{Name: "opt/hard", Type: tar.TypeLink, Link: "opt/real/token.txt"},
	}}}})
	r := mustRun(t, Options{Image: l.Dir, Secrets: []Secret{{ID: "S", Value: c}}})
	hits := find(r, secretHit("S"))
	if len(hits) != 1 || hits[0].Path != "/opt/real/token.txt" {
		t.Fatalf("want one hit in /opt/real/token.txt, got:\n%s", dump(r))
	}
}

func TestMultiPlatformOneLeaks(t *testing.T) {
	c := vt.Canary(t)
	base := vt.Layer{Files: []vt.File{{Name: "bin/sh", Body: "#!shell"}}}
	l := vt.NewLayout(t).Write(
		vt.Image{Platform: vt.Amd64, Layers: []vt.Layer{base, {Files: []vt.File{{Name: "app/run", Body: "clean"}}}}},
		vt.Image{Platform: vt.Arm64, Layers: []vt.Layer{base, {Files: []vt.File{{Name: "app/run", Body: "token " + c}}, Compression: vt.Zstd}}},
	)
	r := mustRun(t, Options{Image: l.Dir, Secrets: []Secret{{ID: "S", Value: c}}})
	if len(r.Hits) != 1 || r.Hits[0].Platform != "linux/arm64" || *r.Hits[0].Layer != 1 || r.Hits[0].Path != "/app/run" {
		t.Fatalf("want one hit in linux/arm64 layer 1, got:\n%s", dump(r))
	}
	if r.Stats.Manifests != 2 || r.Stats.Layers != 3 {
		t.Errorf("stats %+v: want 2 manifests and 3 distinct layers", r.Stats)
	}
	// With a platform filter, the leaking platform is not scanned.
	r = mustRun(t, Options{Image: l.Dir, Secrets: []Secret{{ID: "S", Value: c}}, Platforms: []string{"linux/amd64"}})
	if !r.Clean() {
		t.Errorf("linux/amd64 only: want clean, got:\n%s", dump(r))
	}
}

func TestCompressions(t *testing.T) {
	for _, cp := range []vt.Compression{vt.Gzip, vt.Zstd, vt.Uncompressed} {
		c := vt.Canary(t)
		l := vt.NewLayout(t).Write(vt.Image{Platform: vt.Amd64, Layers: []vt.Layer{{Compression: cp, Files: []vt.File{{Name: "f", Body: c}}}}})
		r := mustRun(t, Options{Image: l.Dir, Secrets: []Secret{{ID: "S", Value: c}}})
		if len(r.Hits) != 1 {
			t.Errorf("compression %d: got:\n%s", cp, dump(r))
		}
	}
}

func TestBlockBoundaries(t *testing.T) {
	c := vt.Canary(t)
	// A large file with the secret across each block boundary, and many
	// small files around it.
	big := bytes.Repeat([]byte("abcdefgh"), 3*blockSize/8)
	for _, at := range []int{blockSize - 5, 2*blockSize - 1, len(big) - len(c)} {
		copy(big[at:], c)
	}
	files := []vt.File{{Name: "big", Body: string(big)}}
	for i := 0; i < 5000; i++ {
		files = append(files, vt.File{Name: fmt.Sprintf("small/%d", i), Body: "x"})
	}
	files = append(files, vt.File{Name: "last", Body: "a" + c})
	l := vt.NewLayout(t).Write(vt.Image{Platform: vt.Amd64, Layers: []vt.Layer{{Files: files}}})
	r := mustRun(t, Options{Image: l.Dir, Secrets: []Secret{{ID: "S", Value: c}}})
	got := map[string]Hit{}
	for _, h := range r.Hits {
		got[h.Path] = h
	}
	if h := got["/big"]; h.Count != 3 || h.Offset != blockSize-5 {
		t.Errorf("/big: %d hits from offset %d, want 3 from %d", h.Count, h.Offset, blockSize-5)
	}
	if h := got["/last"]; h.Count != 1 || h.Offset != 1 {
		t.Errorf("/last: %+v", h)
	}
	if r.Stats.Files != len(files) {
		t.Errorf("files: %d, want %d", r.Stats.Files, len(files))
	}
}

func TestPatternsAndRedactedNames(t *testing.T) {
	c := vt.Canary(t)
	tok := "ghp_" + strings.Repeat("a1B2", 9)
	l := vt.NewLayout(t).Write(vt.Image{Platform: vt.Amd64, Layers: []vt.Layer{{Files: []vt.File{
		{Name: "src/.git/config", Body: "[remote \"origin\"]\n\turl = https://bot:" + c + "@git.corp/x.git\n"},
		{Name: "tokens/" + c + ".txt", Body: "clean"},
		{Name: "etc/gh", Body: "GH=" + tok},
		{Name: "link", Type: tar.TypeSymlink, Link: "/run/" + c},
	}}}})
	r := mustRun(t, Options{Image: l.Dir, Secrets: []Secret{{ID: "S", Value: c}}, Patterns: true})
	want := []string{
		"S /src/.git/config content", "url-userinfo /src/.git/config content",
		"S /tokens/<redacted>.txt name",
		"github-token /etc/gh content",
		"S /link linkname",
	}
	var got []string
	for _, h := range r.Hits {
		what := h.Rule
		if what == "" {
			what = h.SecretID
		}
		got = append(got, what+" "+h.Path+" "+h.In)
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || g == w
		}
		if !found {
			t.Errorf("missing %q in %q", w, got)
		}
	}
	// Patterns off: only the known value.
	r = mustRun(t, Options{Image: l.Dir, Secrets: []Secret{{ID: "S", Value: c}}})
	for _, h := range r.Hits {
		if h.Rule != "" {
			t.Errorf("rule %s ran with patterns off", h.Rule)
		}
	}
}

// TestXattrRecords: a value in an extended attribute of a layer's entry
// (a PAX record SCHILY.xattr.NAME: curl --xattr's user.xdg.origin.url, a
// setfattr) is found, raw and escaped, in the entry's header.
func TestXattrRecords(t *testing.T) {
	c := vt.Canary(t)
	v := c[:8] + "~ *!/+=&" + c[8:]
	l := vt.NewLayout(t).Write(vt.Image{Platform: vt.Amd64, Layers: []vt.Layer{{Files: []vt.File{
		{Name: "opt/agent.tar.gz", Body: "x", Xattrs: map[string]string{"user.xdg.origin.url": "https://dl.example.com/a.tgz?token=" + escapeBytes(v, "-._", true), "user.mime_type": "application/gzip"}},
		{Name: "srv", Type: tar.TypeDir, Xattrs: map[string]string{"user.token": v}},
		{Name: "clean", Body: "x", Xattrs: map[string]string{"user.xdg.origin.url": "https://dl.example.com/clean"}},
	}}}})
	r := mustRun(t, Options{Image: l.Dir, Secrets: []Secret{{ID: "S", Value: v}}})
	var got []string
	for _, h := range r.Hits {
		got = append(got, h.Path+" "+h.In+" "+h.Encoding)
	}
	sort.Strings(got)
	want := []string{"/opt/agent.tar.gz header url", "/srv header raw"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("hits %q, want %q", got, want)
	}
}

func TestArchives(t *testing.T) {
	c := vt.Canary(t)
	img := vt.Image{Platform: vt.Amd64, Layers: []vt.Layer{
		{Files: []vt.File{{Name: "root/.netrc", Body: "machine x login y password " + c + "\n"}}},
		{Files: []vt.File{{Name: "root/.wh..netrc"}}},
	}}
	l := vt.NewLayout(t).Write(img)
	for name, path := range map[string]string{
		"oci archive":         l.Archive(vt.Uncompressed),
		"gzipped oci archive": l.Archive(vt.Gzip),
		"docker save":         vt.DockerSave(t, img),
	} {
		t.Run(name, func(t *testing.T) {
			r := mustRun(t, Options{Image: path, Secrets: []Secret{{ID: "NETRC", Value: c}}})
			if len(r.Hits) != 1 || r.Hits[0].Path != "/root/.netrc" || *r.Hits[0].Layer != 0 || len(r.Hits[0].Notes) != 1 {
				t.Fatalf("got:\n%s", dump(r))
			}
		})
	}
}

func TestLayoutThroughSymlink(t *testing.T) {
	c := vt.Canary(t)
	l := vt.NewLayout(t).Write(vt.Image{Platform: vt.Amd64, Layers: []vt.Layer{{Files: []vt.File{{Name: "f", Body: c}}}}})
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(l.Dir, link); err != nil {
		t.Fatal(err)
	}
	r := mustRun(t, Options{Image: link, Secrets: []Secret{{ID: "S", Value: c}}})
	if len(r.Hits) != 1 {
		t.Fatalf("got:\n%s", dump(r))
	}
}

func TestShortSecretNote(t *testing.T) {
	l := vt.NewLayout(t).Write(vt.Image{Platform: vt.Amd64, Layers: []vt.Layer{{Files: []vt.File{{Name: "f", Body: "abc"}}}}})
	r := mustRun(t, Options{Image: l.Dir, Secrets: []Secret{{ID: "TINY", Value: "abc"}}})
	if !r.Clean() || len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "TINY") {
		t.Fatalf("want clean with a note, got:\n%s", dump(r))
	}
}

func TestManifestAnnotations(t *testing.T) {
	c := vt.Canary(t)
	l := vt.NewLayout(t).Write(vt.Image{Platform: vt.Amd64, Annotations: map[string]string{"org.example.token": c},
		Layers: []vt.Layer{{Files: []vt.File{{Name: "x", Body: "y"}}}}})
	r := mustRun(t, Options{Image: l.Dir, Secrets: []Secret{{ID: "S", Value: c}}})
	if len(r.Hits) != 1 || r.Hits[0].Kind != KindManifest || r.Hits[0].Field != "annotations.org.example.token" || r.Hits[0].Platform != "linux/amd64" {
		t.Fatalf("got:\n%s", dump(r))
	}
}

func TestNaturalOrder(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"history[2].created_by", "history[10].created_by", -1},
		{"a[10]", "a[9]", 1},
		{"a[010]", "a[10]", 0},
		{"abc", "abd", -1},
		{"x", "x.y", -1},
	} {
		if got := natural(tc.a, tc.b); got != tc.want {
			t.Errorf("natural(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestValueWithNewline(t *testing.T) {
	c := vt.Canary(t)
	l := vt.NewLayout(t).Write(vt.Image{Platform: vt.Amd64, Layers: []vt.Layer{{Files: []vt.File{{Name: "f", Body: "x=" + c + ";"}}}}})
	r := mustRun(t, Options{Image: l.Dir, Secrets: []Secret{{ID: "S", Value: c + "\n"}}})
	if len(r.Hits) != 1 {
		t.Fatalf("got:\n%s", dump(r))
	}
}
