// Package parser parses JSONata source text into an AST (forked from
// github.com/recolabs/gnata v0.2.2, MIT; see ../README.md).
package parser
