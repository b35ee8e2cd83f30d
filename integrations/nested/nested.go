// Package nested runs Task states that start other Step Functions
// executions: arn:aws:states:::states:startExecution with the request
// response pattern, .sync, .sync:2 and .waitForTaskToken.
//
// The package talks to the Step Functions service through the small Service
// interface; internal/app implements it over the server's own API, so a
// child execution is a real execution, visible through the API like any
// other. Results are shaped as AWS shapes them:
//
//   - request response: {ExecutionArn, SdkHttpMetadata, SdkResponseMetadata,
//     StartDate}, the StartExecution response as the AWS Java SDK shows it;
//   - .sync: the child's DescribeExecution in PascalCase, Input and Output
//     as JSON text;
//   - .sync:2: the same with Input and Output as JSON values.
//
// A child that does not succeed fails the task with States.TaskFailed and
// the same description (with Error and Cause) as JSON text for the cause.
// Service errors are named StepFunctions.<Code>Exception with the AWS SDK's
// cause text.
package nested

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/internal/uuid"
	"github.com/stepwell/stepwell/value"
)

// Service is what the integration needs from the Step Functions service.
type Service interface {
	// StartExecution starts an execution as the StartExecution API does.
	// Service errors are returned as *APIError.
	StartExecution(ctx context.Context, req StartRequest) (*Started, error)
	// WaitExecution blocks until the execution has ended, or ctx is done,
	// and returns its description.
	WaitExecution(ctx context.Context, executionARN string) (*Execution, error)
	// StopExecution stops a running execution (the parent's task was
	// cancelled); an execution that has ended is left as it is.
	StopExecution(ctx context.Context, executionARN, errName, cause string) error
}

// TokenWaiter completes .waitForTaskToken tasks (tasktoken.Broker is
// one): Await opens t.TaskToken, runs submit (the request that hands the
// token on), records its result with t.Submitted, then blocks until
// SendTaskSuccess or SendTaskFailure names the token (or a heartbeat
// timeout or ctx ends the wait) and returns the task's result or error.
type TokenWaiter interface {
	Await(ctx context.Context, t *engine.Task, submit func(ctx context.Context) (any, error)) (any, error)
}

// StartRequest is a StartExecution request. Name may be empty (the service
// picks one); Input is JSON text.
type StartRequest struct {
	StateMachineARN string
	Name            string
	Input           string
}

// Started is StartExecution's response.
type Started struct {
	ExecutionARN string
	StartDate    time.Time
}

// Execution is a DescribeExecution response.
type Execution struct {
	ExecutionARN        string
	StateMachineARN     string
	Name                string
	Status              string // RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED
	Input               string
	Output              *string
	Error               *string
	Cause               *string
	StartDate           time.Time
	StopDate            time.Time
	RedriveCount        *int
	RedriveStatus       string
	RedriveStatusReason string
}

// APIError is an error answered by the Step Functions API, e.g. Code
// "StateMachineDoesNotExist".
type APIError struct {
	Code    string
	Message string
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

// Invoker runs states:startExecution tasks. It implements engine.Invoker.
type Invoker struct {
	svc    Service
	tokens TokenWaiter // nil: .waitForTaskToken tasks fail
	// Now returns the current time, for the response's Date header
	// (default time.Now).
	Now func() time.Time
}

var _ engine.Invoker = (*Invoker)(nil)

// New returns an Invoker that starts executions through svc and completes
// tasks on their tokens with tokens: .waitForTaskToken tasks wait for
// theirs, and .sync tasks also end early when theirs is completed. With
// nil tokens, .waitForTaskToken tasks fail with States.Runtime and .sync
// tasks only wait for their child.
func New(svc Service, tokens TokenWaiter) *Invoker {
	return &Invoker{svc: svc, tokens: tokens, Now: time.Now}
}

// Integration patterns.
const (
	modeNone = iota
	modeRequestResponse
	modeSync
	modeSync2
	modeCallback
)

func modeOf(resource string) int {
	rest, ok := strings.CutPrefix(resource, "arn:")
	if !ok {
		return modeNone
	}
	i := strings.IndexByte(rest, ':')
	if i < 1 {
		return modeNone
	}
	switch rest[i+1:] {
	case "states:::states:startExecution":
		return modeRequestResponse
	case "states:::states:startExecution.sync":
		return modeSync
	case "states:::states:startExecution.sync:2":
		return modeSync2
	case "states:::states:startExecution.waitForTaskToken":
		return modeCallback
	}
	return modeNone
}

// Handles reports whether resource is arn:<partition>:states:::states:startExecution
// with one of the supported suffixes.
func Handles(resource string) bool { return modeOf(resource) != modeNone }

// Invoke starts the child execution and, for .sync and .sync:2, waits for
// it to end. When ctx ends first (the parent was stopped or the task timed
// out) the child is stopped and ctx's error is returned; a server shutdown
// (engine.ErrShutdown) leaves the child running.
func (inv *Invoker) Invoke(ctx context.Context, t *engine.Task) (any, error) {
	mode := modeOf(t.Resource)
	if mode == modeNone {
		return nil, fault.New(fault.Runtime, "The resource '"+t.Resource+"' is not a Step Functions startExecution resource.")
	}
	if mode == modeCallback && inv.tokens == nil {
		return nil, fault.New(fault.Runtime, "The resource '"+t.Resource+"' needs task tokens, which this server does not provide.")
	}
	req, fe := request(t.Input)
	if fe != nil {
		return nil, fe
	}
	start := func(ctx context.Context) (*Started, any, error) {
		started, err := inv.svc.StartExecution(ctx, req)
		if err != nil {
			return nil, nil, inv.serviceError(ctx, err)
		}
		return started, inv.startResponse(started), nil
	}
	if mode == modeCallback {
		// The token is open before the child starts: it may call back at once.
		return inv.tokens.Await(ctx, t, func(ctx context.Context) (any, error) {
			_, resp, err := start(ctx)
			return resp, err
		})
	}
	if mode != modeRequestResponse && t.TaskToken != "" && inv.tokens != nil {
		return inv.syncWithToken(ctx, t, mode == modeSync2, start)
	}
	started, resp, err := start(ctx)
	if err != nil {
		return nil, err
	}
	if mode == modeRequestResponse {
		return resp, nil
	}
	if t.Submitted != nil {
		t.Submitted(resp)
	}
	x, err := inv.svc.WaitExecution(ctx, started.ExecutionARN)
	return inv.ended(ctx, started.ExecutionARN, x, err, mode == modeSync2)
}

// ended turns a .sync child's end (or the wait's error) into the task's
// result.
func (inv *Invoker) ended(ctx context.Context, arn string, x *Execution, err error, parsed bool) (any, error) {
	if err != nil {
		if ctx.Err() != nil {
			// A server shutdown leaves both running, to resume together.
			if !errors.Is(context.Cause(ctx), engine.ErrShutdown) {
				inv.stopChild(arn)
			}
			return nil, ctx.Err()
		}
		return nil, inv.serviceError(ctx, err)
	}
	desc := describe(x, parsed)
	if x.Status == "SUCCEEDED" {
		return desc, nil
	}
	return nil, fault.New(fault.TaskFailed, value.String(desc))
}

type outcome struct {
	v   any
	err error
}

// syncWithToken runs a .sync task that has a task token: it ends when the
// child ends or, earlier, when SendTaskSuccess or SendTaskFailure names the
// token (the child then keeps running, as on AWS).
func (inv *Invoker) syncWithToken(ctx context.Context, t *engine.Task, parsed bool,
	start func(context.Context) (*Started, any, error)) (any, error) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	startedc := make(chan *Started, 1)
	tok := make(chan outcome, 1)
	// Await opens the token before the child starts. TaskSubmitted is
	// recorded here, with the StartExecution response, before the child's
	// end can be waited for: were it left to Await, a child that ends at
	// once could end the task before Await's goroutine records it.
	awaited := *t
	awaited.Submitted = nil
	go func() {
		v, err := inv.tokens.Await(wctx, &awaited, func(ctx context.Context) (any, error) {
			s, resp, err := start(ctx)
			if err != nil {
				return nil, err
			}
			if t.Submitted != nil {
				t.Submitted(resp)
			}
			startedc <- s
			return resp, nil
		})
		tok <- outcome{v, err}
	}()
	var started *Started
	select {
	case started = <-startedc:
	case o := <-tok:
		if o.err != nil && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return o.v, o.err // the start failed, or the token was completed at once
	}
	type end struct {
		x   *Execution
		err error
	}
	child := make(chan end, 1)
	go func() {
		x, err := inv.svc.WaitExecution(wctx, started.ExecutionARN)
		child <- end{x, err}
	}()
	select {
	case o := <-tok:
		if o.err != nil && ctx.Err() != nil {
			return inv.ended(ctx, started.ExecutionARN, nil, ctx.Err(), parsed)
		}
		return o.v, o.err
	case c := <-child:
		return inv.ended(ctx, started.ExecutionARN, c.x, c.err, parsed)
	}
}

// stopChild makes AWS's best-effort cancellation of a .sync child.
func (inv *Invoker) stopChild(arn string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = inv.svc.StopExecution(ctx, arn, "", "")
}

// request reads the task's parameters: StateMachineArn, Name and Input (an
// object or any JSON value, or a string holding JSON text; absent or null
// is {}).
func request(in any) (StartRequest, *fault.Error) {
	var req StartRequest
	params, ok := in.(*value.Object)
	if !ok {
		return req, fault.New(fault.Runtime, "The Parameters of a states:startExecution task must be an object, got "+
			value.TypeName(in)+".")
	}
	if v, ok := params.Get("StateMachineArn"); ok {
		s, ok := v.(string)
		if !ok {
			return req, fault.New(fault.Runtime, "The field 'StateMachineArn' must be a string, got "+value.TypeName(v)+".")
		}
		req.StateMachineARN = s
	}
	if v, ok := params.Get("Name"); ok && v != nil {
		s, ok := v.(string)
		if !ok {
			return req, fault.New(fault.Runtime, "The field 'Name' must be a string, got "+value.TypeName(v)+".")
		}
		req.Name = s
	}
	req.Input = "{}"
	if v, ok := params.Get("Input"); ok && v != nil {
		if s, ok := v.(string); ok {
			req.Input = s
		} else {
			req.Input = value.String(v)
		}
	}
	return req, nil
}

// serviceError names a service error as the AWS SDK reports it.
func (inv *Invoker) serviceError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var ae *APIError
	if errors.As(err, &ae) {
		name := ae.Code
		if !strings.HasSuffix(name, "Exception") {
			name += "Exception"
		}
		return fault.New("StepFunctions."+name, ae.Message+" (Service: AWSStepFunctions; Status Code: 400; Error Code: "+
			ae.Code+"; Request ID: "+uuid.New()+"; Proxy: null)")
	}
	return fault.New(fault.TaskFailed, err.Error())
}

// startResponse shapes StartExecution's response as the AWS Java SDK
// shows it to Step Functions: the members, then the HTTP metadata.
func (inv *Invoker) startResponse(s *Started) *value.Object {
	// The response body AWS sends; its length is the Content-Length.
	body := `{"executionArn":` + string(value.AppendString(nil, s.ExecutionARN)) +
		`,"startDate":` + value.FormatFloat(float64(s.StartDate.UnixMilli())/1000) + `}`
	reqID := uuid.New()
	now := time.Now
	if inv.Now != nil {
		now = inv.Now
	}
	date := now().UTC().Format(time.RFC1123)
	date = strings.Replace(date, "UTC", "GMT", 1)
	length := strconv.Itoa(len(body))

	all := value.NewObject(5)
	all.Set("x-amzn-RequestId", []any{reqID})
	all.Set("connection", []any{"keep-alive"})
	all.Set("Content-Length", []any{length})
	all.Set("Date", []any{date})
	all.Set("Content-Type", []any{"application/x-amz-json-1.0"})
	single := value.NewObject(5)
	single.Set("connection", "keep-alive")
	single.Set("Content-Length", length)
	single.Set("Content-Type", "application/x-amz-json-1.0")
	single.Set("Date", date)
	single.Set("x-amzn-RequestId", reqID)
	meta := value.NewObject(3)
	meta.Set("AllHttpHeaders", all)
	meta.Set("HttpHeaders", single)
	meta.Set("HttpStatusCode", int64(200))
	rm := value.NewObject(1)
	rm.Set("RequestId", reqID)

	out := value.NewObject(4)
	out.Set("ExecutionArn", s.ExecutionARN)
	out.Set("SdkHttpMetadata", meta)
	out.Set("SdkResponseMetadata", rm)
	out.Set("StartDate", s.StartDate.UnixMilli())
	return out
}

// describe shapes a DescribeExecution response as .sync (Input and Output
// as text) or .sync:2 (parsed) return it, members in alphabetical order.
func describe(x *Execution, parsed bool) *value.Object {
	data := func(s string) any {
		if !parsed {
			return s
		}
		if v, err := value.ParseString(s); err == nil {
			return v
		}
		return s
	}
	included := value.NewObject(1)
	included.Set("Included", true)
	out := value.NewObject(16)
	if x.Cause != nil {
		out.Set("Cause", *x.Cause)
	}
	if x.Error != nil {
		out.Set("Error", *x.Error)
	}
	out.Set("ExecutionArn", x.ExecutionARN)
	out.Set("Input", data(x.Input))
	out.Set("InputDetails", included)
	out.Set("Name", x.Name)
	if x.Output != nil {
		out.Set("Output", data(*x.Output))
		out.Set("OutputDetails", included)
	}
	if x.RedriveCount != nil {
		out.Set("RedriveCount", int64(*x.RedriveCount))
	}
	if x.RedriveStatus != "" {
		out.Set("RedriveStatus", x.RedriveStatus)
	}
	if x.RedriveStatusReason != "" {
		out.Set("RedriveStatusReason", x.RedriveStatusReason)
	}
	out.Set("StartDate", x.StartDate.UnixMilli())
	out.Set("StateMachineArn", x.StateMachineARN)
	out.Set("Status", x.Status)
	if !x.StopDate.IsZero() {
		out.Set("StopDate", x.StopDate.UnixMilli())
	}
	return out
}
