package rewrite

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// RepoConfigName is the repository's configuration file: the CLI finds it
// next to the Dockerfile or in a directory above it, up to the root of
// the git repository; the frontend reads it at the root of the build
// context.
const RepoConfigName = ".hushbuild.yaml"

// MaxRepoConfigSize bounds the file: it holds names and options.
const MaxRepoConfigSize = 64 << 10

// repoConfigFile is the file's schema. Unknown keys are errors, so that a
// misspelt setting is not silently ignored.
type repoConfigFile struct {
	Secrets                 []string `yaml:"secrets"`
	NotSecrets              []string `yaml:"not-secrets"`
	SecretFiles             []string `yaml:"secret-files"`
	Disable                 []string `yaml:"disable"`
	Optional                *bool    `yaml:"optional"`
	AllowRuntimeSecretFiles *bool    `yaml:"allow-runtime-secret-files"`
	OmitRuntimeSecretFiles  *bool    `yaml:"omit-runtime-secret-files"`
	RewriteHardcoded        *bool    `yaml:"rewrite-hardcoded"`
	Strict                  *bool    `yaml:"strict"`
}

// ParseRepoConfig reads a .hushbuild.yaml. Its errors give the line and
// what is wrong, never the text of the file: a value written in the wrong
// place can be a credential.
func ParseRepoConfig(data []byte) (Config, error) {
	if len(data) > MaxRepoConfigSize {
		return Config{}, fmt.Errorf("%s is larger than %d KiB", RepoConfigName, MaxRepoConfigSize>>10)
	}
	var f repoConfigFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("%s: %s", RepoConfigName, yamlErrorPlace(err))
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("%s holds more than one YAML document", RepoConfigName)
	}
	cfg := Config{
		Secrets:     clean(f.Secrets),
		NotSecrets:  clean(f.NotSecrets),
		SecretFiles: clean(f.SecretFiles),
		Disable:     clean(f.Disable),
	}
	for i, pat := range cfg.NotSecrets {
		if matchesEverySecret(pat) {
			return Config{}, fmt.Errorf("%s: not-secrets, item %d would match every secret name and switch the name rules off: name the variables that are not secrets", RepoConfigName, i+1)
		}
	}
	for i, name := range cfg.Disable {
		r, ok := lookupRuleFold(name)
		if !ok {
			return Config{}, fmt.Errorf("%s: disable, item %d is not a rule (known: %s)", RepoConfigName, i+1, ruleList())
		}
		if err := CheckDisable(r.Name); err != nil {
			return Config{}, fmt.Errorf("%s: %w", RepoConfigName, err)
		}
		cfg.Disable[i] = r.Name
	}
	set := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	set(&cfg.Optional, f.Optional)
	set(&cfg.AllowRuntimeSecretFiles, f.AllowRuntimeSecretFiles)
	set(&cfg.OmitRuntimeSecretFiles, f.OmitRuntimeSecretFiles)
	set(&cfg.RewriteHardcoded, f.RewriteHardcoded)
	set(&cfg.Strict, f.Strict)
	return cfg, nil
}

func clean(list []string) []string {
	var out []string
	for _, s := range list {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

var yamlLineRe = regexp.MustCompile(`line (\d+)`)

// yamlErrorPlace describes a YAML error by its lines and kind only: the
// library's messages quote the values they could not read.
func yamlErrorPlace(err error) string {
	msg := err.Error()
	var lines []string
	seen := map[string]bool{}
	for _, m := range yamlLineRe.FindAllStringSubmatch(msg, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			lines = append(lines, m[1])
		}
	}
	what := "it is not valid YAML"
	var te *yaml.TypeError
	switch {
	case errors.As(err, &te) && strings.Contains(msg, "not found in type"):
		what = "an unknown key (known: " + strings.Join(repoConfigKeys(), ", ") + ")"
	case errors.As(err, &te):
		what = "a value of the wrong type (names and patterns are lists of strings, options are true or false)"
	}
	if len(lines) == 0 {
		return what
	}
	label := "line "
	if len(lines) > 1 {
		label = "lines "
	}
	return label + strings.Join(lines, ", ") + ": " + what
}

func repoConfigKeys() []string {
	return []string{"secrets", "not-secrets", "secret-files", "disable", "optional", "allow-runtime-secret-files", "omit-runtime-secret-files", "rewrite-hardcoded", "strict"}
}

// MergeRepoConfig merges a repository's configuration (repo, from the
// file named where) under the caller's, as MergeConfig merges the
// directive: lists are unioned, a boolean is on when either sets it. The
// repository's file is on the Dockerfile's side: a strict caller refuses
// the settings of it that relax protection. The Dockerfile's own
// directive is merged over the result by the engine.
func MergeRepoConfig(repo, caller Config, where string) (Config, error) {
	if r := repo.Relaxations(); caller.Strict && len(r) > 0 {
		return Config{}, fmt.Errorf("%s: strict mode: the repository's configuration relaxes protection (%s): remove those settings from it; the caller (CI) may set them", where, strings.Join(r, ", "))
	}
	m := MergeConfig(repo, caller)
	m.Target = caller.Target
	return m, nil
}
