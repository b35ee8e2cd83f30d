// Package postgres is a store.Store on PostgreSQL, through pgx. It also
// implements store.ActivityStore, store.Versions (versions, aliases, tags,
// Map Runs, execution metadata) and store.Reopener (RedriveExecution), so
// a server on PostgreSQL keeps everything in the database.
//
// The schema is created and migrated by Open from the versioned SQL files
// embedded from migrations/ (table schema_version). Tables live in the
// connection's current schema, so several Stepwell deployments (or tests)
// can share a database with `search_path` in the DSN.
//
// History appends are group-committed (store/internal/groupcommit):
// AppendHistory hands its events to a writer goroutine (executions are
// spread over a few writers by ARN, so one execution's appends stay in
// order), which drains everything queued into one transaction and returns
// to each caller after COMMIT, that is after
// PostgreSQL has flushed the transaction's WAL (synchronous_commit, on by
// default, is what makes an acknowledged step durable). Many executions'
// steps therefore share one WAL flush.
//
// Each append locks the execution's row (SELECT ... FOR UPDATE) and checks
// that the execution is running and that the event ids continue its
// history inside the transaction; the history's primary key
// (execution_arn, event_id) makes a duplicate id impossible even between
// processes. Timestamps are stored with PostgreSQL's microsecond precision.
package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
	"github.com/stepwell/stepwell/store/internal/groupcommit"
)

var _ store.Store = (*Store)(nil)

const (
	// writers is the number of group-commit writer goroutines (and
	// connections they use at most).
	writers = 2
	// maxBatch bounds how many AppendHistory calls share one transaction,
	// and maxBatchBytes roughly how much data they carry (one larger call
	// still goes alone).
	maxBatch      = 1024
	maxBatchBytes = 8 << 20
	// writeTimeout bounds one group-commit transaction.
	writeTimeout = time.Minute
	// deleteChunk is how many executions DeleteClosedBefore deletes per
	// statement.
	deleteChunk = 1000
)

// errClosed is returned by calls made after Close.
var errClosed = errors.New("postgres store is closed")

// Store is a store.Store backed by PostgreSQL. Create it with Open.
type Store struct {
	pool  *pgxpool.Pool
	owner string
	seed  maphash.Seed

	closeOnce sync.Once
	writers   []*groupcommit.Writer[*appendReq]

	// Cluster (cluster.go): the node id Join gave this process (0: not
	// joined, no fencing), its name and lease, and the appends fenced.
	node   atomic.Int64
	name   string
	ttl    time.Duration
	fenced atomic.Int64
	// leaseConn is the session Renew uses, alone: a pool busy with
	// appends, history reads and resumptions must not hold a renewal
	// back past the lease (leaseMu guards it).
	leaseMu   sync.Mutex
	leaseConn *pgx.Conn
}

// appendReq is one AppendHistory call waiting for its group commit.
type appendReq struct {
	arn     string
	events  []history.Event
	details [][]byte // events' JSON, encoded by the caller
	end     *store.End
	size    int // bytes of event details and end payloads
}

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value connection string, as pgx accepts; pool_max_conns and
// search_path may be given), creates or migrates the schema, and starts the
// group-commit writers. Opening a database whose schema is newer than this
// build fails with an error wrapping ErrSchemaTooNew.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse dsn: %w", err)
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = max(cfg.MaxConns, writers+16)
	}
	if _, set := cfg.ConnConfig.RuntimeParams["synchronous_commit"]; !set {
		// An acknowledged write must be durable: a server configured with
		// synchronous_commit=off is overridden for Stepwell's sessions
		// (unless the DSN asks for it explicitly). Stronger settings
		// (remote_write, remote_apply) are kept.
		cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
			var v string
			if err := conn.QueryRow(ctx, `SELECT current_setting('synchronous_commit')`).Scan(&v); err != nil {
				return err
			}
			if v == "off" {
				_, err := conn.Exec(ctx, `SET synchronous_commit TO on`)
				return err
			}
			return nil
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Store{pool: pool, owner: ownerID(), seed: maphash.MakeSeed()}
	for range writers {
		s.writers = append(s.writers, groupcommit.New(s.begin, groupcommit.Options[*appendReq]{
			MaxBatch: maxBatch, MaxBytes: maxBatchBytes, Size: func(r *appendReq) int { return r.size }, Closed: errClosed,
		}))
	}
	return s, nil
}

// Stats counts the store's group commits (history appends; execution rows
// are written outside them).
type Stats struct {
	Commits    int64         // transactions committed
	Writes     int64         // appends they held
	CommitTime time.Duration // spent in the committed transactions
	Queued     int           // appends waiting for a writer now
}

// Stats returns the counts of its writers since Open.
func (s *Store) Stats() Stats {
	var out Stats
	for _, w := range s.writers {
		st := w.Stats()
		out.Commits += st.Commits
		out.Writes += st.Writes
		out.CommitTime += st.CommitTime
		out.Queued += st.Queued
	}
	return out
}

// ownerID names this process in the executions' owner column.
func ownerID() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Owner returns the id this store writes into the owner column of the
// executions it creates.
func (s *Store) Owner() string { return s.owner }

// Close waits for queued appends to commit, stops the writers and closes
// the connection pool.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		for _, w := range s.writers {
			w.Close()
		}
		s.leave()
		s.leaseMu.Lock()
		if s.leaseConn != nil {
			_ = s.leaseConn.Close(context.Background())
			s.leaseConn = nil
		}
		s.leaseMu.Unlock()
		s.pool.Close()
	})
	return nil
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func timeOf(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

func nullBytes(s *string) []byte {
	if s == nil {
		return nil
	}
	return append([]byte{}, *s...)
}

func strOf(b []byte) *string {
	if b == nil {
		return nil
	}
	s := string(b)
	return &s
}

func rawOf(b []byte) json.RawMessage {
	if b == nil {
		return nil
	}
	return json.RawMessage(b)
}

// CreateStateMachine implements store.Store.
func (s *Store) CreateStateMachine(ctx context.Context, sm *store.StateMachine) error {
	// One statement: the revision is written only if the machine was.
	return s.execOne(ctx, "create state machine", store.ErrAlreadyExists, `
		WITH m AS (
			INSERT INTO state_machines (arn, name, type, creation_date, tags, revision_id)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (arn) DO NOTHING
			RETURNING arn)
		INSERT INTO revisions (machine_arn, revision_id, definition, role_arn, logging, tracing, update_date)
		SELECT arn, $6, $7, $8, $9, $10, $11 FROM m
		ON CONFLICT (machine_arn, revision_id) DO UPDATE SET
			definition = excluded.definition, role_arn = excluded.role_arn, logging = excluded.logging,
			tracing = excluded.tracing, update_date = excluded.update_date`,
		sm.ARN, sm.Name, sm.Type, sm.CreationDate, []byte(sm.Tags), sm.RevisionID,
		[]byte(sm.Definition), sm.RoleARN, []byte(sm.Logging), []byte(sm.Tracing), nullTime(sm.UpdateDate))
}

const machineCols = `m.seq, m.arn, m.name, m.type, m.creation_date, m.tags,
	r.revision_id, r.definition, r.role_arn, r.logging, r.tracing, r.update_date`

func scanMachine(row pgx.Row) (*store.StateMachine, int64, error) {
	var (
		sm                          store.StateMachine
		seq                         int64
		tags, def, logging, tracing []byte
		updated                     *time.Time
	)
	if err := row.Scan(&seq, &sm.ARN, &sm.Name, &sm.Type, &sm.CreationDate, &tags,
		&sm.RevisionID, &def, &sm.RoleARN, &logging, &tracing, &updated); err != nil {
		return nil, 0, err
	}
	sm.CreationDate = sm.CreationDate.UTC()
	sm.Tags = rawOf(tags)
	sm.Definition = string(def)
	sm.Logging, sm.Tracing = rawOf(logging), rawOf(tracing)
	sm.UpdateDate = timeOf(updated)
	return &sm, seq, nil
}

// GetStateMachine implements store.Store.
func (s *Store) GetStateMachine(ctx context.Context, arn string) (*store.StateMachine, error) {
	sm, _, err := scanMachine(s.pool.QueryRow(ctx, `SELECT `+machineCols+`
		FROM state_machines m JOIN revisions r ON r.machine_arn = m.arn AND r.revision_id = m.revision_id
		WHERE m.arn = $1`, arn))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get state machine: %w", err)
	}
	return sm, nil
}

// UpdateStateMachine implements store.Store.
func (s *Store) UpdateStateMachine(ctx context.Context, arn, prevRevisionID string, rev *store.Revision) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("update state machine: %w", err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }() // a no-op after Commit
	var cur string
	err = tx.QueryRow(ctx, `SELECT revision_id FROM state_machines WHERE arn = $1 FOR UPDATE`, arn).Scan(&cur)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("update state machine: %w", err)
	}
	if cur != prevRevisionID {
		return store.ErrConflict
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO revisions (machine_arn, revision_id, definition, role_arn, logging, tracing, update_date)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (machine_arn, revision_id) DO UPDATE SET
			definition = excluded.definition, role_arn = excluded.role_arn, logging = excluded.logging,
			tracing = excluded.tracing, update_date = excluded.update_date`,
		arn, rev.RevisionID, []byte(rev.Definition), rev.RoleARN, []byte(rev.Logging), []byte(rev.Tracing), nullTime(rev.UpdateDate)); err != nil {
		return fmt.Errorf("update state machine: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE state_machines SET revision_id = $2 WHERE arn = $1`, arn, rev.RevisionID); err != nil {
		return fmt.Errorf("update state machine: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("update state machine: %w", err)
	}
	return nil
}

// DeleteStateMachine implements store.Store.
func (s *Store) DeleteStateMachine(ctx context.Context, arn string) error {
	return s.execOne(ctx, "delete state machine", store.ErrNotFound, `DELETE FROM state_machines WHERE arn = $1`, arn)
}

// ListStateMachines implements store.Store.
func (s *Store) ListStateMachines(ctx context.Context, p store.Page) ([]*store.StateMachine, string, error) {
	after, err := store.ParsePageToken(p.Token, "m")
	if err != nil {
		return nil, "", err
	}
	limit := pageLimit(p)
	out, next, err := queryPage(ctx, s, "m", limit, scanMachine, `SELECT `+machineCols+`
		FROM state_machines m JOIN revisions r ON r.machine_arn = m.arn AND r.revision_id = m.revision_id
		WHERE m.seq > $1 ORDER BY m.seq LIMIT $2`, after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list state machines: %w", err)
	}
	return out, next, nil
}

// GetRevision implements store.Store.
func (s *Store) GetRevision(ctx context.Context, arn, revisionID string) (*store.Revision, error) {
	var (
		r                     store.Revision
		def, logging, tracing []byte
		updated               *time.Time
	)
	err := s.pool.QueryRow(ctx, `SELECT revision_id, definition, role_arn, logging, tracing, update_date
		FROM revisions WHERE machine_arn = $1 AND revision_id = $2`, arn, revisionID).
		Scan(&r.RevisionID, &def, &r.RoleARN, &logging, &tracing, &updated)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get revision: %w", err)
	}
	r.Definition = string(def)
	r.Logging, r.Tracing = rawOf(logging), rawOf(tracing)
	r.UpdateDate = timeOf(updated)
	return &r, nil
}

// CreateExecution implements store.Store. A running execution is recorded
// as owned by this process (and, once joined, by its node). The row and
// the first events are one statement, so one transaction.
func (s *Store) CreateExecution(ctx context.Context, x *store.Execution, events []history.Event, end *store.End) error {
	c := *x
	if len(events) > 0 || end != nil {
		if c.Status != store.StatusRunning {
			return fmt.Errorf("create execution: events for a closed execution: %w", store.ErrConflict)
		}
		for i := range events {
			if events[i].ID != int64(i)+1 {
				return fmt.Errorf("create execution: event id %d at %d: %w", events[i].ID, i+1, store.ErrConflict)
			}
		}
	}
	if end != nil {
		c.Status, c.StopDate, c.Output, c.Error, c.Cause = end.Status, end.StopDate, end.Output, end.Error, end.Cause
	}
	var owner, node any
	if c.Status == store.StatusRunning {
		owner = s.owner
		if id := s.node.Load(); id != 0 {
			owner, node = s.name, id
		}
	}
	args := []any{c.ARN, c.Name, c.StateMachineARN, c.StateMachineName, c.RevisionID, c.Type, c.Status,
		[]byte(c.Input), []byte(c.TraceHeader), c.StartDate, nullTime(c.StopDate),
		nullBytes(c.Output), nullBytes(c.Error), nullBytes(c.Cause), owner, node, int64(len(events))}
	const insert = `INSERT INTO executions (arn, name, state_machine_arn, state_machine_name, revision_id, type, status,
			input, trace_header, start_date, stop_date, output, error, cause, owner, owner_node, last_event_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
		ON CONFLICT (arn) DO NOTHING`
	if len(events) == 0 {
		return s.execOne(ctx, "create execution", store.ErrAlreadyExists, insert, args...)
	}
	n := len(events)
	ids, prevs := make([]int64, n), make([]int64, n)
	arns, types, threads := make([]string, n), make([]string, n), make([]string, n)
	stamps, details := make([]time.Time, n), make([][]byte, n)
	for i := range events {
		e := &events[i]
		b, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("create execution: encode event %d: %w", e.ID, err)
		}
		arns[i], ids[i], prevs[i], types[i], threads[i], stamps[i], details[i] = c.ARN, e.ID, e.PreviousEventID, string(e.Type), e.Thread, e.Timestamp, b
	}
	var created int
	err := s.pool.QueryRow(ctx, `WITH x AS (`+insert+` RETURNING arn),
		h AS (INSERT INTO history (execution_arn, event_id, previous_id, type, thread, ts, details)
			SELECT * FROM unnest($18::text[], $19::bigint[], $20::bigint[], $21::text[], $22::text[], $23::timestamptz[], $24::bytea[])
			WHERE EXISTS (SELECT 1 FROM x))
		SELECT count(*) FROM x`, append(args, arns, ids, prevs, types, threads, stamps, details)...).Scan(&created)
	if err != nil {
		return fmt.Errorf("create execution: %w", err)
	}
	if created == 0 {
		return store.ErrAlreadyExists
	}
	return nil
}

const execCols = `seq, arn, name, state_machine_arn, state_machine_name, revision_id, type, status,
	input, trace_header, start_date, stop_date, output, error, cause`

func scanExecution(row pgx.Row) (*store.Execution, int64, error) {
	var (
		x                                 store.Execution
		seq                               int64
		input, trace, output, errb, cause []byte
		stop                              *time.Time
	)
	if err := row.Scan(&seq, &x.ARN, &x.Name, &x.StateMachineARN, &x.StateMachineName, &x.RevisionID, &x.Type, &x.Status,
		&input, &trace, &x.StartDate, &stop, &output, &errb, &cause); err != nil {
		return nil, 0, err
	}
	x.Input, x.TraceHeader = string(input), string(trace)
	x.StartDate = x.StartDate.UTC()
	x.StopDate = timeOf(stop)
	x.Output, x.Error, x.Cause = strOf(output), strOf(errb), strOf(cause)
	return &x, seq, nil
}

// GetExecution implements store.Store.
func (s *Store) GetExecution(ctx context.Context, arn string) (*store.Execution, error) {
	x, _, err := scanExecution(s.pool.QueryRow(ctx, `SELECT `+execCols+` FROM executions WHERE arn = $1`, arn))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get execution: %w", err)
	}
	return x, nil
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
	limit := pageLimit(p)
	query, args := `SELECT `+execCols+` FROM executions
		WHERE state_machine_arn = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`, []any{f.StateMachineARN, before, limit + 1}
	if f.Status != "" {
		query, args = `SELECT `+execCols+` FROM executions
			WHERE state_machine_arn = $1 AND status = $4 AND seq < $2 ORDER BY seq DESC LIMIT $3`, append(args, f.Status)
	}
	out, next, err := queryPage(ctx, s, "x", limit, scanExecution, query, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list executions: %w", err)
	}
	return out, next, nil
}

// ListRunning implements store.Store.
func (s *Store) ListRunning(ctx context.Context) ([]*store.Execution, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+execCols+` FROM executions WHERE status = 'RUNNING' ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("list running executions: %w", err)
	}
	defer rows.Close()
	var out []*store.Execution
	for rows.Next() {
		x, _, err := scanExecution(rows)
		if err != nil {
			return nil, fmt.Errorf("list running executions: %w", err)
		}
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list running executions: %w", err)
	}
	return out, nil
}

// DeleteClosedBefore implements store.Store. It deletes in chunks, each in
// its own transaction, skipping rows another transaction holds. The
// executions' Map Runs and metadata go with them.
func (s *Store) DeleteClosedBefore(ctx context.Context, t time.Time) (int, error) {
	total := 0
	for {
		var n int
		err := s.pool.QueryRow(ctx, `
			WITH d AS (
				DELETE FROM executions WHERE arn IN (
					SELECT arn FROM executions
					WHERE status <> 'RUNNING' AND (stop_date IS NULL OR stop_date < $1)
					LIMIT $2 FOR UPDATE SKIP LOCKED)
				RETURNING arn),
			h AS (DELETE FROM history WHERE execution_arn IN (SELECT arn FROM d)),
			r AS (DELETE FROM map_runs WHERE execution_arn IN (SELECT arn FROM d)),
			m AS (DELETE FROM execution_meta WHERE execution_arn IN (SELECT arn FROM d))
			SELECT count(*) FROM d`, t, deleteChunk).Scan(&n)
		if err != nil {
			return total, fmt.Errorf("delete closed executions: %w", err)
		}
		total += n
		if n < deleteChunk {
			return total, nil
		}
	}
}

// AppendHistory implements store.Store. It returns once the events (and
// the end, if any) are committed, sharing the transaction with concurrent
// appends. If ctx ends before the group-commit writer takes the call into
// a transaction, nothing is written and ctx's error is returned; once
// taken, the call waits for its transaction's outcome.
func (s *Store) AppendHistory(ctx context.Context, arn string, events []history.Event, end *store.End) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("append history: %w", err)
	}
	req := &appendReq{arn: arn, events: events, end: end}
	if len(events) > 0 {
		req.details = make([][]byte, len(events))
		for i := range events {
			b, err := json.Marshal(events[i])
			if err != nil {
				return fmt.Errorf("append history: encode event %d: %w", events[i].ID, err)
			}
			req.details[i] = b
			req.size += len(b)
		}
	}
	if end != nil {
		for _, p := range []*string{end.Output, end.Error, end.Cause} {
			if p != nil {
				req.size += len(*p)
			}
		}
	}
	w := s.writers[maphash.String(s.seed, arn)%uint64(len(s.writers))]
	err := w.Do(ctx, req)
	if cerr := ctx.Err(); err != nil && err == cerr {
		return fmt.Errorf("append history: %w", err)
	}
	return err
}

type execState struct {
	status  string
	last    int64
	owner   *int64 // owner_node
	changed bool
}

const (
	lockSQL = `SELECT arn, status, last_event_id, owner_node FROM executions WHERE arn = ANY($1) ORDER BY arn FOR UPDATE`
	// leaseSQL is the fence of a joined node: its row exists and its lease
	// has not expired (locked so that a claim of its executions waits for
	// the COMMIT).
	leaseSQL = `SELECT lease_until > clock_timestamp() FROM nodes WHERE id = $1 FOR KEY SHARE`
	// insertSQL appends many executions' events in one statement.
	insertSQL = `INSERT INTO history (execution_arn, event_id, previous_id, type, thread, ts, details)
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::timestamptz[], $7::bytea[])`
	lastSQL = `UPDATE executions AS e SET last_event_id = v.last
		FROM unnest($1::text[], $2::bigint[]) AS v(arn, last) WHERE e.arn = v.arn`
	endSQL = `UPDATE executions SET status = $2, stop_date = $3, output = $4, error = $5, cause = $6, lease_until = NULL
		WHERE arn = $1`
)

// appendTx is the transaction of a batch of appends (groupcommit.Tx), in
// two round trips: BEGIN and the row locks (begin), then the writes and
// COMMIT (Commit). Apply checks each request against the locked rows; a
// request that cannot be applied gets its own error and takes no part in
// the writes.
type appendTx struct {
	ctx    context.Context
	cancel context.CancelFunc
	conn   *pgxpool.Conn
	arns   []string
	state  map[string]*execState
	fenced *atomic.Int64 // the store's count of fenced appends
	node   int64         // the joined node (0: no fence)
	leased bool          // the node's lease held when the batch began

	hArn, hType, hThread []string
	hID, hPrev           []int64
	hTS                  []time.Time
	hDetails             [][]byte
	ends                 []*appendReq
}

// begin starts the transaction of a batch (groupcommit.Begin): it locks
// the rows of the batch's executions.
func (s *Store) begin(reqs []*appendReq) (_ groupcommit.Tx[*appendReq], err error) {
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("append history: %w", err)
	}
	tx := &appendTx{ctx: ctx, cancel: cancel, conn: conn, node: s.node.Load(), fenced: &s.fenced}
	defer func() {
		if err != nil {
			tx.Rollback()
			err = fmt.Errorf("append history: %w", err)
		}
	}()

	tx.arns = make([]string, 0, len(reqs))
	for _, r := range reqs {
		tx.arns = append(tx.arns, r.arn)
	}
	slices.Sort(tx.arns)
	tx.arns = slices.Compact(tx.arns)

	b := &pgx.Batch{}
	b.Queue("BEGIN")
	if tx.node != 0 {
		// A process paused inside the transaction must not keep its locks
		// (which would stall the takeover of its executions) past half its
		// lease: PostgreSQL then ends the session.
		b.Queue(fmt.Sprintf("SET LOCAL idle_in_transaction_session_timeout = %d", max(s.ttl.Milliseconds()/2, 1)))
		b.Queue(leaseSQL, tx.node)
	}
	b.Queue(lockSQL, tx.arns)
	br := conn.SendBatch(ctx, b)
	tx.state = make(map[string]*execState, len(tx.arns))
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		return nil, err
	}
	if tx.node != 0 {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return nil, err
		}
		err := br.QueryRow().Scan(&tx.leased)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			_ = br.Close()
			return nil, err
		}
	}
	rows, err := br.Query()
	if err != nil {
		_ = br.Close()
		return nil, err
	}
	for rows.Next() {
		var (
			arn string
			st  execState
		)
		if err := rows.Scan(&arn, &st.status, &st.last, &st.owner); err != nil {
			rows.Close()
			_ = br.Close()
			return nil, err
		}
		tx.state[arn] = &st
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		_ = br.Close()
		return nil, err
	}
	if err := br.Close(); err != nil {
		return nil, err
	}
	return tx, nil
}

// Apply implements groupcommit.Tx: it checks r against its execution's
// locked row (and the appends before it in the batch) and queues its
// writes.
func (tx *appendTx) Apply(r *appendReq) (result, fatal error) {
	st := tx.state[r.arn]
	if st == nil {
		return store.ErrNotFound, nil
	}
	if tx.node != 0 && (!tx.leased || st.owner == nil || *st.owner != tx.node) {
		// Fenced: the node lost its lease, or the execution is another's.
		tx.fenced.Add(1)
		return fmt.Errorf("append to %s: %w", r.arn, errLeaseLost), nil
	}
	if st.status != store.StatusRunning {
		return fmt.Errorf("append to a %s execution: %w", st.status, store.ErrConflict), nil
	}
	for i := range r.events {
		if r.events[i].ID != st.last+1+int64(i) {
			return fmt.Errorf("append event id %d after %d: %w", r.events[i].ID, st.last, store.ErrConflict), nil
		}
	}
	for i := range r.events {
		e := &r.events[i]
		tx.hArn = append(tx.hArn, r.arn)
		tx.hID = append(tx.hID, e.ID)
		tx.hPrev = append(tx.hPrev, e.PreviousEventID)
		tx.hType = append(tx.hType, string(e.Type))
		tx.hThread = append(tx.hThread, e.Thread)
		tx.hTS = append(tx.hTS, e.Timestamp)
		tx.hDetails = append(tx.hDetails, r.details[i])
	}
	if len(r.events) > 0 {
		st.last += int64(len(r.events))
		st.changed = true
	}
	if r.end != nil {
		st.status = r.end.Status
		tx.ends = append(tx.ends, r)
	}
	return nil, nil
}

// Commit implements groupcommit.Tx: the batch's writes and COMMIT in one
// round trip.
func (tx *appendTx) Commit() error {
	b := &pgx.Batch{}
	if len(tx.hArn) > 0 {
		b.Queue(insertSQL, tx.hArn, tx.hID, tx.hPrev, tx.hType, tx.hThread, tx.hTS, tx.hDetails)
		var uArn []string
		var uLast []int64
		for _, arn := range tx.arns {
			if st := tx.state[arn]; st != nil && st.changed {
				uArn = append(uArn, arn)
				uLast = append(uLast, st.last)
			}
		}
		b.Queue(lastSQL, uArn, uLast)
	}
	for _, r := range tx.ends {
		e := r.end
		b.Queue(endSQL, r.arn, e.Status, nullTime(e.StopDate), nullBytes(e.Output), nullBytes(e.Error), nullBytes(e.Cause))
	}
	b.Queue("COMMIT")
	if err := tx.conn.SendBatch(tx.ctx, b).Close(); err != nil {
		return fmt.Errorf("append history: %w", err)
	}
	tx.conn.Release()
	tx.cancel()
	return nil
}

// Rollback implements groupcommit.Tx.
func (tx *appendTx) Rollback() {
	// The pool also discards a connection left inside a transaction.
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	_, _ = tx.conn.Exec(ctx, "ROLLBACK")
	cancel()
	tx.conn.Release()
	tx.cancel()
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
	limit := pageLimit(p)
	var last int64
	err = s.pool.QueryRow(ctx, `SELECT last_event_id FROM executions WHERE arn = $1`, arn).Scan(&last)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", store.ErrNotFound
	}
	if err != nil {
		return nil, "", fmt.Errorf("history: %w", err)
	}
	query := `SELECT event_id, previous_id, type, thread, ts, details FROM history
		WHERE execution_arn = $1 AND event_id > $2 ORDER BY event_id LIMIT $3`
	if !reverse {
		// pos is the id of the last event returned.
		if pos > last {
			return nil, "", store.ErrInvalidToken
		}
	} else {
		// pos is the id of the last event returned (none yet: start above the newest).
		if p.Token == "" {
			pos = last + 1
		}
		if pos > last+1 || pos < 1 {
			return nil, "", store.ErrInvalidToken
		}
		query = `SELECT event_id, previous_id, type, thread, ts, details FROM history
			WHERE execution_arn = $1 AND event_id < $2 ORDER BY event_id DESC LIMIT $3`
	}
	out, next, err := queryPage(ctx, s, kind, limit, scanEvent, query, arn, pos, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("history: %w", err)
	}
	return out, next, nil
}

// scanEvent scans a history row; its position is the event's id.
func scanEvent(row pgx.Row) (history.Event, int64, error) {
	var (
		e        history.Event
		typ      string
		details  []byte
		id, prev int64
	)
	if err := row.Scan(&id, &prev, &typ, &e.Thread, &e.Timestamp, &details); err != nil {
		return e, 0, err
	}
	thread, ts := e.Thread, e.Timestamp.UTC()
	if err := json.Unmarshal(details, &e); err != nil {
		return e, 0, fmt.Errorf("decode event %d: %w", id, err)
	}
	e.ID, e.PreviousEventID, e.Type, e.Thread, e.Timestamp = id, prev, history.EventType(typ), thread, ts
	return e, id, nil
}

// queryPage runs a page query that asks for limit+1 rows and scans each
// row with scan, which also returns the row's position (seq): it returns at
// most limit items and, when more rows follow, the token of the next page.
func queryPage[T any](ctx context.Context, s *Store, kind string, limit int, scan func(pgx.Row) (T, int64, error), query string, args ...any) ([]T, string, error) {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var (
		out  []T
		last int64
	)
	for rows.Next() {
		if len(out) == limit {
			return out, store.PageToken(kind, last), nil
		}
		x, seq, err := scan(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, x)
		last = seq
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	return out, "", nil
}

// scanJSON scans a (seq, data) row whose data is a JSON document.
func scanJSON[T any](row pgx.Row) (*T, int64, error) {
	var (
		seq  int64
		data []byte
		v    T
	)
	if err := row.Scan(&seq, &data); err != nil {
		return nil, 0, err
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, 0, err
	}
	return &v, seq, nil
}

// execOne runs a statement meant to change one row: none is the answer
// when it changed nothing (the row is missing, or already there).
func (s *Store) execOne(ctx context.Context, what string, none error, query string, args ...any) error {
	tag, err := s.pool.Exec(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if tag.RowsAffected() == 0 {
		return none
	}
	return nil
}

// pageLimit is a page's size: at least 1, and small enough that the
// queries' limit+1 cannot overflow.
func pageLimit(p store.Page) int { return min(max(p.Limit, 1), 1<<30) }
