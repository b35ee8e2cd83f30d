package api

// GetActivityTask, SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat,
// served by the task broker (integrations/tasktoken).

import (
	"context"
	"errors"

	"github.com/stepwell/stepwell/integrations/tasktoken"
)

// taskErr maps the broker's errors to AWS's.
func taskErr(err error, activity string) error {
	switch {
	case errors.Is(err, tasktoken.ErrInvalidToken):
		return errInvalidToken()
	case errors.Is(err, tasktoken.ErrTaskTimedOut):
		return apiErr("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'")
	case errors.Is(err, tasktoken.ErrInvalidOutput):
		return apiErr("InvalidOutput", "Invalid Output: 'The output is not valid JSON'")
	case errors.Is(err, tasktoken.ErrActivityDoesNotExist):
		return errActivityDoesNotExist(activity)
	case errors.Is(err, tasktoken.ErrWorkerLimit):
		return apiErr("ActivityWorkerLimitExceeded", "Activity Worker Limit Exceeded: '%s'", activity)
	}
	return err
}

func (s *Server) broker() (*tasktoken.Broker, error) {
	if s.tasks == nil {
		return nil, apiErr("UnsupportedOperation", "Activities and task tokens are not supported by this server's configuration")
	}
	return s.tasks, nil
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
	b, err := s.broker()
	if err != nil {
		return nil, err
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
	tok, input, err := b.Poll(ctx, a, deref(in.WorkerName), s.pollWait)
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

func (s *Server) decodeSendTask(body []byte, success, failure bool) (*tasktoken.Broker, *sendTaskInput, error) {
	b, err := s.broker()
	if err != nil {
		return nil, nil, err
	}
	var in sendTaskInput
	if err := decode(body, &in); err != nil {
		return nil, nil, err
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
		return nil, nil, err
	}
	return b, &in, nil
}

func (s *Server) sendTaskSuccess(ctx context.Context, body []byte) (any, error) {
	b, in, err := s.decodeSendTask(body, true, false)
	if err != nil {
		return nil, err
	}
	if len(*in.Output) > maxInputBytes {
		return nil, apiErr("InvalidOutput", "Invalid Output: 'The output exceeds the maximum size of 262144 bytes'")
	}
	if err := b.Succeed(*in.TaskToken, *in.Output); err != nil {
		return nil, taskErr(err, "")
	}
	return struct{}{}, nil
}

func (s *Server) sendTaskFailure(ctx context.Context, body []byte) (any, error) {
	b, in, err := s.decodeSendTask(body, false, true)
	if err != nil {
		return nil, err
	}
	if err := b.Fail(*in.TaskToken, in.Error, in.Cause); err != nil {
		return nil, taskErr(err, "")
	}
	return struct{}{}, nil
}

func (s *Server) sendTaskHeartbeat(ctx context.Context, body []byte) (any, error) {
	b, in, err := s.decodeSendTask(body, false, false)
	if err != nil {
		return nil, err
	}
	if err := b.Heartbeat(*in.TaskToken); err != nil {
		return nil, taskErr(err, "")
	}
	return struct{}{}, nil
}
