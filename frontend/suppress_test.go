package frontend

import (
	"context"
	"strings"
	"testing"

	"github.com/hushbuild/hushbuild/internal/canary"
	"github.com/hushbuild/hushbuild/rewrite"
)

// googleKey is a random value in the form of a Google API key.
func googleKey(t *testing.T) string { return canary.GoogleKey(t) }

// TestSuppressedErrorBuilds: a HardcodedSecret that a comment suppresses
// does not stop the build, and the build warns about it with the reason;
// the same Dockerfile without the comment stops.
func TestSuppressedErrorBuilds(t *testing.T) {
	key := googleKey(t)
	for _, suppressed := range []bool{false, true} {
		df := "FROM scratch\n"
		if suppressed {
			df += "# hushbuild:ignore=HardcodedSecret the public key the distribution ships\n"
		}
		df += "ENV GOOGLE_API_KEY=" + key + "\nRUN echo done\n"
		c := newFakeClient(nil)
		c.files["local://dockerfile"] = map[string][]byte{"Dockerfile": []byte(df)}
		_, err := Build(context.Background(), c)
		if !suppressed {
			if err == nil || !strings.Contains(err.Error(), rewrite.RuleHardcodedSecret.Name) {
				t.Errorf("without the comment: err = %v, want the HardcodedSecret error", err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("with the comment: %v", err)
		}
		var warned bool
		for _, w := range c.warnings {
			if strings.Contains(w.msg, "suppressed error by the comment on line 2 (the public key the distribution ships)") {
				warned = true
			}
		}
		if !warned {
			t.Errorf("no warning names the suppressed error: %v", c.warnings)
		}
	}
}

// TestSuppressionKeepsTheProof: a comment suppressing every finding of a
// RUN with a secret changes nothing in what the build runs: the step is
// still instrumented and checked, and a leak it finds still stops the
// build (SecretInBuildOutput cannot be suppressed).
func TestSuppressionKeepsTheProof(t *testing.T) {
	df := "FROM scratch AS a\n# hushbuild:ignore=SecretArg not really a secret\nARG NPM_TOKEN\n# hushbuild:ignore=SecretInLog the log is private\nRUN echo $NPM_TOKEN && npm ci\nFROM a\nRUN echo done\n"
	c := newFakeClient(nil)
	c.files["local://dockerfile"] = map[string][]byte{"Dockerfile": []byte(df)}
	if _, err := Build(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if w, _ := wrappedSteps(buildDefinitions(c)); w != 2 {
		t.Errorf("%d wrapped steps, want the RUN with the secret and the one after it", w)
	}
	var checked bool
	for _, d := range c.solved {
		if len(checkReports(d)) > 0 {
			checked = true
		}
	}
	if !checked {
		t.Error("the build output was not checked")
	}

	c = newFakeClient(nil)
	c.files["local://dockerfile"] = map[string][]byte{"Dockerfile": []byte(df)}
	c.reports = map[string]string{"report.json": `{"findings":[{"path":"/0/root/.npmrc","where":"content","secret":"NPM_TOKEN","encoding":"raw"}]}`}
	if _, err := Build(context.Background(), c); err == nil || !strings.Contains(err.Error(), rewrite.RuleSecretInBuildOutput.Name) {
		t.Fatalf("err = %v, want the leak found by the check", err)
	}

	// A comment that names the check is an error of its own.
	c = newFakeClient(nil)
	c.files["local://dockerfile"] = map[string][]byte{"Dockerfile": []byte("FROM scratch\nARG NPM_TOKEN\n# hushbuild:ignore=SecretInBuildOutput the check is wrong\nRUN npm ci\n")}
	if _, err := Build(context.Background(), c); err == nil || !strings.Contains(err.Error(), rewrite.RuleInvalidSuppression.Name) {
		t.Fatalf("err = %v, want InvalidSuppression", err)
	}
}

// TestSuppressionKeepsSecretBuildArg: no comment lets a secret through as
// a build-arg: not one suppressing the ARG's finding, not one naming
// SecretBuildArg.
func TestSuppressionKeepsSecretBuildArg(t *testing.T) {
	for _, df := range []string{
		"FROM scratch\n# hushbuild:ignore=SecretArg we pass it as a build-arg\nARG NPM_TOKEN\nRUN npm ci\n",
		"FROM scratch\n# hushbuild:ignore=SecretBuildArg we pass it as a build-arg\nARG NPM_TOKEN\nRUN npm ci\n",
		"FROM scratch\nARG NPM_TOKEN\n# hushbuild:ignore=SecretExpandedAtParse the label is fine\nLABEL token=$NPM_TOKEN\n",
	} {
		value := newCanary(t)
		c := newFakeClient(map[string]string{"build-arg:NPM_TOKEN": value})
		c.files["local://dockerfile"] = map[string][]byte{"Dockerfile": []byte(df)}
		logs := captureLogs(t)
		_, err := Build(context.Background(), c)
		if err == nil || !IsSecretBuildArg(err) {
			t.Errorf("%q: err = %v, want the secret build-arg refused", df, err)
		}
		if err != nil {
			assertNoCanary(t, "the error", []byte(err.Error()), value)
		}
		assertNoCanary(t, "the logs", logs.Bytes(), value)
		if n := len(buildDefinitions(c)); n != 0 {
			t.Errorf("%q: %d conversions were solved", df, n)
		}
	}
}

// TestStrictCallerRefusesSuppressedErrors: with strict=true from the
// caller, a comment suppressing an error stops the build naming its line.
func TestStrictCallerRefusesSuppressedErrors(t *testing.T) {
	df := "FROM scratch\n# hushbuild:ignore=HardcodedSecret the public key the distribution ships\nENV GOOGLE_API_KEY=" + googleKey(t) + "\n"
	c := newFakeClient(map[string]string{keyConfigArg: "strict=true"})
	c.files["local://dockerfile"] = map[string][]byte{"Dockerfile": []byte(df)}
	_, err := Build(context.Background(), c)
	if err == nil || !strings.Contains(err.Error(), "strict mode, and the hushbuild:ignore comment on line 2") {
		t.Fatalf("err = %v, want the strict-mode refusal naming line 2", err)
	}
}

// TestErrorsEchoNoValue: the frontend's errors, warnings and logs about a
// bad HUSHBUILD build-arg, a bad directive, a bad suppression comment or a
// Dockerfile that does not parse hold no value of them.
func TestErrorsEchoNoValue(t *testing.T) {
	value := "Hf" + newCanary(t)
	for i, tc := range []struct {
		opts map[string]string
		df   string
	}{
		{map[string]string{keyConfigArg: value}, "FROM scratch\n"},
		{map[string]string{keyConfigArg: "optional=" + value}, "FROM scratch\n"},
		{map[string]string{keyConfigArg: value + "=1"}, "FROM scratch\n"},
		{nil, "# hushbuild=" + value + "\nFROM scratch\n"},
		{nil, "# hushbuild=strict=" + value + "\nFROM scratch\n"},
		{nil, "FROM scratch\n# hushbuild:ignore=" + value + " a reason\nRUN true\n"},
		{nil, "FROM scratch\n# hushbuild:ignore=SecretArg," + value + "\nARG NPM_TOKEN\nRUN true\n"},
		{nil, "FROM scratch\nHEALTHCHECK --interval=" + value + " CMD true\n"},
		{nil, "FROM scratch\n" + value + "\n"},
	} {
		c := newFakeClient(tc.opts)
		c.files["local://dockerfile"] = map[string][]byte{"Dockerfile": []byte(tc.df)}
		logs := captureLogs(t)
		_, err := Build(context.Background(), c)
		if err == nil {
			t.Errorf("case %d: the build passed", i)
			continue
		}
		assertNoCanary(t, "the error", []byte(err.Error()), value)
		assertNoCanary(t, "the logs", logs.Bytes(), value)
		for _, w := range c.warnings {
			assertNoCanary(t, "a warning", []byte(w.msg), value)
		}
	}
}

// TestRepoConfigInTheContext: the frontend reads .hushbuild.yaml at the
// root of the build context, as the CLI does next to the Dockerfile: a
// name it calls a secret is rewritten and refused as a build-arg; a
// strict caller refuses what in it relaxes protection; a file it cannot
// read stops the build without quoting it.
func TestRepoConfigInTheContext(t *testing.T) {
	df := "FROM scratch\nARG INTERNAL_URL\nRUN curl $INTERNAL_URL\n"
	value := newCanary(t)
	tests := []struct {
		name string
		yaml string
		opts map[string]string
		want string // in the error; "" for a build that passes
	}{
		{"none", "", map[string]string{"build-arg:INTERNAL_URL": value}, ""},
		{"a secret name", "secrets: [INTERNAL_URL]\n", map[string]string{"build-arg:INTERNAL_URL": value}, "build-arg INTERNAL_URL is a secret"},
		{"a secret name, no build-arg", "secrets: [INTERNAL_URL]\n", nil, ""},
		{"relaxing, not strict", "not-secrets: [GPG_KEY]\n", nil, ""},
		{"relaxing, strict", "not-secrets: [GPG_KEY]\n", map[string]string{keyConfigArg: "strict=true"}, "strict mode: the repository's configuration relaxes protection (not-secrets)"},
		{"unreadable", "secrets: [A]\noptional: " + value + "\n", nil, ".hushbuild.yaml: line 2: a value of the wrong type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newFakeClient(tt.opts)
			c.files["local://dockerfile"] = map[string][]byte{"Dockerfile": []byte(df)}
			if tt.yaml != "" {
				c.files["local://context"] = map[string][]byte{rewrite.RepoConfigName: []byte(tt.yaml)}
			}
			_, err := Build(context.Background(), c)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if err != nil {
				assertNoCanary(t, "the error", []byte(err.Error()), value)
			}
			// A secret mount is a step the proof wraps.
			if w, _ := wrappedSteps(buildDefinitions(c)); err == nil && (w == 1) != (tt.name == "a secret name, no build-arg") {
				t.Errorf("%d wrapped steps", w)
			}
		})
	}
}
