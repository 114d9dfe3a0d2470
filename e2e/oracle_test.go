package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hushbuild/hushbuild/verify"
)

// scan runs the image scanner on an OCI archive for the test's secrets (known
// values only: the canaries are what the test must not find; the pattern
// rules would also flag the public example keys some cases carry).
func scan(t *testing.T, archive string, secrets []verify.Secret) *verify.Report {
	t.Helper()
	if len(secrets) == 0 {
		t.Fatal("scan: no secrets to look for")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := verify.Scan(ctx, verify.Options{Image: archive, Secrets: secrets, Concurrency: 1})
	if err != nil {
		t.Fatalf("verify %s: the image could not be fully scanned: %v", archive, err)
	}
	if len(rep.Notes) > 0 {
		t.Fatalf("verify %s: values not searched: %s", archive, strings.Join(rep.Notes, "; "))
	}
	if rep.Stats.Layers == 0 || rep.Stats.Manifests == 0 {
		t.Fatalf("verify %s: scanned nothing (%+v)", archive, rep.Stats)
	}
	return rep
}

// hitLines says where each hit is and which secret matched, never the
// value.
func hitLines(rep *verify.Report) string {
	var b strings.Builder
	for _, h := range rep.Hits {
		fmt.Fprintf(&b, "\n\t%s [%s] at %s", h.What(), h.Encoding, h.Where())
		if h.History != nil {
			fmt.Fprintf(&b, " (history %d)", *h.History)
		}
		for _, n := range h.Notes {
			fmt.Fprintf(&b, " (%s)", n)
		}
	}
	return b.String()
}

// hitKinds summarises where the hits are: "config history, attestation".
func hitKinds(rep *verify.Report) string {
	seen := map[string]bool{}
	var out []string
	for _, h := range rep.Hits {
		k := h.Kind
		switch {
		case h.Kind == verify.KindConfig && h.History != nil:
			k = "config history"
		case h.Kind == verify.KindLayer:
			k = "layer file " + h.Path
		case h.Kind == verify.KindAttestation:
			k = "provenance " + h.Field
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return strings.Join(out, ", ")
}
