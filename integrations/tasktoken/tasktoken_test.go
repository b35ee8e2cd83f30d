package tasktoken_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/integrations"
	"github.com/stepwell/stepwell/integrations/tasktoken"
	"github.com/stepwell/stepwell/internal/clock"
	"github.com/stepwell/stepwell/store"
	"github.com/stepwell/stepwell/store/memory"
	"github.com/stepwell/stepwell/value"
)

const actARN = "arn:aws:states:us-east-1:111111111111:activity:work"

// recorder keeps a history in memory.
type recorder struct {
	mu     sync.Mutex
	events []history.Event
}

func (r *recorder) Record(evs []history.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, evs...)
	return nil
}

func (r *recorder) types() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var s []string
	for _, e := range r.events {
		s = append(s, string(e.Type))
	}
	return strings.Join(s, " ")
}

// echo is a request-response integration that remembers the tokens it saw.
type echo struct {
	tokens chan string
	fail   bool
}

func (e *echo) Invoke(ctx context.Context, t *engine.Task) (any, error) {
	if e.fail {
		return nil, errors.New("service down")
	}
	o, _ := t.Input.(*value.Object)
	if o != nil {
		if tok, ok := o.Get("Token"); ok {
			e.tokens <- tok.(string)
		}
	}
	return value.NewObject(0).With("Resource", t.Resource), nil
}

type fixture struct {
	broker *tasktoken.Broker
	acts   *memory.Activities
	eng    *engine.Engine
	echo   *echo
	clock  *clock.Fake // nil with newFixtureClock(clock.Real{})
}

// start is the fake clock's time when a test begins.
var start = time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC)

// newFixture returns a broker and an engine on one fake clock: time moves
// only when the test advances it.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	c := clock.NewFake(start)
	f := newFixtureClock(t, c)
	f.clock = c
	return f
}

func newFixtureClock(t testing.TB, c clock.Clock) *fixture {
	t.Helper()
	f := &fixture{acts: memory.NewActivities(), echo: &echo{tokens: make(chan string, 100)}}
	f.broker = tasktoken.New(f.acts)
	f.broker.Clock = c
	router := integrations.NewRouter()
	router.Handle(func(string) bool { return true }, f.echo)
	tasks := f.broker.Wrap(router)
	f.eng = engine.New(engine.Config{Clock: c, Invoker: tasks, Checker: tasks, Resumer: tasks, Region: "us-east-1", AccountID: "111111111111"})
	if err := f.acts.CreateActivity(context.Background(), &store.Activity{ARN: actARN, Name: "work", CreationDate: c.Now()}); err != nil {
		t.Fatal(err)
	}
	return f
}

// settle waits until the engine and the broker wait on exactly n timers
// of the fake clock: they have reached the waits the test expects, and
// the next Advance fires what they wait for.
func (f *fixture) settle(t *testing.T, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.clock.BlockUntilContext(ctx, n); err != nil {
		t.Fatalf("waiting for %d timers (have %d): %v", n, f.clock.Waiters(), err)
	}
	if got := f.clock.Waiters(); got != n {
		t.Fatalf("%d timers armed, want %d", got, n)
	}
}

// at returns the fake time d after the test began.
func at(d time.Duration) time.Time { return start.Add(d) }

func (f *fixture) start(t *testing.T, def, input string) (*engine.Run, *recorder) {
	t.Helper()
	sm, err := asl.Load([]byte(def), asl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	run := f.eng.Start(context.Background(), &engine.Execution{
		ARN: "arn:aws:states:us-east-1:111111111111:execution:m:" + t.Name(), Name: "x", Type: "STANDARD",
		Input: input, Machine: sm,
	}, rec)
	return run, rec
}

func wait(t *testing.T, run *engine.Run) engine.Result {
	t.Helper()
	select {
	case <-run.Done():
		return run.Result()
	case <-time.After(10 * time.Second):
		t.Fatal("execution did not end")
	}
	return engine.Result{}
}

func activityDef(extra string) string {
	return `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"` + actARN + `"` + extra + `,"End":true}}}`
}

func TestActivityRoundTrip(t *testing.T) {
	f := newFixture(t)
	run, rec := f.start(t, activityDef(`,"TimeoutSeconds":60,"HeartbeatSeconds":10`), `{"Value1":"HelloWorld"}`)
	tok, input, err := f.broker.Poll(context.Background(), actARN, "BASE_ID_ACTIVITY_CONSUMER", 5*time.Second)
	if err != nil || tok == "" {
		t.Fatalf("poll: %q %v", tok, err)
	}
	if input != `{"Value1":"HelloWorld"}` {
		t.Fatalf("input %s", input)
	}
	if err := f.broker.Heartbeat(tok); err != nil {
		t.Fatal(err)
	}
	if err := f.broker.Succeed(tok, input); err != nil {
		t.Fatal(err)
	}
	res := wait(t, run)
	if res.Status != engine.StatusSucceeded || *res.Output != `{"Value1":"HelloWorld"}` {
		t.Fatalf("result %+v", res)
	}
	want := "ExecutionStarted TaskStateEntered ActivityScheduled ActivityStarted ActivitySucceeded TaskStateExited ExecutionSucceeded"
	if got := rec.types(); got != want {
		t.Fatalf("history\n got %s\nwant %s", got, want)
	}
	ev := rec.events[3]
	if ev.ActivityStartedEventDetails == nil || ev.ActivityStartedEventDetails.WorkerName != "BASE_ID_ACTIVITY_CONSUMER" || ev.PreviousEventID != 3 {
		t.Fatalf("ActivityStarted %+v", ev)
	}
	d := rec.events[2].ActivityScheduledEventDetails
	if d == nil || *d.TimeoutInSeconds != 60 || *d.HeartbeatInSeconds != 10 {
		t.Fatalf("ActivityScheduled %+v", d)
	}
	// The token is closed now.
	if err := f.broker.Succeed(tok, "{}"); !errors.Is(err, engine.ErrTaskTimedOut) {
		t.Fatalf("second success: %v", err)
	}
	if err := f.broker.Heartbeat(tok); !errors.Is(err, engine.ErrTaskTimedOut) {
		t.Fatalf("heartbeat after close: %v", err)
	}
	if f.broker.OpenTasks() != 0 {
		t.Fatalf("%d open tasks", f.broker.OpenTasks())
	}
}

func TestTokenErrors(t *testing.T) {
	f := newFixture(t)
	for _, tok := range []string{"x", "AQB", strings.Repeat("A", 80)} {
		if err := f.broker.Succeed(tok, "{}"); !errors.Is(err, engine.ErrInvalidToken) {
			t.Errorf("Succeed(%q): %v", tok, err)
		}
		if err := f.broker.Fail(tok, nil, nil); !errors.Is(err, engine.ErrInvalidToken) {
			t.Errorf("Fail(%q): %v", tok, err)
		}
		if err := f.broker.Heartbeat(tok); !errors.Is(err, engine.ErrInvalidToken) {
			t.Errorf("Heartbeat(%q): %v", tok, err)
		}
	}
	run, _ := f.start(t, activityDef(""), `{}`)
	tok, _, err := f.broker.Poll(context.Background(), actARN, "w", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.broker.Succeed(tok, "{nope"); !errors.Is(err, engine.ErrInvalidOutput) {
		t.Fatalf("bad output: %v", err)
	}
	if err := f.broker.Succeed(tok, `"ok"`); err != nil {
		t.Fatal(err)
	}
	if res := wait(t, run); res.Status != engine.StatusSucceeded || *res.Output != `"ok"` {
		t.Fatalf("result %+v", res)
	}
	if _, _, err := f.broker.Poll(context.Background(), actARN+"-missing", "w", time.Second); !errors.Is(err, engine.ErrActivityDoesNotExist) {
		t.Fatalf("poll missing activity: %v", err)
	}
}

func TestActivityFailureWithoutErrorIsCaught(t *testing.T) {
	f := newFixture(t)
	def := `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"` + actARN + `","Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.err","Next":"P"}],"End":true},"P":{"Type":"Pass","End":true}}}`
	run, rec := f.start(t, def, `{}`)
	tok, _, err := f.broker.Poll(context.Background(), actARN, "", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.broker.Fail(tok, nil, nil); err != nil {
		t.Fatal(err)
	}
	res := wait(t, run)
	if res.Status != engine.StatusSucceeded || *res.Output != `{"err":{"Error":null,"Cause":null}}` {
		t.Fatalf("result %+v", res)
	}
	if !strings.Contains(rec.types(), "ActivityStarted ActivityFailed TaskStateExited") {
		t.Fatalf("history %s", rec.types())
	}
}

func TestActivityHeartbeatTimeout(t *testing.T) {
	f := newFixture(t)
	// HeartbeatSeconds 1 (no scaling): the worker beats at 0.6s and 1.2s,
	// then stops; the task times out 1s after the last beat.
	run, rec := f.start(t, activityDef(`,"HeartbeatSeconds":1`), `{}`)
	tok, _, err := f.broker.Poll(context.Background(), actARN, "w", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		// The heartbeat watch waits: until 1s at first, then (woken at
		// 1s, the time is 1.2s) until 1s after the beat at 0.6s.
		f.settle(t, 1)
		f.clock.Advance(600 * time.Millisecond)
		f.settle(t, 1)
		if err := f.broker.Heartbeat(tok); err != nil {
			t.Fatalf("heartbeat: %v", err)
		}
	}
	// Last beat at 1.2s; the watch wakes at 1.6s and waits until 2.2s.
	f.clock.Advance(400 * time.Millisecond)
	f.settle(t, 1)
	f.clock.Advance(600*time.Millisecond - time.Nanosecond)
	select {
	case <-run.Done():
		t.Fatalf("timed out before 1s without a beat: %+v", run.Result())
	default:
	}
	f.settle(t, 1)
	f.clock.Advance(time.Nanosecond)
	res := wait(t, run)
	if res.Status != engine.StatusFailed || *res.Error != "States.Timeout" || res.Cause != nil {
		t.Fatalf("result %+v", res)
	}
	if got := rec.types(); !strings.HasSuffix(got, "ActivityScheduled ActivityStarted ActivityTimedOut ExecutionFailed") {
		t.Fatalf("history %s", got)
	}
	if ts := rec.events[len(rec.events)-2].Timestamp; !ts.Equal(at(2200 * time.Millisecond)) {
		t.Fatalf("timed out at %v, want 1s after the last beat (%v)", ts, at(2200*time.Millisecond))
	}
	if err := f.broker.Succeed(tok, "{}"); !errors.Is(err, engine.ErrTaskTimedOut) {
		t.Fatalf("late success: %v", err)
	}
}

func TestActivityTimeoutBeforeAnyWorker(t *testing.T) {
	f := newFixture(t)
	run, rec := f.start(t, activityDef(`,"TimeoutSeconds":1`), `{}`)
	f.settle(t, 1) // TimeoutSeconds
	f.clock.Advance(time.Second)
	res := wait(t, run)
	if res.Status != engine.StatusFailed || *res.Error != "States.Timeout" {
		t.Fatalf("result %+v", res)
	}
	if got := rec.types(); got != "ExecutionStarted TaskStateEntered ActivityScheduled ActivityTimedOut ExecutionFailed" {
		t.Fatalf("history %s", got)
	}
	// The timed-out task is not handed out.
	p := f.pollAsync(t, context.Background(), "w", 50*time.Millisecond)
	f.clock.Advance(50 * time.Millisecond)
	if r := <-p; r.err != nil || r.token != "" {
		t.Fatalf("poll after timeout: %+v", r)
	}
}

func TestDeletedActivity(t *testing.T) {
	f := newFixture(t)
	if err := f.acts.DeleteActivity(context.Background(), actARN); err != nil {
		t.Fatal(err)
	}
	run, rec := f.start(t, activityDef(""), `{}`)
	res := wait(t, run)
	want := "An error occurred while executing the state 'A' (entered at the event id #2). The activity " + actARN + " does not exist."
	if res.Status != engine.StatusFailed || *res.Error != "States.Runtime" || *res.Cause != want {
		t.Fatalf("result %+v", res)
	}
	if got := rec.types(); got != "ExecutionStarted TaskStateEntered ExecutionFailed" {
		t.Fatalf("history %s", got)
	}
}

func TestPollTimesOutEmpty(t *testing.T) {
	f := newFixture(t)
	p := f.pollAsync(t, context.Background(), "w", 100*time.Millisecond)
	f.clock.Advance(100*time.Millisecond - time.Nanosecond)
	f.settle(t, 1) // still waiting
	f.clock.Advance(time.Nanosecond)
	if r := <-p; r.err != nil || r.token != "" || r.input != "" {
		t.Fatalf("poll: %+v", r)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := f.broker.Poll(ctx, actARN, "w", time.Second); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled poll: %v", err)
	}
}

func TestWorkerLimit(t *testing.T) {
	f := newFixture(t)
	f.broker.MaxPollers = 3
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, _ = f.broker.Poll(ctx, actARN, "w", 10*time.Second)
		}()
	}
	f.settle(t, 3) // the three are waiting
	if _, _, err := f.broker.Poll(context.Background(), actARN, "w", 10*time.Millisecond); !errors.Is(err, engine.ErrWorkerLimit) {
		t.Fatalf("fourth poller: %v", err)
	}
	cancel()
	wg.Wait()
}

// TestConcurrentWorkers runs many executions against many pollers: every
// task is delivered exactly once and every execution succeeds.
func TestConcurrentWorkers(t *testing.T) {
	f := newFixture(t)
	const execs, workers = 300, 20
	sm, err := asl.Load([]byte(activityDef("")), asl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				tok, input, err := f.broker.Poll(ctx, actARN, fmt.Sprint("w", w), time.Second)
				if err != nil || tok == "" {
					continue
				}
				mu.Lock()
				seen[tok]++
				mu.Unlock()
				if err := f.broker.Succeed(tok, input); err != nil {
					t.Errorf("succeed: %v", err)
				}
			}
		}()
	}
	runs := make([]*engine.Run, execs)
	for i := range runs {
		runs[i] = f.eng.Start(context.Background(), &engine.Execution{
			ARN: fmt.Sprintf("arn:aws:states:us-east-1:111111111111:execution:m:%d", i), Type: "STANDARD",
			Input: fmt.Sprintf(`{"i":%d}`, i), Machine: sm,
		}, &recorder{})
	}
	for i, r := range runs {
		res := wait(t, r)
		if res.Status != engine.StatusSucceeded || *res.Output != fmt.Sprintf(`{"i":%d}`, i) {
			t.Fatalf("execution %d: %+v", i, res)
		}
	}
	cancel()
	wg.Wait()
	if len(seen) != execs {
		t.Fatalf("%d distinct tokens delivered, want %d", len(seen), execs)
	}
	for tok, n := range seen {
		if n != 1 {
			t.Fatalf("token %s delivered %d times", tok, n)
		}
	}
}

func TestCallback(t *testing.T) {
	f := newFixture(t)
	def := `{"StartAt":"S","States":{"S":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken","HeartbeatSeconds":30,
		"Parameters":{"QueueUrl":"q","Token.$":"$$.Task.Token"},"ResultPath":"$.r","End":true}}}`
	run, rec := f.start(t, def, `{"a":1}`)
	tok := <-f.echo.tokens
	if len(tok) < 64 {
		t.Fatalf("short token %q", tok)
	}
	go func() {
		if err := f.broker.Heartbeat(tok); err != nil {
			t.Errorf("heartbeat: %v", err)
		}
		if err := f.broker.Succeed(tok, `"HelloWorld"`); err != nil {
			t.Errorf("succeed: %v", err)
		}
	}()
	res := wait(t, run)
	if res.Status != engine.StatusSucceeded || *res.Output != `{"a":1,"r":"HelloWorld"}` {
		t.Fatalf("result %+v", res)
	}
	want := "ExecutionStarted TaskStateEntered TaskScheduled TaskStarted TaskSubmitted TaskSucceeded TaskStateExited ExecutionSucceeded"
	if got := rec.types(); got != want {
		t.Fatalf("history\n got %s\nwant %s", got, want)
	}
	sub := rec.events[4].TaskSubmittedEventDetails
	if sub == nil || sub.Output != `{"Resource":"arn:aws:states:::sqs:sendMessage"}` || sub.Resource != "sendMessage.waitForTaskToken" || sub.ResourceType != "sqs" {
		t.Fatalf("TaskSubmitted %+v", sub)
	}
}

func TestCallbackTimeoutRetryGetsNewToken(t *testing.T) {
	f := newFixture(t)
	def := `{"StartAt":"S","States":{"S":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","TimeoutSeconds":1,
		"Parameters":{"FunctionName":"f","Token.$":"$$.Task.Token"},
		"Retry":[{"ErrorEquals":["States.Timeout"],"IntervalSeconds":1,"MaxAttempts":1}],"End":true}}}`
	run, rec := f.start(t, def, `{}`)
	first := <-f.echo.tokens
	f.settle(t, 1) // TimeoutSeconds
	f.clock.Advance(time.Second)
	f.settle(t, 1) // IntervalSeconds
	f.clock.Advance(time.Second)
	second := <-f.echo.tokens
	if first == second {
		t.Fatal("the retry reused the token")
	}
	if err := f.broker.Succeed(first, "{}"); !errors.Is(err, engine.ErrTaskTimedOut) {
		t.Fatalf("old token: %v", err)
	}
	if err := f.broker.Fail(second, ptr("Boom"), ptr("it broke")); err != nil {
		t.Fatal(err)
	}
	res := wait(t, run)
	if res.Status != engine.StatusFailed || *res.Error != "Boom" || *res.Cause != "it broke" {
		t.Fatalf("result %+v", res)
	}
	want := "ExecutionStarted TaskStateEntered TaskScheduled TaskStarted TaskSubmitted TaskTimedOut TaskScheduled TaskStarted TaskSubmitted TaskFailed ExecutionFailed"
	if got := rec.types(); got != want {
		t.Fatalf("history\n got %s\nwant %s", got, want)
	}
}

func TestCallbackRequestFails(t *testing.T) {
	f := newFixture(t)
	f.echo.fail = true
	def := `{"StartAt":"S","States":{"S":{"Type":"Task","Resource":"arn:aws:states:::sns:publish.waitForTaskToken","Parameters":{"Token.$":"$$.Task.Token"},"End":true}}}`
	run, rec := f.start(t, def, `{}`)
	res := wait(t, run)
	if res.Status != engine.StatusFailed || *res.Error != "States.TaskFailed" {
		t.Fatalf("result %+v", res)
	}
	if got := rec.types(); got != "ExecutionStarted TaskStateEntered TaskScheduled TaskStarted TaskFailed ExecutionFailed" {
		t.Fatalf("history %s", got)
	}
	if f.broker.OpenTasks() != 0 {
		t.Fatal("token left open")
	}
}

func TestMatchers(t *testing.T) {
	for _, tc := range []struct {
		res           string
		act, callback bool
	}{
		{actARN, true, false},
		{"arn:aws:states:::lambda:invoke.waitForTaskToken", false, true},
		{"arn:aws:states:::states:startExecution.waitForTaskToken", false, true},
		{"arn:aws:states:::aws-sdk:s3:listBuckets.waitForTaskToken", false, true},
		{"arn:aws:states:::http:invoke.waitForTaskToken", false, false},
		{"arn:aws:states:::lambda:invoke", false, false},
		{"arn:aws:states:us-east-1:1:stateMachine:x", false, false},
	} {
		if tasktoken.IsActivity(tc.res) != tc.act || tasktoken.IsCallback(tc.res) != tc.callback {
			t.Errorf("%s: IsActivity %v IsCallback %v", tc.res, tasktoken.IsActivity(tc.res), tasktoken.IsCallback(tc.res))
		}
	}
}

func ptr(s string) *string { return &s }

// gatedRecorder holds the recording of ActivityStarted until released, as a
// slow durable store would.
type gatedRecorder struct {
	recorder
	entered, release chan struct{}
}

func (g *gatedRecorder) Record(evs []history.Event) error {
	for _, e := range evs {
		if e.Type == history.ActivityStarted {
			g.entered <- struct{}{}
			<-g.release
		}
	}
	return g.recorder.Record(evs)
}

func (g *gatedRecorder) started() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var w []string
	for _, e := range g.events {
		if e.Type == history.ActivityStarted {
			w = append(w, e.ActivityStartedEventDetails.WorkerName)
		}
	}
	return w
}

type polled struct {
	token, input string
	err          error
}

// pollAsync polls in the background and returns once the poller waits
// (it armed its timer); nothing else may arm one meanwhile.
func (f *fixture) pollAsync(t *testing.T, ctx context.Context, worker string, wait time.Duration) chan polled {
	t.Helper()
	n := f.clock.Waiters()
	c := make(chan polled, 1)
	go func() {
		tok, input, err := f.broker.Poll(ctx, actARN, worker, wait)
		c <- polled{tok, input, err}
	}()
	f.settle(t, n+1)
	return c
}

func (f *fixture) startGated(t *testing.T) (*engine.Run, *gatedRecorder) {
	t.Helper()
	sm, err := asl.Load([]byte(activityDef("")), asl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := &gatedRecorder{entered: make(chan struct{}, 1), release: make(chan struct{})}
	run := f.eng.Start(context.Background(), &engine.Execution{
		ARN: "arn:aws:states:us-east-1:111111111111:execution:m:" + t.Name(), Name: "x", Type: "STANDARD",
		Input: `{"i":0}`, Machine: sm,
	}, rec)
	return run, rec
}

// TestHandOverStartsFirst: a task handed to a waiting worker reaches it
// only once its ActivityStarted (naming that worker) is recorded. The
// broker is driven directly, in a synctest bubble: once every goroutine
// is blocked, the task's Started held, the worker has got nothing.
func TestHandOverStartsFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t)
		p := f.pollAsync(t, context.Background(), "w1", 10*time.Second)
		entered, release := make(chan string, 1), make(chan struct{})
		task := &engine.Task{Resource: actARN, TaskToken: "tok-1", Input: map[string]any{}, Started: func(worker string) bool {
			entered <- worker
			<-release
			return true
		}}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		invoked := make(chan error, 1)
		go func() {
			_, err := f.broker.Activities().Invoke(ctx, task)
			invoked <- err
		}()
		if w := <-entered; w != "w1" {
			t.Fatalf("started by %q, want w1", w)
		}
		synctest.Wait()
		select {
		case r := <-p:
			close(release)
			t.Fatalf("worker got %+v before ActivityStarted was recorded", r)
		default:
		}
		close(release)
		if r := <-p; r.err != nil || r.token != "tok-1" {
			t.Fatalf("poll: %+v", r)
		}
		cancel()
		<-invoked
	})
}

// TestHandOverRecorded: a task handed to a waiting worker records
// ActivityStarted with that worker's name, once.
func TestHandOverRecorded(t *testing.T) {
	f := newFixture(t)
	p := f.pollAsync(t, context.Background(), "w1", 10*time.Second)
	run, rec := f.startGated(t)
	<-rec.entered
	close(rec.release)
	r := <-p
	if r.err != nil || r.token == "" {
		t.Fatalf("poll: %+v", r)
	}
	if err := f.broker.Succeed(r.token, `{}`); err != nil {
		t.Fatal(err)
	}
	if res := wait(t, run); res.Status != engine.StatusSucceeded {
		t.Fatalf("result %+v", res)
	}
	if w := rec.started(); len(w) != 1 || w[0] != "w1" {
		t.Fatalf("ActivityStarted workers %v", w)
	}
}

// TestHandOverWorkerGone: the worker a task was being handed to leaves
// while its ActivityStarted is being recorded; the task goes to the next
// worker, not started a second time.
func TestHandOverWorkerGone(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	p1 := f.pollAsync(t, ctx, "w1", 10*time.Second)
	run, rec := f.startGated(t)
	<-rec.entered
	// Whether or not the poll sees its end before the task comes, the
	// task goes back to the queue.
	cancel()
	close(rec.release)
	if r := <-p1; r.token != "" || !errors.Is(r.err, context.Canceled) {
		t.Fatalf("gone worker's poll: %+v", r)
	}
	tok, _, err := f.broker.Poll(context.Background(), actARN, "w2", time.Second)
	if err != nil || tok == "" {
		t.Fatalf("second worker: %q %v", tok, err)
	}
	if err := f.broker.Succeed(tok, `{}`); err != nil {
		t.Fatal(err)
	}
	if res := wait(t, run); res.Status != engine.StatusSucceeded {
		t.Fatalf("result %+v", res)
	}
	if w := rec.started(); len(w) != 1 || w[0] != "w1" {
		t.Fatalf("ActivityStarted workers %v", w)
	}
}

// failingRecorder cannot record ActivityStarted.
type failingRecorder struct{ recorder }

func (r *failingRecorder) Record(evs []history.Event) error {
	for _, e := range evs {
		if e.Type == history.ActivityStarted {
			return errors.New("disk full")
		}
	}
	return r.recorder.Record(evs)
}

// TestStartNotRecorded: a task whose ActivityStarted could not be recorded
// reaches no worker, whether handed over or taken from the queue.
func TestStartNotRecorded(t *testing.T) {
	for _, waiting := range []bool{true, false} {
		t.Run(fmt.Sprint("waiting=", waiting), func(t *testing.T) {
			f := newFixture(t)
			queued := make(chan struct{}, 1)
			tasktoken.OnQueued(f.broker, func(string) { queued <- struct{}{} })
			var p chan polled
			if waiting {
				p = f.pollAsync(t, context.Background(), "w1", 300*time.Millisecond)
			}
			sm, err := asl.Load([]byte(activityDef("")), asl.Options{})
			if err != nil {
				t.Fatal(err)
			}
			run := f.eng.Start(context.Background(), &engine.Execution{
				ARN: "arn:aws:states:us-east-1:111111111111:execution:m:" + t.Name(), Name: "x", Type: "STANDARD",
				Input: `{}`, Machine: sm,
			}, &failingRecorder{})
			if waiting {
				// Handed over: the failed start ends the execution.
				if res := wait(t, run); res.Status == engine.StatusSucceeded {
					t.Fatalf("result %+v", res)
				}
			} else {
				<-queued
				// Taken from the queue, not started, then waiting.
				p = f.pollAsync(t, context.Background(), "w1", 300*time.Millisecond)
			}
			f.clock.Advance(300 * time.Millisecond)
			select {
			case r := <-p:
				if r.token != "" {
					t.Fatalf("worker got a task whose start was not recorded: %+v", r)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("poll did not end")
			}
			if res := wait(t, run); res.Status == engine.StatusSucceeded {
				t.Fatalf("result %+v", res)
			}
		})
	}
}
