package app_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stepwell/stepwell/internal/app"
)

// TestMetrics_MixedWorkload runs executions that succeed, fail, are
// stopped, time out and run activities through the server's handler, then
// scrapes GET /metrics and checks that every counter says what ran.
func TestMetrics_MixedWorkload(t *testing.T) {
	cfg := app.DefaultConfig()
	cfg.Store = "memory"
	cfg.TimeScale = 0.01 // the execution timeout: 10 ms
	s, err := app.NewWatched(context.Background(), cfg, slog.New(slog.DiscardHandler), app.Watch{Writes: writes})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			_ = s.Close(context.Background())
		}
	})
	h := s.Handler
	const machinePrefix = "arn:aws:states:us-east-1:123456789012:stateMachine:"
	var act struct{ ActivityArn string }
	call(t, h, "CreateActivity", map[string]string{"name": "work"}, &act)
	defs := map[string]string{
		"ok":      `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`,
		"fail":    `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"E","Cause":"c"}}}`,
		"wait":    `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}`,
		"timeout": `{"TimeoutSeconds":1,"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}`,
		"act":     `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"` + act.ActivityArn + `","End":true}}}`,
	}
	for name, def := range defs {
		call(t, h, "CreateStateMachine", map[string]string{"name": name, "definition": def,
			"roleArn": "arn:aws:iam::123456789012:role/r"}, nil)
	}
	// A synchronous Express execution records no history: counted from
	// its end (executions.Observer's Unrecorded).
	call(t, h, "CreateStateMachine", map[string]string{"name": "sync", "type": "EXPRESS", "definition": defs["ok"],
		"roleArn": "arn:aws:iam::123456789012:role/r"}, nil)
	var syncOut struct{ Status string }
	call(t, h, "StartSyncExecution", map[string]string{"stateMachineArn": machinePrefix + "sync", "input": "{}"}, &syncOut)
	if syncOut.Status != "SUCCEEDED" {
		t.Fatalf("sync execution %s", syncOut.Status)
	}
	var version struct{ StateMachineVersionArn string }
	call(t, h, "PublishStateMachineVersion", map[string]string{"stateMachineArn": machinePrefix + "ok"}, &version)
	start := func(target string) string {
		var out struct{ ExecutionArn string }
		call(t, h, "StartExecution", map[string]string{"stateMachineArn": target, "input": "{}"}, &out)
		return out.ExecutionArn
	}
	waitStatus(t, h, start(machinePrefix+"ok"), "SUCCEEDED")
	waitStatus(t, h, start(version.StateMachineVersionArn), "SUCCEEDED")
	waitStatus(t, h, start(machinePrefix+"fail"), "FAILED")
	waitStatus(t, h, start(machinePrefix+"timeout"), "TIMED_OUT")
	stopped := start(machinePrefix + "wait")
	// It waits: open (the ones before may still be unregistering).
	if open := scrape(t, h)["stepwell_open_executions"]; open < 1 {
		t.Errorf("open executions %g while one waits", open)
	}
	call(t, h, "StopExecution", map[string]string{"executionArn": stopped}, nil)
	waitStatus(t, h, stopped, "ABORTED")
	// Two activity tasks: one succeeds, one fails.
	for _, send := range []string{"SendTaskSuccess", "SendTaskFailure"} {
		x := start(machinePrefix + "act")
		var task struct{ TaskToken string }
		call(t, h, "GetActivityTask", map[string]string{"activityArn": act.ActivityArn}, &task)
		if task.TaskToken == "" {
			t.Fatal("no activity task")
		}
		call(t, h, send, map[string]string{"taskToken": task.TaskToken, "output": "{}"}, nil)
		if send == "SendTaskSuccess" {
			waitStatus(t, h, x, "SUCCEEDED")
		} else {
			waitStatus(t, h, x, "FAILED")
		}
	}
	// Requests that fail: an execution that does not exist, an operation
	// that does not.
	for _, target := range []string{"DescribeExecution", "NoSuchOperation"} {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"executionArn":"arn:aws:states:us-east-1:123456789012:execution:ok:nope"}`))
		req.Header.Set("X-Amz-Target", "AWSStepFunctions."+target)
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusBadRequest {
			t.Fatalf("%s: %d %s", target, w.Code, w.Body)
		}
	}
	// Close waits until every execution's goroutine has finished
	// recording (and so telling the metrics): the counts are final.
	closed = true
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := scrape(t, h)

	m := func(name string) string {
		return `{state_machine_arn="` + machinePrefix + name + `",version_arn="",alias_arn=""}`
	}
	v := `{state_machine_arn="` + machinePrefix + `ok",version_arn="` + version.StateMachineVersionArn + `",alias_arn=""}`
	want := map[string]float64{
		"stepwell_executions_started_total" + m("ok"):                1,
		"stepwell_executions_succeeded_total" + m("ok"):              1,
		"stepwell_executions_started_total" + v:                      1,
		"stepwell_executions_succeeded_total" + v:                    1,
		"stepwell_executions_failed_total" + v:                       0,
		"stepwell_executions_started_total" + m("sync"):              1,
		"stepwell_executions_succeeded_total" + m("sync"):            1,
		"stepwell_execution_time_seconds_count" + m("sync"):          1,
		"stepwell_executions_started_total" + m("fail"):              1,
		"stepwell_executions_failed_total" + m("fail"):               1,
		"stepwell_executions_succeeded_total" + m("fail"):            0,
		"stepwell_executions_started_total" + m("timeout"):           1,
		"stepwell_executions_timed_out_total" + m("timeout"):         1,
		"stepwell_executions_failed_total" + m("timeout"):            0,
		"stepwell_executions_started_total" + m("wait"):              1,
		"stepwell_executions_aborted_total" + m("wait"):              1,
		"stepwell_executions_started_total" + m("act"):               2,
		"stepwell_executions_succeeded_total" + m("act"):             1,
		"stepwell_executions_failed_total" + m("act"):                1,
		"stepwell_activities_scheduled_total" + m("act"):             2,
		"stepwell_activities_started_total" + m("act"):               2,
		"stepwell_activities_succeeded_total" + m("act"):             1,
		"stepwell_activities_failed_total" + m("act"):                1,
		"stepwell_activities_timed_out_total" + m("act"):             0,
		"stepwell_activities_schedule_time_seconds_count" + m("act"): 2,
		"stepwell_activities_run_time_seconds_count" + m("act"):      2,
		"stepwell_activities_scheduled_total" + m("ok"):              0,
		"stepwell_service_integrations_scheduled_total" + m("act"):   0,
		"stepwell_execution_time_seconds_count" + m("act"):           2,
		`stepwell_execution_time_seconds_bucket{state_machine_arn="` + machinePrefix + `act",version_arn="",alias_arn="",le="+Inf"}`: 2,
		"stepwell_execution_time_seconds_count" + m("wait"):                                                                          1,
		`stepwell_http_requests_total{operation="StartExecution",error=""}`:                                                          7,
		`stepwell_http_requests_total{operation="SendTaskSuccess",error=""}`:                                                         1,
		`stepwell_http_requests_total{operation="DescribeExecution",error="ExecutionDoesNotExist"}`:                                  1,
		`stepwell_http_requests_total{operation="unknown",error="UnknownOperationException"}`:                                        1,
		`stepwell_http_request_duration_seconds_count{operation="StartExecution",error=""}`:                                          7,
		`stepwell_open_executions`: 0,
		`stepwell_open_map_runs`:   0,
	}
	for k, w := range want {
		if g, ok := got[k]; !ok {
			t.Errorf("no sample %s", k)
		} else if g != w {
			t.Errorf("%s = %g, want %g", k, g, w)
		}
	}
	// The workload's executions, and nothing else, are counted.
	total := 0.0
	for k, v := range got {
		if strings.HasPrefix(k, "stepwell_executions_started_total{") {
			total += v
		}
	}
	if total != 8 {
		t.Errorf("%g executions started, want 8", total)
	}
}

// sampleLine is one sample of the text exposition format.
var sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})?) (\S+)$`)

// scrape GETs /metrics and returns its samples by name and labels; every
// line must be a comment or a well-formed sample.
func scrape(t *testing.T, h http.Handler) map[string]float64 {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("GET /metrics: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	samples := map[string]float64{}
	sc := bufio.NewScanner(w.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "# HELP ") || strings.HasPrefix(line, "# TYPE ") {
			continue
		}
		m := sampleLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("not a sample line: %q", line)
		}
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			t.Fatalf("bad value in %q", line)
		}
		if _, dup := samples[m[1]]; dup {
			t.Fatalf("sample %s twice", m[1])
		}
		samples[m[1]] = v
	}
	return samples
}

// TestRun_MetricsListener: --metrics HOST:PORT serves them on a listener
// of its own, and the API's address does not.
func TestRun_MetricsListener(t *testing.T) {
	cfg := app.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir() // the embedded store: its commit counts too
	cfg.Metrics = "127.0.0.1:0"
	r, m := startRun(t, cfg, regexp.MustCompile(`(?s)metrics on (http://\S+)/metrics\n.*listening on (http://\S+)`))
	defer func() {
		r.cancel()
		if err := <-r.done; err != nil {
			t.Error(err)
		}
	}()
	for _, c := range []struct {
		url  string
		code int
	}{{m[1] + "/metrics", 200}, {m[2] + "/metrics", 404}} {
		resp, err := http.Get(c.url)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.code {
			t.Errorf("GET %s: %d, want %d", c.url, resp.StatusCode, c.code)
		}
		if c.code == 200 && (!strings.Contains(string(b), "# TYPE stepwell_executions_started_total counter") ||
			!strings.Contains(string(b), "# TYPE stepwell_store_commits_total counter") ||
			!strings.Contains(string(b), "# TYPE stepwell_store_commit_seconds_total counter") ||
			!strings.Contains(string(b), "# TYPE stepwell_store_queue_depth gauge")) {
			t.Errorf("GET %s: %s", c.url, b)
		}
	}
}
