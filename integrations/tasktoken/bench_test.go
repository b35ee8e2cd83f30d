package tasktoken_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/internal/clock"
)

// stamp records when ActivityScheduled happened for one execution.
type stamp struct {
	mu        sync.Mutex
	scheduled time.Time
}

func (s *stamp) Record(evs []history.Event) error {
	for i := range evs {
		if evs[i].Type == history.ActivityScheduled {
			s.mu.Lock()
			s.scheduled = evs[i].Timestamp
			s.mu.Unlock()
		}
	}
	return nil
}

// BenchmarkBroker measures the engine and the broker without HTTP: b.N
// executions with one activity task each, 100 pollers, and the time from
// ActivityScheduled to Poll returning the task.
func BenchmarkBroker(b *testing.B) {
	f := newFixtureClock(b, clock.Real{}) // latencies are real
	sm, err := asl.Load([]byte(activityDef("")), asl.Options{})
	if err != nil {
		b.Fatal(err)
	}
	n := b.N
	stamps := make([]*stamp, n)
	delivered := make([]time.Time, n)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var done sync.WaitGroup
	done.Add(n)
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				tok, input, err := f.broker.Poll(ctx, actARN, "bench", time.Second)
				at := time.Now()
				if err != nil || tok == "" {
					continue
				}
				var i int
				fmt.Sscanf(input, `{"i":%d}`, &i)
				delivered[i] = at
				_ = f.broker.Succeed(tok, "{}")
				done.Done()
			}
		}()
	}
	b.ResetTimer()
	begin := time.Now()
	for i := range n {
		stamps[i] = &stamp{}
		f.eng.Start(context.Background(), &engine.Execution{
			ARN: fmt.Sprintf("arn:aws:states:us-east-1:111111111111:execution:m:%d", i), Type: "STANDARD",
			Input: fmt.Sprintf(`{"i":%d}`, i), Machine: sm,
		}, stamps[i])
	}
	done.Wait()
	elapsed := time.Since(begin)
	b.StopTimer()
	cancel()
	wg.Wait()
	lat := make([]time.Duration, 0, n)
	for i, s := range stamps {
		lat = append(lat, delivered[i].Sub(s.scheduled))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(n)/elapsed.Seconds(), "tasks/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
