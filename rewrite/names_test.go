package rewrite

import (
	"slices"
	"testing"
)

func TestIsSecretName(t *testing.T) {
	secret := []string{
		"PASSWORD", "DATABASE_PASSWORD", "DB_PWD", "PYPI_PASS", "GITHUB_TOKEN", "NPM_TOKEN",
		"API_KEY", "APIKEY", "apiKey", "SECRET_KEY_BASE", "AWS_SECRET_ACCESS_KEY",
		"SSH_PRIVATE_KEY", "PRIVATE_KEY", "SENTRY_AUTH_TOKEN", "OPENAI_API_KEY",
		"COMPOSER_AUTH", "NPM_CONFIG__AUTH", "ORG_GRADLE_PROJECT_mavenPassword",
		"UV_INDEX_INTERNAL_PASSWORD", "SENTRY_DSN", "DB_CONNECTION_STRING", "KEY",
		"MY_ENV_SECRET", "my_env_secret", "CLIENT_SECRET", "GH_PAT", "TLS_KEY", "SIGNING_KEY", "COOKIE_SECRET",
		"SSH_KEY", "AUTH", "CREDENTIALS", "PASSPHRASE", "FEED_ACCESSTOKEN", "JWT_SECRET",
		"NUGET_AUTH_TOKEN", "PIP_INDEX_URL", "UV_DEFAULT_INDEX", "DATABASE_URL",
		"ORG_GRADLE_PROJECT_signingPassword", "UV_INDEX_PRIVATE_PASSWORD",
		"DBPASS", "ADMINPWD", "AWS_ACCESS_KEY_ID", "MYSQL_ROOTPASSWORD", "LDAP_ROOTPASS", "BUNDLE_GITHUB__COM",
		"POSTGRES_URL", "MONGO_URI", "REDIS_URI", "DB_DSN", "SONAR_LOGIN",
		"JWT", "CI_JOB_JWT", "CI_JOB_JWT_V2", "AUTHORIZATION", "HTTP_AUTHORIZATION", "BEARER", "API_BEARER",
		"COOKIE", "SESSION_COOKIE", "PG_DSN", "APP_DSN", "DB_CONN", "MONGO_CONN", "SLACK_WEBHOOK",
		"WEBHOOK", "DISCORD_WEBHOOK_URL", "SLACK_WEBHOOK_URL", "TEAMS_WEBHOOK_URI",
		"TS_AUTHKEY", "TAILSCALE_AUTHKEY", "HONEYCOMB_WRITEKEY", "LD_SDKKEY", "CONFIGCAT_SDKKEY",
		"MAXMIND_LICENSEKEY", "RAILS_MASTERKEY", "MINIO_ACCESSKEY", "MINIO_SECRETKEY", "SIGNINGKEY",
		"FCM_SERVERKEY", "WG_PRIVKEY", "authKey", "ENCRYPTIONKEY",
	}
	notSecret := []string{
		"PWD", "OLDPWD", "GPG_KEY", "GPG_KEYS", "PUBLIC_KEY", "SSH_PUBLIC_KEY", "KEY_ID",
		"PASSWORD_FILE", "TOKEN_URL", "NEXT_PUBLIC_API_KEY",
		"VITE_PUBLIC_TOKEN", "PYTHON_VERSION", "PYPI_USER", "PYPI_URL", "KEYCLOAK_URL",
		"MONKEY", "HOME", "PATH", "AUTH_TYPE", "SECRET_NAME", "TOKEN_ENDPOINT",
		"PYTHON_GET_PIP_SHA256", "LANG", "PASSPORT", "NODE_ENV", "PASSENGER_VERSION",
		"VITE_API_KEY", "NEXT_PUBLIC_STRIPE_KEY", "PIP_NO_CACHE_DIR", "NPM_CONFIG_LOGLEVEL", "JWT_EXPIRES_IN", "COOKIE_DOMAIN",
		"COMPASS_VERSION", "BYPASS_CACHE", "ACCESS_TOKEN_EXPIRE_MINUTES", "REFRESH_TOKEN_EXPIRE_DAYS",
		"TOKEN_LIFETIME", "ENABLE_AUTH", "PASSWORD_MIN_LENGTH", "MOUNT_SECRET", "API_BASE_URL",
		"BUNDLE_PATH", "BUNDLE_WITHOUT",
		"JWT_ALGORITHM", "JWT_ISSUER", "JWT_LEEWAY", "AUTHORIZATION_HEADER", "AUTHORIZATION_SERVER", "BEARER_PREFIX",
		"COOKIE_SECURE", "COOKIE_SAMESITE", "COOKIE_NAME", "DSN_HOST", "CONN_TIMEOUT", "MAX_CONN", "MAX_CLIENT_CONN",
		"CONN_MAX_AGE", "WEBHOOK_EVENTS", "WEBHOOK_ENABLED", "WEBHOOK_PATH", "PUBLIC_WEBHOOK_URL", "USE_JWT",
		"HOTKEY", "TURKEY", "WHISKEY", "PUBKEY", "SSH_PUBKEY", "TS_AUTHKEY_FILE", "HONEYCOMB_WRITEKEY_PATH",
		"LICENSEKEY_URL", "SDKKEY_ID",
	}
	for _, n := range secret {
		if !IsSecretName(n, Config{}) {
			t.Errorf("%s: not classified as a secret", n)
		}
	}
	for _, n := range notSecret {
		if IsSecretName(n, Config{}) {
			t.Errorf("%s: classified as a secret", n)
		}
	}
}

func TestIsURLSecretName(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want bool
	}{
		{"PIP_INDEX_URL", Config{}, true},
		{"pip_extra_index_url", Config{}, true},
		{"UV_DEFAULT_INDEX", Config{}, true},
		{"DATABASE_URL", Config{}, true},
		{"POSTGRES_URL", Config{}, true},
		{"MONGO_URI", Config{}, true},
		{"REDIS_URLS", Config{}, true},
		// Secrets by name, whatever the value.
		{"PYPI_PASS", Config{}, false},
		{"DB_DSN", Config{}, false},
		{"SENTRY_DSN", Config{}, false},
		{"SLACK_WEBHOOK_URL", Config{}, false},
		{"NPM_CONFIG__AUTH", Config{}, false},
		{"GITHUB_TOKEN", Config{}, false},
		// Not secrets at all.
		{"API_BASE_URL", Config{}, false},
		{"HTTP_PROXY", Config{}, false},
		{"NEXT_PUBLIC_DB_URL", Config{}, false},
		// The configuration decides.
		{"PIP_INDEX_URL", Config{Secrets: []string{"pip_index_url"}}, false},
		{"DATABASE_URL", Config{NotSecrets: []string{"DATABASE_*"}}, false},
	} {
		if got := IsURLSecretName(tc.name, tc.cfg); got != tc.want {
			t.Errorf("IsURLSecretName(%s, %v) = %v, want %v", tc.name, tc.cfg, got, tc.want)
		}
	}
}

func TestIsSecretNameConfig(t *testing.T) {
	cfg := Config{Secrets: []string{"internal_url", "DEPLOY_*"}, NotSecrets: []string{"API_KEY", "LEGACY_*"}}
	for name, want := range map[string]bool{
		"INTERNAL_URL": true, "DEPLOY_HOOK": true, "API_KEY": false, "LEGACY_TOKEN": false, "GITHUB_TOKEN": true,
	} {
		if got := IsSecretName(name, cfg); got != want {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
}

func TestSplitName(t *testing.T) {
	for in, want := range map[string]string{
		"ORG_GRADLE_PROJECT_mavenPassword": "org gradle project maven password",
		"apiKey":                           "api key",
		"HTTPServerToken":                  "http server token",
		"a.b-c_d":                          "a b c d",
	} {
		got := ""
		for i, tok := range splitName(in) {
			if i > 0 {
				got += " "
			}
			got += tok
		}
		if got != want {
			t.Errorf("splitName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestKebab(t *testing.T) {
	for in, want := range map[string]string{"SSHKeyFile": "ssh-key-file", "SecretArg": "secret-arg", "SecretExpandedAtParse": "secret-expanded-at-parse", "SecretInLog": "secret-in-log"} {
		if got := kebab(in); got != want {
			t.Errorf("kebab(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSplitNameASCII: splitName's way for ASCII names splits them as
// splitNameRunes does.
func TestSplitNameASCII(t *testing.T) {
	names := []string{"", "_", "__x__", "NPM_TOKEN", "npmToken", "APIKey", "myAPIKey2", "a.b-c", "HTTPSProxy", "ORG_GRADLE_PROJECT_mavenPassword",
		"X", "xY", "Xy", "XY", "x1Y", "X1y", "ABCdef", "abcDEF", "aB_cD-eF.gH", "AWS_SECRET_ACCESS_KEY", "--", "a..b", "ÄBC", "éxY", "pypi_user"}
	for _, n := range names {
		got, want := splitName(n), splitNameRunes(n)
		if !slices.Equal(got, want) || (got == nil) != (want == nil) {
			t.Errorf("splitName(%q) = %#v, splitNameRunes %#v", n, got, want)
		}
	}
}

// FuzzSplitNameASCII is TestSplitNameASCII on any name.
func FuzzSplitNameASCII(f *testing.F) {
	for _, n := range []string{"NPM_TOKEN", "myAPIKey2", "aB_cD-eF.gH", "--", "ORG_GRADLE_PROJECT_mavenPassword"} {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, n string) {
		got, want := splitName(n), splitNameRunes(n)
		if !slices.Equal(got, want) || (got == nil) != (want == nil) {
			t.Fatalf("splitName(%q) = %#v, splitNameRunes %#v", n, got, want)
		}
	})
}
