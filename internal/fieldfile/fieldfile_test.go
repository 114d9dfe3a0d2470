package fieldfile

import (
	"strings"
	"testing"

	"github.com/hushbuild/hushbuild/internal/canary"
)

func TestHolds(t *testing.T) {
	secret := canary.Random(t, canary.Lower+canary.Upper+canary.Digits, 32)
	tests := []struct {
		name, file, text string
		want             bool
	}{
		{"maven password", "settings.xml", `<settings><servers><server><id>corp</id><username>ci</username><password>SECRET</password></server></servers></settings>`, true},
		{"maven env placeholders", "settings.xml", `<settings><servers><server><id>corp</id><username>${env.MAVEN_USER}</username><password>${env.MAVEN_PASSWORD}</password></server></servers></settings>`, false},
		{"maven property placeholder", "settings.xml", `<settings><servers><server><id>corp</id><password>${repo.password}</password></server></servers></settings>`, false},
		{"maven mirrors only", "settings.xml", `<settings><mirrors><mirror><id>m</id><url>https://repo.example.com/maven2</url><mirrorOf>*</mirrorOf></mirror></mirrors></settings>`, false},
		{"maven http header in a token format", "settings.xml", `<settings><servers><server><id>gitlab</id><configuration><httpHeaders><property><name>Private-Token</name><value>glpat-SECRET</value></property></httpHeaders></configuration></server></servers></settings>`, true},
		{"nuget cleartext password", "NuGet.Config", `<configuration><packageSourceCredentials><corp><add key="Username" value="ci" /><add key="ClearTextPassword" value="SECRET" /></corp></packageSourceCredentials></configuration>`, true},
		{"nuget env placeholder", "nuget.config", `<configuration><packageSourceCredentials><corp><add key="Username" value="%NUGET_USER%" /><add key="ClearTextPassword" value="%NUGET_PASSWORD%" /></corp></packageSourceCredentials></configuration>`, false},
		{"nuget sources only", "nuget.config", `<configuration><packageSources><add key="nuget.org" value="https://api.nuget.org/v3/index.json" /></packageSources></configuration>`, false},
		{"token.json refresh token", "token.json", `{"token": "SECRET", "refresh_token": "SECRET", "client_id": "x.apps.googleusercontent.com"}`, true},
		{"dbt profile password", "profiles.yml", "jaffle:\n  target: prod\n  outputs:\n    prod:\n      type: postgres\n      host: db\n      user: dbt\n      password: SECRET\n      dbname: analytics\n", true},
		{"dbt profile from the environment", "profiles.yml", "jaffle:\n  outputs:\n    prod:\n      type: postgres\n      user: dbt\n      password: \"{{ env_var('DBT_PASSWORD') }}\"\n", false},
		{"dbt profile with a written default", "profiles.yml", "jaffle:\n  outputs:\n    prod:\n      password: \"{{ env_var('DBT_PASSWORD', 'SECRET') }}\"\n", true},
		{"ngrok authtoken", "ngrok.yml", "version: 2\nauthtoken: SECRET\n", true},
		// Dependency lists: only the URLs of their indexes and sources.
		{"requirements index password", "requirements.txt", "--extra-index-url https://ci:SECRET@pypi.example.com/simple\nacme-lib==1.0\n", true},
		{"requirements under requirements/", "requirements/prod.txt", "lib @ git+https://oauth2:SECRET@gitlab.example.com/acme/lib.git\n", true},
		{"requirements token as user", "requirements-dev.txt", "lib @ git+https://ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/acme/lib.git\n", true},
		{"requirements of secret-named packages", "requirements.txt", "keyring==24.3.0\nsecretstorage==3.3.3\npasslib[bcrypt]==1.7.4\ntoken-bucket==0.3.0\npassword-strength==0.0.3\nlib @ git+https://git@github.com/acme/lib.git\n--index-url https://pypi.org/simple\n", false},
		{"requirements index from the environment", "constraints.txt", "--extra-index-url https://${PIP_USER}:${PIP_PASSWORD}@pypi.example.com/simple\n", false},
		{"Gemfile source password", "Gemfile", "source \"https://ci:SECRET@gems.example.com/\" do\n  gem \"sidekiq-pro\"\nend\n", true},
		{"Gemfile source from the environment", "Gemfile", "source 'https://rubygems.org'\ngem 'bcrypt', '~> 3.1.7'\nsource \"https://#{ENV['GEM_USER']}:#{ENV['GEM_TOKEN']}@gems.example.com/\" do\n  gem 'sidekiq-pro'\nend\n", false},
		{"Pipfile source password", "Pipfile", "[[source]]\nurl = \"https://ci:SECRET@pypi.example.com/simple\"\nname = \"acme\"\n[packages]\nkeyring = \"*\"\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Holds(tt.file, []byte(strings.ReplaceAll(tt.text, "SECRET", secret)))
			if got != tt.want {
				t.Errorf("Holds(%s) = %v, want %v", tt.file, got, tt.want)
			}
		})
	}
}

func TestPlaceholder(t *testing.T) {
	for v, want := range map[string]bool{
		"${env.X}": true, "%NUGET_PASSWORD%": true, "$TOKEN": true, "${A}${B}": true, "": true,
		"hunter2": false, "${env.X}suffix": false, "%%": false, "50%": false, "$": false,
		"{{ env_var('DBT_PASSWORD') }}": true, `{{env_var("X")}}`: true, "{{ env_var('X', 'dflt') }}": false, "{{ x }}": false, "{{ env_var('X') }}z": false,
	} {
		if got := placeholder(v); got != want {
			t.Errorf("placeholder(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestAssignsSecret(t *testing.T) {
	secret := canary.Random(t, canary.Lower+canary.Upper+canary.Digits, 32)
	for _, tt := range []struct {
		name, text string
		want       bool
	}{
		{"export token", "#!/bin/sh\nexport NPM_TOKEN=SECRET\n", true},
		{"quoted password", "DB_PASSWORD='SECRET'\n", true},
		{"declare -x", "declare -x API_KEY=\"SECRET\"\n", true},
		{"plain settings", "export NODE_ENV=production\nREGION=eu-west-1\n", false},
		{"from a secret mount", "export NPM_TOKEN=$(cat /run/secrets/npm)\nexport GH_TOKEN=${GH_TOKEN:-}\n", false},
		{"empty", "export NPM_TOKEN=\n", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := AssignsSecret([]byte(strings.ReplaceAll(tt.text, "SECRET", secret))); got != tt.want {
				t.Errorf("AssignsSecret = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAssignsSecretShellForms(t *testing.T) {
	for _, tt := range []struct {
		data string
		want bool
	}{
		{"export NODE_ENV=production NPM_TOKEN=npm_abc123\n", true},
		{"export NPM_TOKEN=\"${NPM_TOKEN:-npm_abc123}\"\n", true},
		{"NPM_TOKEN=${NPM_TOKEN:=npm_abc123}; export NPM_TOKEN\n", true},
		{"export NPM_TOKEN=\"${NPM_TOKEN:-}\"\n", false},
		{"export NPM_TOKEN=\"$(cat /run/secrets/npm)\"\n", false},
		{"export NODE_ENV=production PORT=8080\n", false},
	} {
		if got := AssignsSecret([]byte(tt.data)); got != tt.want {
			t.Errorf("AssignsSecret(%q) = %v, want %v", tt.data, got, tt.want)
		}
	}
}
