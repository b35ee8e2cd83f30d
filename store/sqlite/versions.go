package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/stepwell/stepwell/store"
)

var _ store.Versions = (*Store)(nil)

// getJSON reads one JSON document with q and decodes it into dst.
func getJSON(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}, dst any, query string, args ...any) error {
	var data []byte
	if err := q.QueryRowContext(ctx, query, args...).Scan(&data); err != nil {
		return notFound(err)
	}
	return json.Unmarshal(data, dst)
}

// PublishVersion implements store.Versions.
func (s *Store) PublishVersion(ctx context.Context, v *store.Version) (*store.Version, bool, error) {
	var out *store.Version
	var created bool
	in := *v
	err := s.w.do(ctx, func(w *writer) (error, error) {
		bg := context.Background()
		var old store.Version
		err := getJSON(bg, w.conn, &old, `SELECT data FROM versions WHERE machine_arn = ? AND revision_id = ?`, in.StateMachineARN, in.RevisionID)
		if err == nil {
			out, created = &old, false
			return nil, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		var n, last int64
		if err := w.conn.QueryRowContext(bg, `SELECT count(*), coalesce((SELECT last FROM version_counters WHERE machine_arn = ?1), 0)
			FROM versions WHERE machine_arn = ?1`, in.StateMachineARN).Scan(&n, &last); err != nil {
			return nil, err
		}
		if n >= store.MaxVersionsPerMachine {
			return store.ErrLimitExceeded, nil
		}
		nv := in
		nv.Number = last + 1
		nv.ARN = in.StateMachineARN + ":" + strconv.FormatInt(nv.Number, 10)
		data, err := json.Marshal(&nv)
		if err != nil {
			return nil, err
		}
		if _, err := w.conn.ExecContext(bg, `INSERT INTO version_counters (machine_arn, last) VALUES (?, ?)
			ON CONFLICT (machine_arn) DO UPDATE SET last = excluded.last`, in.StateMachineARN, nv.Number); err != nil {
			return nil, err
		}
		if _, err := w.conn.ExecContext(bg, `INSERT INTO versions (arn, machine_arn, number, revision_id, data) VALUES (?, ?, ?, ?, ?)`,
			nv.ARN, nv.StateMachineARN, nv.Number, nv.RevisionID, data); err != nil {
			return nil, err
		}
		out, created = &nv, true
		return nil, nil
	})
	if err != nil {
		return nil, false, err
	}
	return out, created, nil
}

// GetVersion implements store.Versions.
func (s *Store) GetVersion(ctx context.Context, arn string) (*store.Version, error) {
	var v store.Version
	if err := getJSON(ctx, s.rdb, &v, `SELECT data FROM versions WHERE arn = ?`, arn); err != nil {
		return nil, err
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
	limit := max(p.Limit, 1)
	rows, err := s.rdb.QueryContext(ctx, `SELECT data FROM versions WHERE machine_arn = ? AND number < ? ORDER BY number DESC LIMIT ?`,
		machineARN, before, limit+1)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []*store.Version
	for rows.Next() {
		if len(out) == limit {
			return out, store.PageToken("v", out[len(out)-1].Number), nil
		}
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, "", err
		}
		var v store.Version
		if err := json.Unmarshal(data, &v); err != nil {
			return nil, "", err
		}
		out = append(out, &v)
	}
	return out, "", rows.Err()
}

// machineAliases reads a machine's aliases, newest first, with their seq.
func machineAliases(ctx context.Context, q interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}, machineARN string, before int64) ([]*store.Alias, []int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT seq, data FROM aliases WHERE machine_arn = ? AND seq < ? ORDER BY seq DESC`, machineARN, before)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var out []*store.Alias
	var seqs []int64
	for rows.Next() {
		var seq int64
		var data []byte
		if err := rows.Scan(&seq, &data); err != nil {
			return nil, nil, err
		}
		var a store.Alias
		if err := json.Unmarshal(data, &a); err != nil {
			return nil, nil, err
		}
		out, seqs = append(out, &a), append(seqs, seq)
	}
	return out, seqs, rows.Err()
}

func routesTo(a *store.Alias, versionARN string) bool {
	return slices.ContainsFunc(a.Routing, func(rt store.Route) bool { return rt.VersionARN == versionARN })
}

// DeleteVersion implements store.Versions.
func (s *Store) DeleteVersion(ctx context.Context, arn string) error {
	return s.w.do(ctx, func(w *writer) (error, error) {
		bg := context.Background()
		var machine string
		err := w.conn.QueryRowContext(bg, `SELECT machine_arn FROM versions WHERE arn = ?`, arn).Scan(&machine)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound, nil
		}
		if err != nil {
			return nil, err
		}
		aliases, _, err := machineAliases(bg, w.conn, machine, 1<<63-1)
		if err != nil {
			return nil, err
		}
		for _, a := range aliases {
			if routesTo(a, arn) {
				return store.ErrConflict, nil
			}
		}
		_, err = w.conn.ExecContext(bg, `DELETE FROM versions WHERE arn = ?`, arn)
		return nil, err
	})
}

// CreateAlias implements store.Versions.
func (s *Store) CreateAlias(ctx context.Context, a *store.Alias) error {
	data, err := json.Marshal(a)
	if err != nil {
		return err
	}
	arn, machine := a.ARN, a.StateMachineARN
	return s.w.do(ctx, func(w *writer) (error, error) {
		bg := context.Background()
		var exists, n int64
		if err := w.conn.QueryRowContext(bg, `SELECT (SELECT count(*) FROM aliases WHERE arn = ?), (SELECT count(*) FROM aliases WHERE machine_arn = ?)`,
			arn, machine).Scan(&exists, &n); err != nil {
			return nil, err
		}
		if exists > 0 {
			return store.ErrAlreadyExists, nil
		}
		if n >= store.MaxAliasesPerMachine {
			return store.ErrLimitExceeded, nil
		}
		_, err := w.conn.ExecContext(bg, `INSERT INTO aliases (arn, machine_arn, data) VALUES (?, ?, ?)`, arn, machine, data)
		return nil, err
	})
}

// GetAlias implements store.Versions.
func (s *Store) GetAlias(ctx context.Context, arn string) (*store.Alias, error) {
	var a store.Alias
	if err := getJSON(ctx, s.rdb, &a, `SELECT data FROM aliases WHERE arn = ?`, arn); err != nil {
		return nil, err
	}
	return &a, nil
}

// UpdateAlias implements store.Versions.
func (s *Store) UpdateAlias(ctx context.Context, a *store.Alias) error {
	upd := *a
	upd.Routing = slices.Clone(a.Routing)
	return s.w.do(ctx, func(w *writer) (error, error) {
		bg := context.Background()
		var cur store.Alias
		if err := getJSON(bg, w.conn, &cur, `SELECT data FROM aliases WHERE arn = ?`, upd.ARN); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return err, nil
			}
			return nil, err
		}
		cur.Description, cur.Routing, cur.UpdateDate = upd.Description, upd.Routing, upd.UpdateDate
		data, err := json.Marshal(&cur)
		if err != nil {
			return nil, err
		}
		_, err = w.conn.ExecContext(bg, `UPDATE aliases SET data = ? WHERE arn = ?`, data, upd.ARN)
		return nil, err
	})
}

// DeleteAlias implements store.Versions.
func (s *Store) DeleteAlias(ctx context.Context, arn string) error {
	return s.deleteOne(ctx, `DELETE FROM aliases WHERE arn = ?`, arn)
}

// deleteOne runs a DELETE of one row: ErrNotFound when it deletes none.
func (s *Store) deleteOne(ctx context.Context, query string, args ...any) error {
	return s.w.do(ctx, func(w *writer) (error, error) {
		res, err := w.conn.ExecContext(context.Background(), query, args...)
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

// ListAliases implements store.Versions.
func (s *Store) ListAliases(ctx context.Context, machineARN, versionARN string, p store.Page) ([]*store.Alias, string, error) {
	before, err := store.ParsePageToken(p.Token, "a")
	if err != nil {
		return nil, "", err
	}
	if p.Token == "" {
		before = 1<<63 - 1
	}
	all, seqs, err := machineAliases(ctx, s.rdb, machineARN, before)
	if err != nil {
		return nil, "", err
	}
	limit := max(p.Limit, 1)
	var out []*store.Alias
	var last int64
	for i, a := range all {
		if versionARN != "" && !routesTo(a, versionARN) {
			continue
		}
		if len(out) == limit {
			return out, store.PageToken("a", last), nil
		}
		out, last = append(out, a), seqs[i]
	}
	return out, "", nil
}

// DeleteMachineVersions implements store.Versions. A machine re-created
// under the same name starts again at version 1.
func (s *Store) DeleteMachineVersions(ctx context.Context, machineARN string) error {
	return s.w.do(ctx, func(w *writer) (error, error) {
		bg := context.Background()
		for _, q := range []string{`DELETE FROM versions WHERE machine_arn = ?`, `DELETE FROM aliases WHERE machine_arn = ?`,
			`DELETE FROM version_counters WHERE machine_arn = ?`} {
			if _, err := w.conn.ExecContext(bg, q, machineARN); err != nil {
				return nil, err
			}
		}
		return nil, nil
	})
}

// Tags implements store.Versions.
func (s *Store) Tags(ctx context.Context, arn string) ([]store.Tag, bool, error) {
	var tags []store.Tag
	err := getJSON(ctx, s.rdb, &tags, `SELECT data FROM tags WHERE arn = ?`, arn)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if tags == nil {
		tags = []store.Tag{}
	}
	return tags, true, nil
}

// updateTags applies change to a resource's tag set in the writer: cur is
// nil when the resource has none. change returns the new set (nil to
// drop it) or a store error.
func (s *Store) updateTags(ctx context.Context, arn string, change func(cur []store.Tag, ok bool) ([]store.Tag, error)) error {
	return s.w.do(ctx, func(w *writer) (error, error) {
		bg := context.Background()
		var cur []store.Tag
		err := getJSON(bg, w.conn, &cur, `SELECT data FROM tags WHERE arn = ?`, arn)
		ok := err == nil
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		next, res := change(cur, ok)
		if res != nil {
			return res, nil
		}
		if next == nil {
			_, err := w.conn.ExecContext(bg, `DELETE FROM tags WHERE arn = ?`, arn)
			return nil, err
		}
		data, err := json.Marshal(next)
		if err != nil {
			return nil, err
		}
		_, err = w.conn.ExecContext(bg, `INSERT INTO tags (arn, data) VALUES (?, ?) ON CONFLICT (arn) DO UPDATE SET data = excluded.data`, arn, data)
		return nil, err
	})
}

// SetTags implements store.Versions.
func (s *Store) SetTags(ctx context.Context, arn string, tags []store.Tag) error {
	return s.updateTags(ctx, arn, func([]store.Tag, bool) ([]store.Tag, error) {
		if tags == nil {
			return nil, nil
		}
		return store.MergeTags(nil, tags), nil
	})
}

// TagResource implements store.Versions.
func (s *Store) TagResource(ctx context.Context, arn string, tags []store.Tag, limit int) error {
	return s.updateTags(ctx, arn, func(cur []store.Tag, _ bool) ([]store.Tag, error) {
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
	return s.updateTags(ctx, arn, func(cur []store.Tag, ok bool) ([]store.Tag, error) {
		if !ok {
			return []store.Tag{}, nil
		}
		return slices.DeleteFunc(slices.Clone(cur), func(t store.Tag) bool { return slices.Contains(keys, t.Key) }), nil
	})
}

// PutMapRun implements store.Versions.
func (s *Store) PutMapRun(ctx context.Context, r *store.MapRun) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	arn, x := r.ARN, r.ExecutionARN
	return s.w.do(ctx, func(w *writer) (error, error) {
		_, err := w.conn.ExecContext(context.Background(), `INSERT INTO map_runs (arn, execution_arn, data) VALUES (?, ?, ?)
			ON CONFLICT (arn) DO UPDATE SET data = excluded.data`, arn, x, data)
		return nil, err
	})
}

// GetMapRun implements store.Versions.
func (s *Store) GetMapRun(ctx context.Context, arn string) (*store.MapRun, error) {
	var r store.MapRun
	if err := getJSON(ctx, s.rdb, &r, `SELECT data FROM map_runs WHERE arn = ?`, arn); err != nil {
		return nil, err
	}
	return &r, nil
}

// ListMapRuns implements store.Versions.
func (s *Store) ListMapRuns(ctx context.Context, executionARN string, p store.Page) ([]*store.MapRun, string, error) {
	after, err := store.ParsePageToken(p.Token, "r")
	if err != nil {
		return nil, "", err
	}
	limit := max(p.Limit, 1)
	rows, err := s.rdb.QueryContext(ctx, `SELECT seq, data FROM map_runs WHERE execution_arn = ? AND seq > ? ORDER BY seq LIMIT ?`,
		executionARN, after, limit+1)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []*store.MapRun
	var last int64
	for rows.Next() {
		if len(out) == limit {
			return out, store.PageToken("r", last), nil
		}
		var data []byte
		if err := rows.Scan(&last, &data); err != nil {
			return nil, "", err
		}
		var r store.MapRun
		if err := json.Unmarshal(data, &r); err != nil {
			return nil, "", err
		}
		out = append(out, &r)
	}
	return out, "", rows.Err()
}

// UpdateMapRun implements store.Versions.
func (s *Store) UpdateMapRun(ctx context.Context, arn string, u store.MapRunUpdate) error {
	return s.w.do(ctx, func(w *writer) (error, error) {
		bg := context.Background()
		var r store.MapRun
		if err := getJSON(bg, w.conn, &r, `SELECT data FROM map_runs WHERE arn = ?`, arn); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return err, nil
			}
			return nil, err
		}
		if r.Status != "RUNNING" {
			return store.ErrConflict, nil
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
			return nil, err
		}
		_, err = w.conn.ExecContext(bg, `UPDATE map_runs SET data = ? WHERE arn = ?`, data, arn)
		return nil, err
	})
}

// PutExecutionMeta implements store.Versions.
func (s *Store) PutExecutionMeta(ctx context.Context, executionARN string, m store.ExecutionMeta) error {
	data, err := json.Marshal(&m)
	if err != nil {
		return err
	}
	return s.w.do(ctx, func(w *writer) (error, error) {
		_, err := w.conn.ExecContext(context.Background(), `INSERT INTO execution_meta (execution_arn, data) VALUES (?, ?)
			ON CONFLICT (execution_arn) DO UPDATE SET data = excluded.data`, executionARN, data)
		return nil, err
	})
}

// GetExecutionMeta implements store.Versions.
func (s *Store) GetExecutionMeta(ctx context.Context, executionARN string) (store.ExecutionMeta, bool, error) {
	var m store.ExecutionMeta
	var data []byte
	err := notFound(s.getMeta.QueryRowContext(pointRead(ctx), executionARN).Scan(&data))
	if err == nil {
		err = json.Unmarshal(data, &m)
	}
	if errors.Is(err, store.ErrNotFound) {
		return store.ExecutionMeta{}, false, nil
	}
	if err != nil {
		return store.ExecutionMeta{}, false, err
	}
	return m, true, nil
}
