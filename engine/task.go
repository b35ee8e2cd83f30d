package engine

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/jsonpath"
)

// resourceKind is how a Task's Resource shows in history.
type resourceKind uint8

const (
	resService  resourceKind = iota // arn:aws:states:::service:action → Task* events
	resLambda                       // arn:aws:lambda:…:function:name → LambdaFunction* events
	resActivity                     // arn:aws:states:…:activity:name → Activity* events
)

// resourceInfo classifies a Task's Resource.
type resourceInfo struct {
	kind         resourceKind
	resourceType string // service, e.g. "lambda"
	resource     string // action with suffix, e.g. "invoke", "sendMessage.waitForTaskToken"
	callback     bool   // .waitForTaskToken
}

func classify(res string) resourceInfo {
	parts := strings.SplitN(res, ":", 7)
	if len(parts) >= 7 && parts[0] == "arn" && parts[2] == "lambda" && parts[5] == "function" {
		return resourceInfo{kind: resLambda}
	}
	if len(parts) >= 6 && parts[0] == "arn" && parts[2] == "states" && parts[5] == "activity" {
		return resourceInfo{kind: resActivity, callback: true}
	}
	info := resourceInfo{kind: resService}
	if len(parts) >= 6 && parts[0] == "arn" && parts[2] == "states" {
		rest := strings.Join(parts[5:], ":")
		// The service is the first segment ("states" of
		// states:startExecution.sync:2), or two for aws-sdk:<service>.
		i := strings.IndexByte(rest, ':')
		if strings.HasPrefix(rest, "aws-sdk:") {
			i = strings.LastIndexByte(rest, ':')
		}
		if i >= 0 {
			info.resourceType, info.resource = rest[:i], rest[i+1:]
		} else {
			info.resource = rest
		}
	} else {
		info.resource = res
	}
	info.callback = strings.HasSuffix(res, ".waitForTaskToken")
	return info
}

// taskTimeout is the cancellation cause of a task's TimeoutSeconds.
type taskTimeout struct{}

func (taskTimeout) Error() string { return "task timed out" }

// positiveSeconds resolves a TimeoutSecondsPath or HeartbeatSecondsPath.
func positiveSeconds(p *jsonpath.Path, env *asl.Env, field string) (int64, *fault.Error) {
	v, fe := resolve(p, env)
	if fe != nil {
		return 0, fe
	}
	switch n := v.(type) {
	case int64:
		if n > 0 {
			return n, nil
		}
	case *big.Int:
		return 99999999, nil
	}
	return 0, runtimeErr(env, "The "+field+" field refers to value \""+stringOf(v)+"\" which is not a valid integer: "+p.String())
}

// tokenKey signs the task tokens of engines without Config.TokenKey. It is
// random per process: a token cannot be guessed or forged, and a token of
// an earlier process is not valid.
var tokenKey = func() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}()

// key is the engine's token signing key.
func (e *Engine) key() []byte {
	if len(e.cfg.TokenKey) > 0 {
		return e.cfg.TokenKey
	}
	return tokenKey
}

// A task token is "AQB" and the URL-safe base64 of a body (a hash of the
// execution ARN, the execution's start time in milliseconds, and a number
// telling the attempt apart) and its HMAC-SHA256.
const (
	tokenBody   = 12 + 8 + 8
	tokenMAC    = 32
	tokenHead   = "AQB"
	tokenLength = len(tokenHead) + (tokenBody+tokenMAC+2)/3*4
)

// newToken returns a task token for one task attempt: long, unique and
// unguessable, as AWS's are. In a recorded thread the attempt's number is
// the id of the thread's latest event (the state's Entered event, or the
// previous attempt's result): unique in the execution, and the same when
// the execution is resumed after a restart, so a resumed attempt has the
// token it handed out before (with the same key). Elsewhere it is a
// sequence number with the top bit set.
func (t *thread) newToken() string {
	var n uint64
	if t.log.keeps() && t.last > 0 {
		n = uint64(t.last)
	} else {
		n = uint64(t.ex.tokenSeq.Add(1)) | 1<<63
	}
	var buf [tokenBody + tokenMAC]byte
	h := sha256.Sum256([]byte(t.ex.x.ARN))
	copy(buf[:12], h[:12])
	binary.BigEndian.PutUint64(buf[12:20], uint64(t.ex.x.StartTime.UnixMilli()))
	binary.BigEndian.PutUint64(buf[20:28], n)
	key := tokenKey
	if t.ex.e != nil {
		key = t.ex.e.key()
	}
	m := hmac.New(sha256.New, key)
	m.Write(buf[:tokenBody])
	m.Sum(buf[tokenBody:tokenBody])
	return tokenHead + base64.URLEncoding.EncodeToString(buf[:])
}

// ValidTaskToken reports whether token is a task token signed with this
// process's random key (engines without Config.TokenKey), whether or not
// its task is still open. SendTask* answer InvalidToken for the others.
func ValidTaskToken(token string) bool { return validToken(tokenKey, token) }

// ValidTaskToken reports whether token is a task token signed with the
// engine's key, whether or not its task is still open.
func (e *Engine) ValidTaskToken(token string) bool { return validToken(e.key(), token) }

func validToken(key []byte, token string) bool {
	rest, ok := strings.CutPrefix(token, tokenHead)
	if !ok || len(token) != tokenLength {
		return false
	}
	var buf [tokenBody + tokenMAC]byte
	if n, err := base64.URLEncoding.Decode(buf[:], []byte(rest)); err != nil || n != len(buf) {
		return false
	}
	m := hmac.New(sha256.New, key)
	m.Write(buf[:tokenBody])
	return hmac.Equal(m.Sum(nil), buf[tokenBody:])
}

// Checker is the engine's optional Config.Checker: Check runs before a task
// attempt is scheduled. A non-nil error fails the execution with
// States.Runtime and no Scheduled event, its text (a *fault.Error's Cause)
// after the state's "An error occurred while executing the state" prefix,
// as AWS does for an activity that does not exist.
type Checker interface {
	Check(ctx context.Context, t *Task) error
}

// heartbeat enforces HeartbeatSeconds: the task times out when more than d
// passes without a beat once watch has started it. d = 0 means no limit.
type heartbeat struct {
	clock Clock
	d     time.Duration
	last  atomic.Int64 // UnixNano of the latest beat
}

func (h *heartbeat) beat() {
	if h != nil {
		h.last.Store(h.clock.Now().UnixNano())
	}
}

// watch starts the clock; it cancels ctx with taskTimeout when a beat is
// overdue.
func (h *heartbeat) watch(ctx context.Context, cancel context.CancelCauseFunc) {
	if h == nil || h.d <= 0 {
		return
	}
	h.watchFrom(ctx, cancel, h.clock.Now())
}

// watchFrom starts the clock as if the latest beat had been at.
func (h *heartbeat) watchFrom(ctx context.Context, cancel context.CancelCauseFunc, at time.Time) {
	if h == nil || h.d <= 0 {
		return
	}
	h.last.Store(at.UnixNano())
	go func() {
		for {
			since := time.Duration(h.clock.Now().UnixNano() - h.last.Load())
			if since >= h.d {
				cancel(taskTimeout{})
				return
			}
			if h.clock.Sleep(ctx, h.d-since) != nil {
				return
			}
		}
	}()
}

// deadline cancels ctx with taskTimeout once d has passed since since
// (now when zero).
func (t *thread) deadline(ctx context.Context, cancel context.CancelCauseFunc, d time.Duration, since time.Time) {
	if d <= 0 {
		return
	}
	if !since.IsZero() {
		d -= t.ex.now().Sub(since)
	}
	go func() {
		if d <= 0 || t.ex.e.clock.Sleep(ctx, d) == nil {
			cancel(taskTimeout{})
		}
	}()
}

// taskError converts an Invoker's or Resumer's error.
func taskError(ctx context.Context, err error) *fault.Error {
	if _, ok := context.Cause(ctx).(taskTimeout); ok {
		return &fault.Error{Name: fault.Timeout, HasName: true}
	}
	if fe, ok := fault.As(err); ok {
		return fe
	}
	return fault.New(fault.TaskFailed, err.Error())
}

// taskPlan is a compiled Task state.
type taskPlan struct {
	base
	info resourceInfo
	// tokened: every attempt gets a task token (callbacks, activities,
	// and .sync tasks: SendTaskSuccess or SendTaskFailure on it completes
	// them early, as on AWS).
	tokened bool
	// submits: the integration reports its initial response (.sync and
	// .waitForTaskToken service integrations), recorded as TaskSubmitted.
	submits bool
}

func newTaskPlan(b base) *taskPlan {
	info := classify(b.st.Resource)
	sync := info.kind == resService && strings.Contains(info.resource, ".sync")
	return &taskPlan{base: b, info: info, tokened: info.callback || sync,
		submits: info.kind == resService && (info.callback || sync)}
}

func (p *taskPlan) run(t *thread, raw any) (any, string, *failure) {
	return t.retried(&p.base, raw, p, history.TaskStateAborted)
}

func (p *taskPlan) attempt(t *thread, r *stateRun, raw any) (any, string, *failure, bool) {
	st, info := p.st, &p.info
	if p.tokened {
		// Every attempt gets a new token (after a timeout, AWS's retry
		// does too).
		r.sc.token = t.newToken()
		t.refreshContext(r)
	}
	eff, f := p.flow.effective(t, r, raw, true)
	if f != nil {
		return nil, "", f, !f.fatal
	}
	timeout, heartbeat, creds, f := p.flow.taskSettings(t, r, raw)
	if f != nil {
		return nil, "", f, !f.fatal
	}
	task := &Task{
		Resource: st.Resource, Input: eff, StateName: st.Name, ExecutionARN: t.ex.x.ARN,
		Region: t.ex.e.cfg.Region, AccountID: t.ex.e.cfg.AccountID, TaskToken: r.sc.token, Credentials: creds,
		RetryCount: int(r.sc.retry),
	}
	if timeout != nil {
		task.Timeout = t.ex.e.scaled(float64(*timeout))
	}
	if heartbeat != nil {
		task.Heartbeat = t.ex.e.scaled(float64(*heartbeat))
	}
	if p.submits {
		var once sync.Once
		task.Submitted = func(out any) { once.Do(func() { t.submittedEvent(info, out) }) }
	}
	var result any
	var fe *fault.Error
	if t.test != nil {
		result, fe = t.test.work(t, task, info)
	} else {
		if c := t.ex.e.cfg.Checker; c != nil {
			if err := c.Check(t.ctx, task); err != nil {
				msg := err.Error()
				if fe, ok := fault.As(err); ok {
					msg = fe.Cause
				}
				return nil, "", t.fatalf(runtimeErr(&r.env, msg)), false
			}
		}
		t.scheduledEvents(st, info, eff, timeout, heartbeat, creds)
		retake := t.yieldSlot() // fanout.go: a task waits on the outside
		result, fe = t.log.attempt(t, task, info)
		retake()
		if t.cancelled() || fe == errReplayAbort {
			t.abortEvent(history.TaskStateAborted)
			return nil, "", t.aborted(), false
		}
	}
	if fe == nil && jsonSizeExceeds(result, t.ex.e.maxPayload) {
		name := st.Resource
		if info.kind == resService {
			name = info.resourceType
		}
		fe = dataLimit(name)
	}
	if fe != nil {
		t.failedEvent(info, fe)
		return nil, "", t.fail(fe), true
	}
	t.succeededEvent(info, result)
	// A failure after success (ResultPathMatchFailure) is retried and
	// caught too.
	out, next, f := t.stateResult(r, raw, result)
	return out, next, f, true
}

func (p *taskPlan) exhausted(*thread, *failure) {}

// stateResult turns the result of a Task, Parallel or Map into the
// state's output (ResultSelector, Assign, ResultPath and OutputPath) and
// records the Exited event.
func (t *thread) stateResult(r *stateRun, raw, result any) (any, string, *failure) {
	if t.test != nil {
		t.test.res.Inspect.Result = textOf(result)
	}
	out, assigned, f := r.b.flow.result(t, r, raw, result)
	if f != nil {
		return nil, "", f
	}
	if out, f = t.exit(r, out, assigned); f != nil {
		return nil, "", f
	}
	return out, r.b.next, nil
}

// invoke runs the task through the Invoker, enforcing TimeoutSeconds
// (counted from since, or from now when zero) and, for activities and
// callbacks, HeartbeatSeconds.
func (t *thread) invoke(task *Task, info *resourceInfo, since time.Time) (any, *fault.Error) {
	t.settled()
	if info.kind == resActivity {
		// Queueing an activity task has no side effect: the worker's
		// delivery (Started) flushes these events with ActivityStarted
		// before the worker gets the task, so recording them need not
		// delay the queueing.
		go t.ex.flush()
	} else {
		t.ex.flush()
		if t.ctx.Err() != nil {
			// Stopped, or the scheduling events could not be recorded: no
			// side effect without its durable history.
			return nil, fault.New(fault.Runtime, "not invoked: the execution was interrupted")
		}
	}
	inv := t.ex.e.cfg.Invoker
	if inv == nil {
		return nil, fault.New(fault.Runtime, "no task integration is configured for resource "+task.Resource)
	}
	ctx, cancel := context.WithCancelCause(t.ctx)
	defer cancel(nil)
	t.deadline(ctx, cancel, task.Timeout, since)
	var hb *heartbeat
	if info.callback {
		hb = &heartbeat{clock: t.ex.e.clock, d: task.Heartbeat}
		task.Beat = hb.beat
		if info.kind != resActivity {
			hb.watch(ctx, cancel)
		}
	}
	if info.kind == resActivity {
		// GetActivityTask calls Started from another goroutine: the mutex
		// orders its event before this thread's next ones.
		var mu sync.Mutex
		ended := false
		task.Started = func(worker string) bool {
			mu.Lock()
			defer mu.Unlock()
			if ended || ctx.Err() != nil {
				return false
			}
			t.activityStartedEvent(worker)
			hb.watch(ctx, cancel)
			return true
		}
		defer func() {
			mu.Lock()
			ended = true
			mu.Unlock()
		}()
	}
	res, err := inv.Invoke(ctx, task)
	if err == nil {
		return res, nil
	}
	return nil, taskError(ctx, err)
}

func (t *thread) scheduledEvents(st *asl.State, info *resourceInfo, eff any, timeout, heartbeat *int64, creds any) {
	e := event{st: st, info: info, data: eff, timeout: timeout, beat: heartbeat, creds: creds}
	switch info.kind {
	case resLambda:
		e.typ = history.LambdaFunctionScheduled
		t.add(e)
		t.simpleEvent(history.LambdaFunctionStarted)
	case resActivity:
		// ActivityStarted follows when a worker receives the task.
		e.typ = history.ActivityScheduled
		t.add(e)
	default:
		e.typ = history.TaskScheduled
		t.add(e)
		t.add(event{typ: history.TaskStarted, info: info})
	}
}

func (t *thread) succeededEvent(info *resourceInfo, result any) {
	typ := history.TaskSucceeded
	switch info.kind {
	case resLambda:
		typ = history.LambdaFunctionSucceeded
	case resActivity:
		typ = history.ActivitySucceeded
	}
	t.add(event{typ: typ, info: info, data: result})
}

func (t *thread) failedEvent(info *resourceInfo, fe *fault.Error) {
	timedOut := fe.HasName && fe.Name == fault.Timeout
	var typ history.EventType
	switch info.kind {
	case resLambda:
		typ = history.LambdaFunctionFailed
		if timedOut {
			typ = history.LambdaFunctionTimedOut
		}
	case resActivity:
		typ = history.ActivityFailed
		if timedOut {
			typ = history.ActivityTimedOut
		}
	default:
		typ = history.TaskFailed
		if timedOut {
			typ = history.TaskTimedOut
		}
	}
	t.add(event{typ: typ, info: info, fe: fe})
}

// submittedEvent records TaskSubmitted with the initial API response of a
// .sync or .waitForTaskToken task.
func (t *thread) submittedEvent(info *resourceInfo, out any) {
	t.add(event{typ: history.TaskSubmitted, info: info, data: out})
	if t.log.keeps() {
		t.ex.flush()
	}
}

// activityStartedEvent records ActivityStarted with the worker's name and
// hands it to the recorder at once (GetExecutionHistory shows it while the
// worker runs).
func (t *thread) activityStartedEvent(worker string) {
	t.add(event{typ: history.ActivityStarted, text: worker})
	if t.log.keeps() {
		t.ex.flush()
	}
}
