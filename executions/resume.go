package executions

// Resume: after a restart, each running Standard execution continues
// with the plans of a redrive (redrive.go): its completed work is
// replayed, the rest runs again. One waiting in a Wait state at its top
// level is parked again from its latest event alone (park.go).

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
)

// Resume continues a running Standard execution recorded in the store
// (after a restart): it replays its history through the engine's Resume,
// redrives included, and drives it like the executions this server
// started (Stop, Map Runs). An execution whose state machine
// revision is gone or no longer loads is failed with States.Runtime.
func (s *Service) Resume(ctx context.Context, x *store.Execution, recorded []history.Event) error {
	sm := &store.StateMachine{ARN: x.StateMachineARN, Name: x.StateMachineName, Type: x.Type}
	rev, err := s.st.GetRevision(ctx, x.StateMachineARN, x.RevisionID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("get revision: %w", err)
	}
	why := "no longer exists"
	if err == nil {
		sm.Revision = *rev
		compiled, cerr := s.compiled(sm)
		if cerr == nil {
			meta := s.meta(ctx, x.ARN)
			ex := &engine.Execution{
				ARN: x.ARN, Name: x.Name, StateMachineARN: x.StateMachineARN, StateMachineName: x.StateMachineName,
				RoleARN: rev.RoleARN, Type: x.Type, Input: x.Input, StartTime: x.StartDate, Machine: compiled,
			}
			if !meta.RedriveDate.IsZero() {
				ex.StartTime = meta.RedriveDate // the execution timeout counts from the redrive
				ex.RedriveCount, ex.RedriveTime = meta.RedriveCount, meta.RedriveDate
			}
			s.rebind(ex, meta)
			s.launch(s.st, ex, false, &recExtra{version: meta.VersionARN, alias: meta.AliasARN, logging: rev.Logging, started: true, redrive: planResume(recorded)}, nil)
			return nil
		}
		why = "no longer loads: " + cerr.Error()
	}
	return s.failResumed(ctx, x, recorded, "Stepwell could not resume the execution: its state machine revision "+x.RevisionID+" "+why)
}

// ResumeRunning resumes every running Standard execution of the store
// (after a restart) and returns how many. One whose latest event is the
// Entered event of a Wait state at its top level is parked again from
// that event alone (see park.go), without reading or replaying its
// history; the others are resumed from their histories (Resume).
func (s *Service) ResumeRunning(ctx context.Context) (int, error) {
	n := 0
	machines := map[revisionKey]*asl.StateMachine{} // nil: resumed from its history
	tok := ""
	for {
		page, next, err := s.st.ListRunningLast(ctx, store.Page{Limit: resumePage, Token: tok})
		if err != nil {
			return n, fmt.Errorf("list running executions: %w", err)
		}
		m, err := s.resumePage(ctx, page, machines)
		n += m
		if err != nil {
			return n, err
		}
		if next == "" {
			return n, nil
		}
		tok = next
	}
}

// resumePage resumes a page of running executions of the store (parking
// those that wait) and returns how many; machines caches the compiled
// revisions.
func (s *Service) resumePage(ctx context.Context, page []store.RunningLast, machines map[revisionKey]*asl.StateMachine) (int, error) {
	n := 0
	var parked []*running
	defer func() { s.parkNew(parked) }()
	parents := map[string]bool{} // by Map Run ARN: whether its parent runs
	for _, r := range page {
		x := r.Execution
		if _, run, child := ChildOf(x); child {
			// Its parent's replay continues it (children.go), unless
			// its parent ended.
			if err := s.abortOrphanChild(ctx, x, run, parents); err != nil {
				return n, fmt.Errorf("resume %s: %w", x.ARN, err)
			}
			continue
		}
		if until, ok := s.parkedUntil(ctx, x, r.Last, machines); ok {
			parked = append(parked, &running{arn: x.ARN, due: until})
			n++
			continue
		}
		recorded, err := fullHistory(ctx, s.st, x.ARN)
		if err != nil {
			return n, fmt.Errorf("resume %s: %w", x.ARN, err)
		}
		if failed, err := s.quarantine(ctx, x, recorded); err != nil || failed { // quarantine.go
			if err != nil {
				return n, fmt.Errorf("resume %s: %w", x.ARN, err)
			}
			continue
		}
		if err := s.Resume(ctx, x, recorded); err != nil {
			return n, fmt.Errorf("resume %s: %w", x.ARN, err)
		}
		n++
	}
	return n, nil
}

// resumePage is how many running executions ResumeRunning reads at a time.
const resumePage = 1000

// parkedUntil tells whether a running execution of the store whose latest
// event is last can be parked without replaying its history, and until
// when (engine.ParkedUntil); machines caches the compiled revisions.
func (s *Service) parkedUntil(ctx context.Context, x *store.Execution, last *history.Event, machines map[revisionKey]*asl.StateMachine) (time.Time, bool) {
	if s.parkAfter < 0 || x.Type != TypeStandard || last == nil || last.Type != history.WaitStateEntered {
		return time.Time{}, false
	}
	key := revisionKey{x.StateMachineARN, x.RevisionID}
	m, seen := machines[key]
	if !seen {
		if rev, err := s.st.GetRevision(ctx, x.StateMachineARN, x.RevisionID); err == nil {
			sm := &store.StateMachine{ARN: x.StateMachineARN, Name: x.StateMachineName, Type: x.Type, Revision: *rev}
			m, _ = s.compiled(sm) // nil when it no longer loads: Resume fails it
		}
		machines[key] = m
	}
	if m == nil {
		return time.Time{}, false
	}
	ex := &engine.Execution{ARN: x.ARN, Machine: m, StartTime: x.StartDate}
	if m.TimeoutSeconds != nil {
		// The execution timeout counts from the latest redrive.
		if meta := s.meta(ctx, x.ARN); !meta.RedriveDate.IsZero() {
			ex.StartTime = meta.RedriveDate
		}
	}
	until, ok := s.eng.ParkedUntil(ex, last)
	if !ok || !s.worthParking(until.Sub(s.now()), last.ID) {
		return time.Time{}, false
	}
	return until, true
}

// abortOrphanChild aborts x, a running STANDARD child of the Map Run
// runARN, when its parent execution is no longer running (or the Map Run
// or the parent is gone), and ends the Map Run if it is still recorded
// as running: no replay will reach the child, as AWS aborts a Map Run's
// children when the run ends. A parent can end with a child still
// running when the process stopped between the two writes, or when the
// parent was ended without a replay (quarantine; StopExecution with
// --no-resume). parents caches by Map Run ARN whether its parent runs.
func (s *Service) abortOrphanChild(ctx context.Context, x *store.Execution, runARN string, parents map[string]bool) error {
	if s.ver == nil {
		return nil // no Map Runs kept: nothing tells the parent
	}
	running, seen := parents[runARN]
	if !seen {
		r, err := s.ver.GetMapRun(ctx, runARN)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return fmt.Errorf("get map run: %w", err)
		default:
			p, err := s.st.GetExecution(ctx, r.ExecutionARN)
			switch {
			case errors.Is(err, store.ErrNotFound):
			case err != nil:
				return fmt.Errorf("get parent: %w", err)
			default:
				running = p.Status == store.StatusRunning
				if !running && r.Status == MapRunRunning {
					r.Status, r.StopDate = MapRunAborted, s.now()
					if err := s.ver.PutMapRun(ctx, r); err != nil {
						return fmt.Errorf("end map run: %w", err)
					}
				}
			}
		}
		parents[runARN] = running
	}
	if running {
		return nil
	}
	if err := s.abortOrphan(ctx, s.st, x, nil, nil); err != nil && !errors.Is(err, store.ErrConflict) {
		return err
	}
	return nil
}
