// Package api serves the AWS Step Functions API over the AWS JSON 1.0
// protocol: POST / with X-Amz-Target "AWSStepFunctions.<Action>" and
// Content-Type application/x-amz-json-1.0, timestamps as epoch seconds and
// errors shaped {"__type", "message"} (see errors.go). It translates
// requests to store and engine calls. SigV4 signatures are not verified.
package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/stepwell/stepwell/arn"
	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/integrations/tasktoken"
	"github.com/stepwell/stepwell/store"
)

// maxRequestBytes bounds a request body: AWS allows 1 MB per request; a
// definition may itself be 1 MB, so the envelope gets some room.
const maxRequestBytes = 4 << 20

// Config configures a Server.
type Config struct {
	Store  store.Store    // required: state machines and Standard executions
	Engine *engine.Engine // required
	// Partition, Region and Account build ARNs (defaults aws, us-east-1,
	// 123456789012).
	Partition, Region, Account string
	// Express keeps the Express executions started with StartExecution
	// (and their histories) for DescribeExecution and GetExecutionHistory:
	// typically a capped in-memory store. Nil keeps them in Store.
	Express store.Store
	// ExpressHistory also records the executions of StartSyncExecution
	// (their row and history) in Express, for DescribeExecution and
	// GetExecutionHistory. Off, a synchronous execution keeps no history
	// and stores nothing (the fastest path).
	ExpressHistory bool
	// MaxExpressDuration ends Express executions that run longer (default
	// 5 minutes, AWS's limit).
	MaxExpressDuration time.Duration
	// Versions keeps versions, aliases, tags and Map Runs. Nil uses Store
	// if it implements store.Versions; otherwise those operations answer
	// UnsupportedOperation.
	Versions store.Versions
	// TestCases binds executions started with a state machine ARN ending
	// in #<test case> to that mock test case (integrations/mock). Nil: such
	// ARNs are invalid, as on AWS.
	TestCases TestCaseBinder
	// Activities stores activities. Nil uses Store if it implements
	// store.ActivityStore; otherwise activity operations answer
	// UnsupportedOperation.
	Activities store.ActivityStore
	// Tasks holds the open activity and .waitForTaskToken tasks; the
	// engine's invoker must route those tasks to the same broker. Nil
	// makes one over Activities (then only the API side works).
	Tasks *tasktoken.Broker
	// PollTimeout is how long GetActivityTask waits for a task (default
	// 60 s, AWS's long poll).
	PollTimeout time.Duration
	// Now returns the current time (default time.Now).
	Now func() time.Time
	// Logger receives request failures (default: discard).
	Logger *slog.Logger
}

// Server is the Step Functions API as an http.Handler.
type Server struct {
	st       store.Store
	express  store.Store
	ver      store.Versions
	acts     store.ActivityStore
	tasks    *tasktoken.Broker
	pollWait time.Duration
	eng      *engine.Engine
	scope    arn.Scope
	now      func() time.Time
	log      *slog.Logger
	maxExpr  time.Duration
	mocks    TestCaseBinder
	syncHist bool // Config.ExpressHistory

	ctx    context.Context // parent of every execution started
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	runs     map[string]*engine.Run       // running executions by ARN
	machines map[string]*asl.StateMachine // compiled definitions by ARN + revision
}

// New returns a Server. Call Close to stop its running executions.
func New(cfg Config) *Server {
	s := &Server{
		mocks:    cfg.TestCases,
		st:       cfg.Store,
		eng:      cfg.Engine,
		scope:    arn.Scope{Partition: cfg.Partition, Region: cfg.Region, Account: cfg.Account},
		now:      cfg.Now,
		log:      cfg.Logger,
		runs:     make(map[string]*engine.Run),
		machines: make(map[string]*asl.StateMachine),
	}
	if s.scope.Partition == "" {
		s.scope.Partition = "aws"
	}
	if s.scope.Region == "" {
		s.scope.Region = "us-east-1"
	}
	if s.scope.Account == "" {
		s.scope.Account = "123456789012"
	}
	s.maxExpr = cfg.MaxExpressDuration
	if s.maxExpr <= 0 {
		s.maxExpr = 5 * time.Minute
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.ver = cfg.Versions
	if s.ver == nil {
		s.ver, _ = cfg.Store.(store.Versions)
	}
	s.acts = cfg.Activities
	if s.acts == nil {
		s.acts, _ = cfg.Store.(store.ActivityStore)
	}
	s.tasks = cfg.Tasks
	if s.tasks == nil && s.acts != nil {
		s.tasks = tasktoken.New(s.acts)
	}
	s.pollWait = cfg.PollTimeout
	s.express, s.syncHist = cfg.Express, cfg.ExpressHistory
	if s.express == nil {
		s.express = cfg.Store
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

// Close cancels every running execution and waits until their goroutines
// have finished recording, or ctx is done.
func (s *Server) Close(ctx context.Context) error {
	s.cancel()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type handler func(s *Server, ctx context.Context, body []byte) (any, error)

var handlers map[string]handler

func init() {
	handlers = map[string]handler{
		"CreateStateMachine":               (*Server).createStateMachine,
		"DescribeStateMachine":             (*Server).describeStateMachine,
		"UpdateStateMachine":               (*Server).updateStateMachine,
		"DeleteStateMachine":               (*Server).deleteStateMachine,
		"ListStateMachines":                (*Server).listStateMachines,
		"ValidateStateMachineDefinition":   (*Server).validateDefinition,
		"StartExecution":                   (*Server).startExecution,
		"StartSyncExecution":               (*Server).startSyncExecution,
		"StopExecution":                    (*Server).stopExecution,
		"DescribeExecution":                (*Server).describeExecution,
		"ListExecutions":                   (*Server).listExecutions,
		"GetExecutionHistory":              (*Server).getExecutionHistory,
		"DescribeStateMachineForExecution": (*Server).describeStateMachineForExecution,
		"ListTagsForResource":              (*Server).listTagsForResource,
		"TagResource":                      (*Server).tagResource,
		"UntagResource":                    (*Server).untagResource,
		"PublishStateMachineVersion":       (*Server).publishStateMachineVersion,
		"ListStateMachineVersions":         (*Server).listStateMachineVersions,
		"DeleteStateMachineVersion":        (*Server).deleteStateMachineVersion,
		"CreateStateMachineAlias":          (*Server).createStateMachineAlias,
		"DescribeStateMachineAlias":        (*Server).describeStateMachineAlias,
		"UpdateStateMachineAlias":          (*Server).updateStateMachineAlias,
		"DeleteStateMachineAlias":          (*Server).deleteStateMachineAlias,
		"ListStateMachineAliases":          (*Server).listStateMachineAliases,
		"DescribeMapRun":                   (*Server).describeMapRun,
		"ListMapRuns":                      (*Server).listMapRuns,
		"UpdateMapRun":                     (*Server).updateMapRun,
		"TestState":                        (*Server).testState,
		"RedriveExecution":                 (*Server).redriveExecution,
		"CreateActivity":                   (*Server).createActivity,
		"DescribeActivity":                 (*Server).describeActivity,
		"DeleteActivity":                   (*Server).deleteActivity,
		"ListActivities":                   (*Server).listActivities,
		"GetActivityTask":                  (*Server).getActivityTask,
		"SendTaskSuccess":                  (*Server).sendTaskSuccess,
		"SendTaskFailure":                  (*Server).sendTaskFailure,
		"SendTaskHeartbeat":                (*Server).sendTaskHeartbeat,
	}
}

// notYet lists the operations of the Step Functions API that Stepwell does
// not implement yet; they answer UnsupportedOperation.
var notYet = map[string]bool{}

const targetPrefix = "AWSStepFunctions."

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-amzn-RequestId", newUUID())
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, apiErr("UnknownOperationException", "Only POST requests are accepted"))
		return
	}
	action, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	h := handlers[action]
	if !ok || h == nil {
		if ok && notYet[action] {
			writeError(w, apiErr("UnsupportedOperation", "%s is not supported by Stepwell yet", action))
			return
		}
		writeError(w, apiErr("UnknownOperationException", ""))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes+1))
	if err != nil {
		writeError(w, apiErr("SerializationException", "could not read the request body"))
		return
	}
	if len(body) > maxRequestBytes {
		writeError(w, errValidation("Request size exceeds the maximum allowed size"))
		return
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	out, err := h(s, r.Context(), body)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			s.log.Error("request failed", "action", action, "err", err)
		}
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"__type":"com.amazon.coral.service#InternalFailure","message":"could not encode the response"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// decode unmarshals a request body. Any JSON error is a
// SerializationException, as AWS answers malformed or mistyped members.
func decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return apiErr("SerializationException", "Unexpected value for member '%s': expected %s", te.Field, te.Type.String())
		}
		return apiErr("SerializationException", "Malformed request body: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

// epoch is a timestamp encoded as epoch seconds.
type epoch time.Time

func (t epoch) MarshalJSON() ([]byte, error) {
	return []byte(history.EpochSeconds(time.Time(t))), nil
}

func epochPtr(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(t)
	return &e
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

// pageSize turns maxResults into a page size: 0 or absent means 100.
func pageSize(maxResults *int64) int {
	if maxResults == nil || *maxResults == 0 {
		return 100
	}
	return int(*maxResults)
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// storeErr maps store sentinels that every caller treats alike.
func storeErr(err error) error {
	if errors.Is(err, store.ErrInvalidToken) {
		return errInvalidToken()
	}
	return err
}
