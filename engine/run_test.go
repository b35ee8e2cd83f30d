package engine_test

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/internal/clock"
)

func load(t *testing.T, def string) *asl.StateMachine {
	t.Helper()
	sm, err := asl.Load([]byte(def), asl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return sm
}

func execution(sm *asl.StateMachine, input string) *engine.Execution {
	return &engine.Execution{
		ARN: "arn:aws:states:us-east-1:123456789012:execution:m:x", Name: "x",
		StateMachineARN: "arn:aws:states:us-east-1:123456789012:stateMachine:m", StateMachineName: "m",
		Type: "STANDARD", Input: input, Machine: sm,
	}
}

func TestStop(t *testing.T) {
	sm := load(t, `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":100000,"End":true}}}`)
	c := clock.NewFake(goldenStart) // never advanced: the Wait lasts
	e := engine.New(engine.Config{Clock: c})
	rec := &keepAll{}
	r := e.Start(context.Background(), execution(sm, `{}`), rec)
	c.BlockUntil(1) // the Wait state waits
	r.Stop("Bye", "stopped by test")
	select {
	case <-r.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("execution did not stop")
	}
	res := r.Result()
	if res.Status != engine.StatusAborted || res.Error == nil || *res.Error != "Bye" || res.Cause == nil || *res.Cause != "stopped by test" {
		t.Fatalf("result %+v", res)
	}
	last := rec.events[len(rec.events)-1]
	if last.Type != history.ExecutionAborted || *last.ExecutionAbortedEventDetails.Error != "Bye" || last.PreviousEventID != 0 {
		t.Fatalf("last event %+v", last)
	}
	var types []history.EventType
	for _, ev := range rec.events {
		types = append(types, ev.Type)
	}
	want := []history.EventType{history.ExecutionStarted, history.WaitStateEntered, history.ExecutionAborted}
	if len(types) != len(want) {
		t.Fatalf("events %v, want %v", types, want)
	}
	for i := range want {
		if types[i] != want[i] {
			t.Fatalf("events %v, want %v", types, want)
		}
	}
}

func TestNilRecorderSameResult(t *testing.T) {
	sm := load(t, `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"n.$":"$.n","ctx.$":"$$.State.Name"},"Next":"B"},
		"B":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericGreaterThan":5,"Next":"C"}],"Default":"C"},
		"C":{"Type":"Pass","Result":"x","ResultPath":"$.r","End":true}}}`)
	e := engine.New(engine.Config{})
	a := e.Execute(context.Background(), execution(sm, `{"n": 7}`), nil)
	b := e.Execute(context.Background(), execution(sm, `{"n": 7}`), &keepAll{})
	if a.Status != engine.StatusSucceeded || *a.Output != *b.Output || *a.Output != `{"n":7,"ctx":"A","r":"x"}` {
		t.Fatalf("outputs %v / %v", *a.Output, *b.Output)
	}
}

func TestHistoryLimit(t *testing.T) {
	sm := load(t, `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"C"},
		"C":{"Type":"Choice","Choices":[{"Variable":"$.stop","IsPresent":true,"Next":"S"}],"Default":"A"},"S":{"Type":"Succeed"}}}`)
	e := engine.New(engine.Config{MaxHistoryEvents: 50})
	res := e.Execute(context.Background(), execution(sm, `{}`), nil)
	if res.Status != engine.StatusFailed || res.Error == nil || *res.Error != "States.Runtime" {
		t.Fatalf("result %+v", res)
	}
}

func TestInvalidInputFails(t *testing.T) {
	sm := load(t, `{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`)
	e := engine.New(engine.Config{})
	res := e.Execute(context.Background(), execution(sm, `{`), nil)
	if res.Status != engine.StatusFailed {
		t.Fatalf("result %+v", res)
	}
}

func TestConcurrentMapAndParallel(t *testing.T) { synctest.Test(t, testConcurrentMapAndParallel) }

func testConcurrentMapAndParallel(t *testing.T) {
	sm := load(t, `{"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":3,"ItemProcessor":{"StartAt":"P","States":{
		"P":{"Type":"Parallel","Branches":[
			{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"End":true}}},
			{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"v.$":"$"},"End":true}}}],
		"End":true}}},"End":true}}}`)
	e := engine.New(engine.Config{Clock: newFakeClock(t, goldenStart), Invoker: &fakeInvoker{}})
	rec := &keepAll{}
	res := waitRun(t, e.Start(context.Background(), execution(sm, `[1,2,3,4,5,6,7,8,9,10]`), rec))
	if res.Status != engine.StatusSucceeded {
		t.Fatalf("result %+v", res)
	}
	want := `[[1,{"v":1}],[2,{"v":2}],[3,{"v":3}],[4,{"v":4}],[5,{"v":5}],[6,{"v":6}],[7,{"v":7}],[8,{"v":8}],[9,{"v":9}],[10,{"v":10}]]`
	if *res.Output != want {
		t.Fatalf("output %s", *res.Output)
	}
	seen := map[int64]bool{}
	for i, ev := range rec.events {
		if ev.ID != int64(i+1) || seen[ev.ID] {
			t.Fatalf("event %d has id %d", i, ev.ID)
		}
		seen[ev.ID] = true
	}
}

func TestParallelFailureAbortsSiblings(t *testing.T) {
	synctest.Test(t, testParallelFailureAbortsSiblings)
}

func testParallelFailureAbortsSiblings(t *testing.T) {
	sm := load(t, `{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[
		{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{},"End":true}}},
		{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"Next":"F"},"F":{"Type":"Fail","Error":"Boom","Cause":"c"}}}],"End":true}}}`)
	inv := &fakeInvoker{script: map[string][]fakeStep{"arn:aws:states:::lambda:invoke": {{Block: true}}}}
	e := engine.New(engine.Config{Clock: newFakeClock(t, goldenStart), Invoker: inv})
	rec := &keepAll{}
	res := waitRun(t, e.Start(context.Background(), execution(sm, `{}`), rec))
	if res.Status != engine.StatusFailed || *res.Error != "Boom" {
		t.Fatalf("result %+v", res)
	}
	found := false
	var types []history.EventType
	for _, ev := range rec.events {
		types = append(types, ev.Type)
		if ev.Type == history.TaskStateAborted {
			found = true
		}
	}
	if !found || types[len(types)-2] != history.ParallelStateFailed {
		t.Fatalf("events %v", types)
	}
}

// wrappingInvoker fails every task with a fault wrapped in context, as an
// integration that annotates its errors does.
type wrappingInvoker struct{}

func (wrappingInvoker) Invoke(ctx context.Context, t *engine.Task) (any, error) {
	return nil, fmt.Errorf("invoke %s: %w", t.Resource, fault.New("Custom.Error", "boom"))
}

func TestWrappedFaultKeepsItsName(t *testing.T) {
	sm := load(t, `{"StartAt":"T","States":{
		"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f","End":true,
			"Catch":[{"ErrorEquals":["Custom.Error"],"Next":"Caught"}]},
		"Caught":{"Type":"Pass","End":true}}}`)
	e := engine.New(engine.Config{Invoker: wrappingInvoker{}})
	rec := &keepAll{}
	res := e.Execute(context.Background(), execution(sm, `{}`), rec)
	if res.Status != engine.StatusSucceeded || res.Output == nil {
		t.Fatalf("result %+v: the wrapped fault was not caught by its name", res)
	}
	if want := `{"Error":"Custom.Error","Cause":"boom"}`; *res.Output != want {
		t.Fatalf("output %s, want %s", *res.Output, want)
	}
	for _, ev := range rec.events {
		if ev.Type == history.LambdaFunctionFailed {
			if d := ev.LambdaFunctionFailedEventDetails; d.Error == nil || *d.Error != "Custom.Error" {
				t.Fatalf("LambdaFunctionFailed %+v", d)
			}
			return
		}
	}
	t.Fatal("no LambdaFunctionFailed event")
}
