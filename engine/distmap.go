package engine

// This file is the Distributed Map's port to where its items come from and
// its results go (an ItemReader and a ResultWriter, S3 in production:
// integrations/s3items), and the steps of a Map Run that use them: reading
// the items after MapRunStarted, recording each child's outcome, and
// writing the results before MapRunSucceeded.

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/internal/uuid"
	"github.com/stepwell/stepwell/value"
)

// ItemReader reads the items of a Distributed Map's ItemReader (Config's
// Items). ReadItems calls each with every item in order, at most
// r.MaxItems when it is positive, reading as it goes (not the whole
// source at once); it stops with each's error when each fails. Its own
// failures are *fault.Error, States.ItemReaderFailed with AWS's cause
// ("CSV headers cannot contain duplicates."); any other error is reported
// as States.ItemReaderFailed with its text.
type ItemReader interface {
	ReadItems(ctx context.Context, r *ItemRead, each func(item any) error) error
}

// ItemRead is one reading of a Map's ItemReader.
type ItemRead struct {
	// Reader is the compiled ItemReader: its Resource, Action and
	// ReaderConfig (InputType, CSV settings, ItemsPointer, …).
	Reader *asl.ItemReaderDef
	// Arguments are its evaluated Parameters (JSONata: Arguments):
	// Bucket, Key or Prefix, …; nil when absent.
	Arguments *value.Object
	// MaxItems is the evaluated MaxItems (or MaxItemsPath); 0: no limit.
	MaxItems int64
	// Region is the execution's region.
	Region string
}

// ResultWriter exports the results of a Distributed Map's Map Run (Config's
// Results): OpenResults starts an export, to which the engine adds each
// child's outcome as it ends, so that a run of any size is never held in
// memory. Its failures are *fault.Error (States.ResultWriterFailed); other
// errors are reported as that error with their text.
type ResultWriter interface {
	OpenResults(ctx context.Context, w *ResultWrite) (ResultSink, error)
}

// ResultSink is one export in progress. The engine calls Add from one
// goroutine at a time, then Close (which writes the manifest and returns
// where it is) or, when the run failed, Discard.
type ResultSink interface {
	Add(c *ChildExecution) error
	Close(ctx context.Context) (bucket, manifestKey string, err error)
	Discard()
}

// ResultWrite is one export of a Map Run's results.
type ResultWrite struct {
	// Writer is the compiled ResultWriter (Resource and WriterConfig).
	Writer *asl.ResultWriterDef
	// Arguments are its evaluated Parameters (JSONata: Arguments):
	// Bucket and Prefix.
	Arguments *value.Object
	MapRunARN string
	Region    string
}

// ChildExecution is the outcome of one child execution of a Map Run, as
// the ResultWriter's files record it.
type ChildExecution struct {
	Name            string
	ExecutionARN    string
	StateMachineARN string
	Status          Status // "" when the child never started (PENDING)
	Input           string // JSON text
	Output          string // JSON text, SUCCEEDED only
	// Value is the output (SUCCEEDED), or {"Error", "Cause"} otherwise.
	Value        any
	Error, Cause *string
	StartDate    time.Time
	StopDate     time.Time
}

// ErrNoItemStore is the cause of States.ItemReaderFailed and
// States.ResultWriterFailed when the engine has no ItemReader or
// ResultWriter configured.
var ErrNoItemStore = errors.New("no S3 is configured for Distributed Map item readers and result writers")

// MapRunCounts are the child executions of a Map Run by status (an
// ItemBatcher's batch is one child).
type MapRunCounts struct {
	Pending, Running, Succeeded, Failed, Aborted, Total, ResultsWritten int64
}

// runProgress counts a Map Run's children for Execution.MapRunCounts.
type runProgress struct {
	mu     sync.Mutex
	arn    string
	c      MapRunCounts
	report func(string, MapRunCounts)
}

// newProgress returns the counter of the Map Run arn over n children, and
// reports them; nil when nobody listens.
func (t *thread) newProgress(arn string, n int) *runProgress {
	report := t.ex.x.MapRunCounts
	if report == nil {
		return nil
	}
	p := &runProgress{arn: arn, report: report, c: MapRunCounts{Pending: int64(n), Total: int64(n)}}
	report(arn, p.c)
	return p
}

// update applies change to the counts and reports them.
func (p *runProgress) update(change func(c *MapRunCounts)) {
	if p == nil {
		return
	}
	p.mu.Lock()
	change(&p.c)
	c := p.c
	p.mu.Unlock()
	p.report(p.arn, c)
}

// started counts a child that starts.
func (p *runProgress) started() {
	p.update(func(c *MapRunCounts) { c.Pending--; c.Running++ })
}

// ended counts a child that ended with f (nil: succeeded).
func (p *runProgress) ended(f *failure) {
	p.update(func(c *MapRunCounts) {
		c.Running--
		switch {
		case f == nil:
			c.Succeeded++
		case f.aborted:
			c.Aborted++
		default:
			c.Failed++
		}
	})
}

// finished counts the children that never started as aborted when the
// run did not succeed, and the results written.
func (p *runProgress) finished(ok bool, written bool) {
	p.update(func(c *MapRunCounts) {
		if !ok {
			c.Aborted += c.Pending + c.Running
			c.Pending, c.Running = 0, 0
		}
		if written || ok {
			c.ResultsWritten = c.Succeeded + c.Failed + c.Aborted
		}
	})
}

// maxReaderItems is the largest MaxItems AWS reads.
const maxReaderItems = 100000000

// children collects a Map Run's child outcomes for its ResultWriter: in
// list, or straight into sink (a streamed run).
type children struct {
	mu      sync.Mutex
	list    []ChildExecution
	sink    ResultSink
	err     error  // the sink's first failure
	base    string // execution ARN up to the child's name
	machine string // the children's state machine ARN
}

// newChildren prepares the outcomes of n children of the Map Run runARN
// (arn:…:mapRun:machine/label:id).
func newChildren(runARN string, n int) *children {
	c := &children{list: make([]ChildExecution, n)}
	c.base, c.machine = ChildARNs(runARN)
	return c
}

// record notes child i's outcome: its name and ARN ("": one is picked),
// its input (and its text, "" when not known yet), and its output or
// failure.
func (c *children) record(i int, name, arn string, in any, inText string, out any, f *failure, start, stop time.Time) {
	if c == nil {
		return
	}
	if name == "" {
		name = uuid.New()
	}
	if arn == "" {
		arn = c.base + name
	}
	ch := ChildExecution{
		Name: name, ExecutionARN: arn, StateMachineARN: c.machine,
		Input: inText, StartDate: start, StopDate: stop,
	}
	if inText == "" {
		ch.Input = value.String(in)
	}
	switch {
	case f == nil:
		ch.Status, ch.Value = StatusSucceeded, out
		if same(in, out) {
			ch.Output = ch.Input // a child that returns its input (a Pass)
		} else {
			ch.Output = value.String(out)
		}
	case f.aborted:
		ch.Status = StatusAborted
	default:
		ch.Status = StatusFailed
		if f.err != nil {
			e, cause := f.err.Name, f.err.Cause
			ch.Error, ch.Cause = &e, &cause
			ch.Value = errorOutput(f.err)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sink == nil {
		c.list[i] = ch
	} else if c.err == nil {
		c.err = c.sink.Add(&ch)
	}
}

// readItems reads the items of the Map's ItemReader into cfg.items: its
// arguments and MaxItems are evaluated on the state's effective input.
func (t *thread) readItems(r *stateRun, cfg *mapConfig) *failure {
	read, src, f := t.itemRead(r, cfg)
	if f != nil {
		return f
	}
	var items []any
	err := src.ReadItems(t.ctx, read, func(item any) error {
		items = append(items, item)
		return nil
	})
	if err != nil {
		if t.cancelled() {
			return t.aborted()
		}
		return t.fail(asFault(err, fault.ItemReaderFailed))
	}
	cfg.items = items
	return nil
}

// maxItems evaluates the reader's MaxItems (MaxItemsPath, or its JSONata
// expression): 0 for no limit; a negative value fails the reading as AWS
// does.
func (t *thread) maxItems(r *stateRun, cfg *mapConfig) (int64, *failure) {
	rd := r.b.st.Reader
	var n int64
	switch {
	case rd.MaxItems != nil:
		n = *rd.MaxItems
	case rd.MaxItemsPath != nil:
		r.env.Input = cfg.eff
		v, fe := intField(rd.MaxItemsPath, &r.env, "MaxItemsPath")
		if fe != nil {
			return 0, t.fail(fault.New(fault.ItemReaderFailed, fe.Cause))
		}
		n = v
	case rd.MaxItemsQuery != nil:
		v, f := t.query(r, rd.MaxItemsQuery, t.env(r))
		if f != nil {
			return 0, f
		}
		i, ok := intOf(v)
		if !ok {
			return 0, t.evaluationFailed(r, rd.MaxItemsQuery.ResultTypeError("integer", v), r.prev)
		}
		n = i
	}
	if n < 0 {
		return 0, t.fail(fault.New(fault.ItemReaderFailed, "field MaxItems must be positive"))
	}
	return min(n, maxReaderItems), nil
}

// writeResults exports the Map Run's results through its ResultWriter and
// returns the Map's result: {"MapRunArn", "ResultWriterDetails": {"Bucket",
// "Key"}}.
func (t *thread) writeResults(r *stateRun, cfg *mapConfig, runARN string) (any, *failure) {
	sink, f := t.openResults(r, cfg, runARN)
	if f != nil {
		return nil, f
	}
	for i := range cfg.children.list {
		if err := sink.Add(&cfg.children.list[i]); err != nil {
			sink.Discard()
			return nil, t.writeFailed(err)
		}
	}
	return t.closeResults(sink, runARN)
}

// openResults starts the export of the Map Run's results.
func (t *thread) openResults(r *stateRun, cfg *mapConfig, runARN string) (ResultSink, *failure) {
	wr := r.b.st.Writer
	w := &ResultWrite{Writer: wr, MapRunARN: runARN, Region: t.ex.e.cfg.Region}
	args, f := r.b.flow.arguments(t, r, wr.Parameters, wr.Args, cfg.eff)
	if f != nil {
		return nil, f
	}
	w.Arguments, _ = args.(*value.Object)
	dst := t.ex.e.cfg.Results
	if dst == nil {
		return nil, t.fail(fault.New(fault.ResultWriterFailed, ErrNoItemStore.Error()))
	}
	sink, err := dst.OpenResults(t.ctx, w)
	if err != nil {
		return nil, t.writeFailed(err)
	}
	return sink, nil
}

// writeFailed is the failure of an export.
func (t *thread) writeFailed(err error) *failure {
	if t.cancelled() {
		return t.aborted()
	}
	return t.fail(asFault(err, fault.ResultWriterFailed))
}

// closeResults ends the export and returns the Map's result.
func (t *thread) closeResults(sink ResultSink, runARN string) (any, *failure) {
	bucket, key, err := sink.Close(t.ctx)
	if err != nil {
		return nil, t.writeFailed(err)
	}
	details := value.NewObject(2)
	details.Set("Bucket", bucket)
	details.Set("Key", key)
	out := value.NewObject(2)
	out.Set("MapRunArn", runARN)
	out.Set("ResultWriterDetails", details)
	return out, nil
}

// same tells whether a and b are the same object or array (not only
// equal): its text is then rendered once.
func same(a, b any) bool {
	switch x := a.(type) {
	case *value.Object:
		y, ok := b.(*value.Object)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		return ok && len(x) == len(y) && (len(x) == 0 || &x[0] == &y[0])
	case string:
		y, ok := b.(string)
		return ok && x == y
	}
	return false
}

// asFault returns err as a *fault.Error, or as the error name with err's
// text.
func asFault(err error, name string) *fault.Error {
	if fe, ok := fault.As(err); ok {
		return fe
	}
	return fault.New(name, err.Error())
}

// Record is the child's record as AWS's result files show it (and a
// WriterConfig Transformation NONE): its members in AWS's order; a child
// that never started (PENDING) has only its input.
func (c *ChildExecution) Record() *value.Object {
	o := value.NewObject(16)
	if c.Status == "" {
		o.Set("Input", c.Input)
		o.Set("InputDetails", included())
		return o
	}
	if c.Cause != nil {
		o.Set("Cause", *c.Cause)
	}
	if c.Error != nil {
		o.Set("Error", *c.Error)
	}
	o.Set("ExecutionArn", c.ExecutionARN)
	o.Set("Input", c.Input)
	o.Set("InputDetails", included())
	o.Set("Name", c.Name)
	if c.Status == StatusSucceeded {
		o.Set("Output", c.Output)
		o.Set("OutputDetails", included())
	}
	o.Set("RedriveCount", int64(0))
	if c.Status == StatusSucceeded {
		o.Set("RedriveStatus", "NOT_REDRIVABLE")
		o.Set("RedriveStatusReason", "Execution is SUCCEEDED and cannot be redriven")
	} else {
		o.Set("RedriveStatus", "REDRIVABLE")
	}
	o.Set("StartDate", recordTime(c.StartDate))
	o.Set("StateMachineArn", c.StateMachineARN)
	o.Set("Status", string(c.Status))
	o.Set("StopDate", recordTime(c.StopDate))
	return o
}

// AppendRecord appends c's Record as JSON text (the same bytes as
// value.Append(dst, c.Record())) without building it: the ResultWriter's
// files hold one per child.
func AppendRecord(dst []byte, c *ChildExecution) []byte {
	const included = `{"Included":true}`
	if c.Status == "" {
		dst = append(dst, `{"Input":`...)
		dst = value.AppendString(dst, c.Input)
		return append(dst, `,"InputDetails":`+included+`}`...)
	}
	dst = append(dst, '{')
	if c.Cause != nil {
		dst = append(dst, `"Cause":`...)
		dst = append(value.AppendString(dst, *c.Cause), ',')
	}
	if c.Error != nil {
		dst = append(dst, `"Error":`...)
		dst = append(value.AppendString(dst, *c.Error), ',')
	}
	dst = append(dst, `"ExecutionArn":`...)
	dst = value.AppendString(dst, c.ExecutionARN)
	dst = append(dst, `,"Input":`...)
	dst = value.AppendString(dst, c.Input)
	dst = append(dst, `,"InputDetails":`+included+`,"Name":`...)
	dst = value.AppendString(dst, c.Name)
	if c.Status == StatusSucceeded {
		dst = append(dst, `,"Output":`...)
		dst = value.AppendString(dst, c.Output)
		dst = append(dst, `,"OutputDetails":`+included+`,"RedriveCount":0,"RedriveStatus":"NOT_REDRIVABLE","RedriveStatusReason":"Execution is SUCCEEDED and cannot be redriven"`...)
	} else {
		dst = append(dst, `,"RedriveCount":0,"RedriveStatus":"REDRIVABLE"`...)
	}
	dst = append(dst, `,"StartDate":"`...)
	dst = appendRecordTime(dst, c.StartDate)
	dst = append(dst, `","StateMachineArn":`...)
	dst = value.AppendString(dst, c.StateMachineARN)
	dst = append(dst, `,"Status":"`...)
	dst = append(dst, c.Status...)
	dst = append(dst, `","StopDate":"`...)
	dst = appendRecordTime(dst, c.StopDate)
	return append(dst, `"}`...)
}

// AppendEntries appends c's entries under a WriterConfig Transformation:
// NONE (or none given) its Record; COMPACT its output (or error output);
// FLATTEN the same, an array output's elements one by one.
func AppendEntries(dst []any, transformation string, c *ChildExecution) []any {
	switch transformation {
	case "COMPACT":
		return append(dst, c.Value)
	case "FLATTEN":
		if arr, ok := c.Value.([]any); ok {
			return append(dst, arr...)
		}
		return append(dst, c.Value)
	}
	return append(dst, c.Record())
}

// transformed is the Map's result under a ResultWriter with only a
// WriterConfig: its children's entries (AppendEntries).
func (cfg *mapConfig) transformed(transformation string) any {
	out := make([]any, 0, len(cfg.children.list))
	for i := range cfg.children.list {
		out = AppendEntries(out, transformation, &cfg.children.list[i])
	}
	return out
}

func included() *value.Object {
	o := value.NewObject(1)
	o.Set("Included", true)
	return o
}

// recordTime renders a time as the result files do.
func recordTime(t time.Time) string {
	return string(appendRecordTime(nil, t))
}

func appendRecordTime(dst []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(dst, "2006-01-02T15:04:05.000Z")
}
