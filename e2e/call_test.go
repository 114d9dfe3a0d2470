package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// outlineJSON is the part of `--call=outline,format=json` the tests read
// (BuildKit's frontend/subrequests/outline).
type outlineJSON struct {
	Args []struct {
		Name string `json:"name"`
	} `json:"args"`
	Secrets []struct {
		Name     string `json:"name"`
		Required bool   `json:"required"`
	} `json:"secrets"`
	SSH []struct {
		Name string `json:"name"`
	} `json:"ssh"`
}

// TestCallOutline (g): `--call=outline` lists the secrets and ssh sockets
// the rewritten Dockerfile needs, and no longer lists the secret ARGs as
// build arguments.
func TestCallOutline(t *testing.T) {
	l := needLab(t)
	tests := []struct {
		example     string
		secrets     []string
		ssh         []string
		args, notIn []string
		// dockerignore, when set, is written to the context: a
		// credential file that is in the context is mounted from there,
		// one that is not is a secret.
		dockerignore string
	}{
		{example: "015-seed004-build-arg-defaults", secrets: []string{"PYPI_PASS"}, args: []string{"PYPI_USER", "PYPI_URL"}, notIn: []string{"PYPI_PASS"}},
		{example: "217-ssh-key-arg-git-clone", ssh: []string{"default"}, notIn: []string{"SSH_PRIVATE_KEY"}},
		{example: "017-seed004-source-env-legacy", secrets: []string{".env"}, dockerignore: ".env\n"},
		{example: "135-name-classification", secrets: []string{"AWS_SECRET_ACCESS_KEY", "DB_PWD", "clientSecret", "SIGNING_PRIVATE_KEY"}, args: []string{"APP_VERSION"}, notIn: []string{"DB_PWD", "clientSecret"}},
	}
	for _, tt := range tests {
		t.Run(tt.example, func(t *testing.T) {
			t.Parallel()
			original, err := os.ReadFile(filepath.Join(l.examplesDir(), tt.example, "Dockerfile"))
			if err != nil {
				t.Fatal(err)
			}
			dir := copyContext(t, filepath.Join(l.examplesDir(), tt.example))
			writeFile(t, dir, "Dockerfile", withSyntax(l.frontend, original))
			if tt.dockerignore != "" {
				writeFile(t, dir, ".dockerignore", []byte(tt.dockerignore))
			}
			res := l.buildx(t, buildSpec{dir: dir, flags: append(l.baseImageFlags(t, original), "--call=outline,format=json")})
			if res.err != nil {
				t.Fatalf("--call=outline failed: %v\n%s", res.err, res.out)
			}
			var o outlineJSON
			if err := json.Unmarshal(res.stdout, &o); err != nil {
				t.Fatalf("reading the outline: %v\n%s", err, res.stdout)
			}
			var secrets, ssh, args []string
			for _, s := range o.Secrets {
				secrets = append(secrets, s.Name)
			}
			for _, s := range o.SSH {
				ssh = append(ssh, s.Name)
			}
			for _, a := range o.Args {
				args = append(args, a.Name)
			}
			for _, s := range tt.secrets {
				if !slices.Contains(secrets, s) {
					t.Errorf("secret %s is not in the outline's secrets %v", s, secrets)
				}
			}
			for _, s := range tt.ssh {
				if !slices.Contains(ssh, s) {
					t.Errorf("ssh %s is not in the outline's ssh %v", s, ssh)
				}
			}
			for _, a := range tt.args {
				if !slices.Contains(args, a) {
					t.Errorf("build-arg %s is not in the outline's args %v", a, args)
				}
			}
			for _, a := range tt.notIn {
				if slices.Contains(args, a) {
					t.Errorf("the secret %s is still a build-arg of the outline %v", a, args)
				}
			}
			t.Logf("outline: args %v, secrets %v, ssh %v", args, secrets, ssh)
		})
	}
}

// checkJSON is the part of `--call=check,format=json` the tests read
// (BuildKit's frontend/subrequests/lint).
type checkJSON struct {
	Warnings []struct {
		RuleName    string `json:"ruleName"`
		Description string `json:"description"`
		Detail      string `json:"detail"`
		Location    struct {
			Ranges []struct {
				Start struct {
					Line int `json:"line"`
				} `json:"start"`
			} `json:"ranges"`
		} `json:"location"`
	} `json:"warnings"`
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
}

func (c checkJSON) rules() map[string][]int {
	out := map[string][]int{}
	for _, w := range c.Warnings {
		line := 0
		if len(w.Location.Ranges) > 0 {
			line = w.Location.Ranges[0].Start.Line
		}
		out[w.RuleName] = append(out[w.RuleName], line)
	}
	return out
}

// TestCallCheck (g): `--call=check` shows hushbuild's findings next to the
// stock build checks, each under its line.
func TestCallCheck(t *testing.T) {
	l := needLab(t)
	dockerfile := []byte(`FROM alpine as base
ARG NPM_TOKEN
RUN npm ci
`)
	dir := t.TempDir()
	writeFile(t, dir, "Dockerfile", withSyntax(l.frontend, dockerfile))
	res := l.buildx(t, buildSpec{dir: dir, flags: append(l.baseImageFlags(t, dockerfile), "--call=check,format=json")})
	// Warnings make the check fail; the JSON is printed either way.
	var c checkJSON
	if err := json.Unmarshal(res.stdout, &c); err != nil {
		t.Fatalf("reading the check result: %v (%v)\n%s", err, res.err, res.out)
	}
	rules := c.rules()
	// Lines count the # syntax line.
	for rule, line := range map[string]int{"FromAsCasing": 2, "SecretArg": 3} {
		if !slices.Contains(rules[rule], line) {
			t.Errorf("the check lacks %s on line %d: %v", rule, line, rules)
		}
	}
	t.Logf("check: %v", rules)
}
