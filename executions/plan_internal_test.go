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
