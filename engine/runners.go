package engine

import "sync/atomic"

// A runnerPool runs started executions (Start, Resume) on goroutines that
// wait for the next execution once theirs ended instead of exiting, so
// that most executions start on a goroutine that exists and whose stack
// has grown already: a new goroutine and the growth of its stack were
// about 4 % of the server's CPU per execution of a short Pass chain
// (BenchmarkDurableHTTP's profile; BenchmarkStartPath, twice 4 alternated
// pairs: 53.0–56.1 → 49.5–53.9 CPU-µs per execution, every pair lower). At most
// max runners wait; the others exit. A runner's stack is grown once, when
// it starts (the collector may shrink a waiting one's). A nil pool runs
// each execution on a new goroutine.
type runnerPool struct {
	max  int32
	work chan func() // unbuffered: a send succeeds only if a runner waits
	idle atomic.Int32
	// exited counts the runners that exited (beyond max).
	exited atomic.Int32
}

func newRunnerPool(max int) *runnerPool {
	return &runnerPool{max: int32(max), work: make(chan func())}
}

// run runs f on a waiting runner, else on a new goroutine.
func (p *runnerPool) run(f func()) {
	if p == nil {
		go func() {
			growStack()
			f()
		}()
		return
	}
	select {
	case p.work <- f:
	default:
		go p.loop(f)
	}
}

func (p *runnerPool) loop(f func()) {
	growStack()
	for {
		f()
		f = nil // keeps nothing of the run while waiting
		if !p.wait() {
			p.exited.Add(1)
			return
		}
		f = <-p.work
		p.idle.Add(-1)
	}
}

// wait counts the calling runner as waiting unless max wait already
// (then it should exit).
func (p *runnerPool) wait() bool {
	for {
		n := p.idle.Load()
		if n >= p.max {
			return false
		}
		if p.idle.CompareAndSwap(n, n+1) {
			return true
		}
	}
}
