package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
	"github.com/stepwell/stepwell/store/sqlite"
)

// passDefinition is a chain of n Pass states.
func passDefinition(n int) string {
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
	return b.String()
}

// benchStore measures every AppendHistory (one durable Record) and tells
// waiters when an execution closes.
type benchStore struct {
	store.Store
	n    atomic.Int64
	lats []time.Duration

	mu      sync.Mutex
	waiters map[string]chan struct{} // by execution name
}

func newBenchStore(st store.Store, records int) *benchStore {
	return &benchStore{Store: st, lats: make([]time.Duration, records), waiters: make(map[string]chan struct{})}
}

func (t *benchStore) wait(name string) <-chan struct{} {
	c := make(chan struct{})
	t.mu.Lock()
	t.waiters[name] = c
	t.mu.Unlock()
	return c
}

func (t *benchStore) AppendHistory(ctx context.Context, arn string, events []history.Event, end *store.End) error {
	start := time.Now()
	err := t.Store.AppendHistory(ctx, arn, events, end)
	if i := t.n.Add(1) - 1; i < int64(len(t.lats)) {
		t.lats[i] = time.Since(start)
	}
	if end != nil && err == nil {
		// arn:aws:states:REGION:ACCOUNT:execution|express:MACHINE:NAME[:ID]
		if parts := strings.Split(arn, ":"); len(parts) > 7 {
			t.mu.Lock()
			c := t.waiters[parts[7]]
			delete(t.waiters, parts[7])
			t.mu.Unlock()
			if c != nil {
				close(c)
			}
		}
	}
	return err
}

func (t *benchStore) percentile(p float64) time.Duration {
	lats := slices.Clone(t.lats[:min(t.n.Load(), int64(len(t.lats)))])
	if len(lats) == 0 {
		return 0
	}
	slices.Sort(lats)
	return lats[int(float64(len(lats)-1)*p)]
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

// apiCall runs one API action in process.
func apiCall(srv http.Handler, action string, in any, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
	req.Header.Set("X-Amz-Target", "AWSStepFunctions."+action)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		return fmt.Errorf("%s: %d %s", action, w.Code, w.Body.String())
	}
	if out != nil {
		return json.Unmarshal(w.Body.Bytes(), out)
	}
	return nil
}

// runMany starts execs executions of machine through the API, at most conc
// at a time, each waiting until its execution closed in st; it returns the
// elapsed time.
func runMany(tb testing.TB, srv http.Handler, st *benchStore, machine, prefix string, execs, conc int) time.Duration {
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
				name := fmt.Sprint(prefix, i)
				done := st.wait(name)
				err := apiCall(srv, "StartExecution", map[string]string{"stateMachineArn": machine, "name": name, "input": `{"hello":"world","n":1}`}, nil)
				if err != nil {
					failed.Store(err)
					return
				}
				select {
				case <-done:
				case <-time.After(time.Minute):
					failed.Store(fmt.Errorf("execution %s did not finish", name))
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
// (WAL, synchronous=FULL: every step is fsync'd before it is acknowledged),
// through the real path: StartExecution on the API server, the engine, the
// server's recorder and the store. It reports:
//
//	transitions/s          durable state transitions per second
//	p50-step-µs, p99-step-µs   latency of one durable Record (AppendHistory)
//	fsyncs/s               raw append-200-bytes+fdatasync rate of the data directory's disk
//	writes/commit          writes sharing one group commit
//	express-transitions/s  the same machine as Express (started asynchronously; Express
//	                       executions stay in memory) on the same server
//	express-memory-transitions/s  the same Express run on a server whose store is
//	                       memory (Stepwell before durability), for comparison
//
// Run it with
//
//	go test ./internal/app -run '^$' -bench DurableThroughput -benchtime 200000x
//
// (b.N counts transitions: 200000x runs 20,000 executions of each type).
func BenchmarkDurableThroughput(b *testing.B) {
	const states, conc = 10, 1000
	execs := max(b.N/states, 2*conc)
	dir := b.TempDir()
	fsyncs := fsyncRate(b, dir, time.Second)

	def := passDefinition(states)
	role := "arn:aws:iam::123456789012:role/bench"
	// server wires a server over the store that c names and an Express
	// store, each wrapped in a benchStore (main keeping records
	// latencies), and creates the machines; it returns their ARNs.
	server := func(c Config, records int) (p *Parts, main, express *benchStore, std, expr string) {
		p, err := wire(context.Background(), c, nil, wiring{
			open: func(ctx context.Context, c Config) (*backend, error) {
				bk, err := openStore(ctx, c, nil)
				if err == nil {
					main = newBenchStore(bk.store, records)
					bk.store = main
				}
				return bk, err
			},
			express: func(st store.Store) store.Store {
				express = newBenchStore(st, 0)
				return express
			},
		})
		if err != nil {
			b.Fatal(err)
		}
		var out struct {
			StateMachineArn string `json:"stateMachineArn"`
		}
		if err := apiCall(p.API, "CreateStateMachine", map[string]string{"name": "bench", "definition": def, "roleArn": role}, &out); err != nil {
			b.Fatal(err)
		}
		std = out.StateMachineArn
		if err := apiCall(p.API, "CreateStateMachine", map[string]string{"name": "benchx", "type": "EXPRESS", "definition": def, "roleArn": role}, &out); err != nil {
			b.Fatal(err)
		}
		return p, main, express, std, out.StateMachineArn
	}

	// Express as before durability: everything in memory.
	mem := DefaultConfig()
	mem.Store = "memory"
	memParts, _, memExpress, _, memExpr := server(mem, 0)
	memEl := runMany(b, memParts.API, memExpress, memExpr, "m", execs, conc)
	_ = memParts.Close(context.Background())

	c := DefaultConfig()
	c.DataDir = dir
	p, durable, express, std, expr := server(c, execs*(states+3))
	defer p.Close(context.Background())
	db := durable.Store.(*sqlite.Store)
	exprEl := runMany(b, p.API, express, expr, "x", execs, conc)
	b.ResetTimer()
	el := runMany(b, p.API, durable, std, "s", execs, conc)
	b.StopTimer()
	stats := db.Stats()

	b.ReportMetric(float64(execs*states)/el.Seconds(), "transitions/s")
	b.ReportMetric(float64(durable.percentile(0.50).Microseconds()), "p50-step-µs")
	b.ReportMetric(float64(durable.percentile(0.99).Microseconds()), "p99-step-µs")
	b.ReportMetric(fsyncs, "fsyncs/s")
	b.ReportMetric(float64(stats.Writes)/float64(max(stats.Commits, 1)), "writes/commit")
	b.ReportMetric(float64(execs*states)/exprEl.Seconds(), "express-transitions/s")
	b.ReportMetric(float64(execs*states)/memEl.Seconds(), "express-memory-transitions/s")
	b.ReportMetric(0, "ns/op")
}
