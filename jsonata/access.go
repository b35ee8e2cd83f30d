package jsonata

import (
	"github.com/stepwell/stepwell/jsonata/internal/gnata/evaluator"
	"github.com/stepwell/stepwell/jsonata/internal/gnata/parser"
	"github.com/stepwell/stepwell/value"
)

// access is what an expression reads of a variable ($states or a workflow
// variable), found at compile time: the paths of plain names that follow
// it. Only those parts are converted for the library; everything else is
// left out, which the expression cannot observe. A variable used in any
// other way (alone, as an argument, followed by a wildcard or a predicate
// on its first step) is converted whole, and so is every variable of an
// expression with the parent operator %, which can climb out of a path.
type access struct {
	full     bool               // the value here is read whole
	children map[string]*access // names read below it
}

func (a *access) add(steps []string) {
	for _, s := range steps {
		if a.full {
			return
		}
		if a.children == nil {
			a.children = map[string]*access{}
		}
		c := a.children[s]
		if c == nil {
			c = &access{}
			a.children[s] = c
		}
		a = c
	}
	a.full, a.children = true, nil
}

// child is what is read below name: (nil, true) when a is read whole,
// (nil, false) when nothing below name is read.
func (a *access) child(name string) (c *access, full bool) {
	if a == nil {
		return nil, false
	}
	if a.full {
		return nil, true
	}
	return a.children[name], false
}

// convertOr converts v whole when full (or a is nil), else the parts a reads.
func (a *access) convertOr(full bool, v any) any {
	if full || a == nil {
		return toLib(v)
	}
	return a.convert(v)
}

// convert converts the parts of v that a reads: an object keeps only the
// members read; anything else (an array, which the library maps a step
// over) is converted whole.
func (a *access) convert(v any) any {
	if a.full {
		return toLib(v)
	}
	o, ok := v.(*value.Object)
	if !ok {
		return toLib(v)
	}
	m := evaluator.NewOrderedMapWithCapacity(len(a.children))
	for name, c := range a.children {
		if mv, ok := o.Get(name); ok {
			m.Set(name, c.convert(mv))
		}
	}
	return m
}

// analyze finds what p reads of $states and of each variable.
func (p *program) analyze() {
	p.vars = map[string]*access{}
	whole := hasParent(p.ast)
	var walk func(n *parser.Node)
	read := func(name string, steps []string) {
		if name == "" { // $$ or $: the (absent) input document
			return
		}
		var a *access
		if name == "states" {
			if p.states == nil {
				p.states = &access{}
			}
			a = p.states
		} else {
			a = p.vars[name]
			if a == nil {
				a = &access{}
				p.vars[name] = a
			}
		}
		if whole {
			steps = nil
		}
		a.add(steps)
	}
	walk = func(n *parser.Node) {
		if n == nil {
			return
		}
		if n.Type == parser.NodePath && len(n.Steps) > 0 && n.Steps[0].Type == parser.NodeVariable && plainStep(n.Steps[0]) {
			var steps []string
			for _, s := range n.Steps[1:] {
				if s.Type == parser.NodeBinary && s.Value == "[" && s.Left != nil && s.Left.Type == parser.NodeName {
					steps = append(steps, s.Left.Value) // a predicate on a name: read the name's value whole
					break
				}
				if s.Type != parser.NodeName {
					break
				}
				steps = append(steps, s.Value)
				if !plainStep(s) {
					break
				}
			}
			read(n.Steps[0].Value, steps)
			for _, s := range n.Steps[1:] {
				walk(s)
			}
			walkGroup(n.Group, walk)
			return
		}
		if n.Type == parser.NodeVariable {
			read(n.Value, nil)
		}
		for _, c := range n.Steps {
			walk(c)
		}
		for _, c := range n.Expressions {
			walk(c)
		}
		for _, c := range n.LHS {
			walk(c)
		}
		for _, c := range n.Arguments {
			walk(c)
		}
		walk(n.Body)
		walk(n.Procedure)
		walk(n.Left)
		walk(n.Right)
		walk(n.Expression)
		walk(n.Condition)
		walk(n.Then)
		walk(n.Else)
		walk(n.Pattern)
		walk(n.Update)
		walk(n.Delete)
		for _, t := range n.Terms {
			walk(t.Expression)
		}
		for _, s := range n.Stages {
			walk(s.Expression)
		}
		walkGroup(n.Group, walk)
	}
	walk(p.ast)
}

func walkGroup(g *parser.GroupExpr, walk func(*parser.Node)) {
	if g == nil {
		return
	}
	for _, kv := range g.Pairs {
		walk(kv[0])
		walk(kv[1])
	}
}

// plainStep reports whether a path step reads nothing beyond its own value:
// no predicates, grouping, bindings or array flags.
func plainStep(s *parser.Node) bool {
	return len(s.Stages) == 0 && s.Group == nil && s.Focus == "" && s.Index == "" && !s.KeepArray && !s.Tuple && !s.ConsArray
}

// hasParent reports whether the expression uses the parent operator %.
func hasParent(n *parser.Node) bool {
	if n == nil {
		return false
	}
	if n.Type == parser.NodeParent || len(n.SeekingParent) > 0 || n.Slot != nil {
		return true
	}
	for _, list := range [][]*parser.Node{n.Steps, n.Expressions, n.LHS, n.Arguments} {
		for _, c := range list {
			if hasParent(c) {
				return true
			}
		}
	}
	for _, c := range []*parser.Node{n.Body, n.Procedure, n.Left, n.Right, n.Expression, n.Condition, n.Then, n.Else, n.Pattern, n.Update, n.Delete} {
		if hasParent(c) {
			return true
		}
	}
	for _, t := range n.Terms {
		if hasParent(t.Expression) {
			return true
		}
	}
	for _, s := range n.Stages {
		if hasParent(s.Expression) {
			return true
		}
	}
	if n.Group != nil {
		for _, kv := range n.Group.Pairs {
			if hasParent(kv[0]) || hasParent(kv[1]) {
				return true
			}
		}
	}
	return false
}

// eachNode calls f for n and every node below it, depth first.
func eachNode(n *parser.Node, f func(*parser.Node) error) error {
	if n == nil {
		return nil
	}
	if err := f(n); err != nil {
		return err
	}
	return eachChild(n, func(c *parser.Node) error { return eachNode(c, f) })
}

// eachChild calls f for each node directly below n.
func eachChild(n *parser.Node, f func(*parser.Node) error) error {
	var kids []*parser.Node
	kids = append(kids, n.Steps...)
	kids = append(kids, n.Expressions...)
	kids = append(kids, n.LHS...)
	kids = append(kids, n.Arguments...)
	kids = append(kids, n.Body, n.Procedure, n.Left, n.Right, n.Expression, n.Condition, n.Then, n.Else, n.Pattern, n.Update, n.Delete)
	for _, t := range n.Terms {
		kids = append(kids, t.Expression)
	}
	for _, s := range n.Stages {
		kids = append(kids, s.Expression)
	}
	if n.Group != nil {
		for _, kv := range n.Group.Pairs {
			kids = append(kids, kv[0], kv[1])
		}
	}
	for _, k := range kids {
		if k == nil {
			continue
		}
		if err := f(k); err != nil {
			return err
		}
	}
	return nil
}
