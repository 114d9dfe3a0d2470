package frontend

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"

	"github.com/hushbuild/hushbuild/frontend/proof"
	"github.com/hushbuild/hushbuild/internal/fieldfile"
	"github.com/hushbuild/hushbuild/rewrite"
)

// maxContextFiles bounds the credential files of a build context the
// rewrite mounts one by one. More is a context that needs a .dockerignore.
const maxContextFiles = 1000

// maxRemoteDirs bounds the walk of a context that is not a local
// directory (each directory is a request); past it the context is not
// listed, and the build says so.
const maxRemoteDirs = 2000

var errTooManyDirs = errors.New("too many directories")

// listing is what the frontend knows of the build context: the paths of
// its credential files, a state that holds them there, and the digests of
// the ops of that state (those that make the context itself). It holds
// names and decisions, never contents.
type listing struct {
	files []string
	// self are the files (also in files) that hold the Dockerfile's own
	// text, listed when it holds a literal credential the rewrite takes
	// out of the build.
	self []string
	// fields are configuration files that may hold a credential field
	// (rewrite.IsFieldConfigFile), not in files: the check searches their
	// secret fields.
	fields []string
	// fieldKeys are the configuration files of fields that hold a
	// credential field (fieldfile.Holds), in files too: credential files
	// by their content (rewrite.Config.ContextKeys), held by state.
	fieldKeys []string
	state     *llb.State
	ops       map[string]bool
	// keys are the files (also in files) that hold a private key, found
	// by their content whatever their name (package keyfile); keyState
	// is the whole context, which holds them. keysUnsearched says that
	// the context could not be searched (the frontend does not know its
	// own image).
	keys           []string
	keyState       *llb.State
	keysUnsearched bool
	// tools are those of keys that are a build tool's credential
	// configuration under a name of their own (keyfile.ToolConfig).
	tools []string
	// sourced are the files (also in files) that a RUN sources and that
	// assign secret-named variables (fieldfile.AssignsSecret): env files
	// whatever their names; those copied to a configuration file's name
	// that hold a credential field; and those copied to a credential
	// file's name (Result.NamedCopies). All held by sourcedState.
	sourced      []string
	sourcedState *llb.State
}

// addSourcedEnvFiles reads the files of the build context that the
// rewrite says a RUN sources (Result.Sourced) and makes those that assign
// a secret-named variable credential files of the listing: a script like
// build-secrets.sh is an env file whatever its name. It reads the files
// copied to a configuration file's name (Result.FieldCopies) too, and
// makes those that hold a credential field, read as a file of that name,
// credential files: COPY ci/nuget.ci.config /root/.nuget/NuGet/NuGet.Config.
// The files copied to a credential file's name under a name of their own
// (Result.NamedCopies: COPY ci/cargo-credentials.toml
// /root/.cargo/credentials.toml) that the context holds as regular files
// are credential files whatever they hold: mounted from the context, as
// a copy under the tool's own name is.
// Only those paths are transferred; their names are kept, never their
// values.
func (l *listing) addSourcedEnvFiles(ctx context.Context, c client.Client, bc *dockerui.Client, sourced []string, fieldCopies map[string]string, named []string) error {
	paths := slices.Clone(sourced)
	for p := range fieldCopies {
		if !slices.Contains(paths, p) {
			paths = append(paths, p)
		}
	}
	for _, p := range named {
		if !slices.Contains(paths, p) {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	paths = slices.DeleteFunc(paths, func(p string) bool { return slices.Contains(l.files, p) })
	if len(paths) == 0 {
		return nil
	}
	st, err := bc.MainContext(ctx,
		llb.IncludePatterns(paths),
		llb.SharedKeyHint("hushbuild-sourced-files"),
		dockerui.WithInternalName("hushbuild: read the files the Dockerfile's RUNs source"))
	if err != nil || st == nil {
		return err
	}
	def, err := st.Marshal(ctx)
	if err != nil {
		return err
	}
	res, err := c.Solve(ctx, client.SolveRequest{Definition: def.ToPB()})
	if err != nil {
		return fmt.Errorf("hushbuild: reading the files the Dockerfile's RUNs source: %w", err)
	}
	ref, err := res.SingleRef()
	if err != nil || ref == nil {
		return err
	}
	for _, p := range paths {
		if slices.Contains(named, p) {
			st, err := ref.StatFile(ctx, client.StatRequest{Path: "/" + p})
			if err == nil && st != nil && os.FileMode(st.Mode).IsRegular() {
				l.sourced = append(l.sourced, p)
				l.files = append(l.files, p)
			}
			continue
		}
		dt, err := ref.ReadFile(ctx, client.ReadRequest{Filename: "/" + p, Range: &client.FileRange{Length: fieldfile.MaxSize + 1}})
		if err != nil {
			// Not in the context (or ignored): the build's COPY fails.
			continue
		}
		name, copied := fieldCopies[p]
		if slices.Contains(sourced, p) && fieldfile.AssignsSecret(dt) || copied && fieldfile.Holds(name, dt) {
			l.sourced = append(l.sourced, p)
			l.files = append(l.files, p)
		}
	}
	slices.Sort(l.files)
	l.sourcedState = st
	return nil
}

// contextFiles lists the credential files of a local build context, after
// its .dockerignore (and <Dockerfile>.dockerignore), as BuildKit's own
// Dockerfile builder applies them: a transfer of only the files whose names
// could be credential files' (nothing else is sent for it), and only their
// names are read here, but for the configuration files that may hold a
// credential field (settings.xml, NuGet.Config): those that hold one are
// credential files (listing.fieldKeys), the others are searched for their
// secret fields by the build-time check (listing.fields). A git or HTTP context is
// walked as the build fetches it, up to maxRemoteDirs directories. It
// returns nil when the context could not be listed.
//
// With self (the Dockerfile's text, when it holds a literal credential
// that the rewrite takes out of the build), files named like Dockerfiles
// are read too, and those that hold exactly self are listed, in
// listing.self as well: a COPY of the context must not bring the literal
// back.
//
// The files that hold a private key, whatever their name, are credential
// files too (listing.keys): the whole context, as a COPY of it transfers
// it, is searched by the frontend's own image in a step of its own
// (contextKeys).
func contextFiles(ctx context.Context, c client.Client, bc *dockerui.Client, cfg rewrite.Config, text, self []byte, tool func(context.Context) (llb.State, error)) (*listing, error) {
	patterns := rewrite.ContextFilePatterns(cfg)
	if self != nil {
		patterns = append(patterns, dockerfileNamePatterns...)
	}
	st, err := bc.MainContext(ctx,
		llb.IncludePatterns(patterns),
		// A snapshot of its own: sharing the main context's would make
		// each transfer prune the other's files, and send the whole
		// context again every build.
		llb.SharedKeyHint("hushbuild-context-credential-files"),
		dockerui.WithInternalName("hushbuild: list the credential files of the build context"))
	if err != nil || st == nil {
		return nil, err
	}
	def, err := st.Marshal(ctx)
	if err != nil {
		return nil, err
	}
	// A local directory sends only the matching files; any other context
	// (git, an archive) is fetched whole, as the build fetches it, and
	// walked for a bounded number of directories.
	files, selfFiles, fieldKeys, err := credentialFiles(ctx, c, def.ToPB(), isLocalSource(def.ToPB()), cfg, self)
	if err != nil || files == nil {
		return nil, err
	}
	l := &listing{self: selfFiles, fieldKeys: fieldKeys, state: st, ops: map[string]bool{}}
	for _, f := range files {
		if rewrite.IsFieldConfigFile(f, cfg) && !slices.Contains(fieldKeys, f) {
			l.fields = append(l.fields, f)
		} else {
			l.files = append(l.files, f)
		}
	}
	if l.files == nil {
		l.files = []string{}
	}
	for _, dt := range def.Def {
		l.ops[digestOf(dt)] = true
	}
	read := contextReads(text)
	if read.known && !triggerFree(read.bases, cfg.BaseImages) {
		// A base image's ONBUILD COPY reads paths the text does not name.
		read.known, read.paths = false, nil
	}
	keys, tools, keyState, err := contextKeys(ctx, c, bc, tool, read)
	if err != nil {
		return nil, err
	}
	if keyState == nil {
		// No state and no list: the frontend does not know its own
		// image; an empty list: the Dockerfile reads nothing of the
		// context.
		l.keysUnsearched = keys == nil
		return l, nil
	}
	l.keyState = keyState
	for _, k := range keys {
		if slices.Contains(l.files, k) {
			continue // listed by its name
		}
		// A configuration file that holds a key is a credential file as a
		// whole, not only its secret fields.
		l.fields = slices.DeleteFunc(l.fields, func(f string) bool { return f == k })
		l.keys = append(l.keys, k)
		l.files = append(l.files, k)
		if slices.Contains(tools, k) {
			l.tools = append(l.tools, k)
		}
	}
	slices.Sort(l.files)
	if len(l.files) > maxContextFiles {
		return nil, fmt.Errorf("hushbuild: the build context holds %d credential files (more than %d): list the ones the image must not hold in .dockerignore", len(l.files), maxContextFiles)
	}
	return l, nil
}

// keysFile is the list contextKeys' step writes, toolsFile the part of it
// that are build tools' credential configurations.
const keysFile, toolsFile = "keys.json", "tools.json"

// contextKeys searches the build context, after its .dockerignore, for the
// files that hold a private key: an exec of the frontend's own image
// (`hushbuild-frontend find-keys`) over the context, with no network, cached
// with the context's content. When the Dockerfile reads the whole context
// (read.whole), that is the build's own source, the same op as its `COPY
// . .` (BuildKit transfers it once). When it reads known paths only, those
// paths are transferred to a snapshot of their own (sharing the build's
// would make each transfer send what the other left out); when it reads
// unknown paths, the whole context is. It returns the paths and the state
// that holds them, an empty list and no state when the Dockerfile reads
// nothing of the context, or nothing when the frontend does not know its
// own image.
func contextKeys(ctx context.Context, c client.Client, bc *dockerui.Client, tool func(context.Context) (llb.State, error), read contextRead) (keys, tools []string, st *llb.State, err error) {
	if bc.BuildOpts().Opts[keySource] == "" || tool == nil {
		return nil, nil, nil, nil
	}
	var opts []llb.LocalOption
	switch {
	case read.whole:
	case read.known && len(read.paths) == 0:
		// Nothing of the context is read: nothing to search.
		return []string{}, nil, nil, nil
	case read.known:
		// Only the paths the Dockerfile reads: what the build transfers
		// anyway, not the rest of the context.
		opts = append(opts, llb.FollowPaths(read.paths), llb.SharedKeyHint("hushbuild-context-keys-paths"),
			dockerui.WithInternalName("hushbuild: load the paths the Dockerfile reads from the build context to search them for private keys"))
	default:
		opts = append(opts, llb.SharedKeyHint("hushbuild-context-keys"), dockerui.WithInternalName("hushbuild: load the build context to search it for private keys"))
	}
	st, err = bc.MainContext(ctx, opts...)
	if err != nil || st == nil {
		return nil, nil, nil, err
	}
	keys, tools, err = findKeys(ctx, c, tool, *st, "the build context")
	if err != nil {
		return nil, nil, nil, err
	}
	return keys, tools, st, nil
}

// findKeys searches the files of st (a build context, named what) for
// private keys, whatever their names, with the frontend's own image.
func findKeys(ctx context.Context, c client.Client, tool func(context.Context) (llb.State, error), st llb.State, what string) (keys, tools []string, err error) {
	t, err := tool(ctx)
	if err != nil {
		return nil, nil, err
	}
	const in, out = "/context", "/out"
	run := t.Run(
		llb.Args([]string{proof.Binary, "find-keys", "--out", path.Join(out, keysFile), "--tools", path.Join(out, toolsFile), in}),
		llb.AddMount(in, st, llb.Readonly),
		llb.Network(pb.NetMode_NONE),
		llb.WithCustomName("[hushbuild] search "+what+" for private keys"),
	)
	def, err := run.AddMount(out, llb.Scratch()).Marshal(ctx)
	if err != nil {
		return nil, nil, err
	}
	res, err := c.Solve(ctx, client.SolveRequest{Definition: def.ToPB()})
	if err != nil {
		return nil, nil, fmt.Errorf("hushbuild: searching %s for private keys: %w", what, err)
	}
	ref, err := res.SingleRef()
	if err != nil || ref == nil {
		return nil, nil, fmt.Errorf("hushbuild: searching %s for private keys: no result", what)
	}
	for _, l := range []struct {
		file string
		list *[]string
	}{{keysFile, &keys}, {toolsFile, &tools}} {
		dt, err := ref.ReadFile(ctx, client.ReadRequest{Filename: "/" + l.file})
		if err != nil {
			return nil, nil, fmt.Errorf("hushbuild: searching %s for private keys: %w", what, err)
		}
		if err := json.Unmarshal(dt, l.list); err != nil {
			return nil, nil, fmt.Errorf("hushbuild: searching %s for private keys: %w", what, err)
		}
	}
	return keys, tools, nil
}

// dockerfileNamePatterns select the files of a build context named as
// Dockerfiles are, in BuildKit's include syntax.
var dockerfileNamePatterns = []string{"**/Dockerfile", "**/Dockerfile.*", "**/*.Dockerfile", "**/dockerfile", "**/*.dockerfile", "**/Containerfile"}

// isDockerfileName matches a path against dockerfileNamePatterns.
func isDockerfileName(p string) bool {
	b := path.Base(p)
	return b == "Dockerfile" || b == "dockerfile" || b == "Containerfile" ||
		strings.HasPrefix(b, "Dockerfile.") || strings.HasSuffix(b, ".Dockerfile") || strings.HasSuffix(b, ".dockerfile")
}

// credentialFiles solves def and lists its credential files (sorted, not
// nil), with the configuration files that may hold a credential field
// (rewrite.IsFieldConfigFile), and, of those, the ones that hold one
// (fieldfile.Holds: read here, up to fieldfile.MaxSize, the decision kept,
// never a value); or nil when a walk of a context that is not bounded by include
// patterns (bounded) passes maxRemoteDirs directories. With self, the
// files named like Dockerfiles that hold exactly self are credential files
// too, and come back on their own as well.
func credentialFiles(ctx context.Context, c client.Client, def *pb.Definition, bounded bool, cfg rewrite.Config, self []byte) ([]string, []string, []string, error) {
	res, err := c.Solve(ctx, client.SolveRequest{Definition: def})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("hushbuild: listing the build context's credential files: %w", err)
	}
	ref, err := res.SingleRef()
	if err != nil || ref == nil {
		return nil, nil, nil, err
	}
	out := []string{}
	var selfFiles, fieldKeys []string
	dirs := 0
	var walk func(dir string, depth int) error
	walk = func(dir string, depth int) error {
		if depth > 64 {
			return fmt.Errorf("hushbuild: the build context is nested more than 64 directories deep")
		}
		if dirs++; !bounded && dirs > maxRemoteDirs {
			return errTooManyDirs
		}
		entries, err := ref.ReadDir(ctx, client.ReadDirRequest{Path: dir})
		if err != nil {
			return fmt.Errorf("hushbuild: listing the build context's credential files: %w", err)
		}
		for _, e := range entries {
			rel := strings.TrimPrefix(path.Join(dir, path.Base(e.Path)), "/")
			if os.FileMode(e.Mode).IsDir() {
				if err := walk("/"+rel, depth+1); err != nil {
					return err
				}
				continue
			}
			if !os.FileMode(e.Mode).IsRegular() {
				continue
			}
			if rewrite.IsCredentialFile(rel, cfg) {
				out = append(out, rel)
				continue
			}
			if rewrite.IsFieldConfigFile(rel, cfg) {
				out = append(out, rel)
				// Larger ones are left to the build-time check of their
				// fields.
				if e.Size > fieldfile.MaxSize {
					continue
				}
				dt, err := ref.ReadFile(ctx, client.ReadRequest{Filename: "/" + rel})
				if err != nil {
					return fmt.Errorf("hushbuild: reading %s of the build context: %w", rel, err)
				}
				if fieldfile.Holds(rel, dt) {
					fieldKeys = append(fieldKeys, rel)
				}
				continue
			}
			if self != nil && isDockerfileName(rel) && e.Size == int64(len(self)) {
				dt, err := ref.ReadFile(ctx, client.ReadRequest{Filename: "/" + rel})
				if err != nil {
					return fmt.Errorf("hushbuild: reading %s of the build context: %w", rel, err)
				}
				if bytes.Equal(dt, self) {
					out = append(out, rel)
					selfFiles = append(selfFiles, rel)
				}
			}
		}
		return nil
	}
	if err := walk("/", 0); err == errTooManyDirs {
		return nil, nil, nil, nil
	} else if err != nil {
		return nil, nil, nil, err
	}
	if len(out) > maxContextFiles {
		return nil, nil, nil, fmt.Errorf("hushbuild: the build context holds %d credential files (more than %d): list the ones the image must not hold in .dockerignore", len(out), maxContextFiles)
	}
	slices.Sort(out)
	slices.Sort(selfFiles)
	slices.Sort(fieldKeys)
	return out, selfFiles, fieldKeys, nil
}

// namedContextSources are the credential files of the named local build
// contexts (--build-context NAME=DIR), as sources for the proof: a COPY
// --from=NAME that brings one in fails closed. The names of those that
// could not be listed come back too, and the credential files of each by
// its source's identifier (local://NAME), for the steps that bind-mount
// one (RUN --mount=from=NAME).
func namedContextSources(ctx context.Context, c client.Client, bc *dockerui.Client, opts map[string]string, cfg rewrite.Config, tool func(context.Context) (llb.State, error)) ([]proof.Source, []string, map[string][]string, error) {
	var sources []proof.Source
	byID := map[string][]string{}
	var unlisted []string
	for _, k := range slices.Sorted(maps.Keys(opts)) {
		name, ok := strings.CutPrefix(k, "context:")
		if !ok || !strings.HasPrefix(opts[k], "local:") {
			continue
		}
		nc, err := bc.NamedContext(name, dockerui.ContextOpt{})
		if err != nil || nc == nil {
			unlisted = append(unlisted, name)
			continue
		}
		st, _, err := nc.Load(ctx)
		if err != nil || st == nil {
			unlisted = append(unlisted, name)
			continue
		}
		def, err := st.Marshal(ctx)
		if err != nil {
			return nil, nil, nil, err
		}
		files, _, fieldKeys, err := credentialFiles(ctx, c, def.ToPB(), false, cfg, nil)
		if err != nil {
			return nil, nil, nil, err
		}
		if files == nil {
			unlisted = append(unlisted, name)
			continue
		}
		// A private key under any name (deploy, github): found by its
		// content, as in the main context.
		if bc.BuildOpts().Opts[keySource] != "" && tool != nil {
			keys, _, err := findKeys(ctx, c, tool, *st, "the build context "+name)
			if err != nil {
				return nil, nil, nil, err
			}
			for _, k := range keys {
				if !slices.Contains(files, k) {
					files = append(files, k)
				}
			}
		}
		for _, f := range files {
			sources = append(sources, proof.Source{ID: f + " (build context " + name + ")", State: st, Selector: "/" + f, FieldsOnly: rewrite.IsFieldConfigFile(f, cfg) && !slices.Contains(fieldKeys, f)})
		}
		if len(files) > 0 {
			byID["local://"+strings.TrimPrefix(opts[k], "local:")] = files
		}
	}
	return sources, unlisted, byID, nil
}

// isLocalSource reports whether def's head is a local source (the build
// context as a directory of the client).
func isLocalSource(def *pb.Definition) bool {
	if def == nil || len(def.Def) < 2 {
		return false
	}
	ops := map[string]*pb.Op{}
	var last *pb.Op
	for _, dt := range def.Def {
		op := &pb.Op{}
		if op.UnmarshalVT(dt) != nil {
			return false
		}
		ops[digestOf(dt)] = op
		last = op
	}
	if last == nil || len(last.Inputs) != 1 {
		return false
	}
	head := ops[last.Inputs[0].Digest]
	return head != nil && head.GetSource() != nil && strings.HasPrefix(head.GetSource().Identifier, "local://")
}

func digestOf(dt []byte) string { return string(digest.FromBytes(dt)) }

// contextRead is what a Dockerfile text reads of the main build context,
// as BuildKit's converter transfers it.
type contextRead struct {
	// whole: the text copies or bind-mounts the root of the context (COPY
	// . ., ADD ./ /app, RUN --mount=type=bind without a source): the whole
	// context is transferred, with no FollowPaths. A text that does not
	// parse does not.
	whole bool
	// paths are the sources read (COPY and ADD sources without --from,
	// RUN bind mounts of the context), as FollowPaths takes them, when
	// known: a text that does not parse, a source built from a variable,
	// or an ONBUILD trigger of the text make them unknown.
	paths []string
	known bool
	// bases are the base images of its stages (FROM names as written that
	// are no earlier stage and not scratch).
	bases []string
}

// triggerFree reports whether every base image is resolved
// (rewrite.Config.BaseImages) and has no ONBUILD triggers.
func triggerFree(bases []string, images map[string]rewrite.ImageDefaults) bool {
	for _, b := range bases {
		d, ok := images[b]
		if !ok || len(d.OnBuild) > 0 {
			return false
		}
	}
	return true
}

// contextReads parses the Dockerfile text once for contextRead.
func contextReads(text []byte) contextRead {
	var r contextRead
	res, err := parser.Parse(bytes.NewReader(text))
	if err != nil {
		return r
	}
	stages, _, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return r
	}
	r.known = true
	for _, n := range res.AST.Children {
		if strings.EqualFold(n.Value, "onbuild") {
			r.known = false
		}
	}
	names := map[string]bool{}
	for _, st := range stages {
		if b := st.BaseName; !names[strings.ToLower(b)] && !strings.EqualFold(b, "scratch") && !slices.Contains(r.bases, b) {
			r.bases = append(r.bases, b)
		}
		names[strings.ToLower(st.Name)] = true
	}
	root := func(p string) bool { return path.Join("/", p) == "/" }
	add := func(srcs ...string) {
		for _, s := range srcs {
			switch {
			case strings.Contains(s, "://") || strings.HasPrefix(s, "git@"):
				// ADD of a URL: not the context.
			case strings.Contains(s, "$"):
				r.known = false
			default:
				r.whole = r.whole || root(s)
				r.paths = append(r.paths, strings.TrimPrefix(path.Join("/", s), "/"))
			}
		}
	}
	for _, st := range stages {
		for _, cmd := range st.Commands {
			switch c := cmd.(type) {
			case *instructions.CopyCommand:
				if c.From == "" {
					add(c.SourcePaths...)
				}
			case *instructions.AddCommand:
				add(c.SourcePaths...)
			case *instructions.RunCommand:
				for _, m := range mountsOfRun(c) {
					if m.Type == instructions.MountTypeBind && m.From == "" {
						add(m.Source)
					}
				}
			}
		}
	}
	if !r.known {
		r.paths = nil
		return r
	}
	slices.Sort(r.paths)
	r.paths = slices.Compact(r.paths)
	return r
}

// mountsOfRun parses a RUN's --mount flags with their values as written.
func mountsOfRun(run *instructions.RunCommand) []*instructions.Mount {
	if err := run.Expand(func(w string) (string, error) { return w, nil }); err != nil {
		return nil
	}
	return instructions.GetMounts(run)
}
