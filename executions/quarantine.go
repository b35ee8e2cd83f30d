package executions

// Quarantine: an execution that kills the server each time it is resumed
// (a definition that exhausts its memory, a bug) would keep it in a crash
// loop, every restart resuming it again. Before resuming an execution from
// its history, the service counts the attempt in its metadata, durably;
// once an execution has been resumed Config.MaxResumeAttempts times
// without the server staying up resumeSettle after, the next restart
// fails it with States.Runtime and a cause that says so, instead of
// resuming it. The count is cleared once the server has run the resumed
// execution for resumeSettle, or when it shuts down cleanly before. An operator can also start the server
// without resuming anything (the app's --no-resume), list the running
// executions and stop them.

import (
	"context"
	"fmt"
	"time"

	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
)

// DefaultMaxResumeAttempts is Config.MaxResumeAttempts's default.
const DefaultMaxResumeAttempts = 5

// resumeSettle is how long the server must run after resuming an
// execution for the attempt not to count against it.
const resumeSettle = time.Minute

// quarantine counts a resume attempt of a running execution durably, or
// fails the execution, and reports whether it did, when it has been
// resumed too many times already. Without a Versions store, or with
// Config.MaxResumeAttempts negative, nothing is counted.
func (s *Service) quarantine(ctx context.Context, x *store.Execution, recorded []history.Event) (bool, error) {
	if s.ver == nil || s.maxResumes < 0 {
		return false, nil
	}
	meta, _, err := s.ver.GetExecutionMeta(ctx, x.ARN)
	if err != nil {
		return false, fmt.Errorf("read execution metadata: %w", err)
	}
	if meta.ResumeAttempts >= int64(s.maxResumes) {
		s.log.Warn("execution quarantined: the server stopped each time it resumed it", "arn", x.ARN, "attempts", meta.ResumeAttempts)
		cause := fmt.Sprintf("Stepwell quarantined the execution: the server stopped %d times while it ran it after a restart "+
			"(at most %d resume attempts); the execution may be what stopped it.", meta.ResumeAttempts, s.maxResumes)
		return true, s.failResumed(ctx, x, recorded, cause)
	}
	meta.ResumeAttempts++
	if err := s.ver.PutExecutionMeta(ctx, x.ARN, meta); err != nil {
		return false, fmt.Errorf("count resume attempt: %w", err)
	}
	s.unsettled.Store(x.ARN, true)
	time.AfterFunc(resumeSettle, func() {
		if s.ctx.Err() == nil {
			s.settled(s.ctx, x.ARN)
		}
	})
	return false, nil
}

// SettleResumed clears the resume attempts of the executions this server
// resumed less than resumeSettle ago: a clean shutdown is no crash. Call
// it before the store refuses writes.
func (s *Service) SettleResumed(ctx context.Context) {
	s.unsettled.Range(func(k, _ any) bool {
		s.settled(ctx, k.(string))
		return ctx.Err() == nil
	})
}

// settled clears an execution's resume attempts once the server has run
// it for resumeSettle after resuming it, or shuts down cleanly.
func (s *Service) settled(ctx context.Context, executionARN string) {
	if _, ok := s.unsettled.LoadAndDelete(executionARN); !ok {
		return
	}
	meta, ok, err := s.ver.GetExecutionMeta(ctx, executionARN)
	if err != nil || !ok || meta.ResumeAttempts == 0 {
		return
	}
	meta.ResumeAttempts = 0
	if err := s.ver.PutExecutionMeta(ctx, executionARN, meta); err != nil {
		s.log.Warn("clear resume attempts", "arn", executionARN, "err", err)
	}
}

// failResumed fails a running execution the service does not resume, with
// States.Runtime and cause, by an ExecutionFailed event after its
// recorded history.
func (s *Service) failResumed(ctx context.Context, x *store.Execution, recorded []history.Event, cause string) error {
	var prev int64
	if n := len(recorded); n > 0 {
		prev = recorded[n-1].ID
	}
	now := s.now()
	d := &history.ExecutionFailedEventDetails{Error: history.Str("States.Runtime"), Cause: history.Str(cause)}
	ev := history.Event{Timestamp: now, Type: history.ExecutionFailed, ID: prev + 1, PreviousEventID: prev, ExecutionFailedEventDetails: d}
	if err := s.st.AppendHistory(ctx, x.ARN, []history.Event{ev}, &store.End{Status: store.StatusFailed, StopDate: now, Error: d.Error, Cause: d.Cause}); err != nil {
		return fmt.Errorf("fail execution: %w", err)
	}
	return nil
}
