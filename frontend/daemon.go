package frontend

import (
	"errors"
	"fmt"
	"strings"

	"github.com/moby/buildkit/frontend/gateway/client"
	gwpb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/apicaps"
)

// MinBuildKit is the oldest BuildKit daemon hushbuild builds on: the
// first release with every capability of daemonCaps (the last one to come
// was the gateway's reference.attestations). The daemon matrix of the lab
// (docs/daemons.md) builds on a v0.11 daemon and sees a v0.10 one stop.
const MinBuildKit = "v0.11.0"

// minDockerEngine is the first Docker Engine release whose bundled
// BuildKit is MinBuildKit or newer (v0.11).
const minDockerEngine = "24.0"

// daemonCap is one capability of the BuildKit daemon the frontend relies
// on: an LLB operation (LLBCaps) or a gateway call (Caps).
type daemonCap struct {
	id      apicaps.CapID
	gateway bool
	// why says what hushbuild does with it.
	why string
}

// daemonCaps are the capabilities whose absence would make a build fail
// later, or pass without its checks. The gateway calls the frontend has a
// fallback for (the evaluation of a solve, the source metadata resolver,
// the frontend inputs) are not listed.
var daemonCaps = []daemonCap{
	{id: gwpb.CapSolveBase, gateway: true, why: "to build the Dockerfile"},
	{id: gwpb.CapReadFile, gateway: true, why: "to read the Dockerfile and the checks' reports"},
	{id: gwpb.CapReadDir, gateway: true, why: "to list the build context for credential files"},
	{id: gwpb.CapStatFile, gateway: true, why: "to list the build context for credential files"},
	{id: gwpb.CapResolveImage, gateway: true, why: "to resolve the frontend's own image, which runs the build-time checks"},
	{id: gwpb.CapAttestations, gateway: true, why: "to return the SBOM attestations the frontend makes with the image, instead of dropping them"},
	{id: pb.CapFileBase, why: "to copy files as the Dockerfile says"},
	{id: pb.CapFileCopyIncludeExcludePatterns, why: "for COPY --exclude, which keeps the context's credential files out of a COPY"},
	{id: pb.CapExecMountBind, why: "to mount the frontend's image into the checks"},
	{id: pb.CapExecMountCacheSharing, why: "to lock the cache mounts of a step with secrets while it is checked"},
	{id: pb.CapExecMountSecret, why: "for RUN --mount=type=secret"},
	{id: pb.CapExecMountSSH, why: "for RUN --mount=type=ssh"},
	{id: pb.CapExecSecretEnv, why: "for RUN --mount=type=secret,env=NAME, the form secret build-args are rewritten to"},
	{id: pb.CapExecMetaNetwork, why: "to run the checks without a network"},
	{id: pb.CapMetaIgnoreCache, why: "to run the checks and the steps with secrets on every build"},
	{id: pb.CapDiffOp, why: "to check what each step with secrets changed"},
}

// DaemonError says that the BuildKit daemon is too old, or was configured
// without something hushbuild needs.
type DaemonError struct {
	Missing  []daemonCap
	Disabled map[apicaps.CapID]string // why the daemon disabled it, "" if it says nothing
}

func (e *DaemonError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "hushbuild needs BuildKit %s or newer (Docker Engine %s or newer, or a docker-container builder: docker buildx create --driver docker-container --use); this BuildKit daemon lacks ", MinBuildKit, minDockerEngine)
	for i, c := range e.Missing {
		if i > 0 {
			b.WriteString("; ")
		}
		kind := "LLB capability"
		if c.gateway {
			kind = "gateway capability"
		}
		fmt.Fprintf(&b, "the %s %s (%s", kind, c.id, c.why)
		if reason, ok := e.Disabled[c.id]; ok {
			b.WriteString("; disabled on this daemon")
			if reason != "" {
				b.WriteString(": " + reason)
			}
		}
		b.WriteString(")")
	}
	b.WriteString(". Upgrade the daemon the build runs on; the build stops before it starts")
	return b.String()
}

// checkDaemon checks that the daemon supports every capability of
// daemonCaps, so that an older daemon stops the build at once, naming the
// BuildKit version hushbuild needs, instead of failing later (or passing
// without its checks).
func checkDaemon(opts client.BuildOpts) error {
	de := &DaemonError{}
	for _, c := range daemonCaps {
		set := opts.LLBCaps
		if c.gateway {
			set = opts.Caps
		}
		err := set.Supports(c.id)
		if err == nil {
			continue
		}
		de.Missing = append(de.Missing, c)
		var ce *apicaps.CapError
		if errors.As(err, &ce) && ce.State != nil && !ce.State.Enabled {
			if de.Disabled == nil {
				de.Disabled = map[apicaps.CapID]string{}
			}
			de.Disabled[c.id] = ce.State.DisabledReasonMsg
		}
	}
	if len(de.Missing) == 0 {
		return nil
	}
	return de
}
