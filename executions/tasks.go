package executions

import (
	"context"
	"time"

	"github.com/stepwell/stepwell/store"
)

// TaskBroker holds the open activity and .waitForTaskToken tasks of the
// running executions: workers poll activity tasks, and a task token
// completes or keeps alive its task. integrations/tasktoken's Broker is
// one. Its errors are ErrInvalidToken, ErrTaskTimedOut, ErrInvalidOutput,
// ErrActivityDoesNotExist and ErrWorkerLimit (the engine's, possibly
// wrapped).
type TaskBroker interface {
	// Poll waits up to wait for a task of the activity and hands it to
	// the worker; an empty token means none came.
	Poll(ctx context.Context, activityARN, workerName string, wait time.Duration) (token, input string, err error)
	// Succeed completes a task with its JSON output.
	Succeed(token, output string) error
	// Fail fails a task.
	Fail(token string, errName, cause *string) error
	// Heartbeat reports that a task's worker is alive.
	Heartbeat(token string) error
}

func (s *Service) broker() (TaskBroker, error) {
	if s.tasks == nil {
		return nil, refused(ErrNoTasks, "", "")
	}
	return s.tasks, nil
}

// PollActivity waits (Config.PollTimeout) for a task of an activity, as
// GetActivityTask; an empty token means none came. With a Cluster, the
// tasks queued on the other processes come too (pollCluster).
func (s *Service) PollActivity(ctx context.Context, activityARN, workerName string) (token, input string, err error) {
	b, err := s.broker()
	if err != nil {
		return "", "", err
	}
	if s.cluster != nil {
		return s.pollCluster(ctx, b, activityARN, workerName)
	}
	return b.Poll(ctx, activityARN, workerName, s.pollWait)
}

// SendTaskSuccess completes the task of a token with its output.
func (s *Service) SendTaskSuccess(token, output string) error {
	return s.task(store.Signal{Kind: store.SignalSucceed, Token: token, Output: output})
}

// SendTaskFailure fails the task of a token.
func (s *Service) SendTaskFailure(token string, errName, cause *string) error {
	return s.task(store.Signal{Kind: store.SignalFail, Token: token, Error: errName, Cause: cause})
}

// SendTaskHeartbeat keeps the task of a token alive.
func (s *Service) SendTaskHeartbeat(token string) error {
	return s.task(store.Signal{Kind: store.SignalHeartbeat, Token: token})
}

// HasTasks reports whether the service has a task broker.
func (s *Service) HasTasks() bool { return s.tasks != nil }
