package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// The server under test reads a mock configuration and an HTTP
// connections file, named by environment variables set before TestMain
// starts it. The files are only read at start.
var (
	integrationFiles     string
	removeIntegrationDir sync.Once
)

const mockConfig = `{
  "StateMachines": {
    "mocked-orders": {
      "TestCases": {
        "HappyPath":  {"Charge": "ChargeOK", "Notify": "NotifyOK"},
        "RetryPath":  {"Charge": "ChargeFlaky", "Notify": "NotifyOK"},
        "FailPath":   {"Charge": "ChargeDeclined"}
      }
    }
  },
  "MockedResponses": {
    "ChargeOK":       {"0": {"Return": {"StatusCode": 200, "Payload": {"charged": 42}}}},
    "ChargeFlaky":    {"0-1": {"Throw": {"Error": "Lambda.ServiceException", "Cause": "try again"}},
                       "2": {"Return": {"StatusCode": 200, "Payload": {"charged": 7}}}},
    "ChargeDeclined": {"0": {"Throw": {"Error": "CardDeclined", "Cause": "insufficient funds"}}},
    "NotifyOK":       {"0": {"Return": {"MessageId": "m-1"}}}
  }
}`

const connectionARN = "arn:aws:events:us-east-1:111111111111:connection/orders-api/0d9a6c4e"

const connectionsFile = `{"` + connectionARN + `": {"ApiKey": {"Name": "x-api-key", "Value": "local-secret"}, "QueryParameters": {"tenant": "t1"}}}`

func init() {
	dir, err := os.MkdirTemp("", "stepwell-e2e-integrations-")
	if err != nil {
		return
	}
	integrationFiles = dir
	mockPath, connPath := filepath.Join(dir, "MockConfigFile.json"), filepath.Join(dir, "connections.json")
	if os.WriteFile(mockPath, []byte(mockConfig), 0o600) != nil || os.WriteFile(connPath, []byte(connectionsFile), 0o600) != nil {
		return
	}
	os.Setenv("STEPWELL_MOCK_CONFIG", mockPath)
	os.Setenv("STEPWELL_HTTP_CONNECTIONS", connPath)
}

// started is called by each test of this file: the server has read the
// files by now.
func started(t *testing.T) {
	t.Helper()
	removeIntegrationDir.Do(func() {
		if integrationFiles != "" {
			os.RemoveAll(integrationFiles)
		}
	})
}

func startAndWait(t *testing.T, c *sfn.Client, smARN, input string) *sfn.DescribeExecutionOutput {
	t.Helper()
	out, err := c.StartExecution(context.Background(), &sfn.StartExecutionInput{StateMachineArn: aws.String(smARN), Input: aws.String(input)})
	if err != nil {
		t.Fatalf("StartExecution %s: %v", smARN, err)
	}
	return waitDone(t, c, *out.ExecutionArn)
}

func decodeJSON(t *testing.T, s *string) map[string]any {
	t.Helper()
	if s == nil {
		t.Fatal("no JSON")
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(*s), &m); err != nil {
		t.Fatalf("%v: %s", err, *s)
	}
	return m
}

func historyTypes(t *testing.T, c *sfn.Client, arn string) []string {
	t.Helper()
	h, err := c.GetExecutionHistory(context.Background(), &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), MaxResults: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range h.Events {
		out = append(out, string(e.Type))
	}
	return out
}

func TestNestedExecutions(t *testing.T) {
	started(t)
	c := client(t)
	child := createMachine(t, c, "nested-child", `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"Arg1":"argument1"},"End":true}}}`, "")
	failing := createMachine(t, c, "nested-child-fails", `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"SomeFailure","Cause":"child failed"}}}`, "")
	echo := createMachine(t, c, "nested-child-echo", `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`, "")

	parent := func(name, suffix string) string {
		return createMachine(t, c, name, `{"StartAt":"Start","States":{"Start":{"Type":"Task",
			"Resource":"arn:aws:states:::states:startExecution`+suffix+`",
			"Parameters":{"StateMachineArn.$":"$.StateMachineArn","Input.$":"$.Input","Name.$":"$.Name"},"End":true}}}`, "")
	}
	syncParent, sync2Parent, rrParent := parent("nested-sync", ".sync"), parent("nested-sync2", ".sync:2"), parent("nested-rr", "")
	// Child names are unique per run: the server's store may outlive it.
	run := strconv.FormatInt(time.Now().UnixNano(), 36)

	// .sync: DescribeExecution-like output, Input and Output as JSON text.
	d := startAndWait(t, c, syncParent, `{"StateMachineArn":"`+child+`","Input":null,"Name":"sync-child-`+run+`"}`)
	if d.Status != types.ExecutionStatusSucceeded {
		t.Fatalf(".sync: %s %v %v", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
	out := decodeJSON(t, d.Output)
	childARN := "arn:aws:states:us-east-1:111111111111:execution:nested-child:sync-child-" + run
	if out["ExecutionArn"] != childARN || out["Input"] != "{}" || out["Output"] != `{"Arg1":"argument1"}` ||
		out["Status"] != "SUCCEEDED" || out["StateMachineArn"] != child || out["Name"] != "sync-child-"+run {
		t.Errorf(".sync output: %s", *d.Output)
	}
	// The child is a real execution.
	cd, err := c.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(childARN)})
	if err != nil || cd.Status != types.ExecutionStatusSucceeded || aws.ToString(cd.Output) != `{"Arg1":"argument1"}` {
		t.Errorf("child: %+v, %v", cd, err)
	}
	want := "ExecutionStarted TaskStateEntered TaskScheduled TaskStarted TaskSubmitted TaskSucceeded TaskStateExited ExecutionSucceeded"
	if got := strings.Join(historyTypes(t, c, *d.ExecutionArn), " "); got != want {
		t.Errorf(".sync history: %s", got)
	}

	// .sync:2: parsed Input and Output; the parent's id reaches the child.
	d = startAndWait(t, c, sync2Parent, `{"StateMachineArn":"`+echo+`","Name":"sync2-child-`+run+`",
		"Input":{"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID":"parent-id","n":1}}`)
	out = decodeJSON(t, d.Output)
	in, _ := out["Input"].(map[string]any)
	o, _ := out["Output"].(map[string]any)
	if d.Status != types.ExecutionStatusSucceeded || in["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"] != "parent-id" || o["n"] != 1.0 {
		t.Errorf(".sync:2 output: %s", aws.ToString(d.Output))
	}

	// Request response: the StartExecution response.
	d = startAndWait(t, c, rrParent, `{"StateMachineArn":"`+child+`","Input":{"Hello":"World"},"Name":"rr-child-`+run+`"}`)
	out = decodeJSON(t, d.Output)
	if d.Status != types.ExecutionStatusSucceeded || out["ExecutionArn"] != "arn:aws:states:us-east-1:111111111111:execution:nested-child:rr-child-"+run ||
		out["SdkHttpMetadata"] == nil || out["StartDate"] == nil {
		t.Errorf("request response output: %s", aws.ToString(d.Output))
	}

	// A failing child fails the task with States.TaskFailed.
	d = startAndWait(t, c, syncParent, `{"StateMachineArn":"`+failing+`","Input":{},"Name":"failing-child-`+run+`"}`)
	if d.Status != types.ExecutionStatusFailed || aws.ToString(d.Error) != "States.TaskFailed" {
		t.Fatalf("failing child: %s %s", d.Status, aws.ToString(d.Error))
	}
	cause := decodeJSON(t, d.Cause)
	if cause["Error"] != "SomeFailure" || cause["Cause"] != "child failed" || cause["Status"] != "FAILED" {
		t.Errorf("failing child cause: %s", aws.ToString(d.Cause))
	}

	// A child state machine that does not exist.
	d = startAndWait(t, c, rrParent, `{"StateMachineArn":"`+machineArn+`no-such-machine","Input":null,"Name":"x"}`)
	if aws.ToString(d.Error) != "StepFunctions.StateMachineDoesNotExistException" ||
		!strings.Contains(aws.ToString(d.Cause), "State Machine Does Not Exist: '"+machineArn+"no-such-machine'") {
		t.Errorf("missing child: %s %s", aws.ToString(d.Error), aws.ToString(d.Cause))
	}
}

func TestHTTPTask(t *testing.T) {
	started(t)
	c := client(t)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("x-api-key") != "local-secret" || r.URL.Query().Get("tenant") != "t1" {
			http.Error(w, `{"message":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		if r.URL.Path == "/missing" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"message":"no such order"}`)
			return
		}
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"method":%q,"id":%q,"body":%s}`, r.Method, r.URL.Query().Get("id"), body)
	}))
	defer api.Close()

	sm := createMachine(t, c, "http-task", `{"StartAt":"Call","States":{"Call":{"Type":"Task",
		"Resource":"arn:aws:states:::http:invoke",
		"Parameters":{"ApiEndpoint.$":"$.url","Method":"POST",
			"Authentication":{"ConnectionArn":"`+connectionARN+`"},
			"QueryParameters":{"id.$":"$.id"},
			"RequestBody":{"qty.$":"$.qty"}},
		"Catch":[{"ErrorEquals":["States.Http.StatusCode.404"],"ResultPath":"$.error","Next":"NotFound"}],
		"End":true},
		"NotFound":{"Type":"Pass","End":true}}}`, "")

	d := startAndWait(t, c, sm, `{"url":"`+api.URL+`/orders","id":"o-1","qty":3}`)
	if d.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("http task: %s %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
	out := decodeJSON(t, d.Output)
	rb, _ := out["ResponseBody"].(map[string]any)
	if out["StatusCode"] != 200.0 || out["StatusText"] != "OK" || rb["method"] != "POST" || rb["id"] != "o-1" ||
		fmt.Sprint(rb["body"]) != "map[qty:3]" {
		t.Errorf("http task output: %s", *d.Output)
	}

	d = startAndWait(t, c, sm, `{"url":"`+api.URL+`/missing","id":"o-2","qty":1}`)
	out = decodeJSON(t, d.Output)
	e, _ := out["error"].(map[string]any)
	if d.Status != types.ExecutionStatusSucceeded || e["Error"] != "States.Http.StatusCode.404" ||
		!strings.Contains(fmt.Sprint(e["Cause"]), "no such order") {
		t.Errorf("404: %s", aws.ToString(d.Output))
	}
}

func TestMockConfig(t *testing.T) {
	started(t)
	c := client(t)
	// Without a Lambda endpoint a real call fails: only mocks can answer.
	// The name is the mock configuration's key, so it is the same on every
	// run (-count=N): creating it again is idempotent, and its executions
	// have names of their own.
	sm := createMachine(t, c, "mocked-orders", `{"StartAt":"Charge","States":{
		"Charge":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"charge","Payload.$":"$"},
			"Retry":[{"ErrorEquals":["Lambda.ServiceException"],"IntervalSeconds":1,"MaxAttempts":3}],
			"Catch":[{"ErrorEquals":["States.ALL"],"Next":"Declined"}],
			"ResultSelector":{"charged.$":"$.Payload.charged"},"ResultPath":"$.charge","Next":"Notify"},
		"Notify":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
			"Parameters":{"QueueUrl":"q","MessageBody":{"token.$":"$$.Task.Token"}},"ResultPath":"$.notify","End":true},
		"Declined":{"Type":"Fail","Error":"Declined"}}}`, "")

	d := startAndWait(t, c, sm+"#HappyPath", `{"order":1}`)
	if d.Status != types.ExecutionStatusSucceeded || aws.ToString(d.Output) != `{"order":1,"charge":{"charged":42},"notify":{"MessageId":"m-1"}}` {
		t.Errorf("HappyPath: %s %s %s", d.Status, aws.ToString(d.Output), aws.ToString(d.Cause))
	}
	if aws.ToString(d.StateMachineArn) != sm {
		t.Errorf("StateMachineArn %s", aws.ToString(d.StateMachineArn))
	}

	d = startAndWait(t, c, sm+"#RetryPath", `{"order":2}`)
	if d.Status != types.ExecutionStatusSucceeded || !strings.Contains(aws.ToString(d.Output), `"charged":7`) {
		t.Errorf("RetryPath: %s %s", d.Status, aws.ToString(d.Output))
	}
	got := strings.Join(historyTypes(t, c, *d.ExecutionArn), " ")
	if strings.Count(got, "TaskFailed") != 2 || strings.Count(got, "TaskSucceeded") != 2 {
		t.Errorf("RetryPath history: %s", got)
	}

	d = startAndWait(t, c, sm+"#FailPath", `{}`)
	if d.Status != types.ExecutionStatusFailed || aws.ToString(d.Error) != "Declined" {
		t.Errorf("FailPath: %s %s", d.Status, aws.ToString(d.Error))
	}

	_, err := c.StartExecution(context.Background(), &sfn.StartExecutionInput{StateMachineArn: aws.String(sm + "#NoSuchCase")})
	wantAPIError[*types.ValidationException](t, err)
}

func TestNestedSyncCompletedByToken(t *testing.T) {
	started(t)
	c := client(t)
	ctx := context.Background()
	createMachine(t, c, "nested-child-waits", waitDef, "")
	parent := createMachine(t, c, "nested-sync-token", `{"StartAt":"Start","States":{"Start":{"Type":"Task",
		"Resource":"arn:aws:states:::states:startExecution.sync:2",
		"Parameters":{"StateMachineArn":"`+machineArn+`nested-child-waits","Name.$":"$.name","Input":{"token.$":"$$.Task.Token"}},"End":true}}}`, "")
	name := "token-child-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	out, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(parent), Input: aws.String(`{"name":"` + name + `"}`)})
	if err != nil {
		t.Fatal(err)
	}
	childARN := "arn:aws:states:us-east-1:111111111111:execution:nested-child-waits:" + name
	// The parent starts the child asynchronously: nothing in the API
	// tells when the child exists but describing it.
	var token string
	eventually(t, 30*time.Second, "the child "+childARN+" to start with a token", func() bool {
		d, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(childARN)})
		if err != nil {
			wantAPIError[*types.ExecutionDoesNotExist](t, err)
			return false
		}
		var in struct{ Token string }
		if err := json.Unmarshal([]byte(aws.ToString(d.Input)), &in); err != nil {
			t.Fatal(err)
		}
		token = in.Token
		if token == "" {
			t.Fatalf("the child started without a token: %s", aws.ToString(d.Input))
		}
		return true
	})
	if _, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{"early":true}`)}); err != nil {
		t.Fatal(err)
	}
	d := waitDone(t, c, *out.ExecutionArn)
	if d.Status != types.ExecutionStatusSucceeded || aws.ToString(d.Output) != `{"early":true}` {
		t.Errorf("parent: %s %s %s", d.Status, aws.ToString(d.Output), aws.ToString(d.Cause))
	}
	// The child runs on, as on AWS.
	cd, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(childARN)})
	if err != nil || cd.Status != types.ExecutionStatusRunning {
		t.Errorf("child: %v %v", cd, err)
	}
	_, _ = c.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(childARN)})
}
