package engine

import (
	"math"
	"math/rand/v2"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/value"
)

// errorMatches reports whether a Retry or Catch ErrorEquals list matches an
// error name. States.ALL matches everything but States.Runtime;
// States.TaskFailed matches every error except States.Timeout (and
// States.Runtime).
func errorMatches(list []string, f *fault.Error) bool {
	name := f.Name
	for _, n := range list {
		switch {
		case n == name && f.HasName:
			return true
		case n == fault.ALL:
			if name != fault.Runtime || !f.HasName {
				return true
			}
		case n == fault.TaskFailed:
			if !f.HasName || (name != fault.Timeout && name != fault.Runtime) {
				return true
			}
		}
	}
	return false
}

// retries tracks the attempts of each retrier during one state execution.
type retries struct {
	counts []int64
	total  int64
}

// next decides whether f is retried and after which delay (unscaled
// seconds).
func (rs *retries) next(rt []*asl.Retrier, f *failure) (float64, bool) {
	if f.fatal || f.aborted || f.err == nil {
		return 0, false
	}
	for i, r := range rt {
		if !errorMatches(r.ErrorEquals, f.err) {
			continue
		}
		if rs.counts == nil {
			rs.counts = make([]int64, len(rt))
		}
		if rs.counts[i] >= r.MaxAttempts {
			return 0, false
		}
		rs.counts[i]++
		rs.total++
		d := float64(r.IntervalSeconds) * math.Pow(r.BackoffRate, float64(rs.counts[i]-1))
		if r.MaxDelaySeconds != nil && d > float64(*r.MaxDelaySeconds) {
			d = float64(*r.MaxDelaySeconds)
		}
		if r.JitterStrategy == "FULL" {
			d *= rand.Float64()
		}
		return d, true
	}
	return 0, false
}

// attempter is the work of a Task, Parallel or Map state, which the one
// retry/catch wrapper (retried) runs an attempt at a time.
type attempter interface {
	// attempt runs one attempt on the state's raw input. On success it
	// returns the output and next state; a failure comes back with retry
	// set when Retry applies to it (Catch always does, unless it is fatal
	// or aborted).
	attempt(t *thread, r *stateRun, raw any) (out any, next string, f *failure, retry bool)
	// exhausted records, once no retrier retries f, what the state
	// records of its own failure before Catch applies (ParallelStateFailed,
	// MapStateFailed).
	exhausted(t *thread, f *failure)
}

// retried runs a Task, Parallel or Map state: its attempts until one
// succeeds, waiting each retrier's backoff in between, then Catch on a
// failure no retrier retries. aborted is the state's *Aborted event,
// recorded when a backoff is interrupted.
func (t *thread) retried(b *base, raw any, w attempter, aborted history.EventType) (any, string, *failure) {
	r := t.enter(b, raw, true)
	var rs retries
	for {
		out, next, f, retry := w.attempt(t, r, raw)
		if f == nil || f.fatal || f.aborted {
			return out, next, f
		}
		if retry {
			if t.test != nil {
				// TestState evaluates Retry once, without waiting.
				if t.test.retriable(r, f) {
					return nil, "", f
				}
			} else if d, ok := rs.next(r.b.st.Retry, f); ok {
				if !t.sleepRetry(d) {
					t.abortEvent(aborted)
					return nil, "", t.aborted()
				}
				r.sc.retry = rs.total
				t.refreshContext(r)
				continue
			}
			w.exhausted(t, f)
		}
		if out, next, f2, ok := t.catch(r, raw, f); ok {
			return out, next, f2
		}
		return nil, "", f
	}
}

// sleepRetry waits before a retry; false when the thread was cancelled.
func (t *thread) sleepRetry(secs float64) bool {
	t.ex.flush()
	if err := t.sleepFrom(t.lastAt, t.ex.e.scaled(secs)); err != nil {
		return false
	}
	return !t.cancelled()
}

// errorOutput is the Error Output a catcher receives.
func errorOutput(f *fault.Error) *value.Object {
	o := value.NewObject(2)
	if f.HasName {
		o.Set("Error", f.Name)
	} else {
		o.Set("Error", nil)
	}
	switch {
	case f.HasCause:
		o.Set("Cause", f.Cause)
	case f.Name == fault.Timeout && f.HasName:
		o.Set("Cause", "")
	default:
		o.Set("Cause", nil)
	}
	return o
}

// catch applies the first matching catcher: it records the state's Exited
// event and returns the catcher's Next and output. ok is false when no
// catcher matches.
func (t *thread) catch(r *stateRun, raw any, f *failure) (any, string, *failure, bool) {
	if f.fatal || f.aborted || f.err == nil {
		return nil, "", nil, false
	}
	for i, c := range r.b.st.Catch {
		if !errorMatches(c.ErrorEquals, f.err) {
			continue
		}
		out, assigned, f2 := r.b.flow.caught(t, r, c, raw, errorOutput(f.err))
		if f2 != nil {
			return nil, "", f2, true
		}
		if t.test != nil {
			t.test.caught(i, f)
		}
		if out, f2 = t.exit(r, out, assigned); f2 != nil {
			return nil, "", f2, true
		}
		return out, c.Next, nil, true
	}
	return nil, "", nil, false
}
