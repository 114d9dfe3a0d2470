package frontend

import (
	"slices"
	"strings"
	"testing"

	"github.com/hushbuild/hushbuild/rewrite"
)

func TestConfigFromOpts(t *testing.T) {
	cases := []struct {
		name    string
		opts    map[string]string
		want    rewrite.Config
		wantErr string
	}{
		{name: "nothing", opts: map[string]string{}, want: rewrite.Config{}},
		{name: "target only", opts: map[string]string{"target": "prod"}, want: rewrite.Config{Target: "prod"}},
		{name: "strict option", opts: map[string]string{keyStrictOpt: "true"}, want: rewrite.Config{Strict: true}},
		{name: "strict option does not turn the build-arg's off", opts: map[string]string{keyStrictOpt: "false", keyConfigArg: "strict=true"}, want: rewrite.Config{Strict: true}},
		{name: "strict option not a boolean", opts: map[string]string{keyStrictOpt: "yes please"}, wantErr: "frontend option hushbuild-strict is not a boolean"},
		{
			name: "build-arg",
			opts: map[string]string{keyConfigArg: "secrets=SENTRY_DSN,INTERNAL_URL; not-secrets=GPG_KEY; optional=true; disable=SecretEnv"},
			want: rewrite.Config{Secrets: []string{"SENTRY_DSN", "INTERNAL_URL"}, NotSecrets: []string{"GPG_KEY"}, Optional: true, Disable: []string{"SecretEnv"}},
		},
		{
			name: "build-arg target equal to --target",
			opts: map[string]string{keyConfigArg: "target=prod", "target": "prod"},
			want: rewrite.Config{Target: "prod"},
		},
		{
			name:    "build-arg target without --target",
			opts:    map[string]string{keyConfigArg: "target=prod"},
			wantErr: "build-arg HUSHBUILD sets target=prod but the build targets the last stage: pass --target prod, or remove target from the hushbuild configuration",
		},
		{
			name:    "build-arg target differs from --target",
			opts:    map[string]string{keyConfigArg: "target=prod", "target": "test"},
			wantErr: `build-arg HUSHBUILD sets target=prod but the build targets stage "test"`,
		},
		{
			name:    "malformed",
			opts:    map[string]string{keyConfigArg: "optional"},
			wantErr: "build-arg HUSHBUILD: hushbuild config:",
		},
		{
			name:    "unknown key",
			opts:    map[string]string{keyConfigArg: "colour=blue"},
			wantErr: `setting 1 has an unknown key (known: secrets,`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := configFromOpts(tc.opts)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != tc.want.String() {
				t.Errorf("config = %q, want %q", got.String(), tc.want.String())
			}
		})
	}
}

func TestClassifierConfig(t *testing.T) {
	cases := []struct {
		name        string
		cfg         rewrite.Config
		dockerfile  string
		wantSecrets []string
		wantNot     []string
		wantErr     string
	}{
		{
			name:        "no directive",
			cfg:         rewrite.Config{Secrets: []string{"A"}},
			dockerfile:  "FROM scratch\n",
			wantSecrets: []string{"A"},
		},
		{
			name:        "directive and options are unioned",
			cfg:         rewrite.Config{Secrets: []string{"A"}, NotSecrets: []string{"B"}},
			dockerfile:  "# syntax=hushbuild/frontend\n# hushbuild=secrets=SENTRY_DSN;not-secrets=GPG_KEY\nFROM scratch\n",
			wantSecrets: []string{"SENTRY_DSN", "A"},
			wantNot:     []string{"GPG_KEY", "B"},
		},
		{
			name:        "among comments and blank lines, any case",
			dockerfile:  "\xef\xbb\xbf# syntax=hushbuild/frontend\n\n# Build the app.\n#  HushBuild = secrets=X \nFROM scratch\n",
			wantSecrets: []string{"X"},
		},
		{
			name:       "directive after the first instruction is not a directive",
			dockerfile: "FROM scratch\n# hushbuild=secrets=SENTRY_DSN\n",
		},
		{
			name:       "bad directive",
			dockerfile: "# hushbuild=what\nFROM scratch\n",
			wantErr:    "# hushbuild= directive (line 1): hushbuild config:",
		},
		{
			name:       "directive target differs from the build's",
			cfg:        rewrite.Config{Target: "test"},
			dockerfile: "# hushbuild=target=prod\nFROM scratch\n",
			wantErr:    `# hushbuild= directive (line 1) sets target=prod but the build targets stage "test"`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := classifierConfig(tc.cfg, []byte(tc.dockerfile))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Secrets, tc.wantSecrets) || !slices.Equal(got.NotSecrets, tc.wantNot) {
				t.Errorf("secrets %q not-secrets %q, want %q %q", got.Secrets, got.NotSecrets, tc.wantSecrets, tc.wantNot)
			}
			if got.Target != tc.cfg.Target {
				t.Errorf("target = %q", got.Target)
			}
		})
	}
}

func TestValidateCaps(t *testing.T) {
	for _, tc := range []struct {
		req string
		ok  bool
	}{
		{"", true},
		{"moby.buildkit.frontend.inputs,moby.buildkit.frontend.subrequests,moby.buildkit.frontend.contexts", true},
		{"moby.buildkit.frontend.gitquerystring,moby.buildkit.frontend.contexts.zstd", true},
		{"moby.buildkit.frontend.subrequests+forward", true},
		{"moby.buildkit.frontend.future", false},
		{"moby.buildkit.frontend.inputs,moby.buildkit.frontend.future+forward", false},
	} {
		if err := validateCaps(tc.req); (err == nil) != tc.ok {
			t.Errorf("validateCaps(%q) = %v", tc.req, err)
		}
	}
}

// FuzzDockerfileScans runs the frontend's own reads of a Dockerfile (the
// configuration directive, the ARG declarations) on any input: they must
// not panic, and what they return must point into the input.
func FuzzDockerfileScans(f *testing.F) {
	f.Add([]byte("# syntax=x\n# hushbuild=secrets=A;target=t\nFROM scratch\nARG A=1 B\n"))
	f.Add([]byte("\xef\xbb\xbf#HUSHBUILD = optional=true\r\nARG X=\\\n y\n"))
	f.Add([]byte("ARG\n# hushbuild=\nFROM"))
	f.Fuzz(func(t *testing.T, dt []byte) {
		lines := strings.Count(string(dt), "\n") + 1
		if _, line, ok := rewrite.FindDirective(dt); ok && (line < 1 || line > lines) {
			t.Errorf("directive on line %d of %d", line, lines)
		}
		for name, ls := range declaredArgs(dt) {
			for _, l := range ls {
				if l < 1 || l > lines {
					t.Errorf("ARG %q on line %d of %d", name, l, lines)
				}
			}
		}
		_, _ = classifierConfig(rewrite.Config{}, dt)
	})
}

// TestStrictFromTheFrontendsEnvironment: a frontend image built with
// HUSHBUILD_STRICT=true runs every build in strict mode.
func TestStrictFromTheFrontendsEnvironment(t *testing.T) {
	t.Setenv(strictEnv, "true")
	cfg, err := configFromOpts(map[string]string{})
	if err != nil || !cfg.Strict {
		t.Fatalf("Strict %v, err %v", cfg.Strict, err)
	}
	t.Setenv(strictEnv, "maybe")
	if _, err := configFromOpts(map[string]string{}); err == nil || strings.Contains(err.Error(), "maybe") {
		t.Fatalf("err = %v", err)
	}
}
