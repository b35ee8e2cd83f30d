// Package sqlite is Stepwell's embedded, durable store.Store: one SQLite
// database file (pure Go, modernc.org/sqlite) in WAL mode with
// synchronous=FULL, so every acknowledged write survives a crash or power
// loss.
//
// All writes go through one writer goroutine (store/internal/groupcommit)
// that drains every request waiting into one transaction and commits it
// (one fsync), then answers each caller: a write returns only once it is
// durable, while concurrent executions share commits (group commit). A
// write whose context ends while it is still queued is not made (it
// returns the context's error); one that panics fails alone. Reads use a
// separate pool of connections and never wait for the writer.
//
// The schema is versioned: migrations are embedded (migrations/*.sql) and
// applied at Open; a database written by a newer Stepwell is refused.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	// The pure-Go SQLite driver, registered as "sqlite".
	_ "modernc.org/sqlite"

	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
)

var _ store.Store = (*Store)(nil)

// Store is the embedded store. Open one per database file; it is safe for
// concurrent use.
type Store struct {
	path string
	lock *os.File
	wdb  *sql.DB // one connection, used by the writer goroutine only
	rdb  *sql.DB // readers

	w          writer
	machines   machineCache
	activities activityCache

	stopCheckpoints context.CancelFunc
	checkpoints     chan struct{}

	getExec, listRunning, getMachine, getRevision, histHead, getActivity, getMeta *sql.Stmt
}

// DefaultFile is the database file name inside a data directory.
const DefaultFile = "stepwell.db"

// Open opens (creating if needed) the database file at path, takes an
// exclusive lock on it (path + ".lock": one process per store), and
// migrates its schema. The directory is created if missing.
func Open(ctx context.Context, path string) (*Store, error) {
	return OpenWith(ctx, path, Options{})
}

// Options are Open's options (OpenWith).
type Options struct {
	// Upgrading, when set, is called before the schema of a database
	// written by an older Stepwell is migrated from version from to
	// version to, which can take a while (see BenchmarkMigrate_FromV5);
	// not for a new database.
	Upgrading func(from, to int)
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, path string, opts Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("open sqlite store: empty path")
	}
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open sqlite store %q: the path may not contain '?' or '#'", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open sqlite store: %w", err)
	}
	// The database holds every execution's data and the task token key:
	// create it readable by its owner only, whatever the umask and the
	// directory's mode (SQLite gives its -wal and -shm files the
	// database's permissions). An empty file is an empty database.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		_ = f.Close()
	} else if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("open sqlite store: %w", err)
	}
	lock, err := lockFile(path + ".lock")
	if err != nil {
		return nil, err
	}
	s := &Store{path: path, lock: lock}
	if err := s.open(ctx, opts); err != nil {
		s.closeDBs()
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}
	s.w.start()
	cctx, cancel := context.WithCancel(context.Background())
	s.stopCheckpoints, s.checkpoints = cancel, make(chan struct{})
	go s.checkpointer(cctx, s.checkpoints)
	return s, nil
}

// pragmas configure every connection: WAL with a full sync at each commit
// (durable against power loss). At the end of each write transaction
// SQLite scans the writer's page cache hash table, whose size follows the
// pages cached: the writer gets a 2 MiB page cache (a full 64 MiB cache
// cost ~5 µs of CPU per execution of a Pass chain, 2–3 % of the server's,
// in BenchmarkDurableHTTP; 8 MiB still 3 % of BenchmarkStartPath's CPU,
// 2 MiB 0.6 %, with no more page reads), which holds the pages its writes
// revisit (the indexes' inner pages and right edges); the readers get
// 8 MiB.
const (
	pragmas       = "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(0)"
	writerPragmas = pragmas + "&_pragma=cache_size(-2048)"
	readerPragmas = pragmas + "&_pragma=cache_size(-8192)"
)

func (s *Store) open(ctx context.Context, opts Options) error {
	var err error
	if s.wdb, err = sql.Open("sqlite", s.path+writerPragmas); err != nil {
		return err
	}
	s.wdb.SetMaxOpenConns(1)
	s.wdb.SetMaxIdleConns(1)
	s.wdb.SetConnMaxLifetime(0)
	conn, err := s.wdb.Conn(ctx)
	if err != nil {
		return err
	}
	var mode string
	if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %q, want wal", mode)
	}
	if err := migrate(ctx, conn, opts.Upgrading); err != nil {
		return err
	}
	if err := s.w.prepare(ctx, conn); err != nil {
		return err
	}
	if s.rdb, err = sql.Open("sqlite", s.path+readerPragmas); err != nil {
		return err
	}
	s.rdb.SetMaxOpenConns(8)
	s.rdb.SetMaxIdleConns(8)
	prep := func(dst **sql.Stmt, q string) {
		if err == nil {
			*dst, err = s.rdb.PrepareContext(ctx, q)
			if err != nil {
				err = fmt.Errorf("prepare %q: %w", q, err)
			}
		}
	}
	prep(&s.getExec, `SELECT `+execCols+` FROM executions WHERE arn = ?`)
	prep(&s.listRunning, `SELECT `+execCols+` FROM executions WHERE status = 'RUNNING' ORDER BY seq`)
	prep(&s.getMachine, `SELECT m.arn, m.name, m.type, m.creation_ns, m.tags, `+revCols+`
		FROM machines m JOIN revisions r ON r.machine_arn = m.arn AND r.revision_id = m.revision_id WHERE m.arn = ?`)
	prep(&s.getRevision, `SELECT `+revCols+` FROM revisions r WHERE r.machine_arn = ? AND r.revision_id = ?`)
	prep(&s.getActivity, `SELECT `+activityCols+` FROM activities WHERE arn = ?`)
	// DescribeExecution reads an execution's metadata each time.
	prep(&s.getMeta, `SELECT data FROM execution_meta WHERE execution_arn = ?`)
	prep(&s.histHead, `SELECT e.seq, e.first_events, e.first_last, e.first_threads,
		(SELECT max(h.last_id) FROM history h WHERE h.execution = e.seq) FROM executions e WHERE e.arn = ?`)
	return err
}

func (s *Store) closeDBs() {
	if s.rdb != nil {
		_ = s.rdb.Close()
	}
	if s.wdb != nil {
		_ = s.wdb.Close()
	}
	if s.lock != nil {
		_ = s.lock.Close()
	}
}

// Close waits for the writes in progress, checkpoints the WAL into the
// database file and releases the store.
func (s *Store) Close() error {
	if !s.w.stop() {
		return nil
	}
	s.stopCheckpoints()
	<-s.checkpoints
	var err error
	if s.w.conn != nil {
		_, err = s.w.conn.ExecContext(context.Background(), "PRAGMA wal_checkpoint(TRUNCATE)")
		if cerr := s.w.conn.Close(); err == nil {
			err = cerr
		}
	}
	s.closeDBs()
	if err != nil {
		return fmt.Errorf("close sqlite store: %w", err)
	}
	return nil
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

const (
	execCols = `arn, name, machine_arn, machine_name, revision_id, type, status, input, trace_header, start_ns, stop_ns, output, error, cause`
	revCols  = `r.revision_id, r.definition, r.role_arn, r.logging, r.tracing, r.update_ns`
)

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

type scanner interface{ Scan(dest ...any) error }

func scanExecution(r scanner) (*store.Execution, error) {
	var x store.Execution
	var start, stop int64
	var out, errName, cause sql.NullString
	if err := r.Scan(&x.ARN, &x.Name, &x.StateMachineARN, &x.StateMachineName, &x.RevisionID, &x.Type, &x.Status,
		&x.Input, &x.TraceHeader, &start, &stop, &out, &errName, &cause); err != nil {
		return nil, err
	}
	x.StartDate, x.StopDate = fromNanos(start), fromNanos(stop)
	x.Output, x.Error, x.Cause = strPtr(out), strPtr(errName), strPtr(cause)
	return &x, nil
}

func strPtr(s sql.NullString) *string {
	if !s.Valid {
		return nil
	}
	return &s.String
}

func nullStr(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

// rawOrNil keeps nil JSON as SQL NULL and everything else as a blob.
func rawOrNil(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

func scanRevision(r scanner, dst *store.Revision, extra ...any) error {
	var upd int64
	var logging, tracing []byte
	dest := append(extra, &dst.RevisionID, &dst.Definition, &dst.RoleARN, &logging, &tracing, &upd)
	if err := r.Scan(dest...); err != nil {
		return err
	}
	dst.Logging, dst.Tracing, dst.UpdateDate = logging, tracing, fromNanos(upd)
	return nil
}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// GetStateMachine implements store.Store.
func (s *Store) GetStateMachine(ctx context.Context, arn string) (*store.StateMachine, error) {
	cached, gen := s.machines.get(arn)
	if cached != nil {
		return cached, nil
	}
	var sm store.StateMachine
	var created int64
	var tags []byte
	err := scanRevision(s.getMachine.QueryRowContext(ctx, arn), &sm.Revision, &sm.ARN, &sm.Name, &sm.Type, &created, &tags)
	if err != nil {
		return nil, notFound(err)
	}
	sm.CreationDate, sm.Tags = fromNanos(created), tags
	s.machines.put(&sm, gen)
	return &sm, nil
}

// GetRevision implements store.Store.
func (s *Store) GetRevision(ctx context.Context, arn, revisionID string) (*store.Revision, error) {
	var r store.Revision
	if err := scanRevision(s.getRevision.QueryRowContext(ctx, arn, revisionID), &r); err != nil {
		return nil, notFound(err)
	}
	return &r, nil
}

// ListStateMachines implements store.Store.
func (s *Store) ListStateMachines(ctx context.Context, p store.Page) ([]*store.StateMachine, string, error) {
	after, err := store.ParsePageToken(p.Token, "m")
	if err != nil {
		return nil, "", err
	}
	limit := max(p.Limit, 1)
	rows, err := s.rdb.QueryContext(ctx, `SELECT m.seq, m.arn, m.name, m.type, m.creation_ns, m.tags, `+revCols+`
		FROM machines m JOIN revisions r ON r.machine_arn = m.arn AND r.revision_id = m.revision_id
		WHERE m.seq > ? ORDER BY m.seq LIMIT ?`, after, limit+1)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []*store.StateMachine
	var last int64
	for rows.Next() {
		if len(out) == limit {
			return out, store.PageToken("m", last), nil
		}
		var sm store.StateMachine
		var created int64
		var tags []byte
		if err := scanRevision(rows, &sm.Revision, &last, &sm.ARN, &sm.Name, &sm.Type, &created, &tags); err != nil {
			return nil, "", err
		}
		sm.CreationDate, sm.Tags = fromNanos(created), tags
		out = append(out, &sm)
	}
	return out, "", rows.Err()
}

// pointRead is the context of a read of one row by a unique key: ctx's
// values without its cancellation. Such a read takes microseconds, and a
// cancellable context costs two goroutines per query (database/sql's and
// the driver's watchers of ctx.Done), more than the read itself.
func pointRead(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }

// GetExecution implements store.Store.
func (s *Store) GetExecution(ctx context.Context, arn string) (*store.Execution, error) {
	x, err := scanExecution(s.getExec.QueryRowContext(pointRead(ctx), arn))
	if err != nil {
		return nil, notFound(err)
	}
	return x, nil
}

// The pages of ListExecutions, newest first: a machine's executions are
// found by its key (machine_keys), which an ARN never used has not, and
// their status (executions_by_status). Without a status filter the page
// merges the newest of each status (closedStatuses and RUNNING): an index
// of the machine's executions in any status would cost every execution
// inserted another entry (~4 % of a short execution's start: schema
// version 9 dropped it).
var (
	listExecutions         = listAnyStatus()
	listExecutionsByStatus = `SELECT seq, ` + execCols + ` FROM executions
		WHERE machine_key = (SELECT key FROM machine_keys WHERE arn = ?) AND status = ? AND seq < ? ORDER BY seq DESC LIMIT ?`
)

// listedStatuses are every status an execution row has.
var listedStatuses = []string{store.StatusRunning, store.StatusSucceeded, store.StatusFailed, store.StatusTimedOut, store.StatusAborted}

// listAnyStatus is the query of a page of a machine's executions in any
// status (arguments: the machine's ARN, the seq to list below, the page's
// size): the seqs of the newest of each status below, merged, then their
// rows.
func listAnyStatus() string {
	arms := make([]string, len(listedStatuses))
	for i, st := range listedStatuses {
		arms[i] = `SELECT seq FROM (SELECT seq FROM executions WHERE machine_key = (SELECT key FROM k) AND status = '` + st +
			`' AND seq < ?2 ORDER BY seq DESC LIMIT ?3)`
	}
	return `WITH k AS (SELECT key FROM machine_keys WHERE arn = ?1) SELECT seq, ` + execCols + ` FROM executions
		WHERE seq IN (` + strings.Join(arms, " UNION ALL ") + ` ORDER BY seq DESC LIMIT ?3) ORDER BY seq DESC`
}

// ListExecutions implements store.Store.
func (s *Store) ListExecutions(ctx context.Context, f store.ExecutionFilter, p store.Page) ([]*store.Execution, string, error) {
	before, err := store.ParsePageToken(p.Token, "x")
	if err != nil {
		return nil, "", err
	}
	if p.Token == "" {
		before = 1<<63 - 1
	}
	limit := max(p.Limit, 1)
	q, args := listExecutions, []any{f.StateMachineARN, before, limit + 1}
	if f.Status != "" {
		q, args = listExecutionsByStatus, []any{f.StateMachineARN, f.Status, before, limit + 1}
	}
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []*store.Execution
	var last int64
	for rows.Next() {
		if len(out) == limit {
			return out, store.PageToken("x", last), nil
		}
		var seq int64
		x, err := scanExecution(seqScanner{rows, &seq})
		if err != nil {
			return nil, "", err
		}
		last = seq
		out = append(out, x)
	}
	return out, "", rows.Err()
}

// seqScanner scans a leading seq column before the execution's columns.
type seqScanner struct {
	r   scanner
	seq *int64
}

func (s seqScanner) Scan(dest ...any) error { return s.r.Scan(append([]any{s.seq}, dest...)...) }

// ListRunning implements store.Store.
func (s *Store) ListRunning(ctx context.Context) ([]*store.Execution, error) {
	rows, err := s.listRunning.QueryContext(ctx)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*store.Execution
	for rows.Next() {
		x, err := scanExecution(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// History implements store.Store.
func (s *Store) History(ctx context.Context, arn string, reverse bool, p store.Page) ([]history.Event, string, error) {
	kind := "h"
	if reverse {
		kind = "r"
	}
	pos, err := store.ParsePageToken(p.Token, kind)
	if err != nil {
		return nil, "", err
	}
	tx, err := s.rdb.BeginTx(ctx, nil)
	if err != nil {
		return nil, "", err
	}
	defer func() { _ = tx.Rollback() }()
	var h head
	var last sql.NullInt64
	if err := tx.StmtContext(ctx, s.histHead).QueryRowContext(ctx, arn).Scan(&h.seq, &h.events, &h.last, &h.threads, &last); err != nil {
		return nil, "", notFound(err)
	}
	n := max(last.Int64, h.last)
	limit := int64(max(p.Limit, 1))
	var lo, hi int64
	if !reverse {
		if pos > n {
			return nil, "", store.ErrInvalidToken
		}
		lo, hi = pos+1, min(pos+limit, n)
	} else {
		if p.Token == "" {
			pos = n + 1
		}
		if pos > n+1 || pos < 1 {
			return nil, "", store.ErrInvalidToken
		}
		hi = pos - 1
		lo = max(hi-limit+1, 1)
	}
	var out []history.Event
	if lo <= hi {
		if out, err = readEvents(ctx, tx, &h, lo, hi); err != nil {
			return nil, "", err
		}
	}
	if !reverse {
		if hi < n {
			return out, store.PageToken(kind, hi), nil
		}
		return out, "", nil
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	if lo > 1 {
		return out, store.PageToken(kind, lo), nil
	}
	return out, "", nil
}

// head is what an execution's row holds of its history: the events it
// was created with (first_events, ids 1 to last; none when last is 0).
type head struct {
	seq     int64
	events  []byte
	last    int64
	threads string
}

// readEvents returns the events with ids lo..hi of execution h.seq: those
// up to h.last from its row, the others from its history rows.
func readEvents(ctx context.Context, tx *sql.Tx, h *head, lo, hi int64) ([]history.Event, error) {
	out := make([]history.Event, 0, hi-lo+1)
	if lo <= h.last {
		var err error
		if out, err = decodeEvents(out, h.events, h.threads, 1, lo, min(hi, h.last)); err != nil {
			return nil, fmt.Errorf("history of execution %d, events 1-%d: %w", h.seq, h.last, err)
		}
	}
	if hi > h.last {
		rows, err := tx.QueryContext(ctx, `SELECT last_id, first_id, events, threads FROM history WHERE execution = ? AND last_id >= ? ORDER BY last_id`,
			h.seq, max(lo, h.last+1))
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var last, first int64
			var blob []byte
			var threads string
			if err := rows.Scan(&last, &first, &blob, &threads); err != nil {
				return nil, err
			}
			if first > hi {
				break
			}
			if out, err = decodeEvents(out, blob, threads, first, lo, hi); err != nil {
				return nil, fmt.Errorf("history of execution %d, events %d-%d: %w", h.seq, first, last, err)
			}
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	if int64(len(out)) != hi-lo+1 {
		return nil, fmt.Errorf("history of execution %d: %d events in %d-%d: %w", h.seq, len(out), lo, hi, errCorrupt)
	}
	return out, nil
}

// errClosed is returned by writes after Close.
var errClosed = errors.New("sqlite store is closed")
