package asl

import (
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/jsonpath"
	"github.com/stepwell/stepwell/value"
)

// doc returns the document a path is applied to: the input for "$", the
// Context object for "$$", a variable's value for "$name". ok is false for
// an unknown variable.
func (e *Env) doc(p *jsonpath.Path) (v any, ok bool) {
	switch p.Root() {
	case jsonpath.RootContext:
		return e.Context, true
	case jsonpath.RootVariable:
		if e.Vars == nil {
			return nil, false
		}
		return e.Vars.Var(p.VarName())
	}
	return e.Input, true
}

// Resolve evaluates p against the environment. It makes *Env an
// intrinsic.Resolver. A path that selects nothing returns an error whose
// text is Jayway's (the jsonpath package's *NotFoundError message).
func (e *Env) Resolve(p *jsonpath.Path) (any, error) {
	d, ok := e.doc(p)
	if !ok {
		return nil, e.fail(fault.Runtime, "The variable '"+p.VarName()+"' is not defined.")
	}
	v, err := p.Get(d)
	if err != nil {
		return nil, &pathMissError{path: p, err: err}
	}
	return v, nil
}

// pathMissError is a path that selected nothing while an intrinsic call
// was evaluated; the template turns it into AWS's field error.
type pathMissError struct {
	path *jsonpath.Path
	err  error
}

func (e *pathMissError) Error() string { return e.err.Error() }
func (e *pathMissError) Unwrap() error { return e.err }

// prefix is the text AWS puts before a runtime cause raised while a state
// runs; empty when the Env names no state.
func (e *Env) prefix() string {
	if e == nil || e.StateName == "" {
		return ""
	}
	return "An error occurred while executing the state '" + e.StateName +
		"' (entered at the event id #" + itoa(e.EnteredEventID) + "). "
}

// fail builds a runtime error whose cause carries the state prefix.
func (e *Env) fail(name, cause string) *fault.Error {
	return fault.New(name, e.prefix()+cause)
}

// withPrefix adds the state prefix to a *fault.Error that lacks it (for
// example one raised by an intrinsic function); other errors pass through.
func (e *Env) withPrefix(err error) error {
	fe, ok := fault.As(err)
	if !ok {
		return err
	}
	p := e.prefix()
	if p == "" || !fe.HasCause || hasPrefix(fe.Cause, "An error occurred while executing the state ") {
		return err
	}
	return &fault.Error{Name: fe.Name, Cause: p + fe.Cause, HasName: fe.HasName, HasCause: true}
}

// notFound is AWS's error for a path field that selects nothing:
// "The JSONPath '<p>' specified for the field '<f>' could not be found in the
// input '<json>'". The input shown is the document the path was applied to.
func (e *Env) notFound(p *jsonpath.Path, field string) error {
	d, _ := e.doc(p)
	return e.fail(fault.Runtime, "The JSONPath '"+p.String()+"' specified for the field '"+field+
		"' could not be found in the input '"+value.String(d)+"'")
}

// resolveField evaluates a path for a named field, turning "selects
// nothing" into AWS's notFound error.
func (e *Env) resolveField(p *jsonpath.Path, field string) (any, error) {
	d, ok := e.doc(p)
	if !ok {
		return nil, e.fail(fault.Runtime, "The variable '"+p.VarName()+"' is not defined.")
	}
	v, err := p.Get(d)
	if err != nil {
		if _, isFault := fault.As(err); isFault {
			return nil, e.withPrefix(err)
		}
		return nil, e.notFound(p, field)
	}
	return v, nil
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	u := uint64(n)
	if neg {
		u = uint64(-n)
	}
	for u > 0 {
		i--
		b[i] = byte('0' + u%10)
		u /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
