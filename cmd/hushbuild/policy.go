package main

import (
	"errors"
	"fmt"
	"github.com/spf13/pflag"
	"io"
	"io/fs"
	"os"
	"path/filepath"
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

// repoConfigFlag is --repo-config: the file, and whether it was given (an
// empty one turns the search off).
type repoConfigFlag struct {
	file string
	set  bool
}

func registerRepoConfigFlag(set *pflag.FlagSet, r *repoConfigFlag) {
	set.Var(repoConfigValue{r}, "repo-config", "the repository's configuration `file` (default: the nearest "+rewrite.RepoConfigName+" from the Dockerfile's directory up to the git root, or in the build context; '' for none)")
}

func registerPolicyFlags(set *pflag.FlagSet, c *configFlags) {
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

// repoConfigFor finds the .hushbuild.yaml of the Dockerfile name and
// merges it under cfg (see rewrite.MergeRepoConfig). --repo-config FILE
// names it; --repo-config ” looks for none. Otherwise it is the nearest
// one of: the Dockerfile's directory and those above it up to the root of
// its git repository (the directory holding .git); then the build
// context's directory. Standard input starts from the current directory.
// Outside a git repository only the Dockerfile's directory is looked at.
func repoConfigFor(r *repoConfigFlag, name, contextDir string, cfg rewrite.Config) (rewrite.Config, string, error) {
	if r == nil {
		r = &repoConfigFlag{}
	}
	var file string
	switch {
	case r.set && r.file == "":
		return cfg, "", nil
	case r.set:
		file = r.file
	default:
		start := "."
		if name != "-" {
			start = filepath.Dir(name)
		}
		file = findRepoConfig(start, contextDir)
		if file == "" {
			return cfg, "", nil
		}
	}
	if st, err := os.Stat(file); err == nil && !st.Mode().IsRegular() {
		return rewrite.Config{}, file, fmt.Errorf("%s: not a regular file", file)
	}
	data, err := readLimited(file, rewrite.MaxRepoConfigSize)
	if err != nil {
		return rewrite.Config{}, file, fmt.Errorf("%s: %w", file, err)
	}
	repo, err := rewrite.ParseRepoConfig(data)
	if err != nil {
		return rewrite.Config{}, file, fmt.Errorf("%s: %w", filepath.Dir(file), err)
	}
	merged, err := rewrite.MergeRepoConfig(repo, cfg, file)
	return merged, file, err
}

// findRepoConfig is the nearest .hushbuild.yaml from dir up to the root of
// its git repository, else the one in contextDir, else "".
func findRepoConfig(dir, contextDir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	var chain []string
	for d := abs; ; d = filepath.Dir(d) {
		chain = append(chain, d)
		if isDir(filepath.Join(d, ".git")) || isFile(filepath.Join(d, ".git")) {
			break
		}
		if filepath.Dir(d) == d {
			// No git repository: only the Dockerfile's directory.
			chain = chain[:1]
			break
		}
	}
	if contextDir != "" {
		if c, err := filepath.Abs(contextDir); err == nil {
			chain = append(chain, c)
		}
	}
	for _, d := range chain {
		// Anything by that name counts: one that is not a file is an
		// error when read, not a configuration silently skipped.
		if p := filepath.Join(d, rewrite.RepoConfigName); exists(p) {
			return p
		}
	}
	return ""
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// readLimited reads at most limit+1 bytes of a file, so that the parser
// refuses a file that is too large without reading it all.
func readLimited(file string, limit int) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, pe.Err
		}
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, int64(limit)+1))
}

// repoConfigValue is the --repo-config flag: it records that it was set,
// so that an empty value turns the search off.
type repoConfigValue struct{ r *repoConfigFlag }

func (v repoConfigValue) String() string {
	if v.r == nil {
		return ""
	}
	return v.r.file
}

func (v repoConfigValue) Type() string { return "file" }

func (v repoConfigValue) Set(s string) error {
	v.r.file, v.r.set = s, true
	return nil
}

// repoConfig is the --repo-config flag of c, which may be nil.
func (c *contextFlags) repoConfig() *repoConfigFlag {
	if c == nil {
		return nil
	}
	return &c.repo
}

// noteRepoConfigOutsideContext says, on stderr, when the .hushbuild.yaml
// the CLI follows for a Dockerfile is not at the root of its build
// context: the frontend reads only that one, so a build would not follow
// the same settings.
func noteRepoConfigOutsideContext(s stdio, name, file, contextDir string) {
	if file == "" || contextDir == "" {
		return
	}
	dir, err1 := filepath.Abs(filepath.Dir(file))
	ctx, err2 := filepath.Abs(contextDir)
	if err1 != nil || err2 != nil || dir == ctx {
		return
	}
	fmt.Fprintf(s.err, "hushbuild: note: %s follows %s, which is not at the root of its build context %s: a build through the frontend reads only the context's own (--context DIR names the build's context)\n",
		report.DisplayName(name), file, contextDir)
}
