package executions_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepwell/stepwell/arn"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/executions"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
	"github.com/stepwell/stepwell/store/memory"
)

var scope = arn.Scope{Partition: "aws", Region: "us-east-1", Account: "111111111111"}

func machine(name, def string) *store.StateMachine {
	return &store.StateMachine{ARN: scope.StateMachineARN(name), Name: name, Type: executions.TypeStandard,
		Revision: store.Revision{RevisionID: "r1", Definition: def, RoleARN: "arn:aws:iam::111111111111:role/r"}}
}

// closeWatch notes, at the moment an execution is closed (before the
// store makes it visible), the Map Runs the Versions store holds for it.
type closeWatch struct {
	store.Store
	ver    store.Versions
	mu     sync.Mutex
	runs   map[string][]store.MapRun // by execution ARN, at its close
	closed chan string
}

func (c *closeWatch) AppendHistory(ctx context.Context, arn string, events []history.Event, end *store.End) error {
	if end != nil {
		runs, _, err := c.ver.ListMapRuns(ctx, arn, store.Page{Limit: 100})
		if err != nil {
			return err
		}
		c.mu.Lock()
		for _, r := range runs {
			c.runs[arn] = append(c.runs[arn], *r)
		}
		c.mu.Unlock()
	}
	err := c.Store.AppendHistory(ctx, arn, events, end)
	if end != nil {
		c.closed <- arn
	}
	return err
}

// TestMapRuns_RecordedBeforeTheExecutionCloses: once an execution is
// closed, its Map Runs are recorded with their final status, so that
// ListMapRuns and DescribeMapRun right after DescribeExecution says
// SUCCEEDED find them (the last Map's events and the terminal event share
// one durable write; the Map Runs used to be written after it).
func TestMapRuns_RecordedBeforeTheExecutionCloses(t *testing.T) {
	ver := memory.NewVersions()
	st := &closeWatch{Store: memory.New(memory.Options{}), ver: ver, runs: map[string][]store.MapRun{}, closed: make(chan string, 1)}
	svc := executions.New(executions.Config{Store: st, Versions: ver, Scope: scope,
		Engine: engine.New(engine.Config{Region: scope.Region, AccountID: scope.Account})})
	t.Cleanup(func() { _ = svc.Close(context.Background()) })
	const def = `{"StartAt":"M","States":{"M":{"Type":"Map","Label":"lbl","MaxConcurrency":5,
"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},
"End":true}}}`
	x, err := svc.Start(context.Background(), executions.StartInput{Machine: machine("distributed", def), Name: "x", Input: "[1,2,3]"})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-st.closed:
		if got != x.ARN {
			t.Fatalf("closed %s, want %s", got, x.ARN)
		}
	case <-time.After(time.Minute):
		t.Fatal("the execution did not close")
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	runs := st.runs[x.ARN]
	if len(runs) != 1 || runs[0].Status != executions.MapRunSucceeded || runs[0].ItemCounts.Succeeded != 3 || runs[0].StopDate.IsZero() {
		t.Fatalf("map runs when the execution closed: %+v", runs)
	}
}

// TestStop: stopping a running execution returns once its end is
// recorded, with the recorded stop date; one no run drives (the server
// restarted) is closed by Stop itself; a closed one keeps its date.
func TestStop(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, engine.Config{}, "wait", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":100000,"End":true}}}`)
	errName, cause := "Stopped", "by the test"

	x := f.start(t, "{}")
	stop, err := f.svc.Stop(ctx, x, &errName, &cause)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := f.svc.Get(ctx, x)
	if err != nil || got.Status != store.StatusAborted || !got.StopDate.Equal(stop) || *got.Error != errName || *got.Cause != cause {
		t.Fatalf("stopped: %+v (stop date %v), %v", got, stop, err)
	}
	if again, err := f.svc.Stop(ctx, x, nil, nil); err != nil || !again.Equal(stop) {
		t.Fatalf("stop again: %v, %v; want %v", again, err, stop)
	}

	orphan := &store.Execution{ARN: scope.ExecutionARN(f.sm.Name, "orphan"), Name: "orphan", StateMachineARN: f.sm.ARN,
		StateMachineName: f.sm.Name, RevisionID: f.sm.RevisionID, Type: executions.TypeStandard, Status: store.StatusRunning,
		Input: "{}", StartDate: time.Now()}
	if err := f.st.CreateExecution(ctx, orphan, nil, nil); err != nil {
		t.Fatal(err)
	}
	if f.svc.Ended(orphan.ARN) != nil {
		t.Fatal("Ended of an execution the service does not drive")
	}
	if _, err := f.svc.Stop(ctx, orphan.ARN, nil, &cause); err != nil {
		t.Fatal(err)
	}
	evs := f.history(t, orphan.ARN)
	if got := f.closed(t, orphan.ARN); got.Status != store.StatusAborted || len(evs) != 1 || evs[0].Type != history.ExecutionAborted {
		t.Fatalf("orphan: %+v, history %+v", got, evs)
	}

	_, err = f.svc.Stop(ctx, scope.ExecutionARN(f.sm.Name, "none"), nil, nil)
	if !errors.Is(err, executions.ErrExecutionDoesNotExist) {
		t.Fatalf("stop of an unknown execution: %v", err)
	}
}

// TestStart_AlreadyExists: starting a running execution again with the
// same input returns it; with another input, or once closed, it is
// refused.
func TestStart_AlreadyExists(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, engine.Config{}, "wait", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":100000,"End":true}}}`)
	in := executions.StartInput{Machine: f.sm, Name: "same", Input: `{"a":1}`}
	first, err := f.svc.Start(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := f.svc.Start(ctx, in)
	if err != nil || again.ARN != first.ARN || !again.StartDate.Equal(first.StartDate) {
		t.Fatalf("same start: %+v, %v; want %+v", again, err, first)
	}
	in.Input = `{"a":2}`
	if _, err := f.svc.Start(ctx, in); !errors.Is(err, executions.ErrExecutionAlreadyExists) {
		t.Fatalf("other input: %v", err)
	}
}

// TestTasks_NoBroker: without a task broker the task operations are
// refused.
func TestTasks_NoBroker(t *testing.T) {
	f := newFixture(t, engine.Config{}, "p", `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`)
	if f.svc.HasTasks() {
		t.Fatal("HasTasks without a broker")
	}
	if err := f.svc.SendTaskHeartbeat("t"); !errors.Is(err, executions.ErrNoTasks) {
		t.Fatalf("heartbeat: %v", err)
	}
}

// brokenStore fails every read of an execution and every new one with
// err.
type brokenStore struct {
	*memory.Store
	err error
}

func (b brokenStore) GetExecution(context.Context, string) (*store.Execution, error) {
	return nil, b.err
}
func (b brokenStore) CreateExecution(context.Context, *store.Execution, []history.Event, *store.End) error {
	return b.err
}

// TestStoreErrors: a store's error comes back with what the service was
// doing, and still matches the store's sentinel.
func TestStoreErrors(t *testing.T) {
	ctx := context.Background()
	boom := errors.Join(errors.New("disk full"), store.ErrConflict)
	svc := executions.New(executions.Config{Store: brokenStore{memory.New(memory.Options{}), boom}, Scope: scope,
		Engine: engine.New(engine.Config{})})
	t.Cleanup(func() { _ = svc.Close(ctx) })
	_, err := svc.Stop(ctx, scope.ExecutionARN("m", "x"), nil, nil)
	if !errors.Is(err, store.ErrConflict) || !strings.HasPrefix(err.Error(), "get execution: ") {
		t.Errorf("Stop: %v", err)
	}
	_, err = svc.Start(ctx, executions.StartInput{Machine: machine("m", passDef), Input: "{}"})
	if !errors.Is(err, store.ErrConflict) || !strings.HasPrefix(err.Error(), "create execution: ") {
		t.Errorf("Start: %v", err)
	}
}
