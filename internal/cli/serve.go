package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/stepwell/stepwell/internal/app"
)

// ServeCommand runs the Step Functions API server (stepwell serve).
type ServeCommand struct {
	m *Main
}

// serveSetting is one serve flag and its STEPWELL_* environment variable.
type serveSetting struct {
	flag  string
	usage string
	str   func(c *app.Config) *string  // string settings
	float func(c *app.Config) *float64 // float settings
}

var serveSettings = []serveSetting{
	{flag: "addr", usage: "`HOST:PORT` to listen on", str: func(c *app.Config) *string { return &c.Addr }},
	{flag: "store", usage: "where state is kept: `memory`", str: func(c *app.Config) *string { return &c.Store }},
	{flag: "lambda-endpoint", usage: "base `URL` of a Lambda Invoke API (SAM local, LocalStack, ...) for Lambda tasks",
		str: func(c *app.Config) *string { return &c.LambdaEndpoint }},
	{flag: "time-scale", usage: "multiply every wait, retry interval and timeout by `FACTOR` (e.g. 0.01 in tests)",
		float: func(c *app.Config) *float64 { return &c.TimeScale }},
	{flag: "account-id", usage: "AWS account `ID` used in ARNs", str: func(c *app.Config) *string { return &c.AccountID }},
	{flag: "region", usage: "AWS `REGION` used in ARNs", str: func(c *app.Config) *string { return &c.Region }},
}

// envName is the environment variable for a flag: STEPWELL_TIME_SCALE for
// time-scale.
func envName(flagName string) string {
	return "STEPWELL_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Run starts the server and blocks until ctx ends or the server fails.
func (c *ServeCommand) Run(ctx context.Context, args []string) error {
	cfg, check, err := c.config(args)
	if err != nil {
		return err
	}
	if check {
		fmt.Fprintf(c.m.Stdout, "addr=%s store=%s lambda-endpoint=%s time-scale=%s account-id=%s region=%s\n",
			cfg.Addr, cfg.Store, cfg.LambdaEndpoint, strconv.FormatFloat(cfg.TimeScale, 'g', -1, 64), cfg.AccountID, cfg.Region)
		return nil
	}
	err = app.Run(ctx, cfg, c.m.Stderr)
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return nil // stopped by a signal: a clean shutdown
	}
	return err
}

// config builds the configuration: defaults, then STEPWELL_* environment
// variables, then flags; then validates it. check is --check-config.
func (c *ServeCommand) config(args []string) (cfg app.Config, check bool, err error) {
	cfg = app.DefaultConfig()
	for _, s := range serveSettings {
		name := envName(s.flag)
		v, ok := c.m.Getenv(name)
		if !ok {
			continue
		}
		if s.str != nil {
			*s.str(&cfg) = v
			continue
		}
		f, perr := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if perr != nil {
			return cfg, false, &usageError{msg: fmt.Sprintf("serve: environment variable %s=%q: not a number", name, v)}
		}
		*s.float(&cfg) = f
	}

	fs := newFlagSet("serve", "serve [flags]", c.m.Stdout)
	for _, s := range serveSettings {
		usage := s.usage + " [$" + envName(s.flag) + "]"
		if s.str != nil {
			fs.StringVar(s.str(&cfg), s.flag, *s.str(&cfg), usage)
		} else {
			fs.Float64Var(s.float(&cfg), s.flag, *s.float(&cfg), usage)
		}
	}
	fs.BoolVar(&check, "check-config", false, "print the effective configuration and exit")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return cfg, false, err
	}
	if err := exactArgs("serve", pos); err != nil {
		return cfg, false, err
	}
	if err := cfg.Validate(); err != nil {
		return cfg, false, &usageError{msg: fmt.Sprintf("serve: invalid configuration: %v", err)}
	}
	return cfg, check, nil
}
