// Package engine interprets loaded state machines: the JSONPath and
// JSONata data flows, every state type, Retry and Catch, Map and Parallel,
// timeouts, the Context object and variables. It emits AWS-shaped history
// events, reads time from an injected Clock and runs tasks through an
// Invoker (checked with a Checker and resumed with a Resumer when Config
// gives them).
//
// How it is built:
//
//   - Plans (plan.go): each state is compiled once per machine into a plan
//     of its type (Pass, Choice, Wait, Succeed, Fail, Task, Parallel, Map),
//     shared by every execution. Task, Parallel and Map run their attempts
//     through one Retry/Catch wrapper (retry.go); TestState runs the same
//     plans with an inspection hook (teststate.go).
//   - The data flow (dataflow.go): plans move a state's input, result,
//     output and assigned variables, and read the settings a state takes
//     from its input (a Wait's time, a Map's items, …), through the
//     dataFlow seam. JSONPath and JSONata (jsonata.go) are its two
//     implementations, chosen per state; JSONata failures are recorded
//     as EvaluationFailed events and can be retried and caught.
//   - The event log (eventlog.go): states describe their history events
//     to their thread's eventLog, which is live (records them), silent
//     (no history: counted for the history limit, or not at all) or
//     replaying (matches them with the recorded history of a resumed
//     execution, then goes live; replay.go). Recorded events wait and
//     reach the Recorder in one batch at the next durable point: before a
//     task's invocation or a wait, at a branch's or the execution's end.
//   - Parking (park.go): an execution with history that begins a Wait at
//     its top level is offered to Execution.Park; when taken, its run ends
//     RUNNING and the caller revives it later with Resume from its
//     history (ParkedUntil tells when, from the last event alone).
package engine

// This file holds the types other packages code against.

import (
	"context"
	"errors"
	"time"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/internal/clock"
)

// Clock tells time and waits (clock.Real, or a *clock.Fake in tests). The
// engine applies Config.TimeScale to every duration before it waits, so
// clocks see scaled durations.
type Clock = clock.Clock

// Task is one task invocation, built by the engine for an Invoker.
type Task struct {
	Resource     string // the state's Resource, as written
	Input        any    // the effective input (after InputPath and Parameters)
	StateName    string
	ExecutionARN string
	Region       string
	AccountID    string
	TaskToken    string        // set for .waitForTaskToken resources
	Timeout      time.Duration // scaled; 0 means none
	Heartbeat    time.Duration // scaled; 0 means none
	Credentials  any           // evaluated Credentials, or nil
	// RetryCount is $$.State.RetryCount: 0 on the first attempt, then the
	// number of retries so far (mocked responses are chosen by it).
	RetryCount int
	// Submitted is set by the engine for .sync and .waitForTaskToken
	// resources: the integration calls it once with the initial API
	// response, before Invoke returns, and the engine records TaskSubmitted.
	Submitted func(output any)
	// Started is set by the engine for activity tasks. The integration
	// calls it when a worker receives the task (GetActivityTask), with the
	// worker's name: the engine records ActivityStarted and starts the
	// HeartbeatSeconds clock. It returns false when the task has already
	// ended (timed out or aborted): it must not be handed out then.
	Started func(workerName string) bool
	// Beat is set by the engine for activity and .waitForTaskToken tasks:
	// the integration calls it on each SendTaskHeartbeat, which restarts
	// the HeartbeatSeconds clock.
	Beat func()
}

// Invoker runs tasks. Invoke returns the task's raw result, or a
// *fault.Error whose name and cause the engine uses for Retry, Catch and
// history. Implementations live in integrations/*.
type Invoker interface {
	Invoke(ctx context.Context, t *Task) (result any, err error)
}

// Recorder receives history events in order, with ids already assigned.
// The slice is only valid during the call.
type Recorder interface {
	Record(events []history.Event) error
}

// Status of an execution.
type Status string

// Execution statuses, as AWS names them.
const (
	StatusRunning   Status = "RUNNING"
	StatusSucceeded Status = "SUCCEEDED"
	StatusFailed    Status = "FAILED"
	StatusTimedOut  Status = "TIMED_OUT"
	StatusAborted   Status = "ABORTED"
)

// Execution describes one execution to run.
type Execution struct {
	ARN              string
	Name             string
	StateMachineARN  string
	StateMachineName string
	RoleARN          string
	Type             string // STANDARD or EXPRESS
	Input            string // the input text exactly as given (AWS echoes it)
	// ParsedInput is Input already parsed (value.ParseString), handed
	// over to the run, or nil: the run parses Input then.
	ParsedInput any
	StartTime   time.Time // also $$.Execution.StartTime
	Machine     *asl.StateMachine
	// RedriveCount and RedriveTime are $$.Execution.RedriveCount and
	// RedriveTime: how often the execution was redriven and when last
	// (zero when never; RedriveTime is then absent from the Context object).
	RedriveCount int64
	RedriveTime  time.Time
	// Sync marks an execution started by StartSyncExecution: as on AWS,
	// its Context object has no Execution.RedriveCount (it cannot be
	// redriven).
	Sync bool
	// Park, when set, is offered the execution when its top level (not a
	// Parallel branch or Map iteration) begins a Wait, once the Wait's
	// Entered event is recorded; until is when the run would act again:
	// the Wait's end, or the machine's TimeoutSeconds if that comes
	// first. Returning true takes the
	// execution over: its run ends there with status RUNNING, as at
	// ErrShutdown, and the caller revives it later (at until, or to stop
	// it) with Resume from its recorded history. False: the run waits.
	Park func(until time.Time) bool
	// MapRunCounts, when set, is told the child counts of each
	// Distributed Map's Map Run as they change: when its items are known,
	// and as each child starts and ends (from the children's goroutines,
	// concurrently; see distmap.go).
	MapRunCounts func(runARN string, c MapRunCounts)
	// Children, when set, runs the children of the Distributed Maps whose
	// ExecutionType is STANDARD as executions of their own (children.go);
	// without it they run inside this execution, as EXPRESS children do
	// (told to it when it is an ExpressRecorder).
	Children ChildRunner
	// FirstWriteWithin, when positive, bounds how long after StartTime
	// the first batch of events waits for the Recorder: Pass and Choice
	// states otherwise hold their events for the next durable write, and
	// StartExecution answers only once its first batch is written.
	FirstWriteWithin time.Duration
	// Ended, when set, is called once a run of Start or Resume has ended
	// (Done is closed and Result valid), on the run's own goroutine: what
	// the caller does then needs no goroutine of its own waiting for it.
	Ended func()
}

// Result is how an execution ended. Output is set for SUCCEEDED; Error and
// Cause may be set for FAILED, TIMED_OUT and ABORTED (nil when absent).
type Result struct {
	Status   Status
	Output   *string
	Error    *string
	Cause    *string
	StopTime time.Time
}

// Config configures an Engine.
type Config struct {
	Clock            Clock   // default: the real clock
	TimeScale        float64 // multiplies every duration waited on; default 1
	Invoker          Invoker
	Region           string
	AccountID        string
	MaxPayloadBytes  int // default 262144
	MaxHistoryEvents int // default 25000
	// Checker, when set, checks each task attempt before it is
	// scheduled (see Checker); without one nothing is checked.
	Checker Checker
	// Resumer, when set, continues the task attempts that had handed
	// their token out before the process stopped (see Resumer); without
	// one they fail with the in-flight error. Both are given explicitly,
	// never found on Invoker by type assertion: a decorator of the
	// Invoker would hide them.
	Resumer Resumer
	// TokenKey signs task tokens (at least 32 random bytes). Give the same
	// key after a restart and the tokens of the tasks a resumed execution
	// still waits for stay valid; nil uses a random key of this process
	// (tokens do not survive it).
	TokenKey []byte
	// Items and Results, when set, read the items of Distributed Map
	// ItemReaders and export the results of their ResultWriters (S3:
	// integrations/s3items); without them those Maps fail with
	// States.ItemReaderFailed or States.ResultWriterFailed.
	Items   ItemReader
	Results ResultWriter
	// IdleRunners is how many goroutines that ran an execution (Start,
	// Resume) wait for the next one instead of exiting, keeping their
	// grown stacks (runners.go); 0 keeps none. Leave it 0 for engines used
	// inside a testing/synctest bubble: a runner must not cross bubbles.
	IdleRunners int
}

// Resumer is the engine's optional Config.Resumer. When Resume continues an
// execution whose task attempt had handed its task token out before the
// process stopped (an activity task a worker received, a .waitForTaskToken
// task whose request was made) and whose result is not recorded, the
// engine calls Resume instead of applying the in-flight rule. Resume opens
// t.TaskToken (the same token as before the stop) without running the task
// again, and returns wait, which blocks until the token is completed or
// ctx ends and returns the outcome as Invoke would. The engine enforces
// t.Timeout and t.Heartbeat (counted from the recorded times) by cancelling
// ctx, and sets t.Beat. Resume returns ErrNotResumable for a task it
// cannot continue; the in-flight rule applies then.
type Resumer interface {
	Resume(ctx context.Context, t *Task) (wait func() (any, error), err error)
}

// ErrNotResumable is what a Resumer returns for a task it cannot continue.
var ErrNotResumable = errors.New("task cannot be resumed")

// Errors of the tasks that wait on their task token (activity tasks and
// .waitForTaskToken tasks), returned by whoever holds them open (the
// integration that receives GetActivityTask and SendTask* for the engine's
// tokens) and matched by the executions service and the API, which
// answer each with AWS's error of that meaning. They are declared here,
// with the tokens, so that neither side imports the other.
var (
	// ErrInvalidToken is returned for a token this engine did not issue.
	ErrInvalidToken = errors.New("invalid task token")
	// ErrTaskTimedOut is returned for a token whose task has ended
	// (completed, timed out, or its execution stopped).
	ErrTaskTimedOut = errors.New("task timed out")
	// ErrInvalidOutput is returned for a task output that is not JSON.
	ErrInvalidOutput = errors.New("invalid output")
	// ErrActivityDoesNotExist is returned when a worker asks for a task of
	// an activity that does not exist.
	ErrActivityDoesNotExist = errors.New("activity does not exist")
	// ErrWorkerLimit is returned when too many workers wait for a task of
	// one activity at once.
	ErrWorkerLimit = errors.New("activity worker limit exceeded")
)
