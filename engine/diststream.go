package engine

// A Distributed Map whose ItemReader's items go to a ResultWriter export
// streams them: the reader hands items on as it decodes them, at most
// MaxConcurrency children run at once (10,000, AWS's limit, when it is 0),
// and each child's outcome goes to the export as the child ends. Memory
// holds the items in flight and the export's buffers, however many items
// the source has. (Its children have no ItemBatcher: a Map with one holds
// its items, batcher.go.)

import (
	"context"
	"sync"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/value"
)

// maxChildren is AWS's limit of concurrent child executions of a Map Run.
const maxChildren = 10000

// streams tells whether a Distributed Map state streams its items.
func streams(st *asl.State) bool {
	return st.Reader != nil && st.Writer != nil && st.Writer.Resource != "" && st.Batcher == nil
}

// liveItems are the items of a streamed Map Run in flight, by index.
type liveItems struct {
	mu sync.Mutex
	m  map[int]any
}

func (l *liveItems) put(i int, v any) {
	l.mu.Lock()
	l.m[i] = v
	l.mu.Unlock()
}

func (l *liveItems) get(i int) any {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.m[i]
}

func (l *liveItems) drop(i int) {
	l.mu.Lock()
	delete(l.m, i)
	l.mu.Unlock()
}

// itemRead prepares the reading of the Map's ItemReader: its arguments
// and MaxItems, evaluated on the effective input.
func (t *thread) itemRead(r *stateRun, cfg *mapConfig) (*ItemRead, ItemReader, *failure) {
	rd := r.b.st.Reader
	read := &ItemRead{Reader: rd, Region: t.ex.e.cfg.Region}
	args, f := r.b.flow.arguments(t, r, rd.Parameters, rd.Args, cfg.eff)
	if f != nil {
		return nil, nil, f
	}
	read.Arguments, _ = args.(*value.Object)
	if read.MaxItems, f = t.maxItems(r, cfg); f != nil {
		return nil, nil, f
	}
	src := t.ex.e.cfg.Items
	if src == nil {
		return nil, nil, t.fail(fault.New(fault.ItemReaderFailed, ErrNoItemStore.Error()))
	}
	return read, src, nil
}

// runStream runs a streamed Map Run and returns the Map's result (where
// the export's manifest is).
func (t *thread) runStream(r *stateRun, cfg *mapConfig, runARN string) (any, *failure) {
	st := r.b.st
	read, src, f := t.itemRead(r, cfg)
	if f != nil {
		return nil, f
	}
	sink, f := t.openResults(r, cfg, runARN)
	if f != nil {
		return nil, f
	}
	cfg.children = newChildren(runARN, 0)
	cfg.children.sink = sink
	cfg.live = &liveItems{m: make(map[int]any)}
	cfg.progress = t.newProgress(runARN, 0)
	ctx, cancel := context.WithCancel(t.ctx)
	defer cancel()
	conc := limitOf(int64(cfg.maxConc))
	type job struct {
		i    int
		item any
	}
	jobs := make(chan job, min(conc, 1024))
	var readErr error
	go func() {
		defer close(jobs)
		n := 0
		readErr = src.ReadItems(ctx, read, func(item any) error {
			cfg.progress.update(func(c *MapRunCounts) { c.Total++; c.Pending++ })
			select {
			case jobs <- job{n, item}:
				n++
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	var (
		mu      sync.Mutex
		first   *failure
		failed  int
		total   int
		aborted bool
		wg      sync.WaitGroup
	)
	runOne := func(j job) {
		it := &thread{ex: t.ex, ctx: ctx, vars: &scope{}, log: uncounted}
		cfg.progress.started()
		start := t.ex.e.clock.Now()
		in, f := r.b.flow.itemInput(t, it, r, cfg, j.i)
		cfg.live.drop(j.i)
		var out any
		var name, childARN, inText string
		if f == nil {
			out, name, childARN, inText, f = t.runChild(it, st, cfg, j.i, in)
		}
		cfg.children.record(j.i, name, childARN, in, inText, out, f, start, t.ex.e.clock.Now())
		cfg.progress.ended(f)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case f == nil:
		case f.aborted:
			aborted = true
		case f.fatal:
			failed++
			if first == nil {
				first = f
				cancel()
			}
		default:
			failed++
			// The percentage is checked against the total at the end.
			if first == nil && cfg.ctl.exceeded(failed, 0, false) {
				first = exceededFailure(f)
				cancel()
			}
		}
	}
	// The children run on workers that each take the next job when they
	// are free: a worker is started only when none is free (at most about
	// the concurrency limit of them), and its stack, grown by the first
	// child, serves the next ones.
	work := make(chan job)
	worker := func(j job) {
		defer wg.Done()
		for {
			runOne(j)
			cfg.ctl.release()
			var ok bool
			if j, ok = <-work; !ok {
				return
			}
		}
	}
	for j := range jobs {
		total++
		if ctx.Err() != nil || !cfg.ctl.acquire(ctx) {
			continue // drain: the reader stops at its next item
		}
		cfg.live.put(j.i, j.item)
		select {
		case work <- j:
		default:
			wg.Add(1)
			go worker(j)
		}
	}
	close(work)
	wg.Wait()
	switch {
	case first != nil:
	case t.cancelled():
		first = t.aborted()
	case readErr != nil:
		first = t.fail(asFault(readErr, fault.ItemReaderFailed))
	case aborted:
		first = t.aborted()
	case cfg.exceeded(failed, total):
		first = exceededFailure(nil)
	case cfg.children.err != nil:
		first = t.writeFailed(cfg.children.err)
	}
	if first != nil {
		sink.Discard()
		return nil, first
	}
	return t.closeResults(sink, runARN)
}

// exceededFailure is the failure of a Map Run whose failures exceed its
// tolerated threshold (f: the failure that did).
func exceededFailure(f *failure) *failure {
	out := &failure{err: fault.New(fault.ExceedToleratedFailureThreshold, "The specified tolerated failure threshold was exceeded")}
	if f != nil {
		out.last = f.last
	}
	return out
}
