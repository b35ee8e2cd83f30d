package api

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"time"

	"github.com/stepwell/stepwell/arn"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
)

const maxInputBytes = 262144

type startExecutionInput struct {
	StateMachineArn *string `json:"stateMachineArn"`
	Name            *string `json:"name"`
	Input           *string `json:"input"`
	TraceHeader     *string `json:"traceHeader"`
	IncludedData    *string `json:"includedData"`
}

type startExecutionOutput struct {
	ExecutionArn string `json:"executionArn"`
	StartDate    epoch  `json:"startDate"`
}

// TestCaseBinder binds executions to the mock test cases of Step Functions
// Local's mock configuration (integrations/mock.Invoker is one).
type TestCaseBinder interface {
	// Bind makes the execution use the test case of the state machine
	// named machine; it fails when the mock configuration has no such test
	// case.
	Bind(executionARN, machine, testCase string) error
	// Unbind forgets an execution that has ended.
	Unbind(executionARN string)
}

// rebindTestCase binds an execution resumed or redriven by this process to
// the test case it was started with (kept in its metadata). A test case the
// mock configuration no longer has leaves it unmocked, with a warning.
func (s *Server) rebindTestCase(x *engine.Execution, meta store.ExecutionMeta) {
	if meta.TestCase == "" || s.mocks == nil {
		return
	}
	if err := s.mocks.Bind(x.ARN, x.StateMachineName, meta.TestCase); err != nil {
		s.log.Warn("execution runs without its mocks", "arn", x.ARN, "testCase", meta.TestCase, "err", err)
	}
}

// bindTestCase binds a new execution to the test case it was started with.
func (s *Server) bindTestCase(r *startRequest, executionARN string) error {
	if r.testCase == "" {
		return nil
	}
	if err := s.mocks.Bind(executionARN, r.sm.Name, r.testCase); err != nil {
		return errValidation(err.Error())
	}
	return nil
}

// startRequest is a validated StartExecution or StartSyncExecution.
type startRequest struct {
	// testCase is the mock test case named after '#' in the ARN
	testCase string
	sm       *store.StateMachine
	name     string
	input    string
	trace    string
	// version and alias ARNs the execution was started through
	version, alias string
}

func (s *Server) checkStart(ctx context.Context, body []byte, sync bool) (*startRequest, *startExecutionInput, error) {
	var in startExecutionInput
	if err := decode(body, &in); err != nil {
		return nil, nil, err
	}
	var c checker
	c.str("stateMachineArn", in.StateMachineArn, true, 1, 256, false)
	c.str("name", in.Name, false, 1, 80, false)
	c.str("input", in.Input, false, 0, maxInputBytes, true)
	c.str("traceHeader", in.TraceHeader, false, 0, 256, false)
	c.ascii("traceHeader", in.TraceHeader)
	if sync {
		c.enum("includedData", in.IncludedData, "ALL_DATA", "METADATA_ONLY")
	}
	if err := c.err(); err != nil {
		return nil, nil, err
	}
	smARN, testCase := *in.StateMachineArn, ""
	if s.mocks != nil {
		if i := strings.IndexByte(smARN, '#'); i >= 0 {
			smARN, testCase = smARN[:i], smARN[i+1:]
		}
	}
	a, err := machineARN(smARN)
	if err != nil {
		return nil, nil, err
	}
	if a.Label != "" {
		return nil, nil, errValidation("Starting an execution of a labelled state machine ARN is not supported")
	}
	r := &startRequest{name: deref(in.Name), input: "{}", trace: deref(in.TraceHeader), testCase: testCase}
	if in.Name != nil && !arn.ValidName(r.name) {
		return nil, nil, errInvalidName(r.name)
	}
	if in.Input != nil {
		r.input = *in.Input
		if len(r.input) > maxInputBytes {
			return nil, nil, errInvalidInput("Input exceeds the maximum size of 262144 bytes.")
		}
		if !json.Valid([]byte(r.input)) {
			return nil, nil, errInvalidInput("Invalid execution input.")
		}
	}
	tgt, err := s.resolveStart(ctx, smARN)
	if err != nil {
		return nil, nil, err
	}
	r.sm, r.version, r.alias = tgt.sm, tgt.version, tgt.alias
	if r.name == "" {
		r.name = newUUID()
	}
	return r, &in, nil
}

func (s *Server) startExecution(ctx context.Context, body []byte) (any, error) {
	r, _, err := s.checkStart(ctx, body, false)
	if err != nil {
		return nil, err
	}
	compiled, err := s.compiled(r.sm)
	if err != nil {
		return nil, err
	}
	start := s.now()
	x := &store.Execution{
		Name: r.name, StateMachineARN: r.sm.ARN, StateMachineName: r.sm.Name, RevisionID: r.sm.RevisionID,
		Type: r.sm.Type, Status: store.StatusRunning, Input: r.input, TraceHeader: r.trace, StartDate: start,
	}
	st := s.st
	if r.sm.Type == typeExpress {
		st = s.express
		x.ARN = s.scope.ExpressARN(r.sm.Name, r.name, newUUID())
	} else {
		x.ARN = s.scope.ExecutionARN(r.sm.Name, r.name)
	}
	if err := s.bindTestCase(r, x.ARN); err != nil {
		return nil, err
	}
	if err := st.CreateExecution(ctx, x); err != nil {
		if !errors.Is(err, store.ErrAlreadyExists) {
			return nil, err
		}
		// Idempotent while running with the same input.
		old, gerr := st.GetExecution(ctx, x.ARN)
		if gerr == nil && old.Status == store.StatusRunning && old.Input == x.Input && old.StateMachineARN == x.StateMachineARN {
			return startExecutionOutput{ExecutionArn: old.ARN, StartDate: epoch(old.StartDate)}, nil
		}
		return nil, errExecutionAlreadyExists(x.ARN)
	}
	// A Standard execution's test case is kept with it so that it keeps its
	// mocks when resumed after a restart or redriven.
	testCase := ""
	if x.Type != typeExpress {
		testCase = r.testCase
	}
	if (r.version != "" || testCase != "") && s.ver != nil {
		if err := s.ver.PutExecutionMeta(ctx, x.ARN, store.ExecutionMeta{VersionARN: r.version, AliasARN: r.alias, TestCase: testCase}); err != nil {
			return nil, err
		}
	}
	ex := &engine.Execution{
		ARN: x.ARN, Name: x.Name, StateMachineARN: x.StateMachineARN, StateMachineName: x.StateMachineName,
		RoleARN: r.sm.RoleARN, Type: x.Type, Input: x.Input, StartTime: start, Machine: compiled,
	}
	s.launch(st, ex, x.Type == typeExpress, &recExtra{version: r.version, alias: r.alias})
	return startExecutionOutput{ExecutionArn: x.ARN, StartDate: epoch(start)}, nil
}

// launch starts an execution whose row exists in st and records its history
// there until it ends.
func (s *Server) launch(st store.Store, ex *engine.Execution, express bool, extra *recExtra) {
	if extra != nil {
		extra.s, extra.executionARN, extra.machine = s, ex.ARN, ex.Machine
	}
	rec := &recorder{st: st, arn: ex.ARN, extra: extra}
	ctx, cancel := s.ctx, context.CancelFunc(func() {})
	if express {
		ctx, cancel = context.WithTimeout(ctx, s.maxExpr)
	}
	s.wg.Add(1)
	s.mu.Lock()
	var run *engine.Run
	if extra != nil && extra.redrive != nil {
		run = s.eng.Resume(ctx, ex, extra.redrive.replay, rec) // redrive.go
	} else {
		run = s.eng.Start(ctx, ex, rec)
	}
	s.runs[ex.ARN] = run
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer cancel()
		<-run.Done()
		s.mu.Lock()
		delete(s.runs, ex.ARN)
		s.mu.Unlock()
		if s.mocks != nil {
			s.mocks.Unbind(ex.ARN)
		}
		// The recorder closes the execution with its terminal event; if
		// recording failed, close it from the result.
		res := run.Result()
		if !rec.closed {
			err := st.AppendHistory(context.Background(), ex.ARN, nil, endOf(res))
			// ErrNotFound: an Express store that keeps no closed
			// executions (--express-retention 0) may have dropped it.
			if err != nil && !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrNotFound) {
				s.log.Error("close execution", "arn", ex.ARN, "err", err)
			}
		}
	}()
}

func endOf(r engine.Result) *store.End {
	st := string(r.Status)
	if st == "" || st == store.StatusRunning {
		st = store.StatusFailed
	}
	stop := r.StopTime
	if stop.IsZero() {
		stop = time.Now()
	}
	return &store.End{Status: st, StopDate: stop, Output: r.Output, Error: r.Error, Cause: r.Cause}
}

// recorder appends an execution's history to a store and closes the
// execution with its terminal event. The engine calls it from one
// goroutine at a time.
type recorder struct {
	st     store.Store
	arn    string
	closed bool
	extra  *recExtra // versions, aliases and Map Runs (mapruns.go); may be nil
}

func (r *recorder) Record(events []history.Event) error {
	events = r.extra.before(events)
	var end *store.End
	if n := len(events); n > 0 {
		end = terminal(&events[n-1])
	}
	if err := r.st.AppendHistory(context.Background(), r.arn, events, end); err != nil {
		return err
	}
	r.extra.after(events)
	if end != nil {
		r.closed = true
	}
	return nil
}

// terminal returns how an execution ends if e is its terminal event.
func terminal(e *history.Event) *store.End {
	end := &store.End{StopDate: e.Timestamp}
	switch e.Type {
	case history.ExecutionSucceeded:
		end.Status = store.StatusSucceeded
		out := "{}"
		if d := e.ExecutionSucceededEventDetails; d != nil {
			out = d.Output
		}
		end.Output = &out
	case history.ExecutionFailed:
		end.Status = store.StatusFailed
		if d := e.ExecutionFailedEventDetails; d != nil {
			end.Error, end.Cause = d.Error, d.Cause
		}
	case history.ExecutionAborted:
		end.Status = store.StatusAborted
		if d := e.ExecutionAbortedEventDetails; d != nil {
			end.Error, end.Cause = d.Error, d.Cause
		}
	case history.ExecutionTimedOut:
		end.Status = store.StatusTimedOut
		if d := e.ExecutionTimedOutEventDetails; d != nil {
			end.Error, end.Cause = d.Error, d.Cause
		}
	default:
		return nil
	}
	return end
}

type dataDetails struct {
	Included bool `json:"included"`
}

type billingDetails struct {
	BilledMemoryUsedInMB         int64 `json:"billedMemoryUsedInMB"`
	BilledDurationInMilliseconds int64 `json:"billedDurationInMilliseconds"`
}

type startSyncExecutionOutput struct {
	ExecutionArn    string          `json:"executionArn"`
	StateMachineArn string          `json:"stateMachineArn"`
	Name            string          `json:"name"`
	StartDate       epoch           `json:"startDate"`
	StopDate        epoch           `json:"stopDate"`
	Status          string          `json:"status"`
	Error           *string         `json:"error,omitempty"`
	Cause           *string         `json:"cause,omitempty"`
	Input           *string         `json:"input,omitempty"`
	InputDetails    *dataDetails    `json:"inputDetails,omitempty"`
	Output          *string         `json:"output,omitempty"`
	OutputDetails   *dataDetails    `json:"outputDetails,omitempty"`
	TraceHeader     string          `json:"traceHeader,omitempty"`
	BillingDetails  *billingDetails `json:"billingDetails"`
}

func (s *Server) startSyncExecution(ctx context.Context, body []byte) (any, error) {
	r, in, err := s.checkStart(ctx, body, true)
	if err != nil {
		return nil, err
	}
	if r.sm.Type != typeExpress {
		return nil, errTypeNotSupported()
	}
	compiled, err := s.compiled(r.sm)
	if err != nil {
		return nil, err
	}
	start := s.now()
	ex := &engine.Execution{
		ARN: s.scope.ExpressARN(r.sm.Name, r.name, newUUID()), Name: r.name, StateMachineARN: r.sm.ARN,
		StateMachineName: r.sm.Name, RoleARN: r.sm.RoleARN, Type: typeExpress, Input: r.input, StartTime: start, Machine: compiled,
	}
	if err := s.bindTestCase(r, ex.ARN); err != nil {
		return nil, err
	}
	if r.testCase != "" {
		defer s.mocks.Unbind(ex.ARN)
	}
	ctx, cancel := context.WithTimeout(ctx, s.maxExpr)
	defer cancel()
	var res engine.Result
	if s.syncHist {
		if res, err = s.executeRecorded(ctx, ex, r); err != nil { // express.go
			return nil, err
		}
	} else {
		res = s.eng.Execute(ctx, ex, nil)
	}
	stop := res.StopTime
	if stop.IsZero() {
		stop = s.now()
	}
	status := string(res.Status)
	if status == store.StatusAborted {
		status = store.StatusFailed
	}
	ms := stop.Sub(start).Milliseconds()
	out := startSyncExecutionOutput{
		ExecutionArn: ex.ARN, StateMachineArn: r.sm.ARN, Name: r.name, StartDate: epoch(start), StopDate: epoch(stop),
		Status: status, Error: res.Error, Cause: res.Cause, TraceHeader: r.trace,
		BillingDetails: &billingDetails{BilledMemoryUsedInMB: 64, BilledDurationInMilliseconds: int64(math.Max(100, float64((ms+99)/100*100)))},
	}
	if deref(in.IncludedData) == "METADATA_ONLY" {
		out.InputDetails, out.OutputDetails = &dataDetails{false}, &dataDetails{false}
	} else {
		out.Input, out.InputDetails = &r.input, &dataDetails{true}
		if res.Status == engine.StatusSucceeded {
			out.Output, out.OutputDetails = res.Output, &dataDetails{true}
		}
	}
	return out, nil
}

type executionArnInput struct {
	ExecutionArn *string `json:"executionArn"`
	IncludedData *string `json:"includedData"`
}

// describedExecution decodes and checks the input of DescribeExecution and
// DescribeStateMachineForExecution: it returns the execution named and
// whether only its metadata was asked for (includedData=METADATA_ONLY).
func (s *Server) describedExecution(ctx context.Context, body []byte) (*store.Execution, bool, error) {
	var in executionArnInput
	if err := decode(body, &in); err != nil {
		return nil, false, err
	}
	var c checker
	c.str("executionArn", in.ExecutionArn, true, 1, 256, false)
	c.enum("includedData", in.IncludedData, "ALL_DATA", "METADATA_ONLY")
	if err := c.err(); err != nil {
		return nil, false, err
	}
	x, _, err := s.getExecution(ctx, *in.ExecutionArn)
	return x, deref(in.IncludedData) == "METADATA_ONLY", err
}

// getExecution returns the execution an ARN argument names and the store
// that holds it.
func (s *Server) getExecution(ctx context.Context, arnStr string) (*store.Execution, store.Store, error) {
	a, err := arn.Parse(arnStr)
	if err != nil {
		return nil, nil, errInvalidArn(err.Error())
	}
	st := s.st
	switch a.Type {
	case arn.Execution:
	case arn.Express:
		st = s.express
	default:
		return nil, nil, errInvalidArn("Resource type not valid in this context: " + string(a.Type))
	}
	x, err := st.GetExecution(ctx, arnStr)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, errExecutionDoesNotExist(arnStr)
	}
	return x, st, err
}

type stopExecutionInput struct {
	ExecutionArn *string `json:"executionArn"`
	Error        *string `json:"error"`
	Cause        *string `json:"cause"`
}

type stopExecutionOutput struct {
	StopDate epoch `json:"stopDate"`
}

func (s *Server) stopExecution(ctx context.Context, body []byte) (any, error) {
	var in stopExecutionInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var c checker
	c.str("executionArn", in.ExecutionArn, true, 1, 256, false)
	c.str("error", in.Error, false, 0, 256, true)
	c.str("cause", in.Cause, false, 0, 32768, true)
	if err := c.err(); err != nil {
		return nil, err
	}
	x, st, err := s.getExecution(ctx, *in.ExecutionArn)
	if err != nil {
		return nil, err
	}
	if x.Status != store.StatusRunning {
		return stopExecutionOutput{StopDate: epoch(x.StopDate)}, nil
	}
	s.mu.Lock()
	run := s.runs[x.ARN]
	s.mu.Unlock()
	if run != nil {
		run.Stop(deref(in.Error), deref(in.Cause))
		select {
		case <-run.Done():
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(10 * time.Second):
		}
	} else {
		// No run in this process (the server restarted): close it here.
		if err := s.abortOrphan(ctx, st, x, in.Error, in.Cause); err != nil && !errors.Is(err, store.ErrConflict) {
			return nil, err
		}
	}
	var stop time.Time
	// An Express store that keeps no closed executions forgets the
	// execution as soon as it has stopped: then it stopped now.
	if x, err = st.GetExecution(ctx, x.ARN); err == nil {
		stop = x.StopDate
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if stop.IsZero() {
		stop = s.now()
	}
	return stopExecutionOutput{StopDate: epoch(stop)}, nil
}

// abortOrphan closes a running execution that no engine run drives.
func (s *Server) abortOrphan(ctx context.Context, st store.Store, x *store.Execution, errName, cause *string) error {
	last, _, err := st.History(ctx, x.ARN, true, store.Page{Limit: 1})
	if err != nil {
		return err
	}
	var prev int64
	if len(last) == 1 {
		prev = last[0].ID
	}
	now := s.now()
	d := &history.ExecutionAbortedEventDetails{}
	if deref(errName) != "" {
		d.Error = errName
	}
	if deref(cause) != "" {
		d.Cause = cause
	}
	ev := history.Event{Timestamp: now, Type: history.ExecutionAborted, ID: prev + 1, PreviousEventID: prev, ExecutionAbortedEventDetails: d}
	return st.AppendHistory(ctx, x.ARN, []history.Event{ev},
		&store.End{Status: store.StatusAborted, StopDate: now, Error: d.Error, Cause: d.Cause})
}

type describeExecutionOutput struct {
	ExecutionArn           string       `json:"executionArn"`
	StateMachineArn        string       `json:"stateMachineArn"`
	Name                   string       `json:"name"`
	Status                 string       `json:"status"`
	StartDate              epoch        `json:"startDate"`
	StopDate               *epoch       `json:"stopDate,omitempty"`
	Input                  *string      `json:"input,omitempty"`
	InputDetails           *dataDetails `json:"inputDetails,omitempty"`
	Output                 *string      `json:"output,omitempty"`
	OutputDetails          *dataDetails `json:"outputDetails,omitempty"`
	TraceHeader            string       `json:"traceHeader,omitempty"`
	Error                  *string      `json:"error,omitempty"`
	Cause                  *string      `json:"cause,omitempty"`
	StateMachineVersionArn string       `json:"stateMachineVersionArn,omitempty"`
	StateMachineAliasArn   string       `json:"stateMachineAliasArn,omitempty"`
	RedriveCount           *int         `json:"redriveCount,omitempty"`
	RedriveDate            *epoch       `json:"redriveDate,omitempty"`
	RedriveStatus          string       `json:"redriveStatus,omitempty"`
	RedriveStatusReason    string       `json:"redriveStatusReason,omitempty"`
}

func (s *Server) describeExecution(ctx context.Context, body []byte) (any, error) {
	x, metadataOnly, err := s.describedExecution(ctx, body)
	if err != nil {
		return nil, err
	}
	out := describeExecutionOutput{
		ExecutionArn: x.ARN, StateMachineArn: x.StateMachineARN, Name: x.Name, Status: x.Status,
		StartDate: epoch(x.StartDate), StopDate: epochPtr(x.StopDate), TraceHeader: x.TraceHeader,
		Error: x.Error, Cause: x.Cause,
	}
	meta := s.executionMeta(ctx, x.ARN)
	out.StateMachineVersionArn, out.StateMachineAliasArn = meta.VersionARN, meta.AliasARN
	if metadataOnly {
		out.InputDetails = &dataDetails{false}
		if x.Status == store.StatusSucceeded {
			out.OutputDetails = &dataDetails{false}
		}
	} else {
		out.Input, out.InputDetails = &x.Input, &dataDetails{true}
		if x.Status == store.StatusSucceeded {
			out.Output, out.OutputDetails = x.Output, &dataDetails{true}
		}
	}
	if x.Type != typeExpress {
		rc := int(meta.RedriveCount)
		out.RedriveCount, out.RedriveDate = &rc, epochPtr(meta.RedriveDate)
		switch x.Status {
		case store.StatusRunning, store.StatusSucceeded:
			out.RedriveStatus = "NOT_REDRIVABLE"
			out.RedriveStatusReason = "Execution is " + x.Status + " and cannot be redriven"
		default:
			out.RedriveStatus = "REDRIVABLE"
		}
	}
	return out, nil
}

type listExecutionsInput struct {
	StateMachineArn *string `json:"stateMachineArn"`
	StatusFilter    *string `json:"statusFilter"`
	MaxResults      *int64  `json:"maxResults"`
	NextToken       *string `json:"nextToken"`
	MapRunArn       *string `json:"mapRunArn"`
	RedriveFilter   *string `json:"redriveFilter"`
}

type executionListItem struct {
	ExecutionArn           string `json:"executionArn"`
	StateMachineArn        string `json:"stateMachineArn"`
	Name                   string `json:"name"`
	Status                 string `json:"status"`
	StartDate              epoch  `json:"startDate"`
	StopDate               *epoch `json:"stopDate,omitempty"`
	StateMachineVersionArn string `json:"stateMachineVersionArn,omitempty"`
	StateMachineAliasArn   string `json:"stateMachineAliasArn,omitempty"`
	RedriveCount           *int   `json:"redriveCount,omitempty"`
	RedriveDate            *epoch `json:"redriveDate,omitempty"`
}

type listExecutionsOutput struct {
	Executions []executionListItem `json:"executions"`
	NextToken  string              `json:"nextToken,omitempty"`
}

func (s *Server) listExecutions(ctx context.Context, body []byte) (any, error) {
	var in listExecutionsInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var c checker
	c.str("stateMachineArn", in.StateMachineArn, false, 1, 256, false)
	c.enum("statusFilter", in.StatusFilter, "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE")
	c.intRange("maxResults", in.MaxResults, 0, 1000)
	c.str("nextToken", in.NextToken, false, 1, 3096, false)
	c.str("mapRunArn", in.MapRunArn, false, 1, 2000, false)
	c.enum("redriveFilter", in.RedriveFilter, "REDRIVEN", "NOT_REDRIVEN")
	if err := c.err(); err != nil {
		return nil, err
	}
	switch {
	case in.StateMachineArn != nil && in.MapRunArn != nil:
		return nil, errValidation("Only one of stateMachineArn and mapRunArn can be specified")
	case in.MapRunArn != nil:
		a, err := arn.Parse(*in.MapRunArn)
		if err != nil {
			return nil, errInvalidArn(err.Error())
		}
		if a.Type != arn.MapRun {
			return nil, errInvalidArn("Resource type not valid in this context: " + string(a.Type))
		}
		return nil, s.mapRunExecutions(ctx, *in.MapRunArn) // mapruns.go
	case in.StateMachineArn == nil:
		return nil, errValidation("Must specify either a stateMachineArn or a mapRunArn")
	}
	if deref(in.StatusFilter) == "PENDING_REDRIVE" {
		return nil, errValidation("PENDING_REDRIVE status filter is only supported together with mapRunArn")
	}
	machine, keep, err := s.qualifierFilter(ctx, *in.StateMachineArn)
	if err != nil {
		return nil, err
	}
	sm, err := s.getMachine(ctx, machine)
	if err != nil {
		return nil, err
	}
	if sm.Type == typeExpress {
		return nil, errTypeNotSupported()
	}
	out := listExecutionsOutput{Executions: []executionListItem{}}
	items, next, err := s.st.ListExecutions(ctx, store.ExecutionFilter{StateMachineARN: sm.ARN, Status: deref(in.StatusFilter)},
		store.Page{Limit: pageSize(in.MaxResults), Token: deref(in.NextToken)})
	if err != nil {
		return nil, storeErr(err)
	}
	out.NextToken = next
	for _, x := range items {
		if keep != nil && !keep(x) {
			continue
		}
		meta := s.executionMeta(ctx, x.ARN)
		if rf := deref(in.RedriveFilter); (rf == "REDRIVEN" && meta.RedriveCount == 0) || (rf == "NOT_REDRIVEN" && meta.RedriveCount > 0) {
			continue
		}
		rc := int(meta.RedriveCount)
		out.Executions = append(out.Executions, executionListItem{
			ExecutionArn: x.ARN, StateMachineArn: x.StateMachineARN, Name: x.Name, Status: x.Status,
			StartDate: epoch(x.StartDate), StopDate: epochPtr(x.StopDate),
			StateMachineVersionArn: meta.VersionARN, StateMachineAliasArn: meta.AliasARN,
			RedriveCount: &rc, RedriveDate: epochPtr(meta.RedriveDate),
		})
	}
	return out, nil
}

type getExecutionHistoryInput struct {
	ExecutionArn         *string `json:"executionArn"`
	MaxResults           *int64  `json:"maxResults"`
	ReverseOrder         *bool   `json:"reverseOrder"`
	NextToken            *string `json:"nextToken"`
	IncludeExecutionData *bool   `json:"includeExecutionData"`
}

type getExecutionHistoryOutput struct {
	Events    []history.Event `json:"events"`
	NextToken string          `json:"nextToken,omitempty"`
}

// executionPage checks the members GetExecutionHistory and ListMapRuns
// share: it returns the execution named, its store and the page asked for.
func (s *Server) executionPage(ctx context.Context, executionArn *string, maxResults *int64, nextToken *string) (*store.Execution, store.Store, store.Page, error) {
	var c checker
	c.str("executionArn", executionArn, true, 1, 256, false)
	c.intRange("maxResults", maxResults, 0, 1000)
	c.str("nextToken", nextToken, false, 1, 1024, false)
	if err := c.err(); err != nil {
		return nil, nil, store.Page{}, err
	}
	x, st, err := s.getExecution(ctx, *executionArn)
	if err != nil {
		return nil, nil, store.Page{}, err
	}
	return x, st, store.Page{Limit: pageSize(maxResults), Token: deref(nextToken)}, nil
}

func (s *Server) getExecutionHistory(ctx context.Context, body []byte) (any, error) {
	var in getExecutionHistoryInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	x, st, page, err := s.executionPage(ctx, in.ExecutionArn, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	reverse := in.ReverseOrder != nil && *in.ReverseOrder
	events, next, err := st.History(ctx, x.ARN, reverse, page)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, errExecutionDoesNotExist(x.ARN)
		}
		return nil, storeErr(err)
	}
	if in.IncludeExecutionData != nil && !*in.IncludeExecutionData {
		for i := range events {
			events[i] = events[i].WithoutData()
		}
	}
	if events == nil {
		events = []history.Event{}
	}
	return getExecutionHistoryOutput{Events: events, NextToken: next}, nil
}

type describeStateMachineForExecutionOutput struct {
	StateMachineArn      string          `json:"stateMachineArn"`
	Name                 string          `json:"name"`
	Definition           string          `json:"definition"`
	RoleArn              string          `json:"roleArn"`
	UpdateDate           epoch           `json:"updateDate"`
	LoggingConfiguration json.RawMessage `json:"loggingConfiguration,omitempty"`
	TracingConfiguration json.RawMessage `json:"tracingConfiguration,omitempty"`
	RevisionID           string          `json:"revisionId,omitempty"`
}

func (s *Server) describeStateMachineForExecution(ctx context.Context, body []byte) (any, error) {
	x, metadataOnly, err := s.describedExecution(ctx, body)
	if err != nil {
		return nil, err
	}
	rev, err := s.st.GetRevision(ctx, x.StateMachineARN, x.RevisionID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errStateMachineDoesNotExist(x.StateMachineARN)
	}
	if err != nil {
		return nil, err
	}
	out := describeStateMachineForExecutionOutput{
		StateMachineArn: x.StateMachineARN, Name: x.StateMachineName, Definition: rev.Definition, RoleArn: rev.RoleARN,
		UpdateDate: epoch(rev.UpdateDate), LoggingConfiguration: orDefault(rev.Logging, defaultLogging),
		TracingConfiguration: orDefault(rev.Tracing, defaultTracing),
	}
	if rev.UpdateDate.IsZero() {
		// Never updated: AWS reports the creation date.
		if sm, err := s.st.GetStateMachine(ctx, x.StateMachineARN); err == nil && sm.CreationDate.Before(x.StartDate.Add(time.Second)) {
			out.UpdateDate = epoch(sm.CreationDate)
		} else {
			out.UpdateDate = epoch(x.StartDate)
		}
	} else {
		out.RevisionID = rev.RevisionID
	}
	if metadataOnly {
		out.Definition = "{}"
	}
	return out, nil
}
