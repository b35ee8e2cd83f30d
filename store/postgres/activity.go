package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/stepwell/stepwell/store"
)

var _ store.ActivityStore = (*Store)(nil)

// CreateActivity implements store.ActivityStore.
func (s *Store) CreateActivity(ctx context.Context, a *store.Activity) error {
	return s.execOne(ctx, "create activity", store.ErrAlreadyExists, `INSERT INTO activities (arn, name, creation_date, tags, encryption)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (arn) DO NOTHING`,
		a.ARN, a.Name, a.CreationDate, []byte(a.Tags), []byte(a.Encryption))
}

func scanActivity(row pgx.Row) (*store.Activity, int64, error) {
	var (
		a         store.Activity
		seq       int64
		tags, enc []byte
	)
	if err := row.Scan(&seq, &a.ARN, &a.Name, &a.CreationDate, &tags, &enc); err != nil {
		return nil, 0, err
	}
	a.CreationDate = a.CreationDate.UTC()
	a.Tags, a.Encryption = rawOf(tags), rawOf(enc)
	return &a, seq, nil
}

// GetActivity implements store.ActivityStore.
func (s *Store) GetActivity(ctx context.Context, arn string) (*store.Activity, error) {
	a, _, err := scanActivity(s.pool.QueryRow(ctx, `SELECT seq, arn, name, creation_date, tags, encryption
		FROM activities WHERE arn = $1`, arn))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get activity: %w", err)
	}
	return a, nil
}

// ListActivities implements store.ActivityStore.
func (s *Store) ListActivities(ctx context.Context, p store.Page) ([]*store.Activity, string, error) {
	after, err := store.ParsePageToken(p.Token, "a")
	if err != nil {
		return nil, "", err
	}
	limit := pageLimit(p)
	out, next, err := queryPage(ctx, s, "a", limit, scanActivity, `SELECT seq, arn, name, creation_date, tags, encryption
		FROM activities WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list activities: %w", err)
	}
	return out, next, nil
}

// DeleteActivity implements store.ActivityStore.
func (s *Store) DeleteActivity(ctx context.Context, arn string) error {
	return s.execOne(ctx, "delete activity", store.ErrNotFound, `DELETE FROM activities WHERE arn = $1`, arn)
}
