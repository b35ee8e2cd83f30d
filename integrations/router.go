// Package integrations connects Task states to the things they run. Each
// resource family has its own subpackage implementing engine.Invoker
// (integrations/lambda, …); Router sends each task to the first route
// whose matcher accepts its Resource. Only internal/app wires them.
package integrations

import (
	"context"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/fault"
)

// Router dispatches tasks to Invokers by resource. It implements
// engine.Invoker, and engine.Checker and engine.Resumer with the
// capabilities its routes are given: a task is checked and resumed by the
// route that runs it. Configure it with Handle and Add before the first
// Invoke; it is safe for concurrent use afterwards.
type Router struct {
	routes []Route
}

// Route is one integration of a Router: the tasks it takes, what runs
// them and, given explicitly (never found on Invoker by type assertion),
// the optional capabilities the engine uses.
type Route struct {
	// Match reports whether the route takes a task's Resource.
	Match func(resource string) bool
	// Invoker runs the route's tasks.
	Invoker engine.Invoker
	// Checker, when set, checks the route's tasks before they are
	// scheduled (engine.Checker).
	Checker engine.Checker
	// Resumer, when set, continues the route's tasks whose token was
	// handed out before a restart (engine.Resumer); without one they are
	// not resumable.
	Resumer engine.Resumer
}

var (
	_ engine.Invoker = (*Router)(nil)
	_ engine.Checker = (*Router)(nil)
	_ engine.Resumer = (*Router)(nil)
)

// NewRouter returns a Router with no routes.
func NewRouter() *Router { return &Router{} }

// Handle routes tasks whose resource satisfies match to inv, which has no
// check and resumes nothing (Add gives a route those). Routes are tried in
// the order they were added. It returns r for chaining.
func (r *Router) Handle(match func(resource string) bool, inv engine.Invoker) *Router {
	return r.Add(Route{Match: match, Invoker: inv})
}

// Add adds rt after the routes already added. It returns r for chaining.
func (r *Router) Add(rt Route) *Router {
	r.routes = append(r.routes, rt)
	return r
}

// route returns the first route taking resource.
func (r *Router) route(resource string) (*Route, bool) {
	for i := range r.routes {
		if r.routes[i].Match(resource) {
			return &r.routes[i], true
		}
	}
	return nil, false
}

// Invoke runs t with the first matching Invoker. A resource nobody handles
// fails the task with States.Runtime.
func (r *Router) Invoke(ctx context.Context, t *engine.Task) (any, error) {
	if rt, ok := r.route(t.Resource); ok {
		return rt.Invoker.Invoke(ctx, t)
	}
	return nil, fault.New(fault.Runtime, "The resource '"+t.Resource+"' is not supported by this Stepwell server.")
}

// Check implements engine.Checker with the Checker of the route that runs
// t; a route without one, or a resource nobody handles (Invoke fails it),
// passes.
func (r *Router) Check(ctx context.Context, t *engine.Task) error {
	if rt, ok := r.route(t.Resource); ok && rt.Checker != nil {
		return rt.Checker.Check(ctx, t)
	}
	return nil
}

// Resume implements engine.Resumer with the Resumer of the route that
// runs t; otherwise t is not resumable (engine.ErrNotResumable).
func (r *Router) Resume(ctx context.Context, t *engine.Task) (wait func() (any, error), err error) {
	if rt, ok := r.route(t.Resource); ok && rt.Resumer != nil {
		return rt.Resumer.Resume(ctx, t)
	}
	return nil, engine.ErrNotResumable
}
