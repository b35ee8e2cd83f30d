package jsonata

import (
	"regexp"
	"strings"

	"github.com/stepwell/stepwell/value"
)

// jsMessages are jsonata-js's error messages (its errorCodes table) for the
// codes whose fields the library reports: {{token}} and {{value}} are
// replaced by the JSON text of the token and value, as jsonata-js does.
// Codes not listed keep the library's own wording.
var jsMessages = map[string]string{
	"S0101": "String literal must be terminated by a matching quote",
	"S0102": "Number out of range: {{token}}",
	"S0103": "Unsupported escape sequence: \\{{token}}",
	"S0104": "The escape sequence \\u must be followed by 4 hex digits",
	"S0105": "Quoted property name must be terminated with a backquote (`)",
	"S0106": "Comment has no closing tag",
	"S0201": "Syntax error: {{token}}",
	"S0202": "Expected {{value}}, got {{token}}",
	"S0203": "Expected {{value}} before end of expression",
	"S0204": "Unknown operator: {{token}}",
	"S0205": "Unexpected token: {{token}}",
	"S0207": "Unexpected end of expression",
	"S0209": "A predicate cannot follow a grouping expression in a step",
	"S0210": "Each step can only have one grouping expression",
	"S0211": "The symbol {{token}} cannot be used as a unary operator",
	"S0212": "The left side of := must be a variable name (start with $)",
	"S0214": "The right side of {{token}} must be a variable name (start with $)",
	"S0215": "A context variable binding must precede any predicates on a step",
	"S0216": "A context variable binding must precede the 'order-by' clause on a step",
	"S0217": "The object representing the 'parent' cannot be derived from this expression",
	"S0301": "Empty regular expressions are not allowed",
	"S0302": "No terminating / in regular expression",
	"D1001": "Number out of range: {{value}}",
	"D1002": "Cannot negate a non-numeric value: {{value}}",
	"T1003": "Key in object structure must evaluate to a string; got: {{value}}",
	"D1004": "Regular expression matches zero length string",
	"T1006": "Attempted to invoke a non-function",
	"T1008": "Attempted to partially apply a non-function",
	"D1009": "Multiple key definitions evaluate to same key: {{value}}",
	"T2001": "The left side of the {{token}} operator must evaluate to a number",
	"T2002": "The right side of the {{token}} operator must evaluate to a number",
	"T2003": "The left side of the range operator (..) must evaluate to an integer",
	"T2004": "The right side of the range operator (..) must evaluate to an integer",
	"T2006": "The right side of the function application operator ~> must be a function",
	"T2008": "The expressions within an order-by clause must evaluate to numeric or string values",
	"T2009": "The values {{value}} and {{value2}} either side of operator {{token}} must be of the same data type",
	"T2010": "The expressions either side of operator {{token}} must evaluate to numeric or string values",
	"D3001": "Attempting to invoke string function on Infinity or NaN",
	"D3010": "Second argument of replace function cannot be an empty string",
	"D3011": "Fourth argument of replace function must evaluate to a positive number",
	"D3012": "Attempted to replace a matched string with a non-string value",
	"D3020": "Third argument of split function must evaluate to a positive number",
	"D3030": "Unable to cast value to a number: {{value}}",
	"D3040": "Third argument of match function must evaluate to a positive number",
	"D3050": "The second argument of reduce function must be a function with at least two arguments",
	"D3060": "The sqrt function cannot be applied to a negative number: {{value}}",
	"D3070": "The single argument form of the sort function can only be applied to an array of strings or an array of numbers.  Use the second argument to specify a comparison function",
	"D3110": "Unable to parse ISO 8601 timestamp: {{value}}",
	"D3138": "The $single() function expected exactly 1 matching result.  Instead it matched more.",
	"D3139": "The $single() function expected exactly 1 matching result.  Instead it matched 0.",
}

// needs reports the fields a template uses.
func needs(tpl, field string) bool { return strings.Contains(tpl, "{{"+field+"}}") }

// jsMessage renders jsonata-js's message for code, if it is known and the
// fields it needs are there.
func jsMessage(code, token string, val, val2 any) (string, bool) {
	tpl, ok := jsMessages[code]
	if !ok || (needs(tpl, "token") && token == "") || (needs(tpl, "value") && val == nil) || (needs(tpl, "value2") && val2 == nil) {
		return "", false
	}
	r := strings.NewReplacer(
		"{{token}}", value.String(token),
		"{{value}}", jsonText(val),
		"{{value2}}", jsonText(val2),
	)
	return r.Replace(tpl), true
}

// jsonText is JSON.stringify of a library value (functions print as "").
func jsonText(v any) string {
	if s, ok := v.(string); ok {
		return value.String(s)
	}
	x, err := fromLib(v)
	if err != nil || x == nil && v != nil && !isLibNull(v) {
		return `""`
	}
	return value.String(x)
}

// libraryArgument reads the function and the argument the library's own
// T0410 messages name ("$pad: argument 2 must be a number", "$base64encode:
// argument must be a string").
var libraryArgument = regexp.MustCompile(`^\$(\w+): (?:argument (\d)|(first|second|third) argument|argument\b|array argument)`)

// signatureMessage is jsonata-js's T0410 message for the library's own
// wording, when it names the function and argument.
func signatureMessage(own string) (token, msg string, ok bool) {
	m := libraryArgument.FindStringSubmatch(own)
	if m == nil {
		return "", "", false
	}
	idx := "1"
	switch {
	case m[2] != "":
		idx = m[2]
	case m[3] == "second":
		idx = "2"
	case m[3] == "third":
		idx = "3"
	}
	return m[1], "Argument " + idx + " of function " + value.String(m[1]) + " does not match function signature", true
}
