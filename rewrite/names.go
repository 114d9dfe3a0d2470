package rewrite

import (
	"path"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Secret-name classification.
//
// A name is split into lowercase tokens on '_', '-', '.' and camelCase
// boundaries ("ORG_GRADLE_PROJECT_mavenPassword" → org gradle project maven
// password). It is a secret when a token is a secret word, or when the
// token "key" is qualified by a word that makes it a credential, or when
// cookie, conn or webhook stands last, unless the last token names
// something that is not the credential itself (an id, a path, a URL, a
// version, …) or a token says it is public. Index and data-store URLs
// (PIP_INDEX_URL, POSTGRES_URL) are secrets for the password their value
// usually holds: IsURLSecretName tells them apart, for callers that see the
// value.
//
// The secret words include every token of BuildKit's SecretsUsedInArgOrEnv
// check (apikey, auth, credential(s), key, password, pword, passwd, secret,
// token), matched in any position rather than only first or last.

// secretTokens are tokens that make a name a secret wherever they stand.
var secretTokens = map[string]bool{
	"apikey": true, "auth": true, "credential": true, "credentials": true, "creds": true,
	"password": true, "passwd": true, "pword": true, "pwd": true, "pass": true, "pw": true,
	"passphrase": true, "secret": true, "secrets": true, "token": true, "tokens": true,
	"dsn": true, "privatekey": true, "pat": true, "authtoken": true, "accesstoken": true,
	"apitoken": true, "htpasswd": true, "jwt": true, "authorization": true, "bearer": true,
	"netrc": true, "npmrc": true, "pypirc": true, "kubeconfig": true,
}

// keyTokens make a name a secret when they stand as the last token, or
// before a secret-neutral token ("SECRET_KEY_BASE").
var keyTokens = map[string]bool{"key": true, "keys": true}

// lastTokens make a name a secret when they stand last: SESSION_COOKIE,
// DB_CONN, SLACK_WEBHOOK (COOKIE_DOMAIN and WEBHOOK_EVENTS are settings),
// unless a countWords token comes before them (MAX_CLIENT_CONN).
var lastTokens = map[string]bool{"cookie": true, "conn": true, "webhook": true}
var countWords = map[string]bool{"max": true, "min": true, "num": true, "idle": true, "pool": true}

// notKeyQualifiers are words before "key" that make it a public identifier:
// GPG_KEY in the official images holds a key fingerprint.
var notKeyQualifiers = map[string]bool{
	"gpg": true, "pgp": true, "public": true, "pub": true, "sort": true, "partition": true,
	"primary": true, "foreign": true, "cache": true, "idempotency": true, "map": true,
	"hotkey": true, "shortcut": true, "keyboard": true,
}

// nonSecretLast are last tokens that name something about a credential
// rather than the credential: its id, where it is, its format.
var nonSecretLast = map[string]bool{
	"id": true, "ids": true, "name": true, "names": true, "path": true, "paths": true,
	"file": true, "files": true, "dir": true, "directory": true, "version": true,
	"type": true, "url": true, "uri": true, "urls": true, "endpoint": true, "host": true,
	"port": true, "user": true, "username": true, "length": true, "len": true, "size": true,
	"count": true, "mode": true, "format": true, "server": true, "region": true,
	"fingerprint": true, "fingerprints": true, "algorithm": true, "alg": true, "scope": true,
	"scopes": true, "enabled": true, "disabled": true, "method": true, "provider": true,
	"header": true, "prefix": true, "location": true, "expiry": true, "expires": true,
	"ttl": true, "timeout": true, "issuer": true, "audience": true, "kind": true, "env": true,
	"minutes": true, "seconds": true, "hours": true, "days": true, "lifetime": true, "duration": true,
	"expire": true, "expiration": true, "interval": true, "limit": true, "max": true, "min": true,
	"retries": true, "policy": true, "rotation": true, "strength": true, "in": true, "leeway": true,
}

// switchFirst are first tokens of settings that turn a feature on or off:
// ENABLE_AUTH, USE_TOKEN, REQUIRE_PASSWORD.
var switchFirst = map[string]bool{
	"enable": true, "enabled": true, "disable": true, "disabled": true, "use": true, "require": true,
	"required": true, "allow": true, "skip": true, "no": true, "with": true, "without": true, "mount": true,
}

// passSuffixes make a token a secret when it ends with one (DBPASS,
// ADMINPWD, ROOTPASSWORD); passNotSecret are words that only look so.
var passSuffixes = []string{"password", "passwd", "pwd", "pass", "passphrase", "secret", "token"}
var passNotSecret = map[string]bool{
	"bypass": true, "compass": true, "encompass": true, "surpass": true, "trespass": true,
	"overpass": true, "underpass": true, "impass": true, "carpass": true,
}

// keySuffixes make a token a secret when it ends with one: a kind of key
// written as one word (TS_AUTHKEY, Tailscale's; HONEYCOMB_WRITEKEY; an
// SDKKEY, LICENSEKEY or MASTERKEY), where a token that only ends in
// "key" may be anything (MONKEY, HOTKEY, PUBKEY).
var keySuffixes = []string{
	"authkey", "writekey", "sdkkey", "licensekey", "masterkey", "accesskey", "secretkey",
	"signingkey", "appkey", "clientkey", "serverkey", "encryptionkey", "privkey", "passkey",
}

// dataStores are the first words of connection URLs that usually carry a
// password (POSTGRES_URL, MONGO_URI, REDIS_URI).
var dataStores = map[string]bool{
	"database": true, "db": true, "postgres": true, "postgresql": true, "pg": true, "mysql": true,
	"mariadb": true, "mongo": true, "mongodb": true, "redis": true, "amqp": true, "rabbitmq": true,
	"rabbit": true, "broker": true, "celery": true, "mssql": true, "sqlserver": true, "oracle": true,
	"cassandra": true, "neo4j": true, "couchdb": true, "memcached": true, "kafka": true, "nats": true,
	"elasticsearch": true, "elastic": true, "clickhouse": true, "sql": true, "dsn": true,
}

// publicTokens anywhere make a name public: NEXT_PUBLIC_*, *_PUBLIC_KEY.
var publicTokens = map[string]bool{"public": true, "pub": true, "publishable": true}

// wholeNotSecret are names that are never secrets.
var wholeNotSecret = map[string]bool{"PWD": true, "OLDPWD": true}

// credentialSettings are tool settings that carry a credential whatever
// their tokens say: auth blobs.
var credentialSettings = map[string]bool{
	"NPM_CONFIG__AUTH": true, "NPM_CONFIG__AUTHTOKEN": true, "COMPOSER_AUTH": true,
	"SENTRY_DSN": true, "GIT_ASKPASS_PASSWORD": true,
	// SonarQube's sonar.login is the analysis token (sonar.token since
	// 10.0): the CI variable that passes it.
	"SONAR_LOGIN": true,
	// Half of the AWS credential pair; passed with its secret half, and
	// flagged by BuildKit's own check.
	"AWS_ACCESS_KEY_ID": true,
}

// urlSettings are tool settings whose value is a URL that usually carries a
// password: package index and data-store URLs.
var urlSettings = map[string]bool{
	"PIP_INDEX_URL": true, "PIP_EXTRA_INDEX_URL": true, "UV_INDEX_URL": true, "UV_EXTRA_INDEX_URL": true,
	"UV_DEFAULT_INDEX": true, "UV_INDEX": true, "POETRY_REPOSITORIES_URL": true,
	"DATABASE_URL": true, "DB_URL": true, "REDIS_URL": true, "MONGO_URL": true, "MONGODB_URI": true,
	"AMQP_URL": true, "RABBITMQ_URL": true,
}

// publicPrefixes mark variables that front-end builds inline into the
// client bundle: public by design.
var publicPrefixes = []string{"NEXT_PUBLIC_", "VITE_", "REACT_APP_PUBLIC_", "EXPO_PUBLIC_", "NUXT_PUBLIC_", "PUBLIC_", "GATSBY_PUBLIC_"}

// splitName splits an ARG/ENV name into lowercase tokens.
func splitName(name string) []string {
	for i := 0; i < len(name); i++ {
		if name[i] >= utf8.RuneSelf {
			return splitNameRunes(name)
		}
	}
	// ASCII, as most names: splitNameRunes on bytes, each token lowered
	// from the name itself.
	isUpper := func(c byte) bool { return 'A' <= c && c <= 'Z' }
	isLower := func(c byte) bool { return 'a' <= c && c <= 'z' }
	// The tokens are cut from the name lowered once: ASCII lowers byte
	// for byte, so the offsets are the name's.
	lower := strings.ToLower(name)
	var buf [4]string
	tokens := buf[:0]
	start := -1 // of the current token
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_' || c == '-' || c == '.':
			if start >= 0 {
				tokens = append(tokens, lower[start:i])
				start = -1
			}
			continue
		case isUpper(c) && start >= 0:
			prev := name[i-1]
			nextLower := i+1 < len(name) && isLower(name[i+1])
			if isLower(prev) || '0' <= prev && prev <= '9' || isUpper(prev) && nextLower {
				tokens = append(tokens, lower[start:i])
				start = i
			}
		}
		if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		tokens = append(tokens, lower[start:])
	}
	if len(tokens) == 0 {
		return nil
	}
	return slices.Clone(tokens)
}

// splitNameRunes is splitName on any name.
func splitNameRunes(name string) []string {
	var tokens []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			tokens = append(tokens, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(name)
	for i, r := range rs {
		switch {
		case r == '_' || r == '-' || r == '.':
			flush()
			continue
		case unicode.IsUpper(r) && len(cur) > 0:
			prev := rs[i-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				flush()
			}
		}
		cur = append(cur, r)
	}
	flush()
	return tokens
}

// isSecretByTokens classifies a name by its tokens alone.
func isSecretByTokens(name string) bool { return secretByTokens(name, true) }

// secretByTokens classifies a name; urls says whether names that are
// secrets for the URL their value usually holds (urlSettings, POSTGRES_URL)
// count.
func secretByTokens(name string, urls bool) bool {
	if wholeNotSecret[name] {
		return false
	}
	up := strings.ToUpper(name)
	for _, p := range publicPrefixes {
		if strings.HasPrefix(up, p) {
			return false
		}
	}
	if credentialSettings[up] || urls && urlSettings[up] {
		return true
	}
	// Bundler reads host credentials from BUNDLE_<HOST>, with __ for dots:
	// BUNDLE_GITHUB__COM.
	if strings.HasPrefix(up, "BUNDLE_") && strings.Contains(up[len("BUNDLE_"):], "__") {
		return true
	}
	tokens := splitName(name)
	if len(tokens) >= 2 {
		last, prev := tokens[len(tokens)-1], tokens[len(tokens)-2]
		isURL := last == "url" || last == "uri" || last == "urls"
		// A webhook URL is the credential itself: its path is the token.
		if isURL && prev == "webhook" || last == "dsn" && dataStores[prev] || urls && isURL && dataStores[prev] {
			return true
		}
	}
	if len(tokens) > 1 && switchFirst[tokens[0]] {
		return false
	}
	if len(tokens) == 0 {
		return false
	}
	for _, t := range tokens {
		if publicTokens[t] {
			return false
		}
	}
	last := tokens[len(tokens)-1]
	if nonSecretLast[last] && len(tokens) > 1 {
		return false
	}
	if lastTokens[last] && !slices.ContainsFunc(tokens, func(t string) bool { return countWords[t] }) {
		return true
	}
	for i, t := range tokens {
		if secretTokens[t] {
			return true
		}
		if !passNotSecret[t] {
			for _, suf := range passSuffixes {
				if len(t) > len(suf) && strings.HasSuffix(t, suf) {
					return true
				}
			}
		}
		for _, suf := range keySuffixes {
			if strings.HasSuffix(t, suf) {
				return true
			}
		}
		if keyTokens[t] {
			if i > 0 && notKeyQualifiers[tokens[i-1]] {
				continue
			}
			return true
		}
		// "connection string" and "private key" split across tokens.
		if i+1 < len(tokens) {
			pair := t + " " + tokens[i+1]
			if pair == "connection string" || pair == "conn string" || pair == "conn str" {
				return true
			}
		}
	}
	return false
}

// IsSecretName reports whether an ARG or ENV name holds a secret under cfg:
// cfg.NotSecrets wins over cfg.Secrets, which wins over the built-in
// classification. Names in the config match case-insensitively and may be
// path.Match patterns ("NEXT_PUBLIC_*").
func IsSecretName(name string, cfg Config) bool {
	if matchAnyName(cfg.NotSecrets, name) {
		return false
	}
	if matchAnyName(cfg.Secrets, name) {
		return true
	}
	return isSecretByTokens(name)
}

// IsURLSecretName reports whether name is a secret under cfg only because
// of the URL its value usually holds (PIP_INDEX_URL, POSTGRES_URL): such a
// value without a password in it is no secret. A name cfg lists either way
// is decided by cfg.
func IsURLSecretName(name string, cfg Config) bool {
	if matchAnyName(cfg.Secrets, name) || matchAnyName(cfg.NotSecrets, name) {
		return false
	}
	return secretByTokens(name, true) && !secretByTokens(name, false)
}

func matchAnyName(patterns []string, name string) bool {
	up := strings.ToUpper(name)
	for _, p := range patterns {
		p = strings.ToUpper(p)
		if p == up {
			return true
		}
		if ok, err := path.Match(p, up); err == nil && ok {
			return true
		}
	}
	return false
}
