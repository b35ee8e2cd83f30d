package app_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stepwell/stepwell/internal/app"
)

// TestRecovery_MockKeepsUnmockedCallback restarts the server, on each
// durable store, while an execution started with "#TestCase" waits for the
// token of a .waitForTaskToken task its test case does not mock. The mock
// invoker is the engine's outermost invoker; after the restart it must
// still let the token broker resume the task: the pre-restart token
// answers SendTaskHeartbeat and SendTaskSuccess (not TaskTimedOut), the
// function is not called again, and the mocked state that follows is
// answered by the mock.
func TestRecovery_MockKeepsUnmockedCallback(t *testing.T) {
	onDurableStores(t, testMockKeepsUnmockedCallback)
}

func testMockKeepsUnmockedCallback(t *testing.T, cfg app.Config) {
	lambdaURL, tokens, calls := tokenLambda(t)
	mock := filepath.Join(t.TempDir(), "mock.json")
	if err := os.WriteFile(mock, []byte(`{"StateMachines":{"approvals":{"TestCases":{"Partial":{"Charge":"ChargeOK"}}}},
		"MockedResponses":{"ChargeOK":{"0":{"Return":{"charged":42}}}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.LambdaEndpoint = lambdaURL
	cfg.MockConfig = mock
	start := func() *app.Server {
		t.Helper()
		s, err := app.NewWatched(context.Background(), cfg, slog.New(slog.DiscardHandler), app.Watch{Writes: writes})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := start()
	def := `{"StartAt":"Approve","States":{
		"Approve":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","TimeoutSeconds":300,
			"HeartbeatSeconds":120,"Parameters":{"FunctionName":"approve","Payload":{"token.$":"$$.Task.Token"}},"Next":"Charge"},
		"Charge":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:charge","End":true}}}`
	var sm struct {
		StateMachineArn string `json:"stateMachineArn"`
	}
	call(t, s.Handler, "CreateStateMachine", map[string]any{"name": "approvals", "definition": def, "roleArn": "arn:aws:iam::123456789012:role/r"}, &sm)
	var x struct {
		ExecutionArn string `json:"executionArn"`
	}
	call(t, s.Handler, "StartExecution", map[string]any{"stateMachineArn": sm.StateMachineArn + "#Partial", "input": `{}`}, &x)
	// The engine records a callback task's scheduling durably before it
	// invokes the function: once the function has the token, the server
	// can stop.
	var token string
	select {
	case token = <-tokens:
	case <-time.After(10 * time.Second):
		t.Fatal("the approve function was not called")
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	s = start()
	defer s.Close(context.Background())
	if s.Recovered != 1 {
		t.Fatalf("recovered %d executions", s.Recovered)
	}
	call(t, s.Handler, "SendTaskHeartbeat", map[string]any{"taskToken": token}, nil)
	call(t, s.Handler, "SendTaskSuccess", map[string]any{"taskToken": token, "output": `{"approved":true}`}, nil)
	d := waitStatus(t, s.Handler, x.ExecutionArn, "SUCCEEDED")
	if d.Output == nil || *d.Output != `{"charged":42}` {
		t.Fatalf("output %v, want the mocked Charge response", deref(d.Output))
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("the approve function was called %d times, want 1", n)
	}
	evs := historyOf(t, s.Handler, x.ExecutionArn)
	for typ, want := range map[string]int{"TaskScheduled": 1, "TaskSucceeded": 1, "TaskFailed": 0, "TaskTimedOut": 0, "LambdaFunctionSucceeded": 1} {
		if n := count(evs, typ); n != want {
			t.Errorf("%d %s events, want %d: %+v", n, typ, want, evs)
		}
	}
}
