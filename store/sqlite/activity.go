package sqlite

import (
	"context"

	"github.com/stepwell/stepwell/store"
)

var _ store.ActivityStore = (*Store)(nil)

// CreateActivity implements store.ActivityStore.
func (s *Store) CreateActivity(ctx context.Context, a *store.Activity) error {
	c := *a
	defer s.activities.invalidate(c.ARN)
	return s.w.do(ctx, func(w *writer) (error, error) {
		res, err := w.conn.ExecContext(context.Background(), `INSERT INTO activities (arn, name, creation_ns, tags, encryption)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (arn) DO NOTHING`, c.ARN, c.Name, nanos(c.CreationDate), rawOrNil(c.Tags), rawOrNil(c.Encryption))
		if err != nil {
			return nil, err
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, err
		} else if n == 0 {
			return store.ErrAlreadyExists, nil
		}
		return nil, nil
	})
}

const activityCols = `seq, arn, name, creation_ns, tags, encryption`

func scanActivity(r scanner) (*store.Activity, int64, error) {
	var a store.Activity
	var seq, created int64
	var tags, enc []byte
	if err := r.Scan(&seq, &a.ARN, &a.Name, &created, &tags, &enc); err != nil {
		return nil, 0, err
	}
	a.CreationDate, a.Tags, a.Encryption = fromNanos(created), tags, enc
	return &a, seq, nil
}

// GetActivity implements store.ActivityStore.
// Activities read are cached (writes invalidate them).
func (s *Store) GetActivity(ctx context.Context, arn string) (*store.Activity, error) {
	a, gen := s.activities.get(arn)
	if a != nil {
		return a, nil
	}
	a, _, err := scanActivity(s.getActivity.QueryRowContext(ctx, arn))
	if err != nil {
		return nil, notFound(err)
	}
	s.activities.put(a, gen)
	return a, nil
}

// ListActivities implements store.ActivityStore.
func (s *Store) ListActivities(ctx context.Context, p store.Page) ([]*store.Activity, string, error) {
	after, err := store.ParsePageToken(p.Token, "a")
	if err != nil {
		return nil, "", err
	}
	limit := max(p.Limit, 1)
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+activityCols+` FROM activities WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit+1)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []*store.Activity
	var last int64
	for rows.Next() {
		if len(out) == limit {
			return out, store.PageToken("a", last), nil
		}
		a, seq, err := scanActivity(rows)
		if err != nil {
			return nil, "", err
		}
		last = seq
		out = append(out, a)
	}
	return out, "", rows.Err()
}

// DeleteActivity implements store.ActivityStore.
func (s *Store) DeleteActivity(ctx context.Context, arn string) error {
	defer s.activities.invalidate(arn)
	return s.w.do(ctx, func(w *writer) (error, error) {
		res, err := w.conn.ExecContext(context.Background(), `DELETE FROM activities WHERE arn = ?`, arn)
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
