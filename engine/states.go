package engine

import (
	"math"
	"math/big"
	"time"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/jsonata"
	"github.com/stepwell/stepwell/value"
)

// eventTypes are the entered and exited event types of each state type.
var eventTypes = map[asl.StateType][2]history.EventType{
	asl.TypePass:     {history.PassStateEntered, history.PassStateExited},
	asl.TypeTask:     {history.TaskStateEntered, history.TaskStateExited},
	asl.TypeChoice:   {history.ChoiceStateEntered, history.ChoiceStateExited},
	asl.TypeWait:     {history.WaitStateEntered, history.WaitStateExited},
	asl.TypeSucceed:  {history.SucceedStateEntered, history.SucceedStateExited},
	asl.TypeFail:     {history.FailStateEntered, ""},
	asl.TypeParallel: {history.ParallelStateEntered, history.ParallelStateExited},
	asl.TypeMap:      {history.MapStateEntered, history.MapStateExited},
}

// stateRun is the per-state working set.
type stateRun struct {
	b   *base // the state's plan
	env asl.Env
	sc  stateCtx
	raw any // the state's raw input ($states.input)
	// prev is the event the state's Entered event follows (JSONata's
	// EvaluationFailed follows it too).
	prev int64
	ja   jsonata.Env // a JSONata state's evaluation environment
}

// at is the timestamp of the state's Entered event (zero without
// history).
func (r *stateRun) at() time.Time {
	if r.sc.atEvent {
		return r.sc.entered
	}
	return time.Time{}
}

// enter records the state's Entered event and prepares its environment.
// withRetry puts $$.State.RetryCount in the Context object (Task,
// Parallel, Map).
func (t *thread) enter(b *base, raw any, withRetry bool) *stateRun {
	st := b.st
	if t.owned != nil && !b.keepsOwned {
		t.owned = nil // the state may hand its input out (thread.owned)
	}
	text := ""
	if t.log.keeps() {
		text = t.enteredText(raw)
	}
	prev := t.last
	id := t.log.entered(t, st, b.types[0], text, raw)
	// A thread runs one state at a time: its working set is reused (the
	// children of a Parallel or Map have threads of their own, and their
	// parent's state waits for them). Only the fields that change are
	// written: while the collector marks, each pointer written to the heap
	// goes through its write barrier (and copying the whole struct through
	// a bulk one), and r.ja is set before each use (thread.env).
	r := &t.run
	r.b, r.prev = b, prev
	if !sameObject(r.raw, raw) { // a Choice's or Pass's output object, often
		r.raw = raw
	}
	r.sc.withRetry, r.sc.retry = withRetry, 0
	if r.sc.token != "" {
		r.sc.token = ""
	}
	// The Entered event's timestamp (t.lastAt now), else, for $$, the
	// time now. The name is for $$ only.
	switch r.sc.atEvent = !t.lastAt.IsZero(); {
	case r.sc.atEvent:
		r.sc.entered = t.lastAt
	case t.ex.needCtx:
		r.sc.entered = t.ex.now()
	}
	if t.ex.needCtx {
		r.sc.name = st.Name
	}
	r.env.StateName = st.Name
	if !sameObject(r.env.Input, raw) {
		r.env.Input = raw
	}
	if vars, _ := r.env.Vars.(*scope); vars != t.vars || vars == nil {
		r.env.Vars = t.vars
	}
	r.env.EnteredEventID, r.env.MaxBytes = id, t.ex.e.maxPayload
	if t.ex.needCtx {
		r.env.Context = t.contextObject(&r.sc)
	}
	if t.test != nil {
		t.test.entered(r)
	}
	return r
}

// sameObject reports whether a and b hold the same object, so that a
// write of b over a can be skipped: while the collector marks, each
// pointer written to the heap goes through a write barrier. Other
// values (an array is not comparable) are never the same.
func sameObject(a, b any) bool {
	o, ok := b.(*value.Object)
	if !ok {
		return false
	}
	p, ok := a.(*value.Object)
	return ok && p == o
}

// enteredText is the text of a state's input raw for its Entered event
// when the thread keeps a history: the execution input as given, the
// previous state's output text, or "" (the log renders it). It keeps the
// input and its text for the Exited event of a state that passes its
// input on.
func (t *thread) enteredText(raw any) string {
	text, canonical := t.rawText, t.rawCanonical
	if text == "" {
		text, canonical = t.textOfOutput(raw), true
	}
	t.inObj, t.inText = nil, ""
	if o, ok := raw.(*value.Object); ok && o != nil && canonical {
		if text == "" {
			// The Entered event renders it anyway: render it here, once
			// for that event and the Exited one of a state that passes
			// its input on (a Map iteration's Pass of a 200 KB item).
			text = value.String(o)
		}
		t.inObj, t.inText = o, text
	}
	t.rawText, t.rawCanonical, t.outObj, t.outText = "", false, nil, ""
	return text
}

// refreshContext rebuilds $$ after the retry count or the token changed.
func (t *thread) refreshContext(r *stateRun) {
	r.env.Context = t.contextObject(&r.sc)
	if t.test != nil {
		t.test.context(r)
	}
}

// exit records the state's Exited event, checking the output size first,
// then assigns the variables. When resuming, a recorded Exited event's
// output and assigned variables win over the recomputed ones.
func (t *thread) exit(r *stateRun, out any, assigned *value.Object) (any, *failure) {
	if assigned != nil { // most states assign nothing
		if fe := t.vars.fits(assigned, r.b.st.Name); fe != nil {
			return nil, t.fatalf(fe)
		}
	}
	out, assigned, fe := t.log.exited(t, r.b.st, r.b.types[1], out, assigned)
	if fe != nil {
		return nil, t.fatalf(fe)
	}
	if assigned != nil {
		t.vars.assign(assigned)
	}
	return out, nil
}

// AWS's quotas on variables (both query languages): one variable, and the
// variables one Assign sets together, at most maxVariableBytes of JSON
// text; all the variables an execution holds (here: those a thread
// sees), at most maxVariablesBytes.
const (
	maxVariableBytes  = 256 * 1024
	maxVariablesBytes = 10 * 1024 * 1024
)

// fits checks the variables a state assigns against AWS's quotas, with
// the variables s already holds that they do not replace.
func (s *scope) fits(assigned *value.Object, state string) *fault.Error {
	if assigned.Len() == 0 {
		return nil
	}
	block, total := 0, 0
	for i := 0; i < assigned.Len(); i++ {
		k, v := assigned.At(i)
		n := 0
		if !value.SizeWithin(v, &n, maxVariableBytes) {
			return variableLimit(state)
		}
		block += n
		total += n - s.size(k)
	}
	if block > maxVariableBytes {
		return variableLimit(state)
	}
	for sc := s; sc != nil; sc = sc.parent {
		total += sc.bytes
	}
	if total > maxVariablesBytes {
		return variableLimit(state)
	}
	return nil
}

func variableLimit(name string) *fault.Error {
	return fault.New(fault.DataLimitExceeded, "The state/task '"+name+
		"' assigned variables with a size exceeding the maximum number of bytes service limit.")
}

func dataLimit(name string) *fault.Error {
	return fault.New(fault.DataLimitExceeded, "The state/task '"+name+
		"' returned a result with a size exceeding the maximum number of bytes service limit.")
}

type passPlan struct{ base }

func (p *passPlan) run(t *thread, raw any) (any, string, *failure) {
	r := t.enter(&p.base, raw, false)
	eff, f := p.flow.effective(t, r, raw, true)
	if f != nil {
		return nil, "", f
	}
	if p.room > 0 && t.test == nil && !t.ex.needVars && !t.log.keeps() {
		// eff is the new object the Parameters built (thread.owned).
		if o, ok := eff.(*value.Object); ok && o != t.owned {
			t.owned = o
		}
	}
	result := eff
	if p.st.HasResult {
		result = p.st.Result
	}
	if t.test != nil {
		t.test.res.Inspect.Result = textOf(result)
	}
	out, assigned, f := p.flow.result(t, r, raw, result)
	if f != nil {
		// A Pass state has no Catch: its ResultPath failure is fatal.
		// (A JSONata failure is not: a Map or Parallel around it may
		// catch it.)
		if f.err == nil || f.err.Name != fault.QueryEvaluationError {
			f.fatal = true
		}
		return nil, "", f
	}
	if out, f = t.exit(r, out, assigned); f != nil {
		return nil, "", f
	}
	return out, p.next, nil
}

type succeedPlan struct{ base }

func (p *succeedPlan) run(t *thread, raw any) (any, string, *failure) {
	r := t.enter(&p.base, raw, false)
	eff, f := p.flow.effective(t, r, raw, false)
	if f != nil {
		return nil, "", f
	}
	out, f := p.flow.passOn(t, r, eff, nil)
	if f != nil {
		return nil, "", f
	}
	if out, f = t.exit(r, out, nil); f != nil {
		return nil, "", f
	}
	return out, "", nil
}

type failStatePlan struct{ base }

func (p *failStatePlan) run(t *thread, raw any) (any, string, *failure) {
	r := t.enter(&p.base, raw, false)
	fe, f := p.flow.failError(t, r)
	if f != nil {
		return nil, "", f
	}
	return nil, "", t.fail(fe)
}

func stringOf(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return value.String(v)
}

type choicePlan struct{ base }

func (p *choicePlan) run(t *thread, raw any) (any, string, *failure) {
	st := p.st
	r := t.enter(&p.base, raw, false)
	eff, f := p.flow.effective(t, r, raw, false)
	if f != nil {
		return nil, "", f
	}
	target := ""
	var assigned *value.Object
	var matched *asl.ChoiceRule
	for _, rule := range st.Choices {
		ok, f := p.flow.matches(t, r, rule, eff)
		if f != nil {
			return nil, "", f
		}
		if ok {
			target, matched = rule.Next, rule
			if assigned, f = p.flow.assign(t, r, rule.Assign, eff); f != nil {
				return nil, "", f
			}
			break
		}
	}
	if target == "" {
		if st.Default == "" {
			return nil, "", t.fail(fault.New(fault.NoChoiceMatched, "No Matches!"))
		}
		target = st.Default
		if assigned, f = p.flow.assign(t, r, st.Assign, eff); f != nil {
			return nil, "", f
		}
	}
	out, f := p.flow.passOn(t, r, eff, matched)
	if f != nil {
		return nil, "", f
	}
	if out, f = t.exit(r, out, assigned); f != nil {
		return nil, "", f
	}
	return out, p.recordedTarget(t, target), nil
}

// recordedTarget is where a resumed execution's Choice went when its
// history recorded it (the next state entered), else target: a condition
// may not decide the same way twice ($random(), $now() in JSONata), and
// the recorded output and variables came with the recorded way.
func (p *choicePlan) recordedTarget(t *thread, target string) string {
	rec := t.log.next()
	if rec == nil || rec.StateEnteredEventDetails == nil {
		return target
	}
	name := rec.StateEnteredEventDetails.Name
	if name == target {
		return target
	}
	if name == p.st.Default {
		return name
	}
	for _, rule := range p.st.Choices {
		if rule.Next == name {
			return name
		}
	}
	return target
}

// maxWaitSeconds is the longest Wait AWS accepts (about 2^31 s).
const maxWaitSeconds = math.MaxInt32

type waitPlan struct{ base }

func (p *waitPlan) run(t *thread, raw any) (any, string, *failure) {
	st := p.st
	r := t.enter(&p.base, raw, false)
	eff, f := p.flow.effective(t, r, raw, false)
	if f != nil {
		return nil, "", f
	}
	secs, f := p.flow.waitSeconds(t, r, eff)
	if f != nil {
		return nil, "", f
	}
	assigned, f := p.flow.assign(t, r, st.Assign, eff)
	if f != nil {
		return nil, "", f
	}
	if secs > 0 && t.test == nil {
		t.ex.flush()
		if t.park(r.at(), t.ex.e.scaled(secs)) {
			return nil, "", t.aborted()
		}
		if err := t.sleepFrom(r.at(), t.ex.e.scaled(secs)); err != nil || t.cancelled() {
			t.abortEvent(history.WaitStateAborted)
			return nil, "", t.aborted()
		}
	}
	out, f := p.flow.passOn(t, r, eff, nil)
	if f != nil {
		return nil, "", f
	}
	if out, f = t.exit(r, out, assigned); f != nil {
		return nil, "", f
	}
	return out, p.next, nil
}

// waitSeconds is how long a Wait state waits for its effective input eff,
// with AWS's runtime errors for bad SecondsPath/TimestampPath values and
// delays that are too long.
func (t *thread) waitSeconds(r *stateRun, st *asl.State, eff any) (float64, *failure) {
	r.env.Input = eff
	var secs float64
	now := r.at()
	if now.IsZero() {
		now = t.ex.now()
	}
	switch {
	case st.Seconds != nil:
		secs = float64(*st.Seconds)
	case st.Timestamp != nil:
		secs = st.Timestamp.Sub(now).Seconds()
	case st.SecondsPath != nil:
		p := st.SecondsPath
		v, err := r.env.Resolve(p)
		if err != nil {
			return 0, t.fatalf(runtimeErr(&r.env, "The SecondsPath parameter does not reference an input value: "+p.String()))
		}
		n, ok := v.(int64)
		if !ok {
			if bi, isBig := v.(*big.Int); isBig {
				if bi.Sign() < 0 {
					return 0, t.fatalf(runtimeErr(&r.env, "The SecondsPath parameter references a negative value: "+p.String()+" == "+value.String(v)))
				}
				return 0, t.fatalf(runtimeErr(&r.env, "Wait state delay is too long."))
			}
			return 0, t.fatalf(runtimeErr(&r.env, "The SecondsPath parameter cannot be parsed as a long value: "+p.String()+" == "+value.String(v)))
		}
		if n < 0 {
			return 0, t.fatalf(runtimeErr(&r.env, "The SecondsPath parameter references a negative value: "+p.String()+" == "+value.String(v)))
		}
		secs = float64(n)
	case st.TimestampPath != nil:
		p := st.TimestampPath
		v, err := r.env.Resolve(p)
		if err != nil {
			return 0, t.fatalf(runtimeErr(&r.env, "The TimestampPath parameter does not reference an input value: "+p.String()))
		}
		s, _ := v.(string)
		ts, ok := parseTimestamp(s)
		if !ok {
			return 0, t.fatalf(runtimeErr(&r.env, "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: "+
				p.String()+" == "+stringOf(v)))
		}
		secs = ts.Sub(now).Seconds()
	}
	if secs > maxWaitSeconds {
		return 0, t.fatalf(runtimeErr(&r.env, "Wait state delay is too long."))
	}
	return secs, nil
}

// abortEvent records a *StateAborted event when a state is interrupted.
func (t *thread) abortEvent(typ history.EventType) {
	if t.ex.ctx.Err() != nil {
		// StopExecution and the execution timeout end the history with
		// ExecutionAborted or ExecutionTimedOut only.
		return
	}
	t.simpleEvent(typ)
}

func runtimeErr(env *asl.Env, msg string) *fault.Error {
	return fault.New(fault.Runtime, prefix(env)+msg)
}

// parseTimestamp parses an RFC 3339 timestamp with an uppercase T and a
// zone (Z or an offset), as AWS's Wait state requires.
func parseTimestamp(s string) (time.Time, bool) {
	if len(s) < 20 || s[10] != 'T' {
		return time.Time{}, false
	}
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return ts, true
}

// jsonSizeExceeds reports whether v's JSON text is longer than limit bytes,
// without building the text.
func jsonSizeExceeds(v any, limit int) bool {
	n := 0
	return !value.SizeWithin(v, &n, limit)
}
