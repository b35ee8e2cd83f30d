package app

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stepwell/stepwell/executions"
	"github.com/stepwell/stepwell/integrations/tasktoken"
	"github.com/stepwell/stepwell/store/memory"
)

// TestBrokerPort_Errors: the broker's errors reach the executions service
// (and so the API) as the service's errors of the same meaning.
func TestBrokerPort_Errors(t *testing.T) {
	for _, e := range brokerErrs {
		if err := portErr(fmt.Errorf("ctx: %w", e[0])); !errors.Is(err, e[1]) || !errors.Is(err, e[0]) {
			t.Errorf("%v: %v", e[0], err)
		}
	}
	other := errors.New("other")
	if err := portErr(other); err != other {
		t.Errorf("another error became %v", err)
	}
	if portErr(nil) != nil {
		t.Error("nil became an error")
	}
	p := BrokerPort(tasktoken.New(memory.NewActivities()))
	if err := p.Heartbeat("not-a-token"); !errors.Is(err, executions.ErrInvalidToken) {
		t.Errorf("heartbeat of a bad token: %v", err)
	}
	if _, _, err := p.Poll(context.Background(), "arn:aws:states:us-east-1:123456789012:activity:none", "w", 0); !errors.Is(err, executions.ErrActivityDoesNotExist) {
		t.Errorf("poll of an unknown activity: %v", err)
	}
}

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
