// Package app is Stepwell's composition root: it turns a Config into a
// running server, wiring the store, the task integrations, the engine and
// the API. It is the only package that knows the concrete adapters.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/stepwell/stepwell/api"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/integrations"
	"github.com/stepwell/stepwell/integrations/lambda"
	"github.com/stepwell/stepwell/store"
	"github.com/stepwell/stepwell/store/memory"
)

// DefaultAddr is where the server listens by default: loopback only, on
// the port the conformance harness and the docs use.
const DefaultAddr = "127.0.0.1:8083"

// ExpressRetention is how many closed Express executions started with
// StartExecution stay readable (DescribeExecution, GetExecutionHistory).
const ExpressRetention = 10000

// Config is the server's configuration.
type Config struct {
	// Addr is the HOST:PORT to listen on (port 0 picks a free port).
	Addr string
	// Store selects the backend: "memory" (state is lost on exit).
	Store string
	// LambdaEndpoint is the base URL of a Lambda Invoke API for Lambda
	// tasks; empty fails them with States.Runtime.
	LambdaEndpoint string
	// AccountID and Region are used in every ARN.
	AccountID string
	Region    string
	// TimeScale multiplies every wait, retry interval and timeout.
	TimeScale float64
}

// DefaultConfig returns the defaults: DefaultAddr, the memory store,
// account 123456789012 in us-east-1, real time.
func DefaultConfig() Config {
	return Config{Addr: DefaultAddr, Store: "memory", AccountID: "123456789012", Region: "us-east-1", TimeScale: 1}
}

// FieldError is one invalid configuration field.
type FieldError struct {
	Field string
	Value string
	Err   error
}

func (e *FieldError) Error() string { return fmt.Sprintf("%s %q: %v", e.Field, e.Value, e.Err) }

// Unwrap returns the reason.
func (e *FieldError) Unwrap() error { return e.Err }

var (
	accountRE = regexp.MustCompile(`^[0-9]{12}$`)
	regionRE  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

// Validate checks every field and returns all problems as *FieldError
// values joined with errors.Join.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, value, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Value: value, Err: fmt.Errorf(format, args...)})
	}
	if _, port, err := net.SplitHostPort(c.Addr); err != nil {
		bad("addr", c.Addr, "must be HOST:PORT")
	} else if p, ok := parsePort(port); !ok || p > 65535 {
		bad("addr", c.Addr, "port must be a number from 0 to 65535")
	}
	if c.Store != "memory" {
		bad("store", c.Store, "unknown store (supported: memory)")
	}
	if c.LambdaEndpoint != "" {
		u, err := url.Parse(c.LambdaEndpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("lambda-endpoint", c.LambdaEndpoint, "must be an http:// or https:// URL")
		}
	}
	if !accountRE.MatchString(c.AccountID) {
		bad("account-id", c.AccountID, "must be 12 digits")
	}
	if !regionRE.MatchString(c.Region) {
		bad("region", c.Region, "must look like us-east-1")
	}
	if math.IsNaN(c.TimeScale) || math.IsInf(c.TimeScale, 0) || c.TimeScale <= 0 {
		bad("time-scale", fmt.Sprint(c.TimeScale), "must be a positive number")
	}
	return errors.Join(errs...)
}

func parsePort(s string) (int, bool) {
	if s == "" || len(s) > 5 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// openStore opens the configured backend.
func openStore(c Config) (store.Store, error) {
	switch c.Store {
	case "memory":
		return memory.New(memory.Options{}), nil
	}
	return nil, fmt.Errorf("open store %q: unknown store", c.Store)
}

// Invoker returns the task invoker for the configuration: Lambda tasks go
// to the configured endpoint.
func Invoker(c Config) engine.Invoker {
	router := integrations.NewRouter()
	if c.LambdaEndpoint != "" {
		router.Handle(lambda.Handles, lambda.New(c.LambdaEndpoint, nil))
	} else {
		router.Handle(lambda.Handles, noLambda{})
	}
	return router
}

// noLambda fails Lambda tasks when no endpoint is configured.
type noLambda struct{}

func (noLambda) Invoke(ctx context.Context, t *engine.Task) (any, error) {
	return nil, fault.New(fault.Runtime, "The resource '"+t.Resource+
		"' is a Lambda function and no Lambda endpoint is configured (use --lambda-endpoint URL).")
}

// Handler returns the HTTP handler of a server: the Step Functions API on
// POST, a health check on GET /healthz. Close the returned api.Server when
// done.
func Handler(c Config, logger *slog.Logger) (http.Handler, *api.Server, error) {
	st, err := openStore(c)
	if err != nil {
		return nil, nil, err
	}
	eng := engine.New(engine.Config{TimeScale: c.TimeScale, Invoker: Invoker(c), Region: c.Region, AccountID: c.AccountID})
	srv := api.New(api.Config{
		Store: st, Engine: eng, Region: c.Region, Account: c.AccountID, Logger: logger,
		// Express executions started asynchronously live in memory only.
		Express: memory.New(memory.Options{MaxClosedExecutions: ExpressRetention}),
		// Versions, aliases, tags and Map Runs (in memory for every store).
		Versions: memory.NewVersions(),
	})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.Handle("POST /", srv)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			srv.ServeHTTP(w, r)
			return
		}
		http.Error(w, "stepwell: the Step Functions API answers POST requests (X-Amz-Target: AWSStepFunctions.<Action>)", http.StatusNotFound)
	})
	return mux, srv, nil
}

// Run serves until ctx is done, then shuts down gracefully. It prints the
// address it listens on to logw.
func Run(ctx context.Context, cfg Config, logw io.Writer) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("invalid configuration: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(logw, nil))
	h, srv, err := Handler(cfg, logger)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	fmt.Fprintf(logw, "stepwell: listening on http://%s (store %s, region %s, account %s, time scale %g)\n",
		ln.Addr(), cfg.Store, cfg.Region, cfg.AccountID, cfg.TimeScale)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		_ = srv.Close(context.Background())
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = hs.Shutdown(sctx)
	if cerr := srv.Close(sctx); err == nil {
		err = cerr
	}
	if err != nil && !strings.Contains(err.Error(), "context deadline exceeded") {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
