package engine

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/fault"
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
func (t *thread) catch(r *stateRun, raw any, f *failure) (string, any, *failure, bool) {
	if f.fatal || f.aborted || f.err == nil {
		return "", nil, nil, false
	}
	for _, c := range r.st.Catch {
		if !errorMatches(c.ErrorEquals, f.err) {
			continue
		}
		eo := errorOutput(f.err)
		assigned, f2 := t.assign(r, c.Assign, eo)
		if f2 != nil {
			return "", nil, f2, true
		}
		out, f2 := t.resultPath(r, c.ResultPath, raw, eo)
		if f2 != nil {
			f2.fatal = true
			return "", nil, f2, true
		}
		if out, assigned, f2 = t.exit(r, out, assigned); f2 != nil {
			return "", nil, f2, true
		}
		t.vars.assign(assigned)
		return c.Next, out, nil, true
	}
	return "", nil, nil, false
}

var _ = time.Second
