package main

import (
	"context"
	"fmt"

	"github.com/hushbuild/hushbuild/rewrite"
	"github.com/hushbuild/hushbuild/rewrite/report"
)

func init() {
	commands["secrets"] = command{
		summary: "print the --secret and --ssh build flags the rewritten Dockerfile needs",
		run:     runSecrets,
	}
}

const secretsHelp = `
Prints the build flags that supply the secrets and ssh sockets the rewritten
FILE needs ("-" reads stdin), one per line, never a value:

    --secret id=PYPI_PASS,env=PYPI_PASS
    --secret id=.netrc,src=.netrc
    --ssh default

so that this works:

    docker buildx build $(hushbuild secrets Dockerfile) .

Secrets already mounted in FILE are included. Credential files of the
build context (-context) that the rewrite bind-mounts from it need no flag.

Fail closed: when the rewrite has errors they are printed on stderr,
nothing is printed on stdout and the exit status is 1. Exit status 2 means
a usage, read or parse error.`

func runSecrets(ctx context.Context, args []string, s stdio) int {
	fs := newFlagSet("secrets", "[flags] FILE", secretsHelp)
	var cf configFlags
	cf.register(fs)
	var cx contextFlags
	cx.register(fs)
	files, code, done := parseFlags(fs, args, s)
	if done {
		return code
	}
	if len(files) != 1 {
		return usageErrorf(fs, s, "want exactly one Dockerfile, got %d", len(files))
	}
	cfg, err := cf.build()
	if err != nil {
		return usageErrorf(fs, s, "%v", err)
	}
	if err := cx.check(); err != nil {
		return usageErrorf(fs, s, "%v", err)
	}
	in := load(files[0], cfg, &cx, s)
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
