package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
)

var (
	_ store.Versions = (*Store)(nil)
	_ store.Reopener = (*Store)(nil)
)

// sentinel reports whether err is one of the store's answers (as opposed
// to a backend failure, which gets context added).
func sentinel(err error) bool {
	for _, s := range []error{store.ErrNotFound, store.ErrAlreadyExists, store.ErrConflict, store.ErrLimitExceeded, store.ErrInvalidToken} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// inTx runs fn in a transaction, committed when fn returns nil.
func (s *Store) inTx(ctx context.Context, what string, fn func(tx pgx.Tx) error) error {
	return wrap(what, pgx.BeginFunc(ctx, s.pool, fn))
}

// wrap adds context to a backend failure and keeps the store's answers.
func wrap(what string, err error) error {
	if err == nil || sentinel(err) {
		return err
	}
	return fmt.Errorf("%s: %w", what, err)
}

// lockKey takes a transaction-scoped advisory lock on key within the
// current schema: writes that check a rule over several rows (a
// machine's version and alias limits, a tag set) run one at a time, also
// between processes.
func lockKey(ctx context.Context, tx pgx.Tx, key string) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || ' ' || $1, 0))`, key)
	return err
}

func lockMachine(ctx context.Context, tx pgx.Tx, machineARN string) error {
	return lockKey(ctx, tx, "machine "+machineARN)
}

// getJSON reads one JSON document and decodes it into dst: ErrNotFound
// when there is no row.
func getJSON(ctx context.Context, q interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}, dst any, query string, args ...any) error {
	var data []byte
	err := q.QueryRow(ctx, query, args...).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, dst); err != nil {
		return fmt.Errorf("decode %T: %w", dst, err)
	}
	return nil
}

// PublishVersion implements store.Versions.
func (s *Store) PublishVersion(ctx context.Context, v *store.Version) (*store.Version, bool, error) {
	var (
		out     *store.Version
		created bool
	)
	err := s.inTx(ctx, "publish version", func(tx pgx.Tx) error {
		if err := lockMachine(ctx, tx, v.StateMachineARN); err != nil {
			return err
		}
		var old store.Version
		err := getJSON(ctx, tx, &old, `SELECT data FROM versions WHERE machine_arn = $1 AND revision_id = $2 ORDER BY number LIMIT 1`,
			v.StateMachineARN, v.RevisionID)
		if err == nil {
			out, created = &old, false
			return nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		var n, last int64
		if err := tx.QueryRow(ctx, `SELECT count(*), coalesce((SELECT last FROM version_counters WHERE machine_arn = $1), 0)
			FROM versions WHERE machine_arn = $1`, v.StateMachineARN).Scan(&n, &last); err != nil {
			return err
		}
		if n >= store.MaxVersionsPerMachine {
			return store.ErrLimitExceeded
		}
		nv := *v
		nv.Number = last + 1
		nv.ARN = v.StateMachineARN + ":" + strconv.FormatInt(nv.Number, 10)
		data, err := json.Marshal(&nv)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO version_counters (machine_arn, last) VALUES ($1, $2)
			ON CONFLICT (machine_arn) DO UPDATE SET last = excluded.last`, nv.StateMachineARN, nv.Number); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO versions (arn, machine_arn, number, revision_id, data) VALUES ($1, $2, $3, $4, $5)`,
			nv.ARN, nv.StateMachineARN, nv.Number, nv.RevisionID, data); err != nil {
			return err
		}
		out, created = &nv, true
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return out, created, nil
}

// GetVersion implements store.Versions.
func (s *Store) GetVersion(ctx context.Context, arn string) (*store.Version, error) {
	var v store.Version
	if err := getJSON(ctx, s.pool, &v, `SELECT data FROM versions WHERE arn = $1`, arn); err != nil {
		return nil, wrap("get version", err)
	}
	return &v, nil
}

// ListVersions implements store.Versions.
func (s *Store) ListVersions(ctx context.Context, machineARN string, p store.Page) ([]*store.Version, string, error) {
	before, err := store.ParsePageToken(p.Token, "v")
	if err != nil {
		return nil, "", err
	}
	if p.Token == "" {
		before = 1<<63 - 1
	}
	limit := pageLimit(p)
	out, next, err := queryPage(ctx, s, "v", limit, scanJSON[store.Version],
		`SELECT number, data FROM versions WHERE machine_arn = $1 AND number < $2 ORDER BY number DESC LIMIT $3`, machineARN, before, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list versions: %w", err)
	}
	return out, next, nil
}

// DeleteVersion implements store.Versions.
func (s *Store) DeleteVersion(ctx context.Context, arn string) error {
	return s.inTx(ctx, "delete version", func(tx pgx.Tx) error {
		var machine string
		err := tx.QueryRow(ctx, `SELECT machine_arn FROM versions WHERE arn = $1`, arn).Scan(&machine)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := lockMachine(ctx, tx, machine); err != nil {
			return err
		}
		var routed bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM aliases WHERE machine_arn = $1 AND version_arns @> ARRAY[$2::text])`,
			machine, arn).Scan(&routed); err != nil {
			return err
		}
		if routed {
			return store.ErrConflict
		}
		tag, err := tx.Exec(ctx, `DELETE FROM versions WHERE arn = $1`, arn)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		return nil
	})
}

// routeARNs lists the versions an alias routes to.
func routeARNs(a *store.Alias) []string {
	out := make([]string, 0, len(a.Routing))
	for _, r := range a.Routing {
		out = append(out, r.VersionARN)
	}
	return out
}

// CreateAlias implements store.Versions.
func (s *Store) CreateAlias(ctx context.Context, a *store.Alias) error {
	data, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("create alias: %w", err)
	}
	return s.inTx(ctx, "create alias", func(tx pgx.Tx) error {
		if err := lockMachine(ctx, tx, a.StateMachineARN); err != nil {
			return err
		}
		var exists bool
		var n int64
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM aliases WHERE arn = $1), (SELECT count(*) FROM aliases WHERE machine_arn = $2)`,
			a.ARN, a.StateMachineARN).Scan(&exists, &n); err != nil {
			return err
		}
		if exists {
			return store.ErrAlreadyExists
		}
		if n >= store.MaxAliasesPerMachine {
			return store.ErrLimitExceeded
		}
		tag, err := tx.Exec(ctx, `INSERT INTO aliases (arn, machine_arn, version_arns, data) VALUES ($1, $2, $3, $4)
			ON CONFLICT (arn) DO NOTHING`, a.ARN, a.StateMachineARN, routeARNs(a), data)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrAlreadyExists
		}
		return nil
	})
}

// GetAlias implements store.Versions.
func (s *Store) GetAlias(ctx context.Context, arn string) (*store.Alias, error) {
	var a store.Alias
	if err := getJSON(ctx, s.pool, &a, `SELECT data FROM aliases WHERE arn = $1`, arn); err != nil {
		return nil, wrap("get alias", err)
	}
	return &a, nil
}

// UpdateAlias implements store.Versions: the description, the routing
// and the update date change; the rest is kept.
func (s *Store) UpdateAlias(ctx context.Context, a *store.Alias) error {
	return s.inTx(ctx, "update alias", func(tx pgx.Tx) error {
		var machine string
		err := tx.QueryRow(ctx, `SELECT machine_arn FROM aliases WHERE arn = $1`, a.ARN).Scan(&machine)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		// The machine's lock orders this with DeleteVersion's check.
		if err := lockMachine(ctx, tx, machine); err != nil {
			return err
		}
		var cur store.Alias
		if err := getJSON(ctx, tx, &cur, `SELECT data FROM aliases WHERE arn = $1 FOR UPDATE`, a.ARN); err != nil {
			return err
		}
		cur.Description, cur.Routing, cur.UpdateDate = a.Description, slices.Clone(a.Routing), a.UpdateDate
		data, err := json.Marshal(&cur)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE aliases SET data = $2, version_arns = $3 WHERE arn = $1`, a.ARN, data, routeARNs(&cur))
		return err
	})
}

// DeleteAlias implements store.Versions.
func (s *Store) DeleteAlias(ctx context.Context, arn string) error {
	return s.execOne(ctx, "delete alias", store.ErrNotFound, `DELETE FROM aliases WHERE arn = $1`, arn)
}

// ListAliases implements store.Versions.
func (s *Store) ListAliases(ctx context.Context, machineARN, versionARN string, p store.Page) ([]*store.Alias, string, error) {
	before, err := store.ParsePageToken(p.Token, "al")
	if err != nil {
		return nil, "", err
	}
	if p.Token == "" {
		before = 1<<63 - 1
	}
	limit := pageLimit(p)
	query, args := `SELECT seq, data FROM aliases
		WHERE machine_arn = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`, []any{machineARN, before, limit + 1}
	if versionARN != "" {
		query, args = `SELECT seq, data FROM aliases
			WHERE machine_arn = $1 AND seq < $2 AND version_arns @> ARRAY[$4::text] ORDER BY seq DESC LIMIT $3`, append(args, versionARN)
	}
	out, next, err := queryPage(ctx, s, "al", limit, scanJSON[store.Alias], query, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list aliases: %w", err)
	}
	return out, next, nil
}

// DeleteMachineVersions implements store.Versions. A machine re-created
// under the same name starts again at version 1.
func (s *Store) DeleteMachineVersions(ctx context.Context, machineARN string) error {
	return s.inTx(ctx, "delete machine versions", func(tx pgx.Tx) error {
		if err := lockMachine(ctx, tx, machineARN); err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM aliases WHERE machine_arn = $1`, `DELETE FROM versions WHERE machine_arn = $1`,
			`DELETE FROM version_counters WHERE machine_arn = $1`} {
			if _, err := tx.Exec(ctx, q, machineARN); err != nil {
				return err
			}
		}
		return nil
	})
}

// Tags implements store.Versions.
func (s *Store) Tags(ctx context.Context, arn string) ([]store.Tag, bool, error) {
	var tags []store.Tag
	err := getJSON(ctx, s.pool, &tags, `SELECT data FROM tags WHERE arn = $1`, arn)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("tags: %w", err)
	}
	if tags == nil {
		tags = []store.Tag{}
	}
	return tags, true, nil
}

// updateTags applies change to a resource's tag set in one transaction,
// under the resource's lock. change gets the current set (ok false when
// there is none) and returns the new one (nil drops it) or a store error.
func (s *Store) updateTags(ctx context.Context, what, arn string, change func(cur []store.Tag, ok bool) ([]store.Tag, error)) error {
	return s.inTx(ctx, what, func(tx pgx.Tx) error {
		if err := lockKey(ctx, tx, "tags "+arn); err != nil {
			return err
		}
		var cur []store.Tag
		err := getJSON(ctx, tx, &cur, `SELECT data FROM tags WHERE arn = $1`, arn)
		ok := err == nil
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		next, err := change(cur, ok)
		if err != nil {
			return err
		}
		if next == nil {
			_, err := tx.Exec(ctx, `DELETE FROM tags WHERE arn = $1`, arn)
			return err
		}
		data, err := json.Marshal(next)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO tags (arn, data) VALUES ($1, $2) ON CONFLICT (arn) DO UPDATE SET data = excluded.data`, arn, data)
		return err
	})
}

// SetTags implements store.Versions.
func (s *Store) SetTags(ctx context.Context, arn string, tags []store.Tag) error {
	return s.updateTags(ctx, "set tags", arn, func([]store.Tag, bool) ([]store.Tag, error) {
		if tags == nil {
			return nil, nil
		}
		return store.MergeTags(nil, tags), nil
	})
}

// TagResource implements store.Versions.
func (s *Store) TagResource(ctx context.Context, arn string, tags []store.Tag, limit int) error {
	return s.updateTags(ctx, "tag resource", arn, func(cur []store.Tag, _ bool) ([]store.Tag, error) {
		merged := store.MergeTags(cur, tags)
		n := 0
		for _, t := range merged {
			if !strings.HasPrefix(t.Key, "aws:") {
				n++
			}
		}
		if n > limit {
			return nil, store.ErrLimitExceeded
		}
		return merged, nil
	})
}

// UntagResource implements store.Versions.
func (s *Store) UntagResource(ctx context.Context, arn string, keys []string) error {
	return s.updateTags(ctx, "untag resource", arn, func(cur []store.Tag, ok bool) ([]store.Tag, error) {
		if !ok {
			return []store.Tag{}, nil
		}
		return slices.DeleteFunc(slices.Clone(cur), func(t store.Tag) bool { return slices.Contains(keys, t.Key) }), nil
	})
}

// PutMapRun implements store.Versions. A replaced Map Run keeps its place
// in its execution's list.
func (s *Store) PutMapRun(ctx context.Context, r *store.MapRun) error {
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("put map run: %w", err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO map_runs (arn, execution_arn, status, data) VALUES ($1, $2, $3, $4)
		ON CONFLICT (arn) DO UPDATE SET execution_arn = excluded.execution_arn, status = excluded.status, data = excluded.data`,
		r.ARN, r.ExecutionARN, r.Status, data); err != nil {
		return fmt.Errorf("put map run: %w", err)
	}
	return nil
}

// GetMapRun implements store.Versions.
func (s *Store) GetMapRun(ctx context.Context, arn string) (*store.MapRun, error) {
	var r store.MapRun
	if err := getJSON(ctx, s.pool, &r, `SELECT data FROM map_runs WHERE arn = $1`, arn); err != nil {
		return nil, wrap("get map run", err)
	}
	return &r, nil
}

// ListMapRuns implements store.Versions.
func (s *Store) ListMapRuns(ctx context.Context, executionARN string, p store.Page) ([]*store.MapRun, string, error) {
	after, err := store.ParsePageToken(p.Token, "mr")
	if err != nil {
		return nil, "", err
	}
	limit := pageLimit(p)
	out, next, err := queryPage(ctx, s, "mr", limit, scanJSON[store.MapRun],
		`SELECT seq, data FROM map_runs WHERE execution_arn = $1 AND seq > $2 ORDER BY seq LIMIT $3`, executionARN, after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list map runs: %w", err)
	}
	return out, next, nil
}

// UpdateMapRun implements store.Versions.
func (s *Store) UpdateMapRun(ctx context.Context, arn string, u store.MapRunUpdate) error {
	return s.inTx(ctx, "update map run", func(tx pgx.Tx) error {
		var r store.MapRun
		if err := getJSON(ctx, tx, &r, `SELECT data FROM map_runs WHERE arn = $1 FOR UPDATE`, arn); err != nil {
			return err
		}
		if r.Status != "RUNNING" {
			return store.ErrConflict
		}
		if u.MaxConcurrency != nil {
			r.MaxConcurrency = *u.MaxConcurrency
		}
		if u.ToleratedFailurePercentage != nil {
			r.ToleratedFailurePercentage = *u.ToleratedFailurePercentage
		}
		if u.ToleratedFailureCount != nil {
			r.ToleratedFailureCount = *u.ToleratedFailureCount
		}
		data, err := json.Marshal(&r)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE map_runs SET data = $2 WHERE arn = $1`, arn, data)
		return err
	})
}

// PutExecutionMeta implements store.Versions.
func (s *Store) PutExecutionMeta(ctx context.Context, executionARN string, m store.ExecutionMeta) error {
	data, err := json.Marshal(&m)
	if err != nil {
		return fmt.Errorf("put execution metadata: %w", err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO execution_meta (execution_arn, data) VALUES ($1, $2)
		ON CONFLICT (execution_arn) DO UPDATE SET data = excluded.data`, executionARN, data); err != nil {
		return fmt.Errorf("put execution metadata: %w", err)
	}
	return nil
}

// GetExecutionMeta implements store.Versions.
func (s *Store) GetExecutionMeta(ctx context.Context, executionARN string) (store.ExecutionMeta, bool, error) {
	var m store.ExecutionMeta
	err := getJSON(ctx, s.pool, &m, `SELECT data FROM execution_meta WHERE execution_arn = $1`, executionARN)
	if errors.Is(err, store.ErrNotFound) {
		return store.ExecutionMeta{}, false, nil
	}
	if err != nil {
		return store.ExecutionMeta{}, false, fmt.Errorf("get execution metadata: %w", err)
	}
	return m, true, nil
}

// ReopenExecution implements store.Reopener: in one transaction, a closed
// execution becomes RUNNING again (stop date, output, error and cause
// cleared, owned by this process) and events are appended to its
// history. The execution's row lock orders it with the group-committed
// appends.
func (s *Store) ReopenExecution(ctx context.Context, arn string, events []history.Event) error {
	var (
		ids, prevs       []int64
		types, threads   []string
		tss              []time.Time
		details          [][]byte
		arns             []string
		hasEvents        = len(events) > 0
		first, lastNewID int64
	)
	if hasEvents {
		first, lastNewID = events[0].ID, events[len(events)-1].ID
	}
	for i := range events {
		e := &events[i]
		if e.ID != first+int64(i) {
			return fmt.Errorf("reopen execution: event ids not consecutive at %d: %w", e.ID, store.ErrConflict)
		}
		b, err := json.Marshal(*e)
		if err != nil {
			return fmt.Errorf("reopen execution: encode event %d: %w", e.ID, err)
		}
		arns, ids, prevs = append(arns, arn), append(ids, e.ID), append(prevs, e.PreviousEventID)
		types, threads = append(types, string(e.Type)), append(threads, e.Thread)
		tss, details = append(tss, e.Timestamp), append(details, b)
	}
	owner, node := any(s.owner), any(nil)
	if id := s.node.Load(); id != 0 {
		owner, node = s.name, id // the node that redrives it drives it
	}
	return s.inTx(ctx, "reopen execution", func(tx pgx.Tx) error {
		var (
			status string
			last   int64
		)
		err := tx.QueryRow(ctx, `SELECT status, last_event_id FROM executions WHERE arn = $1 FOR UPDATE`, arn).Scan(&status, &last)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if status == store.StatusRunning {
			return store.ErrConflict
		}
		if hasEvents {
			if first != last+1 {
				return fmt.Errorf("reopen execution: event id %d after %d: %w", first, last, store.ErrConflict)
			}
			if _, err := tx.Exec(ctx, insertSQL, arns, ids, prevs, types, threads, tss, details); err != nil {
				return err
			}
			last = lastNewID
		}
		_, err = tx.Exec(ctx, `UPDATE executions SET status = $2, stop_date = NULL, output = NULL, error = NULL, cause = NULL,
			last_event_id = $3, owner = $4, lease_until = NULL, owner_node = $5 WHERE arn = $1`, arn, store.StatusRunning, last, owner, node)
		return err
	})
}
