package rewrite

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hushbuild/hushbuild/internal/canary"
)

// googleKeyCanary is a random value in the form of a Google API key,
// which the HardcodedSecret rule reports. Tests never print it.
func googleKeyCanary(t testing.TB) string { return canary.GoogleKey(t) }

// suppressedRules lists "Rule@line" of the suppressed findings, and
// unsuppressed the same for the others.
func splitFindings(res *Result) (suppressed, unsuppressed []string) {
	for _, f := range res.Findings {
		s := fmt.Sprintf("%s@%d", f.Rule, f.Range.Start)
		if f.Suppressed() {
			suppressed = append(suppressed, s)
		} else {
			unsuppressed = append(unsuppressed, s)
		}
	}
	return suppressed, unsuppressed
}

// TestSuppressions: where a `# hushbuild:ignore=` comment applies, what it
// may name, and every way it could fail open: each case says which
// findings end up suppressed and whether the Dockerfile is still unsafe.
func TestSuppressions(t *testing.T) {
	key := googleKeyCanary(t)
	tests := []struct {
		name   string
		df     string
		strict bool
		// suppressed are the "Rule@line" findings a comment covers.
		suppressed []string
		// invalid are the lines of InvalidSuppression findings, with
		// their severity.
		invalid map[int]Severity
		unsafe  bool
	}{
		{
			name:       "the line above",
			df:         "FROM alpine\n# hushbuild:ignore=HardcodedSecret the public key Chromium ships\nENV GOOGLE_API_KEY=KEY\n",
			suppressed: []string{"HardcodedSecret@3"},
		},
		{
			name:       "in a block of comments above, case-insensitive",
			df:         "FROM alpine\n# hushbuild:ignore=hardcodedsecret,SecretInLog public key\n# keep in sync with upstream\nENV GOOGLE_API_KEY=KEY\n",
			suppressed: []string{"HardcodedSecret@4"},
			invalid:    map[int]Severity{2: SeverityWarning}, // SecretInLog suppresses nothing
		},
		{
			name:       "among the continuation lines of the instruction",
			df:         "FROM alpine\nRUN mkdir -p /etc/chromium.d \\\n# hushbuild:ignore=HardcodedSecret the public key the distribution ships\n && echo 'export GOOGLE_API_KEY=\"KEY\"' > /etc/chromium.d/googleapikeys\n",
			suppressed: []string{"HardcodedSecret@2"},
		},
		{
			name:    "a blank line between the comment and the instruction",
			df:      "FROM alpine\n# hushbuild:ignore=HardcodedSecret public\n\nENV GOOGLE_API_KEY=KEY\n",
			invalid: map[int]Severity{2: SeverityWarning},
			unsafe:  true,
		},
		{
			name:   "a comment line inside a heredoc is its content",
			df:     "FROM alpine\nRUN <<EOF\n# hushbuild:ignore=HardcodedSecret public\necho KEY\nEOF\n",
			unsafe: true,
		},
		{
			name:    "the comment covers the instruction above it, not the one below",
			df:      "FROM alpine\nRUN true\n# hushbuild:ignore=HardcodedSecret public\nRUN true\nENV GOOGLE_API_KEY=KEY\n",
			invalid: map[int]Severity{3: SeverityWarning},
			unsafe:  true,
		},
		{
			name:    "inside one instruction, it does not reach the next",
			df:      "FROM alpine\nRUN true \\\n# hushbuild:ignore=HardcodedSecret public\n && true\nENV GOOGLE_API_KEY=KEY\n",
			invalid: map[int]Severity{3: SeverityWarning},
			unsafe:  true,
		},
		{
			name:    "after the instruction, on its line",
			df:      "FROM alpine\nRUN echo KEY > /k # hushbuild:ignore=HardcodedSecret public\n",
			invalid: map[int]Severity{2: SeverityWarning},
			unsafe:  true,
		},
		{
			name:    "another rule",
			df:      "FROM alpine\n# hushbuild:ignore=SecretEnv public\nENV GOOGLE_API_KEY=KEY\n",
			invalid: map[int]Severity{2: SeverityWarning},
			unsafe:  true,
		},
		{
			name:    "an unknown rule",
			df:      "FROM alpine\n# hushbuild:ignore=HardcodedSecret,HardcodedSecrets public\nENV GOOGLE_API_KEY=KEY\n",
			invalid: map[int]Severity{2: SeverityError},
			unsafe:  true,
		},
		{
			name:    "a wildcard is not a rule",
			df:      "FROM alpine\n# hushbuild:ignore=* public\nENV GOOGLE_API_KEY=KEY\n",
			invalid: map[int]Severity{2: SeverityError},
			unsafe:  true,
		},
		{
			name:    "no reason",
			df:      "FROM alpine\n# hushbuild:ignore=HardcodedSecret\nENV GOOGLE_API_KEY=KEY\n",
			invalid: map[int]Severity{2: SeverityError},
			unsafe:  true,
		},
		{
			name:    "an empty name in the list",
			df:      "FROM alpine\n# hushbuild:ignore=HardcodedSecret,,SecretEnv public\nENV GOOGLE_API_KEY=KEY\n",
			invalid: map[int]Severity{2: SeverityError},
			unsafe:  true,
		},
		{
			name:    "a misspelt pragma is an error, not a comment",
			df:      "FROM alpine\n# hushbuild:ignored=HardcodedSecret public\nENV GOOGLE_API_KEY=KEY\n",
			invalid: map[int]Severity{2: SeverityError},
			unsafe:  true,
		},
		{
			name:    "a pragma without its =",
			df:      "FROM alpine\n# hushbuild: ignore HardcodedSecret public\nENV GOOGLE_API_KEY=KEY\n",
			invalid: map[int]Severity{2: SeverityError},
			unsafe:  true,
		},
		{
			name:    "a pragma with a dash",
			df:      "FROM alpine\n# hushbuild-ignore=HardcodedSecret public\nENV GOOGLE_API_KEY=KEY\n",
			invalid: map[int]Severity{2: SeverityError},
			unsafe:  true,
		},
		{
			name:    "the reason holds the credential",
			df:      "FROM alpine\n# hushbuild:ignore=HardcodedSecret KEY is public\nENV GOOGLE_API_KEY=KEY\n",
			invalid: map[int]Severity{2: SeverityError},
			unsafe:  true,
		},
		{
			name:    "SecretInBuildOutput cannot be suppressed",
			df:      "FROM alpine\n# hushbuild:ignore=SecretInBuildOutput the checker is wrong\nRUN true\n",
			invalid: map[int]Severity{2: SeverityError},
			unsafe:  true,
		},
		{
			name:    "SecretBuildArg cannot be suppressed",
			df:      "FROM alpine\n# hushbuild:ignore=SecretBuildArg we pass it anyway\nARG NPM_TOKEN\nRUN npm ci\n",
			invalid: map[int]Severity{2: SeverityError},
			unsafe:  true,
		},
		{
			name:    "CannotRewrite cannot be suppressed",
			df:      "FROM alpine\n# hushbuild:ignore=CannotRewrite it is fine\nCOPY .ssh/ /root/.ssh/\n",
			invalid: map[int]Severity{2: SeverityError},
			unsafe:  true,
		},
		{
			name:    "strict: an error cannot be suppressed",
			df:      "FROM alpine\n# hushbuild:ignore=HardcodedSecret public\nENV GOOGLE_API_KEY=KEY\n",
			strict:  true,
			invalid: map[int]Severity{2: SeverityError},
			unsafe:  true,
		},
		{
			name:       "strict: a warning can",
			df:         "FROM alpine\nARG NPM_TOKEN\n# hushbuild:ignore=SecretInLog the log is private\nRUN echo $NPM_TOKEN\n",
			strict:     true,
			suppressed: []string{"SecretInLog@4"},
		},
		{
			name:       "a warning: the rewrite still happens",
			df:         "FROM alpine\n# hushbuild:ignore=SecretArg the value is not secret\nARG NPM_TOKEN\nRUN npm ci\n",
			suppressed: []string{"SecretArg@3"},
		},
		{
			name:   "the # hushbuild= directive line is no instruction",
			df:     "# hushbuild=not-secrets=*\n# hushbuild:ignore=CannotRewrite ok\nFROM alpine\n",
			unsafe: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			df := strings.ReplaceAll(tt.df, "KEY", key)
			res, err := Rewrite([]byte(df), Config{Strict: tt.strict})
			if err != nil {
				t.Fatalf("Rewrite: %v", err)
			}
			got, _ := splitFindings(res)
			if strings.Join(got, " ") != strings.Join(tt.suppressed, " ") {
				t.Errorf("suppressed %v, want %v", got, tt.suppressed)
			}
			invalid := map[int]Severity{}
			for _, f := range res.Findings {
				if f.Rule == RuleInvalidSuppression.Name {
					if f.Suppressed() {
						t.Errorf("an InvalidSuppression finding is suppressed")
					}
					if s, ok := invalid[f.Range.Start]; !ok || f.Severity > s {
						invalid[f.Range.Start] = f.Severity
					}
				}
			}
			if fmt.Sprint(invalid) != fmt.Sprint(orEmpty(tt.invalid)) {
				t.Errorf("InvalidSuppression findings at %v, want %v", invalid, tt.invalid)
			}
			if unsafe := res.Err() != nil; unsafe != tt.unsafe {
				t.Errorf("unsafe = %v, want %v", unsafe, tt.unsafe)
			}
			doc, _ := json.Marshal(res.Findings)
			if strings.Contains(string(doc), key) {
				t.Error("a finding holds the credential")
			}
			if res.Err() != nil && strings.Contains(res.Err().Error(), key) {
				t.Error("the error holds the credential")
			}
		})
	}
}

func orEmpty(m map[int]Severity) map[int]Severity {
	if m == nil {
		return map[int]Severity{}
	}
	return m
}

// TestSuppressionKeepsTheRewrite: a suppression changes the verdict on a
// finding, never the rewritten Dockerfile nor what the build must refuse
// as a build-arg.
func TestSuppressionKeepsTheRewrite(t *testing.T) {
	plain := "FROM alpine\nARG NPM_TOKEN\nRUN echo $NPM_TOKEN && npm ci\n"
	commented := "FROM alpine\n# hushbuild:ignore=SecretArg,SecretInLog not a real token\nARG NPM_TOKEN\n# hushbuild:ignore=SecretInLog the log is private\nRUN echo $NPM_TOKEN && npm ci\n"
	a, err := Rewrite([]byte(plain), Config{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Rewrite([]byte(commented), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(a.SecretArgs, ",") != strings.Join(b.SecretArgs, ",") || len(b.SecretArgs) == 0 {
		t.Errorf("SecretArgs %v with the comments, %v without", b.SecretArgs, a.SecretArgs)
	}
	var lines []string
	for _, l := range strings.Split(string(b.Output), "\n") {
		if !strings.Contains(l, "hushbuild:ignore") {
			lines = append(lines, l)
		}
	}
	if strings.Join(lines, "\n") != string(a.Output) {
		t.Errorf("the comments changed the rewrite:\n%s\nwant\n%s", b.Output, a.Output)
	}
	if len(a.Requirements) != len(b.Requirements) {
		t.Errorf("requirements %v with the comments, %v without", b.Requirements, a.Requirements)
	}
}

// TestSuppressionFromTheCorpus: the Chromium Dockerfile of the corpus
// ships Google's public API key for Debian's build; a comment among the
// RUN's lines lets it build, and only that finding.
func TestSuppressionFromTheCorpus(t *testing.T) {
	data := readCorpus(t, "jessfraz-dockerfiles/chromium_Dockerfile")
	res, err := Rewrite(data, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Err() == nil {
		t.Fatal("the corpus file has no error finding to suppress")
	}
	lines := strings.SplitAfter(string(data), "\n")
	at := -1
	for i, l := range lines {
		if strings.Contains(l, "GOOGLE_API_KEY") {
			at = i
			break
		}
	}
	if at < 0 {
		t.Fatal("the corpus file no longer holds GOOGLE_API_KEY")
	}
	comment := "# hushbuild:ignore=HardcodedSecret Debian's public Google API key for Chromium, published in its source package\n"
	edited := strings.Join(append(append(append([]string(nil), lines[:at]...), comment), lines[at:]...), "")
	res, err = Rewrite([]byte(edited), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Err(); err != nil {
		t.Fatalf("still unsafe: %v", err)
	}
	got, _ := splitFindings(res)
	if len(got) != 1 || !strings.HasPrefix(got[0], "HardcodedSecret@") {
		t.Errorf("suppressed %v, want the one HardcodedSecret", got)
	}
}

// readCorpus reads one file of ../shared/corpus, skipping as corpusFiles
// does without it.
func readCorpus(t *testing.T, rel string) []byte {
	t.Helper()
	corpusFiles(t) // skips, or fails under CI, without the corpus
	data, err := os.ReadFile(filepath.Join("..", "..", "shared", "corpus", filepath.FromSlash(rel)))
	if err != nil {
		t.Fatalf("the corpus file %s: %v", rel, err)
	}
	return data
}

// FuzzSuppressions: whatever the comments, a suppression only ever turns
// findings into suppressed ones on the instruction it covers: the same
// findings, in number and rule, as without the comments, the same output
// but for them, and never an InvalidSuppression that is suppressed or an
// unsuppressible rule that is.
func FuzzSuppressions(f *testing.F) {
	f.Add("FROM alpine\n# hushbuild:ignore=HardcodedSecret why\nENV K=AIzaSyA1234567890abcdefghijklmnopqrstuv\n")
	f.Add("FROM alpine\nRUN a \\\n# hushbuild:ignore=SecretInLog,SecretArg x\n && echo $T\n# hushbuild:ignore=CannotRewrite\nCOPY .ssh/ /root/.ssh/\n")
	f.Add("# hushbuild:\n#hushbuild:ignore=,\nFROM a\nRUN <<EOF\n# hushbuild:ignore=SecretArg y\nEOF\n")
	f.Fuzz(func(t *testing.T, src string) {
		res, err := Rewrite([]byte(src), Config{})
		if err != nil || res.Changed && res.Err() != nil {
			return
		}
		for _, f := range res.Findings {
			if f.Suppressed() && (Unsuppressible(f.Rule) != "" || f.Suppression.Reason == "" || f.Range.Start <= 0) {
				t.Fatalf("finding %s at line %d is suppressed", f.Rule, f.Range.Start)
			}
		}
		// The comments stripped: the same findings but InvalidSuppression.
		var kept []string
		for _, l := range strings.SplitAfter(src, "\n") {
			if pragmaRe.MatchString(strings.TrimSpace(l)) {
				l = "#\n"
			}
			kept = append(kept, l)
		}
		plain, err := Rewrite([]byte(strings.Join(kept, "")), Config{})
		if err != nil {
			return
		}
		count := func(r *Result) map[string]int {
			m := map[string]int{}
			for _, f := range r.Findings {
				if f.Rule != RuleInvalidSuppression.Name {
					m[f.Rule]++
				}
			}
			return m
		}
		if fmt.Sprint(count(res)) != fmt.Sprint(count(plain)) {
			t.Fatalf("findings %v with the comments, %v without", count(res), count(plain))
		}
		if (plain.Err() == nil) && res.Err() != nil {
			for _, f := range res.Findings {
				if f.Severity >= SeverityError && f.Rule != RuleInvalidSuppression.Name && !f.Suppressed() {
					t.Fatalf("a comment made %s an error", f.Rule)
				}
			}
		}
	})
}

// TestRewriteNotesAreNotSuppressions: the notes a rewrite leaves
// (`# hushbuild: ARG X is a secret mount now`) are comments, not bad
// suppressions: the rewrite of every example checks again without an
// InvalidSuppression.
func TestRewriteNotesAreNotSuppressions(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "examples", "*", "Dockerfile"))
	if len(files) < 50 {
		t.Fatalf("%d examples", len(files))
	}
	notes := 0
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Rewrite(src, Config{})
		if err != nil || !res.Changed {
			continue
		}
		notes += strings.Count(string(res.Output), "# hushbuild: ")
		again, err := Rewrite(res.Output, Config{})
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, f := range again.Findings {
			if f.Rule == RuleInvalidSuppression.Name {
				t.Errorf("%s: line %d of the rewrite: %s", file, f.Range.Start, f.Message)
			}
		}
	}
	if notes == 0 {
		t.Fatal("no rewrite left a note: the test tests nothing")
	}
}

// TestContainsLower: containsLower says what bytes.Contains(bytes.ToLower)
// says, on ASCII and on text that lowers otherwise.
func TestContainsLower(t *testing.T) {
	for _, s := range []string{"", "RUN x # hushbuild:ignore", "RUN x # HushBuild:IGNORE=SecretEnv", "hushbuild:ignor", "xhushbuild:ignorex",
		"hushbuild: ignore", "HUSHBUİLD:IGNORE", "huſhbuild:ignore", "é hushbuild:ignore", "Hushbuild:Ignore", "hushbuild"} {
		want := bytes.Contains(bytes.ToLower([]byte(s)), []byte("hushbuild:ignore"))
		if got := containsLower([]byte(s), "hushbuild:ignore"); got != want {
			t.Errorf("containsLower(%q) = %v, want %v", s, got, want)
		}
	}
}
