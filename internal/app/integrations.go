package app

import (
	"net/http"

	"github.com/stepwell/stepwell/executions"
	"github.com/stepwell/stepwell/integrations"
	awsint "github.com/stepwell/stepwell/integrations/aws"
	httptask "github.com/stepwell/stepwell/integrations/http"
	"github.com/stepwell/stepwell/integrations/lambda"
	"github.com/stepwell/stepwell/integrations/mock"
	"github.com/stepwell/stepwell/integrations/nested"
	"github.com/stepwell/stepwell/integrations/tasktoken"
	"github.com/stepwell/stepwell/internal/clock"
)

// The token broker is the executions service's TaskBroker as it is: its
// errors are the engine's, which the service names.
var _ executions.TaskBroker = (*tasktoken.Broker)(nil)

// newRouter routes every task integration the configuration provides:
// Lambda, HTTP Tasks (with conns), when svc is set nested executions
// through the server's own API, completing tasks on their tokens with
// tokens (.waitForTaskToken, and .sync tasks that end early on theirs),
// and, when aws is set, the tasks that call AWS services.
func newRouter(c Config, svc nested.Service, tokens nested.TokenWaiter, conns httptask.Connections, aws *awsint.Integration) *integrations.Router {
	router := integrations.NewRouter()
	if c.LambdaEndpoint != "" {
		router.Handle(lambda.Handles, lambda.New(c.LambdaEndpoint, outboundClient(c, 0)))
	} else {
		router.Handle(lambda.Handles, noLambda{})
	}
	h := httptask.New(conns)
	h.Client = outboundClient(c, httptask.DefaultTimeout)
	// Where HTTP Tasks may connect (validated by Config.Validate).
	allow, _ := httptask.ParseRules(c.HTTPTaskAllow)
	deny, _ := httptask.ParseRules(c.HTTPTaskDeny)
	if t, ok := h.Client.Transport.(*http.Transport); ok {
		(&httptask.Policy{Allow: allow, Deny: deny}).Restrict(t)
	}
	h.Region = c.Region
	router.Handle(httptask.Handles, h)
	if svc != nil {
		router.Handle(nested.Handles, nested.New(svc, tokens))
	}
	if aws != nil {
		router.Add(aws.Route())
	}
	return router
}

// serverIntegrations loads the files the integrations need
// (c.HTTPConnections, c.MockConfig) and builds a server's router (see
// newRouter) with every integration, AWS services' too (c.AWS); mocks is the parsed mock configuration, nil when none is
// given. local lets nested executions call the server's own API and wait
// on the server's task tokens; clk tells the OAuth clients of the
// connections when their tokens expire.
func serverIntegrations(c Config, local *localAPI, clk clock.Clock) (router *integrations.Router, mocks *mock.Config, err error) {
	conns, err := loadConnections(c.HTTPConnections, clk)
	if err != nil {
		return nil, nil, err
	}
	if c.MockConfig != "" {
		if mocks, err = mock.Load(c.MockConfig); err != nil {
			return nil, nil, err
		}
	}
	aws, err := awsIntegration(c, local)
	if err != nil {
		return nil, nil, err
	}
	return newRouter(c, local, local, conns, aws), mocks, nil
}

// loadConnections reads the HTTP Task connections file at path (none when
// path is ""); their OAuth clients tell the time with clk.
func loadConnections(path string, clk clock.Clock) (httptask.Connections, error) {
	if path == "" {
		return nil, nil
	}
	conns, err := httptask.LoadConnections(path)
	if err != nil {
		return nil, err
	}
	for _, conn := range conns {
		if conn.OAuth != nil {
			conn.OAuth.Clock = clk
		}
	}
	return conns, nil
}

// withMocks returns the engine's invoker, checker and resumer (one
// integration: give it to engine.Config as all three) and the executions
// service's test case binder: with a mock configuration, the mock invoker
// over inv (the outermost invoker, so that mocked tasks never reach a real
// integration), which checks and resumes unmocked tasks with inv; without
// one, inv and nil. inv is the token broker's Wrap of the router: the
// checks and resumptions of every layer are passed on explicitly.
func withMocks(mocks *mock.Config, inv tasktoken.Integration) (tasktoken.Integration, executions.TestCaseBinder) {
	if mocks == nil {
		return inv, nil
	}
	m := mock.New(mocks, inv)
	return m, m
}
