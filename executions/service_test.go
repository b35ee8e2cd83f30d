package executions_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stepwell/stepwell/arn"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/executions"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
	"github.com/stepwell/stepwell/store/memory"
)

var scope = arn.Scope{Partition: "aws", Region: "us-east-1", Account: "111111111111"}

func machine(name, def string) *store.StateMachine {
	return &store.StateMachine{ARN: scope.StateMachineARN(name), Name: name, Type: executions.TypeStandard,
		Revision: store.Revision{RevisionID: "r1", Definition: def, RoleARN: "arn:aws:iam::111111111111:role/r"}}
}

// closeWatch notes, at the moment an execution is closed (before the
// store makes it visible), the Map Runs the Versions store holds for it.
type closeWatch struct {
	store.Store
	ver    store.Versions
	mu     sync.Mutex
	runs   map[string][]store.MapRun // by execution ARN, at its close
	closed chan string
}

func (c *closeWatch) AppendHistory(ctx context.Context, arn string, events []history.Event, end *store.End) error {
	if end != nil {
		runs, _, err := c.ver.ListMapRuns(ctx, arn, store.Page{Limit: 100})
		if err != nil {
			return err
		}
		c.mu.Lock()
		for _, r := range runs {
			c.runs[arn] = append(c.runs[arn], *r)
		}
		c.mu.Unlock()
	}
	err := c.Store.AppendHistory(ctx, arn, events, end)
	if end != nil {
		c.closed <- arn
	}
	return err
}

// TestMapRuns_RecordedBeforeTheExecutionCloses: once an execution is
// closed, its Map Runs are recorded with their final status, so that
// ListMapRuns and DescribeMapRun right after DescribeExecution says
// SUCCEEDED find them (the last Map's events and the terminal event share
// one durable write; the Map Runs used to be written after it).
func TestMapRuns_RecordedBeforeTheExecutionCloses(t *testing.T) {
	ver := memory.NewVersions()
	st := &closeWatch{Store: memory.New(memory.Options{}), ver: ver, runs: map[string][]store.MapRun{}, closed: make(chan string, 1)}
	svc := executions.New(executions.Config{Store: st, Versions: ver, Scope: scope,
		Engine: engine.New(engine.Config{Region: scope.Region, AccountID: scope.Account})})
	t.Cleanup(func() { _ = svc.Close(context.Background()) })
	const def = `{"StartAt":"M","States":{"M":{"Type":"Map","Label":"lbl","MaxConcurrency":5,
"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},
"End":true}}}`
	x, err := svc.Start(context.Background(), executions.StartInput{Machine: machine("distributed", def), Name: "x", Input: "[1,2,3]"})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-st.closed:
		if got != x.ARN {
			t.Fatalf("closed %s, want %s", got, x.ARN)
		}
	case <-time.After(time.Minute):
		t.Fatal("the execution did not close")
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	runs := st.runs[x.ARN]
	if len(runs) != 1 || runs[0].Status != executions.MapRunSucceeded || runs[0].ItemCounts.Succeeded != 3 || runs[0].StopDate.IsZero() {
		t.Fatalf("map runs when the execution closed: %+v", runs)
	}
}
