package asl

import (
	"errors"
	"testing"

	"github.com/stepwell/stepwell/jsonata"
)

// TestMalformedJSONata checks that a malformed expression is an
// INVALID_JSONATA_EXPRESSION error at the field that holds it, nested or
// not, worded as the evaluator words it (without its code).
func TestMalformedJSONata(t *testing.T) {
	tests := []struct {
		name, state, expr, at string
	}{
		{"output", `{"Type":"Pass","Output":"{% EXPR %}","Next":"E"}`, `1 +`, "/States/S/Output"},
		{"nested argument", `{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f","Arguments":{"a":[1,"{% EXPR %}"]},"Next":"E"}`, `a[1,2)`, "/States/S/Arguments"},
		{"condition", `{"Type":"Choice","Choices":[{"Condition":"{% EXPR %}","Next":"E"}]}`, `"unterminated`, "/States/S/Choices[0]/Condition"},
		{"catcher assign", `{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f","Catch":[{"ErrorEquals":["States.ALL"],"Assign":{"x":"{% EXPR %}"},"Next":"E"}],"Next":"E"}`, `$x :=`, "/States/S/Catch[0]/Assign"},
		{"wait seconds", `{"Type":"Wait","Seconds":"{% EXPR %}","Next":"E"}`, ``, "/States/S/Seconds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, cerr := jsonata.Compile(tc.expr)
			var je *jsonata.Error
			if !errors.As(cerr, &je) {
				t.Fatalf("jsonata.Compile(%q) = %v, want an *Error", tc.expr, cerr)
			}
			state := replaceExpr(tc.state, tc.expr)
			def := `{"QueryLanguage":"JSONata","StartAt":"S","States":{"S":` + state + `,"E":{"Type":"Succeed"}}}`
			diags := Validate([]byte(def), Options{})
			if len(diags) != 1 {
				t.Fatalf("diagnostics %+v, want one", diags)
			}
			d := diags[0]
			if d.Code != CodeInvalidJSONata || d.Location != tc.at || d.Message != je.Message || d.Severity != SeverityError {
				t.Fatalf("diagnostic %+v, want %s at %s: %q", d, CodeInvalidJSONata, tc.at, je.Message)
			}
		})
	}
}

// replaceExpr puts expr (JSON-escaped) in place of EXPR.
func replaceExpr(s, expr string) string {
	esc := ""
	for _, r := range expr {
		if r == '"' || r == '\\' {
			esc += `\`
		}
		esc += string(r)
	}
	out := ""
	for i := 0; i < len(s); i++ {
		if i+4 <= len(s) && s[i:i+4] == "EXPR" {
			out += esc
			i += 3
			continue
		}
		out += string(s[i])
	}
	return out
}
