package frontend

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/hushbuild/hushbuild/rewrite"
)

// credCase is a value for credentialIn: value builds it around r, 32
// random hex digits; kind is what credentialIn must say ("" for none).
type credCase struct {
	name, arg, kind string
	value           func(r string) string
}

var credCases = []credCase{
	// URL passwords
	{"index URL", "EXTRA_INDEX_URL", kindURLPassword, func(r string) string { return "https://user:" + r + "@pypi.corp/simple" }},
	{"inside pip flags", "PIP_ARGS", kindURLPassword, func(r string) string { return "--extra-index-url https://u:" + r + "@h/simple --pre" }},
	{"second URL", "INDEXES", kindURLPassword, func(r string) string { return "https://pypi.org/simple https://u:" + r + "@h/simple" }},
	{"database URL", "APP_URL", kindURLPassword, func(r string) string { return "postgres://app:" + r + "@db:5432/app" }},
	{"any scheme", "REPO", kindURLPassword, func(r string) string { return "git+ssh://git:" + r + "@git.corp/repo.git" }},
	{"no user", "REPO", kindURLPassword, func(r string) string { return "https://:" + r + "@git.corp/repo.git" }},
	{"example host", "MIRROR", kindURLPassword, func(r string) string { return "https://u:" + r + "@mirror.example.com/x" }},
	{"placeholder word", "MIRROR", kindURLPassword, func(r string) string { return "https://" + r + ":changeme@mirror.corp/x" }},
	{"password with @", "MIRROR", kindURLPassword, func(r string) string { return "https://u:" + r + "@x@mirror.corp/x" }},
	{"non-ASCII password", "MIRROR", kindURLPassword, func(r string) string { return "https://u:é" + r + "@mirror.corp/x" }},
	{"quoted", "MIRROR", kindURLPassword, func(r string) string { return `"https://u:` + r + `@mirror.corp/x"` }},
	{"proxy", "HTTP_PROXY", kindURLPassword, func(r string) string { return "http://u:" + r + "@proxy:3128" }},
	{"proxy without scheme", "HTTPS_PROXY", kindURLPassword, func(r string) string { return "u:" + r + "@proxy:3128" }},
	{"proxy lower case", "https_proxy", kindURLPassword, func(r string) string { return "u:" + r + "@proxy:3128" }},
	{"socks proxy", "ALL_PROXY", kindURLPassword, func(r string) string { return "socks5://u:" + r + "@proxy:1080" }},
	{"ftp proxy", "ftp_proxy", kindURLPassword, func(r string) string { return "u:" + r + "@proxy:21" }},
	// a token as a URL's user name (Azure DevOps, Gemfury, GitHub)
	{"token as the user name", "REPO_URL", kindURLToken, func(r string) string { return "https://" + r + "@dev.azure.com/acme/_git/lib" }},
	{"token as the index user", "EXTRA_URL", kindURLToken, func(r string) string { return "https://" + r + "@pypi.fury.io/acme/" }},
	{"token as the user with x-oauth-basic", "REPO", kindURLToken, func(r string) string { return "https://" + r + ":x-oauth-basic@github.com/acme/app.git" }},
	{"name as the user with x-oauth-basic", "REPO", "", func(r string) string { return "https://ci-bot:x-oauth-basic@github.com/acme/" + r + ".git" }},
	// secret-named settings inside an options string
	{"gradle property", "GRADLE_OPTS", "the secret-named setting org.gradle.project.nexusPassword", func(r string) string { return "-Xmx2g -Dorg.gradle.project.nexusPassword=" + r }},
	{"SonarQube token as sonar.login", "SONAR_SCANNER_OPTS", "the secret-named setting sonar.login", func(r string) string { return "-Dsonar.host.url=https://sonar.example.com -Dsonar.login=" + r }},
	{"password flag", "TOOL_ARGS", "the secret-named setting password", func(r string) string { return "--verbose --password=" + r }},
	{"connection string", "ConnectionStrings__Default", "the secret-named setting Password", func(r string) string {
		return "Server=db;Database=app;User Id=sa;Password=" + r + ";TrustServerCertificate=True"
	}},
	{"ODBC connection string", "MSSQL", "the secret-named setting Pwd", func(r string) string { return "Driver={ODBC Driver 18};Server=db;Uid=sa;Pwd=" + r + ";" }},
	{"feed credentials JSON", "VSS_NUGET_EXTERNAL_FEED_ENDPOINTS", "the secret-named setting password", func(r string) string {
		return `{"endpointCredentials": [{"endpoint":"https://pkgs.dev.azure.com/acme/_packaging/feed/nuget/v3/index.json", "username":"docker", "password":"` + r + `"}]}`
	}},
	{"properties file", "GRADLE_PROPERTIES", "the secret-named setting nexusPassword", func(r string) string { return "nexusUsername=ci\nnexusPassword=" + r + "\n" }},
	{"YAML token", "KUBE_CONFIG", "the secret-named setting token", func(r string) string {
		return "apiVersion: v1\nusers:\n- name: ci\n  user:\n    token: " + r + "\n"
	}},
	{"Maven settings.xml", "MAVEN_SETTINGS", "the secret-named setting password", func(r string) string {
		return "<settings>\n  <servers>\n    <server>\n      <id>nexus</id>\n      <username>ci</username>\n      <password>" + r + "</password>\n    </server>\n  </servers>\n</settings>\n"
	}},
	{"NuGet.Config", "NUGET_CONFIG", "the secret-named setting ClearTextPassword", func(r string) string {
		return `<configuration><packageSourceCredentials><feed><add key="Username" value="ci" /><add key="ClearTextPassword" value="` + r + `" /></feed></packageSourceCredentials></configuration>`
	}},
	{"Azure SAS URL", "MODEL_URL", "the secret-named setting sig", func(r string) string {
		return "https://acme.blob.core.windows.net/models/m.bin?sv=2022-11-02&ss=b&srt=o&sp=r&se=2030-01-01T00:00:00Z&sig=" + r
	}},
	{"S3 presigned URL", "ARTIFACT_URL", "the secret-named setting X-Amz-Signature", func(r string) string {
		return "https://acme.s3.amazonaws.com/a.tgz?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=" + r
	}},
	{"gradle -P property", "GRADLE_ARGS", "the secret-named setting mavenPassword", func(r string) string { return "--no-daemon -PmavenPassword=" + r }},
	{"base64 kubeconfig", "KUBE_CONFIG", "the secret-named setting token, base64-encoded", func(r string) string {
		return base64.StdEncoding.EncodeToString([]byte("apiVersion: v1\nusers:\n- name: ci\n  user:\n    token: " + r + "\n"))
	}},
	{"base64 private key", "SSH_PRIV", "private-key, base64-encoded", func(r string) string {
		return base64.StdEncoding.EncodeToString([]byte("-----BEGIN OPENSSH PRIVATE KEY-----\n" + r + r + "\n-----END OPENSSH PRIVATE KEY-----\n"))
	}},
	// HTTP credentials and secret options of a command line
	{"curl header with a Bearer token", "CURL_OPTS", "an HTTP bearer credential", func(r string) string { return "-sSf -H 'Authorization: Bearer " + r + "'" }},
	{"Bearer token alone", "EXTRA_HEADER_VALUE", "an HTTP bearer credential", func(r string) string { return "Bearer " + r }},
	{"GitHub's token scheme", "GH_HEADER", "an HTTP token credential", func(r string) string { return "Authorization: token " + r }},
	{"Basic credential", "WGET_ARGS", "an HTTP Basic credential", func(r string) string {
		return "--header=\"Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("ci:"+r)) + "\""
	}},
	{"secret-named header", "CURL_OPTS", "the secret-named header X-Api-Key", func(r string) string { return "-H \"X-Api-Key: " + r + "\" --retry 3" }},
	{"password option with a space", "TOOL_ARGS", "the secret-named option --password", func(r string) string { return "--verbose --password " + r }},
	{"api key option with a space", "CLI_FLAGS", "the secret-named option --api-key", func(r string) string { return "--api-key " + r + " --region eu" }},
	{"curl --user with a password", "CURL_OPTS", "an HTTP Basic credential (user:password)", func(r string) string { return "-sSf --user gitlab-ci-token:" + r }},
	{"curl -u with a password", "CURL_OPTS", "an HTTP Basic credential (user:password)", func(r string) string { return "-u 'ci:" + r + "' --retry 3" }},
	{"curl --user= with a password", "CURL_OPTS", "an HTTP Basic credential (user:password)", func(r string) string { return "--user=ci:" + r }},
	{"curl -uUSER:PASS", "CURL_OPTS", "an HTTP Basic credential (user:password)", func(r string) string { return "-uci:" + r }},
	{"proxy user with a password", "CURL_OPTS", "an HTTP Basic credential (user:password)", func(r string) string { return "--proxy-user ci:" + r }},
	{"user without a password", "CURL_OPTS", "", func(r string) string { return "--user ci-" + r[:6] + " --netrc" }},
	{"uid:gid", "RUN_OPTS", "", func(r string) string { return "-u 1000:1000 --name app-" + r[:6] }},
	{"user:password from a variable", "CURL_OPTS", "", func(r string) string { return "-u ci:$CI_JOB_TOKEN -H 'X-Req: " + r + "'" }},
	{"Bearer from a variable", "CURL_OPTS", "", func(r string) string { return "-H 'Authorization: Bearer $API_TOKEN' -H 'X-Req: " + r + "'" }},
	{"Basic of no user:password", "BANNER", "", func(r string) string { return "basic " + base64.StdEncoding.EncodeToString([]byte("plain "+r)) }},
	{"token words", "DESCRIPTION", "", func(r string) string { return "token based authentication " + r[:8] }},
	{"password from stdin", "LOGIN_ARGS", "", func(r string) string { return "--password-stdin --username ci-" + r[:6] }},
	{"token file option", "CLI_FLAGS", "", func(r string) string { return "--token-file /run/secrets/" + r + " --verbose" }},
	{"option followed by an option", "CLI_FLAGS", "", func(r string) string { return "--password --user ci" + r[:6] }},
	{"header that is no secret", "CURL_OPTS", "", func(r string) string { return "-H 'X-Request-Id: " + r + "'" }},
	// token formats
	{"token as the user", "REPO", "github-token", func(r string) string { return "https://ghp_" + r + "abcd@github.com/acme/app.git" }},
	{"token with x-oauth-basic", "REPO", "github-token", func(r string) string { return "https://ghp_" + r + "abcd:x-oauth-basic@github.com/acme/app.git" }},
	{"bare GitHub token", "GH", "github-token", func(r string) string { return "ghp_" + r + "abcd" }},
	{"GitLab token", "GL", "gitlab-token", func(r string) string { return "glpat-" + r }},
	{"AWS key ID", "AWS", "aws-access-key-id", func(r string) string { return "AKIA" + strings.ToUpper(r[:16]) }},
	{"Slack token", "SLACK", "slack-token", func(r string) string { return "xoxb-1234-" + r }},
	{"private key", "DEPLOY", "private-key", func(r string) string {
		return "-----BEGIN OPENSSH PRIVATE KEY-----\n" + r + r + "\n-----END OPENSSH PRIVATE KEY-----\n"
	}},
	{"JWT", "ID", "jwt", func(r string) string {
		enc := base64.RawURLEncoding.EncodeToString
		return enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc([]byte(`{"sub":"build"}`)) + "." + r
	}},
	// no credential
	{"plain URL", "EXTRA_INDEX_URL", "", func(r string) string { return "https://pypi.corp/" + r + "/simple" }},
	{"user name", "REPO", "", func(r string) string { return "https://ci-" + r[:6] + "@git.corp/repo.git" }},
	{"long user name without digits", "REPO", "", func(r string) string { return "https://gitlab-ci-token-for-builds@git.corp/" + r + ".git" }},
	{"property that is no secret", "JAVA_OPTS", "", func(r string) string { return "-Xmx2g -Dapp.name=" + r }},
	{"secret setting from a variable", "GRADLE_OPTS", "", func(r string) string { return "-Dorg.gradle.project.nexusPassword=$NEXUS_PASSWORD -Dx=" + r }},
	{"ssh user", "REPO", "", func(r string) string { return "ssh://git@github.com/acme/" + r + ".git" }},
	{"scp-like git", "REPO", "", func(r string) string { return "git@github.com:acme/" + r + ".git" }},
	{"empty password", "REPO", "", func(r string) string { return "https://ci-" + r[:6] + ":@git.corp/repo.git" }},
	{"token with an empty password", "REPO", kindURLToken, func(r string) string { return "https://" + r + ":@git.corp/repo.git" }},
	{"image digest", "BASE", "", func(r string) string { return "docker-image://alpine:3.19@sha256:" + r + r }},
	{"IPv6 host", "MIRROR", "", func(r string) string { return "http://[::1]:8080/" + r }},
	{"password in the path", "MIRROR", "", func(r string) string { return "https://h/u:" + r + "@x" }},
	{"user:pass@ without scheme, not a proxy", "HOSTS", "", func(r string) string { return "u:" + r + "@host" }},
	{"proxy", "HTTP_PROXY", "", func(r string) string { return "http://proxy-" + r + ":3128" }},
	{"no_proxy", "NO_PROXY", "", func(r string) string { return "localhost,127.0.0.1,." + r + ".corp" }},
	{"version", "VERSION", "", func(r string) string { return "1.2.3-" + r }},
	{"path", "PREFIX", "", func(r string) string { return "/opt/" + r + "/bin:/usr/bin" }},
	{"AWS documentation key", "AWS", "", func(string) string { return "AKIAIOSFODNN7EXAMPLE" }},
	{"empty", "EMPTY", "", func(string) string { return "" }},
	{"JSON without secrets", "FEATURES", "", func(r string) string { return `{"name": "app", "tokenizer": "` + r + `", "password": ""}` }},
	{"JSON secret from a variable", "CONFIG", "", func(r string) string { return `{"password": "${DB_PASSWORD}", "id": "` + r + `"}` }},
	{"working directory", "ENVS", "", func(r string) string { return "HOME=/root;PWD=/app/" + r }},
	{"base64 of plain text", "BANNER", "", func(r string) string { return base64.StdEncoding.EncodeToString([]byte("built from " + r)) }},
	{"query string", "QUERY", "", func(r string) string { return "page=1&sort=" + r }},
	{"XML without secrets", "POM_EXTRA", "", func(r string) string {
		return "<properties><app.name>" + r + "</app.name><password></password></properties>"
	}},
	{"XML secret from a variable", "MAVEN_SETTINGS", "", func(r string) string {
		return "<server><id>" + r + "</id><password>${env.NEXUS_PASSWORD}</password></server>"
	}},
}

// randomHex is 32 random hex digits (a canary without its prefix).
func randomHex(t *testing.T) string { return strings.TrimPrefix(newCanary(t), "hfcanary") }

// assertNoValue fails when text holds the value or its random part.
func assertNoValue(t *testing.T, where, text, value, r string) {
	t.Helper()
	for _, needle := range []string{value, r[:12], strings.ToUpper(r[:12])} {
		if needle != "" && strings.Contains(text, needle) {
			t.Errorf("%s holds the value or a part of it", where)
			return
		}
	}
}

// shown is err for a failure message: its text, unless it holds the value
// or its random part, which tests never print.
func shown(err error, value, r string) string {
	if err == nil {
		return "<nil>"
	}
	text := fmt.Sprintf("%+v", err)
	for _, needle := range []string{value, r[:12], strings.ToUpper(r[:12])} {
		if needle != "" && strings.Contains(text, needle) {
			return "<an error holding the value>"
		}
	}
	return err.Error()
}

func TestCredentialIn(t *testing.T) {
	for _, tc := range credCases {
		t.Run(tc.arg+" "+tc.name, func(t *testing.T) {
			if got := credentialIn(tc.arg, tc.value(randomHex(t))); got != tc.kind {
				t.Errorf("kind = %q, want %q", got, tc.kind)
			}
		})
	}
}

// TestCheckBuildArgsValues passes every case as a build-arg whose name is
// no secret: a credential stops the build with its name and kind, never
// the value.
func TestCheckBuildArgsValues(t *testing.T) {
	for _, tc := range credCases {
		t.Run(tc.arg+" "+tc.name, func(t *testing.T) {
			r := randomHex(t)
			v := tc.value(r)
			df := testDF(t, nil, nil)
			err := checkBuildArgs(map[string]string{tc.arg: v, "VERSION": "1.0"}, df)
			if tc.kind == "" {
				if err != nil {
					t.Fatalf("refused: %s", shown(err, v, r))
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			assertNoValue(t, "the error", fmt.Sprintf("%+v", err), v, r)
			if !IsSecretBuildArg(err) {
				t.Error("not a secret build-arg error")
			}
			use := "use it"
			if tc.kind == kindURLPassword {
				use = "build the URL"
			}
			want := fmt.Sprintf("build-arg %s carries a credential (%s) in its value: it would be recorded in the provenance and the image history; pass the credential with --secret id=...,env=... and %s inside RUN --mount=type=secret", tc.arg, tc.kind, use)
			if err.Error() != want {
				t.Errorf("err = %s\nwant  %s", shown(err, v, r), want)
			}
		})
	}
}

func TestCheckBuildArgsValueMessage(t *testing.T) {
	r := randomHex(t)
	v := "--extra-index-url https://ci:" + r + "@pypi.corp/simple"
	df := testDF(t, nil, nil)
	df.argLines["EXTRA_INDEX_URL"] = []int{4}
	err := checkBuildArgs(map[string]string{"EXTRA_INDEX_URL": v}, df)
	want := "build-arg EXTRA_INDEX_URL carries a credential (URL password) in its value: it would be recorded in the provenance and the image history; pass the credential with --secret id=...,env=... and build the URL inside RUN --mount=type=secret"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %s\nwant  %s", shown(err, v, r), want)
	}
	var le *parser.LocationError
	if !errors.As(err, &le) || len(le.Locations) != 1 || le.Locations[0][0].Start.Line != 4 {
		t.Errorf("no location on the ARG line")
	}
	assertNoValue(t, "the error", fmt.Sprintf("%+v", err), v, r)
}

// TestCheckBuildArgsValuePrecedence: a secret name is reported as such
// whatever its value, and not-secrets does not let a credential through.
func TestCheckBuildArgsValuePrecedence(t *testing.T) {
	r := randomHex(t)
	v := "https://u:" + r + "@h/simple"
	df := testDF(t, nil, nil)
	err := checkBuildArgs(map[string]string{"PYPI_PASS": v}, df)
	if err == nil || !strings.HasPrefix(err.Error(), "build-arg PYPI_PASS is a secret") {
		t.Errorf("secret name: err = %s", shown(err, v, r))
	}
	df.classifier = rewrite.Config{NotSecrets: []string{"MIRROR"}}
	err = checkBuildArgs(map[string]string{"MIRROR": v}, df)
	if err == nil || !strings.Contains(err.Error(), "build-arg MIRROR carries a credential (URL password)") {
		t.Errorf("not-secrets: err = %s", shown(err, v, r))
	}
	if err != nil {
		assertNoValue(t, "the error", fmt.Sprintf("%+v", err), v, r)
	}
}

// optCases are frontend options for checkOptions.
var optCases = []struct {
	name string
	opts func(r string) map[string]string
	keys []string // the options refused
}{
	{"named context", func(r string) map[string]string {
		return map[string]string{"context:extra": "https://user:" + r + "@files.corp/x.tar"}
	}, []string{"context:extra"}},
	{"named context with platform", func(r string) map[string]string {
		return map[string]string{"context:extra::linux/amd64": "https://user:" + r + "@files.corp/x.tar"}
	}, []string{"context:extra::linux/amd64"}},
	{"git context with a token", func(r string) map[string]string {
		return map[string]string{"context": "https://ghp_" + r + "abcd@github.com/acme/app.git#main"}
	}, []string{"context"}},
	{"context by contextkey", func(r string) map[string]string {
		return map[string]string{"contextkey": "ctx2", "ctx2": "https://u:" + r + "@git.corp/app.git"}
	}, []string{"ctx2"}},
	{"git context sent as a frontend input (buildx)", func(r string) map[string]string {
		return map[string]string{"input:context": "https://u:" + r + "@git.corp/app.git?ref=main"}
	}, []string{"input:context"}},
	{"named git context sent as a frontend input (buildx)", func(r string) map[string]string {
		return map[string]string{"context:extra": "input:git_state_context:extra", "input:context:extra": "https://ghp_" + r + "abcd@github.com/acme/lib.git"}
	}, []string{"input:context:extra"}},
	{"dockerfilekey", func(r string) map[string]string {
		return map[string]string{"dockerfilekey": "https://u:" + r + "@git.corp/app.git"}
	}, []string{"dockerfilekey"}},
	{"several, sorted", func(r string) map[string]string {
		return map[string]string{"context:b": "https://u:" + r + "@h/b.tar", "context:a": "https://u:" + r + "@h/a.tar", "context": "https://h/app.git"}
	}, []string{"context:a", "context:b"}},
	{"plain contexts", func(r string) map[string]string {
		return map[string]string{
			"context":                "https://github.com/acme/" + r + ".git#main",
			"context:base":           "docker-image://alpine:3.19@sha256:" + r + r,
			"context:src":            "git@github.com:acme/" + r + ".git",
			"context:files":          "https://builder@files.corp/" + r + ".tar",
			"context:ghub":           "https://ci-bot:x-oauth-basic@github.com/acme/" + r + ".git",
			"input:context":          "https://github.com/acme/" + r + ".git?ref=main",
			"input-metadata:context": `{"ref":"` + r + `"}`,
		}
	}, nil},
	{"build-args are not read here", func(r string) map[string]string {
		return map[string]string{"build-arg:MIRROR": "https://u:" + r + "@h/simple", "filename": "Dockerfile"}
	}, nil},
	{"every other option is read", func(r string) map[string]string {
		return map[string]string{"ctx2": "https://u:" + r + "@h/app.git", "label:org.opencontainers.image.source": "https://gitlab-ci-token:" + r + "@gitlab.corp/acme/app.git"}
	}, []string{"ctx2", "label:org.opencontainers.image.source"}},
	{"a named git context with a token and x-oauth-basic", func(r string) map[string]string {
		return map[string]string{"context:ghub": "https://" + r + ":x-oauth-basic@github.com/acme/app.git"}
	}, []string{"context:ghub"}},
	{"a git context with a token as the user name", func(r string) map[string]string {
		return map[string]string{"input:context": "https://" + r + "@git.corp/acme/app.git"}
	}, []string{"input:context"}},
}

func TestCheckOptions(t *testing.T) {
	for _, tc := range optCases {
		t.Run(tc.name, func(t *testing.T) {
			r := randomHex(t)
			opts := tc.opts(r)
			err := checkOptions(opts)
			if tc.keys == nil {
				if err != nil {
					t.Fatalf("refused: %s", shown(err, "", r))
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			if !IsSecretBuildArg(err) {
				t.Error("not a secret build-arg error")
			}
			var want []string
			for _, k := range tc.keys {
				kind := credentialIn("", opts[k])
				want = append(want, fmt.Sprintf("option %s carries a credential (%s) in its value: it would be recorded in the build log and the provenance; remove it from the URL (for a git repository, pass the token with --secret id=GIT_AUTH_TOKEN)", k, kind))
			}
			if got := err.Error(); got != strings.Join(want, "\n") {
				t.Errorf("err = %s\nwant  %s", shown(err, "", r), strings.Join(want, "\n"))
			}
			for _, v := range opts {
				if strings.Contains(v, r) {
					assertNoValue(t, "the error", fmt.Sprintf("%+v", err), v, r)
				}
			}
		})
	}
}

// TestCredentialOptionStopsTheBuild: a named context with a credential
// stops the build and every subrequest before anything is solved, the
// Dockerfile's context included.
func TestCredentialOptionStopsTheBuild(t *testing.T) {
	for _, req := range []string{"", "frontend.outline", "frontend.targets", "frontend.lint", "frontend.convertllb"} {
		t.Run(req, func(t *testing.T) {
			canary := newCanary(t)
			v := "https://user:" + canary + "@files.corp/x.tar"
			c := newFakeClient(map[string]string{"context:extra": v, "context": "https://u:" + canary + "@git.corp/app.git#main"})
			if req != "" {
				c.opts["requestid"] = req
			}
			c.files["git://git.corp/app.git#main"] = map[string][]byte{"Dockerfile": []byte("FROM scratch\n")}
			logs := captureLogs(t)
			_, err := build(context.Background(), c, identityEngine)
			if err == nil || !IsSecretBuildArg(err) {
				t.Fatalf("err = %s", shown(err, v, strings.TrimPrefix(canary, "hfcanary")))
			}
			if len(c.solved) != 0 {
				t.Errorf("%d solves before the refusal", len(c.solved))
			}
			assertNoCanary(t, "the error", []byte(fmt.Sprintf("%+v", err)), canary)
			assertNoCanary(t, "the logs", logs.Bytes(), canary)
			for _, w := range c.warnings {
				assertNoCanary(t, "a warning", []byte(w.msg), canary)
			}
		})
	}
}

func TestPlainURLArgs(t *testing.T) {
	r := randomHex(t)
	opts := map[string]string{
		"build-arg:PIP_INDEX_URL":       "https://pypi.corp/simple",
		"build-arg:UV_DEFAULT_INDEX":    "https://pypi.corp/simple",
		"build-arg:DATABASE_URL":        "postgres://app@db/app",
		"build-arg:PIP_EXTRA_INDEX_URL": "https://u:" + r + "@pypi.corp/simple",
		"build-arg:MONGO_URI":           "mongodb://ghp_" + r + "abcd@db/app",
		"build-arg:REDIS_URL":           "redis://x",
		"build-arg:PYPI_PASS":           "x",
		"build-arg:VERSION":             "1",
		"build-arg:SLACK_WEBHOOK_URL":   "https://hooks.corp/x",
		"PIP_INDEX_URL":                 "https://pypi.corp/simple",
	}
	cfg := rewrite.Config{Secrets: []string{"REDIS_*"}}
	want := []string{"DATABASE_URL", "PIP_INDEX_URL", "UV_DEFAULT_INDEX"}
	if got := plainURLArgs(opts, cfg); !slices.Equal(got, want) {
		t.Errorf("plainURLArgs = %v, want %v", got, want)
	}

	opts[keyConfigArg] = "secrets=REDIS_*;not-secrets=GPG_KEY"
	got, err := configFromOpts(opts)
	if err != nil {
		t.Fatal(err)
	}
	if want := append([]string{"GPG_KEY"}, want...); !slices.Equal(got.NotSecrets, want) {
		t.Errorf("NotSecrets = %v, want %v", got.NotSecrets, want)
	}
}

// TestURLBuildArgThroughTheEngine builds with the real engine a Dockerfile
// whose PIP_INDEX_URL ARG the engine makes a secret mount. A plain URL is
// an ordinary build-arg: the ARG stays and the value reaches the RUN. A
// URL with a password is refused, with the flag the rewritten Dockerfile
// reads it from. An ARG built from secrets cannot take the value: refused.
func TestURLBuildArgThroughTheEngine(t *testing.T) {
	const dockerfile = "FROM scratch\nARG PIP_INDEX_URL=https://pypi.org/simple\nRUN [\"/pip\", \"install\", \"--index-url\", \"$PIP_INDEX_URL\", \"app\"]\n"
	const derived = "FROM scratch\nARG PYPI_PASS\nARG PIP_INDEX_URL=https://ci:${PYPI_PASS}@pypi.corp/simple\nRUN /pip install app\n"
	cases := []struct {
		name, dockerfile string
		value            func(r string) string
		want             string // the error; "" when the build goes ahead
	}{
		{"plain", dockerfile, func(r string) string { return "https://" + r + ".corp/simple" }, ""},
		{"user name", dockerfile, func(r string) string { return "https://ci-" + r[:6] + "@pypi.corp/simple" }, ""},
		{"password", dockerfile, func(r string) string { return "https://u:" + r + "@pypi.corp/simple" },
			"build-arg PIP_INDEX_URL is a secret (line 2: ARG PIP_INDEX_URL): pass it with --secret id=PIP_INDEX_URL,env=PIP_INDEX_URL instead of --build-arg"},
		{"plain, listed in secrets= by the directive", "# hushbuild=secrets=PIP_INDEX_URL\n" + dockerfile, func(r string) string { return "https://" + r + ".corp/simple" },
			"build-arg PIP_INDEX_URL is a secret (line 3: ARG PIP_INDEX_URL): pass it with --secret id=PIP_INDEX_URL,env=PIP_INDEX_URL instead of --build-arg"},
		{"plain, ARG built from secrets", derived, func(r string) string { return "https://" + r + ".corp/simple" },
			"build-arg PIP_INDEX_URL is built from secrets (line 3: ARG PIP_INDEX_URL): drop it and pass the secrets it is built from with --secret"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := randomHex(t)
			v := tc.value(r)
			c := newFakeClient(map[string]string{"build-arg:PIP_INDEX_URL": v})
			c.files["local://dockerfile"] = map[string][]byte{"Dockerfile": []byte(tc.dockerfile)}
			logs := captureLogs(t)
			_, err := build(context.Background(), c, rewrite.Rewrite)
			for _, w := range c.warnings {
				assertNoValue(t, "a warning", w.msg, v, r)
			}
			assertNoValue(t, "the logs", logs.String(), v, r)
			if tc.want != "" {
				if err == nil || err.Error() != tc.want {
					t.Fatalf("err = %s\nwant  %s", shown(err, v, r), tc.want)
				}
				assertNoValue(t, "the error", fmt.Sprintf("%+v", err), v, r)
				if n := len(buildDefinitions(c)); n != 0 {
					t.Errorf("%d conversions were solved", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("build: %s", shown(err, v, r))
			}
			builds := buildDefinitions(c)
			if len(builds) != 1 {
				t.Fatalf("%d conversions", len(builds))
			}
			def := marshalDef(t, builds[0])
			if !bytes.Contains(def, []byte(v)) {
				t.Error("the build-arg did not reach the RUN")
			}
			if bytes.Contains(def, []byte("id=PIP_INDEX_URL")) || bytes.Contains(builds[0].Source.Infos[0].Data, []byte("type=secret")) {
				t.Error("PIP_INDEX_URL is still read from a secret mount")
			}
		})
	}
}
