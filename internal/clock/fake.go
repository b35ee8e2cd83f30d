package clock

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// Fake is a Clock for tests: its time stands still until Advance moves it,
// and BlockUntil tells when the code under test has reached its wait.
//
// A waiter is an armed timer: a Sleep in progress, or a Timer from
// NewTimer or AfterFunc that has neither fired nor been stopped. Advance
// fires waiters in the order of their deadlines (then of arming), and
// every goroutine sees the new time as soon as Advance begins firing, so a
// run does not depend on how the scheduler orders the goroutines it wakes:
// a waiter armed by woken code counts from the new time and fires at a
// later Advance. Step through a chain of waits by alternating BlockUntil
// and Advance.
//
// The zero Fake starts at the zero time; use NewFake to choose. A Fake is
// safe for concurrent use.
type Fake struct {
	advancing sync.Mutex // serialises Advance

	mu      sync.Mutex
	now     time.Time
	seq     uint64        // arming order, to break ties between deadlines
	armed   timerHeap     // the waiters, earliest deadline first
	changed chan struct{} // closed (and replaced) when the waiters change
}

var _ Clock = (*Fake)(nil)

// NewFake returns a Fake whose time is start.
func NewFake(start time.Time) *Fake { return &Fake{now: start} }

// Now returns the fake's current time.
func (c *Fake) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep blocks until Advance reaches now+d or ctx is done. It counts as a
// waiter meanwhile.
func (c *Fake) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	t := &fakeTimer{c: c, ch: make(chan time.Time, 1), i: -1}
	c.mu.Lock()
	c.armLocked(t, d)
	c.mu.Unlock()
	select {
	case <-t.ch:
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		armed := c.disarmLocked(t)
		c.mu.Unlock()
		if !armed {
			return nil // fired as ctx ended: the time had come
		}
		return ctx.Err()
	}
}

// NewTimer returns a timer whose channel receives the fake's time once
// Advance reaches now+d; with d <= 0 it has fired already.
func (c *Fake) NewTimer(d time.Duration) Timer {
	t := &fakeTimer{c: c, ch: make(chan time.Time, 1), i: -1}
	t.Reset(d)
	return t
}

// AfterFunc returns a timer that calls f once Advance reaches now+d. The
// Advance that fires it calls f itself, in deadline order, and returns
// after f does (so f must not call Advance); with d <= 0, f runs at once
// in its own goroutine, as time.AfterFunc would run it.
func (c *Fake) AfterFunc(d time.Duration, f func()) Timer {
	t := &fakeTimer{c: c, fn: f, i: -1}
	t.Reset(d)
	return t
}

// Advance moves the fake's time forward by d (which must not be negative)
// and fires, in the order of their deadlines, every waiter due by then.
// It does not wait for the goroutines it wakes; use BlockUntil for that.
func (c *Fake) Advance(d time.Duration) {
	if d < 0 {
		panic("clock: Advance with a negative duration")
	}
	c.advancing.Lock()
	defer c.advancing.Unlock()
	c.mu.Lock()
	c.now = c.now.Add(d)
	now := c.now
	var due []*fakeTimer
	for len(c.armed) > 0 && !c.armed[0].at.After(now) {
		t := heap.Pop(&c.armed).(*fakeTimer)
		t.due = true
		due = append(due, t)
	}
	if len(due) > 0 {
		c.notifyLocked()
	}
	for _, t := range due {
		if !t.due {
			continue // stopped or reset by an earlier AfterFunc
		}
		t.due = false
		if t.fn != nil {
			// Not under c.mu: f may use the clock.
			c.mu.Unlock()
			t.fn()
			c.mu.Lock()
			continue
		}
		select {
		case t.ch <- now:
		default: // cannot happen: the channel is drained whenever armed
		}
	}
	c.mu.Unlock()
}

// AdvanceToNext moves the fake's time to the earliest deadline of its
// waiters and fires the waiters due then. It reports false, and leaves
// the time alone, when no waiter is armed.
func (c *Fake) AdvanceToNext() bool {
	c.mu.Lock()
	if len(c.armed) == 0 {
		c.mu.Unlock()
		return false
	}
	d := c.armed[0].at.Sub(c.now)
	c.mu.Unlock()
	// A concurrent Advance may have moved the time past the deadline
	// meanwhile: then the waiter fired already and nothing more is due.
	c.Advance(max(d, 0))
	return true
}

// Waiters returns how many waiters are armed.
func (c *Fake) Waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.armed)
}

// BlockUntil blocks until at least n waiters are armed: the way a test
// knows the code under test has reached its wait. Waiters leave when they
// fire or stop, so after an Advance, BlockUntil(n) waits for the code it
// woke to wait again.
func (c *Fake) BlockUntil(n int) {
	_ = c.BlockUntilContext(context.Background(), n)
}

// BlockUntilContext is BlockUntil that gives up when ctx is done and
// returns ctx.Err() then.
func (c *Fake) BlockUntilContext(ctx context.Context, n int) error {
	for {
		c.mu.Lock()
		if len(c.armed) >= n {
			c.mu.Unlock()
			return nil
		}
		changed := c.changedLocked()
		c.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// changedLocked returns the channel closed at the next change of waiters.
func (c *Fake) changedLocked() chan struct{} {
	if c.changed == nil {
		c.changed = make(chan struct{})
	}
	return c.changed
}

// notifyLocked wakes the BlockUntil calls.
func (c *Fake) notifyLocked() {
	if c.changed != nil {
		close(c.changed)
		c.changed = nil
	}
}

// armLocked arms t for now+d (d > 0).
func (c *Fake) armLocked(t *fakeTimer, d time.Duration) {
	c.seq++
	t.at, t.seq = c.now.Add(d), c.seq
	heap.Push(&c.armed, t)
	c.notifyLocked()
}

// disarmLocked removes t from the waiters, or from the timers an Advance
// is about to fire; it reports whether t was armed.
func (c *Fake) disarmLocked(t *fakeTimer) bool {
	if t.due {
		t.due = false
		return true
	}
	if t.i < 0 {
		return false
	}
	heap.Remove(&c.armed, t.i)
	c.notifyLocked()
	return true
}

// fakeTimer is a waiter of a Fake: a Sleep, a NewTimer (ch) or an
// AfterFunc (fn).
type fakeTimer struct {
	c   *Fake
	at  time.Time
	seq uint64
	i   int            // index in c.armed; -1 when not armed
	due bool           // taken by an Advance that has not fired it yet
	ch  chan time.Time // buffered (1); nil for AfterFunc
	fn  func()
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	return t.stopLocked()
}

// stopLocked disarms t and drops a time it sent but nobody received: as
// with time.Timer since Go 1.23, that send counts as not made yet.
func (t *fakeTimer) stopLocked() bool {
	armed := t.c.disarmLocked(t)
	if t.ch != nil {
		select {
		case <-t.ch:
			return true
		default:
		}
	}
	return armed
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	was := t.stopLocked()
	switch {
	case d > 0:
		c.armLocked(t, d)
	case t.fn != nil:
		go t.fn()
	default:
		t.ch <- c.now
	}
	return was
}

// timerHeap orders waiters by deadline, then by arming (container/heap).
type timerHeap []*fakeTimer

func (h timerHeap) Len() int { return len(h) }

func (h timerHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}

func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].i, h[j].i = i, j
}

func (h *timerHeap) Push(x any) {
	t := x.(*fakeTimer)
	t.i = len(*h)
	*h = append(*h, t)
}

func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.i = -1
	return t
}
