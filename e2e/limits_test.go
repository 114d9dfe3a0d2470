package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hushbuild/hushbuild/rewrite"
)

// TestDockerfilePastLimitsRefused: the frontend refuses a Dockerfile past
// rewrite.MaxDockerfileSize or rewrite.MaxInstructions, as the CLI does,
// with a message that names the limit; nothing is built.
func TestDockerfilePastLimitsRefused(t *testing.T) {
	l := needLab(t)
	tests := []struct {
		name       string
		dockerfile string
		want       string
	}{
		{"size", "FROM alpine\nARG NPM_TOKEN\n" + strings.Repeat("RUN echo $NPM_TOKEN && true\n", rewrite.MaxDockerfileSize/28+1),
			fmt.Sprintf("more than the %d (512 KiB) hushbuild reads", rewrite.MaxDockerfileSize)},
		{"instructions", "FROM alpine\n" + strings.Repeat("RUN true\n", rewrite.MaxInstructions+1),
			fmt.Sprintf("more than the %d hushbuild reads", rewrite.MaxInstructions)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dockerfile := withSyntax(l.frontend, []byte(tt.dockerfile))
			dir := t.TempDir()
			writeFile(t, dir, "Dockerfile", dockerfile)
			build := l.buildx(t, buildSpec{dir: dir, flags: l.baseImageFlags(t, dockerfile)})
			if build.err == nil {
				t.Fatal("the build succeeded")
			}
			if !strings.Contains(string(build.out), tt.want) {
				t.Errorf("the build's output does not say %q:\n%s", tt.want, tail(build.out, 2000))
			}
		})
	}
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
