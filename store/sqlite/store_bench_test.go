package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
)

// BenchmarkStoreSteps measures the store alone: 1,000 concurrent writers,
// each creating an execution, appending 10 steps of 2 events and closing
// it; every write durable. It reports durable steps per second.
func BenchmarkStoreSteps(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "bench.db"))
	defer s.Close()
	ctx := context.Background()
	const workers, steps = 1000, 10
	var seq atomic.Int64
	var wg sync.WaitGroup
	work := make(chan struct{}, workers)
	b.ResetTimer()
	io0 := procIO()
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				i := seq.Add(1)
				x := &store.Execution{ARN: fmt.Sprint("arn:x:", i), Name: fmt.Sprint(i), StateMachineARN: "arn:sm", Type: "STANDARD",
					Status: store.StatusRunning, Input: "{}", StartDate: time.Now()}
				if err := s.CreateExecution(ctx, x, nil, nil); err != nil {
					b.Error(err)
					return
				}
				for st := int64(0); st < steps; st++ {
					evs := []history.Event{
						{ID: 2*st + 1, PreviousEventID: 2 * st, Type: history.PassStateEntered, Timestamp: time.Now(),
							StateEnteredEventDetails: &history.StateEnteredEventDetails{Name: fmt.Sprint("S", st), Input: `{"hello":"world"}`, InputDetails: history.Data(false)}},
						{ID: 2*st + 2, PreviousEventID: 2*st + 1, Type: history.PassStateExited, Timestamp: time.Now(),
							StateExitedEventDetails: &history.StateExitedEventDetails{Name: fmt.Sprint("S", st), Output: `{"hello":"world"}`, OutputDetails: history.Data(false)}},
					}
					var end *store.End
					if st == steps-1 {
						out := "{}"
						end = &store.End{Status: store.StatusSucceeded, StopDate: time.Now(), Output: &out}
					}
					if err := s.AppendHistory(ctx, x.ARN, evs, end); err != nil {
						b.Error(err)
						return
					}
				}
			}
		}()
	}
	n := max(b.N/steps, 1)
	for range n {
		work <- struct{}{}
	}
	close(work)
	wg.Wait()
	el := time.Since(start)
	if io1 := procIO(); io1 > io0 {
		b.ReportMetric(float64(io1-io0)/float64(max(b.N/steps, 1)*steps), "disk-B/step")
	}
	if fi, err := os.Stat(s.Path() + "-wal"); err == nil {
		b.ReportMetric(float64(fi.Size())/1e6, "wal-MB")
	}
	if fi, err := os.Stat(s.Path()); err == nil {
		b.ReportMetric(float64(fi.Size())/1e6, "db-MB")
	}
	b.ReportMetric(float64(n*steps)/el.Seconds(), "steps/s")
	st := s.Stats()
	b.ReportMetric(float64(st.Commits)/el.Seconds(), "commits/s")
	b.ReportMetric(float64(st.Writes)/float64(max(st.Commits, 1)), "writes/commit")
}

// procIO returns the bytes this process has written to storage (Linux;
// 0 elsewhere).
func procIO() int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "write_bytes: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}
