package engine_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/integrations"
	"github.com/stepwell/stepwell/integrations/tasktoken"
	"github.com/stepwell/stepwell/internal/clock"
	"github.com/stepwell/stepwell/store"
	"github.com/stepwell/stepwell/store/memory"
	"github.com/stepwell/stepwell/value"
)

const resumeActARN = "arn:aws:states:us-east-1:123456789012:activity:work"

// tokenService is a request-response integration that hands the task
// token in its input to tokens and counts its invocations.
type tokenService struct {
	calls  atomic.Int32
	tokens chan string
}

func (s *tokenService) Invoke(ctx context.Context, t *engine.Task) (any, error) {
	s.calls.Add(1)
	if o, ok := t.Input.(*value.Object); ok {
		if tok, ok := o.Get("Token"); ok {
			s.tokens <- tok.(string)
		}
	}
	return value.NewObject(0).With("MessageId", "m-1"), nil
}

// process is one "process": an engine and a broker signing tokens with a
// key that outlives it (as the stores keep it).
type process struct {
	eng    *engine.Engine
	broker *tasktoken.Broker
	svc    *tokenService
}

// newProcess's engine runs on clk (nil: the real clock).
func newProcess(t *testing.T, key []byte, acts *memory.Activities, clk engine.Clock) *process {
	t.Helper()
	p := &process{broker: tasktoken.New(acts), svc: &tokenService{tokens: make(chan string, 10)}}
	router := integrations.NewRouter()
	router.Handle(func(string) bool { return true }, p.svc)
	tasks := p.broker.Wrap(router)
	p.eng = engine.New(engine.Config{Clock: clk, Invoker: tasks, Checker: tasks, Resumer: tasks,
		Region: "us-east-1", AccountID: "123456789012", TokenKey: key})
	p.broker.Tokens = p.eng
	return p
}

// syncRecorder keeps the history and lets tests wait for an event.
type syncRecorder struct {
	mu      sync.Mutex
	events  []history.Event
	changed chan struct{} // closed (and replaced) by the next Record
}

func (r *syncRecorder) Record(evs []history.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, evs...)
	if r.changed != nil {
		close(r.changed)
		r.changed = nil
	}
	return nil
}

// next returns the history so far and a channel closed by the next Record.
func (r *syncRecorder) next() ([]history.Event, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.changed == nil {
		r.changed = make(chan struct{})
	}
	return slices.Clone(r.events), r.changed
}

func (r *syncRecorder) snapshot() []history.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// waitFor waits until typ is recorded and returns the history up to it:
// what a crash right after it leaves in the store.
func (r *syncRecorder) waitFor(t *testing.T, typ history.EventType) []history.Event {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		evs, changed := r.next()
		for i := range evs {
			if evs[i].Type == typ {
				return evs[:i+1]
			}
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("%s not recorded: %v", typ, types(r.snapshot()))
		}
	}
}

// crash ends a run as a process stop does (nothing more is recorded).
func crash(t *testing.T, cancel context.CancelCauseFunc, r *engine.Run) {
	t.Helper()
	cancel(engine.ErrShutdown)
	waitRun(t, r)
}

func resumeSetup(t *testing.T) ([]byte, *memory.Activities) {
	t.Helper()
	acts := memory.NewActivities()
	if err := acts.CreateActivity(context.Background(), &store.Activity{ARN: resumeActARN, Name: "work", CreationDate: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return []byte("resume-test-key-of-32-bytes-long"), acts
}

// crashedCallback runs, in a process signing tokens with key, an execution
// of one .waitForTaskToken task with the extra fields given (JSON members,
// each followed by a comma) and crashes it once the task's request is
// made: it returns the execution, the task's token and the history the
// crash leaves.
func crashedCallback(t *testing.T, key []byte, acts *memory.Activities, fields string) (*engine.Execution, string, []history.Event) {
	t.Helper()
	def := `{"StartAt":"C","States":{"C":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",` + fields +
		`"Parameters":{"QueueUrl":"q","Token.$":"$$.Task.Token"},"End":true}}}`
	x := execution(load(t, def), `{}`)
	p := newProcess(t, key, acts, nil)
	ctx, cancel := context.WithCancelCause(context.Background())
	rec := &syncRecorder{}
	run := p.eng.Start(ctx, x, rec)
	tok := <-p.svc.tokens
	recorded := rec.waitFor(t, history.TaskSubmitted)
	crash(t, cancel, run)
	return x, tok, recorded
}

// checkAppended checks that the resumed run's events continue the recorded
// ones with consecutive ids and have the expected types.
func checkAppended(t *testing.T, recorded, got []history.Event, want ...history.EventType) {
	t.Helper()
	if !slices.Equal(types(got), want) {
		t.Fatalf("new events %v, want %v", types(got), want)
	}
	for i := range got {
		if got[i].ID != int64(len(recorded)+i+1) {
			t.Fatalf("event %d has id %d, want %d", i, got[i].ID, len(recorded)+i+1)
		}
	}
}

func TestResumeUndeliveredActivity(t *testing.T) {
	key, acts := resumeSetup(t)
	def := `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"` + resumeActARN + `","TimeoutSeconds":100,"End":true}}}`
	x := execution(load(t, def), `{"job":1}`)
	p1 := newProcess(t, key, acts, nil)
	ctx, cancel := context.WithCancelCause(context.Background())
	rec := &syncRecorder{}
	run := p1.eng.Start(ctx, x, rec)
	recorded := rec.waitFor(t, history.ActivityScheduled)
	crash(t, cancel, run)
	if got := types(recorded); !slices.Equal(got, []history.EventType{history.ExecutionStarted, history.TaskStateEntered, history.ActivityScheduled}) {
		t.Fatalf("recorded %v", got)
	}

	p2 := newProcess(t, key, acts, nil)
	rec2 := &syncRecorder{}
	run2 := p2.eng.Resume(context.Background(), x, recorded, rec2)
	pctx, pcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer pcancel()
	tok, in, err := p2.broker.Poll(pctx, resumeActARN, "w1", 5*time.Second)
	if err != nil || tok == "" || in != `{"job":1}` {
		t.Fatalf("Poll after resume: %q %q %v", tok, in, err)
	}
	// Delivered once: a second worker gets nothing.
	if tok2, _, err := p2.broker.Poll(pctx, resumeActARN, "w2", 50*time.Millisecond); tok2 != "" || err != nil {
		t.Fatalf("second Poll: %q %v", tok2, err)
	}
	if err := p2.broker.Succeed(tok, `{"done":true}`); err != nil {
		t.Fatal(err)
	}
	res := waitRun(t, run2)
	if res.Status != engine.StatusSucceeded || deref(res.Output) != `{"done":true}` {
		t.Fatalf("result %+v %s", res, deref(res.Output))
	}
	got := rec2.snapshot()
	checkAppended(t, recorded, got, history.ActivityStarted, history.ActivitySucceeded, history.TaskStateExited, history.ExecutionSucceeded)
	if d := got[0].ActivityStartedEventDetails; d == nil || d.WorkerName != "w1" || got[0].PreviousEventID != 3 {
		t.Fatalf("ActivityStarted %+v", got[0])
	}
}

func TestResumeOpenCallback(t *testing.T) {
	key, acts := resumeSetup(t)
	x, tok, recorded := crashedCallback(t, key, acts, "")

	p2 := newProcess(t, key, acts, nil)
	rec2 := &syncRecorder{}
	run2 := p2.eng.Resume(context.Background(), x, recorded, rec2)
	// Once WaitResumed returns, the token is open again.
	wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer wcancel()
	if err := p2.eng.WaitResumed(wctx); err != nil {
		t.Fatal(err)
	}
	if err := p2.broker.Heartbeat(tok); err != nil {
		t.Fatalf("heartbeat with the pre-crash token: %v", err)
	}
	if err := p2.broker.Succeed(tok, `{"answer":42}`); err != nil {
		t.Fatalf("SendTaskSuccess with the pre-crash token: %v", err)
	}
	res := waitRun(t, run2)
	if res.Status != engine.StatusSucceeded || deref(res.Output) != `{"answer":42}` {
		t.Fatalf("result %+v %s", res, deref(res.Output))
	}
	if n := p2.svc.calls.Load(); n != 0 {
		t.Fatalf("the request was sent again after the restart (%d calls)", n)
	}
	checkAppended(t, recorded, rec2.snapshot(), history.TaskSucceeded, history.TaskStateExited, history.ExecutionSucceeded)
	// A key of another process does not know the token.
	other := newProcess(t, []byte("another-key-of-thirty-two-bytes!"), acts, nil)
	if err := other.broker.Succeed(tok, `{}`); !errors.Is(err, engine.ErrInvalidToken) {
		t.Fatalf("token accepted under another key: %v", err)
	}
}

func TestResumeDeliveredActivity(t *testing.T) {
	key, acts := resumeSetup(t)
	def := `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"` + resumeActARN + `","End":true}}}`
	x := execution(load(t, def), `{"job":2}`)
	p1 := newProcess(t, key, acts, nil)
	ctx, cancel := context.WithCancelCause(context.Background())
	rec := &syncRecorder{}
	run := p1.eng.Start(ctx, x, rec)
	tok, _, err := p1.broker.Poll(context.Background(), resumeActARN, "w1", 5*time.Second)
	if err != nil || tok == "" {
		t.Fatalf("Poll: %q %v", tok, err)
	}
	recorded := rec.waitFor(t, history.ActivityStarted)
	crash(t, cancel, run)

	p2 := newProcess(t, key, acts, nil)
	rec2 := &syncRecorder{}
	run2 := p2.eng.Resume(context.Background(), x, recorded, rec2)
	// Not delivered again: the worker that received it still has it.
	if tok2, _, err := p2.broker.Poll(context.Background(), resumeActARN, "w2", 100*time.Millisecond); tok2 != "" || err != nil {
		t.Fatalf("Poll after resume: %q %v", tok2, err)
	}
	errName, cause := "Oops", "worker failed"
	if err := p2.broker.Fail(tok, &errName, &cause); err != nil {
		t.Fatalf("SendTaskFailure with the pre-crash token: %v", err)
	}
	res := waitRun(t, run2)
	if res.Status != engine.StatusFailed || deref(res.Error) != "Oops" {
		t.Fatalf("result %+v", res)
	}
	checkAppended(t, recorded, rec2.snapshot(), history.ActivityFailed, history.ExecutionFailed)
}

// TestResumeTimeoutFromRecordedTime: TimeoutSeconds of a resumed callback
// counts from its recorded start, not from the restart.
func TestResumeTimeoutFromRecordedTime(t *testing.T) {
	key, acts := resumeSetup(t)
	x, _, recorded := crashedCallback(t, key, acts, `"TimeoutSeconds":30,`)
	// The crash was a minute ago.
	for i := range recorded {
		recorded[i].Timestamp = recorded[i].Timestamp.Add(-time.Minute)
	}
	x.StartTime = x.StartTime.Add(-time.Minute)

	p2 := newProcess(t, key, acts, nil)
	rec2 := &syncRecorder{}
	start := time.Now()
	res := waitRun(t, p2.eng.Resume(context.Background(), x, recorded, rec2))
	if res.Status != engine.StatusFailed || deref(res.Error) != fault.Timeout || time.Since(start) > 5*time.Second {
		t.Fatalf("result %+v after %v", res, time.Since(start))
	}
	checkAppended(t, recorded, rec2.snapshot(), history.TaskTimedOut, history.ExecutionFailed)
}

// TestResumeNoResumer: an Invoker that cannot resume keeps the in-flight
// rule for callbacks.
func TestResumeNoResumer(t *testing.T) {
	key, acts := resumeSetup(t)
	x, _, recorded := crashedCallback(t, key, acts, "")

	inv := &attemptInvoker{}
	e := engine.New(engine.Config{Invoker: inv, TokenKey: key})
	rec2 := &syncRecorder{}
	res := waitRun(t, e.Resume(context.Background(), x, recorded, rec2))
	if res.Status != engine.StatusFailed || deref(res.Error) != fault.TaskFailed || deref(res.Cause) != engine.InFlightCause {
		t.Fatalf("result %+v", res)
	}
	if len(inv.invoked()) != 0 {
		t.Fatalf("invoked %v", inv.invoked())
	}
}

// TestResumeCallback_HeartbeatRestarts: heartbeats are not recorded, so a
// resumed callback's HeartbeatSeconds counts from the resume, not from the
// recorded TaskStarted: a server that was down longer than HeartbeatSeconds
// does not time the task out at once.
func TestResumeCallback_HeartbeatRestarts(t *testing.T) {
	key, acts := resumeSetup(t)
	x, tok, recorded := crashedCallback(t, key, acts, `"HeartbeatSeconds":2,"TimeoutSeconds":600,`)
	// The server was down for 10 s: longer than HeartbeatSeconds.
	for i := range recorded {
		recorded[i].Timestamp = recorded[i].Timestamp.Add(-10 * time.Second)
	}

	// The new process's clock stands still at the resume.
	c := clock.NewFake(recorded[len(recorded)-1].Timestamp.Add(10 * time.Second))
	p2 := newProcess(t, key, acts, c)
	rec2 := &syncRecorder{}
	run2 := p2.eng.Resume(context.Background(), x, recorded, rec2)
	// Counting from the resume, the heartbeat watch waits 2 s (beside
	// TimeoutSeconds' wait); counting from the recorded TaskStarted, it
	// would be 8 s overdue and time the task out at once, without waiting.
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := c.BlockUntilContext(wctx, 2); err != nil {
		t.Fatalf("the heartbeat watch does not wait (%d waiters): %v; history %v", c.Waiters(), err, types(rec2.snapshot()))
	}
	if err := p2.broker.Succeed(tok, `{"late":false}`); err != nil {
		t.Fatalf("SendTaskSuccess right after the resume: %v", err)
	}
	if res := waitRun(t, run2); res.Status != engine.StatusSucceeded || deref(res.Output) != `{"late":false}` {
		t.Fatalf("result %+v %s", res, deref(res.Output))
	}
}
