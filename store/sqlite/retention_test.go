package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/stepwell/stepwell/store"
)

// TestRetention_Simulated runs a simulated hours-long workload: short
// executions inserted closed, others closed later (some more than an hour
// after they started, whose close is indexed: executions_closed_late),
// starts a little out of seq order, and retention passes at cuts behind
// the simulated time, over more executions than one scan reads. After
// each pass no execution closed before the cut is left, and every other
// execution is.
func TestRetention_Simulated(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	s := open(t, path)
	defer s.Close()
	db, err := sql.Open("sqlite", path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var running []string
	live := map[string]time.Time{} // execution → its stop (zero while running)
	seq := 0
	create := func(closed bool) {
		seq++
		// Starts may precede the previous execution's by up to 100 ms.
		start := now.Add(-time.Duration(rng.IntN(100)) * time.Millisecond)
		x := &store.Execution{ARN: fmt.Sprintf("arn:x:%d", seq), Name: fmt.Sprint(seq), StateMachineARN: "arn:sm", StateMachineName: "sm",
			RevisionID: "r1", Type: "STANDARD", Status: store.StatusRunning, Input: "{}", StartDate: start}
		var end *store.End
		if closed {
			end = &store.End{Status: store.StatusSucceeded, StopDate: now, Output: new("{}")}
			live[x.ARN] = now
		} else {
			running = append(running, x.ARN)
			live[x.ARN] = time.Time{}
		}
		if err := s.CreateExecution(ctx, x, nil, end); err != nil {
			t.Fatal(err)
		}
	}
	closeOne := func() {
		i := rng.IntN(len(running))
		arn := running[i]
		running = append(running[:i], running[i+1:]...)
		status := []string{store.StatusSucceeded, store.StatusFailed, store.StatusAborted, store.StatusTimedOut}[rng.IntN(4)]
		if err := s.AppendHistory(ctx, arn, nil, &store.End{Status: status, StopDate: now}); err != nil {
			t.Fatal(err)
		}
		live[arn] = now
	}
	passes := 0
	for step := range 400 {
		now = now.Add(time.Duration(rng.IntN(600)) * time.Second)
		for range rng.IntN(40) {
			create(rng.IntN(4) != 0)
		}
		for len(running) > 0 && rng.IntN(3) == 0 {
			closeOne()
		}
		if step%7 != 0 {
			continue
		}
		passes++
		cut := now.Add(-[]time.Duration{0, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour}[rng.IntN(4)])
		want := 0
		for arn, stop := range live {
			if !stop.IsZero() && stop.Before(cut) {
				want++
				delete(live, arn)
			}
		}
		n, err := s.DeleteClosedBefore(ctx, cut)
		if err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Fatalf("pass %d at %v: deleted %d, want %d", passes, cut, n, want)
		}
		var left int
		if err := db.QueryRow(`SELECT count(*) FROM executions WHERE status <> 'RUNNING' AND stop_ns < ?`, cut.UnixNano()).Scan(&left); err != nil {
			t.Fatal(err)
		}
		var rows int
		if err := db.QueryRow(`SELECT count(*) FROM executions`).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if left != 0 || rows != len(live) {
			t.Fatalf("pass %d at %v: %d closed before the cut left, %d executions (want %d)", passes, cut, left, rows, len(live))
		}
	}
	t.Logf("%d executions, %d retention passes, %d left", seq, passes, len(live))
	if seq < 3*2048 {
		t.Fatalf("only %d executions: fewer than a few retention scans' worth", seq)
	}
}

// TestRetention_Cursor: retention passes over an execution for good only
// when it will be found by its close: an execution that is running, or
// closed too recently, when a pass reads it is deleted by a later pass
// once its close is old enough, however long after its start it closed.
func TestRetention_Cursor(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	type step struct {
		close time.Duration // after t0: close the execution then (0: no)
		cut   time.Duration // after t0: a retention pass with that cut (0: none)
		gone  bool          // the execution is deleted after the step
	}
	for _, tt := range []struct {
		name  string
		steps []step
	}{
		{"closed soon, read while running", []step{{cut: 5 * time.Minute}, {close: 10 * time.Minute}, {cut: 20 * time.Minute, gone: true}}},
		{"closed soon, read while too recent", []step{{close: 10 * time.Minute}, {cut: 5 * time.Minute}, {cut: 20 * time.Minute, gone: true}}},
		{"closed late, read while running", []step{{cut: 2 * time.Hour}, {close: 150 * time.Minute}, {cut: 140 * time.Minute},
			{cut: 3 * time.Hour, gone: true}}},
		{"closed late, read while too recent", []step{{close: 2 * time.Hour}, {cut: time.Hour}, {cut: 3 * time.Hour, gone: true}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t, filepath.Join(t.TempDir(), "s.db"))
			defer s.Close()
			// The execution under test, then a few started later, and
			// one started after every cut.
			for i, start := range []time.Duration{0, time.Second, 2 * time.Second, 10 * time.Hour} {
				x := &store.Execution{ARN: fmt.Sprintf("arn:x:%d", i), Name: fmt.Sprint(i), StateMachineARN: "arn:sm", StateMachineName: "sm",
					RevisionID: "r1", Type: "STANDARD", Status: store.StatusRunning, Input: "{}", StartDate: t0.Add(start)}
				if err := s.CreateExecution(ctx, x, nil, nil); err != nil {
					t.Fatal(err)
				}
			}
			for i, st := range tt.steps {
				if st.close != 0 {
					if err := s.AppendHistory(ctx, "arn:x:0", nil, &store.End{Status: store.StatusSucceeded, StopDate: t0.Add(st.close),
						Output: new("{}")}); err != nil {
						t.Fatal(err)
					}
				}
				if st.cut != 0 {
					if _, err := s.DeleteClosedBefore(ctx, t0.Add(st.cut)); err != nil {
						t.Fatal(err)
					}
				}
				_, err := s.GetExecution(ctx, "arn:x:0")
				if gone := errors.Is(err, store.ErrNotFound); gone != st.gone || (err != nil && !gone) {
					t.Fatalf("after step %d: deleted %v (%v), want %v", i, gone, err, st.gone)
				}
			}
		})
	}
}
