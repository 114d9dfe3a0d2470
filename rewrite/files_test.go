package rewrite

import (
	"strings"
	"testing"
)

// TestPathTail checks pathTail against the split-and-join it replaces in
// matchPathPatterns.
func TestPathTail(t *testing.T) {
	for _, p := range []string{"", "a", "/a", "a/b", "/a/b", "a/b/c", "a//b", "/", "//", "a/", ".aws/credentials", "/root/.docker/config.json"} {
		for n := 1; n <= 4; n++ {
			parts := strings.Split(p, "/")
			want, wantOK := "", len(parts) >= n
			if wantOK {
				want = strings.Join(parts[len(parts)-n:], "/")
			}
			if got, ok := pathTail(p, n); got != want || ok != wantOK {
				t.Errorf("pathTail(%q, %d) = %q, %v; want %q, %v", p, n, got, ok, want, wantOK)
			}
		}
	}
}
