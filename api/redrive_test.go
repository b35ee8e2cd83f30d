package api_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/stepwell/stepwell/api"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/store/memory"
)

// flaky fails the failOn-th call (default 1) of each state whose name
// ends in "Flaky", and counts every call.
type flaky struct {
	mu     sync.Mutex
	calls  map[string]int
	failOn int
}

func (f *flaky) Invoke(ctx context.Context, t *engine.Task) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[t.StateName]++
	if strings.HasSuffix(t.StateName, "Flaky") && f.calls[t.StateName] == max(f.failOn, 1) {
		return nil, fault.New("Flake", "first call")
	}
	return t.StateName, nil
}

func TestRedrive_ParallelRerunsOnlyTheFailedBranch(t *testing.T) {
	inv := &flaky{calls: map[string]int{}}
	s := api.New(api.Config{
		Store: memory.New(memory.Options{}), Engine: engine.New(engine.Config{Invoker: inv}),
		Versions: memory.NewVersions(), Account: "111111111111",
	})
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	def := `{"StartAt":"Before","States":{
"Before":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Next":"Par"},
"Par":{"Type":"Parallel","Branches":[
 {"StartAt":"Good","States":{"Good":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}},
 {"StartAt":"Step","States":{"Step":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Next":"BranchFlaky"},
  "BranchFlaky":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}}],
 "Next":"TopFlaky"},
"TopFlaky":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}}`
	sm := create(t, s, "par", def, "")
	x := ok(t, s, "StartExecution", `{"stateMachineArn":"`+sm+`"}`)["executionArn"].(string)
	if d := waitDone(t, s, x); d["status"] != "FAILED" || d["error"] != "Flake" {
		t.Fatalf("first run: %v", d)
	}
	ok(t, s, "RedriveExecution", `{"executionArn":"`+x+`"}`)
	if d := waitDone(t, s, x); d["status"] != "FAILED" || d["redriveCount"] != 1.0 {
		t.Fatalf("first redrive: %v", d) // TopFlaky fails on its first call
	}
	ok(t, s, "RedriveExecution", `{"executionArn":"`+x+`"}`)
	d := waitDone(t, s, x)
	if d["status"] != "SUCCEEDED" || d["output"] != `"TopFlaky"` || d["redriveCount"] != 2.0 {
		t.Fatalf("second redrive: %v", d)
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	want := map[string]int{"Before": 1, "Good": 1, "Step": 1, "BranchFlaky": 2, "TopFlaky": 2}
	for k, n := range want {
		if inv.calls[k] != n {
			t.Errorf("%s called %d times, want %d (all: %v)", k, inv.calls[k], n, inv.calls)
		}
	}
	h := ok(t, s, "GetExecutionHistory", `{"executionArn":"`+x+`","maxResults":1000}`)["events"].([]any)
	for i, e := range h {
		if e.(map[string]any)["id"] != float64(i+1) {
			t.Fatalf("event %d: %v", i, e)
		}
	}
	// Not redrivable once succeeded.
	r := call(t, s, "RedriveExecution", `{"executionArn":"`+x+`"}`)
	if r.status != 400 || !strings.Contains(r.raw, "ExecutionNotRedrivable") {
		t.Fatalf("redrive of a succeeded execution: %d %s", r.status, r.raw)
	}
}

func TestRedrive_MapRerunsOnlyTheFailedIteration(t *testing.T) {
	inv := &flaky{calls: map[string]int{}, failOn: 2}
	s := api.New(api.Config{
		Store: memory.New(memory.Options{}), Engine: engine.New(engine.Config{Invoker: inv}),
		Versions: memory.NewVersions(), Account: "111111111111",
	})
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	def := `{"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":1,"ItemProcessor":{"StartAt":"ItemFlaky",
"States":{"ItemFlaky":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}},"End":true}}}`
	sm := create(t, s, "map", def, "")
	x := ok(t, s, "StartExecution", `{"stateMachineArn":"`+sm+`","input":"[1,2,3]"}`)["executionArn"].(string)
	if d := waitDone(t, s, x); d["status"] != "FAILED" {
		t.Fatalf("first run: %v", d)
	}
	ok(t, s, "RedriveExecution", `{"executionArn":"`+x+`","clientToken":"c1"}`)
	d := waitDone(t, s, x)
	if d["status"] != "SUCCEEDED" || d["output"] != `["ItemFlaky","ItemFlaky","ItemFlaky"]` {
		t.Fatalf("redriven: %v", d)
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	// The second iteration failed and stopped the Map: the redrive runs it
	// again and the third, which never started; the first is not run again.
	if inv.calls["ItemFlaky"] != 4 {
		t.Fatalf("ItemFlaky called %d times, want 4", inv.calls["ItemFlaky"])
	}
}
