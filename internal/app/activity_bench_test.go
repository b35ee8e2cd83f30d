package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/internal/clock"
	"github.com/stepwell/stepwell/store"
	"github.com/stepwell/stepwell/store/sqlite"
)

// scheduleStore notes when each execution's ActivityScheduled happened
// (the event's own timestamp, nanosecond precision) by execution name.
type scheduleStore struct {
	store.Store
	mu     sync.Mutex
	sched  map[string]time.Time
	merged atomic.Int64 // appends holding both ActivityScheduled and ActivityStarted
}

func (s *scheduleStore) AppendHistory(ctx context.Context, arn string, events []history.Event, end *store.End) error {
	for i := range events {
		if events[i].Type == history.ActivityStarted && i > 0 && events[0].Type != history.ActivityStarted {
			s.merged.Add(1)
		}
		if events[i].Type == history.ActivityScheduled {
			name := arn[strings.LastIndexByte(arn, ':')+1:]
			s.mu.Lock()
			s.sched[name] = events[i].Timestamp
			s.mu.Unlock()
		}
	}
	return s.Store.AppendHistory(ctx, arn, events, end)
}

// waitingClock is the real clock that tells when want GetActivityTask
// calls wait: each arms one timer (its deadline) once it waits.
type waitingClock struct {
	clock.Real
	armed atomic.Int64
	want  int64
	ready chan struct{}
}

func (c *waitingClock) NewTimer(d time.Duration) clock.Timer {
	if c.armed.Add(1) == c.want {
		close(c.ready)
	}
	return c.Real.NewTimer(d)
}

// BenchmarkActivityLatency is the server side of the e2e activity
// benchmark without HTTP connections or an SDK client: the API handler,
// engine, task broker and embedded store (full durability) in process,
// 100 pollers calling GetActivityTask then SendTaskSuccess, executions
// started at 1,000 per second on an open-loop schedule. It reports the
// time from ActivityScheduled (nanosecond timestamps) to the poller
// holding the GetActivityTask answer, the store's commits per task and
// writes per commit, and the share of tasks whose ActivityStarted was
// written together with their scheduling events (merged-starts).
// Profile it with -cpuprofile, -blockprofile, -mutexprofile:
//
//	go test ./internal/app -run '^$' -bench ActivityLatency -benchtime 5000x
func BenchmarkActivityLatency(b *testing.B) {
	const rate, pollers = 1000, 100
	n := max(b.N, 1000)
	c := DefaultConfig()
	c.DataDir = b.TempDir()
	var st *scheduleStore
	clk := &waitingClock{want: pollers, ready: make(chan struct{})}
	p, err := wire(context.Background(), c, nil, wiring{clock: clk, open: func(ctx context.Context, c Config) (*backend, error) {
		bk, err := openStore(ctx, c, nil)
		if err == nil {
			st = &scheduleStore{Store: bk.store, sched: make(map[string]time.Time)}
			bk.store = st
		}
		return bk, err
	}})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close(context.Background())
	db, srv := st.Store.(*sqlite.Store), p.API
	var act struct{ ActivityArn string }
	if err := apiCall(srv, "CreateActivity", map[string]string{"name": "bench"}, &act); err != nil {
		b.Fatal(err)
	}
	var sm struct{ StateMachineArn string }
	def := `{"StartAt":"W","States":{"W":{"Type":"Task","Resource":"` + act.ActivityArn + `","End":true}}}`
	if err := apiCall(srv, "CreateStateMachine", map[string]string{"name": "bench", "definition": def, "roleArn": "arn:aws:iam::123456789012:role/bench"}, &sm); err != nil {
		b.Fatal(err)
	}
	delivered := make([]time.Time, n)
	var completed atomic.Int64
	allDone := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for range pollers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				var task struct{ TaskToken, Input string }
				if err := apiCallCtx(ctx, srv, "GetActivityTask", map[string]string{"activityArn": act.ActivityArn, "workerName": "bench"}, &task); err != nil || task.TaskToken == "" {
					continue
				}
				at := time.Now()
				var i int
				if _, err := fmt.Sscanf(task.Input, `{"i":%d}`, &i); err != nil || i < 0 || i >= n {
					b.Errorf("input %s", task.Input)
					continue
				}
				delivered[i] = at
				if err := apiCall(srv, "SendTaskSuccess", map[string]string{"taskToken": task.TaskToken, "output": "{}"}, nil); err != nil {
					b.Error(err)
				}
				if completed.Add(1) == int64(n) {
					close(allDone)
				}
			}
		}()
	}
	<-clk.ready // every poller waits before the schedule starts
	stats0 := db.Stats()
	b.ResetTimer()
	begin := time.Now()
	var swg sync.WaitGroup
	for i := range n {
		if d := time.Until(begin.Add(time.Duration(i) * time.Second / rate)); d > 0 {
			time.Sleep(d) // the open-loop schedule is what is measured
		}
		swg.Add(1)
		go func() {
			defer swg.Done()
			if err := apiCall(srv, "StartExecution", map[string]string{"stateMachineArn": sm.StateMachineArn, "name": fmt.Sprint("x", i), "input": fmt.Sprintf(`{"i":%d}`, i)}, nil); err != nil {
				b.Error(err)
			}
		}()
	}
	swg.Wait()
	select {
	case <-allDone:
	case <-time.After(time.Minute):
		b.Fatalf("%d of %d tasks completed", completed.Load(), n)
	}
	elapsed := time.Since(begin)
	b.StopTimer()
	stats := db.Stats()
	cancel()
	wg.Wait()
	lat := make([]time.Duration, 0, n)
	st.mu.Lock()
	for i := range n {
		lat = append(lat, delivered[i].Sub(st.sched[fmt.Sprint("x", i)]))
	}
	st.mu.Unlock()
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(float64(n)/elapsed.Seconds(), "tasks/s")
	b.ReportMetric(ms(lat[n/2]), "p50-ms")
	b.ReportMetric(ms(lat[n*99/100]), "p99-ms")
	b.ReportMetric(ms(lat[n-1]), "max-ms")
	b.ReportMetric(float64(stats.Commits-stats0.Commits)/float64(n), "commits/task")
	b.ReportMetric(float64(stats.Writes-stats0.Writes)/float64(max(stats.Commits-stats0.Commits, 1)), "writes/commit")
	b.ReportMetric(float64(st.merged.Load())/float64(n), "merged-starts")
	b.ReportMetric(0, "ns/op")
}

// apiCallCtx is apiCall with a request context (GetActivityTask's long
// poll ends with it).
func apiCallCtx(ctx context.Context, srv http.Handler, action string, in any, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/", strings.NewReader(string(body)))
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
