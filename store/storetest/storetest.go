// Package storetest is the conformance suite every store.Store backend
// must pass: call Run from the backend's tests with a constructor that
// returns a fresh, empty store.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
)

// Run runs the suite. newStore must return an empty store each call.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"StateMachine_CreateGet", testStateMachineCreateGet},
		{"StateMachine_UpdateRevisions", testStateMachineUpdate},
		{"StateMachine_Delete", testStateMachineDelete},
		{"StateMachine_ListPages", testStateMachineList},
		{"Execution_CreateGet", testExecutionCreateGet},
		{"Execution_ListNewestFirst", testExecutionList},
		{"History_AppendAndClose", testHistoryAppend},
		{"History_WithCreate", testCreateWithHistory},
		{"History_Pages", testHistoryPages},
		{"Tokens_Invalid", testInvalidTokens},
		{"Concurrent", testConcurrent},
		{"History_ThreadAndDetails", testHistoryThread},
		{"ListRunning", testListRunning},
		{"ListRunningLast", testListRunningLast},
		{"DeleteClosedBefore", testDeleteClosedBefore},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newStore(t))
		})
	}
}

const smARN = "arn:aws:states:us-east-1:123456789012:stateMachine:"

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.UTC)

func machine(name string) *store.StateMachine {
	return &store.StateMachine{
		ARN: smARN + name, Name: name, Type: "STANDARD", CreationDate: t0,
		Tags: json.RawMessage(`[{"key":"k","value":"v"}]`),
		Revision: store.Revision{
			RevisionID: "rev-" + name, Definition: `{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}`,
			RoleARN: "arn:aws:iam::123456789012:role/r", Logging: json.RawMessage(`{"level":"OFF","includeExecutionData":false}`),
			Tracing: json.RawMessage(`{"enabled":false}`),
		},
	}
}

func exec(sm, name string, i int) *store.Execution {
	return &store.Execution{
		ARN: "arn:aws:states:us-east-1:123456789012:execution:" + sm + ":" + name, Name: name,
		StateMachineARN: smARN + sm, StateMachineName: sm, RevisionID: "rev-" + sm, Type: "STANDARD",
		Status: store.StatusRunning, Input: `{"i": ` + fmt.Sprint(i) + `}`, StartDate: t0.Add(time.Duration(i) * time.Millisecond),
	}
}

func ctx() context.Context { return context.Background() }

// allPages lists every page of list, limit items at a time, and returns the
// key of each item. It fails t on a page larger than limit, or on more than
// maxPages pages.
func allPages[T, K any](t *testing.T, limit, maxPages int, list func(store.Page) ([]T, string, error), key func(T) K) []K {
	t.Helper()
	var out []K
	tok := ""
	for pages := 0; ; pages++ {
		if pages > maxPages {
			t.Fatal("too many pages")
		}
		items, next, err := list(store.Page{Limit: limit, Token: tok})
		must(t, err)
		if len(items) > limit {
			t.Fatalf("page of %d items, limit %d", len(items), limit)
		}
		for _, it := range items {
			out = append(out, key(it))
		}
		if next == "" {
			return out
		}
		tok = next
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want %v", err, want)
	}
}

func sameMachine(t *testing.T, got, want *store.StateMachine) {
	t.Helper()
	if got.ARN != want.ARN || got.Name != want.Name || got.Type != want.Type || !got.CreationDate.Equal(want.CreationDate) ||
		string(got.Tags) != string(want.Tags) {
		t.Fatalf("machine %+v, want %+v", got, want)
	}
	sameRevision(t, &got.Revision, &want.Revision)
}

func sameRevision(t *testing.T, got, want *store.Revision) {
	t.Helper()
	if got.RevisionID != want.RevisionID || got.Definition != want.Definition || got.RoleARN != want.RoleARN ||
		!jsonEqual(got.Logging, want.Logging) || !jsonEqual(got.Tracing, want.Tracing) || !got.UpdateDate.Equal(want.UpdateDate) {
		t.Fatalf("revision %+v, want %+v", got, want)
	}
}

func jsonEqual(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return fmt.Sprint(x) == fmt.Sprint(y)
}

func strp(s string) *string { return &s }

func sameExecution(t *testing.T, got, want *store.Execution) {
	t.Helper()
	eq := func(a, b *string) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
	if got.ARN != want.ARN || got.Name != want.Name || got.StateMachineARN != want.StateMachineARN ||
		got.StateMachineName != want.StateMachineName || got.RevisionID != want.RevisionID || got.Type != want.Type ||
		got.Status != want.Status || got.Input != want.Input || got.TraceHeader != want.TraceHeader ||
		!got.StartDate.Equal(want.StartDate) || !got.StopDate.Equal(want.StopDate) ||
		!eq(got.Output, want.Output) || !eq(got.Error, want.Error) || !eq(got.Cause, want.Cause) {
		t.Fatalf("execution %+v, want %+v", got, want)
	}
}

func testStateMachineCreateGet(t *testing.T, s store.Store) {
	sm := machine("a")
	must(t, s.CreateStateMachine(ctx(), sm))
	got, err := s.GetStateMachine(ctx(), sm.ARN)
	must(t, err)
	sameMachine(t, got, sm)
	// Returned records are copies.
	got.Name = "changed"
	again, err := s.GetStateMachine(ctx(), sm.ARN)
	must(t, err)
	sameMachine(t, again, sm)

	wantErr(t, s.CreateStateMachine(ctx(), machine("a")), store.ErrAlreadyExists)
	_, err = s.GetStateMachine(ctx(), smARN+"missing")
	wantErr(t, err, store.ErrNotFound)
	rev, err := s.GetRevision(ctx(), sm.ARN, sm.RevisionID)
	must(t, err)
	sameRevision(t, rev, &sm.Revision)
	_, err = s.GetRevision(ctx(), sm.ARN, "nope")
	wantErr(t, err, store.ErrNotFound)
}

func testStateMachineUpdate(t *testing.T, s store.Store) {
	sm := machine("u")
	must(t, s.CreateStateMachine(ctx(), sm))
	r2 := store.Revision{RevisionID: "r2", Definition: `{"x":2}`, RoleARN: "role2", Logging: sm.Logging, Tracing: json.RawMessage(`{"enabled":true}`), UpdateDate: t0.Add(time.Second)}
	must(t, s.UpdateStateMachine(ctx(), sm.ARN, sm.RevisionID, &r2))
	wantErr(t, s.UpdateStateMachine(ctx(), sm.ARN, sm.RevisionID, &store.Revision{RevisionID: "r3"}), store.ErrConflict)
	wantErr(t, s.UpdateStateMachine(ctx(), smARN+"missing", "", &r2), store.ErrNotFound)
	got, err := s.GetStateMachine(ctx(), sm.ARN)
	must(t, err)
	want := *sm
	want.Revision = r2
	sameMachine(t, got, &want)
	old, err := s.GetRevision(ctx(), sm.ARN, sm.RevisionID)
	must(t, err)
	sameRevision(t, old, &sm.Revision)
	cur, err := s.GetRevision(ctx(), sm.ARN, "r2")
	must(t, err)
	sameRevision(t, cur, &r2)
}

func testStateMachineDelete(t *testing.T, s store.Store) {
	sm := machine("d")
	must(t, s.CreateStateMachine(ctx(), sm))
	x := exec("d", "e1", 1)
	must(t, s.CreateExecution(ctx(), x, nil, nil))
	must(t, s.DeleteStateMachine(ctx(), sm.ARN))
	wantErr(t, s.DeleteStateMachine(ctx(), sm.ARN), store.ErrNotFound)
	_, err := s.GetStateMachine(ctx(), sm.ARN)
	wantErr(t, err, store.ErrNotFound)
	items, _, err := s.ListStateMachines(ctx(), store.Page{Limit: 10})
	must(t, err)
	if len(items) != 0 {
		t.Fatalf("listed %d machines after delete", len(items))
	}
	// Revisions and executions outlive the machine.
	_, err = s.GetRevision(ctx(), sm.ARN, sm.RevisionID)
	must(t, err)
	got, err := s.GetExecution(ctx(), x.ARN)
	must(t, err)
	sameExecution(t, got, x)
	// The name can be used again.
	must(t, s.CreateStateMachine(ctx(), machine("d")))
}

func testStateMachineList(t *testing.T, s store.Store) {
	var names []string
	for i := range 7 {
		n := fmt.Sprintf("m%d", i)
		names = append(names, n)
		must(t, s.CreateStateMachine(ctx(), machine(n)))
	}
	must(t, s.DeleteStateMachine(ctx(), smARN+"m3"))
	names = append(names[:3], names[4:]...)
	got := allPages(t, 2, 10, func(p store.Page) ([]*store.StateMachine, string, error) { return s.ListStateMachines(ctx(), p) },
		func(sm *store.StateMachine) string { return sm.Name })
	if fmt.Sprint(got) != fmt.Sprint(names) {
		t.Fatalf("listed %v, want %v (creation order)", got, names)
	}
	all, next, err := s.ListStateMachines(ctx(), store.Page{Limit: 100})
	must(t, err)
	if len(all) != len(names) || next != "" {
		t.Fatalf("one page: %d items, next %q", len(all), next)
	}
}

func testExecutionCreateGet(t *testing.T, s store.Store) {
	must(t, s.CreateStateMachine(ctx(), machine("x")))
	x := exec("x", "e", 1)
	x.TraceHeader = "Root=1"
	must(t, s.CreateExecution(ctx(), x, nil, nil))
	got, err := s.GetExecution(ctx(), x.ARN)
	must(t, err)
	sameExecution(t, got, x)
	wantErr(t, s.CreateExecution(ctx(), exec("x", "e", 2), nil, nil), store.ErrAlreadyExists)
	_, err = s.GetExecution(ctx(), x.ARN+"nope")
	wantErr(t, err, store.ErrNotFound)
}

func testExecutionList(t *testing.T, s store.Store) {
	must(t, s.CreateStateMachine(ctx(), machine("l")))
	must(t, s.CreateStateMachine(ctx(), machine("other")))
	must(t, s.CreateExecution(ctx(), exec("other", "o", 0), nil, nil))
	// Executions in every status (a list without a status filter must
	// find each), newest first.
	var want []string
	byStatus := map[string][]string{}
	ends := map[int]string{0: store.StatusSucceeded, 1: store.StatusFailed, 3: store.StatusSucceeded, 4: store.StatusTimedOut,
		6: store.StatusSucceeded, 7: store.StatusAborted}
	for i := range 9 {
		x := exec("l", fmt.Sprintf("e%d", i), i)
		must(t, s.CreateExecution(ctx(), x, nil, nil))
		want = append([]string{x.Name}, want...)
		status := store.StatusRunning
		if end, ok := ends[i]; ok {
			status = end
			out := `{}`
			must(t, s.AppendHistory(ctx(), x.ARN, []history.Event{{ID: 1, Type: history.ExecutionSucceeded, Timestamp: t0}},
				&store.End{Status: end, StopDate: t0.Add(time.Minute), Output: &out}))
		}
		byStatus[status] = append([]string{x.Name}, byStatus[status]...)
	}
	list := func(status string, limit int) []string {
		return allPages(t, limit, 20, func(p store.Page) ([]*store.Execution, string, error) {
			return s.ListExecutions(ctx(), store.ExecutionFilter{StateMachineARN: smARN + "l", Status: status}, p)
		}, func(it *store.Execution) string {
			if it.StateMachineARN != smARN+"l" || (status != "" && it.Status != status) {
				t.Fatalf("listed %+v", it)
			}
			return it.Name
		})
	}
	for _, limit := range []int{1, 2, 4, 100} {
		if got := list("", limit); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("limit %d: %v, want %v (newest first)", limit, got, want)
		}
		for _, status := range []string{store.StatusRunning, store.StatusSucceeded, store.StatusFailed, store.StatusTimedOut, store.StatusAborted} {
			if got := list(status, limit); fmt.Sprint(got) != fmt.Sprint(byStatus[status]) {
				t.Fatalf("%s limit %d: %v, want %v", status, limit, got, byStatus[status])
			}
		}
	}
	items, _, err := s.ListExecutions(ctx(), store.ExecutionFilter{StateMachineARN: smARN + "none"}, store.Page{Limit: 10})
	must(t, err)
	if len(items) != 0 {
		t.Fatalf("listed %d for an unknown machine", len(items))
	}
}

func events(from, to int64) []history.Event {
	var out []history.Event
	for id := from; id <= to; id++ {
		out = append(out, history.Event{
			ID: id, PreviousEventID: id - 1, Type: history.PassStateEntered, Timestamp: t0.Add(time.Duration(id) * time.Millisecond),
			StateEnteredEventDetails: &history.StateEnteredEventDetails{Name: fmt.Sprint("S", id), Input: "{}", InputDetails: history.Data(false)},
		})
	}
	return out
}

func testHistoryAppend(t *testing.T, s store.Store) {
	must(t, s.CreateStateMachine(ctx(), machine("h")))
	x := exec("h", "e", 1)
	must(t, s.CreateExecution(ctx(), x, nil, nil))
	must(t, s.AppendHistory(ctx(), x.ARN, events(1, 3), nil))
	wantErr(t, s.AppendHistory(ctx(), x.ARN, events(5, 5), nil), store.ErrConflict)
	wantErr(t, s.AppendHistory(ctx(), x.ARN, events(3, 4), nil), store.ErrConflict)
	wantErr(t, s.AppendHistory(ctx(), x.ARN+"nope", events(1, 1), nil), store.ErrNotFound)
	must(t, s.AppendHistory(ctx(), x.ARN, nil, nil))
	got, err := s.GetExecution(ctx(), x.ARN)
	must(t, err)
	sameExecution(t, got, x)

	last := events(4, 4)
	last[0].Type = history.ExecutionFailed
	last[0].StateEnteredEventDetails = nil
	last[0].ExecutionFailedEventDetails = &history.ExecutionFailedEventDetails{Error: strp("E"), Cause: strp("C")}
	end := &store.End{Status: store.StatusFailed, StopDate: t0.Add(time.Hour), Error: strp("E"), Cause: strp("C")}
	must(t, s.AppendHistory(ctx(), x.ARN, last, end))
	wantErr(t, s.AppendHistory(ctx(), x.ARN, events(5, 5), nil), store.ErrConflict)

	want := *x
	want.Status, want.StopDate, want.Error, want.Cause = end.Status, end.StopDate, end.Error, end.Cause
	got, err = s.GetExecution(ctx(), x.ARN)
	must(t, err)
	sameExecution(t, got, &want)

	evs, next, err := s.History(ctx(), x.ARN, false, store.Page{Limit: 100})
	must(t, err)
	if next != "" || len(evs) != 4 {
		t.Fatalf("history: %d events, next %q", len(evs), next)
	}
	for i, e := range evs {
		if e.ID != int64(i+1) || !e.Timestamp.Equal(t0.Add(time.Duration(i+1)*time.Millisecond)) {
			t.Fatalf("event %d: %+v", i, e)
		}
	}
	if d := evs[0].StateEnteredEventDetails; d == nil || d.Name != "S1" || d.Input != "{}" {
		t.Fatalf("event 1 details %+v", d)
	}
	if d := evs[3].ExecutionFailedEventDetails; d == nil || *d.Error != "E" || *d.Cause != "C" {
		t.Fatalf("event 4 details %+v", d)
	}
	_, _, err = s.History(ctx(), x.ARN+"nope", false, store.Page{Limit: 1})
	wantErr(t, err, store.ErrNotFound)
}

// testCreateWithHistory: CreateExecution writes the first events, and the
// close, with the row; a refused create writes none of them.
func testCreateWithHistory(t *testing.T, s store.Store) {
	must(t, s.CreateStateMachine(ctx(), machine("c")))
	ids := func(arn string) []int64 {
		t.Helper()
		evs, _, err := s.History(ctx(), arn, false, store.Page{Limit: 100})
		must(t, err)
		var out []int64
		for _, e := range evs {
			out = append(out, e.ID)
		}
		return out
	}
	// Running, with its first events: appends continue after them.
	x := exec("c", "running", 1)
	must(t, s.CreateExecution(ctx(), x, events(1, 3), nil))
	wantErr(t, s.AppendHistory(ctx(), x.ARN, events(3, 3), nil), store.ErrConflict)
	must(t, s.AppendHistory(ctx(), x.ARN, events(4, 5), nil))
	if got := fmt.Sprint(ids(x.ARN)); got != "[1 2 3 4 5]" {
		t.Fatalf("history ids %s", got)
	}
	got, err := s.GetExecution(ctx(), x.ARN)
	must(t, err)
	sameExecution(t, got, x)

	// Closed at once: the whole history and the end in one write.
	y := exec("c", "closed", 2)
	evs := events(1, 2)
	evs = append(evs, history.Event{ID: 3, PreviousEventID: 2, Type: history.ExecutionSucceeded, Timestamp: t0,
		ExecutionSucceededEventDetails: &history.ExecutionSucceededEventDetails{Output: `{"ok":1}`}})
	out := `{"ok":1}`
	end := &store.End{Status: store.StatusSucceeded, StopDate: t0.Add(time.Second), Output: &out}
	must(t, s.CreateExecution(ctx(), y, evs, end))
	want := *y
	want.Status, want.StopDate, want.Output = end.Status, end.StopDate, end.Output
	got, err = s.GetExecution(ctx(), y.ARN)
	must(t, err)
	sameExecution(t, got, &want)
	if got := fmt.Sprint(ids(y.ARN)); got != "[1 2 3]" {
		t.Fatalf("history ids %s", got)
	}
	wantErr(t, s.AppendHistory(ctx(), y.ARN, events(4, 4), nil), store.ErrConflict)
	done, _, err := s.ListExecutions(ctx(), store.ExecutionFilter{StateMachineARN: smARN + "c", Status: store.StatusSucceeded}, store.Page{Limit: 10})
	must(t, err)
	if len(done) != 1 || done[0].ARN != y.ARN {
		t.Fatalf("SUCCEEDED executions %v", done)
	}
	running, err := s.ListRunning(ctx())
	must(t, err)
	for _, r := range running {
		if r.ARN == y.ARN {
			t.Fatal("an execution created closed is listed running")
		}
	}

	// Refused: an existing name (its history unchanged), ids that do not
	// start at 1, events for a row created closed.
	wantErr(t, s.CreateExecution(ctx(), exec("c", "running", 3), events(1, 1), nil), store.ErrAlreadyExists)
	if got := fmt.Sprint(ids(x.ARN)); got != "[1 2 3 4 5]" {
		t.Fatalf("history ids after a refused create %s", got)
	}
	bad := exec("c", "bad", 4)
	wantErr(t, s.CreateExecution(ctx(), bad, events(2, 3), nil), store.ErrConflict)
	closed := exec("c", "bad", 5)
	closed.Status = store.StatusSucceeded
	wantErr(t, s.CreateExecution(ctx(), closed, events(1, 1), nil), store.ErrConflict)
	_, err = s.GetExecution(ctx(), bad.ARN)
	wantErr(t, err, store.ErrNotFound)
}

func testHistoryPages(t *testing.T, s store.Store) {
	must(t, s.CreateStateMachine(ctx(), machine("p")))
	x := exec("p", "e", 1)
	must(t, s.CreateExecution(ctx(), x, nil, nil))
	const n = 23
	must(t, s.AppendHistory(ctx(), x.ARN, events(1, n), nil))
	for _, reverse := range []bool{false, true} {
		for _, limit := range []int{1, 5, 23, 1000} {
			ids := allPages(t, limit, n+1, func(p store.Page) ([]history.Event, string, error) { return s.History(ctx(), x.ARN, reverse, p) },
				func(e history.Event) int64 { return e.ID })
			if len(ids) != n {
				t.Fatalf("reverse=%v limit=%d: %d events", reverse, limit, len(ids))
			}
			for i, id := range ids {
				want := int64(i + 1)
				if reverse {
					want = n - int64(i)
				}
				if id != want {
					t.Fatalf("reverse=%v limit=%d: ids %v", reverse, limit, ids)
				}
			}
		}
	}
	// A forward token stays valid while the history grows.
	evs, tok, err := s.History(ctx(), x.ARN, false, store.Page{Limit: 20})
	must(t, err)
	if len(evs) != 20 || tok == "" {
		t.Fatalf("first page %d, token %q", len(evs), tok)
	}
	must(t, s.AppendHistory(ctx(), x.ARN, events(n+1, n+2), nil))
	evs, _, err = s.History(ctx(), x.ARN, false, store.Page{Limit: 100, Token: tok})
	must(t, err)
	if len(evs) != 5 || evs[0].ID != 21 {
		t.Fatalf("second page after growth: %d events from %d", len(evs), evs[0].ID)
	}
}

func testInvalidTokens(t *testing.T, s store.Store) {
	must(t, s.CreateStateMachine(ctx(), machine("t")))
	x := exec("t", "e", 1)
	must(t, s.CreateExecution(ctx(), x, nil, nil))
	must(t, s.AppendHistory(ctx(), x.ARN, events(1, 3), nil))
	for _, tok := range []string{"garbage", "x", "!!!", "\x00"} {
		_, _, err := s.ListStateMachines(ctx(), store.Page{Limit: 1, Token: tok})
		wantErr(t, err, store.ErrInvalidToken)
		_, _, err = s.ListExecutions(ctx(), store.ExecutionFilter{StateMachineARN: smARN + "t"}, store.Page{Limit: 1, Token: tok})
		wantErr(t, err, store.ErrInvalidToken)
		_, _, err = s.History(ctx(), x.ARN, false, store.Page{Limit: 1, Token: tok})
		wantErr(t, err, store.ErrInvalidToken)
	}
	// A history token is not a list token.
	_, htok, err := s.History(ctx(), x.ARN, false, store.Page{Limit: 1})
	must(t, err)
	_, _, err = s.ListStateMachines(ctx(), store.Page{Limit: 1, Token: htok})
	wantErr(t, err, store.ErrInvalidToken)
}

func testConcurrent(t *testing.T, s store.Store) {
	must(t, s.CreateStateMachine(ctx(), machine("c")))
	const workers, steps = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := exec("c", fmt.Sprint("e", w), w)
			if err := s.CreateExecution(ctx(), x, nil, nil); err != nil {
				errs <- err
				return
			}
			for i := int64(1); i <= steps; i++ {
				if err := s.AppendHistory(ctx(), x.ARN, events(i, i), nil); err != nil {
					errs <- err
					return
				}
				if _, _, err := s.History(ctx(), x.ARN, true, store.Page{Limit: 3}); err != nil {
					errs <- err
					return
				}
			}
			out := "{}"
			if err := s.AppendHistory(ctx(), x.ARN, nil, &store.End{Status: store.StatusSucceeded, StopDate: t0, Output: &out}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	items, _, err := s.ListExecutions(ctx(), store.ExecutionFilter{StateMachineARN: smARN + "c", Status: store.StatusSucceeded}, store.Page{Limit: 100})
	must(t, err)
	if len(items) != workers {
		t.Fatalf("%d succeeded executions, want %d", len(items), workers)
	}
	for _, it := range items {
		evs, _, err := s.History(ctx(), it.ARN, false, store.Page{Limit: 1000})
		must(t, err)
		if len(evs) != steps {
			t.Fatalf("%s: %d events", it.ARN, len(evs))
		}
	}
}
