package jsonata

import (
	"context"
	"strconv"
	"strings"

	"github.com/stepwell/stepwell/value"
)

// Template is a JSON value (value types) in which every string of the form
// "{% expr %}" — at any depth, as an object member value or array element,
// or the whole value — is an expression to evaluate. Other strings and
// values are literals. Safe for concurrent use.
type Template struct {
	root node
}

// node is a compiled part of a template: a literal, an expression, or a
// container with at least one expression inside.
type node interface {
	eval(ctx context.Context, env *Env) (any, bool, error)
}

type literal struct{ v any }

type exprNode struct {
	x    *Expr
	path string // where it is in the template (see TemplateError.Path)
}

type objectNode struct {
	keys  []string
	nodes []node
}

type arrayNode struct {
	nodes []node
}

// CompileTemplate compiles v. A malformed expression is a *TemplateError
// naming where it is (Path: JSON-pointer-like location inside v, e.g.
// "/a/0/b", "" for the whole value) and wrapping the *Error.
func CompileTemplate(v any) (*Template, error) {
	n, err := compileNode(v, nil)
	if err != nil {
		return nil, err
	}
	return &Template{root: n}, nil
}

// Nodes is the number of syntax-tree nodes of the template's expressions
// (Expr.Nodes).
func (t *Template) Nodes() int { return nodesOf(t.root) }

func nodesOf(n node) int {
	switch x := n.(type) {
	case exprNode:
		return x.x.Nodes()
	case *objectNode:
		sum := 0
		for _, c := range x.nodes {
			sum += nodesOf(c)
		}
		return sum
	case *arrayNode:
		sum := 0
		for _, c := range x.nodes {
			sum += nodesOf(c)
		}
		return sum
	}
	return 0
}

func compileNode(v any, path []string) (node, error) {
	switch x := v.(type) {
	case string:
		src, ok := IsExpression(x)
		if !ok {
			return literal{x}, nil
		}
		e, err := Compile(src)
		if err != nil {
			return nil, &TemplateError{Path: pointer(path), Expr: src, Err: err}
		}
		return exprNode{x: e, path: pointer(path)}, nil
	case *value.Object:
		o := &objectNode{keys: make([]string, 0, x.Len()), nodes: make([]node, 0, x.Len())}
		dynamic := false
		for i := range x.Len() {
			k, mv := x.At(i)
			n, err := compileNode(mv, append(path, k))
			if err != nil {
				return nil, err
			}
			if _, lit := n.(literal); !lit {
				dynamic = true
			}
			o.keys = append(o.keys, k)
			o.nodes = append(o.nodes, n)
		}
		if !dynamic {
			return literal{x}, nil
		}
		return o, nil
	case []any:
		a := &arrayNode{nodes: make([]node, 0, len(x))}
		dynamic := false
		for i, e := range x {
			n, err := compileNode(e, append(path, strconv.Itoa(i)))
			if err != nil {
				return nil, err
			}
			if _, lit := n.(literal); !lit {
				dynamic = true
			}
			a.nodes = append(a.nodes, n)
		}
		if !dynamic {
			return literal{x}, nil
		}
		return a, nil
	}
	return literal{v}, nil
}

// pointer renders a path as "/a/0/b" ("" for the root). Keys are written
// as they are (AWS's field locations do not escape "/" or "~").
func pointer(path []string) string {
	if len(path) == 0 {
		return ""
	}
	return "/" + strings.Join(path, "/")
}

// Eval evaluates the template.
//
// Undefined results follow AWS: when the whole template is one expression
// whose result is undefined, Eval returns defined=false (the caller knows
// whether the field may be absent). An expression nested inside an object
// or array that returns undefined is an error, a *TemplateError with
// Undefined set and Path naming the member, as AWS fails the state with
// "The JSONata expression '…' specified for the field 'Output/result'
// returned nothing (undefined)." Evaluation errors are *TemplateErrors
// wrapping the *Error, with the location.
//
// Literal parts of the template are shared, not copied, between results:
// callers must not modify a result in place.
func (t *Template) Eval(ctx context.Context, env *Env) (v any, defined bool, err error) {
	return t.root.eval(ctx, env)
}

// IsLiteral reports whether the template holds no expression; its value is
// then Eval's result for every Env.
func (t *Template) IsLiteral() bool {
	_, ok := t.root.(literal)
	return ok
}

func (l literal) eval(context.Context, *Env) (any, bool, error) { return l.v, true, nil }

func (n exprNode) eval(ctx context.Context, env *Env) (any, bool, error) {
	v, ok, err := n.x.Eval(ctx, env)
	if err != nil {
		return nil, false, &TemplateError{Path: n.path, Expr: n.x.src, Err: err}
	}
	return v, ok, nil
}

func (o *objectNode) eval(ctx context.Context, env *Env) (any, bool, error) {
	out := value.NewObject(len(o.keys))
	for i, k := range o.keys {
		v, ok, err := o.nodes[i].eval(ctx, env)
		if err != nil {
			return nil, false, err
		}
		if !ok {
			return nil, false, undefinedAt(o.nodes[i])
		}
		out.Set(k, v)
	}
	return out, true, nil
}

func (a *arrayNode) eval(ctx context.Context, env *Env) (any, bool, error) {
	out := make([]any, 0, len(a.nodes))
	for _, n := range a.nodes {
		v, ok, err := n.eval(ctx, env)
		if err != nil {
			return nil, false, err
		}
		if !ok {
			return nil, false, undefinedAt(n)
		}
		out = append(out, v)
	}
	return out, true, nil
}

// undefinedAt is the error for n, an expression inside a container, being
// undefined (only expressions can be).
func undefinedAt(n node) error {
	x := n.(exprNode)
	return &TemplateError{Path: x.path, Expr: x.x.src, Undefined: true}
}
