package rewrite

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// atLimit builds Dockerfiles of the shapes that cost the engine the most
// per byte, as large as CheckLimits lets through.
func atLimit() map[string][]byte {
	fill := func(head, unit, tail string) []byte {
		n := (MaxDockerfileSize - len(head) - len(tail)) / len(unit)
		return []byte(head + strings.Repeat(unit, n) + tail)
	}
	var args, runs strings.Builder
	args.WriteString("FROM alpine\n")
	for i := range MaxInstructions/2 - 1 {
		fmt.Fprintf(&args, "ARG TOKEN_%d\n", i)
		fmt.Fprintf(&runs, "RUN echo $TOKEN_%d\n", i)
	}
	return map[string][]byte{
		// One RUN chaining commands over continuation lines.
		"continued-run": fill("FROM alpine\nARG NPM_TOKEN\nRUN echo $NPM_TOKEN \\\n", " && echo hi \\\n", " && true\n"),
		// One RUN on one line (BuildKit's parser stops at 64 KiB lines).
		"long-run": fill("FROM alpine\nARG NPM_TOKEN\nRUN echo $NPM_TOKEN", " && echo hi", "\n")[:60<<10],
		// A RUN per line, each mounting the secret.
		"many-runs": []byte("FROM alpine\nARG NPM_TOKEN\n" + strings.Repeat("RUN echo $NPM_TOKEN hi\n", MaxInstructions-2)),
		// secrets × RUNs: every RUN mounts every secret ARG in scope.
		"secrets-times-runs": []byte(args.String() + runs.String()),
	}
}

func TestCheckLimits(t *testing.T) {
	under := "FROM alpine\nARG NPM_TOKEN\n"
	tests := []struct {
		name string
		src  string
		want string // "" for nil
	}{
		{"small", under, ""},
		{"at the size limit", under + strings.Repeat("#", MaxDockerfileSize-len(under)), ""},
		{"one byte over", under + strings.Repeat("#", MaxDockerfileSize-len(under)+1), fmt.Sprintf("is %d bytes, more than the %d (512 KiB)", MaxDockerfileSize+1, MaxDockerfileSize)},
		{"50 MB", under + strings.Repeat("RUN echo $NPM_TOKEN\n", 50<<20/20), "more than the 524288 (512 KiB) hushbuild reads"},
		{"at the instruction limit", "FROM alpine\n" + strings.Repeat("RUN true\n", MaxInstructions-1), ""},
		{"one instruction over", "FROM alpine\n" + strings.Repeat("RUN true\n", MaxInstructions), fmt.Sprintf("has %d instructions, more than the %d", MaxInstructions+1, MaxInstructions)},
		{"comments and blank lines are no instructions", "FROM alpine\n" + strings.Repeat("# x\n\n", 2*MaxInstructions), ""},
		{"a parse error is the rewrite's", "FROM alpine\nFOO bar\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckLimits([]byte(tt.src))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("CheckLimits = %v, want nil", err)
				}
				return
			}
			var le *LimitError
			if !errors.As(err, &le) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("CheckLimits = %v, want a *LimitError saying %q", err, tt.want)
			}
			// Rewrite refuses the same, with the same error.
			if _, rerr := Rewrite([]byte(tt.src), Config{}); rerr == nil || rerr.Error() != err.Error() {
				t.Errorf("Rewrite = %v, want %v", rerr, err)
			}
		})
	}
	if err := CheckSize(MaxDockerfileSize + 1); err == nil {
		t.Error("CheckSize accepted MaxDockerfileSize+1")
	}
	if err := (&LimitError{Size: MaxDockerfileSize + 1, Partial: true}); !strings.Contains(err.Error(), "is over 524288 bytes") {
		t.Errorf("partial read: %v", err)
	}
}

// TestAtLimitsRewrites checks that the inputs of BenchmarkRewriteLimits
// pass CheckLimits and rewrite.
func TestAtLimitsRewrites(t *testing.T) {
	for name, src := range atLimit() {
		if err := CheckLimits(src); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if _, err := Rewrite(src, Config{}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// BenchmarkRewriteLimits measures the rewrite of the costliest inputs
// CheckLimits lets through (docs/cli.md quotes it):
//
//	go test ./rewrite -run '^$' -bench RewriteLimits -benchmem -benchtime 3x
func BenchmarkRewriteLimits(b *testing.B) {
	for name, src := range atLimit() {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				res, err := Rewrite(src, Config{})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(len(res.Output)), "out-bytes")
			}
		})
	}
}

// BenchmarkRewriteScaling rewrites the continued-RUN shape at growing
// sizes: time per byte should stay flat (linear cost).
//
//	go test ./rewrite -run '^$' -bench RewriteScaling -benchtime 3x
func BenchmarkRewriteScaling(b *testing.B) {
	for _, kib := range []int{64, 128, 256, 512} {
		src := []byte("FROM alpine\nARG NPM_TOKEN\nRUN echo $NPM_TOKEN \\\n" + strings.Repeat(" && echo hi \\\n", (kib<<10-60)/15) + " && true\n")
		b.Run(fmt.Sprintf("%dKiB", kib), func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				if _, err := Rewrite(src, Config{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
