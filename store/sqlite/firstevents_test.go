package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
	"github.com/stepwell/stepwell/store/sqlite"
)

// fev is event id of a history in thread: every encoding of the codec in
// turn (ExecutionStarted, Pass entered and exited, a JSON-encoded task
// event, ExecutionSucceeded), with inputs that repeat and that differ.
func fev(id int64, thread string) history.Event {
	ts := time.Unix(1_700_000_000, id*1_000_003).UTC()
	e := history.Event{ID: id, PreviousEventID: id - 1, Timestamp: ts, Thread: thread}
	data := fmt.Sprintf(`{"n":%d}`, id/3)
	switch {
	case id == 1:
		e.Type, e.ExecutionStartedEventDetails = history.ExecutionStarted,
			&history.ExecutionStartedEventDetails{Input: data, InputDetails: history.Data(false), RoleArn: "arn:role"}
	case id%4 == 1:
		e.Type, e.StateEnteredEventDetails = history.PassStateEntered,
			&history.StateEnteredEventDetails{Name: fmt.Sprint("S", id), Input: data, InputDetails: history.Data(false)}
	case id%4 == 2:
		e.Type, e.StateExitedEventDetails = history.PassStateExited,
			&history.StateExitedEventDetails{Name: fmt.Sprint("S", id), Output: data, OutputDetails: history.Data(true)}
	case id%4 == 3:
		e.Type, e.TaskScheduledEventDetails = history.TaskScheduled,
			&history.TaskScheduledEventDetails{ResourceType: "lambda", Resource: "invoke", Region: "us-east-1", Parameters: data}
	default:
		e.Type, e.ExecutionSucceededEventDetails = history.ExecutionSucceeded,
			&history.ExecutionSucceededEventDetails{Output: data, OutputDetails: history.Data(false)}
	}
	return e
}

// fevs are the events from..to (none when to < from) in thread.
func fevs(from, to int64, thread string) []history.Event {
	var out []history.Event
	for id := from; id <= to; id++ {
		out = append(out, fev(id, thread))
	}
	return out
}

// checkHistory reads the whole history of arn in pages of every size,
// forward and backward, and compares it with want, page tokens included:
// a forward token is refused backward and the other way round.
func checkHistory(t *testing.T, s *sqlite.Store, arn string, want []history.Event) {
	t.Helper()
	ctx := context.Background()
	for _, reverse := range []bool{false, true} {
		for _, limit := range []int{1, 2, 3, 4, 5, 7, 1000} {
			var got []history.Event
			tok := ""
			for pages := 0; ; pages++ {
				if pages > len(want)+1 {
					t.Fatalf("%s reverse=%v limit %d: too many pages", arn, reverse, limit)
				}
				page, next, err := s.History(ctx, arn, reverse, store.Page{Limit: limit, Token: tok})
				if err != nil {
					t.Fatalf("%s reverse=%v limit %d token %q: %v", arn, reverse, limit, tok, err)
				}
				if len(page) > limit || (next != "" && len(page) != limit) {
					t.Fatalf("%s reverse=%v limit %d: page of %d, next %q", arn, reverse, limit, len(page), next)
				}
				got = append(got, page...)
				if next == "" {
					break
				}
				if _, _, err := s.History(ctx, arn, !reverse, store.Page{Limit: limit, Token: next}); !errors.Is(err, store.ErrInvalidToken) {
					t.Fatalf("%s reverse=%v: token %q read the other way: %v", arn, reverse, next, err)
				}
				tok = next
			}
			w := want
			if reverse {
				w = make([]history.Event, len(want))
				for i := range want {
					w[i] = want[len(want)-1-i]
				}
			}
			if len(got) != len(w) || (len(w) > 0 && !reflect.DeepEqual(got, w)) {
				t.Fatalf("%s reverse=%v limit %d:\n got %+v\nwant %+v", arn, reverse, limit, got, w)
			}
		}
	}
}

// checkRunningLast checks that ListRunningLast lists exactly the running
// executions of want, each with its last event (nil for none).
func checkRunningLast(t *testing.T, s *sqlite.Store, want map[string][]history.Event, running map[string]bool) {
	t.Helper()
	got := map[string]*history.Event{}
	tok := ""
	for {
		page, next, err := s.ListRunningLast(context.Background(), store.Page{Limit: 2, Token: tok})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page {
			got[r.Execution.ARN] = r.Last
		}
		if next == "" {
			break
		}
		tok = next
	}
	n := 0
	for arn, evs := range want {
		if !running[arn] {
			if _, ok := got[arn]; ok {
				t.Errorf("%s listed running", arn)
			}
			continue
		}
		n++
		last, ok := got[arn]
		switch {
		case !ok:
			t.Errorf("%s not listed running", arn)
		case len(evs) == 0 && last != nil:
			t.Errorf("%s: last event %+v, want none", arn, last)
		case len(evs) > 0 && (last == nil || !reflect.DeepEqual(*last, evs[len(evs)-1])):
			w := evs[len(evs)-1]
			if last == nil {
				t.Errorf("%s: no last event, want %d %s", arn, w.ID, w.Type)
			} else {
				t.Errorf("%s: last event %d %s (%+v), want %d %s", arn, last.ID, last.Type, *last, w.ID, w.Type)
			}
		}
	}
	if len(got) != n {
		t.Errorf("%d running listed, want %d", len(got), n)
	}
}

// TestFirstEvents checks the histories whose first events are kept in
// the execution's row (schema version 7) with the rows appended after
// them: read in pages of any size across the boundary both ways, their
// last event listed, appended to after a restart (the writer then finds
// the last id in the row), redriven and deleted.
func TestFirstEvents(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	s := open(t, path)
	defer func() { s.Close() }()
	type exe struct {
		name    string
		first   []history.Event   // given to CreateExecution
		appends [][]history.Event // then appended
		closed  bool              // created closed
	}
	exes := []exe{
		{name: "mixed", first: fevs(1, 5, ""), appends: [][]history.Event{fevs(6, 8, ""), fevs(9, 9, "b1"), fevs(10, 13, "m0/b2")}},
		{name: "row-only", first: fevs(1, 4, "")},
		{name: "one-event", first: fevs(1, 1, ""), appends: [][]history.Event{fevs(2, 3, "")}},
		{name: "threads", first: append(fevs(1, 2, ""), fevs(3, 4, "b0")...), appends: [][]history.Event{fevs(5, 6, "")}},
		{name: "comma-thread", first: append(fevs(1, 2, ""), fevs(3, 3, "a,b")...), appends: [][]history.Event{fevs(4, 5, "a,b")}},
		{name: "no-events", appends: [][]history.Event{fevs(1, 3, ""), fevs(4, 6, "")}},
		{name: "empty"},
		{name: "closed", first: fevs(1, 7, ""), closed: true},
	}
	want := map[string][]history.Event{}
	running := map[string]bool{}
	arn := func(name string) string { return "arn:aws:states:us-east-1:1:execution:sm:" + name }
	for i, e := range exes {
		x := &store.Execution{ARN: arn(e.name), Name: e.name, StateMachineARN: "arn:sm", Type: "STANDARD",
			Status: store.StatusRunning, Input: "{}", StartDate: time.Unix(int64(i+1), 0)}
		var end *store.End
		if e.closed {
			end = &store.End{Status: store.StatusSucceeded, StopDate: time.Unix(100, 0)}
		} else {
			running[x.ARN] = true
		}
		if err := s.CreateExecution(ctx, x, e.first, end); err != nil {
			t.Fatal(e.name, err)
		}
		want[x.ARN] = append(want[x.ARN], e.first...)
		for _, evs := range e.appends {
			if err := s.AppendHistory(ctx, x.ARN, evs, nil); err != nil {
				t.Fatal(e.name, err)
			}
			want[x.ARN] = append(want[x.ARN], evs...)
		}
	}
	check := func(stage string) {
		t.Helper()
		for a, evs := range want {
			checkHistory(t, s, a, evs)
		}
		checkRunningLast(t, s, want, running)
		if t.Failed() {
			t.Fatalf("%s: failed", stage)
		}
	}
	check("written")

	// The first events are in the rows: history holds only the appended.
	var rows int
	db, err := sql.Open("sqlite", path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow(`SELECT count(*) FROM history`).Scan(&rows); err != nil || rows != 8 {
		t.Fatalf("%d history rows (%v), want the 8 appended", rows, err)
	}

	// After a restart the writer knows none of them: it finds each one's
	// last event id, in the row or in history.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path)
	check("reopened")
	for _, e := range exes {
		a, evs := arn(e.name), want[arn(e.name)]
		next := int64(len(evs)) + 1
		if e.closed {
			if err := s.AppendHistory(ctx, a, fevs(next, next, ""), nil); !errors.Is(err, store.ErrConflict) {
				t.Fatalf("%s: append to a closed execution: %v", e.name, err)
			}
			continue
		}
		if next > 1 {
			if err := s.AppendHistory(ctx, a, fevs(next-1, next-1, ""), nil); !errors.Is(err, store.ErrConflict) {
				t.Fatalf("%s: append of id %d again: %v", e.name, next-1, err)
			}
		}
		if err := s.AppendHistory(ctx, a, fevs(next, next+1, ""), nil); err != nil {
			t.Fatalf("%s: append after restart: %v", e.name, err)
		}
		want[a] = append(want[a], fevs(next, next+1, "")...)
	}
	check("appended after restart")

	// Redrive of the execution created closed, after a restart: its
	// events continue after those of its row.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path)
	closed := arn("closed")
	if err := s.ReopenExecution(ctx, closed, fevs(7, 8, "")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("reopen with id 7 again: %v", err)
	}
	if err := s.ReopenExecution(ctx, closed, fevs(8, 9, "")); err != nil {
		t.Fatal(err)
	}
	want[closed], running[closed] = append(want[closed], fevs(8, 9, "")...), true
	if err := s.AppendHistory(ctx, closed, fevs(10, 10, ""), &store.End{Status: store.StatusFailed, StopDate: time.Unix(200, 0)}); err != nil {
		t.Fatal(err)
	}
	want[closed], running[closed] = append(want[closed], fevs(10, 10, "")...), false
	check("redriven")

	// Retention deletes the row and the appended history.
	if n, err := s.DeleteClosedBefore(ctx, time.Unix(300, 0)); err != nil || n != 1 {
		t.Fatalf("deleted %d (%v), want 1", n, err)
	}
	if _, _, err := s.History(ctx, closed, false, store.Page{Limit: 10}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("history of a deleted execution: %v", err)
	}
	delete(want, closed)
	if err := db.QueryRow(`SELECT count(*) FROM history h WHERE NOT EXISTS (SELECT 1 FROM executions e WHERE e.seq = h.execution)`).Scan(&rows); err != nil || rows != 0 {
		t.Fatalf("%d history rows left without their execution (%v)", rows, err)
	}
	check("deleted")
}

// TestMigrate_FirstEvents opens a database of schema version 6, whose
// histories were all in history rows (none in the executions' rows), and
// reads, appends to, redrives and deletes its executions as before;
// executions created after the upgrade keep their first events in their
// rows beside them.
func TestMigrate_FirstEvents(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	if err := sqlite.CreateAtVersion(ctx, path, 6); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO machine_keys (arn) VALUES ('arn:sm')`); err != nil {
		t.Fatal(err)
	}
	want := map[string][]history.Event{}
	running := map[string]bool{}
	// As version 6 wrote them: the rows of each history, as appended.
	old := []struct {
		arn    string
		status string
		rows   [][]history.Event
	}{
		{"arn:old:running", store.StatusRunning, [][]history.Event{fevs(1, 3, ""), fevs(4, 4, "b0"), fevs(5, 8, "")}},
		{"arn:old:empty", store.StatusRunning, nil},
		{"arn:old:closed", store.StatusSucceeded, [][]history.Event{fevs(1, 5, "")}},
	}
	for i, x := range old {
		stop := 0
		if x.status != store.StatusRunning {
			stop = 100e9
		} else {
			running[x.arn] = true
		}
		res, err := db.Exec(`INSERT INTO executions (arn, name, machine_arn, machine_name, revision_id, type, status, input,
			trace_header, start_ns, stop_ns, machine_key) VALUES (?, ?, 'arn:sm', 'sm', 'r1', 'STANDARD', ?, '{}', '', ?, ?, 1)`,
			x.arn, x.arn, x.status, i+1, stop)
		if err != nil {
			t.Fatal(err)
		}
		seq, _ := res.LastInsertId()
		want[x.arn] = nil
		for _, evs := range x.rows {
			blob, threads, err := sqlite.EncodeEvents(evs)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(`INSERT INTO history (execution, last_id, first_id, events, threads) VALUES (?, ?, ?, ?, ?)`,
				seq, evs[len(evs)-1].ID, evs[0].ID, blob, threads); err != nil {
				t.Fatal(err)
			}
			want[x.arn] = append(want[x.arn], evs...)
		}
	}
	db.Close()

	s := open(t, path)
	defer func() { s.Close() }()
	check := func(stage string) {
		t.Helper()
		for a, evs := range want {
			checkHistory(t, s, a, evs)
		}
		checkRunningLast(t, s, want, running)
		if t.Failed() {
			t.Fatalf("%s: failed", stage)
		}
	}
	check("upgraded")

	// Written after the upgrade: appends to the old executions, a redrive,
	// a new execution with its first events in its row.
	for _, a := range []string{"arn:old:running", "arn:old:empty"} {
		next := int64(len(want[a])) + 1
		if err := s.AppendHistory(ctx, a, fevs(next, next+2, ""), nil); err != nil {
			t.Fatal(a, err)
		}
		want[a] = append(want[a], fevs(next, next+2, "")...)
	}
	if err := s.ReopenExecution(ctx, "arn:old:closed", fevs(6, 7, "")); err != nil {
		t.Fatal(err)
	}
	want["arn:old:closed"], running["arn:old:closed"] = append(want["arn:old:closed"], fevs(6, 7, "")...), true
	x := &store.Execution{ARN: "arn:new", Name: "new", StateMachineARN: "arn:sm", Type: "STANDARD", Status: store.StatusRunning,
		Input: "{}", StartDate: time.Unix(9, 0)}
	if err := s.CreateExecution(ctx, x, fevs(1, 4, ""), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendHistory(ctx, x.ARN, fevs(5, 6, ""), nil); err != nil {
		t.Fatal(err)
	}
	want[x.ARN], running[x.ARN] = fevs(1, 6, ""), true
	check("written after the upgrade")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path)
	check("reopened")

	// Retention deletes old and new rows alike.
	for _, a := range []string{"arn:old:closed", x.ARN} {
		next := int64(len(want[a])) + 1
		if err := s.AppendHistory(ctx, a, fevs(next, next, ""), &store.End{Status: store.StatusAborted, StopDate: time.Unix(200, 0)}); err != nil {
			t.Fatal(a, err)
		}
	}
	if n, err := s.DeleteClosedBefore(ctx, time.Unix(300, 0)); err != nil || n != 2 {
		t.Fatalf("deleted %d (%v), want 2", n, err)
	}
	delete(want, "arn:old:closed")
	delete(want, x.ARN)
	check("deleted")
}
