// Package asl is the Amazon States Language: the definition model, its
// parser and validator (diagnostics shaped like AWS's
// ValidateStateMachineDefinition), and the compiled forms of paths, payload
// templates, intrinsic calls, Choice rules and JSONata fields (Query). It
// knows nothing of the engine or the store. A *StateMachine is immutable
// after Load and is shared by every execution of that definition.
package asl

import (
	"sync"
	"time"

	"github.com/stepwell/stepwell/intrinsic"
	"github.com/stepwell/stepwell/jsonpath"
	"github.com/stepwell/stepwell/value"
)

// QueryLanguage is JSONPath or JSONata.
type QueryLanguage string

// Query languages.
const (
	JSONPath QueryLanguage = "JSONPath"
	JSONata  QueryLanguage = "JSONata"
)

// StateType is the Type field of a state.
type StateType string

// State types.
const (
	TypePass     StateType = "Pass"
	TypeTask     StateType = "Task"
	TypeChoice   StateType = "Choice"
	TypeWait     StateType = "Wait"
	TypeSucceed  StateType = "Succeed"
	TypeFail     StateType = "Fail"
	TypeParallel StateType = "Parallel"
	TypeMap      StateType = "Map"
)

// StateMachine is a loaded definition: the top level or a nested scope
// (a Parallel branch or a Map's ItemProcessor).
type StateMachine struct {
	Comment        string
	StartAt        string
	Version        string
	TimeoutSeconds *int64 // top level only
	QueryLanguage  QueryLanguage
	States         map[string]*State
	Order          []string // state names in definition order
	// Reads is what its states (nested ones included) may read besides
	// their input, computed by Load.
	Reads Reads
	// Definition is the raw definition text (top level only).
	Definition string
	// hasStartAt is set when StartAt is a string (possibly empty).
	hasStartAt bool

	// prepared is what Prepared made of the machine, once.
	prepOnce sync.Once
	prepared any
}

// Prepared returns what prepare makes of sm, calling it only the first
// time: a runner (the engine) keeps its compiled form of the machine with
// the machine, built once and shared by every execution, for as long as
// the machine lives. prepare must not call Prepared on sm.
func (sm *StateMachine) Prepared(prepare func(*StateMachine) any) any {
	sm.prepOnce.Do(func() { sm.prepared = prepare(sm) })
	return sm.prepared
}

// Lookup returns the state named name in sm or in a scope nested in it
// (a Parallel branch, a Map's ItemProcessor), nil if there is none. State
// names are unique across a whole machine (Load reports a duplicate).
func (sm *StateMachine) Lookup(name string) *State {
	if sm == nil || name == "" {
		return nil
	}
	if st := sm.States[name]; st != nil {
		return st
	}
	for _, n := range sm.Order {
		st := sm.States[n]
		if st == nil {
			continue
		}
		for _, b := range st.Branches {
			if f := b.Lookup(name); f != nil {
				return f
			}
		}
		if f := st.ItemProcessor.Lookup(name); f != nil {
			return f
		}
	}
	return nil
}

// Transitions calls f with each state st may go to next, in the order of
// its fields: Next, Default, each rule's of Choices, then of Catch; field
// names the field, and i is the rule's index (-1 for Next and Default).
// It stops when f returns false.
func (st *State) Transitions(f func(target, field string, i int) bool) {
	if st.Next != "" && !f(st.Next, "Next", -1) {
		return
	}
	if st.Default != "" && !f(st.Default, "Default", -1) {
		return
	}
	for i, c := range st.Choices {
		if c.Next != "" && !f(c.Next, "Choices", i) {
			return
		}
	}
	for i, c := range st.Catch {
		if c.Next != "" && !f(c.Next, "Catch", i) {
			return
		}
	}
}

// State is one state of any type. Fields that a type does not use are zero.
// Compiled fields are nil when absent from the definition.
type State struct {
	Name          string
	Type          StateType
	Comment       string
	QueryLanguage QueryLanguage // effective language of this state
	Next          string
	End           bool
	// Reads is what this state's own fields (not its nested states) may
	// read besides the input, computed by Load.
	Reads Reads

	// JSONPath-mode data flow.
	InputPath      *PathField
	OutputPath     *PathField
	ResultPath     *PathField
	Parameters     *Template // Pass, Task, Parallel, Map (deprecated per-item selector)
	ResultSelector *Template
	Result         any  // Pass; HasResult tells whether present
	HasResult      bool // Pass has a Result field
	Assign         *Assign

	// Query holds the compiled JSONata fields of a JSONata state (Assign
	// is in Assign): those that are expressions, and Arguments, Output,
	// Items, ItemSelector and Credentials whatever their form. Typed
	// fields (TimeoutSeconds, Seconds, …) hold the literal forms.
	Query Queries
	// Raw is the state object as written.
	Raw *value.Object

	// Task.
	Resource             string
	TimeoutSeconds       *int64
	TimeoutSecondsPath   *jsonpath.Path
	HeartbeatSeconds     *int64
	HeartbeatSecondsPath *jsonpath.Path
	Credentials          *Template
	Retry                []*Retrier // Task, Parallel, Map
	Catch                []*Catcher // Task, Parallel, Map

	// Choice.
	Choices []*ChoiceRule
	Default string

	// Wait.
	Seconds       *int64
	Timestamp     *time.Time
	TimestampText string // Timestamp as written
	SecondsPath   *jsonpath.Path
	TimestampPath *jsonpath.Path

	// Fail.
	Error     string
	HasError  bool
	Cause     string
	HasCause  bool
	ErrorPath *Expr // a reference path or a string intrinsic
	CausePath *Expr

	// Parallel.
	Branches []*StateMachine

	// Map.
	ItemProcessor                  *StateMachine
	ProcessorMode                  string // INLINE or DISTRIBUTED
	ProcessorExecutionType         string // STANDARD or EXPRESS (DISTRIBUTED)
	ItemsPath                      *jsonpath.Path
	ItemSelector                   *Template
	MaxConcurrency                 int64
	MaxConcurrencyPath             *jsonpath.Path
	ToleratedFailurePercentage     *float64
	ToleratedFailurePercentagePath *jsonpath.Path
	ToleratedFailureCount          *int64
	ToleratedFailureCountPath      *jsonpath.Path
	// ItemReader, ItemBatcher and ResultWriter are the objects as written;
	// Reader, Batcher and Writer their compiled forms (nil when absent).
	ItemReader   *value.Object
	ItemBatcher  *value.Object
	ResultWriter *value.Object
	Reader       *ItemReaderDef
	Batcher      *ItemBatcherDef
	Writer       *ResultWriterDef
	Label        string
}

// PathField is an InputPath, OutputPath or ResultPath field that is present.
// Path is nil when the field is JSON null (discard input / result, or use {}).
type PathField struct {
	Path *jsonpath.Path
}

// Expr is a field that is either a path or an intrinsic call (Fail's
// ErrorPath/CausePath, a `.$` key of a payload template).
type Expr struct {
	Path *jsonpath.Path  // set for a path
	Call *intrinsic.Call // set for an intrinsic function call
	// field names the field in runtime error texts (e.g. "ErrorPath").
	field string
}

// Retrier is one element of Retry.
type Retrier struct {
	ErrorEquals     []string
	IntervalSeconds int64   // default 1
	MaxAttempts     int64   // default 3
	BackoffRate     float64 // default 2.0
	MaxDelaySeconds *int64
	JitterStrategy  string // "FULL" or "NONE" (default)
}

// Catcher is one element of Catch.
type Catcher struct {
	ErrorEquals []string
	Next        string
	ResultPath  *PathField // nil means the default "$"
	Assign      *Assign
	Output      *Query // JSONata; nil when absent
}

// ChoiceRule is a compiled JSONPath Choice rule (top-level rules have Next;
// nested ones do not), or a JSONata rule with Condition.
type ChoiceRule struct {
	Next      string
	Assign    *Assign
	Condition *Query    // JSONata mode: a boolean or an expression
	Output    *Query    // JSONata mode; nil when absent
	cond      condition // compiled JSONPath rule
}
