// Package api serves the AWS Step Functions API over the AWS JSON 1.0
// protocol: POST / with X-Amz-Target "AWSStepFunctions.<Action>" and
// Content-Type application/x-amz-json-1.0, timestamps as epoch seconds and
// errors shaped {"__type", "message"} (see errors.go). Each operation
// decodes and validates its request, calls the store (state machines,
// versions, aliases, activities) or the executions service (starting,
// stopping, redriving executions, task tokens), and encodes the answer.
// Authenticated verifies AWS Signature Version 4 (package sigv4) in front
// of it, with AWS's errors; page tokens are opaque and bound to the
// listing that handed them out (pagetoken.go).
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"time"

	"github.com/stepwell/stepwell/api/internal/awsapi"
	"github.com/stepwell/stepwell/arn"
	"github.com/stepwell/stepwell/executions"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/internal/uuid"
	"github.com/stepwell/stepwell/store"
)

// maxRequestBytes bounds a request body: AWS allows 1 MB per request; a
// definition may itself be 1 MB, so the envelope gets some room.
const maxRequestBytes = 4 << 20

// Config configures a Server.
type Config struct {
	// Store keeps the state machines (required).
	Store store.Store
	// Executions runs the executions (required): StartExecution,
	// StopExecution, RedriveExecution, the task token operations, and
	// the Standard and Express executions the Describe and List
	// operations read.
	Executions *executions.Service
	// Partition, Region and Account build ARNs (defaults aws, us-east-1,
	// 123456789012).
	Partition, Region, Account string
	// Versions keeps versions, aliases, tags and Map Runs; nil: those
	// operations answer UnsupportedOperation. It is not looked for on
	// Store: a store that keeps versions is given here too.
	Versions store.Versions
	// Activities stores activities; nil: activity operations answer
	// UnsupportedOperation. It is not looked for on Store either.
	Activities store.ActivityStore
	// Now returns the current time (default time.Now).
	Now func() time.Time
	// Logger receives request failures (default: discard).
	Logger *slog.Logger
	// BodyTimeout bounds how long a request body may take to arrive
	// (default 30 s): a client that sends half a body does not hold its
	// connection and handler for longer.
	BodyTimeout time.Duration
	// PageTokenKey seals the page tokens (pagetoken.go); give the same
	// key after a restart for the tokens handed out before to stay valid
	// (default: a random key).
	PageTokenKey []byte
}

// Server is the Step Functions API as an http.Handler.
type Server struct {
	st    store.Store
	ver   store.Versions
	acts  store.ActivityStore
	exec  *executions.Service
	scope arn.Scope
	now   func() time.Time
	log   *slog.Logger
	// pageKey seals page tokens.
	pageKey []byte
	// bodyTimeout bounds the reading of a body.
	bodyTimeout time.Duration
}

// New returns a Server.
func New(cfg Config) *Server {
	s := &Server{
		st:    cfg.Store,
		exec:  cfg.Executions,
		scope: arn.Scope{Partition: cfg.Partition, Region: cfg.Region, Account: cfg.Account}.WithDefaults(),
		ver:   cfg.Versions,
		acts:  cfg.Activities,
		now:   cfg.Now,
		log:   cfg.Logger,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.bodyTimeout = cfg.BodyTimeout; s.bodyTimeout <= 0 {
		s.bodyTimeout = defaultBodyTimeout
	}
	if s.pageKey = cfg.PageTokenKey; len(s.pageKey) == 0 {
		s.pageKey = newPageKey()
	}
	return s
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

// requestIDHeader is the canonical form of x-amzn-RequestId, the key that
// Header.Set would compute on every request.
var requestIDHeader = http.CanonicalHeaderKey("x-amzn-RequestId")

// ServeHTTP implements http.Handler. It serves every request as it
// comes, without authentication: the network's handler is Authenticated's.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := s.readBody(w, r)
	if err != nil {
		w.Header()[requestIDHeader] = []string{uuid.New()}
		writeError(w, err)
		return
	}
	s.serve(w, r, body)
}

// defaultBodyTimeout is Config.BodyTimeout's default (the server bounds
// the headers' time).
const defaultBodyTimeout = 30 * time.Second

// readBody reads a request body of at most maxRequestBytes, within the
// body timeout. A body declared larger is refused before any of it is
// read; one that turns out larger is refused once the limit is passed.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	// A body not read to its end is not read after the answer either: the
	// connection closes (net/http would otherwise try to drain it first).
	if r.ContentLength > maxRequestBytes {
		w.Header().Set("Connection", "close")
		return nil, errValidation("Request size exceeds the maximum allowed size")
	}
	rc := http.NewResponseController(w)
	// Not every ResponseWriter has deadlines (the in-process callers'
	// have none): then the body is already in memory.
	deadline := rc.SetReadDeadline(time.Now().Add(s.bodyTimeout)) == nil
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes+1))
	if err != nil {
		w.Header().Set("Connection", "close")
		return nil, awsapi.SerializationException("could not read the request body")
	}
	if len(body) > maxRequestBytes {
		w.Header().Set("Connection", "close")
		return nil, errValidation("Request size exceeds the maximum allowed size")
	}
	// Read to its end: closed now, net/http does not try to drain it
	// before the answer (a copy through a pooled buffer per request).
	_ = r.Body.Close()
	// Over HTTP/1, net/http clears the deadline itself once the body is
	// read to its end (it then watches the connection for the client
	// going away): clearing it here too would cost every request a
	// second deadline change for nothing.
	if deadline && r.ProtoMajor != 1 {
		_ = rc.SetReadDeadline(time.Time{})
	}
	return body, nil
}

// serve answers a request whose body has been read.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, body []byte) {
	w.Header()[requestIDHeader] = []string{uuid.New()}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, awsapi.UnknownOperationException("Only POST requests are accepted"))
		return
	}
	action, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	h := handlers[action]
	if !ok || h == nil {
		if ok && notYet[action] {
			writeError(w, awsapi.UnsupportedOperation(action+" is not supported by Stepwell yet"))
			return
		}
		writeError(w, awsapi.UnknownOperationException(""))
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

// rawJSON is an answer already encoded, byte for byte as json.Marshal
// would encode it; writeJSON writes it as is.
type rawJSON []byte

// jsonContentType is the Content-Type of every answer (never modified).
var jsonContentType = []string{"application/x-amz-json-1.0"}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var b []byte
	if r, ok := v.(rawJSON); ok {
		b = r
	} else {
		var err error
		if b, err = json.Marshal(v); err != nil {
			status = http.StatusInternalServerError
			b = []byte(`{"__type":"com.amazon.coral.service#InternalFailure","message":"could not encode the response"}`)
		}
	}
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Date"] = dateHeader(time.Now())
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// answerDate is the Date header of the answers of one second (never
// modified).
type answerDate struct {
	sec int64
	v   []string
}

var answerDates atomic.Pointer[answerDate]

// dateHeader is the Date header of an answer at now, formatted once a
// second: net/http otherwise formats it at every answer (~2 % of a
// StartExecution's CPU).
func dateHeader(now time.Time) []string {
	sec := now.Unix()
	if d := answerDates.Load(); d != nil && d.sec == sec {
		return d.v
	}
	d := &answerDate{sec: sec, v: []string{now.UTC().Format(http.TimeFormat)}}
	answerDates.Store(d)
	return d.v
}

// decode unmarshals a request body. Any JSON error is a
// SerializationException, as AWS answers malformed or mistyped members.
func decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return awsapi.SerializationException("Unexpected value for member '" + te.Field + "': expected " + jsonKind(te.Type))
		}
		return awsapi.SerializationException("Malformed request body: " + strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

// jsonKind names the JSON value a member needs: "a structure" or "a list"
// for the input shapes' structures and lists (not Go's type names, which
// say nothing to a caller), Go's name (string, int64, bool, float64) for
// the others.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Struct:
		return "a structure"
	case reflect.Slice:
		return "a list"
	}
	return t.String()
}

// plainJSON tells whether s is encoded by json.Marshal as itself between
// quotes: printable ASCII without '"', '\' and the characters it escapes
// for HTML ('<', '>', '&').
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c > 0x7e, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
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
