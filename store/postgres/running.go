package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
)

// listRunningLast reads a page of running executions, each with its last
// history event (NULLs when it has none).
var listRunningLast = `SELECT ` + qualified("e", execCols) + `,
		h.event_id, h.previous_id, h.type, h.thread, h.ts, h.details
	FROM executions e LEFT JOIN history h ON h.execution_arn = e.arn AND h.event_id = e.last_event_id
	WHERE e.status = 'RUNNING' AND e.seq > $1 ORDER BY e.seq LIMIT $2`

// qualified prefixes each column of a column list with a table alias.
func qualified(alias, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// ListRunningLast implements store.Store.
func (s *Store) ListRunningLast(ctx context.Context, p store.Page) ([]store.RunningLast, string, error) {
	pos, err := store.ParsePageToken(p.Token, "rl")
	if err != nil {
		return nil, "", err
	}
	limit := pageLimit(p)
	out, next, err := queryPage(ctx, s, "rl", limit, scanRunningLast, listRunningLast, pos, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list running executions: %w", err)
	}
	return out, next, nil
}

// scanRunningLast scans a row of listRunningLast.
func scanRunningLast(row pgx.Row) (store.RunningLast, int64, error) {
	var last *history.Event
	x, seq, err := scanExecution(tailRow{row: row, last: &last})
	if err != nil {
		return store.RunningLast{}, 0, err
	}
	return store.RunningLast{Execution: x, Last: last}, seq, nil
}

// tailRow scans the execution's columns, then its last event's (all NULL
// when the history is empty).
type tailRow struct {
	row  pgx.Row
	last **history.Event
}

func (t tailRow) Scan(dest ...any) error {
	var (
		id, prev    *int64
		typ, thread *string
		ts          *time.Time
		details     []byte
	)
	if err := t.row.Scan(append(dest, &id, &prev, &typ, &thread, &ts, &details)...); err != nil {
		return err
	}
	if id == nil {
		return nil
	}
	ev, _, err := scanEvent(fixedRow{*id, *prev, *typ, *thread, *ts, details})
	if err != nil {
		return err
	}
	*t.last = &ev
	return nil
}

// fixedRow is a pgx.Row over values already scanned, for scanEvent.
type fixedRow struct {
	id, prev    int64
	typ, thread string
	ts          time.Time
	details     []byte
}

func (f fixedRow) Scan(dest ...any) error {
	if len(dest) != 6 {
		return fmt.Errorf("scan %d columns of an event", len(dest))
	}
	*dest[0].(*int64), *dest[1].(*int64) = f.id, f.prev
	*dest[2].(*string), *dest[3].(*string) = f.typ, f.thread
	*dest[4].(*time.Time) = f.ts
	*dest[5].(*[]byte) = f.details
	return nil
}
