package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stepwell/stepwell/internal/app"
	"github.com/stepwell/stepwell/internal/clock"
)

// call runs one API action against h and decodes the answer into out.
func call(t *testing.T, h http.Handler, action string, in any, out any) int {
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
	b, _ := io.ReadAll(w.Body)
	if w.Code != 200 {
		t.Fatalf("%s: %d %s", action, w.Code, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s: %v in %s", action, err, b)
		}
	}
	return w.Code
}

func newServer(t *testing.T, dir string) *app.Server {
	t.Helper()
	return newClockedServer(t, dir, nil)
}

// newClockedServer starts a server on clk (nil: the real clock).
func newClockedServer(t *testing.T, dir string, clk clock.Clock) *app.Server {
	t.Helper()
	cfg := app.DefaultConfig()
	cfg.DataDir = dir
	s, err := app.NewWatched(context.Background(), cfg, slog.New(slog.DiscardHandler), app.Watch{Clock: clk, Writes: writes})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type description struct {
	Status    string  `json:"status"`
	StartDate float64 `json:"startDate"`
	StopDate  float64 `json:"stopDate"`
	Output    *string `json:"output"`
	Error     *string `json:"error"`
	Cause     *string `json:"cause"`
}

func waitStatus(t *testing.T, h http.Handler, arn string, want string) description {
	t.Helper()
	var d description
	waitFor(t, arn+" "+want, func() bool {
		d = description{}
		call(t, h, "DescribeExecution", map[string]string{"executionArn": arn}, &d)
		return d.Status == want
	})
	return d
}

type historyEvent struct {
	ID              int64  `json:"id"`
	PreviousEventID int64  `json:"previousEventId"`
	Type            string `json:"type"`
}

func historyOf(t *testing.T, h http.Handler, arn string) []historyEvent {
	t.Helper()
	var out struct {
		Events []historyEvent `json:"events"`
	}
	call(t, h, "GetExecutionHistory", map[string]any{"executionArn": arn, "maxResults": 1000}, &out)
	for i, e := range out.Events {
		if e.ID != int64(i+1) {
			t.Fatalf("event %d has id %d: %+v", i, e.ID, out.Events)
		}
	}
	return out.Events
}

func count(evs []historyEvent, typ string) int {
	n := 0
	for _, e := range evs {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// TestRecovery_ResumesAfterRestart stops the server while an execution
// waits, then starts a new one on the same data directory: the execution
// resumes from its history and finishes, its wait firing at the original
// due time.
func TestRecovery_ResumesAfterRestart(t *testing.T) {
	dir := t.TempDir()
	clk := clock.NewFake(time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC))
	s := newClockedServer(t, dir, clk)
	def := `{"StartAt":"A","States":{"A":{"Type":"Pass","Result":{"x":1},"Next":"W"},"W":{"Type":"Wait","Seconds":1,"Next":"B"},` +
		`"B":{"Type":"Pass","Parameters":{"y.$":"$.x"},"End":true}}}`
	var sm struct {
		StateMachineArn string `json:"stateMachineArn"`
	}
	call(t, s.Handler, "CreateStateMachine", map[string]string{"name": "m", "definition": def, "roleArn": "arn:aws:iam::123456789012:role/r"}, &sm)
	var started struct {
		ExecutionArn string `json:"executionArn"`
	}
	call(t, s.Handler, "StartExecution", map[string]string{"stateMachineArn": sm.StateMachineArn, "name": "e1"}, &started)
	var stopping struct {
		ExecutionArn string `json:"executionArn"`
	}
	call(t, s.Handler, "StartExecution", map[string]string{"stateMachineArn": sm.StateMachineArn, "name": "e2"}, &stopping)
	// Both are waiting when the server stops.
	for _, arn := range []string{started.ExecutionArn, stopping.ExecutionArn} {
		waitFor(t, "WaitStateEntered", func() bool { return count(historyOf(t, s.Handler, arn), "WaitStateEntered") == 1 })
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The server is down for 0.4 s of the 1 s wait.
	clk.Advance(400 * time.Millisecond)

	s = newClockedServer(t, dir, clk)
	defer s.Close(context.Background())
	if s.Recovered != 2 {
		t.Fatalf("recovered %d executions, want 2", s.Recovered)
	}
	// StopExecution reaches a recovered run.
	call(t, s.Handler, "StopExecution", map[string]string{"executionArn": stopping.ExecutionArn, "error": "E", "cause": "C"}, nil)
	d := waitStatus(t, s.Handler, stopping.ExecutionArn, "ABORTED")
	if d.Error == nil || *d.Error != "E" || d.Cause == nil || *d.Cause != "C" {
		t.Fatalf("aborted %+v", d)
	}
	evs := historyOf(t, s.Handler, stopping.ExecutionArn)
	if evs[len(evs)-1].Type != "ExecutionAborted" || count(evs, "ExecutionAborted") != 1 {
		t.Fatalf("history %+v", evs)
	}

	// The wait ends 1 s after it began: 0.6 s after the restart.
	clk.BlockUntil(2) // the wait and the retention job
	clk.Advance(600*time.Millisecond - time.Nanosecond)
	call(t, s.Handler, "DescribeExecution", map[string]string{"executionArn": started.ExecutionArn}, &d)
	if d.Status != "RUNNING" {
		t.Fatalf("status %s before the wait's due time", d.Status)
	}
	clk.Advance(time.Nanosecond)
	d = waitStatus(t, s.Handler, started.ExecutionArn, "SUCCEEDED")
	if took := d.StopDate - d.StartDate; took != 1 {
		t.Fatalf("finished after %v s, want the 1 s wait counted from its start", took)
	}
	if d.Output == nil || *d.Output != `{"y":1}` {
		t.Fatalf("output %v", d.Output)
	}
	evs = historyOf(t, s.Handler, started.ExecutionArn)
	var types []string
	for _, e := range evs {
		types = append(types, e.Type)
	}
	want := "ExecutionStarted PassStateEntered PassStateExited WaitStateEntered WaitStateExited PassStateEntered PassStateExited ExecutionSucceeded"
	if got := strings.Join(types, " "); got != want {
		t.Fatalf("history\n got %s\nwant %s", got, want)
	}

	// A third start finds nothing running.
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	s = newServer(t, dir)
	defer s.Close(context.Background())
	if s.Recovered != 0 {
		t.Fatalf("recovered %d after everything finished", s.Recovered)
	}
}

// TestStore_InUse refuses a second server on the same data directory.
func TestStore_InUse(t *testing.T) {
	dir := t.TempDir()
	s := newServer(t, dir)
	defer s.Close(context.Background())
	cfg := app.DefaultConfig()
	cfg.DataDir = dir
	if _, err := app.NewWatched(context.Background(), cfg, nil, app.Watch{Writes: writes}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second server: %v", err)
	}
}

// TestRestart_KeepsVersionsAndActivities checks that what the embedded
// store keeps besides executions survives a restart.
func TestRestart_KeepsVersionsAndActivities(t *testing.T) {
	dir := t.TempDir()
	s := newServer(t, dir)
	def := `{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`
	var sm struct {
		StateMachineArn        string `json:"stateMachineArn"`
		StateMachineVersionArn string `json:"stateMachineVersionArn"`
	}
	call(t, s.Handler, "CreateStateMachine", map[string]any{"name": "v", "definition": def, "roleArn": "arn:aws:iam::123456789012:role/r", "publish": true}, &sm)
	if sm.StateMachineVersionArn == "" {
		t.Fatal("no version published")
	}
	call(t, s.Handler, "CreateStateMachineAlias", map[string]any{"name": "live", "routingConfiguration": []map[string]any{
		{"stateMachineVersionArn": sm.StateMachineVersionArn, "weight": 100}}}, nil)
	var act struct {
		ActivityArn string `json:"activityArn"`
	}
	call(t, s.Handler, "CreateActivity", map[string]string{"name": "act"}, &act)
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	s = newServer(t, dir)
	defer s.Close(context.Background())
	call(t, s.Handler, "DescribeStateMachine", map[string]string{"stateMachineArn": sm.StateMachineVersionArn}, nil)
	call(t, s.Handler, "DescribeStateMachineAlias", map[string]string{"stateMachineAliasArn": sm.StateMachineArn + ":live"}, nil)
	call(t, s.Handler, "DescribeActivity", map[string]string{"activityArn": act.ActivityArn}, nil)
	var started struct {
		ExecutionArn string `json:"executionArn"`
	}
	call(t, s.Handler, "StartExecution", map[string]string{"stateMachineArn": sm.StateMachineArn + ":live"}, &started)
	waitStatus(t, s.Handler, started.ExecutionArn, "SUCCEEDED")
}

// TestLimits_Configurable checks that the history and payload limits reach
// the engine.
func TestLimits_Configurable(t *testing.T) {
	cfg := app.DefaultConfig()
	cfg.Store = "memory"
	cfg.MaxHistoryEvents = 6
	cfg.MaxPayloadBytes = 64
	s, err := app.NewWatched(context.Background(), cfg, nil, app.Watch{Writes: writes})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	def := `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Next":"C"},"C":{"Type":"Pass","End":true}}}`
	var sm struct {
		StateMachineArn string `json:"stateMachineArn"`
	}
	call(t, s.Handler, "CreateStateMachine", map[string]string{"name": "lim", "definition": def, "roleArn": "arn:aws:iam::123456789012:role/r"}, &sm)
	for _, tt := range []struct{ name, input, error, cause string }{
		{"history", `{}`, "States.Runtime", "The execution reached the maximum number of history events (6)."},
		{"payload", `{"big":"` + strings.Repeat("x", 100) + `"}`, "States.DataLimitExceeded",
			"The state/task 'A' returned a result with a size exceeding the maximum number of bytes service limit."},
	} {
		var started struct {
			ExecutionArn string `json:"executionArn"`
		}
		call(t, s.Handler, "StartExecution", map[string]string{"stateMachineArn": sm.StateMachineArn, "name": tt.name, "input": tt.input}, &started)
		d := waitStatus(t, s.Handler, started.ExecutionArn, "FAILED")
		if deref(d.Error) != tt.error || deref(d.Cause) != tt.cause {
			t.Errorf("%s: failed with %s / %s, want %s / %s", tt.name, deref(d.Error), deref(d.Cause), tt.error, tt.cause)
		}
	}
}

func deref(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// TestRetention_DeletesOldClosedExecutions runs the retention job with a
// short retention: every second (retention/8, at least 1 s), it deletes
// the executions closed more than 2 s ago.
func TestRetention_DeletesOldClosedExecutions(t *testing.T) {
	cfg := app.DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.Retention = 2 * time.Second
	clk := clock.NewFake(time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC))
	s, err := app.NewWatched(context.Background(), cfg, nil, app.Watch{Clock: clk, Writes: writes})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	var sm struct {
		StateMachineArn string `json:"stateMachineArn"`
	}
	call(t, s.Handler, "CreateStateMachine", map[string]string{"name": "ret", "roleArn": "arn:aws:iam::123456789012:role/r",
		"definition": `{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`}, &sm)
	var started struct {
		ExecutionArn string `json:"executionArn"`
	}
	call(t, s.Handler, "StartExecution", map[string]string{"stateMachineArn": sm.StateMachineArn}, &started)
	waitStatus(t, s.Handler, started.ExecutionArn, "SUCCEEDED") // closed at +0s
	for _, step := range []struct {
		advance time.Duration
		kept    bool
	}{{0, true}, {time.Second, true}, {2 * time.Second, false}} {
		clk.Advance(step.advance)
		clk.BlockUntil(1) // the job has run and waits for its next round
		_, err := s.Store.GetExecution(context.Background(), started.ExecutionArn)
		if kept := err == nil; kept != step.kept {
			t.Fatalf("at +%v: kept %v (%v), want %v", clk.Now().Sub(time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC)), kept, err, step.kept)
		}
	}
	// The machine stays.
	call(t, s.Handler, "DescribeStateMachine", map[string]string{"stateMachineArn": sm.StateMachineArn}, nil)
}
