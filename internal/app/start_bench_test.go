package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stepwell/stepwell/store/sqlite"
)

// BenchmarkStartPath is tests/perf.BenchmarkDurableHTTP without the
// network: 64 goroutines call StartExecution on the wired API (embedded
// store, every write durable) for b.N executions of a 10-state Pass chain,
// and the benchmark waits until none runs. It reports the process's CPU
// time (user and system, getrusage) and its heap allocations per
// execution, from the first start until the last execution closed:
// figures that depend less on the machine's other load than rates do.
//
//	go test ./internal/app -run '^$' -bench StartPath -benchtime 20000x
func BenchmarkStartPath(b *testing.B) {
	const states, clients = 10, 64
	c := DefaultConfig()
	c.DataDir = b.TempDir()
	var db *sqlite.Store
	p, err := wire(context.Background(), c, nil, wiring{open: func(ctx context.Context, c Config) (*backend, error) {
		bk, err := openStore(ctx, c, nil)
		if err == nil {
			db, _ = bk.store.(*sqlite.Store)
		}
		return bk, err
	}})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close(context.Background())
	var out struct {
		StateMachineArn string `json:"stateMachineArn"`
	}
	if err := apiCall(p.API, "CreateStateMachine", map[string]string{"name": "bench", "definition": passDefinition(states),
		"roleArn": "arn:aws:iam::123456789012:role/bench"}, &out); err != nil {
		b.Fatal(err)
	}
	bodies := make([]string, b.N)
	for i := range bodies {
		bodies[i] = fmt.Sprintf(`{"stateMachineArn":%q,"name":"e%d","input":"{\"hello\":\"world\",\"n\":1}"}`, out.StateMachineArn, i)
	}
	var next atomic.Int64
	var failed atomic.Pointer[string]
	var wg sync.WaitGroup
	st0 := db.Stats()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	cpu0 := processCPU(b)
	begin := time.Now()
	b.ResetTimer()
	for range clients {
		wg.Go(func() {
			w := &discardWriter{h: make(http.Header)}
			for {
				i := int(next.Add(1) - 1)
				if i >= b.N {
					return
				}
				req, _ := http.NewRequest(http.MethodPost, "/", strings.NewReader(bodies[i]))
				req.Header["X-Amz-Target"] = []string{"AWSStepFunctions.StartExecution"}
				clear(w.h)
				w.code = 0
				p.API.ServeHTTP(w, req)
				if w.code != http.StatusOK {
					msg := fmt.Sprintf("StartExecution %d: %d", i, w.code)
					failed.CompareAndSwap(nil, &msg)
					return
				}
			}
		})
	}
	wg.Wait()
	if m := failed.Load(); m != nil {
		b.Fatal(*m)
	}
	for p.Executions.Open() > 0 {
		<-time.After(time.Millisecond)
	}
	b.StopTimer()
	cpu := processCPU(b) - cpu0
	runtime.ReadMemStats(&ms1)
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/exec")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(b.N), "allocs/exec")
	b.ReportMetric(float64(b.N)/time.Since(begin).Seconds(), "execs/s")
	b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(b.N), "B/exec")
	st := db.Stats()
	b.ReportMetric(float64(st.Writes-st0.Writes)/float64(max(st.Commits-st0.Commits, 1)), "writes/commit")
	b.ReportMetric(float64((st.CommitTime-st0.CommitTime).Microseconds())/float64(max(st.Commits-st0.Commits, 1)), "commit-µs")
	b.ReportMetric(float64(st.Commits-st0.Commits)/time.Since(begin).Seconds(), "commits/s")
	b.ReportMetric(0, "ns/op")
}

// discardWriter is an http.ResponseWriter that keeps the status only.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header { return w.h }

func (w *discardWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return io.Discard.Write(b)
}

func (w *discardWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

// processCPU is this process's user and system CPU time.
func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
