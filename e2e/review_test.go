package e2e

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"compress/zlib"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"debug/elf"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
	"golang.org/x/crypto/ssh"
	gopkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/hushbuild/hushbuild/internal/obscure"
	"github.com/hushbuild/hushbuild/verify"
)

// reviewCase is a legacy Dockerfile and build command, found by review,
// whose build through the frontend must fail closed or keep its secret
// out of everything the build leaves: the image (deleted files and files
// inside archives included), its config and history, the provenance
// (mode=max), the exported build cache and the build log. A case passes
// when its build fails without showing the value, or when it succeeds and
// none of those holds it.
type reviewCase struct {
	name string
	// dockerfile is the Dockerfile, without its `# syntax=` line; {{VALUE}}
	// stands for the value.
	dockerfile string
	// value makes the secret's value; nil: a fresh canary.
	value func(t *testing.T) string
	// files are the context's files, made from the value.
	files func(v string) map[string]string
	// flags are the build's flags beyond the base images; the value is
	// in the client's environment as HF_SECRET_VALUE.
	flags func(v string) []string
	// secretFile, when set, is a secret passed as a file: its id and
	// content (--secret id=ID,src=FILE).
	secretFile func(v string) (id, content string)
	// forms are what a tool writes for the value besides its encodings
	// that verify knows (an XML-escaped password, the lines of a key):
	// each is searched for too.
	forms func(v string) []string
	// gitContext builds from a git repository holding files, served on
	// loopback, whose URL carries the value as its user name (as
	// `docker buildx build https://TOKEN@host/repo.git` does).
	gitContext bool
	// namedGit, when set, serves files as a git repository instead,
	// given as the named context of that name, whose URL carries the
	// value as its user name (--build-context NAME=https://TOKEN@host/repo.git).
	namedGit string
	// namedDir, when set, puts files in a directory of their own instead,
	// given as the named context of that name (--build-context NAME=DIR).
	namedDir string
	// realTools builds on the lab's Debian image with the real tools
	// (python3, git, dpkg-deb) instead of the busybox test base.
	realTools bool
	// fsTar exports the image's file system as a tar too (--output
	// type=tar), which keeps the files' extended attributes as PAX
	// records (the OCI exporter's layers keep only security.capability);
	// it is searched for the value's forms, as bytes.
	fsTar bool
}

var reviewCases = []reviewCase{
	{
		// A token as the user name of a URL (no password: GitHub's
		// https://TOKEN@github.com, Azure DevOps' https://PAT@dev.azure.com)
		// under a name that is not secret: credentialIn only knows URL
		// passwords and token formats.
		name:       "token as a URL's user name in a build-arg",
		dockerfile: "FROM alpine\nARG REPO_URL\nRUN git clone \"$REPO_URL\" /src/lib || true\n",
		flags: func(v string) []string {
			return []string{"--build-arg", "REPO_URL=https://" + v + "@dev.azure.com/acme/proj/_git/lib"}
		},
	},
	{
		// Gemfury's index URL is https://TOKEN@pypi.fury.io/ACCOUNT/: the
		// name is a secret for its URL, and the value is taken as a plain
		// URL (plainURLArgs) because it has no password.
		name:       "PIP_EXTRA_INDEX_URL with the token as user name",
		dockerfile: "FROM alpine\nARG PIP_EXTRA_INDEX_URL\nRUN pip install -r requirements.txt\n",
		files:      func(string) map[string]string { return map[string]string{"requirements.txt": "acme-lib==1.0\n"} },
		flags: func(v string) []string {
			return []string{"--build-arg", "PIP_EXTRA_INDEX_URL=https://" + v + "@pypi.fury.io/acme/"}
		},
	},
	{
		name:       "repository password in GRADLE_OPTS",
		dockerfile: "FROM alpine\nARG GRADLE_OPTS\nRUN echo \"building with $GRADLE_OPTS\" | wc -c\n",
		flags: func(v string) []string {
			return []string{"--build-arg", "GRADLE_OPTS=-Dorg.gradle.project.nexusPassword=" + v}
		},
	},
	{
		// A CI variable holding the whole settings.xml, under a name that
		// says what it is rather than that it is secret.
		name:       "Maven settings.xml in a build-arg",
		dockerfile: "FROM alpine\nARG MAVEN_SETTINGS\nRUN mkdir -p /root/.m2 && printf '%s' \"$MAVEN_SETTINGS\" > /root/.m2/settings.xml && mvn -B package || true\n",
		flags: func(v string) []string {
			return []string{"--build-arg", "MAVEN_SETTINGS=<settings>\n  <servers>\n    <server>\n      <id>nexus</id>\n      <username>ci</username>\n      <password>" + v + "</password>\n    </server>\n  </servers>\n</settings>\n"}
		},
	},
	{
		// curl's options in a CI variable, with the API token in a
		// header, under a name that is no secret.
		name:       "Bearer token in curl options in a build-arg",
		dockerfile: "FROM alpine\nARG CURL_OPTS\nRUN curl -sSf $CURL_OPTS https://api.example.com/v1/artifacts || true\n",
		flags: func(v string) []string {
			return []string{"--build-arg", "CURL_OPTS=-H 'Authorization: Bearer " + v + "'"}
		},
	},
	{
		name:       "password after a space in a tool's options build-arg",
		dockerfile: "FROM alpine\nARG DEPLOY_ARGS\nRUN echo \"deploying with $DEPLOY_ARGS\" | wc -c\n",
		flags: func(v string) []string {
			return []string{"--build-arg", "DEPLOY_ARGS=--user ci --password " + v + " --verbose"}
		},
	},
	{
		// A model or artifact fetched with a signed URL: the signature
		// alone grants access.
		name:       "Azure SAS URL in a build-arg",
		dockerfile: "FROM alpine\nARG MODEL_URL\nRUN wget -q -O /opt/model.bin \"$MODEL_URL\" || true\n",
		flags: func(v string) []string {
			return []string{"--build-arg", "MODEL_URL=https://acme.blob.core.windows.net/models/m.bin?sv=2022-11-02&ss=b&srt=o&sp=r&se=2030-01-01T00:00:00Z&sig=" + v}
		},
	},
	{
		name:       "a password ARG named _PW",
		dockerfile: "FROM alpine\nARG DB_PW\nRUN echo \"migrating with $DB_PW\" | wc -c\n",
		flags:      func(v string) []string { return []string{"--build-arg", "DB_PW=" + v} },
	},
	{
		// GitLab's CI_REPOSITORY_URL is https://gitlab-ci-token:TOKEN@host/...;
		// pipelines label images with it.
		name:       "--label with a URL password",
		dockerfile: "FROM alpine\nCOPY app.py /app/\n",
		files:      func(string) map[string]string { return map[string]string{"app.py": "print(1)\n"} },
		flags: func(v string) []string {
			return []string{"--label", "org.opencontainers.image.source=https://gitlab-ci-token:" + v + "@gitlab.example.com/acme/app.git"}
		},
	},
	{
		// The same file with COPY . . fails closed (TestProofCatchesLeaks):
		// a RUN that bind-mounts the context is checked only when the
		// context holds a file with a credential file's name.
		name:       "context file holding the secret copied by a bind-mount RUN",
		dockerfile: "FROM alpine\nWORKDIR /app\nRUN --mount=type=bind,target=/src cp -r /src/. /app/\nRUN --mount=type=secret,id=api_token,env=API_TOKEN curl -H \"Authorization: Bearer $API_TOKEN\" https://api.example.com/\n",
		files: func(v string) map[string]string {
			return map[string]string{"config/settings.ini": "[api]\ntoken = " + v + "\n", "app.py": "print(1)\n"}
		},
		flags: func(string) []string { return []string{"--secret", "id=api_token,env=HF_SECRET_VALUE"} },
	},
	{
		// actions/checkout with submodules and persist-credentials (its
		// default) writes the token into every submodule's config, under
		// .git/modules/: only .git/config is a credential file.
		name:       "token in a submodule's git config",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN npm ci\n",
		value:      func(t *testing.T) string { return "ghs_" + newCanary(t)[4:40] },
		files: func(v string) map[string]string {
			header := base64.StdEncoding.EncodeToString([]byte("x-access-token:" + v))
			return map[string]string{
				"package.json":                   "{}\n",
				".git/config":                    "[core]\n\trepositoryformatversion = 0\n[remote \"origin\"]\n\turl = https://github.com/acme/app\n",
				".git/HEAD":                      "ref: refs/heads/main\n",
				".git/modules/vendor/lib/config": "[core]\n\trepositoryformatversion = 0\n\tworktree = ../../../../vendor/lib\n[remote \"origin\"]\n\turl = https://github.com/acme/lib\n[http \"https://github.com/\"]\n\textraheader = AUTHORIZATION: basic " + header + "\n",
				"vendor/lib/.git":                "gitdir: ../../.git/modules/vendor/lib\n",
			}
		},
	},
	{
		name:       ".npmrc inside a .tar.bz2 the step makes",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\nWORKDIR /app\nRUN echo \"//registry.npmjs.org/:_authToken=${NPM_TOKEN}\" > /root/.npmrc && npm ci && tar cjf /app/home-backup.tar.bz2 -C /root . && rm /root/.npmrc\n",
		flags:      func(string) []string { return []string{"--secret", "id=NPM_TOKEN,env=HF_SECRET_VALUE"} },
	},
	{
		name:       ".npmrc inside a .tgz inside a .tgz",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\nWORKDIR /app\nRUN echo \"//registry.npmjs.org/:_authToken=${NPM_TOKEN}\" > /root/.npmrc && npm ci && tar czf /tmp/home.tgz -C /root . && tar czf /app/bundle.tgz -C /tmp home.tgz && rm /root/.npmrc /tmp/home.tgz\n",
		flags:      func(string) []string { return []string{"--secret", "id=NPM_TOKEN,env=HF_SECRET_VALUE"} },
	},
	{
		// A plain tar is searched as raw bytes: a compressed member of
		// it holds the value only once decompressed.
		name:       ".npmrc inside a .tgz inside a plain .tar",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\nWORKDIR /app\nRUN echo \"//registry.npmjs.org/:_authToken=${NPM_TOKEN}\" > /root/.npmrc && npm ci && tar czf /tmp/home.tgz -C /root . && tar cf /app/bundle.tar -C /tmp home.tgz && rm /root/.npmrc /tmp/home.tgz\n",
		flags:      func(string) []string { return []string{"--secret", "id=NPM_TOKEN,env=HF_SECRET_VALUE"} },
	},
	{
		name:       "gzipped .npmrc inside a plain .tar",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\nWORKDIR /app\nRUN echo \"//registry.npmjs.org/:_authToken=${NPM_TOKEN}\" > /root/.npmrc && npm ci && gzip -c /root/.npmrc > /tmp/npmrc.gz && tar cf /app/bundle.tar -C /tmp npmrc.gz && rm /root/.npmrc /tmp/npmrc.gz\n",
		flags:      func(string) []string { return []string{"--secret", "id=NPM_TOKEN,env=HF_SECRET_VALUE"} },
	},
	{
		// A fine-grained GitHub token is 93 bytes: its Basic header is
		// 128 base64 characters, which base64 wraps at 76, and set -x
		// prints the variable on two lines.
		name:       "log: set -x prints a Basic header base64 wraps",
		dockerfile: "FROM alpine\nRUN --mount=type=secret,id=GH_PAT,env=GH_PAT set -x; AUTH=$(printf 'x-access-token:%s' \"$GH_PAT\" | base64); git -c http.extraHeader=\"Authorization: Basic $AUTH\" ls-remote https://github.com/acme/lib.git || true\n",
		value:      func(t *testing.T) string { return "github_pat_" + longCanary(t, 41) },
		flags:      func(string) []string { return []string{"--secret", "id=GH_PAT,env=HF_SECRET_VALUE"} },
	},
	{
		// What `curl -v -u USER:TOKEN` prints, for a 1.2 KB access token
		// (Azure AD): the mask covers the middle 128 bytes only.
		name:       "log: a long token's Basic header on one line",
		dockerfile: "FROM alpine\nRUN --mount=type=secret,id=ACR_TOKEN,env=ACR_TOKEN echo \"> Authorization: Basic $(printf '00000000-0000-0000-0000-000000000000:%s' \"$ACR_TOKEN\" | base64 -w0)\"\n",
		value:      func(t *testing.T) string { return "hfc_" + longCanary(t, 600) },
		flags:      func(string) []string { return []string{"--secret", "id=ACR_TOKEN,env=HF_SECRET_VALUE"} },
	},
	{
		// An env file passed whole as a secret is searched field by
		// field, and only the fields whose names say secret.
		name:       ".env secret: a field named DB_PW",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY config.tpl render.sh ./\nRUN --mount=type=secret,id=dotenv sh render.sh\n",
		files: func(string) map[string]string {
			return map[string]string{
				"config.tpl": "database:\n  host: ${DB_HOST}\n  password: ${DB_PW}\n",
				"render.sh":  "set -a; . /run/secrets/dotenv; set +a\nsed -e \"s|\\${DB_HOST}|$DB_HOST|\" -e \"s|\\${DB_PW}|$DB_PW|\" /app/config.tpl > /app/config.yml\n",
			}
		},
		secretFile: func(v string) (string, string) {
			return "dotenv", "APP_ENV=production\nDB_HOST=db.internal\nDB_PW=" + v + "\n"
		},
	},
	{
		// secretscan knows the format (stripe-secret-key); the field's
		// name decides.
		name:       ".env secret: a Stripe key under STRIPE_SK",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY render.sh ./\nRUN --mount=type=secret,id=dotenv sh render.sh\n",
		value:      func(t *testing.T) string { return "sk_live_" + longCanary(t, 12) },
		files: func(string) map[string]string {
			return map[string]string{"render.sh": "set -a; . /run/secrets/dotenv; set +a\nprintf 'stripe:\\n  key: %s\\n' \"$STRIPE_SK\" > /app/config.yml\n"}
		},
		secretFile: func(v string) (string, string) { return "dotenv", "APP_ENV=production\nSTRIPE_SK=" + v + "\n" },
	},
	{
		// A TLS key in a YAML block scalar: every line indented, so the
		// middle of the value (which spans lines) is nowhere; verify's
		// private-key rule sees it, the build's check does not.
		name:       "PEM key indented in a YAML block",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY render.sh ./\nRUN --mount=type=secret,id=tls_key sh render.sh\n",
		value:      rsaKeyPEM,
		files: func(string) map[string]string {
			return map[string]string{"render.sh": "{ echo 'server:'; echo '  tls_key: |'; sed 's/^/    /' /run/secrets/tls_key; } > /app/config.yml\n"}
		},
		secretFile: func(v string) (string, string) { return "tls_key", v },
		forms:      pemBodyLines,
	},
	{
		// What `dotnet nuget add source --store-password-in-clear-text`
		// (and any XML writer) stores: & and < escaped.
		name:       "password XML-escaped in NuGet.Config",
		dockerfile: "FROM alpine\nCOPY nuget-source.sh /usr/local/bin/\nRUN --mount=type=secret,id=FEED_PASSWORD,env=FEED_PASSWORD mkdir -p /root/.nuget/NuGet && sh /usr/local/bin/nuget-source.sh && echo restore\n",
		value: func(t *testing.T) string {
			c := newCanary(t)
			return c[:14] + "&" + c[14:24] + "<" + c[24:]
		},
		files: func(string) map[string]string {
			return map[string]string{"nuget-source.sh": "pw=$(printf '%s' \"$FEED_PASSWORD\" | sed -e 's/&/\\&amp;/g' -e 's/</\\&lt;/g')\n" +
				"printf '<configuration>\\n  <packageSourceCredentials>\\n    <acme>\\n      <add key=\"Username\" value=\"ci\" />\\n      <add key=\"ClearTextPassword\" value=\"%s\" />\\n    </acme>\\n  </packageSourceCredentials>\\n</configuration>\\n' \"$pw\" > /root/.nuget/NuGet/NuGet.Config\n"}
		},
		flags: func(string) []string { return []string{"--secret", "id=FEED_PASSWORD,env=HF_SECRET_VALUE"} },
		forms: func(v string) []string {
			return []string{strings.NewReplacer("&", "&amp;", "<", "&lt;").Replace(v)}
		},
	},
	{
		// Azure Artifacts and private NuGet feeds: nuget.config next to
		// the solution, with the feed's password; not a credential file
		// by name, and nothing else in the build is a secret.
		name:       "nuget.config with a ClearTextPassword in the context",
		dockerfile: "FROM alpine\nWORKDIR /src\nCOPY . .\nRUN echo dotnet restore\n",
		files: func(v string) map[string]string {
			return map[string]string{
				"app.csproj":   "<Project Sdk=\"Microsoft.NET.Sdk\"></Project>\n",
				"nuget.config": "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<configuration>\n  <packageSources>\n    <add key=\"acme\" value=\"https://pkgs.dev.azure.com/acme/_packaging/feed/nuget/v3/index.json\" />\n  </packageSources>\n  <packageSourceCredentials>\n    <acme>\n      <add key=\"Username\" value=\"ci\" />\n      <add key=\"ClearTextPassword\" value=\"" + v + "\" />\n    </acme>\n  </packageSourceCredentials>\n</configuration>\n",
			}
		},
	},
	{
		// A token kept in a file of its own whose name says nothing
		// (token, .gh-pat, ci/npm-auth): copied, read into a variable,
		// deleted in the same RUN; the COPY's layer keeps it. Its
		// content (one token of a known format) makes it a credential
		// file.
		name:       "GitHub token in a file named token, copied and deleted",
		dockerfile: "FROM alpine\nCOPY token /tmp/token\nRUN GITHUB_TOKEN=$(cat /tmp/token) sh -c 'test -n \"$GITHUB_TOKEN\"' && rm /tmp/token\n",
		value:      func(t *testing.T) string { return "ghp_" + longCanary(t, 18) },
		files:      func(v string) map[string]string { return map[string]string{"token": v + "\n"} },
	},
	{
		name:       "npm token in a file of the context copied whole, deleted in a later RUN",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN NPM_TOKEN=\"$(cat ci/npm-auth)\" sh -c 'test -n \"$NPM_TOKEN\"'\nRUN rm -f ci/npm-auth\n",
		value:      func(t *testing.T) string { return "npm_" + longCanary(t, 18) },
		files: func(v string) map[string]string {
			return map[string]string{"ci/npm-auth": v, "package.json": "{}\n"}
		},
	},
	{
		name:       "GitLab token in a dot file, copied to HOME and deleted",
		dockerfile: "FROM alpine\nCOPY .gl-pat /root/.gl-pat\nRUN export CI_JOB_TOKEN=$(cat /root/.gl-pat) && test -n \"$CI_JOB_TOKEN\" && rm /root/.gl-pat\n",
		value:      func(t *testing.T) string { return "glpat-" + longCanary(t, 10) },
		files:      func(v string) map[string]string { return map[string]string{".gl-pat": v + "\n"} },
	},
	{
		// A pip configuration copied under a name of its own, which a
		// later ENV (or the RUN itself) makes pip's: PIP_CONFIG_FILE.
		name:       "pip config copied first and named by a later ENV PIP_CONFIG_FILE",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY ci/pip-settings /etc/pip-settings.conf\nCOPY requirements.txt .\nENV PIP_CONFIG_FILE=/etc/pip-settings.conf\nRUN pip install -r requirements.txt\n",
		files: func(v string) map[string]string {
			return map[string]string{"ci/pip-settings": "[global]\nindex-url = https://ci:" + v + "@pypi.example.com/simple\n", "requirements.txt": "acme-lib==1.0\n"}
		},
	},
	{
		name:       "pip config copied first and named by the RUN's PIP_CONFIG_FILE assignment",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY ci/pip-settings /etc/pip-settings.conf\nCOPY requirements.txt .\nRUN PIP_CONFIG_FILE=/etc/pip-settings.conf pip install -r requirements.txt\n",
		files: func(v string) map[string]string {
			return map[string]string{"ci/pip-settings": "[global]\nindex-url = https://ci:" + v + "@pypi.example.com/simple\n", "requirements.txt": "acme-lib==1.0\n"}
		},
	},
	{
		// HardcodedSecret reads instructions, not comments; provenance
		// (mode=max) records the Dockerfile whole.
		name:       "GitHub token in a commented-out line",
		dockerfile: "FROM alpine\n# RUN git clone https://{{VALUE}}@github.com/acme/lib.git /src/lib\nRUN echo hello\n",
		value:      func(t *testing.T) string { return "ghp_" + longCanary(t, 18) },
	},
	{
		// JSON escapes in an exec form: the Dockerfile's text holds no
		// token, the argv BuildKit decodes (history, config) does.
		name:       "GitHub token written with JSON escapes in an exec-form RUN",
		dockerfile: "FROM alpine\nRUN [\"sh\", \"-c\", \"echo {{VALUE_JSON_ESCAPED}} > /dev/null\"]\n",
		value:      func(t *testing.T) string { return "ghp_" + longCanary(t, 18) },
	},
	{
		name:       "GitHub token written with JSON escapes in CMD",
		dockerfile: "FROM alpine\nCMD [\"curl\", \"-H\", \"Authorization: token {{VALUE_JSON_ESCAPED}}\", \"https://api.github.com/user\"]\n",
		value:      func(t *testing.T) string { return "ghp_" + longCanary(t, 18) },
	},
	{
		// CI systems keep files (service accounts, keystores, .p12) as
		// base64 text: the build decodes the secret into a file, which
		// holds none of the encodings of the value that the check knows.
		name:       "base64-kept service account decoded into a file by a script",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY fetch-models.sh ./\nRUN --mount=type=secret,id=GCP_SA_KEY_B64,env=GCP_SA_KEY_B64 sh fetch-models.sh\n",
		value: func(t *testing.T) string {
			sa := `{"type":"service_account","project_id":"acme","private_key_id":"` + newCanary(t) + `","client_email":"ci@acme.iam.gserviceaccount.com"}`
			return base64.StdEncoding.EncodeToString([]byte(sa))
		},
		files: func(string) map[string]string {
			return map[string]string{"fetch-models.sh": "printf '%s' \"$GCP_SA_KEY_B64\" | base64 -d > /app/gcp-sa.json\nexport GOOGLE_APPLICATION_CREDENTIALS=/app/gcp-sa.json\necho fetched models\n"}
		},
		flags: func(string) []string { return []string{"--secret", "id=GCP_SA_KEY_B64,env=HF_SECRET_VALUE"} },
		forms: func(v string) []string {
			dec, _ := base64.StdEncoding.DecodeString(v)
			return []string{string(dec)}
		},
	},
	{
		// cookiecutter-django's layout: the env files of each environment
		// under .envs/, named after the service, with no extension.
		name:       "env file under .envs/.production/.django copied with the app",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . /app\nRUN echo collectstatic\n",
		files: func(v string) map[string]string {
			return map[string]string{
				"manage.py":                 "print(1)\n",
				".envs/.production/.django": "DJANGO_SETTINGS_MODULE=config.settings.production\nDJANGO_SECRET_KEY=" + v + "\nDJANGO_ADMIN_URL=admin/\n",
			}
		},
	},
	{
		// Checking a secret file for a stray newline or CR: xxd's hex
		// columns are grouped, and its text column cut every 16 bytes.
		name:       "log: xxd of the secret file",
		dockerfile: "FROM alpine\nRUN --mount=type=secret,id=api_token xxd < /run/secrets/api_token && curl -H \"Authorization: Bearer $(cat /run/secrets/api_token)\" https://api.example.com/\n",
		secretFile: func(v string) (string, string) { return "api_token", v + "\n" },
	},
	{
		// `docker buildx build https://TOKEN@host/repo.git`: checkOptions
		// knows URL passwords only.
		name:       "git context URL with the token as user name",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY package.json .\nRUN npm ci\n",
		files:      func(string) map[string]string { return map[string]string{"package.json": "{}\n"} },
		gitContext: true,
	},
	{
		// A deploy key kept in the repository under a name of its own:
		// no credential file has it, and the key is copied with the app.
		// The context is searched for private keys by content, so the
		// file is a credential file of the context that stays in the
		// image (SecretFileInImage).
		name:       "deploy key under a name no credential file has copied with the context",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN mkdir -p /root/.ssh && cp deploy/github_deploy /root/.ssh/id_ed25519 && chmod 600 /root/.ssh/id_ed25519 && git clone git@github.com:acme/lib.git /src/lib; rm -f /root/.ssh/id_ed25519\n",
		value:      opensshKey,
		files: func(v string) map[string]string {
			return map[string]string{"deploy/github_deploy": v, "main.go": "package main\n"}
		},
		forms: pemBodyLines,
	},
	{
		// The same key under a directory the Dockerfile copies by name:
		// the search reads only the paths the Dockerfile copies, and
		// finds it there.
		name:       "deploy key under a name no credential file has in a directory copied by name",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY main.go ./\nCOPY deploy/ /app/deploy/\nRUN echo build\n",
		value:      opensshKey,
		files: func(v string) map[string]string {
			return map[string]string{"deploy/github_deploy": v, "main.go": "package main\n"}
		},
		forms: pemBodyLines,
	},
	{
		// Apple's push-notification key (AuthKey_<KEYID>.p8, a PKCS #8
		// PEM key) kept next to the server's code.
		name:       "APNs AuthKey .p8 copied with the app",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . /app\nRUN echo build\n",
		value:      rsaKeyPEM,
		files: func(v string) map[string]string {
			return map[string]string{"certs/AuthKey_4X7Y9Z2ABC.p8": v, "server.js": "console.log(1)\n"}
		},
		forms: pemBodyLines,
	},
	{
		// The Firebase console names a service account's key file
		// PROJECT-firebase-adminsdk-XXXXX-0123456789.json.
		name:       "firebase-adminsdk service account JSON copied with the app",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN echo build\n",
		value:      rsaKeyPEM,
		files: func(v string) map[string]string {
			key, _ := json.Marshal(v)
			return map[string]string{
				"acme-prod-firebase-adminsdk-fbsvc-1a2b3c4d5e.json": `{"type": "service_account", "project_id": "acme-prod", "private_key_id": "0123456789abcdef", "private_key": ` + string(key) + `, "client_email": "firebase-adminsdk-fbsvc@acme-prod.iam.gserviceaccount.com"}` + "\n",
				"index.js": "console.log(1)\n",
			}
		},
		forms: pemBodyLines,
	},
	{
		// Google's API quickstarts save the user's OAuth token to
		// token.json next to client_secret.json.
		name:       "Google OAuth token.json copied with the app",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN echo build\n",
		value:      func(t *testing.T) string { return "1//0g" + longCanary(t, 40) },
		files: func(v string) map[string]string {
			return map[string]string{
				"token.json":    `{"token": "ya29.a0AfB_byC", "refresh_token": "` + v + `", "token_uri": "https://oauth2.googleapis.com/token", "client_id": "123-abc.apps.googleusercontent.com", "client_secret": "GOCSPX-not-this-one", "scopes": ["https://www.googleapis.com/auth/drive"]}` + "\n",
				"quickstart.py": "print(1)\n",
			}
		},
	},
	{
		// Java reads keys as DER: the PEM secret's body, decoded.
		name:       "PEM key secret written as DER",
		dockerfile: "FROM alpine\nWORKDIR /app\nRUN --mount=type=secret,id=jwt_key sed '1d;$d' /run/secrets/jwt_key | base64 -d > /app/jwt-signing.der\n",
		value:      rsaKeyPEM,
		secretFile: func(v string) (string, string) { return "jwt_key", v },
		forms:      func(v string) []string { return []string{derOf(v)} },
	},
	{
		// SQL (and YAML's single-quoted scalars) double a quote; a script
		// the rewrite does not read writes it.
		name:       "password with a quote doubled in an SQL init script",
		dockerfile: "FROM alpine\nCOPY init-db.sh /usr/local/bin/\nRUN --mount=type=secret,id=DB_PASSWORD,env=DB_PASSWORD sh /usr/local/bin/init-db.sh\n",
		files: func(string) map[string]string {
			return map[string]string{"init-db.sh": "mkdir -p /docker-entrypoint-initdb.d\nprintf \"CREATE USER app WITH PASSWORD '%s';\\n\" \"$(printf '%s' \"$DB_PASSWORD\" | sed \"s/'/''/g\")\" > /docker-entrypoint-initdb.d/01-user.sql\n"}
		},
		value: func(t *testing.T) string {
			c := newCanary(t)
			return c[:12] + "'" + c[12:26] + "'" + c[26:]
		},
		flags: func(string) []string { return []string{"--secret", "id=DB_PASSWORD,env=HF_SECRET_VALUE"} },
		forms: func(v string) []string { return []string{strings.ReplaceAll(v, "'", "''")} },
	},
	{
		// A generated password (openssl rand -base64) has / + =;
		// Python's urllib.parse.quote, the usual way to put one in a
		// database URL, escapes + and = but leaves /: neither of the URL
		// escapings the check knew (Go's QueryEscape escapes /, its
		// PathEscape leaves + and =). The script does what quote does.
		name:       "password with slash plus equals quoted by Python into a database URL",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY render-settings.sh ./\nRUN --mount=type=secret,id=DB_PASSWORD,env=DB_PASSWORD sh render-settings.sh\n",
		value: func(t *testing.T) string {
			c := newCanary(t)
			return c[:12] + "/" + c[12:24] + "+" + c[24:36] + "=" + c[36:]
		},
		files: func(string) map[string]string {
			return map[string]string{"render-settings.sh": "# quote(password), as urllib.parse.quote does: / is safe\npw=$(printf '%s' \"$DB_PASSWORD\" | sed -e 's/+/%2B/g' -e 's/=/%3D/g')\nprintf '[database]\\nurl = postgresql://app:%s@db:5432/app\\n' \"$pw\" > /app/settings.ini\n"}
		},
		flags: func(string) []string { return []string{"--secret", "id=DB_PASSWORD,env=HF_SECRET_VALUE"} },
		forms: func(v string) []string {
			return []string{strings.NewReplacer("+", "%2B", "=", "%3D").Replace(v)}
		},
	},
	{
		// Python's json.dumps escapes every non-ASCII character.
		name:       "non-ASCII password JSON-escaped by Python",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY write-config.sh ./\nRUN --mount=type=secret,id=SMTP_PASSWORD,env=SMTP_PASSWORD sh write-config.sh\n",
		value: func(t *testing.T) string {
			c := newCanary(t)
			return c[:16] + "\u00e9" + c[16:30] + "\u20ac" + c[30:]
		},
		files: func(string) map[string]string {
			return map[string]string{"write-config.sh": "pw=$(printf '%s' \"$SMTP_PASSWORD\" | sed -e 's/\xc3\xa9/\\\\u00e9/g' -e 's/\xe2\x82\xac/\\\\u20ac/g')\nprintf '{\"smtp\": {\"password\": \"%s\"}}\\n' \"$pw\" > /app/config.json\n"}
		},
		flags: func(string) []string { return []string{"--secret", "id=SMTP_PASSWORD,env=HF_SECRET_VALUE"} },
		forms: func(v string) []string { return []string{asciiJSON(v)} },
	},
	{
		name:       "ADD of a URL with a password from a secret ARG",
		dockerfile: "FROM alpine\nARG ARTIFACTORY_PASSWORD\nADD https://ci:${ARTIFACTORY_PASSWORD}@artifactory.example.com/libs/lib.tgz /tmp/lib.tgz\nRUN echo build\n",
		flags:      func(string) []string { return []string{"--secret", "id=ARTIFACTORY_PASSWORD,env=HF_SECRET_VALUE"} },
	},
	{
		// A stage's ONBUILD triggers run where a later stage starts FROM it.
		name:       "ONBUILD of an earlier stage writes the token",
		dockerfile: "FROM alpine AS base\nONBUILD ARG NPM_TOKEN\nONBUILD RUN echo \"//registry.npmjs.org/:_authToken=${NPM_TOKEN}\" > /root/.npmrc && npm ci\nFROM base\nRUN echo done\n",
		flags:      func(string) []string { return []string{"--secret", "id=NPM_TOKEN,env=HF_SECRET_VALUE"} },
	},
	{
		// huggingface_hub keeps the token in HF_HOME, a cache mount here.
		name:       "token written under a cache mount",
		dockerfile: "FROM alpine\nRUN --mount=type=cache,target=/root/.cache --mount=type=secret,id=HF_TOKEN,env=HF_TOKEN mkdir -p /root/.cache/huggingface && printf '%s' \"$HF_TOKEN\" > /root/.cache/huggingface/token && echo downloaded\nRUN --mount=type=cache,target=/root/.cache cp -r /root/.cache/huggingface /opt/hf || true\n",
		flags:      func(string) []string { return []string{"--secret", "id=HF_TOKEN,env=HF_SECRET_VALUE"} },
	},
	{
		name:       "HTTPS_PROXY build-arg with a password",
		dockerfile: "FROM alpine\nRUN echo apk add curl\n",
		flags: func(v string) []string {
			return []string{"--build-arg", "HTTPS_PROXY=http://ci:" + v + "@proxy.acme.internal:3128"}
		},
	},
	{
		// SonarQube's tokens were 40 hex digits, passed as sonar.login.
		name:       "SONAR_SCANNER_OPTS with a -Dsonar.login token",
		dockerfile: "FROM alpine\nARG SONAR_SCANNER_OPTS\nRUN echo \"sonar-scanner $SONAR_SCANNER_OPTS\" | wc -c\n",
		value:      func(t *testing.T) string { return longCanary(t, 20) },
		flags: func(v string) []string {
			return []string{"--build-arg", "SONAR_SCANNER_OPTS=-Dsonar.host.url=https://sonar.acme.io -Dsonar.login=" + v}
		},
	},
	{
		name:       "ID_RSA build-arg holding a key",
		dockerfile: "FROM alpine\nARG ID_RSA\nRUN mkdir -p /root/.ssh && echo \"$ID_RSA\" > /root/.ssh/id_rsa && git clone git@github.com:acme/lib.git /src; rm /root/.ssh/id_rsa\n",
		value:      opensshKey,
		flags:      func(v string) []string { return []string{"--build-arg", "ID_RSA=" + v} },
		forms:      pemBodyLines,
	},
	{
		// A script fed to a shell on its standard input is a script all
		// the same (TestReviewStockLeaks: the CLI's rewrite).
		name:       "heredoc script fed to sh writes ~/.npmrc",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\nWORKDIR /app\nRUN echo '{}' > package.json\nRUN sh <<'EOS'\necho \"//registry.npmjs.org/:_authToken=$NPM_TOKEN\" > ~/.npmrc\nnpm ci\nEOS\n",
		flags:      func(string) []string { return []string{"--secret", "id=NPM_TOKEN,env=HF_SECRET_VALUE"} },
	},
	{
		name:       "npm config set after export NPM_CONFIG_USERCONFIG in the script",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\nWORKDIR /app\nRUN echo '{}' > package.json\nRUN export NPM_CONFIG_USERCONFIG=/app/.npmrc && npm config set //registry.npmjs.org/:_authToken ${NPM_TOKEN} && npm ci\n",
		flags:      func(string) []string { return []string{"--secret", "id=NPM_TOKEN,env=HF_SECRET_VALUE"} },
	},
	{
		// --build-context NAME=https://TOKEN@host/repo.git: the token as
		// the user name of a named context's URL.
		name:       "named git context with the token as user name",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY --from=lib . /src/lib\nRUN echo build\n",
		files:      func(string) map[string]string { return map[string]string{"lib.go": "package lib\n"} },
		namedGit:   "lib",
	},
	{
		// The Azure Artifacts credential provider reads the feed's PAT
		// from this JSON; the name says nothing, the value's "password"
		// does.
		name:       "feed PAT in VSS_NUGET_EXTERNAL_FEED_ENDPOINTS JSON",
		dockerfile: "FROM alpine\nARG VSS_NUGET_EXTERNAL_FEED_ENDPOINTS\nRUN echo dotnet restore\n",
		flags: func(v string) []string {
			return []string{"--build-arg", `VSS_NUGET_EXTERNAL_FEED_ENDPOINTS={"endpointCredentials": [{"endpoint":"https://pkgs.dev.azure.com/acme/_packaging/feed/nuget/v3/index.json", "username":"docker", "password":"` + v + `"}]}`}
		},
	},
	{
		// ASP.NET Core reads ConnectionStrings__NAME from the environment.
		name:       ".NET connection string with Password= as build-arg and ENV",
		dockerfile: "FROM alpine\nARG ConnectionStrings__Default\nENV ConnectionStrings__Default=$ConnectionStrings__Default\nRUN echo dotnet ef database update\n",
		flags: func(v string) []string {
			return []string{"--build-arg", "ConnectionStrings__Default=Server=db;Database=app;User Id=sa;Password=" + v + ";"}
		},
	},
	{
		// CI keeps the kubeconfig as one base64 variable.
		name:       "base64 kubeconfig build-arg decoded into ~/.kube/config",
		dockerfile: "FROM alpine\nARG KUBE_CONFIG\nRUN mkdir -p /root/.kube && echo \"$KUBE_CONFIG\" | base64 -d > /root/.kube/config && echo kubectl apply\n",
		flags: func(v string) []string {
			kubeconfig := "apiVersion: v1\nkind: Config\nusers:\n- name: ci\n  user:\n    token: " + v + "\n"
			return []string{"--build-arg", "KUBE_CONFIG=" + base64.StdEncoding.EncodeToString([]byte(kubeconfig))}
		},
	},
	{
		// Application settings committed with the production database's
		// password, copied with the project: no credential file by name.
		name:       "appsettings.Production.json with a connection string password copied with the project",
		dockerfile: "FROM alpine\nWORKDIR /src\nCOPY . .\nRUN echo dotnet publish\n",
		files: func(v string) map[string]string {
			return map[string]string{
				"appsettings.Production.json": "{\n  \"ConnectionStrings\": {\n    \"Default\": \"Server=db;Database=app;User Id=sa;Password=" + v + ";\"\n  }\n}\n",
				"app.csproj":                  "<Project Sdk=\"Microsoft.NET.Sdk.Web\"></Project>\n",
			}
		},
	},
	{
		name:       "Spring Boot application-prod.properties with the datasource password",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN echo mvn package\n",
		files: func(v string) map[string]string {
			return map[string]string{
				"src/main/resources/application-prod.properties": "spring.datasource.url=jdbc:postgresql://db:5432/app\nspring.datasource.username=app\nspring.datasource.password=" + v + "\n",
				"pom.xml": "<project/>\n",
			}
		},
	},
	{
		name:       "terraform.tfvars with a password copied with the modules",
		dockerfile: "FROM alpine\nWORKDIR /infra\nCOPY . .\nRUN echo terraform init\n",
		files: func(v string) map[string]string {
			return map[string]string{"terraform.tfvars": "region = \"eu-west-1\"\ndb_password = \"" + v + "\"\n", "main.tf": "variable \"db_password\" {}\n"}
		},
	},
	{
		name:       "wp-config.php with DB_PASSWORD copied with the site",
		dockerfile: "FROM alpine\nWORKDIR /var/www/html\nCOPY . .\nRUN echo ok\n",
		files: func(v string) map[string]string {
			return map[string]string{"wp-config.php": "<?php\ndefine( 'DB_NAME', 'wordpress' );\ndefine( 'DB_USER', 'wordpress' );\ndefine( 'DB_PASSWORD', '" + v + "' );\n", "index.php": "<?php\n"}
		},
	},
	{
		// ADD unpacks a local archive into the layer: the .npmrc inside
		// it is a credential file no name in the context shows.
		name:       "ADD of a context archive holding an .npmrc removed in a later RUN",
		dockerfile: "FROM alpine\nWORKDIR /app\nADD ci-home.tar.gz /root/\nRUN echo '{}' > package.json && npm ci\nRUN rm -f /root/.npmrc\n",
		files: func(v string) map[string]string {
			var tarBuf, gzBuf bytes.Buffer
			tw := tar.NewWriter(&tarBuf)
			npmrc := "//registry.npmjs.org/:_authToken=" + v + "\n"
			tw.WriteHeader(&tar.Header{Name: "./.npmrc", Mode: 0o600, Size: int64(len(npmrc)), Typeflag: tar.TypeReg})
			tw.Write([]byte(npmrc))
			tw.Close()
			zw := gzip.NewWriter(&gzBuf)
			zw.Write(tarBuf.Bytes())
			zw.Close()
			return map[string]string{"ci-home.tar.gz": gzBuf.String(), "package.json": "{}\n"}
		},
	},
	{
		// A credential written in a RUN is in the image history and the
		// provenance: only URL passwords, token formats and a few
		// password flags were recognised.
		name:       "hard-coded .netrc password echoed in a RUN",
		dockerfile: "FROM alpine\nRUN echo \"machine pypi.acme.io login ci password {{VALUE}}\" > /root/.netrc && pip install acme-lib && rm /root/.netrc\n",
	},
	{
		name:       "hard-coded npm token given to npm config set",
		dockerfile: "FROM alpine\nWORKDIR /app\nRUN echo '{}' > package.json && npm config set //registry.npmjs.org/:_authToken {{VALUE}} && npm ci && rm -f /root/.npmrc\n",
	},
	{
		name:       "hard-coded API key exported in a RUN",
		dockerfile: "FROM alpine\nRUN export API_KEY={{VALUE}} && echo building\n",
	},
	{
		name:       "hard-coded docker login password",
		dockerfile: "FROM alpine\nRUN docker login -u ci -p {{VALUE}} registry.acme.io || true\n",
	},
	{
		name:       "hard-coded password piped to docker login --password-stdin",
		dockerfile: "FROM alpine\nRUN echo {{VALUE}} | docker login -u ci --password-stdin registry.acme.io || true\n",
	},
	{
		name:       "hard-coded Maven -D password",
		dockerfile: "FROM alpine\nRUN mvn -B -Dnexus.password={{VALUE}} deploy || true\n",
	},
	{
		name:       "hard-coded token as a clone URL's user name",
		dockerfile: "FROM alpine\nRUN git clone https://{{VALUE}}@github.com/acme/app.git /src || true\n",
	},
	{
		name:       "hard-coded DB_PASSWORD appended to .env",
		dockerfile: "FROM alpine\nWORKDIR /app\nRUN echo \"DB_PASSWORD={{VALUE}}\" >> .env\n",
	},
	{
		name:       "hard-coded keystore password in JAVA_TOOL_OPTIONS",
		dockerfile: "FROM alpine\nENV JAVA_TOOL_OPTIONS=\"-Xmx512m -Djavax.net.ssl.keyStorePassword={{VALUE}}\"\n",
	},
	{
		name:       "hard-coded LABEL api_key",
		dockerfile: "FROM alpine\nLABEL com.acme.api_key=\"{{VALUE}}\"\n",
	},
	{
		name:       "hard-coded password in a COPY heredoc",
		dockerfile: "FROM alpine\nCOPY <<EOF /app/config.ini\n[db]\nhost = db\npassword = {{VALUE}}\nEOF\n",
	},
	{
		name:       "builder writes ~/.npmrc and the final stage copies /root",
		dockerfile: "FROM alpine AS builder\nARG NPM_TOKEN\nWORKDIR /app\nRUN echo '{}' > package.json && echo \"//registry.npmjs.org/:_authToken=${NPM_TOKEN}\" > ~/.npmrc && npm ci\nFROM alpine\nCOPY --from=builder /root /root\nCOPY --from=builder /app /app\nCMD [\"node\", \"/app/index.js\"]\n",
		flags:      func(string) []string { return []string{"--secret", "id=NPM_TOKEN,env=HF_SECRET_VALUE"} },
	},
	{
		name:       "builder writes ~/.npmrc and the final stage copies /",
		dockerfile: "FROM alpine AS builder\nARG NPM_TOKEN\nWORKDIR /app\nRUN echo '{}' > package.json && echo \"//registry.npmjs.org/:_authToken=${NPM_TOKEN}\" > ~/.npmrc && npm ci\nFROM scratch\nCOPY --from=builder / /\nCMD [\"node\", \"/app/index.js\"]\n",
		flags:      func(string) []string { return []string{"--secret", "id=NPM_TOKEN,env=HF_SECRET_VALUE"} },
	},
	{
		name:       "ARG into ENV under another name then a clone",
		dockerfile: "FROM alpine\nARG GITHUB_TOKEN\nENV GH_TOKEN=$GITHUB_TOKEN\nRUN git clone https://${GH_TOKEN}@github.com/acme/lib.git /src/lib || true\n",
		flags:      func(string) []string { return []string{"--secret", "id=GITHUB_TOKEN,env=HF_SECRET_VALUE"} },
	},
	{
		name:       ".env copied then export $(cat .env | xargs)",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN export $(cat .env | xargs) && echo '{}' > package.json && npm ci\nCMD [\"sh\", \"-c\", \"export $(cat .env | xargs) && node index.js\"]\n",
		files: func(v string) map[string]string {
			return map[string]string{".env": "NODE_ENV=production\nAPI_KEY=" + v + "\n", "index.js": "1\n"}
		},
	},
	{
		name:       "vars file not named env exported with xargs",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY ci/build.vars ci/\nRUN export $(grep -v '^#' ci/build.vars | xargs) && echo '{}' > package.json && npm ci\n",
		files: func(v string) map[string]string {
			return map[string]string{"ci/build.vars": "# build settings\nNODE_ENV=production\nNPM_TOKEN=" + v + "\n"}
		},
	},
	{
		name:       "sourced script with two assignments on a line",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY ci/setup.sh ci/\nRUN . ci/setup.sh && echo '{}' > package.json && npm ci\n",
		files: func(v string) map[string]string {
			return map[string]string{"ci/setup.sh": "export NODE_ENV=production NPM_TOKEN=" + v + "\n"}
		},
	},
	{
		// The path sourced is built from an ENV variable of the stage.
		name:       "sourced script under a directory named by ENV",
		dockerfile: "FROM alpine\nENV APP_DIR=/app\nWORKDIR /app\nCOPY ci/setup.sh ci/\nRUN . $APP_DIR/ci/setup.sh && echo '{}' > package.json && npm ci\n",
		files: func(v string) map[string]string {
			return map[string]string{"ci/setup.sh": "export NPM_TOKEN=" + v + "\n"}
		},
	},
	{
		// The script is sourced by a shell the RUN starts.
		name:       "sourced script inside sh -c",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY ci/setup.sh ci/\nRUN sh -c '. ci/setup.sh && echo {} > package.json && npm ci'\n",
		files: func(v string) map[string]string {
			return map[string]string{"ci/setup.sh": "export NPM_TOKEN=" + v + "\n"}
		},
	},
	{
		// bash sources $BASH_ENV before it runs a script or `bash -c`:
		// a script sourced that way, as `. FILE` would.
		name:       "script sourced through BASH_ENV for one command",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY ci/vars.sh ci/\nRUN echo '{}' > package.json && BASH_ENV=ci/vars.sh bash -c 'npm ci'\n",
		files: func(v string) map[string]string {
			return map[string]string{"ci/vars.sh": "export NPM_TOKEN=" + v + "\n"}
		},
	},
	{
		name:       "script sourced through ENV BASH_ENV by a bash SHELL, copied with the app",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nSHELL [\"/bin/bash\", \"-c\"]\nENV BASH_ENV=/app/ci/vars.sh\nRUN npm ci\n",
		files: func(v string) map[string]string {
			return map[string]string{"ci/vars.sh": "export NPM_TOKEN=" + v + "\n", "package.json": "{}\n"}
		},
	},
	{
		// A token kept in a file of its own (.github_token, npm.token,
		// token.txt), brought in by the broad copy of the app.
		name:       "token file of its own copied with the app",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN test -s package.json\n",
		files: func(v string) map[string]string {
			return map[string]string{".github_token": v + "\n", "package.json": "{}\n"}
		},
	},
	{
		// A Compose secret's file (secrets: db_password: file:
		// db/password.txt, as Docker's documentation writes it) in the
		// project the Dockerfile copies whole.
		name:       "Compose secret file db/password.txt copied with the app",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN test -s package.json\n",
		files: func(v string) map[string]string {
			return map[string]string{"db/password.txt": v + "\n", "package.json": "{}\n"}
		},
	},
	{
		// Copied by a pattern: the file the RUN sources is one of its
		// matches.
		name:       "sourced script copied by a pattern",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY ci/*.sh /tmp/\nRUN . /tmp/setup.sh && echo '{}' > package.json && npm ci\n",
		files: func(v string) map[string]string {
			return map[string]string{"ci/setup.sh": "export NPM_TOKEN=" + v + "\n", "ci/lint.sh": "echo lint\n"}
		},
	},
	{
		// Copied in a stage that a later stage is built FROM.
		name:       "sourced script copied in the parent stage",
		dockerfile: "FROM alpine AS base\nWORKDIR /app\nCOPY ci/setup.sh /opt/ci/\nFROM base\nRUN . /opt/ci/setup.sh && echo '{}' > package.json && npm ci\n",
		files: func(v string) map[string]string {
			return map[string]string{"ci/setup.sh": "export NPM_TOKEN=" + v + "\n"}
		},
	},
	{
		// Sourced by an exec-form shell script, a JSON string.
		name:       "sourced script in an exec-form RUN of sh -c",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY ci/setup.sh ci/\nRUN [\"sh\", \"-c\", \". ci/setup.sh && echo {} > package.json && npm ci\"]\n",
		files: func(v string) map[string]string {
			return map[string]string{"ci/setup.sh": "export NPM_TOKEN=" + v + "\n"}
		},
	},
	{
		name:       "sourced script in an exec-form RUN behind timeout",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY ci/setup.sh ci/\nRUN [\"timeout\", \"60\", \"sh\", \"-c\", \". ci/setup.sh && echo {} > package.json && npm ci\"]\n",
		files: func(v string) map[string]string {
			return map[string]string{"ci/setup.sh": "export NPM_TOKEN=" + v + "\n"}
		},
	},
	{
		name:       "sourced script in a heredoc RUN",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY ci/setup.sh ci/\nRUN <<EOF\n. ci/setup.sh\necho {} > package.json && npm ci\nEOF\n",
		files: func(v string) map[string]string {
			return map[string]string{"ci/setup.sh": "export NPM_TOKEN=" + v + "\n"}
		},
	},
	{
		// The container sources it at run time: it stays in the image.
		name:       "sourced script in an exec-form CMD with -o pipefail",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY ci/setup.sh ci/\nCMD [\"sh\", \"-eu\", \"-o\", \"pipefail\", \"-c\", \". ci/setup.sh && exec npm start\"]\n",
		files: func(v string) map[string]string {
			return map[string]string{"ci/setup.sh": "export NPM_TOKEN=" + v + "\n"}
		},
	},
	{
		// A vars file without an extension, copied by name: the copy
		// may be a directory's for all the engine knows.
		name:       "sourced vars file without an extension copied by name",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY ci/buildvars /opt/buildvars\nRUN . /opt/buildvars && echo '{}' > package.json && npm ci\n",
		files: func(v string) map[string]string {
			return map[string]string{"ci/buildvars": "export NPM_TOKEN=" + v + "\n"}
		},
	},
	{
		// The file reaches the stage that sources it through another
		// stage's copy of the context.
		name:       "sourced script copied from a builder stage's copy of the context",
		dockerfile: "FROM alpine AS src\nCOPY . /src/\nFROM alpine\nCOPY --from=src /src /app\nRUN . /app/ci/setup.sh && echo '{}' > /app/package.json && cd /app && npm ci\n",
		files: func(v string) map[string]string {
			return map[string]string{"ci/setup.sh": "export NPM_TOKEN=" + v + "\n"}
		},
	},
	{
		// Exported line by line: a loop reads the file as . would.
		name:       "vars file exported line by line in a while loop",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN while IFS= read -r kv; do export \"$kv\"; done < ci/build.vars; echo '{}' > package.json && npm ci\n",
		files: func(v string) map[string]string {
			return map[string]string{"ci/build.vars": "NODE_ENV=production\nNPM_TOKEN=" + v + "\n"}
		},
	},
	{
		name:       "sourced script with a default value in an expansion",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN . ./ci/setup.sh && echo '{}' > package.json && npm ci\n",
		files: func(v string) map[string]string {
			return map[string]string{"ci/setup.sh": "export NPM_TOKEN=\"${NPM_TOKEN:-" + v + "}\"\n"}
		},
	},
	{
		name:       "echo of the key build-arg into id_rsa then clone and rm",
		dockerfile: "FROM alpine\nARG SSH_KEY\nRUN mkdir -p ~/.ssh && echo \"$SSH_KEY\" > ~/.ssh/id_rsa && chmod 600 ~/.ssh/id_rsa && (git clone git@github.com:acme/lib.git /src/lib || true) && rm ~/.ssh/id_rsa\n",
		value:      rsaKeyPEM,
		flags:      func(v string) []string { return []string{"--build-arg", "SSH_KEY=" + v} },
		forms:      pemBodyLines,
	},
	{
		name:       "pip --extra-index-url with the token in the URL",
		dockerfile: "FROM alpine\nARG PIP_TOKEN\nRUN echo acme-lib > requirements.txt && pip install --extra-index-url https://ci:${PIP_TOKEN}@pypi.acme.io/simple -r requirements.txt\n",
		flags:      func(string) []string { return []string{"--secret", "id=PIP_TOKEN,env=HF_SECRET_VALUE"} },
	},
	{
		name:       "git insteadOf with the token",
		dockerfile: "FROM alpine\nARG GH_TOKEN\nRUN git config --global url.\"https://${GH_TOKEN}@github.com/\".insteadOf \"https://github.com/\" && (git clone https://github.com/acme/lib.git /src || true)\n",
		flags:      func(string) []string { return []string{"--secret", "id=GH_TOKEN,env=HF_SECRET_VALUE"} },
	},
	{
		name:       "AWS keys hard-coded in ENV",
		dockerfile: "FROM alpine\nENV AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY={{VALUE}}\nRUN aws s3 ls || true\n",
	},
	{
		name:       "secret mount cat into config.json",
		dockerfile: "FROM alpine\nWORKDIR /app\nRUN --mount=type=secret,id=x cat /run/secrets/x > /app/config.json\nCMD [\"cat\", \"/app/config.json\"]\n",
		secretFile: func(v string) (string, string) { return "x", "{\"apiKey\": \"" + v + "\"}\n" },
	},
	{
		name:       "RUN echo $TOKEN",
		dockerfile: "FROM alpine\nARG TOKEN\nRUN echo $TOKEN\n",
		flags:      func(string) []string { return []string{"--secret", "id=TOKEN,env=HF_SECRET_VALUE"} },
	},
	{
		name:       "secrets.yaml copied with the app",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY app.py secrets.yaml ./\nCMD [\"python\", \"app.py\"]\n",
		files: func(v string) map[string]string {
			return map[string]string{"secrets.yaml": "stripe:\n  api_key: " + v + "\n", "app.py": "print(1)\n"}
		},
	},
	{
		name:       "secrets.json copied with the app",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nCMD [\"node\", \"index.js\"]\n",
		files: func(v string) map[string]string {
			return map[string]string{"config/secrets.json": "{\"db\": {\"password\": \"" + v + "\"}}\n", "index.js": "1\n"}
		},
	},
	{
		name:       "key base64-wrapped in a context file decoded by a RUN",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN mkdir -p /root/.ssh && base64 -d deploy/key.b64 > /root/.ssh/id_ed25519 && (git clone git@github.com:acme/lib.git /src || true) && rm /root/.ssh/id_ed25519\n",
		value:      opensshKey,
		files: func(v string) map[string]string {
			return map[string]string{"deploy/key.b64": base64.StdEncoding.EncodeToString([]byte(v)) + "\n", "index.js": "1\n"}
		},
		forms: pemBodyLines,
	},
	{
		name:       "key inside JSON with escaped newlines",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nCMD [\"node\", \"index.js\"]\n",
		value:      rsaKeyPEM,
		files: func(v string) map[string]string {
			j, _ := json.Marshal(map[string]string{"issuer": "acme", "signing_key": v})
			return map[string]string{"config/jwt.json": string(j), "index.js": "1\n"}
		},
		forms: pemBodyLines,
	},
	{
		name:       "key under an odd name in a tarball ADDed",
		dockerfile: "FROM alpine\nADD deploy.tar.gz /opt/deploy/\nRUN GIT_SSH_COMMAND='ssh -i /opt/deploy/deploy_key' git clone git@github.com:acme/lib.git /src || true\nRUN rm -rf /opt/deploy\n",
		value:      opensshKey,
		files: func(v string) map[string]string {
			var tarBuf, gzBuf bytes.Buffer
			tw := tar.NewWriter(&tarBuf)
			tw.WriteHeader(&tar.Header{Name: "deploy_key", Mode: 0o600, Size: int64(len(v)), Typeflag: tar.TypeReg})
			tw.Write([]byte(v))
			tw.Close()
			zw := gzip.NewWriter(&gzBuf)
			zw.Write(tarBuf.Bytes())
			zw.Close()
			return map[string]string{"deploy.tar.gz": gzBuf.String()}
		},
		forms: pemBodyLines,
	},
	{
		name:       ".npmrc copied and backed up by a RUN",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY package.json .npmrc ./\nRUN npm ci && mkdir -p /app/conf && cp .npmrc /app/conf/npmrc\nCMD [\"node\", \"index.js\"]\n",
		files: func(v string) map[string]string {
			return map[string]string{".npmrc": "//registry.npmjs.org/:_authToken=" + v + "\n", "package.json": "{}\n"}
		},
	},
	{
		name:       "builder's .npmrc copied into the final stage",
		dockerfile: "FROM alpine AS builder\nWORKDIR /app\nCOPY package.json .npmrc ./\nRUN npm ci\nFROM alpine\nWORKDIR /app\nCOPY --from=builder /app /app\nCMD [\"npm\", \"start\"]\n",
		files: func(v string) map[string]string {
			return map[string]string{".npmrc": "//registry.npmjs.org/:_authToken=" + v + "\n", "package.json": "{}\n"}
		},
	},
	{
		// A script the container sources at run time, copied by name,
		// that assigns a secret-named variable.
		name:       "CMD sources a copied script that sets a token",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY ci/vars.sh ci/\nCOPY index.js ./\nCMD . ci/vars.sh && node index.js\n",
		files: func(v string) map[string]string {
			return map[string]string{"ci/vars.sh": "export NODE_ENV=production\nexport API_TOKEN=" + v + "\n", "index.js": "1\n"}
		},
	},
	{
		name:       "ENTRYPOINT sh -c sources a script a broad copy brought in",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nENTRYPOINT [\"sh\", \"-c\", \". ./ci/vars.sh && exec node index.js\"]\n",
		files: func(v string) map[string]string {
			return map[string]string{"ci/vars.sh": "DB_PASSWORD=" + v + "\n", "index.js": "1\n"}
		},
	},
	{
		name:       "ENV built from the ARG inherited by a later stage",
		dockerfile: "FROM alpine AS base\nARG NPM_TOKEN\nENV NPM_CFG=\"//registry.npmjs.org/:_authToken=${NPM_TOKEN}\"\nFROM base AS deps\nWORKDIR /app\nRUN echo \"$NPM_CFG\" > .npmrc && echo '{}' > package.json && npm ci && rm .npmrc\nFROM deps\nCMD [\"npm\", \"start\"]\n",
		flags:      func(string) []string { return []string{"--secret", "id=NPM_TOKEN,env=HF_SECRET_VALUE"} },
	},
	{
		// COPY --from=deps of the same directory fails closed: the named
		// context's credential files were checked in copies, not in the
		// layers of a RUN that bind-mounts the context and copies them.
		name:       "named local context's .npmrc and .env copied by a RUN --mount=from",
		dockerfile: "FROM alpine\nWORKDIR /app\nRUN --mount=from=deps,target=/deps cp -r /deps/. /app/\n",
		namedDir:   "deps",
		files: func(v string) map[string]string {
			return map[string]string{".npmrc": "//registry.npmjs.org/:_authToken=" + v + "\n", ".env": "DB_PASSWORD=" + v + "\n", "package.json": "{}\n"}
		},
	},
	{
		// A tool's credential file under a name of the repository's own,
		// copied to where the tool reads it after a copy of the context.
		name:       "npmrc under another name copied with the app then to ~/.npmrc",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN cp docker/npmrc /root/.npmrc && npm ci && rm /root/.npmrc\n",
		files: func(v string) map[string]string {
			return map[string]string{"package.json": "{}\n", "docker/npmrc": "@acme:registry=https://npm.pkg.github.com/\n//npm.pkg.github.com/:_authToken=" + v + "\n"}
		},
	},
	{
		name:       "netrc without its dot copied with the app",
		dockerfile: "FROM alpine\nWORKDIR /src\nCOPY . .\nRUN mv netrc /root/.netrc && go mod download; rm -f /root/.netrc\n",
		files: func(v string) map[string]string {
			return map[string]string{"go.mod": "module x\n", "netrc": "machine github.com\nlogin ci\npassword " + v + "\n"}
		},
	},
	{
		// The main context is searched for private keys under any name;
		// a named context was listed by file names only.
		name:       "deploy key under a plain name in a named local context copied whole",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY --from=deps . .\n",
		namedDir:   "deps",
		value:      opensshKey,
		forms:      pemBodyLines,
		files:      func(v string) map[string]string { return map[string]string{"deploy": v, "package.json": "{}\n"} },
	},
	{
		// Commands behind a program that starts them, or runs them as
		// another user: the tool's write, a tee, a clone, an escaped
		// nested script, a script on standard input, a copy inside one.
		name:       "gosu node npm config set",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\n" + nodeUser + "WORKDIR /home/node/app\nRUN gosu node npm config set //registry.npmjs.org/:_authToken $NPM_TOKEN && gosu node npm ci\nRUN gosu node npm run build\n",
		flags:      func(string) []string { return []string{"--secret", "id=NPM_TOKEN,env=HF_SECRET_VALUE"} },
	},
	{
		name:       "timeout 60 npm config set",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\nWORKDIR /app\nRUN echo '{}' > package.json && timeout 60 npm config set //registry.npmjs.org/:_authToken $NPM_TOKEN && npm ci\n",
		flags:      func(string) []string { return []string{"--secret", "id=NPM_TOKEN,env=HF_SECRET_VALUE"} },
	},
	{
		name:       "echo | sudo tee ~/.npmrc",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\nWORKDIR /app\nRUN echo '{}' > package.json && echo \"//registry.npmjs.org/:_authToken=$NPM_TOKEN\" | sudo tee /root/.npmrc >/dev/null && npm ci\n",
		flags:      func(string) []string { return []string{"--secret", "id=NPM_TOKEN,env=HF_SECRET_VALUE"} },
	},
	{
		name:       "sudo git clone of a token URL",
		dockerfile: "FROM alpine\nARG GITHUB_TOKEN\nRUN sudo git clone https://x-access-token:${GITHUB_TOKEN}@github.com/acme/lib.git /src/lib\n",
		flags:      func(string) []string { return []string{"--secret", "id=GITHUB_TOKEN,env=HF_SECRET_VALUE"} },
	},
	{
		name:       "su node -c \"... \\$NPM_TOKEN > ~/.npmrc\" then a later RUN",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\n" + nodeUser + "WORKDIR /home/node/app\nRUN su node -c \"echo //registry.npmjs.org/:_authToken=\\$NPM_TOKEN > ~/.npmrc && npm ci\"\nRUN su node -c 'npm run build'\n",
		flags:      func(string) []string { return []string{"--secret", "id=NPM_TOKEN,env=HF_SECRET_VALUE"} },
	},
	{
		name:       "su - node -c writes .npmrc in its home",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\n" + nodeUser + "RUN su - node -c \"echo //registry.npmjs.org/:_authToken=$NPM_TOKEN > .npmrc && cd app && npm ci\"\n",
		flags:      func(string) []string { return []string{"--secret", "id=NPM_TOKEN,env=HF_SECRET_VALUE"} },
	},
	{
		name:       "sudo -u node sh <<EOS writes ~/.npmrc then a later RUN",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\n" + nodeUser + "WORKDIR /home/node/app\nRUN sudo -u node sh <<EOS\necho \"//registry.npmjs.org/:_authToken=$NPM_TOKEN\" > ~/.npmrc\nnpm ci\nEOS\nRUN sudo -u node npm run build\n",
		flags:      func(string) []string { return []string{"--secret", "id=NPM_TOKEN,env=HF_SECRET_VALUE"} },
	},
	{
		name:       "su -c copies the root's .npmrc",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\n" + nodeUser + "WORKDIR /home/node/app\nRUN echo \"//registry.npmjs.org/:_authToken=$NPM_TOKEN\" > /root/.npmrc && su node -c 'cat /root/.npmrc > /home/node/app/.npmrc' && npm ci\n",
		flags:      func(string) []string { return []string{"--secret", "id=NPM_TOKEN,env=HF_SECRET_VALUE"} },
	},
	{
		// The user's home is not the /home/app the rewrite assumes: the
		// build must stop at the check, not leave the file.
		name:       "gosu app sh -c writes ~/.npmrc where app's home is elsewhere",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\nRUN echo 'app:x:1001:1001::/srv/app:/bin/sh' >> /etc/passwd && mkdir -p /srv/app && chown 1001 /srv/app\nWORKDIR /srv/app\nRUN gosu app sh -c 'echo \"//registry.npmjs.org/:_authToken=$NPM_TOKEN\" > ~/.npmrc && echo {} > package.json && npm ci'\n",
		flags:      func(string) []string { return []string{"--secret", "id=NPM_TOKEN,env=HF_SECRET_VALUE"} },
	},
	{
		// `od -c` is how a trailing newline in a secret file is looked
		// for: each byte in a field of four.
		name:       "log: od -c of the secret file",
		dockerfile: "FROM alpine\nRUN --mount=type=secret,id=api_token od -c /run/secrets/api_token && curl -H \"Authorization: Bearer $(cat /run/secrets/api_token)\" https://api.example.com/\n",
		secretFile: func(v string) (string, string) { return "api_token", v + "\n" },
		forms:      odCharsOf,
	},
	{
		// A database password of 12 characters: too short for the pieces
		// that mask a dump of a token.
		name:       "log: od -c of a short password file",
		dockerfile: "FROM alpine\nRUN --mount=type=secret,id=db_password od -c /run/secrets/db_password && echo migrate\n",
		value:      func(t *testing.T) string { return longCanary(t, 6) },
		secretFile: func(v string) (string, string) { return "db_password", v + "\n" },
		forms:      func(v string) []string { return []string{strings.TrimLeft(odCharsOf(v + "    ")[0], " ")[:4*len(v)-3]} },
	},
	{
		// hexdump's and od -x's default: two-byte words, little-endian.
		name:       "log: hexdump of the secret file",
		dockerfile: "FROM alpine\nRUN --mount=type=secret,id=api_token hexdump /run/secrets/api_token && curl -H \"Authorization: Bearer $(cat /run/secrets/api_token)\" https://api.example.com/\n",
		secretFile: func(v string) (string, string) { return "api_token", v + "\n" },
		forms:      hexWordsOf,
	},
	{
		// rclone keeps a remote's password obscured: AES-CTR under a key
		// built into rclone, so that anyone can reveal it, and in no
		// encoding the check searches.
		name:       "rclone config create with the password obscured",
		dockerfile: "FROM alpine\nARG SFTP_PASS\nRUN rclone config create backup sftp host=backup.example.com user=ci pass=$SFTP_PASS\nRUN HUSHBUILD_PROBE_REQUIRE=1 rclone copy backup:models /models\n",
		flags:      func(string) []string { return []string{"--secret", "id=SFTP_PASS,env=HF_SECRET_VALUE"} },
		forms:      func(v string) []string { return []string{rcloneObscured(v)} },
	},
	{
		// The configuration file goes when the RUN ends (the case
		// above), but a dump of it stays: the check must reveal it.
		name:       "rclone config dump of a remote with the password obscured",
		dockerfile: "FROM alpine\nARG SFTP_PASS\nRUN mkdir -p /app && rclone config create backup sftp host=backup.example.com user=ci pass=$SFTP_PASS && rclone config dump > /app/remotes.json\n",
		flags:      func(string) []string { return []string{"--secret", "id=SFTP_PASS,env=HF_SECRET_VALUE"} },
		forms:      func(v string) []string { return []string{rcloneObscured(v)} },
	},
	{
		// `xxd -i` writes a file as a C array for a program to embed: a
		// list of byte literals cut over lines, which no encoding of the
		// value is; a later RUN that compiles it mounts no secret. The
		// project's script runs it (the rewrite refuses xxd in the RUN).
		name:       "xxd -i of a licence key secret into a C header by a build script",
		dockerfile: "FROM alpine\nWORKDIR /src\nCOPY scripts/ scripts/\nRUN --mount=type=secret,id=license_key sh scripts/embed.sh /run/secrets/license_key include\nRUN ls include\n",
		files: func(string) map[string]string {
			return map[string]string{"scripts/embed.sh": "#!/bin/sh\n# embed.sh FILE DIR: FILE as a C array in DIR/NAME.h\nset -e\nout=\"$PWD/$2\"\nmkdir -p \"$out\"\ncd \"$(dirname \"$1\")\"\nname=$(basename \"$1\")\nxxd -i \"$name\" > \"$out/$name.h\"\n"}
		},
		secretFile: func(v string) (string, string) { return "license_key", v },
		forms:      xxdIncludeOf,
	},
	{
		// GitHub's documented form for a token as the user name:
		// x-oauth-basic is a fixed password, the token is the user.
		name:       "token with the x-oauth-basic password in a build-arg",
		dockerfile: "FROM alpine\nARG REPO_URL\nRUN git clone \"$REPO_URL\" /src/lib || true\n",
		flags: func(v string) []string {
			return []string{"--build-arg", "REPO_URL=https://" + v + ":x-oauth-basic@github.com/acme/lib.git"}
		},
	},
	{
		// The build fails closed (the rendered file holds the password),
		// but a later stage's RUN, which gets no secret, printed the file
		// before the check ran.
		name:       "log: a later stage prints a file a secret step rendered",
		dockerfile: "FROM alpine AS config\nARG DB_PASSWORD\nWORKDIR /app\nCOPY render.sh config.tpl ./\nRUN sh render.sh\nFROM alpine\nWORKDIR /app\nCOPY --from=config /app/config.yml ./\nRUN echo \"rendered config:\" && cat config.yml\n",
		files: func(string) map[string]string {
			return map[string]string{
				"config.tpl": "db:\n  host: db\n  password: __DB_PASSWORD__\n",
				"render.sh":  "sed \"s|__DB_PASSWORD__|$DB_PASSWORD|\" config.tpl > config.yml\n",
			}
		},
		flags: func(string) []string { return []string{"--secret", "id=DB_PASSWORD,env=HF_SECRET_VALUE"} },
	},
	{
		// A RUN masked for the secret of the step before it has that
		// secret on the wrapper's mount: what it copies from there into
		// its layer is checked like any step's output.
		name:       "a masked RUN copies the wrapper's secret mount into its layer",
		dockerfile: "FROM alpine\nRUN --mount=type=secret,id=API_TOKEN,env=API_TOKEN test -n \"$API_TOKEN\"\nRUN cat /dev/.hushbuild-secrets/* > /all\n",
		flags:      func(string) []string { return []string{"--secret", "id=API_TOKEN,env=HF_SECRET_VALUE"} },
	},
	{
		// The same from a stage built FROM the first, whose RUN gets
		// another secret: its output was masked for its own secret only.
		name:       "log: a stage FROM it prints the file with another secret mounted",
		dockerfile: "FROM alpine AS config\nARG DB_PASSWORD\nWORKDIR /app\nCOPY render.sh config.tpl ./\nRUN sh render.sh\nFROM config\nARG NPM_TOKEN\nRUN cat config.yml && echo \"//registry.npmjs.org/:_authToken=${NPM_TOKEN}\" > .npmrc && npm ci && rm .npmrc\n",
		files: func(string) map[string]string {
			return map[string]string{
				"config.tpl": "db:\n  host: db\n  password: __DB_PASSWORD__\n",
				"render.sh":  "sed \"s|__DB_PASSWORD__|$DB_PASSWORD|\" config.tpl > config.yml\n",
			}
		},
		flags:      func(string) []string { return []string{"--secret", "id=DB_PASSWORD,env=HF_SECRET_VALUE"} },
		secretFile: func(string) (string, string) { return "NPM_TOKEN", "npm_unrelated0000000000000000000000000000\n" },
	},
	{
		// The context holds the token CI passes as a secret, in a file of
		// the application's own: the COPY fails closed, but the RUN after
		// it, before the step that gets the secret, printed it.
		name:       "log: a RUN prints a context file holding the secret before the step that gets it",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN echo \"settings:\" && cat config/settings.ini\nRUN --mount=type=secret,id=API_TOKEN,env=API_TOKEN sh -c 'test -n \"$API_TOKEN\" && echo installed'\n",
		files: func(v string) map[string]string {
			return map[string]string{"config/settings.ini": "[api]\nurl = https://api.example.com\ntoken = " + v + "\n", "app.py": "print(1)\n"}
		},
		flags: func(string) []string { return []string{"--secret", "id=API_TOKEN,env=HF_SECRET_VALUE"} },
	},
	{
		// CRLF line ends: the shell writes /root/.npmrc\r.
		name:       "RUN <<EOF of a CRLF Dockerfile writes ~/.npmrc",
		dockerfile: "FROM alpine\r\nARG NPM_TOKEN\r\nRUN <<EOF\r\necho \"//registry.npmjs.org/:_authToken=$NPM_TOKEN\" > /root/.npmrc\r\nEOF\r\n",
		flags:      func(string) []string { return []string{"--secret", "id=NPM_TOKEN,env=HF_SECRET_VALUE"} },
	},
	{
		name:       "RUN <<EOF with GIT_CONFIG_COUNT= of its own writes ~/.npmrc",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\nWORKDIR /app\nRUN echo '{}' > package.json\nRUN <<EOF\nexport GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0='*'\necho \"//registry.npmjs.org/:_authToken=$NPM_TOKEN\" > /root/.npmrc\nnpm ci\nEOF\n",
		flags:      func(string) []string { return []string{"--secret", "id=NPM_TOKEN,env=HF_SECRET_VALUE"} },
	},
	{
		// set -eux at the top of a document: xtrace prints the write with
		// the token expanded.
		name:       "RUN <<EOF set -eux writes .npmrc and deletes it",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\nWORKDIR /app\nRUN echo '{}' > package.json\nRUN <<EOF\nset -eux\necho \"//registry.npmjs.org/:_authToken=${NPM_TOKEN}\" > .npmrc\nnpm ci\nrm -f .npmrc\nEOF\n",
		flags:      func(string) []string { return []string{"--secret", "id=NPM_TOKEN,env=HF_SECRET_VALUE"} },
	},
	{
		name:       "RUN <<EOF chown -R over the context's .npmrc then cp -a",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN <<EOF\nchown -R 1000 /app\nnpm ci\ncp -a /app /srv/app\nEOF\n",
		files: func(v string) map[string]string {
			return map[string]string{".npmrc": "//registry.npmjs.org/:_authToken=" + v + "\n", "package.json": "{}\n"}
		},
	},
	{
		// The header's value in a CI variable: AUTH_HEADER's last token
		// names a header, which most often holds a header's name.
		name:       "bearer credential in a build-arg named AUTH_HEADER",
		dockerfile: "FROM alpine\nARG AUTH_HEADER\nRUN curl -fsSL -H \"Authorization: $AUTH_HEADER\" https://artifacts.example.com/lib.tgz -o /tmp/lib.tgz || true\n",
		flags:      func(v string) []string { return []string{"--build-arg", "AUTH_HEADER=Bearer " + v} },
	},
	{
		// GitHub's API takes "Authorization: token TOKEN".
		name:       "GitHub token header in a build-arg",
		dockerfile: "FROM alpine\nARG GH_HEADER\nRUN curl -fsSL -H \"$GH_HEADER\" https://api.github.com/repos/acme/lib/tarball -o /tmp/lib.tgz || true\n",
		flags:      func(v string) []string { return []string{"--build-arg", "GH_HEADER=Authorization: token " + v} },
	},
	{
		name:       "--token option with its value in a build-arg of CLI arguments",
		dockerfile: "FROM alpine\nARG PUBLISH_ARGS\nRUN echo \"publishing with $PUBLISH_ARGS\" | wc -c\n",
		flags: func(v string) []string {
			return []string{"--build-arg", "PUBLISH_ARGS=--registry https://npm.corp --token " + v}
		},
	},
	{
		// Configuration files that hold a credential field next to plain
		// settings, copied where their tool reads them.
		name:       "Kaggle's kaggle.json copied to ~/.kaggle",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY kaggle.json /root/.kaggle/kaggle.json\nCOPY . .\nRUN echo download\n",
		files: func(v string) map[string]string {
			return map[string]string{"kaggle.json": "{\"username\":\"acme\",\"key\":\"" + v + "\"}\n", "app.py": "print(1)\n"}
		},
	},
	{
		name:       "dbt profiles.yml with the warehouse password",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY profiles.yml /root/.dbt/profiles.yml\nCOPY . .\nRUN echo dbt deps\n",
		files: func(v string) map[string]string {
			return map[string]string{"profiles.yml": "analytics:\n  target: prod\n  outputs:\n    prod:\n      type: postgres\n      host: db.corp\n      user: dbt\n      password: " + v + "\n      port: 5432\n", "dbt_project.yml": "name: analytics\n"}
		},
	},
	{
		name:       "node-config config/production.json with the database password",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN echo npm ci\n",
		files: func(v string) map[string]string {
			return map[string]string{"config/production.json": "{\n  \"db\": {\n    \"host\": \"db.corp\",\n    \"password\": \"" + v + "\"\n  }\n}\n", "config/default.json": "{\"port\": 3000}\n", "index.js": "1\n"}
		},
	},
	{
		// A configuration file copied to the name its tool reads, from a
		// name of its own: read as a file of the name it is copied to.
		name:       "NuGet.Config with a ClearTextPassword copied from another name",
		dockerfile: "FROM alpine\nWORKDIR /src\nCOPY ci/nuget.ci.config /root/.nuget/NuGet/NuGet.Config\nCOPY . .\nRUN echo dotnet restore\n",
		files: func(v string) map[string]string {
			return map[string]string{"ci/nuget.ci.config": "<configuration><packageSourceCredentials><feed><add key=\"Username\" value=\"ci\" /><add key=\"ClearTextPassword\" value=\"" + v + "\" /></feed></packageSourceCredentials></configuration>\n", "app.csproj": "<Project/>\n"}
		},
	},
	{
		name:       "Maven settings copied from another name to the image's global settings",
		dockerfile: "FROM alpine\nWORKDIR /src\nCOPY ci/maven-ci.xml /usr/share/maven/conf/settings.xml\nCOPY . .\nRUN echo mvn -B package\n",
		files: func(v string) map[string]string {
			return map[string]string{"ci/maven-ci.xml": "<settings><servers><server><id>nexus</id><username>ci</username><password>" + v + "</password></server></servers></settings>\n", "pom.xml": "<project/>\n"}
		},
	},
	{
		// The rust images set CARGO_HOME=/usr/local/cargo: cargo reads
		// $CARGO_HOME/credentials.toml, not ~/.cargo.
		name:       "cargo credentials copied to $CARGO_HOME from another name",
		dockerfile: "FROM alpine\nENV CARGO_HOME=/usr/local/cargo\nWORKDIR /src\nCOPY ci/cargo-credentials.toml $CARGO_HOME/credentials.toml\nRUN cargo fetch\n",
		files: func(v string) map[string]string {
			return map[string]string{"ci/cargo-credentials.toml": "[registries.acme]\ntoken = \"" + v + "\"\n"}
		},
	},
	{
		name:       "cargo credentials.toml copied into /usr/local/cargo/",
		dockerfile: "FROM alpine\nCOPY credentials.toml /usr/local/cargo/\nRUN CARGO_HOME=/usr/local/cargo cargo fetch\n",
		files: func(v string) map[string]string {
			return map[string]string{"credentials.toml": "[registry]\ntoken = \"" + v + "\"\n"}
		},
	},
	{
		name:       "an .npmrc copied to where NPM_CONFIG_USERCONFIG points",
		dockerfile: "FROM alpine\nENV NPM_CONFIG_USERCONFIG=/etc/ci/npmrc\nWORKDIR /app\nCOPY ci/registry-auth $NPM_CONFIG_USERCONFIG\nRUN echo '{}' > package.json && npm ci\n",
		files: func(v string) map[string]string {
			return map[string]string{"ci/registry-auth": "//registry.npmjs.org/:_authToken=" + v + "\n"}
		},
	},
	{
		name:       "a .gemrc whose source URL has a password, copied from another name",
		dockerfile: "FROM alpine\nCOPY ci/gemrc /root/.gemrc\nRUN gem install acme\n",
		files: func(v string) map[string]string {
			return map[string]string{"ci/gemrc": "---\n:sources:\n- https://ci:" + v + "@gems.example.com/\n"}
		},
	},
	{
		name:       "a .condarc whose channel URL has a password, copied from another name",
		dockerfile: "FROM alpine\nCOPY ci/condarc /root/.condarc\nRUN conda install -y acme\n",
		files: func(v string) map[string]string {
			return map[string]string{"ci/condarc": "channels:\n  - https://ci:" + v + "@conda.example.com/acme\n"}
		},
	},
	{
		name:       "Go's environment file with a GOPROXY password, copied from another name",
		dockerfile: "FROM alpine\nCOPY ci/goenv /root/.config/go/env\nRUN go mod download || true\n",
		files: func(v string) map[string]string {
			return map[string]string{"ci/goenv": "GOPROXY=https://ci:" + v + "@goproxy.example.com\n"}
		},
	},
	{
		name:       "uv's system uv.toml with an index password, copied from another name",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY ci/uv-ci.toml /etc/uv/uv.toml\nRUN uv pip install acme || true\n",
		files: func(v string) map[string]string {
			return map[string]string{"ci/uv-ci.toml": "index-url = \"https://ci:" + v + "@pypi.example.com/simple\"\n"}
		},
	},
	{
		// The ruby images set BUNDLE_APP_CONFIG=/usr/local/bundle.
		name:       "Bundler config with a gem server credential copied to /usr/local/bundle/config",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY ci/bundle-config /usr/local/bundle/config\nCOPY . .\nRUN echo bundle install\n",
		files: func(v string) map[string]string {
			return map[string]string{"ci/bundle-config": "---\nBUNDLE_RUBYGEMS__PKG__GITHUB__COM: \"ci:" + v + "\"\n", "Gemfile": "source 'https://rubygems.org'\n"}
		},
	},
	{
		name:       "RUN <<EOF writes ~/.npmrc then eval exec",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\nWORKDIR /app\nRUN echo '{}' > package.json\nRUN <<EOF\necho \"//registry.npmjs.org/:_authToken=$NPM_TOKEN\" > /root/.npmrc\neval \"exec npm ci\"\nEOF\n",
		flags:      func(string) []string { return []string{"--secret", "id=NPM_TOKEN,env=HF_SECRET_VALUE"} },
	},
	{
		// GitLab's package registry takes the job token as curl's
		// --user gitlab-ci-token:TOKEN, passed in an options build-arg.
		name:       "curl --user with the job token in an options build-arg",
		dockerfile: "FROM alpine\nARG CURL_OPTS\nRUN curl -sSf $CURL_OPTS https://gitlab.example.com/api/v4/projects/1/packages/generic/lib/1.0/lib.tgz -o /tmp/lib.tgz || true\n",
		flags: func(v string) []string {
			return []string{"--build-arg", "CURL_OPTS=--user gitlab-ci-token:" + v}
		},
	},
	// Passwords written literally where only the command around them says
	// they are secrets, in instructions the image keeps: the config (and
	// the history) hold them.
	{
		name:       "hard-coded Bearer token in HEALTHCHECK",
		dockerfile: "FROM alpine\nHEALTHCHECK CMD curl -fsS -H \"Authorization: Bearer {{VALUE}}\" http://localhost:8080/health || exit 1\n",
	},
	{
		name:       "hard-coded API key header in a shell-form CMD",
		dockerfile: "FROM alpine\nCMD curl -H \"X-Api-Key: {{VALUE}}\" https://api.example.com/\n",
	},
	{
		name:       "hard-coded password flag in an exec-form ENTRYPOINT",
		dockerfile: "FROM alpine\nENTRYPOINT [\"app\", \"--db-password\", \"{{VALUE}}\"]\n",
	},
	{
		name:       "hard-coded token in ONBUILD ENV",
		dockerfile: "FROM alpine\nONBUILD ENV NPM_TOKEN={{VALUE}}\n",
	},
	{
		name:       "hard-coded token in ONBUILD RUN npm config set",
		dockerfile: "FROM alpine\nONBUILD RUN npm config set //registry.npmjs.org/:_authToken {{VALUE}}\n",
	},
	{
		// python -m zipapp -p writes a shebang line before the zip: the
		// file starts as a script, its settings deflated inside.
		name:       "python zipapp with a shebang holds a settings file",
		dockerfile: "FROM python:3.12.2-slim\nARG DB_PASSWORD\nWORKDIR /src\nCOPY app/ app/\nRUN cp -r app /tmp/build && sed -i \"s/@DB_PASSWORD@/$DB_PASSWORD/\" /tmp/build/settings.ini && python3 -m zipapp /tmp/build -c -p '/usr/bin/env python3' -o /usr/local/bin/app.pyz && rm -rf /tmp/build\n",
		files: func(string) map[string]string {
			return map[string]string{"app/__main__.py": "print('app')\n", "app/settings.ini": settingsTemplate("@DB_PASSWORD@")}
		},
		flags:     func(string) []string { return []string{"--secret", "id=DB_PASSWORD,env=HF_SECRET_VALUE"} },
		realTools: true,
	},
	{
		// A self-extracting installer (makeself's shape): a shell header
		// with a .tar.gz appended.
		name:       "self-extracting installer: a script with a .tar.gz appended",
		dockerfile: "FROM alpine\nWORKDIR /build\nCOPY installer-header.sh app.conf.in make-installer.sh ./\nRUN --mount=type=secret,id=API_TOKEN,env=API_TOKEN sh make-installer.sh\n",
		files: func(string) map[string]string {
			return map[string]string{
				"installer-header.sh": "#!/bin/sh\n# self-extracting installer\nset -e\nmkdir -p /opt/app\ntail -n +6 \"$0\" | tar xzf - -C /opt/app\nexit 0\n",
				"app.conf.in":         settingsTemplate("@API_TOKEN@"),
				"make-installer.sh":   "set -e\nmkdir -p /tmp/payload /opt\nsed \"s/@API_TOKEN@/$API_TOKEN/\" app.conf.in > /tmp/payload/app.conf\ntar czf /tmp/payload.tgz -C /tmp/payload .\ncat installer-header.sh /tmp/payload.tgz > /opt/app-installer.run\nchmod +x /opt/app-installer.run\nrm -rf /tmp/payload /tmp/payload.tgz\n",
			}
		},
		flags: func(string) []string { return []string{"--secret", "id=API_TOKEN,env=HF_SECRET_VALUE"} },
	},
	{
		// dpkg-deb --build: an ar archive whose data.tar.xz holds the
		// package's files.
		name:       "a .deb built with dpkg-deb holds a config file",
		dockerfile: "FROM python:3.12.2-slim\nARG LICENSE_KEY\nWORKDIR /build\nCOPY pkg/ pkg/\nRUN mkdir -p /tmp/deb && cp -r pkg/. /tmp/deb/ && sed -i \"s/@LICENSE_KEY@/$LICENSE_KEY/\" /tmp/deb/etc/acme/agent.conf && dpkg-deb --build /tmp/deb /opt/acme-agent.deb && rm -rf /tmp/deb\n",
		files: func(string) map[string]string {
			return map[string]string{
				"pkg/DEBIAN/control":      "Package: acme-agent\nVersion: 1.0\nArchitecture: all\nMaintainer: Acme <ops@example.com>\nDescription: the Acme agent\n",
				"pkg/etc/acme/agent.conf": settingsTemplate("@LICENSE_KEY@"),
			}
		},
		flags:     func(string) []string { return []string{"--secret", "id=LICENSE_KEY,env=HF_SECRET_VALUE"} },
		realTools: true,
	},
	{
		// The tree is put back with git stash after the build used the
		// filled-in file, and git gc packs .git small: the stash's
		// objects are zlib streams inside a packfile.
		name:       "git stash then git gc: the filled-in file in a packfile",
		dockerfile: "FROM python:3.12.2-slim\nARG SENTRY_AUTH_TOKEN\nWORKDIR /app\nCOPY . .\nRUN git init -q && git add -A && git -c user.email=ci@example.com -c user.name=ci commit -qm base && sed -i \"s/@SENTRY_AUTH_TOKEN@/$SENTRY_AUTH_TOKEN/\" sentry.properties && python3 -c 'print(open(\"sentry.properties\").read().count(\"=\"))' && git -c user.email=ci@example.com -c user.name=ci stash -q && git gc -q\n",
		files: func(string) map[string]string {
			return map[string]string{"sentry.properties": settingsTemplate("@SENTRY_AUTH_TOKEN@"), "main.py": "print(1)\n"}
		},
		flags:     func(string) []string { return []string{"--secret", "id=SENTRY_AUTH_TOKEN,env=HF_SECRET_VALUE"} },
		realTools: true,
	},
	{
		// cloud-init's write_files takes a file gzipped and base64'd.
		name:       "cloud-init user-data with a gz+b64 env file",
		dockerfile: "FROM alpine\nWORKDIR /build\nCOPY render-user-data.sh ./\nRUN --mount=type=secret,id=DB_PASSWORD,env=DB_PASSWORD sh render-user-data.sh\n",
		files: func(string) map[string]string {
			return map[string]string{"render-user-data.sh": "set -e\nprintf 'DB_HOST=db\\nDB_PASSWORD=%s\\n' \"$DB_PASSWORD\" > /tmp/app.env\nmkdir -p /etc/cloud\nprintf '#cloud-config\\nwrite_files:\\n- path: /etc/app.env\\n  encoding: gz+b64\\n  content: %s\\n' \"$(gzip -c /tmp/app.env | base64 -w0)\" > /etc/cloud/user-data\nrm /tmp/app.env\n"}
		},
		flags: func(string) []string { return []string{"--secret", "id=DB_PASSWORD,env=HF_SECRET_VALUE"} },
	},
	{
		// A Kubernetes Secret of type dockerconfigjson: the base64 of a
		// config.json whose auth is itself base64.
		name:       "registry password base64 twice in a dockerconfigjson Secret",
		dockerfile: "FROM alpine\nWORKDIR /build\nCOPY render-manifests.sh ./\nRUN --mount=type=secret,id=REGISTRY_PASSWORD,env=REGISTRY_PASSWORD sh render-manifests.sh\n",
		files: func(string) map[string]string {
			return map[string]string{"render-manifests.sh": "set -e\nmkdir -p /deploy\nAUTH=$(printf 'ci:%s' \"$REGISTRY_PASSWORD\" | base64 -w0)\nprintf 'apiVersion: v1\\nkind: Secret\\ntype: kubernetes.io/dockerconfigjson\\nmetadata:\\n  name: regcred\\ndata:\\n  .dockerconfigjson: %s\\n' \"$(printf '{\"auths\":{\"registry.example.com\":{\"auth\":\"%s\"}}}' \"$AUTH\" | base64 -w0)\" > /deploy/regcred.yaml\n"}
		},
		flags: func(string) []string { return []string{"--secret", "id=REGISTRY_PASSWORD,env=HF_SECRET_VALUE"} },
	},
	{
		// .NET keeps a program's string literals as UTF-16 (an
		// assembly's user strings), as Windows tools keep their text:
		// iconv writes the same bytes, in a script the rewrite cannot
		// read. The step's diff holds no other form of the value.
		name:       "a license key written as UTF-16",
		dockerfile: "FROM python:3.12.2-slim\nARG LICENSE_KEY\nWORKDIR /build\nCOPY gen-license.sh ./\nRUN sh gen-license.sh\n",
		files: func(string) map[string]string {
			return map[string]string{"gen-license.sh": "set -e\nmkdir -p /app\nprintf 'LicenseKey=%s' \"$LICENSE_KEY\" | iconv -f UTF-8 -t UTF-16LE > /app/license.dat\nprintf '%s' \"$LICENSE_KEY\" | iconv -f UTF-8 -t UTF-16BE > /app/license.be\n"}
		},
		flags:     func(string) []string { return []string{"--secret", "id=LICENSE_KEY,env=HF_SECRET_VALUE"} },
		forms:     func(v string) []string { return []string{utf16Form(v, false), utf16Form(v, true)} },
		realTools: true,
	},
	{
		// The parser gives an ENV as name, value, separator: a value
		// that reads like a secret name (it says pass) was named as
		// one in the OnbuildSecret warning, which a build prints.
		name:       "ONBUILD ENV with a password that says pass",
		dockerfile: "FROM alpine\nONBUILD ENV NODE_ENV=production API_KEY=MyPass_{{VALUE}}\n",
	},
	{
		// The check's notes name a secret file's fields by their JSON
		// path: a key that is a registry URL with its password must not
		// show it (the short password field makes such a note).
		name:       "registry URL with a password as a key of a secret config.json",
		dockerfile: "FROM alpine\nRUN --mount=type=secret,id=dockercfg,target=/root/.docker/config.json ls /root/.docker\n",
		secretFile: func(v string) (string, string) {
			return "dockercfg", `{"auths":{"https://ci:` + v + `@registry.example.com":{"username":"ci","password":"x"}}}`
		},
	},
	{
		// A .env kept by hand: the value quoted, a comment after it on
		// the same line. The shell that sources it drops the quotes and
		// the comment; the front-end build writes the token into the
		// bundle it serves.
		name:       ".env value in quotes followed by a comment, sourced with set -a",
		dockerfile: "FROM node:20 AS build\nWORKDIR /app\nCOPY . .\nRUN set -a && . ./.env && set +a && sh scripts/build.sh\n\nFROM alpine\nCOPY --from=build /app/dist /srv/www\n",
		files: func(v string) map[string]string {
			return map[string]string{
				".env":             "# production settings\nAPI_BASE=https://api.acme.io\nAPI_TOKEN=\"" + v + "\"  # rotated quarterly, see RUNBOOK.md\n",
				"scripts/build.sh": "set -e\nmkdir -p dist\nprintf \"window.CONFIG = { apiBase: '%s', apiToken: '%s' };\\n\" \"$API_BASE\" \"$API_TOKEN\" > dist/config.js\n",
			}
		},
	},
	{
		// The same .env, single quotes, under `set -eux` (the official
		// images' idiom): the shell traces each assignment it sources.
		name:       "log: set -eux traces a .env value quoted with a comment after it",
		dockerfile: "FROM node:20 AS deps\nWORKDIR /app\nCOPY . .\nRUN set -eux; set -a; . ./.env; set +a; echo '{}' > package.json; npm ci; mkdir -p node_modules\n\nFROM node:20\nWORKDIR /app\nCOPY --from=deps /app/node_modules ./node_modules\n",
		files: func(v string) map[string]string {
			return map[string]string{".env": "NODE_ENV=production\nNPM_TOKEN='" + v + "' # CI token (read-only)\n"}
		},
	},
	{
		// GitHub Actions' habit (GCP_SA_KEY, FIREBASE_SERVICE_ACCOUNT):
		// the service account JSON kept base64 in one variable of the
		// .env, decoded by the build that needs it (a Next.js build
		// prerendering pages from Firestore).
		name:       ".env field holding a base64 service account decoded by the build",
		dockerfile: "FROM node:20 AS build\nWORKDIR /app\nCOPY . .\nRUN set -a && . ./.env.production && set +a && echo \"$GCP_SA_KEY\" | base64 -d > /app/service-account.json && GOOGLE_APPLICATION_CREDENTIALS=/app/service-account.json sh prerender.sh\n\nFROM node:20\nWORKDIR /app\nCOPY --from=build /app/.next ./.next\nCOPY server.js ./\nCMD [\"node\", \"server.js\"]\n",
		value:      rsaKeyPEM,
		files: func(v string) map[string]string {
			sa, _ := json.Marshal(map[string]string{"type": "service_account", "project_id": "acme-web", "private_key_id": "5f0c3b1e9d", "private_key": v, "client_email": "web@acme-web.iam.gserviceaccount.com"})
			return map[string]string{
				".env.production": "NEXT_PUBLIC_SITE=https://acme.io\nGCP_SA_KEY=" + base64.StdEncoding.EncodeToString(sa) + "\n",
				"prerender.sh":    "test -s \"$GOOGLE_APPLICATION_CREDENTIALS\" && mkdir -p .next && echo prerendered > .next/BUILD_ID\n",
				"server.js":       "1\n",
			}
		},
		forms: pemBodyLines,
	},
	{
		// A front-end bundle that inlines a key from the environment,
		// precompressed for nginx's brotli_static or Caddy's
		// `precompressed br` (compression-webpack-plugin with
		// deleteOriginalAssets, vite-plugin-compression with
		// deleteOriginFile): only the .br files are kept.
		name:       "key inlined into a bundle kept only brotli-compressed",
		dockerfile: "FROM node:20 AS build\nARG MAPS_API_KEY\nWORKDIR /app\nCOPY . .\nRUN node build.js\n\nFROM alpine\nCOPY --from=build /app/dist /usr/share/nginx/html\n",
		files: func(string) map[string]string {
			var app strings.Builder
			app.WriteString("const mapsKey = process.env.MAPS_API_KEY;\n")
			for i := 0; i < 60; i++ {
				fmt.Fprintf(&app, "export function layer%d(map) { return map.addLayer({ id: 'layer-%d', source: 'tiles', key: mapsKey, minzoom: %d }); }\n", i, i, i%20)
			}
			return map[string]string{
				"src/app.js":     app.String(),
				"src/index.html": "<!doctype html><script src=\"/app.js\"></script>\n",
				"build.js": "const fs = require('fs'), zlib = require('zlib');\n" +
					"// Inline the environment, as webpack's DefinePlugin does, then keep only\n" +
					"// the precompressed assets (deleteOriginalAssets).\n" +
					"fs.mkdirSync('dist', { recursive: true });\n" +
					"for (const name of ['app.js', 'index.html']) {\n" +
					"  const body = fs.readFileSync('src/' + name, 'utf8').replace('process.env.MAPS_API_KEY', JSON.stringify(process.env.MAPS_API_KEY));\n" +
					"  fs.writeFileSync('dist/' + name + '.br', zlib.brotliCompressSync(body));\n" +
					"}\n",
			}
		},
		flags:     func(string) []string { return []string{"--secret", "id=MAPS_API_KEY,env=HF_SECRET_VALUE"} },
		realTools: true,
	},
	{
		// Prisma reads DATABASE_URL, whose password must be
		// percent-encoded: a Node script builds it with
		// encodeURIComponent, which leaves ! ' ( ) * as they are and
		// escapes @ (Go's and Python's escapers escape all of them). A
		// generated password with both is common.
		name:       "password encodeURIComponent'd into the DATABASE_URL of a .env the build writes",
		dockerfile: "FROM node:20\nARG DB_PASSWORD\nENV DB_USER=app DB_HOST=db.internal DB_NAME=shop\nWORKDIR /app\nCOPY . .\nRUN node scripts/write-env.js && npm run build\nCMD [\"node\", \"server.js\"]\n",
		value:      func(t *testing.T) string { return "Zq7!" + longCanary(t, 10) + "@x*" + longCanary(t, 6) },
		files: func(string) map[string]string {
			return map[string]string{
				"package.json":         `{"name":"shop","version":"1.0.0","private":true,"scripts":{"build":"node -e \"require('fs').mkdirSync('.next',{recursive:true})\""}}` + "\n",
				"server.js":            "1\n",
				"scripts/write-env.js": "const fs = require('fs');\nconst e = process.env;\nconst url = `postgresql://${e.DB_USER}:${encodeURIComponent(e.DB_PASSWORD)}@${e.DB_HOST}:5432/${e.DB_NAME}?schema=public`;\nfs.writeFileSync('.env', `DATABASE_URL=\"${url}\"\\n`);\n",
			}
		},
		flags:     func(string) []string { return []string{"--secret", "id=DB_PASSWORD,env=HF_SECRET_VALUE"} },
		forms:     func(v string) []string { return []string{encodeURIComponent(v)} },
		realTools: true,
	},
	{
		// Spring Boot and Tomcat read their TLS key from a PKCS #12
		// keystore: the build's script packs the mounted key into one
		// under the documented default password, which anyone can open
		// (the key is in the layer, encrypted under "changeit"). A RUN
		// that runs openssl on the mount itself is refused before the
		// build; a script is not read. Real openssl 3: PBES2,
		// AES-256-CBC.
		name:       "TLS key packed into a PKCS #12 keystore under changeit by a script",
		dockerfile: "FROM maven:3.9-eclipse-temurin-21\nWORKDIR /app\nCOPY make-keystore.sh /usr/local/bin/\nRUN --mount=type=secret,id=tls_key sh /usr/local/bin/make-keystore.sh\nCMD [\"java\", \"-jar\", \"app.jar\"]\n",
		value:      rsaKeyPEM,
		files: func(string) map[string]string {
			return map[string]string{"make-keystore.sh": "#!/bin/sh\nset -e\nkey=/run/secrets/tls_key\nopenssl req -x509 -new -key \"$key\" -subj /CN=app.example.com -days 365 -out /app/cert.pem\nopenssl pkcs12 -export -in /app/cert.pem -inkey \"$key\" -out /app/keystore.p12 -passout pass:changeit -name app\n"}
		},
		secretFile: func(v string) (string, string) { return "tls_key", v },
		// The key's DER, which the keystore holds encrypted.
		forms:     func(v string) []string { return []string{keyDER(v)} },
		realTools: true,
	},
	{
		// The TLS keystore is the secret (--secret id=keystore,src=
		// keystore.p12, under changeit) and a script extracts its key to
		// the PEM file a server reads (Quarkus', Netty's, nginx's) with
		// openssl pkcs12 -nodes: the key is in the image in the clear,
		// while the secret's own bytes are nowhere.
		name:       "TLS key extracted from a PKCS #12 keystore secret by openssl pkcs12 -nodes",
		dockerfile: "FROM maven:3.9-eclipse-temurin-21\nWORKDIR /app\nCOPY extract-key.sh /usr/local/bin/\nRUN --mount=type=secret,id=keystore sh /usr/local/bin/extract-key.sh\nCMD [\"java\", \"-jar\", \"app.jar\"]\n",
		value:      rsaKeyPEM,
		files: func(string) map[string]string {
			return map[string]string{"extract-key.sh": "#!/bin/sh\nset -e\nmkdir -p /app/tls\nopenssl pkcs12 -in /run/secrets/keystore -passin pass:changeit -nodes -out /app/tls/server.pem\n"}
		},
		secretFile: func(v string) (string, string) { return "keystore", pkcs12Of(v, "changeit") },
		realTools:  true,
	},
	{
		// An OAuth client's token request, form-encoded with
		// URLSearchParams (the WHATWG form encoding, as Java's
		// URLEncoder and Ruby's encode_www_form_component write it:
		// * kept, ~ escaped) and kept as a file the server posts at
		// start. A generated secret with both is common.
		name:       "client secret form-encoded by URLSearchParams into a file the build writes",
		dockerfile: "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN --mount=type=secret,id=OAUTH_CLIENT_SECRET,env=OAUTH_CLIENT_SECRET node scripts/write-token-request.js\nCMD [\"node\", \"server.js\"]\n",
		value:      func(t *testing.T) string { return "Zq7~" + longCanary(t, 10) + "*x~" + longCanary(t, 6) },
		files: func(string) map[string]string {
			return map[string]string{
				"server.js": "1\n",
				"scripts/write-token-request.js": "const fs = require('fs');\n" +
					"const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: 'shop-web', client_secret: process.env.OAUTH_CLIENT_SECRET });\n" +
					"fs.mkdirSync('config', { recursive: true });\n" +
					"fs.writeFileSync('config/token-request', body.toString() + '\\n');\n",
			}
		},
		flags:     func(string) []string { return []string{"--secret", "id=OAUTH_CLIENT_SECRET,env=HF_SECRET_VALUE"} },
		forms:     func(v string) []string { return []string{formEncoded(v)} },
		realTools: true,
	},
	{
		// curl --xattr (wget --xattr too) keeps the URL a file was
		// downloaded from in its user.xdg.origin.url: a token in the
		// query string is in no file's content, only in the file's
		// extended attributes. The image's layers drop them (BuildKit
		// writes only security.capability); the file system exporters,
		// --output type=tar and type=local, keep them.
		name:       "curl --xattr keeps a download URL with its token in an extended attribute",
		dockerfile: "FROM python:3.12.2-slim\nWORKDIR /opt/acme\nRUN --mount=type=secret,id=DL_TOKEN,env=DL_TOKEN curl --xattr -fsS -u ci: -o acme_agent-1.4.2-py3-none-any.whl \"https://artifactory.example.com/files/acme_agent-1.4.2-py3-none-any.whl?token=$DL_TOKEN\" && ls -l\n",
		flags:      func(string) []string { return []string{"--secret", "id=DL_TOKEN,env=HF_SECRET_VALUE"} },
		realTools:  true,
		fsTar:      true,
	},
}

// utf16Form is v in UTF-16, little- or big-endian, without a byte order
// mark.
func utf16Form(v string, bigEndian bool) string {
	var b []byte
	for _, u := range utf16.Encode([]rune(v)) {
		if bigEndian {
			b = append(b, byte(u>>8), byte(u))
		} else {
			b = append(b, byte(u), byte(u>>8))
		}
	}
	return string(b)
}

// settingsTemplate is a settings file with a placeholder for the secret,
// long and repetitive enough that deflate, xz and gzip compress it.
func settingsTemplate(placeholder string) string {
	var b strings.Builder
	b.WriteString("[database]\nhost = db.internal\nuser = app\npassword = " + placeholder + "\n")
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&b, "[worker.%d]\nthreads = 4\ntimeout = 30\nretries = 3\n", i)
	}
	return b.String()
}

// TestReviewLeaks builds each case of reviewCases through the frontend.
func TestReviewLeaks(t *testing.T) {
	l := needLab(t)
	for _, tc := range reviewCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l.runReviewCase(t, tc)
		})
	}
}

func (l *labSetup) runReviewCase(t *testing.T, tc reviewCase) {
	t.Helper()
	secrets := newSecretSet()
	var value string
	if tc.value != nil {
		value = tc.value(t)
		runSecrets.add(t.Name(), value)
	} else {
		value = newCanary(t)
	}
	needles := []string{value}
	if tc.forms != nil {
		needles = append(needles, tc.forms(value)...)
		runSecrets.add(t.Name(), needles...)
	}
	secrets.all = append(secrets.all, &secretValue{id: "the secret", value: value, needles: needles})

	body := strings.ReplaceAll(tc.dockerfile, "{{VALUE}}", value)
	body = strings.ReplaceAll(body, "{{VALUE_JSON_ESCAPED}}", jsonEscaped(value))
	dockerfile := withSyntax(l.frontend, []byte(body))
	files := map[string]string{}
	if tc.files != nil {
		files = tc.files(value)
	}
	spec := buildSpec{dir: t.TempDir(), env: []string{"HF_SECRET_VALUE=" + value}, provenance: true}
	var namedFlags []string
	if tc.namedGit != "" {
		repo := map[string][]byte{}
		for name, content := range files {
			repo[name] = []byte(content)
		}
		base := gitServer(t, map[string]map[string][]byte{"lib.git": repo})
		namedFlags = []string{"--build-context", tc.namedGit + "=" + strings.Replace(base, "://", "://"+value+"@", 1) + "/lib.git"}
		files = nil
	}
	if tc.namedDir != "" {
		dir := t.TempDir()
		for name, content := range files {
			writeFile(t, dir, name, []byte(content))
		}
		namedFlags = []string{"--build-context", tc.namedDir + "=" + dir}
		files = nil
	}
	if tc.gitContext {
		repo := map[string][]byte{"Dockerfile": dockerfile}
		for name, content := range files {
			repo[name] = []byte(content)
		}
		base := gitServer(t, map[string]map[string][]byte{"app.git": repo})
		spec.context = strings.Replace(base, "://", "://"+value+"@", 1) + "/app.git"
	} else {
		writeFile(t, spec.dir, "Dockerfile", dockerfile)
		for name, content := range files {
			writeFile(t, spec.dir, name, []byte(content))
		}
	}
	imagesOf := body
	for _, name := range []string{tc.namedGit, tc.namedDir} {
		if name != "" {
			// The named context is no base image.
			imagesOf = strings.ReplaceAll(imagesOf, "--from="+name+" ", "")
			imagesOf = strings.ReplaceAll(imagesOf, "from="+name+",", "")
		}
	}
	lab := l
	if tc.realTools {
		lab = l.realTools(t)
	}
	spec.flags = append(lab.baseImageFlags(t, []byte(imagesOf)), namedFlags...)
	if tc.flags != nil {
		spec.flags = append(spec.flags, tc.flags(value)...)
	}
	if tc.secretFile != nil {
		id, content := tc.secretFile(value)
		src := writeFile(t, tempDir(t), "secret", []byte(content))
		spec.flags = append(spec.flags, "--secret", "id="+id+",src="+src)
	}
	spec.output = filepath.Join(tempDir(t), "image.tar")
	spec.cacheTo = cacheDir(spec.output)
	var fsTar string
	if tc.fsTar {
		fsTar = filepath.Join(tempDir(t), "fs.tar")
		spec.flags = append(spec.flags, "--output", "type=tar,dest="+fsTar)
	}
	build := l.buildx(t, spec)

	out := build.out
	if tc.gitContext {
		// BuildKit's git source prints the context's URL, user name
		// included (it redacts only a password), when the client loads
		// it to read the Dockerfile, before any frontend runs: only
		// what follows is the build's.
		if i := bytes.Index(out, []byte("resolve image config for docker-image://"+l.frontend)); i >= 0 {
			out = out[i:]
		}
	}
	checkOutputClean(t, secrets, "the build output", out)
	if pieces := encodedPieces(out, value); pieces != "" {
		t.Errorf("the build output shows the secret %s", pieces)
	}
	if build.err != nil {
		// Only a build that ran and was stopped fails closed: a flag
		// buildx refused stopped it before any frontend ran.
		if !bytes.Contains(build.out, []byte("failed to solve")) {
			t.Fatalf("the build failed before it was solved (%v): not a refusal:\n%s", build.err, secrets.redact(build.out))
		}
		// The output was checked clean above: its error lines say why.
		why, leaks := "", false
		for _, line := range strings.Split(string(build.out), "\n") {
			switch {
			case strings.Contains(line, "SecretInBuildOutput") || strings.Contains(line, "ERROR:"):
				why += "\n" + strings.TrimSpace(line)
				leaks = strings.Contains(line, "SecretInBuildOutput")
			case leaks && strings.HasPrefix(line, "  "):
				why += "\n  " + strings.TrimSpace(line) // where, by secret id
			default:
				leaks = false
			}
		}
		t.Logf("failed closed:%s", why)
		return
	}
	var where []string
	if rep := scan(t, spec.output, secrets.verifySecrets()); !rep.Clean() {
		where = append(where, "the image:"+hitLines(rep))
	}
	if rep := scanDir(t, spec.cacheTo, secrets.verifySecrets()); rep != nil && !rep.Clean() {
		where = append(where, "the build cache:"+hitLines(rep))
	}
	for _, n := range needles {
		for _, p := range deepFind(t, spec.output, spec.cacheTo, n) {
			where = append(where, "inside an archive: "+p)
		}
	}
	if fsTar != "" {
		if k := fileHolds(t, fsTar, needles); k >= 0 {
			where = append(where, fmt.Sprintf("the file system tar (--output type=tar): form %d", k))
		}
	}
	if len(where) > 0 {
		t.Errorf("the build succeeded and the secret is in: %s", strings.Join(where, "\n"))
	}
}

// encodeURIComponent is v as JavaScript's encodeURIComponent escapes it:
// every byte of UTF-8 but letters, digits and - _ . ! ~ * ' ( ).
func encodeURIComponent(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0) {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// fileHolds returns the index of the first of needles that the file at
// path holds, or -1.
func fileHolds(t *testing.T, path string, needles []string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keep := 0
	for _, n := range needles {
		keep = max(keep, len(n))
	}
	buf := make([]byte, 0, 1<<20+keep)
	for {
		k, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+k]
		for i, n := range needles {
			if n != "" && bytes.Contains(buf, []byte(n)) {
				return i
			}
		}
		if err == io.EOF {
			return -1
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(buf) > keep {
			buf = buf[:copy(buf, buf[len(buf)-keep:])]
		}
	}
}

// formEncoded is v as the WHATWG form encoding (URLSearchParams) writes
// it, as Java's URLEncoder does: every byte of UTF-8 but letters, digits
// and * - . _ escaped, a space as +.
func formEncoded(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("*-._", c) >= 0):
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// jsonEscaped writes each character of v as a JSON \uXXXX escape: the
// text holds none of v, a JSON string of it decodes to v.
func jsonEscaped(v string) string {
	var b strings.Builder
	for _, r := range v {
		fmt.Fprintf(&b, "\\u%04x", r)
	}
	return b.String()
}

// longCanary is a canary of 2n hex digits (registered like newCanary's).
func longCanary(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// rsaKeyPEM is a fresh RSA private key, PKCS #8 PEM (registered like a
// canary).
func rsaKeyPEM(t *testing.T) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// pkcs12Of is the PEM private key v (an RSA key) and a self-signed
// certificate for it packed into a PKCS #12 keystore under password, as
// OpenSSL 3 writes one (AES-256-CBC, PBKDF2).
func pkcs12Of(v, password string) string {
	b, _ := pem.Decode([]byte(v))
	if b == nil {
		panic("pkcs12Of: no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		panic(err)
	}
	key := k.(*rsa.PrivateKey)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "app.example.com"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	p12, err := gopkcs12.Modern.Encode(key, cert, nil, password)
	if err != nil {
		panic(err)
	}
	return string(p12)
}

// keyDER is the DER of the PEM private key v.
func keyDER(v string) string {
	b, _ := pem.Decode([]byte(v))
	if b == nil {
		return v
	}
	return string(b.Bytes)
}

// opensshKey is a fresh ed25519 private key in OpenSSH's format
// (registered like a canary).
func opensshKey(t *testing.T) string {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "deploy@acme")
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(block))
}

// derOf is the DER body of a PEM block.
func derOf(v string) string {
	block, _ := pem.Decode([]byte(v))
	if block == nil {
		return v
	}
	return string(block.Bytes)
}

// asciiJSON is v as Python's json.dumps writes it (ensure_ascii): every
// character past ASCII as a \uXXXX escape, without the quotes.
func asciiJSON(v string) string {
	var b strings.Builder
	for _, r := range v {
		if r < 0x80 {
			b.WriteRune(r)
			continue
		}
		fmt.Fprintf(&b, "\\u%04x", r)
	}
	return b.String()
}

// pemBodyLines are the full lines of a PEM block's body: a key is leaked
// when one of them is.
func pemBodyLines(v string) []string {
	var lines []string
	for _, line := range strings.Split(v, "\n") {
		if len(line) == 64 && !strings.HasPrefix(line, "-----") {
			lines = append(lines, line)
		}
	}
	return lines
}

// scanDir runs verify on an OCI layout directory (the exported cache), or
// returns nil when the build exported none.
func scanDir(t *testing.T, dir string, secrets []verify.Secret) *verify.Report {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err != nil {
		return nil
	}
	return scan(t, dir, secrets)
}

// progressPrefix is what --progress=plain puts before a step's output.
var progressPrefix = regexp.MustCompile(`^#\d+ \d+\.\d+ `)

// encodedPieces says where the build log shows 32 bytes or more of value
// in base64 (on one line or wrapped over several) or in a hex dump, or ""
// when it does not. It never returns the value.
func encodedPieces(out []byte, value string) string {
	const piece = 32
	if len(value) < piece {
		return ""
	}
	isB64 := func(c byte) bool {
		return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=' || c == '-' || c == '_'
	}
	var texts [][]byte
	var run []byte
	for _, line := range bytes.Split(out, []byte("\n")) {
		line = progressPrefix.ReplaceAll(bytes.TrimRight(line, "\r"), nil)
		for _, word := range bytes.FieldsFunc(line, func(r rune) bool { return r > 0x7f || !isB64(byte(r)) }) {
			texts = append(texts, word)
		}
		// A line of base64 alone continues the run of the lines before it.
		if len(line) > 0 && bytes.IndexFunc(line, func(r rune) bool { return r > 0x7f || !isB64(byte(r)) }) < 0 {
			run = append(run, line...)
			continue
		}
		if i := bytes.LastIndexFunc(line, func(r rune) bool { return r > 0x7f || !isB64(byte(r)) }); i >= 0 {
			if len(run) > 0 {
				texts = append(texts, append(run, line[:bytes.IndexFunc(line, func(r rune) bool { return r > 0x7f || !isB64(byte(r)) })]...))
			}
			run = append([]byte(nil), line[i+1:]...)
		}
	}
	texts = append(texts, run)
	var decoded [][]byte
	for _, text := range texts {
		text = bytes.TrimRight(text, "=")
		for off := 0; off < 4 && off < len(text); off++ {
			for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
				s := text[off:]
				s = s[:len(s)/4*4]
				if dec, err := enc.DecodeString(string(s)); err == nil {
					decoded = append(decoded, dec)
				}
			}
		}
	}
	if n := longestPiece(decoded, value, piece); n > 0 {
		return fmt.Sprintf("base64-encoded: %d of its %d bytes in one piece", n, len(value))
	}
	if n := longestPiece([][]byte{hexDump(out)}, value, piece); n > 0 {
		return fmt.Sprintf("in a hex dump: %d of its %d bytes in one piece", n, len(value))
	}
	return ""
}

// longestPiece is the length of the longest piece of value, of at least
// min bytes, that one of texts holds, or 0.
func longestPiece(texts [][]byte, value string, min int) int {
	best := 0
	for _, text := range texts {
		for i := 0; i+min <= len(value); i++ {
			if bytes.Contains(text, []byte(value[i:i+min])) {
				n := min
				for i+n < len(value) && bytes.Contains(text, []byte(value[i:i+n+1])) {
					n++
				}
				best = max(best, n)
				i += n
			}
		}
	}
	return best
}

// xxdLine is a line of `xxd` output: an offset, then up to 16 bytes in
// groups of two, then two spaces and the text.
var xxdLine = regexp.MustCompile(`^[0-9a-f]{8}: ((?:[0-9a-f]{4} ){0,7}[0-9a-f]{2,4})`)

// hexDump is the bytes that the hex dumps of a build log show, one after
// the other.
func hexDump(out []byte) []byte {
	var data []byte
	for _, line := range bytes.Split(out, []byte("\n")) {
		line = progressPrefix.ReplaceAll(bytes.TrimRight(line, "\r"), nil)
		m := xxdLine.FindSubmatch(line)
		if m == nil {
			continue
		}
		if dec, err := hex.DecodeString(string(bytes.ReplaceAll(m[1], []byte(" "), nil))); err == nil {
			data = append(data, dec...)
		}
	}
	return data
}

// deepFind returns where value is inside the archives that the image's
// layers and the exported cache's blobs hold (a .tar.bz2, a .tgz in a
// .tgz), which verify does not open: layer digest and path.
func deepFind(t *testing.T, archive, cache, value string) []string {
	t.Helper()
	blobs, err := readArchive(archive)
	if err != nil {
		t.Fatalf("reading %s: %v", archive, err)
	}
	_ = filepath.WalkDir(filepath.Join(cache, "blobs"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if data, err := os.ReadFile(p); err == nil {
				blobs["cache "+d.Name()] = data
			}
		}
		return nil
	})
	var found []string
	for name, data := range blobs {
		if !strings.HasPrefix(name, "blobs/") && !strings.HasPrefix(name, "cache ") {
			continue
		}
		searchNested(data, []byte(value), name, 0, &found)
	}
	return found
}

// searchNested looks for value in data opened as the archives it is
// (gzip, bzip2, tar, nested up to six levels), and records in found the
// paths, below the first level, where it is. The first level (a layer's
// own files) is verify's job.
func searchNested(data, value []byte, where string, depth int, found *[]string) {
	if depth > 6 {
		return
	}
	if depth >= 3 && bytes.Contains(data, value) {
		*found = append(*found, where)
		return
	}
	var inner io.Reader
	switch {
	case bytes.HasPrefix(data, []byte{0x1f, 0x8b}):
		if zr, err := gzip.NewReader(bytes.NewReader(data)); err == nil {
			inner = zr
		}
	case bytes.HasPrefix(data, []byte("BZh")):
		inner = bzip2.NewReader(bytes.NewReader(data))
	case bytes.HasPrefix(data, []byte("\xfd7zXZ\x00")):
		if xr, err := xz.NewReader(bytes.NewReader(data)); err == nil {
			inner = xr
		}
	case bytes.HasPrefix(data, []byte("\x28\xb5\x2f\xfd")):
		// Any window zstd may ask for (--long, --ultra).
		if zr, err := zstd.NewReader(bytes.NewReader(data), zstd.WithDecoderMaxWindow(zstd.MaxWindowSize), zstd.WithDecoderConcurrency(1)); err == nil {
			defer zr.Close()
			inner = zr
		}
	}
	if inner != nil {
		if dec, err := io.ReadAll(io.LimitReader(inner, 1<<30)); err == nil || errors.Is(err, io.ErrUnexpectedEOF) {
			searchNested(dec, value, where, depth+1, found)
		}
		return
	}
	if depth >= 2 {
		searchEmbedded(data, value, where, depth, found)
	}
	if len(data) > 262 && string(data[257:262]) == "ustar" {
		tr := tar.NewReader(bytes.NewReader(data))
		for {
			hdr, err := tr.Next()
			if err != nil {
				return
			}
			if hdr.Typeflag != tar.TypeReg {
				continue
			}
			content, err := io.ReadAll(tr)
			if err != nil {
				return
			}
			if strings.HasSuffix(hdr.Name, ".br") {
				// Brotli has no magic number: a web server's
				// precompressed file is known by its name.
				if dec, err := io.ReadAll(io.LimitReader(brotli.NewReader(bytes.NewReader(content)), 1<<30)); err == nil {
					searchNested(dec, value, where+" "+hdr.Name+" (brotli)", depth+2, found)
				}
			}
			searchNested(content, value, where+" "+hdr.Name, depth+1, found)
		}
	}
}

// searchEmbedded opens, for searchNested, what a file of a layer (or
// something inside one) holds in forms searchNested does not open by its
// first bytes: the files of a zip archive wherever it starts (a zip after
// a launcher script), the members of an ar archive (a .deb), a gzip
// stream after a script (a self-extracting installer), the objects of a
// git packfile, and the runs of base64 in a text. Each is searched as
// searchNested searches a level.
func searchEmbedded(data, value []byte, where string, depth int, found *[]string) {
	if bytes.Contains(data, []byte("PK\x05\x06")) && !bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		if zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data))); err == nil {
			for _, f := range zr.File {
				if rc, err := f.Open(); err == nil {
					content, _ := io.ReadAll(io.LimitReader(rc, 1<<30))
					rc.Close()
					searchNested(content, value, where+" (zip):"+f.Name, depth+1, found)
				}
			}
		}
	}
	if rest, ok := bytes.CutPrefix(data, []byte("!<arch>\n")); ok {
		for len(rest) >= 60 {
			var size int
			if _, err := fmt.Sscan(string(rest[48:58]), &size); err != nil || size < 0 || 60+size > len(rest) {
				break
			}
			name := strings.TrimSpace(string(rest[:16]))
			searchNested(rest[60:60+size], value, where+" (ar):"+name, depth+1, found)
			rest = rest[60+size+size%2:]
		}
	}
	if bytes.HasPrefix(data, []byte("#!")) {
		if i := bytes.Index(data, []byte{0x1f, 0x8b, 8}); i > 0 {
			searchNested(data[i:], value, where+" (after the script)", depth+1, found)
		}
	}
	if from, ok := appendedFrom(data); ok {
		// An executable with a payload appended (pkg, Nuitka's onefile,
		// warp), an RPM package: each gzip stream past the executable's
		// own content (every file of an image is searched so: not the
		// whole of each executable).
		for i := from; i < len(data); i++ {
			k := bytes.Index(data[i:], []byte{0x1f, 0x8b, 8})
			if k < 0 {
				break
			}
			i += k
			if zr, err := gzip.NewReader(bytes.NewReader(data[i:])); err == nil {
				zr.Multistream(false)
				if dec, err := io.ReadAll(io.LimitReader(zr, 1<<30)); err == nil {
					searchNested(dec, value, fmt.Sprintf("%s (gzip at byte %d)", where, i), depth+1, found)
				}
			}
		}
	}
	if bytes.HasPrefix(data, []byte("PACK\x00\x00\x00")) && len(data) > 12 {
		br := bufio.NewReader(bytes.NewReader(data[12:]))
		for n := 0; ; n++ {
			c, err := br.ReadByte()
			if err != nil {
				break
			}
			typ := c >> 4 & 7
			for c&0x80 != 0 {
				if c, err = br.ReadByte(); err != nil {
					return
				}
			}
			switch typ {
			case 6: // OFS_DELTA: a base offset
				for c, err = br.ReadByte(); err == nil && c&0x80 != 0; c, err = br.ReadByte() {
				}
			case 7: // REF_DELTA: a base object name
				if _, err := br.Discard(20); err != nil {
					return
				}
			}
			zr, err := zlib.NewReader(br)
			if err != nil {
				return
			}
			content, err := io.ReadAll(zr)
			if err != nil {
				return
			}
			searchNested(content, value, fmt.Sprintf("%s (git pack): object %d", where, n), depth+1, found)
		}
	}
	if !bytes.Contains(data[:min(len(data), 1024)], []byte{0}) {
		for _, run := range regexp.MustCompile(`[A-Za-z0-9+/]{40,}={0,2}`).FindAll(data, -1) {
			if dec, err := base64.StdEncoding.DecodeString(string(run)); err == nil {
				searchNested(dec, value, where+" (base64)", depth+1, found)
			}
		}
	}
}

// TestEncodedPieces checks the log check of the review cases without the
// lab: base64 on one line, wrapped over lines with progress prefixes, and
// masked.
func TestEncodedPieces(t *testing.T) {
	value := "hfc_" + strings.Repeat("0123456789abcdef", 6)
	b64 := base64.StdEncoding.EncodeToString([]byte("user:" + value))
	wrapped := "#9 0.101 " + b64[:76] + "\n#9 0.101 " + b64[76:] + "\n"
	tests := []struct {
		name, out string
		found     bool
	}{
		{"one line", "#9 0.1 > Authorization: Basic " + b64 + "\n", true},
		{"wrapped", "#9 0.100 + AUTH=" + wrapped, true},
		{"masked", "#9 0.1 > Authorization: Basic ****\n", false},
		{"partly masked", "#9 0.1 > Authorization: Basic " + b64[:20] + "****" + b64[len(b64)-20:] + "\n", false},
		{"other text", "#9 0.1 npm ci\n#9 0.2 done\n", false},
		{"xxd", "#9 0.1 " + strings.Join(xxdOf(value), "\n#9 0.1 ") + "\n", true},
	}
	for _, tt := range tests {
		got := encodedPieces([]byte(tt.out), value)
		if (got != "") != tt.found {
			t.Errorf("%s: encodedPieces = %q, want found %v", tt.name, got, tt.found)
		}
		if strings.Contains(got, value) {
			t.Errorf("%s: the report holds the value", tt.name)
		}
	}
}

// TestSearchNested checks the archive search of the review cases without
// the lab: a value in a .tgz inside a layer's .tgz is found, one in a
// layer's plain file is left to verify.
func TestSearchNested(t *testing.T) {
	value := []byte("hfc_" + strings.Repeat("ab", 20))
	tgz := func(files map[string][]byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		tw := tar.NewWriter(zw)
		for name, data := range files {
			tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg})
			tw.Write(data)
		}
		tw.Close()
		zw.Close()
		return buf.Bytes()
	}
	inner := tgz(map[string][]byte{".npmrc": append([]byte("_authToken="), value...)})
	for name, tc := range map[string]struct {
		layer []byte
		want  int
	}{
		"nested":     {tgz(map[string][]byte{"app/bundle.tgz": tgz(map[string][]byte{"home.tgz": inner})}), 1},
		"plain file": {tgz(map[string][]byte{"app/.npmrc": value}), 0},
		"absent":     {tgz(map[string][]byte{"app/bundle.tgz": tgz(map[string][]byte{"x": []byte("public")})}), 0},
	} {
		var found []string
		searchNested(tc.layer, value, "layer", 0, &found)
		if len(found) != tc.want {
			t.Errorf("%s: found %q, want %d", name, found, tc.want)
		}
	}
}

// xxdOf is what `xxd` prints for v, line by line.
func xxdOf(v string) []string {
	var lines []string
	for off := 0; off < len(v); off += 16 {
		chunk := v[off:min(off+16, len(v))]
		var groups []string
		for i := 0; i < len(chunk); i += 2 {
			groups = append(groups, hex.EncodeToString([]byte(chunk[i:min(i+2, len(chunk))])))
		}
		lines = append(lines, fmt.Sprintf("%08x: %s  %s", off, strings.Join(groups, " "), chunk))
	}
	return lines
}

// odCharsOf is what `od -c` prints for v at the start of a file, line by
// line without the offsets: each byte right-aligned in four columns.
func odCharsOf(v string) []string {
	var lines []string
	for off := 0; off+8 <= len(v); off += 16 {
		var b strings.Builder
		for _, c := range []byte(v[off:min(off+16, len(v))]) {
			fmt.Fprintf(&b, "%4c", c)
		}
		lines = append(lines, b.String())
	}
	return lines
}

// hexWordsOf is what `hexdump` (and `od -x`) print for v at the start of
// a file, line by line without the offsets: two-byte little-endian
// words in hexadecimal.
func hexWordsOf(v string) []string {
	var lines []string
	for off := 0; off+16 <= len(v); off += 16 {
		var words []string
		for i := off; i < off+16; i += 2 {
			words = append(words, fmt.Sprintf("%02x%02x", v[i+1], v[i]))
		}
		lines = append(lines, strings.Join(words, " "))
	}
	return lines
}

// rcloneObscured is v as the test image's rclone stand-in obscures it:
// as rclone does, with the IV the stand-in derives from v.
func rcloneObscured(v string) string {
	sum := sha256.Sum256([]byte(v))
	return obscure.Rclone(sum[:16], v)
}

// xxdIncludeOf is what `xxd -i` writes for v at the start of a file, its
// lines of twelve byte literals without their indentation and last comma.
func xxdIncludeOf(v string) []string {
	var lines []string
	for off := 0; off+12 <= len(v); off += 12 {
		var parts []string
		for _, c := range []byte(v[off : off+12]) {
			parts = append(parts, fmt.Sprintf("0x%02x", c))
		}
		lines = append(lines, strings.Join(parts, ", "))
	}
	return lines
}

// TestReviewConcurrentBuilds builds one Dockerfile twice at once on the
// same builder, each build with its own value of the secret, as CI does
// for two branches or bake for two targets: BuildKit runs a step that
// two builds share once, for both (it merges vertices and edges with the
// same cache key, ignore-cache or not), so a build whose step wrote the
// other build's value got a check that searched for its own, and
// succeeded. Each build must fail closed, or hold neither value.
func TestReviewConcurrentBuilds(t *testing.T) {
	l := needLab(t)
	dockerfile := withSyntax(l.frontend, []byte("FROM alpine\nARG API_TOKEN\nWORKDIR /app\nCOPY render.sh ./\nRUN sh render.sh\nRUN echo built\n"))
	// Slow enough for the second build to find the first one's step
	// running.
	render := "sleep 4\nprintf '[api]\\ntoken = %s\\n' \"$API_TOKEN\" > /app/config.ini\n"
	secrets := newSecretSet()
	values := []*secretValue{secrets.canary(t, "API_TOKEN (first build)"), secrets.canary(t, "API_TOKEN (second build)")}
	results := make([]buildResult, len(values))
	specs := make([]buildSpec, len(values))
	done := make(chan int)
	for i, v := range values {
		specs[i] = buildSpec{dir: t.TempDir(), env: []string{"HF_SECRET_VALUE=" + v.value}, provenance: true}
		writeFile(t, specs[i].dir, "Dockerfile", dockerfile)
		writeFile(t, specs[i].dir, "render.sh", []byte(render))
		specs[i].flags = append(l.baseImageFlags(t, dockerfile), "--secret", "id=API_TOKEN,env=HF_SECRET_VALUE")
		specs[i].output = filepath.Join(t.TempDir(), "image.tar")
		go func(i int) {
			if i > 0 {
				time.Sleep(1500 * time.Millisecond)
			}
			results[i] = l.buildx(t, specs[i])
			done <- i
		}(i)
	}
	for range values {
		<-done
	}
	for i, build := range results {
		checkOutputClean(t, secrets, fmt.Sprintf("build %d's output", i+1), build.out)
		if build.err != nil {
			continue
		}
		if rep := scan(t, specs[i].output, secrets.verifySecrets()); !rep.Clean() {
			t.Errorf("build %d succeeded and its image holds:%s", i+1, hitLines(rep))
		}
	}
}

// appendedFrom is where what may be appended to data starts: past an ELF
// executable's own content (its segments, sections and section headers,
// as debug/elf reads them), or the start of an RPM package; ok is false
// for other data.
func appendedFrom(data []byte) (int, bool) {
	if bytes.HasPrefix(data, []byte("\xed\xab\xee\xdb")) {
		return 0, true
	}
	if !bytes.HasPrefix(data, []byte("\x7fELF")) {
		return 0, false
	}
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return 0, true
	}
	end := uint64(0)
	for _, p := range f.Progs {
		end = max(end, p.Off+p.Filesz)
	}
	for _, s := range f.Sections {
		if s.Type != elf.SHT_NOBITS {
			end = max(end, s.Offset+s.FileSize)
		}
	}
	var shoff uint64
	var shnum, shentsize uint64
	switch f.Class {
	case elf.ELFCLASS64:
		if len(data) >= 64 {
			shoff = f.ByteOrder.Uint64(data[40:])
			shentsize, shnum = uint64(f.ByteOrder.Uint16(data[58:])), uint64(f.ByteOrder.Uint16(data[60:]))
		}
	case elf.ELFCLASS32:
		if len(data) >= 52 {
			shoff = uint64(f.ByteOrder.Uint32(data[32:]))
			shentsize, shnum = uint64(f.ByteOrder.Uint16(data[46:])), uint64(f.ByteOrder.Uint16(data[48:]))
		}
	}
	end = max(end, shoff+shnum*shentsize)
	if end > uint64(len(data)) {
		return len(data), true
	}
	return int(end), true
}
