package frontend

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	gwpb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/apicaps"
	apicapspb "github.com/moby/buildkit/util/apicaps/pb"
	"google.golang.org/protobuf/proto"
)

// capsWithout is every capability of list, less drop, with disable
// reported as disabled (with that reason): what an older or restricted
// daemon announces.
func capsWithout(list *apicaps.CapList, drop []apicaps.CapID, disable map[apicaps.CapID]string) []*apicapspb.APICap {
	var out []*apicapspb.APICap
	for _, c := range list.All() {
		if slices.Contains(drop, apicaps.CapID(c.ID)) {
			continue
		}
		c = proto.Clone(c).(*apicapspb.APICap)
		if reason, ok := disable[apicaps.CapID(c.ID)]; ok {
			c.Enabled = false
			c.DisabledReasonMsg = reason
		}
		out = append(out, c)
	}
	return out
}

// TestOlderDaemonStopsTheBuild: a daemon without a capability hushbuild
// relies on stops the build before anything is solved, with an error that
// names the BuildKit version hushbuild needs and each missing capability,
// and never a panic.
func TestOlderDaemonStopsTheBuild(t *testing.T) {
	tests := []struct {
		name             string
		llbDrop, gwDrop  []apicaps.CapID
		disable          map[apicaps.CapID]string
		want, wantAbsent []string
	}{
		{
			name: "every capability",
		},
		{
			name:    "no secret env (a daemon older than env= secret mounts)",
			llbDrop: []apicaps.CapID{pb.CapExecSecretEnv},
			want:    []string{"LLB capability exec.secretenv", "env=NAME"},
		},
		{
			name:    "no diff and no secret env (BuildKit v0.9)",
			llbDrop: []apicaps.CapID{pb.CapExecSecretEnv, pb.CapDiffOp, pb.CapMergeOp},
			want:    []string{"LLB capability exec.secretenv", "LLB capability diffop"},
			// MergeOp is not used: it is not asked for.
			wantAbsent: []string{"mergeop"},
		},
		{
			name:   "no attestations from the frontend (BuildKit v0.10)",
			gwDrop: []apicaps.CapID{gwpb.CapAttestations, gwpb.CapGatewayEvaluate},
			want:   []string{"gateway capability reference.attestations", "SBOM"},
			// Nothing needs the evaluation of a reference.
			wantAbsent: []string{"gateway.evaluate"},
		},
		{
			name:    "no COPY --exclude",
			llbDrop: []apicaps.CapID{pb.CapFileCopyIncludeExcludePatterns},
			want:    []string{"LLB capability file.copy.includeexcludepatterns", "COPY --exclude"},
		},
		{
			name:   "a gateway call",
			gwDrop: []apicaps.CapID{gwpb.CapReadDir},
			want:   []string{"gateway capability readdir", "credential files"},
		},
		{
			name:    "disabled by the daemon's configuration",
			disable: map[apicaps.CapID]string{pb.CapExecMountSSH: "ssh forwarding is disabled by policy"},
			want:    []string{"LLB capability exec.mount.ssh", "disabled on this daemon: ssh forwarding is disabled by policy"},
		},
		{
			name:    "a capability hushbuild has a fallback for is not required",
			gwDrop:  []apicaps.CapID{gwpb.CapSourceMetaResolver, gwpb.CapGatewayEvaluateSolve, gwpb.CapFrontendInputs},
			llbDrop: []apicaps.CapID{pb.CapMergeOp, pb.CapExecValidExitCode},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			canary := newCanary(t)
			c := newFakeClient(nil)
			c.llbCaps = capsWithout(&pb.Caps, tt.llbDrop, tt.disable)
			c.gwCaps = capsWithout(&gwpb.Caps, tt.gwDrop, nil)
			c.files["local://dockerfile"] = map[string][]byte{"Dockerfile": testDockerfile(canary)}
			_, err := build(context.Background(), c, (&stubEngine{canary: canary}).rewrite)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("build: %v", err)
				}
				if len(c.solved) == 0 {
					t.Fatal("nothing was solved")
				}
				return
			}
			if err == nil {
				t.Fatal("the build went on")
			}
			var de *DaemonError
			if !errors.As(err, &de) {
				t.Fatalf("err is %T, not a *DaemonError: %v", err, err)
			}
			msg := err.Error()
			t.Log(msg)
			for _, w := range append([]string{"hushbuild needs BuildKit " + MinBuildKit + " or newer", "Docker Engine " + minDockerEngine}, tt.want...) {
				if !strings.Contains(msg, w) {
					t.Errorf("the error does not say %q:\n%s", w, msg)
				}
			}
			for _, w := range tt.wantAbsent {
				if strings.Contains(msg, w) {
					t.Errorf("the error names %q:\n%s", w, msg)
				}
			}
			if strings.Contains(msg, canary) {
				t.Error("the error holds the Dockerfile's canary")
			}
			if len(c.solved) != 0 || len(c.forwarded) != 0 {
				t.Errorf("solved %d definitions and forwarded %d requests on a daemon that is too old", len(c.solved), len(c.forwarded))
			}
		})
	}
}

// TestDaemonCapsAreKnown: every capability the frontend asks the daemon
// for is one the vendored BuildKit defines, so a typo cannot make the
// check pass or fail on every daemon.
func TestDaemonCapsAreKnown(t *testing.T) {
	known := map[bool]map[string]bool{false: {}, true: {}}
	for _, c := range pb.Caps.All() {
		known[false][c.ID] = true
	}
	for _, c := range gwpb.Caps.All() {
		known[true][c.ID] = true
	}
	for _, c := range daemonCaps {
		if !known[c.gateway][string(c.id)] {
			t.Errorf("%s (gateway %v) is not a capability of the vendored BuildKit", c.id, c.gateway)
		}
		if c.why == "" {
			t.Errorf("%s: no reason given", c.id)
		}
	}
}
