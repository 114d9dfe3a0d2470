package rewrite

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// generated returns a Dockerfile of about n instructions mixing every
// pattern the engine rewrites.
func generated(n int) []byte {
	var b strings.Builder
	b.WriteString("ARG BASE=alpine\n")
	i := 0
	for stage := 0; i < n; stage++ {
		fmt.Fprintf(&b, "FROM $BASE AS s%d\nWORKDIR /app\nARG NPM_TOKEN\nARG VERSION=1.%d\nCOPY .netrc .\n", stage, stage)
		i += 5
		for j := 0; j < 40 && i < n; j++ {
			switch j % 4 {
			case 0:
				fmt.Fprintf(&b, "RUN echo %d && \\\n    npm ci --prefix /app/%d\n", j, j)
			case 1:
				fmt.Fprintf(&b, "ENV PATH_%d=/opt/%d\n", j, j)
			case 2:
				fmt.Fprintf(&b, "COPY src%d/ /app/src%d/\n", j, j)
			default:
				fmt.Fprintf(&b, "RUN make -C /app/src%d VERSION=$VERSION\n", j-1)
			}
			i++
		}
		b.WriteString("RUN pip install -r requirements.txt && rm -f .netrc\n")
		i++
	}
	return []byte(b.String())
}

func benchInputs(b *testing.B) map[string][]byte {
	typical, err := os.ReadFile(filepath.Join("..", "examples", "015-seed004-build-arg-defaults", "Dockerfile"))
	if err != nil {
		b.Fatal(err)
	}
	return map[string][]byte{"typical": typical, "5000": generated(5000)}
}

// BenchmarkRewrite compares the whole rewrite with BuildKit's parser alone
// (parser.Parse + instructions.Parse) on the same input, alternating the
// two so that both see the same machine load. It reports their times and
// the ratio of the rewrite's to the parse's, by wall time and by CPU time
// (steadier on a shared machine); hack/bench-rewrite.sh prints them. The
// generated input is past MaxInstructions, which Rewrite refuses: the
// benchmark lifts that limit to measure how the engine's cost grows with
// the input.
func BenchmarkRewrite(b *testing.B) {
	for _, name := range []string{"typical", "5000"} {
		src := benchInputs(b)[name]
		parse := func() {
			ast, err := parser.Parse(bytes.NewReader(src))
			if err != nil {
				b.Fatal(err)
			}
			if _, _, err := instructions.Parse(ast.AST, linter.New(&linter.Config{})); err != nil {
				b.Fatal(err)
			}
		}
		rw := func() {
			if _, err := rewrite(src, Config{}, math.MaxInt); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(name, func(b *testing.B) {
			var wall, cpu [2]time.Duration
			timed := func(i int, f func()) {
				t0, c0 := time.Now(), cpuTime(b)
				f()
				wall[i] += time.Since(t0)
				cpu[i] += cpuTime(b) - c0
			}
			n := 0
			for b.Loop() {
				// Alternate which goes first, lest one always find the
				// other's leftovers in the caches.
				if n%2 == 0 {
					timed(0, parse)
					timed(1, rw)
				} else {
					timed(1, rw)
					timed(0, parse)
				}
				n++
			}
			b.ReportMetric(float64(wall[0])/float64(n)/1e6, "parse-ms")
			b.ReportMetric(float64(wall[1])/float64(n)/1e6, "rewrite-ms")
			b.ReportMetric(float64(wall[1])/float64(wall[0]), "ratio")
			b.ReportMetric(float64(cpu[1])/float64(cpu[0]), "ratio-cpu")
		})
	}
}

// cpuTime is the process's CPU time so far, the garbage collector's
// included.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRewriteAllocs is the rewrite alone on the inputs of
// BenchmarkRewrite, for its allocations:
//
//	go test ./rewrite -run '^$' -bench RewriteAllocs -benchmem
func BenchmarkRewriteAllocs(b *testing.B) {
	for _, name := range []string{"typical", "5000"} {
		src := benchInputs(b)[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := rewrite(src, Config{}, math.MaxInt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
