package api

// Map Runs: DescribeMapRun, ListMapRuns and UpdateMapRun, read from the
// Versions store, where the executions service records them.
//
// The children of a Distributed Map with ExecutionType STANDARD are
// executions of their own (ListExecutions by mapRunArn lists them);
// EXPRESS children run inside the parent execution, without histories:
// ListExecutions by mapRunArn lists those the in-memory Express store
// still keeps, and DescribeExecution describes them.
// The engine reports their counts as they run (see package executions).

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/stepwell/stepwell/api/internal/awsapi"
	"github.com/stepwell/stepwell/arn"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/executions"
	"github.com/stepwell/stepwell/store"
)

// mapRunARN parses a mapRunArn argument.
func mapRunARN(s string) error {
	a, err := arn.Parse(s)
	if err != nil {
		return errInvalidArn(err.Error())
	}
	if a.Type != arn.MapRun {
		return errInvalidArn("Resource type not valid in this context: " + string(a.Type))
	}
	return nil
}

type mapRunCounts struct {
	Pending               int64 `json:"pending"`
	Running               int64 `json:"running"`
	Succeeded             int64 `json:"succeeded"`
	Failed                int64 `json:"failed"`
	TimedOut              int64 `json:"timedOut"`
	Aborted               int64 `json:"aborted"`
	Total                 int64 `json:"total"`
	ResultsWritten        int64 `json:"resultsWritten"`
	FailuresNotRedrivable int64 `json:"failuresNotRedrivable"`
	PendingRedrive        int64 `json:"pendingRedrive"`
}

func countsOut(c store.MapRunCounts) mapRunCounts {
	return mapRunCounts{c.Pending, c.Running, c.Succeeded, c.Failed, c.TimedOut, c.Aborted, c.Total, c.ResultsWritten,
		c.FailuresNotRedrivable, c.PendingRedrive}
}

type describeMapRunOutput struct {
	MapRunArn                  string       `json:"mapRunArn"`
	ExecutionArn               string       `json:"executionArn"`
	Status                     string       `json:"status"`
	StartDate                  epoch        `json:"startDate"`
	StopDate                   *epoch       `json:"stopDate,omitempty"`
	MaxConcurrency             int64        `json:"maxConcurrency"`
	ToleratedFailurePercentage float64      `json:"toleratedFailurePercentage"`
	ToleratedFailureCount      int64        `json:"toleratedFailureCount"`
	ItemCounts                 mapRunCounts `json:"itemCounts"`
	ExecutionCounts            mapRunCounts `json:"executionCounts"`
	RedriveCount               int64        `json:"redriveCount"`
	RedriveDate                *epoch       `json:"redriveDate,omitempty"`
}

// getMapRun validates a mapRunArn argument and returns the run.
func (s *Server) getMapRun(ctx context.Context, runArn *string) (store.Versions, *store.MapRun, error) {
	if err := mapRunARN(*runArn); err != nil {
		return nil, nil, err
	}
	vs, err := s.versions()
	if err != nil {
		return nil, nil, err
	}
	r, err := vs.GetMapRun(ctx, *runArn)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, errResourceNotFound(*runArn)
	}
	return vs, r, err
}

func (s *Server) describeMapRun(ctx context.Context, body []byte) (any, error) {
	var in awsapi.DescribeMapRunInput
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	_, r, err := s.getMapRun(ctx, in.MapRunArn)
	if err != nil {
		return nil, err
	}
	return describeMapRunOutput{
		MapRunArn: r.ARN, ExecutionArn: r.ExecutionARN, Status: r.Status, StartDate: epoch(r.StartDate),
		StopDate: epochPtr(r.StopDate), MaxConcurrency: r.MaxConcurrency, ToleratedFailurePercentage: r.ToleratedFailurePercentage,
		ToleratedFailureCount: r.ToleratedFailureCount, ItemCounts: countsOut(r.ItemCounts), ExecutionCounts: countsOut(r.ExecutionCounts),
		RedriveCount: r.RedriveCount, RedriveDate: epochPtr(r.RedriveDate),
	}, nil
}

type mapRunListItem struct {
	ExecutionArn    string `json:"executionArn"`
	MapRunArn       string `json:"mapRunArn"`
	StateMachineArn string `json:"stateMachineArn"`
	StartDate       epoch  `json:"startDate"`
	StopDate        *epoch `json:"stopDate,omitempty"`
}

type listMapRunsOutput struct {
	MapRuns   []mapRunListItem `json:"mapRuns"`
	NextToken string           `json:"nextToken,omitempty"`
}

func (s *Server) listMapRuns(ctx context.Context, body []byte) (any, error) {
	var in awsapi.ListMapRunsInput
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	list := listing("ListMapRuns", *in.ExecutionArn)
	x, _, page, err := s.executionPage(ctx, in.ExecutionArn, list, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	vs, err := s.versions()
	if err != nil {
		return nil, err
	}
	items, next, err := vs.ListMapRuns(ctx, x.ARN, page)
	if err != nil {
		return nil, storeErr(err)
	}
	out := listMapRunsOutput{MapRuns: make([]mapRunListItem, 0, len(items)), NextToken: s.nextToken(list, next)}
	for _, r := range items {
		out.MapRuns = append(out.MapRuns, mapRunListItem{r.ExecutionARN, r.ARN, r.StateMachineARN, epoch(r.StartDate), epochPtr(r.StopDate)})
	}
	return out, nil
}

// updateMapRun checks the request as AWS does. A completed Map Run answers
// ValidationException (CANNOT_UPDATE_COMPLETED_MAP_RUN). A running one
// takes the new MaxConcurrency and tolerated failure thresholds from now
// on (executions.Service.UpdateMapRun); one recorded as running that does
// not run in this server (started before a restart) answers
// UnsupportedOperation.
func (s *Server) updateMapRun(ctx context.Context, body []byte) (any, error) {
	var in awsapi.UpdateMapRunInput
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	if in.MaxConcurrency == nil && in.ToleratedFailurePercentage == nil && in.ToleratedFailureCount == nil {
		return nil, errValidation("At least one of maxConcurrency, toleratedFailurePercentage or toleratedFailureCount must be specified")
	}
	_, r, err := s.getMapRun(ctx, in.MapRunArn)
	if err != nil {
		return nil, err
	}
	if r.Status != executions.MapRunRunning {
		return nil, &Error{Code: awsapi.CodeValidationException, Message: "Map Run '" + r.ARN + "' is " + r.Status + " and cannot be updated",
			Reason: "CANNOT_UPDATE_COMPLETED_MAP_RUN"}
	}
	err = s.exec.UpdateMapRun(ctx, r.ARN, engine.MapRunUpdate{MaxConcurrency: in.MaxConcurrency,
		ToleratedFailureCount: in.ToleratedFailureCount, ToleratedFailurePercentage: in.ToleratedFailurePercentage})
	if errors.Is(err, executions.ErrMapRunNotRunning) {
		return nil, awsapi.UnsupportedOperation("Map Run '" + r.ARN + "' does not run in this server (it was started before a restart): it cannot be updated")
	}
	if err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// mapRunExecutions answers ListExecutions by mapRunArn: the Map Run's
// child executions, newest first (ResourceNotFound for an unknown Map
// Run): its STANDARD children, or the EXPRESS ones the Express store
// still keeps (the latest closed ones, as AWS lists them from its logs).
// PENDING_REDRIVE lists the unsuccessful
// children of a Map Run that ended unsuccessfully (its parent's redrive
// runs them again).
func (s *Server) mapRunExecutions(ctx context.Context, in *awsapi.ListExecutionsInput) (any, error) {
	runArn := *in.MapRunArn
	_, r, err := s.getMapRun(ctx, &runArn)
	if err != nil {
		return nil, err
	}
	status := deref(in.StatusFilter)
	pending := status == "PENDING_REDRIVE"
	if pending {
		status = ""
	}
	list := listing("ListExecutions", runArn, deref(in.StatusFilter), deref(in.RedriveFilter))
	page, err := s.page(list, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := listExecutionsOutput{Executions: []executionListItem{}}
	if pending && (r.Status == executions.MapRunRunning || r.Status == executions.MapRunSucceeded) {
		return out, nil
	}
	st, err := s.exec.ChildStore(ctx, runArn)
	if err != nil {
		return nil, storeErr(err)
	}
	items, next, err := st.ListExecutions(ctx, store.ExecutionFilter{StateMachineARN: executions.ChildKey(runArn), Status: status}, page)
	if err != nil {
		return nil, storeErr(err)
	}
	out.NextToken = s.nextToken(list, next)
	for _, x := range items {
		if pending && (x.Status == store.StatusSucceeded || x.Status == store.StatusRunning) {
			continue
		}
		meta := s.executionMeta(ctx, x.ARN)
		if rf := deref(in.RedriveFilter); (rf == "REDRIVEN" && meta.RedriveCount == 0) || (rf == "NOT_REDRIVEN" && meta.RedriveCount > 0) {
			continue
		}
		machine, _, _ := executions.ChildOf(x)
		rc := int(meta.RedriveCount)
		out.Executions = append(out.Executions, executionListItem{
			ExecutionArn: x.ARN, StateMachineArn: machine, Name: x.Name, Status: x.Status,
			StartDate: epoch(x.StartDate), StopDate: epochPtr(x.StopDate), MapRunArn: runArn,
			RedriveCount: &rc, RedriveDate: epochPtr(meta.RedriveDate),
		})
	}
	return out, nil
}

// childOf is a Distributed Map's child execution as
// DescribeStateMachineForExecution shows it: its parent execution, whose
// revision holds its definition (the Map state's ItemProcessor).
type childOf struct {
	parent            *store.Execution
	machine, run, lbl string
}

// childMachine returns the child x's parent, or nil when x is no child.
func (s *Server) childMachine(ctx context.Context, x *store.Execution) (*childOf, error) {
	machine, run, ok := executions.ChildOf(x)
	if !ok {
		return nil, nil
	}
	vs, err := s.versions()
	if err != nil {
		return nil, err
	}
	r, err := vs.GetMapRun(ctx, run)
	if err != nil {
		return nil, storeErr(err)
	}
	parent, err := s.st.GetExecution(ctx, r.ExecutionARN)
	if err != nil {
		return nil, storeErr(err)
	}
	a, _ := arn.Parse(run)
	return &childOf{parent: parent, machine: machine, run: run, lbl: a.Label}, nil
}

// apply makes out, the parent's machine, the child's: its ARN, name, Map
// Run and label, and as definition the ItemProcessor of the parent's Map
// state with that label.
func (c *childOf) apply(out *describeStateMachineForExecutionOutput, metadataOnly bool) {
	out.StateMachineArn, out.MapRunArn, out.Label = c.machine, c.run, c.lbl
	out.Name += "/" + c.lbl
	out.VariableReferences = nil
	if !metadataOnly {
		if p := itemProcessor([]byte(out.Definition), c.lbl); p != nil {
			out.Definition = string(p)
		}
	}
}

// itemProcessor finds, in a definition, the ItemProcessor (or Iterator)
// of the Map state labelled label (or named so, without a Label), at any
// depth; nil when there is none.
func itemProcessor(def []byte, label string) json.RawMessage {
	var m struct {
		States   map[string]json.RawMessage
		Branches []json.RawMessage
	}
	if json.Unmarshal(def, &m) != nil {
		return nil
	}
	for _, b := range m.Branches {
		if p := itemProcessor(b, label); p != nil {
			return p
		}
	}
	for name, raw := range m.States {
		var st struct {
			Type, Label             string
			ItemProcessor, Iterator json.RawMessage
			Branches                []json.RawMessage
		}
		if json.Unmarshal(raw, &st) != nil {
			continue
		}
		proc := st.ItemProcessor
		if proc == nil {
			proc = st.Iterator
		}
		if st.Type == "Map" && (st.Label == label || (st.Label == "" && name == label)) && proc != nil {
			return proc
		}
		for _, sub := range append(st.Branches, proc) {
			if sub == nil {
				continue
			}
			if p := itemProcessor(sub, label); p != nil {
				return p
			}
		}
	}
	return nil
}
