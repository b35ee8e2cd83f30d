package asl

import (
	"strings"

	"github.com/stepwell/stepwell/value"
)

// nestedMachineFields hold nested state machines, checked on their own.
var nestedMachineFields = map[string]bool{"Branches": true, "ItemProcessor": true, "Iterator": true, "Comment": true}

// jsonataStrings checks the strings of a JSONata state: one that opens an
// expression with "{%" must close it with "%}".
func (l *loader) jsonataStrings(o *value.Object, at string) {
	for i := 0; i < o.Len(); i++ {
		k, v := o.At(i)
		if !nestedMachineFields[k] {
			l.jsonataValue(v, loc(at, k))
		}
	}
}

func (l *loader) jsonataValue(v any, at string) {
	switch x := v.(type) {
	case string:
		if strings.HasPrefix(x, "{%") && (!strings.HasSuffix(x, "%}") || len(x) < 4) {
			l.schema(at, "JSONata string must start with {% and end with %}")
		}
	case []any:
		for i, e := range x {
			l.jsonataValue(e, locIdx(at, i))
		}
	case *value.Object:
		for i := 0; i < x.Len(); i++ {
			k, e := x.At(i)
			l.jsonataValue(e, loc(at, k))
		}
	}
}

// looksLikePath reports whether a literal string reads like a JSONPath or
// an intrinsic call that the author meant to evaluate.
func looksLikePath(s string) bool {
	if s == "$" || strings.HasPrefix(s, "$.") || strings.HasPrefix(s, "$[") || strings.HasPrefix(s, "$$.") {
		return true
	}
	return strings.HasPrefix(s, "States.") && strings.HasSuffix(s, ")") && strings.Contains(s, "(")
}

// noDollar warns about template members without ".$" whose value looks
// like a path or an intrinsic call (AWS's NO_DOLLAR warning).
func (l *loader) noDollar(v any, at string) {
	switch x := v.(type) {
	case []any:
		for i, e := range x {
			l.noDollar(e, locIdx(at, i))
		}
	case *value.Object:
		for i := 0; i < x.Len(); i++ {
			k, e := x.At(i)
			if strings.HasSuffix(k, ".$") {
				continue
			}
			if s, ok := e.(string); ok && looksLikePath(s) {
				l.add(SeverityWarning, CodeNoDollar, loc(at, k),
					"The value of the field '"+k+"' looks like a JSONPath or an intrinsic function, but the field name does not end with '.$'")
				continue
			}
			l.noDollar(e, loc(at, k))
		}
	}
}

// staticResult warns about ".$" keys in a Pass state's Result, which is
// never evaluated (AWS's PASS_RESULT_IS_STATIC warning).
func (l *loader) staticResult(v any, at string) {
	switch x := v.(type) {
	case []any:
		for i, e := range x {
			l.staticResult(e, locIdx(at, i))
		}
	case *value.Object:
		for i := 0; i < x.Len(); i++ {
			k, e := x.At(i)
			if strings.HasSuffix(k, ".$") {
				l.add(SeverityWarning, CodePassResultStatic, loc(at, k),
					"The Result of a Pass state is static: the field '"+k+"' is not evaluated as a path")
			}
			l.staticResult(e, loc(at, k))
		}
	}
}

// lintState adds the warnings and JSONata checks of one state.
func (l *loader) lintState(st *State, o *value.Object, at string) {
	if st.QueryLanguage == JSONata {
		l.jsonataStrings(o, at)
		return
	}
	for _, f := range []string{"Parameters", "ResultSelector", "ItemSelector", "Credentials", "Assign"} {
		if v, ok := o.Get(f); ok {
			l.noDollar(v, loc(at, f))
		}
	}
	if st.Type == TypePass && st.HasResult {
		l.staticResult(st.Result, loc(at, "Result"))
	}
	if st.Type == TypeFail {
		for _, f := range []string{"Error", "Cause"} {
			if v, ok := o.Get(f); ok {
				if s, isStr := v.(string); isStr && looksLikePath(s) {
					l.add(SeverityWarning, CodeNoPath, loc(at, f),
						"The value of the field '"+f+"' looks like a path, but the field name does not end with 'Path'")
				}
			}
		}
	}
}
