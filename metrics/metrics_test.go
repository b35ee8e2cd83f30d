package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stepwell/stepwell/executions"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/metrics"
	"github.com/stepwell/stepwell/store"
)

var t0 = time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)

func ev(typ history.EventType, thread string, after time.Duration) history.Event {
	return history.Event{Type: typ, Thread: thread, Timestamp: t0.Add(after)}
}

func exposition(t *testing.T, r *metrics.Registry) string {
	t.Helper()
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if got := w.Header().Get("Content-Type"); got != metrics.ContentType {
		t.Fatalf("Content-Type %q", got)
	}
	return w.Body.String()
}

func TestRegistry_Exposition(t *testing.T) {
	r := metrics.New(nil)
	r.Open = func() int { return 3 }
	w := r.Watch(executions.Watched{StateMachineARN: "arn:m", AliasARN: `arn:m:"q"\`, Start: t0})
	w.Recorded([]history.Event{
		ev(history.ExecutionStarted, "", 0),
		ev(history.ActivityScheduled, "b0", 0),
		ev(history.LambdaFunctionScheduled, "b1", 0),
		ev(history.ActivityStarted, "b0", 2*time.Second),
		ev(history.LambdaFunctionStarted, "b1", time.Millisecond/2),
	})
	w.Recorded([]history.Event{
		ev(history.ActivityTimedOut, "b0", 12*time.Second),
		ev(history.LambdaFunctionFailed, "b1", time.Second),
		ev(history.ExecutionFailed, "", 20*time.Second),
	})
	r.Unrecorded(executions.Watched{StateMachineARN: "arn:x"}, t0, t0.Add(3*time.Millisecond), store.StatusSucceeded)
	text := exposition(t, r)
	const lbl = `{state_machine_arn="arn:m",version_arn="",alias_arn="arn:m:\"q\"\\"}`
	const lblLE = `{state_machine_arn="arn:m",version_arn="",alias_arn="arn:m:\"q\"\\",le=`
	for _, line := range []string{
		"# TYPE stepwell_executions_started_total counter",
		"stepwell_executions_started_total" + lbl + " 1",
		"stepwell_executions_failed_total" + lbl + " 1",
		"stepwell_executions_succeeded_total" + lbl + " 0",
		"stepwell_execution_time_seconds_bucket" + lblLE + `"5"} 0`,
		"stepwell_execution_time_seconds_bucket" + lblLE + `"30"} 1`,
		"stepwell_execution_time_seconds_sum" + lbl + " 20",
		"stepwell_activities_scheduled_total" + lbl + " 1",
		"stepwell_activities_timed_out_total" + lbl + " 1",
		"stepwell_activities_schedule_time_seconds_bucket" + lblLE + `"1"} 0`,
		"stepwell_activities_schedule_time_seconds_bucket" + lblLE + `"5"} 1`,
		"stepwell_activities_run_time_seconds_sum" + lbl + " 10",
		"stepwell_lambda_functions_failed_total" + lbl + " 1",
		"stepwell_lambda_functions_schedule_time_seconds_bucket" + lblLE + `"0.001"} 1`,
		"stepwell_service_integrations_scheduled_total" + lbl + " 0",
		`stepwell_executions_succeeded_total{state_machine_arn="arn:x",version_arn="",alias_arn=""} 1`,
		`stepwell_execution_time_seconds_sum{state_machine_arn="arn:x",version_arn="",alias_arn=""} 0.003`,
		"# TYPE stepwell_open_executions gauge",
		"stepwell_open_executions 3",
	} {
		if !strings.Contains(text, "\n"+line+"\n") {
			t.Errorf("no line %s in\n%s", line, text)
		}
	}
}

func TestInstrument_OperationsAreBounded(t *testing.T) {
	r := metrics.New([]string{"StartExecution"})
	h := r.Instrument(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Header.Get("X-Amz-Target") != "AWSStepFunctions.StartExecution" {
			w.Header().Set("X-Amzn-ErrorType", "UnknownOperationException")
		}
	}))
	for _, target := range []string{"AWSStepFunctions.StartExecution", "AWSStepFunctions.Made\"Up", "AWSStepFunctions.Other", ""} {
		req := httptest.NewRequest(http.MethodPost, "/", nil)
		req.Header.Set("X-Amz-Target", target)
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	text := exposition(t, r)
	for _, line := range []string{
		`stepwell_http_requests_total{operation="StartExecution",error=""} 1`,
		`stepwell_http_requests_total{operation="unknown",error="UnknownOperationException"} 3`,
		`stepwell_http_request_duration_seconds_count{operation="StartExecution",error=""} 1`,
	} {
		if !strings.Contains(text, "\n"+line+"\n") {
			t.Errorf("no line %s in\n%s", line, text)
		}
	}
	if strings.Contains(text, "Made") || strings.Contains(text, "Other") {
		t.Errorf("a client's operation name became a label:\n%s", text)
	}
}

// transitions is a batch of state transitions, what most batches are.
var transitions = []history.Event{
	ev(history.PassStateEntered, "", 0), ev(history.PassStateExited, "", 0),
	ev(history.ChoiceStateEntered, "", 0), ev(history.ChoiceStateExited, "", 0),
	ev(history.PassStateEntered, "", 0), ev(history.PassStateExited, "", 0),
}

// TestWatcher_TransitionsDoNotAllocate: the engine's hot path pays a type
// switch per event, no allocation.
func TestWatcher_TransitionsDoNotAllocate(t *testing.T) {
	w := metrics.New(nil).Watch(executions.Watched{StateMachineARN: "arn:m", Start: t0})
	if n := testing.AllocsPerRun(100, func() { w.Recorded(transitions) }); n != 0 {
		t.Fatalf("%g allocations per batch of transitions", n)
	}
	ends := []history.Event{ev(history.ExecutionStarted, "", 0), ev(history.ExecutionSucceeded, "", time.Second)}
	if n := testing.AllocsPerRun(100, func() { w.Recorded(ends) }); n != 0 {
		t.Fatalf("%g allocations per execution start and end", n)
	}
}

// BenchmarkWatcher_Recorded is the cost the metrics add to each batch of
// recorded events (6 state transitions).
func BenchmarkWatcher_Recorded(b *testing.B) {
	w := metrics.New(nil).Watch(executions.Watched{StateMachineARN: "arn:m", Start: t0})
	b.ReportAllocs()
	for b.Loop() {
		w.Recorded(transitions)
	}
}

// BenchmarkRegistry_Watch is the cost per execution: its series found.
func BenchmarkRegistry_Watch(b *testing.B) {
	r := metrics.New(nil)
	x := executions.Watched{StateMachineARN: "arn:m", Start: t0}
	b.ReportAllocs()
	for b.Loop() {
		r.Watch(x)
	}
}

func TestRegistry_AddFunc(t *testing.T) {
	r := metrics.New(nil)
	n := 0.0
	r.AddFunc("stepwell_things_total", "counter", "Things.", func() []metrics.Sample {
		n++
		return []metrics.Sample{{Labels: []string{"endpoint", `http://a/"x"`}, Value: n}, {Value: 7}}
	})
	want := "# HELP stepwell_things_total Things.\n# TYPE stepwell_things_total counter\n" +
		"stepwell_things_total{endpoint=\"http://a/\\\"x\\\"\"} 1\nstepwell_things_total 7\n"
	if got := exposition(t, r); !strings.HasSuffix(got, want) {
		t.Errorf("exposition ends\n%s\nwant\n%s", got[max(0, len(got)-300):], want)
	}
}
