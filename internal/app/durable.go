package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
	"github.com/stepwell/stepwell/store/memory"
	"github.com/stepwell/stepwell/store/postgres"
	"github.com/stepwell/stepwell/store/sqlite"
)

// DefaultDataDir is the default data directory: $XDG_DATA_HOME/stepwell,
// else ~/.local/share/stepwell, else ./stepwell-data.
func DefaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "stepwell")
	}
	if h, err := os.UserHomeDir(); err == nil && filepath.IsAbs(h) {
		return filepath.Join(h, ".local", "share", "stepwell")
	}
	return "stepwell-data"
}

// storeKind classifies a --store value: "memory", "embedded" (target is
// the database file, "" for the one in the data directory), "postgres"
// (target is the DSN), or "" when it is not a store.
func storeKind(s string) (kind, target string) {
	switch {
	case s == "":
		return "embedded", ""
	case s == "memory":
		return "memory", ""
	case strings.HasPrefix(s, "sqlite://"):
		p := strings.TrimPrefix(s, "sqlite://")
		if p == "" {
			return "", ""
		}
		return "embedded", p
	case strings.HasPrefix(s, "postgres://"), strings.HasPrefix(s, "postgresql://"):
		return "postgres", s
	case strings.Contains(s, "://"):
		return "", ""
	case strings.ContainsRune(s, '/'), strings.ContainsRune(s, filepath.Separator),
		strings.HasSuffix(s, ".db"), strings.HasSuffix(s, ".sqlite"), strings.HasSuffix(s, ".sqlite3"):
		return "embedded", s
	}
	return "", ""
}

// openStore opens the configured backend and describes it.
func openStore(ctx context.Context, c Config) (store.Store, string, error) {
	kind, target := storeKind(c.Store)
	switch kind {
	case "memory":
		return memory.New(memory.Options{}), "memory (nothing survives a restart)", nil
	case "embedded":
		if target == "" {
			dir := c.DataDir
			if dir == "" {
				dir = DefaultDataDir()
			}
			target = filepath.Join(dir, sqlite.DefaultFile)
		}
		st, err := sqlite.Open(ctx, target)
		if err != nil {
			return nil, "", err
		}
		abs, err := filepath.Abs(target)
		if err != nil {
			abs = target
		}
		return st, "embedded " + abs, nil
	case "postgres":
		st, err := postgres.Open(ctx, target)
		if err != nil {
			return nil, "", err
		}
		return st, "postgres " + redactDSN(target), nil
	}
	return nil, "", fmt.Errorf("open store %q: unknown store", c.Store)
}

// redactDSN hides a password in a postgres:// URL.
func redactDSN(dsn string) string {
	scheme, rest, ok := strings.Cut(dsn, "://")
	if !ok {
		return dsn
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return dsn
	}
	user, _, hasPass := strings.Cut(rest[:at], ":")
	if !hasPass {
		return dsn
	}
	return scheme + "://" + user + ":***" + rest[at:]
}

// errShuttingDown refuses writes once the server stops. It wraps
// store.ErrConflict, which the API treats as "already closed" and does not
// log.
var errShuttingDown = fmt.Errorf("server is shutting down: %w", store.ErrConflict)

// fencedStore is the store the API writes through. Once shutdown begins it
// refuses every execution write, so that cancelling the running
// executions never records their cancellation: in a durable store they
// stay RUNNING and resume at the next start, as after a crash.
//
// It also routes StopExecution of a recovered execution to its run: the
// API, which knows only the runs it started, closes such an execution by
// appending ExecutionAborted itself; when a recovered run drives that
// execution, the run is stopped instead and records the abort.
type fencedStore struct {
	store.Store
	closing atomic.Bool
	resumed *resumer
}

func (f *fencedStore) shutdown() { f.closing.Store(true) }

// appendDirect is AppendHistory without the StopExecution routing: the
// recovered runs record through it.
func (f *fencedStore) appendDirect(ctx context.Context, arn string, events []history.Event, end *store.End) error {
	if f.closing.Load() {
		return errShuttingDown
	}
	return f.Store.AppendHistory(ctx, arn, events, end)
}

// CreateExecution implements store.Store.
func (f *fencedStore) CreateExecution(ctx context.Context, x *store.Execution) error {
	if f.closing.Load() {
		return errShuttingDown
	}
	return f.Store.CreateExecution(ctx, x)
}

// AppendHistory implements store.Store.
func (f *fencedStore) AppendHistory(ctx context.Context, arn string, events []history.Event, end *store.End) error {
	if f.closing.Load() {
		return errShuttingDown
	}
	if end != nil && end.Status == store.StatusAborted && len(events) == 1 && events[0].Type == history.ExecutionAborted && f.resumed != nil {
		if run := f.resumed.run(arn); run != nil {
			d := events[0].ExecutionAbortedEventDetails
			var errName, cause string
			if d != nil {
				errName, cause = deref(d.Error), deref(d.Cause)
			}
			run.Stop(errName, cause)
			select {
			case <-run.Done():
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return f.Store.AppendHistory(ctx, arn, events, end)
}

// ReopenExecution implements store.Reopener (RedriveExecution) when the
// store does, and answers errors.ErrUnsupported otherwise.
func (f *fencedStore) ReopenExecution(ctx context.Context, arn string, events []history.Event) error {
	if f.closing.Load() {
		return errShuttingDown
	}
	r, ok := f.Store.(store.Reopener)
	if !ok {
		return errors.ErrUnsupported
	}
	return r.ReopenExecution(ctx, arn, events)
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// resumer runs the executions recovered at start.
type resumer struct {
	st  *fencedStore
	eng *engine.Engine
	log *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	runs   map[string]*engine.Run
}

func newResumer(st *fencedStore, eng *engine.Engine, log *slog.Logger) *resumer {
	r := &resumer{st: st, eng: eng, log: log, runs: make(map[string]*engine.Run)}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	return r
}

func (r *resumer) run(arn string) *engine.Run {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.runs[arn]
}

// close cancels the recovered runs and waits for them.
func (r *resumer) close(ctx context.Context) error {
	r.cancel()
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// apiResumer is what the API server implements when it can adopt a
// recovered execution itself (its runs then stop through StopExecution
// like any other).
type apiResumer interface {
	Resume(ctx context.Context, x *store.Execution, recorded []history.Event) error
}

// recoverAll resumes every running Standard execution of the store and
// returns how many.
func (r *resumer) recoverAll(ctx context.Context, srv any) (int, error) {
	xs, err := r.st.ListRunning(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, x := range xs {
		recorded, err := fullHistory(ctx, r.st, x.ARN)
		if err != nil {
			return n, fmt.Errorf("history of %s: %w", x.ARN, err)
		}
		if a, ok := srv.(apiResumer); ok {
			if err := a.Resume(ctx, x, recorded); err != nil {
				return n, fmt.Errorf("resume %s: %w", x.ARN, err)
			}
			n++
			continue
		}
		if err := r.resume(ctx, x, recorded); err != nil {
			return n, fmt.Errorf("resume %s: %w", x.ARN, err)
		}
		n++
	}
	return n, nil
}

// fullHistory reads an execution's whole history.
func fullHistory(ctx context.Context, st store.Store, arn string) ([]history.Event, error) {
	var out []history.Event
	tok := ""
	for {
		evs, next, err := st.History(ctx, arn, false, store.Page{Limit: 1000, Token: tok})
		if err != nil {
			return nil, err
		}
		out = append(out, evs...)
		if next == "" {
			return out, nil
		}
		tok = next
	}
}

// resume runs one recovered execution. One whose machine revision is gone
// or no longer loads is failed (States.Runtime) with a cause that says so.
func (r *resumer) resume(ctx context.Context, x *store.Execution, recorded []history.Event) error {
	ex := &engine.Execution{
		ARN: x.ARN, Name: x.Name, StateMachineARN: x.StateMachineARN, StateMachineName: x.StateMachineName,
		Type: x.Type, Input: x.Input, StartTime: x.StartDate,
	}
	rev, err := r.st.GetRevision(ctx, x.StateMachineARN, x.RevisionID)
	if err == nil {
		ex.RoleARN = rev.RoleARN
		ex.Machine, err = asl.Load([]byte(rev.Definition), asl.Options{Express: x.Type == "EXPRESS"})
	}
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) && !errors.As(err, new(*asl.DefinitionError)) {
			return err
		}
		why := "no longer exists"
		if !errors.Is(err, store.ErrNotFound) {
			why = "no longer loads: " + err.Error()
		}
		return r.failUnrecoverable(ctx, x, recorded, "Stepwell could not resume the execution: its state machine revision "+x.RevisionID+" "+why)
	}
	rec := &recorder{st: r.st, arn: x.ARN}
	r.mu.Lock()
	run := r.eng.Resume(r.ctx, ex, recorded, rec)
	r.runs[x.ARN] = run
	r.mu.Unlock()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		<-run.Done()
		r.mu.Lock()
		delete(r.runs, x.ARN)
		r.mu.Unlock()
		if rec.closed {
			return
		}
		err := r.st.appendDirect(context.Background(), x.ARN, nil, endOf(run.Result()))
		if err != nil && !errors.Is(err, store.ErrConflict) {
			r.log.Error("close recovered execution", "arn", x.ARN, "err", err)
		}
	}()
	return nil
}

// failUnrecoverable closes an execution that cannot be resumed.
func (r *resumer) failUnrecoverable(ctx context.Context, x *store.Execution, recorded []history.Event, cause string) error {
	var prev int64
	if n := len(recorded); n > 0 {
		prev = recorded[n-1].ID
	}
	now := time.Now()
	d := &history.ExecutionFailedEventDetails{Error: history.Str(fault.Runtime), Cause: history.Str(cause)}
	ev := history.Event{Timestamp: now, Type: history.ExecutionFailed, ID: prev + 1, PreviousEventID: prev, ExecutionFailedEventDetails: d}
	r.log.Warn("failing an execution that cannot be resumed", "arn", x.ARN, "cause", cause)
	return r.st.appendDirect(ctx, x.ARN, []history.Event{ev},
		&store.End{Status: store.StatusFailed, StopDate: now, Error: d.Error, Cause: d.Cause})
}

// recorder appends a recovered execution's history to the store and
// closes the execution with its terminal event, as the API's recorder
// does for the executions it starts.
type recorder struct {
	st     *fencedStore
	arn    string
	closed bool
}

func (r *recorder) Record(events []history.Event) error {
	var end *store.End
	if n := len(events); n > 0 {
		end = terminal(&events[n-1])
	}
	if err := r.st.appendDirect(context.Background(), r.arn, events, end); err != nil {
		return err
	}
	if end != nil {
		r.closed = true
	}
	return nil
}

// terminal returns how an execution ends if e is its terminal event.
func terminal(e *history.Event) *store.End {
	end := &store.End{StopDate: e.Timestamp}
	switch e.Type {
	case history.ExecutionSucceeded:
		end.Status = store.StatusSucceeded
		out := "{}"
		if d := e.ExecutionSucceededEventDetails; d != nil {
			out = d.Output
		}
		end.Output = &out
	case history.ExecutionFailed:
		end.Status = store.StatusFailed
		if d := e.ExecutionFailedEventDetails; d != nil {
			end.Error, end.Cause = d.Error, d.Cause
		}
	case history.ExecutionAborted:
		end.Status = store.StatusAborted
		if d := e.ExecutionAbortedEventDetails; d != nil {
			end.Error, end.Cause = d.Error, d.Cause
		}
	case history.ExecutionTimedOut:
		end.Status = store.StatusTimedOut
		if d := e.ExecutionTimedOutEventDetails; d != nil {
			end.Error, end.Cause = d.Error, d.Cause
		}
	default:
		return nil
	}
	return end
}

func endOf(r engine.Result) *store.End {
	st := string(r.Status)
	if st == "" || st == store.StatusRunning {
		st = store.StatusFailed
	}
	stop := r.StopTime
	if stop.IsZero() {
		stop = time.Now()
	}
	return &store.End{Status: st, StopDate: stop, Output: r.Output, Error: r.Error, Cause: r.Cause}
}

// retain deletes the closed executions older than retention now and then
// periodically, until ctx is done.
func retain(ctx context.Context, st store.Store, retention time.Duration, log *slog.Logger) {
	every := min(time.Hour, max(retention/8, time.Second))
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := st.DeleteClosedBefore(ctx, time.Now().Add(-retention))
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("retention: delete closed executions", "err", err)
		case n > 0:
			log.Info("retention: deleted closed executions", "count", n, "closed_before", time.Now().Add(-retention).UTC().Format(time.RFC3339))
		}
		t.Reset(every)
	}
}

// fencedVersions refuses the writes that running executions make
// (Map Runs, execution metadata) once shutdown begins, like fencedStore.
type fencedVersions struct {
	store.Versions
	fence *fencedStore
}

// PutMapRun implements store.Versions.
func (v fencedVersions) PutMapRun(ctx context.Context, r *store.MapRun) error {
	if v.fence.closing.Load() {
		return errShuttingDown
	}
	return v.Versions.PutMapRun(ctx, r)
}

// UpdateMapRun implements store.Versions.
func (v fencedVersions) UpdateMapRun(ctx context.Context, arn string, u store.MapRunUpdate) error {
	if v.fence.closing.Load() {
		return errShuttingDown
	}
	return v.Versions.UpdateMapRun(ctx, arn, u)
}

// PutExecutionMeta implements store.Versions.
func (v fencedVersions) PutExecutionMeta(ctx context.Context, executionARN string, m store.ExecutionMeta) error {
	if v.fence.closing.Load() {
		return errShuttingDown
	}
	return v.Versions.PutExecutionMeta(ctx, executionARN, m)
}
