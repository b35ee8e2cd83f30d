package app

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/internal/clock"
	"github.com/stepwell/stepwell/store"
)

// Watch is how a test sees into a server it starts, so that it waits on
// events instead of sleeping.
type Watch struct {
	// Clock is the server's clock (default clock.Real): a *clock.Fake
	// lets the test move time.
	Clock clock.Clock
	// Writes, when set, is told of every write to the server's stores.
	Writes *Writes
}

// NewWatched is New, wired as w says.
func NewWatched(ctx context.Context, c Config, logger *slog.Logger, w Watch) (*Server, error) {
	wr := wiring{clock: w.Clock}
	if w.Writes != nil {
		wr.open = func(ctx context.Context, c Config) (*backend, error) {
			bk, err := openStore(ctx, c, nil)
			if err == nil {
				bk.store = w.Writes.wrap(bk.store)
				if bk.reopener != nil {
					bk.reopener = writesReopener{bk.reopener, w.Writes}
				}
			}
			return bk, err
		}
		wr.express = w.Writes.wrap
	}
	return newServer(ctx, c, logger, wr)
}

// Writes tells when the stores of servers were written: an execution
// created, history appended (which closes or forgets executions too), an
// execution reopened or closed ones deleted. Its zero value is ready.
type Writes struct {
	mu   sync.Mutex
	next chan struct{}
}

// Next returns a channel closed by the first write that ends after the
// call. Take it before checking what the writes change, so that none is
// missed in between.
func (w *Writes) Next() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.next == nil {
		w.next = make(chan struct{})
	}
	return w.next
}

func (w *Writes) wrote() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.next != nil {
		close(w.next)
		w.next = nil
	}
}

// wrap returns st reporting its writes to w.
func (w *Writes) wrap(st store.Store) store.Store {
	return &writesStore{Store: st, w: w}
}

type writesStore struct {
	store.Store
	w *Writes
}

func (s *writesStore) CreateExecution(ctx context.Context, x *store.Execution, events []history.Event, end *store.End) error {
	defer s.w.wrote()
	return s.Store.CreateExecution(ctx, x, events, end)
}

func (s *writesStore) AppendHistory(ctx context.Context, arn string, events []history.Event, end *store.End) error {
	defer s.w.wrote()
	return s.Store.AppendHistory(ctx, arn, events, end)
}

func (s *writesStore) DeleteClosedBefore(ctx context.Context, t time.Time) (int, error) {
	defer s.w.wrote()
	return s.Store.DeleteClosedBefore(ctx, t)
}

// writesReopener reports the executions a Reopener reopens to w.
type writesReopener struct {
	r store.Reopener
	w *Writes
}

func (s writesReopener) ReopenExecution(ctx context.Context, arn string, events []history.Event) error {
	defer s.w.wrote()
	return s.r.ReopenExecution(ctx, arn, events)
}
