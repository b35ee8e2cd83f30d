package store

import (
	"context"
	"errors"
	"time"

	"github.com/stepwell/stepwell/history"
)

// ErrLimitExceeded is returned by PublishVersion when the machine has the
// maximum number of versions (1000) and by CreateAlias when it has the
// maximum number of aliases (100).
var ErrLimitExceeded = errors.New("limit exceeded")

// Limits that Versions backends enforce, as AWS does.
const (
	MaxVersionsPerMachine = 1000
	MaxAliasesPerMachine  = 100
)

// Version is a published, immutable snapshot of a state machine revision.
// Its number is assigned by the backend: one more than the highest number
// ever published for the machine (numbers are never reused).
type Version struct {
	ARN             string // StateMachineARN + ":" + Number
	StateMachineARN string
	Number          int64
	Description     string
	CreationDate    time.Time
	// Revision is the snapshot: definition, role, logging, tracing and the
	// revision id it was published from.
	Revision
}

// Route is one entry of an alias's routing configuration.
type Route struct {
	VersionARN string
	Weight     int
}

// Alias names one or two versions of a state machine with weights.
type Alias struct {
	ARN             string // StateMachineARN + ":" + Name
	StateMachineARN string
	Name            string
	Description     string
	Routing         []Route
	CreationDate    time.Time
	UpdateDate      time.Time // zero until the first update
}

// Tag is one resource tag.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// MapRunCounts are a Map Run's item or execution counts.
type MapRunCounts struct {
	Pending, Running, Succeeded, Failed, TimedOut, Aborted, Total, ResultsWritten int64
	FailuresNotRedrivable, PendingRedrive                                         int64
}

// MapRun is a Distributed Map state's run within an execution.
type MapRun struct {
	ARN             string
	ExecutionARN    string
	StateMachineARN string // the labelled machine: <sm>/<label>
	Status          string // RUNNING, SUCCEEDED, FAILED or ABORTED
	StartDate       time.Time
	StopDate        time.Time // zero while running
	MaxConcurrency  int64
	// ToleratedFailurePercentage and ToleratedFailureCount as configured.
	ToleratedFailurePercentage float64
	ToleratedFailureCount      int64
	ItemCounts                 MapRunCounts
	ExecutionCounts            MapRunCounts
	RedriveCount               int64
	RedriveDate                time.Time
}

// ExecutionMeta is what Versions keeps about an execution beyond its row:
// the version and alias it was started through, and its redrives.
type ExecutionMeta struct {
	VersionARN string
	AliasARN   string
	// TestCase is the mock test case ("#Name" on the state machine ARN at
	// StartExecution) a Standard execution runs with, so that it keeps its
	// mocks when it is resumed or redriven.
	TestCase     string
	RedriveCount int64
	RedriveDate  time.Time
	// ResumeAttempts counts the times a server began resuming the
	// execution after a restart without having run it long since: an
	// execution that keeps killing the server on resume is failed once
	// it passes a bound (executions' quarantine).
	ResumeAttempts int64 `json:",omitempty"`
	// ClientTokens are the latest RedriveExecution client tokens (at most
	// 10, newest last) with the time each was first used.
	ClientTokens []ClientToken
}

// ClientToken is a RedriveExecution idempotency token.
type ClientToken struct {
	Token string
	Used  time.Time
}

// Reopener is implemented by stores that can reopen a closed execution,
// for RedriveExecution.
type Reopener interface {
	// ReopenExecution sets a closed execution back to RUNNING, clearing
	// its stop date, output, error and cause, and appends events to its
	// history, in one write (their ids must continue the history).
	// ErrConflict if the execution is running, ErrNotFound if absent.
	ReopenExecution(ctx context.Context, arn string, events []history.Event) error
}

// MapRunUpdate changes a running Map Run's settings; nil fields are kept.
type MapRunUpdate struct {
	MaxConcurrency             *int64
	ToleratedFailurePercentage *float64
	ToleratedFailureCount      *int64
}

// Versions persists state machine versions and aliases, resource tags and
// Map Runs. It is a separate interface from Store so that a backend can
// grow it independently; every method is safe for concurrent use and
// returns copies.
type Versions interface {
	// PublishVersion publishes v.Revision of the machine v.StateMachineARN
	// and returns the stored version (v.ARN, v.Number are assigned). If a
	// version of the same revision exists, it is returned unchanged and
	// created is false. ErrLimitExceeded beyond MaxVersionsPerMachine live
	// versions.
	PublishVersion(ctx context.Context, v *Version) (out *Version, created bool, err error)
	// GetVersion returns a version by ARN, or ErrNotFound.
	GetVersion(ctx context.Context, arn string) (*Version, error)
	// ListVersions lists a machine's versions, newest first.
	ListVersions(ctx context.Context, machineARN string, p Page) (items []*Version, next string, err error)
	// DeleteVersion deletes a version (ErrNotFound if absent). It returns
	// ErrConflict if an alias routes to it.
	DeleteVersion(ctx context.Context, arn string) error

	// CreateAlias stores a new alias; ErrAlreadyExists if a.ARN exists,
	// ErrLimitExceeded beyond MaxAliasesPerMachine.
	CreateAlias(ctx context.Context, a *Alias) error
	// GetAlias returns an alias by ARN, or ErrNotFound.
	GetAlias(ctx context.Context, arn string) (*Alias, error)
	// UpdateAlias replaces the description and routing of an alias
	// (ErrNotFound if absent).
	UpdateAlias(ctx context.Context, a *Alias) error
	// DeleteAlias deletes an alias (ErrNotFound if absent).
	DeleteAlias(ctx context.Context, arn string) error
	// ListAliases lists a machine's aliases, newest first; when versionARN
	// is not empty, only those routing to that version.
	ListAliases(ctx context.Context, machineARN, versionARN string, p Page) (items []*Alias, next string, err error)
	// DeleteMachineVersions deletes every version and alias of a machine
	// (DeleteStateMachine).
	DeleteMachineVersions(ctx context.Context, machineARN string) error

	// Tags returns a resource's tags in the order they were first set, and
	// whether the resource has a tag set at all (ok is false for a resource
	// whose tags were never set or were dropped).
	Tags(ctx context.Context, arn string) (tags []Tag, ok bool, err error)
	// SetTags replaces a resource's tag set (nil: drop it).
	SetTags(ctx context.Context, arn string, tags []Tag) error
	// TagResource adds tags to a resource's set, overwriting the values of
	// existing keys. It returns ErrLimitExceeded, changing nothing, if the
	// set would hold more than max keys (keys prefixed "aws:" excepted).
	TagResource(ctx context.Context, arn string, tags []Tag, max int) error
	// UntagResource removes keys from a resource's set.
	UntagResource(ctx context.Context, arn string, keys []string) error

	// PutMapRun creates or replaces a Map Run.
	PutMapRun(ctx context.Context, r *MapRun) error
	// GetMapRun returns a Map Run by ARN, or ErrNotFound.
	GetMapRun(ctx context.Context, arn string) (*MapRun, error)
	// ListMapRuns lists an execution's Map Runs in start order.
	ListMapRuns(ctx context.Context, executionARN string, p Page) (items []*MapRun, next string, err error)
	// UpdateMapRun changes a running Map Run's settings: ErrNotFound if
	// absent, ErrConflict if it is no longer RUNNING.
	UpdateMapRun(ctx context.Context, arn string, u MapRunUpdate) error

	// PutExecutionMeta creates or replaces an execution's metadata.
	PutExecutionMeta(ctx context.Context, executionARN string, m ExecutionMeta) error
	// GetExecutionMeta returns an execution's metadata and whether any was
	// stored.
	GetExecutionMeta(ctx context.Context, executionARN string) (ExecutionMeta, bool, error)
}
