package executions

import (
	"encoding/json"
	"time"

	"github.com/stepwell/stepwell/history"
)

// Observer watches the executions a Service runs, for metrics and logs
// (package metrics implements it): the one port through which they see
// executions. It sees each execution's history as it is recorded, so what
// it counts is what GetExecutionHistory shows.
type Observer interface {
	// Watch returns the watcher of one run of an execution (its start, or
	// its resumption after a restart, a park or a redrive). It is called
	// once per run, before any of its events is recorded.
	Watch(x Watched) Watcher
	// Unrecorded is told of a synchronous Express execution that records
	// no history (Config.ExpressHistory off): when it started and how it
	// ended (a store.Status* value).
	Unrecorded(x Watched, start, stop time.Time, status string)
}

// Watched names an execution for an Observer.
type Watched struct {
	// ExecutionARN and StateMachineARN name the execution and its state
	// machine (the unqualified ARN).
	ExecutionARN, StateMachineARN string
	// VersionARN and AliasARN are the version and alias it was started
	// through ("" for none).
	VersionARN, AliasARN string
	// Type is TypeStandard or TypeExpress.
	Type string
	// Start is when the execution started (or was last redriven).
	Start time.Time
	// RedriveCount is how many times it was redriven.
	RedriveCount int64
	// Logging is the LoggingConfiguration of its state machine revision
	// (JSON; nil: the default, level OFF).
	Logging json.RawMessage
}

// Watcher is told of one execution's history. Its calls come from one
// goroutine at a time, in the order of the events, and must not block.
type Watcher interface {
	// Recorded is told of events once they are stored.
	Recorded(events []history.Event)
}

// Observers returns an Observer that tells each of list (nil ones left
// out). A Watch of list may return nil: that observer does not watch the
// execution.
func Observers(list ...Observer) Observer {
	var kept observers
	for _, o := range list {
		if o != nil {
			kept = append(kept, o)
		}
	}
	if len(kept) == 1 {
		return kept[0]
	}
	return kept
}

type observers []Observer

func (os observers) Watch(x Watched) Watcher {
	var ws watchers
	for _, o := range os {
		if w := o.Watch(x); w != nil {
			ws = append(ws, w)
		}
	}
	switch len(ws) {
	case 0:
		return nil
	case 1:
		return ws[0]
	}
	return ws
}

func (os observers) Unrecorded(x Watched, start, stop time.Time, status string) {
	for _, o := range os {
		o.Unrecorded(x, start, stop, status)
	}
}

type watchers []Watcher

func (ws watchers) Recorded(events []history.Event) {
	for _, w := range ws {
		w.Recorded(events)
	}
}

// watch returns the observer's watcher of an execution, or nil.
func (s *Service) watch(x Watched) Watcher {
	if s.obs == nil {
		return nil
	}
	return s.obs.Watch(x)
}

// Open returns how many executions this service has open: running or
// parked (AWS's OpenExecutionCount).
func (s *Service) Open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.runs)
}
