package sqlite

import (
	"context"
	"errors"

	"github.com/stepwell/stepwell/store"
)

var _ store.KeyStore = (*Store)(nil)

// TaskTokenKey implements store.KeyStore: the key is a row of the secrets
// table, written durably on first use.
func (s *Store) TaskTokenKey(ctx context.Context, fresh []byte) ([]byte, error) {
	if len(fresh) == 0 {
		return nil, errors.New("task token key: empty key")
	}
	err := s.w.do(ctx, func(w *writer) (error, error) {
		_, err := w.conn.ExecContext(context.Background(),
			`INSERT INTO secrets (name, value) VALUES ('task_token_key', ?) ON CONFLICT (name) DO NOTHING`, fresh)
		return nil, err
	})
	if err != nil {
		return nil, err
	}
	var key []byte
	if err := s.rdb.QueryRowContext(ctx, `SELECT value FROM secrets WHERE name = 'task_token_key'`).Scan(&key); err != nil {
		return nil, err
	}
	return key, nil
}
