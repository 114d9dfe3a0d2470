package e2e

import (
	"archive/tar"
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The tests in this file check the suite's own helpers; they need no lab
// and run under -short.

func TestSplitWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`docker buildx build .`, []string{"docker", "buildx", "build", "."}},
		{`--build-arg "DATABASE_PASSWORD=..." .`, []string{"--build-arg", "DATABASE_PASSWORD=...", "."}},
		{`--build-arg SSH_PRIVATE_KEY="$(cat ~/.ssh/id_rsa)" .`, []string{"--build-arg", "SSH_PRIVATE_KEY=$(cat ~/.ssh/id_rsa)", "."}},
		{`a  'b c'	d`, []string{"a", "b c", "d"}},
		{`""`, []string{""}},
	}
	for _, tt := range tests {
		if got := splitWords(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("splitWords(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestBuildFlags(t *testing.T) {
	got := buildFlags(`docker buildx build -t x --progress=plain --build-arg A=1 --secret id=s,src=.env --ssh default --build-arg=B=2 .`)
	want := []cliFlag{{"--build-arg", "A=1"}, {"--secret", "id=s,src=.env"}, {"--ssh", "default"}, {"--build-arg", "B=2"}}
	if !slices.Equal(got, want) {
		t.Errorf("buildFlags = %v, want %v", got, want)
	}
}

func TestReadmeCommand(t *testing.T) {
	readme := []byte("What it shows.\n\nLegacy build:\n\n    docker buildx build --build-arg X=... .\n\nHushbuild build (expected):\n\n    docker buildx build -f Dockerfile.hushbuild .   # not produced\n")
	for heading, want := range map[string]string{
		"Legacy build":    "docker buildx build --build-arg X=... .",
		"Hushbuild build": "docker buildx build -f Dockerfile.hushbuild .",
	} {
		got, err := readmeCommand(readme, heading)
		if err != nil || got != want {
			t.Errorf("readmeCommand(%q) = %q, %v; want %q", heading, got, err, want)
		}
	}
	if _, err := readmeCommand(readme, "Other"); err == nil {
		t.Error("readmeCommand found a command under a missing heading")
	}
}

func TestBaseImages(t *testing.T) {
	tests := []struct {
		name, dockerfile string
		want             []string
	}{
		{"plain", "FROM alpine\nRUN true\n", []string{"alpine"}},
		{"global ARG default", "ARG NODE_VERSION=20\nFROM node:${NODE_VERSION} AS build\nFROM build\n", []string{"node:20"}},
		{"stages are not images", "FROM golang:1.22 AS b\nFROM alpine\nCOPY --from=b /x /x\nCOPY --from=0 /y /y\n", []string{"alpine", "golang:1.22"}},
		{"COPY --from and mount from images", "FROM scratch\nCOPY --from=python:3.9-alpine /a /a\nRUN --mount=from=node:20,target=/n true\n", []string{"node:20", "python:3.9-alpine"}},
		{"stage names are case-insensitive", "FROM alpine AS Base\nFROM base\n", []string{"alpine"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := baseImages([]byte(tt.dockerfile))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("baseImages = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWithSyntax(t *testing.T) {
	if got := string(withSyntax("img", []byte("FROM a\nRUN b\n"))); got != "# syntax=img\nFROM a\nRUN b\n" {
		t.Errorf("LF: %q", got)
	}
	if got := string(withSyntax("img", []byte("FROM a\r\nRUN b\r\n"))); got != "# syntax=img\r\nFROM a\r\nRUN b\r\n" {
		t.Errorf("CRLF: %q", got)
	}
}

func TestCopiesWholeContext(t *testing.T) {
	for df, want := range map[string]bool{
		"FROM a\nCOPY . .\n":                       true,
		"FROM a\nADD ./ /app\n":                    true,
		"FROM a\nCOPY app.py requirements ./":      false,
		"FROM a AS b\nFROM a\nCOPY --from=b . .\n": false,
	} {
		if got := copiesWholeContext([]byte(df)); got != want {
			t.Errorf("copiesWholeContext(%q) = %v, want %v", df, got, want)
		}
	}
}

// layer is a tar stream of entries "path" (a file of n bytes: "path:n"),
// "path/" (a directory) and whiteouts.
func layer(t *testing.T, entries ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{Name: e, Mode: 0o644, Typeflag: tar.TypeReg}
		var data []byte
		if name, size, ok := strings.Cut(e, ":"); ok {
			hdr.Name = name
			var n int
			fmt.Sscan(size, &n)
			data = bytes.Repeat([]byte("x"), n)
		}
		if strings.HasSuffix(hdr.Name, "/") {
			hdr.Typeflag, hdr.Mode = tar.TypeDir, 0o755
		}
		hdr.Size = int64(len(data))
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		tw.Write(data)
	}
	tw.Close()
	return buf.Bytes()
}

func TestApplyLayer(t *testing.T) {
	files := map[string]fileInfo{}
	const mt = "application/vnd.oci.image.layer.v1.tar"
	steps := [][]string{
		{"app/", "app/.netrc:10", "app/keep:3", "etc/", "etc/conf/", "etc/conf/a:1"},
		{"app/.wh..netrc", "etc/conf/.wh..wh..opq", "etc/conf/b:2"},
		{"app/keep:5"},
	}
	for _, s := range steps {
		if err := applyLayer(files, layer(t, s...), mt); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for p, f := range files {
		got = append(got, fmt.Sprintf("%s:%d", p, f.size))
	}
	slices.Sort(got)
	want := []string{"app:0", "app/keep:5", "etc:0", "etc/conf:0", "etc/conf/b:2"}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("merged files = %v, want %v", got, want)
	}
}

func TestExplainDiff(t *testing.T) {
	legacy := map[string]fileInfo{
		"root/.config":          {typ: tar.TypeDir},
		"root/.config/pip":      {typ: tar.TypeDir},
		"root/.config/pip/conf": {typ: tar.TypeReg, size: 9},
		"app/Dockerfile":        {typ: tar.TypeReg, size: 100, mode: 0o644},
		"app/other":             {typ: tar.TypeReg, size: 1},
	}
	hushed := map[string]fileInfo{
		"root/.config":   {typ: tar.TypeDir},
		"app/Dockerfile": {typ: tar.TypeReg, size: 90, mode: 0o644},
		"app/new":        {typ: tar.TypeReg},
	}
	secretPaths := map[string]bool{"root/.config/pip/conf": true}
	got := map[string]bool{}
	for _, d := range diffFiles(legacy, hushed) {
		got[d.path] = explainDiff(d, secretPaths, legacy) != ""
	}
	want := map[string]bool{"root/.config/pip": true, "root/.config/pip/conf": true, "app/Dockerfile": true, "app/other": false, "app/new": false}
	for p, w := range want {
		if e, ok := got[p]; !ok || e != w {
			t.Errorf("%s: listed %v, explained %v; want explained %v", p, ok, e, w)
		}
	}
}

func TestSecretSet(t *testing.T) {
	s := newSecretSet()
	c := s.canary(t, "TOKEN")
	if s.canary(t, "TOKEN") != c {
		t.Fatal("canary: a second call made another value")
	}
	if !strings.HasPrefix(c.value, "hfc_") || len(c.value) != 44 {
		t.Errorf("canary has the wrong shape (length %d)", len(c.value))
	}
	key := s.sshKeyFor(t)
	out := []byte("#7 0.1 hushbuild-probe pip arg sha256=" + sha256Hex(c.value) + "\n" +
		"#8 0.1 hushbuild-probe ssh agent sha256=" + key.secret.hashes[2] + "\n" +
		"#9 0.1 hushbuild-probe npm env sha256=" + sha256Hex("other") + "\n" +
		"token " + c.value + "\n")
	tools := s.toolsThatSaw(out)
	if !slices.Equal(tools["TOKEN"], []string{"pip"}) || !slices.Equal(tools["ssh-key"], []string{"ssh"}) || len(tools) != 2 {
		t.Errorf("toolsThatSaw = %v", tools)
	}
	if got := s.foundIn(out); !slices.Equal(got, []string{"TOKEN"}) {
		t.Errorf("foundIn = %v", got)
	}
	if red := s.redact(out); strings.Contains(red, c.value) || !strings.Contains(red, "<canary:TOKEN>") {
		t.Error("redact left the value in")
	}
	if tests := runSecrets.find([]byte("x " + c.value)); !slices.Equal(tests, []string{t.Name()}) {
		t.Errorf("runSecrets.find = %v", tests)
	}
}

// TestExamplesIndex checks, without the lab, that the index of
// examples/README.md lists every pattern the suite must build.
func TestExamplesIndex(t *testing.T) {
	examples := loadExamples(t, filepath.Join("..", "examples"))
	offline := map[string]string{}
	for _, ex := range examples {
		offline[ex.name] = ex.offline
	}
	for _, name := range requiredExamples {
		if offline[name] != "yes" {
			t.Errorf("example %s is not buildable offline in the index (%q)", name, offline[name])
		}
	}
	for name := range refusedDespiteIndex {
		if offline[name] != "yes" {
			t.Errorf("refusedDespiteIndex lists %s, which the index no longer calls buildable (%q): remove it", name, offline[name])
		}
	}
	for name := range labGaps {
		if offline[name] != "yes" {
			t.Errorf("labGaps lists %s, which the index no longer calls buildable (%q): remove it", name, offline[name])
		}
	}
}
