package frontend

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/moby/buildkit/client/llb"

	"github.com/hushbuild/hushbuild/rewrite"
)

// findBytes walks v (pointers, structs with unexported fields, slices,
// arrays, maps, interfaces) and returns the path of the first string or
// byte slice that contains needle.
func findBytes(v reflect.Value, needle []byte, path string, seen map[uintptr]bool) string {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return ""
		}
		if v.Kind() == reflect.Pointer {
			if seen[v.Pointer()] {
				return ""
			}
			seen[v.Pointer()] = true
		}
		return findBytes(v.Elem(), needle, path, seen)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			if !f.CanInterface() {
				// read unexported fields too
				f = reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
			}
			if p := findBytes(f, needle, path+"."+v.Type().Field(i).Name, seen); p != "" {
				return p
			}
		}
	case reflect.Slice:
		if v.IsNil() {
			return ""
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			if bytes.Contains(v.Bytes(), needle) {
				return path
			}
			return ""
		}
		fallthrough
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if p := findBytes(v.Index(i), needle, path+"[]", seen); p != "" {
				return p
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			if p := findBytes(iter.Key(), needle, path+"{key}", seen); p != "" {
				return p
			}
			if p := findBytes(iter.Value(), needle, path+"{}", seen); p != "" {
				return p
			}
		}
	case reflect.String:
		if strings.Contains(v.String(), string(needle)) {
			return path
		}
	}
	return ""
}

// loadedSourceMap is the source map dockerui.ReadEntrypoint returns for a
// Dockerfile loaded by st.
func loadedSourceMap(t *testing.T, st llb.State, filename string, dt []byte) *llb.SourceMap {
	t.Helper()
	def, err := st.Marshal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sm := llb.NewSourceMap(&st, filename, "Dockerfile", dt)
	sm.Definition = def
	return sm
}

// TestPrepareKeepsNoOriginal checks the property the frontend rests on:
// the *dockerfile that prepare returns, which is all the conversion code
// is given, holds no byte of the original text's secret, whatever loaded
// the Dockerfile.
func TestPrepareKeepsNoOriginal(t *testing.T) {
	canary := newCanary(t)
	orig := testDockerfile(canary)
	loaders := map[string]llb.State{
		"local":  llb.Local("dockerfile", llb.FollowPaths([]string{"Dockerfile"})),
		"git":    llb.Git("https://github.com/example/app.git", "main"),
		"http":   llb.HTTP("https://example.com/Dockerfile"),
		"mkfile": llb.Scratch().File(llb.Mkfile("/Dockerfile", 0o644, orig)),
		"mkfile in a copy": llb.Scratch().File(llb.Copy(
			llb.Scratch().File(llb.Mkfile("/x/Dockerfile", 0o644, orig)), "/x", "/")),
	}
	for name, st := range loaders {
		t.Run(name, func(t *testing.T) {
			engine := &stubEngine{canary: canary}
			df, err := prepare(context.Background(), loadedSourceMap(t, st, "Dockerfile", orig), rewrite.Config{}, engine.rewrite)
			if err != nil {
				t.Fatal(err)
			}
			if !engine.sawOrig {
				t.Fatal("the engine did not see the original")
			}
			if p := findBytes(reflect.ValueOf(df), []byte(canary), "dockerfile", map[uintptr]bool{}); p != "" {
				t.Errorf("the secret value is in %s", p)
			}
			if !bytes.Equal(df.sourceMap.Data, df.data) {
				t.Errorf("the source map does not hold the rewritten text")
			}
			if df.vertex == "" {
				t.Errorf("no vertex for warnings")
			}
			if !bytes.Contains(df.data, []byte("--mount=type=secret,id=TOKEN")) {
				t.Errorf("data is not the rewritten text")
			}
		})
	}
}

// TestPrepareControl checks that findBytes finds the original where it is:
// in the source map dockerui returns, and through a mkfile definition.
func TestPrepareControl(t *testing.T) {
	canary := newCanary(t)
	orig := testDockerfile(canary)
	sm := loadedSourceMap(t, llb.Scratch().File(llb.Mkfile("/Dockerfile", 0o644, orig)), "Dockerfile", orig)
	if p := findBytes(reflect.ValueOf(sm), []byte(canary), "sm", map[uintptr]bool{}); p == "" {
		t.Fatal("findBytes does not find the secret in the original source map")
	}
	sm.Data = nil
	if p := findBytes(reflect.ValueOf(sm.Definition), []byte(canary), "def", map[uintptr]bool{}); p == "" {
		t.Fatal("findBytes does not find the secret in a mkfile definition")
	}
}

func TestDefinitionIsSafe(t *testing.T) {
	orig := []byte("FROM scratch\nARG X=1\n")
	for _, tc := range []struct {
		name string
		st   llb.State
		want bool
	}{
		{"local", llb.Local("dockerfile"), true},
		{"git", llb.Git("https://github.com/example/app.git", "main"), true},
		{"http", llb.HTTP("https://example.com/Dockerfile"), true},
		{"sub-directory copy", llb.Scratch().File(llb.Copy(llb.Local("context"), "/sub", "/")), true},
		{"mkfile", llb.Scratch().File(llb.Mkfile("/Dockerfile", 0o644, []byte("FROM x\n"))), false},
		{"exec", llb.Image("busybox").Run(llb.Shlex("true")).Root(), false},
		{"holds the text", llb.Local("dockerfile", llb.WithCustomName(string(orig))), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			def, err := tc.st.Marshal(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got := definitionIsSafe(def, orig); got != tc.want {
				t.Errorf("definitionIsSafe = %t, want %t", got, tc.want)
			}
		})
	}
}

func TestPrepareEngineFailures(t *testing.T) {
	sm := loadedSourceMap(t, llb.Local("dockerfile"), "Dockerfile", []byte("FROM scratch\n"))
	for _, tc := range []struct {
		name    string
		rw      rewriteFunc
		wantErr string
	}{
		{"error", func([]byte, rewrite.Config) (*rewrite.Result, error) {
			return nil, errString("dockerfile parse error on line 1: unknown instruction: FORM")
		}, "dockerfile parse error on line 1"},
		{"nil result", func([]byte, rewrite.Config) (*rewrite.Result, error) { return nil, nil }, "the rewrite returned no Dockerfile"},
		{"empty output", func([]byte, rewrite.Config) (*rewrite.Result, error) { return &rewrite.Result{}, nil }, "the rewrite returned no Dockerfile"},
		{"runtime panic", func(b []byte, _ rewrite.Config) (*rewrite.Result, error) {
			var s []int
			_ = s[len(b)]
			return nil, nil
		}, "hushbuild: internal error in the rewrite: runtime error: index out of range"},
		{"panic with a value", func(b []byte, _ rewrite.Config) (*rewrite.Result, error) {
			panic(string(b))
		}, "hushbuild: internal error in the rewrite"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := prepare(context.Background(), sm, rewrite.Config{}, tc.rw)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "FROM scratch") {
				t.Errorf("the error holds the Dockerfile text")
			}
		})
	}
}

// TestPrepareRefusesPastLimits checks that the frontend refuses what the
// CLI refuses, with the same limits, before the engine runs.
func TestPrepareRefusesPastLimits(t *testing.T) {
	big := []byte("FROM scratch\nARG NPM_TOKEN\n" + strings.Repeat("RUN echo $NPM_TOKEN\n", rewrite.MaxDockerfileSize/20+1))
	many := []byte("FROM scratch\n" + strings.Repeat("RUN true\n", rewrite.MaxInstructions))
	for _, tc := range []struct {
		name string
		dt   []byte
		want string
	}{
		{"size", big, fmt.Sprintf("more than the %d (512 KiB) hushbuild reads", rewrite.MaxDockerfileSize)},
		{"instructions", many, fmt.Sprintf("has %d instructions, more than the %d", rewrite.MaxInstructions+1, rewrite.MaxInstructions)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ran := false
			rw := func(b []byte, c rewrite.Config) (*rewrite.Result, error) {
				ran = true
				return rewrite.Rewrite(b, c)
			}
			_, err := prepare(context.Background(), loadedSourceMap(t, llb.Local("dockerfile"), "Dockerfile", tc.dt), rewrite.Config{}, rw)
			var le *rewrite.LimitError
			if !errors.As(err, &le) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a *rewrite.LimitError saying %q", err, tc.want)
			}
			if ran {
				t.Error("the engine ran on a refused Dockerfile")
			}
		})
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestDeclaredArgs(t *testing.T) {
	dt := []byte(strings.Join([]string{
		"ARG BASE=alpine",
		"FROM $BASE",
		"ARG A=1 B",
		"arg C",
		"ARG A",
		"RUN echo ARG D",
		"ARG E=\\",
		"  x",
		"",
	}, "\n"))
	got := declaredArgs(dt)
	// "ARG E=\" continued by "  x" declares E (empty) and x, as BuildKit reads it.
	want := map[string][]int{"BASE": {1}, "A": {3, 5}, "B": {3}, "C": {4}, "E": {7}, "x": {7}}
	if len(got) != len(want) {
		t.Errorf("declaredArgs = %v, want %v", got, want)
	}
	for k, v := range want {
		if !slices.Equal(got[k], v) {
			t.Errorf("%s: lines %v, want %v", k, got[k], v)
		}
	}
	if got := declaredArgs([]byte("FROM\n")); len(got) != 0 {
		t.Errorf("unparsable: %v", got)
	}
}
