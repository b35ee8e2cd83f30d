package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
)

// plainEvent encodes an event with every field, including the internal
// ones MarshalJSON leaves out.
type plainEvent history.Event

func eventText(e history.Event) string {
	b, err := json.Marshal(plainEvent(e))
	if err != nil {
		return "error: " + err.Error()
	}
	return fmt.Sprintf("%s|%s|%s", e.Timestamp.UTC().Format(time.RFC3339Nano), e.Thread, b)
}

func testHistoryThread(t *testing.T, s store.Store) {
	must(t, s.CreateStateMachine(ctx(), machine("th")))
	x := exec("th", "e", 1)
	must(t, s.CreateExecution(ctx(), x, nil, nil))
	ts := func(i int) time.Time { return t0.Add(time.Duration(i) * 1001 * time.Millisecond) }
	evs := []history.Event{
		{ID: 1, Type: history.ExecutionStarted, Timestamp: ts(1), ExecutionStartedEventDetails: &history.ExecutionStartedEventDetails{
			Input: `{"a":[1,2.5,"\\u00e9\\n"]}`, InputDetails: history.Data(false), RoleArn: "arn:aws:iam::1:role/r"}},
		{ID: 2, PreviousEventID: 1, Type: history.ParallelStateEntered, Timestamp: ts(2),
			StateEnteredEventDetails: &history.StateEnteredEventDetails{Name: "P", Input: "{}", InputDetails: history.Data(false)}},
		{ID: 3, PreviousEventID: 2, Type: history.PassStateEntered, Timestamp: ts(3), Thread: "b0",
			StateEnteredEventDetails: &history.StateEnteredEventDetails{Name: "A", Input: "{}", InputDetails: history.Data(false)}},
		{ID: 4, PreviousEventID: 2, Type: history.TaskScheduled, Timestamp: ts(4), Thread: "b1/m3",
			TaskScheduledEventDetails: &history.TaskScheduledEventDetails{ResourceType: "lambda", Resource: "invoke", Region: "us-east-1",
				Parameters: `{"FunctionName":"f"}`, TimeoutInSeconds: history.Int(30)}},
		{ID: 5, PreviousEventID: 4, Type: history.TaskFailed, Timestamp: ts(5), Thread: "b1/m3",
			TaskFailedEventDetails: &history.TaskFailedEventDetails{ResourceType: "lambda", Resource: "invoke", Error: strp("States.TaskFailed"), Cause: strp("ünïcode ✓")}},
	}
	// Appended in two writes: a step may hold several threads' events.
	must(t, s.AppendHistory(ctx(), x.ARN, evs[:2], nil))
	must(t, s.AppendHistory(ctx(), x.ARN, evs[2:], nil))
	for _, reverse := range []bool{false, true} {
		for _, limit := range []int{1, 2, 100} {
			var got []history.Event
			tok := ""
			for pages := 0; ; pages++ {
				if pages > 10 {
					t.Fatal("too many pages")
				}
				page, next, err := s.History(ctx(), x.ARN, reverse, store.Page{Limit: limit, Token: tok})
				must(t, err)
				got = append(got, page...)
				if next == "" {
					break
				}
				tok = next
			}
			if len(got) != len(evs) {
				t.Fatalf("reverse=%v limit=%d: %d events", reverse, limit, len(got))
			}
			for i := range got {
				want := evs[i]
				if reverse {
					want = evs[len(evs)-1-i]
				}
				if g, w := eventText(got[i]), eventText(want); g != w {
					t.Fatalf("reverse=%v limit=%d: event\\n%s\\nwant\\n%s", reverse, limit, g, w)
				}
			}
		}
	}
}

func testListRunning(t *testing.T, s store.Store) {
	must(t, s.CreateStateMachine(ctx(), machine("r1")))
	must(t, s.CreateStateMachine(ctx(), machine("r2")))
	running, err := s.ListRunning(ctx())
	must(t, err)
	if len(running) != 0 {
		t.Fatalf("empty store: %d running", len(running))
	}
	var want []*store.Execution
	for i := range 6 {
		sm := "r1"
		if i%2 == 1 {
			sm = "r2"
		}
		x := exec(sm, fmt.Sprint("e", i), i)
		x.TraceHeader = fmt.Sprint("t", i)
		must(t, s.CreateExecution(ctx(), x, nil, nil))
		must(t, s.AppendHistory(ctx(), x.ARN, events(1, 2), nil))
		if i == 1 || i == 4 {
			out := `{"done":true}`
			must(t, s.AppendHistory(ctx(), x.ARN, events(3, 3), &store.End{Status: store.StatusSucceeded, StopDate: t0.Add(time.Hour), Output: &out}))
			continue
		}
		want = append(want, x)
	}
	running, err = s.ListRunning(ctx())
	must(t, err)
	if len(running) != len(want) {
		t.Fatalf("%d running, want %d", len(running), len(want))
	}
	for i := range want {
		sameExecution(t, running[i], want[i])
	}
	// Records are copies.
	running[0].Status = store.StatusFailed
	again, err := s.ListRunning(ctx())
	must(t, err)
	sameExecution(t, again[0], want[0])
}

func testDeleteClosedBefore(t *testing.T, s store.Store) {
	must(t, s.CreateStateMachine(ctx(), machine("ret")))
	cut := t0.Add(24 * time.Hour)
	type item struct {
		x       *store.Execution
		stop    time.Duration // from cut; 0 leaves it running
		deleted bool
	}
	items := []item{
		{stop: -48 * time.Hour, deleted: true},
		{stop: 0},                                // running, started long ago
		{stop: -time.Millisecond, deleted: true}, // just before
		{stop: time.Millisecond},                 // just after
		{stop: 48 * time.Hour},                   // recent
		{stop: -time.Hour, deleted: true},        // failed
		{stop: -2 * time.Hour, deleted: true},    // closed without events
		{stop: time.Minute},                      // after
	}
	for i := range items {
		x := exec("ret", fmt.Sprint("e", i), i)
		must(t, s.CreateExecution(ctx(), x, nil, nil))
		items[i].x = x
		if items[i].stop == 0 {
			must(t, s.AppendHistory(ctx(), x.ARN, events(1, 2), nil))
			continue
		}
		end := &store.End{Status: store.StatusSucceeded, StopDate: cut.Add(items[i].stop), Output: strp("{}")}
		if i == 5 {
			end = &store.End{Status: store.StatusFailed, StopDate: cut.Add(items[i].stop), Error: strp("E")}
		}
		evs := events(1, 3)
		if i == 6 {
			evs = nil
		}
		must(t, s.AppendHistory(ctx(), x.ARN, evs, end))
	}
	n, err := s.DeleteClosedBefore(ctx(), cut)
	must(t, err)
	wantN := 0
	var wantList []string
	for i := len(items) - 1; i >= 0; i-- {
		it := items[i]
		_, gerr := s.GetExecution(ctx(), it.x.ARN)
		_, _, herr := s.History(ctx(), it.x.ARN, false, store.Page{Limit: 10})
		if it.deleted {
			wantN++
			wantErr(t, gerr, store.ErrNotFound)
			wantErr(t, herr, store.ErrNotFound)
			continue
		}
		wantList = append(wantList, it.x.Name)
		must(t, gerr)
		must(t, herr)
	}
	if n != wantN {
		t.Fatalf("deleted %d, want %d", n, wantN)
	}
	list, _, err := s.ListExecutions(ctx(), store.ExecutionFilter{StateMachineARN: smARN + "ret"}, store.Page{Limit: 100})
	must(t, err)
	var got []string
	for _, x := range list {
		got = append(got, x.Name)
	}
	if fmt.Sprint(got) != fmt.Sprint(wantList) {
		t.Fatalf("listed %v after retention, want %v", got, wantList)
	}
	// The running one keeps working; a second pass deletes nothing.
	must(t, s.AppendHistory(ctx(), items[1].x.ARN, events(3, 3), nil))
	n, err = s.DeleteClosedBefore(ctx(), cut)
	must(t, err)
	if n != 0 {
		t.Fatalf("second pass deleted %d", n)
	}
	// A deleted name can be used again.
	must(t, s.CreateExecution(ctx(), exec("ret", "e0", 100), nil, nil))
}

// RunDurable runs the tests of what the durable stores (SQLite,
// PostgreSQL) promise beyond the Store contract: a write whose context has
// ended before it is queued is not made and returns the context's error,
// and the store keeps serving. newStore must return an empty store each
// call.
func RunDurable(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	must(t, s.CreateStateMachine(ctx(), machine("cx")))
	x := exec("cx", "live", 1)
	must(t, s.CreateExecution(ctx(), x, nil, nil))
	ended, cancel := context.WithCancel(ctx())
	cancel()

	dropped := exec("cx", "dropped", 2)
	if err := s.CreateExecution(ended, dropped, nil, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("CreateExecution with an ended context: %v", err)
	}
	if _, err := s.GetExecution(ctx(), dropped.ARN); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the execution was created: %v", err)
	}
	ev := history.Event{ID: 1, Type: history.ExecutionStarted, Timestamp: t0,
		ExecutionStartedEventDetails: &history.ExecutionStartedEventDetails{Input: "{}", InputDetails: history.Data(false)}}
	if err := s.AppendHistory(ended, x.ARN, []history.Event{ev}, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("AppendHistory with an ended context: %v", err)
	}
	// Nothing was appended: event 1 is still next.
	must(t, s.AppendHistory(ctx(), x.ARN, []history.Event{ev}, nil))
	got, _, err := s.History(ctx(), x.ARN, false, store.Page{Limit: 10})
	must(t, err)
	if len(got) != 1 {
		t.Fatalf("history has %d events, want 1", len(got))
	}
}
