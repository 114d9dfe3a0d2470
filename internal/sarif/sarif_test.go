package sarif

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func intp(i int) *int { return &i }

func sampleLog() *Log {
	return NewLog(Run{
		Tool: Tool{Driver: ToolComponent{
			Name:           "hushbuild",
			Version:        "v1.2.3",
			InformationURI: "https://github.com/hushbuild/hushbuild",
			Rules: []ReportingDescriptor{{
				ID:                   "SecretArg",
				ShortDescription:     &MultiformatMessageString{Text: "A secret ARG."},
				HelpURI:              "https://github.com/hushbuild/hushbuild/blob/main/docs/rules/secret-arg.md",
				DefaultConfiguration: &ReportingConfiguration{Level: LevelWarning},
				Properties:           Properties{"tags": []string{"security"}},
			}},
		}},
		Invocations: []Invocation{{ExecutionSuccessful: true}},
		Results: []Result{{
			RuleID:    "SecretArg",
			RuleIndex: intp(0),
			Level:     LevelWarning,
			Message:   Message{Text: "ARG TOKEN is a secret."},
			Locations: []Location{{PhysicalLocation: &PhysicalLocation{
				ArtifactLocation: ArtifactLocation{URI: "app/Dockerfile", URIBaseID: SrcRoot},
				Region:           &Region{StartLine: 3, EndLine: 4},
			}}},
		}},
	})
}

func TestWriteValidates(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleLog().Write(&buf); err != nil {
		t.Fatal(err)
	}
	if err := ValidateGitHub(buf.Bytes()); err != nil {
		t.Fatalf("a log written by this package does not validate:\n%v\n%s", err, buf.Bytes())
	}
	if !bytes.HasSuffix(buf.Bytes(), []byte("}\n")) {
		t.Errorf("output does not end with a newline")
	}
	// An empty log (no runs) is valid SARIF too.
	buf.Reset()
	if err := NewLog().Write(&buf); err != nil {
		t.Fatal(err)
	}
	if err := ValidateGitHub(buf.Bytes()); err != nil {
		t.Fatalf("empty log: %v\n%s", err, buf.Bytes())
	}
	if !strings.Contains(buf.String(), `"runs": []`) {
		t.Errorf("empty log must have runs: [], got %s", buf.String())
	}
}

// TestValidateRejects breaks a valid log one property at a time and checks
// that the validator names the problem.
func TestValidateRejects(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(m map[string]any)
		github bool // only ValidateGitHub rejects it
		want   string
	}{
		{name: "no version", edit: func(m map[string]any) { delete(m, "version") }, want: `missing required property "version"`},
		{name: "wrong version", edit: func(m map[string]any) { m["version"] = "2.0.0" }, want: `"2.0.0" is not one of 2.1.0`},
		{name: "no runs", edit: func(m map[string]any) { delete(m, "runs") }, want: `missing required property "runs"`},
		{name: "unknown root property", edit: func(m map[string]any) { m["extra"] = 1 }, want: `unknown property "extra"`},
		{name: "relative schema", edit: func(m map[string]any) { m["$schema"] = "sarif.json" }, want: "not an absolute URI"},
		{name: "no tool", edit: func(m map[string]any) { delete(run(m), "tool") }, want: `$.runs[0]: missing required property "tool"`},
		{name: "no driver", edit: func(m map[string]any) { delete(run(m)["tool"].(map[string]any), "driver") }, want: `missing required property "driver"`},
		{name: "no driver name", edit: func(m map[string]any) { delete(driver(m), "name") }, want: `$.runs[0].tool.driver: missing required property "name"`},
		{name: "relative informationUri", edit: func(m map[string]any) { driver(m)["informationUri"] = "hushbuild" }, want: "informationUri: \"hushbuild\" is not an absolute URI"},
		{name: "misspelt helpUri", edit: func(m map[string]any) { rule0(m)["helpURI"] = rule0(m)["helpUri"] }, want: `unknown property "helpURI"`},
		{name: "no rule id", edit: func(m map[string]any) { delete(rule0(m), "id") }, want: `rules[0]: missing required property "id"`},
		{name: "duplicate rule id", edit: func(m map[string]any) {
			d := driver(m)
			d["rules"] = append(d["rules"].([]any), rule0(m))
		}, want: `rule id "SecretArg" is not unique`},
		{name: "shortDescription without text", edit: func(m map[string]any) { rule0(m)["shortDescription"] = map[string]any{} }, want: `shortDescription: missing required property "text"`},
		{name: "bad default level", edit: func(m map[string]any) {
			rule0(m)["defaultConfiguration"] = map[string]any{"level": "warn"}
		}, want: `"warn" is not one of none, note, warning, error`},
		{name: "no message", edit: func(m map[string]any) { delete(result0(m), "message") }, want: `results[0]: missing required property "message"`},
		{name: "message without text", edit: func(m map[string]any) { result0(m)["message"] = map[string]any{} }, want: `a message needs "text" or "id"`},
		{name: "bad level", edit: func(m map[string]any) { result0(m)["level"] = "info" }, want: `"info" is not one of`},
		{name: "ruleIndex out of range", edit: func(m map[string]any) { result0(m)["ruleIndex"] = 3 }, want: "past the 1 rules"},
		{name: "ruleIndex disagrees with ruleId", edit: func(m map[string]any) { result0(m)["ruleId"] = "Other" }, want: `rule 0 is "SecretArg" but ruleId is "Other"`},
		{name: "startLine 0", edit: func(m map[string]any) { region0(m)["startLine"] = 0 }, want: "below the minimum 1"},
		{name: "endLine before startLine", edit: func(m map[string]any) { region0(m)["endLine"] = 1 }, want: "endLine 1 is before startLine 3"},
		{name: "line is a string", edit: func(m map[string]any) { region0(m)["startLine"] = "3" }, want: "want an integer"},
		{name: "uri with spaces", edit: func(m map[string]any) { physical0(m)["artifactLocation"] = map[string]any{"uri": "my file"} }, want: "not a URI reference"},
		{name: "invocation without executionSuccessful", edit: func(m map[string]any) {
			run(m)["invocations"] = []any{map[string]any{}}
		}, want: `missing required property "executionSuccessful"`},
		{name: "duplicate tags", edit: func(m map[string]any) {
			rule0(m)["properties"] = map[string]any{"tags": []any{"a", "a"}}
		}, want: `tag "a" is not unique`},
		// GitHub code scanning is stricter than the spec.
		{name: "no results", github: true, edit: func(m map[string]any) { delete(run(m), "results") }, want: `missing required property "results"`},
		{name: "no ruleId", github: true, edit: func(m map[string]any) {
			delete(result0(m), "ruleId")
			delete(result0(m), "ruleIndex")
		}, want: `missing required property "ruleId"`},
		{name: "no locations", github: true, edit: func(m map[string]any) { result0(m)["locations"] = []any{} }, want: "at least one location"},
		{name: "no region", github: true, edit: func(m map[string]any) { delete(physical0(m), "region") }, want: `missing required property "region"`},
		{name: "no startLine", github: true, edit: func(m map[string]any) { delete(region0(m), "startLine") }, want: `missing required property "startLine"`},
		{name: "no uri", github: true, edit: func(m map[string]any) { physical0(m)["artifactLocation"] = map[string]any{"uriBaseId": SrcRoot} }, want: `missing required property "uri"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := sampleLog().Write(&buf); err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
				t.Fatal(err)
			}
			tt.edit(m)
			data, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			err = ValidateGitHub(data)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ValidateGitHub = %v, want an error containing %q", err, tt.want)
			}
			if err := Validate(data); tt.github && err != nil {
				t.Errorf("Validate (spec only) = %v, want nil", err)
			} else if !tt.github && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Validate = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestValidateNotJSON(t *testing.T) {
	if err := Validate([]byte("{")); err == nil {
		t.Fatal("Validate accepted truncated JSON")
	}
	if err := Validate([]byte("[]")); err == nil || !strings.Contains(err.Error(), "want an object") {
		t.Fatalf("Validate([]) = %v", err)
	}
}

func run(m map[string]any) map[string]any { return m["runs"].([]any)[0].(map[string]any) }
func driver(m map[string]any) map[string]any {
	return run(m)["tool"].(map[string]any)["driver"].(map[string]any)
}
func rule0(m map[string]any) map[string]any   { return driver(m)["rules"].([]any)[0].(map[string]any) }
func result0(m map[string]any) map[string]any { return run(m)["results"].([]any)[0].(map[string]any) }
func physical0(m map[string]any) map[string]any {
	return result0(m)["locations"].([]any)[0].(map[string]any)["physicalLocation"].(map[string]any)
}
func region0(m map[string]any) map[string]any { return physical0(m)["region"].(map[string]any) }
