package api

import (
	"errors"
	"net/http"

	"github.com/stepwell/stepwell/api/internal/awsapi"
	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/executions"
)

// Error is an AWS error response. Every error the api answers is built by
// a constructor generated from the API model (awsapi.InvalidArn, …), which
// gives it its __type and HTTP status: an error the model does not declare
// does not compile.
type Error = awsapi.Error

// Constructors for the errors with AWS's message formats.

func errInvalidArn(msg string) *Error { return awsapi.InvalidArn("Invalid Arn: '" + msg + "'") }
func errInvalidName(name string) *Error {
	return awsapi.InvalidName("Invalid Name: '" + name + "'")
}
func errStateMachineDoesNotExist(arn string) *Error {
	return awsapi.StateMachineDoesNotExist("State Machine Does Not Exist: '" + arn + "'")
}
func errExecutionDoesNotExist(arn string) *Error {
	return awsapi.ExecutionDoesNotExist("Execution Does Not Exist: '" + arn + "'")
}
func errStateMachineAlreadyExists(arn string) *Error {
	return awsapi.StateMachineAlreadyExists("State Machine Already Exists: '" + arn + "'")
}
func errExecutionAlreadyExists(arn string) *Error {
	return awsapi.ExecutionAlreadyExists("Execution Already Exists: '" + arn + "'")
}
func errTypeNotSupported() *Error {
	return awsapi.StateMachineTypeNotSupported("This operation is not supported by this type of state machine")
}
func errInvalidToken() *Error { return awsapi.InvalidToken("Invalid Token: 'Invalid token'") }
func errInvalidInput(msg string) *Error {
	return awsapi.InvalidExecutionInput("Invalid State Machine Execution Input: '" + msg + "'")
}
func errValidation(msg string) *Error { return awsapi.ValidationException(msg) }
func errResourceNotFound(arn string) *Error {
	return &Error{Code: awsapi.CodeResourceNotFound, Message: "Resource not found: '" + arn + "'", ResourceName: arn}
}

// execErr answers the executions service's errors with AWS's; other
// errors pass through storeErr.
func execErr(err error) error {
	var re *executions.RefusedError
	var de *executions.DefinitionError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, executions.ErrShuttingDown):
		return awsapi.InternalFailure("The server is shutting down: retry the request later.")
	case errors.As(err, &de):
		return definitionErr(de.Err)
	case !errors.As(err, &re):
		return storeErr(err)
	}
	switch re.Kind {
	case executions.ErrExecutionDoesNotExist:
		return errExecutionDoesNotExist(re.ARN)
	case executions.ErrExecutionAlreadyExists:
		return errExecutionAlreadyExists(re.ARN)
	case executions.ErrNotRedrivable:
		return errNotRedrivable(re.Message)
	case executions.ErrRedriveUnsupported:
		return errRedriveUnsupported()
	case executions.ErrNoVersions:
		return errNoVersions()
	case executions.ErrTestCase:
		return errValidation(re.Message)
	case executions.ErrNoTasks:
		return errNoTasks()
	case executions.ErrExecutionLimitExceeded:
		return awsapi.ExecutionLimitExceeded("The maximum number of running executions has been reached. " + re.Message)
	}
	return err
}

// definitionErr answers a definition that does not load (asl.Load's
// error) with InvalidDefinition and AWS's message.
func definitionErr(err error) *Error {
	var de *asl.DefinitionError
	if errors.As(err, &de) {
		return awsapi.InvalidDefinition(de.Error())
	}
	return awsapi.InvalidDefinition("Invalid State Machine Definition: '" + err.Error() + "'")
}

// internalFailure is AWS's message for an InternalFailure: the details
// of the error stay in the server's log.
const internalFailure = "The request processing has failed because of an unknown error, exception or failure."

// writeError answers err as an AWS error response; an error that is not
// an *Error is an InternalFailure with AWS's generic message (ServeHTTP
// logs its details).
func writeError(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = awsapi.InternalFailure(internalFailure)
	}
	w.Header().Set("X-Amzn-ErrorType", e.Code.String())
	writeJSON(w, e.Code.Status(), e)
}
