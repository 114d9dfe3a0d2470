package sariftest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/hushbuild/hushbuild/internal/sarif"
)

func intp(i int) *int { return &i }

func sampleLog() *sarif.Log {
	return sarif.NewLog(sarif.Run{
		Tool: sarif.Tool{Driver: sarif.ToolComponent{
			Name:           "hushbuild",
			Version:        "v1.2.3",
			InformationURI: "https://github.com/hushbuild/hushbuild",
			Rules: []sarif.ReportingDescriptor{{
				ID:                   "SecretArg",
				Name:                 "DoNotPassSecretsInArg",
				ShortDescription:     &sarif.MultiformatMessageString{Text: "A secret ARG."},
				Help:                 &sarif.MultiformatMessageString{Text: "Mount it."},
				HelpURI:              "https://github.com/hushbuild/hushbuild/blob/main/docs/rules/secret-arg.md",
				DefaultConfiguration: &sarif.ReportingConfiguration{Level: sarif.LevelWarning},
				Properties:           sarif.Properties{"tags": []string{"security"}, "security-severity": "5.5"},
			}},
		}},
		Invocations: []sarif.Invocation{{ExecutionSuccessful: true}},
		Results: []sarif.Result{{
			RuleID:    "SecretArg",
			RuleIndex: intp(0),
			Level:     sarif.LevelWarning,
			Message:   sarif.Message{Text: "ARG TOKEN is a secret."},
			Locations: []sarif.Location{{PhysicalLocation: &sarif.PhysicalLocation{
				ArtifactLocation: sarif.ArtifactLocation{URI: "app/Dockerfile", URIBaseID: sarif.SrcRoot},
				Region:           &sarif.Region{StartLine: 3, EndLine: 4},
			}}},
			PartialFingerprints: map[string]string{"hushbuild/v1": "00"},
		}},
	})
}

// TestSchemaFile pins the schema's bytes (testdata/README.md says where it
// comes from) and checks that it is the one SARIF logs name.
func TestSchemaFile(t *testing.T) {
	sum := sha256.Sum256(Schema)
	if got := hex.EncodeToString(sum[:]); got != "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e" {
		t.Errorf("testdata/sarif-schema-2.1.0.json changed: sha256 %s", got)
	}
	var doc struct{ ID string }
	if err := json.Unmarshal(Schema, &doc); err != nil || doc.ID != SchemaID || SchemaID != sarif.SchemaURI {
		t.Errorf("schema id %q (%v), want %q = sarif.SchemaURI %q", doc.ID, err, SchemaID, sarif.SchemaURI)
	}
	if _, err := compiled(); err != nil {
		t.Fatal(err)
	}
}

func TestWriteValidates(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleLog().Write(&buf); err != nil {
		t.Fatal(err)
	}
	if err := ValidateGitHub(buf.Bytes()); err != nil {
		t.Fatalf("a log written by package sarif does not validate:\n%v\n%s", err, buf.Bytes())
	}
	if err := CheckRuleNames(buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	// An empty log (no runs) is valid SARIF too.
	buf.Reset()
	if err := sarif.NewLog().Write(&buf); err != nil {
		t.Fatal(err)
	}
	if err := ValidateGitHub(buf.Bytes()); err != nil {
		t.Fatalf("empty log: %v\n%s", err, buf.Bytes())
	}
}

// TestValidateRejects breaks a valid log one property at a time and checks
// that the validator rejects it, naming where.
func TestValidateRejects(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(m map[string]any)
		github bool // only ValidateGitHub rejects it
		want   []string
	}{
		{name: "no version", edit: func(m map[string]any) { delete(m, "version") }, want: []string{"missing property 'version'"}},
		{name: "wrong version", edit: func(m map[string]any) { m["version"] = "2.0.0" }, want: []string{"'/version'", "2.1.0"}},
		{name: "no runs", edit: func(m map[string]any) { delete(m, "runs") }, want: []string{"missing property 'runs'"}},
		{name: "unknown root property", edit: func(m map[string]any) { m["extra"] = 1 }, want: []string{"additional properties 'extra' not allowed"}},
		{name: "relative schema", edit: func(m map[string]any) { m["$schema"] = "sarif.json" }, want: []string{"'/$schema'", "uri"}},
		{name: "no tool", edit: func(m map[string]any) { delete(run(m), "tool") }, want: []string{"'/runs/0'", "missing property 'tool'"}},
		{name: "no driver name", edit: func(m map[string]any) { delete(driver(m), "name") }, want: []string{"'/runs/0/tool/driver'", "missing property 'name'"}},
		{name: "relative informationUri", edit: func(m map[string]any) { driver(m)["informationUri"] = "hushbuild" }, want: []string{"'/runs/0/tool/driver/informationUri'"}},
		{name: "misspelt helpUri", edit: func(m map[string]any) { rule0(m)["helpURI"] = rule0(m)["helpUri"] }, want: []string{"additional properties 'helpURI' not allowed"}},
		{name: "no rule id", edit: func(m map[string]any) { delete(rule0(m), "id") }, want: []string{"'/runs/0/tool/driver/rules/0'", "missing property 'id'"}},
		{name: "duplicate rule id", edit: func(m map[string]any) {
			d := driver(m)
			d["rules"] = append(d["rules"].([]any), rule0(m))
		}, want: []string{"rule id \"SecretArg\" is not unique"}},
		{name: "shortDescription without text", edit: func(m map[string]any) { rule0(m)["shortDescription"] = map[string]any{} }, want: []string{"shortDescription'", "missing property 'text'"}},
		{name: "bad default level", edit: func(m map[string]any) {
			rule0(m)["defaultConfiguration"] = map[string]any{"level": "warn"}
		}, want: []string{"defaultConfiguration/level'"}},
		{name: "no message", edit: func(m map[string]any) { delete(result0(m), "message") }, want: []string{"'/runs/0/results/0'", "missing property 'message'"}},
		{name: "bad level", edit: func(m map[string]any) { result0(m)["level"] = "info" }, want: []string{"'/runs/0/results/0/level'"}},
		{name: "ruleIndex out of range", edit: func(m map[string]any) { result0(m)["ruleIndex"] = 3 }, want: []string{"past the 1 rules"}},
		{name: "ruleIndex disagrees with ruleId", edit: func(m map[string]any) { result0(m)["ruleId"] = "Other" }, want: []string{`rule 0 is "SecretArg" but ruleId is "Other"`}},
		{name: "startLine 0", edit: func(m map[string]any) { region0(m)["startLine"] = 0 }, want: []string{"region/startLine'", "minimum"}},
		{name: "endLine before startLine", edit: func(m map[string]any) { region0(m)["endLine"] = 1 }, want: []string{"endLine 1 is before startLine 3"}},
		{name: "line is a string", edit: func(m map[string]any) { region0(m)["startLine"] = "3" }, want: []string{"region/startLine'", "want integer"}},
		{name: "uri with spaces", edit: func(m map[string]any) { physical0(m)["artifactLocation"] = map[string]any{"uri": "my file"} }, want: []string{"artifactLocation/uri", "not a URI reference"}},
		{name: "invocation without executionSuccessful", edit: func(m map[string]any) {
			run(m)["invocations"] = []any{map[string]any{}}
		}, want: []string{"missing property 'executionSuccessful'"}},
		{name: "duplicate tags", edit: func(m map[string]any) {
			rule0(m)["properties"] = map[string]any{"tags": []any{"a", "a"}}
		}, want: []string{"properties/tags'", "are equal"}},
		// GitHub code scanning is stricter than the spec.
		{name: "no results", github: true, edit: func(m map[string]any) { delete(run(m), "results") }, want: []string{"no results array"}},
		{name: "no ruleId", github: true, edit: func(m map[string]any) {
			delete(result0(m), "ruleId")
			delete(result0(m), "ruleIndex")
		}, want: []string{"/runs/0/results/0: no ruleId"}},
		{name: "no locations", github: true, edit: func(m map[string]any) { result0(m)["locations"] = []any{} }, want: []string{"0 locations"}},
		{name: "eleven locations", github: true, edit: func(m map[string]any) {
			l := result0(m)["locations"].([]any)
			for len(l) < 11 {
				l = append(l, l[0])
			}
			result0(m)["locations"] = l
		}, want: []string{"11 locations"}},
		{name: "no region", github: true, edit: func(m map[string]any) { delete(physical0(m), "region") }, want: []string{"no startLine"}},
		{name: "no startLine", edit: func(m map[string]any) { delete(region0(m), "startLine") }, want: []string{"missing property 'startLine'"}},
		{name: "no uri", github: true, edit: func(m map[string]any) { physical0(m)["artifactLocation"] = map[string]any{"uriBaseId": sarif.SrcRoot} }, want: []string{"no uri"}},
		{name: "https uri", github: true, edit: func(m map[string]any) {
			physical0(m)["artifactLocation"] = map[string]any{"uri": "https://example.com/Dockerfile"}
		}, want: []string{"neither a relative URI nor a file: URI"}},
		{name: "no fingerprints", github: true, edit: func(m map[string]any) { delete(result0(m), "partialFingerprints") }, want: []string{"no partialFingerprints"}},
		{name: "message id only", github: true, edit: func(m map[string]any) { result0(m)["message"] = map[string]any{"id": "default"} }, want: []string{"message: no text"}},
		{name: "security-severity a number", github: true, edit: func(m map[string]any) {
			rule0(m)["properties"] = map[string]any{"security-severity": 5.5}
		}, want: []string{"security-severity: 5.5 is not a decimal string"}},
		{name: "security-severity too high", github: true, edit: func(m map[string]any) {
			rule0(m)["properties"] = map[string]any{"security-severity": "11"}
		}, want: []string{"security-severity: 11 is not"}},
		{name: "too many tags", github: true, edit: func(m map[string]any) {
			var tags []any
			for i := range 21 {
				tags = append(tags, string(rune('a'+i)))
			}
			rule0(m)["properties"] = map[string]any{"tags": tags}
		}, want: []string{"21 tags"}},
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
			check := func(fn string, err error) {
				if err == nil {
					t.Errorf("%s accepted it", fn)
					return
				}
				for _, w := range tt.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("%s = %v\nwant it to contain %q", fn, err, w)
					}
				}
			}
			check("ValidateGitHub", ValidateGitHub(data))
			if err := Validate(data); tt.github && err != nil {
				t.Errorf("Validate (spec only) = %v, want nil", err)
			} else if !tt.github {
				check("Validate", err)
			}
		})
	}
}

func TestCheckRuleNames(t *testing.T) {
	for name, edit := range map[string]func(map[string]any){
		"no name":         func(m map[string]any) { delete(rule0(m), "name") },
		"name is the id":  func(m map[string]any) { rule0(m)["name"] = "secretarg" },
		"name not pascal": func(m map[string]any) { rule0(m)["name"] = "secret arg" },
		"no help":         func(m map[string]any) { delete(rule0(m), "help") },
	} {
		var buf bytes.Buffer
		sampleLog().Write(&buf)
		var m map[string]any
		json.Unmarshal(buf.Bytes(), &m)
		edit(m)
		data, _ := json.Marshal(m)
		if err := CheckRuleNames(data); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestValidateNotJSON(t *testing.T) {
	if err := Validate([]byte("{")); err == nil {
		t.Fatal("Validate accepted truncated JSON")
	}
	if err := Validate([]byte("[]")); err == nil {
		t.Fatal("Validate accepted an array")
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
