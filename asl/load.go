package asl

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/stepwell/stepwell/jsonpath"
	"github.com/stepwell/stepwell/value"
)

// Load parses, validates and compiles a definition. It returns
// *DefinitionError when the definition is invalid: exactly when Validate
// reports at least one ERROR.
func Load(definition []byte, opts Options) (*StateMachine, error) {
	sm, r := load(definition, opts)
	if r.hasErrors() {
		return nil, &DefinitionError{Diagnostics: r.errors()}
	}
	sm.Definition = string(definition)
	computeReads(sm)
	return sm, nil
}

// Validate returns every problem found in the definition (errors and
// warnings), as ValidateStateMachineDefinition does.
func Validate(definition []byte, opts Options) []Diagnostic {
	_, r := load(definition, opts)
	return r.diags
}

// Diagnostics is Validate.
func Diagnostics(definition []byte, opts Options) []Diagnostic { return Validate(definition, opts) }

// loader walks a parsed definition, building the model and reporting
// problems.
type loader struct {
	reporter
	opts   Options
	topQL  QueryLanguage
	names  map[string]bool // every state name, all scopes
	labels map[string]bool // Map Labels
	// jsonataNodes counts the compiled JSONata's nodes (limits.go).
	jsonataNodes  int
	jsonataTooBig bool
}

func load(def []byte, opts Options) (*StateMachine, *loader) {
	defer enterGate(len(def))() // limits.go
	l := &loader{opts: opts, topQL: JSONPath, names: map[string]bool{}, labels: map[string]bool{}}
	if len(bytes.TrimSpace(def)) == 0 {
		l.schema("", "Definition must be a valid JSON object")
		return nil, l
	}
	v, err := value.Parse(def)
	if err != nil {
		var se *value.SyntaxError
		if errors.As(err, &se) {
			msg, line, col := jacksonMessage(def, se)
			where := jsonLocation(def, line, col)
			l.add(SeverityError, CodeInvalidJSON, where, msg+"\n at "+where)
		} else {
			l.add(SeverityError, CodeInvalidJSON, "", err.Error())
		}
		return nil, l
	}
	o, ok := v.(*value.Object)
	if !ok {
		l.schema("", "Definition must be a valid JSON object")
		return nil, l
	}
	sm := l.machine(o, "/", scopeTop)
	return sm, l
}

// scope kinds of a (nested) state machine.
const (
	scopeTop = iota
	scopeBranch
	scopeProcessor
)

// machine loads a top-level or nested state machine at location at.
func (l *loader) machine(o *value.Object, at string, kind int) *StateMachine {
	sm := &StateMachine{QueryLanguage: JSONPath, States: map[string]*State{}}
	allowed := map[string]bool{"StartAt": true, "States": true, "Comment": true, "QueryLanguage": kind == scopeTop}
	if kind == scopeTop {
		allowed["Version"] = true
		allowed["TimeoutSeconds"] = true
	}
	if kind == scopeProcessor {
		allowed["ProcessorConfig"] = true
	}
	l.required(o, at, "States", "StartAt")
	l.unknownFields(o, at, func(k string) bool { return allowed[k] })

	sm.Comment = l.str(o, at, "Comment")
	// Nested machines cannot set QueryLanguage: their states inherit the
	// top level's, whatever the enclosing Parallel or Map uses.
	if kind == scopeTop {
		if ql, ok := l.queryLanguage(o, at); ok {
			l.topQL = ql
		}
	}
	sm.QueryLanguage = l.topQL
	if kind == scopeTop {
		if v, ok := o.Get("Version"); ok {
			if s, isStr := v.(string); !isStr || s != "1.0" {
				l.schema(loc(at, "Version"), "The value for the field 'Version' must be '1.0'")
			}
			sm.Version, _ = v.(string)
		}
		sm.TimeoutSeconds = l.intField(o, at, "TimeoutSeconds", 0, 99999999)
	}
	sm.StartAt = l.str(o, at, "StartAt")
	if v, ok := o.Get("StartAt"); ok {
		_, sm.hasStartAt = v.(string)
	}

	statesV, ok := o.Get("States")
	if !ok {
		return sm
	}
	statesAt := loc(at, "States")
	states, ok := statesV.(*value.Object)
	if !ok {
		l.schema(statesAt, "Expected value of type [OBJECT]")
		return sm
	}
	for i := 0; i < states.Len(); i++ {
		name, sv := states.At(i)
		sat := loc(statesAt, name)
		so, ok := sv.(*value.Object)
		if !ok {
			l.schema(sat, "Expected value of type [OBJECT]")
			continue
		}
		if l.names[name] {
			l.add(SeverityError, CodeDuplicateState, sat, "Duplicate State name: "+name)
		}
		l.names[name] = true
		if utf8.RuneCountInString(name) > 80 {
			l.add(SeverityError, CodeInvalidStateName, sat, "State name must be at most 80 characters long")
		}
		st := l.state(name, so, sat, sm.QueryLanguage)
		sm.States[name] = st
		sm.Order = append(sm.Order, name)
	}
	l.transitions(sm, at, statesAt, kind == scopeTop)
	return sm
}

// transitions checks that every target exists in this scope and that
// every state is reachable from StartAt; at the top level, that the
// workflow has a terminal state.
func (l *loader) transitions(sm *StateMachine, at, statesAt string, top bool) {
	type edge struct {
		target, where string
	}
	edgesOf := func(st *State, sat string) []edge {
		var es []edge
		st.Transitions(func(target, field string, i int) bool {
			where := loc(sat, field)
			if i >= 0 {
				where = loc(locIdx(where, i), "Next")
			}
			es = append(es, edge{target, where})
			return true
		})
		return es
	}
	// AWS words every dangling target, StartAt and Default included, as a
	// 'Next' target.
	missing := func(e edge) {
		l.add(SeverityError, CodeMissingTransition, e.where, "Missing 'Next' target: "+e.target)
	}
	_, startOK := sm.States[sm.StartAt]
	if !startOK && sm.hasStartAt {
		missing(edge{sm.StartAt, loc(at, "StartAt")})
	}
	for _, name := range sm.Order {
		for _, e := range edgesOf(sm.States[name], loc(statesAt, name)) {
			if _, ok := sm.States[e.target]; !ok {
				missing(e)
			}
		}
	}
	terminal, typed := false, true
	for _, name := range sm.Order {
		st := sm.States[name]
		if st.End || st.Type == TypeSucceed || st.Type == TypeFail {
			terminal = true
		}
		typed = typed && st.Type != ""
	}
	if top && !terminal && typed && len(sm.Order) > 0 {
		// Any terminal state satisfies AWS, reachable or not; without one,
		// AWS reports this instead of unreachable states.
		l.add(SeverityError, CodeMissingEnd, "", "Workflow has no terminal state")
		return
	}
	if !sm.hasStartAt {
		return // reported as a missing field
	}
	seen := map[string]bool{}
	if _, ok := sm.States[sm.StartAt]; ok {
		stack := []string{sm.StartAt}
		seen[sm.StartAt] = true
		for len(stack) > 0 {
			n := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, e := range edgesOf(sm.States[n], "") {
				if _, ok := sm.States[e.target]; ok && !seen[e.target] {
					seen[e.target] = true
					stack = append(stack, e.target)
				}
			}
		}
	}
	for _, name := range sm.Order {
		if !seen[name] {
			l.add(SeverityError, CodeMissingTransition, loc(statesAt, name), "State \""+name+"\" is not reachable.")
		}
	}
}

// required reports the missing members of o among names, in that order.
func (l *loader) required(o *value.Object, at string, names ...string) bool {
	var miss []string
	for _, n := range names {
		if !o.Has(n) {
			miss = append(miss, n)
		}
	}
	if len(miss) > 0 {
		l.schema(at, "These fields are required: ["+strings.Join(miss, ", ")+"]")
		return false
	}
	return true
}

// unknownFields reports every member of o that ok rejects.
func (l *loader) unknownFields(o *value.Object, at string, ok func(string) bool) {
	for _, k := range o.Keys() {
		if !ok(k) {
			l.schema(at, notSupported(k))
		}
	}
}

// queryLanguage reads a QueryLanguage member and reports a bad value.
func (l *loader) queryLanguage(o *value.Object, at string) (QueryLanguage, bool) {
	ql, ok, problem := queryLanguageOf(o)
	if problem != "" {
		l.schema(loc(at, "QueryLanguage"), problem)
	}
	return ql, ok
}

// queryLanguageOf resolves a QueryLanguage member as AWS does: anything but
// the exact string "JSONPath" means JSONata. problem is the diagnostic for
// a value outside the enumeration.
func queryLanguageOf(o *value.Object) (ql QueryLanguage, present bool, problem string) {
	v, ok := o.Get("QueryLanguage")
	if !ok {
		return "", false, ""
	}
	s, isStr := v.(string)
	switch {
	case !isStr:
		problem = "Expected value of type [STRING]"
	case s == string(JSONPath):
		return JSONPath, true, ""
	case s != string(JSONata):
		problem = oneOf("[JSONPath, JSONata]")
	}
	return JSONata, true, problem
}

// str reads an optional string member; a wrong type is reported.
func (l *loader) str(o *value.Object, at, key string) string {
	v, ok := o.Get(key)
	if !ok {
		return ""
	}
	s, isStr := v.(string)
	if !isStr {
		l.schema(loc(at, key), "Expected value of type [STRING]")
	}
	return s
}

// intField reads an optional integer member within [min, max].
func (l *loader) intField(o *value.Object, at, key string, min, max int64) *int64 {
	v, ok := o.Get(key)
	if !ok {
		return nil
	}
	n, isInt := asInt(v)
	if !isInt {
		l.schema(loc(at, key), "Expected value of type [INTEGER]")
		return nil
	}
	if n < min || n > max {
		if n < min {
			l.schema(loc(at, key), "Minimum value is "+itoa(min))
		} else {
			l.schema(loc(at, key), "Maximum value is "+itoa(max))
		}
	}
	return &n
}

// asInt converts an integral JSON number to int64.
func asInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case float64:
		if n == math.Trunc(n) && n >= -9.2e18 && n <= 9.2e18 {
			return int64(n), true
		}
	}
	return 0, false
}

// isJSONata reports whether s is a JSONata expression string "{% … %}".
func isJSONata(v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	s = strings.TrimSpace(s)
	return strings.HasPrefix(s, "{%") && strings.HasSuffix(s, "%}") && len(s) >= 4
}

// path compiles an InputPath/OutputPath-style field (null allowed).
func (l *loader) pathField(o *value.Object, at, key string, reference bool) *PathField {
	v, ok := o.Get(key)
	if !ok {
		return nil
	}
	if v == nil {
		return &PathField{}
	}
	s, isStr := v.(string)
	if !isStr {
		l.schema(loc(at, key), "Expected value of type [STRING]")
		return nil
	}
	var p *jsonpath.Path
	var err error
	if reference {
		p, err = jsonpath.CompileReference(s)
		if err == nil && p.Root() != jsonpath.RootInput {
			err = errNotExpr
		}
	} else {
		p, err = jsonpath.Compile(s)
	}
	if err != nil {
		l.schema(loc(at, key), "The value for the field '"+key+"' must be a valid JSONPath")
		return nil
	}
	return &PathField{Path: p}
}

// refPath compiles a Reference Path field such as ItemsPath or SecondsPath.
func (l *loader) refPath(o *value.Object, at, key string) *jsonpath.Path {
	v, ok := o.Get(key)
	if !ok {
		return nil
	}
	s, isStr := v.(string)
	if !isStr {
		l.schema(loc(at, key), "Expected value of type [STRING]")
		return nil
	}
	p, err := jsonpath.CompileReference(s)
	if err != nil {
		l.schema(loc(at, key), "The value for the field '"+key+"' must be a valid ReferencePath")
		return nil
	}
	return p
}

// template compiles a payload-template member. mustBeObject is set for
// fields whose template must be a JSON object.
func (l *loader) template(o *value.Object, at, key string, mustBeObject bool) *Template {
	v, ok := o.Get(key)
	if !ok {
		return nil
	}
	if _, isObj := v.(*value.Object); !isObj && mustBeObject {
		l.schema(loc(at, key), "Expected value of type [OBJECT]")
	}
	return compileTemplate(v, &l.reporter, loc(at, key))
}

// assign compiles an Assign member: a payload template in JSONPath mode,
// a Query in JSONata mode (reads is what of $states it may read).
func (l *loader) assign(o *value.Object, at string, ql QueryLanguage, reads int) *Assign {
	v, ok := o.Get("Assign")
	if !ok {
		return nil
	}
	aat := loc(at, "Assign")
	obj, isObj := v.(*value.Object)
	if !isObj {
		l.schema(aat, "Expected value of type [OBJECT]")
		return nil
	}
	for _, k := range obj.Keys() {
		name := k
		if ql == JSONPath {
			name = strings.TrimSuffix(k, ".$")
		}
		if !validVarName(name) {
			l.schema(aat, "The variable name '"+name+"' is not valid")
		}
	}
	if ql == JSONata {
		return &Assign{Query: l.query(v, "Assign", aat, reads)}
	}
	return &Assign{Template: compileTemplate(v, &l.reporter, aat)}
}

// validVarName reports whether s can name a variable: a letter or '_'
// followed by letters, digits and '_', at most 80 characters.
func validVarName(s string) bool {
	if s == "" || utf8.RuneCountInString(s) > 80 {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r > 127:
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
