package api

// RedriveExecution: the executions service redrives a FAILED, TIMED_OUT or
// ABORTED Standard execution (see package executions); this file checks
// the request.

import (
	"context"

	"github.com/stepwell/stepwell/api/internal/awsapi"
	"github.com/stepwell/stepwell/arn"
)

type redriveOutput struct {
	RedriveDate epoch `json:"redriveDate"`
}

func errRedriveUnsupported() *Error {
	return awsapi.UnsupportedOperation("RedriveExecution is not supported by Stepwell's configured store")
}

func errNotRedrivable(msg string) *Error { return awsapi.ExecutionNotRedrivable(msg) }

func (s *Server) redriveExecution(ctx context.Context, body []byte) (any, error) {
	var in awsapi.RedriveExecutionInput
	if err := decodeInput(body, &in); err != nil {
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
