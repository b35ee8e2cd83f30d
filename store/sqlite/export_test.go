package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/stepwell/stepwell/history"
)

// CreateAtVersion creates the database file path with the schema of
// version v (its first v migrations), as a Stepwell of that version left
// it, for migration tests to fill with raw SQL and open.
func CreateAtVersion(ctx context.Context, path string, v int) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	if v < 1 || v > len(ms) {
		return fmt.Errorf("no schema version %d", v)
	}
	db, err := sql.Open("sqlite", path+pragmas)
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return migrateTo(ctx, conn, ms[:v], nil)
}

// EncodeEvents encodes events as one history row (its events blob and
// threads column), for migration tests to write rows as an older
// Stepwell did.
func EncodeEvents(events []history.Event) ([]byte, string, error) {
	return encodeEvents(nil, events)
}
