package checker

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/hushbuild/hushbuild/internal/nest/nesttest"
)

func arOf(members ...string) []byte { return nesttest.Ar(members...) }

func packOf(t testing.TB, insert string, blobs ...string) []byte {
	return nesttest.Pack(insert, blobs...)
}

// TestScanTreeEmbedded: archives that do not start where their file
// does, or that their first bytes do not open (an ar archive, a git
// packfile), and base64 that holds compressed data or base64.
func TestScanTreeEmbedded(t *testing.T) {
	type tc = treeCase
	settings := func(v string) string {
		return "[db]\npassword = " + v + "\n" + strings.Repeat("[worker]\nthreads = 4\n", 40)
	}
	script := "#!/bin/sh\n# launcher\nexec java -jar \"$0\" \"$@\"\n"
	tests := []tc{
		{name: "python zipapp after its shebang", build: func(t *testing.T, dir, v string) {
			writeBytes(t, dir, "usr/local/bin/app.pyz", append([]byte("#!/usr/bin/env python3\n"), zipped(t, zipEntry{name: "__main__.py", data: "print(1)\n"}, zipEntry{name: "settings.ini", data: settings(v)})...))
		}, want: []Finding{{Path: "/usr/local/bin/app.pyz:settings.ini", Where: "content", Encoding: "raw"}}},
		{name: "executable fat jar: a launch script, a jar stored inside", build: func(t *testing.T, dir, v string) {
			lib := zipped(t, zipEntry{name: "application.properties", data: settings(v)})
			jar := zipped(t, zipEntry{name: "BOOT-INF/lib/config.jar", data: string(lib), method: "store"}, zipEntry{name: "META-INF/MANIFEST.MF", data: "Main-Class: x\n"})
			writeBytes(t, dir, "app.jar", append([]byte(script+strings.Repeat("# launch script line\n", 300)), jar...))
		}, want: []Finding{{Path: "/app.jar:BOOT-INF/lib/config.jar:application.properties", Where: "content", Encoding: "raw"}}},
		{name: "self-extracting zip after an ELF stub", build: func(t *testing.T, dir, v string) {
			writeBytes(t, dir, "setup.bin", append([]byte("\x7fELF\x02\x01\x01\x00"+strings.Repeat("\x00stub", 100)), zipped(t, zipEntry{name: "etc/app.conf", data: settings(v)})...))
		}, want: []Finding{{Path: "/setup.bin:etc/app.conf", Where: "content", Encoding: "raw"}}},
		{name: ".deb: data.tar.xz in an ar archive", build: func(t *testing.T, dir, v string) {
			deb := arOf("debian-binary", "2.0\n", "control.tar.gz", string(tarGz(t, "./control", "Package: acme\n")), "data.tar.xz", string(xzed(t, tarOf(t, "./etc/acme/agent.conf", settings(v)))))
			writeBytes(t, dir, "opt/acme.deb", deb)
		}, want: []Finding{{Path: "/opt/acme.deb:data.tar.xz (xz)", Where: "content", Encoding: "raw"}}},
		{name: ".deb: data.tar.zst", build: func(t *testing.T, dir, v string) {
			deb := arOf("debian-binary", "2.0\n", "data.tar.zst", string(zstded(t, tarOf(t, "./etc/acme/agent.conf", settings(v)))))
			writeBytes(t, dir, "acme.deb", deb)
		}, want: []Finding{{Path: "/acme.deb:data.tar.zst (zstd)", Where: "content", Encoding: "raw"}}},
		{name: "clean .deb", build: func(t *testing.T, dir, v string) {
			writeBytes(t, dir, "acme.deb", arOf("debian-binary", "2.0\n", "data.tar.gz", string(tarGz(t, "./etc/x", "clean\n"))))
		}},
		{name: "git packfile: a blob", build: func(t *testing.T, dir, v string) {
			writeBytes(t, dir, "app/.git/objects/pack/pack-1.pack", packOf(t, "", "README\n", settings(v)))
		}, want: []Finding{{Path: "/app/.git/objects/pack/pack-1.pack (git pack)", Where: "content", Encoding: "raw"}}},
		{name: "git packfile: a delta inserts the value", build: func(t *testing.T, dir, v string) {
			writeBytes(t, dir, "pack.pack", packOf(t, "password = "+v+"\n", strings.Repeat("clean line\n", 20)))
		}, want: []Finding{{Path: "/pack.pack (git pack)", Where: "content", Encoding: "raw"}}},
		{name: "broken git packfile", build: func(t *testing.T, dir, v string) {
			p := packOf(t, "", strings.Repeat("clean line\n", 200))
			writeBytes(t, dir, "pack.pack", p[:40])
		}, notes: []string{"/pack.pack (git pack): a git packfile that cannot be read"}},
		{name: "installer script with a .tar.gz appended", build: func(t *testing.T, dir, v string) {
			writeBytes(t, dir, "opt/app-installer.run", append([]byte("#!/bin/sh\ntail -n +4 \"$0\" | tar xzf -\nexit 0\n"), tarGz(t, "./app.conf", settings(v))...))
		}, want: []Finding{{Path: "/opt/app-installer.run (after the script) (gzip)", Where: "content", Encoding: "raw"}}},
		{name: "installer script over 256 KiB with a .tar.xz appended", build: func(t *testing.T, dir, v string) {
			writeBytes(t, dir, "app.run", append([]byte("#!/bin/sh\n"+strings.Repeat(": padding\n", 40000)), xzed(t, tarOf(t, "./app.conf", settings(v)))...))
		}, want: []Finding{{Path: "/app.run (after the script) (xz)", Where: "content", Encoding: "raw"}}},
		{name: "clean script", build: func(t *testing.T, dir, v string) {
			write(t, dir, "run.sh", "#!/bin/sh\necho BZh9 is bzip2's magic\n")
		}},
		{name: "gzip in base64 (cloud-init gz+b64)", build: func(t *testing.T, dir, v string) {
			write(t, dir, "etc/cloud/user-data", "#cloud-config\nwrite_files:\n- encoding: gz+b64\n  content: "+base64.StdEncoding.EncodeToString(gzipped(t, []byte("DB_PASSWORD="+v+"\n")))+"\n")
		}, want: []Finding{{Path: "/etc/cloud/user-data (base64) (gzip)", Where: "content", Encoding: "raw"}}},
		{name: "gzip in base64, wrapped", build: func(t *testing.T, dir, v string) {
			write(t, dir, "payload.b64", b64wrap(gzipped(t, []byte(settings(v))), "\n"))
		}, want: []Finding{{Path: "/payload.b64 (base64) (gzip)", Where: "content", Encoding: "raw"}}},
		{name: "base64 in base64 (a dockerconfigjson Secret)", build: func(t *testing.T, dir, v string) {
			auth := base64.StdEncoding.EncodeToString([]byte("ci:" + v))
			cfg := base64.StdEncoding.EncodeToString([]byte(`{"auths":{"registry.example.com":{"auth":"` + auth + `"}}}`))
			write(t, dir, "deploy/regcred.yaml", "apiVersion: v1\nkind: Secret\ndata:\n  .dockerconfigjson: "+cfg+"\n")
		}, want: []Finding{{Path: "/deploy/regcred.yaml (base64)", Where: "content", Encoding: "base64"}}},
		{name: "base64 once: one finding", build: func(t *testing.T, dir, v string) {
			write(t, dir, "auth", "auth: "+base64.StdEncoding.EncodeToString([]byte("ci:"+v))+"\n")
		}, want: []Finding{{Path: "/auth", Where: "content", Encoding: "base64"}}},
		{name: "clean base64", build: func(t *testing.T, dir, v string) {
			write(t, dir, "logo.txt", "data:image/png;base64,"+base64.StdEncoding.EncodeToString(gzipped(t, []byte(strings.Repeat("pixels ", 100))))+"\n")
		}},
	}
	runTreeCases(t, tests)
}
