package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/stepwell/stepwell/internal/clock"
)

// TestPark_EmbeddedStore: executions waiting an hour are parked on the
// embedded store; after a restart (parked again from their last events)
// one is stopped and the other finishes when its hour is over, not a
// nanosecond before.
func TestPark_EmbeddedStore(t *testing.T) {
	dir := t.TempDir()
	clk := clock.NewFake(time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC))
	s := newClockedServer(t, dir, clk)
	def := `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"Next":"B"},"B":{"Type":"Pass","Parameters":{"at.$":"$$.State.EnteredTime"},"End":true}}}`
	var sm struct {
		StateMachineArn string `json:"stateMachineArn"`
	}
	call(t, s.Handler, "CreateStateMachine", map[string]string{"name": "m", "definition": def, "roleArn": "arn:aws:iam::123456789012:role/r"}, &sm)
	var arns []string
	for _, name := range []string{"done", "stopped"} {
		var x struct {
			ExecutionArn string `json:"executionArn"`
		}
		call(t, s.Handler, "StartExecution", map[string]string{"stateMachineArn": sm.StateMachineArn, "name": name}, &x)
		arns = append(arns, x.ExecutionArn)
	}
	for _, arn := range arns {
		waitFor(t, "WaitStateEntered", func() bool { return count(historyOf(t, s.Handler, arn), "WaitStateEntered") == 1 })
	}
	clk.Advance(10 * time.Minute)
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	clk.Advance(10 * time.Minute)

	s = newClockedServer(t, dir, clk)
	defer s.Close(context.Background())
	if s.Recovered != 2 {
		t.Fatalf("recovered %d executions, want 2", s.Recovered)
	}
	clk.Advance(10 * time.Minute)
	call(t, s.Handler, "StopExecution", map[string]string{"executionArn": arns[1], "error": "E", "cause": "C"}, nil)
	d := waitStatus(t, s.Handler, arns[1], "ABORTED")
	if d.Error == nil || *d.Error != "E" || d.Cause == nil || *d.Cause != "C" || d.StopDate-d.StartDate != 1800 {
		t.Fatalf("stopped: %+v", d)
	}
	if evs := historyOf(t, s.Handler, arns[1]); len(evs) != 3 || evs[2].Type != "ExecutionAborted" {
		t.Fatalf("stopped: history %+v", evs)
	}

	clk.BlockUntil(2) // the parked execution's timer and the retention job
	clk.Advance(30*time.Minute - time.Nanosecond)
	call(t, s.Handler, "DescribeExecution", map[string]string{"executionArn": arns[0]}, &d)
	if d.Status != "RUNNING" {
		t.Fatalf("status %s before the wait's end", d.Status)
	}
	clk.Advance(time.Nanosecond)
	d = waitStatus(t, s.Handler, arns[0], "SUCCEEDED")
	if d.StopDate-d.StartDate != 3600 || d.Output == nil || *d.Output != `{"at":"2025-01-01T11:00:00Z"}` {
		t.Fatalf("finished: %+v, output %s", d, *d.Output)
	}
	evs := historyOf(t, s.Handler, arns[0])
	if len(evs) != 6 || count(evs, "WaitStateExited") != 1 || evs[5].Type != "ExecutionSucceeded" {
		t.Fatalf("history %+v", evs)
	}
}
