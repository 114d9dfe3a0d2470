// Package checker is the part of the hushbuild frontend that runs inside the
// build, next to the user's commands: the frontend mounts its own image into
// BuildKit execs and runs its binary there (cmd/hushbuild-frontend dispatches
// the subcommands below). Only code running there ever sees a secret value;
// everything it reports names secrets by id and places by path, never a
// value, in any encoding.
//
// Two programs:
//   - ScanTree / `hushbuild-frontend check-tree`: scans a directory (the diff
//     of one build step, mounted read-only; or a cache mount) for every
//     secret value, in every encoding package verify knows, in file
//     contents, file names and symlink targets, and writes a Report.
//   - Exec / `hushbuild-frontend exec`: runs a build step's command as a
//     supervised child, masks every secret value in its stdout and stderr,
//     and after it exits scans the step's cache mounts.
//
// Secrets reach both as files: the frontend mounts secret ids[i] at
// DIR/<i> (a missing file is an optional secret that was not given). Ids
// travel on the command line, never in paths.
package checker

// Finding is one place that holds a secret value. It never holds the value.
type Finding struct {
	// Path is the file's path inside the scanned tree, starting with "/".
	Path string `json:"path"`
	// Where is what of the file holds it: "content", "name", "link"
	// (a symlink's target) or "xattr" (an extended attribute, which
	// Path names).
	Where string `json:"where"`
	// Secret is the secret's id; Field the key inside a secret file the
	// value came from ("" for the whole secret).
	Secret string `json:"secret"`
	Field  string `json:"field,omitempty"`
	// Encoding is how the value was written: raw, base64, url, json, hex,
	// shell (verify's encodings).
	Encoding string `json:"encoding"`
}

// Report is what one scan found and what it read.
type Report struct {
	Findings []Finding `json:"findings"`
	// Files and Bytes count what was read.
	Files int64 `json:"files"`
	Bytes int64 `json:"bytes"`
	// Skipped counts the entries not searched because they had not
	// changed since ScanOptions.ChangedSince.
	Skipped int64 `json:"skipped,omitempty"`
	// Removed lists the paths deleted with ScanOptions.Remove (redacted
	// like the findings' paths).
	Removed []string `json:"removed,omitempty"`
	// Notes say what was not searched and why (a value too short to
	// search, a special file), never a value.
	Notes []string `json:"notes,omitempty"`
}
