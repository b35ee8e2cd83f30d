package api_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepwell/stepwell/api"
	"github.com/stepwell/stepwell/arn"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/executions"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
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
	s := newAPI(t, executions.Config{Store: memory.New(memory.Options{}), Engine: engine.New(engine.Config{Invoker: inv, TimeScale: 0.01}), Versions: memory.NewVersions()}, api.Config{})
	// The failing branch first waits (0.3 s scaled) so that Good has
	// finished when the failure cancels the Parallel: a branch cancelled
	// mid-task is unsuccessful and a redrive would rightly run it again.
	def := `{"StartAt":"Before","States":{
"Before":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Next":"Par"},
"Par":{"Type":"Parallel","Branches":[
 {"StartAt":"Good","States":{"Good":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}},
 {"StartAt":"Settle","States":{"Settle":{"Type":"Wait","Seconds":30,"Next":"Step"},
  "Step":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Next":"BranchFlaky"},
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
	s := newAPI(t, executions.Config{Store: memory.New(memory.Options{}), Engine: engine.New(engine.Config{Invoker: inv}), Versions: memory.NewVersions()}, api.Config{})
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

func TestResume_AfterRestartAndMidRedrive(t *testing.T) {
	ctx := context.Background()
	st := memory.New(memory.Options{})
	inv := &flaky{calls: map[string]int{}}
	svc := executions.New(executions.Config{Store: st, Engine: engine.New(engine.Config{Invoker: inv}), Versions: memory.NewVersions(),
		Scope: arn.Scope{Account: "111111111111"}})
	t.Cleanup(func() { _ = svc.Close(context.Background()) })
	s := api.New(api.Config{Store: st, Executions: svc, Account: "111111111111"})
	def := `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Work"},"Work":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}}`
	sm := create(t, s, "resume", def, "")
	smName := sm[strings.LastIndexByte(sm, ':')+1:]
	tests := []struct {
		name     string
		recorded []history.EventType
		wantNew  []history.EventType
	}{
		{"crash after a state", []history.EventType{history.ExecutionStarted, history.PassStateEntered, history.PassStateExited},
			[]history.EventType{history.TaskStateEntered, history.TaskScheduled, history.TaskStarted, history.TaskSucceeded, history.TaskStateExited, history.ExecutionSucceeded}},
		{"crash during a redrive", []history.EventType{history.ExecutionStarted, history.PassStateEntered, history.PassStateExited,
			history.TaskStateEntered, history.TaskScheduled, history.TaskStarted, history.TaskFailed, history.ExecutionFailed,
			history.ExecutionRedriven, history.TaskStateEntered},
			[]history.EventType{history.TaskScheduled, history.TaskStarted, history.TaskSucceeded, history.TaskStateExited, history.ExecutionSucceeded}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			xarn := "arn:aws:states:us-east-1:111111111111:execution:" + smName + ":x" + string(rune('0'+i))
			list, _, err := st.ListStateMachines(ctx, store.Page{Limit: 10})
			if err != nil || len(list) == 0 {
				t.Fatal(err)
			}
			x := &store.Execution{ARN: xarn, Name: "x", StateMachineARN: sm, StateMachineName: smName, RevisionID: list[0].RevisionID,
				Type: "STANDARD", Status: store.StatusRunning, Input: "{}", StartDate: time.Now()}
			if err := st.CreateExecution(ctx, x); err != nil {
				t.Fatal(err)
			}
			evs := make([]history.Event, len(tt.recorded))
			for j, typ := range tt.recorded {
				evs[j] = history.Event{ID: int64(j + 1), PreviousEventID: int64(j), Type: typ, Timestamp: time.Now()}
				switch typ {
				case history.PassStateEntered, history.TaskStateEntered:
					name := "A"
					if typ == history.TaskStateEntered {
						name = "Work"
					}
					evs[j].StateEnteredEventDetails = &history.StateEnteredEventDetails{Name: name, Input: "{}"}
				case history.PassStateExited:
					evs[j].StateExitedEventDetails = &history.StateExitedEventDetails{Name: "A", Output: "{}"}
				case history.TaskScheduled:
					evs[j].TaskScheduledEventDetails = &history.TaskScheduledEventDetails{Resource: "invoke", ResourceType: "lambda", Region: "us-east-1", Parameters: "{}"}
				}
			}
			if err := st.AppendHistory(ctx, xarn, evs, nil); err != nil {
				t.Fatal(err)
			}
			if err := svc.Resume(ctx, x, evs); err != nil {
				t.Fatal(err)
			}
			if d := waitDone(t, s, xarn); d["status"] != "SUCCEEDED" {
				t.Fatalf("resumed: %v", d)
			}
			h := ok(t, s, "GetExecutionHistory", `{"executionArn":"`+xarn+`","maxResults":1000}`)["events"].([]any)
			var got []history.EventType
			for j, e := range h {
				m := e.(map[string]any)
				if m["id"] != float64(j+1) {
					t.Fatalf("event %d: %v", j, m)
				}
				if j >= len(tt.recorded) {
					got = append(got, history.EventType(m["type"].(string)))
				}
			}
			if len(got) != len(tt.wantNew) {
				t.Fatalf("new events %v, want %v", got, tt.wantNew)
			}
			for j := range got {
				if got[j] != tt.wantNew[j] {
					t.Fatalf("new events %v, want %v", got, tt.wantNew)
				}
			}
		})
	}
}

// TestRedrive_ContextObject: after a redrive the Context object carries
// Execution.RedriveCount and RedriveTime (absent before any redrive), as on
// AWS.
func TestRedrive_ContextObject(t *testing.T) {
	inv := &flaky{calls: map[string]int{}}
	s := newAPI(t, executions.Config{Store: memory.New(memory.Options{}), Engine: engine.New(engine.Config{Invoker: inv}), Versions: memory.NewVersions()}, api.Config{})
	def := `{"StartAt":"Before","States":{
"Before":{"Type":"Pass","Parameters":{"exec.$":"$$.Execution"},"ResultPath":"$.before","Next":"TaskFlaky"},
"TaskFlaky":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","ResultPath":null,"Next":"After"},
"After":{"Type":"Pass","Parameters":{"exec.$":"$$.Execution"},"ResultPath":"$.after","End":true}}}`
	sm := create(t, s, "ctx", def, "")
	x := ok(t, s, "StartExecution", `{"stateMachineArn":"`+sm+`","input":"{}"}`)["executionArn"].(string)
	if d := waitDone(t, s, x); d["status"] != "FAILED" {
		t.Fatalf("first run: %v", d)
	}
	ok(t, s, "RedriveExecution", `{"executionArn":"`+x+`"}`)
	d := waitDone(t, s, x)
	if d["status"] != "SUCCEEDED" {
		t.Fatalf("redriven: %v", d)
	}
	out := d["output"].(string)
	for _, want := range []string{
		`"before":{"exec":{"Id":"` + x + `"`, // replayed: recorded before the redrive
		`"RedriveCount":0}},"after"`,         // no RedriveTime before the redrive
		`"RedriveCount":1,"RedriveTime":"`,   // after the redrive
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
}
