package frontend

import (
	"bytes"
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
	// self are the files (also in files) that hold the Dockerfile's own
	// text, listed when it holds a literal credential the rewrite takes
	// out of the build.
	self []string
	// fields are configuration files that may hold a credential field
	// (rewrite.IsFieldConfigFile), not in files: the check searches their
	// secret fields.
	fields []string
	state  *llb.State
	ops    map[string]bool
}

// contextFiles lists the credential files of a local build context, after
// its .dockerignore (and <Dockerfile>.dockerignore), as BuildKit's own
// Dockerfile builder applies them: a transfer of only the files whose names
// could be credential files' (nothing else is sent for it), and only their
// names are read here, never their content. A git or HTTP context is
// walked as the build fetches it, up to maxRemoteDirs directories. It
// returns nil when the context could not be listed.
//
// With self (the Dockerfile's text, when it holds a literal credential
// that the rewrite takes out of the build), files named like Dockerfiles
// are read too, and those that hold exactly self are listed, in
// listing.self as well: a COPY of the context must not bring the literal
// back.
func contextFiles(ctx context.Context, c client.Client, bc *dockerui.Client, cfg rewrite.Config, self []byte) (*listing, error) {
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
	files, selfFiles, err := credentialFiles(ctx, c, def.ToPB(), isLocalSource(def.ToPB()), cfg, self)
	if err != nil || files == nil {
		return nil, err
	}
	l := &listing{self: selfFiles, state: st, ops: map[string]bool{}}
	for _, f := range files {
		if rewrite.IsFieldConfigFile(f, cfg) {
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
	return l, nil
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
// nil), or nil when a walk of a context that is not bounded by include
// patterns (bounded) passes maxRemoteDirs directories. With self, the
// files named like Dockerfiles that hold exactly self are credential files
// too, and come back on their own as well.
func credentialFiles(ctx context.Context, c client.Client, def *pb.Definition, bounded bool, cfg rewrite.Config, self []byte) ([]string, []string, error) {
	res, err := c.Solve(ctx, client.SolveRequest{Definition: def})
	if err != nil {
		return nil, nil, fmt.Errorf("hushbuild: listing the build context's credential files: %w", err)
	}
	ref, err := res.SingleRef()
	if err != nil || ref == nil {
		return nil, nil, err
	}
	out := []string{}
	var selfFiles []string
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
			if rewrite.IsCredentialFile(rel, cfg) || rewrite.IsFieldConfigFile(rel, cfg) {
				out = append(out, rel)
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
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	if len(out) > maxContextFiles {
		return nil, nil, fmt.Errorf("hushbuild: the build context holds %d credential files (more than %d): list the ones the image must not hold in .dockerignore", len(out), maxContextFiles)
	}
	slices.Sort(out)
	slices.Sort(selfFiles)
	return out, selfFiles, nil
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
		files, _, err := credentialFiles(ctx, c, def.ToPB(), false, cfg, nil)
		if err != nil {
			return nil, nil, err
		}
		if files == nil {
			unlisted = append(unlisted, name)
			continue
		}
		for _, f := range files {
			sources = append(sources, proof.Source{ID: f + " (build context " + name + ")", State: st, Selector: "/" + f, FieldsOnly: rewrite.IsFieldConfigFile(f, cfg)})
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
