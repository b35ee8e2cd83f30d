package memory_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
	"github.com/stepwell/stepwell/store/memory"
	"github.com/stepwell/stepwell/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return memory.New(memory.Options{}) })
}

func TestStore_Capped(t *testing.T) {
	// A large cap never evicts within the suite.
	storetest.Run(t, func(t *testing.T) store.Store { return memory.New(memory.Options{MaxClosedExecutions: 1 << 20}) })
}

func TestStore_EvictsOldestClosed(t *testing.T) {
	ctx := context.Background()
	s := memory.New(memory.Options{MaxClosedExecutions: 3})
	sm := "arn:aws:states:us-east-1:1:stateMachine:m"
	const n = 200
	for i := range n {
		x := &store.Execution{ARN: fmt.Sprint("arn:aws:states:us-east-1:1:express:m:e", i, ":id"), Name: fmt.Sprint("e", i),
			StateMachineARN: sm, Status: store.StatusRunning, StartDate: time.Unix(int64(i), 0)}
		if err := s.CreateExecution(ctx, x, nil, nil); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if err := s.AppendHistory(ctx, x.ARN, nil, &store.End{Status: store.StatusSucceeded}); err != nil {
				t.Fatal(err)
			}
		}
	}
	items, _, err := s.ListExecutions(ctx, store.ExecutionFilter{StateMachineARN: sm}, store.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	// 100 running ones stay, plus the 3 newest closed ones.
	if len(items) != n/2+3 {
		t.Fatalf("%d executions kept, want %d", len(items), n/2+3)
	}
	for _, i := range []int{n - 2, n - 4, n - 6} {
		if _, err := s.GetExecution(ctx, fmt.Sprint("arn:aws:states:us-east-1:1:express:m:e", i, ":id")); err != nil {
			t.Fatalf("e%d: %v", i, err)
		}
	}
	if _, err := s.GetExecution(ctx, "arn:aws:states:us-east-1:1:express:m:e0:id"); err != store.ErrNotFound {
		t.Fatalf("e0: %v, want evicted", err)
	}
}

func BenchmarkAppendHistory(b *testing.B) {
	ctx := context.Background()
	s := memory.New(memory.Options{MaxClosedExecutions: 1000})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		arn := fmt.Sprint("x", i)
		if err := s.CreateExecution(ctx, &store.Execution{ARN: arn, StateMachineARN: "m", Status: store.StatusRunning}, nil, nil); err != nil {
			b.Fatal(err)
		}
		if err := s.AppendHistory(ctx, arn, nil, &store.End{Status: store.StatusSucceeded}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestMaxClosedBytes: the closed executions kept take at most
// MaxClosedBytes (input, output and history), the oldest forgotten first.
func TestMaxClosedBytes(t *testing.T) {
	ctx := context.Background()
	s := memory.New(memory.Options{MaxClosedExecutions: 1000, MaxClosedBytes: 1 << 20})
	big := strings.Repeat("x", 100_000)
	for i := range 30 {
		arn := fmt.Sprintf("arn:aws:states:us-east-1:123456789012:express:m:%d:x", i)
		if err := s.CreateExecution(ctx, &store.Execution{ARN: arn, StateMachineARN: "m", Status: store.StatusRunning, Input: big}, nil, nil); err != nil {
			t.Fatal(err)
		}
		ev := history.Event{ID: 1, Type: history.ExecutionStarted, ExecutionStartedEventDetails: &history.ExecutionStartedEventDetails{Input: big}}
		if err := s.AppendHistory(ctx, arn, []history.Event{ev}, &store.End{Status: store.StatusSucceeded, Output: &big}); err != nil {
			t.Fatal(err)
		}
	}
	kept := 0
	for i := range 30 {
		if _, err := s.GetExecution(ctx, fmt.Sprintf("arn:aws:states:us-east-1:123456789012:express:m:%d:x", i)); err == nil {
			kept++
		} else if kept > 0 {
			t.Fatalf("execution %d forgotten after a newer one was kept", i)
		}
	}
	// Each takes 300 KB and more: three fit in 1 MiB.
	if kept != 3 {
		t.Fatalf("%d closed executions kept, want 3", kept)
	}
}
