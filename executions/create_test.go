package executions_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/executions"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
	"github.com/stepwell/stepwell/store/memory"
)

// writeCount counts a store's writes of executions.
type writeCount struct {
	store.Store
	mu               sync.Mutex
	creates, appends int
	created          []int    // events written with each created row
	createdOn        []string // the goroutine of each create (goroutine)
}

func (w *writeCount) CreateExecution(ctx context.Context, x *store.Execution, events []history.Event, end *store.End) error {
	err := w.Store.CreateExecution(ctx, x, events, end)
	if err == nil {
		w.mu.Lock()
		w.creates++
		w.created = append(w.created, len(events))
		w.createdOn = append(w.createdOn, goroutine())
		w.mu.Unlock()
	}
	return err
}

// goroutine names the calling goroutine ("goroutine 7"), from its stack.
func goroutine() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	id, _, _ := strings.Cut(string(buf), " [")
	return id
}

func (w *writeCount) AppendHistory(ctx context.Context, arn string, events []history.Event, end *store.End) error {
	w.mu.Lock()
	w.appends++
	w.mu.Unlock()
	return w.Store.AppendHistory(ctx, arn, events, end)
}

func (w *writeCount) counts() (creates, appends int, created []int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.creates, w.appends, append([]int(nil), w.created...)
}

// startTypes returns how many ExecutionStarted events an execution's
// history holds, and its length.
func startTypes(t *testing.T, st store.Store, arn string) (starts, n int) {
	t.Helper()
	evs, _, err := st.History(context.Background(), arn, false, store.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Type == history.ExecutionStarted {
			starts++
		}
	}
	return starts, len(evs)
}

// TestStart_CreatesWithFirstBatch: Start creates the execution's row with
// the first durable batch of its events. An execution of Pass states is
// written once, row, history and close together, before Start answers;
// one that waits is created with its events up to the Wait, the rest
// appended later.
func TestStart_CreatesWithFirstBatch(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, def   string
		status      string
		wantCreated int // events written with the row
		// here: a run of Pass, Choice, Succeed and Fail states runs on
		// Start's goroutine (creation.here), which creates the row and
		// handles the end before Start returns; others on a runner.
		here bool
	}{
		{"passes", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Next":"C"},"C":{"Type":"Pass","End":true}}}`,
			store.StatusSucceeded, 8, true},
		{"fails", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"F"},"F":{"Type":"Fail","Error":"E","Cause":"C"}}}`,
			store.StatusFailed, 5, true},
		{"waits", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"W"},"W":{"Type":"Wait","Seconds":100000,"End":true}}}`,
			store.StatusRunning, 4, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &writeCount{Store: memory.New(memory.Options{})}
			svc := executions.New(executions.Config{Store: st, Scope: scope, ParkAfter: -1,
				Engine: engine.New(engine.Config{Region: scope.Region, AccountID: scope.Account})})
			t.Cleanup(func() { _ = svc.Close(ctx) })
			x, err := svc.Start(ctx, executions.StartInput{Machine: machine(tc.name, tc.def), Name: "x", Input: `{"a":1}`})
			if err != nil {
				t.Fatal(err)
			}
			if here := st.createdOn[0] == goroutine(); here != tc.here {
				t.Errorf("created on Start's goroutine: %v, want %v", here, tc.here)
			}
			if open, want := svc.Open(), map[bool]int{true: 0, false: 1}[tc.here]; open != want {
				t.Errorf("%d executions open once Start returned, want %d", open, want)
			}
			// No wait: the write is durable once Start answers.
			got, err := st.GetExecution(ctx, x.ARN)
			if err != nil || got.Status != tc.status {
				t.Fatalf("after Start: %+v, %v; want %s", got, err, tc.status)
			}
			creates, appends, created := st.counts()
			if creates != 1 || appends != 0 || created[0] != tc.wantCreated {
				t.Fatalf("%d creates (events %v), %d appends; want 1 create of %d events, no append", creates, created, appends, tc.wantCreated)
			}
		})
	}
}

// TestStart_Concurrent: starts of one name at once, on one service or on
// two sharing a store (two servers on one database), make one execution:
// every start with the same input returns it, one run records its
// history, and the runs that lost the name record nothing.
func TestStart_Concurrent(t *testing.T) {
	ctx := context.Background()
	const def = `{"StartAt":"P","States":{"P":{"Type":"Pass","Next":"W"},"W":{"Type":"Wait","Seconds":100000,"End":true}}}`
	st := memory.New(memory.Options{})
	var svcs []*executions.Service
	for range 2 {
		svc := executions.New(executions.Config{Store: st, Scope: scope, ParkAfter: -1,
			Engine: engine.New(engine.Config{Region: scope.Region, AccountID: scope.Account})})
		t.Cleanup(func() { _ = svc.Close(ctx) })
		svcs = append(svcs, svc)
	}
	m := machine("same", def)
	for round := range 20 {
		name := fmt.Sprint("x", round)
		var wg sync.WaitGroup
		got := make([]*executions.Started, 8)
		errs := make([]error, 8)
		for i := range got {
			wg.Go(func() {
				got[i], errs[i] = svcs[i%2].Start(ctx, executions.StartInput{Machine: m, Name: name, Input: "{}"})
			})
		}
		wg.Wait()
		for i := range got {
			if errs[i] != nil || got[i].ARN != got[0].ARN || !got[i].StartDate.Equal(got[0].StartDate) {
				t.Fatalf("round %d start %d: %+v, %v; start 0: %+v", round, i, got[i], errs[i], got[0])
			}
		}
		if starts, n := startTypes(t, st, got[0].ARN); starts != 1 || n != 4 {
			t.Fatalf("round %d: history of %d events with %d ExecutionStarted, want 4 with 1", round, n, starts)
		}
	}
	// Another input, or a start once closed, is refused and writes nothing.
	if _, err := svcs[1].Start(ctx, executions.StartInput{Machine: m, Name: "x0", Input: `{"other":1}`}); !errors.Is(err, executions.ErrExecutionAlreadyExists) {
		t.Fatalf("other input: %v", err)
	}
	pass := machine("pass", `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`)
	x, err := svcs[0].Start(ctx, executions.StartInput{Machine: pass, Name: "done", Input: "{}"})
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range svcs {
		if _, err := svc.Start(ctx, executions.StartInput{Machine: pass, Name: "done", Input: "{}"}); !errors.Is(err, executions.ErrExecutionAlreadyExists) {
			t.Fatalf("start of a closed execution: %v", err)
		}
	}
	if starts, n := startTypes(t, st, x.ARN); starts != 1 || n != 4 {
		t.Fatalf("closed execution: history of %d events with %d ExecutionStarted, want 4 with 1", n, starts)
	}
	// Once the services stop (every run ended, the losers' too: Close
	// cancels them), each execution has the one history its run wrote,
	// ended by that run's cancellation.
	for _, svc := range svcs {
		if err := svc.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for round := range 20 {
		arn := scope.ExecutionARN(m.Name, fmt.Sprint("x", round))
		if starts, n := startTypes(t, st, arn); starts != 1 || n != 5 {
			t.Fatalf("%s after the stop: history of %d events with %d ExecutionStarted, want 5 with 1", arn, n, starts)
		}
	}
}
