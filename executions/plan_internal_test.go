package executions

import (
	"testing"

	"github.com/stepwell/stepwell/history"
)

var planTypes = []history.EventType{
	history.ExecutionStarted, history.PassStateEntered, history.PassStateExited, history.TaskStateEntered,
	history.TaskScheduled, history.TaskFailed, history.TaskStateExited, history.ParallelStateEntered,
	history.ParallelStateFailed, history.MapIterationStarted, history.MapIterationSucceeded, history.MapIterationFailed,
	history.ExecutionFailed, history.ExecutionRedriven,
}

var planThreads = []string{"", "", "b0", "b1", "m0", "m1/b0"}

// FuzzPlanRedrive builds histories from bytes (type, thread pairs): the
// plans never panic, replay ids are 1..K with the stored ids ascending,
// and the engine's new ids land after the stored history.
func FuzzPlanRedrive(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 2, 0, 3, 0, 5, 0, 12, 0, 13, 0, 3, 0})
	f.Add([]byte{0, 0, 7, 0, 3, 2, 6, 2, 3, 3, 5, 3, 8, 0, 12, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var evs []history.Event
		for i := 0; i+1 < len(b); i += 2 {
			evs = append(evs, history.Event{ID: int64(len(evs) + 1), Type: planTypes[int(b[i])%len(planTypes)],
				Thread: planThreads[int(b[i+1])%len(planThreads)]})
		}
		for _, p := range []*redrivePlan{planRedrive(evs), planResume(evs)} {
			var last int64
			for k, ev := range p.replay {
				if ev.ID != int64(k+1) || p.orig[k] <= last {
					t.Fatalf("replay %d: id %d, stored %d after %d", k, ev.ID, p.orig[k], last)
				}
				last = p.orig[k]
			}
			if got := p.id(int64(len(p.replay)) + 1); got <= int64(len(evs)) {
				t.Fatalf("the first new event gets stored id %d within the history (%d events)", got, len(evs))
			}
			for _, ev := range p.replay {
				if ev.Type == history.ExecutionRedriven || (p.linkFirst && ev.Type == history.ExecutionFailed) {
					t.Fatalf("replay keeps %s", ev.Type)
				}
			}
		}
	})
}

func TestPlanRedrive_KeepsCompletedWork(t *testing.T) {
	ev := func(typ history.EventType, thread string) history.Event {
		return history.Event{Type: typ, Thread: thread}
	}
	evs := []history.Event{
		ev(history.ExecutionStarted, ""), ev(history.PassStateEntered, ""), ev(history.PassStateExited, ""),
		ev(history.ParallelStateEntered, ""), ev(history.ParallelStateStarted, ""),
		ev(history.PassStateEntered, "b0"), ev(history.PassStateExited, "b0"),
		ev(history.TaskStateEntered, "b1"), ev(history.TaskScheduled, "b1"), ev(history.TaskFailed, "b1"),
		ev(history.ParallelStateFailed, ""), ev(history.ExecutionFailed, ""),
	}
	for i := range evs {
		evs[i].ID = int64(i + 1)
	}
	p := planRedrive(evs)
	want := []int64{1, 2, 3, 6, 7}
	if len(p.orig) != len(want) {
		t.Fatalf("kept %v, want %v", p.orig, want)
	}
	for i := range want {
		if p.orig[i] != want[i] {
			t.Fatalf("kept %v, want %v", p.orig, want)
		}
	}
	// The redrive appends ExecutionRedriven as 13; new events follow it.
	if p.base != 13 || p.id(6) != 14 || p.id(2) != 2 {
		t.Fatalf("base %d, id(6) %d", p.base, p.id(6))
	}
}

// TestPlanResume_MapRunRedriven: a resumed execution whose history
// recorded its Map Run as redriven replays it as the MapRunStarted the
// engine emits.
func TestPlanResume_MapRunRedriven(t *testing.T) {
	const run = "arn:aws:states:us-east-1:1:mapRun:m/l:id"
	evs := []history.Event{
		{ID: 1, Type: history.ExecutionStarted},
		{ID: 2, Type: history.MapStateEntered},
		{ID: 3, Type: history.MapStateStarted},
		{ID: 4, Type: history.MapRunFailed},
		{ID: 5, Type: history.ExecutionFailed},
		{ID: 6, Type: history.ExecutionRedriven},
		{ID: 7, Type: history.MapStateEntered},
		{ID: 8, Type: history.MapStateStarted},
		{ID: 9, Type: history.MapRunRedriven, MapRunRedrivenEventDetails: &history.MapRunRedrivenEventDetails{MapRunArn: run, RedriveCount: 1}},
	}
	p := planResume(evs)
	last := p.replay[len(p.replay)-1]
	if last.Type != history.MapRunStarted || last.MapRunStartedEventDetails == nil || last.MapRunStartedEventDetails.MapRunArn != run ||
		last.MapRunRedrivenEventDetails != nil || p.orig[len(p.orig)-1] != 9 {
		t.Fatalf("replayed %+v (stored id %d)", last, p.orig[len(p.orig)-1])
	}
	if evs[8].Type != history.MapRunRedriven {
		t.Fatal("the stored history was changed")
	}
}
