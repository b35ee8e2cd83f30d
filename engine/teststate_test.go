package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/internal/clock"
	"github.com/stepwell/stepwell/value"
)

// testStateCase is one TestState request: a state given alone, and what
// the API would put in TestInput.
type testStateCase struct {
	name    string
	state   string
	input   string
	vars    string // a JSON object, or ""
	context string // a JSON value, or ""
	result  string // mocked result
	err     *fault.Error
	retries int64
	// mapFails is stateConfiguration.mapIterationFailureCount (-1: none).
	mapFails   int64
	readerData string
}

var testStateCases = []testStateCase{
	{name: "pass data flow", state: `{"Type":"Pass","InputPath":"$.a","Parameters":{"x.$":"$.b","n":1},
		"ResultPath":"$.r","OutputPath":"$.r","Assign":{"v.$":"$.x"},"Next":"N"}`, input: `{"a":{"b":2}}`},
	{name: "pass result", state: `{"Type":"Pass","Result":{"k":true},"ResultPath":"$.out","End":true}`, input: `{"in":1}`},
	{name: "pass result path fails", state: `{"Type":"Pass","ResultPath":"$.a.b","End":true}`, input: `{"a":1}`},
	{name: "pass input path missing", state: `{"Type":"Pass","InputPath":"$.missing","End":true}`, input: `{}`},
	{name: "pass reads variables", state: `{"Type":"Pass","Parameters":{"v.$":"$v"},"End":true}`, input: `{}`, vars: `{"v":"set"}`},
	{name: "pass reads context", state: `{"Type":"Pass","Parameters":{"c.$":"$$.Execution.Name"},"End":true}`, input: `{}`,
		context: `{"Execution":{"Name":"given"}}`},
	{name: "choice match", state: `{"Type":"Choice","InputPath":"$.c","Choices":[{"Variable":"$.n","NumericGreaterThan":1,"Next":"Big",
		"Assign":{"big":true}}],"Default":"Small","OutputPath":"$.n"}`, input: `{"c":{"n":5}}`},
	{name: "choice default", state: `{"Type":"Choice","Choices":[{"Variable":"$.n","NumericGreaterThan":1,"Next":"Big"}],
		"Default":"Small","Assign":{"small":true}}`, input: `{"n":0}`},
	{name: "choice no match", state: `{"Type":"Choice","Choices":[{"Variable":"$.n","NumericGreaterThan":1,"Next":"Big"}]}`, input: `{"n":0}`},
	{name: "wait", state: `{"Type":"Wait","Seconds":1000,"Assign":{"w":1},"OutputPath":"$.a","End":true}`, input: `{"a":[1]}`},
	{name: "wait negative seconds", state: `{"Type":"Wait","SecondsPath":"$.s","End":true}`, input: `{"s":-1}`},
	{name: "succeed", state: `{"Type":"Succeed","InputPath":"$.a","OutputPath":"$.b"}`, input: `{"a":{"b":3}}`},
	{name: "fail paths", state: `{"Type":"Fail","ErrorPath":"$.e","CausePath":"States.Format('c{}', $.n)"}`, input: `{"e":"E","n":1}`},
	{name: "task mock result", state: `{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"p.$":"$.x"},
		"ResultSelector":{"s.$":"$.r"},"ResultPath":"$.res","Assign":{"got.$":"$.s"},"End":true}`,
		input: `{"x":1}`, result: `{"r":7}`, vars: `{"old":1}`},
	{name: "task mock error retriable", state: `{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true,
		"Retry":[{"ErrorEquals":["Other"]},{"ErrorEquals":["E"],"IntervalSeconds":2,"BackoffRate":3,"MaxAttempts":3}]}`,
		input: `{}`, err: fault.New("E", "boom"), retries: 1},
	{name: "task retries exhausted then caught", state: `{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true,
		"Retry":[{"ErrorEquals":["E"],"MaxAttempts":1}],
		"Catch":[{"ErrorEquals":["Other"],"Next":"X"},{"ErrorEquals":["States.ALL"],"ResultPath":"$.err","Assign":{"e.$":"$.Error"},"Next":"C"}]}`,
		input: `{"a":1}`, err: fault.New("E", "boom"), retries: 1},
	{name: "task error not handled", state: `{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}`,
		input: `{}`, err: fault.NameOnly("E")},
	{name: "task result path caught", state: `{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","ResultPath":"$.a.b","End":true,
		"Catch":[{"ErrorEquals":["States.ResultPathMatchFailure"],"Next":"C"}]}`, input: `{"a":1}`, result: `2`},
	{name: "task result path retriable", state: `{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","ResultPath":"$.a.b","End":true,
		"Retry":[{"ErrorEquals":["States.ALL"]}]}`, input: `{"a":1}`, result: `2`},
	{name: "task invoked", state: `{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","TimeoutSeconds":5,
		"Parameters":{"echo.$":"$"},"End":true}`, input: `{"q":1}`},
	{name: "map mocked", state: `{"Type":"Map","ItemsPath":"$.items","ItemSelector":{"i.$":"$$.Map.Item.Index","v.$":"$$.Map.Item.Value"},
		"MaxConcurrency":2,"ToleratedFailureCount":1,"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},
		"ResultSelector":{"n.$":"States.ArrayLength($)"},"End":true}`, input: `{"items":["a","b","c"]}`, result: `[1,2,3]`},
	{name: "map reader data", state: `{"Type":"Map","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}`,
		input: `{}`, result: `[]`, readerData: `[{"a":1},{"a":2}]`},
	{name: "map iterations fail", state: `{"Type":"Map","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true,
		"Catch":[{"ErrorEquals":["States.ALL"],"Next":"C"}]}`, input: `[1,2]`, result: `[]`, mapFails: 1},
	{name: "map iterations tolerated", state: `{"Type":"Map","ToleratedFailurePercentage":50,
		"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}`, input: `[1,2]`, result: `[0]`, mapFails: 1},
	{name: "map failure count too large", state: `{"Type":"Map","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}`,
		input: `[1,2]`, result: `[]`, mapFails: 3},
	{name: "parallel mocked", state: `{"Type":"Parallel","Branches":[{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}],
		"Parameters":{"x.$":"$.a"},"ResultSelector":{"first.$":"$[0]"},"Next":"N"}`, input: `{"a":1}`, result: `[5]`},
	{name: "parallel mock error caught", state: `{"Type":"Parallel","Branches":[{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}],
		"End":true,"Catch":[{"ErrorEquals":["States.BranchFailed"],"Next":"C"}]}`, input: `{}`, err: fault.New(fault.BranchFailed, "b")},
	// As in executions, a Parallel's (or Map's) failure after its
	// branches succeeded is caught, never retried: FAILED, not RETRIABLE
	// (the TestState of before the plans said RETRIABLE).
	{name: "parallel result path retriable", state: `{"Type":"Parallel","Branches":[{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}],
		"ResultPath":"$.a.b","End":true,"Retry":[{"ErrorEquals":["States.ALL"]}]}`, input: `{"a":1}`, result: `[1]`},
	{name: "jsonata", state: `{"Type":"Pass","QueryLanguage":"JSONata","End":true}`, input: `{}`},
	{name: "jsonata pass", state: `{"Type":"Pass","QueryLanguage":"JSONata","Output":{"sum":"{% $states.input.a + $v %}","name":"{% $states.context.Execution.Name %}"},
		"Assign":{"v":"{% $v + 1 %}"},"End":true}`, input: `{"a":1}`, vars: `{"v":10}`, context: `{"Execution":{"Name":"given"}}`},
	{name: "jsonata choice", state: `{"Type":"Choice","QueryLanguage":"JSONata","Choices":[{"Condition":"{% $states.input.n > 1 %}","Next":"Big",
		"Output":"{% $states.input.n %}","Assign":{"big":true}}],"Default":"Small"}`, input: `{"n":5}`},
	{name: "jsonata task arguments fail caught", state: `{"Type":"Task","QueryLanguage":"JSONata","Resource":"arn:aws:states:::lambda:invoke",
		"Arguments":{"x":"{% $nope %}"},"Catch":[{"ErrorEquals":["States.QueryEvaluationError"],"Output":"{% $states.errorOutput.Error %}","Next":"C"}],"End":true}`,
		input: `{}`, result: `1`},
	{name: "jsonata map mocked", state: `{"Type":"Map","QueryLanguage":"JSONata","Items":"{% $states.input.items %}",
		"ItemSelector":{"i":"{% $states.context.Map.Item.Index %}","v":"{% $states.context.Map.Item.Value %}"},"MaxConcurrency":"{% 1 + 1 %}",
		"ToleratedFailureCount":"{% 1 %}","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},
		"Output":{"n":"{% $count($states.result) %}"},"End":true}`, input: `{"items":["a","b"]}`, result: `[1,2]`},
}

// testStateResult is a TestResult as JSON text.
func runTestStateCase(t *testing.T, tc testStateCase) json.RawMessage {
	t.Helper()
	def := `{"StartAt":"S","States":{"S":` + tc.state
	for _, target := range []string{"N", "C", "X", "Big", "Small"} {
		if strings.Contains(tc.state, `"`+target+`"`) {
			def += `,"` + target + `":{"Type":"Succeed"}`
		}
	}
	def += `}}`
	sm, err := asl.Load([]byte(def), asl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	parse := func(s string) any {
		if s == "" {
			return nil
		}
		v, err := value.ParseString(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	in := &engine.TestInput{State: sm.States["S"], Input: parse(tc.input), Context: parse(tc.context), RetrierRetryCount: tc.retries,
		Execution: engine.Execution{ARN: "arn:aws:states:us-east-1:123456789012:execution:m:x", Name: "x", StartTime: goldenStart}}
	if tc.vars != "" {
		in.Vars = parse(tc.vars).(*value.Object)
	}
	if tc.result != "" || tc.err != nil {
		in.Mock = &engine.TestMock{Result: parse(tc.result), Error: tc.err}
	}
	if tc.mapFails > 0 {
		in.MapIterationFailureCount = &tc.mapFails
	}
	if tc.readerData != "" {
		in.ItemReaderData = parse(tc.readerData).([]any)
	}
	e := engine.New(engine.Config{Clock: clock.NewFake(goldenStart), Invoker: &fakeInvoker{}})
	res := e.TestState(context.Background(), in)
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTestState checks TestState's result for each case against
// testdata/teststate.json (-update rewrites it).
func TestTestState(t *testing.T) {
	path := filepath.Join("testdata", "teststate.json")
	got := map[string]json.RawMessage{}
	for _, tc := range testStateCases {
		got[tc.name] = runTestStateCase(t, tc)
	}
	if *update {
		b, err := json.MarshalIndent(got, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]json.RawMessage{}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	for _, tc := range testStateCases {
		var w bytes.Buffer
		if err := json.Compact(&w, want[tc.name]); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !bytes.Equal(w.Bytes(), got[tc.name]) {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got[tc.name], w.Bytes())
		}
	}
}
