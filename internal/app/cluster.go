package app

// Several servers on one PostgreSQL database (store/postgres cluster.go):
// each joins as a node, renews its lease, takes over the executions of
// the nodes whose lease expired, and answers the signals (StopExecution,
// SendTask*) of the others. A server that finds its lease lost stops:
// Run returns ErrLeaseLost, so that a supervisor restarts it as a new
// node, which resumes its share of the executions from their histories.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/stepwell/stepwell/executions"
	"github.com/stepwell/stepwell/metrics"
	"github.com/stepwell/stepwell/store"
	"github.com/stepwell/stepwell/store/postgres"
)

// DefaultLease is how long a node's claim on its executions lasts
// without renewal (Cluster.Lease); it renews every third of it.
const DefaultLease = 10 * time.Second

// ErrLeaseLost is returned by Run when the server lost its lease (it was
// paused or cut off from the database for longer than the lease): other
// servers own its executions now.
var ErrLeaseLost = errors.New("lease lost: other servers took this server's executions over")

// Cluster configures a server that shares a PostgreSQL store with others.
type Cluster struct {
	// NodeName names the server among those sharing the store, in the
	// database and in its logs: a server restarted under the same name
	// takes its previous executions back at once. Empty: HOST:PORT of
	// the address Run listens on (the host's name when it listens on all
	// interfaces), or a unique name for a server made with New.
	NodeName string
	// Lease is how long the server's claim on its executions lasts
	// without renewal (0: DefaultLease); it renews every third of it.
	// Another server takes its executions over at most Lease plus one
	// renewal interval after it died.
	Lease time.Duration
}

func (c Cluster) validate() []error {
	if c.Lease < 0 || (c.Lease > 0 && c.Lease < 30*time.Millisecond) {
		return []error{&FieldError{Field: "lease", Value: c.Lease.String(), Err: errors.New("must be at least 30ms")}}
	}
	return nil
}

// clustered is a store several servers share (store/postgres).
type clustered interface {
	Join(ctx context.Context, name string, ttl time.Duration) (int64, error)
	Renew(ctx context.Context) error
	Reap(ctx context.Context) ([]string, error)
	DeadNodes(ctx context.Context) ([]string, error)
	Claim(ctx context.Context, limit int) ([]store.RunningLast, error)
	Adopt(ctx context.Context, arn string) (bool, error)
	Signal(ctx context.Context, sig store.Signal, wait time.Duration) (string, bool, error)
	Ask(ctx context.Context, sig store.Signal, wait time.Duration) (string, bool, error)
	Peers(ctx context.Context) ([]int64, error)
	Listen(ctx context.Context, handle postgres.SignalHandler) error
	Fenced() int64
}

var _ clustered = (*postgres.Store)(nil)

// node is this server's membership: its lease and the executions
// service's executions.Cluster.
type node struct {
	st    clustered
	name  string
	id    int64
	lease time.Duration

	mu      sync.Mutex
	renewed time.Time // when the last successful renewal was sent (monotonic)
	lost    bool
}

// join makes the server a node of the store's cluster.
func join(ctx context.Context, st clustered, c Cluster) (*node, error) {
	n := &node{st: st, name: c.NodeName, lease: c.Lease}
	if n.lease == 0 {
		n.lease = DefaultLease
	}
	if n.name == "" {
		host, _ := os.Hostname()
		n.name = fmt.Sprintf("%s/pid%d/%d", host, os.Getpid(), time.Now().UnixNano()%1e6)
	}
	start := time.Now()
	id, err := st.Join(ctx, n.name, n.lease)
	if err != nil {
		return nil, err
	}
	n.id, n.renewed = id, start
	return n, nil
}

// nodeName is the default name of a node listening on addr: the host's
// name and the port.
func nodeName(addr net.Addr) string {
	host, _ := os.Hostname()
	_, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return host + "/" + addr.String()
	}
	return host + ":" + port
}

// Claim implements executions.Cluster.
func (n *node) Claim(ctx context.Context, limit int) ([]store.RunningLast, error) {
	return n.st.Claim(ctx, limit)
}

// Adopt implements executions.Cluster.
func (n *node) Adopt(ctx context.Context, arn string) (bool, error) {
	return n.st.Adopt(ctx, arn)
}

// Signal implements executions.Cluster.
func (n *node) Signal(ctx context.Context, sig store.Signal, wait time.Duration) (string, bool, error) {
	return n.st.Signal(ctx, sig, wait)
}

// Ask implements executions.Cluster.
func (n *node) Ask(ctx context.Context, sig store.Signal, wait time.Duration) (string, bool, error) {
	return n.st.Ask(ctx, sig, wait)
}

// Peers implements executions.Cluster.
func (n *node) Peers(ctx context.Context) ([]int64, error) { return n.st.Peers(ctx) }

// Leased implements executions.Cluster: the lease holds if it was renewed
// less than a lease ago, by this process's monotonic clock (which a pause
// does not stop).
func (n *node) Leased() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return !n.lost && time.Since(n.renewed) < n.lease
}

var _ executions.Cluster = (*node)(nil)

// addMetrics adds the node's series to /metrics: its name and id (the
// labels that tell the nodes of a cluster apart), whether its lease
// holds, and the appends the store refused it (fencing).
func (n *node) addMetrics(reg *metrics.Registry) {
	id := strconv.FormatInt(n.id, 10)
	reg.AddFunc("stepwell_node_info", "gauge", "This server's node among those sharing a PostgreSQL store: its name and id as labels (value 1).",
		func() []metrics.Sample {
			return []metrics.Sample{{Labels: []string{"node", n.name, "node_id", id}, Value: 1}}
		})
	reg.AddFunc("stepwell_node_lease_held", "gauge", "1 while this node's lease holds, 0 once it is lost (the node then stops).",
		func() []metrics.Sample {
			v := 0.0
			if n.Leased() {
				v = 1
			}
			return []metrics.Sample{{Labels: []string{"node", n.name}, Value: v}}
		})
	reg.AddFunc("stepwell_node_fenced_writes_total", "counter", "History appends the store refused this node because it no longer owned the execution or its lease had expired.",
		func() []metrics.Sample {
			return []metrics.Sample{{Labels: []string{"node", n.name}, Value: float64(n.st.Fenced())}}
		})
}

// run renews the lease every third of it and takes over the executions
// of dead nodes, until ctx is done; it returns ErrLeaseLost when the
// lease is lost (or an append of this node was fenced). Takeovers run
// beside the renewals, one at a time: resuming hundreds of executions
// can take longer than the lease on a loaded machine, and the node must
// not lose its own lease meanwhile, nor wait to claim the executions of
// another node that died meanwhile.
func (n *node) run(ctx context.Context, svc *executions.Service, log *slog.Logger) error {
	every := n.lease / 3
	t := time.NewTimer(every)
	defer t.Stop()
	takeovers := make(chan struct{}, 1)
	var taking, resuming sync.WaitGroup
	defer resuming.Wait()
	defer taking.Wait()
	tctx, cancel := context.WithCancel(ctx)
	defer cancel() // before the Wait: a lost lease ends the takeover in progress
	taking.Add(1)
	go func() {
		defer taking.Done()
		for {
			select {
			case <-tctx.Done():
				return
			case <-takeovers:
				n.takeOver(tctx, svc, log, &resuming)
			}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		t.Reset(every)
		start := time.Now()
		err := n.st.Renew(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err == nil && n.st.Fenced() > 0 {
			err = store.ErrLeaseLost // another node owns executions this one drove
		}
		if errors.Is(err, store.ErrLeaseLost) || (err != nil && !n.Leased()) {
			n.mu.Lock()
			n.lost = true
			n.mu.Unlock()
			log.Error("lease lost: stopping", "node", n.name, "node_id", n.id, "fenced_writes", n.st.Fenced(), "err", err)
			return ErrLeaseLost
		}
		if err != nil {
			log.Warn("renew lease", "node", n.name, "err", err)
			continue
		}
		n.mu.Lock()
		gap := start.Sub(n.renewed)
		n.renewed = start
		n.mu.Unlock()
		if gap > 2*every {
			// Half the lease or more without renewal: the process or its
			// database connection is starved; a longer lease may be needed.
			log.Warn("lease renewed late", "node", n.name, "since_last_renewal", gap, "renewal_took", time.Since(start), "lease", n.lease)
		}
		select {
		case takeovers <- struct{}{}:
		default: // one is running or due: it will see the dead nodes
		}
	}
}

// takeOver claims the executions of dead nodes and resumes them in a
// goroutine of its own (resuming reads every history, which may take
// longer than a renewal interval): the next takeover, of another node
// that died meanwhile, does not wait for it. resuming tracks those
// goroutines.
func (n *node) takeOver(ctx context.Context, svc *executions.Service, log *slog.Logger, resuming *sync.WaitGroup) {
	dead, err := n.st.DeadNodes(ctx)
	if err != nil {
		log.Warn("find dead nodes", "node", n.name, "err", err)
	}
	claimed, err := svc.ClaimOrphans(ctx)
	if err != nil && ctx.Err() == nil {
		log.Error("take over executions", "node", n.name, "err", err)
	}
	if len(claimed) > 0 || len(dead) > 0 {
		log.Info("took over executions", "node", n.name, "count", len(claimed), "dead_nodes", dead)
	}
	if len(claimed) > 0 {
		resuming.Add(1)
		go func() {
			defer resuming.Done()
			if _, err := svc.ResumeOrphans(ctx, claimed); err != nil && ctx.Err() == nil {
				log.Error("resume executions taken over", "node", n.name, "err", err)
			}
		}()
	}
	if _, err := n.st.Reap(ctx); err != nil && ctx.Err() == nil {
		log.Warn("reap dead nodes", "node", n.name, "err", err)
	}
}
