// Package tasktoken runs the Task states that wait for someone else to
// finish them: activity tasks, which workers receive with GetActivityTask,
// and .waitForTaskToken tasks, which wait for a callback. Both end with
// SendTaskSuccess or SendTaskFailure on their task token, and
// SendTaskHeartbeat keeps them alive.
//
// A Broker holds the open tasks. Wrap puts it in front of the other
// integrations (the router):
//
//	tasks := broker.Wrap(router)
//	engine.Config{Invoker: tasks, Checker: tasks, Resumer: tasks}
//
// (or, route by route, Activities, Callback and Guard). The engine then
// checks, before scheduling, that an activity exists: AWS fails the
// execution with States.Runtime otherwise; and after a restart it resumes
// the tasks whose token was handed out. The executions service calls
// Poll, Succeed, Fail and Heartbeat (the Broker is its TaskBroker), which
// return the engine's errors of the task-token protocol
// (engine.ErrInvalidToken, engine.ErrTaskTimedOut, …).
package tasktoken

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/stepwell/stepwell/arn"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/internal/clock"
	"github.com/stepwell/stepwell/store"
	"github.com/stepwell/stepwell/value"
)

// Defaults.
const (
	// DefaultMaxPollers is AWS's limit of concurrent pollers per activity.
	DefaultMaxPollers = 1000
	// DefaultPollTimeout is how long GetActivityTask waits for a task.
	DefaultPollTimeout = 60 * time.Second
)

// Broker holds the open activity and callback tasks. Set the exported
// fields before first use; it is safe for concurrent use afterwards.
type Broker struct {
	// Store is where activities live (required for Guard and Poll).
	Store store.ActivityStore
	// MaxPollers bounds concurrent pollers per activity (default
	// DefaultMaxPollers).
	MaxPollers int
	// Tokens tells the task tokens it issued (typically the *engine.Engine
	// running the tasks, whose Config.TokenKey signs them); nil accepts
	// the tokens of engines without a TokenKey (engine.ValidTaskToken).
	Tokens TokenValidator
	// Clock times GetActivityTask's wait (default clock.Real).
	Clock clock.Clock

	// onQueued, when set (by tests), is called each time a task joins its
	// activity's queue.
	onQueued func(activity string)

	mu     sync.Mutex
	open   map[string]*pending // by token
	queues map[string]*queue   // by activity ARN
}

// clock returns the Clock to use.
func (b *Broker) clock() clock.Clock {
	if b.Clock == nil {
		return clock.Real{}
	}
	return b.Clock
}

// TokenValidator tells the task tokens an engine issued.
type TokenValidator interface {
	ValidTaskToken(token string) bool
}

// valid reports whether token is one the engine issued.
func (b *Broker) valid(token string) bool {
	if b.Tokens != nil {
		return b.Tokens.ValidTaskToken(token)
	}
	return engine.ValidTaskToken(token)
}

// pending is one open task.
type pending struct {
	token    string
	task     *engine.Task
	activity string // activity ARN; "" for callbacks
	input    string // the activity input as JSON text
	done     chan outcome
	queued   bool // in its activity queue (guarded by Broker.mu)
	// started: ActivityStarted is recorded (task.Started returned true);
	// the task is never started twice (guarded by Broker.mu).
	started bool
	// ctx is the activity task's context (Invoke's): it ends when the
	// task does, including when the execution could not record its
	// history.
	ctx context.Context
}

type outcome struct {
	out any
	err error
}

// queue is one activity's tasks waiting for a worker and workers waiting
// for a task; at most one of the two lists is non-empty.
type queue struct {
	tasks   []*pending
	pollers []*poller
}

// poller is one GetActivityTask call waiting for a task. Whoever removes
// it from its queue owes it exactly one send on ch: a task, or nil (the
// task it was reserved for ended before it could be started).
type poller struct {
	ch     chan *pending // buffered (1)
	worker string
}

// New returns a Broker for the activities in st.
func New(st store.ActivityStore) *Broker {
	return &Broker{Store: st, open: make(map[string]*pending), queues: make(map[string]*queue)}
}

// IsActivity reports whether resource is an activity ARN.
func IsActivity(resource string) bool {
	a, err := arn.Parse(resource)
	return err == nil && a.Type == arn.Activity
}

// IsCallback reports whether resource uses the .waitForTaskToken pattern
// (the HTTP Task does not support it).
func IsCallback(resource string) bool {
	return strings.HasSuffix(resource, ".waitForTaskToken") && !strings.Contains(resource, ":::http:")
}

// register opens a task under its token.
func (b *Broker) register(t *engine.Task, activity string) *pending {
	p := &pending{token: t.TaskToken, task: t, activity: activity, done: make(chan outcome, 1)}
	if activity != "" {
		p.input = value.String(t.Input)
	}
	b.mu.Lock()
	b.open[p.token] = p
	b.mu.Unlock()
	return p
}

// take closes p if it is still open, under b.mu; it reports whether it
// was.
func (b *Broker) takeLocked(p *pending) bool {
	if b.open[p.token] != p {
		return false
	}
	delete(b.open, p.token)
	if p.queued {
		q := b.queues[p.activity]
		for i, x := range q.tasks {
			if x == p {
				q.tasks = append(q.tasks[:i], q.tasks[i+1:]...)
				break
			}
		}
		p.queued = false
		b.dropIdle(p.activity, q)
	}
	return true
}

func (b *Broker) take(p *pending) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.takeLocked(p)
}

// dropIdle forgets an activity's queue when nothing waits in it.
func (b *Broker) dropIdle(activity string, q *queue) {
	if len(q.tasks) == 0 && len(q.pollers) == 0 {
		delete(b.queues, activity)
	}
}

// wait blocks until p is completed or ctx ends (timeout, heartbeat,
// execution stopped); either way p is closed afterwards.
func (b *Broker) wait(ctx context.Context, p *pending) (any, error) {
	select {
	case o := <-p.done:
		return o.out, o.err
	case <-ctx.Done():
		if !b.take(p) {
			// Completed at the same moment: the result wins.
			o := <-p.done
			return o.out, o.err
		}
		return nil, ctx.Err()
	}
}

// complete hands o to the open task with token.
func (b *Broker) complete(token string, o outcome) error {
	if !b.valid(token) {
		return engine.ErrInvalidToken
	}
	b.mu.Lock()
	p, ok := b.open[token]
	if ok {
		b.takeLocked(p)
	}
	b.mu.Unlock()
	if !ok {
		return engine.ErrTaskTimedOut
	}
	p.done <- o
	return nil
}

// Succeed completes the task with output (SendTaskSuccess).
func (b *Broker) Succeed(token, output string) error {
	if !b.valid(token) {
		return engine.ErrInvalidToken
	}
	v, err := value.ParseString(output)
	if err != nil {
		return engine.ErrInvalidOutput
	}
	return b.complete(token, outcome{out: v})
}

// Fail fails the task (SendTaskFailure); a nil error or cause is absent
// (AWS then shows null).
func (b *Broker) Fail(token string, errName, cause *string) error {
	fe := &fault.Error{}
	if errName != nil {
		fe.Name, fe.HasName = *errName, true
	}
	if cause != nil {
		fe.Cause, fe.HasCause = *cause, true
	}
	return b.complete(token, outcome{err: fe})
}

// Heartbeat restarts the task's HeartbeatSeconds clock (SendTaskHeartbeat).
func (b *Broker) Heartbeat(token string) error {
	if !b.valid(token) {
		return engine.ErrInvalidToken
	}
	b.mu.Lock()
	p, ok := b.open[token]
	b.mu.Unlock()
	if !ok {
		return engine.ErrTaskTimedOut
	}
	if p.task.Beat != nil {
		p.task.Beat()
	}
	return nil
}

// Resume implements engine.Resumer: after a restart, the task of t, whose
// token was handed out before the stop (an activity task a worker had
// received, a .waitForTaskToken task whose request was made), is open
// again under the same token when Resume returns, and wait blocks until
// SendTaskSuccess or SendTaskFailure completes it or ctx ends. Nothing is
// sent or queued: an activity task is not given to a worker again (its
// worker has it). Other resources get engine.ErrNotResumable.
func (b *Broker) Resume(ctx context.Context, t *engine.Task) (wait func() (any, error), err error) {
	activity := ""
	switch {
	case t.TaskToken == "":
		return nil, engine.ErrNotResumable
	case IsActivity(t.Resource):
		activity = t.Resource
	case !IsCallback(t.Resource):
		return nil, engine.ErrNotResumable
	}
	p := b.register(t, activity)
	b.mu.Lock()
	p.ctx, p.started = ctx, activity != ""
	b.mu.Unlock()
	return func() (any, error) { return b.wait(ctx, p) }, nil
}

// OpenTasks returns how many tasks are open (for tests and metrics).
func (b *Broker) OpenTasks() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.open)
}
