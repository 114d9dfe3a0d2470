package rewrite

// Rule describes one check of the engine. Rules are data: every finding
// names one, and each has a documentation page under docs/rules/.
type Rule struct {
	// Name is the stable identifier used in findings, directives and SARIF.
	Name string
	// Description is one line for listings.
	Description string
	// Severity is the severity of its findings.
	Severity Severity
	// Settled, when set, is the severity of its findings that the
	// configuration or the rewrite settled, or that are only likely
	// (analyzer.addSettled); never above Severity.
	Settled Severity
	// Fixes reports whether the engine rewrites what the rule finds.
	Fixes bool
}

// severity is the severity of a finding of r: Settled for one the
// configuration or the rewrite settled, where the rule has it.
func (r Rule) severity(settled bool) Severity {
	if settled && r.Settled != 0 {
		return r.Settled
	}
	return r.Severity
}

// DocsURL is where a rule's page lives.
func (r Rule) DocsURL() string {
	return "https://github.com/hushbuild/hushbuild/blob/main/docs/rules/" + kebab(r.Name) + ".md"
}

var (
	RuleSecretArg = Rule{
		Name:        "SecretArg",
		Description: "A secret-named ARG would put its value in the image history and provenance; it becomes a secret mount on every RUN in its scope.",
		Severity:    SeverityWarning,
		Fixes:       true,
	}
	RuleSecretEnv = Rule{
		Name:        "SecretEnv",
		Description: "An ENV carrying a build secret would persist it in the image config; it is removed and its RUN consumers get a secret mount.",
		Severity:    SeverityWarning,
		Fixes:       true,
	}
	RuleSecretFile = Rule{
		Name:        "SecretFile",
		Description: "A credential file copied from the build context stays in a layer even when deleted later; it becomes a secret mount at the same path.",
		Severity:    SeverityWarning,
		Fixes:       true,
	}
	RuleSourcedEnvFile = Rule{
		Name:        "SourcedEnvFile",
		Description: "An env file sourced by a RUN is mounted as a secret at the path the command reads instead of living in a layer.",
		Severity:    SeverityWarning,
		Fixes:       true,
	}
	RuleSecretExpanded = Rule{
		Name:        "SecretExpandedAtParse",
		Description: "A secret is used where BuildKit expands it into the image or the build graph (FROM, LABEL, COPY paths, WORKDIR, USER, …); no mount can carry it there.",
		Severity:    SeverityError,
	}
	RuleHardcodedSecret = Rule{
		Name:        "HardcodedSecret",
		Description: "A credential is written literally in the Dockerfile; rewriting cannot un-leak it.",
		Severity:    SeverityError,
		Settled:     SeverityWarning, // rewrite-hardcoded took it out, or it looks like a placeholder
	}
	RuleSecretFileInImage = Rule{
		Name:        "SecretFileInImage",
		Description: "A credential file stays to the end of a stage whose files reach the built image: a runtime secret baked into the image.",
		Severity:    SeverityError,
		Settled:     SeverityWarning, // allow- or omit-runtime-secret-files decided, or a build tool's file the build used
	}
	RuleCannotRewrite = Rule{
		Name:        "CannotRewrite",
		Description: "A secret is used in a way the engine cannot rewrite safely; the build stops instead of leaking.",
		Severity:    SeverityError,
		Settled:     SeverityWarning, // only likely: a COPY pattern that could match a credential file, with no context listed
	}
	RuleSecretWrittenToFile = Rule{
		Name:        "SecretWrittenToFile",
		Description: "A command writes a secret into a file (.npmrc, pip.conf, .git-credentials, git config, a clone's .git/config); the file would stay in the layer, so it is recreated and removed inside each RUN that needs it.",
		Severity:    SeverityWarning,
		Fixes:       true,
	}
	RuleSSHKeyFile = Rule{
		Name:        "SSHKeyFile",
		Description: "A private key from a build secret is written to a key file; the write is removed and the RUNs that need the key get the ssh agent with --mount=type=ssh.",
		Severity:    SeverityWarning,
		Fixes:       true,
	}
	RuleSecretInLog = Rule{
		Name:        "SecretInLog",
		Description: "A command prints a secret into the build log (echo, printenv, env, set -x, cat of a secret), which CI systems keep.",
		Severity:    SeverityWarning,
	}
	RuleOnbuildSecret = Rule{
		Name:        "OnbuildSecret",
		Description: "An ONBUILD instruction carries a secret into every image built FROM this one.",
		Severity:    SeverityWarning,
	}
	RuleSecretBuildArg = Rule{
		Name:        "SecretBuildArg",
		Description: "A secret-named value was passed with --build-arg, which records it in the build's provenance; pass it with --secret.",
		Severity:    SeverityError,
	}
	RuleInvalidSuppression = Rule{
		Name:        "InvalidSuppression",
		Description: "A # hushbuild:ignore= comment cannot be applied: an unknown or unsuppressible rule, no reason, a refusal in strict mode, or nothing to suppress.",
		Severity:    SeverityError,
	}
	RuleSyntaxPin = Rule{
		Name:        "SyntaxPin",
		Description: "The # syntax= line pins a Dockerfile syntax older than what the rewritten Dockerfile uses; the rewrite raises the pin to the lowest version that has it all.",
		Severity:    SeverityWarning,
		Fixes:       true,
	}
	RuleSecretInBuildOutput = Rule{
		Name:        "SecretInBuildOutput",
		Description: "The build checked its own output with the real secret values and found one in a step's layer, a cache mount, the image config or the build definition; nothing is exported.",
		Severity:    SeverityError,
	}
)

// Rules lists every rule, in documentation order.
var Rules = []Rule{
	RuleSecretArg,
	RuleSecretEnv,
	RuleSecretFile,
	RuleSourcedEnvFile,
	RuleSecretExpanded,
	RuleHardcodedSecret,
	RuleSecretFileInImage,
	RuleCannotRewrite,
	RuleSecretWrittenToFile,
	RuleSSHKeyFile,
	RuleSecretInLog,
	RuleOnbuildSecret,
	RuleSecretBuildArg,
	RuleSecretInBuildOutput,
	RuleInvalidSuppression,
	RuleSyntaxPin,
}

// LookupRule finds a rule by name.
func LookupRule(name string) (Rule, bool) {
	for _, r := range Rules {
		if r.Name == name {
			return r, true
		}
	}
	return Rule{}, false
}

func kebab(s string) string {
	var out []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUpper(c) {
			// A word starts at an upper-case letter after a lower-case
			// one, or at the last capital of an acronym (SSHKey: ssh-key).
			if i > 0 && (!isUpper(s[i-1]) || i+1 < len(s) && !isUpper(s[i+1])) {
				out = append(out, '-')
			}
			c += 'a' - 'A'
		}
		out = append(out, c)
	}
	return string(out)
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
