// Command hushbuild-frontend is hushbuild's BuildKit gateway frontend: the
// image a Dockerfile names in its `# syntax=` line. It rewrites the
// Dockerfile so that build secrets reach the commands through secret and
// ssh mounts and nowhere else, then builds it with BuildKit's own
// Dockerfile builder.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/moby/buildkit/frontend/gateway/grpcclient"
	"github.com/moby/buildkit/util/appcontext"
	_ "github.com/moby/buildkit/util/grpcutil/encoding/proto"
	"github.com/moby/buildkit/util/stack"
	"github.com/sirupsen/logrus"

	"github.com/hushbuild/hushbuild/checker"
	"github.com/hushbuild/hushbuild/frontend"
)

func init() {
	stack.SetVersionInfo(Version, Revision)
}

func main() {
	// Subcommands run inside the build, next to the user's commands.
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "exec":
			os.Exit(checker.Exec(os.Args[2:]))
		case "check-tree":
			os.Exit(checker.CheckTree(os.Args[2:]))
		case "find-keys":
			os.Exit(checker.FindKeys(os.Args[2:]))
		case "fingerprint":
			os.Exit(checker.Fingerprint(os.Args[2:]))
		}
	}

	var version bool
	flag.BoolVar(&version, "version", false, "show version")
	flag.Parse()

	if version {
		fmt.Printf("%s %s %s %s\n", os.Args[0], Package, Version, Revision)
		os.Exit(0)
	}

	logrus.SetOutput(os.Stderr)
	if err := grpcclient.RunFromEnvironment(appcontext.Context(), frontend.Build); err != nil {
		logrus.Errorf("hushbuild-frontend: %v", err)
		os.Exit(1)
	}
}
