package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/executions"
)

// Error is an AWS error response: HTTP status, the error's name (the
// __type member's part after '#') and message.
type Error struct {
	Name    string
	Message string
	// Reason is ValidationException's reason member (e.g.
	// INVALID_ROUTING_CONFIGURATION), ResourceName the resourceName member
	// of ResourceNotFound and TooManyTags; both are omitted when empty.
	Reason       string
	ResourceName string
}

func (e *Error) Error() string { return e.Name + ": " + e.Message }

// errorKind is one row of the error table.
type errorKind struct {
	namespace string
	status    int
}

const (
	nsService = "com.amazonaws.swf.service.v2.model#"
	nsCoral   = "com.amazon.coral.service#"
	nsValid   = "com.amazon.coral.validate#"
)

// errorTable maps every error name the API returns to its __type namespace
// and HTTP status. Names missing here are answered as 400 with the service
// namespace.
var errorTable = map[string]errorKind{
	"ActivityAlreadyExists":          {nsService, 400},
	"ActivityDoesNotExist":           {nsService, 400},
	"ActivityLimitExceeded":          {nsService, 400},
	"ActivityWorkerLimitExceeded":    {nsService, 400},
	"ConflictException":              {nsService, 400},
	"ExecutionAlreadyExists":         {nsService, 400},
	"ExecutionDoesNotExist":          {nsService, 400},
	"ExecutionLimitExceeded":         {nsService, 400},
	"ExecutionNotRedrivable":         {nsService, 400},
	"InvalidArn":                     {nsService, 400},
	"InvalidDefinition":              {nsService, 400},
	"InvalidEncryptionConfiguration": {nsService, 400},
	"InvalidExecutionInput":          {nsService, 400},
	"InvalidLoggingConfiguration":    {nsService, 400},
	"InvalidName":                    {nsService, 400},
	"InvalidOutput":                  {nsService, 400},
	"InvalidToken":                   {nsService, 400},
	"InvalidTracingConfiguration":    {nsService, 400},
	"MissingRequiredParameter":       {nsService, 400},
	"ResourceNotFound":               {nsService, 400},
	"ServiceQuotaExceededException":  {nsService, 400},
	"StateMachineAlreadyExists":      {nsService, 400},
	"StateMachineDeleting":           {nsService, 400},
	"StateMachineDoesNotExist":       {nsService, 400},
	"StateMachineLimitExceeded":      {nsService, 400},
	"StateMachineTypeNotSupported":   {nsService, 400},
	"TaskDoesNotExist":               {nsService, 400},
	"TaskTimedOut":                   {nsService, 400},
	"TooManyTags":                    {nsService, 400},
	"ValidationException":            {nsValid, 400},
	"UnknownOperationException":      {nsCoral, 400},
	"SerializationException":         {nsCoral, 400},
	"UnsupportedOperation":           {nsService, 400},
	"InternalFailure":                {nsCoral, 500},
}

func apiErr(name, format string, args ...any) *Error {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &Error{Name: name, Message: msg}
}

// Constructors for the errors with AWS's message formats.

func errInvalidArn(msg string) *Error { return apiErr("InvalidArn", "Invalid Arn: '%s'", msg) }
func errInvalidName(name string) *Error {
	return apiErr("InvalidName", "Invalid Name: '%s'", name)
}
func errStateMachineDoesNotExist(arn string) *Error {
	return apiErr("StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", arn)
}
func errExecutionDoesNotExist(arn string) *Error {
	return apiErr("ExecutionDoesNotExist", "Execution Does Not Exist: '%s'", arn)
}
func errStateMachineAlreadyExists(arn string) *Error {
	return apiErr("StateMachineAlreadyExists", "State Machine Already Exists: '%s'", arn)
}
func errExecutionAlreadyExists(arn string) *Error {
	return apiErr("ExecutionAlreadyExists", "Execution Already Exists: '%s'", arn)
}
func errTypeNotSupported() *Error {
	return apiErr("StateMachineTypeNotSupported", "This operation is not supported by this type of state machine")
}
func errInvalidToken() *Error { return apiErr("InvalidToken", "Invalid Token: 'Invalid token'") }
func errInvalidInput(msg string) *Error {
	return apiErr("InvalidExecutionInput", "Invalid State Machine Execution Input: '%s'", msg)
}
func errValidation(msg string) *Error { return apiErr("ValidationException", "%s", msg) }
func errResourceNotFound(arn string) *Error {
	return &Error{Name: "ResourceNotFound", Message: "Resource not found: '" + arn + "'", ResourceName: arn}
}

// execErr answers the executions service's errors with AWS's; other
// errors pass through storeErr.
func execErr(err error) error {
	var re *executions.RefusedError
	var de *executions.DefinitionError
	switch {
	case err == nil:
		return nil
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
	}
	return err
}

// definitionErr answers a definition that does not load (asl.Load's
// error) with InvalidDefinition and AWS's message.
func definitionErr(err error) *Error {
	var de *asl.DefinitionError
	if errors.As(err, &de) {
		return apiErr("InvalidDefinition", "%s", de.Error())
	}
	return apiErr("InvalidDefinition", "Invalid State Machine Definition: '%s'", err.Error())
}

// writeError answers err as an AWS error response.
func writeError(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Name: "InternalFailure", Message: "internal error: " + err.Error()}
	}
	kind, ok := errorTable[e.Name]
	if !ok {
		kind = errorKind{nsService, 400}
	}
	body := struct {
		Type         string `json:"__type"`
		Message      string `json:"message"`
		Reason       string `json:"reason,omitempty"`
		ResourceName string `json:"resourceName,omitempty"`
	}{kind.namespace + e.Name, e.Message, e.Reason, e.ResourceName}
	w.Header().Set("X-Amzn-ErrorType", e.Name)
	writeJSON(w, kind.status, body)
}
