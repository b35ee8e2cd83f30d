package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stepwell/stepwell/store"
)

func TestMigrationsEmbedded(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) < 2 || SchemaVersion() != len(ms) {
		t.Fatalf("%d migrations, SchemaVersion %d", len(ms), SchemaVersion())
	}
	for i, m := range ms {
		if m.version != i+1 || !strings.Contains(m.sql, "CREATE TABLE") {
			t.Fatalf("migration %d: %+v", i, m.name)
		}
	}
}

// A database at an older version is brought up to date by Open, keeping
// its data.
func TestMigrateFromVersion1(t *testing.T) {
	dsn := os.Getenv("STEPWELL_TEST_POSTGRES_DSN")
	if dsn == "" {
		if os.Getenv("STEPWELL_REQUIRE_POSTGRES") == "1" {
			t.Fatal("STEPWELL_TEST_POSTGRES_DSN is not set")
		}
		t.Skip("set STEPWELL_TEST_POSTGRES_DSN (scripts/postgres.sh)")
	}
	ctx := context.Background()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "stepwell_test_" + hex.EncodeToString(b[:])
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE") }()
	sdsn := dsn + " search_path=" + schema
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		sdsn = u.String()
	}
	pool, err := pgxpool.New(ctx, sdsn)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if err := migrateWith(ctx, pool, ms[:1]); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO state_machines (arn, name, type, creation_date, revision_id)
		VALUES ('arn:m', 'm', 'STANDARD', now(), 'r')`); err != nil {
		t.Fatal(err)
	}
	pool.Close()
	s, err := Open(ctx, sdsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var v, n int
	if err := s.pool.QueryRow(ctx, `SELECT max(version), (SELECT count(*) FROM state_machines) FROM schema_version`).Scan(&v, &n); err != nil {
		t.Fatal(err)
	}
	if v != SchemaVersion() || n != 1 {
		t.Fatalf("version %d with %d machines after migration", v, n)
	}
	if _, _, err := s.ListActivities(ctx, store.Page{Limit: 10}); err != nil {
		t.Fatal(err)
	}
}
