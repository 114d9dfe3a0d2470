// Package sarif holds the subset of the SARIF 2.1.0 object model that
// hushbuild writes (OASIS Static Analysis Results Interchange Format,
// https://docs.oasis-open.org/sarif/sarif/v2.1.0/) and a writer. Tests
// validate what it writes with package sariftest, against the official
// JSON schema and GitHub code scanning's rules.
//
// Both `hushbuild check --format sarif` and the image scanner
// `hushbuild verify` write their reports with it.
package sarif

import (
	"encoding/json"
	"fmt"
	"io"
)

const (
	// Version is the only SARIF version this package writes.
	Version = "2.1.0"
	// SchemaURI is the JSON schema of SARIF 2.1.0 (errata 01).
	SchemaURI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	// SrcRoot is the conventional uriBaseId of paths relative to the root
	// of the analysed source tree.
	SrcRoot = "%SRCROOT%"
)

// Level is the severity of a result or notification (§3.27.10).
type Level string

const (
	LevelNone    Level = "none"
	LevelNote    Level = "note"
	LevelWarning Level = "warning"
	LevelError   Level = "error"
)

// Log is the top-level sarifLog object (§3.13).
type Log struct {
	Schema  string `json:"$schema"`
	Version string `json:"version"`
	Runs    []Run  `json:"runs"`
}

// NewLog returns a log of version 2.1.0 holding runs.
func NewLog(runs ...Run) *Log {
	if runs == nil {
		runs = []Run{}
	}
	return &Log{Schema: SchemaURI, Version: Version, Runs: runs}
}

// Run is one invocation of one tool (§3.14). Results is always written
// (possibly empty): the spec requires it when the log represents a scan.
type Run struct {
	Tool               Tool                        `json:"tool"`
	Invocations        []Invocation                `json:"invocations,omitempty"`
	OriginalURIBaseIDs map[string]ArtifactLocation `json:"originalUriBaseIds,omitempty"`
	Results            []Result                    `json:"results"`
	Properties         Properties                  `json:"properties,omitempty"`
}

// Tool describes the analysis tool (§3.18).
type Tool struct {
	Driver ToolComponent `json:"driver"`
}

// ToolComponent is the tool's driver (§3.19).
type ToolComponent struct {
	Name            string                `json:"name"`
	FullName        string                `json:"fullName,omitempty"`
	Version         string                `json:"version,omitempty"`
	SemanticVersion string                `json:"semanticVersion,omitempty"`
	InformationURI  string                `json:"informationUri,omitempty"`
	Rules           []ReportingDescriptor `json:"rules,omitempty"`
	Properties      Properties            `json:"properties,omitempty"`
}

// ReportingDescriptor describes one rule (§3.49).
type ReportingDescriptor struct {
	ID                   string                    `json:"id"`
	Name                 string                    `json:"name,omitempty"`
	ShortDescription     *MultiformatMessageString `json:"shortDescription,omitempty"`
	FullDescription      *MultiformatMessageString `json:"fullDescription,omitempty"`
	Help                 *MultiformatMessageString `json:"help,omitempty"`
	HelpURI              string                    `json:"helpUri,omitempty"`
	DefaultConfiguration *ReportingConfiguration   `json:"defaultConfiguration,omitempty"`
	Properties           Properties                `json:"properties,omitempty"`
}

// MultiformatMessageString is a text with an optional Markdown form (§3.12).
type MultiformatMessageString struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

// ReportingConfiguration is a rule's default configuration (§3.50).
type ReportingConfiguration struct {
	Level Level `json:"level,omitempty"`
}

// Result is one finding (§3.27).
type Result struct {
	RuleID string `json:"ruleId,omitempty"`
	// RuleIndex is the index of the rule in tool.driver.rules; nil leaves
	// it out.
	RuleIndex           *int              `json:"ruleIndex,omitempty"`
	Level               Level             `json:"level,omitempty"`
	Message             Message           `json:"message"`
	Locations           []Location        `json:"locations,omitempty"`
	PartialFingerprints map[string]string `json:"partialFingerprints,omitempty"`
	// Suppressions, when present, say the result is suppressed (§3.27.23):
	// GitHub code scanning closes such alerts as dismissed.
	Suppressions []Suppression `json:"suppressions,omitempty"`
	Properties   Properties    `json:"properties,omitempty"`
}

// SuppressionInSource is the kind of a suppression written in the analysed
// file itself, such as a comment (§3.35.2).
const SuppressionInSource = "inSource"

// Suppression is one request to suppress a result (§3.35).
type Suppression struct {
	Kind          string    `json:"kind"`
	Status        string    `json:"status,omitempty"`
	Justification string    `json:"justification,omitempty"`
	Location      *Location `json:"location,omitempty"`
}

// Message is a plain text message (§3.11).
type Message struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

// Location is where a result was found (§3.28).
type Location struct {
	PhysicalLocation *PhysicalLocation `json:"physicalLocation,omitempty"`
	LogicalLocations []LogicalLocation `json:"logicalLocations,omitempty"`
	Message          *Message          `json:"message,omitempty"`
}

// PhysicalLocation is a region of a file (§3.29).
type PhysicalLocation struct {
	ArtifactLocation ArtifactLocation `json:"artifactLocation"`
	Region           *Region          `json:"region,omitempty"`
}

// ArtifactLocation names a file by URI (§3.4).
type ArtifactLocation struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

// Region is a 1-based line (and optional column) range (§3.30).
type Region struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
	EndLine     int `json:"endLine,omitempty"`
	EndColumn   int `json:"endColumn,omitempty"`
}

// LogicalLocation names a construct rather than a file region, e.g. an
// image layer or a history entry (§3.33).
type LogicalLocation struct {
	Name               string `json:"name,omitempty"`
	FullyQualifiedName string `json:"fullyQualifiedName,omitempty"`
	Kind               string `json:"kind,omitempty"`
}

// Invocation reports how the run went (§3.20).
type Invocation struct {
	ExecutionSuccessful        bool           `json:"executionSuccessful"`
	ToolExecutionNotifications []Notification `json:"toolExecutionNotifications,omitempty"`
}

// Notification is a problem of the tool itself, such as an input it could
// not parse (§3.58).
type Notification struct {
	Level     Level      `json:"level,omitempty"`
	Message   Message    `json:"message"`
	Locations []Location `json:"locations,omitempty"`
}

// Properties is a property bag (§3.8).
type Properties map[string]any

// Write writes l as indented JSON followed by a newline.
func (l *Log) Write(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(l); err != nil {
		return fmt.Errorf("writing SARIF: %w", err)
	}
	return nil
}
