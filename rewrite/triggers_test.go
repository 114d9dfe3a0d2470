package rewrite

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestBaseImageTriggers: a base image's ONBUILD triggers are analysed as
// the instructions they are, written after the stage's FROM; their
// rewritten forms come back in Result.OnBuild, the Dockerfile keeps its
// lines, and findings about a trigger point at the FROM.
func TestBaseImageTriggers(t *testing.T) {
	for _, tt := range []struct {
		name     string
		src      string
		triggers []string
		files    []string // the build context's credential files
		// out is the rewritten Dockerfile; "" means the input.
		out     string
		onbuild []string // nil: the image's triggers run as they are
		// lines are the findings' rules by line ("1 SecretFile").
		lines []string
		err   bool
	}{{
		name:     "no secret in the triggers",
		src:      "FROM base\nRUN echo hi\n",
		triggers: []string{"COPY . /app", "RUN npm ci"},
	}, {
		name:     "a copy of the context with a .npmrc, used by a trigger",
		src:      "FROM base\nRUN echo hi\n",
		triggers: []string{"COPY . /app", "RUN npm ci"},
		files:    []string{".npmrc"},
		out:      "FROM base\nRUN --mount=type=bind,source=.npmrc,target=/app/.npmrc echo hi\n",
		onbuild:  []string{"COPY --exclude=.npmrc . /app", "RUN --mount=type=bind,source=.npmrc,target=/app/.npmrc npm ci"},
		lines:    []string{"1 SecretFile"},
	}, {
		name:     "a copy of the .npmrc that nothing needs is dropped",
		src:      "FROM base\nRUN echo built\n",
		triggers: []string{"COPY .npmrc /app/.npmrc"},
		files:    []string{".npmrc"},
		out:      "FROM base\nRUN --mount=type=bind,source=.npmrc,target=/app/.npmrc echo built\n",
		onbuild:  []string{},
		lines:    []string{"1 SecretFile", "1 SecretFileInImage"},
	}, {
		name:     "a secret ARG trigger and a RUN that writes it",
		src:      "FROM base\nRUN echo hi",
		triggers: []string{"ARG NPM_TOKEN", "RUN echo //r/:_authToken=$NPM_TOKEN > .npmrc && npm ci"},
		out:      "FROM base\nRUN --mount=type=secret,id=NPM_TOKEN,env=NPM_TOKEN,required=true if [ -e /.npmrc ]; then cp -p /.npmrc /tmp/.hushbuild-1; fi; trap 'if [ -e /tmp/.hushbuild-1 ]; then mv -f /tmp/.hushbuild-1 /.npmrc; else rm -f /.npmrc; fi' EXIT; ( cd / && echo //r/:_authToken=$NPM_TOKEN > .npmrc ); echo hi",
		onbuild:  []string{"RUN --mount=type=secret,id=NPM_TOKEN,env=NPM_TOKEN,required=true if [ -e /.npmrc ]; then cp -p /.npmrc /tmp/.hushbuild-1; fi; trap 'if [ -e /tmp/.hushbuild-1 ]; then mv -f /tmp/.hushbuild-1 /.npmrc; else rm -f /.npmrc; fi' EXIT; echo //r/:_authToken=$NPM_TOKEN > .npmrc && npm ci"},
		lines:    []string{"1 SecretArg", "1 SecretWrittenToFile"},
	}, {
		name:     "the Dockerfile's own findings keep their lines",
		src:      "FROM base\nARG NPM_TOKEN\nRUN curl -H \"Authorization: Bearer $NPM_TOKEN\" https://example.com/\n",
		triggers: []string{"RUN echo one", "RUN echo two"},
		out:      "FROM base\n# hushbuild: ARG NPM_TOKEN is a secret mount now\nRUN --mount=type=secret,id=NPM_TOKEN,env=NPM_TOKEN,required=true curl -H \"Authorization: Bearer $NPM_TOKEN\" https://example.com/\n",
		lines:    []string{"2 SecretArg"},
	}, {
		// The last FROM names the stage called base, not the image.
		name:     "a stage named like the image runs no trigger",
		src:      "FROM base AS x\nRUN echo one\nFROM x AS base\nFROM base\nRUN echo hi\n",
		triggers: []string{"RUN echo $NPM_TOKEN > /t", "ARG NPM_TOKEN"},
		// The trigger's ARG comes after its RUN: the RUN sees no secret.
		// Inserted after line 4 too, the ARG would make line 5's
		// $NPM_TOKEN a secret's.
		out:     "FROM base AS x\nRUN --mount=type=secret,id=NPM_TOKEN,env=NPM_TOKEN,required=true echo one\nFROM x AS base\nFROM base\nRUN echo hi\n",
		lines:   []string{"1 SecretArg"},
		onbuild: []string{"RUN echo $NPM_TOKEN > /t"},
	}, {
		name:     "a trigger that copies a mounted secret fails closed at the FROM",
		src:      "FROM base\nRUN echo built\n",
		triggers: []string{"RUN --mount=type=secret,id=t cp /run/secrets/t /etc/x"},
		lines:    []string{"1 CannotRewrite"},
		err:      true,
	}, {
		name:     "a trigger's copy that a later stage's CMD reads fails closed",
		src:      "FROM base AS a\nRUN npm ci\nFROM base\nCMD [\"cat\", \"/.npmrc\"]\n",
		triggers: []string{"COPY .npmrc /"},
		files:    []string{".npmrc"},
		err:      true,
	}} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{BaseImages: map[string]ImageDefaults{"base": {OnBuild: tt.triggers}}, ContextFiles: tt.files, ContextListed: tt.files != nil}
			res, err := Rewrite([]byte(tt.src), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if gotErr := res.Err() != nil; gotErr != tt.err {
				t.Fatalf("Err() = %v, want an error: %v", res.Err(), tt.err)
			}
			if tt.err {
				return
			}
			want := tt.out
			if want == "" {
				want = tt.src
			}
			if string(res.Output) != want {
				t.Errorf("output:\n%s\nwant:\n%s", res.Output, want)
			}
			if strings.Count(string(res.Output), "\n") != strings.Count(tt.src, "\n") {
				t.Errorf("the output has other lines than the input")
			}
			got, ok := res.OnBuild["base"]
			if ok != (tt.onbuild != nil) || !slices.Equal(got, tt.onbuild) {
				t.Errorf("OnBuild = %q (set: %v), want %q", got, ok, tt.onbuild)
			}
			var lines []string
			for _, f := range res.Findings {
				lines = append(lines, strconv.Itoa(f.Range.Start)+" "+f.Rule)
				if f.Range.Start == 1 && !strings.Contains(f.Message, "ONBUILD trigger") {
					t.Errorf("a trigger's finding does not say so: %s", f.Message)
				}
			}
			if !slices.Equal(lines, tt.lines) {
				t.Errorf("findings %q, want %q", lines, tt.lines)
			}
		})
	}
}

// TestBaseImageTriggersConflict: stages built FROM one image run one
// trigger list; rewrites that differ between them stop the build.
func TestBaseImageTriggersConflict(t *testing.T) {
	src := []byte("FROM base\nRUN a\nFROM base\nRUN b\n")
	cfg := Config{BaseImages: map[string]ImageDefaults{"base": {OnBuild: []string{"RUN x"}}}}
	res, err := withBaseTriggers(src, cfg, func(text []byte) (*Result, error) {
		// The first stage's trigger (line 2 of the expanded text)
		// rewritten, the second's (line 5) not.
		lines := strings.SplitAfter(string(text), "\n")
		lines[1] = "RUN --mount=type=secret,id=t x\n"
		return &Result{Output: []byte(strings.Join(lines, ""))}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Err() == nil || !strings.Contains(res.Err().Error(), "need different rewrites") {
		t.Fatalf("Err() = %v, want the conflict", res.Err())
	}
	if string(res.Output) != string(src) {
		t.Errorf("output:\n%s", res.Output)
	}
}

// FuzzBaseImageTriggers: triggers come from an image's config, any text
// at all. The rewrite never panics on them, keeps the Dockerfile's lines,
// and hands back only triggers that BuildKit runs as one instruction.
func FuzzBaseImageTriggers(f *testing.F) {
	f.Add("FROM base\nRUN echo hi\n", "COPY . /app\nRUN npm ci")
	f.Add("FROM base AS a\nRUN x\nFROM base", "ARG NPM_TOKEN\nRUN echo //r/:_authToken=$NPM_TOKEN > .npmrc")
	f.Add("FROM base\n", "RUN <<EOF\necho $TOKEN > /t\nEOF")
	f.Add("FROM base\n", "RUN a \\\n  b")
	f.Fuzz(func(t *testing.T, src, triggers string) {
		cfg := Config{BaseImages: map[string]ImageDefaults{"base": {OnBuild: strings.Split(triggers, "\n")}}, ContextFiles: []string{".npmrc"}, ContextListed: true}
		res, err := Rewrite([]byte(src), cfg)
		if err != nil || res == nil {
			return
		}
		if strings.Count(string(res.Output), "\n") != strings.Count(src, "\n") {
			t.Fatal("line count changed")
		}
		for _, list := range res.OnBuild {
			for _, tr := range list {
				if !singleTrigger(tr) {
					t.Fatalf("a rewritten trigger is not one instruction: %q", tr)
				}
			}
		}
	})
}
