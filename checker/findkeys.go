package checker

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/hushbuild/hushbuild/internal/keyfile"
)

// FindKeys is `hushbuild-frontend find-keys --out FILE [--tools TOOLS] ROOT`:
// it writes to FILE the JSON list of the regular files under ROOT (the
// build context) that hold a private key or are a build tool's credential
// configuration (package keyfile), as paths relative to ROOT, and to
// TOOLS the list of those that are the latter. It
// reads no secret and reports paths only. Anything it cannot read is an
// error (exit ExitInternal), which fails the build.
func FindKeys(args []string) int {
	return findKeys(args, os.Stderr)
}

func findKeys(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("find-keys", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "file to write the list to")
	toolsOut := fs.String("tools", "", "file to write the list of the files that are a build tool's credential configuration to (a part of the list)")
	if err := fs.Parse(args); err != nil {
		return ExitInternal
	}
	if *out == "" || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "hushbuild: find-keys: usage: find-keys --out FILE ROOT")
		return ExitInternal
	}
	files, tools, err := keyfile.WalkKinds(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "hushbuild: find-keys: %v\n", err)
		return ExitInternal
	}
	archives, err := archivesWithCredentials(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "hushbuild: find-keys: %v\n", err)
		return ExitInternal
	}
	for _, a := range archives {
		if !slices.Contains(files, a) {
			files = append(files, a)
		}
	}
	slices.Sort(files)
	err = writeList(*out, files)
	if err == nil && *toolsOut != "" {
		err = writeList(*toolsOut, tools)
	}
	if err != nil {
		fmt.Fprintf(stderr, "hushbuild: find-keys: %v\n", err)
		return ExitInternal
	}
	fmt.Fprintf(stderr, "hushbuild: %d files of the build context hold a private key or are a build tool's credential configuration (%d), %d of them archives that ADD would unpack with a credential file or a private key in them\n", len(files), len(tools), len(archives))
	return 0
}

// writeList writes list to name as a JSON array (never null).
func writeList(name string, list []string) error {
	if list == nil {
		list = []string{}
	}
	dt, err := json.Marshal(list)
	if err != nil {
		return err
	}
	return os.WriteFile(name, dt, 0o644)
}
