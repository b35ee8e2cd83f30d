package engine

import (
	"context"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/value"
)

// execution is the per-execution state shared by all its threads.
type execution struct {
	e       *Engine
	x       *Execution
	rec     Recorder
	ctx     context.Context // &ectx
	ectx    execCtx
	input   any
	needCtx bool // some state may read $$ (asl.Reads.Context)
	// needVars: some state reads or assigns variables
	// (asl.Reads.Variables); else branches and iterations share their
	// parent's (never written) scope instead of a new one each.
	needVars bool

	mu     sync.Mutex
	nextID atomic.Int64 // the latest event's id (added to under mu when recorded)
	fatal  *fault.Error // set when the history limit or the recorder fails

	// bufs holds the events waiting for the next flush (bufs.a, guarded
	// by mu) and the buffer they swap with while a batch is being
	// recorded (bufs.b, guarded by flushMu, which orders Record calls);
	// nil without a Recorder. Replaced or cleared under both.
	flushMu sync.Mutex
	bufs    *eventBufs

	// replay is the recorded history of a resumed execution (nil when
	// not resuming).
	replay *replayer

	// top is the top-level thread and topVars its variables (run).
	top     thread
	topVars scope
	output  string // a succeeded execution's output (Result.Output)

	// firstBy is when the first batch of events must be written
	// (Execution.FirstWriteWithin; Unix ns, 0 for no bound or once
	// written).
	firstBy atomic.Int64

	ctxParts atomic.Pointer[ctxParts] // made the first time a state reads $$
	tokenSeq atomic.Int64

	// slots bound the branches and iterations running at once (fanout.go).
	slotsOnce sync.Once
	slots     chan struct{}
}

func newExecution(e *Engine, parent context.Context, x *Execution, rec Recorder) *execution {
	ex := &execution{}
	ex.init(e, parent, x, rec)
	return ex
}

// init sets up ex, a zero or recycled execution, to run x.
func (ex *execution) init(e *Engine, parent context.Context, x *Execution, rec Recorder) {
	if parent == nil {
		parent = context.Background()
	}
	if x == nil {
		x = &Execution{}
	}
	// A recycled struct has its engine and ctx already, and no rec: while
	// the collector marks, each pointer written goes through a write
	// barrier.
	if ex.e != e {
		ex.e = e
	}
	ex.x = x
	if rec != nil {
		ex.rec = rec
	}
	// Skipped when both are Background (a write barrier less while the
	// collector marks); comparing with Background never panics, as
	// comparing two contexts of an uncomparable type would.
	bg := context.Background()
	isBG := parent == bg
	if !isBG || ex.ectx.parent != bg {
		ex.ectx.parent = parent
	}
	ex.ectx.bg = isBG
	if c, _ := ex.ctx.(*execCtx); c != &ex.ectx { // a type assertion: comparing interfaces is a call
		ex.ctx = &ex.ectx
	}
	if rec != nil {
		// The two buffers (flush swaps them) come from executions that
		// ended, grown to the size their flushes needed.
		ex.bufs = eventBuffers.Get().(*eventBufs)
	}
	if x.StartTime.IsZero() {
		x.StartTime = e.clock.Now()
	}
	// asl.Load computed whether any state may read $$; TestState (no
	// machine) builds it always.
	ex.needCtx = x.Machine == nil || x.Machine.Reads.Context
	ex.needVars = x.Machine == nil || x.Machine.Reads.Variables
	if x.FirstWriteWithin > 0 && rec != nil {
		ex.firstBy.Store(x.StartTime.Add(x.FirstWriteWithin).UnixNano())
	}
}

// recycle readies ex, whose run of Execute ended and which nothing holds
// any more, for another run of Execute: as a new execution but for the
// fields every such run sets before it reads them (init, runTop, enter
// and thread.env set them; TestRecycle lists them). Zeroing the whole
// struct (~60 pointers) cost more than the allocation it saved while the
// collector marks, when each pointer overwritten goes through a write
// barrier: only those that are set are cleared here.
func (ex *execution) recycle() {
	// ex.e, ex.x, ex.ctx, ex.ectx.parent, ex.needCtx, ex.needVars: init.
	// ex.input: runTop, before a state reads it. ex.rec, ex.bufs,
	// ex.replay, ex.slots: never set by a reusable run.
	c := &ex.ectx
	// An atomic store is a locked instruction: only the fields a run
	// changed are stored to.
	if c.cancelled.Load() { // a fatal error during the run (runReusable)
		c.cancelled.Store(false) // c.cause is read only once cancelled is set
	}
	ex.nextID.Store(0)
	if ex.fatal != nil {
		ex.fatal = nil
	}
	if ex.output != "" {
		ex.output = ""
	}
	if ex.firstBy.Load() != 0 {
		ex.firstBy.Store(0)
	}
	if ex.ctxParts.Load() != nil {
		ex.ctxParts.Store(nil)
	}
	if ex.tokenSeq.Load() != 0 {
		ex.tokenSeq.Store(0)
	}
	ex.slotsOnce = sync.Once{}
	if v := &ex.topVars; v.vars != nil || v.bytes != 0 {
		clear(v.vars)
		v.vars, v.bytes = v.vars[:0], 0
	}
	// The top thread: its ex, ctx, log, vars and rawText are runTop's.
	t := &ex.top
	t.last, t.lastAt = 0, time.Time{}
	if t.inObj != nil || t.inText != "" || t.outObj != nil || t.outText != "" {
		t.inObj, t.inText, t.outObj, t.outText = nil, "", nil, ""
	}
	if t.measured != nil || t.measuredSize != 0 {
		t.measured, t.measuredSize = nil, 0 // another engine's payload limit may differ
	}
	if t.owned != nil {
		t.owned = nil
	}
	// Its working set: enter sets b, raw, prev, env (but Context), sc's
	// name, withRetry, retry and atEvent; thread.env sets ja.
	r := &t.run
	if r.env.Context != nil {
		r.env.Context = nil
	}
	if r.sc.token != "" || r.sc.item != nil || !r.sc.entered.IsZero() {
		r.sc.token, r.sc.item, r.sc.entered = "", nil, time.Time{}
	}
}

// eventBufs are the two event buffers of a recorded execution, reused by
// a later one once it ended: a history.Event is a few hundred bytes, and
// growing the buffers to hold the events of a state chain flushed
// together was half the bytes an execution allocated.
type eventBufs struct{ a, b []history.Event }

var eventBuffers = sync.Pool{New: func() any {
	// The first flush holds ExecutionStarted and the first state's
	// Entered and Exited events, most later ones a state's Entered and
	// Exited: one allocation for both buffers.
	buf := make([]history.Event, 5)
	return &eventBufs{a: buf[0:0:3], b: buf[3:3:5]}
}}

// maxPooledEvents bounds the capacity of an event buffer kept for reuse.
const maxPooledEvents = 512

// release gives the execution's event buffers back for reuse once its run
// ended (every Record call has returned: recorders do not keep the slice
// they are given). An event added later, which no run does, would go to a
// new buffer.
func (ex *execution) release() {
	if ex.rec == nil {
		return // no buffers: only a Recorder's execution has them
	}
	ex.flushMu.Lock()
	ex.mu.Lock()
	bufs := ex.bufs
	ex.bufs = nil
	ex.mu.Unlock()
	ex.flushMu.Unlock()
	if bufs == nil || cap(bufs.a) > maxPooledEvents || cap(bufs.b) > maxPooledEvents {
		return
	}
	clear(bufs.a)
	bufs.a, bufs.b = bufs.a[:0], bufs.b[:0]
	eventBuffers.Put(bufs)
}

func (ex *execution) now() time.Time { return ex.e.clock.Now() }

// cancel cancels the execution's context with cause (context.Canceled
// when nil).
func (ex *execution) cancel(cause error) { ex.ectx.cancel(cause) }

func (ex *execution) lastID() int64 { return ex.nextID.Load() }

// unflushed is how many events wait for the next flush.
func (ex *execution) unflushed() int {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if ex.bufs == nil {
		return 0
	}
	return len(ex.bufs.a)
}

// liveAt is the time of the thread's latest event when this run stamped
// it (not a replayed one's), else zero.
func (t *thread) liveAt() time.Time {
	if t.replayed {
		return time.Time{}
	}
	return t.lastAt
}

// mayDefer tells whether the events of a state without effect outside
// the execution (a Pass or Choice state), the latest of them at, may wait
// for a later durable write: not once maxUnflushed events wait, nor past
// the time its first write is due (Execution.FirstWriteWithin).
func (ex *execution) mayDefer(at time.Time) bool {
	if ex.unflushed() >= maxUnflushed {
		return false
	}
	by := ex.firstBy.Load()
	if by == 0 {
		return true
	}
	if at.IsZero() {
		at = ex.stamp()
	}
	return at.UnixNano() < by
}

// flush hands pending events to the recorder and returns once Record has
// returned: every event added before the call is then durable (as durable
// as the Recorder makes it). Record calls are serialized, so batches reach
// the recorder in id order; other threads keep adding events meanwhile.
func (ex *execution) flush() {
	if ex.rec == nil {
		return
	}
	ex.flushMu.Lock()
	defer ex.flushMu.Unlock()
	ex.mu.Lock()
	bufs := ex.bufs
	if bufs == nil || len(bufs.a) == 0 {
		ex.mu.Unlock()
		return
	}
	batch := bufs.a
	bufs.a = bufs.b[:0]
	ex.mu.Unlock()
	err := ex.rec.Record(batch)
	ex.firstBy.Store(0)
	clear(batch)
	bufs.b = batch[:0]
	if err != nil {
		ex.mu.Lock()
		if ex.fatal == nil {
			ex.fatal = fault.New(fault.Runtime, "recording history: "+err.Error())
			ex.replay.stop()
			ex.cancel(errFatal)
		}
		ex.mu.Unlock()
	}
}

type fatalCause struct{}

func (fatalCause) Error() string { return "execution failed" }

var errFatal = fatalCause{}

// thread is one line of control: the top level, a Parallel branch or a Map
// iteration. last is the id of its latest event (the next event's
// previousEventId).
type thread struct {
	ex     *execution
	ctx    context.Context
	log    eventLog // where its events go
	last   int64
	lastAt time.Time // timestamp of the latest event (zero without history)
	// enterAtLast: the next state's Entered event takes lastAt for its
	// timestamp, as nothing but the transition separates it from the
	// latest event (a deferred Pass or Choice state's last: runMachine).
	enterAtLast bool
	name        string // the Thread tag of its events: "", "b1", "m3/b0"
	vars        *scope
	// rawText is the execution input as given: AWS echoes it verbatim in
	// the first state's Entered event.
	rawText string
	// rawCanonical tells that rawText is value.String of the input (a
	// Parallel branch's, rendered once for all branches), not a text as
	// given.
	rawCanonical bool
	// replayed tells whether the latest event came from the recorded
	// history (resuming) rather than being new.
	replayed bool
	slot     bool // it holds one of the execution's slots (fanout.go)
	// inObj and inText are the input of the state it runs and that input's
	// canonical JSON text, when known at entry: a state whose output is
	// that very object (a Pass, a Choice) reuses the text in its Exited
	// event instead of rendering it again.
	inObj  *value.Object
	inText string
	// outObj and outText are the output of the state that just exited and
	// its JSON text (in its Exited event), kept until the next event: when
	// the next state enters with that very object, its Entered event
	// reuses the text instead of rendering it again.
	outObj  *value.Object
	outText string
	// measured is an object known to be within the payload limit: the
	// output of the latest state that exited (a log that keeps no text
	// measured it) or a payload template's result (built within it).
	measured *value.Object
	// measuredSize is the length of measured's JSON text, 0 when not
	// known.
	measuredSize int
	// owned is an object the thread built and holds alone: a JSONPath
	// Pass's Parameters built it (with room to grow, see inPlace) while
	// the thread keeps no history, runs no TestState and the execution
	// has no variables, and only JSONPath Pass and Choice states, which
	// hand their input to no one, ran since. A Pass that sets a member of
	// its input when its input is owned sets it in place instead of
	// copying the object (thread.resultPath).
	owned *value.Object
	// test is set when TestState runs the thread's one state.
	test *testRun
	// details holds the details of the state it entered last, and room
	// for those of its Exited event: one allocation for both; block is
	// room for the details of its next states (newDetails).
	details *stateDetails
	block   []stateDetails
	blockN  int // the size of the last block
	// run is the working set of the state it runs (thread.enter).
	run stateRun
}

// stateDetails are a state's Entered and Exited event details, allocated
// together.
type stateDetails struct {
	entered history.StateEnteredEventDetails
	exited  history.StateExitedEventDetails
}

// maxDetailsBlock bounds the states whose details newDetails allocates
// at once.
const maxDetailsBlock = 16

// newDetails returns room for the details of the state the thread enters,
// taken from a block allocated for several (one allocation rather than one
// per state): blocks of 2, 4, 8, then maxDetailsBlock states, so that a
// short run whose history is kept (an Express execution's, in memory)
// holds little room it did not use.
func (t *thread) newDetails() *stateDetails {
	if len(t.block) == 0 {
		t.blockN = min(max(2*t.blockN, 2), maxDetailsBlock)
		t.block = make([]stateDetails, t.blockN)
	}
	p := &t.block[0]
	t.block = t.block[1:]
	return p
}

// textOfOutput returns the JSON text of v if v is the output of the state
// that just exited (see outObj), else "".
func (t *thread) textOfOutput(v any) string {
	if o, ok := v.(*value.Object); ok && o == t.outObj && o != nil {
		return t.outText
	}
	return ""
}

// add appends the event e describes to the thread's history.
func (t *thread) add(e event) int64 { return t.log.add(t, e) }

// addPrev appends e with an explicit previousEventId, without changing
// the thread's latest event.
func (t *thread) addPrev(e event, prev int64) int64 {
	save := t.last
	t.last = prev
	id := t.add(e)
	t.last = save
	return id
}

// simpleEvent appends an event without details.
func (t *thread) simpleEvent(typ history.EventType) int64 { return t.add(event{typ: typ}) }

// failure is why a thread (or a state) stopped.
type failure struct {
	err     *fault.Error
	fatal   bool  // not retriable nor catchable: fails the execution
	aborted bool  // the thread was cancelled
	last    int64 // the event the failure follows
}

func (t *thread) fail(f *fault.Error) *failure { return &failure{err: f, last: t.last} }

func (t *thread) fatalf(f *fault.Error) *failure { return &failure{err: f, fatal: true, last: t.last} }

func (t *thread) aborted() *failure {
	return &failure{aborted: true, err: fault.New(fault.Runtime, "aborted"), last: t.last}
}

// toFault converts any error from asl or jsonpath to a runtime fault with
// the state prefix.
func toFault(err error, env *asl.Env) *fault.Error {
	if fe, ok := fault.As(err); ok {
		return fe
	}
	return fault.New(fault.Runtime, prefix(env)+err.Error())
}

func prefix(env *asl.Env) string {
	if env == nil || env.StateName == "" {
		return ""
	}
	return "An error occurred while executing the state '" + env.StateName +
		"' (entered at the event id #" + strconv.FormatInt(env.EnteredEventID, 10) + "). "
}

// childScope is the variable scope of a branch or iteration of t.
func (t *thread) childScope() *scope {
	if !t.ex.needVars {
		return t.vars
	}
	return &scope{parent: t.vars}
}

// scope holds the variables of one States object (the top level, a branch,
// an iteration); inner scopes read outer ones.
type scope struct {
	parent *scope
	vars   []variable
	bytes  int // the sum of their sizes
}

// variable is one variable of a scope.
type variable struct {
	name string
	val  any
	size int // the JSON text size of val
}

// Var implements asl.VarReader.
func (s *scope) Var(name string) (any, bool) {
	for sc := s; sc != nil; sc = sc.parent {
		for i := range sc.vars {
			if sc.vars[i].name == name {
				return sc.vars[i].val, true
			}
		}
	}
	return nil, false
}

// set assigns in this scope only: names are unique across nesting levels,
// and iterations running concurrently must never write to a shared scope.
// size is v's JSON text size.
func (s *scope) set(name string, v any, size int) {
	s.bytes += size
	for i := range s.vars {
		if w := &s.vars[i]; w.name == name {
			s.bytes -= w.size
			w.val, w.size = v, size
			return
		}
	}
	s.vars = append(s.vars, variable{name: name, val: v, size: size})
}

func (s *scope) assign(o *value.Object) {
	for i := 0; i < o.Len(); i++ {
		k, v := o.At(i)
		n := 0
		value.SizeWithin(v, &n, math.MaxInt)
		s.set(k, v, n)
	}
}

// size is the size of the variable name in this scope, 0 when it has none.
func (s *scope) size(name string) int {
	for i := range s.vars {
		if s.vars[i].name == name {
			return s.vars[i].size
		}
	}
	return 0
}

// timeText formats a Context object timestamp as AWS does.
func timeText(t time.Time) string {
	return t.UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.999Z")
}

// ctxParts are the parts of the Context object every state shares.
type ctxParts struct {
	exec *value.Object // $$.Execution
	sm   *value.Object // $$.StateMachine
}

// contextParts returns the execution's ctxParts, building them the first
// time (concurrent first callers may build them twice, and all get the
// same).
func (ex *execution) contextParts() *ctxParts {
	if p := ex.ctxParts.Load(); p != nil {
		return p
	}
	p := ex.buildCtxParts()
	if !ex.ctxParts.CompareAndSwap(nil, p) {
		p = ex.ctxParts.Load()
	}
	return p
}

func (ex *execution) buildCtxParts() *ctxParts {
	x := ex.x
	o := value.NewObject(7)
	o.Set("Id", x.ARN)
	o.Set("Input", ex.input)
	o.Set("StartTime", timeText(x.StartTime))
	o.Set("Name", x.Name)
	o.Set("RoleArn", x.RoleARN)
	if !x.Sync {
		o.Set("RedriveCount", x.RedriveCount)
	}
	if !x.RedriveTime.IsZero() {
		o.Set("RedriveTime", timeText(x.RedriveTime))
	}
	s := value.NewObject(2)
	s.Set("Id", x.StateMachineARN)
	s.Set("Name", x.StateMachineName)
	return &ctxParts{exec: o, sm: s}
}

// stateCtx is what a state's Context object needs.
type stateCtx struct {
	name      string
	entered   time.Time
	retry     int64
	withRetry bool
	atEvent   bool // entered is the Entered event's timestamp
	token     string
	item      *value.Object // Map.Item, in ItemSelector only
}

// contextObject builds $$ for a state; nil when the definition never reads
// it.
func (t *thread) contextObject(sc *stateCtx) any {
	ex := t.ex
	if !ex.needCtx {
		return nil
	}
	parts := ex.contextParts()
	n := 3
	if sc.token != "" {
		n++
	}
	if sc.item != nil {
		n++
	}
	o := value.NewObject(n)
	o.Set("Execution", parts.exec)
	o.Set("StateMachine", parts.sm)
	st := value.NewObject(3)
	st.Set("Name", sc.name)
	st.Set("EnteredTime", timeText(sc.entered))
	if sc.withRetry {
		st.Set("RetryCount", sc.retry)
	}
	o.Set("State", st)
	if sc.token != "" {
		tk := value.NewObject(1)
		tk.Set("Token", sc.token)
		o.Set("Task", tk)
	}
	if sc.item != nil {
		m := value.NewObject(1)
		m.Set("Item", sc.item)
		o.Set("Map", m)
	}
	return o
}
