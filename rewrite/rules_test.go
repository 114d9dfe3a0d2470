package rewrite

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSeverityFromTable: every finding of every example has its rule's
// severity from the rules table (or the rule's Settled severity), so that
// disable, which the table decides on, drops exactly the findings the
// documentation says.
func TestSeverityFromTable(t *testing.T) {
	for _, r := range Rules {
		if r.Settled > r.Severity {
			t.Errorf("%s: Settled %v above Severity %v", r.Name, r.Settled, r.Severity)
		}
	}
	for _, dir := range exampleDirs(t) {
		src, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
		if err != nil {
			t.Fatal(err)
		}
		for _, cfg := range []Config{{}, {RewriteHardcoded: true}, {OmitRuntimeSecretFiles: true}, {AllowRuntimeSecretFiles: true}} {
			res, err := Rewrite(src, cfg)
			if err != nil {
				continue
			}
			for _, f := range res.Findings {
				r, ok := LookupRule(f.Rule)
				if !ok {
					t.Errorf("%s:%d: unknown rule %s", filepath.Base(dir), f.Range.Start, f.Rule)
					continue
				}
				if f.Severity != r.Severity && (r.Settled == 0 || f.Severity != r.Settled) && r.Name != RuleInvalidSuppression.Name {
					t.Errorf("%s:%d: %s finding at %v, the table says %v", filepath.Base(dir), f.Range.Start, f.Rule, f.Severity, r.Severity)
				}
			}
		}
	}
}
