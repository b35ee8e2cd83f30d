package hostile

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// restartable is a server run again and again on the same data.
type restartable struct {
	t    *testing.T
	data string
}

func (r *restartable) start(args ...string) *server {
	return startServer(r.t, append([]string{"--data-dir", r.data, "--console=false"}, args...)...)
}

// kill ends a server with SIGKILL, as a crash would.
func (s *server) kill() {
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

// activityExecution creates an activity and a machine whose one state is
// a task of it, and starts an execution of it, which waits for a worker.
func activityExecution(t *testing.T, s *server, name string) (executionARN string) {
	t.Helper()
	var act struct{ ActivityArn string }
	s.must("CreateActivity", map[string]any{"name": name}, &act)
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + act.ActivityArn + `","End":true}}}`
	var sm struct{ StateMachineArn string }
	s.must("CreateStateMachine", map[string]any{"name": name, "definition": def, "roleArn": role}, &sm)
	var x struct{ ExecutionArn string }
	s.must("StartExecution", map[string]any{"stateMachineArn": sm.StateMachineArn, "name": name, "input": `{}`}, &x)
	// Scheduled (its history is written) before anything else happens.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var h struct{ Events []struct{ Type string } }
		s.must("GetExecutionHistory", map[string]any{"executionArn": x.ExecutionArn}, &h)
		if n := len(h.Events); n > 0 && h.Events[n-1].Type == "ActivityScheduled" {
			return x.ExecutionArn
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not scheduled within 30s", name)
		}
		time.Sleep(20 * time.Millisecond) // polling the API, as a client does
	}
}

func describe(s *server, arn string) (status, errName, cause string) {
	var d struct{ Status, Error, Cause string }
	s.must("DescribeExecution", map[string]any{"executionArn": arn}, &d)
	return d.Status, d.Error, d.Cause
}

// TestExecutionLimitExceeded: with --max-executions 2, a third
// StartExecution is refused with AWS's ExecutionLimitExceeded while two
// run, and accepted once one has ended.
func TestExecutionLimitExceeded(t *testing.T) {
	skipUnlessEnabled(t)
	s := startServer(t, "--data-dir", t.TempDir(), "--console=false", "--max-executions", "2")
	a := activityExecution(t, s, "limit-a")
	activityExecution(t, s, "limit-b")
	var sm struct{ StateMachineArn string }
	s.must("CreateStateMachine", map[string]any{"name": "limit-c", "definition": `{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}`, "roleArn": role}, &sm)
	resp, err := s.call("StartExecution", map[string]any{"stateMachineArn": sm.StateMachineArn, "input": `{}`}, nil)
	if err != nil || resp.status != 400 || resp.errType() != "ExecutionLimitExceeded" {
		t.Fatalf("third start: %v %d %s, want 400 ExecutionLimitExceeded", err, resp.status, resp.body)
	}
	s.must("StopExecution", map[string]any{"executionArn": a}, nil)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err = s.call("StartExecution", map[string]any{"stateMachineArn": sm.StateMachineArn, "input": `{}`}, nil)
		if err == nil && resp.status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("start after a stop: %v %d %s", err, resp.status, resp.body)
		}
		time.Sleep(20 * time.Millisecond) // the stopped execution unregisters
	}
}

// TestNoResume: a server started with --no-resume leaves the running
// executions of its store as they are, RUNNING, to be listed and stopped
// (the stop is recorded: ExecutionAborted ends the history); restarted
// without it, the server resumes the others.
func TestNoResume(t *testing.T) {
	skipUnlessEnabled(t)
	r := &restartable{t: t, data: filepath.Join(t.TempDir(), "data")}
	s := r.start()
	bad := activityExecution(t, s, "no-resume-bad")
	good := activityExecution(t, s, "no-resume-good")
	s.kill()

	s = r.start("--no-resume")
	var list struct {
		Executions []struct{ ExecutionArn string }
	}
	var sm struct{ StateMachineArn string }
	s.must("DescribeStateMachineForExecution", map[string]any{"executionArn": bad}, &sm)
	s.must("ListExecutions", map[string]any{"stateMachineArn": sm.StateMachineArn, "statusFilter": "RUNNING"}, &list)
	if len(list.Executions) != 1 || list.Executions[0].ExecutionArn != bad {
		t.Fatalf("running executions listed: %+v, want %s", list.Executions, bad)
	}
	s.must("StopExecution", map[string]any{"executionArn": bad, "error": "Operator", "cause": "stopped before it resumed"}, nil)
	if st, _, _ := describe(s, bad); st != "ABORTED" {
		t.Fatalf("stopped execution: %s, want ABORTED", st)
	}
	var tl tally
	checkTerminal(t, s, &tl, "stopped", bad, "ABORTED")
	// The server says so in its log.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.log.String(), "not resuming the running executions") {
		if time.Now().After(deadline) {
			t.Fatalf("the server does not say that it resumes nothing:\n%s", s.log.String())
		}
		time.Sleep(20 * time.Millisecond) // waiting for its log line
	}
	s.shutdown()

	s = r.start()
	if st, _, _ := describe(s, good); st != "RUNNING" {
		t.Fatalf("other execution: %s, want RUNNING", st)
	}
	s.must("StopExecution", map[string]any{"executionArn": good}, nil)
	checkTerminal(t, s, &tl, "resumed", good, "ABORTED")
	for _, p := range tl.problems {
		t.Error(p)
	}
}

// TestQuarantine: an execution the server dies running after each
// restart (SIGKILL here, an out-of-memory kill in life) is failed, once
// resumed --max-resume-attempts times, with a cause that says so; a clean
// shutdown after a resume does not count.
func TestQuarantine(t *testing.T) {
	skipUnlessEnabled(t)
	r := &restartable{t: t, data: filepath.Join(t.TempDir(), "data")}
	s := r.start("--max-resume-attempts", "2")
	x := activityExecution(t, s, "crash-loop")
	s.kill()
	// A clean shutdown (SIGINT) after a resume does not count.
	s = r.start("--max-resume-attempts", "2")
	s.shutdown()
	for i := range 2 {
		s = r.start("--max-resume-attempts", "2")
		if st, _, _ := describe(s, x); st != "RUNNING" {
			t.Fatalf("restart %d: %s, want RUNNING (resumed)", i+1, st)
		}
		s.kill()
	}
	s = r.start("--max-resume-attempts", "2")
	st, errName, cause := describe(s, x)
	if st != "FAILED" || errName != "States.Runtime" || !strings.Contains(cause, "quarantined") {
		t.Fatalf("after 3 restarts: %s %s %q, want FAILED States.Runtime, quarantined", st, errName, cause)
	}
	t.Logf("cause: %s", cause)
	var tl tally
	checkTerminal(t, s, &tl, "quarantined", x, "FAILED")
	for _, p := range tl.problems {
		t.Error(p)
	}
}
