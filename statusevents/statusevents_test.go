package statusevents_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepwell/stepwell/executions"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/statusevents"
	"github.com/stepwell/stepwell/store"
)

const (
	machineARN = "arn:aws:states:eu-west-1:111111111111:stateMachine:orders"
	execARN    = "arn:aws:states:eu-west-1:111111111111:execution:orders:o-1"
)

// receiver is a real HTTP endpoint: it answers the first failFirst
// requests with 503 and passes the bodies of the others on.
func receiver(t *testing.T, failFirst int64) (*httptest.Server, <-chan []byte, *atomic.Int64) {
	t.Helper()
	got := make(chan []byte, 100)
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s with Content-Type %q", r.Method, r.Header.Get("Content-Type"))
		}
		if n <= failFirst {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		b, _ := io.ReadAll(r.Body)
		got <- b
	}))
	t.Cleanup(srv.Close)
	return srv, got, &calls
}

func next(t *testing.T, got <-chan []byte) map[string]any {
	t.Helper()
	select {
	case b := <-got:
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("event %s: %v", b, err)
		}
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no event delivered")
	}
	return nil
}

func str(s string) *string { return &s }

func TestSender_EventShape(t *testing.T) {
	srv, got, _ := receiver(t, 0)
	s, err := statusevents.New(statusevents.Config{Endpoints: []string{srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.UnixMilli(1796616000123)
	w := s.Watch(executions.Watched{ExecutionARN: execARN, StateMachineARN: machineARN, Type: executions.TypeStandard, Start: t0,
		VersionARN: machineARN + ":3"})
	w.Recorded([]history.Event{
		{Type: history.ExecutionStarted, ID: 1, Timestamp: t0, ExecutionStartedEventDetails: &history.ExecutionStartedEventDetails{Input: `{"a":1}`}},
		{Type: history.PassStateEntered, ID: 2, Timestamp: t0},
	})
	w.Recorded([]history.Event{{Type: history.ExecutionFailed, ID: 3, Timestamp: t0.Add(42 * time.Millisecond),
		ExecutionFailedEventDetails: &history.ExecutionFailedEventDetails{Error: str("Boom"), Cause: str("it broke")}}})

	running, failed := next(t, got), next(t, got)
	for _, m := range []map[string]any{running, failed} {
		if m["version"] != "0" || m["detail-type"] != "Step Functions Execution Status Change" || m["source"] != "aws.states" ||
			m["account"] != "111111111111" || m["region"] != "eu-west-1" || len(m["id"].(string)) != 36 {
			t.Errorf("envelope %v", m)
		}
		if r := m["resources"].([]any); len(r) != 1 || r[0] != execARN {
			t.Errorf("resources %v", r)
		}
	}
	if running["time"] != "2026-12-07T04:00:00Z" {
		t.Errorf("time %v", running["time"])
	}
	d, _ := json.Marshal(running["detail"])
	want := `{"cause":null,"error":null,"executionArn":"` + execARN + `","input":"{\"a\":1}","inputDetails":{"included":true},` +
		`"name":"o-1","output":null,"outputDetails":null,"redriveCount":0,"redriveDate":null,"redriveStatus":"NOT_REDRIVABLE",` +
		`"redriveStatusReason":"Execution is RUNNING and cannot be redriven","startDate":1796616000123,"stateMachineAliasArn":null,` +
		`"stateMachineArn":"` + machineARN + `","stateMachineVersionArn":"` + machineARN + `:3","status":"RUNNING","stopDate":null}`
	if string(d) != want {
		t.Errorf("RUNNING detail\n got %s\nwant %s", d, want)
	}
	d, _ = json.Marshal(failed["detail"])
	want = `{"cause":"it broke","error":"Boom","executionArn":"` + execARN + `","input":"{\"a\":1}","inputDetails":{"included":true},` +
		`"name":"o-1","output":null,"outputDetails":null,"redriveCount":0,"redriveDate":null,"redriveStatus":"REDRIVABLE",` +
		`"redriveStatusReason":null,"startDate":1796616000123,"stateMachineAliasArn":null,` +
		`"stateMachineArn":"` + machineARN + `","stateMachineVersionArn":"` + machineARN + `:3","status":"FAILED","stopDate":1796616000165}`
	if string(d) != want {
		t.Errorf("FAILED detail\n got %s\nwant %s", d, want)
	}
	_ = s.Close(context.Background())
	if st := s.Stats(); st[0].Delivered != 2 || st[0].Retried != 0 {
		t.Errorf("stats %+v", st)
	}
}

// A run resumed after a restart did not see ExecutionStarted: its input
// and start date come from the execution's row.
func TestSender_ResumedRunReadsTheRow(t *testing.T) {
	srv, got, _ := receiver(t, 0)
	start := time.UnixMilli(1796616000000)
	s, err := statusevents.New(statusevents.Config{Endpoints: []string{srv.URL},
		Lookup: func(_ context.Context, arn string) (*store.Execution, error) {
			return &store.Execution{ARN: arn, Input: `{"from":"row"}`, StartDate: start}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	w := s.Watch(executions.Watched{ExecutionARN: execARN, StateMachineARN: machineARN, Type: executions.TypeStandard, Start: start})
	w.Recorded([]history.Event{{Type: history.ExecutionSucceeded, ID: 9, Timestamp: start.Add(time.Minute),
		ExecutionSucceededEventDetails: &history.ExecutionSucceededEventDetails{Output: `"done"`}}})
	d := next(t, got)["detail"].(map[string]any)
	if d["status"] != "SUCCEEDED" || d["input"] != `{"from":"row"}` || d["output"] != `"done"` ||
		d["startDate"] != float64(start.UnixMilli()) || d["stopDate"] != float64(start.Add(time.Minute).UnixMilli()) {
		t.Errorf("detail %v", d)
	}
	if od, _ := d["outputDetails"].(map[string]any); od["included"] != true {
		t.Errorf("outputDetails %v", d["outputDetails"])
	}
}

func TestSender_RetriesWithBackoff(t *testing.T) {
	srv, got, calls := receiver(t, 3)
	s, err := statusevents.New(statusevents.Config{Endpoints: []string{srv.URL}, MinBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	w := s.Watch(executions.Watched{ExecutionARN: execARN, StateMachineARN: machineARN, Type: executions.TypeStandard})
	w.Recorded([]history.Event{{Type: history.ExecutionStarted, ID: 1, Timestamp: time.Now()}})
	if d := next(t, got)["detail"].(map[string]any); d["status"] != "RUNNING" {
		t.Errorf("detail %v", d)
	}
	_ = s.Close(context.Background())
	if n := calls.Load(); n != 4 {
		t.Errorf("%d attempts, want 4", n)
	}
	if st := s.Stats()[0]; st.Delivered != 1 || st.Retried != 3 || st.Failed != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestSender_GivesUp(t *testing.T) {
	srv, _, calls := receiver(t, 1000)
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusBadRequest) // not retried
	}))
	defer bad.Close()
	s, err := statusevents.New(statusevents.Config{Endpoints: []string{srv.URL, bad.URL}, MaxAttempts: 3, MinBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	w := s.Watch(executions.Watched{ExecutionARN: execARN, StateMachineARN: machineARN, Type: executions.TypeStandard})
	w.Recorded([]history.Event{{Type: history.ExecutionStarted, ID: 1, Timestamp: time.Now()}})
	_ = s.Close(context.Background())
	if n := calls.Load(); n != 3 {
		t.Errorf("%d attempts, want 3", n)
	}
	st := s.Stats()
	if st[0].Failed != 1 || st[0].Retried != 2 || st[1].Failed != 1 || st[1].Retried != 0 {
		t.Errorf("stats %+v", st)
	}
}

// A full queue drops events rather than wait: the watcher never blocks.
func TestSender_FullQueueDrops(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	s, err := statusevents.New(statusevents.Config{Endpoints: []string{srv.URL}, QueueLength: 2})
	if err != nil {
		t.Fatal(err)
	}
	w := s.Watch(executions.Watched{ExecutionARN: execARN, StateMachineARN: machineARN, Type: executions.TypeStandard})
	for i := range 10 {
		w.Recorded([]history.Event{{Type: history.ExecutionStarted, ID: int64(i), Timestamp: time.Now()}})
	}
	// One is being sent (or still queued), two wait: at least seven dropped.
	if st := s.Stats()[0]; st.Dropped < 7 {
		t.Errorf("stats %+v, want at least 7 dropped", st)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // give up what is queued
	_ = s.Close(ctx)
}

func TestSender_FilterAndExpress(t *testing.T) {
	srv, got, calls := receiver(t, 0)
	statuses, err := statusevents.ParseStatuses("failed, timed_out")
	if err != nil {
		t.Fatal(err)
	}
	s, err := statusevents.New(statusevents.Config{Endpoints: []string{srv.URL}, Statuses: statuses})
	if err != nil {
		t.Fatal(err)
	}
	if w := s.Watch(executions.Watched{ExecutionARN: execARN, Type: executions.TypeExpress}); w != nil {
		t.Error("an Express execution is watched")
	}
	w := s.Watch(executions.Watched{ExecutionARN: execARN, StateMachineARN: machineARN, Type: executions.TypeStandard})
	w.Recorded([]history.Event{
		{Type: history.ExecutionStarted, ID: 1, Timestamp: time.Now()},
		{Type: history.ExecutionTimedOut, ID: 2, Timestamp: time.Now()},
	})
	if d := next(t, got)["detail"].(map[string]any); d["status"] != "TIMED_OUT" {
		t.Errorf("detail %v", d)
	}
	_ = s.Close(context.Background())
	if n := calls.Load(); n != 1 {
		t.Errorf("%d events sent, want 1", n)
	}
	if _, err := statusevents.ParseStatuses("DONE"); err == nil {
		t.Error("unknown status accepted")
	}
}

// Over EventBridge's bound, the output and then the input are left out.
func TestSender_LargeData(t *testing.T) {
	srv, got, _ := receiver(t, 0)
	s, err := statusevents.New(statusevents.Config{Endpoints: []string{srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	big := `"` + strings.Repeat("x", 150*1024) + `"`
	for _, c := range []struct {
		in, out         string
		wantIn, wantOut bool
	}{
		{`{}`, big, true, true},
		{big, big, false, true},
		{`{}`, big + big, true, false},
	} {
		w := s.Watch(executions.Watched{ExecutionARN: execARN, StateMachineARN: machineARN, Type: executions.TypeStandard})
		w.Recorded([]history.Event{
			{Type: history.ExecutionStarted, ID: 1, Timestamp: time.Now(), ExecutionStartedEventDetails: &history.ExecutionStartedEventDetails{Input: c.in}},
			{Type: history.ExecutionSucceeded, ID: 2, Timestamp: time.Now(), ExecutionSucceededEventDetails: &history.ExecutionSucceededEventDetails{Output: c.out}},
		})
		next(t, got) // RUNNING
		d := next(t, got)["detail"].(map[string]any)
		in, out := d["inputDetails"].(map[string]any), d["outputDetails"].(map[string]any)
		if in["included"] != c.wantIn || out["included"] != c.wantOut || (d["input"] != nil) != c.wantIn || (d["output"] != nil) != c.wantOut {
			t.Errorf("in %d out %d bytes: inputDetails %v outputDetails %v", len(c.in), len(c.out), in, out)
		}
	}
}

func TestRedactAndParse(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:pw@hooks.example.com/x?token=abc&a": "https://***@hooks.example.com/x?token=***&a",
		"http://127.0.0.1:9/events":                       "http://127.0.0.1:9/events",
		"https://tok@h/":                                  "https://***@h/",
	} {
		if got := statusevents.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
	if eps, err := statusevents.ParseEndpoints(" http://a/x , https://b "); err != nil || len(eps) != 2 {
		t.Errorf("ParseEndpoints = %v, %v", eps, err)
	}
	if _, err := statusevents.ParseEndpoints("ftp://u:secret@a/"); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("ParseEndpoints error %v", err)
	}
}

// A redrive sends RUNNING again, with its count and date; the end that
// follows keeps them.
func TestSender_Redrive(t *testing.T) {
	srv, got, _ := receiver(t, 0)
	start := time.UnixMilli(1796616000000)
	s, err := statusevents.New(statusevents.Config{Endpoints: []string{srv.URL},
		Lookup: func(_ context.Context, arn string) (*store.Execution, error) {
			return &store.Execution{ARN: arn, Input: `{}`, StartDate: start}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	at := start.Add(time.Hour)
	w := s.Watch(executions.Watched{ExecutionARN: execARN, StateMachineARN: machineARN, Type: executions.TypeStandard, Start: at, RedriveCount: 1})
	w.Recorded([]history.Event{
		{Type: history.ExecutionRedriven, ID: 7, Timestamp: at, ExecutionRedrivenEventDetails: &history.ExecutionRedrivenEventDetails{RedriveCount: 1}},
		{Type: history.ExecutionSucceeded, ID: 9, Timestamp: at.Add(time.Second), ExecutionSucceededEventDetails: &history.ExecutionSucceededEventDetails{Output: `{}`}},
	})
	for _, status := range []string{"RUNNING", "SUCCEEDED"} {
		d := next(t, got)["detail"].(map[string]any)
		if d["status"] != status || d["redriveCount"] != float64(1) || d["redriveDate"] != float64(at.UnixMilli()) ||
			d["startDate"] != float64(start.UnixMilli()) || d["input"] != `{}` {
			t.Errorf("%s: detail %v", status, d)
		}
	}
}

// FuzzParse: endpoint and status lists parse or are refused without
// panicking, and what parses can be redacted.
func FuzzParse(f *testing.F) {
	f.Add("https://u:pw@h/x?t=1,http://127.0.0.1:9")
	f.Add("FAILED, running")
	f.Fuzz(func(t *testing.T, list string) {
		if eps, err := statusevents.ParseEndpoints(list); err == nil {
			for _, e := range eps {
				_ = statusevents.Redact(e)
			}
		}
		_, _ = statusevents.ParseStatuses(list)
	})
}
