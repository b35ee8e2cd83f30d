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

type getActivityTaskInput struct {
	ActivityArn *string `json:"activityArn"`
	WorkerName  *string `json:"workerName"`
}

type getActivityTaskOutput struct {
	TaskToken *string `json:"taskToken,omitempty"`
	Input     *string `json:"input,omitempty"`
}

func (s *Server) getActivityTask(ctx context.Context, body []byte) (any, error) {
	if !s.exec.HasTasks() {
		return nil, errNoTasks()
	}
	var in getActivityTaskInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var c checker
	c.str("workerName", in.WorkerName, false, 1, 80, false)
	if err := c.err(); err != nil {
		return nil, err
	}
	a, err := activityARN("activityArn", in.ActivityArn)
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

type sendTaskInput struct {
	TaskToken *string `json:"taskToken"`
	Output    *string `json:"output"`
	Error     *string `json:"error"`
	Cause     *string `json:"cause"`
}

func (s *Server) decodeSendTask(body []byte, success, failure bool) (*sendTaskInput, error) {
	if !s.exec.HasTasks() {
		return nil, errNoTasks()
	}
	var in sendTaskInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var c checker
	c.str("taskToken", in.TaskToken, true, 1, 2048, false)
	if success {
		c.str("output", in.Output, true, 0, maxInputBytes, true)
	}
	if failure {
		c.str("error", in.Error, false, 0, 256, true)
		c.str("cause", in.Cause, false, 0, 32768, true)
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	return &in, nil
}

func (s *Server) sendTaskSuccess(ctx context.Context, body []byte) (any, error) {
	in, err := s.decodeSendTask(body, true, false)
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
	in, err := s.decodeSendTask(body, false, true)
	if err != nil {
		return nil, err
	}
	if err := s.exec.SendTaskFailure(*in.TaskToken, in.Error, in.Cause); err != nil {
		return nil, taskErr(err, "")
	}
	return struct{}{}, nil
}

func (s *Server) sendTaskHeartbeat(ctx context.Context, body []byte) (any, error) {
	in, err := s.decodeSendTask(body, false, false)
	if err != nil {
		return nil, err
	}
	if err := s.exec.SendTaskHeartbeat(*in.TaskToken); err != nil {
		return nil, taskErr(err, "")
	}
	return struct{}{}, nil
}
