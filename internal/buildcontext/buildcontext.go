// Package buildcontext lists the credential files of a local build context
// as BuildKit receives it from buildx: after the ignore file the build
// applies, without following symlinks.
//
// The rules are BuildKit's (frontend/dockerui): the ignore file is
// <Dockerfile>.dockerignore next to the Dockerfile when it exists, and
// .dockerignore at the root of the context otherwise; its lines are read
// with github.com/moby/patternmatcher/ignorefile and matched with
// github.com/moby/patternmatcher the way the client's file sender
// (github.com/tonistiigi/fsutil) filters the walk: an ignored directory is
// skipped unless an exception (!pattern) could bring back something inside
// it.
//
// The content of the other files is read to find the credential files
// that no name tells (as the frontend does): a private key under any name
// (package keyfile), and a configuration file that may hold a credential
// field (rewrite.IsFieldConfigFile: settings.xml, NuGet.Config) that
// holds one (package fieldfile). Only the decision is kept, never a
// value.
package buildcontext

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"

	"github.com/hushbuild/hushbuild/internal/fieldfile"
	"github.com/hushbuild/hushbuild/internal/keyfile"
	"github.com/hushbuild/hushbuild/rewrite"
)

// DockerignoreName is the ignore file at the root of a build context.
const DockerignoreName = ".dockerignore"

// MaxEntries bounds a walk: a context with more entries (files,
// directories, links and others, ignored directories that had to be
// walked included) is an error, not a partial listing.
const MaxEntries = 1_000_000

// maxIgnoreFileSize is the largest ignore file read, BuildKit's own limit
// (dockerui's maxFileSize, the gRPC message size): BuildKit fails a build
// whose ignore file is larger.
const maxIgnoreFileSize = 16 << 20

// maxEntries is MaxEntries; tests lower it.
var maxEntries = MaxEntries

// readBatch is how many directory entries are read at a time.
const readBatch = 512

// Listing is what Scan found in a build context.
type Listing struct {
	// Dir is the context directory, as given.
	Dir string
	// IgnoreFile is the path of the ignore file the build applies
	// (<Dockerfile>.dockerignore or Dir/.dockerignore), or "" when there
	// is none.
	IgnoreFile string
	// Excludes are the patterns read from IgnoreFile, as ignorefile.ReadAll
	// returns them.
	Excludes []string
	// Files are the regular files of the context, after IgnoreFile, that
	// rewrite.IsCredentialFile accepts: slash-separated paths relative to
	// Dir, sorted. They include Keys and FieldFiles.
	Files []string
	// Keys are the files, whatever their name, that hold a private key
	// (keyfile.FileHolds).
	Keys []string
	// Tools are those of Keys that are a build tool's credential
	// configuration under a name of their own (keyfile.ToolConfig):
	// rewrite.Config.ContextToolFiles.
	Tools []string
	// FieldFiles are the configuration files (rewrite.IsFieldConfigFile)
	// that hold a credential field (fieldfile.Holds).
	FieldFiles []string
}

// ByContent are the files that are credential files by their content, not
// their name (Keys and FieldFiles): rewrite.Config.ContextKeys.
func (l *Listing) ByContent() []string {
	if l == nil {
		return nil
	}
	out := append(slices.Clone(l.Keys), l.FieldFiles...)
	slices.Sort(out)
	return out
}

// SelfPath is the path in the context of the Dockerfile read from
// dockerfile (a file name), "" when it is not in the context: outside its
// directory, left out by the ignore file, or l is nil.
func (l *Listing) SelfPath(dockerfile string) string {
	if l == nil || dockerfile == "" || dockerfile == "-" {
		return ""
	}
	dir, err1 := filepath.Abs(l.Dir)
	df, err2 := filepath.Abs(dockerfile)
	if err1 != nil || err2 != nil {
		return ""
	}
	rel, err := filepath.Rel(dir, df)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return ""
	}
	rel = filepath.ToSlash(rel)
	if len(l.Excludes) > 0 {
		pm, err := patternmatcher.New(l.Excludes)
		if err != nil {
			return ""
		}
		if ignored, err := pm.MatchesOrParentMatches(rel); err != nil || ignored {
			return ""
		}
	}
	return rel
}

// List returns the sorted credential files (see Listing.Files) of the
// build context dir for the Dockerfile at dockerfilePath. dockerfilePath
// only locates <Dockerfile>.dockerignore; "" (a Dockerfile read from
// standard input) means there is none.
func List(dir, dockerfilePath string, cfg rewrite.Config) ([]string, error) {
	l, err := Scan(dir, dockerfilePath, cfg)
	if err != nil {
		return nil, err
	}
	return l.Files, nil
}

// Scan walks the build context dir for the Dockerfile at dockerfilePath
// (see List) and reports the ignore file it applied and the credential
// files it found. Unreadable directories, ignore files that cannot be read
// or parsed, and contexts of more than MaxEntries entries are errors:
// nothing is skipped silently.
func Scan(dir, dockerfilePath string, cfg rewrite.Config) (*Listing, error) {
	return (*Cache)(nil).Scan(dir, dockerfilePath, cfg)
}

// Cache keeps the listings of Scan, so that the Dockerfiles of one
// context that share its ignore file walk it once. The zero value is
// ready; a nil *Cache keeps nothing. It is not safe for concurrent use.
type Cache struct {
	m map[cacheKey]*Listing
}

type cacheKey struct {
	dir, ignoreFile, excludes, secretFiles string
}

// Scan is the package's Scan, with the walk of a context done once for
// the same directory, ignore file, patterns and credential file patterns.
// The listing returned is shared: callers must not modify it.
func (c *Cache) Scan(dir, dockerfilePath string, cfg rewrite.Config) (*Listing, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("build context: %w", err)
	}
	defer root.Close()

	l := &Listing{Dir: dir}
	l.IgnoreFile, l.Excludes, err = readIgnore(root, dir, dockerfilePath)
	if err != nil {
		return nil, err
	}
	var key cacheKey
	if c != nil {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, fmt.Errorf("build context: %w", err)
		}
		key = cacheKey{dir: abs, ignoreFile: l.IgnoreFile, excludes: strings.Join(l.Excludes, "\n"), secretFiles: strings.Join(cfg.SecretFiles, "\n")}
		if cached, ok := c.m[key]; ok {
			return cached, nil
		}
	}
	w := &walker{root: root, dir: dir, cfg: cfg}
	if len(l.Excludes) > 0 {
		w.pm, err = patternmatcher.New(l.Excludes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", l.IgnoreFile, err)
		}
		w.prefixExceptions = onlyPrefixExceptions(w.pm)
	}
	if err := w.walk(".", patternmatcher.MatchInfo{}, false); err != nil {
		return nil, err
	}
	slices.Sort(w.files)
	l.Files, l.Keys, l.Tools, l.FieldFiles = w.files, w.keys, w.tools, w.fields
	if c != nil {
		if c.m == nil {
			c.m = map[cacheKey]*Listing{}
		}
		c.m[key] = l
	}
	return l, nil
}

func readIgnore(root *os.Root, dir, dockerfilePath string) (string, []string, error) {
	if dockerfilePath != "" {
		// BuildKit reads it from the Dockerfile's own directory (the
		// "dockerfile" local of buildx), symlinks resolved inside it.
		dfDir, err := os.OpenRoot(filepath.Dir(dockerfilePath))
		if err != nil {
			return "", nil, fmt.Errorf("the Dockerfile's directory: %w", err)
		}
		defer dfDir.Close()
		name := filepath.Base(dockerfilePath) + DockerignoreName
		p := filepath.Join(filepath.Dir(dockerfilePath), name)
		dt, err := readSmall(dfDir, name)
		switch {
		case err == nil:
			pats, err := parseIgnore(p, dt)
			return p, pats, err
		case !errors.Is(err, fs.ErrNotExist):
			return "", nil, fmt.Errorf("%s: %w", p, err)
		}
	}
	p := filepath.Join(dir, DockerignoreName)
	dt, err := readSmall(root, DockerignoreName)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", nil, nil
	case err != nil:
		return "", nil, fmt.Errorf("%s: %w", p, err)
	}
	pats, err := parseIgnore(p, dt)
	return p, pats, err
}

// readSmall reads name in root, refusing a file larger than
// maxIgnoreFileSize or one that is not a regular file.
func readSmall(root *os.Root, name string) ([]byte, error) {
	f, err := root.Open(name)
	if err != nil {
		return nil, unwrapPath(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, unwrapPath(err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file")
	}
	if st.Size() > maxIgnoreFileSize {
		return nil, fmt.Errorf("larger than %d bytes", maxIgnoreFileSize)
	}
	dt, err := io.ReadAll(io.LimitReader(f, maxIgnoreFileSize+1))
	if err != nil {
		return nil, unwrapPath(err)
	}
	if len(dt) > maxIgnoreFileSize {
		return nil, fmt.Errorf("larger than %d bytes", maxIgnoreFileSize)
	}
	return dt, nil
}

func parseIgnore(p string, dt []byte) ([]string, error) {
	pats, err := ignorefile.ReadAll(bytes.NewReader(dt))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return pats, nil
}

// unwrapPath drops the path of a *fs.PathError: callers name the file.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("cannot %s: %w", pe.Op, pe.Err)
	}
	return err
}

// onlyPrefixExceptions reports whether every exception pattern, without a
// trailing /* or /**, is a plain path: then an ignored directory no
// exception starts under cannot hold anything the build gets (fsutil's
// onlyPrefixExcludeExceptions).
func onlyPrefixExceptions(pm *patternmatcher.PatternMatcher) bool {
	chars := "*[]?^"
	if filepath.Separator != '\\' {
		chars += `\`
	}
	for _, p := range pm.Patterns() {
		if p.Exclusion() && strings.ContainsAny(withoutTrailingGlob(p), chars) {
			return false
		}
	}
	return true
}

func withoutTrailingGlob(p *patternmatcher.Pattern) string {
	s := p.String()
	s = strings.TrimSuffix(s, string(filepath.Separator)+"**")
	return strings.TrimSuffix(s, string(filepath.Separator)+"*")
}

type walker struct {
	root *os.Root
	dir  string
	cfg  rewrite.Config
	// pm matches the ignore patterns; nil when there are none.
	pm               *patternmatcher.PatternMatcher
	prefixExceptions bool
	entries          int
	files            []string
	keys, fields     []string
	tools            []string // of keys, the build tools' credential configurations
	buf              []byte
}

type subdir struct {
	rel      string
	info     patternmatcher.MatchInfo
	excluded bool
}

// walk lists the directory rel (slash-separated, "." for the root), whose
// match results are parent; excluded says that rel itself is ignored (it
// is walked only for the exceptions that may bring back what it holds).
func (w *walker) walk(rel string, parent patternmatcher.MatchInfo, excluded bool) error {
	f, err := w.root.Open(filepath.FromSlash(rel))
	if err != nil {
		if excluded && errors.Is(err, fs.ErrPermission) {
			return nil // as fsutil: an ignored directory it cannot read
		}
		return w.errorf(rel, err)
	}
	var dirs []subdir
	for {
		batch, rerr := f.ReadDir(readBatch)
		for _, e := range batch {
			w.entries++
			if w.entries > maxEntries {
				f.Close()
				return fmt.Errorf("build context %s: more than %d entries: list what the build does not need in %s", w.dir, maxEntries, DockerignoreName)
			}
			child := e.Name()
			if rel != "." {
				child = rel + "/" + e.Name()
			}
			ignored := false
			var info patternmatcher.MatchInfo
			if w.pm != nil {
				ignored, info, err = w.pm.MatchesUsingParentResults(child, parent)
				if err != nil {
					f.Close()
					return fmt.Errorf("build context %s: matching %s: %w", w.dir, child, err)
				}
			}
			switch t := e.Type(); {
			case t.IsDir():
				if ignored && !w.mayHoldExceptions(child) {
					continue
				}
				dirs = append(dirs, subdir{rel: child, info: info, excluded: ignored})
			case t.IsRegular():
				if ignored {
					break
				}
				if rewrite.IsCredentialFile(child, w.cfg) {
					w.files = append(w.files, child)
					break
				}
				if err := w.byContent(child); err != nil {
					f.Close()
					return err
				}
			}
			// Symlinks are sent as links, not followed; devices, sockets
			// and pipes hold no file.
		}
		if rerr == io.EOF || rerr == nil && len(batch) == 0 {
			break
		}
		if rerr != nil {
			f.Close()
			if excluded && errors.Is(rerr, fs.ErrPermission) {
				return nil
			}
			return w.errorf(rel, rerr)
		}
	}
	if err := f.Close(); err != nil {
		return w.errorf(rel, err)
	}
	for _, d := range dirs {
		if err := w.walk(d.rel, d.info, d.excluded); err != nil {
			return err
		}
	}
	return nil
}

// byContent reads the regular file rel, which no name makes a credential
// file: a configuration file with a credential field, or any file with a
// private key, is one.
func (w *walker) byContent(rel string) error {
	name := filepath.FromSlash(rel)
	if rewrite.IsFieldConfigFile(rel, w.cfg) {
		dt, err := readUpTo(w.root, name, fieldfile.MaxSize)
		if err != nil {
			return w.errorf(rel, err)
		}
		if fieldfile.Holds(rel, dt) {
			w.fields = append(w.fields, rel)
			w.files = append(w.files, rel)
			return nil
		}
	}
	f, err := w.root.Open(name)
	if err != nil {
		return w.errorf(rel, err)
	}
	defer f.Close()
	if w.buf == nil {
		w.buf = make([]byte, keyfile.BufferSize)
	}
	k, err := keyfile.ReaderKindBuffer(f, w.buf)
	if err != nil {
		return w.errorf(rel, err)
	}
	if k != keyfile.NoCredential {
		w.keys = append(w.keys, rel)
		w.files = append(w.files, rel)
	}
	if k == keyfile.ToolConfig {
		w.tools = append(w.tools, rel)
	}
	return nil
}

// readUpTo reads name in root, up to max+1 bytes.
func readUpTo(root *os.Root, name string, max int) ([]byte, error) {
	f, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, int64(max)+1))
}

// mayHoldExceptions reports whether the ignored directory rel must still
// be walked because an exception pattern may match something inside it.
func (w *walker) mayHoldExceptions(rel string) bool {
	if !w.pm.Exclusions() {
		return false
	}
	if !w.prefixExceptions {
		return true
	}
	dirSlash := filepath.FromSlash(rel) + string(filepath.Separator)
	for _, p := range w.pm.Patterns() {
		if p.Exclusion() && strings.HasPrefix(withoutTrailingGlob(p)+string(filepath.Separator), dirSlash) {
			return true
		}
	}
	return false
}

func (w *walker) errorf(rel string, err error) error {
	return fmt.Errorf("build context: %s: %w", path.Join(filepath.ToSlash(w.dir), rel), unwrapPath(err))
}

// ReadByContent returns the files of the build context dir that the
// rewrite's Result names to be read (Sourced, FieldCopies) and that are
// credential files by their content, as the frontend reads them: of those
// that a RUN sources, that assign a secret-named variable (fieldfile.AssignsSecret),
// and of those copied to a configuration file's name (fieldCopies), that
// hold a credential field read as a file of that name (fieldfile.Holds).
// A file that cannot be read is left out: the build would fail to copy it.
func ReadByContent(dir string, sourced []string, fieldCopies map[string]string) []string {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil
	}
	defer root.Close()
	paths := slices.Clone(sourced)
	for p := range fieldCopies {
		if !slices.Contains(paths, p) {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	var out []string
	for _, rel := range paths {
		f, err := root.Open(filepath.FromSlash(rel))
		if err != nil {
			continue
		}
		dt, err := io.ReadAll(io.LimitReader(f, fieldfile.MaxSize+1))
		f.Close()
		name, copied := fieldCopies[rel]
		if err == nil && (slices.Contains(sourced, rel) && fieldfile.AssignsSecret(dt) || copied && fieldfile.Holds(name, dt)) {
			out = append(out, rel)
		}
	}
	return out
}

// ReadFor returns the files of the listed context that a first rewrite's
// result asks to be read and that are credential files (a second rewrite
// takes them as rewrite.Config.ContextKeys): those it sources or copies
// to a configuration file's name that hold a secret (ReadByContent), and
// those copied to a credential file's name that the context holds
// (Holding).
func (l *Listing) ReadFor(sourced []string, fieldCopies map[string]string, namedCopies []string) []string {
	if l == nil || len(sourced) == 0 && len(fieldCopies) == 0 && len(namedCopies) == 0 {
		return nil
	}
	return append(ReadByContent(l.Dir, sourced, fieldCopies), l.Holding(namedCopies)...)
}

// Holding returns the paths of named (Result.NamedCopies: files copied
// to a credential file's name under a name of their own) that the build
// context holds as regular files after its ignore file, as BuildKit
// receives it: a copy of one mounts it from the context. A path that is
// not there, a directory, a link or an ignored file is left out.
func (l *Listing) Holding(named []string) []string {
	if l == nil || len(named) == 0 {
		return nil
	}
	root, err := os.OpenRoot(l.Dir)
	if err != nil {
		return nil
	}
	defer root.Close()
	var pm *patternmatcher.PatternMatcher
	if len(l.Excludes) > 0 {
		if pm, err = patternmatcher.New(l.Excludes); err != nil {
			return nil
		}
	}
	var out []string
	for _, rel := range named {
		if rel == "" || path.IsAbs(rel) || rel != path.Clean(rel) || strings.HasPrefix(rel, "../") || rel == ".." {
			continue
		}
		if pm != nil {
			if ignored, err := pm.MatchesOrParentMatches(rel); err != nil || ignored {
				continue
			}
		}
		fi, err := root.Lstat(filepath.FromSlash(rel))
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		out = append(out, rel)
	}
	return out
}
