// Package lexer tokenizes JSONata source text (forked from
// github.com/recolabs/gnata v0.2.2, MIT; see ../README.md).
package lexer
