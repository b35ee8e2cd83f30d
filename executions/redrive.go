package executions

// Redrive: a FAILED, TIMED_OUT or ABORTED Standard execution continues
// from its unsuccessful states, in the same execution and history. The
// history gains ExecutionRedriven {redriveCount}; states that completed are
// not run again (their events are replayed through the engine's Resume);
// the states that did not complete run again with fresh retry counters: a
// failed Task is scheduled again, a Fail state fails again, a Parallel or
// Map re-runs only its unsuccessful branches or iterations. The execution
// timeout counts from the redrive.
//
// The Context object gains Execution.RedriveCount and RedriveTime, as on
// AWS. Stepwell's difference: the execution's StartTime in the Context
// object becomes the redrive time (the engine starts the execution timeout
// from it). Config.Reopener reopens the execution in the store; without
// one, Redrive is refused with ErrRedriveUnsupported.

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

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

func notRedrivable(executionARN, msg string) error {
	return refused(ErrNotRedrivable, executionARN, msg)
}

// Redrive redrives a closed Standard execution (see above) and returns
// the redrive date. A clientToken used on this execution within the last
// 15 minutes makes it idempotent: it returns the date of that redrive.
func (s *Service) Redrive(ctx context.Context, executionARN string, clientToken *string) (time.Time, error) {
	x, st, err := s.Get(ctx, executionARN)
	if err != nil {
		return time.Time{}, err
	}
	if s.ver == nil {
		return time.Time{}, refused(ErrNoVersions, "", "")
	}
	if _, run, child := ChildOf(x); child {
		return time.Time{}, notRedrivable(x.ARN, "Execution is a child workflow execution of Map Run "+run+
			": to redrive it, redrive its parent workflow")
	}
	meta, _, err := s.ver.GetExecutionMeta(ctx, x.ARN)
	if err != nil {
		return time.Time{}, fmt.Errorf("get execution metadata: %w", err)
	}
	now := s.now()
	if clientToken != nil {
		for _, t := range meta.ClientTokens {
			if t.Token == *clientToken && now.Sub(t.Used) < clientTokenTTL {
				return meta.RedriveDate, nil
			}
		}
	}
	switch x.Status {
	case store.StatusFailed, store.StatusTimedOut, store.StatusAborted:
	default:
		return time.Time{}, notRedrivable(x.ARN, "Execution is "+x.Status+" and cannot be redriven")
	}
	if now.Sub(x.StopDate) > redriveWindow {
		return time.Time{}, notRedrivable(x.ARN, "Execution was closed more than 14 days ago and cannot be redriven")
	}
	if now.Sub(x.StartDate) > redriveMaxOpenTime {
		return time.Time{}, notRedrivable(x.ARN, "Execution has exceeded the maximum open time of one year and cannot be redriven")
	}
	sm, err := s.st.GetStateMachine(ctx, x.StateMachineARN)
	if errors.Is(err, store.ErrNotFound) {
		return time.Time{}, notRedrivable(x.ARN, "The state machine of the execution was deleted: it cannot be redriven")
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("get state machine: %w", err)
	}
	rev, err := s.st.GetRevision(ctx, x.StateMachineARN, x.RevisionID)
	if errors.Is(err, store.ErrNotFound) {
		return time.Time{}, notRedrivable(x.ARN, "The state machine revision of the execution no longer exists: it cannot be redriven")
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("get revision: %w", err)
	}
	sm.Revision = *rev
	compiled, err := s.compiled(sm)
	if err != nil {
		return time.Time{}, err
	}
	plan, meta, err := s.reopenRedriven(ctx, x, st, meta, now, clientToken)
	if err != nil {
		return time.Time{}, err
	}
	count := meta.RedriveCount
	ex := &engine.Execution{
		ARN: x.ARN, Name: x.Name, StateMachineARN: x.StateMachineARN, StateMachineName: x.StateMachineName,
		RoleARN: rev.RoleARN, Type: x.Type, Input: x.Input, StartTime: now, Machine: compiled,
		RedriveCount: count, RedriveTime: now,
	}
	s.rebind(ex, meta)
	s.launch(st, ex, false, &recExtra{version: meta.VersionARN, alias: meta.AliasARN, logging: rev.Logging, started: true, redrive: plan}, nil)
	return now, nil
}

// reopenRedriven reopens the closed execution x of st for a redrive at
// now: its history gains ExecutionRedriven, and its metadata meta the
// redrive (and clientToken). It returns the plan the redriven run
// replays and the new metadata.
func (s *Service) reopenRedriven(ctx context.Context, x *store.Execution, st store.Store, meta store.ExecutionMeta, now time.Time, clientToken *string) (*redrivePlan, store.ExecutionMeta, error) {
	events, err := fullHistory(ctx, st, x.ARN)
	if err != nil {
		return nil, meta, err
	}
	if len(events) >= redriveMaxEvents {
		return nil, meta, notRedrivable(x.ARN, "Execution history has reached 24999 events and cannot be redriven")
	}
	plan := planRedrive(events)
	count := meta.RedriveCount + 1
	redriven := history.Event{
		Timestamp: now, Type: history.ExecutionRedriven, ID: plan.base, PreviousEventID: plan.base - 1,
		ExecutionRedrivenEventDetails: &history.ExecutionRedrivenEventDetails{RedriveCount: count},
	}
	if s.reopen == nil {
		return nil, meta, refused(ErrRedriveUnsupported, x.ARN, "")
	}
	if err := s.reopen.ReopenExecution(ctx, x.ARN, []history.Event{redriven}); err != nil {
		if errors.Is(err, errors.ErrUnsupported) {
			return nil, meta, refused(ErrRedriveUnsupported, x.ARN, "")
		}
		if errors.Is(err, store.ErrConflict) && !errors.Is(err, ErrShuttingDown) {
			return nil, meta, notRedrivable(x.ARN, "Execution is RUNNING and cannot be redriven")
		}
		return nil, meta, fmt.Errorf("reopen execution: %w", err)
	}
	meta.RedriveCount, meta.RedriveDate = count, now
	if clientToken != nil {
		meta.ClientTokens = append(meta.ClientTokens, store.ClientToken{Token: *clientToken, Used: now})
		if n := len(meta.ClientTokens); n > clientTokensKept {
			meta.ClientTokens = meta.ClientTokens[n-clientTokensKept:]
		}
	}
	if err := s.ver.PutExecutionMeta(ctx, x.ARN, meta); err != nil {
		return nil, meta, fmt.Errorf("put execution metadata: %w", err)
	}
	return plan, meta, nil
}

// fullHistory reads an execution's whole history.
func fullHistory(ctx context.Context, st store.Store, executionARN string) ([]history.Event, error) {
	var all []history.Event
	token := ""
	for {
		evs, next, err := st.History(ctx, executionARN, false, store.Page{Limit: 1000, Token: token})
		if err != nil {
			return nil, fmt.Errorf("read history: %w", err)
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
		if d := ev.MapRunRedrivenEventDetails; ev.Type == history.MapRunRedriven && d != nil {
			// The engine replays the start of the Map Run that its
			// recorder recorded as redriven (mapruns.go).
			ev.Type, ev.MapRunRedrivenEventDetails = history.MapRunStarted, nil
			ev.MapRunStartedEventDetails = &history.MapRunStartedEventDetails{MapRunArn: d.MapRunArn}
		}
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
