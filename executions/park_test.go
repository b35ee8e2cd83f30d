package executions_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/executions"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/internal/clock"
	"github.com/stepwell/stepwell/store"
	"github.com/stepwell/stepwell/store/memory"
)

// parkDef waits a minute between two Pass states that read the Context
// object and a variable, with an execution timeout of timeout seconds
// (0: none); the minute is the input's s with secondsPath.
func parkDef(timeout int, secondsPath bool) string {
	to := ""
	if timeout > 0 {
		to = `"TimeoutSeconds":` + strconv.Itoa(timeout) + `,`
	}
	wait := `"Seconds":60`
	if secondsPath {
		wait = `"SecondsPath":"$.s"`
	}
	return `{` + to + `"StartAt":"Before","States":{
"Before":{"Type":"Pass","Assign":{"v":"kept"},"Next":"W"},
"W":{"Type":"Wait",` + wait + `,"Next":"After"},
"After":{"Type":"Pass","Parameters":{"start.$":"$$.Execution.StartTime","entered.$":"$$.State.EnteredTime","v.$":"$v","in.$":"$"},"End":true}}}`
}

// parkRun is one run of a scenario: a service over a memory store on a
// fake clock, parking or not.
type parkRun struct {
	t      *testing.T
	clk    *clock.Fake
	st     *historyCount
	ver    *memory.Versions
	sm     *store.StateMachine
	svc    *executions.Service
	park   bool
	parked chan string
}

var parkStart = time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC)

func newParkRun(t *testing.T, park bool, def string) *parkRun {
	r := &parkRun{t: t, clk: clock.NewFake(parkStart), st: &historyCount{Store: memory.New(memory.Options{})}, ver: memory.NewVersions(),
		sm: machine("park", def), park: park, parked: make(chan string, 4)}
	if err := r.st.CreateStateMachine(context.Background(), r.sm); err != nil {
		t.Fatal(err)
	}
	r.open()
	return r
}

// open starts a service over the run's store (again, after restart).
func (r *parkRun) open() {
	after := time.Duration(0)
	if !r.park {
		after = -1
	}
	eng := engine.New(engine.Config{Clock: r.clk, Region: scope.Region, AccountID: scope.Account})
	r.svc = executions.New(executions.Config{Store: r.st, Versions: r.ver, Scope: scope, Engine: eng,
		Clock: r.clk, ParkAfter: after})
	executions.WatchParks(r.svc, func(a string) { r.parked <- a })
	svc := r.svc
	r.t.Cleanup(func() { _ = svc.Close(context.Background()) })
}

// historyCount counts the calls of History.
type historyCount struct {
	*memory.Store
	calls atomic.Int64
}

func (h *historyCount) History(ctx context.Context, arn string, reverse bool, p store.Page) ([]history.Event, string, error) {
	h.calls.Add(1)
	return h.Store.History(ctx, arn, reverse, p)
}

// restart closes the service and opens a new one that resumes the
// running executions; it returns how often that read a history.
func (r *parkRun) restart() int64 {
	if err := r.svc.Close(context.Background()); err != nil {
		r.t.Fatal(err)
	}
	r.open()
	before := r.st.calls.Load()
	if n, err := r.svc.ResumeRunning(context.Background()); err != nil || n != 1 {
		r.t.Fatalf("resume: %d, %v", n, err)
	}
	return r.st.calls.Load() - before
}

// waiting waits until the execution waits: parked, or its engine run
// asleep with sleepers waiters.
func (r *parkRun) waiting(arn string, sleepers int) {
	r.t.Helper()
	if !r.park {
		r.clk.BlockUntil(sleepers)
		return
	}
	select {
	case got := <-r.parked:
		if got != arn {
			r.t.Fatalf("parked %s, want %s", got, arn)
		}
	case <-time.After(10 * time.Second):
		r.t.Fatal("the execution did not park")
	}
	if n := r.svc.Parked(); n != 1 {
		r.t.Fatalf("%d parked", n)
	}
	r.clk.BlockUntil(1) // the timer of the parked executions
}

// ended waits until the execution's end is recorded and returns its
// history.
func (r *parkRun) ended(ended <-chan struct{}, arn string) []history.Event {
	r.t.Helper()
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		r.t.Fatal("the execution did not end")
	}
	evs, _, err := r.st.History(context.Background(), arn, false, store.Page{Limit: 1000})
	if err != nil {
		r.t.Fatal(err)
	}
	return evs
}

// TestPark: an execution parked in a Wait state (also across a restart
// of the service on the same store) ends with the history of one that
// was never parked: the same events, ids, timestamps and Context object
// after the wait, whether the wait ends, StopExecution stops it or the
// machine's TimeoutSeconds expires during it. A restart parks a Wait of
// fixed Seconds again from its last event without reading its history,
// and one of SecondsPath by replaying it.
func TestPark(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		path     bool // SecondsPath instead of Seconds
		timeout  int  // the machine's TimeoutSeconds
		restart  bool // restart the service while parked
		stop     bool // stop after 10 s instead of waiting
		sleepers int  // engine waiters while unparked
		want     history.EventType
	}{
		{name: "wait ends", sleepers: 1, want: history.ExecutionSucceeded},
		{name: "wait ends after restart", restart: true, sleepers: 1, want: history.ExecutionSucceeded},
		{name: "stopped", stop: true, sleepers: 1, want: history.ExecutionAborted},
		{name: "stopped after restart", stop: true, restart: true, sleepers: 1, want: history.ExecutionAborted},
		{name: "times out", timeout: 30, sleepers: 2, want: history.ExecutionTimedOut},
		{name: "times out after restart", timeout: 30, restart: true, sleepers: 2, want: history.ExecutionTimedOut},
		{name: "SecondsPath", path: true, sleepers: 1, want: history.ExecutionSucceeded},
		{name: "SecondsPath after restart", path: true, restart: true, sleepers: 1, want: history.ExecutionSucceeded},
		{name: "SecondsPath stopped after restart", path: true, stop: true, restart: true, sleepers: 1, want: history.ExecutionAborted},
		{name: "SecondsPath times out after restart", path: true, timeout: 30, restart: true, sleepers: 2, want: history.ExecutionTimedOut},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got [2][]history.Event
			for i, park := range []bool{false, true} {
				r := newParkRun(t, park, parkDef(tc.timeout, tc.path))
				x, err := r.svc.Start(ctx, executions.StartInput{Machine: r.sm, Name: "x", Input: `{"a":1,"s":60}`})
				if err != nil {
					t.Fatal(err)
				}
				r.waiting(x.ARN, tc.sleepers)
				if park && tc.restart {
					reads := r.restart()
					if replayed := reads > 0; replayed != tc.path {
						t.Fatalf("restart read the history %d times", reads)
					}
					r.waiting(x.ARN, 0)
				}
				ended := r.svc.Ended(x.ARN)
				if ended == nil {
					t.Fatal("no Ended for a running execution")
				}
				if tc.stop {
					r.clk.Advance(10 * time.Second)
					errName, cause := "E", "C"
					if _, err := r.svc.Stop(ctx, x.ARN, &errName, &cause); err != nil {
						t.Fatal(err)
					}
				} else if tc.timeout > 0 {
					r.clk.Advance(time.Duration(tc.timeout) * time.Second)
				} else {
					r.clk.Advance(time.Minute)
				}
				got[i] = r.ended(ended, x.ARN)
				if n := r.svc.Parked(); n != 0 {
					t.Fatalf("%d still parked", n)
				}
			}
			if !reflect.DeepEqual(got[0], got[1]) {
				a, _ := json.Marshal(got[0])
				b, _ := json.Marshal(got[1])
				t.Fatalf("parked history differs:\nunparked %s\nparked   %s", a, b)
			}
			if last := got[1][len(got[1])-1]; last.Type != tc.want {
				t.Fatalf("ends with %s, want %s: %+v", last.Type, tc.want, got[1])
			}
		})
	}
}

// TestPark_Many: more parked executions than revive at once, all due
// together, all end; and a restart parks them all again from their last
// events.
func TestPark_Many(t *testing.T) {
	ctx := context.Background()
	const n = 150
	r := newParkRun(t, true, parkDef(0, false))
	var arns []string
	for i := range n {
		x, err := r.svc.Start(ctx, executions.StartInput{Machine: r.sm, Name: "x" + strconv.Itoa(i), Input: `{}`})
		if err != nil {
			t.Fatal(err)
		}
		<-r.parked
		arns = append(arns, x.ARN)
	}
	if err := r.svc.Close(ctx); err != nil {
		t.Fatal(err)
	}
	r.parked = make(chan string, n)
	r.open()
	if got, err := r.svc.ResumeRunning(ctx); err != nil || got != n {
		t.Fatalf("resume: %d, %v", got, err)
	}
	if got := r.svc.Parked(); got != n {
		t.Fatalf("%d parked after the restart, want %d", got, n)
	}
	var ended []<-chan struct{}
	for _, a := range arns {
		ended = append(ended, r.svc.Ended(a))
	}
	r.clk.BlockUntil(1)
	r.clk.Advance(time.Minute)
	for i, a := range arns {
		evs := r.ended(ended[i], a)
		if last := evs[len(evs)-1]; last.Type != history.ExecutionSucceeded || last.Timestamp != parkStart.Add(time.Minute) {
			t.Fatalf("%s ends with %s at %v", a, last.Type, last.Timestamp)
		}
	}
	if got := r.svc.Parked(); got != 0 {
		t.Fatalf("%d still parked", got)
	}
}
