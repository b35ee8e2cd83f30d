package engine

import (
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
