package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
	"github.com/stepwell/stepwell/store/memory"
	"github.com/stepwell/stepwell/store/sqlite"
)

// passMachine is a chain of n Pass states.
func passMachine(tb testing.TB, n int) *asl.StateMachine {
	tb.Helper()
	var b strings.Builder
	b.WriteString(`{"StartAt":"S0","States":{`)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		if i == n-1 {
			fmt.Fprintf(&b, `"S%d":{"Type":"Pass","End":true}`, i)
		} else {
			fmt.Fprintf(&b, `"S%d":{"Type":"Pass","Next":"S%d"}`, i, i+1)
		}
	}
	b.WriteString(`}}`)
	sm, err := asl.Load([]byte(b.String()), asl.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return sm
}

// timedStore measures every AppendHistory: one durable Record.
type timedStore struct {
	store.Store
	n    atomic.Int64
	lats []time.Duration
}

func (t *timedStore) AppendHistory(ctx context.Context, arn string, events []history.Event, end *store.End) error {
	start := time.Now()
	err := t.Store.AppendHistory(ctx, arn, events, end)
	if i := t.n.Add(1) - 1; i < int64(len(t.lats)) {
		t.lats[i] = time.Since(start)
	}
	return err
}

// fsyncRate appends 200 bytes and fdatasyncs in dir for d and returns the
// rate per second.
func fsyncRate(tb testing.TB, dir string, d time.Duration) float64 {
	f, err := os.OpenFile(filepath.Join(dir, "fsync-probe"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		tb.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 200)
	n := 0
	start := time.Now()
	for time.Since(start) < d {
		if _, err := f.Write(buf); err != nil {
			tb.Fatal(err)
		}
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			tb.Fatal(err)
		}
		n++
	}
	return float64(n) / time.Since(start).Seconds()
}

// runMany runs execs executions of sm, at most conc at a time, each
// created in st and recorded there through the recorder the server uses;
// it returns the elapsed time.
func runMany(tb testing.TB, eng *engine.Engine, st store.Store, sm *asl.StateMachine, typ string, execs, conc int) time.Duration {
	ctx := context.Background()
	fence := &fencedStore{Store: st}
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(execs) || failed.Load() != nil {
					return
				}
				now := time.Now()
				x := &store.Execution{
					ARN: fmt.Sprintf("arn:aws:states:us-east-1:123456789012:execution:bench:%s-%d", typ, i), Name: fmt.Sprint(i),
					StateMachineARN: "arn:aws:states:us-east-1:123456789012:stateMachine:bench", StateMachineName: "bench",
					RevisionID: "r1", Type: typ, Status: store.StatusRunning, Input: `{"hello":"world","n":1}`, StartDate: now,
				}
				if err := st.CreateExecution(ctx, x); err != nil {
					failed.Store(err)
					return
				}
				ex := &engine.Execution{ARN: x.ARN, Name: x.Name, StateMachineARN: x.StateMachineARN, StateMachineName: x.StateMachineName,
					Type: typ, Input: x.Input, StartTime: now, Machine: sm}
				rec := &recorder{st: fence, arn: x.ARN}
				run := eng.Start(ctx, ex, rec)
				<-run.Done()
				if r := run.Result(); r.Status != engine.StatusSucceeded || !rec.closed {
					failed.Store(fmt.Errorf("execution %d: %s %v %v (closed %v)", i, r.Status, deref(r.Error), deref(r.Cause), rec.closed))
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		tb.Fatal(err)
	}
	return time.Since(start)
}

// BenchmarkDurableThroughput runs 1,000 concurrent Standard executions of
// a 10-state Pass machine on the embedded store with full durability
// (WAL, synchronous=FULL, every step fsync'd before it is acknowledged)
// through the engine and the server's recorder, and reports:
//
//	transitions/s       durable state transitions per second
//	p50-step-µs, p99-step-µs   latency of one durable Record (AppendHistory)
//	fsyncs/s            raw append-200-bytes+fdatasync rate of the data disk
//	express-transitions/s      the same machine as Express (in memory)
//	writes/commit       writes sharing one group commit
//
// Run it with
//
//	go test ./internal/app -run '^$' -bench DurableThroughput -benchtime 200000x
//
// (b.N counts transitions: 200000x runs 20,000 executions of each type).
func BenchmarkDurableThroughput(b *testing.B) {
	const states, conc = 10, 1000
	execs := max(b.N/states, 2*conc)
	sm := passMachine(b, states)
	dir := b.TempDir()
	fsyncs := fsyncRate(b, dir, time.Second)

	db, err := sqlite.Open(context.Background(), filepath.Join(dir, sqlite.DefaultFile))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	timed := &timedStore{Store: db, lats: make([]time.Duration, execs*(states+2))}
	eng := engine.New(engine.Config{Region: "us-east-1", AccountID: "123456789012"})
	b.ResetTimer()
	el := runMany(b, eng, timed, sm, "STANDARD", execs, conc)
	b.StopTimer()
	lats := timed.lats[:min(timed.n.Load(), int64(len(timed.lats)))]
	slices.Sort(lats)
	pct := func(p float64) float64 {
		if len(lats) == 0 {
			return 0
		}
		return float64(lats[int(float64(len(lats)-1)*p)].Microseconds())
	}
	stats := db.Stats()

	exprStore := memory.New(memory.Options{MaxClosedExecutions: ExpressRetention})
	exprEl := runMany(b, eng, exprStore, sm, "EXPRESS", execs, conc)

	b.ReportMetric(float64(execs*states)/el.Seconds(), "transitions/s")
	b.ReportMetric(pct(0.50), "p50-step-µs")
	b.ReportMetric(pct(0.99), "p99-step-µs")
	b.ReportMetric(fsyncs, "fsyncs/s")
	b.ReportMetric(float64(stats.Writes)/float64(max(stats.Commits, 1)), "writes/commit")
	b.ReportMetric(float64(execs*states)/exprEl.Seconds(), "express-transitions/s")
	b.ReportMetric(0, "ns/op")
}
