package engine

import (
	"context"
	"sync"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/value"
)

// simpleEventPrev records an event without details after prev, leaving the
// thread's latest event unchanged.
func (t *thread) simpleEventPrev(typ history.EventType, prev int64) int64 {
	return t.addPrev(event{typ: typ}, prev)
}

// parallelPlan is a compiled Parallel state.
type parallelPlan struct {
	base
	branches []*asl.StateMachine
}

func (p *parallelPlan) run(t *thread, raw any) (any, string, *failure) {
	return t.retried(&p.base, raw, p, history.ParallelStateAborted)
}

func (p *parallelPlan) attempt(t *thread, r *stateRun, raw any) (any, string, *failure, bool) {
	eff, f := p.flow.effective(t, r, raw, true)
	if f != nil {
		return nil, "", f, !f.fatal
	}
	var results any
	if t.test != nil {
		if results, f = t.test.mocked(t); f != nil {
			return nil, "", f, true
		}
	} else {
		t.simpleEvent(history.ParallelStateStarted)
		if results, f = t.runBranches(p.st.Name, p.branches, eff, r.sc.retry); f != nil {
			if f.aborted {
				t.abortEvent(history.ParallelStateAborted)
				return nil, "", f, false
			}
			t.last = f.last
			return nil, "", f, true
		}
		t.simpleEventPrev(history.ParallelStateSucceeded, t.last)
	}
	// A failure of the result processing is caught, not retried.
	out, next, f := t.stateResult(r, raw, results)
	return out, next, f, false
}

func (p *parallelPlan) exhausted(t *thread, f *failure) {
	t.simpleEvent(history.ParallelStateFailed)
	f.last = t.last
}

// runBranches runs every branch concurrently on the same input. On success
// t.last is the latest branch event; on failure the first failing branch's
// failure is returned after the others were aborted. Once the results the
// branches returned pass the payload limit together, the state fails with
// States.DataLimitExceeded at once (its result could not be kept anyway),
// instead of holding them until every branch has ended.
func (t *thread) runBranches(state string, branches []*asl.StateMachine, input any, attempt int64) ([]any, *failure) {
	ctx, cancel := context.WithCancel(t.ctx)
	defer cancel()
	results := make([]any, len(branches))
	var (
		mu      sync.Mutex
		first   *failure
		last    = t.last
		wg      sync.WaitGroup
		aborted bool
		held    = t.heldResults()
	)
	start := t.last
	rc := t.recordedChildren('b', len(branches), attempt)
	// Every branch's first state is entered with the same input: its text
	// is rendered once, not once per branch (200 branches of a 250 KB
	// input held 100 MB of copies).
	var (
		inOnce sync.Once
		inText string
	)
	defer t.yieldSlot()() // fanout.go
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
			bt := &thread{ex: t.ex, ctx: ctx, last: start, vars: t.childScope()}
			if !bt.takeSlot(rc.recorded(i)) {
				return // a branch failed: the others do not start
			}
			defer bt.releaseSlot()
			bt.name, bt.log = t.log.spawn(t, 'b', i, attempt)
			if bt.log.keeps() {
				inOnce.Do(func() { inText = value.String(input) })
				bt.rawText, bt.rawCanonical = inText, true
			}
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
			if first == nil && !held.add(out) {
				first = &failure{err: dataLimit(state), last: last}
				cancel()
			}
		}(i, b)
	}
	wg.Wait()
	return t.joined(results, first, aborted, last)
}

// joined ends a fan-out (Parallel's branches, Map's iterations) once all
// its children have returned: with the first child's failure that is no
// abort; else, when t was cancelled (stopped, timed out, or a sibling of
// an enclosing state failed), with t's abort; else, when a child was
// aborted or never started with no failure to cause it (a resumed
// recording only), with abortedAlone's; else with the children's results,
// t.last becoming last, the latest child's end event.
func (t *thread) joined(results []any, first *failure, aborted bool, last int64) ([]any, *failure) {
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

// heldResults measures the results a fan-out (Parallel's branches, an
// inline Map's iterations) holds until its end: their array is the state's
// result, a value held to the payload limit like every value built. A
// fan-out whose results pass it fails as soon as they do, so that a
// thousand branches or iterations of 200 KB results never hold 200 MB.
type heldResults struct{ n, limit int }

func (t *thread) heldResults() *heldResults {
	return &heldResults{n: 2, limit: t.ex.e.maxPayload} // the brackets
}

// add counts one more result and reports whether the array is still
// within the limit.
func (h *heldResults) add(v any) bool {
	if h.n > 2 {
		h.n++ // the comma
	}
	return value.SizeWithin(v, &h.n, h.limit)
}
