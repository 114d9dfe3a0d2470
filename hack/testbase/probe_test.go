// Package testbase_test runs the test base image's stand-in tools on the
// host, under busybox, as the image runs them.
package testbase_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// tools is a directory of busybox applets and the stand-ins, their first line
// pointing at the host's busybox.
var tools string

func TestMain(m *testing.M) {
	dir, err := setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testbase:", err)
		os.Exit(1)
	}
	tools = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func setup() (string, error) {
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		// hack/lab.sh deps installs busybox-static, as CI's machines lack it.
		cmd := exec.Command("../lab.sh", "deps")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("busybox is missing and hack/lab.sh deps failed: %w", err)
		}
		if busybox, err = exec.LookPath("busybox"); err != nil {
			return "", err
		}
	}
	dir, err := os.MkdirTemp("", "testbase-tools-")
	if err != nil {
		return "", err
	}
	// Open to the other users the user-switching stand-ins run as.
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", err
	}
	if out, err := exec.Command(busybox, "--install", "-s", dir).CombinedOutput(); err != nil {
		return "", fmt.Errorf("busybox --install: %v: %s", err, out)
	}
	scripts, err := filepath.Glob("bin/*")
	if err != nil {
		return "", err
	}
	for _, s := range scripts {
		b, err := os.ReadFile(s)
		if err != nil {
			return "", err
		}
		_, rest, _ := strings.Cut(string(b), "\n")
		dst := filepath.Join(dir, filepath.Base(s))
		os.Remove(dst) // busybox may have installed an applet of that name
		if err := os.WriteFile(dst, []byte("#!"+busybox+" sh\n"+rest), 0o755); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// sandbox is one run's HOME and working directory.
type sandbox struct {
	t          *testing.T
	home, work string
	env        []string
}

func newSandbox(t *testing.T, env ...string) *sandbox {
	root := t.TempDir()
	s := &sandbox{t: t, home: filepath.Join(root, "home"), work: filepath.Join(root, "work")}
	for _, d := range []string{s.home, s.work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	lib, err := filepath.Abs("lib.sh")
	if err != nil {
		t.Fatal(err)
	}
	s.env = append([]string{"HOME=" + s.home, "PATH=" + tools, "HUSHBUILD_PROBE_LIB=" + lib}, env...)
	return s
}

// write creates a file; a path starting with "~/" is under HOME, others
// under the working directory.
func (s *sandbox) write(path, content string) {
	s.t.Helper()
	full := s.path(path)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o600); err != nil {
		s.t.Fatal(err)
	}
}

func (s *sandbox) path(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		return filepath.Join(s.home, rest)
	}
	return filepath.Join(s.work, p)
}

func (s *sandbox) read(path string) string {
	s.t.Helper()
	b, err := os.ReadFile(s.path(path))
	if err != nil {
		s.t.Fatal(err)
	}
	return string(b)
}

// run runs a shell command line and returns its stdout; it fails the test
// on an exit status other than wantCode.
func (s *sandbox) run(wantCode int, line string) string {
	s.t.Helper()
	cmd := exec.Command(filepath.Join(tools, "sh"), "-c", line)
	cmd.Dir = s.work
	cmd.Env = s.env
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		s.t.Fatal(err)
	}
	if code != wantCode {
		s.t.Fatalf("exit status %d, want %d; stdout:\n%s\nstderr:\n%s", code, wantCode, stdout.String(), stderr.String())
	}
	return stdout.String()
}

func newCanary(t *testing.T) string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "canary" + hex.EncodeToString(b)
}

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestProbes(t *testing.T) {
	type file struct{ path, content string }
	tests := []struct {
		name  string
		files []file
		env   []string
		cmd   string
		want  string // the expected line, with the hash left as {H}
	}{
		{name: "pip extra-index-url", cmd: "pip install --extra-index-url https://u:{C}@pypi.example/simple pkg", want: "pip arg"},
		{name: "pip -i token as user", cmd: "pip install -i https://{C}@pypi.example/simple pkg", want: "pip arg"},
		{name: "pip index-url=", cmd: "pip install --index-url=https://u:{C}@pypi.example/simple pkg", want: "pip arg"},
		{name: "python -m pip", cmd: "python -m pip install --extra-index-url https://u:{C}@pypi.example/simple pkg", want: "pip arg"},
		{name: "pip env", env: []string{"PIP_EXTRA_INDEX_URL=https://u:{C}@pypi.example/simple"}, cmd: "pip install pkg", want: "pip env"},
		{name: "pip requirements", files: []file{{"req.txt", "--extra-index-url https://u:{C}@pypi.example/simple\npkg\n"}}, cmd: "pip install -r req.txt", want: "pip requirements"},
		{name: "pip netrc in home", files: []file{{"~/.netrc", "machine pypi.example login u password {C}\n"}}, cmd: "pip install -i https://pypi.example/simple pkg", want: "pip netrc"},
		{name: "pip netrc in cwd, default host", files: []file{{".netrc", "machine pypi.org\n  login u\n  password {C}\n"}}, cmd: "pip install pkg", want: "pip netrc"},
		{name: "pip config set", cmd: "pip config set global.index-url https://u:{C}@pypi.example/simple >/dev/null && pip install pkg", want: "pip config"},
		{name: "pip conf file", files: []file{{"~/.pip/pip.conf", "[global]\nextra-index-url =\n    https://u:{C}@pypi.example/simple\n"}}, cmd: "pip install pkg", want: "pip config"},

		{name: "npm project npmrc with env", files: []file{{".npmrc", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n"}}, env: []string{"NPM_TOKEN={C}"}, cmd: "npm ci", want: "npm npmrc"},
		{name: "npm user npmrc other registry", files: []file{{"~/.npmrc", "registry=https://npm.example/r/\n//npm.example/r/:_authToken = {C}\n"}}, cmd: "npm install", want: "npm npmrc"},
		{name: "npm _auth", files: []file{{".npmrc", "//registry.npmjs.org/:_auth={B64UC}\n"}}, cmd: "npm install", want: "npm npmrc"},
		{name: "npm config set", cmd: "npm config set //registry.npmjs.org/:_authToken {C} && npm i", want: "npm npmrc"},
		{name: "npm set", cmd: "npm set //registry.npmjs.org/:_authToken={C} && npm i", want: "npm npmrc"},
		{name: "npm env config", env: []string{"NPM_CONFIG__AUTHTOKEN={C}"}, cmd: "npm install", want: "npm env"},
		{name: "npm NPM_TOKEN", env: []string{"NPM_TOKEN={C}"}, cmd: "npm install", want: "npm env"},

		{name: "curl -u", cmd: "curl -fsSL -u me:{C} https://files.example/x -o out", want: "curl user"},
		{name: "curl bearer header", cmd: `curl -fsSLH "Authorization: Bearer {C}" https://files.example/x`, want: "curl header"},
		{name: "curl basic header", cmd: `curl --header "Authorization: Basic {B64UC}" https://files.example/x`, want: "curl header"},
		{name: "curl token header", cmd: `curl --header="PRIVATE-TOKEN: {C}" https://files.example/x`, want: "curl header"},
		{name: "curl url", cmd: "curl -O https://u:{C}@files.example/x.tgz", want: "curl url"},
		{name: "curl netrc", files: []file{{"~/.netrc", "machine files.example login u password {C}\n"}}, cmd: "curl --netrc -fsS https://files.example/x", want: "curl netrc"},

		{name: "git clone url", cmd: "git clone https://x-access-token:{C}@git.example/o/r.git", want: "git url"},
		{name: "git insteadOf", cmd: `git config --global url."https://u:{C}@git.example/".insteadOf "git@git.example:" && git clone git@git.example:o/r.git`, want: "git insteadof"},
		{name: "git insteadOf from env", env: []string{"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=url.https://{C}@git.example/.insteadOf", "GIT_CONFIG_VALUE_0=https://git.example/"}, cmd: "git clone https://git.example/o/r", want: "git insteadof"},
		{name: "git credential store", files: []file{{"~/.git-credentials", "https://u:{C}@git.example\n"}}, cmd: "git config --global credential.helper store && git clone https://git.example/o/r", want: "git store"},
		{name: "git shell helper", env: []string{"TOK={C}"}, cmd: `git config --global credential.helper '!f() { echo "password=${TOK}"; }; f' && git clone https://git.example/o/r`, want: "git helper"},
		{name: "git extraheader", cmd: `git -c http.extraHeader="Authorization: Basic {B64UC}" clone https://git.example/o/r`, want: "git header"},
		{name: "git netrc", files: []file{{"~/.netrc", "machine git.example login u password {C}\n"}}, cmd: "git clone https://git.example/o/r", want: "git netrc"},
		{name: "git fetch uses the remote", cmd: "git clone -q https://u:{C}@git.example/o/r >/dev/null && cd r && git fetch origin", want: "git url"},
		{name: "git over ssh, key file", files: []file{{"~/.ssh/id_ed25519", "{C}"}}, cmd: "git clone git@git.example:o/r.git", want: "ssh key"},
		{name: "ssh -i", files: []file{{"key", "{C}"}}, cmd: "ssh -i key -o StrictHostKeyChecking=no git@git.example", want: "ssh key"},
		{name: "git ssh command", files: []file{{"key", "{C}"}}, env: []string{"GIT_SSH_COMMAND=ssh -i key"}, cmd: "git ls-remote ssh://git@git.example/o/r.git", want: "ssh key"},

		{name: "composer env", env: []string{`COMPOSER_AUTH={"http-basic":{"repo.example":{"username":"u","password":"{C}"}}}`}, cmd: "composer install", want: "composer env"},
		{name: "composer auth.json", files: []file{{"auth.json", `{"github-oauth": {"github.com": "{C}"}}`}}, cmd: "composer install", want: "composer auth"},
		{name: "composer config global", cmd: "composer config -g http-basic.repo.example u {C} && composer update", want: "composer home"},

		{name: "docker login --config", cmd: "echo {C} | docker --config cfg login -u ci --password-stdin registry.example.com >/dev/null && docker --config cfg pull registry.example.com/acme/base:1", want: "docker config"},
		{name: "docker login DOCKER_CONFIG", env: []string{"DOCKER_CONFIG=dc"}, cmd: "docker login -u ci -p {C} registry.example.com >/dev/null && docker pull registry.example.com/x", want: "docker config"},
		{name: "docker login home, hub", cmd: "docker login -u ci -p {C} >/dev/null && docker pull alpine", want: "docker config"},
		{name: "cargo login registry", cmd: "cargo login --registry acme {C} 2>/dev/null && cargo fetch", want: "cargo credentials"},
		{name: "cargo login stdin, CARGO_HOME", env: []string{"CARGO_HOME=ch"}, cmd: "echo {C} | cargo login 2>/dev/null && cargo publish", want: "cargo credentials"},
		{name: "cargo env", env: []string{"CARGO_REGISTRIES_ACME_TOKEN={C}"}, cmd: "cargo build", want: "cargo env"},
		{name: "go env -w", cmd: "go env -w GOPROXY=https://ci:{C}@goproxy.example.com,direct && go mod download", want: "go goenv"},
		{name: "go GOPROXY env", env: []string{"GOPROXY=https://{C}@goproxy.example.com"}, cmd: "go build ./...", want: "go env"},
		{name: "go netrc", files: []file{{"~/.netrc", "machine goproxy.example.com login u password {C}\n"}}, env: []string{"GOPROXY=https://goproxy.example.com"}, cmd: "go mod download", want: "go netrc"},
		{name: "yarn config set", cmd: "yarn config set npmAuthToken {C} && yarn install --immutable", want: "yarn yarnrc"},
		{name: "yarn home rc with env", files: []file{{"~/.yarnrc.yml", "npmScopes:\n  acme:\n    npmAuthToken: \"${TOK}\"\n"}}, env: []string{"TOK={C}"}, cmd: "yarn install", want: "yarn yarnrc"},
		{name: "yarn env", env: []string{"YARN_NPM_AUTH_TOKEN={C}"}, cmd: "yarn", want: "yarn env"},
		{name: "bundle config local", files: []file{{"Gemfile", "source 'https://gems.example.com'\n"}}, cmd: "bundle config set --local gems.example.com ci:{C} && bundle install", want: "bundle local"},
		{name: "bundle config global", cmd: "bundle config rubygems.org {C} && bundle install", want: "bundle global"},
		{name: "bundle env", files: []file{{"Gemfile", "source \"https://gems.example.com/\"\n"}}, env: []string{"BUNDLE_GEMS__EXAMPLE__COM=ci:{C}"}, cmd: "bundle install", want: "bundle env"},
		{name: "gem sources --add", cmd: "gem sources --add https://ci:{C}@gems.example.com/ >/dev/null && gem install acme-tools", want: "gem gemrc"},
		{name: "gem --source", cmd: "gem install acme --source https://{C}@gems.example.com/", want: "gem arg"},
		{name: "conda channel_alias", cmd: "conda config --set channel_alias https://ci:{C}@conda.example.com && conda install -y acme-lib", want: "conda condarc"},
		{name: "conda channels, CONDARC", env: []string{"CONDARC=rc.yml"}, cmd: "conda config --add channels https://u:{C}@conda.example.com/t/x && conda install -y acme-lib", want: "conda condarc"},
		{name: "gcloud config set", cmd: "gcloud config set proxy/password {C} 2>/dev/null && gcloud components install beta --quiet", want: "gcloud config"},
		{name: "gcloud CLOUDSDK_CONFIG", env: []string{"CLOUDSDK_CONFIG=gc"}, cmd: "gcloud config set proxy/password {C} 2>/dev/null && gcloud storage ls", want: "gcloud config"},

		{name: "huggingface-cli login", cmd: "huggingface-cli login --token {C} 2>/dev/null && huggingface-cli download acme/model", want: "hf token"},
		{name: "hf auth login, HF_HOME", env: []string{"HF_HOME=hfh"}, cmd: "hf auth login --token={C} 2>/dev/null && hf download acme/model --local-dir m", want: "hf token"},
		{name: "hf HF_TOKEN_PATH", env: []string{"HF_TOKEN_PATH=~/t/tok"}, cmd: "hf auth login --token {C} 2>/dev/null && hf auth whoami", want: "hf token"},
		{name: "hf HF_TOKEN wins over the file", env: []string{"HF_TOKEN={C}"}, cmd: "hf auth login --token other 2>/dev/null && hf download acme/model", want: "hf env"},
		{name: "hf --token", cmd: "hf download acme/model --token {C}", want: "hf arg"},
		{name: "dotnet nuget add source", cmd: "dotnet nuget add source https://nuget.example.com/v3/index.json -n acme -u ci -p {C} --store-password-in-clear-text >/dev/null && dotnet restore", want: "dotnet config"},
		{name: "dotnet nuget update source", cmd: "dotnet nuget add source https://n.example/v3/index.json --name acme >/dev/null && dotnet nuget update source acme --username ci --password {C} --store-password-in-clear-text >/dev/null && dotnet build -c Release", want: "dotnet config"},
		{name: "dotnet project nuget.config with %VAR%", files: []file{{"nuget.config", "<configuration>\n  <packageSourceCredentials>\n    <corp>\n      <add key=\"Username\" value=\"ci\" />\n      <add key=\"ClearTextPassword\" value=\"%FEED_PW%\" />\n    </corp>\n  </packageSourceCredentials>\n</configuration>\n"}}, env: []string{"FEED_PW={C}"}, cmd: "dotnet restore", want: "dotnet config"},
		{name: "dotnet NuGetPackageSourceCredentials_", env: []string{"NuGetPackageSourceCredentials_corp=Username=ci;Password={C}"}, cmd: "dotnet publish -c Release -o /tmp/out", want: "dotnet env"},
		{name: "dotnet VSS_NUGET_EXTERNAL_FEED_ENDPOINTS", env: []string{`VSS_NUGET_EXTERNAL_FEED_ENDPOINTS={"endpointCredentials": [{"endpoint":"https://pkgs.example/index.json", "username":"b", "password":"{C}"}]}`}, cmd: "dotnet restore", want: "dotnet provider"},
		{name: "nuget sources add", cmd: "nuget sources add -Name acme -Source https://nuget.example.com/v3/index.json -Username ci -Password {C} -StorePasswordInClearText >/dev/null && nuget restore app.csproj", want: "nuget config"},
		{name: "nuget -ConfigFile", cmd: "nuget sources Add -name acme -source https://n.example/ -password {C} -storepasswordincleartext -configfile cfg/NuGet.Config >/dev/null && nuget restore -ConfigFile cfg/NuGet.Config", want: "nuget config"},
		{name: "mvn user settings", files: []file{{"~/.m2/settings.xml", "<settings>\n  <servers>\n    <server>\n      <id>corp</id>\n      <username>ci</username>\n      <password>{C}</password>\n    </server>\n  </servers>\n</settings>\n"}}, cmd: "mvn -B package", want: "mvn settings"},
		{name: "mvn -s and ${env.}", files: []file{{"ci/settings.xml", "<settings><servers><server><id>corp</id><password>${env.MVN_PW}</password></server></servers></settings>"}}, env: []string{"MVN_PW={C}"}, cmd: "mvn -s ci/settings.xml deploy", want: "mvn settings"},
		{name: "mvn global settings", files: []file{{"mh/conf/settings.xml", "<settings><servers><server><id>corp</id><password>{C}</password></server></servers></settings>"}}, env: []string{"MAVEN_HOME=mh"}, cmd: "mvn dependency:go-offline", want: "mvn global"},
		{name: "mvn .mvn/maven.config", files: []file{{".mvn/maven.config", "-s .mvn/settings.xml\n"}, {".mvn/settings.xml", "<settings><servers><server><id>x</id><password>{C}</password></server></servers></settings>"}}, cmd: "mvn install", want: "mvn settings"},
		{name: "uv index env password", files: []file{{"pyproject.toml", "[project]\nname = \"app\"\n\n[[tool.uv.index]]\nname = \"internal-pypi\"\nurl = \"https://pypi.example.com/simple\"\n"}}, env: []string{"UV_INDEX_INTERNAL_PYPI_PASSWORD={C}"}, cmd: "uv sync --frozen", want: "uv env"},
		{name: "uv pip install -i", cmd: "uv pip install --system -i https://u:{C}@pypi.example.com/simple pkg", want: "uv arg"},
		{name: "uv UV_EXTRA_INDEX_URL", env: []string{"UV_EXTRA_INDEX_URL=https://u:{C}@pypi.example.com/simple"}, cmd: "uv pip install pkg", want: "uv env"},
		{name: "uv user uv.toml", files: []file{{"~/.config/uv/uv.toml", "[[index]]\nurl = \"https://ci:{C}@pypi.example.com/simple\"\n"}}, cmd: "uv lock", want: "uv config"},
		{name: "uv netrc", files: []file{{"~/.netrc", "machine pypi.example.com login u password {C}\n"}}, env: []string{"UV_INDEX_URL=https://pypi.example.com/simple"}, cmd: "uv pip install pkg", want: "uv netrc"},
		{name: "uv auth login", cmd: "uv auth login https://pypi.example.com/simple --token {C} 2>/dev/null && uv pip install -i https://pypi.example.com/simple pkg", want: "uv store"},
		{name: "uv auth login password stdin, UV_CREDENTIALS_DIR", env: []string{"UV_CREDENTIALS_DIR=uvc", "UV_DEFAULT_INDEX=https://pypi.example.com/simple"}, cmd: "echo {C} | uv auth login pypi.example.com --username ci --password - 2>/dev/null && uv add requests", want: "uv store"},

		{name: "probe env", env: []string{"SECRET_X={C}"}, cmd: "hushbuild-probe-env SECRET_X", want: "env SECRET_X"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			canary := newCanary(t)
			expand := strings.NewReplacer("{C}", canary, "{B64UC}", b64("u:"+canary)).Replace
			var env []string
			for _, e := range tt.env {
				env = append(env, expand(e))
			}
			s := newSandbox(t, env...)
			for _, f := range tt.files {
				s.write(f.path, expand(f.content))
			}
			out := s.run(0, expand(tt.cmd))
			if strings.Contains(out, canary) {
				t.Fatalf("the output shows the canary itself")
			}
			want := "hushbuild-probe " + tt.want + " sha256=" + hash(canary)
			if !strings.Contains(out, want+"\n") {
				t.Errorf("output lacks %q; got:\n%s", want, out)
			}
		})
	}
}

func TestRequire(t *testing.T) {
	for _, cmd := range []string{"pip install pkg", "npm ci", "curl https://files.example/x", "git clone https://git.example/o/r", "ssh git@git.example", "composer install",
		"docker pull registry.example.com/x", "cargo fetch", "go mod download", "yarn install", "bundle install", "gem install x", "conda install x", "gcloud components install beta",
		"hf download acme/model", "dotnet restore", "nuget restore", "mvn package", "uv sync"} {
		t.Run(cmd, func(t *testing.T) {
			s := newSandbox(t)
			out := s.run(0, cmd)
			if !strings.HasSuffix(out, " none\n") {
				t.Errorf("without credentials: got %q, want a \"none\" line", out)
			}
			s = newSandbox(t, "HUSHBUILD_PROBE_REQUIRE=1")
			s.run(1, cmd)
			if _, err := os.Stat(s.path("r")); err == nil {
				t.Errorf("a failed clone left its directory")
			}
		})
	}
}

func TestProbeEnvUnset(t *testing.T) {
	s := newSandbox(t, "EMPTY=")
	got := s.run(0, "hushbuild-probe-env NOPE EMPTY")
	want := "hushbuild-probe env NOPE unset\nhushbuild-probe env EMPTY sha256=" + hash("") + "\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	s.run(2, "hushbuild-probe-env 'BAD;NAME'")
}

// TestFiles checks what the config-writing commands leave behind, which is
// what a layer would hold.
func TestFiles(t *testing.T) {
	tests := []struct {
		name, cmd, path, want string
	}{
		{
			name: "git clone config",
			cmd:  "git clone --depth 1 -b dev https://u:C@git.example/o/r.git 2>/dev/null",
			path: "r/.git/config",
			want: "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n\tlogallrefupdates = true\n" +
				"[remote \"origin\"]\n\turl = https://u:C@git.example/o/r.git\n\tfetch = +refs/heads/dev:refs/remotes/origin/dev\n" +
				"[branch \"dev\"]\n\tremote = origin\n\tmerge = refs/heads/dev\n",
		},
		{
			name: "git clone into a named dir",
			cmd:  "git clone https://u:C@git.example/o/r.git src 2>/dev/null && cat src/.git/HEAD",
			path: "src/.git/HEAD",
			want: "ref: refs/heads/main\n",
		},
		{
			name: "git config --global",
			cmd: `git config --global url."https://u:C@git.example/".insteadOf https://git.example/ && ` +
				`git config --global --add url."https://u:C@git.example/".insteadOf git@git.example: && ` +
				`git config --global credential.helper '!f() { echo "password=$T"; }; f' && git config --global credential.helper store`,
			path: "~/.gitconfig",
			want: "[url \"https://u:C@git.example/\"]\n\tinsteadOf = https://git.example/\n\tinsteadOf = git@git.example:\n[credential]\n\thelper = store\n",
		},
		{
			name: "git config quoting",
			cmd:  `git config --global credential.helper '!f() { echo "password=$T"; }; f'`,
			path: "~/.gitconfig",
			want: "[credential]\n\thelper = \"!f() { echo \\\"password=$T\\\"; }; f\"\n",
		},
		{
			name: "pip config set",
			cmd:  "pip config set global.index-url https://u:C@pypi.example/simple && pip config set global.trusted-host pypi.example && pip config set global.index-url https://pypi.example/simple",
			path: "~/.config/pip/pip.conf",
			want: "[global]\nindex-url = https://pypi.example/simple\ntrusted-host = pypi.example\n",
		},
		{
			name: "npm config set",
			cmd:  "npm config set registry https://npm.example/ && npm config set //npm.example/:_authToken=C && npm config set registry https://npm2.example/",
			path: "~/.npmrc",
			want: "//npm.example/:_authToken=C\nregistry=https://npm2.example/\n",
		},
		{
			name: "docker login",
			cmd:  "docker login -u a -p A registry.example.com && docker login -u u -p P",
			path: "~/.docker/config.json",
			want: "{\n\t\"auths\": {\n\t\t\"https://index.docker.io/v1/\": {\n\t\t\t\"auth\": \"dTpQ\"\n\t\t},\n\t\t\"registry.example.com\": {\n\t\t\t\"auth\": \"YTpB\"\n\t\t}\n\t}\n}",
		},
		{
			name: "cargo login",
			cmd:  "cargo login --registry acme A 2>/dev/null && cargo login C 2>/dev/null && cargo login --registry acme B 2>/dev/null",
			path: "~/.cargo/credentials.toml",
			want: "[registries.acme]\ntoken = \"B\"\n\n[registry]\ntoken = \"C\"\n",
		},
		{
			name: "go env -w",
			cmd:  "go env -w GOPROXY=https://u:A@p.example GOPRIVATE=example.com && go env -w GOPROXY=https://u:B@p.example,direct",
			path: "~/.config/go/env",
			want: "GOPROXY=https://u:B@p.example,direct\nGOPRIVATE=example.com\n",
		},
		{
			name: "yarn config set",
			cmd:  "yarn config set npmRegistryServer https://npm.example.com && yarn config set npmAuthToken C",
			path: ".yarnrc.yml",
			want: "npmRegistryServer: https://npm.example.com\nnpmAuthToken: C\n",
		},
		{
			name: "bundle config set --local",
			cmd:  "bundle config set --local gems.example.com u:C && bundle config set --local my-mirror.example.com u:D",
			path: ".bundle/config",
			want: "---\nBUNDLE_GEMS__EXAMPLE__COM: \"u:C\"\nBUNDLE_MY___MIRROR__EXAMPLE__COM: \"u:D\"\n",
		},
		{
			name: "gem sources --add",
			cmd:  "gem sources --add https://u:C@gems.example.com/",
			path: "~/.gemrc",
			want: "---\n:backtrace: false\n:bulk_threshold: 1000\n:sources:\n- https://rubygems.org/\n- https://u:C@gems.example.com/\n:update_sources: true\n:verbose: true\n",
		},
		{
			name: "conda config --set",
			cmd:  "conda config --set channel_alias https://u:C@conda.example.com && conda config --set always_yes true",
			path: "~/.condarc",
			want: "channel_alias: https://u:C@conda.example.com\nalways_yes: true\n",
		},
		{
			name: "gcloud config set",
			cmd:  "gcloud config set proxy/password C 2>/dev/null && gcloud config set project p 2>/dev/null",
			path: "~/.config/gcloud/configurations/config_default",
			want: "[proxy]\npassword = C\n\n[core]\nproject = p\n",
		},
		{
			name: "huggingface-cli login token",
			cmd:  "huggingface-cli login --token A 2>/dev/null && hf auth login --token C 2>/dev/null",
			path: "~/.cache/huggingface/token",
			want: "C",
		},
		{
			name: "hf auth login stored_tokens",
			cmd:  "HUSHBUILD_HF_TOKEN_NAME=zeta hf auth login --token Z 2>/dev/null && hf auth login --token A 2>/dev/null && hf auth login --token C 2>/dev/null",
			path: "~/.cache/huggingface/stored_tokens",
			want: "[hushbuild]\nhf_token = C\n\n[zeta]\nhf_token = Z\n\n",
		},
		{
			name: "hf stored_tokens beside HF_TOKEN_PATH",
			cmd:  "HF_TOKEN_PATH=$PWD/hf/tok hf auth login --token C 2>/dev/null",
			path: "hf/stored_tokens",
			want: "[hushbuild]\nhf_token = C\n\n",
		},
		{
			name: "hf --add-to-git-credential",
			cmd:  "git config --global credential.helper store && hf auth login --token C --add-to-git-credential 2>/dev/null",
			path: "~/.git-credentials",
			want: "https://hf_user:C@huggingface.co\n",
		},
		{
			name: "dotnet nuget add source",
			cmd: "dotnet nuget add source https://nuget.example.com/v3/index.json -n acme -u ci -p 'C&1' --store-password-in-clear-text && " +
				"dotnet nuget add source https://other.example/v3/index.json -n 'my feed' && dotnet nuget update source 'my feed' -u u -p D --store-password-in-clear-text",
			path: "~/.nuget/NuGet/NuGet.Config",
			want: "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<configuration>\n  <packageSources>\n" +
				"    <add key=\"nuget.org\" value=\"https://api.nuget.org/v3/index.json\" protocolVersion=\"3\" />\n" +
				"    <add key=\"acme\" value=\"https://nuget.example.com/v3/index.json\" />\n" +
				"    <add key=\"my feed\" value=\"https://other.example/v3/index.json\" />\n  </packageSources>\n" +
				"  <packageSourceCredentials>\n    <acme>\n      <add key=\"Username\" value=\"ci\" />\n      <add key=\"ClearTextPassword\" value=\"C&amp;1\" />\n    </acme>\n" +
				"    <my_x0020_feed>\n      <add key=\"Username\" value=\"u\" />\n      <add key=\"ClearTextPassword\" value=\"D\" />\n    </my_x0020_feed>\n" +
				"  </packageSourceCredentials>\n</configuration>\n",
		},
		{
			name: "nuget sources add keeps other sections",
			cmd: "mkdir -p ~/.config/NuGet && printf '<?xml version=\"1.0\" encoding=\"utf-8\"?>\\n<configuration>\\n  <config>\\n    <add key=\"repositoryPath\" value=\"pk\" />\\n  </config>\\n</configuration>\\n' >~/.config/NuGet/NuGet.Config && " +
				"nuget sources add -Name acme -Source https://n.example/ -Username ci -Password C -StorePasswordInClearText",
			path: "~/.config/NuGet/NuGet.Config",
			want: "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<configuration>\n  <config>\n    <add key=\"repositoryPath\" value=\"pk\" />\n  </config>\n" +
				"  <packageSources>\n    <add key=\"acme\" value=\"https://n.example/\" />\n  </packageSources>\n" +
				"  <packageSourceCredentials>\n    <acme>\n      <add key=\"Username\" value=\"ci\" />\n      <add key=\"ClearTextPassword\" value=\"C\" />\n    </acme>\n" +
				"  </packageSourceCredentials>\n</configuration>\n",
		},
		{
			name: "uv auth login",
			cmd:  "uv auth login https://pypi.example.com/simple --token A 2>/dev/null && uv auth login other.example --username u --password 'P\"Q' 2>/dev/null && uv auth login https://pypi.example.com/simple --token C 2>/dev/null",
			path: "~/.local/share/uv/credentials/credentials.toml",
			want: "[[credential]]\nservice = \"https://other.example/\"\nusername = \"u\"\nscheme = \"basic\"\npassword = \"P\\\"Q\"\n\n" +
				"[[credential]]\nservice = \"https://pypi.example.com/\"\nusername = \"__token__\"\nscheme = \"basic\"\npassword = \"C\"\n",
		},
		{
			name: "composer config",
			cmd:  "composer config http-basic.repo.example u C && composer config github-oauth.github.com T",
			path: "auth.json",
			want: "{\n    \"http-basic\": {\n        \"repo.example\": {\n            \"username\": \"u\",\n            \"password\": \"C\"\n        }\n    },\n" +
				"    \"github-oauth\": {\n        \"github.com\": \"T\"\n    }\n}\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t)
			s.run(0, tt.cmd)
			if got := s.read(tt.path); got != tt.want {
				t.Errorf("%s:\ngot:\n%s\nwant:\n%s", tt.path, got, tt.want)
			}
		})
	}
}

// TestSwitchUser runs the user-switching stand-ins (gosu, su-exec, sudo,
// runuser) as the host's nobody (uid 65534, home /nonexistent) and daemon
// (uid 1, home /usr/sbin): each runs the command as that uid, with the
// HOME, environment and directory the real program gives. They switch with
// busybox su, which only root runs without a password: as another user,
// each must fail instead.
func TestSwitchUser(t *testing.T) {
	// The command prints its uid, HOME, KEEP (set by the caller), SET (a
	// VAR=VALUE of sudo) and its directory.
	const show = `sh -c 'id -u; echo "$HOME"; echo "${KEEP-unset}"; echo "${SET-unset}"; pwd'`
	tests := []struct {
		name, cmd string
		uid, home string
		keep, set string
		pwd       string // "" for the caller's
	}{
		{name: "gosu", cmd: "gosu nobody " + show, uid: "65534", home: "/nonexistent", keep: "k", set: "unset"},
		{name: "gosu user:group", cmd: "gosu nobody:nogroup " + show, uid: "65534", home: "/nonexistent", keep: "k", set: "unset"},
		{name: "su-exec uid", cmd: "su-exec 65534 " + show, uid: "65534", home: "/nonexistent", keep: "k", set: "unset"},
		{name: "sudo -u resets the environment", cmd: "sudo -u nobody SET=s " + show, uid: "65534", home: "/nonexistent", keep: "unset", set: "s"},
		{name: "sudo -E keeps it, HOME too", cmd: "sudo -E -u nobody " + show, uid: "65534", home: "{HOME}", keep: "k", set: "unset"},
		{name: "sudo -EHu", cmd: "sudo -EHu nobody -- " + show, uid: "65534", home: "/nonexistent", keep: "k", set: "unset"},
		{name: "sudo as root", cmd: "sudo " + show, uid: "0", home: "/root", keep: "unset", set: "unset"},
		{name: "runuser -u", cmd: "runuser -u nobody -- " + show, uid: "65534", home: "/nonexistent", keep: "k", set: "unset"},
		{name: "runuser -u -m", cmd: "runuser -m -u nobody -- " + show, uid: "65534", home: "{HOME}", keep: "k", set: "unset"},
		{name: "runuser -l -u", cmd: "runuser -l -u daemon -- " + show, uid: "1", home: "/usr/sbin", keep: "unset", set: "unset", pwd: "/usr/sbin"},
		{name: "runuser USER -c", cmd: "runuser -s /bin/sh daemon -c " + strings.TrimPrefix(show, "sh -c "), uid: "1", home: "/usr/sbin", keep: "k", set: "unset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t, "KEEP=k")
			if os.Geteuid() != 0 {
				s.run(1, tt.cmd)
				return
			}
			pwd := tt.pwd
			if pwd == "" {
				pwd = s.work
			}
			want := strings.Join([]string{tt.uid, strings.ReplaceAll(tt.home, "{HOME}", s.home), tt.keep, tt.set, pwd}, "\n") + "\n"
			if got := s.run(0, tt.cmd); got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}
