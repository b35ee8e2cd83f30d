package api

// RedriveExecution: the executions service redrives a FAILED, TIMED_OUT or
// ABORTED Standard execution (see package executions); this file checks
// the request.

import (
	"context"

	"github.com/stepwell/stepwell/api/internal/awsapi"
	"github.com/stepwell/stepwell/arn"
)

type redriveInput struct {
	ExecutionArn *string `json:"executionArn"`
	ClientToken  *string `json:"clientToken"`
}

type redriveOutput struct {
	RedriveDate epoch `json:"redriveDate"`
}

func errRedriveUnsupported() *Error {
	return awsapi.UnsupportedOperation("RedriveExecution is not supported by Stepwell's configured store")
}

func errNotRedrivable(msg string) *Error { return awsapi.ExecutionNotRedrivable(msg) }

func validClientToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '!' || s[i] > '~' {
			return false
		}
	}
	return true
}

func (s *Server) redriveExecution(ctx context.Context, body []byte) (any, error) {
	var in redriveInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var c checker
	c.str("executionArn", in.ExecutionArn, true, 1, 256, false)
	c.str("clientToken", in.ClientToken, false, 1, 64, false)
	if in.ClientToken != nil && *in.ClientToken != "" && !validClientToken(*in.ClientToken) {
		c.add("'"+*in.ClientToken+"'", "clientToken", "Member must satisfy regular expression pattern: [!-~]+")
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	a, err := arn.Parse(*in.ExecutionArn)
	if err != nil {
		return nil, errInvalidArn(err.Error())
	}
	if a.Type == arn.Express {
		return nil, errNotRedrivable("Execution is an EXPRESS execution and cannot be redriven")
	}
	if a.Type == arn.Execution && a.Label != "" {
		return nil, errNotRedrivable("A Distributed Map child execution is redriven through its parent execution")
	}
	if err := executionARN(*in.ExecutionArn); err != nil {
		return nil, err
	}
	date, err := s.exec.Redrive(ctx, *in.ExecutionArn, in.ClientToken)
	if err != nil {
		return nil, execErr(err)
	}
	return redriveOutput{RedriveDate: epoch(date)}, nil
}
