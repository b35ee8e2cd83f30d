package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/stepwell/stepwell/store"
)

var _ store.KeyStore = (*Store)(nil)

// TaskTokenKey implements store.KeyStore: the key is a row of the secrets
// table; every process on the database gets the same one.
func (s *Store) TaskTokenKey(ctx context.Context, fresh []byte) ([]byte, error) {
	if len(fresh) == 0 {
		return nil, errors.New("task token key: empty key")
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO secrets (name, value) VALUES ('task_token_key', $1) ON CONFLICT (name) DO NOTHING`, fresh); err != nil {
		return nil, fmt.Errorf("store task token key: %w", err)
	}
	var key []byte
	if err := s.pool.QueryRow(ctx, `SELECT value FROM secrets WHERE name = 'task_token_key'`).Scan(&key); err != nil {
		return nil, fmt.Errorf("read task token key: %w", err)
	}
	return key, nil
}
