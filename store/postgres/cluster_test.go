package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
)

func started(arn string) *store.Execution {
	return &store.Execution{ARN: arn, Name: arn, StateMachineARN: "sm", StateMachineName: "sm", RevisionID: "r",
		Type: "STANDARD", Status: store.StatusRunning, Input: "{}", StartDate: time.Now().UTC()}
}

func events(id int64) []history.Event { return []history.Event{event(id)} }

// TestTakeoverFences: node A creates an execution and appends to it; its
// lease expires (moved into the past, as a pause past it would); node B
// reaps A, claims the execution with its last event and appends; A's
// late append and its renewal are refused with ErrLeaseLost, and the
// history has one writer's consecutive ids.
func TestTakeoverFences(t *testing.T) {
	dsn := freshSchema(t)
	ctx := context.Background()
	a, b := open(t, dsn), open(t, dsn)
	ida, err := a.Join(ctx, "node-a", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Join(ctx, "node-b", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := a.CreateExecution(ctx, started("x1"), nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := a.AppendHistory(ctx, "x1", events(1), nil); err != nil {
		t.Fatal(err)
	}
	// B may not write A's execution, nor claim it while A's lease holds.
	if err := b.AppendHistory(ctx, "x1", events(2), nil); !errors.Is(err, store.ErrLeaseLost) || !errors.Is(err, store.ErrConflict) {
		t.Fatalf("B appends to A's execution: %v, want ErrLeaseLost (a conflict)", err)
	}
	if got, err := b.Claim(ctx, 10); err != nil || len(got) != 0 {
		t.Fatalf("B claims %d executions of a live node (%v)", len(got), err)
	}
	if err := a.Renew(ctx); err != nil {
		t.Fatalf("A renews: %v", err)
	}
	// A's lease expires.
	if err := a.QueryRowForTest(ctx, `UPDATE nodes SET lease_until = now() - interval '1 second' WHERE id = $1 RETURNING id`, ida).Scan(new(int64)); err != nil {
		t.Fatal(err)
	}
	if err := a.AppendHistory(ctx, "x1", events(2), nil); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("A appends after its lease expired: %v, want ErrLeaseLost", err)
	}
	dead, err := b.DeadNodes(ctx)
	if err != nil || len(dead) != 1 || dead[0] != "node-a" {
		t.Fatalf("dead nodes %v (%v), want [node-a]", dead, err)
	}
	got, err := b.Claim(ctx, 10)
	if err != nil || len(got) != 1 || got[0].Execution.ARN != "x1" || got[0].Last == nil || got[0].Last.ID != 1 {
		t.Fatalf("B claims %+v (%v), want x1 with its event 1", got, err)
	}
	if err := b.AppendHistory(ctx, "x1", events(2), nil); err != nil {
		t.Fatalf("B appends to the execution it took over: %v", err)
	}
	if err := a.AppendHistory(ctx, "x1", events(3), nil); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("A's late append: %v, want ErrLeaseLost", err)
	}
	if err := a.Renew(ctx); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("A renews after the takeover: %v, want ErrLeaseLost", err)
	}
	if n := a.Fenced(); n != 2 {
		t.Errorf("A counts %d fenced appends, want 2", n)
	}
	evs, _, err := b.History(ctx, "x1", false, store.Page{Limit: 10})
	if err != nil || len(evs) != 2 || evs[0].ID != 1 || evs[1].ID != 2 {
		t.Fatalf("history %v (%v), want events 1 and 2", evs, err)
	}
	if got, _ := b.Claim(ctx, 10); len(got) != 0 {
		t.Errorf("B claims %d executions again", len(got))
	}
	if dead, _ := b.DeadNodes(ctx); len(dead) != 0 {
		t.Errorf("dead nodes owning executions after the takeover: %v", dead)
	}
}

// TestRejoinTakesOverAtOnce: a process restarted under the same name (it
// holds the same address, so the previous one is gone) gets its previous
// incarnation's executions back without waiting for the lease; a store
// that closes leaves, so another node claims its executions at once.
func TestRejoinTakesOverAtOnce(t *testing.T) {
	dsn := freshSchema(t)
	ctx := context.Background()
	a := open(t, dsn)
	if _, err := a.Join(ctx, "host:1", time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := a.CreateExecution(ctx, started("x1"), nil, nil); err != nil {
		t.Fatal(err)
	}
	a2 := open(t, dsn) // a was killed: its row stays
	if _, err := a2.Join(ctx, "host:1", time.Hour); err != nil {
		t.Fatal(err)
	}
	if got, err := a2.Claim(ctx, 10); err != nil || len(got) != 1 {
		t.Fatalf("the restarted node claims %d executions (%v), want 1", len(got), err)
	}
	if err := a2.CreateExecution(ctx, started("x2"), nil, nil); err != nil {
		t.Fatal(err)
	}
	b := open(t, dsn)
	if _, err := b.Join(ctx, "host:2", time.Hour); err != nil {
		t.Fatal(err)
	}
	_ = a2.Close()
	if got, err := b.Claim(ctx, 10); err != nil || len(got) != 2 {
		t.Fatalf("claims %d executions of a node that left (%v), want 2", len(got), err)
	}
}

// TestSignal: a signal reaches every node's handler; the answer of the
// one that handled it comes back, and one nobody handles times out.
func TestSignal(t *testing.T) {
	dsn := freshSchema(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, b := open(t, dsn), open(t, dsn)
	if _, err := a.Join(ctx, "a", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Join(ctx, "b", time.Minute); err != nil {
		t.Fatal(err)
	}
	seen := make(chan string, 100)
	go func() {
		_ = b.Listen(ctx, func(_ context.Context, sig store.Signal) (string, bool) {
			seen <- "b:" + sig.Token
			return "done " + sig.Token, sig.Token == "mine"
		})
	}()
	// Listen subscribes asynchronously: repeat until b has seen one.
	for {
		ans, ok, err := a.Signal(ctx, store.Signal{Kind: store.SignalSucceed, Token: "mine"}, 200*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			if ans != "done mine" {
				t.Fatalf("answer %q", ans)
			}
			break
		}
	}
	ans, ok, err := a.Signal(ctx, store.Signal{Kind: store.SignalSucceed, Token: "other"}, 100*time.Millisecond)
	if err != nil || ok || ans != "" {
		t.Fatalf("an unhandled signal: %q, %v, %v", ans, ok, err)
	}
	if got := <-seen; got != "b:mine" && got != "b:other" {
		t.Fatalf("b saw %q", got)
	}

	// Ask: to b alone, which takes it even though its handler says it is
	// not its own; to a node that does not listen, withdrawn unhandled.
	idb := b.Node()
	peers, err := a.Peers(ctx)
	if err != nil || len(peers) != 1 || peers[0] != idb {
		t.Fatalf("a's peers %v (%v), want [%d]", peers, err, idb)
	}
	ans, ok, err = a.Ask(ctx, store.Signal{Kind: store.SignalPoll, Token: "asked", To: idb}, 5*time.Second)
	if err != nil || !ok || ans != "done asked" {
		t.Fatalf("ask b: %q, %v, %v", ans, ok, err)
	}
	ans, ok, err = a.Ask(ctx, store.Signal{Kind: store.SignalPoll, Token: "nobody", To: idb + 100}, 50*time.Millisecond)
	if err != nil || ok || ans != "" {
		t.Fatalf("ask a node that does not listen: %q, %v, %v", ans, ok, err)
	}
	var left int
	if err := a.QueryRowForTest(ctx, `SELECT count(*) FROM signals`).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d signals left (%v)", left, err)
	}
}

// TestAskDeadTaker: Ask stops waiting for the answer of a node that took
// its signal and then died (its lease expired), instead of waiting for
// the answer as long as for a live node.
func TestAskDeadTaker(t *testing.T) {
	dsn := freshSchema(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, b := open(t, dsn), open(t, dsn)
	if _, err := a.Join(ctx, "a", time.Minute); err != nil {
		t.Fatal(err)
	}
	idb, err := b.Join(ctx, "b", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	taken := make(chan struct{}, 1)
	go func() {
		_ = b.Listen(ctx, func(hctx context.Context, _ store.Signal) (string, bool) {
			taken <- struct{}{}
			<-hctx.Done() // b hangs: it never answers
			return "", false
		})
	}()
	type result struct {
		ans string
		ok  bool
		err error
	}
	done := make(chan result, 1)
	go func() {
		// b subscribes asynchronously: ask until it takes one.
		for {
			ans, ok, err := a.Ask(ctx, store.Signal{Kind: store.SignalPoll, Token: "t", To: idb}, 200*time.Millisecond)
			if ok || err != nil || ctx.Err() != nil {
				done <- result{ans, ok, err}
				return
			}
			select {
			case <-taken:
				done <- result{ans, ok, err}
				return
			default:
			}
		}
	}()
	select {
	case <-taken:
	case r := <-done:
		t.Fatalf("Ask returned before b took the signal: %+v", r)
	}
	// b dies: its lease runs out.
	died := time.Now()
	if err := a.QueryRowForTest(ctx, `UPDATE nodes SET lease_until = '-infinity' WHERE id = $1 RETURNING id`, idb).Scan(&idb); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || r.ok || r.ans != "" {
		t.Fatalf("Ask of a node that took the signal and died: %q, %v, %v", r.ans, r.ok, r.err)
	}
	// A live taker's answer is waited for 10 s.
	if took := time.Since(died); took > 5*time.Second {
		t.Errorf("Ask returned %v after the taker died", took)
	}
}

// TestChildrenAdopted: a Distributed Map's running child (its state
// machine ARN is its Map Run's key, with a slash) is not claimed from a
// dead node with the other executions: the node that took its parent over
// adopts it (Adopt), and a live node's child cannot be adopted.
func TestChildrenAdopted(t *testing.T) {
	dsn := freshSchema(t)
	ctx := context.Background()
	a, b, c := open(t, dsn), open(t, dsn), open(t, dsn)
	ida, err := a.Join(ctx, "node-a", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Join(ctx, "node-b", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Join(ctx, "node-c", time.Minute); err != nil {
		t.Fatal(err)
	}
	parent := started("parent")
	child := started("arn:aws:states:us-east-1:111111111111:execution:sm/run:0b3c")
	child.StateMachineARN = "arn:aws:states:us-east-1:111111111111:stateMachine:sm/run:9f2e"
	for _, x := range []*store.Execution{parent, child} {
		if err := a.CreateExecution(ctx, x, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := b.Adopt(ctx, child.ARN); err != nil || ok {
		t.Fatalf("B adopts a live node's child: %v, %v; want false", ok, err)
	}
	if ok, err := a.Adopt(ctx, child.ARN); err != nil || !ok {
		t.Fatalf("A adopts its own child: %v, %v; want true", ok, err)
	}
	if err := a.QueryRowForTest(ctx, `UPDATE nodes SET lease_until = now() - interval '1 second' WHERE id = $1 RETURNING id`, ida).Scan(new(int64)); err != nil {
		t.Fatal(err)
	}
	got, err := b.Claim(ctx, 10)
	if err != nil || len(got) != 1 || got[0].Execution.ARN != "parent" {
		t.Fatalf("B claims %+v (%v), want the parent alone", got, err)
	}
	if got, err := c.Claim(ctx, 10); err != nil || len(got) != 0 {
		t.Fatalf("C claims %+v (%v), want nothing (the child waits for its parent's process)", got, err)
	}
	if dead, err := b.DeadNodes(ctx); err != nil || len(dead) != 0 {
		t.Errorf("dead nodes %v (%v): a dead node's children alone are not for Claim", dead, err)
	}
	if ok, err := b.Adopt(ctx, child.ARN); err != nil || !ok {
		t.Fatalf("B adopts the dead node's child: %v, %v; want true", ok, err)
	}
	if err := b.AppendHistory(ctx, child.ARN, events(1), nil); err != nil {
		t.Fatalf("B appends to the child it adopted: %v", err)
	}
	if ok, err := c.Adopt(ctx, child.ARN); err != nil || ok {
		t.Fatalf("C adopts B's child: %v, %v; want false", ok, err)
	}
}
