package rewrite

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Config tunes the engine. The zero value is the default behaviour.
//
// The same settings can be given in the Dockerfile, as a `# hushbuild=`
// comment among its leading comments, and by the caller (CLI flags, or the
// frontend's HUSHBUILD build-arg). They are merged with MergeConfig: lists
// are unioned, a boolean is on when either sets it, and the caller's
// target wins.
//
// The text form, shared by the directive and the build-arg, is a
// semicolon-separated list of key=value pairs:
//
//	# hushbuild=secrets=SENTRY_DSN,INTERNAL_URL;not-secrets=GPG_KEY;optional=true
type Config struct {
	// Secrets are extra ARG/ENV names to treat as secrets.
	Secrets []string
	// NotSecrets are names never to treat as secrets.
	NotSecrets []string
	// SecretFiles are extra file name patterns (path.Match syntax, matched
	// against the base name and the whole source path) to treat as
	// credential files when copied from the build context.
	SecretFiles []string
	// Optional makes the secret mounts of ARGs without a default optional
	// instead of required: a build without the secret runs the commands
	// with the variable unset instead of stopping.
	Optional bool
	// AllowRuntimeSecretFiles turns the error for a credential file that
	// stays in a stage reaching the image into a warning.
	AllowRuntimeSecretFiles bool
	// Target is the build target stage; empty means the last stage. It
	// decides which stages reach the image.
	Target string
	// Disable lists rule names not to run. Rules whose findings stop a
	// build cannot be disabled.
	Disable []string
	// RewriteHardcoded turns credentials written literally in ENV values
	// and ARG defaults into secrets the build must supply: the literal
	// leaves the Dockerfile (it still has to be rotated, since it is in the
	// Dockerfile's history).
	RewriteHardcoded bool
	// Strict is the caller's: the Dockerfile's directive may not relax
	// protection (not-secrets, disable, allow-runtime-secret-files). A
	// platform team sets it where builds run (CI), so that a Dockerfile
	// cannot switch the rules off.
	Strict bool
	// OmitRuntimeSecretFiles turns the error for a credential file that
	// stays to the end of a stage reaching the image into a warning: the
	// file stays on mounts for the build and is left out of the image,
	// and the container must get it at run time.
	OmitRuntimeSecretFiles bool
	// ContextFiles are the credential files the build context holds
	// (slash-separated paths relative to its root, after .dockerignore):
	// the frontend lists them, the CLI finds them with --context. A
	// broad COPY or ADD of the context would put them in a layer: it
	// excludes them, and the RUNs after it get each one as a read-only
	// bind mount from the context at the path the copy would have given
	// it, so the build command stays as it was. Not set by the text form.
	ContextFiles []string
	// ContextListed says that ContextFiles is the whole list (the
	// context was read): a COPY pattern that matches none of them copies
	// no credential file.
	ContextListed bool
	// ContextSelf are the paths of the build context that hold this
	// Dockerfile's own text while it holds a literal credential that
	// RewriteHardcoded takes out of the build: a COPY of the context
	// would put the literal back in a layer, so they are credential
	// files of the context like ContextFiles (which lists them too).
	// Not set by the text form.
	ContextSelf []string
	// ContextKeys are the files of the build context that are credential
	// files by their content whatever their name: those that hold a
	// private key (package keyfile), and configuration files that may hold
	// a credential field (IsFieldConfigFile: settings.xml, NuGet.Config)
	// that hold one (package fieldfile). Credential files like those the
	// built-in patterns name, listed in ContextFiles too. Not set by the
	// text form.
	ContextKeys []string
	// ContextToolFiles are those of ContextKeys that are, as a whole, a
	// build tool's credential configuration under a name of their own
	// (an npmrc, a netrc, a Docker config.json: keyfile.ToolConfig): like
	// an .npmrc, nothing in the container reads them at run time.
	ContextToolFiles []string
	// BaseImages are the defaults of the base images the Dockerfile's
	// stages start FROM (their config's user, environment and working
	// directory), by the FROM argument as written. The frontend resolves
	// them; without one, a stage FROM an image starts as root with HOME
	// /root and an unknown working directory. Not set by the text form.
	BaseImages map[string]ImageDefaults
}

// ImageDefaults is what a base image's config sets for the commands of a
// stage built FROM it.
type ImageDefaults struct {
	User       string
	Env        []string // KEY=VALUE
	WorkingDir string
	// OnBuild are the image's ONBUILD triggers, which run in the stage
	// built FROM it. The engine does not analyse them (the build-time
	// check does); the frontend's search of the context for private keys
	// reads the whole context when there are any, since a trigger's COPY
	// reads paths the Dockerfile does not name.
	OnBuild []string
}

// ConfigKeys are the keys of the text form, in documentation order.
var ConfigKeys = []string{"secrets", "not-secrets", "secret-files", "disable", "optional", "allow-runtime-secret-files", "omit-runtime-secret-files", "rewrite-hardcoded", "strict", "target"}

// ConfigDirective is the key of the Dockerfile comment directive and of the
// frontend build-arg that carry configuration.
const ConfigDirective = "hushbuild"

// ParseConfig reads the text form of a Config (see Config) and merges it
// onto base.
func ParseConfig(base Config, text string) (Config, error) {
	cfg := base
	cfg.Secrets = append([]string(nil), base.Secrets...)
	cfg.NotSecrets = append([]string(nil), base.NotSecrets...)
	cfg.SecretFiles = append([]string(nil), base.SecretFiles...)
	cfg.Disable = append([]string(nil), base.Disable...)
	// Errors name the setting by its place, never by its text: a value,
	// or a key mistyped in its place, can be a credential.
	for i, part := range strings.Split(text, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return base, fmt.Errorf("hushbuild config: setting %d is not key=value", i+1)
		}
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.TrimSpace(v)
		switch k {
		case "secrets":
			cfg.Secrets = append(cfg.Secrets, splitList(v)...)
		case "not-secrets":
			for _, pat := range splitList(v) {
				if err := CheckNotSecret(pat); err != nil {
					return base, fmt.Errorf("hushbuild config: %w", err)
				}
			}
			cfg.NotSecrets = append(cfg.NotSecrets, splitList(v)...)
		case "secret-files":
			cfg.SecretFiles = append(cfg.SecretFiles, splitList(v)...)
		case "disable":
			for j, name := range splitList(v) {
				if _, ok := lookupRuleFold(name); !ok {
					// A misspelt rule would silently disable nothing.
					return base, fmt.Errorf("hushbuild config: setting %d: name %d of disable is not a rule (known: %s)", i+1, j+1, ruleList())
				}
				if err := CheckDisable(name); err != nil {
					return base, fmt.Errorf("hushbuild config: %w", err)
				}
			}
			cfg.Disable = append(cfg.Disable, splitList(v)...)
		case "optional", "allow-runtime-secret-files", "rewrite-hardcoded", "omit-runtime-secret-files", "strict":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return base, fmt.Errorf("hushbuild config: setting %d: the value of %s is not a boolean (want true or false)", i+1, k)
			}
			switch k {
			case "optional":
				cfg.Optional = b
			case "rewrite-hardcoded":
				cfg.RewriteHardcoded = b
			case "omit-runtime-secret-files":
				cfg.OmitRuntimeSecretFiles = b
			case "strict":
				cfg.Strict = b
			default:
				cfg.AllowRuntimeSecretFiles = b
			}
		case "target":
			cfg.Target = v
		default:
			return base, fmt.Errorf("hushbuild config: setting %d has an unknown key (known: %s)", i+1, strings.Join(ConfigKeys, ", "))
		}
	}
	return cfg, nil
}

// String gives the text form of cfg, for logs and reports.
func (c Config) String() string {
	var parts []string
	add := func(k string, v []string) {
		if len(v) > 0 {
			s := append([]string(nil), v...)
			sort.Strings(s)
			parts = append(parts, k+"="+strings.Join(s, ","))
		}
	}
	add("secrets", c.Secrets)
	add("not-secrets", c.NotSecrets)
	add("secret-files", c.SecretFiles)
	add("disable", c.Disable)
	if c.Optional {
		parts = append(parts, "optional=true")
	}
	if c.AllowRuntimeSecretFiles {
		parts = append(parts, "allow-runtime-secret-files=true")
	}
	if c.RewriteHardcoded {
		parts = append(parts, "rewrite-hardcoded=true")
	}
	if c.OmitRuntimeSecretFiles {
		parts = append(parts, "omit-runtime-secret-files=true")
	}
	if c.Strict {
		parts = append(parts, "strict=true")
	}
	if c.Target != "" {
		parts = append(parts, "target="+c.Target)
	}
	return strings.Join(parts, ";")
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// disabled reports whether a rule's findings are turned off. Rules whose
// findings stop a build cannot be: turning them off would let a leaking
// Dockerfile through. Use not-secrets for a name that is not a secret.
func (c Config) disabled(rule string) bool {
	if r, ok := LookupRule(rule); ok && r.Severity >= SeverityError {
		return false
	}
	for _, d := range c.Disable {
		if strings.EqualFold(d, rule) {
			return true
		}
	}
	return false
}

// MergeConfig merges the caller's settings over the Dockerfile's: lists
// are unioned, a boolean is on when either turns it on, and the caller's
// target wins when set.
func MergeConfig(dockerfile, caller Config) Config {
	cat := func(a, b []string) []string { return append(append([]string(nil), a...), b...) }
	m := Config{
		Secrets:                 cat(dockerfile.Secrets, caller.Secrets),
		NotSecrets:              cat(dockerfile.NotSecrets, caller.NotSecrets),
		SecretFiles:             cat(dockerfile.SecretFiles, caller.SecretFiles),
		Disable:                 cat(dockerfile.Disable, caller.Disable),
		Optional:                dockerfile.Optional || caller.Optional,
		AllowRuntimeSecretFiles: dockerfile.AllowRuntimeSecretFiles || caller.AllowRuntimeSecretFiles,
		RewriteHardcoded:        dockerfile.RewriteHardcoded || caller.RewriteHardcoded,
		OmitRuntimeSecretFiles:  dockerfile.OmitRuntimeSecretFiles || caller.OmitRuntimeSecretFiles,
		Strict:                  dockerfile.Strict || caller.Strict,
		Target:                  dockerfile.Target,
		// The context is the caller's to list.
		ContextFiles:     cat(dockerfile.ContextFiles, caller.ContextFiles),
		ContextListed:    caller.ContextListed,
		ContextSelf:      cat(dockerfile.ContextSelf, caller.ContextSelf),
		ContextKeys:      cat(dockerfile.ContextKeys, caller.ContextKeys),
		ContextToolFiles: cat(dockerfile.ContextToolFiles, caller.ContextToolFiles),
		BaseImages:       caller.BaseImages,
	}
	if caller.Target != "" {
		m.Target = caller.Target
	}
	return m
}

// commonSecretNames are names that are secrets by every reading, for
// judging how broad a not-secrets pattern is.
var commonSecretNames = []string{
	"PASSWORD", "API_TOKEN", "AWS_SECRET_ACCESS_KEY", "npmToken", "NPM_TOKEN", "GITHUB_TOKEN",
	"DATABASE_PASSWORD", "DB_PASS", "API_KEY", "SECRET_KEY", "PRIVATE_KEY", "SSH_PRIVATE_KEY",
	"PYPI_PASSWORD", "DOCKER_AUTH", "CLIENT_SECRET", "SENTRY_AUTH_TOKEN",
}

// matchesEverySecret reports whether a not-secrets pattern is so broad that
// it switches the name rules off: it matches half or more of the names
// that are secrets by every reading (*, *_*, [A-Z]*), or it is a regular
// expression that would match every name (.*), which a not-secrets list
// does not take but whose intent is plain.
func matchesEverySecret(pat string) bool {
	switch strings.TrimSpace(pat) {
	case ".*", ".+", "^.*$", "^.+$", "^.*", ".*$", "(.*)", "all", "ALL":
		return true
	}
	n := 0
	for _, name := range commonSecretNames {
		if matchAnyName([]string{pat}, name) {
			n++
		}
	}
	return 2*n >= len(commonSecretNames)
}

// CheckNotSecret says why a not-secrets pattern is refused: one that
// matches every secret name would switch the name rules off, the secret
// build-arg stop included. It is refused wherever it comes from: the
// Dockerfile, .hushbuild.yaml or the caller.
func CheckNotSecret(pat string) error {
	if matchesEverySecret(pat) {
		return fmt.Errorf("not-secrets=%s would match every secret name and switch the name rules off: name the variables that are not secrets", pat)
	}
	return nil
}

// Relaxations lists the settings of a Dockerfile's directive that relax
// protection, which a strict caller refuses.
func (c Config) Relaxations() []string {
	var out []string
	if len(c.NotSecrets) > 0 {
		out = append(out, "not-secrets")
	}
	if len(c.Disable) > 0 {
		out = append(out, "disable")
	}
	if c.AllowRuntimeSecretFiles {
		out = append(out, "allow-runtime-secret-files")
	}
	return out
}

// CheckDisable says why a rule cannot be disabled: a rule whose findings
// stop a build (turning it off would let a leaking Dockerfile through;
// not-secrets names what is not a secret). Unknown names are the
// caller's to report.
func CheckDisable(name string) error {
	for _, r := range Rules {
		if strings.EqualFold(r.Name, name) && r.Severity >= SeverityError {
			return fmt.Errorf("disable=%s: %s cannot be disabled: its findings stop a build that would leak (use not-secrets for a name that is not a secret)", name, r.Name)
		}
	}
	return nil
}
