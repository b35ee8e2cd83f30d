package engine_test

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/internal/clock"
	"github.com/stepwell/stepwell/value"
)

// fakeClock is a clock.Fake that remembers the durations slept. Made by
// newFakeClock, it is driven by waitRun: whenever every goroutine of the
// test's synctest bubble is blocked and the run waits, time jumps to the
// earliest deadline. Timers therefore fire in virtual-time order however
// loaded the machine, and no test waits for real durations.
type fakeClock struct {
	*clock.Fake
	mu    sync.Mutex
	slept []time.Duration
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if d > 0 {
		c.mu.Lock()
		c.slept = append(c.slept, d)
		c.mu.Unlock()
	}
	return c.Fake.Sleep(ctx, d)
}

// sleeps returns the durations slept so far.
func (c *fakeClock) sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.slept)
}

// virtualClocks are the fake clocks of each running test, by its
// (synctest bubble's) *testing.T.
var virtualClocks sync.Map // *testing.T -> *[]*fakeClock

// newFakeClock returns a fake clock at start, driven by waitRun. The test
// must run in a synctest bubble (synctest.Test).
func newFakeClock(t *testing.T, start time.Time) *fakeClock {
	c := &fakeClock{Fake: clock.NewFake(start)}
	v, loaded := virtualClocks.LoadOrStore(t, &[]*fakeClock{c})
	if loaded {
		cs := v.(*[]*fakeClock)
		*cs = append(*cs, c) // only the test's goroutine adds
	} else {
		t.Cleanup(func() { virtualClocks.Delete(t) })
	}
	return c
}

// virtual returns f run in a synctest bubble (for t.Run), where waitRun
// drives the fake clocks.
func virtual(f func(t *testing.T)) func(t *testing.T) {
	return func(t *testing.T) { synctest.Test(t, f) }
}

// advance moves the latest of the test's fake clocks that has a waiter to
// its earliest deadline (a test's engines run one after another); it
// reports false when no clock has one.
func advance(t *testing.T) bool {
	v, ok := virtualClocks.Load(t)
	if !ok {
		return false
	}
	cs := *v.(*[]*fakeClock)
	for i := len(cs) - 1; i >= 0; i-- {
		if cs[i].AdvanceToNext() {
			return true
		}
	}
	return false
}

// fakeStep is one scripted task outcome.
type fakeStep struct {
	Result json.RawMessage `json:"result"`
	Error  string          `json:"error"`
	Cause  string          `json:"cause"`
	Block  bool            `json:"block"`  // wait until the task is cancelled (timeouts)
	Submit json.RawMessage `json:"submit"` // initial response reported through Task.Submitted
}

// fakeInvoker answers tasks from a script keyed by Resource; the last step
// of a script repeats. Without a script the task's input is echoed back.
type fakeInvoker struct {
	mu     sync.Mutex
	script map[string][]fakeStep
	calls  map[string]int
	tasks  []*engine.Task
}

func (f *fakeInvoker) Invoke(ctx context.Context, t *engine.Task) (any, error) {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	steps := f.script[t.Resource]
	n := f.calls[t.Resource]
	f.calls[t.Resource]++
	f.tasks = append(f.tasks, t)
	f.mu.Unlock()
	if len(steps) == 0 {
		return t.Input, nil
	}
	if n >= len(steps) {
		n = len(steps) - 1
	}
	s := steps[n]
	if len(s.Submit) > 0 && t.Submitted != nil {
		v, err := value.Parse(s.Submit)
		if err != nil {
			return nil, err
		}
		t.Submitted(v)
	}
	switch {
	case s.Block:
		<-ctx.Done()
		return nil, ctx.Err()
	case s.Error != "":
		return nil, fault.New(s.Error, s.Cause)
	}
	if len(s.Result) == 0 {
		return t.Input, nil
	}
	return value.Parse(s.Result)
}
