// Package jsonata evaluates JSONata expressions as AWS Step Functions does:
// JSONata 2.0 plus AWS's own functions ($partition, $range, $hash, $random,
// $uuid, $parse) and without $eval, over Stepwell's values (package value),
// keeping object key order both ways.
//
// It is the one seam over the JSONata library (github.com/recolabs/gnata):
// nothing else in Stepwell imports it, so it can be replaced or forked here.
//
// Expressions are compiled once (Compile, CompileTemplate) and evaluated
// many times, concurrently, against an Env: $states.input, $states.context,
// $states.result, $states.errorOutput and the workflow's variables.
//
// The simplest expressions (paths, literals, comparisons, and/or,
// $merge([path, {…}])) are evaluated directly on the values (fast.go);
// the others by the library (library.go), which converts only the parts of
// $states and the variables that the expression reads (access.go). An
// evaluation by the library is bounded in time, string length, memory and
// traversal size (MaxEvalTime, MaxString, MaxAlloc, MaxVisits): past a
// limit it fails with an *Error of code "SW001".
package jsonata

import (
	"context"
	"strings"
)

// Expr is a compiled JSONata expression: the text between "{%" and "%}".
// Safe for concurrent use.
type Expr struct {
	src  string
	fast fastNode // nil when src is outside the fast path (see fastNode)
	prog *program
}

// Compile parses src (without the {% %} delimiters). A syntax error is an
// *Error (Code like "S0201", Position = character offset in src, Message as
// jsonata-js words it).
func Compile(src string) (*Expr, error) {
	p, err := compileProgram(src)
	if err != nil {
		return nil, err
	}
	return &Expr{src: src, fast: parseFast(src), prog: p}, nil
}

// Source returns the expression text as written.
func (e *Expr) Source() string { return e.src }

// Nodes is the number of nodes of the expression's syntax tree: what its
// compiled form holds (some 400 bytes each), so that a caller can bound
// what the expressions of one document hold together.
func (e *Expr) Nodes() int { return e.prog.nodes }

// Eval evaluates e in env. defined is false when the result is JSONata's
// undefined (nothing); the value is then nil. An evaluation failure is an
// *Error (Code like "T2001", "D3001", or Stepwell's own limit codes). ctx
// bounds the evaluation (cancellation); limits on time, memory, depth and
// sizes are built in so that a pathological expression ends with an *Error,
// never a hang or an out-of-memory.
func (e *Expr) Eval(ctx context.Context, env *Env) (v any, defined bool, err error) {
	if env == nil {
		env = &Env{}
	}
	if e.fast != nil {
		if v, defined, ok := e.fast.fast(env); ok {
			return canonical(v), defined, nil
		}
	}
	return e.prog.eval(ctx, env)
}

// Env is what an expression sees.
type Env struct {
	Input          any // $states.input
	Context        any // $states.context (the Context object, *value.Object)
	Result         any // $states.result, bound only when HasResult
	HasResult      bool
	ErrorOutput    any // $states.errorOutput, bound only when HasErrorOutput
	HasErrorOutput bool
	Vars           Vars // workflow variables ($name); nil for none
}

// Vars looks up workflow variables by name (without the $). The engine's
// variable scope implements it.
type Vars interface {
	Var(name string) (any, bool)
}

// IsExpression reports whether s is a JSONata expression string "{% … %}"
// and returns the text between the delimiters without its surrounding
// whitespace. As on AWS, the string itself must begin with "{%" and end
// with "%}": no whitespace is allowed outside the delimiters.
func IsExpression(s string) (inner string, ok bool) {
	if len(s) < 4 || !strings.HasPrefix(s, "{%") || !strings.HasSuffix(s, "%}") {
		return "", false
	}
	return strings.TrimSpace(s[2 : len(s)-2]), true
}
