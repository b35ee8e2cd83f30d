// Package logs writes execution logs the way Step Functions writes them to
// CloudWatch Logs: each state machine's loggingConfiguration is honoured
// (level ALL, ERROR, FATAL or OFF, and includeExecutionData), and each
// history event the level selects becomes one JSON record shaped as AWS's:
//
//	{"id":"1","type":"ExecutionStarted","details":{...},"previous_event_id":"0",
//	 "event_timestamp":"1733540400000","execution_arn":"arn:...","redrive_count":"0"}
//
// The records go to a Sink the operator chooses: one stream (standard
// output, a file) or a directory holding one file per log group. Writer
// implements executions.Observer: it sees the histories as they are
// recorded, through the executions service's one port.
package logs

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stepwell/stepwell/executions"
	"github.com/stepwell/stepwell/history"
)

// Levels of a LoggingConfiguration.
const (
	LevelAll   = "ALL"
	LevelError = "ERROR"
	LevelFatal = "FATAL"
	LevelOff   = "OFF"
)

// Sink receives the records of the executions whose state machines log to
// logGroup (the name in the log group's ARN). Its methods are called
// concurrently.
type Sink interface {
	Write(logGroup string, record []byte) error
}

// Writer writes the execution logs to a Sink. It implements
// executions.Observer. As AWS's, delivery never blocks nor slows an
// execution: records wait in a bounded queue for a goroutine of their
// own, and when the sink falls that far behind, records are dropped (and
// the drops logged).
type Writer struct {
	sink    Sink
	log     *slog.Logger
	queue   chan entry
	done    chan struct{}
	dropped atomic.Uint64
	close   sync.Once

	mu      sync.RWMutex
	configs map[string]*parsedConfig // by loggingConfiguration text
}

// entry is a record on its way to its log group.
type entry struct {
	group string
	rec   []byte
}

// QueueLength is how many records may wait for the sink.
const QueueLength = 4096

var _ executions.Observer = (*Writer)(nil)

// New returns a Writer to sink; failures to write are reported to logger
// (nil: discarded) and never fail an execution. Close it to write what
// is queued.
func New(sink Sink, logger *slog.Logger) *Writer {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	w := &Writer{sink: sink, log: logger, queue: make(chan entry, QueueLength), done: make(chan struct{})}
	go w.deliver()
	return w
}

// deliver writes the queued records until Close.
func (w *Writer) deliver() {
	defer close(w.done)
	for e := range w.queue {
		if err := w.sink.Write(e.group, e.rec); err != nil {
			w.log.Warn("execution logs: record not written", "logGroup", e.group, "err", err)
		}
	}
}

// enqueue queues a record, or drops it when the queue is full.
func (w *Writer) enqueue(e entry) {
	select {
	case w.queue <- e:
	default:
		if n := w.dropped.Add(1); n&(n-1) == 0 { // 1, 2, 4, 8…
			w.log.Warn("execution logs: the sink is behind, records dropped", "dropped", n)
		}
	}
}

// Dropped returns how many records were dropped because the sink was
// behind.
func (w *Writer) Dropped() uint64 { return w.dropped.Load() }

// Close writes the queued records and stops; call it once no execution
// records any more.
func (w *Writer) Close() error {
	w.close.Do(func() { close(w.queue) })
	<-w.done
	return nil
}

// Config is the part of a LoggingConfiguration that says what is logged.
type Config struct {
	Level                string `json:"level"`
	IncludeExecutionData bool   `json:"includeExecutionData"`
	Destinations         []struct {
		CloudWatchLogsLogGroup struct {
			LogGroupArn string `json:"logGroupArn"`
		} `json:"cloudWatchLogsLogGroup"`
	} `json:"destinations"`
}

// LogGroup returns the name of the configuration's log group
// ("arn:aws:logs:us-east-1:123456789012:log-group:NAME:*" names NAME), ""
// if it has none.
func (c *Config) LogGroup() string {
	if len(c.Destinations) == 0 {
		return ""
	}
	arn := c.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn
	_, name, ok := strings.Cut(arn, ":log-group:")
	if !ok {
		return arn
	}
	return strings.TrimSuffix(name, ":*")
}

// Watch implements executions.Observer: executions whose state machine's
// level is OFF (the default) are not watched.
func (w *Writer) Watch(x executions.Watched) executions.Watcher {
	if len(x.Logging) == 0 {
		return nil
	}
	p, err := w.parsed(x.Logging)
	if err != nil {
		w.log.Warn("execution logs: unreadable loggingConfiguration", "stateMachineArn", x.StateMachineARN, "err", err)
		return nil
	}
	if p.cfg.Level == "" || p.cfg.Level == LevelOff {
		return nil
	}
	return &watcher{w: w, cfg: p.cfg, group: p.group, arn: x.ExecutionARN, redrives: strconv.FormatInt(x.RedriveCount, 10)}
}

// parsedConfig is a loggingConfiguration read once for all the executions
// of its state machines.
type parsedConfig struct {
	cfg   Config
	group string
}

// maxParsedConfigs bounds the cache of parsed configurations.
const maxParsedConfigs = 1024

// parsed returns the configuration that logging encodes: every execution
// start is watched, and most state machines share a few configurations
// (OFF by default), so each is parsed once.
func (w *Writer) parsed(logging []byte) (*parsedConfig, error) {
	w.mu.RLock()
	p := w.configs[string(logging)]
	w.mu.RUnlock()
	if p != nil {
		return p, nil
	}
	p = new(parsedConfig)
	if err := json.Unmarshal(logging, &p.cfg); err != nil {
		return nil, err
	}
	p.group = p.cfg.LogGroup()
	w.mu.Lock()
	if w.configs == nil || len(w.configs) >= maxParsedConfigs {
		w.configs = make(map[string]*parsedConfig)
	}
	w.configs[string(logging)] = p
	w.mu.Unlock()
	return p, nil
}

// Unrecorded implements executions.Observer: a synchronous execution that
// records no history has no events to log.
func (w *Writer) Unrecorded(executions.Watched, time.Time, time.Time, string) {}

// watcher writes one execution's records.
type watcher struct {
	w        *Writer
	cfg      Config
	group    string
	arn      string
	redrives string
}

// Logged reports whether level logs events of type t: ALL every one, ERROR
// the failures, timeouts and aborts (and FailStateEntered), FATAL the
// execution's own.
func Logged(level string, t history.EventType) bool {
	switch level {
	case LevelAll:
		return true
	case LevelError:
		s := string(t)
		return t == history.FailStateEntered || strings.HasSuffix(s, "Failed") ||
			strings.HasSuffix(s, "TimedOut") || strings.HasSuffix(s, "Aborted")
	case LevelFatal:
		return t == history.ExecutionFailed || t == history.ExecutionAborted || t == history.ExecutionTimedOut
	}
	return false
}

// Recorded implements executions.Watcher.
func (wa *watcher) Recorded(events []history.Event) {
	for i := range events {
		e := &events[i]
		if e.Type == history.ExecutionRedriven {
			if d := e.ExecutionRedrivenEventDetails; d != nil {
				wa.redrives = strconv.FormatInt(d.RedriveCount, 10)
			}
		}
		if !Logged(wa.cfg.Level, e.Type) {
			continue
		}
		rec, err := Record(e, wa.arn, wa.redrives, wa.cfg.IncludeExecutionData)
		if err != nil {
			wa.w.log.Warn("execution logs: record not written", "executionArn", wa.arn, "event", e.ID, "err", err)
			continue
		}
		wa.w.enqueue(entry{group: wa.group, rec: rec})
	}
}

// record is a CloudWatch Logs record of Step Functions: numbers as
// strings, the timestamp in epoch milliseconds.
type record struct {
	ID              string          `json:"id"`
	Type            string          `json:"type"`
	Details         json.RawMessage `json:"details"`
	PreviousEventID string          `json:"previous_event_id"`
	EventTimestamp  string          `json:"event_timestamp"`
	ExecutionARN    string          `json:"execution_arn"`
	RedriveCount    string          `json:"redrive_count"`
}

// dataFields are the details' execution data, left out unless
// includeExecutionData.
var dataFields = []string{"input", "output", "inputDetails", "outputDetails", "parameters"}

// Record returns the log record of an event of the execution executionARN,
// redriven redriveCount times; without includeData, the details leave out
// the execution data (inputs, outputs, task parameters).
func Record(e *history.Event, executionARN, redriveCount string, includeData bool) ([]byte, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode event: %w", err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return nil, fmt.Errorf("decode event: %w", err)
	}
	details := json.RawMessage("{}")
	for k, v := range fields {
		if strings.HasSuffix(k, "EventDetails") {
			details = v
			break
		}
	}
	if !includeData {
		var d map[string]json.RawMessage
		if err := json.Unmarshal(details, &d); err != nil {
			return nil, fmt.Errorf("decode details: %w", err)
		}
		for _, k := range dataFields {
			delete(d, k)
		}
		if details, err = json.Marshal(d); err != nil {
			return nil, fmt.Errorf("encode details: %w", err)
		}
	}
	return json.Marshal(record{
		ID: strconv.FormatInt(e.ID, 10), Type: string(e.Type), Details: details,
		PreviousEventID: strconv.FormatInt(e.PreviousEventID, 10),
		EventTimestamp:  strconv.FormatInt(e.Timestamp.UnixMilli(), 10),
		ExecutionARN:    executionARN, RedriveCount: redriveCount,
	})
}

// Stream is a Sink writing every record, one a line, to one writer
// (standard output, a file).
type Stream struct {
	mu sync.Mutex
	w  io.Writer
}

// NewStream returns a Sink writing to w.
func NewStream(w io.Writer) *Stream { return &Stream{w: w} }

// Write implements Sink.
func (s *Stream) Write(_ string, rec []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	line := make([]byte, 0, len(rec)+1)
	line = append(append(line, rec...), '\n')
	_, err := s.w.Write(line)
	return err
}

// Dir is a Sink writing each log group's records to a file of its own in a
// directory: DIR/NAME.log, the group's name with its slashes as
// underscores (/aws/vendedlogs/states/orders → _aws_vendedlogs_states_orders.log).
type Dir struct {
	dir   string
	mu    sync.Mutex
	files map[string]*os.File
}

// OpenDir returns a Sink writing into dir, which it creates (0700) if
// needed; the files are created 0600. Close it when done.
func OpenDir(dir string) (*Dir, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("execution logs directory: %w", err)
	}
	return &Dir{dir: dir, files: make(map[string]*os.File)}, nil
}

// FileName is the file of a log group in a Dir.
func FileName(logGroup string) string {
	if logGroup == "" {
		logGroup = "default"
	}
	return strings.ReplaceAll(logGroup, "/", "_") + ".log"
}

// Write implements Sink.
func (d *Dir) Write(logGroup string, rec []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	f := d.files[logGroup]
	if f == nil {
		var err error
		f, err = os.OpenFile(filepath.Join(d.dir, FileName(logGroup)), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("open log group file: %w", err)
		}
		d.files[logGroup] = f
	}
	line := make([]byte, 0, len(rec)+1)
	_, err := f.Write(append(append(line, rec...), '\n'))
	return err
}

// Close closes the files.
func (d *Dir) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var errs []error
	for g, f := range d.files {
		errs = append(errs, f.Close())
		delete(d.files, g)
	}
	return errors.Join(errs...)
}
