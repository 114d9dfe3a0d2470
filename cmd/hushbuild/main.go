// Command hushbuild rewrites Dockerfiles so that build secrets never reach
// the image, reports what it found, and prints the build flags the
// rewritten Dockerfile needs.
//
// Each subcommand registers itself in commands from an init function in its
// own file.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
)

// Exit codes shared by every subcommand.
const (
	exitOK       = 0
	exitFindings = 1 // findings at or above the threshold, or a refused rewrite
	exitUsage    = 2 // usage or parse errors
)

// stdio is where a command reads and writes; tests pass buffers.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// command is one subcommand of hushbuild.
type command struct {
	// summary is one line for `hushbuild help`.
	summary string
	// run executes the command with the arguments after its name and
	// returns the process exit code.
	run func(ctx context.Context, args []string, stdio stdio) int
}

// commands holds every subcommand by name; files register theirs in init.
var commands = map[string]command{}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := runContext(ctx, os.Args[1:], stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr})
	stop()
	os.Exit(code)
}

// run is the whole program minus the process: tests call it directly.
func run(args []string, s stdio) int {
	return runContext(context.Background(), args, s)
}

func runContext(ctx context.Context, args []string, s stdio) int {
	if len(args) == 0 {
		usage(s.err)
		return exitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
			if c, ok := commands[rest[0]]; ok {
				return c.run(ctx, []string{"-h"}, s)
			}
			fmt.Fprintf(s.err, "hushbuild help: unknown command %q\n", rest[0])
			return exitUsage
		}
		usage(s.out)
		return exitOK
	case "version", "-version", "--version":
		fmt.Fprintln(s.out, "hushbuild", versionLine())
		return exitOK
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(s.err, "hushbuild: unknown command %q\n\n", name)
		usage(s.err)
		return exitUsage
	}
	return c.run(ctx, rest, s)
}

func usage(w io.Writer) {
	fmt.Fprint(w, "hushbuild keeps build secrets out of container images.\n\nusage: hushbuild COMMAND [flags] [args]\n\ncommands:\n")
	names := make([]string, 0, len(commands)+2)
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "  %-10s %s\n", "help", "show this help, or a command's with `hushbuild help COMMAND`")
	fmt.Fprintf(w, "  %-10s %s\n", "version", "print the version")
	fmt.Fprint(w, "\nRun `hushbuild COMMAND -h` for a command's flags.\n")
}

// version returns the version set at link time by a release build
// (Version), else the module version of this binary ("(devel)" for a build
// from a checkout), for reports such as SARIF's tool.driver.version.
func version() string {
	if Version != "" {
		return Version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Version == "" {
		return "(devel)"
	}
	return bi.Main.Version
}

// versionLine is the version plus the VCS revision and Go version when the
// build recorded them.
func versionLine() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return version()
	}
	parts := []string{version()}
	rev, when := Revision, ""
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if modified {
			rev += "-dirty"
		}
		parts = append(parts, "commit "+rev)
	}
	if when != "" {
		parts = append(parts, when)
	}
	parts = append(parts, bi.GoVersion)
	return strings.Join(parts, " ")
}

// newFlagSet returns the FlagSet of subcommand name. synopsis follows the
// command name in the usage line (e.g. "[flags] FILE") and help is the
// paragraph printed under it.
func newFlagSet(name, synopsis, help string) *flag.FlagSet {
	fs := flag.NewFlagSet("hushbuild "+name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: hushbuild %s %s\n\n%s\n\nflags:\n", name, synopsis, strings.TrimSpace(help))
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args with fs, allowing flags after positional
// arguments ("FILE -w" as well as "-w FILE"; "--" ends the flags). When done
// is true the caller returns code at once: -h printed the usage on stdout
// (code 0), or a bad flag printed the error on stderr (code 2).
func parseFlags(fs *flag.FlagSet, args []string, s stdio) (positional []string, code int, done bool) {
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			s.out.Write(buf.Bytes())
			return nil, exitOK, true
		}
		if err != nil {
			return nil, usageErrorf(fs, s, "%v", err), true
		}
		rest := fs.Args()
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), exitOK, false
		}
		if len(rest) == 0 {
			return positional, exitOK, false
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// usageErrorf prints a usage error for the command whose FlagSet is fs and
// returns the usage exit code.
func usageErrorf(fs *flag.FlagSet, s stdio, format string, a ...any) int {
	fmt.Fprintf(s.err, "%s: %s\n", fs.Name(), fmt.Sprintf(format, a...))
	fmt.Fprintf(s.err, "Run '%s -h' for usage.\n", fs.Name())
	return exitUsage
}
