package clock_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stepwell/stepwell/internal/clock"
)

var start = time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC)

// blockUntil is BlockUntil that fails the test instead of hanging when the
// code under test never reaches its wait.
func blockUntil(t *testing.T, c *clock.Fake, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.BlockUntilContext(ctx, n); err != nil {
		t.Fatalf("waiting for %d waiters (have %d): %v", n, c.Waiters(), err)
	}
}

// sleepAsync runs Sleep in a goroutine and reports its result.
func sleepAsync(ctx context.Context, c clock.Clock, d time.Duration) <-chan error {
	done := make(chan error, 1)
	go func() { done <- c.Sleep(ctx, d) }()
	return done
}

func TestFake_NowMovesOnlyWithAdvance(t *testing.T) {
	c := clock.NewFake(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("Now = %v, want %v", got, start)
	}
	c.Advance(0)
	c.Advance(90 * time.Second)
	if got := c.Now(); !got.Equal(start.Add(90 * time.Second)) {
		t.Fatalf("Now = %v after 90s", got)
	}
	var zero clock.Fake // usable too
	zero.Advance(time.Second)
	if got := zero.Now(); !got.Equal(time.Time{}.Add(time.Second)) {
		t.Fatalf("zero Fake: Now = %v", got)
	}
}

func TestFake_AdvanceNegativePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	clock.NewFake(start).Advance(-time.Nanosecond)
}

func TestFake_SleepWakesAtItsDeadline(t *testing.T) {
	c := clock.NewFake(start)
	done := sleepAsync(context.Background(), c, 10*time.Second)
	blockUntil(t, c, 1)
	c.Advance(10*time.Second - time.Nanosecond)
	// Advance fires synchronously: a waiter still armed has not fired.
	if n := c.Waiters(); n != 1 {
		t.Fatalf("%d waiters 1ns before the deadline, want 1", n)
	}
	c.Advance(time.Nanosecond)
	if err := <-done; err != nil {
		t.Fatalf("Sleep: %v", err)
	}
	if n := c.Waiters(); n != 0 {
		t.Fatalf("%d waiters after the wake", n)
	}
}

func TestFake_SleepWithoutWaiting(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tt := range []struct {
		name string
		ctx  context.Context
		d    time.Duration
		want error
	}{
		{"zero", context.Background(), 0, nil},
		{"negative", context.Background(), -time.Second, nil},
		{"zero, ctx done", cancelled, 0, context.Canceled},
		{"positive, ctx done", cancelled, time.Second, context.Canceled},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := clock.NewFake(start)
			if err := c.Sleep(tt.ctx, tt.d); !errors.Is(err, tt.want) {
				t.Fatalf("Sleep = %v, want %v", err, tt.want)
			}
			if n := c.Waiters(); n != 0 {
				t.Fatalf("%d waiters left", n)
			}
		})
	}
}

func TestFake_SleepEndsWithItsContext(t *testing.T) {
	c := clock.NewFake(start)
	ctx, cancel := context.WithCancelCause(context.Background())
	done := sleepAsync(ctx, c, time.Hour)
	blockUntil(t, c, 1)
	cancel(errors.New("stop"))
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep = %v, want context.Canceled", err)
	}
	if n := c.Waiters(); n != 0 {
		t.Fatalf("the cancelled Sleep is still a waiter (%d)", n)
	}
	c.Advance(time.Hour) // nothing left to fire
}

// TestFake_FiresInDeadlineOrder arms timers out of order (with ties) and
// fires them in one Advance: callbacks run in deadline order, then in the
// order they were armed.
func TestFake_FiresInDeadlineOrder(t *testing.T) {
	c := clock.NewFake(start)
	var got []string
	for _, x := range []struct {
		name string
		d    time.Duration
	}{{"c", 3 * time.Second}, {"a1", time.Second}, {"b", 2 * time.Second}, {"a2", time.Second}, {"late", time.Hour}, {"a3", time.Second}} {
		c.AfterFunc(x.d, func() { got = append(got, x.name) })
	}
	c.Advance(time.Minute)
	if want := []string{"a1", "a2", "a3", "b", "c"}; !slices.Equal(got, want) {
		t.Fatalf("fired %v, want %v", got, want)
	}
	if n := c.Waiters(); n != 1 {
		t.Fatalf("%d waiters, want the late one", n)
	}
}

// TestFake_WokenCodeSeesTheNewTime: every waiter fired by an Advance, and
// every goroutine it wakes, sees the time the Advance moved to, whatever
// the deadline was; timers armed then count from it.
func TestFake_WokenCodeSeesTheNewTime(t *testing.T) {
	c := clock.NewFake(start)
	end := start.Add(10 * time.Second)
	var inCallback time.Time
	var rearmed clock.Timer
	c.AfterFunc(time.Second, func() {
		inCallback = c.Now()
		// Due within the same Advance by the old time, but armed now: it
		// waits for the next one.
		rearmed = c.NewTimer(time.Second)
	})
	woke := make(chan time.Time, 1)
	go func() {
		if err := c.Sleep(context.Background(), 2*time.Second); err == nil {
			woke <- c.Now()
		}
	}()
	timer := c.NewTimer(3 * time.Second)
	blockUntil(t, c, 3)
	c.Advance(10 * time.Second)
	if !inCallback.Equal(end) {
		t.Fatalf("callback saw %v, want %v", inCallback, end)
	}
	if got := <-woke; !got.Equal(end) {
		t.Fatalf("sleeper saw %v, want %v", got, end)
	}
	if got := <-timer.C(); !got.Equal(end) {
		t.Fatalf("timer sent %v, want %v", got, end)
	}
	select {
	case <-rearmed.C():
		t.Fatal("a timer armed during Advance fired in it")
	default:
	}
	c.Advance(time.Second)
	if got := <-rearmed.C(); !got.Equal(end.Add(time.Second)) {
		t.Fatalf("rearmed timer sent %v", got)
	}
}

func TestFake_CallbackStopsALaterTimer(t *testing.T) {
	c := clock.NewFake(start)
	var second, third clock.Timer
	fired := ""
	c.AfterFunc(time.Second, func() {
		fired += "1"
		if !second.Stop() {
			t.Error("Stop of a due timer not yet fired = false")
		}
		if !third.Reset(time.Minute) {
			t.Error("Reset of a due timer not yet fired = false")
		}
	})
	second = c.AfterFunc(2*time.Second, func() { fired += "2" })
	third = c.NewTimer(3 * time.Second)
	c.Advance(5 * time.Second)
	if fired != "1" {
		t.Fatalf("fired %q, want only the first", fired)
	}
	select {
	case <-third.C():
		t.Fatal("a timer reset by an earlier callback sent its old deadline")
	default:
	}
	c.Advance(time.Minute)
	<-third.C()
}

func TestFake_Timer(t *testing.T) {
	c := clock.NewFake(start)
	tm := c.NewTimer(time.Second)
	if c.Waiters() != 1 {
		t.Fatal("an armed timer is a waiter")
	}
	if !tm.Stop() || tm.Stop() {
		t.Fatal("Stop: want true, then false")
	}
	c.Advance(time.Second)
	select {
	case <-tm.C():
		t.Fatal("a stopped timer fired")
	default:
	}
	if tm.Reset(time.Second) {
		t.Fatal("Reset of a stopped timer = true")
	}
	c.Advance(time.Second)
	if got := <-tm.C(); !got.Equal(start.Add(2 * time.Second)) {
		t.Fatalf("sent %v", got)
	}
	if tm.Stop() {
		t.Fatal("Stop after the value was received = true")
	}
	// Fired but not received: Stop drops the value (Go 1.23 semantics).
	tm.Reset(time.Second)
	c.Advance(time.Second)
	if !tm.Stop() {
		t.Fatal("Stop of a fired, unreceived timer = false")
	}
	select {
	case v := <-tm.C():
		t.Fatalf("stale value %v after Stop", v)
	default:
	}
	// Reset with d <= 0 fires at once, as NewTimer(0) does.
	tm.Reset(0)
	if got := <-tm.C(); !got.Equal(start.Add(3 * time.Second)) {
		t.Fatalf("Reset(0) sent %v", got)
	}
	now := c.NewTimer(0)
	<-now.C()
	if c.Waiters() != 0 {
		t.Fatal("fired timers are not waiters")
	}
}

func TestFake_AfterFunc(t *testing.T) {
	c := clock.NewFake(start)
	calls := 0
	tm := c.AfterFunc(time.Second, func() { calls++ })
	if tm.C() != nil {
		t.Fatal("AfterFunc timer has a channel")
	}
	c.Advance(time.Second)
	if calls != 1 {
		t.Fatalf("%d calls after Advance returned", calls)
	}
	if tm.Stop() {
		t.Fatal("Stop after firing = true")
	}
	if tm.Reset(time.Second) {
		t.Fatal("Reset after firing = true")
	}
	c.Advance(time.Second)
	if calls != 2 {
		t.Fatalf("%d calls after the reset timer's deadline", calls)
	}
	ran := make(chan struct{})
	c.AfterFunc(0, func() { close(ran) }) // its own goroutine, at once
	<-ran
}

func TestFake_AdvanceToNext(t *testing.T) {
	c := clock.NewFake(start)
	if c.AdvanceToNext() {
		t.Fatal("AdvanceToNext with no waiter = true")
	}
	var fired []int
	for _, s := range []int{5, 2, 2, 9} {
		c.AfterFunc(time.Duration(s)*time.Second, func() { fired = append(fired, s) })
	}
	var at []time.Duration
	for c.AdvanceToNext() {
		at = append(at, c.Now().Sub(start))
	}
	if want := []int{2, 2, 5, 9}; !slices.Equal(fired, want) {
		t.Fatalf("fired %v, want %v", fired, want)
	}
	if want := []time.Duration{2 * time.Second, 5 * time.Second, 9 * time.Second}; !slices.Equal(at, want) {
		t.Fatalf("stopped at %v, want %v", at, want)
	}
}

func TestFake_BlockUntilContextGivesUp(t *testing.T) {
	c := clock.NewFake(start)
	c.NewTimer(time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.BlockUntilContext(ctx, 2) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("BlockUntilContext = %v", err)
	}
	if err := c.BlockUntilContext(context.Background(), 1); err != nil {
		t.Fatalf("reached already: %v", err)
	}
}

// TestFake_BlockUntilSeesEachWaiter: BlockUntil(n) returns for each of n
// goroutines reaching its wait, however late they get there.
func TestFake_BlockUntilSeesEachWaiter(t *testing.T) {
	c := clock.NewFake(start)
	const n = 50
	release := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-release
			if err := c.Sleep(context.Background(), time.Duration(i+1)*time.Millisecond); err != nil {
				t.Errorf("Sleep: %v", err)
			}
		}()
	}
	close(release)
	blockUntil(t, c, n)
	c.Advance(n * time.Millisecond)
	wg.Wait()
	if c.Waiters() != 0 {
		t.Fatalf("%d waiters left", c.Waiters())
	}
}

// TestFake_Concurrent hammers the fake from many goroutines (run with
// -race): sleepers that re-arm, timers stopped and reset, and Advance from
// two goroutines. Every sleeper ends, and time only moves forward.
func TestFake_Concurrent(t *testing.T) {
	c := clock.NewFake(start)
	ctx, cancel := context.WithCancel(context.Background())
	const sleepers, rounds = 16, 20
	var wg sync.WaitGroup
	for i := range sleepers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 1))
			last := c.Now()
			for range rounds {
				tm := c.NewTimer(time.Duration(rng.IntN(5)) * time.Millisecond)
				if rng.IntN(2) == 0 {
					tm.Stop()
				}
				tm.Reset(time.Duration(rng.IntN(3)) * time.Millisecond)
				if err := c.Sleep(ctx, time.Duration(1+rng.IntN(10))*time.Millisecond); err != nil {
					return
				}
				if now := c.Now(); now.Before(last) {
					t.Errorf("time went back from %v to %v", last, now)
				} else {
					last = now
				}
				tm.Stop()
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var advancers sync.WaitGroup
	for range 2 {
		advancers.Add(1)
		go func() {
			defer advancers.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				if !c.AdvanceToNext() {
					_ = c.BlockUntilContext(ctx, 1)
				}
			}
		}()
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("sleepers stuck; %d waiters", c.Waiters())
	}
	cancel()
	advancers.Wait()
}

// Example shows a test driving code that waits on the clock.
func ExampleFake() {
	c := clock.NewFake(start)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 3 {
			_ = c.Sleep(context.Background(), 30*time.Second) // poll interval
			fmt.Println("poll", i+1, c.Now().Format(time.TimeOnly))
		}
	}()
	for range 3 {
		c.BlockUntil(1) // the poller is asleep
		c.Advance(30 * time.Second)
	}
	<-done
	// Output:
	// poll 1 10:00:30
	// poll 2 10:01:00
	// poll 3 10:01:30
}
