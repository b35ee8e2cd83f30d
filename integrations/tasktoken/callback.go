package tasktoken

import (
	"context"
	"strings"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/fault"
)

// Callback returns the invoker of .waitForTaskToken tasks: it calls the
// request-response form of the resource (the same resource without the
// suffix) through inner, records its response as TaskSubmitted, then waits
// for SendTaskSuccess or SendTaskFailure on the task's token. inner is
// typically the router this invoker is registered in.
func (b *Broker) Callback(inner engine.Invoker) engine.Invoker {
	return callbackInvoker{b: b, inner: inner}
}

type callbackInvoker struct {
	b     *Broker
	inner engine.Invoker
}

func (c callbackInvoker) Invoke(ctx context.Context, t *engine.Task) (any, error) {
	base, ok := strings.CutSuffix(t.Resource, ".waitForTaskToken")
	if !ok || !IsCallback(t.Resource) {
		return nil, fault.New(fault.Runtime, "The resource '"+t.Resource+"' does not support the .waitForTaskToken pattern.")
	}
	return c.b.Await(ctx, t, func(ctx context.Context) (any, error) {
		rr := *t
		rr.Resource = base
		rr.Submitted, rr.Started, rr.Beat = nil, nil, nil
		return c.inner.Invoke(ctx, &rr)
	})
}

// Await runs a .waitForTaskToken task: it opens t's token, runs submit
// (the request that hands the token to someone), records its result with
// t.Submitted, and waits until the token is completed or ctx ends. An
// error from submit fails the task at once. Integrations with their own
// request (states:startExecution.waitForTaskToken) call it directly.
func (b *Broker) Await(ctx context.Context, t *engine.Task, submit func(ctx context.Context) (any, error)) (any, error) {
	if t.TaskToken == "" {
		return nil, fault.New(fault.Runtime, "The task "+t.Resource+" has no task token.")
	}
	// Open before the request: the callback may arrive before it returns.
	p := b.register(t, "")
	resp, err := submit(ctx)
	if err != nil {
		if !b.take(p) {
			// Completed during the request: that result stands.
			o := <-p.done
			return o.out, o.err
		}
		return nil, err
	}
	if t.Submitted != nil {
		t.Submitted(resp)
	}
	return b.wait(ctx, p)
}
