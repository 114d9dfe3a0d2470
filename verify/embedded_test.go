package verify

import (
	"archive/zip"
	"encoding/base64"
	"sort"
	"strings"
	"testing"

	"github.com/hushbuild/hushbuild/internal/nest/nesttest"
	vt "github.com/hushbuild/hushbuild/verify/verifytest"
)

// storedZip is a zip archive of name, body pairs stored as they are (the
// way a Spring Boot jar holds its libraries).
func storedZip(t testing.TB, kv ...string) []byte { return zipWith(t, zip.Store, kv...) }

// wrapped cuts s into lines of n bytes, as base64(1) writes.
func wrapped(s string, n int) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n] + "\n")
		s = s[n:]
	}
	return b.String() + s + "\n"
}

// TestEmbedded: a value only inside what the in-build check opens
// besides compressed files and archives (checker/embedded.go) is found,
// at the path and member the check names; the same forms without it are
// clean. Each form whole in a read block and, where it can be larger,
// streamed across blocks.
func TestEmbedded(t *testing.T) {
	c := vt.Canary(t)
	settings := "[db]\npassword = " + c + "\n" + strings.Repeat("[worker]\nthreads = 4\n", 40)
	clean := strings.Repeat("[worker]\nthreads = 4\n", 40)
	launcher := "#!/bin/sh\n# launcher\nexec java -jar \"$0\" \"$@\"\n" + strings.Repeat("# launch script line\n", 300)
	big := strings.Repeat(": padding, not a payload\n", 100000) // 2.5 MB: streamed
	installer := "#!/bin/sh\ntail -n +4 \"$0\" | tar xzf -\nexit 0\n"
	deb := func(conf string) string {
		return string(nesttest.Ar("debian-binary", "2.0\n", "control.tar.gz", string(gz(t, tarOf(t, vt.File{Name: "./control", Body: "Package: acme\n"}))),
			"data.tar.xz", string(xzed(t, tarOf(t, vt.File{Name: "./usr/share/doc/acme/big", Body: noise(len(conf))}, vt.File{Name: "./etc/acme/agent.conf", Body: conf})))))
	}
	b64 := base64.StdEncoding.EncodeToString
	regcred := func(v string) string {
		auth := b64([]byte("ci:" + v))
		return "apiVersion: v1\nkind: Secret\ndata:\n  .dockerconfigjson: " + b64([]byte(`{"auths":{"registry.example.com":{"auth":"`+auth+`"}}}`)) + "\n"
	}
	tests := []struct {
		name string
		file vt.File
		want []string // paths of the content hits
		note string   // in a note
	}{
		{name: "python zipapp after its shebang",
			file: vt.File{Name: "usr/local/bin/app.pyz", Body: "#!/usr/bin/env python3\n" + string(zipOf(t, "__main__.py", "print(1)\n", "settings.ini", settings))},
			want: []string{"/usr/local/bin/app.pyz:settings.ini"}},
		{name: "python zipapp, streamed",
			file: vt.File{Name: "app.pyz", Body: "#!/usr/bin/env python3\n" + string(zipOf(t, "noise", noise(2<<20), "settings.ini", settings))},
			want: []string{"/app.pyz:settings.ini"}},
		{name: "clean zipapp",
			file: vt.File{Name: "app.pyz", Body: "#!/usr/bin/env python3\n" + string(zipOf(t, "settings.ini", clean))}},
		{name: "executable fat jar: a launch script, a jar stored inside",
			file: vt.File{Name: "app.jar", Body: launcher + string(storedZip(t, "BOOT-INF/lib/config.jar", string(zipOf(t, "application.properties", settings)), "META-INF/MANIFEST.MF", "Main-Class: x\n"))},
			want: []string{"/app.jar:BOOT-INF/lib/config.jar:application.properties"}},
		{name: "executable fat jar, streamed",
			file: vt.File{Name: "app.jar", Body: launcher + string(storedZip(t, "BOOT-INF/lib/big.jar", noise(2<<20), "BOOT-INF/lib/config.jar", string(zipOf(t, "application.properties", settings))))},
			want: []string{"/app.jar:BOOT-INF/lib/config.jar:application.properties"}},
		{name: "self-extracting zip after an ELF stub",
			file: vt.File{Name: "setup.bin", Body: "\x7fELF\x02\x01\x01\x00" + strings.Repeat("\x00stub", 100) + string(zipOf(t, "etc/app.conf", settings))},
			want: []string{"/setup.bin:etc/app.conf"}},
		{name: "self-extracting zip after an ELF stub, too large to open",
			file: vt.File{Name: "setup.bin", Body: "\x7fELF\x02\x01\x01\x00" + noise(2<<20) + string(zipOf(t, "etc/app.conf", clean))},
			note: "/setup.bin: ends as a zip archive that does not start the file"},
		{name: ".deb: data.tar.xz in an ar archive",
			file: vt.File{Name: "opt/acme.deb", Body: deb(settings)},
			want: []string{"/opt/acme.deb:data.tar.xz (xz):etc/acme/agent.conf"}},
		{name: ".deb: data.tar.zst",
			file: vt.File{Name: "acme.deb", Body: string(nesttest.Ar("debian-binary", "2.0\n", "data.tar.zst", string(zst(t, tarOf(t, vt.File{Name: "./etc/acme/agent.conf", Body: settings})))))},
			want: []string{"/acme.deb:data.tar.zst (zstd):etc/acme/agent.conf"}},
		{name: ".deb, streamed",
			file: vt.File{Name: "opt/acme.deb", Body: string(nesttest.Ar("debian-binary", "2.0\n", "data.tar.gz", string(gz(t, tarOf(t, vt.File{Name: "./big", Body: noise(2 << 20)}, vt.File{Name: "./etc/acme/agent.conf", Body: settings})))))},
			want: []string{"/opt/acme.deb:data.tar.gz (gzip):etc/acme/agent.conf"}},
		{name: "clean .deb",
			file: vt.File{Name: "acme.deb", Body: deb(clean)}},
		{name: "git packfile: a blob",
			file: vt.File{Name: "app/.git/objects/pack/pack-1.pack", Body: string(nesttest.Pack("", "README\n", settings))},
			want: []string{"/app/.git/objects/pack/pack-1.pack (git pack)"}},
		{name: "git packfile: a delta inserts the value",
			file: vt.File{Name: "pack.pack", Body: string(nesttest.Pack("password = "+c+"\n", strings.Repeat("clean line\n", 20)))},
			want: []string{"/pack.pack (git pack)"}},
		{name: "git packfile, streamed",
			file: vt.File{Name: "pack.pack", Body: string(nesttest.Pack("", noise(2<<20), settings))},
			want: []string{"/pack.pack (git pack)"}},
		{name: "clean git packfile",
			file: vt.File{Name: "pack.pack", Body: string(nesttest.Pack("threads = 4\n", strings.Repeat("clean line\n", 20), clean))}},
		{name: "broken git packfile",
			file: vt.File{Name: "pack.pack", Body: string(nesttest.Pack("", strings.Repeat("clean line\n", 200))[:40])},
			note: "/pack.pack (git pack): a git packfile that cannot be read"},
		{name: "installer script with a .tar.gz appended",
			file: vt.File{Name: "opt/app-installer.run", Body: installer + string(gz(t, tarOf(t, vt.File{Name: "./app.conf", Body: settings})))},
			want: []string{"/opt/app-installer.run (after the script) (gzip):app.conf"}},
		{name: "installer script with a .tar.xz appended, streamed",
			file: vt.File{Name: "app.run", Body: "#!/bin/sh\n" + big + string(xzed(t, tarOf(t, vt.File{Name: "./app.conf", Body: settings})))},
			want: []string{"/app.run (after the script) (xz):app.conf"}},
		{name: "clean installer, streamed",
			file: vt.File{Name: "app.run", Body: "#!/bin/sh\n" + big + string(xzed(t, tarOf(t, vt.File{Name: "./app.conf", Body: clean})))}},
		{name: "clean script",
			file: vt.File{Name: "run.sh", Body: "#!/bin/sh\necho BZh9 and PK are magic numbers\n"}},
		{name: "gzip in base64 (cloud-init gz+b64)",
			file: vt.File{Name: "etc/cloud/user-data", Body: "#cloud-config\nwrite_files:\n- encoding: gz+b64\n  content: " + b64(gz(t, []byte("DB_PASSWORD="+c+"\n"))) + "\n"},
			want: []string{"/etc/cloud/user-data (base64) (gzip)"}},
		{name: "gzip in base64, wrapped at 76 columns",
			file: vt.File{Name: "payload.b64", Body: wrapped(b64(gz(t, []byte(settings))), 76)},
			want: []string{"/payload.b64 (base64) (gzip)"}},
		{name: "clean gzip in base64, wrapped",
			file: vt.File{Name: "payload.b64", Body: wrapped(b64(gz(t, []byte(clean+noise(3000)))), 76)}},
		{name: "tar.gz in base64",
			file: vt.File{Name: "bundle.txt", Body: "BUNDLE=" + b64(gz(t, tarOf(t, vt.File{Name: "app/.env", Body: "DB_PASSWORD=" + c + "\n"}))) + "\n"},
			want: []string{"/bundle.txt (base64) (gzip):app/.env"}},
		{name: "base64 in base64 (a dockerconfigjson Secret)",
			file: vt.File{Name: "deploy/regcred.yaml", Body: regcred(c)},
			want: []string{"/deploy/regcred.yaml (base64)"}},
		{name: "clean base64 in base64",
			file: vt.File{Name: "deploy/regcred.yaml", Body: regcred("not-the-value-at-all")}},
		{name: "base64 once: one finding",
			file: vt.File{Name: "auth", Body: "auth: " + b64([]byte("ci:"+c)) + "\n"},
			want: []string{"/auth"}},
		{name: "clean base64",
			file: vt.File{Name: "logo.txt", Body: "data:image/png;base64," + b64(gz(t, []byte(strings.Repeat("pixels ", 100)))) + "\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Small files before it, so that it does not start a block.
			files := []vt.File{{Name: "etc/hostname", Body: "box\n"}, {Name: "etc/filler", Body: strings.Repeat("x", 700<<10)}, tc.file}
			l := vt.NewLayout(t).Write(vt.Image{Layers: []vt.Layer{{Files: files}}})
			r, err := run(t, Options{Image: l.Dir, Secrets: []Secret{{ID: "TOKEN", Value: c}}})
			if err != nil {
				t.Fatalf("Scan: %v", err)
			}
			var got []string
			for _, h := range find(r, secretHit("TOKEN")) {
				if h.In == InContent {
					got = append(got, h.Path)
				}
			}
			sort.Strings(got)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("content hits at %q, want %q\n%s", got, tc.want, dump(r))
			}
			notes := strings.Join(r.Notes, "\n")
			if tc.note != "" && !strings.Contains(notes, tc.note) {
				t.Errorf("notes %q, want one with %q", notes, tc.note)
			}
			if tc.note == "" && strings.Contains(notes, "raw bytes") {
				t.Errorf("unexpected notes %q", notes)
			}
		})
	}
}
