package app

import (
	"context"
	"log/slog"

	"github.com/stepwell/stepwell/api"
	"github.com/stepwell/stepwell/arn"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/executions"
	"github.com/stepwell/stepwell/integrations/tasktoken"
	"github.com/stepwell/stepwell/internal/clock"
	"github.com/stepwell/stepwell/logs"
	"github.com/stepwell/stepwell/metrics"
	"github.com/stepwell/stepwell/statusevents"
	"github.com/stepwell/stepwell/store"
)

// Parts are a server's wired components: the opened store, the engine,
// the task broker, the executions service and the API over them. New
// builds a Server from them; tests that need a part reach it here.
type Parts struct {
	// Store is the opened store (state machines, Standard executions).
	Store store.Store
	// StoreInfo describes the store for people ("embedded /path/stepwell.db").
	StoreInfo string
	// Engine runs the executions.
	Engine *engine.Engine
	// Tasks holds the open activity and callback tasks.
	Tasks *tasktoken.Broker
	// Executions is the executions service.
	Executions *executions.Service
	// API is the Step Functions API.
	API *api.Server
	// Metrics counts the executions and the API requests (package metrics).
	Metrics *metrics.Registry

	fence     *fencedStore
	closeLogs func() error         // the execution logs' sink
	events    *statusevents.Sender // nil when no status events are sent
	clock     clock.Clock
	node      *node // one of several servers on the store; nil otherwise
	guard     *memoryGuard
}

// Wire opens the configured store and wires the server's parts over it.
// It resumes nothing and serves nothing (New does both). Close the parts
// with Close.
func Wire(ctx context.Context, c Config, logger *slog.Logger) (*Parts, error) {
	return wire(ctx, c, logger, wiring{})
}

// wiring lets benchmarks wrap the stores to count what they do; the zero
// value wires as Wire does.
type wiring struct {
	// open opens the backend (default openStore).
	open func(context.Context, Config) (*backend, error)
	// express wraps the Express store (default: none).
	express func(store.Store) store.Store
	// clock is the server's clock (default clock.Real).
	clock clock.Clock
}

func wire(ctx context.Context, c Config, logger *slog.Logger, w wiring) (*Parts, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	open := w.open
	if open == nil {
		open = func(ctx context.Context, c Config) (*backend, error) { return openStore(ctx, c, logger) }
	}
	express := expressStore(c.ExpressRetention, c.Limits.expressBytes()) // limits.go
	if w.express != nil {
		express = w.express(express)
	}
	clk := w.clock
	if clk == nil {
		clk = clock.Real{}
	}
	// Nested executions call the server's own API (local, set up below).
	local := &localAPI{clock: clk}
	router, mocks, err := serverIntegrations(c, local, clk)
	if err != nil {
		return nil, err
	}
	// Distributed Map item readers and result writers (S3).
	items, err := mapItemStore(c)
	if err != nil {
		return nil, err
	}
	execLogs, closeLogs, err := executionLogs(c.Observability, logger)
	if err != nil {
		return nil, err
	}
	b, err := open(ctx, c)
	if err != nil {
		_ = closeLogs()
		return nil, err
	}
	key, err := b.tokenKey(ctx)
	if err != nil {
		_ = b.store.Close()
		return nil, err
	}
	fence := &fencedStore{Store: b.store}
	// A store several servers share: this one joins them as a node.
	var n *node
	if cs, ok := b.store.(clustered); ok {
		if n, err = join(ctx, cs, c.Cluster); err != nil {
			_ = b.store.Close()
			return nil, err
		}
		fence.node = n
	}
	tasks := tasktoken.New(b.activities)
	tasks.Clock = clk
	invoker, testCases := withMocks(mocks, tasks.Wrap(router))
	eng := engine.New(engine.Config{
		Clock: clk, TimeScale: c.TimeScale, Region: c.Region, AccountID: c.AccountID,
		Invoker: invoker, Checker: invoker, Resumer: invoker,
		MaxPayloadBytes: c.MaxPayloadBytes, MaxHistoryEvents: c.MaxHistoryEvents,
		TokenKey: key, // tokens stay valid across restarts (durable stores)
		Items:    items, Results: items,
		// Goroutines that ran an execution wait for the next one, their
		// stacks grown: up to about what the executions started at once
		// by many clients need (a few MiB of stacks at most).
		IdleRunners: 128,
	})
	tasks.Tokens = eng
	versions := fencedVersions{Versions: b.versions, fence: fence}
	scope := arn.Scope{Region: c.Region, Account: c.AccountID}
	var reopener store.Reopener
	if b.reopener != nil {
		reopener = fencedReopener{fence: fence, r: b.reopener}
	}
	ecfg := executions.Config{
		Store: fence, Reopener: reopener, Engine: eng, Scope: scope, Logger: logger, Clock: clk,
		// Express executions live in memory only, the closed ones
		// bounded; synchronous ones only with ExpressHistory.
		Express: express, ExpressHistory: c.ExpressHistory,
		// Execution metadata and Map Runs: with the executions.
		Versions: versions,
		// The open activity and callback tasks.
		Tasks: tasks,
		// Executions started with "#TestCase" use the mock configuration.
		TestCases: testCases,
	}
	lim := c.Limits.effective() // limits.go
	lim.applyMemoryBudget()
	ecfg.MaxRunning, ecfg.MaxHistoryBytes, ecfg.MaxResumeAttempts = lim.MaxExecutions, lim.MaxHistoryBytes, lim.MaxResumeAttempts
	guard := lim.memoryGuard()
	ecfg.Overloaded = guard.Overloaded
	if n != nil {
		ecfg.Cluster = n
	}
	// The executions' metrics and logs (observability.go), from their
	// histories.
	reg := metrics.New(api.Operations())
	reg.StoreStats = storeStats(b.store)
	if n != nil {
		n.addMetrics(reg) // cluster.go
	}
	if w, ok := execLogs.(*logs.Writer); ok {
		reg.AddFunc("stepwell_execution_logs_dropped_total", "counter", "Execution log records dropped because their sink was behind.",
			func() []metrics.Sample { return []metrics.Sample{{Value: float64(w.Dropped())}} })
	}
	// The status change events (statusevents.go), also from the
	// histories.
	events, err := statusEventSender(c, fence, reg, logger)
	if err != nil {
		_ = b.store.Close()
		_ = closeLogs()
		return nil, err
	}
	observers := []executions.Observer{reg, execLogs}
	if events != nil {
		observers = append(observers, events)
	}
	ecfg.Observer = executions.Observers(observers...)
	svc := executions.New(ecfg)
	reg.Open = svc.Open
	reg.AddFunc("stepwell_open_map_runs", "gauge", "Map Runs (Distributed Maps) this server drives now (AWS ApproximateOpenMapRunCount).",
		func() []metrics.Sample { return []metrics.Sample{{Value: float64(svc.OpenMapRuns())}} })
	srv := api.New(api.Config{
		Store: ecfg.Store, Executions: svc, Region: c.Region, Account: c.AccountID, Logger: logger,
		Versions: versions, Activities: b.activities, Now: clk.Now,
		PageTokenKey: derivedKey(key, "page tokens"), // valid across restarts, as task tokens
	})
	local.srv, local.svc, local.tokens = srv, svc, tasks
	return &Parts{Store: b.store, StoreInfo: b.info, Engine: eng, Tasks: tasks, Executions: svc, API: srv, Metrics: reg, closeLogs: closeLogs, events: events, fence: fence, clock: clk, node: n, guard: guard}, nil
}

// Close stops the parts: from now on nothing more is written (running
// Standard executions stay RUNNING in a durable store and resume at the
// next start, exactly as after a crash), running executions are
// cancelled, and the store is closed.
func (p *Parts) Close(ctx context.Context) error {
	p.fence.shutdown()
	err := p.Executions.Close(ctx)
	if p.events != nil {
		// What is queued is sent, as long as ctx lets it (and for a
		// few seconds at most), before the store closes: the events of
		// resumed executions read their rows.
		ectx, cancel := context.WithTimeout(ctx, eventsDrainTimeout)
		_ = p.events.Close(ectx)
		cancel()
	}
	if cerr := p.Store.Close(); err == nil {
		err = cerr
	}
	if cerr := p.closeLogs(); err == nil {
		err = cerr
	}
	return err
}
