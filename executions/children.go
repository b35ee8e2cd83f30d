package executions

// Child executions of Distributed Maps: the Service is the engine's
// ChildRunner. A STANDARD child is a Standard execution of the main store
// with its own row and history, driven like the executions Start starts
// (Describe, GetExecutionHistory and Stop reach it), and run on its
// parent's goroutine until it ends.
//
// Its row names, as its state machine, the key of its Map Run
// (arn:…:stateMachine:<machine>/<label>:<run id>, ChildKey), so that the
// store's ListExecutions by state machine lists one Map Run's children
// (ListExecutions by mapRunArn); ChildOf turns the key back into the
// state machine ARN AWS shows (arn:…:stateMachine:<machine>/<label>) and
// the Map Run ARN.
//
// An EXPRESS child runs inside its parent (engine.ExpressRecorder): its
// row, without history, is kept in the Express store with the closed
// Express executions (the oldest forgotten first, within
// --express-retention and their share of the memory budget), as AWS
// keeps Express executions only in its logs; it names its Map Run's key
// as its state machine too, so that ChildOf and ChildStore find it.
//
// Running a child that exists already is how a parent resumed after a
// crash, or redriven, finds the work done: a closed child gives its
// recorded end without running again, a running one (the process stopped
// while it ran) continues from its history, and a child that ended
// unsuccessfully is redriven once per redrive of its parent (AWS's Map
// Run redrive). Children are not resumed at start by ResumeRunning: their
// parent's replay reaches them.

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/store"
)

// ChildKey is the state machine ARN that the rows of the Map Run
// runARN's children name (see above).
func ChildKey(runARN string) string {
	return strings.Replace(runARN, ":mapRun:", ":stateMachine:", 1)
}

// ChildOf tells whether x is the child execution of a Distributed Map,
// and returns its state machine ARN as AWS shows it and its Map Run's
// ARN.
func ChildOf(x *store.Execution) (machineARN, mapRunARN string, ok bool) {
	const typ = ":stateMachine:"
	i := strings.Index(x.StateMachineARN, typ)
	if i < 0 || !strings.Contains(x.StateMachineARN[i+len(typ):], "/") {
		return "", "", false
	}
	j := strings.LastIndexByte(x.StateMachineARN, ':')
	return x.StateMachineARN[:j], strings.Replace(x.StateMachineARN, typ, ":mapRun:", 1), true
}

var _ engine.ChildRunner = (*Service)(nil)

// RunChild implements engine.ChildRunner.
func (s *Service) RunChild(ctx context.Context, c *engine.Child) engine.Result {
	if ctx.Err() != nil {
		return s.unstarted(ctx)
	}
	ex := &c.Execution
	ex.Children = s
	row := &store.Execution{
		ARN: ex.ARN, Name: ex.Name, StateMachineARN: ChildKey(c.MapRunARN), StateMachineName: ex.StateMachineName,
		Type: TypeStandard, Status: store.StatusRunning, Input: ex.Input, StartDate: ex.StartTime,
	}
	sctx := context.WithoutCancel(ctx)
	var plan *redrivePlan
	err := s.st.CreateExecution(sctx, row, nil, nil)
	if errors.Is(err, store.ErrAlreadyExists) {
		var done *engine.Result
		plan, done, err = s.rejoin(sctx, c)
		if done != nil {
			return *done
		}
	}
	if err != nil {
		return childFailed(err)
	}
	return s.driveChild(ctx, ex, plan)
}

var _ engine.ExpressRecorder = (*Service)(nil)

// ExpressChildStarted implements engine.ExpressRecorder: the child's row
// in the Express store (none without one of its own: EXPRESS children
// never touch the main store).
func (s *Service) ExpressChildStarted(c *engine.Child) {
	if s.express == s.st {
		return
	}
	row := &store.Execution{
		ARN: c.ARN, Name: c.Name, StateMachineARN: s.childKey(c.MapRunARN), StateMachineName: c.StateMachineName,
		Type: TypeExpress, Status: store.StatusRunning, Input: c.Input, StartDate: c.StartTime,
	}
	// ErrAlreadyExists: its parent resumed runs it again in the same
	// process; it keeps its first row.
	if err := s.express.CreateExecution(context.Background(), row, nil, nil); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
		s.log.Warn("record express child", "arn", c.ARN, "err", err)
	}
}

// childKey is ChildKey(runARN), remembered for the Map Run whose
// EXPRESS children were last recorded (one string per child otherwise).
func (s *Service) childKey(runARN string) string {
	if k := s.lastChildKey.Load(); k != nil && k[0] == runARN {
		return k[1]
	}
	k := &[2]string{runARN, ChildKey(runARN)}
	s.lastChildKey.Store(k)
	return k[1]
}

// ExpressChildEnded implements engine.ExpressRecorder: the child's row is
// closed with its end.
func (s *Service) ExpressChildEnded(c *engine.Child, r engine.Result) {
	if s.express == s.st {
		return
	}
	err := s.express.AppendHistory(context.Background(), c.ARN, nil, s.endOf(r))
	// ErrNotFound: the store keeps no closed executions, or could not
	// record it. ErrConflict: closed already.
	if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrConflict) {
		s.log.Warn("close express child", "arn", c.ARN, "err", err)
	}
}

// ChildStore returns the store that holds the children of the Map Run
// runARN: the Express store when it holds any of them (EXPRESS children),
// else the main store.
func (s *Service) ChildStore(ctx context.Context, runARN string) (store.Store, error) {
	if s.express == s.st {
		return s.st, nil
	}
	xs, _, err := s.express.ListExecutions(ctx, store.ExecutionFilter{StateMachineARN: ChildKey(runARN)}, store.Page{Limit: 1})
	if err != nil {
		return nil, fmt.Errorf("list express children: %w", err)
	}
	if len(xs) > 0 {
		return s.express, nil
	}
	return s.st, nil
}

// unstarted is the result of a child whose parent ended before it
// started.
func (s *Service) unstarted(ctx context.Context) engine.Result {
	if errors.Is(context.Cause(ctx), engine.ErrShutdown) {
		return engine.Result{Status: engine.StatusRunning}
	}
	return engine.Result{Status: engine.StatusAborted, StopTime: s.now()}
}

// childFailed is the result of a child the store could not record.
func childFailed(err error) engine.Result {
	name, cause := fault.Runtime, "Stepwell could not record the child execution: "+err.Error()
	return engine.Result{Status: engine.StatusFailed, Error: &name, Cause: &cause}
}

// rejoin finds the child c already recorded (its parent runs again): it
// returns its end when it is final, or the plan that continues it (a
// running child) or redrives it.
func (s *Service) rejoin(ctx context.Context, c *engine.Child) (*redrivePlan, *engine.Result, error) {
	old, err := s.st.GetExecution(ctx, c.ARN)
	if err != nil {
		return nil, nil, err
	}
	ex := &c.Execution
	ex.StartTime, ex.Input = old.StartDate, old.Input
	meta := s.meta(ctx, c.ARN)
	if !meta.RedriveDate.IsZero() {
		ex.RedriveCount, ex.RedriveTime, ex.StartTime = meta.RedriveCount, meta.RedriveDate, meta.RedriveDate
	}
	switch old.Status {
	case store.StatusRunning:
		if s.cluster != nil {
			// The child may be owned by the process that drove the parent
			// before (dead: its parent was taken over): Claim leaves
			// children to be adopted here, with their parent.
			ok, err := s.cluster.Adopt(ctx, c.ARN)
			if err != nil {
				return nil, nil, err
			}
			if !ok {
				return nil, nil, fmt.Errorf("child execution %s is driven by another live server", c.ARN)
			}
		}
		events, err := fullHistory(ctx, s.st, c.ARN)
		if err != nil {
			return nil, nil, err
		}
		return planResume(events), nil, nil
	case store.StatusSucceeded:
	default:
		if s.ver != nil && s.reopen != nil && meta.RedriveCount < c.ParentRedriveCount {
			now := s.now()
			plan, meta, err := s.reopenRedriven(ctx, old, s.st, meta, now, nil)
			if err != nil {
				return nil, nil, err
			}
			ex.RedriveCount, ex.RedriveTime, ex.StartTime = meta.RedriveCount, now, now
			return plan, nil, nil
		}
	}
	res := engine.Result{Status: engine.Status(old.Status), Output: old.Output, Error: old.Error, Cause: old.Cause, StopTime: old.StopDate}
	return nil, &res, nil
}

// driveChild runs the child ex (continuing plan's history when not nil)
// until it ends, and stops it when its parent's ctx ends first: it is
// aborted, or left running when the process stops.
func (s *Service) driveChild(ctx context.Context, ex *engine.Execution, plan *redrivePlan) engine.Result {
	extra := &recExtra{s: s, executionARN: ex.ARN, machine: ex.Machine, started: plan != nil, redrive: plan}
	if s.ver != nil {
		ex.MapRunCounts = extra.progress // its own Distributed Maps (mapruns.go)
	}
	rec := &recorder{st: s.st, arn: ex.ARN, extra: extra, s: s,
		watch: s.watch(Watched{ExecutionARN: ex.ARN, StateMachineARN: ex.StateMachineARN, Type: TypeStandard,
			Start: ex.StartTime, RedriveCount: ex.RedriveCount})}
	if plan != nil {
		rec.lastID.Store(plan.base) // the latest event stored
	}
	cctx, cancel := context.WithCancelCause(s.ctx)
	defer cancel(nil)
	s.wg.Add(1)
	defer s.wg.Done()
	s.mu.Lock()
	var run *engine.Run
	if plan != nil {
		extra.replayed(plan.replay)
		run = s.eng.Resume(cctx, ex, plan.replay, rec)
	} else {
		run = s.eng.Start(cctx, ex, rec)
	}
	r := s.register(ex.ARN, run)
	s.mu.Unlock()
	select {
	case <-run.Done():
	case <-ctx.Done():
		if errors.Is(context.Cause(ctx), engine.ErrShutdown) || s.ctx.Err() != nil {
			cancel(engine.ErrShutdown)
		} else {
			run.Stop("", "")
		}
		<-run.Done()
	}
	res := run.Result()
	if res.Status != engine.StatusRunning {
		s.closeUnrecorded(s.st, rec, ex.ARN, res)
	}
	s.unregister(ex.ARN, r)
	return res
}
