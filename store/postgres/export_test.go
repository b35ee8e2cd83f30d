package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// QueryRowForTest runs a query on the store's pool.
func (s *Store) QueryRowForTest(ctx context.Context, sql string, args ...any) pgx.Row {
	return s.pool.QueryRow(ctx, sql, args...)
}

// MaxConnsForTest returns the pool's connection limit.
func (s *Store) MaxConnsForTest() int32 { return s.pool.Config().MaxConns }
