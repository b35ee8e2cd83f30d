package cli

import (
	"context"
	"fmt"
)

// HelpCommand prints help (stepwell help [COMMAND]).
type HelpCommand struct {
	m *Main
}

// Run prints the command list, or one command's usage and flags.
func (c *HelpCommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		writeUsage(c.m.Stdout)
		return nil
	}
	if len(args) > 1 {
		return &usageError{msg: fmt.Sprintf("help: unexpected argument %q", args[1])}
	}
	info, ok := findCommand(args[0])
	if !ok {
		return &usageError{msg: fmt.Sprintf("help: unknown command %q", args[0]), hint: "Run 'stepwell help' for the list of commands."}
	}
	if info.name == "help" {
		fmt.Fprintln(c.m.Stdout, "Usage: stepwell help [COMMAND]")
		return nil
	}
	// Every command prints its usage for -h and returns flag.ErrHelp.
	err := info.new(c.m).Run(context.Background(), []string{"-h"})
	if err != nil && !isHelp(err) {
		return err
	}
	return nil
}
