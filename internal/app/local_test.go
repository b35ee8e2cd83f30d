package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stepwell/stepwell/integrations/nested"
)

// newMemoryServer builds a server on the memory store and its in-process
// API client.
func newMemoryServer(t *testing.T, mutate func(*Config)) (*Server, *localAPI) {
	t.Helper()
	c := DefaultConfig()
	c.Store = "memory"
	c.TimeScale = 0.01
	if mutate != nil {
		mutate(&c)
	}
	s, err := New(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s, &localAPI{srv: s.API, svc: s.parts.Executions}
}

const smPrefix = "arn:aws:states:us-east-1:123456789012:stateMachine:"

func createSM(t *testing.T, l *localAPI, name, def string) {
	t.Helper()
	var out struct{}
	if err := l.call(context.Background(), "CreateStateMachine", map[string]any{
		"name": name, "definition": def, "roleArn": "arn:aws:iam::123456789012:role/r"}, &out); err != nil {
		t.Fatal(err)
	}
}

func TestLocalAPI(t *testing.T) {
	_, l := newMemoryServer(t, nil)
	ctx := context.Background()
	createSM(t, l, "ok", `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`)
	createSM(t, l, "slow", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":100000,"End":true}}}`)

	st, err := l.StartExecution(ctx, nested.StartRequest{StateMachineARN: smPrefix + "ok", Name: "one", Input: `{"a":1}`})
	if err != nil || st.ExecutionARN != "arn:aws:states:us-east-1:123456789012:execution:ok:one" || time.Since(st.StartDate) > time.Minute {
		t.Fatalf("start: %+v, %v", st, err)
	}
	x, err := l.WaitExecution(ctx, st.ExecutionARN)
	if err != nil || x.Status != "SUCCEEDED" || x.Output == nil || *x.Output != `{"a":1}` || x.Input != `{"a":1}` ||
		x.StopDate.Before(x.StartDate) || x.RedriveStatus != "NOT_REDRIVABLE" {
		t.Fatalf("wait: %+v, %v", x, err)
	}

	_, err = l.StartExecution(ctx, nested.StartRequest{StateMachineARN: smPrefix + "missing", Input: "{}"})
	var ae *nested.APIError
	if !errors.As(err, &ae) || ae.Code != "StateMachineDoesNotExist" || !strings.Contains(ae.Message, smPrefix+"missing") {
		t.Fatalf("missing machine: %v", err)
	}

	st, err = l.StartExecution(ctx, nested.StartRequest{StateMachineARN: smPrefix + "slow", Input: "{}"})
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	if _, err := l.WaitExecution(wctx, st.ExecutionARN); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait on a running execution: %v", err)
	}
	if err := l.StopExecution(ctx, st.ExecutionARN, "E", "C"); err != nil {
		t.Fatal(err)
	}
	x, err = l.WaitExecution(ctx, st.ExecutionARN)
	if err != nil || x.Status != "ABORTED" || x.Error == nil || *x.Error != "E" {
		t.Fatalf("stopped: %+v, %v", x, err)
	}
}

func TestIntegrationFiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(good, []byte(`{}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(`[`), 0o600); err != nil {
		t.Fatal(err)
	}
	newMemoryServer(t, func(c *Config) { c.MockConfig, c.HTTPConnections = good, good })
	for _, mutate := range []func(*Config){
		func(c *Config) { c.MockConfig = bad },
		func(c *Config) { c.HTTPConnections = bad },
		func(c *Config) { c.MockConfig = filepath.Join(dir, "none.json") },
	} {
		c := DefaultConfig()
		c.Store = "memory"
		mutate(&c)
		if s, err := New(context.Background(), c, nil); err == nil {
			_ = s.Close(context.Background())
			t.Errorf("New(%+v): want an error", c)
		}
	}
}

func TestMockedExecution(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "MockConfigFile.json")
	cfg := `{"StateMachines":{"m":{"TestCases":{"T":{"L":"R"}}},"x":{"TestCases":{"T":{"L":"R"}}}},
		"MockedResponses":{"R":{"0":{"Return":{"mocked":true}}}}}`
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	_, l := newMemoryServer(t, func(c *Config) { c.MockConfig = path })
	createSM(t, l, "m", `{"StartAt":"L","States":{"L":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f","End":true}}}`)
	ctx := context.Background()
	st, err := l.StartExecution(ctx, nested.StartRequest{StateMachineARN: smPrefix + "m#T", Input: "{}"})
	if err != nil {
		t.Fatal(err)
	}
	x, err := l.WaitExecution(ctx, st.ExecutionARN)
	if err != nil || x.Status != "SUCCEEDED" || *x.Output != `{"mocked":true}` {
		t.Fatalf("mocked: %+v %v", x, err)
	}
	// Without the test case the real (unconfigured) Lambda integration runs.
	st, err = l.StartExecution(ctx, nested.StartRequest{StateMachineARN: smPrefix + "m", Input: "{}"})
	if err != nil {
		t.Fatal(err)
	}
	if x, err = l.WaitExecution(ctx, st.ExecutionARN); err != nil || x.Status != "FAILED" {
		t.Fatalf("unmocked: %+v %v", x, err)
	}
	// StartSyncExecution of an Express machine takes a test case too.
	var out struct {
		Status string `json:"status"`
		Output string `json:"output"`
	}
	var created struct{}
	if err := l.call(ctx, "CreateStateMachine", map[string]any{"name": "x", "type": "EXPRESS", "roleArn": "arn:aws:iam::123456789012:role/r",
		"definition": `{"StartAt":"L","States":{"L":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f","End":true}}}`}, &created); err != nil {
		t.Fatal(err)
	}
	if err := l.call(ctx, "StartSyncExecution", map[string]any{"stateMachineArn": smPrefix + "x#T"}, &out); err != nil ||
		out.Status != "SUCCEEDED" || out.Output != `{"mocked":true}` {
		t.Fatalf("sync express: %+v %v", out, err)
	}
	// An Express child can be waited for too.
	st, err = l.StartExecution(ctx, nested.StartRequest{StateMachineARN: smPrefix + "x#T", Input: "{}"})
	if err != nil {
		t.Fatal(err)
	}
	if x, err = l.WaitExecution(ctx, st.ExecutionARN); err != nil || x.Status != "SUCCEEDED" || *x.Output != `{"mocked":true}` {
		t.Fatalf("express child: %+v %v", x, err)
	}
	_, err = l.StartExecution(ctx, nested.StartRequest{StateMachineARN: smPrefix + "m#Nope", Input: "{}"})
	var ae *nested.APIError
	if !errors.As(err, &ae) || ae.Code != "ValidationException" {
		t.Fatalf("unknown test case: %v", err)
	}
}

// TestShutdown_RedriveAnswer: once the server shuts down, RedriveExecution
// answers an InternalFailure that says so, not that the execution is
// running (the refused write wraps store.ErrConflict too).
func TestShutdown_RedriveAnswer(t *testing.T) {
	s, l := newMemoryServer(t, nil)
	ctx := context.Background()
	createSM(t, l, "fails", `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"E"}}}`)
	st, err := l.StartExecution(ctx, nested.StartRequest{StateMachineARN: smPrefix + "fails", Input: "{}"})
	if err != nil {
		t.Fatal(err)
	}
	if x, err := l.WaitExecution(ctx, st.ExecutionARN); err != nil || x.Status != "FAILED" {
		t.Fatalf("execution: %+v, %v", x, err)
	}
	s.parts.fence.shutdown()
	var out struct{}
	err = l.call(ctx, "RedriveExecution", map[string]any{"executionArn": st.ExecutionARN}, &out)
	var ae *nested.APIError
	if !errors.As(err, &ae) || ae.Code != "InternalFailure" || !strings.Contains(ae.Message, "shutting down") {
		t.Fatalf("redrive during shutdown: %v", err)
	}
}
