package engine

import (
	"fmt"
	"time"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/history"
)

// errParked is the cancellation cause of a run whose execution was
// parked (Execution.Park): like ErrShutdown, it ends the run without
// ending the execution.
var errParked = fmt.Errorf("%w: execution parked", ErrShutdown)

// park offers the execution to its Park hook as its top-level thread
// begins to wait d counted from at (the Wait state's Entered event, which
// the caller has flushed). When the hook takes it, the run ends RUNNING
// as at ErrShutdown and park returns true: the caller returns without
// recording anything more. A branch or iteration never parks (its
// siblings run on), nor an execution without history, stopping, or still
// replaying recorded events past this wait.
func (t *thread) park(at time.Time, d time.Duration) bool {
	ex := t.ex
	if ex.x.Park == nil || t.name != "" || ex.rec == nil || at.IsZero() || ex.ctx.Err() != nil {
		return false
	}
	if ex.replay != nil && t.log.next() != nil {
		return false
	}
	ex.mu.Lock()
	failed := ex.fatal != nil
	ex.mu.Unlock()
	if failed || !ex.x.Park(ex.wakeAt(at.Add(d))) {
		return false
	}
	ex.cancel(errParked)
	return true
}

// wakeAt is when a run waiting until until must act again: then, or at
// the machine's TimeoutSeconds if that is earlier.
func (ex *execution) wakeAt(until time.Time) time.Time {
	if sm := ex.x.Machine; sm != nil && sm.TimeoutSeconds != nil && *sm.TimeoutSeconds > 0 {
		if dl := ex.x.StartTime.Add(ex.e.scaled(float64(*sm.TimeoutSeconds))); dl.Before(until) {
			return dl
		}
	}
	return until
}

// ParkedUntil tells when an execution whose latest recorded event is last
// would act again, when last is the Entered event of a Wait state at its
// top level whose end the definition fixes (Seconds or Timestamp): the
// Wait's end, or the machine's TimeoutSeconds if that is earlier (counted
// from x.StartTime, as Resume counts it). ok is false for any other event
// or Wait: resume the execution from its history instead. It lets a
// caller park an execution again after a restart without replaying its
// history (Execution.Park).
func (e *Engine) ParkedUntil(x *Execution, last *history.Event) (until time.Time, ok bool) {
	if x == nil || x.Machine == nil || last == nil || last.Type != history.WaitStateEntered ||
		last.Thread != "" || last.StateEnteredEventDetails == nil {
		return time.Time{}, false
	}
	st := x.Machine.States[last.StateEnteredEventDetails.Name]
	if st == nil || st.Type != asl.TypeWait {
		return time.Time{}, false
	}
	at := last.Timestamp
	var secs float64
	switch {
	case st.Seconds != nil:
		secs = float64(*st.Seconds)
	case st.Timestamp != nil:
		secs = st.Timestamp.Sub(at).Seconds() // as waitSeconds computes it
	default:
		return time.Time{}, false
	}
	if secs <= 0 || secs > maxWaitSeconds {
		return time.Time{}, false
	}
	ex := &execution{e: e, x: x}
	return ex.wakeAt(at.Add(e.scaled(secs))), true
}
