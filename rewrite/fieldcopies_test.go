package rewrite

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// TestFieldCopies checks which copies Result.FieldCopies names: a file of
// the context copied by name to a configuration file's name that may hold
// a credential field, read as a file of that name.
func TestFieldCopies(t *testing.T) {
	for _, tt := range []struct {
		copy string
		want map[string]string
	}{
		{"COPY ci/nuget.ci.config /root/.nuget/NuGet/NuGet.Config", map[string]string{"ci/nuget.ci.config": "NuGet.Config"}},
		{"COPY ci/maven-ci.xml /usr/share/maven/conf/settings.xml", map[string]string{"ci/maven-ci.xml": "settings.xml"}},
		{"COPY deploy/prod.json config/production.json", map[string]string{"deploy/prod.json": "production.json"}},
		{"COPY ci/gemrc.ci /root/.gemrc", map[string]string{"ci/gemrc.ci": ".gemrc"}},
		{"COPY ci/conda-ci.yml /opt/conda/.condarc", map[string]string{"ci/conda-ci.yml": ".condarc"}},
		{"COPY ci/goenv /root/.config/go/env", map[string]string{"ci/goenv": "env"}},
		{"COPY ci/uv-ci.toml /etc/uv/uv.toml", map[string]string{"ci/uv-ci.toml": "uv.toml"}},
		// Its own name says it already, a directory or a pattern is not
		// one file, a template is filled in later.
		{"COPY NuGet.Config /root/.nuget/NuGet/NuGet.Config", nil},
		{"COPY ci/ /root/.nuget/NuGet/", nil},
		{"COPY ci/*.config /root/.nuget/NuGet/NuGet.Config", nil},
		{"COPY ci/settings.xml.template /usr/share/maven/conf/settings.xml", nil},
		{"COPY ci/app.json /app/app.json", nil},
	} {
		df := "FROM alpine\nWORKDIR /app\n" + tt.copy + "\nRUN echo build\n"
		res, err := Rewrite([]byte(df), Config{})
		if err != nil {
			t.Fatalf("%s: %v", tt.copy, err)
		}
		if !maps.Equal(res.FieldCopies, tt.want) {
			t.Errorf("%s: FieldCopies = %q, want %q", tt.copy, res.FieldCopies, tt.want)
		}
	}
}

// TestNamedCopies checks which copies Result.NamedCopies names (a file of
// the context copied by name to a credential file's name under a name of
// its own), and that one the context holds (Config.ContextFiles, as the
// caller that reads the context gives it) is mounted from the context,
// while one it does not hold stays a secret the build passes.
func TestNamedCopies(t *testing.T) {
	for _, tt := range []struct {
		copy, src, target string
		named             bool
	}{
		{"COPY ci/cargo-credentials.toml /root/.cargo/credentials.toml", "ci/cargo-credentials.toml", "/root/.cargo/credentials.toml", true},
		{"COPY ci/gem-credentials /root/.gem/credentials", "ci/gem-credentials", "/root/.gem/credentials", true},
		{"COPY ci/hosts.yml /root/.config/gh/hosts.yml", "ci/hosts.yml", "/root/.config/gh/hosts.yml", true},
		{"COPY ci/pip-ci.conf /etc/pip.conf", "ci/pip-ci.conf", "/etc/pip.conf", true},
		{"COPY ci/pypirc /root/.pypirc", "ci/pypirc", "/root/.pypirc", true},
		{"COPY ci/terraformrc /root/.terraformrc", "ci/terraformrc", "/root/.terraformrc", true},
		{"COPY ci/yarnrc.yml .yarnrc.yml", "ci/yarnrc.yml", "/app/.yarnrc.yml", true},
		{"COPY ci/maven-settings.xml /root/.m2/settings.xml", "ci/maven-settings.xml", "/root/.m2/settings.xml", true},
		{"COPY ci/gradle.properties.ci /root/.gradle/gradle.properties", "ci/gradle.properties.ci", "/root/.gradle/gradle.properties", true},
		{"COPY ci/deploy_key /root/.ssh/id_ed25519", "ci/deploy_key", "/root/.ssh/id_ed25519", true},
		// Its own name says it already: the listing holds it when the
		// context does.
		{"COPY .npmrc /root/.npmrc", ".npmrc", "/root/.npmrc", false},
		// An owner or a mode to carry makes it a secret mount anyway.
		{"COPY --chmod=600 ci/pypirc /root/.pypirc", "ci/pypirc", "/root/.pypirc", false},
	} {
		df := "FROM alpine\nWORKDIR /app\n" + tt.copy + "\nRUN build\n"
		res, err := Rewrite([]byte(df), Config{ContextListed: true, ContextFiles: []string{}})
		if err != nil {
			t.Fatalf("%s: %v", tt.copy, err)
		}
		if got := slices.Contains(res.NamedCopies, tt.src); got != tt.named {
			t.Errorf("%s: NamedCopies = %q, want %s in it: %v", tt.copy, res.NamedCopies, tt.src, tt.named)
		}
		if !strings.Contains(string(res.Output), "--mount=type=secret,id="+tt.src+",target="+tt.target) {
			t.Errorf("%s: not held by the context, want a secret mount at %s:\n%s", tt.copy, tt.target, res.Output)
		}
		if !tt.named {
			continue
		}
		// The caller found it in the context.
		res, err = Rewrite([]byte(df), Config{ContextListed: true, ContextFiles: []string{tt.src}, ContextKeys: []string{tt.src}})
		if err != nil {
			t.Fatalf("%s: %v", tt.copy, err)
		}
		if want := "--mount=type=bind,source=" + tt.src + ",target=" + tt.target + " "; !strings.Contains(string(res.Output), want) {
			t.Errorf("%s: held by the context, want %q:\n%s", tt.copy, want, res.Output)
		}
		if len(res.Requirements) != 0 || len(res.NamedCopies) != 0 {
			t.Errorf("%s: held by the context, the build needs %v, NamedCopies %q", tt.copy, res.Requirements, res.NamedCopies)
		}
		if strings.Contains(string(res.Output), "\nCOPY ") {
			t.Errorf("%s: the copy stays:\n%s", tt.copy, res.Output)
		}
	}
}

// TestToolEnvFile checks that a copy to where the stage's environment
// moves a tool's credential file, or of a file under its own name into the
// directory that holds it, is a credential file whatever its name.
func TestToolEnvFile(t *testing.T) {
	for _, tt := range []struct {
		df     string
		target string // "" for an ordinary copy
	}{
		{"ENV CARGO_HOME=/usr/local/cargo\nCOPY ci/cargo.toml $CARGO_HOME/credentials.toml", "/usr/local/cargo/credentials.toml"},
		{"ENV CARGO_HOME=/opt/cargo\nCOPY ci/cargo.toml /opt/cargo/credentials", "/opt/cargo/credentials"},
		{"COPY credentials.toml /usr/local/cargo/", "/usr/local/cargo/credentials.toml"},
		{"ENV NPM_CONFIG_USERCONFIG=/etc/ci/npmrc\nCOPY ci/registry-auth ${NPM_CONFIG_USERCONFIG}", "/etc/ci/npmrc"},
		{"ENV PIP_CONFIG_FILE=/etc/ci/pip.ini\nCOPY ci/pip.ini /etc/ci/pip.ini", "/etc/ci/pip.ini"},
		{"ENV DOCKER_CONFIG=/ci/docker\nCOPY ci/registry.json /ci/docker/config.json", "/ci/docker/config.json"},
		// Not a credential file: another file of the directory, the
		// variable unset, poetry's plain settings, a template.
		{"ENV CARGO_HOME=/usr/local/cargo\nCOPY ci/config.toml $CARGO_HOME/config.toml", ""},
		{"COPY ci/cargo.toml /opt/cargo/credentials.toml", ""},
		{"ENV POETRY_CONFIG_DIR=/etc/poetry\nCOPY ci/poetry.toml /etc/poetry/config.toml", ""},
		{"ENV CARGO_HOME=/usr/local/cargo\nCOPY ci/credentials.toml.template $CARGO_HOME/credentials.toml", ""},
	} {
		df := "FROM alpine\nWORKDIR /app\n" + tt.df + "\nRUN build\n"
		res, err := Rewrite([]byte(df), Config{})
		if err != nil {
			t.Fatalf("%q: %v", tt.df, err)
		}
		mounted := strings.Contains(string(res.Output), ",target="+tt.target+",")
		if tt.target == "" {
			if strings.Contains(string(res.Output), "--mount=type=secret") {
				t.Errorf("%q: an ordinary copy became a mount:\n%s", tt.df, res.Output)
			}
			continue
		}
		if !mounted {
			t.Errorf("%q: want a secret mount at %s:\n%s", tt.df, tt.target, res.Output)
		}
	}
}

// TestToolEnvSetAfterCopy: a file copied to a path that a variable moving
// a tool's credential file names later (an ENV after the COPY, a RUN's
// export or prefix assignment) is a credential file's copy: the walk goes
// again and mounts it.
func TestToolEnvSetAfterCopy(t *testing.T) {
	copyLine := "COPY ci/pip-settings /etc/pip-settings.conf\n"
	for _, tt := range []struct {
		name, after string
		mounted     bool
	}{
		{"ENV after the copy", "ENV PIP_CONFIG_FILE=/etc/pip-settings.conf\nRUN pip install -r requirements.txt\n", true},
		{"export in the RUN", "RUN export PIP_CONFIG_FILE=/etc/pip-settings.conf && pip install -r requirements.txt\n", true},
		{"prefix assignment", "RUN PIP_CONFIG_FILE=/etc/pip-settings.conf pip install -r requirements.txt\n", true},
		{"ENV naming another file", "ENV PIP_CONFIG_FILE=/etc/other.conf\nRUN pip install -r requirements.txt\n", false},
		{"no variable", "RUN pip install -r requirements.txt\n", false},
		{"a relative value", "RUN PIP_CONFIG_FILE=pip-settings.conf pip install -r requirements.txt\n", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			df := "FROM python:3.12\n" + copyLine + "COPY requirements.txt .\n" + tt.after
			// The file holds no credential the listing would know of: the
			// copy's destination alone makes it one. The engine names it
			// (NamedCopies), and the caller, which finds it in the context,
			// gives it back as a credential file.
			cfg := Config{ContextListed: true, ContextFiles: []string{}}
			res, err := Rewrite([]byte(df), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := slices.Contains(res.NamedCopies, "ci/pip-settings"); got != tt.mounted {
				t.Fatalf("NamedCopies = %q, want ci/pip-settings in it: %v", res.NamedCopies, tt.mounted)
			}
			if tt.mounted {
				cfg.ContextFiles, cfg.ContextKeys = []string{"ci/pip-settings"}, []string{"ci/pip-settings"}
			}
			res, err = Rewrite([]byte(df), cfg)
			if err != nil {
				t.Fatal(err)
			}
			mounted := strings.Contains(string(res.Output), "--mount=type=bind,source=ci/pip-settings,target=/etc/pip-settings.conf ")
			kept := strings.Contains(string(res.Output), copyLine)
			if mounted != tt.mounted || kept == tt.mounted {
				t.Errorf("mounted %v, COPY kept %v; want mounted %v:\n%s", mounted, kept, tt.mounted, res.Output)
			}
			if err := res.Err(); err != nil {
				t.Errorf("refused: %v", err)
			}
		})
	}
}
