package memory

import (
	"context"
	"sync"

	"github.com/stepwell/stepwell/store"
)

var _ store.ActivityStore = (*Activities)(nil)

// Activities is an in-memory store.ActivityStore.
type Activities struct {
	mu    sync.RWMutex
	seq   int64
	byARN map[string]*activity
	order []*activity // by seq, ascending; deleted ones removed
}

type activity struct {
	a   store.Activity
	seq int64
}

// NewActivities returns an empty activity store.
func NewActivities() *Activities {
	return &Activities{byARN: make(map[string]*activity)}
}

func activitySeq(a *activity) int64 { return a.seq }

func cloneActivity(a *store.Activity) *store.Activity {
	c := *a
	c.Tags = cloneRaw(a.Tags)
	c.Encryption = cloneRaw(a.Encryption)
	return &c
}

// CreateActivity implements store.ActivityStore.
func (s *Activities) CreateActivity(ctx context.Context, a *store.Activity) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byARN[a.ARN]; ok {
		return store.ErrAlreadyExists
	}
	s.seq++
	e := &activity{a: *cloneActivity(a), seq: s.seq}
	s.byARN[a.ARN] = e
	s.order = append(s.order, e)
	return nil
}

// GetActivity implements store.ActivityStore.
func (s *Activities) GetActivity(ctx context.Context, arn string) (*store.Activity, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.byARN[arn]
	if !ok {
		return nil, store.ErrNotFound
	}
	return cloneActivity(&e.a), nil
}

// ListActivities implements store.ActivityStore.
func (s *Activities) ListActivities(ctx context.Context, p store.Page) ([]*store.Activity, string, error) {
	after, err := store.ParsePageToken(p.Token, "a")
	if err != nil {
		return nil, "", err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out, next := pageAfter(s.order, activitySeq, after, p.Limit, "a", func(e *activity) *store.Activity { return cloneActivity(&e.a) })
	return out, next, nil
}

// DeleteActivity implements store.ActivityStore.
func (s *Activities) DeleteActivity(ctx context.Context, arn string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.byARN[arn]
	if !ok {
		return store.ErrNotFound
	}
	delete(s.byARN, arn)
	s.order = deleteSeq(s.order, activitySeq, e.seq)
	return nil
}
