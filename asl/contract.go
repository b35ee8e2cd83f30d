package asl

// This file is the contract other packages code against. The asl owner
// replaces the bodies (and may move them to other files) but keeps the
// signatures.

import "github.com/stepwell/stepwell/value"

// Severity of a diagnostic.
type Severity string

// Severities, as ValidateStateMachineDefinition reports them.
const (
	SeverityError   Severity = "ERROR"
	SeverityWarning Severity = "WARNING"
)

// Diagnostic is one validation finding, shaped like AWS's
// ValidateStateMachineDefinitionDiagnostic.
type Diagnostic struct {
	Severity Severity
	Code     string // e.g. SCHEMA_VALIDATION_FAILED, INVALID_JSON_DESCRIPTION
	Message  string // AWS's text, without the code prefix or location suffix
	Location string // e.g. /States/FailState/ErrorPath ("/" for the root)
}

// DefinitionError is returned by Load for an invalid definition. Error()
// renders what AWS puts in InvalidDefinition's message, e.g.
// "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: These fields are required: [States, StartAt] at /'".
type DefinitionError struct {
	Diagnostics []Diagnostic // errors only, in a stable order
}

// Options adjusts Load and Validate.
type Options struct {
	// Express applies the EXPRESS type's restrictions (no .sync, no
	// .waitForTaskToken, no activities).
	Express bool
}

// VarReader reads workflow variables ($name in JSONPath mode).
type VarReader interface {
	Var(name string) (v any, ok bool)
}

// Env is what the paths of a template, a Choice rule, an Assign or an
// intrinsic call read: $ is Input, $$ is Context, $name is a variable.
type Env struct {
	Input   any
	Context any
	Vars    VarReader
	// StateName and EnteredEventID let runtime error messages name the state
	// as AWS does ("... the state 'X' (entered at the event id #N)").
	StateName      string
	EnteredEventID int64
	// MaxBytes, when positive, is the payload limit a template's output is
	// held to as it is built (AWS: 262,144 bytes): a template that would
	// pass it fails with States.DataLimitExceeded before building more, so
	// one that names a large input thousands of times costs at most the
	// limit's worth of measuring, and its text is never built.
	MaxBytes int
}

// Template is a compiled payload template (Parameters, ResultSelector,
// ItemSelector, Credentials) or a JSONPath-mode Assign block: keys ending in
// ".$" are paths or intrinsic calls evaluated against an Env; other values
// are literal JSON, recursively.
type Template struct {
	raw  any
	root tnode
}

// Assign is a compiled Assign block: a payload template in a JSONPath
// state, a Query in a JSONata state (the other is nil).
type Assign struct {
	Template *Template
	Query    *Query
}

// Eval returns the variables to assign (names without ".$"), in definition
// order. All values are computed before any is assigned.
func (a *Assign) Eval(env *Env) (*value.Object, error) {
	// Variables have their own quotas and error (the engine's).
	v, _, err := a.Template.eval(env, 0, 0)
	if err != nil {
		return nil, err
	}
	o, _ := v.(*value.Object)
	return o, nil
}

// condition is a compiled JSONPath Choice rule body.
type condition interface {
	match(env *Env) (bool, error)
}

// Match reports whether a JSONPath-mode rule matches. Failures (for example
// a missing Variable path) are *fault.Error.
func (r *ChoiceRule) Match(env *Env) (bool, error) {
	if r == nil || r.cond == nil {
		return false, nil
	}
	return r.cond.match(env)
}
