package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"

	"github.com/hushbuild/hushbuild/internal/buildcontext"
	"github.com/hushbuild/hushbuild/rewrite"
	"github.com/hushbuild/hushbuild/rewrite/report"
	"github.com/spf13/pflag"
)

// rewriteDockerfile is the engine; tests replace it with a scripted one.
var rewriteDockerfile = rewrite.Rewrite

// listFlag is a repeatable, comma-separated list flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Type() string { return "list" }

func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// configFlags are the engine settings every command takes.
type configFlags struct {
	secrets, notSecrets, secretFiles, disable listFlag
	optional, allowRuntimeSecretFiles         bool
	target, config                            string
	policy                                    policyFlags
}

func (c *configFlags) register(set *pflag.FlagSet) {
	set.Var(&c.secrets, "secret-names", "extra ARG/ENV `names` to treat as secrets, comma-separated (repeatable)")
	set.Var(&c.notSecrets, "not-secret-names", "ARG/ENV `names` never to treat as secrets, comma-separated (repeatable)")
	set.Var(&c.secretFiles, "secret-files", "extra credential file `patterns` (path.Match syntax, matched against the base name and the source path), comma-separated (repeatable)")
	set.Var(&c.disable, "disable", "`rules` whose findings to drop, comma-separated (repeatable)")
	set.BoolVar(&c.optional, "optional", false, "make the secret mounts of ARGs without a default optional instead of required")
	set.BoolVar(&c.allowRuntimeSecretFiles, "allow-runtime-secret-files", false, "report a credential file left in the built image as a warning instead of an error")
	set.StringVar(&c.target, "target", "", "build target `stage` (default: the last stage); decides which stages reach the image")
	set.StringVar(&c.config, "config", "", "`settings` in the text form of the '# hushbuild=' directive, e.g. 'secrets=SENTRY_DSN;optional=true' (applied after the other flags)")
	registerPolicyFlags(set, c)
}

// build returns the engine configuration the flags describe.
func (c *configFlags) build() (rewrite.Config, error) {
	for i, name := range c.disable {
		if _, ok := lookupRuleFold(name); !ok {
			// Not quoted: a value typed in the wrong place can be a
			// credential.
			return rewrite.Config{}, fmt.Errorf("--disable: name %d of the list is not a rule (known: %s)", i+1, ruleNames())
		}
		if err := rewrite.CheckDisable(name); err != nil {
			return rewrite.Config{}, fmt.Errorf("--%w", err)
		}
	}
	cfg := rewrite.Config{
		Secrets:                 c.secrets,
		NotSecrets:              c.notSecrets,
		SecretFiles:             c.secretFiles,
		Disable:                 c.disable,
		Optional:                c.optional,
		AllowRuntimeSecretFiles: c.allowRuntimeSecretFiles,
		Target:                  c.target,
	}
	if c.config != "" {
		var err error
		if cfg, err = rewrite.ParseConfig(cfg, c.config); err != nil {
			return rewrite.Config{}, err
		}
	}
	return applyPolicy(c, cfg)
}

func lookupRuleFold(name string) (rewrite.Rule, bool) {
	for _, r := range rewrite.Rules {
		if strings.EqualFold(r.Name, name) {
			return r, true
		}
	}
	return rewrite.Rule{}, false
}

func ruleNames() string {
	names := make([]string, len(rewrite.Rules))
	for i, r := range rewrite.Rules {
		names[i] = r.Name
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// checkFileArgs rejects naming standard input twice.
func checkFileArgs(files []string) error {
	stdin := 0
	for _, f := range files {
		if f == "-" {
			stdin++
		}
	}
	if stdin > 1 {
		return fmt.Errorf("standard input (-) can be read only once")
	}
	return nil
}

// readFile reads a Dockerfile; "-" is standard input. A file past
// rewrite.MaxDockerfileSize is refused on its size, unread; standard input
// is read up to one byte past the limit.
func readFile(name string, s stdio) ([]byte, error) {
	var r io.Reader
	if name == "-" {
		if s.in == nil {
			return nil, fmt.Errorf("no standard input")
		}
		r = s.in
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, pathError(err)
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			if err := rewrite.CheckSize(st.Size()); err != nil {
				return nil, err
			}
		}
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, rewrite.MaxDockerfileSize+1))
	if err != nil {
		if name == "-" {
			return nil, fmt.Errorf("reading standard input: %w", err)
		}
		return nil, pathError(err)
	}
	if len(data) > rewrite.MaxDockerfileSize {
		return nil, &rewrite.LimitError{Size: len(data), Partial: true}
	}
	return data, nil
}

// pathError drops the file name of a *fs.PathError: reports already start
// with it.
func pathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("cannot %s: %w", pe.Op, pe.Err)
	}
	return err
}

// contextFlags choose the build context whose credential files the
// engine is told about (rewrite.Config.ContextFiles).
type contextFlags struct {
	dir string
	set bool // --context was given
	off bool // --no-context
	// cache walks a context shared by several Dockerfiles once.
	cache buildcontext.Cache
	// repo is --repo-config.
	repo repoConfigFlag
}

// contextValue is the --context flag: it records that it was set, so
// that an empty --context turns the default off.
type contextValue struct{ c *contextFlags }

func (v contextValue) String() string {
	if v.c == nil {
		return ""
	}
	return v.c.dir
}

func (v contextValue) Type() string { return "dir" }

func (v contextValue) Set(s string) error {
	v.c.dir, v.c.set = s, true
	return nil
}

func (c *contextFlags) register(set *pflag.FlagSet) {
	set.Var(contextValue{c}, "context", "build context `dir` whose credential files, after .dockerignore, a COPY of the context would bring in (default: the Dockerfile's directory, none for stdin; '' for none)")
	set.BoolVar(&c.off, "no-context", false, "do not look at a build context (the same as --context '')")
	registerRepoConfigFlag(set, &c.repo)
}

// check validates the flags once, before any file is read.
func (c *contextFlags) check() error {
	if c.off && c.set && c.dir != "" {
		return fmt.Errorf("--context and --no-context cannot be used together")
	}
	if c.set && c.dir != "" {
		st, err := os.Stat(c.dir)
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return fmt.Errorf("--context %s: %v", c.dir, err)
		}
		if !st.IsDir() {
			return fmt.Errorf("--context %s: not a directory", c.dir)
		}
	}
	return nil
}

// dirFor is the build context of the Dockerfile name, "" for none.
func (c *contextFlags) dirFor(name string) string {
	switch {
	case c.off:
		return ""
	case c.set:
		return c.dir
	case name == "-":
		return ""
	}
	return filepath.Dir(name)
}

// list fills cfg.ContextFiles for the Dockerfile name with contents data.
// The Dockerfile's own # hushbuild= directive may add credential file
// patterns: they count for the listing as they do for the engine.
func (c *contextFlags) list(name string, data []byte, cfg rewrite.Config) (*buildcontext.Listing, error) {
	if c == nil {
		return nil, nil
	}
	dir := c.dirFor(name)
	if dir == "" {
		return nil, nil
	}
	lcfg := cfg
	if text, _, ok := rewrite.FindDirective(data); ok {
		// An unreadable directive is the engine's to report.
		if d, err := rewrite.ParseConfig(rewrite.Config{}, text); err == nil {
			lcfg = rewrite.MergeConfig(d, cfg)
		}
	}
	df := name
	if name == "-" {
		df = ""
	}
	l, err := c.cache.Scan(dir, df, lcfg)
	if err != nil {
		if !c.set {
			return nil, fmt.Errorf("%w (the build context defaults to the Dockerfile's directory: --context DIR names another, --no-context skips it)", err)
		}
		return nil, err
	}
	return l, nil
}

// input is one Dockerfile: its name, its bytes and what the engine made
// of them.
type input struct {
	report.File
	data []byte
	// cfg is the configuration the engine ran with, ContextFiles included.
	cfg rewrite.Config
	// context is the listing of the build context, nil without one.
	context *buildcontext.Listing
}

// load reads and rewrites one file, with the credential files of its
// build context (see contextFlags). A read, listing or parse error is the
// File's Err. An engine panic becomes an error too: the command fails
// closed instead of crashing or writing anything.
func load(name string, cfg rewrite.Config, cx *contextFlags, s stdio) input {
	in := input{File: report.File{Name: name}}
	data, err := readFile(name, s)
	if err != nil {
		in.Err = err
		return in
	}
	in.data = data
	var repoFile string
	if cfg, repoFile, err = repoConfigFor(cx.repoConfig(), name, cx.dirFor(name), cfg); err != nil {
		in.Err = err
		return in
	}
	noteRepoConfigOutsideContext(s, name, repoFile, cx.dirFor(name))
	if in.context, err = cx.list(name, data, cfg); err != nil {
		in.Err = err
		return in
	}
	if in.context != nil {
		cfg.ContextFiles = slices.Clone(in.context.Files)
		cfg.ContextListed = true
		// Private keys under any name, and configuration files with a
		// credential field, are credential files as the frontend finds
		// them.
		cfg.ContextKeys = in.context.ByContent()
		cfg.ContextToolFiles = slices.Clone(in.context.Tools)
	}
	in.cfg = cfg
	in.Result, in.Err = runEngine(data, cfg)
	// A file of the context that a RUN sources and that assigns
	// secret-named variables is an env file whatever its name: read (its
	// names, never printed), it is a credential file of the context.
	// So is a file copied to a configuration file's name that holds a
	// credential field read as a file of that name, and a file copied to
	// a credential file's name that the context holds (mounted from it).
	if in.context != nil && in.Err == nil && in.Result != nil {
		if envs := in.context.ReadFor(in.Result.Sourced, in.Result.FieldCopies, in.Result.NamedCopies); len(envs) > 0 {
			cfg.ContextKeys = append(cfg.ContextKeys, envs...)
			for _, f := range envs {
				if !slices.Contains(cfg.ContextFiles, f) {
					cfg.ContextFiles = append(cfg.ContextFiles, f)
				}
			}
			in.cfg = cfg
			in.Result, in.Err = runEngine(data, cfg)
		}
	}
	// A literal credential that rewrite-hardcoded takes out of the build
	// is still in the Dockerfile: where the build context holds it, a
	// COPY of the context must not bring it back.
	if self := in.context.SelfPath(name); self != "" && in.Err == nil && in.Result.RewroteLiteral() {
		cfg.ContextSelf = []string{self}
		if !slices.Contains(cfg.ContextFiles, self) {
			cfg.ContextFiles = append(cfg.ContextFiles, self)
		}
		in.cfg = cfg
		in.Result, in.Err = runEngine(data, cfg)
	}
	return in
}

// dockerfileInputs is how the commands that read Dockerfiles start: the
// engine configuration from the flags, the context flags checked, and the
// file arguments expanded (a directory to its Dockerfiles).
func dockerfileInputs(cf *configFlags, cx *contextFlags, args []string, s stdio) (rewrite.Config, []string, error) {
	cfg, err := cf.build()
	if err != nil {
		return rewrite.Config{}, nil, err
	}
	if err := cx.check(); err != nil {
		return rewrite.Config{}, nil, err
	}
	files, err := expandArgs(args, s)
	if err != nil {
		return rewrite.Config{}, nil, err
	}
	return cfg, files, nil
}

func runEngine(data []byte, cfg rewrite.Config) (res *rewrite.Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			// Only a runtime error's text is safe to print: a panic value
			// of the engine's own could hold Dockerfile content.
			detail := ""
			if re, ok := r.(runtime.Error); ok {
				detail = ": " + re.Error()
			}
			res, err = nil, fmt.Errorf("internal error in the rewrite engine%s (please report it)", detail)
		}
	}()
	res, err = rewriteDockerfile(bytes.Clone(data), cfg)
	if err == nil && res == nil {
		err = fmt.Errorf("internal error: the rewrite engine returned no result")
	}
	return res, err
}

// printErrorFindings prints the findings that make a rewrite unsafe to
// build, one per line, on stderr.
func printErrorFindings(w io.Writer, f report.File) {
	for _, fd := range f.Result.Findings {
		if fd.Severity >= rewrite.SeverityError && !fd.Suppressed() {
			fmt.Fprintln(w, report.FindingLine(f.Name, fd))
		}
	}
}
