package rewrite

import (
	"strings"
	"testing"
)

// TestNotSecretsTooBroad: a not-secrets pattern that matches every secret
// name is refused, from the Dockerfile and from the caller alike.
func TestNotSecretsTooBroad(t *testing.T) {
	for _, pat := range []string{"*", "**", "*?", "[A-Za-z]*"} {
		if _, err := ParseConfig(Config{}, "not-secrets="+pat); err == nil {
			t.Errorf("not-secrets=%s accepted", pat)
		}
	}
	for _, pat := range []string{"LEGACY_TOKEN", "DEPLOY_*", "*_KEY_ID", "GPG_*"} {
		if _, err := ParseConfig(Config{}, "not-secrets="+pat); err != nil {
			t.Errorf("not-secrets=%s refused: %v", pat, err)
		}
	}
	df := "# hushfile=not-secrets=*\nFROM alpine\nARG NPM_TOKEN\nRUN npm ci\n"
	res, err := Rewrite([]byte(df), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Err() == nil {
		t.Fatal("a directive with not-secrets=* was applied")
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
		df := "# hushfile=" + tt.directive + "\nFROM alpine\nARG NPM_TOKEN\nRUN npm ci\n"
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
