package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/stepwell/stepwell/store"
)

// listRunningLast reads a page of running executions, each with the
// history row holding its last event: its last history row, else the
// events it was created with (first_events: ids 1 to first_last), else
// NULLs (no events).
const listRunningLast = `SELECT e.seq, ` + execCols + `,
		coalesce(h.first_id, 1), coalesce(h.last_id, nullif(e.first_last, 0)),
		CASE WHEN h.last_id IS NULL THEN e.first_events ELSE h.events END,
		CASE WHEN h.last_id IS NULL THEN e.first_threads ELSE h.threads END
	FROM executions e LEFT JOIN history h
		ON h.execution = e.seq AND h.last_id = (SELECT max(last_id) FROM history WHERE execution = e.seq)
	WHERE e.status = 'RUNNING' AND e.seq > ? ORDER BY e.seq LIMIT ?`

// ListRunningLast implements store.Store: one query per page, decoding
// only the last row of each history.
func (s *Store) ListRunningLast(ctx context.Context, p store.Page) ([]store.RunningLast, string, error) {
	pos, err := store.ParsePageToken(p.Token, "rl")
	if err != nil {
		return nil, "", err
	}
	limit := max(p.Limit, 1)
	rows, err := s.rdb.QueryContext(ctx, listRunningLast, pos, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list running executions: %w", err)
	}
	defer rows.Close()
	var out []store.RunningLast
	var seqs []int64
	for rows.Next() {
		var seq int64
		var first, last sql.NullInt64
		var blob []byte
		var threads sql.NullString
		x, err := scanExecution(rowScanner{rows, []any{&seq}, []any{&first, &last, &blob, &threads}})
		if err != nil {
			return nil, "", fmt.Errorf("list running executions: %w", err)
		}
		item := store.RunningLast{Execution: x}
		if last.Valid {
			evs, err := decodeEvents(nil, blob, threads.String, first.Int64, last.Int64, last.Int64)
			if err != nil {
				return nil, "", fmt.Errorf("last event of %s: %w", x.ARN, err)
			}
			if len(evs) == 1 {
				item.Last = &evs[0]
			}
		}
		out = append(out, item)
		seqs = append(seqs, seq)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list running executions: %w", err)
	}
	if len(out) > limit {
		return out[:limit], store.PageToken("rl", seqs[limit-1]), nil
	}
	return out, "", nil
}

// rowScanner scans extra columns before and after the execution's.
type rowScanner struct {
	r           scanner
	before, end []any
}

func (s rowScanner) Scan(dest ...any) error {
	all := make([]any, 0, len(s.before)+len(dest)+len(s.end))
	all = append(append(append(all, s.before...), dest...), s.end...)
	return s.r.Scan(all...)
}
