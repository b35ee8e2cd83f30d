package asl

import (
	"os"
	"path/filepath"
	"testing"

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
		for _, b := range st.Branches {
			evalMachine(b, env)
		}
		if st.ItemProcessor != nil {
			evalMachine(st.ItemProcessor, env)
		}
	}
}
