package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/internal/clock"
	"github.com/stepwell/stepwell/value"
)

// attemptInvoker answers tasks whose input identifies the attempt (a tag,
// an index, the retry count "rc"): it fails with Flaky when "flaky" is true
// and rc is 0, always fails with Boom when "boom" is true, and otherwise
// returns the input without rc, so outputs do not depend on retries. It
// keeps the key (the input text) of every invocation.
type attemptInvoker struct {
	mu   sync.Mutex
	keys []string
}

func (a *attemptInvoker) Invoke(ctx context.Context, t *engine.Task) (any, error) {
	key := value.String(t.Input)
	a.mu.Lock()
	a.keys = append(a.keys, key)
	a.mu.Unlock()
	in, ok := t.Input.(*value.Object)
	if !ok {
		return t.Input, nil
	}
	rc, _ := in.Get("rc")
	if v, _ := in.Get("boom"); v == true {
		return nil, fault.New("Boom", "always fails")
	}
	if v, _ := in.Get("flaky"); v == true && rc == int64(0) {
		return nil, fault.New("Flaky", "first attempt fails")
	}
	if v, _ := in.Get("outerFlaky"); v == true {
		if orc, _ := in.Get("orc"); orc == int64(0) {
			return nil, fault.New("Flaky", "first attempt of the Map or Parallel fails")
		}
	}
	out := value.NewObject(in.Len())
	for i := 0; i < in.Len(); i++ {
		k, v := in.At(i)
		if k != "rc" && k != "orc" {
			out.Set(k, v)
		}
	}
	return out, nil
}

func (a *attemptInvoker) invoked() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.keys)
}

const lambdaARN = "arn:aws:lambda:us-east-1:123456789012:function:f"

// resumeMachines mix Pass, Wait, Task (service and Lambda, with Retry and
// Catch), Choice, Map with MaxConcurrency > 1 and Parallel, nested.
var resumeMachines = []struct {
	name, def, input string
	// loose: which siblings a failure cancels depends on how goroutines
	// are scheduled, and an in-flight attempt may fail a whole Map or
	// Parallel attempt that is then retried: event types per thread are
	// not compared; the result, the ids and the invocations are.
	loose bool
}{
	{"sequence", `{"StartAt":"P","States":{
		"P":{"Type":"Pass","Parameters":{"v.$":"$.v"},"Next":"T1"},
		"T1":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"tag":"T1","flaky":true,"v.$":"$.v","rc.$":"$$.State.RetryCount"},
			"Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":2,"MaxAttempts":3,"BackoffRate":2}],"ResultPath":"$.t1","Next":"W"},
		"W":{"Type":"Wait","Seconds":10,"Next":"C"},
		"C":{"Type":"Choice","Choices":[{"Variable":"$.v","NumericGreaterThan":1,"Next":"T2"}],"Default":"F"},
		"T2":{"Type":"Task","Resource":"` + lambdaARN + `","Parameters":{"tag":"T2","boom":true,"rc.$":"$$.State.RetryCount"},
			"Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":1,"MaxAttempts":1}],
			"Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":null,"Next":"T3"}],"Next":"T3"},
		"T3":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"tag":"T3","rc.$":"$$.State.RetryCount"},
			"Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":1,"MaxAttempts":3}],"ResultPath":"$.t3","Next":"Done"},
		"F":{"Type":"Fail","Error":"X"},
		"Done":{"Type":"Succeed"}}}`, `{"v": 2}`, false},
	{"map", `{"StartAt":"M","States":{
		"M":{"Type":"Map","MaxConcurrency":2,"ItemsPath":"$.items",
			"ItemSelector":{"i.$":"$$.Map.Item.Index","item.$":"$$.Map.Item.Value"},
			"ItemProcessor":{"StartAt":"T","States":{
				"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"tag":"MT","i.$":"$.i","flaky.$":"$.item.flaky","rc.$":"$$.State.RetryCount"},
					"Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":1,"MaxAttempts":3}],"Next":"W"},
				"W":{"Type":"Wait","SecondsPath":"$.i","Next":"P"},
				"P":{"Type":"Pass","Parameters":{"done.$":"$.i"},"End":true}}},
			"ResultPath":"$.r","Next":"After"},
		"After":{"Type":"Task","Resource":"` + lambdaARN + `","Parameters":{"tag":"after","n.$":"States.ArrayLength($.r)","rc.$":"$$.State.RetryCount"},
			"Retry":[{"ErrorEquals":["States.ALL"],"MaxAttempts":3}],"End":true}}}`,
		`{"items":[{"flaky":false},{"flaky":true},{"flaky":false},{"flaky":true}]}`, false},
	{"parallel", `{"StartAt":"Par","States":{
		"Par":{"Type":"Parallel","Branches":[
			{"StartAt":"T","States":{
				"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"tag":"B0","flaky":true,"rc.$":"$$.State.RetryCount"},
					"Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":3,"MaxAttempts":3}],"Next":"W"},
				"W":{"Type":"Wait","Seconds":4,"End":true}}},
			{"StartAt":"M","States":{
				"M":{"Type":"Map","MaxConcurrency":3,"ItemsPath":"$.xs","ItemProcessor":{"StartAt":"C","States":{
					"C":{"Type":"Choice","Choices":[{"Variable":"$","NumericGreaterThan":1,"Next":"Big"}],"Default":"Small"},
					"Big":{"Type":"Task","Resource":"` + lambdaARN + `","Parameters":{"tag":"big","x.$":"$","rc.$":"$$.State.RetryCount"},
						"Retry":[{"ErrorEquals":["States.ALL"],"MaxAttempts":3}],"End":true},
					"Small":{"Type":"Wait","Seconds":2,"Next":"SmallP"},
					"SmallP":{"Type":"Pass","Result":"small","End":true}}},"End":true}}}],
			"Next":"Out"},
		"Out":{"Type":"Pass","End":true}}}`, `{"xs":[1,2,3]}`, false},
	{"map-of-parallel", `{"StartAt":"M","States":{
		"M":{"Type":"Map","MaxConcurrency":3,"ItemProcessor":{"StartAt":"Par","States":{
			"Par":{"Type":"Parallel","Branches":[
				{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
					"Parameters":{"tag":"MPa","x.$":"$","flaky":true,"rc.$":"$$.State.RetryCount"},
					"Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":1,"MaxAttempts":3}],"End":true}}},
				{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3,"Next":"T2"},
					"T2":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"tag":"MPb","x.$":"$","rc.$":"$$.State.RetryCount"},
						"Retry":[{"ErrorEquals":["States.ALL"],"MaxAttempts":3}],"End":true}}}],
			"End":true}}},"End":true}}}`, `[1,2,3]`, false},
	{"outer-retry", `{"StartAt":"M","States":{
		"M":{"Type":"Map","MaxConcurrency":2,"ItemsPath":"$.xs",
			"ItemSelector":{"i.$":"$$.Map.Item.Index","w.$":"States.MathAdd($$.Map.Item.Index, 1)","orc.$":"$$.State.RetryCount","outerFlaky.$":"$$.Map.Item.Value"},
			"Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":2,"MaxAttempts":3}],
			"ItemProcessor":{"StartAt":"W","States":{
				"W":{"Type":"Wait","SecondsPath":"$.w","Next":"T"},
				"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"tag":"OM","i.$":"$.i","orc.$":"$.orc","outerFlaky.$":"$.outerFlaky","rc.$":"$$.State.RetryCount"},"End":true}}},
			"ResultPath":"$.m","Next":"Par"},
		"Par":{"Type":"Parallel","ResultPath":"$.p",
			"Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":2,"MaxAttempts":3}],
			"Parameters":{"orc.$":"$$.State.RetryCount"},
			"Branches":[
				{"StartAt":"PW","States":{"PW":{"Type":"Wait","Seconds":3,"Next":"PA"},
					"PA":{"Type":"Task","Resource":"` + lambdaARN + `","Parameters":{"tag":"PA","orc.$":"$.orc","rc.$":"$$.State.RetryCount"},"End":true}}},
				{"StartAt":"PW1","States":{"PW1":{"Type":"Wait","Seconds":1,"Next":"PB"},"PB":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
					"Parameters":{"tag":"PB","orc.$":"$.orc","outerFlaky":true,"rc.$":"$$.State.RetryCount"},"End":true}}}],
			"End":true}}}`, `{"xs":[true,false,false,false]}`, true},
	{"jsonata", `{"QueryLanguage":"JSONata","StartAt":"Init","States":{
		"Init":{"Type":"Pass","Assign":{"count":"{% $states.input.v %}"},"Next":"T1"},
		"T1":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
			"Arguments":{"tag":"J1","flaky":true,"v":"{% $count %}","rc":"{% $states.context.State.RetryCount %}"},
			"Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":2,"MaxAttempts":3}],
			"Assign":{"count":"{% $count + 1 %}"},"Output":"{% $states.input %}","Next":"W"},
		"W":{"Type":"Wait","Seconds":"{% $count * 2 %}","Next":"M"},
		"M":{"Type":"Map","Items":"{% [1, 2, 3] %}","MaxConcurrency":2,
			"ItemSelector":{"i":"{% $states.context.Map.Item.Index %}","c":"{% $count %}"},
			"ItemProcessor":{"StartAt":"MT","States":{
				"MT":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
					"Arguments":{"tag":"JM","i":"{% $states.input.i %}","flaky":"{% $states.input.i = 1 %}","rc":"{% $states.context.State.RetryCount %}"},
					"Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":1,"MaxAttempts":3}],
					"Assign":{"mine":"{% $states.input.i %}"},"Next":"MW"},
				"MW":{"Type":"Wait","Seconds":"{% $mine + 1 %}","Next":"MP"},
				"MP":{"Type":"Pass","Output":"{% $mine + $count %}","End":true}}},
			"Assign":{"sum":"{% $sum($states.result) %}"},"Next":"Done"},
		"Done":{"Type":"Succeed","Output":{"count":"{% $count %}","sum":"{% $sum %}"}}}}`, `{"v": 2}`, false},
}

// resumeEngine builds an engine on a fresh virtual clock (newFakeClock).
func resumeEngine(t *testing.T, start time.Time, inv engine.Invoker) (*engine.Engine, *fakeClock) {
	clock := newFakeClock(t, start)
	return engine.New(engine.Config{Clock: clock, Invoker: inv, Region: "us-east-1", AccountID: "123456789012"}), clock
}

func resumeExecution(def, input string, t *testing.T) *engine.Execution {
	x := execution(load(t, def), input)
	x.StartTime = goldenStart
	return x
}

// waitRun waits for a run to end. In a test with fake clocks
// (newFakeClock, in a synctest bubble) it drives them: whenever every other
// goroutine of the bubble is blocked and the run has not ended, time jumps
// to the earliest deadline; a run that then waits for nothing fails the
// test.
func waitRun(t *testing.T, r *engine.Run) engine.Result {
	t.Helper()
	if _, ok := virtualClocks.Load(t); ok {
		for {
			synctest.Wait()
			select {
			case <-r.Done():
				return r.Result()
			default:
			}
			if !advance(t) {
				r.Stop("Test", "hung")
				t.Fatal("the execution waits for something that no timer brings")
			}
		}
	}
	select {
	case <-r.Done():
		return r.Result()
	case <-time.After(20 * time.Second):
		r.Stop("Test", "hung")
		t.Fatal("execution did not end")
		return engine.Result{}
	}
}

func byThread(evs []history.Event) map[string][]history.Event {
	m := map[string][]history.Event{}
	for _, ev := range evs {
		m[ev.Thread] = append(m[ev.Thread], ev)
	}
	return m
}

func types(evs []history.Event) []history.EventType {
	out := make([]history.EventType, len(evs))
	for i, ev := range evs {
		out[i] = ev.Type
	}
	return out
}

func isStarted(typ history.EventType) bool {
	return typ == history.TaskStarted || typ == history.LambdaFunctionStarted
}

// attemptKey is the input text of the task attempt a …Started event at
// index i of a thread's events belongs to.
func attemptKey(evs []history.Event, i int) string {
	for j := i; j >= 0; j-- {
		switch evs[j].Type {
		case history.TaskScheduled:
			return evs[j].TaskScheduledEventDetails.Parameters
		case history.LambdaFunctionScheduled:
			return evs[j].LambdaFunctionScheduledEventDetails.Input
		}
	}
	return ""
}

// startedKeys returns the attempt keys of the …Started events in evs
// whose id is above minID.
func startedKeys(evs []history.Event, minID int64) map[string]bool {
	keys := map[string]bool{}
	for _, tevs := range byThread(evs) {
		for i, ev := range tevs {
			if isStarted(ev.Type) && ev.ID > minID {
				keys[attemptKey(tevs, i)] = true
			}
		}
	}
	return keys
}

// checkResumed checks a history resumed from ref[:k] (got, its result and
// the invocations the resumed run made) against the uninterrupted history
// ref: same result, ids 1..n, per-thread event types as ref's except where
// the in-flight rule applies, and no attempt invoked twice.
func checkResumed(t *testing.T, ref []history.Event, refRes engine.Result, k int, got []history.Event, res engine.Result, invoked []string, loose bool) {
	t.Helper()
	if res.Status != refRes.Status || fmt.Sprint(deref(res.Output)) != fmt.Sprint(deref(refRes.Output)) {
		t.Fatalf("k=%d: result %s %s (error %s, cause %s), want %s %s", k, res.Status, deref(res.Output),
			deref(res.Error), deref(res.Cause), refRes.Status, deref(refRes.Output))
	}
	for i, ev := range got {
		if ev.ID != int64(i+1) {
			t.Fatalf("k=%d: event %d has id %d (ids must be consecutive)", k, i, ev.ID)
		}
		if ev.PreviousEventID >= ev.ID {
			t.Fatalf("k=%d: event %d points forward to %d", k, ev.ID, ev.PreviousEventID)
		}
	}
	if n := len(got); n == 0 || !strings.HasPrefix(string(got[n-1].Type), "Execution") {
		t.Fatalf("k=%d: history does not end with a terminal event", k)
	}
	refT, gotT, preT := byThread(ref), byThread(got), byThread(got[:k])
	if loose {
		gotT = nil
	}
	for name := range refT {
		if gotT == nil {
			break
		}
		if _, ok := gotT[name]; !ok {
			t.Fatalf("k=%d: thread %q is missing", k, name)
		}
	}
	for name, g := range gotT {
		r := refT[name]
		want := types(r)
		pre := preT[name]
		if n := len(pre); n > 0 && isStarted(pre[n-1].Type) {
			// In flight at the crash: the attempt failed with the rule's
			// error and was retried.
			ev := g[n]
			var e, c *string
			switch ev.Type {
			case history.TaskFailed:
				e, c = ev.TaskFailedEventDetails.Error, ev.TaskFailedEventDetails.Cause
			case history.LambdaFunctionFailed:
				e, c = ev.LambdaFunctionFailedEventDetails.Error, ev.LambdaFunctionFailedEventDetails.Cause
			}
			if deref(e) != fault.TaskFailed || deref(c) != engine.InFlightCause {
				t.Fatalf("k=%d: thread %q: in-flight attempt ended with %s %s %s", k, name, ev.Type, deref(e), deref(c))
			}
			if !strings.HasSuffix(string(r[n].Type), "Failed") {
				failed, sched := history.TaskFailed, history.TaskScheduled
				if pre[n-1].Type == history.LambdaFunctionStarted {
					failed, sched = history.LambdaFunctionFailed, history.LambdaFunctionScheduled
				}
				want = slices.Concat(want[:n:n], []history.EventType{failed, sched, pre[n-1].Type}, want[n:])
			}
		}
		if !slices.Equal(types(g), want) {
			t.Fatalf("k=%d: thread %q events\n got %v\nwant %v", k, name, types(g), want)
		}
	}
	seen := map[string]bool{}
	before := startedKeys(got[:k], 0)
	for _, key := range invoked {
		if seen[key] || before[key] {
			t.Fatalf("k=%d: attempt %s invoked twice", k, key)
		}
		seen[key] = true
	}
	// Every invocation belongs to an attempt started after the crash. An
	// attempt started after the crash may go uninvoked only when its branch
	// was cancelled (a sibling failed) between TaskStarted and the call:
	// then it has no result event.
	live := startedKeys(got, int64(k))
	for key := range seen {
		if !live[key] {
			t.Fatalf("k=%d: attempt %s invoked without a Started event after the crash (started: %v)", k, key, live)
		}
	}
	ended := resultKeys(got, int64(k))
	for key := range live {
		if !seen[key] && ended[key] {
			t.Fatalf("k=%d: attempt %s has a result but was never invoked (invoked: %v)", k, key, seen)
		}
	}
}

// resultKeys returns the attempt keys of the task result events (succeeded,
// failed, timed out) in evs whose id is above minID.
func resultKeys(evs []history.Event, minID int64) map[string]bool {
	keys := map[string]bool{}
	for _, tevs := range byThread(evs) {
		for i, ev := range tevs {
			switch ev.Type {
			case history.TaskSucceeded, history.TaskFailed, history.TaskTimedOut,
				history.LambdaFunctionSucceeded, history.LambdaFunctionFailed, history.LambdaFunctionTimedOut:
				if ev.ID > minID {
					keys[attemptKey(tevs, i)] = true
				}
			}
		}
	}
	return keys
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// resumeFrom resumes x from prefix on a clock set to the prefix's last
// event, and returns the whole history, the result and the invocations.
func resumeFrom(t *testing.T, def, input string, prefix []history.Event) ([]history.Event, engine.Result, []string) {
	t.Helper()
	inv := &attemptInvoker{}
	e, _ := resumeEngine(t, prefix[len(prefix)-1].Timestamp, inv)
	rec := &keepAll{events: slices.Clone(prefix)}
	res := waitRun(t, e.Resume(context.Background(), resumeExecution(def, input, t), slices.Clone(prefix), rec))
	return rec.events, res, inv.invoked()
}

// TestResumeEveryPrefix simulates a crash after every durable event of
// each machine's history, resumes, and checks the outcome; from the middle
// of each resumed run's new events it crashes and resumes a second time.
func TestResumeEveryPrefix(t *testing.T) {
	for _, m := range resumeMachines {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) { resumeEveryPrefix(t, m.def, m.input, m.loose) })
		})
	}
}

func resumeEveryPrefix(t *testing.T, def, input string, loose bool) {
	inv := &attemptInvoker{}
	e, _ := resumeEngine(t, goldenStart, inv)
	rec := &keepAll{}
	refRes := waitRun(t, e.Start(context.Background(), resumeExecution(def, input, t), rec))
	ref := rec.events
	if refRes.Status != engine.StatusSucceeded {
		t.Fatalf("reference run: %+v", refRes)
	}
	checkResumed(t, ref, refRes, len(ref), ref, refRes, nil, false)
	keys := inv.invoked()
	if all := startedKeys(ref, 0); len(all) != len(keys) {
		t.Fatalf("reference run: attempt keys are not unique: %d keys, %d invocations", len(all), len(keys))
	}
	t.Logf("%d events, %d invocations", len(ref), len(keys))
	for k := 1; k <= len(ref); k++ {
		got, res, invoked := resumeFrom(t, def, input, ref[:k])
		checkResumed(t, ref, refRes, k, got, res, invoked, loose)
		if k2 := k + (len(got)-k)/2; k2 > k && k2 < len(got) {
			got2, res2, invoked2 := resumeFrom(t, def, input, got[:k2])
			checkResumed(t, got, res, k2, got2, res2, invoked2, loose)
		}
	}
}

// TestThreadTags checks the Thread tag of branch and iteration events.
func TestThreadTags(t *testing.T) { synctest.Test(t, testThreadTags) }

func testThreadTags(t *testing.T) {
	m := resumeMachines[2]
	e, _ := resumeEngine(t, goldenStart, &attemptInvoker{})
	rec := &keepAll{}
	waitRun(t, e.Start(context.Background(), resumeExecution(m.def, m.input, t), rec))
	got := map[string]history.EventType{}
	for _, ev := range rec.events {
		if _, ok := got[ev.Thread]; !ok {
			got[ev.Thread] = ev.Type
		}
	}
	want := map[string]history.EventType{
		"": history.ExecutionStarted, "b0": history.TaskStateEntered, "b1": history.MapStateEntered,
		"b1/m0": history.MapIterationStarted, "b1/m1": history.MapIterationStarted, "b1/m2": history.MapIterationStarted,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("first event per thread %v, want %v", got, want)
	}
}

// refHistory runs def to completion and returns its history.
func refHistory(t *testing.T, def, input string, inv engine.Invoker) []history.Event {
	t.Helper()
	e, _ := resumeEngine(t, goldenStart, inv)
	rec := &keepAll{}
	waitRun(t, e.Start(context.Background(), resumeExecution(def, input, t), rec))
	return rec.events
}

// cutAfter returns the history up to the n-th event of type typ.
func cutAfter(t *testing.T, evs []history.Event, typ history.EventType, n int) []history.Event {
	t.Helper()
	for i, ev := range evs {
		if ev.Type == typ {
			if n--; n == 0 {
				return slices.Clone(evs[:i+1])
			}
		}
	}
	t.Fatalf("no %s in history", typ)
	return nil
}

func TestResumeWaitDueTime(t *testing.T) {
	def := `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":100,"End":true}}}`
	var prefix []history.Event
	synctest.Test(t, func(t *testing.T) {
		prefix = cutAfter(t, refHistory(t, def, `{}`, nil), history.WaitStateEntered, 1)
	})
	entered := prefix[1].Timestamp
	for _, tt := range []struct {
		name    string
		restart time.Duration // after the Entered event
		slept   []time.Duration
		exitAt  time.Duration
	}{
		{"remaining", 30 * time.Second, []time.Duration{70 * time.Second}, 100 * time.Second},
		{"overdue", 250 * time.Second, nil, 250 * time.Second},
	} {
		t.Run(tt.name, virtual(func(t *testing.T) {
			e, clock := resumeEngine(t, entered.Add(tt.restart), nil)
			rec := &keepAll{events: slices.Clone(prefix)}
			res := waitRun(t, e.Resume(context.Background(), resumeExecution(def, `{}`, t), prefix, rec))
			if res.Status != engine.StatusSucceeded {
				t.Fatalf("result %+v", res)
			}
			slept := clock.sleeps()
			if !slices.Equal(slept, tt.slept) {
				t.Fatalf("slept %v, want %v", slept, tt.slept)
			}
			exit := rec.events[2]
			if exit.Type != history.WaitStateExited || !exit.Timestamp.Equal(entered.Add(tt.exitAt)) || exit.ID != 3 {
				t.Fatalf("exit event %+v, want at %v", exit, entered.Add(tt.exitAt))
			}
		}))
	}
}

func TestResumeRetryDueTime(t *testing.T) { synctest.Test(t, testResumeRetryDueTime) }

func testResumeRetryDueTime(t *testing.T) {
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
		"Parameters":{"flaky":true,"rc.$":"$$.State.RetryCount"},"Retry":[{"ErrorEquals":["Flaky"],"IntervalSeconds":50}],"End":true}}}`
	prefix := cutAfter(t, refHistory(t, def, `{}`, &attemptInvoker{}), history.TaskFailed, 1)
	failedAt := prefix[len(prefix)-1].Timestamp
	inv := &attemptInvoker{}
	e, clock := resumeEngine(t, failedAt.Add(20*time.Second), inv)
	rec := &keepAll{events: slices.Clone(prefix)}
	res := waitRun(t, e.Resume(context.Background(), resumeExecution(def, `{}`, t), prefix, rec))
	if res.Status != engine.StatusSucceeded || len(inv.invoked()) != 1 {
		t.Fatalf("result %+v, invoked %v", res, inv.invoked())
	}
	slept := clock.sleeps()
	if !slices.Equal(slept, []time.Duration{30 * time.Second}) {
		t.Fatalf("slept %v, want the 30s that remained of the backoff", slept)
	}
	if next := rec.events[len(prefix)]; next.Type != history.TaskScheduled || !next.Timestamp.Equal(failedAt.Add(50*time.Second)) {
		t.Fatalf("retry scheduled %+v, want at %v", next, failedAt.Add(50*time.Second))
	}
}

func TestResumeExecutionTimeout(t *testing.T) { synctest.Test(t, testResumeExecutionTimeout) }

func testResumeExecutionTimeout(t *testing.T) {
	def := `{"TimeoutSeconds":60,"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":100,"End":true}}}`
	prefix := cutAfter(t, refHistory(t, def, `{}`, nil), history.WaitStateEntered, 1)
	for _, tt := range []struct {
		restart time.Duration // after the execution start
		slept   time.Duration
	}{{70 * time.Second, 0}, {45 * time.Second, 15 * time.Second}} {
		e, clock := resumeEngine(t, goldenStart.Add(tt.restart), nil)
		rec := &keepAll{events: slices.Clone(prefix)}
		res := waitRun(t, e.Resume(context.Background(), resumeExecution(def, `{}`, t), prefix, rec))
		last := rec.events[len(rec.events)-1]
		if res.Status != engine.StatusTimedOut || last.Type != history.ExecutionTimedOut || last.ID != 3 {
			t.Fatalf("restart +%v: result %+v, last event %+v", tt.restart, res, last)
		}
		if want := goldenStart.Add(max(tt.restart, 60*time.Second)); !res.StopTime.Equal(want) {
			t.Fatalf("restart +%v: stopped at %v, want %v", tt.restart, res.StopTime, want)
		}
		slept := clock.sleeps()
		if tt.slept > 0 && !slices.Contains(slept, tt.slept) {
			t.Fatalf("restart +%v: slept %v, want %v", tt.restart, slept, tt.slept)
		}
	}
}

func TestResumeStop(t *testing.T) { synctest.Test(t, testResumeStop) }

func testResumeStop(t *testing.T) {
	def := `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":100000,"End":true}}}`
	prefix := cutAfter(t, refHistory(t, def, `{}`, nil), history.WaitStateEntered, 1)
	c := clock.NewFake(goldenStart) // not driven: the Wait lasts
	e := engine.New(engine.Config{Clock: c})
	rec := &keepAll{events: slices.Clone(prefix)}
	r := e.Resume(context.Background(), resumeExecution(def, `{}`, t), prefix, rec)
	c.BlockUntil(1) // the resumed Wait waits
	r.Stop("Bye", "stopped after restart")
	res := waitRun(t, r)
	last := rec.events[len(rec.events)-1]
	if res.Status != engine.StatusAborted || last.Type != history.ExecutionAborted || last.ID != 3 {
		t.Fatalf("result %+v, last %+v", res, last)
	}
}

// TestResumeTerminal: a finished history returns its result without
// running or recording anything.
func TestResumeTerminal(t *testing.T) { synctest.Test(t, testResumeTerminal) }

func testResumeTerminal(t *testing.T) {
	m := resumeMachines[0]
	ref := refHistory(t, m.def, m.input, &attemptInvoker{})
	inv := &attemptInvoker{}
	e, _ := resumeEngine(t, goldenStart, inv)
	rec := &keepAll{}
	r := e.Resume(context.Background(), resumeExecution(m.def, m.input, t), ref, rec)
	select {
	case <-r.Done():
	default:
		t.Fatal("a finished history must be done at once")
	}
	res := r.Result()
	want := ref[len(ref)-1].ExecutionSucceededEventDetails.Output
	if res.Status != engine.StatusSucceeded || deref(res.Output) != want || len(rec.events) != 0 || len(inv.invoked()) != 0 {
		t.Fatalf("result %+v, recorded %d, invoked %v", res, len(rec.events), inv.invoked())
	}
}

// TestResumeBadHistory: histories the replay cannot explain fail the
// execution with States.Runtime, appending after the highest id.
func TestResumeBadHistory(t *testing.T) {
	par := resumeMachines[2]
	var ref []history.Event
	synctest.Test(t, func(t *testing.T) { ref = refHistory(t, par.def, par.input, &attemptInvoker{}) })
	half := slices.Clone(ref[:len(ref)/2])
	other := `{"StartAt":"X","States":{"X":{"Type":"Wait","Seconds":1,"End":true}}}`
	tests := []struct {
		name    string
		def     string
		history func() []history.Event
		cause   string
	}{
		{"gap", par.def, func() []history.Event {
			h := slices.Clone(half)
			return append(h[:3], h[4:]...)
		}, "event ids are not consecutive"},
		{"duplicate", par.def, func() []history.Event {
			h := slices.Clone(half)
			h[4].ID = 4
			return h
		}, "event ids are not consecutive"},
		{"no start", par.def, func() []history.Event {
			h := slices.Clone(half)
			h[0].Type = history.PassStateEntered
			return h
		}, "does not start with ExecutionStarted"},
		{"other definition", other, func() []history.Event { return slices.Clone(half) }, "the definition or the history changed"},
		{"threads lost", par.def, func() []history.Event {
			h := slices.Clone(half)
			for i := range h {
				h[i].Thread = ""
			}
			return h
		}, ""},
		{"aborted alone", par.def, func() []history.Event {
			h := cutAfter(t, ref, history.TaskStarted, 1)
			h = append(h, history.Event{Type: history.TaskStateAborted, ID: int64(len(h) + 1), PreviousEventID: int64(len(h)), Thread: h[len(h)-1].Thread, Timestamp: goldenStart})
			return h
		}, "none of its siblings failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, virtual(func(t *testing.T) {
			h := tt.history()
			var maxID int64
			for _, ev := range h {
				maxID = max(maxID, ev.ID)
			}
			inv := &attemptInvoker{}
			e, _ := resumeEngine(t, goldenStart, inv)
			rec := &keepAll{}
			res := waitRun(t, e.Resume(context.Background(), resumeExecution(tt.def, par.input, t), h, rec))
			if res.Status != engine.StatusFailed || deref(res.Error) != fault.Runtime || !strings.Contains(deref(res.Cause), tt.cause) ||
				!strings.HasPrefix(deref(res.Cause), "Stepwell could not resume this execution") {
				t.Fatalf("result %s %s %s", res.Status, deref(res.Error), deref(res.Cause))
			}
			last := rec.events[len(rec.events)-1]
			if last.Type != history.ExecutionFailed {
				t.Fatalf("last event %s", last.Type)
			}
			for i, ev := range rec.events {
				if ev.ID != maxID+int64(i)+1 {
					t.Fatalf("new event %d has id %d after max %d", i, ev.ID, maxID)
				}
			}
		}))
	}
}

// TestResumeRecordedOutputWins: a recomputed output that differs (a new
// UUID) gives way to the recorded one.
func TestResumeRecordedOutputWins(t *testing.T) { synctest.Test(t, testResumeRecordedOutputWins) }

func testResumeRecordedOutputWins(t *testing.T) {
	def := `{"StartAt":"U","States":{"U":{"Type":"Pass","Parameters":{"u.$":"States.UUID()"},"Next":"W"},
		"W":{"Type":"Wait","Seconds":1,"End":true}}}`
	ref := refHistory(t, def, `{}`, nil)
	prefix := cutAfter(t, ref, history.PassStateExited, 1)
	_, res, _ := resumeFrom(t, def, `{}`, prefix)
	if want := prefix[len(prefix)-1].StateExitedEventDetails.Output; deref(res.Output) != want {
		t.Fatalf("output %s, want the recorded %s", deref(res.Output), want)
	}
}

// TestResumeInFlightGolden shows the in-flight rule's events: crashes
// right after a task attempt started, with Retry and without.
func TestResumeInFlightGolden(t *testing.T) { synctest.Test(t, testResumeInFlightGolden) }

func testResumeInFlightGolden(t *testing.T) {
	def := `{"StartAt":"Retried","States":{
		"Retried":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"tag":"a","rc.$":"$$.State.RetryCount"},
			"Retry":[{"ErrorEquals":["States.TaskFailed"],"IntervalSeconds":5,"MaxAttempts":2}],"ResultPath":"$.a","Next":"Caught"},
		"Caught":{"Type":"Task","Resource":"` + lambdaARN + `","Parameters":{"tag":"b"},
			"Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.error","Next":"Done"}],"Next":"Done"},
		"Done":{"Type":"Succeed"}}}`
	ref := refHistory(t, def, `{}`, &attemptInvoker{})
	// Crash while "Retried" runs: resume, then crash while "Caught" runs.
	got, res, invoked := resumeFrom(t, def, `{}`, cutAfter(t, ref, history.TaskStarted, 1))
	got, res, invoked2 := resumeFrom(t, def, `{}`, cutAfter(t, got, history.LambdaFunctionStarted, 1))
	type line struct {
		ID    int64           `json:"id"`
		Prev  int64           `json:"previousEventId"`
		Type  string          `json:"type"`
		Error string          `json:"error,omitempty"`
		Cause string          `json:"cause,omitempty"`
		Out   json.RawMessage `json:"output,omitempty"`
	}
	out := struct {
		Status  string   `json:"status"`
		Output  string   `json:"output"`
		Invoked []string `json:"invokedAfterRestarts"`
		History []line   `json:"history"`
	}{Status: string(res.Status), Output: deref(res.Output), Invoked: append(invoked, invoked2...)}
	for _, ev := range got {
		l := line{ID: ev.ID, Prev: ev.PreviousEventID, Type: string(ev.Type)}
		if d := ev.TaskFailedEventDetails; d != nil {
			l.Error, l.Cause = deref(d.Error), deref(d.Cause)
		}
		if d := ev.LambdaFunctionFailedEventDetails; d != nil {
			l.Error, l.Cause = deref(d.Error), deref(d.Cause)
		}
		if d := ev.StateExitedEventDetails; d != nil {
			l.Out = json.RawMessage(d.Output)
		}
		out.History = append(out.History, l)
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	path := filepath.Join("testdata", "resume_inflight.json")
	if *update {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(b) != string(want) {
		t.Fatalf("differs from %s:\n%s", path, b)
	}
}

// FuzzResume feeds Resume damaged histories: it must end the execution
// (never panic nor hang) and append only ids above the recorded ones.
func FuzzResume(f *testing.F) {
	f.Add([]byte{0, 5, 1, 7, 2, 9})
	f.Add([]byte{3, 20})
	f.Add([]byte{4, 12, 2, 30})
	m := resumeMachines[3]
	var ref []history.Event
	f.Fuzz(func(t *testing.T, ops []byte) {
		synctest.Test(t, func(t *testing.T) {
			if ref == nil {
				ref = refHistory(t, m.def, m.input, &attemptInvoker{})
			}
			h := slices.Clone(ref)
			for i := 0; i+1 < len(ops) && i < 16; i += 2 {
				if len(h) == 0 {
					break
				}
				j := int(ops[i+1]) % len(h)
				switch ops[i] % 5 {
				case 0: // drop
					h = append(h[:j], h[j+1:]...)
				case 1: // retype
					h[j].Type = h[(j*7+3)%len(h)].Type
				case 2: // rethread
					h[j].Thread = h[(j*5+1)%len(h)].Thread
				case 3: // truncate
					h = h[:j+1]
				case 4: // renumber
					h[j].ID += int64(ops[i]) - 2
				}
			}
			var maxID int64
			for _, ev := range h {
				maxID = max(maxID, ev.ID)
			}
			e, _ := resumeEngine(t, goldenStart, &attemptInvoker{})
			rec := &keepAll{}
			res := waitRun(t, e.Resume(context.Background(), resumeExecution(m.def, m.input, t), h, rec))
			if res.Status == engine.StatusRunning || res.Status == "" {
				t.Fatalf("status %q", res.Status)
			}
			for i, ev := range rec.events {
				if ev.ID != maxID+int64(i)+1 {
					t.Fatalf("new event %d has id %d after max %d", i, ev.ID, maxID)
				}
			}
		})
	})
}

// TestShutdownKeepsRunning: cancelling with ErrShutdown leaves the
// execution running (no terminal event); Resume then finishes it.
func TestShutdownKeepsRunning(t *testing.T) { synctest.Test(t, testShutdownKeepsRunning) }

func testShutdownKeepsRunning(t *testing.T) {
	m := resumeMachines[1]
	inv := &attemptInvoker{}
	e := engine.New(engine.Config{Clock: clock.NewFake(goldenStart), Invoker: inv}) // not driven
	ctx, cancel := context.WithCancelCause(context.Background())
	rec := &keepAll{}
	r := e.Start(ctx, resumeExecution(m.def, m.input, t), rec)
	synctest.Wait() // as far as it goes: every branch waits
	cancel(engine.ErrShutdown)
	res := waitRun(t, r)
	rec.mu.Lock()
	h := slices.Clone(rec.events)
	rec.mu.Unlock()
	if last := h[len(h)-1].Type; res.Status != engine.StatusRunning || len(h) < 4 || last == history.ExecutionFailed || last == history.ExecutionAborted {
		t.Fatalf("result %+v, history %v", res, types(h))
	}
	got, res, invoked := resumeFrom(t, m.def, m.input, h)
	if res.Status != engine.StatusSucceeded {
		t.Fatalf("resumed: %+v", res)
	}
	before := startedKeys(h, 0)
	for _, k := range invoked {
		if before[k] {
			t.Fatalf("attempt %s invoked again", k)
		}
	}
	for i, ev := range got {
		if ev.ID != int64(i+1) {
			t.Fatalf("event %d has id %d", i, ev.ID)
		}
	}
}

// failingRecorder fails every Record after the first n calls.
type failingRecorder struct {
	keepAll
	n int
}

func (f *failingRecorder) Record(evs []history.Event) error {
	if f.n--; f.n < 0 {
		return fmt.Errorf("disk full")
	}
	return f.keepAll.Record(evs)
}

// TestNoInvokeWithoutDurableSchedule: when the events scheduling a task
// cannot be recorded, the task is not invoked and the execution fails.
func TestNoInvokeWithoutDurableSchedule(t *testing.T) {
	synctest.Test(t, testNoInvokeWithoutDurableSchedule)
}

func testNoInvokeWithoutDurableSchedule(t *testing.T) {
	def := `{"StartAt":"P","States":{"P":{"Type":"Pass","Next":"T"},
		"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}}`
	inv := &attemptInvoker{}
	e, _ := resumeEngine(t, goldenStart, inv)
	res := e.Execute(context.Background(), resumeExecution(def, `{}`, t), &failingRecorder{n: 0})
	if res.Status != engine.StatusFailed || !strings.Contains(deref(res.Cause), "disk full") || len(inv.invoked()) != 0 {
		t.Fatalf("result %s %s, invoked %v", res.Status, deref(res.Cause), inv.invoked())
	}
}

// TestResumeChoiceGoesTheRecordedWay resumes an execution after a Choice
// whose condition is random: the resumed run goes on where the recorded
// history went, whichever way the condition decides now.
func TestResumeChoiceGoesTheRecordedWay(t *testing.T) { synctest.Test(t, testResumeChoiceRecordedWay) }

func testResumeChoiceRecordedWay(t *testing.T) {
	def := `{"QueryLanguage":"JSONata","StartAt":"C","States":{
		"C":{"Type":"Choice","Choices":[{"Condition":"{% $random() < 0.5 %}","Next":"A"}],"Default":"B"},
		"A":{"Type":"Wait","Seconds":5,"Output":"a","End":true},
		"B":{"Type":"Wait","Seconds":5,"Output":"b","End":true}}}`
	for i := 0; i < 16; i++ {
		ref := refHistory(t, def, `{}`, &attemptInvoker{})
		prefix := cutAfter(t, ref, history.WaitStateEntered, 1)
		want := prefix[len(prefix)-1].StateEnteredEventDetails.Name
		got, res, _ := resumeFrom(t, def, `{}`, prefix)
		if res.Status != engine.StatusSucceeded || deref(res.Output) != `"`+strings.ToLower(want)+`"` {
			t.Fatalf("resumed after entering %s: %s %s %s (%d events)", want, res.Status, deref(res.Output), deref(res.Cause), len(got))
		}
	}
}
