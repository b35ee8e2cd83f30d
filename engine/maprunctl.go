package engine

// UpdateMapRun: a running Map Run's MaxConcurrency and tolerated failure
// thresholds can change while its children run. Each Distributed Map run
// has a runControl, registered on the Engine under its ARN while it runs:
// its children take a slot from it before they start (the limit is read
// at every start, so a raised limit starts more at once and a lowered one
// starts none until enough have ended), and its failures are checked
// against its current thresholds.

import (
	"context"
	"sync"
)

// MapRunUpdate is a change of a running Map Run (nil fields: unchanged).
type MapRunUpdate struct {
	MaxConcurrency             *int64 // 0: as many as AWS allows (10,000)
	ToleratedFailureCount      *int64
	ToleratedFailurePercentage *float64
}

// UpdateMapRun applies u to the Map Run runARN if it is running in this
// engine, and reports whether it was.
func (e *Engine) UpdateMapRun(runARN string, u MapRunUpdate) bool {
	v, ok := e.runs.Load(runARN)
	if !ok {
		return false
	}
	v.(*runControl).update(u)
	return true
}

// runControl is a running Map Run's concurrency and thresholds.
type runControl struct {
	mu       sync.Mutex
	limit    int // at most this many children at once
	running  int
	wake     chan struct{} // closed (and replaced) at every change
	tolCount int64         // -1: none
	tolPct   float64       // -1: none
	hasTol   bool
}

// control registers the run's control on the engine; the returned func
// unregisters it.
func (t *thread) control(runARN string, cfg *mapConfig) func() {
	c := &runControl{limit: limitOf(int64(cfg.maxConc)), wake: make(chan struct{}),
		tolCount: cfg.tolCount, tolPct: cfg.tolPct, hasTol: cfg.hasTol}
	cfg.ctl = c
	e := t.ex.e
	e.runs.Store(runARN, c)
	return func() { e.runs.CompareAndDelete(runARN, c) }
}

// limitOf is the concurrency of a MaxConcurrency.
func limitOf(n int64) int {
	if n <= 0 || n > maxChildren {
		return maxChildren
	}
	return int(n)
}

func (c *runControl) update(u MapRunUpdate) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if u.MaxConcurrency != nil {
		c.limit = limitOf(*u.MaxConcurrency)
	}
	if u.ToleratedFailureCount != nil {
		c.tolCount, c.hasTol = *u.ToleratedFailureCount, true
	}
	if u.ToleratedFailurePercentage != nil {
		c.tolPct, c.hasTol = *u.ToleratedFailurePercentage, true
	}
	c.signal()
}

// signal wakes the children waiting for a slot.
func (c *runControl) signal() {
	close(c.wake)
	c.wake = make(chan struct{})
}

// acquire takes a slot for a child; false when ctx ends first.
func (c *runControl) acquire(ctx context.Context) bool {
	for {
		c.mu.Lock()
		if c.running < c.limit {
			c.running++
			c.mu.Unlock()
			return true
		}
		w := c.wake
		c.mu.Unlock()
		select {
		case <-w:
		case <-ctx.Done():
			return false
		}
	}
}

// release gives a child's slot back.
func (c *runControl) release() {
	c.mu.Lock()
	c.running--
	c.signal()
	c.mu.Unlock()
}

// exceeded is mapConfig.exceeded with the current thresholds; with final
// false (the total is not known yet) the percentage is not checked.
func (c *runControl) exceeded(failed, total int, final bool) bool {
	if failed == 0 {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.hasTol {
		return true
	}
	if c.tolCount >= 0 && int64(failed) > c.tolCount {
		return true
	}
	return final && c.tolPct >= 0 && float64(failed)*100/float64(total) > c.tolPct
}
