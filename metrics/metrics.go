// Package metrics counts what the server does and serves the counts in
// Prometheus's text exposition format (GET /metrics).
//
// The execution metrics are named after the CloudWatch metrics AWS
// publishes for Step Functions (ExecutionsStarted becomes
// stepwell_executions_started_total, ExecutionTime
// stepwell_execution_time_seconds, ...), labelled as AWS's dimensions are:
// by state machine, version and alias ARN. They are counted from the
// executions' histories as they are recorded, through the one port the
// executions service offers (executions.Observer), so that they agree with
// GetExecutionHistory. The server's own metrics count the API requests by
// operation and error (Instrument).
//
// The exposition is written by hand: the format is a few lines of text,
// and the counters are atomic integers updated without allocating, which
// keeps the engine's hot path as it was and the module free of
// client_golang and its dependencies.
package metrics

import (
	"bufio"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stepwell/stepwell/executions"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
)

// StoreStats is what a store tells of its group commits.
type StoreStats struct {
	Commits    int64         // transactions committed
	Writes     int64         // writes they held
	CommitTime time.Duration // spent in the committed transactions, begin to commit
	Queued     int           // writes waiting for the writer now
}

// Registry holds the server's metrics. It implements executions.Observer
// and serves the exposition as an http.Handler. The zero value is not
// usable: call New.
type Registry struct {
	// Open returns the open executions (AWS's OpenExecutionCount); nil
	// leaves the gauge out.
	Open func() int
	// StoreStats returns the store's group-commit counts (nil leaves them
	// out).
	StoreStats func() StoreStats

	mu       sync.RWMutex
	extra    []extraFamily // AddFunc's, written last
	machines map[machineKey]*machineSeries
	ops      map[string]bool // the API's operations (bounded labels)
	// requests holds each requestKey's *requestSeries: read at every
	// request without a lock (a sync.Map: mostly read, keys added once).
	requests sync.Map
}

var _ executions.Observer = (*Registry)(nil)

// New returns an empty registry; operations are the names of the API's
// operations (api.Operations): a request naming another is counted under
// the operation "unknown", so that clients cannot invent label values.
func New(operations []string) *Registry {
	r := &Registry{
		machines: make(map[machineKey]*machineSeries),
		ops:      make(map[string]bool, len(operations)),
	}
	for _, op := range operations {
		r.ops[op] = true
	}
	return r
}

// machineKey names a state machine's series (AWS's dimensions).
type machineKey struct{ machine, version, alias string }

// machineSeries are the counters of one state machine (version, alias).
type machineSeries struct {
	started, succeeded, failed, aborted, timedOut atomic.Uint64
	time                                          histogram
	activities, services, lambdas                 taskSeries
}

// taskSeries count one family of tasks: activities, service integrations
// or Lambda functions.
type taskSeries struct {
	scheduled, started, succeeded, failed, timedOut atomic.Uint64
	scheduleTime, runTime                           histogram
}

func (r *Registry) machine(k machineKey) *machineSeries {
	r.mu.RLock()
	m := r.machines[k]
	r.mu.RUnlock()
	if m != nil {
		return m
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if m = r.machines[k]; m == nil {
		m = new(machineSeries)
		r.machines[k] = m
	}
	return m
}

// Watch implements executions.Observer.
func (r *Registry) Watch(x executions.Watched) executions.Watcher {
	return &watcher{m: r.machine(machineKey{x.StateMachineARN, x.VersionARN, x.AliasARN}), start: x.Start}
}

// Unrecorded implements executions.Observer.
func (r *Registry) Unrecorded(x executions.Watched, start, stop time.Time, status string) {
	m := r.machine(machineKey{x.StateMachineARN, x.VersionARN, x.AliasARN})
	m.started.Add(1)
	m.ended(status, stop.Sub(start))
}

// ended counts an execution's end.
func (m *machineSeries) ended(status string, d time.Duration) {
	switch status {
	case store.StatusSucceeded:
		m.succeeded.Add(1)
	case store.StatusFailed:
		m.failed.Add(1)
	case store.StatusAborted:
		m.aborted.Add(1)
	case store.StatusTimedOut:
		m.timedOut.Add(1)
	default:
		return
	}
	m.time.observe(d)
}

// watcher counts one execution's events.
type watcher struct {
	m     *machineSeries
	start time.Time
	// tasks are the tasks in progress by line of control (event Thread:
	// one task at a time in each); made for the first task.
	tasks map[string]taskTimes
}

// taskTimes are when a task was scheduled and started (zero: not yet).
type taskTimes struct{ scheduled, started time.Time }

// Recorded implements executions.Watcher. Most events (states entered
// and exited) fall through the switch: no allocation, no lock.
func (w *watcher) Recorded(events []history.Event) {
	for i := range events {
		e := &events[i]
		switch e.Type {
		case history.ExecutionStarted:
			w.m.started.Add(1)
			w.start = e.Timestamp
		case history.ExecutionSucceeded:
			w.m.ended(store.StatusSucceeded, e.Timestamp.Sub(w.start))
		case history.ExecutionFailed:
			w.m.ended(store.StatusFailed, e.Timestamp.Sub(w.start))
		case history.ExecutionAborted:
			w.m.ended(store.StatusAborted, e.Timestamp.Sub(w.start))
		case history.ExecutionTimedOut:
			w.m.ended(store.StatusTimedOut, e.Timestamp.Sub(w.start))

		case history.ActivityScheduled:
			w.scheduled(&w.m.activities, e)
		case history.ActivityStarted:
			w.started(&w.m.activities, e)
		case history.ActivitySucceeded:
			w.closed(&w.m.activities, &w.m.activities.succeeded, e)
		case history.ActivityFailed, history.ActivityScheduleFailed:
			w.closed(&w.m.activities, &w.m.activities.failed, e)
		case history.ActivityTimedOut:
			w.closed(&w.m.activities, &w.m.activities.timedOut, e)

		case history.TaskScheduled:
			w.scheduled(&w.m.services, e)
		case history.TaskStarted:
			w.started(&w.m.services, e)
		case history.TaskSucceeded:
			w.closed(&w.m.services, &w.m.services.succeeded, e)
		case history.TaskFailed, history.TaskStartFailed, history.TaskSubmitFailed:
			w.closed(&w.m.services, &w.m.services.failed, e)
		case history.TaskTimedOut:
			w.closed(&w.m.services, &w.m.services.timedOut, e)

		case history.LambdaFunctionScheduled:
			w.scheduled(&w.m.lambdas, e)
		case history.LambdaFunctionStarted:
			w.started(&w.m.lambdas, e)
		case history.LambdaFunctionSucceeded:
			w.closed(&w.m.lambdas, &w.m.lambdas.succeeded, e)
		case history.LambdaFunctionFailed, history.LambdaFunctionScheduleFailed, history.LambdaFunctionStartFailed:
			w.closed(&w.m.lambdas, &w.m.lambdas.failed, e)
		case history.LambdaFunctionTimedOut:
			w.closed(&w.m.lambdas, &w.m.lambdas.timedOut, e)
		}
	}
}

func (w *watcher) scheduled(t *taskSeries, e *history.Event) {
	t.scheduled.Add(1)
	if w.tasks == nil {
		w.tasks = make(map[string]taskTimes)
	}
	w.tasks[e.Thread] = taskTimes{scheduled: e.Timestamp}
}

func (w *watcher) started(t *taskSeries, e *history.Event) {
	t.started.Add(1)
	if tt, ok := w.tasks[e.Thread]; ok && !tt.scheduled.IsZero() {
		t.scheduleTime.observe(e.Timestamp.Sub(tt.scheduled))
		tt.started = e.Timestamp
		w.tasks[e.Thread] = tt
	}
}

func (w *watcher) closed(t *taskSeries, outcome *atomic.Uint64, e *history.Event) {
	outcome.Add(1)
	if tt, ok := w.tasks[e.Thread]; ok {
		if !tt.started.IsZero() {
			t.runTime.observe(e.Timestamp.Sub(tt.started))
		}
		delete(w.tasks, e.Thread)
	}
}

// requestKey names an API request's series.
type requestKey struct{ operation, error string }

// requestSeries count the requests of one operation answered with one
// error ("" for none).
type requestSeries struct {
	count atomic.Uint64
	time  histogram
}

// Instrument counts the requests next answers: by operation (their
// X-Amz-Target) and error (the X-Amzn-ErrorType of the answer, "" for
// none), with their durations.
func (r *Registry) Instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		t0 := time.Now()
		next.ServeHTTP(w, req)
		op, _ := strings.CutPrefix(req.Header.Get("X-Amz-Target"), "AWSStepFunctions.")
		if !r.ops[op] {
			op = "unknown"
		}
		k := requestKey{op, w.Header().Get("X-Amzn-Errortype")} // canonical: no copy made
		v, ok := r.requests.Load(k)
		if !ok {
			v, _ = r.requests.LoadOrStore(k, new(requestSeries))
		}
		s := v.(*requestSeries)
		s.count.Add(1)
		s.time.observe(time.Since(t0))
	})
}

// buckets are the upper bounds of the histograms, in seconds.
var buckets = [...]float64{0.001, 0.005, 0.025, 0.1, 0.5, 1, 5, 30, 60, 300, 3600}

// histogram is a Prometheus histogram of durations.
type histogram struct {
	counts [len(buckets) + 1]atomic.Uint64 // the last: above every bucket
	sum    atomic.Int64                    // nanoseconds
}

func (h *histogram) observe(d time.Duration) {
	if d < 0 {
		d = 0
	}
	s := d.Seconds()
	i := 0
	for i < len(buckets) && s > buckets[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sum.Add(int64(d))
}

// ContentType is the Content-Type of the exposition.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// ServeHTTP writes the exposition.
func (r *Registry) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", ContentType)
	bw := bufio.NewWriter(w)
	r.write(bw)
	_ = bw.Flush()
}

// machineRow is a state machine's series with its labels, for writing.
type machineRow struct {
	labels string
	m      *machineSeries
}

func (r *Registry) write(w *bufio.Writer) {
	r.mu.RLock()
	rows := make([]machineRow, 0, len(r.machines))
	for k, m := range r.machines {
		rows = append(rows, machineRow{labels: labels("state_machine_arn", k.machine, "version_arn", k.version, "alias_arn", k.alias), m: m})
	}
	extra := r.extra
	r.mu.RUnlock()
	var reqs []requestRow
	r.requests.Range(func(k, s any) bool {
		reqs = append(reqs, requestRow{labels: labels("operation", k.(requestKey).operation, "error", k.(requestKey).error), s: s.(*requestSeries)})
		return true
	})
	slices.SortFunc(rows, func(a, b machineRow) int { return strings.Compare(a.labels, b.labels) })
	slices.SortFunc(reqs, func(a, b requestRow) int { return strings.Compare(a.labels, b.labels) })

	counter := func(name, help string, get func(*machineSeries) *atomic.Uint64) {
		family(w, name, "counter", help)
		for _, row := range rows {
			sample(w, name, row.labels, float64(get(row.m).Load()))
		}
	}
	hist := func(name, help string, get func(*machineSeries) *histogram) {
		family(w, name, "histogram", help)
		for _, row := range rows {
			get(row.m).write(w, name, row.labels)
		}
	}
	counter("stepwell_executions_started_total", "Executions started (AWS ExecutionsStarted).", func(m *machineSeries) *atomic.Uint64 { return &m.started })
	counter("stepwell_executions_succeeded_total", "Executions that succeeded (AWS ExecutionsSucceeded).", func(m *machineSeries) *atomic.Uint64 { return &m.succeeded })
	counter("stepwell_executions_failed_total", "Executions that failed (AWS ExecutionsFailed).", func(m *machineSeries) *atomic.Uint64 { return &m.failed })
	counter("stepwell_executions_aborted_total", "Executions aborted or stopped (AWS ExecutionsAborted).", func(m *machineSeries) *atomic.Uint64 { return &m.aborted })
	counter("stepwell_executions_timed_out_total", "Executions that timed out (AWS ExecutionsTimedOut).", func(m *machineSeries) *atomic.Uint64 { return &m.timedOut })
	hist("stepwell_execution_time_seconds", "Time from an execution's start to its end (AWS ExecutionTime).", func(m *machineSeries) *histogram { return &m.time })
	for _, f := range []struct {
		prefix, aws, what string
		get               func(*machineSeries) *taskSeries
	}{
		{"activities", "Activities", "Activity tasks", func(m *machineSeries) *taskSeries { return &m.activities }},
		{"service_integrations", "ServiceIntegrations", "Service integration tasks", func(m *machineSeries) *taskSeries { return &m.services }},
		{"lambda_functions", "LambdaFunctions", "Lambda function tasks", func(m *machineSeries) *taskSeries { return &m.lambdas }},
	} {
		get := f.get
		counter("stepwell_"+f.prefix+"_scheduled_total", f.what+" scheduled (AWS "+f.aws+"Scheduled).", func(m *machineSeries) *atomic.Uint64 { return &get(m).scheduled })
		counter("stepwell_"+f.prefix+"_started_total", f.what+" started (AWS "+f.aws+"Started).", func(m *machineSeries) *atomic.Uint64 { return &get(m).started })
		counter("stepwell_"+f.prefix+"_succeeded_total", f.what+" that succeeded (AWS "+f.aws+"Succeeded).", func(m *machineSeries) *atomic.Uint64 { return &get(m).succeeded })
		counter("stepwell_"+f.prefix+"_failed_total", f.what+" that failed (AWS "+f.aws+"Failed).", func(m *machineSeries) *atomic.Uint64 { return &get(m).failed })
		counter("stepwell_"+f.prefix+"_timed_out_total", f.what+" that timed out (AWS "+f.aws+"TimedOut).", func(m *machineSeries) *atomic.Uint64 { return &get(m).timedOut })
		one := strings.TrimSuffix(strings.TrimSuffix(f.aws, "s"), "Function") // Activity, ServiceIntegration, Lambda
		if one == "Lambda" {
			one = "LambdaFunction"
		}
		hist("stepwell_"+f.prefix+"_schedule_time_seconds", "Time "+strings.ToLower(f.what)+" stay scheduled before they start (AWS "+one+"ScheduleTime).", func(m *machineSeries) *histogram { return &get(m).scheduleTime })
		hist("stepwell_"+f.prefix+"_run_time_seconds", "Time "+strings.ToLower(f.what)+" run, from their start to their end (AWS "+one+"RunTime).", func(m *machineSeries) *histogram { return &get(m).runTime })
	}
	if r.Open != nil {
		family(w, "stepwell_open_executions", "gauge", "Executions open (running or waiting) in this server (AWS OpenExecutionCount).")
		sample(w, "stepwell_open_executions", "", float64(r.Open()))
	}
	if r.StoreStats != nil {
		st := r.StoreStats()
		family(w, "stepwell_store_commits_total", "counter", "Transactions the store committed (each a group commit of writes).")
		sample(w, "stepwell_store_commits_total", "", float64(st.Commits))
		family(w, "stepwell_store_writes_total", "counter", "Writes (history appends, execution rows) the store's transactions held: writes/commits is the mean batch size.")
		sample(w, "stepwell_store_writes_total", "", float64(st.Writes))
		family(w, "stepwell_store_commit_seconds_total", "counter", "Time the store spent in the transactions it committed, from begin to commit (fsync included): its rate over commits' is the mean commit latency.")
		sample(w, "stepwell_store_commit_seconds_total", "", st.CommitTime.Seconds())
		family(w, "stepwell_store_queue_depth", "gauge", "Writes waiting for the store's group-commit writer now.")
		sample(w, "stepwell_store_queue_depth", "", float64(st.Queued))
	}
	family(w, "stepwell_http_requests_total", "counter", "API requests answered, by operation and error type (\"\" when none).")
	for _, q := range reqs {
		sample(w, "stepwell_http_requests_total", q.labels, float64(q.s.count.Load()))
	}
	family(w, "stepwell_http_request_duration_seconds", "histogram", "Time to answer API requests, by operation and error type.")
	for _, q := range reqs {
		q.s.time.write(w, "stepwell_http_request_duration_seconds", q.labels)
	}
	for _, f := range extra {
		family(w, f.name, f.typ, f.help)
		for _, s := range f.read() {
			set := ""
			if len(s.Labels) > 0 {
				set = labels(s.Labels...)
			}
			sample(w, f.name, set, s.Value)
		}
	}
}

// Sample is one sample of a family added with AddFunc: its labels as
// name, value pairs, and its value.
type Sample struct {
	Labels []string
	Value  float64
}

// extraFamily is a family added with AddFunc.
type extraFamily struct {
	name, typ, help string
	read            func() []Sample
}

// AddFunc adds a metric family of the given type ("counter" or "gauge")
// whose samples read returns at each scrape: the counts another part of
// the server keeps (status events delivered, records dropped...). Call it
// before the registry is served.
func (r *Registry) AddFunc(name, typ, help string, read func() []Sample) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.extra = append(r.extra, extraFamily{name: name, typ: typ, help: help, read: read})
}

// requestRow is a request series with its labels, for writing.
type requestRow struct {
	labels string
	s      *requestSeries
}

// write writes the histogram's samples: its cumulative buckets, sum and
// count.
func (h *histogram) write(w *bufio.Writer, name, labels string) {
	var n uint64
	for i := range h.counts {
		n += h.counts[i].Load()
		le := "+Inf"
		if i < len(buckets) {
			le = formatFloat(buckets[i])
		}
		sample(w, name+"_bucket", withLabel(labels, "le", le), float64(n))
	}
	sample(w, name+"_sum", labels, time.Duration(h.sum.Load()).Seconds())
	sample(w, name+"_count", labels, float64(n))
}
