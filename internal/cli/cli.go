// Package cli implements the stepwell command line: one file per
// subcommand, each a type with Run(ctx, args) error and its own
// flag.FlagSet. Run, in this file, is the only place that turns errors into
// exit codes.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Exit codes.
const (
	ExitOK      = 0 // success
	ExitFailure = 1 // the command ran and failed (execution failed, invalid definition, I/O error)
	ExitUsage   = 2 // bad command line
)

// Main holds what every subcommand shares: where to write and how to read
// the environment (os.LookupEnv outside tests).
type Main struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(name string) (string, bool)
}

// command is one subcommand.
type command interface {
	Run(ctx context.Context, args []string) error
}

// commandInfo describes a subcommand for help.
type commandInfo struct {
	name    string
	summary string
	new     func(m *Main) command
}

var commands = []commandInfo{
	{"serve", "run the Step Functions API server", func(m *Main) command { return &ServeCommand{m: m} }},
	{"run", "run one execution of a definition in-process and print its result", func(m *Main) command { return &RunCommand{m: m} }},
	{"validate", "check a definition and print its diagnostics", func(m *Main) command { return &ValidateCommand{m: m} }},
	{"version", "print the version", func(m *Main) command { return &VersionCommand{m: m} }},
	{"help", "show help for a command", func(m *Main) command { return &HelpCommand{m: m} }},
}

func findCommand(name string) (commandInfo, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return commandInfo{}, false
}

// Run runs the command line args (without the program name) and returns
// the process exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	m := &Main{Stdin: os.Stdin, Stdout: stdout, Stderr: stderr, Getenv: os.LookupEnv}
	return m.Run(ctx, args)
}

// Run runs args and returns the exit code: ExitOK, ExitFailure or ExitUsage.
func (m *Main) Run(ctx context.Context, args []string) int {
	err := m.run(ctx, args)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.Is(err, errReported):
		return ExitFailure
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(m.Stderr, "stepwell: %v\n", err)
		if ue.hint != "" {
			fmt.Fprintln(m.Stderr, ue.hint)
		}
		return ExitUsage
	}
	fmt.Fprintf(m.Stderr, "stepwell: %v\n", err)
	return ExitFailure
}

func (m *Main) run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		writeUsage(m.Stderr)
		return &usageError{msg: "no command given"}
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		writeUsage(m.Stdout)
		return nil
	case "-version", "--version":
		name = "version"
	}
	c, ok := findCommand(name)
	if !ok {
		return &usageError{msg: fmt.Sprintf("unknown command %q", name), hint: "Run 'stepwell help' for the list of commands."}
	}
	return c.new(m).Run(ctx, args[1:])
}

// errReported means the command already printed why it failed; Run only
// sets the exit code.
var errReported = errors.New("failure already reported")

// usageError is a bad command line: exit code 2.
type usageError struct {
	msg  string
	hint string
}

func (e *usageError) Error() string { return e.msg }

// newFlagSet returns a FlagSet that reports errors instead of exiting and
// prints its usage to w.
func newFlagSet(name, synopsis string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(w, "Usage: stepwell %s\n", synopsis)
		var hasFlags bool
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(w, "\nFlags:")
			writeFlags(w, fs)
		}
	}
	return fs
}

// writeFlags prints the flags of fs as "  --name VALUE  usage (default …)".
func writeFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if name != "" {
			line += " " + name
		}
		line += "\n    \t" + strings.ReplaceAll(usage, "\n", "\n    \t")
		if f.DefValue != "" && f.DefValue != "false" {
			if g, ok := f.Value.(flag.Getter); ok {
				if _, isString := g.Get().(string); isString {
					line += fmt.Sprintf(" (default %q)", f.DefValue)
				} else {
					line += " (default " + f.DefValue + ")"
				}
			}
		}
		fmt.Fprintln(w, line)
	})
}

// parseArgs parses flags that may come before or after positional
// arguments ("run FILE --history" as well as "run --history FILE"). A "--"
// ends the flags. Errors are usage errors; -h gives flag.ErrHelp after
// printing the command's usage to stdout.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, flag.ErrHelp // fs.Parse printed the usage
			}
			return nil, &usageError{msg: fmt.Sprintf("%s: %v", fs.Name(), err),
				hint: fmt.Sprintf("Run 'stepwell help %s' for usage.", fs.Name())}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// flag stops at "--" (consumed) or at the first non-flag.
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// exactArgs checks the number of positional arguments.
func exactArgs(cmd string, got []string, names ...string) error {
	if len(got) == len(names) {
		return nil
	}
	want := strings.Join(names, " ")
	if len(got) < len(names) {
		return &usageError{msg: fmt.Sprintf("%s: missing %s", cmd, names[len(got)]),
			hint: fmt.Sprintf("Usage: stepwell %s %s [flags]", cmd, want)}
	}
	return &usageError{msg: fmt.Sprintf("%s: unexpected argument %q", cmd, got[len(names)]),
		hint: fmt.Sprintf("Usage: stepwell %s %s [flags]", cmd, want)}
}

func writeUsage(w io.Writer) {
	fmt.Fprintln(w, "Stepwell runs AWS Step Functions state machines (Amazon States Language) locally,")
	fmt.Fprintln(w, "speaking the Step Functions API.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: stepwell <command> [arguments]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'stepwell help <command>' for a command's flags.")
}

func isHelp(err error) bool { return errors.Is(err, flag.ErrHelp) }
