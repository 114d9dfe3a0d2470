package frontend

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/hushfile/hushfile/rewrite"
)

const (
	buildArgPrefix = "build-arg:"
	// keyConfigArg is the frontend option of the HUSHFILE build-arg, which
	// carries the engine configuration in its text form.
	keyConfigArg = buildArgPrefix + "HUSHFILE"
	// configArgName is the name of that build-arg as BuildKit's Dockerfile
	// builder sees it.
	configArgName = "HUSHFILE"
	// keyTarget is the frontend option of --target.
	keyTarget = "target"
	// keyFilename is the frontend option naming the Dockerfile.
	keyFilename = "filename"
)

// configFromOpts reads the engine configuration a build was given: the
// HUSHFILE build-arg and the build target. The `# hushfile=` directive is
// read by the engine itself.
//
// The target always comes from --target, because it decides which stages
// the engine treats as reaching the image: a target named in the
// configuration that differs from the one BuildKit builds is an error.
func configFromOpts(opts map[string]string) (rewrite.Config, error) {
	cfg, err := rewrite.ParseConfig(rewrite.Config{}, opts[keyConfigArg])
	if err != nil {
		return rewrite.Config{}, fmt.Errorf("build-arg %s: %w", configArgName, err)
	}
	if err := checkTarget("build-arg "+configArgName, cfg.Target, opts[keyTarget]); err != nil {
		return rewrite.Config{}, err
	}
	cfg.Target = opts[keyTarget]
	return cfg, nil
}

// classifierConfig is the configuration the engine applies to dt: cfg (from
// the build's options) and the `# hushfile=` directive of dt, with their
// name lists unioned. It is used to decide which build-args name secrets;
// the engine reads the directive itself when it rewrites. A directive
// target that differs from the build's target is an error: the engine
// would judge which stages reach the image by a stage BuildKit does not
// build.
func classifierConfig(cfg rewrite.Config, dt []byte) (rewrite.Config, error) {
	text, line, ok := configDirective(dt)
	if !ok {
		return cfg, nil
	}
	where := fmt.Sprintf("# %s= directive (line %d)", rewrite.ConfigDirective, line)
	dcfg, err := rewrite.ParseConfig(rewrite.Config{}, text)
	if err != nil {
		return rewrite.Config{}, fmt.Errorf("%s: %w", where, err)
	}
	if err := checkTarget(where, dcfg.Target, cfg.Target); err != nil {
		return rewrite.Config{}, err
	}
	merged := cfg
	merged.Secrets = append(append([]string(nil), dcfg.Secrets...), cfg.Secrets...)
	merged.NotSecrets = append(append([]string(nil), dcfg.NotSecrets...), cfg.NotSecrets...)
	merged.SecretFiles = append(append([]string(nil), dcfg.SecretFiles...), cfg.SecretFiles...)
	merged.Disable = append(append([]string(nil), dcfg.Disable...), cfg.Disable...)
	return merged, nil
}

// directiveRe matches the engine's configuration comment. BuildKit's
// directive parser only knows syntax, escape and check, so the engine
// reads this one itself; configDirective reads it the same way.
var directiveRe = regexp.MustCompile(`(?i)^#\s*` + rewrite.ConfigDirective + `\s*=\s*(.*?)\s*$`)

// configDirective finds `# hushfile=...` among the comment and blank lines
// before the first instruction, and returns its text and line.
func configDirective(dt []byte) (string, int, bool) {
	for i, l := range strings.Split(string(dt), "\n") {
		c := strings.TrimSpace(l)
		if i == 0 {
			c = strings.TrimPrefix(c, "\xef\xbb\xbf")
		}
		if c == "" {
			continue
		}
		if c[0] != '#' {
			return "", 0, false
		}
		if m := directiveRe.FindStringSubmatch(c); m != nil {
			return m[1], i + 1, true
		}
	}
	return "", 0, false
}

func checkTarget(where, configured, built string) error {
	if configured == "" || configured == built {
		return nil
	}
	stage := "the last stage"
	if built != "" {
		stage = fmt.Sprintf("stage %q", built)
	}
	return fmt.Errorf("%s sets target=%s but the build targets %s: pass --target %s, or remove target from the hushfile configuration", where, configured, stage, configured)
}
