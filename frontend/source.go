package frontend

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"

	"github.com/hushbuild/hushbuild/rewrite"
)

// rewriteFunc is the engine: rewrite.Rewrite, or a stand-in in tests.
type rewriteFunc func(src []byte, cfg rewrite.Config) (*rewrite.Result, error)

// remembered returns rw that answers a call with the same text and
// configuration as the one before it from memory: the listing of the
// context asks the engine which files RUNs source, and the rewrite that
// follows, with nothing new listed, asks the same.
func remembered(rw rewriteFunc) rewriteFunc {
	var lastSrc []byte
	var lastCfg string // the configuration printed at the call, which later changes to its slices do not reach
	var lastRes *rewrite.Result
	var lastErr error
	called := false
	return func(src []byte, cfg rewrite.Config) (*rewrite.Result, error) {
		key := fmt.Sprintf("%#v", cfg)
		if called && bytes.Equal(src, lastSrc) && key == lastCfg {
			return lastRes, lastErr
		}
		res, err := rw(src, cfg)
		called, lastSrc, lastCfg, lastRes, lastErr = true, bytes.Clone(src), key, res, err
		return res, err
	}
}

// dockerfile is the Dockerfile as everything after prepare sees it: the
// rewritten text and what the engine reported about it. Nothing in it
// refers to the original bytes, so no code that is handed a *dockerfile can
// pass the original, leaking text to BuildKit.
type dockerfile struct {
	// data is the rewritten Dockerfile, the only text given to BuildKit's
	// Dockerfile conversion.
	data []byte
	// sourceMap is the source that LLB ops point into. Its Data is data:
	// the source map ends up in the build graph and in provenance, so it
	// must never hold the original text.
	sourceMap *llb.SourceMap
	// shown is the source that warnings, errors and check results point
	// into: sourceMap, or, when the Dockerfile is unsafe, the same without
	// its text.
	shown *llb.SourceMap
	// vertex is the digest of the vertex that loaded the Dockerfile;
	// warnings about the Dockerfile are attached to it.
	vertex digest.Digest

	findings     []rewrite.Finding
	requirements []rewrite.Requirement
	// secretArgs are the ARG names the rewrite removed as secrets.
	secretArgs []string
	// onbuild are the base images' ONBUILD triggers as the rewrite
	// changed them (rewrite.Result.OnBuild): the build runs these.
	onbuild map[string][]string
	// contextFiles are the credential files of the build context the
	// rewrite was given (names, never contents).
	contextFiles []string
	// unsafe is the engine's verdict (Result.Err): when it is not nil, data
	// must not be built.
	unsafe error

	// argLines maps every ARG name the Dockerfile declares to the lines
	// that declare it. It holds names and line numbers, never values.
	argLines map[string][]int
	// classifier is the configuration the engine applies to this
	// Dockerfile (options and directive merged), for deciding which
	// build-args name secrets.
	classifier rewrite.Config
}

// readDockerfile reads the Dockerfile exactly as BuildKit's own Dockerfile
// frontend does (the filename option, the dockerfilekey option, frontend
// inputs, git and HTTP contexts) and rewrites it. The original text does
// not outlive this call: only the rewritten one is returned.
//
// before runs between the read and the rewrite, with the configuration it
// may complete (and the same merged with the Dockerfile's directive): BuildKit knows which .dockerignore applies (the
// Dockerfile's own, <Dockerfile>.dockerignore, first) only once the
// Dockerfile is read.
func readDockerfile(ctx context.Context, bc *dockerui.Client, cfg rewrite.Config, rw rewriteFunc, before func(cfg *rewrite.Config, merged rewrite.Config, text []byte) error) (*dockerfile, error) {
	src, err := bc.ReadEntrypoint(ctx, "Dockerfile")
	if err != nil {
		return nil, err
	}
	if before != nil {
		// merged is cfg with the Dockerfile's directive (its
		// secret-files count for the listing); an unreadable directive
		// is the rewrite's to report.
		merged, err := classifierConfig(cfg, src.SourceMap.Data)
		if err != nil {
			merged = cfg
		}
		if err := before(&cfg, merged, src.SourceMap.Data); err != nil {
			return nil, err
		}
	}
	// src.Warn is deliberately not kept: it attaches src.SourceMap, the
	// original text, to every warning that carries no source of its own.
	return prepare(ctx, src.SourceMap, cfg, rw)
}

// holdsRewrittenLiteral reports whether the rewrite takes a literal
// credential out of text (rewrite-hardcoded): the text itself, where the
// build context holds it, is then a credential file of the context.
func holdsRewrittenLiteral(rw rewriteFunc, text []byte, cfg rewrite.Config) bool {
	if !cfg.RewriteHardcoded {
		return false
	}
	res, err := runRewrite(rw, text, cfg)
	return err == nil && res.RewroteLiteral()
}

// prepare rewrites the Dockerfile held by orig and returns the rewritten
// form. It is the only function that sees the original text.
func prepare(ctx context.Context, orig *llb.SourceMap, cfg rewrite.Config, rw rewriteFunc) (*dockerfile, error) {
	if orig == nil {
		return nil, fmt.Errorf("hushbuild: no Dockerfile was read")
	}
	// The same limits as the CLI's, before any other work on the text.
	if err := rewrite.CheckLimits(orig.Data); err != nil {
		return nil, fmt.Errorf("hushbuild: %w", err)
	}
	classifier, err := classifierConfig(cfg, orig.Data)
	if err != nil {
		return nil, err
	}
	// The proof classifies files to search for their values: the
	// Dockerfile's own text is not one (see contextFiles below).
	classifier.ContextSelf = nil

	res, err := runRewrite(rw, orig.Data, cfg)
	if err != nil {
		return nil, err
	}
	if res == nil || (len(res.Output) == 0 && len(orig.Data) != 0) {
		return nil, fmt.Errorf("hushbuild: the rewrite returned no Dockerfile")
	}

	df := &dockerfile{
		// The Dockerfile's own text (ContextSelf) is no secret file to
		// search for: its plain lines are in the build definition. Its
		// literal credential is a secret the build supplies.
		contextFiles: slices.DeleteFunc(slices.Clone(cfg.ContextFiles), func(f string) bool { return slices.Contains(cfg.ContextSelf, f) }),
		data:         bytes.Clone(res.Output),
		findings:     res.Findings,
		requirements: res.Requirements,
		secretArgs:   res.SecretArgs,
		onbuild:      res.OnBuild,
		unsafe:       res.Err(),
		argLines:     declaredArgs(orig.Data),
		classifier:   classifier,
	}

	// shown is the text clients are shown in warnings, errors and check
	// results. When the engine found the Dockerfile unsafe, the rewritten
	// text may still hold what it could not remove (a credential written
	// in the Dockerfile): nothing is built then, and no text is shown, so
	// that it cannot reach a terminal or CI log; findings keep their
	// line numbers.
	shown := df.data
	if df.unsafe != nil {
		shown = nil
	}

	var loader *llb.Definition
	if orig.Definition != nil {
		if df.vertex, err = orig.Definition.Head(); err != nil {
			return nil, fmt.Errorf("hushbuild: reading the Dockerfile's load vertex: %w", err)
		}
		if definitionIsSafe(orig.Definition, orig.Data) {
			loader = orig.Definition
		}
	}
	if df.sourceMap, err = newSourceMap(ctx, loader, orig.Filename, orig.Language, df.data); err != nil {
		return nil, err
	}
	if df.shown, err = newSourceMap(ctx, loader, orig.Filename, orig.Language, shown); err != nil {
		return nil, err
	}
	return df, nil
}

// newSourceMap is a source map holding data. Its definition, which BuildKit
// records next to the text, is loader, the LLB that loaded the Dockerfile,
// when that only fetches and copies files. Otherwise (a frontend input
// made with mkfile, for example, which may hold the original text) it is
// a definition that makes a file holding data.
func newSourceMap(ctx context.Context, loader *llb.Definition, filename, lang string, data []byte) (*llb.SourceMap, error) {
	def := loader
	if def == nil {
		name := path.Base(filename)
		if name == "." || name == "/" || name == "" {
			name = dockerui.DefaultDockerfileName
		}
		st := llb.Scratch().File(llb.Mkfile("/"+name, 0o644, data), dockerui.WithInternalName("hushbuild: rewritten "+filename))
		var err error
		if def, err = st.Marshal(ctx); err != nil {
			return nil, fmt.Errorf("hushbuild: marshalling the source of the rewritten Dockerfile: %w", err)
		}
	}
	return &llb.SourceMap{Definition: def, Filename: filename, Language: lang, Data: data}, nil
}

// runRewrite calls the engine and turns a panic into an error, so that a
// bug in the engine fails the build instead of crashing the frontend.
func runRewrite(rw rewriteFunc, src []byte, cfg rewrite.Config) (res *rewrite.Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, internalError("the rewrite", r)
		}
	}()
	return rw(bytes.Clone(src), cfg)
}

// definitionIsSafe reports whether def, the LLB graph that loaded the
// Dockerfile, can be recorded as the source of the rewritten text: it
// must only fetch and copy files (local, git, HTTP sources and the copies
// of context sub-directories and archives), and must not contain the
// original text.
func definitionIsSafe(def *llb.Definition, orig []byte) bool {
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			return false
		}
		switch o := op.Op.(type) {
		case nil, *pb.Op_Source:
		case *pb.Op_File:
			for _, a := range o.File.Actions {
				switch a.Action.(type) {
				case *pb.FileAction_Copy, *pb.FileAction_Mkdir, *pb.FileAction_Rm:
				default:
					return false
				}
			}
		default:
			return false
		}
	}
	if len(bytes.TrimSpace(orig)) == 0 {
		return true
	}
	dt, err := def.ToPB().MarshalVT()
	if err != nil {
		return false
	}
	return !bytes.Contains(dt, bytes.TrimSpace(orig))
}

// declaredArgs maps the name of every ARG in dt to the lines declaring it,
// as BuildKit's instruction parser reads them. A Dockerfile that does not
// parse has none; the rewrite reports the parse error.
func declaredArgs(dt []byte) map[string][]int {
	out := map[string][]int{}
	res, err := parser.Parse(bytes.NewReader(dt))
	if err != nil {
		return out
	}
	for _, n := range res.AST.Children {
		if !strings.EqualFold(n.Value, "arg") {
			continue
		}
		v, err := instructions.ParseInstruction(n)
		if err != nil {
			continue
		}
		if c, ok := v.(*instructions.ArgCommand); ok {
			for _, a := range c.Args {
				out[a.Key] = append(out[a.Key], n.StartLine)
			}
		}
	}
	return out
}
