// Package groupcommit is the group-commit writer of the durable stores
// (store/sqlite, store/postgres): callers hand it requests, one goroutine
// takes whatever is queued as a batch, applies the batch's requests in one
// transaction and commits it once, so that many writes share one fsync (or
// one WAL flush); each caller gets its own request's result once the
// transaction is durable.
//
// # Rules
//
//   - Context. A request whose context ends before the writer takes it into
//     a batch is dropped: Do returns ctx.Err() at once and nothing of the
//     request is written. Once taken, the request runs, and Do returns the
//     outcome of its transaction whatever happens to ctx meanwhile (a
//     committed write stands; its caller is told so).
//   - Results. Tx.Apply returns the request's result (nil or a rejection
//     such as a conflict, decided before anything of the request is
//     written) and a fatal error that aborts the transaction. Results are
//     delivered only after the commit succeeds.
//   - Failures. A fatal error or a panic in one request's Apply is that
//     request's error (a panic becomes a *PanicError); the transaction is
//     rolled back and the batch retried without it. When Begin or Commit
//     fails (or panics), no request is to blame: the batch is retried one
//     request per transaction, so that a request that breaks the commit
//     fails alone; a Begin that fails then (the database is unreachable)
//     fails the requests not yet retried with its error. The writer
//     goroutine survives every one of these and keeps serving.
//   - Close lets the writer commit everything already queued, then stops
//     it; Do after Close returns the Closed error of the Options.
package groupcommit

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// A Tx is the transaction of one batch.
type Tx[R any] interface {
	// Apply adds r's writes to the transaction. result is r's own answer,
	// delivered if the transaction commits; fatal aborts the transaction
	// and is r's error.
	Apply(r R) (result, fatal error)
	// Commit makes the transaction durable.
	Commit() error
	// Rollback abandons the transaction (after a fatal error, a panic, or a
	// failed Commit) and resets what the store keeps about it.
	Rollback()
}

// Begin starts the transaction of a batch. batch holds the requests that
// the transaction's Apply calls will be given, in that order, so that a
// store can prepare them together (lock their rows in one round trip); it
// is valid only during the call. A Begin that fails leaves no transaction
// open.
type Begin[R any] func(batch []R) (Tx[R], error)

// Options shape a Writer's batches.
type Options[R any] struct {
	// MaxBatch bounds the requests of one batch (default 1024).
	MaxBatch int
	// Size and MaxBytes bound a batch's bytes, roughly: a batch takes no
	// more requests once their sizes add up to MaxBytes (one larger
	// request still goes alone). Zero MaxBytes: no bound.
	Size     func(R) int
	MaxBytes int
	// CoalesceBelow: a batch smaller than this yields the processor once
	// before it is applied, so that writes about to be made (by goroutines
	// the previous commit woke) join it. No timed wait: an idle writer
	// still commits at once. Zero: never.
	CoalesceBelow int
	// Closed is what Do returns after Close (default ErrClosed).
	Closed error
}

// minQueue is the least number of requests the queue holds (it holds
// MaxBatch when that is more) before Do waits to send.
const minQueue = 64

// ErrClosed is returned by Do after Close unless Options.Closed says
// otherwise.
var ErrClosed = errors.New("group-commit writer is closed")

// PanicError is a request's error when its Apply panicked (or, for every
// request of a batch retried alone, when Begin or Commit did).
type PanicError struct {
	Value any    // what was passed to panic
	Stack []byte // the panicking goroutine's stack
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("panic in a group-committed write: %v", e.Value)
}

// Stats counts a writer's transactions.
type Stats struct {
	Commits    int64         // transactions committed
	Writes     int64         // requests they held
	CommitTime time.Duration // spent in the committed transactions, from begin to commit
	Queued     int           // requests waiting for the writer now
}

// A Writer group-commits requests of type R. Create it with New.
type Writer[R any] struct {
	begin Begin[R]
	opts  Options[R]
	ch    chan *request[R]
	pool  sync.Pool

	mu      sync.RWMutex // guards closed against sends on ch
	closed  bool
	stopped chan struct{}

	// batch and rs are the writer goroutine's buffers.
	batch []*request[R]
	rs    []R

	commits, writes, busy atomic.Int64 // busy: nanoseconds in committed transactions
}

// Request states: a queued request is either taken by the writer or
// abandoned by its caller (whose context ended), whichever comes first.
const (
	queued int32 = iota
	taken
	abandoned
)

type request[R any] struct {
	r     R
	state atomic.Int32
	res   error
	done  chan error
}

// New starts a Writer whose transactions begin with begin.
func New[R any](begin Begin[R], opts Options[R]) *Writer[R] {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 1024
	}
	if opts.Closed == nil {
		opts.Closed = ErrClosed
	}
	w := &Writer[R]{begin: begin, opts: opts, ch: make(chan *request[R], max(opts.MaxBatch, minQueue)), stopped: make(chan struct{})}
	w.pool.New = func() any { return &request[R]{done: make(chan error, 1)} }
	go w.loop()
	return w
}

// Stats returns the counts since New: Writes/Commits is the mean number of
// requests that shared one transaction.
func (w *Writer[R]) Stats() Stats {
	return Stats{Commits: w.commits.Load(), Writes: w.writes.Load(), CommitTime: time.Duration(w.busy.Load()), Queued: len(w.ch)}
}

// Do queues r and returns its result once its transaction has committed,
// its error, or ctx.Err() if ctx ends before the writer takes r (see the
// package comment).
func (w *Writer[R]) Do(ctx context.Context, r R) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	q := w.pool.Get().(*request[R])
	q.r = r
	q.state.Store(queued)
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		w.recycle(q)
		return w.opts.Closed
	}
	done := ctx.Done()
	if done == nil {
		// A context that cannot end (the stores' recorders pass one):
		// plain channel operations instead of selects.
		w.ch <- q
		w.mu.RUnlock()
		err := <-q.done
		w.recycle(q)
		return err
	}
	select {
	case w.ch <- q:
	case <-done:
		w.mu.RUnlock()
		w.recycle(q)
		return ctx.Err()
	}
	w.mu.RUnlock()
	select {
	case err := <-q.done:
		w.recycle(q)
		return err
	case <-done:
		if q.state.CompareAndSwap(queued, abandoned) {
			return ctx.Err() // the writer recycles q
		}
		err := <-q.done // taken: its outcome stands
		w.recycle(q)
		return err
	}
}

func (w *Writer[R]) recycle(q *request[R]) {
	var zero R
	q.r, q.res = zero, nil
	w.pool.Put(q)
}

// Close commits what is queued, stops the writer goroutine and returns
// true; it returns false if the writer was closed already.
func (w *Writer[R]) Close() bool {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return false
	}
	w.closed = true
	close(w.ch)
	w.mu.Unlock()
	<-w.stopped
	return true
}

func (w *Writer[R]) loop() {
	defer close(w.stopped)
	for {
		q, ok := <-w.ch
		if !ok {
			return
		}
		w.batch = w.batch[:0]
		size := 0
		w.take(q, &size)
		for pass := 0; pass < 2; pass++ {
			if pass == 1 {
				if len(w.batch) >= w.opts.CoalesceBelow {
					break
				}
				runtime.Gosched()
			}
		drain:
			for len(w.batch) < w.opts.MaxBatch && (w.opts.MaxBytes <= 0 || size < w.opts.MaxBytes) {
				select {
				case q, ok := <-w.ch:
					if !ok {
						break drain
					}
					w.take(q, &size)
				default:
					break drain
				}
			}
		}
		if len(w.batch) > 0 {
			w.commit(w.batch)
		}
		clear(w.batch)
	}
}

// take adds q to the batch unless its caller abandoned it.
func (w *Writer[R]) take(q *request[R], size *int) {
	if !q.state.CompareAndSwap(queued, taken) {
		w.recycle(q)
		return
	}
	w.batch = append(w.batch, q)
	if w.opts.MaxBytes > 0 && w.opts.Size != nil {
		*size += w.opts.Size(q.r)
	}
}

// commit runs batch and answers each of its requests.
func (w *Writer[R]) commit(batch []*request[R]) {
	for len(batch) > 0 {
		bad, err := w.attempt(batch)
		switch {
		case err == nil:
			for _, q := range batch {
				q.done <- q.res
			}
			return
		case bad >= 0:
			batch[bad].done <- err
			batch = slices.Delete(batch, bad, bad+1)
		case len(batch) == 1:
			batch[0].done <- err
			return
		default:
			w.alone(batch)
			return
		}
	}
}

// alone runs each request of a batch whose Begin or Commit failed in its
// own transaction.
func (w *Writer[R]) alone(batch []*request[R]) {
	for i, q := range batch {
		bad, err := w.attempt(batch[i : i+1])
		switch {
		case err == nil:
			q.done <- q.res
		case bad == failedBegin:
			for _, q := range batch[i:] {
				q.done <- err
			}
			return
		default:
			q.done <- err
		}
	}
}

// Where attempt failed when it names no request.
const (
	failedBegin  = -1
	failedCommit = -2
)

// attempt runs batch in one transaction. It returns a nil error once the
// transaction committed (each request's result in its res), or the error
// and the index of the request whose Apply failed, or failedBegin or
// failedCommit. Panics are recovered into *PanicError.
func (w *Writer[R]) attempt(batch []*request[R]) (bad int, err error) {
	start := time.Now()
	w.rs = w.rs[:0]
	for _, q := range batch {
		w.rs = append(w.rs, q.r)
	}
	defer clear(w.rs)
	tx, err := protect(func() (Tx[R], error) { return w.begin(w.rs) })
	if err != nil {
		return failedBegin, err
	}
	for i, q := range batch {
		var fatal error
		q.res, fatal = apply(tx, q.r)
		if fatal != nil {
			rollback(tx)
			return i, fatal
		}
	}
	if _, err := protect(func() (struct{}, error) { return struct{}{}, tx.Commit() }); err != nil {
		rollback(tx)
		return failedCommit, err
	}
	w.busy.Add(int64(time.Since(start)))
	w.commits.Add(1)
	w.writes.Add(int64(len(batch)))
	return 0, nil
}

func apply[R any](tx Tx[R], r R) (result, fatal error) {
	defer func() {
		if v := recover(); v != nil {
			result, fatal = nil, &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return tx.Apply(r)
}

func rollback[R any](tx Tx[R]) {
	defer func() { _ = recover() }() // the next Begin finds out what is left
	tx.Rollback()
}

func protect[T any](f func() (T, error)) (v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &PanicError{Value: p, Stack: debug.Stack()}
		}
	}()
	return f()
}
