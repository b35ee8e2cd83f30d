package engine

import (
	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/jsonpath"
	"github.com/stepwell/stepwell/value"
)

// dataFlow is how data moves through a state: from its raw input to what
// it works on, and from its result to its output and the variables it
// assigns, and the settings a state reads from its input (a Wait's time,
// a Task's timeouts, a Map's items and limits, a Choice rule's
// condition, a Fail state's error). The plans call these steps and
// nothing else of the query language: JSONPath (InputPath, Parameters,
// ResultSelector, ResultPath, OutputPath, the *Path fields, Assign) and
// JSONata (Arguments, Output, Assign, expressions in place of the *Path
// fields; jsonata.go) are its two implementations, chosen per state.
//
// A failure is fatal (not retriable nor catchable) except where a step
// says otherwise. JSONata failures (States.QueryEvaluationError) are
// never fatal: a Task, Parallel or Map retries and catches them.
type dataFlow interface {
	// effective is what the state works on, from its raw input: InputPath,
	// then Parameters when params (Pass, Task, Parallel); Arguments.
	effective(t *thread, r *stateRun, raw any, params bool) (any, *failure)
	// result is a state's output and assigned variables from its raw input
	// and its result: ResultSelector, Assign (on the selected result),
	// ResultPath into raw (its failure is catchable) and OutputPath;
	// Assign and Output.
	result(t *thread, r *stateRun, raw, result any) (any, *value.Object, *failure)
	// caught is result for an error caught by c: the catcher's Assign and
	// ResultPath (on the Error Output), no OutputPath; its Assign and
	// Output.
	caught(t *thread, r *stateRun, c *asl.Catcher, raw any, errOut *value.Object) (any, *value.Object, *failure)
	// assign evaluates an Assign block (the state's, or the matched
	// Choice rule's) on the effective input of a state that passes it on
	// (Choice, Wait).
	assign(t *thread, r *stateRun, a *asl.Assign, eff any) (*value.Object, *failure)
	// passOn is the output of a state that passes its effective input on
	// (Choice, Wait, Succeed): OutputPath; Output, or the Output of rule,
	// the Choice rule that matched (nil for none).
	passOn(t *thread, r *stateRun, eff any, rule *asl.ChoiceRule) (any, *failure)
	// matches tells whether a Choice rule matches the effective input.
	matches(t *thread, r *stateRun, rule *asl.ChoiceRule, eff any) (bool, *failure)
	// waitSeconds is how long a Wait state waits (unscaled seconds).
	waitSeconds(t *thread, r *stateRun, eff any) (float64, *failure)
	// failError is the error a Fail state fails with.
	failError(t *thread, r *stateRun) (*fault.Error, *failure)
	// taskSettings are a Task's TimeoutSeconds and HeartbeatSeconds (nil
	// when absent) and its evaluated Credentials.
	taskSettings(t *thread, r *stateRun, raw any) (timeout, heartbeat *int64, creds any, f *failure)
	// mapItems is a Map's items and MaxConcurrency, its setup for an
	// attempt.
	mapItems(t *thread, r *stateRun, raw any) (*mapConfig, *failure)
	// mapTolerance sets cfg's tolerated failure count and percentage.
	mapTolerance(t *thread, r *stateRun, cfg *mapConfig) *failure
	// itemInput is the input of a Map's i-th item (ItemSelector), for the
	// iteration thread it (whose history a failure goes to).
	itemInput(t, it *thread, r *stateRun, cfg *mapConfig, i int) (any, *failure)
	// arguments evaluates the arguments of a Map's ItemReader or
	// ResultWriter: params on the effective input eff (JSONPath) or args
	// (JSONata); nil when absent.
	arguments(t *thread, r *stateRun, params *asl.Template, args *asl.Query, eff any) (any, *failure)
}

// jsonPath is the JSONPath data flow.
var jsonPath dataFlow = &jsonPathFlow{}

type jsonPathFlow struct{}

func (*jsonPathFlow) effective(t *thread, r *stateRun, raw any, params bool) (any, *failure) {
	eff, f := t.selectPath(r, r.b.st.InputPath, raw)
	if f != nil {
		return nil, f
	}
	if t.test != nil {
		t.test.res.Inspect.AfterInputPath = textOf(eff)
	}
	if !params {
		return eff, nil
	}
	if p := r.b.st.Parameters; p != nil {
		if eff, f = t.template(r, p, eff); f != nil {
			return nil, f
		}
	}
	if t.test != nil {
		t.test.res.Inspect.AfterParameters = textOf(eff)
	}
	return eff, nil
}

func (*jsonPathFlow) result(t *thread, r *stateRun, raw, result any) (any, *value.Object, *failure) {
	st := r.b.st
	sel := result
	if st.ResultSelector != nil {
		var f *failure
		if sel, f = t.template(r, st.ResultSelector, result); f != nil {
			return nil, nil, f
		}
	}
	if t.test != nil && st.Type != asl.TypePass {
		t.test.res.Inspect.AfterResultSelector = textOf(sel)
	}
	var assigned *value.Object
	if st.Assign != nil {
		var f *failure
		if assigned, f = t.assign(r, st.Assign, sel); f != nil {
			return nil, nil, f
		}
	}
	out, f := t.resultPath(r, st.ResultPath, raw, sel)
	if f != nil {
		return nil, nil, f
	}
	if t.test != nil {
		t.test.res.Inspect.AfterResultPath = textOf(out)
	}
	if out, f = t.selectPath(r, st.OutputPath, out); f != nil {
		return nil, nil, f
	}
	return out, assigned, nil
}

func (*jsonPathFlow) caught(t *thread, r *stateRun, c *asl.Catcher, raw any, errOut *value.Object) (any, *value.Object, *failure) {
	assigned, f := t.assign(r, c.Assign, errOut)
	if f != nil {
		return nil, nil, f
	}
	out, f := t.resultPath(r, c.ResultPath, raw, errOut)
	if f != nil {
		f.fatal = true
		return nil, nil, f
	}
	return out, assigned, nil
}

func (*jsonPathFlow) assign(t *thread, r *stateRun, a *asl.Assign, eff any) (*value.Object, *failure) {
	return t.assign(r, a, eff)
}

func (*jsonPathFlow) passOn(t *thread, r *stateRun, eff any, _ *asl.ChoiceRule) (any, *failure) {
	return t.selectPath(r, r.b.st.OutputPath, eff)
}

func (*jsonPathFlow) matches(t *thread, r *stateRun, rule *asl.ChoiceRule, eff any) (bool, *failure) {
	r.env.Input = eff
	ok, err := rule.Match(&r.env)
	if err != nil {
		return false, t.fatalf(toFault(err, &r.env))
	}
	return ok, nil
}

func (*jsonPathFlow) waitSeconds(t *thread, r *stateRun, eff any) (float64, *failure) {
	return t.waitSeconds(r, r.b.st, eff)
}

func (*jsonPathFlow) failError(t *thread, r *stateRun) (*fault.Error, *failure) {
	st := r.b.st
	fe := &fault.Error{}
	if st.HasError {
		fe.Name, fe.HasName = st.Error, true
	} else if st.ErrorPath != nil {
		v, err := st.ErrorPath.Eval(&r.env)
		if err != nil {
			return nil, t.fatalf(toFault(err, &r.env))
		}
		fe.Name, fe.HasName = stringOf(v), true
	}
	if st.HasCause {
		fe.Cause, fe.HasCause = st.Cause, true
	} else if st.CausePath != nil {
		v, err := st.CausePath.Eval(&r.env)
		if err != nil {
			return nil, t.fatalf(toFault(err, &r.env))
		}
		fe.Cause, fe.HasCause = stringOf(v), true
	}
	return fe, nil
}

func (*jsonPathFlow) taskSettings(t *thread, r *stateRun, raw any) (timeout, heartbeat *int64, creds any, f *failure) {
	st := r.b.st
	if st.TimeoutSeconds != nil {
		timeout = st.TimeoutSeconds
	} else if st.TimeoutSecondsPath != nil {
		r.env.Input = raw
		n, fe := positiveSeconds(st.TimeoutSecondsPath, &r.env, "TimeoutSecondsPath")
		if fe != nil {
			return nil, nil, nil, t.fatalf(fe)
		}
		timeout = &n
	}
	if st.HeartbeatSeconds != nil {
		heartbeat = st.HeartbeatSeconds
	} else if st.HeartbeatSecondsPath != nil {
		r.env.Input = raw
		n, fe := positiveSeconds(st.HeartbeatSecondsPath, &r.env, "HeartbeatSecondsPath")
		if fe != nil {
			return nil, nil, nil, t.fatalf(fe)
		}
		heartbeat = &n
	}
	if st.Credentials != nil {
		if creds, f = t.template(r, st.Credentials, raw); f != nil {
			return nil, nil, nil, f
		}
	}
	return timeout, heartbeat, creds, nil
}

func (*jsonPathFlow) mapItems(t *thread, r *stateRun, raw any) (*mapConfig, *failure) {
	return t.mapSetup(r, raw)
}

func (*jsonPathFlow) mapTolerance(t *thread, r *stateRun, cfg *mapConfig) *failure {
	return t.mapTolerance(r, cfg)
}

func (*jsonPathFlow) arguments(t *thread, r *stateRun, params *asl.Template, _ *asl.Query, eff any) (any, *failure) {
	if params == nil {
		return nil, nil
	}
	return t.template(r, params, eff)
}

func (*jsonPathFlow) itemInput(t, it *thread, r *stateRun, cfg *mapConfig, i int) (any, *failure) {
	v, f := t.iterInput(r, cfg, i)
	if f != nil && it != t {
		f.last = it.last
	}
	return v, f
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

// selectPath applies an InputPath or OutputPath field to v: absent keeps v,
// null gives {}, a path selects from v (a missing path is fatal).
func (t *thread) selectPath(r *stateRun, pf *asl.PathField, v any) (any, *failure) {
	if pf == nil { // most states have none: inlined, no call
		return v, nil
	}
	return t.selectPathField(r, pf, v)
}

// selectPathField is selectPath with a field.
func (t *thread) selectPathField(r *stateRun, pf *asl.PathField, v any) (any, *failure) {
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

// resultPath writes result into raw as ResultPath says. Its failure is
// catchable.
func (t *thread) resultPath(r *stateRun, pf *asl.PathField, raw, result any) (any, *failure) {
	if pf == nil { // inlined, no call
		return result, nil
	}
	return t.resultPathField(r, pf, raw, result)
}

// resultPathField is resultPath with a field.
func (t *thread) resultPathField(r *stateRun, pf *asl.PathField, raw, result any) (any, *failure) {
	if pf.Path == nil {
		return raw, nil
	}
	if t.owned != nil && r.b.member != "" && pf == r.b.st.ResultPath {
		// A Pass's Result into the object its thread holds alone: in
		// place, as Set would in a copy (thread.owned).
		if o, ok := raw.(*value.Object); ok && o == t.owned {
			if n := o.Len(); o.SetWithin(r.b.member, result) {
				t.grown(o, n, r.b.memberSize)
				return o, nil
			}
		}
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

// grown keeps the measure of o, an object that had n members before a
// member whose text is member bytes long was set in it, when o was
// measured and the member was added: its text grew by the member's and
// a comma; within the payload limit, the state's exit need not measure
// it again. Otherwise o is no longer measured.
func (t *thread) grown(o *value.Object, n, member int) {
	if t.measured == o && t.measuredSize > 0 && o.Len() == n+1 {
		size := t.measuredSize + member
		if n > 0 {
			size++ // the comma
		}
		if size <= t.ex.e.maxPayload {
			t.measuredSize = size
			return
		}
	}
	t.measured, t.measuredSize = nil, 0
}

// template evaluates a payload template with $ bound to in.
func (t *thread) template(r *stateRun, tp *asl.Template, in any) (any, *failure) {
	if tp == nil {
		return in, nil
	}
	r.env.Input = in
	v, size, err := tp.EvalRoom(&r.env, r.b.room)
	if err != nil {
		return nil, t.fatalf(toFault(err, &r.env))
	}
	if o, ok := v.(*value.Object); ok && o != nil && r.env.MaxBytes == t.ex.e.maxPayload {
		// Built within the payload limit: a state whose output it is
		// need not measure it again (silentLog.exited).
		t.measured, t.measuredSize = o, size
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
