//go:build linux

package perf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// BenchmarkDurableHTTP drives the real binary the way a user's clients
// would: it builds cmd/stepwell, serves on the embedded store (WAL,
// synchronous=FULL) in a temporary data directory, and has 64 HTTP
// clients start STEPWELL_PERF_EXECUTIONS (default 10,000) Standard
// executions of a 10-state Pass chain with raw AWS JSON 1.0 requests
// (POST /, X-Amz-Target AWSStepFunctions.StartExecution; no SDK, so that
// the client's signing and middleware do not take the shared CPU from the
// server), then polls ListExecutions (statusFilter RUNNING, maxResults 1,
// every 10 ms) until none runs, and checks that every execution
// SUCCEEDED. In the same run it measures the disk and a bare handler:
//
//	transitions/s   durable state transitions per second: one transition is
//	                one state run and recorded (its Entered and Exited events
//	                committed to the store), so an execution is 10; counted
//	                from the first StartExecution until no execution runs
//	fsyncs/s        the data directory's disk: append 1 KiB + fdatasync, in a loop
//	                (STEPWELL_PERF_FSYNCS times, default 3,000), before the
//	                server starts and after it stopped; the higher of the two
//	x_fsync         transitions/s ÷ fsyncs/s (target ≥ 7)
//	starts/s        StartExecution requests answered per second (while the
//	                executions started so far run on the same server)
//	bare-req/s      a bare net/http handler reading the body and answering a
//	                fixed body, same 64 clients and HTTP client setup: the
//	                mean of two measures, before the starts and once no
//	                execution runs, so that a change of the machine's other
//	                load during the run moves both rates alike
//	x_bare          starts/s ÷ bare-req/s (target ≥ 0.4)
//	bare-proc-req/s, x_bare_proc  the same bare handler served by a process
//	                of its own (this test binary, STEPWELL_PERF_BARE_SERVE=1),
//	                as the server is: two Go runtimes share the cores, which
//	                costs the bare handler in process nothing; measured and
//	                averaged as bare-req/s, and starts/s ÷ it
//	bare-proc-cpu-µs/req, x_cpu  that process's CPU per request (utime+stime
//	                from /proc), and its ratio to the server's per execution
//	                (cpu-ms/exec): how much more a start costs the server than
//	                a bare request, whatever the loopback's speed
//	client-cpu-µs/start  this process's CPU (the clients') per StartExecution
//	bare-cpu-µs/req this process's CPU per bare request (its clients and the
//	                bare handler: both ends of a request), in the second measure
//	cpu-ms/exec     the server process's CPU (utime+stime from /proc) from
//	                the first start until none runs, per execution
//	disk-B/transition  size of the data directory after a clean shutdown per transition
//	writes/commit   the store's writes per group commit over the run (its
//	                /metrics: stepwell_store_writes_total ÷ stepwell_store_commits_total)
//	describes/s, describe-cpu-µs  then DescribeExecution of every execution by
//	                the same clients: requests per second and the server's CPU per request
//	sync-express/s, x_bare_express, sync-express-cpu-µs  last, StartSyncExecution of
//	                an EXPRESS twin of the machine by the same clients, on the same
//	                server: the same start and run with no store at all (a
//	                synchronous Express execution records nothing). Its ratio to
//	                bare-req/s is what a start could reach here if the store cost
//	                nothing: the ceiling of x_bare on this machine
//
// STEPWELL_PERF_BIN=PATH uses that binary instead of building this tree's.
// STEPWELL_PERF_NAMES=server starts the measured executions without names,
// so that the server picks them, as for clients that give none (the
// executions are then described by the ARNs StartExecution answered).
// STEPWELL_PERF_RECORD=FILE also records the server's CPU profile over the
// measured run with Linux perf (perf record -g; read it with perf report
// -i FILE), and over the DescribeExecution calls into FILE.describe.
// STEPWELL_PERF_PPROF=DIR serves the server's Go profiles
// (--pprof) and writes to DIR its CPU profile of the first
// STEPWELL_PERF_PPROF_SECONDS (default 10) of the measured run (cpu.pprof)
// and its allocation profiles before and after it (allocs-before.pprof,
// allocs-after.pprof; go tool pprof -sample_index alloc_space -base
// allocs-before.pprof allocs-after.pprof shows the run's), and reports
// the server's exact allocations per execution over the run (alloc-B/exec,
// allocs/exec, from runtime.MemStats) and its garbage collections (gcs):
// figures that, unlike CPU time, hardly depend on the machine's load.
//
// Run it with
//
//	go test -run '^$' -bench DurableHTTP -benchtime 1x ./tests/perf/
func BenchmarkDurableHTTP(b *testing.B) {
	const states = 10
	execs := envInt(b, "STEPWELL_PERF_EXECUTIONS", 10000)
	dir := b.TempDir()
	bin := buildBinary(b, dir)
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		b.Fatal(err)
	}
	probes := envInt(b, "STEPWELL_PERF_FSYNCS", 3000)
	fsyncsBefore := fsyncRate(b, data, probes)

	srv := startServer(b, bin, data)
	c := newClient()
	defer c.CloseIdleConnections()
	ctx := context.Background()
	// Warm up the server and the connections on a machine of its own.
	warm := createMachine(b, c, srv.url, "warm", passChain(states))
	if _, err := drive(clients, func(i int) error {
		_, err := call(ctx, c, srv.url, "StartExecution", startBody(warm, fmt.Sprint("w", i)))
		return err
	}); err != nil {
		b.Fatal(err)
	}
	waitNoneRunning(b, c, srv.url, warm, time.Minute)

	// The bare handler gets as many requests as the server, with a body of
	// the same size.
	machine := createMachine(b, c, srv.url, "bench", passChain(states))
	bareN := max(execs, 20000)
	bare1 := bareRate(b, bareN, startBody(machine, "e0"))
	proc1, procCPU1 := bareProcRate(b, bareN, startBody(machine, "e0"))

	stopProfile := profile(b, srv.pid(), "")
	stopPprof := pprofProfiles(b, srv)
	mem0 := memStats(b, srv)
	commits0, writes0, busy0, _ := storeCommits(b, srv)
	cpu0 := cpuTime(b, srv.pid())
	self0 := cpuTime(b, os.Getpid())
	serverNames := os.Getenv("STEPWELL_PERF_NAMES") == "server"
	arns := make([]string, execs)
	for i := range arns {
		arns[i] = executionARN(machine, fmt.Sprint("e", i))
	}
	b.ResetTimer()
	begin := time.Now()
	startEl, err := drive(execs, func(i int) error {
		if !serverNames {
			_, err := call(ctx, c, srv.url, "StartExecution", startBody(machine, fmt.Sprint("e", i)))
			return err
		}
		out, err := call(ctx, c, srv.url, "StartExecution", startBody(machine, ""))
		if err == nil {
			arns[i], err = startedARN(out)
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	clientCPU := cpuTime(b, os.Getpid()) - self0
	doneAt := waitNoneRunning(b, c, srv.url, machine, 10*time.Minute)
	b.StopTimer()
	cpu := cpuTime(b, srv.pid()) - cpu0
	commits, writes, busy, counted := storeCommits(b, srv)
	stopProfile()
	stopPprof()
	self1 := cpuTime(b, os.Getpid())
	bare2 := bareRate(b, bareN, startBody(machine, "e0"))
	bareCPU := cpuTime(b, os.Getpid()) - self1
	proc2, procCPU2 := bareProcRate(b, bareN, startBody(machine, "e0"))
	bare, proc := (bare1+bare2)/2, (proc1+proc2)/2
	b.Logf("bare-req/s before %.0f, after %.0f; bare-proc-req/s before %.0f, after %.0f", bare1, bare2, proc1, proc2)
	if mem0 != nil {
		mem := memStats(b, srv)
		b.ReportMetric(float64(mem["TotalAlloc"]-mem0["TotalAlloc"])/float64(execs), "alloc-B/exec")
		b.ReportMetric(float64(mem["Mallocs"]-mem0["Mallocs"])/float64(execs), "allocs/exec")
		b.ReportMetric(float64(mem["NumGC"]-mem0["NumGC"]), "gcs")
	}
	if n := countExecutions(b, c, srv.url, machine, "SUCCEEDED"); n != execs {
		b.Fatalf("%d of %d executions SUCCEEDED", n, execs)
	}
	// DescribeExecution of every execution, as clients waiting for
	// their results would call it.
	stopProfile = profile(b, srv.pid(), ".describe")
	cpu1 := cpuTime(b, srv.pid())
	descEl, err := drive(execs, func(i int) error {
		body := []byte(`{"executionArn":` + strconv.Quote(arns[i]) + `}`)
		out, err := call(ctx, c, srv.url, "DescribeExecution", body)
		if err == nil && !bytes.Contains(out, []byte(`"SUCCEEDED"`)) {
			err = fmt.Errorf("DescribeExecution answered %s", out)
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	descCPU := cpuTime(b, srv.pid()) - cpu1
	stopProfile()
	// The ceiling: the same start and run without a store.
	twin := createTyped(b, c, srv.url, "express", passChain(states), "EXPRESS")
	cpu2 := cpuTime(b, srv.pid())
	syncEl, err := drive(execs, func(i int) error {
		out, err := call(ctx, c, srv.url, "StartSyncExecution", startBody(twin, fmt.Sprint("s", i)))
		if err == nil && !bytes.Contains(out, []byte(`"SUCCEEDED"`)) {
			err = fmt.Errorf("StartSyncExecution answered %s", out)
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	syncCPU := cpuTime(b, srv.pid()) - cpu2
	srv.stop(b, syscall.SIGTERM)
	size := dirSize(b, data)
	// The disk is shared: measured again, the higher rate is what it can
	// do at least (the conservative ratio).
	fsyncsAfter := fsyncRate(b, data, probes)
	fsyncs := max(fsyncsBefore, fsyncsAfter)
	b.Logf("fsyncs/s before %.0f, after %.0f", fsyncsBefore, fsyncsAfter)

	transitions := float64(execs * states)
	tps := transitions / doneAt.Sub(begin).Seconds()
	starts := float64(execs) / startEl.Seconds()
	b.ReportMetric(tps, "transitions/s")
	b.ReportMetric(fsyncs, "fsyncs/s")
	b.ReportMetric(tps/fsyncs, "x_fsync")
	b.ReportMetric(starts, "starts/s")
	b.ReportMetric(bare, "bare-req/s")
	b.ReportMetric(starts/bare, "x_bare")
	b.ReportMetric(proc, "bare-proc-req/s")
	b.ReportMetric(starts/proc, "x_bare_proc")
	procCPU := (procCPU1 + procCPU2) / 2
	b.ReportMetric(float64(procCPU.Nanoseconds())/1000, "bare-proc-cpu-µs/req")
	b.ReportMetric(float64(procCPU.Nanoseconds())/float64(cpu.Nanoseconds()/int64(execs)), "x_cpu")
	b.ReportMetric(float64(clientCPU.Microseconds())/float64(execs), "client-cpu-µs/start")
	b.ReportMetric(float64(bareCPU.Microseconds())/float64(bareN), "bare-cpu-µs/req")
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(execs), "cpu-ms/exec")
	b.ReportMetric(float64(size)/float64((execs+clients)*states), "disk-B/transition")
	if counted {
		b.ReportMetric(float64(writes-writes0)/float64(max(commits-commits0, 1)), "writes/commit")
		b.ReportMetric((busy-busy0)/doneAt.Sub(begin).Seconds(), "writer-busy")
	}
	b.ReportMetric(float64(execs)/descEl.Seconds(), "describes/s")
	b.ReportMetric(float64(descCPU.Microseconds())/float64(execs), "describe-cpu-µs")
	b.ReportMetric(float64(execs)/syncEl.Seconds(), "sync-express/s")
	b.ReportMetric(float64(execs)/syncEl.Seconds()/bare, "x_bare_express")
	b.ReportMetric(float64(syncCPU.Microseconds())/float64(execs), "sync-express-cpu-µs")
	b.ReportMetric(0, "ns/op")
}

// dirSize is the total size of the files in dir.
func dirSize(tb testing.TB, dir string) int64 {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err == nil {
			n += fi.Size()
		}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// errTooBig stops the start phase of BenchmarkWaitingExecutions when the
// server grows past STEPWELL_PERF_MAX_RSS_MIB.
var errTooBig = errors.New("server RSS over the limit")

// BenchmarkWaitingExecutions holds STEPWELL_PERF_WAITING (default
// 1,000,000) Standard executions waiting in a Wait state (3600 s) on the
// embedded store of the real binary, started by 64 HTTP clients, and
// measures what they cost:
//
//	started         executions started (fewer than asked when the server's
//	                RSS passed STEPWELL_PERF_MAX_RSS_MIB, default 6144, a guard
//	                for the shared machine; the figures then extrapolate)
//	starts/s        StartExecution requests per second
//	rss-MiB         the server's RSS (VmRSS) once all wait: the server's CPU
//	                has been idle (< 1% of a core) for half a second and a
//	                sample of executions (the last 64 started and 64 spread
//	                over the rest) have WaitStateEntered as last event
//	KiB/exec        (rss-MiB − RSS before the first start) per execution
//	resume-term-s   after SIGTERM, from the restarted process's start until
//	                all executions are resumed
//	resume-kill-s   the same after SIGKILL (then restarted once more)
//	resume-cpu-µs/exec  the restarted server's CPU time until then, per
//	                execution (mean of both restarts)
//	est-rss-GiB@1M, est-resume-s@1M  linear extrapolations to a million
//
// STEPWELL_PERF_DATA_DIR=DIR keeps the embedded store in DIR (new or
// empty) instead of a temporary directory, e.g. to profile a restart by
// hand afterwards.
//
// "Resumed" is when the restarted server prints its address: app.New
// resumes every running execution and waits (engine.WaitResumed) until
// their replay settled, i.e. each has reached its Wait state again, before
// it listens. That wait is bounded (a minute); when the server warns that
// executions are still replaying, the time until its CPU has been idle for
// half a second is used instead (logged).
//
// Run it with
//
//	STEPWELL_PERF_WAITING=20000 go test -run '^$' -bench WaitingExecutions -benchtime 1x -timeout 2h ./tests/perf/
func BenchmarkWaitingExecutions(b *testing.B) {
	n := envInt(b, "STEPWELL_PERF_WAITING", 1_000_000)
	maxRSS := int64(envInt(b, "STEPWELL_PERF_MAX_RSS_MIB", 6144)) << 20
	dir := b.TempDir()
	bin := buildBinary(b, dir)
	data := filepath.Join(dir, "data")
	if d := os.Getenv("STEPWELL_PERF_DATA_DIR"); d != "" {
		data = d // kept, e.g. to profile a restart by hand
	}
	srv := startServer(b, bin, data)
	c := newClient()
	defer c.CloseIdleConnections()
	ctx := context.Background()
	machine := createMachine(b, c, srv.url, "wait", waitOneHour)
	rss0 := rss(b, srv.pid())

	b.ResetTimer()
	var started atomic.Int64
	ok := make([]bool, n) // by execution index
	startEl, err := drive(n, func(i int) error {
		if i%1000 == 999 && rss(b, srv.pid()) > maxRSS {
			return errTooBig
		}
		if _, err := call(ctx, c, srv.url, "StartExecution", startBody(machine, fmt.Sprint("e", i))); err != nil {
			return err
		}
		started.Add(1)
		ok[i] = true
		return nil
	})
	switch {
	case errors.Is(err, errTooBig):
		b.Logf("stopped after %d starts: server RSS over %d MiB", started.Load(), maxRSS>>20)
	case err != nil:
		b.Fatal(err)
	}
	b.StopTimer()
	count := int(started.Load())
	if _, ok := waitIdle(b, srv.pid(), 500*time.Millisecond, 30*time.Minute); !ok {
		b.Fatal("server still busy 30 minutes after the last start")
	}
	checkWaiting(b, c, srv.url, machine, ok)
	rssWaiting := rss(b, srv.pid())

	termStop := srv.stop(b, syscall.SIGTERM)
	resumeTerm, cpuTerm, srv := restart(b, bin, data, count)
	rssResumed := rss(b, srv.pid())
	srv.stop(b, syscall.SIGKILL)
	resumeKill, cpuKill, srv := restart(b, bin, data, count)
	checkWaiting(b, c, srv.url, machine, ok)
	srv.stop(b, syscall.SIGTERM)

	perExec := float64(rssWaiting-rss0) / float64(count)
	b.Logf("%d waiting: RSS %d MiB (%d MiB before), SIGTERM took %v, resumed RSS %d MiB",
		count, rssWaiting>>20, rss0>>20, termStop.Round(time.Millisecond), rssResumed>>20)
	b.ReportMetric(float64(count), "started")
	b.ReportMetric(float64(count)/startEl.Seconds(), "starts/s")
	b.ReportMetric(float64(rssWaiting)/(1<<20), "rss-MiB")
	b.ReportMetric(perExec/1024, "KiB/exec")
	b.ReportMetric(resumeTerm.Seconds(), "resume-term-s")
	b.ReportMetric(resumeKill.Seconds(), "resume-kill-s")
	b.ReportMetric(float64((cpuTerm+cpuKill).Microseconds())/2/float64(count), "resume-cpu-µs/exec")
	b.ReportMetric((float64(rss0)+perExec*1e6)/(1<<30), "est-rss-GiB@1M")
	b.ReportMetric(max(resumeTerm, resumeKill).Seconds()*1e6/float64(count), "est-resume-s@1M")
	b.ReportMetric(0, "ns/op")
}

// restart starts the server again on data and returns how long it took
// until the want executions it holds are resumed, and the CPU time the
// server used until then (less sensitive than the wall time to other
// load on the machine).
func restart(b *testing.B, bin, data string, want int) (wall, cpu time.Duration, srv *server) {
	begin := time.Now()
	srv = startServer(b, bin, data)
	if srv.resumed != want {
		b.Fatalf("restart resumed %d executions, want %d:\n%s", srv.resumed, want, srv.output())
	}
	if !srv.unsettled {
		return srv.ready, cpuTime(b, srv.pid()), srv
	}
	at, ok := waitIdle(b, srv.pid(), 500*time.Millisecond, 30*time.Minute)
	if !ok {
		b.Fatal("restarted server still busy after 30 minutes")
	}
	b.Logf("server listened after %v with executions still replaying; idle after %v",
		srv.ready.Round(time.Millisecond), at.Sub(begin).Round(time.Millisecond))
	return at.Sub(begin), cpuTime(b, srv.pid()), srv
}

// checkWaiting checks that the last 64 executions started and 64 spread
// over the others wait in their Wait state; started[i] tells whether
// execution e<i> was started.
func checkWaiting(b *testing.B, c *http.Client, url, machine string, started []bool) {
	var idx []int
	for i := len(started) - 1; i >= 0 && len(idx) < clients; i-- {
		if started[i] {
			idx = append(idx, i)
		}
	}
	step := max(len(started)/clients, 1)
	for i := 0; i < len(started); i += step {
		if started[i] {
			idx = append(idx, i)
		}
	}
	for _, i := range idx {
		typ, err := lastEvent(context.Background(), c, url, executionARN(machine, fmt.Sprint("e", i)))
		if err != nil {
			b.Fatal(err)
		}
		if typ != "WaitStateEntered" {
			b.Fatalf("execution e%d: last event %s, want WaitStateEntered", i, typ)
		}
	}
}

// pprofProfiles writes the server's allocation profile and starts its CPU
// profile when STEPWELL_PERF_PPROF names a directory (see
// BenchmarkDurableHTTP); it returns what writes the allocation profile
// again and waits for the CPU profile.
func pprofProfiles(tb testing.TB, srv *server) (stop func()) {
	dir := os.Getenv("STEPWELL_PERF_PPROF")
	if dir == "" {
		return func() {}
	}
	secs := envInt(tb, "STEPWELL_PERF_PPROF_SECONDS", 10)
	save := func(path, file string) error {
		resp, err := http.Get(srv.pprof + path)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", path, resp.Status)
		}
		f, err := os.Create(filepath.Join(dir, file))
		if err != nil {
			return err
		}
		_, err = io.Copy(f, resp.Body)
		return errors.Join(err, f.Close())
	}
	if err := save("/debug/pprof/allocs", "allocs-before.pprof"); err != nil {
		tb.Fatal(err)
	}
	cpu := make(chan error, 1)
	go func() { cpu <- save(fmt.Sprintf("/debug/pprof/profile?seconds=%d", secs), "cpu.pprof") }()
	return func() {
		if err := errors.Join(save("/debug/pprof/allocs", "allocs-after.pprof"), <-cpu); err != nil {
			tb.Fatal(err)
		}
		tb.Logf("profiles of the server in %s", dir)
	}
}

// storeCommits returns the embedded store's group commits, the writes
// they held and the seconds its writer spent in them so far, from the
// server's /metrics; ok is false when the server has none of them (a
// build older than its /metrics, compared with STEPWELL_PERF_BIN).
func storeCommits(tb testing.TB, srv *server) (commits, writes, busy float64, ok bool) {
	resp, err := http.Get(srv.url + "/metrics")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	text, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	m := parseSamples(string(text))
	c, ok1 := m["stepwell_store_commits_total"]
	w, ok2 := m["stepwell_store_writes_total"]
	s, ok3 := m["stepwell_store_commit_seconds_total"]
	switch {
	case !ok1 && !ok2 && !ok3:
		return 0, 0, 0, false
	case !ok1 || !ok2 || !ok3:
		tb.Fatalf("GET /metrics: some store commit counts missing in\n%s", text)
	}
	return c, w, s, true
}

// parseSamples reads the unlabelled samples of a Prometheus text
// exposition ("name value" lines).
func parseSamples(text string) map[string]float64 {
	m := make(map[string]float64)
	for line := range strings.SplitSeq(text, "\n") {
		name, v, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(line, "#") || strings.ContainsRune(name, '{') {
			continue
		}
		if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
			m[name] = f
		}
	}
	return m
}

// memStats returns the runtime.MemStats figures (TotalAlloc, Mallocs,
// NumGC, ...) the server's heap profile lists in its text form, or nil
// when STEPWELL_PERF_PPROF is not set.
func memStats(tb testing.TB, srv *server) map[string]uint64 {
	if os.Getenv("STEPWELL_PERF_PPROF") == "" {
		return nil
	}
	resp, err := http.Get(srv.pprof + "/debug/pprof/heap?debug=1")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	text, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	m, err := parseMemStats(string(text))
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// parseMemStats reads the "# Name = N" lines of a heap profile's text
// form (the runtime.MemStats section).
func parseMemStats(text string) (map[string]uint64, error) {
	m := make(map[string]uint64)
	for line := range strings.SplitSeq(text, "\n") {
		name, v, ok := strings.Cut(strings.TrimPrefix(line, "# "), " = ")
		if !ok || !strings.HasPrefix(line, "# ") {
			continue
		}
		if n, err := strconv.ParseUint(v, 10, 64); err == nil {
			m[name] = n
		}
	}
	for _, k := range []string{"TotalAlloc", "Mallocs", "NumGC"} {
		if _, ok := m[k]; !ok {
			return nil, fmt.Errorf("parse heap profile: no %s", k)
		}
	}
	return m, nil
}

// profile starts `perf record` on pid when STEPWELL_PERF_RECORD names an
// output file (with suffix appended), and returns what stops it.
func profile(tb testing.TB, pid int, suffix string) (stop func()) {
	out := os.Getenv("STEPWELL_PERF_RECORD")
	if out == "" {
		return func() {}
	}
	out += suffix
	cmd := exec.Command("perf", "record", "-F", "499", "-g", "-p", fmt.Sprint(pid), "-o", out)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatalf("perf record: %v", err)
	}
	return func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}
}
