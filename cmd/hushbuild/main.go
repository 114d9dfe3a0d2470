// Command hushbuild rewrites Dockerfiles so that build secrets never reach
// the image, reports what it found, and prints the build flags the
// rewritten Dockerfile needs.
//
// The command line follows the conventions of docker and buildx (it uses
// the same library, cobra with pflag): long flags take two dashes
// (--format), short ones combine (-wq), unknown flags and extra arguments
// are usage errors, and `hushbuild completion SHELL` prints a completion
// script.
//
// Each subcommand registers a constructor with register from an init
// function in its own file; newRoot builds a fresh tree of commands for
// every run, so tests can run the program many times.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
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

// newCommand builds one subcommand writing to s. Its RunE returns nil or
// an exitCode; usage errors it finds itself it prints with usageErrorf.
type newCommand func(s stdio) *cobra.Command

// commands holds the constructor of every subcommand, in the order the
// files registered them (help lists them by name).
var commands []newCommand

// register adds a subcommand; call it from an init function.
func register(c newCommand) { commands = append(commands, c) }

// exitCode is the error a command returns to exit with that status after
// printing its own messages.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// usageError is a command line the command cannot run: printed with the
// command's name and a pointer to its help, exit status 2.
type usageError struct {
	cmd *cobra.Command
	err error
}

func (e usageError) Error() string { return e.err.Error() }

// runWith adapts a function returning an exit status to cobra's RunE.
func runWith(f func(ctx context.Context, cmd *cobra.Command, args []string) int) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if code := f(cmd.Context(), cmd, args); code != exitOK {
			return exitCode(code)
		}
		return nil
	}
}

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
	root := newRoot(s)
	root.SetArgs(normalizeArgs(root, args))
	cmd, err := root.ExecuteContextC(ctx)
	var code exitCode
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &code):
		return int(code)
	case errors.As(err, &ue):
		cmd = ue.cmd
	}
	if cmd == nil {
		cmd = root
	}
	return usageErrorf(cmd, s, "%v", err)
}

// usageErrorf prints a usage error of cmd and returns the usage exit
// status.
func usageErrorf(cmd *cobra.Command, s stdio, format string, a ...any) int {
	msg := strings.TrimRight(fmt.Sprintf(format, a...), "\n")
	fmt.Fprintf(s.err, "%s: %s\n", cmd.CommandPath(), msg)
	fmt.Fprintf(s.err, "Run '%s --help' for usage.\n", cmd.CommandPath())
	return exitUsage
}

// newRoot builds the command tree.
func newRoot(s stdio) *cobra.Command {
	root := &cobra.Command{
		Use:           "hushbuild",
		Short:         "hushbuild keeps build secrets out of container images.",
		Version:       versionLine(),
		SilenceErrors: true,
		SilenceUsage:  true,
		// Without a command: the overview on stderr, a usage error.
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{cmd, fmt.Errorf("unknown command %q%s", args[0], suggest(cmd, args[0]))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			rootHelp(s.err, cmd)
			return exitCode(exitUsage)
		},
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: false},
	}
	root.SuggestionsMinimumDistance = 2
	root.SetIn(s.in)
	root.SetOut(s.out)
	root.SetErr(s.err)
	root.SetVersionTemplate("hushbuild {{.Version}}\n")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageError{cmd, err}
	})
	root.SetHelpFunc(func(cmd *cobra.Command, _ []string) {
		if cmd == root {
			rootHelp(cmd.OutOrStdout(), cmd)
			return
		}
		commandHelp(cmd.OutOrStdout(), cmd)
	})
	for _, c := range commands {
		root.AddCommand(c(s))
	}
	root.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "print the version",
		Long:  "Prints the module version, the VCS revision and time, and the Go version the binary was built with.",
		Args:  noArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(s.out, "hushbuild", versionLine())
		},
	})
	root.SetHelpCommand(&cobra.Command{
		Use:   "help [COMMAND]",
		Short: "show this help, or a command's with `hushbuild help COMMAND`",
		Long:  "Prints the overview of hushbuild, or the help of COMMAND.",
		Args:  maxArgs(1),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var names []cobra.Completion
			for _, c := range root.Commands() {
				if c.IsAvailableCommand() {
					names = append(names, cobra.CompletionWithDesc(c.Name(), c.Short))
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				rootHelp(s.out, root)
				return nil
			}
			c, rest, err := root.Find(args)
			if err != nil || c == root || len(rest) > 0 {
				fmt.Fprintf(s.err, "hushbuild help: unknown command %q\n", args[0])
				return exitCode(exitUsage)
			}
			commandHelp(s.out, c)
			return nil
		},
	})
	root.InitDefaultCompletionCmd()
	if c, _, err := root.Find([]string{"completion"}); err == nil && c != root {
		c.Use = "completion SHELL"
		c.Short = "print the shell completion script for bash, zsh, fish or powershell"
		// Without a shell, or with an unknown one: a usage error, not
		// the help with status 0.
		c.Args = func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{cmd, fmt.Errorf("unknown shell %q: want bash, zsh, fish or powershell", args[0])}
			}
			return nil
		}
		c.RunE = func(cmd *cobra.Command, _ []string) error {
			return exitCode(usageErrorf(cmd, s, "no shell given: want bash, zsh, fish or powershell"))
		}
	}
	root.InitDefaultHelpFlag()
	root.InitDefaultVersionFlag()
	return root
}

// suggest is cobra's "Did you mean" text for an unknown command.
func suggest(root *cobra.Command, name string) string {
	s := root.SuggestionsFor(name)
	if len(s) == 0 {
		return ""
	}
	return fmt.Sprintf("; did you mean %s?", strings.Join(s, " or "))
}

// noArgs is cobra.NoArgs as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{cmd, fmt.Errorf("unexpected argument %q: %s takes none", args[0], cmd.CommandPath())}
	}
	return nil
}

// maxArgs is cobra.MaximumNArgs as a usage error.
func maxArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return usageError{cmd, fmt.Errorf("unexpected argument %q: %s takes at most %d", args[n], cmd.CommandPath(), n)}
		}
		return nil
	}
}

// rootHelp is the overview: every command with its summary.
func rootHelp(w io.Writer, root *cobra.Command) {
	fmt.Fprintf(w, "%s\n\nusage: hushbuild COMMAND [flags] [args]\n\ncommands:\n", root.Short)
	for _, c := range root.Commands() {
		if c.IsAvailableCommand() || c.Name() == "help" {
			fmt.Fprintf(w, "  %-10s %s\n", c.Name(), c.Short)
		}
	}
	fmt.Fprint(w, "\nRun `hushbuild COMMAND --help` for a command's flags.\n")
}

// commandHelp is the help of one command: its usage line, its text, its
// subcommands and its flags as they are typed.
func commandHelp(w io.Writer, cmd *cobra.Command) {
	fmt.Fprintf(w, "usage: %s\n", cmd.UseLine())
	if text := strings.TrimSpace(cmd.Long); text != "" {
		fmt.Fprintf(w, "\n%s\n", text)
	} else if cmd.Short != "" {
		fmt.Fprintf(w, "\n%s\n", cmd.Short)
	}
	if cmd.HasAvailableSubCommands() {
		fmt.Fprint(w, "\ncommands:\n")
		for _, c := range cmd.Commands() {
			if c.IsAvailableCommand() {
				fmt.Fprintf(w, "  %-10s %s\n", c.Name(), c.Short)
			}
		}
	}
	if fl := cmd.LocalFlags(); fl.HasAvailableFlags() {
		fmt.Fprintf(w, "\nflags:\n%s", fl.FlagUsagesWrapped(100))
	}
}

// normalizeArgs accepts the single-dash long flags of earlier versions
// (-format json, -fail-on=none): an argument "-NAME" or "-NAME=VALUE" whose
// NAME is a long flag of the command is read as "--NAME". Combined short
// flags (-wq) name no long flag and are left alone, and so are the values
// of flags and everything after "--".
func normalizeArgs(root *cobra.Command, args []string) []string {
	out := make([]string, len(args)) // never nil: cobra reads os.Args for nil
	copy(out, args)
	flags := root.Flags()
	for i := 0; i < len(out); i++ {
		a := out[i]
		switch {
		case a == "--":
			return out
		case !strings.HasPrefix(a, "-") || a == "-":
			if flags == root.Flags() {
				if c, _, err := root.Find([]string{a}); err == nil && c != root {
					c.InitDefaultHelpFlag()
					flags = c.Flags()
				}
			}
			continue
		}
		if strings.HasPrefix(a, "--") {
			name, _, hasValue := strings.Cut(a[2:], "=")
			f := flags.Lookup(name)
			if f == nil && len(name) == 1 {
				// --w for -w, as the earlier flag package took it.
				if f = flags.ShorthandLookup(name); f != nil {
					out[i] = "--" + f.Name + a[2+len(name):]
				}
			}
			if f != nil && !hasValue && takesValue(f) {
				i++
			}
			continue
		}
		name, _, hasValue := strings.Cut(a[1:], "=")
		if f := flags.Lookup(name); f != nil && len(name) > 1 {
			out[i] = "-" + a
			if !hasValue && takesValue(f) {
				i++
			}
			continue
		}
		// Combined shorthands: the first that takes a value takes the
		// rest of the argument, or the next one.
		for j := 1; j < len(a); j++ {
			f := flags.ShorthandLookup(a[j : j+1])
			if f == nil || !takesValue(f) {
				continue
			}
			if j == len(a)-1 {
				i++
			}
			break
		}
	}
	return out
}

func takesValue(f *pflag.Flag) bool { return f.NoOptDefVal == "" }

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
