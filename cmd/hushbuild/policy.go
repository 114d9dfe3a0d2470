package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"

	"github.com/hushbuild/hushbuild/rewrite"
	"github.com/hushbuild/hushbuild/rewrite/report"
)

// strictEnv is the environment variable a CI system sets to run every
// command in strict mode, whatever the flags.
const strictEnv = "HUSHBUILD_STRICT"

// policyFlags are the caller's policy settings.
type policyFlags struct {
	strict bool
}

func registerPolicyFlags(set *flag.FlagSet, c *configFlags) {
	set.BoolVar(&c.policy.strict, "strict", false, "strict mode: the Dockerfile (its '# hushbuild=' directive, its suppression comments, .hushbuild.yaml) may not relax protection; also set by "+strictEnv+"=true")
}

// applyPolicy completes the caller's configuration with the policy: strict
// mode from --strict or HUSHBUILD_STRICT, and no not-secrets pattern that
// matches every secret name, from a flag or not.
func applyPolicy(c *configFlags, cfg rewrite.Config) (rewrite.Config, error) {
	if c.policy.strict {
		cfg.Strict = true
	}
	if v, ok := os.LookupEnv(strictEnv); ok && v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			// The value is the environment's; it is not printed.
			return rewrite.Config{}, fmt.Errorf("%s is not a boolean (want true or false)", strictEnv)
		}
		cfg.Strict = cfg.Strict || b
	}
	for _, pat := range cfg.NotSecrets {
		if err := rewrite.CheckNotSecret(pat); err != nil {
			return rewrite.Config{}, fmt.Errorf("--not-secret-names: %w", err)
		}
	}
	return cfg, nil
}

// printSummary prints the counts of the text report on stderr, so that
// every line of stdout stays "file:line: ...": the findings by severity,
// and those a comment of the Dockerfile suppressed.
func printSummary(s stdio, reports []report.File) {
	fmt.Fprintf(s.err, "hushbuild check: %s\n", report.Summarize(reports))
}
