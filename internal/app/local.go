package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/stepwell/stepwell/api"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/executions"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/integrations/nested"
	"github.com/stepwell/stepwell/internal/clock"
)

// localAPI calls the server's own Step Functions API in process, so that
// integrations which start executions (states:startExecution) go through
// exactly what a client's request would: validation, errors, test cases.
// It implements nested.Service, and nested.TokenWaiter through tokens.
// srv, svc and tokens are set once the server exists.
type localAPI struct {
	srv    *api.Server
	svc    *executions.Service // tells when executions end (may be nil)
	tokens nested.TokenWaiter
	clock  clock.Clock // times the polls of WaitExecution (nil: clock.Real)
}

var (
	_ nested.Service     = (*localAPI)(nil)
	_ nested.TokenWaiter = (*localAPI)(nil)
)

// Await implements nested.TokenWaiter with the server's task tokens.
func (l *localAPI) Await(ctx context.Context, t *engine.Task, submit func(ctx context.Context) (any, error)) (any, error) {
	if l.tokens == nil {
		return nil, fault.New(fault.Runtime, "The resource '"+t.Resource+"' needs task tokens, which this server does not provide.")
	}
	return l.tokens.Await(ctx, t, submit)
}

// memResponse is an http.ResponseWriter that keeps the response in memory.
type memResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (m *memResponse) Header() http.Header { return m.header }
func (m *memResponse) WriteHeader(code int) {
	if m.status == 0 {
		m.status = code
	}
}
func (m *memResponse) Write(b []byte) (int, error) {
	if m.status == 0 {
		m.status = http.StatusOK
	}
	return m.body.Write(b)
}

// call runs one API action with in as the request and decodes the
// response into out. API errors are *nested.APIError.
func (l *localAPI) call(ctx context.Context, action string, in, out any) error {
	if l.srv == nil {
		return errors.New("local api: server not ready")
	}
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "/", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("X-Amz-Target", "AWSStepFunctions."+action)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	w := &memResponse{header: http.Header{}}
	l.srv.ServeHTTP(w, req)
	if w.status != http.StatusOK {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(w.body.Bytes(), &e); err != nil || e.Type == "" {
			return errors.New("local api: " + action + ": HTTP " + http.StatusText(w.status))
		}
		code := e.Type
		if i := strings.LastIndexByte(code, '#'); i >= 0 {
			code = code[i+1:]
		}
		return &nested.APIError{Code: code, Message: e.Message}
	}
	return json.Unmarshal(w.body.Bytes(), out)
}

// epochTime decodes an epoch-seconds timestamp.
type epochTime struct{ time.Time }

func (t *epochTime) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	t.Time = time.UnixMilli(int64(math.Round(f * 1000)))
	return nil
}

// StartExecution implements nested.Service.
func (l *localAPI) StartExecution(ctx context.Context, r nested.StartRequest) (*nested.Started, error) {
	in := map[string]any{"stateMachineArn": r.StateMachineARN, "input": r.Input}
	if r.Name != "" {
		in["name"] = r.Name
	}
	var out struct {
		ExecutionArn string    `json:"executionArn"`
		StartDate    epochTime `json:"startDate"`
	}
	if err := l.call(ctx, "StartExecution", in, &out); err != nil {
		return nil, err
	}
	return &nested.Started{ExecutionARN: out.ExecutionArn, StartDate: out.StartDate.Time}, nil
}

// describeOutput is DescribeExecution's response.
type describeOutput struct {
	ExecutionArn        string    `json:"executionArn"`
	StateMachineArn     string    `json:"stateMachineArn"`
	Name                string    `json:"name"`
	Status              string    `json:"status"`
	StartDate           epochTime `json:"startDate"`
	StopDate            epochTime `json:"stopDate"`
	Input               string    `json:"input"`
	Output              *string   `json:"output"`
	Error               *string   `json:"error"`
	Cause               *string   `json:"cause"`
	RedriveCount        *int      `json:"redriveCount"`
	RedriveStatus       string    `json:"redriveStatus"`
	RedriveStatusReason string    `json:"redriveStatusReason"`
}

// WaitExecution implements nested.Service: DescribeExecution once the
// executions service says the execution has ended, or, for one it does
// not drive (yet: after a restart, a parent can be resumed before its
// child), by polling, quickly at first, then every 50 ms of the clock.
func (l *localAPI) WaitExecution(ctx context.Context, arn string) (*nested.Execution, error) {
	clk := l.clock
	if clk == nil {
		clk = clock.Real{}
	}
	delay := time.Millisecond
	for {
		// Asked before describing: the execution cannot end unseen.
		var ended <-chan struct{}
		if l.svc != nil {
			ended = l.svc.Ended(arn)
		}
		var d describeOutput
		if err := l.call(ctx, "DescribeExecution", map[string]any{"executionArn": arn}, &d); err != nil {
			return nil, err
		}
		if d.Status != "RUNNING" && d.Status != "" {
			return &nested.Execution{
				ExecutionARN: d.ExecutionArn, StateMachineARN: d.StateMachineArn, Name: d.Name, Status: d.Status,
				Input: d.Input, Output: d.Output, Error: d.Error, Cause: d.Cause,
				StartDate: d.StartDate.Time, StopDate: d.StopDate.Time,
				RedriveCount: d.RedriveCount, RedriveStatus: d.RedriveStatus, RedriveStatusReason: d.RedriveStatusReason,
			}, nil
		}
		if ended != nil {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-ended:
			}
			continue
		}
		t := clk.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C():
		}
		if delay < 50*time.Millisecond {
			delay *= 2
		}
	}
}

// StopExecution implements nested.Service.
func (l *localAPI) StopExecution(ctx context.Context, arn, errName, cause string) error {
	in := map[string]any{"executionArn": arn}
	if errName != "" {
		in["error"] = errName
	}
	if cause != "" {
		in["cause"] = cause
	}
	var out struct{}
	return l.call(ctx, "StopExecution", in, &out)
}
