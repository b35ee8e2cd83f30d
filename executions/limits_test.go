package executions_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/executions"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
	"github.com/stepwell/stepwell/store/memory"
)

// fullDisk fails every history write with ENOSPC while full is set, and
// tells of each refused write.
type fullDisk struct {
	store.Store
	mu      sync.Mutex
	full    bool
	refused chan struct{}
}

func (d *fullDisk) AppendHistory(ctx context.Context, arn string, events []history.Event, end *store.End) error {
	d.mu.Lock()
	full := d.full
	d.mu.Unlock()
	if full {
		select {
		case d.refused <- struct{}{}:
		default:
		}
		return &errnoError{syscall.ENOSPC}
	}
	return d.Store.AppendHistory(ctx, arn, events, end)
}

func (d *fullDisk) setFull(v bool) {
	d.mu.Lock()
	d.full = v
	d.mu.Unlock()
}

type errnoError struct{ errno syscall.Errno }

func (e *errnoError) Error() string { return "write history: " + e.errno.Error() }
func (e *errnoError) Unwrap() error { return e.errno }

// ended waits until the execution has ended and its end is recorded, and
// returns it.
func ended(t *testing.T, svc *executions.Service, executionARN string) *store.Execution {
	t.Helper()
	waitEnded(t, svc, executionARN)
	x, _, err := svc.Get(context.Background(), executionARN)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// checkHistory checks that the history's ids run 1..n and that it ends
// with its terminal event, matching the execution's status.
func checkHistory(t *testing.T, st store.Store, x *store.Execution) []history.Event {
	t.Helper()
	evs, _, err := st.History(context.Background(), x.ARN, false, store.Page{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	for i, ev := range evs {
		if ev.ID != int64(i+1) {
			t.Fatalf("event %d has id %d", i+1, ev.ID)
		}
	}
	want := map[string]history.EventType{store.StatusSucceeded: history.ExecutionSucceeded, store.StatusFailed: history.ExecutionFailed,
		store.StatusAborted: history.ExecutionAborted, store.StatusTimedOut: history.ExecutionTimedOut}[x.Status]
	if n := len(evs); n == 0 || evs[n-1].Type != want {
		t.Fatalf("%s execution's history ends with %v, want %s", x.Status, evs[len(evs)-1].Type, want)
	}
	return evs
}

// TestHistoryBytesLimit: an execution whose history would pass
// MaxHistoryBytes fails with States.Runtime, and its history, consecutive,
// ends with that ExecutionFailed event.
func TestHistoryBytesLimit(t *testing.T) {
	st := memory.New(memory.Options{})
	svc := executions.New(executions.Config{Store: st, Scope: scope, MaxHistoryBytes: 4 << 20,
		Engine: engine.New(engine.Config{Region: scope.Region, AccountID: scope.Account})})
	t.Cleanup(func() { _ = svc.Close(context.Background()) })
	// 200 iterations, each recording a 100 KB input: 20 MB.
	const def = `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items","ItemSelector":{"s.$":"$.s"},"ResultSelector":{"n":1},
"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","Result":1,"End":true}}},"End":true}}}`
	in := `{"items":[` + strings.Repeat("0,", 199) + `0],"s":"` + strings.Repeat("x", 100_000) + `"}`
	x, err := svc.Start(context.Background(), executions.StartInput{Machine: machine("big", def), Name: "x", Input: in})
	if err != nil {
		t.Fatal(err)
	}
	got := ended(t, svc, x.ARN)
	if got.Status != store.StatusFailed || got.Error == nil || *got.Error != "States.Runtime" || got.Cause == nil ||
		!strings.Contains(*got.Cause, "history would exceed its size limit") {
		t.Fatalf("execution %s %s %s", got.Status, deref(got.Error), deref(got.Cause))
	}
	evs := checkHistory(t, st, got)
	if len(evs) > 200 {
		t.Errorf("%d events recorded: the limit was passed", len(evs))
	}
}

// TestStoreFull: while the store refuses writes for a reason that may pass
// (ENOSPC), an execution waits, RUNNING; once it takes writes again, the
// execution continues and ends normally, without a restart.
func TestStoreFull(t *testing.T) {
	st := &fullDisk{Store: memory.New(memory.Options{}), refused: make(chan struct{}, 1)}
	svc := executions.New(executions.Config{Store: st, Scope: scope, ParkAfter: -1,
		Engine: engine.New(engine.Config{Region: scope.Region, AccountID: scope.Account, TimeScale: 0.001})})
	t.Cleanup(func() { _ = svc.Close(context.Background()) })
	st.setFull(true)
	// The row is created with the events up to the Wait (fullDisk refuses
	// the appends only: a start on a full disk is refused, as the store's
	// create fails); the writes after the Wait are refused.
	const def = `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"W"},"W":{"Type":"Wait","Seconds":1,"Next":"B"},"B":{"Type":"Pass","End":true}}}`
	x, err := svc.Start(context.Background(), executions.StartInput{Machine: machine("full", def), Name: "x", Input: `{"a":1}`})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 { // refused, and tried again
		select {
		case <-st.refused:
		case <-time.After(time.Minute):
			t.Fatal("no write was tried")
		}
	}
	if got, _, _ := svc.Get(context.Background(), x.ARN); got.Status != store.StatusRunning {
		t.Fatalf("status %s while the store is full, want RUNNING", got.Status)
	}
	st.setFull(false)
	got := ended(t, svc, x.ARN)
	if got.Status != store.StatusSucceeded {
		t.Fatalf("execution %s %s %s", got.Status, deref(got.Error), deref(got.Cause))
	}
	checkHistory(t, st, got)
}

// TestExecutionLimit: Start refuses an execution beyond MaxRunning with
// ErrExecutionLimitExceeded, and takes one again once another has ended.
func TestExecutionLimit(t *testing.T) {
	st := memory.New(memory.Options{})
	svc := executions.New(executions.Config{Store: st, Scope: scope, MaxRunning: 2, ParkAfter: -1,
		Engine: engine.New(engine.Config{Region: scope.Region, AccountID: scope.Account})})
	t.Cleanup(func() { _ = svc.Close(context.Background()) })
	const def = `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}`
	m := machine("limit", def)
	var arns []string
	for _, name := range []string{"a", "b"} {
		x, err := svc.Start(context.Background(), executions.StartInput{Machine: m, Name: name, Input: "{}"})
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, x.ARN)
	}
	if _, err := svc.Start(context.Background(), executions.StartInput{Machine: m, Name: "c", Input: "{}"}); !errors.Is(err, executions.ErrExecutionLimitExceeded) {
		t.Fatalf("third start: %v, want ErrExecutionLimitExceeded", err)
	}
	if _, err := svc.Stop(context.Background(), arns[0], nil, nil); err != nil {
		t.Fatal(err)
	}
	waitEnded(t, svc, arns[0])
	if _, err := svc.Start(context.Background(), executions.StartInput{Machine: m, Name: "c", Input: "{}"}); err != nil {
		t.Fatalf("start after a stop: %v", err)
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// TestQuarantine: before resuming a running execution, ResumeRunning
// counts the attempt in its metadata; one resumed MaxResumeAttempts times
// already (the server died each time) is failed instead, with a cause
// that says so, its history ending with that ExecutionFailed event.
func TestQuarantine(t *testing.T) {
	ctx := context.Background()
	st, ver := memory.New(memory.Options{}), memory.NewVersions()
	m := machine("loop", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}`)
	if err := st.CreateStateMachine(ctx, m); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	for _, c := range []struct {
		name     string
		attempts int64
	}{{"fresh", 0}, {"looping", 2}} {
		x := &store.Execution{ARN: scope.ExecutionARN("loop", c.name), Name: c.name, StateMachineARN: m.ARN, StateMachineName: m.Name,
			RevisionID: m.RevisionID, Type: executions.TypeStandard, Status: store.StatusRunning, Input: "{}", StartDate: started}
		if err := st.CreateExecution(ctx, x, nil, nil); err != nil {
			t.Fatal(err)
		}
		ev := history.Event{Timestamp: started, Type: history.ExecutionStarted, ID: 1,
			ExecutionStartedEventDetails: &history.ExecutionStartedEventDetails{Input: "{}", RoleArn: m.RoleARN}}
		if err := st.AppendHistory(ctx, x.ARN, []history.Event{ev}, nil); err != nil {
			t.Fatal(err)
		}
		if err := ver.PutExecutionMeta(ctx, x.ARN, store.ExecutionMeta{ResumeAttempts: c.attempts}); err != nil {
			t.Fatal(err)
		}
	}
	svc := executions.New(executions.Config{Store: st, Versions: ver, Scope: scope, MaxResumeAttempts: 2, ParkAfter: -1,
		Engine: engine.New(engine.Config{Region: scope.Region, AccountID: scope.Account})})
	t.Cleanup(func() { _ = svc.Close(context.Background()) })
	if _, err := svc.ResumeRunning(ctx); err != nil {
		t.Fatal(err)
	}
	looping, _, err := svc.Get(ctx, scope.ExecutionARN("loop", "looping"))
	if err != nil {
		t.Fatal(err)
	}
	if looping.Status != store.StatusFailed || deref(looping.Error) != "States.Runtime" || !strings.Contains(deref(looping.Cause), "quarantined") {
		t.Fatalf("looping execution %s %s %s", looping.Status, deref(looping.Error), deref(looping.Cause))
	}
	checkHistory(t, st, looping)
	fresh, _, err := svc.Get(ctx, scope.ExecutionARN("loop", "fresh"))
	if err != nil {
		t.Fatal(err)
	}
	if fresh.Status != store.StatusRunning {
		t.Fatalf("fresh execution %s, want RUNNING", fresh.Status)
	}
	if meta, _, _ := ver.GetExecutionMeta(ctx, fresh.ARN); meta.ResumeAttempts != 1 {
		t.Fatalf("fresh execution's resume attempts %d, want 1 (counted before resuming)", meta.ResumeAttempts)
	}
}

// appended tells of each history write, and refuses them once fenced
// (as the app's store does while the server shuts down).
type appended struct {
	store.Store
	events chan history.EventType // the last event of each write
	fenced atomic.Bool
}

func (a *appended) CreateExecution(ctx context.Context, x *store.Execution, events []history.Event, end *store.End) error {
	if len(events) == 0 && end == nil {
		return a.Store.CreateExecution(ctx, x, nil, nil)
	}
	// The first events, written with the row.
	if err := a.Store.CreateExecution(ctx, x, nil, nil); err != nil {
		return err
	}
	return a.AppendHistory(ctx, x.ARN, events, end)
}

func (a *appended) AppendHistory(ctx context.Context, arn string, events []history.Event, end *store.End) error {
	if a.fenced.Load() {
		return fmt.Errorf("append history: %w", executions.ErrShuttingDown)
	}
	err := a.Store.AppendHistory(ctx, arn, events, end)
	if err == nil && len(events) > 0 {
		select {
		case a.events <- events[len(events)-1].Type:
		default:
		}
	}
	return err
}

// TestHistoryBytesLimit_Resumed: a resumed execution's history budget
// counts the history it replays, not only what it writes after.
func TestHistoryBytesLimit_Resumed(t *testing.T) {
	ctx := context.Background()
	st := &appended{Store: memory.New(memory.Options{}), events: make(chan history.EventType, 100)}
	ver := memory.NewVersions()
	open := func(scale float64) *executions.Service {
		svc := executions.New(executions.Config{Store: st, Versions: ver, Scope: scope, MaxHistoryBytes: 1 << 20, ParkAfter: -1,
			Engine: engine.New(engine.Config{Region: scope.Region, AccountID: scope.Account, TimeScale: scale})})
		t.Cleanup(func() { _ = svc.Close(context.Background()) })
		return svc
	}
	svc := open(1)
	// 800 KB recorded before the Wait, 400 KB more after it.
	const def = `{"StartAt":"P","States":{"P":{"Type":"Pass","Next":"W"},"W":{"Type":"Wait","Seconds":3600,"Next":"Q"},"Q":{"Type":"Pass","End":true}}}`
	in := `{"s":"` + strings.Repeat("x", 200_000) + `"}`
	x, err := svc.Start(ctx, executions.StartInput{Machine: machine("resumed", def), Name: "x", Input: in})
	if err != nil {
		t.Fatal(err)
	}
	for typ := history.EventType(""); typ != history.WaitStateEntered; {
		select {
		case typ = <-st.events:
		case <-time.After(time.Minute):
			t.Fatal("the execution did not reach its Wait")
		}
	}
	st.fenced.Store(true) // the server stops: the execution stays RUNNING
	if err := svc.Close(ctx); err != nil {
		t.Fatal(err)
	}
	st.fenced.Store(false)
	if err := st.CreateStateMachine(ctx, machine("resumed", def)); err != nil {
		t.Fatal(err)
	}
	svc = open(1e-6)
	if _, err := svc.ResumeRunning(ctx); err != nil {
		t.Fatal(err)
	}
	got := ended(t, svc, x.ARN)
	if got.Status != store.StatusFailed || !strings.Contains(deref(got.Cause), "history would exceed its size limit") {
		t.Fatalf("resumed execution %s %s %s, want its history's limit", got.Status, deref(got.Error), deref(got.Cause))
	}
	checkHistory(t, st, got)
}

// TestOverloaded: while Config.Overloaded says the server is over its
// memory budget, Start and StartSync refuse new executions with
// ErrExecutionLimitExceeded, saying why.
func TestOverloaded(t *testing.T) {
	var over atomic.Bool
	over.Store(true)
	svc := executions.New(executions.Config{Store: memory.New(memory.Options{}), Scope: scope, Overloaded: over.Load,
		Engine: engine.New(engine.Config{Region: scope.Region, AccountID: scope.Account})})
	t.Cleanup(func() { _ = svc.Close(context.Background()) })
	m := machine("over", `{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}`)
	_, err := svc.Start(context.Background(), executions.StartInput{Machine: m, Name: "a", Input: "{}"})
	var re *executions.RefusedError
	if !errors.As(err, &re) || !errors.Is(err, executions.ErrExecutionLimitExceeded) || !strings.Contains(re.Message, "memory budget") {
		t.Fatalf("start while overloaded: %v", err)
	}
	express := *m
	express.Type = executions.TypeExpress
	if _, err := svc.StartSync(context.Background(), executions.StartInput{Machine: &express, Input: "{}"}); !errors.Is(err, executions.ErrExecutionLimitExceeded) {
		t.Fatalf("sync start while overloaded: %v", err)
	}
	over.Store(false)
	x, err := svc.Start(context.Background(), executions.StartInput{Machine: m, Name: "a", Input: "{}"})
	if err != nil {
		t.Fatal(err)
	}
	if got := ended(t, svc, x.ARN); got.Status != store.StatusSucceeded {
		t.Fatalf("execution %s", got.Status)
	}
}
