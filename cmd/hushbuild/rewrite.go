package main

import (
	"context"
	"fmt"
	"io"

	"github.com/hushbuild/hushbuild/internal/textdiff"
	"github.com/hushbuild/hushbuild/rewrite"
	"github.com/hushbuild/hushbuild/rewrite/report"
)

func init() {
	commands["rewrite"] = command{
		summary: "print the Dockerfile rewritten to use secret mounts (-w: in place, -diff: as a diff)",
		run:     runRewrite,
	}
}

const rewriteHelp = `
Rewrites FILE so that no build secret reaches the image and prints the
result on stdout ("-" reads stdin). With -w the file is rewritten in place
(only when something changed; its mode is kept); with -diff a unified diff is
printed instead. Several files may be given with -w or -diff.

Credential files of the build context (-context, by default the
Dockerfile's directory, after its .dockerignore) that a COPY of the context
would bring in are excluded from that COPY and bind-mounted read-only on
the RUNs after it; -context '' or -no-context leaves them out of account.

Fail closed: when the engine finds something it cannot fix (an error
finding, such as a hard-coded credential), the errors are printed on stderr
as "file:line: [Rule] error: message (fix: ...)", nothing is printed or
written, and the exit status is 1. Warnings go to stderr too unless -q.
Exit status 2 means a usage, read or Dockerfile parse error.`

func runRewrite(ctx context.Context, args []string, s stdio) int {
	fs := newFlagSet("rewrite", "[flags] FILE...", rewriteHelp)
	write := fs.Bool("w", false, "write the result to the file instead of stdout")
	diff := fs.Bool("diff", false, "print a unified diff instead of the rewritten Dockerfile")
	quiet := fs.Bool("q", false, "do not print warnings and notes on stderr")
	var cf configFlags
	cf.register(fs)
	var cx contextFlags
	cx.register(fs)
	files, code, done := parseFlags(fs, args, s)
	if done {
		return code
	}
	switch {
	case len(files) == 0:
		return usageErrorf(fs, s, "no Dockerfile given")
	case len(files) > 1 && !*write && !*diff:
		return usageErrorf(fs, s, "several files need -w or -diff")
	}
	if err := checkFileArgs(files); err != nil {
		return usageErrorf(fs, s, "%v", err)
	}
	for _, f := range files {
		if f == "-" && *write {
			return usageErrorf(fs, s, "-w cannot write to standard input")
		}
	}
	cfg, err := cf.build()
	if err != nil {
		return usageErrorf(fs, s, "%v", err)
	}
	if err := cx.check(); err != nil {
		return usageErrorf(fs, s, "%v", err)
	}

	status := exitOK
	for _, name := range files {
		if ctx.Err() != nil {
			return exitUsage
		}
		in := load(name, cfg, &cx, s)
		if in.Err != nil {
			fmt.Fprintln(s.err, report.FormatError(name, in.Err))
			status = max(status, exitUsage)
			continue
		}
		res := in.Result
		if res.Err() != nil {
			printErrorFindings(s.err, in.File)
			fmt.Fprintf(s.err, "%s: not rewritten: the Dockerfile would still leak a secret or could not be rewritten safely\n", report.DisplayName(name))
			status = max(status, exitFindings)
			continue
		}
		if !*quiet {
			for _, fd := range res.Findings {
				fmt.Fprintln(s.err, report.FindingLine(name, fd))
			}
		}
		if *diff {
			label := report.DisplayName(name)
			if err := textdiff.Unified(s.out, "a/"+label, "b/"+label, in.data, res.Output); err != nil {
				fmt.Fprintf(s.err, "hushbuild rewrite: %v\n", err)
				return exitUsage
			}
		}
		if *write {
			if !res.Changed && string(res.Output) == string(in.data) {
				continue
			}
			if err := writeFileKeepMode(name, res.Output); err != nil {
				fmt.Fprintf(s.err, "hushbuild rewrite: %v\n", err)
				status = max(status, exitUsage)
			}
			continue
		}
		if !*diff {
			if err := writeAll(s.out, res); err != nil {
				fmt.Fprintf(s.err, "hushbuild rewrite: %v\n", err)
				return exitUsage
			}
		}
	}
	return status
}

func writeAll(w io.Writer, res *rewrite.Result) error {
	_, err := w.Write(res.Output)
	return err
}
