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
	Input, AfterInputPath, AfterParameters, Result, AfterResultSelector, AfterResultPath *string
	AfterItemsPath, AfterItemSelector                                                    *string
	Variables                                                                            *string
	MaxConcurrency, ToleratedFailureCount                                                *int64
	ToleratedFailurePercentage                                                           *float64
	ErrorDetails                                                                         *TestErrorDetails
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

// TestState runs in.State once, as the TestState API does: no history, no
// waiting, Retry and Catch evaluated once (RETRIABLE when a retrier would
// retry, CAUGHT_ERROR when a catcher catches).
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
	t := &thread{ex: ex, ctx: ex.ctx, log: counted, vars: vars}
	ts := &testRun{t: t, in: in, res: &TestResult{}}
	ts.run()
	if ts.res.Status == TestSucceeded || ts.res.Status == TestCaughtError {
		if vars.names != nil {
			o := value.NewObject(len(vars.names))
			for i, n := range vars.names {
				o.Set(n, vars.vals[i])
			}
			ts.res.Inspect.Variables = textOf(o)
		}
	}
	return ts.res
}

type testRun struct {
	t      *thread
	in     *TestInput
	r      *stateRun
	res    *TestResult
	mapCfg *mapConfig // Map states: the evaluated settings
}

func (ts *testRun) fail(f *failure) {
	ts.res.Status = TestFailed
	ts.res.Output = nil
	if f.err != nil {
		if f.err.HasName {
			ts.res.Error = &f.err.Name
		}
		if f.err.HasCause {
			ts.res.Cause = &f.err.Cause
		}
	}
}

func (ts *testRun) succeed(next string, out any) {
	ts.res.Status = TestSucceeded
	ts.res.NextState = next
	ts.res.Output = textOf(out)
}

func (ts *testRun) run() {
	t, st := ts.t, ts.in.State
	raw := ts.in.Input
	if st.QueryLanguage == asl.JSONata {
		ts.fail(t.fatalf(fault.New(fault.Runtime, "JSONata states are not supported")))
		return
	}
	ts.r = t.enter(st, raw)
	if ts.in.Context != nil {
		ts.r.env.Context = ts.in.Context
	}
	ts.res.Inspect.Input = textOf(raw)
	switch st.Type {
	case asl.TypePass:
		ts.pass(raw)
	case asl.TypeChoice:
		ts.choice(raw)
	case asl.TypeWait:
		ts.wait(raw)
	case asl.TypeSucceed:
		ts.succeedState(raw)
	case asl.TypeFail:
		_, _, f := t.runFail(st, raw)
		ts.fail(f)
	case asl.TypeTask, asl.TypeParallel, asl.TypeMap:
		ts.work(raw)
	default:
		ts.fail(t.fatalf(fault.New(fault.Runtime, "unknown state type "+string(st.Type))))
	}
}

func (ts *testRun) pass(raw any) {
	t, r, st := ts.t, ts.r, ts.in.State
	eff, f := t.inputPath(r, raw)
	if f != nil {
		ts.fail(f)
		return
	}
	ts.res.Inspect.AfterInputPath = textOf(eff)
	if eff, f = t.template(r, st.Parameters, eff); f != nil {
		ts.fail(f)
		return
	}
	ts.res.Inspect.AfterParameters = textOf(eff)
	result := eff
	if st.HasResult {
		result = st.Result
	}
	ts.res.Inspect.Result = textOf(result)
	ts.finish(raw, result, false)
}

// finish runs Assign, ResultPath and OutputPath on a result (after
// ResultSelector when selector is set).
func (ts *testRun) finish(raw, result any, selector bool) {
	t, r, st := ts.t, ts.r, ts.in.State
	var f *failure
	if selector {
		if result, f = t.template(r, st.ResultSelector, result); f != nil {
			ts.handle(raw, f)
			return
		}
		ts.res.Inspect.AfterResultSelector = textOf(result)
	}
	assigned, f := t.assign(r, st.Assign, result)
	if f != nil {
		ts.fail(f)
		return
	}
	out, f := t.resultPath(r, st.ResultPath, raw, result)
	if f != nil {
		if st.Type == asl.TypePass {
			ts.fail(f)
		} else {
			ts.handle(raw, f)
		}
		return
	}
	ts.res.Inspect.AfterResultPath = textOf(out)
	if out, f = t.outputPath(r, out); f != nil {
		ts.fail(f)
		return
	}
	if jsonSizeExceeds(out, t.ex.e.maxPayload) {
		ts.handle(raw, t.fatalf(dataLimit(st.Name)))
		return
	}
	t.vars.assign(assigned)
	ts.succeed(next(st), out)
}

func (ts *testRun) choice(raw any) {
	t, r, st := ts.t, ts.r, ts.in.State
	eff, f := t.inputPath(r, raw)
	if f != nil {
		ts.fail(f)
		return
	}
	ts.res.Inspect.AfterInputPath = textOf(eff)
	r.env.Input = eff
	target := ""
	var assigned *value.Object
	for _, rule := range st.Choices {
		ok, err := rule.Match(&r.env)
		if err != nil {
			ts.fail(t.fatalf(toFault(err, &r.env)))
			return
		}
		if ok {
			target = rule.Next
			if assigned, f = t.assign(r, rule.Assign, eff); f != nil {
				ts.fail(f)
				return
			}
			break
		}
	}
	if target == "" {
		if st.Default == "" {
			ts.fail(t.fail(fault.New(fault.NoChoiceMatched, "No Matches!")))
			return
		}
		target = st.Default
		if assigned, f = t.assign(r, st.Assign, eff); f != nil {
			ts.fail(f)
			return
		}
	}
	out, f := t.outputPath(r, eff)
	if f != nil {
		ts.fail(f)
		return
	}
	t.vars.assign(assigned)
	ts.succeed(target, out)
}

// wait checks the Wait state's fields and passes its input on without
// waiting, as TestState does.
func (ts *testRun) wait(raw any) {
	t, r, st := ts.t, ts.r, ts.in.State
	eff, f := t.inputPath(r, raw)
	if f != nil {
		ts.fail(f)
		return
	}
	ts.res.Inspect.AfterInputPath = textOf(eff)
	if _, f := t.waitSeconds(r, st, eff); f != nil {
		ts.fail(f)
		return
	}
	assigned, f := t.assign(r, st.Assign, eff)
	if f != nil {
		ts.fail(f)
		return
	}
	out, f := t.outputPath(r, eff)
	if f != nil {
		ts.fail(f)
		return
	}
	t.vars.assign(assigned)
	ts.succeed(next(st), out)
}

func (ts *testRun) succeedState(raw any) {
	t, r := ts.t, ts.r
	eff, f := t.inputPath(r, raw)
	if f != nil {
		ts.fail(f)
		return
	}
	ts.res.Inspect.AfterInputPath = textOf(eff)
	out, f := t.outputPath(r, eff)
	if f != nil {
		ts.fail(f)
		return
	}
	ts.succeed("", out)
}

// work tests a Task, Parallel or Map state: its effective input, the
// mocked or real result, then the result processing, Retry and Catch.
func (ts *testRun) work(raw any) {
	t, r, st := ts.t, ts.r, ts.in.State
	eff, f := t.inputPath(r, raw)
	if f != nil {
		ts.fail(f)
		return
	}
	ts.res.Inspect.AfterInputPath = textOf(eff)
	if st.Type == asl.TypeMap {
		if !ts.mapSetup(raw) {
			return
		}
	} else {
		if eff, f = t.template(r, st.Parameters, eff); f != nil {
			ts.fail(f)
			return
		}
		ts.res.Inspect.AfterParameters = textOf(eff)
	}
	var result any
	var fe *fault.Error
	switch {
	case ts.in.Mock != nil && ts.in.Mock.Error != nil:
		fe = ts.in.Mock.Error
	case ts.in.Mock != nil:
		result = ts.in.Mock.Result
	default:
		result, fe = ts.invoke(eff)
	}
	if fe == nil && st.Type == asl.TypeMap && ts.in.MapIterationFailureCount != nil {
		if fe = ts.mapFailures(result); ts.res.Invalid != "" {
			return
		}
	}
	if fe != nil {
		ts.handle(raw, t.fail(fe))
		return
	}
	ts.res.Inspect.Result = textOf(result)
	ts.finish(raw, result, true)
}

// mapSetup records the Map's items, selector and tolerance settings.
func (ts *testRun) mapSetup(raw any) bool {
	t, r := ts.t, ts.r
	var cfg *mapConfig
	if ts.in.ItemReaderData != nil {
		// The items are what the ItemReader would read, not the input's.
		eff, f := t.inputPath(r, raw)
		if f != nil {
			ts.fail(f)
			return false
		}
		cfg = &mapConfig{eff: eff, items: ts.in.ItemReaderData, maxConc: int(ts.in.State.MaxConcurrency)}
	} else {
		var f *failure
		if cfg, f = t.mapSetup(r, raw); f != nil {
			ts.fail(f)
			return false
		}
	}
	ts.res.Inspect.AfterItemsPath = textOf(cfg.items)
	sel := make([]any, len(cfg.items))
	for i := range cfg.items {
		v, f := t.iterInput(r, cfg, i)
		if f != nil {
			ts.fail(f)
			return false
		}
		sel[i] = v
	}
	ts.res.Inspect.AfterItemSelector = textOf(sel)
	if f := t.mapTolerance(r, cfg); f != nil {
		ts.fail(f)
		return false
	}
	mc := int64(cfg.maxConc)
	ts.res.Inspect.MaxConcurrency = &mc
	if cfg.hasTol {
		tc, tp := cfg.tolCount, cfg.tolPct
		ts.res.Inspect.ToleratedFailureCount, ts.res.Inspect.ToleratedFailurePercentage = &tc, &tp
	}
	ts.mapCfg = cfg
	return true
}

// mapFailures applies stateConfiguration.mapIterationFailureCount: the
// Map fails when more iterations fail than it tolerates.
func (ts *testRun) mapFailures(result any) *fault.Error {
	cfg := ts.mapCfg
	if cfg == nil {
		return nil
	}
	n := *ts.in.MapIterationFailureCount
	if n > int64(len(cfg.items)) {
		ts.res.Invalid = "Map iteration failure count must be less than or equal to the number of Map iterations"
		return nil
	}
	if n == 0 {
		return nil
	}
	if cfg.exceeded(int(n), len(cfg.items)) {
		if cfg.hasTol || ts.in.State.ProcessorMode == "DISTRIBUTED" {
			return fault.New(fault.ExceedToleratedFailureThreshold, "The specified tolerated failure threshold was exceeded")
		}
		return fault.New(fault.TaskFailed, "A Map iteration failed")
	}
	return nil
}

// invoke runs a real task through the Invoker.
func (ts *testRun) invoke(eff any) (any, *fault.Error) {
	t, r, st := ts.t, ts.r, ts.in.State
	info := classify(st.Resource)
	task := &Task{
		Resource: st.Resource, Input: eff, StateName: st.Name, ExecutionARN: t.ex.x.ARN,
		Region: t.ex.e.cfg.Region, AccountID: t.ex.e.cfg.AccountID,
	}
	if st.TimeoutSeconds != nil {
		task.Timeout = t.ex.e.scaled(float64(*st.TimeoutSeconds))
	} else if st.TimeoutSecondsPath != nil {
		r.env.Input = ts.in.Input
		n, fe := positiveSeconds(st.TimeoutSecondsPath, &r.env, "TimeoutSecondsPath")
		if fe != nil {
			return nil, fe
		}
		task.Timeout = t.ex.e.scaled(float64(n))
	}
	if st.Credentials != nil {
		creds, f := t.template(r, st.Credentials, ts.in.Input)
		if f != nil {
			return nil, f.err
		}
		task.Credentials = creds
	}
	res, fe := t.invoke(task, info, time.Time{})
	if fe == nil && t.ctx.Err() != nil {
		return nil, fault.New(fault.Timeout, "TestState exceeded its time limit")
	}
	if fe != nil && t.ctx.Err() != nil {
		return nil, &fault.Error{Name: fault.Timeout, HasName: true, Cause: "TestState exceeded its time limit", HasCause: true}
	}
	if fe == nil && jsonSizeExceeds(res, t.ex.e.maxPayload) {
		name := st.Resource
		if info.kind == resService {
			name = info.resourceType
		}
		return nil, dataLimit(name)
	}
	return res, fe
}

// handle applies Retry (once: RETRIABLE when a retrier would retry), then
// Catch (CAUGHT_ERROR), to a failure of a Task, Parallel or Map.
func (ts *testRun) handle(raw any, f *failure) {
	t, r, st := ts.t, ts.r, ts.in.State
	if f.fatal || f.aborted || f.err == nil {
		ts.fail(f)
		return
	}
	for i, rt := range st.Retry {
		if !errorMatches(rt.ErrorEquals, f.err) {
			continue
		}
		if ts.in.RetrierRetryCount < rt.MaxAttempts {
			d := float64(rt.IntervalSeconds) * math.Pow(rt.BackoffRate, float64(ts.in.RetrierRetryCount))
			if rt.MaxDelaySeconds != nil && d > float64(*rt.MaxDelaySeconds) {
				d = float64(*rt.MaxDelaySeconds)
			}
			idx, secs := int64(i), int64(math.Min(d, math.MaxInt32))
			ts.fail(f)
			ts.res.Status = TestRetriable
			ts.res.Inspect.ErrorDetails = &TestErrorDetails{RetryIndex: &idx, RetryBackoffIntervalSeconds: &secs}
			return
		}
		break
	}
	for i, c := range st.Catch {
		if !errorMatches(c.ErrorEquals, f.err) {
			continue
		}
		eo := errorOutput(f.err)
		assigned, f2 := t.assign(r, c.Assign, eo)
		if f2 != nil {
			ts.fail(f2)
			return
		}
		out, f2 := t.resultPath(r, c.ResultPath, raw, eo)
		if f2 != nil {
			ts.fail(f2)
			return
		}
		t.vars.assign(assigned)
		idx := int64(i)
		ts.res.Status = TestCaughtError
		ts.res.NextState = c.Next
		ts.res.Output = textOf(out)
		if f.err.HasName {
			ts.res.Error = &f.err.Name
		}
		if f.err.HasCause {
			ts.res.Cause = &f.err.Cause
		}
		ts.res.Inspect.ErrorDetails = &TestErrorDetails{CatchIndex: &idx}
		return
	}
	ts.fail(f)
}

// ResourceNeedsMock reports whether TestState needs a mock for a Task's
// resource: activities, .sync and .waitForTaskToken integrations.
func ResourceNeedsMock(resource string) bool {
	info := classify(resource)
	return info.kind == resActivity || info.callback || strings.Contains(info.resource, ".sync")
}
