package frontend

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/hushbuild/hushbuild/rewrite"
)

const (
	buildArgPrefix = "build-arg:"
	// keyConfigArg is the frontend option of the HUSHBUILD build-arg, which
	// carries the engine configuration in its text form.
	keyConfigArg = buildArgPrefix + "HUSHBUILD"
	// configArgName is the name of that build-arg as BuildKit's Dockerfile
	// builder sees it.
	configArgName = "HUSHBUILD"
	// keyTarget is the frontend option of --target.
	keyTarget = "target"
	// keyFilename is the frontend option naming the Dockerfile.
	keyFilename = "filename"
)

// configFromOpts reads the engine configuration a build was given: the
// HUSHBUILD build-arg and the build target. The `# hushbuild=` directive is
// read by the engine itself. It first refuses build contexts whose URL
// holds a credential (checkOptions), and it adds to NotSecrets the
// build-args named for a URL whose value holds none (plainURLArgs).
//
// The target always comes from --target, because it decides which stages
// the engine treats as reaching the image: a target named in the
// configuration that differs from the one BuildKit builds is an error.
func configFromOpts(opts map[string]string) (rewrite.Config, error) {
	if err := checkOptions(opts); err != nil {
		return rewrite.Config{}, err
	}
	cfg, err := rewrite.ParseConfig(rewrite.Config{}, opts[keyConfigArg])
	if err != nil {
		return rewrite.Config{}, fmt.Errorf("build-arg %s: %w", configArgName, err)
	}
	if err := checkTarget("build-arg "+configArgName, cfg.Target, opts[keyTarget]); err != nil {
		return rewrite.Config{}, err
	}
	cfg.Target = opts[keyTarget]
	if cfg.Strict, err = strictFromCaller(opts, cfg.Strict); err != nil {
		return rewrite.Config{}, err
	}
	cfg.NotSecrets = append(cfg.NotSecrets, plainURLArgs(opts, cfg)...)
	return cfg, nil
}

// keyStrictOpt is the frontend option (buildctl --opt hushbuild-strict=true)
// that sets strict mode; strictEnv the variable of the frontend's process
// (an image of the frontend built for a platform, with ENV
// HUSHBUILD_STRICT=true) that does.
const (
	keyStrictOpt = "hushbuild-strict"
	strictEnv    = "HUSHBUILD_STRICT"
)

// strictFromCaller adds to strict (from the HUSHBUILD build-arg) the
// other caller-side settings of strict mode. Nothing turns it off.
func strictFromCaller(opts map[string]string, strict bool) (bool, error) {
	for _, src := range []struct{ where, v string }{
		{"frontend option " + keyStrictOpt, opts[keyStrictOpt]},
		{"the frontend's " + strictEnv, os.Getenv(strictEnv)},
	} {
		if src.v == "" {
			continue
		}
		b, err := strconv.ParseBool(src.v)
		if err != nil {
			return false, fmt.Errorf("%s is not a boolean (want true or false)", src.where)
		}
		strict = strict || b
	}
	return strict, nil
}

// classifierConfig is the configuration the engine applies to dt: the
// Dockerfile's `# hushbuild=` directive merged under cfg, as rewrite.Rewrite
// merges them. It decides which build-arg names are secrets.
func classifierConfig(cfg rewrite.Config, dt []byte) (rewrite.Config, error) {
	text, line, ok := rewrite.FindDirective(dt)
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
	if r := dcfg.Relaxations(); cfg.Strict && len(r) > 0 {
		return rewrite.Config{}, fmt.Errorf("%s: the build runs in strict mode, and the directive relaxes protection (%s): remove those settings from the Dockerfile", where, strings.Join(r, ", "))
	}
	return rewrite.MergeConfig(dcfg, cfg), nil
}

func checkTarget(where, configured, built string) error {
	if configured == "" || configured == built {
		return nil
	}
	stage := "the last stage"
	if built != "" {
		stage = fmt.Sprintf("stage %q", built)
	}
	return fmt.Errorf("%s sets target=%s but the build targets %s: pass --target %s, or remove target from the hushbuild configuration", where, configured, stage, configured)
}
