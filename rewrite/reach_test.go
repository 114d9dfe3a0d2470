package rewrite

import (
	"fmt"
	"testing"
)

// TestReachKey: computeReach's key of a visit is fmt.Sprint's, which it
// was.
func TestReachKey(t *testing.T) {
	for _, tt := range []struct {
		i     int
		all   bool
		paths []string
	}{{0, true, nil}, {3, false, []string{"/a", "/b c"}}, {12, false, []string{}}, {1, false, []string{"/x"}}} {
		if got, want := reachKey(tt.i, tt.all, tt.paths), fmt.Sprint(tt.i, tt.all, tt.paths); got != want {
			t.Errorf("reachKey(%d, %v, %q) = %q, fmt.Sprint %q", tt.i, tt.all, tt.paths, got, want)
		}
	}
}
