package verify

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/hushbuild/hushbuild/internal/nest"
	"github.com/hushbuild/hushbuild/internal/nest/nesttest"
	vt "github.com/hushbuild/hushbuild/verify/verifytest"
)

var (
	p12KeyOnce sync.Once
	p12Key     func(enc, password string) (nesttest.Keystore, error)
)

// jksOf is a Java KeyStore of the same key under password.
func jksOf(t testing.TB, password string) nesttest.Keystore {
	t.Helper()
	return keystore(t, "jks", password)
}

// keystore is a keystore of one fresh key (per test binary) under
// password, written by enc.
func keystore(t testing.TB, enc, password string) nesttest.Keystore {
	t.Helper()
	p12KeyOnce.Do(func() {
		key, cert, err := nesttest.NewKey()
		p12Key = func(enc, password string) (nesttest.Keystore, error) {
			if err != nil {
				return nesttest.Keystore{}, err
			}
			if enc == "jks" {
				return nesttest.JKS(key, cert, password)
			}
			return nesttest.PKCS12(key, cert, enc, password)
		}
	})
	ks, err := p12Key(enc, password)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// TestKeystores: a TLS key packed into a PKCS #12 keystore or a JKS under
// a conventional password is found in the keystore's decrypted contents,
// whatever the encoding, in a file of its own or in a jar; under another
// password the keystore is searched as bytes only, without a note.
func TestKeystores(t *testing.T) {
	type tcase struct {
		name  string
		ks    nesttest.Keystore
		files func(p12 []byte) []vt.File
		want  string // the path of the content hits
		note  string
	}
	plain := func(p12 []byte) []vt.File { return []vt.File{{Name: "app/keystore.p12", Body: string(p12)}} }
	var tests []tcase
	for _, enc := range nesttest.PKCS12Encoders {
		for _, pw := range nest.KeystorePasswords {
			tests = append(tests, tcase{name: enc + "/" + pw, ks: keystore(t, enc, pw), files: plain, want: "/app/keystore.p12" + nest.KeystoreSuffix(nest.PKCS12Kind, pw)})
		}
		tests = append(tests, tcase{name: enc + "/another password", ks: keystore(t, enc, "Xq7-not-a-default"), files: plain})
	}
	jksFile := func(p12 []byte) []vt.File { return []vt.File{{Name: "app/keystore.jks", Body: string(p12)}} }
	tests = append(tests,
		tcase{name: "JKS/changeit", ks: jksOf(t, "changeit"), files: jksFile, want: "/app/keystore.jks" + nest.KeystoreSuffix(nest.JKSKind, "changeit")},
		tcase{name: "JKS/empty", ks: jksOf(t, ""), files: jksFile, want: "/app/keystore.jks" + nest.KeystoreSuffix(nest.JKSKind, "")},
		tcase{name: "JKS/another password", ks: jksOf(t, "Xq7-not-a-default"), files: jksFile},
		tcase{name: "JKS in a tar", ks: jksOf(t, "password"),
			files: func(p12 []byte) []vt.File {
				return []vt.File{{Name: "certs.tar", Body: string(tarOf(t, vt.File{Name: "tls/keystore.jks", Body: string(p12)}))}}
			},
			want: "/certs.tar:tls/keystore.jks" + nest.KeystoreSuffix(nest.JKSKind, "password")},
		tcase{name: "in a jar", ks: keystore(t, "modern", "changeit"),
			files: func(p12 []byte) []vt.File {
				return []vt.File{{Name: "app/app.jar", Body: string(zipOf(t, "BOOT-INF/classes/application.properties", "server.ssl.key-store=classpath:keystore.p12\n", "BOOT-INF/classes/keystore.p12", string(p12)))}}
			},
			want: "/app/app.jar:BOOT-INF/classes/keystore.p12" + nest.KeystoreSuffix(nest.PKCS12Kind, "changeit")},
		tcase{name: "in a jar, streamed", ks: keystore(t, "legacy-des", "password"),
			files: func(p12 []byte) []vt.File {
				return []vt.File{{Name: "app.jar", Body: string(storedZip(t, "BOOT-INF/lib/big.jar", noise(2<<20), "BOOT-INF/classes/keystore.p12", string(p12)))}}
			},
			want: "/app.jar:BOOT-INF/classes/keystore.p12" + nest.KeystoreSuffix(nest.PKCS12Kind, "password")},
		tcase{name: "in a tar.gz", ks: keystore(t, "legacy-rc2", ""),
			files: func(p12 []byte) []vt.File {
				return []vt.File{{Name: "certs.tgz", Body: string(gz(t, tarOf(t, vt.File{Name: "tls/server.pfx", Body: string(p12)})))}}
			},
			want: "/certs.tgz (gzip):tls/server.pfx" + nest.KeystoreSuffix(nest.PKCS12Kind, "")},
		tcase{name: "in base64 (a Kubernetes Secret)", ks: keystore(t, "legacy-des", "changeit"),
			files: func(p12 []byte) []vt.File {
				return []vt.File{{Name: "deploy/tls.yaml", Body: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: tls\ndata:\n  keystore.p12: " + base64.StdEncoding.EncodeToString(p12) + "\n"}}
			},
			want: "/deploy/tls.yaml (base64)" + nest.KeystoreSuffix(nest.PKCS12Kind, "changeit")},
		tcase{name: "JKS in base64", ks: jksOf(t, "changeit"),
			files: func(p12 []byte) []vt.File {
				return []vt.File{{Name: "deploy/tls.yaml", Body: "data:\n  keystore.jks: " + base64.StdEncoding.EncodeToString(p12) + "\n"}}
			},
			want: "/deploy/tls.yaml (base64)" + nest.KeystoreSuffix(nest.JKSKind, "changeit")},
		tcase{name: "truncated", ks: keystore(t, "modern", "changeit"),
			files: func(p12 []byte) []vt.File { return []vt.File{{Name: "keystore.p12", Body: string(p12[:len(p12)/2])}} },
			note:  "/keystore.p12: a PKCS #12 keystore that cannot be opened"},
	)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := append([]vt.File{{Name: "etc/hostname", Body: "box\n"}}, tc.files(tc.ks.P12)...)
			l := vt.NewLayout(t).Write(vt.Image{Layers: []vt.Layer{{Files: files}}})
			// The key as the build's secret mount holds it: its fields
			// (its text, its lines, its private number).
			secrets, _ := FileSecretValues("tls_key", "tls.key", tc.ks.PEM)
			r, err := run(t, Options{Image: l.Dir, Secrets: secrets})
			if err != nil {
				t.Fatalf("Scan: %v", err)
			}
			seen := map[string]bool{}
			for _, h := range find(r, secretHit("tls_key")) {
				if h.In == InContent {
					seen[h.Path] = true
				}
			}
			var got []string
			for p := range seen {
				got = append(got, p)
			}
			sort.Strings(got)
			want := []string{}
			if tc.want != "" {
				want = append(want, tc.want)
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("content hits at %q, want %q\n%s", got, want, dump(r))
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

// TestKeystoreSecret: a secret that is itself a keystore is searched for
// the keys and secrets inside it (as `hushbuild verify --secret
// id=keystore,src=keystore.p12` loads it): re-packed as a JKS, extracted
// to a PEM file, opened with another secret as its password; one no
// password opens is searched as bytes only, with a note. An Elasticsearch
// keystore in a layer is opened with the empty password.
func TestKeystoreSecret(t *testing.T) {
	const unknown = "Xq7-not-a-default"
	ks := keystore(t, "modern", "changeit")
	nodes := "Bag Attributes\n    friendlyName: app\n" + string(ks.PEM)
	pass := vt.Canary(t)
	esKS, err := nesttest.ESKeystore(6, "", "keystore.seed", "Q2x9Zp7Lm4Rt8Vw1Xy3B", "bootstrap.password", pass)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name  string
		specs []string
		env   map[string]string
		files []vt.File
		want  string // the path of the content hits; "": none
		note  string
	}{
		{name: "re-packed as JKS", specs: []string{"id=keystore,src=" + file("a.p12", ks.P12)},
			files: []vt.File{{Name: "app/keystore.jks", Body: string(jksOf(t, "changeit").P12)}},
			want:  "/app/keystore.jks" + nest.KeystoreSuffix(nest.JKSKind, "changeit")},
		{name: "key extracted", specs: []string{"id=keystore,src=" + file("b.p12", ks.P12)},
			files: []vt.File{{Name: "app/key.pem", Body: nodes}}, want: "/app/key.pem"},
		{name: "under another secret (env) as its password", specs: []string{"id=keystore,src=" + file("c.p12", keystore(t, "legacy-des", unknown).P12), "id=KS_PASS,env=KS_PASS"},
			env:   map[string]string{"KS_PASS": unknown},
			files: []vt.File{{Name: "app/key.pem", Body: nodes}}, want: "/app/key.pem"},
		{name: "under an unknown password", specs: []string{"id=keystore,src=" + file("d.p12", keystore(t, "modern", unknown).P12), "id=other,src=" + file("other", []byte("not-the-password\n"))},
			files: []vt.File{{Name: "app/key.pem", Body: nodes}},
			note:  "secret keystore: a PKCS #12 keystore that none of the conventional passwords, nor the value of another secret of the build, opens"},
		{name: "truncated", specs: []string{"id=keystore,src=" + file("e.p12", ks.P12[:len(ks.P12)/3])},
			files: []vt.File{{Name: "app/key.pem", Body: nodes}},
			note:  "secret keystore: a PKCS #12 keystore that cannot be opened"},
		{name: "Elasticsearch keystore", specs: []string{"id=ELASTIC_PASSWORD,env=ELASTIC_PASSWORD"}, env: map[string]string{"ELASTIC_PASSWORD": pass},
			files: []vt.File{{Name: "usr/share/elasticsearch/config/elasticsearch.keystore", Body: string(esKS)}},
			want:  "/usr/share/elasticsearch/config/elasticsearch.keystore" + nest.KeystoreSuffix(nest.ESKind, "")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var specs []SecretSpec
			for _, s := range tc.specs {
				sp, err := ParseSecretSpec(s)
				if err != nil {
					t.Fatal(err)
				}
				specs = append(specs, sp)
			}
			secrets, notes, err := LoadSecretSpecs(specs, func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			if err != nil {
				t.Fatal(err)
			}
			files := append([]vt.File{{Name: "etc/hostname", Body: "box\n"}}, tc.files...)
			l := vt.NewLayout(t).Write(vt.Image{Layers: []vt.Layer{{Files: files}}})
			r, err := run(t, Options{Image: l.Dir, Secrets: secrets})
			if err != nil {
				t.Fatalf("Scan: %v", err)
			}
			seen := map[string]bool{}
			for _, h := range r.Hits {
				if h.In == InContent && h.SecretID != "" {
					seen[h.Path] = true
				}
			}
			var got []string
			for p := range seen {
				got = append(got, p)
			}
			sort.Strings(got)
			if strings.Join(got, "\n") != tc.want {
				t.Errorf("content hits at %q, want %q\n%s", got, tc.want, dump(r))
			}
			all := strings.Join(append(notes, r.Notes...), "\n")
			if tc.note != "" && !strings.Contains(all, tc.note) {
				t.Errorf("notes %q, want one with %q", all, tc.note)
			}
			if tc.note == "" && (strings.Contains(all, "keystore that") || strings.Contains(all, "raw bytes")) {
				t.Errorf("unexpected notes %q", all)
			}
		})
	}
}
