package clock_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stepwell/stepwell/internal/clock"
)

// The real clock is tested with short real durations: waiting for them is
// the behaviour under test.

func TestReal_Sleep(t *testing.T) {
	c := clock.Real{}
	before := c.Now()
	if err := c.Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatalf("Sleep: %v", err)
	}
	if d := c.Now().Sub(before); d < time.Millisecond {
		t.Fatalf("slept %v", d)
	}
	if err := c.Sleep(context.Background(), 0); err != nil {
		t.Fatalf("Sleep(0): %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep with a cancelled ctx: %v", err)
	}
}

func TestReal_Timers(t *testing.T) {
	c := clock.Real{}
	tm := c.NewTimer(time.Millisecond)
	<-tm.C()
	if tm.Stop() {
		t.Fatal("Stop after firing = true")
	}
	tm = c.NewTimer(time.Hour)
	if !tm.Stop() {
		t.Fatal("Stop of an armed timer = false")
	}
	if tm.Reset(time.Millisecond) {
		t.Fatal("Reset of a stopped timer = true")
	}
	<-tm.C()
	ran := make(chan struct{})
	af := c.AfterFunc(time.Millisecond, func() { close(ran) })
	<-ran
	if af.C() != nil {
		t.Fatal("AfterFunc timer has a channel")
	}
}
