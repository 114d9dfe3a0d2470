package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/hushbuild/hushbuild/internal/buildcontext"
	"github.com/hushbuild/hushbuild/internal/canary"
	"github.com/hushbuild/hushbuild/internal/sarif/sariftest"
	"github.com/hushbuild/hushbuild/rewrite"
	"github.com/hushbuild/hushbuild/rewrite/report"
)

// The tests in this file run the real engine on build contexts made in a
// temporary directory, from which the commands run (so that paths in the
// golden files are relative).

// npmDockerfile copies the whole context and runs npm, which reads .npmrc.
const npmDockerfile = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\n"

// selfDockerfile holds a literal credential that rewrite-hardcoded takes
// out of the build, and copies the whole context.
const selfDockerfile = "# hushbuild=rewrite-hardcoded=true\nFROM python:3.12\nENV DATABASE_PASSWORD=\"SuperSecretSauce\"\nWORKDIR /app\nCOPY . .\nRUN python app.py\n"

// npmrc names the token; it holds no value.
const npmrc = "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n"

// writeContext creates files (slash paths) under dir.
func writeContext(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// describeContext lists the files of a test context for its golden file:
// names, and the content of the Dockerfiles and ignore files.
func describeContext(files map[string]string) string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		if strings.Contains(n, "Dockerfile") || strings.HasSuffix(n, ".dockerignore") {
			fmt.Fprintf(&b, "%s:\n%s", n, indent(files[n]))
		} else {
			fmt.Fprintf(&b, "%s\n", n)
		}
	}
	return b.String()
}

func indent(s string) string {
	if s == "" {
		return "    (empty)\n"
	}
	return "    " + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n    ") + "\n"
}

// TestContext runs the commands on build contexts with credential files
// and compares exit code and outputs with golden files.
func TestContext(t *testing.T) {
	npm := map[string]string{"Dockerfile": npmDockerfile, ".npmrc": npmrc, "package.json": "{}\n"}
	with := func(base map[string]string, extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name    string
		files   map[string]string
		args    []string
		stdin   string
		code    int
		want    []string // on stdout
		notWant []string // on stdout and stderr
	}{
		{
			name:  "rewrite-context",
			files: npm,
			args:  []string{"rewrite", "Dockerfile"},
			want:  []string{"COPY --exclude=.npmrc . .", "RUN --mount=type=bind,source=.npmrc,target=/app/.npmrc npm ci"},
		},
		{
			name:    "rewrite-context-dockerignore",
			files:   with(npm, map[string]string{".dockerignore": "node_modules\n.npmrc\n"}),
			args:    []string{"rewrite", "Dockerfile"},
			want:    []string{npmDockerfile},
			notWant: []string{"--exclude", "type=bind"},
		},
		{
			name:    "rewrite-context-dockerfile-dockerignore",
			files:   with(npm, map[string]string{"Dockerfile.dockerignore": ".npmrc\n"}),
			args:    []string{"rewrite", "Dockerfile"},
			want:    []string{npmDockerfile},
			notWant: []string{"--exclude", "type=bind"},
		},
		{
			// The Dockerfile's own ignore file replaces .dockerignore:
			// the .npmrc the latter lists is sent after all.
			name:  "rewrite-context-dockerfile-dockerignore-wins",
			files: with(npm, map[string]string{".dockerignore": ".npmrc\n", "Dockerfile.dockerignore": "node_modules\n"}),
			args:  []string{"rewrite", "Dockerfile"},
			want:  []string{"COPY --exclude=.npmrc . .", "--mount=type=bind,source=.npmrc,target=/app/.npmrc"},
		},
		{
			name:    "rewrite-context-off",
			files:   npm,
			args:    []string{"rewrite", "--context", "", "Dockerfile"},
			want:    []string{npmDockerfile},
			notWant: []string{"--exclude", "type=bind"},
		},
		{
			name:    "rewrite-no-context",
			files:   npm,
			args:    []string{"rewrite", "--no-context", "Dockerfile"},
			want:    []string{npmDockerfile},
			notWant: []string{"--exclude", "type=bind"},
		},
		{
			name:  "rewrite-context-diff",
			files: npm,
			args:  []string{"rewrite", "--diff", "Dockerfile"},
			want:  []string{"+COPY --exclude=.npmrc . ."},
		},
		{
			// The default context is the Dockerfile's directory.
			name: "rewrite-context-default-dir",
			files: map[string]string{
				"app/Dockerfile": npmDockerfile, "app/.npmrc": npmrc,
				".npmrc": npmrc, // outside the context
			},
			args: []string{"rewrite", "-q", "app/Dockerfile"},
			want: []string{"COPY --exclude=.npmrc . .", "--mount=type=bind,source=.npmrc,target=/app/.npmrc"},
		},
		{
			// A Dockerfile in a subdirectory of the context: its own
			// ignore file sits next to it.
			name: "rewrite-context-subdir-dockerfile",
			files: map[string]string{
				"docker/Dockerfile":              npmDockerfile,
				"docker/Dockerfile.dockerignore": ".netrc\n",
				".npmrc":                         npmrc,
				".netrc":                         "machine example.com login ci\n",
			},
			args:    []string{"rewrite", "-q", "--context", ".", "docker/Dockerfile"},
			want:    []string{"COPY --exclude=.npmrc . .", "--mount=type=bind,source=.npmrc,target=/app/.npmrc"},
			notWant: []string{".netrc"},
		},
		{
			// rewrite-hardcoded takes the literal out of the build; the
			// Dockerfile in the context still holds it.
			name: "rewrite-context-self",
			files: map[string]string{
				"docker/Dockerfile": selfDockerfile,
				"app.py":            "print('hi')\n",
			},
			args:    []string{"rewrite", "-q", "--context", ".", "docker/Dockerfile"},
			want:    []string{"COPY --exclude=docker/Dockerfile . .", "type=secret,id=DATABASE_PASSWORD"},
			notWant: []string{"SuperSecretSauce"},
		},
		{
			name: "rewrite-context-self-ignored",
			files: map[string]string{
				"Dockerfile":    selfDockerfile,
				".dockerignore": "Dockerfile\n",
			},
			args:    []string{"rewrite", "-q", "Dockerfile"},
			want:    []string{"COPY . ."},
			notWant: []string{"--exclude", "SuperSecretSauce"},
		},
		{
			name:    "rewrite-context-self-no-literal",
			files:   map[string]string{"Dockerfile": "FROM python:3.12\nWORKDIR /app\nCOPY . .\n"},
			args:    []string{"rewrite", "-q", "Dockerfile"},
			want:    []string{"COPY . ."},
			notWant: []string{"--exclude"},
		},
		{
			name:  "rewrite-context-stdin",
			files: map[string]string{".npmrc": npmrc, "Dockerfile.dockerignore": ".npmrc\n"},
			args:  []string{"rewrite", "-q", "--context", ".", "-"},
			stdin: npmDockerfile,
			want:  []string{"COPY --exclude=.npmrc . ."},
		},
		{
			name:    "rewrite-stdin-no-default-context",
			files:   npm,
			args:    []string{"rewrite", "-q", "-"},
			stdin:   npmDockerfile,
			want:    []string{npmDockerfile},
			notWant: []string{"--exclude"},
		},
		{
			name:    "secrets-context",
			files:   npm,
			args:    []string{"secrets", "Dockerfile"},
			notWant: []string{"--secret", ".npmrc"},
		},
		{
			// A file copied by name that .dockerignore keeps out of the
			// context needs a --secret flag; the file mounted from the
			// context does not.
			name: "secrets-context-mixed",
			files: map[string]string{
				"Dockerfile": "FROM python:3.12\nWORKDIR /app\nCOPY .netrc /root/.netrc\nCOPY . .\nRUN pip install -r requirements.txt && npm ci && rm /root/.netrc\n",
				".netrc":     "machine example.com login ci\n", ".npmrc": npmrc, "requirements.txt": "", ".dockerignore": ".netrc\n",
			},
			args:    []string{"secrets", "Dockerfile"},
			want:    []string{"--secret id=.netrc,src=.netrc\n"},
			notWant: []string{".npmrc"},
		},
		{
			name:  "check-context",
			files: with(npm, map[string]string{"conf/pip.conf": "[global]\n", "other/.netrc": "machine x\n"}),
			args:  []string{"check", "Dockerfile"},
			code:  1,
			want: []string{
				"Dockerfile:3: [SecretFile] warning: the build context holds the credential file .npmrc",
				"Dockerfile:3: [SecretFile] info: the build context ./ holds credential files that a copy of the context brings in: .npmrc, conf/pip.conf, other/.netrc",
				"add the lines .npmrc, conf/pip.conf, other/.netrc to .dockerignore",
			},
		},
		{
			// Only the files the copy brings in are in the note, and it
			// names the ignore file that applies.
			name: "check-context-subdir-copy",
			files: map[string]string{
				"Dockerfile":              "FROM python:3.12\nCOPY src/ /srv/\nRUN pip install -r /srv/requirements.txt\n",
				"Dockerfile.dockerignore": "*.md\n",
				"src/pip.conf":            "[global]\n", "src/requirements.txt": "", ".netrc": "machine x\n",
			},
			args: []string{"check", "Dockerfile"},
			code: 1,
			want: []string{"add the line src/pip.conf to Dockerfile.dockerignore"},
		},
		{
			name:    "check-context-dockerignore",
			files:   with(npm, map[string]string{".dockerignore": ".npmrc\n"}),
			args:    []string{"check", "Dockerfile"},
			notWant: []string{".npmrc"},
		},
		{
			name:    "check-context-disabled",
			files:   npm,
			args:    []string{"check", "--disable", "SecretFile", "Dockerfile"},
			notWant: []string{"[SecretFile]"},
		},
		{
			name:  "check-context-json",
			files: npm,
			args:  []string{"check", "--format", "json", "Dockerfile"},
			code:  1,
			want:  []string{`"severity": "info"`, `"fix": "if the build does not need it, keep it out of the build context: add the line .npmrc to .dockerignore"`},
		},
		{
			name:  "check-context-bad-dockerignore",
			files: with(npm, map[string]string{".dockerignore": "[\n"}),
			args:  []string{"check", "Dockerfile"},
			code:  2,
		},
		{
			name:  "check-context-missing",
			files: npm,
			args:  []string{"check", "--context", "nowhere", "Dockerfile"},
			code:  2,
		},
		{
			name:  "check-context-not-a-directory",
			files: npm,
			args:  []string{"check", "--context", "package.json", "Dockerfile"},
			code:  2,
		},
		{
			name:  "check-context-and-no-context",
			files: npm,
			args:  []string{"check", "--context", ".", "--no-context", "Dockerfile"},
			code:  2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			goldenPath, err := filepath.Abs(filepath.Join("testdata", "golden", tt.name+".txt"))
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			writeContext(t, dir, tt.files)
			t.Chdir(dir)
			code, stdout, stderr := runCLI(t, tt.stdin, tt.args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(stdout, w) || strings.Contains(stderr, w) {
					t.Errorf("output has %q:\nstdout:\n%s\nstderr:\n%s", w, stdout, stderr)
				}
			}
			if strings.Contains(stdout+stderr, "_authToken=") {
				t.Errorf("the content of .npmrc was printed")
			}
			args := make([]string, len(tt.args))
			for i, a := range tt.args {
				if a == "" {
					a = "''"
				}
				args[i] = a
			}
			got := fmt.Sprintf("-- context --\n%s$ hushbuild %s\nexit: %d\n-- stdout --\n%s-- stderr --\n%s",
				describeContext(tt.files), strings.Join(args, " "), code, stdout, stderr)
			golden(t, goldenPath, []byte(got))
		})
	}
}

// TestContextRewriteIdempotent: rewriting the rewritten Dockerfile with the
// same context changes nothing more, and -w writes the result.
func TestContextRewriteIdempotent(t *testing.T) {
	dir := t.TempDir()
	writeContext(t, dir, map[string]string{"Dockerfile": npmDockerfile, ".npmrc": npmrc})
	t.Chdir(dir)
	if code, _, stderr := runCLI(t, "", "rewrite", "-q", "-w", "Dockerfile"); code != 0 {
		t.Fatalf("rewrite -w: exit %d: %s", code, stderr)
	}
	first, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(first), "--exclude=.npmrc") {
		t.Fatalf("rewrite -w did not exclude .npmrc:\n%s", first)
	}
	code, stdout, stderr := runCLI(t, "", "rewrite", "-q", "Dockerfile")
	if code != 0 || stdout != string(first) {
		t.Errorf("second rewrite: exit %d, stderr %q, output:\n%s\nwant:\n%s", code, stderr, stdout, first)
	}
	if code, stdout, _ := runCLI(t, "", "secrets", "Dockerfile"); code != 0 || stdout != "" {
		t.Errorf("secrets of the rewritten Dockerfile: exit %d, %q; want no flag", code, stdout)
	}
}

// TestContextCheckFormats: the note is in every format, once per
// Dockerfile, and the reports stay valid.
func TestContextCheckFormats(t *testing.T) {
	dir := t.TempDir()
	writeContext(t, dir, map[string]string{
		"Dockerfile": npmDockerfile, "b.Dockerfile": npmDockerfile, ".npmrc": npmrc, "conf/pip.conf": "",
	})
	t.Chdir(dir)

	_, stdout, _ := runCLI(t, "", "check", "--format", "sarif", "Dockerfile", "b.Dockerfile")
	if err := sariftest.ValidateGitHub([]byte(stdout)); err != nil {
		t.Errorf("SARIF: %v", err)
	}
	if n := strings.Count(stdout, "add the lines .npmrc, conf/pip.conf to .dockerignore"); n != 2 {
		t.Errorf("SARIF: the note appears %d times, want once per Dockerfile:\n%s", n, stdout)
	}

	_, stdout, _ = runCLI(t, "", "check", "--format", "json", "Dockerfile", "b.Dockerfile")
	var doc report.JSONReport
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	for _, f := range doc.Files {
		notes := 0
		for i, fd := range f.Findings {
			if fd.Severity == "info" && fd.Rule == rewrite.RuleSecretFile.Name {
				notes++
				if fd.Range.Start != 3 || fd.Docs == "" || fd.Fixed {
					t.Errorf("%s: note %+v", f.File, fd)
				}
			}
			if i > 0 {
				prev := f.Findings[i-1]
				if prev.Range.Start > fd.Range.Start || prev.Range.Start == fd.Range.Start && prev.Rule > fd.Rule {
					t.Errorf("%s: findings out of order: %s:%d before %s:%d", f.File, prev.Rule, prev.Range.Start, fd.Rule, fd.Range.Start)
				}
			}
		}
		if notes != 1 {
			t.Errorf("%s: %d notes, want 1", f.File, notes)
		}
	}

	_, stdout, _ = runCLI(t, "", "check", "Dockerfile", "b.Dockerfile")
	for _, l := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		if !findingLine.MatchString(l) {
			t.Errorf("text line not in file:line: [Rule] severity: message form: %q", l)
		}
	}
	if n := strings.Count(stdout, "] info: the build context"); n != 2 {
		t.Errorf("text: %d notes, want one per Dockerfile:\n%s", n, stdout)
	}
}

// TestContextDirective: credential file patterns of the Dockerfile's
// # hushbuild= directive count for the listing.
func TestContextDirective(t *testing.T) {
	const df = "# hushbuild=secret-files=*.token\nFROM node:20\nWORKDIR /app\nCOPY . .\nRUN ./deploy.sh && rm -f deploy.token\n"
	res, err := rewrite.Rewrite([]byte(df), rewrite.Config{ContextFiles: []string{"deploy.token"}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed {
		t.Fatal("the engine ignored Config.ContextFiles for a Dockerfile with a # hushbuild= directive: COPY . . keeps deploy.token")
	}
	dir := t.TempDir()
	writeContext(t, dir, map[string]string{"Dockerfile": df, "deploy.token": "placeholder\n"})
	t.Chdir(dir)
	code, stdout, stderr := runCLI(t, "", "rewrite", "-q", "Dockerfile")
	if code != 0 || !strings.Contains(stdout, "--exclude=deploy.token") {
		t.Errorf("exit %d, stderr %q, output:\n%s", code, stderr, stdout)
	}
}

// TestIgnoreLine: the lines of the note name exactly the file, whatever
// its name, in the ignore file's own syntax.
func TestIgnoreLine(t *testing.T) {
	names := []string{".npmrc", "app/pip.conf", "we*ird.pem", "[x].key", "!bang.key", "#hash.key", `back\slash.key`, "q?.key", "a b/c d.key", "x/!y.key"}
	dir := t.TempDir()
	files := map[string]string{"keep.key": ""}
	var lines []string
	for _, n := range names {
		files[n] = ""
		l, ok := ignoreLine(n)
		if !ok {
			if filepath.Separator == '\\' {
				continue
			}
			t.Fatalf("ignoreLine(%q) = false", n)
		}
		lines = append(lines, l)
	}
	files[".dockerignore"] = strings.Join(lines, "\n") + "\n"
	writeContext(t, dir, files)
	got, err := buildcontext.List(dir, "", rewrite.Config{SecretFiles: []string{"*.key", "*.pem"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"keep.key"}; !reflect.DeepEqual(got, want) {
		t.Errorf("with the lines %q the context still holds %q, want %q", lines, got, want)
	}
	for _, n := range []string{" lead.key", "trail.key ", "line\nbreak.key"} {
		if l, ok := ignoreLine(n); ok {
			t.Errorf("ignoreLine(%q) = %q, true; want false", n, l)
		}
	}
}

func TestInsertFinding(t *testing.T) {
	f := func(line int, rule string) rewrite.Finding {
		return rewrite.Finding{Rule: rule, Range: rewrite.Range{Start: line, End: line}}
	}
	list := []rewrite.Finding{f(1, "SecretArg"), f(3, "SecretFile"), f(3, "SecretFile"), f(3, "SourcedEnvFile"), f(5, "SecretArg")}
	got := insertFinding(list, f(3, "SecretFile"))
	want := []rewrite.Finding{f(1, "SecretArg"), f(3, "SecretFile"), f(3, "SecretFile"), f(3, "SecretFile"), f(3, "SourcedEnvFile"), f(5, "SecretArg")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("insertFinding = %v, want %v", got, want)
	}
	if got := insertFinding(nil, f(0, "SecretFile")); len(got) != 1 {
		t.Errorf("insertFinding(nil) = %v", got)
	}
}

// TestContextFieldConfigFiles: with the build context, a configuration
// file that may hold a credential field (settings.xml, NuGet.Config) is
// read: one with a real credential field is a credential file, one of
// placeholders an ordinary file; a private key under any name is a
// credential file. Without the context, the copy is a warning that names
// the assumption. No value is printed.
func TestContextFieldConfigFiles(t *testing.T) {
	secret := canary.Random(t, canary.Lower+canary.Upper+canary.Digits, 32)
	key := "-----BEGIN OPENSSH PRIVATE KEY-----\n" + strings.Repeat(canary.Random(t, canary.Lower+canary.Digits, 70)+"\n", 4) + "-----END OPENSSH PRIVATE KEY-----\n"
	settings := func(v string) string {
		return "<settings><servers><server><id>corp</id><password>" + v + "</password></server></servers></settings>\n"
	}
	nuget := func(v string) string {
		return `<configuration><packageSourceCredentials><corp><add key="ClearTextPassword" value="` + v + `" /></corp></packageSourceCredentials></configuration>` + "\n"
	}
	tests := []struct {
		name, dockerfile, file, content string
		args                            []string
		want                            []string // in the output
		unwanted                        []string
	}{
		{"maven password", "FROM maven\nCOPY settings.xml /usr/share/maven/conf/\nRUN mvn -B package\n", "settings.xml", settings(secret), nil,
			[]string{"the credential file settings.xml is no longer copied into a layer"}, []string{"may hold a credential"}},
		{"maven env placeholder", "FROM maven\nCOPY settings.xml /usr/share/maven/conf/\nRUN mvn -B package\n", "settings.xml", settings("${env.MAVEN_PASSWORD}"), nil,
			nil, []string{"SecretFile", "may hold a credential"}},
		{"nuget password", "FROM alpine\nWORKDIR /src\nCOPY nuget.config /src/\nRUN dotnet restore\n", "nuget.config", nuget(secret), nil,
			[]string{"the credential file nuget.config is no longer copied into a layer"}, nil},
		{"nuget env placeholder", "FROM alpine\nWORKDIR /src\nCOPY nuget.config /src/\nRUN dotnet restore\n", "nuget.config", nuget("%NUGET_PASSWORD%"), nil,
			nil, []string{"SecretFile"}},
		{"no context", "FROM alpine\nWORKDIR /src\nCOPY nuget.config /src/\nRUN dotnet restore\n", "nuget.config", nuget(secret), []string{"--no-context"},
			[]string{"[SecretFile] warning: COPY copies nuget.config, a configuration file that may hold a credential", "%NAME%"}, []string{"no longer copied"}},
		{"key under any name", "FROM alpine\nCOPY deploy/github_deploy /root/.ssh/deploy\nRUN ls /root/.ssh && rm /root/.ssh/deploy\n", "deploy/github_deploy", key, nil,
			[]string{"the credential file deploy/github_deploy is no longer copied into a layer"}, nil},
		{"sourced file that assigns a secret", "FROM alpine\nCOPY build-secrets.sh /tmp/\nRUN . /tmp/build-secrets.sh && ./build.sh && rm /tmp/build-secrets.sh\n", "build-secrets.sh", "export NPM_TOKEN=" + secret + "\n", nil,
			[]string{"the credential file build-secrets.sh is no longer copied into a layer"}, []string{"SourcedEnvFile"}},
		{"sourced file of plain settings", "FROM alpine\nCOPY build-secrets.sh /tmp/\nRUN . /tmp/build-secrets.sh && ./build.sh\n", "build-secrets.sh", "export NODE_ENV=production\n", nil,
			nil, []string{"SecretFile", "SourcedEnvFile"}},
		{"sourced file without the context", "FROM alpine\nCOPY build-secrets.sh /tmp/\nRUN set -a; . /tmp/build-secrets.sh; set +a\n", "build-secrets.sh", "export NPM_TOKEN=" + secret + "\n", []string{"--no-context"},
			[]string{"[SourcedEnvFile] warning: this RUN sources build-secrets.sh, copied from the build context on line 2"}, []string{"no longer copied"}},
		{"key under any name in a broad copy", "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN ls\n", "certs/signing", key, nil,
			[]string{"certs/signing"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeContext(t, dir, map[string]string{"Dockerfile": tt.dockerfile, tt.file: tt.content})
			t.Chdir(dir)
			_, stdout, stderr := runCLI(t, "", append(append([]string{"check"}, tt.args...), "Dockerfile")...)
			out := stdout + stderr
			if strings.Contains(out, secret) || strings.Contains(out, "PRIVATE KEY") {
				t.Fatal("the output holds the file's secret")
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("the output lacks %q:\n%s", w, out)
				}
			}
			for _, u := range tt.unwanted {
				if strings.Contains(out, u) {
					t.Errorf("the output has %q:\n%s", u, out)
				}
			}
		})
	}
}
