// Package memory is an in-memory store.Store: fast, concurrency-safe and
// gone when the process exits. It backs `stepwell serve --store memory`,
// tests, and Express executions (with a cap on retained closed executions).
package memory

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
)

var _ store.Store = (*Store)(nil)

// Options configures a Store.
type Options struct {
	// MaxClosedExecutions, when positive, bounds how many closed executions
	// (with their histories) are kept: beyond it the oldest closed ones are
	// forgotten.
	MaxClosedExecutions int
	// MaxClosedBytes, when positive, bounds the bytes of the closed
	// executions kept (input, output and history: history.Event.Size):
	// beyond it the oldest closed ones are forgotten.
	MaxClosedBytes int64
}

// Store is an in-memory store.Store.
type Store struct {
	opts Options

	mu        sync.RWMutex
	seq       int64
	machines  map[string]*machine
	order     []*machine // by seq, ascending
	revisions map[string]store.Revision
	execs     map[string]*execution
	byMachine map[string]*execList
	closed    []*execution // FIFO of closed executions, for eviction
	closedOff int
	// closedBytes is the size of the closed executions in closed.
	closedBytes int64
}

type machine struct {
	sm  store.StateMachine
	seq int64
}

type execution struct {
	x       store.Execution
	seq     int64
	events  []history.Event
	evicted bool
	// bytes is its size (Options.MaxClosedBytes), counted in
	// Store.closedBytes once listed in Store.closed.
	bytes  int64
	listed bool
}

type execList struct {
	items   []*execution // by seq, ascending
	evicted int
}

// New returns an empty Store.
func New(opts Options) *Store {
	return &Store{
		opts:      opts,
		machines:  make(map[string]*machine),
		revisions: make(map[string]store.Revision),
		execs:     make(map[string]*execution),
		byMachine: make(map[string]*execList),
	}
}

func revKey(arn, id string) string { return arn + "\x00" + id }

func cloneRaw(b []byte) []byte {
	if b == nil {
		return nil
	}
	return bytes.Clone(b)
}

func cloneRevision(r store.Revision) store.Revision {
	r.Logging = cloneRaw(r.Logging)
	r.Tracing = cloneRaw(r.Tracing)
	return r
}

func cloneMachine(sm *store.StateMachine) *store.StateMachine {
	c := *sm
	c.Tags = cloneRaw(sm.Tags)
	c.Revision = cloneRevision(sm.Revision)
	return &c
}

func cloneExecution(x *store.Execution) *store.Execution {
	c := *x
	return &c
}

// CreateStateMachine implements store.Store.
func (s *Store) CreateStateMachine(ctx context.Context, sm *store.StateMachine) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.machines[sm.ARN]; ok {
		return store.ErrAlreadyExists
	}
	s.seq++
	m := &machine{sm: *cloneMachine(sm), seq: s.seq}
	s.machines[sm.ARN] = m
	s.order = append(s.order, m)
	s.revisions[revKey(sm.ARN, sm.RevisionID)] = cloneRevision(sm.Revision)
	return nil
}

// GetStateMachine implements store.Store.
func (s *Store) GetStateMachine(ctx context.Context, arn string) (*store.StateMachine, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	m, ok := s.machines[arn]
	if !ok {
		return nil, store.ErrNotFound
	}
	return cloneMachine(&m.sm), nil
}

// UpdateStateMachine implements store.Store.
func (s *Store) UpdateStateMachine(ctx context.Context, arn, prevRevisionID string, rev *store.Revision) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.machines[arn]
	if !ok {
		return store.ErrNotFound
	}
	if m.sm.RevisionID != prevRevisionID {
		return store.ErrConflict
	}
	r := cloneRevision(*rev)
	m.sm.Revision = r
	s.revisions[revKey(arn, r.RevisionID)] = cloneRevision(r)
	return nil
}

// DeleteStateMachine implements store.Store.
func (s *Store) DeleteStateMachine(ctx context.Context, arn string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.machines[arn]
	if !ok {
		return store.ErrNotFound
	}
	delete(s.machines, arn)
	s.order = deleteSeq(s.order, machineSeq, m.seq)
	return nil
}

// ListStateMachines implements store.Store.
func (s *Store) ListStateMachines(ctx context.Context, p store.Page) ([]*store.StateMachine, string, error) {
	after, err := store.ParsePageToken(p.Token, "m")
	if err != nil {
		return nil, "", err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out, next := pageAfter(s.order, machineSeq, after, p.Limit, "m", func(m *machine) *store.StateMachine { return cloneMachine(&m.sm) })
	return out, next, nil
}

// GetRevision implements store.Store.
func (s *Store) GetRevision(ctx context.Context, arn, revisionID string) (*store.Revision, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.revisions[revKey(arn, revisionID)]
	if !ok {
		return nil, store.ErrNotFound
	}
	r = cloneRevision(r)
	return &r, nil
}

// CreateExecution implements store.Store.
func (s *Store) CreateExecution(ctx context.Context, x *store.Execution, events []history.Event, end *store.End) error {
	for i := range events {
		if events[i].ID != int64(i)+1 {
			return fmt.Errorf("create execution: event id %d at %d: %w", events[i].ID, i+1, store.ErrConflict)
		}
	}
	if (len(events) > 0 || end != nil) && x.Status != store.StatusRunning {
		return fmt.Errorf("create execution: events for a closed execution: %w", store.ErrConflict)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.execs[x.ARN]; ok {
		return store.ErrAlreadyExists
	}
	s.seq++
	e := &execution{x: *x, seq: s.seq}
	s.execs[x.ARN] = e
	l := s.byMachine[x.StateMachineARN]
	if l == nil {
		l = &execList{}
		s.byMachine[x.StateMachineARN] = l
	}
	l.items = append(l.items, e)
	if len(events) > 0 || end != nil {
		s.append(e, events, end)
		return nil
	}
	if x.Status != store.StatusRunning {
		s.noteClosed(e)
	}
	return nil
}

// GetExecution implements store.Store.
func (s *Store) GetExecution(ctx context.Context, arn string) (*store.Execution, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.execs[arn]
	if !ok {
		return nil, store.ErrNotFound
	}
	return cloneExecution(&e.x), nil
}

// ListExecutions implements store.Store.
func (s *Store) ListExecutions(ctx context.Context, f store.ExecutionFilter, p store.Page) ([]*store.Execution, string, error) {
	before, err := store.ParsePageToken(p.Token, "x")
	if err != nil {
		return nil, "", err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	l := s.byMachine[f.StateMachineARN]
	if l == nil {
		return nil, "", nil
	}
	i := len(l.items) - 1
	if p.Token != "" {
		j, _ := slices.BinarySearchFunc(l.items, before, func(e *execution, seq int64) int { return cmp.Compare(e.seq, seq) })
		i = j - 1
	}
	limit := max(p.Limit, 1)
	var out []*store.Execution
	last := int64(0)
	for ; i >= 0; i-- {
		e := l.items[i]
		if e.evicted || (f.Status != "" && e.x.Status != f.Status) {
			continue
		}
		if len(out) == limit {
			return out, store.PageToken("x", last), nil
		}
		out = append(out, cloneExecution(&e.x))
		last = e.seq
	}
	return out, "", nil
}

// AppendHistory implements store.Store.
func (s *Store) AppendHistory(ctx context.Context, arn string, events []history.Event, end *store.End) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.execs[arn]
	if !ok {
		return store.ErrNotFound
	}
	if e.x.Status != store.StatusRunning {
		return store.ErrConflict
	}
	next := int64(len(e.events)) + 1
	for i := range events {
		if events[i].ID != next+int64(i) {
			return fmt.Errorf("append event id %d after %d: %w", events[i].ID, next-1, store.ErrConflict)
		}
	}
	s.append(e, events, end)
	return nil
}

// append adds events, checked, to e's history and closes it with end (if
// not nil). s.mu is held.
func (s *Store) append(e *execution, events []history.Event, end *store.End) {
	e.events = append(e.events, events...)
	if s.opts.MaxClosedBytes > 0 {
		for i := range events {
			e.bytes += events[i].Size()
		}
	}
	if end != nil {
		e.x.Status = end.Status
		e.x.StopDate = end.StopDate
		e.x.Output, e.x.Error, e.x.Cause = end.Output, end.Error, end.Cause
		s.noteClosed(e)
	}
}

// noteClosed records a closed execution and evicts the oldest closed ones
// beyond the cap. s.mu is held.
func (s *Store) noteClosed(e *execution) {
	if s.opts.MaxClosedExecutions <= 0 && s.opts.MaxClosedBytes <= 0 {
		return
	}
	e.bytes += int64(len(e.x.Input))
	if e.x.Output != nil {
		e.bytes += int64(len(*e.x.Output))
	}
	e.listed = true
	s.closedBytes += e.bytes
	s.closed = append(s.closed, e)
	for n := len(s.closed) - s.closedOff; n > 0 && ((s.opts.MaxClosedExecutions > 0 && n > s.opts.MaxClosedExecutions) ||
		(s.opts.MaxClosedBytes > 0 && s.closedBytes > s.opts.MaxClosedBytes)); n-- {
		old := s.closed[s.closedOff]
		s.closed[s.closedOff] = nil
		s.closedOff++
		s.evict(old)
	}
	if s.closedOff > 1024 && s.closedOff*2 > len(s.closed) {
		s.closed = append([]*execution(nil), s.closed[s.closedOff:]...)
		s.closedOff = 0
	}
}

func (s *Store) evict(e *execution) {
	if e.listed {
		s.closedBytes -= e.bytes
		e.listed = false
	}
	delete(s.execs, e.x.ARN)
	e.evicted = true
	e.events = nil
	l := s.byMachine[e.x.StateMachineARN]
	if l == nil {
		return
	}
	l.evicted++
	if l.evicted > 64 && l.evicted*2 > len(l.items) {
		kept := l.items[:0]
		for _, it := range l.items {
			if !it.evicted {
				kept = append(kept, it)
			}
		}
		clear(l.items[len(kept):])
		l.items = kept
		l.evicted = 0
		if len(kept) == 0 {
			delete(s.byMachine, e.x.StateMachineARN)
		}
	}
}

// History implements store.Store.
func (s *Store) History(ctx context.Context, arn string, reverse bool, p store.Page) ([]history.Event, string, error) {
	kind := "h"
	if reverse {
		kind = "r"
	}
	pos, err := store.ParsePageToken(p.Token, kind)
	if err != nil {
		return nil, "", err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.execs[arn]
	if !ok {
		return nil, "", store.ErrNotFound
	}
	n := int64(len(e.events))
	limit := int64(max(p.Limit, 1))
	if !reverse {
		// pos is the id of the last event returned.
		if pos > n {
			return nil, "", store.ErrInvalidToken
		}
		end := min(pos+limit, n)
		out := slices.Clone(e.events[pos:end])
		if end < n {
			return out, store.PageToken(kind, end), nil
		}
		return out, "", nil
	}
	// pos is the id of the last event returned (0: start from the newest).
	if p.Token == "" {
		pos = n + 1
	}
	if pos > n+1 || pos < 1 {
		return nil, "", store.ErrInvalidToken
	}
	hi := pos - 1 // last id to return, counting down
	lo := max(hi-limit+1, 1)
	out := make([]history.Event, 0, max(hi-lo+1, 0))
	for id := hi; id >= lo; id-- {
		out = append(out, e.events[id-1])
	}
	if lo > 1 {
		return out, store.PageToken(kind, lo), nil
	}
	return out, "", nil
}

// ListRunning implements store.Store.
func (s *Store) ListRunning(ctx context.Context) ([]*store.Execution, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var running []*execution
	for _, e := range s.execs {
		if e.x.Status == store.StatusRunning {
			running = append(running, e)
		}
	}
	slices.SortFunc(running, func(a, b *execution) int { return cmp.Compare(a.seq, b.seq) })
	out := make([]*store.Execution, len(running))
	for i, e := range running {
		out[i] = cloneExecution(&e.x)
	}
	return out, nil
}

// DeleteClosedBefore implements store.Store.
func (s *Store) DeleteClosedBefore(ctx context.Context, t time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range s.execs {
		if e.x.Status != store.StatusRunning && e.x.StopDate.Before(t) {
			s.evict(e)
			n++
		}
	}
	if n > 0 && len(s.closed) > 0 {
		kept := s.closed[:0]
		for _, e := range s.closed[s.closedOff:] {
			if !e.evicted {
				kept = append(kept, e)
			}
		}
		clear(s.closed[len(kept):])
		s.closed, s.closedOff = kept, 0
	}
	return n, nil
}

// Close implements store.Store; the memory store holds nothing to release.
func (s *Store) Close() error { return nil }

// pageAfter returns a page of items (ascending by seq) that come after the
// position after: at most limit of them (at least one), each converted with
// conv, and the token (of kind) of the next page when more follow.
func pageAfter[E, T any](items []E, seq func(E) int64, after int64, limit int, kind string, conv func(E) T) ([]T, string) {
	i, _ := slices.BinarySearchFunc(items, after+1, func(e E, n int64) int { return cmp.Compare(seq(e), n) })
	limit = max(limit, 1)
	var out []T
	for ; i < len(items) && len(out) < limit; i++ {
		out = append(out, conv(items[i]))
	}
	if i < len(items) {
		return out, store.PageToken(kind, seq(items[i-1]))
	}
	return out, ""
}

// deleteSeq removes the item at position n from items (ascending by seq).
func deleteSeq[E any](items []E, seq func(E) int64, n int64) []E {
	if i, found := slices.BinarySearchFunc(items, n, func(e E, n int64) int { return cmp.Compare(seq(e), n) }); found {
		return slices.Delete(items, i, i+1)
	}
	return items
}

func machineSeq(m *machine) int64 { return m.seq }
