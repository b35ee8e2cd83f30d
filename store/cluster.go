package store

import "errors"

// ErrLeaseLost is returned (wrapping ErrConflict, so that callers which
// take a conflict for "closed already" stay quiet) when a process that
// shares a store with others writes to an execution it no longer owns:
// its lease expired, or another process took the execution over. The
// write is not applied.
var ErrLeaseLost = errors.New("lease lost")

// Signal kinds (Signal.Kind).
const (
	SignalStop      = "stop"      // StopExecution: ARN, Error, Cause
	SignalSucceed   = "succeed"   // SendTaskSuccess: Token, Output
	SignalFail      = "fail"      // SendTaskFailure: Token, Error, Cause
	SignalHeartbeat = "heartbeat" // SendTaskHeartbeat: Token
	SignalPoll      = "poll"      // GetActivityTask: ARN (the activity's), Output (the worker's name)
	// SignalUpdateMapRun is UpdateMapRun: ARN (the Map Run's), Output (the
	// update, as JSON).
	SignalUpdateMapRun = "updatemaprun"
)

// Signal is a request that only the process driving an execution can
// apply (stop it, complete or keep alive one of its tasks, update one of
// its Map Runs), sent through
// a store shared by several processes to all of them.
type Signal struct {
	Kind   string  `json:"kind"`
	ARN    string  `json:"arn,omitempty"`
	Token  string  `json:"token,omitempty"`
	Output string  `json:"output,omitempty"`
	Error  *string `json:"error,omitempty"`
	Cause  *string `json:"cause,omitempty"`
	// To, when not zero, is the one node that may handle the signal, which
	// then handles it at most once, even if its sender gives up.
	To int64 `json:"to,omitempty"`
}
