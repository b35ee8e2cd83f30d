package api

import (
	"encoding/json"
	"testing"

	"github.com/stepwell/stepwell/api/internal/awsapi"
)

// FuzzDecodeStartInput checks that whatever body decodeStartInput accepts,
// encoding/json decodes to the same input.
func FuzzDecodeStartInput(f *testing.F) {
	for _, s := range decodeStartCases {
		f.Add(s.body)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var fast, slow awsapi.StartExecutionInput
		if !decodeStartInput([]byte(body), &fast) {
			return
		}
		if err := json.Unmarshal([]byte(body), &slow); err != nil {
			t.Fatalf("decodeStartInput accepted %q, encoding/json: %v", body, err)
		}
		if !sameStartInput(fast, slow) {
			t.Fatalf("%q: decodeStartInput %s, encoding/json %s", body, showStart(fast), showStart(slow))
		}
	})
}

var decodeStartCases = []struct {
	body string
	ok   bool // decodeStartInput decodes it
}{
	{`{"stateMachineArn":"arn:aws:states:us-east-1:123456789012:stateMachine:m","name":"e1","input":"{\"a\":1}"}`, true},
	{` { "stateMachineArn" : "a" , "traceHeader":"t", "input": "\"\\\/\b\f\n\r\t" } `, true},
	{`{}`, true},
	{`{"name":"é€𝄞"}`, true},
	{`{"name":"a","name":"b"}`, true},
	{`{"Name":"a"}`, false},              // another case: encoding/json's matching
	{`{"name":null}`, false},             // not a string
	{`{"name":1}`, false},                // mistyped: encoding/json's error
	{`{"other":"x"}`, false},             // unknown member
	{`{"name":"\u00e9"}`, false},         // \u escape
	{"{\"name\":\"\xff\"}", false},       // invalid UTF-8: encoding/json replaces it
	{"{\"name\":\"a\nb\"}", false},       // control character
	{`{"name":"a"`, false},               // unterminated
	{`{"name":"a"} x`, false},            // trailing data
	{`{"name":"a",}`, false},             // trailing comma
	{`{"name" "a"}`, false},              // no colon
	{`{"name":"a\x"}`, false},            // bad escape
	{`[]`, false},                        // not an object
	{``, false},                          // empty
	{`{"input":"\"}`, false},             // escaped closing quote
	{`{"stateMachineArn":"a"}{}`, false}, // two values
}

func TestDecodeStartInput(t *testing.T) {
	for _, tt := range decodeStartCases {
		var fast, slow awsapi.StartExecutionInput
		ok := decodeStartInput([]byte(tt.body), &fast)
		if ok != tt.ok {
			t.Errorf("decodeStartInput(%q) = %t, want %t", tt.body, ok, tt.ok)
			continue
		}
		if !ok {
			continue
		}
		if err := json.Unmarshal([]byte(tt.body), &slow); err != nil {
			t.Fatalf("%q: encoding/json: %v", tt.body, err)
		}
		if !sameStartInput(fast, slow) {
			t.Errorf("%q: decodeStartInput %s, encoding/json %s", tt.body, showStart(fast), showStart(slow))
		}
	}
}

func sameStartInput(a, b awsapi.StartExecutionInput) bool {
	eq := func(x, y *string) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return eq(a.StateMachineArn, b.StateMachineArn) && eq(a.Name, b.Name) && eq(a.Input, b.Input) && eq(a.TraceHeader, b.TraceHeader)
}

func showStart(in awsapi.StartExecutionInput) string {
	b, _ := json.Marshal(in)
	return string(b)
}
