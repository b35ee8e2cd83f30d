// Package e2e tests the real `stepwell serve` binary through the AWS SDK
// for Go v2 Step Functions client, as a user would.
package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

var endpoint string // http://127.0.0.1:PORT of the server under test

var binary string // the stepwell binary TestMain built, for tests that start servers of their own

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "stepwell-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "stepwell")
	build := exec.Command("go", "build", "-o", bin, "./cmd/stepwell")
	build.Dir = "../.."
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build stepwell:", err)
		return 1
	}
	binary = bin
	// The default store (embedded, on disk) in a data directory of its own.
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"),
		"--time-scale", "0.01", "--account-id", "111111111111")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: start stepwell:", err)
		return 1
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	addr := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`listening on (http://\S+)`)
		sc := bufio.NewScanner(stderr)
		found := false
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil && !found {
				found = true
				addr <- m[1]
			}
		}
		if !found {
			close(addr)
		}
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			fmt.Fprintln(os.Stderr, "e2e: stepwell exited before listening")
			return 1
		}
		endpoint = a
	case <-time.After(30 * time.Second):
		fmt.Fprintln(os.Stderr, "e2e: stepwell did not print its address")
		return 1
	}
	code := m.Run()
	for _, f := range atExit {
		f()
	}
	return code
}

// atExit holds what the tests started that must be stopped when they end
// (for example a second server).
var atExit []func()

// client is a client of the server TestMain started.
func client(t *testing.T) *sfn.Client {
	t.Helper()
	return clientOf(endpoint)
}

// clientOf is a client of the server at url.
func clientOf(url string) *sfn.Client {
	return sfn.New(sfn.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		// StartSyncExecution would go to "sync-127.0.0.1", which does not
		// resolve: keep the host as given.
		APIOptions: []func(*middleware.Stack) error{func(s *middleware.Stack) error {
			return s.Initialize.Add(middleware.InitializeMiddlewareFunc("noHostPrefix",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
				}), middleware.Before)
		}},
	})
}

const (
	role       = "arn:aws:iam::111111111111:role/stepwell"
	passDef    = `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"ok":true},"ResultPath":"$.r","End":true}}}`
	waitDef    = `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":100000,"End":true}}}`
	failDef    = `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Boom","Cause":"bad"}}}`
	chainDef   = `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Next":"C"},"C":{"Type":"Pass","End":true}}}`
	machineArn = "arn:aws:states:us-east-1:111111111111:stateMachine:"
)

func createMachine(t *testing.T, c *sfn.Client, name, def string, typ types.StateMachineType) string {
	t.Helper()
	out, err := c.CreateStateMachine(context.Background(), &sfn.CreateStateMachineInput{
		Name: aws.String(name), Definition: aws.String(def), RoleArn: aws.String(role), Type: typ,
	})
	if err != nil {
		t.Fatalf("CreateStateMachine %s: %v", name, err)
	}
	return *out.StateMachineArn
}

// eventually calls cond until it reports true, and fails the test with
// what it was waiting for if timeout passes first. It is for the one kind
// of wait this package cannot make on an event: the Step Functions API has
// no way to wait for an execution to change (DescribeExecution and
// GetExecutionHistory answer at once; AWS's own SDK waiters poll them too),
// and the server under test is a separate process. So it polls, with a
// backoff from 1 ms doubling to 50 ms so that a fast server is seen at
// once and a loaded one is not flooded; timeout is a bound on a hang, never
// an assertion about how long the server took. Where the API does offer an
// event (GetActivityTask's long poll, the Lambda stub being called), tests
// wait on that instead.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for backoff := time.Millisecond; !cond(); backoff = min(2*backoff, 50*time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting after %v: %s", timeout, what)
		}
		time.Sleep(backoff)
	}
}

// waitDone waits until the execution arn is no longer running and returns
// its description.
func waitDone(t *testing.T, c *sfn.Client, arn string) *sfn.DescribeExecutionOutput {
	t.Helper()
	var d *sfn.DescribeExecutionOutput
	eventually(t, 30*time.Second, "execution "+arn+" to end", func() bool {
		var err error
		d, err = c.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err != nil {
			t.Fatalf("DescribeExecution: %v", err)
		}
		return d.Status != types.ExecutionStatusRunning
	})
	return d
}

// runSeq numbers the names unique makes.
var runSeq atomic.Int64

// unique returns base with a suffix no other call in this process returns,
// so that `go test -count=N` (which runs each test N times against the one
// server TestMain started) never meets a state machine, execution or
// activity left by an earlier run. Each process starts its own server on
// a fresh data directory, so a counter is enough.
func unique(base string) string {
	return fmt.Sprintf("%s-%d", base, runSeq.Add(1))
}

func TestStateMachineLifecycle(t *testing.T) {
	ctx := context.Background()
	c := client(t)
	name := unique("lifecycle")
	arn := createMachine(t, c, name, passDef, "")
	if arn != machineArn+name {
		t.Fatalf("arn %s", arn)
	}
	// Idempotent create.
	if again := createMachine(t, c, name, passDef, types.StateMachineTypeStandard); again != arn {
		t.Fatalf("second create: %s", again)
	}
	d, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if *d.Name != name || *d.Definition != passDef || d.Type != types.StateMachineTypeStandard || *d.RoleArn != role ||
		d.Status != types.StateMachineStatusActive || d.RevisionId != nil || d.CreationDate == nil ||
		time.Since(*d.CreationDate) > time.Minute || d.LoggingConfiguration == nil || d.LoggingConfiguration.Level != types.LogLevelOff ||
		d.TracingConfiguration == nil || d.TracingConfiguration.Enabled {
		t.Fatalf("describe: %+v", d)
	}
	u, err := c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(arn), Definition: aws.String(chainDef)})
	if err != nil {
		t.Fatal(err)
	}
	if u.RevisionId == nil || u.UpdateDate == nil {
		t.Fatalf("update: %+v", u)
	}
	d, err = c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if *d.Definition != chainDef || d.RevisionId == nil || *d.RevisionId != *u.RevisionId {
		t.Fatalf("describe after update: %+v", d)
	}
	// A different definition under the same name is a conflict now.
	_, err = c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String(name), Definition: aws.String(passDef), RoleArn: aws.String(role)})
	wantAPIError[*types.StateMachineAlreadyExists](t, err)

	if _, err := c.DeleteStateMachine(ctx, &sfn.DeleteStateMachineInput{StateMachineArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
	wantAPIError[*types.StateMachineDoesNotExist](t, err)
	// Deleting again succeeds, as on AWS.
	if _, err := c.DeleteStateMachine(ctx, &sfn.DeleteStateMachineInput{StateMachineArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
}

func TestListStateMachines_Pages(t *testing.T) {
	ctx := context.Background()
	c := client(t)
	want := map[string]bool{}
	for i := range 5 {
		want[createMachine(t, c, unique(fmt.Sprint("paged-", i)), passDef, "")] = true
	}
	seen := map[string]bool{}
	p := sfn.NewListStateMachinesPaginator(c, &sfn.ListStateMachinesInput{MaxResults: 2})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(out.StateMachines) > 2 {
			t.Fatalf("page of %d", len(out.StateMachines))
		}
		for _, sm := range out.StateMachines {
			if seen[*sm.StateMachineArn] {
				t.Fatalf("%s listed twice", *sm.StateMachineArn)
			}
			seen[*sm.StateMachineArn] = true
			// Other tests' machines are listed too (Express ones among
			// them): check the items of this test's.
			if sm.CreationDate == nil || want[*sm.StateMachineArn] && sm.Type != types.StateMachineTypeStandard {
				t.Fatalf("item %+v", sm)
			}
		}
	}
	for arn := range want {
		if !seen[arn] {
			t.Fatalf("%s not listed", arn)
		}
	}
	if pages < 3 {
		t.Fatalf("%d pages for at least 5 machines by 2", pages)
	}
}

func TestStandardExecution(t *testing.T) {
	ctx := context.Background()
	c := client(t)
	name := unique("standard")
	sm := createMachine(t, c, name, passDef, "")
	start, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Name: aws.String("run-1"), Input: aws.String(`{"a": 1}`)})
	if err != nil {
		t.Fatal(err)
	}
	if *start.ExecutionArn != "arn:aws:states:us-east-1:111111111111:execution:"+name+":run-1" || start.StartDate == nil {
		t.Fatalf("start: %+v", start)
	}
	d := waitDone(t, c, *start.ExecutionArn)
	if d.Status != types.ExecutionStatusSucceeded || *d.Input != `{"a": 1}` || *d.Output != `{"a":1,"r":{"ok":true}}` ||
		d.StopDate == nil || *d.StateMachineArn != sm || *d.Name != "run-1" {
		t.Fatalf("describe: %+v", d)
	}
	// Same name after the execution closed.
	_, err = c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Name: aws.String("run-1"), Input: aws.String(`{"a": 1}`)})
	wantAPIError[*types.ExecutionAlreadyExists](t, err)

	h, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: start.ExecutionArn})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range h.Events {
		kinds = append(kinds, string(e.Type))
	}
	if got := strings.Join(kinds, ","); got != "ExecutionStarted,PassStateEntered,PassStateExited,ExecutionSucceeded" {
		t.Fatalf("history %s", got)
	}
	if in := h.Events[0].ExecutionStartedEventDetails.Input; in == nil || *in != `{"a": 1}` {
		t.Fatalf("ExecutionStarted input %v", in)
	}
	// includeExecutionData=false strips inputs and outputs.
	h, err = c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: start.ExecutionArn, IncludeExecutionData: aws.Bool(false)})
	if err != nil {
		t.Fatal(err)
	}
	if h.Events[0].ExecutionStartedEventDetails.Input != nil || h.Events[3].ExecutionSucceededEventDetails.Output != nil {
		t.Fatalf("execution data not stripped: %+v", h.Events[3].ExecutionSucceededEventDetails)
	}
	f, err := c.DescribeStateMachineForExecution(ctx, &sfn.DescribeStateMachineForExecutionInput{ExecutionArn: start.ExecutionArn})
	if err != nil {
		t.Fatal(err)
	}
	if *f.Definition != passDef || *f.StateMachineArn != sm || *f.Name != name || f.UpdateDate == nil {
		t.Fatalf("for execution: %+v", f)
	}
}

func TestFailedExecution(t *testing.T) {
	c := client(t)
	sm := createMachine(t, c, unique("failing"), failDef, "")
	start, err := c.StartExecution(context.Background(), &sfn.StartExecutionInput{StateMachineArn: aws.String(sm)})
	if err != nil {
		t.Fatal(err)
	}
	d := waitDone(t, c, *start.ExecutionArn)
	if d.Status != types.ExecutionStatusFailed || *d.Error != "Boom" || *d.Cause != "bad" || d.Output != nil || *d.Input != "{}" {
		t.Fatalf("describe: %+v", d)
	}
}

func TestStopExecution_IdempotentStart(t *testing.T) {
	ctx := context.Background()
	c := client(t)
	sm := createMachine(t, c, unique("waiting"), waitDef, "")
	in := &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Name: aws.String("long"), Input: aws.String(`{}`)}
	s1, err := c.StartExecution(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	// Same name and input while running: the same execution.
	s2, err := c.StartExecution(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if *s1.ExecutionArn != *s2.ExecutionArn || !s1.StartDate.Equal(*s2.StartDate) {
		t.Fatalf("idempotent start: %v vs %v", *s1.ExecutionArn, *s2.ExecutionArn)
	}
	// Different input: a conflict.
	_, err = c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Name: aws.String("long"), Input: aws.String(`{"x":1}`)})
	wantAPIError[*types.ExecutionAlreadyExists](t, err)

	l, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm), StatusFilter: types.ExecutionStatusRunning})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Executions) != 1 || *l.Executions[0].ExecutionArn != *s1.ExecutionArn {
		t.Fatalf("running: %+v", l.Executions)
	}
	stop, err := c.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: s1.ExecutionArn, Error: aws.String("Manual"), Cause: aws.String("test")})
	if err != nil {
		t.Fatal(err)
	}
	if stop.StopDate == nil {
		t.Fatal("no stopDate")
	}
	d := waitDone(t, c, *s1.ExecutionArn)
	if d.Status != types.ExecutionStatusAborted || *d.Error != "Manual" || *d.Cause != "test" {
		t.Fatalf("after stop: %+v", d)
	}
	h, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: s1.ExecutionArn, ReverseOrder: true, MaxResults: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Events) != 1 || h.Events[0].Type != types.HistoryEventTypeExecutionAborted || h.NextToken == nil {
		t.Fatalf("last event: %+v", h.Events)
	}
}

func TestListExecutions_Pages(t *testing.T) {
	ctx := context.Background()
	c := client(t)
	sm := createMachine(t, c, unique("many"), passDef, "")
	var want []string
	for i := range 7 {
		s, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Name: aws.String(fmt.Sprint("e", i))})
		if err != nil {
			t.Fatal(err)
		}
		waitDone(t, c, *s.ExecutionArn)
		want = append([]string{*s.ExecutionArn}, want...)
	}
	var got []string
	p := sfn.NewListExecutionsPaginator(c, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm), MaxResults: 3})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range out.Executions {
			if x.Status != types.ExecutionStatusSucceeded || x.StopDate == nil {
				t.Fatalf("item %+v", x)
			}
			got = append(got, *x.ExecutionArn)
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("listed %v\nwant %v (newest first)", got, want)
	}
	failed, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm), StatusFilter: types.ExecutionStatusFailed})
	if err != nil {
		t.Fatal(err)
	}
	if len(failed.Executions) != 0 {
		t.Fatalf("failed filter: %+v", failed.Executions)
	}
}

func TestGetExecutionHistory_Pages(t *testing.T) {
	ctx := context.Background()
	c := client(t)
	sm := createMachine(t, c, unique("chain"), chainDef, "")
	s, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm)})
	if err != nil {
		t.Fatal(err)
	}
	waitDone(t, c, *s.ExecutionArn)
	for _, reverse := range []bool{false, true} {
		var ids []int64
		p := sfn.NewGetExecutionHistoryPaginator(c, &sfn.GetExecutionHistoryInput{ExecutionArn: s.ExecutionArn, MaxResults: 3, ReverseOrder: reverse})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Events) > 3 {
				t.Fatalf("page of %d", len(out.Events))
			}
			for _, e := range out.Events {
				if e.Timestamp == nil {
					t.Fatalf("event %d without timestamp", e.Id)
				}
				ids = append(ids, e.Id)
			}
		}
		if len(ids) != 8 {
			t.Fatalf("reverse=%v: %d events %v", reverse, len(ids), ids)
		}
		for i, id := range ids {
			want := int64(i + 1)
			if reverse {
				want = int64(8 - i)
			}
			if id != want {
				t.Fatalf("reverse=%v ids %v", reverse, ids)
			}
		}
	}
	_, err = c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: s.ExecutionArn, NextToken: aws.String("bogus")})
	wantAPIError[*types.InvalidToken](t, err)
}

func TestExpress(t *testing.T) {
	ctx := context.Background()
	c := client(t)
	name := unique("express")
	sm := createMachine(t, c, name, passDef, types.StateMachineTypeExpress)
	out, err := c.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: aws.String(sm), Name: aws.String("sync"), Input: aws.String(`{"b":2}`)})
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != types.SyncExecutionStatusSucceeded || *out.Output != `{"b":2,"r":{"ok":true}}` ||
		!strings.HasPrefix(*out.ExecutionArn, "arn:aws:states:us-east-1:111111111111:express:"+name+":sync:") ||
		out.StopDate == nil || out.BillingDetails == nil {
		t.Fatalf("sync: %+v", out)
	}
	fsm := createMachine(t, c, unique("express-fail"), failDef, types.StateMachineTypeExpress)
	fo, err := c.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: aws.String(fsm)})
	if err != nil {
		t.Fatal(err)
	}
	if fo.Status != types.SyncExecutionStatusFailed || *fo.Error != "Boom" || *fo.Cause != "bad" {
		t.Fatalf("sync failure: %+v", fo)
	}
	// Asynchronous Express executions are kept in memory for DescribeExecution.
	s, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Input: aws.String(`{"c":3}`)})
	if err != nil {
		t.Fatal(err)
	}
	d := waitDone(t, c, *s.ExecutionArn)
	if d.Status != types.ExecutionStatusSucceeded || *d.Output != `{"c":3,"r":{"ok":true}}` {
		t.Fatalf("express async: %+v", d)
	}
	_, err = c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm)})
	wantAPIError[*types.StateMachineTypeNotSupported](t, err)
	std := createMachine(t, c, unique("not-express"), passDef, "")
	_, err = c.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: aws.String(std)})
	wantAPIError[*types.StateMachineTypeNotSupported](t, err)
}

func TestValidateStateMachineDefinition(t *testing.T) {
	ctx := context.Background()
	c := client(t)
	ok, err := c.ValidateStateMachineDefinition(ctx, &sfn.ValidateStateMachineDefinitionInput{Definition: aws.String(passDef)})
	if err != nil {
		t.Fatal(err)
	}
	if ok.Result != types.ValidateStateMachineDefinitionResultCodeOk || len(ok.Diagnostics) != 0 {
		t.Fatalf("valid: %+v", ok)
	}
	bad, err := c.ValidateStateMachineDefinition(ctx, &sfn.ValidateStateMachineDefinitionInput{Definition: aws.String(`{"States":{}}`)})
	if err != nil {
		t.Fatal(err)
	}
	if bad.Result != types.ValidateStateMachineDefinitionResultCodeFail || len(bad.Diagnostics) == 0 ||
		bad.Diagnostics[0].Severity != types.ValidateStateMachineDefinitionSeverityError || *bad.Diagnostics[0].Code == "" {
		t.Fatalf("invalid: %+v", bad)
	}
}

// wantAPIError checks that err is the modelled AWS error E.
func wantAPIError[E error](t *testing.T, err error) {
	t.Helper()
	var e E
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want %T", err, err, e)
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	c := client(t)
	sm := createMachine(t, c, unique("errors"), passDef, "")
	missingSM := machineArn + "nope"
	missingX := "arn:aws:states:us-east-1:111111111111:execution:errors:nope"
	tests := []struct {
		name string
		call func() error
		code string // the error code the SDK reports
	}{
		{"invalid definition", func() error {
			_, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("x"), Definition: aws.String(`{"StartAt":"A"}`), RoleArn: aws.String(role)})
			return err
		}, "InvalidDefinition"},
		{"definition not JSON", func() error {
			_, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("x"), Definition: aws.String(`{`), RoleArn: aws.String(role)})
			return err
		}, "InvalidDefinition"},
		{"invalid name", func() error {
			_, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("a b"), Definition: aws.String(passDef), RoleArn: aws.String(role)})
			return err
		}, "InvalidName"},
		{"name too long", func() error {
			_, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String(strings.Repeat("n", 81)), Definition: aws.String(passDef), RoleArn: aws.String(role)})
			return err
		}, "ValidationException"},
		{"bad type", func() error {
			_, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("t"), Definition: aws.String(passDef), RoleArn: aws.String(role), Type: "BATCH"})
			return err
		}, "ValidationException"},
		{"invalid arn", func() error {
			_, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String("not-an-arn")})
			return err
		}, "InvalidArn"},
		{"execution arn for a machine", func() error {
			_, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(missingX)})
			return err
		}, "InvalidArn"},
		{"missing machine", func() error {
			_, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(missingSM)})
			return err
		}, "StateMachineDoesNotExist"},
		{"start missing machine", func() error {
			_, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(missingSM)})
			return err
		}, "StateMachineDoesNotExist"},
		{"missing execution", func() error {
			_, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(missingX)})
			return err
		}, "ExecutionDoesNotExist"},
		{"history of missing execution", func() error {
			_, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(missingX)})
			return err
		}, "ExecutionDoesNotExist"},
		{"invalid input", func() error {
			_, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Input: aws.String(`{"a":`)})
			return err
		}, "InvalidExecutionInput"},
		{"invalid execution name", func() error {
			_, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Name: aws.String("x/y")})
			return err
		}, "InvalidName"},
		{"maxResults too large", func() error {
			_, err := c.ListStateMachines(ctx, &sfn.ListStateMachinesInput{MaxResults: 1001})
			return err
		}, "ValidationException"},
		{"invalid token", func() error {
			_, err := c.ListStateMachines(ctx, &sfn.ListStateMachinesInput{NextToken: aws.String("nope")})
			return err
		}, "InvalidToken"},
		{"update without changes", func() error {
			_, err := c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(sm)})
			return err
		}, "MissingRequiredParameter"},
		{"version description without publish", func() error {
			_, err := c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(sm), Definition: aws.String(passDef), VersionDescription: aws.String("d")})
			return err
		}, "ValidationException"},
		{"stop missing execution", func() error {
			_, err := c.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(missingX)})
			return err
		}, "ExecutionDoesNotExist"},
		{"list executions of missing machine", func() error {
			_, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(missingSM)})
			return err
		}, "StateMachineDoesNotExist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var ae smithy.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("error %v, want an API error %s", err, tt.code)
			}
			if ae.ErrorCode() != tt.code {
				t.Fatalf("error code %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), tt.code)
			}
			if ae.ErrorMessage() == "" {
				t.Fatalf("%s without a message", tt.code)
			}
		})
	}
}

// TestProtocolErrors sends raw requests the SDK cannot produce.
func TestProtocolErrors(t *testing.T) {
	tests := []struct {
		name, target, body, wantType string
	}{
		{"malformed JSON", "AWSStepFunctions.ListStateMachines", `{"maxResults":`, "SerializationException"},
		{"wrong member type", "AWSStepFunctions.ListStateMachines", `{"maxResults":"ten"}`, "SerializationException"},
		{"unknown operation", "AWSStepFunctions.DoSomething", `{}`, "UnknownOperationException"},
		{"no target", "", `{}`, "UnknownOperationException"},
		{"missing required member", "AWSStepFunctions.DescribeExecution", `{}`, "ValidationException"},
	}
	var wg sync.WaitGroup
	for _, tt := range tests {
		wg.Add(1)
		t.Run(tt.name, func(t *testing.T) {
			defer wg.Done()
			req, err := http.NewRequest(http.MethodPost, endpoint+"/", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-amz-json-1.0")
			if tt.target != "" {
				req.Header.Set("X-Amz-Target", tt.target)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if !strings.Contains(string(body), `#`+tt.wantType+`"`) {
				t.Fatalf("body %s, want __type %s", body, tt.wantType)
			}
		})
	}
	wg.Wait()
}

// TestSharedConfig reaches the server the way most users configure the
// SDK: AWS_ENDPOINT_URL_SFN and the default credential chain.
func TestSharedConfig(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL_SFN", endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKID")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "SECRET")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := sfn.NewFromConfig(cfg)
	arn := createMachine(t, c, unique("shared-config"), passDef, "")
	out, err := c.ListStateMachines(context.Background(), &sfn.ListStateMachinesInput{MaxResults: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, sm := range out.StateMachines {
		if *sm.StateMachineArn == arn {
			return
		}
	}
	t.Fatalf("%s not listed", arn)
}
