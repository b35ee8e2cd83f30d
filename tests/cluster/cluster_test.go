// Package cluster is Stepwell's cluster test: three `stepwell serve`
// processes share one PostgreSQL database; Standard executions with a Wait,
// a Lambda task, an activity task and a .waitForTaskToken callback are
// started round-robin on all three; one process is SIGKILLed and another
// SIGSTOPped past its lease, then resumed. Every execution must complete
// once with the expected output and a history of consecutive ids, no
// Lambda attempt may be invoked twice, the paused process must find its
// lease lost and stop, the killed process's executions must be taken
// over within the lease plus one renewal, and StopExecution sent to any
// node must stop an execution another node drives.
//
// It runs when STEPWELL_TEST_POSTGRES_DSN is set (CI sets it), like the
// other PostgreSQL tests. STEPWELL_CLUSTER_EXECUTIONS changes the number of
// executions (default 1,000, the issue's: about 40 s on two cores).
// TestClusterFailover measures the time from a node's death to the first
// step of one of its executions on another node.
package cluster

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/jackc/pgx/v5"
)

const (
	account   = "111111111111"
	role      = "arn:aws:iam::111111111111:role/stepwell"
	timeScale = 0.01
	lease     = 2 * time.Second
	renewal   = lease / 3
)

// definition: a Wait (parks), a Lambda task, an activity task and a
// callback, each retried (a Lambda in flight when its server died fails
// its attempt, by the at-most-once rule, and the retry is a new attempt).
// The activity and the callback time out after 10 s (1000 scaled): a
// server that dies after it recorded a task as delivered but before the
// worker received it leaves the task to its timeout, on one server as on
// AWS.
const definition = `{
 "StartAt": "Nap",
 "States": {
  "Nap": {"Type": "Wait", "SecondsPath": "$.w", "Next": "Fn"},
  "Fn": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
   "Parameters": {"FunctionName": "cluster-fn", "Payload": {"n.$": "$.n", "retry.$": "$$.State.RetryCount"}},
   "ResultSelector": {"d.$": "$.Payload.d"}, "ResultPath": "$.fn",
   "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 5}], "Next": "Act"},
  "Act": {"Type": "Task", "Resource": "%s", "Parameters": {"n.$": "$.n"}, "ResultPath": "$.act", "TimeoutSeconds": 1000,
   "Retry": [{"ErrorEquals": ["States.Timeout"], "IntervalSeconds": 1, "MaxAttempts": 3}], "Next": "Call"},
  "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
   "Parameters": {"FunctionName": "cluster-cb", "Payload": {"n.$": "$.n", "token.$": "$$.Task.Token"}},
   "ResultPath": "$.cb", "TimeoutSeconds": 1000, "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 5}], "End": true}
 }
}`

// nap is execution n's Wait in seconds (scaled by timeScale): the even
// ones reach their tasks while all three nodes run, the odd ones after
// the kill and the pause.
func nap(n int) int { return 100 + 400*(n%2) }

func want(n int) string {
	return fmt.Sprintf(`{"n":%d,"w":%d,"fn":{"d":%d},"act":{"a":%d},"cb":{"m":%d}}`, n, nap(n), 2*n, n+1, 3*n)
}

func TestCluster(t *testing.T) {
	base := os.Getenv("STEPWELL_TEST_POSTGRES_DSN")
	if base == "" {
		if os.Getenv("STEPWELL_REQUIRE_POSTGRES") == "1" {
			t.Fatal("STEPWELL_TEST_POSTGRES_DSN is not set but STEPWELL_REQUIRE_POSTGRES=1")
		}
		t.Skip("STEPWELL_TEST_POSTGRES_DSN is not set")
	}
	nExec := 1000
	if v := os.Getenv("STEPWELL_CLUSTER_EXECUTIONS"); v != "" {
		var err error
		if nExec, err = strconv.Atoi(v); err != nil {
			t.Fatal(err)
		}
	}
	dsn, db := freshSchema(t, base)
	bin := filepath.Join(t.TempDir(), "stepwell")
	if out, err := execCommand("go", "build", "-o", bin, "./cmd/stepwell"); err != nil {
		t.Fatalf("build stepwell: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	cl := &cluster{t: t}
	lam := &lambda{calls: map[string]int{}, cl: cl}
	ls := httptest.NewServer(lam)
	defer ls.Close()
	logDir := t.TempDir()
	for i := range 3 {
		s := &server{name: fmt.Sprintf("node-%d", i), log: filepath.Join(logDir, fmt.Sprintf("node-%d.log", i))}
		s.addr = freeAddr(t)
		s.args = []string{"serve", "--addr", s.addr, "--store", dsn, "--lambda-endpoint", ls.URL,
			"--time-scale", strconv.FormatFloat(timeScale, 'g', -1, 64), "--account-id", account,
			"--node-name", s.name, "--lease", lease.String()}
		if err := s.start(bin); err != nil {
			t.Fatal(err)
		}
		defer s.kill()
		s.client = newClient("http://" + s.addr)
		cl.nodes = append(cl.nodes, s)
	}

	t.Cleanup(func() {
		if t.Failed() {
			for _, s := range cl.nodes {
				b, _ := os.ReadFile(s.log)
				t.Logf("%s's log:\n%s", s.name, tail(b))
			}
		}
	})
	c0 := cl.nodes[0].client
	act, err := c0.CreateActivity(ctx, &sfn.CreateActivityInput{Name: aws.String("cluster-act")})
	if err != nil {
		t.Fatal(err)
	}
	sm, err := c0.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("cluster"),
		Definition: aws.String(fmt.Sprintf(definition, *act.ActivityArn)), RoleArn: aws.String(role)})
	if err != nil {
		t.Fatal(err)
	}

	// Executions that only end by StopExecution, one started on each node.
	hold, err := c0.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("hold"),
		Definition: aws.String(`{"StartAt":"Hold","States":{"Hold":{"Type":"Wait","Seconds":1000000,"End":true}}}`), RoleArn: aws.String(role)})
	if err != nil {
		t.Fatal(err)
	}
	holds := make([]string, 3)
	for i, s := range cl.nodes {
		out, err := s.client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: hold.StateMachineArn, Name: aws.String(fmt.Sprintf("hold-%d", i))})
		if err != nil {
			t.Fatal(err)
		}
		holds[i] = *out.ExecutionArn
	}
	// Stopped on another node than the one that drives it: forwarded.
	stopped := func(via *server, arn, cause string) {
		t.Helper()
		if _, err := via.client.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(arn), Cause: aws.String(cause)}); err != nil {
			t.Fatalf("StopExecution of %s on %s: %v", arn, via.name, err)
		}
		d, err := via.client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err != nil || d.Status != types.ExecutionStatusAborted || aws.ToString(d.Cause) != cause {
			t.Fatalf("%s after StopExecution on %s: %+v, %v", arn, via.name, d, err)
		}
	}
	stopped(cl.nodes[1], holds[0], "stopped through node-1")

	// Activity workers, all polling node 0: the tasks of the executions
	// the other nodes drive reach them through node 0. Each answers on
	// another node than the one it polled, and polls again meanwhile.
	wctx, stopWorkers := context.WithCancel(ctx)
	var workers sync.WaitGroup
	for range 16 {
		workers.Add(1)
		go func() {
			defer workers.Done()
			cl.work(wctx, 0, *act.ActivityArn)
		}()
	}

	// Start the executions round-robin, paced over two seconds by 8
	// clients (one client alone takes longer than the Waits on a loaded
	// machine, and most executions would end before the kill).
	arns := make([]string, nExec)
	began := time.Now()
	var starting sync.WaitGroup
	startErrs := make(chan error, nExec)
	for c := range 8 {
		starting.Add(1)
		go func() {
			defer starting.Done()
			for n := c; n < nExec; n += 8 {
				if d := time.Until(began.Add(time.Duration(n) * 2 * time.Second / time.Duration(nExec))); d > 0 {
					time.Sleep(d)
				}
				s := cl.nodes[n%3]
				out, err := s.client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn,
					Name: aws.String(fmt.Sprintf("x-%d", n)), Input: aws.String(fmt.Sprintf(`{"n":%d,"w":%d}`, n, nap(n)))})
				if err != nil {
					startErrs <- fmt.Errorf("start %d on %s: %w", n, s.name, err)
					return
				}
				arns[n] = *out.ExecutionArn
			}
		}()
	}
	starting.Wait()
	close(startErrs)
	for err := range startErrs {
		t.Fatal(err)
	}
	t.Logf("%d executions started in %v", nExec, time.Since(began).Round(time.Millisecond))

	// While the executions run, SIGKILL node 2 and SIGSTOP node 1; node 0
	// takes over the executions of both. Measure the takeovers from the
	// database.
	victim, paused := cl.nodes[2], cl.nodes[1]
	killedID, killedOwned := ownedBy(ctx, t, db, victim.name)
	pausedID, pausedOwned := ownedBy(ctx, t, db, paused.name)
	if len(killedOwned) == 0 || len(pausedOwned) == 0 {
		t.Fatalf("the nodes to kill and pause own %d and %d running executions", len(killedOwned), len(pausedOwned))
	}
	stoppedAt := time.Now()
	cl.remoteBefore.Store(cl.remote.Load())
	victim.kill()
	paused.signal(syscall.SIGSTOP)
	t.Logf("SIGKILL %s owning %d running executions, SIGSTOP %s owning %d", victim.name, len(killedOwned), paused.name, len(pausedOwned))
	limit := lease + renewal + time.Second // and the scheduling slack of a loaded 2-core VM
	type group struct {
		name                string
		id                  int64
		arns                []string
		takeover, firstStep time.Duration
	}
	groups := []*group{{name: victim.name, id: killedID, arns: killedOwned}, {name: paused.name, id: pausedID, arns: pausedOwned}}
	var measured sync.WaitGroup
	for _, g := range groups {
		measured.Add(1)
		go func() {
			defer measured.Done()
			g.takeover, g.firstStep = waitTakeover(ctx, t, dsn, g.id, g.arns, stoppedAt, cl.nodes[0].log)
		}()
	}
	measured.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for _, g := range groups {
		t.Logf("%s: takeover after %v, first event appended to one of them after %v (lease %v, renewal %v; many wait for a Wait or a task here: TestClusterFailover measures the first step)",
			g.name, g.takeover, g.firstStep, lease, renewal)
		if g.takeover > limit {
			t.Errorf("%s: takeover took %v, more than the lease and one renewal (%v)", g.name, g.takeover, limit)
		}
	}
	// Resume the paused node: it must find its lease lost and stop, and
	// write nothing meanwhile: a start it is asked for at once is refused
	// (or finds it gone).
	paused.signal(syscall.SIGCONT)
	_, lateErr := paused.client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn,
		Name: aws.String("late"), Input: aws.String(`{"n":0}`)})
	if lateErr == nil {
		t.Errorf("%s started an execution after it lost its lease", paused.name)
	}
	select {
	case <-paused.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not stop after losing its lease", paused.name)
	}
	logText, _ := os.ReadFile(paused.log)
	m := regexp.MustCompile(`lease lost: stopping.* fenced_writes=(\d+)`).FindSubmatch(logText)
	if m == nil {
		t.Fatalf("%s's log does not say it lost its lease:\n%s", paused.name, tail(logText))
	}
	t.Logf("%s stopped after SIGCONT: %d of its late history writes were refused by the store; a start it was asked for: %v",
		paused.name, atoi(string(m[1])), lateErr)
	var late int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM executions WHERE name = 'late'`).Scan(&late); err != nil || late != 0 {
		t.Errorf("the paused node's late start left %d executions (%v)", late, err)
	}

	// The held executions of the dead and the paused node are node-0's
	// now: StopExecution reaches them there.
	stopped(cl.nodes[0], holds[1], "stopped after the takeover")
	stopped(cl.nodes[0], holds[2], "stopped after the takeover")

	// Every execution completes on the surviving node, once, as expected.
	live := cl.nodes[0].client
	deadline := time.Now().Add(90 * time.Second)
	for n, arn := range arns {
		for {
			d, err := live.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
			if err != nil {
				t.Fatalf("describe %d: %v", n, err)
			}
			if d.Status != types.ExecutionStatusRunning {
				if d.Status != types.ExecutionStatusSucceeded || aws.ToString(d.Output) != want(n) {
					t.Errorf("execution %d: %s %s, want SUCCEEDED %s; history:\n%s", n, d.Status, aws.ToString(d.Output), want(n), describeHistory(ctx, live, arn))
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("execution %d still running after 90s", n)
			}
			time.Sleep(50 * time.Millisecond)
		}
		checkHistory(ctx, t, live, n, arn)
	}
	stopWorkers()
	workers.Wait()
	lam.mu.Lock()
	defer lam.mu.Unlock()
	for k, v := range lam.calls {
		if v > 1 {
			t.Errorf("Lambda attempt %s invoked %d times", k, v)
		}
	}
	t.Logf("%d executions, %d Lambda attempts, %d activity tasks (%d polled from another node than the owner's before the kill), %d callbacks, %d forwarded task answers retried",
		nExec, len(lam.calls), cl.activities.Load(), cl.remoteBefore.Load(), cl.callbacks.Load(), cl.retried.Load())
	if cl.remoteBefore.Load() == 0 {
		t.Error("no activity task of node 1 or 2 reached a worker polling node 0 while they ran")
	}
}

// checkHistory checks that a history's ids are consecutive from 1, that
// it ends once, and that each state was entered once per attempt.
func checkHistory(ctx context.Context, t *testing.T, c *sfn.Client, n int, arn string) {
	var events []types.HistoryEvent
	var tok *string
	for {
		out, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), NextToken: tok, MaxResults: 1000})
		if err != nil {
			t.Fatalf("history %d: %v", n, err)
		}
		events = append(events, out.Events...)
		if tok = out.NextToken; tok == nil {
			break
		}
	}
	entered := map[string]int{}
	ends := 0
	for i, e := range events {
		if e.Id != int64(i+1) {
			t.Errorf("execution %d: event %d has id %d", n, i+1, e.Id)
			return
		}
		if d := e.StateEnteredEventDetails; d != nil {
			entered[*d.Name]++
		}
		switch e.Type {
		case types.HistoryEventTypeExecutionSucceeded, types.HistoryEventTypeExecutionFailed,
			types.HistoryEventTypeExecutionAborted, types.HistoryEventTypeExecutionTimedOut:
			ends++
		}
	}
	if ends != 1 || events[len(events)-1].Type != types.HistoryEventTypeExecutionSucceeded {
		t.Errorf("execution %d: %d terminal events", n, ends)
	}
	for _, s := range []string{"Nap", "Fn", "Act", "Call"} {
		if entered[s] != 1 {
			t.Errorf("execution %d: state %s entered %d times", n, s, entered[s])
		}
	}
}

// describeHistory lists a history's events, one a line, with their
// times, for a failure's message.
func describeHistory(ctx context.Context, c *sfn.Client, arn string) string {
	out, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), MaxResults: 1000})
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, e := range out.Events {
		fmt.Fprintf(&b, "  %d %s %s", e.Id, aws.ToTime(e.Timestamp).Format("15:04:05.000"), e.Type)
		for _, v := range []any{e.ActivityFailedEventDetails, e.ActivityTimedOutEventDetails, e.LambdaFunctionFailedEventDetails,
			e.LambdaFunctionTimedOutEventDetails, e.TaskFailedEventDetails, e.TaskTimedOutEventDetails, e.ExecutionFailedEventDetails} {
			if b2, _ := json.Marshal(v); string(b2) != "null" {
				fmt.Fprintf(&b, " %s", b2)
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// cluster is the servers and the clients' counters.
type cluster struct {
	t          *testing.T
	nodes      []*server
	next       atomic.Int64
	activities atomic.Int64
	// remote counts the activity tasks of executions started on another
	// node than the one polled; remoteBefore, those before the kill.
	remote, remoteBefore atomic.Int64
	callbacks            atomic.Int64
	retried              atomic.Int64
}

// answer sends SendTaskSuccess to the live nodes in turn, from a node
// other than first: during a takeover (at most the lease and a renewal)
// no node holds the task yet and it answers TaskTimedOut, so a worker
// tries again for a while, as a worker of a cluster should.
func (cl *cluster) answer(ctx context.Context, first int, token, output string) {
	deadline := time.Now().Add(30 * time.Second)
	for i := first + 1; ctx.Err() == nil && time.Now().Before(deadline); i++ {
		s := cl.nodes[i%len(cl.nodes)]
		if !s.alive() {
			continue
		}
		_, err := s.client.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(output)})
		if err == nil {
			return
		}
		cl.retried.Add(1)
		time.Sleep(100 * time.Millisecond)
	}
}

// work polls one node for activity tasks and answers each on another.
// The answers outlive it (ctx bounds them).
func (cl *cluster) work(ctx context.Context, i int, activity string) {
	s := cl.nodes[i]
	for ctx.Err() == nil && s.alive() {
		out, err := s.client.GetActivityTask(ctx, &sfn.GetActivityTaskInput{ActivityArn: aws.String(activity), WorkerName: aws.String(s.name)})
		if err != nil || out.TaskToken == nil {
			if err != nil {
				time.Sleep(100 * time.Millisecond)
			}
			continue
		}
		var in struct{ N int }
		_ = json.Unmarshal([]byte(aws.ToString(out.Input)), &in)
		cl.activities.Add(1)
		if in.N%3 != i {
			cl.remote.Add(1) // started on (so driven by) another node, at least until a takeover
		}
		// Answered beside the polls: an answer may take a while (a node
		// paused, a takeover), and the tasks queued meanwhile must not
		// wait for it past their timeout.
		go cl.answer(ctx, i, *out.TaskToken, fmt.Sprintf(`{"a":%d}`, in.N+1))
	}
}

// lambda is the Lambda Invoke API: cluster-fn doubles n, counting the
// invocations of each attempt; cluster-cb hands its token to a worker
// that answers 3n on some node.
type lambda struct {
	cl    *cluster
	mu    sync.Mutex
	calls map[string]int
}

func (l *lambda) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var p struct {
		N     int    `json:"n"`
		Retry int    `json:"retry"`
		Token string `json:"token"`
	}
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		http.Error(w, `{"message":"bad payload"}`, http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amz-Executed-Version", "$LATEST")
	if strings.Contains(r.URL.Path, "cluster-cb") {
		l.cl.callbacks.Add(1)
		go l.cl.answer(context.Background(), int(l.cl.next.Add(1)), p.Token, fmt.Sprintf(`{"m":%d}`, 3*p.N))
		_, _ = io.WriteString(w, `{}`)
		return
	}
	l.mu.Lock()
	l.calls[fmt.Sprintf("%d/%d", p.N, p.Retry)]++
	l.mu.Unlock()
	time.Sleep(20 * time.Millisecond) // a function that takes a while: some are in flight at the kill
	fmt.Fprintf(w, `{"d":%d}`, 2*p.N)
}

// ownedBy returns a node's id and the running executions it owns.
func ownedBy(ctx context.Context, t *testing.T, db *pgx.Conn, node string) (int64, []string) {
	var id int64
	if err := db.QueryRow(ctx, `SELECT id FROM nodes WHERE name = $1`, node).Scan(&id); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(ctx, `SELECT arn FROM executions WHERE status = 'RUNNING' AND owner_node = $1`, id)
	if err != nil {
		t.Fatal(err)
	}
	arns, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return id, arns
}

// waitTakeover waits until none of the executions is owned by the node
// owner any more (or has ended), and then until one of them has a new event; it
// returns both durations since since.
func waitTakeover(ctx context.Context, t *testing.T, dsn string, owner int64, arns []string, since time.Time, log string) (takeover, firstStep time.Duration) {
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Error(err)
		return 0, 0
	}
	defer db.Close(ctx)
	var before int64
	if err := db.QueryRow(ctx, `SELECT coalesce(sum(last_event_id), 0) FROM executions WHERE arn = ANY($1)`, arns).Scan(&before); err != nil {
		t.Error(err)
		return 0, 0
	}
	deadline := time.Now().Add(30 * time.Second)
	for takeover == 0 || firstStep == 0 {
		var stillOwned, sum int64
		if err := db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE owner_node = $2 AND status = 'RUNNING'), coalesce(sum(last_event_id), 0)
			FROM executions WHERE arn = ANY($1)`, arns, owner).Scan(&stillOwned, &sum); err != nil {
			t.Error(err)
			return 0, 0
		}
		if takeover == 0 && stillOwned == 0 {
			takeover = time.Since(since)
		}
		if takeover != 0 && firstStep == 0 && sum > before {
			firstStep = time.Since(since)
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(log)
			t.Errorf("executions not taken over within 30s (%d still owned)\nsessions:\n%s\nfirst node's log:\n%s", stillOwned, sessions(ctx, db), tail(b))
			return 0, 0
		}
		time.Sleep(10 * time.Millisecond)
	}
	return takeover, firstStep
}

// sessions describes the database's sessions, to tell what holds a
// takeover up.
func sessions(ctx context.Context, db *pgx.Conn) string {
	var b strings.Builder
	if nr, err := db.Query(ctx, `SELECT id, name, lease_until::text, clock_timestamp()::text FROM nodes ORDER BY id`); err == nil {
		for nr.Next() {
			var id int64
			var name, until, now string
			_ = nr.Scan(&id, &name, &until, &now)
			fmt.Fprintf(&b, "node %d %s lease until %s (now %s)\n", id, name, until, now)
		}
		nr.Close()
	}
	rows, err := db.Query(ctx, `SELECT pid, coalesce(state, ''), coalesce(wait_event_type, ''), coalesce(wait_event, ''),
		coalesce(now() - xact_start, '0'::interval)::text, left(query, 100) FROM pg_stat_activity WHERE datname = current_database()`)
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	for rows.Next() {
		var pid int
		var state, wt, we, age, q string
		if err := rows.Scan(&pid, &state, &wt, &we, &age, &q); err != nil {
			return err.Error()
		}
		fmt.Fprintf(&b, "%d %s %s/%s xact %s: %s\n", pid, state, wt, we, age, q)
	}
	return b.String()
}

// server is one stepwell process.
type server struct {
	name, addr, log string
	args            []string
	cmd             *exec.Cmd
	done            chan struct{}
	client          *sfn.Client
}

var listeningRE = regexp.MustCompile(`listening on (http://\S+)`)

func (s *server) start(bin string) error {
	logf, err := os.Create(s.log)
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, s.args...)
	cmd.Stdout = logf
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		return err
	}
	s.cmd, s.done = cmd, make(chan struct{})
	listening := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		found := false
		for sc.Scan() {
			fmt.Fprintln(logf, sc.Text())
			if !found && listeningRE.MatchString(sc.Text()) {
				found = true
				close(listening)
			}
		}
	}()
	go func() {
		_ = cmd.Wait()
		pw.Close()
		close(s.done)
	}()
	select {
	case <-listening:
		return nil
	case <-s.done:
		b, _ := os.ReadFile(s.log)
		return fmt.Errorf("%s exited before listening:\n%s", s.name, tail(b))
	case <-time.After(60 * time.Second):
		return fmt.Errorf("%s did not listen within 60s", s.name)
	}
}

func (s *server) alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

func (s *server) signal(sig syscall.Signal) { _ = s.cmd.Process.Signal(sig) }

func (s *server) kill() {
	if s.alive() {
		_ = s.cmd.Process.Signal(syscall.SIGKILL)
		<-s.done
	}
}

// execCommand runs a command in the repository's root.
func execCommand(name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = "../.."
	return cmd.CombinedOutput()
}

func newClient(endpoint string) *sfn.Client {
	return sfn.New(sfn.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		Retryer:      aws.NopRetryer{},
		HTTPClient:   &http.Client{Timeout: 90 * time.Second, Transport: ownBody{http.DefaultTransport}},
	})
}

// ownBody hands the transport a copy of each request body. The AWS SDK
// (smithy-go) closes the body it gave the transport as soon as the
// response headers arrive; net/http's writer goroutine, after sending a
// body of known length, reads it once more to check that nothing is
// left, and may do so after that close when it runs late (a loaded
// machine): the closed body answers that read with io.EOF, the transport
// takes it for a failed write and closes the connection, under the
// response body the SDK is still reading ("use of closed network
// connection", mostly on long history answers). A copy the SDK never
// closes keeps the write whole. Any server shows this (it is
// aws/aws-sdk-go-v2#1825 and #2737, whose default retryer now retries
// the error); the clients here have no retryer, so that the task answers
// they send are counted once.
type ownBody struct{ rt http.RoundTripper }

func (o ownBody) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return o.rt.RoundTrip(r)
	}
	b, err := io.ReadAll(r.Body)
	_ = r.Body.Close()
	if err != nil {
		return nil, err
	}
	r = r.Clone(r.Context())
	r.Body = io.NopCloser(bytes.NewReader(b))
	return o.rt.RoundTrip(r)
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// freshSchema creates a schema of its own (dropped at the end) and
// returns a DSN that uses it and a connection to it.
func freshSchema(t *testing.T, base string) (string, *pgx.Conn) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "stepwell_cluster_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
		conn.Close(ctx)
	})
	if _, err := conn.Exec(ctx, "SET search_path TO "+schema); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Skip("the cluster test needs a postgres:// DSN")
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), conn
}

func tail(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-30):], "\n")
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }
