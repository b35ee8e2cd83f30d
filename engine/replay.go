package engine

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/value"
)

// InFlightCause is the cause of the States.TaskFailed error a task attempt
// fails with when it was in flight at a crash: its …Started event is in the
// recorded history but no result is. The attempt is not invoked again.
const InFlightCause = "The task was in flight when Stepwell stopped; it was not invoked again (at most once per attempt)."

// replayQueue is one thread's recorded events, in id order, and how many
// the replaying thread has consumed. Only the thread of that name touches
// pos; threads of one name never run concurrently.
type replayQueue struct {
	events []history.Event
	pos    int
}

// Resume continues a Standard execution from its recorded history (the
// events a Recorder acknowledged before the process stopped) and returns
// the new Run. rec receives only the events that are new.
//
// Recovery is a deterministic replay. The machine runs again from the
// execution input; each line of control (the top level "", Parallel branch
// "b<i>", Map iteration "m<i>", nested "m3/b0", and "m<i>r<n>" / "b<i>r<n>"
// in the n-th retry of the Map or Parallel, told apart by Event.Thread)
// consumes its own recorded events in id order instead of emitting new
// ones, and switches to live mode when they run out: new events get ids
// following the highest recorded id, and timestamps of now. While
// replaying:
//
//   - A task attempt whose result (…Succeeded, …Failed, …TimedOut) is
//     recorded takes that result; it is not invoked.
//   - A task attempt open at the crash (its scheduling is recorded, its
//     result is not) is never invoked a second time; what happens depends
//     on how far it got, as the next four items say.
//   - An activity task whose ActivityScheduled is recorded but not its
//     ActivityStarted had not reached a worker: it goes back to its
//     activity's queue (same attempt and token, no new ActivityScheduled;
//     ActivityStarted is recorded when a worker receives it).
//   - An activity task whose ActivityStarted is recorded, and a
//     .waitForTaskToken task whose TaskStarted (or TaskSubmitted) is
//     recorded, handed out its token: when the Invoker is a Resumer, the
//     attempt keeps waiting on the same token (SendTaskSuccess, Failure
//     and Heartbeat on it work after the restart when Config.TokenKey is
//     the same), without re-running anything.
//   - In both cases TimeoutSeconds counts from the recorded
//     ActivityScheduled or TaskStarted, HeartbeatSeconds from the recorded
//     ActivityStarted or TaskStarted (heartbeats are not recorded).
//   - Any other such attempt (Lambda, HTTP, .sync and request-response
//     tasks, or an Invoker that is no Resumer) was in flight: it is not
//     invoked again, it fails with States.TaskFailed and the cause
//     InFlightCause, recorded as the usual …Failed event, and Retry and
//     Catch apply as usual (a retry is a new attempt and is invoked).
//   - Wait states and retry backoffs end at their original due time: the
//     recorded Entered (or …Failed) event's timestamp plus the wait; the
//     engine sleeps only what remains, nothing when overdue or when the
//     thread's recorded history shows the wait already ended.
//   - Where a recorded state output or assignedVariables differ from the
//     recomputed ones (States.UUID, random numbers), the recorded values win.
//   - Finished Map iterations and Parallel branches replay from their
//     events without invoking anything; unfinished ones continue mid-way;
//     ones the recording shows never started (their Map or Parallel
//     attempt had been cancelled by a failure) are not started. A thread
//     replays all its recorded events even if a failure that is new in
//     this run (an in-flight attempt) cancels its siblings meanwhile.
//   - The execution timeout counts from x.StartTime.
//
// To stop a process without ending its executions, cancel the context
// given to Start or Resume with the cause ErrShutdown: runs end with status
// RUNNING and no terminal event, ready for Resume.
//
// Distributed Map item runs record no events: a Distributed Map that had
// not ended at the crash runs its items again (their tasks may be invoked
// again).
//
// A history that already ends with a terminal event returns that result at
// once without running anything. A history that does not start with
// ExecutionStarted, whose ids are not 1, 2, 3…, or that the replay does not
// reproduce (the definition changed, the store lost Thread tags) fails the
// execution with States.Runtime and a cause saying so; nothing recorded is
// rewritten. An empty history starts the execution afresh.
func (e *Engine) Resume(ctx context.Context, x *Execution, recorded []history.Event, rec Recorder) *Run {
	if len(recorded) == 0 {
		return e.Start(ctx, x, rec)
	}
	if rec == nil {
		rec = discard{}
	}
	ex := newExecution(e, ctx, x, rec)
	r := &Run{ex: ex, done: make(chan struct{})}
	if res, ok := terminalResult(recorded); ok {
		ex.cancel(nil)
		r.result = res
		close(r.done)
		return r
	}
	bad := ex.loadReplay(recorded)
	ex.resuming = true
	e.resumeStarted()
	go func() {
		defer ex.settle()
		if bad != nil {
			r.result = ex.finishFailed(bad)
			ex.cancel(nil)
		} else {
			r.result = ex.run()
		}
		close(r.done)
	}()
	return r
}

// discard is the Recorder of a Resume called without one.
type discard struct{}

func (discard) Record([]history.Event) error { return nil }

// terminalResult reports the result of a history that already ended.
func terminalResult(evs []history.Event) (Result, bool) {
	for i := len(evs) - 1; i >= 0; i-- {
		ev := &evs[i]
		var r Result
		switch ev.Type {
		case history.ExecutionSucceeded:
			r.Status = StatusSucceeded
			if d := ev.ExecutionSucceededEventDetails; d != nil {
				r.Output = history.Str(d.Output)
			} else {
				r.Output = history.Str("null")
			}
		case history.ExecutionFailed:
			r.Status = StatusFailed
			if d := ev.ExecutionFailedEventDetails; d != nil {
				r.Error, r.Cause = d.Error, d.Cause
			}
		case history.ExecutionAborted:
			r.Status = StatusAborted
			if d := ev.ExecutionAbortedEventDetails; d != nil {
				r.Error, r.Cause = d.Error, d.Cause
			}
		case history.ExecutionTimedOut:
			r.Status = StatusTimedOut
			if d := ev.ExecutionTimedOutEventDetails; d != nil {
				r.Error, r.Cause = d.Error, d.Cause
			}
		default:
			continue
		}
		r.StopTime = ev.Timestamp
		return r, true
	}
	return Result{}, false
}

// resumeFault is the States.Runtime failure of a history that cannot be
// resumed.
func resumeFault(why string) *fault.Error {
	return fault.New(fault.Runtime, "Stepwell could not resume this execution from its recorded history: "+why)
}

// loadReplay checks the recorded history and splits it per thread. New
// ids continue after the highest recorded one whatever happens.
func (ex *execution) loadReplay(evs []history.Event) *fault.Error {
	var maxID int64
	for i := range evs {
		if evs[i].ID > maxID {
			maxID = evs[i].ID
		}
	}
	ex.nextID = maxID
	sorted := make([]history.Event, len(evs))
	copy(sorted, evs)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	for i := range sorted {
		if want := int64(i + 1); sorted[i].ID != want {
			return resumeFault("event ids are not consecutive (expected id " + strconv.FormatInt(want, 10) +
				", found " + strconv.FormatInt(sorted[i].ID, 10) + ").")
		}
	}
	if sorted[0].Type != history.ExecutionStarted || sorted[0].Thread != "" {
		return resumeFault("it does not start with ExecutionStarted.")
	}
	ex.total = int64(len(sorted))
	ex.replay = make(map[string]*replayQueue)
	for i := range sorted {
		name := sorted[i].Thread
		q := ex.replay[name]
		if q == nil {
			q = &replayQueue{}
			ex.replay[name] = q
		}
		q.events = append(q.events, sorted[i])
	}
	return nil
}

// queue is the recorded-event queue of a thread (nil when not resuming).
func (ex *execution) queue(name string) *replayQueue {
	if ex.replay == nil {
		return nil
	}
	return ex.replay[name]
}

// endReplay switches every thread to live mode (before terminal events).
func (ex *execution) endReplay() { ex.replayOff.Store(true) }

// mismatch fails the execution when the replay does not reproduce its
// recorded history.
func (ex *execution) mismatch(rec *history.Event, got history.EventType) {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	ex.replayOff.Store(true)
	if ex.fatal != nil {
		return
	}
	want := "nothing"
	if got != "" {
		want = string(got)
	}
	thread := "the top level"
	if rec.Thread != "" {
		thread = "thread " + rec.Thread
	}
	ex.fatal = resumeFault("event " + strconv.FormatInt(rec.ID, 10) + " (" + thread + ") is " + string(rec.Type) +
		" but the state machine now gives " + want + " there; the definition or the history changed.")
	ex.cancel(errFatal)
}

// consume takes the thread's next recorded event in place of ev, which
// must have the same type. ok is false when the thread is live.
func (t *thread) consume(ev *history.Event) (int64, bool) {
	t.replayed = false
	rec := t.peek()
	if rec == nil {
		t.q = nil
		return 0, false
	}
	if ev == nil || rec.Type != ev.Type {
		var got history.EventType
		if ev != nil {
			got = ev.Type
		}
		t.ex.mismatch(rec, got)
		t.q = nil
		return 0, false
	}
	t.q.pos++
	t.ex.consumed.Add(1)
	t.last = rec.ID
	t.lastAt = rec.Timestamp
	t.replayed = true
	return rec.ID, true
}

// peek returns the thread's next recorded event, or nil when it is live.
func (t *thread) peek() *history.Event {
	q := t.q
	if q == nil || q.pos >= len(q.events) || t.ex.replayOff.Load() {
		return nil
	}
	return &q.events[q.pos]
}

// child names a Parallel branch ('b') or Map iteration ('m') thread. A
// retry attempt of the Map or Parallel gets names of its own ("m3r1"): the
// iterations an attempt started before it failed depend on timing, so two
// attempts must never share a thread's recorded events.
func (t *thread) child(kind byte, i int, attempt int64) string {
	if t.ex.rec == nil {
		return ""
	}
	n := string(kind) + strconv.Itoa(i)
	if attempt > 0 {
		n += "r" + strconv.FormatInt(attempt, 10)
	}
	if t.name != "" {
		n = t.name + "/" + n
	}
	return n
}

// isAbort tells the *Aborted event types a cancelled state records.
func isAbort(typ history.EventType) bool {
	return strings.HasSuffix(string(typ), "Aborted") && typ != history.ExecutionAborted
}

// errReplayAbort tells a replaying thread that its recorded history goes
// on with an abort: the state was cancelled there (a sibling failed).
var errReplayAbort = &fault.Error{Name: "replay abort", HasName: true}

// sleepFrom waits d counted from at (the thread's latest event) and
// returns ctx's error when cancelled. Live, it sleeps d. Resuming, it
// sleeps what remains until at+d; not at all when the thread's recorded
// history goes on (the wait ended before the crash); and when that history
// goes on with an abort it returns an error at once, so the caller records
// the abort as it was.
func (t *thread) sleepFrom(at time.Time, d time.Duration) error {
	if t.ex.replay != nil {
		if rev := t.peek(); rev != nil {
			if isAbort(rev.Type) {
				return errReplayAbort
			}
			return nil
		}
		if !at.IsZero() {
			d = at.Add(d).Sub(t.ex.now())
		}
	}
	t.settled()
	if d <= 0 {
		return t.ctx.Err()
	}
	return t.ex.e.clock.Sleep(t.ctx, d)
}

// settled is called where a thread may block for long (a wait, a task, a
// reopened token): once every recorded event has been consumed, the
// execution's replay has settled (Engine.WaitResumed). A replay that
// failed has settled too; the end of the run settles it in any case.
func (t *thread) settled() {
	ex := t.ex
	if ex.replay == nil {
		return
	}
	if ex.consumed.Load() >= ex.total || ex.replayOff.Load() {
		ex.settle()
	}
}

// settle marks the execution's replay as settled (once).
func (ex *execution) settle() {
	ex.settleOnce.Do(func() {
		if ex.resuming {
			ex.e.resumeDone()
		}
	})
}

// resumeStarted counts an execution whose replay has not settled.
func (e *Engine) resumeStarted() {
	e.resumeMu.Lock()
	e.resuming++
	e.resumeMu.Unlock()
}

// resumeDone counts one settled replay; it wakes WaitResumed at zero.
func (e *Engine) resumeDone() {
	e.resumeMu.Lock()
	defer e.resumeMu.Unlock()
	e.resuming--
	if e.resuming == 0 && e.resumeIdle != nil {
		close(e.resumeIdle)
		e.resumeIdle = nil
	}
}

// WaitResumed waits until every execution resumed so far has replayed its
// recorded history: each has reached its first step that is new or waits
// (a Wait state, a task, a reopened task token), or has ended. Call it
// after resuming executions and before serving SendTaskSuccess,
// SendTaskFailure and SendTaskHeartbeat, so that a token handed out
// before the restart is open again when they arrive. It returns ctx's
// error when ctx ends first.
func (e *Engine) WaitResumed(ctx context.Context) error {
	e.resumeMu.Lock()
	if e.resuming == 0 {
		e.resumeMu.Unlock()
		return nil
	}
	if e.resumeIdle == nil {
		e.resumeIdle = make(chan struct{})
	}
	ch := e.resumeIdle
	e.resumeMu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// resumeAttempt finishes a task attempt whose scheduling events were
// replayed. It replays the attempt's recorded ActivityStarted and
// TaskSubmitted, then takes its recorded result if there is one. Otherwise
// the attempt was open when the process stopped:
//
//   - an activity task no worker received (no ActivityStarted recorded)
//     goes back to its activity's queue, without a new ActivityScheduled;
//   - an activity task a worker received, and a .waitForTaskToken task,
//     wait again on the same token when the Invoker is a Resumer;
//   - any other attempt fails with the in-flight error.
//
// TimeoutSeconds counts from the recorded scheduling (ActivityScheduled,
// or TaskStarted). HeartbeatSeconds starts again at resume: heartbeats are
// not recorded, so counting from the recorded ActivityStarted/TaskStarted
// would time out every long task whose worker kept beating while the
// server was down.
func (t *thread) resumeAttempt(task *Task, info resourceInfo) (any, *fault.Error) {
	scheduledAt := t.lastAt
	delivered := false
	if rev := t.peek(); info.kind == resActivity && rev != nil && rev.Type == history.ActivityStarted {
		w := ""
		if d := rev.ActivityStartedEventDetails; d != nil {
			w = d.WorkerName
		}
		t.activityStartedEvent(w)
		delivered = true
	}
	if rev := t.peek(); rev != nil && rev.Type == history.TaskSubmitted {
		var out any
		if d := rev.TaskSubmittedEventDetails; d != nil {
			out, _ = value.ParseString(d.Output)
		}
		t.submittedEvent(info, out)
	}
	if t.peek() != nil || t.ctx.Err() != nil || t.ex.replayOff.Load() && t.q != nil && t.q.pos < len(t.q.events) {
		return t.recordedOutcome(info)
	}
	switch {
	case info.kind == resActivity && !delivered:
		// Never handed to a worker: no side effect happened.
		t.settled()
		return t.invoke(task, info, scheduledAt)
	case info.callback:
		if r, ok := t.ex.e.cfg.Invoker.(Resumer); ok {
			if res, fe, ok := t.await(r, task, scheduledAt, t.ex.e.clock.Now()); ok {
				return res, fe
			}
		}
	}
	t.settled()
	return nil, fault.New(fault.TaskFailed, InFlightCause)
}

// await waits through r for the outcome of an attempt whose token was
// handed out before the process stopped; ok is false when r cannot.
func (t *thread) await(r Resumer, task *Task, since, beatFrom time.Time) (any, *fault.Error, bool) {
	ctx, cancel := context.WithCancelCause(t.ctx)
	defer cancel(nil)
	t.deadline(ctx, cancel, task.Timeout, since)
	hb := &heartbeat{clock: t.ex.e.clock, d: task.Heartbeat}
	task.Beat = hb.beat
	task.Submitted, task.Started = nil, nil
	hb.watchFrom(ctx, cancel, beatFrom)
	wait, err := r.Resume(ctx, task)
	if errors.Is(err, ErrNotResumable) {
		return nil, nil, false
	}
	t.settled()
	if err == nil {
		var res any
		if res, err = wait(); err == nil {
			return res, nil, true
		}
	}
	return nil, taskError(ctx, err), true
}

// recordedOutcome is a replayed task attempt's result: from its recorded
// result event, or the in-flight failure when none is recorded.
func (t *thread) recordedOutcome(info resourceInfo) (any, *fault.Error) {
	rev := t.peek()
	if rev == nil {
		return nil, fault.New(fault.TaskFailed, InFlightCause)
	}
	if isAbort(rev.Type) {
		return nil, errReplayAbort
	}
	var out *string
	var errName, cause *string
	switch rev.Type {
	case history.TaskSucceeded:
		if d := rev.TaskSucceededEventDetails; d != nil {
			out = &d.Output
		}
	case history.LambdaFunctionSucceeded:
		if d := rev.LambdaFunctionSucceededEventDetails; d != nil {
			out = &d.Output
		}
	case history.ActivitySucceeded:
		if d := rev.ActivitySucceededEventDetails; d != nil {
			out = &d.Output
		}
	case history.TaskFailed:
		if d := rev.TaskFailedEventDetails; d != nil {
			errName, cause = d.Error, d.Cause
		}
	case history.TaskTimedOut:
		if d := rev.TaskTimedOutEventDetails; d != nil {
			errName, cause = d.Error, d.Cause
		}
	case history.LambdaFunctionFailed:
		if d := rev.LambdaFunctionFailedEventDetails; d != nil {
			errName, cause = d.Error, d.Cause
		}
	case history.LambdaFunctionTimedOut:
		if d := rev.LambdaFunctionTimedOutEventDetails; d != nil {
			errName, cause = d.Error, d.Cause
		}
	case history.ActivityFailed:
		if d := rev.ActivityFailedEventDetails; d != nil {
			errName, cause = d.Error, d.Cause
		}
	case history.ActivityTimedOut:
		if d := rev.ActivityTimedOutEventDetails; d != nil {
			errName, cause = d.Error, d.Cause
		}
	default:
		t.ex.mismatch(rev, "a task result")
		return nil, fault.New(fault.Runtime, "history mismatch")
	}
	if strings.HasSuffix(string(rev.Type), "Succeeded") {
		if out == nil {
			return nil, nil
		}
		v, err := value.ParseString(*out)
		if err != nil {
			t.ex.mismatch(rev, "a task result that parses")
			return nil, fault.New(fault.Runtime, "history mismatch")
		}
		return v, nil
	}
	fe := &fault.Error{}
	if errName != nil {
		fe.Name, fe.HasName = *errName, true
	}
	if cause != nil {
		fe.Cause, fe.HasCause = *cause, true
	}
	if strings.HasSuffix(string(rev.Type), "TimedOut") && !fe.HasName {
		fe.Name, fe.HasName = fault.Timeout, true
	}
	return nil, fe
}

// recordedExit makes a recorded Exited event's output and assigned
// variables win over the recomputed ones (States.UUID, random numbers).
func (t *thread) recordedExit(st *asl.State, out any, assigned *value.Object, text string) (any, *value.Object, string) {
	rev := t.peek()
	if rev == nil || rev.Type != eventTypes[st.Type][1] || rev.StateExitedEventDetails == nil {
		return out, assigned, text
	}
	d := rev.StateExitedEventDetails
	if d.Output != text {
		if v, err := value.ParseString(d.Output); err == nil {
			out, text = v, d.Output
		}
	}
	if len(d.AssignedVariables) == 0 && assigned.Len() == 0 {
		return out, assigned, text
	}
	same := len(d.AssignedVariables) == assigned.Len()
	for i := 0; same && i < assigned.Len(); i++ {
		k, v := assigned.At(i)
		rv, ok := d.AssignedVariables[k]
		same = ok && rv == value.String(v)
	}
	if same {
		return out, assigned, text
	}
	keys := make([]string, 0, len(d.AssignedVariables))
	for k := range d.AssignedVariables {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	o := value.NewObject(len(keys))
	for _, k := range keys {
		v, err := value.ParseString(d.AssignedVariables[k])
		if err != nil {
			return out, assigned, text
		}
		o.Set(k, v)
	}
	return out, o, text
}

// abortedAlone fails a Map or Parallel whose child recorded an abort when
// no sibling failed: the recorded history is not one this replay explains.
func (t *thread) abortedAlone() *failure {
	t.ex.mu.Lock()
	if t.ex.fatal == nil {
		t.ex.fatal = resumeFault("a branch or iteration was aborted in the recorded history, but none of its siblings failed in the replay.")
		t.ex.replayOff.Store(true)
		t.ex.cancel(errFatal)
	}
	t.ex.mu.Unlock()
	return t.aborted()
}

// neverStarted tells, when resuming, a Map iteration or Parallel branch
// that the recorded history shows was never started: it has no recorded
// events, and either the parent's own recorded events go on past its
// children (they had all ended) or a sibling recorded an abort (the
// attempt was cancelled, and nothing starts after that). Replay skips it,
// as the original run did: a replaying sibling that was aborted frees its
// slot before the failure that caused the abort is replayed.
func (t *thread) neverStarted(kind byte, i int, attempt int64, cancelled bool) bool {
	if t.ex.replay == nil || (!cancelled && t.peek() == nil) {
		return false
	}
	q := t.ex.queue(t.child(kind, i, attempt))
	return q == nil || len(q.events) == 0
}

// hasRecorded tells whether a child thread has recorded events left.
func (t *thread) hasRecorded(kind byte, i int, attempt int64) bool {
	if t.ex.replay == nil || t.ex.replayOff.Load() {
		return false
	}
	q := t.ex.queue(t.child(kind, i, attempt))
	return q != nil && q.pos < len(q.events)
}

// cancelledInRecord tells whether any child thread of this attempt (or a
// thread nested in one) recorded an abort.
func (t *thread) cancelledInRecord(kind byte, n int, attempt int64) bool {
	if t.ex.replay == nil {
		return false
	}
	names := make(map[string]bool, n)
	for i := 0; i < n; i++ {
		names[t.child(kind, i, attempt)] = true
	}
	base := 0
	if t.name != "" {
		base = len(t.name) + 1
	}
	for name, q := range t.ex.replay {
		if len(name) <= base || (base > 0 && !strings.HasPrefix(name, t.name+"/")) {
			continue
		}
		top := name
		if j := strings.IndexByte(name[base:], '/'); j >= 0 {
			top = name[:base+j]
		}
		if !names[top] {
			continue
		}
		for k := range q.events {
			if isAbort(q.events[k].Type) {
				return true
			}
		}
	}
	return false
}

// cancelled tells whether the thread must stop: its context is done and,
// when resuming, its recorded history does not go on (a recorded thread
// replays to its end even when a new failure cancelled its siblings).
func (t *thread) cancelled() bool {
	return t.ctx.Err() != nil && t.peek() == nil
}
