package app

import (
	"context"
	"testing"
	"time"

	"github.com/stepwell/stepwell/executions"
)

// TestWire: Wire builds the parts New serves, over the configured store.
func TestWire(t *testing.T) {
	c := DefaultConfig()
	c.Store = "memory"
	p, err := Wire(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.API == nil || p.Executions == nil || p.Engine == nil || p.Tasks == nil || p.Store == nil || p.StoreInfo == "" {
		t.Fatalf("parts: %+v", p)
	}
	var out struct{ StateMachineArn string }
	if err := apiCall(p.API, "CreateStateMachine", map[string]string{"name": "w", "roleArn": "arn:aws:iam::123456789012:role/r",
		"definition": `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`}, &out); err != nil {
		t.Fatal(err)
	}
	sm, err := p.Store.GetStateMachine(context.Background(), out.StateMachineArn)
	if err != nil {
		t.Fatal(err)
	}
	x, err := p.Executions.Start(context.Background(), executions.StartInput{Machine: sm, Input: "{}"})
	if err != nil {
		t.Fatal(err)
	}
	if ended := p.Executions.Ended(x.ARN); ended != nil { // nil: ended already
		select {
		case <-ended:
		case <-time.After(time.Minute):
			t.Fatal("the execution did not end")
		}
	}
	if got, _, err := p.Executions.Get(context.Background(), x.ARN); err != nil || got.Status != "SUCCEEDED" {
		t.Fatalf("execution: %+v, %v", got, err)
	}
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}
