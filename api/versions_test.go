package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stepwell/stepwell/api"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/executions"
	"github.com/stepwell/stepwell/store/memory"
)

func newVersionsServer(t testing.TB) *api.Server {
	t.Helper()
	s := newAPI(t, executions.Config{Store: memory.New(memory.Options{}), Engine: engine.New(engine.Config{TimeScale: 1e-9}),
		Versions: memory.NewVersions()}, api.Config{})
	return s
}

func wantError(t *testing.T, s http.Handler, action, body, typ, msg string) {
	t.Helper()
	r := call(t, s, action, body)
	if r.status != 400 || !strings.HasSuffix(r.body["__type"].(string), "#"+typ) || !strings.Contains(r.body["message"].(string), msg) {
		t.Fatalf("%s %s: %d %s, want %s %q", action, body, r.status, r.raw, typ, msg)
	}
}

// TestVersionErrors checks AWS's messages for version and alias requests.
func TestVersionErrors(t *testing.T) {
	s := newVersionsServer(t)
	sm := create(t, s, "v", `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`, "")
	v1 := ok(t, s, "PublishStateMachineVersion", `{"stateMachineArn":"`+sm+`"}`)["stateMachineVersionArn"].(string)
	tests := []struct {
		name, action, body, typ, msg string
	}{
		{"revision mismatch", "PublishStateMachineVersion", `{"stateMachineArn":"` + sm + `","revisionId":"r9"}`,
			"ConflictException", "Failed to publish the State Machine version for revision r9. The current State Machine revision is INITIAL."},
		{"labelled arn", "ListStateMachineVersions", `{"stateMachineArn":"` + sm + `/label"}`, "ValidationException", "labeled"},
		{"weights", "CreateStateMachineAlias", `{"name":"a","routingConfiguration":[{"stateMachineVersionArn":"` + v1 + `","weight":99}]}`,
			"ValidationException", "Sum of routing configuration weights must equal 100. Received: [99]"},
		{"not versions", "CreateStateMachineAlias", `{"name":"a","routingConfiguration":[{"stateMachineVersionArn":"` + sm + `","weight":100}]}`,
			"ValidationException", "Routing configuration must contain state machine version ARNs. Received: [" + sm + "]"},
		{"same version twice", "CreateStateMachineAlias", `{"name":"a","routingConfiguration":[{"stateMachineVersionArn":"` + v1 + `","weight":50},{"stateMachineVersionArn":"` + v1 + `","weight":50}]}`,
			"ValidationException", "distinct"},
		{"numeric name", "CreateStateMachineAlias", `{"name":"12","routingConfiguration":[{"stateMachineVersionArn":"` + v1 + `","weight":100}]}`,
			"ValidationException", "Member must satisfy regular expression pattern"},
		{"three routes", "CreateStateMachineAlias", `{"name":"a","routingConfiguration":[{"stateMachineVersionArn":"` + v1 + `","weight":50},{"stateMachineVersionArn":"` + v1 + `","weight":50},{"stateMachineVersionArn":"` + v1 + `","weight":0}]}`,
			"ValidationException", "Member must have length less than or equal to 2"},
		{"missing routing", "CreateStateMachineAlias", `{"name":"a"}`, "ValidationException", "routingConfiguration"},
		{"alias not found", "DescribeStateMachineAlias", `{"stateMachineAliasArn":"` + sm + `:nope"}`, "ResourceNotFound", "Resource not found"},
		{"version arn as alias", "DescribeStateMachineAlias", `{"stateMachineAliasArn":"` + v1 + `"}`, "InvalidArn", "Invalid Arn"},
		{"update nothing", "UpdateStateMachineAlias", `{"stateMachineAliasArn":"` + sm + `:a"}`, "ValidationException", "description or the routingConfiguration"},
		{"description without publish", "UpdateStateMachine", `{"stateMachineArn":"` + sm + `","definition":"{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"End\":true}}}","versionDescription":"d"}`,
			"ValidationException", "Version description can only be set when publish is true"},
		{"map run update finished", "UpdateMapRun", `{"mapRunArn":"arn:aws:states:us-east-1:111111111111:mapRun:v/l:1"}`,
			"ValidationException", "At least one of"},
		{"map run percentage", "UpdateMapRun", `{"mapRunArn":"arn:aws:states:us-east-1:111111111111:mapRun:v/l:1","toleratedFailurePercentage":101}`,
			"ValidationException", "less than or equal to 100"},
		{"tag a version", "TagResource", `{"resourceArn":"` + v1 + `","tags":[]}`, "ResourceNotFound", v1},
		{"redrive token pattern", "RedriveExecution", `{"executionArn":"arn:aws:states:us-east-1:111111111111:execution:v:x","clientToken":"a b"}`,
			"ValidationException", "[!-~]+"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantError(t, s, tt.action, tt.body, tt.typ, tt.msg) })
	}
}

// FuzzVersionsAPI sends arbitrary bodies to the operations of versions,
// aliases, tags, Map Runs, TestState and RedriveExecution: every answer is
// 200 or 400, in time.
func FuzzVersionsAPI(f *testing.F) {
	actions := []string{"PublishStateMachineVersion", "ListStateMachineVersions", "DeleteStateMachineVersion",
		"CreateStateMachineAlias", "DescribeStateMachineAlias", "UpdateStateMachineAlias", "DeleteStateMachineAlias",
		"ListStateMachineAliases", "TagResource", "UntagResource", "ListTagsForResource", "DescribeMapRun", "ListMapRuns",
		"UpdateMapRun", "TestState", "RedriveExecution", "StartExecution"}
	sm := "arn:aws:states:us-east-1:111111111111:stateMachine:f"
	for i := range actions {
		f.Add(uint8(i), `{}`)
	}
	f.Add(uint8(0), `{"stateMachineArn":"`+sm+`"}`)
	f.Add(uint8(3), `{"name":"a","routingConfiguration":[{"stateMachineVersionArn":"`+sm+`:1","weight":100}]}`)
	f.Add(uint8(8), `{"resourceArn":"`+sm+`","tags":[{"key":"k","value":"v"}]}`)
	f.Add(uint8(14), `{"definition":"{\"Type\":\"Pass\",\"End\":true}","inspectionLevel":"DEBUG","variables":"{\"a\":1}"}`)
	f.Add(uint8(14), `{"definition":"{\"Type\":\"Task\",\"Resource\":\"arn:aws:states:::lambda:invoke\",\"End\":true}","mock":{"result":"1"}}`)
	f.Add(uint8(14), `{"definition":"{\"Type\":\"Map\",\"ItemProcessor\":{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"End\":true}}},\"End\":true}","mock":{"result":"[1]"},"stateConfiguration":{"mapIterationFailureCount":1},"input":"[1]"}`)
	f.Add(uint8(16), `{"stateMachineArn":"`+sm+`:a"}`)
	s := newVersionsServer(f)
	call(f, s, "CreateStateMachine", `{"name":"f","definition":"{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"End\":true}}}","roleArn":"arn:aws:iam::1:role/r"}`)
	call(f, s, "PublishStateMachineVersion", `{"stateMachineArn":"`+sm+`"}`)
	f.Fuzz(func(t *testing.T, a uint8, body string) {
		action := actions[int(a)%len(actions)]
		done := make(chan reply, 1)
		go func() { done <- call(t, s, action, body) }()
		var r reply
		select {
		case r = <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s %q: no answer within 5s", action, body)
		}
		if r.status != 200 && r.status != 400 {
			t.Fatalf("%s %q: status %d %s", action, body, r.status, r.raw)
		}
	})
}

// TestTestState_JSONata runs a JSONata Task in TestState with the
// request's variables and Context object: Arguments, Output and Assign see
// them, afterArguments shows the task's input, and a failing expression
// is a States.QueryEvaluationError its catcher catches.
func TestTestState_JSONata(t *testing.T) {
	s := newVersionsServer(t)
	def := `"{\"Type\":\"Task\",\"QueryLanguage\":\"JSONata\",\"Resource\":\"arn:aws:states:::lambda:invoke\",` +
		`\"Arguments\":{\"FunctionName\":\"f\",\"Payload\":{\"id\":\"{% $states.context.Execution.Id %}\",\"n\":\"{% $states.input.n + $base %}\"}},` +
		`\"Output\":{\"got\":\"{% $states.result.Payload %}\",\"base\":\"{% $base %}\"},\"Assign\":{\"base\":\"{% $base + 1 %}\"},` +
		`\"Catch\":[{\"ErrorEquals\":[\"States.QueryEvaluationError\"],\"Output\":\"{% $states.errorOutput.Error %}\",\"Next\":\"C\"}],\"End\":true}"`
	out := ok(t, s, "TestState", `{"definition":`+def+`,"input":"{\"n\":2}","variables":"{\"base\":40}",
"context":"{\"Execution\":{\"Id\":\"x-1\"}}","mock":{"result":"{\"Payload\":7}"},"inspectionLevel":"DEBUG"}`)
	data := out["inspectionData"].(map[string]any)
	if out["status"] != "SUCCEEDED" || out["output"] != `{"got":7,"base":40}` ||
		data["afterArguments"] != `{"FunctionName":"f","Payload":{"id":"x-1","n":42}}` || data["variables"] != `{"base":41}` {
		t.Fatalf("TestState: %v", out)
	}
	// Without the variable the Arguments fail, and the catcher catches it.
	out = ok(t, s, "TestState", `{"definition":`+def+`,"input":"{\"n\":2}","mock":{"result":"{}"}}`)
	if out["status"] != "CAUGHT_ERROR" || out["error"] != "States.QueryEvaluationError" || out["output"] != `"States.QueryEvaluationError"` || out["nextState"] != "C" {
		t.Fatalf("caught: %v", out)
	}
}

func TestTestState_MapConfiguration(t *testing.T) {
	s := newVersionsServer(t)
	mapDef := `"{\"Type\":\"Map\",\"ToleratedFailureCount\":1,\"ItemReader\":{\"Resource\":\"arn:aws:states:::s3:getObject\",\"Parameters\":{\"Bucket\":\"b\",\"Key\":\"k\"}},` +
		`\"ItemProcessor\":{\"ProcessorConfig\":{\"Mode\":\"DISTRIBUTED\",\"ExecutionType\":\"STANDARD\"},\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"End\":true}}},\"End\":true}"`
	// Items from mapItemReaderData; one failed iteration is tolerated, two are not.
	out := ok(t, s, "TestState", `{"definition":`+mapDef+`,"inspectionLevel":"DEBUG","mock":{"result":"[1,2,3]"},
"stateConfiguration":{"mapItemReaderData":"[\"a\",\"b\",\"c\"]","mapIterationFailureCount":1}}`)
	if out["status"] != "SUCCEEDED" || out["inspectionData"].(map[string]any)["afterItemsPath"] != `["a","b","c"]` {
		t.Fatalf("tolerated: %v", out)
	}
	out = ok(t, s, "TestState", `{"definition":`+mapDef+`,"mock":{"result":"[1,2,3]"},
"stateConfiguration":{"mapItemReaderData":"[\"a\",\"b\",\"c\"]","mapIterationFailureCount":2}}`)
	if out["status"] != "FAILED" || out["error"] != "States.ExceedToleratedFailureThreshold" {
		t.Fatalf("not tolerated: %v", out)
	}
	wantError(t, s, "TestState", `{"definition":`+mapDef+`,"mock":{"result":"[1]"},
"stateConfiguration":{"mapItemReaderData":"[\"a\"]","mapIterationFailureCount":2}}`, "ValidationException",
		"Map iteration failure count must be less than or equal to the number of Map iterations")
	wantError(t, s, "TestState", `{"definition":`+mapDef+`,"stateConfiguration":{"mapIterationFailureCount":1}}`, "ValidationException",
		"TestState does not support MapIterationFailureCount when a mock is not specified.")
	wantError(t, s, "TestState", `{"definition":"{\"Type\":\"Pass\",\"End\":true}","stateConfiguration":{"mapItemReaderData":"[]"}}`,
		"ValidationException", "mapItemReaderData")
	wantError(t, s, "TestState", `{"definition":`+mapDef+`,"mock":{"result":"{}"}}`, "ValidationException", "Mocked result must be an array.")
	wantError(t, s, "TestState", `{"definition":`+mapDef+`,"mock":{"result":"[]","errorOutput":{"error":"E"}}}`, "ValidationException",
		"A test mock should have only one of the following fields: [result, errorOutput].")
	wantError(t, s, "TestState", `{"definition":"{\"Type\":\"Task\",\"Resource\":\"arn:aws:states:::lambda:invoke\",\"End\":true}","mock":{"result":"1"},"revealSecrets":true}`,
		"ValidationException", "TestState does not support RevealSecrets when a mock is specified.")
	wantError(t, s, "TestState", `{"definition":"{\"Type\":\"Task\",\"Resource\":\"arn:aws:states:::lambda:invoke\",\"End\":true}","mock":{"result":"1"},"context":"{\"Map\":{}}"}`,
		"ValidationException", "'Map' field is not supported when mocking a Context object")
	wantError(t, s, "TestState", `{"definition":"{\"Type\":\"Task\",\"Resource\":\"arn:aws:states:::lambda:invoke\",\"End\":true}","mock":{"result":"1"},"context":"{\"Bad\":1}"}`,
		"ValidationException", "Invalid Context object provided: Field 'Bad' is not allowed")
	// A context object given with the mock is what $$ reads.
	out = ok(t, s, "TestState", `{"definition":"{\"Type\":\"Task\",\"Resource\":\"arn:aws:states:::lambda:invoke\",\"Parameters\":{\"id.$\":\"$$.Execution.Id\"},\"End\":true}",
"mock":{"result":"1"},"context":"{\"Execution\":{\"Id\":\"x-1\"}}","inspectionLevel":"DEBUG"}`)
	if out["inspectionData"].(map[string]any)["afterParameters"] != `{"id":"x-1"}` {
		t.Fatalf("context: %v", out)
	}
}
