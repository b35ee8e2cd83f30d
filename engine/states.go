package engine

import (
	"math"
	"math/big"
	"strconv"
	"time"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/jsonpath"
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

// runMachine runs a States scope from StartAt until it ends.
func (t *thread) runMachine(sm *asl.StateMachine, input any) (any, *failure) {
	name := sm.StartAt
	for {
		if t.ctx.Err() != nil && t.log.next() == nil {
			return nil, t.aborted()
		}
		st := sm.States[name]
		if st == nil {
			return nil, t.fatalf(fault.New(fault.Runtime, "The state '"+name+"' does not exist."))
		}
		next, out, f := t.runState(st, input)
		if (f == nil && next != "") || t.name != "" {
			// When the top-level scope ends, the execution's terminal
			// event is flushed with these events, in one durable write.
			t.ex.flush()
		}
		if f != nil {
			return nil, f
		}
		if next == "" {
			return out, nil
		}
		input = out
		name = next
	}
}

// runState runs one state; next is "" when the scope ends.
func (t *thread) runState(st *asl.State, raw any) (string, any, *failure) {
	if st.QueryLanguage == asl.JSONata {
		return "", nil, t.fatalf(fault.New(fault.Runtime, "JSONata states are not supported"))
	}
	switch st.Type {
	case asl.TypePass:
		return t.runPass(st, raw)
	case asl.TypeChoice:
		return t.runChoice(st, raw)
	case asl.TypeWait:
		return t.runWait(st, raw)
	case asl.TypeSucceed:
		return t.runSucceed(st, raw)
	case asl.TypeFail:
		return t.runFail(st, raw)
	case asl.TypeTask:
		return t.runTask(st, raw)
	case asl.TypeParallel:
		return t.runParallel(st, raw)
	case asl.TypeMap:
		return t.runMap(st, raw)
	}
	return "", nil, t.fatalf(fault.New(fault.Runtime, "unknown state type "+string(st.Type)))
}

func next(st *asl.State) string {
	if st.End {
		return ""
	}
	return st.Next
}

// stateRun is the per-state working set.
type stateRun struct {
	st  *asl.State
	env asl.Env
	sc  stateCtx
	at  time.Time // the Entered event's timestamp (zero without history)
}

// enter records the state's Entered event and prepares its environment.
func (t *thread) enter(st *asl.State, raw any) *stateRun {
	id := t.add(event{typ: eventTypes[st.Type][0], st: st, text: t.rawText, data: raw})
	t.rawText = ""
	r := &stateRun{st: st, at: t.lastAt}
	r.sc.name = st.Name
	if t.ex.needCtx {
		if r.at.IsZero() {
			r.sc.entered = t.ex.now()
		} else {
			r.sc.entered = r.at
		}
	}
	r.env = asl.Env{Input: raw, Vars: t.vars, StateName: st.Name, EnteredEventID: id}
	r.env.Context = t.contextObject(&r.sc)
	return r
}

// refreshContext rebuilds $$ after the retry count or the token changed.
func (t *thread) refreshContext(r *stateRun) {
	r.env.Context = t.contextObject(&r.sc)
}

// exit records the state's Exited event, checking the output size first.
// When resuming, a recorded Exited event's output and assigned variables
// win over the recomputed ones, which exit then returns instead.
func (t *thread) exit(r *stateRun, out any, assigned *value.Object) (any, *value.Object, *failure) {
	out, assigned, fe := t.log.exited(t, r.st, out, assigned)
	if fe != nil {
		return nil, nil, t.fatalf(fe)
	}
	return out, assigned, nil
}

func dataLimit(name string) *fault.Error {
	return fault.New(fault.DataLimitExceeded, "The state/task '"+name+
		"' returned a result with a size exceeding the maximum number of bytes service limit.")
}

// resolve evaluates a path field against env. A path that selects nothing
// fails as AWS reports it: "Invalid path '<p>' : <reason>", after the
// runtime prefix.
func resolve(p *jsonpath.Path, env *asl.Env) (any, *fault.Error) {
	var doc any
	switch p.Root() {
	case jsonpath.RootContext:
		doc = env.Context
	case jsonpath.RootVariable:
		var ok bool
		if doc, ok = env.Vars.Var(p.VarName()); !ok {
			return nil, runtimeErr(env, "The variable '"+p.VarName()+"' is not defined.")
		}
	default:
		doc = env.Input
	}
	v, err := p.Get(doc)
	if err != nil {
		if nf, ok := err.(*jsonpath.NotFoundError); ok {
			return nil, runtimeErr(env, "Invalid path '"+p.String()+"' : "+nf.Msg)
		}
		return nil, toFault(err, env)
	}
	return v, nil
}

// inputPath applies InputPath to raw.
func (t *thread) inputPath(r *stateRun, raw any) (any, *failure) {
	return t.selectPath(r, r.st.InputPath, raw)
}

// outputPath applies OutputPath to v.
func (t *thread) outputPath(r *stateRun, v any) (any, *failure) {
	return t.selectPath(r, r.st.OutputPath, v)
}

// selectPath applies an InputPath or OutputPath field to v: absent keeps v,
// null gives {}, a path selects from v (a missing path is fatal).
func (t *thread) selectPath(r *stateRun, pf *asl.PathField, v any) (any, *failure) {
	if pf == nil {
		return v, nil
	}
	if pf.Path == nil {
		return value.NewObject(0), nil
	}
	r.env.Input = v
	out, f := resolve(pf.Path, &r.env)
	if f != nil {
		return nil, t.fatalf(f)
	}
	return out, nil
}

// resultPath writes result into raw as ResultPath says.
func (t *thread) resultPath(r *stateRun, pf *asl.PathField, raw, result any) (any, *failure) {
	if pf == nil {
		return result, nil
	}
	if pf.Path == nil {
		return raw, nil
	}
	out, err := pf.Path.Set(raw, result)
	if err != nil {
		if fe, ok := fault.As(err); ok {
			return nil, t.fail(fe)
		}
		return nil, t.fail(fault.New(fault.ResultPathMatchFailure, prefix(&r.env)+err.Error()))
	}
	return out, nil
}

// parameters evaluates a payload template with $ bound to in.
func (t *thread) template(r *stateRun, tp *asl.Template, in any) (any, *failure) {
	if tp == nil {
		return in, nil
	}
	r.env.Input = in
	v, err := tp.Eval(&r.env)
	if err != nil {
		return nil, t.fatalf(toFault(err, &r.env))
	}
	return v, nil
}

// assign evaluates an Assign block with $ bound to in.
func (t *thread) assign(r *stateRun, a *asl.Assign, in any) (*value.Object, *failure) {
	if a == nil {
		return nil, nil
	}
	r.env.Input = in
	o, err := a.Eval(&r.env)
	if err != nil {
		return nil, t.fatalf(toFault(err, &r.env))
	}
	return o, nil
}

// effectiveInput is InputPath then Parameters.
func (t *thread) effectiveInput(r *stateRun, raw any) (any, *failure) {
	eff, f := t.inputPath(r, raw)
	if f != nil {
		return nil, f
	}
	return t.template(r, r.st.Parameters, eff)
}

func (t *thread) runPass(st *asl.State, raw any) (string, any, *failure) {
	r := t.enter(st, raw)
	eff, f := t.effectiveInput(r, raw)
	if f != nil {
		return "", nil, f
	}
	result := eff
	if st.HasResult {
		result = st.Result
	}
	assigned, f := t.assign(r, st.Assign, result)
	if f != nil {
		return "", nil, f
	}
	out, f := t.resultPath(r, st.ResultPath, raw, result)
	if f != nil {
		f.fatal = true
		return "", nil, f
	}
	if out, f = t.outputPath(r, out); f != nil {
		return "", nil, f
	}
	if out, assigned, f = t.exit(r, out, assigned); f != nil {
		return "", nil, f
	}
	t.vars.assign(assigned)
	return next(st), out, nil
}

func (t *thread) runSucceed(st *asl.State, raw any) (string, any, *failure) {
	r := t.enter(st, raw)
	eff, f := t.inputPath(r, raw)
	if f != nil {
		return "", nil, f
	}
	out, f := t.outputPath(r, eff)
	if f != nil {
		return "", nil, f
	}
	if out, _, f = t.exit(r, out, nil); f != nil {
		return "", nil, f
	}
	return "", out, nil
}

func (t *thread) runFail(st *asl.State, raw any) (string, any, *failure) {
	r := t.enter(st, raw)
	fe := &fault.Error{}
	if st.HasError {
		fe.Name, fe.HasName = st.Error, true
	} else if st.ErrorPath != nil {
		v, err := st.ErrorPath.Eval(&r.env)
		if err != nil {
			return "", nil, t.fatalf(toFault(err, &r.env))
		}
		fe.Name, fe.HasName = stringOf(v), true
	}
	if st.HasCause {
		fe.Cause, fe.HasCause = st.Cause, true
	} else if st.CausePath != nil {
		v, err := st.CausePath.Eval(&r.env)
		if err != nil {
			return "", nil, t.fatalf(toFault(err, &r.env))
		}
		fe.Cause, fe.HasCause = stringOf(v), true
	}
	return "", nil, t.fail(fe)
}

func stringOf(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return value.String(v)
}

func (t *thread) runChoice(st *asl.State, raw any) (string, any, *failure) {
	r := t.enter(st, raw)
	eff, f := t.inputPath(r, raw)
	if f != nil {
		return "", nil, f
	}
	r.env.Input = eff
	target := ""
	var assigned *value.Object
	for _, rule := range st.Choices {
		ok, err := rule.Match(&r.env)
		if err != nil {
			return "", nil, t.fatalf(toFault(err, &r.env))
		}
		if ok {
			target = rule.Next
			if assigned, f = t.assign(r, rule.Assign, eff); f != nil {
				return "", nil, f
			}
			break
		}
	}
	if target == "" {
		if st.Default == "" {
			return "", nil, t.fail(fault.New(fault.NoChoiceMatched, "No Matches!"))
		}
		target = st.Default
		if assigned, f = t.assign(r, st.Assign, eff); f != nil {
			return "", nil, f
		}
	}
	out, f := t.outputPath(r, eff)
	if f != nil {
		return "", nil, f
	}
	if out, assigned, f = t.exit(r, out, assigned); f != nil {
		return "", nil, f
	}
	t.vars.assign(assigned)
	return target, out, nil
}

// maxWaitSeconds is the longest Wait AWS accepts (about 2^31 s).
const maxWaitSeconds = math.MaxInt32

func (t *thread) runWait(st *asl.State, raw any) (string, any, *failure) {
	r := t.enter(st, raw)
	eff, f := t.inputPath(r, raw)
	if f != nil {
		return "", nil, f
	}
	secs, f := t.waitSeconds(r, st, eff)
	if f != nil {
		return "", nil, f
	}
	assigned, f := t.assign(r, st.Assign, eff)
	if f != nil {
		return "", nil, f
	}
	if secs > 0 {
		t.ex.flush()
		if err := t.sleepFrom(r.at, t.ex.e.scaled(secs)); err != nil || t.cancelled() {
			t.abortEvent(history.WaitStateAborted)
			return "", nil, t.aborted()
		}
	}
	out, f := t.outputPath(r, eff)
	if f != nil {
		return "", nil, f
	}
	if out, assigned, f = t.exit(r, out, assigned); f != nil {
		return "", nil, f
	}
	t.vars.assign(assigned)
	return next(st), out, nil
}

// waitSeconds is how long a Wait state waits for its effective input eff,
// with AWS's runtime errors for bad SecondsPath/TimestampPath values and
// delays that are too long.
func (t *thread) waitSeconds(r *stateRun, st *asl.State, eff any) (float64, *failure) {
	r.env.Input = eff
	var secs float64
	now := r.at
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
	return !sizeWalk(v, &n, limit)
}

func sizeWalk(v any, n *int, limit int) bool {
	switch x := v.(type) {
	case nil:
		*n += 4
	case bool:
		*n += 5
	case string:
		*n += len(x) + 2
		if *n > limit {
			return false
		}
		for i := 0; i < len(x); i++ {
			if c := x[i]; c < 0x20 || c == '"' || c == '\\' {
				*n += 5
			}
		}
	case int64:
		var b [24]byte
		*n += len(strconv.AppendInt(b[:0], x, 10))
	case float64:
		var b [32]byte
		*n += len(value.AppendFloat(b[:0], x))
	case *big.Int:
		*n += len(x.String())
	case []any:
		*n += 2 + len(x)
		for _, e := range x {
			if !sizeWalk(e, n, limit) {
				return false
			}
		}
	case *value.Object:
		*n += 2
		for i := 0; i < x.Len(); i++ {
			k, e := x.At(i)
			*n += len(k) + 4
			if !sizeWalk(e, n, limit) {
				return false
			}
		}
	}
	return *n <= limit
}
