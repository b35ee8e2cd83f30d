package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/executions"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/integrations"
	"github.com/stepwell/stepwell/integrations/mock"
	"github.com/stepwell/stepwell/integrations/nested"
	"github.com/stepwell/stepwell/integrations/tasktoken"
	"github.com/stepwell/stepwell/internal/clock"
	"github.com/stepwell/stepwell/store/memory"
	"github.com/stepwell/stepwell/value"
)

// capableRoute is a routed integration with a check and a resumption of
// its own: it refuses every task and resumes every task with "resumed".
type capableRoute struct{ invoked, checked, resumed int }

func (c *capableRoute) Invoke(ctx context.Context, t *engine.Task) (any, error) {
	c.invoked++
	return "invoked", nil
}

func (c *capableRoute) Check(ctx context.Context, t *engine.Task) error {
	c.checked++
	return errors.New("refused by the route")
}

func (c *capableRoute) Resume(ctx context.Context, t *engine.Task) (func() (any, error), error) {
	c.resumed++
	return func() (any, error) { return "resumed", nil }, nil
}

type discardEvents struct{}

func (discardEvents) Record([]history.Event) error { return nil }

// TestEngineInvoker_RouteCapabilities wires the engine's invoker as the
// server does (the router, the token broker's Wrap, the mock invoker with
// a mock configuration) with a route given a Checker and a Resumer: the
// engine consults the route's check before scheduling its task, and the
// route resumes its task. Each layer used to look for these on the next
// one by type assertion; the router had neither, so both were lost
// silently (the task ran unchecked, and was not resumable).
func TestEngineInvoker_RouteCapabilities(t *testing.T) {
	mocks, err := mock.Parse([]byte(`{"StateMachines":{"m":{"TestCases":{"T":{"Other":"R"}}}},"MockedResponses":{"R":{"0":{"Return":1}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	const resource = "arn:aws:states:::custom:run"
	def := `{"StartAt":"Run","States":{"Run":{"Type":"Task","Resource":"` + resource + `","End":true}}}`
	sm, err := asl.Load([]byte(def), asl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		mocks *mock.Config
	}{{"plain", nil}, {"mock config", mocks}} {
		t.Run(tt.name, func(t *testing.T) {
			route := &capableRoute{}
			router := newRouter(DefaultConfig(), nil, nil, nil, nil)
			router.Add(integrations.Route{Match: func(r string) bool { return r == resource }, Invoker: route, Checker: route, Resumer: route})
			inv, binder := withMocks(tt.mocks, tasktoken.New(memory.NewActivities()).Wrap(router))
			const arn = "arn:aws:states:us-east-1:123456789012:execution:m:x"
			if binder != nil {
				if err := binder.Bind(arn, "m", "T"); err != nil {
					t.Fatal(err)
				}
			}
			eng := engine.New(engine.Config{Invoker: inv, Checker: inv, Resumer: inv, Region: "us-east-1", AccountID: "123456789012"})
			res := eng.Execute(context.Background(), &engine.Execution{ARN: arn, Name: "x", Type: "STANDARD", Input: "{}", Machine: sm}, discardEvents{})
			if res.Status != engine.StatusFailed || *res.Error != "States.Runtime" || !strings.Contains(*res.Cause, "refused by the route") {
				t.Errorf("result %s %v %v, want States.Runtime refused by the route", res.Status, deref(res.Error), deref(res.Cause))
			}
			if route.checked != 1 || route.invoked != 0 {
				t.Errorf("route checked %d times and invoked %d, want 1 and 0", route.checked, route.invoked)
			}

			wait, err := inv.Resume(context.Background(), &engine.Task{ExecutionARN: arn, StateName: "Run", Resource: resource, TaskToken: "t"})
			if err != nil {
				t.Fatalf("Resume: %v", err)
			}
			if got, err := wait(); got != "resumed" || err != nil || route.resumed != 1 {
				t.Errorf("resumed %v, %v (route resumed %d tasks); want the route's", got, err, route.resumed)
			}
		})
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// startsOnly is a nested.Service that is not also a nested.TokenWaiter.
type startsOnly struct{ nested.Service }

// awaiter is a nested.TokenWaiter that completes every task at once.
type awaiter struct{ awaited int }

func (a *awaiter) Await(ctx context.Context, t *engine.Task, submit func(ctx context.Context) (any, error)) (any, error) {
	a.awaited++
	return "completed on its token", nil
}

// TestNewRouter_NestedTokens: nested executions wait on the token waiter
// given to newRouter, whatever the service is. It used to be found on the
// service by type assertion: a service that was not also a token waiter
// lost it, and .waitForTaskToken starts failed with States.Runtime.
func TestNewRouter_NestedTokens(t *testing.T) {
	tokens := &awaiter{}
	router := newRouter(DefaultConfig(), startsOnly{}, tokens, nil, nil)
	res, err := router.Invoke(context.Background(), &engine.Task{
		Resource: "arn:aws:states:::states:startExecution.waitForTaskToken", TaskToken: "t",
		Input: value.NewObject(1).With("StateMachineArn", "arn:aws:states:us-east-1:123456789012:stateMachine:child")})
	if err != nil || res != "completed on its token" || tokens.awaited != 1 {
		t.Errorf("Invoke = %v, %v (awaited %d); want completed by the token waiter", res, err, tokens.awaited)
	}
}

// TestBroker_ServiceErrors: the token broker plugs into the executions
// service as it is, and its errors are the service's (so the API answers
// them with AWS's errors), with no adapter translating them.
func TestBroker_ServiceErrors(t *testing.T) {
	var b executions.TaskBroker = tasktoken.New(memory.NewActivities())
	svc := executions.New(executions.Config{Store: memory.New(memory.Options{}), Tasks: b})
	defer func() { _ = svc.Close(context.Background()) }()
	if err := svc.SendTaskHeartbeat("not-a-token"); !errors.Is(err, executions.ErrInvalidToken) {
		t.Errorf("heartbeat of a bad token: %v, want ErrInvalidToken", err)
	}
	if _, _, err := svc.PollActivity(context.Background(), "arn:aws:states:us-east-1:123456789012:activity:none", "w"); !errors.Is(err, executions.ErrActivityDoesNotExist) {
		t.Errorf("poll of an unknown activity: %v, want ErrActivityDoesNotExist", err)
	}
}

// TestLoadConnections_OAuthClock: the OAuth clients of the connections
// tell their tokens' expiry with the server's clock.
func TestLoadConnections_OAuthClock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "connections.json")
	data := `{"arn:c":{"OAuth":{"AuthorizationEndpoint":"https://auth.example/token","ClientID":"i","ClientSecret":"s"}},
		"arn:plain":{"Headers":{"x":"y"}}}`
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Unix(0, 0))
	conns, err := loadConnections(path, clk)
	if err != nil {
		t.Fatal(err)
	}
	if o := conns["arn:c"].OAuth; o == nil || o.Clock != clk {
		t.Fatalf("OAuth client %+v does not use the server's clock", o)
	}
	if conns, err := loadConnections("", clk); conns != nil || err != nil {
		t.Fatalf("no connections file: %v, %v", conns, err)
	}
}
