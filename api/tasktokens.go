package api

// GetActivityTask, SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat,
// served by the executions service's task broker.

import (
	"context"
	"errors"

	"github.com/stepwell/stepwell/api/internal/awsapi"
	"github.com/stepwell/stepwell/executions"
)

// taskErr maps the task broker's errors to AWS's.
func taskErr(err error, activity string) error {
	switch {
	case errors.Is(err, executions.ErrNoTasks):
		return errNoTasks()
	case errors.Is(err, executions.ErrInvalidToken):
		return errInvalidToken()
	case errors.Is(err, executions.ErrTaskTimedOut):
		return awsapi.TaskTimedOut("Task Timed Out: 'Provided task does not exist anymore'")
	case errors.Is(err, executions.ErrInvalidOutput):
		return awsapi.InvalidOutput("Invalid Output: 'The output is not valid JSON'")
	case errors.Is(err, executions.ErrActivityDoesNotExist):
		return errActivityDoesNotExist(activity)
	case errors.Is(err, executions.ErrWorkerLimit):
		return awsapi.ActivityWorkerLimitExceeded("Activity Worker Limit Exceeded: '" + activity + "'")
	}
	return err
}

func errNoTasks() *Error {
	return awsapi.UnsupportedOperation("Activities and task tokens are not supported by this server's configuration")
}

type getActivityTaskOutput struct {
	TaskToken *string `json:"taskToken,omitempty"`
	Input     *string `json:"input,omitempty"`
}

func (s *Server) getActivityTask(ctx context.Context, body []byte) (any, error) {
	if !s.exec.HasTasks() {
		return nil, errNoTasks()
	}
	var in awsapi.GetActivityTaskInput
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	a, err := activityARN(in.ActivityArn)
	if err != nil {
		return nil, err
	}
	tok, input, err := s.exec.PollActivity(ctx, a, deref(in.WorkerName))
	if err != nil {
		if ctx.Err() != nil {
			return getActivityTaskOutput{}, nil // the caller has gone
		}
		return nil, taskErr(err, a)
	}
	if tok == "" {
		// No task within the long poll: a null token, as AWS answers.
		return getActivityTaskOutput{}, nil
	}
	return getActivityTaskOutput{TaskToken: &tok, Input: &input}, nil
}

// decodeSendTask decodes and checks the input of SendTaskSuccess,
// SendTaskFailure or SendTaskHeartbeat.
func (s *Server) decodeSendTask(body []byte, in interface{ Validate() error }) error {
	if !s.exec.HasTasks() {
		return errNoTasks()
	}
	return decodeInput(body, in)
}

func (s *Server) sendTaskSuccess(ctx context.Context, body []byte) (any, error) {
	var in awsapi.SendTaskSuccessInput
	err := s.decodeSendTask(body, &in)
	if err != nil {
		return nil, err
	}
	if len(*in.Output) > maxInputBytes {
		return nil, awsapi.InvalidOutput("Invalid Output: 'The output exceeds the maximum size of 262144 bytes'")
	}
	if err := s.exec.SendTaskSuccess(*in.TaskToken, *in.Output); err != nil {
		return nil, taskErr(err, "")
	}
	return struct{}{}, nil
}

func (s *Server) sendTaskFailure(ctx context.Context, body []byte) (any, error) {
	var in awsapi.SendTaskFailureInput
	err := s.decodeSendTask(body, &in)
	if err != nil {
		return nil, err
	}
	if err := s.exec.SendTaskFailure(*in.TaskToken, in.Error, in.Cause); err != nil {
		return nil, taskErr(err, "")
	}
	return struct{}{}, nil
}

func (s *Server) sendTaskHeartbeat(ctx context.Context, body []byte) (any, error) {
	var in awsapi.SendTaskHeartbeatInput
	err := s.decodeSendTask(body, &in)
	if err != nil {
		return nil, err
	}
	if err := s.exec.SendTaskHeartbeat(*in.TaskToken); err != nil {
		return nil, taskErr(err, "")
	}
	return struct{}{}, nil
}
