package asl

import (
	"strings"

	"github.com/stepwell/stepwell/value"
)

// Reads tells what states may read at run time besides their input. Load
// computes it once per state (State.Reads: that state's own fields) and
// per machine (StateMachine.Reads: every state, nested ones included), so
// that the engine never searches definition text while it runs. It errs
// on the side of reading: a field that might read something counts.
type Reads struct {
	// Context: the Context object may be read: a "$$" path, template or
	// intrinsic argument (any string of the state containing "$$"), or a
	// task that hands out a task token (.waitForTaskToken, activities).
	Context bool
	// Variables: variables may be read or written: an Assign field, or a
	// string referring to a variable ("$name").
	Variables bool
	// JSONata: the state uses the JSONata query language (for a machine:
	// some state does).
	JSONata bool
}

// union is what either r or o reads.
func (r Reads) union(o Reads) Reads {
	return Reads{Context: r.Context || o.Context, Variables: r.Variables || o.Variables, JSONata: r.JSONata || o.JSONata}
}

// nestedKeys are the state fields holding nested state machines, whose
// states have their own Reads.
var nestedKeys = map[string]bool{"Branches": true, "ItemProcessor": true, "Iterator": true}

// computeReads fills in Reads for sm, its states and every nested machine.
func computeReads(sm *StateMachine) Reads {
	if sm == nil {
		return Reads{}
	}
	var all Reads
	for _, st := range sm.States {
		st.Reads = stateReads(st)
		all = all.union(st.Reads)
		for _, b := range st.Branches {
			all = all.union(computeReads(b))
		}
		all = all.union(computeReads(st.ItemProcessor))
	}
	sm.Reads = all
	return all
}

// stateReads is what st's own fields read.
func stateReads(st *State) Reads {
	r := Reads{JSONata: st.QueryLanguage == JSONata}
	if st.Type == TypeTask && (strings.Contains(st.Resource, "waitForTaskToken") || strings.Contains(st.Resource, ":activity:")) {
		r.Context = true
	}
	if st.Assign != nil {
		r.Variables = true
	}
	for _, c := range st.Choices {
		r.Variables = r.Variables || c.Assign != nil
	}
	for _, c := range st.Catch {
		r.Variables = r.Variables || c.Assign != nil
	}
	if st.Raw == nil {
		return r
	}
	for i := 0; i < st.Raw.Len(); i++ {
		k, v := st.Raw.At(i)
		if nestedKeys[k] {
			continue
		}
		scanReads(k, &r)
		walkStrings(v, &r)
	}
	return r
}

// walkStrings scans every string of v, object keys included.
func walkStrings(v any, r *Reads) {
	switch x := v.(type) {
	case string:
		scanReads(x, r)
	case []any:
		for _, e := range x {
			walkStrings(e, r)
		}
	case *value.Object:
		for i := 0; i < x.Len(); i++ {
			k, e := x.At(i)
			scanReads(k, r)
			walkStrings(e, r)
		}
	}
}

// scanReads notes in s a "$$" or a "$states" other than its input,
// result and error output (the Context object), or a "$" followed by a
// name (a variable; "$states" and a function called, "$sum(", are none).
func scanReads(s string, r *Reads) {
	for i := strings.IndexByte(s, '$'); i >= 0 && i+1 < len(s); {
		switch c := s[i+1]; {
		case c == '$':
			r.Context = true
			i += 2
		case strings.HasPrefix(s[i+1:], "states"):
			// $states.input, .result and .errorOutput are not the
			// Context object; anything else ($states.context,
			// $states["context"], $states) may read it.
			rest := s[i+7:]
			if !strings.HasPrefix(rest, ".input") && !strings.HasPrefix(rest, ".result") && !strings.HasPrefix(rest, ".errorOutput") {
				r.Context = true
			}
			i += 7
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80:
			// A name followed by "(" calls a JSONata function ($sum(…)).
			j := i + 1
			for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9' || s[j] >= 0x80) {
				j++
			}
			if j >= len(s) || s[j] != '(' {
				r.Variables = true
			}
			i = j
		default:
			i++
		}
		j := strings.IndexByte(s[i:], '$')
		if j < 0 {
			return
		}
		i += j
	}
}
