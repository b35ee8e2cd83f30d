package executions

// Several processes on one store: each running Standard execution is
// driven by the process that owns it (store/postgres leases). A process
// resumes only the executions it claims (ResumeClaimed: at start, and
// each time another process's lease has expired), exactly as a restart
// resumes them; requests that only the driving process can apply
// (StopExecution, SendTask*, UpdateMapRun) are signalled to the others when this
// process does not drive their execution (HandleSignal applies them).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/store"
)

// Cluster is what the service needs of a store shared by several
// processes (store/postgres.Store after Join, wrapped by the server).
type Cluster interface {
	// Claim makes this process the owner of up to limit running
	// executions that no live process owns, and returns them with their
	// last events.
	Claim(ctx context.Context, limit int) ([]store.RunningLast, error)
	// Adopt makes this process the owner of the running execution arn
	// (a Distributed Map's child, which Claim leaves to the process that
	// takes its parent) unless a live process owns it, and reports
	// whether this process owns it now.
	Adopt(ctx context.Context, arn string) (bool, error)
	// Signal sends sig to every process and waits up to wait for the one
	// driving its execution to apply it (HandleSignal's answer).
	Signal(ctx context.Context, sig store.Signal, wait time.Duration) (answer string, handled bool, err error)
	// Leased reports whether this process's lease holds: a process that
	// lost it drives nothing (its writes are fenced) and must not apply
	// signals or complete tasks.
	Leased() bool
	// Peers returns the ids of the other live processes.
	Peers(ctx context.Context) ([]int64, error)
	// Ask sends sig to the process sig.To alone, which applies it once
	// (HandleSignal) or, if it does not take it within wait, never.
	Ask(ctx context.Context, sig store.Signal, wait time.Duration) (answer string, handled bool, err error)
}

// signalWait bounds how long a forwarded task request waits for the
// process that holds the task (it may be taking the execution over).
const signalWait = 3 * time.Second

// errNotDriven is returned by Stop when no process drives a running
// execution, as while its dead owner's lease runs out: the caller may
// try again.
var errNotDriven = errors.New("no server drives the execution now (it is being taken over); try again")

// claimPage is how many orphaned executions ResumeClaimed claims at a time.
const claimPage = 100

// ResumeClaimed claims the running executions no live process owns
// (ClaimOrphans) and resumes them (ResumeOrphans); it returns how many.
// Without a Cluster it does nothing.
func (s *Service) ResumeClaimed(ctx context.Context) (int, error) {
	claimed, err := s.ClaimOrphans(ctx)
	n, rerr := s.ResumeOrphans(ctx, claimed)
	return n, errors.Join(err, rerr)
}

// ClaimOrphans makes this process the owner of the running executions no
// live process owns, a page at a time, and returns them (with those
// claimed before an error). Claiming is quick and resuming is not (each
// history is read): a caller that resumes them apart (ResumeOrphans) can
// claim the executions of another dead process meanwhile, so that all
// change hands within a lease and one renewal of their owner's death.
func (s *Service) ClaimOrphans(ctx context.Context) ([]store.RunningLast, error) {
	if s.cluster == nil {
		return nil, nil
	}
	var claimed []store.RunningLast
	for {
		page, err := s.cluster.Claim(ctx, claimPage)
		claimed = append(claimed, page...)
		if err != nil {
			return claimed, fmt.Errorf("claim executions: %w", err)
		}
		if len(page) < claimPage {
			return claimed, nil
		}
	}
}

// ResumeOrphans resumes executions ClaimOrphans returned, as ResumeRunning
// does, and returns how many. It may run beside other calls.
func (s *Service) ResumeOrphans(ctx context.Context, claimed []store.RunningLast) (int, error) {
	machines := map[revisionKey]*asl.StateMachine{}
	n := 0
	var errs []error
	for i := range claimed {
		if ctx.Err() != nil {
			break
		}
		// One at a time, going on past one that fails: the others are
		// this process's to drive.
		m, err := s.resumePage(ctx, claimed[i:i+1], machines)
		n += m
		if err != nil {
			errs = append(errs, err)
		}
	}
	return n, errors.Join(errs...)
}

// Answers of HandleSignal for the task-token errors.
var signalErrors = []error{ErrInvalidToken, ErrTaskTimedOut, ErrInvalidOutput}

func answerOf(err error) string {
	if err == nil {
		return ""
	}
	for _, e := range signalErrors {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	return "error: " + err.Error()
}

func errorOf(answer string) error {
	if answer == "" {
		return nil
	}
	for _, e := range signalErrors {
		if answer == e.Error() {
			return e
		}
	}
	return errors.New(answer)
}

// HandleSignal applies a signal of another process if this one drives
// what it names: it stops an execution it drives, completes (or keeps
// alive) a task it holds, or updates a Map Run it runs. handled is false
// otherwise, and always once this process has lost its lease.
func (s *Service) HandleSignal(ctx context.Context, sig store.Signal) (answer string, handled bool) {
	if s.cluster != nil && !s.cluster.Leased() {
		return "", false
	}
	if sig.Kind == store.SignalUpdateMapRun {
		var u engine.MapRunUpdate
		if _, live := s.liveRuns.Load(sig.ARN); !live || json.Unmarshal([]byte(sig.Output), &u) != nil {
			return "", false
		}
		// Here or not at all: a Map Run that ended meanwhile is not
		// looked for elsewhere again.
		err := s.UpdateMapRun(context.WithValue(ctx, signalled{}, true), sig.ARN, u)
		if errors.Is(err, ErrMapRunNotRunning) {
			return "", false
		}
		return answerOf(err), true
	}
	if sig.Kind == store.SignalStop {
		s.mu.Lock()
		_, driven := s.runs[sig.ARN]
		s.mu.Unlock()
		if !driven {
			return "", false
		}
		_, err := s.Stop(ctx, sig.ARN, sig.Error, sig.Cause)
		return answerOf(err), true
	}
	if s.tasks == nil {
		return "", false
	}
	if sig.Kind == store.SignalPoll {
		// A worker polls another process: hand it a task queued here, if any.
		token, input, err := s.tasks.Poll(ctx, sig.ARN, sig.Output, time.Nanosecond)
		if err != nil || token == "" {
			return "", true
		}
		b, _ := json.Marshal(polled{Token: token, Input: input})
		return string(b), true
	}
	err := s.localTask(sig)
	if errors.Is(err, ErrTaskTimedOut) {
		return "", false // not held here
	}
	return answerOf(err), true
}

// localTask applies a task signal to this process's broker.
func (s *Service) localTask(sig store.Signal) error {
	switch sig.Kind {
	case store.SignalSucceed:
		return s.tasks.Succeed(sig.Token, sig.Output)
	case store.SignalFail:
		return s.tasks.Fail(sig.Token, sig.Error, sig.Cause)
	case store.SignalHeartbeat:
		return s.tasks.Heartbeat(sig.Token)
	}
	return fmt.Errorf("unknown signal %q", sig.Kind)
}

// task applies a task request here, or, when this process does not hold
// the task, forwards it to the process that does.
func (s *Service) task(sig store.Signal) error {
	if s.tasks == nil {
		return refused(ErrNoTasks, "", "")
	}
	if s.cluster == nil {
		return s.localTask(sig)
	}
	if s.cluster.Leased() {
		if err := s.localTask(sig); !errors.Is(err, ErrTaskTimedOut) {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(s.ctx, signalWait+time.Second)
	defer cancel()
	answer, handled, err := s.cluster.Signal(ctx, sig, signalWait)
	if err != nil {
		return fmt.Errorf("forward task request: %w", err)
	}
	if !handled {
		return ErrTaskTimedOut
	}
	return errorOf(answer)
}

// signalled marks the context of a request HandleSignal applies: it is
// applied here or not at all, never forwarded again.
type signalled struct{}

// updateMapRunElsewhere forwards UpdateMapRun to the process whose engine
// runs the Map Run: the one that drives its execution. Without a cluster,
// or when no process runs it (it ended, or was started before a restart
// or a takeover), it returns ErrMapRunNotRunning.
func (s *Service) updateMapRunElsewhere(ctx context.Context, runARN string, u engine.MapRunUpdate) error {
	if s.cluster == nil || !s.cluster.Leased() || ctx.Value(signalled{}) != nil {
		return ErrMapRunNotRunning
	}
	b, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("forward map run update: %w", err)
	}
	answer, handled, err := s.cluster.Signal(ctx, store.Signal{Kind: store.SignalUpdateMapRun, ARN: runARN, Output: string(b)}, signalWait)
	if err != nil {
		return fmt.Errorf("forward map run update: %w", err)
	}
	if !handled {
		return ErrMapRunNotRunning
	}
	return errorOf(answer)
}

// polled is the answer to a SignalPoll that found a task.
type polled struct {
	Token string `json:"token"`
	Input string `json:"input"`
}

// pollEvery is how often PollActivity, in a cluster, asks the other
// processes for a task queued there while it waits for one here.
const pollEvery = time.Second

// pollCluster is PollActivity with other processes: it waits for a task
// of this process's queue a pollEvery at a time, and in between asks each
// other live process for one of its queue. A task queued here goes to a
// worker waiting here at once; one queued on another process goes to a
// worker waiting here within pollEvery.
func (s *Service) pollCluster(ctx context.Context, b TaskBroker, activityARN, workerName string) (token, input string, err error) {
	wait := s.pollWait
	if wait <= 0 {
		wait = defaultPollWait
	}
	deadline := time.Now().Add(wait)
	for {
		if s.cluster.Leased() {
			peers, err := s.cluster.Peers(ctx)
			if err != nil {
				return "", "", err
			}
			for _, id := range peers {
				answer, handled, err := s.cluster.Ask(ctx, store.Signal{Kind: store.SignalPoll, ARN: activityARN, Output: workerName, To: id}, signalWait)
				if err != nil || ctx.Err() != nil {
					return "", "", err
				}
				var p polled
				if handled && answer != "" && json.Unmarshal([]byte(answer), &p) == nil && p.Token != "" {
					return p.Token, p.Input, nil
				}
			}
		}
		left := time.Until(deadline)
		if left <= 0 {
			return "", "", nil
		}
		token, input, err := b.Poll(ctx, activityARN, workerName, min(left, pollEvery))
		if err != nil || token != "" || ctx.Err() != nil {
			return token, input, err
		}
	}
}

// defaultPollWait is GetActivityTask's wait when Config.PollTimeout is 0
// (the broker's default, tasktoken.DefaultPollTimeout).
const defaultPollWait = 60 * time.Second

// stopElsewhere asks the process that drives a running execution to stop
// it. While none does (its owner died and its lease runs out, or the
// process that took it over is still resuming it) it asks again, for up to
// clusterStopWait.
func (s *Service) stopElsewhere(ctx context.Context, x *store.Execution, errName, cause *string) error {
	deadline := time.Now().Add(clusterStopWait)
	for {
		answer, handled, err := s.cluster.Signal(ctx, store.Signal{Kind: store.SignalStop, ARN: x.ARN, Error: errName, Cause: cause}, time.Second)
		if err != nil {
			return fmt.Errorf("forward stop: %w", err)
		}
		if handled {
			return errorOf(answer)
		}
		if y, err := s.st.GetExecution(ctx, x.ARN); err == nil && y.Status != store.StatusRunning {
			return nil // it ended meanwhile
		}
		if time.Now().After(deadline) {
			return errNotDriven
		}
	}
}

// clusterStopWait bounds how long StopExecution waits for a process to
// drive the execution it stops (the default lease and a renewal, and
// more).
const clusterStopWait = 30 * time.Second
