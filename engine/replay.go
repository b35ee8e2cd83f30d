package engine

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
//     recorded, handed out its token: when Config.Resumer is set, the
//     attempt keeps waiting on the same token (SendTaskSuccess, Failure
//     and Heartbeat on it work after the restart when Config.TokenKey is
//     the same), without re-running anything.
//   - In both cases TimeoutSeconds counts from the recorded
//     ActivityScheduled or TaskStarted, HeartbeatSeconds from the recorded
//     ActivityStarted or TaskStarted (heartbeats are not recorded).
//   - Any other such attempt (Lambda, HTTP, .sync and request-response
//     tasks, or one that no Config.Resumer continues) was in flight: it is not
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
		if x.Ended != nil {
			go x.Ended() // not on the caller's goroutine: it may hold locks Ended takes
		}
		return r
	}
	rp, bad := newReplayer(recorded)
	if bad != nil {
		// New ids continue after the highest recorded one whatever
		// happens; the replayer only counts for WaitResumed.
		rp = &replayer{}
	} else {
		ex.replay = rp
	}
	ex.nextID.Store(maxID(recorded))
	e.resumeStarted()
	rp.onSettle = e.resumeDone
	e.runners.run(func() {
		defer rp.settle()
		if bad != nil {
			r.result = ex.finishFailed(bad)
			ex.cancel(nil)
		} else {
			r.result = ex.run()
		}
		close(r.done)
		if x.Ended != nil {
			x.Ended()
		}
	})
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

// replayer is the recorded history of a resumed execution, split per
// thread, and how far the threads have replayed it. A nil *replayer (an
// execution that does not resume) answers that nothing is recorded.
type replayer struct {
	queues map[string]*replayQueue
	// off ends replay for every thread (a failure, or the terminal event).
	off atomic.Bool
	// total is how many events were recorded, consumed how many the
	// threads have replayed.
	total    int64
	consumed atomic.Int64
	// onSettle runs once, when the replay has settled (settle).
	onSettle   func()
	settleOnce sync.Once
}

// replayQueue is one thread's recorded events, in id order, and how many
// the replaying thread has consumed. It is that thread's eventLog while
// the thread replays. Only the thread of that name touches pos; threads
// of one name never run concurrently.
type replayQueue struct {
	r      *replayer
	events []history.Event
	pos    int
}

// maxID is the highest id of evs.
func maxID(evs []history.Event) int64 {
	var m int64
	for i := range evs {
		m = max(m, evs[i].ID)
	}
	return m
}

// newReplayer checks a recorded history and splits it per thread.
func newReplayer(evs []history.Event) (*replayer, *fault.Error) {
	sorted := make([]history.Event, len(evs))
	copy(sorted, evs)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	for i := range sorted {
		if want := int64(i + 1); sorted[i].ID != want {
			return nil, resumeFault("event ids are not consecutive (expected id " + strconv.FormatInt(want, 10) +
				", found " + strconv.FormatInt(sorted[i].ID, 10) + ").")
		}
	}
	if len(sorted) == 0 || sorted[0].Type != history.ExecutionStarted || sorted[0].Thread != "" {
		return nil, resumeFault("it does not start with ExecutionStarted.")
	}
	r := &replayer{total: int64(len(sorted)), queues: make(map[string]*replayQueue)}
	for i := range sorted {
		name := sorted[i].Thread
		q := r.queues[name]
		if q == nil {
			q = &replayQueue{r: r}
			r.queues[name] = q
		}
		q.events = append(q.events, sorted[i])
	}
	return r, nil
}

// queue is the recorded-event queue of a thread (nil when it has none).
func (r *replayer) queue(name string) *replayQueue {
	if r == nil {
		return nil
	}
	return r.queues[name]
}

// stop switches every thread to live mode (a failure; before terminal
// events).
func (r *replayer) stop() {
	if r != nil {
		r.off.Store(true)
	}
}

// stopped reports whether replay was stopped.
func (r *replayer) stopped() bool { return r != nil && r.off.Load() }

// settled is called where a thread may block for long (a wait, a task, a
// reopened token): once every recorded event has been consumed, the
// execution's replay has settled (Engine.WaitResumed). A replay that
// failed has settled too; the end of the run settles it in any case.
func (r *replayer) settled() {
	if r == nil {
		return
	}
	if r.consumed.Load() >= r.total || r.off.Load() {
		r.settle()
	}
}

// settle marks the replay as settled (once).
func (r *replayer) settle() {
	if r == nil {
		return
	}
	r.settleOnce.Do(func() {
		if r.onSettle != nil {
			r.onSettle()
		}
	})
}

// neverStarted tells a Map iteration or Parallel branch (the child thread
// named name) that the recorded history shows was never started: it has
// no recorded events, and either its parent's own recorded events go on
// past its children (parentGoesOn: they had all ended) or a sibling
// recorded an abort (cancelled: the attempt was cancelled, and nothing
// starts after that). Replay skips it, as the original run did: a
// replaying sibling that was aborted frees its slot before the failure
// that caused the abort is replayed.
func (r *replayer) neverStarted(name string, parentGoesOn, cancelled bool) bool {
	if r == nil || (!cancelled && !parentGoesOn) {
		return false
	}
	q := r.queues[name]
	return q == nil || len(q.events) == 0
}

// hasRecorded tells whether the thread named name has recorded events
// left.
func (r *replayer) hasRecorded(name string) bool {
	if r == nil || r.off.Load() {
		return false
	}
	q := r.queues[name]
	return q != nil && q.pos < len(q.events)
}

// cancelledIn tells whether any of the threads named in children (the
// children of one Parallel or Map attempt of the thread named parent), or
// a thread nested in one, recorded an abort.
func (r *replayer) cancelledIn(parent string, children map[string]bool) bool {
	if r == nil {
		return false
	}
	base := 0
	if parent != "" {
		base = len(parent) + 1
	}
	for name, q := range r.queues {
		if len(name) <= base || (base > 0 && !strings.HasPrefix(name, parent+"/")) {
			continue
		}
		top := name
		if j := strings.IndexByte(name[base:], '/'); j >= 0 {
			top = name[:base+j]
		}
		if !children[top] {
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

// mismatch fails the execution when the replay does not reproduce its
// recorded history.
func (ex *execution) mismatch(rec *history.Event, got history.EventType) {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	ex.replay.stop()
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

// add consumes the thread's next recorded event in place of e, which
// must have the same type; when none is left, or it has another type (the
// replay does not reproduce the history: the execution fails), the thread
// goes live and e is recorded as new.
func (q *replayQueue) add(t *thread, e event) int64 {
	t.replayed = false
	rec := q.next()
	if rec == nil || rec.Type != e.typ {
		if rec != nil {
			t.ex.mismatch(rec, e.typ)
		}
		t.log = live
		q.r.settled()
		return t.log.add(t, e)
	}
	q.pos++
	q.r.consumed.Add(1)
	t.last = rec.ID
	t.lastAt = rec.Timestamp
	t.replayed = true
	return rec.ID
}

// next returns the thread's next recorded event, or nil when none is left
// or replay was stopped.
func (q *replayQueue) next() *history.Event {
	if q.pos >= len(q.events) || q.r.off.Load() {
		return nil
	}
	return &q.events[q.pos]
}

func (q *replayQueue) entered(t *thread, st *asl.State, typ history.EventType, text string, raw any) int64 {
	return q.add(t, event{typ: typ, st: st, text: text, data: raw})
}

// exited is liveLog.exited, where a recorded Exited event's output and
// assigned variables win over the recomputed ones.
func (q *replayQueue) exited(t *thread, st *asl.State, typ history.EventType, out any, assigned *value.Object) (any, *value.Object, *fault.Error) {
	if jsonSizeExceeds(out, t.ex.e.maxPayload) { // as liveLog.exited
		return nil, nil, dataLimit(st.Name)
	}
	text := value.String(out)
	if len(text) > t.ex.e.maxPayload {
		return nil, nil, dataLimit(st.Name)
	}
	out, assigned, text = q.recordedExit(typ, out, assigned, text)
	q.add(t, event{typ: typ, st: st, text: text, assigned: assigned})
	return out, assigned, nil
}

// attempt finishes an attempt whose scheduling events were replayed
// (resume); one whose scheduling is new is invoked.
func (q *replayQueue) attempt(t *thread, task *Task, info *resourceInfo) (any, *fault.Error) {
	if t.replayed {
		return q.resume(t, task, info)
	}
	return t.invoke(task, info, time.Time{})
}

func (q *replayQueue) spawn(t *thread, kind byte, i int, attempt int64) (string, eventLog) {
	return live.spawn(t, kind, i, attempt)
}

func (q *replayQueue) keeps() bool { return true }

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
		if rev := t.log.next(); rev != nil {
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
	defer t.yieldSlot()() // fanout.go: a waiting thread holds no slot
	return t.ex.e.clock.Sleep(t.ctx, d)
}

// settled is called where a thread may block for long: see
// replayer.settled.
func (t *thread) settled() { t.ex.replay.settled() }

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

// resume finishes a task attempt whose scheduling events were
// replayed. It replays the attempt's recorded ActivityStarted and
// TaskSubmitted, then takes its recorded result if there is one. Otherwise
// the attempt was open when the process stopped:
//
//   - an activity task no worker received (no ActivityStarted recorded)
//     goes back to its activity's queue, without a new ActivityScheduled;
//   - an activity task a worker received, and a .waitForTaskToken task,
//     wait again on the same token when Config.Resumer is set;
//   - any other attempt fails with the in-flight error.
//
// TimeoutSeconds counts from the recorded scheduling (ActivityScheduled,
// or TaskStarted). HeartbeatSeconds starts again at resume: heartbeats are
// not recorded, so counting from the recorded ActivityStarted/TaskStarted
// would time out every long task whose worker kept beating while the
// server was down.
func (q *replayQueue) resume(t *thread, task *Task, info *resourceInfo) (any, *fault.Error) {
	scheduledAt := t.lastAt
	delivered := false
	if rev := q.next(); info.kind == resActivity && rev != nil && rev.Type == history.ActivityStarted {
		w := ""
		if d := rev.ActivityStartedEventDetails; d != nil {
			w = d.WorkerName
		}
		t.activityStartedEvent(w)
		delivered = true
	}
	if rev := q.next(); rev != nil && rev.Type == history.TaskSubmitted {
		var out any
		if d := rev.TaskSubmittedEventDetails; d != nil {
			out, _ = value.ParseString(d.Output)
		}
		t.submittedEvent(info, out)
	}
	// The thread still replays (its log is q) but replay was stopped
	// with recorded events left: the outcome is not to be made anew.
	stopped := t.log == eventLog(q) && q.r.stopped() && q.pos < len(q.events)
	if q.next() != nil || t.ctx.Err() != nil || stopped {
		return q.recordedOutcome(t, info)
	}
	switch {
	case info.kind == resActivity && !delivered:
		// Never handed to a worker: no side effect happened.
		t.settled()
		return t.invoke(task, info, scheduledAt)
	case info.callback:
		if r := t.ex.e.cfg.Resumer; r != nil {
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
func (q *replayQueue) recordedOutcome(t *thread, info *resourceInfo) (any, *fault.Error) {
	rev := q.next()
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
func (q *replayQueue) recordedExit(typ history.EventType, out any, assigned *value.Object, text string) (any, *value.Object, string) {
	rev := q.next()
	if rev == nil || rev.Type != typ || rev.StateExitedEventDetails == nil {
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
		t.ex.replay.stop()
		t.ex.cancel(errFatal)
	}
	t.ex.mu.Unlock()
	return t.aborted()
}

// recordedChildren is what the recorded history of a resumed execution
// says of the children (branches or iterations) of one Parallel or Map
// attempt. A nil *recordedChildren (not resuming, or a thread that keeps
// no history) says nothing is recorded.
type recordedChildren struct {
	parent  *thread
	kind    byte
	attempt int64
	// cancelled: a child of the attempt, or a thread nested in one,
	// recorded an abort.
	cancelled bool
}

// recordedChildren reads the recorded history for the n children of kind
// ('b' or 'm') of this thread's Parallel or Map attempt.
func (t *thread) recordedChildren(kind byte, n int, attempt int64) *recordedChildren {
	if t.ex.replay == nil || !t.log.keeps() {
		return nil
	}
	names := make(map[string]bool, n)
	for i := 0; i < n; i++ {
		names[t.childName(kind, i, attempt)] = true
	}
	return &recordedChildren{parent: t, kind: kind, attempt: attempt, cancelled: t.ex.replay.cancelledIn(t.name, names)}
}

// unstarted tells child i that the recording shows never started: replay
// skips it (replayer.neverStarted).
func (rc *recordedChildren) unstarted(i int) bool {
	if rc == nil {
		return false
	}
	t := rc.parent
	return t.ex.replay.neverStarted(t.childName(rc.kind, i, rc.attempt), t.log.next() != nil, rc.cancelled)
}

// recorded tells whether child i has recorded events left: it replays
// even when a new failure cancelled its siblings.
func (rc *recordedChildren) recorded(i int) bool {
	if rc == nil {
		return false
	}
	return rc.parent.ex.replay.hasRecorded(rc.parent.childName(rc.kind, i, rc.attempt))
}

// cancelled tells whether the thread must stop: its context is done and,
// when resuming, its recorded history does not go on (a recorded thread
// replays to its end even when a new failure cancelled its siblings).
func (t *thread) cancelled() bool {
	return t.ctx.Err() != nil && t.log.next() == nil
}
