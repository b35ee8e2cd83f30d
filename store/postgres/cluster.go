package postgres

// Several processes on one database: nodes, leases, fencing, signals.
//
// # Leases: one per node, not per execution
//
// A process that calls Join becomes a node: a row in nodes whose id (never
// reused) is the fencing token of everything it owns, with lease_until,
// the time its claim expires unless Renew extends it. Each running
// execution names its owner in executions.owner_node. The lease is held
// per node and the ownership is recorded per execution, rather than a
// lease row per execution or per shard, because renewing must cost
// nothing as executions pile up: one node may own a million parked
// executions (a Wait of days), and renewing a lease per execution every
// few seconds would be a million row updates (each a new row version and
// WAL record in PostgreSQL) per interval, which is more than the
// durable transitions this machine commits per second (a few thousand;
// see the README's benchmarks). One UPDATE of one row per node per
// interval costs the same for 10 executions or 10 million. Shards would
// bound renewals too, but they need a shard map, rebalancing and a shard
// count chosen in advance; with a per-node lease the unit that fails (a
// process) is the unit that is leased, and takeover still moves
// executions one by one (Claim takes a bounded batch with SKIP LOCKED,
// so that survivors claiming at once share them; the executions service
// claims all it finds before it resumes any, so a dead node's executions
// change hands at the first survivor's next renewal).
//
// # Takeover
//
// Claim gives the calling node a batch of the running executions owned
// by no node (owner_node NULL: created before any node joined) or by a
// node whose lease has expired, which it resumes from their histories. A
// node that restarts under the same name (host:port) expires its previous
// incarnation's lease at Join: that process is gone (the port is this
// one's now), so its executions are taken over at once, as a single
// server resumes its executions at restart; a node that closes expires
// its own lease, for the same reason. Reap deletes the rows of nodes dead
// for an hour that own nothing.
//
// # Fencing
//
// Once joined, every group-committed append checks, in its transaction,
// that the node's lease has not expired (locking the node's row FOR KEY
// SHARE) and that the execution's owner_node is the node. Claim locks the
// expired nodes' rows FOR UPDATE (skipping a node while an append of it is
// in progress) and the executions it takes FOR UPDATE; an append locks the
// execution's row before it checks the owner. A node that lost its lease
// (paused past it, partitioned) therefore cannot write: its appends fail
// with store.ErrLeaseLost, and Renew, which extends only an unexpired
// lease and waits for a claim of it, tells it too. No two nodes ever
// append to one history.
//
// # Signals
//
// StopExecution and SendTask* must reach the process that drives the
// execution. Signal writes the request to the signals table and tells
// every node with NOTIFY; each node's Listen hands it to its handler,
// and the node that applied it writes its answer, which Signal polls for
// (signalPoll). Ask sends a signal to one node, which takes it before it
// applies it, so that it is applied once or not at all (GetActivityTask
// on another node than the one whose queue holds the task). PostgreSQL delivers a NOTIFY within milliseconds, so a
// forwarded request takes a few milliseconds plus at most signalPoll more
// than a local one.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stepwell/stepwell/store"
)

// signalChannel is the NOTIFY channel of signals; the payload is the
// schema and the signal's id, so that deployments sharing a database in
// different schemas ignore each other's signals.
const signalChannel = "stepwell_signals"

// askAnswerWait bounds how long Ask waits for the answer of a node that
// took its signal (it may have died meanwhile).
const askAnswerWait = 10 * time.Second

// signalPoll is how often Signal looks for the answer to a signal.
const signalPoll = 10 * time.Millisecond

// errLeaseLost is what a fenced write returns.
var errLeaseLost = fmt.Errorf("%w: %w", store.ErrLeaseLost, store.ErrConflict)

// Join registers this store's process as a node named name (several
// processes must not share a name; the default, host:port, cannot be
// shared by two live processes) with a lease of ttl, and returns its id.
// A previous node of the same name is expired: Claim hands its executions
// over at once. From now on the store records the executions it creates
// as the node's, and refuses to append to an execution the node does not
// own, or once the node's lease has expired.
func (s *Store) Join(ctx context.Context, name string, ttl time.Duration) (int64, error) {
	if ttl <= 0 {
		return 0, errors.New("join: lease must be positive")
	}
	var id int64
	err := s.inTx(ctx, "join", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE nodes SET lease_until = '-infinity' WHERE name = $1`, name); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO nodes (name, lease_until) VALUES ($1, clock_timestamp() + $2::interval) RETURNING id`,
			name, ttl).Scan(&id)
	})
	if err != nil {
		return 0, err
	}
	s.ttl = ttl
	s.name = name
	s.node.Store(id)
	return id, nil
}

// Node returns the id Join gave this process (0 before Join).
func (s *Store) Node() int64 { return s.node.Load() }

// Renew extends the node's lease by its ttl from now. It returns
// store.ErrLeaseLost once the lease has expired: the node's executions
// are (or will be) taken over, and it must stop driving them. It runs on
// a session of its own, opened again after a failure, never waiting for
// the pool.
func (s *Store) Renew(ctx context.Context) error {
	id := s.node.Load()
	if id == 0 {
		return errors.New("renew: not joined")
	}
	s.leaseMu.Lock()
	defer s.leaseMu.Unlock()
	if s.leaseConn == nil {
		conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
		if err != nil {
			return fmt.Errorf("renew lease: %w", err)
		}
		s.leaseConn = conn
	}
	tag, err := s.leaseConn.Exec(ctx, `UPDATE nodes SET lease_until = clock_timestamp() + $2::interval
		WHERE id = $1 AND lease_until > clock_timestamp()`, id, s.ttl)
	if err != nil {
		_ = s.leaseConn.Close(context.Background())
		s.leaseConn = nil
		return fmt.Errorf("renew lease: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return errLeaseLost
	}
	return nil
}

// reapAfter is how long a dead node's row stays (it names the owner of
// executions until they are claimed).
const reapAfter = time.Hour

// Reap deletes the nodes dead for reapAfter that own no running execution
// and returns their names.
func (s *Store) Reap(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, `DELETE FROM nodes n WHERE lease_until < clock_timestamp() - $1::interval
		AND NOT EXISTS (SELECT 1 FROM executions e WHERE e.status = 'RUNNING' AND e.owner_node = n.id) RETURNING name`, reapAfter)
	if err != nil {
		return nil, fmt.Errorf("reap nodes: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("reap nodes: %w", err)
	}
	return names, nil
}

// claimSQL gives the node $1 (named $3) up to $2 running executions that
// no node owns or whose node's lease has expired, oldest first, skipping
// those another node is claiming or appending to.
// A Distributed Map's child execution (notChild) is not claimed: the
// process that takes its parent over adopts it when the parent's replay
// reaches it (Adopt), so that parent and child have one writer.
const claimSQL = `WITH dead AS (SELECT id FROM nodes WHERE lease_until < clock_timestamp() FOR UPDATE SKIP LOCKED),
	c AS (
		SELECT e.arn FROM executions e
		WHERE e.status = 'RUNNING' AND (e.owner_node IS NULL OR e.owner_node IN (SELECT id FROM dead)) AND ` + notChild + `
		ORDER BY e.seq LIMIT $2 FOR UPDATE OF e SKIP LOCKED)
	UPDATE executions e SET owner_node = $1, owner = $3 FROM c WHERE e.arn = c.arn RETURNING e.arn`

// DeadNodes returns the names of the nodes whose lease has expired and
// that still own running executions (Claim will hand them over).
func (s *Store) DeadNodes(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT name FROM nodes n WHERE lease_until < clock_timestamp()
		AND EXISTS (SELECT 1 FROM executions e WHERE e.status = 'RUNNING' AND e.owner_node = n.id AND `+notChild+`) ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("dead nodes: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("dead nodes: %w", err)
	}
	return names, nil
}

// Claim makes the node the owner of up to limit orphaned running
// executions and returns them, each with its last event, as
// ListRunningLast does, in creation order. Call it after Join.
func (s *Store) Claim(ctx context.Context, limit int) ([]store.RunningLast, error) {
	id := s.node.Load()
	if id == 0 {
		return nil, errors.New("claim: not joined")
	}
	rows, err := s.pool.Query(ctx, claimSQL, id, max(limit, 1), s.name)
	if err != nil {
		return nil, fmt.Errorf("claim executions: %w", err)
	}
	arns, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(arns) == 0 {
		if err != nil {
			err = fmt.Errorf("claim executions: %w", err)
		}
		return nil, err
	}
	q := `SELECT ` + qualified("e", execCols) + `,
		h.event_id, h.previous_id, h.type, h.thread, h.ts, h.details
		FROM executions e LEFT JOIN history h ON h.execution_arn = e.arn AND h.event_id = e.last_event_id
		WHERE e.arn = ANY($1) AND e.status = 'RUNNING' AND e.owner_node = $2 ORDER BY e.seq`
	rows, err = s.pool.Query(ctx, q, arns, id)
	if err != nil {
		return nil, fmt.Errorf("claim executions: %w", err)
	}
	defer rows.Close()
	var out []store.RunningLast
	for rows.Next() {
		r, _, err := scanRunningLast(rows)
		if err != nil {
			return nil, fmt.Errorf("claim executions: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim executions: %w", err)
	}
	return out, nil
}

// notChild holds for an execution row e that is not a Distributed Map's
// child: a child's state machine ARN is its Map Run's key,
// …:stateMachine:<machine>/<label>:<id>, and no state machine's name
// holds a slash.
const notChild = `e.state_machine_arn NOT LIKE '%:stateMachine:%/%'`

// Adopt makes the node the owner of the running execution arn when no
// live node owns it (its owner's lease has expired, or it has none) or
// the node owns it already, and reports whether the node owns it now. The
// process that took a Distributed Map's parent over adopts its running
// children this way (Claim leaves them). Call it after Join.
func (s *Store) Adopt(ctx context.Context, arn string) (bool, error) {
	id := s.node.Load()
	if id == 0 {
		return false, errors.New("adopt: not joined")
	}
	tag, err := s.pool.Exec(ctx, `UPDATE executions e SET owner_node = $1, owner = $3
		WHERE e.arn = $2 AND e.status = 'RUNNING' AND (e.owner_node IS NULL OR e.owner_node = $1
			OR NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = e.owner_node AND n.lease_until >= clock_timestamp()))`,
		id, arn, s.name)
	if err != nil {
		return false, fmt.Errorf("adopt execution: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// leave expires the node's lease (at Close, after the last append): the
// other nodes take its executions over without waiting for it to run out.
func (s *Store) leave() {
	id := s.node.Swap(0)
	if id == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = s.pool.Exec(ctx, `UPDATE nodes SET lease_until = '-infinity' WHERE id = $1`, id)
}

// Fenced returns how many appends the store refused because the node did
// not own the execution or had lost its lease.
func (s *Store) Fenced() int64 { return s.fenced.Load() }

// Signal sends sig to every node (this one included) and waits up to wait
// for one to apply it: handled tells whether one did, and answer is what
// its handler returned.
func (s *Store) Signal(ctx context.Context, sig store.Signal, wait time.Duration) (answer string, handled bool, err error) {
	id, drop, err := s.post(ctx, sig)
	if err != nil {
		return "", false, fmt.Errorf("signal: %w", err)
	}
	defer drop()
	deadline := time.Now().Add(wait)
	t := time.NewTicker(signalPoll)
	defer t.Stop()
	for {
		var by *int64
		var ans *string
		if err := s.pool.QueryRow(ctx, `SELECT answered_by, answer FROM signals WHERE id = $1`, id).Scan(&by, &ans); err != nil {
			return "", false, fmt.Errorf("signal: %w", err)
		}
		if by != nil {
			if ans != nil {
				answer = *ans
			}
			return answer, true, nil
		}
		if time.Now().After(deadline) {
			return "", false, nil
		}
		select {
		case <-ctx.Done():
			return "", false, ctx.Err()
		case <-t.C:
		}
	}
}

// post stores sig and notifies every node of it; drop deletes it once its
// sender is done with it.
func (s *Store) post(ctx context.Context, sig store.Signal) (id int64, drop func(), err error) {
	data, err := json.Marshal(sig)
	if err != nil {
		return 0, nil, err
	}
	if err := s.pool.QueryRow(ctx, `WITH i AS (INSERT INTO signals (data) VALUES ($1) RETURNING id)
		SELECT id, pg_notify($2, current_schema() || ' ' || id) FROM i`, data, signalChannel).Scan(&id, nil); err != nil {
		return 0, nil, err
	}
	return id, func() {
		dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, _ = s.pool.Exec(dctx, `DELETE FROM signals WHERE id = $1`, id)
		cancel()
	}, nil
}

// Peers returns the ids of the other nodes whose lease holds.
func (s *Store) Peers(ctx context.Context) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM nodes WHERE id <> $1 AND lease_until > clock_timestamp() ORDER BY id`, s.node.Load())
	if err != nil {
		return nil, fmt.Errorf("peers: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("peers: %w", err)
	}
	return ids, nil
}

// Ask sends sig to the node sig.To alone and waits up to wait for it to
// take the signal; once taken, it waits for the answer (the handler must
// be quick), unless the node's lease expires meanwhile: it died, and
// what it did with the signal is gone with it. A signal not taken in time
// is withdrawn, so that it is handled exactly once or not at all: handled
// tells which.
func (s *Store) Ask(ctx context.Context, sig store.Signal, wait time.Duration) (answer string, handled bool, err error) {
	if sig.To == 0 {
		return "", false, errors.New("ask: no node")
	}
	id, drop, err := s.post(ctx, sig)
	if err != nil {
		return "", false, fmt.Errorf("ask: %w", err)
	}
	defer drop()
	deadline := time.Now().Add(wait)
	t := time.NewTicker(signalPoll)
	defer t.Stop()
	for {
		var by *int64
		var ans *string
		var takerLives bool
		if err := s.pool.QueryRow(context.WithoutCancel(ctx), `SELECT s.answered_by, s.answer, coalesce(n.lease_until > clock_timestamp(), false)
			FROM signals s LEFT JOIN nodes n ON n.id = s.answered_by WHERE s.id = $1`, id).Scan(&by, &ans, &takerLives); err != nil {
			return "", false, fmt.Errorf("ask: %w", err)
		}
		if ans != nil {
			return *ans, true, nil
		}
		if by != nil && !takerLives {
			// It took the request and died (its lease expired): whatever
			// it did died with it, and its executions are taken over.
			return "", false, nil
		}
		if by != nil && time.Now().After(deadline.Add(askAnswerWait)) {
			return "", false, errors.New("ask: the node took the request but did not answer")
		}
		if by == nil && (time.Now().After(deadline) || ctx.Err() != nil) {
			// Withdraw it, unless the node takes it meanwhile.
			tag, err := s.pool.Exec(context.WithoutCancel(ctx), `DELETE FROM signals WHERE id = $1 AND answered_by IS NULL`, id)
			if err != nil {
				return "", false, fmt.Errorf("ask: %w", err)
			}
			if tag.RowsAffected() == 1 {
				return "", false, nil
			}
		}
		<-t.C // taken: its answer comes soon
	}
}

// SignalHandler applies a signal if this process drives what it names:
// handled is false when it does not (another node may).
type SignalHandler func(ctx context.Context, sig store.Signal) (answer string, handled bool)

// Listen hands the signals of every node's Signal to handle, one
// goroutine each, and records the answers of those it handled, until ctx
// is done. It reconnects after a connection failure. Call it after Join.
func (s *Store) Listen(ctx context.Context, handle SignalHandler) error {
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, handle)
		if ctx.Err() != nil {
			return nil
		}
		t := time.NewTimer(time.Second)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		_ = err
	}
	return nil
}

func (s *Store) listenOnce(ctx context.Context, handle SignalHandler) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer func() {
		// The session listens: do not hand it back to the pool.
		_ = conn.Conn().Close(context.Background())
		conn.Release()
	}()
	var schema string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, `LISTEN `+signalChannel); err != nil {
		return err
	}
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			return err
		}
		sch, num, ok := strings.Cut(n.Payload, " ")
		id, perr := strconv.ParseInt(num, 10, 64)
		if !ok || sch != schema || perr != nil {
			continue
		}
		go s.apply(ctx, id, handle)
	}
}

// apply reads a signal and hands it to handle; the answer of a handled
// one is recorded for its sender.
func (s *Store) apply(ctx context.Context, id int64, handle SignalHandler) {
	var data []byte
	if err := s.pool.QueryRow(ctx, `SELECT data FROM signals WHERE id = $1 AND answered_by IS NULL`, id).Scan(&data); err != nil {
		return // gone, answered, or the store closes
	}
	var sig store.Signal
	if json.Unmarshal(data, &sig) != nil {
		return
	}
	me := s.node.Load()
	if sig.To != 0 {
		if sig.To != me {
			return
		}
		// Take it first: its sender may withdraw it until then.
		tag, err := s.pool.Exec(ctx, `UPDATE signals SET answered_by = $2 WHERE id = $1 AND answered_by IS NULL`, id, me)
		if err != nil || tag.RowsAffected() != 1 {
			return
		}
		answer, _ := handle(ctx, sig)
		_, _ = s.pool.Exec(ctx, `UPDATE signals SET answer = $2 WHERE id = $1`, id, answer)
		return
	}
	answer, handled := handle(ctx, sig)
	if !handled {
		return
	}
	_, _ = s.pool.Exec(ctx, `UPDATE signals SET answered_by = $2, answer = $3 WHERE id = $1 AND answered_by IS NULL`,
		id, me, answer)
}
