package api

// TestState: one state run in isolation, with the inspection levels INFO
// (output or error), DEBUG (the data-processing intermediates) and TRACE
// (HTTP Tasks only), a mocked result or error, variables, a Context
// object and stateConfiguration.
//
// TRACE (HTTP Tasks only) adds the request, rebuilt from the task's
// effective parameters (ApiEndpoint, Method, Headers, QueryParameters,
// RequestBody), and the response, from the task's result (or, for an
// HTTP error status, from the error's cause).
//
// Differences from AWS, by necessity: a mock's fieldValidationMode is
// accepted but mocked results are not checked against the AWS service API
// models Stepwell does not have (every mode behaves as NONE), and what a
// connection adds to a request is never shown (revealSecrets has no
// effect).

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/stepwell/stepwell/api/internal/awsapi"
	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/internal/uuid"
	"github.com/stepwell/stepwell/value"
)

// testStateTimeout is AWS's limit on one TestState run.
const testStateTimeout = 5 * time.Minute

type inspectionErrorDetails struct {
	CatchIndex                  *int64 `json:"catchIndex,omitempty"`
	RetryIndex                  *int64 `json:"retryIndex,omitempty"`
	RetryBackoffIntervalSeconds *int64 `json:"retryBackoffIntervalSeconds,omitempty"`
}

type inspectionData struct {
	Input                      *string                 `json:"input,omitempty"`
	AfterArguments             *string                 `json:"afterArguments,omitempty"`
	AfterInputPath             *string                 `json:"afterInputPath,omitempty"`
	AfterParameters            *string                 `json:"afterParameters,omitempty"`
	Result                     *string                 `json:"result,omitempty"`
	AfterResultSelector        *string                 `json:"afterResultSelector,omitempty"`
	AfterResultPath            *string                 `json:"afterResultPath,omitempty"`
	Variables                  *string                 `json:"variables,omitempty"`
	ErrorDetails               *inspectionErrorDetails `json:"errorDetails,omitempty"`
	Request                    *inspectionRequest      `json:"request,omitempty"`
	Response                   *inspectionResponse     `json:"response,omitempty"`
	AfterItemsPath             *string                 `json:"afterItemsPath,omitempty"`
	AfterItemSelector          *string                 `json:"afterItemSelector,omitempty"`
	ToleratedFailureCount      *int64                  `json:"toleratedFailureCount,omitempty"`
	ToleratedFailurePercentage *float64                `json:"toleratedFailurePercentage,omitempty"`
	MaxConcurrency             *int64                  `json:"maxConcurrency,omitempty"`
}

type inspectionRequest struct {
	Protocol string `json:"protocol,omitempty"`
	Method   string `json:"method,omitempty"`
	URL      string `json:"url,omitempty"`
	Headers  string `json:"headers,omitempty"`
	Body     string `json:"body,omitempty"`
}

type inspectionResponse struct {
	Protocol      string `json:"protocol,omitempty"`
	StatusCode    string `json:"statusCode,omitempty"`
	StatusMessage string `json:"statusMessage,omitempty"`
	Headers       string `json:"headers,omitempty"`
	Body          string `json:"body,omitempty"`
}

type testStateOutput struct {
	Output         *string         `json:"output,omitempty"`
	Error          *string         `json:"error,omitempty"`
	Cause          *string         `json:"cause,omitempty"`
	InspectionData *inspectionData `json:"inspectionData,omitempty"`
	NextState      string          `json:"nextState,omitempty"`
	Status         string          `json:"status"`
}

// testStateName names a state given alone.
const testStateName = "TestState"

// testedState loads the definition and returns the state under test: the
// named state of a whole machine, or a state given alone.
func testedState(def string, stateName *string) (*asl.State, error) {
	if stateName != nil {
		sm, err := loadDefinition(def, typeStandard)
		if err != nil {
			return nil, err
		}
		st := sm.Lookup(*stateName)
		if st == nil {
			return nil, errValidation("State not found in definition")
		}
		return st, nil
	}
	v, err := value.ParseString(def)
	if err != nil {
		return nil, awsapi.InvalidDefinition("Invalid State Machine Definition: '" + err.Error() + "'")
	}
	obj, ok := v.(*value.Object)
	if !ok {
		return nil, awsapi.InvalidDefinition("Invalid State Machine Definition: 'The state definition must be a JSON object'")
	}
	if obj.Has("States") {
		// A whole machine without stateName: test its StartAt state.
		sm, err := loadDefinition(def, typeStandard)
		if err != nil {
			return nil, err
		}
		return sm.States[sm.StartAt], nil
	}
	// Wrap the state in a machine whose other states are the targets it
	// names, so that it validates as it would in place.
	states := value.NewObject(4)
	states.Set(testStateName, obj)
	for _, target := range stateTargets(obj) {
		if target != testStateName && !states.Has(target) {
			placeholder := value.NewObject(1)
			placeholder.Set("Type", "Succeed")
			states.Set(target, placeholder)
		}
	}
	machine := value.NewObject(2)
	machine.Set("StartAt", testStateName)
	machine.Set("States", states)
	sm, err := loadDefinition(value.String(machine), typeStandard)
	if err != nil {
		return nil, err
	}
	return sm.States[testStateName], nil
}

// stateTargets lists the state names a state's Next, Default, Choices and
// Catch refer to.
func stateTargets(st *value.Object) []string {
	var out []string
	add := func(o *value.Object, key string) {
		if o == nil {
			return
		}
		if v, ok := o.Get(key); ok {
			if s, ok := v.(string); ok && s != "" {
				out = append(out, s)
			}
		}
	}
	add(st, "Next")
	add(st, "Default")
	for _, list := range []string{"Choices", "Catch"} {
		v, _ := st.Get(list)
		arr, _ := v.([]any)
		for _, e := range arr {
			o, _ := e.(*value.Object)
			add(o, "Next")
		}
	}
	return out
}

func (s *Server) testState(ctx context.Context, body []byte) (any, error) {
	var in awsapi.TestStateInput
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	if in.RoleArn != nil {
		if err := checkRoleArn(*in.RoleArn); err != nil {
			return nil, err
		}
	}
	st, err := testedState(*in.Definition, in.StateName)
	if err != nil {
		return nil, err
	}
	level := "INFO"
	if in.InspectionLevel != nil {
		level = *in.InspectionLevel
	}
	if level == "TRACE" && (st.Type != asl.TypeTask || !strings.HasPrefix(st.Resource, "arn:aws:states:::http:invoke")) {
		return nil, errValidation("The TRACE inspection level is only supported for HTTP Task states")
	}
	mock, err := testMock(&in, st)
	if err != nil {
		return nil, err
	}
	sc := in.StateConfiguration
	if sc == nil {
		sc = &awsapi.TestStateConfiguration{}
	}
	if sc.MapIterationFailureCount != nil && mock == nil {
		return nil, errValidation("TestState does not support MapIterationFailureCount when a mock is not specified.")
	}
	var readerData []any
	if sc.MapItemReaderData != nil {
		if st.Type != asl.TypeMap || st.ItemReader == nil {
			return nil, errValidation("mapItemReaderData can only be specified for a Map state with an ItemReader")
		}
		v, err := value.ParseString(*sc.MapItemReaderData)
		arr, ok := v.([]any)
		if err != nil || !ok {
			return nil, errValidation("mapItemReaderData must be a JSON array")
		}
		readerData = arr
	}
	if mock == nil {
		switch {
		case st.Type == asl.TypeMap || st.Type == asl.TypeParallel:
			return nil, awsapi.InvalidDefinition("TestState API does not support Map or Parallel states. Supported state types include: [Task, Wait, Pass, Succeed, Fail, Choice]")
		case st.Type == asl.TypeTask && engine.ResourceNeedsMock(st.Resource):
			return nil, errValidation("A mock must be specified when testing an Activity, .sync or .waitForTaskToken Task state")
		case st.Type == asl.TypeTask && in.RoleArn == nil:
			return nil, errValidation("RoleArn must be specified when testing a Task state")
		}
		if in.Context != nil {
			return nil, errValidation("A Context object can only be specified together with a mock")
		}
	}
	input := any(value.NewObject(0))
	if in.Input != nil {
		if input, err = value.ParseString(*in.Input); err != nil {
			return nil, errInvalidInput(err.Error())
		}
	}
	var vars *value.Object
	if in.Variables != nil {
		v, err := value.ParseString(*in.Variables)
		o, ok := v.(*value.Object)
		if err != nil || !ok {
			return nil, errValidation("Variables must be a JSON object")
		}
		vars = o
	}
	var ctxObj any
	if in.Context != nil {
		v, err := value.ParseString(*in.Context)
		o, ok := v.(*value.Object)
		if err != nil || !ok {
			return nil, errValidation("Invalid Context object provided: the Context object must be a JSON object")
		}
		if o.Has("Map") {
			return nil, errValidation("'Map' field is not supported when mocking a Context object")
		}
		for _, k := range o.Keys() {
			switch k {
			case "Execution", "State", "StateMachine", "Task":
			default:
				return nil, errValidation("Invalid Context object provided: Field '" + k + "' is not allowed")
			}
		}
		if ev, ok := o.Get("Execution"); ok {
			if eo, ok := ev.(*value.Object); ok {
				if id, ok := eo.Get("Id"); ok {
					if _, isStr := id.(string); !isStr {
						return nil, errValidation("Execution.Id must be a string")
					}
				}
			}
		}
		ctxObj = o
	}
	ti := &engine.TestInput{
		State: st, Input: input, Vars: vars, Context: ctxObj, Mock: mock, Timeout: testStateTimeout,
		MapIterationFailureCount: sc.MapIterationFailureCount, ItemReaderData: readerData,
		Execution: engine.Execution{
			ARN: s.scope.ExecutionARN("TestStateMachine", uuid.New()), Name: "TestState",
			StateMachineARN: s.scope.StateMachineARN("TestStateMachine"), StateMachineName: "TestStateMachine",
			RoleARN: deref(in.RoleArn), Type: typeStandard, Input: value.String(input), StartTime: s.now(),
		},
	}
	if sc.RetrierRetryCount != nil {
		ti.RetrierRetryCount = *sc.RetrierRetryCount
	}
	res := s.exec.TestState(ctx, ti)
	if res.Invalid != "" {
		return nil, errValidation(res.Invalid)
	}
	out := testStateOutput{Output: res.Output, Error: res.Error, Cause: res.Cause, NextState: res.NextState, Status: res.Status}
	if level != "INFO" {
		d := res.Inspect
		out.InspectionData = &inspectionData{
			Input: d.Input, AfterArguments: d.AfterArguments, AfterInputPath: d.AfterInputPath, AfterParameters: d.AfterParameters, Result: d.Result,
			AfterResultSelector: d.AfterResultSelector, AfterResultPath: d.AfterResultPath, Variables: d.Variables,
			AfterItemsPath: d.AfterItemsPath, AfterItemSelector: d.AfterItemSelector, ToleratedFailureCount: d.ToleratedFailureCount,
			ToleratedFailurePercentage: d.ToleratedFailurePercentage, MaxConcurrency: d.MaxConcurrency,
		}
		if e := d.ErrorDetails; e != nil {
			out.InspectionData.ErrorDetails = &inspectionErrorDetails{e.CatchIndex, e.RetryIndex, e.RetryBackoffIntervalSeconds}
		}
		if level == "TRACE" {
			out.InspectionData.Request, out.InspectionData.Response = httpTrace(res)
		}
	}
	return out, nil
}

// httpTrace rebuilds an HTTP Task's request from its effective parameters
// and its response from its result.
func httpTrace(res *engine.TestResult) (*inspectionRequest, *inspectionResponse) {
	var req *inspectionRequest
	if p := res.Inspect.AfterParameters; p != nil {
		if v, err := value.ParseString(*p); err == nil {
			if o, ok := v.(*value.Object); ok {
				req = &inspectionRequest{}
				endpoint := stringMember(o, "ApiEndpoint")
				req.Method = stringMember(o, "Method")
				if u, err := url.Parse(endpoint); err == nil {
					req.Protocol = u.Scheme
					if qv, ok := o.Get("QueryParameters"); ok {
						if qo, ok := qv.(*value.Object); ok {
							q := u.Query()
							for _, k := range qo.Keys() {
								x, _ := qo.Get(k)
								q.Add(k, plainText(x))
							}
							u.RawQuery = q.Encode()
						}
					}
					req.URL = u.String()
				}
				if h, ok := o.Get("Headers"); ok {
					req.Headers = value.String(h)
				}
				if b, ok := o.Get("RequestBody"); ok {
					req.Body = plainText(b)
				}
			}
		}
	}
	var result any
	switch {
	case res.Inspect.Result != nil:
		result, _ = value.ParseString(*res.Inspect.Result)
	case res.Error != nil && strings.HasPrefix(*res.Error, "States.Http.StatusCode.") && res.Cause != nil:
		result, _ = value.ParseString(*res.Cause)
	}
	o, ok := result.(*value.Object)
	if !ok {
		return req, nil
	}
	resp := &inspectionResponse{StatusMessage: stringMember(o, "StatusText")}
	if req != nil {
		resp.Protocol = req.Protocol
	}
	if sc, ok := o.Get("StatusCode"); ok {
		resp.StatusCode = plainText(sc)
	}
	if h, ok := o.Get("Headers"); ok {
		resp.Headers = value.String(h)
	}
	if b, ok := o.Get("ResponseBody"); ok {
		resp.Body = plainText(b)
	}
	return req, resp
}

func stringMember(o *value.Object, k string) string {
	v, _ := o.Get(k)
	s, _ := v.(string)
	return s
}

// plainText is a string as is, any other value as JSON.
func plainText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return value.String(v)
}

// testMock checks the request's mock against the state under test.
func testMock(in *awsapi.TestStateInput, st *asl.State) (*engine.TestMock, error) {
	m := in.Mock
	if m == nil {
		return nil, nil
	}
	if in.RevealSecrets != nil && *in.RevealSecrets {
		return nil, errValidation("TestState does not support RevealSecrets when a mock is specified.")
	}
	if (m.Result == nil) == (m.ErrorOutput == nil) {
		return nil, errValidation("A test mock should have only one of the following fields: [result, errorOutput].")
	}
	switch st.Type {
	case asl.TypeTask, asl.TypeMap, asl.TypeParallel:
	default:
		return nil, errValidation("State type '" + string(st.Type) + "' is not supported when a mock is specified")
	}
	if e := m.ErrorOutput; e != nil {
		fe := &fault.Error{}
		if e.Error != nil {
			fe.Name, fe.HasName = *e.Error, true
		}
		if e.Cause != nil {
			fe.Cause, fe.HasCause = *e.Cause, true
		}
		return &engine.TestMock{Error: fe}, nil
	}
	v, err := value.ParseString(*m.Result)
	if err != nil {
		return nil, errValidation("Mocked result must be valid JSON")
	}
	switch st.Type {
	case asl.TypeMap:
		_, isArr := v.([]any)
		_, isObj := v.(*value.Object)
		if st.ResultWriter != nil && !isObj {
			return nil, errValidation("Mocked result must be a JSON object.")
		}
		if st.ResultWriter == nil && !isArr {
			return nil, errValidation("Mocked result must be an array.")
		}
	case asl.TypeParallel:
		arr, ok := v.([]any)
		if !ok || len(arr) != len(st.Branches) {
			return nil, errValidation("Mocked result must contain the same number of items as number of Parallel branches.")
		}
	}
	return &engine.TestMock{Result: v}, nil
}
