package asl

import "github.com/stepwell/stepwell/jsonata"

// This file compiles the JSONata fields of a Distributed Map's ItemReader
// and ResultWriter (Arguments, ReaderConfig.MaxItems) for the engine. Their
// malformed expressions are reported by the JSONata string check of the
// whole definition, so compiling them here adds no diagnostic.

// distQuery compiles v (a field's JSONata-mode value) as the field named
// field; nil when v does not compile.
func distQuery(v any, field string) *Query {
	t, err := jsonata.CompileTemplate(v)
	if err != nil {
		return nil
	}
	q := &Query{tmpl: t, field: field}
	q.src, _ = exprText(v)
	return q
}
