package engine

import (
	"context"
	"math"
	"math/big"
	"strconv"
	"sync"
	"time"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/internal/uuid"
	"github.com/stepwell/stepwell/jsonpath"
	"github.com/stepwell/stepwell/value"
)

// mapConfig is a Map state's evaluated settings.
type mapConfig struct {
	items       []any
	eff         any // effective input (after InputPath): $ of ItemSelector
	maxConc     int
	distributed bool
	tolCount    int64
	tolPct      float64
	hasTol      bool
	// children collects each item's outcome for a ResultWriter (nil
	// without one; distmap.go).
	children *children
	// batched: items are an ItemBatcher's batches, the children's inputs
	// as they are (batcher.go).
	batched bool
	// progress counts a Distributed Map's children (distmap.go).
	progress *runProgress
	// live holds the items in flight of a streamed Map Run, by index
	// (diststream.go); nil otherwise.
	live *liveItems
	// ctl is a Distributed Map run's concurrency and thresholds, which
	// UpdateMapRun changes (maprunctl.go); nil for an inline Map.
	ctl *runControl
	// runARN is a Distributed Map's Map Run ARN ("" for an inline Map).
	runARN string
	// expressBase and childMachine are its EXPRESS children's ARN up to
	// their name and their state machine ARN (children.go).
	expressBase, childMachine string
}

// itemAt is item i: from items, or from the items in flight of a streamed
// Map Run.
func (cfg *mapConfig) itemAt(i int) any {
	if cfg.live != nil {
		return cfg.live.get(i)
	}
	return cfg.items[i]
}

// mapPlan is a compiled Map state.
type mapPlan struct {
	base
	distributed bool
}

func (p *mapPlan) run(t *thread, raw any) (any, string, *failure) {
	return t.retried(&p.base, raw, p, history.MapStateAborted)
}

func (p *mapPlan) attempt(t *thread, r *stateRun, raw any) (any, string, *failure, bool) {
	st, distributed := p.st, p.distributed
	if t.test != nil {
		return t.test.mapAttempt(t, r, raw, distributed)
	}
	cfg, f := p.flow.mapItems(t, r, raw)
	if f != nil {
		return nil, "", f, !f.fatal
	}
	cfg.distributed = distributed
	t.add(event{typ: history.MapStateStarted, n: int64(len(cfg.items))})
	var runStarted int64
	if distributed {
		if f = p.flow.mapTolerance(t, r, cfg); f != nil {
			return nil, "", f, !f.fatal
		}
		runStarted = t.add(event{typ: history.MapRunStarted, text: t.mapRunARN(st)})
		// Recorded before the children run, so that the Map Run is listed
		// and counted while they do (children of their own record nothing
		// in this history that would flush it).
		t.ex.flush()
		// Children may run long: a resumed execution's replay has settled
		// here once its history is consumed (Engine.WaitResumed).
		t.ex.replay.settled()
	} else if f = p.flow.mapTolerance(t, r, cfg); f != nil {
		return nil, "", f, !f.fatal
	}
	var runARN string
	if distributed {
		runARN = t.mapRunARN(st)
		cfg.runARN = runARN
		cfg.expressBase, cfg.childMachine = expressChildBase(runARN)
	}
	var results []any
	var written any
	// An ItemReader's items exported by a ResultWriter stream through
	// (diststream.go); other Maps hold their items.
	streamed := distributed && streams(st)
	if distributed {
		defer t.control(runARN, cfg)()
	}
	if streamed {
		written, f = t.runStream(r, cfg, runARN)
	} else if distributed && st.Reader != nil {
		f = t.readItems(r, cfg)
	}
	if f == nil && !streamed && distributed && st.Batcher != nil {
		f = t.batchItems(r, cfg)
	}
	if f == nil && !streamed {
		if distributed && st.Writer != nil {
			cfg.children = newChildren(runARN, len(cfg.items))
		}
		if distributed {
			cfg.progress = t.newProgress(runARN, len(cfg.items))
		}
		results, f = t.runIterations(r, cfg)
	}
	switch {
	case f != nil || cfg.children == nil || streamed:
	case st.Writer.Resource != "":
		written, f = t.writeResults(r, cfg, runARN)
	case st.Writer.Transformation != "":
		written = cfg.transformed(st.Writer.Transformation)
	}
	cfg.progress.finished(f == nil, written != nil)
	if f != nil {
		if f.aborted {
			if distributed {
				t.abortEvent(history.MapRunAborted)
			}
			t.abortEvent(history.MapStateAborted)
			return nil, "", f, false
		}
		if distributed {
			t.add(event{typ: history.MapRunFailed, fe: f.err})
		} else {
			t.last = f.last
		}
		return nil, "", f, true
	}
	if distributed {
		t.simpleEvent(history.MapRunSucceeded)
		t.simpleEventPrev(history.MapStateSucceeded, t.last)
		// Since November 2024 AWS points MapStateExited back at
		// MapRunStarted; recordings made before then point at
		// MapRunSucceeded. We follow current AWS.
		t.last = runStarted
	} else {
		t.simpleEventPrev(history.MapStateSucceeded, t.last)
	}
	var result any = results
	if written != nil {
		result = written
	}
	// A failure of the result processing is caught, not retried.
	out, next, f := t.stateResult(r, raw, result)
	return out, next, f, false
}

func (p *mapPlan) exhausted(t *thread, f *failure) {
	t.simpleEvent(history.MapStateFailed)
	f.last = t.last
}

func (t *thread) mapRunARN(st *asl.State) string {
	x := t.ex.x
	label := st.Label
	if label == "" {
		label = st.Name
	}
	// A UUID derived from the execution and the label: the same when the
	// execution is resumed or redriven (its StartTime is then the
	// redrive's), so that the run finds its children again.
	id := uuid.Name(x.ARN + "\x00" + label)
	arn := x.StateMachineARN
	// arn:aws:states:region:account:stateMachine:name → …:mapRun:name/label:id
	if i := lastIndex(arn, ":stateMachine:"); i >= 0 {
		arn = arn[:i] + ":mapRun:" + arn[i+len(":stateMachine:"):]
	}
	return arn + "/" + label + ":" + id
}

func lastIndex(s, sub string) int {
	for i := len(s) - len(sub); i >= 0; i-- {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// mapSetup evaluates InputPath, ItemsPath and MaxConcurrency(Path).
func (t *thread) mapSetup(r *stateRun, raw any) (*mapConfig, *failure) {
	st := r.b.st
	eff, f := r.b.flow.effective(t, r, raw, false)
	if f != nil {
		return nil, f
	}
	cfg := &mapConfig{eff: eff}
	cfg.maxConc = int(st.MaxConcurrency)
	if st.Reader != nil && st.ProcessorMode == "DISTRIBUTED" {
		// The items come from the ItemReader (read after MapRunStarted);
		// AWS ignores ItemsPath then.
		return cfg, t.mapMaxConcurrency(r, cfg)
	}
	items := eff
	pathText := "$"
	if st.ItemsPath != nil {
		pathText = st.ItemsPath.String()
		r.env.Input = eff
		v, fe := resolve(st.ItemsPath, &r.env)
		if fe != nil {
			return nil, t.fatalf(fe)
		}
		items = v
	}
	arr, ok := items.([]any)
	if !ok {
		return nil, t.fatalf(runtimeErr(&r.env, "Reference path \""+pathText+"\" must point to array."))
	}
	cfg.items = arr
	return cfg, t.mapMaxConcurrency(r, cfg)
}

// mapMaxConcurrency evaluates MaxConcurrencyPath into cfg.
func (t *thread) mapMaxConcurrency(r *stateRun, cfg *mapConfig) *failure {
	st := r.b.st
	if st.MaxConcurrencyPath != nil {
		r.env.Input = cfg.eff
		n, fe := intField(st.MaxConcurrencyPath, &r.env, "MaxConcurrencyPath")
		if fe != nil {
			return t.fatalf(fe)
		}
		if n < 0 {
			return t.fatalf(runtimeErr(&r.env, "MaxConcurrency cannot be negative."))
		}
		if n > math.MaxInt32 {
			n = math.MaxInt32
		}
		cfg.maxConc = int(n)
	}
	return nil
}

// mapTolerance evaluates the ToleratedFailure fields.
func (t *thread) mapTolerance(r *stateRun, cfg *mapConfig) *failure {
	st := r.b.st
	r.env.Input = cfg.eff
	cfg.tolCount = -1
	if st.ToleratedFailureCount != nil {
		cfg.tolCount, cfg.hasTol = *st.ToleratedFailureCount, true
	}
	if st.ToleratedFailureCountPath != nil {
		n, fe := intField(st.ToleratedFailureCountPath, &r.env, "ToleratedFailureCountPath")
		if fe != nil {
			return t.fatalf(fe)
		}
		if n < 0 {
			return t.fatalf(runtimeErr(&r.env, "ToleratedFailureCount cannot be negative."))
		}
		cfg.tolCount, cfg.hasTol = n, true
	}
	cfg.tolPct = -1
	if st.ToleratedFailurePercentage != nil {
		cfg.tolPct, cfg.hasTol = *st.ToleratedFailurePercentage, true
	}
	if st.ToleratedFailurePercentagePath != nil {
		p := st.ToleratedFailurePercentagePath
		v, err := r.env.Resolve(p)
		if err != nil {
			return t.fatalf(toFault(err, &r.env))
		}
		pct, ok := value.ToFloat(v)
		if s, isStr := v.(string); isStr {
			f, err := strconv.ParseFloat(s, 64)
			pct, ok = f, err == nil
		}
		if !ok {
			return t.fatalf(runtimeErr(&r.env, "The ToleratedFailurePercentagePath field refers to value \""+stringOf(v)+"\" which is not a valid float: "+p.String()))
		}
		if pct < 0 || pct > 100 {
			return t.fatalf(runtimeErr(&r.env, "ToleratedFailurePercentage must be between 0 and 100."))
		}
		cfg.tolPct, cfg.hasTol = pct, true
	}
	return nil
}

// intField resolves a path that must give an integer.
func intField(p *jsonpath.Path, env *asl.Env, field string) (int64, *fault.Error) {
	v, err := env.Resolve(p)
	if err != nil {
		return 0, toFault(err, env)
	}
	if s, ok := v.(string); ok {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, nil
		}
	}
	switch n := v.(type) {
	case int64:
		return n, nil
	case *big.Int:
		if n.Sign() < 0 {
			return -1, nil
		}
		return math.MaxInt64, nil
	case float64:
		if n == math.Trunc(n) && math.Abs(n) < 1e18 {
			return int64(n), nil
		}
	}
	return 0, runtimeErr(env, "The "+field+" field refers to value \""+stringOf(v)+"\" which is not a valid integer: "+p.String())
}

// exceeded reports whether failed failures out of total break the
// tolerated thresholds (count and percentage; either breach fails).
func (cfg *mapConfig) exceeded(failed, total int) bool {
	if cfg.ctl != nil {
		return cfg.ctl.exceeded(failed, total, true)
	}
	if failed == 0 {
		return false
	}
	if !cfg.hasTol {
		return true
	}
	if cfg.tolCount >= 0 && int64(failed) > cfg.tolCount {
		return true
	}
	if cfg.tolPct >= 0 && float64(failed)*100/float64(total) > cfg.tolPct {
		return true
	}
	return false
}

// iterInput computes one item's input (ItemSelector or the legacy
// Parameters, with Map.Item in the Context object).
func (t *thread) iterInput(r *stateRun, cfg *mapConfig, i int) (any, *failure) {
	st := r.b.st
	sel := st.ItemSelector
	if sel == nil {
		sel = st.Parameters
	}
	if sel == nil {
		return cfg.itemAt(i), nil
	}
	env := r.env
	env.Input = cfg.eff
	if t.ex.needCtx {
		item := value.NewObject(2)
		item.Set("Index", int64(i))
		item.Set("Value", cfg.itemAt(i))
		sc := r.sc
		sc.item = item
		env.Context = t.contextObject(&sc)
	}
	v, err := sel.Eval(&env)
	if err != nil {
		return nil, t.fatalf(toFault(err, &env))
	}
	return v, nil
}

// maxInlineConcurrency is how many iterations of an inline Map run at
// once at most, as in AWS ("up to 40 concurrent iterations").
const maxInlineConcurrency = 40

// runIterations runs the ItemProcessor over every item.
func (t *thread) runIterations(r *stateRun, cfg *mapConfig) ([]any, *failure) {
	st := r.b.st
	n := len(cfg.items)
	results := make([]any, n)
	if n == 0 {
		return results, nil
	}
	ctx, cancel := context.WithCancel(t.ctx)
	defer cancel()
	var (
		mu        sync.Mutex
		first     *failure
		failed    int
		aborted   bool
		lastInner = t.last // where the next iteration's first event points
		lastEnd   = t.last // the latest iteration-end event
		wg        sync.WaitGroup
		held      = t.heldResults() // inline: see runBranches
	)
	var rc *recordedChildren
	if !cfg.distributed {
		rc = t.recordedChildren('m', n, r.sc.retry)
		defer t.yieldSlot()() // fanout.go
	}
	runOne := func(i int) {
		it := &thread{ex: t.ex, ctx: ctx, vars: t.childScope()}
		if cfg.distributed {
			// Distributed Map item runs record no events, and are
			// executions of their own: they do not see the parent's
			// variables.
			it.log = uncounted
			it.vars = &scope{}
		} else {
			it.name, it.log = t.log.spawn(t, 'm', i, r.sc.retry)
			if !it.takeSlot(rc.recorded(i)) { // fanout.go
				return // an iteration failed: the others do not start
			}
			defer it.releaseSlot()
		}
		mu.Lock()
		it.last = lastInner
		mu.Unlock()
		if ctx.Err() != nil && it.log.next() == nil {
			return
		}
		it.add(event{typ: history.MapIterationStarted, text: st.Name, n: int64(i)})
		cfg.progress.started()
		var start time.Time
		if cfg.children != nil {
			start = t.ex.e.clock.Now()
		}
		var in any
		var f *failure
		if cfg.batched {
			in = cfg.items[i]
		} else {
			in, f = r.b.flow.itemInput(t, it, r, cfg, i)
		}
		var out any
		var name, childARN, inText string
		if f == nil {
			out, name, childARN, inText, f = t.runChild(it, st, cfg, i, in)
		}
		if cfg.children != nil {
			cfg.children.record(i, name, childARN, in, inText, out, f, start, t.ex.e.clock.Now())
		}
		cfg.progress.ended(f)
		end := it.last
		typ := history.MapIterationSucceeded
		if f != nil {
			typ = history.MapIterationFailed
			if f.aborted {
				typ = history.MapIterationAborted
			}
		}
		var endID int64
		if f != nil && f.aborted && t.ex.ctx.Err() != nil {
			// stopped or timed out: no iteration event
			endID = end
		} else {
			endID = it.addPrev(event{typ: typ, text: st.Name, n: int64(i)}, end)
		}
		mu.Lock()
		defer mu.Unlock()
		lastInner = end
		if endID > lastEnd {
			lastEnd = endID
		}
		if f == nil {
			results[i] = out
			if !cfg.distributed && first == nil && !held.add(out) {
				first = &failure{err: dataLimit(st.Name), last: lastEnd}
				cancel()
			}
			return
		}
		if f.aborted {
			aborted = true
			return
		}
		failed++
		if f.fatal {
			if first == nil {
				first = f
				cancel()
			}
			return
		}
		results[i] = errorOutput(f.err)
		if first == nil && cfg.exceeded(failed, n) {
			if cfg.hasTol || cfg.distributed {
				first = &failure{err: fault.New(fault.ExceedToleratedFailureThreshold, "The specified tolerated failure threshold was exceeded"), last: f.last}
			} else {
				first = f
			}
			cancel()
		}
	}
	conc := cfg.maxConc
	if !cfg.distributed && (conc <= 0 || conc > maxInlineConcurrency) {
		// AWS runs at most 40 iterations of an inline Map at once; it
		// also bounds what the iterations in flight hold.
		conc = maxInlineConcurrency
	}
	if conc <= 0 || conc > n {
		conc = n
	}
	if conc == 1 && cfg.ctl == nil {
		for i := 0; i < n && ctx.Err() == nil; i++ {
			if rc.unstarted(i) {
				mu.Lock()
				aborted = true
				mu.Unlock()
				continue
			}
			runOne(i)
		}
	} else {
		sem := make(chan struct{}, conc)
		acquire := func() bool {
			select {
			case sem <- struct{}{}:
				return true
			case <-ctx.Done():
				return false
			}
		}
		release := func() { <-sem }
		if cfg.ctl != nil {
			// A Distributed Map's concurrency can change (UpdateMapRun).
			acquire = func() bool { return cfg.ctl.acquire(ctx) }
			release = cfg.ctl.release
		}
		for i := 0; i < n; i++ {
			if rc.unstarted(i) {
				mu.Lock()
				aborted = true
				mu.Unlock()
				continue
			}
			if rc.recorded(i) {
				// Resuming: the recording shows it ran; it replays even
				// when a new failure cancelled the others.
				sem <- struct{}{}
			} else {
				if ctx.Err() != nil || !acquire() {
					continue
				}
			}
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				defer release()
				runOne(i)
			}(i)
		}
		wg.Wait()
	}
	return t.joined(results, first, aborted, lastEnd)
}
