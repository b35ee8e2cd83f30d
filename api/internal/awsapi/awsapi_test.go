package awsapi_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stepwell/stepwell/api/internal/awsapi"
	"github.com/stepwell/stepwell/api/internal/awsapi/gen"
)

// modelPath is the API model, next to the repository (../shared).
const modelPath = "../../../../shared/spec/stepfunctions-api-model.json"

func TestGeneratedFilesAreCurrent(t *testing.T) {
	model, err := os.ReadFile(modelPath)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skip("../shared/spec/stepfunctions-api-model.json is absent: cannot compare the generated files with the model")
	}
	if err != nil {
		t.Fatal(err)
	}
	files, err := gen.Files(model)
	if err != nil {
		t.Fatal(err)
	}
	committed, _ := filepath.Glob("*_gen.go")
	if len(committed) != len(files) {
		t.Errorf("generated files %v on disk, the generator writes %d", committed, len(files))
	}
	for name, want := range files {
		got, err := os.ReadFile(name)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is stale (%v): run go generate ./api/internal/awsapi", name, err)
		}
	}
}

type validator interface{ Validate() error }

// inputs returns a new input of the operations the table tests use.
var inputs = map[string]func() validator{
	"CreateActivity":                 func() validator { return new(awsapi.CreateActivityInput) },
	"CreateStateMachine":             func() validator { return new(awsapi.CreateStateMachineInput) },
	"CreateStateMachineAlias":        func() validator { return new(awsapi.CreateStateMachineAliasInput) },
	"DescribeExecution":              func() validator { return new(awsapi.DescribeExecutionInput) },
	"GetActivityTask":                func() validator { return new(awsapi.GetActivityTaskInput) },
	"GetExecutionHistory":            func() validator { return new(awsapi.GetExecutionHistoryInput) },
	"ListExecutions":                 func() validator { return new(awsapi.ListExecutionsInput) },
	"ListStateMachines":              func() validator { return new(awsapi.ListStateMachinesInput) },
	"RedriveExecution":               func() validator { return new(awsapi.RedriveExecutionInput) },
	"SendTaskFailure":                func() validator { return new(awsapi.SendTaskFailureInput) },
	"SendTaskSuccess":                func() validator { return new(awsapi.SendTaskSuccessInput) },
	"StartExecution":                 func() validator { return new(awsapi.StartExecutionInput) },
	"StartSyncExecution":             func() validator { return new(awsapi.StartSyncExecutionInput) },
	"StopExecution":                  func() validator { return new(awsapi.StopExecutionInput) },
	"TagResource":                    func() validator { return new(awsapi.TagResourceInput) },
	"TestState":                      func() validator { return new(awsapi.TestStateInput) },
	"UntagResource":                  func() validator { return new(awsapi.UntagResourceInput) },
	"UpdateMapRun":                   func() validator { return new(awsapi.UpdateMapRunInput) },
	"UpdateStateMachine":             func() validator { return new(awsapi.UpdateStateMachineInput) },
	"UpdateStateMachineAlias":        func() validator { return new(awsapi.UpdateStateMachineAliasInput) },
	"ValidateStateMachineDefinition": func() validator { return new(awsapi.ValidateStateMachineDefinitionInput) },
}

const (
	sm      = "arn:aws:states:us-east-1:123456789012:stateMachine:m"
	one     = "1 validation error detected: "
	at      = "' failed to satisfy constraint: "
	null    = "' failed to satisfy constraint: Member must not be null"
	lenGE1  = "Member must have length greater than or equal to 1"
	secret  = "Value '*** Sensitive Data Redacted ***' at '"
	pattern = "Member must satisfy regular expression pattern: "
)

func TestValidate(t *testing.T) {
	long := func(n int) string { return strings.Repeat("n", n) }
	route := func(v string, w int) string { return `{"stateMachineVersionArn":"` + v + `","weight":` + itoa(w) + `}` }
	tests := []struct {
		name, op, body, want string
	}{
		// The messages the api answered before its checks were generated.
		{"max results", "ListStateMachines", `{"maxResults":1001}`,
			one + "Value '1001' at 'maxResults" + at + "Member must have value less than or equal to 1000"},
		{"two violations in model order", "ListExecutions", `{"stateMachineArn":"` + sm + `","maxResults":-1,"statusFilter":"DONE"}`,
			"2 validation errors detected: Value 'DONE' at 'statusFilter" + at + "Member must satisfy enum value set: [RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE]; Value '-1' at 'maxResults" + at + "Member must have value greater than or equal to 0"},
		{"required", "StartExecution", `{}`, one + "Value null at 'stateMachineArn" + null},
		{"json null is absent", "StartExecution", `{"stateMachineArn":null}`, one + "Value null at 'stateMachineArn" + null},
		{"name length", "StartExecution", `{"stateMachineArn":"` + sm + `","name":"` + long(81) + `"}`,
			one + "Value '" + long(81) + "' at 'name" + at + "Member must have length less than or equal to 80"},
		{"empty name", "StartExecution", `{"stateMachineArn":"` + sm + `","name":""}`, one + "Value '' at 'name" + at + lenGE1},
		{"sensitive input redacted", "StartExecution", `{"stateMachineArn":"` + sm + `","input":"` + long(262145) + `"}`,
			one + secret + "input" + at + "Member must have length less than or equal to 262144"},
		{"input at its limit", "StartExecution", `{"stateMachineArn":"` + sm + `","input":"` + long(262144) + `"}`, ""},
		{"length in UTF-16 units: 80 two-byte runes fit", "StartExecution", `{"stateMachineArn":"` + sm + `","name":"` + strings.Repeat("é", 80) + `"}`, ""},
		{"length in UTF-16 units: 41 surrogate pairs do not", "StartExecution", `{"stateMachineArn":"` + sm + `","name":"` + strings.Repeat("😀", 41) + `"}`,
			one + "Value '" + strings.Repeat("😀", 41) + "' at 'name" + at + "Member must have length less than or equal to 80"},
		{"trace header not ASCII", "StartExecution", `{"stateMachineArn":"` + sm + `","traceHeader":"é"}`,
			one + "Value 'é' at 'traceHeader" + at + pattern + `\p{ASCII}*`},
		{"includedData is StartSyncExecution's", "StartExecution", `{"stateMachineArn":"` + sm + `","includedData":"X"}`, ""},
		{"sync includedData", "StartSyncExecution", `{"stateMachineArn":"` + sm + `","includedData":"X"}`,
			one + "Value 'X' at 'includedData" + at + "Member must satisfy enum value set: [ALL_DATA, METADATA_ONLY]"},
		{"valid start", "StartExecution", `{"stateMachineArn":"` + sm + `","name":"n","input":"{}","traceHeader":"Root=1"}`, ""},
		{"create: three required", "CreateStateMachine", `{}`,
			"3 validation errors detected: Value null at 'name" + null + "; Value null at 'definition" + null + "; Value null at 'roleArn" + null},
		{"create: type enum", "CreateStateMachine", `{"name":"a","definition":"{}","roleArn":"r","type":"X"}`,
			one + "Value 'X' at 'type" + at + "Member must satisfy enum value set: [STANDARD, EXPRESS]"},
		{"create: nested logging level", "CreateStateMachine", `{"name":"a","definition":"{}","roleArn":"r","loggingConfiguration":{"level":"X","destinations":5}}`,
			one + "Value 'X' at 'loggingConfiguration.level" + at + "Member must satisfy enum value set: [ALL, ERROR, FATAL, OFF]"},
		{"create: tag key required", "CreateStateMachine", `{"name":"a","definition":"{}","roleArn":"r","tags":[{"key":"k"},{"value":"v"}]}`,
			one + "Value null at 'tags.2.member.key" + null},
		{"create: tag value length", "CreateStateMachine", `{"name":"a","definition":"{}","roleArn":"r","tags":[{"key":"k","value":"` + long(257) + `"}]}`,
			one + "Value '" + long(257) + "' at 'tags.1.member.value" + at + "Member must have length less than or equal to 256"},
		{"create: description redacted", "CreateStateMachine", `{"name":"a","definition":"{}","roleArn":"r","versionDescription":"` + long(257) + `"}`,
			one + secret + "versionDescription" + at + "Member must have length less than or equal to 256"},
		{"create: encryption type required", "CreateStateMachine", `{"name":"a","definition":"{}","roleArn":"r","encryptionConfiguration":{}}`,
			one + "Value null at 'encryptionConfiguration.type" + null},
		{"create: encryption reuse period left to the api", "CreateStateMachine", `{"name":"a","definition":"{}","roleArn":"r","encryptionConfiguration":{"type":"AWS_OWNED_KEY","kmsDataKeyReusePeriodSeconds":5}}`, ""},
		{"create: empty definition redacted", "CreateStateMachine", `{"name":"a","definition":"","roleArn":"r"}`,
			one + secret + "definition" + at + lenGE1},
		{"update: model order", "UpdateStateMachine", `{"stateMachineArn":"","versionDescription":"` + long(257) + `","encryptionConfiguration":{"kmsKeyId":"","type":"X"}}`,
			"4 validation errors detected: Value '' at 'stateMachineArn" + at + lenGE1 + "; " + secret + "versionDescription" + at + "Member must have length less than or equal to 256; " +
				"Value '' at 'encryptionConfiguration.kmsKeyId" + at + lenGE1 + "; Value 'X' at 'encryptionConfiguration.type" + at + "Member must satisfy enum value set: [AWS_OWNED_KEY, CUSTOMER_MANAGED_KMS_KEY]"},
		{"activity: name", "CreateActivity", `{"name":""}`, one + "Value '' at 'name" + at + lenGE1},
		{"activity: worker name and arn", "GetActivityTask", `{"workerName":""}`,
			"2 validation errors detected: Value null at 'activityArn" + null + "; Value '' at 'workerName" + at + lenGE1},
		{"alias: pattern", "CreateStateMachineAlias", `{"name":"123","routingConfiguration":[` + route("v", 100) + `]}`,
			one + "Value '123' at 'name" + at + pattern + `^(?=.*[a-zA-Z_\-\.])[a-zA-Z0-9_\-\.]+$`},
		{"alias: empty name has no pattern violation", "CreateStateMachineAlias", `{"name":"","routingConfiguration":[` + route("v", 100) + `]}`,
			one + "Value '' at 'name" + at + lenGE1},
		{"alias: bad character", "CreateStateMachineAlias", `{"name":"a b","routingConfiguration":[` + route("v", 100) + `]}`,
			one + "Value 'a b' at 'name" + at + pattern + `^(?=.*[a-zA-Z_\-\.])[a-zA-Z0-9_\-\.]+$`},
		{"alias: routing required", "CreateStateMachineAlias", `{"name":"live"}`, one + "Value null at 'routingConfiguration" + null},
		{"alias: routing empty", "CreateStateMachineAlias", `{"name":"live","routingConfiguration":[]}`,
			one + "Value '[]' at 'routingConfiguration" + at + lenGE1},
		{"alias: routing too long", "CreateStateMachineAlias", `{"name":"live","routingConfiguration":[` + route("a", 50) + "," + route("b", 25) + `,{"weight":25}]}`,
			"2 validation errors detected: Value '[RoutingConfigurationListItem(stateMachineVersionArn=a, weight=50), RoutingConfigurationListItem(stateMachineVersionArn=b, weight=25), RoutingConfigurationListItem(stateMachineVersionArn=, weight=25)]' at 'routingConfiguration" + at + "Member must have length less than or equal to 2; " +
				"Value null at 'routingConfiguration.3.member.stateMachineVersionArn" + null},
		{"alias: weight", "UpdateStateMachineAlias", `{"stateMachineAliasArn":"a","routingConfiguration":[{"stateMachineVersionArn":"v"},` + route("w", 101) + `]}`,
			"2 validation errors detected: Value null at 'routingConfiguration.1.member.weight" + null + "; Value '101' at 'routingConfiguration.2.member.weight" + at + "Member must have value less than or equal to 100"},
		{"alias: routing optional on update", "UpdateStateMachineAlias", `{"stateMachineAliasArn":"a","description":"d"}`, ""},
		{"tags required", "TagResource", `{"resourceArn":"r"}`, one + "Value null at 'tags" + null},
		{"tags may be empty", "TagResource", `{"resourceArn":"r","tags":[]}`, ""},
		{"tag keys", "UntagResource", `{"resourceArn":"r","tagKeys":["ok",""]}`, one + "Value '' at 'tagKeys.2.member" + at + lenGE1},
		{"tag keys required", "UntagResource", `{"resourceArn":"r"}`, one + "Value null at 'tagKeys" + null},
		{"map run: percentage", "UpdateMapRun", `{"mapRunArn":"m","toleratedFailurePercentage":100.5}`,
			one + "Value '100.5' at 'toleratedFailurePercentage" + at + "Member must have value less than or equal to 100"},
		{"map run: model order", "UpdateMapRun", `{"mapRunArn":"m","maxConcurrency":2147483648,"toleratedFailureCount":-1,"toleratedFailurePercentage":-2}`,
			"3 validation errors detected: Value '2147483648' at 'maxConcurrency" + at + "Member must have value less than or equal to 2147483647; " +
				"Value '-2' at 'toleratedFailurePercentage" + at + "Member must have value greater than or equal to 0; Value '-1' at 'toleratedFailureCount" + at + "Member must have value greater than or equal to 0"},
		{"client token pattern", "RedriveExecution", `{"executionArn":"x","clientToken":"a b"}`,
			one + "Value 'a b' at 'clientToken" + at + pattern + "[!-~]+"},
		{"empty client token: length only", "RedriveExecution", `{"executionArn":"x","clientToken":""}`, one + "Value '' at 'clientToken" + at + lenGE1},
		{"task success output required", "SendTaskSuccess", `{"taskToken":"t"}`, one + "Value null at 'output" + null},
		{"task failure error redacted", "SendTaskFailure", `{"taskToken":"t","error":"` + long(257) + `"}`,
			one + secret + "error" + at + "Member must have length less than or equal to 256"},
		{"stop cause redacted", "StopExecution", `{"executionArn":"x","cause":"` + long(32769) + `"}`,
			one + secret + "cause" + at + "Member must have length less than or equal to 32768"},
		{"validate max results", "ValidateStateMachineDefinition", `{"definition":"{}","maxResults":101}`,
			one + "Value '101' at 'maxResults" + at + "Member must have value less than or equal to 100"},
		{"history token", "GetExecutionHistory", `{"executionArn":"x","nextToken":""}`, one + "Value '' at 'nextToken" + at + lenGE1},
		{"included data", "DescribeExecution", `{"executionArn":"x","includedData":"X"}`,
			one + "Value 'X' at 'includedData" + at + "Member must satisfy enum value set: [ALL_DATA, METADATA_ONLY]"},
		{"test state: nested and plain state name", "TestState", `{"definition":"{}","stateName":"","mock":{"errorOutput":{"error":"` + long(257) + `"},"fieldValidationMode":"X"},"stateConfiguration":{"retrierRetryCount":-1,"errorCausedByState":""}}`,
			"5 validation errors detected: Value '' at 'stateName" + at + lenGE1 + "; " + secret + "mock.errorOutput.error" + at + "Member must have length less than or equal to 256; " +
				"Value 'X' at 'mock.fieldValidationMode" + at + "Member must satisfy enum value set: [STRICT, PRESENT, NONE]; " +
				"Value '-1' at 'stateConfiguration.retrierRetryCount" + at + "Member must have value greater than or equal to 0; Value '' at 'stateConfiguration.errorCausedByState" + at + lenGE1},
		{"test state: int beyond Java's int", "TestState", `{"definition":"{}","stateConfiguration":{"mapIterationFailureCount":2147483648}}`,
			one + "Value '2147483648' at 'stateConfiguration.mapIterationFailureCount" + at + "Member must have value less than or equal to 2147483647"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := inputs[tt.op]()
			if err := json.Unmarshal([]byte(tt.body), in); err != nil {
				t.Fatal(err)
			}
			err := in.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			var e *awsapi.Error
			if !errors.As(err, &e) || e.Code != awsapi.CodeValidationException {
				t.Fatalf("want a ValidationException, got %v", err)
			}
			if e.Message != tt.want {
				t.Fatalf("message\n got %s\nwant %s", e.Message, tt.want)
			}
		})
	}
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

func TestValidate_StartExecutionDoesNotAllocate(t *testing.T) {
	var in awsapi.StartExecutionInput
	if err := json.Unmarshal([]byte(`{"stateMachineArn":"`+sm+`","name":"n","input":"{\"k\":1}","traceHeader":"Root=1"}`), &in); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _ = in.Validate() }); n != 0 {
		t.Fatalf("%v allocations per valid request", n)
	}
}

func TestError(t *testing.T) {
	tests := []struct {
		err        *awsapi.Error
		wantStatus int
		wantBody   string
	}{
		{awsapi.InvalidArn("Invalid Arn: 'x'"), 400, `{"__type":"com.amazonaws.swf.service.v2.model#InvalidArn","message":"Invalid Arn: 'x'"}`},
		{awsapi.ValidationException("v"), 400, `{"__type":"com.amazon.coral.validate#ValidationException","message":"v"}`},
		{awsapi.UnknownOperationException(""), 400, `{"__type":"com.amazon.coral.service#UnknownOperationException","message":""}`},
		{awsapi.SerializationException("s"), 400, `{"__type":"com.amazon.coral.service#SerializationException","message":"s"}`},
		{awsapi.InternalFailure("boom"), 500, `{"__type":"com.amazon.coral.service#InternalFailure","message":"boom"}`},
		{awsapi.UnsupportedOperation("no"), 400, `{"__type":"com.amazonaws.swf.service.v2.model#UnsupportedOperation","message":"no"}`},
		{&awsapi.Error{Code: awsapi.CodeValidationException, Message: "m", Reason: awsapi.ValidationExceptionReasonInvalidRoutingConfiguration}, 400,
			`{"__type":"com.amazon.coral.validate#ValidationException","message":"m","reason":"INVALID_ROUTING_CONFIGURATION"}`},
		{&awsapi.Error{Code: awsapi.CodeTooManyTags, Message: "m", ResourceName: "arn"}, 400,
			`{"__type":"com.amazonaws.swf.service.v2.model#TooManyTags","message":"m","resourceName":"arn"}`},
		{&awsapi.Error{Message: "no code"}, 500, `{"__type":"com.amazon.coral.service#InternalFailure","message":"no code"}`},
	}
	for _, tt := range tests {
		t.Run(tt.err.Code.String(), func(t *testing.T) {
			b, err := json.Marshal(tt.err)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.wantBody || tt.err.Code.Status() != tt.wantStatus {
				t.Fatalf("%d %s, want %d %s", tt.err.Code.Status(), b, tt.wantStatus, tt.wantBody)
			}
		})
	}
	if got := awsapi.InvalidName("Invalid Name: 'a?b'").Error(); got != "InvalidName: Invalid Name: 'a?b'" {
		t.Fatalf("Error() = %q", got)
	}
}

func TestOperations(t *testing.T) {
	if len(awsapi.Operations) != 37 || awsapi.Operations["StartExecution"] != "StartExecutionInput" {
		t.Fatalf("Operations: %v", awsapi.Operations)
	}
}

// BenchmarkValidate_StartExecution measures the checks of the durable API
// path's busiest request: a valid StartExecution, with a small input and
// with a 200 KB one (a string's UTF-16 length is counted only when its
// byte length cannot decide).
func BenchmarkValidate_StartExecution(b *testing.B) {
	for _, size := range []int{16, 200_000} {
		input := `{"k":"` + strings.Repeat("x", size) + `"}`
		in := awsapi.StartExecutionInput{StateMachineArn: ptr(sm), Name: ptr("exec-1"), Input: &input}
		b.Run(itoa(size), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := in.Validate(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func ptr(s string) *string { return &s }
