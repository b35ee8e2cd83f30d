package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stepwell/stepwell/api"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/executions"
	"github.com/stepwell/stepwell/store/memory"
)

const (
	smPrefix = "arn:aws:states:us-east-1:111111111111:stateMachine:"
	xPrefix  = "arn:aws:states:us-east-1:111111111111:execution:"
	role     = "arn:aws:iam::111111111111:role/r"
	passDef  = `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`
	waitDef  = `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":100000,"End":true}}}`
)

func newServer(t testing.TB) *api.Server {
	t.Helper()
	return newScaledServer(t, 1)
}

func newScaledServer(t testing.TB, scale float64) *api.Server {
	t.Helper()
	eng := engine.New(engine.Config{Region: "us-east-1", AccountID: "111111111111", TimeScale: scale})
	s := newAPI(t, executions.Config{Store: memory.New(memory.Options{}), Engine: eng,
		Express: memory.New(memory.Options{MaxClosedExecutions: 100}), MaxExpressDuration: 2 * time.Second}, api.Config{})
	return s
}

type reply struct {
	status int
	body   map[string]any
	raw    string
}

func call(t testing.TB, s http.Handler, action, body string) reply {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	if action != "" {
		req.Header.Set("X-Amz-Target", "AWSStepFunctions."+action)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	r := reply{status: w.Code, raw: w.Body.String()}
	if ct := w.Header().Get("Content-Type"); ct != "application/x-amz-json-1.0" {
		t.Fatalf("%s: content type %q", action, ct)
	}
	if err := json.Unmarshal(w.Body.Bytes(), &r.body); err != nil {
		t.Fatalf("%s: response is not a JSON object: %s", action, w.Body)
	}
	return r
}

func ok(t testing.TB, s http.Handler, action, body string) map[string]any {
	t.Helper()
	r := call(t, s, action, body)
	if r.status != 200 {
		t.Fatalf("%s %s: %d %s", action, body, r.status, r.raw)
	}
	return r.body
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func create(t testing.TB, s http.Handler, name, def, typ string) string {
	t.Helper()
	in := map[string]any{"name": name, "definition": def, "roleArn": role}
	if typ != "" {
		in["type"] = typ
	}
	return ok(t, s, "CreateStateMachine", mustJSON(in))["stateMachineArn"].(string)
}

// waitDone waits until the execution's end is recorded (its executions
// service says so) and returns DescribeExecution's answer.
func waitDone(t testing.TB, s *api.Server, arn string) map[string]any {
	t.Helper()
	ended := serviceOf(t, s).Ended(arn) // before describing: it cannot end unseen
	d := ok(t, s, "DescribeExecution", mustJSON(map[string]any{"executionArn": arn}))
	if d["status"] != "RUNNING" {
		return d
	}
	if ended == nil {
		t.Fatalf("%s is running but not driven by the executions service", arn)
	}
	select {
	case <-ended:
	case <-time.After(time.Minute):
		t.Fatalf("%s still running", arn)
	}
	return ok(t, s, "DescribeExecution", mustJSON(map[string]any{"executionArn": arn}))
}

func TestErrors_AWSMessages(t *testing.T) {
	s := newServer(t)
	sm := create(t, s, "m", passDef, "")
	create(t, s, "x", passDef, "EXPRESS")
	tests := []struct {
		name, action, body string
		wantType, wantMsg  string
	}{
		{"invalid arn", "DescribeStateMachine", `{"stateMachineArn":"foo"}`,
			"InvalidArn", "Invalid Arn: 'Invalid ARN prefix: foo'"},
		{"wrong resource type", "DescribeExecution", `{"executionArn":"` + sm + `"}`,
			"InvalidArn", "Invalid Arn: 'Resource type not valid in this context: stateMachine'"},
		{"missing machine", "DescribeStateMachine", `{"stateMachineArn":"` + smPrefix + `nope"}`,
			"StateMachineDoesNotExist", "State Machine Does Not Exist: '" + smPrefix + "nope'"},
		{"missing execution", "DescribeExecution", `{"executionArn":"` + xPrefix + `m:nope"}`,
			"ExecutionDoesNotExist", "Execution Does Not Exist: '" + xPrefix + "m:nope'"},
		{"invalid name", "CreateStateMachine", `{"name":"a?b","definition":` + mustJSON(passDef) + `,"roleArn":"` + role + `"}`,
			"InvalidName", "Invalid Name: 'a?b'"},
		{"already exists", "CreateStateMachine", `{"name":"m","definition":` + mustJSON(waitDef) + `,"roleArn":"` + role + `"}`,
			"StateMachineAlreadyExists", "State Machine Already Exists: '" + smPrefix + "m'"},
		{"type change is a conflict", "CreateStateMachine", `{"name":"m","definition":` + mustJSON(passDef) + `,"roleArn":"` + role + `","type":"EXPRESS"}`,
			"StateMachineAlreadyExists", "State Machine Already Exists: '" + smPrefix + "m'"},
		{"max results", "ListStateMachines", `{"maxResults":1001}`,
			"ValidationException", "1 validation error detected: Value '1001' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000"},
		{"two violations", "ListExecutions", `{"stateMachineArn":"` + sm + `","maxResults":-1,"statusFilter":"DONE"}`,
			"ValidationException", "2 validation errors detected: Value 'DONE' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE]; Value '-1' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 0"},
		{"required member", "StartExecution", `{}`,
			"ValidationException", "1 validation error detected: Value null at 'stateMachineArn' failed to satisfy constraint: Member must not be null"},
		{"name length", "StartExecution", `{"stateMachineArn":"` + sm + `","name":"` + strings.Repeat("n", 81) + `"}`,
			"ValidationException", "1 validation error detected: Value '" + strings.Repeat("n", 81) + "' at 'name' failed to satisfy constraint: Member must have length less than or equal to 80"},
		{"invalid input", "StartExecution", `{"stateMachineArn":"` + sm + `","input":"{"}`,
			"InvalidExecutionInput", "Invalid State Machine Execution Input: 'Invalid execution input.'"},
		{"sync on standard", "StartSyncExecution", `{"stateMachineArn":"` + sm + `"}`,
			"StateMachineTypeNotSupported", "This operation is not supported by this type of state machine"},
		{"list express executions", "ListExecutions", `{"stateMachineArn":"` + smPrefix + `x"}`,
			"StateMachineTypeNotSupported", "This operation is not supported by this type of state machine"},
		{"update nothing", "UpdateStateMachine", `{"stateMachineArn":"` + sm + `"}`,
			"MissingRequiredParameter", "Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be specified"},
		{"description without publish", "CreateStateMachine", `{"name":"d","definition":` + mustJSON(passDef) + `,"roleArn":"` + role + `","versionDescription":"v"}`,
			"ValidationException", "Version description can only be set when publish is true"},
		{"bad token", "ListStateMachines", `{"nextToken":"zzz"}`,
			"InvalidToken", "Invalid Token: 'Invalid token'"},
		{"logging without destination", "CreateStateMachine", `{"name":"l","definition":` + mustJSON(passDef) + `,"roleArn":"` + role + `","loggingConfiguration":{"level":"ALL"}}`,
			"InvalidLoggingConfiguration", "Invalid Logging Configuration: Must specify exactly one Log Destination."},
		{"malformed JSON", "ListStateMachines", `{"maxResults":`, "SerializationException", ""},
		{"mistyped member", "StartExecution", `{"stateMachineArn":5}`, "SerializationException", ""},
		{"unknown operation", "Frobnicate", `{}`, "UnknownOperationException", ""},
		{"no target", "", `{}`, "UnknownOperationException", ""},
		{"no activity store", "SendTaskSuccess", `{}`, "UnsupportedOperation", "Activities and task tokens are not supported by this server's configuration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, s, tt.action, tt.body)
			if r.status != 400 {
				t.Fatalf("status %d: %s", r.status, r.raw)
			}
			typ, _ := r.body["__type"].(string)
			if i := strings.LastIndexByte(typ, '#'); i < 0 || typ[i+1:] != tt.wantType {
				t.Fatalf("__type %q, want ...#%s (%s)", typ, tt.wantType, r.raw)
			}
			if tt.wantMsg != "" && r.body["message"] != tt.wantMsg {
				t.Fatalf("message %q\nwant    %q", r.body["message"], tt.wantMsg)
			}
		})
	}
}

func TestInvalidDefinition(t *testing.T) {
	s := newServer(t)
	r := call(t, s, "CreateStateMachine", `{"name":"bad","definition":"{\"StartAt\":\"A\"}","roleArn":"`+role+`"}`)
	if r.status != 400 || !strings.HasSuffix(r.body["__type"].(string), "#InvalidDefinition") {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	if msg, _ := r.body["message"].(string); !strings.HasPrefix(msg, "Invalid State Machine Definition: ") {
		t.Fatalf("message %q", msg)
	}
}

func TestExecutionLifecycle(t *testing.T) {
	s := newServer(t)
	sm := create(t, s, "life", passDef, "")
	start := ok(t, s, "StartExecution", mustJSON(map[string]any{"stateMachineArn": sm, "name": "e1", "input": `{"k": [1, 2]}`}))
	arn := start["executionArn"].(string)
	if arn != xPrefix+"life:e1" {
		t.Fatalf("arn %s", arn)
	}
	if _, isNum := start["startDate"].(float64); !isNum {
		t.Fatalf("startDate %v is not epoch seconds", start["startDate"])
	}
	d := waitDone(t, s, arn)
	if d["status"] != "SUCCEEDED" || d["input"] != `{"k": [1, 2]}` || d["output"] != `{"k":[1,2]}` ||
		d["redriveStatus"] != "NOT_REDRIVABLE" || d["redriveCount"] != 0.0 || d["stopDate"] == nil {
		t.Fatalf("describe %v", d)
	}
	meta := ok(t, s, "DescribeExecution", mustJSON(map[string]any{"executionArn": arn, "includedData": "METADATA_ONLY"}))
	if _, has := meta["input"]; has {
		t.Fatalf("METADATA_ONLY has input: %v", meta)
	}
	h := ok(t, s, "GetExecutionHistory", mustJSON(map[string]any{"executionArn": arn, "includeExecutionData": true}))
	evs := h["events"].([]any)
	if len(evs) != 4 {
		t.Fatalf("history %v", evs)
	}
	first := evs[0].(map[string]any)
	if first["type"] != "ExecutionStarted" || first["id"] != 1.0 || first["previousEventId"] != 0.0 {
		t.Fatalf("first event %v", first)
	}
	if _, isNum := first["timestamp"].(float64); !isNum {
		t.Fatalf("timestamp %v", first["timestamp"])
	}
	stripped := ok(t, s, "GetExecutionHistory", mustJSON(map[string]any{"executionArn": arn, "includeExecutionData": false}))
	if strings.Contains(mustJSON(stripped), `"input"`) || strings.Contains(mustJSON(stripped), `"output"`) {
		t.Fatalf("data not stripped: %v", stripped)
	}
	// The stored history is intact afterwards.
	again := ok(t, s, "GetExecutionHistory", mustJSON(map[string]any{"executionArn": arn}))
	if !strings.Contains(mustJSON(again), `"input"`) {
		t.Fatalf("stripping changed the stored history: %v", again)
	}
	for _, e := range []string{"ExecutionAlreadyExists"} {
		r := call(t, s, "StartExecution", mustJSON(map[string]any{"stateMachineArn": sm, "name": "e1", "input": `{"k": [1, 2]}`}))
		if !strings.HasSuffix(r.body["__type"].(string), "#"+e) || r.body["message"] != "Execution Already Exists: '"+arn+"'" {
			t.Fatalf("restart closed execution: %s", r.raw)
		}
	}
	f := ok(t, s, "DescribeStateMachineForExecution", mustJSON(map[string]any{"executionArn": arn}))
	if f["definition"] != passDef || f["name"] != "life" || f["roleArn"] != role {
		t.Fatalf("for execution %v", f)
	}
	// Updating the machine does not change what the execution ran.
	ok(t, s, "UpdateStateMachine", mustJSON(map[string]any{"stateMachineArn": sm, "definition": waitDef}))
	f = ok(t, s, "DescribeStateMachineForExecution", mustJSON(map[string]any{"executionArn": arn}))
	if f["definition"] != passDef {
		t.Fatalf("for execution after update %v", f)
	}
}

func TestStopExecution(t *testing.T) {
	s := newServer(t)
	sm := create(t, s, "wait", waitDef, "")
	arn := ok(t, s, "StartExecution", mustJSON(map[string]any{"stateMachineArn": sm}))["executionArn"].(string)
	stop := ok(t, s, "StopExecution", mustJSON(map[string]any{"executionArn": arn, "error": "E", "cause": "C"}))
	if _, isNum := stop["stopDate"].(float64); !isNum {
		t.Fatalf("stop %v", stop)
	}
	d := waitDone(t, s, arn)
	if d["status"] != "ABORTED" || d["error"] != "E" || d["cause"] != "C" || d["redriveStatus"] != "REDRIVABLE" {
		t.Fatalf("describe %v", d)
	}
	// Stopping again answers the same stop date.
	again := ok(t, s, "StopExecution", mustJSON(map[string]any{"executionArn": arn}))
	if again["stopDate"] != d["stopDate"] {
		t.Fatalf("second stop %v, describe %v", again["stopDate"], d["stopDate"])
	}
}

func TestExpressAsync(t *testing.T) {
	s := newServer(t)
	sm := create(t, s, "fast", passDef, "EXPRESS")
	arn := ok(t, s, "StartExecution", mustJSON(map[string]any{"stateMachineArn": sm, "name": "a", "input": `{"x":1}`}))["executionArn"].(string)
	if !strings.HasPrefix(arn, "arn:aws:states:us-east-1:111111111111:express:fast:a:") {
		t.Fatalf("arn %s", arn)
	}
	d := waitDone(t, s, arn)
	if d["status"] != "SUCCEEDED" || d["output"] != `{"x":1}` {
		t.Fatalf("describe %v", d)
	}
	if _, has := d["redriveStatus"]; has {
		t.Fatalf("express execution with redrive status: %v", d)
	}
	h := ok(t, s, "GetExecutionHistory", mustJSON(map[string]any{"executionArn": arn}))
	if n := len(h["events"].([]any)); n != 4 {
		t.Fatalf("%d events", n)
	}
	// Express starts are not idempotent: the same name starts another.
	arn2 := ok(t, s, "StartExecution", mustJSON(map[string]any{"stateMachineArn": sm, "name": "a", "input": `{"x":1}`}))["executionArn"].(string)
	if arn2 == arn {
		t.Fatal("express start reused an ARN")
	}
}

func TestStartSyncExecution(t *testing.T) {
	s := newServer(t)
	sm := create(t, s, "sync", passDef, "EXPRESS")
	out := ok(t, s, "StartSyncExecution", mustJSON(map[string]any{"stateMachineArn": sm, "input": `{"y":2}`}))
	if out["status"] != "SUCCEEDED" || out["output"] != `{"y":2}` || out["input"] != `{"y":2}` || out["stateMachineArn"] != sm {
		t.Fatalf("sync %v", out)
	}
	bd, _ := out["billingDetails"].(map[string]any)
	if bd["billedMemoryUsedInMB"] != 64.0 || bd["billedDurationInMilliseconds"].(float64) < 100 {
		t.Fatalf("billing %v", bd)
	}
	meta := ok(t, s, "StartSyncExecution", mustJSON(map[string]any{"stateMachineArn": sm, "includedData": "METADATA_ONLY"}))
	if _, has := meta["output"]; has {
		t.Fatalf("METADATA_ONLY has output: %v", meta)
	}
}

func TestListExecutions_PagesAndFilter(t *testing.T) {
	s := newServer(t)
	sm := create(t, s, "list", passDef, "")
	w := create(t, s, "listw", waitDef, "")
	var want []string
	for i := range 5 {
		arn := ok(t, s, "StartExecution", mustJSON(map[string]any{"stateMachineArn": sm, "name": "e" + string(rune('0'+i))}))["executionArn"].(string)
		waitDone(t, s, arn)
		want = append([]string{arn}, want...)
	}
	var got []string
	tok := ""
	for range 10 {
		in := map[string]any{"stateMachineArn": sm, "maxResults": 2}
		if tok != "" {
			in["nextToken"] = tok
		}
		out := ok(t, s, "ListExecutions", mustJSON(in))
		for _, x := range out["executions"].([]any) {
			got = append(got, x.(map[string]any)["executionArn"].(string))
		}
		tok, _ = out["nextToken"].(string)
		if tok == "" {
			break
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("listed %v\nwant %v", got, want)
	}
	running := ok(t, s, "StartExecution", mustJSON(map[string]any{"stateMachineArn": w}))["executionArn"].(string)
	out := ok(t, s, "ListExecutions", mustJSON(map[string]any{"stateMachineArn": w, "statusFilter": "RUNNING"}))
	items := out["executions"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["executionArn"] != running {
		t.Fatalf("running %v", items)
	}
	out = ok(t, s, "ListExecutions", mustJSON(map[string]any{"stateMachineArn": w, "statusFilter": "SUCCEEDED"}))
	if len(out["executions"].([]any)) != 0 {
		t.Fatalf("succeeded %v", out)
	}
}

func TestValidateStateMachineDefinition(t *testing.T) {
	s := newServer(t)
	out := ok(t, s, "ValidateStateMachineDefinition", mustJSON(map[string]any{"definition": passDef}))
	if out["result"] != "OK" || len(out["diagnostics"].([]any)) != 0 {
		t.Fatalf("valid %v", out)
	}
	out = ok(t, s, "ValidateStateMachineDefinition", mustJSON(map[string]any{"definition": `{"StartAt":"Nope","States":{"A":{"Type":"Pass","End":true}}}`}))
	diags := out["diagnostics"].([]any)
	if out["result"] != "FAIL" || len(diags) == 0 {
		t.Fatalf("invalid %v", out)
	}
	d := diags[0].(map[string]any)
	if d["severity"] != "ERROR" || d["code"] == "" || d["message"] == "" {
		t.Fatalf("diagnostic %v", d)
	}
	one := ok(t, s, "ValidateStateMachineDefinition", mustJSON(map[string]any{"definition": `{"States":5}`, "maxResults": 1}))
	if n := len(one["diagnostics"].([]any)); n > 1 {
		t.Fatalf("%d diagnostics with maxResults 1", n)
	}
}

func TestDescribeAndUpdateStateMachine(t *testing.T) {
	s := newServer(t)
	sm := create(t, s, "desc", passDef, "")
	d := ok(t, s, "DescribeStateMachine", mustJSON(map[string]any{"stateMachineArn": sm}))
	if d["status"] != "ACTIVE" || d["type"] != "STANDARD" || d["definition"] != passDef || mustJSON(d["loggingConfiguration"]) != `{"includeExecutionData":false,"level":"OFF"}` ||
		mustJSON(d["tracingConfiguration"]) != `{"enabled":false}` {
		t.Fatalf("describe %v", d)
	}
	if _, has := d["revisionId"]; has {
		t.Fatalf("revisionId before any update: %v", d)
	}
	u := ok(t, s, "UpdateStateMachine", mustJSON(map[string]any{"stateMachineArn": sm, "roleArn": role + "2", "tracingConfiguration": map[string]any{"enabled": true}}))
	d = ok(t, s, "DescribeStateMachine", mustJSON(map[string]any{"stateMachineArn": sm}))
	if d["revisionId"] != u["revisionId"] || d["roleArn"] != role+"2" || d["definition"] != passDef || mustJSON(d["tracingConfiguration"]) != `{"enabled":true}` {
		t.Fatalf("after update %v (update %v)", d, u)
	}
	tags := ok(t, s, "ListTagsForResource", mustJSON(map[string]any{"resourceArn": sm}))
	if mustJSON(tags["tags"]) != `[]` {
		t.Fatalf("tags %v", tags)
	}
}

// FuzzServeHTTP checks that no request body gets a 500 or a non-JSON
// answer.
func FuzzServeHTTP(f *testing.F) {
	actions := []string{"CreateStateMachine", "DescribeStateMachine", "UpdateStateMachine", "DeleteStateMachine",
		"ListStateMachines", "ValidateStateMachineDefinition", "StartExecution", "StartSyncExecution", "StopExecution",
		"DescribeExecution", "ListExecutions", "GetExecutionHistory", "DescribeStateMachineForExecution", "ListTagsForResource", "Nope"}
	for i, a := range actions {
		f.Add(uint8(i), `{}`)
		_ = a
	}
	f.Add(uint8(0), `{"name":"f","definition":"{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"End\":true}}}","roleArn":"arn:aws:iam::1:role/r"}`)
	f.Add(uint8(6), `{"stateMachineArn":"arn:aws:states:us-east-1:111111111111:stateMachine:f","input":"[1]"}`)
	f.Add(uint8(11), `{"executionArn":"arn:aws:states:us-east-1:111111111111:express:f:a:b","nextToken":"h.1"}`)
	f.Add(uint8(10), `{"stateMachineArn":"arn:aws:states:us-east-1:111111111111:stateMachine:f","maxResults":1e3}`)
	s := newScaledServer(f, 1e-9)
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
