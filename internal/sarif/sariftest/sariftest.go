// Package sariftest validates SARIF logs in tests: against the official
// SARIF 2.1.0 JSON schema (OASIS, errata 01; testdata/sarif-schema-2.1.0.json)
// with a JSON-schema library, plus the rules the schema cannot express
// (§3.27.6 ruleIndex/ruleId consistency, line ranges, unique rule ids) and
// what GitHub code scanning needs to turn a result into an alert.
//
// It is imported by tests only, so that neither the schema nor the
// library reaches the binaries.
package sariftest

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Schema is the SARIF 2.1.0 JSON schema, errata 01, as OASIS publishes it
// (https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json);
// testdata/README.md says where this copy comes from.
//
//go:embed testdata/sarif-schema-2.1.0.json
var Schema []byte

// SchemaID is the schema's own id.
const SchemaID = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

var compiled = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema))
	if err != nil {
		return nil, fmt.Errorf("sariftest: the schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	c.AssertFormat()
	if err := c.AddResource(SchemaID, doc); err != nil {
		return nil, fmt.Errorf("sariftest: the schema: %w", err)
	}
	return c.Compile(SchemaID)
})

// Validate checks a serialized SARIF log against the SARIF 2.1.0 schema
// (format assertions on: "uri" values must be URIs, "date-time" RFC 3339)
// and the rules of the spec the schema cannot express: a result's ruleId
// and ruleIndex name the same rule (§3.27.5, §3.27.6), rule ids are
// unique within a driver (§3.49.3), endLine is not before startLine
// (§3.30.6). It returns every problem found, joined.
func Validate(data []byte) error {
	sch, err := compiled()
	if err != nil {
		return err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("sarif: not JSON: %w", err)
	}
	var errs []error
	if err := sch.Validate(doc); err != nil {
		errs = append(errs, fmt.Errorf("sarif: does not match the SARIF 2.1.0 schema: %w", err))
	}
	root, ok := doc.(map[string]any)
	if !ok {
		return errors.Join(errs...)
	}
	for i, r := range list(root["runs"]) {
		errs = append(errs, semantics(fmt.Sprintf("/runs/%d", i), obj(r))...)
	}
	return errors.Join(errs...)
}

// GitHub code scanning's limits on an upload
// (docs.github.com, "SARIF support for code scanning").
const (
	MaxRuns             = 20
	MaxResultsPerRun    = 25000
	MaxRulesPerRun      = 25000
	MaxLocations        = 10
	MaxTagsPerRule      = 20
	maxSecuritySeverity = 10.0
)

// ValidateGitHub is Validate plus what GitHub code scanning needs to ingest
// a log and show each result as an alert:
//
//   - at most MaxRuns runs; each run has a tool.driver.name and a results
//     array (possibly empty) of at most MaxResultsPerRun results, and at
//     most MaxRulesPerRun rules;
//   - each result has a ruleId, a message.text, and 1 to MaxLocations
//     locations; its first location has a physicalLocation whose
//     artifactLocation.uri is a relative URI (to the repository root) or a
//     file: URI, and whose region has a startLine;
//   - each rule has at most MaxTagsPerRule tags, and a security-severity,
//     when given, is a decimal string between 0.0 and 10.0;
//   - each result carries partialFingerprints: an upload through the API
//     computes none, and without them every run opens the alerts anew.
func ValidateGitHub(data []byte) error {
	err := Validate(data)
	doc, jerr := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if jerr != nil {
		return err
	}
	root := obj(doc)
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	add := func(path, format string, a ...any) {
		errs = append(errs, fmt.Errorf("github: %s: %s", path, fmt.Sprintf(format, a...)))
	}
	runs := list(root["runs"])
	if len(runs) > MaxRuns {
		add("/runs", "%d runs, GitHub takes at most %d", len(runs), MaxRuns)
	}
	for i, r := range runs {
		rp := fmt.Sprintf("/runs/%d", i)
		run := obj(r)
		driver := obj(obj(run["tool"])["driver"])
		if s, _ := driver["name"].(string); s == "" {
			add(rp+"/tool/driver", "no name")
		}
		rules := list(driver["rules"])
		if len(rules) > MaxRulesPerRun {
			add(rp+"/tool/driver/rules", "%d rules, GitHub takes at most %d", len(rules), MaxRulesPerRun)
		}
		for j, rl := range rules {
			p := fmt.Sprintf("%s/tool/driver/rules/%d", rp, j)
			props := obj(obj(rl)["properties"])
			if tags := list(props["tags"]); len(tags) > MaxTagsPerRule {
				add(p+"/properties/tags", "%d tags, GitHub keeps %d", len(tags), MaxTagsPerRule)
			}
			if v, ok := props["security-severity"]; ok {
				s, isString := v.(string)
				f, err := strconv.ParseFloat(s, 64)
				if !isString || err != nil || f < 0 || f > maxSecuritySeverity {
					add(p+"/properties/security-severity", "%v is not a decimal string between 0.0 and 10.0", v)
				}
			}
		}
		results, ok := run["results"].([]any)
		if !ok {
			add(rp, "no results array: GitHub needs one, empty when nothing was found")
		}
		if len(results) > MaxResultsPerRun {
			add(rp+"/results", "%d results, GitHub takes at most %d", len(results), MaxResultsPerRun)
		}
		for j, x := range results {
			p := fmt.Sprintf("%s/results/%d", rp, j)
			res := obj(x)
			if s, _ := res["ruleId"].(string); s == "" {
				add(p, "no ruleId")
			}
			if s, _ := obj(res["message"])["text"].(string); s == "" {
				add(p+"/message", "no text (GitHub shows message.text; it does not resolve message ids)")
			}
			if len(obj(res["partialFingerprints"])) == 0 {
				add(p, "no partialFingerprints")
			}
			locs := list(res["locations"])
			if len(locs) == 0 || len(locs) > MaxLocations {
				add(p+"/locations", "%d locations, GitHub needs 1 to %d", len(locs), MaxLocations)
				continue
			}
			phys := obj(obj(locs[0])["physicalLocation"])
			if phys == nil {
				add(p+"/locations/0", "no physicalLocation")
				continue
			}
			uri, _ := obj(phys["artifactLocation"])["uri"].(string)
			if uri == "" {
				add(p+"/locations/0/physicalLocation/artifactLocation", "no uri")
			} else if u, err := url.Parse(uri); err != nil || u.IsAbs() && u.Scheme != "file" {
				add(p+"/locations/0/physicalLocation/artifactLocation/uri", "%q is neither a relative URI nor a file: URI", uri)
			}
			region := obj(phys["region"])
			if n, ok := number(region["startLine"]); !ok || n < 1 {
				add(p+"/locations/0/physicalLocation/region", "no startLine")
			}
		}
	}
	return errors.Join(errs...)
}

// uriReference is the character set of an RFC 3986 URI reference, with
// well-formed percent escapes (the schema's "uri-reference" format, which
// draft 4 does not define, so the library does not assert it).
var uriReference = regexp.MustCompile(`^(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$`)

var pascal = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)

// CheckRuleNames checks the conventions of the SARIF SDK's validator for
// rule metadata: a rule's name is a friendly PascalCase identifier, not
// its id (SARIF1001, SARIF2012), and it has help text. It is stricter than
// GitHub and the spec, and hushbuild's logs follow it.
func CheckRuleNames(data []byte) error {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("sarif: not JSON: %w", err)
	}
	var errs []error
	for i, r := range list(obj(doc)["runs"]) {
		for j, rl := range list(obj(obj(obj(r)["tool"])["driver"])["rules"]) {
			p := fmt.Sprintf("/runs/%d/tool/driver/rules/%d", i, j)
			rule := obj(rl)
			id, _ := rule["id"].(string)
			name, _ := rule["name"].(string)
			switch {
			case name == "":
				errs = append(errs, fmt.Errorf("%s (%s): no name", p, id))
			case alnum(name) == alnum(id):
				errs = append(errs, fmt.Errorf("%s (%s): the name is the id", p, id))
			case !pascal.MatchString(name):
				errs = append(errs, fmt.Errorf("%s (%s): name %q is not a PascalCase identifier", p, id, name))
			}
			if s, _ := obj(rule["help"])["text"].(string); s == "" {
				errs = append(errs, fmt.Errorf("%s (%s): no help text", p, id))
			}
		}
	}
	return errors.Join(errs...)
}

// semantics checks one run for what the schema cannot say.
func semantics(rp string, run map[string]any) []error {
	var errs []error
	add := func(path, format string, a ...any) {
		errs = append(errs, fmt.Errorf("sarif: %s: %s", path, fmt.Sprintf(format, a...)))
	}
	rules := list(obj(obj(run["tool"])["driver"])["rules"])
	seen := map[string]bool{}
	var ids []string
	for j, rl := range rules {
		id, _ := obj(rl)["id"].(string)
		if seen[id] {
			add(fmt.Sprintf("%s/tool/driver/rules/%d", rp, j), "rule id %q is not unique", id)
		}
		seen[id] = true
		ids = append(ids, id)
	}
	for j, x := range list(run["results"]) {
		p := fmt.Sprintf("%s/results/%d", rp, j)
		res := obj(x)
		ruleID, hasID := res["ruleId"].(string)
		if n, ok := number(res["ruleIndex"]); ok {
			switch {
			case n >= len(ids):
				add(p+"/ruleIndex", "%d is past the %d rules of the driver", n, len(ids))
			case hasID && ids[n] != ruleID:
				add(p, "rule %d is %q but ruleId is %q", n, ids[n], ruleID)
			}
		}
		for k, l := range list(res["locations"]) {
			if uri, ok := obj(obj(obj(l)["physicalLocation"])["artifactLocation"])["uri"].(string); ok && !uriReference.MatchString(uri) {
				add(fmt.Sprintf("%s/locations/%d/physicalLocation/artifactLocation/uri", p, k), "%q is not a URI reference (RFC 3986)", uri)
			}
			region := obj(obj(obj(l)["physicalLocation"])["region"])
			start, ok1 := number(region["startLine"])
			end, ok2 := number(region["endLine"])
			if ok1 && ok2 && end < start {
				add(fmt.Sprintf("%s/locations/%d/physicalLocation/region", p, k), "endLine %d is before startLine %d", end, start)
			}
		}
	}
	return errs
}

func obj(x any) map[string]any {
	m, _ := x.(map[string]any)
	return m
}

func list(x any) []any {
	l, _ := x.([]any)
	return l
}

// number reads an integer of a document decoded by jsonschema.UnmarshalJSON
// (json.Number).
func number(x any) (int, bool) {
	switch v := x.(type) {
	case interface{ Int64() (int64, error) }:
		n, err := v.Int64()
		return int(n), err == nil
	case float64:
		return int(v), v == float64(int(v))
	}
	return 0, false
}

// alnum is s lower-cased without what is not a letter or digit, so that
// "KnownSecret" and "known-secret" compare equal.
func alnum(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return -1
	}, s)
}
