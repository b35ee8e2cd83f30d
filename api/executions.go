package api

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/stepwell/stepwell/api/internal/awsapi"
	"github.com/stepwell/stepwell/arn"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/executions"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/internal/uuid"
	"github.com/stepwell/stepwell/store"
	"github.com/stepwell/stepwell/value"
)

const maxInputBytes = 262144

type startExecutionOutput struct {
	ExecutionArn string `json:"executionArn"`
	StartDate    epoch  `json:"startDate"`
}

// startRequest is a validated StartExecution or StartSyncExecution.
type startRequest struct {
	// testCase is the mock test case named after '#' in the ARN
	testCase string
	sm       *store.StateMachine
	name     string
	input    string
	parsed   any // input parsed, for the run (nil if only json.Valid accepts it)
	trace    string
	// version and alias ARNs the execution was started through
	version, alias string
}

func (s *Server) checkStart(ctx context.Context, body []byte, sync bool) (*startRequest, *awsapi.StartSyncExecutionInput, error) {
	var in awsapi.StartSyncExecutionInput
	if sync {
		if err := decodeInput(body, &in); err != nil {
			return nil, nil, err
		}
	} else {
		var se awsapi.StartExecutionInput // no includedData
		if decodeStartInput(body, &se) {
			if err := se.Validate(); err != nil {
				return nil, nil, err
			}
		} else if err := decodeInput(body, &se); err != nil {
			return nil, nil, err
		}
		in = awsapi.StartSyncExecutionInput{StateMachineArn: se.StateMachineArn, Name: se.Name, Input: se.Input, TraceHeader: se.TraceHeader}
	}
	smARN, testCase := *in.StateMachineArn, ""
	if s.exec.Mocked() {
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
		// The run would parse the input: parse it once, here. What
		// value.ParseString accepts json.Valid does too (FuzzParse_
		// OnlyValidJSON); json.Valid has the last word on the rest.
		var perr error
		if r.parsed, perr = value.ParseString(r.input); perr != nil && !json.Valid([]byte(r.input)) {
			return nil, nil, errInvalidInput("Invalid execution input.")
		}
	}
	tgt, err := s.resolveStart(ctx, a, smARN)
	if err != nil {
		return nil, nil, err
	}
	r.sm, r.version, r.alias = tgt.sm, tgt.version, tgt.alias
	if r.name == "" {
		r.name = uuid.Ordered(time.Now()) // see executions.Service.begin
	}
	return r, &in, nil
}

func (s *Server) startExecution(ctx context.Context, body []byte) (any, error) {
	r, _, err := s.checkStart(ctx, body, false)
	if err != nil {
		return nil, err
	}
	x, err := s.exec.Start(ctx, r.start())
	if err != nil {
		return nil, execErr(err)
	}
	return startExecutionOutput{ExecutionArn: x.ARN, StartDate: epoch(x.StartDate)}.encoded(), nil
}

// encoded returns the answer encoded without reflection when its ARN needs
// no escaping (always, for the names StartExecution accepts), else o
// itself for json.Marshal; both encode the same bytes.
func (o startExecutionOutput) encoded() any {
	if !plainJSON(o.ExecutionArn) {
		return o
	}
	b := make([]byte, 0, len(o.ExecutionArn)+48)
	b = append(b, `{"executionArn":"`...)
	b = append(b, o.ExecutionArn...)
	b = append(b, `","startDate":`...)
	b = append(b, history.EpochSeconds(time.Time(o.StartDate))...)
	return rawJSON(append(b, '}'))
}

// start is what the executions service starts.
func (r *startRequest) start() executions.StartInput {
	return executions.StartInput{Machine: r.sm, Name: r.name, Input: r.input, ParsedInput: r.parsed, TraceHeader: r.trace,
		VersionARN: r.version, AliasARN: r.alias, TestCase: r.testCase}
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
	res, err := s.exec.StartSync(ctx, r.start())
	if err != nil {
		return nil, execErr(err)
	}
	start, stop := res.StartDate, res.StopDate
	status := string(res.Status)
	if status == store.StatusAborted {
		status = store.StatusFailed
	}
	ms := stop.Sub(start).Milliseconds()
	out := startSyncExecutionOutput{
		ExecutionArn: res.ARN, StateMachineArn: r.sm.ARN, Name: r.name, StartDate: epoch(start), StopDate: epoch(stop),
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

// The inputs describedExecution reads as one.
var _ = awsapi.DescribeStateMachineForExecutionInput(awsapi.DescribeExecutionInput{})

// describedExecution decodes and checks the input of DescribeExecution and
// DescribeStateMachineForExecution: it returns the execution named and
// whether only its metadata was asked for (includedData=METADATA_ONLY).
func (s *Server) describedExecution(ctx context.Context, body []byte) (*store.Execution, bool, error) {
	// DescribeStateMachineForExecutionInput has the same members and
	// constraints.
	var in awsapi.DescribeExecutionInput
	if err := decodeInput(body, &in); err != nil {
		return nil, false, err
	}
	x, _, err := s.getExecution(ctx, *in.ExecutionArn)
	return x, deref(in.IncludedData) == "METADATA_ONLY", err
}

// getExecution returns the execution an ARN argument names and the store
// that holds it.
func (s *Server) getExecution(ctx context.Context, arnStr string) (*store.Execution, store.Store, error) {
	if err := executionARN(arnStr); err != nil {
		return nil, nil, err
	}
	x, st, err := s.exec.Get(ctx, arnStr)
	return x, st, execErr(err)
}

// executionARN checks an execution ARN argument (Standard or Express).
func executionARN(arnStr string) error {
	a, err := arn.Parse(arnStr)
	if err != nil {
		return errInvalidArn(err.Error())
	}
	switch a.Type {
	case arn.Execution, arn.Express:
		return nil
	}
	return errInvalidArn("Resource type not valid in this context: " + string(a.Type))
}

type stopExecutionOutput struct {
	StopDate epoch `json:"stopDate"`
}

func (s *Server) stopExecution(ctx context.Context, body []byte) (any, error) {
	var in awsapi.StopExecutionInput
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	if err := executionARN(*in.ExecutionArn); err != nil {
		return nil, err
	}
	stop, err := s.exec.Stop(ctx, *in.ExecutionArn, in.Error, in.Cause)
	if err != nil {
		return nil, execErr(err)
	}
	return stopExecutionOutput{StopDate: epoch(stop)}, nil
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
	MapRunArn              string       `json:"mapRunArn,omitempty"`
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
	if m, run, ok := executions.ChildOf(x); ok {
		out.StateMachineArn, out.MapRunArn = m, run // a Distributed Map's child (mapruns.go)
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
	MapRunArn              string `json:"mapRunArn,omitempty"`
}

type listExecutionsOutput struct {
	Executions []executionListItem `json:"executions"`
	NextToken  string              `json:"nextToken,omitempty"`
}

func (s *Server) listExecutions(ctx context.Context, body []byte) (any, error) {
	var in awsapi.ListExecutionsInput
	if err := decodeInput(body, &in); err != nil {
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
		return s.mapRunExecutions(ctx, &in) // mapruns.go
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
	list := listing("ListExecutions", *in.StateMachineArn, deref(in.StatusFilter), deref(in.RedriveFilter))
	page, err := s.page(list, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	items, next, err := s.st.ListExecutions(ctx, store.ExecutionFilter{StateMachineARN: sm.ARN, Status: deref(in.StatusFilter)}, page)
	if err != nil {
		return nil, storeErr(err)
	}
	out.NextToken = s.nextToken(list, next)
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

type getExecutionHistoryOutput struct {
	Events    []history.Event `json:"events"`
	NextToken string          `json:"nextToken,omitempty"`
}

// executionPage reads the members GetExecutionHistory and ListMapRuns
// share, once checked: it returns the execution named, its store and the
// page of list asked for.
func (s *Server) executionPage(ctx context.Context, executionArn *string, list string, maxResults *int64, nextToken *string) (*store.Execution, store.Store, store.Page, error) {
	x, st, err := s.getExecution(ctx, *executionArn)
	if err != nil {
		return nil, nil, store.Page{}, err
	}
	page, err := s.page(list, maxResults, nextToken)
	return x, st, page, err
}

func (s *Server) getExecutionHistory(ctx context.Context, body []byte) (any, error) {
	var in awsapi.GetExecutionHistoryInput
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	reverse := in.ReverseOrder != nil && *in.ReverseOrder
	list := listing("GetExecutionHistory", *in.ExecutionArn, strconv.FormatBool(reverse))
	x, st, page, err := s.executionPage(ctx, in.ExecutionArn, list, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	if _, _, ok := executions.ChildOf(x); ok && x.Type == typeExpress {
		// An EXPRESS child of a Distributed Map keeps no history: AWS
		// serves none for Express executions.
		return nil, errTypeNotSupported()
	}
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
	return getExecutionHistoryOutput{Events: events, NextToken: s.nextToken(list, next)}, nil
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
	VariableReferences   varRefs         `json:"variableReferences,omitempty"`
	MapRunArn            string          `json:"mapRunArn,omitempty"`
	Label                string          `json:"label,omitempty"`
}

func (s *Server) describeStateMachineForExecution(ctx context.Context, body []byte) (any, error) {
	x, metadataOnly, err := s.describedExecution(ctx, body)
	if err != nil {
		return nil, err
	}
	child, err := s.childMachine(ctx, x) // a Distributed Map's child: its parent's revision (mapruns.go)
	if err != nil {
		return nil, err
	}
	if child != nil {
		x = child.parent
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
	} else {
		out.VariableReferences = s.variableReferences(x.StateMachineARN, rev.RevisionID, rev.Definition, x.Type == typeExpress)
	}
	if child != nil {
		child.apply(&out, metadataOnly)
	}
	return out, nil
}
