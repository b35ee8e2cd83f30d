package storetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
)

// testListRunningLast: the running executions in creation order, each
// with the last event of its history exactly as History returns it (any
// thread, whatever write it came in), nil for an empty history; closed
// executions are left out; pages of any size see each once.
func testListRunningLast(t *testing.T, s store.Store) {
	must(t, s.CreateStateMachine(ctx(), machine("rl")))
	page, next, err := s.ListRunningLast(ctx(), store.Page{Limit: 10})
	must(t, err)
	if len(page) != 0 || next != "" {
		t.Fatalf("empty store: %d running, next %q", len(page), next)
	}
	wait := func(id int64, thread string) history.Event {
		return history.Event{ID: id, PreviousEventID: id - 1, Type: history.WaitStateEntered, Thread: thread,
			Timestamp:                t0.Add(time.Duration(id) * 1001 * time.Millisecond),
			StateEnteredEventDetails: &history.StateEnteredEventDetails{Name: "W", Input: `{"n":1}`, InputDetails: history.Data(false)}}
	}
	var want []*store.Execution
	wantLast := map[string]*history.Event{}
	for i := range 7 {
		x := exec("rl", fmt.Sprint("e", i), i)
		must(t, s.CreateExecution(ctx(), x, nil, nil))
		var last *history.Event
		switch i % 4 {
		case 0: // no history
		case 1: // one write
			evs := events(1, 3)
			must(t, s.AppendHistory(ctx(), x.ARN, evs, nil))
			last = &evs[2]
		case 2: // the last event alone in a second write, in a branch
			must(t, s.AppendHistory(ctx(), x.ARN, events(1, 2), nil))
			ev := wait(3, "b1")
			must(t, s.AppendHistory(ctx(), x.ARN, []history.Event{ev}, nil))
			last = &ev
		case 3: // closed
			must(t, s.AppendHistory(ctx(), x.ARN, events(1, 1), &store.End{Status: store.StatusAborted, StopDate: t0.Add(time.Hour)}))
			continue
		}
		if i == 5 { // top-level wait after two writes
			ev := wait(4, "")
			must(t, s.AppendHistory(ctx(), x.ARN, []history.Event{ev}, nil))
			last = &ev
		}
		want = append(want, x)
		wantLast[x.ARN] = last
	}
	for _, limit := range []int{1, 2, 100} {
		var got []store.RunningLast
		tok := ""
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("too many pages")
			}
			page, next, err := s.ListRunningLast(ctx(), store.Page{Limit: limit, Token: tok})
			must(t, err)
			if len(page) > limit {
				t.Fatalf("limit %d: page of %d", limit, len(page))
			}
			got = append(got, page...)
			if next == "" {
				break
			}
			tok = next
		}
		if len(got) != len(want) {
			t.Fatalf("limit %d: %d running, want %d", limit, len(got), len(want))
		}
		for i, r := range got {
			sameExecution(t, r.Execution, want[i])
			w := wantLast[want[i].ARN]
			if (r.Last == nil) != (w == nil) || (w != nil && !reflect.DeepEqual(*r.Last, *w)) {
				t.Fatalf("limit %d: last event of %s: %+v, want %+v", limit, want[i].Name, r.Last, w)
			}
			if w != nil {
				h, _, err := s.History(ctx(), want[i].ARN, true, store.Page{Limit: 1})
				must(t, err)
				if !reflect.DeepEqual(h[0], *r.Last) {
					t.Fatalf("last event of %s: %+v, History's %+v", want[i].Name, r.Last, h[0])
				}
			}
		}
	}
	_, _, err = s.ListRunningLast(ctx(), store.Page{Limit: 1, Token: "x.1"})
	wantErr(t, err, store.ErrInvalidToken)
}
