package jsonata

import (
	"sort"

	"github.com/stepwell/stepwell/jsonata/internal/gnata/parser"
)

// Variables returns the workflow variables e may read: the names (without
// the $) of its variable references in the order they first appear in
// the source. Left out are $states, $ and $$, the functions of JSONata and
// of AWS, and the names e binds itself (with := or as a lambda's
// parameters), which are no workflow variables.
func (e *Expr) Variables() []string {
	if e.prog == nil || e.prog.ast == nil {
		return nil
	}
	type ref struct {
		name string
		pos  int
	}
	var refs []ref
	bound := map[string]bool{}
	_ = eachNode(e.prog.ast, func(n *parser.Node) error {
		switch n.Type {
		case parser.NodeBind:
			if n.Left != nil && n.Left.Type == parser.NodeVariable {
				bound[n.Left.Value] = true
			}
		case parser.NodeLambda:
			for _, a := range n.Arguments {
				if a != nil && a.Type == parser.NodeVariable {
					bound[a.Value] = true
				}
			}
		case parser.NodeVariable:
			refs = append(refs, ref{n.Value, n.Pos})
		}
		return nil
	})
	sort.SliceStable(refs, func(i, j int) bool { return refs[i].pos < refs[j].pos })
	var names []string
	seen := map[string]bool{}
	for _, r := range refs {
		if r.name == "" || r.name == "$" || r.name == "states" || bound[r.name] || seen[r.name] {
			continue
		}
		if _, fn := rootEnv.Lookup(r.name); fn {
			continue
		}
		seen[r.name] = true
		names = append(names, r.name)
	}
	return names
}
