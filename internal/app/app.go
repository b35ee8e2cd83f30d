// Package app is Stepwell's composition root: it turns a Config into a
// running server, wiring the store, the task integrations, the engine, the
// executions service and the API (Wire, which tests use too). It is the
// only package that knows the concrete adapters.
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
	"sync"
	"time"

	"github.com/stepwell/stepwell/api"
	"github.com/stepwell/stepwell/console"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/integrations"
	awsint "github.com/stepwell/stepwell/integrations/aws"
	httptask "github.com/stepwell/stepwell/integrations/http"
	"github.com/stepwell/stepwell/store"
	"github.com/stepwell/stepwell/store/memory"
)

// DefaultAddr is where the server listens by default: loopback only, on
// the port the conformance harness and the docs use.
const DefaultAddr = "127.0.0.1:8083"

// resumeSettleTimeout bounds how long New waits for the resumed executions
// to replay their histories before it serves.
const resumeSettleTimeout = time.Minute

// ExpressRetention is the default of Config.ExpressRetention: how many
// closed Express executions stay readable in memory (DescribeExecution,
// GetExecutionHistory).
const ExpressRetention = 10000

// Config is the server's configuration.
type Config struct {
	// Addr is the HOST:PORT to listen on (port 0 picks a free port).
	Addr string
	// Store selects the backend of state machines and Standard
	// executions: "" (the default) is the embedded store in DataDir;
	// "memory" keeps everything in memory (lost on exit);
	// "sqlite:///path/file.db" or a path (containing a slash or ending in
	// .db) is an embedded store file; "postgres://…" (or
	// "postgresql://…") is a PostgreSQL database.
	Store string
	// DataDir is where the default embedded store keeps its database
	// (DataDir/stepwell.db); empty means DefaultDataDir().
	DataDir string
	// Retention is how long closed executions are kept (AWS: 90 days);
	// older ones are deleted periodically. Zero keeps them forever.
	Retention time.Duration
	// MaxHistoryEvents is the most history events an execution may have
	// (AWS: 25,000); an execution that needs more fails.
	MaxHistoryEvents int
	// MaxPayloadBytes is the largest state input, output or task result
	// (AWS: 262,144 bytes); larger ones fail with States.DataLimitExceeded.
	MaxPayloadBytes int
	// LambdaEndpoint is the base URL of a Lambda Invoke API for Lambda
	// tasks; empty fails them with States.Runtime.
	LambdaEndpoint string
	// MockConfig is a Step Functions Local mock configuration file: tasks
	// of executions started with "#TestCase" are answered from it.
	MockConfig string
	// HTTPConnections is a JSON file mapping EventBridge connection ARNs
	// to what HTTP Tasks naming them add (integrations/http).
	HTTPConnections string
	// HTTPTaskAllow and HTTPTaskDeny restrict where HTTP Tasks may
	// connect (integrations/http Policy): comma-separated networks
	// (CIDR or addresses), host names (*.example.com for subdomains) or
	// "private"; a target matching a deny rule, or no allow rule when
	// there are some, fails its task with States.Http.Socket. Checked on
	// the address each connection is made to, redirects included.
	HTTPTaskAllow, HTTPTaskDeny string
	// AWS says where the tasks that call AWS services (SQS, SNS,
	// DynamoDB, EventBridge, aws-sdk:…) send their requests: endpoints
	// per service (AWSFromEnv, then --aws-endpoint flags) and the default
	// region; credentials come from the standard AWS chain.
	AWS awsint.Config
	// AccountID and Region are used in every ARN.
	AccountID string
	Region    string
	// TimeScale multiplies every wait, retry interval and timeout.
	TimeScale float64
	// ExpressRetention is how many closed Express executions (with their
	// histories) are kept in memory for DescribeExecution and
	// GetExecutionHistory; beyond it the oldest are forgotten. Zero keeps
	// none once closed (running ones stay readable while they run).
	// Express executions never touch the store.
	ExpressRetention int
	// ExpressHistory also keeps the executions of StartSyncExecution (row
	// and history) in that bounded in-memory Express store, for
	// debugging. Off (the default), synchronous executions record nothing.
	ExpressHistory bool
	// Pprof is a HOST:PORT on which Run also serves Go's runtime profiles
	// (net/http/pprof under /debug/pprof/), for profiling the server;
	// empty (the default) serves none.
	Pprof string
	// Console serves the web console (package console) on GET / and its
	// addresses; off, GET requests other than /healthz answer 404.
	Console bool
	// CORSOrigins are the origins (comma-separated "*" or
	// scheme://host[:port]) whose web pages may call the API from a
	// browser (CORS, with preflight requests); empty (the default) allows
	// none.
	CORSOrigins string

	// Security: authentication, TLS and the CA bundle (security.go).
	Security

	// Cluster: several servers on one PostgreSQL store (cluster.go).
	Cluster
	// Observability: metrics and logs (observability.go).
	Observability
	// Limits: what executions may cost the server (limits.go).
	Limits
	// StatusEvents: where execution status change events are sent
	// (statusevents.go).
	StatusEvents StatusEvents
}

// Defaults of the limits, as AWS's.
const (
	DefaultRetention        = 90 * 24 * time.Hour
	DefaultMaxHistoryEvents = 25000
	DefaultMaxPayloadBytes  = 262144
)

// DefaultConfig returns the defaults: DefaultAddr, the embedded store in
// DefaultDataDir(), AWS's limits and retention, account 123456789012 in
// us-east-1, real time, ExpressRetention closed Express executions kept
// and no history of synchronous ones.
func DefaultConfig() Config {
	return Config{
		Addr: DefaultAddr, Retention: DefaultRetention,
		MaxHistoryEvents: DefaultMaxHistoryEvents, MaxPayloadBytes: DefaultMaxPayloadBytes,
		AccountID: "123456789012", Region: "us-east-1", TimeScale: 1,
		ExpressRetention: ExpressRetention,
		Console:          true,
		Limits:           Limits{MaxExecutions: DefaultMaxExecutions, MaxResumeAttempts: DefaultMaxResumeAttempts},
	}
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
	if c.Pprof != "" {
		if _, port, err := net.SplitHostPort(c.Pprof); err != nil {
			bad("pprof", c.Pprof, "must be HOST:PORT")
		} else if p, ok := parsePort(port); !ok || p > 65535 {
			bad("pprof", c.Pprof, "port must be a number from 0 to 65535")
		}
	}
	if kind, _ := storeKind(c.Store); kind == "" {
		bad("store", c.Store, "unknown store (supported: memory, sqlite:///PATH, a file PATH, postgres://…)")
	}
	if c.Retention < 0 {
		bad("retention", c.Retention.String(), "must not be negative (0 keeps closed executions forever)")
	}
	if c.MaxHistoryEvents < 1 {
		bad("max-history-events", fmt.Sprint(c.MaxHistoryEvents), "must be positive")
	}
	if c.ExpressRetention < 0 {
		bad("express-retention", fmt.Sprint(c.ExpressRetention), "must not be negative (0 keeps no closed Express executions)")
	}
	if c.MaxPayloadBytes < 1 {
		bad("max-payload-bytes", fmt.Sprint(c.MaxPayloadBytes), "must be positive")
	}
	if c.LambdaEndpoint != "" {
		u, err := url.Parse(c.LambdaEndpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("lambda-endpoint", c.LambdaEndpoint, "must be an http:// or https:// URL")
		}
	}
	errs = append(errs, validateAWSEndpoints(c.AWS.Endpoints)...)
	if !accountRE.MatchString(c.AccountID) {
		bad("account-id", c.AccountID, "must be 12 digits")
	}
	if !regionRE.MatchString(c.Region) {
		bad("region", c.Region, "must look like us-east-1")
	}
	if math.IsNaN(c.TimeScale) || math.IsInf(c.TimeScale, 0) || c.TimeScale <= 0 {
		bad("time-scale", fmt.Sprint(c.TimeScale), "must be a positive number")
	}
	errs = append(errs, c.Security.validate(c.Addr)...)
	errs = append(errs, c.Cluster.validate()...)
	errs = append(errs, c.Observability.validate()...)
	errs = append(errs, c.Limits.validate()...)
	errs = append(errs, c.StatusEvents.validate()...)
	if _, err := httptask.ParseRules(c.HTTPTaskAllow); err != nil {
		bad("http-task-allow", c.HTTPTaskAllow, "%v", err)
	}
	if _, err := httptask.ParseRules(c.HTTPTaskDeny); err != nil {
		bad("http-task-deny", c.HTTPTaskDeny, "%v", err)
	}
	if _, err := api.ParseCORSOrigins(c.CORSOrigins); err != nil {
		errs = append(errs, &FieldError{Field: "cors-origin", Value: c.CORSOrigins, Err: err})
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

// Invoker returns the task invoker for the configuration, without a
// server: Lambda tasks go to the configured endpoint, HTTP Tasks to their
// endpoints (no connections file), AWS service tasks to c.AWS; nested
// executions need a server (New). It also checks tasks before they are
// scheduled: give it to engine.Config as the Invoker and the Checker.
func Invoker(c Config) (*integrations.Router, error) {
	aws, err := awsIntegration(c, nil)
	if err != nil {
		return nil, err
	}
	return newRouter(c, nil, nil, nil, aws), nil
}

// noLambda fails Lambda tasks when no endpoint is configured.
type noLambda struct{}

func (noLambda) Invoke(ctx context.Context, t *engine.Task) (any, error) {
	return nil, fault.New(fault.Runtime, "The resource '"+t.Resource+
		"' is a Lambda function and no Lambda endpoint is configured (use --lambda-endpoint URL).")
}

// Server is a composed server: the API over its store, with the
// executions recovered at start and the retention job.
type Server struct {
	// Handler serves the Step Functions API on POST, a health check on
	// GET /healthz and a readiness check on GET /readyz.
	Handler http.Handler
	// API is the Step Functions API.
	API *api.Server
	// Store holds state machines and Standard executions.
	Store store.Store
	// StoreInfo describes the store for people ("embedded /path/stepwell.db").
	StoreInfo string
	// Recovered is how many running executions were resumed at start.
	Recovered int
	// AuthInfo describes the authentication for people ("none", "AWS
	// SigV4, 2 access keys").
	AuthInfo string

	// NodeInfo describes the server as a node of a cluster for people
	// ("host:8083 (id 7, lease 10s)"); empty when it is not one.
	NodeInfo string

	parts    *Parts
	stopJobs context.CancelFunc
	jobs     sync.WaitGroup
	lost     chan struct{} // closed when the node lost its lease
}

// Lost returns a channel closed when the server, one of several sharing a
// store, has lost its lease: it must stop (Run returns ErrLeaseLost).
func (s *Server) Lost() <-chan struct{} { return s.lost }

// New opens the configured store, wires the server (Wire) and resumes the
// executions that were running when the store was last used. Close it
// when done.
func New(ctx context.Context, c Config, logger *slog.Logger) (*Server, error) {
	return newServer(ctx, c, logger, wiring{})
}

func newServer(ctx context.Context, c Config, logger *slog.Logger, w wiring) (*Server, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	keys, err := c.keys()
	if err != nil {
		return nil, err
	}
	p, err := wire(ctx, c, logger, w)
	if err != nil {
		return nil, err
	}
	s := &Server{API: p.API, Store: p.Store, StoreInfo: p.StoreInfo, AuthInfo: c.authMode(keys), parts: p}
	resume := p.Executions.ResumeRunning
	if p.node != nil {
		// One of several servers: resume only the executions it claims.
		resume = p.Executions.ResumeClaimed
		s.NodeInfo = fmt.Sprintf("%s (id %d, lease %v)", p.node.name, p.node.id, p.node.lease)
	}
	if c.NoResume {
		resume = func(context.Context) (int, error) { return 0, nil }
		logger.Warn("not resuming the running executions (--no-resume): list them with ListExecutions and stop those that must not resume")
	}
	if s.Recovered, err = resume(ctx); err != nil {
		_ = s.Close(context.Background())
		return nil, fmt.Errorf("recover running executions: %w", err)
	}
	// Serve only once the resumed executions have reopened the task tokens
	// they had handed out: a SendTaskSuccess right after the start must
	// find its task.
	wctx, wcancel := context.WithTimeout(ctx, resumeSettleTimeout)
	if err := p.Engine.WaitResumed(wctx); err != nil {
		logger.Warn("resumed executions still replaying their histories", "err", err)
	}
	wcancel()
	jctx, cancel := context.WithCancel(context.Background())
	s.stopJobs = cancel
	s.lost = make(chan struct{})
	if n := p.node; n != nil {
		s.jobs.Add(2)
		go func() {
			defer s.jobs.Done()
			if n.run(jctx, p.Executions, logger) != nil {
				close(s.lost)
			}
		}()
		go func() {
			defer s.jobs.Done()
			_ = n.st.Listen(jctx, p.Executions.HandleSignal)
		}()
	}
	s.jobs.Add(1)
	go func() {
		defer s.jobs.Done()
		p.guard.watch(jctx) // limits.go
	}()
	if c.Retention > 0 {
		s.jobs.Add(1)
		go func() {
			defer s.jobs.Done()
			retain(jctx, p.Store, c.Retention, p.clock, logger)
		}()
	}
	srv := logRequests(logger, p.Metrics.Instrument(p.API.Authenticated(keys))) // observability.go
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	if c.metricsOnAPI(keys != nil) {
		mux.Handle("GET /metrics", p.Metrics) // observability.go
	} else {
		mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "stepwell: metrics are not served on this address (see --metrics)", http.StatusNotFound)
		})
	}
	mux.Handle("POST /", srv)
	// The web console: GET / and its addresses; it calls the API above.
	var web http.Handler
	if c.Console {
		web = console.Handler()
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			srv.ServeHTTP(w, r)
			return
		}
		if web != nil && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			web.ServeHTTP(w, r)
			return
		}
		http.Error(w, "stepwell: the Step Functions API answers POST requests (X-Amz-Target: AWSStepFunctions.<Action>)", http.StatusNotFound)
	})
	// Browsers of the configured origins (validated by Validate).
	origins, _ := api.ParseCORSOrigins(c.CORSOrigins)
	// Every POST is the API's (above): it skips the mux's matching, a
	// cost at every request.
	s.Handler = api.CORS(origins, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			srv.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	return s, nil
}

// readyz answers GET /readyz: 200 "ok" while the server takes new work,
// 503 with the reason while it does not — shutting down, its lease lost
// (one of several servers), or its live heap over half the memory budget
// (StartExecution answers ExecutionLimitExceeded). The server listens
// only once its running executions have resumed, so a server that
// answers has resumed them. /healthz answers as long as it serves at all.
func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	reason := ""
	switch p := s.parts; {
	case p.fence.closing.Load():
		reason = "shutting down"
	case p.node != nil && !p.node.Leased():
		reason = "lease lost: this server drives no execution"
	case p.guard != nil && p.guard.Overloaded():
		reason = "over half the memory budget: new executions are refused until running ones end"
	}
	if reason != "" {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "not ready: "+reason+"\n")
		return
	}
	_, _ = io.WriteString(w, "ok\n")
}

// Close stops the server: from now on nothing more is written (running
// Standard executions stay RUNNING in a durable store and resume at the
// next start, exactly as after a crash), running executions are
// cancelled, and the store is closed.
func (s *Server) Close(ctx context.Context) error {
	// A clean shutdown is no crash: the executions resumed lately do not
	// count it against their quarantine (limits.go).
	s.parts.Executions.SettleResumed(ctx)
	s.parts.fence.shutdown()
	if s.stopJobs != nil {
		s.stopJobs()
	}
	s.jobs.Wait()
	return s.parts.Close(ctx)
}

// Run serves until ctx is done, then shuts down gracefully. It prints the
// address it listens on and the store it uses to logw.
func Run(ctx context.Context, cfg Config, logw io.Writer) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("invalid configuration: %w", err)
	}
	logger := cfg.Observability.logger(logw)
	for _, w := range cfg.Security.warnings(cfg.Addr) {
		fmt.Fprintf(logw, "stepwell: warning: %s\n", w)
	}
	// Listen first: the address names the node (Cluster.NodeName), and
	// holding it proves that no other process runs under that name.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if cfg.NodeName == "" {
		cfg.NodeName = nodeName(ln.Addr())
	}
	srv, err := New(ctx, cfg, logger)
	if err != nil {
		_ = ln.Close()
		return err
	}
	tlsConfig, err := cfg.tlsConfig()
	if err != nil {
		_ = ln.Close()
		_ = srv.Close(context.Background())
		return err
	}
	handler := srv.Handler
	if cfg.checksHost(cfg.Addr) {
		handler = loopbackHostOnly(handler)
	}
	hs := &http.Server{Handler: handler, ReadHeaderTimeout: readHeaderTimeout, IdleTimeout: idleTimeout,
		MaxHeaderBytes: maxHeaderBytes, TLSConfig: tlsConfig, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	unused := trackUnused(hs)
	if cfg.Pprof != "" {
		stop, err := servePprof(cfg.Pprof, logw)
		if err != nil {
			_ = ln.Close()
			_ = srv.Close(context.Background())
			return err
		}
		defer stop()
	}
	if addr := cfg.metricsAddr(); addr != "" {
		stop, err := serveMetrics(addr, srv.parts.Metrics, logw)
		if err != nil {
			_ = ln.Close()
			_ = srv.Close(context.Background())
			return err
		}
		defer stop()
	}
	fmt.Fprintf(logw, "stepwell: store %s; resumed %d running executions\n", srv.StoreInfo, srv.Recovered)
	fmt.Fprintf(logw, "stepwell: integrations: %s\n", cfg.integrationsLine())
	if srv.NodeInfo != "" {
		fmt.Fprintf(logw, "stepwell: node %s\n", srv.NodeInfo)
	}
	if cfg.StatusEvents.URLs != "" {
		fmt.Fprintf(logw, "stepwell: status change events to %s\n", cfg.RedactedStatusEvents())
	}
	if cfg.HTTPTaskAllow != "" || cfg.HTTPTaskDeny != "" {
		fmt.Fprintf(logw, "stepwell: HTTP Tasks may connect to: allow %q, deny %q\n", cfg.HTTPTaskAllow, cfg.HTTPTaskDeny)
	}
	if cfg.CORSOrigins != "" {
		fmt.Fprintf(logw, "stepwell: browsers of %s may call the API (CORS)\n", cfg.CORSOrigins)
	}
	scheme := "http"
	if tlsConfig != nil {
		scheme = "https"
	}
	fmt.Fprintf(logw, "stepwell: listening on %s://%s (region %s, account %s, time scale %g; authentication: %s)\n",
		scheme, ln.Addr(), cfg.Region, cfg.AccountID, cfg.TimeScale, srv.AuthInfo)
	errc := make(chan error, 1)
	go func() {
		if tlsConfig != nil {
			errc <- hs.ServeTLS(ln, "", "")
			return
		}
		errc <- hs.Serve(ln)
	}()
	select {
	case err := <-errc:
		_ = srv.Close(context.Background())
		return fmt.Errorf("serve: %w", err)
	case <-srv.Lost():
		_ = hs.Close()
		_ = srv.Close(context.Background())
		return ErrLeaseLost
	case <-ctx.Done():
	}
	fmt.Fprintf(logw, "stepwell: shutting down (requests in flight get up to 5s)\n")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	hs.RegisterOnShutdown(unused.close)
	err = hs.Shutdown(sctx)
	if cerr := srv.Close(sctx); err == nil {
		err = cerr
	}
	if err != nil && !strings.Contains(err.Error(), "context deadline exceeded") {
		return fmt.Errorf("shutdown: %w", err)
	}
	if cfg.Store == "memory" {
		fmt.Fprintf(logw, "stepwell: stopped; the memory store's executions are gone\n")
	} else {
		fmt.Fprintf(logw, "stepwell: stopped; running Standard executions resume at the next start\n")
	}
	return nil
}

// integrationsLine names, for the start-up lines, where tasks go: the
// Lambda endpoint, the AWS service endpoints and the mock configuration
// (secrets masked).
func (c Config) integrationsLine() string {
	lambda := "none (Lambda tasks fail: --lambda-endpoint)"
	if c.LambdaEndpoint != "" {
		lambda = Redact(c.LambdaEndpoint)
	}
	aws := FormatAWSEndpoints(c.AWS.Endpoints)
	if aws == "none" {
		aws = "AWS's own, with the standard AWS credentials (none: those tasks fail)"
	}
	line := "lambda " + lambda + "; aws services " + aws
	if c.MockConfig != "" {
		line += "; mocked responses from " + c.MockConfig
	}
	return line
}

// expressStore is the in-memory store of Express executions keeping at
// most retention closed ones (none when retention is 0), of at most
// maxBytes in all (0: no bound; limits.go).
func expressStore(retention int, maxBytes int64) store.Store {
	if retention > 0 {
		return memory.New(memory.Options{MaxClosedExecutions: retention, MaxClosedBytes: maxBytes})
	}
	// The memory store keeps at least one closed execution: hide it.
	return runningOnly{memory.New(memory.Options{MaxClosedExecutions: 1})}
}

// runningOnly is a store in which closed executions do not exist: reading
// one is store.ErrNotFound and listings leave them out.
type runningOnly struct{ store.Store }

// GetExecution returns the execution if it is running.
func (r runningOnly) GetExecution(ctx context.Context, arn string) (*store.Execution, error) {
	x, err := r.Store.GetExecution(ctx, arn)
	if err == nil && x.Status != store.StatusRunning {
		return nil, store.ErrNotFound
	}
	return x, err
}

// History returns the history of a running execution.
func (r runningOnly) History(ctx context.Context, arn string, reverse bool, p store.Page) ([]history.Event, string, error) {
	if _, err := r.GetExecution(ctx, arn); err != nil {
		return nil, "", err
	}
	return r.Store.History(ctx, arn, reverse, p)
}

// ListExecutions lists the running executions.
func (r runningOnly) ListExecutions(ctx context.Context, f store.ExecutionFilter, p store.Page) ([]*store.Execution, string, error) {
	items, next, err := r.Store.ListExecutions(ctx, f, p)
	kept := items[:0]
	for _, x := range items {
		if x.Status == store.StatusRunning {
			kept = append(kept, x)
		}
	}
	return kept, next, err
}
