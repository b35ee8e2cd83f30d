package store

import "github.com/stepwell/stepwell/history"

// RunningLast is a running execution with the last event of its history
// (Store.ListRunningLast).
type RunningLast struct {
	Execution *Execution
	// Last is the execution's latest history event, exactly as appended;
	// nil when its history is empty.
	Last *history.Event
}
