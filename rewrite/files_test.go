package rewrite

import (
	"path"
	"slices"
	"strings"
	"testing"
)

// TestPathTail checks pathTail against the split-and-join it replaces in
// matchPathPatterns.
func TestPathTail(t *testing.T) {
	for _, p := range []string{"", "a", "/a", "a/b", "/a/b", "a/b/c", "a//b", "/", "//", "a/", ".aws/credentials", "/root/.docker/config.json"} {
		for n := 1; n <= 4; n++ {
			parts := strings.Split(p, "/")
			want, wantOK := "", len(parts) >= n
			if wantOK {
				want = strings.Join(parts[len(parts)-n:], "/")
			}
			if got, ok := pathTail(p, n); got != want || ok != wantOK {
				t.Errorf("pathTail(%q, %d) = %q, %v; want %q, %v", p, n, got, ok, want, wantOK)
			}
		}
	}
}

// TestMatchPathPatternsFastPaths checks matchPathPatterns, whose fast
// paths skip path.Match, against path.Match alone on every pattern of the
// tables.
func TestMatchPathPatternsFastPaths(t *testing.T) {
	var patterns []string
	for _, list := range [][]string{secretFilePatterns, toolConfigPatterns, notSecretFilePatterns, envFilePatterns, publicInSecretDir, fieldConfigPatterns} {
		patterns = append(patterns, list...)
	}
	patterns = append(patterns, "ab*ba", "a*b*c", "*", "x*", "*y")
	paths := []string{".env", "./.env.local", "app/.env", "prod.env", "service-account.json", "service-account-prod.json",
		"deploy/my-serviceAccount-x.json", "ssh_host_rsa_key", "ssh_host_key", "etc/ssh/ssh_host_ed25519_key.pub",
		"public.pem", "my-public-cert.pem", "id_rsa", "keys/id_rsa.pub", "secrets/db.go", "secrets/db.txt", "/run/secrets/x",
		"locales/fr/auth.json", "auth.json", ".aws/credentials", "home/.docker/config.json", "aba", "abba", "abcba", "axbyc",
		"myapp.py", "Dockerfile", ".", "a/b/c/d"}
	for _, pat := range patterns {
		for _, p := range paths {
			clean := strings.TrimPrefix(path.Clean(p), "./")
			var want bool
			if strings.Contains(pat, "/") {
				parts := strings.Split(clean, "/")
				if n := strings.Count(pat, "/") + 1; len(parts) >= n {
					want, _ = path.Match(pat, strings.Join(parts[len(parts)-n:], "/"))
				}
			} else {
				want, _ = path.Match(pat, path.Base(clean))
			}
			if got := matchPathPatterns([]string{pat}, p); got != want {
				t.Errorf("matchPathPatterns(%q, %q) = %v, path.Match says %v", pat, p, got, want)
			}
		}
	}
}

// TestPatternSet: a patternSet matches what matchPathPatterns matches on
// its list, for every list of the tables and each pattern alone.
func TestPatternSet(t *testing.T) {
	lists := [][]string{secretFilePatterns, toolConfigPatterns, notSecretFilePatterns, envFilePatterns, publicInSecretDir, fieldConfigPatterns,
		{"ab*ba", "a*b*c", "*", "x*", "*y", `a\*b`, "[ab]", "?x", "a[/]b/c", "x/y", `p/q\\r`, "*/b/c", "a/*/d", "d/.docker/config.json", "secrets/", "/", "s*/*x*y*", "a/b*", "a/*_test.go", "q/[ab]*.go"}}
	for _, l := range slices.Clone(lists) {
		for _, pat := range l {
			lists = append(lists, []string{pat})
		}
	}
	paths := []string{".env", "./.env.local", "app/.env", "prod.env", "service-account.json", "service-account-prod.json",
		"deploy/my-serviceAccount-x.json", "ssh_host_rsa_key", "ssh_host_key", "etc/ssh/ssh_host_ed25519_key.pub",
		"public.pem", "my-public-cert.pem", "id_rsa", "keys/id_rsa.pub", "secrets/db.go", "secrets/db.txt", "/run/secrets/x",
		"locales/fr/auth.json", "auth.json", ".aws/credentials", "home/.docker/config.json", "aba", "abba", "abcba", "axbyc",
		"myapp.py", "Dockerfile", ".", "a/b/c/d", "a/b/c", "ab/c", "x/y", "/home/u/.docker/config.json", "p/q\\r", "/app/.npmrc", "/", "secrets/", "secrets/x.go", "a/secrets/y_test.go", "a/b", "a/bcd", "sz/qxzy", "q/a1.go", "q/c.go", ".netrc", "src/.pypirc", "x", "ax", "a*b", "yy", "a.env.example"}
	matched := 0
	for _, l := range lists {
		ps := newPatternSet(l)
		for _, p := range paths {
			want := matchPathPatterns(l, p)
			if got := ps.match(p); got != want {
				t.Errorf("patternSet(%q).match(%q) = %v, matchPathPatterns says %v", l, p, got, want)
			}
			if want {
				matched++
			}
		}
	}
	if matched == 0 {
		t.Fatal("no path matched: the test tests nothing")
	}
}

// TestToolCredentialFileNames: the credential files of the tools table's
// rows that hold only files are credential files by name, wherever they
// sit in the context; their public neighbours are not.
func TestToolCredentialFileNames(t *testing.T) {
	for p, want := range map[string]bool{
		".sentryclirc": true, "app/.sentryclirc": true, "credentials.tfrc.json": true,
		".terraform.d/credentials.tfrc.json": true, ".boto": true, "rclone.conf": true,
		".config/rclone/rclone.conf": true, ".databrickscfg": true, ".vault-token": true, ".s3cfg": true,
		".terraformrc": true, "secrets.yaml": true, "secrets.json": true,
		"sentry.properties.example": false, "rclone.conf.example": false, "terraform.tf": false, "main.tf": false,
		".vault_pass": true, "ansible/vault-password.txt": true, ".github_token": true, "ci/npm.token": true,
		"token.txt": true, "gitlab-token.txt": true, "api_key.txt": true,
		"secrets/github_token": true, "NPM_TOKEN": true, "db_password": true, ".sbt/.credentials": true,
		".ivy2/.credentials": true, ".huggingface/token": true, "csrf_token.py": false, "reset_password.html": false,
		"tokenizer.json": false, "tokens.txt": false, "token_test.go": false, "src/token.ts": false,
		"db/password.txt": true, "db_root_password.txt": true, "client-secret.txt": true, "secret.txt": true,
		"passwords.txt": false, "password_policy.md": false, "reset-password.html": false, "secrets_test.go": false,
	} {
		if got := IsCredentialFile(p, Config{}); got != want {
			t.Errorf("IsCredentialFile(%q) = %v, want %v", p, got, want)
		}
	}
	if !IsFieldConfigFile("app/keystore.properties", Config{}) {
		t.Error("keystore.properties (Android's signing passwords) is not searched for its secret fields")
	}
	if !IsFieldConfigFile("local.settings.json", Config{}) {
		t.Error("local.settings.json (Azure Functions' settings, connection strings among them) is not searched for its secret fields")
	}
}
