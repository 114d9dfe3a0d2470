package frontend

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"

	"github.com/hushbuild/hushbuild/frontend/proof"
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
// names, never contents.
type listing struct {
	files []string
	state *llb.State
	ops   map[string]bool
}

// contextFiles lists the credential files of a local build context, after
// its .dockerignore (and <Dockerfile>.dockerignore), as BuildKit's own
// Dockerfile builder applies them: a transfer of only the files whose names
// could be credential files' (nothing else is sent for it), and only their
// names are read here, never their content. A git or HTTP context is
// walked as the build fetches it, up to maxRemoteDirs directories. It
// returns nil when the context could not be listed.
func contextFiles(ctx context.Context, c client.Client, bc *dockerui.Client, cfg rewrite.Config) (*listing, error) {
	st, err := bc.MainContext(ctx,
		llb.IncludePatterns(rewrite.ContextFilePatterns(cfg)),
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
	files, err := credentialFiles(ctx, c, def.ToPB(), isLocalSource(def.ToPB()), cfg)
	if err != nil || files == nil {
		return nil, err
	}
	l := &listing{files: files, state: st, ops: map[string]bool{}}
	for _, dt := range def.Def {
		l.ops[digestOf(dt)] = true
	}
	return l, nil
}

// credentialFiles solves def and lists its credential files (sorted, not
// nil), or nil when a walk of a context that is not bounded by include
// patterns (bounded) passes maxRemoteDirs directories.
func credentialFiles(ctx context.Context, c client.Client, def *pb.Definition, bounded bool, cfg rewrite.Config) ([]string, error) {
	res, err := c.Solve(ctx, client.SolveRequest{Definition: def})
	if err != nil {
		return nil, fmt.Errorf("hushbuild: listing the build context's credential files: %w", err)
	}
	ref, err := res.SingleRef()
	if err != nil || ref == nil {
		return nil, err
	}
	out := []string{}
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
			if os.FileMode(e.Mode).IsRegular() && rewrite.IsCredentialFile(rel, cfg) {
				out = append(out, rel)
			}
		}
		return nil
	}
	if err := walk("/", 0); err == errTooManyDirs {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if len(out) > maxContextFiles {
		return nil, fmt.Errorf("hushbuild: the build context holds %d credential files (more than %d): list the ones the image must not hold in .dockerignore", len(out), maxContextFiles)
	}
	slices.Sort(out)
	return out, nil
}

// namedContextSources are the credential files of the named local build
// contexts (--build-context NAME=DIR), as sources for the proof: a COPY
// --from=NAME that brings one in fails closed. The names of those that
// could not be listed come back too.
func namedContextSources(ctx context.Context, c client.Client, bc *dockerui.Client, opts map[string]string, cfg rewrite.Config) ([]proof.Source, []string, error) {
	var sources []proof.Source
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
			return nil, nil, err
		}
		files, err := credentialFiles(ctx, c, def.ToPB(), false, cfg)
		if err != nil {
			return nil, nil, err
		}
		if files == nil {
			unlisted = append(unlisted, name)
			continue
		}
		for _, f := range files {
			sources = append(sources, proof.Source{ID: f + " (build context " + name + ")", State: st, Selector: "/" + f})
		}
	}
	return sources, unlisted, nil
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
