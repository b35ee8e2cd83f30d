package nested

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/value"
)

// fakeService runs "child executions" that end as configured.
type fakeService struct {
	mu      sync.Mutex
	started []StartRequest
	stopped []string
	end     func(req StartRequest) *Execution // nil result: never ends
	err     error
	waiting chan struct{} // if set, told when WaitExecution waits for ctx
}

var start = time.UnixMilli(1688118139478)

func (f *fakeService) StartExecution(ctx context.Context, req StartRequest) (*Started, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	f.started = append(f.started, req)
	return &Started{ExecutionARN: "arn:aws:states:us-east-1:111111111111:execution:" + smName(req.StateMachineARN) + ":" + req.Name, StartDate: start}, nil
}

func smName(arn string) string { return arn[strings.LastIndexByte(arn, ':')+1:] }

func (f *fakeService) WaitExecution(ctx context.Context, arn string) (*Execution, error) {
	f.mu.Lock()
	req := f.started[len(f.started)-1]
	f.mu.Unlock()
	if x := f.end(req); x != nil {
		x.ExecutionARN, x.Name, x.Input = arn, req.Name, req.Input
		x.StateMachineARN = req.StateMachineARN
		x.StartDate, x.StopDate = start, start.Add(time.Second)
		return x, nil
	}
	select {
	case f.waiting <- struct{}{}: // buffered: the first wait is told
	default:
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

func (f *fakeService) StopExecution(ctx context.Context, arn, e, c string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped = append(f.stopped, arn)
	return nil
}

const childARN = "arn:aws:states:us-east-1:111111111111:stateMachine:statemachine_create_and_record_execution_3a01f300"

func params(input string) any {
	return value.MustParse(`{"StateMachineArn":"` + childARN + `","Name":"TestStartTarget","Input":` + input + `}`)
}

func succeed(out string) func(StartRequest) *Execution {
	return func(StartRequest) *Execution {
		zero := 0
		return &Execution{Status: "SUCCEEDED", Output: &out, RedriveCount: &zero, RedriveStatus: "NOT_REDRIVABLE",
			RedriveStatusReason: "Execution is SUCCEEDED and cannot be redriven"}
	}
}

func TestRequestResponse(t *testing.T) {
	svc := &fakeService{end: succeed(`{}`)}
	inv := New(svc, nil)
	res, err := inv.Invoke(context.Background(), &engine.Task{Resource: "arn:aws:states:::states:startExecution", Input: params(`{"Hello":"World"}`)})
	if err != nil {
		t.Fatal(err)
	}
	o := res.(*value.Object)
	if got := strings.Join(o.Keys(), ","); got != "ExecutionArn,SdkHttpMetadata,SdkResponseMetadata,StartDate" {
		t.Errorf("keys = %s", got)
	}
	meta, _ := o.Get("SdkHttpMetadata")
	hh, _ := meta.(*value.Object).Get("HttpHeaders")
	// AWS's recorded length for this ARN and start date.
	if cl, _ := hh.(*value.Object).Get("Content-Length"); cl != "161" {
		t.Errorf("Content-Length = %v, want 161", cl)
	}
	if v, _ := o.Get("StartDate"); v != int64(1688118139478) {
		t.Errorf("StartDate = %v", v)
	}
	if svc.started[0].Input != `{"Hello":"World"}` || svc.started[0].Name != "TestStartTarget" {
		t.Errorf("started %+v", svc.started[0])
	}
}

func TestInputForms(t *testing.T) {
	tests := []struct{ params, want string }{
		{`{"StateMachineArn":"a"}`, `{}`},
		{`{"StateMachineArn":"a","Input":null}`, `{}`},
		{`{"StateMachineArn":"a","Input":"\"InputFromTrustedAccount\""}`, `"InputFromTrustedAccount"`},
		{`{"StateMachineArn":"a","Input":[1,2.5]}`, `[1,2.5]`},
		{`{"StateMachineArn":"a","Input":{"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID":"arn:x"}}`, `{"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID":"arn:x"}`},
	}
	for _, tt := range tests {
		req, fe := request(value.MustParse(tt.params))
		if fe != nil || req.Input != tt.want {
			t.Errorf("request(%s) = %q, %v; want %q", tt.params, req.Input, fe, tt.want)
		}
	}
	for _, bad := range []string{`[]`, `{"StateMachineArn":1}`, `{"StateMachineArn":"a","Name":{}}`} {
		if _, fe := request(value.MustParse(bad)); fe == nil || fe.Name != fault.Runtime {
			t.Errorf("request(%s): want States.Runtime, got %v", bad, fe)
		}
	}
}

func TestSync(t *testing.T) {
	for _, tt := range []struct {
		resource, want string
	}{
		{"arn:aws:states:::states:startExecution.sync", `"Input":"{}","InputDetails":{"Included":true},"Name":"TestStartTarget","Output":"{\"Arg1\":\"argument1\"}","OutputDetails":{"Included":true},"RedriveCount":0,"RedriveStatus":"NOT_REDRIVABLE","RedriveStatusReason":"Execution is SUCCEEDED and cannot be redriven","StartDate":1688118139478,"StateMachineArn":"` + childARN + `","Status":"SUCCEEDED","StopDate":1688118140478}`},
		{"arn:aws:states:::states:startExecution.sync:2", `"Input":{},"InputDetails":{"Included":true},"Name":"TestStartTarget","Output":{"Arg1":"argument1"},"OutputDetails":{"Included":true},"RedriveCount":0,`},
	} {
		svc := &fakeService{end: succeed(`{"Arg1":"argument1"}`)}
		var submitted any
		task := &engine.Task{Resource: tt.resource, Input: params(`null`), Submitted: func(v any) { submitted = v }}
		res, err := New(svc, nil).Invoke(context.Background(), task)
		if err != nil {
			t.Fatal(err)
		}
		if got := value.String(res); !strings.Contains(got, tt.want) {
			t.Errorf("%s: result %s\nwant it to contain %s", tt.resource, got, tt.want)
		}
		if o, ok := submitted.(*value.Object); !ok || !o.Has("SdkHttpMetadata") {
			t.Errorf("%s: submitted %v", tt.resource, submitted)
		}
	}
}

func TestSyncFailure(t *testing.T) {
	svc := &fakeService{end: func(StartRequest) *Execution {
		e, c := "SomeFailure", "This state machines raises a 'SomeFailure' failure."
		zero := 0
		return &Execution{Status: "FAILED", Error: &e, Cause: &c, RedriveCount: &zero, RedriveStatus: "REDRIVABLE"}
	}}
	_, err := New(svc, nil).Invoke(context.Background(), &engine.Task{Resource: "arn:aws:states:::states:startExecution.sync", Input: params(`null`)})
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Name != fault.TaskFailed {
		t.Fatalf("err = %v", err)
	}
	want := `{"Cause":"This state machines raises a 'SomeFailure' failure.","Error":"SomeFailure","ExecutionArn":`
	if !strings.HasPrefix(fe.Cause, want) || !strings.Contains(fe.Cause, `"Status":"FAILED"`) || strings.Contains(fe.Cause, `"Output"`) {
		t.Errorf("cause = %s", fe.Cause)
	}
}

func TestServiceError(t *testing.T) {
	svc := &fakeService{err: &APIError{Code: "StateMachineDoesNotExist", Message: "State Machine Does Not Exist: 'arn:x'"}}
	_, err := New(svc, nil).Invoke(context.Background(), &engine.Task{Resource: "arn:aws:states:::states:startExecution", Input: params(`null`)})
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Name != "StepFunctions.StateMachineDoesNotExistException" ||
		!strings.HasPrefix(fe.Cause, "State Machine Does Not Exist: 'arn:x' (Service: AWSStepFunctions; Status Code: 400; Error Code: StateMachineDoesNotExist; Request ID: ") ||
		!strings.HasSuffix(fe.Cause, "; Proxy: null)") {
		t.Errorf("err = %v", err)
	}
}

func TestCancelStopsChild(t *testing.T) {
	svc := &fakeService{end: func(StartRequest) *Execution { return nil }, waiting: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-svc.waiting; cancel() }() // the parent stops while the child runs
	_, err := New(svc, nil).Invoke(ctx, &engine.Task{Resource: "arn:aws:states:::states:startExecution.sync:2", Input: params(`{}`)})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
	if len(svc.stopped) != 1 {
		t.Errorf("stopped = %v, want the child", svc.stopped)
	}
}

type tokens struct{}

func (tokens) Await(ctx context.Context, t *engine.Task, submit func(context.Context) (any, error)) (any, error) {
	resp, err := submit(ctx)
	if err != nil {
		return nil, err
	}
	t.Submitted(resp)
	return "from callback", nil
}

func TestWaitForTaskToken(t *testing.T) {
	svc := &fakeService{end: succeed(`{}`)}
	inv := New(svc, nil)
	task := &engine.Task{Resource: "arn:aws:states:::states:startExecution.waitForTaskToken", Input: params(`{}`), TaskToken: "tok"}
	if _, err := inv.Invoke(context.Background(), task); err == nil {
		t.Error("without a TokenWaiter: want States.Runtime")
	}
	inv = New(svc, tokens{})
	var submitted bool
	task.Submitted = func(any) { submitted = true }
	res, err := inv.Invoke(context.Background(), task)
	if err != nil || res != "from callback" || !submitted {
		t.Errorf("res = %v, %v, submitted %v", res, err, submitted)
	}
}

func TestHandles(t *testing.T) {
	for r, want := range map[string]bool{
		"arn:aws:states:::states:startExecution":                  true,
		"arn:aws:states:::states:startExecution.sync":             true,
		"arn:aws-cn:states:::states:startExecution.sync:2":        true,
		"arn:aws:states:::states:startExecution.waitForTaskToken": true,
		"arn:aws:states:::states:startExecution.sync:3":           false,
		"arn:aws:states:::lambda:invoke":                          false,
		"states:startExecution":                                   false,
	} {
		if Handles(r) != want {
			t.Errorf("Handles(%q) = %v", r, !want)
		}
	}
}

func TestShutdownLeavesChild(t *testing.T) {
	svc := &fakeService{end: func(StartRequest) *Execution { return nil }, waiting: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancelCause(context.Background())
	go func() { <-svc.waiting; cancel(engine.ErrShutdown) }() // the shutdown comes while the child runs
	_, err := New(svc, nil).Invoke(ctx, &engine.Task{Resource: "arn:aws:states:::states:startExecution.sync", Input: params(`{}`)})
	if !errors.Is(err, context.Canceled) || len(svc.stopped) != 0 {
		t.Errorf("err = %v, stopped = %v", err, svc.stopped)
	}
}

// broker completes a token when complete is closed (or sent a value).
type broker struct {
	complete chan any
	awaited  chan error    // the Await's end
	gate     chan struct{} // if set, received from between the submit and its Submitted call
}

func (b *broker) Await(ctx context.Context, t *engine.Task, submit func(context.Context) (any, error)) (any, error) {
	resp, err := submit(ctx)
	if err != nil {
		return nil, err
	}
	if b.gate != nil {
		<-b.gate
	}
	if t.Submitted != nil {
		t.Submitted(resp)
	}
	select {
	case v := <-b.complete:
		b.awaited <- nil
		return v, nil
	case <-ctx.Done():
		b.awaited <- ctx.Err()
		return nil, ctx.Err()
	}
}

func TestSyncWithToken(t *testing.T) {
	newTask := func() (*engine.Task, *int) {
		n := 0
		return &engine.Task{Resource: "arn:aws:states:::states:startExecution.sync", Input: params(`{}`), TaskToken: "tok",
			Submitted: func(any) { n++ }}, &n
	}
	// The callback comes first: its output is the result; the child runs on.
	svc := &fakeService{end: func(StartRequest) *Execution { return nil }}
	b := &broker{complete: make(chan any, 1), awaited: make(chan error, 1)}
	inv := New(svc, b)
	b.complete <- "early"
	task, submitted := newTask()
	res, err := inv.Invoke(context.Background(), task)
	if err != nil || res != "early" || *submitted != 1 || len(svc.stopped) != 0 {
		t.Errorf("callback first: %v, %v, submitted %d, stopped %v", res, err, *submitted, svc.stopped)
	}

	// The child ends first: its description is the result and the token closes.
	svc = &fakeService{end: succeed(`{"x":1}`)}
	b = &broker{complete: make(chan any), awaited: make(chan error, 1)}
	inv = New(svc, b)
	task, _ = newTask()
	res, err = inv.Invoke(context.Background(), task)
	if err != nil || !strings.Contains(value.String(res), `"Output":"{\"x\":1}"`) {
		t.Errorf("child first: %v, %v", res, err)
	}
	if aerr := <-b.awaited; !errors.Is(aerr, context.Canceled) {
		t.Errorf("token after the child ended: %v", aerr)
	}

	// The child ends before the token's Await goes on after the start:
	// TaskSubmitted is recorded all the same, before Invoke returns (it
	// was missing from tests/e2e's .sync history under load).
	svc = &fakeService{end: succeed(`{}`)}
	b = &broker{complete: make(chan any), awaited: make(chan error, 1), gate: make(chan struct{})}
	inv = New(svc, b)
	task, submitted = newTask()
	if _, err = inv.Invoke(context.Background(), task); err != nil || *submitted != 1 {
		t.Errorf("child ended at once: %v, submitted %d before Invoke returned, want 1", err, *submitted)
	}
	close(b.gate)
	<-b.awaited
	if *submitted != 1 {
		t.Errorf("submitted %d times, want 1", *submitted)
	}

	// The parent is stopped: the child is stopped too.
	svc = &fakeService{end: func(StartRequest) *Execution { return nil }, waiting: make(chan struct{}, 1)}
	b = &broker{complete: make(chan any), awaited: make(chan error, 1)}
	inv = New(svc, b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-svc.waiting; cancel() }()
	task, _ = newTask()
	if _, err = inv.Invoke(ctx, task); !errors.Is(err, context.Canceled) || len(svc.stopped) != 1 {
		t.Errorf("stopped parent: %v, stopped %v", err, svc.stopped)
	}

	// A start that fails fails the task.
	svc = &fakeService{err: &APIError{Code: "StateMachineDoesNotExist", Message: "m"}}
	inv = New(svc, &broker{complete: make(chan any), awaited: make(chan error, 1)})
	task, _ = newTask()
	var fe *fault.Error
	if _, err = inv.Invoke(context.Background(), task); !errors.As(err, &fe) || fe.Name != "StepFunctions.StateMachineDoesNotExistException" {
		t.Errorf("failed start: %v", err)
	}
}
