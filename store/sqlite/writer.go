package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
	"github.com/stepwell/stepwell/store/internal/groupcommit"
)

// maxBatch bounds how many writes share one transaction.
const maxBatch = 4096

// coalesceBelow: a batch smaller than this yields the processor once
// before it commits, so that writes about to be made join it. At 1,000
// activity tasks/s this saves about one commit (one fsync) in nine and
// lowers the delivery latency (BenchmarkStoreActivityLatency); larger
// batches, which form under load anyway, commit at once.
const coalesceBelow = 16

// An op is one write. Its apply runs on the writer goroutine inside its
// batch's transaction: it returns the caller's result (nil or a store
// sentinel, decided before anything is written) and fatal, an SQL failure
// that aborts the transaction (groupcommit.Tx.Apply). A CreateExecution
// has a create instead: the batch's new execution rows are inserted
// together when its transaction begins (writer.begin).
type op struct {
	apply  func(w *writer) (result, fatal error)
	create *newExecution
}

// newExecution is an execution row to insert (CreateExecution): begin
// inserts it with the batch's others, in statements of up to
// maxInsertRows rows, and tells whether it was (inserted, with its seq),
// or its ARN was taken, by an existing execution or one before it in the
// batch.
type newExecution struct {
	x   *store.Execution // with its close, when created closed
	row encoded

	inserted bool
	seq      int64
}

// maxInsertRows bounds the rows of one INSERT of executions: a statement
// of n rows is prepared for each power of two n up to it.
const maxInsertRows = 64

// writer holds the group-commit writer (store/internal/groupcommit: one
// goroutine, one connection) and is the transaction of its batches.
type writer struct {
	conn *sql.Conn
	gc   *groupcommit.Writer[op]

	// running caches the executions appended to lately: seq and last
	// event id. Only the writer goroutine touches it; it is cleared when
	// a transaction fails.
	running map[string]*xstate
	// keys caches the machine keys (machine_keys) by machine ARN. Only
	// the writer goroutine touches it; it is cleared when a transaction
	// fails, which may have inserted the keys it added.
	keys map[string]int64

	getKey, insKey, insHist, insHistN, closeExec, lookExec, maxHist *sql.Stmt
	// insExec inserts n execution rows (a power of two) but those whose
	// ARN is taken; prepared when first needed.
	insExec map[int]*sql.Stmt
	// creates are the execution rows the transaction in progress inserts
	// (begin), and created those among them by ARN; args are their
	// statements' arguments.
	creates    []*newExecution
	created    map[string]*newExecution
	createArgs []any
	// beginTx, commitTx and rollbackTx are the transaction's statements,
	// prepared once rather than parsed at every batch.
	beginTx, commitTx, rollbackTx *sql.Stmt

	// rows are the history rows of the transaction in progress, inserted
	// together (histBatch per statement) before it commits.
	rows []histRow
	args []any

	// retainFrom is the retention cursor (DeleteClosedBefore): no
	// execution up to this seq needs reading again to find those to
	// delete. It starts at 0 and goes back to 0 when a transaction fails.
	retainFrom int64
}

var _ groupcommit.Tx[op] = (*writer)(nil)

// Stats counts the store's group commits.
type Stats struct {
	Commits    int64         // transactions committed
	Writes     int64         // writes (CreateExecution, AppendHistory, …) they held
	CommitTime time.Duration // spent in the committed transactions (fsync included)
	Queued     int           // writes waiting for the writer now
}

// Stats returns the counts since Open: Writes/Commits is the mean number
// of writes that shared one fsync.
func (s *Store) Stats() Stats {
	st := s.w.gc.Stats()
	return Stats{Commits: st.Commits, Writes: st.Writes, CommitTime: st.CommitTime, Queued: st.Queued}
}

// histBatch is how many history rows one multi-row INSERT holds.
const histBatch = 32

type histRow struct {
	execution, last, first int64
	events                 []byte
	threads                string
}

// addHistory queues a history row for the transaction in progress.
func (w *writer) addHistory(execution, last, first int64, events []byte, threads string) {
	w.rows = append(w.rows, histRow{execution, last, first, events, threads})
}

// flushHistory inserts the queued history rows.
func (w *writer) flushHistory() error {
	rows := w.rows
	defer func() {
		clear(w.rows)
		w.rows = w.rows[:0]
	}()
	for len(rows) >= histBatch {
		w.args = w.args[:0]
		for _, r := range rows[:histBatch] {
			w.args = append(w.args, r.execution, r.last, r.first, r.events, r.threads)
		}
		_, err := w.insHistN.Exec(w.args...)
		clear(w.args)
		if err != nil {
			return err
		}
		rows = rows[histBatch:]
	}
	for _, r := range rows {
		if _, err := w.insHist.Exec(r.execution, r.last, r.first, r.events, r.threads); err != nil {
			return err
		}
	}
	return nil
}

type xstate struct {
	seq  int64
	last int64
}

func (w *writer) prepare(ctx context.Context, conn *sql.Conn) error {
	w.conn = conn
	var err error
	prep := func(dst **sql.Stmt, q string) {
		if err == nil {
			*dst, err = conn.PrepareContext(ctx, q)
			if err != nil {
				err = fmt.Errorf("prepare %q: %w", q, err)
			}
		}
	}
	prep(&w.getKey, `SELECT key FROM machine_keys WHERE arn = ?`)
	prep(&w.insKey, `INSERT INTO machine_keys (arn) VALUES (?)`)
	prep(&w.insHist, `INSERT INTO history (execution, last_id, first_id, events, threads) VALUES (?, ?, ?, ?, ?)`)
	prep(&w.insHistN, `INSERT INTO history (execution, last_id, first_id, events, threads) VALUES (?, ?, ?, ?, ?)`+
		strings.Repeat(`, (?, ?, ?, ?, ?)`, histBatch-1))
	prep(&w.closeExec, `UPDATE executions SET status = ?, stop_ns = ?, output = ?, error = ?, cause = ? WHERE seq = ?`)
	prep(&w.lookExec, `SELECT seq, status, first_last FROM executions WHERE arn = ?`)
	prep(&w.maxHist, `SELECT max(last_id) FROM history WHERE execution = ?`)
	prep(&w.beginTx, `BEGIN IMMEDIATE`)
	prep(&w.commitTx, `COMMIT`)
	prep(&w.rollbackTx, `ROLLBACK`)
	return err
}

func (w *writer) start() {
	w.running = make(map[string]*xstate)
	w.keys = make(map[string]int64)
	w.insExec = make(map[int]*sql.Stmt)
	w.created = make(map[string]*newExecution)
	w.gc = groupcommit.New(w.begin, groupcommit.Options[op]{MaxBatch: maxBatch, CoalesceBelow: coalesceBelow, Closed: errClosed})
}

// stop commits the queued writes and ends the writer goroutine; it
// reports false if the writer was already stopped (or never started).
func (w *writer) stop() bool {
	return w.gc != nil && w.gc.Close()
}

// do runs apply in a group-committed transaction and returns its result
// once the transaction is durable, or ctx's error if ctx ends before the
// writer takes it (nothing is written then).
func (w *writer) do(ctx context.Context, apply func(w *writer) (result, fatal error)) error {
	return w.gc.Do(ctx, op{apply: apply})
}

// begin starts a batch's transaction (groupcommit.Begin) and inserts the
// batch's new executions.
func (w *writer) begin(batch []op) (groupcommit.Tx[op], error) {
	if _, err := w.beginTx.Exec(); err != nil {
		clear(w.running)
		clear(w.keys)
		return nil, fmt.Errorf("begin: %w", err)
	}
	begun := false
	defer func() {
		if !begun { // failed or panicked: no transaction is left open
			w.Rollback()
		}
	}()
	if err := w.insertExecutions(batch); err != nil {
		return nil, fmt.Errorf("create executions: %w", err)
	}
	begun = true
	return w, nil
}

// insertExecutions inserts the new executions of batch, in its order, a
// few statements of many rows each: an INSERT's own cost (its program,
// its cursors, database/sql's) was a fifth of an execution row's, one per
// row. An ARN already in the batch stays with its first execution.
func (w *writer) insertExecutions(batch []op) error {
	w.creates = w.creates[:0]
	clear(w.created)
	for _, o := range batch {
		n := o.create
		if n == nil {
			continue
		}
		n.inserted, n.seq = false, 0
		if w.created[n.x.ARN] != nil {
			continue
		}
		w.created[n.x.ARN] = n
		w.creates = append(w.creates, n)
	}
	for rest := w.creates; len(rest) > 0; {
		k := maxInsertRows
		for k > len(rest) {
			k /= 2
		}
		if err := w.insertRows(rest[:k]); err != nil {
			return err
		}
		rest = rest[k:]
	}
	return nil
}

// insertRows inserts rows (a power of two of them) in one statement, but
// those whose ARN is taken, and marks those inserted, with their seqs.
// The statement is INSERT OR IGNORE: one that could fail after some of
// its rows would make SQLite copy each page it changes into a statement
// journal first (with random names, 60 % more bytes written). Its rows
// get consecutive seqs, each one more than the largest (schema version
// 8; a row ignored takes none), so the last insert's rowid numbers them
// all; when some were ignored, those seqs say which were inserted.
func (w *writer) insertRows(rows []*newExecution) error {
	stmt := w.insExec[len(rows)]
	if stmt == nil {
		q := `INSERT OR IGNORE INTO executions (` + execCols + `, machine_key, first_events, first_last, first_threads) VALUES ` +
			strings.TrimSuffix(strings.Repeat(`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?), `, len(rows)), ", ")
		var err error
		if stmt, err = w.conn.PrepareContext(context.Background(), q); err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
		w.insExec[len(rows)] = stmt
	}
	args := w.createArgs[:0]
	for _, n := range rows {
		var err error
		if args, err = w.rowArgs(args, n); err != nil {
			return err
		}
	}
	w.createArgs = args
	defer clear(args) // the rows' memory may be reused once their write is done
	res, err := stmt.Exec(args...)
	if err != nil {
		return err
	}
	inserted, err := res.RowsAffected()
	if err != nil || inserted == 0 {
		return err
	}
	last, err := res.LastInsertId()
	if err != nil {
		return err
	}
	if int(inserted) == len(rows) {
		for i, n := range rows {
			n.inserted, n.seq = true, last-int64(len(rows)-1-i)
		}
		return nil
	}
	// Some ARNs were taken: the inserted rows are the last ones.
	got, err := w.conn.QueryContext(context.Background(), `SELECT seq, arn FROM executions WHERE seq > ? AND seq <= ?`, last-inserted, last)
	if err != nil {
		return err
	}
	defer got.Close() // also on a panic: an open statement would keep the transaction from ending
	for got.Next() {
		var seq int64
		var arn string
		if err := got.Scan(&seq, &arn); err != nil {
			return err
		}
		if n := w.created[arn]; n != nil {
			n.inserted, n.seq = true, seq
		}
	}
	return got.Close()
}

// rowArgs appends the arguments of n's row.
func (w *writer) rowArgs(args []any, n *newExecution) ([]any, error) {
	c := n.x
	key, err := w.machineKey(c.StateMachineARN)
	if err != nil {
		return args, err
	}
	return append(args, c.ARN, c.Name, c.StateMachineARN, c.StateMachineName, c.RevisionID, c.Type, c.Status,
		c.Input, c.TraceHeader, nanos(c.StartDate), nanos(c.StopDate), nullStr(c.Output), nullStr(c.Error), nullStr(c.Cause), key,
		rawOrNil(n.row.blob), n.row.last, n.row.threads), nil
}

// Apply implements groupcommit.Tx.
func (w *writer) Apply(o op) (result, fatal error) {
	if n := o.create; n != nil {
		if !n.inserted {
			return store.ErrAlreadyExists, nil
		}
		if n.x.Status == store.StatusRunning {
			w.running[n.x.ARN] = &xstate{seq: n.seq, last: n.row.last}
		}
		return nil, nil
	}
	return o.apply(w)
}

// Commit implements groupcommit.Tx: the queued history rows, then COMMIT.
func (w *writer) Commit() error {
	if err := w.flushHistory(); err != nil {
		return err
	}
	if _, err := w.commitTx.Exec(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	w.forgetCreates()
	return nil
}

// forgetCreates drops the batch's new executions once it is done.
func (w *writer) forgetCreates() {
	clear(w.creates)
	w.creates = w.creates[:0]
	clear(w.created)
}

// Rollback implements groupcommit.Tx: it also forgets the cached state of
// the running executions and the machine keys, which the transaction may
// have changed or inserted.
func (w *writer) Rollback() {
	clear(w.rows)
	w.rows = w.rows[:0]
	clear(w.args)
	_, _ = w.rollbackTx.Exec()
	clear(w.running)
	clear(w.keys)
	w.retainFrom = 0
	w.forgetCreates()
}

// machineKey returns the key of the state machine arn (machine_keys),
// inserting it in the transaction in progress when it has none yet.
func (w *writer) machineKey(arn string) (int64, error) {
	if k, ok := w.keys[arn]; ok {
		return k, nil
	}
	var k int64
	err := w.getKey.QueryRow(arn).Scan(&k)
	if errors.Is(err, sql.ErrNoRows) {
		var res sql.Result
		if res, err = w.insKey.Exec(arn); err == nil {
			k, err = res.LastInsertId()
		}
	}
	if err != nil {
		return 0, fmt.Errorf("machine key: %w", err)
	}
	w.keys[arn] = k
	return k, nil
}

// lookup returns the state of a running execution, or the store error
// for appending to it.
func (w *writer) lookup(arn string) (*xstate, error, error) {
	if x := w.running[arn]; x != nil {
		return x, nil, nil
	}
	x, status, err := w.head(arn)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if status != store.StatusRunning {
		return nil, store.ErrConflict, nil
	}
	w.running[arn] = x
	return x, nil, nil
}

// head reads an execution's seq, status and last event id (that of its
// last history row, else of the first events in its row, else 0) in the
// transaction in progress: sql.ErrNoRows if there is no such execution.
func (w *writer) head(arn string) (*xstate, string, error) {
	var x xstate
	var status string
	var firstLast int64
	if err := w.lookExec.QueryRow(arn).Scan(&x.seq, &status, &firstLast); err != nil {
		return nil, "", err
	}
	if err := w.flushHistory(); err != nil {
		return nil, "", err
	}
	var last sql.NullInt64
	if err := w.maxHist.QueryRow(x.seq).Scan(&last); err != nil {
		return nil, "", err
	}
	x.last = max(last.Int64, firstLast)
	return &x, status, nil
}

// rowBuffers holds the buffers history rows are encoded into (*[]byte),
// reused once their write is done: most rows are a few hundred bytes, and
// an execution writes one per state.
var rowBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// maxPooledRow is the largest row buffer kept for reuse; larger ones (a
// large state input or output) are left to the garbage collector.
const maxPooledRow = 64 << 10

// encoded is a history row made from events, ready for the writer.
type encoded struct {
	blob        []byte
	threads     string
	first, last int64
	buf         *[]byte // blob's pooled buffer, given back by release
}

// encode checks that events have consecutive ids from at least 1 and
// encodes them into one history row (none for no events).
func encode(events []history.Event) (encoded, error) {
	var r encoded
	if len(events) == 0 {
		return r, nil
	}
	r.first, r.last = events[0].ID, events[len(events)-1].ID
	for i := range events {
		if events[i].ID != r.first+int64(i) {
			return r, fmt.Errorf("append events: ids not consecutive at %d: %w", events[i].ID, store.ErrConflict)
		}
	}
	if r.first < 1 {
		return r, fmt.Errorf("append events %d-%d: ids out of range: %w", r.first, r.last, store.ErrConflict)
	}
	r.buf = rowBuffers.Get().(*[]byte)
	var err error
	if r.blob, r.threads, err = encodeEvents((*r.buf)[:0], events); err != nil {
		return r, err
	}
	return r, nil
}

// release gives the row's buffer back for reuse. Once do returns, the
// write is done (committed, failed or abandoned) and never applied again:
// the row's bytes, which the driver copied, may be reused.
func (r *encoded) release() {
	if r.buf != nil && cap(r.blob) <= maxPooledRow {
		*r.buf = r.blob[:0]
		rowBuffers.Put(r.buf)
	}
}

// CreateExecution implements store.Store. The execution's row, holding
// its first events (first_events: see migrations/0007_first_events.sql)
// and its close, is written in one group-committed transaction; it
// returns once it is durable.
func (s *Store) CreateExecution(ctx context.Context, x *store.Execution, events []history.Event, end *store.End) error {
	c := *x
	if (len(events) > 0 || end != nil) && c.Status != store.StatusRunning {
		return fmt.Errorf("create execution: events for a closed execution: %w", store.ErrConflict)
	}
	if end != nil {
		c.Status, c.StopDate, c.Output, c.Error, c.Cause = end.Status, end.StopDate, end.Output, end.Error, end.Cause
	}
	row, err := encode(events)
	if err != nil {
		return err
	}
	defer row.release()
	if row.blob != nil && row.first != 1 {
		return fmt.Errorf("create execution: first event id %d: %w", row.first, store.ErrConflict)
	}
	return s.w.gc.Do(ctx, op{create: &newExecution{x: &c, row: row}})
}

// AppendHistory implements store.Store. The events (encoded together into
// one row) and the close of the execution are written in one group-
// committed transaction; it returns once they are durable.
func (s *Store) AppendHistory(ctx context.Context, arn string, events []history.Event, end *store.End) error {
	row, err := encode(events)
	if err != nil {
		return err
	}
	defer row.release()
	var e store.End
	if end != nil {
		e = *end
	}
	return s.w.do(ctx, func(w *writer) (error, error) {
		x, res, err := w.lookup(arn)
		if err != nil || res != nil {
			return res, err
		}
		if row.blob != nil {
			if row.first != x.last+1 {
				return fmt.Errorf("append event id %d after %d: %w", row.first, x.last, store.ErrConflict), nil
			}
			w.addHistory(x.seq, row.last, row.first, row.blob, row.threads)
			x.last = row.last
		}
		if end != nil {
			if _, err := w.closeExec.Exec(e.Status, nanos(e.StopDate), nullStr(e.Output), nullStr(e.Error), nullStr(e.Cause), x.seq); err != nil {
				return nil, err
			}
			delete(w.running, arn)
		}
		return nil, nil
	})
}

// CreateStateMachine implements store.Store.
func (s *Store) CreateStateMachine(ctx context.Context, sm *store.StateMachine) error {
	c := *sm
	defer s.machines.invalidate(c.ARN)
	return s.w.do(ctx, func(w *writer) (error, error) {
		res, err := w.conn.ExecContext(context.Background(), `INSERT INTO machines (arn, name, type, creation_ns, tags, revision_id)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (arn) DO NOTHING`, c.ARN, c.Name, c.Type, nanos(c.CreationDate), rawOrNil(c.Tags), c.RevisionID)
		if err != nil {
			return nil, err
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, err
		} else if n == 0 {
			return store.ErrAlreadyExists, nil
		}
		return nil, w.putRevision(c.ARN, &c.Revision)
	})
}

func (w *writer) putRevision(arn string, r *store.Revision) error {
	_, err := w.conn.ExecContext(context.Background(), `INSERT OR REPLACE INTO revisions
		(machine_arn, revision_id, definition, role_arn, logging, tracing, update_ns) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		arn, r.RevisionID, r.Definition, r.RoleARN, rawOrNil(r.Logging), rawOrNil(r.Tracing), nanos(r.UpdateDate))
	return err
}

// UpdateStateMachine implements store.Store.
func (s *Store) UpdateStateMachine(ctx context.Context, arn, prevRevisionID string, rev *store.Revision) error {
	r := *rev
	defer s.machines.invalidate(arn)
	return s.w.do(ctx, func(w *writer) (error, error) {
		var cur string
		err := w.conn.QueryRowContext(context.Background(), `SELECT revision_id FROM machines WHERE arn = ?`, arn).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound, nil
		}
		if err != nil {
			return nil, err
		}
		if cur != prevRevisionID {
			return store.ErrConflict, nil
		}
		if _, err := w.conn.ExecContext(context.Background(), `UPDATE machines SET revision_id = ? WHERE arn = ?`, r.RevisionID, arn); err != nil {
			return nil, err
		}
		return nil, w.putRevision(arn, &r)
	})
}

// DeleteStateMachine implements store.Store.
func (s *Store) DeleteStateMachine(ctx context.Context, arn string) error {
	defer s.machines.invalidate(arn)
	return s.w.do(ctx, func(w *writer) (error, error) {
		res, err := w.conn.ExecContext(context.Background(), `DELETE FROM machines WHERE arn = ?`, arn)
		if err != nil {
			return nil, err
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, err
		} else if n == 0 {
			return store.ErrNotFound, nil
		}
		return nil, nil
	})
}

// retentionBatch bounds the executions one retention write deletes, and
// retentionScan the rows it reads, so that other writes are not held up.
const (
	retentionBatch = 256
	retentionScan  = 2048
)

// lateClose is how long after its start an execution closes for its close
// to be indexed (executions_closed_late, schema version 10): the others,
// nearly all of them (a short execution is inserted closed), are found in
// seq order, which is their start's within startSkew, so that inserting
// one costs no index entry for retention.
const lateClose = int64(time.Hour)

// The retention queries: the executions closed late before a time (by
// executions_closed_late, whose condition its own must repeat), and a
// page of executions in seq order.
var (
	lateClosedQuery = `SELECT seq, arn FROM executions
		WHERE status <> 'RUNNING' AND stop_ns > start_ns + ` + strconv.FormatInt(lateClose, 10) + ` AND stop_ns < ? LIMIT ?`
	retainScanQuery = `SELECT seq, arn, status, start_ns, stop_ns FROM executions WHERE seq > ? ORDER BY seq LIMIT ?`
)

// startSkew bounds how far a later seq's start may precede an earlier
// one's: a Standard execution's row is created with its first durable
// write, at most 100 ms after its start (executions.firstWriteWithin).
const startSkew = int64(time.Second)

// DeleteClosedBefore implements store.Store. The executions' Map Runs and
// metadata go with them. Executions closed more than lateClose after they
// started are found by their close (executions_closed_late); the others
// by reading the executions in seq order from the writer's retention
// cursor (writer.retainFrom) until one started startSkew after t.
func (s *Store) DeleteClosedBefore(ctx context.Context, t time.Time) (int, error) {
	cut := t.UnixNano()
	total, err := s.deleteLate(ctx, cut)
	if err != nil {
		return total, err
	}
	from, advance := int64(-1), true
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		var n int
		var more, nextAdvance bool
		var next int64
		err := s.w.do(ctx, func(w *writer) (error, error) {
			f := from
			if f < 0 {
				f = w.retainFrom
			}
			var err error
			n, more, next, nextAdvance, err = w.retainScan(f, cut, advance)
			return nil, err
		})
		if err != nil {
			return total, fmt.Errorf("delete closed executions: %w", err)
		}
		total += n
		from, advance = next, nextAdvance
		if !more {
			return total, nil
		}
	}
}

// deleteLate deletes the executions closed before cut that closed
// lateClose or more after they started.
func (s *Store) deleteLate(ctx context.Context, cut int64) (int, error) {
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n := 0
		err := s.w.do(ctx, func(w *writer) (error, error) {
			n = 0
			// The history rows queued in this transaction first: they
			// are deleted with their executions.
			if err := w.flushHistory(); err != nil {
				return nil, err
			}
			rows, err := w.conn.QueryContext(context.Background(), lateClosedQuery, cut, retentionBatch)
			if err != nil {
				return nil, err
			}
			defer rows.Close() // also on a panic: an open statement would keep the transaction from ending
			var doomed []doomedExecution
			for rows.Next() {
				var d doomedExecution
				if err := rows.Scan(&d.seq, &d.arn); err != nil {
					return nil, err
				}
				doomed = append(doomed, d)
			}
			if err := rows.Close(); err != nil {
				return nil, err
			}
			n = len(doomed)
			return nil, w.deleteExecutions(doomed)
		})
		if err != nil {
			return total, fmt.Errorf("delete closed executions: %w", err)
		}
		total += n
		if n < retentionBatch {
			return total, nil
		}
	}
}

// retainScan reads the executions after seq from in seq order, at most
// retentionScan of them, and deletes those closed before cut, at most
// retentionBatch. It returns how many it deleted, whether to go on, and
// the seq to go on after. While advance holds (no execution read so far
// needs reading again), it moves the retention cursor past each one it
// reads that no later scan needs: deleted, closed late (found by its
// close then), or running since lateClose before cut (it will close late).
// It stops at the first execution that started startSkew after cut: none
// after it can have closed before cut, but for the skew of seqs.
func (w *writer) retainScan(from, cut int64, advance bool) (deleted int, more bool, next int64, stillAdvance bool, err error) {
	if err := w.flushHistory(); err != nil {
		return 0, false, from, advance, err
	}
	rows, err := w.conn.QueryContext(context.Background(), retainScanQuery, from, retentionScan)
	if err != nil {
		return 0, false, from, advance, err
	}
	defer rows.Close() // also on a panic: an open statement would keep the transaction from ending
	var doomed []doomedExecution
	next, read, end := from, 0, false
	for rows.Next() {
		var f doomedExecution
		var status string
		var start, stop int64
		if err := rows.Scan(&f.seq, &f.arn, &status, &start, &stop); err != nil {
			return 0, false, from, advance, err
		}
		read++
		if start >= cut+startSkew {
			end = true
			break
		}
		next = f.seq
		running := status == store.StatusRunning
		switch {
		case !running && stop < cut:
			doomed = append(doomed, f)
		case running && start < cut-lateClose, !running && stop > start+lateClose:
		default:
			advance = false // read it again next time
		}
		if advance {
			w.retainFrom = f.seq
		}
		if len(doomed) == retentionBatch {
			break
		}
	}
	if err := rows.Close(); err != nil {
		return 0, false, from, advance, err
	}
	if err := w.deleteExecutions(doomed); err != nil {
		return 0, false, from, advance, err
	}
	more = !end && (read == retentionScan || len(doomed) == retentionBatch)
	return len(doomed), more, next, advance, nil
}

// doomedExecution is an execution retention deletes.
type doomedExecution struct {
	seq int64
	arn string
}

// deleteExecutions deletes executions, their history, Map Runs and
// metadata in the transaction in progress.
func (w *writer) deleteExecutions(doomed []doomedExecution) error {
	bg := context.Background()
	for _, d := range doomed {
		for _, q := range []struct {
			sql string
			arg any
		}{
			{`DELETE FROM history WHERE execution = ?`, d.seq},
			{`DELETE FROM executions WHERE seq = ?`, d.seq},
			{`DELETE FROM map_runs WHERE execution_arn = ?`, d.arn},
			{`DELETE FROM execution_meta WHERE execution_arn = ?`, d.arn},
		} {
			if _, err := w.conn.ExecContext(bg, q.sql, q.arg); err != nil {
				return err
			}
		}
	}
	return nil
}

var _ store.Reopener = (*Store)(nil)

// ReopenExecution implements store.Reopener: in one durable write, a
// closed execution becomes RUNNING again (stop date, output, error and
// cause cleared) and events are appended to its history.
func (s *Store) ReopenExecution(ctx context.Context, arn string, events []history.Event) error {
	var blob []byte
	var threads string
	var first, last int64
	if len(events) > 0 {
		first, last = events[0].ID, events[len(events)-1].ID
		for i := range events {
			if events[i].ID != first+int64(i) {
				return fmt.Errorf("reopen: event ids not consecutive at %d: %w", events[i].ID, store.ErrConflict)
			}
		}
		var err error
		if blob, threads, err = encodeEvents(make([]byte, 0, 256*len(events)), events); err != nil {
			return err
		}
	}
	return s.w.do(ctx, func(w *writer) (error, error) {
		if w.running[arn] != nil {
			return store.ErrConflict, nil
		}
		x, status, err := w.head(arn)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound, nil
		}
		if err != nil {
			return nil, err
		}
		if status == store.StatusRunning {
			return store.ErrConflict, nil
		}
		seq := x.seq
		if blob != nil {
			if first != x.last+1 {
				return fmt.Errorf("reopen: event id %d after %d: %w", first, x.last, store.ErrConflict), nil
			}
			w.addHistory(seq, last, first, blob, threads)
			x.last = last
		}
		if _, err := w.closeExec.Exec(store.StatusRunning, 0, nil, nil, nil, seq); err != nil {
			return nil, err
		}
		w.running[arn] = x
		return nil, nil
	})
}
