package jsonpath

import (
	"strconv"

	"github.com/stepwell/stepwell/value"
)

// SetError reports that a ResultPath cannot be applied to a document (AWS:
// States.ResultPathMatchFailure).
type SetError struct {
	Path string // the path as written
	Msg  string
}

func (e *SetError) Error() string {
	return "cannot apply path " + e.Path + ": " + e.Msg
}

// Set returns a new document with v placed at the path (ResultPath
// semantics). The containers along the path are copied and doc is left
// untouched; missing objects along the path are created. "$" returns v.
// An existing key keeps its position; a new key is appended.
//
// Set fails for a name applied to something that is not an object, an index
// applied to something that is not an array or beyond its end, an index
// under a missing member, and for paths that are not definite input paths
// made of names and single indexes.
func (p *Path) Set(doc any, v any) (any, error) {
	if p.root != RootInput {
		return nil, &SetError{Path: p.text, Msg: "only paths on the input ($…) can be assigned"}
	}
	if !p.simple {
		return nil, &SetError{Path: p.text, Msg: "only names and single array indexes can be assigned"}
	}
	return p.setAt(0, doc, true, v)
}

// setAt returns node (present tells whether it exists) with segments i… set
// to v.
func (p *Path) setAt(i int, node any, present bool, v any) (any, error) {
	if i == len(p.segs) {
		return v, nil
	}
	s := &p.segs[i]
	switch s.kind {
	case segName:
		var o *value.Object
		if present {
			var ok bool
			if o, ok = node.(*value.Object); !ok {
				return nil, &SetError{Path: p.text, Msg: "the value at " + p.jaywayPath(i) + " is " + describe(node) + ", not an object"}
			}
		}
		child, ok := o.Get(s.name)
		nv, err := p.setAt(i+1, child, ok, v)
		if err != nil {
			return nil, err
		}
		return o.With(s.name, nv), nil
	case segIndex:
		if !present {
			return nil, &SetError{Path: p.text, Msg: "the array at " + p.jaywayPath(i) + " does not exist"}
		}
		a, ok := node.([]any)
		if !ok {
			return nil, &SetError{Path: p.text, Msg: "the value at " + p.jaywayPath(i) + " is " + describe(node) + ", not an array"}
		}
		idx := s.index
		if idx < 0 {
			idx += len(a)
		}
		if idx < 0 || idx >= len(a) {
			return nil, &SetError{Path: p.text, Msg: "index " + strconv.Itoa(s.index) + " is out of bounds for the array at " + p.jaywayPath(i)}
		}
		nv, err := p.setAt(i+1, a[idx], true, v)
		if err != nil {
			return nil, err
		}
		c := make([]any, len(a))
		copy(c, a)
		c[idx] = nv
		return c, nil
	}
	return nil, &SetError{Path: p.text, Msg: "only names and single array indexes can be assigned"}
}

func describe(v any) string {
	if v == nil {
		return "null"
	}
	return "a " + value.TypeName(v)
}
