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
)

// Signal is a request that only the process driving an execution can
// apply (stop it, complete or keep alive one of its tasks), sent through
// a store shared by several processes to all of them.
type Signal struct {
	Kind   string  `json:"kind"`
	ARN    string  `json:"arn,omitempty"`
	Token  string  `json:"token,omitempty"`
	Output string  `json:"output,omitempty"`
	Error  *string `json:"error,omitempty"`
	Cause  *string `json:"cause,omitempty"`
}
