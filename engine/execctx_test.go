package engine

import (
	"context"
	"errors"
	"sync"
	"testing"
)

// TestExecCtx compares the lazily made execution context with the
// context.WithCancelCause it stands for, over every order of: the caller's
// context ending, cancel with a cause, cancel again, and the context being
// made (Done) before, between or after.
func TestExecCtx(t *testing.T) {
	errA, errB, errParent := errors.New("a"), errors.New("b"), errors.New("parent")
	steps := []string{"parent", "cancelA", "cancelB", "make"}
	// Every permutation of the steps, each as a prefix too.
	var perms [][]string
	var permute func(cur []string, rest []string)
	permute = func(cur []string, rest []string) {
		perms = append(perms, append([]string(nil), cur...))
		for i := range rest {
			next := append(append([]string(nil), rest[:i]...), rest[i+1:]...)
			permute(append(cur, rest[i]), next)
		}
	}
	permute(nil, steps)
	for _, seq := range perms {
		pa, pcancel := context.WithCancelCause(context.Background())
		pb, pbcancel := context.WithCancelCause(context.Background())
		want, wcancel := context.WithCancelCause(pb)
		got := &execCtx{parent: pa}
		for _, s := range seq {
			switch s {
			case "parent":
				pcancel(errParent)
				pbcancel(errParent)
			case "cancelA":
				got.cancel(errA)
				wcancel(errA)
			case "cancelB":
				got.cancel(errB)
				wcancel(errB)
			case "make":
				got.Done()
			}
			if g, w := got.Err(), want.Err(); g != w {
				t.Errorf("%v at %s: Err %v, want %v", seq, s, g, w)
			}
			if g, w := got.causeOf(), context.Cause(want); g != w {
				t.Errorf("%v at %s: cause %v, want %v", seq, s, g, w)
			}
		}
		// context.Cause makes the context (Value), as Done does.
		if g, w := context.Cause(got), context.Cause(want); g != w {
			t.Errorf("%v: context.Cause %v, want %v", seq, g, w)
		}
		// A context derived from it ends with it, with its cause.
		child, cancel := context.WithCancel(got)
		got.cancel(nil)
		wcancel(nil)
		<-child.Done()
		if g, w := context.Cause(child), context.Cause(want); g != w {
			t.Errorf("%v: child's cause %v, want %v", seq, g, w)
		}
		cancel()
		pcancel(nil)
		pbcancel(nil)
	}
}

// TestExecCtxConcurrent makes, waits on and cancels the context from
// several goroutines (run with -race).
func TestExecCtxConcurrent(t *testing.T) {
	for range 100 {
		c := &execCtx{parent: context.Background()}
		cause := errors.New("stop")
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i == 0 {
					c.cancel(cause)
					return
				}
				<-c.Done()
				if c.Err() != context.Canceled || context.Cause(c) != cause {
					t.Errorf("Err %v, cause %v", c.Err(), context.Cause(c))
				}
			}()
		}
		wg.Wait()
	}
}

// TestThreadQuiet checks that thread.quiet, which runMachine asks before
// each state instead of ctx.Err, holds only when Err would be nil.
func TestThreadQuiet(t *testing.T) {
	derived, cancel := context.WithCancel(context.Background())
	defer cancel()
	tests := []struct {
		name   string
		ctx    func(c *execCtx) context.Context
		parent context.Context
		want   bool
	}{
		{"own, under Background", func(c *execCtx) context.Context { return c }, context.Background(), true},
		{"own, cancelled", func(c *execCtx) context.Context { c.cancel(nil); return c }, context.Background(), false},
		{"own, made", func(c *execCtx) context.Context { c.real(); return c }, context.Background(), false},
		{"own, made and cancelled", func(c *execCtx) context.Context { c.real(); c.cancel(nil); return c }, context.Background(), false},
		{"own, under another context", func(c *execCtx) context.Context { return c }, derived, false},
		{"a branch's", func(*execCtx) context.Context { return derived }, context.Background(), false},
	}
	for _, tt := range tests {
		ex := new(execution)
		ex.init(New(Config{}), tt.parent, nil, nil)
		th := &thread{ex: ex, ctx: tt.ctx(&ex.ectx)}
		if got := th.quiet(); got != tt.want {
			t.Errorf("%s: quiet = %v, want %v", tt.name, got, tt.want)
		}
		if th.quiet() && th.ctx.Err() != nil {
			t.Errorf("%s: quiet, but Err = %v", tt.name, th.ctx.Err())
		}
	}
}
