package rewrite

import (
	"strings"
	"testing"
)

// TestContextFiles: credential files of the build context that a broad
// copy would bring in (Config.ContextFiles) are excluded from it and
// bind-mounted from the context on the RUNs after it.
func TestContextFiles(t *testing.T) {
	tests := []struct {
		name, dockerfile string
		files            []string
		want, notWant    []string
		wantErr          string
		secrets          bool // the rewrite needs --secret flags
		listed           bool // Config.ContextListed
	}{
		{
			name:       "npmrc used by npm ci",
			dockerfile: "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\n",
			files:      []string{".npmrc"},
			want:       []string{"COPY --exclude=.npmrc . .", "RUN --mount=type=bind,source=.npmrc,target=/app/.npmrc npm ci"},
		},
		{
			name:       "a subdirectory copy",
			dockerfile: "FROM python:3.12\nCOPY app/ /srv/\nRUN pip install -r /srv/requirements.txt\n",
			files:      []string{"app/pip.conf", ".netrc"},
			want:       []string{"COPY --exclude=pip.conf app/ /srv/", "--mount=type=bind,source=app/pip.conf,target=/srv/pip.conf"},
			notWant:    []string{".netrc"},
		},
		{
			name:       "already excluded",
			dockerfile: "FROM node:20\nCOPY --exclude=.npmrc . /app\nRUN npm ci\n",
			files:      []string{".npmrc"},
			notWant:    []string{"type=bind"},
		},
		{
			name:       "from another stage",
			dockerfile: "FROM node:20 AS build\nRUN npm ci\nFROM node:20\nCOPY --from=build . /app\n",
			files:      []string{".npmrc"},
			notWant:    []string{"type=bind", "--exclude"},
		},
		{
			name:       "a named copy of a context file",
			dockerfile: "FROM node:20\nWORKDIR /app\nCOPY .npmrc package.json ./\nRUN npm ci && rm -f .npmrc\n",
			files:      []string{".npmrc"},
			want:       []string{"COPY package.json ./", "RUN --mount=type=bind,source=.npmrc,target=/app/.npmrc npm ci"},
			notWant:    []string{"type=secret"},
		},
		{
			name:       "a named copy with a mode stays a secret",
			dockerfile: "FROM node:20\nWORKDIR /app\nCOPY --chmod=600 .npmrc ./\nRUN npm ci && rm -f .npmrc\n",
			files:      []string{".npmrc"},
			want:       []string{"type=secret,id=.npmrc"},
			notWant:    []string{"type=bind"},
			secrets:    true,
		},
		{
			name:       "a pattern with no credential file behind it",
			dockerfile: "FROM node:20\nWORKDIR /app\nCOPY *.json ./\nRUN npm ci\n",
			files:      []string{".npmrc"},
			notWant:    []string{"type=bind", "--exclude"},
			listed:     true,
		},
		{
			name:       "a pattern that picks up a credential file",
			dockerfile: "FROM node:20\nWORKDIR /app\nCOPY *.json ./\nRUN npm ci\n",
			files:      []string{"credentials.json"},
			wantErr:    "CannotRewrite",
			listed:     true,
		},
		{
			name:       "a pattern without a listed context",
			dockerfile: "FROM node:20\nWORKDIR /app\nCOPY *.json ./\nRUN npm ci\n",
			wantErr:    "CannotRewrite",
		},
		{
			name:       "an env file left for run time",
			dockerfile: "FROM node:20\nWORKDIR /app\nCOPY . .\nCMD [\"node\", \"server.js\"]\n",
			files:      []string{".env"},
			wantErr:    "SecretFileInImage",
		},
		{
			name:       "a deleted env file",
			dockerfile: "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN . ./.env && npm run build && rm .env\n",
			files:      []string{".env"},
			want:       []string{"COPY --exclude=.env . .", "--mount=type=bind,source=.env,target=/app/.env"},
			notWant:    []string{"rm .env"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{ContextFiles: tt.files, ContextListed: tt.listed}
			res, err := Rewrite([]byte(tt.dockerfile), cfg)
			if err != nil {
				t.Fatal(err)
			}
			out := string(res.Output)
			if tt.wantErr != "" {
				if res.Err() == nil || !strings.Contains(res.Err().Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %s", res.Err(), tt.wantErr)
				}
				return
			}
			if res.Err() != nil {
				t.Fatalf("err = %v\n%s", res.Err(), out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out, w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
			again, err := Rewrite(res.Output, cfg)
			if err != nil || string(again.Output) != out {
				t.Errorf("not idempotent:\n%s", again.Output)
			}
			if !tt.secrets {
				for _, r := range res.Requirements {
					t.Errorf("a context file needs a build flag: %s", r.Flag)
				}
			}
		})
	}
}
