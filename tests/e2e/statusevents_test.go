package e2e

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// eventReceiver is an HTTP endpoint that receives status events: it
// answers the first failFirst requests 503, then keeps each event by
// execution ARN and signals its arrival.
type eventReceiver struct {
	srv      *httptest.Server
	calls    atomic.Int64
	mu       sync.Mutex
	byARN    map[string][]map[string]any
	arrived  chan struct{}
	received int
}

func newEventReceiver(t *testing.T, failFirst int64) *eventReceiver {
	r := &eventReceiver{byARN: map[string][]map[string]any{}, arrived: make(chan struct{}, 1000)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if r.calls.Add(1) <= failFirst {
			http.Error(w, "not yet", http.StatusServiceUnavailable)
			return
		}
		b, _ := io.ReadAll(req.Body)
		var ev map[string]any
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Errorf("event %s: %v", b, err)
			return
		}
		d, _ := ev["detail"].(map[string]any)
		arn, _ := d["executionArn"].(string)
		r.mu.Lock()
		r.byARN[arn] = append(r.byARN[arn], ev)
		r.received++
		r.mu.Unlock()
		r.arrived <- struct{}{}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// wait waits until n events in all have arrived.
func (r *eventReceiver) wait(t *testing.T, n int) {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		r.mu.Lock()
		got := r.received
		r.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-r.arrived:
		case <-timeout:
			t.Fatalf("%d status events arrived, want %d", got, n)
		}
	}
}

func (r *eventReceiver) events(arn string) []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byARN[arn]
}

// TestStatusEvents: a real `stepwell serve --status-events` sends an
// EventBridge-shaped event to each endpoint when a Standard execution
// starts and when it succeeds, fails, is aborted or times out, and none
// for an Express execution; an endpoint that fails its first requests gets
// every event, retried, and /metrics counts the deliveries and retries.
func TestStatusEvents(t *testing.T) {
	ok, flaky := newEventReceiver(t, 0), newEventReceiver(t, 3)
	cmd := exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--store", "memory", "--account-id", "111111111111",
		"--time-scale", "0.01", "--status-events", ok.srv.URL+"/events,"+flaky.srv.URL+"/events")
	cmd.Env = noAWSEnv(t.TempDir()) // nothing from STEPWELL_* variables other tests set
	url := startServe(t, cmd)
	c := clientOf(url)
	ctx := context.Background()

	// An Express execution first: it sends nothing.
	express := createMachine(t, c, unique("events-express"), passDef, types.StateMachineTypeExpress)
	out, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(express), Input: aws.String(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	expressARN := *out.ExecutionArn

	timeoutDef := `{"TimeoutSeconds":1,"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":100000,"End":true}}}`
	runs := []struct {
		name, def, status, errName, cause string
		stop                              bool
	}{
		{name: "succeeds", def: passDef, status: "SUCCEEDED"},
		{name: "fails", def: failDef, status: "FAILED", errName: "Boom", cause: "bad"},
		{name: "aborted", def: waitDef, status: "ABORTED", errName: "Halt", cause: "by the operator", stop: true},
		{name: "times-out", def: timeoutDef, status: "TIMED_OUT", errName: "States.Timeout"},
	}
	arns := make([]string, len(runs))
	descs := make([]*sfn.DescribeExecutionOutput, len(runs))
	for i, r := range runs {
		sm := createMachine(t, c, unique("events-"+r.name), r.def, types.StateMachineTypeStandard)
		out, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Input: aws.String(`{"run":"` + r.name + `"}`)})
		if err != nil {
			t.Fatal(err)
		}
		arns[i] = *out.ExecutionArn
		if r.stop {
			if _, err := c.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: out.ExecutionArn,
				Error: aws.String(r.errName), Cause: aws.String(r.cause)}); err != nil {
				t.Fatal(err)
			}
		}
		descs[i] = waitDone(t, c, arns[i])
	}
	ok.wait(t, 2*len(runs))
	flaky.wait(t, 2*len(runs))

	for _, rc := range []*eventReceiver{ok, flaky} {
		if evs := rc.events(expressARN); len(evs) != 0 {
			t.Errorf("an Express execution sent %d events", len(evs))
		}
		for i, r := range runs {
			evs := rc.events(arns[i])
			if len(evs) != 2 {
				t.Errorf("%s: %d events, want 2 (RUNNING, %s)", r.name, len(evs), r.status)
				continue
			}
			d := descs[i]
			for j, want := range []string{"RUNNING", r.status} {
				ev := evs[j]
				if ev["detail-type"] != "Step Functions Execution Status Change" || ev["source"] != "aws.states" || ev["version"] != "0" ||
					ev["account"] != "111111111111" || ev["region"] != "us-east-1" {
					t.Errorf("%s: envelope %v", r.name, ev)
				}
				if res, _ := ev["resources"].([]any); len(res) != 1 || res[0] != arns[i] {
					t.Errorf("%s: resources %v", r.name, ev["resources"])
				}
				det := ev["detail"].(map[string]any)
				if det["status"] != want || det["name"] != aws.ToString(d.Name) || det["stateMachineArn"] != aws.ToString(d.StateMachineArn) ||
					det["input"] != `{"run":"`+r.name+`"}` || !sameMillis(det["startDate"], *d.StartDate) {
					t.Errorf("%s: event %d detail %v", r.name, j, det)
				}
				if want == "RUNNING" {
					if det["stopDate"] != nil || det["output"] != nil || det["error"] != nil || det["redriveStatus"] != "NOT_REDRIVABLE" {
						t.Errorf("%s: RUNNING detail %v", r.name, det)
					}
					continue
				}
				if !sameMillis(det["stopDate"], *d.StopDate) {
					t.Errorf("%s: stopDate %v, DescribeExecution says %d", r.name, det["stopDate"], d.StopDate.UnixMilli())
				}
				if r.status == "SUCCEEDED" {
					if det["output"] != aws.ToString(d.Output) || det["redriveStatus"] != "NOT_REDRIVABLE" {
						t.Errorf("%s: detail %v, output %s", r.name, det, aws.ToString(d.Output))
					}
					continue
				}
				if det["error"] != r.errName || (r.cause != "" && det["cause"] != r.cause) || det["output"] != nil ||
					det["redriveStatus"] != "REDRIVABLE" || det["error"] != aws.ToString(d.Error) {
					t.Errorf("%s: detail %v", r.name, det)
				}
			}
		}
	}
	if n := flaky.calls.Load(); n != int64(2*len(runs)+3) {
		t.Errorf("the flaky endpoint got %d requests, want %d (3 refused, then each event once)", n, 2*len(runs)+3)
	}

	// The counts on /metrics, once the server has seen the last answers
	// (the receivers see the events before the server sees the 200s).
	wants := []string{
		`stepwell_status_events_delivered_total{endpoint="` + ok.srv.URL + `/events"} 8`,
		`stepwell_status_events_delivered_total{endpoint="` + flaky.srv.URL + `/events"} 8`,
		`stepwell_status_events_retries_total{endpoint="` + ok.srv.URL + `/events"} 0`,
		`stepwell_status_events_retries_total{endpoint="` + flaky.srv.URL + `/events"} 3`,
		`stepwell_status_events_dropped_total{endpoint="` + flaky.srv.URL + `/events"} 0`,
		`stepwell_status_events_failed_total{endpoint="` + flaky.srv.URL + `/events"} 0`,
	}
	var missing []string
	eventually(t, 30*time.Second, "the status event counts on /metrics", func() bool {
		resp, err := http.Get(url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		missing = missing[:0]
		for _, want := range wants {
			if !strings.Contains(string(body), want+"\n") {
				missing = append(missing, want)
			}
		}
		return len(missing) == 0
	})
}

// sameMillis reports whether an event's date (epoch milliseconds) is the
// API's (epoch seconds with three decimals, which the SDK's float parsing
// may put a nanosecond under the millisecond).
func sameMillis(v any, t time.Time) bool {
	ms, ok := v.(float64)
	return ok && math.Abs(ms-float64(t.Round(time.Millisecond).UnixMilli())) < 0.5
}
