package engine

// TestState support: one state run in isolation with its data-flow
// intermediates exposed, for the TestState API.

import (
	"context"
	"math"
	"strings"
	"time"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/value"
)

// TestState statuses.
const (
	TestSucceeded   = "SUCCEEDED"
	TestFailed      = "FAILED"
	TestRetriable   = "RETRIABLE"
	TestCaughtError = "CAUGHT_ERROR"
)

// TestMock replaces a Task's, Map's or Parallel's work in TestState:
// either Result (a parsed JSON value) or Error.
type TestMock struct {
	Result any
	Error  *fault.Error
}

// TestInput is one TestState request, validated by the caller.
type TestInput struct {
	State *asl.State
	Input any
	// Vars are the variables in scope (nil for none).
	Vars *value.Object
	// Context replaces the Context object when not nil.
	Context any
	Mock    *TestMock
	// RetrierRetryCount is how many retries the matching retrier has
	// already made (stateConfiguration.retrierRetryCount).
	RetrierRetryCount int64
	// MapIterationFailureCount is how many Map iterations fail
	// (stateConfiguration.mapIterationFailureCount; with a mock only).
	MapIterationFailureCount *int64
	// ItemReaderData replaces what a Map's ItemReader would read
	// (stateConfiguration.mapItemReaderData): the Map's items.
	ItemReaderData []any
	// Execution describes the execution the Context object is built from.
	Execution Execution
	// Timeout bounds a real task invocation (AWS: 5 minutes).
	Timeout time.Duration
}

// TestErrorDetails tells which retrier or catcher handled an error.
type TestErrorDetails struct {
	CatchIndex                  *int64
	RetryIndex                  *int64
	RetryBackoffIntervalSeconds *int64
}

// TestInspection holds the data-processing intermediates (DEBUG level).
// Absent steps are nil.
type TestInspection struct {
	Input, AfterArguments, AfterInputPath, AfterParameters, Result, AfterResultSelector, AfterResultPath *string
	AfterItemsPath, AfterItemSelector                                                                    *string
	Variables                                                                                            *string
	MaxConcurrency, ToleratedFailureCount                                                                *int64
	ToleratedFailurePercentage                                                                           *float64
	ErrorDetails                                                                                         *TestErrorDetails
}

// TestResult is the outcome of TestState.
type TestResult struct {
	// Invalid is set, and nothing else, when the request does not fit the
	// state (found only while running it): TestState answers it as a
	// ValidationException.
	Invalid   string
	Status    string
	Output    *string
	Error     *string
	Cause     *string
	NextState string
	Inspect   TestInspection
}

func textOf(v any) *string {
	s := value.String(v)
	return &s
}

// TestState runs in.State once, as the TestState API does: the state's
// own plan (the one executions run), with no history, no waiting, Retry
// and Catch evaluated once (RETRIABLE when a retrier would retry,
// CAUGHT_ERROR when a catcher catches), mocks in place of a Task's,
// Parallel's or Map's work, and the data-flow intermediates recorded as
// they are computed.
func (e *Engine) TestState(ctx context.Context, in *TestInput) *TestResult {
	x := in.Execution
	if x.StartTime.IsZero() {
		x.StartTime = e.clock.Now()
	}
	if in.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, in.Timeout)
		defer cancel()
	}
	ex := newExecution(e, ctx, &x, nil)
	defer ex.cancel(nil)
	ex.input = in.Input
	vars := &scope{}
	vars.assign(in.Vars)
	ts := &testRun{in: in, res: &TestResult{}}
	t := &thread{ex: ex, ctx: ex.ctx, log: counted, vars: vars, test: ts}
	out, next, f := compileState(in.State).run(t, in.Input)
	res := ts.res
	switch {
	case res.Invalid != "":
		return res
	case f != nil && res.Status == TestRetriable:
	case f != nil:
		res.Status = TestFailed
		res.Output = nil
		res.Error, res.Cause = nil, nil
		if f.err != nil {
			if f.err.HasName {
				res.Error = &f.err.Name
			}
			if f.err.HasCause {
				res.Cause = &f.err.Cause
			}
		}
	default:
		if res.Status == "" {
			res.Status = TestSucceeded
		}
		res.NextState = next
		res.Output = textOf(out)
	}
	if (res.Status == TestSucceeded || res.Status == TestCaughtError) && vars.vars != nil {
		o := value.NewObject(len(vars.vars))
		for _, w := range vars.vars {
			o.Set(w.name, w.val)
		}
		res.Inspect.Variables = textOf(o)
	}
	return res
}

// testRun is what TestState adds to a plan's run: the request, and the
// result the hooks the plans call (thread.test) fill in.
type testRun struct {
	in  *TestInput
	res *TestResult
}

// entered shows the state's input and applies the request's Context
// object. (The data flow and the plans fill in the other intermediates of
// ts.res.Inspect as they compute them.)
func (ts *testRun) entered(r *stateRun) {
	ts.res.Inspect.Input = textOf(r.env.Input)
	ts.context(r)
}

// context replaces the Context object by the request's.
func (ts *testRun) context(r *stateRun) {
	if ts.in.Context != nil {
		r.env.Context = ts.in.Context
	}
}

// retriable evaluates Retry once for f: when a retrier would retry (its
// attempts so far, stateConfiguration.retrierRetryCount, are below its
// MaxAttempts), the result is RETRIABLE with the retrier's index and
// backoff.
func (ts *testRun) retriable(r *stateRun, f *failure) bool {
	if f.fatal || f.aborted || f.err == nil {
		return false
	}
	for i, rt := range r.b.st.Retry {
		if !errorMatches(rt.ErrorEquals, f.err) {
			continue
		}
		if ts.in.RetrierRetryCount >= rt.MaxAttempts {
			return false
		}
		d := float64(rt.IntervalSeconds) * math.Pow(rt.BackoffRate, float64(ts.in.RetrierRetryCount))
		if rt.MaxDelaySeconds != nil && d > float64(*rt.MaxDelaySeconds) {
			d = float64(*rt.MaxDelaySeconds)
		}
		idx, secs := int64(i), int64(math.Min(d, math.MaxInt32))
		res := ts.res
		res.Status = TestRetriable
		if f.err.HasName {
			res.Error = &f.err.Name
		}
		if f.err.HasCause {
			res.Cause = &f.err.Cause
		}
		res.Inspect.ErrorDetails = &TestErrorDetails{RetryIndex: &idx, RetryBackoffIntervalSeconds: &secs}
		return true
	}
	return false
}

// caught notes that catcher i caught f (CAUGHT_ERROR).
func (ts *testRun) caught(i int, f *failure) {
	res := ts.res
	idx := int64(i)
	res.Status = TestCaughtError
	if f.err.HasName {
		res.Error = &f.err.Name
	}
	if f.err.HasCause {
		res.Cause = &f.err.Cause
	}
	res.Inspect.ErrorDetails = &TestErrorDetails{CatchIndex: &idx}
}

// mock is the mocked outcome of a Task, Parallel or Map; ok is false
// without a mock.
func (ts *testRun) mock() (any, *fault.Error, bool) {
	m := ts.in.Mock
	switch {
	case m == nil:
		return nil, nil, false
	case m.Error != nil:
		return nil, m.Error, true
	}
	return m.Result, nil, true
}

// work is a Task attempt's outcome: the mock's, or the real invocation's
// (no token, no heartbeat, within the request's time limit).
func (ts *testRun) work(t *thread, task *Task, info *resourceInfo) (any, *fault.Error) {
	if res, fe, ok := ts.mock(); ok {
		return res, fe
	}
	task.TaskToken, task.Heartbeat, task.Submitted = "", 0, nil
	res, fe := t.invoke(task, info, time.Time{})
	if fe == nil && t.ctx.Err() != nil {
		return nil, fault.New(fault.Timeout, "TestState exceeded its time limit")
	}
	if fe != nil && t.ctx.Err() != nil {
		return nil, &fault.Error{Name: fault.Timeout, HasName: true, Cause: "TestState exceeded its time limit", HasCause: true}
	}
	return res, fe
}

// mocked is a Parallel's result: its mock's (TestState requires one).
func (ts *testRun) mocked(t *thread) (any, *failure) {
	res, fe, ok := ts.mock()
	if !ok {
		fe = fault.New(fault.Runtime, "TestState needs a mock for a Parallel or Map state")
	}
	if fe != nil {
		return nil, t.fail(fe)
	}
	return res, nil
}

// mapAttempt is a Map attempt in TestState: the items (or
// stateConfiguration.mapItemReaderData), their selected inputs and the
// tolerance settings are evaluated and shown, then the mock stands for
// the iterations (with mapIterationFailureCount of them failing).
func (ts *testRun) mapAttempt(t *thread, r *stateRun, raw any, distributed bool) (any, string, *failure, bool) {
	var cfg *mapConfig
	if ts.in.ItemReaderData != nil {
		// The items are what the ItemReader would read, not the input's.
		eff, f := r.b.flow.effective(t, r, raw, false)
		if f != nil {
			return nil, "", f, false
		}
		cfg = &mapConfig{eff: eff, items: ts.in.ItemReaderData, maxConc: int(r.b.st.MaxConcurrency)}
	} else {
		var f *failure
		if cfg, f = r.b.flow.mapItems(t, r, raw); f != nil {
			return nil, "", f, false
		}
	}
	cfg.distributed = distributed
	in := &ts.res.Inspect
	in.AfterItemsPath = textOf(cfg.items)
	sel := make([]any, len(cfg.items))
	for i := range cfg.items {
		v, f := r.b.flow.itemInput(t, t, r, cfg, i)
		if f != nil {
			return nil, "", f, false
		}
		sel[i] = v
	}
	in.AfterItemSelector = textOf(sel)
	if f := r.b.flow.mapTolerance(t, r, cfg); f != nil {
		return nil, "", f, false
	}
	mc := int64(cfg.maxConc)
	in.MaxConcurrency = &mc
	if cfg.hasTol {
		tc, tp := cfg.tolCount, cfg.tolPct
		in.ToleratedFailureCount, in.ToleratedFailurePercentage = &tc, &tp
	}
	result, f := ts.mocked(t)
	if f == nil && ts.in.MapIterationFailureCount != nil {
		fe := ts.mapFailures(cfg)
		if ts.res.Invalid != "" {
			return nil, "", t.fatalf(fault.New(fault.Runtime, ts.res.Invalid)), false
		}
		if fe != nil {
			f = t.fail(fe)
		}
	}
	if f != nil {
		return nil, "", f, true
	}
	out, next, f := t.stateResult(r, raw, result)
	return out, next, f, false
}

// mapFailures applies stateConfiguration.mapIterationFailureCount: the
// Map fails when more iterations fail than it tolerates.
func (ts *testRun) mapFailures(cfg *mapConfig) *fault.Error {
	n := *ts.in.MapIterationFailureCount
	if n > int64(len(cfg.items)) {
		ts.res.Invalid = "Map iteration failure count must be less than or equal to the number of Map iterations"
		return nil
	}
	if n == 0 {
		return nil
	}
	if cfg.exceeded(int(n), len(cfg.items)) {
		if cfg.hasTol || cfg.distributed {
			return fault.New(fault.ExceedToleratedFailureThreshold, "The specified tolerated failure threshold was exceeded")
		}
		return fault.New(fault.TaskFailed, "A Map iteration failed")
	}
	return nil
}

// ResourceNeedsMock reports whether TestState needs a mock for a Task's
// resource: activities, .sync and .waitForTaskToken integrations.
func ResourceNeedsMock(resource string) bool {
	info := classify(resource)
	return info.kind == resActivity || info.callback || strings.Contains(info.resource, ".sync")
}
