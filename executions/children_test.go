package executions_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/executions"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
	"github.com/stepwell/stepwell/store/memory"
)

// childDef is a Distributed Map of STANDARD children that each run one
// task.
const childDef = `{"StartAt":"M","States":{"M":{"Type":"Map","Label":"lbl","MaxConcurrency":%d,
"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},
"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::custom:run","End":true}}},"End":true}}}`

// children lists the children of the execution's only Map Run.
func (f *fixture) children(t *testing.T, parent string) (string, []*store.Execution) {
	t.Helper()
	ctx := context.Background()
	runs, _, err := f.ver.ListMapRuns(ctx, parent, store.Page{Limit: 10})
	if err != nil || len(runs) != 1 {
		t.Fatalf("map runs %v, %v", runs, err)
	}
	kids, _, err := f.st.ListExecutions(ctx, store.ExecutionFilter{StateMachineARN: executions.ChildKey(runs[0].ARN)}, store.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return runs[0].ARN, kids
}

// TestChildren_StopAbortsThem: stopping the parent aborts its running
// children, and the Map Run.
func TestChildren_StopAbortsThem(t *testing.T) {
	g := &gate{calls: make(chan struct{}), release: make(chan struct{})}
	f := newFixture(t, engine.Config{Invoker: g}, "stop", sprintf(childDef, 2))
	x := f.start(t, "[1,2,3]")
	<-g.calls
	<-g.calls // two children run
	// The Map Run is listed while they run, with its running children.
	runARN, kids := f.children(t, x)
	if r, err := f.ver.GetMapRun(context.Background(), runARN); err != nil || r.Status != executions.MapRunRunning || len(kids) != 2 ||
		kids[0].Status != store.StatusRunning {
		t.Fatalf("while the children run: map run %+v, %v; %d children", r, err, len(kids))
	}
	if _, err := f.svc.Stop(context.Background(), x, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got := f.closed(t, x); got.Status != store.StatusAborted {
		t.Fatalf("parent %s", got.Status)
	}
	_, kids = f.children(t, x)
	if len(kids) != 2 {
		t.Fatalf("%d children, want the 2 that started", len(kids))
	}
	for _, k := range kids {
		if got := f.closed(t, k.ARN); got.Status != store.StatusAborted {
			t.Fatalf("child %s is %s", k.ARN, got.Status)
		}
		if m, run, ok := executions.ChildOf(k); !ok || run != runARN || m != f.sm.ARN+"/lbl" {
			t.Fatalf("ChildOf: %s, %s, %v", m, run, ok)
		}
	}
	r, err := f.ver.GetMapRun(context.Background(), runARN)
	if err != nil || r.Status != executions.MapRunAborted {
		t.Fatalf("map run %+v, %v", r, err)
	}
}

// failTwo is an Invoker that fails the input 2 while failing is set, and
// counts its calls by input.
type failTwo struct {
	mu      sync.Mutex
	failing bool
	calls   map[string]int
}

func (f *failTwo) Invoke(_ context.Context, t *engine.Task) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	in := sprintf("%v", t.Input)
	f.calls[in]++
	if f.failing && in == "2" {
		return nil, fault.New("Boom", "item 2")
	}
	return t.Input, nil
}

// TestChildren_RedriveRunsOnlyTheUnsuccessful: a redrive of the parent
// runs again only the children that failed (redriven: RedriveCount 1)
// or never started; the succeeded one keeps its result.
func TestChildren_RedriveRunsOnlyTheUnsuccessful(t *testing.T) {
	inv := &failTwo{failing: true, calls: map[string]int{}}
	f := newFixture(t, engine.Config{Invoker: inv}, "redrive", sprintf(childDef, 1))
	x := f.start(t, "[1,2,3]")
	if got := f.closed(t, x); got.Status != store.StatusFailed || *got.Error != fault.ExceedToleratedFailureThreshold {
		t.Fatalf("parent %s %v", got.Status, got.Error)
	}
	_, kids := f.children(t, x)
	if len(kids) != 2 || inv.calls["1"] != 1 || inv.calls["2"] != 1 || inv.calls["3"] != 0 {
		t.Fatalf("%d children, calls %v", len(kids), inv.calls)
	}
	inv.mu.Lock()
	inv.failing = false
	inv.mu.Unlock()
	f.redrive(t, x, nil)
	got := f.closed(t, x)
	if got.Status != store.StatusSucceeded || *got.Output != "[1,2,3]" {
		t.Fatalf("redriven parent %s %v", got.Status, got.Output)
	}
	if inv.calls["1"] != 1 || inv.calls["2"] != 2 || inv.calls["3"] != 1 {
		t.Fatalf("calls %v: the succeeded child ran again, or a failed one did not", inv.calls)
	}
	_, kids = f.children(t, x)
	if len(kids) != 3 {
		t.Fatalf("%d children after the redrive", len(kids))
	}
	redriven := 0
	for _, k := range kids {
		if k.Status != store.StatusSucceeded {
			t.Fatalf("child %s is %s", k.ARN, k.Status)
		}
		if f.meta(t, k.ARN).RedriveCount == 1 {
			redriven++
		}
	}
	if redriven != 1 {
		t.Fatalf("%d children redriven, want 1", redriven)
	}
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// fencedStore refuses writes once fenced, as the server's store does
// when it shuts down: what runs then stays RUNNING in the store.
type fencedStore struct {
	*memory.Store
	fenced atomic.Bool
}

var errFenced = errors.New("fenced")

func (f *fencedStore) CreateExecution(ctx context.Context, x *store.Execution, events []history.Event, end *store.End) error {
	if f.fenced.Load() {
		return errFenced
	}
	return f.Store.CreateExecution(ctx, x, events, end)
}

func (f *fencedStore) AppendHistory(ctx context.Context, arn string, events []history.Event, end *store.End) error {
	if f.fenced.Load() {
		return errFenced
	}
	return f.Store.AppendHistory(ctx, arn, events, end)
}

// TestChildren_OrphansAbortedAtResume: a running child whose parent ended
// (the process stopped between the parent's end and the children's, or
// the parent was ended without a replay, as quarantine ends it) is
// aborted when the service resumes the store's running executions, and
// its Map Run ends, since no replay of its parent will reach it.
func TestChildren_OrphansAbortedAtResume(t *testing.T) {
	ctx := context.Background()
	g := &gate{calls: make(chan struct{}), release: make(chan struct{})}
	st, ver := &fencedStore{Store: memory.New(memory.Options{})}, memory.NewVersions()
	newService := func() *executions.Service {
		svc := executions.New(executions.Config{Store: st, Reopener: st.Store, Versions: ver, Scope: scope,
			Engine: engine.New(engine.Config{Invoker: g, Region: scope.Region, AccountID: scope.Account})})
		t.Cleanup(func() { _ = svc.Close(context.Background()) })
		return svc
	}
	svc := newService()
	sm := machine("orphans", sprintf(childDef, 2))
	if err := st.CreateStateMachine(ctx, sm); err != nil {
		t.Fatal(err)
	}
	started, err := svc.Start(ctx, executions.StartInput{Machine: sm, Input: "[1,2,3]"})
	if err != nil {
		t.Fatal(err)
	}
	x := started.ARN
	<-g.calls
	<-g.calls // two children run
	f := &fixture{svc: svc, st: st.Store, ver: ver, sm: sm}
	runARN, kids := f.children(t, x)
	if len(kids) != 2 {
		t.Fatalf("%d children", len(kids))
	}
	// The process stops: the executions stay RUNNING in the store.
	st.fenced.Store(true)
	if err := svc.Close(ctx); err != nil {
		t.Fatal(err)
	}
	st.fenced.Store(false)
	for _, k := range append(kids, &store.Execution{ARN: x}) {
		if got, err := st.GetExecution(ctx, k.ARN); err != nil || got.Status != store.StatusRunning {
			t.Fatalf("%s after the stop: %s, %v", k.ARN, got.Status, err)
		}
	}
	// The parent ended without its children, and the Map Run is still
	// recorded as running.
	last, _, err := st.History(ctx, x, true, store.Page{Limit: 1})
	if err != nil || len(last) != 1 {
		t.Fatalf("history %v, %v", last, err)
	}
	now := time.Now()
	ev := history.Event{ID: last[0].ID + 1, PreviousEventID: last[0].ID, Type: history.ExecutionFailed, Timestamp: now,
		ExecutionFailedEventDetails: &history.ExecutionFailedEventDetails{}}
	if err := st.AppendHistory(ctx, x, []history.Event{ev}, &store.End{Status: store.StatusFailed, StopDate: now}); err != nil {
		t.Fatal(err)
	}
	r, err := ver.GetMapRun(ctx, runARN)
	if err != nil {
		t.Fatal(err)
	}
	r.Status, r.StopDate = executions.MapRunRunning, time.Time{}
	if err := ver.PutMapRun(ctx, r); err != nil {
		t.Fatal(err)
	}

	// A new process resumes the store's running executions.
	n, err := newService().ResumeRunning(ctx)
	if err != nil || n != 0 {
		t.Fatalf("ResumeRunning: %d, %v; want 0 resumed", n, err)
	}
	for _, k := range kids {
		got, err := st.GetExecution(ctx, k.ARN)
		if err != nil || got.Status != store.StatusAborted {
			t.Fatalf("child %s: %s, %v; want ABORTED", k.ARN, got.Status, err)
		}
		evs, _, err := st.History(ctx, k.ARN, true, store.Page{Limit: 1})
		if err != nil || len(evs) != 1 || evs[0].Type != history.ExecutionAborted {
			t.Fatalf("child %s last event %+v, %v", k.ARN, evs, err)
		}
	}
	if r, err := ver.GetMapRun(ctx, runARN); err != nil || r.Status != executions.MapRunAborted || r.StopDate.IsZero() {
		t.Fatalf("map run %+v, %v", r, err)
	}
	if got, err := st.GetExecution(ctx, x); err != nil || got.Status != store.StatusFailed {
		t.Fatalf("parent %s, %v", got.Status, err)
	}
}
