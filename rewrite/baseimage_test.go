package rewrite

import (
	"strings"
	"testing"
)

// TestBaseImageDefaults: a stage starts with its base image's user,
// environment and working directory when the caller resolved them
// (Config.BaseImages): HOME decides where ~ is, the working directory
// where a relative path is.
func TestBaseImageDefaults(t *testing.T) {
	images := map[string]ImageDefaults{
		"cimg/node:20.1":   {User: "circleci", Env: []string{"PATH=/usr/bin", "HOME=/home/circleci"}, WorkingDir: "/home/circleci/project"},
		"node:20":          {Env: []string{"PATH=/usr/bin"}},
		"bitnami/python:3": {User: "1001", Env: []string{"HOME=/"}, WorkingDir: "/app"},
	}
	tests := []struct {
		name, dockerfile string
		want, notWant    []string
		images           bool
	}{
		{
			name:       "home of a non-root base image",
			dockerfile: "FROM cimg/node:20.1\nARG NPM_TOKEN\nRUN echo \"//r/:_authToken=${NPM_TOKEN}\" > ~/.npmrc && npm ci\n",
			images:     true,
			want:       []string{"rm -f /home/circleci/.npmrc"},
			notWant:    []string{"/root/.npmrc"},
		},
		{
			name:       "without the image's config, root is assumed",
			dockerfile: "FROM cimg/node:20.1\nARG NPM_TOKEN\nRUN echo \"//r/:_authToken=${NPM_TOKEN}\" > ~/.npmrc && npm ci\n",
			want:       []string{"/root/.npmrc"},
		},
		{
			name:       "the base image's working directory",
			dockerfile: "FROM bitnami/python:3\nCOPY .netrc ./\nRUN pip install app && rm .netrc\n",
			images:     true,
			want:       []string{"target=/app/.netrc"},
		},
		{
			name:       "an image with no working directory starts at /",
			dockerfile: "FROM node:20\nCOPY .npmrc ./\nRUN npm ci && rm .npmrc\n",
			images:     true,
			want:       []string{"target=/.npmrc"},
		},
		{
			name:       "a USER of the Dockerfile still wins",
			dockerfile: "FROM cimg/node:20.1\nUSER root\nENV HOME=/root\nARG NPM_TOKEN\nRUN echo \"//r/:_authToken=${NPM_TOKEN}\" > ~/.npmrc && npm ci\n",
			images:     true,
			want:       []string{"rm -f /root/.npmrc"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{}
			if tt.images {
				cfg.BaseImages = images
			}
			res, err := Rewrite([]byte(tt.dockerfile), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if res.Err() != nil {
				t.Fatalf("unexpected error: %v", res.Err())
			}
			out := string(res.Output)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("missing %q in:\n%s", w, out)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out, w) {
					t.Errorf("unexpected %q in:\n%s", w, out)
				}
			}
		})
	}
}
