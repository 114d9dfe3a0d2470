package rewrite

import (
	"bytes"
	"fmt"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// Limits on the Dockerfiles hushbuild reads, in the CLI and the frontend
// alike (both call CheckLimits, and Rewrite does too). They bound the cost
// of hostile or runaway input: a rewrite mounts every secret in scope on
// every RUN, so its output, time and memory grow with secrets × RUNs, and
// a Dockerfile past these limits is refused before any analysis.
//
// BuildKit itself refuses Dockerfiles over 16 MiB (its gRPC message size,
// frontend/dockerui.ReadFile), and the rewritten Dockerfile must fit in
// one message too. Real Dockerfiles are far below both limits: the
// largest of the test corpus is 10 KiB and has fewer than 300 instructions.
// At the limits, the worst inputs measured take a few seconds and a few
// hundred MB: 500 secret ARGs each used by its own RUN (about 1.5 s and
// 100 MB, into 15 MB of Dockerfile), and one RUN chaining 40,000 commands
// with line continuations (512 KiB: about 2.5 s and 250 MB). See
// BenchmarkRewriteLimits and docs/cli.md.
const (
	// MaxDockerfileSize is the largest Dockerfile read, in bytes (512 KiB).
	MaxDockerfileSize = 512 << 10
	// MaxInstructions is the largest number of instructions (top-level
	// lines of BuildKit's parse, continuations and heredocs included in
	// theirs) of a Dockerfile.
	MaxInstructions = 1000
)

// LimitError is a Dockerfile refused by CheckLimits. It names sizes and
// counts only, never content.
type LimitError struct {
	// Size is the Dockerfile's size in bytes; Instructions its number of
	// instructions, 0 when the size alone refused it.
	Size, Instructions int
	// Partial says that reading stopped past the limit: Size is a lower
	// bound.
	Partial bool
}

func (e *LimitError) Error() string {
	if e.Instructions > MaxInstructions {
		return fmt.Sprintf("the Dockerfile has %d instructions, more than the %d hushbuild reads: refused to bound the cost of the rewrite (split it into several Dockerfiles, or build it without hushbuild)",
			e.Instructions, MaxInstructions)
	}
	is := "is"
	if e.Partial {
		is = "is over"
	}
	return fmt.Sprintf("the Dockerfile %s %d bytes, more than the %d (512 KiB) hushbuild reads: refused to bound the cost of the rewrite (split it into several Dockerfiles, or build it without hushbuild)",
		is, e.Size-btoi(e.Partial), MaxDockerfileSize)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// CheckSize refuses a Dockerfile of size bytes past MaxDockerfileSize; a
// reader calls it before reading (with the file's size) or after reading
// at most MaxDockerfileSize+1 bytes.
func CheckSize(size int64) error {
	if size > MaxDockerfileSize {
		return &LimitError{Size: int(min(size, 1<<62))}
	}
	return nil
}

// CheckLimits refuses src past MaxDockerfileSize or MaxInstructions with a
// *LimitError. A Dockerfile that does not parse passes: the rewrite
// reports the parse error. It costs one parse, linear in len(src).
func CheckLimits(src []byte) error {
	_, err := checkLimits(src, MaxInstructions)
	return err
}

// checkLimits is CheckLimits with the instruction limit as a parameter. It
// returns BuildKit's parse of src when src passes and parses, for the
// rewrite to go on from (nil when it does not parse).
func checkLimits(src []byte, maxInstructions int) (*parser.Result, error) {
	if err := CheckSize(int64(len(src))); err != nil {
		return nil, err
	}
	ast, err := parser.Parse(bytes.NewReader(src))
	if err != nil || ast == nil || ast.AST == nil {
		return nil, nil
	}
	if n := len(ast.AST.Children); n > maxInstructions {
		return nil, &LimitError{Size: len(src), Instructions: n}
	}
	return ast, nil
}
