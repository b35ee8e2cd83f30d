// The stepwell command runs AWS Step Functions state machines: an API
// server compatible with the AWS SDKs and CLI (stepwell serve), one-shot
// executions (stepwell run) and definition checks (stepwell validate).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/stepwell/stepwell/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
