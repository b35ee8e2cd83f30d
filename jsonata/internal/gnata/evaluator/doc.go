// Package evaluator evaluates JSONata ASTs: the core of the gnata JSONata
// implementation (github.com/recolabs/gnata v0.2.2, MIT), forked into
// Stepwell; see ../README.md for what changed.
package evaluator
