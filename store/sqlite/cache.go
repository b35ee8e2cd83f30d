package sqlite

import (
	"bytes"
	"sync"

	"github.com/stepwell/stepwell/store"
)

// maxCachedMachines bounds the state machine cache.
const maxCachedMachines = 4096

// machineCache keeps state machines read lately: every StartExecution
// reads its machine, and Express executions must not wait on SQLite for
// it. Writes invalidate an entry once they are durable; gen keeps a read
// that raced with a write from caching what it read.
type machineCache struct {
	mu  sync.RWMutex
	gen uint64
	m   map[string]*store.StateMachine
}

func cloneMachine(sm *store.StateMachine) *store.StateMachine {
	c := *sm
	c.Tags = bytes.Clone(sm.Tags)
	c.Logging = bytes.Clone(sm.Logging)
	c.Tracing = bytes.Clone(sm.Tracing)
	return &c
}

// get returns a copy of the cached machine and the generation to pass to
// put after reading it from the database.
func (c *machineCache) get(arn string) (*store.StateMachine, uint64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if sm := c.m[arn]; sm != nil {
		return cloneMachine(sm), c.gen
	}
	return nil, c.gen
}

// put caches sm unless a write invalidated anything since gen.
func (c *machineCache) put(sm *store.StateMachine, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if c.m == nil || len(c.m) >= maxCachedMachines {
		c.m = make(map[string]*store.StateMachine)
	}
	c.m[sm.ARN] = cloneMachine(sm)
}

// invalidate forgets arn; called after a write to it returned.
func (c *machineCache) invalidate(arn string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.m, arn)
}

// maxCachedActivities bounds the activity cache.
const maxCachedActivities = 4096

// activityCache keeps activities read lately: every GetActivityTask and
// every activity task scheduled reads its activity, and none of them
// should wait for SQLite (or take a reader connection) for it. Same rules
// as machineCache.
type activityCache struct {
	mu  sync.RWMutex
	gen uint64
	m   map[string]*store.Activity
}

func cloneActivity(a *store.Activity) *store.Activity {
	c := *a
	c.Tags = bytes.Clone(a.Tags)
	c.Encryption = bytes.Clone(a.Encryption)
	return &c
}

// get returns a copy of the cached activity and the generation to pass to
// put after reading it from the database.
func (c *activityCache) get(arn string) (*store.Activity, uint64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if a := c.m[arn]; a != nil {
		return cloneActivity(a), c.gen
	}
	return nil, c.gen
}

// put caches a unless a write invalidated anything since gen.
func (c *activityCache) put(a *store.Activity, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if c.m == nil || len(c.m) >= maxCachedActivities {
		c.m = make(map[string]*store.Activity)
	}
	c.m[a.ARN] = cloneActivity(a)
}

// invalidate forgets arn; called after a write to it returned.
func (c *activityCache) invalidate(arn string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.m, arn)
}
