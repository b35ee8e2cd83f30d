package engine_test

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"time"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/value"
)

// fakeClock is a virtual clock: Sleep blocks until virtual time reaches its
// deadline, and time jumps to the earliest pending deadline as soon as the
// engine has been quiet for a moment, so tests never wait for real
// durations and timers still fire in virtual-time order.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []*waiter
	kick    chan struct{}
	slept   []time.Duration
}

type waiter struct {
	at   time.Time
	done chan struct{}
}

func newFakeClock(start time.Time) *fakeClock {
	c := &fakeClock{now: start, kick: make(chan struct{}, 1)}
	go c.loop()
	return c
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	c.mu.Lock()
	w := &waiter{at: c.now.Add(d), done: make(chan struct{})}
	c.waiters = append(c.waiters, w)
	c.slept = append(c.slept, d)
	c.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default:
	}
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		c.remove(w)
		return ctx.Err()
	}
}

func (c *fakeClock) remove(w *waiter) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, x := range c.waiters {
		if x == w {
			c.waiters = append(c.waiters[:i], c.waiters[i+1:]...)
			return
		}
	}
}

// loop advances virtual time to the earliest waiter once no new waiter has
// arrived for a short real-time interval.
func (c *fakeClock) loop() {
	for {
		<-c.kick
		for {
			time.Sleep(2 * time.Millisecond)
			select {
			case <-c.kick:
				continue
			default:
			}
			c.mu.Lock()
			if len(c.waiters) == 0 {
				c.mu.Unlock()
				break
			}
			sort.Slice(c.waiters, func(i, j int) bool { return c.waiters[i].at.Before(c.waiters[j].at) })
			w := c.waiters[0]
			c.waiters = c.waiters[1:]
			if w.at.After(c.now) {
				c.now = w.at
			}
			close(w.done)
			c.mu.Unlock()
		}
	}
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
