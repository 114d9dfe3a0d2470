package frontend

import (
	"strings"

	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/util/grpcerrors"
	"github.com/moby/buildkit/util/stack"
	"google.golang.org/grpc/codes"
)

// enabledCaps are the frontend capabilities of BuildKit's Dockerfile
// builder (frontend/dockerfile/builder, v0.34.2). hushbuild supports the
// same ones, since it runs the same code; the image label
// moby.buildkit.frontend.caps in the root Dockerfile lists them too.
var enabledCaps = map[string]struct{}{
	"moby.buildkit.frontend.inputs":         {},
	"moby.buildkit.frontend.subrequests":    {},
	"moby.buildkit.frontend.contexts":       {},
	"moby.buildkit.frontend.gitquerystring": {},
	"moby.buildkit.frontend.contexts.zstd":  {},
}

// validateCaps checks the capabilities a client requires (the frontend.caps
// option). BuildKit's builder forwards to another frontend for a
// capability marked "+forward" that it lacks; hushbuild never forwards, so
// every missing capability is an error.
func validateCaps(req string) error {
	if req == "" {
		return nil
	}
	for c := range strings.SplitSeq(req, ",") {
		name, _, _ := strings.Cut(c, "+")
		if _, ok := enabledCaps[name]; !ok {
			return stack.Enable(grpcerrors.WrapCode(errdefs.NewUnsupportedFrontendCapError(name), codes.Unimplemented))
		}
	}
	return nil
}
