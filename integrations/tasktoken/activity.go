package tasktoken

import (
	"context"
	"errors"
	"time"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/internal/clock"
	"github.com/stepwell/stepwell/store"
)

// Activities returns the invoker of activity tasks: each task waits in its
// activity's queue until a worker receives it with Poll, then until the
// worker completes it.
func (b *Broker) Activities() engine.Invoker { return activityInvoker{b} }

type activityInvoker struct{ b *Broker }

func (a activityInvoker) Invoke(ctx context.Context, t *engine.Task) (any, error) {
	b := a.b
	if t.TaskToken == "" {
		return nil, fault.New(fault.Runtime, "The activity task "+t.Resource+" has no task token.")
	}
	p := b.register(t, t.Resource)
	p.ctx = ctx
	var w *poller
	b.mu.Lock()
	if b.open[p.token] == p {
		q := b.queues[p.activity]
		if q == nil {
			q = &queue{}
			b.queues[p.activity] = q
		}
		if n := len(q.pollers); n > 0 {
			w = q.pollers[0]
			q.pollers[0] = nil
			q.pollers = q.pollers[1:]
			b.dropIdle(p.activity, q)
		} else {
			q.tasks = append(q.tasks, p)
			p.queued = true
		}
	}
	queued := p.queued
	b.mu.Unlock()
	if w != nil {
		b.handOver(p, w)
	} else if queued && b.onQueued != nil {
		b.onQueued(p.activity)
	}
	return b.wait(ctx, p)
}

// handOver gives p to the worker w, which waits for it: ActivityStarted is
// recorded here, on the execution's own goroutine, before w receives the
// task. The engine is then likely to record the scheduling events and
// ActivityStarted in one durable write (they wait in the same batch), and
// the worker returns as soon as it wakes. If p ended meanwhile, w is told
// to poll again.
func (b *Broker) handOver(p *pending, w *poller) {
	if !b.start(p, w.worker) {
		w.ch <- nil
		return
	}
	w.ch <- p
}

// Poll waits up to wait for a task of the activity and returns its token
// and input, or empty strings when none came (GetActivityTask). The wait,
// on the broker's Clock, starts when Poll first finds no task queued.
// workerName is recorded in ActivityStarted. It returns
// engine.ErrActivityDoesNotExist for an unknown activity and
// engine.ErrWorkerLimit when MaxPollers are waiting already.
func (b *Broker) Poll(ctx context.Context, activityARN, workerName string, wait time.Duration) (token, input string, err error) {
	if _, err := b.Store.GetActivity(ctx, activityARN); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return "", "", engine.ErrActivityDoesNotExist
		}
		return "", "", err
	}
	if wait <= 0 {
		wait = DefaultPollTimeout
	}
	limit := b.MaxPollers
	if limit <= 0 {
		limit = DefaultMaxPollers
	}
	var deadline clock.Timer // armed once Poll waits
	defer func() {
		if deadline != nil {
			deadline.Stop()
		}
	}()
	for {
		b.mu.Lock()
		q := b.queues[activityARN]
		if q != nil && len(q.tasks) > 0 {
			p := q.tasks[0]
			q.tasks[0] = nil
			q.tasks = q.tasks[1:]
			p.queued = false
			b.dropIdle(activityARN, q)
			b.mu.Unlock()
			if b.start(p, workerName) {
				return p.token, p.input, nil
			}
			continue
		}
		if q == nil {
			q = &queue{}
			b.queues[activityARN] = q
		}
		if len(q.pollers) >= limit {
			b.mu.Unlock()
			return "", "", engine.ErrWorkerLimit
		}
		w := &poller{ch: make(chan *pending, 1), worker: workerName}
		q.pollers = append(q.pollers, w)
		b.mu.Unlock()
		if deadline == nil {
			// Armed only now, with the poller queued: a test that waits
			// for the clock's waiters knows the poller is waiting.
			deadline = b.clock().NewTimer(wait)
		}

		var p *pending
		gaveUp := false
		select {
		case p = <-w.ch:
		case <-ctx.Done():
			gaveUp = true
		case <-deadline.C():
			gaveUp = true
		}
		if gaveUp {
			b.mu.Lock()
			waiting := false
			if q := b.queues[activityARN]; q != nil {
				for i, x := range q.pollers {
					if x == w {
						q.pollers = append(q.pollers[:i], q.pollers[i+1:]...)
						waiting = true
						break
					}
				}
				b.dropIdle(activityARN, q)
			}
			b.mu.Unlock()
			if waiting {
				return "", "", ctx.Err()
			}
			// Taken by a task just before we left: its send is owed and
			// comes as soon as its ActivityStarted is recorded.
			if p = <-w.ch; p == nil {
				return "", "", ctx.Err()
			}
			if ctx.Err() != nil {
				// The caller is gone: give the task to someone else.
				b.requeue(p)
				return "", "", ctx.Err()
			}
		}
		if !gaveUp && p != nil && ctx.Err() != nil {
			// The caller left as the task came and select chose the
			// task: as above, give it to someone else.
			b.requeue(p)
			return "", "", ctx.Err()
		}
		if p != nil && b.start(p, workerName) {
			return p.token, p.input, nil
		}
		if gaveUp {
			return "", "", nil
		}
	}
}

// start marks p delivered to a worker (ActivityStarted, durable before it
// returns); false when its task has ended. A task already started (handed
// over, then requeued because its worker's call was gone) is not started
// again: its history keeps the first worker's name.
func (b *Broker) start(p *pending, workerName string) bool {
	b.mu.Lock()
	open := b.open[p.token] == p
	started := p.started
	b.mu.Unlock()
	if !open {
		return false
	}
	if started {
		return true
	}
	if p.task.Started != nil && !p.task.Started(workerName) {
		return false
	}
	if p.ctx != nil && p.ctx.Err() != nil {
		// Ended meanwhile, or ActivityStarted could not be recorded (the
		// engine then fails the execution): not for a worker.
		return false
	}
	b.mu.Lock()
	p.started = true
	b.mu.Unlock()
	return true
}

// requeue puts an undelivered task back at the head of its queue, or hands
// it to a waiting poller.
func (b *Broker) requeue(p *pending) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.open[p.token] != p {
		return
	}
	q := b.queues[p.activity]
	if q == nil {
		q = &queue{}
		b.queues[p.activity] = q
	}
	if len(q.pollers) > 0 {
		w := q.pollers[0]
		q.pollers[0] = nil
		q.pollers = q.pollers[1:]
		b.dropIdle(p.activity, q)
		w.ch <- p // its worker starts it unless it was started already
		return
	}
	q.tasks = append([]*pending{p}, q.tasks...)
	p.queued = true
}

// Integration is what Guard and Wrap put the broker in front of, and
// what they return: an engine.Invoker whose engine.Checker and
// engine.Resumer are part of its type, so that each layer passes them on
// explicitly instead of finding them, or losing them, by type assertion.
// integrations.Router is one.
type Integration interface {
	engine.Invoker
	engine.Checker
	engine.Resumer
}

// Guard wraps next (typically the router) so that the engine checks, before
// scheduling an activity task, that the activity exists: AWS fails the
// execution with States.Runtime "The activity <arn> does not exist."
// otherwise. next runs every task and checks it first; the broker resumes
// the activity and .waitForTaskToken tasks (Broker.Resume), next the others.
func (b *Broker) Guard(next Integration) Integration { return guard{b: b, next: next} }

type guard struct {
	b    *Broker
	next Integration
}

// holds reports whether the broker holds the token of a task of resource
// once it is handed out: an activity task or a .waitForTaskToken task.
func holds(resource string) bool { return IsActivity(resource) || IsCallback(resource) }

// Resume implements engine.Resumer: the broker resumes the tasks it holds
// the tokens of, next the others.
func (g guard) Resume(ctx context.Context, t *engine.Task) (func() (any, error), error) {
	if holds(t.Resource) {
		return g.b.Resume(ctx, t)
	}
	return g.next.Resume(ctx, t)
}

func (g guard) Invoke(ctx context.Context, t *engine.Task) (any, error) { return g.next.Invoke(ctx, t) }

// Check implements engine.Checker: next's check, then that an activity
// exists.
func (g guard) Check(ctx context.Context, t *engine.Task) error {
	if err := g.next.Check(ctx, t); err != nil {
		return err
	}
	if !IsActivity(t.Resource) {
		return nil
	}
	_, err := g.b.Store.GetActivity(ctx, t.Resource)
	if errors.Is(err, store.ErrNotFound) {
		return fault.New(fault.Runtime, "The activity "+t.Resource+" does not exist.")
	}
	if err != nil {
		return fault.New(fault.Runtime, "The activity "+t.Resource+" could not be read: "+err.Error())
	}
	return nil
}

// Wrap returns the engine's invoker over next (typically the router):
// activity tasks go to the broker's queues, .waitForTaskToken tasks run
// their request-response form through next and then wait for their token,
// everything else goes to next. It checks every task with next and, before
// scheduling, that an activity exists; it resumes as Guard does.
func (b *Broker) Wrap(next Integration) Integration {
	return guard{b: b, next: wrapped{acts: b.Activities(), callback: b.Callback(next), next: next}}
}

// wrapped dispatches Wrap's tasks; checking and resuming are next's (guard
// resumes the broker's tasks before they reach it).
type wrapped struct {
	acts, callback engine.Invoker
	next           Integration
}

func (w wrapped) Invoke(ctx context.Context, t *engine.Task) (any, error) {
	switch {
	case IsActivity(t.Resource):
		return w.acts.Invoke(ctx, t)
	case IsCallback(t.Resource):
		return w.callback.Invoke(ctx, t)
	}
	return w.next.Invoke(ctx, t)
}

// Check implements engine.Checker with next's.
func (w wrapped) Check(ctx context.Context, t *engine.Task) error { return w.next.Check(ctx, t) }

// Resume implements engine.Resumer with next's.
func (w wrapped) Resume(ctx context.Context, t *engine.Task) (func() (any, error), error) {
	return w.next.Resume(ctx, t)
}
