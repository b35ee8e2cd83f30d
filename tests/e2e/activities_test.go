package e2e

// Activities and callbacks through the AWS SDK: real activity workers
// polling concurrently, heartbeats and timeouts, .waitForTaskToken tasks
// completed from another goroutine, the API's error types, and the
// activity benchmark (BenchmarkActivityThroughput).

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

const activityArn = "arn:aws:states:us-east-1:111111111111:activity:"

// The server's Lambda endpoint is a stub started here: its function
// "callback" answers at once and, once its answer is sent, completes the
// task token it was given from another goroutine, as a real asynchronous
// worker would (mode "early" completes it before answering instead).
func init() {
	stub := httptest.NewServer(http.HandlerFunc(lambdaCallbackStub))
	os.Setenv("STEPWELL_LAMBDA_ENDPOINT", stub.URL)
}

// callbackMode tells the stub how to complete a token.
type callbackRequest struct {
	Token string `json:"token"`
	Mode  string `json:"mode"` // "success", "fail", "heartbeat-success", "early" or "none"
	Value any    `json:"value"`
}

func lambdaCallbackStub(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if !strings.Contains(r.URL.Path, "/functions/callback/") {
		w.Header().Set("X-Amzn-ErrorType", "ResourceNotFoundException")
		w.WriteHeader(404)
		_, _ = io.WriteString(w, `{"Type":"User","Message":"Function not found","__type":"ResourceNotFoundException"}`)
		return
	}
	var req callbackRequest
	_ = json.Unmarshal(body, &req)
	if req.Mode == "early" {
		// The token is completed while the invocation that carries it is
		// still in flight: the server must keep the result until the
		// invocation has returned (and TaskSubmitted is recorded).
		if err := completeCallback(req); err != nil {
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
			b, _ := json.Marshal(map[string]string{"errorType": "EarlyCompletionRefused", "errorMessage": err.Error()})
			_, _ = w.Write(b)
			return
		}
	}
	const answer = `{"accepted":true}`
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amz-Executed-Version", "$LATEST")
	// With its length set, the flushed answer is whole on the wire: the
	// completion below follows the response it answers, without a sleep.
	w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
	_, _ = io.WriteString(w, answer)
	_ = http.NewResponseController(w).Flush()
	if req.Mode != "early" {
		go func() {
			if err := completeCallback(req); err != nil {
				// The execution waits on: the test fails on its timeout.
				fmt.Fprintf(os.Stderr, "e2e: lambda stub: completing the token (%s): %v\n", req.Mode, err)
			}
		}()
	}
}

func completeCallback(req callbackRequest) error {
	if req.Token == "" || req.Mode == "none" {
		return nil
	}
	c := sfn.New(sfn.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), Credentials: staticCreds{}})
	ctx := context.Background()
	if req.Mode == "fail" {
		_, err := c.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(req.Token), Error: aws.String("Callback.Failed"), Cause: aws.String("the worker said no")})
		return err
	}
	if req.Mode == "heartbeat-success" {
		if _, err := c.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(req.Token)}); err != nil {
			return err
		}
	}
	out, _ := json.Marshal(map[string]any{"echo": req.Value})
	_, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(req.Token), Output: aws.String(string(out))})
	return err
}

type staticCreds struct{}

func (staticCreds) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "SECRET"}, nil
}

func createActivity(t testing.TB, c *sfn.Client, name string) string {
	t.Helper()
	out, err := c.CreateActivity(context.Background(), &sfn.CreateActivityInput{Name: aws.String(name)})
	if err != nil {
		t.Fatalf("CreateActivity %s: %v", name, err)
	}
	return *out.ActivityArn
}

func activityMachine(t *testing.T, c *sfn.Client, name, act, extra string) string {
	t.Helper()
	def := `{"StartAt":"Work","States":{"Work":{"Type":"Task","Resource":"` + act + `"` + extra + `,"End":true}}}`
	return createMachine(t, c, name, def, "")
}

func TestActivityAPI(t *testing.T) {
	ctx := context.Background()
	c := client(t)
	name := unique("api-activity")
	arn := createActivity(t, c, name)
	if arn != activityArn+name {
		t.Fatalf("arn %s", arn)
	}
	if again := createActivity(t, c, name); again != arn {
		t.Fatalf("idempotent create gave %s", again)
	}
	d, err := c.DescribeActivity(ctx, &sfn.DescribeActivityInput{ActivityArn: aws.String(arn)})
	if err != nil || *d.Name != name || d.CreationDate == nil || time.Since(*d.CreationDate) > time.Minute {
		t.Fatalf("describe: %+v %v", d, err)
	}
	pages := make([]string, 3)
	for i := range pages {
		pages[i] = unique(fmt.Sprintf("api-page-%d", i))
		createActivity(t, c, pages[i])
	}
	var names []string
	p := sfn.NewListActivitiesPaginator(c, &sfn.ListActivitiesInput{MaxResults: 2})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Activities) > 2 {
			t.Fatalf("page of %d", len(page.Activities))
		}
		for _, a := range page.Activities {
			names = append(names, *a.Name)
		}
	}
	for _, want := range append([]string{name}, pages...) {
		if !slices.Contains(names, want) {
			t.Fatalf("%s not listed in %v", want, names)
		}
	}
	if _, err := c.DeleteActivity(ctx, &sfn.DeleteActivityInput{ActivityArn: aws.String(activityArn + pages[1])}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeActivity(ctx, &sfn.DescribeActivityInput{ActivityArn: aws.String(activityArn + pages[1])})
	wantAPIError[*types.ActivityDoesNotExist](t, err)
	_, err = c.GetActivityTask(ctx, &sfn.GetActivityTaskInput{ActivityArn: aws.String(activityArn + pages[1])})
	wantAPIError[*types.ActivityDoesNotExist](t, err)
	_, err = c.DescribeActivity(ctx, &sfn.DescribeActivityInput{ActivityArn: aws.String("not-an-arn")})
	wantAPIError[*types.InvalidArn](t, err)
	_, err = c.CreateActivity(ctx, &sfn.CreateActivityInput{Name: aws.String("bad name")})
	wantAPIError[*types.InvalidName](t, err)
	_, err = c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String("forged"), Output: aws.String("{}")})
	wantAPIError[*types.InvalidToken](t, err)
	_, err = c.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String("forged")})
	wantAPIError[*types.InvalidToken](t, err)
	_, err = c.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String("forged")})
	wantAPIError[*types.InvalidToken](t, err)
}

// poll gets one task, retrying empty polls until deadline.
func poll(t *testing.T, c *sfn.Client, act, worker string) *sfn.GetActivityTaskOutput {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		out, err := c.GetActivityTask(context.Background(), &sfn.GetActivityTaskInput{ActivityArn: aws.String(act), WorkerName: aws.String(worker)})
		if err != nil {
			t.Fatalf("GetActivityTask: %v", err)
		}
		if out.TaskToken != nil && *out.TaskToken != "" {
			return out
		}
	}
	t.Fatal("no activity task")
	return nil
}

// TestActivityWorkers: concurrent workers take every task exactly once.
func TestActivityWorkers(t *testing.T) {
	ctx := context.Background()
	c := client(t)
	act := createActivity(t, c, unique("workers"))
	sm := activityMachine(t, c, unique("activity-workers"), act, `,"TimeoutSeconds":6000,"HeartbeatSeconds":3000,"ResultPath":"$.result"`)
	const n, workers = 60, 8
	var mu sync.Mutex
	delivered := map[string]string{} // token -> worker
	// Pollers are cancelled only once every task is done: a poll cancelled
	// by its client could take a task with it (delivery is at most once).
	pctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("worker-%d", w)
			wc := client(t)
			for pctx.Err() == nil {
				task, err := wc.GetActivityTask(pctx, &sfn.GetActivityTaskInput{ActivityArn: aws.String(act), WorkerName: aws.String(name)})
				if err != nil || task.TaskToken == nil {
					continue
				}
				mu.Lock()
				if prev, dup := delivered[*task.TaskToken]; dup {
					t.Errorf("task delivered to %s and %s", prev, name)
				}
				delivered[*task.TaskToken] = name
				mu.Unlock()
				if _, err := wc.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: task.TaskToken}); err != nil {
					t.Errorf("heartbeat: %v", err)
				}
				var in map[string]any
				_ = json.Unmarshal([]byte(*task.Input), &in)
				out, _ := json.Marshal(map[string]any{"by": name, "n": in["n"]})
				if _, err := wc.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: task.TaskToken, Output: aws.String(string(out))}); err != nil {
					t.Errorf("success: %v", err)
				}
			}
		}()
	}
	arns := make([]string, n)
	for i := range n {
		out, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Input: aws.String(fmt.Sprintf(`{"n":%d}`, i))})
		if err != nil {
			t.Fatal(err)
		}
		arns[i] = *out.ExecutionArn
	}
	for i, arn := range arns {
		d := waitDone(t, c, arn)
		if d.Status != types.ExecutionStatusSucceeded {
			t.Fatalf("execution %d: %s", i, d.Status)
		}
		out := decodeJSON(t, d.Output)
		res, _ := out["result"].(map[string]any)
		if res == nil || res["n"] != float64(i) || !strings.HasPrefix(fmt.Sprint(res["by"]), "worker-") {
			t.Fatalf("execution %d output %s", i, *d.Output)
		}
	}
	stop()
	wg.Wait()
	if len(delivered) != n {
		t.Fatalf("%d tasks delivered, want %d", len(delivered), n)
	}
	// The history names the worker and the activity's timeouts.
	h, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arns[0])})
	if err != nil {
		t.Fatal(err)
	}
	var typesSeen []string
	for _, e := range h.Events {
		typesSeen = append(typesSeen, string(e.Type))
		switch e.Type {
		case types.HistoryEventTypeActivityScheduled:
			d := e.ActivityScheduledEventDetails
			if *d.Resource != act || *d.TimeoutInSeconds != 6000 || *d.HeartbeatInSeconds != 3000 || *d.Input != `{"n":0}` {
				t.Fatalf("ActivityScheduled %+v", d)
			}
		case types.HistoryEventTypeActivityStarted:
			if !strings.HasPrefix(*e.ActivityStartedEventDetails.WorkerName, "worker-") {
				t.Fatalf("ActivityStarted %+v", e.ActivityStartedEventDetails)
			}
		}
	}
	if got := strings.Join(typesSeen, " "); got != "ExecutionStarted TaskStateEntered ActivityScheduled ActivityStarted ActivitySucceeded TaskStateExited ExecutionSucceeded" {
		t.Fatalf("history %s", got)
	}
}

func TestActivityFailureAndClosedToken(t *testing.T) {
	ctx := context.Background()
	c := client(t)
	act := createActivity(t, c, unique("failing"))
	sm := activityMachine(t, c, unique("activity-failing"), act, "")
	x, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm)})
	if err != nil {
		t.Fatal(err)
	}
	task := poll(t, c, act, "w")
	_, err = c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: task.TaskToken, Output: aws.String("{not json")})
	wantAPIError[*types.InvalidOutput](t, err)
	if _, err := c.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: task.TaskToken, Error: aws.String("Worker.Crashed"), Cause: aws.String("disk full")}); err != nil {
		t.Fatal(err)
	}
	d := waitDone(t, c, *x.ExecutionArn)
	if d.Status != types.ExecutionStatusFailed || *d.Error != "Worker.Crashed" || *d.Cause != "disk full" {
		t.Fatalf("execution %+v", d)
	}
	_, err = c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: task.TaskToken, Output: aws.String("{}")})
	wantAPIError[*types.TaskTimedOut](t, err)
	if got := historyTypes(t, c, *x.ExecutionArn); !slices.Contains(got, "ActivityFailed") {
		t.Fatalf("history %v", got)
	}
}

// TestActivityHeartbeats: heartbeats keep a task alive past HeartbeatSeconds;
// when they stop, the task times out with States.Timeout. The server runs
// with --time-scale 0.01: HeartbeatSeconds 200 is two seconds, which
// leaves a loaded machine 1.7 s to deliver each heartbeat sent every 300 ms.
func TestActivityHeartbeats(t *testing.T) {
	ctx := context.Background()
	c := client(t)
	act := createActivity(t, c, unique("heartbeats"))
	def := `{"StartAt":"Work","States":{"Work":{"Type":"Task","Resource":"` + act + `","HeartbeatSeconds":200,
		"Catch":[{"ErrorEquals":["States.Timeout"],"ResultPath":"$.error","Next":"TimedOut"}],"End":true},
		"TimedOut":{"Type":"Pass","End":true}}}`
	sm := createMachine(t, c, unique("activity-heartbeats"), def, "")

	// Alive for 3 s with beats every 300 ms, then success.
	x1, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm)})
	if err != nil {
		t.Fatal(err)
	}
	task := poll(t, c, act, "steady")
	for range 10 {
		// This sleep is the behaviour under test, not a wait for
		// something: time passes, 3 s in all, half as long again as
		// HeartbeatSeconds, and only the heartbeats keep the task alive.
		time.Sleep(300 * time.Millisecond)
		if _, err := c.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: task.TaskToken}); err != nil {
			t.Fatalf("heartbeat: %v", err)
		}
	}
	if _, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: task.TaskToken, Output: aws.String(`{"ok":true}`)}); err != nil {
		t.Fatal(err)
	}
	if d := waitDone(t, c, *x1.ExecutionArn); d.Status != types.ExecutionStatusSucceeded || *d.Output != `{"ok":true}` {
		t.Fatalf("steady worker: %s %v", d.Status, aws.ToString(d.Output))
	}

	// Silent after receiving the task: States.Timeout, caught.
	x2, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Input: aws.String(`{"k":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	task = poll(t, c, act, "silent")
	d := waitDone(t, c, *x2.ExecutionArn)
	if d.Status != types.ExecutionStatusSucceeded || *d.Output != `{"k":1,"error":{"Error":"States.Timeout","Cause":""}}` {
		t.Fatalf("silent worker: %s %v", d.Status, aws.ToString(d.Output))
	}
	_, err = c.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: task.TaskToken})
	wantAPIError[*types.TaskTimedOut](t, err)
	got := historyTypes(t, c, *x2.ExecutionArn)
	if !slices.Contains(got, "ActivityTimedOut") {
		t.Fatalf("history %v", got)
	}
}

func TestActivityDeleted(t *testing.T) {
	ctx := context.Background()
	c := client(t)
	act := createActivity(t, c, unique("deleted-soon"))
	def := `{"StartAt":"ActivityTask","States":{"ActivityTask":{"Type":"Task","Resource":"` + act + `","End":true}}}`
	sm := createMachine(t, c, unique("activity-deleted"), def, "")
	if _, err := c.DeleteActivity(ctx, &sfn.DeleteActivityInput{ActivityArn: aws.String(act)}); err != nil {
		t.Fatal(err)
	}
	d := startAndWait(t, c, sm, `{"Value1":"HelloWorld"}`)
	want := "An error occurred while executing the state 'ActivityTask' (entered at the event id #2). The activity " + act + " does not exist."
	if d.Status != types.ExecutionStatusFailed || *d.Error != "States.Runtime" || *d.Cause != want {
		t.Fatalf("execution %s %v %v", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
	if got := strings.Join(historyTypes(t, c, *d.ExecutionArn), " "); got != "ExecutionStarted TaskStateEntered ExecutionFailed" {
		t.Fatalf("history %s", got)
	}
}

// TestCallbackLambda: lambda:invoke.waitForTaskToken, completed by the
// stub from another goroutine after the invocation returned.
func TestCallbackLambda(t *testing.T) {
	c := client(t)
	def := `{"StartAt":"Call","States":{"Call":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
		"HeartbeatSeconds":500,
		"Parameters":{"FunctionName":"callback","Payload":{"token.$":"$$.Task.Token","mode.$":"$.mode","value.$":"$.value"}},
		"ResultPath":"$.result","End":true}}}`
	sm := createMachine(t, c, unique("callback-lambda"), def, "")

	d := startAndWait(t, c, sm, `{"mode":"heartbeat-success","value":42}`)
	if d.Status != types.ExecutionStatusSucceeded || *d.Output != `{"mode":"heartbeat-success","value":42,"result":{"echo":42}}` {
		t.Fatalf("success: %s %v", d.Status, aws.ToString(d.Output))
	}
	h, err := c.GetExecutionHistory(context.Background(), &sfn.GetExecutionHistoryInput{ExecutionArn: d.ExecutionArn})
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	var token string
	for _, e := range h.Events {
		seen = append(seen, string(e.Type))
		switch e.Type {
		case types.HistoryEventTypeTaskScheduled:
			d := e.TaskScheduledEventDetails
			if *d.ResourceType != "lambda" || *d.Resource != "invoke.waitForTaskToken" || *d.HeartbeatInSeconds != 500 {
				t.Fatalf("TaskScheduled %+v", d)
			}
			var p struct{ Payload struct{ Token string } }
			_ = json.Unmarshal([]byte(*d.Parameters), &p)
			token = p.Payload.Token
		case types.HistoryEventTypeTaskSubmitted:
			out := decodeJSON(t, e.TaskSubmittedEventDetails.Output)
			if fmt.Sprint(out["Payload"]) != "map[accepted:true]" || out["StatusCode"] != float64(200) {
				t.Fatalf("TaskSubmitted %s", *e.TaskSubmittedEventDetails.Output)
			}
		case types.HistoryEventTypeTaskSucceeded:
			if *e.TaskSucceededEventDetails.Output != `{"echo":42}` {
				t.Fatalf("TaskSucceeded %s", *e.TaskSucceededEventDetails.Output)
			}
		}
	}
	if got := strings.Join(seen, " "); got != "ExecutionStarted TaskStateEntered TaskScheduled TaskStarted TaskSubmitted TaskSucceeded TaskStateExited ExecutionSucceeded" {
		t.Fatalf("history %s", got)
	}
	if len(token) < 64 {
		t.Fatalf("task token %q is short", token)
	}

	// Completed before the invocation returned: the same history.
	d = startAndWait(t, c, sm, `{"mode":"early","value":7}`)
	if d.Status != types.ExecutionStatusSucceeded || *d.Output != `{"mode":"early","value":7,"result":{"echo":7}}` {
		t.Fatalf("early success: %s %v", d.Status, aws.ToString(d.Output))
	}
	if got := strings.Join(historyTypes(t, c, *d.ExecutionArn), " "); got != "ExecutionStarted TaskStateEntered TaskScheduled TaskStarted TaskSubmitted TaskSucceeded TaskStateExited ExecutionSucceeded" {
		t.Fatalf("early success history %s", got)
	}

	d = startAndWait(t, c, sm, `{"mode":"fail","value":1}`)
	if d.Status != types.ExecutionStatusFailed || *d.Error != "Callback.Failed" || *d.Cause != "the worker said no" {
		t.Fatalf("failure: %s %v %v", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
}

// TestCallbackTimeout: a token nobody completes times out (TimeoutSeconds
// 100 is one second at the test's time scale).
func TestCallbackTimeout(t *testing.T) {
	c := client(t)
	def := `{"StartAt":"Call","States":{"Call":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","TimeoutSeconds":100,
		"Parameters":{"FunctionName":"callback","Payload":{"token.$":"$$.Task.Token","mode":"none"}},"End":true}}}`
	sm := createMachine(t, c, unique("callback-timeout"), def, "")
	d := startAndWait(t, c, sm, `{}`)
	if d.Status != types.ExecutionStatusFailed || *d.Error != "States.Timeout" {
		t.Fatalf("execution %s %v", d.Status, aws.ToString(d.Error))
	}
	got := strings.Join(historyTypes(t, c, *d.ExecutionArn), " ")
	if got != "ExecutionStarted TaskStateEntered TaskScheduled TaskStarted TaskSubmitted TaskTimedOut ExecutionFailed" {
		t.Fatalf("history %s", got)
	}
}

// activityTasks is how many tasks each run of BenchmarkActivityThroughput
// measures (after a warm-up that is not measured): 5,000 at 1,000/s is
// five seconds, enough for a stable p99 (50 samples above it).
var activityTasks = flag.Int("activity.tasks", 5000, "tasks measured by each BenchmarkActivityThroughput run")

// BenchmarkActivityThroughput measures activity tasks flowing from
// executions through GetActivityTask to SendTaskSuccess with 100
// concurrent pollers, and the time from scheduling (ActivityScheduled) to
// delivery (the worker holding the GetActivityTask answer). It runs
// unpaced (throughput: 64 starters, each starting an execution as soon as
// its previous StartExecution returned) and paced at 1,000 tasks/s
// (latency: an open-loop schedule, each StartExecution sent at its slot
// whatever the server's speed, so a slow server is not given time to
// catch up). Each run first pushes a warm-up of 500 tasks through the
// same path, unmeasured.
//
// Metrics: tasks/s (tasks completed over the time from the first start to
// the last SendTaskSuccess), p50-ms / p99-ms / max-ms from scheduling to
// delivery (from the history's ActivityScheduled timestamp, which has
// millisecond precision and is truncated: each latency is over-estimated
// by less than 1 ms), start-p99-ms (from sending StartExecution to
// delivery, microsecond precision, an upper bound that also counts the
// durable CreateExecution) and, paced, late-p99-ms (how late the client
// sent its StartExecution calls against the schedule). Unpaced, the
// starts outrun the deliveries, so its latencies measure the backlog (they
// grow with the run's length): read its tasks/s; the latency target is
// the paced run's.
func BenchmarkActivityThroughput(b *testing.B) {
	for _, rate := range []int{0, 1000} {
		name := "unpaced"
		if rate > 0 {
			name = fmt.Sprintf("paced-%d-per-s", rate)
		}
		b.Run(name, func(b *testing.B) { benchActivities(b, rate) })
	}
}

var benchSeq atomic.Int64

// activityRun is the outcome of pushing tasks through one activity.
type activityRun struct {
	n             int
	elapsed       time.Duration
	lat, startLat []time.Duration // sorted
	late          []time.Duration // sorted; paced runs only
}

func benchActivities(b *testing.B, rate int) {
	ctx := context.Background()
	c := benchClient()
	id := benchSeq.Add(1)
	actOut, err := c.CreateActivity(ctx, &sfn.CreateActivityInput{Name: aws.String(fmt.Sprintf("bench-%d-%d", id, time.Now().UnixNano()))})
	if err != nil {
		b.Fatal(err)
	}
	act := *actOut.ActivityArn
	smOut, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name:       aws.String(fmt.Sprintf("bench-activity-%d-%d", id, time.Now().UnixNano())),
		Definition: aws.String(`{"StartAt":"W","States":{"W":{"Type":"Task","Resource":"` + act + `","End":true}}}`),
		RoleArn:    aws.String(role),
	})
	if err != nil {
		b.Fatal(err)
	}
	sm := *smOut.StateMachineArn
	n := max(*activityTasks, b.N, 200)
	runActivityTasks(b, c, act, sm, "warm", 500, rate)
	b.ResetTimer()
	r := runActivityTasks(b, c, act, sm, "x", n, rate)
	b.StopTimer()
	pct := func(d []time.Duration, p int) time.Duration { return d[min(len(d)-1, (len(d)*p)/100)] }
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	tps := float64(r.n) / r.elapsed.Seconds()
	b.ReportMetric(tps, "tasks/s")
	b.ReportMetric(ms(pct(r.lat, 50)), "p50-ms")
	b.ReportMetric(ms(pct(r.lat, 99)), "p99-ms")
	b.ReportMetric(ms(r.lat[len(r.lat)-1]), "max-ms")
	b.ReportMetric(ms(pct(r.startLat, 99)), "start-p99-ms")
	how := "unpaced"
	if rate > 0 {
		b.ReportMetric(ms(pct(r.late, 99)), "late-p99-ms")
		how = fmt.Sprintf("paced at %d/s, sends late p99 %v", rate, pct(r.late, 99).Round(10*time.Microsecond))
	}
	fmt.Printf("activity benchmark (%s): %d tasks, 100 pollers: %.0f tasks/s; scheduling to delivery: median %v, p99 %v, max %v; start to delivery p99 %v\n",
		how, r.n, tps, pct(r.lat, 50).Round(10*time.Microsecond), pct(r.lat, 99).Round(10*time.Microsecond),
		r.lat[len(r.lat)-1].Round(10*time.Microsecond), pct(r.startLat, 99).Round(10*time.Microsecond))
}

// runActivityTasks starts n executions of sm (names prefix0, prefix1, …),
// unpaced or at rate per second, while 100 pollers take their tasks and
// complete them, and measures every task.
func runActivityTasks(b *testing.B, c *sfn.Client, act, sm, prefix string, n, rate int) activityRun {
	ctx := context.Background()
	const pollers = 100
	sent := make([]time.Time, n)      // StartExecution sent
	delivered := make([]time.Time, n) // GetActivityTask answered
	var completed atomic.Int64
	allDone := make(chan struct{})
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	// ready is done once every poller's first GetActivityTask request is
	// written to the server: the first starts do not wait for pollers.
	var ready sync.WaitGroup
	ready.Add(pollers)
	for range pollers {
		wg.Add(1)
		var once sync.Once
		trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { once.Do(ready.Done) }}
		tctx := httptrace.WithClientTrace(pctx, trace)
		go func() {
			defer wg.Done()
			for pctx.Err() == nil {
				task, err := c.GetActivityTask(tctx, &sfn.GetActivityTaskInput{ActivityArn: aws.String(act), WorkerName: aws.String("bench")})
				at := time.Now()
				if err != nil || task.TaskToken == nil {
					continue
				}
				var in struct{ I int }
				if err := json.Unmarshal([]byte(*task.Input), &in); err != nil || in.I < 0 || in.I >= n {
					b.Errorf("task input %s", *task.Input)
					continue
				}
				delivered[in.I] = at
				if _, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: task.TaskToken, Output: aws.String(`{}`)}); err != nil {
					b.Errorf("SendTaskSuccess: %v", err)
				}
				if completed.Add(1) == int64(n) {
					close(allDone)
				}
			}
		}()
	}
	ready.Wait()
	execs := make([]string, n)
	startOne := func(i int) {
		name := fmt.Sprintf("%s%d-%d", prefix, i, time.Now().UnixNano())
		sent[i] = time.Now()
		out, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Name: aws.String(name),
			Input: aws.String(fmt.Sprintf(`{"I":%d}`, i))})
		if err != nil {
			b.Errorf("StartExecution: %v", err)
			return
		}
		execs[i] = *out.ExecutionArn
	}
	var late []time.Duration
	begin := time.Now()
	var swg sync.WaitGroup
	if rate == 0 {
		var next atomic.Int64
		for range 64 {
			swg.Add(1)
			go func() {
				defer swg.Done()
				for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
					startOne(i)
				}
			}()
		}
	} else {
		// Open loop: each start is sent at its slot on its own goroutine
		// (at most 1,000 outstanding), however long earlier ones take.
		interval := time.Second / time.Duration(rate)
		slots := make(chan struct{}, 1000)
		late = make([]time.Duration, 0, n)
		for i := range n {
			due := begin.Add(time.Duration(i) * interval)
			if d := time.Until(due); d > 0 {
				// Pacing is what this run measures: the sleep is the
				// schedule, not a wait for the server.
				time.Sleep(d)
			}
			slots <- struct{}{}
			late = append(late, time.Since(due))
			swg.Add(1)
			go func() {
				defer swg.Done()
				startOne(i)
				<-slots
			}()
		}
	}
	swg.Wait()
	select {
	case <-allDone:
	case <-time.After(2 * time.Minute):
		b.Fatalf("only %d of %d tasks completed", completed.Load(), n)
	}
	r := activityRun{n: n, elapsed: time.Since(begin), late: late}
	stop()
	wg.Wait()
	for i, x := range execs {
		h, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(x)})
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range h.Events {
			if e.Type == types.HistoryEventTypeActivityScheduled && e.Timestamp != nil {
				r.lat = append(r.lat, delivered[i].Sub(*e.Timestamp))
			}
		}
		r.startLat = append(r.startLat, delivered[i].Sub(sent[i]))
	}
	if len(r.lat) != n {
		b.Fatalf("%d ActivityScheduled events for %d executions", len(r.lat), n)
	}
	slices.Sort(r.lat)
	slices.Sort(r.startLat)
	slices.Sort(r.late)
	return r
}

// benchClient is a client with a connection pool sized for 100 pollers.
func benchClient() *sfn.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 512
	tr.MaxIdleConnsPerHost = 512
	return sfn.New(sfn.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(endpoint), Credentials: staticCreds{},
		HTTPClient: &http.Client{Transport: tr},
		Retryer:    aws.NopRetryer{},
	})
}
