package engine

import (
	"bytes"
	"runtime"
	"sync"
	"testing"
)

// goid is the calling goroutine's id, from its stack trace's header.
func goid() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	f := bytes.Fields(buf)
	return string(f[1])
}

// waitIdle yields until n runners of p wait.
func waitIdle(t *testing.T, p *runnerPool, n int32) {
	t.Helper()
	for p.idle.Load() != n {
		runtime.Gosched()
	}
}

func TestRunners_Reuse(t *testing.T) {
	p := newRunnerPool(4)
	ids := make(chan string, 2)
	p.run(func() { ids <- goid() })
	first := <-ids
	waitIdle(t, p, 1)
	p.run(func() { ids <- goid() })
	if second := <-ids; second != first {
		t.Errorf("second run on goroutine %s, want the waiting runner %s", second, first)
	}
	waitIdle(t, p, 1)
}

func TestRunners_IdleBound(t *testing.T) {
	const max = 8
	p := newRunnerPool(max)
	n := max + 20
	release := make(chan struct{})
	var started, done sync.WaitGroup
	started.Add(n)
	done.Add(n)
	ids := make(chan string, n)
	for range n {
		p.run(func() {
			ids <- goid()
			started.Done()
			<-release
			done.Done()
		})
	}
	started.Wait()
	seen := map[string]bool{}
	for range n {
		seen[<-ids] = true
	}
	if len(seen) != n {
		t.Fatalf("%d runs at once ran on %d goroutines, want one each", n, len(seen))
	}
	close(release)
	done.Wait()
	// Each runner either waits or exits once its run ended.
	for p.idle.Load()+p.exited.Load() != int32(n) {
		runtime.Gosched()
	}
	if idle, exited := p.idle.Load(), p.exited.Load(); idle != max || exited != int32(n-max) {
		t.Errorf("%d runners wait and %d exited, want %d and %d", idle, exited, max, n-max)
	}
}
