package app

// Limits on what the executions may cost the server: a memory budget, the
// bytes of one execution's history, the executions run at once, and the
// resumption of running executions at start (quarantine, --no-resume).

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/stepwell/stepwell/executions"
)

// Limits configures what executions may cost the server.
type Limits struct {
	// MemoryBudget is the memory, in bytes, the server keeps within: Go's
	// soft memory limit is set to it (so that garbage never takes the
	// process past it) and MaxHistoryBytes defaults from it. 0 means
	// DefaultMemoryBudget().
	MemoryBudget int64
	// MaxHistoryBytes is the most bytes one execution's history may take
	// (its data and causes); an execution that needs more fails with
	// States.Runtime. 0 means MemoryBudget/8.
	MaxHistoryBytes int64
	// MaxExecutions is the most executions the server runs at once;
	// StartExecution answers ExecutionLimitExceeded beyond (AWS's quota
	// of open executions is 1,000,000). 0 means DefaultMaxExecutions.
	MaxExecutions int
	// MaxResumeAttempts is how many restarts in a row may resume an
	// execution that the server did not survive; the next one fails it
	// (quarantine). 0 means executions.DefaultMaxResumeAttempts; -1 never
	// quarantines.
	MaxResumeAttempts int
	// NoResume starts the server without resuming its running executions:
	// they stay RUNNING, to be listed and stopped (StopExecution) before
	// a restart without it resumes the others.
	NoResume bool
}

// DefaultMaxResumeAttempts is Limits.MaxResumeAttempts's default.
const DefaultMaxResumeAttempts = executions.DefaultMaxResumeAttempts

// DefaultMaxExecutions is Limits.MaxExecutions's default, AWS's quota of
// open executions per account and region.
const DefaultMaxExecutions = 1_000_000

// DefaultMemoryBudget is half the machine's memory (MemTotal in
// /proc/meminfo), or 2 GiB where that is unknown.
func DefaultMemoryBudget() int64 {
	if total := memTotal(); total > 0 {
		return total / 2
	}
	return 2 << 30
}

// memTotal is the machine's memory in bytes, 0 if unknown.
func memTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// effective returns the limits with their defaults filled in.
func (l Limits) effective() Limits {
	if l.MemoryBudget == 0 {
		l.MemoryBudget = DefaultMemoryBudget()
	}
	if l.MaxHistoryBytes == 0 {
		l.MaxHistoryBytes = l.MemoryBudget / 8
	}
	if l.MaxExecutions == 0 {
		l.MaxExecutions = DefaultMaxExecutions
	}
	return l
}

// expressBytes bounds the closed Express executions kept in memory
// (input, output, history), besides --express-retention's count: a
// sixteenth of the budget, the oldest forgotten beyond (1,500 of 200 KB
// inputs took 660 MB).
func (l Limits) expressBytes() int64 { return l.effective().MemoryBudget / 16 }

func (l Limits) validate() []error {
	var errs []error
	bad := func(field string, v any, msg string) {
		errs = append(errs, &FieldError{Field: field, Value: fmt.Sprint(v), Err: errors.New(msg)})
	}
	if l.MemoryBudget != 0 && l.MemoryBudget < 64<<20 {
		bad("memory-budget", l.MemoryBudget, "must be at least 64MiB")
	}
	if l.MaxHistoryBytes < 0 {
		bad("max-history-bytes", l.MaxHistoryBytes, "must not be negative")
	}
	if l.MaxExecutions < 0 {
		bad("max-executions", l.MaxExecutions, "must not be negative")
	}
	if l.MaxResumeAttempts < -1 {
		bad("max-resume-attempts", l.MaxResumeAttempts, "must be -1 (never quarantine) or more")
	}
	return errs
}

// applyMemoryBudget sets Go's soft memory limit to two thirds of the
// budget: the garbage collector works harder as the heap nears it, so that
// garbage never takes the process past the budget, leaving a third for
// what the limit does not count (the embedded database's own memory,
// fragmentation).
func (l Limits) applyMemoryBudget() {
	debug.SetMemoryLimit(l.MemoryBudget / 3 * 2)
}

// ParseBytes reads a size in bytes: a number, optionally followed by KiB,
// MiB, GiB (or KB, MB, GB: powers of 1000).
func ParseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, errors.New("not a size (e.g. 512MiB, 2GiB, 1048576)")
	}
	return n * mult, nil
}

// memoryGuard tells whether the server's live heap (after the latest
// garbage collection) is over half the memory budget: the executions
// service refuses new executions then (ExecutionLimitExceeded), so that
// the ones running can finish within the budget. It also tunes the
// garbage collector to the live heap it reads (gcPercent).
type memoryGuard struct {
	limit uint64
	over  atomic.Bool

	// headroom is how much the heap may grow over the live heap before
	// the next collection at least (gcPercent); 0 leaves the collector
	// as it is (the user set GOGC). setGC sets the collector's percent
	// (debug.SetGCPercent) and gc is the percent it was last set to.
	headroom uint64
	setGC    func(int) int
	gc       int
}

// guardEvery is how often the guard reads the live heap.
const guardEvery = 100 * time.Millisecond

// maxHeadroom bounds memoryGuard.headroom, which is otherwise a
// sixteenth of the memory budget.
const maxHeadroom = 64 << 20

func (l Limits) memoryGuard() *memoryGuard {
	budget := l.effective().MemoryBudget
	g := &memoryGuard{limit: uint64(budget / 2), setGC: debug.SetGCPercent, gc: 100}
	if _, set := lookupGOGC(); !set {
		g.headroom = uint64(min(budget/16, maxHeadroom))
	}
	return g
}

// lookupGOGC returns the GOGC environment variable, if set: the user's
// choice of the collector's percent, which the guard then leaves alone.
func lookupGOGC() (string, bool) { return os.LookupEnv("GOGC") }

// Overloaded reports whether the live heap was over the limit when last
// read (executions.Config.Overloaded).
func (g *memoryGuard) Overloaded() bool { return g.over.Load() }

// watch reads the live heap every guardEvery until ctx is done.
func (g *memoryGuard) watch(ctx context.Context) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	t := time.NewTicker(guardEvery)
	defer t.Stop()
	for {
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			live := sample[0].Value.Uint64()
			g.over.Store(live > g.limit)
			g.tune(live)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// tune sets the collector's percent for the live heap (gcPercent) when
// it changed.
func (g *memoryGuard) tune(live uint64) {
	if g.headroom == 0 {
		return
	}
	if pct := gcPercent(live, g.headroom); pct != g.gc {
		g.setGC(pct)
		g.gc = pct
	}
}

// gcPercent is the collector's percent (GOGC) that lets a heap of live
// bytes grow by at least headroom before the next collection: Go's
// default 100 (the heap doubles) once the live heap is headroom or more,
// more below, in steps of 50 and at most 1,000. A server of short
// executions keeps a small live heap and allocates fast; at GOGC 100 it
// collects every few milliseconds, and the collector took ~10 % of its
// CPU per execution (BenchmarkStartPath at GOGC 400: 49 → 45 CPU-µs per
// execution). A large live heap (a million waiting executions) keeps the
// default, and the soft memory limit (applyMemoryBudget) still bounds the
// heap near the budget.
func gcPercent(live, headroom uint64) int {
	const step, most = 50, 1000
	if live == 0 || headroom <= live {
		return 100
	}
	pct := headroom * 100 / live
	pct = (pct + step - 1) / step * step
	return int(min(max(pct, 100), most))
}
