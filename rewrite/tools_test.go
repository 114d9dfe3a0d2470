package rewrite

import (
	"strings"
	"testing"
)

// TestToolWrites: each row of the tools table, and its flags and
// environment overrides, sends a write of a secret to the file the tool
// really writes, saved and restored around each RUN (also: the other
// files it may write, by version), or refuses when it cannot follow it;
// clones lose their credentials to an insteadOf rule.
func TestToolWrites(t *testing.T) {
	const arg = "FROM node:20\nARG TOKEN\n"
	const wd = "FROM node:20\nARG TOKEN\nWORKDIR /app\n"
	for _, tt := range []struct {
		name, src string
		file      string   // the SecretWrittenToFile path, "" for none
		also      []string // other files saved and restored
		clone     string   // part of the clone finding
		refused   string   // part of a CannotRewrite message
	}{
		{name: "npm set", src: arg + `RUN npm set //registry.npmjs.org/:_authToken=$TOKEN`, file: "/root/.npmrc"},
		{name: "npm config set", src: arg + `RUN npm config set //registry.npmjs.org/:_authToken $TOKEN`, file: "/root/.npmrc"},
		{name: "npm config set -g", src: arg + `RUN npm config set -g //registry.npmjs.org/:_authToken $TOKEN`, file: "/usr/local/etc/npmrc", also: []string{"/etc/npmrc"}},
		{name: "npm config set --location=global", src: arg + `RUN npm config set --location=global //r/:_authToken=$TOKEN`, file: "/usr/local/etc/npmrc"},
		{name: "npm global prefix env", src: arg + "ENV NPM_CONFIG_PREFIX=/opt/npm\nRUN npm config set --global //r/:_authToken=$TOKEN", file: "/opt/npm/etc/npmrc"},
		{name: "npm project", src: wd + `RUN npm config set --location=project //r/:_authToken=$TOKEN`, file: "/app/.npmrc"},
		{name: "npm userconfig flag", src: arg + `RUN npm config set --userconfig /tmp/rc //r/:_authToken=$TOKEN`, file: "/tmp/rc"},
		{name: "npm userconfig env", src: arg + "ENV NPM_CONFIG_USERCONFIG=/etc/npm-user\nRUN npm set //r/:_authToken=$TOKEN", file: "/etc/npm-user"},
		{name: "npm userconfig assignment", src: arg + `RUN NPM_CONFIG_USERCONFIG=/x/rc npm set //r/:_authToken=$TOKEN`, file: "/x/rc"},
		{name: "pnpm", src: arg + `RUN pnpm config set //r/:_authToken $TOKEN`, file: "/root/.npmrc", also: []string{"/root/.config/pnpm/rc"}},
		{name: "npm login", src: arg + `RUN echo "$TOKEN" | npm login --registry https://r/`, file: "/root/.npmrc"},
		{name: "yarn", src: wd + `RUN yarn config set npmAuthToken $TOKEN`, file: "/root/.yarnrc", also: []string{"/app/.yarnrc.yml"}},
		{name: "yarn -H", src: wd + `RUN yarn config set -H npmAuthToken $TOKEN`, file: "/root/.yarnrc.yml", also: []string{"/root/.yarnrc"}},
		{name: "composer project", src: wd + `RUN composer config github-oauth.github.com $TOKEN`, file: "/app/auth.json"},
		{name: "composer project http-basic", src: wd + `RUN composer config http-basic.repo.example.com ci $TOKEN`, file: "/app/auth.json"},
		{name: "composer -g", src: wd + `RUN composer config -g github-oauth.github.com $TOKEN`, file: "/root/.config/composer/auth.json", also: []string{"/root/.composer/auth.json"}},
		{name: "composer -g COMPOSER_HOME", src: wd + "ENV COMPOSER_HOME=/tmp/c\nRUN composer config --global github-oauth.github.com $TOKEN", file: "/tmp/c/auth.json"},
		{name: "composer other key", src: wd + `RUN composer config repositories.acme vcs https://ci:$TOKEN@git.example.com/acme.git`, refused: "composer.json"},
		{name: "go env -w", src: arg + `RUN go env -w GOPROXY=https://u:$TOKEN@proxy.example.com`, file: "/root/.config/go/env"},
		{name: "go env -w GOENV", src: arg + "ENV GOENV=/etc/goenv\nRUN go env -w GOPROXY=https://u:$TOKEN@proxy.example.com", file: "/etc/goenv"},
		{name: "go env read", src: arg + `RUN go env GOPATH && echo $TOKEN >/dev/null`},
		{name: "huggingface-cli login", src: arg + `RUN huggingface-cli login --token $TOKEN`, file: "/root/.cache/huggingface/token", also: []string{"/root/.cache/huggingface/stored_tokens"}},
		{name: "huggingface HF_HOME", src: arg + "ENV HF_HOME=/hf\nRUN huggingface-cli login --token $TOKEN", file: "/hf/token", also: []string{"/hf/stored_tokens"}},
		{name: "hf auth login", src: arg + `RUN hf auth login --token "$TOKEN"`, file: "/root/.cache/huggingface/token"},
		// stored_tokens is beside the token file, wherever HF_TOKEN_PATH
		// puts it; ~/.git-credentials is not moved by it.
		{name: "hf HF_TOKEN_PATH", src: arg + "ENV HF_TOKEN_PATH=/etc/hf/token\nRUN hf auth login --token \"$TOKEN\" --add-to-git-credential", file: "/etc/hf/token", also: []string{"/etc/hf/stored_tokens", "/root/.git-credentials"}},
		{name: "huggingface-cli HF_TOKEN_PATH assignment", src: arg + "RUN HF_TOKEN_PATH=/tmp/t/hf huggingface-cli login --token $TOKEN", file: "/tmp/t/hf", also: []string{"/tmp/t/stored_tokens"}},
		{name: "uv auth login", src: arg + `RUN uv auth login https://pypi.example.com/simple --token "$TOKEN"`, file: "/root/.local/share/uv/credentials/credentials.toml"},
		{name: "uv auth login stdin, UV_CREDENTIALS_DIR", src: arg + "ENV UV_CREDENTIALS_DIR=/etc/uv-creds\nRUN echo \"$TOKEN\" | uv auth login pypi.example.com --username ci --password -", file: "/etc/uv-creds/credentials.toml"},
		{name: "uv auth login XDG_DATA_HOME", src: arg + "ENV XDG_DATA_HOME=/data\nRUN uv auth login pypi.example.com -u ci --password \"$TOKEN\"", file: "/data/uv/credentials/credentials.toml"},
		{name: "cargo login", src: arg + `RUN cargo login $TOKEN`, file: "/root/.cargo/credentials.toml", also: []string{"/root/.cargo/credentials"}},
		{name: "cargo login stdin", src: arg + `RUN echo $TOKEN | cargo login --registry acme`, file: "/root/.cargo/credentials.toml"},
		{name: "cargo CARGO_HOME", src: arg + "ENV CARGO_HOME=/usr/local/cargo\nRUN cargo login $TOKEN", file: "/usr/local/cargo/credentials.toml"},
		{name: "bundle config set", src: wd + `RUN bundle config set gems.example.com ci:$TOKEN`, file: "/root/.bundle/config", also: []string{"/app/.bundle/config"}},
		{name: "bundle config --local", src: wd + `RUN bundle config set --local gems.example.com ci:$TOKEN`, file: "/app/.bundle/config"},
		{name: "bundle config legacy", src: wd + `RUN bundle config gems.example.com ci:$TOKEN`, file: "/root/.bundle/config"},
		{name: "gem sources --add", src: arg + `RUN gem sources --add https://ci:$TOKEN@gems.example.com/`, file: "/root/.gemrc"},
		{name: "gem sources -a", src: arg + `RUN gem sources -a https://ci:$TOKEN@gems.example.com/`, file: "/root/.gemrc"},
		{name: "gem signin", src: arg + `RUN printf '%s\n' ci@example.com "$TOKEN" | gem signin --host https://gems.example.com`, file: "/root/.gem/credentials", also: []string{"/root/.local/share/gem/credentials"}},
		{name: "python -m pip config set", src: arg + `RUN python -m pip config set global.index-url https://u:$TOKEN@pypi.example.com/simple`, file: "/root/.config/pip/pip.conf"},
		{name: "python3 -m pip config --global", src: arg + `RUN python3 -m pip config --global set global.index-url https://u:$TOKEN@pypi.example.com/simple`, file: "/etc/pip.conf"},
		{name: "pip config --site", src: arg + `RUN pip config --site set global.index-url https://u:$TOKEN@pypi.example.com/simple`, refused: "active environment"},
		{name: "poetry --local", src: wd + `RUN poetry config --local http-basic.acme ci $TOKEN`, file: "/app/poetry.toml"},
		{name: "nuget sources add", src: arg + `RUN nuget sources add -Name acme -Source https://nuget.example.com -Username u -Password $TOKEN`, file: "/root/.config/NuGet/NuGet.Config", also: []string{"/root/.nuget/NuGet/NuGet.Config"}},
		{name: "nuget XDG_CONFIG_HOME", src: arg + "ENV XDG_CONFIG_HOME=/cfg\nRUN nuget sources add -Name acme -Source https://n/ -Password $TOKEN -StorePasswordInClearText", file: "/cfg/NuGet/NuGet.Config", also: []string{"/root/.nuget/NuGet/NuGet.Config"}},
		{name: "nuget -ConfigFile", src: wd + `RUN nuget sources add -Name acme -Source https://n/ -Password $TOKEN -ConfigFile nuget.config`, file: "/app/nuget.config"},
		{name: "dotnet nuget add source", src: arg + `RUN dotnet nuget add source https://n/ -n acme -u u -p $TOKEN --store-password-in-clear-text`, file: "/root/.nuget/NuGet/NuGet.Config"},
		{name: "conda config --set", src: arg + `RUN conda config --set channel_alias https://u:$TOKEN@conda.example.com`, file: "/root/.condarc"},
		{name: "conda config --add", src: arg + `RUN conda config --add channels https://u:$TOKEN@conda.example.com/acme`, file: "/root/.condarc"},
		{name: "conda CONDARC", src: arg + "ENV CONDARC=/opt/conda/.condarc\nRUN conda config --set channel_alias https://u:$TOKEN@c", file: "/opt/conda/.condarc"},
		{name: "conda --system", src: arg + `RUN conda config --system --set channel_alias https://u:$TOKEN@c`, refused: "conda installation"},
		{name: "docker login", src: arg + `RUN echo $TOKEN | docker login -u ci --password-stdin reg.example.com`, file: "/root/.docker/config.json"},
		{name: "docker --config DIR login", src: arg + `RUN echo $TOKEN | docker --config /tmp/dc login -u ci --password-stdin reg.example.com`, file: "/tmp/dc/config.json"},
		{name: "docker DOCKER_CONFIG", src: arg + "ENV DOCKER_CONFIG=/etc/docker-cli\nRUN echo $TOKEN | docker login -u ci --password-stdin r", file: "/etc/docker-cli/config.json"},
		{name: "helm registry login", src: arg + `RUN helm registry login reg.example.com -u ci -p $TOKEN`, file: "/root/.config/helm/registry/config.json"},
		{name: "helm repo add", src: arg + `RUN helm repo add acme https://charts.example.com --username ci --password $TOKEN`, file: "/root/.config/helm/repositories.yaml"},
		{name: "aws configure set", src: arg + `RUN aws configure set aws_secret_access_key $TOKEN`, file: "/root/.aws/credentials", also: []string{"/root/.aws/config"}},
		{name: "gcloud config set", src: arg + `RUN gcloud config set proxy/password $TOKEN`, file: "/root/.config/gcloud/configurations/config_default"},
		{name: "gcloud --installation", src: arg + `RUN gcloud config set --installation proxy/password $TOKEN`, refused: "installation"},
		{name: "gh auth login", src: arg + `RUN echo $TOKEN | gh auth login --with-token`, file: "/root/.config/gh/hosts.yml"},
		{name: "git credential approve", src: arg + `RUN printf 'protocol=https\nhost=h\nusername=u\npassword=%s\n' "$TOKEN" | git credential approve`, file: "/root/.git-credentials"},
		{name: "git clone", src: wd + `RUN git clone https://ci:$TOKEN@git.example.com/acme/lib.git`, clone: "git clone of a URL"},
		{name: "pip install -e git+", src: wd + `RUN pip install -e git+https://$TOKEN@github.com/acme/lib.git#egg=lib`, clone: "pip install -e of a URL"},
		{name: "pip install --editable=", src: wd + `RUN pip install --editable "git+https://ci:${TOKEN}@github.com/acme/lib.git#egg=lib"`, clone: "pip install -e of a URL"},
		{name: "pip install git+ without -e", src: wd + `RUN pip install git+https://$TOKEN@github.com/acme/lib.git`},
		{name: "npm install git+", src: wd + `RUN npm install git+https://$TOKEN@github.com/acme/lib.git`, clone: "npm install of a URL"},
		{name: "npm install tarball URL", src: wd + `RUN npm install https://ci:$TOKEN@npm.example.com/lib.tgz`, refused: "package.json"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Rewrite([]byte(tt.src+"\nRUN true\n"), Config{})
			if err != nil {
				t.Fatal(err)
			}
			var files, clones, refusals []string
			for _, f := range res.Findings {
				switch {
				case f.Rule == RuleSecretWrittenToFile.Name && strings.Contains(f.Message, "a command writes a secret into "):
					p := strings.TrimPrefix(f.Message, "a command writes a secret into ")
					files = append(files, p[:strings.Index(p, ",")])
				case f.Rule == RuleSecretWrittenToFile.Name:
					clones = append(clones, f.Message)
				case f.Rule == RuleCannotRewrite.Name:
					refusals = append(refusals, f.Message)
				}
			}
			switch {
			case tt.refused != "":
				if len(refusals) == 0 || !strings.Contains(strings.Join(refusals, "\n"), tt.refused) {
					t.Errorf("want a CannotRewrite naming %q, got %q", tt.refused, refusals)
				}
				return
			case len(refusals) > 0:
				t.Errorf("refused: %q", refusals)
			}
			if tt.file == "" && len(files) > 0 || tt.file != "" && (len(files) != 1 || files[0] != tt.file) {
				t.Errorf("SecretWrittenToFile files %q, want %q", files, tt.file)
			}
			out := string(res.Output)
			for _, a := range tt.also {
				if !strings.Contains(out, "if [ -e "+a+" ]; then cp -p "+a+" ") {
					t.Errorf("%s is not saved and restored:\n%s", a, out)
				}
			}
			if tt.file != "" && !strings.Contains(out, "rm -f "+tt.file+";") && !strings.Contains(out, "rm -f "+tt.file+"'") {
				t.Errorf("%s is not removed at the end of the RUN:\n%s", tt.file, out)
			}
			if tt.clone != "" {
				if len(clones) != 1 || !strings.Contains(clones[0], tt.clone) {
					t.Errorf("clone findings %q, want one with %q", clones, tt.clone)
				}
				_, cmd, _ := strings.Cut(out, "GIT_CONFIG_VALUE_0;")
				cmd, _, _ = strings.Cut(cmd, "\n")
				if !strings.Contains(out, `url."`) || strings.Contains(cmd, "TOKEN") {
					t.Errorf("the URL keeps its credentials (or the insteadOf rule is missing):\n%s", out)
				}
			} else if len(clones) > 0 {
				t.Errorf("unexpected findings %q", clones)
			}
		})
	}
}
