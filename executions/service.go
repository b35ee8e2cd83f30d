// Package executions runs Step Functions executions: it owns their
// lifecycle between the API, which decodes and validates requests, and the
// engine and store below it.
//
// A Service starts executions (Standard ones recorded in the main store,
// Express ones in their own store, synchronous ones optionally recorded),
// keeps the registry of the executions this process drives, records each
// execution's history and closes it with its terminal event, stops
// executions (closing one no engine run drives, after a restart), plans
// redrives and the resumption of running executions after a restart,
// parks the executions that wait in a Wait state (no goroutine, only a
// timer entry, until they are revived from their histories: park.go),
// binds executions to the mock test cases they were started with, and
// records Distributed Map Runs. The open activity and callback tasks
// (GetActivityTask, SendTask*) are reached through a TaskBroker, an
// interface declared here so that this package, like the API above it,
// knows no integration.
//
// Errors the caller must answer in its own words (an execution that does
// not exist, that is not redrivable, a token that is invalid…) are
// *RefusedError values whose Kind is one of the Err* sentinels.
package executions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stepwell/stepwell/arn"
	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/internal/clock"
	"github.com/stepwell/stepwell/store"
)

// TypeExpress and TypeStandard are the state machine types.
const (
	TypeExpress  = "EXPRESS"
	TypeStandard = "STANDARD"
)

// DefaultMaxExpressDuration is AWS's limit on an Express execution.
const DefaultMaxExpressDuration = 5 * time.Minute

// Config configures a Service.
type Config struct {
	// Store keeps the state machine revisions and the Standard executions
	// (required).
	Store store.Store
	// Reopener reopens the closed Standard executions of Store that
	// Redrive continues: Store's own, behind the same write fence. Nil
	// refuses redrives with ErrRedriveUnsupported.
	Reopener store.Reopener
	// Engine runs the executions (required).
	Engine *engine.Engine
	// Scope builds execution ARNs (zero fields default to aws, us-east-1,
	// 123456789012).
	Scope arn.Scope
	// Express keeps the Express executions started with Start and their
	// histories: typically a capped in-memory store. Nil keeps them in
	// Store.
	Express store.Store
	// ExpressHistory also records the executions of StartSync (row and
	// history) in Express. Off, a synchronous execution keeps no history
	// and stores nothing (the fastest path).
	ExpressHistory bool
	// MaxExpressDuration ends Express executions that run longer
	// (default DefaultMaxExpressDuration).
	MaxExpressDuration time.Duration
	// Versions keeps the executions' metadata (version, alias, redrives,
	// test case) and the Map Runs. Nil: none are kept, and redrives are
	// refused with ErrNoVersions.
	Versions store.Versions
	// TestCases binds executions to mock test cases; nil refuses
	// StartInput.TestCase.
	TestCases TestCaseBinder
	// Tasks holds the open activity and .waitForTaskToken tasks; the
	// engine's invoker must route those tasks to the same broker. Nil
	// refuses the task operations with ErrNoTasks.
	Tasks TaskBroker
	// PollTimeout is how long PollActivity waits for a task (0: the
	// broker's default).
	PollTimeout time.Duration
	// Clock tells the time of starts and stops and times the parked
	// executions and the waits of Stop (default clock.Real); give the
	// engine's.
	Clock clock.Clock
	// ParkAfter is the shortest wait of a Wait state at the top level of
	// a Standard execution that parks it (see park.go): 0 means
	// DefaultParkAfter, a negative value never parks.
	ParkAfter time.Duration
	// Logger receives the failures no caller sees (default: discard).
	Logger *slog.Logger
	// Cluster, when several processes share Store, claims the executions
	// this process resumes and reaches the others (cluster.go); nil for
	// a store of one process.
	Cluster Cluster
	// Observer watches the executions (metrics, logs: observe.go); nil
	// for none.
	Observer Observer
	// MaxRunning is the most executions this process runs at once
	// (parked ones included); Start refuses more with
	// ErrExecutionLimitExceeded. 0: no limit.
	MaxRunning int
	// MaxHistoryBytes is the most bytes one execution's history may take
	// (its data and causes, estimated); the execution that needs more
	// fails with States.Runtime (limits.go). 0: no limit.
	MaxHistoryBytes int64
	// MaxResumeAttempts is how many times in a row a restart may resume
	// an execution that the server did not survive running (quarantine.go):
	// the next restart fails it. 0 means DefaultMaxResumeAttempts; a
	// negative value never quarantines.
	MaxResumeAttempts int
	// Overloaded, when set, tells that the server is over its memory
	// budget: Start and StartSync refuse new executions with
	// ErrExecutionLimitExceeded until it is not (limits.go).
	Overloaded func() bool
}

// TestCaseBinder binds executions to the mock test cases of Step Functions
// Local's mock configuration (integrations/mock.Invoker is one).
type TestCaseBinder interface {
	// TestCase fails when the mock configuration has no such test case
	// (Bind of it would fail).
	TestCase(machine, testCase string) error
	// Bind makes the execution use the test case of the state machine
	// named machine; it fails when the mock configuration has no such test
	// case.
	Bind(executionARN, machine, testCase string) error
	// Unbind forgets an execution that has ended.
	Unbind(executionARN string)
}

// Service runs executions. Its methods are safe for concurrent use.
type Service struct {
	st       store.Store
	reopen   store.Reopener
	express  store.Store
	syncHist bool
	ver      store.Versions
	eng      *engine.Engine
	// liveRuns are the recorders of the running Map Runs by ARN
	// (*recExtra; mapruns.go).
	liveRuns sync.Map
	scope    arn.Scope
	maxExpr  time.Duration
	mocks    TestCaseBinder
	tasks    TaskBroker
	pollWait time.Duration
	clock    clock.Clock
	now      func() time.Time // clock.Now
	log      *slog.Logger
	cluster  Cluster
	obs      Observer

	maxRunning   int   // limits.go
	maxHistBytes int64 // limits.go
	maxResumes   int   // quarantine.go
	overloaded   func() bool
	// unsettled are the executions resumed less than resumeSettle ago
	// (quarantine.go).
	unsettled sync.Map

	parkAfter  time.Duration // < 0: never park
	timerNudge chan struct{}
	reviveSem  chan struct{}

	ctx    context.Context // parent of every execution started
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	runs   map[string]*running // running executions by ARN
	timers timerHeap           // the parked executions
	// parkWatch, set by tests, is told of each execution parked.
	parkWatch func(executionARN string)

	// machines are the compiled definitions by machine revision; every
	// start reads them, so they have a lock of their own.
	machMu   sync.RWMutex
	machines map[revisionKey]*asl.StateMachine
	// machBytes is the length of their definitions' texts (limits.go).
	machBytes int
	// lastChildKey is the latest Map Run of EXPRESS children recorded and
	// its ChildKey (children.go).
	lastChildKey atomic.Pointer[[2]string]
}

// revisionKey names a machine revision.
type revisionKey struct{ machineARN, revisionID string }

// New returns a Service. Close it to stop its running executions.
func New(cfg Config) *Service {
	s := &Service{
		st: cfg.Store, reopen: cfg.Reopener, express: cfg.Express, syncHist: cfg.ExpressHistory, ver: cfg.Versions, eng: cfg.Engine,
		scope: cfg.Scope.WithDefaults(), maxExpr: cfg.MaxExpressDuration, mocks: cfg.TestCases, tasks: cfg.Tasks,
		pollWait: cfg.PollTimeout, clock: cfg.Clock, log: cfg.Logger, parkAfter: cfg.ParkAfter, cluster: cfg.Cluster, obs: cfg.Observer,
		maxRunning: cfg.MaxRunning, maxHistBytes: cfg.MaxHistoryBytes, maxResumes: cfg.MaxResumeAttempts, overloaded: cfg.Overloaded,
		timerNudge: make(chan struct{}, 1),
		reviveSem:  make(chan struct{}, maxReviving),
		runs:       make(map[string]*running),
		machines:   make(map[revisionKey]*asl.StateMachine),
	}
	if s.express == nil {
		s.express = s.st
	}
	if s.maxExpr <= 0 {
		s.maxExpr = DefaultMaxExpressDuration
	}
	if s.clock == nil {
		s.clock = clock.Real{}
	}
	s.now = s.clock.Now
	if s.parkAfter == 0 {
		s.parkAfter = DefaultParkAfter
	}
	if s.maxResumes == 0 {
		s.maxResumes = DefaultMaxResumeAttempts
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(1)
	go s.serveTimers()
	return s
}

// Close cancels every running execution and waits until their goroutines
// have finished recording, or ctx is done.
func (s *Service) Close(ctx context.Context) error {
	s.cancel()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Mocked reports whether executions can be bound to mock test cases
// (Config.TestCases is set).
func (s *Service) Mocked() bool { return s.mocks != nil }

// Get returns the execution an ARN names (an Express execution from the
// Express store) and the store that holds it. An unknown execution, or an
// ARN that names no execution, is refused with ErrExecutionDoesNotExist.
func (s *Service) Get(ctx context.Context, executionARN string) (*store.Execution, store.Store, error) {
	st := s.st
	if a, err := arn.Parse(executionARN); err == nil && a.Type == arn.Express {
		st = s.express
	}
	x, err := st.GetExecution(ctx, executionARN)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, refused(ErrExecutionDoesNotExist, executionARN, "")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get execution: %w", err)
	}
	return x, st, nil
}

// running is an execution this process drives: an engine run, or parked
// (park.go) with no run until it is revived.
type running struct {
	arn string
	run *engine.Run // nil unless live or parking
	// ended is closed once the execution's end is recorded (or could not
	// be); made when first asked for (most executions nobody waits for).
	ended chan struct{}
	over  bool      // unregistered
	state int       // live, parking, parked, reviving
	due   time.Time // parked: when to revive it
	idx   int       // parked: its index in the timer heap
	stop  *stopReq  // StopExecution asked to stop it
	// creating is closed once the row of a new execution is created, or
	// could not be (nil for one that existed when its run began).
	creating <-chan struct{}
}

// stopReq is a StopExecution's error and cause.
type stopReq struct{ err, cause string }

// register adds an execution's run to the registry, or gives it to the
// parked execution it revives; call with s.mu held.
func (s *Service) register(executionARN string, run *engine.Run) *running {
	if r := s.runs[executionARN]; r != nil && r.state == reviving {
		r.run, r.state = run, live
		if r.stop != nil {
			run.Stop(r.stop.err, r.stop.cause)
		}
		return r
	}
	r := &running{arn: executionARN, run: run, idx: -1}
	s.runs[executionARN] = r
	return r
}

// unregister removes an ended execution from the registry and tells its
// waiters, once its end is recorded.
func (s *Service) unregister(executionARN string, r *running) {
	s.mu.Lock()
	if s.runs[executionARN] == r {
		delete(s.runs, executionARN)
	}
	ch, over := r.ended, r.over
	r.over = true
	s.mu.Unlock()
	if ch != nil && !over {
		close(ch)
	}
}

// endedChan returns r.ended, made on first use; call with s.mu held.
func (r *running) endedChan() chan struct{} {
	if r.ended == nil {
		r.ended = make(chan struct{})
		if r.over {
			close(r.ended)
		}
	}
	return r.ended
}

// Ended returns a channel closed once an execution this process drives
// has ended and its end is recorded (Get then finds it closed); nil (a
// channel that never delivers) for an execution it does not drive, such
// as one that has ended already.
func (s *Service) Ended(executionARN string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.runs[executionARN]; r != nil {
		return r.endedChan()
	}
	return nil
}

// Cache keeps the compiled definition of a machine revision, so that
// starting it does not compile it again; within bounds (limits.go): a
// definition too large is compiled again at each start instead.
func (s *Service) Cache(machineARN, revisionID string, sm *asl.StateMachine) {
	if !cacheable(sm) {
		return
	}
	s.machMu.Lock()
	k := revisionKey{machineARN, revisionID}
	if old := s.machines[k]; old != nil {
		s.machBytes -= len(old.Definition)
	}
	s.machines[k] = sm
	s.machBytes += len(sm.Definition)
	s.trimMachines()
	s.machMu.Unlock()
}

// Forget drops the compiled definitions of a machine (deleted).
func (s *Service) Forget(machineARN string) {
	s.machMu.Lock()
	for k, m := range s.machines {
		if k.machineARN == machineARN {
			s.machBytes -= len(m.Definition)
			delete(s.machines, k)
		}
	}
	s.machMu.Unlock()
}

// compiled returns the compiled definition of a stored machine revision.
// A definition that no longer loads is a *DefinitionError.
func (s *Service) compiled(sm *store.StateMachine) (*asl.StateMachine, error) {
	return s.Compiled(sm.ARN, sm.RevisionID, sm.Definition, sm.Type == TypeExpress)
}

// Compiled returns the compiled definition of revision revisionID of
// machine machineARN, whose text is definition, from the cache when it is
// there (and caching it otherwise): starts and the Describe operations
// (their variableReferences) compile a revision once. A definition that
// no longer loads is a *DefinitionError.
func (s *Service) Compiled(machineARN, revisionID, definition string, express bool) (*asl.StateMachine, error) {
	s.machMu.RLock()
	m := s.machines[revisionKey{machineARN, revisionID}]
	s.machMu.RUnlock()
	if m != nil {
		return m, nil
	}
	m, err := asl.Load([]byte(definition), asl.Options{Express: express})
	if err != nil {
		return nil, &DefinitionError{Err: err}
	}
	s.Cache(machineARN, revisionID, m)
	return m, nil
}

// meta returns what the Versions store keeps about an execution (zero
// when nothing, or no Versions store).
func (s *Service) meta(ctx context.Context, executionARN string) store.ExecutionMeta {
	if s.ver == nil {
		return store.ExecutionMeta{}
	}
	m, _, err := s.ver.GetExecutionMeta(ctx, executionARN)
	if err != nil {
		s.log.Error("read execution metadata", "arn", executionARN, "err", err)
	}
	return m
}

// TestState runs one state outside any execution, as the TestState
// operation (the engine's TestState).
func (s *Service) TestState(ctx context.Context, in *engine.TestInput) *engine.TestResult {
	return s.eng.TestState(ctx, in)
}
