package api

import (
	"context"
	"errors"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/store"
)

// executeRecorded runs a StartSyncExecution execution to its end while
// recording its row and history in the Express store (Config.ExpressHistory),
// so that DescribeExecution, GetExecutionHistory and StopExecution work on
// its ARN, during the run and, within the store's bound, after it.
func (s *Server) executeRecorded(ctx context.Context, ex *engine.Execution, r *startRequest) (engine.Result, error) {
	x := &store.Execution{
		ARN: ex.ARN, Name: ex.Name, StateMachineARN: ex.StateMachineARN, StateMachineName: ex.StateMachineName,
		RevisionID: r.sm.RevisionID, Type: typeExpress, Status: store.StatusRunning, Input: ex.Input,
		TraceHeader: r.trace, StartDate: ex.StartTime,
	}
	if err := s.express.CreateExecution(ctx, x); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return engine.Result{}, errExecutionAlreadyExists(x.ARN)
		}
		return engine.Result{}, storeErr(err)
	}
	rec := &recorder{st: s.express, arn: ex.ARN}
	// As in launch: registered before StopExecution can look for it.
	s.mu.Lock()
	run := s.eng.Start(ctx, ex, rec)
	s.runs[ex.ARN] = run
	s.mu.Unlock()
	<-run.Done()
	s.mu.Lock()
	delete(s.runs, ex.ARN)
	s.mu.Unlock()
	res := run.Result()
	if !rec.closed {
		err := s.express.AppendHistory(context.Background(), ex.ARN, nil, endOf(res))
		if err != nil && !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrNotFound) {
			s.log.Error("close execution", "arn", ex.ARN, "err", err)
		}
	}
	return res, nil
}
