package hostile

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// buildServer builds the stepwell binary once per test binary.
var buildServer = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "stepwell-hostile-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "stepwell")
	build := exec.Command("go", "build", "-o", bin, "./cmd/stepwell")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build stepwell: %v\n%s", err, out)
	}
	return bin, nil
})

// server is a `stepwell serve` process whose resident memory is sampled
// while it runs.
type server struct {
	t      *testing.T
	url    string
	cmd    *exec.Cmd
	log    *lockedBuffer
	done   chan struct{}
	maxRSS atomic.Int64 // bytes, the highest VmRSS sampled
	stop   chan struct{}
	client *http.Client
	once   sync.Once // shutdown
}

// lockedBuffer is a log the process writes and the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServer starts stepwell serve with args (besides --addr) and waits
// until it answers.
func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	bin, err := buildServer()
	if err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	s := &server{t: t, url: "http://" + addr + "/", log: &lockedBuffer{}, done: make(chan struct{}), stop: make(chan struct{}),
		client: &http.Client{Timeout: 60 * time.Second}}
	if pp := os.Getenv("STEPWELL_HOSTILE_PPROF"); pp != "" {
		args = append(args, "--pprof", pp) // to profile the server under the suite
	}
	s.cmd = exec.Command(bin, append([]string{"serve", "--addr", addr}, args...)...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	go s.sample()
	t.Cleanup(s.shutdown)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		select {
		case <-s.done:
			t.Fatalf("stepwell exited at start:\n%s", s.log.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("stepwell did not answer /healthz within 30s:\n%s", s.log.String())
		}
	}
}

// sample reads the process's VmRSS every 10 ms until it ends.
func (s *server) sample() {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if rss, _ := s.status("VmRSS"); rss > s.maxRSS.Load() {
			s.maxRSS.Store(rss)
		}
		select {
		case <-s.done:
			return
		case <-s.stop:
			return
		case <-tick.C:
		}
	}
}

// status reads a memory field (VmRSS, VmHWM) of /proc/PID/status, in bytes.
func (s *server) status(field string) (int64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(s.cmd.Process.Pid) + "/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New(field + " not found")
}

// alive fails the test if the process has exited.
func (s *server) alive() {
	select {
	case <-s.done:
		s.t.Fatalf("stepwell exited (%v):\n%s", s.cmd.ProcessState, tailOf(s.log.String()))
	default:
	}
}

func (s *server) shutdown() { s.once.Do(s.stopProcess) }

func (s *server) stopProcess() {
	select {
	case <-s.done:
	default:
		_ = s.cmd.Process.Signal(os.Interrupt)
		select {
		case <-s.done:
		case <-time.After(15 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	}
	close(s.stop)
	for _, bad := range []string{"panic:", "fatal error:", "DATA RACE"} {
		if log := s.log.String(); strings.Contains(log, bad) {
			s.t.Errorf("server log has %q:\n%s", bad, tailOf(log[strings.Index(log, bad):]))
		}
	}
}

func tailOf(s string) string {
	if len(s) > 6000 {
		return "…" + s[len(s)-6000:]
	}
	return s
}

// response is an API answer.
type response struct {
	status int
	body   []byte
}

// errType is the error's __type without its namespace ("" for none).
func (r response) errType() string {
	var e struct {
		Type string `json:"__type"`
	}
	_ = json.Unmarshal(r.body, &e)
	if i := strings.LastIndexByte(e.Type, '#'); i >= 0 {
		return e.Type[i+1:]
	}
	return e.Type
}

// raw sends body to the API with the AWS JSON 1.0 headers of op (when op is
// not "") and hdr, and returns the answer.
func (s *server) raw(ctx context.Context, op string, body []byte, hdr map[string]string) (response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	if op != "" {
		req.Header.Set("X-Amz-Target", "AWSStepFunctions."+op)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, body: b}, err
}

// call sends op with a JSON body built from in and decodes the answer into
// out (when the answer is 200 and out is not nil).
func (s *server) call(op string, in any, out any) (response, error) {
	b, err := json.Marshal(in)
	if err != nil {
		return response{}, err
	}
	r, err := s.raw(context.Background(), op, b, nil)
	if err == nil && r.status == 200 && out != nil {
		err = json.Unmarshal(r.body, out)
	}
	return r, err
}

// must calls op and fails the test unless it answers 200.
func (s *server) must(op string, in any, out any) {
	s.t.Helper()
	r, err := s.call(op, in, out)
	if err != nil || r.status != 200 {
		s.t.Fatalf("%s: %v %d %s", op, err, r.status, r.body)
	}
}
