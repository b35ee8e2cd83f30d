package executions_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/executions"
	"github.com/stepwell/stepwell/store"
	"github.com/stepwell/stepwell/store/memory"
)

// TestExpressChildren_Retained: a Distributed Map's EXPRESS children are
// kept in the Express store like closed Express executions, the oldest
// forgotten first beyond its bound; ChildStore finds them there.
func TestExpressChildren_Retained(t *testing.T) {
	ctx := context.Background()
	st, ver := memory.New(memory.Options{}), memory.NewVersions()
	express := memory.New(memory.Options{MaxClosedExecutions: 5})
	svc := executions.New(executions.Config{Store: st, Versions: ver, Express: express, Scope: scope,
		Engine: engine.New(engine.Config{Region: scope.Region, AccountID: scope.Account})})
	t.Cleanup(func() { _ = svc.Close(ctx) })
	sm := machine("expresskids", `{"StartAt":"M","States":{"M":{"Type":"Map","Label":"xl","MaxConcurrency":1,
"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},
"End":true}}}`)
	if err := st.CreateStateMachine(ctx, sm); err != nil {
		t.Fatal(err)
	}
	f := &fixture{svc: svc, st: st, ver: ver, sm: sm}
	items := make([]string, 20)
	for i := range items {
		items[i] = strconv.Itoa(i + 1)
	}
	x := f.start(t, "["+strings.Join(items, ",")+"]")
	if got := f.closed(t, x); got.Status != store.StatusSucceeded {
		t.Fatalf("parent %s", got.Status)
	}
	runs, _, err := ver.ListMapRuns(ctx, x, store.Page{Limit: 10})
	if err != nil || len(runs) != 1 {
		t.Fatalf("map runs %v, %v", runs, err)
	}
	cs, err := svc.ChildStore(ctx, runs[0].ARN)
	if err != nil || cs != store.Store(express) {
		t.Fatalf("ChildStore %v, %v: want the Express store", cs, err)
	}
	kids, _, err := express.ListExecutions(ctx, store.ExecutionFilter{StateMachineARN: executions.ChildKey(runs[0].ARN)}, store.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var inputs []string
	for _, k := range kids {
		inputs = append(inputs, k.Input)
		m, run, ok := executions.ChildOf(k)
		if !ok || run != runs[0].ARN || m != sm.ARN+"/xl" || k.Type != executions.TypeExpress || k.Status != store.StatusSucceeded ||
			k.Output == nil || *k.Output != k.Input || !strings.Contains(k.ARN, ":express:expresskids/xl:"+k.Name+":") {
			t.Fatalf("child %+v: ChildOf %s, %s, %v", k, m, run, ok)
		}
	}
	// One child at a time: the newest five, newest first.
	if got := strings.Join(inputs, ","); got != "20,19,18,17,16" {
		t.Fatalf("children kept: %s", got)
	}
	if cs, err := svc.ChildStore(ctx, strings.Replace(runs[0].ARN, ":mapRun:", ":mapRun:other", 1)); err != nil || cs != store.Store(st) {
		t.Fatalf("ChildStore of a run without EXPRESS children %v, %v: want the main store", cs, err)
	}
}
