// Package rewrite is hushbuild's engine: it parses a Dockerfile with
// BuildKit's own parser, finds every place where a build secret would reach
// the image (secret ARGs and ENVs, copied credential files, sourced env
// files, hard-coded credentials), rewrites the Dockerfile to use BuildKit
// secret and ssh mounts instead, and reports what it did and what the build
// now needs.
//
// The package has no BuildKit client code: it takes bytes and returns bytes,
// findings and requirements. The frontend and the CLI are thin shells
// around Rewrite.
package rewrite

// Severity orders findings. A finding at SeverityError stops a build.
type Severity int

const (
	SeverityInfo Severity = iota
	SeverityWarning
	SeverityError
)

func (s Severity) String() string {
	switch s {
	case SeverityInfo:
		return "info"
	case SeverityWarning:
		return "warning"
	case SeverityError:
		return "error"
	}
	return "unknown"
}

// ParseSeverity reads "info", "warning" or "error".
func ParseSeverity(s string) (Severity, bool) {
	switch s {
	case "info", "note":
		return SeverityInfo, true
	case "warning", "warn":
		return SeverityWarning, true
	case "error":
		return SeverityError, true
	}
	return 0, false
}

// Range is a 1-based, inclusive line range in the input Dockerfile.
// Since the rewrite keeps every instruction on its line, the same range
// holds in the output.
type Range struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

// Finding is one thing the engine found, with what it did about it.
type Finding struct {
	// Rule is the stable rule name (see Rules), e.g. "SecretArg".
	Rule     string   `json:"rule"`
	Severity Severity `json:"-"`
	Range    Range    `json:"range"`
	// Message says what was found. It never contains a secret value.
	Message string `json:"message"`
	// Fix is the fix applied (Fixed) or the fix the user must make.
	Fix   string `json:"fix,omitempty"`
	Fixed bool   `json:"fixed"`
	// Suppression is set when a `# hushbuild:ignore=` comment of the
	// Dockerfile covers the finding (see Suppressed).
	Suppression Suppression `json:"suppression,omitzero"`
}

// SecretKind says how a build supplies a secret.
type SecretKind string

const (
	// SecretEnv is a secret the build reads from an environment variable
	// of the caller (`--secret id=X,env=X`).
	SecretEnv SecretKind = "env"
	// SecretFile is a secret the build reads from a file
	// (`--secret id=X,src=PATH`).
	SecretFile SecretKind = "file"
	// SSH is an ssh agent socket (`--ssh default`).
	SSH SecretKind = "ssh"
)

// Requirement is one secret or ssh socket the rewritten Dockerfile needs.
type Requirement struct {
	Kind SecretKind `json:"kind"`
	// ID is the secret id (or the ssh id, "default" unless set).
	ID string `json:"id"`
	// Env is the caller's environment variable for SecretEnv.
	Env string `json:"env,omitempty"`
	// Src is the path of the file, relative to the build context
	// directory, for SecretFile.
	Src string `json:"src,omitempty"`
	// Required is true when a build without it fails.
	Required bool `json:"required"`
	// Flag is the exact build flag that supplies it, e.g.
	// "--secret id=PYPI_PASS,env=PYPI_PASS" or "--ssh default".
	Flag string `json:"flag"`
	// Lines are the instructions that use it.
	Lines []int `json:"lines"`
}

// Result is what Rewrite returns.
type Result struct {
	// Output is the rewritten Dockerfile. It equals the input byte for
	// byte when nothing was rewritten.
	Output []byte
	// Changed reports whether Output differs from the input.
	Changed bool
	// Findings are sorted by line, then rule.
	Findings []Finding
	// Requirements lists the secrets and ssh sockets that the rewritten
	// Dockerfile needs, sorted by ID. It includes mounts that were already
	// in the input.
	Requirements []Requirement
	// SecretArgs are the ARG names the rewrite removed because they hold
	// or carry a secret (secret-named, fed to a secret ENV, or built from
	// a secret), sorted. A build must not get them as build-args.
	SecretArgs []string
	// Sourced are the files of the build context, copied by name and not
	// env or credential files by their name, that a RUN sources: a caller
	// that reads the context gives those that assign secret-named
	// variables as Config.ContextKeys.
	Sourced []string
	// FieldCopies are the files of the build context, copied by name to a
	// configuration file's name that may hold a credential field
	// (IsFieldConfigFile: COPY ci/nuget.ci.config /root/.nuget/NuGet/NuGet.Config)
	// when their own name is none: by context path, the name they are
	// copied to. A caller that reads the context gives those that hold a
	// credential field, read as a file of that name, as Config.ContextKeys.
	FieldCopies map[string]string
	// NamedCopies are the files of the build context, copied by name to a
	// credential file's name when their own name is none and the build
	// context's listing (Config.ContextFiles) does not hold them
	// (COPY ci/cargo-credentials.toml /root/.cargo/credentials.toml),
	// sorted. They are secret mounts the build passes with --secret; a
	// caller that reads the context gives those it holds (regular files,
	// after .dockerignore) as Config.ContextFiles and Config.ContextKeys,
	// and they are mounted from the context, as a copy under the tool's
	// own name is.
	NamedCopies []string
	// OnBuild are the rewritten ONBUILD triggers of base images
	// (Config.BaseImages), by the FROM's base name as written, for the
	// images whose triggers the rewrite changed: the build must run these
	// in the stages built FROM the image instead of the image's own.
	OnBuild map[string][]string
}
