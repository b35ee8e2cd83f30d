package engine

import (
	"math"
	"math/big"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/jsonata"
	"github.com/stepwell/stepwell/value"
)

// jsonAta is the JSONata data flow: a state works on its input or its
// Arguments, and its Output (by default its result, or its input for
// states without one) and Assign see $states.input (the raw input),
// $states.result, $states.errorOutput (in a catcher), $states.context and
// the variables as they were when the state was entered. The settings
// JSONPath reads through *Path fields are expressions (or literals) in
// the fields themselves.
//
// Every evaluation failure is States.QueryEvaluationError, recorded as an
// EvaluationFailed event, and can be retried and caught where the state
// has Retry and Catch.
var jsonAta dataFlow = &jsonataFlow{}

type jsonataFlow struct{}

// env is the evaluation environment of r's state, with $states.input the
// state's raw input and no result.
func (t *thread) env(r *stateRun) *jsonata.Env {
	e := &r.ja
	*e = jsonata.Env{Input: r.raw, Context: r.env.Context, Vars: t.vars}
	return e
}

// query evaluates q in env for r's state; its failure is recorded, after
// the event the state's Entered event follows, as AWS links it.
func (t *thread) query(r *stateRun, q *asl.Query, env *jsonata.Env) (any, *failure) {
	return t.queryAfter(r, q, env, r.prev)
}

// queryAfter is query with the EvaluationFailed event of a failure
// following prev.
func (t *thread) queryAfter(r *stateRun, q *asl.Query, env *jsonata.Env, prev int64) (any, *failure) {
	v, err := q.Eval(t.ctx, env)
	if err != nil {
		return nil, t.queryFailed(r, err, prev)
	}
	return v, nil
}

// queryFailed records a failed evaluation of r's state: the
// EvaluationFailed event after prev, then the failure, which is
// catchable.
func (t *thread) queryFailed(r *stateRun, err error, prev int64) *failure {
	if t.cancelled() {
		return t.aborted()
	}
	qe, ok := err.(*asl.QueryError)
	if !ok {
		qe = &asl.QueryError{Cause: err.Error()}
	}
	return t.evaluationFailed(r, qe, prev)
}

// evaluationFailed records qe as an EvaluationFailed event after prev
// and returns it as the thread's failure.
func (t *thread) evaluationFailed(r *stateRun, qe *asl.QueryError, prev int64) *failure {
	fe := fault.New(fault.QueryEvaluationError, prefix(&r.env)+qe.Cause)
	t.last = t.addPrev(event{typ: history.EvaluationFailed, st: r.b.st, text: qe.Location, fe: fe}, prev)
	return t.fail(fe)
}

func (*jsonataFlow) effective(t *thread, r *stateRun, raw any, params bool) (any, *failure) {
	q := r.b.st.Query.Arguments
	if !params || q == nil {
		return raw, nil
	}
	v, f := t.query(r, q, t.env(r))
	if f != nil {
		return nil, f
	}
	if t.test != nil {
		t.test.res.Inspect.AfterArguments = textOf(v)
	}
	return v, nil
}

func (*jsonataFlow) result(t *thread, r *stateRun, _, result any) (any, *value.Object, *failure) {
	st := r.b.st
	env := t.env(r)
	switch st.Type {
	case asl.TypeTask, asl.TypeParallel, asl.TypeMap:
		env.Result, env.HasResult = result, true
	}
	assigned, f := t.assignQuery(r, st.Assign, env)
	if f != nil {
		return nil, nil, f
	}
	out := result
	if q := st.Query.Output; q != nil {
		if out, f = t.query(r, q, env); f != nil {
			return nil, nil, f
		}
	}
	return out, assigned, nil
}

func (*jsonataFlow) caught(t *thread, r *stateRun, c *asl.Catcher, _ any, errOut *value.Object) (any, *value.Object, *failure) {
	env := t.env(r)
	env.ErrorOutput, env.HasErrorOutput = errOut, true
	assigned, f := t.assignQuery(r, c.Assign, env)
	if f != nil {
		return nil, nil, f
	}
	var out any = errOut
	if c.Output != nil {
		if out, f = t.query(r, c.Output, env); f != nil {
			return nil, nil, f
		}
	}
	return out, assigned, nil
}

func (*jsonataFlow) assign(t *thread, r *stateRun, a *asl.Assign, _ any) (*value.Object, *failure) {
	return t.assignQuery(r, a, t.env(r))
}

// assignQuery evaluates a JSONata Assign block: every value first, from
// the variables as they are (they change when the state exits).
func (t *thread) assignQuery(r *stateRun, a *asl.Assign, env *jsonata.Env) (*value.Object, *failure) {
	if a == nil || a.Query == nil {
		return nil, nil
	}
	v, f := t.query(r, a.Query, env)
	if f != nil {
		return nil, f
	}
	o, _ := v.(*value.Object)
	return o, nil
}

func (*jsonataFlow) passOn(t *thread, r *stateRun, eff any, rule *asl.ChoiceRule) (any, *failure) {
	q := r.b.st.Query.Output
	if rule != nil {
		// The matched rule's Output, not the state's (which goes with
		// Default), as for Assign.
		q = rule.Output
	}
	if q == nil {
		return eff, nil
	}
	return t.query(r, q, t.env(r))
}

func (*jsonataFlow) matches(t *thread, r *stateRun, rule *asl.ChoiceRule, _ any) (bool, *failure) {
	q := rule.Condition
	if q == nil {
		return false, nil
	}
	v, f := t.query(r, q, t.env(r))
	if f != nil {
		return false, f
	}
	b, ok := v.(bool)
	if !ok {
		return false, t.evaluationFailed(r, q.ResultTypeError("boolean", v), r.prev)
	}
	return b, nil
}

func (*jsonataFlow) waitSeconds(t *thread, r *stateRun, eff any) (float64, *failure) {
	st := r.b.st
	// AWS links the EvaluationFailed event of a Wait's Seconds or
	// Timestamp to the state's Entered event (other fields' to the event
	// before it).
	entered := t.last
	fail := func(q *asl.Query, cause string) *failure {
		return t.evaluationFailed(r, &asl.QueryError{Location: q.Location(), Cause: cause}, entered)
	}
	switch {
	case st.Query.Seconds != nil:
		q := st.Query.Seconds
		v, f := t.queryAfter(r, q, t.env(r), entered)
		if f != nil {
			return 0, f
		}
		n, ok := intOf(v)
		if !ok || n < 0 {
			return 0, t.evaluationFailed(r, q.ResultTypeError("integer", v), entered)
		}
		if n > maxWaitSeconds {
			return 0, fail(q, "Wait state delay is too long.")
		}
		return float64(n), nil
	case st.Query.Timestamp != nil:
		q := st.Query.Timestamp
		v, f := t.queryAfter(r, q, t.env(r), entered)
		if f != nil {
			return 0, f
		}
		s, _ := v.(string)
		ts, ok := parseTimestamp(s)
		if !ok {
			return 0, fail(q, "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: "+stringOf(v))
		}
		now := r.at()
		if now.IsZero() {
			now = t.ex.now()
		}
		secs := ts.Sub(now).Seconds()
		if secs > maxWaitSeconds {
			return 0, fail(q, "Wait state delay is too long.")
		}
		return secs, nil
	}
	// Literal Seconds or Timestamp.
	return t.waitSeconds(r, st, eff)
}

func (*jsonataFlow) failError(t *thread, r *stateRun) (*fault.Error, *failure) {
	st := r.b.st
	fe := &fault.Error{}
	str := func(q *asl.Query, literal string, has bool) (string, bool, *failure) {
		if q == nil {
			return literal, has, nil
		}
		v, f := t.query(r, q, t.env(r))
		if f != nil {
			return "", false, f
		}
		s, ok := v.(string)
		if !ok {
			return "", false, t.evaluationFailed(r, q.ResultTypeError("string", v), r.prev)
		}
		return s, true, nil
	}
	var f *failure
	if fe.Name, fe.HasName, f = str(st.Query.Error, st.Error, st.HasError); f != nil {
		return nil, f
	}
	if fe.Cause, fe.HasCause, f = str(st.Query.Cause, st.Cause, st.HasCause); f != nil {
		return nil, f
	}
	return fe, nil
}

func (*jsonataFlow) taskSettings(t *thread, r *stateRun, _ any) (timeout, heartbeat *int64, creds any, f *failure) {
	st := r.b.st
	if timeout, f = t.positiveQuery(r, st.Query.TimeoutSeconds, st.TimeoutSeconds); f != nil {
		return nil, nil, nil, f
	}
	if heartbeat, f = t.positiveQuery(r, st.Query.HeartbeatSeconds, st.HeartbeatSeconds); f != nil {
		return nil, nil, nil, f
	}
	if q := st.Query.Credentials; q != nil {
		if creds, f = t.query(r, q, t.env(r)); f != nil {
			return nil, nil, nil, f
		}
	}
	return timeout, heartbeat, creds, nil
}

// positiveQuery evaluates a TimeoutSeconds-like expression (literal when
// q is nil): a positive integer.
func (t *thread) positiveQuery(r *stateRun, q *asl.Query, literal *int64) (*int64, *failure) {
	if q == nil {
		return literal, nil
	}
	v, f := t.query(r, q, t.env(r))
	if f != nil {
		return nil, f
	}
	n, ok := intOf(v)
	if !ok || n <= 0 {
		return nil, t.evaluationFailed(r, q.ResultTypeError("integer", v), r.prev)
	}
	if n > 99999999 {
		n = 99999999
	}
	return &n, nil
}

// countQuery evaluates a MaxConcurrency-like expression: a non-negative
// integer.
func (t *thread) countQuery(r *stateRun, q *asl.Query) (int64, *failure) {
	v, f := t.query(r, q, t.env(r))
	if f != nil {
		return 0, f
	}
	n, ok := intOf(v)
	if !ok || n < 0 {
		return 0, t.evaluationFailed(r, q.ResultTypeError("integer", v), r.prev)
	}
	return n, nil
}

func (*jsonataFlow) mapItems(t *thread, r *stateRun, raw any) (*mapConfig, *failure) {
	st := r.b.st
	cfg := &mapConfig{eff: raw, maxConc: int(st.MaxConcurrency)}
	// With an ItemReader the items are read after MapRunStarted
	// (distmap.go).
	reader := st.Reader != nil && st.ProcessorMode == "DISTRIBUTED"
	if q := st.Query.Items; q != nil && !reader {
		v, f := t.query(r, q, t.env(r))
		if f != nil {
			return nil, f
		}
		arr, ok := v.([]any)
		if !ok {
			return nil, t.evaluationFailed(r, q.ResultTypeError("array", v), r.prev)
		}
		cfg.items = arr
	} else if !reader {
		arr, ok := raw.([]any)
		if !ok {
			return nil, t.evaluationFailed(r, &asl.QueryError{Cause: "Map state input must be an array but was: " + value.String(raw)}, r.prev)
		}
		cfg.items = arr
	}
	if q := st.Query.MaxConcurrency; q != nil {
		n, f := t.countQuery(r, q)
		if f != nil {
			return nil, f
		}
		cfg.maxConc = int(min(n, math.MaxInt32))
	}
	return cfg, nil
}

func (*jsonataFlow) mapTolerance(t *thread, r *stateRun, cfg *mapConfig) *failure {
	st := r.b.st
	cfg.tolCount, cfg.tolPct = -1, -1
	if st.ToleratedFailureCount != nil {
		cfg.tolCount, cfg.hasTol = *st.ToleratedFailureCount, true
	}
	if q := st.Query.ToleratedFailureCount; q != nil {
		n, f := t.countQuery(r, q)
		if f != nil {
			return f
		}
		cfg.tolCount, cfg.hasTol = n, true
	}
	if st.ToleratedFailurePercentage != nil {
		cfg.tolPct, cfg.hasTol = *st.ToleratedFailurePercentage, true
	}
	if q := st.Query.ToleratedFailurePercentage; q != nil {
		v, f := t.query(r, q, t.env(r))
		if f != nil {
			return f
		}
		pct, ok := value.ToFloat(v)
		if !ok || pct < 0 || pct > 100 {
			return t.evaluationFailed(r, q.ResultTypeError("number", v), r.prev)
		}
		cfg.tolPct, cfg.hasTol = pct, true
	}
	return nil
}

func (*jsonataFlow) arguments(t *thread, r *stateRun, _ *asl.Template, args *asl.Query, _ any) (any, *failure) {
	if args == nil {
		return nil, nil
	}
	return t.query(r, args, t.env(r))
}

func (*jsonataFlow) itemInput(t, it *thread, r *stateRun, cfg *mapConfig, i int) (any, *failure) {
	q := r.b.st.Query.ItemSelector
	if q == nil {
		return cfg.itemAt(i), nil
	}
	// Iterations run concurrently: each has an environment of its own,
	// with Map.Item in the Context object.
	env := &jsonata.Env{Input: r.raw, Context: r.env.Context, Vars: t.vars}
	if t.ex.needCtx {
		item := value.NewObject(2)
		item.Set("Index", int64(i))
		item.Set("Value", cfg.itemAt(i))
		sc := r.sc
		sc.item = item
		env.Context = t.contextObject(&sc)
		if t.test != nil && t.test.in.Context != nil {
			env.Context = t.test.in.Context
		}
	}
	v, err := q.Eval(it.ctx, env)
	if err != nil {
		return nil, it.queryFailed(r, err, it.last)
	}
	return v, nil
}

// intOf converts an integral JSON number to int64 (saturating big ones).
func intOf(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case float64:
		if n == math.Trunc(n) && !math.IsInf(n, 0) {
			if math.Abs(n) >= 9.2e18 {
				if n < 0 {
					return math.MinInt64, true
				}
				return math.MaxInt64, true
			}
			return int64(n), true
		}
	case *big.Int:
		if n.Sign() < 0 {
			return math.MinInt64, true
		}
		return math.MaxInt64, true
	}
	return 0, false
}
