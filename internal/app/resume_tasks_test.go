package app_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stepwell/stepwell/internal/app"
)

// TestRecovery_OpenTasksKeepWaiting restarts the server on each durable
// store while an execution waits for a callback (its Lambda function got
// the token) and for an activity task no worker has received yet. After
// the restart the function is not called again and the pre-restart token
// completes the callback, and the activity task is delivered to a worker
// (once) and completed; the history has each task scheduled once.
func TestRecovery_OpenTasksKeepWaiting(t *testing.T) {
	onDurableStores(t, testOpenTasksKeepWaiting)
}

func testOpenTasksKeepWaiting(t *testing.T, cfg app.Config) {
	lambdaURL, tokens, calls := tokenLambda(t)
	cfg.LambdaEndpoint = lambdaURL
	start := func() *app.Server {
		t.Helper()
		s, err := app.NewWatched(context.Background(), cfg, slog.New(slog.DiscardHandler), app.Watch{Writes: writes})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := start()
	var act struct {
		ActivityArn string `json:"activityArn"`
	}
	call(t, s.Handler, "CreateActivity", map[string]any{"name": "work"}, &act)
	def := `{"StartAt":"Par","States":{"Par":{"Type":"Parallel","End":true,"Branches":[
		{"StartAt":"Callback","States":{"Callback":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
			"TimeoutSeconds":300,"Parameters":{"FunctionName":"f","Payload":{"token.$":"$$.Task.Token"}},"End":true}}},
		{"StartAt":"Activity","States":{"Activity":{"Type":"Task","Resource":"` + act.ActivityArn + `",
			"TimeoutSeconds":300,"HeartbeatSeconds":120,"Parameters":{"job":7},"End":true}}}]}}}`
	var sm struct {
		StateMachineArn string `json:"stateMachineArn"`
	}
	call(t, s.Handler, "CreateStateMachine", map[string]any{"name": "open-tasks", "definition": def, "roleArn": "arn:aws:iam::123456789012:role/r"}, &sm)
	var x struct {
		ExecutionArn string `json:"executionArn"`
	}
	call(t, s.Handler, "StartExecution", map[string]any{"stateMachineArn": sm.StateMachineArn, "input": `{}`}, &x)
	var callbackToken string
	select {
	case callbackToken = <-tokens:
	case <-time.After(10 * time.Second):
		t.Fatal("the Lambda function was not called")
	}
	waitFor(t, "TaskSubmitted and ActivityScheduled", func() bool {
		evs := historyOf(t, s.Handler, x.ExecutionArn)
		return count(evs, "TaskSubmitted") == 1 && count(evs, "ActivityScheduled") == 1
	})
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	s = start()
	defer s.Close(context.Background())
	if s.Recovered != 1 {
		t.Fatalf("recovered %d executions", s.Recovered)
	}
	// Right after the start, the pre-restart token is open again.
	call(t, s.Handler, "SendTaskHeartbeat", map[string]any{"taskToken": callbackToken}, nil)
	var task struct {
		TaskToken string `json:"taskToken"`
		Input     string `json:"input"`
	}
	call(t, s.Handler, "GetActivityTask", map[string]any{"activityArn": act.ActivityArn, "workerName": "w1"}, &task)
	if task.TaskToken == "" || task.Input != `{"job":7}` {
		t.Fatalf("GetActivityTask after the restart: %+v", task)
	}
	call(t, s.Handler, "SendTaskSuccess", map[string]any{"taskToken": callbackToken, "output": `{"callback":"done"}`}, nil)
	call(t, s.Handler, "SendTaskSuccess", map[string]any{"taskToken": task.TaskToken, "output": `{"activity":"done"}`}, nil)
	d := waitStatus(t, s.Handler, x.ExecutionArn, "SUCCEEDED")
	if d.Output == nil || *d.Output != `[{"callback":"done"},{"activity":"done"}]` {
		t.Fatalf("output %v", d.Output)
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("the Lambda function was called %d times", n)
	}
	evs := historyOf(t, s.Handler, x.ExecutionArn)
	for typ, want := range map[string]int{"TaskScheduled": 1, "TaskSubmitted": 1, "TaskSucceeded": 1, "TaskFailed": 0,
		"ActivityScheduled": 1, "ActivityStarted": 1, "ActivitySucceeded": 1, "ActivityFailed": 0} {
		if n := count(evs, typ); n != want {
			t.Errorf("%d %s events, want %d: %+v", n, typ, want, evs)
		}
	}
}
