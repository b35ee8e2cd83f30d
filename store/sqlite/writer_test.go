package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
	"github.com/stepwell/stepwell/store/internal/groupcommit"
)

// TestWriter_PanicAndContext: a write that panics half-way (a history row
// queued, the cached last event id advanced) fails alone with a
// *groupcommit.PanicError and leaves nothing behind; the writer keeps
// serving, and a write whose context ended before it was queued is not
// made.
func TestWriter_PanicAndContext(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const arn = "arn:x:1"
	x := &store.Execution{ARN: arn, Name: "1", StateMachineARN: "arn:sm", Type: "STANDARD", Status: store.StatusRunning,
		Input: "{}", StartDate: time.Now()}
	if err := s.CreateExecution(ctx, x, nil, nil); err != nil {
		t.Fatal(err)
	}
	err = s.w.do(ctx, func(w *writer) (error, error) {
		x, res, err := w.lookup(arn)
		if err != nil || res != nil {
			return res, err
		}
		w.addHistory(x.seq, 5, 1, []byte("not events"), "")
		x.last = 5
		panic("half-way")
	})
	var pe *groupcommit.PanicError
	if !errors.As(err, &pe) || pe.Value != "half-way" {
		t.Fatalf("panicking write: %v", err)
	}
	ev := []history.Event{{ID: 1, Type: history.ExecutionStarted, Timestamp: time.Now(),
		ExecutionStartedEventDetails: &history.ExecutionStartedEventDetails{Input: "{}", InputDetails: history.Data(false)}}}
	if err := s.AppendHistory(ctx, arn, ev, nil); err != nil {
		t.Fatalf("append after the panic: %v", err)
	}
	got, _, err := s.History(ctx, arn, false, store.Page{Limit: 10})
	if err != nil || len(got) != 1 || got[0].Type != history.ExecutionStarted {
		t.Fatalf("history %+v, %v", got, err)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	y := *x
	y.ARN, y.Name = "arn:x:2", "2"
	if err := s.CreateExecution(cctx, &y, nil, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("create with an ended context: %v", err)
	}
	if _, err := s.GetExecution(ctx, y.ARN); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the execution was created: %v", err)
	}
}
