package engine

import (
	"context"
	"sync"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/history"
)

// simpleEventPrev records an event without details after prev, leaving the
// thread's latest event unchanged.
func (t *thread) simpleEventPrev(typ history.EventType, prev int64) int64 {
	return t.addPrev(event{typ: typ}, prev)
}

// stateResult applies ResultSelector, Assign, ResultPath and OutputPath to
// a Parallel or Map result; it is taskDone under another name.
func (t *thread) stateResult(r *stateRun, raw, result any) (string, any, *failure) {
	return t.taskDone(r, raw, result)
}

func (t *thread) runParallel(st *asl.State, raw any) (string, any, *failure) {
	r := t.enter(st, raw)
	r.sc.withRetry = true
	if r.env.Context != nil {
		t.refreshContext(r)
	}
	var rs retries
	for {
		eff, f := t.effectiveInput(r, raw)
		if f != nil {
			return "", nil, f
		}
		t.simpleEvent(history.ParallelStateStarted)
		results, f := t.runBranches(st.Branches, eff, r.sc.retry)
		if f == nil {
			t.simpleEventPrev(history.ParallelStateSucceeded, t.last)
			n, out, f := t.stateResult(r, raw, results)
			if f == nil || f.fatal || f.aborted {
				return n, out, f
			}
			if n, out, f2, ok := t.catch(r, raw, f); ok {
				return n, out, f2
			}
			return "", nil, f
		}
		if f.aborted {
			t.abortEvent(history.ParallelStateAborted)
			return "", nil, f
		}
		t.last = f.last
		if d, ok := rs.next(st.Retry, f); ok {
			if !t.sleepRetry(d) {
				t.abortEvent(history.ParallelStateAborted)
				return "", nil, t.aborted()
			}
			r.sc.retry = rs.total
			t.refreshContext(r)
			continue
		}
		t.simpleEvent(history.ParallelStateFailed)
		f.last = t.last
		if n, out, f2, ok := t.catch(r, raw, f); ok {
			return n, out, f2
		}
		return "", nil, f
	}
}

// runBranches runs every branch concurrently on the same input. On success
// t.last is the latest branch event; on failure the first failing branch's
// failure is returned after the others were aborted.
func (t *thread) runBranches(branches []*asl.StateMachine, input any, attempt int64) ([]any, *failure) {
	ctx, cancel := context.WithCancel(t.ctx)
	defer cancel()
	results := make([]any, len(branches))
	var (
		mu      sync.Mutex
		first   *failure
		last    = t.last
		wg      sync.WaitGroup
		aborted bool
	)
	start := t.last
	rc := t.recordedChildren('b', len(branches), attempt)
	for i, b := range branches {
		if rc.unstarted(i) {
			mu.Lock()
			aborted = true
			mu.Unlock()
			continue
		}
		wg.Add(1)
		go func(i int, b *asl.StateMachine) {
			defer wg.Done()
			bt := &thread{ex: t.ex, ctx: ctx, last: start, vars: &scope{parent: t.vars}}
			bt.name, bt.log = t.log.spawn(t, 'b', i, attempt)
			out, f := bt.runMachine(b, input)
			mu.Lock()
			defer mu.Unlock()
			if bt.last > last {
				last = bt.last
			}
			if f != nil {
				if first == nil && !f.aborted {
					first = f
					cancel()
				}
				aborted = aborted || f.aborted
				return
			}
			results[i] = out
		}(i, b)
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	if t.cancelled() {
		return nil, t.aborted()
	}
	if aborted {
		return nil, t.abortedAlone()
	}
	t.last = last
	return results, nil
}

// branchFault wraps a non-fault error (never expected).
var _ = fault.BranchFailed
