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

// FindKeys is `hushbuild-frontend find-keys --out FILE ROOT`: it writes to
// FILE the JSON list of the regular files under ROOT (the build context)
// that hold a private key (package keyfile), as paths relative to ROOT. It
// reads no secret and reports paths only. Anything it cannot read is an
// error (exit ExitInternal), which fails the build.
func FindKeys(args []string) int {
	return findKeys(args, os.Stderr)
}

func findKeys(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("find-keys", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "file to write the list to")
	if err := fs.Parse(args); err != nil {
		return ExitInternal
	}
	if *out == "" || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "hushbuild: find-keys: usage: find-keys --out FILE ROOT")
		return ExitInternal
	}
	files, err := keyfile.Walk(fs.Arg(0))
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
	if files == nil {
		files = []string{}
	}
	dt, err := json.Marshal(files)
	if err == nil {
		err = os.WriteFile(*out, dt, 0o644)
	}
	if err != nil {
		fmt.Fprintf(stderr, "hushbuild: find-keys: %v\n", err)
		return ExitInternal
	}
	fmt.Fprintf(stderr, "hushbuild: %d files of the build context hold a private key, %d of them archives that ADD would unpack with a credential file or a private key in them\n", len(files), len(archives))
	return 0
}
