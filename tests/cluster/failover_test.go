package cluster

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/jackc/pgx/v5"
)

// ticker loops for ever: a Wait of 5 s (50 ms at timeScale) and a Choice
// (that would end it on an input with "stop").
// Its executions append an event every few milliseconds, and a taken-over
// one steps as soon as it is resumed (its Wait ended long before), so the
// first event another node appends to it marks the takeover itself, not
// the end of a Wait resumed at its original time.
const ticker = `{"StartAt":"Tick","States":{
 "Tick":{"Type":"Wait","Seconds":5,"Next":"Step"},
 "Step":{"Type":"Choice","Choices":[{"Variable":"$.stop","IsPresent":true,"Next":"Done"}],"Default":"Tick"},
 "Done":{"Type":"Succeed"}}}`

// TestClusterFailover measures the time from a node's death to the first
// step of one of its executions on another node. Three nodes run
// executions that step continually; each round starts a few more on one
// node, SIGKILLs it at a random moment of its renewal interval, and
// watches the database: when none of them is owned by the dead node any
// more (takeover) and when one of them has a new event (first step).
// Both must come within the lease and one renewal interval (plus the
// scheduling slack of a loaded machine). The dead node is then started
// again under its name, as a supervisor would, for the next round.
//
// STEPWELL_CLUSTER_FAILOVER sets the number of rounds (default 3),
// STEPWELL_CLUSTER_LEASE the lease (default 2s).
func TestClusterFailover(t *testing.T) {
	base := os.Getenv("STEPWELL_TEST_POSTGRES_DSN")
	if base == "" {
		if os.Getenv("STEPWELL_REQUIRE_POSTGRES") == "1" {
			t.Fatal("STEPWELL_TEST_POSTGRES_DSN is not set but STEPWELL_REQUIRE_POSTGRES=1")
		}
		t.Skip("STEPWELL_TEST_POSTGRES_DSN is not set")
	}
	rounds := 3
	if v := os.Getenv("STEPWELL_CLUSTER_FAILOVER"); v != "" {
		var err error
		if rounds, err = strconv.Atoi(v); err != nil || rounds < 1 {
			t.Fatalf("STEPWELL_CLUSTER_FAILOVER=%q: want a number of rounds", v)
		}
	}
	lease := lease
	if v := os.Getenv("STEPWELL_CLUSTER_LEASE"); v != "" {
		var err error
		if lease, err = time.ParseDuration(v); err != nil {
			t.Fatal(err)
		}
	}
	renewal := lease / 3
	const perRound = 10 // executions started on the victim each round
	dsn, db := freshSchema(t, base)
	bin := filepath.Join(t.TempDir(), "stepwell")
	if out, err := execCommand("go", "build", "-o", bin, "./cmd/stepwell"); err != nil {
		t.Fatalf("build stepwell: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	logDir := t.TempDir()
	var nodes []*server
	for i := range 3 {
		s := &server{name: fmt.Sprintf("node-%d", i), log: filepath.Join(logDir, fmt.Sprintf("node-%d.log", i)), addr: freeAddr(t)}
		s.args = []string{"serve", "--addr", s.addr, "--store", dsn, "--time-scale", strconv.FormatFloat(timeScale, 'g', -1, 64),
			"--account-id", account, "--node-name", s.name, "--lease", lease.String(), "--console=false"}
		if err := s.start(bin); err != nil {
			t.Fatal(err)
		}
		defer func() { s.kill() }()
		s.client = newClient("http://" + s.addr)
		nodes = append(nodes, s)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, s := range nodes {
				b, _ := os.ReadFile(s.log)
				t.Logf("%s's log:\n%s", s.name, tail(b))
			}
		}
	})
	sm, err := nodes[0].client.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("ticker"),
		Definition: aws.String(ticker), RoleArn: aws.String(role)})
	if err != nil {
		t.Fatal(err)
	}
	// Every node drives some: the survivors are busy when they take over.
	for i, s := range nodes {
		for k := range perRound {
			if _, err := s.client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn,
				Name: aws.String(fmt.Sprintf("base-%d-%d", i, k))}); err != nil {
				t.Fatal(err)
			}
		}
	}

	limit := lease + renewal + time.Second // and the scheduling slack of a loaded 2-core VM
	var takeovers, firstSteps []time.Duration
	for r := range rounds {
		victim := nodes[r%len(nodes)]
		for k := range perRound {
			if _, err := victim.client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn,
				Name: aws.String(fmt.Sprintf("r%d-%d", r, k))}); err != nil {
				t.Fatal(err)
			}
		}
		id, owned := ownedBy(ctx, t, db, victim.name)
		if len(owned) < perRound {
			t.Fatalf("round %d: %s owns %d running executions, want at least %d", r, victim.name, len(owned), perRound)
		}
		waitStepping(ctx, t, db, owned)
		// Kill at a random moment of the renewal interval.
		time.Sleep(rand.N(renewal))
		var sinceRenewal time.Duration
		victim.kill()
		killed := time.Now()
		if err := db.QueryRow(ctx, `SELECT (extract(epoch FROM clock_timestamp() - (lease_until - $2::interval)) * 1e9)::bigint
			FROM nodes WHERE id = $1`, id, lease).Scan(&sinceRenewal); err != nil {
			t.Fatal(err)
		}
		takeover, firstStep, by := watchTakeover(ctx, t, db, id, owned, killed)
		t.Logf("round %d: SIGKILL %s (%d running executions, its last renewal %v before, so its lease expired %v after): takeover after %v, first step on %s after %v",
			r, victim.name, len(owned), sinceRenewal.Round(time.Millisecond), (lease - sinceRenewal).Round(time.Millisecond),
			takeover.Round(time.Millisecond), by, firstStep.Round(time.Millisecond))
		if firstStep > limit {
			t.Errorf("round %d: the first step of a taken-over execution came %v after the kill, more than the lease, one renewal and 1s (%v)", r, firstStep, limit)
		}
		takeovers, firstSteps = append(takeovers, takeover), append(firstSteps, firstStep)
		if err := victim.start(bin); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(takeovers)
	slices.Sort(firstSteps)
	t.Logf("%d kills, lease %v renewed every %v: takeover %v–%v (median %v), death to first step of a taken-over execution %v–%v (median %v)",
		rounds, lease, renewal.Round(time.Millisecond),
		takeovers[0].Round(time.Millisecond), takeovers[len(takeovers)-1].Round(time.Millisecond), takeovers[len(takeovers)/2].Round(time.Millisecond),
		firstSteps[0].Round(time.Millisecond), firstSteps[len(firstSteps)-1].Round(time.Millisecond), firstSteps[len(firstSteps)/2].Round(time.Millisecond))
}

// waitStepping waits until every execution has stepped a few times.
func waitStepping(ctx context.Context, t *testing.T, db *pgx.Conn, arns []string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var slow int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM executions WHERE arn = ANY($1) AND last_event_id < 8`, arns).Scan(&slow); err != nil {
			t.Fatal(err)
		}
		if slow == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d executions have not stepped after 30s", slow)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// watchTakeover polls the database every few milliseconds from the
// kill: takeover is when no execution of arns is owned by the dead node
// any more, firstStep when one that another node owns has an event it
// did not have while the dead node owned it (a transaction the dead node
// sent just before it died may still commit, within its lease), and by
// names the node that appended it.
func watchTakeover(ctx context.Context, t *testing.T, db *pgx.Conn, dead int64, arns []string, killed time.Time) (takeover, firstStep time.Duration, by string) {
	t.Helper()
	last := map[string]int64{} // the last event id seen while the dead node owned it
	deadline := time.Now().Add(60 * time.Second)
	for takeover == 0 || firstStep == 0 {
		rows, err := db.Query(ctx, `SELECT arn, owner_node, owner, last_event_id, status = 'RUNNING' FROM executions WHERE arn = ANY($1)`, arns)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Since(killed)
		owned := 0
		var arn, owner string
		var node, id int64
		var running bool
		_, err = pgx.ForEachRow(rows, []any{&arn, &node, &owner, &id, &running}, func() error {
			switch {
			case node == dead:
				last[arn] = id
				if running {
					owned++
				}
			case firstStep == 0 && id > last[arn]:
				firstStep, by = now, owner
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if takeover == 0 && owned == 0 {
			takeover = now
		}
		if time.Now().After(deadline) {
			t.Fatalf("not taken over within 60s of the kill (%d still owned by the dead node, stepped: %v)", owned, firstStep != 0)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return takeover, firstStep, by
}
