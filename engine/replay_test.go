package engine

// Unit tests of the replayer on its own: a recorded history goes in, and
// the replayer's answers are checked without running any state.

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/value"
)

var replayT0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// recorded numbers evs 1, 2, 3… with timestamps a second apart.
func recorded(evs ...history.Event) []history.Event {
	for i := range evs {
		evs[i].ID = int64(i + 1)
		evs[i].Timestamp = replayT0.Add(time.Duration(i) * time.Second)
	}
	return evs
}

func ev(typ history.EventType, thread string) history.Event {
	return history.Event{Type: typ, Thread: thread}
}

// replaying returns a resumed execution over evs and its top-level thread.
func replaying(t *testing.T, evs []history.Event) (*execution, *thread) {
	t.Helper()
	rp, bad := newReplayer(evs)
	if bad != nil {
		t.Fatal(bad)
	}
	ex := &execution{e: New(Config{}), x: &Execution{}, rec: discard{}, replay: rp}
	ex.ectx.parent = context.Background()
	ex.ctx = &ex.ectx
	t.Cleanup(func() { ex.cancel(nil) })
	ex.nextID.Store(rp.total)
	return ex, &thread{ex: ex, ctx: ex.ctx, log: ex.logFor("")}
}

func TestReplayerRejects(t *testing.T) {
	tests := []struct {
		name string
		evs  []history.Event
		want string
	}{
		{"gap", []history.Event{{ID: 1, Type: history.ExecutionStarted}, {ID: 3, Type: history.PassStateEntered}},
			"event ids are not consecutive (expected id 2, found 3)."},
		{"no start", recorded(ev(history.PassStateEntered, "")), "it does not start with ExecutionStarted."},
		{"start in a branch", recorded(ev(history.ExecutionStarted, "b0")), "it does not start with ExecutionStarted."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, bad := newReplayer(tc.evs)
			if bad == nil || bad.Name != fault.Runtime || !strings.HasSuffix(bad.Cause, tc.want) {
				t.Fatalf("newReplayer = %v, want States.Runtime ending %q", bad, tc.want)
			}
		})
	}
}

func TestReplayerSplitsThreads(t *testing.T) {
	// Out of order on purpose: the replayer sorts by id.
	evs := recorded(ev(history.ExecutionStarted, ""), ev(history.ParallelStateEntered, ""), ev(history.ParallelStateStarted, ""),
		ev(history.PassStateEntered, "b0"), ev(history.PassStateEntered, "b1"), ev(history.PassStateExited, "b0"))
	evs[3], evs[5] = evs[5], evs[3]
	rp, bad := newReplayer(evs)
	if bad != nil {
		t.Fatal(bad)
	}
	want := map[string][]int64{"": {1, 2, 3}, "b0": {4, 6}, "b1": {5}}
	for name, ids := range want {
		q := rp.queue(name)
		var got []int64
		for _, e := range q.events {
			got = append(got, e.ID)
		}
		if len(got) != len(ids) || q.r != rp {
			t.Fatalf("thread %q: ids %v, want %v", name, got, ids)
		}
		for i := range ids {
			if got[i] != ids[i] {
				t.Fatalf("thread %q: ids %v, want %v", name, got, ids)
			}
		}
	}
	if rp.queue("b2") != nil || rp.total != 6 {
		t.Fatalf("queue b2 %v, total %d", rp.queue("b2"), rp.total)
	}
}

func TestReplayConsumesThenGoesLive(t *testing.T) {
	ex, th := replaying(t, recorded(ev(history.ExecutionStarted, ""), ev(history.PassStateEntered, "")))
	settled := 0
	ex.replay.onSettle = func() { settled++ }
	if id := th.add(event{typ: history.ExecutionStarted}); id != 1 || !th.replayed || th.last != 1 || !th.lastAt.Equal(replayT0) {
		t.Fatalf("ExecutionStarted: id %d, replayed %v, last %d at %v", id, th.replayed, th.last, th.lastAt)
	}
	if th.log.next() == nil || th.log.next().Type != history.PassStateEntered {
		t.Fatalf("next %v, want the recorded PassStateEntered", th.log.next())
	}
	if id := th.add(event{typ: history.PassStateEntered, st: &asl.State{Name: "P", Type: asl.TypePass}, data: value.NewObject(0)}); id != 2 || !th.replayed {
		t.Fatalf("PassStateEntered: id %d, replayed %v", id, th.replayed)
	}
	if settled != 0 {
		t.Fatal("settled before the thread went live")
	}
	// Nothing left: the thread goes live, new ids follow the recorded ones.
	id := th.add(event{typ: history.PassStateExited, st: &asl.State{Name: "P", Type: asl.TypePass}, text: "{}"})
	if id != 3 || th.replayed || th.log != live || th.log.next() != nil {
		t.Fatalf("live: id %d, replayed %v, log %T", id, th.replayed, th.log)
	}
	if pending := ex.bufs.a; len(pending) != 1 || pending[0].Type != history.PassStateExited || pending[0].PreviousEventID != 2 {
		t.Fatalf("pending %+v", pending)
	}
	if settled != 1 || ex.fatal != nil {
		t.Fatalf("settled %d times, fatal %v", settled, ex.fatal)
	}
}

func TestReplayMismatchFails(t *testing.T) {
	ex, th := replaying(t, recorded(ev(history.ExecutionStarted, ""), ev(history.PassStateEntered, "")))
	th.add(event{typ: history.ExecutionStarted})
	th.add(event{typ: history.TaskStateEntered, st: &asl.State{Name: "T", Type: asl.TypeTask}, data: value.NewObject(0)})
	want := "event 2 (the top level) is PassStateEntered but the state machine now gives TaskStateEntered there"
	if ex.fatal == nil || !strings.Contains(ex.fatal.Cause, want) {
		t.Fatalf("fatal %v, want %q", ex.fatal, want)
	}
	if !ex.replay.stopped() || context.Cause(ex.ctx) != errFatal || th.log != live {
		t.Fatalf("stopped %v, cause %v, log %T", ex.replay.stopped(), context.Cause(ex.ctx), th.log)
	}
}

func TestReplayRecordedOutcome(t *testing.T) {
	str := history.Str
	tests := []struct {
		name     string
		rec      history.Event
		wantOut  string
		wantErr  *fault.Error
		mismatch bool
	}{
		{name: "task succeeded", rec: history.Event{Type: history.TaskSucceeded,
			TaskSucceededEventDetails: &history.TaskSucceededEventDetails{Output: `{"a":1}`}}, wantOut: `{"a":1}`},
		{name: "lambda succeeded", rec: history.Event{Type: history.LambdaFunctionSucceeded,
			LambdaFunctionSucceededEventDetails: &history.LambdaFunctionSucceededEventDetails{Output: `[1]`}}, wantOut: `[1]`},
		{name: "activity failed", rec: history.Event{Type: history.ActivityFailed,
			ActivityFailedEventDetails: &history.ActivityFailedEventDetails{Error: str("E"), Cause: str("c")}}, wantErr: fault.New("E", "c")},
		{name: "task timed out without a name", rec: history.Event{Type: history.TaskTimedOut,
			TaskTimedOutEventDetails: &history.TaskTimedOutEventDetails{}}, wantErr: fault.NameOnly(fault.Timeout)},
		{name: "aborted", rec: history.Event{Type: history.TaskStateAborted}, wantErr: errReplayAbort},
		{name: "not a result", rec: history.Event{Type: history.PassStateEntered}, mismatch: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ex, th := replaying(t, recorded(ev(history.ExecutionStarted, ""), tc.rec))
			th.add(event{typ: history.ExecutionStarted})
			q := th.log.(*replayQueue)
			out, fe := q.recordedOutcome(th, &resourceInfo{})
			if tc.mismatch {
				if ex.fatal == nil || fe == nil {
					t.Fatalf("no mismatch: %v %v", out, fe)
				}
				return
			}
			if tc.wantErr != nil {
				if fe == nil || (fe != tc.wantErr && *fe != *tc.wantErr) {
					t.Fatalf("error %v, want %v", fe, tc.wantErr)
				}
				return
			}
			if fe != nil || value.String(out) != tc.wantOut {
				t.Fatalf("outcome %s, %v; want %s", value.String(out), fe, tc.wantOut)
			}
		})
	}
	// Nothing recorded after the scheduling: the attempt was in flight.
	_, th := replaying(t, recorded(ev(history.ExecutionStarted, "")))
	th.add(event{typ: history.ExecutionStarted})
	if _, fe := th.log.(*replayQueue).recordedOutcome(th, &resourceInfo{}); fe == nil || fe.Name != fault.TaskFailed || fe.Cause != InFlightCause {
		t.Fatalf("in flight: %v", fe)
	}
}

func TestReplayRecordedExitWins(t *testing.T) {
	st := &asl.State{Name: "P", Type: asl.TypePass}
	exited := history.Event{Type: history.PassStateExited, StateExitedEventDetails: &history.StateExitedEventDetails{
		Name: "P", Output: `{"id":"recorded"}`, AssignedVariables: map[string]string{"v": `"recorded"`}}}
	_, th := replaying(t, recorded(ev(history.ExecutionStarted, ""), exited))
	th.add(event{typ: history.ExecutionStarted})
	out := value.NewObject(1)
	out.Set("id", "recomputed")
	assigned := value.NewObject(1)
	assigned.Set("v", "recomputed")
	gotOut, gotAssigned, fe := th.log.exited(th, st, history.PassStateExited, out, assigned)
	if fe != nil || value.String(gotOut) != `{"id":"recorded"}` || value.String(gotAssigned) != `{"v":"recorded"}` {
		t.Fatalf("exited: %s %s %v", value.String(gotOut), value.String(gotAssigned), fe)
	}
	if !th.replayed || th.last != 2 {
		t.Fatalf("the Exited event was not consumed: replayed %v, last %d", th.replayed, th.last)
	}
}

func TestReplayRecordedChildren(t *testing.T) {
	// A Parallel of three branches: b0 ended, b1 was aborted (a sibling
	// failed), b2 never started; the attempt's retry r1 has b0 running.
	evs := recorded(
		ev(history.ExecutionStarted, ""), ev(history.ParallelStateEntered, ""), ev(history.ParallelStateStarted, ""),
		ev(history.PassStateEntered, "b0"), ev(history.PassStateExited, "b0"),
		ev(history.WaitStateEntered, "b1"), ev(history.WaitStateAborted, "b1"),
		ev(history.ParallelStateStarted, ""), ev(history.PassStateEntered, "b0r1"),
	)
	_, th := replaying(t, evs)
	for range 3 {
		th.add(event{typ: th.log.next().Type})
	}
	rc := th.recordedChildren('b', 3, 0)
	if rc == nil || !rc.cancelled {
		t.Fatalf("attempt 0: %+v, want cancelled", rc)
	}
	for i, want := range []struct{ unstarted, recorded bool }{{false, true}, {false, true}, {true, false}} {
		if rc.unstarted(i) != want.unstarted || rc.recorded(i) != want.recorded {
			t.Errorf("attempt 0 branch %d: unstarted %v recorded %v, want %+v", i, rc.unstarted(i), rc.recorded(i), want)
		}
	}
	// The retry: nothing aborted, and the parent's own events go on
	// (ParallelStateStarted of r1), so b1r1 and b2r1 never started.
	rc = th.recordedChildren('b', 3, 1)
	if rc.cancelled {
		t.Fatal("attempt 1 cancelled")
	}
	for i, want := range []struct{ unstarted, recorded bool }{{false, true}, {true, false}, {true, false}} {
		if rc.unstarted(i) != want.unstarted || rc.recorded(i) != want.recorded {
			t.Errorf("attempt 1 branch %d: unstarted %v recorded %v, want %+v", i, rc.unstarted(i), rc.recorded(i), want)
		}
	}
	// A thread that keeps no history, or an execution that does not
	// resume, has nothing recorded.
	silent := &thread{ex: th.ex, log: uncounted}
	if silent.recordedChildren('b', 3, 0) != nil {
		t.Fatal("a silent thread has recorded children")
	}
	var none *recordedChildren
	if none.unstarted(0) || none.recorded(0) {
		t.Fatal("nil recordedChildren answers true")
	}
}

func TestReplaySettles(t *testing.T) {
	ex, th := replaying(t, recorded(ev(history.ExecutionStarted, ""), ev(history.WaitStateEntered, "")))
	settled := 0
	ex.replay.onSettle = func() { settled++ }
	th.add(event{typ: history.ExecutionStarted})
	th.settled()
	if settled != 0 {
		t.Fatal("settled with a recorded event left")
	}
	th.add(event{typ: history.WaitStateEntered, st: &asl.State{Name: "W", Type: asl.TypeWait}})
	th.settled()
	th.settled()
	if settled != 1 {
		t.Fatalf("settled %d times, want once", settled)
	}
}
