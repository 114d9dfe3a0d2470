package rewrite

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseRepoConfig(t *testing.T) {
	value := "ghp_" + strings.Repeat("Zq9", 12)
	tests := []struct {
		name    string
		yaml    string
		want    Config
		wantErr string
	}{
		{"empty", "", Config{}, ""},
		{"comments only", "# nothing\n", Config{}, ""},
		{"everything", "secrets: [SENTRY_DSN, INTERNAL_FEED]\nnot-secrets:\n  - GPG_KEY\nsecret-files: ['*.token']\ndisable: [secretinlog]\noptional: true\nallow-runtime-secret-files: false\nomit-runtime-secret-files: true\nrewrite-hardcoded: true\nstrict: true\n",
			Config{Secrets: []string{"SENTRY_DSN", "INTERNAL_FEED"}, NotSecrets: []string{"GPG_KEY"}, SecretFiles: []string{"*.token"}, Disable: []string{"SecretInLog"},
				Optional: true, OmitRuntimeSecretFiles: true, RewriteHardcoded: true, Strict: true}, ""},
		{"unknown key", "secrets: [A]\nsecret: [B]\n", Config{}, ".hushbuild.yaml: line 2: an unknown key (known: secrets,"},
		{"a value where a list goes", "secrets: " + value + "\n", Config{}, ".hushbuild.yaml: line 1: a value of the wrong type"},
		{"a value where a boolean goes", "optional: " + value + "\n", Config{}, ".hushbuild.yaml: line 1: a value of the wrong type"},
		{"a value as a key", "secrets: [A]\n" + value + ": 1\n", Config{}, ".hushbuild.yaml: line 2: an unknown key"},
		{"not YAML", "secrets: [A\n" + value + "\n", Config{}, ".hushbuild.yaml: line"},
		{"target is the build's", "target: prod\n", Config{}, "an unknown key"},
		{"every name", "not-secrets: ['*']\n", Config{}, "not-secrets, item 1 would match every secret name"},
		{"an error rule", "disable: [HardcodedSecret]\n", Config{}, "HardcodedSecret cannot be disabled"},
		{"an unknown rule", "disable: [" + value + "]\n", Config{}, "disable, item 1 is not a rule"},
		{"two documents", "secrets: [A]\n---\nsecrets: [B]\n", Config{}, "more than one YAML document"},
		{"too large", "secrets: [" + strings.Repeat("A,", MaxRepoConfigSize/2) + "A]\n", Config{}, "larger than 64 KiB"},
		{"an alias bomb", "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nsecrets: *g\n", Config{}, ".hushbuild.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRepoConfig([]byte(tt.yaml))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), value) {
					t.Error("the error holds the value")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestMergeRepoConfig: the file adds to the caller's settings; a strict
// caller refuses what in it relaxes protection; its strict tightens the
// Dockerfile's directive.
func TestMergeRepoConfig(t *testing.T) {
	repo := Config{Secrets: []string{"INTERNAL_URL"}, NotSecrets: []string{"GPG_KEY"}}
	m, err := MergeRepoConfig(repo, Config{Secrets: []string{"SENTRY_DSN"}, Target: "prod"}, "x/.hushbuild.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(m.Secrets, ",") != "INTERNAL_URL,SENTRY_DSN" || strings.Join(m.NotSecrets, ",") != "GPG_KEY" || m.Target != "prod" {
		t.Errorf("merged %+v", m)
	}
	if _, err := MergeRepoConfig(repo, Config{Strict: true}, "x/.hushbuild.yaml"); err == nil || !strings.Contains(err.Error(), "x/.hushbuild.yaml: strict mode") {
		t.Errorf("strict: err = %v", err)
	}
	if _, err := MergeRepoConfig(Config{Secrets: []string{"A"}}, Config{Strict: true}, "x"); err != nil {
		t.Errorf("strict refuses a file that only adds secrets: %v", err)
	}
	// The file's strict applies to the directive.
	m, err = MergeRepoConfig(Config{Strict: true}, Config{}, "x")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Rewrite([]byte("# hushbuild=not-secrets=NPM_TOKEN\nFROM alpine\nARG NPM_TOKEN\nRUN npm ci\n"), m)
	if err != nil {
		t.Fatal(err)
	}
	if res.Err() == nil || !strings.Contains(res.Err().Error(), "strict mode") {
		t.Errorf("the directive relaxed a strict repository: %v", res.Err())
	}
}

// FuzzParseRepoConfig: any input is read or refused, without a panic and
// without its text in the error.
func FuzzParseRepoConfig(f *testing.F) {
	f.Add([]byte("secrets: [A]\nnot-secrets: [B]\noptional: true\n"))
	f.Add([]byte("disable: [SecretInLog]\nsecret-files: ['*.pem']\n"))
	f.Add([]byte("a: &a [x]\nb: [*a, *a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := ParseRepoConfig(data)
		if err == nil {
			return
		}
		for _, w := range strings.Fields(string(data)) {
			if len(w) >= 12 && strings.Contains(err.Error(), w) && !strings.Contains(RepoConfigName+" "+ruleList()+" "+strings.Join(repoConfigKeys(), " "), w) {
				t.Fatalf("the error quotes a word of the input")
			}
		}
	})
}
