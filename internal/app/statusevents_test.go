package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stepwell/stepwell/internal/app"
)

// TestStatusEvents_AfterRestart: an execution started before a restart
// and stopped after it sends its ABORTED event with the input and start
// date it had, read from the store (the restarted server never saw its
// ExecutionStarted), on each durable store.
func TestStatusEvents_AfterRestart(t *testing.T) {
	onDurableStores(t, func(t *testing.T, cfg app.Config) {
		events := make(chan map[string]any, 10)
		rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			var ev map[string]any
			if err := json.Unmarshal(b, &ev); err != nil {
				t.Errorf("event %s: %v", b, err)
			}
			events <- ev
		}))
		defer rcv.Close()
		cfg.StatusEvents.URLs = rcv.URL
		cfg.StatusEvents.Statuses = "ABORTED"
		ctx := context.Background()
		s, err := app.New(ctx, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		var sm struct {
			StateMachineArn string `json:"stateMachineArn"`
		}
		call(t, s.Handler, "CreateStateMachine", map[string]string{"name": "waits", "roleArn": "arn:aws:iam::123456789012:role/r",
			"definition": `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":100000,"End":true}}}`}, &sm)
		var x struct {
			ExecutionArn string  `json:"executionArn"`
			StartDate    float64 `json:"startDate"`
		}
		call(t, s.Handler, "StartExecution", map[string]string{"stateMachineArn": sm.StateMachineArn, "input": `{"order":7}`}, &x)
		if err := s.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if s, err = app.New(ctx, cfg, nil); err != nil {
			t.Fatal(err)
		}
		defer s.Close(ctx)
		call(t, s.Handler, "StopExecution", map[string]string{"executionArn": x.ExecutionArn, "error": "Halt"}, nil)
		select {
		case ev := <-events:
			d := ev["detail"].(map[string]any)
			if d["status"] != "ABORTED" || d["executionArn"] != x.ExecutionArn || d["input"] != `{"order":7}` ||
				d["startDate"] != float64(time.UnixMilli(int64(x.StartDate*1000+0.5)).UnixMilli()) || d["error"] != "Halt" {
				t.Errorf("detail %v (started %v)", d, x.StartDate)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("no ABORTED event")
		}
	})
}
