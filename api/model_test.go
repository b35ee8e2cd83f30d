package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stepwell/stepwell/api/internal/awsapi"
)

// TestOperations_AnswerEveryOperationOfTheModel sends each operation of the
// API model an empty request: every one is served (no
// UnknownOperationException) and answers the ValidationException its
// input's constraints give, or runs.
func TestOperations_AnswerEveryOperationOfTheModel(t *testing.T) {
	s := newActivityServer(t, time.Millisecond)
	for op := range awsapi.Operations {
		if op == "GetActivityTask" {
			continue // long-polls an activity; checked below with a bad one
		}
		r := call(t, s, op, `{}`)
		if typ, _ := r.body["__type"].(string); strings.HasSuffix(typ, "#UnknownOperationException") || r.status >= 500 {
			t.Errorf("%s: %d %s", op, r.status, r.raw)
		}
	}
	r := call(t, s, "GetActivityTask", `{"workerName":""}`)
	want := "2 validation errors detected: Value null at 'activityArn' failed to satisfy constraint: Member must not be null; " +
		"Value '' at 'workerName' failed to satisfy constraint: Member must have length greater than or equal to 1"
	if r.body["__type"] != "com.amazon.coral.validate#ValidationException" || r.body["message"] != want {
		t.Errorf("GetActivityTask: %d %s", r.status, r.raw)
	}
}

// TestRequestErrors_OverHTTP checks the answers of the generated
// validators and of the decoder through the server.
func TestRequestErrors_OverHTTP(t *testing.T) {
	s := newServer(t)
	tests := []struct {
		action, body, wantType, wantMsg string
	}{
		{"TagResource", `{"resourceArn":"arn:aws:states:us-east-1:111111111111:stateMachine:m","tags":"x"}`,
			"com.amazon.coral.service#SerializationException", "Unexpected value for member 'tags': expected a list"},
		{"CreateStateMachine", `{"name":"a","definition":"{}","roleArn":"r","loggingConfiguration":[]}`,
			"com.amazon.coral.service#SerializationException", "Unexpected value for member 'loggingConfiguration': expected a structure"},
		{"StartExecution", `{"stateMachineArn":5}`,
			"com.amazon.coral.service#SerializationException", "Unexpected value for member 'stateMachineArn': expected string"},
		{"CreateStateMachineAlias", `{"name":"live","routingConfiguration":[]}`,
			"com.amazon.coral.validate#ValidationException", "1 validation error detected: Value '[]' at 'routingConfiguration' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"UntagResource", `{"resourceArn":"r"}`,
			"com.amazon.coral.validate#ValidationException", "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null"},
		{"StopExecution", `{"executionArn":"x","cause":"` + strings.Repeat("c", 32769) + `"}`,
			"com.amazon.coral.validate#ValidationException", "1 validation error detected: Value '*** Sensitive Data Redacted ***' at 'cause' failed to satisfy constraint: Member must have length less than or equal to 32768"},
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			r := call(t, s, tt.action, tt.body)
			if r.status != 400 || r.body["__type"] != tt.wantType || r.body["message"] != tt.wantMsg {
				t.Fatalf("%d %s\nwant %s %q", r.status, r.raw, tt.wantType, tt.wantMsg)
			}
		})
	}
}
