package frontend

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/hushbuild/hushbuild/rewrite"
)

// TestContextKeysByContent: a file of the build context that holds a
// private key is a credential file whatever its name. A COPY of the
// context that keeps it in the image fails closed (SecretFileInImage), one
// in a stage that does not reach the image excludes it and gives it to the
// RUNs as a bind mount, and a certificate or public key under any name
// changes nothing.
func TestContextKeysByContent(t *testing.T) {
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(edKey, "")
	if err != nil {
		t.Fatal(err)
	}
	key := pem.EncodeToMemory(block)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "t"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &ecKey.PublicKey, ecKey)
	if err != nil {
		t.Fatal(err)
	}
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	sshPub, _ := ssh.NewPublicKey(edKey.Public())
	pub := ssh.MarshalAuthorizedKey(sshPub)

	oneStage := "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN echo build\n"
	twoStages := "FROM golang AS build\nWORKDIR /src\nCOPY . .\nRUN go build -o /out/app .\nFROM alpine\nCOPY --from=build /out/app /app\n"
	tests := []struct {
		name  string
		df    string
		files map[string][]byte
		want  string // in the error; "" for a build that passes
		// exclude is the --exclude the conversion's COPY must carry.
		exclude string
	}{
		{"deploy key copied to the image", oneStage, map[string][]byte{"deploy/github_deploy": key, "main.go": []byte("package main\n")}, "[SecretFileInImage]", ""},
		{"deploy key in a build stage", twoStages, map[string][]byte{"deploy/github_deploy": key, "main.go": []byte("package main\n")}, "", "deploy/github_deploy"},
		{"key in a .pub file", oneStage, map[string][]byte{"keys/deploy.pub": key}, "[SecretFileInImage]", ""},
		{"certificate and public key", oneStage, map[string][]byte{"certs/ca": cert, "keys/deploy_pub": pub, "main.go": []byte("package main\n")}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newFakeClient(nil)
			c.files["local://dockerfile"] = map[string][]byte{"Dockerfile": []byte(tt.df)}
			c.files["local://context"] = tt.files
			_, err := Build(context.Background(), c)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if err != nil {
				assertNoCanary(t, "the error", []byte(err.Error()), strings.Split(string(key), "\n")[1])
			}
			if tt.exclude != "" {
				found := false
				for _, def := range buildDefinitions(c) {
					for _, dt := range def.Def {
						if strings.Contains(string(dt), tt.exclude) {
							found = true
						}
					}
				}
				if !found {
					t.Errorf("no conversion excludes %s", tt.exclude)
				}
			}
		})
	}
}

// TestContextKeysAreCredentialFiles: the engine treats a file listed in
// ContextKeys as a credential file, over a name that says public.
func TestContextKeysAreCredentialFiles(t *testing.T) {
	for _, p := range []string{"deploy/github_deploy", "keys/deploy.pub", "./certs/signing"} {
		if rewrite.IsCredentialFile(p, rewrite.Config{}) {
			t.Fatalf("%s is a credential file by its name", p)
		}
		cfg := rewrite.Config{ContextKeys: []string{strings.TrimPrefix(p, "./")}}
		if !rewrite.IsCredentialFile(p, cfg) {
			t.Errorf("%s in ContextKeys is no credential file", p)
		}
	}
}

// TestContextPathsRead: the search for keys of a Dockerfile that copies
// only some paths reads only those, unless a path is unknown.
func TestContextPathsRead(t *testing.T) {
	for _, tt := range []struct {
		df    string
		paths []string
		known bool
	}{
		{"FROM alpine\nCOPY app.py go.mod ./\nCOPY src/ /app/src/\n", []string{"app.py", "go.mod", "src"}, true},
		{"FROM alpine\nRUN --mount=type=bind,source=go.mod,target=/x ls\n", []string{"go.mod"}, true},
		{"FROM alpine AS a\nFROM alpine\nCOPY --from=a /x /x\n", nil, true},
		{"FROM alpine\nADD https://example.com/x.tgz /x\nCOPY ./conf/*.conf /etc/\n", []string{"conf/*.conf"}, true},
		{"FROM alpine\nARG DIR=src\nCOPY $DIR /app\n", nil, false},
		{"FROM alpine\nONBUILD COPY . /app\n", nil, false},
		{"FROM alpine\nCOPY [\n", nil, false},
	} {
		r := contextReads([]byte(tt.df))
		if r.known != tt.known || !slices.Equal(r.paths, tt.paths) {
			t.Errorf("%q: %q %v, want %q %v", tt.df, r.paths, r.known, tt.paths, tt.known)
		}
	}
}

// TestContextReadBases: a search limited to the paths the text names needs
// every base image resolved and without ONBUILD triggers.
func TestContextReadBases(t *testing.T) {
	r := contextReads([]byte("FROM node:20 AS deps\nCOPY package.json ./\nFROM deps\nFROM scratch\nCOPY --from=deps /app /app\nFROM ${BASE}\n"))
	if want := []string{"node:20", "${BASE}"}; !slices.Equal(r.bases, want) {
		t.Fatalf("bases %q, want %q", r.bases, want)
	}
	images := map[string]rewrite.ImageDefaults{"node:20": {}, "${BASE}": {}}
	if !triggerFree(r.bases, images) {
		t.Error("resolved bases without triggers: not trigger-free")
	}
	if triggerFree(r.bases, map[string]rewrite.ImageDefaults{"node:20": {}}) {
		t.Error("an unresolved base image: trigger-free")
	}
	images["${BASE}"] = rewrite.ImageDefaults{OnBuild: []string{"COPY . /app"}}
	if triggerFree(r.bases, images) {
		t.Error("a base image with an ONBUILD trigger: trigger-free")
	}
}

// TestWholeContextCopied: the search for keys shares the build's transfer
// of the context only when BuildKit transfers all of it.
func TestWholeContextCopied(t *testing.T) {
	for df, want := range map[string]bool{
		"FROM alpine\nCOPY . .\n":                                         true,
		"FROM alpine\nCOPY ./ /app/\n":                                    true,
		"FROM alpine\nADD . /app\n":                                       true,
		"FROM alpine\nRUN --mount=type=bind,target=/src cp -r /src /a\n":  true,
		"FROM alpine\nRUN --mount=type=bind,source=.,target=/src ls\n":    true,
		"FROM alpine\nCOPY app.py go.mod ./\n":                            false,
		"FROM alpine\nCOPY src/ /app/src/\n":                              false,
		"FROM alpine AS a\nFROM alpine\nCOPY --from=a . .\n":              false,
		"FROM alpine\nRUN --mount=type=bind,from=alpine,target=/x ls\n":   false,
		"FROM alpine\nRUN --mount=type=bind,source=go.mod,target=/x ls\n": false,
		"FROM alpine\nCOPY [\n":                                           false,
	} {
		if got := contextReads([]byte(df)).whole; got != want {
			t.Errorf("%q: %v, want %v", df, got, want)
		}
	}
}
