// Package clock tells time and waits through an interface, so that tests
// control time instead of sleeping (the tailscale tstime pattern).
//
// Code takes a Clock (Real in production) and never calls time.Now,
// time.Sleep, time.NewTimer or time.AfterFunc itself. A test gives it a
// *Fake, waits with BlockUntil until the code reached its wait, and moves
// time on with Advance:
//
//	c := clock.NewFake(start)
//	go worker(ctx, c)          // sleeps 30s between polls
//	c.BlockUntil(1)            // the worker is asleep
//	c.Advance(30 * time.Second) // and wakes now, in virtual time
package clock

import (
	"context"
	"time"
)

// Clock tells time, sleeps and arms timers.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// Sleep waits for d, or until ctx is done and returns ctx.Err() then.
	// With d <= 0 it returns ctx.Err() at once.
	Sleep(ctx context.Context, d time.Duration) error
	// NewTimer returns a timer that sends the current time on its channel
	// once d has passed (at once for d <= 0), as time.NewTimer.
	NewTimer(d time.Duration) Timer
	// AfterFunc returns a timer that calls f once d has passed, as
	// time.AfterFunc. Its C is nil.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a timer of a Clock. Stop and Reset behave as time.Timer's do
// since Go 1.23: after either returns, no value sent for the old
// deadline is received from C.
type Timer interface {
	// C delivers the time when the timer fires; nil for AfterFunc timers.
	C() <-chan time.Time
	// Stop prevents the timer from firing. It reports whether it did,
	// false when the timer had already fired or been stopped.
	Stop() bool
	// Reset makes the timer fire once d has passed from now. It reports
	// whether the timer was armed before.
	Reset(d time.Duration) bool
}

// Real is the wall clock.
type Real struct{}

var _ Clock = Real{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// Sleep waits for d or until ctx is done.
func (Real) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// NewTimer returns a time.Timer.
func (Real) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

// AfterFunc returns time.AfterFunc(d, f).
func (Real) AfterFunc(d time.Duration, f func()) Timer { return realTimer{time.AfterFunc(d, f)} }

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time        { return r.t.C }
func (r realTimer) Stop() bool                 { return r.t.Stop() }
func (r realTimer) Reset(d time.Duration) bool { return r.t.Reset(d) }
