package engine_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/history"
)

// TestFanOutHeldResults runs fan-outs whose results pass the payload limit
// together: each fails with States.DataLimitExceeded once its ended
// children's results do, not after every child ran, and an inline Map runs
// at most 40 iterations at once (AWS's limit), so that neither holds the
// results (nor the history texts) of thousands of children at once.
func TestFanOutHeldResults(t *testing.T) {
	big := strings.Repeat("x", 100_000)
	tests := []struct {
		name, def, input string
		children         int // Map iterations or Parallel branches
	}{
		{"inline Map copying its input", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items","ItemSelector":{"s.$":"$.s"},` +
			`"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`,
			`{"items":[` + strings.Repeat("0,", 5999) + `0],"s":"` + big + `"}`, 6000},
		{"inline Map building new values", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items","ItemSelector":{"s.$":"$.s"},` +
			`"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"r.$":"States.Format('{}-{}', $.s, $.s)"},"End":true}}},"End":true}}}`,
			`{"items":[` + strings.Repeat("0,", 5999) + `0],"s":"` + big + `"}`, 6000},
		{"Parallel building new values", parallelFormatDef(500), `{"s":"` + big + `"}`, 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &keepAll{}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			res := engine.New(engine.Config{}).Execute(context.Background(), execution(load(t, tt.def), tt.input), rec)
			runtime.ReadMemStats(&after)
			if res.Status != engine.StatusFailed || str(res.Error) != "States.DataLimitExceeded" {
				t.Fatalf("result %s %v %v", res.Status, str(res.Error), str(res.Cause))
			}
			ended := 0
			for _, ev := range rec.events {
				switch ev.Type {
				case history.MapIterationSucceeded, history.PassStateExited:
					ended++
				}
			}
			if ended == 0 || ended > tt.children/4 {
				t.Errorf("%d children ended of %d, want some but far fewer", ended, tt.children)
			}
			alloc := (after.TotalAlloc - before.TotalAlloc) >> 20
			t.Logf("%d children ended of %d; allocated %d MB", ended, tt.children, alloc)
			if alloc > 256 {
				t.Errorf("allocated %d MB, want at most 256", alloc)
			}
		})
	}
}

// parallelFormatDef is a Parallel of n branches, each building a new value
// twice the size of the input's s.
func parallelFormatDef(n int) string {
	brs := make([]string, n)
	for i := range brs {
		p := "F" + strings.Repeat("f", i%7) + string(rune('a'+i%26)) + strings.Repeat("x", i/26)
		brs[i] = `{"StartAt":"` + p + `","States":{"` + p + `":{"Type":"Pass","Parameters":{"r.$":"States.Format('{}-{}', $.s, $.s)"},"End":true}}}`
	}
	return `{"StartAt":"X","States":{"X":{"Type":"Parallel","Branches":[` + strings.Join(brs, ",") + `],"End":true}}}`
}

// gate is an Invoker whose tasks block until the test has seen enough of
// them at once, and that counts the most running at once.
type gate struct {
	mu       sync.Mutex
	running  int
	most     int
	reached  chan struct{} // closed once want tasks run at once
	over     chan struct{} // closed once more than want run at once
	want     int
	released chan struct{}
	sawWant  bool
	sawOver  bool
}

func (g *gate) Invoke(ctx context.Context, _ *engine.Task) (any, error) {
	g.mu.Lock()
	g.running++
	if g.running > g.most {
		g.most = g.running
	}
	if g.running == g.want && !g.sawWant {
		g.sawWant = true
		close(g.reached)
	}
	if g.running > g.want && !g.sawOver {
		g.sawOver = true
		close(g.over)
	}
	g.mu.Unlock()
	select {
	case <-g.released:
	case <-ctx.Done():
	}
	g.mu.Lock()
	g.running--
	g.mu.Unlock()
	return map[string]any{}, nil
}

// TestFanOutWaitingChildren: branches and iterations that wait on the
// outside (here tasks, as callbacks or activities would) hold none of the
// execution's 100 slots, so that all of a Parallel of 30 branches, each
// an inline Map of 10 iterations, wait at once, as on AWS: 300 tasks whose
// answers come only once all of them run (a system that answers a batch
// of task tokens together) end, where a bound on waiting children would
// deadlock. The slots still bound the children that compute
// (TestFanOutHeldResults).
func TestFanOutWaitingChildren(t *testing.T) {
	g := &gate{reached: make(chan struct{}), over: make(chan struct{}), want: 300, released: make(chan struct{})}
	brs := make([]string, 30)
	for i := range brs {
		brs[i] = fmt.Sprintf(`{"StartAt":"M%d","States":{"M%d":{"Type":"Map","ItemsPath":"$.items","ItemProcessor":{"StartAt":"T%d","States":{"T%d":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f"},"End":true}}},"End":true}}}`, i, i, i, i)
	}
	def := `{"StartAt":"X","States":{"X":{"Type":"Parallel","Branches":[` + strings.Join(brs, ",") + `],"End":true}}}`
	eng := engine.New(engine.Config{Invoker: g})
	run := eng.Start(context.Background(), execution(load(t, def), `{"items":[1,2,3,4,5,6,7,8,9,10]}`), nil)
	// A deadlock shows as tasks that never all run: fail after a minute
	// rather than at the test binary's timeout.
	deadlock := time.NewTimer(time.Minute)
	defer deadlock.Stop()
	select {
	case <-g.reached:
	case <-run.Done():
		t.Fatalf("ended before 300 tasks ran at once: %+v", run.Result())
	case <-deadlock.C:
		g.mu.Lock()
		defer g.mu.Unlock()
		t.Fatalf("only %d of 300 waiting tasks ran at once", g.most)
	}
	close(g.released)
	<-run.Done()
	if res := run.Result(); res.Status != engine.StatusSucceeded {
		t.Fatalf("result %s %v %v", res.Status, str(res.Error), str(res.Cause))
	}
}
