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
			// The parent's RUNs check the assumed /root; the child's
			// replay sets it and needs no check of its own HOME.
			notWant: []string{"/home/app", `[ "$HOME" = /root ]`},
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

// TestToolEnvInScript: a tool variable the script exports before a login
// (export DOCKER_CONFIG=/tmp/dc) moves the file it writes, and the replay
// exports it again, also where the login is fed by a pipeline; a login
// whose standard input is a secret file writes that secret. A value
// hushbuild cannot read, and any other assignment of the variable (not
// exported, unset, a stage ENV changed), are refused.
func TestToolEnvInScript(t *testing.T) {
	tests := []struct {
		name, dockerfile string
		run              string // the end of the RUN checked
		want, notWant    []string
		refused          bool
	}{
		{
			name:       "export DOCKER_CONFIG before docker login",
			dockerfile: "FROM alpine\nARG REGISTRY_PASSWORD\nRUN export DOCKER_CONFIG=/tmp/dc; echo \"$REGISTRY_PASSWORD\" | docker login -u u --password-stdin r\nRUN docker pull r/x\n",
			run:        "docker pull r/x",
			want:       []string{"rm -f /tmp/dc/config.json", "( export DOCKER_CONFIG=/tmp/dc; echo "},
			notWant:    []string{"/root/.docker"},
		},
		{
			name:       "assigned, then exported",
			dockerfile: "FROM alpine\nARG REGISTRY_PASSWORD\nRUN DOCKER_CONFIG=/tmp/dc; export DOCKER_CONFIG; echo \"$REGISTRY_PASSWORD\" | docker login -u u --password-stdin r\nRUN docker pull r/x\n",
			refused:    true,
		},
		{
			name:       "assigned, never exported: the default file",
			dockerfile: "FROM alpine\nARG REGISTRY_PASSWORD\nRUN DOCKER_CONFIG=/tmp/dc; echo \"$REGISTRY_PASSWORD\" | docker login -u u --password-stdin r\nRUN docker pull r/x\n",
			refused:    true,
		},
		{
			name:       "exported, then unset",
			dockerfile: "FROM alpine\nARG REGISTRY_PASSWORD\nRUN export DOCKER_CONFIG=/tmp/dc; unset DOCKER_CONFIG; echo \"$REGISTRY_PASSWORD\" | docker login -u u --password-stdin r\nRUN docker pull r/x\n",
			refused:    true,
		},
		{
			name:       "a stage ENV moved by the script",
			dockerfile: "FROM alpine\nENV DOCKER_CONFIG=/etc/dc\nARG REGISTRY_PASSWORD\nRUN DOCKER_CONFIG=/tmp/dc; echo \"$REGISTRY_PASSWORD\" | docker login -u u --password-stdin r\nRUN docker pull r/x\n",
			refused:    true,
		},
		{
			name:       "a value hushbuild cannot read",
			dockerfile: "FROM alpine\nARG REGISTRY_PASSWORD\nRUN export DOCKER_CONFIG=$(mktemp -d); echo \"$REGISTRY_PASSWORD\" | docker login -u u --password-stdin r\n",
			refused:    true,
		},
		{
			name:       "login with stdin from a secret file",
			dockerfile: "FROM alpine\nRUN --mount=type=secret,id=pw docker login -u u --password-stdin r < /run/secrets/pw\nRUN docker pull r/x\n",
			run:        "docker pull r/x",
			want:       []string{"--mount=type=secret,id=pw,target=/run/secrets/pw", "rm -f /root/.docker/config.json", "( docker login -u u --password-stdin r < /run/secrets/pw )"},
		},
		{
			name:       "login with stdin from a secret file, in the RUN itself",
			dockerfile: "FROM alpine\nRUN --mount=type=secret,id=pw docker login -u u --password-stdin r < /run/secrets/pw\n",
			run:        "< /run/secrets/pw",
			want:       []string{"rm -f /root/.docker/config.json"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Rewrite([]byte(tt.dockerfile), Config{})
			if err != nil {
				t.Fatal(err)
			}
			if tt.refused {
				if res.Err() == nil {
					t.Fatalf("rewritten, not refused:\n%s", res.Output)
				}
				return
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
