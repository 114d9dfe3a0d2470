package rewrite

import (
	"strings"
	"testing"
)

// TestNotSecretsTooBroad: a not-secrets pattern that matches every secret
// name is refused, from the Dockerfile and from the caller alike.
func TestNotSecretsTooBroad(t *testing.T) {
	for _, pat := range []string{"*", "**", "*?", "[A-Za-z]*", ".*", "^.*$", "*_*", "[^x]*", "all"} {
		if _, err := ParseConfig(Config{}, "not-secrets="+pat); err == nil {
			t.Errorf("not-secrets=%s accepted", pat)
		}
	}
	for _, pat := range []string{"LEGACY_TOKEN", "DEPLOY_*", "*_KEY_ID", "GPG_*", "NEXT_PUBLIC_*", "*_URL"} {
		if _, err := ParseConfig(Config{}, "not-secrets="+pat); err != nil {
			t.Errorf("not-secrets=%s refused: %v", pat, err)
		}
	}
	df := "# hushbuild=not-secrets=*\nFROM alpine\nARG NPM_TOKEN\nRUN npm ci\n"
	res, err := Rewrite([]byte(df), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Err() == nil {
		t.Fatal("a directive with not-secrets=* was applied")
	}
	// From the caller too, however it got there.
	res, err = Rewrite([]byte("FROM alpine\nARG NPM_TOKEN\nRUN npm ci\n"), Config{NotSecrets: []string{"NPM_TOKEN", "*"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Err() == nil || !strings.Contains(res.Err().Error(), "would match every secret name") {
		t.Fatalf("a caller's not-secrets=* was applied: %v", res.Err())
	}
}

// TestStrictMode: a strict caller refuses a directive that relaxes
// protection; one that tightens it is fine, and without strict the
// directive applies.
func TestStrictMode(t *testing.T) {
	tests := []struct {
		directive string
		refused   bool
	}{
		{"not-secrets=NPM_TOKEN", true},
		{"disable=SecretInLog", true},
		{"allow-runtime-secret-files=true", true},
		{"secrets=INTERNAL_URL", false},
		{"secret-files=*.token", false},
		{"omit-runtime-secret-files=true", false},
	}
	for _, tt := range tests {
		df := "# hushbuild=" + tt.directive + "\nFROM alpine\nARG NPM_TOKEN\nRUN npm ci\n"
		res, err := Rewrite([]byte(df), Config{Strict: true})
		if err != nil {
			t.Fatal(err)
		}
		refused := res.Err() != nil && strings.Contains(res.Err().Error(), "strict mode")
		if refused != tt.refused {
			t.Errorf("%s: refused %v, want %v (%v)", tt.directive, refused, tt.refused, res.Err())
		}
		loose, err := Rewrite([]byte(df), Config{})
		if err != nil {
			t.Fatal(err)
		}
		if loose.Err() != nil && strings.Contains(loose.Err().Error(), "strict mode") {
			t.Errorf("%s: refused without strict mode", tt.directive)
		}
	}
}

// TestDisableErrorRules: a rule whose findings stop a build cannot be
// disabled; asking is an error, not a setting silently ignored.
func TestDisableErrorRules(t *testing.T) {
	for _, r := range Rules {
		_, err := ParseConfig(Config{}, "disable="+r.Name)
		if (err != nil) != (r.Severity >= SeverityError) {
			t.Errorf("disable=%s: err %v, severity %v", r.Name, err, r.Severity)
		}
	}
}

// TestParseErrorsHoldNoValue: BuildKit's parse errors quote the word they
// stumble on; the engine's never hold a value of the Dockerfile, and still
// name the line.
func TestParseErrorsHoldNoValue(t *testing.T) {
	value := "hfc_" + strings.Repeat("3a", 20)
	for _, df := range []string{
		"FROM alpine\nHEALTHCHECK --interval=" + value + " CMD true\n",
		"FROM alpine\nHEALTHCHECK --timeout=" + value + " CMD true\n",
		"FROM alpine\nEXPOSE " + value + "\n",
		"FROM alpine\nSTOPSIGNAL " + value + " x\n",
		"FROM alpine\nCOPY --chmod=" + value + " a b\n",
		"FROM alpine\nRUN --mount=type=" + value + " true\n",
		"FROM alpine\nRUN --network=" + value + " true\n",
		"FROM alpine\nADD --checksum=" + value + " https://example.com/a /a\n",
		"FROM alpine\nONBUILD " + value + "\n",
	} {
		_, err := Rewrite([]byte(df), Config{})
		if err == nil {
			continue
		}
		if strings.Contains(err.Error(), value) {
			t.Errorf("the parse error of %q holds the value", strings.SplitN(df, "\n", 3)[1][:12])
		}
		if !strings.Contains(err.Error(), "line 2") {
			t.Errorf("the parse error does not name line 2: %s", strings.ReplaceAll(err.Error(), value, "<value>"))
		}
	}
}

// TestDisableUnknownRule: a rule name that does not exist in disable=,
// from the directive, the build-arg or --config, is an error that does
// not quote it, not a setting that silently disables nothing.
func TestDisableUnknownRule(t *testing.T) {
	for _, text := range []string{"disable=SecretInLogs", "secrets=A;disable=SecretInLog,Nope"} {
		_, err := ParseConfig(Config{}, text)
		if err == nil || !strings.Contains(err.Error(), "of disable is not a rule") {
			t.Errorf("%s: err = %v", text, err)
		}
	}
	if _, err := ParseConfig(Config{}, "disable=secretinlog"); err != nil {
		t.Errorf("a rule name in another case: %v", err)
	}
	res, err := Rewrite([]byte("# hushbuild=disable=SecretInLogs\nFROM alpine\nARG NPM_TOKEN\nRUN echo $NPM_TOKEN\n"), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Err() == nil || strings.Contains(res.Err().Error(), "SecretInLogs") {
		t.Errorf("the directive's unknown rule: %v", res.Err())
	}
}
