package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/stepwell/stepwell/executions"
	"github.com/stepwell/stepwell/logs"
	"github.com/stepwell/stepwell/metrics"
	"github.com/stepwell/stepwell/store"
	"github.com/stepwell/stepwell/store/postgres"
	"github.com/stepwell/stepwell/store/sqlite"
)

// Observability says how the server is watched: its metrics (and logs).
type Observability struct {
	// Metrics says where GET /metrics (Prometheus text format, package
	// metrics) is served: "" (auto) on the API's address when the API
	// needs no credentials, else nowhere (a scraper cannot sign its
	// requests: give an address); "api" on the API's address, without
	// authentication, even when the API needs credentials; a HOST:PORT on
	// a listener of its own (a private interface, say); "off" nowhere.
	// The metrics hold counts and state machine ARNs, never execution
	// data.
	Metrics string
	// LogFormat is the format of the server's own log: "text" (the
	// default, log/slog's key=value) or "json".
	LogFormat string
	// LogLevel is the least level of the server's log: "debug" (one line
	// per API request), "info" (the default), "warn" or "error".
	LogLevel string
	// ExecutionLogs is where the execution logs of the state machines
	// whose loggingConfiguration asks for them are written (package
	// logs: CloudWatch Logs records, one JSON object a line): "stdout"
	// (the default, also ""), "stderr", "off", a directory (a path ending
	// in "/", or an existing directory: one file per log group), or a
	// file (appended to, created 0600).
	ExecutionLogs string
}

// Metrics settings other than an address.
const (
	MetricsAuto = ""
	MetricsAPI  = "api"
	MetricsOff  = "off"
)

// validate checks the metrics and log settings.
func (o Observability) validate() []error {
	var errs []error
	switch o.Metrics {
	case MetricsAuto, MetricsAPI, MetricsOff:
	default:
		if _, port, err := net.SplitHostPort(o.Metrics); err != nil {
			errs = append(errs, &FieldError{Field: "metrics", Value: o.Metrics, Err: fmt.Errorf("must be api, off or HOST:PORT")})
		} else if p, ok := parsePort(port); !ok || p > 65535 {
			errs = append(errs, &FieldError{Field: "metrics", Value: o.Metrics, Err: fmt.Errorf("port must be a number from 0 to 65535")})
		}
	}
	switch o.LogFormat {
	case "", "text", "json":
	default:
		errs = append(errs, &FieldError{Field: "log-format", Value: o.LogFormat, Err: fmt.Errorf("must be text or json")})
	}
	if _, ok := logLevels[strings.ToLower(o.LogLevel)]; !ok {
		errs = append(errs, &FieldError{Field: "log-level", Value: o.LogLevel, Err: fmt.Errorf("must be debug, info, warn or error")})
	}
	return errs
}

var logLevels = map[string]slog.Level{"": slog.LevelInfo, "debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}

// logger returns the server's logger, writing to w in the configured
// format from the configured level.
func (o Observability) logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: logLevels[strings.ToLower(o.LogLevel)]}
	if o.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// logRequests logs one line per API request at debug level: its
// operation, its error type (none when it succeeded), its duration and
// client. With debug off, it is next itself.
func logRequests(logger *slog.Logger, next http.Handler) http.Handler {
	if !logger.Enabled(context.Background(), slog.LevelDebug) {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t0 := time.Now()
		next.ServeHTTP(w, r)
		logger.LogAttrs(r.Context(), slog.LevelDebug, "request",
			slog.String("operation", strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AWSStepFunctions.")),
			slog.String("error", w.Header().Get("X-Amzn-ErrorType")),
			slog.Duration("duration", time.Since(t0)),
			slog.String("remote", r.RemoteAddr))
	})
}

// executionLogs opens the sink of the execution logs and returns their
// observer (nil when off) and what closes the sink.
func executionLogs(o Observability, logger *slog.Logger) (executions.Observer, func() error, error) {
	noop := func() error { return nil }
	var sink logs.Sink
	closer := noop
	switch where := o.ExecutionLogs; where {
	case "off":
		return nil, noop, nil
	case "", "stdout":
		sink = logs.NewStream(os.Stdout)
	case "stderr":
		sink = logs.NewStream(os.Stderr)
	default:
		if fi, err := os.Stat(where); strings.HasSuffix(where, "/") || (err == nil && fi.IsDir()) {
			d, err := logs.OpenDir(where)
			if err != nil {
				return nil, nil, err
			}
			sink, closer = d, d.Close
			break
		}
		f, err := os.OpenFile(where, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return nil, nil, fmt.Errorf("execution logs: %w", err)
		}
		sink, closer = logs.NewStream(f), f.Close
	}
	w := logs.New(sink, logger)
	return w, func() error { _ = w.Close(); return closer() }, nil
}

// metricsOnAPI reports whether the API's address serves GET /metrics.
func (o Observability) metricsOnAPI(credentials bool) bool {
	return o.Metrics == MetricsAPI || (o.Metrics == MetricsAuto && !credentials)
}

// metricsAddr is the address of the metrics' own listener, if any.
func (o Observability) metricsAddr() string {
	switch o.Metrics {
	case MetricsAuto, MetricsAPI, MetricsOff:
		return ""
	}
	return o.Metrics
}

// serveMetrics serves GET /metrics on addr, a listener of its own, and
// prints where to logw. It returns what stops it.
func serveMetrics(addr string, reg *metrics.Registry, logw io.Writer) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", reg)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	fmt.Fprintf(logw, "stepwell: metrics on http://%s/metrics\n", ln.Addr())
	return func() { _ = hs.Close() }, nil
}

// storeStats returns what reads the group-commit counts of st, nil if it
// keeps none (the memory store).
func storeStats(st store.Store) func() metrics.StoreStats {
	switch db := st.(type) {
	case *sqlite.Store:
		return func() metrics.StoreStats {
			s := db.Stats()
			return metrics.StoreStats{Commits: s.Commits, Writes: s.Writes, CommitTime: s.CommitTime, Queued: s.Queued}
		}
	case *postgres.Store:
		return func() metrics.StoreStats {
			s := db.Stats()
			return metrics.StoreStats{Commits: s.Commits, Writes: s.Writes, CommitTime: s.CommitTime, Queued: s.Queued}
		}
	}
	return nil
}
