package engine_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/fault"
)

// capable is an integration with a check and a resumption of its own: it
// refuses tasks when refuse is set and resumes every task with "resumed".
type capable struct {
	refuse                    bool
	invoked, checked, resumed atomic.Int32
}

func (c *capable) Invoke(ctx context.Context, t *engine.Task) (any, error) {
	c.invoked.Add(1)
	return "invoked", nil
}

func (c *capable) Check(ctx context.Context, t *engine.Task) error {
	c.checked.Add(1)
	if c.refuse {
		return errors.New("refused by the integration")
	}
	return nil
}

func (c *capable) Resume(ctx context.Context, t *engine.Task) (func() (any, error), error) {
	c.resumed.Add(1)
	return func() (any, error) { return "resumed", nil }, nil
}

// decorated wraps an Invoker as a logging or metrics decorator does: it
// has Invoke only, so it hides whatever else next implements.
type decorated struct{ next engine.Invoker }

func (d decorated) Invoke(ctx context.Context, t *engine.Task) (any, error) {
	return d.next.Invoke(ctx, t)
}

// TestConfigCapabilities_ThroughDecorator: the engine checks tasks with
// Config.Checker and resumes them with Config.Resumer even when
// Config.Invoker is a decorator that has neither. The engine used to find
// both on the Invoker by type assertion, which a decorator defeated
// silently: the task ran unchecked, and after a restart a callback task
// that had handed its token out failed in flight instead of waiting on it
// (the --mock-config restart bug, where the mock invoker was the
// decorator).
func TestConfigCapabilities_ThroughDecorator(t *testing.T) {
	t.Run("checker", func(t *testing.T) {
		c := &capable{refuse: true}
		e := engine.New(engine.Config{Invoker: decorated{c}, Checker: c, Resumer: c})
		def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}}`
		res := e.Execute(context.Background(), execution(load(t, def), `{}`), nil)
		if res.Status != engine.StatusFailed || deref(res.Error) != fault.Runtime || !strings.Contains(deref(res.Cause), "refused by the integration") {
			t.Errorf("result %s %s %s, want States.Runtime refused by the integration", res.Status, deref(res.Error), deref(res.Cause))
		}
		if c.checked.Load() != 1 || c.invoked.Load() != 0 {
			t.Errorf("checked %d times and invoked %d, want 1 and 0", c.checked.Load(), c.invoked.Load())
		}
	})
	t.Run("resumer", func(t *testing.T) {
		key, acts := resumeSetup(t)
		x, _, recorded := crashedCallback(t, key, acts, "")

		c := &capable{}
		e := engine.New(engine.Config{Invoker: decorated{c}, Checker: c, Resumer: c, TokenKey: key})
		res := waitRun(t, e.Resume(context.Background(), x, recorded, &syncRecorder{}))
		if res.Status != engine.StatusSucceeded || deref(res.Output) != `"resumed"` {
			t.Errorf("result %s %s %s %s, want the resumed task's output", res.Status, deref(res.Output), deref(res.Error), deref(res.Cause))
		}
		if c.resumed.Load() != 1 || c.invoked.Load() != 0 {
			t.Errorf("resumed %d times and invoked %d, want 1 and 0", c.resumed.Load(), c.invoked.Load())
		}
	})
}
