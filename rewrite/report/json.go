package report

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/hushbuild/hushbuild/rewrite"
)

// JSONVersion is the version of the JSON report schema. It changes only
// when a field changes meaning or goes away; new fields may be added.
const JSONVersion = 1

// JSONReport is the document `hushbuild check --format json` writes.
type JSONReport struct {
	Version int        `json:"version"`
	Files   []JSONFile `json:"files"`
	Summary Summary    `json:"summary"`
}

// JSONFile is the report of one Dockerfile. Error is set (and the lists are
// empty) when the file could not be read or parsed.
type JSONFile struct {
	File         string                `json:"file"`
	Error        string                `json:"error,omitempty"`
	Findings     []JSONFinding         `json:"findings"`
	Requirements []rewrite.Requirement `json:"requirements"`
}

// JSONFinding is one finding. Severity is "info", "warning" or "error";
// Docs is the rule's documentation page.
type JSONFinding struct {
	Rule     string        `json:"rule"`
	Severity string        `json:"severity"`
	Range    rewrite.Range `json:"range"`
	Message  string        `json:"message"`
	Fix      string        `json:"fix"`
	Fixed    bool          `json:"fixed"`
	Docs     string        `json:"docs"`
	// Suppression is set when a `# hushbuild:ignore=` comment covers the
	// finding: the comment's line and reason.
	Suppression *rewrite.Suppression `json:"suppression,omitempty"`
}

// JSONDocument builds the JSON report of files. Lists are never null.
func JSONDocument(files []File) JSONReport {
	doc := JSONReport{Version: JSONVersion, Files: []JSONFile{}}
	for _, f := range files {
		jf := JSONFile{File: DisplayName(f.Name), Findings: []JSONFinding{}, Requirements: []rewrite.Requirement{}}
		if f.Err != nil {
			jf.Error = FormatError(f.Name, f.Err)
		} else if f.Result != nil {
			for _, fd := range f.Result.Findings {
				var sup *rewrite.Suppression
				if fd.Suppressed() {
					s := fd.Suppression
					sup = &s
				}
				jf.Findings = append(jf.Findings, JSONFinding{
					Suppression: sup,
					Rule:        fd.Rule,
					Severity:    fd.Severity.String(),
					Range:       fd.Range,
					Message:     fd.Message,
					Fix:         fd.Fix,
					Fixed:       fd.Fixed,
					Docs:        docsURL(fd.Rule),
				})
			}
			for _, r := range f.Result.Requirements {
				if r.Lines == nil {
					r.Lines = []int{}
				}
				jf.Requirements = append(jf.Requirements, r)
			}
		}
		doc.Files = append(doc.Files, jf)
	}
	doc.Summary = Summarize(files)
	return doc
}

// JSON writes the JSON report of files, indented, with a final newline.
func JSON(w io.Writer, files []File) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(JSONDocument(files)); err != nil {
		return fmt.Errorf("writing JSON report: %w", err)
	}
	return nil
}
