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
	"syscall"
	"testing"
	"time"

	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/internal/uuid"
	"github.com/stepwell/stepwell/store"
)

// BenchmarkStoreExecutions measures the writes of what
// tests/perf.BenchmarkDurableHTTP runs, the store alone: 64 concurrent
// writers, each creating an execution of a 10-state Pass chain and
// appending its whole history (ExecutionStarted, 10 Entered and Exited
// pairs, ExecutionSucceeded) with its close in one write, as the engine
// records an execution that never waits. It reports the process's CPU
// time per execution (cpu-µs/exec: user and system, from getrusage) and
// executions per second, the writes per group commit (writes/commit:
// smaller batches cost more CPU per write), and the bytes the process
// wrote per execution (written-B/exec, from /proc/self/io: the WAL's
// pages and the checkpoints').
//
// "separate" creates each execution, then appends; the others create it
// with its history, named e1, e2, ... ("combined", as BenchmarkDurableHTTP
// names them), with random UUIDs ("uuid4", AWS's names when none is
// given) or with time-ordered ones ("uuid7", Stepwell's: uuid.Ordered).
func BenchmarkStoreExecutions(b *testing.B) {
	seqName := func(i int64) string { return fmt.Sprint("e", i) }
	b.Run("separate", func(b *testing.B) { benchExecutions(b, false, seqName) })
	b.Run("combined", func(b *testing.B) { benchExecutions(b, true, seqName) })
	b.Run("uuid4", func(b *testing.B) { benchExecutions(b, true, func(int64) string { return uuid.New() }) })
	b.Run("uuid7", func(b *testing.B) { benchExecutions(b, true, func(int64) string { return uuid.Ordered(time.Now()) }) })
}

func benchExecutions(b *testing.B, combined bool, nameOf func(int64) string) {
	s := open(b, filepath.Join(b.TempDir(), "bench.db"))
	defer s.Close()
	ctx := context.Background()
	const workers, states = 64, 10
	const machine = "arn:aws:states:us-east-1:123456789012:stateMachine:bench"
	var seq atomic.Int64
	var wg sync.WaitGroup
	work := make(chan struct{}, workers)
	b.ResetTimer()
	st0 := s.Stats()
	cpu0 := cpuTime(b)
	wrote0, wroteOK := written()
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for range work {
				i := seq.Add(1)
				name := nameOf(i)
				now := time.Now()
				x := &store.Execution{ARN: "arn:aws:states:us-east-1:123456789012:execution:bench:" + name, Name: name,
					StateMachineARN: machine, StateMachineName: "bench", RevisionID: "r1", Type: "STANDARD",
					Status: store.StatusRunning, Input: `{"hello":"world","n":1}`, StartDate: now}
				if !combined {
					if err := s.CreateExecution(ctx, x, nil, nil); err != nil {
						b.Error(err)
						return
					}
				}
				evs := []history.Event{{ID: 1, Type: history.ExecutionStarted, Timestamp: now,
					ExecutionStartedEventDetails: &history.ExecutionStartedEventDetails{Input: x.Input, InputDetails: history.Data(false),
						RoleArn: "arn:aws:iam::123456789012:role/perf"}}}
				for st := range states {
					id := int64(len(evs))
					evs = append(evs,
						history.Event{ID: id + 1, PreviousEventID: id, Type: history.PassStateEntered, Timestamp: now,
							StateEnteredEventDetails: &history.StateEnteredEventDetails{Name: fmt.Sprint("S", st), Input: x.Input, InputDetails: history.Data(false)}},
						history.Event{ID: id + 2, PreviousEventID: id + 1, Type: history.PassStateExited, Timestamp: now,
							StateExitedEventDetails: &history.StateExitedEventDetails{Name: fmt.Sprint("S", st), Output: x.Input, OutputDetails: history.Data(false)}})
				}
				id := int64(len(evs))
				evs = append(evs, history.Event{ID: id + 1, PreviousEventID: id, Type: history.ExecutionSucceeded, Timestamp: now,
					ExecutionSucceededEventDetails: &history.ExecutionSucceededEventDetails{Output: x.Input, OutputDetails: history.Data(false)}})
				out := x.Input
				end := &store.End{Status: store.StatusSucceeded, StopDate: now, Output: &out}
				var err error
				if combined {
					err = s.CreateExecution(ctx, x, evs, end)
				} else {
					err = s.AppendHistory(ctx, x.ARN, evs, end)
				}
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	for range b.N {
		work <- struct{}{}
	}
	close(work)
	wg.Wait()
	el := time.Since(start)
	b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/exec")
	b.ReportMetric(float64(b.N)/el.Seconds(), "execs/s")
	st := s.Stats()
	b.ReportMetric(float64(st.Writes-st0.Writes)/float64(max(st.Commits-st0.Commits, 1)), "writes/commit")
	if wrote1, ok := written(); ok && wroteOK {
		b.ReportMetric(float64(wrote1-wrote0)/float64(b.N), "written-B/exec")
	}
	b.ReportMetric(0, "ns/op")
}

// written is the bytes this process has written (wchar in /proc/self/io:
// every write and pwrite), and false where that is unknown.
func written() (int64, bool) {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "wchar:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// cpuTime is this process's user and system CPU time.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
