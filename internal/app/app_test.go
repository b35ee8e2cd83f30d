package app_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepwell/stepwell/internal/app"
)

func TestDefaultConfig_Valid(t *testing.T) {
	c := app.DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Addr != app.DefaultAddr || c.Store != "" || c.DataDir != "" || c.Retention != 90*24*time.Hour ||
		c.MaxHistoryEvents != 25000 || c.MaxPayloadBytes != 262144 || c.AccountID != "123456789012" || c.Region != "us-east-1" || c.TimeScale != 1 {
		t.Fatalf("defaults %+v", c)
	}
}

func TestConfig_Validate(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(c *app.Config)
		fields []string
	}{
		{"no port", func(c *app.Config) { c.Addr = "localhost" }, []string{"addr"}},
		{"bad port", func(c *app.Config) { c.Addr = ":99999" }, []string{"addr"}},
		{"free port", func(c *app.Config) { c.Addr = "127.0.0.1:0" }, nil},
		{"store", func(c *app.Config) { c.Store = "redis" }, []string{"store"}},
		{"store scheme", func(c *app.Config) { c.Store = "redis://localhost" }, []string{"store"}},
		{"store sqlite empty", func(c *app.Config) { c.Store = "sqlite://" }, []string{"store"}},
		{"store memory", func(c *app.Config) { c.Store = "memory" }, nil},
		{"store sqlite", func(c *app.Config) { c.Store = "sqlite:///var/lib/stepwell/s.db" }, nil},
		{"store path", func(c *app.Config) { c.Store = "./s.db" }, nil},
		{"store postgres", func(c *app.Config) { c.Store = "postgres://u:p@localhost/db" }, nil},
		{"retention", func(c *app.Config) { c.Retention = -time.Hour }, []string{"retention"}},
		{"retention off", func(c *app.Config) { c.Retention = 0 }, nil},
		{"limits", func(c *app.Config) { c.MaxHistoryEvents = 0; c.MaxPayloadBytes = -1 }, []string{"max-history-events", "max-payload-bytes"}},
		{"lambda", func(c *app.Config) { c.LambdaEndpoint = "localhost:9001" }, []string{"lambda-endpoint"}},
		{"lambda ok", func(c *app.Config) { c.LambdaEndpoint = "http://127.0.0.1:9001" }, nil},
		{"account", func(c *app.Config) { c.AccountID = "12" }, []string{"account-id"}},
		{"region", func(c *app.Config) { c.Region = "mars" }, []string{"region"}},
		{"scale zero", func(c *app.Config) { c.TimeScale = 0 }, []string{"time-scale"}},
		{"pprof", func(c *app.Config) { c.Pprof = "localhost" }, []string{"pprof"}},
		{"pprof port", func(c *app.Config) { c.Pprof = ":70000" }, []string{"pprof"}},
		{"pprof ok", func(c *app.Config) { c.Pprof = "127.0.0.1:6060" }, nil},
		{"several", func(c *app.Config) { c.Store = "x"; c.Region = ""; c.TimeScale = -1 }, []string{"store", "region", "time-scale"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := app.DefaultConfig()
			tt.edit(&c)
			err := c.Validate()
			var got []string
			for _, e := range unwrapAll(err) {
				var fe *app.FieldError
				if !errors.As(e, &fe) {
					t.Fatalf("%v is not a *FieldError", e)
				}
				got = append(got, fe.Field)
			}
			if strings.Join(got, ",") != strings.Join(tt.fields, ",") {
				t.Fatalf("fields %v, want %v (%v)", got, tt.fields, err)
			}
		})
	}
}

func unwrapAll(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// syncBuffer is a concurrency-safe log sink.
type syncBuffer struct {
	mu    sync.Mutex
	b     strings.Builder
	wrote chan struct{} // if set, told (without blocking) of each write
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case s.wrote <- struct{}{}:
	default:
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// running is a server that app.Run serves in the background (startRun).
type running struct {
	logs   *syncBuffer
	done   chan error // Run's result
	cancel context.CancelFunc
}

// startRun runs app.Run with cfg in the background until its lines match
// re, and returns it with re's submatches.
func startRun(t *testing.T, cfg app.Config, re *regexp.Regexp) (*running, []string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{logs: &syncBuffer{wrote: make(chan struct{}, 1)}, done: make(chan error, 1), cancel: cancel}
	go func() { r.done <- app.Run(ctx, cfg, r.logs) }()
	for timeout := time.After(10 * time.Second); ; {
		if m := re.FindStringSubmatch(r.logs.String()); m != nil {
			return r, m
		}
		select {
		case <-r.logs.wrote: // look again
		case err := <-r.done:
			cancel()
			t.Fatalf("Run returned %v before it listened: %s", err, r.logs.String())
		case <-timeout:
			cancel()
			t.Fatalf("no address printed: %s", r.logs.String())
		}
	}
}

// TestRun_StopClosesUnusedConnections: a connection on which no request
// has begun (a client's preconnect) does not hold the stop up: the server
// closes it when it shuts down, where http.Server.Shutdown alone waited
// until it was 5 seconds old.
func TestRun_StopClosesUnusedConnections(t *testing.T) {
	cfg := app.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	r, m := startRun(t, cfg, regexp.MustCompile(`listening on http://(\S+)`))
	addr := m[1]
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The server has accepted it once a request on another connection
	// is answered (one accept loop, in order).
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	r.cancel()
	// Closed by the server at once; the deadline only bounds a failure
	// (before, the server held it until it was 5 seconds old).
	_ = conn.SetReadDeadline(time.Now().Add(4 * time.Second))
	if n, err := conn.Read(make([]byte, 1)); n != 0 || !errors.Is(err, io.EOF) {
		t.Errorf("read from the unused connection after the stop: %d bytes, %v; want EOF (closed by the server)", n, err)
	}
	if err := <-r.done; err != nil {
		t.Fatal(err)
	}
}

func TestRun_ServesUntilCancelled(t *testing.T) {
	cfg := app.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.Pprof = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	r, m := startRun(t, cfg, regexp.MustCompile(`listening on (http://\S+)`))
	base, logs, done, cancel := m[1], r.logs, r.done, r.cancel
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "ok\n" {
		t.Fatalf("healthz %d %q", resp.StatusCode, b)
	}
	resp, err = http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "ok\n" {
		t.Fatalf("readyz %d %q", resp.StatusCode, b)
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/", strings.NewReader("{}"))
	req.Header.Set("X-Amz-Target", "AWSStepFunctions.ListStateMachines")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != `{"stateMachines":[]}` {
		t.Fatalf("ListStateMachines %d %s", resp.StatusCode, b)
	}
	// The profiles are served on their own address (printed before the
	// API's), never on the API's.
	m = regexp.MustCompile(`pprof on (http://\S+)/debug/pprof/`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("no pprof address printed: %s", logs.String())
	}
	for _, c := range []struct {
		url  string
		code int
	}{{m[1] + "/debug/pprof/cmdline", 200}, {base + "/debug/pprof/cmdline", 404}} {
		resp, err := http.Get(c.url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.code {
			t.Errorf("GET %s: %d, want %d", c.url, resp.StatusCode, c.code)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	// The start-up lines say where tasks go; the last lines, that it
	// stopped and what becomes of the running executions.
	for _, want := range []string{
		"stepwell: integrations: lambda none (Lambda tasks fail: --lambda-endpoint); aws services ",
		"stepwell: shutting down",
		"stepwell: stopped; running Standard executions resume at the next start\n",
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("no %q in the server's lines:\n%s", want, logs.String())
		}
	}
}

func TestRun_InvalidConfig(t *testing.T) {
	cfg := app.DefaultConfig()
	cfg.Store = "nope"
	if err := app.Run(context.Background(), cfg, io.Discard); err == nil || !strings.Contains(err.Error(), "store") {
		t.Fatalf("error %v", err)
	}
}
