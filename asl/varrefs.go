package asl

import (
	"strings"

	"github.com/stepwell/stepwell/jsonata"
	"github.com/stepwell/stepwell/value"
)

// VariableReferences is what DescribeStateMachine shows as
// variableReferences: for each state that reads workflow variables (nested
// states included), their names in the order they first appear in the
// state's fields. States that read none are absent; nil when none does.
//
// In a JSONPath state, a variable is read by a path that starts with
// $name (the value of a "….$" member, or of a path field such as
// InputPath, Variable or SecondsPath; ResultPath writes) or by an
// intrinsic function's argument; in a JSONata state, by an expression
// (jsonata.Expr.Variables).
func (sm *StateMachine) VariableReferences() map[string][]string {
	var refs map[string][]string
	var walk func(m *StateMachine)
	walk = func(m *StateMachine) {
		if m == nil {
			return
		}
		for _, name := range m.Order {
			st := m.States[name]
			if st == nil {
				continue
			}
			if names := stateVariables(st); len(names) > 0 {
				if refs == nil {
					refs = map[string][]string{}
				}
				refs[name] = names
			}
			for _, b := range st.Branches {
				walk(b)
			}
			walk(st.ItemProcessor)
		}
	}
	walk(sm)
	return refs
}

// stateVariables lists the variables st's own fields read.
func stateVariables(st *State) []string {
	if st.Raw == nil {
		return nil
	}
	c := varCollector{jsonata: st.QueryLanguage == JSONata, seen: map[string]bool{}}
	for i := 0; i < st.Raw.Len(); i++ {
		k, v := st.Raw.At(i)
		if nestedKeys[k] {
			continue
		}
		c.member(k, v)
	}
	return c.names
}

type varCollector struct {
	jsonata bool
	seen    map[string]bool
	names   []string
}

func (c *varCollector) add(name string) {
	if name != "" && !c.seen[name] {
		c.seen[name] = true
		c.names = append(c.names, name)
	}
}

// member collects from the value v of the member named k.
func (c *varCollector) member(k string, v any) {
	if s, ok := v.(string); ok && !c.jsonata && k != "ResultPath" &&
		(strings.HasSuffix(k, ".$") || strings.HasSuffix(k, "Path") || k == "Variable") {
		c.path(s)
		return
	}
	c.value(v)
}

// value collects from a field's value: the members of an object, the
// elements of an array, a JSONata expression.
func (c *varCollector) value(v any) {
	switch x := v.(type) {
	case string:
		if !c.jsonata {
			return
		}
		if inner, ok := jsonata.IsExpression(x); ok {
			if e, err := jsonata.Compile(inner); err == nil {
				for _, n := range e.Variables() {
					c.add(n)
				}
			}
		}
	case []any:
		for _, e := range x {
			c.value(e)
		}
	case *value.Object:
		for i := 0; i < x.Len(); i++ {
			k, e := x.At(i)
			c.member(k, e)
		}
	}
}

// path collects from a JSONPath path ($name…) or intrinsic function call
// (the $name… arguments, quoted strings skipped).
func (c *varCollector) path(s string) {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '\\' && quoted:
			i++
		case ch == '\'':
			quoted = !quoted
		case ch == '$' && !quoted:
			j := i + 1
			for j < len(s) && isVarByte(s[j]) {
				j++
			}
			if j > i+1 && !isDigit(s[i+1]) {
				c.add(s[i+1 : j])
			}
			i = j - 1
		}
	}
}

func isVarByte(b byte) bool {
	return b == '_' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b >= 0x80
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }
