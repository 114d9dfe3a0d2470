package buildcontext

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/tonistiigi/fsutil"

	"github.com/hushbuild/hushbuild/internal/canary"
	"github.com/hushbuild/hushbuild/rewrite"
)

// makeTree creates files under dir. A name ending in "/" is an empty
// directory; content starting with "->" makes a symlink to the rest.
func makeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(content, "->"); ok {
			if err := os.Symlink(filepath.FromSlash(target), p); err != nil {
				t.Skipf("symlinks: %v", err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestList(t *testing.T) {
	// Files every case has: nothing here is a credential file by name.
	plain := map[string]string{
		"Dockerfile":           "FROM scratch\n",
		"src/main.go":          "package main\n",
		"src/.env.example":     "A=\n",
		"keys/deploy.pub":      "ssh-ed25519 AAAA\n",
		".git/info/exclude":    "*.log\n",
		".git/HEAD":            "ref: refs/heads/main\n",
		"node_modules/x/a.js":  "",
		"README.md":            "",
		"docs/guide/index.md":  "",
		"empty/":               "",
		"src/pkg/.npmrc.dist/": "",
	}
	tests := []struct {
		name       string
		files      map[string]string
		dockerfile string // relative to the context; "" for none (stdin)
		cfg        rewrite.Config
		want       []string
		wantIgnore string // relative to the context
	}{
		{
			name: "nested files, no ignore file",
			files: map[string]string{
				".npmrc": "x", "app/pip.conf": "x", "a/b/c/.netrc": "x", "secrets/db.txt": "x",
				".env": "x", ".aws/credentials": "x", "certs/server.key": "x",
			},
			dockerfile: "Dockerfile",
			want:       []string{".aws/credentials", ".env", ".npmrc", "a/b/c/.netrc", "app/pip.conf", "certs/server.key", "secrets/db.txt"},
		},
		{
			name: ".dockerignore excludes files and directories",
			files: map[string]string{
				".npmrc": "x", "app/.npmrc": "x", "secrets/db.txt": "x", "conf/pip.conf": "x", ".env": "x",
				".dockerignore": "# credentials\n.npmrc\n/secrets\nconf/\n  .env  \n",
			},
			dockerfile: "Dockerfile",
			want:       []string{"app/.npmrc"},
			wantIgnore: ".dockerignore",
		},
		{
			name: "** patterns reach nested files",
			files: map[string]string{
				".npmrc": "x", "app/.npmrc": "x", "a/b/.npmrc": "x", "a/b/.netrc": "x",
				".dockerignore": "**/.npmrc\n",
			},
			dockerfile: "Dockerfile",
			want:       []string{"a/b/.netrc"},
			wantIgnore: ".dockerignore",
		},
		{
			name: "exceptions bring files back",
			files: map[string]string{
				".npmrc": "x", "app/.npmrc": "x", "app/pip.conf": "x", "other/.netrc": "x",
				".dockerignore": "*\n!app\n!Dockerfile\n",
			},
			dockerfile: "Dockerfile",
			want:       []string{"app/.npmrc", "app/pip.conf"},
			wantIgnore: ".dockerignore",
		},
		{
			name: "an exception inside an ignored directory",
			files: map[string]string{
				"vendor/a/.npmrc": "x", "vendor/b/.npmrc": "x", "vendor/b/.netrc": "x",
				".dockerignore": "vendor\n!vendor/b/.npmrc\n",
			},
			dockerfile: "Dockerfile",
			want:       []string{"vendor/b/.npmrc"},
			wantIgnore: ".dockerignore",
		},
		{
			name: "a wildcard exception walks ignored directories",
			files: map[string]string{
				"conf/pip.conf": "x", "conf/deep/pip.conf": "x", "conf/.netrc": "x",
				".dockerignore": "conf\n!**/pip.conf\n",
			},
			dockerfile: "Dockerfile",
			want:       []string{"conf/deep/pip.conf", "conf/pip.conf"},
			wantIgnore: ".dockerignore",
		},
		{
			name: "a later pattern excludes again",
			files: map[string]string{
				".npmrc": "x", ".netrc": "x",
				".dockerignore": "*\n!.npmrc\n!.netrc\n.netrc\n",
			},
			dockerfile: "Dockerfile",
			want:       []string{".npmrc"},
			wantIgnore: ".dockerignore",
		},
		{
			name: "the Dockerfile's own ignore file takes precedence",
			files: map[string]string{
				".npmrc": "x", ".netrc": "x",
				".dockerignore":           ".netrc\n",
				"Dockerfile.dockerignore": ".npmrc\n",
			},
			dockerfile: "Dockerfile",
			want:       []string{".netrc"},
			wantIgnore: "Dockerfile.dockerignore",
		},
		{
			name: "an empty Dockerfile ignore file still takes precedence",
			files: map[string]string{
				".npmrc": "x", ".dockerignore": ".npmrc\n", "Dockerfile.dockerignore": "",
			},
			dockerfile: "Dockerfile",
			want:       []string{".npmrc"},
			wantIgnore: "Dockerfile.dockerignore",
		},
		{
			name: "another Dockerfile's ignore file does not apply",
			files: map[string]string{
				".npmrc": "x", ".netrc": "x",
				".dockerignore":               ".netrc\n",
				"Dockerfile.dockerignore":     ".npmrc\n",
				"app.Dockerfile":              "FROM scratch\n",
				"app.Dockerfile.dockerignore": "*\n",
			},
			dockerfile: "app.Dockerfile",
			want:       nil,
			wantIgnore: "app.Dockerfile.dockerignore",
		},
		{
			name: "a Dockerfile in a subdirectory",
			files: map[string]string{
				".npmrc": "x", ".netrc": "x", "docker/.netrc": "x",
				"docker/Dockerfile":              "FROM scratch\n",
				"docker/.dockerignore":           "*\n", // not the context's: never read
				"docker/Dockerfile.dockerignore": ".npmrc\n",
			},
			dockerfile: "docker/Dockerfile",
			want:       []string{".netrc", "docker/.netrc"},
			wantIgnore: "docker/Dockerfile.dockerignore",
		},
		{
			name: "a Dockerfile in a subdirectory without its own ignore file",
			files: map[string]string{
				".npmrc": "x", ".netrc": "x",
				"docker/Dockerfile": "FROM scratch\n",
				".dockerignore":     ".npmrc\n",
			},
			dockerfile: "docker/Dockerfile",
			want:       []string{".netrc"},
			wantIgnore: ".dockerignore",
		},
		{
			name: "no Dockerfile (standard input): only .dockerignore",
			files: map[string]string{
				".npmrc": "x", ".netrc": "x",
				".dockerignore":           ".netrc\n",
				"Dockerfile.dockerignore": ".npmrc\n",
			},
			want:       []string{".npmrc"},
			wantIgnore: ".dockerignore",
		},
		{
			name: "symlinks are not followed",
			files: map[string]string{
				"real/settings": "x",
				".npmrc":        "->real/settings",
				"linked":        "->app",
				"app/pip.conf":  "x",
				"dangling.pem":  "->nowhere",
				"outside":       "->/etc",
			},
			dockerfile: "Dockerfile",
			want:       []string{"app/pip.conf"},
		},
		{
			name: ".git is walked like any directory",
			files: map[string]string{
				".git/objects/ab/cdef": "x",
				".git/.netrc":          "x",
				".git/hooks/x.env":     "x",
			},
			dockerfile: "Dockerfile",
			want:       []string{".git/.netrc", ".git/hooks/x.env"},
		},
		{
			name:       "a .dockerignore that leaves out .git",
			files:      map[string]string{".git/.netrc": "x", ".dockerignore": ".git\n"},
			dockerfile: "Dockerfile",
			want:       nil,
			wantIgnore: ".dockerignore",
		},
		{
			name:       "extra credential file patterns",
			files:      map[string]string{"deploy.cred": "x", "conf/creds.ini": "x", "creds.ini": "x"},
			dockerfile: "Dockerfile",
			cfg:        rewrite.Config{SecretFiles: []string{"*.cred", "conf/creds.ini"}},
			want:       []string{"conf/creds.ini", "deploy.cred"},
		},
		{
			name:       "an ignore file with a BOM and CRLF",
			files:      map[string]string{".npmrc": "x", ".netrc": "x", ".dockerignore": "\ufeff.npmrc\r\n"},
			dockerfile: "Dockerfile",
			want:       []string{".netrc"},
			wantIgnore: ".dockerignore",
		},
		{
			name:       "a directory named like a credential file",
			files:      map[string]string{".npmrc/x": "x"},
			dockerfile: "Dockerfile",
			want:       nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			makeTree(t, dir, plain)
			makeTree(t, dir, tt.files)
			df := ""
			if tt.dockerfile != "" {
				df = filepath.Join(dir, filepath.FromSlash(tt.dockerfile))
			}
			l, err := Scan(dir, df, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(l.Files, tt.want) {
				t.Errorf("Files = %q, want %q", l.Files, tt.want)
			}
			wantIgnore := ""
			if tt.wantIgnore != "" {
				wantIgnore = filepath.Join(dir, filepath.FromSlash(tt.wantIgnore))
			}
			if l.IgnoreFile != wantIgnore {
				t.Errorf("IgnoreFile = %q, want %q", l.IgnoreFile, wantIgnore)
			}
			got, err := List(dir, df, tt.cfg)
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("List = %q, %v; want %q", got, err, tt.want)
			}
			if sent := sentByFsutil(t, dir, l.Excludes, tt.cfg); !reflect.DeepEqual(sent, l.Files) {
				t.Errorf("fsutil sends %q, List found %q", sent, l.Files)
			}
		})
	}
}

// TestListDockerfileOutsideContext: the Dockerfile's ignore file is read
// next to it, wherever it is.
func TestListDockerfileOutsideContext(t *testing.T) {
	ctx, other := t.TempDir(), t.TempDir()
	makeTree(t, ctx, map[string]string{".npmrc": "x", ".netrc": "x", ".dockerignore": ".netrc\n"})
	makeTree(t, other, map[string]string{"Dockerfile": "FROM scratch\n", "Dockerfile.dockerignore": ".npmrc\n"})
	l, err := Scan(ctx, filepath.Join(other, "Dockerfile"), rewrite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{".netrc"}; !reflect.DeepEqual(l.Files, want) {
		t.Errorf("Files = %q, want %q", l.Files, want)
	}
	if want := filepath.Join(other, "Dockerfile.dockerignore"); l.IgnoreFile != want {
		t.Errorf("IgnoreFile = %q, want %q", l.IgnoreFile, want)
	}
}

// TestListSymlinkedContext: the context directory itself may be a link,
// as buildx resolves it.
func TestListSymlinkedContext(t *testing.T) {
	base := t.TempDir()
	makeTree(t, base, map[string]string{"real/.npmrc": "x", "ctx": "->real"})
	got, err := List(filepath.Join(base, "ctx"), "", rewrite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{".npmrc"}; !reflect.DeepEqual(got, want) {
		t.Errorf("List = %q, want %q", got, want)
	}
}

func TestListErrors(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		dir     string // relative to the temp dir; default the temp dir
		want    string
		setup   func(t *testing.T, dir string)
		entries int
	}{
		{name: "no such directory", dir: "missing", want: "build context"},
		{name: "not a directory", files: map[string]string{"file": "x"}, dir: "file", want: "build context"},
		{name: "a bad pattern", files: map[string]string{".dockerignore": "a[\n"}, want: ".dockerignore: syntax error in pattern"},
		{name: "a lone exclamation mark", files: map[string]string{".dockerignore": "!\n"}, want: `.dockerignore: illegal exclusion pattern: "!"`},
		{name: "a bad pattern in the Dockerfile's ignore file", files: map[string]string{"Dockerfile.dockerignore": "[\n"}, want: "Dockerfile.dockerignore: syntax error in pattern"},
		{name: "an ignore file that is a directory", files: map[string]string{".dockerignore/": ""}, want: ".dockerignore: not a regular file"},
		{name: "an ignore file that leaves the context", files: map[string]string{".dockerignore": "->/etc/hostname"}, want: ".dockerignore: cannot open"},
		{
			name:    "too many entries",
			files:   map[string]string{"a/1": "", "a/2": "", "b/3": "", "b/4": ""},
			entries: 5,
			want:    "more than 5 entries",
		},
		{
			name:  "an unreadable directory",
			files: map[string]string{"locked/.npmrc": "x"},
			setup: func(t *testing.T, dir string) {
				if runtime.GOOS == "windows" || os.Geteuid() == 0 {
					t.Skip("permissions do not apply")
				}
				p := filepath.Join(dir, "locked")
				if err := os.Chmod(p, 0); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { os.Chmod(p, 0o755) })
			},
			want: "permission denied",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			makeTree(t, dir, tt.files)
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			if tt.entries > 0 {
				saved := maxEntries
				maxEntries = tt.entries
				t.Cleanup(func() { maxEntries = saved })
			}
			ctx := dir
			if tt.dir != "" {
				ctx = filepath.Join(dir, tt.dir)
			}
			got, err := List(ctx, filepath.Join(dir, "Dockerfile"), rewrite.Config{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("List = %q, %v; want an error with %q", got, err, tt.want)
			}
			if got != nil {
				t.Errorf("a partial listing with the error: %q", got)
			}
		})
	}
}

// TestListSkipsIgnoredDirectories: an ignored directory that no exception
// reaches into is not walked (so it does not count against the bound), as
// the client's file sender skips it.
func TestListSkipsIgnoredDirectories(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{".npmrc": "x", ".dockerignore": "node_modules\n!README.md\n"}
	for i := range 50 {
		files[fmt.Sprintf("node_modules/p%d/.npmrc", i)] = "x"
	}
	makeTree(t, dir, files)
	saved := maxEntries
	maxEntries = 10
	t.Cleanup(func() { maxEntries = saved })
	got, err := List(dir, "", rewrite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{".npmrc"}; !reflect.DeepEqual(got, want) {
		t.Errorf("List = %q, want %q", got, want)
	}
}

// sentByFsutil lists the credential files among what the client's file
// sender (fsutil, as buildx runs it for a local context) sends of dir with
// the exclude patterns: the reference List is checked against.
func sentByFsutil(t *testing.T, dir string, excludes []string, cfg rewrite.Config) []string {
	t.Helper()
	var out []string
	err := fsutil.WalkDir(context.Background(), dir, &fsutil.FilterOpt{ExcludePatterns: excludes}, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if rel := filepath.ToSlash(p); fi.Mode().IsRegular() && rewrite.IsCredentialFile(rel, cfg) {
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("fsutil: %v", err)
	}
	slices.Sort(out)
	return out
}

// TestListExcludedPaths: exceptions under ignored directories, with
// parent results carried down.
func TestListExcludedPaths(t *testing.T) {
	dir := t.TempDir()
	makeTree(t, dir, map[string]string{
		"a/.npmrc": "x", "a/b/.npmrc": "x", "a/b/c/.npmrc": "x", "x/.npmrc": "x", "x/y/.npmrc": "x",
		".dockerignore": "a/b\n!a/b/c\nx/*\n!x/y/.npmrc\n",
	})
	got, err := List(dir, "", rewrite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a/.npmrc", "a/b/c/.npmrc", "x/y/.npmrc"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("List = %q, want %q", got, want)
	}
	_, excludes, err := readIgnore(mustRoot(t, dir), dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if sent := sentByFsutil(t, dir, excludes, rewrite.Config{}); !reflect.DeepEqual(sent, got) {
		t.Errorf("fsutil sends %q, List found %q", sent, got)
	}
}

func mustRoot(t *testing.T, dir string) *os.Root {
	t.Helper()
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// TestCache: Dockerfiles that share a context and its ignore file share
// one walk; another ignore file or other credential file patterns do not.
func TestCache(t *testing.T) {
	dir := t.TempDir()
	makeTree(t, dir, map[string]string{
		".npmrc": "x", "deploy.cred": "x", "a.Dockerfile": "", "b.Dockerfile": "",
		"c.Dockerfile": "", "c.Dockerfile.dockerignore": ".npmrc\n",
	})
	var c Cache
	scan := func(df string, cfg rewrite.Config) *Listing {
		t.Helper()
		l, err := c.Scan(dir, filepath.Join(dir, df), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	a, b := scan("a.Dockerfile", rewrite.Config{}), scan("b.Dockerfile", rewrite.Config{})
	if a != b {
		t.Errorf("a second Dockerfile of the same context walked it again")
	}
	if l := scan("c.Dockerfile", rewrite.Config{}); l == a || l.Files != nil {
		t.Errorf("c.Dockerfile's own ignore file: %+v", l)
	}
	if l := scan("a.Dockerfile", rewrite.Config{SecretFiles: []string{"*.cred"}}); l == a || !reflect.DeepEqual(l.Files, []string{".npmrc", "deploy.cred"}) {
		t.Errorf("other credential file patterns: %+v", l)
	}
}

// TestListUnreadableIgnoredDirectory: an ignored directory walked only for
// the exceptions is skipped when it cannot be read, as fsutil skips it.
func TestListUnreadableIgnoredDirectory(t *testing.T) {
	if runtime.GOOS == "windows" || os.Geteuid() == 0 {
		t.Skip("permissions do not apply")
	}
	dir := t.TempDir()
	makeTree(t, dir, map[string]string{".npmrc": "x", "locked/.npmrc": "x", ".dockerignore": "locked\n!**/keep\n"})
	p := filepath.Join(dir, "locked")
	if err := os.Chmod(p, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(p, 0o755) })
	got, err := List(dir, "", rewrite.Config{})
	if err != nil || !reflect.DeepEqual(got, []string{".npmrc"}) {
		t.Errorf("List = %q, %v; want [.npmrc]", got, err)
	}
}

// TestListByContent: a private key under any name and a configuration file
// with a credential field are credential files; a configuration file of
// placeholders, and files the ignore file leaves out, are not.
func TestListByContent(t *testing.T) {
	pw := canary.Random(t, canary.Lower+canary.Upper+canary.Digits, 32)
	key := "-----BEGIN OPENSSH PRIVATE KEY-----\n" + strings.Repeat(canary.Random(t, canary.Lower+canary.Digits, 70)+"\n", 4) + "-----END OPENSSH PRIVATE KEY-----\n"
	settings := func(v string) string {
		return "<settings><servers><server><id>corp</id><username>ci</username><password>" + v + "</password></server></servers></settings>\n"
	}
	nuget := func(v string) string {
		return `<configuration><packageSourceCredentials><corp><add key="ClearTextPassword" value="` + v + `" /></corp></packageSourceCredentials></configuration>` + "\n"
	}
	tests := []struct {
		name              string
		files             map[string]string
		keys, fields, all []string
	}{
		{"key under any name", map[string]string{"deploy/github_deploy": key, "src/a.go": "package a\n"}, []string{"deploy/github_deploy"}, nil, []string{"deploy/github_deploy"}},
		{"maven password", map[string]string{"ci/settings.xml": settings(pw)}, nil, []string{"ci/settings.xml"}, []string{"ci/settings.xml"}},
		{"maven env placeholder", map[string]string{"settings.xml": settings("${env.MAVEN_PASSWORD}")}, nil, nil, nil},
		{"nuget password", map[string]string{"NuGet.Config": nuget(pw)}, nil, []string{"NuGet.Config"}, []string{"NuGet.Config"}},
		{"nuget env placeholder", map[string]string{"nuget.config": nuget("%NUGET_PASSWORD%")}, nil, nil, nil},
		{"ignored", map[string]string{".dockerignore": "secret/\nsettings.xml\n", "secret/deploy": key, "settings.xml": settings(pw)}, nil, nil, nil},
		{"key in a settings.xml", map[string]string{"settings.xml": key}, nil, []string{"settings.xml"}, []string{"settings.xml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			makeTree(t, dir, tt.files)
			l, err := Scan(dir, "", rewrite.Config{})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(l.Keys, tt.keys) || !slices.Equal(l.FieldFiles, tt.fields) || !slices.Equal(l.Files, tt.all) {
				t.Errorf("keys %v, field files %v, files %v; want %v, %v, %v", l.Keys, l.FieldFiles, l.Files, tt.keys, tt.fields, tt.all)
			}
			if got, want := l.ByContent(), append(slices.Clone(tt.keys), tt.fields...); !slices.Equal(got, want) {
				t.Errorf("ByContent() = %v, want %v", got, want)
			}
		})
	}
}

// TestHolding checks which files copied to a credential file's name
// (rewrite.Result.NamedCopies) the context holds: regular files after
// the ignore file, nothing outside it.
func TestHolding(t *testing.T) {
	dir := t.TempDir()
	makeTree(t, dir, map[string]string{
		".dockerignore":             "ci/ignored.toml\nsecret/\n",
		"ci/cargo-credentials.toml": "[registry]\ntoken = \"x\"\n",
		"ci/ignored.toml":           "x",
		"secret/pypirc":             "x",
		"ci/dir/":                   "",
		"ci/link":                   "->cargo-credentials.toml",
	})
	l, err := Scan(dir, "", rewrite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	named := []string{"ci/cargo-credentials.toml", "ci/ignored.toml", "secret/pypirc", "ci/dir", "ci/link", "ci/missing", "../outside", "/etc/passwd"}
	if got, want := l.Holding(named), []string{"ci/cargo-credentials.toml"}; !slices.Equal(got, want) {
		t.Errorf("Holding = %q, want %q", got, want)
	}
	if got := (*Listing)(nil).Holding(named); got != nil {
		t.Errorf("nil listing: Holding = %q", got)
	}
}
