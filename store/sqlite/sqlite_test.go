package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
	"github.com/stepwell/stepwell/store/sqlite"
	"github.com/stepwell/stepwell/store/storetest"
)

func open(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, newStore)
}

func TestDurable(t *testing.T) {
	storetest.RunDurable(t, newStore)
}

func newStore(t *testing.T) store.Store {
	s := open(t, filepath.Join(t.TempDir(), "db", sqlite.DefaultFile))
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func TestReopen_KeepsEverything(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	s := open(t, path)
	sm := &store.StateMachine{ARN: "arn:sm", Name: "m", Type: "STANDARD", CreationDate: time.Unix(1, 0),
		Revision: store.Revision{RevisionID: "r1", Definition: "{}", RoleARN: "role"}}
	if err := s.CreateStateMachine(ctx, sm); err != nil {
		t.Fatal(err)
	}
	x := &store.Execution{ARN: "arn:x", Name: "x", StateMachineARN: "arn:sm", RevisionID: "r1", Type: "STANDARD",
		Status: store.StatusRunning, Input: "{}", StartDate: time.Unix(2, 5)}
	if err := s.CreateExecution(ctx, x, nil, nil); err != nil {
		t.Fatal(err)
	}
	ev := history.Event{ID: 1, Type: history.ExecutionStarted, Timestamp: time.Unix(3, 7), Thread: "m1/b2",
		ExecutionStartedEventDetails: &history.ExecutionStartedEventDetails{Input: "{}"}}
	if err := s.AppendHistory(ctx, x.ARN, []history.Event{ev}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendHistory(ctx, x.ARN, nil, nil); err == nil {
		t.Fatal("write after Close succeeded")
	}

	s = open(t, path)
	defer s.Close()
	running, err := s.ListRunning(ctx)
	if err != nil || len(running) != 1 || running[0].ARN != x.ARN || !running[0].StartDate.Equal(x.StartDate) {
		t.Fatalf("running %+v, %v", running, err)
	}
	evs, _, err := s.History(ctx, x.ARN, false, store.Page{Limit: 10})
	if err != nil || len(evs) != 1 || evs[0].Thread != "m1/b2" || !evs[0].Timestamp.Equal(ev.Timestamp) {
		t.Fatalf("history %+v, %v", evs, err)
	}
	// Appending continues after the last durable id.
	if err := s.AppendHistory(ctx, x.ARN, []history.Event{{ID: 1, Type: history.PassStateEntered}}, nil); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate id after reopen: %v", err)
	}
	if err := s.AppendHistory(ctx, x.ARN, []history.Event{{ID: 2, PreviousEventID: 1, Type: history.ExecutionSucceeded,
		ExecutionSucceededEventDetails: &history.ExecutionSucceededEventDetails{Output: "{}"}}},
		&store.End{Status: store.StatusSucceeded, StopDate: time.Unix(4, 0), Output: strp("{}")}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetStateMachine(ctx, "arn:sm")
	if err != nil || got.Definition != "{}" {
		t.Fatalf("machine %+v, %v", got, err)
	}
}

func strp(s string) *string { return &s }

func TestOpen_NewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s := open(t, path)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	newer := sqlite.SchemaVersion() + 1
	if _, err := db.Exec(`INSERT INTO schema_version (version) VALUES (?)`, newer); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = sqlite.Open(context.Background(), path)
	want := fmt.Sprintf("store schema version %d is newer than this stepwell (%d); upgrade stepwell", newer, sqlite.SchemaVersion())
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want %q", err, want)
	}
}

func TestOpen_InUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s := open(t, path)
	if _, err := sqlite.Open(context.Background(), path); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second open: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path) // released by Close
	s.Close()
}

func TestOpen_BadPaths(t *testing.T) {
	for _, p := range []string{"", "a?b.db", "x#y.db"} {
		if s, err := sqlite.Open(context.Background(), p); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

// TestGroupCommit checks that concurrent writers share commits and all
// get their own answers.
func TestGroupCommit(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "s.db"))
	defer s.Close()
	const n = 200
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := &store.Execution{ARN: fmt.Sprint("arn:x:", i%(n/2)), StateMachineARN: "arn:sm", Status: store.StatusRunning}
			errs[i] = s.CreateExecution(ctx, x, nil, nil)
		}()
	}
	wg.Wait()
	exists := 0
	for _, err := range errs {
		switch {
		case errors.Is(err, store.ErrAlreadyExists):
			exists++
		case err != nil:
			t.Fatal(err)
		}
	}
	if exists != n/2 {
		t.Fatalf("%d ErrAlreadyExists, want %d", exists, n/2)
	}
	if st := s.Stats(); st.Writes != n || st.Commits >= n {
		t.Fatalf("stats %+v: writes should share commits", st)
	}
}

func TestActivities(t *testing.T) {
	storetest.RunActivities(t, func(t *testing.T) store.ActivityStore {
		s := open(t, filepath.Join(t.TempDir(), "a.db"))
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestVersions(t *testing.T) {
	storetest.RunVersions(t, func(t *testing.T) store.Versions {
		s := open(t, filepath.Join(t.TempDir(), "v.db"))
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestMigrate_FromOlder opens a database at schema version 1: the newer
// migrations are applied, and history rows written before read back.
func TestMigrate_FromOlder(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	s := open(t, path)
	x := &store.Execution{ARN: "arn:x", StateMachineARN: "arn:sm", Status: store.StatusRunning}
	if err := s.CreateExecution(ctx, x, nil, nil); err != nil {
		t.Fatal(err)
	}
	// A thread with a comma is kept inside the events (codec version 1,
	// the only one schema version 1 knew).
	evs := []history.Event{{ID: 1, Type: history.ExecutionStarted, Thread: "a,b", Timestamp: time.Unix(1, 0)},
		{ID: 2, PreviousEventID: 1, Type: history.PassStateEntered, Timestamp: time.Unix(2, 0),
			StateEnteredEventDetails: &history.StateEnteredEventDetails{Name: "P"}}}
	if err := s.AppendHistory(ctx, x.ARN, evs, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DROP TABLE activities; DROP TABLE versions; DROP TABLE version_counters; DROP TABLE aliases;
		DROP TABLE tags; DROP TABLE map_runs; DROP TABLE execution_meta; DROP TABLE secrets; ALTER TABLE history DROP COLUMN threads;
		DROP INDEX executions_by_status; ALTER TABLE executions DROP COLUMN machine_key;
		DROP TABLE machine_keys; ALTER TABLE executions DROP COLUMN first_events; ALTER TABLE executions DROP COLUMN first_last;
		ALTER TABLE executions DROP COLUMN first_threads; CREATE INDEX executions_by_machine ON executions (machine_arn, seq);
		CREATE INDEX executions_by_status ON executions (machine_arn, status, seq);
		DELETE FROM schema_version WHERE version > 1`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s = open(t, path)
	defer s.Close()
	if err := s.CreateActivity(ctx, &store.Activity{ARN: "arn:a", Name: "a"}); err != nil {
		t.Fatal(err)
	}
	if list, _, err := s.ListExecutions(ctx, store.ExecutionFilter{StateMachineARN: "arn:sm"}, store.Page{Limit: 10}); err != nil ||
		len(list) != 1 || list[0].ARN != x.ARN {
		t.Fatalf("executions after migration %+v, %v", list, err)
	}
	got, _, err := s.History(ctx, x.ARN, false, store.Page{Limit: 10})
	if err != nil || len(got) != 2 || got[0].Thread != "a,b" || got[1].Thread != "" || got[1].StateEnteredEventDetails.Name != "P" {
		t.Fatalf("history after migration %+v, %v", got, err)
	}
	db, err = sql.Open("sqlite", path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int
	if err := db.QueryRow(`SELECT max(version) FROM schema_version`).Scan(&v); err != nil || v != sqlite.SchemaVersion() || v < 4 {
		t.Fatalf("version %d (%v), want %d", v, err, sqlite.SchemaVersion())
	}
}

func TestReopenExecution(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "s.db"))
	defer s.Close()
	x := &store.Execution{ARN: "arn:x", StateMachineARN: "arn:sm", Status: store.StatusRunning, StartDate: time.Unix(1, 0)}
	if err := s.CreateExecution(ctx, x, nil, nil); err != nil {
		t.Fatal(err)
	}
	ev := func(id int64, typ history.EventType) []history.Event {
		return []history.Event{{ID: id, PreviousEventID: id - 1, Type: typ, Timestamp: time.Unix(id, 0)}}
	}
	if err := s.ReopenExecution(ctx, x.ARN, ev(1, history.ExecutionRedriven)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("reopen running: %v", err)
	}
	if err := s.ReopenExecution(ctx, "arn:nope", nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("reopen missing: %v", err)
	}
	if err := s.AppendHistory(ctx, x.ARN, ev(1, history.ExecutionFailed), &store.End{Status: store.StatusFailed, StopDate: time.Unix(9, 0), Error: strp("E")}); err != nil {
		t.Fatal(err)
	}
	if err := s.ReopenExecution(ctx, x.ARN, ev(3, history.ExecutionRedriven)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("reopen with a gap: %v", err)
	}
	if err := s.ReopenExecution(ctx, x.ARN, ev(2, history.ExecutionRedriven)); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetExecution(ctx, x.ARN)
	if err != nil || got.Status != store.StatusRunning || !got.StopDate.IsZero() || got.Error != nil {
		t.Fatalf("reopened %+v, %v", got, err)
	}
	if err := s.AppendHistory(ctx, x.ARN, ev(3, history.PassStateEntered), nil); err != nil {
		t.Fatal(err)
	}
	evs, _, err := s.History(ctx, x.ARN, false, store.Page{Limit: 10})
	if err != nil || len(evs) != 3 || evs[1].Type != history.ExecutionRedriven {
		t.Fatalf("history %+v, %v", evs, err)
	}
}

// TestThreadsColumn checks that the events' threads have a column of
// their own.
func TestThreadsColumn(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	s := open(t, path)
	defer s.Close()
	x := &store.Execution{ARN: "arn:x", StateMachineARN: "arn:sm", Status: store.StatusRunning}
	if err := s.CreateExecution(ctx, x, nil, nil); err != nil {
		t.Fatal(err)
	}
	step := func(id int64, threads ...string) []history.Event {
		var evs []history.Event
		for i, th := range threads {
			evs = append(evs, history.Event{ID: id + int64(i), Type: history.PassStateEntered, Thread: th,
				StateEnteredEventDetails: &history.StateEnteredEventDetails{Name: "P"}})
		}
		return evs
	}
	for _, evs := range [][]history.Event{step(1, "", ""), step(3, "b0", "m1/b2", "")} {
		if err := s.AppendHistory(ctx, x.ARN, evs, nil); err != nil {
			t.Fatal(err)
		}
	}
	db, err := sql.Open("sqlite", path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT threads FROM history ORDER BY last_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var th string
		if err := rows.Scan(&th); err != nil {
			t.Fatal(err)
		}
		got = append(got, th)
	}
	if fmt.Sprintf("%q", got) != `["" "b0,m1/b2,"]` {
		t.Fatalf("threads column %q", got)
	}
}
