package asl

import (
	"strconv"

	"github.com/stepwell/stepwell/jsonata"
)

// Bounds on what compiling one definition may hold: a definition of at
// most 1 MB (AWS's limit) compiles to some 15 to 30 times its size, except
// JSONata, whose syntax trees take some 400 bytes a token: a 941 KB
// definition of JSONata sums held 378 MB and took 5 s to compile. Past
// MaxJSONataNodes nodes in all, a definition is invalid (a Stepwell limit,
// not AWS's); and the definitions larger than gatedDefinition compile two
// at a time, so that concurrent requests cannot multiply what they hold.
const (
	// MaxJSONataNodes is the most syntax-tree nodes the JSONata
	// expressions of one definition may have in all (about 20 MB).
	MaxJSONataNodes = 50_000
	// gatedDefinition is the size from which a definition waits for its
	// turn to compile (compileGate).
	gatedDefinition = 16 << 10
)

// compileGate admits two large definitions to compile at once.
var compileGate = make(chan struct{}, 2)

// enterGate waits for the turn of a definition of n bytes to compile and
// returns the function that ends it.
func enterGate(n int) (leave func()) {
	if n < gatedDefinition {
		return func() {}
	}
	compileGate <- struct{}{}
	return func() { <-compileGate }
}

// countJSONata counts the nodes of a compiled JSONata template against
// MaxJSONataNodes, reporting the definition once past it.
func (l *loader) countJSONata(t *jsonata.Template, at string) {
	if t == nil {
		return
	}
	l.jsonataNodes += t.Nodes()
	if l.jsonataNodes > MaxJSONataNodes && !l.jsonataTooBig {
		l.jsonataTooBig = true
		l.add(SeverityError, CodeInvalidJSONata, at, "The definition's JSONata expressions have more than "+
			strconv.Itoa(MaxJSONataNodes)+" syntax nodes in all (a Stepwell limit on what a definition may hold once compiled)")
	}
}
