package executions

// Limits on what one execution may cost the server, and what becomes of an
// execution whose history cannot be written:
//   - Config.MaxRunning caps the executions this process runs at once:
//     Start refuses more with ErrExecutionLimitExceeded (AWS's
//     ExecutionLimitExceeded);
//   - Config.MaxHistoryBytes caps the bytes of one execution's history:
//     the batch that would pass it is not written, and the execution is
//     failed with States.Runtime by a terminal event that is (so a
//     history always ends with its terminal event, which SQLite's 1 GB
//     value limit once prevented);
//   - the compiled definitions kept for the next start are bounded: a
//     definition compiles to 15 to 30 times its text (a 900 KB one of
//     nested intrinsics held 30 MB), so one over maxCachedDefinition is
//     compiled again at each start, and the cache holds at most
//     maxCachedDefinitions bytes of definition text;
//   - a write the store refuses for a reason that may pass (a full disk,
//     an I/O error) is tried again, with growing pauses, until it is
//     made: the execution waits in its state, RUNNING, and continues
//     once the store takes writes again, without a restart.

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
)

// ErrExecutionLimitExceeded is returned by Start when this process runs
// Config.MaxRunning executions already (AWS's ExecutionLimitExceeded).
var ErrExecutionLimitExceeded = errors.New("execution limit exceeded")

// errHistoryLimit is why a batch of events is not written: the history
// would pass Config.MaxHistoryBytes.
var errHistoryLimit = errors.New("the execution's history would exceed its size limit")

// historyBytes is what events count against Config.MaxHistoryBytes: a
// resumed or redriven execution's budget counts the work it replays.
func historyBytes(events []history.Event) int64 {
	var n int64
	for i := range events {
		n += events[i].Size()
	}
	return n
}

// charge counts a batch against the execution's history budget; it
// fails, counting nothing, when the batch would pass it.
func (r *recorder) charge(events []history.Event) error {
	if r.s == nil || r.s.maxHistBytes <= 0 {
		return nil
	}
	n := historyBytes(events)
	if r.histBytes+n > r.s.maxHistBytes {
		return errHistoryLimit
	}
	r.histBytes += n
	return nil
}

// unrecordable reports whether a batch can never be written as it is (its
// size), though the store works: the execution is failed then.
func unrecordable(err error) bool {
	return errors.Is(err, errHistoryLimit) || strings.Contains(err.Error(), "too big")
}

// transient reports whether a failed write may succeed later (a full
// disk, an I/O error): every failure but the store's verdicts on the
// write itself, and unrecordable batches.
func transient(err error) bool {
	return !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrNotFound) &&
		!errors.Is(err, store.ErrLeaseLost) && !errors.Is(err, ErrShuttingDown) && !unrecordable(err)
}

// Pauses between the attempts of a write that failed for a reason that
// may pass.
const (
	firstWritePause = 50 * time.Millisecond
	maxWritePause   = 2 * time.Second
)

// append appends a batch, trying again while the store fails in a way
// that may pass, until the write is made or the service closes.
func (r *recorder) append(events []history.Event, end *store.End) error {
	pause := firstWritePause
	var warned time.Time
	for {
		err := r.st.AppendHistory(context.Background(), r.arn, events, end)
		if err == nil || r.s == nil || !transient(err) {
			return err
		}
		if now := time.Now(); now.Sub(warned) > time.Minute {
			warned = now
			r.s.log.Warn("history write failed; the execution waits and tries again", "arn", r.arn, "err", err)
		}
		t := time.NewTimer(pause)
		select {
		case <-r.s.ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		pause = min(2*pause, maxWritePause)
	}
}

// failUnrecordable closes the execution with an ExecutionFailed event
// after the last one written, when a batch cannot be written (err): the
// engine fails the execution for it too, and its later events, the
// terminal one included, are dropped (Record).
func (r *recorder) failUnrecordable(err error) {
	r.broken = err
	prev := r.lastID.Load()
	now := time.Now()
	if r.s != nil {
		now = r.s.now()
	}
	d := &history.ExecutionFailedEventDetails{Error: history.Str(fault.Runtime), Cause: history.Str("recording history: " + err.Error())}
	ev := history.Event{Timestamp: now, Type: history.ExecutionFailed, ID: prev + 1, PreviousEventID: prev, ExecutionFailedEventDetails: d}
	end := &store.End{Status: store.StatusFailed, StopDate: now, Error: d.Error, Cause: d.Cause}
	if werr := r.append([]history.Event{ev}, end); werr != nil {
		if r.s != nil {
			r.s.log.Error("fail execution", "arn", r.arn, "err", werr)
		}
		return
	}
	r.closed = true
	r.lastID.Store(ev.ID)
	if r.watch != nil {
		r.watch.Recorded([]history.Event{ev})
	}
}

// terminalEvent is the event that closes an execution ending with res
// after event prev: closeUnrecorded writes it when the engine's own could
// not be.
func terminalEvent(end *store.End, prev int64) history.Event {
	ev := history.Event{Timestamp: end.StopDate, ID: prev + 1, PreviousEventID: prev}
	switch end.Status {
	case store.StatusSucceeded:
		out := "{}"
		if end.Output != nil {
			out = *end.Output
		}
		ev.Type = history.ExecutionSucceeded
		ev.ExecutionSucceededEventDetails = &history.ExecutionSucceededEventDetails{Output: out, OutputDetails: history.Data(false)}
	case store.StatusAborted:
		ev.Type = history.ExecutionAborted
		ev.ExecutionAbortedEventDetails = &history.ExecutionAbortedEventDetails{Error: end.Error, Cause: end.Cause}
	case store.StatusTimedOut:
		ev.Type = history.ExecutionTimedOut
		ev.ExecutionTimedOutEventDetails = &history.ExecutionTimedOutEventDetails{Error: end.Error, Cause: end.Cause}
	default:
		ev.Type = history.ExecutionFailed
		ev.ExecutionFailedEventDetails = &history.ExecutionFailedEventDetails{Error: end.Error, Cause: end.Cause}
	}
	return ev
}

// Bounds of the compiled definitions cache (Service.Cache).
const (
	maxCachedDefinition  = 256 << 10
	maxCachedDefinitions = 4 << 20
)

// cacheable reports whether a compiled definition is small enough to keep.
func cacheable(sm *asl.StateMachine) bool { return len(sm.Definition) <= maxCachedDefinition }

// trimMachines drops cached definitions (any) until their texts take at
// most maxCachedDefinitions bytes; call with s.machMu held.
func (s *Service) trimMachines() {
	for k, m := range s.machines {
		if s.machBytes <= maxCachedDefinitions {
			return
		}
		s.machBytes -= len(m.Definition)
		delete(s.machines, k)
	}
}

// executionLimit tells why Start must refuse a new execution ("" when it
// need not): this process is over its memory budget (Config.Overloaded),
// or runs Config.MaxRunning executions already.
func (s *Service) executionLimit() string {
	if s.overloaded != nil && s.overloaded() {
		return "The server is over its memory budget: retry once running executions have ended."
	}
	if s.maxRunning <= 0 {
		return ""
	}
	s.mu.Lock()
	n := len(s.runs)
	s.mu.Unlock()
	if n >= s.maxRunning {
		return "This server runs at most " + strconv.Itoa(s.maxRunning) + " executions at once."
	}
	return ""
}
