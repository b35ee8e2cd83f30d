package awsapi

import (
	"encoding/json"
	"strconv"
)

// Code is an error of the Step Functions API. Its name (the part of the
// __type member after '#'), namespace and HTTP status are generated
// (errors_gen.go) with one constructor per code, so an error the model
// does not declare does not compile.
type Code uint8

type codeInfo struct {
	name, typ string
	status    int
}

func (c Code) info() codeInfo {
	if c == 0 || int(c) >= len(codes) {
		return codes[CodeInternalFailure]
	}
	return codes[c]
}

// String returns the error's name, e.g. "InvalidArn".
func (c Code) String() string {
	if c == 0 || int(c) >= len(codes) {
		return "Code(" + strconv.Itoa(int(c)) + ")"
	}
	return codes[c].name
}

// Type returns the error's __type, its namespace and name, e.g.
// "com.amazonaws.swf.service.v2.model#InvalidArn". An invalid code answers
// InternalFailure's.
func (c Code) Type() string { return c.info().typ }

// Status returns the error's HTTP status.
func (c Code) Status() int { return c.info().status }

// Error is an AWS error response.
type Error struct {
	Code    Code
	Message string
	// Reason is ValidationException's reason member, ResourceName the
	// resourceName member of ResourceNotFound and TooManyTags, KmsKeyState
	// KmsInvalidStateException's kmsKeyState; each is omitted when empty.
	Reason       ValidationExceptionReason
	ResourceName string
	KmsKeyState  KmsKeyState
}

// Error returns the error's name and message.
func (e *Error) Error() string { return e.Code.String() + ": " + e.Message }

// MarshalJSON encodes the error as the response body of the AWS JSON 1.0
// protocol: {"__type", "message"} and the members it carries.
func (e *Error) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Type         string `json:"__type"`
		Message      string `json:"message"`
		Reason       string `json:"reason,omitempty"`
		ResourceName string `json:"resourceName,omitempty"`
		KmsKeyState  string `json:"kmsKeyState,omitempty"`
	}{e.Code.Type(), e.Message, string(e.Reason), e.ResourceName, string(e.KmsKeyState)})
}
