// Package migrate turns the secret build-args of the files that build
// Dockerfiles (compose files, bake files, GitHub Actions workflows,
// Makefiles, shell scripts, GitLab CI and other YAML script lines) into
// build secrets, and points the Dockerfiles at the hushbuild frontend.
//
// Every edit is made in place on byte ranges found by a parser of the file's
// own language (YAML nodes, HCL ranges, JSON offsets, shell words): a file
// is never re-serialised, so its formatting and comments stay as they were.
// Whether a build-arg is a secret is the engine's call: rewrite.IsSecretName
// for its name, or the Dockerfile's own analysis (the ARGs the rewrite
// removes from the Dockerfile the invocation builds). Other build-args are
// left alone.
package migrate

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/hushbuild/hushbuild/rewrite"
)

// FrontendImage is the hushbuild frontend image that a migrated
// Dockerfile's `# syntax=` line names.
const FrontendImage = "ghcr.io/hushbuild/frontend:1"

// SyntaxLine is the parser directive a migrated Dockerfile starts with.
const SyntaxLine = "# syntax=" + FrontendImage

// Kind is the kind of file a migration edits.
type Kind string

// The kinds of files migrate reads.
const (
	KindDockerfile Kind = "Dockerfile"
	KindCompose    Kind = "compose"
	KindBakeHCL    Kind = "bake-hcl"
	KindBakeJSON   Kind = "bake-json"
	KindWorkflow   Kind = "github-actions"
	KindYAML       Kind = "yaml"
	KindMakefile   Kind = "Makefile"
	KindShell      Kind = "shell"
)

// Options tune a migration.
type Options struct {
	// Config is the engine configuration that decides secret names.
	Config rewrite.Config
	// Rewrite applies the Dockerfile rewrite to each Dockerfile in place of
	// adding the `# syntax=` line.
	Rewrite bool
	// Frontend is the image the `# syntax=` line names: FrontendImage
	// unless set (a mirror of it, or a registry of one's own).
	Frontend string
}

// Note is something the migration could not do by itself, or a leak it
// found. It never holds a secret value.
type Note struct {
	Path    string
	Line    int
	Message string
}

func (n Note) String() string {
	if n.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", n.Path, n.Line, n.Message)
	}
	return n.Path + ": " + n.Message
}

// File is one file the migration changes.
type File struct {
	// Path is the file's path: DIR joined with its path under DIR.
	Path string
	Kind Kind
	Old  []byte
	New  []byte
	// Mode is the file's permission bits, kept when it is written.
	Mode fs.FileMode
}

// Result is what a migration found and would change.
type Result struct {
	// Files are the changed files, sorted by path.
	Files []File
	// Notes are what is left for a person to do (leaks included), sorted
	// by path and line.
	Notes []Note
	// Errors are files that could not be read or parsed; they are left
	// unchanged.
	Errors []error
}

// skipDirs are directories the walk never enters.
var skipDirs = map[string]bool{".git": true, "node_modules": true, "vendor": true, ".lab": true, ".hg": true, ".svn": true}

// Classify returns the kind of the file at rel (a slash-separated path
// under the walked directory) by its name, and whether migrate reads it.
// Shell scripts without an extension are found by their #! line in Dir.
func Classify(rel string) (Kind, bool) {
	base := pathBase(rel)
	lower := strings.ToLower(base)
	switch {
	case lower == "dockerfile" || strings.HasSuffix(lower, ".dockerfile") ||
		(strings.HasPrefix(lower, "dockerfile.") && !strings.HasSuffix(lower, ".dockerignore")):
		return KindDockerfile, true
	case isCompose(lower):
		return KindCompose, true
	case strings.Contains(lower, "bake") && strings.HasSuffix(lower, ".hcl"):
		return KindBakeHCL, true
	case strings.Contains(lower, "bake") && strings.HasSuffix(lower, ".json"):
		return KindBakeJSON, true
	case (strings.HasPrefix(rel, ".github/workflows/") || strings.Contains(rel, "/.github/workflows/")) &&
		(strings.HasSuffix(lower, ".yml") || strings.HasSuffix(lower, ".yaml")):
		return KindWorkflow, true
	case strings.HasSuffix(lower, ".yml") || strings.HasSuffix(lower, ".yaml"):
		return KindYAML, true
	case lower == "makefile" || lower == "gnumakefile" || strings.HasSuffix(lower, ".mk"):
		return KindMakefile, true
	case strings.HasSuffix(lower, ".sh") || strings.HasSuffix(lower, ".bash"):
		return KindShell, true
	}
	return "", false
}

func pathBase(rel string) string {
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		return rel[i+1:]
	}
	return rel
}

func isCompose(lower string) bool {
	if !strings.HasSuffix(lower, ".yml") && !strings.HasSuffix(lower, ".yaml") {
		return false
	}
	return strings.HasPrefix(lower, "compose.") || strings.HasPrefix(lower, "docker-compose")
}

// shebang matches the #! line of a shell script.
var shebang = regexp.MustCompile(`^#!\s*(/usr)?/bin/(env\s+)?(ba|da|k|z)?sh\b`)

// maxFileSize bounds what migrate reads: larger files are not build files.
const maxFileSize = 4 << 20

// Dir migrates the build files under dir. Nothing is written: the caller
// writes Result.Files.
func Dir(dir string, opts Options) (*Result, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s: not a directory", dir)
	}
	type found struct {
		rel  string
		kind Kind
		data []byte
		mode fs.FileMode
	}
	var files []found
	res := &Result{}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			res.Errors = append(res.Errors, err)
			return nil
		}
		if d.IsDir() {
			if p != dir && skipDirs[d.Name()] {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		kind, ok := Classify(rel)
		info, err := d.Info()
		if err != nil {
			res.Errors = append(res.Errors, err)
			return nil
		}
		if info.Size() > maxFileSize {
			return nil
		}
		if !ok {
			// A script without an extension, found by its #! line.
			if info.Mode()&0o111 == 0 || strings.Contains(d.Name(), ".") {
				return nil
			}
			head := make([]byte, 64)
			f, err := os.Open(p)
			if err != nil {
				return nil
			}
			n, _ := f.Read(head)
			f.Close()
			if !shebang.Match(head[:n]) {
				return nil
			}
			kind = KindShell
		}
		data, err := os.ReadFile(p)
		if err != nil {
			res.Errors = append(res.Errors, err)
			return nil
		}
		files = append(files, found{rel, kind, data, info.Mode().Perm()})
		return nil
	})
	if err != nil {
		return nil, err
	}

	// Dockerfiles under other names (compose's dockerfile:, bake's
	// dockerfile, -f): found by a dry run of the build files.
	dry := &secrets{cfg: opts.Config, byDockerfile: map[string][]string{}, cfgs: map[string]rewrite.Config{}, all: map[string]bool{}, refs: map[string]bool{}}
	known := map[string]bool{}
	for _, f := range files {
		if f.kind == KindDockerfile {
			known[f.rel] = true
		} else {
			_, _, _ = Source(f.kind, f.rel, f.data, dry)
		}
	}
	for _, ref := range sortedKeys(dry.refs) {
		if known[ref] {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(ref))
		info, err := os.Lstat(p)
		if err != nil || !info.Mode().IsRegular() || info.Size() > maxFileSize {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			res.Errors = append(res.Errors, err)
			continue
		}
		files = append(files, found{ref, KindDockerfile, data, info.Mode().Perm()})
	}

	// The Dockerfiles first: their analysis decides the secret build-args.
	sec := &secrets{cfg: opts.Config, root: dir, byDockerfile: map[string][]string{}, cfgs: map[string]rewrite.Config{}, all: map[string]bool{}}
	analyses := map[string]*rewrite.Result{}
	for _, f := range files {
		if f.kind != KindDockerfile {
			continue
		}
		r, err := rewrite.Rewrite(bytes.Clone(f.data), opts.Config)
		if err != nil {
			res.Errors = append(res.Errors, fmt.Errorf("%s: %v", filepath.Join(dir, filepath.FromSlash(f.rel)), err))
			continue
		}
		analyses[f.rel] = r
		sec.byDockerfile[f.rel] = r.SecretArgs
		sec.cfgs[f.rel] = dockerfileConfig(f.data, opts.Config)
		for _, a := range r.SecretArgs {
			sec.all[a] = true
		}
	}

	for _, f := range files {
		path := filepath.Join(dir, filepath.FromSlash(f.rel))
		var out []byte
		var notes []Note
		var err error
		switch f.kind {
		case KindDockerfile:
			r, ok := analyses[f.rel]
			if !ok {
				continue
			}
			out, notes = migrateDockerfile(f.data, r, opts)
		default:
			out, notes, err = Source(f.kind, f.rel, f.data, sec)
		}
		for i := range notes {
			notes[i].Path = path
		}
		res.Notes = append(res.Notes, notes...)
		if err != nil {
			res.Errors = append(res.Errors, fmt.Errorf("%s: %v", path, err))
			continue
		}
		if !bytes.Equal(out, f.data) {
			res.Files = append(res.Files, File{Path: path, Kind: f.kind, Old: f.data, New: out, Mode: f.mode})
		}
	}
	sort.Slice(res.Files, func(i, j int) bool { return res.Files[i].Path < res.Files[j].Path })
	sort.SliceStable(res.Notes, func(i, j int) bool {
		a, b := res.Notes[i], res.Notes[j]
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Line < b.Line
	})
	return res, nil
}

// Source migrates one build file of kind k at rel (slash-separated, under the
// walked directory; it places the Dockerfiles the file builds). It returns
// the new content, equal to src when nothing changes.
func Source(k Kind, rel string, src []byte, sec *secrets) ([]byte, []Note, error) {
	if sec == nil {
		sec = &secrets{}
	}
	var edits []edit
	var notes []Note
	var err error
	switch k {
	case KindCompose:
		edits, notes, err = migrateCompose(src, rel, sec)
	case KindBakeHCL:
		edits, notes, err = migrateBakeHCL(src, rel, sec)
	case KindBakeJSON:
		edits, notes, err = migrateBakeJSON(src, rel, sec)
	case KindWorkflow, KindYAML:
		edits, notes, err = migrateYAML(src, rel, k == KindWorkflow, sec)
	case KindMakefile:
		edits, notes = migrateMakefile(src, rel, sec)
	case KindShell:
		edits, notes = migrateShellFile(src, rel, sec)
	default:
		return nil, nil, fmt.Errorf("unknown kind %q", k)
	}
	if err != nil {
		return src, notes, err
	}
	out, err := apply(src, edits)
	if err != nil {
		return src, notes, err
	}
	return out, notes, nil
}

// secrets decides which build-args are secrets.
type secrets struct {
	cfg  rewrite.Config
	root string
	// byDockerfile holds the secret ARGs of each Dockerfile by its
	// slash-separated path under root.
	byDockerfile map[string][]string
	// cfgs holds each Dockerfile's configuration: the caller's merged with
	// its own # hushbuild= directive.
	cfgs map[string]rewrite.Config
	// all is the union of byDockerfile.
	all map[string]bool
	// refs, when not nil, records the Dockerfiles asked about.
	refs map[string]bool
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// dockerfileConfig is cfg merged with the Dockerfile's # hushbuild=
// directive, as the frontend reads it (cfg alone when it cannot be read:
// the frontend then stops the build anyway).
func dockerfileConfig(src []byte, cfg rewrite.Config) rewrite.Config {
	text, _, ok := rewrite.FindDirective(src)
	if !ok {
		return cfg
	}
	d, err := rewrite.ParseConfig(rewrite.Config{}, text)
	if err != nil {
		return cfg
	}
	return rewrite.MergeConfig(d, cfg)
}

// NewSecrets returns the decider of a single file's migration: names are
// secrets by rewrite.IsSecretName under cfg, or when listed in args.
func NewSecrets(cfg rewrite.Config, args ...string) *secrets {
	s := &secrets{cfg: cfg, all: map[string]bool{}, byDockerfile: map[string][]string{}, cfgs: map[string]rewrite.Config{}}
	for _, a := range args {
		s.all[a] = true
	}
	return s
}

// isSecret reports whether build-arg name is a secret for the build of
// dockerfile (a slash-separated path under root, "" when unknown): by its
// name, or because that Dockerfile's analysis says so (every Dockerfile's
// analysis when the one built is unknown).
func (s *secrets) isSecret(name, dockerfile string) bool {
	if s.refs != nil && dockerfile != "" {
		s.refs[dockerfile] = true
	}
	if dockerfile != "" {
		if args, ok := s.byDockerfile[dockerfile]; ok {
			// The Dockerfile's own directive may name more secrets, or
			// fewer.
			return slices.Contains(args, name) || rewrite.IsSecretName(name, s.cfgs[dockerfile])
		}
	}
	return rewrite.IsSecretName(name, s.cfg) || s.all[name]
}

// dockerfileAt returns the slash-separated path under root of the
// Dockerfile built from context ctx with file (both relative to the
// directory base, itself under root), or "" when it cannot be placed.
func dockerfileAt(base, ctx, file string) string {
	if strings.Contains(ctx, "://") || strings.HasPrefix(ctx, "git@") || strings.ContainsAny(ctx+file, "${}") {
		return ""
	}
	if ctx == "" {
		ctx = "."
	}
	if file == "" {
		file = "Dockerfile"
	}
	var p string
	if strings.HasPrefix(file, "/") {
		return ""
	}
	p = pathJoin(base, ctx, file)
	if strings.HasPrefix(p, "../") || p == ".." {
		return ""
	}
	return p
}

func pathJoin(parts ...string) string {
	return filepath.ToSlash(filepath.Clean(filepath.Join(parts...)))
}

func pathDir(rel string) string {
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		return rel[:i]
	}
	return "."
}

// needsFrontend reports whether the engine found anything in a Dockerfile
// that the hushbuild frontend acts on.
func needsFrontend(r *rewrite.Result) bool {
	return r.Changed || len(r.SecretArgs) > 0 || len(r.Requirements) > 0 || r.Err() != nil
}

// syntaxDirective matches a `# syntax=` parser directive.
var syntaxDirective = regexp.MustCompile(`(?i)^#\s*syntax\s*=\s*(\S*)`)

// directiveLine matches any parser directive.
var directiveLine = regexp.MustCompile(`^#\s*[A-Za-z][A-Za-z0-9_-]*\s*=`)

// migrateDockerfile adds the `# syntax=` line (or applies the rewrite with
// opts.Rewrite) to a Dockerfile the engine has something to do for.
func migrateDockerfile(src []byte, r *rewrite.Result, opts Options) ([]byte, []Note) {
	if !needsFrontend(r) {
		return src, nil
	}
	image := opts.Frontend
	if image == "" {
		image = FrontendImage
	}
	line := "# syntax=" + image
	var notes []Note
	if err := r.Err(); err != nil && !opts.Rewrite {
		notes = append(notes, Note{Line: 1, Message: "the engine has errors for this Dockerfile: the hushbuild frontend stops its build until they are fixed (see `hushbuild check`)"})
	}
	if opts.Rewrite {
		if err := r.Err(); err != nil {
			var notes []Note
			for _, f := range r.Findings {
				if f.Severity >= rewrite.SeverityError {
					notes = append(notes, Note{Line: f.Range.Start, Message: fmt.Sprintf("%s: %s (not rewritten: %s)", f.Rule, f.Message, f.Fix)})
				}
			}
			return src, notes
		}
		return r.Output, nil
	}
	// Parser directives are the comment lines at the very top.
	lines := bytes.SplitAfter(src, []byte("\n"))
	for i, l := range lines {
		t := strings.TrimSpace(strings.TrimPrefix(string(l), "\ufeff"))
		if !directiveLine.MatchString(t) {
			break
		}
		if m := syntaxDirective.FindStringSubmatch(t); m != nil {
			if m[1] == image || strings.HasPrefix(m[1], strings.TrimSuffix(FrontendImage, ":1")) {
				return src, notes
			}
			return src, append(notes, Note{Line: i + 1, Message: fmt.Sprintf("the Dockerfile names another frontend (%s): the hushbuild frontend does not run for it; change it to %s or run `hushbuild migrate --rewrite`", m[1], line)})
		}
	}
	if bytes.HasPrefix(src, []byte("\ufeff")) {
		return append([]byte("\ufeff"+line+"\n"), src[3:]...), notes
	}
	return append([]byte(line+"\n"), src...), notes
}
