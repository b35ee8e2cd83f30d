// Package fault defines the runtime error every part of Stepwell raises while
// an execution runs: an ASL error name (States.Runtime, States.TaskFailed, a
// Lambda errorType, …) with its cause, exactly as AWS reports them in history
// events and in a catcher's Error Output.
package fault

import (
	"errors"
	"fmt"
)

// Predefined ASL error names.
const (
	ALL                             = "States.ALL"
	TaskFailed                      = "States.TaskFailed"
	Timeout                         = "States.Timeout"
	HeartbeatTimeout                = "States.HeartbeatTimeout"
	Permissions                     = "States.Permissions"
	ResultPathMatchFailure          = "States.ResultPathMatchFailure"
	ParameterPathFailure            = "States.ParameterPathFailure"
	QueryEvaluationError            = "States.QueryEvaluationError"
	BranchFailed                    = "States.BranchFailed"
	NoChoiceMatched                 = "States.NoChoiceMatched"
	IntrinsicFailure                = "States.IntrinsicFailure"
	ExceedToleratedFailureThreshold = "States.ExceedToleratedFailureThreshold"
	ItemReaderFailed                = "States.ItemReaderFailed"
	ResultWriterFailed              = "States.ResultWriterFailed"
	Runtime                         = "States.Runtime"
	DataLimitExceeded               = "States.DataLimitExceeded"
)

// Error is an ASL runtime error: a name that Retry and Catch match on, and a
// cause (free text, often JSON). HasCause distinguishes an absent cause from
// an empty one, which AWS shows differently in history.
type Error struct {
	Name     string
	Cause    string
	HasName  bool // false when the error has no name at all (AWS shows null)
	HasCause bool
}

// New returns an error with a name and a cause.
func New(name, cause string) *Error {
	return &Error{Name: name, Cause: cause, HasName: true, HasCause: true}
}

// Newf returns an error whose cause is formatted.
func Newf(name, format string, args ...any) *Error {
	return New(name, fmt.Sprintf(format, args...))
}

// As finds the first *Error in err's chain (errors.As): an error that
// wraps a fault keeps the fault's name rather than becoming a generic one.
func As(err error) (*Error, bool) {
	var fe *Error
	if errors.As(err, &fe) {
		return fe, true
	}
	return nil, false
}

// NameOnly returns an error with a name and no cause.
func NameOnly(name string) *Error { return &Error{Name: name, HasName: true} }

func (e *Error) Error() string {
	if e.HasCause {
		return e.Name + ": " + e.Cause
	}
	return e.Name
}
