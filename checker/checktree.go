package checker

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// CheckTree is `hushbuild-frontend check-tree --secrets DIR --id ID... --out
// FILE ROOT`: it scans ROOT (what one build step changed, or the files the
// frontend hands to BuildKit) for the secrets and writes the Report to
// FILE. It exits 0 when the scan read everything, findings or not: the
// frontend reads the report and decides. Anything it cannot scan is an
// error (exit ExitInternal), which fails the build.
func CheckTree(args []string) int {
	return checkTree(args, os.Stderr)
}

func checkTree(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("check-tree", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("secrets", "", "directory holding secret i as file <i>")
	out := fs.String("out", "", "report file to write")
	var ids stringList
	fs.Var(&ids, "id", "secret id (repeated, in the order of the files)")
	var fields stringList
	fs.Var(&fields, "fields-only", "secret id whose file is searched only for its secret fields (repeated)")
	if err := fs.Parse(args); err != nil {
		return ExitInternal
	}
	if *dir == "" || *out == "" || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "hushbuild: check-tree: usage: check-tree --secrets DIR --id ID... --out FILE ROOT")
		return ExitInternal
	}
	fieldsOnly := map[string]bool{}
	for _, id := range fields {
		fieldsOnly[id] = true
	}
	secrets, err := LoadSecretsFields(*dir, ids, fieldsOnly)
	if err != nil {
		fmt.Fprintf(stderr, "hushbuild: check-tree: %v\n", err)
		return ExitInternal
	}
	rep, err := ScanTree(fs.Arg(0), secrets, ScanOptions{})
	if err != nil {
		fmt.Fprintf(stderr, "hushbuild: check-tree: %v\n", err)
		return ExitInternal
	}
	if err := rep.WriteFile(*out); err != nil {
		fmt.Fprintf(stderr, "hushbuild: check-tree: %v\n", err)
		return ExitInternal
	}
	fmt.Fprintf(stderr, "hushbuild: checked %d files, %d bytes: %d findings\n", rep.Files, rep.Bytes, len(rep.Findings))
	return 0
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
