package engine_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/internal/clock"
)

// batchRecorder keeps each Record call's batch size.
type batchRecorder struct {
	batches []int
	events  []history.Event
}

func (r *batchRecorder) Record(evs []history.Event) error {
	r.batches = append(r.batches, len(evs))
	r.events = append(r.events, evs...)
	return nil
}

// TestFlush_EffectlessStates: Pass and Choice states change nothing outside
// their execution, so their events wait for the next durable write (a
// task's invocation, a wait, the end) instead of one write each; a long
// loop of them still writes at least every 256 events.
func TestFlush_EffectlessStates(t *testing.T) {
	tests := []struct {
		name       string
		def        string
		input      string
		maxBatches int // most Record calls
		maxBatch   int // largest batch
	}{
		{
			name: "pass chain is one write",
			def: `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Next":"C"},
"C":{"Type":"Choice","Choices":[{"Variable":"$.x","IsPresent":true,"Next":"D"}],"Default":"D"},"D":{"Type":"Pass","End":true}}}`,
			input: `{}`, maxBatches: 1, maxBatch: 10,
		},
		{
			name: "a wait writes what came before it",
			def: `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"W"},"W":{"Type":"Wait","Seconds":0,"Next":"B"},
"B":{"Type":"Pass","End":true}}}`,
			input: `{}`, maxBatches: 3, maxBatch: 5,
		},
		{
			name: "a long loop writes every 256 events",
			def: `{"StartAt":"Inc","States":{
"Inc":{"Type":"Pass","Parameters":{"n.$":"States.MathAdd($.n, 1)"},"Next":"Loop"},
"Loop":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericLessThan":500,"Next":"Inc"}],"Default":"Done"},
"Done":{"Type":"Pass","End":true}}}`,
			input: `{"n":0}`, maxBatches: 1000, maxBatch: 256 + 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := engine.New(engine.Config{})
			rec := &batchRecorder{}
			res := e.Execute(context.Background(), execution(load(t, tt.def), tt.input), rec)
			if res.Status != engine.StatusSucceeded {
				t.Fatalf("status %s: %v %v", res.Status, res.Error, res.Cause)
			}
			if len(rec.batches) > tt.maxBatches {
				t.Errorf("%d writes %v, want at most %d", len(rec.batches), rec.batches, tt.maxBatches)
			}
			for _, n := range rec.batches {
				if n > tt.maxBatch {
					t.Errorf("a write of %d events, want at most %d (%v)", n, tt.maxBatch, rec.batches)
				}
			}
			if got := rec.events[len(rec.events)-1].Type; got != history.ExecutionSucceeded {
				t.Errorf("last event %s", got)
			}
			for i, ev := range rec.events {
				if ev.ID != int64(i+1) {
					t.Fatalf("event %d has id %d", i, ev.ID)
				}
			}
		})
	}
}

// TestFlush_FirstWriteWithin: with Execution.FirstWriteWithin, the first
// batch is written once that long has passed since the start, even amid
// Pass states (StartExecution answers after its first write); the states
// after it wait for the next write again.
func TestFlush_FirstWriteWithin(t *testing.T) {
	const def = `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Next":"C"},"C":{"Type":"Pass","End":true}}}`
	for _, tc := range []struct {
		name    string
		within  time.Duration
		batches string
	}{
		{"no bound", 0, "[8]"},
		{"due before the run", time.Nanosecond, "[3 5]"}, // ExecutionStarted and A's events, then the rest
		{"not yet due", time.Hour, "[8]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			e := engine.New(engine.Config{Clock: clk})
			x := execution(load(t, def), `{}`)
			x.StartTime = clk.Now().Add(-time.Second) // started a second before it runs
			x.FirstWriteWithin = tc.within
			rec := &batchRecorder{}
			if res := e.Execute(context.Background(), x, rec); res.Status != engine.StatusSucceeded {
				t.Fatalf("status %s: %v %v", res.Status, res.Error, res.Cause)
			}
			if got := fmt.Sprint(rec.batches); got != tc.batches {
				t.Fatalf("batches %s, want %s", got, tc.batches)
			}
		})
	}
}
