package app_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepwell/stepwell/internal/app"
	"github.com/stepwell/stepwell/internal/clock"
)

// TestRecovery_KeepsMockTestCase restarts the server on each durable store
// while an execution started with "#TestCase" waits; after the restart its
// Task is still answered by the mock, and the real Lambda is never called.
func TestRecovery_KeepsMockTestCase(t *testing.T) {
	onDurableStores(t, testKeepsMockTestCase)
}

func testKeepsMockTestCase(t *testing.T, cfg app.Config) {
	var calls atomic.Int32
	lambda := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"real":true}`))
	}))
	defer lambda.Close()
	mock := filepath.Join(t.TempDir(), "mock.json")
	if err := os.WriteFile(mock, []byte(`{"StateMachines":{"mocked":{"TestCases":{"Happy":{"Charge":"ChargeOK"}}}},
		"MockedResponses":{"ChargeOK":{"0":{"Return":{"charged":42}}}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.LambdaEndpoint = lambda.URL
	cfg.MockConfig = mock
	// Both servers run on one fake clock: the execution waits until the
	// test moves time on.
	clk := clock.NewFake(time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC))
	start := func() *app.Server {
		t.Helper()
		s, err := app.NewWatched(context.Background(), cfg, slog.New(slog.DiscardHandler), app.Watch{Clock: clk, Writes: writes})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := start()
	def := `{"StartAt":"Pause","States":{"Pause":{"Type":"Wait","Seconds":50,"Next":"Charge"},
		"Charge":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:charge","End":true}}}`
	var sm struct {
		StateMachineArn string `json:"stateMachineArn"`
	}
	call(t, s.Handler, "CreateStateMachine", map[string]any{"name": "mocked", "definition": def, "roleArn": "arn:aws:iam::123456789012:role/r"}, &sm)
	var x struct {
		ExecutionArn string `json:"executionArn"`
	}
	call(t, s.Handler, "StartExecution", map[string]any{"stateMachineArn": sm.StateMachineArn + "#Happy", "input": `{}`}, &x)
	waitFor(t, "WaitStateEntered", func() bool { return count(historyOf(t, s.Handler, x.ExecutionArn), "WaitStateEntered") > 0 })
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	s = start()
	defer s.Close(context.Background())
	if s.Recovered != 1 {
		t.Fatalf("recovered %d executions", s.Recovered)
	}
	clk.BlockUntil(2) // the resumed Wait and the retention job
	clk.Advance(50 * time.Second)
	d := waitStatus(t, s.Handler, x.ExecutionArn, "SUCCEEDED")
	if d.Output == nil || *d.Output != `{"charged":42}` {
		got := "<none>"
		if d.Output != nil {
			got = *d.Output
		}
		t.Fatalf("output %s: the resumed execution lost its mock", got)
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("the real Lambda was called %d times", n)
	}
}
