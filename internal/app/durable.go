package app

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/stepwell/stepwell/executions"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/internal/clock"
	"github.com/stepwell/stepwell/store"
	"github.com/stepwell/stepwell/store/memory"
	"github.com/stepwell/stepwell/store/postgres"
	"github.com/stepwell/stepwell/store/sqlite"
)

// DefaultDataDir is the default data directory: $XDG_DATA_HOME/stepwell,
// else ~/.local/share/stepwell, else ./stepwell-data (DataDirFrom this
// process's environment).
func DefaultDataDir() string { return DataDirFrom(os.LookupEnv) }

// DataDirFrom is the default data directory in the environment getenv
// reads: $XDG_DATA_HOME/stepwell when that is an absolute path, else
// .local/share/stepwell in the home directory ($HOME, or %USERPROFILE%
// where there is no $HOME), else ./stepwell-data.
func DataDirFrom(getenv func(string) (string, bool)) string {
	if d, _ := getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "stepwell")
	}
	for _, home := range []string{"HOME", "USERPROFILE"} {
		if h, _ := getenv(home); filepath.IsAbs(h) {
			return filepath.Join(h, ".local", "share", "stepwell")
		}
	}
	return "stepwell-data"
}

// storeKind classifies a --store value: "memory", "embedded" (target is
// the database file, "" for the one in the data directory), "postgres"
// (target is the DSN), or "" when it is not a store.
func storeKind(s string) (kind, target string) {
	switch {
	case s == "":
		return "embedded", ""
	case s == "memory":
		return "memory", ""
	case strings.HasPrefix(s, "sqlite://"):
		p := strings.TrimPrefix(s, "sqlite://")
		if p == "" {
			return "", ""
		}
		return "embedded", p
	case strings.HasPrefix(s, "postgres://"), strings.HasPrefix(s, "postgresql://"):
		return "postgres", s
	case strings.Contains(s, "://"):
		return "", ""
	case strings.ContainsRune(s, '/'), strings.ContainsRune(s, filepath.Separator),
		strings.HasSuffix(s, ".db"), strings.HasSuffix(s, ".sqlite"), strings.HasSuffix(s, ".sqlite3"):
		return "embedded", s
	}
	return "", ""
}

// durable is what a durable backend keeps: everything the server stores.
// The embedded and PostgreSQL stores implement all of it, checked at
// compile time, so that nothing of a durable server silently lives in
// memory only.
type durable interface {
	store.Store
	store.ActivityStore
	store.Versions
	store.Reopener
	store.KeyStore
}

var (
	_ durable = (*sqlite.Store)(nil)
	_ durable = (*postgres.Store)(nil)
)

// backend is an opened store with the parts the server takes from it.
type backend struct {
	store      store.Store
	activities store.ActivityStore
	versions   store.Versions
	// reopener reopens the store's closed executions (RedriveExecution).
	reopener store.Reopener
	// keys keeps the task token key; nil (memory) signs tokens with a
	// key of this process.
	keys store.KeyStore
	info string // for people: "embedded /path/stepwell.db"
}

func durableBackend(st durable, info string) *backend {
	return &backend{store: st, activities: st, versions: st, reopener: st, keys: st, info: info}
}

// tokenKey returns the key that signs task tokens: the backend's stored
// one, so that the tokens of tasks a resumed execution still waits for
// stay valid across restarts; nil (a random key of this process) without
// a KeyStore.
func (b *backend) tokenKey(ctx context.Context) ([]byte, error) {
	if b.keys == nil {
		return nil, nil
	}
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("task token key: %w", err)
	}
	key, err := b.keys.TaskTokenKey(ctx, fresh)
	if err != nil {
		return nil, fmt.Errorf("task token key: %w", err)
	}
	return key, nil
}

// openStore opens the configured backend, logging to logger (when set)
// that an embedded store's schema is being upgraded, which can take a
// while. The memory store keeps activities, versions, aliases, tags and
// Map Runs in memory too; a durable one keeps them with its executions.
func openStore(ctx context.Context, c Config, logger *slog.Logger) (*backend, error) {
	kind, target := storeKind(c.Store)
	switch kind {
	case "memory":
		st := memory.New(memory.Options{})
		return &backend{store: st, activities: memory.NewActivities(), versions: memory.NewVersions(), reopener: st,
			info: "memory (nothing survives a restart)"}, nil
	case "embedded":
		if target == "" {
			dir := c.DataDir
			if dir == "" {
				dir = DefaultDataDir()
			}
			target = filepath.Join(dir, sqlite.DefaultFile)
		}
		var opts sqlite.Options
		if logger != nil {
			opts.Upgrading = func(from, to int) {
				logger.Info("upgrading the embedded store's schema; the server starts once it is done (a while, for a large database)",
					"path", target, "from", from, "to", to)
			}
		}
		st, err := sqlite.OpenWith(ctx, target, opts)
		if err != nil {
			return nil, err
		}
		abs, err := filepath.Abs(target)
		if err != nil {
			abs = target
		}
		return durableBackend(st, "embedded "+abs), nil
	case "postgres":
		st, err := postgres.Open(ctx, target)
		if err != nil {
			return nil, err
		}
		return durableBackend(st, "postgres "+Redact(target)), nil
	}
	return nil, fmt.Errorf("open store %q: unknown store", c.Store)
}

// errShuttingDown refuses writes once the server stops. It wraps
// store.ErrConflict, which the executions service treats as "already
// closed" and does not log, and executions.ErrShuttingDown, which the API
// answers as a failure of the server, not of the request.
var errShuttingDown = fmt.Errorf("%w: %w", executions.ErrShuttingDown, store.ErrConflict)

// fencedStore is the store the executions service and the API write
// through. Once shutdown begins it refuses every execution write, so that
// cancelling the running executions never records their cancellation: in
// a durable store they stay RUNNING and resume at the next start, as
// after a crash.
type fencedStore struct {
	store.Store
	closing atomic.Bool
	node    *node // several servers share the store: starts need the lease
}

func (f *fencedStore) shutdown() { f.closing.Store(true) }

// CreateExecution implements store.Store.
func (f *fencedStore) CreateExecution(ctx context.Context, x *store.Execution, events []history.Event, end *store.End) error {
	if f.closing.Load() || (f.node != nil && !f.node.Leased()) {
		return errShuttingDown
	}
	return f.Store.CreateExecution(ctx, x, events, end)
}

// AppendHistory implements store.Store.
func (f *fencedStore) AppendHistory(ctx context.Context, arn string, events []history.Event, end *store.End) error {
	if f.closing.Load() {
		return errShuttingDown
	}
	return f.Store.AppendHistory(ctx, arn, events, end)
}

// fencedReopener reopens closed executions (RedriveExecution) until
// shutdown begins, like fencedStore.
type fencedReopener struct {
	fence *fencedStore
	r     store.Reopener
}

// ReopenExecution implements store.Reopener.
func (f fencedReopener) ReopenExecution(ctx context.Context, arn string, events []history.Event) error {
	if f.fence.closing.Load() {
		return errShuttingDown
	}
	return f.r.ReopenExecution(ctx, arn, events)
}

// retain deletes the closed executions older than retention now and then
// periodically, until ctx is done.
func retain(ctx context.Context, st store.Store, retention time.Duration, clk clock.Clock, log *slog.Logger) {
	every := min(time.Hour, max(retention/8, time.Second))
	t := clk.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
		before := clk.Now().Add(-retention)
		n, err := st.DeleteClosedBefore(ctx, before)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("retention: delete closed executions", "err", err)
		case n > 0:
			log.Info("retention: deleted closed executions", "count", n, "closed_before", before.UTC().Format(time.RFC3339))
		}
		t.Reset(every)
	}
}

// fencedVersions refuses the writes that running executions make
// (Map Runs, execution metadata) once shutdown begins, like fencedStore.
type fencedVersions struct {
	store.Versions
	fence *fencedStore
}

// PutMapRun implements store.Versions.
func (v fencedVersions) PutMapRun(ctx context.Context, r *store.MapRun) error {
	if v.fence.closing.Load() {
		return errShuttingDown
	}
	return v.Versions.PutMapRun(ctx, r)
}

// UpdateMapRun implements store.Versions.
func (v fencedVersions) UpdateMapRun(ctx context.Context, arn string, u store.MapRunUpdate) error {
	if v.fence.closing.Load() {
		return errShuttingDown
	}
	return v.Versions.UpdateMapRun(ctx, arn, u)
}

// PutExecutionMeta implements store.Versions.
func (v fencedVersions) PutExecutionMeta(ctx context.Context, executionARN string, m store.ExecutionMeta) error {
	if v.fence.closing.Load() {
		return errShuttingDown
	}
	return v.Versions.PutExecutionMeta(ctx, executionARN, m)
}
