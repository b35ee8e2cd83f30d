package jsonata

import (
	"fmt"
	"strconv"
	"strings"
)

// Error is a JSONata compile or evaluation failure.
type Error struct {
	// Code is JSONata's error code ("S0201", "T2001", "D3001", …) or one of
	// Stepwell's own: "SW001" a limit exceeded (MaxEvalTime, MaxString,
	// MaxAlloc, MaxVisits), "SW002" the caller's context ended, "SW003" an
	// AWS function's arguments are invalid, "SW004" the library failed (a
	// bug), "SW005" a regular expression RE2 cannot run.
	Code string
	// Message is the error's text as jsonata-js words it, without the code
	// (AWS quotes it in States.QueryEvaluationError causes).
	Message string
	// Position is the character offset in the expression where the error
	// was found, or -1 when unknown.
	Position int
	// Token is the token or value the error is about, "" when none.
	Token string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Code)
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Position >= 0 {
		b.WriteString(" (at ")
		b.WriteString(strconv.Itoa(e.Position))
		b.WriteString(")")
	}
	return b.String()
}

// TemplateError is an error found in one expression of a Template.
type TemplateError struct {
	// Path locates the expression inside the template, JSON-pointer-like:
	// "/a/0/b" for the member b of the first element of member a, "" for
	// the whole value. AWS names fields as the field name followed by this
	// path ("Output/result").
	Path string
	// Expr is the expression's text (between the delimiters), "" when the
	// error is not about one expression.
	Expr string
	// Undefined is true when the expression returned nothing where a value
	// is required (AWS: "returned nothing (undefined)"); Err is then nil.
	Undefined bool
	// Err is the *Error (or context error) the expression failed with.
	Err error
}

func (e *TemplateError) Error() string {
	where := e.Path
	if where == "" {
		where = "/"
	}
	if e.Undefined {
		return fmt.Sprintf("jsonata %s: expression %q returned nothing (undefined)", where, e.Expr)
	}
	return fmt.Sprintf("jsonata %s: %v", where, e.Err)
}

// Unwrap returns the underlying error.
func (e *TemplateError) Unwrap() error { return e.Err }
