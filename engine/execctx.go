package engine

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// execCtx is an execution's context: context.WithCancelCause of the
// caller's, made the first time something needs it as a context (Done or
// Value: a state that waits, calls out, or starts branches; context.Cause).
// Until then Err and cancel work without it, so an execution whose states
// never block (Pass, Choice) allocates none: the context and its cancel
// function were two of an execution's few allocations.
//
// It behaves as the context it stands for: the first cancellation's cause
// wins (the caller's, when its context ended first), Err reports the
// cancellation, and contexts derived from it are children of the real one.
type execCtx struct {
	parent context.Context
	// bg tells that parent is context.Background(), which is never
	// cancelled (set by init): thread.quiet need not ask it (a call
	// through an interface).
	bg   bool
	made atomic.Pointer[madeCtx]
	// cancelled tells that cancel was called before the context was
	// made, with cause (guarded by mu).
	cancelled atomic.Bool
	mu        sync.Mutex
	cause     error
}

// madeCtx is the real context and its cancel function.
type madeCtx struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
}

var _ context.Context = (*execCtx)(nil)

// real returns the real context, making it the first time.
func (c *execCtx) real() *madeCtx {
	if m := c.made.Load(); m != nil {
		return m
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if m := c.made.Load(); m != nil {
		return m
	}
	parent := c.parent
	if c.cancelled.Load() {
		// Cancelled already: with its own cause even when the caller's
		// context ended since.
		parent = context.WithoutCancel(parent)
	}
	ctx, cancel := context.WithCancelCause(parent)
	if c.cancelled.Load() {
		cancel(c.cause)
	}
	m := &madeCtx{ctx: ctx, cancel: cancel}
	c.made.Store(m)
	return m
}

// cancel cancels the context with cause (context.Canceled when nil), as a
// context.CancelCauseFunc does.
func (c *execCtx) cancel(cause error) {
	if m := c.made.Load(); m != nil {
		m.cancel(cause)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if m := c.made.Load(); m != nil {
		m.cancel(cause)
		return
	}
	if c.cancelled.Load() || c.parent.Err() != nil {
		return // an earlier cause wins
	}
	if cause == nil {
		cause = context.Canceled
	}
	c.cause = cause
	c.cancelled.Store(true)
}

// causeOf is context.Cause of the context, without making it.
func (c *execCtx) causeOf() error {
	if m := c.made.Load(); m != nil {
		return context.Cause(m.ctx)
	}
	if c.cancelled.Load() {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.cause
	}
	return context.Cause(c.parent)
}

// Deadline implements context.Context.
func (c *execCtx) Deadline() (time.Time, bool) { return c.parent.Deadline() }

// Done implements context.Context.
func (c *execCtx) Done() <-chan struct{} { return c.real().ctx.Done() }

// Err implements context.Context.
func (c *execCtx) Err() error {
	if m := c.made.Load(); m != nil {
		return m.ctx.Err()
	}
	if c.cancelled.Load() {
		return context.Canceled
	}
	return c.parent.Err()
}

// Value implements context.Context. It makes the real context: context.Cause
// and the contexts derived from this one find its cancellation through it.
func (c *execCtx) Value(key any) any { return c.real().ctx.Value(key) }
