package executions_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

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

func (f *flaky) count(state string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[state]
}

// fixture is a service over a memory store holding one state machine.
type fixture struct {
	svc *executions.Service
	st  *memory.Store
	ver *memory.Versions
	sm  *store.StateMachine
}

func newFixture(t *testing.T, ecfg engine.Config, name, def string) *fixture {
	t.Helper()
	ecfg.Region, ecfg.AccountID = scope.Region, scope.Account
	st, ver := memory.New(memory.Options{}), memory.NewVersions()
	svc := executions.New(executions.Config{Store: st, Reopener: st, Versions: ver, Scope: scope, Engine: engine.New(ecfg)})
	t.Cleanup(func() { _ = svc.Close(context.Background()) })
	sm := machine(name, def)
	if err := st.CreateStateMachine(context.Background(), sm); err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: svc, st: st, ver: ver, sm: sm}
}

func (f *fixture) start(t *testing.T, input string) string {
	t.Helper()
	x, err := f.svc.Start(context.Background(), executions.StartInput{Machine: f.sm, Input: input})
	if err != nil {
		t.Fatal(err)
	}
	return x.ARN
}

// closed waits until the execution's end is recorded and returns it.
func (f *fixture) closed(t *testing.T, arn string) *store.Execution {
	t.Helper()
	ended := f.svc.Ended(arn) // before reading: it cannot end unseen
	x, _, err := f.svc.Get(context.Background(), arn)
	if err != nil {
		t.Fatal(err)
	}
	if x.Status != store.StatusRunning {
		return x
	}
	if ended == nil {
		t.Fatalf("%s is running but not driven by the service", arn)
	}
	select {
	case <-ended:
	case <-time.After(time.Minute):
		t.Fatalf("%s still running", arn)
	}
	if x, _, err = f.svc.Get(context.Background(), arn); err != nil {
		t.Fatal(err)
	}
	return x
}

func (f *fixture) redrive(t *testing.T, arn string, token *string) {
	t.Helper()
	if _, err := f.svc.Redrive(context.Background(), arn, token); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) history(t *testing.T, arn string) []history.Event {
	t.Helper()
	evs, _, err := f.st.History(context.Background(), arn, false, store.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range evs {
		if e.ID != int64(i+1) {
			t.Fatalf("event %d has id %d: %+v", i, e.ID, e)
		}
	}
	return evs
}

func (f *fixture) meta(t *testing.T, arn string) store.ExecutionMeta {
	t.Helper()
	m, _, err := f.ver.GetExecutionMeta(context.Background(), arn)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRedrive_ParallelRerunsOnlyTheFailedBranch(t *testing.T) {
	inv := &flaky{calls: map[string]int{}}
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
	f := newFixture(t, engine.Config{Invoker: inv, TimeScale: 0.01}, "par", def)
	x := f.start(t, "{}")
	if d := f.closed(t, x); d.Status != store.StatusFailed || d.Error == nil || *d.Error != "Flake" {
		t.Fatalf("first run: %+v", d)
	}
	f.redrive(t, x, nil)
	if d := f.closed(t, x); d.Status != store.StatusFailed || f.meta(t, x).RedriveCount != 1 {
		t.Fatalf("first redrive: %+v", d) // TopFlaky fails on its first call
	}
	f.redrive(t, x, nil)
	d := f.closed(t, x)
	if d.Status != store.StatusSucceeded || d.Output == nil || *d.Output != `"TopFlaky"` || f.meta(t, x).RedriveCount != 2 {
		t.Fatalf("second redrive: %+v", d)
	}
	want := map[string]int{"Before": 1, "Good": 1, "Step": 1, "BranchFlaky": 2, "TopFlaky": 2}
	for k, n := range want {
		if got := inv.count(k); got != n {
			t.Errorf("%s called %d times, want %d", k, got, n)
		}
	}
	f.history(t, x) // ids 1..n
	// Not redrivable once succeeded.
	_, err := f.svc.Redrive(context.Background(), x, nil)
	var re *executions.RefusedError
	if !errors.Is(err, executions.ErrNotRedrivable) || !errors.As(err, &re) || re.Message != "Execution is SUCCEEDED and cannot be redriven" {
		t.Fatalf("redrive of a succeeded execution: %v", err)
	}
}

// TestRedrive_WithoutReopener: a service given no Reopener refuses to
// redrive, even over a store that could reopen executions, and the
// execution stays closed.
func TestRedrive_WithoutReopener(t *testing.T) {
	f := newFixture(t, engine.Config{}, "fail", `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"E"}}}`)
	x := f.start(t, "{}")
	if d := f.closed(t, x); d.Status != store.StatusFailed {
		t.Fatalf("run: %+v", d)
	}
	svc := executions.New(executions.Config{Store: f.st, Versions: f.ver, Scope: scope, Engine: engine.New(engine.Config{})})
	t.Cleanup(func() { _ = svc.Close(context.Background()) })
	if _, err := svc.Redrive(context.Background(), x, nil); !errors.Is(err, executions.ErrRedriveUnsupported) {
		t.Fatalf("redrive without a Reopener: %v", err)
	}
	if d := f.closed(t, x); d.Status != store.StatusFailed || f.meta(t, x).RedriveCount != 0 {
		t.Fatalf("after the refused redrive: %+v", d)
	}
}

func TestRedrive_MapRerunsOnlyTheFailedIteration(t *testing.T) {
	inv := &flaky{calls: map[string]int{}, failOn: 2}
	def := `{"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":1,"ItemProcessor":{"StartAt":"ItemFlaky",
"States":{"ItemFlaky":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}},"End":true}}}`
	f := newFixture(t, engine.Config{Invoker: inv}, "map", def)
	x := f.start(t, "[1,2,3]")
	if d := f.closed(t, x); d.Status != store.StatusFailed {
		t.Fatalf("first run: %+v", d)
	}
	token := "c1"
	f.redrive(t, x, &token)
	d := f.closed(t, x)
	if d.Status != store.StatusSucceeded || d.Output == nil || *d.Output != `["ItemFlaky","ItemFlaky","ItemFlaky"]` {
		t.Fatalf("redriven: %+v", d)
	}
	// The second iteration failed and stopped the Map: the redrive runs it
	// again and the third, which never started; the first is not run again.
	if n := inv.count("ItemFlaky"); n != 4 {
		t.Fatalf("ItemFlaky called %d times, want 4", n)
	}
	// The same client token within 15 minutes: the same redrive, not a new one.
	if _, err := f.svc.Redrive(context.Background(), x, &token); err != nil || f.meta(t, x).RedriveCount != 1 {
		t.Fatalf("idempotent redrive: %v, %+v", err, f.meta(t, x))
	}
}

func TestResume_AfterRestartAndMidRedrive(t *testing.T) {
	ctx := context.Background()
	inv := &flaky{calls: map[string]int{}}
	def := `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Work"},"Work":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}}`
	f := newFixture(t, engine.Config{Invoker: inv}, "resume", def)
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
			xarn := scope.ExecutionARN(f.sm.Name, "x"+string(rune('0'+i)))
			x := &store.Execution{ARN: xarn, Name: "x", StateMachineARN: f.sm.ARN, StateMachineName: f.sm.Name, RevisionID: f.sm.RevisionID,
				Type: executions.TypeStandard, Status: store.StatusRunning, Input: "{}", StartDate: time.Now()}
			if err := f.st.CreateExecution(ctx, x, nil, nil); err != nil {
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
			if err := f.st.AppendHistory(ctx, xarn, evs, nil); err != nil {
				t.Fatal(err)
			}
			if err := f.svc.Resume(ctx, x, evs); err != nil {
				t.Fatal(err)
			}
			if d := f.closed(t, xarn); d.Status != store.StatusSucceeded {
				t.Fatalf("resumed: %+v", d)
			}
			var got []history.EventType
			for _, e := range f.history(t, xarn)[len(tt.recorded):] {
				got = append(got, e.Type)
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
	def := `{"StartAt":"Before","States":{
"Before":{"Type":"Pass","Parameters":{"exec.$":"$$.Execution"},"ResultPath":"$.before","Next":"TaskFlaky"},
"TaskFlaky":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","ResultPath":null,"Next":"After"},
"After":{"Type":"Pass","Parameters":{"exec.$":"$$.Execution"},"ResultPath":"$.after","End":true}}}`
	f := newFixture(t, engine.Config{Invoker: inv}, "ctx", def)
	x := f.start(t, "{}")
	if d := f.closed(t, x); d.Status != store.StatusFailed {
		t.Fatalf("first run: %+v", d)
	}
	f.redrive(t, x, nil)
	d := f.closed(t, x)
	if d.Status != store.StatusSucceeded || d.Output == nil {
		t.Fatalf("redriven: %+v", d)
	}
	out := *d.Output
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
