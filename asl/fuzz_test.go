package asl

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stepwell/stepwell/jsonata"
	"github.com/stepwell/stepwell/value"
)

// FuzzLoad checks that Load and Validate never panic, that they agree, and
// that every compiled template, Assign, Fail path and Choice rule of a
// loaded machine evaluates without panicking on a fixed environment.
func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob("testdata/diagnostics/*.json")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"QueryLanguage":"JSONata","StartAt":"M","States":{"M":{"Type":"Map","Items":"{% $states.input.l %}","ItemSelector":{"v":"{% $states.context.Map.Item.Value %}"},"MaxConcurrency":"{% $states.input.n %}","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","Output":"{% $states.input.v %}","End":true}}},"Assign":{"r":"{% $states.result %}"},"Output":{"x":"{% $v.n + 1 %}"},"Next":"C"},"C":{"Type":"Choice","Choices":[{"Condition":"{% $r[0] = 1 %}","Next":"F","Output":[1,"{% $states.input.a %}"]}],"Default":"F"},"F":{"Type":"Fail","Error":"{% $states.input.a %}","Cause":"{% $string($states.input) %}"}}}`))
	f.Add([]byte(`{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Not":{"Or":[{"Variable":"$.a","StringMatches":"a*\\*"},{"Variable":"$$.x","NumericGreaterThanPath":"$v.n"}]},"Next":"E","Assign":{"q.$":"States.Array($.a)"}}],"Default":"E"},"E":{"Type":"Succeed"}}}`))
	env := &Env{
		Input:          value.MustParse(`{"a":"abc","n":1,"t":"2020-01-01T00:00:00Z","l":[1,{"x":null}]}`),
		Context:        value.MustParse(`{"Execution":{"Name":"e"}}`),
		Vars:           mapVars{"v": value.MustParse(`{"n":2}`)},
		StateName:      "S",
		EnteredEventID: 2,
	}
	f.Fuzz(func(t *testing.T, def []byte) {
		diags := Validate(def, Options{})
		sm, err := Load(def, Options{})
		hasErr := false
		for _, d := range diags {
			hasErr = hasErr || d.Severity == SeverityError
		}
		if hasErr != (err != nil) {
			t.Fatalf("Validate errors %v, Load error %v", hasErr, err)
		}
		if err != nil {
			_ = err.Error()
			return
		}
		evalMachine(sm, env)
	})
}

func evalMachine(sm *StateMachine, env *Env) {
	for _, name := range sm.Order {
		st := sm.States[name]
		tps := []*Template{st.Parameters, st.ResultSelector, st.ItemSelector, st.Credentials}
		if st.Reader != nil {
			tps = append(tps, st.Reader.Parameters)
		}
		if st.Batcher != nil {
			tps = append(tps, st.Batcher.BatchInput)
		}
		if st.Writer != nil {
			tps = append(tps, st.Writer.Parameters)
		}
		for _, tp := range tps {
			_, _ = tp.Eval(env)
		}
		if st.Assign != nil {
			_, _ = st.Assign.Eval(env)
		}
		_, _ = st.ErrorPath.Eval(env)
		_, _ = st.CausePath.Eval(env)
		for _, r := range st.Choices {
			_, _ = r.Match(env)
			if r.Assign != nil {
				_, _ = r.Assign.Eval(env)
			}
		}
		for _, c := range st.Catch {
			if c.Assign != nil {
				_, _ = c.Assign.Eval(env)
			}
		}
		evalQueries(st, env)
		for _, b := range st.Branches {
			evalMachine(b, env)
		}
		if st.ItemProcessor != nil {
			evalMachine(st.ItemProcessor, env)
		}
	}
}

// evalQueries evaluates every JSONata field of st (a JSONata state's) in
// an environment made of env's.
func evalQueries(st *State, env *Env) {
	je := &jsonata.Env{Input: env.Input, Context: env.Context, Result: env.Input, HasResult: true,
		ErrorOutput: env.Input, HasErrorOutput: true, Vars: env.Vars}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	q := st.Query
	qs := []*Query{q.Arguments, q.Output, q.Items, q.ItemSelector, q.MaxConcurrency, q.ToleratedFailureCount,
		q.ToleratedFailurePercentage, q.Seconds, q.Timestamp, q.TimeoutSeconds, q.HeartbeatSeconds, q.Credentials, q.Error, q.Cause}
	if st.Assign != nil {
		qs = append(qs, st.Assign.Query)
	}
	for _, r := range st.Choices {
		qs = append(qs, r.Condition, r.Output)
		if r.Assign != nil {
			qs = append(qs, r.Assign.Query)
		}
	}
	for _, c := range st.Catch {
		qs = append(qs, c.Output)
		if c.Assign != nil {
			qs = append(qs, c.Assign.Query)
		}
	}
	for _, q := range qs {
		if q == nil {
			continue
		}
		if _, err := q.Eval(ctx, je); err != nil {
			var qe *QueryError
			if !errors.As(err, &qe) || qe.Cause == "" {
				panic("evaluation error without AWS's cause: " + err.Error())
			}
		}
	}
}
