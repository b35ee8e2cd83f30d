package crash

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// distDefinition is a Distributed Map of STANDARD children, each invoking
// the function once (retried on Flaky and on the in-flight rule's error)
// and returning 2v.
const distDefinition = `{
  "StartAt": "Each",
  "States": {
    "Each": {
      "Type": "Map", "ItemsPath": "$.items", "Label": "crash", "MaxConcurrency": 10, "End": true,
      "ItemSelector": {"idx.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value"},
      "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "Work", "States": {
        "Work": {
          "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
          "Parameters": {"FunctionName": "crash-fn", "Payload": {"exec.$": "$$.Execution.Id", "state.$": "$$.State.Name", "idx.$": "$.idx", "retry.$": "$$.State.RetryCount", "v.$": "$.v"}},
          "ResultSelector": {"d.$": "$.Payload.d"}, "OutputPath": "$.d",
          "Retry": [{"ErrorEquals": ["Flaky", "States.TaskFailed"], "IntervalSeconds": 2, "MaxAttempts": 20, "BackoffRate": 1}],
          "End": true
        }
      }}
    }
  }
}`

// TestCrashDistributedMap: a Distributed Map of STANDARD child executions
// survives SIGKILLs of the server. After each restart the parent's replay
// finds the children that finished (their results are reused: no task
// attempt is invoked twice, which a child run again would do) and
// continues the ones that were running; in the end the parent's output is
// every child's, and each child's history is well formed, with one start
// and one end.
func TestCrashDistributedMap(t *testing.T) {
	if os.Getenv("STEPWELL_CRASH_TEST") != "1" {
		t.Skip("set STEPWELL_CRASH_TEST=1 to run the crash test")
	}
	bin := buildServer(t)
	t.Run("embedded", func(t *testing.T) {
		runDistCrash(t, bin, []string{"--data-dir", filepath.Join(t.TempDir(), "data")})
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := os.Getenv("STEPWELL_TEST_POSTGRES_DSN")
		if dsn == "" {
			t.Skip("STEPWELL_TEST_POSTGRES_DSN is not set")
		}
		runDistCrash(t, bin, []string{"--store", dsn})
	})
}

func runDistCrash(t *testing.T, bin string, storeArgs []string) {
	const parents, nItems, kills = 2, 400, 3
	lam := newLambda()
	ls := httptest.NewServer(lam)
	defer ls.Close()
	addr := freeAddr(t)
	args := append([]string{"serve", "--addr", addr, "--lambda-endpoint", ls.URL,
		"--time-scale", strconv.FormatFloat(timeScale, 'g', -1, 64), "--account-id", account}, storeArgs...)
	srv := &server{t: t, bin: bin, args: args, logDir: t.TempDir()}
	if _, err := srv.start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.stop() }()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, transport := newClient("http://" + addr)
	defer transport.CloseIdleConnections()
	name := fmt.Sprintf("crash-dm-%d", time.Now().UnixNano())
	var sm string
	if err := retry(ctx, func() error {
		out, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
			Name: aws.String(name), Definition: aws.String(distDefinition), RoleArn: aws.String(role)})
		if err == nil {
			sm = *out.StateMachineArn
		}
		return err
	}); err != nil {
		t.Fatalf("CreateStateMachine: %v", err)
	}
	values := func(p int) []int {
		v := make([]int, nItems)
		for i := range v {
			v[i] = p*nItems + i
		}
		return v
	}
	arns := make([]string, parents)
	for p := range parents {
		in, _ := json.Marshal(map[string]any{"items": values(p)})
		if err := retry(ctx, func() error {
			out, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm),
				Name: aws.String(fmt.Sprintf("p%d", p)), Input: aws.String(string(in))})
			if err == nil {
				arns[p] = *out.ExecutionArn
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}

	// Kill while the children run (at most 10 at a time per parent, about
	// three seconds in all).
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	began := time.Now()
	var killedAt []string
	midRun := 0
	for k := range kills {
		time.Sleep(time.Duration(250+rng.IntN(300)) * time.Millisecond)
		calls := len(lam.snapshot())
		open := lam.open.Load()
		if calls < parents*nItems {
			midRun++ // children left to run
		}
		srv.kill()
		killedAt = append(killedAt, fmt.Sprintf("#%d after %d attempts (%d open) at %v", k+1, calls, open, time.Since(began).Round(time.Millisecond)))
		if _, err := srv.start(); err != nil {
			t.Fatalf("restart after kill %d: %v", k+1, err)
		}
		transport.CloseIdleConnections()
	}

	if midRun < 2 {
		t.Errorf("only %d of %d kills came while children were left to run: the test crashed too little", midRun, kills)
	}
	want := func(p int) []any {
		out := make([]any, nItems)
		for i, v := range values(p) {
			out[i] = float64(2 * v)
		}
		return out
	}
	children := 0
	for p, arn := range arns {
		var d *sfn.DescribeExecutionOutput
		deadline := time.Now().Add(90 * time.Second)
		for {
			if err := retry(ctx, func() (err error) {
				d, err = c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if d.Status != types.ExecutionStatusRunning {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s still RUNNING 90s after the last restart", arn)
			}
			time.Sleep(100 * time.Millisecond)
		}
		var got []any
		if d.Status != types.ExecutionStatusSucceeded || json.Unmarshal([]byte(aws.ToString(d.Output)), &got) != nil || !reflect.DeepEqual(got, want(p)) {
			t.Fatalf("parent %d: %s %s %s, output %.200s", p, d.Status, aws.ToString(d.Error), aws.ToString(d.Cause), aws.ToString(d.Output))
		}
		runs, err := c.ListMapRuns(ctx, &sfn.ListMapRunsInput{ExecutionArn: aws.String(arn)})
		if err != nil || len(runs.MapRuns) != 1 {
			t.Fatalf("map runs %v, %v", runs, err)
		}
		if mr, err := c.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: runs.MapRuns[0].MapRunArn}); err != nil ||
			mr.Status != types.MapRunStatusSucceeded || mr.ItemCounts.Succeeded != nItems || mr.ItemCounts.Running != 0 || aws.ToInt32(mr.RedriveCount) != 0 {
			t.Errorf("parent %d: map run %+v, %v", p, mr, err)
		}
		var kids []types.ExecutionListItem
		pg := sfn.NewListExecutionsPaginator(c, &sfn.ListExecutionsInput{MapRunArn: runs.MapRuns[0].MapRunArn, MaxResults: 1000})
		for pg.HasMorePages() {
			out, err := pg.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			kids = append(kids, out.Executions...)
		}
		if len(kids) != nItems {
			t.Fatalf("parent %d has %d children, want %d", p, len(kids), nItems)
		}
		children += len(kids)
		checkChildren(ctx, t, c, kids)
	}
	dups := 0
	for key, n := range lam.snapshot() {
		if n > 1 {
			if dups++; dups <= 10 {
				t.Errorf("task attempt %v invoked %d times (a finished child ran again?)", key, n)
			}
		}
	}
	t.Logf("distributed map crash test (%s): %d parents, %d children, %d kills (%v), %d task attempts, 0 invoked twice",
		storeKind(storeArgs), parents, children, kills, killedAt, len(lam.snapshot()))
	transport.CloseIdleConnections()
	if err := srv.stop(); err != nil {
		t.Error(err)
	}
	srv.checkLogs()
	if t.Failed() {
		srv.dumpLogs()
	}
}

// checkChildren checks that each child succeeded with a history of one
// start and one end.
func checkChildren(ctx context.Context, t *testing.T, c *sfn.Client, kids []types.ExecutionListItem) {
	t.Helper()
	var mu sync.Mutex
	var wg sync.WaitGroup
	next := make(chan types.ExecutionListItem)
	bad := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range next {
				err := checkChild(ctx, c, k)
				if err != nil {
					mu.Lock()
					if bad++; bad <= 10 {
						t.Errorf("child %s: %v", *k.ExecutionArn, err)
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, k := range kids {
		next <- k
	}
	close(next)
	wg.Wait()
}

func checkChild(ctx context.Context, c *sfn.Client, k types.ExecutionListItem) error {
	if k.Status != types.ExecutionStatusSucceeded {
		return fmt.Errorf("status %s", k.Status)
	}
	starts, ends := 0, 0
	pg := sfn.NewGetExecutionHistoryPaginator(c, &sfn.GetExecutionHistoryInput{ExecutionArn: k.ExecutionArn, MaxResults: 1000})
	var prev int64
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, e := range out.Events {
			if e.Id != prev+1 {
				return fmt.Errorf("event %d follows %d", e.Id, prev)
			}
			prev = e.Id
			switch e.Type {
			case types.HistoryEventTypeExecutionStarted:
				starts++
			case types.HistoryEventTypeExecutionSucceeded, types.HistoryEventTypeExecutionFailed, types.HistoryEventTypeExecutionAborted:
				ends++
			}
		}
	}
	if starts != 1 || ends != 1 {
		return fmt.Errorf("%d starts and %d ends in its history", starts, ends)
	}
	return nil
}
