package executions

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
)

// stopWait bounds how long Stop waits for a stopped execution to record
// its end.
const stopWait = 10 * time.Second

// Stop aborts a running execution with an optional error and cause and
// returns its stop date; stopping a closed execution returns the date it
// closed. An execution no engine run drives (the server restarted and its
// run is gone) is closed here.
func (s *Service) Stop(ctx context.Context, executionARN string, errName, cause *string) (time.Time, error) {
	x, st, err := s.Get(ctx, executionARN)
	if err != nil {
		return time.Time{}, err
	}
	if x.Status != store.StatusRunning {
		return x.StopDate, nil
	}
	if ended := s.stopRunning(x.ARN, deref(errName), deref(cause)); ended != nil {
		t := s.clock.NewTimer(stopWait)
		select {
		case <-ended:
		case <-ctx.Done():
			t.Stop()
			return time.Time{}, ctx.Err()
		case <-t.C():
		}
		t.Stop()
	} else if s.cluster != nil && st == s.st {
		// Another process drives it (several share the store).
		if err := s.stopElsewhere(ctx, x, errName, cause); err != nil {
			return time.Time{}, err
		}
	} else if err := s.abortOrphan(ctx, st, x, errName, cause); err != nil && !errors.Is(err, store.ErrConflict) {
		return time.Time{}, err
	}
	var stop time.Time
	// An Express store that keeps no closed executions forgets the
	// execution as soon as it has stopped: then it stopped now.
	if x, err = st.GetExecution(ctx, x.ARN); err == nil {
		stop = x.StopDate
	} else if !errors.Is(err, store.ErrNotFound) {
		return time.Time{}, fmt.Errorf("get execution: %w", err)
	}
	if stop.IsZero() {
		stop = s.now()
	}
	return stop, nil
}

// stopRunning asks an execution this process drives to stop and returns
// the channel closed once its end is recorded (nil if it drives none). A parked execution is revived to be
// stopped, as a running one: its Wait is aborted the same way.
func (s *Service) stopRunning(executionARN, errName, cause string) <-chan struct{} {
	s.mu.Lock()
	r := s.runs[executionARN]
	if r == nil {
		s.mu.Unlock()
		return nil
	}
	if r.stop == nil {
		r.stop = &stopReq{err: errName, cause: cause}
	}
	run, ended := r.run, r.endedChan()
	revive := r.state == parked
	if revive {
		s.timers.remove(r)
		r.state = reviving
	}
	if r.state != live {
		run = nil // parking: stopped once parked; reviving: once launched
	}
	s.mu.Unlock()
	if run != nil {
		run.Stop(errName, cause)
	}
	if revive {
		s.goRevive(r)
	}
	return ended
}

// abortOrphan closes a running execution that no engine run drives.
func (s *Service) abortOrphan(ctx context.Context, st store.Store, x *store.Execution, errName, cause *string) error {
	last, _, err := st.History(ctx, x.ARN, true, store.Page{Limit: 1})
	if err != nil {
		return fmt.Errorf("read history: %w", err)
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
	if err := st.AppendHistory(ctx, x.ARN, []history.Event{ev},
		&store.End{Status: store.StatusAborted, StopDate: now, Error: d.Error, Cause: d.Cause}); err != nil {
		return fmt.Errorf("abort execution: %w", err)
	}
	return nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
