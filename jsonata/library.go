package jsonata

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"time"

	"github.com/stepwell/stepwell/jsonata/internal/gnata/evaluator"
	"github.com/stepwell/stepwell/jsonata/internal/gnata/functions"
	"github.com/stepwell/stepwell/jsonata/internal/gnata/lexer"
	"github.com/stepwell/stepwell/jsonata/internal/gnata/parser"
	"github.com/stepwell/stepwell/value"
)

// program is an expression compiled by the JSONata library (gnata, forked
// in internal/gnata), with what it reads of $states and of the variables:
// only those parts are converted for an evaluation.
type program struct {
	ast    *parser.Node
	nodes  int                // of ast: what it holds (Expr.Nodes)
	states *access            // what the expression reads of $states; nil for nothing
	vars   map[string]*access // the same for each variable it may read
}

// rootEnv holds JSONata's functions, AWS's, and no $eval. Evaluations bind
// their values in a child of it.
var rootEnv = func() *evaluator.Environment {
	env := evaluator.NewEnvironment()
	functions.RegisterAll(env, evaluator.ApplyFunction)
	for name, fn := range awsFunctions {
		env.Bind(name, fn)
	}
	env.Bind("eval", nil) // unavailable, as on AWS: calling it is T1006
	return env
}()

func compileProgram(src string) (p *program, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, &Error{Code: "S0500", Message: fmt.Sprintf("Attempted to evaluate an expression containing syntax error(s): %v", r), Position: -1}
		}
	}()
	if err := checkNesting(src); err != nil {
		return nil, err
	}
	if len(src) > MaxSource {
		return nil, &Error{Code: codeLimit, Message: "The expression is longer than " + strconv.Itoa(MaxSource>>10) + " KB", Position: -1}
	}
	ast, err := parser.NewParser(src).Parse()
	if err == nil {
		ast, err = parser.ProcessAST(ast)
	}
	if err != nil {
		return nil, syntaxError(src, err)
	}
	// Regular expressions are compiled now, so that one the engine cannot
	// run fails the definition, not an execution.
	nodes := 0
	err = eachNode(ast, func(n *parser.Node) error {
		nodes++
		switch {
		case (n.Type == parser.NodeBinary || n.Type == parser.NodeApply) && !binaryOps[n.Value]:
			return &parser.Error{Code: "S0201", Token: n.Value, Message: "unexpected operator", Pos: n.Pos}
		case n.Type == parser.NodeUnary && n.Value != "-" && n.Value != "[" && n.Value != "{":
			return &parser.Error{Code: "S0211", Token: n.Value, Message: "unexpected prefix operator", Pos: n.Pos}
		case n.Type != parser.NodeRegex:
			return nil
		}
		if err := evaluator.CheckRegexLiteral(n.Value); err != nil {
			if je, ok := err.(*evaluator.JSONataError); ok && je.Pos == 0 {
				je.Pos = n.Pos + 1
			}
			return err
		}
		return nil
	})
	if err != nil {
		return nil, syntaxError(src, err)
	}
	if astDepth(ast, 0) > MaxDepthAST {
		return nil, &Error{Code: codeLimit, Message: "The expression is nested more than " + strconv.Itoa(MaxDepthAST) + " levels deep", Position: -1}
	}
	p = &program{ast: ast, nodes: nodes}
	p.analyze()
	return p, nil
}

// binaryOps are the binary operators the evaluator implements; the parser
// accepts a few more tokens in infix position (such as "|"), which are
// syntax errors.
var binaryOps = map[string]bool{
	"and": true, "or": true, "?:": true, "??": true, "~>": true, "[": true, "+": true, "-": true, "*": true,
	"/": true, "%": true, "**": true, "&": true, "=": true, "!=": true, "<": true, "<=": true, ">": true,
	">=": true, "in": true, "..": true,
}

func (p *program) eval(ctx context.Context, env *Env) (v any, defined bool, err error) {
	if err := ctx.Err(); err != nil {
		return nil, false, canceled(ctx)
	}
	parent := ctx
	ctx = &limitedContext{Context: ctx, deadline: time.Now().Add(MaxEvalTime)}
	scope := evaluator.NewChildEnvironment(rootEnv)
	scope.ResetCallCounter()
	scope.SetContext(ctx)
	if p.states != nil {
		scope.Bind("states", p.statesValue(env))
	}
	if env.Vars != nil {
		for name, a := range p.vars {
			if v, ok := env.Vars.Var(name); ok {
				scope.Bind(name, a.convert(v))
			}
		}
	}
	r, err := evalAST(p.ast, nil, scope)
	if err != nil {
		if ctx.Err() != nil && parent.Err() == nil {
			return nil, false, &Error{Code: codeLimit, Message: errTimeLimit.Error(), Position: -1}
		}
		return nil, false, evalError(ctx, err)
	}
	if r == nil {
		return nil, false, nil
	}
	v, err = convertResult(r)
	if err != nil {
		return nil, false, evalError(ctx, err)
	}
	return v, true, nil
}

// convertResult converts a result, failing on one too large to be a value
// (a result sharing its parts can stand for a huge tree).
func convertResult(r any) (v any, err error) {
	defer recoverError(&err)
	var n evaluator.Visits
	return fromLibCounted(r, &n)
}

// evalAST runs the evaluator, turning a panic (a bug in it) into an error
// rather than a dead server.
func evalAST(ast *parser.Node, input any, scope *evaluator.Environment) (r any, err error) {
	defer recoverError(&err)
	r, err = evaluator.Eval(ast, input, scope)
	if seq, ok := r.(*evaluator.Sequence); ok {
		r = evaluator.CollapseSequence(seq)
	}
	return r, err
}

// limitedContext ends an evaluation at its deadline without a timer: the
// evaluator asks Err at every node, and every 64th time it looks at the
// clock. It is used by one goroutine, the evaluation's.
type limitedContext struct {
	context.Context
	deadline time.Time
	calls    int
	expired  bool
}

func (c *limitedContext) Err() error {
	if err := c.Context.Err(); err != nil {
		return err
	}
	if c.expired {
		return errTimeLimit
	}
	c.calls++
	if c.calls&63 == 0 && time.Now().After(c.deadline) {
		c.expired = true
		return errTimeLimit
	}
	return nil
}

// recoverError turns a panic into *errp: a limit error raised deep in a
// traversal, or a bug in the library (an error rather than a dead server).
func recoverError(errp *error) {
	x := recover()
	if x == nil {
		return
	}
	if je, ok := x.(*evaluator.JSONataError); ok {
		*errp = je
		return
	}
	*errp = &Error{Code: codeInternal, Message: fmt.Sprintf("internal error: %v", x), Position: -1}
}

// statesValue is $states for env, with only the parts p reads.
func (p *program) statesValue(env *Env) any {
	s := evaluator.NewOrderedMapWithCapacity(4)
	add := func(name string, v any) {
		if a, full := p.states.child(name); a != nil || full {
			s.Set(name, a.convertOr(full, v))
		}
	}
	add("input", env.Input)
	add("context", env.Context)
	if env.HasResult {
		add("result", env.Result)
	}
	if env.HasErrorOutput {
		add("errorOutput", env.ErrorOutput)
	}
	return s
}

// toLib converts a value into the library's representation: numbers as
// float64 (as JavaScript has them) except integers beyond 2^53, which stay
// exact as json.Number while passed through; objects as its ordered map;
// null as its sentinel.
func toLib(v any) any {
	switch x := v.(type) {
	case nil:
		return evaluator.Null
	case int64:
		if x > 1<<53 || x < -(1<<53) {
			return json.Number(strconv.FormatInt(x, 10))
		}
		return float64(x)
	case *big.Int:
		return json.Number(x.String())
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = toLib(e)
		}
		return out
	case *value.Object:
		m := evaluator.NewOrderedMapWithCapacity(x.Len())
		for i := range x.Len() {
			k, e := x.At(i)
			m.Set(k, toLib(e))
		}
		return m
	}
	return v // bool, string, float64
}

// fromLib converts a library result into a value. Numbers become int64
// when integral and within int64's range, float64 otherwise; numbers passed
// through from the input stay exact.
func fromLib(r any) (any, error) {
	var n evaluator.Visits
	return fromLibCounted(r, &n)
}

func fromLibCounted(r any, n *evaluator.Visits) (any, error) {
	n.Visit()
	switch x := r.(type) {
	case nil:
		return nil, nil
	case bool, string:
		return x, nil
	case float64:
		return number(x)
	case json.Number:
		n, ok := value.ParseNumber(string(x))
		if !ok {
			return nil, &Error{Code: "D1001", Message: "Number out of range: " + string(x), Position: -1}
		}
		if f, isFloat := n.(float64); isFloat {
			return number(f)
		}
		return n, nil
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			if e == nil {
				continue
			}
			v, err := fromLibCounted(e, n)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case *evaluator.Sequence:
		return fromLibCounted(evaluator.CollapseSequence(x), n)
	case *evaluator.OrderedMap:
		o := value.NewObject(x.Len())
		for _, k := range x.Keys() {
			e, _ := x.Get(k)
			if e == nil {
				continue
			}
			v, err := fromLibCounted(e, n)
			if err != nil {
				return nil, err
			}
			o.Set(k, v)
		}
		return o, nil
	case map[string]any:
		o := value.NewObject(len(x))
		for _, k := range evaluator.MapKeys(x) {
			if x[k] == nil {
				continue
			}
			v, err := fromLibCounted(x[k], n)
			if err != nil {
				return nil, err
			}
			o.Set(k, v)
		}
		return o, nil
	}
	if evaluator.IsNull(r) {
		return nil, nil
	}
	// A function (lambda, native function, regex) is no JSON value:
	// JSON.stringify leaves it out, as undefined.
	return nil, nil
}

// number returns f as a value number: int64 when integral and exact.
func number(f float64) (any, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, &Error{Code: "D1001", Message: "Number out of range: " + strconv.FormatFloat(f, 'g', -1, 64), Position: -1}
	}
	if f == math.Trunc(f) && math.Abs(f) < 1<<63 {
		return int64(f), nil
	}
	return f, nil
}

// Limits of one evaluation by the library (the fast path's work is bounded
// by its input). Exceeding one is an *Error with code "SW001".
const (
	// MaxEvalTime bounds an evaluation's time (the caller's context may
	// end it sooner).
	MaxEvalTime = 5 * time.Second
	// MaxString is the longest string an evaluation may build, in bytes.
	MaxString = evaluator.MaxString
	// MaxAlloc bounds what one evaluation's operators, constructors, paths
	// and function calls may build, in approximate bytes (string bytes, 16
	// per array item, 32 per object member): about 5 million items.
	MaxAlloc = evaluator.MaxAlloc
	// MaxVisits bounds the values one operation (deep equality, "**",
	// $flatten, $distinct, serialization, the result's conversion) visits.
	MaxVisits = evaluator.MaxVisits
	// MaxSource is the longest expression Compile accepts, in bytes: its
	// syntax tree takes some 400 bytes a token (1+1+… of 64 KB holds 25 MB).
	MaxSource = 64 << 10
	// MaxDepth is the deepest recursion of JSONata functions (jsonata-js's
	// default; error U1001).
	MaxDepth = 100
	// MaxNesting is the deepest nesting of brackets in an expression's
	// source, and MaxDepthAST of its syntax tree (operator chains such as
	// 1+1+…+1 nest too): deeper expressions are refused by Compile.
	MaxNesting  = 500
	MaxDepthAST = 2000
)

// checkNesting refuses an expression whose brackets nest deeper than
// MaxNesting, before the parser's recursion meets it.
func checkNesting(src string) error {
	depth := 0
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case '"', '\'', '`':
			for i++; i < len(src) && src[i] != c; i++ {
				if src[i] == '\\' && c != '`' {
					i++
				}
			}
		case '(', '[', '{':
			depth++
			if depth > MaxNesting {
				return &Error{Code: codeLimit, Message: "The expression nests brackets more than " + strconv.Itoa(MaxNesting) + " levels deep", Position: charOffset(src, i)}
			}
		case ')', ']', '}':
			depth--
		}
	}
	return nil
}

// astDepth is the depth of n's tree below depth, counting at most to
// MaxDepthAST+1.
func astDepth(n *parser.Node, depth int) int {
	if n == nil || depth > MaxDepthAST {
		return depth
	}
	deepest := depth + 1
	_ = eachChild(n, func(c *parser.Node) error {
		if d := astDepth(c, depth+1); d > deepest {
			deepest = d
		}
		if deepest > MaxDepthAST {
			return errTooDeep
		}
		return nil
	})
	return deepest
}

var errTooDeep = errors.New("too deep")

var errTimeLimit = errors.New("Evaluation exceeded the time limit of " + MaxEvalTime.String())

// Codes of Stepwell's own errors.
const (
	codeLimit    = "SW001"             // a size limit exceeded
	codeCanceled = "SW002"             // the context ended (deadline, cancellation)
	codeFunction = "SW003"             // an AWS function's arguments are invalid
	codeInternal = "SW004"             // the JSONata library failed
	codeRegex    = evaluator.RegexCode // "SW005": a regular expression RE2 cannot run
)

func canceled(ctx context.Context) error {
	return &Error{Code: codeCanceled, Message: "Evaluation canceled: " + context.Cause(ctx).Error(), Position: -1}
}

// syntaxError turns a parse error into an *Error.
func syntaxError(src string, err error) error {
	switch e := err.(type) {
	case *parser.Error:
		var expected any
		if e.Value != "" {
			expected = e.Value
		}
		return &Error{Code: e.Code, Message: message(e.Code, e.Token, expected, nil, e.Message), Position: charOffset(src, e.Pos), Token: e.Token}
	case *lexer.Error:
		return &Error{Code: e.Code, Message: message(e.Code, "", nil, nil, e.Message), Position: charOffset(src, e.Pos)}
	case *evaluator.JSONataError:
		return &Error{Code: e.Code, Message: message(e.Code, e.Token, e.Value, e.Value2, e.Message), Position: charOffset(src, e.Pos-1), Token: e.Token}
	case *Error:
		return e
	}
	return &Error{Code: "S0201", Message: err.Error(), Position: -1}
}

// charOffset converts a byte offset in src to a character offset (-1 stays).
func charOffset(src string, pos int) int {
	if pos < 0 {
		return -1
	}
	if pos > len(src) {
		pos = len(src)
	}
	n := 0
	for range src[:pos] {
		n++
	}
	return n
}

// evalError turns an evaluation error into an *Error.
func evalError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return canceled(ctx)
	}
	switch e := err.(type) {
	case *Error:
		return e
	case *evaluator.JSONataError:
		if e.Code == "T0410" && e.Token == "" {
			if tok, msg, ok := signatureMessage(e.Message); ok {
				return &Error{Code: e.Code, Message: msg, Position: e.Pos - 1, Token: tok}
			}
		}
		return &Error{Code: e.Code, Message: message(e.Code, e.Token, e.Value, e.Value2, e.Message), Position: e.Pos - 1, Token: e.Token}
	}
	return &Error{Code: codeInternal, Message: err.Error(), Position: -1}
}

var codeInMessage = regexp.MustCompile(`^[A-Z]\d{4}: `)

// message is the text of an error: jsonata-js's wording for code where
// known, else the library's own.
func message(code, token string, val, val2 any, own string) string {
	if m, ok := jsMessage(code, token, val, val2); ok {
		return m
	}
	return codeInMessage.ReplaceAllString(own, "")
}

func isLibNull(v any) bool { return evaluator.IsNull(v) }
