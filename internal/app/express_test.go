package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stepwell/stepwell/internal/app"
)

const (
	expressPass = `{"StartAt":"A","States":{"A":{"Type":"Pass","Result":{"ok":1},"End":true}}}`
	expressWait = `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":100000,"End":true}}}`
)

// newExpressServer is an in-memory server with the Express settings of
// edit, and an EXPRESS machine of each definition (by name).
func newExpressServer(t *testing.T, edit func(c *app.Config), defs map[string]string) (http.Handler, map[string]string) {
	t.Helper()
	cfg := app.DefaultConfig()
	cfg.Store = "memory"
	edit(&cfg)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s, err := app.NewWatched(context.Background(), cfg, nil, app.Watch{Writes: writes})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	arns := map[string]string{}
	for name, def := range defs {
		var sm struct {
			StateMachineArn string `json:"stateMachineArn"`
		}
		call(t, s.Handler, "CreateStateMachine", map[string]string{"name": name, "definition": def, "type": "EXPRESS",
			"roleArn": "arn:aws:iam::123456789012:role/r"}, &sm)
		arns[name] = sm.StateMachineArn
	}
	return s.Handler, arns
}

// try runs one API action and returns its status code and body.
func try(t *testing.T, h http.Handler, action string, in any) (int, string) {
	t.Helper()
	body, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
	req.Header.Set("X-Amz-Target", "AWSStepFunctions."+action)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Code, w.Body.String()
}

// exists reports whether DescribeExecution knows arn (ExecutionDoesNotExist
// otherwise; any other answer fails the test).
func exists(t *testing.T, h http.Handler, arn string) bool {
	t.Helper()
	code, body := try(t, h, "DescribeExecution", map[string]string{"executionArn": arn})
	switch {
	case code == 200:
		return true
	case code == 400 && strings.Contains(body, "ExecutionDoesNotExist"):
		return false
	}
	t.Fatalf("DescribeExecution %s: %d %s", arn, code, body)
	return false
}

func startAsync(t *testing.T, h http.Handler, sm, name string) string {
	t.Helper()
	var out struct {
		ExecutionArn string `json:"executionArn"`
	}
	call(t, h, "StartExecution", map[string]string{"stateMachineArn": sm, "name": name}, &out)
	return out.ExecutionArn
}

type syncResult struct {
	ExecutionArn string  `json:"executionArn"`
	Status       string  `json:"status"`
	Output       *string `json:"output"`
	Error        *string `json:"error"`
}

func startSync(t *testing.T, h http.Handler, sm, name string) syncResult {
	t.Helper()
	var out syncResult
	call(t, h, "StartSyncExecution", map[string]string{"stateMachineArn": sm, "name": name}, &out)
	return out
}

// waitGone waits until DescribeExecution no longer knows arn.
func waitGone(t *testing.T, h http.Handler, arn string) {
	t.Helper()
	waitFor(t, arn+" forgotten", func() bool { return !exists(t, h, arn) })
}

func TestExpressRetention_KeepsTheLastClosed(t *testing.T) {
	h, sm := newExpressServer(t, func(c *app.Config) { c.ExpressRetention = 2 }, map[string]string{"pass": expressPass})
	var arns []string
	for i := range 5 {
		arn := startAsync(t, h, sm["pass"], fmt.Sprint("e", i))
		waitStatus(t, h, arn, "SUCCEEDED")
		arns = append(arns, arn)
	}
	for i, arn := range arns {
		if got, want := exists(t, h, arn), i >= 3; got != want {
			t.Errorf("execution %d readable: %v, want %v (retention 2 of 5)", i, got, want)
		}
	}
	evs := historyOf(t, h, arns[4])
	if len(evs) == 0 || evs[len(evs)-1].Type != "ExecutionSucceeded" {
		t.Errorf("history of a kept execution: %+v", evs)
	}
	if code, body := try(t, h, "GetExecutionHistory", map[string]string{"executionArn": arns[0]}); code != 400 || !strings.Contains(body, "ExecutionDoesNotExist") {
		t.Errorf("history of a forgotten execution: %d %s", code, body)
	}
}

func TestExpressRetention_ZeroKeepsOnlyRunning(t *testing.T) {
	h, sm := newExpressServer(t, func(c *app.Config) { c.ExpressRetention = 0 },
		map[string]string{"pass": expressPass, "wait": expressWait})
	// A closed one is forgotten.
	for i := range 3 {
		waitGone(t, h, startAsync(t, h, sm["pass"], fmt.Sprint("p", i)))
	}
	// A running one stays readable while it runs.
	arn := startAsync(t, h, sm["wait"], "w")
	waitStatus(t, h, arn, "RUNNING")
	waitFor(t, "WaitStateEntered in the history of a running execution", func() bool {
		return count(historyOf(t, h, arn), "WaitStateEntered") == 1
	})
	var stopped struct {
		StopDate float64 `json:"stopDate"`
	}
	call(t, h, "StopExecution", map[string]string{"executionArn": arn}, &stopped)
	if stopped.StopDate == 0 {
		t.Error("StopExecution gave no stopDate")
	}
	waitGone(t, h, arn)
}

func TestExpressHistory_SyncExecutions(t *testing.T) {
	for _, on := range []bool{false, true} {
		t.Run(fmt.Sprint("express-history=", on), func(t *testing.T) {
			h, sm := newExpressServer(t, func(c *app.Config) { c.ExpressHistory, c.ExpressRetention = on, 2 },
				map[string]string{"pass": expressPass})
			var runs []syncResult
			for i := range 3 {
				r := startSync(t, h, sm["pass"], fmt.Sprint("s", i))
				if r.Status != "SUCCEEDED" || r.Output == nil || *r.Output != `{"ok":1}` {
					t.Fatalf("sync execution %+v", r)
				}
				runs = append(runs, r)
			}
			for i, r := range runs {
				// Only with express-history, and then only the last 2.
				if got, want := exists(t, h, r.ExecutionArn), on && i >= 1; got != want {
					t.Errorf("sync execution %d readable: %v, want %v", i, got, want)
				}
			}
			if !on {
				return
			}
			d := waitStatus(t, h, runs[2].ExecutionArn, "SUCCEEDED")
			if deref(d.Output) != `{"ok":1}` {
				t.Errorf("described output %s", deref(d.Output))
			}
			evs := historyOf(t, h, runs[2].ExecutionArn)
			if len(evs) < 2 || evs[0].Type != "ExecutionStarted" || evs[len(evs)-1].Type != "ExecutionSucceeded" {
				t.Errorf("history %+v", evs)
			}
		})
	}
}

// TestExpressHistory_StopSyncExecution stops a recorded synchronous
// execution through its ARN while StartSyncExecution waits for it.
func TestExpressHistory_StopSyncExecution(t *testing.T) {
	// A Lambda that tells the execution's ARN and never answers.
	payloads, release := make(chan string, 1), make(chan struct{})
	lambda := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		payloads <- string(b)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer lambda.Close()
	defer close(release) // first: a failed test does not wait for the Express timeout
	h, sm := newExpressServer(t, func(c *app.Config) { c.ExpressHistory, c.LambdaEndpoint = true, lambda.URL },
		map[string]string{"slow": `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f",` +
			`"Parameters":{"arn.$":"$$.Execution.Id"},"End":true}}}`})
	done := make(chan syncResult, 1)
	go func() {
		var r syncResult
		code, body := try(t, h, "StartSyncExecution", map[string]string{"stateMachineArn": sm["slow"], "name": "w"})
		if code != 200 || json.Unmarshal([]byte(body), &r) != nil {
			r.Status = fmt.Sprint(code, " ", body)
		}
		done <- r
	}()
	var in struct {
		ARN string `json:"arn"`
	}
	select {
	case p := <-payloads:
		if err := json.Unmarshal([]byte(p), &in); err != nil || !strings.Contains(in.ARN, ":express:slow:w:") {
			t.Fatalf("Lambda payload %q", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the Lambda was not invoked")
	}
	waitStatus(t, h, in.ARN, "RUNNING")
	call(t, h, "StopExecution", map[string]string{"executionArn": in.ARN, "error": "E"}, nil)
	select {
	case r := <-done:
		if r.Status != "FAILED" || deref(r.Error) != "E" || r.ExecutionArn != in.ARN {
			t.Errorf("StartSyncExecution answered %+v, want FAILED with error E", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("StartSyncExecution did not return after StopExecution")
	}
	waitStatus(t, h, in.ARN, "ABORTED")
	if evs := historyOf(t, h, in.ARN); len(evs) == 0 || evs[len(evs)-1].Type != "ExecutionAborted" {
		t.Errorf("history %+v", evs)
	}
}
