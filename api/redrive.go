package api

// RedriveExecution: a FAILED, TIMED_OUT or ABORTED Standard execution
// continues from its unsuccessful states, in the same execution and
// history. The history gains ExecutionRedriven {redriveCount}; states that
// completed are not run again (their events are replayed through the
// engine's Resume); the states that did not complete run again with fresh
// retry counters: a failed Task is scheduled again, a Fail state fails
// again, a Parallel or Map re-runs only its unsuccessful branches or
// iterations. The execution timeout counts from the redrive.
//
// The Context object gains Execution.RedriveCount and RedriveTime, as on
// AWS. Stepwell's difference: the execution's StartTime in the Context
// object becomes the redrive time (the engine starts the execution timeout
// from it). The store must implement store.Reopener
// (the in-memory, embedded and PostgreSQL stores do), otherwise RedriveExecution
// answers UnsupportedOperation.

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/stepwell/stepwell/arn"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
)

const (
	redriveWindow      = 14 * 24 * time.Hour
	redriveMaxEvents   = 24999
	clientTokenTTL     = 15 * time.Minute
	clientTokensKept   = 10
	redriveMaxOpenTime = 365 * 24 * time.Hour
)

type redriveInput struct {
	ExecutionArn *string `json:"executionArn"`
	ClientToken  *string `json:"clientToken"`
}

type redriveOutput struct {
	RedriveDate epoch `json:"redriveDate"`
}

func errRedriveUnsupported() *Error {
	return apiErr("UnsupportedOperation", "RedriveExecution is not supported by Stepwell's configured store")
}

func errNotRedrivable(msg string) *Error { return apiErr("ExecutionNotRedrivable", "%s", msg) }

func validClientToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '!' || s[i] > '~' {
			return false
		}
	}
	return true
}

func (s *Server) redriveExecution(ctx context.Context, body []byte) (any, error) {
	var in redriveInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var c checker
	c.str("executionArn", in.ExecutionArn, true, 1, 256, false)
	c.str("clientToken", in.ClientToken, false, 1, 64, false)
	if in.ClientToken != nil && *in.ClientToken != "" && !validClientToken(*in.ClientToken) {
		c.add("'"+*in.ClientToken+"'", "clientToken", "Member must satisfy regular expression pattern: [!-~]+")
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	a, err := arn.Parse(*in.ExecutionArn)
	if err != nil {
		return nil, errInvalidArn(err.Error())
	}
	if a.Type == arn.Express {
		return nil, errNotRedrivable("Execution is an EXPRESS execution and cannot be redriven")
	}
	if a.Type == arn.Execution && a.Label != "" {
		return nil, errNotRedrivable("A Distributed Map child execution is redriven through its parent execution")
	}
	x, st, err := s.getExecution(ctx, *in.ExecutionArn)
	if err != nil {
		return nil, err
	}
	vs, err := s.versions()
	if err != nil {
		return nil, err
	}
	meta, _, err := vs.GetExecutionMeta(ctx, x.ARN)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if in.ClientToken != nil {
		for _, t := range meta.ClientTokens {
			if t.Token == *in.ClientToken && now.Sub(t.Used) < clientTokenTTL {
				return redriveOutput{RedriveDate: epoch(meta.RedriveDate)}, nil
			}
		}
	}
	switch x.Status {
	case store.StatusFailed, store.StatusTimedOut, store.StatusAborted:
	default:
		return nil, errNotRedrivable("Execution is " + x.Status + " and cannot be redriven")
	}
	if now.Sub(x.StopDate) > redriveWindow {
		return nil, errNotRedrivable("Execution was closed more than 14 days ago and cannot be redriven")
	}
	if now.Sub(x.StartDate) > redriveMaxOpenTime {
		return nil, errNotRedrivable("Execution has exceeded the maximum open time of one year and cannot be redriven")
	}
	sm, err := s.st.GetStateMachine(ctx, x.StateMachineARN)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNotRedrivable("The state machine of the execution was deleted: it cannot be redriven")
	}
	if err != nil {
		return nil, err
	}
	rev, err := s.st.GetRevision(ctx, x.StateMachineARN, x.RevisionID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNotRedrivable("The state machine revision of the execution no longer exists: it cannot be redriven")
	}
	if err != nil {
		return nil, err
	}
	events, err := fullHistory(ctx, st, x.ARN)
	if err != nil {
		return nil, err
	}
	if len(events) >= redriveMaxEvents {
		return nil, errNotRedrivable("Execution history has reached 24999 events and cannot be redriven")
	}
	sm.Revision = *rev
	compiled, err := s.compiled(sm)
	if err != nil {
		return nil, err
	}
	plan := planRedrive(events)
	count := meta.RedriveCount + 1
	redriven := history.Event{
		Timestamp: now, Type: history.ExecutionRedriven, ID: plan.base, PreviousEventID: plan.base - 1,
		ExecutionRedrivenEventDetails: &history.ExecutionRedrivenEventDetails{RedriveCount: count},
	}
	reopener, ok := st.(store.Reopener)
	if !ok {
		return nil, errRedriveUnsupported()
	}
	if err := reopener.ReopenExecution(ctx, x.ARN, []history.Event{redriven}); err != nil {
		if errors.Is(err, errors.ErrUnsupported) {
			return nil, errRedriveUnsupported()
		}
		if errors.Is(err, store.ErrConflict) {
			return nil, errNotRedrivable("Execution is RUNNING and cannot be redriven")
		}
		return nil, err
	}
	meta.RedriveCount, meta.RedriveDate = count, now
	if in.ClientToken != nil {
		meta.ClientTokens = append(meta.ClientTokens, store.ClientToken{Token: *in.ClientToken, Used: now})
		if n := len(meta.ClientTokens); n > clientTokensKept {
			meta.ClientTokens = meta.ClientTokens[n-clientTokensKept:]
		}
	}
	if err := vs.PutExecutionMeta(ctx, x.ARN, meta); err != nil {
		return nil, err
	}
	ex := &engine.Execution{
		ARN: x.ARN, Name: x.Name, StateMachineARN: x.StateMachineARN, StateMachineName: x.StateMachineName,
		RoleARN: rev.RoleARN, Type: x.Type, Input: x.Input, StartTime: now, Machine: compiled,
		RedriveCount: count, RedriveTime: now,
	}
	s.rebindTestCase(ex, meta)
	s.launch(st, ex, false, &recExtra{version: meta.VersionARN, alias: meta.AliasARN, started: true, redrive: plan})
	return redriveOutput{RedriveDate: epoch(now)}, nil
}

// fullHistory reads an execution's whole history.
func fullHistory(ctx context.Context, st store.Store, executionARN string) ([]history.Event, error) {
	var all []history.Event
	token := ""
	for {
		evs, next, err := st.History(ctx, executionARN, false, store.Page{Limit: 1000, Token: token})
		if err != nil {
			return nil, err
		}
		all = append(all, evs...)
		if next == "" {
			return all, nil
		}
		token = next
	}
}

// redrivePlan is what a redrive replays and how its new events are
// numbered.
type redrivePlan struct {
	// replay holds the events of the completed work, renumbered 1..K for
	// the engine's Resume; orig[k-1] is the stored id of replay event k.
	replay []history.Event
	orig   []int64
	// base is the id of the latest stored event (ExecutionRedriven for a
	// redrive); the engine's new events (K+1, K+2, …) are stored as
	// base+1, base+2, …
	base int64
	// linkFirst makes the first new event follow base (ExecutionRedriven).
	linkFirst bool
}

// planRedrive keeps, for each line of control (event Thread), its events
// up to its last completed state (…StateExited, or MapIterationSucceeded
// for a Map iteration): what follows (a failed or interrupted state, the
// terminal event) runs again. Completed Parallel branches and Map
// iterations replay from their events whether or not their parent state
// runs again. Earlier redrives are applied in turn: each run saw the
// events its own redrive kept, then recorded new ones.
func planRedrive(events []history.Event) *redrivePlan {
	p := plan(events, true)
	p.base++ // the ExecutionRedriven event the redrive appends
	p.linkFirst = true
	return p
}

// planResume is the plan that continues a running execution after a
// restart: the work of the runs before its latest redrive as a redrive
// kept it, then the latest run's events as recorded.
func planResume(events []history.Event) *redrivePlan {
	return plan(events, false)
}

func plan(events []history.Event, redrive bool) *redrivePlan {
	sorted := append([]history.Event(nil), events...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	var view []history.Event
	for _, ev := range sorted {
		if ev.Type == history.ExecutionRedriven {
			view = completedWork(view)
			continue
		}
		view = append(view, ev)
	}
	if redrive {
		view = completedWork(view)
	}
	p := &redrivePlan{}
	if n := len(sorted); n > 0 {
		p.base = sorted[n-1].ID
	}
	for _, ev := range view {
		p.orig = append(p.orig, ev.ID)
		ev.ID = int64(len(p.orig))
		p.replay = append(p.replay, ev)
	}
	return p
}

// completedWork returns the events of one run (in id order) that a
// redrive replays.
func completedWork(run []history.Event) []history.Event {
	byThread := map[string][]int{}
	var names []string
	for i := range run {
		n := run[i].Thread
		if _, ok := byThread[n]; !ok {
			names = append(names, n)
		}
		byThread[n] = append(byThread[n], i)
	}
	keep := make([]bool, len(run))
	for _, n := range names {
		idx := byThread[n]
		last := -1
		for k, i := range idx {
			t := run[i].Type
			if strings.HasSuffix(string(t), "StateExited") || t == history.MapIterationSucceeded {
				last = k
			}
		}
		if n == "" && last < 0 && len(idx) > 0 && run[idx[0]].Type == history.ExecutionStarted {
			last = 0
		}
		for k := 0; k <= last; k++ {
			switch run[idx[k]].Type {
			case history.ExecutionFailed, history.ExecutionAborted, history.ExecutionTimedOut, history.ExecutionSucceeded:
				// never replayed (a well-formed history has none here)
			default:
				keep[idx[k]] = true
			}
		}
	}
	var out []history.Event
	for i := range run {
		if keep[i] {
			out = append(out, run[i])
		}
	}
	return out
}

// id maps an engine event id of the redriven run to its stored id.
func (p *redrivePlan) id(k int64) int64 {
	switch {
	case k <= 0:
		return k
	case k <= int64(len(p.orig)):
		return p.orig[k-1]
	}
	return p.base + k - int64(len(p.orig))
}

// translate renumbers new events for the store.
func (p *redrivePlan) translate(events []history.Event) []history.Event {
	out := append([]history.Event(nil), events...)
	for i := range out {
		out[i].ID = p.id(out[i].ID)
		if prev := out[i].PreviousEventID; p.linkFirst && prev > 0 && prev <= int64(len(p.orig)) && i == 0 && out[i].ID == p.base+1 {
			// The first new event follows ExecutionRedriven.
			out[i].PreviousEventID = p.base
		} else {
			out[i].PreviousEventID = p.id(prev)
		}
	}
	return out
}

// Resume continues a running Standard execution recorded in the store
// (after a restart): it replays its history through the engine's Resume,
// redrives included, and drives it like the executions this server
// started (StopExecution, Map Runs). An execution whose state machine
// revision is gone or no longer loads is failed with States.Runtime.
func (s *Server) Resume(ctx context.Context, x *store.Execution, recorded []history.Event) error {
	sm := &store.StateMachine{ARN: x.StateMachineARN, Name: x.StateMachineName, Type: x.Type}
	rev, err := s.st.GetRevision(ctx, x.StateMachineARN, x.RevisionID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	why := "no longer exists"
	if err == nil {
		sm.Revision = *rev
		compiled, cerr := s.compiled(sm)
		if cerr == nil {
			meta := s.executionMeta(ctx, x.ARN)
			ex := &engine.Execution{
				ARN: x.ARN, Name: x.Name, StateMachineARN: x.StateMachineARN, StateMachineName: x.StateMachineName,
				RoleARN: rev.RoleARN, Type: x.Type, Input: x.Input, StartTime: x.StartDate, Machine: compiled,
			}
			if !meta.RedriveDate.IsZero() {
				ex.StartTime = meta.RedriveDate // the execution timeout counts from the redrive
				ex.RedriveCount, ex.RedriveTime = meta.RedriveCount, meta.RedriveDate
			}
			s.rebindTestCase(ex, meta)
			s.launch(s.st, ex, false, &recExtra{version: meta.VersionARN, alias: meta.AliasARN, started: true, redrive: planResume(recorded)})
			return nil
		}
		why = "no longer loads: " + cerr.Error()
	}
	var prev int64
	if n := len(recorded); n > 0 {
		prev = recorded[n-1].ID
	}
	now := s.now()
	d := &history.ExecutionFailedEventDetails{Error: history.Str("States.Runtime"),
		Cause: history.Str("Stepwell could not resume the execution: its state machine revision " + x.RevisionID + " " + why)}
	ev := history.Event{Timestamp: now, Type: history.ExecutionFailed, ID: prev + 1, PreviousEventID: prev, ExecutionFailedEventDetails: d}
	return s.st.AppendHistory(ctx, x.ARN, []history.Event{ev}, &store.End{Status: store.StatusFailed, StopDate: now, Error: d.Error, Cause: d.Cause})
}
