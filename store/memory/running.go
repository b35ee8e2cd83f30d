package memory

import (
	"cmp"
	"context"
	"slices"

	"github.com/stepwell/stepwell/store"
)

// ListRunningLast implements store.Store.
func (s *Store) ListRunningLast(ctx context.Context, p store.Page) ([]store.RunningLast, string, error) {
	pos, err := store.ParsePageToken(p.Token, "rl")
	if err != nil {
		return nil, "", err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var running []*execution
	for _, e := range s.execs {
		if e.x.Status == store.StatusRunning && e.seq > pos {
			running = append(running, e)
		}
	}
	slices.SortFunc(running, func(a, b *execution) int { return cmp.Compare(a.seq, b.seq) })
	limit := max(p.Limit, 1)
	next := ""
	if len(running) > limit {
		running = running[:limit]
		next = store.PageToken("rl", running[limit-1].seq)
	}
	out := make([]store.RunningLast, len(running))
	for i, e := range running {
		out[i].Execution = cloneExecution(&e.x)
		if n := len(e.events); n > 0 {
			ev := e.events[n-1]
			out[i].Last = &ev
		}
	}
	return out, next, nil
}
