package rewrite

import (
	"slices"
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
		wantWarn         string   // a rule with a warning finding
		secrets          bool     // the rewrite needs --secret flags
		listed           bool     // Config.ContextListed
		tools            []string // Config.ContextToolFiles
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
			// chown -R over the mount would fail: a RUN of owner and
			// mode changes alone does not get the file, another gets it
			// writable (a copy BuildKit drops).
			name:       "chown -R and chmod -R over the mounted file",
			dockerfile: "FROM node:20\nWORKDIR /app\nCOPY . /app\nRUN npm ci\nRUN mkdir -p /app/logs && chown -R 1000:1000 /app\nRUN npm run build && chmod -R g+w /app/\nRUN chmod -R 755 /ap*\n",
			files:      []string{".npmrc"},
			want: []string{
				"RUN --mount=type=bind,source=.npmrc,target=/app/.npmrc npm ci\n",
				"\nRUN mkdir -p /app/logs && chown -R 1000:1000 /app\n",
				"RUN --mount=type=bind,source=.npmrc,target=/app/.npmrc,rw npm run build && chmod -R g+w /app/\n",
				"\nRUN chmod -R 755 /ap*\n",
			},
		},
		{
			name:       "chown -R over a secret mount in a RUN that runs more",
			dockerfile: "FROM node:20\nWORKDIR /app\nCOPY --chmod=600 .npmrc ./\nRUN npm ci && chown -R 1000 /app\n",
			files:      []string{".npmrc"},
			wantErr:    "RUN changes the owner or mode of /app, which holds the credential file /app/.npmrc",
			secrets:    true,
		},
		{
			name:       "chown -R over a secret mount alone",
			dockerfile: "FROM node:20\nWORKDIR /app\nCOPY --chmod=600 .npmrc ./\nRUN npm ci\nRUN chown -R 1000 /app\n",
			files:      []string{".npmrc"},
			want:       []string{"\nRUN chown -R 1000 /app\n"},
			secrets:    true,
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
			// A build tool's configuration under a name of its own,
			// known by its content, copied by a command to where the
			// tool reads it: mounted from the context at both paths,
			// and out of the image as an .npmrc is.
			name:       "an npmrc under another name copied to ~/.npmrc",
			dockerfile: "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN cp docker/npmrc ~/.npmrc && npm ci\n",
			files:      []string{"docker/npmrc"},
			tools:      []string{"docker/npmrc"},
			listed:     true,
			want:       []string{"COPY --exclude=docker/npmrc . .", "--mount=type=bind,source=docker/npmrc,target=/root/.npmrc npm ci"},
			notWant:    []string{"type=secret", "cp docker/npmrc"},
			wantWarn:   "SecretFileInImage",
		},
		{
			// The same file not known as a tool's: a credential file
			// the image would keep for run time.
			name:       "a credential file of the context copied to ~/.npmrc",
			dockerfile: "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN cp docker/npmrc ~/.npmrc && npm ci\n",
			files:      []string{"docker/npmrc"},
			listed:     true,
			wantErr:    "SecretFileInImage",
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
			name:       "a pattern without a listed context could match: a warning",
			dockerfile: "FROM node:20\nWORKDIR /app\nCOPY *.json ./\nRUN npm ci\n",
			want:       []string{"COPY *.json ./"},
			wantWarn:   "CannotRewrite",
		},
		{
			name:       "a pattern without a listed context that matches only credential files",
			dockerfile: "FROM node:20\nWORKDIR /app\nCOPY certs/*.pem ./\nRUN npm ci\n",
			wantErr:    "CannotRewrite",
		},
		{
			name:       "a pattern matching a directory that holds a credential file",
			dockerfile: "FROM node:20\nWORKDIR /app\nCOPY conf* /etc/app/\nRUN npm ci\n",
			files:      []string{"conf/.npmrc", "conf/sub/.netrc", "other/.npmrc"},
			listed:     true,
			want: []string{"COPY --exclude=.npmrc --exclude=sub/.netrc conf* /etc/app/",
				"--mount=type=bind,source=conf/.npmrc,target=/etc/app/.npmrc", "--mount=type=bind,source=conf/sub/.netrc,target=/etc/app/sub/.netrc"},
			notWant: []string{"other/"},
		},
		{
			name:       "a pattern matching a credential file itself",
			dockerfile: "FROM node:20\nWORKDIR /app\nCOPY conf/*.json ./\nRUN npm ci\n",
			files:      []string{"conf/credentials.json"},
			listed:     true,
			wantErr:    "conf/credentials.json",
		},
		{
			name:       "a pattern one level down does not match deeper files",
			dockerfile: "FROM node:20\nWORKDIR /app\nCOPY */*.json ./\nRUN npm ci\n",
			files:      []string{"a/b/credentials.json"},
			listed:     true,
			want:       []string{"COPY */*.json ./"},
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
			cfg := Config{ContextFiles: tt.files, ContextListed: tt.listed, ContextKeys: tt.tools, ContextToolFiles: tt.tools}
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
			if tt.wantWarn != "" {
				found := false
				for _, f := range res.Findings {
					found = found || f.Rule == tt.wantWarn && f.Severity == SeverityWarning
				}
				if !found {
					t.Errorf("no %s warning: %+v", tt.wantWarn, res.Findings)
				}
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

// TestContextSelf: with rewrite-hardcoded, the Dockerfile's own text in
// the context still holds the literal credential; a copy of the context
// leaves it out (and says so), a named copy of it is a context mount that
// must not stay in the image, and without a literal nothing changes.
func TestContextSelf(t *testing.T) {
	const literal = "FROM python:3.12\nENV DATABASE_PASSWORD=\"SuperSecretSauce\"\nWORKDIR /app\n"
	tests := []struct {
		name, dockerfile string
		self             []string
		want, notWant    []string
		wantErr          string
	}{
		{
			name:       "broad copy excludes the Dockerfile",
			dockerfile: literal + "COPY . .\nRUN python setup.py install\n",
			self:       []string{"Dockerfile"},
			want:       []string{"COPY --exclude=Dockerfile . .", "is this Dockerfile"},
			notWant:    []string{"SuperSecretSauce"},
		},
		{
			name:       "a subdirectory Dockerfile under a copied directory",
			dockerfile: literal + "COPY docker/ /srv/\n",
			self:       []string{"docker/Dockerfile"},
			want:       []string{"COPY --exclude=Dockerfile docker/ /srv/"},
		},
		{
			name:       "a named copy of the Dockerfile stays in the image",
			dockerfile: literal + "COPY Dockerfile /app/\n",
			self:       []string{"Dockerfile"},
			wantErr:    RuleSecretFileInImage.Name,
		},
		{
			name:       "no listed self: the copy is unchanged",
			dockerfile: literal + "COPY . .\n",
			want:       []string{"COPY . ."},
			notWant:    []string{"--exclude"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{RewriteHardcoded: true, ContextFiles: tt.self, ContextSelf: tt.self, ContextListed: true}
			res, err := Rewrite([]byte(tt.dockerfile), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" {
				if res.Err() == nil || !strings.Contains(res.Err().Error(), tt.wantErr) {
					t.Fatalf("want %s, got %v", tt.wantErr, res.Err())
				}
				return
			}
			if res.Err() != nil {
				t.Fatalf("unexpected error: %v", res.Err())
			}
			text := string(res.Output)
			for _, f := range res.Findings {
				text += "\n" + f.Message
			}
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("missing %q in:\n%s", w, text)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(text, w) {
					t.Errorf("unexpected %q in the output or findings", w)
				}
			}
		})
	}
}

// TestContextCredentialDir: with the build context known, a COPY of a
// credential directory (COPY .aws /root/.aws) is a bind mount of it from
// the context on the RUNs after it, as a credential file is.
func TestContextCredentialDir(t *testing.T) {
	tests := []struct {
		name, dockerfile string
		files            []string
		listed           bool
		want, notWant    []string
		wantErr          string
	}{
		{
			name:       "aws directory used by a RUN and deleted",
			dockerfile: "FROM python:3.12\nCOPY .aws /root/.aws\nRUN aws s3 cp s3://b/k /tmp/k && rm -rf /root/.aws\n",
			files:      []string{".aws/credentials"},
			listed:     true,
			want:       []string{"--mount=type=bind,source=.aws,target=/root/.aws,rw"},
			notWant:    []string{"COPY .aws"},
		},
		{
			name:       "aws directory left in the image",
			dockerfile: "FROM python:3.12\nCOPY .aws /root/.aws\nCMD [\"python\", \"app.py\"]\n",
			files:      []string{".aws/credentials"},
			listed:     true,
			wantErr:    RuleSecretFileInImage.Name,
		},
		{
			name:       "a directory with no credential file is an ordinary copy",
			dockerfile: "FROM python:3.12\nCOPY .aws /root/.aws\n",
			files:      []string{".npmrc"},
			listed:     true,
			want:       []string{"COPY .aws /root/.aws"},
		},
		{
			name:       "an owner still needs a secret mount, which a directory cannot be",
			dockerfile: "FROM python:3.12\nCOPY --chown=1000:1000 .aws /root/.aws\n",
			files:      []string{".aws/credentials"},
			listed:     true,
			wantErr:    RuleCannotRewrite.Name,
		},
		{
			name:       "without a listed context it is mounted from the context all the same",
			dockerfile: "FROM python:3.12\nCOPY .aws /root/.aws\nRUN aws s3 ls && rm -rf /root/.aws\n",
			want:       []string{"RUN --mount=type=bind,source=.aws,target=/root/.aws,rw aws s3 ls"},
			notWant:    []string{"COPY .aws", "rm -rf"},
		},
		{
			name:       "without a listed context, left in the image",
			dockerfile: "FROM python:3.12\nCOPY .aws /root/.aws\nRUN pip install boto3\nCMD [\"python\", \"app.py\"]\n",
			wantErr:    RuleSecretFileInImage.Name,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Rewrite([]byte(tt.dockerfile), Config{ContextFiles: tt.files, ContextListed: tt.listed})
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" {
				if res.Err() == nil || !strings.Contains(res.Err().Error(), tt.wantErr) {
					t.Fatalf("want %s, got %v\n%s", tt.wantErr, res.Err(), res.Output)
				}
				return
			}
			if res.Err() != nil {
				t.Fatalf("unexpected error: %v", res.Err())
			}
			for _, w := range tt.want {
				if !strings.Contains(string(res.Output), w) {
					t.Errorf("missing %q in:\n%s", w, res.Output)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(string(res.Output), w) {
					t.Errorf("unexpected %q in:\n%s", w, res.Output)
				}
			}
		})
	}
}

// TestCredentialDirFiles: every file of a credential directory is a
// credential file (a private key there may have any name) but its public
// ones; the listing selects them all.
func TestCredentialDirFiles(t *testing.T) {
	for p, want := range map[string]bool{
		".ssh/deploy_key": true, "home/.ssh/work": true, ".aws/credentials": true, ".aws/sso/cache/x.json": true,
		".kube/config": true, ".gnupg/private-keys-v1.d/k.key": true,
		".ssh/config": false, ".ssh/known_hosts": false, ".ssh/deploy_key.pub": false, ".aws/config": false,
		"src/ssh/deploy.go": false, ".sshrc": false,
		".git/modules/vendor/lib/config": true, "app/.git/modules/x/config": true, ".git/modules/x/HEAD": false,
		".envs/.production/.django":   true,
		"internal/secrets/secrets.go": false, "secrets/db.yml": true, "config/jwt/public-key.json": false,
		"public/locales/en/auth.json": false, "auth.json": true,
	} {
		if got := IsCredentialFile(p, Config{}); got != want {
			t.Errorf("IsCredentialFile(%s) = %v, want %v", p, got, want)
		}
	}
	pats := strings.Join(ContextFilePatterns(Config{}), " ")
	for _, d := range []string{"**/.ssh/**", "**/.aws/**", "**/.kube/**", "**/.envs/**", "**/.git/modules/**/config"} {
		if !strings.Contains(pats, d) {
			t.Errorf("the listing patterns lack %s", d)
		}
	}
}

// TestTrustStoreCopy: a certificate copied into the system's trust store
// is no credential file, whatever its name; a key elsewhere still is.
func TestTrustStoreCopy(t *testing.T) {
	for df, wantErr := range map[string]bool{
		"FROM alpine\nCOPY certs/corp-ca.pem /usr/local/share/ca-certificates/\nRUN update-ca-certificates\n": false,
		"FROM fedora\nCOPY corp.pem /etc/pki/ca-trust/source/anchors/corp.pem\nRUN update-ca-trust\n":         false,
		"FROM alpine\nCOPY server.key /etc/ssl/private/\n":                                                    true,
		"FROM alpine\nCOPY id_rsa /usr/local/share/ca-certificates/\n":                                        true,
	} {
		res, err := Rewrite([]byte(df), Config{})
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Err() != nil; got != wantErr {
			t.Errorf("%q: error %v, want %v (%v)", df, got, wantErr, res.Err())
		}
	}
}

// TestParentRemovedOrder: a RUN that deletes the directory of several
// credential files gets one finding per file, in the order of the files,
// on every run (they came in the order of a map).
func TestParentRemovedOrder(t *testing.T) {
	src := []byte("FROM alpine\nWORKDIR /app\nCOPY . /app\nRUN rm -rf /app\n")
	cfg := Config{ContextFiles: []string{".env", ".npmrc", "config/.env", "b/.pypirc"}}
	var first []string
	for i := 0; i < 20; i++ {
		res, err := Rewrite(src, cfg)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range res.Findings {
			if f.Rule == RuleCannotRewrite.Name && strings.Contains(f.Message, "which holds the credential file") {
				got = append(got, f.Message)
			}
		}
		if i == 0 {
			if len(got) != 4 || !slices.IsSorted(got) {
				t.Fatalf("findings %q: want 4, in order of the files", got)
			}
			first = got
		} else if !slices.Equal(got, first) {
			t.Fatalf("run %d: findings %q, first run %q", i, got, first)
		}
	}
}
