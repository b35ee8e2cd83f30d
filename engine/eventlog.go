package engine

import (
	"strconv"
	"time"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/value"
)

// eventLog is where a thread's history events go. States describe each
// event (an event value, cheap to make) and the log decides what to do
// with it: the live log builds and records it, a silent log keeps no
// history, and a replaying log (*replayQueue, replay.go) matches it with
// the thread's recorded history and goes live when that runs out. The
// states never ask which kind of log they have.
type eventLog interface {
	// add appends the event e describes to t's history, as t's latest
	// event, and returns its id (t.last when the log numbers nothing).
	add(t *thread, e event) int64
	// entered appends a state's Entered event (of type typ) for its raw
	// input, shown as text when text is not empty (the execution input as
	// given), and returns its id.
	entered(t *thread, st *asl.State, typ history.EventType, text string, raw any) int64
	// exited appends a state's Exited event (of type typ) for out and
	// assigned, after
	// the output size check; a replaying log returns the recorded output
	// and assigned variables where they differ from the recomputed ones.
	exited(t *thread, st *asl.State, typ history.EventType, out any, assigned *value.Object) (any, *value.Object, *fault.Error)
	// next is the recorded event the thread replays next; nil when live.
	next() *history.Event
	// attempt runs a task attempt whose scheduling events were just
	// added: a replaying log finishes an attempt begun before the restart
	// without invoking it again.
	attempt(t *thread, task *Task, info *resourceInfo) (any, *fault.Error)
	// spawn names the i-th child thread (kind 'b' for a Parallel branch,
	// 'm' for a Map iteration) of a Parallel or Map attempt and returns
	// its log.
	spawn(t *thread, kind byte, i int, attempt int64) (string, eventLog)
	// keeps reports whether the thread's events are kept in a history,
	// with ids and a thread name of their own (task tokens are derived
	// from the ids; only such threads replay).
	keeps() bool
}

// The logs of threads that do not replay.
var (
	// live records every event.
	live eventLog = &liveLog{}
	// counted keeps no history but numbers events, so that the history
	// limit holds: executions run without a Recorder (Express without
	// history).
	counted eventLog = &silentLog{count: true}
	// uncounted keeps nothing at all: Distributed Map item runs, which
	// record no events.
	uncounted eventLog = &silentLog{}
)

// logFor is the log of the thread named name: its recorded history when
// the execution resumes and the thread has one, else live, or counted
// when no history is kept.
func (ex *execution) logFor(name string) eventLog {
	if ex.rec == nil {
		return counted
	}
	if q := ex.replay.queue(name); q != nil {
		return q
	}
	return live
}

// event describes one history event before it is built: its type, and
// what building its details takes. Only a log that records events builds
// them (and renders values as JSON text).
type event struct {
	typ      history.EventType
	st       *asl.State    // a state's Entered and Exited events; a task's scheduling
	text     string        // Entered input (as given), Exited output, worker name, Map Run ARN
	data     any           // rendered when needed: Entered input when text is "", task input or result
	assigned *value.Object // Exited
	info     *resourceInfo // task events
	fe       *fault.Error  // task failures, MapRunFailed
	n        int64         // MapStateStarted length, Map iteration index
	timeout  *int64        // task scheduling
	beat     *int64        // task scheduling
	creds    any           // task scheduling
}

// build makes the history event e describes (id and links are set when
// it is appended).
func (e *event) build(t *thread) history.Event {
	ev := history.Event{Type: e.typ}
	switch e.typ {
	case history.ExecutionStarted:
		x := t.ex.x
		ev.Timestamp = x.StartTime
		ev.ExecutionStartedEventDetails = &history.ExecutionStartedEventDetails{Input: x.Input, InputDetails: history.Data(false), RoleArn: x.RoleARN}
	case history.PassStateEntered, history.TaskStateEntered, history.ChoiceStateEntered, history.WaitStateEntered,
		history.SucceedStateEntered, history.FailStateEntered, history.ParallelStateEntered, history.MapStateEntered:
		text := e.text
		if text == "" {
			text = value.String(e.data)
		}
		p := t.newDetails()
		p.entered = history.StateEnteredEventDetails{Name: e.st.Name, Input: text, InputDetails: history.Data(false)}
		ev.StateEnteredEventDetails = &p.entered
		t.details = p
	case history.PassStateExited, history.TaskStateExited, history.ChoiceStateExited, history.WaitStateExited,
		history.SucceedStateExited, history.ParallelStateExited, history.MapStateExited:
		var d *history.StateExitedEventDetails
		if p := t.details; p != nil && p.entered.Name == e.st.Name {
			d, t.details = &p.exited, nil
		} else {
			d = new(history.StateExitedEventDetails)
		}
		*d = history.StateExitedEventDetails{Name: e.st.Name, Output: e.text, OutputDetails: history.Data(false)}
		if a := e.assigned; a.Len() > 0 {
			d.AssignedVariables = make(map[string]string, a.Len())
			for i := 0; i < a.Len(); i++ {
				k, v := a.At(i)
				d.AssignedVariables[k] = value.String(v)
			}
			d.AssignedVariablesDetails = &history.AssignedVariablesDetails{}
		}
		ev.StateExitedEventDetails = d
	case history.LambdaFunctionScheduled:
		ev.LambdaFunctionScheduledEventDetails = &history.LambdaFunctionScheduledEventDetails{
			Resource: e.st.Resource, Input: value.String(e.data), InputDetails: history.Data(false), TimeoutInSeconds: e.timeout, TaskCredentials: taskCredentials(e.creds)}
	case history.ActivityScheduled:
		ev.ActivityScheduledEventDetails = &history.ActivityScheduledEventDetails{
			Resource: e.st.Resource, Input: value.String(e.data), InputDetails: history.Data(false), TimeoutInSeconds: e.timeout, HeartbeatInSeconds: e.beat}
	case history.TaskScheduled:
		ev.TaskScheduledEventDetails = &history.TaskScheduledEventDetails{
			ResourceType: e.info.resourceType, Resource: e.info.resource, Region: t.ex.e.cfg.Region, Parameters: value.String(e.data),
			TimeoutInSeconds: e.timeout, HeartbeatInSeconds: e.beat, TaskCredentials: taskCredentials(e.creds)}
	case history.TaskStarted:
		ev.TaskStartedEventDetails = &history.TaskStartedEventDetails{ResourceType: e.info.resourceType, Resource: e.info.resource}
	case history.LambdaFunctionSucceeded:
		ev.LambdaFunctionSucceededEventDetails = &history.LambdaFunctionSucceededEventDetails{Output: value.String(e.data), OutputDetails: history.Data(false)}
	case history.ActivitySucceeded:
		ev.ActivitySucceededEventDetails = &history.ActivitySucceededEventDetails{Output: value.String(e.data), OutputDetails: history.Data(false)}
	case history.TaskSucceeded:
		ev.TaskSucceededEventDetails = &history.TaskSucceededEventDetails{
			ResourceType: e.info.resourceType, Resource: e.info.resource, Output: value.String(e.data), OutputDetails: history.Data(false)}
	case history.LambdaFunctionTimedOut:
		n, c := errorCause(e.fe)
		ev.LambdaFunctionTimedOutEventDetails = &history.LambdaFunctionTimedOutEventDetails{Error: n, Cause: c}
	case history.LambdaFunctionFailed:
		n, c := errorCause(e.fe)
		ev.LambdaFunctionFailedEventDetails = &history.LambdaFunctionFailedEventDetails{Error: n, Cause: c}
	case history.ActivityTimedOut:
		n, c := errorCause(e.fe)
		ev.ActivityTimedOutEventDetails = &history.ActivityTimedOutEventDetails{Error: n, Cause: c}
	case history.ActivityFailed:
		n, c := errorCause(e.fe)
		ev.ActivityFailedEventDetails = &history.ActivityFailedEventDetails{Error: n, Cause: c}
	case history.TaskTimedOut:
		n, c := errorCause(e.fe)
		ev.TaskTimedOutEventDetails = &history.TaskTimedOutEventDetails{ResourceType: e.info.resourceType, Resource: e.info.resource, Error: n, Cause: c}
	case history.TaskFailed:
		n, c := errorCause(e.fe)
		ev.TaskFailedEventDetails = &history.TaskFailedEventDetails{ResourceType: e.info.resourceType, Resource: e.info.resource, Error: n, Cause: c}
	case history.TaskSubmitted:
		ev.TaskSubmittedEventDetails = &history.TaskSubmittedEventDetails{
			ResourceType: e.info.resourceType, Resource: e.info.resource, Output: value.String(e.data), OutputDetails: history.Data(false)}
	case history.ActivityStarted:
		ev.ActivityStartedEventDetails = &history.ActivityStartedEventDetails{WorkerName: e.text}
	case history.MapStateStarted:
		ev.MapStateStartedEventDetails = &history.MapStateStartedEventDetails{Length: e.n}
	case history.MapRunStarted:
		ev.MapRunStartedEventDetails = &history.MapRunStartedEventDetails{MapRunArn: e.text}
	case history.EvaluationFailed:
		n, c := errorCause(e.fe)
		ev.EvaluationFailedEventDetails = &history.EvaluationFailedEventDetails{Error: n, Cause: c, Location: e.text, State: e.st.Name}
	case history.MapRunFailed:
		n, c := errorCause(e.fe)
		ev.MapRunFailedEventDetails = &history.MapRunFailedEventDetails{Error: n, Cause: c}
	case history.MapIterationStarted:
		ev.MapIterationStartedEventDetails = &history.MapIterationEventDetails{Name: e.text, Index: e.n}
	case history.MapIterationSucceeded:
		ev.MapIterationSucceededEventDetails = &history.MapIterationEventDetails{Name: e.text, Index: e.n}
	case history.MapIterationFailed:
		ev.MapIterationFailedEventDetails = &history.MapIterationEventDetails{Name: e.text, Index: e.n}
	case history.MapIterationAborted:
		ev.MapIterationAbortedEventDetails = &history.MapIterationEventDetails{Name: e.text, Index: e.n}
	}
	return ev
}

// errorCause is a fault's name and cause as history shows them (nil when
// absent).
func errorCause(fe *fault.Error) (name, cause *string) {
	if fe == nil {
		return nil, nil
	}
	if fe.HasName {
		name = history.Str(fe.Name)
	}
	if fe.HasCause {
		cause = history.Str(fe.Cause)
	}
	return name, cause
}

// taskCredentials is the TaskCredentials of a task's evaluated
// Credentials.
func taskCredentials(creds any) *history.TaskCredentials {
	if o, ok := creds.(*value.Object); ok {
		if v, ok := o.Get("RoleArn"); ok {
			return &history.TaskCredentials{RoleArn: stringOf(v)}
		}
	}
	return nil
}

// liveLog records every event.
type liveLog struct{}

func (*liveLog) add(t *thread, e event) int64 {
	ev := e.build(t)
	return t.ex.append(t, &ev)
}

func (l *liveLog) entered(t *thread, st *asl.State, typ history.EventType, text string, raw any) int64 {
	return l.add(t, event{typ: typ, st: st, text: text, data: raw})
}

func (l *liveLog) exited(t *thread, st *asl.State, typ history.EventType, out any, assigned *value.Object) (any, *value.Object, *fault.Error) {
	// A value built from shared parts (a template or intrinsic that names
	// the same input many times) can stand for far more text than the
	// memory it holds: measure it, at most the limit's worth, before
	// building its text.
	var text string
	if o, ok := out.(*value.Object); ok && o != nil && o == t.inObj {
		text = t.inText // the state passed its input on
	} else {
		if jsonSizeExceeds(out, t.ex.e.maxPayload) {
			return nil, nil, dataLimit(st.Name)
		}
		text = value.String(out)
	}
	if len(text) > t.ex.e.maxPayload {
		return nil, nil, dataLimit(st.Name)
	}
	l.add(t, event{typ: typ, st: st, text: text, assigned: assigned})
	// Kept for the next state's Entered event (thread.enter) or the
	// execution's output (finishSucceeded), when that is the same object.
	t.outObj, _ = out.(*value.Object)
	t.outText = text
	return out, assigned, nil
}

func (*liveLog) next() *history.Event { return nil }

func (*liveLog) attempt(t *thread, task *Task, info *resourceInfo) (any, *fault.Error) {
	return t.invoke(task, info, time.Time{})
}

func (*liveLog) spawn(t *thread, kind byte, i int, attempt int64) (string, eventLog) {
	name := t.childName(kind, i, attempt)
	return name, t.ex.logFor(name)
}

func (*liveLog) keeps() bool { return true }

// silentLog keeps no history. When count is set it still numbers events
// (the history limit holds without a Recorder); otherwise the thread's
// events do not exist at all.
type silentLog struct{ count bool }

func (s *silentLog) add(t *thread, e event) int64 {
	if s.count {
		return t.ex.append(t, nil)
	}
	return t.last
}

func (s *silentLog) entered(t *thread, _ *asl.State, _ history.EventType, _ string, _ any) int64 {
	if s.count {
		return t.ex.append(t, nil)
	}
	return t.last
}

func (s *silentLog) exited(t *thread, st *asl.State, typ history.EventType, out any, assigned *value.Object) (any, *value.Object, *fault.Error) {
	// A state that passes on the object the state before it output (a
	// Choice, a Pass without fields) needs no second measure: values are
	// immutable.
	if o, ok := out.(*value.Object); !ok || o == nil || o != t.measured {
		n := 0
		if !value.SizeWithin(out, &n, t.ex.e.maxPayload) {
			return nil, nil, dataLimit(st.Name)
		}
		if o != nil || t.measured != nil {
			t.measured = o
		}
		if o == nil {
			n = 0
		}
		t.measuredSize = n
	}
	if s.count {
		t.ex.append(t, nil)
	}
	return out, assigned, nil
}

func (*silentLog) next() *history.Event { return nil }

func (*silentLog) attempt(t *thread, task *Task, info *resourceInfo) (any, *fault.Error) {
	return t.invoke(task, info, time.Time{})
}

func (s *silentLog) spawn(*thread, byte, int, int64) (string, eventLog) { return "", s }

func (*silentLog) keeps() bool { return false }

// append gives the thread's next event the next id, records ev (nil when
// no history is kept) and makes it the thread's latest event. It fails
// the execution once the history limit is passed.
func (ex *execution) append(t *thread, ev *history.Event) int64 {
	if ev == nil {
		// Only numbered: no lock unless the limit is passed.
		id := ex.nextID.Add(1)
		if id > ex.e.maxEvents {
			ex.mu.Lock()
			ex.overLimit()
			ex.mu.Unlock()
		}
		t.last = id
		return id
	}
	ex.mu.Lock()
	// Numbered under mu, so that pending stays in id order.
	id := ex.nextID.Add(1)
	ev.ID = id
	ev.PreviousEventID = t.last
	ev.Thread = t.name
	if ev.Timestamp.IsZero() {
		if t.enterAtLast && ev.StateEnteredEventDetails != nil {
			ev.Timestamp = t.lastAt
		} else {
			ev.Timestamp = ex.stamp()
		}
	}
	t.enterAtLast = false
	t.lastAt = ev.Timestamp
	if ex.bufs == nil {
		ex.bufs = &eventBufs{} // after release, which no run does
	}
	ex.bufs.a = append(ex.bufs.a, *ev)
	if id > ex.e.maxEvents {
		ex.overLimit()
	}
	ex.mu.Unlock()
	t.last = id
	return id
}

// overLimit fails the execution once the history limit is passed (the
// first time); ex.mu is held.
func (ex *execution) overLimit() {
	if ex.fatal != nil {
		return
	}
	ex.fatal = fault.New(fault.Runtime, "The execution reached the maximum number of history events ("+
		strconv.FormatInt(ex.e.maxEvents, 10)+").")
	ex.replay.stop()
	ex.cancel(errFatal)
}

// childName is the Thread tag of a Parallel branch ('b') or Map iteration
// ('m') of this thread. A retry attempt of the Map or Parallel gets names
// of its own ("m3r1"): the iterations an attempt started before it failed
// depend on timing, so two attempts must never share a thread's recorded
// events.
func (t *thread) childName(kind byte, i int, attempt int64) string {
	n := string(kind) + strconv.Itoa(i)
	if attempt > 0 {
		n += "r" + strconv.FormatInt(attempt, 10)
	}
	if t.name != "" {
		n = t.name + "/" + n
	}
	return n
}
