package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
)

// BenchmarkStoreActivityLatency replays the writes of activity tasks at a
// fixed rate (1,000 tasks/s, open loop), as the engine makes them: the
// execution is created, its scheduling events appended (ExecutionStarted,
// TaskStateEntered, ActivityScheduled), then ActivityStarted (the worker
// receives the task only once it is durable), then the result and the
// close. It reports the p50 and p99 time of the path a task's delivery
// waits for, from the scheduling append's call to ActivityStarted's return
// (deliver-*), and of single writes (write-*), every write durable.
func BenchmarkStoreActivityLatency(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "bench.db"))
	defer s.Close()
	ctx := context.Background()
	const rate = 1000
	n := max(b.N, 5000)
	input := `{"I":12345,"payload":"hello world"}`
	deliver := make([]time.Duration, n)
	writes := make([][]time.Duration, n)
	var wg sync.WaitGroup
	task := func(i int) {
		defer wg.Done()
		arn := fmt.Sprint("arn:aws:states:us-east-1:1:execution:m:", i)
		now := time.Now()
		var lat []time.Duration
		timed := func(f func() error) {
			t := time.Now()
			if err := f(); err != nil {
				b.Error(err)
			}
			lat = append(lat, time.Since(t))
		}
		timed(func() error {
			return s.CreateExecution(ctx, &store.Execution{ARN: arn, Name: fmt.Sprint(i), StateMachineARN: "arn:sm", Type: "STANDARD",
				Status: store.StatusRunning, Input: input, StartDate: now}, nil, nil)
		})
		sched := time.Now()
		timed(func() error {
			return s.AppendHistory(ctx, arn, []history.Event{
				{ID: 1, Type: history.ExecutionStarted, Timestamp: now, ExecutionStartedEventDetails: &history.ExecutionStartedEventDetails{Input: input, InputDetails: history.Data(false)}},
				{ID: 2, PreviousEventID: 1, Type: history.TaskStateEntered, Timestamp: now, StateEnteredEventDetails: &history.StateEnteredEventDetails{Name: "W", Input: input, InputDetails: history.Data(false)}},
				{ID: 3, PreviousEventID: 2, Type: history.ActivityScheduled, Timestamp: now, ActivityScheduledEventDetails: &history.ActivityScheduledEventDetails{Resource: "arn:aws:states:us-east-1:1:activity:a", Input: input, InputDetails: history.Data(false)}},
			}, nil)
		})
		timed(func() error {
			return s.AppendHistory(ctx, arn, []history.Event{
				{ID: 4, PreviousEventID: 3, Type: history.ActivityStarted, Timestamp: time.Now(), ActivityStartedEventDetails: &history.ActivityStartedEventDetails{WorkerName: "bench"}},
			}, nil)
		})
		deliver[i] = time.Since(sched)
		out := "{}"
		timed(func() error {
			return s.AppendHistory(ctx, arn, []history.Event{
				{ID: 5, PreviousEventID: 4, Type: history.ActivitySucceeded, Timestamp: time.Now(), ActivitySucceededEventDetails: &history.ActivitySucceededEventDetails{Output: out, OutputDetails: history.Data(false)}},
				{ID: 6, PreviousEventID: 5, Type: history.TaskStateExited, Timestamp: time.Now(), StateExitedEventDetails: &history.StateExitedEventDetails{Name: "W", Output: out, OutputDetails: history.Data(false)}},
				{ID: 7, PreviousEventID: 6, Type: history.ExecutionSucceeded, Timestamp: time.Now(), ExecutionSucceededEventDetails: &history.ExecutionSucceededEventDetails{Output: out, OutputDetails: history.Data(false)}},
			}, &store.End{Status: store.StatusSucceeded, StopDate: time.Now(), Output: &out})
		})
		writes[i] = lat
	}
	b.ResetTimer()
	begin := time.Now()
	interval := time.Second / rate
	for i := range n {
		if d := time.Until(begin.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		wg.Add(1)
		go task(i)
	}
	wg.Wait()
	el := time.Since(begin)
	b.StopTimer()
	var all []time.Duration
	for _, w := range writes {
		all = append(all, w...)
	}
	slices.Sort(deliver)
	slices.Sort(all)
	ms := func(d []time.Duration, p int) float64 {
		return float64(d[min(len(d)-1, len(d)*p/100)].Microseconds()) / 1000
	}
	b.ReportMetric(float64(n)/el.Seconds(), "tasks/s")
	b.ReportMetric(ms(deliver, 50), "deliver-p50-ms")
	b.ReportMetric(ms(deliver, 99), "deliver-p99-ms")
	b.ReportMetric(float64(deliver[n-1].Microseconds())/1000, "deliver-max-ms")
	b.ReportMetric(ms(all, 50), "write-p50-ms")
	b.ReportMetric(ms(all, 99), "write-p99-ms")
	if fi, err := os.Stat(s.Path() + "-wal"); err == nil {
		b.ReportMetric(float64(fi.Size())/1e6, "wal-MB")
	}
}
