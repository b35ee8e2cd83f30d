//go:build linux

// Package perf benchmarks the real `stepwell serve` binary over HTTP on the
// embedded store: durable throughput against the disk's fsync rate and a
// bare net/http handler (BenchmarkDurableHTTP), and what waiting
// executions cost in memory and in resume time (BenchmarkWaitingExecutions).
// The package has benchmarks only, plus quick tests of its helpers, so
// `go test ./...` stays fast. It reads /proc and calls fdatasync, so it is
// built on Linux only. Run the benchmarks with
//
//	go test -run '^$' -bench . -benchtime 1x ./tests/perf/
package perf

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// clients is how many concurrent HTTP clients drive the server.
const clients = 64

// envInt reads a count from the environment, def when unset.
func envInt(tb testing.TB, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(strings.ReplaceAll(v, "_", ""))
	if err != nil || n < 1 {
		tb.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// buildBinary builds cmd/stepwell into dir and returns its path, or
// returns $STEPWELL_PERF_BIN when set (a binary built elsewhere, e.g. from
// main, to compare it with this tree back to back).
func buildBinary(tb testing.TB, dir string) string {
	if bin := os.Getenv("STEPWELL_PERF_BIN"); bin != "" {
		return bin
	}
	bin := filepath.Join(dir, "stepwell")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/stepwell")
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("build stepwell: %v\n%s", err, out)
	}
	return bin
}

// server is a running `stepwell serve` process.
type server struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{} // closed when the process has exited
	// ready is how long the process took from its start until it printed
	// its address: opening the store, resuming the running executions and
	// waiting until their replay settled (app.New).
	ready time.Duration
	// resumed is the count the server printed ("resumed N running
	// executions").
	resumed int
	// unsettled tells that the server warned that resumed executions were
	// still replaying when it began to serve (its wait for them timed
	// out).
	unsettled bool
	// pprof is the base URL of the server's runtime profiles
	// (http://HOST:PORT) when STEPWELL_PERF_PPROF is set, else "".
	pprof string

	mu  sync.Mutex
	log bytes.Buffer // the server's stderr
}

var (
	listeningRE = regexp.MustCompile(`listening on (http://\S+)`)
	resumedRE   = regexp.MustCompile(`resumed (\d+) running executions`)
	pprofRE     = regexp.MustCompile(`pprof on (http://\S+)/debug/pprof/`)
)

// startServer starts the binary on the embedded store in dataDir and waits
// until it listens. With STEPWELL_PERF_PPROF set it also serves its
// runtime profiles (--pprof).
func startServer(tb testing.TB, bin, dataDir string) *server {
	args := []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir}
	if os.Getenv("STEPWELL_PERF_PPROF") != "" {
		args = append(args, "--pprof", "127.0.0.1:0")
	}
	cmd := exec.Command(bin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	s := &server{cmd: cmd, done: make(chan struct{})}
	begin := time.Now()
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start stepwell: %v", err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		found := false
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.log.WriteString(line + "\n")
			if strings.Contains(line, "still replaying") {
				s.unsettled = true
			}
			if m := resumedRE.FindStringSubmatch(line); m != nil {
				s.resumed, _ = strconv.Atoi(m[1])
			}
			if m := pprofRE.FindStringSubmatch(line); m != nil {
				s.pprof = m[1]
			}
			s.mu.Unlock()
			if m := listeningRE.FindStringSubmatch(line); m != nil && !found {
				found = true
				addr <- m[1]
			}
		}
		_ = cmd.Wait()
		close(s.done)
		if !found {
			close(addr)
		}
	}()
	a, ok := <-addr
	if !ok {
		tb.Fatalf("stepwell exited before listening:\n%s", s.output())
	}
	s.ready = time.Since(begin)
	s.url = a
	s.mu.Lock()
	pprof := s.pprof
	s.mu.Unlock()
	if os.Getenv("STEPWELL_PERF_PPROF") != "" && pprof == "" {
		tb.Fatalf("STEPWELL_PERF_PPROF: the server printed no pprof address:\n%s", s.output())
	}
	tb.Cleanup(func() { s.stop(tb, syscall.SIGKILL) })
	return s
}

func (s *server) pid() int { return s.cmd.Process.Pid }

func (s *server) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// stop sends sig and waits until the process has exited; it returns how
// long that took.
func (s *server) stop(tb testing.TB, sig syscall.Signal) time.Duration {
	select {
	case <-s.done:
		return 0
	default:
	}
	begin := time.Now()
	if err := s.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		tb.Fatalf("signal stepwell: %v", err)
	}
	select {
	case <-s.done:
	case <-time.After(2 * time.Minute):
		_ = s.cmd.Process.Kill()
		<-s.done
		tb.Fatalf("stepwell did not exit within 2 minutes of %v", sig)
	}
	return time.Since(begin)
}

// procStat holds what /proc/<pid>/stat tells of a process's CPU time.
type procStat struct {
	utime, stime int64 // clock ticks
}

// parseProcStat reads utime and stime (fields 14 and 15) of a
// /proc/<pid>/stat line; the command name (field 2) may hold spaces and
// parentheses, so fields are counted after its last ')'.
func parseProcStat(line string) (procStat, error) {
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("parse stat %q: no command name", line)
	}
	f := strings.Fields(line[i+1:])
	// f[0] is field 3 (state), so field k is f[k-3].
	if len(f) < 13 {
		return procStat{}, fmt.Errorf("parse stat %q: %d fields", line, len(f)+2)
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return procStat{}, fmt.Errorf("parse stat: %w", err)
	}
	return procStat{utime: u, stime: st}, nil
}

// clockTicks is the kernel's USER_HZ (sysconf(_SC_CLK_TCK)): 100 on every
// Linux this runs on.
const clockTicks = 100

// cpuTime returns the user+system CPU time pid has used.
func cpuTime(tb testing.TB, pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		tb.Fatal(err)
	}
	st, err := parseProcStat(string(b))
	if err != nil {
		tb.Fatal(err)
	}
	return time.Duration(st.utime+st.stime) * time.Second / clockTicks
}

// parseVmRSS returns the VmRSS line of a /proc/<pid>/status in bytes.
func parseVmRSS(status string) (int64, error) {
	for line := range strings.SplitSeq(status, "\n") {
		v, ok := strings.CutPrefix(line, "VmRSS:")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("parse VmRSS %q", line)
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse VmRSS: %w", err)
		}
		return n << 10, nil
	}
	return 0, errors.New("parse status: no VmRSS line")
}

// rss returns pid's resident set size in bytes.
func rss(tb testing.TB, pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatal(err)
	}
	n, err := parseVmRSS(string(b))
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// waitIdle waits until pid has used less than 1% of a core over quiet, or
// until limit, and returns when the quiet span began (its CPU had
// settled). ok is false at limit.
func waitIdle(tb testing.TB, pid int, quiet, limit time.Duration) (at time.Time, ok bool) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		t0, c0 := time.Now(), cpuTime(tb, pid)
		<-time.After(quiet)
		if c := cpuTime(tb, pid) - c0; c*100 < time.Since(t0) {
			return t0, true
		}
	}
	return time.Now(), false
}

// fsyncRate appends 1 KiB to a file in dir and fdatasyncs it n times, and
// returns the rate per second: the disk's durable-append rate.
func fsyncRate(tb testing.TB, dir string, n int) float64 {
	f, err := os.OpenFile(filepath.Join(dir, "fsync-probe"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		tb.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := bytes.Repeat([]byte{'x'}, 1024)
	begin := time.Now()
	for range n {
		if _, err := f.Write(buf); err != nil {
			tb.Fatal(err)
		}
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			tb.Fatal(err)
		}
	}
	return float64(n) / time.Since(begin).Seconds()
}

// newClient is the HTTP client of every load in this package: keep-alive
// connections, one per concurrent client.
func newClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		MaxIdleConns: clients, MaxIdleConnsPerHost: clients,
		DisableCompression: true, IdleConnTimeout: time.Minute,
	}}
}

// apiError is a non-200 answer.
type apiError struct {
	status int
	body   string
}

func (e *apiError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.status, e.body) }

// call sends one AWS JSON 1.0 request (POST /, X-Amz-Target
// AWSStepFunctions.<action>) and returns the answer's body.
func call(ctx context.Context, c *http.Client, url, action string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Amz-Target", "AWSStepFunctions."+action)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", action, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", action, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %w", action, &apiError{resp.StatusCode, string(out)})
	}
	return out, nil
}

// drive runs n requests with clients concurrent workers: do(i) for i in
// [0, n). It returns the elapsed time and the first error.
func drive(n int, do func(i int) error) (time.Duration, error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var first atomic.Pointer[error]
	begin := time.Now()
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || first.Load() != nil {
					return
				}
				if err := do(i); err != nil {
					first.CompareAndSwap(nil, &err)
					return
				}
			}
		})
	}
	wg.Wait()
	el := time.Since(begin)
	if p := first.Load(); p != nil {
		return el, *p
	}
	return el, nil
}

// bareHandler is the bare net/http handler: it reads the body and answers
// a fixed JSON body of a StartExecution answer's size.
func bareHandler(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_, _ = io.WriteString(w, `{"executionArn":"arn:aws:states:us-east-1:123456789012:execution:bench:e0","startDate":1.7e9}`)
}

// bareRate measures bareHandler served in this process over loopback,
// with the same clients and client setup as the real load, n requests of
// body; it returns requests per second.
func bareRate(tb testing.TB, n int, body []byte) float64 {
	hs := &http.Server{Handler: http.HandlerFunc(bareHandler), ReadHeaderTimeout: 10 * time.Second}
	ln, err := listenLoopback()
	if err != nil {
		tb.Fatal(err)
	}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	return driveBare(tb, "http://"+ln.Addr().String(), n, body)
}

// bareServeEnv, set to 1, makes this test binary serve bareHandler
// instead of running its tests (TestMain): the bare handler in a process
// of its own, as the server is.
const bareServeEnv = "STEPWELL_PERF_BARE_SERVE"

// TestMain serves bareHandler when bareServeEnv is set, printing its
// address as the server does ("listening on http://..."), until killed.
func TestMain(m *testing.M) {
	if os.Getenv(bareServeEnv) != "1" {
		os.Exit(m.Run())
	}
	ln, err := listenLoopback()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "listening on http://%s\n", ln.Addr())
	hs := &http.Server{Handler: http.HandlerFunc(bareHandler), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintln(os.Stderr, hs.Serve(ln))
	os.Exit(1)
}

// bareProcRate measures bareHandler served by another process (this test
// binary, bareServeEnv), so that, as with the server, the clients and the
// handler are two Go runtimes sharing the cores; it returns requests per
// second and that process's CPU per request.
func bareProcRate(tb testing.TB, n int, body []byte) (float64, time.Duration) {
	self, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), bareServeEnv+"=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start the bare handler's process: %v", err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	sc := bufio.NewScanner(stderr)
	url := ""
	for url == "" && sc.Scan() {
		if m := listeningRE.FindStringSubmatch(sc.Text()); m != nil {
			url = m[1]
		}
	}
	if url == "" {
		tb.Fatalf("the bare handler's process printed no address")
	}
	go func() { _, _ = io.Copy(io.Discard, stderr) }()
	cpu0 := cpuTime(tb, cmd.Process.Pid)
	rate := driveBare(tb, url, n, body)
	return rate, (cpuTime(tb, cmd.Process.Pid) - cpu0) / time.Duration(n)
}

// driveBare sends n StartExecution requests of body to the bare handler
// at url with the load's clients and returns requests per second.
func driveBare(tb testing.TB, url string, n int, body []byte) float64 {
	c := newClient()
	defer c.CloseIdleConnections()
	ctx := context.Background()
	el, err := drive(n, func(int) error {
		_, err := call(ctx, c, url, "StartExecution", body)
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return float64(n) / el.Seconds()
}

// listenLoopback listens on a free loopback port.
func listenLoopback() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }
