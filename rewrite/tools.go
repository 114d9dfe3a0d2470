package rewrite

import (
	"path"
	"slices"
	"sort"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// Tool knowledge as data.
//
// What the engine knows about build tools is this table: for each tool,
// the credential files it reads (a copy of one from the build context is a
// SecretFile), the commands that store a credential in a file (a login,
// a `config set`) with where that file is, globally or in the project,
// and the environment variables and flags that move it, and the commands
// that clone a URL (whose credentials would stay in the checkout). The
// code reads the table: a new tool is a new row.
//
// A location in the table is one of
//
//	~/REL       under the home directory of the RUN's user
//	./REL       in the directory the command runs in
//	/ABS        an absolute path
//	$VAR/REL    under the directory the environment variable VAR names
//	$VAR        the file VAR names
//	$VAR/../REL beside the file VAR names (path.Join cleans the "..")
//
// and a location may list alternatives, "$VAR/auth.json | ~/.config/x",
// the first that applies wins: a $VAR alternative applies when the stage
// (or the command's own assignments, VAR=... tool ...) sets VAR.

// tool is what the engine knows about one build tool.
type tool struct {
	Name string
	// Files are the credential files the tool reads, as context path
	// patterns (matchPathPatterns): a copy of one is a SecretFile, and
	// one that a broad copy of the context brought in is left out of the
	// image (nothing reads it at run time).
	Files []string
	// RuntimeFiles are credential files that the application may read at
	// run time too: a SecretFile, and SecretFileInImage when it stays.
	RuntimeFiles []string
	// BuildOnly are where the tool reads its configuration during a
	// build, and nothing else does (as context path patterns): a
	// credential file a COPY leaves there to the end of the image's stage
	// stays on mounts for the build and is left out of the image (a
	// warning) instead of failing as a run-time secret (SecretFileInImage).
	BuildOnly []string
	// Writes are its commands that store a credential in a file.
	Writes []toolWrite
	// Clones are its commands that clone a URL.
	Clones []toolClone
}

// toolWrite is a command that writes its arguments (or its standard
// input) into a configuration file.
type toolWrite struct {
	// Cmds are the command names (the base name of the first word).
	Cmds []string
	// Sub are the subcommands, each its words as the first positional
	// arguments ("config set"); any of them. "" matches any.
	Sub []string
	// Need are flags of which the command must have one (go env -w).
	Need []string
	// Keys limit the row to a first argument after Sub that starts with
	// one of them (composer's auth keys).
	Keys []string
	// Login rows apply only when the command carries a secret: without
	// one, a login stores nothing hushbuild would need to replay.
	Login bool
	// File is where it writes; Also are files it may write instead (by
	// version or by what exists), saved and restored with it. When the
	// environment moves File, only the Also files it moves too are saved;
	// Always are saved wherever File is (a file another tool writes).
	File   string
	Also   []string
	Always []string
	// Flags move the write elsewhere: the first flag present wins.
	Flags []toolFlag
	// FileFlags take the file written as value, DirFlags the directory
	// that holds File's base name (docker --config DIR).
	FileFlags, DirFlags []string
	// ValueFlags are the other flags that take the next word as value
	// (skipped when looking for the subcommand).
	ValueFlags []string
	// Refuse, when set, says why the write cannot be followed.
	Refuse string
}

// toolFlag is a flag that sends a write to other files, or (Refuse) to
// one hushbuild does not follow.
type toolFlag struct {
	Flags  []string
	File   string
	Also   []string
	Refuse string
}

// toolClone is a command that clones a URL given as an argument: the
// checkout (.git/config, package.json, a lock file) keeps the URL as
// given, credentials included. The rewrite takes them out of the URL and
// gives them to git as an insteadOf rule in its environment.
type toolClone struct {
	// What names the command and Keeps where it keeps the URL, for the
	// finding.
	What, Keeps string
	Cmds        []string
	Sub         []string
	// URLFlags take the URL as value (pip install -e URL); otherwise the
	// URL is a positional argument.
	URLFlags []string
	// Prefix is what a URL argument must start with to be cloned by git
	// (git+ for pip and npm); "" for any URL.
	Prefix string
	// First: only the first positional argument is the URL (git clone).
	First bool
	// ValueFlags take the next word as value.
	ValueFlags []string
	// Refuse is why a URL with credentials that git does not clone (a
	// tarball URL) cannot be rewritten.
	Refuse string
}

// tools is the table.
var tools = []tool{
	{
		Name:      "npm",
		Files:     []string{".npmrc"},
		BuildOnly: []string{".npmrc"},
		Writes: []toolWrite{
			// pnpm 9 writes its own rc file, earlier versions ~/.npmrc.
			{Cmds: []string{"pnpm"}, Sub: []string{"config set", "c set", "set"},
				File: "$NPM_CONFIG_USERCONFIG | $npm_config_userconfig | ~/.npmrc", Also: []string{"$XDG_CONFIG_HOME/pnpm/rc | ~/.config/pnpm/rc"},
				Flags: []toolFlag{
					{Flags: []string{"-g", "--global", "--location=global", "--location global", "-L global"},
						File: "$NPM_CONFIG_USERCONFIG | $npm_config_userconfig | ~/.npmrc", Also: []string{"$XDG_CONFIG_HOME/pnpm/rc | ~/.config/pnpm/rc"}},
					{Flags: []string{"--location=project", "--location project", "-L project"}, File: "./.npmrc"},
				},
				FileFlags: []string{"--userconfig"}, ValueFlags: []string{"--location", "-L", "--registry"}},
			{Cmds: []string{"npm"}, Sub: []string{"config set", "c set", "set"},
				File: "$NPM_CONFIG_USERCONFIG | $npm_config_userconfig | ~/.npmrc",
				Flags: []toolFlag{
					{Flags: []string{"-g", "--global", "--location=global", "--location global", "-L global"},
						File: "$NPM_CONFIG_GLOBALCONFIG | $npm_config_globalconfig | $NPM_CONFIG_PREFIX/etc/npmrc | $npm_config_prefix/etc/npmrc | /usr/local/etc/npmrc",
						Also: []string{"/usr/etc/npmrc", "/etc/npmrc"}},
					{Flags: []string{"--location=project", "--location project", "-L project"}, File: "./.npmrc"},
				},
				FileFlags: []string{"--userconfig"}, ValueFlags: []string{"--location", "-L", "--registry"}},
			{Cmds: []string{"npm"}, Sub: []string{"login", "adduser", "add-user"}, Login: true, File: "$NPM_CONFIG_USERCONFIG | $npm_config_userconfig | ~/.npmrc",
				FileFlags: []string{"--userconfig"}, ValueFlags: []string{"--registry", "--scope", "--auth-type"}},
		},
		Clones: []toolClone{
			{What: "npm install", Keeps: "in package.json and package-lock.json", Cmds: []string{"npm", "pnpm", "yarn"}, Sub: []string{"install", "i", "add", "update", "up"},
				Prefix: "git+", ValueFlags: []string{"--registry", "--prefix", "-C", "--tag"},
				Refuse: "npm saves the URL, credentials included, in package.json and package-lock.json"},
		},
	},
	{
		Name:      "yarn",
		Files:     []string{".yarnrc.yml", ".yarnrc"},
		BuildOnly: []string{".yarnrc.yml", ".yarnrc"},
		Writes: []toolWrite{
			// Yarn 1 writes ~/.yarnrc; Yarn 2+ the project's .yarnrc.yml
			// (~/.yarnrc.yml with -H).
			{Cmds: []string{"yarn"}, Sub: []string{"config set"}, File: "~/.yarnrc", Also: []string{"./.yarnrc.yml"},
				Flags: []toolFlag{{Flags: []string{"-H", "--home"}, File: "~/.yarnrc.yml", Also: []string{"~/.yarnrc"}}}},
		},
	},
	{
		Name:      "pip",
		Files:     []string{"pip.conf", ".pypirc"},
		BuildOnly: []string{"pip.conf", ".pypirc"},
		Writes: []toolWrite{
			{Cmds: []string{"pip", "pip3"}, Sub: []string{"config set"}, File: "$PIP_CONFIG_FILE | $XDG_CONFIG_HOME/pip/pip.conf | ~/.config/pip/pip.conf",
				Flags: []toolFlag{
					{Flags: []string{"--global"}, File: "/etc/pip.conf", Also: []string{"/etc/xdg/pip/pip.conf"}},
					{Flags: []string{"--site"}, Refuse: "it writes the configuration file of the active environment, which hushbuild does not track"},
				},
				ValueFlags: []string{"--editor"}},
		},
		Clones: []toolClone{
			// pip install -e git+URL leaves the checkout (src/NAME/.git/config)
			// with the URL; without -e pip clones into a directory it deletes.
			{What: "pip install -e", Keeps: "in the checkout's .git/config (src/NAME)", Cmds: []string{"pip", "pip3"}, Sub: []string{"install"}, URLFlags: []string{"-e", "--editable"}, Prefix: "git+"},
		},
	},
	{
		Name:      "poetry",
		Files:     []string{"pypoetry/auth.toml"},
		BuildOnly: []string{"pypoetry/auth.toml"},
		Writes: []toolWrite{
			{Cmds: []string{"poetry"}, Sub: []string{"config"}, File: "$POETRY_CONFIG_DIR/auth.toml | $XDG_CONFIG_HOME/pypoetry/auth.toml | ~/.config/pypoetry/auth.toml",
				Also:  []string{"$POETRY_CONFIG_DIR/config.toml | $XDG_CONFIG_HOME/pypoetry/config.toml | ~/.config/pypoetry/config.toml"},
				Flags: []toolFlag{{Flags: []string{"--local"}, File: "./poetry.toml"}}},
		},
	},
	{
		Name:  "composer",
		Files: []string{".composer/auth.json", "auth.json"},
		Writes: []toolWrite{
			// Auth keys go to auth.json: the project's without -g.
			{Cmds: []string{"composer"}, Sub: []string{"config"}, Keys: []string{"http-basic.", "github-oauth.", "gitlab-oauth.", "gitlab-token.", "bearer.", "bitbucket-oauth.", "forgejo-token."},
				File: "./auth.json",
				Flags: []toolFlag{{Flags: []string{"-g", "--global"}, File: "$COMPOSER_HOME/auth.json | ~/.config/composer/auth.json",
					Also: []string{"~/.composer/auth.json"}}},
				Refuse: "", ValueFlags: []string{"-d", "--working-dir", "--file", "-f"}},
			// Other keys go to composer.json or config.json, which the
			// build goes on changing (composer require).
			{Cmds: []string{"composer"}, Sub: []string{"config"}, Login: true,
				Refuse: "composer writes the key into composer.json or config.json; give it through COMPOSER_AUTH or an auth key (http-basic, github-oauth, bearer)"},
		},
	},
	{
		Name: "go",
		// Its environment file is a configuration file that may hold a
		// credential (fieldConfigPatterns).
		BuildOnly: []string{"go/env"},
		Writes: []toolWrite{
			{Cmds: []string{"go"}, Sub: []string{"env"}, Need: []string{"-w"}, File: "$GOENV | $XDG_CONFIG_HOME/go/env | ~/.config/go/env"},
		},
	},
	{
		Name:  "huggingface",
		Files: []string{"huggingface/token", "huggingface/stored_tokens"},
		Writes: []toolWrite{
			// huggingface_hub (0.25 and later) keeps stored_tokens in the
			// directory of the token file, wherever HF_TOKEN_PATH puts it
			// (constants.HF_STORED_TOKENS_PATH); --add-to-git-credential
			// stores the token through git's credential helper.
			{Cmds: []string{"huggingface-cli", "hf"}, Sub: []string{"login", "auth login"}, Login: true,
				File:       "$HF_TOKEN_PATH | $HF_HOME/token | $XDG_CACHE_HOME/huggingface/token | ~/.cache/huggingface/token",
				Also:       []string{"$HF_TOKEN_PATH/../stored_tokens | $HF_HOME/stored_tokens | $XDG_CACHE_HOME/huggingface/stored_tokens | ~/.cache/huggingface/stored_tokens"},
				Always:     []string{"~/.git-credentials"},
				ValueFlags: []string{"--token"}},
		},
	},
	{
		// uv auth login (uv 0.8.15 and later) keeps credentials in its
		// plain-text store, TextCredentialStore::default_file.
		Name:  "uv",
		Files: []string{"uv/credentials/credentials.toml"},
		// Its settings (uv.toml, fieldConfigPatterns) may carry an
		// index's password; the user's and the system's are the build's.
		BuildOnly: []string{"uv/credentials/credentials.toml", "uv/uv.toml"},
		Writes: []toolWrite{
			{Cmds: []string{"uv"}, Sub: []string{"auth login"}, Login: true,
				File:       "$UV_CREDENTIALS_DIR/credentials.toml | $XDG_DATA_HOME/uv/credentials/credentials.toml | ~/.local/share/uv/credentials/credentials.toml",
				ValueFlags: []string{"-u", "--username", "--password", "-t", "--token", "--keyring-provider", "--directory", "--project", "--config-file", "--cache-dir"}},
		},
	},
	{
		Name: "cargo",
		// The official rust images set CARGO_HOME=/usr/local/cargo.
		Files:     []string{".cargo/credentials", ".cargo/credentials.toml", "usr/local/cargo/credentials", "usr/local/cargo/credentials.toml"},
		BuildOnly: []string{".cargo/credentials", ".cargo/credentials.toml", "usr/local/cargo/credentials", "usr/local/cargo/credentials.toml"},
		Writes: []toolWrite{
			{Cmds: []string{"cargo"}, Sub: []string{"login"}, Login: true, File: "$CARGO_HOME/credentials.toml | ~/.cargo/credentials.toml",
				Also: []string{"$CARGO_HOME/credentials | ~/.cargo/credentials"}, ValueFlags: []string{"--registry"}},
		},
	},
	{
		Name: "bundler",
		// The official ruby images set BUNDLE_APP_CONFIG=/usr/local/bundle.
		Files: []string{".bundle/config", "usr/local/bundle/config"},
		Writes: []toolWrite{
			// Bundler 2 writes the user's configuration by default, Bundler 3
			// the application's: both are saved.
			{Cmds: []string{"bundle", "bundler"}, Sub: []string{"config"},
				File: "$BUNDLE_USER_CONFIG | $BUNDLE_USER_HOME/config | ~/.bundle/config", Also: []string{"$BUNDLE_APP_CONFIG/config | ./.bundle/config"},
				Flags: []toolFlag{
					{Flags: []string{"--local"}, File: "$BUNDLE_APP_CONFIG/config | ./.bundle/config"},
					{Flags: []string{"--global"}, File: "$BUNDLE_USER_CONFIG | $BUNDLE_USER_HOME/config | ~/.bundle/config"},
				}},
		},
	},
	{
		Name:  "gem",
		Files: []string{".gem/credentials", ".local/share/gem/credentials"},
		// .gemrc holds plain settings as well (fieldConfigPatterns).
		BuildOnly: []string{".gem/credentials", ".local/share/gem/credentials", ".gemrc", "etc/gemrc"},
		Writes: []toolWrite{
			{Cmds: []string{"gem"}, Sub: []string{"sources", "source"}, Need: []string{"--add", "-a"}, File: "$GEMRC | ~/.gemrc"},
			{Cmds: []string{"gem"}, Sub: []string{"signin"}, Login: true, File: "~/.gem/credentials", Also: []string{"~/.local/share/gem/credentials"}},
		},
	},
	{
		// NuGet.Config holds plain settings as well: the build-time check
		// searches its credential fields (fieldConfigPatterns).
		Name: "nuget",
		// dotnet restore reads every NuGet.Config from the project's
		// directory up, and the user's.
		BuildOnly: []string{"nuget.config", "NuGet.Config", "NuGet.config", "Nuget.Config"},
		Writes: []toolWrite{
			{Cmds: []string{"dotnet"}, Sub: []string{"nuget add source", "nuget update source"}, File: "~/.nuget/NuGet/NuGet.Config",
				FileFlags: []string{"--configfile"}, ValueFlags: []string{"-n", "--name", "-u", "--username", "-p", "--password", "--valid-authentication-types", "-s", "--source"}},
			// nuget.exe runs on mono, whose ApplicationData folder is
			// $XDG_CONFIG_HOME, else ~/.config; a NuGet built for .NET
			// writes ~/.nuget/NuGet/NuGet.Config whatever XDG_CONFIG_HOME is.
			{Cmds: []string{"nuget", "nuget.exe"}, Sub: []string{"sources add", "sources update", "sources Add", "sources Update", "setapikey", "setApiKey", "SetApiKey"},
				File: "$XDG_CONFIG_HOME/NuGet/NuGet.Config | ~/.config/NuGet/NuGet.Config", Always: []string{"~/.nuget/NuGet/NuGet.Config"},
				FileFlags: []string{"-ConfigFile", "-configfile", "-Configfile"}},
		},
	},
	{
		Name: "conda",
		// .condarc holds plain settings as well (fieldConfigPatterns).
		BuildOnly: []string{".condarc", "condarc"},
		Writes: []toolWrite{
			{Cmds: []string{"conda", "mamba", "micromamba"}, Sub: []string{"config"}, Need: []string{"--set", "--add", "--append", "--prepend"},
				File: "$CONDARC | ~/.condarc", FileFlags: []string{"--file"},
				Flags: []toolFlag{{Flags: []string{"--system", "--env"}, Refuse: "it writes the configuration file of a conda installation or environment, which hushbuild does not track"}}},
		},
	},
	{
		Name:  "docker",
		Files: []string{".docker/config.json", ".dockercfg"},
		Writes: []toolWrite{
			{Cmds: []string{"docker", "nerdctl", "podman", "buildah", "skopeo"}, Sub: []string{"login"}, Login: true,
				File: "$DOCKER_CONFIG/config.json | ~/.docker/config.json", DirFlags: []string{"--config"},
				FileFlags:  []string{"--authfile"},
				ValueFlags: []string{"-u", "--username", "-p", "--password", "-H", "--host", "--context", "-c", "-l", "--log-level"}},
		},
	},
	{
		Name:  "helm",
		Files: []string{"helm/registry/config.json", "helm/repositories.yaml"},
		Writes: []toolWrite{
			{Cmds: []string{"helm"}, Sub: []string{"repo add"}, Login: true, File: "$HELM_REPOSITORY_CONFIG | $XDG_CONFIG_HOME/helm/repositories.yaml | ~/.config/helm/repositories.yaml",
				FileFlags: []string{"--repository-config"}, ValueFlags: []string{"--username", "--password"}},
			{Cmds: []string{"helm"}, Sub: []string{"registry login"}, Login: true, File: "$HELM_REGISTRY_CONFIG | $XDG_CONFIG_HOME/helm/registry/config.json | ~/.config/helm/registry/config.json",
				FileFlags: []string{"--registry-config"}, ValueFlags: []string{"-u", "--username", "-p", "--password"}},
		},
	},
	{
		Name:         "aws",
		RuntimeFiles: []string{".aws/credentials"},
		Writes: []toolWrite{
			{Cmds: []string{"aws"}, Sub: []string{"configure set"}, Login: true, File: "$AWS_SHARED_CREDENTIALS_FILE | ~/.aws/credentials",
				Also: []string{"$AWS_CONFIG_FILE | ~/.aws/config"}, ValueFlags: []string{"--profile"}},
		},
	},
	{
		Name:         "gcloud",
		RuntimeFiles: []string{"gcloud/credentials.db", "gcloud/access_tokens.db", "application_default_credentials.json"},
		Writes: []toolWrite{
			{Cmds: []string{"gcloud"}, Sub: []string{"config set"}, Login: true,
				File: "$CLOUDSDK_CONFIG/configurations/config_default | ~/.config/gcloud/configurations/config_default",
				Flags: []toolFlag{{Flags: []string{"--installation"}, Refuse: "it writes the installation's properties file, which hushbuild does not track"},
					{Flags: []string{"--configuration"}, Refuse: "it writes a named configuration, which hushbuild does not track"}}},
		},
	},
	{
		Name:  "gh",
		Files: []string{"gh/hosts.yml"},
		Writes: []toolWrite{
			{Cmds: []string{"gh"}, Sub: []string{"auth login"}, Login: true, File: "$GH_CONFIG_DIR/hosts.yml | $XDG_CONFIG_HOME/gh/hosts.yml | ~/.config/gh/hosts.yml",
				ValueFlags: []string{"-h", "--hostname", "-p", "--git-protocol", "-s", "--scopes"}},
		},
	},
	{
		Name:  "git",
		Files: []string{".git-credentials", ".gitconfig", ".git/config"},
		Writes: []toolWrite{
			{Cmds: []string{"git"}, Sub: []string{"credential approve", "credential-store"}, Login: true, File: "~/.git-credentials"},
		},
		Clones: []toolClone{
			{What: "git clone", Keeps: "in .git/config", Cmds: []string{"git"}, Sub: []string{"clone"}, First: true, ValueFlags: []string{
				"-b", "--branch", "--depth", "-o", "--origin", "-c", "--config",
				"--reference", "--reference-if-able", "-j", "--jobs", "-u", "--upload-pack",
				"--template", "--separate-git-dir", "--filter", "--shallow-since",
				"--shallow-exclude", "--server-option", "--bundle-uri"}},
		},
	},
	// The maven image copies /usr/share/maven/ref/ to ~/.m2 when a
	// container starts; /usr/share/maven/conf/settings.xml is the global
	// configuration.
	{Name: "maven", Files: []string{".m2/settings.xml"}, BuildOnly: []string{".m2/settings.xml", "maven/conf/settings.xml", "maven/ref/settings.xml", "maven/ref/settings-docker.xml"}},
	{Name: "gradle", Files: []string{"gradle.properties"}, BuildOnly: []string{".gradle/gradle.properties", "gradle/gradle.properties"}},
	{Name: "netrc", Files: []string{".netrc", "_netrc"}},
	{Name: "terraform", Files: []string{".terraformrc", "terraform.rc", "credentials.tfrc.json", ".terraform.d/credentials.tfrc.json"}},
	// sentry-cli's auth token (release uploads in a build).
	{Name: "sentry-cli", Files: []string{".sentryclirc"}},
	// gsutil's and boto's credentials.
	{Name: "gsutil", Files: []string{".boto"}},
	{
		Name:  "rclone",
		Files: []string{"rclone.conf", ".config/rclone/rclone.conf"},
		Writes: []toolWrite{
			// rclone keeps a remote's passwords obscured (AES-CTR under a
			// key built into rclone: anyone can reveal them), a form the
			// build-time check does not search for: the file must go.
			// rclone reads ~/.rclone.conf, its old place, when it exists.
			{Cmds: []string{"rclone"}, Sub: []string{"config create", "config update", "config password"}, Login: true,
				File: "$RCLONE_CONFIG | $XDG_CONFIG_HOME/rclone/rclone.conf | ~/.config/rclone/rclone.conf", Also: []string{"~/.rclone.conf"},
				FileFlags: []string{"--config"}, ValueFlags: []string{"--log-file", "--log-level", "--cache-dir", "--temp-dir"}},
		},
	},
	{Name: "databricks", Files: []string{".databrickscfg"}},
	{Name: "vault", Files: []string{".vault-token"}},
	{Name: "s3cmd", Files: []string{".s3cfg"}},
}

// buildOnlyPatterns are the tools' BuildOnly locations.
var buildOnlyPatterns = func() []string {
	var out []string
	for _, t := range tools {
		out = append(out, t.BuildOnly...)
	}
	return out
}()

// toolFilePatterns are the credential files of the tools of the table:
// with runtime, those an application may read at run time too.
func toolFilePatterns(runtime bool) []string {
	var out []string
	for _, t := range tools {
		out = append(out, t.Files...)
		if runtime {
			out = append(out, t.RuntimeFiles...)
		}
	}
	return out
}

// toolEnvNames are the environment variables the table's locations name.
var toolEnvNames = func() []string {
	seen := map[string]bool{}
	add := func(spec string) {
		for _, alt := range strings.Split(spec, "|") {
			alt = strings.TrimSpace(alt)
			if strings.HasPrefix(alt, "$") {
				name, _, _ := strings.Cut(alt[1:], "/")
				seen[name] = true
			}
		}
	}
	for _, t := range tools {
		for _, w := range t.Writes {
			add(w.File)
			for _, a := range append(slices.Clone(w.Also), w.Always...) {
				add(a)
			}
			for _, f := range w.Flags {
				add(f.File)
				for _, a := range f.Also {
					add(a)
				}
			}
		}
	}
	var out []string
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}()

// toolEnvFile reports whether dest, an absolute path, is where a tool of
// the table reads a credential file that the stage's environment (env:
// stageState.toolEnv) moves, $CARGO_HOME/credentials.toml with CARGO_HOME
// set: a file copied there is a credential file whatever its name, as one
// copied to the default location (~/.cargo/credentials.toml) is. Only a
// location whose home alternative is one of the tool's credential files
// counts.
func toolEnvFile(dest string, env map[string]string) bool {
	if len(env) == 0 || !path.IsAbs(dest) {
		return false
	}
	dest = path.Clean(dest)
	check := func(t *tool, spec string) bool {
		resolved, home := "", ""
		for _, alt := range strings.Split(spec, "|") {
			alt = strings.TrimSpace(alt)
			switch {
			case strings.HasPrefix(alt, "$"):
				if resolved != "" {
					continue
				}
				name, rest, _ := strings.Cut(alt[1:], "/")
				v, ok := env[name]
				if !ok {
					continue
				}
				if !path.IsAbs(v) {
					return false // the first that applies is unknown
				}
				resolved = path.Join(v, rest)
			case strings.HasPrefix(alt, "~/"):
				home = alt[2:]
			}
		}
		return resolved == dest && home != "" && matchPathPatterns(append(slices.Clone(t.Files), t.RuntimeFiles...), home)
	}
	for i := range tools {
		t := &tools[i]
		for _, w := range t.Writes {
			specs := append([]string{w.File}, w.Also...)
			for _, f := range w.Flags {
				specs = append(specs, f.File)
				specs = append(specs, f.Also...)
			}
			for _, spec := range specs {
				if strings.Contains(spec, "$") && check(t, spec) {
					return true
				}
			}
		}
	}
	return false
}

// skippedVars are the variables of a location's alternatives before the
// one that resolved that the stage does not set: a base image may.
func skippedVars(spec string, env shellEnv, assigns map[string]string) []string {
	var out []string
	for _, alt := range strings.Split(spec, "|") {
		alt = strings.TrimSpace(alt)
		if !strings.HasPrefix(alt, "$") {
			break
		}
		name, _, _ := strings.Cut(alt[1:], "/")
		if _, ok := assigns[name]; ok {
			break
		}
		if _, ok := env.toolEnv[name]; ok {
			break
		}
		out = append(out, name)
	}
	return out
}

// resolveLoc resolves a location of the table. It returns "" and why
// when the location's directory is unknown.
func resolveLoc(spec string, env shellEnv, assigns map[string]string) (string, string) {
	for _, alt := range strings.Split(spec, "|") {
		alt = strings.TrimSpace(alt)
		switch {
		case strings.HasPrefix(alt, "$"):
			name, rest, _ := strings.Cut(alt[1:], "/")
			v, ok := assigns[name]
			if !ok {
				v, ok = env.toolEnv[name]
			}
			if !ok {
				continue
			}
			if !path.IsAbs(v) {
				return "", "its location comes from $" + name + ", whose value is not a plain absolute path"
			}
			return path.Join(v, rest), ""
		case strings.HasPrefix(alt, "~/"):
			if env.programHome() == "" {
				return "", "the home directory of the user is unknown"
			}
			return path.Join(env.programHome(), alt[2:]), ""
		case strings.HasPrefix(alt, "./"):
			if env.workdir == "" || !path.IsAbs(env.workdir) {
				return "", "the directory it runs in is unknown"
			}
			return path.Join(env.workdir, alt[2:]), ""
		case path.IsAbs(alt):
			return path.Clean(alt), ""
		}
	}
	return "", "its location is unknown"
}

// locVar is the variable whose $VAR alternative of a location applies,
// or "".
func locVar(spec string, env shellEnv, assigns map[string]string) string {
	for _, alt := range strings.Split(spec, "|") {
		alt = strings.TrimSpace(alt)
		if !strings.HasPrefix(alt, "$") {
			return ""
		}
		name, _, _ := strings.Cut(alt[1:], "/")
		if _, ok := assigns[name]; ok {
			return ""
		}
		if _, ok := env.toolEnv[name]; ok {
			return name
		}
	}
	return ""
}

// callWords is a command's name and arguments as the table matches them
// (cmdWords).
type callWords struct {
	name  string
	args  []string
	words []*syntax.Word
}

// cmdWords is a command's name and arguments as the table matches them:
// python -m pip is pip.
func cmdWords(c *syntax.CallExpr) callWords {
	name, words := cmdName(c)
	var args []string
	if len(words) > 0 {
		args = make([]string, 0, len(words))
	}
	for _, w := range words {
		args = append(args, w.Lit())
	}
	return callWords{name: name, args: args, words: words}
}

// cmdName is cmdWords without the arguments' text: the name, and the
// words after it.
func cmdName(c *syntax.CallExpr) (name string, words []*syntax.Word) {
	if len(c.Args) == 0 {
		return "", nil
	}
	name = path.Base(c.Args[0].Lit())
	words = c.Args[1:]
	if strings.HasPrefix(name, "python") && len(words) >= 2 && words[0].Lit() == "-m" {
		name, words = words[1].Lit(), words[2:]
	}
	return name, words
}

// toolRows indexes the table by command name (cmdWords'): the Writes and
// Clones rows that list it, in the table's order. Most commands are in
// no row, and scanning the whole table for each was most of the cost of
// finding a RUN's writes.
type toolRows struct {
	writes []*toolWrite
	clones []*toolClone
}

var toolsByCmd = func() map[string]*toolRows {
	m := map[string]*toolRows{}
	rows := func(name string) *toolRows {
		r := m[name]
		if r == nil {
			r = &toolRows{}
			m[name] = r
		}
		return r
	}
	for ti := range tools {
		for wi := range tools[ti].Writes {
			w := &tools[ti].Writes[wi]
			for i, name := range w.Cmds {
				if !contains(w.Cmds[:i], name) {
					rows(name).writes = append(rows(name).writes, w)
				}
			}
		}
		for ci := range tools[ti].Clones {
			c := &tools[ti].Clones[ci]
			for i, name := range c.Cmds {
				if !contains(c.Cmds[:i], name) {
					rows(name).clones = append(rows(name).clones, c)
				}
			}
		}
	}
	return m
}()

// matchSub reports whether the positional words of args start with one
// of subs, skipping flags (and the values of the flags of valueFlags'
// lists), and returns the index in args just after the subcommand.
func matchSub(args []string, subs []string, valueFlags ...[]string) (int, bool) {
	if len(subs) == 0 {
		return 0, true
	}
	takesValue := func(a string) bool {
		for _, l := range valueFlags {
			if contains(l, a) {
				return true
			}
		}
		return false
	}
	pos := make([]int, 0, 8)
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") && a != "-" {
			if takesValue(a) {
				i++
			}
			continue
		}
		pos = append(pos, i)
	}
	for _, sub := range subs {
		// The words of sub, without allocating them: this runs for
		// every tool of the tables on every command.
		n, ok := 0, true
		for w := range strings.FieldsSeq(sub) {
			if n >= len(pos) || args[pos[n]] != w {
				ok = false
				break
			}
			n++
		}
		if ok {
			if n == 0 {
				return 0, true
			}
			return pos[n-1] + 1, true
		}
	}
	return 0, false
}

// hasFlag reports whether args has one of flags ("--location project" is
// two words).
func hasFlag(args []string, flags []string) bool {
	for _, f := range flags {
		words := strings.Fields(f)
		for i := range args {
			if i+len(words) > len(args) {
				break
			}
			ok := true
			for j, w := range words {
				if args[i+j] != w {
					ok = false
					break
				}
			}
			if ok {
				return true
			}
		}
	}
	return false
}

// flagValue is the word after flag, or the value of flag=VALUE.
func flagValue(args []string, words []*syntax.Word, flags []string) (*syntax.Word, string, bool) {
	for i, a := range args {
		for _, f := range flags {
			switch {
			case a == f && i+1 < len(args):
				return words[i+1], "", true
			case strings.HasPrefix(a, f+"="):
				return nil, strings.TrimPrefix(a, f+"="), true
			}
		}
	}
	return nil, "", false
}

// assignsOf are the literal variable assignments of a command's own
// prefix (DOCKER_CONFIG=/tmp/d docker login): "" for a value that is no
// plain literal.
func assignsOf(c *syntax.CallExpr, env shellEnv) map[string]string {
	m := map[string]string{}
	for _, as := range c.Assigns {
		if as.Name == nil {
			continue
		}
		v := ""
		if as.Value != nil {
			if p, glob, ok := wordPath(as.Value, env); ok && !glob {
				v = p
			}
		}
		m[as.Name.Value] = v
	}
	return m
}

// toolWriteFlows are the writes of a command into a tool's configuration
// file, by the table.
// A login row without a secret writes nothing hushbuild follows (ws).
func toolWriteFlows(s *syntax.Stmt, c *syntax.CallExpr, cw callWords, src string, env shellEnv, vars []string, ws *writeScan) []*flow {
	args, words := cw.args, cw.words
	if rows := toolsByCmd[cw.name]; rows != nil {
		for _, w := range rows.writes {
			at, ok := matchSub(args, w.Sub, w.ValueFlags, w.FileFlags, w.DirFlags)
			if !ok || len(w.Need) > 0 && !hasFlag(args, w.Need) {
				continue
			}
			if len(w.Keys) > 0 {
				key := ""
				for i := at; i < len(args); i++ {
					if !strings.HasPrefix(args[i], "-") {
						key = args[i]
						break
					}
					if contains(w.ValueFlags, args[i]) {
						i++
					}
				}
				matched := false
				for _, k := range w.Keys {
					if strings.HasPrefix(key, k) {
						matched = true
					}
				}
				if !matched {
					continue
				}
			}
			if w.Login && len(vars) == 0 && ws.drop() {
				return nil
			}
			return []*flow{w.flow(s, c, src, env, vars, args, words)}
		}
	}
	return nil
}

// flow is the write of one command by the row.
func (w toolWrite) flow(s *syntax.Stmt, c *syntax.CallExpr, src string, env shellEnv, vars, args []string, words []*syntax.Word) *flow {
	fl := &flow{kind: flowFile, stmt: s, text: stmtText(src, s), vars: vars}
	if w.Refuse != "" {
		fl.problem = w.Refuse
		return fl
	}
	file, also := w.File, w.Also
	for _, f := range w.Flags {
		if hasFlag(args, f.Flags) || hasFlagPrefix(args, f.Flags) {
			if f.Refuse != "" {
				fl.problem = f.Refuse
				return fl
			}
			file, also = f.File, f.Also
			break
		}
	}
	assigns := assignsOf(c, env)
	if wd, lit, ok := flagValue(args, words, w.FileFlags); ok {
		p, problem := flagPath(wd, lit, env)
		if problem != "" {
			fl.problem = problem
			return fl
		}
		fl.setFile(p, env)
		return fl
	}
	if wd, lit, ok := flagValue(args, words, w.DirFlags); ok {
		p, problem := flagPath(wd, lit, env)
		if problem != "" {
			fl.problem = problem
			return fl
		}
		fl.setFile(path.Join(p, path.Base(strings.TrimSpace(strings.Split(file, "|")[len(strings.Split(file, "|"))-1]))), env)
		return fl
	}
	p, problem := resolveLoc(file, env, assigns)
	if problem != "" {
		fl.problem = problem
		if env.programHome() == "" && strings.Contains(file, "~/") {
			fl.problem, fl.fix = unknownHome(env)
		}
		return fl
	}
	fl.setFile(p, env)
	if env.imageUnknown {
		fl.assumedUnset = skippedVars(file, env, assigns)
	}
	// A location the script's own export chose: the replay in a later
	// RUN exports it again.
	var exports []string
	for _, spec := range append(append([]string{file}, also...), w.Always...) {
		if name := locVar(spec, env, assigns); name != "" && env.scriptEnv[name] != "" && !contains(exports, name) {
			exports = append(exports, name)
			fl.text = "export " + name + "=" + shellQuote(env.scriptEnv[name]) + "; " + fl.text
		}
	}
	// When the environment moved the file, the defaults of the other
	// files are not written either: only those it moved too, and the
	// Always ones.
	noEnv := shellEnv{workdir: env.workdir, home: env.home, progHome: env.progHome, progHomeSet: env.progHomeSet}
	moved := false
	if q, _ := resolveLoc(file, noEnv, nil); q != p {
		moved = true
	}
	for i, a := range append(slices.Clone(also), w.Always...) {
		q, problem := resolveLoc(a, env, assigns)
		if d, _ := resolveLoc(a, noEnv, nil); moved && d == q && i < len(also) {
			continue
		}
		if problem == "" && q != p && !contains(fl.also, q) {
			fl.also = append(fl.also, q)
		}
	}
	return fl
}

// setFile sets the file a flow writes, and the home directory it assumed
// when the file is under one (the RUNs that write it check $HOME).
func (fl *flow) setFile(p string, env shellEnv) {
	fl.file = p
	if env.homeAssumed && env.home != "" && (p == env.home || strings.HasPrefix(p, env.home+"/")) {
		fl.assumedHome = env.home
	}
}

// hasFlagPrefix reports a flag=VALUE form of one of flags that names a
// value itself (--location=global is listed whole; this catches
// abbreviations such as --global=true).
func hasFlagPrefix(args []string, flags []string) bool {
	for _, a := range args {
		for _, f := range flags {
			if !strings.Contains(f, "=") && !strings.Contains(f, " ") && strings.HasPrefix(a, f+"=") {
				return true
			}
		}
	}
	return false
}

// flagPath resolves the path a flag names.
func flagPath(w *syntax.Word, lit string, env shellEnv) (string, string) {
	p := lit
	if w != nil {
		var glob, ok bool
		p, glob, ok = wordPath(w, env)
		if !ok || glob {
			return "", "the file it writes is not a plain path"
		}
	}
	p = absPath(p, env)
	if !path.IsAbs(p) {
		return "", "the file it writes is relative to an unknown directory"
	}
	return p, ""
}

// cloneURL finds the URL with a secret that a command clones, by the
// table: the word and the row. refuse is set for a URL with a secret
// that the tool does not clone with git (a tarball URL), whose
// credentials the row's tool keeps (Refuse says where).
func cloneURL(cw callWords, src string, names map[string]bool) (url *syntax.Word, row *toolClone, refuse bool) {
	args, words := cw.args, cw.words
	if rows := toolsByCmd[cw.name]; rows != nil {
		for _, r := range rows.clones {
			at, ok := matchSub(args, r.Sub, r.ValueFlags, r.URLFlags)
			if !ok {
				continue
			}
			secretURL := func(w *syntax.Word) (clone, other bool) {
				lit := strings.Trim(nodeText(src, w), `"'`)
				if !strings.Contains(lit, "://") || len(wordVars(w, names)) == 0 {
					return false, false
				}
				return strings.HasPrefix(lit, r.Prefix), !strings.HasPrefix(lit, r.Prefix)
			}
			for i := at; i < len(args); i++ {
				switch a := args[i]; {
				case contains(r.URLFlags, a) && i+1 < len(args):
					i++
					if clone, _ := secretURL(words[i]); clone {
						return words[i], r, false
					}
					continue
				case strings.HasPrefix(a, "-") && a != "-":
					if contains(r.ValueFlags, a) {
						i++
					}
					continue
				}
				clone, other := secretURL(words[i])
				switch {
				case clone && len(r.URLFlags) == 0:
					return words[i], r, false
				case other && r.Refuse != "":
					return words[i], r, true
				}
				if r.First {
					return nil, nil, false
				}
			}
		}
	}
	return nil, nil, false
}

// cloneNote is a clone the rewrite took the credentials out of, for the
// finding.
type cloneNote struct {
	line int
	row  *toolClone
}

// cloneOperand is the first operand of a clone of the table that takes
// its URL there (git clone) when it is no URL as written but holds a
// secret: git clone "$URL".
func cloneOperand(cw callWords, src string, names map[string]bool) *syntax.Word {
	args, words := cw.args, cw.words
	if rows := toolsByCmd[cw.name]; rows != nil {
		for _, r := range rows.clones {
			if !r.First {
				continue
			}
			at, ok := matchSub(args, r.Sub, r.ValueFlags)
			if !ok {
				continue
			}
			for i := at; i < len(args); i++ {
				if a := args[i]; strings.HasPrefix(a, "-") && a != "-" {
					if contains(r.ValueFlags, a) {
						i++
					}
					continue
				}
				if !strings.Contains(nodeText(src, words[i]), "://") && len(wordVars(words[i], names)) > 0 {
					return words[i]
				}
				return nil
			}
		}
	}
	return nil
}
