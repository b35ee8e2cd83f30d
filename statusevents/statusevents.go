// Package statusevents sends execution status change events, shaped as
// the "Step Functions Execution Status Change" events AWS sends to
// Amazon EventBridge, to HTTP endpoints the operator configures, so that
// other systems can react to executions starting and ending:
//
//	{"version":"0","id":"…","detail-type":"Step Functions Execution Status Change",
//	 "source":"aws.states","account":"123456789012","time":"2026-12-07T04:00:00Z",
//	 "region":"us-east-1","resources":["arn:aws:states:…:execution:orders:o-1"],
//	 "detail":{"executionArn":"…","stateMachineArn":"…","name":"o-1","status":"SUCCEEDED",
//	           "startDate":1796616000000,"stopDate":1796616000042,"input":"{}",
//	           "inputDetails":{"included":true},"output":"{}","outputDetails":{"included":true},
//	           "error":null,"cause":null,"redriveCount":0,…}}
//
// As on AWS, Standard executions send one event when they start (RUNNING)
// or are redriven (RUNNING again) and one when they end (SUCCEEDED,
// FAILED, TIMED_OUT or ABORTED); Express executions send none. Each event
// is POSTed as JSON to every endpoint.
//
// Delivery never blocks nor slows an execution. Each endpoint has a
// bounded queue and a goroutine of its own: an event that finds the queue
// full is dropped (and counted), the others are sent in order, each
// retried with exponential backoff on network errors, 408, 429 and 5xx
// answers, up to a number of attempts, then given up (and counted). AWS
// promises no more ("best effort" delivery), and a slow endpoint never
// holds the others back.
//
// Sender implements executions.Observer: it sees the histories as they are
// recorded, through the executions service's one port.
package statusevents

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stepwell/stepwell/executions"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/internal/uuid"
	"github.com/stepwell/stepwell/store"
)

// Defaults of Config.
const (
	DefaultQueueLength = 10000
	DefaultMaxAttempts = 8
	DefaultMinBackoff  = 200 * time.Millisecond
	DefaultMaxBackoff  = 30 * time.Second
	DefaultTimeout     = 10 * time.Second
)

// Statuses are the statuses events are sent for.
var Statuses = []string{store.StatusRunning, store.StatusSucceeded, store.StatusFailed, store.StatusTimedOut, store.StatusAborted}

// Config configures a Sender.
type Config struct {
	// Endpoints are the http:// or https:// URLs every event is POSTed to.
	Endpoints []string
	// Statuses, when not empty, are the only statuses whose events are
	// sent (a subset of Statuses).
	Statuses []string
	// Client sends the requests (default: one with DefaultTimeout).
	Client *http.Client
	// Lookup reads an execution's row: the input and start date of an
	// execution resumed after a restart or redriven, whose ExecutionStarted
	// the watcher did not see (nil: they are left null and the change's
	// time).
	Lookup func(ctx context.Context, executionARN string) (*store.Execution, error)
	// Logger is told of events given up and dropped (nil: discarded).
	Logger *slog.Logger
	// QueueLength is how many events may wait for each endpoint
	// (default DefaultQueueLength).
	QueueLength int
	// MaxAttempts is how many times an event is sent before it is given
	// up (default DefaultMaxAttempts).
	MaxAttempts int
	// MinBackoff and MaxBackoff bound the wait before each retry: it
	// doubles from MinBackoff up to MaxBackoff, with up to 20 % jitter.
	MinBackoff, MaxBackoff time.Duration
}

// ParseEndpoints parses a comma-separated list of endpoint URLs.
func ParseEndpoints(list string) ([]string, error) {
	var out []string
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("%q is not an http:// or https:// URL", Redact(s))
		}
		out = append(out, s)
	}
	return out, nil
}

// ParseStatuses parses a comma-separated list of statuses (case
// insensitive); "" is every status.
func ParseStatuses(list string) ([]string, error) {
	var out []string
	for _, s := range strings.Split(list, ",") {
		s = strings.ToUpper(strings.TrimSpace(s))
		if s == "" {
			continue
		}
		ok := false
		for _, st := range Statuses {
			ok = ok || s == st
		}
		if !ok {
			return nil, fmt.Errorf("unknown status %q (known: %s)", s, strings.Join(Statuses, ", "))
		}
		out = append(out, s)
	}
	return out, nil
}

// Redact hides what may be a secret in an endpoint's URL, for logs and
// metrics: its user info and the values of its query parameters.
func Redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	masked := u.User != nil
	u.User = nil
	if u.RawQuery != "" {
		parts := strings.Split(u.RawQuery, "&")
		for i, p := range parts {
			if k, _, ok := strings.Cut(p, "="); ok {
				parts[i] = k + "=***"
			}
		}
		u.RawQuery = strings.Join(parts, "&")
	}
	out := u.String()
	if masked {
		out = strings.Replace(out, "://", "://***@", 1)
	}
	return out
}

// Sender sends the status change events. It implements
// executions.Observer. Close it to deliver what is queued.
type Sender struct {
	endpoints []*endpoint
	statuses  map[string]bool // nil: all
	lookup    func(context.Context, string) (*store.Execution, error)
	log       *slog.Logger
	ctx       context.Context // cancelled by Close after its deadline
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	mu        sync.RWMutex // held to enqueue, and to close the queues
	closed    bool
}

var _ executions.Observer = (*Sender)(nil)

// endpoint is one destination, with its queue and counts.
type endpoint struct {
	url, name   string // name: redacted
	queue       chan *pending
	client      *http.Client
	maxAttempts int
	minBackoff  time.Duration
	maxBackoff  time.Duration
	delivered   atomic.Uint64
	retried     atomic.Uint64
	failed      atomic.Uint64
	dropped     atomic.Uint64
}

// New returns a Sender and starts a goroutine per endpoint.
func New(c Config) (*Sender, error) {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Client == nil {
		c.Client = &http.Client{Timeout: DefaultTimeout}
	}
	if c.QueueLength <= 0 {
		c.QueueLength = DefaultQueueLength
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = max(DefaultMaxBackoff, c.MinBackoff)
	}
	s := &Sender{lookup: c.Lookup, log: c.Logger}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if len(c.Statuses) > 0 {
		s.statuses = make(map[string]bool)
		for _, st := range c.Statuses {
			s.statuses[st] = true
		}
	}
	for _, u := range c.Endpoints {
		if _, err := ParseEndpoints(u); err != nil {
			return nil, err
		}
		e := &endpoint{url: u, name: Redact(u), queue: make(chan *pending, c.QueueLength), client: c.Client,
			maxAttempts: c.MaxAttempts, minBackoff: c.MinBackoff, maxBackoff: c.MaxBackoff}
		s.endpoints = append(s.endpoints, e)
		s.wg.Add(1)
		go s.deliver(e)
	}
	return s, nil
}

// Close stops taking events and delivers the queued ones until ctx is
// done; what is left then (waiting, or being retried) is given up.
func (s *Sender) Close(ctx context.Context) error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		for _, e := range s.endpoints {
			close(e.queue)
		}
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.cancel()
		<-done
	}
	s.cancel()
	return nil
}

// Stats are an endpoint's counts.
type Stats struct {
	// Endpoint is the endpoint's URL, redacted (Redact).
	Endpoint string
	// Delivered events were answered 2xx; Retried counts the attempts
	// after a first one failed; Failed events were given up after their
	// attempts (or at Close); Dropped events found the queue full; Queued
	// events wait.
	Delivered, Retried, Failed, Dropped, Queued uint64
}

// Stats returns each endpoint's counts, in the order of Config.Endpoints.
func (s *Sender) Stats() []Stats {
	out := make([]Stats, len(s.endpoints))
	for i, e := range s.endpoints {
		out[i] = Stats{Endpoint: e.name, Delivered: e.delivered.Load(), Retried: e.retried.Load(),
			Failed: e.failed.Load(), Dropped: e.dropped.Load(), Queued: uint64(len(e.queue))}
	}
	return out
}

// Watch implements executions.Observer: Standard executions are watched,
// Express ones send no events (as on AWS).
func (s *Sender) Watch(x executions.Watched) executions.Watcher {
	if x.Type == executions.TypeExpress || len(s.endpoints) == 0 {
		return nil
	}
	return &watcher{s: s, x: x, redriveCount: x.RedriveCount}
}

// Unrecorded implements executions.Observer: only synchronous Express
// executions record no history, and Express executions send no events.
func (s *Sender) Unrecorded(executions.Watched, time.Time, time.Time, string) {}

// watcher turns one execution's history into status changes.
type watcher struct {
	s            *Sender
	x            executions.Watched
	start        time.Time // zero until ExecutionStarted is seen
	input        *string
	redriveCount int64
	redriveDate  time.Time
}

// Recorded implements executions.Watcher.
func (w *watcher) Recorded(events []history.Event) {
	for i := range events {
		e := &events[i]
		c := change{at: e.Timestamp, status: store.StatusRunning}
		switch e.Type {
		case history.ExecutionStarted:
			w.start = e.Timestamp
			if d := e.ExecutionStartedEventDetails; d != nil {
				in := d.Input
				w.input = &in
			}
		case history.ExecutionRedriven:
			w.redriveDate = e.Timestamp
			if d := e.ExecutionRedrivenEventDetails; d != nil {
				w.redriveCount = d.RedriveCount
			}
		case history.ExecutionSucceeded, history.ExecutionFailed, history.ExecutionAborted, history.ExecutionTimedOut:
			end := executions.Terminal(e)
			c.status, c.output, c.errName, c.cause = end.Status, end.Output, end.Error, end.Cause
		default:
			continue
		}
		if w.s.statuses != nil && !w.s.statuses[c.status] {
			continue
		}
		c.executionARN, c.stateMachineARN, c.version, c.alias = w.x.ExecutionARN, w.x.StateMachineARN, w.x.VersionARN, w.x.AliasARN
		c.start, c.input = w.start, w.input
		c.redriveCount = w.redriveCount
		if !w.redriveDate.IsZero() {
			c.redriveDate, c.redriveAvailable = w.redriveDate, true
		} else if w.redriveCount > 0 {
			// A resumed run of a redriven execution: its Start is the
			// redrive's time.
			c.redriveDate, c.redriveAvailable = w.x.Start, true
		}
		w.s.enqueue(&pending{c: c})
	}
}

// pending is a change on its way to the endpoints; its body is built
// once, by the first endpoint that sends it.
type pending struct {
	c    change
	once sync.Once
	body []byte
}

// enqueue queues a change for every endpoint, dropping it for those whose
// queue is full (and every change once closed).
func (s *Sender) enqueue(p *pending) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, e := range s.endpoints {
		if s.closed {
			e.dropped.Add(1)
			continue
		}
		select {
		case e.queue <- p:
		default:
			if n := e.dropped.Add(1); n&(n-1) == 0 { // 1, 2, 4, 8…
				s.log.Warn("status events: the endpoint is behind, events dropped", "endpoint", e.name, "dropped", n)
			}
		}
	}
}

// lookupTimeout bounds the reading of an execution's row.
const lookupTimeout = 5 * time.Second

// bodyOf returns the JSON of a pending change.
func (s *Sender) bodyOf(p *pending) []byte {
	p.once.Do(func() {
		var row *store.Execution
		if (p.c.input == nil || p.c.start.IsZero()) && s.lookup != nil {
			ctx, cancel := context.WithTimeout(s.ctx, lookupTimeout)
			x, err := s.lookup(ctx, p.c.executionARN)
			cancel()
			if err != nil {
				s.log.Warn("status events: execution not read, its input left out", "executionArn", p.c.executionARN, "err", err)
			} else {
				row = x
			}
		}
		b, err := json.Marshal(p.c.build(uuid.New(), row))
		if err != nil { // cannot happen: strings, numbers and pointers to them
			b = nil
		}
		p.body = b
	})
	return p.body
}

// deliver sends an endpoint's events until its queue is closed.
func (s *Sender) deliver(e *endpoint) {
	defer s.wg.Done()
	for p := range e.queue {
		body := s.bodyOf(p)
		if body == nil {
			e.failed.Add(1)
			continue
		}
		if err := s.send(e, body); err != nil {
			e.failed.Add(1)
			s.log.Warn("status events: event given up", "endpoint", e.name, "executionArn", p.c.executionARN, "status", p.c.status, "err", err)
			continue
		}
		e.delivered.Add(1)
	}
}

// errPermanent marks an answer not worth retrying.
var errPermanent = errors.New("not retried")

// send POSTs body to the endpoint, retrying as the package says.
func (s *Sender) send(e *endpoint, body []byte) error {
	backoff := e.minBackoff
	var err error
	for attempt := 1; ; attempt++ {
		if err = s.post(e, body); err == nil || errors.Is(err, errPermanent) {
			return err
		}
		if attempt >= e.maxAttempts {
			return fmt.Errorf("%d attempts: %w", attempt, err)
		}
		wait := backoff + time.Duration(rand.Int64N(int64(backoff)/5+1))
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-s.ctx.Done():
			t.Stop()
			return fmt.Errorf("server stopping after %d attempts: %w", attempt, err)
		}
		e.retried.Add(1)
		backoff = min(2*backoff, e.maxBackoff)
	}
}

// post sends one attempt.
func (s *Sender) post(e *endpoint, body []byte) error {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, e.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %v", errPermanent, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "stepwell-status-events")
	resp, err := e.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL and its secrets
		}
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	switch code := resp.StatusCode; {
	case code >= 200 && code <= 299:
		return nil
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		return fmt.Errorf("answered %d", code)
	default:
		return fmt.Errorf("%w: answered %s", errPermanent, strconv.Itoa(code))
	}
}
