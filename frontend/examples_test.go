package frontend

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerui"

	"github.com/hushbuild/hushbuild/rewrite"
)

// TestBuildExamples builds every example Dockerfile through Build, with the
// real engine, on the fake gateway: what BuildKit converts is exactly the
// engine's output, and a build stops, before any conversion, exactly when
// the engine says the Dockerfile is unsafe or does not parse.
func TestBuildExamples(t *testing.T) {
	dirs, err := filepath.Glob("../examples/*/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no examples found under ../examples")
	}
	for _, path := range dirs {
		name := filepath.Base(filepath.Dir(path))
		t.Run(name, func(t *testing.T) {
			dt, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			c := newFakeClient(nil)
			c.files["local://dockerfile"] = map[string][]byte{"Dockerfile": dt}
			// The frontend knows the base images' configs (the fake's
			// have no user, HOME or working directory of their own) and lists
			// the build context (the fake's is empty).
			bc, err := dockerui.NewClient(c)
			if err != nil {
				t.Fatal(err)
			}
			images, _ := baseImages(context.Background(), c, bc, dt)
			want, wantErr := rewrite.Rewrite(dt, rewrite.Config{BaseImages: images, ContextListed: true})

			_, err = Build(context.Background(), c)
			builds := buildDefinitions(c)
			switch {
			case wantErr != nil:
				if err == nil {
					t.Fatalf("built a Dockerfile the engine rejects (%v)", wantErr)
				}
			case want.Err() != nil:
				var re *rewrite.Error
				if !errors.As(err, &re) {
					t.Fatalf("err = %v, want the engine's findings", err)
				}
			default:
				if err != nil {
					var le *parser.LocationError
					errors.As(err, &le)
					t.Fatalf("build of the rewritten Dockerfile failed: %v", err)
				}
				if len(builds) != 1 {
					t.Fatalf("%d conversions", len(builds))
				}
				for _, info := range builds[0].Source.Infos {
					if !bytes.Equal(info.Data, want.Output) {
						t.Errorf("converted text is not the engine's output")
					}
				}
				return
			}
			if len(builds) != 0 {
				t.Errorf("%d conversions of a Dockerfile that must not be built", len(builds))
			}
		})
	}
}
