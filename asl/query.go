package asl

import (
	"context"
	"errors"
	"strings"

	"github.com/stepwell/stepwell/jsonata"
	"github.com/stepwell/stepwell/value"
)

// Query is a compiled JSONata-mode field: a JSON value in which every
// string "{% expr %}" (the whole value, or an object member or array
// element at any depth) is a JSONata expression, compiled once by Load
// (a jsonata.Template). Eval builds the field's value in an environment
// and words its failures as AWS does.
type Query struct {
	tmpl  *jsonata.Template
	field string // the field's name in AWS's texts ("Output", "Assign")
	src   string // the expression, when the whole value is one
}

// QueryError is a JSONata-mode evaluation failure, AWS's
// States.QueryEvaluationError. Location is where in the state it
// happened as the EvaluationFailed event shows it ("Output/result",
// "Items"; empty when AWS names none) and Cause the text after the
// state's "An error occurred while executing the state …" prefix.
type QueryError struct {
	Location string
	Cause    string
	// Err is the evaluator's error, when one failed.
	Err error
}

func (e *QueryError) Error() string { return e.Cause }

func (e *QueryError) Unwrap() error { return e.Err }

// Queries are the compiled JSONata fields of a JSONata state. A field is
// nil when absent, or when it is a literal the typed field of the State
// already holds (TimeoutSeconds: 30).
type Queries struct {
	Arguments *Query // Task, Parallel
	Output    *Query // every type but Fail
	// Items, ItemSelector, MaxConcurrency, ToleratedFailureCount and
	// ToleratedFailurePercentage are a Map's.
	Items                      *Query
	ItemSelector               *Query
	MaxConcurrency             *Query
	ToleratedFailureCount      *Query
	ToleratedFailurePercentage *Query
	Seconds, Timestamp         *Query // Wait
	TimeoutSeconds             *Query // Task
	HeartbeatSeconds           *Query // Task
	Credentials                *Query // Task
	Error, Cause               *Query // Fail
}

// Eval evaluates q in env. An expression that is undefined (the whole
// value's included) or fails is a *QueryError naming it and its location,
// AWS's States.QueryEvaluationError.
func (q *Query) Eval(ctx context.Context, env *jsonata.Env) (any, error) {
	v, defined, err := q.tmpl.Eval(ctx, env)
	if err != nil {
		return nil, q.failed(err)
	}
	if !defined {
		return nil, q.failed(&jsonata.TemplateError{Expr: q.src, Undefined: true})
	}
	return v, nil
}

// Location is where q is in its state, as AWS's texts name it ("Items").
func (q *Query) Location() string {
	if q == nil {
		return ""
	}
	return q.field
}

// ResultTypeError is AWS's error for a value of the wrong JSON type: want
// is AWS's name of the type expected ("array", "boolean", …).
func (q *Query) ResultTypeError(want string, v any) *QueryError {
	cause := "The JSONata expression '" + q.src + "' specified for the field '" + q.field +
		"' returned an unexpected result type. Expected '" + want + "', but was '" + jsonTypeName(v) +
		"' for value: " + value.String(v)
	return &QueryError{Location: q.field, Cause: cause}
}

// jsonTypeName names v's JSON type as AWS's JSONata errors do.
func jsonTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []any:
		return "array"
	case *value.Object:
		return "object"
	}
	return "number"
}

// failed words an evaluation failure as AWS does: "The JSONata expression
// '<e>' specified for the field 'Output/result' returned nothing
// (undefined)." or "… threw an error during evaluation. T2001: <message>".
func (q *Query) failed(err error) *QueryError {
	var te *jsonata.TemplateError
	if !errors.As(err, &te) {
		return &QueryError{Location: q.field, Err: err, Cause: err.Error()}
	}
	at := q.field + te.Path
	head := "The JSONata expression '" + te.Expr + "' specified for the field '" + at + "' "
	if te.Undefined {
		return &QueryError{Location: at, Cause: head + "returned nothing (undefined)."}
	}
	msg := te.Err.Error()
	var je *jsonata.Error
	if errors.As(te.Err, &je) {
		msg = je.Message
		if je.Code != "" {
			msg = je.Code + ": " + msg
		}
	}
	return &QueryError{Location: at, Err: te.Err, Cause: head + "threw an error during evaluation. " + msg}
}

// Diagnostic codes of JSONata expressions.
const (
	CodeInvalidJSONata     = "INVALID_JSONATA_EXPRESSION"
	CodeUnsupportedJSONata = "UNSUPPORTED_JSONATA_EXPRESSION"
)

// states fields an expression may read, by where it is.
const (
	readsResult      = 1 << iota // $states.result: Output and Assign of Task, Parallel, Map
	readsErrorOutput             // $states.errorOutput: a catcher's Output and Assign
)

// query compiles the JSONata-mode value v of a field: field is its name
// in AWS's runtime texts ("Output"), at its location for diagnostics
// (malformed expressions are reported there, whatever their depth), and
// reads what of $states it may read besides input and context.
func (l *loader) query(v any, field, at string, reads int) *Query {
	q := &Query{field: field}
	q.src, _ = exprText(v)
	if l.jsonataTooBig { // limits.go: reported, and no more is compiled
		q.tmpl, _ = jsonata.CompileTemplate(nil)
		return q
	}
	t, err := jsonata.CompileTemplate(v)
	if err != nil {
		msg := err.Error()
		var je *jsonata.Error
		if errors.As(err, &je) {
			msg = je.Message
		}
		l.add(SeverityError, CodeInvalidJSONata, at, msg)
		t, _ = jsonata.CompileTemplate(nil)
	} else if problem := unsupportedIn(v, reads); problem != "" {
		l.add(SeverityError, CodeUnsupportedJSONata, at, problem)
	}
	l.countJSONata(t, at) // limits.go
	q.tmpl = t
	return q
}

// queryField compiles the member key of o when present.
func (l *loader) queryField(o *value.Object, at, key string, reads int) *Query {
	v, ok := o.Get(key)
	if !ok {
		return nil
	}
	return l.query(v, key, loc(at, key), reads)
}

// exprField compiles the member key of o when it is a JSONata string (its
// literal forms are read by the typed field).
func (l *loader) exprField(o *value.Object, at, key string) *Query {
	v, ok := o.Get(key)
	if !ok {
		return nil
	}
	if _, isExpr := exprText(v); !isExpr {
		return nil
	}
	return l.query(v, key, loc(at, key), 0)
}

// unsupportedIn is unsupported for the first expression of v that reads
// what it may not.
func unsupportedIn(v any, reads int) string {
	switch x := v.(type) {
	case string:
		if inner, ok := exprText(x); ok {
			return unsupported(inner, reads)
		}
	case []any:
		for _, e := range x {
			if p := unsupportedIn(e, reads); p != "" {
				return p
			}
		}
	case *value.Object:
		for i := 0; i < x.Len(); i++ {
			_, e := x.At(i)
			if p := unsupportedIn(e, reads); p != "" {
				return p
			}
		}
	}
	return ""
}

// exprText returns the expression inside a JSONata string "{% … %}".
func exprText(v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		return "", false
	}
	return jsonata.IsExpression(s)
}

// unsupported is AWS's UNSUPPORTED_JSONATA_EXPRESSION text for an
// expression that reads what it may not: "$$" anywhere, $states.result
// outside the Output and Assign of a Task, Parallel or Map, and
// $states.errorOutput outside a catcher. String literals are skipped.
func unsupported(src string, reads int) string {
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case '"', '\'', '`':
			// Skip the literal (a backquoted name included).
			for i++; i < len(src) && src[i] != c; i++ {
				if src[i] == '\\' {
					i++
				}
			}
		case '/':
			if i+1 < len(src) && src[i+1] == '*' {
				end := strings.Index(src[i+2:], "*/")
				if end < 0 {
					return ""
				}
				i += end + 3
			}
		case '$':
			rest := src[i+1:]
			if strings.HasPrefix(rest, "$") {
				return "Reference to '$$' is not supported."
			}
			if !strings.HasPrefix(rest, "states.") {
				continue
			}
			name := rest[len("states."):]
			end := 0
			for end < len(name) && (name[end] == '_' || name[end] >= 'a' && name[end] <= 'z' || name[end] >= 'A' && name[end] <= 'Z' || name[end] >= '0' && name[end] <= '9') {
				end++
			}
			switch name[:end] {
			case "input", "context":
			case "result":
				if reads&readsResult == 0 {
					return "Field '$states.result' does not exist."
				}
			case "errorOutput":
				if reads&readsErrorOutput == 0 {
					return "Field '$states.errorOutput' does not exist."
				}
			default:
				return "Field '$states." + name[:end] + "' does not exist."
			}
		}
	}
	return ""
}

// queries compiles the JSONata fields of a JSONata state (its Assign,
// Choice rules and catchers are compiled with them).
func (l *loader) queries(st *State, o *value.Object, at string) {
	q := &st.Query
	var reads int
	switch st.Type {
	case TypeTask, TypeParallel, TypeMap:
		reads = readsResult
	}
	if st.Type != TypeFail {
		q.Output = l.queryField(o, at, "Output", reads)
	}
	switch st.Type {
	case TypeTask:
		q.Arguments = l.queryField(o, at, "Arguments", 0)
		q.TimeoutSeconds = l.exprField(o, at, "TimeoutSeconds")
		q.HeartbeatSeconds = l.exprField(o, at, "HeartbeatSeconds")
		q.Credentials = l.queryField(o, at, "Credentials", 0)
	case TypeParallel:
		q.Arguments = l.queryField(o, at, "Arguments", 0)
	case TypeMap:
		q.Items = l.queryField(o, at, "Items", 0)
		q.ItemSelector = l.queryField(o, at, "ItemSelector", 0)
		q.MaxConcurrency = l.exprField(o, at, "MaxConcurrency")
		q.ToleratedFailureCount = l.exprField(o, at, "ToleratedFailureCount")
		q.ToleratedFailurePercentage = l.exprField(o, at, "ToleratedFailurePercentage")
	case TypeWait:
		q.Seconds = l.exprField(o, at, "Seconds")
		q.Timestamp = l.exprField(o, at, "Timestamp")
	case TypeFail:
		q.Error = l.exprField(o, at, "Error")
		q.Cause = l.exprField(o, at, "Cause")
	}
}
