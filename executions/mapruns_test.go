package executions_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/executions"
	"github.com/stepwell/stepwell/internal/clock"
	"github.com/stepwell/stepwell/store"
	"github.com/stepwell/stepwell/store/memory"
)

// gate is an Invoker whose tasks each wait for a release.
type gate struct {
	calls   chan struct{}
	release chan struct{}
}

func (g *gate) Invoke(ctx context.Context, t *engine.Task) (any, error) {
	g.calls <- struct{}{}
	select {
	case <-g.release:
		return t.Input, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// TestMapRuns_LiveCounts: DescribeMapRun's counts follow the children as
// they run (written at most every 200 ms of the service's clock), and the
// final counts are the children's.
func TestMapRuns_LiveCounts(t *testing.T) {
	ver := memory.NewVersions()
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	g := &gate{calls: make(chan struct{}), release: make(chan struct{})}
	svc := executions.New(executions.Config{Store: memory.New(memory.Options{}), Versions: ver, Scope: scope, Clock: clk,
		Engine: engine.New(engine.Config{Region: scope.Region, AccountID: scope.Account, Invoker: g})})
	t.Cleanup(func() { _ = svc.Close(context.Background()) })
	const def = `{"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":1,
"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},
"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::custom:run","End":true}}},"End":true}}}`
	x, err := svc.Start(context.Background(), executions.StartInput{Machine: machine("live", def), Name: "x", Input: "[1,2,3]"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	counts := func() store.MapRunCounts {
		t.Helper()
		runs, _, err := ver.ListMapRuns(ctx, x.ARN, store.Page{Limit: 10})
		if err != nil || len(runs) != 1 {
			t.Fatalf("map runs %v, %v", runs, err)
		}
		return runs[0].ItemCounts
	}
	<-g.calls // the first child runs: its Map Run was recorded as it started
	if c := counts(); c.Running+c.Pending != 3 || c.Total != 3 {
		t.Fatalf("first child running: %+v", c)
	}
	if n := svc.OpenMapRuns(); n != 1 {
		t.Errorf("%d open Map Runs while one runs, want 1", n)
	}
	clk.Advance(time.Second)
	g.release <- struct{}{}
	<-g.calls // the first child's end was written before the second started
	if c := counts(); c.Succeeded != 1 || c.Running != 0 || c.Pending != 2 || c.Total != 3 {
		t.Fatalf("first child ended: %+v", c)
	}
	g.release <- struct{}{}
	<-g.calls
	g.release <- struct{}{}
	waitEnded(t, svc, x.ARN)
	if n := svc.OpenMapRuns(); n != 0 {
		t.Errorf("%d open Map Runs after the run ended, want 0", n)
	}
	runs, _, _ := ver.ListMapRuns(ctx, x.ARN, store.Page{Limit: 10})
	want := store.MapRunCounts{Succeeded: 3, Total: 3, ResultsWritten: 3}
	if r := runs[0]; r.Status != executions.MapRunSucceeded || r.ItemCounts != want || r.ExecutionCounts != want {
		t.Fatalf("final run %s %+v %+v", r.Status, r.ItemCounts, r.ExecutionCounts)
	}
}

// TestUpdateMapRun: raising a running Map Run's MaxConcurrency starts more
// children at once, and its record shows the new settings; an ended run
// cannot be updated.
func TestUpdateMapRun(t *testing.T) {
	ver := memory.NewVersions()
	g := &gate{calls: make(chan struct{}), release: make(chan struct{})}
	svc := executions.New(executions.Config{Store: memory.New(memory.Options{}), Versions: ver, Scope: scope,
		Engine: engine.New(engine.Config{Region: scope.Region, AccountID: scope.Account, Invoker: g})})
	t.Cleanup(func() { _ = svc.Close(context.Background()) })
	const def = `{"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":1,
"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},
"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::custom:run","End":true}}},"End":true}}}`
	ctx := context.Background()
	x, err := svc.Start(ctx, executions.StartInput{Machine: machine("upd", def), Name: "x", Input: "[1,2,3,4]"})
	if err != nil {
		t.Fatal(err)
	}
	<-g.calls // one child runs (MaxConcurrency 1)
	runs, _, err := ver.ListMapRuns(ctx, x.ARN, store.Page{Limit: 10})
	if err != nil || len(runs) != 1 {
		t.Fatalf("map runs %v, %v", runs, err)
	}
	runARN := runs[0].ARN
	three, pct := int64(3), 50.0
	if err := svc.UpdateMapRun(ctx, runARN, engine.MapRunUpdate{MaxConcurrency: &three, ToleratedFailurePercentage: &pct}); err != nil {
		t.Fatal(err)
	}
	// Two more children start while the first still runs.
	for range 2 {
		select {
		case <-g.calls:
		case <-time.After(30 * time.Second):
			t.Fatal("no more children started after MaxConcurrency was raised")
		}
	}
	r, err := ver.GetMapRun(ctx, runARN)
	if err != nil || r.MaxConcurrency != 3 || r.ToleratedFailurePercentage != 50 {
		t.Fatalf("run after the update: %+v, %v", r, err)
	}
	for range 3 {
		g.release <- struct{}{}
	}
	<-g.calls
	g.release <- struct{}{}
	waitEnded(t, svc, x.ARN)
	r, _ = ver.GetMapRun(ctx, runARN)
	if r.Status != executions.MapRunSucceeded || r.MaxConcurrency != 3 || r.ItemCounts.Succeeded != 4 {
		t.Fatalf("final run %s, MaxConcurrency %d, %+v", r.Status, r.MaxConcurrency, r.ItemCounts)
	}
	if err := svc.UpdateMapRun(ctx, runARN, engine.MapRunUpdate{MaxConcurrency: &three}); !errors.Is(err, executions.ErrMapRunNotRunning) {
		t.Fatalf("update of an ended run: %v", err)
	}
}

// waitEnded waits until the execution has ended (Ended is nil once it is
// unregistered).
func waitEnded(t *testing.T, svc *executions.Service, arn string) {
	t.Helper()
	ch := svc.Ended(arn)
	if ch == nil {
		return
	}
	select {
	case <-ch:
	case <-time.After(time.Minute):
		t.Fatal("the execution did not end")
	}
}
