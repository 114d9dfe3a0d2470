package main

import (
	"context"
	"fmt"
	"os"

	"github.com/hushfile/hushfile/rewrite"
	"github.com/hushfile/hushfile/rewrite/report"
)

func init() {
	commands["check"] = command{
		summary: "report secret leaks in Dockerfiles (text, JSON or SARIF); exit 1 at or above -fail-on",
		run:     runCheck,
	}
}

const checkHelp = `
Reports what hushfile finds in each FILE ("-" reads stdin) without changing
it. The text format prints one line per finding:

    file:line: [Rule] severity: message (fixed: what the rewrite does)
    file:line: [Rule] severity: message (fix: what you must do)

-format json writes one document for all files; -format sarif writes SARIF
2.1.0 for GitHub code scanning, with paths relative to the working directory.

Exit status: 0 when no finding is at or above -fail-on, 1 when one is, 2 on
usage, read or Dockerfile parse errors (printed as file:line: message on
stderr; the other files are still reported).`

func runCheck(ctx context.Context, args []string, s stdio) int {
	fs := newFlagSet("check", "[flags] FILE...", checkHelp)
	format := fs.String("format", "text", "output `format`: text, json or sarif")
	failOn := fs.String("fail-on", "warning", "exit 1 when a finding is at or above this `severity`: info, warning, error or none")
	var cf configFlags
	cf.register(fs)
	files, code, done := parseFlags(fs, args, s)
	if done {
		return code
	}
	if len(files) == 0 {
		return usageErrorf(fs, s, "no Dockerfile given")
	}
	if err := checkFileArgs(files); err != nil {
		return usageErrorf(fs, s, "%v", err)
	}
	switch *format {
	case "text", "json", "sarif":
	default:
		return usageErrorf(fs, s, "-format %q: want text, json or sarif", *format)
	}
	threshold, never := rewrite.SeverityError, false
	if *failOn == "none" {
		never = true
	} else if sev, ok := rewrite.ParseSeverity(*failOn); ok {
		threshold = sev
	} else {
		return usageErrorf(fs, s, "-fail-on %q: want info, warning, error or none", *failOn)
	}
	cfg, err := cf.build()
	if err != nil {
		return usageErrorf(fs, s, "%v", err)
	}

	status := exitOK
	var reports []report.File
	for _, name := range files {
		if ctx.Err() != nil {
			return exitUsage
		}
		in := load(name, cfg, s)
		reports = append(reports, in.File)
		if in.Err != nil {
			fmt.Fprintln(s.err, report.FormatError(name, in.Err))
			status = exitUsage
			continue
		}
		for _, fd := range in.Result.Findings {
			if !never && fd.Severity >= threshold && status == exitOK {
				status = exitFindings
			}
		}
	}

	switch *format {
	case "text":
		err = report.Text(s.out, reports)
	case "json":
		err = report.JSON(s.out, reports)
	case "sarif":
		wd, _ := os.Getwd()
		err = report.SARIF(s.out, reports, report.SARIFOptions{ToolVersion: version(), BaseDir: wd})
	}
	if err != nil {
		fmt.Fprintf(s.err, "hushfile check: %v\n", err)
		return exitUsage
	}
	return status
}
