package main

import (
	"context"
	"fmt"

	"github.com/hushbuild/hushbuild/rewrite"
	"github.com/hushbuild/hushbuild/rewrite/report"
	"github.com/spf13/cobra"
)

func init() { register(newSecretsCommand) }

const secretsHelp = `
Prints the build flags that supply the secrets and ssh sockets the rewritten
FILE needs ("-" reads stdin), one per line, never a value:

    --secret id=PYPI_PASS,env=PYPI_PASS
    --secret id=.netrc,src=.netrc
    --ssh default

so that this works:

    docker buildx build $(hushbuild secrets Dockerfile) .

Secrets already mounted in FILE are included. Credential files of the
build context (--context) that the rewrite bind-mounts from it need no flag.

Fail closed: when the rewrite has errors they are printed on stderr,
nothing is printed on stdout and the exit status is 1. Exit status 2 means
a usage, read or parse error.`

func newSecretsCommand(s stdio) *cobra.Command {
	var (
		cf configFlags
		cx contextFlags
	)
	cmd := &cobra.Command{
		Use:               "secrets [flags] FILE",
		Short:             "print the --secret and --ssh build flags the rewritten Dockerfile needs",
		Long:              secretsHelp,
		ValidArgsFunction: completeDockerfiles,
	}
	cf.register(cmd.Flags())
	cx.register(cmd.Flags())
	cmd.RunE = runWith(func(ctx context.Context, cmd *cobra.Command, args []string) int {
		return runSecrets(ctx, cmd, args, s, &cf, &cx)
	})
	return cmd
}

func runSecrets(ctx context.Context, cmd *cobra.Command, files []string, s stdio, cf *configFlags, cx *contextFlags) int {
	if len(files) != 1 {
		return usageErrorf(cmd, s, "want exactly one Dockerfile, got %d", len(files))
	}
	cfg, err := cf.build()
	if err != nil {
		return usageErrorf(cmd, s, "%v", err)
	}
	if err := cx.check(); err != nil {
		return usageErrorf(cmd, s, "%v", err)
	}
	in := load(files[0], cfg, cx, s)
	if in.Err != nil {
		fmt.Fprintln(s.err, report.FormatError(in.Name, in.Err))
		return exitUsage
	}
	if in.Result.Err() != nil {
		printErrorFindings(s.err, in.File)
		fmt.Fprintf(s.err, "%s: the rewrite has errors; fix them first\n", report.DisplayName(in.Name))
		return exitFindings
	}
	for _, flag := range buildFlags(in.Result.Requirements) {
		fmt.Fprintln(s.out, flag)
	}
	return exitOK
}

// buildFlags lists the build flag of each requirement once, in the order
// of the requirements (the engine sorts them by id).
func buildFlags(reqs []rewrite.Requirement) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range reqs {
		flag := r.Flag
		if flag == "" {
			flag = deriveFlag(r)
		}
		if flag == "" || seen[flag] {
			continue
		}
		seen[flag] = true
		out = append(out, flag)
	}
	return out
}

// deriveFlag builds the flag of a requirement the engine left without one.
func deriveFlag(r rewrite.Requirement) string {
	switch r.Kind {
	case rewrite.SSH:
		id := r.ID
		if id == "" {
			id = "default"
		}
		return "--ssh " + id
	case rewrite.SecretEnv:
		env := r.Env
		if env == "" {
			env = r.ID
		}
		return "--secret id=" + r.ID + ",env=" + env
	case rewrite.SecretFile:
		if r.Src != "" {
			return "--secret id=" + r.ID + ",src=" + r.Src
		}
	}
	if r.ID != "" {
		return "--secret id=" + r.ID
	}
	return ""
}
