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
	cfg := app.DefaultConfig()
	cfg.DataDir = dir
	s, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type description struct {
	Status string  `json:"status"`
	Output *string `json:"output"`
	Error  *string `json:"error"`
	Cause  *string `json:"cause"`
}

func waitStatus(t *testing.T, h http.Handler, arn string, want string) description {
	t.Helper()
	var d description
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		call(t, h, "DescribeExecution", map[string]string{"executionArn": arn}, &d)
		if d.Status == want {
			return d
		}
	}
	t.Fatalf("%s: status %s, want %s", arn, d.Status, want)
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
	s := newServer(t, dir)
	def := `{"StartAt":"A","States":{"A":{"Type":"Pass","Result":{"x":1},"Next":"W"},"W":{"Type":"Wait","Seconds":1,"Next":"B"},` +
		`"B":{"Type":"Pass","Parameters":{"y.$":"$.x"},"End":true}}}`
	var sm struct {
		StateMachineArn string `json:"stateMachineArn"`
	}
	call(t, s.Handler, "CreateStateMachine", map[string]string{"name": "m", "definition": def, "roleArn": "arn:aws:iam::123456789012:role/r"}, &sm)
	var started struct {
		ExecutionArn string `json:"executionArn"`
	}
	begin := time.Now()
	call(t, s.Handler, "StartExecution", map[string]string{"stateMachineArn": sm.StateMachineArn, "name": "e1"}, &started)
	var stopping struct {
		ExecutionArn string `json:"executionArn"`
	}
	call(t, s.Handler, "StartExecution", map[string]string{"stateMachineArn": sm.StateMachineArn, "name": "e2"}, &stopping)
	time.Sleep(200 * time.Millisecond)
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	s = newServer(t, dir)
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

	d = waitStatus(t, s.Handler, started.ExecutionArn, "SUCCEEDED")
	if took := time.Since(begin); took < time.Second || took > 5*time.Second {
		t.Fatalf("finished after %v, want the 1 s wait counted from its start", took)
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
	if _, err := app.New(context.Background(), cfg, nil); err == nil || !strings.Contains(err.Error(), "in use") {
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
	s, err := app.New(context.Background(), cfg, nil)
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
// short retention.
func TestRetention_DeletesOldClosedExecutions(t *testing.T) {
	cfg := app.DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.Retention = 2 * time.Second
	s, err := app.New(context.Background(), cfg, nil)
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
	waitStatus(t, s.Handler, started.ExecutionArn, "SUCCEEDED")
	deadline := time.Now().Add(10 * time.Second)
	for {
		x, err := s.Store.GetExecution(context.Background(), started.ExecutionArn)
		if err != nil {
			break // deleted
		}
		if time.Now().After(deadline) {
			t.Fatalf("closed execution still kept after 10 s with a 2 s retention: %+v", x)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The machine stays.
	call(t, s.Handler, "DescribeStateMachine", map[string]string{"stateMachineArn": sm.StateMachineArn}, nil)
}
