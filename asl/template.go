package asl

import (
	"errors"
	"math"
	"strings"

	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/intrinsic"
	"github.com/stepwell/stepwell/jsonpath"
	"github.com/stepwell/stepwell/value"
)

// node kinds of a compiled template.
const (
	nodeLiteral uint8 = iota // a constant subtree, shared by every output
	nodeObject
	nodeArray
	nodeExpr // the value of a ".$" key
)

// tnode is one compiled template node.
type tnode struct {
	kind  uint8
	lit   any      // nodeLiteral
	keys  []string // nodeObject: output keys, in order
	kids  []tnode  // nodeObject (parallel to keys), nodeArray
	field string   // nodeExpr: the key as written, with ".$"
	expr  Expr     // nodeExpr
	// fixed is the length of the node's JSON text (nodeLiteral), or of its
	// braces or brackets, commas, keys and colons (nodeObject, nodeArray).
	fixed int
}

// Raw returns the template as written in the definition.
func (t *Template) Raw() any {
	if t == nil {
		return nil
	}
	return t.raw
}

// compileTemplate compiles a payload template. Problems are reported to r
// at loc; the returned template is usable whatever was reported.
func compileTemplate(v any, r *reporter, at string) *Template {
	t := &Template{raw: v}
	t.root = compileNode(v, r, at)
	t.root.measure()
	return t
}

// measure sets the fixed part of the JSON text of n and its descendants:
// a literal's whole text; an object's or array's braces, commas, keys and
// colons.
func (n *tnode) measure() {
	switch n.kind {
	case nodeLiteral:
		value.SizeWithin(n.lit, &n.fixed, math.MaxInt)
		return
	case nodeExpr:
		return
	}
	n.fixed = 2 + max(len(n.kids)-1, 0)
	for _, k := range n.keys {
		n.fixed += len(value.AppendString(nil, k)) + 1
	}
	for i := range n.kids {
		n.kids[i].measure()
	}
}

func compileNode(v any, r *reporter, at string) tnode {
	switch x := v.(type) {
	case *value.Object:
		n := tnode{kind: nodeObject, keys: make([]string, 0, x.Len()), kids: make([]tnode, 0, x.Len())}
		dynamic := false
		seen := make(map[string]bool, x.Len())
		for i := 0; i < x.Len(); i++ {
			k, kv := x.At(i)
			var kid tnode
			out := k
			if strings.HasSuffix(k, ".$") {
				out = k[:len(k)-2]
				kid = compileExprNode(k, kv, r, at)
				dynamic = true
			} else {
				kid = compileNode(kv, r, loc(at, k))
				if kid.kind != nodeLiteral {
					dynamic = true
				}
			}
			if seen[out] && r != nil {
				r.schema(at, "The field '"+out+"' is defined more than once")
			}
			seen[out] = true
			n.keys = append(n.keys, out)
			n.kids = append(n.kids, kid)
		}
		if !dynamic {
			return tnode{kind: nodeLiteral, lit: literalOf(&n)}
		}
		return n
	case []any:
		n := tnode{kind: nodeArray, kids: make([]tnode, len(x))}
		dynamic := false
		for i, e := range x {
			n.kids[i] = compileNode(e, r, locIdx(at, i))
			if n.kids[i].kind != nodeLiteral {
				dynamic = true
			}
		}
		if !dynamic {
			return tnode{kind: nodeLiteral, lit: literalOf(&n)}
		}
		return n
	}
	return tnode{kind: nodeLiteral, lit: v}
}

// literalOf builds the constant value of a node whose children are all
// literals (keys already stripped of ".$" cannot occur here).
func literalOf(n *tnode) any {
	switch n.kind {
	case nodeObject:
		o := value.NewObject(len(n.keys))
		for i, k := range n.keys {
			o.Set(k, n.kids[i].lit)
		}
		return o
	case nodeArray:
		a := make([]any, len(n.kids))
		for i := range n.kids {
			a[i] = n.kids[i].lit
		}
		return a
	}
	return n.lit
}

// compileExprNode compiles the value of a key ending in ".$": a path or an
// intrinsic call.
func compileExprNode(key string, v any, r *reporter, at string) tnode {
	n := tnode{kind: nodeExpr, field: key}
	s, ok := v.(string)
	if !ok {
		if r != nil {
			r.schema(at, "The value for the field '"+key+"' must be a STRING that contains a JSONPath but was "+typeArticle(v))
		}
		n.kind = nodeLiteral
		n.lit = v
		return n
	}
	e, err := compileExpr(s)
	if err != nil {
		if r != nil {
			r.schema(at, "The value for the field '"+key+"' must be a valid JSONPath or a valid intrinsic function call")
		}
		n.kind = nodeLiteral
		n.lit = v
		return n
	}
	n.expr = *e
	return n
}

// typeArticle names a JSON type with its article, as AWS's messages do.
func typeArticle(v any) string {
	switch v.(type) {
	case nil:
		return "a NULL"
	case bool:
		return "a BOOLEAN"
	case string:
		return "a STRING"
	case []any:
		return "an ARRAY"
	case *value.Object:
		return "an OBJECT"
	}
	return "a NUMBER"
}

// errNotExpr is returned by compileExpr for text that is neither a path nor
// an intrinsic call.
var errNotExpr = errors.New("not a path or an intrinsic function call")

// compileExpr compiles a path ("$…", "$$…", "$var…") or an intrinsic call.
func compileExpr(s string) (*Expr, error) {
	if jsonpath.IsPath(s) {
		p, err := jsonpath.Compile(s)
		if err != nil {
			return nil, err
		}
		return &Expr{Path: p}, nil
	}
	if intrinsic.IsIntrinsic(s) {
		c, err := intrinsic.Parse(s)
		if err != nil {
			return nil, err
		}
		return &Expr{Call: c}, nil
	}
	return nil, errNotExpr
}

// String returns the expression as written.
func (e *Expr) String() string {
	switch {
	case e == nil:
		return ""
	case e.Path != nil:
		return e.Path.String()
	case e.Call != nil:
		return e.Call.String()
	}
	return ""
}

// Eval builds the template's output. Failures are *fault.Error with AWS's
// error names and cause texts (States.Runtime for a path that selects
// nothing, prefixed with the state's name when Env names one).
func (t *Template) Eval(env *Env) (any, error) {
	v, _, err := t.eval(env, env.MaxBytes, 0)
	return v, err
}

// Fresh reports whether each Eval of the template builds a new object at
// its top (the template is an object with a field ending in ".$", at any
// depth), which the caller then holds alone; its members may be shared.
// Otherwise Eval may return a value shared with the definition or the
// input.
func (t *Template) Fresh() bool { return t != nil && t.root.kind == nodeObject }

// EvalRoom is Eval, except that the new object a Fresh template builds
// has room for room more members, which its only holder may then set in
// place (value.Object.SetWithin). size is the length of the output's
// JSON text as value.SizeWithin counts it.
func (t *Template) EvalRoom(env *Env, room int) (v any, size int, err error) {
	return t.eval(env, env.MaxBytes, room)
}

// eval builds the template's output and the length of its JSON text, held
// to limit bytes when limit is positive, with room more members in the
// object at its top.
func (t *Template) eval(env *Env, limit, room int) (any, int, error) {
	if t == nil {
		return nil, 0, nil
	}
	if limit <= 0 {
		limit = math.MaxInt
	}
	size := 0
	var v any
	var err error
	if room > 0 && t.root.kind == nodeObject {
		if size = t.root.fixed; size > limit {
			return nil, 0, env.dataLimit()
		}
		v, err = t.root.object(env, &size, limit, room)
	} else {
		v, err = t.root.eval(env, &size, limit)
	}
	return v, size, err
}

// eval builds the node's output, adding the length of its JSON text to
// *size; past limit it fails with States.DataLimitExceeded.
func (n *tnode) eval(env *Env, size *int, limit int) (any, error) {
	switch n.kind {
	case nodeLiteral:
		if *size += n.fixed; *size > limit {
			return nil, env.dataLimit()
		}
		return n.lit, nil
	case nodeExpr:
		v, err := n.expr.evalField(env, n.field)
		if err != nil {
			return nil, err
		}
		if !value.SizeWithin(v, size, limit) {
			return nil, env.dataLimit()
		}
		return v, nil
	}
	if *size += n.fixed; *size > limit {
		return nil, env.dataLimit()
	}
	if n.kind == nodeArray {
		a := make([]any, len(n.kids))
		for i := range n.kids {
			v, err := n.kids[i].eval(env, size, limit)
			if err != nil {
				return nil, err
			}
			a[i] = v
		}
		return a, nil
	}
	return n.object(env, size, limit, 0)
}

// object builds the output of a nodeObject, with room more members; its
// fixed part is already counted in *size.
func (n *tnode) object(env *Env, size *int, limit, room int) (any, error) {
	o := value.NewObject(len(n.keys) + room)
	for i := range n.kids {
		v, err := n.kids[i].eval(env, size, limit)
		if err != nil {
			return nil, err
		}
		o.Set(n.keys[i], v)
	}
	return o, nil
}

// dataLimit is AWS's failure of a state whose template builds a value past
// the payload limit.
func (env *Env) dataLimit() error {
	return fault.New(fault.DataLimitExceeded, "The state/task '"+env.StateName+
		"' returned a result with a size exceeding the maximum number of bytes service limit.")
}

// evalField evaluates the expression of a field named field (used in AWS's
// error texts).
func (e *Expr) evalField(env *Env, field string) (any, error) {
	if e.Path != nil {
		return env.resolveField(e.Path, field)
	}
	if e.Call != nil {
		v, err := e.Call.Eval(env)
		if err != nil {
			return nil, env.callError(err, field)
		}
		return v, nil
	}
	return nil, nil
}

// callError converts an error of an intrinsic call: path failures are
// reported like template paths, function failures get the state prefix.
func (env *Env) callError(err error, field string) error {
	if pm, ok := err.(*pathMissError); ok {
		return env.notFound(pm.path, field)
	}
	return env.withPrefix(err)
}

// Eval evaluates a path or intrinsic field (Fail's ErrorPath/CausePath)
// against env.
func (e *Expr) Eval(env *Env) (any, error) {
	if e == nil {
		return nil, nil
	}
	return e.evalField(env, e.field)
}
