package engine

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/stepwell/stepwell/asl"
)

// reuseMachines are inline machines (Execute reuses their execution
// structs) that read what a stale field of an earlier run would change:
// variables, $$, the payload limit, failures.
var reuseMachines = []string{
	// The benchmark's machine.
	`{"StartAt":"A","States":{
	 "A":{"Type":"Pass","Parameters":{"n.$":"$.n","tag":"x"},"Next":"B"},
	 "B":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericGreaterThan":5,"Next":"Big"}],"Default":"Small"},
	 "Big":{"Type":"Pass","Result":"big","ResultPath":"$.size","Next":"E"},
	 "Small":{"Type":"Pass","Result":"small","ResultPath":"$.size","Next":"E"},
	 "E":{"Type":"Pass","End":true}}}`,
	// Variables and the Context object.
	`{"StartAt":"A","States":{
	 "A":{"Type":"Pass","Assign":{"seen.$":"$.n"},"Parameters":{"id.$":"$$.Execution.Id","name.$":"$$.Execution.Name","state.$":"$$.State.Name"},"Next":"B"},
	 "B":{"Type":"Pass","Parameters":{"seen.$":"$seen","all.$":"$"},"Next":"C"},
	 "C":{"Type":"Choice","Choices":[{"Variable":"$.seen","NumericEquals":3,"Next":"F"}],"Default":"S"},
	 "F":{"Type":"Fail","Error":"Three","Cause":"n was 3"},
	 "S":{"Type":"Succeed"}}}`,
	// A variable only some runs set: a later run must not see it.
	`{"StartAt":"C","States":{
	 "C":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericLessThan":2,"Next":"Set","Assign":{"low":true}}],"Default":"Read"},
	 "Set":{"Type":"Pass","Next":"Read"},
	 "Read":{"Type":"Pass","Parameters":{"low.$":"$low"},"End":true}}}`,
	// JSONata, with variables.
	`{"QueryLanguage":"JSONata","StartAt":"A","States":{
	 "A":{"Type":"Pass","Assign":{"x":"{% $states.input.n * 2 %}"},"Output":"{% {'n': $states.input.n} %}","Next":"B"},
	 "B":{"Type":"Pass","Output":"{% {'x': $x, 'name': $states.context.Execution.Name} %}","End":true}}}`,
	// Output past the payload limit for large n, a Choice without match.
	`{"StartAt":"A","States":{
	 "A":{"Type":"Pass","Parameters":{"big.$":"States.ArrayRange(1, $.n, 1)"},"Next":"C"},
	 "C":{"Type":"Choice","Choices":[{"Variable":"$.big[0]","NumericEquals":7,"Next":"E"}]},
	 "E":{"Type":"Succeed"}}}`,
}

// summary is what a Result says, as text.
func summary(r Result) string {
	s := string(r.Status)
	for _, p := range []*string{r.Output, r.Error, r.Cause} {
		if p == nil {
			s += " -"
		} else {
			s += " " + *p
		}
	}
	return s
}

// TestExecute_Reuse runs inline machines with Execute, whose execution
// structs are reused, one after the other and from several goroutines,
// and checks each result against the same execution's run on a new
// struct, and that a result stays as it was while later runs reuse
// structs.
func TestExecute_Reuse(t *testing.T) {
	var sms []*asl.StateMachine
	for i, def := range reuseMachines {
		sm, err := asl.Load([]byte(def), asl.Options{})
		if err != nil {
			t.Fatalf("machine %d: %v", i, err)
		}
		if !planOf(sm).inline {
			t.Fatalf("machine %d is not inline", i)
		}
		sms = append(sms, sm)
	}
	e := New(Config{MaxPayloadBytes: 2000})
	x := func(m, n int) *Execution {
		name := fmt.Sprintf("x%d-%d", m, n)
		return &Execution{ARN: "arn:aws:states:us-east-1:123456789012:execution:m:" + name, Name: name,
			StateMachineARN: "arn:aws:states:us-east-1:123456789012:stateMachine:m", StateMachineName: "m",
			Type: "EXPRESS", Input: fmt.Sprintf(`{"n": %d}`, n), Machine: sms[m]}
	}
	want := func(m, n int) string {
		ex := newExecution(e, context.Background(), x(m, n), nil)
		return summary(ex.run())
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			type kept struct {
				r    Result
				want string
			}
			var all []kept
			for i := range 300 {
				m, n := (i+g)%len(sms), (i*7+g)%1000
				r := e.Execute(context.Background(), x(m, n), nil)
				w := want(m, n)
				if got := summary(r); got != w {
					t.Errorf("machine %d, n %d: %s, want %s", m, n, got, w)
					return
				}
				all = append(all, kept{r, w})
			}
			for i, k := range all {
				if got := summary(k.r); got != k.want {
					t.Errorf("result %d changed: %s, want %s", i, got, k.want)
				}
			}
		})
	}
	wg.Wait()
}

// TestReusable checks which executions Execute may reuse the struct of.
func TestReusable(t *testing.T) {
	tests := []struct {
		name string
		def  string
		rec  Recorder
		want bool
	}{
		{"pass, choice, succeed, fail", reuseMachines[1], nil, true},
		{"recorded", reuseMachines[0], discard{}, false},
		{"timeout", `{"TimeoutSeconds":10,"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`, nil, false},
		{"wait", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":0,"End":true}}}`, nil, false},
		{"task", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f","End":true}}}`, nil, false},
		{"parallel", `{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[{"StartAt":"Q","States":{"Q":{"Type":"Pass","End":true}}}]}}}`, nil, false},
		{"map", `{"StartAt":"M","States":{"M":{"Type":"Map","End":true,"ItemProcessor":{"StartAt":"Q","States":{"Q":{"Type":"Pass","End":true}}}}}}`, nil, false},
	}
	for _, tt := range tests {
		sm, err := asl.Load([]byte(tt.def), asl.Options{})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := reusable(&Execution{Machine: sm}, tt.rec); got != tt.want {
			t.Errorf("%s: reusable = %v, want %v", tt.name, got, tt.want)
		}
	}
	if reusable(&Execution{}, nil) {
		t.Error("reusable without a machine")
	}
}

// kept are the fields recycle leaves as a run set them, each set by the
// next run before it reads it (see recycle), with all they hold.
var keptFields = []string{
	"e", "x", "ctx", "ectx.parent", "ectx.bg", "ectx.cause", "input", "needCtx", "needVars",
	"top.ex", "top.ctx", "top.log", "top.vars", "top.rawText",
	"top.run.b", "top.run.raw", "top.run.prev", "top.run.ja",
	"top.run.env.Input", "top.run.env.Vars", "top.run.env.StateName",
	"top.run.env.EnteredEventID", "top.run.env.MaxBytes",
	"top.run.sc.name", "top.run.sc.withRetry", "top.run.sc.retry", "top.run.sc.atEvent",
}

// TestRecycle runs each reusable machine, recycles its execution struct
// and checks that every field is as in a new struct but those in kept
// (an empty slice keeps its room): a field a later change makes runs
// set fails here until recycle clears it or kept lists it.
func TestRecycle(t *testing.T) {
	e := New(Config{MaxPayloadBytes: 2000})
	for m, def := range reuseMachines {
		sm, err := asl.Load([]byte(def), asl.Options{})
		if err != nil {
			t.Fatalf("machine %d: %v", m, err)
		}
		for _, n := range []int{0, 1, 3, 7, 900} {
			x := &Execution{ARN: "arn:aws:states:us-east-1:123456789012:execution:m:x", Name: "x",
				Input: fmt.Sprintf(`{"n": %d}`, n), Machine: sm}
			ex := newExecution(e, context.Background(), x, nil)
			r := ex.run()
			if ex.ectx.made.Load() != nil || r.Output == &ex.output {
				t.Fatalf("machine %d, n %d: not reusable", m, n)
			}
			ex.recycle()
			for _, f := range setFields(reflect.ValueOf(ex).Elem(), "") {
				t.Errorf("machine %d, n %d: recycle leaves %s set", m, n, f)
			}
		}
	}
}

// setFields lists the fields of v (a struct) that are not zero and not
// kept, by their path.
func setFields(v reflect.Value, prefix string) []string {
	var set []string
	for i := range v.NumField() {
		f, path := v.Field(i), prefix+v.Type().Field(i).Name
		switch {
		case f.IsZero(), f.Kind() == reflect.Slice && f.Len() == 0:
		case kept(path):
		case f.Kind() == reflect.Struct && !strings.HasPrefix(f.Type().PkgPath(), "sync"):
			set = append(set, setFields(f, path+".")...)
		default:
			set = append(set, path)
		}
	}
	return set
}

func kept(path string) bool {
	for _, k := range keptFields {
		if path == k {
			return true
		}
	}
	return false
}

// TestRunReusable runs executions as Execute does when it may reuse their
// structs (runReusable, then recycle), on one struct one after the other:
// each result is that of a run on a new struct, the context is cancelled
// when a run made it, and recycle leaves nothing set, even after a run
// that failed on the history limit (which cancels the unmade context).
func TestRunReusable(t *testing.T) {
	limited := New(Config{MaxPayloadBytes: 2000, MaxHistoryEvents: 4})
	plain := New(Config{MaxPayloadBytes: 2000})
	tests := []struct {
		name string
		e    *Engine
		def  string
		make bool // make the context before the run
	}{
		{"benchmark machine", plain, reuseMachines[0], false},
		{"history limit", limited, reuseMachines[0], false},
		{"after the limit", plain, reuseMachines[1], false},
		{"made context", plain, reuseMachines[0], true},
		{"after a made context", plain, reuseMachines[2], false},
		{"a failed run", plain, reuseMachines[1], false},
	}
	ex := new(execution)
	for _, tt := range tests {
		sm, err := asl.Load([]byte(tt.def), asl.Options{})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		x := func() *Execution {
			return &Execution{ARN: "arn:aws:states:us-east-1:123456789012:execution:m:x", Name: "x",
				Input: `{"n": 3}`, Machine: sm}
		}
		want := summary(newExecution(tt.e, context.Background(), x(), nil).run())
		ex.init(tt.e, context.Background(), x(), nil)
		var made *madeCtx
		if tt.make {
			made = ex.ectx.real()
		}
		if got := summary(ex.runReusable()); got != want {
			t.Errorf("%s: %s, want %s", tt.name, got, want)
		}
		if made != nil {
			if made.ctx.Err() == nil {
				t.Errorf("%s: the made context is not cancelled", tt.name)
			}
			ex = new(execution) // Execute does not reuse it
			continue
		}
		ex.recycle()
		for _, f := range setFields(reflect.ValueOf(ex).Elem(), "") {
			t.Errorf("%s: recycle leaves %s set", tt.name, f)
		}
	}
}
