package sqlite

import (
	"context"
	"time"
)

// checkpointEvery is how often the background checkpointer runs.
const checkpointEvery = 50 * time.Millisecond

// checkpointer copies the WAL into the database file in the background
// (PASSIVE checkpoints on a reader connection, which never block the
// writer), so that the writer's own automatic checkpoint, which resets the
// WAL, finds little left to copy inside a commit. It stops when ctx is
// done.
func (s *Store) checkpointer(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	var last int64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if c := s.w.gc.Stats().Commits; c != last {
			last = c
			// A failed checkpoint is retried at the next tick; the WAL
			// keeps every committed transaction meanwhile.
			_, _ = s.rdb.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
		}
	}
}
