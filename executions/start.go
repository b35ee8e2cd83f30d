package executions

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/internal/uuid"
	"github.com/stepwell/stepwell/store"
)

// StartInput is a start request the caller has validated.
type StartInput struct {
	// Machine is the state machine with the revision to run (a version's
	// when started through a version or alias).
	Machine *store.StateMachine
	// Name is the execution's name ("" picks a UUID).
	Name string
	// Input is the execution's JSON input.
	Input string
	// ParsedInput is Input parsed by value.ParseString, handed over to
	// the run (nil: the run parses Input).
	ParsedInput any
	// TraceHeader is kept with the execution.
	TraceHeader string
	// VersionARN and AliasARN are the version and alias the execution
	// was started through, if any.
	VersionARN, AliasARN string
	// TestCase is the mock test case to bind the execution to ("" for
	// none).
	TestCase string
}

// Started is an execution that Start started (or found already running
// with the same input).
type Started struct {
	ARN       string
	StartDate time.Time
}

// Start starts an execution and returns at once; Standard executions are
// recorded in the main store, Express ones in the Express store. Starting
// again, with the same input, an execution that is still running returns
// it; any other start of an existing name is refused with
// ErrExecutionAlreadyExists.
func (s *Service) Start(ctx context.Context, in StartInput) (*Started, error) {
	compiled, start, err := s.begin(&in)
	if err != nil {
		return nil, err
	}
	sm := in.Machine
	x := &store.Execution{
		Name: in.Name, StateMachineARN: sm.ARN, StateMachineName: sm.Name, RevisionID: sm.RevisionID,
		Type: sm.Type, Status: store.StatusRunning, Input: in.Input, TraceHeader: in.TraceHeader, StartDate: start,
	}
	st := s.st
	if sm.Type == TypeExpress {
		st = s.express
		x.ARN = s.scope.ExpressARN(sm.Name, in.Name, uuid.New())
	} else {
		x.ARN = s.scope.ExecutionARN(sm.Name, in.Name)
	}
	// The test case is checked first but bound only to the execution
	// created here: not to one already running (whose mocks would change
	// mid-run) nor to a start that fails.
	if err := s.checkTestCase(x.ARN, sm.Name, in.TestCase); err != nil {
		return nil, err
	}
	if why := s.executionLimit(); why != "" { // limits.go
		return nil, refused(ErrExecutionLimitExceeded, x.ARN, why)
	}
	// A Standard execution's test case is kept with it so that it keeps its
	// mocks when resumed after a restart or redriven.
	var meta *store.ExecutionMeta
	if (in.VersionARN != "" || (x.Type != TypeExpress && in.TestCase != "")) && s.ver != nil {
		meta = &store.ExecutionMeta{VersionARN: in.VersionARN, AliasARN: in.AliasARN}
		if x.Type != TypeExpress {
			meta.TestCase = in.TestCase
		}
	}
	// The row is created with the run's first durable batch of events
	// (recorder.create): an execution that runs to its end, or to its
	// first task, wait or callback, without an effect outside it is
	// recorded in one write. Start answers once that write is durable.
	for range 3 {
		ex := &engine.Execution{
			ARN: x.ARN, Name: x.Name, StateMachineARN: x.StateMachineARN, StateMachineName: x.StateMachineName,
			RoleARN: sm.RoleARN, Type: x.Type, Input: x.Input, ParsedInput: in.ParsedInput, StartTime: start, Machine: compiled,
			FirstWriteWithin: firstWriteWithin,
		}
		c := &creation{row: x, meta: meta, testCase: in.TestCase, done: make(chan struct{}), here: engine.Inline(ex)}
		if other := s.launch(st, ex, x.Type == TypeExpress, &recExtra{version: in.VersionARN, alias: in.AliasARN, logging: sm.Logging}, c); other != nil {
			// This process drives an execution of that name already (or
			// is creating it): a start again of the same one, or a
			// conflict.
			<-other
		} else {
			if c.run != nil {
				runHere(c.run) // to its end (creation.here)
			}
			if <-c.done; c.err == nil {
				return &Started{ARN: x.ARN, StartDate: start}, nil
			} else if !errors.Is(c.err, store.ErrAlreadyExists) {
				return nil, fmt.Errorf("create execution: %w", c.err)
			}
		}
		// Idempotent while running with the same input.
		old, err := st.GetExecution(ctx, x.ARN)
		if errors.Is(err, store.ErrNotFound) {
			continue // the other start failed: try again
		}
		if err == nil && old.Status == store.StatusRunning && old.Input == x.Input && old.StateMachineARN == x.StateMachineARN {
			return &Started{ARN: old.ARN, StartDate: old.StartDate}, nil
		}
		return nil, refused(ErrExecutionAlreadyExists, x.ARN, "")
	}
	return nil, refused(ErrExecutionAlreadyExists, x.ARN, "")
}

// firstWriteWithin bounds how long Start waits for a run's first batch
// of events (long chains of Pass and Choice states, slow JSONata
// expressions) before the row is written with what the run has so far.
const firstWriteWithin = 100 * time.Millisecond

// creation is the row that a new execution's recorder creates with the
// first batch of events the run records, and how that went.
type creation struct {
	row      *store.Execution
	meta     *store.ExecutionMeta // put once the row exists; nil for none
	testCase string               // bound before the run starts
	// done is closed once the row is created (err nil) or could not be.
	done chan struct{}
	err  error
	// here: the run never waits but for its own writes (engine.Inline),
	// so Start runs it to its end on its own goroutine (run, which launch
	// prepares) instead of handing it to a runner and waiting for its
	// first write: one goroutine handoff less each way.
	here bool
	run  *engine.Prepared
}

// runHere runs a prepared execution on the calling goroutine (Start's,
// an API request's). A panic in a run is a bug that stops the process on
// a runner's goroutine, where nothing recovers it; the HTTP server would
// recover it here and leave the execution registered and later starts of
// its name waiting forever, so it stops the process here too, with the
// run's stack.
func runHere(p *engine.Prepared) {
	defer func() {
		if v := recover(); v != nil {
			stack := debug.Stack()
			go func() { panic(fmt.Sprintf("%v\n\nthe run's goroutine:\n%s", v, stack)) }()
			select {} // until the panic above stops the process
		}
	}()
	p.RunHere()
}

// begin is what Start and StartSync share: the compiled definition, a
// name when none is given and the start time. The name is a UUID, as AWS
// picks, but a time-ordered one (uuid.Ordered) rather than AWS's random
// one: the store's index of execution ARNs then grows at its end, and a
// group commit of executions started together rewrites a few of its
// pages instead of one each.
func (s *Service) begin(in *StartInput) (*asl.StateMachine, time.Time, error) {
	compiled, err := s.compiled(in.Machine)
	if err != nil {
		return nil, time.Time{}, err
	}
	now := s.now()
	if in.Name == "" {
		in.Name = uuid.Ordered(now)
	}
	return compiled, now, nil
}

// SyncOutcome is how a synchronous execution ended.
type SyncOutcome struct {
	ARN                 string
	StartDate, StopDate time.Time
	engine.Result
}

// StartSync runs an Express execution to its end (at most
// Config.MaxExpressDuration, or until ctx is done). With
// Config.ExpressHistory it is recorded in the Express store like the
// executions of Start; otherwise it stores nothing.
func (s *Service) StartSync(ctx context.Context, in StartInput) (*SyncOutcome, error) {
	compiled, start, err := s.begin(&in)
	if err != nil {
		return nil, err
	}
	sm := in.Machine
	if s.overloaded != nil && s.overloaded() { // limits.go
		return nil, refused(ErrExecutionLimitExceeded, sm.ARN, s.executionLimit())
	}
	ex := &engine.Execution{
		ARN: s.scope.ExpressARN(sm.Name, in.Name, uuid.New()), Name: in.Name, StateMachineARN: sm.ARN,
		StateMachineName: sm.Name, RoleARN: sm.RoleARN, Type: TypeExpress, Input: in.Input, ParsedInput: in.ParsedInput, StartTime: start, Machine: compiled,
		Sync: true,
	}
	if err := s.checkTestCase(ex.ARN, sm.Name, in.TestCase); err != nil {
		return nil, err
	}
	if in.TestCase != "" {
		// The ARN is new (a fresh UUID in it): no other execution has it.
		s.bind(ex, in.TestCase)
		defer s.mocks.Unbind(ex.ARN)
	}
	ctx, cancel := context.WithTimeout(ctx, s.maxExpr)
	defer cancel()
	var res engine.Result
	if s.syncHist {
		if res, err = s.executeRecorded(ctx, ex, &in); err != nil {
			return nil, err
		}
	} else {
		res = s.eng.Execute(ctx, ex, nil)
	}
	stop := res.StopTime
	if stop.IsZero() {
		stop = s.now()
	}
	if s.obs != nil && !s.syncHist {
		s.obs.Unrecorded(Watched{ExecutionARN: ex.ARN, StateMachineARN: sm.ARN, VersionARN: in.VersionARN, AliasARN: in.AliasARN, Type: TypeExpress, Start: start},
			start, stop, s.endOf(res).Status)
	}
	return &SyncOutcome{ARN: ex.ARN, StartDate: start, StopDate: stop, Result: res}, nil
}

// executeRecorded runs a synchronous execution to its end while recording
// its row and history in the Express store (Config.ExpressHistory), so
// that Get, its history and Stop work on its ARN, during the run and,
// within the store's bound, after it.
func (s *Service) executeRecorded(ctx context.Context, ex *engine.Execution, in *StartInput) (engine.Result, error) {
	sm := in.Machine
	x := &store.Execution{
		ARN: ex.ARN, Name: ex.Name, StateMachineARN: ex.StateMachineARN, StateMachineName: ex.StateMachineName,
		RevisionID: sm.RevisionID, Type: TypeExpress, Status: store.StatusRunning, Input: ex.Input,
		TraceHeader: in.TraceHeader, StartDate: ex.StartTime,
	}
	if err := s.express.CreateExecution(ctx, x, nil, nil); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return engine.Result{}, refused(ErrExecutionAlreadyExists, x.ARN, "")
		}
		return engine.Result{}, fmt.Errorf("create execution: %w", err)
	}
	rec := &recorder{st: s.express, arn: ex.ARN, s: s,
		watch: s.watch(Watched{ExecutionARN: ex.ARN, StateMachineARN: ex.StateMachineARN, VersionARN: in.VersionARN, AliasARN: in.AliasARN,
			Type: TypeExpress, Start: ex.StartTime, Logging: sm.Logging})}
	// As in launch: registered before Stop can look for it.
	s.mu.Lock()
	run := s.eng.Start(ctx, ex, rec)
	r := s.register(ex.ARN, run)
	s.mu.Unlock()
	<-run.Done()
	res := run.Result()
	s.closeUnrecorded(s.express, rec, ex.ARN, res)
	s.unregister(ex.ARN, r)
	return res, nil
}

// checkTestCase refuses a start with a test case the mock configuration
// does not have.
func (s *Service) checkTestCase(executionARN, machine, testCase string) error {
	if testCase == "" {
		return nil
	}
	if s.mocks == nil {
		return refused(ErrTestCase, executionARN, "no mock configuration")
	}
	if err := s.mocks.TestCase(machine, testCase); err != nil {
		return refused(ErrTestCase, executionARN, err.Error())
	}
	return nil
}

// bind binds an execution just created, before it runs, to the test case
// it was started with, which checkTestCase has accepted.
func (s *Service) bind(x *engine.Execution, testCase string) {
	s.rebind(x, store.ExecutionMeta{TestCase: testCase})
}

// rebind binds an execution resumed or redriven by this process to the
// test case it was started with (kept in its metadata). A test case the
// mock configuration no longer has leaves it unmocked, with a warning.
func (s *Service) rebind(x *engine.Execution, meta store.ExecutionMeta) {
	if meta.TestCase == "" || s.mocks == nil {
		return
	}
	if err := s.mocks.Bind(x.ARN, x.StateMachineName, meta.TestCase); err != nil {
		s.log.Warn("execution runs without its mocks", "arn", x.ARN, "testCase", meta.TestCase, "err", err)
	}
}

// launch starts an execution and records its history in st until it
// ends. Its row exists in st, or create is the row that its first Record
// creates: then launch starts nothing, and returns a channel closed once
// that execution's creation is settled, if this process already drives
// an execution of that ARN (running, parked or being created). With
// create.here it only prepares the run (create.run), which the caller
// then runs on its own goroutine (runHere).
func (s *Service) launch(st store.Store, ex *engine.Execution, express bool, extra *recExtra, create *creation) (other <-chan struct{}) {
	if extra != nil {
		extra.s, extra.executionARN, extra.machine = s, ex.ARN, ex.Machine
		if s.ver != nil {
			ex.MapRunCounts = extra.progress // mapruns.go
		}
	}
	if !express {
		ex.Children = s // children.go
	}
	rec := &recorder{st: st, arn: ex.ARN, extra: extra, s: s, create: create}
	if extra != nil && extra.redrive != nil {
		rec.lastID.Store(extra.redrive.base) // the latest event stored
		rec.histBytes = historyBytes(extra.redrive.replay)
	}
	if extra != nil {
		rec.watch = s.watch(Watched{ExecutionARN: ex.ARN, StateMachineARN: ex.StateMachineARN,
			VersionARN: extra.version, AliasARN: extra.alias, Type: ex.Type, Start: ex.StartTime,
			RedriveCount: ex.RedriveCount, Logging: extra.logging})
	}
	ctx, cancel := s.ctx, context.CancelFunc(func() {})
	// A parked execution is revived with the test case kept in its
	// metadata: without a Versions store, one with mocks is not parked.
	if !express && s.parkAfter >= 0 && (s.ver != nil || s.mocks == nil) {
		ex.Park = s.parkHook(ex.ARN, rec)
	}
	s.mu.Lock()
	if create != nil {
		if r := s.runs[ex.ARN]; r != nil {
			s.mu.Unlock()
			if r.creating != nil {
				return r.creating
			}
			closed := make(chan struct{})
			close(closed)
			return closed
		}
		// No other run of this ARN here: the test case binds to this one.
		s.bind(ex, create.testCase)
	}
	if express {
		ctx, cancel = context.WithTimeout(ctx, s.maxExpr)
	}
	s.wg.Add(1)
	// Set below under s.mu, which Ended takes first: the run may end
	// before launch registers it.
	var (
		run *engine.Run
		r   *running
	)
	ex.Ended = func() {
		defer s.wg.Done()
		defer cancel()
		s.mu.Lock()
		reg, res := r, run.Result()
		s.mu.Unlock()
		if s.mocks != nil {
			s.mocks.Unbind(ex.ARN)
		}
		if s.parkEnded(reg) {
			return // parked: revived later through Resume
		}
		s.closeUnrecorded(st, rec, ex.ARN, res)
		s.unregister(ex.ARN, reg)
	}
	if extra != nil && extra.redrive != nil {
		extra.replayed(extra.redrive.replay)                   // its Map Runs still running (mapruns.go)
		run = s.eng.Resume(ctx, ex, extra.redrive.replay, rec) // redrive.go
	} else if create != nil && create.here {
		create.run = s.eng.Prepare(ctx, ex, rec) // Start runs it (runHere)
		run = create.run.Run()
	} else {
		run = s.eng.Start(ctx, ex, rec)
	}
	r = s.register(ex.ARN, run)
	if create != nil {
		r.creating = create.done
	}
	s.mu.Unlock()
	return nil
}

// closeUnrecorded closes an execution from its result when its recorder
// did not close it with its terminal event (recording failed).
func (s *Service) closeUnrecorded(st store.Store, rec *recorder, executionARN string, res engine.Result) {
	if rec.closed || rec.dead {
		return
	}
	end := s.endOf(res)
	if rec.create != nil {
		// The run recorded nothing: its row is created closed.
		_, _ = rec.created([]history.Event{terminalEvent(end, 0)}, end)
		return
	}
	var events []history.Event
	if res.Status != engine.StatusRunning {
		// The history ends with its terminal event, even when the
		// engine's could not be written (limits.go).
		events = []history.Event{terminalEvent(end, rec.lastID.Load())}
	}
	err := st.AppendHistory(context.Background(), executionARN, events, end)
	// ErrNotFound: an Express store that keeps no closed executions
	// (--express-retention 0) may have dropped it. ErrConflict: it is
	// closed already, or the server is shutting down.
	if err != nil && !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrNotFound) {
		s.log.Error("close execution", "arn", executionARN, "err", err)
	}
}

// endOf is how an execution ended, from its result (stopped now if the
// result has no stop time).
func (s *Service) endOf(r engine.Result) *store.End {
	st := string(r.Status)
	if st == "" || st == store.StatusRunning {
		st = store.StatusFailed
	}
	stop := r.StopTime
	if stop.IsZero() {
		stop = s.now()
	}
	return &store.End{Status: st, StopDate: stop, Output: r.Output, Error: r.Error, Cause: r.Cause}
}

// recorder appends an execution's history to a store and closes the
// execution with its terminal event. The engine calls it from one
// goroutine at a time.
type recorder struct {
	st     store.Store
	arn    string
	closed bool
	// create is the row to create with the first batch (nil once done,
	// and for the run of an existing row); dead tells that it could not
	// be: the run records nothing then (the ARN may be another's).
	create *creation
	dead   bool
	extra  *recExtra // versions, aliases, redrives and Map Runs; may be nil
	watch  Watcher   // the Observer's (observe.go); may be nil
	s      *Service  // its limits and failures (limits.go); may be nil
	// histBytes is what the history written so far counts against
	// Config.MaxHistoryBytes; broken, why a batch could not be written
	// (the execution is closed then, and later events are dropped).
	histBytes int64
	broken    error
	// lastID is the id of the latest event recorded (the history's
	// length), which reviving a parked execution replays.
	lastID atomic.Int64
}

// Record implements engine.Recorder. The Map Runs that the events start or
// end are written first: once the events are stored (and the execution
// closed, for the last ones), DescribeMapRun and ListMapRuns find them.
func (r *recorder) Record(events []history.Event) error {
	if r.broken != nil {
		return r.broken
	}
	if err := r.charge(events); err != nil {
		if r.create != nil {
			if _, cerr := r.created(nil, nil); cerr != nil {
				return cerr
			}
		}
		r.failUnrecordable(err)
		return err
	}
	events = r.extra.before(events)
	var end *store.End
	if n := len(events); n > 0 {
		end = Terminal(&events[n-1])
	}
	if r.create != nil {
		// The Map Runs it starts are written once the row exists: nobody
		// knows of the execution before Start answers.
		unwritable, err := r.created(events, end)
		if err != nil {
			return err
		}
		if unwritable != nil {
			r.failUnrecordable(unwritable)
			return unwritable
		}
		r.extra.mapRuns(events)
	} else {
		r.extra.mapRuns(events)
		if err := r.append(events, end); err != nil {
			if unrecordable(err) {
				r.failUnrecordable(err)
			}
			return err
		}
	}
	if end != nil {
		r.closed = true
	}
	if n := len(events); n > 0 {
		r.lastID.Store(events[n-1].ID)
	}
	if r.watch != nil {
		r.watch.Recorded(events)
	}
	return nil
}

// created creates the execution's row with its first events (and its
// close, when end is not nil) and tells Start how that went. Events that
// can never be written as they are (unwritable: their size) leave the row
// created alone, for the execution to be failed.
func (r *recorder) created(events []history.Event, end *store.End) (unwritable, err error) {
	c := r.create
	r.create = nil
	bg := context.Background()
	err = r.st.CreateExecution(bg, c.row, events, end)
	if err != nil && unrecordable(err) {
		unwritable = err
		err = r.st.CreateExecution(bg, c.row, nil, nil)
	}
	if err != nil {
		r.broken, r.dead = err, true
	} else if c.meta != nil {
		if err = r.s.ver.PutExecutionMeta(bg, c.row.ARN, *c.meta); err != nil {
			err = fmt.Errorf("put execution metadata: %w", err)
			r.broken = err // the row exists: closeUnrecorded closes it
		}
	}
	c.err = err
	close(c.done)
	return unwritable, err
}

// Terminal returns how an execution ends if e is its terminal event
// (ExecutionSucceeded, Failed, Aborted or TimedOut; nil for any other):
// its status, stop date, output ("{}" when the event has none), error and
// cause.
func Terminal(e *history.Event) *store.End {
	switch e.Type {
	case history.ExecutionSucceeded, history.ExecutionFailed, history.ExecutionAborted, history.ExecutionTimedOut:
	default:
		return nil // most events: no allocation
	}
	end := &store.End{StopDate: e.Timestamp}
	switch e.Type {
	case history.ExecutionSucceeded:
		end.Status = store.StatusSucceeded
		out := "{}"
		if d := e.ExecutionSucceededEventDetails; d != nil {
			out = d.Output
		}
		end.Output = &out
	case history.ExecutionFailed:
		end.Status = store.StatusFailed
		if d := e.ExecutionFailedEventDetails; d != nil {
			end.Error, end.Cause = d.Error, d.Cause
		}
	case history.ExecutionAborted:
		end.Status = store.StatusAborted
		if d := e.ExecutionAbortedEventDetails; d != nil {
			end.Error, end.Cause = d.Error, d.Cause
		}
	case history.ExecutionTimedOut:
		end.Status = store.StatusTimedOut
		if d := e.ExecutionTimedOutEventDetails; d != nil {
			end.Error, end.Cause = d.Error, d.Cause
		}
	default:
		return nil
	}
	return end
}
