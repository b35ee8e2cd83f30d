package evaluator

import (
	"fmt"

	"github.com/stepwell/stepwell/jsonata/internal/gnata/parser"
)

// Stepwell: limits on what one evaluation may build, so that a
// pathological expression ends with an error (code LimitCode) instead of
// exhausting memory. Time is bounded by the evaluation's context, which
// Eval checks at every node.
const (
	// MaxString is the longest string (in bytes) an evaluation may build.
	MaxString = 16 << 20
	// MaxAlloc is how much (in approximate bytes: string bytes, 16 per
	// array or sequence item, 32 per object member) the results of one
	// evaluation's operators, constructors, paths and function calls may
	// add up to.
	MaxAlloc = 64 << 20
	// MaxVisits is the most values one traversal (deep equality,
	// descendants, flattening, serialization) may visit.
	MaxVisits = 10_000_000
	// LimitCode is the error code of an exceeded limit.
	LimitCode = "SW001"
)

// LimitError is the error for an exceeded limit.
func LimitError(format string, args ...any) *JSONataError {
	return &JSONataError{Code: LimitCode, Message: fmt.Sprintf(format, args...)}
}

// charge adds n to the evaluation's allocations, failing past MaxAlloc.
func (e *Environment) charge(n int) error {
	c := e.callCounter()
	c.alloc += int64(n)
	if c.alloc > MaxAlloc {
		return LimitError("Evaluation exceeded the memory limit of %d MiB", MaxAlloc>>20)
	}
	return nil
}

// resultSize is the approximate size of a value an operator built.
func resultSize(v any) int {
	switch x := v.(type) {
	case string:
		return len(x)
	case []any:
		return 16 * len(x)
	case *Sequence:
		return 16 * len(x.Values)
	case *OrderedMap:
		return 32 * x.Len()
	case map[string]any:
		return 32 * len(x)
	}
	return 0
}

// chargeResult charges the result of node, for the node types that build
// values (a variable or a name only refers to one).
func chargeResult(node *parser.Node, v any, env *Environment) error {
	switch node.Type {
	case parser.NodeBinary, parser.NodeFunction, parser.NodePartial, parser.NodeUnary, parser.NodeApply,
		parser.NodeSort, parser.NodeTransform:
	case parser.NodePath:
		if _, fresh := v.(*Sequence); !fresh {
			return nil
		}
	default:
		return nil
	}
	if n := resultSize(v); n > 0 {
		return env.charge(n)
	}
	return nil
}

// CheckString fails when a string of n bytes would be too long.
func CheckString(n int) error {
	if n > MaxString {
		return LimitError("Evaluation exceeded the string length limit of %d MiB", MaxString>>20)
	}
	return nil
}

// Visits counts the values a traversal visits; Visit panics with a limit
// error (which the evaluation returns) past MaxVisits.
type Visits int

// Visit counts one value.
func (v *Visits) Visit() {
	*v++
	if *v > MaxVisits {
		panic(LimitError("Evaluation exceeded the limit of %d values visited by one operation", MaxVisits))
	}
}

// CheckSerializable fails when the JSON text of v would be longer than
// MaxString (counting string bytes and 8 per value), without building it:
// a value sharing its parts can stand for far more text than it occupies.
func CheckSerializable(v any) error {
	budget := MaxString
	var walk func(v any) bool
	walk = func(v any) bool {
		budget -= 8
		if budget < 0 {
			return false
		}
		switch x := v.(type) {
		case string:
			budget -= len(x)
		case []any:
			for _, e := range x {
				if !walk(e) {
					return false
				}
			}
		case *Sequence:
			for _, e := range x.Values {
				if !walk(e) {
					return false
				}
			}
		case *OrderedMap:
			for _, k := range x.keys {
				budget -= len(k)
				if !walk(x.data[k]) {
					return false
				}
			}
		case map[string]any:
			for k, e := range x {
				budget -= len(k)
				if !walk(e) {
					return false
				}
			}
		}
		return budget >= 0
	}
	if !walk(v) {
		return LimitError("Evaluation exceeded the string length limit of %d MiB", MaxString>>20)
	}
	return nil
}
