package engine

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stepwell/stepwell/asl"
)

func TestPlanBuiltOncePerMachine(t *testing.T) {
	sm, err := asl.Load([]byte(`{"StartAt":"P","States":{
		"P":{"Type":"Parallel","Next":"T","Branches":[{"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}}]},
		"T":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken","Next":"J"},
		"J":{"Type":"Pass","QueryLanguage":"JSONata","End":true}}}`), asl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mp := planOf(sm)
	if planOf(sm) != mp {
		t.Fatal("the plan was built twice")
	}
	if mp.start != "P" || len(mp.states) != 3 {
		t.Fatalf("plan %+v", mp)
	}
	par, ok := mp.states["P"].(*parallelPlan)
	if !ok || par.next != "T" || par.types[0] != "ParallelStateEntered" || len(par.branches) != 1 {
		t.Fatalf("P: %#v", mp.states["P"])
	}
	if b := planOf(par.branches[0]); b.states["B"] == nil || planOf(par.branches[0]) != b {
		t.Fatal("a branch's plan was not built once")
	}
	task, ok := mp.states["T"].(*taskPlan)
	if !ok || !task.tokened || !task.submits || task.info.resource != "sendMessage.waitForTaskToken" {
		t.Fatalf("T: %#v", mp.states["T"])
	}
	if j, ok := mp.states["J"].(*passPlan); !ok || j.flow != jsonAta || par.flow != jsonPath {
		t.Fatalf("J: %#v, want a Pass plan with the JSONata data flow", mp.states["J"])
	}
}

// TestInline: a machine runs on its caller's goroutine (Inline) when it
// has Pass, Choice, Succeed and Fail states only, in JSONPath, no cycle
// and at most maxInline states.
func TestInline(t *testing.T) {
	for _, tc := range []struct {
		name, def string
		want      bool
	}{
		{"pass chain", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","End":true}}}`, true},
		{"choice to succeed or fail", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","IsPresent":true,"Next":"S"}],"Default":"F"},
			"S":{"Type":"Succeed"},"F":{"Type":"Fail"}}}`, true},
		{"diamond (a state reached twice, no cycle)", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","IsPresent":true,"Next":"A"}],"Default":"B"},
			"A":{"Type":"Pass","Next":"D"},"B":{"Type":"Pass","Next":"D"},"D":{"Type":"Pass","End":true}}}`, true},
		{"choice loop", `{"StartAt":"P","States":{"P":{"Type":"Pass","Next":"C"},
			"C":{"Type":"Choice","Choices":[{"Variable":"$.done","IsPresent":true,"Next":"S"}],"Default":"P"},"S":{"Type":"Succeed"}}}`, false},
		{"JSONata", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Output":"{% $reduce([1..3], function($a, $b) { $a + $b }) %}","End":true}}}`, false},
		{"wait", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"End":true}}}`, false},
		{"task", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f"},"End":true}}}`, false},
		{"long chain", passChain(maxInline + 1), false},
		{"chain at the bound", passChain(maxInline), true},
	} {
		sm, err := asl.Load([]byte(tc.def), asl.Options{})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := Inline(&Execution{Machine: sm}); got != tc.want {
			t.Errorf("%s: Inline = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// passChain is a machine of n Pass states in a row.
func passChain(n int) string {
	states := make(map[string]any, n)
	for i := range n {
		st := map[string]any{"Type": "Pass", "Next": fmt.Sprint("S", i+1)}
		if i == n-1 {
			st = map[string]any{"Type": "Pass", "End": true}
		}
		states[fmt.Sprint("S", i)] = st
	}
	b, err := json.Marshal(map[string]any{"StartAt": "S0", "States": states})
	if err != nil {
		panic(err)
	}
	return string(b)
}
