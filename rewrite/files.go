package rewrite

import (
	"path"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"slices"
	"strings"
)

// Credential files: copied from the build context, they stay in a layer
// even when a later RUN deletes them.

// secretFilePatterns match a source path's base name (or, with a '/', its
// trailing path components): the credential files of build tools (the
// tools table) and those of applications.
var secretFilePatterns = append([]string{
	".env", ".env.*", "*.env", ".envrc",
	".pgpass", ".htpasswd",
	"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk",
	"*.pem", "*.key", "*.p12", "*.pfx", "*.jks", "*.keystore", "*.ppk",
	"credentials.json", "service-account*.json",
	".kube/config", "kubeconfig",
	"secrets.env", "secret.env",
	"ssh_host_*_key", "*serviceAccount*.json", "*service_account*.json", "*_key.json", "*-key.json",
	"*Key.json", "key.json", "secrets/*",
	".my.cnf", "secrets.yml",
	// The same by other extensions: secrets.yaml, ASP.NET Core's user
	// secrets (secrets.json), Streamlit's .streamlit/secrets.toml.
	"secrets.yaml", "secrets.json", "secrets.toml",
	// PKCS #8 private keys (Apple's AuthKey_<KEYID>.p8, Snowflake's
	// rsa_key.p8), Firebase's service account keys
	// (PROJECT-firebase-adminsdk-XXXXX-0123456789.json) and Google's OAuth
	// client secrets (client_secret_<ID>.apps.googleusercontent.com.json).
	"*.p8", "*firebase-adminsdk*.json", "client_secret*.json",
	// Ansible's vault password file, and tokens kept in files of their
	// own (.github_token, npm.token, gitlab-token.txt, api_key.txt).
	".vault_pass", ".vault_pass.txt", "vault_pass.txt", ".vault-password", ".vault-password.txt", "vault-password.txt",
	".*_token", ".*-token", "*.token", "token.txt", "*_token.txt", "*-token.txt", "api_key.txt", "apikey.txt", "api-key.txt",
	// The same without an extension, as Compose secrets' files are often
	// named (github_token, NPM_TOKEN, db_password), and sbt's, Ivy's and
	// Hugging Face's older token files.
	"*_token", "*-token", "*_TOKEN", "*_password", "*_PASSWORD", ".sbt/.credentials", ".ivy2/.credentials", ".huggingface/token",
	// Passwords kept in a file of their own, as Compose's secrets are in
	// Docker's documentation (db/password.txt, db_root_password.txt).
	"password.txt", "*_password.txt", "*-password.txt", "secret.txt", "*_secret.txt", "*-secret.txt",
	// Command-line tools' logins, copied to HOME for a download or a
	// deploy: Kaggle's API key (kaggle.json: a "key"), the Azure CLI's
	// token caches, Maven's master password, Google Apps Script's
	// clasp, the Firebase and Expo CLIs' sessions, Cloudflare's wrangler.
	"kaggle.json", ".azure/accessTokens.json", ".azure/msal_token_cache.json", ".azure/msal_token_cache.bin",
	".azure/service_principal_entries.json", "settings-security.xml", ".clasprc.json",
	".config/configstore/firebase-tools.json", ".expo/state.json", ".wrangler/config/default.toml",
}, toolFilePatterns(true)...)

// toolConfigPatterns are credential files that build tools read (package
// managers, git, registries; the tools table): a broad copy brings them
// in by accident, and nothing in a container reads them at run time. The
// others (env files, keys, service accounts) are often the application's
// own run-time configuration.
var toolConfigPatterns = toolFilePatterns(false)

// notSecretFilePatterns are templates and public halves that look like
// credential files by name but are not.
var notSecretFilePatterns = []string{
	".env.example", ".env.sample", ".env.template", ".env.dist", ".env.defaults", "*.env.example",
	"*.pub", "*.pub.pem", "*public*.pem", "*public*.key", "*.crt", "*public*.json",
	// Source code of a package named secrets, and translations named auth.
	"secrets/*.go", "secrets/*.py", "secrets/*.js", "secrets/*.ts", "secrets/*.rb", "secrets/*.java",
	"secrets/*.rs", "secrets/*.php", "secrets/*.md", "secrets/*_test.go",
	"locales/*/auth.json", "i18n/*/auth.json", "lang/*/auth.json", "translations/*/auth.json",
}

// trustStoreDirs hold the certificates a system trusts: a file copied
// there is a certificate whatever its name (corp-ca.pem).
var trustStoreDirs = []string{"/usr/local/share/ca-certificates/", "/usr/share/ca-certificates/", "/etc/ssl/certs/", "/etc/pki/ca-trust/source/anchors/", "/etc/pki/tls/certs/"}

// inTrustStore reports whether an absolute destination is in a trust
// store directory.
func inTrustStore(dest string) bool {
	if !strings.HasSuffix(dest, "/") {
		dest = path.Clean(dest)
	}
	for _, d := range trustStoreDirs {
		if strings.HasPrefix(dest+"/", d) {
			return true
		}
	}
	return false
}

// secretDirNames are directories that hold credentials as a whole.
var secretDirNames = map[string]bool{".ssh": true, ".aws": true, ".gnupg": true, ".docker": true, ".kube": true, ".envs": true}

// envFilePatterns are the files a command sources as variables.
var envFilePatterns = []string{".env", ".env.*", "*.env", "config.env", ".envrc"}

func matchPathPatterns(patterns []string, p string) bool {
	p = strings.TrimPrefix(path.Clean(p), "./")
	return matchCleaned(patterns, p, path.Base(p))
}

// matchCleaned is matchPathPatterns on a cleaned path and its base name.
func matchCleaned(patterns []string, p, base string) bool {
	for _, pat := range patterns {
		if matchOne(pat, p, base) {
			return true
		}
	}
	return false
}

// matchOne is matchCleaned on one pattern.
func matchOne(pat, p, base string) bool {
	// Most patterns are a name, *.ext or name.*: test those without
	// path.Match.
	if !hasMeta(pat) {
		switch star := strings.IndexByte(pat, '*'); {
		case star < 0:
			return base == pat
		case star == 0 && !strings.Contains(pat[1:], "*"):
			return strings.HasSuffix(base, pat[1:])
		case star == len(pat)-1:
			return strings.HasPrefix(base, pat[:star])
		case !strings.Contains(pat, `\`):
			// Stars inside: what path.Match takes must start and end
			// as the pattern does.
			if !strings.HasPrefix(base, pat[:star]) || !strings.HasSuffix(base, pat[strings.LastIndexByte(pat, '*')+1:]) {
				return false
			}
		}
	}
	if strings.Contains(pat, "/") {
		if tail, ok := pathTail(p, strings.Count(pat, "/")+1); ok {
			if ok, _ := path.Match(pat, tail); ok {
				return true
			}
		}
		return false
	}
	ok, _ := path.Match(pat, base)
	return ok
}

// patternSet is a list of patterns for matchPathPatterns sorted by the
// fast path each takes: whole base names (looked up, not compared one by
// one), *SUFFIX, PREFIX* and the others. It matches what the list
// matches: the tables of credential files are tested on every file of
// every COPY.
type patternSet struct {
	names              map[string]bool
	suffixes, prefixes []string
	// byBase are the patterns of trailing components whose last one is
	// a plain name (.docker/config.json), by that name: only a path of
	// that base name can match them.
	byBase map[string][]string
	rest   []restPattern
}

// restPattern is a pattern of a set's others, with what a base name it
// matches must start and end with (the text around the stars of its last
// component, when that has no other wildcard).
type restPattern struct {
	pat      string
	pre, suf string
}

func newPatternSet(patterns []string) *patternSet {
	ps := &patternSet{names: map[string]bool{}, byBase: map[string][]string{}}
	for _, pat := range patterns {
		if hasMeta(pat) {
			if i := strings.LastIndexByte(pat, '/'); i >= 0 && i+1 < len(pat) && !strings.ContainsAny(pat[i+1:], `*?[\`) {
				ps.byBase[pat[i+1:]] = append(ps.byBase[pat[i+1:]], pat)
				continue
			}
			ps.rest = append(ps.rest, newRestPattern(pat))
			continue
		}
		// As matchCleaned's fast paths.
		switch star := strings.IndexByte(pat, '*'); {
		case star < 0:
			ps.names[pat] = true
		case star == 0 && !strings.Contains(pat[1:], "*"):
			ps.suffixes = append(ps.suffixes, pat[1:])
		case star == len(pat)-1:
			ps.prefixes = append(ps.prefixes, pat[:star])
		default:
			ps.rest = append(ps.rest, newRestPattern(pat))
		}
	}
	return ps
}

func newRestPattern(pat string) restPattern {
	r := restPattern{pat: pat}
	last := pat[strings.LastIndexByte(pat, '/')+1:]
	if !strings.ContainsAny(last, `?[\`) {
		if star := strings.IndexByte(last, '*'); star >= 0 {
			r.pre, r.suf = last[:star], last[strings.LastIndexByte(last, '*')+1:]
		} else {
			r.pre = last // a plain name: base must be it (prefix and suffix)
			r.suf = last
		}
	}
	return r
}

func (ps *patternSet) match(p string) bool {
	p = strings.TrimPrefix(path.Clean(p), "./")
	base := path.Base(p)
	if ps.names[base] {
		return true
	}
	for _, s := range ps.suffixes {
		if strings.HasSuffix(base, s) {
			return true
		}
	}
	for _, s := range ps.prefixes {
		if strings.HasPrefix(base, s) {
			return true
		}
	}
	if pats := ps.byBase[base]; len(pats) > 0 && matchCleaned(pats, p, base) {
		return true
	}
	for _, r := range ps.rest {
		if strings.HasPrefix(base, r.pre) && strings.HasSuffix(base, r.suf) && matchOne(r.pat, p, base) {
			return true
		}
	}
	return false
}

var (
	secretFileSet    = newPatternSet(secretFilePatterns)
	notSecretFileSet = newPatternSet(notSecretFilePatterns)
	fieldConfigSet   = newPatternSet(fieldConfigPatterns)
)

// hasMeta reports a '/', '[' or '?' in a pattern (strings.ContainsAny
// builds its set on every call).
func hasMeta(pat string) bool {
	for i := 0; i < len(pat); i++ {
		if c := pat[i]; c == '/' || c == '[' || c == '?' {
			return true
		}
	}
	return false
}

// pathTail returns the last n slash-separated components of p, false
// when p has fewer.
func pathTail(p string, n int) (string, bool) {
	i := len(p)
	for ; n > 1; n-- {
		j := strings.LastIndexByte(p[:i], '/')
		if j < 0 {
			return "", false
		}
		i = j
	}
	return p[strings.LastIndexByte(p[:i], '/')+1:], true
}

// isSecretFile reports whether a context path names a credential file.
func isSecretFile(p string, cfg Config) bool {
	clean := strings.TrimPrefix(path.Clean(p), "./")
	// A file that holds a private key is one whatever its name.
	if slices.Contains(cfg.ContextKeys, clean) {
		return true
	}
	if notSecretFileSet.match(p) {
		return false
	}
	// (The lists of the configuration are most often empty: their
	// checks are skipped then.)
	return secretFileSet.match(p) || len(cfg.SecretFiles) > 0 && matchPathPatterns(cfg.SecretFiles, p) ||
		len(cfg.ContextSelf) > 0 && slices.Contains(cfg.ContextSelf, strings.TrimPrefix(path.Clean(p), "./")) || inSecretDir(p) || gitModuleConfig(p)
}

// publicInSecretDir are the files of credential directories that hold no
// credential: host keys, ssh and AWS settings.
var publicInSecretDir = []string{".ssh/config", ".ssh/known_hosts", ".ssh/known_hosts.old", ".ssh/authorized_keys", ".ssh/environment", ".aws/config"}

// inSecretDir reports whether p is a file inside a credential directory
// (.ssh, .aws, .gnupg, .docker, .kube, .envs) other than its public ones:
// a private key there may have any name.
func inSecretDir(p string) bool {
	p = strings.TrimPrefix(path.Clean(p), "./")
	for d := path.Dir(p); d != "." && d != "/" && d != ""; d = path.Dir(d) {
		if secretDirNames[path.Base(d)] {
			return !matchPathPatterns(publicInSecretDir, p)
		}
	}
	return false
}

// gitModuleConfig reports the config of a submodule's git directory
// (.git/modules/NAME/.../config): a checkout with submodules writes the
// credential header there as it does in .git/config.
func gitModuleConfig(p string) bool {
	p = "/" + strings.TrimPrefix(path.Clean(p), "./")
	return path.Base(p) == "config" && strings.Contains(p, "/.git/modules/")
}

func isEnvFile(p string) bool {
	if !strings.Contains(path.Base(p), "env") {
		return false
	}
	if notSecretFileSet.match(p) {
		return false
	}
	return matchPathPatterns(envFilePatterns, p)
}

// isSecretDir reports whether a context path is a credential directory.
func isSecretDir(p string) bool {
	return secretDirNames[path.Base(strings.TrimSuffix(path.Clean(p), "/"))]
}

// secretID is the secret id for a context path: the path as written,
// without a leading ./ .
func secretID(src string) string {
	s := strings.TrimPrefix(src, "./")
	for strings.HasPrefix(s, "./") {
		s = strings.TrimPrefix(s, "./")
	}
	return strings.TrimPrefix(path.Clean("/"+s), "/")
}

// fieldConfigPatterns are configuration files that may hold a credential
// field (a package feed's password) as well as plain settings: NuGet's and
// Maven's, and token.json. They are no credential files by name; the
// build-time check searches the secret fields they hold.
var fieldConfigPatterns = append([]string{"nuget.config", "NuGet.Config", "NuGet.config", "Nuget.Config", "settings.xml",
	// Google's API quickstarts save the user's OAuth token (its
	// refresh_token) here; other tools name other things token.json.
	"token.json",
	// Application settings that hold a database's or a service's
	// password next to plain settings: ASP.NET Core's (a connection
	// string's Password=), Spring Boot's, Terraform's variables, Rails'
	// database.yml, WordPress's wp-config.php.
	"appsettings*.json", "local.settings.json", "application*.properties", "application*.yml", "application*.yaml", "*.tfvars",
	"database.yml", "wp-config.php",
	// Android's signing settings (storePassword, keyPassword).
	"keystore.properties", "signing.properties",
	// dbt's connection profiles (password:, token:), the settings of
	// command-line tools that keep a token next to plain options (ngrok's
	// authtoken, DigitalOcean's doctl, GitHub's hub, the CircleCI and
	// Fly.io CLIs), and the per-environment files of node-config
	// (config/production.json), which hold a database's password next to
	// plain settings.
	"profiles.yml", "profiles.yaml", "ngrok.yml", ".config/doctl/config.yaml", ".config/hub", ".circleci/cli.yml", ".fly/config.yml",
	"config/production*.json", "config/production*.yml", "config/production*.yaml", "config/production*.json5",
	"config/staging*.json", "config/staging*.yml", "config/staging*.yaml",
	"config/local*.json", "config/local*.yml", "config/local*.yaml", "config/default*.json", "config/default*.yml", "config/default*.yaml",
	// Package managers' settings, whose index or channel URLs may carry
	// a password next to plain options: conda's .condarc, RubyGems'
	// .gemrc (and the system's gemrc), Go's environment file (GOPROXY)
	// and uv's uv.toml.
	".condarc", "condarc", ".gemrc", "gemrc", "go/env", "uv.toml"}, dependencyListPatterns...)

// dependencyListPatterns are lists of dependencies whose index or source
// URLs may carry a password (pip's --extra-index-url
// https://ci:PASSWORD@host/simple at the top of requirements.txt, a
// Gemfile's or Pipfile's source): configuration files that may hold a
// credential field (fieldConfigPatterns), of which only those URLs are
// read as fields (verify's dependency lists). Nearly every Python or
// Ruby Dockerfile copies one by name, and few hold a credential: one
// copied while the build context is not read is no note.
var dependencyListPatterns = []string{"requirements*.txt", "requirements/*.txt", "constraints*.txt", "Gemfile", "gems.rb", "Pipfile"}

// isDependencyList reports whether a context path is one of
// dependencyListPatterns.
func isDependencyList(p string) bool { return matchPathPatterns(dependencyListPatterns, p) }

// IsFieldConfigFile reports whether a context path is one of
// fieldConfigPatterns (and no credential file).
func IsFieldConfigFile(p string, cfg Config) bool {
	return fieldConfigSet.match(p) && !isSecretFile(p, cfg)
}

// fieldConfigNote reports a configuration file that may hold a
// credential field, copied while the build context is not read (the CLI
// without --context): whether it is a credential file depends on its
// content.
func (a *analyzer) fieldConfigNote(n *parser.Node, clean string) {
	a.fieldConfigNoteAs(n, clean, "")
}

// fieldConfigNoteAs is fieldConfigNote for a file copied to dest, a
// configuration file's name its own name is not (COPY ci/nuget.ci.config
// /root/.nuget/NuGet/NuGet.Config): its fields are those of a file of
// that name.
func (a *analyzer) fieldConfigNoteAs(n *parser.Node, clean, dest string) {
	as := clean
	what := clean
	if dest != "" {
		as = dest
		what = clean + " to " + dest
	}
	placeholder := ""
	switch base := path.Base(as); {
	case base == "settings.xml":
		placeholder = "${env.NAME}"
	case strings.EqualFold(base, "nuget.config"):
		placeholder = "%NAME%"
	case strings.HasPrefix(base, "application"):
		placeholder = "${NAME}" // Spring Boot reads the environment
	}
	fix := "give the build context (--context DIR) so that its fields are read; if it holds a credential, pass the file with --secret and mount it in the RUNs that need it"
	if placeholder != "" {
		fix += ", or write the credential fields as " + placeholder + " and pass the values as secrets in the environment"
	}
	a.add(RuleSecretFile, n.StartLine, n.EndLine, false, fix,
		"%s copies %s, a configuration file that may hold a credential (a password or token field); without the build context its fields are unknown: with a real credential field it is a credential file and would stay in a layer, with only placeholders it is an ordinary file", strings.ToUpper(n.Value), what)
}

// sourcedCopies reports the files of the build context, copied by name and
// no env or credential files by their name, that a RUN sources: the
// variables they set are in the layer of the copy. A caller that reads the
// context (Result.Sourced) makes those that assign secret-named variables
// credential files (Config.ContextKeys); without the context the
// assumption is a warning.
func (a *analyzer) sourcedCopies(st *stageState, n *parser.Node, sourced []string, unknown bool) {
	if unknown {
		// A path sourced that is not resolved may be any file the stage
		// copied by name: each is read by the caller that reads the
		// context, and those that assign secret-named variables are
		// credential files.
		for _, c := range st.copied {
			if c.src != "" && !isEnvFile(c.src) && !isSecretFile(c.src, a.cfg) && !slices.Contains(a.sourced, c.src) {
				a.sourced = append(a.sourced, c.src)
			}
		}
	}
	for _, s := range sourced {
		c, ok := st.copied[s]
		if !ok {
			// A file a broad copy of the context brought in (COPY . .
			// then . ./ci/env.sh): the caller that reads the context
			// decides on it; without the context nothing is said, as
			// for any file of a broad copy.
			rels := broadSources(st, s)
			if rel := patternSource(st, s); rel != "" {
				rels = append(rels, rel)
			}
			if len(rels) == 0 {
				// Brought by a COPY --from of another stage, which
				// copied it from the context: the files of the
				// context that could be it.
				rels = a.otherStageSources(st, s)
			}
			for _, rel := range rels {
				if rel != "" && !isEnvFile(rel) && !isSecretFile(rel, a.cfg) && !slices.Contains(a.sourced, rel) {
					a.sourced = append(a.sourced, rel)
				}
			}
			continue
		}
		if isEnvFile(c.src) || isSecretFile(c.src, a.cfg) {
			continue
		}
		if !slices.Contains(a.sourced, c.src) {
			a.sourced = append(a.sourced, c.src)
		}
		if a.cfg.ContextListed {
			continue
		}
		a.add(RuleSourcedEnvFile, n.StartLine, n.EndLine, false,
			"give the build context (--context DIR) so that the names it assigns are read; if it sets secrets, keep them out of it and pass them with --secret, or copy it as an env file (*.env) so that it becomes a secret mount",
			"this RUN sources %s, copied from the build context on line %d: without the context the variables it sets are unknown; if it assigns secrets, it is an env file that the copy left in a layer", c.src, c.line)
	}
}

// broadSources are the paths in the build context of the file at p (an
// absolute path) that the broad copies of the stage may have brought in:
// a copy of a directory, or of a file without an extension, which the
// engine cannot tell from a directory (COPY ci/buildvars /opt/buildvars,
// COPY ci/buildvars /opt/).
func broadSources(st *stageState, p string) []string {
	var out []string
	for i := len(st.broad) - 1; i >= 0; i-- {
		b := st.broad[i]
		if !path.IsAbs(b.destAbs) {
			continue
		}
		dest := strings.TrimSuffix(b.destAbs, "/")
		if p == dest && b.srcDir != "." {
			out = append(out, b.srcDir)
			continue
		}
		if !strings.HasPrefix(p, dest+"/") {
			continue
		}
		rel := strings.TrimPrefix(p, dest+"/")
		if b.srcDir != "." && rel == path.Base(b.srcDir) {
			out = append(out, b.srcDir)
		}
		if excludedBy(b.excludes, rel) {
			continue
		}
		out = append(out, path.Clean(path.Join(b.srcDir, rel)))
	}
	return out
}

// otherStageSources are the paths in the build context that the file at
// p (an absolute path), which no copy of its own stage brought in, may
// come from through another stage (COPY . /src/ there, COPY --from=src
// /src /app here): the files that stage copied by name with p's name,
// those its copies by a pattern match, and p's trailing components under
// the directories its broad copies copied.
func (a *analyzer) otherStageSources(st *stageState, p string) []string {
	var out []string
	base := path.Base(p)
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for _, o := range a.states {
		if o == nil || o == st {
			continue
		}
		for dest, c := range o.copied {
			if path.Base(dest) == base {
				out = append(out, c.src)
			}
		}
		for _, c := range o.patterns {
			if ok, err := path.Match(c.glob, base); err == nil && ok {
				out = append(out, path.Join(c.srcDir, base))
			}
		}
		for _, b := range o.broad {
			for k := range parts {
				rel := strings.Join(parts[k:], "/")
				if !excludedBy(b.excludes, rel) {
					out = append(out, path.Clean(path.Join(b.srcDir, rel)))
				}
			}
			if b.srcDir != "." && path.Base(b.srcDir) == base {
				out = append(out, b.srcDir)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// patternSource is the path in the build context of the file at p (an
// absolute path) that a copy by a pattern may have brought in, or "".
func patternSource(st *stageState, p string) string {
	for i := len(st.patterns) - 1; i >= 0; i-- {
		c := st.patterns[i]
		if path.Dir(p) != c.destAbs {
			continue
		}
		if ok, err := path.Match(c.glob, path.Base(p)); err == nil && ok {
			return path.Join(c.srcDir, path.Base(p))
		}
	}
	return ""
}

// IsCredentialFile reports whether a context path names a credential file
// (the built-in patterns and cfg.SecretFiles, less templates and public
// halves).
func IsCredentialFile(p string, cfg Config) bool { return isSecretFile(p, cfg) }

// ContextFilePatterns are include patterns, in BuildKit's syntax for a
// local source, that select every file of a build context whose name
// could be a credential file's; IsCredentialFile decides on each.
func ContextFilePatterns(cfg Config) []string {
	var out []string
	for d := range secretDirNames {
		out = append(out, "**/"+d+"/**")
	}
	out = append(out, "**/.git/modules/**/config")
	slices.Sort(out)
	for _, pats := range [][]string{secretFilePatterns, cfg.SecretFiles, fieldConfigPatterns} {
		for _, p := range pats {
			out = append(out, "**/"+strings.TrimPrefix(p, "/"))
		}
	}
	return out
}
