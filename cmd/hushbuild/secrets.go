package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

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

--format says what to print (never a value):

  flags    the build flags above (the default)
  text     one line per secret: its id, where the build reads it from, the
           lines of FILE that use it
  compose  the build.secrets (and build.ssh) of a compose service and the
           top-level secrets: block that declares them
  bake     the secret = [...] (and ssh = [...]) lines of a bake target
  gha      the secret-envs:, secret-files: and ssh: inputs of
           docker/build-push-action
  json     the requirements as a JSON array

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
		Short:             "print the build flags, or the compose, bake, GitHub Actions or JSON lines, that supply the secrets the rewritten Dockerfile needs",
		Long:              secretsHelp,
		ValidArgsFunction: completeDockerfiles,
	}
	cf.register(cmd.Flags())
	cx.register(cmd.Flags())
	format := cmd.Flags().String("format", "flags", "output format: flags, text, compose, bake, gha or json")
	cmd.RunE = runWith(func(ctx context.Context, cmd *cobra.Command, args []string) int {
		return runSecrets(ctx, cmd, args, s, &cf, &cx, *format)
	})
	return cmd
}

func runSecrets(ctx context.Context, cmd *cobra.Command, files []string, s stdio, cf *configFlags, cx *contextFlags, format string) int {
	if len(files) != 1 {
		return usageErrorf(cmd, s, "want exactly one Dockerfile, got %d", len(files))
	}
	printer, ok := secretsFormats[format]
	if !ok {
		return usageErrorf(cmd, s, "unknown format %q (want flags, text, compose, bake, gha or json)", format)
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
	if err := printer(s.out, in.Result.Requirements); err != nil {
		fmt.Fprintf(s.err, "hushbuild secrets: %v\n", err)
		return exitUsage
	}
	return exitOK
}

// secretsFormats print the requirements of a Dockerfile for one kind of
// build invocation.
var secretsFormats = map[string]func(io.Writer, []rewrite.Requirement) error{
	"flags": func(w io.Writer, reqs []rewrite.Requirement) error {
		for _, flag := range buildFlags(reqs) {
			fmt.Fprintln(w, flag)
		}
		return nil
	},
	"text":    secretsText,
	"compose": secretsCompose,
	"bake":    secretsBake,
	"gha":     secretsGHA,
	"json": func(w io.Writer, reqs []rewrite.Requirement) error {
		if reqs == nil {
			reqs = []rewrite.Requirement{}
		}
		b, err := json.MarshalIndent(reqs, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	},
}

// requirements splits reqs by kind, each once by id.
type requirements struct {
	env, file, ssh []rewrite.Requirement
}

func splitRequirements(reqs []rewrite.Requirement) requirements {
	var r requirements
	seen := map[string]bool{}
	for _, q := range reqs {
		key := string(q.Kind) + "\x00" + q.ID
		if seen[key] {
			continue
		}
		seen[key] = true
		switch q.Kind {
		case rewrite.SecretEnv:
			if q.Env == "" {
				q.Env = q.ID
			}
			r.env = append(r.env, q)
		case rewrite.SecretFile:
			r.file = append(r.file, q)
		case rewrite.SSH:
			if q.ID == "" {
				q.ID = "default"
			}
			r.ssh = append(r.ssh, q)
		}
	}
	return r
}

func lineList(lines []int) string {
	s := make([]string, len(lines))
	for i, l := range lines {
		s[i] = fmt.Sprint(l)
	}
	return strings.Join(s, ",")
}

func secretsText(w io.Writer, reqs []rewrite.Requirement) error {
	if len(reqs) == 0 {
		fmt.Fprintln(w, "no secrets")
		return nil
	}
	for _, q := range reqs {
		var from string
		switch q.Kind {
		case rewrite.SecretEnv:
			env := q.Env
			if env == "" {
				env = q.ID
			}
			from = "environment variable " + env
		case rewrite.SecretFile:
			from = "file " + q.Src
			if q.Src == "" {
				from = "a file (--secret id=" + q.ID + ",src=PATH)"
			}
		case rewrite.SSH:
			from = "ssh agent socket"
		}
		req := "optional"
		if q.Required {
			req = "required"
		}
		fmt.Fprintf(w, "%s\t%s, %s, line %s\n", q.ID, from, req, lineList(q.Lines))
	}
	return nil
}

// fileSecret is the src of a file secret, or a placeholder the user fills
// in.
func fileSecret(q rewrite.Requirement) string {
	if q.Src != "" {
		return q.Src
	}
	return "PATH/TO/" + q.ID
}

func secretsCompose(w io.Writer, reqs []rewrite.Requirement) error {
	r := splitRequirements(reqs)
	if len(r.env)+len(r.file)+len(r.ssh) == 0 {
		fmt.Fprintln(w, "# no secrets")
		return nil
	}
	fmt.Fprintln(w, "# under the service's build:")
	if len(r.env)+len(r.file) > 0 {
		fmt.Fprintln(w, "secrets:")
		for _, q := range append(append([]rewrite.Requirement{}, r.env...), r.file...) {
			fmt.Fprintf(w, "  - %s\n", q.ID)
		}
	}
	if len(r.ssh) > 0 {
		fmt.Fprintln(w, "ssh:")
		for _, q := range r.ssh {
			fmt.Fprintf(w, "  - %s\n", q.ID)
		}
	}
	if len(r.env)+len(r.file) > 0 {
		fmt.Fprintln(w, "# at the top level of the compose file:")
		fmt.Fprintln(w, "secrets:")
		for _, q := range r.env {
			fmt.Fprintf(w, "  %s:\n    environment: %s\n", q.ID, q.Env)
		}
		for _, q := range r.file {
			fmt.Fprintf(w, "  %s:\n    file: %s\n", q.ID, fileSecret(q))
		}
	}
	return nil
}

func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, it := range items {
		q[i] = fmt.Sprintf("%q", it)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func secretsBake(w io.Writer, reqs []rewrite.Requirement) error {
	r := splitRequirements(reqs)
	var secrets, ssh []string
	for _, q := range r.env {
		secrets = append(secrets, "id="+q.ID+",env="+q.Env)
	}
	for _, q := range r.file {
		secrets = append(secrets, "id="+q.ID+",src="+fileSecret(q))
	}
	for _, q := range r.ssh {
		ssh = append(ssh, q.ID)
	}
	if len(secrets)+len(ssh) == 0 {
		fmt.Fprintln(w, "# no secrets")
		return nil
	}
	if len(secrets) > 0 {
		fmt.Fprintf(w, "secret = %s\n", quoteList(secrets))
	}
	if len(ssh) > 0 {
		fmt.Fprintf(w, "ssh = %s\n", quoteList(ssh))
	}
	return nil
}

func secretsGHA(w io.Writer, reqs []rewrite.Requirement) error {
	r := splitRequirements(reqs)
	if len(r.env)+len(r.file)+len(r.ssh) == 0 {
		fmt.Fprintln(w, "# no secrets")
		return nil
	}
	fmt.Fprintln(w, "# inputs of docker/build-push-action (with:); the step's env: supplies the variables")
	if len(r.env) > 0 {
		fmt.Fprintln(w, "secret-envs: |")
		for _, q := range r.env {
			fmt.Fprintf(w, "  %s=%s\n", q.ID, q.Env)
		}
	}
	if len(r.file) > 0 {
		fmt.Fprintln(w, "secret-files: |")
		for _, q := range r.file {
			fmt.Fprintf(w, "  %s=%s\n", q.ID, fileSecret(q))
		}
	}
	if len(r.ssh) > 0 {
		fmt.Fprintln(w, "ssh: |")
		for _, q := range r.ssh {
			fmt.Fprintf(w, "  %s\n", q.ID)
		}
	}
	return nil
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
