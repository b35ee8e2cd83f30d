package engine

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/internal/clock"
	"github.com/stepwell/stepwell/value"
)

// Default limits.
const (
	DefaultMaxPayloadBytes  = 262144
	DefaultMaxHistoryEvents = 25000
)

// Engine runs executions. It is safe for concurrent use; one Engine serves
// any number of executions.
type Engine struct {
	cfg   Config
	clock Clock
	// realClock tells that clock is the wall clock (clock.Real), whose
	// readings of this process carry a monotonic one (stamp).
	realClock  bool
	scale      float64
	maxPayload int
	maxEvents  int64

	// resuming counts resumed executions whose replay has not settled;
	// resumeIdle is closed when it drops to zero (WaitResumed).
	resumeMu   sync.Mutex
	resuming   int
	resumeIdle chan struct{}

	// runs are the running Distributed Map runs by ARN (*runControl;
	// maprunctl.go).
	runs sync.Map

	runners *runnerPool // nil without Config.IdleRunners
}

// New returns an Engine with cfg's defaults filled in.
func New(cfg Config) *Engine {
	e := &Engine{cfg: cfg, clock: cfg.Clock, scale: cfg.TimeScale}
	if e.clock == nil {
		e.clock = clock.Real{}
	}
	_, e.realClock = e.clock.(clock.Real)
	if e.scale <= 0 {
		e.scale = 1
	}
	e.maxPayload = cfg.MaxPayloadBytes
	if e.maxPayload <= 0 {
		e.maxPayload = DefaultMaxPayloadBytes
	}
	e.maxEvents = int64(cfg.MaxHistoryEvents)
	if e.maxEvents <= 0 {
		e.maxEvents = DefaultMaxHistoryEvents
	}
	if cfg.IdleRunners > 0 {
		e.runners = newRunnerPool(cfg.IdleRunners)
	}
	return e
}

// scaled converts seconds to the duration the engine waits.
func (e *Engine) scaled(seconds float64) time.Duration {
	return time.Duration(seconds * e.scale * float64(time.Second))
}

// Run is one running execution.
type Run struct {
	ex     *execution
	done   chan struct{}
	result Result
}

// Stop aborts the execution (StopExecution). It ends ABORTED with an
// ExecutionAborted event carrying errName and cause when they are not empty.
func (r *Run) Stop(errName, cause string) {
	r.ex.cancel(&stopCause{err: errName, cause: cause})
}

// Done is closed when the execution has ended.
func (r *Run) Done() <-chan struct{} { return r.done }

// Result returns how the execution ended; it is valid after Done.
func (r *Run) Result() Result { return r.result }

// Start runs x on a goroutine of its own (runners.go). rec receives the history; it may be nil,
// in which case no history is kept.
func (e *Engine) Start(ctx context.Context, x *Execution, rec Recorder) *Run {
	p := e.Prepare(ctx, x, rec)
	e.runners.run(p.RunHere)
	return &p.run
}

// A Prepared is the run of an execution that Prepare made and nothing
// runs yet.
type Prepared struct {
	run Run // one allocation for both
	x   *Execution
}

// Prepare returns the run of x without running it: the caller runs it
// with RunHere, once, on the goroutine that should run it (Start does so
// on a runner). Until then its Run may be stopped and waited for.
func (e *Engine) Prepare(ctx context.Context, x *Execution, rec Recorder) *Prepared {
	return &Prepared{run: Run{ex: newExecution(e, ctx, x, rec), done: make(chan struct{})}, x: x}
}

// Run returns the prepared Run (to keep, stop or wait for).
func (p *Prepared) Run() *Run { return &p.run }

// RunHere runs the execution on the calling goroutine until it ends, then
// calls its Execution's Ended. Call it once.
func (p *Prepared) RunHere() {
	r := &p.run
	r.result = r.ex.run()
	close(r.done)
	if p.x.Ended != nil {
		p.x.Ended()
	}
}

// Inline tells whether x's run is brief and never waits but for its
// Recorder, handing no work to other goroutines: its machine has at most
// maxInline states, all Pass, Choice, Succeed and Fail states in JSONPath
// (a JSONata expression may compute for seconds), and no cycle (a run
// goes through each state once at most). Its caller may then run it on
// its own goroutine (Prepare, RunHere) rather than hand it to a runner
// and wait (one goroutine handoff less each way).
func Inline(x *Execution) bool {
	return x != nil && x.Machine != nil && planOf(x.Machine).brief
}

// maxInline bounds the states of a machine that Inline allows.
const maxInline = 100

// growStack grows a new run's goroutine stack at once, while it is
// nearly empty, to about what a run uses (its states, then the
// recorder's encoding and store write of its events): grown step by step
// deep in the run, the stack was copied several times, about 5 % of a
// short execution's CPU. BenchmarkStartPath (internal/app), 9 alternated
// pairs: 75 → 71 CPU-µs per execution, every pair lower.
//
//go:noinline
func growStack() {
	var frame [12 << 10]byte
	keep(frame[:])
}

// keep keeps growStack's frame from being optimized away.
//
//go:noinline
func keep([]byte) {}

// Execute runs x to completion in the calling goroutine and returns its
// result.
func (e *Engine) Execute(ctx context.Context, x *Execution, rec Recorder) Result {
	if !reusable(x, rec) {
		ex := newExecution(e, ctx, x, rec)
		return ex.run()
	}
	ex := spareExecutions.Get().(*execution)
	ex.init(e, ctx, x, rec)
	r := ex.runReusable()
	if ex.ectx.made.Load() == nil && r.Output != &ex.output {
		// Nothing outside holds ex (see reusable) nor any part of it.
		ex.recycle()
		spareExecutions.Put(ex)
	}
	return r
}

// spareExecutions are the execution structs of runs of Execute that
// ended and that nothing holds any more (reusable): an execution struct
// was more than half the bytes a short Express run allocates.
var spareExecutions = sync.Pool{New: func() any { return new(execution) }}

// reusable tells whether Execute may give x's execution struct back for
// reuse once its run ended, if by then its context was never made (no
// state waited on it or derived one from it) and its Result does not
// point into it: no history (nothing kept with a Recorder), and states
// that run inline on the caller's goroutine and hand nothing out (Pass,
// Choice, Succeed, Fail: no task, wait, branch or iteration), without a
// TimeoutSeconds (whose timer goroutine holds the execution).
func reusable(x *Execution, rec Recorder) bool {
	if rec != nil || x == nil || x.Machine == nil {
		return false
	}
	if ts := x.Machine.TimeoutSeconds; ts != nil && *ts > 0 {
		return false
	}
	return planOf(x.Machine).inline
}

// ErrShutdown, as the cancellation cause of the context given to Start,
// Execute or Resume (context.WithCancelCause), stops the run without ending
// its execution: no terminal event is recorded, the Result's status is
// RUNNING and a later Resume continues it, as after a crash. Any other
// cancellation of that context fails the execution.
var ErrShutdown = errors.New("stepwell is shutting down")

// stopCause is the cancellation cause of StopExecution.
type stopCause struct{ err, cause string }

func (s *stopCause) Error() string { return "execution stopped" }

// timeoutCause is the cancellation cause of the machine's TimeoutSeconds.
type timeoutCause struct{}

func (timeoutCause) Error() string { return "execution timed out" }

// run executes the whole machine and returns the result.
func (ex *execution) run() Result {
	// One return: the deferred calls are open-coded (inline), not
	// queued at run time.
	defer ex.release()
	defer ex.cancel(nil)
	return ex.runTop()
}

// runReusable is run for a run of Execute whose execution struct may be
// reused (reusable): it has no Recorder, so no event buffers to release,
// and its context needs cancelling only if it was made. Until then
// cancelling it only marks it cancelled, which nothing can see once the
// run ended (nothing else holds the execution) and recycle would undo:
// it took a lock and an atomic store (and recycle another) per run.
func (ex *execution) runReusable() Result {
	defer ex.cancelMade()
	return ex.runTop()
}

// cancelMade cancels the execution's context if it was made.
func (ex *execution) cancelMade() {
	if ex.ectx.made.Load() != nil {
		ex.cancel(nil)
	}
}

func (ex *execution) runTop() Result {
	x := ex.x
	sm := x.Machine
	// The top-level thread and its scope are part of the execution (one
	// allocation less each).
	t := &ex.top // zero, or as recycle left it: only these fields are set (see enter)
	if t.ex != ex {
		// A recycled struct has these already: while the collector
		// marks, each pointer written goes through a write barrier.
		t.ex, t.ctx, t.vars = ex, ex.ctx, &ex.topVars
	}
	if log := ex.logFor(""); t.log != log {
		t.log = log
	}
	t.rawText = x.Input
	t.add(event{typ: history.ExecutionStarted})
	// The first state's Entered event follows no event (previousEventId 0).
	t.last = 0
	if !t.lastAt.IsZero() {
		t.lastAt = time.Time{}
	}
	if sm == nil {
		return ex.finishFailed(fault.New(fault.Runtime, "no state machine"))
	}
	if sm.TimeoutSeconds != nil && *sm.TimeoutSeconds > 0 {
		// Counted from the original start, so it holds across restarts.
		d := ex.e.scaled(float64(*sm.TimeoutSeconds)) - ex.now().Sub(x.StartTime)
		if d <= 0 {
			ex.cancel(timeoutCause{})
		} else {
			go func() {
				if ex.e.clock.Sleep(ex.ctx, d) == nil {
					ex.cancel(timeoutCause{})
				}
			}()
		}
	}
	input, err := x.ParsedInput, error(nil)
	if input == nil {
		input, err = value.ParseString(x.Input)
	}
	if err != nil {
		input = value.NewObject(0)
		if strings.TrimSpace(x.Input) != "" {
			return ex.finishFailed(fault.New(fault.Runtime, "invalid execution input: "+err.Error()))
		}
	}
	ex.input = input
	out, f := t.runMachine(sm, input)
	if f != nil && errors.Is(ex.ectx.causeOf(), ErrShutdown) {
		// The process stops: the execution stays RUNNING, to be resumed.
		ex.flush()
		return Result{Status: StatusRunning}
	}
	// No flush here: the last state's events go out with the terminal
	// event, in one durable write (each finish* flushes). A recorder
	// failure of an earlier flush is in ex.fatal.
	if ex.fatal != nil {
		return ex.finishFailed(ex.fatal)
	}
	if f == nil {
		return ex.finishSucceeded(t, out)
	}
	if c := ex.ectx.causeOf(); c != nil && (f.aborted || !f.fatal) {
		switch c := c.(type) {
		case *stopCause:
			return ex.finishAborted(c)
		case timeoutCause:
			return ex.finishTimedOut()
		}
	}
	if f.aborted {
		return ex.finishFailed(fault.New(fault.Runtime, "The execution was cancelled."))
	}
	t.last = f.last
	return ex.finishFailedFrom(t, f.err)
}

func (ex *execution) result(st Status) Result {
	return Result{Status: st, StopTime: ex.stamp()}
}

// stamp is the time now for the execution's events, its end and its
// first write's deadline. With the real clock, a start time read by this
// process (time.Now's carry a monotonic reading) and less than
// monotonicStamps since it, it is the start plus the monotonic time
// elapsed: one clock read instead of time.Now's two (the wall clock's and
// the monotonic one's: ~4 % of a short Express run's CPU at the end
// alone, and again at each event), and never before the start. Otherwise
// (a fake clock, a start time from the store, a longer run, over which
// the monotonic clock may drift from the wall clock's or stop while the
// machine sleeps) it is the clock's Now.
func (ex *execution) stamp() time.Time {
	start := ex.x.StartTime
	if ex.e.realClock && start != start.Round(0) { // Round(0) strips the monotonic reading
		if d := time.Since(start); d < monotonicStamps {
			return start.Add(d)
		}
	}
	return ex.now()
}

// monotonicStamps bounds the age of an execution whose times stamp takes
// from the monotonic clock.
const monotonicStamps = time.Second

func (ex *execution) finishSucceeded(t *thread, out any) Result {
	ex.replay.stop()
	text := t.textOfOutput(out)
	var boxed *string // the text and the string pointing to it (one allocation)
	if text == "" {
		boxed = value.StringPtr(out)
		text = *boxed
	}
	if len(text) > ex.e.maxPayload {
		return ex.finishFailedFrom(t, fault.New(fault.DataLimitExceeded,
			"The state/task 'ExecutionSucceeded' returned a result with a size exceeding the maximum number of bytes service limit."))
	}
	if ex.rec != nil {
		ex.append(t, &history.Event{Type: history.ExecutionSucceeded, ExecutionSucceededEventDetails: &history.ExecutionSucceededEventDetails{
			Output: text, OutputDetails: history.Data(false)}})
	}
	ex.flush()
	r := ex.result(StatusSucceeded)
	if boxed != nil {
		r.Output = boxed
	} else {
		ex.output = text // not an allocation of its own
		r.Output = &ex.output
	}
	return r
}

func (ex *execution) finishFailed(f *fault.Error) Result {
	t := &thread{ex: ex, last: ex.lastID()}
	return ex.finishFailedFrom(t, f)
}

func (ex *execution) finishFailedFrom(t *thread, f *fault.Error) Result {
	ex.replay.stop()
	r := ex.result(StatusFailed)
	var d history.ExecutionFailedEventDetails
	if f.HasName {
		d.Error = history.Str(f.Name)
		r.Error = d.Error
	}
	if f.HasCause {
		d.Cause = history.Str(f.Cause)
		r.Cause = d.Cause
	}
	if ex.rec != nil {
		ex.append(t, &history.Event{Type: history.ExecutionFailed, ExecutionFailedEventDetails: &d})
	}
	ex.flush()
	return r
}

func (ex *execution) finishAborted(c *stopCause) Result {
	ex.replay.stop()
	r := ex.result(StatusAborted)
	var d history.ExecutionAbortedEventDetails
	if c.err != "" {
		d.Error = history.Str(c.err)
		r.Error = d.Error
	}
	if c.cause != "" {
		d.Cause = history.Str(c.cause)
		r.Cause = d.Cause
	}
	if ex.rec != nil {
		t := &thread{ex: ex}
		ex.append(t, &history.Event{Type: history.ExecutionAborted, ExecutionAbortedEventDetails: &d})
	}
	ex.flush()
	return r
}

func (ex *execution) finishTimedOut() Result {
	ex.replay.stop()
	r := ex.result(StatusTimedOut)
	if ex.rec != nil {
		t := &thread{ex: ex, last: ex.lastID()}
		ex.append(t, &history.Event{Type: history.ExecutionTimedOut, ExecutionTimedOutEventDetails: &history.ExecutionTimedOutEventDetails{
			Error: history.Str(fault.Timeout)}})
	}
	ex.flush()
	return r
}
