package app

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stepwell/stepwell/executions"
)

// stuckTakeover is a cluster store whose takeovers never end (finding the
// dead nodes blocks until the node stops), as resuming many executions on
// a loaded machine can take longer than a lease.
type stuckTakeover struct {
	clustered // not called
	renewals  chan struct{}
}

func (s *stuckTakeover) Renew(ctx context.Context) error {
	select {
	case s.renewals <- struct{}{}:
	case <-ctx.Done():
	}
	return nil
}

func (s *stuckTakeover) Fenced() int64 { return 0 }

func (s *stuckTakeover) DeadNodes(ctx context.Context) ([]string, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func (s *stuckTakeover) Reap(context.Context) ([]string, error) { return nil, nil }

// TestNodeRenewsDuringTakeover: a takeover in progress does not hold the
// node's renewals back (it ran in the renewal loop, so a long one let the
// node's own lease expire).
func TestNodeRenewsDuringTakeover(t *testing.T) {
	st := &stuckTakeover{renewals: make(chan struct{})}
	n := &node{st: st, name: "n", id: 1, lease: 90 * time.Millisecond, renewed: time.Now()}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- n.run(ctx, new(executions.Service), slog.New(slog.DiscardHandler)) }()
	// The first renewal starts a takeover that never ends; the renewals
	// go on.
	for range 5 {
		select {
		case <-st.renewals:
		case err := <-ran:
			t.Fatalf("run returned %v", err)
		case <-time.After(10 * time.Second):
			t.Fatal("no renewal while a takeover runs")
		}
	}
	if !n.Leased() {
		t.Error("the lease does not hold while renewals go on")
	}
	cancel()
	if err := <-ran; err != nil {
		t.Fatalf("run: %v", err)
	}
}
