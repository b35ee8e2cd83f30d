package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
)

// TestCreateExecution_Batched: executions created at once share their
// transactions' inserts (several rows per statement, more than one
// statement's worth at times). Each name is created once: of the starts
// of one name, one succeeds and the others get ErrAlreadyExists, also
// when they share a batch; a name taken before stays taken; each created
// execution is itself: its row, and the events appended to it after.
func TestCreateExecution_Batched(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "s.db"))
	defer s.Close()
	newExec := func(name string, i int) *store.Execution {
		return &store.Execution{ARN: "arn:x:" + name, Name: name, StateMachineARN: fmt.Sprintf("arn:sm:%d", i%3), StateMachineName: "sm",
			RevisionID: "r1", Type: "STANDARD", Status: store.StatusRunning, Input: fmt.Sprintf(`{"i":%d}`, i), StartDate: time.Unix(int64(i), 0)}
	}
	if err := s.CreateExecution(ctx, newExec("taken", -1), nil, nil); err != nil {
		t.Fatal(err)
	}
	const names, tries = 300, 3
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := map[string]int{} // name → the start that created it
	lost := map[string]int{}
	gate := make(chan struct{})
	for i := range names * tries {
		name := fmt.Sprint("e", i%names)
		if i%names == 7 {
			name = "taken"
		}
		wg.Go(func() {
			<-gate
			x := newExec(name, i)
			var end *store.End
			evs := []history.Event{{ID: 1, Type: history.ExecutionStarted, Timestamp: time.Unix(int64(i), 0),
				ExecutionStartedEventDetails: &history.ExecutionStartedEventDetails{Input: x.Input}}}
			if i%2 == 0 {
				end = &store.End{Status: store.StatusSucceeded, StopDate: time.Unix(int64(i), 1), Output: new("{}")}
				evs = append(evs, history.Event{ID: 2, PreviousEventID: 1, Type: history.ExecutionSucceeded, Timestamp: time.Unix(int64(i), 1),
					ExecutionSucceededEventDetails: &history.ExecutionSucceededEventDetails{Output: "{}"}})
			}
			err := s.CreateExecution(ctx, x, evs, end)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				if prev, ok := won[name]; ok {
					t.Errorf("%s created by starts %d and %d", name, prev, i)
				}
				won[name] = i
			case errors.Is(err, store.ErrAlreadyExists):
				lost[name]++
			default:
				t.Errorf("start %d of %s: %v", i, name, err)
			}
		})
	}
	close(gate)
	wg.Wait()
	if _, ok := won["taken"]; ok || lost["taken"] != tries {
		t.Errorf("taken: created again (%v), %d refused, want %d", ok, lost["taken"], tries)
	}
	if len(won) != names-1 {
		t.Fatalf("%d names created, want %d", len(won), names-1)
	}
	for name, i := range won {
		if lost[name] != tries-1 {
			t.Errorf("%s: %d starts refused, want %d", name, lost[name], tries-1)
		}
		got, err := s.GetExecution(ctx, "arn:x:"+name)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf(`{"i":%d}`, i); got.Input != want || got.StateMachineARN != fmt.Sprintf("arn:sm:%d", i%3) {
			t.Errorf("%s: %+v, want the row of start %d", name, got, i)
		}
		wantStatus, wantEvents := store.StatusSucceeded, 2
		if i%2 == 1 {
			// Running: appended to, it is the same execution.
			if err := s.AppendHistory(ctx, got.ARN, []history.Event{{ID: 2, PreviousEventID: 1, Type: history.PassStateEntered,
				Timestamp: time.Unix(int64(i), 2), StateEnteredEventDetails: &history.StateEnteredEventDetails{Name: name}}}, nil); err != nil {
				t.Fatalf("append to %s: %v", name, err)
			}
			wantStatus = store.StatusRunning
		}
		if got.Status != wantStatus {
			t.Errorf("%s: status %s, want %s", name, got.Status, wantStatus)
		}
		evs, _, err := s.History(ctx, got.ARN, false, store.Page{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != wantEvents || evs[0].ExecutionStartedEventDetails.Input != got.Input ||
			(i%2 == 1 && evs[1].StateEnteredEventDetails.Name != name) {
			t.Errorf("%s: history %+v", name, evs)
		}
	}
	st := s.Stats()
	t.Logf("%d writes in %d commits", st.Writes, st.Commits)
}
