// Package postgres is a store.Store on PostgreSQL (pgx).
package postgres

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Store is a store.Store backed by PostgreSQL.
type Store struct {
	pool *pgxpool.Pool
}

// Open connects to the database named by dsn and migrates its schema.
func Open(ctx context.Context, dsn string) (*Store, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, err
	}
	return &Store{pool: pool}, nil
}
