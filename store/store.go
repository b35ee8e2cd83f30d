// Package store is the persistence contract of Stepwell: state machines and
// their revisions, executions, and each execution's history events. Every
// backend (store/memory, and the durable ones) implements Store and passes
// the shared suite in store/storetest.
//
// Records are values: a backend copies what it is given and returns fresh
// copies, so callers may keep or change them freely. History events are
// immutable once appended.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/stepwell/stepwell/history"
)

var (
	// ErrNotFound is returned when the state machine, revision or execution
	// named by an ARN does not exist.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists is returned by CreateStateMachine and CreateExecution
	// when a record with the same ARN exists.
	ErrAlreadyExists = errors.New("already exists")
	// ErrConflict is returned when a conditional write finds the record
	// changed (UpdateStateMachine with a stale revision, AppendHistory with
	// a gap in event ids or on a closed execution).
	ErrConflict = errors.New("conflict")
	// ErrInvalidToken is returned by the List and History methods when the
	// page token was not produced by the same query of this backend.
	ErrInvalidToken = errors.New("invalid page token")
)

// Execution statuses.
const (
	StatusRunning   = "RUNNING"
	StatusSucceeded = "SUCCEEDED"
	StatusFailed    = "FAILED"
	StatusTimedOut  = "TIMED_OUT"
	StatusAborted   = "ABORTED"
)

// StateMachine is a state machine's current configuration. Each update
// makes a new revision; Revision holds the fields that executions pin.
type StateMachine struct {
	ARN          string
	Name         string
	Type         string // STANDARD or EXPRESS
	CreationDate time.Time
	// Tags as given at creation, in order ([{"key":..,"value":..}]); nil for none.
	Tags json.RawMessage
	Revision
}

// Revision is one version of a state machine's mutable fields. RevisionID
// is unique per store; UpdateDate is zero for the revision made at creation.
type Revision struct {
	RevisionID string
	Definition string
	RoleARN    string
	// Logging and Tracing are the AWS LoggingConfiguration and
	// TracingConfiguration objects as JSON text (nil: the defaults).
	Logging    json.RawMessage
	Tracing    json.RawMessage
	UpdateDate time.Time
}

// Execution is one execution's row.
type Execution struct {
	ARN              string
	Name             string
	StateMachineARN  string
	StateMachineName string
	RevisionID       string // the state machine revision it runs
	Type             string // STANDARD or EXPRESS
	Status           string // one of the Status* constants
	Input            string
	TraceHeader      string
	StartDate        time.Time
	StopDate         time.Time // zero while running
	Output           *string   // SUCCEEDED only
	Error            *string
	Cause            *string
}

// End closes an execution: AppendHistory applies it with the events in one
// write.
type End struct {
	Status   string
	StopDate time.Time
	Output   *string
	Error    *string
	Cause    *string
}

// Page is a page request. Token is empty for the first page; Limit is at
// least 1 (a backend may return fewer items than Limit even when more
// remain, together with a NextToken).
type Page struct {
	Limit int
	Token string
}

// ExecutionFilter selects executions for ListExecutions.
type ExecutionFilter struct {
	StateMachineARN string // required
	Status          string // empty for all
}

// Store persists state machines, executions and history.
//
// Every method is safe for concurrent use. Errors other than the sentinels
// above are backend failures.
type Store interface {
	// CreateStateMachine stores a new state machine and its first
	// revision. It returns ErrAlreadyExists if sm.ARN exists.
	CreateStateMachine(ctx context.Context, sm *StateMachine) error
	// GetStateMachine returns the state machine, or ErrNotFound.
	GetStateMachine(ctx context.Context, arn string) (*StateMachine, error)
	// UpdateStateMachine makes rev the current revision of the machine arn,
	// provided its current revision is prevRevisionID (ErrConflict
	// otherwise, ErrNotFound if the machine does not exist).
	UpdateStateMachine(ctx context.Context, arn, prevRevisionID string, rev *Revision) error
	// DeleteStateMachine deletes the state machine (ErrNotFound if absent).
	// Its revisions and executions stay readable.
	DeleteStateMachine(ctx context.Context, arn string) error
	// ListStateMachines lists state machines in creation order.
	ListStateMachines(ctx context.Context, p Page) (items []*StateMachine, next string, err error)
	// GetRevision returns a revision of the state machine arn, also after
	// the machine was deleted, or ErrNotFound.
	GetRevision(ctx context.Context, arn, revisionID string) (*Revision, error)

	// CreateExecution stores a new execution with the first events of
	// its history (none, or ids from 1 on) and, when end is not nil,
	// closes it with end, in one write: StartExecution records a short
	// execution, or the start of a long one, with one write instead of
	// two. It returns ErrAlreadyExists if x.ARN exists (nothing is
	// written then).
	CreateExecution(ctx context.Context, x *Execution, events []history.Event, end *End) error
	// GetExecution returns the execution, or ErrNotFound.
	GetExecution(ctx context.Context, arn string) (*Execution, error)
	// ListExecutions lists the executions of a state machine, newest first.
	ListExecutions(ctx context.Context, f ExecutionFilter, p Page) (items []*Execution, next string, err error)
	// AppendHistory appends events to the execution's history and, when
	// end is not nil, closes the execution with it, in one write. The
	// events' ids must continue the history (the first appended event has
	// id 1) or ErrConflict is returned; appending to a closed execution is
	// ErrConflict too. ErrNotFound if the execution does not exist.
	AppendHistory(ctx context.Context, arn string, events []history.Event, end *End) error
	// History returns events of the execution in id order (descending when
	// reverse), or ErrNotFound. Events come back exactly as appended,
	// including their internal Thread tag.
	History(ctx context.Context, arn string, reverse bool, p Page) (events []history.Event, next string, err error)

	// ListRunning returns every execution whose status is RUNNING, in
	// creation order: at start, a durable backend's running executions are
	// resumed from their histories.
	ListRunning(ctx context.Context) ([]*Execution, error)
	// ListRunningLast pages through the running executions in creation
	// order, as ListRunning does, each with the last event of its history
	// read without the rest: at start, an execution waiting in a Wait
	// state is parked from its last event instead of replaying its whole
	// history.
	ListRunningLast(ctx context.Context, p Page) (items []RunningLast, next string, err error)
	// DeleteClosedBefore deletes the closed executions whose StopDate is
	// before t, with their histories, and returns how many it deleted
	// (retention; AWS keeps closed executions 90 days). Running executions
	// are never deleted.
	DeleteClosedBefore(ctx context.Context, t time.Time) (int, error)
	// Close releases the backend's resources after waiting for writes in
	// progress. The store must not be used after Close.
	Close() error
}
