package executions

// Parking: a Standard execution whose top level waits in a Wait state
// (engine.Execution.Park) for at least Config.ParkAfter gives up its
// goroutine and in-memory state. Its Entered event is recorded; the
// Service keeps only its registry entry and one entry in a timer heap,
// due when the wait ends or when the machine's TimeoutSeconds expires,
// whichever is first. One goroutine serves the heap. When an entry is due,
// or when StopExecution stops a parked execution, it is revived exactly as
// after a restart: its history is read from the store and replayed
// (Resume), so there is one way back, not two.

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stepwell/stepwell/internal/clock"
	"github.com/stepwell/stepwell/store"
)

// DefaultParkAfter is the shortest wait that parks an execution.
const DefaultParkAfter = time.Second

// maxReviving bounds the revivals that read histories at the same time
// (many parked executions may be due at once).
const maxReviving = 64

// worthParking tells whether a wait of d parks an execution whose
// history holds events events: d must be at least ParkAfter, and at least
// ParkAfter per full 100 events, so that reviving (replaying the history)
// costs little next to the wait, even for an execution that loops
// through short waits.
func (s *Service) worthParking(d time.Duration, events int64) bool {
	return s.parkAfter >= 0 && d >= s.parkAfter*time.Duration(max(1, events/100))
}

// park states of a running entry (guarded by Service.mu).
const (
	live     = iota // an engine run drives it
	parking         // its run accepted to park and is ending
	parked          // no run: in the timer heap until due
	reviving        // no run: being read back and replayed
)

// parkHook returns the engine.Execution.Park of an execution launched by
// launch, which rec records.
func (s *Service) parkHook(executionARN string, rec *recorder) func(until time.Time) bool {
	return func(until time.Time) bool {
		if !s.worthParking(until.Sub(s.now()), rec.lastID.Load()) {
			return false
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		r := s.runs[executionARN]
		if r == nil || r.state != live || r.stop != nil || s.ctx.Err() != nil {
			return false
		}
		r.state, r.due = parking, until
		return true
	}
}

// parkEnded is called when the run of r has ended: it reports whether
// the run ended because it parked, and then parks r (or revives it at once
// when it was stopped meanwhile).
func (s *Service) parkEnded(r *running) bool {
	s.mu.Lock()
	if r.state != parking {
		s.mu.Unlock()
		return false
	}
	r.run = nil
	if r.stop != nil {
		r.state = reviving
		s.mu.Unlock()
		s.goRevive(r)
		return true
	}
	r.state = parked
	s.timers.push(r)
	watch := s.parkWatch
	s.mu.Unlock()
	s.nudge()
	if watch != nil {
		watch(r.arn)
	}
	return true
}

// Parked returns how many executions are parked.
func (s *Service) Parked() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.timers)
}

// nudge tells the timer goroutine that the heap's first entry may have
// changed.
func (s *Service) nudge() {
	select {
	case s.timerNudge <- struct{}{}:
	default:
	}
}

// serveTimers revives the parked executions as they fall due, until the
// Service closes. At most maxReviving revive at once: a million falling
// due together wait in the heap, not in goroutines.
func (s *Service) serveTimers() {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		var next *running
		var wait time.Duration
		if len(s.timers) > 0 {
			if wait = s.timers[0].due.Sub(s.now()); wait <= 0 {
				next = heap.Pop(&s.timers).(*running)
				next.state = reviving
			}
		}
		armed := len(s.timers) > 0
		s.mu.Unlock()
		if next != nil {
			select {
			case s.reviveSem <- struct{}{}:
			case <-s.ctx.Done():
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer func() { <-s.reviveSem }()
				s.revive(next)
			}()
			continue
		}
		var fire <-chan time.Time
		var t clock.Timer
		if armed {
			t = s.clock.NewTimer(wait)
			fire = t.C()
		}
		select {
		case <-fire:
		case <-s.timerNudge:
		case <-s.ctx.Done():
			if t != nil {
				t.Stop()
			}
			return
		}
		if t != nil {
			t.Stop()
		}
	}
}

// goRevive revives r (state reviving) in a goroutine of its own.
func (s *Service) goRevive(r *running) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		select {
		case s.reviveSem <- struct{}{}:
		case <-s.ctx.Done():
			return
		}
		defer func() { <-s.reviveSem }()
		s.revive(r)
	}()
}

// revive reads a parked execution back from the store and resumes it
// (Resume): its replay reaches the Wait again, which has ended or is
// interrupted by the stop or timeout that revived it.
func (s *Service) revive(r *running) {
	ctx := s.ctx
	if ctx.Err() != nil {
		return // the Service closes: the execution stays RUNNING in the store
	}
	err := s.reviveFrom(ctx, r)
	if err == nil {
		return
	}
	if ctx.Err() != nil {
		return
	}
	s.log.Error("revive parked execution", "arn", r.arn, "err", err)
	s.mu.Lock()
	if r.state != reviving || s.runs[r.arn] != r {
		s.mu.Unlock()
		return
	}
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, errNotRunning) {
		s.mu.Unlock()
		s.unregister(r.arn, r)
		return
	}
	// Try again a little later.
	r.state, r.due = parked, s.now().Add(s.parkAfter)
	s.timers.push(r)
	s.mu.Unlock()
	s.nudge()
}

var errNotRunning = errors.New("execution is not running")

func (s *Service) reviveFrom(ctx context.Context, r *running) error {
	x, err := s.st.GetExecution(ctx, r.arn)
	if err != nil {
		return fmt.Errorf("get execution: %w", err)
	}
	if x.Status != store.StatusRunning {
		return errNotRunning
	}
	recorded, err := fullHistory(ctx, s.st, r.arn)
	if err != nil {
		return err
	}
	if err := s.Resume(ctx, x, recorded); err != nil {
		return err
	}
	s.mu.Lock()
	launched := r.state == live
	s.mu.Unlock()
	if !launched {
		// Resume closed it (its revision is gone or no longer loads).
		s.unregister(r.arn, r)
	}
	return nil
}

// parkNew registers executions of the store that this process does not
// drive as parked until they are due (ResumeRunning), under one lock.
func (s *Service) parkNew(items []*running) {
	if len(items) == 0 {
		return
	}
	s.mu.Lock()
	for _, r := range items {
		r.state = parked
		s.runs[r.arn] = r
		s.timers.push(r)
	}
	watch := s.parkWatch
	s.mu.Unlock()
	s.nudge()
	if watch != nil {
		for _, r := range items {
			watch(r.arn)
		}
	}
}

// timerHeap orders parked executions by the time they are due.
type timerHeap []*running

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = i, j
}

func (h *timerHeap) Push(x any) {
	r := x.(*running)
	r.idx = len(*h)
	*h = append(*h, r)
}

func (h *timerHeap) Pop() any {
	old := *h
	n := len(old)
	r := old[n-1]
	old[n-1] = nil
	r.idx = -1
	*h = old[:n-1]
	return r
}

func (h *timerHeap) push(r *running) { heap.Push(h, r) }

// remove takes r out of the heap.
func (h *timerHeap) remove(r *running) {
	if r.idx >= 0 && r.idx < len(*h) && (*h)[r.idx] == r {
		heap.Remove(h, r.idx)
	}
}
