package api

// Map Runs: DescribeMapRun, ListMapRuns and UpdateMapRun. Distributed Map
// states record MapRunStarted with the run's ARN; the execution's recorder
// (recExtra below) turns the Map events of each line of control into Map
// Run records in the Versions store.
//
// Stepwell runs a Distributed Map's children inside the parent execution,
// without histories of their own, so the counts of a failed run are
// derived from the failure: the items needed to exceed the tolerated
// failure threshold (or one, for another error) are counted failed and the
// rest aborted. A successful run counts every item succeeded.

import (
	"context"
	"errors"
	"math"
	"strconv"

	"github.com/stepwell/stepwell/arn"
	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
)

// Map Run statuses.
const (
	mapRunRunning   = "RUNNING"
	mapRunSucceeded = "SUCCEEDED"
	mapRunFailed    = "FAILED"
	mapRunAborted   = "ABORTED"
)

// recExtra is what an execution's recorder does beyond appending events:
// it stamps the version and alias on ExecutionStarted and records Map Runs.
// The engine calls the recorder from one goroutine at a time.
type recExtra struct {
	s            *Server
	executionARN string
	machine      *asl.StateMachine
	version      string
	alias        string
	started      bool
	// per line of control (event Thread): the Map state being entered and
	// its item count, and the Map Run in progress
	threads map[string]*mapThread
	// A redriven execution replays redrive.replay (renumbered 1..K) and
	// its new events are renumbered to follow the stored history.
	redrive *redrivePlan
}

type mapThread struct {
	state  string
	length int64
	run    *store.MapRun
}

// before returns the events to append: ExecutionStarted gains the
// version and alias ARNs the execution was started through.
func (x *recExtra) before(events []history.Event) []history.Event {
	if x == nil || len(events) == 0 {
		return events
	}
	if x.redrive != nil {
		return x.redrive.translate(events)
	}
	if x.started {
		return events
	}
	x.started = true
	if events[0].Type != history.ExecutionStarted || (x.version == "" && x.alias == "") {
		return events
	}
	out := append([]history.Event(nil), events...)
	d := history.ExecutionStartedEventDetails{}
	if old := out[0].ExecutionStartedEventDetails; old != nil {
		d = *old
	}
	d.StateMachineVersionArn, d.StateMachineAliasArn = x.version, x.alias
	out[0].ExecutionStartedEventDetails = &d
	return out
}

// after records the Map Runs that appended events start or end.
func (x *recExtra) after(events []history.Event) {
	if x == nil || x.s.ver == nil {
		return
	}
	for i := range events {
		e := &events[i]
		switch e.Type {
		case history.MapStateEntered:
			if d := e.StateEnteredEventDetails; d != nil {
				x.thread(e.Thread).state = d.Name
			}
		case history.MapStateStarted:
			if d := e.MapStateStartedEventDetails; d != nil {
				x.thread(e.Thread).length = d.Length
			}
		case history.MapRunStarted:
			if d := e.MapRunStartedEventDetails; d != nil {
				x.startRun(e, d.MapRunArn)
			}
		case history.MapRunSucceeded, history.MapRunFailed, history.MapRunAborted:
			x.endRun(e)
		}
	}
}

func (x *recExtra) thread(name string) *mapThread {
	if x.threads == nil {
		x.threads = make(map[string]*mapThread)
	}
	t := x.threads[name]
	if t == nil {
		t = &mapThread{}
		x.threads[name] = t
	}
	return t
}

func (x *recExtra) startRun(e *history.Event, runArn string) {
	t := x.thread(e.Thread)
	r := &store.MapRun{
		ARN: runArn, ExecutionARN: x.executionARN, Status: mapRunRunning, StartDate: e.Timestamp,
	}
	if a, err := arn.Parse(runArn); err == nil {
		m := a.Machine()
		r.StateMachineARN = m.String() + "/" + a.Label
	}
	if st := findState(x.machine, t.state); st != nil {
		r.MaxConcurrency = st.MaxConcurrency
		if st.ToleratedFailurePercentage != nil {
			r.ToleratedFailurePercentage = *st.ToleratedFailurePercentage
		}
		if st.ToleratedFailureCount != nil {
			r.ToleratedFailureCount = *st.ToleratedFailureCount
		}
	}
	n := t.length
	r.ItemCounts = store.MapRunCounts{Running: n, Total: n}
	r.ExecutionCounts = r.ItemCounts
	t.run = r
	x.put(r)
}

func (x *recExtra) endRun(e *history.Event) {
	t := x.thread(e.Thread)
	r := t.run
	if r == nil {
		return
	}
	t.run = nil
	r.StopDate = e.Timestamp
	n := r.ItemCounts.Total
	c := store.MapRunCounts{Total: n}
	switch e.Type {
	case history.MapRunSucceeded:
		r.Status = mapRunSucceeded
		c.Succeeded, c.ResultsWritten = n, n
	case history.MapRunAborted:
		r.Status = mapRunAborted
		c.Aborted = n
	default:
		r.Status = mapRunFailed
		failed := int64(1)
		if d := e.MapRunFailedEventDetails; d != nil && d.Error != nil && *d.Error == fault.ExceedToleratedFailureThreshold {
			failed = r.ToleratedFailureCount + 1
			if p := r.ToleratedFailurePercentage; p > 0 {
				failed = max(failed, int64(math.Floor(p*float64(n)/100))+1)
			}
		}
		failed = min(failed, n)
		c.Failed, c.Aborted, c.ResultsWritten = failed, n-failed, failed
		c.FailuresNotRedrivable, c.PendingRedrive = 0, 0
	}
	r.ItemCounts, r.ExecutionCounts = c, c
	x.put(r)
}

func (x *recExtra) put(r *store.MapRun) {
	if err := x.s.ver.PutMapRun(context.Background(), r); err != nil {
		x.s.log.Error("record map run", "arn", r.ARN, "err", err)
	}
}

// findState finds a state by name anywhere in a machine (state names are
// unique across a whole definition).
func findState(sm *asl.StateMachine, name string) *asl.State {
	if sm == nil || name == "" {
		return nil
	}
	if st := sm.States[name]; st != nil {
		return st
	}
	for _, st := range sm.States {
		for _, b := range st.Branches {
			if f := findState(b, name); f != nil {
				return f
			}
		}
		if f := findState(st.ItemProcessor, name); f != nil {
			return f
		}
	}
	return nil
}

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

type mapRunArnInput struct {
	MapRunArn *string `json:"mapRunArn"`
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
	var c checker
	c.str("mapRunArn", runArn, true, 1, 2000, false)
	if err := c.err(); err != nil {
		return nil, nil, err
	}
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
	var in mapRunArnInput
	if err := decode(body, &in); err != nil {
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

type listMapRunsInput struct {
	ExecutionArn *string `json:"executionArn"`
	MaxResults   *int64  `json:"maxResults"`
	NextToken    *string `json:"nextToken"`
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
	var in listMapRunsInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	x, _, page, err := s.executionPage(ctx, in.ExecutionArn, in.MaxResults, in.NextToken)
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
	out := listMapRunsOutput{MapRuns: make([]mapRunListItem, 0, len(items)), NextToken: next}
	for _, r := range items {
		out.MapRuns = append(out.MapRuns, mapRunListItem{r.ExecutionARN, r.ARN, r.StateMachineARN, epoch(r.StartDate), epochPtr(r.StopDate)})
	}
	return out, nil
}

type updateMapRunInput struct {
	MapRunArn                  *string  `json:"mapRunArn"`
	MaxConcurrency             *int64   `json:"maxConcurrency"`
	ToleratedFailurePercentage *float64 `json:"toleratedFailurePercentage"`
	ToleratedFailureCount      *int64   `json:"toleratedFailureCount"`
}

// updateMapRun checks the request as AWS does. A completed Map Run answers
// ValidationException (CANNOT_UPDATE_COMPLETED_MAP_RUN). A running one
// answers UnsupportedOperation: Stepwell runs a Distributed Map's children
// inside the parent execution and cannot change the concurrency or failure
// tolerance of a run in progress, and does not pretend to.
func (s *Server) updateMapRun(ctx context.Context, body []byte) (any, error) {
	var in updateMapRunInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var c checker
	c.str("mapRunArn", in.MapRunArn, true, 1, 2000, false)
	c.intRange("maxConcurrency", in.MaxConcurrency, 0, math.MaxInt32)
	c.intRange("toleratedFailureCount", in.ToleratedFailureCount, 0, math.MaxInt64)
	if p := in.ToleratedFailurePercentage; p != nil && (*p < 0 || *p > 100 || math.IsNaN(*p)) {
		c.add("'"+formatFloat(*p)+"'", "toleratedFailurePercentage", "Member must have value "+
			boundText(*p < 0))
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	if in.MaxConcurrency == nil && in.ToleratedFailurePercentage == nil && in.ToleratedFailureCount == nil {
		return nil, errValidation("At least one of maxConcurrency, toleratedFailurePercentage or toleratedFailureCount must be specified")
	}
	_, r, err := s.getMapRun(ctx, in.MapRunArn)
	if err != nil {
		return nil, err
	}
	if r.Status != mapRunRunning {
		return nil, &Error{Name: "ValidationException", Message: "Map Run '" + r.ARN + "' is " + r.Status + " and cannot be updated",
			Reason: "CANNOT_UPDATE_COMPLETED_MAP_RUN"}
	}
	return nil, apiErr("UnsupportedOperation",
		"Stepwell cannot change the concurrency or failure tolerance of a Map Run in progress ('%s')", r.ARN)
}

// mapRunExecutions answers ListExecutions by mapRunArn: ResourceNotFound
// for an unknown Map Run, and for a known one UnsupportedOperation, since
// Stepwell runs a Distributed Map's items inside the parent execution and
// they have no child executions to list.
func (s *Server) mapRunExecutions(ctx context.Context, runArn string) error {
	if _, _, err := s.getMapRun(ctx, &runArn); err != nil {
		return err
	}
	return apiErr("UnsupportedOperation",
		"Stepwell runs the items of a Distributed Map inside the parent execution: Map Run '%s' has no child executions to list", runArn)
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func boundText(below bool) string {
	if below {
		return "greater than or equal to 0"
	}
	return "less than or equal to 100"
}
