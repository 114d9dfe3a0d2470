package sarif

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// Validate checks a serialized SARIF log against the rules of the SARIF
// 2.1.0 schema for the objects this package writes: required properties,
// property types, enumerations, minimums, absolute URIs where the schema
// says "format": "uri", no unknown properties (the schema sets
// additionalProperties to false on these objects), and ruleIndex/ruleId
// consistency (§3.27.6). Objects the package never writes are accepted
// without a deep check. It returns every problem found, joined.
func Validate(data []byte) error {
	return validate(data, false)
}

// ValidateGitHub is Validate plus what GitHub code scanning needs to turn a
// result into an alert: every run has a results array, every result has a
// ruleId and at least one location with a physicalLocation whose
// artifactLocation has a uri and whose region has a startLine.
func ValidateGitHub(data []byte) error {
	return validate(data, true)
}

func validate(data []byte, github bool) error {
	var root any
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	if err := dec.Decode(&root); err != nil {
		return fmt.Errorf("sarif: not JSON: %w", err)
	}
	v := &validator{github: github}
	v.log(root)
	return errors.Join(v.errs...)
}

type validator struct {
	github bool
	errs   []error
}

func (v *validator) errorf(path, format string, a ...any) {
	v.errs = append(v.errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, a...)))
}

// Property names each object type may have, from the 2.1.0 schema.
var allowed = map[string][]string{
	"sarifLog":      {"$schema", "version", "runs", "inlineExternalProperties", "properties"},
	"run":           {"tool", "invocations", "conversion", "language", "versionControlProvenance", "originalUriBaseIds", "artifacts", "logicalLocations", "graphs", "results", "automationDetails", "runAggregates", "baselineGuid", "redactionTokens", "defaultEncoding", "defaultSourceLanguage", "newlineSequences", "columnKind", "externalPropertyFileReferences", "threadFlowLocations", "taxonomies", "addresses", "translations", "policies", "webRequests", "webResponses", "specialLocations", "properties"},
	"tool":          {"driver", "extensions", "properties"},
	"toolComponent": {"guid", "name", "organization", "product", "productSuite", "shortDescription", "fullDescription", "fullName", "version", "semanticVersion", "dottedQuadFileVersion", "releaseDateUtc", "downloadUri", "informationUri", "globalMessageStrings", "notifications", "rules", "taxa", "locations", "language", "contents", "isComprehensive", "localizedDataSemanticVersion", "minimumRequiredLocalizedDataSemanticVersion", "associatedComponent", "translationMetadata", "supportedTaxonomies", "properties"},
	"reportingDesc": {"id", "deprecatedIds", "guid", "deprecatedGuids", "name", "deprecatedNames", "shortDescription", "fullDescription", "messageStrings", "defaultConfiguration", "helpUri", "help", "relationships", "properties"},
	"multiformat":   {"text", "markdown", "properties"},
	"reportingConf": {"enabled", "level", "rank", "parameters", "properties"},
	"result":        {"ruleId", "ruleIndex", "rule", "kind", "level", "message", "analysisTarget", "locations", "guid", "correlationGuid", "occurrenceCount", "partialFingerprints", "fingerprints", "stacks", "codeFlows", "graphs", "graphTraversals", "relatedLocations", "suppressions", "baselineState", "rank", "attachments", "hostedViewerUri", "workItemUris", "provenance", "fixes", "taxa", "webRequest", "webResponse", "properties"},
	"message":       {"text", "markdown", "id", "arguments", "properties"},
	"location":      {"id", "physicalLocation", "logicalLocations", "message", "annotations", "relationships", "properties"},
	"physical":      {"address", "artifactLocation", "region", "contextRegion", "properties"},
	"artifactLoc":   {"uri", "uriBaseId", "index", "description", "properties"},
	"region":        {"startLine", "startColumn", "endLine", "endColumn", "charOffset", "charLength", "byteOffset", "byteLength", "snippet", "message", "sourceLanguage", "properties"},
	"logical":       {"name", "index", "fullyQualifiedName", "decoratedName", "parentIndex", "kind", "properties"},
	"invocation":    {"commandLine", "arguments", "responseFiles", "startTimeUtc", "endTimeUtc", "exitCode", "ruleConfigurationOverrides", "notificationConfigurationOverrides", "toolExecutionNotifications", "toolConfigurationNotifications", "exitCodeDescription", "exitSignalName", "exitSignalNumber", "processStartFailureMessage", "executionSuccessful", "machine", "account", "processId", "executableLocation", "workingDirectory", "environmentVariables", "stdin", "stdout", "stderr", "stdoutStderr", "properties"},
	"notification":  {"locations", "message", "level", "threadId", "timeUtc", "exception", "descriptor", "associatedRule", "properties"},
	"propertyBag":   nil, // additionalProperties: true
}

var levels = []string{"none", "note", "warning", "error"}

// object checks that x is an object of the given type with no unknown
// properties and returns it.
func (v *validator) object(path string, x any, typ string) map[string]any {
	m, ok := x.(map[string]any)
	if !ok {
		v.errorf(path, "want an object (%s), got %s", typ, kind(x))
		return nil
	}
	if names := allowed[typ]; names != nil {
		var unknown []string
		for k := range m {
			if !contains(names, k) {
				unknown = append(unknown, k)
			}
		}
		sort.Strings(unknown)
		for _, k := range unknown {
			v.errorf(path, "unknown property %q in %s", k, typ)
		}
	}
	if p, ok := m["properties"]; ok {
		v.propertyBag(path+".properties", p)
	}
	return m
}

func (v *validator) required(path string, m map[string]any, names ...string) {
	for _, n := range names {
		if _, ok := m[n]; !ok {
			v.errorf(path, "missing required property %q", n)
		}
	}
}

func (v *validator) array(path string, x any) []any {
	a, ok := x.([]any)
	if !ok {
		v.errorf(path, "want an array, got %s", kind(x))
	}
	return a
}

func (v *validator) str(path string, x any) (string, bool) {
	s, ok := x.(string)
	if !ok {
		v.errorf(path, "want a string, got %s", kind(x))
	}
	return s, ok
}

func (v *validator) integer(path string, x any, min int64) (int64, bool) {
	n, ok := x.(json.Number)
	if !ok {
		v.errorf(path, "want an integer, got %s", kind(x))
		return 0, false
	}
	i, err := n.Int64()
	if err != nil {
		v.errorf(path, "want an integer, got %s", n)
		return 0, false
	}
	if i < min {
		v.errorf(path, "%d is below the minimum %d", i, min)
		return i, false
	}
	return i, true
}

func (v *validator) enum(path string, x any, values []string) {
	s, ok := v.str(path, x)
	if ok && !contains(values, s) {
		v.errorf(path, "%q is not one of %s", s, strings.Join(values, ", "))
	}
}

// absURI checks "format": "uri": an absolute URI.
func (v *validator) absURI(path string, x any) {
	s, ok := v.str(path, x)
	if !ok {
		return
	}
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() {
		v.errorf(path, "%q is not an absolute URI", s)
	}
}

// uriRef checks "format": "uri-reference".
func (v *validator) uriRef(path string, x any) {
	s, ok := v.str(path, x)
	if !ok {
		return
	}
	if _, err := url.Parse(s); err != nil || strings.ContainsAny(s, " \\\t\n") {
		v.errorf(path, "%q is not a URI reference", s)
	}
}

func (v *validator) propertyBag(path string, x any) {
	m, ok := x.(map[string]any)
	if !ok {
		v.errorf(path, "want an object (propertyBag), got %s", kind(x))
		return
	}
	if tags, ok := m["tags"]; ok {
		seen := map[string]bool{}
		for i, t := range v.array(path+".tags", tags) {
			s, ok := v.str(fmt.Sprintf("%s.tags[%d]", path, i), t)
			if ok && seen[s] {
				v.errorf(path+".tags", "tag %q is not unique", s)
			}
			seen[s] = true
		}
	}
}

func (v *validator) log(x any) {
	m := v.object("$", x, "sarifLog")
	if m == nil {
		return
	}
	v.required("$", m, "version", "runs")
	if s, ok := m["$schema"]; ok {
		v.absURI("$.$schema", s)
	}
	if ver, ok := m["version"]; ok {
		v.enum("$.version", ver, []string{Version})
	}
	if runs, ok := m["runs"]; ok {
		for i, r := range v.array("$.runs", runs) {
			v.run(fmt.Sprintf("$.runs[%d]", i), r)
		}
	}
}

func (v *validator) run(path string, x any) {
	m := v.object(path, x, "run")
	if m == nil {
		return
	}
	v.required(path, m, "tool")
	if v.github {
		v.required(path, m, "results")
	}
	var rules []string
	if t, ok := m["tool"]; ok {
		rules = v.tool(path+".tool", t)
	}
	if invs, ok := m["invocations"]; ok {
		for i, inv := range v.array(path+".invocations", invs) {
			v.invocation(fmt.Sprintf("%s.invocations[%d]", path, i), inv)
		}
	}
	if bases, ok := m["originalUriBaseIds"]; ok {
		if bm, ok := bases.(map[string]any); ok {
			for k, b := range bm {
				v.artifactLocation(path+".originalUriBaseIds."+k, b)
			}
		} else {
			v.errorf(path+".originalUriBaseIds", "want an object, got %s", kind(bases))
		}
	}
	if res, ok := m["results"]; ok {
		for i, r := range v.array(path+".results", res) {
			v.result(fmt.Sprintf("%s.results[%d]", path, i), r, rules)
		}
	}
}

// tool returns the rule ids of the driver, in order.
func (v *validator) tool(path string, x any) []string {
	m := v.object(path, x, "tool")
	if m == nil {
		return nil
	}
	v.required(path, m, "driver")
	d, ok := m["driver"]
	if !ok {
		return nil
	}
	path += ".driver"
	dm := v.object(path, d, "toolComponent")
	if dm == nil {
		return nil
	}
	v.required(path, dm, "name")
	if n, ok := dm["name"]; ok {
		if s, ok := v.str(path+".name", n); ok && s == "" {
			v.errorf(path+".name", "empty tool name")
		}
	}
	for _, k := range []string{"version", "semanticVersion", "fullName"} {
		if s, ok := dm[k]; ok {
			v.str(path+"."+k, s)
		}
	}
	for _, k := range []string{"informationUri", "downloadUri"} {
		if s, ok := dm[k]; ok {
			v.absURI(path+"."+k, s)
		}
	}
	var ids []string
	if rules, ok := dm["rules"]; ok {
		seen := map[string]bool{}
		for i, r := range v.array(path+".rules", rules) {
			id := v.rule(fmt.Sprintf("%s.rules[%d]", path, i), r)
			if id != "" && seen[id] {
				v.errorf(fmt.Sprintf("%s.rules[%d].id", path, i), "rule id %q is not unique", id)
			}
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids
}

func (v *validator) rule(path string, x any) string {
	m := v.object(path, x, "reportingDesc")
	if m == nil {
		return ""
	}
	v.required(path, m, "id")
	var id string
	if x, ok := m["id"]; ok {
		if s, ok := v.str(path+".id", x); ok {
			if s == "" {
				v.errorf(path+".id", "empty rule id")
			}
			id = s
		}
	}
	if x, ok := m["name"]; ok {
		v.str(path+".name", x)
	}
	for _, k := range []string{"shortDescription", "fullDescription", "help"} {
		if x, ok := m[k]; ok {
			v.multiformat(path+"."+k, x)
		}
	}
	if x, ok := m["helpUri"]; ok {
		v.absURI(path+".helpUri", x)
	}
	if x, ok := m["defaultConfiguration"]; ok {
		cpath := path + ".defaultConfiguration"
		if c := v.object(cpath, x, "reportingConf"); c != nil {
			if l, ok := c["level"]; ok {
				v.enum(cpath+".level", l, levels)
			}
			if e, ok := c["enabled"]; ok {
				if _, ok := e.(bool); !ok {
					v.errorf(cpath+".enabled", "want a boolean, got %s", kind(e))
				}
			}
			if r, ok := c["rank"]; ok {
				if n, ok := r.(json.Number); !ok {
					v.errorf(cpath+".rank", "want a number, got %s", kind(r))
				} else if f, err := n.Float64(); err != nil || f < -1 || f > 100 {
					v.errorf(cpath+".rank", "%s is outside [-1, 100]", n)
				}
			}
		}
	}
	return id
}

func (v *validator) multiformat(path string, x any) {
	m := v.object(path, x, "multiformat")
	if m == nil {
		return
	}
	v.required(path, m, "text")
	if t, ok := m["text"]; ok {
		v.str(path+".text", t)
	}
	if t, ok := m["markdown"]; ok {
		v.str(path+".markdown", t)
	}
}

func (v *validator) message(path string, x any) {
	m := v.object(path, x, "message")
	if m == nil {
		return
	}
	_, hasText := m["text"]
	_, hasID := m["id"]
	if !hasText && !hasID {
		v.errorf(path, "a message needs \"text\" or \"id\"")
	}
	if v.github && !hasText {
		v.errorf(path, "GitHub code scanning needs message.text")
	}
	for _, k := range []string{"text", "markdown", "id"} {
		if t, ok := m[k]; ok {
			v.str(path+"."+k, t)
		}
	}
}

func (v *validator) result(path string, x any, rules []string) {
	m := v.object(path, x, "result")
	if m == nil {
		return
	}
	v.required(path, m, "message")
	if v.github {
		v.required(path, m, "ruleId", "locations")
	}
	if msg, ok := m["message"]; ok {
		v.message(path+".message", msg)
	}
	var ruleID string
	if r, ok := m["ruleId"]; ok {
		ruleID, _ = v.str(path+".ruleId", r)
	}
	if r, ok := m["ruleIndex"]; ok {
		if i, ok := v.integer(path+".ruleIndex", r, -1); ok && i >= 0 {
			switch {
			case int(i) >= len(rules):
				v.errorf(path+".ruleIndex", "%d is past the %d rules of the driver", i, len(rules))
			case ruleID != "" && rules[i] != ruleID:
				v.errorf(path+".ruleIndex", "rule %d is %q but ruleId is %q", i, rules[i], ruleID)
			}
		}
	}
	if l, ok := m["level"]; ok {
		v.enum(path+".level", l, levels)
	}
	if k, ok := m["kind"]; ok {
		v.enum(path+".kind", k, []string{"notApplicable", "pass", "fail", "review", "open", "informational"})
	}
	if fp, ok := m["partialFingerprints"]; ok {
		if fm, ok := fp.(map[string]any); ok {
			for k, s := range fm {
				v.str(path+".partialFingerprints."+k, s)
			}
		} else {
			v.errorf(path+".partialFingerprints", "want an object, got %s", kind(fp))
		}
	}
	if locs, ok := m["locations"]; ok {
		a := v.array(path+".locations", locs)
		if v.github && a != nil && len(a) == 0 {
			v.errorf(path+".locations", "GitHub code scanning needs at least one location")
		}
		for i, l := range a {
			v.location(fmt.Sprintf("%s.locations[%d]", path, i), l)
		}
	}
}

func (v *validator) location(path string, x any) {
	m := v.object(path, x, "location")
	if m == nil {
		return
	}
	if v.github {
		v.required(path, m, "physicalLocation")
	}
	if p, ok := m["physicalLocation"]; ok {
		v.physical(path+".physicalLocation", p)
	}
	if ls, ok := m["logicalLocations"]; ok {
		for i, l := range v.array(path+".logicalLocations", ls) {
			lp := fmt.Sprintf("%s.logicalLocations[%d]", path, i)
			if lm := v.object(lp, l, "logical"); lm != nil {
				for _, k := range []string{"name", "fullyQualifiedName", "decoratedName", "kind"} {
					if s, ok := lm[k]; ok {
						v.str(lp+"."+k, s)
					}
				}
			}
		}
	}
	if msg, ok := m["message"]; ok {
		v.message(path+".message", msg)
	}
}

func (v *validator) physical(path string, x any) {
	m := v.object(path, x, "physical")
	if m == nil {
		return
	}
	_, hasArtifact := m["artifactLocation"]
	_, hasAddress := m["address"]
	if !hasArtifact && !hasAddress {
		v.errorf(path, "a physicalLocation needs \"artifactLocation\" or \"address\"")
	}
	if v.github {
		v.required(path, m, "artifactLocation", "region")
	}
	if a, ok := m["artifactLocation"]; ok {
		am := v.artifactLocation(path+".artifactLocation", a)
		if v.github && am != nil {
			v.required(path+".artifactLocation", am, "uri")
		}
	}
	for _, k := range []string{"region", "contextRegion"} {
		if r, ok := m[k]; ok {
			v.region(path+"."+k, r)
		}
	}
}

func (v *validator) artifactLocation(path string, x any) map[string]any {
	m := v.object(path, x, "artifactLoc")
	if m == nil {
		return nil
	}
	if u, ok := m["uri"]; ok {
		v.uriRef(path+".uri", u)
	}
	if b, ok := m["uriBaseId"]; ok {
		v.str(path+".uriBaseId", b)
	}
	if i, ok := m["index"]; ok {
		v.integer(path+".index", i, -1)
	}
	return m
}

func (v *validator) region(path string, x any) {
	m := v.object(path, x, "region")
	if m == nil {
		return
	}
	if v.github {
		v.required(path, m, "startLine")
	}
	var start, end int64
	var hasStart, hasEnd bool
	if s, ok := m["startLine"]; ok {
		start, hasStart = v.integer(path+".startLine", s, 1)
	}
	if e, ok := m["endLine"]; ok {
		end, hasEnd = v.integer(path+".endLine", e, 1)
	}
	if hasStart && hasEnd && end < start {
		v.errorf(path, "endLine %d is before startLine %d", end, start)
	}
	for _, k := range []string{"startColumn", "endColumn"} {
		if c, ok := m[k]; ok {
			v.integer(path+"."+k, c, 1)
		}
	}
}

func (v *validator) invocation(path string, x any) {
	m := v.object(path, x, "invocation")
	if m == nil {
		return
	}
	v.required(path, m, "executionSuccessful")
	if e, ok := m["executionSuccessful"]; ok {
		if _, ok := e.(bool); !ok {
			v.errorf(path+".executionSuccessful", "want a boolean, got %s", kind(e))
		}
	}
	for _, k := range []string{"toolExecutionNotifications", "toolConfigurationNotifications"} {
		ns, ok := m[k]
		if !ok {
			continue
		}
		for i, n := range v.array(path+"."+k, ns) {
			np := fmt.Sprintf("%s.%s[%d]", path, k, i)
			nm := v.object(np, n, "notification")
			if nm == nil {
				continue
			}
			v.required(np, nm, "message")
			if msg, ok := nm["message"]; ok {
				v.message(np+".message", msg)
			}
			if l, ok := nm["level"]; ok {
				v.enum(np+".level", l, levels)
			}
			if locs, ok := nm["locations"]; ok {
				for j, l := range v.array(np+".locations", locs) {
					// Notifications need not satisfy GitHub's result rules.
					sub := &validator{}
					sub.location(fmt.Sprintf("%s.locations[%d]", np, j), l)
					v.errs = append(v.errs, sub.errs...)
				}
			}
		}
	}
}

func kind(x any) string {
	switch x.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return fmt.Sprintf("%T", x)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
