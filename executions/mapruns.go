package executions

// Map Runs: Distributed Map states record MapRunStarted with the run's
// ARN; the execution's recorder (recExtra) turns the Map events of each
// line of control into Map Run records in the Versions store.
//
// Stepwell runs a Distributed Map's children inside the parent execution,
// without histories of their own. The engine reports each run's child
// counts as they change (Execution.MapRunCounts: live); they are written
// at most every liveInterval while the run goes on, and at its end. Without
// such reports (a run recorded before a restart), the counts of a failed
// run are derived from the failure: the items needed to exceed the
// tolerated failure threshold (or one, for another error) are counted
// failed and the rest aborted, and a successful run counts every item
// succeeded.

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"sync"
	"time"

	"github.com/stepwell/stepwell/arn"
	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
)

// Map Run statuses.
const (
	MapRunRunning   = "RUNNING"
	MapRunSucceeded = "SUCCEEDED"
	MapRunFailed    = "FAILED"
	MapRunAborted   = "ABORTED"
)

// recExtra is what an execution's recorder does beyond appending events:
// it stamps the version and alias on ExecutionStarted, renumbers the
// events of a redriven or resumed run, and records Map Runs. The engine
// calls the recorder from one goroutine at a time.
type recExtra struct {
	s            *Service
	executionARN string
	machine      *asl.StateMachine
	version      string
	alias        string
	logging      json.RawMessage // the revision's LoggingConfiguration (observe.go)
	started      bool
	// per line of control (event Thread): the Map state being entered and
	// its item count, and the Map Run in progress
	threads map[string]*mapThread
	// A redriven execution replays redrive.replay (renumbered 1..K) and
	// its new events are renumbered to follow the stored history.
	redrive *redrivePlan

	// live holds the engine's latest counts per Map Run ARN and the runs
	// in progress (shared with the children's goroutines).
	live liveRuns
	// replaying: mapRuns reads the events a resumed execution replays
	// (replayed), and writes nothing.
	replaying bool
}

// liveInterval is how often at most a running Map Run's live counts are
// written.
const liveInterval = 200 * time.Millisecond

// liveRuns are the live counts of an execution's Map Runs.
type liveRuns struct {
	mu      sync.Mutex
	counts  map[string]engine.MapRunCounts
	running map[string]*store.MapRun
	written map[string]time.Time
	// updates are the UpdateMapRun changes of running runs, applied to
	// every later write of the run.
	updates map[string]engine.MapRunUpdate
}

// ErrMapRunNotRunning is returned by UpdateMapRun for a Map Run that does
// not run in this server (it ended, or was started before a restart).
var ErrMapRunNotRunning = errors.New("map run is not running")

// OpenMapRuns returns how many Map Runs this process drives now (AWS's
// ApproximateOpenMapRunCount).
func (s *Service) OpenMapRuns() int {
	n := 0
	s.liveRuns.Range(func(any, any) bool { n++; return true })
	return n
}

// UpdateMapRun changes a running Map Run's MaxConcurrency and tolerated
// failure thresholds (nil: unchanged): its children follow them from
// now on, and its record shows them.
func (s *Service) UpdateMapRun(ctx context.Context, runARN string, u engine.MapRunUpdate) error {
	v, ok := s.liveRuns.Load(runARN)
	if !ok || !s.eng.UpdateMapRun(runARN, u) {
		return s.updateMapRunElsewhere(ctx, runARN, u) // cluster.go
	}
	x := v.(*recExtra)
	l := &x.live
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.updates == nil {
		l.updates = make(map[string]engine.MapRunUpdate)
	}
	prev := l.updates[runARN]
	if u.MaxConcurrency == nil {
		u.MaxConcurrency = prev.MaxConcurrency
	}
	if u.ToleratedFailureCount == nil {
		u.ToleratedFailureCount = prev.ToleratedFailureCount
	}
	if u.ToleratedFailurePercentage == nil {
		u.ToleratedFailurePercentage = prev.ToleratedFailurePercentage
	}
	l.updates[runARN] = u
	r := l.running[runARN]
	if r == nil {
		return nil
	}
	cp := *r
	if c, ok := l.counts[runARN]; ok {
		applyLive(&cp, c)
	}
	applyUpdate(&cp, u)
	x.put(&cp)
	return nil
}

// applyUpdate sets r's settings from an UpdateMapRun.
func applyUpdate(r *store.MapRun, u engine.MapRunUpdate) {
	if u.MaxConcurrency != nil {
		r.MaxConcurrency = *u.MaxConcurrency
	}
	if u.ToleratedFailureCount != nil {
		r.ToleratedFailureCount = *u.ToleratedFailureCount
	}
	if u.ToleratedFailurePercentage != nil {
		r.ToleratedFailurePercentage = *u.ToleratedFailurePercentage
	}
}

// progress is the execution's engine.Execution.MapRunCounts: it keeps the
// run's counts and writes them when the run is known and was not written
// within liveInterval.
func (x *recExtra) progress(runARN string, c engine.MapRunCounts) {
	l := &x.live
	l.mu.Lock()
	if l.counts == nil {
		l.counts = make(map[string]engine.MapRunCounts)
		l.written = make(map[string]time.Time)
	}
	l.counts[runARN] = c
	r := l.running[runARN]
	now := x.s.clock.Now()
	if r == nil || now.Sub(l.written[runARN]) < liveInterval {
		l.mu.Unlock()
		return
	}
	l.written[runARN] = now
	cp := *r
	applyLive(&cp, c)
	applyUpdate(&cp, l.updates[runARN])
	// Written under the lock: the run's end (ended) cannot be overwritten
	// by these older counts.
	x.put(&cp)
	l.mu.Unlock()
}

// applyLive sets r's counts from the engine's.
func applyLive(r *store.MapRun, c engine.MapRunCounts) {
	sc := store.MapRunCounts{Pending: c.Pending, Running: c.Running, Succeeded: c.Succeeded, Failed: c.Failed,
		Aborted: c.Aborted, Total: c.Total, ResultsWritten: c.ResultsWritten}
	r.ItemCounts, r.ExecutionCounts = sc, sc
}

// liveCounts returns the engine's latest counts of runARN, if any.
func (x *recExtra) liveCounts(runARN string) (engine.MapRunCounts, bool) {
	x.live.mu.Lock()
	defer x.live.mu.Unlock()
	c, ok := x.live.counts[runARN]
	return c, ok
}

// tracking starts the live writes of r.
func (x *recExtra) tracking(r *store.MapRun) {
	l := &x.live
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.running == nil {
		l.running = make(map[string]*store.MapRun)
	}
	cp := *r
	l.running[r.ARN] = &cp
	x.s.liveRuns.Store(r.ARN, x)
}

// ended writes the ended run r and stops its live writes.
func (x *recExtra) ended(r *store.MapRun, write bool) {
	l := &x.live
	l.mu.Lock()
	defer l.mu.Unlock()
	x.s.liveRuns.Delete(r.ARN)
	applyUpdate(r, l.updates[r.ARN])
	delete(l.running, r.ARN)
	delete(l.counts, r.ARN)
	delete(l.written, r.ARN)
	delete(l.updates, r.ARN)
	if !write {
		return
	}
	if r.Status != MapRunSucceeded {
		// Its unsuccessful children wait for the parent's redrive.
		for _, c := range []*store.MapRunCounts{&r.ItemCounts, &r.ExecutionCounts} {
			c.PendingRedrive = c.Failed + c.TimedOut + c.Aborted
		}
	}
	x.put(r)
}

type mapThread struct {
	state  string
	length int64
	run    *store.MapRun
}

// before returns the events to append: ExecutionStarted gains the
// version and alias ARNs the execution was started through.
func (x *recExtra) before(events []history.Event) []history.Event {
	if x == nil || len(events) == 0 {
		return events
	}
	if x.redrive != nil {
		return x.redrive.translate(events)
	}
	if x.started {
		return events
	}
	x.started = true
	if events[0].Type != history.ExecutionStarted || (x.version == "" && x.alias == "") {
		return events
	}
	out := append([]history.Event(nil), events...)
	d := history.ExecutionStartedEventDetails{}
	if old := out[0].ExecutionStartedEventDetails; old != nil {
		d = *old
	}
	d.StateMachineVersionArn, d.StateMachineAliasArn = x.version, x.alias
	out[0].ExecutionStartedEventDetails = &d
	return out
}

// mapRuns records the Map Runs that the events start or end.
func (x *recExtra) mapRuns(events []history.Event) {
	if x == nil || x.s.ver == nil {
		return
	}
	for i := range events {
		e := &events[i]
		switch e.Type {
		case history.MapStateEntered:
			if d := e.StateEnteredEventDetails; d != nil {
				x.thread(e.Thread).state = d.Name
			}
		case history.MapStateStarted:
			if d := e.MapStateStartedEventDetails; d != nil {
				x.thread(e.Thread).length = d.Length
			}
		case history.MapRunStarted:
			if d := e.MapRunStartedEventDetails; d != nil {
				x.startRun(e, d.MapRunArn)
			}
		case history.MapRunSucceeded, history.MapRunFailed, history.MapRunAborted:
			x.endRun(e, x.thread(e.Thread))
		case history.ExecutionAborted, history.ExecutionTimedOut, history.ExecutionFailed:
			// Stopped or timed out in a Distributed Map: the history ends
			// without MapRunAborted, and its runs are aborted.
			for _, t := range x.threads {
				if t.run != nil {
					x.endRun(&history.Event{Type: history.MapRunAborted, Timestamp: e.Timestamp, Thread: e.Thread}, t)
				}
			}
		}
	}
}

func (x *recExtra) thread(name string) *mapThread {
	if x.threads == nil {
		x.threads = make(map[string]*mapThread)
	}
	t := x.threads[name]
	if t == nil {
		t = &mapThread{}
		x.threads[name] = t
	}
	return t
}

func (x *recExtra) startRun(e *history.Event, runArn string) {
	t := x.thread(e.Thread)
	old, err := x.s.ver.GetMapRun(context.Background(), runArn)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		x.s.log.Error("read map run", "arn", runArn, "err", err)
	}
	if x.replaying {
		// Running at the stop: tracked again, its counts and end recorded.
		if old != nil && old.Status == MapRunRunning {
			t.run = old
			x.tracking(old)
		}
		return
	}
	r := &store.MapRun{
		ARN: runArn, ExecutionARN: x.executionARN, Status: MapRunRunning, StartDate: e.Timestamp,
	}
	if a, err := arn.Parse(runArn); err == nil {
		m := a.Machine()
		r.StateMachineARN = m.String() + "/" + a.Label
	}
	if st := x.machine.Lookup(t.state); st != nil {
		r.MaxConcurrency = st.MaxConcurrency
		if st.ToleratedFailurePercentage != nil {
			r.ToleratedFailurePercentage = *st.ToleratedFailurePercentage
		}
		if st.ToleratedFailureCount != nil {
			r.ToleratedFailureCount = *st.ToleratedFailureCount
		}
	}
	n := t.length
	r.ItemCounts = store.MapRunCounts{Running: n, Total: n}
	r.ExecutionCounts = r.ItemCounts
	if c, ok := x.liveCounts(runArn); ok {
		applyLive(r, c)
	}
	if old != nil && old.ExecutionARN == x.executionARN && old.Status != MapRunRunning && x.redrive != nil {
		// Its execution was redriven: the Map Run is redriven, and its
		// history says so as AWS's does (MapRunRedriven; the events are
		// the recorder's copy: redrive.translate).
		r.StartDate, r.RedriveCount, r.RedriveDate = old.StartDate, old.RedriveCount+1, e.Timestamp
		e.Type, e.MapRunStartedEventDetails = history.MapRunRedriven, nil
		e.MapRunRedrivenEventDetails = &history.MapRunRedrivenEventDetails{MapRunArn: runArn, RedriveCount: r.RedriveCount}
	}
	t.run = r
	x.tracking(r)
	x.put(r)
}

// replayed reads the events that a resumed execution replays: the Map
// Runs that were running when the process stopped are tracked again, so
// that their counts and their end are recorded.
func (x *recExtra) replayed(events []history.Event) {
	x.replaying = true
	defer func() { x.replaying = false }()
	x.mapRuns(events)
}

func (x *recExtra) endRun(e *history.Event, t *mapThread) {
	r := t.run
	if r == nil {
		return
	}
	t.run = nil
	if x.replaying {
		x.ended(r, false)
		return
	}
	r.StopDate = e.Timestamp
	switch e.Type {
	case history.MapRunSucceeded:
		r.Status = MapRunSucceeded
	case history.MapRunAborted:
		r.Status = MapRunAborted
	default:
		r.Status = MapRunFailed
	}
	if c, ok := x.liveCounts(r.ARN); ok {
		applyLive(r, c)
		x.ended(r, true)
		return
	}
	n := r.ItemCounts.Total
	c := store.MapRunCounts{Total: n}
	switch e.Type {
	case history.MapRunSucceeded:
		r.Status = MapRunSucceeded
		c.Succeeded, c.ResultsWritten = n, n
	case history.MapRunAborted:
		r.Status = MapRunAborted
		c.Aborted = n
	default:
		r.Status = MapRunFailed
		failed := int64(1)
		if d := e.MapRunFailedEventDetails; d != nil && d.Error != nil && *d.Error == fault.ExceedToleratedFailureThreshold {
			failed = r.ToleratedFailureCount + 1
			if p := r.ToleratedFailurePercentage; p > 0 {
				failed = max(failed, int64(math.Floor(p*float64(n)/100))+1)
			}
		}
		failed = min(failed, n)
		c.Failed, c.Aborted, c.ResultsWritten = failed, n-failed, failed
		c.FailuresNotRedrivable, c.PendingRedrive = 0, 0
	}
	r.ItemCounts, r.ExecutionCounts = c, c
	x.ended(r, true)
}

func (x *recExtra) put(r *store.MapRun) {
	// ErrConflict: the server is shutting down (nothing more is written).
	if err := x.s.ver.PutMapRun(context.Background(), r); err != nil && !errors.Is(err, store.ErrConflict) {
		x.s.log.Error("record map run", "arn", r.ARN, "err", err)
	}
}
