package engine_test

import (
	"context"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/internal/clock"
)

// tickingClock is a fake clock that moves a millisecond on at every
// reading, so that each reading of it shows in the events' timestamps.
type tickingClock struct{ *clock.Fake }

func (c tickingClock) Now() time.Time {
	c.Advance(time.Millisecond)
	return c.Fake.Now()
}

// TestStamps_EnteredAtTransition: after a Pass or Choice state whose
// events wait for a later write, the next state's Entered event takes the
// time of the Exited event before it (no clock reading between them);
// every other event reads the clock.
func TestStamps_EnteredAtTransition(t *testing.T) {
	def := `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericEquals":1,"Next":"C"}]},"C":{"Type":"Pass","End":true}}}`
	c := tickingClock{clock.NewFake(goldenStart)}
	e := engine.New(engine.Config{Clock: c})
	rec := &keepAll{}
	res := waitRun(t, e.Start(context.Background(), resumeExecution(def, `{"n":1}`, t), rec))
	if res.Status != engine.StatusSucceeded {
		t.Fatalf("run: %+v", res)
	}
	evs := rec.events
	for i := 1; i < len(evs); i++ {
		prev, ev := evs[i-1], evs[i]
		shared := ev.StateEnteredEventDetails != nil && prev.StateExitedEventDetails != nil
		if got := ev.Timestamp.Equal(prev.Timestamp); got != shared {
			t.Errorf("%s at %v after %s at %v: same time %v, want %v", ev.Type, ev.Timestamp, prev.Type, prev.Timestamp, got, shared)
		}
		if ev.Timestamp.Before(prev.Timestamp) {
			t.Errorf("%s at %v before %s at %v", ev.Type, ev.Timestamp, prev.Type, prev.Timestamp)
		}
	}
}

// TestStamps_NotFromReplayedEvents: a run resumed after a replayed Pass
// state stamps the next state's Entered event with the time now, not the
// replayed Exited event's.
func TestStamps_NotFromReplayedEvents(t *testing.T) {
	synctest.Test(t, testStampsNotFromReplayedEvents)
}

func testStampsNotFromReplayedEvents(t *testing.T) {
	def := `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","End":true}}}`
	ref := refHistory(t, def, `{}`, &attemptInvoker{})
	prefix := cutAfter(t, ref, history.PassStateExited, 1)
	later := prefix[len(prefix)-1].Timestamp.Add(time.Hour)
	e := engine.New(engine.Config{Clock: tickingClock{clock.NewFake(later)}})
	rec := &keepAll{events: slices.Clone(prefix)}
	res := waitRun(t, e.Resume(context.Background(), resumeExecution(def, `{}`, t), slices.Clone(prefix), rec))
	if res.Status != engine.StatusSucceeded {
		t.Fatalf("resumed run: %+v", res)
	}
	for _, ev := range rec.events[len(prefix):] {
		if ev.Timestamp.Before(later) {
			t.Errorf("%s at %v, before the resumption at %v", ev.Type, ev.Timestamp, later)
		}
	}
}
