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
)

// TestRecovery_KeepsMockTestCase restarts the server on each durable store
// while an execution started with "#TestCase" waits; after the restart its
// Task is still answered by the mock, and the real Lambda is never called.
func TestRecovery_KeepsMockTestCase(t *testing.T) {
	t.Run("embedded", func(t *testing.T) {
		cfg := app.DefaultConfig()
		cfg.DataDir = t.TempDir()
		testKeepsMockTestCase(t, cfg)
	})
	t.Run("postgres", func(t *testing.T) {
		cfg := app.DefaultConfig()
		cfg.Store = postgresSchemaDSN(t)
		testKeepsMockTestCase(t, cfg)
	})
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
	// The first server waits in real time, so that the execution is still
	// waiting when it closes however slow the machine; the second one
	// scales waits down, so that the resumed Wait is over at once.
	start := func(scale float64) *app.Server {
		t.Helper()
		cfg.TimeScale = scale
		s, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := start(1)
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
	for deadline := time.Now().Add(10 * time.Second); count(historyOf(t, s.Handler, x.ExecutionArn), "WaitStateEntered") == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the Wait state was not entered")
		}
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	s = start(0.01)
	defer s.Close(context.Background())
	if s.Recovered != 1 {
		t.Fatalf("recovered %d executions", s.Recovered)
	}
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
