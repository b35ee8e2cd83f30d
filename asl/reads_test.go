package asl_test

import (
	"testing"

	"github.com/stepwell/stepwell/asl"
)

func TestLoadReads(t *testing.T) {
	tests := []struct {
		name  string
		def   string
		state string    // the state whose Reads are checked
		want  asl.Reads // that state's
		all   asl.Reads // the machine's
	}{
		{
			name:  "plain pass",
			def:   `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"a.$":"$.x"},"End":true}}}`,
			state: "P",
		},
		{
			name:  "context path in a template",
			def:   `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"id.$":"$$.Execution.Id"},"End":true}}}`,
			state: "P", want: asl.Reads{Context: true}, all: asl.Reads{Context: true},
		},
		{
			name:  "escaped dollar signs are read as written",
			def:   `{"StartAt":"P","States":{"P":{"Type":"Pass","InputPath":"\u0024\u0024.Execution","End":true}}}`,
			state: "P", want: asl.Reads{Context: true}, all: asl.Reads{Context: true},
		},
		{
			name: "context in a nested branch only",
			def: `{"StartAt":"Par","States":{"Par":{"Type":"Parallel","End":true,"Branches":[
				{"StartAt":"B","States":{"B":{"Type":"Pass","OutputPath":"$$.State","End":true}}}]}}}`,
			state: "Par", all: asl.Reads{Context: true},
		},
		{
			name: "context in a Map's item processor only",
			def: `{"StartAt":"M","States":{"M":{"Type":"Map","End":true,"ItemProcessor":
				{"StartAt":"I","States":{"I":{"Type":"Pass","Parameters":{"i.$":"$$.Map.Item.Index"},"End":true}}}}}}`,
			state: "M", all: asl.Reads{Context: true},
		},
		{
			name:  "callback task",
			def:   `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken","End":true}}}`,
			state: "T", want: asl.Reads{Context: true}, all: asl.Reads{Context: true},
		},
		{
			name:  "activity task",
			def:   `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:us-east-1:123456789012:activity:a","End":true}}}`,
			state: "T", want: asl.Reads{Context: true}, all: asl.Reads{Context: true},
		},
		{
			name:  "assign",
			def:   `{"StartAt":"P","States":{"P":{"Type":"Pass","Assign":{"a":1},"End":true}}}`,
			state: "P", want: asl.Reads{Variables: true}, all: asl.Reads{Variables: true},
		},
		{
			name:  "variable reference",
			def:   `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"a.$":"States.Format('{}', $v)"},"End":true}}}`,
			state: "P", want: asl.Reads{Variables: true}, all: asl.Reads{Variables: true},
		},
		{
			name: "catcher assign",
			def: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f","End":true,
				"Catch":[{"ErrorEquals":["States.ALL"],"Assign":{"e":1},"Next":"S"}]},"S":{"Type":"Succeed"}}}`,
			state: "T", want: asl.Reads{Variables: true}, all: asl.Reads{Variables: true},
		},
		{
			name:  "jsonata state",
			def:   `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Output":"{% $states.input %}","End":true}}}`,
			state: "P", want: asl.Reads{JSONata: true}, all: asl.Reads{JSONata: true},
		},
		{
			name:  "jsonata states other than input",
			def:   `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Output":"{% $lookup($states, 'context') %}","End":true}}}`,
			state: "P", want: asl.Reads{JSONata: true, Context: true}, all: asl.Reads{JSONata: true, Context: true},
		},
		{
			name:  "jsonata function call",
			def:   `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Output":"{% $sum($states.input.a) + $count( [1] ) %}","End":true}}}`,
			state: "P", want: asl.Reads{JSONata: true}, all: asl.Reads{JSONata: true},
		},
		{
			name:  "jsonata context and variable",
			def:   `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Output":"{% $states.context.Execution.Id & $x %}","End":true}}}`,
			state: "P", want: asl.Reads{JSONata: true, Context: true, Variables: true}, all: asl.Reads{JSONata: true, Context: true, Variables: true},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sm, err := asl.Load([]byte(tc.def), asl.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := sm.States[tc.state].Reads; got != tc.want {
				t.Errorf("state %s reads %+v, want %+v", tc.state, got, tc.want)
			}
			if sm.Reads != tc.all {
				t.Errorf("machine reads %+v, want %+v", sm.Reads, tc.all)
			}
		})
	}
}
