package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
	"github.com/stepwell/stepwell/store/postgres"
	"github.com/stepwell/stepwell/store/storetest"
)

// dsnEnv names the database the tests use; scripts/postgres.sh starts one
// and prints its DSN. Each test works in a schema of its own, dropped at
// the end.
const dsnEnv = "STEPWELL_TEST_POSTGRES_DSN"

// requireEnv, set to 1 (CI sets it), makes a missing DSN a failure.
const requireEnv = "STEPWELL_REQUIRE_POSTGRES"

func baseDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		if os.Getenv(requireEnv) == "1" {
			t.Fatalf("%s is not set but %s=1: start PostgreSQL with scripts/postgres.sh", dsnEnv, requireEnv)
		}
		t.Skipf("PostgreSQL tests skipped: set %s (export %s=$(scripts/postgres.sh))", dsnEnv, dsnEnv)
	}
	return dsn
}

// withSearchPath returns dsn with search_path set to schema.
func withSearchPath(t testing.TB, dsn, schema string) string {
	t.Helper()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatalf("%s: %v", dsnEnv, err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema
}

// freshSchema creates an empty schema and returns a DSN that uses it.
func freshSchema(t testing.TB) string {
	t.Helper()
	dsn := baseDSN(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "stepwell_test_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to %s: %v", dsnEnv, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Error(err)
		}
	})
	return withSearchPath(t, dsn, schema)
}

func open(t testing.TB, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, freshSchema(t)) })
}

func TestDurable(t *testing.T) {
	storetest.RunDurable(t, func(t *testing.T) store.Store { return open(t, freshSchema(t)) })
}

func TestActivities(t *testing.T) {
	storetest.RunActivities(t, func(t *testing.T) store.ActivityStore { return open(t, freshSchema(t)) })
}

const smARN = "arn:aws:states:us-east-1:123456789012:stateMachine:m"

func newExec(t testing.TB, s store.Store, name string) *store.Execution {
	t.Helper()
	x := &store.Execution{ARN: "arn:aws:states:us-east-1:123456789012:execution:m:" + name, Name: name,
		StateMachineARN: smARN, StateMachineName: "m", RevisionID: "r", Type: "STANDARD",
		Status: store.StatusRunning, Input: "{}", StartDate: time.Now().UTC().Truncate(time.Millisecond)}
	if err := s.CreateExecution(context.Background(), x, nil, nil); err != nil {
		t.Fatal(err)
	}
	return x
}

func event(id int64) history.Event {
	return history.Event{ID: id, PreviousEventID: id - 1, Type: history.PassStateEntered, Timestamp: time.Now().UTC(),
		StateEnteredEventDetails: &history.StateEnteredEventDetails{Name: fmt.Sprint("S", id), Input: "{}"}}
}

// Payloads that PostgreSQL text could not hold, and empty-but-present
// values, come back exactly.
func TestRoundTripOddPayloads(t *testing.T) {
	s := open(t, freshSchema(t))
	ctx := context.Background()
	x := newExec(t, s, "odd")
	odd := "a\x00b\xff\xfe"
	empty := ""
	if err := s.AppendHistory(ctx, x.ARN, []history.Event{event(1)}, &store.End{Status: store.StatusFailed,
		StopDate: time.Now(), Output: &empty, Error: &odd, Cause: &empty}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetExecution(ctx, x.ARN)
	if err != nil {
		t.Fatal(err)
	}
	if got.Output == nil || *got.Output != "" || got.Error == nil || *got.Error != odd || got.Cause == nil || *got.Cause != "" {
		t.Fatalf("output %v error %q cause %v", got.Output, *got.Error, got.Cause)
	}
	y := newExec(t, s, "nil")
	if err := s.AppendHistory(ctx, y.ARN, nil, &store.End{Status: store.StatusAborted, StopDate: time.Now()}); err != nil {
		t.Fatal(err)
	}
	got, err = s.GetExecution(ctx, y.ARN)
	if err != nil {
		t.Fatal(err)
	}
	if got.Output != nil || got.Error != nil || got.Cause != nil || got.Status != store.StatusAborted {
		t.Fatalf("%+v", got)
	}
}

// Reopening sees the same data; the schema is migrated once.
func TestReopen(t *testing.T) {
	dsn := freshSchema(t)
	ctx := context.Background()
	s := open(t, dsn)
	x := newExec(t, s, "e")
	if err := s.AppendHistory(ctx, x.ARN, []history.Event{event(1), event(2)}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendHistory(ctx, x.ARN, []history.Event{event(3)}, nil); err == nil {
		t.Fatal("append after Close succeeded")
	}
	s2 := open(t, dsn)
	run, err := s2.ListRunning(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(run) != 1 || run[0].ARN != x.ARN {
		t.Fatalf("running after reopen: %+v", run)
	}
	evs, _, err := s2.History(ctx, x.ARN, false, store.Page{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 {
		t.Fatalf("%d events after reopen", len(evs))
	}
	if err := s2.AppendHistory(ctx, x.ARN, []history.Event{event(3)}, nil); err != nil {
		t.Fatal(err)
	}
}

// A database migrated by a newer Stepwell is refused with a clear message.
func TestSchemaTooNew(t *testing.T) {
	dsn := freshSchema(t)
	ctx := context.Background()
	s := open(t, dsn)
	_ = s.Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	newer := postgres.SchemaVersion() + 1
	if _, err := conn.Exec(ctx, `INSERT INTO schema_version (version, name) VALUES ($1, 'future')`, newer); err != nil {
		t.Fatal(err)
	}
	_, err = postgres.Open(ctx, dsn)
	if !errors.Is(err, postgres.ErrSchemaTooNew) {
		t.Fatalf("open: %v, want ErrSchemaTooNew", err)
	}
	want := fmt.Sprintf("store schema version %d is newer than this stepwell (%d); upgrade stepwell", newer, newer-1)
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("message %q does not say %q", err, want)
	}
}

// Two stores (two processes) appending the same ids to one execution: the
// database lets exactly one win each id.
func TestTwoWritersNeverDuplicate(t *testing.T) {
	dsn := freshSchema(t)
	ctx := context.Background()
	a, b := open(t, dsn), open(t, dsn)
	x := newExec(t, a, "shared")
	const n = 40
	var wg sync.WaitGroup
	wins := make([]int, 2)
	for w, s := range []*postgres.Store{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := int64(1); id <= n; id++ {
				err := s.AppendHistory(ctx, x.ARN, []history.Event{event(id)}, nil)
				switch {
				case err == nil:
					wins[w]++
				case !errors.Is(err, store.ErrConflict):
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if wins[0]+wins[1] != n {
		t.Fatalf("wins %v, want %d in all", wins, n)
	}
	evs, _, err := a.History(ctx, x.ARN, false, store.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range evs {
		if e.ID != int64(i+1) {
			t.Fatalf("event %d has id %d", i, e.ID)
		}
	}
	if len(evs) != n {
		t.Fatalf("%d events", len(evs))
	}
}

// Many executions appending at once share transactions, and every
// acknowledged append is there afterwards.
func TestGroupCommit(t *testing.T) {
	s := open(t, freshSchema(t))
	ctx := context.Background()
	const execs, steps = 200, 10
	xs := make([]*store.Execution, execs)
	for i := range xs {
		xs[i] = newExec(t, s, fmt.Sprint("g", i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, execs)
	start := time.Now()
	for _, x := range xs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := int64(1); id <= steps; id++ {
				var end *store.End
				if id == steps {
					out := "{}"
					end = &store.End{Status: store.StatusSucceeded, StopDate: time.Now(), Output: &out}
				}
				if err := s.AppendHistory(ctx, x.ARN, []history.Event{event(id)}, end); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("%d appends in %v", execs*steps, time.Since(start))
	for _, x := range xs {
		got, err := s.GetExecution(ctx, x.ARN)
		if err != nil {
			t.Fatal(err)
		}
		evs, _, err := s.History(ctx, x.ARN, false, store.Page{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != store.StatusSucceeded || len(evs) != steps {
			t.Fatalf("%s: %s with %d events", x.Name, got.Status, len(evs))
		}
	}
	running, err := s.ListRunning(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(running) != 0 {
		t.Fatalf("%d still running", len(running))
	}
}

// An append whose context ended before its commit started writes nothing.
func TestAppendCanceled(t *testing.T) {
	s := open(t, freshSchema(t))
	x := newExec(t, s, "c")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.AppendHistory(ctx, x.ARN, []history.Event{event(1)}, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled append: %v", err)
	}
	if err := s.AppendHistory(context.Background(), x.ARN, []history.Event{event(1)}, nil); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkAppendHistoryParallel(b *testing.B) {
	s := open(b, freshSchema(b))
	ctx := context.Background()
	var mu sync.Mutex
	n := 0
	b.SetParallelism(64)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		mu.Lock()
		n++
		x := newExec(b, s, fmt.Sprint("b", n))
		mu.Unlock()
		id := int64(0)
		for pb.Next() {
			id++
			if err := s.AppendHistory(ctx, x.ARN, []history.Event{event(id)}, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// Sessions commit durably even if the server's setting (here: a startup
// option) is synchronous_commit=off, unless the DSN sets it itself.
func TestSynchronousCommitForced(t *testing.T) {
	dsn := freshSchema(t)
	ctx := context.Background()
	if !strings.HasPrefix(dsn, "postgres") {
		t.Skip("needs a postgres:// DSN")
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("options", "-c synchronous_commit=off")
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20") // pgx reads + literally
	for _, tt := range []struct {
		dsn, want string
	}{
		{u.String(), "on"},
		{u.String() + "&synchronous_commit=off", "off"},
		{dsn, "on"},
	} {
		s := open(t, tt.dsn)
		var v string
		if err := s.QueryRowForTest(ctx, `SELECT current_setting('synchronous_commit')`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		if v != tt.want {
			t.Fatalf("%s: synchronous_commit %q, want %q", tt.dsn, v, tt.want)
		}
	}
}

// Large payloads from many executions at once are split over several
// transactions and all arrive.
func TestLargeBatches(t *testing.T) {
	s := open(t, freshSchema(t))
	ctx := context.Background()
	big := strings.Repeat("x", 1<<20)
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		x := newExec(t, s, fmt.Sprint("big", i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := event(1)
			e.StateEnteredEventDetails.Input = big
			errs <- s.AppendHistory(ctx, x.ARN, []history.Event{e}, &store.End{Status: store.StatusSucceeded, StopDate: time.Now(), Output: &big})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.GetExecution(ctx, "arn:aws:states:us-east-1:123456789012:execution:m:big7")
	if err != nil {
		t.Fatal(err)
	}
	evs, _, err := s.History(ctx, got.ARN, false, store.Page{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if got.Output == nil || *got.Output != big || len(evs) != 1 || evs[0].StateEnteredEventDetails.Input != big {
		t.Fatal("large payload did not round-trip")
	}
}
