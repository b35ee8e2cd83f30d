package memory

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
)

var (
	_ store.Versions = (*Versions)(nil)
	_ store.Reopener = (*Store)(nil)
)

// Versions is an in-memory store.Versions.
type Versions struct {
	mu       sync.RWMutex
	seq      int64
	versions map[string]*versionRec // by version ARN
	byMach   map[string]*machVersions
	aliases  map[string]*aliasRec // by alias ARN
	tags     map[string][]store.Tag
	runs     map[string]*runRec   // by Map Run ARN
	runsByX  map[string][]*runRec // ascending by seq
	meta     map[string]store.ExecutionMeta
}

type versionRec struct {
	v   store.Version
	seq int64
}

type aliasRec struct {
	a   store.Alias
	seq int64
}

type runRec struct {
	r   store.MapRun
	seq int64
}

// machVersions is one machine's versions and aliases.
type machVersions struct {
	last     int64         // highest version number ever published
	versions []*versionRec // ascending by number
	aliases  []*aliasRec   // ascending by seq
}

// NewVersions returns an empty Versions.
func NewVersions() *Versions {
	return &Versions{
		versions: make(map[string]*versionRec),
		byMach:   make(map[string]*machVersions),
		aliases:  make(map[string]*aliasRec),
		tags:     make(map[string][]store.Tag),
		runs:     make(map[string]*runRec),
		runsByX:  make(map[string][]*runRec),
		meta:     make(map[string]store.ExecutionMeta),
	}
}

func cloneVersion(v *store.Version) *store.Version {
	c := *v
	c.Revision = cloneRevision(v.Revision)
	return &c
}

func cloneAlias(a *store.Alias) *store.Alias {
	c := *a
	c.Routing = slices.Clone(a.Routing)
	return &c
}

func (s *Versions) mach(arn string) *machVersions {
	m := s.byMach[arn]
	if m == nil {
		m = &machVersions{}
		s.byMach[arn] = m
	}
	return m
}

// PublishVersion implements store.Versions.
func (s *Versions) PublishVersion(ctx context.Context, v *store.Version) (*store.Version, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.mach(v.StateMachineARN)
	for _, r := range m.versions {
		if r.v.RevisionID == v.RevisionID {
			return cloneVersion(&r.v), false, nil
		}
	}
	if len(m.versions) >= store.MaxVersionsPerMachine {
		return nil, false, store.ErrLimitExceeded
	}
	m.last++
	s.seq++
	r := &versionRec{v: *cloneVersion(v), seq: s.seq}
	r.v.Number = m.last
	r.v.ARN = v.StateMachineARN + ":" + strconv.FormatInt(m.last, 10)
	m.versions = append(m.versions, r)
	s.versions[r.v.ARN] = r
	return cloneVersion(&r.v), true, nil
}

// GetVersion implements store.Versions.
func (s *Versions) GetVersion(ctx context.Context, arn string) (*store.Version, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.versions[arn]
	if !ok {
		return nil, store.ErrNotFound
	}
	return cloneVersion(&r.v), nil
}

// ListVersions implements store.Versions.
func (s *Versions) ListVersions(ctx context.Context, machineARN string, p store.Page) ([]*store.Version, string, error) {
	before, err := store.ParsePageToken(p.Token, "v")
	if err != nil {
		return nil, "", err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	m := s.byMach[machineARN]
	if m == nil {
		return nil, "", nil
	}
	limit := max(p.Limit, 1)
	var out []*store.Version
	for i := len(m.versions) - 1; i >= 0; i-- {
		r := m.versions[i]
		if p.Token != "" && r.v.Number >= before {
			continue
		}
		if len(out) == limit {
			return out, store.PageToken("v", out[len(out)-1].Number), nil
		}
		out = append(out, cloneVersion(&r.v))
	}
	return out, "", nil
}

// DeleteVersion implements store.Versions.
func (s *Versions) DeleteVersion(ctx context.Context, arn string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.versions[arn]
	if !ok {
		return store.ErrNotFound
	}
	m := s.mach(r.v.StateMachineARN)
	for _, a := range m.aliases {
		for _, rt := range a.a.Routing {
			if rt.VersionARN == arn {
				return store.ErrConflict
			}
		}
	}
	delete(s.versions, arn)
	m.versions = slices.DeleteFunc(m.versions, func(x *versionRec) bool { return x == r })
	return nil
}

// CreateAlias implements store.Versions.
func (s *Versions) CreateAlias(ctx context.Context, a *store.Alias) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.aliases[a.ARN]; ok {
		return store.ErrAlreadyExists
	}
	m := s.mach(a.StateMachineARN)
	if len(m.aliases) >= store.MaxAliasesPerMachine {
		return store.ErrLimitExceeded
	}
	s.seq++
	r := &aliasRec{a: *cloneAlias(a), seq: s.seq}
	s.aliases[a.ARN] = r
	m.aliases = append(m.aliases, r)
	return nil
}

// GetAlias implements store.Versions.
func (s *Versions) GetAlias(ctx context.Context, arn string) (*store.Alias, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.aliases[arn]
	if !ok {
		return nil, store.ErrNotFound
	}
	return cloneAlias(&r.a), nil
}

// UpdateAlias implements store.Versions.
func (s *Versions) UpdateAlias(ctx context.Context, a *store.Alias) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.aliases[a.ARN]
	if !ok {
		return store.ErrNotFound
	}
	r.a.Description = a.Description
	r.a.Routing = slices.Clone(a.Routing)
	r.a.UpdateDate = a.UpdateDate
	return nil
}

// DeleteAlias implements store.Versions.
func (s *Versions) DeleteAlias(ctx context.Context, arn string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.aliases[arn]
	if !ok {
		return store.ErrNotFound
	}
	delete(s.aliases, arn)
	m := s.mach(r.a.StateMachineARN)
	m.aliases = slices.DeleteFunc(m.aliases, func(x *aliasRec) bool { return x == r })
	return nil
}

// ListAliases implements store.Versions.
func (s *Versions) ListAliases(ctx context.Context, machineARN, versionARN string, p store.Page) ([]*store.Alias, string, error) {
	before, err := store.ParsePageToken(p.Token, "a")
	if err != nil {
		return nil, "", err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	m := s.byMach[machineARN]
	if m == nil {
		return nil, "", nil
	}
	limit := max(p.Limit, 1)
	var out []*store.Alias
	last := int64(0)
	for i := len(m.aliases) - 1; i >= 0; i-- {
		r := m.aliases[i]
		if p.Token != "" && r.seq >= before {
			continue
		}
		if versionARN != "" && !slices.ContainsFunc(r.a.Routing, func(rt store.Route) bool { return rt.VersionARN == versionARN }) {
			continue
		}
		if len(out) == limit {
			return out, store.PageToken("a", last), nil
		}
		out = append(out, cloneAlias(&r.a))
		last = r.seq
	}
	return out, "", nil
}

// DeleteMachineVersions implements store.Versions.
func (s *Versions) DeleteMachineVersions(ctx context.Context, machineARN string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.byMach[machineARN]
	if m == nil {
		return nil
	}
	for _, r := range m.versions {
		delete(s.versions, r.v.ARN)
	}
	for _, r := range m.aliases {
		delete(s.aliases, r.a.ARN)
	}
	// A machine re-created under the same name starts again at version 1.
	delete(s.byMach, machineARN)
	return nil
}

// Tags implements store.Versions.
func (s *Versions) Tags(ctx context.Context, arn string) ([]store.Tag, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.tags[arn]
	return slices.Clone(t), ok, nil
}

// SetTags implements store.Versions.
func (s *Versions) SetTags(ctx context.Context, arn string, tags []store.Tag) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if tags == nil {
		delete(s.tags, arn)
		return nil
	}
	s.tags[arn] = store.MergeTags(nil, tags)
	return nil
}

// TagResource implements store.Versions.
func (s *Versions) TagResource(ctx context.Context, arn string, tags []store.Tag, limit int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	merged := store.MergeTags(s.tags[arn], tags)
	n := 0
	for _, t := range merged {
		if !strings.HasPrefix(t.Key, "aws:") {
			n++
		}
	}
	if n > limit {
		return store.ErrLimitExceeded
	}
	s.tags[arn] = merged
	return nil
}

// UntagResource implements store.Versions.
func (s *Versions) UntagResource(ctx context.Context, arn string, keys []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.tags[arn]
	if !ok {
		s.tags[arn] = []store.Tag{}
		return nil
	}
	s.tags[arn] = slices.DeleteFunc(slices.Clone(cur), func(t store.Tag) bool { return slices.Contains(keys, t.Key) })
	return nil
}

// PutMapRun implements store.Versions.
func (s *Versions) PutMapRun(ctx context.Context, r *store.MapRun) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.runs[r.ARN]; ok {
		old.r = *r
		return nil
	}
	s.seq++
	rec := &runRec{r: *r, seq: s.seq}
	s.runs[r.ARN] = rec
	s.runsByX[r.ExecutionARN] = append(s.runsByX[r.ExecutionARN], rec)
	return nil
}

// GetMapRun implements store.Versions.
func (s *Versions) GetMapRun(ctx context.Context, arn string) (*store.MapRun, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.runs[arn]
	if !ok {
		return nil, store.ErrNotFound
	}
	c := r.r
	return &c, nil
}

// ListMapRuns implements store.Versions.
func (s *Versions) ListMapRuns(ctx context.Context, executionARN string, p store.Page) ([]*store.MapRun, string, error) {
	after, err := store.ParsePageToken(p.Token, "r")
	if err != nil {
		return nil, "", err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out, next := pageAfter(s.runsByX[executionARN], func(r *runRec) int64 { return r.seq }, after, p.Limit, "r", func(r *runRec) *store.MapRun {
		c := r.r
		return &c
	})
	return out, next, nil
}

// UpdateMapRun implements store.Versions.
func (s *Versions) UpdateMapRun(ctx context.Context, arn string, u store.MapRunUpdate) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.runs[arn]
	if !ok {
		return store.ErrNotFound
	}
	if r.r.Status != "RUNNING" {
		return store.ErrConflict
	}
	if u.MaxConcurrency != nil {
		r.r.MaxConcurrency = *u.MaxConcurrency
	}
	if u.ToleratedFailurePercentage != nil {
		r.r.ToleratedFailurePercentage = *u.ToleratedFailurePercentage
	}
	if u.ToleratedFailureCount != nil {
		r.r.ToleratedFailureCount = *u.ToleratedFailureCount
	}
	return nil
}

// PutExecutionMeta implements store.Versions.
func (s *Versions) PutExecutionMeta(ctx context.Context, executionARN string, m store.ExecutionMeta) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.meta[executionARN] = m
	return nil
}

// GetExecutionMeta implements store.Versions.
func (s *Versions) GetExecutionMeta(ctx context.Context, executionARN string) (store.ExecutionMeta, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	m, ok := s.meta[executionARN]
	return m, ok, nil
}

// ReopenExecution implements store.Reopener.
func (s *Store) ReopenExecution(ctx context.Context, arn string, events []history.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.execs[arn]
	if !ok {
		return store.ErrNotFound
	}
	if e.x.Status == store.StatusRunning {
		return store.ErrConflict
	}
	next := int64(len(e.events)) + 1
	for i := range events {
		if events[i].ID != next+int64(i) {
			return store.ErrConflict
		}
	}
	e.events = append(e.events, events...)
	e.x.Status = store.StatusRunning
	e.x.StopDate = time.Time{}
	e.x.Output, e.x.Error, e.x.Cause = nil, nil, nil
	return nil
}
