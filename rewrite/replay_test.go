package rewrite

import (
	"strings"
	"testing"
)

// TestReplayKeepsHome: a write made through ~, $HOME or a tool's home
// file is replayed in a later RUN with the HOME it ran with, wherever
// that RUN's HOME is now (a later USER or ENV HOME, a child stage built
// FROM the stage as another user, HOME set in the writing script).
// Otherwise the replay writes under the new HOME while the RUN saves and
// removes the file under the old one: the copy stays in the layer.
func TestReplayKeepsHome(t *testing.T) {
	const write = `RUN echo "//r/:_authToken=${NPM_TOKEN}" > ~/.npmrc && npm ci` + "\n"
	tests := []struct {
		name, dockerfile string
		// run ends the rewritten RUN whose replay is checked.
		run           string
		want, notWant []string
	}{
		{
			name:       "child stage as another user",
			dockerfile: "FROM alpine AS build\nARG NPM_TOKEN\n" + write + "FROM build\nUSER app\nRUN npm run build\n",
			run:        "npm run build",
			want:       []string{"( HOME=/root; export HOME; echo ", ") 2>/dev/null || true;", "rm -f /root/.npmrc"},
			notWant:    []string{"/home/app"},
		},
		{
			name:       "later USER in the same stage",
			dockerfile: "FROM alpine\nARG NPM_TOKEN\n" + write + "USER nobody\nRUN npm run build\n",
			run:        "npm run build",
			want:       []string{"( HOME=/root; export HOME; echo "},
		},
		{
			name:       "later ENV HOME",
			dockerfile: "FROM alpine\nARG NPM_TOKEN\n" + write + "ENV HOME=/srv\nRUN npm run build\n",
			run:        "npm run build",
			want:       []string{"( HOME=/root; export HOME; echo "},
			notWant:    []string{"/srv/.npmrc"},
		},
		{
			name:       "HOME set by the writing script",
			dockerfile: "FROM alpine\nARG NPM_TOKEN\nRUN HOME=/tmp/h; mkdir -p /tmp/h; echo \"//r/:_authToken=${NPM_TOKEN}\" > ~/.npmrc\nRUN npm ci\n",
			run:        "npm ci",
			want:       []string{"( HOME=/tmp/h; export HOME; echo ", "rm -f /tmp/h/.npmrc"},
		},
		{
			name:       "a tool's home file (npm config set)",
			dockerfile: "FROM alpine AS build\nARG NPM_TOKEN\nRUN npm config set //r/:_authToken=${NPM_TOKEN}\nFROM build\nUSER 1000\nRUN npm run build\n",
			run:        "npm run build",
			want:       []string{"( HOME=/root; export HOME; npm config set", "rm -f /root/.npmrc"},
		},
		{
			name:       "child stage as the same user: the replay as it was",
			dockerfile: "FROM alpine AS build\nARG NPM_TOKEN\n" + write + "FROM build\nRUN npm run build\n",
			run:        "npm run build",
			want:       []string{"( echo "},
			notWant:    []string{"HOME=", "|| true"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Rewrite([]byte(tt.dockerfile), Config{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Err() != nil {
				t.Fatalf("unexpected error: %v", res.Err())
			}
			var run string
			for _, l := range strings.Split(string(res.Output), "\n") {
				if strings.HasPrefix(l, "RUN ") && strings.HasSuffix(l, tt.run) {
					run = l
				}
			}
			if run == "" {
				t.Fatalf("no RUN ending in %q in:\n%s", tt.run, res.Output)
			}
			for _, w := range tt.want {
				if !strings.Contains(run, w) {
					t.Errorf("missing %q in:\n%s", w, run)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(run, w) {
					t.Errorf("unexpected %q in:\n%s", w, run)
				}
			}
		})
	}
}
