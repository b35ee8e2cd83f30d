package groupcommit

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
)

// fake is a store whose requests are strings that say what they do:
//
//	"ok:x"        applies x
//	"reject:x"    is rejected (result errRejected), writes nothing
//	"fatal:x"     fails its transaction (errFatal)
//	"panic:x"     panics in Apply
//	"badcommit:x" makes the commit of any transaction holding it fail
//	"commitpanic:x" makes the commit of any transaction holding it panic
//	"hold:x"      applies x, but its Begin waits for the test (see hold)
type fake struct {
	mu        sync.Mutex
	committed []string   // applied requests, in commit order
	batches   [][]string // the requests of each Begin
	rollbacks int
	beginErr  error

	held, release chan struct{} // Begin of a "hold:" batch signals held, waits for release
}

var (
	errRejected = errors.New("rejected")
	errFatal    = errors.New("fatal")
	errCommit   = errors.New("commit failed")
	errBegin    = errors.New("begin failed")
	errClosed   = errors.New("closed")
)

func newFake() *fake {
	return &fake{held: make(chan struct{}, 1), release: make(chan struct{})}
}

type fakeTx struct {
	f       *fake
	applied []string
}

func (f *fake) begin(batch []string) (Tx[string], error) {
	f.mu.Lock()
	f.batches = append(f.batches, slices.Clone(batch))
	err := f.beginErr
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	for _, r := range batch {
		if strings.HasPrefix(r, "hold:") {
			f.held <- struct{}{}
			<-f.release
		}
	}
	return &fakeTx{f: f}, nil
}

func (t *fakeTx) Apply(r string) (error, error) {
	kind, _, _ := strings.Cut(r, ":")
	switch kind {
	case "reject":
		return errRejected, nil
	case "fatal":
		return nil, errFatal
	case "panic":
		panic("boom " + r)
	}
	t.applied = append(t.applied, r)
	return nil, nil
}

func (t *fakeTx) Commit() error {
	for _, r := range t.applied {
		switch {
		case strings.HasPrefix(r, "badcommit:"):
			return errCommit
		case strings.HasPrefix(r, "commitpanic:"):
			panic("commit boom")
		}
	}
	t.f.mu.Lock()
	t.f.committed = append(t.f.committed, t.applied...)
	t.f.mu.Unlock()
	return nil
}

func (t *fakeTx) Rollback() {
	t.f.mu.Lock()
	t.f.rollbacks++
	t.f.mu.Unlock()
}

func (f *fake) snapshot() (committed []string, batches [][]string, rollbacks int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.committed), slices.Clone(f.batches), f.rollbacks
}

// queue starts Do for each request once the writer is held inside the
// Begin of a "hold:" request, waits until all of them are queued, and
// returns their results (indexed like reqs) after releasing the writer.
// Call it in a synctest bubble (see waitQueued).
func queue(t *testing.T, w *Writer[string], f *fake, reqs []string) []error {
	t.Helper()
	first := make(chan error, 1)
	go func() { first <- w.Do(context.Background(), "hold:first") }()
	<-f.held
	errs := make([]error, len(reqs))
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = w.Do(context.Background(), r)
		}()
	}
	waitQueued(t, w, len(reqs))
	close(f.release)
	if err := <-first; err != nil {
		t.Fatalf("hold:first: %v", err)
	}
	wg.Wait()
	return errs
}

// waitQueued waits until every goroutine of the test's synctest bubble
// is blocked, and checks that n requests then wait in w's queue (Do has
// sent them; the writer is held, so nothing takes them).
func waitQueued[R any](t *testing.T, w *Writer[R], n int) {
	t.Helper()
	synctest.Wait()
	if got := len(w.ch); got != n {
		t.Fatalf("%d requests queued, want %d", got, n)
	}
}

func TestWriter_Batches(t *testing.T) {
	tests := []struct {
		name      string
		opts      Options[string]
		reqs      []string
		want      []error  // per request
		committed []string // besides "hold:first", in any order
		batches   int      // Begin calls after the held one
		rollbacks int
	}{
		{
			name: "one commit for all queued",
			reqs: []string{"ok:a", "ok:b", "ok:c"}, want: []error{nil, nil, nil},
			committed: []string{"ok:a", "ok:b", "ok:c"}, batches: 1,
		},
		{
			name: "a rejection is that request's result",
			reqs: []string{"ok:a", "reject:b", "ok:c"}, want: []error{nil, errRejected, nil},
			committed: []string{"ok:a", "ok:c"}, batches: 1,
		},
		{
			name: "a fatal error fails its request; the batch is retried without it",
			reqs: []string{"ok:a", "fatal:b", "ok:c"}, want: []error{nil, errFatal, nil},
			committed: []string{"ok:a", "ok:c"}, batches: 2, rollbacks: 1,
		},
		{
			name: "a panic fails its request; the batch is retried without it",
			reqs: []string{"ok:a", "panic:b", "ok:c", "panic:d"}, want: []error{nil, &PanicError{}, nil, &PanicError{}},
			committed: []string{"ok:a", "ok:c"}, batches: 3, rollbacks: 2,
		},
		{
			name: "a failed commit retries each request alone",
			reqs: []string{"ok:a", "badcommit:b", "ok:c"}, want: []error{nil, errCommit, nil},
			committed: []string{"ok:a", "ok:c"}, batches: 4, rollbacks: 2,
		},
		{
			name: "a panicking commit retries each request alone",
			reqs: []string{"ok:a", "commitpanic:b"}, want: []error{nil, &PanicError{}},
			committed: []string{"ok:a"}, batches: 3, rollbacks: 2,
		},
		{
			name: "MaxBatch bounds a batch",
			opts: Options[string]{MaxBatch: 2},
			reqs: []string{"ok:a", "ok:b", "ok:c"}, want: []error{nil, nil, nil},
			committed: []string{"ok:a", "ok:b", "ok:c"}, batches: 2,
		},
		{
			name: "MaxBytes bounds a batch",
			opts: Options[string]{MaxBytes: 8, Size: func(r string) int { return len(r) }},
			reqs: []string{"ok:a", "ok:b", "ok:c"}, want: []error{nil, nil, nil},
			committed: []string{"ok:a", "ok:b", "ok:c"}, batches: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFake()
				w := New(f.begin, tt.opts)
				defer w.Close()
				errs := queue(t, w, f, tt.reqs)
				for i, err := range errs {
					var pe *PanicError
					switch want := tt.want[i]; {
					case errors.As(want, &pe):
						if !errors.As(err, &pe) || pe.Value == nil || len(pe.Stack) == 0 {
							t.Errorf("%s: %v, want a *PanicError", tt.reqs[i], err)
						}
					case !errors.Is(err, want):
						t.Errorf("%s: %v, want %v", tt.reqs[i], err, want)
					}
				}
				committed, batches, rollbacks := f.snapshot()
				if committed[0] != "hold:first" {
					t.Fatalf("committed %v", committed)
				}
				slices.Sort(committed)
				want := append([]string{"hold:first"}, tt.committed...)
				slices.Sort(want)
				if !slices.Equal(committed, want) {
					t.Errorf("committed %v, want %v", committed, want)
				}
				if n := len(batches) - 1; n != tt.batches {
					t.Errorf("%d transactions begun after the first, want %d: %v", n, tt.batches, batches)
				}
				if rollbacks != tt.rollbacks {
					t.Errorf("%d rollbacks, want %d", rollbacks, tt.rollbacks)
				}
				// The writer still serves.
				if err := w.Do(context.Background(), "ok:after"); err != nil {
					t.Errorf("after: %v", err)
				}
				st := w.Stats()
				if st.Commits < 2 || st.Writes < int64(len(want)) {
					t.Errorf("stats %+v", st)
				}
			})
		})
	}
}

// TestWriter_BeginFails: when Begin fails, nothing is written and every
// request gets its error, also when retried alone.
func TestWriter_BeginFails(t *testing.T) {
	f := newFake()
	w := New(f.begin, Options[string]{})
	defer w.Close()
	f.mu.Lock()
	f.beginErr = errBegin
	f.mu.Unlock()
	for _, r := range []string{"ok:a", "ok:b"} {
		if err := w.Do(context.Background(), r); !errors.Is(err, errBegin) {
			t.Errorf("%s: %v, want %v", r, err, errBegin)
		}
	}
	f.mu.Lock()
	f.beginErr = nil
	f.mu.Unlock()
	if err := w.Do(context.Background(), "ok:c"); err != nil {
		t.Errorf("after: %v", err)
	}
	if committed, _, _ := f.snapshot(); !slices.Equal(committed, []string{"ok:c"}) {
		t.Errorf("committed %v", committed)
	}
}

func TestWriter_Context(t *testing.T) {
	t.Run("ended before Do", func(t *testing.T) {
		f := newFake()
		w := New(f.begin, Options[string]{})
		defer w.Close()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := w.Do(ctx, "ok:a"); !errors.Is(err, context.Canceled) {
			t.Fatalf("Do: %v", err)
		}
		if err := w.Do(context.Background(), "ok:b"); err != nil {
			t.Fatal(err)
		}
		if committed, _, _ := f.snapshot(); !slices.Equal(committed, []string{"ok:b"}) {
			t.Errorf("committed %v", committed)
		}
	})
	t.Run("ended while queued", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := newFake()
			w := New(f.begin, Options[string]{})
			defer w.Close()
			first := make(chan error, 1)
			go func() { first <- w.Do(context.Background(), "hold:first") }()
			<-f.held
			ctx, cancel := context.WithCancel(context.Background())
			queued := make(chan error, 1)
			go func() { queued <- w.Do(ctx, "ok:dropped") }()
			waitQueued(t, w, 1)
			cancel()
			// Do returns while the writer is still held.
			if err := <-queued; !errors.Is(err, context.Canceled) {
				t.Fatalf("Do: %v", err)
			}
			close(f.release)
			if err := <-first; err != nil {
				t.Fatal(err)
			}
			if err := w.Do(context.Background(), "ok:b"); err != nil {
				t.Fatal(err)
			}
			if committed, _, _ := f.snapshot(); !slices.Equal(committed, []string{"hold:first", "ok:b"}) {
				t.Errorf("committed %v: the abandoned request was written", committed)
			}
		})
	})
	t.Run("ended once taken", func(t *testing.T) {
		f := newFake()
		w := New(f.begin, Options[string]{})
		defer w.Close()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- w.Do(ctx, "hold:taken") }()
		<-f.held // taken into a batch
		cancel()
		close(f.release)
		if err := <-done; err != nil {
			t.Fatalf("Do: %v, want the committed result", err)
		}
		if committed, _, _ := f.snapshot(); !slices.Equal(committed, []string{"hold:taken"}) {
			t.Errorf("committed %v", committed)
		}
	})
}

func TestWriter_Close(t *testing.T) { synctest.Test(t, testWriterClose) }

func testWriterClose(t *testing.T) {
	f := newFake()
	w := New(f.begin, Options[string]{Closed: errClosed})
	first := make(chan error, 1)
	go func() { first <- w.Do(context.Background(), "hold:first") }()
	<-f.held
	var wg sync.WaitGroup
	errs := make([]error, 5)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = w.Do(context.Background(), fmt.Sprintf("ok:%d", i))
		}()
	}
	waitQueued(t, w, len(errs))
	closed := make(chan bool)
	go func() { closed <- w.Close() }()
	close(f.release)
	if !<-closed {
		t.Fatal("Close reported the writer closed already")
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("queued request %d: %v", i, err)
		}
	}
	if committed, _, _ := f.snapshot(); len(committed) != 1+len(errs) {
		t.Errorf("committed %v", committed)
	}
	if err := w.Do(context.Background(), "ok:late"); !errors.Is(err, errClosed) {
		t.Errorf("Do after Close: %v", err)
	}
	if w.Close() {
		t.Error("second Close reported true")
	}
}

// TestWriter_Concurrent runs many callers through a coalescing writer: each
// gets its own result and the batches share commits.
func TestWriter_Concurrent(t *testing.T) {
	f := newFake()
	w := New(f.begin, Options[string]{CoalesceBelow: 16})
	defer w.Close()
	const n = 2000
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := fmt.Sprintf("ok:%d", i)
			if i%10 == 0 {
				r = fmt.Sprintf("reject:%d", i)
			}
			errs[i] = w.Do(context.Background(), r)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if want := error(nil); i%10 == 0 && !errors.Is(err, errRejected) || i%10 != 0 && err != want {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	committed, _, _ := f.snapshot()
	if len(committed) != n-n/10 {
		t.Errorf("%d committed, want %d", len(committed), n-n/10)
	}
	if st := w.Stats(); st.Writes != n || st.Commits > n || st.CommitTime <= 0 || st.Queued != 0 {
		t.Errorf("stats %+v, want %d writes, some commit time and none queued", st, n)
	}
}

// BenchmarkDo measures a request's round trip through the writer (queue,
// batch, commit, answer) with 64 concurrent callers, on a fake store; the
// sub-benchmarks pass a context that cannot end (as the stores' recorders
// do) and one that can (a request's).
func BenchmarkDo(b *testing.B) {
	cancelled, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, bc := range []struct {
		name string
		ctx  context.Context
	}{{"background", context.Background()}, {"cancellable", cancelled}} {
		b.Run(bc.name, func(b *testing.B) {
			f := newFake()
			w := New(f.begin, Options[string]{MaxBatch: 4096, CoalesceBelow: 16})
			defer w.Close()
			b.SetParallelism(64 / max(runtime.GOMAXPROCS(0), 1))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := w.Do(bc.ctx, "ok:x"); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
