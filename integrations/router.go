// Package integrations connects Task states to the things they run. Each
// resource family has its own subpackage implementing engine.Invoker
// (integrations/lambda, …); Router sends each task to the first Invoker
// whose matcher accepts its Resource. Only internal/app wires them.
package integrations

import (
	"context"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/fault"
)

// Router dispatches tasks to Invokers by resource. It implements
// engine.Invoker. Configure it with Handle before the first Invoke; it is
// safe for concurrent use afterwards.
type Router struct {
	routes []route
}

type route struct {
	match func(resource string) bool
	inv   engine.Invoker
}

var _ engine.Invoker = (*Router)(nil)

// NewRouter returns a Router with no routes.
func NewRouter() *Router { return &Router{} }

// Handle routes tasks whose resource satisfies match to inv. Routes are
// tried in the order they were added. It returns r for chaining.
func (r *Router) Handle(match func(resource string) bool, inv engine.Invoker) *Router {
	r.routes = append(r.routes, route{match: match, inv: inv})
	return r
}

// Invoke runs t with the first matching Invoker. A resource nobody handles
// fails the task with States.Runtime.
func (r *Router) Invoke(ctx context.Context, t *engine.Task) (any, error) {
	for _, rt := range r.routes {
		if rt.match(t.Resource) {
			return rt.inv.Invoke(ctx, t)
		}
	}
	return nil, fault.New(fault.Runtime, "The resource '"+t.Resource+"' is not supported by this Stepwell server.")
}
