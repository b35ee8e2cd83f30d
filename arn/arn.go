// Package arn parses, validates and formats Step Functions ARNs: state
// machines (with their versions, aliases and Distributed Map labels),
// Standard and Express executions, activities and Map Runs, and checks
// resource names the way the Step Functions API does.
package arn

import (
	"strconv"
	"strings"
)

// Type is the resource type segment of a Step Functions ARN.
type Type string

// Resource types.
const (
	StateMachine Type = "stateMachine"
	Execution    Type = "execution"
	Express      Type = "express"
	Activity     Type = "activity"
	MapRun       Type = "mapRun"
)

// ARN is a parsed Step Functions ARN.
//
//	arn:P:states:R:A:stateMachine:SM[/LABEL][:VERSION|:ALIAS]
//	arn:P:states:R:A:execution:SM[/LABEL]:NAME
//	arn:P:states:R:A:express:SM:NAME:ID
//	arn:P:states:R:A:activity:NAME
//	arn:P:states:R:A:mapRun:SM/LABEL:ID
type ARN struct {
	Partition string
	Region    string
	Account   string
	Type      Type
	// StateMachine is the state machine name (every type but Activity).
	StateMachine string
	// Label is the Distributed Map label after "/" in the state machine part.
	Label string
	// Qualifier is a version number or an alias name (StateMachine only).
	Qualifier string
	// Name is the execution name (Execution, Express) or the activity name.
	Name string
	// ID is the Express execution's or the Map Run's id.
	ID string
}

// Error is returned by Parse. Its message is the text AWS puts inside
// "Invalid Arn: '...'".
type Error struct {
	Message string
}

func (e *Error) Error() string { return e.Message }

func prefixError(s string) error { return &Error{Message: "Invalid ARN prefix: " + s} }

// Parse parses a Step Functions ARN of any type.
func Parse(s string) (ARN, error) {
	if !strings.HasPrefix(s, "arn:") {
		return ARN{}, prefixError(s)
	}
	parts := strings.Split(s, ":")
	if len(parts) < 7 || parts[2] != "states" || parts[1] == "" || parts[3] == "" || parts[4] == "" {
		return ARN{}, prefixError(s)
	}
	a := ARN{Partition: parts[1], Region: parts[3], Account: parts[4], Type: Type(parts[5])}
	rest := parts[6:]
	bad := func() (ARN, error) { return ARN{}, prefixError(s) }
	switch a.Type {
	case StateMachine:
		if len(rest) > 2 {
			return bad()
		}
		a.StateMachine, a.Label = splitLabel(rest[0])
		if len(rest) == 2 {
			if rest[1] == "" {
				return bad()
			}
			a.Qualifier = rest[1]
		}
	case Execution:
		if len(rest) != 2 || rest[1] == "" {
			return bad()
		}
		a.StateMachine, a.Label = splitLabel(rest[0])
		a.Name = rest[1]
	case Express:
		if len(rest) != 3 || rest[1] == "" || rest[2] == "" {
			return bad()
		}
		a.StateMachine, a.Name, a.ID = rest[0], rest[1], rest[2]
	case Activity:
		if len(rest) != 1 {
			return bad()
		}
		a.Name = rest[0]
		if a.Name == "" {
			return bad()
		}
		return a, nil
	case MapRun:
		if len(rest) != 2 || rest[1] == "" {
			return bad()
		}
		a.StateMachine, a.Label = splitLabel(rest[0])
		if a.Label == "" {
			return bad()
		}
		a.ID = rest[1]
	default:
		return ARN{}, prefixError(s)
	}
	if a.StateMachine == "" {
		return bad()
	}
	return a, nil
}

func splitLabel(s string) (name, label string) {
	if i := strings.IndexByte(s, '/'); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// String formats the ARN.
func (a ARN) String() string {
	var b strings.Builder
	b.Grow(64 + len(a.StateMachine) + len(a.Name) + len(a.ID))
	b.WriteString("arn:")
	b.WriteString(a.Partition)
	b.WriteString(":states:")
	b.WriteString(a.Region)
	b.WriteByte(':')
	b.WriteString(a.Account)
	b.WriteByte(':')
	b.WriteString(string(a.Type))
	b.WriteByte(':')
	if a.Type == Activity {
		b.WriteString(a.Name)
		return b.String()
	}
	b.WriteString(a.StateMachine)
	if a.Label != "" {
		b.WriteByte('/')
		b.WriteString(a.Label)
	}
	switch a.Type {
	case StateMachine:
		if a.Qualifier != "" {
			b.WriteByte(':')
			b.WriteString(a.Qualifier)
		}
	case Execution:
		b.WriteByte(':')
		b.WriteString(a.Name)
	case Express:
		b.WriteByte(':')
		b.WriteString(a.Name)
		b.WriteByte(':')
		b.WriteString(a.ID)
	case MapRun:
		b.WriteByte(':')
		b.WriteString(a.ID)
	}
	return b.String()
}

// Version returns the version number of a version ARN and whether a is one.
func (a ARN) Version() (int64, bool) {
	if a.Type != StateMachine || a.Qualifier == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(a.Qualifier, 10, 64)
	if err != nil || n < 1 {
		return 0, false
	}
	return n, true
}

// IsAlias reports whether a is a state machine alias ARN.
func (a ARN) IsAlias() bool {
	if a.Type != StateMachine || a.Qualifier == "" {
		return false
	}
	_, isVersion := a.Version()
	return !isVersion
}

// Machine returns the unqualified state machine ARN that a belongs to:
// without version, alias or label for a state machine ARN, and the owning
// machine for an execution or Map Run ARN. It is the zero ARN for activities.
func (a ARN) Machine() ARN {
	if a.Type == Activity {
		return ARN{}
	}
	return ARN{Partition: a.Partition, Region: a.Region, Account: a.Account, Type: StateMachine, StateMachine: a.StateMachine}
}

// Scope is the partition, region and account that ARNs are built in.
type Scope struct {
	Partition string
	Region    string
	Account   string
}

// WithDefaults returns s with its empty fields set to Stepwell's defaults:
// partition aws, region us-east-1, account 123456789012.
func (s Scope) WithDefaults() Scope {
	if s.Partition == "" {
		s.Partition = "aws"
	}
	if s.Region == "" {
		s.Region = "us-east-1"
	}
	if s.Account == "" {
		s.Account = "123456789012"
	}
	return s
}

// StateMachineARN returns the ARN of the state machine name.
func (s Scope) StateMachineARN(name string) string {
	return ARN{Partition: s.Partition, Region: s.Region, Account: s.Account, Type: StateMachine, StateMachine: name}.String()
}

// ExecutionARN returns the ARN of a Standard execution.
func (s Scope) ExecutionARN(machine, name string) string {
	return ARN{Partition: s.Partition, Region: s.Region, Account: s.Account, Type: Execution, StateMachine: machine, Name: name}.String()
}

// ExpressARN returns the ARN of an Express execution.
func (s Scope) ExpressARN(machine, name, id string) string {
	return ARN{Partition: s.Partition, Region: s.Region, Account: s.Account, Type: Express, StateMachine: machine, Name: name, ID: id}.String()
}

// ActivityARN returns the ARN of an activity.
func (s Scope) ActivityARN(name string) string {
	return ARN{Partition: s.Partition, Region: s.Region, Account: s.Account, Type: Activity, Name: name}.String()
}

// ValidName reports whether name is a valid name for a state machine,
// execution or activity: 1 to 80 characters, none of them whitespace,
// brackets, wildcards, the punctuation " # % \ ^ | ~ ` $ & , ; : /, control
// characters, surrogates or U+FFFE/U+FFFF.
func ValidName(name string) bool {
	if name == "" {
		return false
	}
	n := 0
	for i, r := range name {
		n++
		if n > 80 {
			return false
		}
		if r == 0xFFFD {
			// Invalid UTF-8 decodes as U+FFFD with width 1.
			if !strings.HasPrefix(name[i:], "\uFFFD") {
				return false
			}
		}
		if forbidden(r) {
			return false
		}
	}
	return true
}

func forbidden(r rune) bool {
	switch {
	case r <= 0x20, r >= 0x7F && r <= 0x9F:
		return true
	case r >= 0xD800 && r <= 0xDFFF, r == 0xFFFE, r == 0xFFFF:
		return true
	case r == 0x1680, r >= 0x2000 && r <= 0x200A, r == 0x2028, r == 0x2029, r == 0x202F, r == 0x205F, r == 0x3000:
		return true // Unicode whitespace
	}
	switch r {
	case '<', '>', '{', '}', '[', ']', '?', '*', '"', '#', '%', '\\', '^', '|', '~', '`', '$', '&', ',', ';', ':', '/':
		return true
	}
	return false
}

// ValidAliasName reports whether name is a valid alias name: 1 to 80
// characters from [a-zA-Z0-9_.-], at least one of them not a digit.
func ValidAliasName(name string) bool {
	if name == "" || len(name) > 80 {
		return false
	}
	nonDigit := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= '0' && c <= '9':
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == '-', c == '.':
			nonDigit = true
		default:
			return false
		}
	}
	return nonDigit
}
