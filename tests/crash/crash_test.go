// Package crash is Stepwell's crash test: it runs the real `stepwell serve`
// binary on a durable store, kills it with SIGKILL at random moments while
// hundreds of Standard executions run, restarts it on the same data, and
// checks that every execution finished exactly as it would have without the
// crashes, with a well-formed history and no task attempt invoked twice.
//
// It takes about ten seconds per store and runs only when
// STEPWELL_CRASH_TEST=1 (.ci/run sets it). The embedded store always runs;
// PostgreSQL runs when STEPWELL_TEST_POSTGRES_DSN is set.
// STEPWELL_CRASH_EXECUTIONS and STEPWELL_CRASH_KILLS change the number of
// executions (500) and kills (4); STEPWELL_CRASH_RACE=1 builds the server
// with the race detector.
package crash

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"
)

const (
	account   = "111111111111"
	role      = "arn:aws:iam::111111111111:role/stepwell"
	timeScale = 0.01
	// The waits of the machine below, in (unscaled) seconds.
	pauseSeconds = 150
	napSeconds   = 80
	// inFlightCause is the documented cause of the in-flight rule (README,
	// "What survives a crash").
	inFlightCause = "The task was in flight when Stepwell stopped; it was not invoked again (at most once per attempt)."
)

// definition mixes Pass, Choice, Wait, Parallel, Map and Lambda tasks (both
// forms: lambda:invoke records Task* events, a function ARN LambdaFunction*
// events) with a
// Retry that covers States.TaskFailed (the in-flight rule's error) and the
// function's own "Flaky" error. Every task payload carries the attempt's
// identity: execution, state, Map index (-1 outside the Map) and retry count.
var definition = `{
  "Comment": "Stepwell crash test",
  "StartAt": "Init",
  "States": {
    "Init": {"Type": "Pass", "Parameters": {"n.$": "$.n", "even.$": "$.even", "items.$": "$.items"}, "Next": "Choose"},
    "Choose": {"Type": "Choice", "Choices": [{"Variable": "$.even", "BooleanEquals": true, "Next": "Pause"}], "Default": "Skip"},
    "Pause": {"Type": "Wait", "Seconds": ` + strconv.Itoa(pauseSeconds) + `, "Next": "Paused"},
    "Paused": {"Type": "Pass", "Result": "wait", "ResultPath": "$.path", "Next": "Fan"},
    "Skip": {"Type": "Pass", "Result": "skip", "ResultPath": "$.path", "Next": "Fan"},
    "Fan": {
      "Type": "Parallel", "ResultPath": "$.fan", "Next": "Done",
      "Branches": [
        {"StartAt": "Each", "States": {"Each": {
          "Type": "Map", "ItemsPath": "$.items", "End": true,
          "ItemSelector": {"idx.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value", "exec.$": "$$.Execution.Id"},
          "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Work", "States": {
            "Work": {
              "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
              "Parameters": {"FunctionName": "crash-fn", "Payload": {"exec.$": "$.exec", "state.$": "$$.State.Name", "idx.$": "$.idx", "retry.$": "$$.State.RetryCount", "v.$": "$.v"}},
              "ResultSelector": {"d.$": "$.Payload.d"}, "ResultPath": "$.out",
              "Retry": [{"ErrorEquals": ["Flaky", "States.TaskFailed"], "IntervalSeconds": 2, "MaxAttempts": 20, "BackoffRate": 1}],
              "Next": "Shape"
            },
            "Shape": {"Type": "Pass", "Parameters": {"i.$": "$.idx", "d.$": "$.out.d"}, "End": true}
          }}
        }}},
        {"StartAt": "Nap", "States": {
          "Nap": {"Type": "Wait", "Seconds": ` + strconv.Itoa(napSeconds) + `, "Next": "Single"},
          "Single": {
            "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:111111111111:function:crash-fn",
            "Parameters": {"exec.$": "$$.Execution.Id", "state.$": "$$.State.Name", "idx": -1, "retry.$": "$$.State.RetryCount", "v.$": "$.n"},
            "ResultSelector": {"d.$": "$.d"}, "OutputPath": "$.d",
            "Retry": [{"ErrorEquals": ["Flaky", "States.TaskFailed"], "IntervalSeconds": 2, "MaxAttempts": 20, "BackoffRate": 1}],
            "End": true
          }
        }}
      ]
    },
    "Done": {"Type": "Pass", "Parameters": {"n.$": "$.n", "path.$": "$.path", "fan.$": "$.fan"}, "End": true}
  }
}`

// The input of execution n and the items of its Map.
func items(n int) []int { return []int{3 * n, 3*n + 1, 3*n + 2} }

func input(n int) string {
	b, _ := json.Marshal(map[string]any{"n": n, "even": n%2 == 0, "items": items(n)})
	return string(b)
}

// flaky reports whether the function fails the first attempt for v.
func flaky(v int) bool { return v%7 == 0 }

// expectedOutput is what execution n must return.
func expectedOutput(n int) any {
	var mapped []any
	for i, v := range items(n) {
		mapped = append(mapped, map[string]any{"i": float64(i), "d": float64(2 * v)})
	}
	path := "skip"
	if n%2 == 0 {
		path = "wait"
	}
	return map[string]any{"n": float64(n), "path": path, "fan": []any{mapped, float64(2 * n)}}
}

func envInt(t *testing.T, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a non-negative integer", name, s)
	}
	return n
}

func TestCrashRecovery(t *testing.T) {
	if os.Getenv("STEPWELL_CRASH_TEST") != "1" {
		t.Skip("set STEPWELL_CRASH_TEST=1 to run the crash test (about a minute)")
	}
	bin := buildServer(t)
	t.Run("embedded", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		runCrash(t, bin, []string{"--data-dir", dir})
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := os.Getenv("STEPWELL_TEST_POSTGRES_DSN")
		if dsn == "" {
			t.Skip("STEPWELL_TEST_POSTGRES_DSN is not set")
		}
		runCrash(t, bin, []string{"--store", dsn})
	})
}

// buildServer builds the stepwell binary under test.
func buildServer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "stepwell")
	args := []string{"build", "-o", bin}
	if os.Getenv("STEPWELL_CRASH_RACE") == "1" {
		args = append(args, "-race") // the server under the race detector
	}
	build := exec.Command("go", append(args, "./cmd/stepwell")...)
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build stepwell: %v\n%s", err, out)
	}
	return bin
}

// summary is what one run observed.
type summary struct {
	executions   int
	kills        []killInfo
	invocations  int64
	duplicates   int
	inFlight     int // in-flight rule applications seen in histories
	inFlightFn   int // of which LambdaFunctionFailed
	flakyRetries int
	events       int
}

type killInfo struct {
	at      time.Duration // since the first StartExecution
	running int           // RUNNING executions just before the kill (one page)
	open    int64         // Lambda invocations open at the kill
	restart time.Duration // until the new process listened
}

func runCrash(t *testing.T, bin string, storeArgs []string) {
	nExec := envInt(t, "STEPWELL_CRASH_EXECUTIONS", 500)
	nKills := envInt(t, "STEPWELL_CRASH_KILLS", 4)
	began := time.Now()
	transportRetries.Store(0)
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
	defer transport.CloseIdleConnections() // before srv.stop: nothing to wait for
	// A fresh machine name per run: a PostgreSQL database may be reused.
	name := fmt.Sprintf("crash-%d", time.Now().UnixNano())
	var sm string
	if err := retry(ctx, func() error {
		out, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
			Name: aws.String(name), Definition: aws.String(definition), RoleArn: aws.String(role)})
		if err == nil {
			sm = *out.StateMachineArn
		}
		return err
	}); err != nil {
		t.Fatalf("CreateStateMachine: %v", err)
	}

	// Side executions that only end by StopExecution (issued after a
	// restart) or by the execution timeout (which falls between restarts).
	side := startSide(ctx, t, c, name)

	// Start the executions, paced over about three seconds (longer for many
	// kills) so that the kills find executions in every phase. A start that
	// fails because the server died is retried with the same name and input
	// (idempotent).
	arns := make([]string, nExec)
	startErrs := make(chan error, nExec)
	startBegan := time.Now()
	var wg sync.WaitGroup
	const starters = 16
	window := max(3*time.Second, time.Duration(nKills)*800*time.Millisecond)
	pace := window / time.Duration(max(nExec, 1))
	for w := range starters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := w; n < nExec; n += starters {
				if d := time.Until(startBegan.Add(time.Duration(n) * pace)); d > 0 {
					time.Sleep(d)
				}
				arn, err := startExecution(ctx, c, sm, n)
				if err != nil {
					startErrs <- fmt.Errorf("start %d: %w", n, err)
					continue
				}
				arns[n] = arn
			}
		}()
	}

	// Kill and restart the server at random moments while they run.
	var sum summary
	sum.executions = nExec
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	for k := range nKills {
		// Kill k aims at the middle of its slice of the start window, give
		// or take a quarter slice, so that slow restarts do not push the
		// last kills past the end of the executions.
		slice := window / time.Duration(nKills)
		delay := time.Until(startBegan.Add(slice*time.Duration(k) + slice/4 + time.Duration(rng.Int64N(int64(slice/2)))))
		if k == 1 {
			// Once shortly after a restart, while recovery may still run.
			delay = time.Duration(30+rng.IntN(200)) * time.Millisecond
		}
		delay = max(delay, 30*time.Millisecond)
		time.Sleep(delay)
		running := countRunning(ctx, c, sm)
		open := lam.open.Load()
		at := time.Since(startBegan)
		srv.kill()
		time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
		took, err := srv.start()
		if err != nil {
			t.Fatalf("restart after kill %d: %v", k+1, err)
		}
		transport.CloseIdleConnections()
		if k == min(1, nKills-1) {
			side.stopAll(ctx, t, c, k+1)
		}
		sum.kills = append(sum.kills, killInfo{at: at, running: running, open: open, restart: took})
	}
	if nKills == 0 {
		side.stopAll(ctx, t, c, 0)
	}
	wg.Wait()
	close(startErrs)
	nerr := 0
	for err := range startErrs {
		if nerr++; nerr <= 10 {
			t.Error(err)
		}
	}
	if nerr > 10 {
		t.Errorf("... %d starts failed in all", nerr)
	}
	if t.Failed() {
		t.FailNow()
	}

	// Wait for all to finish.
	deadline := time.Now().Add(90 * time.Second)
	for {
		if n := countRunning(ctx, c, sm); n == 0 {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("%d executions still RUNNING 90s after the last restart", n)
		}
		time.Sleep(200 * time.Millisecond)
	}

	side.check(ctx, t, c)

	// Every execution listed, and only those started.
	var listed map[string]bool
	if err := retry(ctx, func() error {
		listed = map[string]bool{}
		p := sfn.NewListExecutionsPaginator(c, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm), MaxResults: 1000})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return err
			}
			for _, x := range out.Executions {
				listed[*x.ExecutionArn] = true
			}
		}
		return nil
	}); err != nil {
		t.Fatalf("ListExecutions: %v", err)
	}
	if len(listed) != nExec {
		t.Errorf("ListExecutions lists %d executions, want %d", len(listed), nExec)
	}

	// Check every execution, 16 at a time.
	invoked := lam.snapshot()
	type result struct {
		n      int
		errs   []error
		counts checkCounts
	}
	results := make(chan result, nExec)
	next := make(chan int)
	var cw sync.WaitGroup
	for range 16 {
		cw.Add(1)
		go func() {
			defer cw.Done()
			for n := range next {
				r := result{n: n}
				if !listed[arns[n]] {
					r.errs = append(r.errs, errors.New("not listed by ListExecutions"))
				}
				r.counts, r.errs = checkExecution(ctx, c, n, arns[n], invoked, r.errs)
				results <- r
			}
		}()
	}
	go func() {
		for n := range nExec {
			next <- n
		}
		close(next)
	}()
	cw.Wait()
	close(results)
	bad := 0
	for r := range results {
		sum.inFlight += r.counts.inFlight
		sum.inFlightFn += r.counts.inFlightFn
		sum.flakyRetries += r.counts.flaky
		sum.events += r.counts.events
		if len(r.errs) > 0 {
			bad++
			if bad <= 10 {
				t.Errorf("execution %d (%s):\n  %v", r.n, arns[r.n], errors.Join(r.errs...))
			}
		}
	}
	if bad > 10 {
		t.Errorf("... %d executions failed the checks in all", bad)
	}
	// No attempt was invoked twice, and every invocation belongs to this run.
	mine := map[string]bool{}
	for _, a := range arns {
		mine[a] = true
	}
	for key, calls := range invoked {
		if !mine[key.exec] {
			continue
		}
		sum.invocations += int64(calls)
		if calls > 1 {
			sum.duplicates++
			if sum.duplicates <= 10 {
				t.Errorf("task attempt %v invoked %d times", key, calls)
			}
		}
	}
	if nKills >= 3 && sum.inFlight == 0 {
		// Tens of attempts are in flight at every kill: none means the
		// rule was not applied (or the kills missed the tasks).
		t.Errorf("no task attempt failed with the in-flight rule after %d kills", nKills)
	}

	for i, k := range sum.kills {
		if k.running == 0 {
			t.Errorf("kill %d at %v found no RUNNING execution: the test did not crash anything", i+1, k.at.Round(time.Millisecond))
		}
	}
	var kills []string
	for i, k := range sum.kills {
		kills = append(kills, fmt.Sprintf("#%d at %v (%d running, %d invocations open, back in %v)",
			i+1, k.at.Round(time.Millisecond), k.running, k.open, k.restart.Round(time.Millisecond)))
	}
	t.Logf("crash test (%s): %d executions (+%d stopped after a restart, +%d timed out across restarts), %d kills, %d history events, %d Lambda invocations (%d duplicates), "+
		"%d in-flight rule applications (%d LambdaFunctionFailed), %d Flaky retries, %d client calls retried through restarts, %v\n  kills: %s",
		storeKind(storeArgs), sum.executions, sideCount, sideCount, len(sum.kills), sum.events, sum.invocations, sum.duplicates,
		sum.inFlight, sum.inFlightFn, sum.flakyRetries, transportRetries.Load(), time.Since(began).Round(time.Millisecond),
		strings.Join(kills, "; "))
	transport.CloseIdleConnections()
	if err := srv.stop(); err != nil {
		t.Error(err)
	}
	srv.checkLogs()
	if t.Failed() {
		srv.dumpLogs()
	}
}

func storeKind(args []string) string {
	if slices.Contains(args, "--store") {
		return "postgres"
	}
	return "embedded"
}

// sideRuns are the executions that end by StopExecution or by timeout.
type sideRuns struct {
	stopped, timedOut []string
	stopCause         string
}

const (
	sideCount = 20
	holdDef   = `{"StartAt":"Hold","States":{"Hold":{"Type":"Wait","Seconds":100000,"End":true}}}`
	// The execution times out 3 s (scaled) after it started.
	timeoutSeconds = 300
	timeoutDef     = `{"TimeoutSeconds":300,"StartAt":"Hold","States":{"Hold":{"Type":"Wait","Seconds":100000,"End":true}}}`
)

func startSide(ctx context.Context, t *testing.T, c *sfn.Client, prefix string) *sideRuns {
	t.Helper()
	var sr sideRuns
	for _, m := range []struct {
		suffix, def string
		arns        *[]string
	}{{"-stop", holdDef, &sr.stopped}, {"-timeout", timeoutDef, &sr.timedOut}} {
		var sm string
		if err := retry(ctx, func() error {
			out, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
				Name: aws.String(prefix + m.suffix), Definition: aws.String(m.def), RoleArn: aws.String(role)})
			if err == nil {
				sm = *out.StateMachineArn
			}
			return err
		}); err != nil {
			t.Fatalf("CreateStateMachine: %v", err)
		}
		for i := range sideCount {
			arn, err := startExecution(ctx, c, sm, i)
			if err != nil {
				t.Fatalf("start %s %d: %v", m.suffix, i, err)
			}
			*m.arns = append(*m.arns, arn)
		}
	}
	return &sr
}

// stopAll stops the waiting executions, which the server recovered.
func (sr *sideRuns) stopAll(ctx context.Context, t *testing.T, c *sfn.Client, kill int) {
	sr.stopCause = fmt.Sprintf("stopped after restart %d", kill)
	var wg sync.WaitGroup
	for _, arn := range sr.stopped {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := retry(ctx, func() error {
				_, err := c.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(arn),
					Error: aws.String("CrashTest"), Cause: aws.String(sr.stopCause)})
				return err
			}); err != nil {
				t.Errorf("StopExecution %s: %v", arn, err)
			}
		}()
	}
	wg.Wait()
}

// check checks that the stopped executions are ABORTED and the others
// TIMED_OUT no earlier than their timeout, with complete histories.
func (sr *sideRuns) check(ctx context.Context, t *testing.T, c *sfn.Client) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second) // for all of them
	for _, group := range []struct {
		arns   []string
		status types.ExecutionStatus
		last   types.HistoryEventType
	}{
		{sr.stopped, types.ExecutionStatusAborted, types.HistoryEventTypeExecutionAborted},
		{sr.timedOut, types.ExecutionStatusTimedOut, types.HistoryEventTypeExecutionTimedOut},
	} {
		for _, arn := range group.arns {
			var d *sfn.DescribeExecutionOutput
			var h []types.HistoryEvent
			for {
				err := retry(ctx, func() (err error) {
					d, err = c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
					return err
				})
				if err != nil {
					t.Fatalf("DescribeExecution %s: %v", arn, err)
				}
				if d.Status != types.ExecutionStatusRunning || time.Now().After(deadline) {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if err := retry(ctx, func() error {
				out, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), MaxResults: 1000})
				if err == nil {
					h = out.Events
				}
				return err
			}); err != nil {
				t.Fatalf("GetExecutionHistory %s: %v", arn, err)
			}
			var kinds []string
			ok := len(h) == 3
			for i, e := range h {
				kinds = append(kinds, fmt.Sprintf("%d:%s", e.Id, e.Type))
				ok = ok && e.Id == int64(i+1)
			}
			ok = ok && h[0].Type == types.HistoryEventTypeExecutionStarted && h[1].Type == types.HistoryEventTypeWaitStateEntered && h[2].Type == group.last
			if d.Status != group.status || !ok {
				t.Errorf("%s: status %s, history %v; want %s, ExecutionStarted, WaitStateEntered, %s", arn, d.Status, kinds, group.status, group.last)
				continue
			}
			switch group.status {
			case types.ExecutionStatusAborted:
				if aws.ToString(d.Error) != "CrashTest" || aws.ToString(d.Cause) != sr.stopCause {
					t.Errorf("%s: error %q cause %q", arn, aws.ToString(d.Error), aws.ToString(d.Cause))
				}
			case types.ExecutionStatusTimedOut:
				min := time.Duration(timeoutSeconds*timeScale*float64(time.Second)) - 5*time.Millisecond
				if d.StartDate == nil || d.StopDate == nil || d.StopDate.Sub(*d.StartDate) < min {
					t.Errorf("%s: timed out after %v, before its timeout %v", arn, d.StopDate.Sub(*d.StartDate), min)
				}
			}
		}
	}
}

// startExecution starts execution n, retrying through server restarts.
// ExecutionAlreadyExists after a failed attempt means that attempt did
// start it (and it is already closed); the ARN is then derived.
func startExecution(ctx context.Context, c *sfn.Client, sm string, n int) (string, error) {
	name := fmt.Sprintf("x%04d", n)
	in := input(n)
	failedOnce := false
	var arn string
	err := retry(ctx, func() error {
		out, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Name: aws.String(name), Input: aws.String(in)})
		if err == nil {
			arn = *out.ExecutionArn
			return nil
		}
		var exists *types.ExecutionAlreadyExists
		if failedOnce && errors.As(err, &exists) {
			arn = strings.Replace(sm, ":stateMachine:", ":execution:", 1) + ":" + name
			return nil
		}
		failedOnce = true
		return err
	})
	return arn, err
}

// countRunning is how many executions of sm are RUNNING (up to 1000),
// retrying through restarts.
func countRunning(ctx context.Context, c *sfn.Client, sm string) int {
	n := -1
	_ = retry(ctx, func() error {
		out, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm),
			StatusFilter: types.ExecutionStatusRunning, MaxResults: 1000})
		if err == nil {
			n = len(out.Executions)
		}
		return err
	})
	return n
}

// transportRetries counts the calls retry repeated.
var transportRetries atomic.Int64

// retry calls f until it succeeds or fails with an API error (the server
// answered), waiting out connection failures while the server restarts.
// Every call retried this way is idempotent: reads, CreateStateMachine with
// the same definition, StartExecution with the same name and input.
func retry(ctx context.Context, f func() error) error {
	for {
		err := f()
		var ae smithy.APIError
		if err == nil || errors.As(err, &ae) {
			return err
		}
		transportRetries.Add(1)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// newClient returns an SDK client for endpoint without the SDK's own
// retries (retry does that) and its transport, whose pooled connections to
// a killed server are dropped after each restart.
func newClient(endpoint string) (*sfn.Client, *http.Transport) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 32
	return sfn.New(sfn.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		Retryer:      aws.NopRetryer{},
		HTTPClient:   &http.Client{Transport: t, Timeout: 30 * time.Second},
	}), t
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// server is the stepwell process under test, restarted on the same
// address and data.
type server struct {
	t      *testing.T
	bin    string
	args   []string
	logDir string
	starts int
	cmd    *exec.Cmd
	done   chan struct{}
}

var listeningRE = regexp.MustCompile(`listening on (http://\S+)`)

// start runs the server and waits until it listens.
func (s *server) start() (time.Duration, error) {
	begin := time.Now()
	s.starts++
	logPath := filepath.Join(s.logDir, fmt.Sprintf("stepwell-%d.log", s.starts))
	logf, err := os.Create(logPath)
	if err != nil {
		return 0, err
	}
	cmd := exec.Command(s.bin, s.args...)
	cmd.Stdout = logf
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		logf.Close()
		return 0, fmt.Errorf("start stepwell: %w", err)
	}
	s.cmd, s.done = cmd, make(chan struct{})
	listening := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		found := false
		for sc.Scan() {
			fmt.Fprintln(logf, sc.Text())
			if !found && listeningRE.MatchString(sc.Text()) {
				found = true
				close(listening)
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	done := s.done
	go func() {
		_ = cmd.Wait()
		pw.Close()
		logf.Close()
		close(done)
	}()
	select {
	case <-listening:
		return time.Since(begin), nil
	case <-done:
		return 0, fmt.Errorf("stepwell exited before listening (%s):\n%s", cmd.ProcessState, tail(logPath))
	case <-time.After(60 * time.Second):
		return 0, fmt.Errorf("stepwell did not listen within 60s:\n%s", tail(logPath))
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *server) kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
	s.cmd = nil
}

// stop ends the server gracefully (SIGINT) and reports how it exited.
func (s *server) stop() error {
	if s.cmd == nil {
		return nil
	}
	cmd := s.cmd
	s.cmd = nil
	_ = cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-s.done
		return errors.New("stepwell did not stop within 10s of SIGINT")
	}
	if !cmd.ProcessState.Success() {
		return fmt.Errorf("stepwell exited with %v after SIGINT", cmd.ProcessState)
	}
	return nil
}

// checkLogs fails the test if a server process panicked or, built with
// -race, reported a data race.
func (s *server) checkLogs() {
	for i := 1; i <= s.starts; i++ {
		b, err := os.ReadFile(filepath.Join(s.logDir, fmt.Sprintf("stepwell-%d.log", i)))
		if err != nil {
			s.t.Error(err)
			continue
		}
		for _, bad := range []string{"WARNING: DATA RACE", "panic:", "fatal error:"} {
			if j := strings.Index(string(b), bad); j >= 0 {
				s.t.Errorf("server process %d: %s\n%s", i, bad, b[j:min(len(b), j+6000)])
				break
			}
		}
	}
}

func (s *server) dumpLogs() {
	for i := 1; i <= s.starts; i++ {
		p := filepath.Join(s.logDir, fmt.Sprintf("stepwell-%d.log", i))
		s.t.Logf("server log %d (tail):\n%s", i, tail(p))
	}
}

func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// attempt identifies one task attempt.
type attempt struct {
	exec  string
	state string
	idx   int
	retry int
}

// payload is what the tasks send to the function.
type payload struct {
	Exec  string `json:"exec"`
	State string `json:"state"`
	Idx   int    `json:"idx"`
	Retry int    `json:"retry"`
	V     int    `json:"v"`
}

func (p payload) key() attempt { return attempt{p.Exec, p.State, p.Idx, p.Retry} }

// lambda is a Lambda Invoke API that records every invocation by attempt.
// It answers {"d": 2v} after 20-120 ms, except that the first attempt for
// a v divisible by 7 fails with the function error "Flaky".
type lambda struct {
	mu    sync.Mutex
	calls map[attempt]int
	open  atomic.Int64 // invocations being answered
}

func newLambda() *lambda { return &lambda{calls: map[attempt]int{}} }

func (l *lambda) snapshot() map[attempt]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := make(map[attempt]int, len(l.calls))
	for k, v := range l.calls {
		m[k] = v
	}
	return m
}

func (l *lambda) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fn, ok := strings.CutPrefix(r.URL.Path, "/2015-03-31/functions/")
	fn, ok2 := strings.CutSuffix(fn, "/invocations")
	if r.Method != http.MethodPost || !ok || !ok2 ||
		(fn != "crash-fn" && fn != "arn:aws:lambda:us-east-1:111111111111:function:crash-fn") {
		http.Error(w, `{"Type":"User","message":"Function not found"}`, http.StatusNotFound)
		return
	}
	var p payload
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		http.Error(w, `{"message":"bad payload"}`, http.StatusBadRequest)
		return
	}
	l.mu.Lock()
	l.calls[p.key()]++
	l.mu.Unlock()
	l.open.Add(1)
	defer l.open.Add(-1)
	select {
	case <-time.After(time.Duration(20+rand.IntN(100)) * time.Millisecond):
	case <-r.Context().Done():
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amz-Executed-Version", "$LATEST")
	if p.Retry == 0 && flaky(p.V) {
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		_, _ = io.WriteString(w, `{"errorType":"Flaky","errorMessage":"first attempts fail"}`)
		return
	}
	fmt.Fprintf(w, `{"d":%d}`, 2*p.V)
}

// checkCounts is what one execution's history showed.
type checkCounts struct {
	events     int
	inFlight   int
	inFlightFn int // of which on the function-ARN task (LambdaFunctionFailed)
	flaky      int
}

// checkExecution checks execution n: status, output and history.
func checkExecution(ctx context.Context, c *sfn.Client, n int, arn string, invoked map[attempt]int, errs []error) (checkCounts, []error) {
	var cc checkCounts
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	var d *sfn.DescribeExecutionOutput
	err := retry(ctx, func() (err error) {
		d, err = c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		return err
	})
	if err != nil {
		bad("DescribeExecution: %v", err)
		return cc, errs
	}
	if d.Status != types.ExecutionStatusSucceeded {
		bad("status %s (%s: %s)", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	} else {
		var got any
		if err := json.Unmarshal([]byte(aws.ToString(d.Output)), &got); err != nil || !reflect.DeepEqual(got, expectedOutput(n)) {
			want, _ := json.Marshal(expectedOutput(n))
			bad("output %s, want %s", aws.ToString(d.Output), want)
		}
	}
	var events []types.HistoryEvent
	err = retry(ctx, func() error {
		events = events[:0]
		p := sfn.NewGetExecutionHistoryPaginator(c, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), MaxResults: 1000})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return err
			}
			events = append(events, out.Events...)
		}
		return nil
	})
	if err != nil {
		bad("GetExecutionHistory: %v", err)
		return cc, errs
	}
	cc.events = len(events)
	return cc, checkHistory(n, arn, events, invoked, &cc, errs)
}

// checkHistory checks that a history is complete and well-formed.
func checkHistory(n int, arn string, events []types.HistoryEvent, invoked map[attempt]int, cc *checkCounts, errs []error) []error {
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	// Consecutive ids from 1, previousEventId pointing back.
	byID := map[int64]types.HistoryEvent{}
	for i, e := range events {
		if e.Id != int64(i+1) {
			bad("event #%d has id %d: ids are not consecutive from 1", i+1, e.Id)
			return errs
		}
		if e.PreviousEventId < 0 || e.PreviousEventId >= e.Id {
			bad("event %d (%s) has previousEventId %d", e.Id, e.Type, e.PreviousEventId)
		}
		if e.Timestamp == nil {
			bad("event %d (%s) has no timestamp", e.Id, e.Type)
		}
		byID[e.Id] = e
	}
	if len(events) < 2 || events[0].Type != types.HistoryEventTypeExecutionStarted ||
		events[len(events)-1].Type != types.HistoryEventTypeExecutionSucceeded {
		bad("history does not run from ExecutionStarted to ExecutionSucceeded (%d events)", len(events))
		return errs
	}

	// Every state entered once per expected visit, and exited.
	even := n%2 == 0
	want := map[string]int{"Init": 1, "Choose": 1, "Fan": 1, "Each": 1, "Work": 3, "Shape": 3, "Nap": 1, "Single": 1, "Done": 1}
	if even {
		want["Pause"], want["Paused"] = 1, 1
	} else {
		want["Skip"] = 1
	}
	entered, exited := map[string][]int64{}, map[string][]int64{}
	types_ := map[types.HistoryEventType]int{}
	for _, e := range events {
		types_[e.Type]++
		switch {
		case strings.HasSuffix(string(e.Type), "StateEntered"):
			if e.StateEnteredEventDetails == nil {
				bad("event %d (%s) without details", e.Id, e.Type)
				continue
			}
			nm := aws.ToString(e.StateEnteredEventDetails.Name)
			entered[nm] = append(entered[nm], e.Id)
		case strings.HasSuffix(string(e.Type), "StateExited"):
			if e.StateExitedEventDetails == nil {
				bad("event %d (%s) without details", e.Id, e.Type)
				continue
			}
			nm := aws.ToString(e.StateExitedEventDetails.Name)
			exited[nm] = append(exited[nm], e.Id)
		}
	}
	for _, nm := range sortedKeys(want, entered, exited) {
		en, ex := entered[nm], exited[nm]
		if len(en) != want[nm] || len(ex) != want[nm] {
			bad("state %s entered %d and exited %d times, want %d", nm, len(en), len(ex), want[nm])
			continue
		}
		for i := range en { // the i-th entry precedes the i-th exit
			if en[i] > ex[i] {
				bad("state %s exited (event %d) before it was entered (event %d)", nm, ex[i], en[i])
			}
		}
	}
	for typ, w := range map[types.HistoryEventType]int{
		types.HistoryEventTypeExecutionStarted: 1, types.HistoryEventTypeExecutionSucceeded: 1,
		types.HistoryEventTypeParallelStateStarted: 1, types.HistoryEventTypeParallelStateSucceeded: 1,
		types.HistoryEventTypeMapStateStarted: 1, types.HistoryEventTypeMapStateSucceeded: 1,
		types.HistoryEventTypeMapIterationStarted: 3, types.HistoryEventTypeMapIterationSucceeded: 3,
		types.HistoryEventTypeTaskSucceeded: 3, types.HistoryEventTypeLambdaFunctionSucceeded: 1,
	} {
		if types_[typ] != w {
			bad("%d %s events, want %d", types_[typ], typ, w)
		}
	}
	for typ, k := range types_ {
		if strings.HasSuffix(string(typ), "Aborted") || strings.HasSuffix(string(typ), "TimedOut") ||
			(strings.HasSuffix(string(typ), "Failed") && typ != types.HistoryEventTypeTaskFailed &&
				typ != types.HistoryEventTypeLambdaFunctionFailed) {
			bad("%d unexpected %s events", k, typ)
		}
	}

	// Waits lasted at least their (scaled) duration: recovery fires them at
	// their original due time, never earlier.
	for nm, secs := range map[string]int{"Pause": pauseSeconds, "Nap": napSeconds} {
		if len(entered[nm]) != 1 || len(exited[nm]) != 1 {
			continue
		}
		in, out := byID[entered[nm][0]].Timestamp, byID[exited[nm][0]].Timestamp
		min := time.Duration(float64(secs)*timeScale*float64(time.Second)) - 5*time.Millisecond
		if in != nil && out != nil && out.Sub(*in) < min {
			bad("wait %s lasted %v, less than %v", nm, out.Sub(*in), min)
		}
	}

	// Task attempts: Scheduled -> Started -> Succeeded|Failed, each attempt
	// once, retries numbered 0..k with only the last succeeding, and every
	// invocation the function saw is an attempt recorded in the history
	// (the attempt was durable before its side effect).
	attempts := map[int64]payload{} // TaskScheduled id -> attempt
	seen := map[attempt]bool{}
	started := map[int64]int64{} // TaskStarted id -> TaskScheduled id
	startedOf := map[int64]int{}
	outcomeOf := map[int64]int{}
	type slot struct {
		state string
		idx   int
	}
	retries := map[slot][]int{}
	succeeded := map[slot]int{}
	for _, e := range events {
		switch e.Type {
		case types.HistoryEventTypeTaskScheduled, types.HistoryEventTypeLambdaFunctionScheduled:
			// lambda:invoke records its parameters (the payload inside),
			// a function ARN its input (the payload).
			var pl payload
			var err error
			switch d, l := e.TaskScheduledEventDetails, e.LambdaFunctionScheduledEventDetails; {
			case d != nil:
				var params struct{ Payload payload }
				err = json.Unmarshal([]byte(aws.ToString(d.Parameters)), &params)
				pl = params.Payload
			case l != nil:
				err = json.Unmarshal([]byte(aws.ToString(l.Input)), &pl)
			default:
				err = errors.New("no details")
			}
			if err != nil {
				bad("%s %d: unreadable payload: %v", e.Type, e.Id, err)
				continue
			}
			if pl.Exec != arn {
				bad("%s %d for execution %q", e.Type, e.Id, pl.Exec)
			}
			if seen[pl.key()] {
				bad("attempt %v scheduled twice", pl.key())
			}
			seen[pl.key()] = true
			attempts[e.Id] = pl
			retries[slot{pl.State, pl.Idx}] = append(retries[slot{pl.State, pl.Idx}], pl.Retry)
		case types.HistoryEventTypeTaskStarted, types.HistoryEventTypeLambdaFunctionStarted:
			if _, ok := attempts[e.PreviousEventId]; !ok {
				bad("%s %d follows event %d, not a task's scheduling", e.Type, e.Id, e.PreviousEventId)
				continue
			}
			started[e.Id] = e.PreviousEventId
			startedOf[e.PreviousEventId]++
		case types.HistoryEventTypeTaskSucceeded, types.HistoryEventTypeTaskFailed,
			types.HistoryEventTypeLambdaFunctionSucceeded, types.HistoryEventTypeLambdaFunctionFailed:
			sched, ok := started[e.PreviousEventId]
			if !ok {
				bad("%s %d follows event %d, not a task's start", e.Type, e.Id, e.PreviousEventId)
				continue
			}
			outcomeOf[e.PreviousEventId]++
			pl := attempts[sched]
			if e.Type == types.HistoryEventTypeTaskSucceeded || e.Type == types.HistoryEventTypeLambdaFunctionSucceeded {
				succeeded[slot{pl.State, pl.Idx}]++
				if invoked[pl.key()] == 0 {
					bad("attempt %v succeeded but the function never saw it", pl.key())
				}
				continue
			}
			var errName, cause string
			if f := e.TaskFailedEventDetails; f != nil {
				errName, cause = aws.ToString(f.Error), aws.ToString(f.Cause)
			} else if f := e.LambdaFunctionFailedEventDetails; f != nil {
				errName, cause = aws.ToString(f.Error), aws.ToString(f.Cause)
			}
			switch {
			case errName == "Flaky" && pl.Retry == 0 && flaky(pl.V):
				cc.flaky++
				if invoked[pl.key()] == 0 {
					bad("attempt %v failed with Flaky but the function never saw it", pl.key())
				}
			case errName == "States.TaskFailed" && cause == inFlightCause:
				cc.inFlight++
				if e.Type == types.HistoryEventTypeLambdaFunctionFailed {
					cc.inFlightFn++
				}
			default:
				bad("%s %d for %v: unexpected error %q (%s)", e.Type, e.Id, pl.key(), errName, cause)
			}
		}
	}
	for id, pl := range attempts {
		if startedOf[id] != 1 {
			bad("attempt %v started %d times", pl.key(), startedOf[id])
		}
	}
	for id := range started {
		if outcomeOf[id] != 1 {
			bad("attempt %v has %d outcomes", attempts[started[id]].key(), outcomeOf[id])
		}
	}
	wantSlots := []slot{{"Single", -1}, {"Work", 0}, {"Work", 1}, {"Work", 2}}
	for _, s := range wantSlots {
		rs := retries[s]
		sort.Ints(rs)
		for i, r := range rs {
			if r != i {
				bad("task %s[%d] attempts have retry counts %v, want 0..%d", s.state, s.idx, rs, len(rs)-1)
				break
			}
		}
		if succeeded[s] != 1 {
			bad("task %s[%d] succeeded %d times", s.state, s.idx, succeeded[s])
		}
	}
	if len(retries) != len(wantSlots) {
		bad("tasks attempted: %v", retries)
	}
	for k, calls := range invoked {
		if k.exec == arn && calls > 0 && !seen[k] {
			bad("the function saw attempt %v, which the history does not record", k)
		}
	}
	return errs
}

func sortedKeys(want map[string]int, got ...map[string][]int64) []string {
	set := map[string]bool{}
	for k := range want {
		set[k] = true
	}
	for _, m := range got {
		for k := range m {
			set[k] = true
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
