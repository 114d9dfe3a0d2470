package rewrite

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRewrite checks the engine's properties on arbitrary input: no panic,
// only BuildKit's own parse errors, an output that parses, idempotence,
// byte-identical round trips when nothing changes, stable line count.
func FuzzRewrite(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "examples", "*", "Dockerfile"))
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("FROM a\nARG TOKEN\nRUN x && \\\n  rm .netrc\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		res, err := Rewrite(src, Config{})
		if err != nil {
			if _, _, _, perr := parse(src); perr == nil {
				t.Fatalf("engine error on input BuildKit parses: %v", err)
			}
			return
		}
		if _, _, _, err := parse(res.Output); err != nil {
			t.Fatalf("output does not parse: %v", err)
		}
		if !res.Changed && !bytes.Equal(res.Output, src) {
			t.Fatal("unchanged output differs from input")
		}
		if bytes.Count(src, []byte("\n")) != bytes.Count(res.Output, []byte("\n")) {
			t.Fatal("line count changed")
		}
		again, err := Rewrite(res.Output, Config{})
		if err != nil {
			t.Fatalf("rewriting the output fails: %v", err)
		}
		if !bytes.Equal(again.Output, res.Output) {
			t.Fatalf("not idempotent")
		}
	})
}
