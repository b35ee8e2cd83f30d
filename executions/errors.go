package executions

import (
	"errors"

	"github.com/stepwell/stepwell/engine"
)

// Kinds of *RefusedError: errors.Is(err, ErrX) tells them apart.
var (
	// ErrExecutionDoesNotExist is returned when no execution has the ARN.
	ErrExecutionDoesNotExist = errors.New("execution does not exist")
	// ErrExecutionAlreadyExists is returned by Start when an execution of
	// that name exists and is not the same running start.
	ErrExecutionAlreadyExists = errors.New("execution already exists")
	// ErrNotRedrivable is returned by Redrive for an execution that
	// cannot be redriven; the message says why.
	ErrNotRedrivable = errors.New("execution not redrivable")
	// ErrRedriveUnsupported is returned by Redrive when the service cannot
	// reopen executions (Config.Reopener is nil).
	ErrRedriveUnsupported = errors.New("redrive not supported by the store")
	// ErrNoVersions is returned by Redrive when the service keeps no
	// execution metadata (Config.Versions is nil).
	ErrNoVersions = errors.New("no versions store")
	// ErrTestCase is returned by Start when the execution cannot be bound
	// to its mock test case; the message is the binder's.
	ErrTestCase = errors.New("invalid test case")
	// ErrNoTasks is returned by the task operations when the service has
	// no TaskBroker.
	ErrNoTasks = errors.New("no task broker")
)

// ErrShuttingDown is wrapped by the errors of the store writes refused
// because the server is stopping (besides store.ErrConflict, which the
// service otherwise takes for an execution closed already): the request
// failed on the server's side, whatever the state of its resource.
var ErrShuttingDown = errors.New("server is shutting down")

// Errors a TaskBroker returns: the API answers each with AWS's error of
// the same meaning. They are the engine's, which issues the task tokens, so
// that a broker returns them as they are, without importing this package.
var (
	// ErrInvalidToken: the token was not issued by this server.
	ErrInvalidToken = engine.ErrInvalidToken
	// ErrTaskTimedOut: the token's task has ended (completed, timed out,
	// or its execution stopped).
	ErrTaskTimedOut = engine.ErrTaskTimedOut
	// ErrInvalidOutput: SendTaskSuccess output that is not JSON.
	ErrInvalidOutput = engine.ErrInvalidOutput
	// ErrActivityDoesNotExist: GetActivityTask on an unknown activity.
	ErrActivityDoesNotExist = engine.ErrActivityDoesNotExist
	// ErrWorkerLimit: too many concurrent GetActivityTask calls on one
	// activity.
	ErrWorkerLimit = engine.ErrWorkerLimit
)

// RefusedError is a request the service refuses. Kind is one of the Err*
// sentinels above (errors.Is matches it), ARN the resource concerned and
// Message, when set, the reason worded for the API's caller.
type RefusedError struct {
	Kind    error
	ARN     string
	Message string
}

func (e *RefusedError) Error() string {
	if e.Message != "" {
		return e.Kind.Error() + ": " + e.Message
	}
	return e.Kind.Error() + ": " + e.ARN
}

// Unwrap returns the kind.
func (e *RefusedError) Unwrap() error { return e.Kind }

func refused(kind error, arn, msg string) *RefusedError {
	return &RefusedError{Kind: kind, ARN: arn, Message: msg}
}

// DefinitionError is a stored definition that no longer loads (asl.Load's
// error).
type DefinitionError struct{ Err error }

func (e *DefinitionError) Error() string { return "load definition: " + e.Err.Error() }

// Unwrap returns asl.Load's error.
func (e *DefinitionError) Unwrap() error { return e.Err }
