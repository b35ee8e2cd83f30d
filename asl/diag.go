package asl

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/stepwell/stepwell/value"
)

// Diagnostic codes AWS reports.
const (
	CodeSchema            = "SCHEMA_VALIDATION_FAILED"
	CodeInvalidJSON       = "INVALID_JSON_DESCRIPTION"
	CodeMissingTransition = "MISSING_TRANSITION_TARGET"
	CodeDuplicateState    = "DUPLICATE_STATE_NAME"
	CodeMissingEnd        = "MISSING_END_STATE"
	CodeInvalidStateName  = "INVALID_STATE_NAME"
	CodeInvalidLabel      = "INVALID_LABEL_NAME"
	CodeDuplicateLabel    = "DUPLICATE_LABEL_NAME"
	// Warning codes.
	CodeNoDollar         = "NO_DOLLAR"
	CodeNoPath           = "NO_PATH"
	CodePassResultStatic = "PASS_RESULT_IS_STATIC"
)

// notSupported is AWS's message for a field a state or object does not
// accept.
func notSupported(field string) string { return "Field '" + field + "' is not supported" }

// onlyFor is AWS's message for a field of the other query language; ql is
// the language in effect.
func onlyFor(ql QueryLanguage, field string) string {
	other := JSONata
	if ql == JSONata {
		other = JSONPath
	}
	return "The QueryLanguage is set to '" + string(ql) + "', but field '" + field +
		"' is only supported for the '" + string(other) + "' QueryLanguage"
}

// oneOf is AWS's message for a value outside an enumeration.
func oneOf(values string) string { return "Value should be one of the following: " + values }

// errorPrefix is what AWS puts before the diagnostics of an invalid
// definition.
const errorPrefix = "Invalid State Machine Definition: '"

// String renders one diagnostic as AWS does inside an InvalidDefinition
// message: "<CODE>: <message> at <location>" (no " at …" when the
// diagnostic has no location).
func (d Diagnostic) String() string {
	switch {
	case d.Code == CodeInvalidJSON:
		// Jackson's parse messages already end with their location.
		return d.Code + ": " + d.Message
	case d.Location == "":
		// AWS prints a missing location as null, e.g.
		// "MISSING_END_STATE: Workflow has no terminal state at null".
		return d.Code + ": " + d.Message + " at null"
	}
	return d.Code + ": " + d.Message + " at " + d.Location
}

// Error renders AWS's InvalidDefinition message: every diagnostic, joined
// with ", ", inside "Invalid State Machine Definition: '…'".
func (e *DefinitionError) Error() string {
	var b strings.Builder
	b.WriteString(errorPrefix)
	for i, d := range e.Diagnostics {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.String())
	}
	b.WriteByte('\'')
	return b.String()
}

// reporter collects diagnostics in the order they are found.
type reporter struct {
	diags []Diagnostic
}

func (r *reporter) add(sev Severity, code, loc, msg string) {
	r.diags = append(r.diags, Diagnostic{Severity: sev, Code: code, Message: msg, Location: loc})
}

// schema reports a SCHEMA_VALIDATION_FAILED error.
func (r *reporter) schema(loc, msg string) { r.add(SeverityError, CodeSchema, loc, msg) }

func (r *reporter) hasErrors() bool {
	for _, d := range r.diags {
		if d.Severity == SeverityError {
			return true
		}
	}
	return false
}

func (r *reporter) errors() []Diagnostic {
	var out []Diagnostic
	for _, d := range r.diags {
		if d.Severity == SeverityError {
			out = append(out, d)
		}
	}
	return out
}

// loc joins a location and a field name.
func loc(base, field string) string {
	if base == "/" {
		return "/" + field
	}
	return base + "/" + field
}

// locIdx appends an array index as AWS does: /States/P/Branches[0].
func locIdx(base string, i int) string {
	return base + "[" + strconv.Itoa(i) + "]"
}

// jacksonMessage words a JSON syntax error as Jackson (which AWS uses)
// does for the common cases, and returns the 1-based line and column Jackson
// reports.
func jacksonMessage(src []byte, se *value.SyntaxError) (msg string, line, col int) {
	line, col = se.Line, se.Column
	const expected = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
	off := se.Offset
	if off < 0 || off >= len(src) {
		return "Unexpected end-of-input: expected close marker for Object", line, col
	}
	c := src[off]
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
		end := off
		for end < len(src) && (src[end] >= 'a' && src[end] <= 'z' || src[end] >= 'A' && src[end] <= 'Z' || src[end] >= '0' && src[end] <= '9' || src[end] == '_') {
			end++
		}
		return "Unrecognized token '" + string(src[off:end]) + "': was expecting " + expected, line, col + (end - off)
	}
	if c < utf8.RuneSelf && c >= 0x20 {
		return "Unexpected character ('" + string(rune(c)) + "' (code " + strconv.Itoa(int(c)) + ")): expected a valid value " + expected, line, col + 1
	}
	return se.Msg, line, col
}

// jsonLocation renders a value.SyntaxError position the way Jackson does in
// AWS's INVALID_JSON_DESCRIPTION diagnostics.
func jsonLocation(src []byte, line, col int) string {
	s := string(src)
	if len(s) > 500 {
		s = s[:500] + "\"[truncated " + strconv.Itoa(len(src)-500) + " chars]"
	} else {
		s += "\""
	}
	return "[Source: (String)\"" + s + "; line: " + strconv.Itoa(line) + ", column: " + strconv.Itoa(col) + "]"
}
