package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

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
	str   func(c *app.Config) *string        // string settings
	float func(c *app.Config) *float64       // float settings
	num   func(c *app.Config) *int           // integer settings
	on    func(c *app.Config) *bool          // boolean switches (env: true/false, 1/0)
	dur   func(c *app.Config) *time.Duration // durations (Go syntax, or whole days: 90d)
	size  func(c *app.Config) *int64         // sizes in bytes (512MiB, 2GiB, 1048576)
	// show, when set, is what --check-config prints for the setting:
	// secrets masked, or the effective value.
	show func(c *app.Config) string
}

var serveSettings = []serveSetting{
	{flag: "addr", usage: "`HOST:PORT` to listen on", str: func(c *app.Config) *string { return &c.Addr }},
	{flag: "store", usage: "where state is kept: `STORE` = memory, sqlite:///PATH.db (or a PATH), postgres://USER:PASS@HOST/DB (default: the embedded store in --data-dir)",
		str: func(c *app.Config) *string { return &c.Store }, show: func(c *app.Config) string { return orDefault(app.Redact(c.Store), "embedded") }},
	{flag: "data-dir", usage: "`DIR` of the default embedded store (default $XDG_DATA_HOME/stepwell, else ~/.local/share/stepwell)",
		str: func(c *app.Config) *string { return &c.DataDir }},
	{flag: "retention", usage: "delete executions closed longer ago than `DURATION` (e.g. 90d, 36h; 0 keeps them)",
		dur: func(c *app.Config) *time.Duration { return &c.Retention }},
	{flag: "max-history-events", usage: "most history events an execution may have (`N`, AWS: 25000)",
		num: func(c *app.Config) *int { return &c.MaxHistoryEvents }},
	{flag: "max-payload-bytes", usage: "largest state input, output or task result in `BYTES` (AWS: 262144)",
		num: func(c *app.Config) *int { return &c.MaxPayloadBytes }},
	{flag: "express-retention", usage: "keep the last `N` closed Express executions in memory for DescribeExecution and GetExecutionHistory (0 keeps none)",
		num: func(c *app.Config) *int { return &c.ExpressRetention }},
	{flag: "express-history", usage: "also keep StartSyncExecution executions and their histories in that bounded memory (for debugging; slower)",
		on: func(c *app.Config) *bool { return &c.ExpressHistory }},
	{flag: "lambda-endpoint", usage: "base `URL` of a Lambda Invoke API (SAM local, LocalStack, ...) for Lambda tasks",
		str: func(c *app.Config) *string { return &c.LambdaEndpoint }, show: func(c *app.Config) string { return app.Redact(c.LambdaEndpoint) }},
	{flag: "mock-config", usage: "Step Functions Local mock configuration `FILE`: executions started with ARN#TestCase answer tasks from it",
		str: func(c *app.Config) *string { return &c.MockConfig }},
	{flag: "http-connections", usage: "JSON `FILE` mapping connection ARNs to the headers, query and body parameters HTTP Tasks add",
		str: func(c *app.Config) *string { return &c.HTTPConnections }},
	{flag: "http-task-allow", usage: "HTTP Tasks may connect only to these `TARGETS` (comma-separated CIDR networks, addresses, host names, *.DOMAIN, or private), checked on each connection's resolved address, redirects included",
		str: func(c *app.Config) *string { return &c.HTTPTaskAllow }},
	{flag: "http-task-deny", usage: "HTTP Tasks may not connect to these `TARGETS` (same forms; e.g. private for loopback, private and link-local networks); deny wins over allow",
		str: func(c *app.Config) *string { return &c.HTTPTaskDeny }},
	{flag: "time-scale", usage: "multiply every wait, retry interval and timeout by `FACTOR` (e.g. 0.01 in tests)",
		float: func(c *app.Config) *float64 { return &c.TimeScale }},
	{flag: "pprof", usage: "also serve Go's runtime profiles (net/http/pprof, /debug/pprof/) on `HOST:PORT`, for profiling the server (default: off)",
		str: func(c *app.Config) *string { return &c.Pprof }},
	{flag: "console", usage: "serve the web console on GET / of the API's address (--console=false turns it off)",
		on: func(c *app.Config) *bool { return &c.Console }},
	{flag: "cors-origin", usage: "let web pages of these `ORIGINS` call the API from a browser (comma-separated https://HOST[:PORT], or * for any; CORS with preflight; default none)",
		str: func(c *app.Config) *string { return &c.CORSOrigins }},
	{flag: "account-id", usage: "AWS account `ID` used in ARNs", str: func(c *app.Config) *string { return &c.AccountID }},
	{flag: "region", usage: "AWS `REGION` used in ARNs", str: func(c *app.Config) *string { return &c.Region }},
	// Observability (app.Observability): metrics and logs.
	{flag: "metrics", usage: "where GET /metrics (Prometheus) is served: `WHERE` = api (the API's address, unauthenticated), HOST:PORT (a listener of its own) or off; default: the API's address unless --credentials are required",
		str: func(c *app.Config) *string { return &c.Metrics }, show: func(c *app.Config) string { return orDefault(c.Metrics, "auto") }},
	{flag: "log-format", usage: "`FORMAT` of the server's log: text or json", str: func(c *app.Config) *string { return &c.LogFormat },
		show: func(c *app.Config) string { return orDefault(c.LogFormat, "text") }},
	{flag: "log-level", usage: "least `LEVEL` the server logs: debug (one line per API request), info, warn or error (default info)",
		str: func(c *app.Config) *string { return &c.LogLevel }, show: func(c *app.Config) string { return orDefault(c.LogLevel, "info") }},
	{flag: "execution-logs", usage: "where the execution logs of state machines with a loggingConfiguration go (CloudWatch Logs records, a JSON object a line): `SINK` = stdout, stderr, off, DIR/ (a file per log group) or FILE (default stdout)",
		str: func(c *app.Config) *string { return &c.ExecutionLogs }, show: func(c *app.Config) string { return orDefault(c.ExecutionLogs, "stdout") }},
	{flag: "status-events", usage: "POST an EventBridge-shaped \"Step Functions Execution Status Change\" event to each `URL[,URL]` when a Standard execution starts, is redriven or ends (retried with backoff; dropped when an endpoint is too far behind)",
		str: func(c *app.Config) *string { return &c.StatusEvents.URLs }, show: func(c *app.Config) string { return c.RedactedStatusEvents() }},
	{flag: "status-events-filter", usage: "send status events only for these `STATUSES` (comma-separated: RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED; default all)",
		str: func(c *app.Config) *string { return &c.StatusEvents.Statuses }},
	// Security (app.Security): authentication, TLS, the CA bundle.
	{flag: "credentials", usage: "JSON `FILE` of the access keys whose AWS SigV4 signatures are accepted ({\"accessKeys\": [{\"accessKeyId\", \"secretAccessKey\", \"name\"}]}); every request must then be signed",
		str: func(c *app.Config) *string { return &c.Credentials }},
	{flag: "auth", usage: "authentication `MODE`: sigv4 (needs --credentials) or none (serve anyone, on any address); default: sigv4 with --credentials, else none on a loopback address only",
		str: func(c *app.Config) *string { return &c.Auth }, show: effectiveAuth},
	{flag: "tls-cert", usage: "PEM certificate `FILE` (chain): serve HTTPS, with --tls-key", str: func(c *app.Config) *string { return &c.TLSCert }},
	{flag: "tls-key", usage: "PEM private key `FILE` of --tls-cert", str: func(c *app.Config) *string { return &c.TLSKey }},
	{flag: "ca-bundle", usage: "PEM `FILE` of certificate authorities that outgoing requests (HTTP Tasks, Lambda, AWS service endpoints) trust besides the system's (default $AWS_CA_BUNDLE)",
		str: func(c *app.Config) *string { return &c.CABundle }},
	// Limits (app.Limits): what executions may cost the server.
	{flag: "memory-budget", usage: "memory the server keeps within (`SIZE`, e.g. 512MiB; default half the machine's): Go's soft memory limit, and the default of --max-history-bytes",
		size: func(c *app.Config) *int64 { return &c.MemoryBudget }},
	{flag: "max-history-bytes", usage: "most bytes one execution's history may take (`SIZE`; default an eighth of --memory-budget): an execution that needs more fails with States.Runtime",
		size: func(c *app.Config) *int64 { return &c.MaxHistoryBytes }},
	{flag: "max-executions", usage: "most executions the server runs at once (`N`, default 1000000, AWS's quota): StartExecution answers ExecutionLimitExceeded beyond",
		num: func(c *app.Config) *int { return &c.MaxExecutions }},
	{flag: "max-resume-attempts", usage: "restarts in a row that may resume an execution the server did not survive (`N`, default 5; -1: no limit): the next one fails it (quarantine)",
		num: func(c *app.Config) *int { return &c.MaxResumeAttempts }},
	{flag: "no-resume", usage: "start without resuming the running executions: list them (ListExecutions) and stop those that must not resume, then restart without it",
		on: func(c *app.Config) *bool { return &c.NoResume }},
	// Cluster (app.Cluster): several servers on one PostgreSQL store.
	{flag: "node-name", usage: "`NAME` of this server among those sharing a PostgreSQL store, in the database and the logs; a server restarted under its name takes its executions back at once (default: HOST:PORT)",
		str: func(c *app.Config) *string { return &c.NodeName }},
	{flag: "lease", usage: "how long this server's claim on its executions lasts without renewal, with a PostgreSQL store shared by several servers (`DURATION`, renewed every third; default 10s): another server takes them over at most this plus one renewal after it dies",
		dur: func(c *app.Config) *time.Duration { return &c.Lease }, show: func(c *app.Config) string {
			if c.Lease == 0 {
				return app.DefaultLease.String()
			}
			return c.Lease.String()
		}},
}

// envName is the environment variable for a flag: STEPWELL_TIME_SCALE for
// time-scale.
func envName(flagName string) string {
	return "STEPWELL_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// set parses v into the setting.
func (s serveSetting) set(c *app.Config, v string) error {
	switch {
	case s.str != nil:
		*s.str(c) = v
	case s.float != nil:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return errors.New("not a number")
		}
		*s.float(c) = f
	case s.num != nil:
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return errors.New("not an integer")
		}
		*s.num(c) = n
	case s.on != nil:
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return errors.New("not a boolean (true or false)")
		}
		*s.on(c) = b
	case s.size != nil:
		n, err := app.ParseBytes(v)
		if err != nil {
			return err
		}
		*s.size(c) = n
	default:
		d, err := parseDuration(v)
		if err != nil {
			return err
		}
		*s.dur(c) = d
	}
	return nil
}

// parseDuration reads a Go duration (36h, 90m) or whole days (90d).
func parseDuration(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 100000 {
			return 0, errors.New("not a duration (e.g. 90d, 36h)")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	if v == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, errors.New("not a duration (e.g. 90d, 36h)")
	}
	return d, nil
}

// durationValue is a flag.Value for durations in parseDuration's syntax.
type durationValue struct{ d *time.Duration }

func (v durationValue) String() string {
	if v.d == nil {
		return ""
	}
	if *v.d%(24*time.Hour) == 0 && *v.d > 0 {
		return strconv.FormatInt(int64(*v.d/(24*time.Hour)), 10) + "d"
	}
	return v.d.String()
}

func (v durationValue) Set(s string) error {
	d, err := parseDuration(s)
	if err != nil {
		return err
	}
	*v.d = d
	return nil
}

// Run starts the server and blocks until ctx ends or the server fails.
func (c *ServeCommand) Run(ctx context.Context, args []string) error {
	cfg, check, err := c.config(args)
	if err != nil {
		return err
	}
	if check {
		printConfig(c.m.Stdout, &cfg)
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
		if err := s.set(&cfg, v); err != nil {
			return cfg, false, &usageError{msg: fmt.Sprintf("serve: environment variable %s=%q: %v", name, v, err)}
		}
	}

	cfg.AWS = app.AWSFromEnv(c.m.getenv)
	caBundleFromAWSEnv(&cfg, c.m.Getenv)

	fs := newFlagSet("serve", "serve [flags]", c.m.Stdout)
	for _, s := range serveSettings {
		usage := s.usage + " [$" + envName(s.flag) + "]"
		switch {
		case s.str != nil:
			fs.StringVar(s.str(&cfg), s.flag, *s.str(&cfg), usage)
		case s.float != nil:
			fs.Float64Var(s.float(&cfg), s.flag, *s.float(&cfg), usage)
		case s.num != nil:
			fs.IntVar(s.num(&cfg), s.flag, *s.num(&cfg), usage)
		case s.on != nil:
			fs.BoolVar(s.on(&cfg), s.flag, *s.on(&cfg), usage)
		case s.size != nil:
			fs.Var(sizeValue{s.size(&cfg)}, s.flag, usage)
		default:
			fs.Var(durationValue{s.dur(&cfg)}, s.flag, usage)
		}
	}
	fs.Var(awsEndpoints{&cfg.AWS.Endpoints}, "aws-endpoint", awsEndpointUsage)
	fs.BoolVar(&check, "check-config", false, "print the effective configuration and exit")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return cfg, false, err
	}
	if err := exactArgs("serve", pos); err != nil {
		return cfg, false, err
	}
	if cfg.DataDir == "" && cfg.Store == "" {
		// The default embedded store's effective directory, which
		// --check-config prints; the server would pick the same
		// (app.DefaultDataDir).
		cfg.DataDir = app.DataDirFrom(c.m.Getenv)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, false, &usageError{msg: fmt.Sprintf("serve: invalid configuration: %v", err)}
	}
	return cfg, check, nil
}

// sizeValue is a flag.Value of a size in bytes (app.ParseBytes).
type sizeValue struct{ p *int64 }

func (v sizeValue) String() string {
	if v.p == nil || *v.p == 0 {
		return ""
	}
	return strconv.FormatInt(*v.p, 10)
}

func (v sizeValue) Set(s string) error {
	n, err := app.ParseBytes(s)
	if err != nil {
		return err
	}
	*v.p = n
	return nil
}
