package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/hushbuild/hushbuild/internal/textdiff"
	"github.com/hushbuild/hushbuild/rewrite"
	"github.com/hushbuild/hushbuild/rewrite/report"
	"github.com/spf13/cobra"
)

func init() { register(newRewriteCommand) }

const rewriteHelp = `
Rewrites FILE so that no build secret reaches the image and prints the
result on stdout ("-" reads stdin). With -w the file is rewritten in place
(only when something changed; its mode is kept); with --diff a unified diff
is printed instead; with --format markdown a report of the findings and the
diff of each rewrite is printed (for a CI job summary or a pull-request
comment; with -w the files are rewritten too). Several files, or a DIR
standing for the Dockerfiles under it (as check finds them), need -w,
--diff or --format markdown. -o FILE writes what would go to stdout to FILE.

Credential files of the build context (--context, by default the
Dockerfile's directory, after its .dockerignore) that a COPY of the context
would bring in are excluded from that COPY and bind-mounted read-only on
the RUNs after it; --context '' or --no-context leaves them out of account.

Fail closed: when the engine finds something it cannot fix (an error
finding, such as a hard-coded credential), the errors are printed on stderr
as "file:line: [Rule] error: message (fix: ...)", nothing is printed or
written (the Markdown report says the file was not rewritten), and the exit
status is 1. Warnings go to stderr too unless -q. Exit status 2 means a
usage, read or Dockerfile parse error.`

// rewriteFormats are the output formats of rewrite: the Dockerfile itself
// (or its diff) and the Markdown report.
var rewriteFormats = []string{"dockerfile", "markdown"}

type rewriteOptions struct {
	write, diff, quiet bool
	format, output     string
	cf                 configFlags
	cx                 contextFlags
}

func newRewriteCommand(s stdio) *cobra.Command {
	o := &rewriteOptions{}
	cmd := &cobra.Command{
		Use:               "rewrite [flags] FILE|DIR...",
		Short:             "print the Dockerfile rewritten to use secret mounts (-w: in place, --diff: as a diff)",
		Long:              rewriteHelp,
		ValidArgsFunction: completeDockerfiles,
	}
	fl := cmd.Flags()
	fl.BoolVarP(&o.write, "write", "w", false, "write the result to the file instead of stdout")
	fl.BoolVar(&o.diff, "diff", false, "print a unified diff instead of the rewritten Dockerfile")
	fl.BoolVarP(&o.quiet, "quiet", "q", false, "do not print warnings and notes on stderr")
	fl.StringVar(&o.format, "format", "dockerfile", "output `format`: dockerfile (the rewrite, or its diff with --diff) or markdown (a report with the diff)")
	fl.StringVarP(&o.output, "output", "o", "", "write what would go to stdout to `file`")
	o.cf.register(fl)
	o.cx.register(fl)
	completeValues(cmd, "format", rewriteFormats...)
	cmd.RunE = runWith(func(ctx context.Context, cmd *cobra.Command, args []string) int {
		return runRewrite(ctx, cmd, args, s, o)
	})
	return cmd
}

func runRewrite(ctx context.Context, cmd *cobra.Command, args []string, s stdio, o *rewriteOptions) int {
	if !slices.Contains(rewriteFormats, o.format) {
		return usageErrorf(cmd, s, "--format %q: want %s", o.format, orList(rewriteFormats))
	}
	markdown := o.format == "markdown"
	if markdown && o.diff {
		return usageErrorf(cmd, s, "--diff and --format markdown cannot be used together (the Markdown report has the diff)")
	}
	if len(args) == 0 {
		return usageErrorf(cmd, s, "no Dockerfile given")
	}
	if err := checkFileArgs(args); err != nil {
		return usageErrorf(cmd, s, "%v", err)
	}
	for _, f := range args {
		if f == "-" && o.write {
			return usageErrorf(cmd, s, "-w cannot write to standard input")
		}
	}
	cfg, files, err := dockerfileInputs(&o.cf, &o.cx, args, s)
	if err != nil {
		return usageErrorf(cmd, s, "%v", err)
	}
	if len(files) > 1 && !o.write && !o.diff && !markdown {
		return usageErrorf(cmd, s, "several files need -w, --diff or --format markdown")
	}
	if len(files) == 0 {
		return exitOK // only ignore files, each skipped with a note
	}

	var out bytes.Buffer
	stdout := s.out
	if o.output != "" {
		stdout = &out
	}
	status := exitOK
	var mdFiles []report.MarkdownFile
	for _, name := range files {
		if ctx.Err() != nil {
			return exitUsage
		}
		in := load(name, cfg, &o.cx, s)
		md := report.MarkdownFile{File: in.File, Original: in.data}
		if in.Err != nil {
			fmt.Fprintln(s.err, report.FormatError(name, in.Err))
			status = max(status, exitUsage)
			mdFiles = append(mdFiles, md)
			continue
		}
		res := in.Result
		if res.Err() != nil {
			printErrorFindings(s.err, in.File)
			fmt.Fprintf(s.err, "%s: not rewritten: the Dockerfile would still leak a secret or could not be rewritten safely\n", report.DisplayName(name))
			status = max(status, exitFindings)
			mdFiles = append(mdFiles, md)
			continue
		}
		if !o.quiet {
			for _, fd := range res.Findings {
				fmt.Fprintln(s.err, report.FindingLine(name, fd))
			}
		}
		if o.diff {
			label := report.DisplayName(name)
			if err := textdiff.Unified(stdout, "a/"+label, "b/"+label, in.data, res.Output); err != nil {
				fmt.Fprintf(s.err, "hushbuild rewrite: %v\n", err)
				return exitUsage
			}
		}
		if o.write {
			if !res.Changed && string(res.Output) == string(in.data) {
				mdFiles = append(mdFiles, md)
				continue
			}
			if err := writeFileKeepMode(name, res.Output); err != nil {
				fmt.Fprintf(s.err, "hushbuild rewrite: %v\n", err)
				status = max(status, exitUsage)
			} else {
				md.Written = true
			}
			mdFiles = append(mdFiles, md)
			continue
		}
		mdFiles = append(mdFiles, md)
		if !o.diff && !markdown {
			if err := writeAll(stdout, res); err != nil {
				fmt.Fprintf(s.err, "hushbuild rewrite: %v\n", err)
				return exitUsage
			}
		}
	}
	if markdown {
		if err := report.Markdown(stdout, mdFiles, report.MarkdownOptions{Title: "hushbuild rewrite"}); err != nil {
			fmt.Fprintf(s.err, "hushbuild rewrite: %v\n", err)
			return exitUsage
		}
	}
	if o.output != "" && (out.Len() > 0 || markdown || o.diff) {
		if err := os.WriteFile(o.output, out.Bytes(), 0o644); err != nil {
			fmt.Fprintf(s.err, "hushbuild rewrite: -o: %v\n", err)
			return exitUsage
		}
	}
	return status
}

func writeAll(w io.Writer, res *rewrite.Result) error {
	_, err := w.Write(res.Output)
	return err
}
