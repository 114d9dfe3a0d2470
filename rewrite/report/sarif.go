package report

import (
	"io"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/hushbuild/hushbuild/internal/sarif"
	"github.com/hushbuild/hushbuild/rewrite"
)

// Tool identity written in SARIF reports.
const (
	ToolName       = "hushbuild"
	InformationURI = "https://github.com/hushbuild/hushbuild"
)

// SARIFOptions tunes the SARIF report.
type SARIFOptions struct {
	// ToolVersion is tool.driver.version; empty leaves it out.
	ToolVersion string
	// BaseDir makes artifact URIs relative to it (GitHub code scanning
	// wants paths relative to the repository root, usually the working
	// directory). Files outside it get absolute file:// URIs. Empty keeps
	// the names as given.
	BaseDir string
}

// SARIF writes the SARIF 2.1.0 report of files.
func SARIF(w io.Writer, files []File, opt SARIFOptions) error {
	return SARIFLog(files, opt).Write(w)
}

// SARIFLog builds the SARIF log of files: one run whose driver lists every
// rule of the engine (id, description, documentation, default level), one
// result per finding, and an invocation that records files that could not
// be read or parsed as error notifications.
func SARIFLog(files []File, opt SARIFOptions) *sarif.Log {
	driver := sarif.ToolComponent{
		Name:           ToolName,
		Version:        opt.ToolVersion,
		InformationURI: InformationURI,
	}
	index := map[string]int{}
	addRule := func(d sarif.ReportingDescriptor) {
		index[d.ID] = len(driver.Rules)
		driver.Rules = append(driver.Rules, d)
	}
	for _, r := range rewrite.Rules {
		addRule(ruleDescriptor(r))
	}

	run := sarif.Run{Results: []sarif.Result{}}
	inv := sarif.Invocation{ExecutionSuccessful: true}
	fingerprints := fingerprinter{}
	for _, f := range files {
		uri := artifactURI(f.Name, opt.BaseDir)
		if f.Err != nil {
			inv.ExecutionSuccessful = false
			n := sarif.Notification{
				Level:   sarif.LevelError,
				Message: sarif.Message{Text: FormatError(f.Name, f.Err)},
			}
			loc := &sarif.PhysicalLocation{ArtifactLocation: sarif.ArtifactLocation{URI: uri}}
			if line := ErrorLine(f.Err); line > 0 {
				loc.Region = &sarif.Region{StartLine: line}
			}
			n.Locations = []sarif.Location{{PhysicalLocation: loc}}
			inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, n)
			continue
		}
		if f.Result == nil {
			continue
		}
		for _, fd := range f.Result.Findings {
			i, ok := index[fd.Rule]
			if !ok {
				// A rule newer than this renderer's list: still a valid,
				// self-describing log.
				addRule(sarif.ReportingDescriptor{
					ID:                   fd.Rule,
					Name:                 ruleName(fd.Rule),
					Help:                 &sarif.MultiformatMessageString{Text: "A rule of a newer engine: " + fd.Rule + "."},
					DefaultConfiguration: &sarif.ReportingConfiguration{Level: level(fd.Severity)},
				})
				i = index[fd.Rule]
			}
			start := max(fd.Range.Start, 1) // a finding without a line points at the top
			end := max(fd.Range.End, start)
			var sup []sarif.Suppression
			if fd.Suppressed() {
				sup = []sarif.Suppression{{
					Kind:          sarif.SuppressionInSource,
					Status:        "accepted",
					Justification: fd.Suppression.Reason,
					Location: &sarif.Location{PhysicalLocation: &sarif.PhysicalLocation{
						ArtifactLocation: sarif.ArtifactLocation{URI: uri},
						Region:           &sarif.Region{StartLine: fd.Suppression.Line},
					}},
				}}
			}
			run.Results = append(run.Results, sarif.Result{
				Suppressions: sup,
				RuleID:       fd.Rule,
				RuleIndex:    &i,
				Level:        level(fd.Severity),
				Message:      sarif.Message{Text: resultText(fd)},
				Locations: []sarif.Location{{PhysicalLocation: &sarif.PhysicalLocation{
					ArtifactLocation: sarif.ArtifactLocation{URI: uri},
					Region:           &sarif.Region{StartLine: start, EndLine: end},
				}}},
				PartialFingerprints: fingerprints.next(fd.Rule, uri, fd),
				Properties:          sarif.Properties{"fixed": fd.Fixed},
			})
		}
	}
	run.Tool = sarif.Tool{Driver: driver}
	run.Invocations = []sarif.Invocation{inv}
	return sarif.NewLog(run)
}

func ruleDescriptor(r rewrite.Rule) sarif.ReportingDescriptor {
	url := r.DocsURL()
	return sarif.ReportingDescriptor{
		ID:               r.Name,
		Name:             ruleName(r.Name),
		ShortDescription: &sarif.MultiformatMessageString{Text: r.Description},
		FullDescription:  &sarif.MultiformatMessageString{Text: r.Description},
		Help: &sarif.MultiformatMessageString{
			Text:     r.Description + "\n\nDocumentation: " + url,
			Markdown: r.Description + "\n\n[Documentation](" + url + ")",
		},
		HelpURI:              url,
		DefaultConfiguration: &sarif.ReportingConfiguration{Level: level(r.Severity)},
		Properties: sarif.Properties{
			"tags": []string{"security", "secrets", "dockerfile"},
			// GitHub code scanning shows this as the alert's severity.
			"security-severity": securitySeverity(r.Severity),
		},
	}
}

func resultText(f rewrite.Finding) string {
	s := oneLine(f.Message)
	if f.Fix != "" {
		label := "Fix: "
		if f.Fixed {
			label = "Fixed by the rewrite: "
		}
		if !strings.HasSuffix(s, ".") {
			s += "."
		}
		s += " " + label + oneLine(f.Fix)
	}
	return s
}

func level(s rewrite.Severity) sarif.Level {
	switch s {
	case rewrite.SeverityInfo:
		return sarif.LevelNote
	case rewrite.SeverityWarning:
		return sarif.LevelWarning
	}
	return sarif.LevelError
}

// securitySeverity maps onto GitHub's scale: low < 4, medium < 7, high < 9.
func securitySeverity(s rewrite.Severity) string {
	switch s {
	case rewrite.SeverityInfo:
		return "2.0"
	case rewrite.SeverityWarning:
		return "5.5"
	}
	return "8.0"
}

// artifactURI is the URI of a file: relative to base when it lies under
// it, an absolute file URI when it does not, "stdin" for standard input.
func artifactURI(name, base string) string {
	if name == "-" {
		return "stdin"
	}
	p := name
	if base != "" {
		abs, err := filepath.Abs(name)
		if err == nil {
			if rel, err := filepath.Rel(base, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				p = rel
			} else {
				p = abs
			}
		}
	}
	p = filepath.ToSlash(p)
	if filepath.IsAbs(filepath.FromSlash(p)) || strings.HasPrefix(p, "/") {
		if !strings.HasPrefix(p, "/") {
			p = "/" + p // Windows drive letter
		}
		return (&url.URL{Scheme: "file", Path: p}).String()
	}
	return (&url.URL{Path: p}).String()
}
