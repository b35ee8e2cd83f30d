package asl_test

import (
	"reflect"
	"testing"

	"github.com/stepwell/stepwell/asl"
)

func TestVariableReferences(t *testing.T) {
	for _, tc := range []struct {
		name string
		def  string
		want map[string][]string
	}{
		{"none", `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"a.$":"$.a","ctx.$":"$$.Execution.Id"},"End":true}}}`, nil},
		{"jsonpath", `{"StartAt":"A","States":{
			"A":{"Type":"Pass","Assign":{"x":1,"y.$":"$.y"},"Next":"B"},
			"B":{"Type":"Pass","Parameters":{"p.$":"$x","q":{"r.$":"States.Format('{} $notme {}', $y.a, $x)"}},"Result":"$literal","ResultPath":"$.out","Next":"C"},
			"C":{"Type":"Choice","Choices":[{"Variable":"$z","NumericGreaterThanPath":"$limit","Next":"D"}],"Default":"D"},
			"D":{"Type":"Wait","SecondsPath":"$wait","End":true}}}`,
			map[string][]string{"B": {"x", "y"}, "C": {"z", "limit"}, "D": {"wait"}}},
		{"jsonata and nested", `{"QueryLanguage":"JSONata","StartAt":"A","States":{
			"A":{"Type":"Pass","Assign":{"total":"{% $sum($states.input.items) %}"},"Output":{"t":"{% $total %}","s":"$notAnExpression"},"Next":"M"},
			"M":{"Type":"Map","Items":"{% $list %}","ItemProcessor":{"StartAt":"I","States":{
				"I":{"Type":"Pass","Output":"{% ($d := $states.input * $factor; $d + $total) %}","End":true}}},"End":true}}}`,
			map[string][]string{"A": {"total"}, "M": {"list"}, "I": {"factor", "total"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sm, err := asl.Load([]byte(tc.def), asl.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := sm.VariableReferences(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("VariableReferences() = %v, want %v", got, tc.want)
			}
		})
	}
}
