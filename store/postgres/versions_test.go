package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
	"github.com/stepwell/stepwell/store/postgres"
	"github.com/stepwell/stepwell/store/storetest"
)

func TestVersions(t *testing.T) {
	storetest.RunVersions(t, func(t *testing.T) store.Versions { return open(t, freshSchema(t)) })
}

func strp(s string) *string { return &s }

// RedriveExecution's write: a closed execution runs again, with its
// history continued.
func TestReopenExecution(t *testing.T) {
	ctx := context.Background()
	s := open(t, freshSchema(t))
	x := newExec(t, s, "redrive")
	ev := func(id int64, typ history.EventType, thread string) []history.Event {
		return []history.Event{{ID: id, PreviousEventID: id - 1, Type: typ, Thread: thread, Timestamp: time.Unix(id, 0).UTC()}}
	}
	if err := s.ReopenExecution(ctx, x.ARN, ev(1, history.ExecutionRedriven, "")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("reopen running: %v", err)
	}
	if err := s.ReopenExecution(ctx, "arn:nope", nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("reopen missing: %v", err)
	}
	if err := s.AppendHistory(ctx, x.ARN, ev(1, history.ExecutionFailed, ""),
		&store.End{Status: store.StatusFailed, StopDate: time.Unix(9, 0), Error: strp("E"), Cause: strp("C")}); err != nil {
		t.Fatal(err)
	}
	if err := s.ReopenExecution(ctx, x.ARN, ev(3, history.ExecutionRedriven, "")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("reopen with a gap: %v", err)
	}
	if err := s.ReopenExecution(ctx, x.ARN, append(ev(2, history.ExecutionRedriven, ""), ev(4, history.PassStateEntered, "")...)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("reopen with non-consecutive events: %v", err)
	}
	if err := s.ReopenExecution(ctx, x.ARN, ev(2, history.ExecutionRedriven, "")); err != nil {
		t.Fatal(err)
	}
	if err := s.ReopenExecution(ctx, x.ARN, ev(3, history.ExecutionRedriven, "")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("reopen a reopened execution: %v", err)
	}
	got, err := s.GetExecution(ctx, x.ARN)
	if err != nil || got.Status != store.StatusRunning || !got.StopDate.IsZero() || got.Error != nil || got.Cause != nil || got.Output != nil {
		t.Fatalf("reopened %+v, %v", got, err)
	}
	running, err := s.ListRunning(ctx)
	if err != nil || len(running) != 1 || running[0].ARN != x.ARN {
		t.Fatalf("running after reopen: %v, %v", running, err)
	}
	var owner string
	if err := s.QueryRowForTest(ctx, `SELECT owner FROM executions WHERE arn = $1`, x.ARN).Scan(&owner); err != nil || owner != s.Owner() {
		t.Fatalf("owner %q (%v), want %q", owner, err, s.Owner())
	}
	if err := s.AppendHistory(ctx, x.ARN, ev(3, history.PassStateEntered, "m1"), nil); err != nil {
		t.Fatal(err)
	}
	out := "{}"
	if err := s.AppendHistory(ctx, x.ARN, ev(4, history.ExecutionSucceeded, ""), &store.End{Status: store.StatusSucceeded, StopDate: time.Unix(20, 0), Output: &out}); err != nil {
		t.Fatal(err)
	}
	evs, _, err := s.History(ctx, x.ARN, false, store.Page{Limit: 10})
	if err != nil || len(evs) != 4 || evs[1].Type != history.ExecutionRedriven || evs[2].Thread != "m1" || !evs[1].Timestamp.Equal(time.Unix(2, 0)) {
		t.Fatalf("history %+v, %v", evs, err)
	}
	// A second redrive, without events.
	if err := s.ReopenExecution(ctx, x.ARN, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetExecution(ctx, x.ARN); err != nil || got.Status != store.StatusRunning || got.Output != nil {
		t.Fatalf("reopened again %+v, %v", got, err)
	}
}

// Retention takes an execution's Map Runs and metadata with it.
func TestRetentionDeletesExecutionRecords(t *testing.T) {
	ctx := context.Background()
	s := open(t, freshSchema(t))
	old, keep := newExec(t, s, "old"), newExec(t, s, "keep")
	for _, x := range []*store.Execution{old, keep} {
		if err := s.PutMapRun(ctx, &store.MapRun{ARN: x.ARN + "/map", ExecutionARN: x.ARN, Status: "SUCCEEDED"}); err != nil {
			t.Fatal(err)
		}
		if err := s.PutExecutionMeta(ctx, x.ARN, store.ExecutionMeta{RedriveCount: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AppendHistory(ctx, old.ARN, []history.Event{event(1)}, &store.End{Status: store.StatusSucceeded, StopDate: time.Unix(100, 0), Output: strp("{}")}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeleteClosedBefore(ctx, time.Unix(200, 0)); err != nil || n != 1 {
		t.Fatalf("deleted %d, %v", n, err)
	}
	if _, err := s.GetMapRun(ctx, old.ARN+"/map"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("map run of a deleted execution: %v", err)
	}
	if _, ok, err := s.GetExecutionMeta(ctx, old.ARN); ok || err != nil {
		t.Fatalf("metadata of a deleted execution: %v, %v", ok, err)
	}
	if _, err := s.GetMapRun(ctx, keep.ARN+"/map"); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.GetExecutionMeta(ctx, keep.ARN); !ok || err != nil {
		t.Fatalf("metadata of a kept execution: %v, %v", ok, err)
	}
}

// Publishing concurrently, also from two processes (two stores on one
// schema), numbers versions without gaps or duplicates and never exceeds
// the alias limit.
func TestVersionsConcurrent(t *testing.T) {
	ctx := context.Background()
	dsn := freshSchema(t)
	stores := []*postgres.Store{open(t, dsn), open(t, dsn)}
	const n = 40
	const machine = "arn:aws:states:us-east-1:123456789012:stateMachine:c"
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, _, err := stores[i%2].PublishVersion(ctx, &store.Version{StateMachineARN: machine, CreationDate: time.Now(),
				Revision: store.Revision{RevisionID: fmt.Sprint("r", i%(n/2))}})
			errs <- err
		}()
		go func() {
			defer wg.Done()
			err := stores[i%2].TagResource(ctx, machine, []store.Tag{{Key: fmt.Sprint("k", i), Value: "v"}}, n)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	vs, _, err := stores[0].ListVersions(ctx, machine, store.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != n/2 || vs[0].Number != n/2 || vs[len(vs)-1].Number != 1 {
		t.Fatalf("%d versions, newest %d", len(vs), vs[0].Number)
	}
	tags, _, err := stores[1].Tags(ctx, machine)
	if err != nil || len(tags) != n {
		t.Fatalf("%d tags, %v", len(tags), err)
	}
	for i := range 120 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprint("a", i)
			err := stores[i%2].CreateAlias(ctx, &store.Alias{ARN: machine + ":" + name, StateMachineARN: machine, Name: name,
				Routing: []store.Route{{VersionARN: machine + ":1", Weight: 100}}})
			if err != nil && !errors.Is(err, store.ErrLimitExceeded) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	as, _, err := stores[0].ListAliases(ctx, machine, machine+":1", store.Page{Limit: 1000})
	if err != nil || len(as) != store.MaxAliasesPerMachine {
		t.Fatalf("%d aliases, %v", len(as), err)
	}
}

// A search_path naming no existing schema is refused with a clear
// message; pool_max_conns and search_path are taken from a URL.
func TestDSNParameters(t *testing.T) {
	ctx := context.Background()
	dsn := freshSchema(t) // search_path set to the fresh schema
	missing := withSearchPath(t, baseDSN(t), "stepwell_no_such_schema")
	if _, err := postgres.Open(ctx, missing); err == nil || !strings.Contains(err.Error(), "CREATE SCHEMA") {
		t.Fatalf("open with a missing schema: %v", err)
	}
	param := " pool_max_conns=3"
	if strings.HasPrefix(dsn, "postgres") {
		param = "&pool_max_conns=3" // freshSchema added ?search_path=
	}
	s := open(t, dsn+param)
	var schema string
	if err := s.QueryRowForTest(ctx, `SELECT current_schema()`).Scan(&schema); err != nil || !strings.HasPrefix(schema, "stepwell_test_") {
		t.Fatalf("current schema %q, %v", schema, err)
	}
	if got := s.MaxConnsForTest(); got != 3 {
		t.Fatalf("pool of %d connections, want 3", got)
	}
}
