package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepwell/stepwell/api"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/executions"
	"github.com/stepwell/stepwell/integrations"
	"github.com/stepwell/stepwell/integrations/tasktoken"
	"github.com/stepwell/stepwell/store/memory"
)

const actPrefix = "arn:aws:states:us-east-1:111111111111:activity:"

// newActivityServer wires the broker into both the engine and the
// executions service, as the app does.
func newActivityServer(t testing.TB, poll time.Duration) *api.Server {
	t.Helper()
	acts := memory.NewActivities()
	b := tasktoken.New(acts)
	router := integrations.NewRouter()
	router.Handle(tasktoken.IsActivity, b.Activities())
	router.Handle(tasktoken.IsCallback, b.Callback(router))
	tasks := b.Guard(router)
	eng := engine.New(engine.Config{Region: "us-east-1", AccountID: "111111111111", Invoker: tasks, Checker: tasks, Resumer: tasks})
	return newAPI(t, executions.Config{Store: memory.New(memory.Options{}), Engine: eng, Tasks: b, PollTimeout: poll},
		api.Config{Activities: acts})
}

func wantErr(t *testing.T, s http.Handler, action, body, typ, msg string) {
	t.Helper()
	r := call(t, s, action, body)
	got, _ := r.body["__type"].(string)
	if r.status != 400 || !strings.HasSuffix(got, "#"+typ) {
		t.Fatalf("%s %s: %d %s, want %s", action, body, r.status, r.raw, typ)
	}
	if msg != "" && r.body["message"] != msg {
		t.Fatalf("%s: message %q, want %q", action, r.body["message"], msg)
	}
}

func TestActivityLifecycle(t *testing.T) {
	s := newActivityServer(t, time.Second)
	out := ok(t, s, "CreateActivity", `{"name":"work","tags":[{"key":"team","value":"a"}]}`)
	if out["activityArn"] != actPrefix+"work" {
		t.Fatalf("create: %v", out)
	}
	created := out["creationDate"]
	// Idempotent on the name, tags ignored.
	again := ok(t, s, "CreateActivity", `{"name":"work","tags":[{"key":"team","value":"b"}]}`)
	if again["activityArn"] != actPrefix+"work" || again["creationDate"] != created {
		t.Fatalf("second create: %v", again)
	}
	d := ok(t, s, "DescribeActivity", `{"activityArn":"`+actPrefix+`work"}`)
	if d["name"] != "work" || d["activityArn"] != actPrefix+"work" || d["creationDate"] != created {
		t.Fatalf("describe: %v", d)
	}
	for i := range 4 {
		ok(t, s, "CreateActivity", fmt.Sprintf(`{"name":"more%d"}`, i))
	}
	var names []string
	tok := ""
	for {
		body := `{"maxResults":2}`
		if tok != "" {
			body = `{"maxResults":2,"nextToken":"` + tok + `"}`
		}
		page := ok(t, s, "ListActivities", body)
		for _, a := range page["activities"].([]any) {
			names = append(names, a.(map[string]any)["name"].(string))
		}
		next, _ := page["nextToken"].(string)
		if next == "" {
			break
		}
		tok = next
	}
	if fmt.Sprint(names) != "[work more0 more1 more2 more3]" {
		t.Fatalf("listed %v", names)
	}
	ok(t, s, "DeleteActivity", `{"activityArn":"`+actPrefix+`work"}`)
	ok(t, s, "DeleteActivity", `{"activityArn":"`+actPrefix+`work"}`) // absent: still fine
	wantErr(t, s, "DescribeActivity", `{"activityArn":"`+actPrefix+`work"}`, "ActivityDoesNotExist", "Activity Does Not Exist: '"+actPrefix+"work'")
	wantErr(t, s, "GetActivityTask", `{"activityArn":"`+actPrefix+`work"}`, "ActivityDoesNotExist", "Activity Does Not Exist: '"+actPrefix+"work'")
}

func TestActivityErrors(t *testing.T) {
	s := newActivityServer(t, time.Second)
	tests := []struct{ action, body, typ, msg string }{
		{"CreateActivity", `{"name":"a b"}`, "InvalidName", "Invalid Name: 'a b'"},
		{"CreateActivity", `{}`, "ValidationException", "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null"},
		{"CreateActivity", `{"name":"x","encryptionConfiguration":{"type":"CUSTOMER_MANAGED_KMS_KEY"}}`, "InvalidEncryptionConfiguration", ""},
		{"DescribeActivity", `{"activityArn":"nope"}`, "InvalidArn", "Invalid Arn: 'Invalid ARN prefix: nope'"},
		{"DescribeActivity", `{"activityArn":"arn:aws:states:us-east-1:111111111111:stateMachine:m"}`, "InvalidArn", "Invalid Arn: 'Resource type not valid in this context: stateMachine'"},
		{"DeleteActivity", `{"activityArn":"nope"}`, "InvalidArn", ""},
		{"ListActivities", `{"maxResults":1001}`, "ValidationException", ""},
		{"ListActivities", `{"nextToken":"garbage"}`, "InvalidToken", ""},
		{"SendTaskSuccess", `{"taskToken":"nope","output":"{}"}`, "InvalidToken", "Invalid Token: 'Invalid token'"},
		{"SendTaskSuccess", `{"taskToken":"nope"}`, "ValidationException", ""},
		{"SendTaskFailure", `{"taskToken":"nope"}`, "InvalidToken", "Invalid Token: 'Invalid token'"},
		{"SendTaskHeartbeat", `{"taskToken":"nope"}`, "InvalidToken", "Invalid Token: 'Invalid token'"},
		{"SendTaskHeartbeat", `{}`, "ValidationException", ""},
		{"GetActivityTask", `{"activityArn":"` + actPrefix + `x","workerName":""}`, "ValidationException", ""},
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) { wantErr(t, s, tt.action, tt.body, tt.typ, tt.msg) })
	}
}

func TestActivityTaskFlow(t *testing.T) {
	s := newActivityServer(t, 200*time.Millisecond)
	act := ok(t, s, "CreateActivity", `{"name":"work"}`)["activityArn"].(string)
	// An empty long poll answers no token.
	r := ok(t, s, "GetActivityTask", `{"activityArn":"`+act+`"}`)
	if _, has := r["taskToken"]; has || len(r) != 0 {
		t.Fatalf("empty poll: %v", r)
	}
	def := `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"` + act + `","HeartbeatSeconds":30,"End":true}}}`
	sm := create(t, s, "m", def, "")
	x := ok(t, s, "StartExecution", `{"stateMachineArn":"`+sm+`","input":"{\"Value1\": \"HelloWorld\"}"}`)["executionArn"].(string)
	var task map[string]any
	for range 50 {
		if task = ok(t, s, "GetActivityTask", `{"activityArn":"`+act+`","workerName":"w1"}`); task["taskToken"] != nil {
			break
		}
	}
	tok, _ := task["taskToken"].(string)
	if tok == "" || task["input"] != `{"Value1":"HelloWorld"}` {
		t.Fatalf("task: %v", task)
	}
	ok(t, s, "SendTaskHeartbeat", `{"taskToken":"`+tok+`"}`)
	wantErr(t, s, "SendTaskSuccess", `{"taskToken":"`+tok+`","output":"{oops"}`, "InvalidOutput", "")
	ok(t, s, "SendTaskSuccess", mustJSON(map[string]any{"taskToken": tok, "output": `{"done":true}`}))
	wantErr(t, s, "SendTaskSuccess", mustJSON(map[string]any{"taskToken": tok, "output": `{}`}), "TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'")
	wantErr(t, s, "SendTaskHeartbeat", `{"taskToken":"`+tok+`"}`, "TaskTimedOut", "")
	d := waitDone(t, s, x)
	if d["status"] != "SUCCEEDED" || d["output"] != `{"done":true}` {
		t.Fatalf("execution: %v", d)
	}
	h := ok(t, s, "GetExecutionHistory", `{"executionArn":"`+x+`"}`)
	var types []string
	for _, e := range h["events"].([]any) {
		types = append(types, e.(map[string]any)["type"].(string))
	}
	if got := strings.Join(types, " "); got != "ExecutionStarted TaskStateEntered ActivityScheduled ActivityStarted ActivitySucceeded TaskStateExited ExecutionSucceeded" {
		t.Fatalf("history %s", got)
	}
	started := h["events"].([]any)[3].(map[string]any)
	if mustJSON(started["activityStartedEventDetails"]) != `{"workerName":"w1"}` {
		t.Fatalf("ActivityStarted %v", started)
	}
}

func TestActivityDeletedBeforeRun(t *testing.T) {
	s := newActivityServer(t, time.Second)
	act := ok(t, s, "CreateActivity", `{"name":"gone"}`)["activityArn"].(string)
	sm := create(t, s, "m", `{"StartAt":"ActivityTask","States":{"ActivityTask":{"Type":"Task","Resource":"`+act+`","End":true}}}`, "")
	ok(t, s, "DeleteActivity", `{"activityArn":"`+act+`"}`)
	x := ok(t, s, "StartExecution", `{"stateMachineArn":"`+sm+`"}`)["executionArn"].(string)
	d := waitDone(t, s, x)
	want := "An error occurred while executing the state 'ActivityTask' (entered at the event id #2). The activity " + act + " does not exist."
	if d["status"] != "FAILED" || d["error"] != "States.Runtime" || d["cause"] != want {
		t.Fatalf("execution: %v", d)
	}
}

// TestConcurrentPollers: many pollers over HTTP, many executions; each
// task is delivered once.
func TestConcurrentPollers(t *testing.T) {
	s := newActivityServer(t, 100*time.Millisecond)
	act := ok(t, s, "CreateActivity", `{"name":"work"}`)["activityArn"].(string)
	sm := create(t, s, "m", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"`+act+`","End":true}}}`, "")
	const n = 100
	var mu sync.Mutex
	seen := map[string]bool{}
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				r := call(t, s, "GetActivityTask", `{"activityArn":"`+act+`"}`)
				tok, _ := r.body["taskToken"].(string)
				if tok == "" {
					continue
				}
				mu.Lock()
				if seen[tok] {
					t.Errorf("token delivered twice")
				}
				seen[tok] = true
				mu.Unlock()
				call(t, s, "SendTaskSuccess", mustJSON(map[string]any{"taskToken": tok, "output": r.body["input"]}))
			}
		}()
	}
	var arns []string
	for i := range n {
		arns = append(arns, ok(t, s, "StartExecution", fmt.Sprintf(`{"stateMachineArn":"%s","input":"{\"i\":%d}"}`, sm, i))["executionArn"].(string))
	}
	for i, x := range arns {
		d := waitDone(t, s, x)
		if d["status"] != "SUCCEEDED" || d["output"] != fmt.Sprintf(`{"i":%d}`, i) {
			t.Fatalf("execution %d: %v", i, d)
		}
	}
	close(done)
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("%d tasks delivered, want %d", len(seen), n)
	}
}

// FuzzActivityAPI checks that no request body to the activity and task
// token operations gets a 500 or a non-JSON answer.
func FuzzActivityAPI(f *testing.F) {
	actions := []string{"CreateActivity", "DescribeActivity", "DeleteActivity", "ListActivities",
		"GetActivityTask", "SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat"}
	for i := range actions {
		f.Add(uint8(i), `{}`)
		f.Add(uint8(i), `{"name":"a","activityArn":"`+actPrefix+`a","taskToken":"AQB","output":"{}","maxResults":1}`)
		f.Add(uint8(i), `{"activityArn":5,"taskToken":null,"error":"`+strings.Repeat("e", 300)+`"}`)
		f.Add(uint8(i), `[`)
	}
	s := newActivityServer(f, 5*time.Millisecond)
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		action := actions[int(which)%len(actions)]
		r := call(t, s, action, body)
		if r.status != 200 && r.status != 400 {
			t.Fatalf("%s %q: status %d %s", action, body, r.status, r.raw)
		}
	})
}
